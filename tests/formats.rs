//! Read and Write through the client in every record format (SenML JSON and CBOR, LwM2M
//! JSON and CBOR). Responses are decoded with independent JSON and CBOR libraries
//! (serde_json, ciborium), not with the engine's own decoders.

mod sim;

use ciborium::value::Value as Cbor;
use coap_lite::{CoapOption, MessageClass, Packet, RequestType, ResponseType};
use serde_json::{json, Value as Json};
use sim::*;

const SENML_JSON: u16 = 110;
const SENML_CBOR: u16 = 112;
const JSON: u16 = 11543;
const LWM2M_CBOR: u16 = 11544;

fn setup() -> Sim {
    quiet_registered_sim(31)
}

/// The response to `p`; only a registration Update may follow it (a write of the
/// lifetime sends one).
fn exchange(sim: &mut Sim, p: Packet) -> Packet {
    let (r, more) = sim::exchange(sim, p);
    assert!(more.iter().all(|m| is_update(m)));
    r
}

fn read(sim: &mut Sim, path: &str, accept: u16) -> Packet {
    let mut p = request(RequestType::Get, path);
    p.add_option(
        CoapOption::Accept,
        accept
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect(),
    );
    exchange(sim, p)
}

fn write(sim: &mut Sim, method: RequestType, path: &str, format: u16, payload: Vec<u8>) -> Packet {
    let mut p = request(method, path);
    p.add_option(CoapOption::ContentFormat, format.to_be_bytes().to_vec());
    p.payload = payload;
    exchange(sim, p)
}

fn code(p: &Packet) -> MessageClass {
    p.header.code
}

fn content(p: &Packet, format: u16) -> &[u8] {
    assert_eq!(code(p), MessageClass::Response(ResponseType::Content));
    assert_eq!(content_format(p), Some(format));
    &p.payload
}

/// SenML JSON records resolved to (name, value) with base names applied.
fn senml_json_records(data: &[u8]) -> Vec<(String, Json)> {
    let pack: Json = serde_json::from_slice(data).unwrap();
    let mut bn = String::new();
    let mut out = Vec::new();
    for rec in pack.as_array().unwrap() {
        if let Some(b) = rec.get("bn") {
            bn = b.as_str().unwrap().to_string();
        }
        let n = rec
            .get("n")
            .map(|n| n.as_str().unwrap().to_string())
            .unwrap_or_default();
        let v = ["v", "vs", "vb", "vd", "vlo"]
            .iter()
            .find_map(|k| rec.get(*k))
            .unwrap()
            .clone();
        out.push((format!("{bn}{n}"), v));
    }
    out
}

/// SenML CBOR records resolved to (name, value) with base names applied.
fn senml_cbor_records(data: &[u8]) -> Vec<(String, Cbor)> {
    let pack: Cbor = ciborium::de::from_reader(data).unwrap();
    let mut bn = String::new();
    let mut out = Vec::new();
    for rec in pack.as_array().unwrap() {
        let map = rec.as_map().unwrap();
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
        let v = [2, 3, 4, 8].iter().find_map(|k| get(*k)).unwrap();
        out.push((format!("{bn}{n}"), v));
    }
    out
}

/// LwM2M CBOR flattened to (path, value).
fn lwm2m_cbor_records(data: &[u8]) -> Vec<(String, Cbor)> {
    fn walk(prefix: &str, v: &Cbor, out: &mut Vec<(String, Cbor)>) {
        match v {
            Cbor::Map(entries) => {
                for (k, v) in entries {
                    let ids: Vec<String> = match k {
                        Cbor::Integer(i) => vec![i128::from(*i).to_string()],
                        Cbor::Array(a) => a
                            .iter()
                            .map(|i| i128::from(i.as_integer().unwrap()).to_string())
                            .collect(),
                        other => panic!("key {other:?}"),
                    };
                    walk(&format!("{prefix}/{}", ids.join("/")), v, out);
                }
            }
            leaf => out.push((prefix.to_string(), leaf.clone())),
        }
    }
    let top: Cbor = ciborium::de::from_reader(data).unwrap();
    let mut out = Vec::new();
    walk("", &top, &mut out);
    out
}

fn names<T>(recs: &[(String, T)]) -> Vec<&str> {
    recs.iter().map(|r| r.0.as_str()).collect()
}

const INSTANCE_PATHS: [&str; 6] = [
    "/3303/0/5700",
    "/3303/0/5701",
    "/3303/0/5800/0",
    "/3303/0/5800/1",
    "/3303/0/5800/2",
    "/3303/0/5900",
];

#[test]
fn read_an_instance_in_senml_json() {
    let mut sim = setup();
    let r = read(&mut sim, "/3303/0", SENML_JSON);
    let recs = senml_json_records(content(&r, SENML_JSON));
    assert_eq!(names(&recs), INSTANCE_PATHS);
    assert_eq!(recs[0].1, json!(21.5));
    assert_eq!(recs[1].1, json!("Cel"));
    assert_eq!(recs[3].1, json!(21));
    assert_eq!(recs[5].1, json!(60));
}

#[test]
fn read_an_instance_in_senml_cbor() {
    let mut sim = setup();
    let r = read(&mut sim, "/3303/0", SENML_CBOR);
    let recs = senml_cbor_records(content(&r, SENML_CBOR));
    assert_eq!(names(&recs), INSTANCE_PATHS);
    assert_eq!(recs[0].1, Cbor::Float(21.5));
    assert_eq!(recs[1].1, Cbor::Text("Cel".into()));
    assert_eq!(recs[4].1, Cbor::Integer(22.into()));
}

#[test]
fn read_an_instance_in_lwm2m_cbor() {
    let mut sim = setup();
    let r = read(&mut sim, "/3303/0", LWM2M_CBOR);
    let recs = lwm2m_cbor_records(content(&r, LWM2M_CBOR));
    assert_eq!(names(&recs), INSTANCE_PATHS);
    assert_eq!(recs[5].1, Cbor::Integer(60.into()));
}

#[test]
fn read_an_instance_in_lwm2m_json() {
    let mut sim = setup();
    let r = read(&mut sim, "/3303/0", JSON);
    let doc: Json = serde_json::from_slice(content(&r, JSON)).unwrap();
    assert_eq!(doc["bn"], json!("/3303/0/"));
    let e = doc["e"].as_array().unwrap();
    let names: Vec<String> = e
        .iter()
        .map(|x| format!("/3303/0/{}", x["n"].as_str().unwrap()))
        .collect();
    assert_eq!(names, INSTANCE_PATHS);
    assert_eq!(e[1]["sv"], json!("Cel"));
    assert_eq!(e[0]["v"], json!(21.5));
}

#[test]
fn read_the_object_and_one_resource_instance() {
    let mut sim = setup();
    let r = read(&mut sim, "/3303", SENML_CBOR);
    assert_eq!(
        names(&senml_cbor_records(content(&r, SENML_CBOR))),
        INSTANCE_PATHS
    );
    let r = read(&mut sim, "/3303/0/5800/2", SENML_JSON);
    let recs = senml_json_records(content(&r, SENML_JSON));
    assert_eq!(recs, [("/3303/0/5800/2".to_string(), json!(22))]);
    let r = read(&mut sim, "/3/0/0", LWM2M_CBOR);
    let recs = lwm2m_cbor_records(content(&r, LWM2M_CBOR));
    assert_eq!(
        recs,
        [("/3/0/0".to_string(), Cbor::Text("tern project".into()))]
    );
    // A resource instance that does not exist, and a format nobody asked for.
    let r = read(&mut sim, "/3303/0/5800/9", SENML_JSON);
    assert_eq!(code(&r), MessageClass::Response(ResponseType::NotFound));
    let r = read(&mut sim, "/3303/0", 9999);
    assert_eq!(
        code(&r),
        MessageClass::Response(ResponseType::NotAcceptable)
    );
}

#[test]
fn write_in_every_record_format() {
    let cases: [(u16, Vec<u8>); 4] = [
        (
            SENML_JSON,
            br#"[{"bn":"/3303/0/","n":"5701","vs":"K"},{"n":"5900","v":5}]"#.to_vec(),
        ),
        (
            SENML_CBOR,
            // [{-2: "/3303/0/", 0: "5701", 3: "K"}, {0: "5900", 2: 5}]
            [
                &[0x82, 0xa3, 0x21, 0x68][..],
                b"/3303/0/",
                &[0x00, 0x64],
                b"5701",
                &[0x03, 0x61, b'K'],
                &[0xa2, 0x00, 0x64],
                b"5900",
                &[0x02, 0x05],
            ]
            .concat(),
        ),
        (
            JSON,
            br#"{"bn":"/3303/0/","e":[{"n":"5701","sv":"K"},{"n":"5900","v":5}]}"#.to_vec(),
        ),
        (
            LWM2M_CBOR,
            // {[3303, 0]: {5701: "K", 5900: 5}}
            vec![
                0xa1, 0x82, 0x19, 0x0c, 0xe7, 0x00, 0xa2, 0x19, 0x16, 0x45, 0x61, b'K', 0x19, 0x17,
                0x0c, 0x05,
            ],
        ),
    ];
    for (format, payload) in cases {
        let mut sim = setup();
        let r = write(&mut sim, RequestType::Post, "/3303/0", format, payload);
        assert_eq!(
            code(&r),
            MessageClass::Response(ResponseType::Changed),
            "format {format}"
        );
        assert!(r.payload.is_empty());
        assert_eq!(sim.platform.objects.temp.units, "K");
        assert_eq!(sim.platform.objects.temp.interval, 5);
    }
}

#[test]
fn escaped_strings_are_written_unescaped() {
    let mut sim = setup();
    let payload = br#"[{"n":"/3303/0/5701","vs":"\u00b0C \"x\""}]"#.to_vec();
    let r = write(
        &mut sim,
        RequestType::Put,
        "/3303/0/5701",
        SENML_JSON,
        payload,
    );
    assert_eq!(code(&r), MessageClass::Response(ResponseType::Changed));
    assert_eq!(sim.platform.objects.temp.units, "\u{b0}C \"x\"");
}

/// A write that fails changes nothing, whichever record is at fault.
#[test]
fn a_failed_write_changes_nothing() {
    let bad: [(u16, &[u8], ResponseType); 7] = [
        // The second record has the wrong type.
        (
            SENML_JSON,
            br#"[{"n":"/3303/0/5701","vs":"K"},{"n":"/3303/0/5900","vs":"x"}]"#,
            ResponseType::BadRequest,
        ),
        // The second record is not writable.
        (
            SENML_JSON,
            br#"[{"n":"/3303/0/5701","vs":"K"},{"n":"/3303/0/5700","v":1}]"#,
            ResponseType::MethodNotAllowed,
        ),
        // The second record names a resource the object does not have.
        (
            SENML_JSON,
            br#"[{"n":"/3303/0/5701","vs":"K"},{"n":"/3303/0/1","v":1}]"#,
            ResponseType::NotFound,
        ),
        // A record outside the instance written.
        (
            SENML_JSON,
            br#"[{"n":"/3303/0/5701","vs":"K"},{"n":"/3303/1/5900","v":1}]"#,
            ResponseType::BadRequest,
        ),
        // Malformed after a good record.
        (
            SENML_JSON,
            br#"[{"n":"/3303/0/5701","vs":"K"},{"n":"/3303/0/5900","v":1}"#,
            ResponseType::BadRequest,
        ),
        // A repeated field.
        (
            JSON,
            br#"{"bn":"/3303/0/","e":[{"n":"5701","sv":"K","sv":"L"}]}"#,
            ResponseType::BadRequest,
        ),
        // An indefinite-length text string in CBOR.
        (
            SENML_CBOR,
            &[
                0x81, 0xa2, 0x00, 0x6d, b'/', b'3', b'3', b'0', b'3', b'/', b'0', b'/', b'5', b'7',
                b'0', b'1', 0x03, 0x7f, 0x61, b'K', 0xff,
            ],
            ResponseType::BadRequest,
        ),
    ];
    for (format, payload, expect) in bad {
        let mut sim = setup();
        let r = write(
            &mut sim,
            RequestType::Post,
            "/3303/0",
            format,
            payload.to_vec(),
        );
        assert_eq!(
            code(&r),
            MessageClass::Response(expect),
            "{}",
            String::from_utf8_lossy(payload)
        );
        assert_eq!(sim.platform.objects.temp.units, "Cel");
        assert_eq!(sim.platform.objects.temp.interval, 60);
        assert_eq!(sim.platform.objects.temp.writes, 0);
    }
}

#[test]
fn an_unknown_content_format_is_415() {
    let mut sim = setup();
    let r = write(&mut sim, RequestType::Post, "/3303/0", 9999, b"x".to_vec());
    assert_eq!(
        code(&r),
        MessageClass::Response(ResponseType::UnsupportedContentFormat)
    );
}

fn composite(
    sim: &mut Sim,
    method: RequestType,
    format: u16,
    accept: Option<u16>,
    payload: &[u8],
) -> Packet {
    let mut p = request(method, "/");
    p.add_option(CoapOption::ContentFormat, format.to_be_bytes().to_vec());
    if let Some(a) = accept {
        p.add_option(CoapOption::Accept, a.to_be_bytes().to_vec());
    }
    p.payload = payload.to_vec();
    exchange(sim, p)
}

#[test]
fn read_composite_spans_objects_and_skips_what_is_missing() {
    let mut sim = setup();
    let paths = br#"[{"n":"/3/0/0"},{"n":"/9999/0"},{"n":"/3303/0/5800/1"},{"n":"/1/0/1"},{"n":"/3303/0/5700"}]"#;
    let r = composite(
        &mut sim,
        RequestType::Fetch,
        SENML_JSON,
        Some(SENML_CBOR),
        paths,
    );
    let recs = senml_cbor_records(content(&r, SENML_CBOR));
    assert_eq!(
        names(&recs),
        ["/3/0/0", "/3303/0/5800/1", "/1/0/1", "/3303/0/5700"]
    );
    assert_eq!(recs[0].1, Cbor::Text("tern project".into()));
    assert_eq!(recs[1].1, Cbor::Integer(21.into()));
    assert_eq!(recs[2].1, Cbor::Integer(300.into()));
    // Without Accept the answer comes in the request's format.
    let r = composite(
        &mut sim,
        RequestType::Fetch,
        SENML_JSON,
        None,
        br#"[{"n":"/3303/0"}]"#,
    );
    assert_eq!(
        names(&senml_json_records(content(&r, SENML_JSON))),
        INSTANCE_PATHS
    );
    // Nothing that exists; the Security object; a format that is not a record format.
    let r = composite(
        &mut sim,
        RequestType::Fetch,
        SENML_JSON,
        None,
        br#"[{"n":"/9999"}]"#,
    );
    assert_eq!(code(&r), MessageClass::Response(ResponseType::NotFound));
    let r = composite(
        &mut sim,
        RequestType::Fetch,
        SENML_JSON,
        None,
        br#"[{"n":"/0/0/0"}]"#,
    );
    assert_eq!(code(&r), MessageClass::Response(ResponseType::Unauthorized));
    let r = composite(&mut sim, RequestType::Fetch, 11542, None, &[]);
    assert_eq!(
        code(&r),
        MessageClass::Response(ResponseType::UnsupportedContentFormat)
    );
}

#[test]
fn write_composite_is_all_or_nothing() {
    let mut sim = setup();
    let good = br#"[{"n":"/3303/0/5701","vs":"X"},{"n":"/1/0/1","v":120}]"#;
    let r = composite(&mut sim, RequestType::IPatch, SENML_JSON, None, good);
    assert_eq!(code(&r), MessageClass::Response(ResponseType::Changed));
    assert_eq!(sim.platform.objects.temp.units, "X");
    assert_eq!(sim.client.servers()[0].lifetime_s, 120);

    let mut sim = setup();
    for bad in [
        &br#"[{"n":"/3303/0/5701","vs":"X"},{"n":"/1/0/1","vs":"no"}]"#[..],
        br#"[{"n":"/3303/0/5701","vs":"X"},{"n":"/3303/9/5701","vs":"Y"}]"#,
        br#"[{"n":"/3303/0/5701","vs":"X"},{"n":"/3303/0"}]"#,
        br#"[{"n":"/3303/0/5701","vs":"X"},{"n":"/0/0/1","v":1}]"#,
    ] {
        let r = composite(&mut sim, RequestType::IPatch, SENML_JSON, None, bad);
        assert_ne!(
            code(&r),
            MessageClass::Response(ResponseType::Changed),
            "{}",
            String::from_utf8_lossy(bad)
        );
        assert_eq!(sim.platform.objects.temp.units, "Cel");
        assert_eq!(sim.platform.objects.temp.writes, 0);
        assert_eq!(sim.client.servers()[0].lifetime_s, 300);
    }
}
