//! Registration interface, checked on the bytes the client sends.

mod sim;

use coap_lite::{CoapOption, MessageType};
use sim::*;
use tern::client::{Client, Config, Event, ServerConfig, Version};

/// The options of a CoAP message, walked on the raw bytes (independently of both codecs):
/// (number, value) in wire order, and the payload.
fn raw_options(bytes: &[u8]) -> (Vec<(u16, Vec<u8>)>, Vec<u8>) {
    let tkl = usize::from(bytes[0] & 0x0F);
    let mut i = 4 + tkl;
    let mut number = 0u16;
    let mut out = Vec::new();
    while i < bytes.len() {
        if bytes[i] == 0xFF {
            return (out, bytes[i + 1..].to_vec());
        }
        let (d, l) = (bytes[i] >> 4, bytes[i] & 0x0F);
        i += 1;
        let mut ext = |n: u8| -> usize {
            match n {
                13 => {
                    i += 1;
                    13 + usize::from(bytes[i - 1])
                }
                14 => {
                    i += 2;
                    269 + usize::from(u16::from_be_bytes([bytes[i - 2], bytes[i - 1]]))
                }
                n => usize::from(n),
            }
        };
        let delta = ext(d);
        let len = ext(l);
        number += delta as u16;
        out.push((number, bytes[i..i + len].to_vec()));
        i += len;
    }
    (out, Vec::new())
}

fn strings(opts: &[(u16, Vec<u8>)], n: u16) -> Vec<String> {
    opts.iter()
        .filter(|o| o.0 == n)
        .map(|o| String::from_utf8(o.1.clone()).unwrap())
        .collect()
}

const URI_PATH: u16 = 11;
const CONTENT_FORMAT: u16 = 12;
const URI_QUERY: u16 = 15;

#[test]
fn register_on_the_wire() {
    let sim = registered_sim(11, 300, 30);
    let regs = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    assert_eq!(regs.len(), 1);
    let b = &regs[0].1;
    assert_eq!(b[0] >> 6, 1, "version 1");
    assert_eq!((b[0] >> 4) & 3, 0, "confirmable");
    assert_eq!(b[0] & 0x0F, 8, "8-byte token");
    assert_eq!(b[1], 0x02, "POST");
    // Uri-Path `rd` is the first option: delta 11, length 2.
    assert_eq!(&b[12..15], &[0xB2, b'r', b'd']);
    // Content-Format 40 next: delta 1, one byte.
    assert_eq!(&b[15..17], &[0x11, 40]);
    let (opts, payload) = raw_options(b);
    let numbers: Vec<u16> = opts.iter().map(|o| o.0).collect();
    assert_eq!(
        numbers,
        [
            URI_PATH,
            CONTENT_FORMAT,
            URI_QUERY,
            URI_QUERY,
            URI_QUERY,
            URI_QUERY
        ]
    );
    assert_eq!(strings(&opts, URI_PATH), ["rd"]);
    assert_eq!(
        strings(&opts, URI_QUERY),
        [
            format!("ep={EP}"),
            "lt=300".into(),
            "lwm2m=1.1".into(),
            "b=U".into()
        ]
    );
    let payload = String::from_utf8(payload).unwrap();
    assert_eq!(
        payload,
        r#"</>;rt="oma.lwm2m";ct="110 112 11542 11543 11544",</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>"#
    );
    assert!(
        !payload.contains("</0"),
        "the Security object is never announced"
    );

    // coap-lite reads the same.
    let p = parse(b).unwrap();
    assert_eq!(
        uri_query(&p),
        [
            format!("ep={EP}"),
            "lt=300".into(),
            "lwm2m=1.1".into(),
            "b=U".into()
        ]
    );
    assert_eq!(content_format(&p), Some(40));
    // The server stored what it got.
    match &sim.server.log[0] {
        ServerLog::Registered {
            id,
            query,
            payload: pl,
            ..
        } => {
            assert_eq!(*id, 1);
            assert_eq!(query.len(), 4);
            assert_eq!(pl, &payload);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn register_1_0_has_no_root_link() {
    let servers = [ServerConfig {
        uri: SERVER_URI,
        short_id: 7,
        lifetime_s: 86_400,
    }];
    let config = Config {
        endpoint: "dev-1.0",
        version: Version::V1_0,
        update_margin_s: 60,
        servers: &servers,
    };
    let mut client = Client::new(&config, 1).unwrap();
    let mut platform = TestPlatform::new(1);
    assert_eq!(
        client.poll_event(),
        Some(Event::ConnectionNeeded { server: 0 })
    );
    assert!(
        client.poll_transmit(0, &mut platform).is_none(),
        "nothing before the connection is open"
    );
    client.connection_opened(0);
    let b = client
        .poll_transmit(0, &mut platform)
        .expect("Register")
        .data
        .to_vec();
    let (opts, payload) = raw_options(&b);
    assert_eq!(
        strings(&opts, URI_QUERY),
        ["ep=dev-1.0", "lt=86400", "lwm2m=1.0", "b=U"]
    );
    assert_eq!(
        String::from_utf8(payload).unwrap(),
        "</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>"
    );
}

#[test]
fn update_and_deregister_go_to_the_location() {
    let mut sim = registered_sim(12, 300, 30);
    sim.client.update(false);
    sim.run_until_event(sim.now + 5_000, |e| matches!(e, Event::Updated { .. }))
        .expect("updated");
    let upd = sim.datagrams(Dir::Up, Fate::Sent, is_update).pop().unwrap();
    let (opts, payload) = raw_options(&upd.1);
    assert_eq!(
        opts.iter().map(|o| o.0).collect::<Vec<_>>(),
        [URI_PATH, URI_PATH],
        "only the location"
    );
    assert_eq!(strings(&opts, URI_PATH), ["rd", "1"]);
    assert!(payload.is_empty());
    assert_eq!(upd.1[1], 0x02, "POST");
    assert_eq!((upd.1[0] >> 4) & 3, 0, "confirmable");

    // An Update with a changed object list carries the list in link format.
    sim.client.update(true);
    sim.run_until_event(sim.now + 5_000, |e| matches!(e, Event::Updated { .. }))
        .expect("updated");
    let upd = sim.datagrams(Dir::Up, Fate::Sent, is_update).pop().unwrap();
    let (opts, payload) = raw_options(&upd.1);
    assert_eq!(strings(&opts, URI_PATH), ["rd", "1"]);
    assert_eq!(
        opts.iter()
            .find(|o| o.0 == CONTENT_FORMAT)
            .map(|o| o.1.clone()),
        Some(vec![40])
    );
    assert!(
        strings(&opts, URI_QUERY).is_empty(),
        "no lt= or b= when only the objects changed"
    );
    assert_eq!(
        String::from_utf8(payload).unwrap(),
        r#"</>;rt="oma.lwm2m";ct="110 112 11542 11543 11544",</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>"#
    );

    sim.client.deregister();
    sim.run_until_event(sim.now + 5_000, |e| matches!(e, Event::Deregistered { .. }))
        .expect("deregistered");
    let del = sim
        .datagrams(Dir::Up, Fate::Sent, is_deregister)
        .pop()
        .unwrap();
    assert_eq!(del.1[1], 0x04, "DELETE");
    let (opts, payload) = raw_options(&del.1);
    assert_eq!(
        opts,
        [(URI_PATH, b"rd".to_vec()), (URI_PATH, b"1".to_vec())]
    );
    assert!(payload.is_empty());
    assert!(sim.server.reg.is_none());
}

#[test]
fn single_location_option_is_sent_back_as_is() {
    let mut sim = Sim::new(13, NetConfig::clean(10), 300, 30);
    sim.server.behavior.location_one_option = true;
    sim.run_until_event(5_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registered");
    let created = sim
        .datagrams(Dir::Down, Fate::Sent, |b| {
            parse(b).is_some_and(|p| raw_code(&p) == 0x41)
        })
        .pop()
        .unwrap();
    assert_eq!(
        options(&parse(&created.1).unwrap(), CoapOption::LocationPath),
        ["rd/1"]
    );

    sim.client.update(false);
    sim.run_until_event(sim.now + 5_000, |e| matches!(e, Event::Updated { .. }))
        .expect("updated at rd/1 as one segment");
    let upd = sim.datagrams(Dir::Up, Fate::Sent, is_update).pop().unwrap();
    let (opts, _) = raw_options(&upd.1);
    assert_eq!(opts, [(URI_PATH, b"rd/1".to_vec())]);

    sim.client.deregister();
    sim.run_until_event(sim.now + 5_000, |e| matches!(e, Event::Deregistered { .. }))
        .expect("deregistered");
    let del = sim
        .datagrams(Dir::Up, Fate::Sent, is_deregister)
        .pop()
        .unwrap();
    let (opts, _) = raw_options(&del.1);
    assert_eq!(opts, [(URI_PATH, b"rd/1".to_vec())]);
    assert!(matches!(
        sim.server.log.last(),
        Some(ServerLog::Deregistered { id: 1, .. })
    ));
}

#[test]
fn register_without_location_is_a_failure() {
    // A 2.01 without Location-Path cannot be updated: the client retries later.
    let mut sim = Sim::new(14, NetConfig::clean(10), 300, 30);
    sim.run_until(5);
    let reg = sim
        .datagrams(Dir::Up, Fate::Sent, is_register)
        .pop()
        .unwrap();
    let p = parse(&reg.1).unwrap();
    let mut r = coap_lite::Packet::new();
    r.header.set_type(MessageType::Acknowledgement);
    r.header.code = coap_lite::MessageClass::Response(coap_lite::ResponseType::Created);
    r.header.message_id = p.header.message_id;
    r.set_token(p.get_token().to_vec());
    sim.inject(&r.to_bytes().unwrap());
    assert!(!sim.registered());
    assert_eq!(
        sim.events.last().map(|e| e.1),
        Some(Event::RegistrationRetry {
            server: 0,
            delay_ms: 60_000
        })
    );
}
