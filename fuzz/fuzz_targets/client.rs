//! Feeds arbitrary datagrams to a registered client: the request path (Read, Write, Execute
//! arguments, Write-Attributes queries, Block1 and Block2, Create and Delete, composite
//! requests, the Server, Device, Access Control and Firmware Update objects) and the
//! response path (Update, De-register, the firmware download's Block2 transfer).
//!
//! Input: a configuration byte, then chunks of `[control, length, bytes...]`. The control
//! byte's low two bits pick what the chunk is:
//! 0: a raw datagram from the server; 1: the server's answer to the client's last request
//! to it (its message id and token are filled in: the first data byte gives the type, the
//! second the code, the rest raw options and payload, or with the top bit of the first
//! byte set a Block2 option from two bytes, Size2 and the payload);
//! 2: the same answer on the firmware download connection; 3: a server request built by
//! `build_request` from a compact description. The upper six bits advance the virtual
//! clock first.
//!
//! Checked: every datagram the client sends parses as CoAP and has a sane type and code;
//! a confirmable request gets an ACK with its message id (and, when it is not a duplicate,
//! its token and a response code); the firmware sink and the application's block-wise
//! writes see their bytes in order; after the client's output is drained, `poll_timeout`
//! is not in the past.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use tern::client::download::DOWNLOAD_SLOT;
use tern::client::{Client, Config, Event, Platform, ServerConfig, Version};
use tern::coap::{opt, Code, Message, MessageBuilder, MsgType};
use tern::model::{
    Connectivity, ConnectivityMonitoring, ConnectivityStatistics, Device, DeviceInfo, Firmware,
    FirmwareSink, Fix, Location, Object, Objects, Operations, PullSupport, ResourceDef,
    ResourceType, UpdateResult, Value, ValueSink,
};

/// The firmware slot: checks that the bytes arrive in order, without gaps.
#[derive(Default)]
struct Sink {
    received: Option<u32>,
}

impl FirmwareSink for Sink {
    fn open(&mut self) -> Result<(), UpdateResult> {
        self.received = Some(0);
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
        let got = self.received.expect("write before open");
        assert_eq!(offset, got, "firmware block out of order");
        self.received = Some(got + data.len() as u32);
        Ok(())
    }
    fn finish(&mut self, size: u32) -> Result<(), UpdateResult> {
        assert_eq!(Some(size), self.received, "finished with another size");
        self.received = None;
        Ok(())
    }
    fn cancel(&mut self) {
        self.received = None;
    }
}

const APP_OID: u16 = 3303;
const APP_RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(5700, ResourceType::Float, Operations::R, false),
    ResourceDef::new(5701, ResourceType::String, Operations::RW, false),
    ResourceDef::new(5605, ResourceType::None, Operations::E, false),
    ResourceDef::new(5800, ResourceType::Integer, Operations::RW, true),
    ResourceDef::new(5910, ResourceType::Opaque, Operations::RW, false),
];

/// A small application object: instances created and deleted by the server, a
/// multiple-instance integer resource, an opaque one written block by block.
#[derive(Clone, PartialEq, Debug)]
struct App {
    instances: Vec<u16>,
    units: String,
    history: Vec<(u16, i64)>,
    blob: Vec<u8>,
    /// The (instance, resource) and next offset of a block-wise write in progress.
    block: Option<(u16, u16, u32)>,
}

impl Object for App {
    fn id(&self) -> u16 {
        APP_OID
    }
    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        APP_RESOURCES.get(index).copied()
    }
    fn instance(&self, index: usize) -> Option<u16> {
        self.instances.get(index).copied()
    }
    fn create(&mut self, iid: u16) -> Result<(), Code> {
        assert!(!self.instances.contains(&iid), "created twice");
        if self.instances.len() >= 4 {
            return Err(Code::INTERNAL_SERVER_ERROR);
        }
        self.instances.push(iid);
        Ok(())
    }
    fn delete(&mut self, iid: u16) -> Result<(), Code> {
        assert!(self.instances.contains(&iid), "deleted a missing instance");
        self.instances.retain(|&i| i != iid);
        Ok(())
    }
    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        if !self.instances.contains(&iid) {
            return Err(Code::NOT_FOUND);
        }
        match rid {
            5700 => out.value(None, &Value::Float(21.5)),
            5701 => out.value(None, &Value::String(&self.units)),
            5800 => {
                for (i, v) in &self.history {
                    out.value(Some(*i), &Value::Integer(*v))?;
                }
                Ok(())
            }
            5910 => out.value(None, &Value::Opaque(&self.blob)),
            5605 => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }
    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        if !self.instances.contains(&iid) {
            return Err(Code::NOT_FOUND);
        }
        match (rid, riid, value) {
            (5701, None, Value::String(s)) if s.len() <= 16 => self.units = s.to_string(),
            (5800, Some(ri), Value::Integer(v)) => {
                self.history.retain(|(i, _)| *i != ri);
                self.history.push((ri, *v));
            }
            (5910, None, Value::Opaque(b)) => self.blob = b.to_vec(),
            // A single value may come without a `check` first.
            (5701 | 5800 | 5910, _, _) => return Err(Code::BAD_REQUEST),
            _ => return Err(Code::METHOD_NOT_ALLOWED),
        }
        Ok(())
    }
    fn check(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        if !self.instances.contains(&iid) {
            return Err(Code::NOT_FOUND);
        }
        match (rid, riid, value) {
            (5701, None, Value::String(s)) if s.len() <= 16 => Ok(()),
            (5800, Some(_), Value::Integer(_)) | (5910, None, Value::Opaque(_)) => Ok(()),
            (5701 | 5800 | 5910, _, _) => Err(Code::BAD_REQUEST),
            _ => Err(Code::METHOD_NOT_ALLOWED),
        }
    }
    fn clear_resource(&mut self, iid: u16, rid: u16) -> Result<(), Code> {
        match (self.instances.contains(&iid), rid) {
            (true, 5800) => {
                self.history.clear();
                Ok(())
            }
            (true, _) => Err(Code::BAD_REQUEST),
            _ => Err(Code::NOT_FOUND),
        }
    }
    fn execute(&mut self, iid: u16, rid: u16, _args: &[u8]) -> Result<(), Code> {
        match (self.instances.contains(&iid), rid) {
            (true, 5605) => Ok(()),
            (true, _) => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }
    fn write_block(
        &mut self,
        iid: u16,
        rid: u16,
        offset: u32,
        data: &[u8],
        last: bool,
    ) -> Result<(), Code> {
        if !self.instances.contains(&iid) {
            return Err(Code::NOT_FOUND);
        }
        if rid != 5910 {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        if offset == 0 {
            self.blob.clear();
        } else {
            assert_eq!(
                self.block,
                Some((iid, rid, offset)),
                "block-wise write out of order"
            );
        }
        if self.blob.len() + data.len() > 4096 {
            self.block = None;
            return Err(Code::REQUEST_ENTITY_TOO_LARGE);
        }
        self.blob.extend_from_slice(data);
        self.block = (!last).then_some((iid, rid, offset + data.len() as u32));
        Ok(())
    }
}

struct Objs {
    device: Device<'static>,
    fw: Firmware<'static, Sink>,
    conn: ConnectivityMonitoring<'static>,
    loc: Location,
    stats: ConnectivityStatistics,
    app: App,
}

impl Objects for Objs {
    fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
        match index {
            0 => Some(&mut self.device),
            1 => Some(&mut self.fw),
            2 => Some(&mut self.conn),
            3 => Some(&mut self.loc),
            4 => Some(&mut self.stats),
            5 => Some(&mut self.app),
            _ => None,
        }
    }
}

struct Plat {
    rng: u64,
    objs: Objs,
}

impl Platform for Plat {
    fn random(&mut self, out: &mut [u8]) {
        for b in out {
            // splitmix64: the same bytes for the same input.
            self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *b = (z ^ (z >> 31)) as u8;
        }
    }
    fn objects(&mut self) -> &mut dyn Objects {
        &mut self.objs
    }
    fn download_failed(&mut self, result: UpdateResult) {
        self.objs.fw.download_failed(result);
    }
}

fn platform() -> Plat {
    let mut conn = ConnectivityMonitoring::new();
    conn.set(Connectivity {
        network_bearer: 41,
        available_bearers: &[41, 21],
        radio_signal_strength: -70,
        link_quality: None,
        ip_addresses: &["192.0.2.7", "2001:db8::7"],
        router_ip_addresses: &[],
        link_utilization: Some(12),
        apns: &[],
        cell_id: Some(0x1234),
        smnc: None,
        smcc: Some(262),
    });
    let mut loc = Location::new();
    loc.set(
        Fix {
            latitude: 48.1,
            longitude: 11.5,
            altitude: Some(520.0),
            radius: None,
            timestamp: 1_700_000_000,
            speed: None,
        },
        &[],
    );
    Plat {
        rng: 0x7E27,
        objs: Objs {
            device: Device::new(DeviceInfo {
                manufacturer: "tern project",
                model: "fuzz",
                serial: "0001",
                firmware_version: "0.1.0",
            }),
            fw: Firmware::new(Sink::default(), PullSupport::CoapAndCoaps),
            conn,
            loc,
            stats: ConnectivityStatistics::new(),
            app: App {
                instances: vec![0],
                units: "Cel".into(),
                history: vec![(0, 20), (1, 21)],
                blob: Vec::new(),
                block: None,
            },
        },
    }
}

/// The harness: the client, its platform, the clock and what it last asked for.
struct Run {
    client: Client,
    plat: Plat,
    now: u64,
    /// Message id and token of the client's last request per connection (0: the server,
    /// 1: the download).
    last_request: [Option<(u16, Vec<u8>)>; 2],
    /// When each confirmable request's message id was last seen (to tell duplicates).
    seen: HashMap<u16, u64>,
    events: usize,
    /// Message id of the last request `build_request` made.
    next_mid: u16,
}

/// What the client sent while one datagram was handled.
struct Sent {
    datagrams: Vec<(u8, Vec<u8>)>,
}

impl Run {
    /// Sends everything the client has, handles its events; bounded.
    fn drain(&mut self, sent: &mut Sent) {
        for _round in 0..8 {
            let mut busy = false;
            for _ in 0..32 {
                let Some(t) = self.client.poll_transmit(self.now, &mut self.plat) else {
                    break;
                };
                busy = true;
                let (server, data) = (t.server, t.data.to_vec());
                if debug() {
                    eprintln!("t={} out {server}: {:02x?}", self.now, data);
                }
                self.check_sent(server, &data);
                self.plat.objs.stats.sent(data.len(), self.now);
                sent.datagrams.push((server, data));
            }
            for _ in 0..64 {
                let Some(e) = self.client.poll_event() else {
                    break;
                };
                busy = true;
                self.events += 1;
                match e {
                    Event::ConnectionNeeded { server } => {
                        assert!(usize::from(server) < self.client.servers().len());
                        self.client.connection_opened(server);
                    }
                    Event::DownloadConnectionNeeded => {
                        // None once the download stopped again before this event.
                        let empty = self.client.download_uri(&mut self.plat, str::is_empty);
                        assert_ne!(empty, Some(true));
                        self.client.download_connection_opened();
                    }
                    Event::Dropped { server, .. } => {
                        assert!(server <= DOWNLOAD_SLOT);
                    }
                    Event::DownloadProgress { received, total } => {
                        assert!(total == 0 || received <= total, "{received} of {total}");
                    }
                    _ => {}
                }
            }
            // The application side of the objects.
            let _ = self.plat.objs.device.take_reboot_request();
            let _ = self.plat.objs.device.take_factory_reset_request();
            if self.plat.objs.fw.take_update_request() {
                self.plat.objs.fw.update_done(UpdateResult::Success);
            }
            if self.plat.objs.fw.take_change().is_some() {
                self.client.firmware_changed(&mut self.plat);
                busy = true;
            }
            if !busy {
                break;
            }
        }
        if let Some(t) = self.client.poll_timeout() {
            // Everything due was just done: a deadline still in the past would make the
            // application spin.
            assert!(
                t > self.now
                    || self
                        .client
                        .poll_transmit(self.now, &mut self.plat)
                        .is_some(),
                "poll_timeout {t} in the past at {} with nothing to send",
                self.now
            );
        }
    }

    fn check_sent(&mut self, server: u8, data: &[u8]) {
        assert!(
            server == 0 || server == DOWNLOAD_SLOT,
            "sent on slot {server}"
        );
        let m = Message::parse(data).expect("the client sent a datagram that does not parse");
        let code = m.code();
        match code.class() {
            0 if code == Code::EMPTY => {
                assert!(matches!(m.mtype(), MsgType::Ack | MsgType::Rst));
                assert!(m.token().is_empty() && m.payload().is_empty());
            }
            0 => {
                assert!(matches!(
                    code,
                    Code::GET | Code::POST | Code::PUT | Code::DELETE
                ));
                assert!(matches!(m.mtype(), MsgType::Con | MsgType::Non));
                let slot = usize::from(server == DOWNLOAD_SLOT);
                self.last_request[slot] = Some((m.message_id(), m.token().to_vec()));
            }
            2 | 4 | 5 => assert!(m.mtype() != MsgType::Rst),
            c => panic!("sent code class {c}"),
        }
        assert!(data.len() <= tern::config::MAX_MESSAGE_SIZE);
    }

    fn step(&mut self, control: u8, data: &[u8]) {
        let adv = u64::from(control >> 2);
        self.now += if adv < 48 {
            adv * 250
        } else {
            (adv - 47) * 30_000
        };
        self.plat.objs.device.set_uptime_ms(self.now);
        let mut sent = Sent {
            datagrams: Vec::new(),
        };
        // The timers that came due first.
        self.drain(&mut sent);
        sent.datagrams.clear();

        let (slot, answer) = match control & 3 {
            0 => (0u8, false),
            1 => (0, true),
            2 => (DOWNLOAD_SLOT, true),
            _ => (0, false),
        };
        let mut buf = [0u8; 300];
        let datagram: &[u8] = if control & 3 == 3 {
            self.next_mid = self.next_mid.wrapping_add(1);
            let Some(n) = build_request(&mut buf, self.next_mid, data) else {
                return;
            };
            &buf[..n]
        } else if answer {
            let last = &self.last_request[usize::from(slot == DOWNLOAD_SLOT)];
            let Some((mid, token)) = last.clone() else {
                return;
            };
            let mtype = match data.first().map(|b| b >> 4 & 3) {
                Some(0) => MsgType::Con,
                Some(1) => MsgType::Non,
                Some(3) => MsgType::Rst,
                _ => MsgType::Ack,
            };
            let code = Code(data.get(1).copied().unwrap_or(0x41));
            let Ok(mut b) = MessageBuilder::new(&mut buf, mtype, code, mid, &token) else {
                return;
            };
            let end = match data {
                [t, _, h, l, payload @ ..] if t & 0x80 != 0 => {
                    // A Block2 response: the option from two bytes, then the payload.
                    let v = u32::from(u16::from_be_bytes([*h, *l]));
                    let _ = b.option_uint(opt::BLOCK2, v);
                    if t & 0x40 != 0 {
                        let _ = b.option_uint(opt::SIZE2, 4096);
                    }
                    if !payload.is_empty() {
                        let _ = b.payload(payload);
                    }
                    b.finish()
                }
                _ => {
                    let head = b.len();
                    let rest = data.get(2..).unwrap_or(&[]);
                    let end = head + rest.len();
                    buf[head..end].copy_from_slice(rest);
                    end
                }
            };
            &buf[..end]
        } else {
            data
        };

        let disabled = self.client.servers().first().is_some_and(|s| {
            matches!(
                s.reg.phase,
                tern::client::registration::Phase::Disabled { .. }
            )
        });
        // A confirmable request, and whether its message id is new: the client remembers
        // the ids of the server's CON and NON messages, requests and responses alike.
        let mut request = None;
        if let (Ok(m), 0, false) = (Message::parse(datagram), slot, disabled) {
            if matches!(m.mtype(), MsgType::Con | MsgType::Non) {
                let mid = m.message_id();
                let fresh = self
                    .seen
                    .insert(mid, self.now)
                    .map_or(true, |at| self.now.saturating_sub(at) > 300_000);
                if m.code().is_request() && m.mtype() == MsgType::Con {
                    request = Some((mid, m.token().to_vec(), fresh));
                }
            }
        }
        self.plat.objs.stats.received(datagram.len(), self.now);
        if debug() {
            eprintln!("t={} slot={slot} in: {:02x?}", self.now, datagram);
        }
        let before = self.plat.objs.app.clone();
        let block1 = Message::parse(datagram).is_ok_and(|m| m.option(opt::BLOCK1).is_some());
        self.client
            .handle_datagram(slot, datagram, self.now, &mut self.plat);
        self.drain(&mut sent);

        if let Some((mid, token, fresh)) = request {
            let acks: Vec<Message<'_>> = sent
                .datagrams
                .iter()
                .filter(|(s, _)| *s == 0)
                .filter_map(|(_, d)| Message::parse(d).ok())
                .filter(|m| m.mtype() == MsgType::Ack)
                .collect();
            for a in &acks {
                assert_eq!(a.message_id(), mid, "ACK with another message id");
            }
            if fresh {
                let a = acks.first().expect("a confirmable request got no ACK");
                assert_eq!(a.token(), &token[..], "response with another token");
                assert!(
                    matches!(a.code().class(), 2 | 4 | 5),
                    "answered with {:?}",
                    a.code()
                );
                if matches!(a.code().class(), 4 | 5) && !block1 {
                    // A failed request changes nothing (block-wise writes stream their
                    // blocks to the object as they come).
                    let mut after = self.plat.objs.app.clone();
                    after.block = before.block;
                    assert_eq!(after, before, "a failed request changed the object");
                }
                if a.code() == Code::CONTINUE {
                    assert!(a.option(opt::BLOCK1).is_some(), "2.31 without Block1");
                }
            }
        }
    }
}

const METHODS: [Code; 8] = [
    Code::GET,
    Code::POST,
    Code::PUT,
    Code::DELETE,
    Code::FETCH,
    Code::IPATCH,
    Code::GET,
    Code::PUT,
];
const OIDS: [u16; 10] = [0, 1, 2, 3, 4, 5, 6, 7, APP_OID, 9];
const RIDS: [u16; 5] = [5700, 5701, 5605, 5800, 5910];
/// text, opaque, link, TLV, SenML JSON, SenML CBOR, LwM2M CBOR, JSON, CBOR, LwM2M JSON.
const FORMATS: [u16; 10] = [0, 42, 40, 11542, 110, 112, 11544, 50, 60, 11543];

/// A server request from a compact description, so that the fuzzer reaches the objects
/// without guessing the CoAP encoding of a path:
/// `[method/type/segments, segment..., flags, option bytes..., payload...]`. Segment
/// bytes: the first picks an object id, later ones an id below 128 or (top bit) one of
/// the application object's resources. Flags: Content-Format, Accept, Observe, Block2,
/// Block1 (each takes its bytes in option order), then 0 to 3 Uri-Query options
/// (a length byte and the text each).
fn build_request(buf: &mut [u8], mid: u16, data: &[u8]) -> Option<usize> {
    let mut it = data.iter().copied();
    let d0 = it.next()?;
    let method = METHODS[usize::from(d0 & 7)];
    let mtype = if d0 & 8 != 0 {
        MsgType::Non
    } else {
        MsgType::Con
    };
    let mut path = Vec::new();
    for i in 0..(d0 >> 4 & 7).min(4) {
        let b = it.next()?;
        path.push(match (i, b) {
            (0, _) => OIDS[usize::from(b) % OIDS.len()],
            (_, 0x80..) => RIDS[usize::from(b) % RIDS.len()],
            _ => u16::from(b),
        });
    }
    let flags = it.next().unwrap_or(0);
    let mut byte = |on: bool| if on { it.next() } else { None };
    let observe = byte(flags & 4 != 0);
    let format = byte(flags & 1 != 0);
    let mut queries = Vec::new();
    for _ in 0..(flags >> 5 & 3) {
        let len = usize::from(it.next()? & 31);
        let q: Vec<u8> = it.by_ref().take(len).collect();
        queries.push(q);
    }
    let mut byte = |on: bool| if on { it.next() } else { None };
    let accept = byte(flags & 2 != 0);
    let block2 = byte(flags & 8 != 0).zip(byte(flags & 8 != 0));
    let block1 = byte(flags & 16 != 0).zip(byte(flags & 16 != 0));
    let mut payload: Vec<u8> = Vec::new();
    if flags & 0x80 != 0 {
        // A Package URI (or any other URI) prefix.
        payload.extend_from_slice(b"coap://192.0.2.9:5683/");
    }
    payload.extend(it);

    let token = mid.to_be_bytes();
    let mut b = MessageBuilder::new(buf, mtype, method, mid, &token).ok()?;
    if let Some(o) = observe {
        b.option_uint(opt::OBSERVE, u32::from(o & 1)).ok()?;
    }
    for seg in &path {
        b.option_str(opt::URI_PATH, &seg.to_string()).ok()?;
    }
    if let Some(f) = format {
        let cf = FORMATS[usize::from(f) % FORMATS.len()];
        b.option_uint(opt::CONTENT_FORMAT, u32::from(cf)).ok()?;
    }
    for q in &queries {
        b.option(opt::URI_QUERY, q).ok()?;
    }
    if let Some(a) = accept {
        let cf = FORMATS[usize::from(a) % FORMATS.len()];
        b.option_uint(opt::ACCEPT, u32::from(cf)).ok()?;
    }
    if let Some((h, l)) = block2 {
        b.option_uint(opt::BLOCK2, u32::from(u16::from_be_bytes([h, l])))
            .ok()?;
    }
    if let Some((h, l)) = block1 {
        b.option_uint(opt::BLOCK1, u32::from(u16::from_be_bytes([h, l])))
            .ok()?;
    }
    if !payload.is_empty() {
        b.payload(&payload).ok()?;
    }
    Some(b.finish())
}

/// Set `TERN_FUZZ_DEBUG` to print the datagrams (replaying a crash).
fn debug() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("TERN_FUZZ_DEBUG").is_some())
}

fuzz_target!(|input: &[u8]| {
    let Some((&cfg, mut rest)) = input.split_first() else {
        return;
    };
    let servers = [ServerConfig {
        uri: "coap://192.0.2.1:5683",
        short_id: 101,
        lifetime_s: [60, 300, 86_400, 30][usize::from(cfg & 3)],
    }];
    let config = Config {
        endpoint: "tern-fuzz",
        version: if cfg & 4 != 0 {
            Version::V1_0
        } else {
            Version::V1_1
        },
        update_margin_s: 10,
        servers: &servers,
    };
    let mut run = Run {
        client: Client::new(&config, 0x1234).expect("valid configuration"),
        plat: platform(),
        now: 1_000,
        last_request: [None, None],
        seen: HashMap::new(),
        events: 0,
        next_mid: 0x8000,
    };

    // Register, answered with 2.01 and a Location-Path.
    let mut sent = Sent {
        datagrams: Vec::new(),
    };
    run.drain(&mut sent);
    let (mid, token) = run.last_request[0].clone().expect("a Register");
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Ack, Code::CREATED, mid, &token).unwrap();
    b.option(opt::LOCATION_PATH, b"rd").unwrap();
    b.option(opt::LOCATION_PATH, b"a1b2").unwrap();
    let n = b.finish();
    run.client
        .handle_datagram(0, &buf[..n], run.now, &mut run.plat);
    run.drain(&mut sent);
    assert!(
        run.client.servers()[0].reg.is_registered(),
        "not registered"
    );

    for _ in 0..64 {
        let [control, len, tail @ ..] = rest else {
            break;
        };
        let len = usize::from(*len).min(tail.len());
        let (data, next) = tail.split_at(len);
        run.step(*control, data);
        rest = next;
    }
});
