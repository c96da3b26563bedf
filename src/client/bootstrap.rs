//! The Bootstrap interface (LwM2M 1.1 Core 6.1, Transport 6.1): client-initiated bootstrap
//! (`POST /bs?ep=..&pct=..` after the Client Hold Off Time), server-initiated bootstrap
//! (the bootstrap server's operations taken without a request), and the operations of the
//! bootstrap server: Bootstrap-Write of objects 0, 1 and (with `access-control`) 2, in TLV
//! and in the record formats this build has (SenML JSON and CBOR, LwM2M CBOR and JSON),
//! Bootstrap-Read of 1 and 2, Bootstrap-Discover, Bootstrap-Delete and Bootstrap-Finish.
//!
//! A bootstrap starts after the Client Hold Off Time when there is no DM server, when the
//! configuration says to bootstrap first, and when every DM server refused the
//! registration or failed for good (the registration's retry sequences are exhausted), and
//! when a server executes its Bootstrap-Request Trigger (/1/x/9). With `persistence`, the
//! accounts a Finish installed are saved (`TAG_ACCOUNT` items) and a load restores them.
//!
//! The bootstrap has a connection slot of its own, [`BOOTSTRAP_SLOT`]. Its operations go to
//! a staging copy of the Security and Server instances, taken from the live configuration
//! when the bootstrap starts: nothing live changes until a Finish whose consistency check
//! passes (every Server instance has a non-bootstrap NoSec Security instance of the same
//! Short Server ID with a `coap://` URI). Then the registered servers the staging copy
//! drops (or moves to another URI) de-register, and the DM server accounts are rebuilt from
//! it and register. Access Control instances are not staged: a Bootstrap-Write or
//! -Delete of /2 (or a Delete of `/`) changes the live table at once (a failed write changes
//! nothing), and a Finish saves it with the accounts. Operations on the slot outside a
//! bootstrap get 4.01; the same operations from a DM server's connection get 4.01 (object 0)
//! or 4.05 (object-less paths) from device management, as before.

use heapless::Vec;

use super::exchange::{Exchange, RequestKind, Timer, EXCHANGE_LIFETIME_MS, TOKEN_LEN};
use super::security::{self, Security, SecurityObject, MODE_CERTIFICATE, MODE_NOSEC};
use super::server::{self as server, Account};
use super::{Engine, Event, Platform, Server, ServerConfig};
use crate::coap::{self, opt, Code, Message, MessageBuilder, MsgType};
use crate::config::MAX_SERVERS;
use crate::formats::content_format as cf;
use crate::formats::link::LinkWriter;
use crate::formats::tlv::{self, TlvIter, TlvKind};
use crate::model::{object, Object, Path, ResourceDef, Value, ValueSink};

/// The connection slot of the bootstrap server (after the servers' and the download's).
pub const BOOTSTRAP_SLOT: u8 = MAX_SERVERS as u8 + 1;

/// The lifetime of a Server instance a Bootstrap-Write creates without one.
const DEFAULT_LIFETIME_S: u32 = 86_400;

/// The bootstrap server account, as configured at init.
#[derive(Clone, Copy)]
pub struct BootstrapConfig<'a> {
    /// The bootstrap server's URI (`coap://`).
    pub uri: &'a str,
    /// Client Hold Off Time (Security resource 11): seconds before the Bootstrap-Request.
    pub hold_off_s: u32,
    /// Bootstrap before registering, even with DM servers configured.
    pub first: bool,
    /// Server-initiated bootstrap: open the bootstrap connection at start and take the
    /// bootstrap server's operations without sending a Bootstrap-Request.
    pub server_initiated: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
enum Phase {
    /// No bootstrap.
    Idle,
    /// The Client Hold Off Time runs until `until`.
    HoldOff { until: u64 },
    /// Waiting for the application to open the connection.
    Connecting,
    /// The Bootstrap-Request is in flight.
    Request,
    /// The Bootstrap-Request was accepted: operations until a Finish, or `until`.
    Running { until: u64 },
    /// Server-initiated: operations taken without a deadline.
    Listening,
    /// Finished: the servers the new configuration drops de-register first (each
    /// De-register bounded by CoAP's retransmissions), then it is installed.
    Leaving,
    /// Finished: the response goes out, then the connection is released.
    Closing,
}

/// The bootstrap state, one per client.
pub struct Bootstrap {
    /// The bootstrap server's Security instance (`None`: no bootstrap account).
    account: Option<Security>,
    server_initiated: bool,
    phase: Phase,
    connected: bool,
    exchange: Option<Exchange>,
    /// The staging copy of the Security instances.
    pub(super) security: security::Table,
    /// The staging copy of the Server instances (their resources only).
    servers: Vec<Account, MAX_SERVERS>,
    /// The DM servers come from a bootstrap (a Finish, or a restored record): the saved
    /// record holds their accounts.
    bootstrapped: bool,
    /// Servers told to connect at init (none when the bootstrap went first).
    factory: u8,
}

impl Bootstrap {
    /// The bootstrap account when it has the keys its Security mode needs (a pre-shared
    /// key, or with `dtls-rpk` raw public keys).
    #[cfg(feature = "dtls")]
    pub(super) fn keys(&self) -> Option<&Security> {
        let a = self.account.as_ref()?;
        a.keys.is_set(a.mode).then_some(a)
    }

    pub(super) const fn new() -> Bootstrap {
        Bootstrap {
            account: None,
            server_initiated: false,
            phase: Phase::Idle,
            connected: false,
            exchange: None,
            security: Vec::new(),
            servers: Vec::new(),
            bootstrapped: false,
            factory: 0,
        }
    }

    /// When the bootstrap next needs `poll_transmit`.
    pub(super) fn deadline(&self) -> Option<u64> {
        match self.phase {
            Phase::HoldOff { until } | Phase::Running { until } => Some(until),
            Phase::Request if self.connected => {
                Some(self.exchange.as_ref().map_or(0, Exchange::deadline))
            }
            Phase::Closing => Some(0),
            _ => None,
        }
    }

    /// True while the bootstrap server's operations are taken.
    fn accepting(&self) -> bool {
        matches!(
            self.phase,
            Phase::Request | Phase::Running { .. } | Phase::Listening
        )
    }
}

impl Engine {
    /// Sets up the bootstrap server account (from `init`): the bootstrap starts after the
    /// hold-off when there is no DM server or `first` is set, or is listened for when
    /// `server_initiated` is set. Returns false when DM servers should not connect yet.
    pub(super) fn bootstrap_init(&mut self, cfg: &BootstrapConfig<'_>) -> bool {
        let mut account = Security::new(self.servers.len() as u16);
        account.bootstrap = true;
        account.hold_off_s = cfg.hold_off_s;
        // Checked by the caller (`check_uri`).
        let _ = account.uri.push_str(cfg.uri);
        let bs = &mut self.bootstrap;
        bs.account = Some(account);
        bs.server_initiated = cfg.server_initiated;
        let start = cfg.first || self.servers.is_empty();
        if !start {
            bs.factory = self.servers.len() as u8;
        }
        if start {
            self.bootstrap_start(0);
        } else if cfg.server_initiated {
            self.bootstrap_connect();
        }
        !start
    }

    /// The bootstrap server's Security instance (its URI and instance id are what
    /// [`Event::ConnectionNeeded`] on [`BOOTSTRAP_SLOT`] connects to), when there is one.
    pub fn bootstrap_account(&self) -> Option<&Security> {
        self.bootstrap.account.as_ref()
    }

    /// When the bootstrap next needs `poll_transmit` (not while its DTLS handshake runs:
    /// that has deadlines of its own).
    pub(super) fn bootstrap_deadline(&self) -> Option<u64> {
        if self.bootstrap.phase == Phase::Request && !self.bootstrap_link_ready() {
            return None;
        }
        if self.bootstrap.phase == Phase::Leaving {
            return (!self.servers.iter().any(|s| s.reg.deregistering())).then_some(0);
        }
        self.bootstrap.deadline()
    }

    /// The bootstrap connection is open (and, when secured, its handshake is over).
    fn bootstrap_link_ready(&self) -> bool {
        #[cfg(feature = "dtls")]
        if !self.secure_ready(BOOTSTRAP_SLOT) {
            return false;
        }
        self.bootstrap.connected
    }

    /// True while the bootstrap connection is open.
    #[cfg(feature = "dtls")]
    pub(super) fn bootstrap_is_connected(&self) -> bool {
        self.bootstrap.connected
    }

    /// Gives the bootstrap account keys for Security `mode` (0: a pre-shared key, 1: raw
    /// public keys): its connection is then secured with the engine's DTLS. False without
    /// a bootstrap account.
    #[cfg(feature = "dtls")]
    pub(super) fn set_bootstrap_keys(&mut self, mode: u8, keys: security::Keys) -> bool {
        let Some(a) = self.bootstrap.account.as_mut() else {
            return false;
        };
        a.mode = mode;
        a.keys = keys;
        true
    }

    /// Starts a client-initiated bootstrap after the Client Hold Off Time.
    fn bootstrap_start(&mut self, now: u64) {
        let hold = self
            .bootstrap
            .account
            .as_ref()
            .map_or(0, |a| u64::from(a.hold_off_s).saturating_mul(1000));
        self.bootstrap.exchange = None;
        self.bootstrap.phase = Phase::HoldOff {
            until: now.saturating_add(hold),
        };
    }

    fn bootstrap_connect(&mut self) {
        self.bootstrap.phase = Phase::Connecting;
        if self.bootstrap.connected {
            self.bootstrap_connected();
        } else {
            self.push_event(Event::ConnectionNeeded {
                server: BOOTSTRAP_SLOT,
            });
        }
    }

    /// The bootstrap connection is open: the request, or listening.
    pub(super) fn bootstrap_connected(&mut self) {
        #[cfg(feature = "dtls")]
        if !self.secure_bootstrap() {
            // No DTLS session free for a secured bootstrap account (set_psk and set_rpk keep
            // one, so this does not happen), or keys that make none: no bootstrap rather
            // than one in the clear.
            self.bootstrap.phase = Phase::Idle;
            self.push_event(Event::BootstrapFailed);
            return;
        }
        let bs = &mut self.bootstrap;
        bs.connected = true;
        if bs.phase == Phase::Connecting {
            bs.phase = if bs.server_initiated {
                Phase::Listening
            } else {
                Phase::Request
            };
            self.bootstrap_stage();
        }
    }

    /// The bootstrap connection could not be opened: tried again after the hold-off.
    pub(super) fn bootstrap_connection_failed(&mut self, now: u64) {
        self.bootstrap.connected = false;
        #[cfg(feature = "dtls")]
        self.unsecure(BOOTSTRAP_SLOT);
        if self.bootstrap.phase != Phase::Idle {
            self.bootstrap_failed(now);
        }
    }

    fn bootstrap_failed(&mut self, now: u64) {
        self.push_event(Event::BootstrapFailed);
        self.bootstrap_start(now);
    }

    /// Copies the live Security and Server instances into the staging copy.
    fn bootstrap_stage(&mut self) {
        let bs = &mut self.bootstrap;
        bs.security.clear();
        bs.servers.clear();
        for (i, s) in self.servers.iter().enumerate() {
            let mut sec = Security::new(s.security_iid);
            sec.ssid = s.short_id;
            sec.uri = s.uri.clone();
            #[cfg(feature = "dtls")]
            Engine::stage_psk(&self.dtls, super::slot_of(i), &mut sec);
            #[cfg(feature = "platform-credentials")]
            Engine::stage_psk(&self.credentials, super::slot_of(i), &mut sec);
            #[cfg(not(any(feature = "dtls", feature = "platform-credentials")))]
            let _ = i;
            let _ = bs.security.push(sec);
            let _ = bs.servers.push(s.account);
        }
        if let Some(a) = &bs.account {
            let _ = bs.security.push(a.clone());
        }
    }

    /// The bootstrap's timers: returns the length of a Bootstrap-Request written to `tx`.
    pub(super) fn bootstrap_poll(
        &mut self,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut super::Datagram,
    ) -> Option<usize> {
        // Fallback: every DM server refused the registration or failed for good.
        if self.bootstrap.phase == Phase::Idle
            && self.bootstrap.account.is_some()
            && !self.servers.is_empty()
            && self.servers.iter().all(|s| {
                s.reg.exchange.is_none()
                    && matches!(
                        s.reg.phase,
                        super::registration::Phase::Failed | super::registration::Phase::Rejected
                    )
            })
        {
            self.bootstrap_start(now);
        }
        match self.bootstrap.phase {
            Phase::HoldOff { until } if now >= until => self.bootstrap_connect(),
            Phase::Running { until } if now >= until => {
                // No Finish in time: the bootstrap starts over.
                self.push_event(Event::BootstrapFailed);
                self.bootstrap.phase = Phase::Request;
                self.bootstrap.exchange = None;
                self.bootstrap_stage();
            }
            Phase::Leaving if !self.servers.iter().any(|s| s.reg.deregistering()) => {
                self.bootstrap_apply();
            }
            Phase::Closing => {
                self.bootstrap.phase = Phase::Idle;
                self.bootstrap.connected = false;
                #[cfg(feature = "dtls")]
                self.unsecure(BOOTSTRAP_SLOT);
                self.push_event(Event::ConnectionDone {
                    server: BOOTSTRAP_SLOT,
                });
            }
            _ => {}
        }
        if self.bootstrap.phase != Phase::Request || !self.bootstrap_link_ready() {
            return None;
        }
        match self.bootstrap.exchange.as_ref().map(|e| e.check(now)) {
            Some(Timer::Wait) => return None,
            Some(Timer::GiveUp) => {
                self.bootstrap_failed(now);
                return None;
            }
            Some(Timer::Retransmit) => {}
            None => {
                let mut random = [0u8; TOKEN_LEN + 2];
                platform.random(&mut random);
                let [token @ .., j0, j1] = random;
                let mid = self.mid();
                self.bootstrap.exchange = Some(Exchange::new(
                    RequestKind::Register,
                    mid,
                    token,
                    u16::from_le_bytes([j0, j1]),
                ));
            }
        }
        let ex = self.bootstrap.exchange.as_mut()?;
        ex.sent(now);
        let ex = *ex;
        self.bootstrap_request_encode(&ex, tx).ok()
    }

    /// `POST /bs?ep=<endpoint>` (and `pct=` TLV in 1.1).
    fn bootstrap_request_encode(
        &self,
        ex: &Exchange,
        tx: &mut super::Datagram,
    ) -> Result<usize, coap::BuildError> {
        let mut b = MessageBuilder::new(tx, MsgType::Con, Code::POST, ex.message_id, &ex.token)?;
        b.option(opt::URI_PATH, b"bs")?;
        super::query(&mut b, b"ep=", self.endpoint.as_bytes())?;
        if self.version == super::Version::V1_1 {
            b.option(opt::URI_QUERY, b"pct=11542")?;
        }
        Ok(b.finish())
    }

    /// A datagram on the bootstrap connection.
    pub(super) fn bootstrap_datagram(
        &mut self,
        msg: &Message<'_>,
        out: &mut [u8],
        now: u64,
        platform: &mut dyn Platform,
    ) -> Result<(), super::DropReason> {
        let code = msg.code();
        if code.is_request() {
            return self.request(BOOTSTRAP_SLOT, msg, out, now, platform);
        }
        let mid = msg.message_id();
        let ack = msg.mtype() == MsgType::Ack;
        // An ACK or a RST names the request by message id; a response by token.
        let by_mid = ack || msg.mtype() == MsgType::Rst;
        let Some(ex) = self.bootstrap.exchange.as_mut().filter(|e| {
            (!by_mid || e.message_id == mid) && (code.is_empty() || e.matches_token(msg.token()))
        }) else {
            return Err(super::DropReason::Unmatched);
        };
        if code.is_empty() {
            if ack {
                ex.acknowledged(now);
                return Ok(());
            }
            // RST: the request failed.
            self.bootstrap.exchange = None;
            self.bootstrap_failed(now);
            return Ok(());
        }
        if msg.mtype() == MsgType::Con {
            self.control_message(BOOTSTRAP_SLOT, MsgType::Ack, mid);
        }
        self.bootstrap.exchange = None;
        if code == Code::CHANGED {
            if self.bootstrap.phase == Phase::Request {
                self.bootstrap.phase = Phase::Running {
                    until: now.saturating_add(EXCHANGE_LIFETIME_MS),
                };
            }
        } else {
            self.bootstrap_failed(now);
        }
        Ok(())
    }

    /// Answers a request on the bootstrap connection into `out`; returns the length.
    #[inline(never)]
    pub(super) fn bootstrap_answer(
        &mut self,
        out: &mut [u8],
        mtype: MsgType,
        mid: u16,
        req: &Message<'_>,
        platform: &mut dyn Platform,
    ) -> usize {
        if !self.bootstrap.accepting() {
            return short_reply(out, mtype, Code::UNAUTHORIZED, mid, req, "");
        }
        if req.code() == Code::POST
            && req.option(opt::URI_PATH) == Some(b"bs")
            && req.options_of(opt::URI_PATH).nth(1).is_none()
        {
            return self.bootstrap_finish(out, mtype, mid, req);
        }
        let Some(path) = Path::from_segments(req.options_of(opt::URI_PATH)) else {
            return short_reply(out, mtype, Code::NOT_FOUND, mid, req, "");
        };
        let bs = &mut self.bootstrap;
        // One datagram always holds a bootstrap response: no block-wise transfer here.
        let r = match MessageBuilder::new(out, mtype, Code::CONTENT, mid, req.token()) {
            Ok(mut b) => {
                let r = operation(
                    req,
                    &path,
                    bs,
                    &mut b,
                    platform.objects(),
                    #[cfg(feature = "access-control")]
                    &mut self.acl,
                );
                #[cfg(feature = "access-control")]
                let r = match r {
                    Err(Code::METHOD_NOT_ALLOWED)
                        if req.code() == Code::GET
                            && path.object_id() == Some(2)
                            && req.option_uint(opt::ACCEPT) != Some(u32::from(cf::LINK)) =>
                    {
                        super::dm::dispatch(req, &path, &mut self.acl, &mut b, &())
                    }
                    r => r,
                };
                r.map(|code| (code, b.finish()))
            }
            Err(_) => Err(Code::INTERNAL_SERVER_ERROR),
        };
        match r {
            Ok((code, len)) => {
                if let Some(c) = out.get_mut(1) {
                    *c = code.0;
                }
                len
            }
            Err(code) => short_reply(out, mtype, code, mid, req, ""),
        }
    }

    /// Bootstrap-Request Trigger (/1/x/9) executed by a DM server on its own Server
    /// instance: with a bootstrap account, 2.04 and a client-initiated bootstrap starts
    /// (after the hold-off); `None` leaves the request to device management (4.05 without
    /// an account, Access Control for another server's instance).
    pub(super) fn bootstrap_trigger(
        &mut self,
        out: &mut [u8],
        server: u8,
        mtype: MsgType,
        mid: u16,
        req: &Message<'_>,
        now: u64,
    ) -> Option<usize> {
        if self.bootstrap.account.is_none() || req.code() != Code::POST || !req.payload().is_empty()
        {
            return None;
        }
        let path = Path::from_segments(req.options_of(opt::URI_PATH))?;
        let own = self.servers.get(usize::from(server))?.server_iid;
        if path.len() != 3 || path.object_id() != Some(1) || path.resource_id() != Some(9) {
            return None;
        }
        if path.instance_id() != Some(own) {
            return None;
        }
        if self.bootstrap.phase == Phase::Idle {
            self.bootstrap_start(now);
        }
        Some(short_reply(out, mtype, Code::CHANGED, mid, req, ""))
    }

    /// Bootstrap-Finish: 2.04 and the staging copy becomes the live configuration, or 4.06
    /// with a diagnostic payload and the bootstrap goes on. Not inlined, nor is
    /// [`operation`]: each one's frame lies under the answer's alone.
    #[inline(never)]
    fn bootstrap_finish(
        &mut self,
        out: &mut [u8],
        mtype: MsgType,
        mid: u16,
        req: &Message<'_>,
    ) -> usize {
        let verdict = consistent(&self.bootstrap.security, &self.bootstrap.servers)
            .and_then(|()| self.sessions_fit(&self.bootstrap.security, &self.bootstrap.servers));
        let code = if verdict.is_ok() {
            Code::CHANGED
        } else {
            Code::NOT_ACCEPTABLE
        };
        let text = verdict.err().unwrap_or("");
        let len = short_reply(out, mtype, code, mid, req, text);
        if verdict.is_ok() {
            self.bootstrap_commit();
        }
        len
    }

    /// Takes a staging copy that passed its check: the registered servers it drops (no
    /// Server instance of their Short Server ID, or another URI) de-register first; it is
    /// installed once they have.
    fn bootstrap_commit(&mut self) {
        let bs = &self.bootstrap;
        let mut leaving = false;
        for s in self.servers.iter_mut() {
            let kept = bs.servers.iter().any(|a| a.short_id == s.short_id)
                && bs
                    .security
                    .iter()
                    .any(|k| !k.bootstrap && k.ssid == s.short_id && k.uri == s.uri);
            if s.reg.is_registered() && !kept {
                s.reg.request_deregister();
                leaving = true;
            }
        }
        if leaving {
            self.bootstrap.phase = Phase::Leaving;
        } else {
            self.bootstrap_apply();
        }
    }

    /// Installs the staging copy: the DM servers are rebuilt from it and register.
    fn bootstrap_apply(&mut self) {
        for i in 0..self.servers.len() {
            self.push_event(Event::ConnectionDone {
                server: super::slot_of(i),
            });
        }
        // A slot in queue mode keeps the awake time the application chose for it.
        #[cfg(feature = "queue-mode")]
        let awake: [u32; MAX_SERVERS] =
            core::array::from_fn(|i| self.servers.get(i).map_or(0, |s| s.awake_ms));
        self.servers.clear();
        let bs = &mut self.bootstrap;
        for staged in bs.servers.iter() {
            let Some(sec) = bs
                .security
                .iter()
                .find(|s| !s.bootstrap && s.ssid == staged.short_id)
            else {
                continue;
            };
            #[allow(unused_mut)]
            let mut s = Server::with_account(*staged, sec.iid, &sec.uri);
            #[cfg(feature = "queue-mode")]
            if let Some(&ms) = awake.get(self.servers.len()) {
                if ms != 0 && s.queue_mode() {
                    s.awake_ms = ms;
                }
            }
            let _ = self.servers.push(s);
        }
        if let Some(a) = bs.security.iter().find(|s| s.bootstrap) {
            bs.account = Some(a.clone());
        }
        #[cfg(any(feature = "dtls", feature = "platform-credentials"))]
        self.install_psks();
        let bs = &mut self.bootstrap;
        bs.security.clear();
        bs.servers.clear();
        bs.exchange = None;
        bs.phase = Phase::Closing;
        for i in 0..self.servers.len() {
            self.push_event(Event::ConnectionNeeded {
                server: super::slot_of(i),
            });
        }
        self.bootstrap.bootstrapped = true;
        // What the previous servers set up goes with them.
        #[cfg(feature = "observe")]
        self.clear_observations();
        #[cfg(feature = "attributes")]
        {
            self.attrs = super::AttrStore::new();
        }
        self.push_event(Event::Bootstrapped);
        #[cfg(feature = "persistence")]
        {
            self.persist.dirty = true;
        }
    }
}

/// Why a bootstrap blob was refused; nothing changed.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum BlobError {
    /// The framing is wrong: a header or a part runs past the end.
    Malformed,
    /// A part for another object than Security (0) or Server (1), or a write the object
    /// refused (its CoAP code).
    Write(Code),
    /// The result is unusable (the reason, as a Bootstrap-Finish would give it).
    Inconsistent(&'static str),
}

impl Engine {
    /// Applies a bootstrap blob from a smartcard or a secure element: a Bootstrap-Delete of
    /// `/` (the bootstrap account stays), the Bootstrap-Writes the blob holds, and a
    /// Bootstrap-Finish. The blob is a list of parts, each an Object ID (0 or 1) and a
    /// length (u16, big-endian) followed by that many bytes of TLV: the object's instances,
    /// as a Bootstrap-Write of `/0` or `/1` carries them. Applied whole, or not at all;
    /// registered servers it drops de-register first.
    pub fn bootstrap_from_blob(&mut self, blob: &[u8]) -> Result<(), BlobError> {
        let mut security = security::Table::new();
        if let Some(a) = &self.bootstrap.account {
            let _ = security.push(a.clone());
        }
        let mut servers: Vec<Account, MAX_SERVERS> = Vec::new();
        let mut rest = blob;
        while let Some((head, tail)) = rest.split_first_chunk::<4>() {
            let [o0, o1, l0, l1] = *head;
            let (data, after) = tail
                .split_at_checked(usize::from(u16::from_be_bytes([l0, l1])))
                .ok_or(BlobError::Malformed)?;
            let oid = u16::from_be_bytes([o0, o1]);
            let path = Path::object(oid);
            let r = match oid {
                0 => write(
                    &path,
                    data,
                    &mut SecurityObject {
                        table: &mut security,
                    },
                ),
                1 => write(
                    &path,
                    data,
                    &mut StagedServers {
                        servers: &mut servers,
                    },
                ),
                _ => Err(Code::NOT_FOUND),
            };
            r.map_err(BlobError::Write)?;
            rest = after;
        }
        if !rest.is_empty() {
            return Err(BlobError::Malformed);
        }
        consistent(&security, &servers)
            .and_then(|()| self.sessions_fit(&security, &servers))
            .map_err(BlobError::Inconsistent)?;
        self.bootstrap.security = security;
        self.bootstrap.servers = servers;
        self.bootstrap_commit();
        Ok(())
    }
}

/// The persisted item of a bootstrapped account: Short Server ID, Security and Server
/// instance ids (u16, little-endian), then the URI.
#[cfg(feature = "persistence")]
pub(super) const TAG_ACCOUNT: u8 = 5;
/// Its largest value.
#[cfg(feature = "persistence")]
pub(super) const ACCOUNT_MAX: usize = 6 + crate::config::MAX_URI_LEN;

/// The persisted keys of a bootstrapped secured account: Short Server ID (u16,
/// little-endian), its Security mode, the lengths of resources 3 and 4 (u8 each), then
/// resources 3, 4 and 5 (raw public keys in their raw forms).
#[cfg(all(
    feature = "persistence",
    any(feature = "dtls", feature = "platform-credentials")
))]
pub(super) const TAG_KEYS: u8 = 6;
/// Its largest value.
#[cfg(all(
    feature = "persistence",
    any(feature = "dtls", feature = "platform-credentials")
))]
pub(super) const KEYS_MAX: usize = 5 + security::MAX_PSK_IDENTITY_LEN + security::MAX_PSK_LEN + 64;

#[cfg(all(
    feature = "persistence",
    any(feature = "dtls", feature = "platform-credentials")
))]
impl Engine {
    /// Emits the keys of bootstrapped secured servers (after their accounts).
    pub(super) fn key_items(&self, emit: &mut dyn FnMut(&[&[u8]])) {
        if !self.bootstrap.bootstrapped {
            return;
        }
        for (i, s) in self.servers.iter().enumerate() {
            let Some((mode, [identity, server_key, key])) = self.keys_of(super::slot_of(i)) else {
                continue;
            };
            let [a, b] = s.short_id.to_le_bytes();
            let n3 = u8::try_from(identity.len()).unwrap_or(0);
            let n4 = u8::try_from(server_key.len()).unwrap_or(0);
            emit(&[&[a, b, mode, n3, n4], identity, server_key, key]);
        }
    }

    /// Checks (and with `apply`, installs) saved keys; those of a server the record does
    /// not have are dropped.
    pub(super) fn restore_keys_item(&mut self, v: &[u8], apply: bool) -> Result<(), ()> {
        let ([a, b, mode, n3, n4], rest) = v.split_first_chunk::<5>().ok_or(())?;
        let (identity, rest) = rest.split_at_checked(usize::from(*n3)).ok_or(())?;
        let (server_key, key) = rest.split_at_checked(usize::from(*n4)).ok_or(())?;
        let keys = security::Keys::from_parts(identity, server_key, key).ok_or(())?;
        #[cfg(feature = "dtls")]
        if super::secure::keys_for(*mode, &keys).is_none() {
            return Err(());
        }
        #[cfg(feature = "platform-credentials")]
        if *mode != security::MODE_PSK || !keys.is_set(*mode) {
            return Err(());
        }
        let ssid = u16::from_le_bytes([*a, *b]);
        if apply {
            if let Some(i) = self.servers.iter().position(|s| s.short_id == ssid) {
                if !self.restore_keys(super::slot_of(i), *mode, &keys) {
                    return Err(());
                }
            }
        }
        Ok(())
    }
}

#[cfg(feature = "persistence")]
impl Engine {
    /// Emits the accounts of bootstrapped servers (before their other items: a load
    /// creates the servers from them).
    pub(super) fn account_items(&self, emit: &mut dyn FnMut(&[u8], &[u8])) {
        if !self.bootstrap.bootstrapped {
            return;
        }
        for s in self.servers.iter() {
            let [a, b] = s.short_id.to_le_bytes();
            let [c, d] = s.security_iid.to_le_bytes();
            let [e, f] = s.server_iid.to_le_bytes();
            emit(&[a, b, c, d, e, f], s.uri.as_bytes());
        }
    }

    /// Checks (and with `apply`, takes) a saved account: the first one replaces the
    /// configured servers.
    pub(super) fn restore_account(&mut self, v: &[u8], apply: bool) -> Result<(), ()> {
        let ([a, b, c, d, e, f], uri) = v.split_first_chunk::<6>().ok_or(())?;
        let cfg = ServerConfig {
            uri: crate::util::utf8(uri).ok_or(())?,
            short_id: u16::from_le_bytes([*a, *b]),
            lifetime_s: DEFAULT_LIFETIME_S,
        };
        cfg.check().map_err(|_| ())?;
        if apply {
            if !core::mem::replace(&mut self.bootstrap.bootstrapped, true) {
                self.servers.clear();
            }
            let mut s = Server::new(&cfg, u16::from_le_bytes([*e, *f]));
            s.security_iid = u16::from_le_bytes([*c, *d]);
            let _ = self.servers.push(s);
        }
        Ok(())
    }

    /// After a load: restored accounts replace the configured servers, which reconnect,
    /// and a client-initiated bootstrap that has not started is not needed any more.
    pub(super) fn bootstrap_restored(&mut self) {
        if !self.bootstrap.bootstrapped {
            return;
        }
        for i in 0..self.bootstrap.factory {
            self.push_event(Event::ConnectionDone { server: i });
        }
        if matches!(self.bootstrap.phase, Phase::HoldOff { .. }) {
            self.bootstrap.phase = Phase::Idle;
        }
        self.connect_all();
    }
}

/// A response with `code` and a text payload (none when empty); its length.
fn short_reply(
    buf: &mut [u8],
    mtype: MsgType,
    code: Code,
    mid: u16,
    req: &Message<'_>,
    text: &str,
) -> usize {
    match MessageBuilder::new(buf, mtype, code, mid, req.token()) {
        Ok(mut b) => {
            if !text.is_empty() {
                let _ = b.payload(text.as_bytes());
            }
            b.finish()
        }
        Err(_) => 0,
    }
}

impl Engine {
    /// With the engine's DTLS: the secured servers, and the bootstrap server when it is
    /// secured now or will be, fit `TERN_MAX_DTLS_SESSIONS`.
    #[cfg(feature = "dtls")]
    fn sessions_fit(
        &self,
        security: &security::Table,
        servers: &[Account],
    ) -> Result<(), &'static str> {
        let psk = |s: &Security| matches!(s.mode, security::MODE_PSK | security::MODE_RPK);
        let secured = servers
            .iter()
            .filter(|a| {
                security
                    .iter()
                    .any(|s| s.ssid == a.short_id && !s.bootstrap && psk(s))
            })
            .count();
        let bootstrap =
            self.bootstrap.keys().is_some() || security.iter().any(|s| s.bootstrap && psk(s));
        if secured.saturating_add(usize::from(bootstrap)) > crate::config::MAX_DTLS_SESSIONS {
            return Err("more secured servers than dtls sessions");
        }
        Ok(())
    }

    #[cfg(not(feature = "dtls"))]
    fn sessions_fit(&self, _: &security::Table, _: &[Account]) -> Result<(), &'static str> {
        Ok(())
    }
}

/// A secured account: a `coaps://` URI and keys its mode can use.
#[cfg(feature = "dtls")]
fn secured(
    sec: &Security,
    missing: &'static str,
    unusable: &'static str,
) -> Result<(), &'static str> {
    if !sec.uri.starts_with("coaps://") {
        return Err("server uri");
    }
    if !sec.keys.is_set(sec.mode) {
        return Err(missing);
    }
    if super::secure::keys_for(sec.mode, &sec.keys).is_none() {
        return Err(unusable);
    }
    Ok(())
}

/// A server the platform secures with the written pre-shared key: a `coaps://` URI and
/// both parts of the key.
#[cfg(feature = "platform-credentials")]
fn platform_secured(sec: &Security) -> Result<(), &'static str> {
    if !sec.uri.starts_with("coaps://") {
        return Err("server uri");
    }
    if !sec.keys.is_set(sec.mode) {
        return Err("psk identity or key missing");
    }
    Ok(())
}

/// The Finish's consistency check: `Err` is the diagnostic text of the 4.06.
fn consistent(security: &security::Table, servers: &[Account]) -> Result<(), &'static str> {
    if servers.is_empty() {
        return Err("no server");
    }
    if security.iter().filter(|s| s.bootstrap).count() > 1 {
        return Err("two bootstrap accounts");
    }
    for s in servers {
        if s.short_id == 0 {
            return Err("server without ssid");
        }
        if servers.iter().filter(|o| o.short_id == s.short_id).count() > 1 {
            return Err("ssid used twice");
        }
        let mut matching = security.iter().filter(|sec| sec.ssid == s.short_id);
        let sec = matching.next().ok_or("server without security")?;
        if matching.next().is_some() {
            return Err("ssid used twice");
        }
        if sec.bootstrap {
            return Err("bootstrap flag on a server");
        }
        // NoSec is coap://, PSK (with the engine's DTLS)
        // coaps:// with both parts of the key.
        match sec.mode {
            MODE_NOSEC => {
                if !sec.uri.starts_with("coap://") {
                    return Err("server uri");
                }
            }
            #[cfg(feature = "dtls")]
            security::MODE_PSK => secured(sec, "psk identity or key missing", "psk unusable")?,
            #[cfg(feature = "platform-credentials")]
            security::MODE_PSK => platform_secured(sec)?,
            #[cfg(feature = "dtls-rpk")]
            security::MODE_RPK => secured(sec, "rpk keys missing", "rpk keys unusable")?,
            MODE_CERTIFICATE => return Err("x.509 certificates not supported"),
            _ => return Err("security mode not supported"),
        }
        let uri = ServerConfig {
            uri: &sec.uri,
            short_id: s.short_id,
            lifetime_s: s.lifetime_s,
        };
        if uri.check().is_err() {
            return Err("server uri");
        }
    }
    Ok(())
}

/// The Server object over the staging copy: Bootstrap-Write may set the Short Server ID
/// and create instances.
struct StagedServers<'a> {
    servers: &'a mut Vec<Account, MAX_SERVERS>,
}

impl StagedServers<'_> {
    fn get(&mut self, iid: u16) -> Result<&mut Account, Code> {
        self.servers
            .iter_mut()
            .find(|s| s.server_iid == iid)
            .ok_or(Code::NOT_FOUND)
    }

    /// A Bootstrap-Write of resource `rid`: the Short Server ID too.
    fn set(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        v: &Value<'_>,
        apply: bool,
    ) -> Result<(), Code> {
        if rid != 0 {
            return self.get(iid)?.set(rid, riid, v, apply).map(|_| ());
        }
        let n = match *v {
            Value::Integer(i) => u16::try_from(i).ok(),
            Value::Unsigned(u) => u16::try_from(u).ok(),
            _ => None,
        }
        .filter(|&n| n != 0 && n != u16::MAX)
        .ok_or(Code::BAD_REQUEST)?;
        let s = self.get(iid)?;
        if apply {
            s.short_id = n;
        }
        Ok(())
    }
}

impl Object for StagedServers<'_> {
    fn id(&self) -> u16 {
        1
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        server::resource_at(index)
    }

    fn instance(&self, index: usize) -> Option<u16> {
        self.servers.get(index).map(|s| s.server_iid)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        let v = self.get(iid)?.value(rid)?;
        out.value(None, &v)
    }

    fn write(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        self.set(iid, rid, riid, v, true)
    }

    fn check(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        self.set(iid, rid, riid, v, false)
    }

    fn execute(&mut self, _iid: u16, _rid: u16, _args: &[u8]) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }

    fn create(&mut self, iid: u16) -> Result<(), Code> {
        self.servers
            .push(Account::new(iid, 0, DEFAULT_LIFETIME_S))
            .map_err(|_| Code::BAD_REQUEST)
    }
}

/// One bootstrap operation on the staging copy (Finish excepted).
#[inline(never)]
fn operation(
    req: &Message<'_>,
    path: &Path,
    bs: &mut Bootstrap,
    b: &mut MessageBuilder<'_>,
    objects: &mut dyn crate::model::Objects,
    #[cfg(feature = "access-control")] acl: &mut super::acl::Store,
) -> Result<Code, Code> {
    let oid = path.object_id();
    let discover = req.option_uint(opt::ACCEPT) == Some(u32::from(cf::LINK));
    match req.code() {
        Code::GET if discover => {
            if path.len() > 1 {
                return Err(Code::BAD_REQUEST);
            }
            discover_links(path, bs, b, objects).map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
            Ok(Code::CONTENT)
        }
        Code::GET if oid == Some(1) => {
            let mut obj = StagedServers {
                servers: &mut bs.servers,
            };
            super::dm::dispatch(req, path, &mut obj, b, &())
        }
        // Bootstrap-Read targets objects 1 and 2 only.
        Code::GET => Err(Code::METHOD_NOT_ALLOWED),
        Code::PUT => {
            let format = req
                .option_uint(opt::CONTENT_FORMAT)
                .and_then(|f| u16::try_from(f).ok())
                .filter(|&f| f == cf::TLV || records_format(f))
                .ok_or(Code::UNSUPPORTED_CONTENT_FORMAT)?;
            // Decoded strings wait in the unused response buffer (the response has no
            // payload).
            let scratch = b.spare();
            // A failed write changes nothing: it runs on a copy of the staged object.
            match oid {
                Some(0) => {
                    let mut security = bs.security.clone();
                    let mut obj = SecurityObject {
                        table: &mut security,
                    };
                    write_as(format, path, req.payload(), &mut obj, scratch)?;
                    bs.security = security;
                }
                Some(1) => {
                    let mut servers = bs.servers.clone();
                    let mut obj = StagedServers {
                        servers: &mut servers,
                    };
                    write_as(format, path, req.payload(), &mut obj, scratch)?;
                    bs.servers = servers;
                }
                // Access Control is not staged: it applies once the bootstrap installs
                // more than one server, and a Finish saves it with the accounts.
                #[cfg(feature = "access-control")]
                Some(2) => {
                    let mut table = acl.clone();
                    let mut obj = super::acl::Bootstrap(&mut table);
                    write_as(format, path, req.payload(), &mut obj, scratch)?;
                    if !table.bootstrap_check() {
                        return Err(Code::BAD_REQUEST);
                    }
                    *acl = table;
                }
                _ => return Err(Code::NOT_FOUND),
            }
            Ok(Code::CHANGED)
        }
        Code::DELETE => {
            let iid = path.instance_id();
            if path.len() > 2 {
                return Err(Code::BAD_REQUEST);
            }
            if matches!(oid, None | Some(0)) {
                if let Some(i) = iid {
                    if bs.security.iter().any(|s| s.iid == i && s.bootstrap) {
                        return Err(Code::BAD_REQUEST);
                    }
                }
                let mut i = 0;
                while let Some(s) = bs.security.get(i) {
                    if s.bootstrap || iid.is_some_and(|d| d != s.iid) {
                        i += 1;
                    } else {
                        drop_at(&mut bs.security, i);
                    }
                }
            }
            if matches!(oid, None | Some(1)) {
                let mut i = 0;
                while let Some(s) = bs.servers.get(i) {
                    if iid.is_some_and(|d| d != s.server_iid) {
                        i += 1;
                    } else {
                        drop_at(&mut bs.servers, i);
                    }
                }
            }
            // Access Control instances go at once (they are not staged).
            #[cfg(feature = "access-control")]
            if matches!(oid, None | Some(2)) {
                acl.bootstrap_delete(iid);
                return Ok(Code::DELETED);
            }
            if oid.is_some_and(|o| o > 1) {
                return Err(Code::BAD_REQUEST);
            }
            Ok(Code::DELETED)
        }
        _ => Err(Code::METHOD_NOT_ALLOWED),
    }
}

/// Removes entry `i` (which exists), keeping the order of the others (no `Vec::remove`:
/// its panic message would pull in the formatting machinery).
fn drop_at<T, const N: usize>(v: &mut Vec<T, N>, i: usize) {
    if let Some(tail) = v.get_mut(i..) {
        let mut it = tail.iter_mut();
        if let Some(mut prev) = it.next() {
            for cur in it {
                core::mem::swap(prev, cur);
                prev = cur;
            }
        }
    }
    v.pop();
}

/// True when `format` is a record format this build speaks (SenML JSON or CBOR, LwM2M
/// CBOR or JSON, each behind its feature).
fn records_format(format: u16) -> bool {
    #[cfg(feature = "records")]
    return crate::formats::records::supported(format);
    #[cfg(not(feature = "records"))]
    {
        let _ = format;
        false
    }
}

/// Bootstrap-Write in `format` (TLV or a record format [`records_format`] accepts).
fn write_as(
    format: u16,
    path: &Path,
    data: &[u8],
    obj: &mut dyn Object,
    scratch: &mut [u8],
) -> Result<(), Code> {
    #[cfg(feature = "records")]
    if format != cf::TLV {
        return write_records(format, path, data, obj, scratch);
    }
    let _ = (format, scratch);
    write(path, data, obj)
}

/// Bootstrap-Write in a record format, with the same rules as in TLV: every record names
/// a resource (instance) below the request's path; instances are created as needed;
/// resources the client does not keep are skipped. The first bad record (malformed, out of
/// the path, without a value, of the wrong type) stops the write with 4.00; `obj` is the
/// caller's copy, dropped then.
#[cfg(feature = "records")]
fn write_records(
    format: u16,
    path: &Path,
    data: &[u8],
    obj: &mut dyn Object,
    scratch: &mut [u8],
) -> Result<(), Code> {
    if let Some(iid) = path.instance_id() {
        instance(obj, iid)?;
    }
    super::records::each_record(format, data, &mut |rec, dec| {
        let (iid, rid) = match rec.path.ids() {
            [_, iid, rid, ..] if rec.path.starts_with(path) => (*iid, *rid),
            _ => return Err(Code::BAD_REQUEST),
        };
        instance(obj, iid)?;
        let Some(def) = object::resource(obj, rid) else {
            return Ok(());
        };
        let riid = rec.path.resource_instance_id();
        if riid.is_some() != def.multiple {
            return Err(Code::BAD_REQUEST);
        }
        let raw = rec.value.ok_or(Code::BAD_REQUEST)?;
        let v = dec.value(raw, def.kind, scratch);
        super::dm::store(obj, iid, rid, riid, &v, true)
    })
}

/// Makes sure instance `iid` exists (a Bootstrap-Write creates it).
fn instance(obj: &mut dyn Object, iid: u16) -> Result<(), Code> {
    if iid == u16::MAX {
        return Err(Code::BAD_REQUEST);
    }
    if !object::has_instance(obj, iid) {
        obj.create(iid)?;
    }
    Ok(())
}

/// Bootstrap-Write in TLV of an object (its instances), an instance or a resource:
/// instances are created as needed; resources the client does not keep are skipped.
fn write(path: &Path, data: &[u8], obj: &mut dyn Object) -> Result<(), Code> {
    tlv::validate(data, 2).map_err(super::dm::format_code)?;
    match path.instance_id() {
        None => {
            for item in TlvIter::new(data) {
                let t = item.map_err(|_| Code::BAD_REQUEST)?;
                if t.kind != TlvKind::ObjectInstance {
                    return Err(Code::BAD_REQUEST);
                }
                write_instance(obj, t.id, t.value, None)?;
            }
            Ok(())
        }
        Some(iid) => {
            // An instance's resources may come wrapped in their Object Instance.
            let mut data = data;
            if let Some(Ok(t)) = TlvIter::new(data).next() {
                if t.kind == TlvKind::ObjectInstance {
                    if t.id != iid {
                        return Err(Code::BAD_REQUEST);
                    }
                    data = t.value;
                }
            }
            write_instance(obj, iid, data, path.resource_id())
        }
    }
}

fn write_instance(
    obj: &mut dyn Object,
    iid: u16,
    data: &[u8],
    only: Option<u16>,
) -> Result<(), Code> {
    instance(obj, iid)?;
    for item in TlvIter::new(data) {
        let t = item.map_err(|_| Code::BAD_REQUEST)?;
        if only.is_some_and(|r| r != t.id)
            || !matches!(t.kind, TlvKind::Resource | TlvKind::MultipleResource)
        {
            return Err(Code::BAD_REQUEST);
        }
        let Some(def) = object::resource(obj, t.id) else {
            continue;
        };
        // A multiple-instance resource (an ACL) comes as a Multiple Resource.
        super::dm::write_tlv_resource(&t, def, iid, obj, true, false)?;
    }
    Ok(())
}

/// Bootstrap-Discover: `lwm2m="1.1"`, the Security instances (with `ssid` and `uri`), the
/// Server instances (with `ssid`), and on `/` the other objects and their instances.
fn discover_links(
    path: &Path,
    bs: &Bootstrap,
    b: &mut MessageBuilder<'_>,
    objects: &mut dyn crate::model::Objects,
) -> Result<(), crate::formats::FormatError> {
    let oid = path.object_id();
    let w = b
        .payload_writer()
        .map_err(|_| crate::formats::FormatError::NoSpace)?;
    let mut links = LinkWriter::new(w);
    links.link(&Path::ROOT)?;
    links.attr_raw("lwm2m", b"\"1.1\"")?;
    if matches!(oid, None | Some(0)) {
        for s in bs.security.iter() {
            links.link(&Path::instance(0, s.iid))?;
            if !s.bootstrap {
                links.attr_uint("ssid", u64::from(s.ssid))?;
            }
            links.attr_str("uri", &s.uri)?;
        }
    }
    if matches!(oid, None | Some(1)) {
        for s in bs.servers.iter() {
            links.link(&Path::instance(1, s.server_iid))?;
            links.attr_uint("ssid", u64::from(s.short_id))?;
        }
    }
    if oid.is_none() {
        let mut index = 0;
        while let Some(obj) = objects.object(index) {
            index += 1;
            super::object_links(&mut links, obj)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(iid: u16, ssid: u16, uri: &str) -> Security {
        let mut s = Security::new(iid);
        s.ssid = ssid;
        s.uri.push_str(uri).unwrap();
        s
    }

    fn srv(iid: u16, ssid: u16) -> Account {
        Account::new(iid, ssid, 60)
    }

    #[test]
    fn finish_needs_a_usable_account_for_every_server() {
        let uri = "coap://192.0.2.1";
        let mut table = security::Table::new();
        assert!(table.push(sec(0, 5, uri)).is_ok());
        let mut bs = sec(1, 0, "coap://192.0.2.2");
        bs.bootstrap = true;
        assert!(table.push(bs).is_ok());
        assert_eq!(consistent(&table, &[]), Err("no server"));
        assert_eq!(consistent(&table, &[srv(0, 5)]), Ok(()));
        assert_eq!(
            consistent(&table, &[srv(0, 6)]),
            Err("server without security")
        );
        assert_eq!(consistent(&table, &[srv(0, 0)]), Err("server without ssid"));
        if MAX_SERVERS > 1 {
            let two = [srv(0, 5), srv(1, 5)];
            assert_eq!(consistent(&table, &two), Err("ssid used twice"));
        }
        table[0].mode = 0;
        let psk = if cfg!(any(feature = "dtls", feature = "platform-credentials")) {
            "server uri" // PSK on a coap:// URI
        } else {
            "security mode not supported"
        };
        assert_eq!(consistent(&table, &[srv(0, 5)]), Err(psk));
        table[0].mode = MODE_NOSEC;
        table[0].uri.clear();
        table[0].uri.push_str("coaps://192.0.2.1").unwrap();
        assert_eq!(consistent(&table, &[srv(0, 5)]), Err("server uri"));
        table[0].bootstrap = true;
        assert_eq!(
            consistent(&table, &[srv(0, 5)]),
            Err("two bootstrap accounts")
        );
        table[1].bootstrap = false;
        assert_eq!(
            consistent(&table, &[srv(0, 5)]),
            Err("bootstrap flag on a server")
        );
    }
}
