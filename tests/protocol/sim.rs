//! A small deterministic simulator without std or alloc, for the protocol cases that run
//! both on the host and as firmware on QEMU.
//!
//! What `tests/sim/` does with `Vec`s and a scripted server, reduced to fixed capacities: a
//! virtual clock (`u64` milliseconds), the client's datagrams collected in a heapless queue
//! for the test to read, datagrams handed to the client by the test (the test plays the
//! server), a splitmix64 stream for the client's random bytes, and the test objects
//! (Device and a temperature sensor, IPSO 3303) with fixed-size state.
//!
//! The client lives in a static slot (it is several kilobytes: firmware stacks are small
//! and test threads' stacks are not to be relied on), as does the outgoing queue; one
//! simulation exists at a time, which [`Sim`] checks and releases on drop.

use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

use heapless::{Deque, Vec};

use tern::client::{Client, Config, Event, Platform, ServerConfig, Version};
use tern::coap::{opt, Code, Message, MessageBuilder, MsgType};
use tern::config::MAX_MESSAGE_SIZE;
use tern::model::{
    Device, DeviceInfo, Object, Objects, Operations, ResourceDef, ResourceType, Value, ValueSink,
};

/// The endpoint name every simulated client uses.
pub const EP: &str = "tern-qemu-1";
/// The DM server's URI (never resolved).
pub const SERVER_URI: &str = "coap://192.0.2.1:5683";
/// Manufacturer text of the simulated device (`/3/0/0`).
pub const MANUFACTURER: &str = "tern project";
/// The registration's location as the test server hands it out: `/rd/5a`.
pub const LOCATION: [&str; 2] = ["rd", "5a"];

/// The result of every case and helper: the reason on failure.
pub type Outcome = Result<(), &'static str>;

// ---------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------

/// splitmix64: the same sequence on every platform.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            for (d, s) in chunk.iter_mut().zip(v) {
                *d = s;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------

pub const TEMP_OID: u16 = 3303;

/// A temperature sensor (IPSO 3303, version 1.1): 5700 Sensor Value (float, R), 5701
/// Sensor Units (string, RW), 5605 Reset Min/Max (execute, counted), 5900 Sample Interval
/// (integer, RW); instances created and deleted by servers, at most four.
pub struct Temperature {
    pub value: f64,
    pub units: heapless::String<16>,
    pub interval: i64,
    pub executions: u32,
    pub writes: u32,
    pub instances: Vec<u16, 4>,
}

const TEMP_RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(5700, ResourceType::Float, Operations::R, false),
    ResourceDef::new(5701, ResourceType::String, Operations::RW, false),
    ResourceDef::new(5605, ResourceType::None, Operations::E, false),
    ResourceDef::new(5900, ResourceType::Integer, Operations::RW, false),
];

impl Temperature {
    fn new() -> Self {
        let mut units = heapless::String::new();
        let _ = units.push_str("Cel");
        let mut instances = Vec::new();
        let _ = instances.push(0);
        Temperature {
            value: 21.5,
            units,
            interval: 60,
            executions: 0,
            writes: 0,
            instances,
        }
    }

    fn exists(&self, iid: u16) -> bool {
        self.instances.contains(&iid)
    }
}

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
        self.instances
            .push(iid)
            .map_err(|_| Code::INTERNAL_SERVER_ERROR)
    }

    fn delete(&mut self, iid: u16) -> Result<(), Code> {
        self.instances.retain(|&i| i != iid);
        Ok(())
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        if !self.exists(iid) {
            return Err(Code::NOT_FOUND);
        }
        match rid {
            5700 => out.value(None, &Value::Float(self.value)),
            5701 => out.value(None, &Value::String(&self.units)),
            5900 => out.value(None, &Value::Integer(self.interval)),
            5605 => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }

    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        _riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        if !self.exists(iid) {
            return Err(Code::NOT_FOUND);
        }
        self.writes += 1;
        match (rid, value) {
            (5701, Value::String(s)) => {
                let mut units = heapless::String::new();
                units.push_str(s).map_err(|_| Code::BAD_REQUEST)?;
                self.units = units;
            }
            (5900, Value::Integer(i)) => self.interval = *i,
            (5701 | 5900, _) => return Err(Code::BAD_REQUEST),
            _ => return Err(Code::METHOD_NOT_ALLOWED),
        }
        Ok(())
    }

    fn execute(&mut self, iid: u16, rid: u16, _args: &[u8]) -> Result<(), Code> {
        match (self.exists(iid), rid) {
            (true, 5605) => {
                self.executions += 1;
                Ok(())
            }
            (true, _) => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }
}

/// The application objects: Device (3) and the temperature sensor (3303).
pub struct TestObjects {
    pub device: Device<'static>,
    pub temp: Temperature,
}

impl Objects for TestObjects {
    fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
        match index {
            0 => Some(&mut self.device),
            1 => Some(&mut self.temp),
            _ => None,
        }
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
                    model: "qemu-1",
                    serial: "0001",
                    firmware_version: "0.1.0",
                }),
                temp: Temperature::new(),
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

// ---------------------------------------------------------------------------------------
// Datagrams and requests
// ---------------------------------------------------------------------------------------

/// One datagram the client sent: on which server slot, when, and its bytes.
#[derive(Clone)]
pub struct Dgram {
    pub server: u8,
    pub at: u64,
    len: usize,
    buf: [u8; MAX_MESSAGE_SIZE],
}

impl Dgram {
    const EMPTY: Dgram = Dgram {
        server: 0,
        at: 0,
        len: 0,
        buf: [0; MAX_MESSAGE_SIZE],
    };

    pub fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// The datagram parsed with the engine's codec.
    pub fn msg(&self) -> Result<Message<'_>, &'static str> {
        Message::parse(self.bytes()).map_err(|_| "the client sent a datagram that does not parse")
    }
}

/// True when `msg`'s Uri-Path segments are exactly `segs`.
pub fn path_is(msg: &Message<'_>, segs: &[&str]) -> bool {
    let mut it = msg.options_of(opt::URI_PATH);
    for s in segs {
        if it.next() != Some(s.as_bytes()) {
            return false;
        }
    }
    it.next().is_none()
}

/// True when `msg` carries the Uri-Query options `queries`, in this order, and no other.
pub fn queries_are(msg: &Message<'_>, queries: &[&str]) -> bool {
    let mut it = msg.options_of(opt::URI_QUERY);
    for q in queries {
        if it.next() != Some(q.as_bytes()) {
            return false;
        }
    }
    it.next().is_none()
}

/// True when `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A request of the server's, built with the engine's codec (options in number order:
/// Observe, Uri-Path, Content-Format, Uri-Query, Accept).
#[derive(Clone, Copy)]
pub struct Req<'a> {
    pub mtype: MsgType,
    pub code: Code,
    pub path: &'a str,
    pub observe: Option<u32>,
    pub format: Option<u16>,
    pub queries: &'a [&'a str],
    pub accept: Option<u16>,
    pub payload: &'a [u8],
    pub token: &'a [u8],
}

impl<'a> Req<'a> {
    pub const fn new(code: Code, path: &'a str) -> Req<'a> {
        Req {
            mtype: MsgType::Con,
            code,
            path,
            observe: None,
            format: None,
            queries: &[],
            accept: None,
            payload: &[],
            token: &[0x7e],
        }
    }
    pub const fn get(path: &'a str) -> Req<'a> {
        Req::new(Code::GET, path)
    }
    pub const fn put(path: &'a str, format: u16, payload: &'a [u8]) -> Req<'a> {
        Req::new(Code::PUT, path).body(format, payload)
    }
    pub const fn post(path: &'a str) -> Req<'a> {
        Req::new(Code::POST, path)
    }
    pub const fn delete(path: &'a str) -> Req<'a> {
        Req::new(Code::DELETE, path)
    }
    pub const fn body(mut self, format: u16, payload: &'a [u8]) -> Req<'a> {
        self.format = Some(format);
        self.payload = payload;
        self
    }
    pub const fn accept(mut self, format: u16) -> Req<'a> {
        self.accept = Some(format);
        self
    }
    pub const fn observe(mut self, v: u32) -> Req<'a> {
        self.observe = Some(v);
        self
    }
    pub const fn token(mut self, t: &'a [u8]) -> Req<'a> {
        self.token = t;
        self
    }
    pub const fn queries(mut self, q: &'a [&'a str]) -> Req<'a> {
        self.queries = q;
        self
    }
    pub const fn non(mut self) -> Req<'a> {
        self.mtype = MsgType::Non;
        self
    }

    /// The request with message id `mid`, written into `buf`; its length.
    pub fn encode(&self, mid: u16, buf: &mut [u8]) -> Result<usize, &'static str> {
        let mut b = MessageBuilder::new(buf, self.mtype, self.code, mid, self.token)
            .map_err(|_| "request header")?;
        let e = "request options";
        if let Some(o) = self.observe {
            b.option_uint(opt::OBSERVE, o).map_err(|_| e)?;
        }
        for seg in self.path.split('/').filter(|s| !s.is_empty()) {
            b.option_str(opt::URI_PATH, seg).map_err(|_| e)?;
        }
        if let Some(f) = self.format {
            b.option_uint(opt::CONTENT_FORMAT, u32::from(f))
                .map_err(|_| e)?;
        }
        for q in self.queries {
            b.option_str(opt::URI_QUERY, q).map_err(|_| e)?;
        }
        if let Some(a) = self.accept {
            b.option_uint(opt::ACCEPT, u32::from(a)).map_err(|_| e)?;
        }
        b.payload(self.payload).map_err(|_| "request payload")?;
        Ok(b.finish())
    }
}

/// A response of the server's to `req` (piggybacked in an ACK, or `mtype` for a separate
/// one with message id `mid`), with Location-Path `location`; its length in `buf`.
pub fn response(
    buf: &mut [u8],
    req: &Message<'_>,
    mtype: MsgType,
    mid: u16,
    code: Code,
    location: &[&str],
) -> Result<usize, &'static str> {
    let mut b = MessageBuilder::new(buf, mtype, code, mid, req.token()).map_err(|_| "response")?;
    for seg in location {
        b.option_str(opt::LOCATION_PATH, seg)
            .map_err(|_| "response location")?;
    }
    Ok(b.finish())
}

/// An empty message (ACK, RST, or a ping when CON) with message id `mid`.
pub fn empty(mtype: MsgType, mid: u16) -> [u8; 4] {
    let [m0, m1] = mid.to_be_bytes();
    [0x40 | ((mtype as u8) << 4), 0, m0, m1]
}

// ---------------------------------------------------------------------------------------
// The simulation
// ---------------------------------------------------------------------------------------

/// Datagrams the client may send before the test reads them.
pub const OUT_CAP: usize = 16;
/// Events kept (the oldest go first).
pub const EVENTS_CAP: usize = 32;

static BUSY: AtomicBool = AtomicBool::new(false);
static mut CLIENT: MaybeUninit<Client> = MaybeUninit::uninit();
static mut OUT: Deque<Dgram, OUT_CAP> = Deque::new();

/// One simulation: the client (in its static slot), the platform, the virtual clock, the
/// client's datagrams not yet read and its events.
pub struct Sim {
    pub now: u64,
    pub client: &'static mut Client,
    pub platform: TestPlatform,
    pub out: &'static mut Deque<Dgram, OUT_CAP>,
    pub events: Vec<(u64, Event), EVENTS_CAP>,
    /// Open a connection as soon as the client asks for one.
    pub auto_connect: bool,
    next_mid: u16,
}

impl Drop for Sim {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::Release);
    }
}

/// The static slots, when no other simulation holds them.
fn take_slots() -> Result<
    (
        &'static mut MaybeUninit<Client>,
        &'static mut Deque<Dgram, OUT_CAP>,
    ),
    &'static str,
> {
    if BUSY.swap(true, Ordering::Acquire) {
        return Err("another simulation is running");
    }
    // SAFETY: BUSY was false and is now true: no other `Sim` holds references to these
    // statics (a `Sim` takes them only here and clears BUSY when dropped, after which its
    // references are gone), so these are the only live references.
    let slots = unsafe { (&mut *addr_of_mut!(CLIENT), &mut *addr_of_mut!(OUT)) };
    slots.1.clear();
    Ok(slots)
}

impl Sim {
    fn with(
        client: &'static mut Client,
        out: &'static mut Deque<Dgram, OUT_CAP>,
        seed: u64,
    ) -> Sim {
        Sim {
            now: 0,
            client,
            platform: TestPlatform::new(seed),
            out,
            events: Vec::new(),
            auto_connect: true,
            next_mid: 0x4000,
        }
    }

    /// A client for [`SERVER_URI`] (short id 101) registering as [`EP`] with LwM2M
    /// `version`, nothing run yet.
    pub fn new(
        seed: u64,
        lifetime_s: u32,
        margin_s: u32,
        version: Version,
    ) -> Result<Sim, &'static str> {
        let (slot, out) = take_slots()?;
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
        let client = match Client::init_in_place(slot, &config, seed as u16) {
            Ok(c) => c,
            Err(_) => {
                BUSY.store(false, Ordering::Release);
                return Err("the client configuration is refused");
            }
        };
        Ok(Sim::with(client, out, seed))
    }

    /// A client with a bootstrap server account and the DM servers `servers`.
    pub fn with_bootstrap(
        seed: u64,
        servers: &[ServerConfig<'_>],
        bootstrap: &tern::client::bootstrap::BootstrapConfig<'_>,
    ) -> Result<Sim, &'static str> {
        let (slot, out) = take_slots()?;
        let config = Config {
            endpoint: EP,
            version: Version::V1_1,
            update_margin_s: 30,
            servers,
        };
        let client = match Client::init_with_bootstrap(slot, &config, bootstrap, seed as u16) {
            Ok(c) => c,
            Err(_) => {
                BUSY.store(false, Ordering::Release);
                return Err("the bootstrap configuration is refused");
            }
        };
        Ok(Sim::with(client, out, seed))
    }

    /// A client registered at [`LOCATION`] (lifetime 300 s, Update 30 s before its end),
    /// nothing left to read.
    pub fn registered(seed: u64) -> Result<Sim, &'static str> {
        let mut sim = Sim::new(seed, 300, 30, Version::V1_1)?;
        sim.register()?;
        Ok(sim)
    }

    /// Takes the client's events (opening connections when asked); true when one opened.
    fn collect_events(&mut self) -> bool {
        let mut opened = false;
        while let Some(e) = self.client.poll_event() {
            if let Event::ConnectionNeeded { server } = e {
                if self.auto_connect {
                    self.client.connection_opened(server);
                    opened = true;
                }
            }
            if self.events.is_full() {
                self.events.remove(0);
            }
            let _ = self.events.push((self.now, e));
        }
        opened
    }

    /// Everything the client sends now goes to [`Sim::out`]; returns how many.
    pub fn pump(&mut self) -> Result<usize, &'static str> {
        let mut sent = 0;
        for _ in 0..64 {
            self.collect_events();
            let now = self.now;
            let Some(t) = self.client.poll_transmit(now, &mut self.platform) else {
                if self.collect_events() {
                    continue;
                }
                return Ok(sent);
            };
            let mut d = Dgram::EMPTY;
            d.server = t.server;
            d.at = now;
            d.len = t.data.len();
            d.buf
                .get_mut(..t.data.len())
                .ok_or("a datagram larger than MAX_MESSAGE_SIZE")?
                .copy_from_slice(t.data);
            self.out
                .push_back(d)
                .map_err(|_| "the client sends more than the test reads")?;
            sent += 1;
        }
        Err("the client keeps transmitting")
    }

    /// Hands `bytes` to the client as if from server slot `server`, then pumps.
    pub fn deliver(&mut self, server: u8, bytes: &[u8]) -> Outcome {
        self.client
            .handle_datagram(server, bytes, self.now, &mut self.platform);
        self.pump().map(|_| ())
    }

    /// Runs the client alone until virtual time `to` (its deadlines, nothing delivered).
    pub fn advance(&mut self, to: u64) -> Outcome {
        self.pump()?;
        for _ in 0..10_000 {
            match self.client.poll_timeout() {
                Some(d) if d <= to && d > self.now => {
                    self.now = d;
                    self.pump()?;
                }
                Some(d) if d <= self.now => {
                    // Due now: pumping must do it (or move the deadline).
                    if self.pump()? == 0 && self.client.poll_timeout() == Some(d) {
                        if d == self.now {
                            return Err("the client is due but does nothing");
                        }
                        break;
                    }
                }
                _ => {
                    self.now = self.now.max(to);
                    self.pump()?;
                    return Ok(());
                }
            }
        }
        Err("the client's deadlines do not advance")
    }

    /// The oldest datagram the client sent and the test has not read.
    pub fn take(&mut self) -> Result<Dgram, &'static str> {
        self.out.pop_front().ok_or("the client sent nothing")
    }

    /// Drops what the client sent so far.
    pub fn clear_out(&mut self) {
        self.out.clear();
    }

    /// True when event `e` happened (and is still among the last [`EVENTS_CAP`]).
    pub fn saw(&self, e: Event) -> bool {
        self.events.iter().any(|(_, x)| *x == e)
    }

    /// A fresh message id for the server's next message.
    pub fn mid(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    /// Sends `req` (a fresh message id) on `server`'s slot; returns the client's response
    /// (the first datagram it sent back) and the message id used.
    pub fn request_on(&mut self, server: u8, req: &Req<'_>) -> Result<(Dgram, u16), &'static str> {
        let mid = self.mid();
        let mut buf = [0u8; MAX_MESSAGE_SIZE];
        let len = req.encode(mid, &mut buf)?;
        self.clear_out();
        self.deliver(server, buf.get(..len).unwrap_or(&[]))?;
        let d = self.take().map_err(|_| "no response to the request")?;
        Ok((d, mid))
    }

    /// Sends `req` to the client as server 0; returns its response.
    pub fn request(&mut self, req: &Req<'_>) -> Result<Dgram, &'static str> {
        self.request_on(0, req).map(|(d, _)| d)
    }

    /// Sends `req` and checks that the response has `code`; returns it.
    pub fn expect(&mut self, req: &Req<'_>, code: Code) -> Result<Dgram, &'static str> {
        let d = self.request(req)?;
        let m = d.msg()?;
        if m.code() != code {
            return Err("the response has another code than expected");
        }
        if req.mtype == MsgType::Con && (m.mtype() != MsgType::Ack || m.token() != req.token) {
            return Err("a CON request is not answered by a piggybacked ACK with its token");
        }
        Ok(d)
    }

    /// Answers the request `d` with a piggybacked response `code` (and `location`).
    pub fn answer(&mut self, d: &Dgram, code: Code, location: &[&str]) -> Outcome {
        let m = d.msg()?;
        let mut buf = [0u8; 64];
        let len = response(&mut buf, &m, MsgType::Ack, m.message_id(), code, location)?;
        self.deliver(d.server, buf.get(..len).unwrap_or(&[]))
    }

    /// Opens the connection, takes the Register and answers it 2.01 at [`LOCATION`]; then
    /// nothing is left to read.
    pub fn register(&mut self) -> Outcome {
        self.pump()?;
        let reg = self.take().map_err(|_| "no Register")?;
        {
            let m = reg.msg()?;
            if m.code() != Code::POST || !path_is(&m, &["rd"]) {
                return Err("the first datagram is not a Register");
            }
        }
        self.answer(&reg, Code::CREATED, &LOCATION)?;
        if !self.saw(Event::Registered { server: 0 }) {
            return Err("no Registered event after 2.01");
        }
        if !self.out.is_empty() {
            return Err("the client sent something after registering");
        }
        Ok(())
    }
}
