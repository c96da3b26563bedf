//! tern's in-repo LwM2M test server.
//!
//! A small LwM2M server (Registration interface, device management requests,
//! observe notifications, Send) over a plain `std::net::UdpSocket` and one
//! worker thread. Its CoAP codec is `coap-lite`, which is independent of the
//! engine's own codec, so every test that talks to it cross-checks the engine's
//! encoding and parsing.
//!
//! Everything is bounded in time: every blocking call takes a timeout, and the
//! worker thread ends when the [`TestServer`] is dropped.
//!
//! ```no_run
//! use std::time::Duration;
//! use tern_test_server::{Event, TestServer};
//! let server = TestServer::start().unwrap();
//! println!("point the client at {}", server.uri());
//! let reg = match server.wait_for(Duration::from_secs(5), |e| matches!(e, Event::Registered(_))) {
//!     Some(Event::Registered(r)) => r,
//!     _ => panic!("no registration"),
//! };
//! let rsp = server.read(&reg.ep, "/3/0/0", Some(0), Duration::from_secs(5)).unwrap();
//! println!("{} {}", rsp.code_string(), rsp.payload_str());
//! ```

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use coap_lite;
use coap_lite::option_value::OptionValueU16;
use coap_lite::option_value::OptionValueU32;
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};

pub mod tlv;

/// CoRE link format (RFC 6690).
pub const CF_LINK: u16 = 40;
/// text/plain.
pub const CF_TEXT: u16 = 0;
/// application/octet-stream.
pub const CF_OPAQUE: u16 = 42;
/// application/vnd.oma.lwm2m+tlv.
pub const CF_TLV: u16 = 11542;
/// application/vnd.oma.lwm2m+json (old JSON).
pub const CF_LWM2M_JSON: u16 = 11543;
/// application/senml+json.
pub const CF_SENML_JSON: u16 = 110;
/// application/senml+cbor.
pub const CF_SENML_CBOR: u16 = 112;
/// application/vnd.oma.lwm2m+cbor.
pub const CF_LWM2M_CBOR: u16 = 11544;

/// How long a received CON message's reply is kept for de-duplication
/// (RFC 7252 EXCHANGE_LIFETIME).
const EXCHANGE_LIFETIME: Duration = Duration::from_secs(247);
/// Longest the worker sleeps in `recv_from` before looking at its timers.
const MAX_POLL: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// Transmission parameters (RFC 7252 section 4.8) and other knobs.
#[derive(Debug, Clone)]
pub struct Config {
    /// ACK_TIMEOUT: the first retransmission happens after a random time in
    /// `[ack_timeout, ack_timeout * ack_random_factor]`, then doubles.
    pub ack_timeout: Duration,
    /// ACK_RANDOM_FACTOR.
    pub ack_random_factor: f64,
    /// MAX_RETRANSMIT.
    pub max_retransmit: u32,
    /// Length of the tokens of the server's own requests (1..=8).
    pub token_len: usize,
    /// A datagram held back by the reorder impairment is sent after this time
    /// if no other datagram in the same direction comes along to overtake it.
    pub reorder_hold: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ack_timeout: Duration::from_secs(2),
            ack_random_factor: 1.5,
            max_retransmit: 4,
            token_len: 8,
            reorder_hold: Duration::from_millis(500),
        }
    }
}

/// Network impairment, applied to every datagram in both directions (except
/// [`TestServer::send_raw`]). Each direction draws from its own random stream
/// seeded from `seed`, and every datagram draws the same number of values,
/// so the same seed and the same traffic give the same pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impairment {
    pub drop_percent: u8,
    pub duplicate_percent: u8,
    /// Hold a datagram back and send it after the next one in the same direction.
    pub reorder_percent: u8,
    pub delay_ms: u64,
    pub seed: u64,
}

impl Impairment {
    /// No impairment at all.
    pub fn none() -> Self {
        Self::default()
    }
}

/// Which way a datagram was going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From a client to the server.
    Inbound,
    /// From the server to a client.
    Outbound,
}

/// A client's registration, as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub ep: String,
    pub lifetime: u32,
    pub binding: String,
    pub lwm2m: String,
    /// `b=UQ` (LwM2M 1.0) or a `Q` parameter (1.1).
    pub queue_mode: bool,
    /// The `sms` parameter, if sent.
    pub sms: Option<String>,
    /// Each link of the payload as sent, e.g. `</3/0>` or `</3303>;ver=1.1`.
    pub objects: Vec<String>,
    /// Where the registration lives, e.g. `/rd/3`.
    pub location: String,
    /// The client's address (updated by every Update).
    pub addr: SocketAddr,
    /// Content-Format of the Register payload, if the option was present.
    pub content_format: Option<u16>,
}

/// A response to one of the server's own requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The code, as coap-lite names it (`UnKnown` for a code it has no name for).
    pub code: ResponseType,
    /// The raw code byte (class in the top 3 bits, detail in the low 5).
    pub raw_code: u8,
    pub content_format: Option<u16>,
    pub payload: Vec<u8>,
    /// The Observe option's value, if present.
    pub observe: Option<u32>,
    /// The whole response message.
    pub packet: Packet,
}

impl Response {
    fn from_packet(p: &Packet) -> Response {
        let raw_code: u8 = p.header.code.into();
        let code = match p.header.code {
            MessageClass::Response(r) => r,
            _ => ResponseType::UnKnown,
        };
        Response {
            code,
            raw_code,
            content_format: content_format(p),
            payload: p.payload.clone(),
            observe: observe_value(p),
            packet: p.clone(),
        }
    }

    /// The code as `"2.05"`.
    pub fn code_string(&self) -> String {
        code_string(self.raw_code)
    }

    /// The payload as (lossy) UTF-8.
    pub fn payload_str(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    /// True for 2.xx codes.
    pub fn is_success(&self) -> bool {
        self.raw_code >> 5 == 2
    }
}

/// Why one of the server's own requests got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpError {
    /// No registration for that endpoint name.
    NotRegistered,
    /// No response in time (or retransmissions exhausted).
    Timeout,
    /// The client answered with RST.
    Reset,
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OpError::NotRegistered => "endpoint not registered",
            OpError::Timeout => "timed out",
            OpError::Reset => "reset by peer",
        })
    }
}

impl std::error::Error for OpError {}

/// Something that happened at the server, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Every datagram received (after inbound impairment), before it is handled.
    Datagram {
        from: SocketAddr,
        bytes: Vec<u8>,
        /// The coap-lite parse result, or the parse error as text.
        parsed: Result<Packet, String>,
    },
    /// A datagram lost to the drop impairment.
    Dropped {
        direction: Direction,
        peer: SocketAddr,
        bytes: Vec<u8>,
    },
    /// A CON message seen before (same message id and address); the stored
    /// reply was sent again.
    Duplicate { from: SocketAddr, mid: u16 },
    /// A successful Register (also a re-registration of a known endpoint).
    Registered(Registration),
    /// A Register that was answered with an error code.
    RegistrationRejected {
        from: SocketAddr,
        ep: Option<String>,
        code: ResponseType,
    },
    /// A successful Update; the fields are what the Update carried.
    Updated {
        ep: String,
        location: String,
        lifetime: Option<u32>,
        binding: Option<String>,
        sms: Option<String>,
        queue_mode: bool,
        /// The new object list (raw link-format payload), if one was sent.
        objects: Option<String>,
    },
    /// A successful De-register.
    Deregistered { ep: String },
    /// A notification: a response carrying Observe to a token the server sent,
    /// after the request that opened it was answered.
    Notification {
        ep: String,
        token: Vec<u8>,
        seq: Option<u32>,
        code: ResponseType,
        payload: Vec<u8>,
        content_format: Option<u16>,
        confirmable: bool,
    },
    /// An LwM2M Send (`POST /dp`), answered 2.04.
    Send {
        ep: Option<String>,
        content_format: Option<u16>,
        payload: Vec<u8>,
    },
    /// Any other request (answered 4.04, or 4.05 for a wrong method on `/rd`).
    Request {
        from: SocketAddr,
        method: String,
        path: String,
        query: Vec<String>,
        payload: Vec<u8>,
    },
}

impl Event {
    /// A short one-line description, for logs.
    pub fn summary(&self) -> String {
        match self {
            Event::Datagram {
                from,
                bytes,
                parsed,
            } => match parsed {
                Ok(p) => format!("datagram from {from}: {}", describe_packet(p)),
                Err(e) => format!(
                    "datagram from {from}: {} bytes, not CoAP ({e})",
                    bytes.len()
                ),
            },
            Event::Dropped {
                direction,
                peer,
                bytes,
            } => {
                format!(
                    "dropped {:?} datagram ({} bytes, peer {peer})",
                    direction,
                    bytes.len()
                )
            }
            Event::Duplicate { from, mid } => format!("duplicate CON mid={mid} from {from}"),
            Event::Registered(r) => format!(
                "registered ep={} lt={} b={} lwm2m={} objects={} at {}",
                r.ep,
                r.lifetime,
                r.binding,
                r.lwm2m,
                r.objects.join(","),
                r.location
            ),
            Event::RegistrationRejected { from, ep, code } => format!(
                "registration from {from} (ep={}) rejected with {}",
                ep.as_deref().unwrap_or("-"),
                code_string(MessageClass::Response(*code).into())
            ),
            Event::Updated {
                ep,
                lifetime,
                binding,
                objects,
                ..
            } => {
                let mut s = format!("update ep={ep}");
                if let Some(lt) = lifetime {
                    s.push_str(&format!(" lt={lt}"));
                }
                if let Some(b) = binding {
                    s.push_str(&format!(" b={b}"));
                }
                if let Some(o) = objects {
                    s.push_str(&format!(" objects={o}"));
                }
                s
            }
            Event::Deregistered { ep } => format!("deregistered ep={ep}"),
            Event::Notification {
                ep,
                token,
                seq,
                code,
                payload,
                content_format,
                ..
            } => format!(
                "notification ep={ep} token={} seq={} {} cf={} {}",
                hex(token),
                seq.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                code_string(MessageClass::Response(*code).into()),
                content_format
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into()),
                printable(payload)
            ),
            Event::Send {
                ep,
                content_format,
                payload,
            } => format!(
                "send ep={} cf={} {}",
                ep.as_deref().unwrap_or("-"),
                content_format
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into()),
                printable(payload)
            ),
            Event::Request {
                from,
                method,
                path,
                query,
                ..
            } => {
                let q = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", query.join("&"))
                };
                format!("unhandled request from {from}: {method} {path}{q}")
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------

/// splitmix64: small, fast, and the same on every platform and version.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn percent(&mut self, p: u8) -> bool {
        // Always draw, so the stream position depends only on the datagram count.
        let roll = self.next() % 100;
        roll < u64::from(p)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Exchange {
    op: u64,
    addr: SocketAddr,
    mid: u16,
    token: Vec<u8>,
    bytes: Vec<u8>,
    retransmits: u32,
    interval: Duration,
    next: Instant,
    /// An empty ACK arrived (or the request was NON): no more retransmission.
    acked: bool,
}

struct Held {
    until: Instant,
    addr: SocketAddr,
    bytes: Vec<u8>,
}

struct Scheduled {
    at: Instant,
    dir: Direction,
    addr: SocketAddr,
    bytes: Vec<u8>,
    reorder: bool,
}

/// The reply sent to a received CON message (if any) and when it arrived.
type DedupEntry = (Option<Vec<u8>>, Instant);

struct State {
    config: Config,
    events: VecDeque<Event>,
    /// By registration id.
    regs: BTreeMap<String, Registration>,
    next_reg_id: u32,
    reg_response: Option<ResponseType>,
    /// (peer, mid) of received CON messages -> the reply that was sent.
    dedup: HashMap<(SocketAddr, u16), DedupEntry>,
    pending: Vec<Exchange>,
    results: HashMap<u64, Result<Response, OpError>>,
    next_op: u64,
    /// Tokens of requests the server sent: token -> (ep, addr).
    tokens: HashMap<Vec<u8>, (String, SocketAddr)>,
    forgotten: HashSet<Vec<u8>>,
    next_mid: u16,
    rng: Rng,
    imp: Impairment,
    rng_in: Rng,
    rng_out: Rng,
    held_in: Option<Held>,
    held_out: Option<Held>,
    scheduled: Vec<Scheduled>,
}

struct Shared {
    socket: UdpSocket,
    state: Mutex<State>,
    cv: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn push_event(&mut self, cv: &Condvar, e: Event) {
        self.events.push_back(e);
        cv.notify_all();
    }

    fn set_impairment(&mut self, imp: Impairment) {
        self.rng_in = Rng(imp.seed ^ 0x5EED_0000_0000_0001);
        self.rng_out = Rng(imp.seed ^ 0x5EED_0000_0000_0002);
        self.imp = imp;
    }

    /// Draw the impairment decisions for one datagram: (drop, duplicate, reorder).
    fn decide(&mut self, dir: Direction) -> (bool, bool, bool) {
        let imp = self.imp.clone();
        let rng = match dir {
            Direction::Inbound => &mut self.rng_in,
            Direction::Outbound => &mut self.rng_out,
        };
        let drop = rng.percent(imp.drop_percent);
        let dup = rng.percent(imp.duplicate_percent);
        let reorder = rng.percent(imp.reorder_percent);
        (drop, dup, reorder)
    }

    fn next_mid(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    fn first_timeout(&mut self) -> Duration {
        let base = self.config.ack_timeout.as_secs_f64();
        let f = self.config.ack_random_factor.max(1.0);
        Duration::from_secs_f64(base * (1.0 + (f - 1.0) * self.rng.unit()))
    }
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/// An LwM2M server on a loopback UDP socket, run by its own worker thread.
pub struct TestServer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

/// A request of the server's that is under way; see [`TestServer::begin`].
pub struct Pending<'a> {
    server: &'a TestServer,
    op: u64,
    token: Vec<u8>,
}

impl TestServer {
    /// Bind 127.0.0.1 on an ephemeral port with the default [`Config`].
    pub fn start() -> io::Result<TestServer> {
        Self::start_with((Ipv4Addr::LOCALHOST, 0).into(), Config::default())
    }

    /// Bind [::1] on an ephemeral port.
    pub fn start_v6() -> io::Result<TestServer> {
        Self::start_with((Ipv6Addr::LOCALHOST, 0).into(), Config::default())
    }

    /// Bind the given address.
    pub fn start_on(addr: SocketAddr) -> io::Result<TestServer> {
        Self::start_with(addr, Config::default())
    }

    /// Bind 127.0.0.1 on an ephemeral port with the given configuration.
    pub fn with_config(config: Config) -> io::Result<TestServer> {
        Self::start_with((Ipv4Addr::LOCALHOST, 0).into(), config)
    }

    /// Bind the given address with the given configuration.
    pub fn start_with(addr: SocketAddr, config: Config) -> io::Result<TestServer> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_read_timeout(Some(MAX_POLL))?;
        let addr = socket.local_addr()?;
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (u64::from(addr.port()) << 48);
        let mut rng = Rng(seed);
        let next_mid = rng.next() as u16;
        let mut state = State {
            config,
            events: VecDeque::new(),
            regs: BTreeMap::new(),
            next_reg_id: 0,
            reg_response: None,
            dedup: HashMap::new(),
            pending: Vec::new(),
            results: HashMap::new(),
            next_op: 0,
            tokens: HashMap::new(),
            forgotten: HashSet::new(),
            next_mid,
            rng,
            imp: Impairment::default(),
            rng_in: Rng(0),
            rng_out: Rng(0),
            held_in: None,
            held_out: None,
            scheduled: Vec::new(),
        };
        state.set_impairment(Impairment::default());
        let shared = Arc::new(Shared {
            socket,
            state: Mutex::new(state),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("tern-test-server:{}", addr.port()))
            .spawn(move || run(&worker))?;
        Ok(TestServer {
            shared,
            thread: Some(thread),
            addr,
        })
    }

    /// The local port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `coap://127.0.0.1:PORT` (or `coap://[::1]:PORT`).
    pub fn uri(&self) -> String {
        match self.addr {
            SocketAddr::V4(a) => format!("coap://{}:{}", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("coap://[{}]:{}", a.ip(), a.port()),
        }
    }

    /// The next event, in arrival order, waiting at most `timeout`.
    pub fn wait_event(&self, timeout: Duration) -> Option<Event> {
        self.wait_for(timeout, |_| true)
    }

    /// The next event that matches `pred`, waiting at most `timeout`; events
    /// that do not match are consumed and discarded.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&Event) -> bool) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            while let Some(e) = st.events.pop_front() {
                if pred(&e) {
                    return Some(e);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = self
                .shared
                .cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// All events queued so far, without waiting.
    pub fn drain_events(&self) -> Vec<Event> {
        self.shared.lock().events.drain(..).collect()
    }

    /// The current registration of `ep`.
    pub fn registration(&self, ep: &str) -> Option<Registration> {
        self.shared
            .lock()
            .regs
            .values()
            .find(|r| r.ep == ep)
            .cloned()
    }

    /// All current registrations.
    pub fn registrations(&self) -> Vec<Registration> {
        self.shared.lock().regs.values().cloned().collect()
    }

    /// Apply network impairment from now on (both directions). Resets the
    /// random streams to `imp.seed`.
    pub fn set_impairment(&self, imp: Impairment) {
        self.shared.lock().set_impairment(imp);
    }

    /// Answer every Register with `code` instead of handling it (`None` restores
    /// normal behaviour).
    pub fn set_registration_response(&self, code: Option<ResponseType>) {
        self.shared.lock().reg_response = code;
    }

    /// Send raw bytes to a registered client's address, bypassing impairment.
    /// Does nothing if `ep` is not registered.
    pub fn send_raw(&self, ep: &str, bytes: &[u8]) {
        if let Some(r) = self.registration(ep) {
            let _ = self.shared.socket.send_to(bytes, r.addr);
        }
    }

    /// Send raw bytes to any address, bypassing impairment.
    pub fn send_raw_to(&self, addr: SocketAddr, bytes: &[u8]) {
        let _ = self.shared.socket.send_to(bytes, addr);
    }

    /// Start a CON request to `ep` without waiting. The packet comes prefilled
    /// (CON, GET, fresh message id and random token); `build` may change
    /// anything, including the type (a NON request is not retransmitted) and
    /// the token.
    pub fn begin(&self, ep: &str, build: impl FnOnce(&mut Packet)) -> Result<Pending<'_>, OpError> {
        let mut st = self.shared.lock();
        let addr = st
            .regs
            .values()
            .find(|r| r.ep == ep)
            .map(|r| r.addr)
            .ok_or(OpError::NotRegistered)?;
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(RequestType::Get);
        p.header.message_id = st.next_mid();
        let len = st.config.token_len.clamp(1, 8);
        let mut token = Vec::with_capacity(len);
        while token.len() < len {
            token.extend_from_slice(&st.rng.next().to_be_bytes());
        }
        token.truncate(len);
        p.set_token(token);
        build(&mut p);
        let token = p.get_token().to_vec();
        let bytes = p.to_bytes_unlimited().unwrap_or_default();
        let op = st.next_op;
        st.next_op += 1;
        let interval = st.first_timeout();
        let now = Instant::now();
        st.forgotten.remove(&token);
        st.tokens.insert(token.clone(), (ep.to_string(), addr));
        st.pending.push(Exchange {
            op,
            addr,
            mid: p.header.message_id,
            token: token.clone(),
            bytes: bytes.clone(),
            retransmits: 0,
            interval,
            next: now + interval,
            acked: p.header.get_type() != MessageType::Confirmable,
        });
        transmit(&self.shared, &mut st, Direction::Outbound, addr, bytes, now);
        Ok(Pending {
            server: self,
            op,
            token,
        })
    }

    /// Send a request built by `build` (see [`TestServer::begin`]) and wait for
    /// its response.
    pub fn request(
        &self,
        ep: &str,
        build: impl FnOnce(&mut Packet),
        timeout: Duration,
    ) -> Result<Response, OpError> {
        self.begin(ep, build)?.wait(timeout)
    }

    /// Read (GET), with an Accept option when `accept` is given.
    pub fn read(
        &self,
        ep: &str,
        path: &str,
        accept: Option<u16>,
        timeout: Duration,
    ) -> Result<Response, OpError> {
        self.request(
            ep,
            |p| {
                set_path(p, path);
                if let Some(a) = accept {
                    p.add_option_as(CoapOption::Accept, OptionValueU16(a));
                }
            },
            timeout,
        )
    }

    /// Write: PUT (replace) when `replace`, else POST (partial update).
    pub fn write(
        &self,
        ep: &str,
        path: &str,
        content_format: u16,
        payload: &[u8],
        replace: bool,
        timeout: Duration,
    ) -> Result<Response, OpError> {
        let method = if replace {
            RequestType::Put
        } else {
            RequestType::Post
        };
        self.request(
            ep,
            |p| {
                p.header.code = MessageClass::Request(method);
                set_path(p, path);
                p.add_option_as(CoapOption::ContentFormat, OptionValueU16(content_format));
                p.payload = payload.to_vec();
            },
            timeout,
        )
    }

    /// Execute (POST with optional arguments, no Content-Format).
    pub fn execute(
        &self,
        ep: &str,
        path: &str,
        args: &[u8],
        timeout: Duration,
    ) -> Result<Response, OpError> {
        self.request(
            ep,
            |p| {
                p.header.code = MessageClass::Request(RequestType::Post);
                set_path(p, path);
                p.payload = args.to_vec();
            },
            timeout,
        )
    }

    /// Discover (GET with Accept: application/link-format).
    pub fn discover(&self, ep: &str, path: &str, timeout: Duration) -> Result<Response, OpError> {
        self.read(ep, path, Some(CF_LINK), timeout)
    }

    /// Create (POST to an object, or to an object instance path in 1.1 style).
    pub fn create(
        &self,
        ep: &str,
        path: &str,
        content_format: u16,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<Response, OpError> {
        self.write(ep, path, content_format, payload, false, timeout)
    }

    /// Delete.
    pub fn delete(&self, ep: &str, path: &str, timeout: Duration) -> Result<Response, OpError> {
        self.request(
            ep,
            |p| {
                p.header.code = MessageClass::Request(RequestType::Delete);
                set_path(p, path);
            },
            timeout,
        )
    }

    /// Write-Attributes: PUT with the attributes as Uri-Query, e.g. `"pmin=1&pmax=5"`.
    pub fn write_attributes(
        &self,
        ep: &str,
        path: &str,
        query: &str,
        timeout: Duration,
    ) -> Result<Response, OpError> {
        self.request(
            ep,
            |p| {
                p.header.code = MessageClass::Request(RequestType::Put);
                set_path(p, path);
                for q in query.split('&').filter(|q| !q.is_empty()) {
                    p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
                }
            },
            timeout,
        )
    }

    /// Observe (GET with Observe: 0). Returns the first response and the token,
    /// under which later notifications arrive as [`Event::Notification`].
    pub fn observe(
        &self,
        ep: &str,
        path: &str,
        accept: Option<u16>,
        timeout: Duration,
    ) -> Result<(Response, Vec<u8>), OpError> {
        let pending = self.begin(ep, |p| {
            p.add_option_as(CoapOption::Observe, OptionValueU32(0));
            set_path(p, path);
            if let Some(a) = accept {
                p.add_option_as(CoapOption::Accept, OptionValueU16(a));
            }
        })?;
        let token = pending.token().to_vec();
        pending.wait(timeout).map(|r| (r, token))
    }

    /// Forget an observation's token: its next notification is answered with
    /// RST (the passive cancel of RFC 7641).
    pub fn forget_observation(&self, token: &[u8]) {
        let mut st = self.shared.lock();
        st.tokens.remove(token);
        st.forgotten.insert(token.to_vec());
    }

    /// Stop the worker thread and close the socket (also done on drop).
    pub fn stop(self) {}
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Pending<'_> {
    /// The request's token.
    pub fn token(&self) -> &[u8] {
        &self.token
    }

    /// The result, if it has arrived (does not block).
    pub fn poll(&self) -> Option<Result<Response, OpError>> {
        self.server.shared.lock().results.remove(&self.op)
    }

    /// Wait at most `timeout` for the result.
    pub fn wait(self, timeout: Duration) -> Result<Response, OpError> {
        let deadline = Instant::now() + timeout;
        let shared = &self.server.shared;
        let mut st = shared.lock();
        loop {
            if let Some(r) = st.results.remove(&self.op) {
                return r;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(OpError::Timeout);
            }
            st = shared
                .cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        // Drop removes the exchange.
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        let mut st = self.server.shared.lock();
        st.pending.retain(|x| x.op != self.op);
        st.results.remove(&self.op);
    }
}

// ---------------------------------------------------------------------------
// Worker
// ---------------------------------------------------------------------------

fn run(shared: &Shared) {
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::SeqCst) {
        let wait = {
            let st = shared.lock();
            next_deadline(&st)
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(MAX_POLL)
        };
        let wait = wait.clamp(Duration::from_millis(1), MAX_POLL);
        let _ = shared.socket.set_read_timeout(Some(wait));
        let received = shared.socket.recv_from(&mut buf);
        let now = Instant::now();
        let mut st = shared.lock();
        if let Ok((n, from)) = received {
            let bytes = buf[..n].to_vec();
            transmit(shared, &mut st, Direction::Inbound, from, bytes, now);
        }
        on_timers(shared, &mut st, Instant::now());
    }
}

fn next_deadline(st: &State) -> Option<Instant> {
    let a = st.pending.iter().filter(|x| !x.acked).map(|x| x.next);
    let b = st.scheduled.iter().map(|s| s.at);
    let c = st.held_in.iter().chain(st.held_out.iter()).map(|h| h.until);
    a.chain(b).chain(c).min()
}

fn on_timers(shared: &Shared, st: &mut State, now: Instant) {
    // Delayed datagrams.
    let mut due = Vec::new();
    let mut i = 0;
    while i < st.scheduled.len() {
        if st.scheduled[i].at <= now {
            due.push(st.scheduled.remove(i));
        } else {
            i += 1;
        }
    }
    due.sort_by_key(|s| s.at);
    for s in due {
        deliver(shared, st, s.dir, s.addr, s.bytes, s.reorder, now);
    }
    // Held-back datagrams nobody overtook.
    if st.held_out.as_ref().is_some_and(|h| h.until <= now) {
        if let Some(h) = st.held_out.take() {
            let _ = shared.socket.send_to(&h.bytes, h.addr);
        }
    }
    if st.held_in.as_ref().is_some_and(|h| h.until <= now) {
        if let Some(h) = st.held_in.take() {
            handle_datagram(shared, st, h.addr, &h.bytes, now);
        }
    }
    // Retransmissions.
    let max = st.config.max_retransmit;
    let mut resend = Vec::new();
    let mut failed = Vec::new();
    for x in st.pending.iter_mut().filter(|x| !x.acked && x.next <= now) {
        if x.retransmits < max {
            x.retransmits += 1;
            x.interval *= 2;
            x.next = now + x.interval;
            resend.push((x.addr, x.bytes.clone()));
        } else {
            failed.push(x.op);
        }
    }
    for op in failed {
        st.pending.retain(|x| x.op != op);
        st.results.insert(op, Err(OpError::Timeout));
        shared.cv.notify_all();
    }
    for (addr, bytes) in resend {
        transmit(shared, st, Direction::Outbound, addr, bytes, now);
    }
    // Forget old de-duplication entries.
    if st.dedup.len() > 1024 {
        st.dedup
            .retain(|_, (_, t)| now.duration_since(*t) < EXCHANGE_LIFETIME);
    }
}

/// Pass one datagram through the impairment layer.
fn transmit(
    shared: &Shared,
    st: &mut State,
    dir: Direction,
    addr: SocketAddr,
    bytes: Vec<u8>,
    now: Instant,
) {
    let (drop, dup, reorder) = st.decide(dir);
    if drop {
        st.push_event(
            &shared.cv,
            Event::Dropped {
                direction: dir,
                peer: addr,
                bytes,
            },
        );
        return;
    }
    let copies = if dup { 2 } else { 1 };
    let delay = Duration::from_millis(st.imp.delay_ms);
    for _ in 0..copies {
        if delay.is_zero() {
            deliver(shared, st, dir, addr, bytes.clone(), reorder, now);
        } else {
            st.scheduled.push(Scheduled {
                at: now + delay,
                dir,
                addr,
                bytes: bytes.clone(),
                reorder,
            });
        }
    }
}

/// Deliver after drop/duplicate/delay: apply the reorder hold, then send or handle.
fn deliver(
    shared: &Shared,
    st: &mut State,
    dir: Direction,
    addr: SocketAddr,
    bytes: Vec<u8>,
    reorder: bool,
    now: Instant,
) {
    let hold_for = st.config.reorder_hold;
    let held = match dir {
        Direction::Inbound => st.held_in.take(),
        Direction::Outbound => st.held_out.take(),
    };
    let mut out: Vec<(SocketAddr, Vec<u8>)> = Vec::new();
    match held {
        Some(h) => {
            out.push((addr, bytes));
            out.push((h.addr, h.bytes));
        }
        None if reorder => {
            let h = Held {
                until: now + hold_for,
                addr,
                bytes,
            };
            match dir {
                Direction::Inbound => st.held_in = Some(h),
                Direction::Outbound => st.held_out = Some(h),
            }
        }
        None => out.push((addr, bytes)),
    }
    for (a, b) in out {
        match dir {
            Direction::Outbound => {
                let _ = shared.socket.send_to(&b, a);
            }
            Direction::Inbound => handle_datagram(shared, st, a, &b, now),
        }
    }
}

fn reply(shared: &Shared, st: &mut State, to: SocketAddr, p: &Packet, now: Instant) -> Vec<u8> {
    let bytes = p.to_bytes_unlimited().unwrap_or_default();
    transmit(shared, st, Direction::Outbound, to, bytes.clone(), now);
    bytes
}

fn empty(ty: MessageType, mid: u16) -> Packet {
    let mut p = Packet::new();
    p.header.set_type(ty);
    p.header.code = MessageClass::Empty;
    p.header.message_id = mid;
    p
}

fn handle_datagram(shared: &Shared, st: &mut State, from: SocketAddr, bytes: &[u8], now: Instant) {
    let parsed = Packet::from_bytes(bytes).map_err(|e| format!("{e:?}"));
    let parsed = match parsed {
        Ok(p) if p.header.get_version() != 1 => {
            Err(format!("CoAP version {}", p.header.get_version()))
        }
        other => other,
    };
    st.push_event(
        &shared.cv,
        Event::Datagram {
            from,
            bytes: bytes.to_vec(),
            parsed: parsed.clone(),
        },
    );
    let p = match parsed {
        Ok(p) => p,
        Err(_) => return,
    };
    let ty = p.header.get_type();
    let mid = p.header.message_id;

    if ty == MessageType::Confirmable {
        if let Some((stored, _)) = st.dedup.get(&(from, mid)).cloned() {
            st.push_event(&shared.cv, Event::Duplicate { from, mid });
            if let Some(b) = stored {
                transmit(shared, st, Direction::Outbound, from, b, now);
            }
            return;
        }
    }

    match p.header.code {
        MessageClass::Empty => match ty {
            MessageType::Confirmable => {
                // CoAP ping.
                let rst = empty(MessageType::Reset, mid);
                let b = reply(shared, st, from, &rst, now);
                st.dedup.insert((from, mid), (Some(b), now));
            }
            MessageType::Acknowledgement => {
                if let Some(x) = st
                    .pending
                    .iter_mut()
                    .find(|x| x.mid == mid && x.addr == from)
                {
                    x.acked = true;
                }
            }
            MessageType::Reset => {
                if let Some(pos) = st
                    .pending
                    .iter()
                    .position(|x| x.mid == mid && x.addr == from)
                {
                    let x = st.pending.remove(pos);
                    st.results.insert(x.op, Err(OpError::Reset));
                    shared.cv.notify_all();
                }
            }
            MessageType::NonConfirmable => {}
        },
        MessageClass::Request(method) => {
            let rsp = handle_request(shared, st, from, &p, method, now);
            let mut r = Packet::new();
            r.header.code = MessageClass::Response(rsp.code);
            r.set_token(p.get_token().to_vec());
            for loc in &rsp.location {
                r.add_option(CoapOption::LocationPath, loc.as_bytes().to_vec());
            }
            if ty == MessageType::Confirmable {
                r.header.set_type(MessageType::Acknowledgement);
                r.header.message_id = mid;
                let b = reply(shared, st, from, &r, now);
                st.dedup.insert((from, mid), (Some(b), now));
            } else {
                r.header.set_type(MessageType::NonConfirmable);
                r.header.message_id = st.next_mid();
                reply(shared, st, from, &r, now);
            }
        }
        MessageClass::Response(_) | MessageClass::Reserved(_) => {
            handle_response(shared, st, from, &p, now);
        }
    }
}

fn handle_response(shared: &Shared, st: &mut State, from: SocketAddr, p: &Packet, now: Instant) {
    let ty = p.header.get_type();
    let mid = p.header.message_id;
    let token = p.get_token().to_vec();
    let found = match ty {
        MessageType::Acknowledgement => st
            .pending
            .iter()
            .position(|x| x.mid == mid && x.addr == from && x.token == token),
        _ => st
            .pending
            .iter()
            .position(|x| x.token == token && x.addr == from),
    };
    let ack = |st: &mut State| {
        if ty == MessageType::Confirmable {
            let a = empty(MessageType::Acknowledgement, mid);
            let b = reply(shared, st, from, &a, now);
            st.dedup.insert((from, mid), (Some(b), now));
        }
    };
    if let Some(pos) = found {
        let x = st.pending.remove(pos);
        st.results.insert(x.op, Ok(Response::from_packet(p)));
        shared.cv.notify_all();
        ack(st);
        return;
    }
    if ty == MessageType::Acknowledgement || ty == MessageType::Reset {
        // A late piggybacked response; nothing to do.
        return;
    }
    if st.forgotten.contains(&token) || !st.tokens.contains_key(&token) {
        let rst = empty(MessageType::Reset, mid);
        let b = reply(shared, st, from, &rst, now);
        if ty == MessageType::Confirmable {
            st.dedup.insert((from, mid), (Some(b), now));
        }
        return;
    }
    let ep = st
        .tokens
        .get(&token)
        .map(|(ep, _)| ep.clone())
        .unwrap_or_default();
    let seq = observe_value(p);
    if p.get_option(CoapOption::Observe)
        .is_some_and(|l| !l.is_empty())
    {
        let code = match p.header.code {
            MessageClass::Response(r) => r,
            _ => ResponseType::UnKnown,
        };
        st.push_event(
            &shared.cv,
            Event::Notification {
                ep,
                token,
                seq,
                code,
                payload: p.payload.clone(),
                content_format: content_format(p),
                confirmable: ty == MessageType::Confirmable,
            },
        );
    }
    ack(st);
}

struct Reply {
    code: ResponseType,
    location: Vec<String>,
}

fn code_only(code: ResponseType) -> Reply {
    Reply {
        code,
        location: Vec::new(),
    }
}

fn handle_request(
    shared: &Shared,
    st: &mut State,
    from: SocketAddr,
    p: &Packet,
    method: RequestType,
    _now: Instant,
) -> Reply {
    let path = uri_path(p);
    let query = uri_query(p);
    let param = |k: &str| -> Option<Option<String>> {
        query.iter().find_map(|q| match q.split_once('=') {
            Some((a, v)) if a == k => Some(Some(v.to_string())),
            None if q == k => Some(None),
            _ => None,
        })
    };
    let segs: Vec<&str> = path.iter().map(|s| s.as_str()).collect();
    match (method, segs.as_slice()) {
        (RequestType::Post, ["rd"]) => {
            let ep = param("ep").flatten();
            if let Some(code) = st.reg_response {
                st.push_event(&shared.cv, Event::RegistrationRejected { from, ep, code });
                return code_only(code);
            }
            let Some(ep) = ep.filter(|e| !e.is_empty()) else {
                st.push_event(
                    &shared.cv,
                    Event::RegistrationRejected {
                        from,
                        ep: None,
                        code: ResponseType::BadRequest,
                    },
                );
                return code_only(ResponseType::BadRequest);
            };
            let lifetime = match param("lt").flatten().map(|v| v.parse::<u32>()) {
                None => 86400,
                Some(Ok(v)) => v,
                Some(Err(_)) => {
                    st.push_event(
                        &shared.cv,
                        Event::RegistrationRejected {
                            from,
                            ep: Some(ep),
                            code: ResponseType::BadRequest,
                        },
                    );
                    return code_only(ResponseType::BadRequest);
                }
            };
            let binding = param("b").flatten().unwrap_or_else(|| "U".to_string());
            let lwm2m = param("lwm2m")
                .flatten()
                .unwrap_or_else(|| "1.0".to_string());
            let queue_mode = binding.contains('Q') || param("Q").is_some();
            // A re-registration replaces the old one.
            st.regs.retain(|_, r| r.ep != ep);
            st.next_reg_id += 1;
            let id = st.next_reg_id.to_string();
            let reg = Registration {
                ep,
                lifetime,
                binding,
                lwm2m,
                queue_mode,
                sms: param("sms").flatten(),
                objects: split_links(&String::from_utf8_lossy(&p.payload)),
                location: format!("/rd/{id}"),
                addr: from,
                content_format: content_format(p),
            };
            st.regs.insert(id.clone(), reg.clone());
            st.push_event(&shared.cv, Event::Registered(reg));
            Reply {
                code: ResponseType::Created,
                location: vec!["rd".to_string(), id],
            }
        }
        (RequestType::Post, ["rd", id]) => {
            let id = id.to_string();
            let lifetime = param("lt").flatten().and_then(|v| v.parse::<u32>().ok());
            let binding = param("b").flatten();
            let sms = param("sms").flatten();
            let q = param("Q").is_some();
            let objects = if p.payload.is_empty() {
                None
            } else {
                Some(String::from_utf8_lossy(&p.payload).into_owned())
            };
            let Some(reg) = st.regs.get_mut(&id) else {
                return code_only(ResponseType::NotFound);
            };
            if let Some(lt) = lifetime {
                reg.lifetime = lt;
            }
            if let Some(b) = &binding {
                reg.binding = b.clone();
                reg.queue_mode = b.contains('Q') || q;
            } else if q {
                reg.queue_mode = true;
            }
            if let Some(s) = &sms {
                reg.sms = Some(s.clone());
            }
            if let Some(o) = &objects {
                reg.objects = split_links(o);
            }
            reg.addr = from;
            let ev = Event::Updated {
                ep: reg.ep.clone(),
                location: reg.location.clone(),
                lifetime,
                binding,
                sms,
                queue_mode: reg.queue_mode,
                objects,
            };
            st.push_event(&shared.cv, ev);
            code_only(ResponseType::Changed)
        }
        (RequestType::Delete, ["rd", id]) => match st.regs.remove(*id) {
            Some(reg) => {
                st.push_event(&shared.cv, Event::Deregistered { ep: reg.ep });
                code_only(ResponseType::Deleted)
            }
            None => code_only(ResponseType::NotFound),
        },
        (RequestType::Post, ["dp"]) => {
            let ep = st
                .regs
                .values()
                .find(|r| r.addr == from)
                .map(|r| r.ep.clone());
            st.push_event(
                &shared.cv,
                Event::Send {
                    ep,
                    content_format: content_format(p),
                    payload: p.payload.clone(),
                },
            );
            code_only(ResponseType::Changed)
        }
        _ => {
            let code = if segs.first() == Some(&"rd") {
                if segs.len() <= 2 {
                    ResponseType::MethodNotAllowed
                } else {
                    ResponseType::NotFound
                }
            } else {
                ResponseType::NotFound
            };
            st.push_event(
                &shared.cv,
                Event::Request {
                    from,
                    method: format!("{method:?}").to_uppercase(),
                    path: format!("/{}", path.join("/")),
                    query,
                    payload: p.payload.clone(),
                },
            );
            code_only(code)
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Set Uri-Path options from `"/3/0/1"` (empty segments are skipped).
pub fn set_path(p: &mut Packet, path: &str) {
    p.clear_option(CoapOption::UriPath);
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
    }
}

/// The Uri-Path segments of a message.
pub fn uri_path(p: &Packet) -> Vec<String> {
    options_str(p, CoapOption::UriPath)
}

/// The Uri-Query options of a message.
pub fn uri_query(p: &Packet) -> Vec<String> {
    options_str(p, CoapOption::UriQuery)
}

/// The Location-Path segments of a message.
pub fn location_path(p: &Packet) -> Vec<String> {
    options_str(p, CoapOption::LocationPath)
}

fn options_str(p: &Packet, o: CoapOption) -> Vec<String> {
    p.get_option(o)
        .map(|l| {
            l.iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The Content-Format option, as a number.
pub fn content_format(p: &Packet) -> Option<u16> {
    p.get_first_option_as::<OptionValueU16>(CoapOption::ContentFormat)
        .and_then(|r| r.ok())
        .map(|v| v.0)
}

/// The Observe option, as a number.
pub fn observe_value(p: &Packet) -> Option<u32> {
    p.get_observe_value().and_then(|r| r.ok())
}

/// A code byte as `"2.05"`.
pub fn code_string(raw: u8) -> String {
    format!("{}.{:02}", raw >> 5, raw & 0x1F)
}

/// Split a CoRE link-format payload into its links, keeping each as sent.
/// Commas inside quoted attribute values do not split.
pub fn split_links(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut in_uri = false;
    for c in s.chars() {
        match c {
            '"' if !in_uri => quoted = !quoted,
            '<' if !quoted => in_uri = true,
            '>' if !quoted => in_uri = false,
            ',' if !quoted && !in_uri => {
                let t = cur.trim();
                if !t.is_empty() {
                    out.push(t.to_string());
                }
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    let t = cur.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn printable(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => {
            let mut s = s.to_string();
            if s.len() > 80 {
                let mut cut = 80;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
                s.push_str("...");
            }
            format!("{s:?}")
        }
        _ => format!("<{} bytes>", b.len()),
    }
}

/// One line describing a CoAP message, e.g. `CON POST mid=12 tok=ab01 /rd?ep=x`.
pub fn describe_packet(p: &Packet) -> String {
    let ty = match p.header.get_type() {
        MessageType::Confirmable => "CON",
        MessageType::NonConfirmable => "NON",
        MessageType::Acknowledgement => "ACK",
        MessageType::Reset => "RST",
    };
    let code = match p.header.code {
        MessageClass::Empty => "empty".to_string(),
        MessageClass::Request(r) => format!("{r:?}").to_uppercase(),
        c => code_string(c.into()),
    };
    let mut s = format!(
        "{ty} {code} mid={} tok={}",
        p.header.message_id,
        hex(p.get_token())
    );
    let path = uri_path(p);
    if !path.is_empty() {
        s.push_str(&format!(" /{}", path.join("/")));
    }
    let q = uri_query(p);
    if !q.is_empty() {
        s.push_str(&format!("?{}", q.join("&")));
    }
    let loc = location_path(p);
    if !loc.is_empty() {
        s.push_str(&format!(" loc=/{}", loc.join("/")));
    }
    if let Some(o) = observe_value(p) {
        s.push_str(&format!(" obs={o}"));
    }
    if let Some(cf) = content_format(p) {
        s.push_str(&format!(" cf={cf}"));
    }
    if !p.payload.is_empty() {
        s.push_str(&format!(" {}", printable(&p.payload)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_split_as_sent() {
        assert_eq!(
            split_links("</>;rt=\"oma.lwm2m\";ct=\"60 110\", </1/0>,</3/0>,</3303>;ver=1.1"),
            vec![
                "</>;rt=\"oma.lwm2m\";ct=\"60 110\"",
                "</1/0>",
                "</3/0>",
                "</3303>;ver=1.1"
            ]
        );
        assert!(split_links("").is_empty());
        assert_eq!(split_links("<a,b>;x=\"1,2\""), vec!["<a,b>;x=\"1,2\""]);
    }

    #[test]
    fn rng_is_reproducible() {
        let mut a = Rng(42);
        let mut b = Rng(42);
        let va: Vec<u64> = (0..8).map(|_| a.next()).collect();
        let vb: Vec<u64> = (0..8).map(|_| b.next()).collect();
        assert_eq!(va, vb);
        assert_ne!(Rng(43).next(), va[0]);
    }

    #[test]
    fn code_strings() {
        assert_eq!(code_string(0x45), "2.05");
        assert_eq!(code_string(0x84), "4.04");
        assert_eq!(code_string(0xA0), "5.00");
    }
}
