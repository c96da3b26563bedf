//! Deterministic simulation of the sans-IO client against a scripted LwM2M server.
//!
//! No sockets, no threads, no wall clock: time is a `u64` of virtual milliseconds, the
//! network is a queue of datagrams with delivery times, and every random choice (loss,
//! duplication, reordering, delay, the client's random bytes, the server's retransmission
//! jitter) comes from seeded splitmix64 streams. The same seed gives the same run, byte for
//! byte; [`Sim::trace`] records every datagram so that a test can compare two runs.
//!
//! The run loop advances virtual time to the earliest of the client's `poll_timeout`, the
//! next network delivery and the server's next timer, delivers, drains `poll_transmit` and
//! collects events, bounded by a step count and by the time limit the test gives.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};

use coap_lite::option_value::OptionValueU16;
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};

use tern::client::{Client, Config, Event, Platform, ServerConfig, Version};
use tern::coap::Code;
use tern::model::{
    Connectivity, ConnectivityMonitoring, ConnectivityStatistics, Device, DeviceInfo, Location,
    Object, Objects, Operations, ResourceDef, ResourceType, Value, ValueSink,
};

/// The endpoint name every simulated client uses.
pub const EP: &str = "tern-sim-1";
/// The server URI (never resolved: the simulated network has one server).
pub const SERVER_URI: &str = "coap://192.0.2.1:5683";
/// Manufacturer text of the simulated device (`/3/0/0`).
pub const MANUFACTURER: &str = "tern project";

// ---------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------

/// splitmix64: the same sequence on every platform and toolchain.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `p` percent; always draws one value.
    pub fn percent(&mut self, p: u8) -> bool {
        self.below(100) < u64::from(p)
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Platform and objects
// ---------------------------------------------------------------------------------------

/// A temperature sensor (IPSO 3303, announced as version 1.1), instance 0:
/// 5700 Sensor Value (float, R), 5701 Sensor Units (string, RW), 5605 Reset Min/Max
/// (execute, counted), 5900 Sample Interval (integer, RW), 5800 History (integer, RW,
/// multiple instances 0..3).
pub struct Temperature {
    pub value: f64,
    pub units: String,
    pub interval: i64,
    pub history: std::collections::BTreeMap<u16, i64>,
    pub executions: u32,
    pub writes: u32,
    /// Instance ids; a server's Create and Delete change them (every instance shares the
    /// values above).
    pub instances: Vec<u16>,
}

impl Default for Temperature {
    fn default() -> Self {
        Temperature {
            value: 21.5,
            units: "Cel".into(),
            interval: 60,
            history: [(0, 20), (1, 21), (2, 22)].into(),
            executions: 0,
            writes: 0,
            instances: vec![0],
        }
    }
}

pub const TEMP_OID: u16 = 3303;

const TEMP_RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(5700, ResourceType::Float, Operations::R, false),
    ResourceDef::new(5701, ResourceType::String, Operations::RW, false),
    ResourceDef::new(5605, ResourceType::None, Operations::E, false),
    ResourceDef::new(5800, ResourceType::Integer, Operations::RW, true),
    ResourceDef::new(5900, ResourceType::Integer, Operations::RW, false),
];

impl Object for Temperature {
    fn id(&self) -> u16 {
        TEMP_OID
    }

    fn version(&self) -> (u8, u8) {
        (1, 1)
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        TEMP_RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        self.instances.get(index).copied()
    }

    fn create(&mut self, iid: u16) -> Result<(), Code> {
        self.instances.push(iid);
        Ok(())
    }

    fn delete(&mut self, iid: u16) -> Result<(), Code> {
        self.instances.retain(|&i| i != iid);
        Ok(())
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        if !self.instances.contains(&iid) {
            return Err(Code::NOT_FOUND);
        }
        match rid {
            5700 => out.value(None, &Value::Float(self.value)),
            5701 => out.value(None, &Value::String(&self.units)),
            5800 => {
                for (i, v) in &self.history {
                    out.value(Some(*i), &Value::Integer(*v))?;
                }
                Ok(())
            }
            5900 => out.value(None, &Value::Integer(self.interval)),
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
        self.writes += 1;
        match (rid, riid, value) {
            (5701, None, Value::String(s)) => self.units = s.to_string(),
            (5900, None, Value::Integer(i)) => self.interval = *i,
            (5800, Some(ri), Value::Integer(v)) => {
                self.history.insert(ri, *v);
            }
            (5701 | 5800 | 5900, _, _) => return Err(Code::BAD_REQUEST),
            _ => return Err(Code::METHOD_NOT_ALLOWED),
        }
        Ok(())
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
            (true, 5605) => {
                self.executions += 1;
                Ok(())
            }
            (true, _) => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }
}

/// The application objects: Device (3) and the temperature sensor (3303), then the
/// optional standard objects a test adds (4, 6, 7; none by default), then whatever else a
/// test adds (none by default, so that the registered object list stays the same). The
/// simulation counts its datagrams into `statistics` when there is one.
pub struct TestObjects {
    pub device: Device<'static>,
    pub temp: Temperature,
    pub connectivity: Option<ConnectivityMonitoring<'static>>,
    pub location: Option<Location>,
    pub statistics: Option<ConnectivityStatistics>,
    pub extra: Vec<Box<dyn Object>>,
}

impl Objects for TestObjects {
    fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
        let mut list: Vec<&mut dyn Object> = vec![&mut self.device, &mut self.temp];
        if let Some(o) = self.connectivity.as_mut() {
            list.push(o);
        }
        if let Some(o) = self.location.as_mut() {
            list.push(o);
        }
        if let Some(o) = self.statistics.as_mut() {
            list.push(o);
        }
        for o in self.extra.iter_mut() {
            list.push(&mut **o);
        }
        list.into_iter().nth(index)
    }
}

impl TestObjects {
    /// Counts a datagram the client sent (`sent`) or received into `statistics`.
    pub fn count(&mut self, sent: bool, len: usize, now: u64) {
        if let Some(s) = self.statistics.as_mut() {
            if sent {
                s.sent(len, now);
            } else {
                s.received(len, now);
            }
        }
    }
}

/// Connectivity values for tests: Ethernet, -70 dBm, two addresses, cell 0x1234 with no
/// link quality.
pub fn test_connectivity() -> Connectivity<'static> {
    Connectivity {
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
    }
}

/// Deterministic random bytes and the test objects.
pub struct TestPlatform {
    pub rng: Rng,
    pub objects: TestObjects,
}

impl TestPlatform {
    pub fn new(seed: u64) -> Self {
        TestPlatform {
            rng: Rng(seed ^ 0xC11E_0000_0000_0000),
            objects: TestObjects {
                device: Device::new(DeviceInfo {
                    manufacturer: MANUFACTURER,
                    model: "sim-1",
                    serial: "0001",
                    firmware_version: "0.1.0",
                }),
                temp: Temperature::default(),
                connectivity: None,
                location: None,
                statistics: None,
                extra: Vec::new(),
            },
        }
    }
}

impl Platform for TestPlatform {
    fn random(&mut self, out: &mut [u8]) {
        self.rng.fill(out);
    }

    fn objects(&mut self) -> &mut dyn Objects {
        &mut self.objects
    }
}

/// A client for [`SERVER_URI`] registering as [`EP`].
pub fn new_client(lifetime_s: u32, margin_s: u32, seed: u16) -> Client {
    new_client_version(lifetime_s, margin_s, seed, Version::V1_1)
}

/// [`new_client`] registering with LwM2M `version`.
pub fn new_client_version(lifetime_s: u32, margin_s: u32, seed: u16, version: Version) -> Client {
    let servers = [ServerConfig {
        uri: SERVER_URI,
        short_id: 101,
        lifetime_s,
    }];
    let config = Config {
        endpoint: EP,
        version,
        update_margin_s: margin_s,
        servers: &servers,
    };
    Client::new(&config, seed).expect("valid client configuration")
}

/// A client for two servers: [`SERVER_URI`] (short id 101, slot 0) and 192.0.2.2 (102,
/// slot 1). `None`, with a note, in a build for a single server (`TERN_MAX_SERVERS` 1).
#[allow(dead_code)]
pub fn two_server_client(lifetime_s: u32, margin_s: u32, seed: u16) -> Option<Client> {
    if tern::config::MAX_SERVERS < 2 {
        eprintln!("TERN_MAX_SERVERS is 1: the two-server checks need TERN_MAX_SERVERS=2");
        return None;
    }
    let servers = [
        ServerConfig {
            uri: SERVER_URI,
            short_id: 101,
            lifetime_s,
        },
        ServerConfig {
            uri: "coap://192.0.2.2:5683",
            short_id: 102,
            lifetime_s,
        },
    ];
    let config = Config {
        endpoint: EP,
        version: Version::V1_1,
        update_margin_s: margin_s,
        servers: &servers,
    };
    Some(Client::new(&config, seed).expect("two servers fit"))
}

// ---------------------------------------------------------------------------------------
// CoAP helpers (coap-lite: an independent codec)
// ---------------------------------------------------------------------------------------

pub fn parse(bytes: &[u8]) -> Option<Packet> {
    Packet::from_bytes(bytes).ok()
}

pub fn options(p: &Packet, o: CoapOption) -> Vec<String> {
    p.get_option(o)
        .map(|l| {
            l.iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub fn uri_path(p: &Packet) -> Vec<String> {
    options(p, CoapOption::UriPath)
}

pub fn uri_query(p: &Packet) -> Vec<String> {
    options(p, CoapOption::UriQuery)
}

pub fn content_format(p: &Packet) -> Option<u16> {
    p.get_first_option_as::<OptionValueU16>(CoapOption::ContentFormat)
        .and_then(|r| r.ok())
        .map(|v| v.0)
}

pub fn raw_code(p: &Packet) -> u8 {
    p.header.code.into()
}

/// `class.detail` of a code byte, e.g. `"2.05"`.
pub fn code_str(raw: u8) -> String {
    format!("{}.{:02}", raw >> 5, raw & 0x1F)
}

pub fn is_request(p: &Packet, method: RequestType) -> bool {
    p.header.code == MessageClass::Request(method)
}

/// True for a Register (`POST /rd`).
pub fn is_register(bytes: &[u8]) -> bool {
    parse(bytes).is_some_and(|p| is_request(&p, RequestType::Post) && uri_path(&p) == ["rd"])
}

/// True for an Update (`POST` to a location other than `/rd`).
pub fn is_update(bytes: &[u8]) -> bool {
    parse(bytes).is_some_and(|p| {
        is_request(&p, RequestType::Post) && uri_path(&p) != ["rd"] && !uri_path(&p).is_empty()
    })
}

pub fn is_deregister(bytes: &[u8]) -> bool {
    parse(bytes).is_some_and(|p| is_request(&p, RequestType::Delete))
}

/// An empty message (code 0.00, no token): an empty ACK, a RST or a ping.
pub fn empty_message(ty: MessageType, mid: u16) -> Vec<u8> {
    let mut p = Packet::new();
    p.header.set_type(ty);
    p.header.code = MessageClass::Empty;
    p.header.message_id = mid;
    p.to_bytes().expect("empty message encodes")
}

/// A request packet of the server's: CON, the method and path; the caller sets the rest.
pub fn request(method: RequestType, path: &str) -> Packet {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(method);
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
    }
    p
}

// ---------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------

/// Direction of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

/// Impairment, applied to each datagram in both directions.
#[derive(Clone, Debug)]
pub struct NetConfig {
    pub loss_pct: u8,
    pub dup_pct: u8,
    /// Percentage of copies given an extra delay of up to `reorder_extra_ms`.
    pub reorder_pct: u8,
    pub delay_min_ms: u64,
    pub delay_max_ms: u64,
    pub reorder_extra_ms: u64,
}

impl NetConfig {
    /// A perfect network with a fixed one-way delay.
    pub fn clean(delay_ms: u64) -> Self {
        NetConfig {
            loss_pct: 0,
            dup_pct: 0,
            reorder_pct: 0,
            delay_min_ms: delay_ms,
            delay_max_ms: delay_ms,
            reorder_extra_ms: 0,
        }
    }

    pub fn lossy(loss_pct: u8, dup_pct: u8, reorder_pct: u8) -> Self {
        NetConfig {
            loss_pct,
            dup_pct,
            reorder_pct,
            delay_min_ms: 5,
            delay_max_ms: 200,
            reorder_extra_ms: 1500,
        }
    }
}

/// What happened to a datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Handed to the network.
    Sent,
    /// Lost (randomly or by the test's filter).
    Lost,
    /// Arrived at the other end.
    Delivered,
}

/// One line of the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub at: u64,
    pub dir: Dir,
    pub fate: Fate,
    pub bytes: Vec<u8>,
}

struct InFlight {
    at: u64,
    seq: u64,
    dir: Dir,
    bytes: Vec<u8>,
}

/// Decides per datagram whether a test wants it lost: `(direction, bytes, now) -> lose`.
pub type Filter = Box<dyn FnMut(Dir, &[u8], u64) -> bool>;

pub struct Net {
    pub config: NetConfig,
    rng: Rng,
    seq: u64,
    queue: Vec<InFlight>,
    pub filter: Option<Filter>,
}

impl Net {
    fn new(config: NetConfig, seed: u64) -> Self {
        Net {
            config,
            rng: Rng(seed ^ 0x4E37_0000_0000_0000),
            seq: 0,
            queue: Vec::new(),
            filter: None,
        }
    }

    fn send(&mut self, now: u64, dir: Dir, bytes: Vec<u8>, trace: &mut Vec<Record>) {
        trace.push(Record {
            at: now,
            dir,
            fate: Fate::Sent,
            bytes: bytes.clone(),
        });
        let c = self.config.clone();
        // Always draw the same number of values per datagram.
        let lost = self.rng.percent(c.loss_pct);
        let dup = self.rng.percent(c.dup_pct);
        let filtered = self.filter.as_mut().is_some_and(|f| f(dir, &bytes, now));
        if lost || filtered {
            trace.push(Record {
                at: now,
                dir,
                fate: Fate::Lost,
                bytes,
            });
            return;
        }
        for _ in 0..if dup { 2 } else { 1 } {
            let span = c.delay_max_ms.saturating_sub(c.delay_min_ms) + 1;
            let mut delay = c.delay_min_ms + self.rng.below(span);
            if self.rng.percent(c.reorder_pct) {
                delay += self.rng.below(c.reorder_extra_ms + 1);
            }
            self.seq += 1;
            self.queue.push(InFlight {
                at: now + delay,
                seq: self.seq,
                dir,
                bytes: bytes.clone(),
            });
        }
    }

    fn next_at(&self) -> Option<u64> {
        self.queue.iter().map(|d| d.at).min()
    }

    fn pop_due(&mut self, now: u64) -> Option<InFlight> {
        let i = self
            .queue
            .iter()
            .enumerate()
            .filter(|(_, d)| d.at <= now)
            .min_by_key(|(_, d)| (d.at, d.seq))
            .map(|(i, _)| i)?;
        Some(self.queue.swap_remove(i))
    }

    /// Datagrams still in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }
}

// ---------------------------------------------------------------------------------------
// Scripted LwM2M server
// ---------------------------------------------------------------------------------------

/// How the scripted server answers registration requests.
#[derive(Clone, Debug)]
pub struct Behavior {
    /// Code for Register (2.01 registers).
    pub register_code: ResponseType,
    /// Answer Register with an empty ACK and send the 2.01 as a CON after `separate_delay_ms`.
    pub register_separate: bool,
    pub separate_delay_ms: u64,
    /// Send the location as one Location-Path option `rd/N` instead of `rd`, `N`.
    pub location_one_option: bool,
    /// Codes for the next Updates (popped one per new Update), 2.04 when empty.
    pub update_codes: VecDeque<ResponseType>,
    /// Codes for the next Sends to `/dp` (popped one per new Send), 2.04 when empty.
    pub send_codes: VecDeque<ResponseType>,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            register_code: ResponseType::Created,
            register_separate: false,
            separate_delay_ms: 5_000,
            location_one_option: false,
            update_codes: VecDeque::new(),
            send_codes: VecDeque::new(),
        }
    }
}

/// What the server did, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerLog {
    Registered {
        at: u64,
        id: u32,
        query: Vec<String>,
        payload: String,
    },
    RegisterRefused {
        at: u64,
        code: u8,
    },
    Updated {
        at: u64,
        id: u32,
        query: Vec<String>,
        payload: String,
    },
    UpdateRefused {
        at: u64,
        path: Vec<String>,
        code: u8,
    },
    Deregistered {
        at: u64,
        id: u32,
    },
    /// A retransmitted or duplicated CON from the client, answered from the cache.
    Duplicate {
        at: u64,
        mid: u16,
    },
}

/// The registration as the server holds it.
#[derive(Clone, Debug)]
pub struct ServerReg {
    pub id: u32,
    pub lifetime_s: u32,
    pub last_refresh: u64,
}

/// A request of the server's own, and what came of it.
#[derive(Clone, Debug)]
pub struct Op {
    pub mid: u16,
    pub token: Vec<u8>,
    pub request: Vec<u8>,
    pub sent_at: Option<u64>,
    pub response: Option<Packet>,
    pub response_at: Option<u64>,
    pub failed: bool,
}

struct OutExchange {
    /// Index into `ops`, or `None` for a separate response.
    op: Option<usize>,
    bytes: Vec<u8>,
    mid: u16,
    retransmits: u32,
    timeout: u64,
    next: u64,
}

pub struct ScriptedServer {
    pub behavior: Behavior,
    pub log: Vec<ServerLog>,
    pub reg: Option<ServerReg>,
    /// Every accepted Register or Update: (arrival time, lifetime then in force).
    pub refreshes: Vec<(u64, u32)>,
    next_reg_id: u32,
    next_mid: u16,
    next_token: u64,
    rng: Rng,
    /// Replies to CON messages from the client, by message id: (reply, when received).
    dedup: HashMap<u16, (Vec<u8>, u64)>,
    exchanges: Vec<OutExchange>,
    /// Separate responses to send: (when, bytes, mid).
    separate: Vec<(u64, Vec<u8>, u16)>,
    /// Requests waiting their turn (NSTART 1): (not before, op index).
    queue: VecDeque<(u64, usize)>,
    pub ops: Vec<Op>,
    /// Every datagram the client sent in answer to a server request, by message id.
    pub answers: BTreeMap<u16, Vec<Vec<u8>>>,
    /// Every Send (`POST /dp`) taken: (arrival time, Content-Format, payload).
    pub sends: Vec<(u64, Option<u16>, Vec<u8>)>,
    outbox: Vec<Vec<u8>>,
}

const ACK_TIMEOUT: u64 = 2_000;
const MAX_RETRANSMIT: u32 = 4;
const EXCHANGE_LIFETIME: u64 = 247_000;

impl ScriptedServer {
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng(seed ^ 0x5E7E_0000_0000_0000);
        let next_mid = rng.next_u64() as u16;
        ScriptedServer {
            behavior: Behavior::default(),
            log: Vec::new(),
            reg: None,
            refreshes: Vec::new(),
            next_reg_id: 0,
            next_mid,
            next_token: 1,
            rng,
            dedup: HashMap::new(),
            exchanges: Vec::new(),
            separate: Vec::new(),
            queue: VecDeque::new(),
            ops: Vec::new(),
            answers: BTreeMap::new(),
            sends: Vec::new(),
            outbox: Vec::new(),
        }
    }

    fn mid(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    /// Queues a request (CON unless the packet says otherwise); a fresh message id and an
    /// 8-byte token are filled in. Returns the index into [`ScriptedServer::ops`].
    pub fn queue_request(&mut self, not_before: u64, mut p: Packet) -> usize {
        p.header.message_id = self.mid();
        let token = self.next_token.to_be_bytes().to_vec();
        self.next_token += 1;
        p.set_token(token.clone());
        let request = p.to_bytes().expect("request encodes");
        self.ops.push(Op {
            mid: p.header.message_id,
            token,
            request,
            sent_at: None,
            response: None,
            response_at: None,
            failed: false,
        });
        let i = self.ops.len() - 1;
        self.queue.push_back((not_before, i));
        i
    }

    /// No request of the server's is waiting or in flight.
    pub fn idle(&self) -> bool {
        self.queue.is_empty() && !self.exchanges.iter().any(|x| x.op.is_some())
    }

    fn op_in_flight(&self) -> bool {
        self.ops
            .iter()
            .any(|o| o.sent_at.is_some() && o.response.is_none() && !o.failed)
    }

    fn first_timeout(&mut self) -> u64 {
        ACK_TIMEOUT + self.rng.below(ACK_TIMEOUT / 2)
    }

    fn send_con(&mut self, now: u64, op: Option<usize>, bytes: Vec<u8>, mid: u16) {
        let timeout = self.first_timeout();
        self.exchanges.push(OutExchange {
            op,
            bytes: bytes.clone(),
            mid,
            retransmits: 0,
            timeout,
            next: now + timeout,
        });
        self.outbox.push(bytes);
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        let a = self.exchanges.iter().map(|x| x.next);
        let b = self.separate.iter().map(|s| s.0);
        let c = if self.op_in_flight() {
            None
        } else {
            self.queue.front().map(|q| q.0)
        };
        a.chain(b).chain(c).min()
    }

    pub fn on_timer(&mut self, now: u64) {
        let due: Vec<_> = self
            .separate
            .iter()
            .filter(|s| s.0 <= now)
            .cloned()
            .collect();
        self.separate.retain(|s| s.0 > now);
        for (_, bytes, mid) in due {
            self.send_con(now, None, bytes, mid);
        }
        let mut failed = Vec::new();
        for x in self.exchanges.iter_mut().filter(|x| x.next <= now) {
            if x.retransmits < MAX_RETRANSMIT {
                x.retransmits += 1;
                x.timeout *= 2;
                x.next = now + x.timeout;
                self.outbox.push(x.bytes.clone());
            } else {
                failed.push(x.mid);
            }
        }
        for mid in failed {
            if let Some(pos) = self.exchanges.iter().position(|x| x.mid == mid) {
                let x = self.exchanges.remove(pos);
                if let Some(op) = x.op {
                    self.ops[op].failed = true;
                }
            }
        }
        if !self.op_in_flight() {
            if let Some(&(at, i)) = self.queue.front() {
                if at <= now {
                    self.queue.pop_front();
                    self.ops[i].sent_at = Some(now);
                    let bytes = self.ops[i].request.clone();
                    let p = parse(&bytes).expect("own request parses");
                    if p.header.get_type() == MessageType::Confirmable {
                        self.send_con(now, Some(i), bytes, self.ops[i].mid);
                    } else {
                        // Sent once; the op counts as failed if no response comes in time.
                        let mid = self.ops[i].mid;
                        self.exchanges.push(OutExchange {
                            op: Some(i),
                            bytes: bytes.clone(),
                            mid,
                            retransmits: MAX_RETRANSMIT,
                            timeout: 0,
                            next: now + EXCHANGE_LIFETIME / 4,
                        });
                        self.outbox.push(bytes);
                    }
                }
            }
        }
        self.dedup
            .retain(|_, (_, t)| now.saturating_sub(*t) < EXCHANGE_LIFETIME);
    }

    pub fn take_outbox(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.outbox)
    }

    /// Handles one datagram from the client.
    pub fn handle(&mut self, now: u64, bytes: &[u8]) {
        let Some(p) = parse(bytes) else { return };
        let ty = p.header.get_type();
        let mid = p.header.message_id;
        match p.header.code {
            MessageClass::Empty => match ty {
                MessageType::Acknowledgement => {
                    // Ends a separate response; an empty ACK to one of our requests means
                    // the response comes separately.
                    if let Some(pos) = self.exchanges.iter().position(|x| x.mid == mid) {
                        if self.exchanges[pos].op.is_none() {
                            self.exchanges.remove(pos);
                        } else {
                            self.exchanges[pos].next = u64::MAX;
                        }
                    }
                }
                MessageType::Reset => {
                    if let Some(pos) = self.exchanges.iter().position(|x| x.mid == mid) {
                        let x = self.exchanges.remove(pos);
                        if let Some(op) = x.op {
                            self.ops[op].failed = true;
                        }
                    }
                    self.answers.entry(mid).or_default().push(bytes.to_vec());
                }
                _ => {}
            },
            MessageClass::Request(method) => {
                if ty == MessageType::Confirmable {
                    if let Some((reply, _)) = self.dedup.get(&mid) {
                        self.log.push(ServerLog::Duplicate { at: now, mid });
                        self.outbox.push(reply.clone());
                        return;
                    }
                }
                let reply = self.request(now, &p, method);
                if ty == MessageType::Confirmable {
                    self.dedup.insert(mid, (reply.clone(), now));
                }
                self.outbox.push(reply);
            }
            MessageClass::Response(_) | MessageClass::Reserved(_) => {
                if ty == MessageType::Acknowledgement || ty == MessageType::Reset {
                    self.answers.entry(mid).or_default().push(bytes.to_vec());
                }
                let token = p.get_token().to_vec();
                let found = self.ops.iter().position(|o| {
                    o.token == token
                        && o.sent_at.is_some()
                        && (ty != MessageType::Acknowledgement || o.mid == mid)
                });
                if let Some(i) = found {
                    if self.ops[i].response.is_none() && !self.ops[i].failed {
                        self.ops[i].response = Some(p.clone());
                        self.ops[i].response_at = Some(now);
                        self.exchanges.retain(|x| x.op != Some(i));
                    }
                }
                if ty == MessageType::Confirmable {
                    self.outbox
                        .push(empty_message(MessageType::Acknowledgement, mid));
                }
            }
        }
    }

    /// Answers one request from the client; returns the reply datagram.
    fn request(&mut self, now: u64, p: &Packet, method: RequestType) -> Vec<u8> {
        let con = p.header.get_type() == MessageType::Confirmable;
        let mut r = Packet::new();
        r.header.set_type(if con {
            MessageType::Acknowledgement
        } else {
            MessageType::NonConfirmable
        });
        r.header.message_id = if con { p.header.message_id } else { self.mid() };
        r.set_token(p.get_token().to_vec());
        let path = uri_path(p);
        let query = uri_query(p);
        let payload = String::from_utf8_lossy(&p.payload).into_owned();
        let code = match (
            method,
            path.iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
        ) {
            (RequestType::Post, ["rd"]) => {
                if self.behavior.register_code != ResponseType::Created {
                    let code = self.behavior.register_code;
                    self.log.push(ServerLog::RegisterRefused {
                        at: now,
                        code: MessageClass::Response(code).into(),
                    });
                    code
                } else {
                    self.next_reg_id += 1;
                    let id = self.next_reg_id;
                    let lifetime_s = query
                        .iter()
                        .find_map(|q| q.strip_prefix("lt="))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(86_400);
                    self.reg = Some(ServerReg {
                        id,
                        lifetime_s,
                        last_refresh: now,
                    });
                    self.refreshes.push((now, lifetime_s));
                    self.log.push(ServerLog::Registered {
                        at: now,
                        id,
                        query: query.clone(),
                        payload,
                    });
                    let mut created = Packet::new();
                    created.header.code = MessageClass::Response(ResponseType::Created);
                    if self.behavior.location_one_option {
                        created
                            .add_option(CoapOption::LocationPath, format!("rd/{id}").into_bytes());
                    } else {
                        created.add_option(CoapOption::LocationPath, b"rd".to_vec());
                        created.add_option(CoapOption::LocationPath, id.to_string().into_bytes());
                    }
                    if self.behavior.register_separate && con {
                        let smid = self.mid();
                        created.header.set_type(MessageType::Confirmable);
                        created.header.message_id = smid;
                        created.set_token(p.get_token().to_vec());
                        let at = now + self.behavior.separate_delay_ms;
                        self.separate
                            .push((at, created.to_bytes().expect("encodes"), smid));
                        return empty_message(MessageType::Acknowledgement, p.header.message_id);
                    }
                    r.set_option(
                        CoapOption::LocationPath,
                        created
                            .get_option(CoapOption::LocationPath)
                            .cloned()
                            .unwrap_or_default(),
                    );
                    ResponseType::Created
                }
            }
            (RequestType::Post, segs) if self.location_matches(segs) => {
                let id = self.reg.as_ref().map(|r| r.id).unwrap_or(0);
                match self.behavior.update_codes.pop_front() {
                    Some(code) if code != ResponseType::Changed => {
                        self.reg = None;
                        self.log.push(ServerLog::UpdateRefused {
                            at: now,
                            path: path.clone(),
                            code: MessageClass::Response(code).into(),
                        });
                        code
                    }
                    _ => {
                        let reg = self.reg.as_mut().expect("matched");
                        if let Some(lt) = query
                            .iter()
                            .find_map(|q| q.strip_prefix("lt="))
                            .and_then(|v| v.parse().ok())
                        {
                            reg.lifetime_s = lt;
                        }
                        reg.last_refresh = now;
                        let lt = reg.lifetime_s;
                        self.refreshes.push((now, lt));
                        self.log.push(ServerLog::Updated {
                            at: now,
                            id,
                            query: query.clone(),
                            payload,
                        });
                        ResponseType::Changed
                    }
                }
            }
            (RequestType::Post, ["dp"]) => {
                self.sends.push((now, content_format(p), p.payload.clone()));
                self.behavior
                    .send_codes
                    .pop_front()
                    .unwrap_or(ResponseType::Changed)
            }
            (RequestType::Delete, segs) if self.location_matches(segs) => {
                let id = self.reg.take().map(|r| r.id).unwrap_or(0);
                self.log.push(ServerLog::Deregistered { at: now, id });
                ResponseType::Deleted
            }
            (RequestType::Post, _) => {
                self.log.push(ServerLog::UpdateRefused {
                    at: now,
                    path: path.clone(),
                    code: 0x84,
                });
                ResponseType::NotFound
            }
            _ => ResponseType::NotFound,
        };
        r.header.code = MessageClass::Response(code);
        r.to_bytes().expect("reply encodes")
    }

    /// True when `segs` is the current registration's location (as the server sent it).
    fn location_matches(&self, segs: &[&str]) -> bool {
        let Some(reg) = &self.reg else { return false };
        let id = reg.id.to_string();
        if self.behavior.location_one_option {
            segs.len() == 1 && segs[0] == format!("rd/{id}")
        } else {
            segs == ["rd", id.as_str()]
        }
    }

    /// The longest time, up to `end`, during which the server held no valid registration
    /// after the first Register: (gap start, gap length) when some lifetime expired.
    pub fn expiries(&self, end: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        for w in self.refreshes.windows(2) {
            let (t0, lt) = w[0];
            let (t1, _) = w[1];
            if t1 - t0 > u64::from(lt) * 1000 {
                out.push((t0, t1 - t0));
            }
        }
        if let Some(&(t, lt)) = self.refreshes.last() {
            if end - t > u64::from(lt) * 1000 {
                out.push((t, end - t));
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// The simulation
// ---------------------------------------------------------------------------------------

pub struct Sim {
    pub now: u64,
    pub client: Client,
    pub platform: TestPlatform,
    pub server: ScriptedServer,
    pub net: Net,
    pub trace: Vec<Record>,
    pub events: Vec<(u64, Event)>,
    /// Open the connection as soon as the client asks for it.
    pub auto_connect: bool,
    pub steps: u64,
    pub max_steps: u64,
}

impl Sim {
    pub fn new(seed: u64, net: NetConfig, lifetime_s: u32, margin_s: u32) -> Sim {
        let mut platform = TestPlatform::new(seed);
        let mut mid = [0u8; 2];
        platform.random(&mut mid);
        Sim {
            now: 0,
            client: new_client(lifetime_s, margin_s, u16::from_le_bytes(mid)),
            platform,
            server: ScriptedServer::new(seed),
            net: Net::new(net, seed),
            trace: Vec::new(),
            events: Vec::new(),
            auto_connect: true,
            steps: 0,
            max_steps: 5_000_000,
        }
    }

    /// Everything the client wants to send now, and its events. Returns how many datagrams
    /// it sent.
    pub fn drain_client(&mut self) -> usize {
        let mut sent = 0;
        loop {
            self.collect_events();
            let Some(t) = self.client.poll_transmit(self.now, &mut self.platform) else {
                // A connection asked for and opened just now may have work at once.
                if self.collect_events() {
                    continue;
                }
                break;
            };
            assert_eq!(t.server, 0, "one server");
            let bytes = t.data.to_vec();
            assert!(!bytes.is_empty(), "empty datagram from the client");
            self.platform.objects.count(true, bytes.len(), self.now);
            self.net.send(self.now, Dir::Up, bytes, &mut self.trace);
            sent += 1;
            assert!(sent < 1000, "the client keeps transmitting at {}", self.now);
        }
        self.collect_events();
        sent
    }

    /// Takes the client's events; true when it opened a connection.
    fn collect_events(&mut self) -> bool {
        let mut opened = false;
        while let Some(e) = self.client.poll_event() {
            if let Event::ConnectionNeeded { server } = e {
                if self.auto_connect {
                    self.client.connection_opened(server);
                    opened = true;
                }
            }
            self.events.push((self.now, e));
        }
        opened
    }

    fn flush_server(&mut self) {
        for b in self.server.take_outbox() {
            self.net.send(self.now, Dir::Down, b, &mut self.trace);
        }
    }

    /// Delivers `bytes` to the client now, as if from the network, and drains the client.
    pub fn inject(&mut self, bytes: &[u8]) {
        self.trace.push(Record {
            at: self.now,
            dir: Dir::Down,
            fate: Fate::Delivered,
            bytes: bytes.to_vec(),
        });
        self.platform.objects.count(false, bytes.len(), self.now);
        self.client
            .handle_datagram(0, bytes, self.now, &mut self.platform);
        self.drain_client();
    }

    /// When something next happens.
    pub fn next_at(&self) -> Option<u64> {
        [
            self.client.poll_timeout().map(|t| t.max(self.now)),
            self.net.next_at(),
            self.server.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs one step if something happens at or before `limit`; false otherwise.
    pub fn step(&mut self, limit: u64) -> bool {
        self.drain_client();
        let Some(t) = self.next_at() else {
            return false;
        };
        if t > limit {
            return false;
        }
        self.steps += 1;
        assert!(
            self.steps < self.max_steps,
            "step bound reached at {} ms",
            self.now
        );
        self.now = self.now.max(t);
        let mut progress = false;
        while let Some(d) = self.net.pop_due(self.now) {
            progress = true;
            self.trace.push(Record {
                at: self.now,
                dir: d.dir,
                fate: Fate::Delivered,
                bytes: d.bytes.clone(),
            });
            match d.dir {
                Dir::Up => {
                    self.server.handle(self.now, &d.bytes);
                    self.flush_server();
                }
                Dir::Down => {
                    self.platform.objects.count(false, d.bytes.len(), self.now);
                    self.client
                        .handle_datagram(0, &d.bytes, self.now, &mut self.platform);
                    self.drain_client();
                }
            }
        }
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            progress = true;
            self.server.on_timer(self.now);
            self.flush_server();
        }
        if self.drain_client() > 0 {
            progress = true;
        }
        if !progress {
            // Only the client's deadline was due: it must have done something, or moved
            // its deadline into the future.
            assert!(
                self.client.poll_timeout().map_or(true, |t| t > self.now)
                    || self.net.in_flight() > 0,
                "the client is due at {:?} but did nothing at {}",
                self.client.poll_timeout(),
                self.now
            );
        }
        true
    }

    /// Runs until virtual time `limit` (then sets the clock to it).
    pub fn run_until(&mut self, limit: u64) {
        while self.step(limit) {}
        self.now = self.now.max(limit);
        self.drain_client();
    }

    /// Runs until `cond` holds or `limit` passes; true when `cond` held.
    pub fn run_until_cond(&mut self, limit: u64, mut cond: impl FnMut(&Sim) -> bool) -> bool {
        loop {
            if cond(self) {
                return true;
            }
            if !self.step(limit) {
                self.now = self.now.max(limit);
                return cond(self);
            }
        }
    }

    /// Runs until the client reports `Registered` (after `from` events), within `limit`.
    pub fn run_until_event(&mut self, limit: u64, pred: impl Fn(&Event) -> bool) -> Option<u64> {
        let seen = self.events.len();
        let found = self.run_until_cond(limit, |s| s.events[seen..].iter().any(|(_, e)| pred(e)));
        found
            .then(|| {
                self.events[seen..]
                    .iter()
                    .find(|(_, e)| pred(e))
                    .map(|(t, _)| *t)
            })
            .flatten()
    }

    /// Runs a server request to completion; returns its response.
    pub fn server_request(&mut self, p: Packet, limit: u64) -> Option<Packet> {
        let op = self.server.queue_request(self.now, p);
        self.run_until_cond(limit, |s| {
            s.server.ops[op].response.is_some() || s.server.ops[op].failed
        });
        self.server.ops[op].response.clone()
    }

    /// Datagrams with `fate` in direction `dir` that satisfy `pred`: (time, bytes).
    pub fn datagrams(
        &self,
        dir: Dir,
        fate: Fate,
        pred: impl Fn(&[u8]) -> bool,
    ) -> Vec<(u64, Vec<u8>)> {
        self.trace
            .iter()
            .filter(|r| r.dir == dir && r.fate == fate && pred(&r.bytes))
            .map(|r| (r.at, r.bytes.clone()))
            .collect()
    }

    /// The events without their times.
    pub fn event_kinds(&self) -> Vec<Event> {
        self.events.iter().map(|(_, e)| *e).collect()
    }

    pub fn registered(&self) -> bool {
        self.client.servers()[0].reg.is_registered()
    }
}

/// A simulation on a clean network (10 ms each way), registered at about 20 ms.
pub fn registered_sim(seed: u64, lifetime_s: u32, margin_s: u32) -> Sim {
    let mut sim = Sim::new(seed, NetConfig::clean(10), lifetime_s, margin_s);
    sim.run_until_event(10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers on a clean network");
    sim
}

/// A client registered on a clean network at 1 s, with nothing left to send and no event
/// pending: ready for a server's requests.
pub fn quiet_registered_sim(seed: u64) -> Sim {
    let mut sim = registered_sim(seed, 300, 30);
    sim.run_until(1_000);
    assert!(sim.registered());
    while sim
        .client
        .poll_transmit(sim.now, &mut sim.platform)
        .is_some()
    {}
    while sim.client.poll_event().is_some() {}
    sim
}

/// Hands `p` to the client with a fresh message id and token, and returns the client's
/// response and whatever it sent right after it (a registration Update, say).
pub fn exchange(sim: &mut Sim, mut p: Packet) -> (Packet, Vec<Vec<u8>>) {
    static MID: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0x4000);
    p.header.message_id = MID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    p.set_token(vec![0x7e]);
    let bytes = p.to_bytes().expect("encodes");
    sim.platform.objects.count(false, bytes.len(), sim.now);
    sim.client
        .handle_datagram(0, &bytes, sim.now, &mut sim.platform);
    let out = sim
        .client
        .poll_transmit(sim.now, &mut sim.platform)
        .expect("a response")
        .data
        .to_vec();
    sim.platform.objects.count(true, out.len(), sim.now);
    let r = Packet::from_bytes(&out).expect("the client's response parses");
    let mut more = Vec::new();
    while let Some(t) = sim.client.poll_transmit(sim.now, &mut sim.platform) {
        more.push(t.data.to_vec());
        assert!(more.len() < 4, "the client keeps sending");
    }
    for m in &more {
        sim.platform.objects.count(true, m.len(), sim.now);
    }
    (r, more)
}

/// One TLV entry (kind 0: object instance, 3: resource) with a value shorter than 256.
fn blob_tlv(kind: u8, id: u8, v: &[u8]) -> Vec<u8> {
    let mut out = if v.len() < 8 {
        vec![kind << 6 | v.len() as u8, id]
    } else {
        vec![kind << 6 | 0x08, id, v.len() as u8]
    };
    out.extend(v);
    out
}

/// A smartcard blob with one Security instance (`mode`, `uri`, the keys given) and its
/// Server instance (Short Server ID 201).
pub fn security_blob(mode: u8, uri: &str, identity: &[u8], key: &[u8]) -> Vec<u8> {
    security_blob_with(mode, uri, identity, &[], key)
}

/// [`security_blob`] with resource 4 (the server's public key) too, when not empty.
pub fn security_blob_with(mode: u8, uri: &str, res3: &[u8], res4: &[u8], res5: &[u8]) -> Vec<u8> {
    let mut sec = blob_tlv(3, 0, uri.as_bytes());
    sec.extend(blob_tlv(3, 1, &[0]));
    sec.extend(blob_tlv(3, 2, &[mode]));
    sec.extend(blob_tlv(3, 3, res3));
    if !res4.is_empty() {
        sec.extend(blob_tlv(3, 4, res4));
    }
    sec.extend(blob_tlv(3, 5, res5));
    sec.extend(blob_tlv(3, 10, &[0, 201]));
    let mut srv = blob_tlv(3, 0, &[0, 201]);
    srv.extend(blob_tlv(3, 1, &[120]));
    srv.extend(blob_tlv(3, 7, b"U"));
    let mut out = Vec::new();
    for (oid, body) in [(0u8, blob_tlv(0, 1, &sec)), (1, blob_tlv(0, 0, &srv))] {
        out.extend([0, oid]);
        out.extend((body.len() as u16).to_be_bytes());
        out.extend(body);
    }
    out
}

/// Each blob of `cases` is refused at the Finish with its diagnostic, and the configured
/// server stays.
#[cfg(feature = "bootstrap")]
pub fn assert_refused_at_finish(client: &mut Client, cases: &[(Vec<u8>, &'static str)]) {
    use tern::client::bootstrap::BlobError::Inconsistent;
    for (blob, why) in cases {
        assert_eq!(client.bootstrap_from_blob(blob), Err(Inconsistent(why)));
        assert_eq!(
            client.servers()[0].uri.as_str(),
            SERVER_URI,
            "nothing changed"
        );
    }
}

/// Opens server 0's connection and returns the first datagram the client sends on it.
pub fn first_datagram(client: &mut Client, platform: &mut TestPlatform) -> Vec<u8> {
    while client.poll_event().is_some() {}
    client.connection_opened(0);
    let t = client.poll_transmit(0, platform).expect("a datagram");
    assert_eq!(t.server, 0);
    t.data.to_vec()
}

/// A client of the same configuration that restored what `client` saved, as after a
/// restart.
#[cfg(feature = "persistence")]
pub fn restarted(client: &mut Client) -> Client {
    use tern::client::persist::{MemSlots, Restored};
    let mut slots = MemSlots::default();
    assert!(client.save_state(&mut slots));
    let mut rebooted = new_client(60, 10, 2);
    let restored = rebooted.restore_state(&mut slots);
    assert!(matches!(restored, Restored::Applied { .. }), "{restored:?}");
    rebooted
}

// ---------------------------------------------------------------------------------------
// A test object with an opaque resource
// ---------------------------------------------------------------------------------------

/// What the blob object saw.
#[derive(Default)]
pub struct BlobLog {
    /// The value assembled from the blocks.
    pub value: Vec<u8>,
    /// (offset, len, last) of every block taken.
    pub blocks: Vec<(u32, usize, bool)>,
    /// Whole values written (non block-wise).
    pub writes: usize,
}

/// Object 33000, instance 0: 0 Data (opaque, RW), 1 Name (string, RW), 2 Log (opaque, R).
pub struct Blob(pub std::rc::Rc<std::cell::RefCell<BlobLog>>);

pub const BLOB_OID: u16 = 33000;
pub const BLOB_RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, ResourceType::Opaque, Operations::RW, false),
    ResourceDef::new(1, ResourceType::String, Operations::RW, false),
    ResourceDef::new(2, ResourceType::Opaque, Operations::R, false),
];

impl Object for Blob {
    fn id(&self) -> u16 {
        BLOB_OID
    }
    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        BLOB_RESOURCES.get(index).copied()
    }
    fn instance(&self, index: usize) -> Option<u16> {
        (index == 0).then_some(0)
    }
    fn read(&mut self, _iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        let log = self.0.borrow();
        match rid {
            0 => out.value(None, &Value::Opaque(&log.value)),
            1 => out.value(None, &Value::String("blob")),
            2 => out.value(None, &Value::Opaque(&log.value)),
            _ => Err(Code::NOT_FOUND),
        }
    }
    fn write(
        &mut self,
        _iid: u16,
        rid: u16,
        _riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        let mut log = self.0.borrow_mut();
        log.writes += 1;
        match (rid, value) {
            (0, Value::Opaque(b)) => log.value = b.to_vec(),
            (1, Value::String(_)) => {}
            _ => return Err(Code::BAD_REQUEST),
        }
        Ok(())
    }
    fn execute(&mut self, _iid: u16, _rid: u16, _args: &[u8]) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
    fn write_block(
        &mut self,
        _iid: u16,
        rid: u16,
        offset: u32,
        data: &[u8],
        last: bool,
    ) -> Result<(), Code> {
        assert_eq!(rid, 0, "only the opaque resource gets blocks");
        let mut log = self.0.borrow_mut();
        if offset == 0 {
            log.value.clear();
        }
        assert_eq!(offset as usize, log.value.len(), "blocks arrive in order");
        log.value.extend_from_slice(data);
        log.blocks.push((offset, data.len(), last));
        Ok(())
    }
}
