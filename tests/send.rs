//! Send (LwM2M 1.1, `POST /dp`) through the deterministic simulator: the payload decoded
//! with independent SenML decoders (ciborium, serde_json) and compared with the values a
//! Read gives; the refusals (Mute Send, LwM2M 1.0, not registered, busy, too large, no
//! such path); the outcome events (2.04, an error code, no acknowledgement); NSTART 1 with
//! the registration's requests.

mod sim;

use ciborium::value::Value as Cbor;
use coap_lite::{CoapOption, MessageClass, Packet, RequestType, ResponseType};
use serde_json::Value as Json;
use sim::*;
use tern::client::send::SendError;
use tern::client::{Event, Version};
use tern::coap::Code;
use tern::model::{Path, Value};

const SENML_JSON: u16 = 110;
const SENML_CBOR: u16 = 112;

fn path(text: &str) -> Path {
    Path::from_segments(text.split('/').map(str::as_bytes)).expect("a path")
}

fn send(sim: &mut Sim, paths: &[&str], format: u16) -> Result<(), SendError> {
    let paths: Vec<Path> = paths.iter().map(|p| path(p)).collect();
    sim.client.send(0, &paths, format, &mut sim.platform)
}

/// True for a Send (`POST /dp`).
fn is_send(bytes: &[u8]) -> bool {
    parse(bytes).is_some_and(|p| is_request(&p, RequestType::Post) && uri_path(&p) == ["dp"])
}

/// True for a registration Update (a POST to the registration's location).
fn is_reg_update(bytes: &[u8]) -> bool {
    is_update(bytes) && !is_send(bytes)
}

/// SenML records as (name with the base name applied, value as JSON), from either format.
fn records(format: u16, data: &[u8]) -> Vec<(String, Json)> {
    let mut bn = String::new();
    let mut out = Vec::new();
    if format == SENML_JSON {
        let pack: Json = serde_json::from_slice(data).expect("SenML JSON");
        for rec in pack.as_array().expect("a pack") {
            if let Some(b) = rec.get("bn") {
                bn = b.as_str().unwrap().to_string();
            }
            let n = rec.get("n").and_then(Json::as_str).unwrap_or_default();
            let v = ["v", "vs", "vb", "vd", "vlo"]
                .iter()
                .find_map(|k| rec.get(*k))
                .expect("a value")
                .clone();
            out.push((format!("{bn}{n}"), v));
        }
        return out;
    }
    let pack: Cbor = ciborium::de::from_reader(data).expect("SenML CBOR");
    for rec in pack.as_array().expect("a pack") {
        let map = rec.as_map().expect("a record map");
        let get = |k: i64| {
            map.iter()
                .find(|(key, _)| key.as_integer() == Some(k.into()))
                .map(|(_, v)| v.clone())
        };
        if let Some(b) = get(-2) {
            bn = b.as_text().unwrap().to_string();
        }
        let n = get(0)
            .map(|n| n.as_text().unwrap().to_string())
            .unwrap_or_default();
        let v = match [2, 3, 4, 8].iter().find_map(|k| get(*k)).expect("a value") {
            Cbor::Integer(i) => Json::from(i128::from(i) as i64),
            Cbor::Float(f) => Json::from(f),
            Cbor::Text(t) => Json::from(t),
            Cbor::Bool(b) => Json::from(b),
            Cbor::Bytes(b) => Json::from(b),
            other => panic!("value {other:?}"),
        };
        out.push((format!("{bn}{n}"), v));
    }
    out
}

/// The records of a server's Read of `path` in `format` (at the same virtual instant).
fn read(sim: &mut Sim, path: &str, format: u16) -> Vec<(String, Json)> {
    let mut p = request(RequestType::Get, path);
    let accept = format.to_be_bytes().into_iter().skip_while(|&b| b == 0);
    p.add_option(CoapOption::Accept, accept.collect());
    let (r, _) = sim::exchange(sim, p);
    assert_eq!(r.header.code, MessageClass::Response(ResponseType::Content));
    records(format, &r.payload)
}

/// Sends `paths` in `format` and runs until the outcome; returns the Send that arrived.
fn send_and_wait(sim: &mut Sim, paths: &[&str], format: u16) -> (u64, Option<u16>, Vec<u8>) {
    let before = sim.server.sends.len();
    send(sim, paths, format).expect("Send queued");
    let at = sim.run_until_event(sim.now + 10_000, |e| {
        matches!(
            e,
            Event::Sent { .. } | Event::SendRefused { .. } | Event::SendTimeout { .. }
        )
    });
    assert!(at.is_some(), "no Send outcome: {:?}", sim.event_kinds());
    assert_eq!(
        sim.events.last().map(|e| e.1),
        Some(Event::Sent { server: 0 })
    );
    assert_eq!(sim.server.sends.len(), before + 1, "one Send arrived");
    sim.server.sends.last().cloned().unwrap()
}

#[test]
fn send_of_a_resource_in_cbor_and_json_carries_its_value() {
    for format in [SENML_CBOR, SENML_JSON] {
        let mut sim = quiet_registered_sim(41);
        let (_, cf, payload) = send_and_wait(&mut sim, &["/3/0/0"], format);
        assert_eq!(cf, Some(format));
        let got = records(format, &payload);
        assert_eq!(got, [("/3/0/0".to_string(), Json::from(MANUFACTURER))]);
        assert_eq!(got, read(&mut sim, "/3/0/0", format));
    }
}

#[test]
fn send_of_an_instance_and_several_paths_matches_reads() {
    for format in [SENML_CBOR, SENML_JSON] {
        let mut sim = quiet_registered_sim(42);
        send(
            &mut sim,
            &["/3/0", "/3303/0/5700", "/3303/0/5800/1"],
            format,
        )
        .unwrap();
        // Encoded and sent at this instant: a Read now sees the same values.
        sim.drain_client();
        let mut expected = read(&mut sim, "/3/0", format);
        expected.extend(read(&mut sim, "/3303/0/5700", format));
        expected.push(("/3303/0/5800/1".to_string(), Json::from(21)));
        sim.run_until_event(sim.now + 10_000, |e| matches!(e, Event::Sent { .. }))
            .expect("Sent");
        let (_, cf, payload) = sim.server.sends.last().cloned().unwrap();
        assert_eq!(cf, Some(format));
        let got = records(format, &payload);
        assert!(
            got.iter()
                .any(|(n, v)| n == "/3/0/1" && v == &Json::from("sim-1")),
            "{got:?}"
        );
        assert!(got.contains(&("/3303/0/5700".to_string(), Json::from(21.5))));
        assert_eq!(got, expected);
    }
}

#[test]
fn mute_send_refuses() {
    let mut sim = quiet_registered_sim(43);
    sim.client
        .set_server_resource(0, 23, &Value::Boolean(true))
        .unwrap();
    assert_eq!(
        send(&mut sim, &["/3/0/0"], SENML_CBOR),
        Err(SendError::Muted)
    );
    sim.run_until(sim.now + 5_000);
    assert!(sim.datagrams(Dir::Up, Fate::Sent, is_send).is_empty());
    // A server clears it: Send goes again.
    let mut p = request(RequestType::Put, "/1/0/23");
    p.add_option(CoapOption::ContentFormat, vec![0]);
    p.payload = b"0".to_vec();
    let (r, _) = sim::exchange(&mut sim, p);
    assert_eq!(r.header.code, MessageClass::Response(ResponseType::Changed));
    send_and_wait(&mut sim, &["/3/0/0"], SENML_CBOR);
}

#[test]
fn lwm2m_1_0_registration_refuses() {
    let mut sim = Sim::new(44, NetConfig::clean(10), 300, 30);
    sim.client = new_client_version(300, 30, 7, Version::V1_0);
    sim.run_until_event(10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    assert_eq!(
        send(&mut sim, &["/3/0/0"], SENML_CBOR),
        Err(SendError::Version)
    );
    sim.run_until(sim.now + 5_000);
    assert!(sim.datagrams(Dir::Up, Fate::Sent, is_send).is_empty());
}

#[test]
fn refusals_before_anything_is_queued() {
    let mut sim = Sim::new(45, NetConfig::clean(10), 300, 30);
    assert_eq!(
        send(&mut sim, &["/3/0/0"], SENML_CBOR),
        Err(SendError::NotRegistered)
    );
    let mut sim = quiet_registered_sim(45);
    assert_eq!(send(&mut sim, &[], SENML_CBOR), Err(SendError::InvalidArg));
    assert_eq!(
        send(&mut sim, &[""], SENML_CBOR),
        Err(SendError::InvalidArg)
    );
    assert_eq!(
        send(&mut sim, &["/3/0/0"], 11542),
        Err(SendError::InvalidArg)
    );
    assert_eq!(
        send(&mut sim, &["/3/0/0"; 9], SENML_CBOR),
        Err(SendError::InvalidArg)
    );
    assert_eq!(
        sim.client
            .send(1, &[path("/3/0/0")], SENML_CBOR, &mut sim.platform),
        Err(SendError::UnknownServer)
    );
    assert_eq!(
        send(&mut sim, &["/3/0/999"], SENML_CBOR),
        Err(SendError::NotFound)
    );
    assert_eq!(
        send(&mut sim, &["/9999"], SENML_CBOR),
        Err(SendError::NotFound)
    );
    assert_eq!(
        send(&mut sim, &["/3/7"], SENML_CBOR),
        Err(SendError::NotFound)
    );
    // Execute-only: nothing to read.
    assert_eq!(
        send(&mut sim, &["/3303/0/5605"], SENML_CBOR),
        Err(SendError::NotFound)
    );
    // Larger than one message: block-wise Send is not supported.
    sim.platform.objects.temp.units = "x".repeat(600);
    assert_eq!(
        send(&mut sim, &["/3303/0/5701"], SENML_CBOR),
        Err(SendError::TooLarge)
    );
    sim.run_until(sim.now + 5_000);
    assert!(sim.datagrams(Dir::Up, Fate::Sent, is_send).is_empty());
    // After all of that, a good one goes; a second one waits for it.
    send(&mut sim, &["/3/0/0"], SENML_CBOR).unwrap();
    assert_eq!(
        send(&mut sim, &["/3/0/1"], SENML_CBOR),
        Err(SendError::Busy)
    );
    sim.run_until_event(sim.now + 10_000, |e| matches!(e, Event::Sent { .. }))
        .expect("Sent");
    send_and_wait(&mut sim, &["/3/0/1"], SENML_CBOR);
    assert_eq!(sim.server.sends.len(), 2);
}

#[test]
fn error_response_is_reported_with_its_code() {
    let mut sim = quiet_registered_sim(46);
    sim.server
        .behavior
        .send_codes
        .push_back(ResponseType::NotFound);
    send(&mut sim, &["/3/0/0"], SENML_CBOR).unwrap();
    sim.run_until_event(sim.now + 10_000, |e| matches!(e, Event::SendRefused { .. }))
        .expect("refused");
    assert!(sim.event_kinds().contains(&Event::SendRefused {
        server: 0,
        code: Code::NOT_FOUND
    }));
    assert!(!sim
        .event_kinds()
        .iter()
        .any(|e| matches!(e, Event::Sent { .. })));
    // Still registered, and the next Send goes.
    assert!(sim.registered());
    send_and_wait(&mut sim, &["/3/0/0"], SENML_JSON);
}

#[test]
fn unacknowledged_send_times_out_after_the_retransmissions() {
    let mut sim = quiet_registered_sim(47);
    sim.net.filter = Some(Box::new(|dir, bytes, _| dir == Dir::Up && is_send(bytes)));
    let start = sim.now;
    send(&mut sim, &["/3/0/0"], SENML_CBOR).unwrap();
    let at = sim
        .run_until_event(start + 200_000, |e| matches!(e, Event::SendTimeout { .. }))
        .expect("timeout event");
    let tx: Vec<(u64, Vec<u8>)> = sim.datagrams(Dir::Up, Fate::Sent, is_send);
    assert_eq!(tx.len(), 5, "one transmission and MAX_RETRANSMIT (4) more");
    assert_eq!(tx[0].0, start);
    // The same message each time (message id and token).
    let first = parse(&tx[0].1).unwrap();
    for (_, b) in &tx {
        let p = parse(b).unwrap();
        assert_eq!(p.header.message_id, first.header.message_id);
        assert_eq!(p.get_token(), first.get_token());
    }
    // Timeouts double from ACK_TIMEOUT .. ACK_TIMEOUT * 1.5.
    let t0 = tx[1].0 - tx[0].0;
    assert!((2_000..3_000).contains(&t0), "{t0}");
    for (k, w) in tx.windows(2).enumerate() {
        assert_eq!(w[1].0 - w[0].0, t0 << k);
    }
    assert_eq!(
        at,
        tx[4].0 + (t0 << 4),
        "given up when the last timeout ends"
    );
    assert!(sim
        .event_kinds()
        .contains(&Event::SendTimeout { server: 0 }));
    // The registration was not touched, and the exchange slot is free again.
    assert!(sim.registered());
    sim.net.filter = None;
    send_and_wait(&mut sim, &["/3/0/0"], SENML_CBOR);
}

#[test]
fn reset_ends_the_send() {
    let mut sim = quiet_registered_sim(48);
    sim.net.filter = Some(Box::new(|dir, bytes, _| dir == Dir::Up && is_send(bytes)));
    send(&mut sim, &["/3/0/0"], SENML_CBOR).unwrap();
    sim.drain_client();
    let tx = sim.datagrams(Dir::Up, Fate::Sent, is_send);
    let mid = parse(&tx[0].1).unwrap().header.message_id;
    sim.inject(&empty_message(coap_lite::MessageType::Reset, mid));
    assert!(sim
        .event_kinds()
        .contains(&Event::SendTimeout { server: 0 }));
}

/// NSTART 1: a Send waits for the Update in flight (a registration request due goes first),
/// and an Update asked for while a Send is in flight waits for it.
#[test]
fn one_request_in_flight_per_server() {
    let mut sim = quiet_registered_sim(49);
    // Slow network: 500 ms each way.
    sim.net.config = NetConfig::clean(500);
    sim.client.update(false);
    send(&mut sim, &["/3/0/0"], SENML_CBOR).unwrap();
    sim.run_until_event(sim.now + 20_000, |e| matches!(e, Event::Sent { .. }))
        .expect("Sent");
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_reg_update);
    let sends = sim.datagrams(Dir::Up, Fate::Sent, is_send);
    assert_eq!(updates.len(), 1);
    assert_eq!(sends.len(), 1);
    assert_eq!(
        sends[0].0,
        updates[0].0 + 1_000,
        "sent when the Update's response arrived"
    );
    // The other way round: the Send in flight first.
    send(&mut sim, &["/3/0/0"], SENML_CBOR).unwrap();
    sim.drain_client();
    sim.client.update(false);
    sim.run_until_event(sim.now + 20_000, |e| matches!(e, Event::Updated { .. }))
        .expect("Updated");
    let sends = sim.datagrams(Dir::Up, Fate::Sent, is_send);
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_reg_update);
    assert_eq!(sends.len(), 2);
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[1].0, sends[1].0 + 1_000);
}

/// A separate response (empty ACK, then the 2.04 in a CON) completes the Send too.
#[test]
fn separate_response_completes_the_send() {
    let mut sim = quiet_registered_sim(50);
    sim.net.filter = Some(Box::new(|dir, bytes, _| dir == Dir::Up && is_send(bytes)));
    send(&mut sim, &["/3/0/0"], SENML_CBOR).unwrap();
    sim.drain_client();
    let tx = sim.datagrams(Dir::Up, Fate::Sent, is_send);
    let req = parse(&tx[0].1).unwrap();
    sim.inject(&empty_message(
        coap_lite::MessageType::Acknowledgement,
        req.header.message_id,
    ));
    // Long past the retransmission timeouts: nothing more is sent.
    sim.run_until(sim.now + 60_000);
    assert_eq!(sim.datagrams(Dir::Up, Fate::Sent, is_send).len(), 1);
    let mut r = Packet::new();
    r.header.set_type(coap_lite::MessageType::Confirmable);
    r.header.code = MessageClass::Response(ResponseType::Changed);
    r.header.message_id = 0x7777;
    r.set_token(req.get_token().to_vec());
    sim.inject(&r.to_bytes().unwrap());
    assert!(sim.event_kinds().contains(&Event::Sent { server: 0 }));
    // The CON response is acknowledged.
    let acks = sim.datagrams(Dir::Up, Fate::Sent, |b| {
        parse(b).is_some_and(|p| {
            p.header.message_id == 0x7777
                && p.header.get_type() == coap_lite::MessageType::Acknowledgement
        })
    });
    assert_eq!(acks.len(), 1);
}
