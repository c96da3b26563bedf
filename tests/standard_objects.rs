//! The optional standard objects through the engine: Connectivity Monitoring (4), Location
//! (6), Connectivity Statistics (7) and the Device object's UTC Offset and Timezone (14,
//! 15): reads of every resource in TLV (decoded here by an independent decoder), Discover,
//! writes and their refusals, Execute Start/Stop, and the statistics counting the traffic
//! of a simulated run.

mod sim;

use coap_lite::{CoapOption, MessageClass, Packet, RequestType, ResponseType};
use sim::*;
use tern::client::Event;
use tern::model::statistics::IP_UDP_HEADERS;
use tern::model::{ConnectivityMonitoring, ConnectivityStatistics, Fix, Location, Object};

const CONTENT: MessageClass = MessageClass::Response(ResponseType::Content);
const CHANGED: MessageClass = MessageClass::Response(ResponseType::Changed);
const BAD_REQUEST: MessageClass = MessageClass::Response(ResponseType::BadRequest);
const NOT_FOUND: MessageClass = MessageClass::Response(ResponseType::NotFound);
const NOT_ALLOWED: MessageClass = MessageClass::Response(ResponseType::MethodNotAllowed);

const TLV: u16 = 11542;
const TEXT: u16 = 0;

fn get(sim: &mut Sim, path: &str, accept: Option<u16>) -> Packet {
    let mut p = request(RequestType::Get, path);
    if let Some(a) = accept {
        p.add_option(CoapOption::Accept, a.to_be_bytes().to_vec());
    }
    exchange(sim, p).0
}

fn put(sim: &mut Sim, path: &str, format: u16, payload: &[u8]) -> MessageClass {
    let mut p = request(RequestType::Put, path);
    p.add_option(CoapOption::ContentFormat, format.to_be_bytes().to_vec());
    p.payload = payload.to_vec();
    exchange(sim, p).0.header.code
}

fn post(sim: &mut Sim, path: &str) -> MessageClass {
    exchange(sim, request(RequestType::Post, path))
        .0
        .header
        .code
}

fn discover(sim: &mut Sim, path: &str) -> String {
    let r = get(sim, path, Some(40));
    assert_eq!(r.header.code, CONTENT, "Discover {path}");
    String::from_utf8(r.payload).unwrap()
}

/// One TLV entry: (type bits 7-6, id, value bytes).
type Tlv = (u8, u16, Vec<u8>);

/// An independent TLV decoder (OMA-TS-LightweightM2M Core, 7.4.3): the entries at the top
/// level of `data`.
fn tlv(mut data: &[u8]) -> Vec<Tlv> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let t = data[0];
        let mut at = 1;
        let id = if t & 0x20 != 0 {
            at += 2;
            u16::from_be_bytes([data[1], data[2]])
        } else {
            at += 1;
            u16::from(data[1])
        };
        let len_bytes = usize::from((t >> 3) & 3);
        let len = if len_bytes == 0 {
            usize::from(t & 7)
        } else {
            let mut l = 0usize;
            for b in &data[at..at + len_bytes] {
                l = l << 8 | usize::from(*b);
            }
            at += len_bytes;
            l
        };
        out.push((t >> 6, id, data[at..at + len].to_vec()));
        data = &data[at + len..];
    }
    out
}

fn int(v: &[u8]) -> i64 {
    assert!(
        matches!(v.len(), 1 | 2 | 4 | 8),
        "integer of {} bytes",
        v.len()
    );
    let mut b = [if v[0] & 0x80 != 0 { 0xff } else { 0 }; 8];
    b[8 - v.len()..].copy_from_slice(v);
    i64::from_be_bytes(b)
}

fn float(v: &[u8]) -> f64 {
    match v.len() {
        4 => f64::from(f32::from_be_bytes(v.try_into().unwrap())),
        8 => f64::from_be_bytes(v.try_into().unwrap()),
        n => panic!("float of {n} bytes"),
    }
}

/// A resource's value bytes (single), or its instances as (riid, bytes) (multiple).
type Resource = Result<Vec<u8>, Vec<(u16, Vec<u8>)>>;

/// The resources of an instance read in TLV: id -> value bytes (single) or the instances
/// (multiple, as (riid, bytes)).
fn resources(payload: &[u8]) -> std::collections::BTreeMap<u16, Resource> {
    tlv(payload)
        .into_iter()
        .map(|(kind, id, v)| match kind {
            3 => (id, Ok(v)),
            2 => (
                id,
                Err(tlv(&v)
                    .into_iter()
                    .map(|(k, ri, b)| {
                        assert_eq!(k, 1, "resource instance");
                        (ri, b)
                    })
                    .collect()),
            ),
            k => panic!("unexpected TLV kind {k} at the top of an instance"),
        })
        .collect()
}

fn with_connectivity(sim: &mut Sim) {
    let mut cm = ConnectivityMonitoring::new();
    assert!(cm.set(test_connectivity()));
    sim.platform.objects.connectivity = Some(cm);
}

#[test]
fn connectivity_monitoring_in_tlv_text_and_discover() {
    let mut sim = quiet_registered_sim(4);
    assert_eq!(
        get(&mut sim, "/4/0", Some(TLV)).header.code,
        NOT_FOUND,
        "no object yet"
    );
    sim.platform.objects.connectivity = Some(ConnectivityMonitoring::new());
    assert_eq!(
        get(&mut sim, "/4/0", Some(TLV)).header.code,
        NOT_FOUND,
        "no instance yet"
    );
    with_connectivity(&mut sim);

    let r = get(&mut sim, "/4/0", Some(TLV));
    assert_eq!(r.header.code, CONTENT);
    let res = resources(&r.payload);
    assert_eq!(
        res.keys().copied().collect::<Vec<_>>(),
        [0, 1, 2, 4, 6, 8, 10],
        "unset ones absent"
    );
    let single = |id| int(res[&id].as_ref().unwrap());
    assert_eq!(single(0), 41);
    assert_eq!(single(2), -70);
    assert_eq!(single(6), 12);
    assert_eq!(single(8), 0x1234);
    assert_eq!(single(10), 262);
    let bearers = res[&1].as_ref().unwrap_err();
    assert_eq!(
        bearers
            .iter()
            .map(|(ri, b)| (*ri, int(b)))
            .collect::<Vec<_>>(),
        [(0, 41), (1, 21)]
    );
    let ips = res[&4].as_ref().unwrap_err();
    assert_eq!(
        ips.iter()
            .map(|(ri, b)| (*ri, String::from_utf8(b.clone()).unwrap()))
            .collect::<Vec<_>>(),
        [(0, "192.0.2.7".to_string()), (1, "2001:db8::7".to_string())]
    );

    // Single resources and resource instances in text; absent ones are 4.04.
    let r = get(&mut sim, "/4/0/2", None);
    assert_eq!(
        (r.header.code, r.payload.as_slice()),
        (CONTENT, &b"-70"[..])
    );
    let r = get(&mut sim, "/4/0/4/1", Some(TEXT));
    assert_eq!(
        (r.header.code, r.payload.as_slice()),
        (CONTENT, &b"2001:db8::7"[..])
    );
    for absent in ["/4/0/3", "/4/0/5", "/4/0/7", "/4/0/9", "/4/0/4/2", "/4/1"] {
        assert_eq!(
            get(&mut sim, absent, None).header.code,
            NOT_FOUND,
            "{absent}"
        );
    }
    let links = discover(&mut sim, "/4/0");
    assert_eq!(
        links,
        "</4/0>,</4/0/0>,</4/0/1>;dim=2,</4/0/2>,</4/0/4>;dim=2,</4/0/6>,</4/0/8>,</4/0/10>"
    );
    assert_eq!(
        put(&mut sim, "/4/0/0", TEXT, b"1"),
        NOT_ALLOWED,
        "read-only"
    );
    assert_eq!(post(&mut sim, "/4/0/0"), NOT_ALLOWED);
}

const FIX: Fix = Fix {
    latitude: 48.8584,
    longitude: 2.2945,
    altitude: Some(35.0),
    radius: None,
    timestamp: 1_767_225_600,
    speed: Some(1.5),
};

#[test]
fn location_in_tlv_and_opaque() {
    let mut sim = quiet_registered_sim(6);
    let mut loc = Location::new();
    assert!(loc.set(FIX, &[0x00, 0x2d, 0x00, 0x05]));
    sim.platform.objects.location = Some(loc);
    let r = get(&mut sim, "/6/0", Some(TLV));
    assert_eq!(r.header.code, CONTENT);
    let res = resources(&r.payload);
    assert_eq!(
        res.keys().copied().collect::<Vec<_>>(),
        [0, 1, 2, 4, 5, 6],
        "no radius"
    );
    let v = |id| res[&id].clone().unwrap();
    assert_eq!(float(&v(0)), 48.8584);
    assert_eq!(float(&v(1)), 2.2945);
    assert_eq!(float(&v(2)), 35.0);
    assert_eq!(v(4), [0x00, 0x2d, 0x00, 0x05]);
    assert_eq!(int(&v(5)), 1_767_225_600);
    assert_eq!(float(&v(6)), 1.5);
    let r = get(&mut sim, "/6/0/4", None);
    assert_eq!(r.header.code, CONTENT);
    assert_eq!(content_format(&r), Some(42), "opaque in its own format");
    assert_eq!(r.payload, [0x00, 0x2d, 0x00, 0x05]);
    let r = get(&mut sim, "/6/0/0", Some(TEXT));
    assert_eq!(
        (r.header.code, r.payload.as_slice()),
        (CONTENT, &b"48.8584"[..])
    );
    assert_eq!(get(&mut sim, "/6/0/3", None).header.code, NOT_FOUND);
    assert_eq!(
        put(&mut sim, "/6/0/0", TEXT, b"1.0"),
        NOT_ALLOWED,
        "read-only"
    );

    // A new fix replaces the old one and is flagged for notifications.
    let l = sim.platform.objects.location.as_mut().unwrap();
    assert!(l.take_changed());
    assert!(l.set(
        Fix {
            latitude: -33.9,
            ..FIX
        },
        &[]
    ));
    assert!(l.take_changed());
    let r = get(&mut sim, "/6/0/0", Some(TEXT));
    assert_eq!(r.payload, b"-33.9");
    assert_eq!(
        get(&mut sim, "/6/0/4", None).header.code,
        NOT_FOUND,
        "no velocity now"
    );
}

#[test]
fn device_utc_offset_and_timezone_writes() {
    let mut sim = quiet_registered_sim(3);
    assert_eq!(
        get(&mut sim, "/3/0/14", None).header.code,
        NOT_FOUND,
        "not written yet"
    );
    assert_eq!(put(&mut sim, "/3/0/14", TEXT, b"+02:00"), CHANGED);
    assert_eq!(put(&mut sim, "/3/0/15", TEXT, b"Europe/Berlin"), CHANGED);
    for bad in [&b"+2:00"[..], b"+15:00", b"02:00", b"Z0", b"+02:61"] {
        assert_eq!(put(&mut sim, "/3/0/14", TEXT, bad), BAD_REQUEST, "{bad:?}");
    }
    assert_eq!(
        put(&mut sim, "/3/0/15", TEXT, &[b'A'; 33]),
        BAD_REQUEST,
        "too long"
    );
    assert_eq!(
        put(&mut sim, "/3/0/15", TEXT, b"Europe/ Berlin"),
        BAD_REQUEST
    );
    // TLV: 14 = "-03:30" (8-bit id, 3-bit length 6).
    assert_eq!(
        put(
            &mut sim,
            "/3/0",
            TLV,
            &[0xc6, 14, b'-', b'0', b'3', b':', b'3', b'0']
        ),
        CHANGED
    );
    let r = get(&mut sim, "/3/0", Some(TLV));
    let res = resources(&r.payload);
    assert_eq!(res[&14].as_ref().unwrap(), b"-03:30");
    assert_eq!(res[&15].as_ref().unwrap(), b"Europe/Berlin");
    let links = discover(&mut sim, "/3/0");
    assert!(links.contains("</3/0/14>,</3/0/15>"), "{links}");
}

/// A simulation with Connectivity Statistics, registered at about 20 ms.
fn stats_sim(seed: u64) -> Sim {
    let mut sim = Sim::new(seed, NetConfig::clean(10), 60, 10);
    sim.platform.objects.statistics = Some(ConnectivityStatistics::new());
    sim.run_until_event(10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    sim
}

fn stat(sim: &mut Sim, rid: u16) -> i64 {
    struct Int(i64);
    impl tern::model::ValueSink for Int {
        fn value(
            &mut self,
            _: Option<u16>,
            v: &tern::model::Value<'_>,
        ) -> Result<(), tern::coap::Code> {
            if let tern::model::Value::Integer(i) = v {
                self.0 = *i;
            }
            Ok(())
        }
    }
    let mut i = Int(-1);
    let s = sim.platform.objects.statistics.as_mut().unwrap();
    match s.read(0, rid, &mut i) {
        Ok(()) => i.0,
        Err(_) => -1,
    }
}

/// What the statistics should hold: the client's datagrams among `records` (sent:
/// Up/Sent, received: Down/Delivered) up to time `until` (excluded).
fn expected(records: &[Record], until: u64) -> [i64; 4] {
    let (mut tx, mut rx, mut n, mut max) = (0u64, 0u64, 0u64, 0u64);
    for r in records {
        if r.at >= until {
            break;
        }
        let size = r.bytes.len() as u64 + u64::from(IP_UDP_HEADERS);
        match (r.dir, &r.fate) {
            (Dir::Up, Fate::Sent) => tx += size,
            (Dir::Down, Fate::Delivered) => rx += size,
            _ => continue,
        }
        n += 1;
        max = max.max(size);
    }
    let kb = |b: u64| b.div_ceil(1024) as i64;
    [kb(tx), kb(rx), max as i64, ((tx + rx) / n.max(1)) as i64]
}

/// The trace index of the delivery of the last request to `path` that the server sent.
fn delivery_of(sim: &Sim, method: RequestType, path: &str) -> usize {
    sim.trace
        .iter()
        .rposition(|r| {
            r.dir == Dir::Down
                && r.fate == Fate::Delivered
                && parse(&r.bytes).is_some_and(|p| {
                    is_request(&p, method) && format!("/{}", uri_path(&p).join("/")) == path
                })
        })
        .expect("the request was delivered")
}

fn server_op(sim: &mut Sim, p: Packet) -> MessageClass {
    let limit = sim.now + 60_000;
    sim.server_request(p, limit).expect("answered").header.code
}

#[test]
fn statistics_count_the_traffic_of_a_simulated_run() {
    let mut sim = stats_sim(7);
    sim.run_until(1_000);
    assert_eq!(stat(&mut sim, 2), 0, "nothing counted before Start");
    assert_eq!(
        server_op(&mut sim, request(RequestType::Post, "/7/0/6")),
        CHANGED
    );
    let start = delivery_of(&sim, RequestType::Post, "/7/0/6");
    assert!(sim
        .platform
        .objects
        .statistics
        .as_ref()
        .unwrap()
        .collecting());
    // Ten minutes: server reads of the Device object every 15 s, and the registration
    // Updates that a 60 s lifetime needs.
    let t0 = sim.now;
    for i in 1..=40 {
        let mut p = request(RequestType::Get, "/3/0");
        p.add_option(CoapOption::Accept, TLV.to_be_bytes().to_vec());
        sim.server.queue_request(t0 + i * 15_000, p);
    }
    sim.run_until(t0 + 610_000);
    assert!(sim.registered());
    let want = expected(&sim.trace[start + 1..], u64::MAX);
    assert!(
        want[0] >= 4 && want[1] >= 2,
        "enough traffic to count kilobytes: {want:?}"
    );
    assert_eq!(
        [
            stat(&mut sim, 2),
            stat(&mut sim, 3),
            stat(&mut sim, 4),
            stat(&mut sim, 5)
        ],
        want
    );

    // Stop keeps the counters; later traffic is not counted.
    assert_eq!(
        server_op(&mut sim, request(RequestType::Post, "/7/0/7")),
        CHANGED
    );
    let stop = delivery_of(&sim, RequestType::Post, "/7/0/7");
    // The Stop request itself was counted before it ran; its response was not.
    let frozen = expected(&sim.trace[start + 1..=stop], u64::MAX);
    sim.run_until(sim.now + 120_000);
    assert_eq!(
        [
            stat(&mut sim, 2),
            stat(&mut sim, 3),
            stat(&mut sim, 4),
            stat(&mut sim, 5)
        ],
        frozen
    );
    assert_eq!(stat(&mut sim, 0), -1, "no SMS counters: absent");
}

#[test]
fn statistics_collection_period_ends_collecting() {
    let mut sim = stats_sim(8);
    sim.run_until(1_000);
    let mut w = request(RequestType::Put, "/7/0/8");
    w.add_option(CoapOption::ContentFormat, vec![]);
    w.payload = b"30".to_vec();
    assert_eq!(server_op(&mut sim, w), CHANGED);
    assert_eq!(
        server_op(&mut sim, request(RequestType::Post, "/7/0/6")),
        CHANGED
    );
    let start = delivery_of(&sim, RequestType::Post, "/7/0/6");
    let started_at = sim.trace[start].at;
    for i in 1..=12 {
        sim.server
            .queue_request(started_at + i * 5_000, request(RequestType::Get, "/3/0/0"));
    }
    sim.run_until(started_at + 120_000);
    assert!(!sim
        .platform
        .objects
        .statistics
        .as_ref()
        .unwrap()
        .collecting());
    let want = expected(&sim.trace[start + 1..], started_at + 30_000);
    assert!(want[2] > 0);
    assert_eq!(
        [
            stat(&mut sim, 2),
            stat(&mut sim, 3),
            stat(&mut sim, 4),
            stat(&mut sim, 5)
        ],
        want
    );
    assert_ne!(
        want,
        expected(&sim.trace[start + 1..], u64::MAX),
        "traffic after the period"
    );
}

#[test]
fn statistics_in_tlv_writes_and_executes() {
    let mut sim = quiet_registered_sim(9);
    sim.platform.objects.statistics = Some(ConnectivityStatistics::new());
    assert_eq!(post(&mut sim, "/7/0/6"), CHANGED);
    // exchange() counts like a transport: each request before it is handled, each
    // response after; the Start request was wiped by the Start itself.
    let mut sizes = Vec::new();
    let r = get(&mut sim, "/3/0", Some(TLV));
    assert_eq!(r.header.code, CONTENT);
    sizes.push(r.to_bytes().unwrap().len());
    let r = get(&mut sim, "/7/0", Some(TLV));
    assert_eq!(r.header.code, CONTENT);
    let res = resources(&r.payload);
    assert_eq!(
        res.keys().copied().collect::<Vec<_>>(),
        [2, 3, 4, 5, 8],
        "no SMS counters"
    );
    let v = |id| int(res[&id].as_ref().unwrap());
    assert_eq!(v(2), 1);
    assert_eq!(v(3), 1);
    assert!(
        v(4) >= sizes[0] as i64 + 28,
        "the /3/0 response is the largest"
    );
    assert_eq!(v(8), 0);

    assert_eq!(put(&mut sim, "/7/0/8", TEXT, b"3600"), CHANGED);
    assert_eq!(get(&mut sim, "/7/0/8", None).payload, b"3600");
    assert_eq!(
        put(&mut sim, "/7/0/8", TLV, &[0xc4, 8, 0, 0, 0x0e, 0x10]),
        CHANGED
    );
    for bad in [&b"-1"[..], b"4294967296", b"abc", b"1.5", b""] {
        let mut p = request(RequestType::Put, "/7/0/8");
        p.add_option(CoapOption::ContentFormat, vec![]);
        p.payload = bad.to_vec();
        let code = exchange(&mut sim, p).0.header.code;
        assert!(
            code == BAD_REQUEST || (bad.is_empty() && code == NOT_ALLOWED),
            "{bad:?}: {code:?}"
        );
    }
    assert_eq!(
        get(&mut sim, "/7/0/8", None).payload,
        b"3600",
        "failed writes change nothing"
    );
    assert_eq!(put(&mut sim, "/7/0/2", TEXT, b"0"), NOT_ALLOWED);
    assert_eq!(post(&mut sim, "/7/0/5"), NOT_ALLOWED);
    assert_eq!(post(&mut sim, "/7/0/7"), CHANGED);
    assert!(!sim
        .platform
        .objects
        .statistics
        .as_ref()
        .unwrap()
        .collecting());
    assert_eq!(post(&mut sim, "/7/1/6"), NOT_FOUND);
    let links = discover(&mut sim, "/7/0");
    assert_eq!(
        links,
        "</7/0>,</7/0/2>,</7/0/3>,</7/0/4>,</7/0/5>,</7/0/6>,</7/0/7>,</7/0/8>"
    );
}

#[test]
fn registration_lists_the_standard_objects() {
    let mut sim = Sim::new(11, NetConfig::clean(10), 300, 30);
    let mut cm = ConnectivityMonitoring::new();
    assert!(cm.set(test_connectivity()));
    sim.platform.objects.connectivity = Some(cm);
    sim.platform.objects.location = Some(Location::new());
    sim.platform.objects.statistics = Some(ConnectivityStatistics::new());
    sim.run_until_event(10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    let reg = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    let links = String::from_utf8(parse(&reg[0].1).unwrap().payload).unwrap();
    assert!(
        links.ends_with("</3/0>,</3303>;ver=1.1,</3303/0>,</4/0>,</6>,</7/0>"),
        "{links}"
    );
}
