//! Information reporting through the client: Observe (RFC 7641) on resources, instances
//! and resource instances, notifications under the attributes (pmin, pmax, gt, lt, st,
//! con), value changes from the application, from a server's Write and from another
//! thread, cancellation by RST and by Observe 1, and the ends of observations (a CON
//! notification never acknowledged, a deleted instance, a new registration). Virtual time;
//! the server side is driven by hand.

mod sim;

use std::sync::atomic::{AtomicU16, Ordering};

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use sim::*;
use tern::client::observe::Changes;
use tern::client::Event;
use tern::model::Path;

const CONTENT: MessageClass = MessageClass::Response(ResponseType::Content);
const CHANGED: MessageClass = MessageClass::Response(ResponseType::Changed);
const TLV: u16 = 11542;

fn setup() -> Sim {
    quiet_registered_sim(77)
}

static MID: AtomicU16 = AtomicU16::new(0x6000);

/// Hands the client `p` with token `token` and a fresh message id; returns its response
/// (anything else it sends right away is left to `run_to`).
fn send(sim: &mut Sim, mut p: Packet, token: &[u8]) -> Packet {
    p.header.message_id = MID.fetch_add(1, Ordering::Relaxed);
    p.set_token(token.to_vec());
    let bytes = p.to_bytes().expect("encodes");
    sim.client
        .handle_datagram(0, &bytes, sim.now, &mut sim.platform);
    let out = sim
        .client
        .poll_transmit(sim.now, &mut sim.platform)
        .expect("a response")
        .data
        .to_vec();
    Packet::from_bytes(&out).expect("the response parses")
}

/// An Observe (GET with Observe 0) of `path`, with an Accept when given.
fn observe_request(path: &str, accept: Option<u16>) -> Packet {
    let mut p = request(RequestType::Get, path);
    p.add_option(CoapOption::Observe, vec![]);
    if let Some(a) = accept {
        p.add_option(CoapOption::Accept, a.to_be_bytes().to_vec());
    }
    p
}

fn observe(sim: &mut Sim, path: &str, token: &[u8], accept: Option<u16>) -> Packet {
    let r = send(sim, observe_request(path, accept), token);
    assert_eq!(r.header.code, CONTENT, "{path}");
    r
}

/// The Observe option's value.
fn seq(p: &Packet) -> Option<u32> {
    p.get_option(CoapOption::Observe)
        .and_then(|l| l.front())
        .map(|v| v.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
}

fn write_attributes(sim: &mut Sim, path: &str, queries: &[&str]) {
    let mut p = request(RequestType::Put, path);
    for q in queries {
        p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
    }
    assert_eq!(send(sim, p, &[0x77]).header.code, CHANGED, "{queries:?}");
}

/// Runs the client alone until virtual time `t`; returns what it sent (time, packet),
/// registration Updates left out.
fn run_to(sim: &mut Sim, t: u64) -> Vec<(u64, Packet)> {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let mut sent = false;
        while let Some(x) = sim.client.poll_transmit(sim.now, &mut sim.platform) {
            sent = true;
            let bytes = x.data.to_vec();
            if !is_update(&bytes) {
                out.push((sim.now, Packet::from_bytes(&bytes).expect("parses")));
            }
            assert!(out.len() < 1000, "the client keeps sending");
        }
        match sim.client.poll_timeout() {
            Some(d) if d <= t => {
                assert!(d > sim.now || sent, "due at {d} but idle at {}", sim.now);
                sim.now = sim.now.max(d);
            }
            _ => break,
        }
    }
    sim.now = sim.now.max(t);
    out
}

/// The notifications among `sent` with `token`.
fn with_token(sent: &[(u64, Packet)], token: &[u8]) -> Vec<(u64, Packet)> {
    sent.iter()
        .filter(|(_, p)| p.get_token() == token && p.header.code != MessageClass::Empty)
        .cloned()
        .collect()
}

fn set_temperature(sim: &mut Sim, v: f64) {
    sim.platform.objects.temp.value = v;
    sim.client.resource_changed(&Path::resource(3303, 0, 5700));
}

/// The ObservationEnded events so far (the simulation collects those it saw).
fn ended(sim: &mut Sim) -> Vec<Event> {
    let mut all: Vec<Event> = sim.events.drain(..).map(|(_, e)| e).collect();
    all.extend(std::iter::from_fn(|| sim.client.poll_event()));
    all.retain(|e| matches!(e, Event::ObservationEnded { .. }));
    all
}

#[test]
fn changes_notify_resources_instances_and_resource_instances() {
    let mut sim = setup();
    let r = observe(&mut sim, "/3303/0/5700", &[1], None);
    let first = seq(&r).expect("the response carries Observe");
    assert_eq!(content_format(&r), Some(0));
    assert_eq!(r.payload, b"21.5");
    let r = observe(&mut sim, "/3303/0", &[2], Some(TLV));
    assert_eq!(content_format(&r), Some(TLV));
    let r = observe(&mut sim, "/3303/0/5800/1", &[3], None);
    assert_eq!(r.payload, b"21");
    assert_eq!(sim.client.observations(), 3);
    // Nothing changes: nothing is sent (no pmax).
    let t = sim.now;
    assert!(run_to(&mut sim, t + 100_000).is_empty());

    set_temperature(&mut sim, 30.25);
    let t = sim.now;
    let sent = run_to(&mut sim, t + 1_000);
    let n1 = with_token(&sent, &[1]);
    assert_eq!(n1.len(), 1, "{sent:?}");
    let (at, n) = &n1[0];
    assert_eq!(*at, t, "at once (no pmin)");
    assert_eq!(n.header.get_type(), MessageType::NonConfirmable);
    assert_eq!(n.header.code, CONTENT);
    assert_eq!(content_format(n), Some(0));
    assert_eq!(n.payload, b"30.25");
    let s1 = seq(n).unwrap();
    assert!(s1 > first);
    // The instance's observer hears of it too, in TLV; the resource instance's does not.
    let n2 = with_token(&sent, &[2]);
    assert_eq!(n2.len(), 1);
    assert_eq!(content_format(&n2[0].1), Some(TLV));
    assert!(with_token(&sent, &[3]).is_empty());

    // Repeated changes before the client runs coalesce into one notification.
    sim.platform.objects.temp.history.insert(1, 99);
    for _ in 0..3 {
        sim.client
            .resource_changed(&Path::new(&[3303, 0, 5800, 1]).unwrap());
    }
    let t = sim.now;
    let sent = run_to(&mut sim, t + 1_000);
    let n3 = with_token(&sent, &[3]);
    assert_eq!(n3.len(), 1);
    assert_eq!(n3[0].1.payload, b"99");
    assert!(seq(&n3[0].1).unwrap() > s1, "sequence numbers increase");
    assert_eq!(with_token(&sent, &[2]).len(), 1);
    assert!(with_token(&sent, &[1]).is_empty());
}

#[test]
fn a_servers_write_notifies_its_observers() {
    let mut sim = setup();
    observe(&mut sim, "/3303/0/5900", &[4], None);
    let mut p = request(RequestType::Put, "/3303/0/5900");
    p.add_option(CoapOption::ContentFormat, vec![0]);
    p.payload = b"30".to_vec();
    assert_eq!(send(&mut sim, p, &[9]).header.code, CHANGED);
    let t = sim.now;
    let sent = run_to(&mut sim, t + 1_000);
    let n = with_token(&sent, &[4]);
    assert_eq!(n.len(), 1, "{sent:?}");
    assert_eq!(n[0].1.payload, b"30");
}

#[test]
fn pmin_holds_back_and_pmax_forces() {
    let mut sim = setup();
    write_attributes(&mut sim, "/3303", &["pmax=30"]);
    write_attributes(&mut sim, "/3303/0/5700", &["pmin=10"]);
    let t0 = sim.now;
    observe(&mut sim, "/3303/0/5700", &[1], None);
    sim.now += 1_000;
    set_temperature(&mut sim, 22.0);
    assert_eq!(
        sim.client.poll_timeout(),
        Some(t0 + 10_000),
        "pmin after the response"
    );
    let sent = run_to(&mut sim, t0 + 9_999);
    assert!(with_token(&sent, &[1]).is_empty(), "pmin holds back");
    let sent = run_to(&mut sim, t0 + 10_000);
    let n = with_token(&sent, &[1]);
    assert_eq!((n.len(), n[0].0), (1, t0 + 10_000));
    assert_eq!(n[0].1.payload, b"22.0");
    // No change: pmax (inherited from the object) forces one 30 s later, and again.
    let sent = run_to(&mut sim, t0 + 100_000);
    let times: Vec<u64> = with_token(&sent, &[1]).iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [t0 + 40_000, t0 + 70_000, t0 + 100_000]);
}

#[test]
fn the_server_objects_default_pmin_applies() {
    let mut sim = setup();
    let mut p = request(RequestType::Put, "/1/0/2");
    p.add_option(CoapOption::ContentFormat, vec![0]);
    p.payload = b"5".to_vec();
    assert_eq!(send(&mut sim, p, &[9]).header.code, CHANGED);
    let t0 = sim.now;
    observe(&mut sim, "/3303/0/5700", &[1], None);
    set_temperature(&mut sim, 23.0);
    let sent = run_to(&mut sim, t0 + 20_000);
    let n = with_token(&sent, &[1]);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].0, t0 + 5_000);
}

#[test]
fn gt_lt_and_st_notify_on_crossings_and_steps() {
    let mut sim = setup();
    write_attributes(&mut sim, "/3303/0/5700", &["gt=25", "lt=10"]);
    observe(&mut sim, "/3303/0/5700", &[1], None);
    let mut notified = Vec::new();
    for v in [22.0, 26.0, 27.0, 24.0, 9.0, 9.5, 12.0] {
        set_temperature(&mut sim, v);
        let t = sim.now;
        let sent = run_to(&mut sim, t + 1_000);
        if let Some((_, n)) = with_token(&sent, &[1]).first() {
            notified.push(String::from_utf8(n.payload.clone()).unwrap());
        }
    }
    assert_eq!(notified, ["26.0", "24.0", "9.0", "12.0"]);

    let mut sim = setup();
    write_attributes(&mut sim, "/3303/0/5700", &["st=2"]);
    observe(&mut sim, "/3303/0/5700", &[1], None);
    let mut notified = Vec::new();
    for v in [22.5, 23.5, 20.0, 21.0, 18.0] {
        set_temperature(&mut sim, v);
        let t = sim.now;
        let sent = run_to(&mut sim, t + 1_000);
        if let Some((_, n)) = with_token(&sent, &[1]).first() {
            notified.push(String::from_utf8(n.payload.clone()).unwrap());
        }
    }
    // 21.5 -> 23.5 (a step of 2), -> 20.0 (3.5), -> 18.0 (2).
    assert_eq!(notified, ["23.5", "20.0", "18.0"]);
}

#[test]
fn epmax_samples_a_value_nobody_signalled() {
    let mut sim = setup();
    write_attributes(&mut sim, "/3303/0/5700", &["st=1", "epmax=5"]);
    let t0 = sim.now;
    observe(&mut sim, "/3303/0/5700", &[1], None);
    // Changed without telling the client: the sample at epmax finds it.
    sim.platform.objects.temp.value = 25.0;
    let sent = run_to(&mut sim, t0 + 4_999);
    assert!(with_token(&sent, &[1]).is_empty());
    let sent = run_to(&mut sim, t0 + 5_000);
    let n = with_token(&sent, &[1]);
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].0, &n[0].1.payload[..]), (t0 + 5_000, &b"25.0"[..]));
    // A change below the step is sampled and not notified.
    sim.platform.objects.temp.value = 25.5;
    let sent = run_to(&mut sim, t0 + 20_000);
    assert!(with_token(&sent, &[1]).is_empty());
}

#[test]
fn rst_and_observe_1_cancel() {
    let mut sim = setup();
    observe(&mut sim, "/3303/0/5700", &[1], None);
    observe(&mut sim, "/3303/0/5700", &[2], None);
    set_temperature(&mut sim, 30.0);
    let t = sim.now;
    let sent = run_to(&mut sim, t + 1_000);
    let n = with_token(&sent, &[1]);
    assert_eq!(n.len(), 1);
    // The server rejects the notification: that observation ends, the other stays.
    sim.inject(&empty_message(MessageType::Reset, n[0].1.header.message_id));
    assert_eq!(
        ended(&mut sim),
        [Event::ObservationEnded {
            server: 0,
            path: Path::resource(3303, 0, 5700)
        }]
    );
    assert_eq!(sim.client.observations(), 1);
    // Observe 1 with the other token: answered as a Read, and the observation is gone.
    let mut p = request(RequestType::Get, "/3303/0/5700");
    p.add_option(CoapOption::Observe, vec![1]);
    let r = send(&mut sim, p, &[2]);
    assert_eq!(r.header.code, CONTENT);
    assert_eq!(seq(&r), None);
    assert_eq!(sim.client.observations(), 0);
    set_temperature(&mut sim, 31.0);
    let t = sim.now;
    assert!(run_to(&mut sim, t + 100_000).is_empty());
}

#[test]
fn tokens_of_every_length_come_back_whole_while_a_notification_is_in_flight() {
    let mut sim = setup();
    let long = [0xFF, 1, 2, 3, 4, 5, 6, 0x80];
    write_attributes(&mut sim, "/3303/0/5700", &["con=1"]);
    observe(&mut sim, "/3303/0/5700", &long, None);
    observe(&mut sim, "/3303/0", &[], None);
    // The resource's notification is confirmable (in flight until acknowledged), the
    // instance's one is not; each carries its own token unchanged.
    set_temperature(&mut sim, 30.0);
    let t = sim.now;
    let mut sent = run_to(&mut sim, t + 10);
    let n = with_token(&sent, &long);
    assert_eq!(n.len(), 1, "{sent:?}");
    assert_eq!(n[0].1.header.get_type(), MessageType::Confirmable);
    sim.inject(&empty_message(
        MessageType::Acknowledgement,
        n[0].1.header.message_id,
    ));
    let t = sim.now;
    sent.extend(run_to(&mut sim, t + 10));
    let n = with_token(&sent, &[]);
    assert_eq!(n.len(), 1, "{sent:?}");
    assert_eq!(n[0].1.header.get_type(), MessageType::NonConfirmable);
    assert_eq!(with_token(&sent, &long).len(), 1, "acknowledged: not again");
    assert_eq!(sim.client.observations(), 2);
}

#[test]
fn a_con_notification_never_acknowledged_ends_the_observation() {
    let mut sim = setup();
    write_attributes(&mut sim, "/3303/0/5700", &["con=1"]);
    observe(&mut sim, "/3303/0/5700", &[1], None);
    // Acknowledged: sent once.
    set_temperature(&mut sim, 30.0);
    let t = sim.now;
    let sent = run_to(&mut sim, t + 10);
    let n = with_token(&sent, &[1]);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].1.header.get_type(), MessageType::Confirmable);
    sim.inject(&empty_message(
        MessageType::Acknowledgement,
        n[0].1.header.message_id,
    ));
    let t = sim.now;
    assert!(run_to(&mut sim, t + 200_000).is_empty());
    // Not acknowledged: 1 + 4 retransmissions with one message id, then the end.
    set_temperature(&mut sim, 31.0);
    let t = sim.now;
    let sent = run_to(&mut sim, t + 200_000);
    let n = with_token(&sent, &[1]);
    assert_eq!(n.len(), 5, "{n:?}");
    assert!(n
        .iter()
        .all(|(_, p)| p.header.message_id == n[0].1.header.message_id));
    assert_eq!(sim.client.observations(), 0);
    assert_eq!(ended(&mut sim).len(), 1);
    set_temperature(&mut sim, 32.0);
    let t = sim.now;
    let sent = run_to(&mut sim, t + 100_000);
    assert!(with_token(&sent, &[1]).is_empty(), "{sent:?}");
}

#[test]
fn deleting_an_observed_instance_ends_its_observations() {
    let mut sim = setup();
    sim.platform.objects.temp.instances.push(1);
    observe(&mut sim, "/3303/1/5700", &[1], None);
    observe(&mut sim, "/3303/1", &[2], None);
    observe(&mut sim, "/3303", &[3], Some(TLV));
    let r = send(&mut sim, request(RequestType::Delete, "/3303/1"), &[9]);
    assert_eq!(r.header.code, MessageClass::Response(ResponseType::Deleted));
    assert_eq!(sim.client.observations(), 1);
    let t = sim.now;
    let sent = run_to(&mut sim, t + 1_000);
    assert_eq!(
        with_token(&sent, &[3]).len(),
        1,
        "the object's observer hears"
    );
    assert!(with_token(&sent, &[1]).is_empty() && with_token(&sent, &[2]).is_empty());
}

#[test]
fn a_new_registration_clears_the_servers_observations() {
    let mut sim = setup();
    observe(&mut sim, "/3303/0/5700", &[1], None);
    assert_eq!(sim.client.observations(), 1);
    sim.client.restart(sim.now);
    let limit = sim.now + 60_000;
    sim.run_until_event(limit, |e| matches!(e, Event::Registered { .. }))
        .expect("registers again");
    assert_eq!(sim.client.observations(), 0);
}

#[test]
fn bad_observes_keep_nothing() {
    let mut sim = setup();
    // A path that does not exist: 4.04 and nothing kept.
    let r = send(&mut sim, observe_request("/3303/7/5700", None), &[1]);
    assert_eq!(
        r.header.code,
        MessageClass::Response(ResponseType::NotFound)
    );
    assert_eq!(seq(&r), None);
    // An Observe option of 4 bytes is no Observe (RFC 7252 section 5.4.3): a plain Read.
    let mut p = request(RequestType::Get, "/3303/0/5700");
    p.add_option(CoapOption::Observe, vec![0, 0, 0, 0]);
    let r = send(&mut sim, p, &[2]);
    assert_eq!((r.header.code, seq(&r)), (CONTENT, None));
    // Observe on Discover: a plain Discover.
    let mut p = observe_request("/3303/0", None);
    p.add_option(CoapOption::Accept, vec![40]);
    let r = send(&mut sim, p, &[3]);
    assert_eq!((r.header.code, seq(&r)), (CONTENT, None));
    assert_eq!(sim.client.observations(), 0);
    // A full table: the Read is answered without Observe.
    let max = tern::config::MAX_OBSERVATIONS as u8;
    for i in 0..max {
        assert!(seq(&observe(&mut sim, "/3303/0/5700", &[10 + i], None)).is_some());
    }
    let r = observe(&mut sim, "/3303/0/5700", &[99], None);
    assert_eq!(seq(&r), None);
    // The same token again replaces its observation.
    assert!(seq(&observe(&mut sim, "/3303/0", &[10], None)).is_some());
    assert_eq!(sim.client.observations(), usize::from(max));
}

#[test]
fn changes_from_another_thread_reach_the_client() {
    static CHANGES: Changes = Changes::new();
    let mut sim = setup();
    observe(&mut sim, "/3303/0/5700", &[1], None);
    observe(&mut sim, "/3303/0/5900", &[2], None);
    sim.platform.objects.temp.value = 40.0;
    std::thread::spawn(|| {
        for _ in 0..100 {
            CHANGES.mark(&Path::resource(3303, 0, 5700));
        }
    })
    .join()
    .unwrap();
    assert!(CHANGES.pending());
    sim.client.take_changes(&CHANGES);
    assert!(!CHANGES.pending());
    assert_eq!(sim.client.poll_timeout(), Some(sim.now));
    let t = sim.now;
    let sent = run_to(&mut sim, t + 1_000);
    assert_eq!(with_token(&sent, &[1]).len(), 1);
    assert!(with_token(&sent, &[2]).is_empty());
    // More paths than the set holds: everything counts as changed, nothing is lost.
    for i in 0..=tern::config::MAX_PENDING_CHANGES as u16 {
        CHANGES.mark(&Path::instance(3304, i));
    }
    sim.client.take_changes(&CHANGES);
    let t = sim.now;
    let sent = run_to(&mut sim, t + 1_000);
    assert_eq!(with_token(&sent, &[1]).len(), 1);
    assert_eq!(with_token(&sent, &[2]).len(), 1);
}

/// A FETCH of `paths` in SenML JSON, with Observe `observe` (0 register, 1 cancel).
fn observe_composite_request(paths: &[&str], observe: u8) -> Packet {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(RequestType::Fetch);
    p.add_option(
        CoapOption::Observe,
        if observe == 0 { vec![] } else { vec![observe] },
    );
    p.add_option(CoapOption::ContentFormat, 110u16.to_be_bytes().to_vec());
    let records: Vec<String> = paths.iter().map(|p| format!("{{\"n\":\"{p}\"}}")).collect();
    p.payload = format!("[{}]", records.join(",")).into_bytes();
    p
}

/// The SenML JSON names in a payload, in order.
fn senml_names(payload: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(payload).expect("SenML JSON");
    let mut base = String::new();
    let mut out = Vec::new();
    for r in v.as_array().expect("an array") {
        if let Some(bn) = r.get("bn").and_then(|b| b.as_str()) {
            base = bn.to_string();
        }
        out.push(format!(
            "{base}{}",
            r.get("n").and_then(|n| n.as_str()).unwrap_or("")
        ));
    }
    out
}

#[test]
fn observe_composite_notifies_its_paths_together_and_only_for_them() {
    let mut sim = setup();
    let paths = ["/3303/0/5700", "/3303/0/5701"];
    let r = send(&mut sim, observe_composite_request(&paths, 0), &[0xC0]);
    assert_eq!(r.header.code, CONTENT);
    assert!(seq(&r).is_some(), "the response carries Observe");
    assert_eq!(content_format(&r), Some(110));
    assert_eq!(senml_names(&r.payload), paths);
    assert_eq!(sim.client.observations(), 1);

    // A change outside the composite's paths: nothing.
    sim.client.resource_changed(&Path::resource(3303, 0, 5900));
    let t = sim.now + 5_000;
    assert!(with_token(&run_to(&mut sim, t), &[0xC0]).is_empty());

    // A change of one of them: one notification with both, in the Observe's format.
    set_temperature(&mut sim, 25.25);
    let t = sim.now + 5_000;
    let sent = with_token(&run_to(&mut sim, t), &[0xC0]);
    assert_eq!(sent.len(), 1);
    let n = &sent[0].1;
    assert_eq!(content_format(n), Some(110));
    assert_eq!(senml_names(&n.payload), paths);
    let v: serde_json::Value = serde_json::from_slice(&n.payload).unwrap();
    assert_eq!(v[0]["v"], 25.25);

    // Cancelled by a FETCH with Observe 1.
    let r = send(&mut sim, observe_composite_request(&paths, 1), &[0xC0]);
    assert_eq!(r.header.code, CONTENT);
    assert_eq!(sim.client.observations(), 0);
    set_temperature(&mut sim, 26.0);
    let t = sim.now + 5_000;
    assert!(with_token(&run_to(&mut sim, t), &[0xC0]).is_empty());
}

#[test]
fn an_observe_composite_that_does_not_fit_is_answered_as_a_plain_read_composite() {
    let mut sim = setup();
    // Five paths: more than one Observe-Composite holds.
    let paths = [
        "/3303/0/5700",
        "/3303/0/5701",
        "/3303/0/5900",
        "/3/0/0",
        "/3/0/1",
    ];
    let r = send(&mut sim, observe_composite_request(&paths, 0), &[0xC1]);
    assert_eq!(r.header.code, CONTENT);
    assert!(seq(&r).is_none(), "no Observe in the response");
    assert_eq!(sim.client.observations(), 0);
}
