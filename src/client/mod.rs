//! The client state machine: one per device, serving its LwM2M servers.
//!
//! Driven like a sans-IO protocol object: [`Client::handle_datagram`] for input,
//! [`Client::poll_transmit`] for output, [`Client::poll_timeout`] for the next deadline and
//! [`Client::poll_event`] for what the application should hear about. Time is monotonic
//! milliseconds supplied by the caller; nothing here blocks or allocates.

pub mod dedup;
pub mod dm;
pub mod exchange;
pub mod registration;
pub mod server;

use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;

use heapless::{Deque, String, Vec};

use crate::coap::{self, opt, Code, Message, MessageBuilder, MsgType};
use crate::config::{MAX_ENDPOINT_LEN, MAX_EVENTS, MAX_MESSAGE_SIZE, MAX_SERVERS};
use crate::formats::content_format as cf;
use crate::formats::link::LinkWriter;
use crate::model::{Object, Objects, Path};

use dedup::Dedup;
use exchange::{Exchange, RequestKind, Timer, TOKEN_LEN};
use registration::{Outcome, UPDATE_BINDING, UPDATE_LIFETIME, UPDATE_OBJECTS};
pub use server::{ConfigError as ServerConfigError, Server, ServerConfig, ServerObject};

/// The LwM2M version the client registers with.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Version {
    /// LwM2M 1.0.
    V1_0,
    /// LwM2M 1.1.
    V1_1,
}

/// Client settings.
#[derive(Clone, Copy)]
pub struct Config<'a> {
    /// Endpoint client name (`ep=`).
    pub endpoint: &'a str,
    /// LwM2M version to register with.
    pub version: Version,
    /// Seconds before the lifetime ends at which the Update is sent (at most half the lifetime).
    pub update_margin_s: u32,
    /// The servers.
    pub servers: &'a [ServerConfig<'a>],
}

/// Why the client could not be created.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum ConfigError {
    /// The endpoint name is empty, too long, or not URI-query safe.
    BadEndpoint,
    /// No server, or more than `MAX_SERVERS`.
    ServerCount,
    /// A server setting is invalid.
    Server(ServerConfigError),
}

/// What the platform supplies while the client runs.
pub trait Platform {
    /// Fills `out` with random bytes (tokens, message ids, retransmission jitter).
    fn random(&mut self, out: &mut [u8]);
    /// The application objects (everything but Security and Server).
    fn objects(&mut self) -> &mut dyn Objects;
}

/// Why an incoming datagram was dropped.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
#[repr(u8)]
pub enum DropReason {
    /// Not a CoAP message (bad header, options or payload marker).
    Malformed = 1,
    /// A duplicate whose response is no longer held.
    Duplicate = 2,
    /// A response or ACK that matches no request in flight.
    Unmatched = 3,
    /// An earlier response is still waiting to be sent.
    Busy = 4,
    /// A datagram for a server slot that does not exist.
    UnknownServer = 5,
    /// Larger than `MAX_MESSAGE_SIZE`.
    TooLarge = 6,
    /// A non-confirmable request or a response with a critical option the client does not
    /// know (RFC 7252 section 5.4.1: rejected; a confirmable response gets RST).
    BadOption = 7,
}

/// Something the application should know about.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Event {
    /// The server needs a connection: open one and call [`Client::connection_opened`].
    ConnectionNeeded { server: u8 },
    /// The server has no more use for its connection: close it.
    ConnectionDone { server: u8 },
    /// Registered (2.01).
    Registered { server: u8 },
    /// Register refused with a 4.xx: not retried until [`Client::restart`].
    RegistrationRejected { server: u8, code: Code },
    /// Register failed (timeout, 5.xx): retried after `delay_ms`.
    RegistrationRetry { server: u8, delay_ms: u32 },
    /// Registration Update succeeded.
    Updated { server: u8 },
    /// Registration Update failed: the client registers again.
    UpdateFailed { server: u8 },
    /// De-registered.
    Deregistered { server: u8 },
    /// A datagram was dropped.
    Dropped { server: u8, reason: DropReason },
    /// Events were lost because the queue was full (the count since the last report).
    EventsLost { count: u16 },
}

/// A datagram to send to a server.
pub struct Transmit<'a> {
    /// The server's slot (the connection to send on).
    pub server: u8,
    /// The datagram.
    pub data: &'a [u8],
}

/// The response to the last request, kept to answer a duplicate again.
struct Reply {
    buf: [u8; MAX_MESSAGE_SIZE],
    len: usize,
    server: u8,
    message_id: u16,
    unsent: bool,
}

/// The LwM2M client engine.
pub struct Client {
    endpoint: String<MAX_ENDPOINT_LEN>,
    version: Version,
    margin_s: u32,
    servers: Vec<Server, MAX_SERVERS>,
    next_mid: u16,
    dedup: Dedup,
    reply: Reply,
    control: Option<u8>,
    control_buf: [u8; 4],
    tx: [u8; MAX_MESSAGE_SIZE],
    events: Deque<Event, MAX_EVENTS>,
    events_lost: u16,
}

impl Client {
    /// A client for `config`; `seed` (random bytes) picks the first message id.
    pub fn new(config: &Config<'_>, seed: u16) -> Result<Client, ConfigError> {
        let mut slot = MaybeUninit::uninit();
        Client::init_in_place(&mut slot, config, seed)?;
        // SAFETY: init_in_place returned Ok, so every field of the slot is initialised.
        Ok(unsafe { slot.assume_init() })
    }

    /// Initialises a client in `slot` without building it on the stack first (the message
    /// buffers make a client a few kilobytes: firmware stacks are smaller than that).
    pub fn init_in_place<'s>(
        slot: &'s mut MaybeUninit<Client>,
        config: &Config<'_>,
        seed: u16,
    ) -> Result<&'s mut Client, ConfigError> {
        let endpoint = String::try_from(config.endpoint).map_err(|_| ConfigError::BadEndpoint)?;
        if endpoint.is_empty() || !endpoint.bytes().all(query_safe) {
            return Err(ConfigError::BadEndpoint);
        }
        if config.servers.is_empty() || config.servers.len() > MAX_SERVERS {
            return Err(ConfigError::ServerCount);
        }
        let p = slot.as_mut_ptr();
        // SAFETY: `p` points to writable, aligned storage for a Client. Each field is
        // written once through a raw field pointer (no reference to uninitialised memory
        // is formed), and the byte arrays are plain data, valid when zeroed.
        unsafe {
            addr_of_mut!((*p).endpoint).write(endpoint);
            addr_of_mut!((*p).version).write(config.version);
            addr_of_mut!((*p).margin_s).write(config.update_margin_s);
            addr_of_mut!((*p).servers).write(Vec::new());
            addr_of_mut!((*p).next_mid).write(seed);
            addr_of_mut!((*p).dedup).write(Dedup::new());
            addr_of_mut!((*p).reply.buf).write_bytes(0, 1);
            addr_of_mut!((*p).reply.len).write(0);
            addr_of_mut!((*p).reply.server).write(0);
            addr_of_mut!((*p).reply.message_id).write(0);
            addr_of_mut!((*p).reply.unsent).write(false);
            addr_of_mut!((*p).control).write(None);
            addr_of_mut!((*p).control_buf).write([0; 4]);
            addr_of_mut!((*p).tx).write_bytes(0, 1);
            addr_of_mut!((*p).events).write(Deque::new());
            addr_of_mut!((*p).events_lost).write(0);
        }
        // SAFETY: every field was initialised above.
        let client = unsafe { slot.assume_init_mut() };
        for (i, s) in config.servers.iter().enumerate() {
            let index = u16::try_from(i).map_err(|_| ConfigError::ServerCount)?;
            let server = Server::new(s, index).map_err(ConfigError::Server)?;
            client
                .servers
                .push(server)
                .map_err(|_| ConfigError::ServerCount)?;
            client.push_event(Event::ConnectionNeeded { server: slot_of(i) });
        }
        Ok(client)
    }

    /// The server accounts.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The platform opened the server's connection: registration starts.
    pub fn connection_opened(&mut self, server: u8) {
        if let Some(s) = self.servers.get_mut(usize::from(server)) {
            s.connected = true;
        }
    }

    /// The platform could not open the server's connection: counts as a failed Register.
    pub fn connection_failed(&mut self, server: u8, now: u64) {
        if let Some(s) = self.servers.get_mut(usize::from(server)) {
            s.connected = false;
            let delay = registration::backoff_ms(0);
            s.reg.phase = registration::Phase::Unregistered {
                at: now.saturating_add(delay),
            };
        }
    }

    /// Registration Update on every registered server (for example after the application
    /// added or removed object instances, pass `objects_changed`).
    pub fn update(&mut self, objects_changed: bool) {
        let flags = if objects_changed {
            UPDATE_OBJECTS
        } else {
            registration::UPDATE_TRIGGER
        };
        for s in self.servers.iter_mut() {
            s.reg.request_update(flags);
        }
    }

    /// De-registers from every server; [`Event::Deregistered`] follows for each.
    pub fn deregister(&mut self) {
        for s in self.servers.iter_mut() {
            s.reg.request_deregister();
        }
    }

    /// True when every server is de-registered or refused registration.
    pub fn is_idle(&self) -> bool {
        self.servers.iter().all(|s| {
            s.reg.exchange.is_none()
                && matches!(
                    s.reg.phase,
                    registration::Phase::Deregistered | registration::Phase::Rejected
                )
        })
    }

    /// Starts over after a refusal or a de-registration: every server registers again.
    pub fn restart(&mut self, now: u64) {
        for s in self.servers.iter_mut() {
            s.reg = registration::Registration::new();
            s.reg.phase = registration::Phase::Unregistered { at: now };
        }
    }

    /// The next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events_lost > 0 && !self.events.is_full() {
            let count = core::mem::take(&mut self.events_lost);
            return Some(Event::EventsLost { count });
        }
        self.events.pop_front()
    }

    fn push_event(&mut self, e: Event) {
        if self.events.is_full() {
            self.events.pop_front();
            self.events_lost = self.events_lost.saturating_add(1);
        }
        // Cannot fail: a slot was just freed.
        let _ = self.events.push_back(e);
    }

    /// When the client next needs [`Client::poll_transmit`]: `Some(0)`-like past instants
    /// mean now; `None` means only input can give it work.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.reply.unsent || self.control.is_some() {
            return Some(0);
        }
        self.servers
            .iter()
            .filter(|s| s.connected)
            .filter_map(|s| match &s.reg.exchange {
                Some(e) => Some(e.deadline().unwrap_or(0)),
                None => s.reg.deadline(),
            })
            .min()
    }

    /// Handles one datagram that arrived on `server`'s connection.
    pub fn handle_datagram(
        &mut self,
        server: u8,
        data: &[u8],
        now: u64,
        platform: &mut dyn Platform,
    ) {
        if usize::from(server) >= self.servers.len() {
            return self.push_event(Event::Dropped {
                server,
                reason: DropReason::UnknownServer,
            });
        }
        if data.len() > MAX_MESSAGE_SIZE {
            return self.push_event(Event::Dropped {
                server,
                reason: DropReason::TooLarge,
            });
        }
        let msg = match Message::parse(data) {
            Ok(m) => m,
            Err(_) => return self.malformed(server, data),
        };
        let code = msg.code();
        match msg.mtype() {
            MsgType::Con if code.is_empty() => self.reset(server, msg.message_id()),
            MsgType::Ack | MsgType::Rst if code.is_empty() => {
                self.empty_ack_or_reset(server, &msg, now)
            }
            _ if code.is_response() && msg.first_unknown_critical(|_| false).is_some() => {
                // No critical option is understood in a response (Block1/Block2 included).
                if msg.mtype() == MsgType::Con {
                    self.reset(server, msg.message_id());
                }
                self.push_event(Event::Dropped {
                    server,
                    reason: DropReason::BadOption,
                })
            }
            MsgType::Ack if code.is_response() => self.response(server, &msg, now),
            MsgType::Con | MsgType::Non if code.is_response() => {
                self.separate_response(server, &msg, now)
            }
            MsgType::Con | MsgType::Non if code.is_request() => {
                self.request(server, &msg, now, platform)
            }
            // An empty NON, a request in an ACK or RST, a reserved code class: a format
            // error, rejected with RST when confirmable.
            MsgType::Con => self.reset(server, msg.message_id()),
            _ => self.push_event(Event::Dropped {
                server,
                reason: DropReason::Malformed,
            }),
        }
    }

    /// A message that does not parse: RST when it is confirmable, else silence.
    fn malformed(&mut self, server: u8, data: &[u8]) {
        if let Some(h) = coap::peek_header(data) {
            if h.mtype == MsgType::Con {
                self.reset(server, h.message_id);
            }
        }
        self.push_event(Event::Dropped {
            server,
            reason: DropReason::Malformed,
        });
    }

    fn reset(&mut self, server: u8, message_id: u16) {
        self.control_message(server, MsgType::Rst, message_id);
    }

    fn control_message(&mut self, server: u8, mtype: MsgType, message_id: u16) {
        if coap::empty(&mut self.control_buf, mtype, message_id).is_ok() {
            self.control = Some(server);
        }
    }

    fn empty_ack_or_reset(&mut self, server: u8, msg: &Message<'_>, now: u64) {
        let Some(s) = self.servers.get_mut(usize::from(server)) else {
            return;
        };
        let Some(ex) = s
            .reg
            .exchange
            .as_mut()
            .filter(|e| e.message_id == msg.message_id())
        else {
            return self.push_event(Event::Dropped {
                server,
                reason: DropReason::Unmatched,
            });
        };
        if msg.mtype() == MsgType::Ack {
            ex.acknowledged(now);
        } else if let Some(o) = s.reg.on_failure(now) {
            self.outcome(server, o);
        }
    }

    fn response(&mut self, server: u8, msg: &Message<'_>, now: u64) {
        let Some(s) = self.servers.get_mut(usize::from(server)) else {
            return;
        };
        let matched = s
            .reg
            .exchange
            .is_some_and(|e| e.message_id == msg.message_id() && e.matches_token(msg.token()));
        if !matched {
            return self.push_event(Event::Dropped {
                server,
                reason: DropReason::Unmatched,
            });
        }
        let (lifetime, margin) = (s.lifetime_s, self.margin_s);
        if let Some(o) = s.reg.on_response(msg, now, lifetime, margin) {
            self.outcome(server, o);
        }
    }

    fn separate_response(&mut self, server: u8, msg: &Message<'_>, now: u64) {
        let matched = self
            .servers
            .get(usize::from(server))
            .and_then(|s| s.reg.exchange)
            .is_some_and(|e| e.matches_token(msg.token()));
        let con = msg.mtype() == MsgType::Con;
        if !matched {
            // A retransmission of a separate response already taken (our ACK was lost) is
            // acknowledged again (RFC 7252 section 4.5); anything else unknown is reset.
            if con && self.dedup.contains(server, msg.message_id(), now) {
                self.control_message(server, MsgType::Ack, msg.message_id());
                return self.push_event(Event::Dropped {
                    server,
                    reason: DropReason::Duplicate,
                });
            }
            if con {
                self.reset(server, msg.message_id());
            }
            return self.push_event(Event::Dropped {
                server,
                reason: DropReason::Unmatched,
            });
        }
        if con {
            self.dedup.seen(server, msg.message_id(), true, now);
            self.control_message(server, MsgType::Ack, msg.message_id());
        }
        let margin = self.margin_s;
        let Some(s) = self.servers.get_mut(usize::from(server)) else {
            return;
        };
        let lifetime = s.lifetime_s;
        if let Some(o) = s.reg.on_response(msg, now, lifetime, margin) {
            self.outcome(server, o);
        }
    }

    fn outcome(&mut self, server: u8, o: Outcome) {
        let e = match o {
            Outcome::Registered => Event::Registered { server },
            Outcome::Rejected(code) => Event::RegistrationRejected { server, code },
            Outcome::RetryIn(ms) => Event::RegistrationRetry {
                server,
                delay_ms: u32::try_from(ms).unwrap_or(u32::MAX),
            },
            Outcome::Updated => Event::Updated { server },
            Outcome::UpdateFailed => Event::UpdateFailed { server },
            Outcome::Deregistered => {
                self.push_event(Event::Deregistered { server });
                Event::ConnectionDone { server }
            }
        };
        self.push_event(e);
    }

    fn request(&mut self, server: u8, msg: &Message<'_>, now: u64, platform: &mut dyn Platform) {
        let con = msg.mtype() == MsgType::Con;
        if self.dedup.seen(server, msg.message_id(), con, now) {
            let cached = self.reply.server == server
                && self.reply.message_id == msg.message_id()
                && self.reply.len > 0;
            if con && cached {
                self.reply.unsent = true;
            } else {
                self.push_event(Event::Dropped {
                    server,
                    reason: DropReason::Duplicate,
                });
            }
            return;
        }
        if self.reply.unsent {
            // Not answered: the server retransmits a CON, and we are free by then. Only this
            // message is forgotten; earlier ones stay de-duplicated.
            self.dedup.forget(server, msg.message_id());
            return self.push_event(Event::Dropped {
                server,
                reason: DropReason::Busy,
            });
        }
        if !con && msg.first_unknown_critical(known_request_option).is_some() {
            // A NON request is rejected by silence; a CON one gets 4.02 below.
            return self.push_event(Event::Dropped {
                server,
                reason: DropReason::BadOption,
            });
        }
        let (mtype, mid) = if con {
            (MsgType::Ack, msg.message_id())
        } else {
            (MsgType::Non, self.mid())
        };
        let len = respond(&mut self.reply.buf, mtype, mid, msg, |path, b| {
            route(path, msg, &mut self.servers, platform, b)
        });
        self.reply.len = len;
        self.reply.server = server;
        self.reply.message_id = msg.message_id();
        self.reply.unsent = len > 0;
    }

    fn mid(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    /// The next datagram to send, if any; call until `None` after input and at deadlines.
    pub fn poll_transmit(&mut self, now: u64, platform: &mut dyn Platform) -> Option<Transmit<'_>> {
        if let Some(server) = self.control.take() {
            return Some(Transmit {
                server,
                data: &self.control_buf,
            });
        }
        if self.reply.unsent {
            self.reply.unsent = false;
            let data = self.reply.buf.get(..self.reply.len).unwrap_or(&[]);
            return Some(Transmit {
                server: self.reply.server,
                data,
            });
        }
        for i in 0..self.servers.len() {
            if let Some(len) = self.poll_server(i, now, platform) {
                let data = self.tx.get(..len).unwrap_or(&[]);
                return Some(Transmit {
                    server: slot_of(i),
                    data,
                });
            }
        }
        None
    }

    /// Runs one server's timers; returns the length of a request written to `tx`.
    fn poll_server(&mut self, i: usize, now: u64, platform: &mut dyn Platform) -> Option<usize> {
        let s = self.servers.get_mut(i)?;
        if !s.connected {
            return None;
        }
        if let Some(ex) = s.reg.exchange {
            match ex.check(now) {
                Timer::Wait => return None,
                Timer::Retransmit => return self.send_request(i, now, platform),
                Timer::GiveUp => {
                    let o = s.reg.on_failure(now);
                    if let Some(o) = o {
                        self.outcome(slot_of(i), o);
                    }
                }
            }
        }
        let s = self.servers.get_mut(i)?;
        let kind = s.reg.due(now)?;
        let mut token = [0u8; TOKEN_LEN];
        platform.random(&mut token);
        let mut jitter = [0u8; 2];
        platform.random(&mut jitter);
        let jitter = u16::from_le_bytes(jitter);
        let mid = self.mid();
        let s = self.servers.get_mut(i)?;
        s.reg.start(Exchange::new(kind, mid, token, jitter));
        self.send_request(i, now, platform)
    }

    /// Encodes the request in flight of server `i` into `tx` and arms its timer.
    fn send_request(&mut self, i: usize, now: u64, platform: &mut dyn Platform) -> Option<usize> {
        let req = RequestContext {
            endpoint: &self.endpoint,
            version: self.version,
            servers: &self.servers,
        };
        let result = req.encode(i, &mut self.tx, platform.objects());
        let s = self.servers.get_mut(i)?;
        match result {
            Ok(len) => {
                if let Some(ex) = s.reg.exchange.as_mut() {
                    ex.sent(now);
                }
                Some(len)
            }
            Err(_) => {
                // The request does not fit the message buffer: a failure like a timeout.
                let o = s.reg.on_failure(now);
                if let Some(o) = o {
                    self.outcome(slot_of(i), o);
                }
                None
            }
        }
    }
}

/// Server slot numbers fit a byte: `MAX_SERVERS` is at most 8 (checked by `build.rs`).
fn slot_of(i: usize) -> u8 {
    u8::try_from(i).unwrap_or(u8::MAX)
}

/// Characters allowed unescaped in a Uri-Query value we build.
fn query_safe(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~' | b':' | b'@')
}

/// Builds the response to `req` into `buf`: the handler streams a payload into the builder
/// and returns the code; on an error code the response is rebuilt without a payload.
/// Returns the response length (0 when nothing could be built).
fn respond(
    buf: &mut [u8],
    mtype: MsgType,
    mid: u16,
    req: &Message<'_>,
    handler: impl FnOnce(&Path, &mut MessageBuilder<'_>) -> Result<Code, Code>,
) -> usize {
    let token = req.token();
    let result = match MessageBuilder::new(buf, mtype, Code::CONTENT, mid, token) {
        Ok(mut b) => {
            let outcome = match request_path(req) {
                Ok(path) => handler(&path, &mut b),
                Err(code) => Err(code),
            };
            outcome.map(|code| (code, b.finish()))
        }
        Err(_) => return 0,
    };
    match result {
        Ok((code, len)) => {
            if let Some(c) = buf.get_mut(1) {
                *c = code.0;
            }
            len
        }
        Err(code) => MessageBuilder::new(buf, mtype, code, mid, token)
            .map(|b| b.finish())
            .unwrap_or(0),
    }
}

/// Options a request may carry; any other critical option gets 4.02.
fn known_request_option(n: u16) -> bool {
    matches!(
        n,
        opt::URI_HOST
            | opt::URI_PORT
            | opt::URI_PATH
            | opt::URI_QUERY
            | opt::CONTENT_FORMAT
            | opt::ACCEPT
    )
}

fn request_path(req: &Message<'_>) -> Result<Path, Code> {
    if req.first_unknown_critical(known_request_option).is_some() {
        return Err(Code::BAD_OPTION);
    }
    Path::from_segments(req.options_of(opt::URI_PATH)).ok_or(Code::NOT_FOUND)
}

/// Finds the object a request is for and hands the request to device management.
fn route(
    path: &Path,
    req: &Message<'_>,
    servers: &mut [Server],
    platform: &mut dyn Platform,
    b: &mut MessageBuilder<'_>,
) -> Result<Code, Code> {
    match path.object_id() {
        None => Err(Code::METHOD_NOT_ALLOWED),
        // The Security object belongs to the bootstrap interface only.
        Some(0) => Err(Code::UNAUTHORIZED),
        Some(1) => dm::dispatch(req, path, &mut ServerObject { servers }, b),
        Some(oid) => {
            let obj: &mut dyn Object = platform.objects().find(oid).ok_or(Code::NOT_FOUND)?;
            dm::dispatch(req, path, obj, b)
        }
    }
}

/// What encoding a registration request needs from the client.
struct RequestContext<'c> {
    endpoint: &'c str,
    version: Version,
    servers: &'c [Server],
}

impl RequestContext<'_> {
    /// Encodes the request in flight of server `i` into `buf`.
    fn encode(
        &self,
        i: usize,
        buf: &mut [u8],
        objects: &mut dyn Objects,
    ) -> Result<usize, coap::BuildError> {
        let s = self.servers.get(i).ok_or(coap::BuildError::NoSpace)?;
        let ex = s.reg.exchange.ok_or(coap::BuildError::NoSpace)?;
        let code = if ex.kind == RequestKind::Deregister {
            Code::DELETE
        } else {
            Code::POST
        };
        let mut b = MessageBuilder::new(buf, MsgType::Con, code, ex.message_id, &ex.token)?;
        let flags = match ex.kind {
            RequestKind::Register => {
                b.option(opt::URI_PATH, b"rd")?;
                UPDATE_LIFETIME | UPDATE_BINDING | UPDATE_OBJECTS
            }
            RequestKind::Update | RequestKind::Deregister => {
                for seg in s.reg.location() {
                    b.option(opt::URI_PATH, seg)?;
                }
                if ex.kind == RequestKind::Deregister {
                    0
                } else {
                    s.reg.sending()
                }
            }
        };
        if flags & UPDATE_OBJECTS != 0 {
            b.option_uint(opt::CONTENT_FORMAT, u32::from(cf::LINK))?;
        }
        self.queries(&mut b, s, ex.kind, flags)?;
        if flags & UPDATE_OBJECTS != 0 {
            self.object_links(b.payload_writer()?, objects)
                .map_err(|_| coap::BuildError::NoSpace)?;
        }
        Ok(b.finish())
    }

    fn queries(
        &self,
        b: &mut MessageBuilder<'_>,
        s: &Server,
        kind: RequestKind,
        flags: u8,
    ) -> Result<(), coap::BuildError> {
        let mut q = [0u8; MAX_ENDPOINT_LEN + 3];
        if kind == RequestKind::Register {
            b.option(
                opt::URI_QUERY,
                query(&mut q, b"ep=", self.endpoint.as_bytes()),
            )?;
        }
        if flags & UPDATE_LIFETIME != 0 {
            let mut digits = [0u8; 20];
            let lt = crate::util::u64_to_dec(u64::from(s.lifetime_s), &mut digits);
            b.option(opt::URI_QUERY, query(&mut q, b"lt=", lt))?;
        }
        if kind == RequestKind::Register {
            let v: &[u8] = if self.version == Version::V1_1 {
                b"1.1"
            } else {
                b"1.0"
            };
            b.option(opt::URI_QUERY, query(&mut q, b"lwm2m=", v))?;
        }
        if flags & UPDATE_BINDING != 0 {
            b.option(opt::URI_QUERY, query(&mut q, b"b=", s.binding().as_bytes()))?;
        }
        Ok(())
    }

    /// The CoRE link list of objects and instances (the Security object is never listed).
    fn object_links(
        &self,
        w: &mut crate::buf::Writer<'_>,
        objects: &mut dyn Objects,
    ) -> Result<(), crate::formats::FormatError> {
        let mut links = LinkWriter::new(w);
        if self.version == Version::V1_1 {
            links.link(&Path::ROOT)?;
            links.attr_str("rt", "oma.lwm2m")?;
            links.attr_uint("ct", u64::from(cf::TLV))?;
        }
        for s in self.servers {
            links.link(&Path::instance(1, s.server_iid))?;
        }
        let mut index = 0;
        while let Some(obj) = objects.object(index) {
            index += 1;
            object_links(&mut links, obj)?;
        }
        Ok(())
    }
}

/// `</oid>;ver=x.y` when the version is not 1.0 or there is no instance, then `</oid/iid>`.
fn object_links(
    links: &mut LinkWriter<'_, '_>,
    obj: &dyn Object,
) -> Result<(), crate::formats::FormatError> {
    let oid = obj.id();
    let (major, minor) = obj.version();
    let versioned = (major, minor) != (1, 0);
    if versioned || obj.instance(0).is_none() {
        links.link(&Path::object(oid))?;
        if versioned {
            links.attr_raw("ver", &dm::version_text(major, minor))?;
        }
    }
    let mut i = 0;
    while let Some(iid) = obj.instance(i) {
        links.link(&Path::instance(oid, iid))?;
        i += 1;
    }
    Ok(())
}

/// `prefix` + `value` in `buf`, cut to the buffer's size (values are checked to fit).
fn query<'q>(buf: &'q mut [u8], prefix: &[u8], value: &[u8]) -> &'q [u8] {
    let mut w = crate::buf::Writer::new(buf);
    let _ = w.put(prefix);
    let _ = w.put(value);
    let (buf, len) = w.finish();
    buf.get(..len).unwrap_or(&[])
}
