//! The Bootstrap interface against a hand-written bootstrap server (coap-lite packets):
//! the Bootstrap-Request (`ep`, `pct`), Bootstrap-Write of /0 and /1 in TLV and Finish
//! followed by the registration with the written server, Finish of an inconsistent
//! configuration (4.06, nothing applied), authority (4.01 for a DM server and outside a
//! bootstrap), Delete keeping the bootstrap account, Discover, the bootstrap timeout, and
//! bad input that keeps the last good configuration. Bootstrap-Write in the record formats
//! too (SenML JSON and CBOR, LwM2M CBOR; payloads written with serde_json and ciborium):
//! whole bootstraps, resource writes, and malformed payloads that change nothing; and of
//! Access Control (/2) in every format, with its bad writes and its Delete.

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
        self.ack(BOOTSTRAP_SLOT, req, CHANGED, &[]);
    }

    /// Answers the client's request `req` on `slot` with a piggybacked `code` (and the
    /// Location-Path segments `location`).
    fn ack(&mut self, slot: u8, req: &Packet, code: MessageClass, location: &[&str]) {
        let mut ack = Packet::new();
        ack.header.set_type(MessageType::Acknowledgement);
        ack.header.code = code;
        ack.header.message_id = req.header.message_id;
        ack.set_token(req.get_token().to_vec());
        for segment in location {
            ack.add_option(CoapOption::LocationPath, segment.as_bytes().to_vec());
        }
        let bytes = ack.to_bytes().unwrap();
        let now = self.now;
        // SAFETY: as in `client`.
        let c = unsafe { self.slot.assume_init_mut() };
        c.handle_datagram(slot, &bytes, now, &mut self.platform);
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
    // A Security instance in a mode this build cannot use: PSK without the engine's DTLS
    // or the platform's keys (and a coap:// URI), X.509 always.
    assert_eq!(t.write("/0", security(1, DM_URI, 202)).header.code, CHANGED);
    for (mode, why) in [
        (0, &b"security mode not supported"[..]),
        (2, b"x.509 certificates not supported"),
    ] {
        assert_eq!(t.write("/0/1/2", int(2, mode)).header.code, CHANGED);
        let r = t.finish();
        assert_eq!(r.header.code, NOT_ACCEPTABLE);
        if cfg!(any(feature = "dtls", feature = "platform-credentials")) && mode == 0 {
            assert_eq!(r.payload, b"server uri", "PSK wants coaps://");
        } else {
            assert_eq!(r.payload, why);
        }
    }
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

impl Bs {
    /// Registers the factory server on slot 0: its Location is /rd/f1.
    fn register_factory(&mut self) {
        assert!(self
            .events()
            .contains(&Event::ConnectionNeeded { server: 0 }));
        self.client().connection_opened(0);
        let out = self.transmit();
        let reg = out
            .iter()
            .find(|(slot, d)| *slot == 0 && is_register(d))
            .expect("a Register");
        let reg = parse(&reg.1).unwrap();
        let created = MessageClass::Response(ResponseType::Created);
        self.ack(0, &reg, created, &["rd", "f1"]);
        assert!(self.events().contains(&Event::Registered { server: 0 }));
        assert!(self.client().servers()[0].reg.is_registered());
    }

    /// A server-initiated bootstrap that replaces every account with `uri`, Short Server
    /// ID `ssid`, and finishes.
    fn replace_accounts(&mut self, uri: &str, ssid: i32) {
        self.client().connection_opened(BOOTSTRAP_SLOT);
        let r = self.ask(BOOTSTRAP_SLOT, request(RequestType::Delete, "/"));
        assert_eq!(r.header.code, DELETED);
        assert_eq!(
            self.write("/0", security(4, uri, ssid)).header.code,
            CHANGED
        );
        assert_eq!(self.write("/1", server(2, ssid, 120)).header.code, CHANGED);
        assert_eq!(self.finish().header.code, CHANGED);
    }
}

/// The De-register of /rd/f1 the client sent on slot 0, if any.
fn deregister_of_factory(out: &[(u8, Vec<u8>)]) -> Option<Packet> {
    let (_, d) = out
        .iter()
        .find(|(slot, d)| *slot == 0 && is_deregister(d))?;
    let p = parse(d)?;
    assert_eq!(uri_path(&p), ["rd", "f1"]);
    Some(p)
}

#[test]
fn a_server_the_bootstrap_drops_is_deregistered_before_the_new_one_registers() {
    let mut t = Bs::new(&FACTORY, false, true);
    t.register_factory();
    t.replace_accounts(DM_URI, 201);
    // Still the factory server, until its De-register is over.
    assert_eq!(t.client().servers()[0].uri.as_str(), SERVER_URI);
    assert!(!t.events().contains(&Event::Bootstrapped));
    let out = t.transmit();
    let dereg = deregister_of_factory(&out).expect("a De-register of the dropped server");
    assert!(
        out.iter().all(|(_, d)| !is_register(d)),
        "no Register before the De-register is over"
    );
    assert!(t.events().is_empty(), "the connections stay as they are");
    // Nothing more while the De-register waits for its answer.
    assert_eq!(t.client().poll_timeout().map(|at| at > t.now), Some(true));
    assert!(t.write("/0/0/0", tlv(3, 0, b"coap://x")).header.code == UNAUTHORIZED);

    t.ack(0, &dereg, DELETED, &[]);
    assert_eq!(t.client().poll_timeout(), Some(t.now), "installed at once");
    assert!(t.transmit().is_empty());
    let events = t.events();
    let at = |e: Event| events.iter().position(|x| *x == e);
    let dereg = at(Event::Deregistered { server: 0 }).expect("Deregistered");
    let done = at(Event::ConnectionDone { server: 0 }).expect("the old connection closes");
    let needed = at(Event::ConnectionNeeded { server: 0 }).expect("the new one opens");
    assert!(dereg < done && done < needed, "{events:?}");
    assert!(events.contains(&Event::Bootstrapped));
    let s = &t.client().servers()[0];
    assert_eq!((s.uri.as_str(), s.short_id), (DM_URI, 201));
}

#[test]
fn a_server_the_bootstrap_keeps_is_not_deregistered() {
    let mut t = Bs::new(&FACTORY, false, true);
    t.register_factory();
    t.replace_accounts(SERVER_URI, 101);
    // Installed at once: the server registers again, without a De-register.
    assert!(t.events().contains(&Event::Bootstrapped));
    let out = t.transmit();
    assert!(
        deregister_of_factory(&out).is_none(),
        "kept: no De-register"
    );
    assert_eq!(t.client().servers()[0].uri.as_str(), SERVER_URI);
}

#[test]
fn an_unanswered_deregister_still_lets_the_new_configuration_in() {
    let mut t = Bs::new(&FACTORY, false, true);
    t.register_factory();
    t.replace_accounts(DM_URI, 201);
    assert!(deregister_of_factory(&t.transmit()).is_some());
    // Bounded: CoAP gives up after MAX_RETRANSMIT (4) retransmissions, within 93 s.
    let mut sent = 1;
    for _ in 0..32 {
        let Some(at) = t.client().poll_timeout() else {
            break;
        };
        t.now = at.max(t.now);
        sent += deregister_of_factory(&t.transmit()).map_or(0, |_| 1);
        if t.events().contains(&Event::Bootstrapped) {
            break;
        }
    }
    assert_eq!(sent, 5, "the De-register and its four retransmissions");
    assert!(t.now <= 93_000, "within MAX_TRANSMIT_WAIT: {}", t.now);
    assert_eq!(t.client().servers()[0].uri.as_str(), DM_URI);
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

#[cfg(feature = "queue-mode")]
#[test]
fn a_bootstrapped_server_in_queue_mode_keeps_the_slots_awake_time() {
    let mut t = Bs::new(&FACTORY, false, false);
    t.events();
    assert!(t.client().set_queue_mode(0, Some(7_000)));
    let uq = |iid: u16, ssid: i32| {
        let mut body = int(0, ssid);
        body.extend(int(1, 120));
        body.extend(tlv(3, 7, b"UQ"));
        tlv(0, iid, &body)
    };
    let mut blob = part(0, &security(1, DM_URI, 201));
    blob.extend(part(1, &uq(0, 201)));
    assert_eq!(t.client().bootstrap_from_blob(&blob), Ok(()));
    let s = &t.client().servers()[0];
    assert_eq!((s.short_id, s.binding()), (201, "UQ"));
    assert_eq!(s.awake_ms, 7_000, "the application's awake time stays");
    // Bootstrapped in `U`: queue mode goes.
    let mut blob = part(0, &security(1, DM_URI, 202));
    blob.extend(part(1, &server(0, 202, 120)));
    assert_eq!(t.client().bootstrap_from_blob(&blob), Ok(()));
    let s = &t.client().servers()[0];
    assert_eq!((s.binding(), s.awake_ms), ("U", 0));
    // Back in `UQ` after that: the default awake time.
    let mut blob = part(0, &security(1, DM_URI, 203));
    blob.extend(part(1, &uq(0, 203)));
    assert_eq!(t.client().bootstrap_from_blob(&blob), Ok(()));
    let s = &t.client().servers()[0];
    assert!(s.queue_mode());
    assert_eq!(s.awake_ms, 93_000, "the default awake time");
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

// ---- Bootstrap-Write in the record formats ---------------------------------------------

use ciborium::value::Value as Cbor;
use serde_json::{json, Value as Json};

/// A record's value, or none (a record that only names a path).
#[derive(Clone)]
enum V {
    Str(String),
    Bool(bool),
    Int(i64),
    Bytes(Vec<u8>),
    None,
}

/// A record: the full path's ids and the value.
type Rec = (Vec<u16>, V);

fn rec(ids: &[u16], v: V) -> Rec {
    (ids.to_vec(), v)
}

/// The records of a DM server's Security instance `iid`: NoSec, `ssid`.
fn security_recs(iid: u16, uri: &str, ssid: i64) -> Vec<Rec> {
    vec![
        rec(&[0, iid, 0], V::Str(uri.into())),
        rec(&[0, iid, 1], V::Bool(false)),
        rec(&[0, iid, 2], V::Int(3)),
        rec(&[0, iid, 3], V::Bytes(b"id".to_vec())),
        rec(&[0, iid, 10], V::Int(ssid)),
    ]
}

/// The records of a Server instance `iid`: `ssid`, lifetime, binding U.
fn server_recs(iid: u16, ssid: i64, lifetime: i64) -> Vec<Rec> {
    vec![
        rec(&[1, iid, 0], V::Int(ssid)),
        rec(&[1, iid, 1], V::Int(lifetime)),
        rec(&[1, iid, 6], V::Bool(false)),
        rec(&[1, iid, 7], V::Str("U".into())),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Fmt {
    SenmlJson,
    SenmlCbor,
    Lwm2mCbor,
}

impl Fmt {
    fn content_format(self) -> u16 {
        match self {
            Fmt::SenmlJson => 110,
            Fmt::SenmlCbor => 112,
            Fmt::Lwm2mCbor => 11544,
        }
    }

    /// `recs` in this format, written by independent encoders (serde_json, ciborium).
    fn encode(self, recs: &[Rec]) -> Vec<u8> {
        match self {
            Fmt::SenmlJson => serde_json::to_vec(&senml_json(recs)).unwrap(),
            Fmt::SenmlCbor => cbor_bytes(&senml_cbor(recs)),
            Fmt::Lwm2mCbor => cbor_bytes(&lwm2m_cbor(recs)),
        }
    }
}

fn name(ids: &[u16]) -> String {
    ids.iter().map(|i| format!("/{i}")).collect()
}

fn senml_json(recs: &[Rec]) -> Json {
    let base64url = |b: &[u8]| -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |n, &c| n << 8 | u32::from(c)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    };
    Json::Array(
        recs.iter()
            .map(|(ids, v)| {
                let mut m = json!({ "n": name(ids) });
                let (k, val) = match v {
                    V::Str(s) => ("vs", json!(s)),
                    V::Bool(b) => ("vb", json!(b)),
                    V::Int(i) => ("v", json!(i)),
                    V::Bytes(b) => ("vd", json!(base64url(b))),
                    V::None => return m,
                };
                m[k] = val;
                m
            })
            .collect(),
    )
}

fn cbor_value(v: &V) -> Cbor {
    match v {
        V::Str(s) => Cbor::Text(s.clone()),
        V::Bool(b) => Cbor::Bool(*b),
        V::Int(i) => Cbor::Integer((*i).into()),
        V::Bytes(b) => Cbor::Bytes(b.clone()),
        V::None => Cbor::Null,
    }
}

fn senml_cbor(recs: &[Rec]) -> Cbor {
    Cbor::Array(
        recs.iter()
            .map(|(ids, v)| {
                let mut m = vec![(Cbor::Integer(0.into()), Cbor::Text(name(ids)))];
                // SenML CBOR labels: v 2, vs 3, vb 4, vd 8.
                let label = match v {
                    V::Int(_) => 2,
                    V::Str(_) => 3,
                    V::Bool(_) => 4,
                    V::Bytes(_) => 8,
                    V::None => return Cbor::Map(m),
                };
                m.push((Cbor::Integer(label.into()), cbor_value(v)));
                Cbor::Map(m)
            })
            .collect(),
    )
}

/// LwM2M CBOR: nested maps keyed by the path's ids from the root.
fn lwm2m_cbor(recs: &[Rec]) -> Cbor {
    let mut root = Cbor::Map(vec![]);
    for (ids, v) in recs {
        let mut node = &mut root;
        for (i, id) in ids.iter().enumerate() {
            let Cbor::Map(entries) = node else {
                panic!("a value where a map should be")
            };
            let key = Cbor::Integer((*id).into());
            let at = match entries.iter().position(|(k, _)| *k == key) {
                // A later record of the same path replaces the earlier one's value.
                Some(at) if i + 1 == ids.len() => {
                    entries[at].1 = cbor_value(v);
                    at
                }
                Some(at) => at,
                None => {
                    let leaf = if i + 1 == ids.len() {
                        cbor_value(v)
                    } else {
                        Cbor::Map(vec![])
                    };
                    entries.push((key, leaf));
                    entries.len() - 1
                }
            };
            node = &mut entries[at].1;
        }
    }
    root
}

fn cbor_bytes(v: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).unwrap();
    out
}

/// The Content-Format option's bytes (big-endian, no leading zero).
fn format_option(cf: u16) -> Vec<u8> {
    let b = cf.to_be_bytes();
    if b[0] == 0 {
        vec![b[1]]
    } else {
        b.to_vec()
    }
}

impl Bs {
    /// A Bootstrap-Write of `payload` in content format `cf`.
    fn write_as(&mut self, path: &str, cf: u16, payload: Vec<u8>) -> Packet {
        let mut p = request(RequestType::Put, path);
        p.add_option(CoapOption::ContentFormat, format_option(cf));
        p.payload = payload;
        self.ask(BOOTSTRAP_SLOT, p)
    }

    fn write_recs(&mut self, path: &str, f: Fmt, recs: &[Rec]) -> Packet {
        let data = f.encode(recs);
        self.write_as(path, f.content_format(), data)
    }

    /// Bootstrap-Read of one Server resource, as text.
    fn read_text(&mut self, path: &str) -> String {
        let r = self.ask(BOOTSTRAP_SLOT, request(RequestType::Get, path));
        assert_eq!(r.header.code, CONTENT, "{path}");
        String::from_utf8(r.payload).unwrap()
    }
}

/// A whole bootstrap in format `f`: the Security object (its instances), then a Server
/// instance, Finish, and the registration with the written server.
fn bootstrap_in(f: Fmt) {
    let mut t = running();
    let r = t.write_recs("/0", f, &security_recs(1, DM_URI, 201));
    assert_eq!(r.header.code, CHANGED, "{f:?}");
    let r = t.write_recs("/1/0", f, &server_recs(0, 201, 120));
    assert_eq!(r.header.code, CHANGED, "{f:?}");
    assert!(
        t.client().servers().is_empty(),
        "nothing live before Finish"
    );
    assert_eq!(t.finish().header.code, CHANGED, "{f:?}");
    let events = t.events();
    assert!(events.contains(&Event::Bootstrapped), "{events:?}");
    assert!(events.contains(&Event::ConnectionNeeded { server: 0 }));
    let s = &t.client().servers()[0];
    assert_eq!(
        (s.uri.as_str(), s.short_id, s.lifetime_s),
        (DM_URI, 201, 120)
    );
    assert_eq!((s.security_iid, s.server_iid), (1, 0));
    assert!(t.transmit().is_empty());
    t.client().connection_opened(0);
    let out = t.transmit();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, 0);
    assert!(is_register(&out[0].1));
    let q = uri_query(&parse(&out[0].1).unwrap());
    assert!(q.contains(&format!("ep={EP}")), "{q:?}");
    assert!(q.contains(&"lt=120".to_string()), "{q:?}");
}

#[cfg(feature = "senml-json")]
#[test]
fn bootstrap_written_in_senml_json_registers() {
    bootstrap_in(Fmt::SenmlJson);
}

#[cfg(feature = "senml-cbor")]
#[test]
fn bootstrap_written_in_senml_cbor_registers() {
    bootstrap_in(Fmt::SenmlCbor);
}

#[cfg(feature = "lwm2m-cbor")]
#[test]
fn bootstrap_written_in_lwm2m_cbor_registers() {
    bootstrap_in(Fmt::Lwm2mCbor);
}

/// The formats this build has.
fn formats() -> Vec<Fmt> {
    let mut out = Vec::new();
    if cfg!(feature = "senml-json") {
        out.push(Fmt::SenmlJson);
    }
    if cfg!(feature = "senml-cbor") {
        out.push(Fmt::SenmlCbor);
    }
    if cfg!(feature = "lwm2m-cbor") {
        out.push(Fmt::Lwm2mCbor);
    }
    out
}

#[cfg(any(feature = "senml-json", feature = "senml-cbor", feature = "lwm2m-cbor"))]
#[test]
fn resource_writes_in_every_record_format() {
    let mut t = running();
    assert_eq!(t.write("/0", security(1, DM_URI, 201)).header.code, CHANGED);
    assert_eq!(t.write("/1", server(1, 201, 120)).header.code, CHANGED);
    for (n, f) in formats().into_iter().enumerate() {
        let lifetime = 1000 + n as i64;
        let r = t.write_recs("/1/1/1", f, &[rec(&[1, 1, 1], V::Int(lifetime))]);
        assert_eq!(r.header.code, CHANGED, "{f:?}");
        assert_eq!(t.read_text("/1/1/1"), lifetime.to_string(), "{f:?}");
        // A Security resource: the server's URI.
        let uri = format!("coap://192.0.2.{}:5683", 10 + n);
        let r = t.write_recs("/0/1/0", f, &[rec(&[0, 1, 0], V::Str(uri.clone()))]);
        assert_eq!(r.header.code, CHANGED, "{f:?}");
        assert!(
            t.discover("/0").contains(&format!("uri=\"{uri}\"")),
            "{f:?}"
        );
    }
    let last = formats().len();
    assert!(last > 0, "a default build has the record formats");
    assert_eq!(t.finish().header.code, CHANGED);
    let s = &t.client().servers()[0];
    assert_eq!(s.lifetime_s, 1000 + last as u32 - 1);
    assert_eq!(
        s.uri.as_str(),
        format!("coap://192.0.2.{}:5683", 10 + last - 1)
    );
}

#[cfg(any(feature = "senml-json", feature = "senml-cbor", feature = "lwm2m-cbor"))]
#[test]
fn malformed_record_writes_change_nothing() {
    let mut t = running();
    assert_eq!(t.write("/0", security(1, DM_URI, 201)).header.code, CHANGED);
    assert_eq!(t.write("/1", server(0, 201, 120)).header.code, CHANGED);
    let good = server_recs(0, 201, 999);
    for f in formats() {
        let cf = f.content_format();
        let mut bad: Vec<(&str, &str, Vec<u8>)> = Vec::new();
        // Cut short: the records' framing (CBOR) or the JSON text ends early.
        let whole = f.encode(&good);
        for cut in [1, 3, whole.len() / 2] {
            bad.push(("truncated", "/1/0", whole[..whole.len() - cut].to_vec()));
        }
        // A record outside the request's path: another instance, another object.
        let mut other = good.clone();
        other.push(rec(&[1, 1, 1], V::Int(5)));
        bad.push(("outside the instance", "/1/0", f.encode(&other)));
        bad.push(("outside the object", "/0", f.encode(&good)));
        bad.push(("outside the resource", "/1/0/0", f.encode(&good)));
        // The wrong type, after good records of the same payload.
        let mut wrong = good.clone();
        wrong.push(rec(&[1, 0, 1], V::Str("sixty".into())));
        bad.push(("text for an integer", "/1/0", f.encode(&wrong)));
        let mut wrong = good.clone();
        wrong.push(rec(&[1, 0, 0], V::Bool(true)));
        bad.push(("boolean for the ssid", "/1/0", f.encode(&wrong)));
        let mut wrong = good.clone();
        wrong.insert(0, rec(&[0, 1, 0], V::Int(7)));
        bad.push(("integer for the uri", "/0/1", f.encode(&wrong[..1])));
        // No value; a path that names no resource.
        bad.push(("no value", "/1/0", f.encode(&[rec(&[1, 0, 1], V::None)])));
        bad.push(("instance path", "/1", f.encode(&[rec(&[1, 0], V::Int(1))])));
        if matches!(f, Fmt::SenmlJson) {
            bad.push(("bad json", "/1/0", br#"[{"n":"/1/0/1","v":}]"#.to_vec()));
            bad.push(("not an array", "/1/0", br#"{"n":"/1/0/1","v":9}"#.to_vec()));
        } else {
            // A map or array head announcing more than there is.
            bad.push(("long head", "/1/0", vec![0x9a, 0xff, 0xff, 0xff, 0xff]));
            bad.push(("not cbor", "/1/0", b"\xff\xff".to_vec()));
        }
        for (what, path, payload) in bad {
            let r = t.write_as(path, cf, payload);
            assert_eq!(r.header.code, BAD_REQUEST, "{f:?}: {what}");
        }
        assert_eq!(t.read_text("/1/0/1"), "120", "{f:?}: nothing changed");
        assert_eq!(t.read_text("/1/0/0"), "201", "{f:?}");
        assert_eq!(t.discover("/1"), "</>;lwm2m=\"1.1\",</1/0>;ssid=201");
    }
    // The last good configuration is what Finish installs.
    assert_eq!(t.finish().header.code, CHANGED);
    let s = &t.client().servers()[0];
    assert_eq!(
        (s.uri.as_str(), s.short_id, s.lifetime_s),
        (DM_URI, 201, 120)
    );
}

#[test]
fn a_format_the_build_lacks_is_unsupported() {
    let mut t = running();
    // LwM2M JSON (11543) is a record format too, when its feature is on.
    let payload = br#"{"bn":"/1/0/","e":[{"n":"1","v":60}]}"#.to_vec();
    let r = t.write_as("/1/0", 11543, payload);
    let expected = if cfg!(feature = "json") {
        "2.04"
    } else {
        "4.15"
    };
    assert_eq!(r.header.code.to_string(), expected);
    // CBOR (60) is no LwM2M format.
    let r = t.write_as("/1/0/1", 60, vec![0x18, 60]);
    assert_eq!(r.header.code.to_string(), "4.15");
}

// ---- Bootstrap-Write of Access Control (/2) ---------------------------------------------

/// The records of Access Control instance `iid` for object instance (`oid`, `oiid`):
/// server `ssid` gets `rights` and owns it.
#[cfg(feature = "access-control")]
fn acl_recs(iid: u16, oid: i64, oiid: i64, ssid: u16, rights: i64) -> Vec<Rec> {
    vec![
        rec(&[2, iid, 0], V::Int(oid)),
        rec(&[2, iid, 1], V::Int(oiid)),
        rec(&[2, iid, 2, ssid], V::Int(rights)),
        rec(&[2, iid, 3], V::Int(i64::from(ssid))),
    ]
}

#[cfg(feature = "access-control")]
#[test]
fn access_control_is_written_in_tlv_and_every_record_format() {
    let mut t = running();
    // TLV: an Object Instance holding a Multiple Resource (the ACL).
    let mut body = int(0, 1);
    body.extend(int(1, 0));
    body.extend(tlv(2, 2, &tlv(1, 201, &[0x0f])));
    body.extend(int(3, 201));
    assert_eq!(t.write("/2", tlv(0, 0, &body)).header.code, CHANGED);
    assert_eq!(t.read_text("/2/0/0"), "1");
    assert_eq!(t.read_text("/2/0/2/201"), "15");
    assert_eq!(t.read_text("/2/0/3"), "201");
    for (n, f) in formats().into_iter().enumerate() {
        let iid = 1 + n as u16;
        let path = format!("/2/{iid}");
        let r = t.write_recs(&path, f, &acl_recs(iid, 3, n as i64, 201, 1 + n as i64));
        assert_eq!(r.header.code, CHANGED, "{f:?}");
        assert_eq!(t.read_text(&format!("{path}/0")), "3", "{f:?}");
        assert_eq!(
            t.read_text(&format!("{path}/2/201")),
            (1 + n).to_string(),
            "{f:?}"
        );
        // A resource write: the owner.
        let r = t.write_recs(&format!("{path}/3"), f, &[rec(&[2, iid, 3], V::Int(7))]);
        assert_eq!(r.header.code, CHANGED, "{f:?}");
        assert_eq!(t.read_text(&format!("{path}/3")), "7", "{f:?}");
    }
    // Bootstrap-Delete of one instance, then of them all.
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Delete, "/2/0"));
    assert_eq!(r.header.code, DELETED);
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Get, "/2/0/0"));
    assert_eq!(r.header.code, NOT_FOUND);
    if !formats().is_empty() {
        assert_eq!(t.read_text("/2/1/0"), "3", "the others stay");
    }
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Delete, "/"));
    assert_eq!(r.header.code, DELETED);
    let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Get, "/2/1/0"));
    assert_eq!(r.header.code, NOT_FOUND);
}

#[cfg(all(
    feature = "access-control",
    any(feature = "senml-json", feature = "senml-cbor", feature = "lwm2m-cbor")
))]
#[test]
fn bad_access_control_writes_change_nothing() {
    let mut t = running();
    assert_eq!(
        t.write_recs("/2/0", Fmt::SenmlCbor, &acl_recs(0, 1, 0, 201, 15))
            .header
            .code,
        CHANGED
    );
    for f in formats() {
        let mut bad: Vec<(&str, &str, Vec<Rec>)> = vec![
            // No Object ID: the instance names nothing.
            ("no object id", "/2/1", vec![rec(&[2, 1, 3], V::Int(201))]),
            ("object id 0", "/2/1", acl_recs(1, 0, 0, 201, 1)),
            ("object id 65535", "/2/1", acl_recs(1, 65535, 0, 201, 1)),
            // A second instance for /1/0.
            ("duplicate", "/2/1", acl_recs(1, 1, 0, 201, 1)),
            ("rights too large", "/2/1", acl_recs(1, 3, 0, 201, 70_000)),
            ("outside the path", "/2/1", acl_recs(2, 3, 0, 201, 1)),
            (
                "text rights",
                "/2/0",
                vec![rec(&[2, 0, 2, 201], V::Str("x".into()))],
            ),
        ];
        // The ACL resource without a resource instance.
        let mut whole = acl_recs(1, 3, 0, 201, 1);
        whole[2] = rec(&[2, 1, 2], V::Int(1));
        bad.push(("no resource instance", "/2/1", whole));
        for (what, path, recs) in bad {
            let r = t.write_recs(path, f, &recs);
            assert_eq!(r.header.code, BAD_REQUEST, "{f:?}: {what}");
        }
        let r = t.ask(BOOTSTRAP_SLOT, request(RequestType::Get, "/2/1"));
        assert_eq!(r.header.code, NOT_FOUND, "{f:?}: nothing created");
        assert_eq!(t.read_text("/2/0/0"), "1", "{f:?}");
        assert_eq!(t.read_text("/2/0/2/201"), "15", "{f:?}");
    }
}

/// The shorthand peers write: SenML base names, LwM2M CBOR keys holding several ids.
#[cfg(all(feature = "senml-json", feature = "lwm2m-cbor"))]
#[test]
fn base_names_and_path_keys_are_understood() {
    let mut t = running();
    assert_eq!(t.write("/1", server(0, 201, 120)).header.code, CHANGED);
    let json = br#"[{"bn":"/1/0/","n":"1","v":77},{"n":"3","v":5}]"#.to_vec();
    assert_eq!(t.write_as("/1/0", 110, json).header.code, CHANGED);
    assert_eq!(t.read_text("/1/0/1"), "77");
    assert_eq!(t.read_text("/1/0/3"), "5");
    // {[1, 0]: {1: 78}}
    let path_key = Cbor::Array(vec![Cbor::Integer(1.into()), Cbor::Integer(0.into())]);
    let body = Cbor::Map(vec![(Cbor::Integer(1.into()), Cbor::Integer(78.into()))]);
    let cbor = cbor_bytes(&Cbor::Map(vec![(path_key, body)]));
    assert_eq!(t.write_as("/1/0", 11544, cbor).header.code, CHANGED);
    assert_eq!(t.read_text("/1/0/1"), "78");
}
