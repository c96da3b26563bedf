//! The Bootstrap interface against a hand-written bootstrap server (coap-lite packets):
//! the Bootstrap-Request (`ep`, `pct`), Bootstrap-Write of /0 and /1 in TLV and Finish
//! followed by the registration with the written server, Finish of an inconsistent
//! configuration (4.06, nothing applied), authority (4.01 for a DM server and outside a
//! bootstrap), Delete keeping the bootstrap account, Discover, the bootstrap timeout, and
//! bad input that keeps the last good configuration.

mod sim;

use std::mem::MaybeUninit;

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use sim::*;
use tern::client::bootstrap::{BlobError, BootstrapConfig, BOOTSTRAP_SLOT};
use tern::client::{Client, Config, Event, ServerConfig, Version};

const BS_URI: &str = "coap://192.0.2.100:5683";
const DM_URI: &str = "coap://192.0.2.9:5683";

/// The configured DM server of the tests that start with one.
const FACTORY: [ServerConfig; 1] = [ServerConfig {
    uri: SERVER_URI,
    short_id: 101,
    lifetime_s: 300,
}];

const CHANGED: MessageClass = MessageClass::Response(ResponseType::Changed);
const CONTENT: MessageClass = MessageClass::Response(ResponseType::Content);
const DELETED: MessageClass = MessageClass::Response(ResponseType::Deleted);
const BAD_REQUEST: MessageClass = MessageClass::Response(ResponseType::BadRequest);
const UNAUTHORIZED: MessageClass = MessageClass::Response(ResponseType::Unauthorized);
const NOT_FOUND: MessageClass = MessageClass::Response(ResponseType::NotFound);
const NOT_ACCEPTABLE: MessageClass = MessageClass::Response(ResponseType::NotAcceptable);

struct Bs {
    slot: Box<MaybeUninit<Client>>,
    platform: TestPlatform,
    now: u64,
    mid: u16,
}

impl Bs {
    fn new(servers: &[ServerConfig<'_>], first: bool, server_initiated: bool) -> Bs {
        let config = Config {
            endpoint: EP,
            version: Version::V1_1,
            update_margin_s: 30,
            servers,
        };
        let bs = BootstrapConfig {
            uri: BS_URI,
            hold_off_s: 5,
            first,
            server_initiated,
        };
        let mut slot = Box::new(MaybeUninit::uninit());
        Client::init_with_bootstrap(&mut slot, &config, &bs, 1).expect("valid configuration");
        Bs {
            slot,
            platform: TestPlatform::new(3),
            now: 0,
            mid: 0x6000,
        }
    }

    fn client(&mut self) -> &mut Client {
        // SAFETY: initialised by init_with_bootstrap in `new`.
        unsafe { self.slot.assume_init_mut() }
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.client().poll_event()).collect()
    }

    fn transmit(&mut self) -> Vec<(u8, Vec<u8>)> {
        let now = self.now;
        let mut out = Vec::new();
        for _ in 0..16 {
            // SAFETY: as in `client`.
            let c = unsafe { self.slot.assume_init_mut() };
            match c.poll_transmit(now, &mut self.platform) {
                Some(t) => out.push((t.server, t.data.to_vec())),
                None => break,
            }
        }
        out
    }

    /// Runs the hold-off and opens the bootstrap connection: the Bootstrap-Request.
    fn bootstrap_request(&mut self) -> Packet {
        assert!(self.transmit().is_empty(), "nothing before the hold-off");
        assert_eq!(self.client().poll_timeout(), Some(5_000));
        self.now = 5_000;
        assert!(self.transmit().is_empty());
        assert!(self.events().contains(&Event::ConnectionNeeded {
            server: BOOTSTRAP_SLOT
        }));
        self.client().connection_opened(BOOTSTRAP_SLOT);
        let out = self.transmit();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, BOOTSTRAP_SLOT);
        parse(&out[0].1).expect("the request parses")
    }

    /// Answers the Bootstrap-Request 2.04.
    fn accept(&mut self, req: &Packet) {
        let mut ack = Packet::new();
        ack.header.set_type(MessageType::Acknowledgement);
        ack.header.code = CHANGED;
        ack.header.message_id = req.header.message_id;
        ack.set_token(req.get_token().to_vec());
        let bytes = ack.to_bytes().unwrap();
        let now = self.now;
        // SAFETY: as in `client`.
        let c = unsafe { self.slot.assume_init_mut() };
        c.handle_datagram(BOOTSTRAP_SLOT, &bytes, now, &mut self.platform);
    }

    /// Sends `p` on `slot`; returns the client's response.
    fn ask(&mut self, slot: u8, mut p: Packet) -> Packet {
        self.mid = self.mid.wrapping_add(1);
        p.header.message_id = self.mid;
        p.set_token(vec![0x5b, slot]);
        let bytes = p.to_bytes().expect("encodes");
        let now = self.now;
        // SAFETY: as in `client`.
        let c = unsafe { self.slot.assume_init_mut() };
        c.handle_datagram(slot, &bytes, now, &mut self.platform);
        let out = c
            .poll_transmit(now, &mut self.platform)
            .expect("a response");
        assert_eq!(out.server, slot);
        Packet::from_bytes(out.data).expect("the response parses")
    }

    fn write(&mut self, path: &str, tlv: Vec<u8>) -> Packet {
        let mut p = request(RequestType::Put, path);
        p.add_option(CoapOption::ContentFormat, vec![0x2d, 0x16]);
        p.payload = tlv;
        self.ask(BOOTSTRAP_SLOT, p)
    }

    fn finish(&mut self) -> Packet {
        self.ask(BOOTSTRAP_SLOT, request(RequestType::Post, "/bs"))
    }

    fn discover(&mut self, path: &str) -> String {
        let mut p = request(RequestType::Get, path);
        p.add_option(CoapOption::Accept, vec![40]);
        let r = self.ask(BOOTSTRAP_SLOT, p);
        assert_eq!(r.header.code, CONTENT);
        String::from_utf8(r.payload).unwrap()
    }
}

/// One TLV entry: kind 0 object instance, 3 resource.
fn tlv(kind: u8, id: u16, v: &[u8]) -> Vec<u8> {
    let mut t = kind << 6;
    let mut out = vec![0];
    if id > 255 {
        t |= 0x20;
        out.extend(id.to_be_bytes());
    } else {
        out.push(id as u8);
    }
    if v.len() < 8 {
        t |= v.len() as u8;
    } else {
        t |= 0x08;
        out.push(v.len() as u8);
    }
    out[0] = t;
    out.extend(v);
    out
}

fn int(id: u16, n: i32) -> Vec<u8> {
    tlv(3, id, &n.to_be_bytes())
}

/// A DM server's Security instance `iid`: NoSec, `ssid`.
fn security(iid: u16, uri: &str, ssid: i32) -> Vec<u8> {
    let mut body = tlv(3, 0, uri.as_bytes());
    body.extend(tlv(3, 1, &[0]));
    body.extend(int(2, 3));
    body.extend(tlv(3, 3, b"id"));
    body.extend(int(10, ssid));
    tlv(0, iid, &body)
}

/// A Server instance `iid`: `ssid`, lifetime, binding U.
fn server(iid: u16, ssid: i32, lifetime: i32) -> Vec<u8> {
    let mut body = int(0, ssid);
    body.extend(int(1, lifetime));
    body.extend(tlv(3, 6, &[0]));
    body.extend(tlv(3, 7, b"U"));
    tlv(0, iid, &body)
}

#[test]
fn bootstrap_request_carries_ep_and_pct() {
    let mut t = Bs::new(&[], false, false);
    let req = t.bootstrap_request();
    assert_eq!(req.header.get_type(), MessageType::Confirmable);
    assert!(is_request(&req, RequestType::Post));
    assert_eq!(uri_path(&req), ["bs"]);
    assert_eq!(uri_query(&req), [format!("ep={EP}"), "pct=11542".into()]);
}

#[test]
fn written_server_is_registered_after_finish() {
    let mut t = running();
    assert_eq!(t.write("/0", security(1, DM_URI, 201)).header.code, CHANGED);
    assert_eq!(t.write("/1", server(0, 201, 120)).header.code, CHANGED);
    assert!(
        t.client().servers().is_empty(),
        "nothing live before Finish"
    );
    let r = t.finish();
    assert_eq!(r.header.code, CHANGED);
    let events = t.events();
    assert!(events.contains(&Event::Bootstrapped), "{events:?}");
    assert!(events.contains(&Event::ConnectionNeeded { server: 0 }));
    let s = &t.client().servers()[0];
    assert_eq!(
        (s.uri.as_str(), s.short_id, s.lifetime_s),
        (DM_URI, 201, 120)
    );
    assert_eq!((s.security_iid, s.server_iid), (1, 0));
    // The bootstrap connection is released once the response is out.
    assert!(t.transmit().is_empty());
    assert!(t.events().contains(&Event::ConnectionDone {
        server: BOOTSTRAP_SLOT
    }));
    t.client().connection_opened(0);
    let out = t.transmit();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, 0);
    let reg = parse(&out[0].1).unwrap();
    assert!(is_register(&out[0].1));
    let q = uri_query(&reg);
    assert!(q.contains(&format!("ep={EP}")), "{q:?}");
    assert!(q.contains(&"lt=120".to_string()), "{q:?}");
    // Operations on the bootstrap slot are refused once the bootstrap is over.
    let r = t.write("/0", security(2, DM_URI, 202));
    assert_eq!(r.header.code, UNAUTHORIZED);
}

#[test]
fn inconsistent_finish_is_refused_and_the_bootstrap_goes_on() {
    let mut t = running();
    // A Server instance without a Security instance of its Short Server ID.
    assert_eq!(t.write("/1/0", server(0, 202, 60)).header.code, CHANGED);
    let r = t.finish();
    assert_eq!(r.header.code, NOT_ACCEPTABLE);
    assert_eq!(r.payload, b"server without security");
    assert!(t.client().servers().is_empty(), "nothing applied");
    assert!(!t.events().contains(&Event::Bootstrapped));
    // A Security instance in another mode than NoSec.
    assert_eq!(t.write("/0", security(1, DM_URI, 202)).header.code, CHANGED);
    assert_eq!(t.write("/0/1/2", int(2, 0)).header.code, CHANGED);
    let r = t.finish();
    assert_eq!(r.header.code, NOT_ACCEPTABLE);
    assert_eq!(r.payload, b"security mode");
    // A bootstrap flag on a DM server's account.
    assert_eq!(t.write("/0/1/2", int(2, 3)).header.code, CHANGED);
    assert_eq!(t.write("/0/1/1", tlv(3, 1, &[1])).header.code, CHANGED);
    let r = t.finish();
    assert_eq!(r.header.code, NOT_ACCEPTABLE);
    assert!(t.client().servers().is_empty(), "nothing applied");
    // Repaired: accepted.
    assert_eq!(t.write("/0/1/1", tlv(3, 1, &[0])).header.code, CHANGED);
    assert_eq!(t.finish().header.code, CHANGED);
    assert_eq!(t.client().servers()[0].short_id, 202);
}

#[test]
fn dm_server_and_idle_bootstrap_slot_get_unauthorized() {
    let mut t = Bs::new(&FACTORY, false, false);
    assert_eq!(
        t.events(),
        [Event::ConnectionNeeded { server: 0 }],
        "no bootstrap with a DM server"
    );
    let mut p = request(RequestType::Put, "/0/1");
    p.add_option(CoapOption::ContentFormat, vec![0x2d, 0x16]);
    p.payload = security(1, DM_URI, 201);
    assert_eq!(t.ask(0, p).header.code, UNAUTHORIZED);
    // The bootstrap server outside a bootstrap.
    assert_eq!(
        t.write("/0", security(1, DM_URI, 201)).header.code,
        UNAUTHORIZED
    );
    assert_eq!(t.finish().header.code, UNAUTHORIZED);
    let s = &t.client().servers()[0];
    assert_eq!((s.uri.as_str(), s.short_id), (SERVER_URI, 101), "unchanged");
}

#[test]
fn delete_keeps_the_bootstrap_account_and_discover_lists_the_rest() {
    // Bootstrap first, although a DM server is configured: it is staged.
    let mut t = Bs::new(&FACTORY, true, false);
    let req = t.bootstrap_request();
    t.accept(&req);
    let links = t.discover("/");
    assert!(
        links.starts_with(
            "</>;lwm2m=\"1.1\",</0/0>;ssid=101;uri=\"coap://192.0.2.1:5683\",\
             </0/1>;uri=\"coap://192.0.2.100:5683\",</1/0>;ssid=101,</3/0>"
        ),
        "{links}"
    );
    assert_eq!(
        t.discover("/1"),
        "</>;lwm2m=\"1.1\",</1/0>;ssid=101",
        "only the Server object"
    );
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Delete, "/"));
    assert_eq!(r.header.code, DELETED);
    assert_eq!(
        t.discover("/0"),
        "</>;lwm2m=\"1.1\",</0/1>;uri=\"coap://192.0.2.100:5683\""
    );
    // The bootstrap account cannot be deleted.
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Delete, "/0/1"));
    assert_eq!(r.header.code, BAD_REQUEST);
    // The live DM server is untouched until a Finish.
    assert_eq!(t.client().servers()[0].short_id, 101);
    // Bootstrap-Read of the (now empty) Server object, then of a written instance.
    assert_eq!(t.write("/1/3", server(3, 7, 99)).header.code, CHANGED);
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Get, "/1/3/1"));
    assert_eq!(r.header.code, CONTENT);
    assert_eq!(r.payload, b"99");
    // Bootstrap-Read of other objects than 1 and 2 is not allowed; Access Control is read.
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Get, "/3/0"));
    assert_eq!(r.header.code.to_string(), "4.05");
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Get, "/2"));
    assert_eq!(r.header.code, CONTENT);
}

#[test]
fn bootstrap_timeout_restarts_the_request() {
    let mut t = Bs::new(&[], false, false);
    let req = t.bootstrap_request();
    t.accept(&req);
    assert_eq!(t.write("/1", server(0, 201, 120)).header.code, CHANGED);
    t.now += 246_000;
    assert!(t.transmit().is_empty(), "not yet");
    t.now += 1_001;
    let out = t.transmit();
    assert_eq!(out.len(), 1, "a new Bootstrap-Request");
    let again = parse(&out[0].1).unwrap();
    assert_eq!(uri_path(&again), ["bs"]);
    assert_ne!(again.header.message_id, req.header.message_id);
    assert!(t.events().contains(&Event::BootstrapFailed));
    // The staging copy started over: what was written before is gone.
    t.accept(&again);
    assert_eq!(t.discover("/1"), "</>;lwm2m=\"1.1\"");
}

#[test]
fn bad_writes_change_nothing() {
    let mut t = running();
    assert_eq!(t.write("/0", security(1, DM_URI, 201)).header.code, CHANGED);
    assert_eq!(t.write("/1", server(0, 201, 120)).header.code, CHANGED);
    // Malformed TLV (a length past the end).
    assert_eq!(
        t.write("/1", vec![0x08, 0x00, 0x09, 0xc1]).header.code,
        BAD_REQUEST
    );
    // An unknown object.
    assert_eq!(t.write("/5/0", int(1, 1)).header.code, NOT_FOUND);
    // A Short Server ID out of range, after a good resource of the same write.
    let mut bad = int(1, 600);
    bad.extend(int(0, 0));
    assert_eq!(t.write("/1/0", bad).header.code, BAD_REQUEST);
    assert_eq!(t.write("/0/1/10", int(10, 65535)).header.code, BAD_REQUEST);
    // Not TLV.
    let mut p = request(RequestType::Put, "/1/0/1");
    p.add_option(CoapOption::ContentFormat, vec![0]);
    p.payload = b"60".to_vec();
    assert_eq!(t.ask(BOOTSTRAP_SLOT, p).header.code.to_string(), "4.15");
    // The last good configuration is what Finish installs.
    assert_eq!(t.finish().header.code, CHANGED);
    let s = &t.client().servers()[0];
    assert_eq!((s.short_id, s.lifetime_s), (201, 120));
}

#[test]
fn server_initiated_bootstrap_takes_writes_without_a_request() {
    let mut t = Bs::new(&FACTORY, false, true);
    let events = t.events();
    assert!(events.contains(&Event::ConnectionNeeded {
        server: BOOTSTRAP_SLOT
    }));
    assert!(events.contains(&Event::ConnectionNeeded { server: 0 }));
    t.client().connection_opened(BOOTSTRAP_SLOT);
    let out = t.transmit();
    assert!(
        out.iter().all(|(slot, _)| *slot != BOOTSTRAP_SLOT),
        "no Bootstrap-Request"
    );
    assert_eq!(
        t.write("/0/0/0", tlv(3, 0, DM_URI.as_bytes())).header.code,
        CHANGED
    );
    assert_eq!(t.finish().header.code, CHANGED);
    let s = &t.client().servers()[0];
    assert_eq!((s.uri.as_str(), s.short_id), (DM_URI, 101));
}

#[test]
fn failed_registrations_fall_back_to_bootstrap() {
    let mut t = Bs::new(&FACTORY, false, false);
    assert_eq!(t.events(), [Event::ConnectionNeeded { server: 0 }]);
    // Bounded: the default retry sequence is a handful of attempts.
    let mut failed = false;
    for _ in 0..100 {
        let now = t.now;
        let delay = t.client().connection_failed(0, now);
        if delay == 0 {
            failed = true;
            break;
        }
        t.now += u64::from(delay);
        assert!(t.transmit().is_empty(), "no bootstrap while retrying");
    }
    assert!(failed, "the registration gave up");
    assert!(t
        .events()
        .contains(&Event::RegistrationFailed { server: 0 }));
    assert!(t.transmit().is_empty());
    bootstrap_after_hold_off(&mut t);
}

use tern::client::persist::MemSlots as Slots;

#[test]
fn bootstrapped_servers_survive_a_restart() {
    let mut t = Bs::new(&FACTORY, true, false);
    let req = t.bootstrap_request();
    t.accept(&req);
    // With one server, the staged factory account fills the tables: a new instance needs
    // a Delete first.
    if tern::config::MAX_SERVERS == 1 {
        assert_eq!(t.write("/1", server(2, 201, 120)).header.code, BAD_REQUEST);
    }
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Delete, "/"));
    assert_eq!(r.header.code, DELETED);
    assert_eq!(t.write("/0", security(4, DM_URI, 201)).header.code, CHANGED);
    assert_eq!(t.write("/1", server(2, 201, 120)).header.code, CHANGED);
    assert_eq!(t.finish().header.code, CHANGED);
    assert!(t.client().state_changed(), "a Finish is saved");
    let mut slots = Slots::default();
    assert!(t.client().save_state(&mut slots));

    // The same factory configuration after a reboot: the saved accounts replace it.
    let mut r = Bs::new(&FACTORY, true, false);
    let restored = r.client().restore_state(&mut slots);
    assert!(
        matches!(restored, tern::client::persist::Restored::Applied { .. }),
        "{restored:?}"
    );
    assert_eq!(r.client().servers().len(), 1);
    let s = &r.client().servers()[0];
    assert_eq!(
        (s.uri.as_str(), s.short_id, s.lifetime_s),
        (DM_URI, 201, 120)
    );
    assert_eq!((s.security_iid, s.server_iid), (4, 2));
    assert_eq!(r.events(), [Event::ConnectionNeeded { server: 0 }]);
    // No bootstrap any more.
    r.now = 10_000;
    assert!(r.transmit().is_empty());
    assert!(r.events().is_empty());
    assert_eq!(r.client().poll_timeout(), None);
}

#[test]
fn bootstrap_request_trigger_starts_a_bootstrap() {
    let mut t = Bs::new(&FACTORY, false, false);
    assert_eq!(t.events(), [Event::ConnectionNeeded { server: 0 }]);
    // Not an executable resource's path: device management answers.
    let r = t.ask(0, request(RequestType::Post, "/1/1/9"));
    assert_ne!(r.header.code, CHANGED);
    let r = t.ask(0, request(RequestType::Post, "/1/0/9"));
    assert_eq!(r.header.code, CHANGED);
    bootstrap_after_hold_off(&mut t);
}

/// After the 5 s hold-off the client asks for the bootstrap connection and, once it is
/// open, sends its bootstrap request.
fn bootstrap_after_hold_off(t: &mut Bs) {
    let start = t.now;
    assert_eq!(
        t.client().poll_timeout(),
        Some(start + 5_000),
        "the hold-off"
    );
    t.now = start + 5_000;
    assert!(t.transmit().is_empty());
    assert!(t.events().contains(&Event::ConnectionNeeded {
        server: BOOTSTRAP_SLOT
    }));
    t.client().connection_opened(BOOTSTRAP_SLOT);
    let out = t.transmit();
    assert_eq!(out.len(), 1);
    assert_eq!(uri_path(&parse(&out[0].1).unwrap()), ["bs"]);
}

/// A blob part: the Object ID and the length (big-endian), then the TLV.
fn part(oid: u16, tlv: &[u8]) -> Vec<u8> {
    let mut out = oid.to_be_bytes().to_vec();
    out.extend((tlv.len() as u16).to_be_bytes());
    out.extend(tlv);
    out
}

#[test]
fn a_smartcard_blob_is_a_whole_bootstrap() {
    let mut t = Bs::new(&FACTORY, false, false);
    t.events();
    let mut blob = part(0, &security(1, DM_URI, 201));
    blob.extend(part(1, &server(0, 201, 120)));
    assert_eq!(t.client().bootstrap_from_blob(&blob), Ok(()));
    let events = t.events();
    assert!(events.contains(&Event::Bootstrapped), "{events:?}");
    assert!(
        events.contains(&Event::ConnectionDone { server: 0 }),
        "the factory server goes"
    );
    assert!(events.contains(&Event::ConnectionNeeded { server: 0 }));
    let s = &t.client().servers()[0];
    assert_eq!(
        (s.uri.as_str(), s.short_id, s.lifetime_s),
        (DM_URI, 201, 120)
    );
}

#[test]
fn a_bad_smartcard_blob_changes_nothing() {
    let mut t = Bs::new(&FACTORY, false, false);
    t.events();
    let good_security = part(0, &security(1, DM_URI, 201));
    // A Server instance without its Security instance.
    let mut orphan = part(1, &server(0, 202, 120));
    orphan.extend(good_security.clone());
    assert!(matches!(
        t.client().bootstrap_from_blob(&orphan),
        Err(BlobError::Inconsistent(_))
    ));
    // A length past the end, a header cut short.
    let mut long = good_security.clone();
    long[3] = long[3].wrapping_add(1);
    assert_eq!(
        t.client().bootstrap_from_blob(&long),
        Err(BlobError::Malformed)
    );
    let mut cut = good_security.clone();
    cut.extend([0, 1]);
    assert_eq!(
        t.client().bootstrap_from_blob(&cut),
        Err(BlobError::Malformed)
    );
    // Another object, and malformed TLV.
    assert_eq!(
        t.client()
            .bootstrap_from_blob(&part(3, &server(0, 201, 120))),
        Err(BlobError::Write(tern::coap::Code::NOT_FOUND))
    );
    assert!(matches!(
        t.client().bootstrap_from_blob(&part(0, &[0xC8, 0, 9, 1])),
        Err(BlobError::Write(_))
    ));
    // The factory server is untouched, and nothing was announced.
    let s = &t.client().servers()[0];
    assert_eq!((s.uri.as_str(), s.short_id), (SERVER_URI, 101));
    assert!(t.events().is_empty());
}

/// A client without DM servers whose Bootstrap-Request the bootstrap server accepted.
fn running() -> Bs {
    let mut t = Bs::new(&[], false, false);
    let req = t.bootstrap_request();
    t.accept(&req);
    t
}
