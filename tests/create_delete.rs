//! Create and Delete (LwM2M-3): instance ids given or chosen, Location-Path, the checks
//! that leave nothing behind, the objects that refuse, and the registration Update that
//! follows a change of the object list.

mod sim;

use coap_lite::{CoapOption, MessageClass, Packet, RequestType, ResponseType};
use sim::*;

fn setup() -> Sim {
    quiet_registered_sim(41)
}

fn create(
    sim: &mut Sim,
    path: &str,
    format: Option<u16>,
    payload: &[u8],
) -> (Packet, Vec<Vec<u8>>) {
    let mut p = request(RequestType::Post, path);
    if let Some(f) = format {
        p.add_option(CoapOption::ContentFormat, f.to_be_bytes().to_vec());
    }
    p.payload = payload.to_vec();
    exchange(sim, p)
}

fn location(p: &Packet) -> Vec<String> {
    options(p, CoapOption::LocationPath)
}

fn code(p: &Packet) -> MessageClass {
    p.header.code
}

const CREATED: MessageClass = MessageClass::Response(ResponseType::Created);

/// TLV: 5701 = "K" and 5900 = 7 (16-bit ids, 3-bit lengths).
const TLV_RESOURCES: [u8; 8] = [0xe1, 0x16, 0x45, b'K', 0xe1, 0x17, 0x0c, 0x07];

#[test]
fn create_with_a_tlv_instance_id() {
    let mut sim = setup();
    // Object Instance 5 wrapping the resources.
    let mut payload = vec![0x08, 0x05, TLV_RESOURCES.len() as u8];
    payload.extend_from_slice(&TLV_RESOURCES);
    let (r, more) = create(&mut sim, "/3303", Some(11542), &payload);
    assert_eq!(code(&r), CREATED);
    assert_eq!(location(&r), ["3303", "5"]);
    assert_eq!(sim.platform.objects.temp.instances, [0, 5]);
    assert_eq!(sim.platform.objects.temp.units, "K");
    assert_eq!(sim.platform.objects.temp.interval, 7);
    // The object list changed: a registration Update carrying it leaves at once.
    assert_eq!(more.len(), 1);
    assert!(is_update(&more[0]));
    let update = parse(&more[0]).unwrap();
    assert!(String::from_utf8_lossy(&update.payload).contains("</3303/5>"));
}

#[test]
fn create_without_an_instance_id_takes_the_lowest_free_one() {
    let mut sim = setup();
    let (r, _) = create(&mut sim, "/3303", Some(11542), &TLV_RESOURCES);
    assert_eq!(code(&r), CREATED);
    assert_eq!(location(&r), ["3303", "1"]);
    assert_eq!(sim.platform.objects.temp.instances, [0, 1]);
    let (r, _) = create(&mut sim, "/3303", None, &[]);
    assert_eq!(code(&r), CREATED);
    assert_eq!(location(&r), ["3303", "2"]);
}

#[test]
fn create_in_senml_json() {
    let mut sim = setup();
    let payload = br#"[{"bn":"/3303/7/","n":"5701","vs":"F"},{"n":"5900","v":3}]"#;
    let (r, _) = create(&mut sim, "/3303", Some(110), payload);
    assert_eq!(code(&r), CREATED);
    assert_eq!(location(&r), ["3303", "7"]);
    assert_eq!(sim.platform.objects.temp.instances, [0, 7]);
    assert_eq!(sim.platform.objects.temp.units, "F");
}

#[test]
fn a_failed_create_leaves_nothing_behind() {
    for (format, payload, expect) in [
        // An existing instance.
        (
            11542u16,
            vec![0x08, 0x00, 0x04, 0xe1, 0x16, 0x45, b'K'],
            ResponseType::BadRequest,
        ),
        // A resource the object does not have.
        (11542, vec![0xc1, 0x01, 0x01], ResponseType::NotFound),
        // A resource that can only be executed.
        (
            11542,
            vec![0xe0, 0x15, 0xe5],
            ResponseType::MethodNotAllowed,
        ),
        // A value of the wrong type (5900 is an integer).
        (
            110,
            br#"[{"n":"/3303/4/5900","vs":"x"}]"#.to_vec(),
            ResponseType::BadRequest,
        ),
        // Malformed TLV.
        (11542, vec![0xe1, 0x16, 0x45], ResponseType::BadRequest),
        // Two object instances at once.
        (
            11542,
            vec![0x08, 0x04, 0x00, 0x08, 0x05, 0x00],
            ResponseType::BadRequest,
        ),
    ] {
        let mut sim = setup();
        let (r, more) = create(&mut sim, "/3303", Some(format), &payload);
        assert_eq!(code(&r), MessageClass::Response(expect), "{payload:02x?}");
        assert_eq!(sim.platform.objects.temp.instances, [0]);
        assert_eq!(sim.platform.objects.temp.writes, 0);
        assert!(more.is_empty(), "no Update after a failed Create");
    }
}

#[test]
fn objects_with_fixed_instances_refuse_create_and_delete() {
    let mut sim = setup();
    let (r, _) = create(&mut sim, "/3", Some(11542), &[0xc1, 0x00, 0x41]);
    assert_eq!(
        code(&r),
        MessageClass::Response(ResponseType::MethodNotAllowed)
    );
    let (r, _) = exchange(&mut sim, request(RequestType::Delete, "/1/0"));
    assert_eq!(
        code(&r),
        MessageClass::Response(ResponseType::MethodNotAllowed)
    );
    assert!(sim.client.servers()[0].reg.is_registered());
}

#[test]
fn delete_an_instance() {
    let mut sim = setup();
    sim.platform.objects.temp.instances.push(1);
    let (r, more) = exchange(&mut sim, request(RequestType::Delete, "/3303/1"));
    assert_eq!(code(&r), MessageClass::Response(ResponseType::Deleted));
    assert_eq!(sim.platform.objects.temp.instances, [0]);
    assert_eq!(more.len(), 1);
    assert!(is_update(&more[0]));
    assert!(!String::from_utf8_lossy(&parse(&more[0]).unwrap().payload).contains("</3303/1>"));
    // Gone now; the object itself and a resource cannot be deleted.
    let (r, _) = exchange(&mut sim, request(RequestType::Delete, "/3303/1"));
    assert_eq!(code(&r), MessageClass::Response(ResponseType::NotFound));
    let (r, _) = exchange(&mut sim, request(RequestType::Delete, "/3303"));
    assert_eq!(
        code(&r),
        MessageClass::Response(ResponseType::MethodNotAllowed)
    );
    let (r, _) = exchange(&mut sim, request(RequestType::Delete, "/3303/0/5700"));
    assert_eq!(
        code(&r),
        MessageClass::Response(ResponseType::MethodNotAllowed)
    );
    assert_eq!(sim.platform.objects.temp.instances, [0]);
}
