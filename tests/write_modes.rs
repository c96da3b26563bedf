//! Write replace (PUT) and partial update (POST) of a multiple-instance resource, in TLV
//! and SenML JSON: a PUT leaves exactly the instances it names, a POST adds and updates,
//! and a PUT that fails its check leaves every instance in place.

mod sim;

use std::collections::BTreeMap;

use coap_lite::{CoapOption, MessageClass, RequestType, ResponseType};
use sim::*;

/// TLV: Multiple Resource 5800 holding instance 5 = 99 and instance 7 = -1.
const HISTORY_5_7: [u8; 9] = [0xA6, 0x16, 0xA8, 0x41, 0x05, 0x63, 0x41, 0x07, 0xFF];

fn write(sim: &mut Sim, method: RequestType, path: &str, payload: &[u8]) -> MessageClass {
    let mut p = request(method, path);
    p.add_option(CoapOption::ContentFormat, 11542u16.to_be_bytes().to_vec());
    p.payload = payload.to_vec();
    exchange(sim, p).0.header.code
}

fn history(sim: &Sim) -> BTreeMap<u16, i64> {
    sim.platform.objects.temp.history.clone()
}

const CHANGED: MessageClass = MessageClass::Response(ResponseType::Changed);

#[test]
fn put_on_the_resource_replaces_its_instances() {
    let mut sim = quiet_registered_sim(61);
    assert_eq!(
        write(&mut sim, RequestType::Put, "/3303/0/5800", &HISTORY_5_7),
        CHANGED
    );
    assert_eq!(history(&sim), [(5, 99), (7, -1)].into());
}

#[test]
fn post_on_the_resource_adds_and_updates() {
    let mut sim = quiet_registered_sim(62);
    assert_eq!(
        write(&mut sim, RequestType::Post, "/3303/0/5800", &HISTORY_5_7),
        CHANGED
    );
    assert_eq!(
        history(&sim),
        [(0, 20), (1, 21), (2, 22), (5, 99), (7, -1)].into()
    );
}

#[test]
fn put_and_post_on_the_instance() {
    let mut sim = quiet_registered_sim(63);
    assert_eq!(
        write(&mut sim, RequestType::Post, "/3303/0", &HISTORY_5_7),
        CHANGED
    );
    assert_eq!(history(&sim).len(), 5);
    assert_eq!(
        write(&mut sim, RequestType::Put, "/3303/0", &HISTORY_5_7),
        CHANGED
    );
    assert_eq!(history(&sim), [(5, 99), (7, -1)].into());
}

#[test]
fn a_put_that_fails_its_check_keeps_every_instance() {
    let mut sim = quiet_registered_sim(64);
    let before = history(&sim);
    // Instance 7 holds a 3-byte integer: not a TLV integer length.
    let bad = [
        0xA8, 0x16, 0xA8, 0x41, 0x05, 0x63, 0x43, 0x07, 0x01, 0x02, 0x03,
    ];
    let code = write(&mut sim, RequestType::Put, "/3303/0/5800", &bad[..]);
    assert_eq!(code, MessageClass::Response(ResponseType::BadRequest));
    assert_eq!(history(&sim), before);
}

/// SenML JSON: instance 5 = 99 and instance 7 = -1 of 5800.
const SENML_5_7: &[u8] = br#"[{"bn":"/3303/0/5800/","n":"5","v":99},{"n":"7","v":-1}]"#;

fn write_senml(sim: &mut Sim, method: RequestType, path: &str, payload: &[u8]) -> MessageClass {
    let mut p = request(method, path);
    p.add_option(CoapOption::ContentFormat, 110u16.to_be_bytes().to_vec());
    p.payload = payload.to_vec();
    exchange(sim, p).0.header.code
}

#[test]
fn senml_put_replaces_and_post_updates() {
    let mut sim = quiet_registered_sim(65);
    assert_eq!(
        write_senml(&mut sim, RequestType::Post, "/3303/0/5800", SENML_5_7),
        CHANGED
    );
    assert_eq!(
        history(&sim),
        [(0, 20), (1, 21), (2, 22), (5, 99), (7, -1)].into()
    );
    assert_eq!(
        write_senml(&mut sim, RequestType::Put, "/3303/0", SENML_5_7),
        CHANGED
    );
    assert_eq!(history(&sim), [(5, 99), (7, -1)].into());
    // A replace whose second record does not decode leaves everything in place.
    let bad = br#"[{"bn":"/3303/0/5800/","n":"1","v":1},{"n":"2","vs":"x"}]"#;
    assert_eq!(
        write_senml(&mut sim, RequestType::Put, "/3303/0/5800", bad),
        MessageClass::Response(ResponseType::BadRequest)
    );
    assert_eq!(history(&sim), [(5, 99), (7, -1)].into());
}
