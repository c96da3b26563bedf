//! Access Control (object 2, LwM2M 1.1 Core section 7.3) with two servers: each operation
//! needs its ACL right (4.01 without it), the Access Control Owner and the default ACL entry,
//! Create making its server the owner, only the owner changing an ACL, Read of object 2 in
//! TLV and SenML JSON; and with one server, nothing enforced.
//!
//! The two-server tests need a build with `TERN_MAX_SERVERS` of 2 or more (tests/run.sh
//! runs this file so); with the default of 1 they say so and check nothing else.

mod sim;

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use sim::*;
use tern::client::acl::{CREATE, DELETE, EXECUTE, OBJECT, READ, WRITE};
use tern::client::{Client, Event};

const A: u16 = 101;
const B: u16 = 102;
const SLOT_A: u8 = 0;
const SLOT_B: u8 = 1;

const CONTENT: MessageClass = MessageClass::Response(ResponseType::Content);
const CHANGED: MessageClass = MessageClass::Response(ResponseType::Changed);
const CREATED: MessageClass = MessageClass::Response(ResponseType::Created);
const DELETED: MessageClass = MessageClass::Response(ResponseType::Deleted);
const UNAUTHORIZED: MessageClass = MessageClass::Response(ResponseType::Unauthorized);

/// A client registered with two servers (short ids 101 and 102), without any ACL.
struct Two {
    client: Client,
    platform: TestPlatform,
    now: u64,
    mid: u16,
}

/// `None` (and a note) when this build holds a single server.
fn two_servers() -> Option<Two> {
    let mut t = Two {
        client: two_server_client(300, 30, 1)?,
        platform: TestPlatform::new(7),
        now: 0,
        mid: 0x5000,
    };
    // Bounded: two Registers, answered at once.
    for _ in 0..50 {
        while let Some(e) = t.client.poll_event() {
            if let Event::ConnectionNeeded { server } = e {
                t.client.connection_opened(server);
            }
        }
        let mut sent = Vec::new();
        while let Some(x) = t.client.poll_transmit(t.now, &mut t.platform) {
            sent.push((x.server, x.data.to_vec()));
        }
        for (server, bytes) in sent {
            if is_register(&bytes) {
                let req = parse(&bytes).unwrap();
                let mut ack = Packet::new();
                ack.header.set_type(MessageType::Acknowledgement);
                ack.header.code = CREATED;
                ack.header.message_id = req.header.message_id;
                ack.set_token(req.get_token().to_vec());
                ack.add_option(CoapOption::LocationPath, b"rd".to_vec());
                ack.add_option(CoapOption::LocationPath, vec![b'0' + server]);
                let bytes = ack.to_bytes().unwrap();
                t.client
                    .handle_datagram(server, &bytes, t.now, &mut t.platform);
            }
        }
        if t.client.servers().iter().all(|s| s.reg.is_registered()) {
            while t.client.poll_event().is_some() {}
            return Some(t);
        }
        t.now += 100;
    }
    panic!("the client did not register with both servers");
}

impl Two {
    /// Sends `p` from server slot `server`; returns the client's response.
    fn ask(&mut self, server: u8, mut p: Packet) -> Packet {
        self.mid = self.mid.wrapping_add(1);
        p.header.message_id = self.mid;
        p.set_token(vec![0x7e, server]);
        let bytes = p.to_bytes().expect("encodes");
        self.client
            .handle_datagram(server, &bytes, self.now, &mut self.platform);
        let out = self
            .client
            .poll_transmit(self.now, &mut self.platform)
            .expect("a response");
        assert_eq!(
            out.server, server,
            "answered on the asking server's connection"
        );
        let r = Packet::from_bytes(out.data).expect("the response parses");
        // Updates after a Create or Delete: not needed here.
        for _ in 0..4 {
            if self
                .client
                .poll_transmit(self.now, &mut self.platform)
                .is_none()
            {
                break;
            }
        }
        r
    }

    fn code(&mut self, server: u8, p: Packet) -> MessageClass {
        self.ask(server, p).header.code
    }

    fn acl(&mut self, oid: u16, iid: u16, ssid: u16, rights: u8) {
        self.client
            .access_control()
            .set(oid, iid, ssid, u16::from(rights))
            .unwrap();
    }
}

fn get(path: &str) -> Packet {
    request(RequestType::Get, path)
}

fn get_as(path: &str, format: u16) -> Packet {
    let mut p = get(path);
    p.add_option(CoapOption::Accept, format.to_be_bytes().to_vec());
    p
}

fn put_text(path: &str, text: &str) -> Packet {
    let mut p = request(RequestType::Put, path);
    p.add_option(CoapOption::ContentFormat, vec![0]);
    p.payload = text.as_bytes().to_vec();
    p
}

fn post(path: &str, format: Option<u16>, payload: &[u8]) -> Packet {
    let mut p = request(RequestType::Post, path);
    if let Some(f) = format {
        p.add_option(CoapOption::ContentFormat, f.to_be_bytes().to_vec());
    }
    p.payload = payload.to_vec();
    p
}

fn delete(path: &str) -> Packet {
    request(RequestType::Delete, path)
}

fn write_attributes(path: &str) -> Packet {
    let mut p = request(RequestType::Put, path);
    p.add_option(CoapOption::UriQuery, b"pmin=10".to_vec());
    p
}

fn read_composite(path: &str) -> Packet {
    let mut p = request(RequestType::Fetch, "/");
    p.add_option(CoapOption::ContentFormat, 110u16.to_be_bytes().to_vec());
    p.payload = format!(r#"[{{"n":"{path}"}}]"#).into_bytes();
    p
}

/// A small TLV reader of its own (not the library's): (type bits, id, value) per item.
fn tlv_items(mut data: &[u8]) -> Vec<(u8, u16, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(&t) = data.first() {
        let mut at = 1;
        let id = if t & 0x20 != 0 {
            at += 2;
            u16::from_be_bytes([data[1], data[2]])
        } else {
            at += 1;
            u16::from(data[1])
        };
        let len = match (t >> 3) & 3 {
            0 => usize::from(t & 7),
            n => {
                let n = usize::from(n);
                let mut l = 0;
                for b in &data[at..at + n] {
                    l = l << 8 | usize::from(*b);
                }
                at += n;
                l
            }
        };
        out.push((t >> 6, id, data[at..at + len].to_vec()));
        data = &data[at + len..];
    }
    out
}

fn int(v: &[u8]) -> i64 {
    v.iter().fold(0i64, |a, b| a << 8 | i64::from(*b))
}

/// The Access Control instances a TLV Read of /2 shows: (Object ID, Object Instance ID,
/// owner, ACL entries), by Access Control instance id.
type AclView = Vec<(u16, (i64, i64, i64, Vec<(u16, i64)>))>;

fn acl_tlv(payload: &[u8]) -> AclView {
    tlv_items(payload)
        .into_iter()
        .map(|(kind, iid, body)| {
            assert_eq!(kind, 0, "object instances");
            let mut v = (0, 0, 0, Vec::new());
            for (kind, rid, value) in tlv_items(&body) {
                match (kind, rid) {
                    (3, 0) => v.0 = int(&value),
                    (3, 1) => v.1 = int(&value),
                    (3, 3) => v.2 = int(&value),
                    (2, 2) => {
                        v.3 = tlv_items(&value)
                            .into_iter()
                            .map(|(k, ssid, r)| {
                                assert_eq!(k, 1, "resource instances");
                                (ssid, int(&r))
                            })
                            .collect()
                    }
                    other => panic!("unexpected TLV {other:?}"),
                }
            }
            (iid, v)
        })
        .collect()
}

/// An operation: the ACL right it needs, the request, the code it gets with that right.
type Op = (u8, fn() -> Packet, MessageClass);

#[test]
fn without_a_right_every_operation_gets_4_01_and_with_it_works() {
    let Some(mut t) = two_servers() else { return };
    t.client.access_control().set_owner(3303, 0, A).unwrap();
    let ops: [Op; 6] = [
        (READ, || get("/3303/0"), CONTENT),
        (WRITE, || put_text("/3303/0/5701", "F"), CHANGED),
        // A partial update (POST) in TLV: 5900 = 7.
        (
            WRITE,
            || post("/3303/0", Some(11542), &[0xe1, 0x17, 0x0c, 0x07]),
            CHANGED,
        ),
        (EXECUTE, || post("/3303/0/5605", None, &[]), CHANGED),
        // Execute with arguments: a POST with a payload on an executable resource.
        (EXECUTE, || post("/3303/0/5605", None, b"1='a'"), CHANGED),
        (DELETE, || delete("/3303/0"), DELETED),
    ];
    for (right, op, ok) in ops {
        assert_eq!(
            t.code(SLOT_B, op()),
            UNAUTHORIZED,
            "right {right} not given"
        );
        t.acl(3303, 0, B, right);
        // Only that right: the others stay refused.
        for (other, op2, _) in ops.iter().filter(|o| o.0 != right) {
            assert_eq!(t.code(SLOT_B, op2()), UNAUTHORIZED, "{other} with {right}");
        }
        assert_eq!(t.code(SLOT_B, op()), ok, "right {right} given");
        if right != DELETE {
            t.acl(3303, 0, B, 0);
        }
    }
    // The Delete went through: the instance and its Access Control instance are gone.
    assert!(t.platform.objects.temp.instances.is_empty());
    assert_eq!(
        t.code(SLOT_B, get("/3303/0")),
        MessageClass::Response(ResponseType::NotFound)
    );
    assert_eq!(t.ask(SLOT_A, get_as("/2", 11542)).payload, b"");
    assert_eq!(t.platform.objects.temp.executions, 2);
    assert_eq!(t.platform.objects.temp.units, "F");
    assert_eq!(t.platform.objects.temp.interval, 7);

    // Create needs the Create right on the object's own Access Control instance.
    assert_eq!(t.code(SLOT_B, post("/3303", None, &[])), UNAUTHORIZED);
    t.acl(3303, OBJECT, B, READ | WRITE | EXECUTE | DELETE);
    assert_eq!(t.code(SLOT_B, post("/3303", None, &[])), UNAUTHORIZED);
    t.acl(3303, OBJECT, B, CREATE);
    assert_eq!(t.code(SLOT_B, post("/3303", None, &[])), CREATED);
    assert_eq!(t.platform.objects.temp.instances, [0]);
}

#[test]
fn write_attributes_and_composite_need_read_and_discover_needs_no_right() {
    let Some(mut t) = two_servers() else { return };
    t.client.access_control().set_owner(3303, 0, A).unwrap();
    let mut discover = get("/3303/0");
    discover.add_option(CoapOption::Accept, 40u16.to_be_bytes().to_vec());
    // The ACL's R bit covers Read, Observe and Write-Attributes (object 2's definition),
    // not Discover.
    assert_eq!(t.code(SLOT_B, discover.clone()), CONTENT);
    assert_eq!(
        t.code(SLOT_B, write_attributes("/3303/0/5700")),
        UNAUTHORIZED
    );
    assert_eq!(t.code(SLOT_B, read_composite("/3303/0/5700")), UNAUTHORIZED);
    let mut patch = request(RequestType::IPatch, "/");
    patch.add_option(CoapOption::ContentFormat, 110u16.to_be_bytes().to_vec());
    patch.payload = br#"[{"n":"/3303/0/5701","vs":"K"}]"#.to_vec();
    assert_eq!(t.code(SLOT_B, patch.clone()), UNAUTHORIZED);
    // The owner has every right.
    assert_eq!(t.code(SLOT_A, discover.clone()), CONTENT);
    assert_eq!(t.code(SLOT_A, write_attributes("/3303/0/5700")), CHANGED);
    assert_eq!(t.code(SLOT_A, read_composite("/3303/0/5700")), CONTENT);

    t.acl(3303, 0, B, READ);
    assert_eq!(t.code(SLOT_B, discover), CONTENT);
    assert_eq!(t.code(SLOT_B, write_attributes("/3303/0/5700")), CHANGED);
    let r = t.ask(SLOT_B, read_composite("/3303/0/5700"));
    assert_eq!(r.header.code, CONTENT);
    let records: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
    assert_eq!(records[0]["v"], 21.5);
    // Read does not give Write.
    assert_eq!(t.code(SLOT_B, patch.clone()), UNAUTHORIZED);
    assert_eq!(t.platform.objects.temp.units, "Cel");
    t.acl(3303, 0, B, READ | WRITE);
    assert_eq!(t.code(SLOT_B, patch), CHANGED);
    assert_eq!(t.platform.objects.temp.units, "K");
}

#[test]
fn create_makes_the_creator_owner_and_other_servers_are_denied() {
    let Some(mut t) = two_servers() else { return };
    t.acl(3303, OBJECT, A, CREATE);
    let r = t.ask(SLOT_A, post("/3303", None, &[]));
    assert_eq!(r.header.code, CREATED);
    assert_eq!(options(&r, CoapOption::LocationPath), ["3303", "1"]);
    assert_eq!(t.code(SLOT_A, get("/3303/1")), CONTENT);
    assert_eq!(t.code(SLOT_B, get("/3303/1")), UNAUTHORIZED);
    assert_eq!(t.code(SLOT_B, delete("/3303/1")), UNAUTHORIZED);
    // Object 2 shows the new Access Control instance: owner A, A with R|W|E|D.
    let r = t.ask(SLOT_B, get_as("/2", 11542));
    assert_eq!(r.header.code, CONTENT);
    let view = acl_tlv(&r.payload);
    assert_eq!(view[0], (0, (3303, 65535, 65535, vec![(A, 16)])));
    assert_eq!(view[1], (1, (3303, 1, i64::from(A), vec![(A, 15)])));
    // Only the owner changes it: B may not give itself rights.
    let grant_b = [0x83, 0x02, 0x41, B as u8, 0x01];
    assert_eq!(
        t.code(SLOT_B, post("/2/1", Some(11542), &grant_b)),
        UNAUTHORIZED
    );
    assert_eq!(t.code(SLOT_B, get("/3303/1")), UNAUTHORIZED);
    assert_eq!(t.code(SLOT_A, post("/2/1", Some(11542), &grant_b)), CHANGED);
    assert_eq!(t.code(SLOT_B, get("/3303/1")), CONTENT);
    assert_eq!(t.code(SLOT_B, delete("/3303/1")), UNAUTHORIZED);
    // A replacing Write (PUT) of the ACL resource keeps only the entries it names.
    let mut put = request(RequestType::Put, "/2/1/2");
    put.add_option(CoapOption::ContentFormat, 11542u16.to_be_bytes().to_vec());
    put.payload = vec![0x83, 0x02, 0x41, B as u8, 0x09];
    assert_eq!(t.code(SLOT_A, put), CHANGED);
    let view = acl_tlv(&t.ask(SLOT_A, get_as("/2", 11542)).payload);
    assert_eq!(view[1], (1, (3303, 1, i64::from(A), vec![(B, 9)])));
    assert_eq!(t.code(SLOT_B, get("/3303/1")), CONTENT);
    // Servers cannot create or delete Access Control instances themselves.
    assert_eq!(
        t.code(SLOT_A, delete("/2/1")),
        MessageClass::Response(ResponseType::MethodNotAllowed)
    );
    // The owner, without an entry of its own now, has every right: it deletes the
    // instance, and the instance's Access Control instance goes too.
    assert_eq!(t.code(SLOT_A, delete("/3303/1")), DELETED);
    let view = acl_tlv(&t.ask(SLOT_A, get_as("/2", 11542)).payload);
    assert_eq!(view.len(), 1);
    assert_eq!(view[0].1 .1, 65535);
}

#[test]
fn the_default_entry_applies_to_servers_without_their_own() {
    let Some(mut t) = two_servers() else { return };
    t.client.access_control().set_owner(3303, 0, A).unwrap();
    t.acl(3303, 0, 0, READ);
    assert_eq!(t.code(SLOT_B, get("/3303/0")), CONTENT);
    assert_eq!(t.code(SLOT_B, put_text("/3303/0/5701", "F")), UNAUTHORIZED);
    // The owner without an entry keeps every right, not the default's.
    assert_eq!(t.code(SLOT_A, put_text("/3303/0/5701", "F")), CHANGED);
    // An entry of its own replaces the default.
    t.acl(3303, 0, B, WRITE);
    assert_eq!(t.code(SLOT_B, get("/3303/0")), UNAUTHORIZED);
    assert_eq!(t.code(SLOT_B, put_text("/3303/0/5701", "K")), CHANGED);
    // So does the owner's own entry.
    t.acl(3303, 0, A, READ);
    assert_eq!(t.code(SLOT_A, put_text("/3303/0/5701", "C")), UNAUTHORIZED);
    assert_eq!(t.platform.objects.temp.units, "K");
}

#[test]
fn a_whole_object_read_shows_only_readable_instances() {
    let Some(mut t) = two_servers() else { return };
    t.platform.objects.temp.instances = vec![0, 1];
    t.acl(3303, 0, B, READ);
    t.client.access_control().set_owner(3303, 1, A).unwrap();
    let instances = |t: &mut Two, server| {
        let r = t.ask(server, get_as("/3303", 11542));
        assert_eq!(r.header.code, CONTENT);
        tlv_items(&r.payload)
            .into_iter()
            .map(|(_, iid, _)| iid)
            .collect::<Vec<_>>()
    };
    assert_eq!(instances(&mut t, SLOT_B), [0]);
    assert_eq!(instances(&mut t, SLOT_A), [1]);
    // Discover needs no right: it lists every instance.
    let mut discover = get("/3303");
    discover.add_option(CoapOption::Accept, 40u16.to_be_bytes().to_vec());
    let links = String::from_utf8(t.ask(SLOT_B, discover).payload).unwrap();
    assert!(
        links.contains("</3303/0>") && links.contains("</3303/1"),
        "{links}"
    );
}

#[test]
fn object_2_reads_in_senml_json() {
    let Some(mut t) = two_servers() else { return };
    t.acl(3, 0, 0, READ);
    t.acl(3, 0, B, READ | EXECUTE);
    t.client.access_control().set_owner(3, 0, A).unwrap();
    let r = t.ask(SLOT_B, get_as("/2/0", 110));
    assert_eq!(r.header.code, CONTENT);
    let records: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    let mut base = String::new();
    for rec in records.as_array().unwrap() {
        if let Some(bn) = rec["bn"].as_str() {
            base = bn.to_string();
        }
        let name = format!("{base}{}", rec["n"].as_str().unwrap_or(""));
        seen.insert(name, rec["v"].as_i64().unwrap());
    }
    let want: std::collections::BTreeMap<String, i64> = [
        ("/2/0/0", 3),
        ("/2/0/1", 0),
        ("/2/0/2/0", 1),
        ("/2/0/2/102", 5),
        ("/2/0/3", 101),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(seen, want);
    // Both servers reach /3/0 as the ACL says: B reads and executes, A (owner) everything.
    assert_eq!(t.code(SLOT_B, get("/3/0/0")), CONTENT);
    assert_eq!(t.code(SLOT_B, put_text("/3/0/13", "5")), UNAUTHORIZED);
    assert_eq!(t.code(SLOT_A, put_text("/3/0/13", "5")), CHANGED);
    // The Server object has no Access Control instance: nobody reaches it.
    assert_eq!(t.code(SLOT_A, get("/1/0")), UNAUTHORIZED);
}

#[test]
fn with_one_server_nothing_is_enforced() {
    let mut sim = quiet_registered_sim(5);
    // No ACL at all, yet every operation works.
    for (p, want) in [
        (get("/3303/0"), CONTENT),
        (put_text("/3303/0/5701", "F"), CHANGED),
        (post("/3303/0/5605", None, &[]), CHANGED),
        (post("/3303", None, &[]), CREATED),
        (delete("/3303/1"), DELETED),
        (get("/1/0"), CONTENT),
    ] {
        assert_eq!(exchange(&mut sim, p).0.header.code, want);
    }
    // An ACL that would refuse is not checked either, and object 2 shows it.
    sim.client.access_control().set(3303, 0, 0, 0).unwrap();
    sim.client.access_control().set_owner(3303, 0, 999).unwrap();
    assert_eq!(exchange(&mut sim, get("/3303/0")).0.header.code, CONTENT);
    let (r, _) = exchange(&mut sim, get_as("/2", 11542));
    assert_eq!(r.header.code, CONTENT);
    assert_eq!(acl_tlv(&r.payload), [(0, (3303, 0, 999, vec![(0, 0)]))]);
    // A Create by the single server adds no Access Control instance.
    assert_eq!(
        exchange(&mut sim, post("/3303", None, &[])).0.header.code,
        CREATED
    );
    assert_eq!(
        acl_tlv(&exchange(&mut sim, get_as("/2", 11542)).0.payload).len(),
        1
    );
}

#[cfg(feature = "blockwise")]
#[test]
fn block_wise_transfers_need_the_same_rights() {
    let Some(mut t) = two_servers() else { return };
    t.client.access_control().set_owner(3303, 0, A).unwrap();
    // Block2 (early negotiation on block 0): Read.
    let block2 = || {
        let mut p = get("/3303/0");
        p.add_option(CoapOption::Block2, vec![0x01]); // block 0, 32 bytes
        p
    };
    assert_eq!(t.code(SLOT_B, block2()), UNAUTHORIZED);
    t.acl(3303, 0, B, READ);
    let r = t.ask(SLOT_B, block2());
    assert_eq!(r.header.code, CONTENT);
    let v = r
        .get_option(CoapOption::Block2)
        .unwrap()
        .front()
        .unwrap()
        .clone();
    let x = v.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b));
    assert_eq!((x >> 4, x & 7), (0, 1), "block 0 of 32 bytes");
    // Block1: Write is checked before anything else (here the resource is a string, 4.13).
    let block1 = || {
        let mut p = request(RequestType::Put, "/3303/0/5701");
        p.add_option(CoapOption::Block1, vec![0x08]); // block 0, more, 16 bytes
        p.payload = vec![b'x'; 16];
        p
    };
    assert_eq!(t.code(SLOT_B, block1()), UNAUTHORIZED);
    t.acl(3303, 0, B, WRITE);
    assert_eq!(
        t.code(SLOT_B, block1()),
        MessageClass::Response(ResponseType::RequestEntityTooLarge)
    );
}

/// Block `num` (16 bytes, more to follow unless `last`) of a Block1 PUT to the blob object's
/// opaque resource.
fn block1_put(num: u8, last: bool) -> Packet {
    let mut p = request(RequestType::Put, &format!("/{BLOB_OID}/0/0"));
    p.add_option(CoapOption::ContentFormat, vec![42]);
    p.add_option(
        CoapOption::Block1,
        vec![(num << 4) | if last { 0 } else { 0x08 }],
    );
    p.payload = vec![num; 16];
    p
}

#[test]
fn one_block1_transfer_at_a_time_across_servers() {
    let Some(mut t) = two_servers() else { return };
    let log = std::rc::Rc::new(std::cell::RefCell::new(BlobLog::default()));
    t.platform
        .objects
        .extra
        .push(Box::new(Blob(std::rc::Rc::clone(&log))));
    t.acl(BLOB_OID, 0, A, WRITE);
    t.acl(BLOB_OID, 0, B, WRITE);
    let cont = MessageClass::Response(ResponseType::Continue);
    let incomplete = MessageClass::Response(ResponseType::RequestEntityIncomplete);
    assert_eq!(t.code(SLOT_A, block1_put(0, false)), cont);
    // Server B's block 1 does not continue A's transfer.
    assert_eq!(t.code(SLOT_B, block1_put(1, false)), incomplete);
    assert_eq!(t.code(SLOT_A, block1_put(1, false)), cont, "A's goes on");
    // B's block 0 starts over: A's next block is out of sequence.
    assert_eq!(t.code(SLOT_B, block1_put(0, false)), cont);
    assert_eq!(t.code(SLOT_A, block1_put(2, true)), incomplete);
    assert_eq!(t.code(SLOT_B, block1_put(1, true)), CHANGED);
    assert_eq!(
        log.borrow().blocks,
        [
            (0, 16, false),
            (16, 16, false),
            (0, 16, false),
            (16, 16, true)
        ],
        "only blocks in sequence reached the object"
    );
}
