//! Write-Attributes through the client: set, shown by Discover, refused when contradictory
//! or misplaced (nothing changes), 4.04 for paths that do not exist, forgotten with a
//! deleted instance.

mod sim;

use coap_lite::{CoapOption, MessageClass, Packet, RequestType, ResponseType};
use sim::*;

fn setup() -> Sim {
    quiet_registered_sim(51)
}

fn exchange(sim: &mut Sim, p: Packet) -> Packet {
    let (r, more) = sim::exchange(sim, p);
    assert!(more.iter().all(|m| is_update(m)));
    r
}

fn write_attributes(sim: &mut Sim, path: &str, queries: &[&str]) -> MessageClass {
    let mut p = request(RequestType::Put, path);
    for q in queries {
        p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
    }
    exchange(sim, p).header.code
}

fn discover(sim: &mut Sim, path: &str) -> String {
    let mut p = request(RequestType::Get, path);
    p.add_option(CoapOption::Accept, vec![40]);
    let r = exchange(sim, p);
    assert_eq!(r.header.code, MessageClass::Response(ResponseType::Content));
    String::from_utf8(r.payload).unwrap()
}

const CHANGED: MessageClass = MessageClass::Response(ResponseType::Changed);
const BAD: MessageClass = MessageClass::Response(ResponseType::BadRequest);

#[test]
fn attributes_show_in_discover() {
    let mut sim = setup();
    assert_eq!(write_attributes(&mut sim, "/3303", &["pmin=5"]), CHANGED);
    assert_eq!(
        write_attributes(&mut sim, "/3303/0", &["pmax=120"]),
        CHANGED
    );
    assert_eq!(
        write_attributes(&mut sim, "/3303/0/5700", &["gt=25.5", "lt=10", "st=0.5"]),
        CHANGED
    );
    assert_eq!(
        write_attributes(&mut sim, "/3303/0/5800/1", &["pmin=2"]),
        CHANGED
    );
    let links = discover(&mut sim, "/3303");
    assert!(
        links.starts_with("</3303>;ver=1.1;pmin=5,</3303/0>;pmax=120,"),
        "{links}"
    );
    assert!(
        links.contains("</3303/0/5700>;gt=25.5;lt=10.0;st=0.5,"),
        "{links}"
    );
    assert!(links.contains("</3303/0/5800>;dim=3,"), "{links}");
    let links = discover(&mut sim, "/3303/0/5700");
    assert_eq!(links, "</3303/0/5700>;gt=25.5;lt=10.0;st=0.5");
    // Clearing an attribute removes it.
    assert_eq!(
        write_attributes(&mut sim, "/3303/0/5700", &["gt", "lt", "st"]),
        CHANGED
    );
    assert_eq!(discover(&mut sim, "/3303/0/5700"), "</3303/0/5700>");
}

#[test]
fn bad_attributes_change_nothing() {
    let mut sim = setup();
    assert_eq!(
        write_attributes(&mut sim, "/3303/0/5700", &["pmin=5"]),
        CHANGED
    );
    for (path, q) in [
        ("/3303/0/5700", &["lt=30", "gt=20"][..]),
        ("/3303/0/5700", &["lt=10", "gt=20", "st=5"]),
        ("/3303/0/5700", &["pmax=1"]),
        ("/3303/0/5700", &["st=-1"]),
        ("/3303/0/5700", &["foo=1"]),
        ("/3303/0/5700", &["pmin=abc"]),
        ("/3303/0/5701", &["gt=1"]),
        ("/3303/0", &["lt=1"]),
        ("/3303/0/5700", &["edge=1"]),
    ] {
        assert_eq!(write_attributes(&mut sim, path, q), BAD, "{path} {q:?}");
    }
    assert_eq!(discover(&mut sim, "/3303/0/5700"), "</3303/0/5700>;pmin=5");
    assert_eq!(
        write_attributes(&mut sim, "/3303/9", &["pmin=1"]),
        MessageClass::Response(ResponseType::NotFound)
    );
    assert_eq!(
        write_attributes(&mut sim, "/3303/0/1", &["pmin=1"]),
        MessageClass::Response(ResponseType::NotFound)
    );
    assert_eq!(
        write_attributes(&mut sim, "/0/0", &["pmin=1"]),
        MessageClass::Response(ResponseType::Unauthorized)
    );
}

#[test]
fn a_deleted_instance_takes_its_attributes_along() {
    let mut sim = setup();
    sim.platform.objects.temp.instances.push(1);
    assert_eq!(
        write_attributes(&mut sim, "/3303/1/5700", &["pmin=3"]),
        CHANGED
    );
    let r = exchange(&mut sim, request(RequestType::Delete, "/3303/1"));
    assert_eq!(r.header.code, MessageClass::Response(ResponseType::Deleted));
    sim.platform.objects.temp.instances.push(1);
    assert_eq!(discover(&mut sim, "/3303/1/5700"), "</3303/1/5700>");
}
