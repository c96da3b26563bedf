//! The client state machine: one per device, serving its LwM2M servers.
//!
//! Driven like a sans-IO protocol object: [`Engine::handle_datagram`] for input,
//! [`Client::poll_transmit`] for output, [`Engine::poll_timeout`] for the next deadline and
//! [`Engine::poll_event`] for what the application should hear about. Time is monotonic
//! milliseconds supplied by the caller; nothing here blocks or allocates.
//!
//! Every deadline is an absolute instant on the caller's `u64` clock (a 32-bit tick
//! counter is to be widened by the caller, counting its wraps). A clock that jumps forward
//! gets what is overdue done once: one retransmission (its timeout then doubles from the
//! jump), one Update; never a burst. A clock that goes backward (a caller that is not
//! monotonic) makes time stand still for the engine: nothing panics and nothing is done
//! early, requests are still answered, and every deadline keeps its instant, so what was
//! due waits until the clock is back there (`tests/time.rs`).

#[cfg(feature = "access-control")]
pub mod acl;
#[cfg(feature = "attributes")]
pub mod attributes;
#[cfg(feature = "blockwise")]
mod blockwise;
#[cfg(feature = "bootstrap")]
pub mod bootstrap;
#[cfg(feature = "platform-credentials")]
mod credentials;
pub mod dedup;
pub mod dm;
#[cfg(feature = "firmware-update")]
pub mod download;
pub mod exchange;
#[cfg(feature = "observe")]
pub mod observe;
#[cfg(feature = "persistence")]
pub mod persist;
#[cfg(feature = "queue-mode")]
pub mod queue;
#[cfg(feature = "records")]
mod records;
pub mod registration;
#[cfg(feature = "dtls")]
mod secure;
#[cfg(feature = "dtls")]
pub use secure::PskError;
#[cfg(feature = "bootstrap")]
pub mod security;
#[cfg(feature = "send")]
pub mod send;
pub mod server;

use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;

use heapless::{String, Vec};

use crate::coap::{self, opt, Code, Message, MessageBuilder, MsgType};
use crate::config::{MAX_ENDPOINT_LEN, MAX_EVENTS, MAX_MESSAGE_SIZE, MAX_SERVERS};
use crate::formats::content_format as cf;
use crate::formats::link::LinkWriter;
use crate::model::{Object, Objects, Path};

use dedup::Dedup;
use exchange::{Exchange, RequestKind, Timer, TOKEN_LEN};
use registration::{UPDATE_BINDING, UPDATE_LIFETIME, UPDATE_OBJECTS};
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
    /// The firmware download failed: the Firmware Update object should go to Idle with
    /// `result` (`Firmware::download_failed`).
    #[cfg(feature = "firmware-update")]
    fn download_failed(&mut self, result: crate::model::UpdateResult) {
        let _ = result;
    }
}

impl Event {
    /// An instruction to the platform (open or close a connection), not a report.
    fn is_command(&self) -> bool {
        match self {
            Event::ConnectionNeeded { .. } | Event::ConnectionDone { .. } => true,
            #[cfg(feature = "firmware-update")]
            Event::DownloadConnectionNeeded => true,
            _ => false,
        }
    }
}

/// Events the queue holds: `TERN_MAX_EVENTS`, and at least room for every connection a
/// bootstrap closes and opens (one of each per server) and the firmware download's, so that
/// instructions to the platform are never dropped for want of room.
pub const EVENT_SLOTS: usize = if MAX_EVENTS > 2 * MAX_SERVERS + 2 {
    MAX_EVENTS
} else {
    2 * MAX_SERVERS + 2
};
const _: () = assert!(EVENT_SLOTS <= 64, "the event ring's indices are bytes");

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
    /// The server is disabled (it executed Disable, /1/x/4): its messages are ignored
    /// until the Disable Timeout ends.
    Disabled = 8,
    /// A DTLS record that did not authenticate, was replayed or belongs to no epoch of the
    /// session (dropped, as RFC 6347 section 4.1.2.7 says).
    Unauthenticated = 9,
}

/// Something the application should know about.
///
/// `repr(u8)` fixes the layout: all-zero bytes are `ConnectionNeeded { server: 0 }`, which
/// lets the client's event ring start zeroed.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
#[repr(u8)]
pub enum Event {
    /// The server needs a connection: open one and call [`Engine::connection_opened`].
    ConnectionNeeded { server: u8 },
    /// The server has no more use for its connection: close it, once what
    /// [`Client::poll_transmit`] gives has been sent (a secured server's close_notify).
    /// `server` is `download::DOWNLOAD_SLOT` for the firmware download's connection.
    ConnectionDone { server: u8 },
    /// The firmware download needs a connection to [`Engine::download_uri`]: open one and
    /// call [`Engine::download_connection_opened`] (or `download_connection_failed`).
    #[cfg(feature = "firmware-update")]
    DownloadConnectionNeeded,
    /// A block of the firmware package arrived: `received` bytes so far of `total` (0
    /// while the server has not said).
    #[cfg(feature = "firmware-update")]
    DownloadProgress { received: u32, total: u32 },
    /// Registered (2.01).
    Registered { server: u8 },
    /// Register refused with a 4.xx: not retried until [`Engine::restart`].
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
    /// Every Register attempt of every communication sequence failed (Server resources
    /// 17-20): not retried until [`Engine::restart`].
    RegistrationFailed { server: u8 },
    /// An observation of `path` ended on the client's side: the server answered a
    /// notification with RST, or never acknowledged a confirmable one.
    #[cfg(feature = "observe")]
    ObservationEnded { server: u8, path: Path },
    /// The Send was acknowledged with a 2.xx ([`Client::send`]).
    #[cfg(feature = "send")]
    Sent { server: u8 },
    /// The server answered the Send with an error `code`.
    #[cfg(feature = "send")]
    SendRefused { server: u8, code: Code },
    /// The Send got no response (retransmissions exhausted), a Reset, or could not be
    /// sent (the registration ended, the connection was lost).
    #[cfg(feature = "send")]
    SendTimeout { server: u8 },
    /// A Bootstrap-Finish was accepted: the DM servers are the ones the bootstrap server
    /// wrote (each gets [`Event::ConnectionNeeded`]), once the registered servers it
    /// dropped have de-registered.
    #[cfg(feature = "bootstrap")]
    Bootstrapped,
    /// The Bootstrap-Request failed or the bootstrap timed out: it starts over.
    #[cfg(feature = "bootstrap")]
    BootstrapFailed,
    /// Queue mode: the awake time after the last exchange with the server is over; the
    /// application may stop listening on its connection until [`Event::Awake`].
    #[cfg(feature = "queue-mode")]
    Sleeping { server: u8 },
    /// Queue mode: the client sends to the server again after sleeping (an Update, a Send,
    /// a notification), or the server's datagram arrived anyway.
    #[cfg(feature = "queue-mode")]
    Awake { server: u8 },
    /// `count` notifications for the server that were held while it slept or was offline
    /// were dropped: the oldest, to make room (`TERN_NOTIFY_QUEUE_BYTES`, or the
    /// observation's `hqmax`), or all it had when a new registration ended its
    /// observations.
    #[cfg(all(feature = "queue-mode", feature = "observe"))]
    NotificationsDropped { server: u8, count: u16 },
    /// The DTLS handshake with `server` failed (`error`); it starts again after a minute.
    #[cfg(feature = "dtls")]
    HandshakeFailed {
        server: u8,
        error: crate::dtls::Error,
    },
}

/// A datagram to send to a server.
pub struct Transmit<'a> {
    /// The server's slot (the connection to send on).
    pub server: u8,
    /// The datagram.
    pub data: &'a [u8],
}

/// The longest response kept to answer a duplicate of its request again: every response
/// to a request that is not a GET or FETCH fits (header, token, a Location-Path or Block1
/// option, a bootstrap diagnostic). A longer one (the content of a GET or FETCH) is
/// produced again for a duplicate, as RFC 7252 section 4.5 allows for idempotent requests.
const REPLY_CACHE: usize = 64;

/// Where the reply cache starts in the client's [`Buffer`].
const CACHE_AT: u16 = MAX_MESSAGE_SIZE as u16;
const _: () = assert!(MAX_MESSAGE_SIZE + REPLY_CACHE <= u16::MAX as usize);

/// The response to the last request: a long one waiting in the client's buffer to be sent,
/// or a short one in the reply cache (sent from there, and again for a duplicate).
struct Reply {
    /// Bytes of the reply cache in use (0: nothing kept).
    cached: u8,
    /// The cached response is to be sent (again).
    resend: bool,
    /// Where the long response waiting in the buffer starts, and its length (0: none).
    at: u16,
    waiting: u16,
    server: u8,
    message_id: u16,
}

impl Reply {
    /// A response is waiting to be sent.
    fn unsent(&self) -> bool {
        self.waiting > 0 || self.resend
    }

    /// Takes note of a response of `len` bytes to request `message_id` from `server`, just
    /// written after the request.
    fn keep(&mut self, server: u8, message_id: u16, len: usize) {
        self.server = server;
        self.message_id = message_id;
        self.waiting = u16::try_from(len).unwrap_or(0);
        self.resend = false;
        self.cached = 0;
    }

    /// Places the response just written `at` bytes into `buf`, if any (nothing waits
    /// before a datagram is handled: see [`Reply::evict`]): a short one moves to the reply
    /// cache, a long one waits where it is.
    fn settle(&mut self, at: usize, buf: &mut Buffer) {
        let len = usize::from(self.waiting);
        self.at = u16::try_from(at).unwrap_or(0);
        if len == 0 || len > REPLY_CACHE {
            return;
        }
        let Some((head, cache)) = buf.split_first_chunk_mut::<MAX_MESSAGE_SIZE>() else {
            return;
        };
        match (head.get(at..at + len), cache.get_mut(..len)) {
            (Some(src), Some(dst)) => {
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = *s;
                }
            }
            // The response ran into the cache: it moves up, from its end down.
            _ => {
                for i in (0..len).rev() {
                    let b = buf.get(at + i).copied().unwrap_or(0);
                    if let Some(d) = buf.get_mut(MAX_MESSAGE_SIZE + i) {
                        *d = b;
                    }
                }
            }
        }
        self.waiting = 0;
        self.resend = true;
        self.cached = u8::try_from(len).unwrap_or(0);
    }

    /// The buffer is about to be written to: a long response waiting there is lost, to be
    /// produced again when the server repeats its request (a short one is in the cache).
    fn evict(&mut self) {
        self.waiting = 0;
    }
}

/// The LwM2M client: the engine and the one buffer its datagrams pass through.
///
/// A received datagram is handled before anything is written for sending, and a datagram
/// to send is sent before the next one is received: one message buffer serves both ways
/// ([`Client::receive_buffer`], [`Client::poll_transmit`]). A response is written after the
/// request in the same buffer. Everything else is the [`Engine`], which the client
/// dereferences to.
pub struct Client {
    engine: Engine,
    buf: Buffer,
}

/// The buffer a datagram is received in and one to send is written to.
type Datagram = [u8; MAX_MESSAGE_SIZE];

/// The client's buffer: a [`Datagram`], then the reply cache ([`REPLY_CACHE`] bytes), which
/// a response written after a long request may run into.
type Buffer = [u8; MAX_MESSAGE_SIZE + REPLY_CACHE];

/// The LwM2M client's state machine, without the buffer datagrams pass through: reached
/// through [`Client`].
pub struct Engine {
    endpoint: String<MAX_ENDPOINT_LEN>,
    version: Version,
    margin_s: u32,
    servers: Vec<Server, MAX_SERVERS>,
    next_mid: u16,
    dedup: Dedup,
    reply: Reply,
    control: Option<u8>,
    control_buf: [u8; 4],
    /// A ring of `events_len` events from `events_head` (neither above `EVENT_SLOTS`, which
    /// is at most 64: they fit a byte).
    events: [Event; EVENT_SLOTS],
    events_head: u8,
    events_len: u8,
    events_lost: u16,
    /// Notification attributes the servers set (nothing without the feature).
    attrs: AttrStore,
    /// The Block1 write in progress (one for all servers).
    #[cfg(feature = "blockwise")]
    block1: blockwise::Block1State,
    /// Access Control (object 2): starts empty (all zeros).
    #[cfg(feature = "access-control")]
    acl: acl::Store,
    /// The firmware package download.
    #[cfg(feature = "firmware-update")]
    download: download::Download,
    /// The observations.
    #[cfg(feature = "observe")]
    observe: observe::Observations,
    /// The persisted records (all zeros: nothing saved yet, nothing to save).
    #[cfg(feature = "persistence")]
    persist: persist::Persist,
    /// The Send waiting or in flight (all zeros: none).
    #[cfg(feature = "send")]
    send: send::Pending,
    /// The bootstrap server account and a bootstrap in progress.
    #[cfg(feature = "bootstrap")]
    bootstrap: bootstrap::Bootstrap,
    /// The servers secured with DTLS, and the buffer datagrams are sealed and opened in.
    #[cfg(feature = "dtls")]
    dtls: secure::Links,
    #[cfg(feature = "dtls")]
    sealed: [u8; secure::SEALED],
    /// The pre-shared keys bootstrap wrote for servers the platform secures.
    #[cfg(feature = "platform-credentials")]
    credentials: credentials::Table,
}

#[cfg(feature = "attributes")]
type AttrStore = attributes::Store;
#[cfg(not(feature = "attributes"))]
type AttrStore = ();

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
        if config.servers.is_empty() {
            return Err(ConfigError::ServerCount);
        }
        Client::init_core(slot, config, seed, true)
    }

    /// [`Client::init_in_place`] with a bootstrap server account: `config.servers` may be
    /// empty; the bootstrap starts after the Client Hold Off Time when it is (or when
    /// `bootstrap.first` is set), see [`bootstrap`].
    #[cfg(feature = "bootstrap")]
    pub fn init_with_bootstrap<'s>(
        slot: &'s mut MaybeUninit<Client>,
        config: &Config<'_>,
        bootstrap: &bootstrap::BootstrapConfig<'_>,
        seed: u16,
    ) -> Result<&'s mut Client, ConfigError> {
        let check = ServerConfig {
            uri: bootstrap.uri,
            short_id: 1,
            lifetime_s: 1,
        };
        check.check().map_err(ConfigError::Server)?;
        let client = Client::init_core(slot, config, seed, false)?;
        if client.bootstrap_init(bootstrap) {
            client.connect_all();
        }
        Ok(client)
    }

    /// The client with `config`'s servers, each asking for its connection when `connect`.
    fn init_core<'s>(
        slot: &'s mut MaybeUninit<Client>,
        config: &Config<'_>,
        seed: u16,
        connect: bool,
    ) -> Result<&'s mut Client, ConfigError> {
        let endpoint = config.endpoint;
        if endpoint.is_empty()
            || endpoint.len() > MAX_ENDPOINT_LEN
            || !endpoint.bytes().all(query_safe)
        {
            return Err(ConfigError::BadEndpoint);
        }
        if config.servers.len() > MAX_SERVERS {
            return Err(ConfigError::ServerCount);
        }
        for s in config.servers {
            s.check().map_err(ConfigError::Server)?;
        }
        let c = slot.as_mut_ptr();
        // SAFETY: `c` points to writable, aligned storage for a Client, and `p` to its engine.
        // The whole client is zeroed first (the datagram buffer needs nothing else),
        // which makes every integer, bool and byte-array field (the de-duplication table
        // included, see `Dedup`, the Block1 states and the Send's) and the event ring (see
        // `Event`) a valid value; the other fields (an `Option` among them: its zero bytes
        // are not guaranteed to be `None`) are then written through raw field pointers (no
        // reference to uninitialised memory is formed).
        unsafe {
            c.write_bytes(0, 1);
            let p = addr_of_mut!((*c).engine);
            addr_of_mut!((*p).endpoint).write(String::new());
            addr_of_mut!((*p).version).write(config.version);
            addr_of_mut!((*p).margin_s).write(config.update_margin_s);
            addr_of_mut!((*p).servers).write(Vec::new());
            addr_of_mut!((*p).next_mid).write(seed);
            addr_of_mut!((*p).control).write(None);
            #[cfg(feature = "attributes")]
            addr_of_mut!((*p).attrs).write(AttrStore::new());
            #[cfg(feature = "firmware-update")]
            addr_of_mut!((*p).download).write(download::Download::new());
            #[cfg(feature = "bootstrap")]
            addr_of_mut!((*p).bootstrap).write(bootstrap::Bootstrap::new());
            #[cfg(feature = "observe")]
            addr_of_mut!((*p).observe).write(observe::Observations::new());
            #[cfg(feature = "persistence")]
            addr_of_mut!((*p).persist).write(persist::Persist::default());
            #[cfg(feature = "dtls")]
            addr_of_mut!((*p).dtls).write(Vec::new());
            #[cfg(feature = "platform-credentials")]
            addr_of_mut!((*p).credentials).write(Vec::new());
        }
        // SAFETY: every field was initialised above (zeroed or written).
        let client = unsafe { slot.assume_init_mut() };
        // Cannot fail: the length was checked above.
        let _ = client.endpoint.push_str(endpoint);
        for (i, s) in config.servers.iter().enumerate() {
            // `i` is below MAX_SERVERS (checked above): the index fits and the push succeeds.
            let _ = client.servers.push(Server::new(s, i as u16));
            if connect {
                client.push_event(Event::ConnectionNeeded { server: i as u8 });
            }
        }
        Ok(client)
    }

    /// The next datagram to send, if any; call until `None` after input and at deadlines.
    pub fn poll_transmit(&mut self, now: u64, platform: &mut dyn Platform) -> Option<Transmit<'_>> {
        self.engine.poll_transmit(now, platform, &mut self.buf)
    }

    /// The buffer to receive a datagram into, for [`Client::handle_received`]: the one that
    /// datagrams to send are written to. A long response still waiting there (call
    /// [`Client::poll_transmit`] after each datagram handled) is produced again when the
    /// server repeats its request.
    pub fn receive_buffer(&mut self) -> &mut [u8] {
        self.engine.reply.evict();
        self.buf.get_mut(..MAX_MESSAGE_SIZE).unwrap_or(&mut [])
    }

    /// Handles the first `len` bytes of [`Client::receive_buffer`] (all of it when `len` is
    /// larger: a datagram the platform cut to the buffer's size), a datagram that arrived on
    /// `server`'s connection. A response is written after it in the buffer, to go out at the
    /// next [`Client::poll_transmit`].
    // Inlined: a frame of its own for forwarding its arguments would lie under every request.
    #[inline(always)]
    pub fn handle_received(
        &mut self,
        server: u8,
        len: usize,
        now: u64,
        platform: &mut dyn Platform,
    ) {
        self.engine
            .receive(server, &mut self.buf, len, now, platform);
    }

    /// Handles `data`, a datagram that arrived on `server`'s connection: copies it to
    /// [`Client::receive_buffer`] and calls [`Client::handle_received`].
    pub fn handle_datagram(
        &mut self,
        server: u8,
        data: &[u8],
        now: u64,
        platform: &mut dyn Platform,
    ) {
        if let Some(b) = self.receive_buffer().get_mut(..data.len()) {
            b.copy_from_slice(data);
            return self.handle_received(server, data.len(), now, platform);
        }
        // Too large for the buffer: only a sealed record may still open, in the buffer
        // datagrams are sealed in (`receive_buffer` has evicted the reply waiting in it).
        #[cfg(feature = "dtls")]
        match self.engine.open_large(server, data, &mut self.buf) {
            Some(Some(n)) => {
                return self
                    .engine
                    .receive_plain(server, &mut self.buf, n, now, platform)
            }
            Some(None) => return,
            None => {}
        }
        let out = self.buf.get_mut(..MAX_MESSAGE_SIZE).unwrap_or(&mut []);
        self.engine
            .handle_datagram(server, data, out, now, platform);
        self.engine.reply.settle(0, &mut self.buf);
    }
}

impl core::ops::Deref for Client {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl core::ops::DerefMut for Client {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }
}

impl Engine {
    /// Asks for a connection for every server.
    #[cfg(feature = "bootstrap")]
    fn connect_all(&mut self) {
        for i in 0..self.servers.len() {
            self.push_event(Event::ConnectionNeeded { server: slot_of(i) });
        }
    }

    /// The server accounts.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The Access Control table (object 2), for factory ACLs: [`acl::Store::set`] and
    /// [`acl::Store::set_owner`]. Enforced once more than one server is configured.
    #[cfg(feature = "access-control")]
    pub fn access_control(&mut self) -> &mut acl::Store {
        &mut self.acl
    }

    /// The platform opened the server's connection: registration starts.
    pub fn connection_opened(&mut self, server: u8) {
        #[cfg(feature = "bootstrap")]
        if server == bootstrap::BOOTSTRAP_SLOT {
            self.bootstrap_connected();
        }
        if let Some(s) = self.servers.get_mut(usize::from(server)) {
            s.connected = true;
        }
        #[cfg(feature = "dtls")]
        self.reopen_secure(server);
    }

    /// The platform could not open the server's connection: counts as a failed Register
    /// attempt. Returns the wait before the next attempt in ms, 0 when the registration
    /// has failed for good ([`Event::RegistrationFailed`] follows).
    pub fn connection_failed(&mut self, server: u8, now: u64) -> u32 {
        #[cfg(feature = "bootstrap")]
        if server == bootstrap::BOOTSTRAP_SLOT {
            self.bootstrap_connection_failed(now);
        }
        let Some(s) = self.servers.get_mut(usize::from(server)) else {
            return 0;
        };
        s.connected = false;
        s.reg.exchange = None;
        match s.reg.register_failed(server, now, &s.account.timing) {
            Event::RegistrationRetry { delay_ms, .. } => delay_ms,
            e => {
                self.push_event(e);
                0
            }
        }
    }

    /// Sets a resource of a server's Server object instance (the application's factory
    /// settings, the TLS-DTLS Alert Code, ...): the same checks as a server's Write
    /// (4.00 for a bad value, nothing changed) but read-only resources may be set too
    /// (not the Short Server ID). `server` is the server's slot.
    pub fn set_server_resource(
        &mut self,
        server: u8,
        rid: u16,
        value: &crate::model::Value<'_>,
    ) -> Result<(), Code> {
        // A bootstrap may give instance ids other than the slots.
        #[cfg(feature = "bootstrap")]
        let iid = self
            .servers
            .get(usize::from(server))
            .map_or(u16::MAX, |s| s.server_iid);
        #[cfg(not(feature = "bootstrap"))]
        let iid = u16::from(server);
        ServerObject {
            servers: &mut self.servers,
            now: 0,
        }
        .write(iid, rid, None, value)
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
                    registration::Phase::Deregistered
                        | registration::Phase::Rejected
                        | registration::Phase::Failed
                )
        })
    }

    /// Starts over after a refusal or a de-registration: every server registers again.
    pub fn restart(&mut self, now: u64) {
        for s in self.servers.iter_mut() {
            #[cfg(feature = "server-extra")]
            let reg = s.reg.restarted();
            #[cfg(not(feature = "server-extra"))]
            let reg = registration::Registration::new();
            s.reg = reg;
            s.reg.phase = registration::Phase::Unregistered { at: now };
        }
    }

    /// The next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events_lost > 0 && usize::from(self.events_len) < EVENT_SLOTS {
            let count = core::mem::take(&mut self.events_lost);
            return Some(Event::EventsLost { count });
        }
        if self.events_len == 0 {
            return None;
        }
        let e = self.events.get(usize::from(self.events_head)).copied();
        self.drop_oldest_event();
        e
    }

    fn drop_oldest_event(&mut self) {
        self.events_head = ring_index(usize::from(self.events_head) + 1) as u8;
        self.events_len -= 1;
    }

    /// Where the oldest queued event that `pick` accepts is, counted from the oldest.
    fn find_queued(&self, pick: impl Fn(&Event) -> bool) -> Option<usize> {
        let head = usize::from(self.events_head);
        (0..usize::from(self.events_len))
            .find(|&k| self.events.get(ring_index(head + k)).is_some_and(&pick))
    }

    /// Removes the queued event `k` places after the oldest: it moves to the head, past
    /// the events before it (which move one place up, in order), and goes.
    fn remove_queued(&mut self, mut k: usize) {
        let head = usize::from(self.events_head);
        while k > 0 {
            let a = ring_index(head + k - 1);
            let b = ring_index(head + k);
            if a < EVENT_SLOTS && b < EVENT_SLOTS {
                self.events.swap(a, b);
            }
            k -= 1;
        }
        self.drop_oldest_event();
    }

    /// Removes the oldest queued event that is not a command; false when every queued
    /// event is a command.
    fn drop_oldest_report(&mut self) -> bool {
        let k = self.find_queued(|e| !e.is_command());
        k.map(|k| self.remove_queued(k)).is_some()
    }

    /// Queues `e`. When the queue is full the oldest report makes room; an instruction
    /// to the platform (open or close a connection) is never dropped for a report, since
    /// a lost one would leave a server unconnected or a connection open. A close that
    /// finds the open of the same connection still queued takes it back instead: the
    /// platform never opened it (a bootstrap blob applied before the first step would
    /// otherwise have the connection opened, closed and opened again).
    fn push_event(&mut self, e: Event) {
        if let Event::ConnectionDone { server } = e {
            #[cfg(feature = "dtls")]
            self.release_secure(server);
            let open =
                |q: &Event| matches!(q, Event::ConnectionNeeded { server: s } if *s == server);
            if let Some(k) = self.find_queued(open) {
                return self.remove_queued(k);
            }
        }
        if usize::from(self.events_len) >= EVENT_SLOTS {
            self.events_lost = self.events_lost.saturating_add(1);
            if !self.drop_oldest_report() {
                if !e.is_command() {
                    return;
                }
                self.drop_oldest_event();
            }
        }
        // A free slot: one was just freed if the ring was full.
        if let Some(slot) = self.events.get_mut(ring_index(
            usize::from(self.events_head) + usize::from(self.events_len),
        )) {
            *slot = e;
        }
        self.events_len += 1;
    }

    /// When the client next needs [`Client::poll_transmit`]: `Some(0)`-like past instants
    /// mean now; `None` means only input can give it work.
    // Not inlined into the step: its frame would then lie under every request.
    #[inline(never)]
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.reply.unsent() || self.control.is_some() {
            return Some(0);
        }
        let mut next = u64::MAX;
        let mut any = false;
        #[cfg(feature = "firmware-update")]
        if let Some(d) = self.download.deadline() {
            next = d;
            any = true;
        }
        #[cfg(feature = "observe")]
        if let Some(d) = self.observe_deadline() {
            next = next.min(d);
            any = true;
        }
        #[cfg(feature = "dtls")]
        if let Some(d) = self.secure_deadline() {
            next = next.min(d);
            any = true;
        }
        for (i, s) in self.servers.iter().enumerate() {
            let secured = self.reachable(slot_of(i));
            let d = match (&s.reg.exchange, s.reg.phase) {
                // A disabled server comes back without a connection.
                #[cfg(feature = "server-extra")]
                (_, registration::Phase::Disabled { until }) => Some(until),
                _ if !s.connected || !secured => None,
                (Some(e), _) => Some(e.deadline()),
                (None, _) => s.reg.deadline(),
            };
            #[cfg(feature = "queue-mode")]
            let d = match (d, s.queue.deadline(s.awake_ms).filter(|_| s.connected)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(d) = d {
                next = next.min(d);
                any = true;
            }
        }
        #[cfg(feature = "send")]
        if let Some(d) = self.send.deadline(&self.servers) {
            next = next.min(d);
            any = true;
        }
        #[cfg(feature = "bootstrap")]
        if let Some(d) = self.bootstrap_deadline() {
            next = next.min(d);
            any = true;
        }
        any.then_some(next)
    }

    /// [`Client::handle_received`]: the datagram is the first `len` bytes of `buf`; a
    /// response is written after it, up to `MAX_MESSAGE_SIZE` bytes in (or 64 bytes past
    /// the request, into the reply cache, when the request leaves less room). Not inlined:
    /// the client's call is then a tail call, one frame less on the deepest path.
    #[inline(never)]
    fn receive(
        &mut self,
        server: u8,
        buf: &mut Buffer,
        len: usize,
        now: u64,
        platform: &mut dyn Platform,
    ) {
        self.reply.evict();
        let len = len.min(MAX_MESSAGE_SIZE);
        // A secured server's datagram: the handshake's, or a record opened in place (no
        // copy of it on the stack under the request's handling).
        #[cfg(feature = "dtls")]
        let len = match self.open(server, buf.get_mut(..len).unwrap_or(&mut [])) {
            Some(Some(n)) => n,
            Some(None) => return,
            None => len,
        };
        self.receive_plain(server, buf, len, now, platform);
    }

    /// Handles the first `len` bytes of `buf`, a datagram in the clear (or opened) from
    /// `server`; the response is written after it. The caller has evicted the reply
    /// waiting in `buf` before writing the datagram there.
    fn receive_plain(
        &mut self,
        server: u8,
        buf: &mut Buffer,
        len: usize,
        now: u64,
        platform: &mut dyn Platform,
    ) {
        let room = MAX_MESSAGE_SIZE.max(len + REPLY_CACHE) - len;
        if let Some((data, rest)) = buf.split_at_mut_checked(len) {
            let out = rest.get_mut(..room).unwrap_or(&mut []);
            self.handle_datagram(server, data, out, now, platform);
        }
        self.reply.settle(len, buf);
    }

    /// Handles one datagram in the clear that arrived on `server`'s connection; a response
    /// goes to `out`, part of the buffer [`Engine::poll_transmit`] is then given.
    fn handle_datagram(
        &mut self,
        server: u8,
        data: &[u8],
        out: &mut [u8],
        now: u64,
        platform: &mut dyn Platform,
    ) {
        if let Err(reason) = self.datagram(server, data, out, now, platform) {
            self.push_event(Event::Dropped { server, reason });
        }
    }

    /// Handles one datagram; `Err` is why it was dropped.
    fn datagram(
        &mut self,
        server: u8,
        data: &[u8],
        out: &mut [u8],
        now: u64,
        platform: &mut dyn Platform,
    ) -> Result<(), DropReason> {
        #[cfg(feature = "firmware-update")]
        if server == download::DOWNLOAD_SLOT {
            let parsed = Message::parse(data);
            let msg = parsed.as_ref().map_err(|_| DropReason::Malformed)?;
            return self.download_datagram(msg, now, platform);
        }
        #[cfg(feature = "bootstrap")]
        if server == bootstrap::BOOTSTRAP_SLOT {
            if data.len() > MAX_MESSAGE_SIZE {
                return Err(DropReason::TooLarge);
            }
            let parsed = Message::parse(data);
            let msg = parsed.as_ref().map_err(|_| DropReason::Malformed)?;
            return self.bootstrap_datagram(msg, out, now, platform);
        }
        let s = self
            .servers
            .get(usize::from(server))
            .ok_or(DropReason::UnknownServer)?;
        if s.reg.is_disabled() {
            return Err(DropReason::Disabled);
        }
        if data.len() > MAX_MESSAGE_SIZE {
            return Err(DropReason::TooLarge);
        }
        // Borrowed from the result, not moved out of it: one message less on the stack.
        let parsed = Message::parse(data);
        let msg = match &parsed {
            Ok(m) => m,
            Err(_) => {
                // A message that does not parse: RST when it is confirmable, else silence.
                if let Some(h) = coap::peek_header(data) {
                    if h.mtype == MsgType::Con {
                        self.control_message(server, MsgType::Rst, h.message_id);
                    }
                }
                return Err(DropReason::Malformed);
            }
        };
        let code = msg.code();
        let mtype = msg.mtype();
        let con = mtype == MsgType::Con;
        #[cfg(feature = "queue-mode")]
        self.queue_activity(server, now);
        if code.is_response() {
            if has_unknown_critical(msg, |_| false) {
                // No critical option is understood in a response (Block1/Block2 included).
                if con {
                    self.control_message(server, MsgType::Rst, msg.message_id());
                }
                return Err(DropReason::BadOption);
            }
            if mtype != MsgType::Rst {
                return self.response(server, msg, now);
            }
        } else if code.is_empty() {
            if mtype != MsgType::Non && !con {
                return self.empty_ack_or_reset(server, msg, now);
            }
        } else if code.is_request() && (con || mtype == MsgType::Non) {
            return self.request(server, msg, out, now, platform);
        }
        // A ping (empty CON) gets RST. An empty NON, a request in an ACK or RST, a response
        // in a RST, a reserved code class: a format error, rejected with RST when confirmable.
        if con {
            self.control_message(server, MsgType::Rst, msg.message_id());
            return Ok(());
        }
        Err(DropReason::Malformed)
    }

    fn control_message(&mut self, server: u8, mtype: MsgType, message_id: u16) {
        self.control_buf = empty_message(mtype, message_id);
        self.control = Some(server);
    }

    /// The exchange in flight of `server` when `matches` accepts it.
    fn exchange(
        &mut self,
        server: u8,
        matches: impl FnOnce(&Exchange) -> bool,
    ) -> Option<&mut Server> {
        self.servers
            .get_mut(usize::from(server))
            .filter(|s| s.reg.exchange.as_ref().is_some_and(matches))
    }

    fn empty_ack_or_reset(
        &mut self,
        server: u8,
        msg: &Message<'_>,
        now: u64,
    ) -> Result<(), DropReason> {
        let mid = msg.message_id();
        #[cfg(feature = "observe")]
        if self.notification_answer(server, mid, msg.mtype() == MsgType::Rst) {
            return Ok(());
        }
        let s = self
            .exchange(server, |e| e.message_id == mid)
            .ok_or(DropReason::Unmatched)?;
        if msg.mtype() == MsgType::Ack {
            if let Some(ex) = s.reg.exchange.as_mut() {
                ex.acknowledged(now);
            }
        } else {
            self.failed(usize::from(server), now);
        }
        Ok(())
    }

    /// A piggybacked (ACK) or separate (CON or NON) response.
    fn response(&mut self, server: u8, msg: &Message<'_>, now: u64) -> Result<(), DropReason> {
        let mid = msg.message_id();
        let con = msg.mtype() == MsgType::Con;
        let ack = msg.mtype() == MsgType::Ack;
        let margin = self.margin_s;
        #[cfg(feature = "send")]
        if self.send_response(server, msg) {
            if con {
                self.dedup.seen(server, mid, true, now);
                self.control_message(server, MsgType::Ack, mid);
            }
            return Ok(());
        }
        let Some(s) = self.exchange(server, |e| {
            (!ack || e.message_id == mid) && e.matches_token(msg.token())
        }) else {
            // A retransmission of a separate response already taken (our ACK was lost) is
            // acknowledged again (RFC 7252 section 4.5); anything else unknown is reset.
            if con {
                if self.dedup.contains(server, mid, now) {
                    self.control_message(server, MsgType::Ack, mid);
                    return Err(DropReason::Duplicate);
                }
                self.control_message(server, MsgType::Rst, mid);
            }
            return Err(DropReason::Unmatched);
        };
        let lifetime = s.lifetime_s;
        let o = s
            .reg
            .on_response(server, msg, now, lifetime, margin, &s.account.timing);
        #[cfg(feature = "server-extra")]
        if matches!(o, Some(Event::Registered { .. })) {
            s.reg.registered_once();
        }
        #[cfg(feature = "observe")]
        if matches!(o, Some(Event::Registered { .. })) {
            self.observe_registered(server);
        }
        if con {
            self.dedup.seen(server, mid, true, now);
            self.control_message(server, MsgType::Ack, mid);
        }
        self.outcome(o);
        Ok(())
    }

    /// Queues what a response or a failure did to a registration; a finished
    /// De-register also releases the connection.
    fn outcome(&mut self, o: Option<Event>) {
        if let Some(e) = o {
            // A new Location, or none any more.
            #[cfg(feature = "persistence")]
            if matches!(e, Event::Registered { .. } | Event::Deregistered { .. }) {
                self.persist.dirty = true;
            }
            self.push_event(e);
            if let Event::Deregistered { server } = e {
                self.push_event(Event::ConnectionDone { server });
            }
        }
    }

    fn request(
        &mut self,
        server: u8,
        msg: &Message<'_>,
        out: &mut [u8],
        now: u64,
        platform: &mut dyn Platform,
    ) -> Result<(), DropReason> {
        let con = msg.mtype() == MsgType::Con;
        let mid = msg.message_id();
        if self.dedup.seen(server, mid, con, now) {
            let r = &mut self.reply;
            if con && r.server == server && r.message_id == mid && r.cached > 0 {
                r.resend = true;
                return Ok(());
            }
            // A GET or FETCH whose response was too long to keep is answered again.
            if !(con && matches!(msg.code(), Code::GET | Code::FETCH)) {
                return Err(DropReason::Duplicate);
            }
        }
        if self.reply.unsent() {
            // Not answered: the server retransmits a CON, and we are free by then. Only this
            // message is forgotten; earlier ones stay de-duplicated.
            self.dedup.forget(server, mid);
            return Err(DropReason::Busy);
        }
        if !con && has_unknown_critical(msg, known_request_option) {
            // A NON request is rejected by silence; a CON one gets 4.02 below.
            return Err(DropReason::BadOption);
        }
        let (mtype, reply_mid) = if con {
            (MsgType::Ack, mid)
        } else {
            (MsgType::Non, self.mid())
        };
        #[cfg(feature = "access-control")]
        let ssid = self.acl_server(server);
        #[cfg(feature = "bootstrap")]
        {
            let answered = if server == bootstrap::BOOTSTRAP_SLOT {
                Some(self.bootstrap_answer(out, mtype, reply_mid, msg, platform))
            } else {
                self.bootstrap_trigger(out, server, mtype, reply_mid, msg, now)
            };
            if let Some(len) = answered {
                self.reply.keep(server, mid, len);
                return Ok(());
            }
        }
        #[cfg(feature = "observe")]
        let seq = self.observe_intent(server, msg);
        let attrs = &mut self.attrs;
        #[cfg(feature = "blockwise")]
        let block1 = &mut self.block1;
        // Built here, not in the handler: the handler's frame is on every request's path.
        let mut objects = Registry {
            servers: &mut self.servers,
            now,
            platform: &mut *platform,
            #[cfg(feature = "access-control")]
            acl: &mut self.acl,
            #[cfg(feature = "access-control")]
            ssid,
        };
        let len = respond(out, mtype, reply_mid, msg, |path, b| {
            #[cfg(feature = "observe")]
            if let Some(seq) = seq {
                b.option_uint(opt::OBSERVE, seq)
                    .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
            }
            #[cfg(feature = "blockwise")]
            if let Some(v) = msg.option(opt::BLOCK1) {
                return blockwise::block1(path, msg, v, server, block1, &mut objects, b);
            }
            route(path, msg, server, &mut objects, attrs, b)
        });
        #[cfg(not(feature = "observe"))]
        let seq = None;
        self.answered(server, msg, out, len, now, platform, seq);
        Ok(())
    }

    /// After a request was answered with the `len` bytes in `out`: the reply kept, and what
    /// the answer changes. With Observe, kept out of `request` (`inline(never)`): its locals
    /// would add to the frame every request handler runs under.
    #[cfg_attr(feature = "observe", inline(never))]
    #[allow(clippy::too_many_arguments)]
    fn answered(
        &mut self,
        server: u8,
        msg: &Message<'_>,
        out: &[u8],
        len: usize,
        now: u64,
        platform: &mut dyn Platform,
        seq: Option<u32>,
    ) {
        #[cfg(not(feature = "observe"))]
        let _ = (seq, now);
        #[cfg(not(any(feature = "observe", feature = "firmware-update")))]
        let _ = platform;
        let mid = msg.message_id();
        self.reply.keep(server, mid, len);
        // A Create or Delete changed the object list: tell every server. Attributes set on
        // a deleted instance go with it.
        let code = out.get(1).copied().map(Code);
        #[cfg(feature = "observe")]
        if let Some(code) = code.filter(|_| len > 0) {
            self.observe_answered(server, msg, seq, code, now, platform);
        }
        #[cfg(feature = "persistence")]
        if matches!(code, Some(Code::CHANGED | Code::CREATED | Code::DELETED))
            && persist::touches_state(msg)
        {
            self.persist.dirty = true;
        }
        if matches!(code, Some(Code::CREATED | Code::DELETED)) {
            #[cfg(feature = "attributes")]
            if let Some(path) = Path::from_segments(msg.options_of(opt::URI_PATH)) {
                self.attrs.remove_under(&path);
            }
            self.update(true);
        }
        // A request to the Firmware Update object (or a composite one) may start or stop a
        // download.
        #[cfg(feature = "firmware-update")]
        if matches!(msg.option(opt::URI_PATH), Some(b"5") | None) {
            self.firmware_changed(platform);
        }
    }

    fn mid(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    /// The Short Server ID that Access Control checks for a request from slot `server`:
    /// none with a single server (LwM2M 1.1 section 7.3: it has full access).
    #[cfg(feature = "access-control")]
    fn acl_server(&self, server: u8) -> Option<u16> {
        if self.servers.len() < 2 {
            return None;
        }
        self.servers.get(usize::from(server)).map(|s| s.short_id)
    }

    /// False while `server` is secured by the engine's DTLS and its handshake is not over:
    /// nothing may go to it yet.
    fn reachable(&self, server: u8) -> bool {
        #[cfg(feature = "dtls")]
        return self.secure_ready(server);
        #[cfg(not(feature = "dtls"))]
        {
            let _ = server;
            true
        }
    }

    /// The next datagram to send, if any, written to `buf` (or to a buffer of the
    /// engine's): see [`Client::poll_transmit`], which lends the client's buffer (a response
    /// may wait there: no other buffer will do).
    pub fn poll_transmit<'a>(
        &'a mut self,
        now: u64,
        platform: &mut dyn Platform,
        buf: &'a mut Buffer,
    ) -> Option<Transmit<'a>> {
        let (server, source) = self.next_source(now, platform, buf)?;
        let data = match source {
            #[cfg(feature = "dtls")]
            Source::Sealed(len) => self.sealed.get(..len).unwrap_or(&[]),
            _ => source.bytes(&self.control_buf, buf),
        };
        Some(Transmit { server, data })
    }

    /// Which datagram [`Engine::poll_transmit`] sends, and to which slot.
    fn next_source(
        &mut self,
        now: u64,
        platform: &mut dyn Platform,
        buf: &mut Buffer,
    ) -> Option<(u8, Source)> {
        // A handshake flight is written to the buffer: not while a response waits there.
        #[cfg(feature = "dtls")]
        if self.reply.waiting == 0 {
            let (tx, _) = buf.split_first_chunk_mut::<MAX_MESSAGE_SIZE>()?;
            if let Some((server, len)) = self.secure_poll(now, platform, tx) {
                return Some((server, Source::Tx(len)));
            }
        }
        #[cfg(not(feature = "dtls"))]
        let (server, source) = {
            let (tx, _) = buf.split_first_chunk_mut::<MAX_MESSAGE_SIZE>()?;
            self.next_datagram(now, platform, tx)?
        };
        #[cfg(feature = "dtls")]
        let (server, source) = self.next_sealed(now, platform, buf)?;
        #[cfg(feature = "queue-mode")]
        self.queue_activity(server, now);
        Some((server, source))
    }

    /// [`Engine::next_datagram`], sealed for a secured server. A datagram for a secured
    /// server without a session (its handshake not over) is dropped, never sent in the
    /// clear (a CON goes again once the session is back); what else is due goes out on the
    /// next call (`poll_timeout` says it is due).
    #[cfg(feature = "dtls")]
    fn next_sealed(
        &mut self,
        now: u64,
        platform: &mut dyn Platform,
        buf: &mut Buffer,
    ) -> Option<(u8, Source)> {
        let (tx, _) = buf.split_first_chunk_mut::<MAX_MESSAGE_SIZE>()?;
        let (server, source) = self.next_datagram(now, platform, tx)?;
        let data = source.bytes(&self.control_buf, buf);
        match Engine::seal(&mut self.dtls, &mut self.sealed, server, data) {
            None => Some((server, source)),
            Some(Ok(n)) => Some((server, Source::Sealed(n))),
            Some(Err(())) => None,
        }
    }

    /// Which datagram goes out next, and to which slot.
    fn next_datagram(
        &mut self,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut Datagram,
    ) -> Option<(u8, Source)> {
        if let Some(server) = self.control.take() {
            return Some((server, Source::Control));
        }
        if self.reply.waiting > 0 {
            let len = core::mem::take(&mut self.reply.waiting);
            let at = self.reply.at;
            return Some((self.reply.server, Source::Response(at, len)));
        }
        if self.reply.resend {
            self.reply.resend = false;
            let len = u16::from(self.reply.cached);
            return Some((self.reply.server, Source::Response(CACHE_AT, len)));
        }
        for i in 0..self.servers.len() {
            if let Some(len) = self.poll_server(i, now, platform, tx) {
                return Some((slot_of(i), Source::Tx(len)));
            }
        }
        #[cfg(feature = "bootstrap")]
        if let Some(len) = self.bootstrap_poll(now, platform, tx) {
            return Some((bootstrap::BOOTSTRAP_SLOT, Source::Tx(len)));
        }
        #[cfg(feature = "observe")]
        if let Some((server, len)) = self.poll_notify(now, platform, tx) {
            return Some((server, Source::Tx(len)));
        }
        #[cfg(feature = "firmware-update")]
        if let Some(len) = self.download_poll(now, platform, tx) {
            return Some((download::DOWNLOAD_SLOT, Source::Tx(len)));
        }
        #[cfg(feature = "queue-mode")]
        self.sleep_due(now);
        None
    }

    /// The Disable (resource 4) and Initial Registration Delay (14) timers of server `i`:
    /// true while the server is disabled.
    #[cfg(feature = "server-extra")]
    fn disabled_or_delayed(&mut self, i: usize, now: u64) -> bool {
        let Some(s) = self.servers.get_mut(i) else {
            return true;
        };
        if let registration::Phase::Disabled { until } = s.reg.phase {
            // A Disable executed while not registered releases the connection here (a
            // finished De-register releases it in `outcome`).
            let release = s.reg.take_release();
            let back = now >= until;
            if back {
                // The Disable Timeout is over: connect and register again.
                s.reg.phase = registration::Phase::Unregistered { at: now };
                s.connected = false;
            }
            let server = slot_of(i);
            if release {
                self.push_event(Event::ConnectionDone { server });
            }
            if back {
                self.push_event(Event::ConnectionNeeded { server });
            }
            return true;
        }
        if s.connected && s.reg.initial_delay_due() {
            // Initial Registration Delay Timer (Server resource 14).
            if let registration::Phase::Unregistered { at } = s.reg.phase {
                let delayed = now.saturating_add(u64::from(s.timing.initial_delay_s) * 1000);
                s.reg.phase = registration::Phase::Unregistered {
                    at: at.max(delayed),
                };
            }
        }
        false
    }

    /// Runs one server's timers; returns the length of a request written to `tx`.
    fn poll_server(
        &mut self,
        i: usize,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut Datagram,
    ) -> Option<usize> {
        #[cfg(feature = "server-extra")]
        if self.disabled_or_delayed(i, now) {
            return None;
        }
        if !self.reachable(slot_of(i)) {
            return None;
        }
        let s = self.servers.get_mut(i)?;
        if !s.connected {
            return None;
        }
        if let Some(ex) = s.reg.exchange {
            match ex.check(now) {
                Timer::Wait => return None,
                Timer::Retransmit => return self.send_request(i, now, platform, tx),
                Timer::GiveUp => {
                    self.failed(i, now);
                    // A new handshake first, then what follows the failure.
                    #[cfg(feature = "dtls")]
                    if self.restart_secure(slot_of(i)) {
                        return None;
                    }
                }
            }
        }
        let kind = self.servers.get_mut(i)?.reg.due(now);
        // A Send starts when no registration request is due (it then holds the slot).
        #[cfg(feature = "send")]
        let send = kind.is_none() && self.send_due(i);
        #[cfg(not(feature = "send"))]
        let send = false;
        if kind.is_none() && !send {
            return None;
        }
        // The token, then two bytes of retransmission jitter.
        let mut random = [0u8; TOKEN_LEN + 2];
        platform.random(&mut random);
        let [token @ .., j0, j1] = random;
        let jitter = u16::from_le_bytes([j0, j1]);
        self.next_mid = self.next_mid.wrapping_add(1);
        let mid = self.next_mid;
        let ex = Exchange::new(kind.unwrap_or(RequestKind::Update), mid, token, jitter);
        let s = self.servers.get_mut(i)?;
        if send {
            s.reg.exchange = Some(ex);
            #[cfg(feature = "send")]
            self.send.started(mid);
        } else {
            s.reg.start(ex);
        }
        self.send_request(i, now, platform, tx)
    }

    /// The request in flight of server `i` failed.
    fn failed(&mut self, i: usize, now: u64) {
        #[cfg(feature = "send")]
        if self.send_failed(i) {
            return;
        }
        if let Some(s) = self.servers.get_mut(i) {
            let o = s.reg.on_failure(slot_of(i), now, &s.account.timing);
            self.outcome(o);
        }
    }

    /// Arms the timer of the request in flight of server `i` and encodes the request into
    /// `tx` (a request that does not fit fails like a timeout, which ends the exchange).
    fn send_request(
        &mut self,
        i: usize,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut Datagram,
    ) -> Option<usize> {
        self.servers.get_mut(i)?.reg.exchange.as_mut()?.sent(now);
        #[cfg(feature = "send")]
        if self.send_owns(i) {
            let r = self.encode_send(i, platform, tx);
            if r.is_err() {
                self.failed(i, now);
            }
            return r.ok();
        }
        let req = RequestContext {
            endpoint: &self.endpoint,
            version: self.version,
            servers: &self.servers,
            #[cfg(feature = "access-control")]
            acl: &self.acl,
        };
        match req.encode(i, tx, platform.objects()) {
            Ok(len) => Some(len),
            Err(_) => {
                self.failed(i, now);
                None
            }
        }
    }
}

/// The buffer a datagram to send is in.
#[derive(Clone, Copy)]
enum Source {
    /// `control_buf`: an empty ACK or a RST.
    Control,
    /// The first bytes of the buffer: a request or a notification.
    Tx(usize),
    /// A response in the buffer (or its reply cache): where it starts, its length.
    Response(u16, u16),
    /// The first bytes of `sealed`: one of the above, sealed for a secured server.
    #[cfg(feature = "dtls")]
    Sealed(usize),
}

impl Source {
    /// The datagram's bytes in the buffers of the client they come from (none for a
    /// sealed one: see `sealed`).
    fn bytes<'a>(self, control: &'a [u8], buf: &'a [u8]) -> &'a [u8] {
        match self {
            Source::Control => control,
            Source::Tx(len) => buf.get(..len).unwrap_or(&[]),
            Source::Response(at, len) => {
                let (at, len) = (usize::from(at), usize::from(len));
                buf.get(at..at + len).unwrap_or(&[])
            }
            #[cfg(feature = "dtls")]
            Source::Sealed(_) => &[],
        }
    }
}

/// Server slot numbers fit a byte: `MAX_SERVERS` is at most 8 (checked by `build.rs`).
fn slot_of(i: usize) -> u8 {
    u8::try_from(i).unwrap_or(u8::MAX)
}

/// An index into the event ring from one that may have run up to twice its length.
fn ring_index(i: usize) -> usize {
    if i >= EVENT_SLOTS {
        i - EVENT_SLOTS
    } else {
        i
    }
}

/// An empty message (an empty ACK or a RST): the 4-byte header alone, CoAP version 1,
/// code 0.00, no token (what `coap::empty` writes).
fn empty_message(mtype: MsgType, message_id: u16) -> [u8; 4] {
    let [m0, m1] = message_id.to_be_bytes();
    [0x40 | ((mtype as u8) << 4), 0, m0, m1]
}

/// Characters allowed unescaped in a Uri-Query value we build.
fn query_safe(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~' | b':' | b'@')
}

/// Builds the response to `req` into `buf`: the handler streams a payload into the builder
/// and returns the code; on an error code the response is rebuilt without payload.
/// Returns the response length (0 when nothing could be built).
fn respond(
    buf: &mut [u8],
    mtype: MsgType,
    mid: u16,
    req: &Message<'_>,
    mut handler: impl FnMut(&Path, &mut MessageBuilder<'_>) -> Result<Code, Code>,
) -> usize {
    let outcome = if has_unknown_critical(req, known_request_option) {
        Err(Code::BAD_OPTION)
    } else {
        match &Path::from_segments(req.options_of(opt::URI_PATH)) {
            Some(path) => {
                let h = &mut |b: &mut MessageBuilder<'_>| handler(path, b);
                #[cfg(feature = "blockwise")]
                let room = buf.len();
                #[cfg(feature = "blockwise")]
                let r = blockwise::block2(req, room, &mut |block| {
                    build(&mut *buf, mtype, mid, req, block, &mut *h)
                });
                #[cfg(not(feature = "blockwise"))]
                let r = build(&mut *buf, mtype, mid, req, None, h);
                r
            }
            None => Err(Code::NOT_FOUND),
        }
    };
    let code = match outcome {
        Ok(len) => return len,
        Err(code) => code,
    };
    // Header and token alone.
    if MessageBuilder::new(buf, mtype, code, mid, req.token()).is_err() {
        return 0;
    }
    let len = coap::HEADER_LEN + req.token().len();
    #[cfg(feature = "blockwise")]
    if code == Code::REQUEST_ENTITY_TOO_LARGE {
        // RFC 7959 section 2.9.3: Size1, the largest request payload taken (option 60:
        // delta 13 + 47, a 4-byte value).
        let [s0, s1, s2, s3] = blockwise::max_payload().to_be_bytes();
        if let Some(o) = buf.get_mut(len..len + 6) {
            o.copy_from_slice(&[0xD4, 47, s0, s1, s2, s3]);
            return len + 6;
        }
    }
    len
}

/// One attempt at a response with payload (only block `block` of it, when given): its
/// length, or the error code to answer.
fn build(
    buf: &mut [u8],
    mtype: MsgType,
    mid: u16,
    req: &Message<'_>,
    block: Option<coap::Block>,
    handler: &mut impl FnMut(&mut MessageBuilder<'_>) -> Result<Code, Code>,
) -> Result<usize, Code> {
    // Borrowed from the result, not moved out of it: one builder less on the stack.
    let mut built = MessageBuilder::new(buf, mtype, Code::CONTENT, mid, req.token());
    let b = built.as_mut().map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    #[cfg(feature = "blockwise")]
    if let Some(block) = block {
        b.block2(block);
    }
    #[cfg(not(feature = "blockwise"))]
    let _ = block;
    let code = handler(b)?;
    let b = built.map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    // A block past the end of the payload: 4.00 (RFC 7959 section 2.2).
    #[cfg(feature = "blockwise")]
    let len = b.finish_block().ok_or(Code::BAD_REQUEST)?;
    #[cfg(not(feature = "blockwise"))]
    let len = b.finish();
    if let Some(c) = buf.get_mut(1) {
        *c = code.0;
    }
    Ok(len)
}

/// True when `msg` has a critical option `known` does not accept (one instance of the
/// option scan for every caller: `known` is a function pointer).
fn has_unknown_critical(msg: &Message<'_>, known: fn(u16) -> bool) -> bool {
    msg.first_unknown_critical(known).is_some()
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
    ) || (cfg!(feature = "blockwise")
        && matches!(n, opt::BLOCK1 | opt::BLOCK2 | opt::SIZE1 | opt::SIZE2))
}

/// Finds the object a request is for and hands the request to device management.
fn route(
    path: &Path,
    req: &Message<'_>,
    server: u8,
    objects: &mut Registry<'_>,
    attrs: &mut AttrStore,
    b: &mut MessageBuilder<'_>,
) -> Result<Code, Code> {
    let _ = server;
    #[cfg(feature = "records")]
    if path.is_empty() && matches!(req.code(), Code::FETCH | Code::IPATCH) {
        return composite(req, objects, b);
    }
    #[cfg(feature = "attributes")]
    if req.code() == Code::PUT && req.payload().is_empty() && req.option(opt::URI_QUERY).is_some() {
        return write_attributes(path, req, server, objects, attrs);
    }
    #[cfg(feature = "attributes")]
    let attrs = &ServerAttrs {
        store: attrs,
        server,
    };
    let attrs: &dyn dm::LinkAttrs = attrs;
    #[cfg(feature = "access-control")]
    {
        let mut code = Code::CONTENT;
        objects.with(path, needed_right(req, path), &mut |obj| {
            code = dm::dispatch(req, path, obj, b, attrs)?;
            Ok(())
        })?;
        Ok(code)
    }
    // Without Access Control, the object straight away (no closure: a smaller image).
    #[cfg(not(feature = "access-control"))]
    match path.object_id().ok_or(Code::METHOD_NOT_ALLOWED)? {
        0 => Err(Code::UNAUTHORIZED),
        1 => {
            let servers = &mut *objects.servers;
            let mut obj = ServerObject {
                servers,
                now: objects.now,
            };
            dm::dispatch(req, path, &mut obj, b, attrs)
        }
        oid => {
            let obj = objects
                .platform
                .objects()
                .find(oid)
                .ok_or(Code::NOT_FOUND)?;
            dm::dispatch(req, path, obj, b, attrs)
        }
    }
}

/// The Access Control right (an `acl` bit) a request needs, told apart the way
/// `dm::dispatch` tells operations apart: Read for Read, Observe, Discover and
/// Write-Attributes; 0 for what no operation matches (4.05 follows).
#[cfg(feature = "access-control")]
fn needed_right(req: &Message<'_>, path: &Path) -> u8 {
    let data = !req.payload().is_empty();
    match req.code() {
        // Discover is no right of the ACL (R covers Read, Observe and Write-Attributes):
        // every server may discover.
        Code::GET if req.option_uint(opt::ACCEPT) == Some(u32::from(cf::LINK)) => 0,
        Code::GET => acl::READ,
        Code::POST if path.len() == 3 && data => acl::EXECUTE_OR_WRITE,
        Code::PUT | Code::POST if path.len() >= 2 && data => acl::WRITE,
        // An empty value of one resource (Write-Attributes has a Uri-Query instead).
        Code::PUT
            if path.len() == 3
                && req.option(opt::CONTENT_FORMAT).is_some()
                && req.option(opt::URI_QUERY).is_none() =>
        {
            acl::WRITE
        }
        Code::PUT if !data => acl::READ,
        Code::POST if path.len() == 3 => acl::EXECUTE,
        Code::POST if path.len() == 1 => acl::CREATE,
        Code::DELETE => acl::DELETE,
        _ => 0,
    }
}

/// Every object a server may reach, by id: the Server object, the Access Control object
/// and the application's.
struct Registry<'a> {
    servers: &'a mut [Server],
    /// The time of the request (a Disable counts from it).
    now: u64,
    platform: &'a mut dyn Platform,
    /// The Access Control table.
    #[cfg(feature = "access-control")]
    acl: &'a mut acl::Store,
    /// The Short Server ID of the server that asks, when Access Control applies.
    #[cfg(feature = "access-control")]
    ssid: Option<u16>,
}

#[cfg(any(
    feature = "records",
    feature = "attributes",
    feature = "access-control",
    feature = "blockwise"
))]
impl Registry<'_> {
    /// Runs `f` on the object `path` names for an operation needing ACL right `right`
    /// (1 Read, 2 Write, 4 Execute, 8 Delete, 16 Create, or `acl::EXECUTE_OR_WRITE`); 4.04
    /// when there is no such object, 4.01 for the Security object (it belongs to the
    /// bootstrap interface only) and, with several servers, where Access Control says no
    /// (see `guard`).
    fn with(
        &mut self,
        path: &Path,
        right: u8,
        f: &mut dyn FnMut(&mut dyn Object) -> Result<(), Code>,
    ) -> Result<(), Code> {
        let oid = path.object_id().ok_or(Code::METHOD_NOT_ALLOWED)?;
        let _ = right;
        let mut server_object;
        let obj: &mut dyn Object = match oid {
            0 => return Err(Code::UNAUTHORIZED),
            1 => {
                server_object = ServerObject {
                    servers: &mut *self.servers,
                    now: self.now,
                };
                &mut server_object
            }
            // Nothing in object 2 is executable: a POST with a payload writes.
            #[cfg(feature = "access-control")]
            2 => {
                let right = right & !acl::EXECUTE;
                if self.acl.decide(self.ssid, path, right)? == acl::Verdict::Deny {
                    return Err(Code::UNAUTHORIZED);
                }
                return f(&mut *self.acl);
            }
            _ => self.platform.objects().find(oid).ok_or(Code::NOT_FOUND)?,
        };
        #[cfg(feature = "access-control")]
        return guard(path, right, self.ssid, obj, self.acl, f);
        #[cfg(not(feature = "access-control"))]
        f(obj)
    }
}

/// Access Control between a request and its object (LwM2M 1.1 section 7.3): with several
/// servers (`ssid` given), denied operations on an existing instance, and denied Creates,
/// get 4.01 (on an instance that does not exist, the operation's own 4.04); reads of a
/// whole object see only the instances the server may read; an instance the server creates
/// gets an Access Control instance it owns. A deleted instance's Access Control instance
/// goes with it.
#[cfg(feature = "access-control")]
fn guard(
    path: &Path,
    right: u8,
    ssid: Option<u16>,
    obj: &mut dyn Object,
    acl: &mut acl::Store,
    f: &mut dyn FnMut(&mut dyn Object) -> Result<(), Code>,
) -> Result<(), Code> {
    // A POST with a payload on a resource: its arguments if it is executable (as
    // `dm::dispatch` decides).
    let right = match right {
        acl::EXECUTE_OR_WRITE if dm::executable(path, obj) => acl::EXECUTE,
        acl::EXECUTE_OR_WRITE => acl::WRITE,
        r => r,
    };
    let verdict = acl.decide(ssid, path, right)?;
    let iid = path.instance_id();
    if verdict == acl::Verdict::Deny
        && iid.map_or(true, |iid| crate::model::object::has_instance(obj, iid))
    {
        return Err(Code::UNAUTHORIZED);
    }
    let oid = obj.id();
    let mut view = acl::View {
        obj,
        acl,
        ssid: ssid.unwrap_or(0),
        filter: verdict == acl::Verdict::Filter,
        created: None,
    };
    f(&mut view)?;
    if let (Some(ssid), Some(new)) = (ssid, view.created) {
        acl.created(oid, new, ssid);
    }
    if let (acl::DELETE, Some(iid)) = (right, iid) {
        acl.deleted(oid, iid);
    }
    Ok(())
}

#[cfg(feature = "records")]
impl records::Lookup for Registry<'_> {
    fn with(
        &mut self,
        path: &Path,
        right: u8,
        f: &mut dyn FnMut(&mut dyn Object) -> Result<(), Code>,
    ) -> Result<(), Code> {
        Registry::with(self, path, right, f)
    }
}

/// Read-Composite (FETCH) and Write-Composite (iPATCH) on `/`, in a record format. Kept
/// out of line (as is Write-Attributes) so that its frame is not part of every request's.
#[cfg(feature = "records")]
#[inline(never)]
fn composite(
    req: &Message<'_>,
    objects: &mut Registry<'_>,
    b: &mut MessageBuilder<'_>,
) -> Result<Code, Code> {
    let format = req
        .option_uint(opt::CONTENT_FORMAT)
        .and_then(|f| u16::try_from(f).ok())
        .filter(|&f| crate::formats::records::supported(f))
        .ok_or(Code::UNSUPPORTED_CONTENT_FORMAT)?;
    if req.code() == Code::IPATCH {
        return records::write_composite(format, req.payload(), objects, b.spare());
    }
    let accept = match req.option_uint(opt::ACCEPT) {
        None => format,
        Some(a) => u16::try_from(a)
            .ok()
            .filter(|&a| crate::formats::records::supported(a))
            .ok_or(Code::NOT_ACCEPTABLE)?,
    };
    records::read_composite(format, accept, req.payload(), objects, b)
}

/// Write-Attributes (PUT with Uri-Query and no payload) on an existing object, instance,
/// resource or resource instance: 2.04, or 4.00 for attributes that do not parse, do not fit
/// the target or contradict each other (nothing is changed then).
#[cfg(feature = "attributes")]
#[inline(never)]
fn write_attributes(
    path: &Path,
    req: &Message<'_>,
    server: u8,
    objects: &mut Registry<'_>,
    attrs: &mut attributes::Store,
) -> Result<Code, Code> {
    let mut def = None;
    objects.with(path, 1, &mut |obj| {
        def = dm::target(path, obj)?;
        Ok(())
    })?;
    attrs.write(server, path, def, req.options_of(opt::URI_QUERY))?;
    Ok(Code::CHANGED)
}

/// Discover's view of the attributes of the server that asks.
#[cfg(feature = "attributes")]
struct ServerAttrs<'a> {
    store: &'a attributes::Store,
    server: u8,
}

#[cfg(feature = "attributes")]
impl dm::LinkAttrs for ServerAttrs<'_> {
    fn write(
        &self,
        path: &Path,
        links: &mut LinkWriter<'_, '_>,
    ) -> Result<(), crate::formats::FormatError> {
        match self.store.get(self.server, path) {
            Some(a) => a.write_link(links),
            None => Ok(()),
        }
    }
}

/// What encoding a registration request needs from the client.
struct RequestContext<'c> {
    endpoint: &'c str,
    version: Version,
    servers: &'c [Server],
    /// Its instances are listed after the servers' (when there are any).
    #[cfg(feature = "access-control")]
    acl: &'c acl::Store,
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
        let ex = s.reg.exchange.as_ref().ok_or(coap::BuildError::NoSpace)?;
        let register = ex.kind == RequestKind::Register;
        let (code, flags) = match ex.kind {
            RequestKind::Register => (
                Code::POST,
                UPDATE_LIFETIME | UPDATE_BINDING | UPDATE_OBJECTS,
            ),
            RequestKind::Update => (Code::POST, s.reg.sending()),
            RequestKind::Deregister => (Code::DELETE, 0),
        };
        let mut b = MessageBuilder::new(buf, MsgType::Con, code, ex.message_id, &ex.token)?;
        for seg in s.reg.path(register) {
            b.option(opt::URI_PATH, seg)?;
        }
        if flags & UPDATE_OBJECTS != 0 {
            b.option_uint(opt::CONTENT_FORMAT, u32::from(cf::LINK))?;
        }
        if register {
            query(&mut b, b"ep=", self.endpoint.as_bytes())?;
        }
        if flags & UPDATE_LIFETIME != 0 {
            let mut digits = [0u8; 20];
            let lt = crate::util::u64_to_dec(u64::from(s.lifetime_s), &mut digits);
            query(&mut b, b"lt=", lt)?;
        }
        if register {
            let v: &[u8] = if self.version == Version::V1_1 {
                b"1.1"
            } else {
                b"1.0"
            };
            query(&mut b, b"lwm2m=", v)?;
        }
        if flags & UPDATE_BINDING != 0 {
            // Queue mode is part of the binding in 1.0 (`UQ`), a parameter of its own in 1.1
            // (`Q`, on Register only).
            let v11 = self.version == Version::V1_1;
            let binding = if v11 { "U" } else { s.binding() };
            query(&mut b, b"b=", binding.as_bytes())?;
            if v11 && register && s.queue_mode() {
                b.option(opt::URI_QUERY, b"Q")?;
            }
        }
        if flags & UPDATE_OBJECTS != 0 {
            self.object_links(b.payload_writer()?, objects)
                .map_err(|_| coap::BuildError::NoSpace)?;
        }
        Ok(b.finish())
    }

    /// The CoRE link list of objects and instances (the Security object is never listed).
    fn object_links(
        &self,
        w: &mut crate::buf::Writer<'_>,
        objects: &mut dyn Objects,
    ) -> Result<(), crate::formats::FormatError> {
        if self.version == Version::V1_1 {
            // Fixed text, with the comma of the server links that always follow.
            w.put(ROOT_LINK)?;
        }
        let mut links = LinkWriter::new(w);
        for s in self.servers {
            links.link(&Path::instance(1, s.server_iid))?;
        }
        #[cfg(feature = "access-control")]
        {
            let mut i = 0;
            while let Some(iid) = self.acl.instance(i) {
                links.link(&Path::instance(2, iid))?;
                i += 1;
            }
        }
        let mut index = 0;
        while let Some(obj) = objects.object(index) {
            index += 1;
            object_links(&mut links, obj)?;
        }
        Ok(())
    }
}

/// The root link of a 1.1 Register (`ct` names the content formats this build speaks), and
/// the comma before the server links (there is at least one server). Written by build.rs.
use crate::config::ROOT_LINK;

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

/// Appends a Uri-Query option `prefix` + `value`, cut to the buffer's size (values are
/// checked to fit).
#[inline(never)]
fn query(b: &mut MessageBuilder<'_>, prefix: &[u8], value: &[u8]) -> Result<(), coap::BuildError> {
    let mut q = [0u8; MAX_ENDPOINT_LEN + 3];
    let mut w = crate::buf::Writer::new(&mut q);
    let _ = w.put(prefix);
    let _ = w.put(value);
    b.option(opt::URI_QUERY, w.written())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_message_matches_the_coap_encoder() {
        for mtype in [MsgType::Con, MsgType::Non, MsgType::Ack, MsgType::Rst] {
            for mid in [0u16, 1, 0x1234, u16::MAX] {
                let mut buf = [0u8; 4];
                assert_eq!(coap::empty(&mut buf, mtype, mid), Ok(4));
                assert_eq!(empty_message(mtype, mid), buf);
            }
        }
    }

    #[test]
    fn root_link_is_what_the_link_writer_writes() {
        let ct: &[u8] = if cfg!(feature = "records") {
            b"\"110 112 11542 11543 11544\""
        } else {
            b"11542"
        };
        let mut buf = [0u8; 64];
        let mut w = crate::buf::Writer::new(&mut buf);
        let mut links = LinkWriter::new(&mut w);
        links.link(&Path::ROOT).unwrap();
        links.attr_raw("rt", b"\"oma.lwm2m\"").unwrap();
        links.attr_raw("ct", ct).unwrap();
        links.link(&Path::instance(1, 0)).unwrap();
        let mut expected = ROOT_LINK.to_vec();
        expected.extend_from_slice(b"</1/0>");
        assert_eq!(w.written(), &expected[..]);
    }

    /// The ACL right each device-management operation needs (LwM2M 1.1 section 7.3 and
    /// the ACL resource's bit list in appendix E.3).
    #[cfg(feature = "access-control")]
    #[test]
    fn each_operation_needs_its_acl_right() {
        use acl::{CREATE, DELETE, EXECUTE, READ, WRITE};
        fn right(code: Code, path: &str, payload: &[u8], extra: Option<(u16, &[u8])>) -> u8 {
            let mut buf = [0u8; 64];
            let mut b = MessageBuilder::new(&mut buf, MsgType::Con, code, 1, &[1]).unwrap();
            for seg in path.split('/').filter(|s| !s.is_empty()) {
                b.option(opt::URI_PATH, seg.as_bytes()).unwrap();
            }
            if let Some((n, v)) = extra {
                b.option(n, v).unwrap();
            }
            if !payload.is_empty() {
                b.payload_writer().unwrap().put(payload).unwrap();
            }
            let n = b.finish();
            let msg = Message::parse(&buf[..n]).unwrap();
            let p = Path::from_segments(msg.options_of(opt::URI_PATH)).unwrap();
            needed_right(&msg, &p)
        }
        let link: &[u8] = &[40];
        let query = Some((opt::URI_QUERY, &b"pmin=5"[..]));
        // Read (instance, resource, object) and Observe; Discover needs no right.
        assert_eq!(right(Code::GET, "/3303/0", b"", None), READ);
        assert_eq!(right(Code::GET, "/3303/0/5700", b"", None), READ);
        assert_eq!(right(Code::GET, "/3303", b"", None), READ);
        assert_eq!(
            right(Code::GET, "/3303/0", b"", Some((opt::ACCEPT, link))),
            0
        );
        // Write-Attributes: PUT with a query and no payload.
        assert_eq!(right(Code::PUT, "/3303/0/5700", b"", query), READ);
        // Write (replace and partial update).
        assert_eq!(right(Code::PUT, "/3303/0/5701", b"F", None), WRITE);
        assert_eq!(right(Code::PUT, "/3303/0", b"\xc1\x00\x01", None), WRITE);
        assert_eq!(right(Code::POST, "/3303/0", b"\xc1\x00\x01", None), WRITE);
        // Execute (POST on a resource without a payload); with a payload, Execute with
        // arguments or a Write, as the resource says (decided where the object is known).
        assert_eq!(right(Code::POST, "/3303/0/5605", b"", None), EXECUTE);
        assert_eq!(
            right(Code::POST, "/3303/0/5605", b"1='a'", None),
            acl::EXECUTE_OR_WRITE
        );
        // Create, with and without values.
        assert_eq!(right(Code::POST, "/3303", b"", None), CREATE);
        assert_eq!(right(Code::POST, "/3303", b"\xc1\x00\x01", None), CREATE);
        // Delete.
        assert_eq!(right(Code::DELETE, "/3303/0", b"", None), DELETE);
        // Nothing matches (4.05 follows): no right to look for.
        assert_eq!(right(Code::POST, "/3303/0", b"", None), 0);
    }

    #[test]
    fn event_queue_keeps_the_newest_and_counts_the_lost() {
        let servers = [ServerConfig {
            uri: "coap://192.0.2.1:5683",
            short_id: 1,
            lifetime_s: 300,
        }];
        let config = Config {
            endpoint: "ep",
            version: Version::V1_0,
            update_margin_s: 10,
            servers: &servers,
        };
        let mut c = Client::new(&config, 0).unwrap();
        assert_eq!(c.poll_event(), Some(Event::ConnectionNeeded { server: 0 }));
        assert_eq!(c.poll_event(), None);
        for round in 0..3u8 {
            let extra = usize::from(round) * 2;
            for i in 0..EVENT_SLOTS + extra {
                c.push_event(Event::Updated { server: i as u8 });
            }
            if extra > 0 {
                let count = extra as u16;
                // Lost events are reported once there is room again.
                let first = c.poll_event();
                assert_eq!(
                    first,
                    Some(Event::Updated {
                        server: extra as u8
                    })
                );
                assert_eq!(c.poll_event(), Some(Event::EventsLost { count }));
                for i in extra + 1..EVENT_SLOTS + extra {
                    assert_eq!(c.poll_event(), Some(Event::Updated { server: i as u8 }));
                }
            } else {
                for i in 0..EVENT_SLOTS {
                    assert_eq!(c.poll_event(), Some(Event::Updated { server: i as u8 }));
                }
            }
            assert_eq!(c.poll_event(), None);
        }
        // A full queue drops reports, never an instruction to open or close a connection.
        c.push_event(Event::Updated { server: 9 });
        c.push_event(Event::ConnectionDone { server: 0 });
        for i in 0..EVENT_SLOTS {
            c.push_event(Event::Updated { server: i as u8 });
        }
        assert_eq!(c.poll_event(), Some(Event::ConnectionDone { server: 0 }));
        let lost = c.poll_event();
        assert_eq!(lost, Some(Event::EventsLost { count: 2 }));
        for i in 1..EVENT_SLOTS {
            assert_eq!(c.poll_event(), Some(Event::Updated { server: i as u8 }));
        }
        assert_eq!(c.poll_event(), None);
        // Only commands queued: a report is dropped, a command takes the oldest's place.
        for _ in 0..EVENT_SLOTS {
            c.push_event(Event::ConnectionNeeded { server: 1 });
        }
        c.push_event(Event::Updated { server: 1 });
        c.push_event(Event::ConnectionDone { server: 0 });
        let needed = Some(Event::ConnectionNeeded { server: 1 });
        assert_eq!(c.poll_event(), needed);
        assert_eq!(c.poll_event(), Some(Event::EventsLost { count: 2 }));
        for _ in 2..EVENT_SLOTS {
            assert_eq!(c.poll_event(), needed);
        }
        assert_eq!(c.poll_event(), Some(Event::ConnectionDone { server: 0 }));
        assert_eq!(c.poll_event(), None);
        // A close takes back the same connection's open that is still queued, and only it.
        c.push_event(Event::ConnectionNeeded { server: 0 });
        c.push_event(Event::Updated { server: 2 });
        c.push_event(Event::ConnectionNeeded { server: 1 });
        c.push_event(Event::ConnectionDone { server: 0 });
        c.push_event(Event::ConnectionNeeded { server: 0 });
        assert_eq!(c.poll_event(), Some(Event::Updated { server: 2 }));
        assert_eq!(c.poll_event(), needed);
        assert_eq!(c.poll_event(), Some(Event::ConnectionNeeded { server: 0 }));
        assert_eq!(c.poll_event(), None);
        // Once the open has been handed out, the close is queued as it comes.
        c.push_event(Event::ConnectionNeeded { server: 0 });
        assert_eq!(c.poll_event(), Some(Event::ConnectionNeeded { server: 0 }));
        c.push_event(Event::ConnectionDone { server: 0 });
        assert_eq!(c.poll_event(), Some(Event::ConnectionDone { server: 0 }));
        assert_eq!(c.poll_event(), None);
    }
}
