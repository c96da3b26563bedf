//! Send (LwM2M 1.1 Core 6.4.3, Transport 6.4): the client pushes the values of a list of
//! paths to a server's `/dp` in a confirmable POST, in SenML CBOR (112) or SenML JSON (110).
//!
//! One Send is held for the whole client at a time. It rides on the server's exchange slot
//! (NSTART 1): it starts once the server is registered and no registration request is in
//! flight, and a registration request waits for it. The payload is not kept: like every
//! request of the client, each (re)transmission is encoded again from the stored paths
//! (the values read then), straight into the message buffer.
//!
//! The exchange of a Send is told apart by its message id (its `kind` is never looked at:
//! the hooks in the client divert it before the registration sees it).

use crate::buf::Writer;
use crate::coap::{opt, Code, MessageBuilder, MsgType};
use crate::config::MAX_SEND_PATHS;
use crate::formats::content_format as cf;
use crate::formats::records::Encoder;
use crate::model::{Operations, Path};

use super::exchange::{Exchange, TOKEN_LEN};
use super::records::read_into;
use super::{Client, Engine, Event, Platform, Registry, Version};

/// Why [`Client::send`] refused a Send (nothing was queued).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum SendError {
    /// No path, more than `MAX_SEND_PATHS`, the root path, or a format other than SenML
    /// CBOR (112) or SenML JSON (110) (as far as this build speaks them).
    InvalidArg,
    /// No server in that slot.
    UnknownServer,
    /// The server is not registered.
    NotRegistered,
    /// The client registers with LwM2M 1.0, which has no Send.
    Version,
    /// The server's Mute Send resource (/1/x/23) is true.
    Muted,
    /// A Send is already waiting or in flight: try again after its event.
    Busy,
    /// A path names nothing that exists (or a resource that is not readable).
    NotFound,
    /// Access Control (several servers) does not let this server read a path.
    Denied,
    /// The values do not fit `MAX_MESSAGE_SIZE` (block-wise Send is not supported).
    TooLarge,
}

const IDLE: u8 = 0;
/// Stored, waiting for the exchange slot.
const WAITING: u8 = 1;
/// Its exchange is the server's exchange in flight.
const IN_FLIGHT: u8 = 2;

/// The Send of the client. All zeros (how the client starts) is no Send: every field is
/// an integer.
pub struct Pending {
    paths: [Path; MAX_SEND_PATHS],
    count: u8,
    format: u16,
    server: u8,
    state: u8,
    message_id: u16,
}

impl Pending {
    /// The Send's exchange (message id `message_id`) is now the server's in flight.
    pub(super) fn started(&mut self, message_id: u16) {
        self.message_id = message_id;
        self.state = IN_FLIGHT;
    }

    fn paths(&self) -> &[Path] {
        self.paths.get(..usize::from(self.count)).unwrap_or(&[])
    }

    /// True when `ex`, the exchange in flight of `server`, is the Send's.
    fn owns(&self, server: u8, ex: Option<&Exchange>) -> bool {
        self.state == IN_FLIGHT
            && self.server == server
            && ex.is_some_and(|e| e.message_id == self.message_id)
    }

    /// When the client must run for the Send: at once when it waits and the server's
    /// exchange slot is free (the exchange's own deadline covers a Send in flight).
    pub fn deadline(&self, servers: &[super::Server]) -> Option<u64> {
        let s = servers.get(usize::from(self.server))?;
        (self.state == WAITING && s.connected && s.reg.exchange.is_none() && !s.reg.is_disabled())
            .then_some(0)
    }
}

impl Client {
    /// Send (LwM2M 1.1): queues a confirmable POST to `/dp` of server slot `server` with
    /// the values of `paths` (objects, instances, resources or resource instances) in
    /// `format`: 112 (SenML CBOR) or 110 (SenML JSON). The values are read at each
    /// transmission. The outcome comes as [`Event::Sent`], [`Event::SendRefused`] (an
    /// error response) or [`Event::SendTimeout`] (no response, a Reset, or the
    /// registration ended first). Checked now: the payload is encoded once to see that
    /// every path exists and that it fits one message.
    pub fn send(
        &mut self,
        server: u8,
        paths: &[Path],
        format: u16,
        platform: &mut dyn Platform,
    ) -> Result<(), SendError> {
        let Client { engine, buf } = self;
        engine.reply.evict();
        let (tx, _) = buf.split_first_chunk_mut().ok_or(SendError::TooLarge)?;
        engine.send_checked(server, paths, format, platform, tx)
    }
}

impl Engine {
    /// [`Client::send`], its trial encoding written to `tx`.
    fn send_checked(
        &mut self,
        server: u8,
        paths: &[Path],
        format: u16,
        platform: &mut dyn Platform,
        tx: &mut super::Datagram,
    ) -> Result<(), SendError> {
        let s = self
            .servers
            .get(usize::from(server))
            .ok_or(SendError::UnknownServer)?;
        if self.version == Version::V1_0 {
            return Err(SendError::Version);
        }
        if !s.reg.is_registered() {
            return Err(SendError::NotRegistered);
        }
        if s.mute_send() {
            return Err(SendError::Muted);
        }
        if self.send.state != IDLE {
            return Err(SendError::Busy);
        }
        let format_ok = (cfg!(feature = "senml-cbor") && format == cf::SENML_CBOR)
            || (cfg!(feature = "senml-json") && format == cf::SENML_JSON);
        if !format_ok
            || paths.is_empty()
            || paths.len() > MAX_SEND_PATHS
            || paths.iter().any(Path::is_empty)
        {
            return Err(SendError::InvalidArg);
        }
        for (slot, path) in self.send.paths.iter_mut().zip(paths) {
            *slot = *path;
        }
        // At most MAX_SEND_PATHS (64, checked by build.rs).
        self.send.count = paths.len() as u8;
        self.send.format = format;
        self.send.server = server;
        match self.encode_send(usize::from(server), platform, tx) {
            Ok(_) => {
                self.send.state = WAITING;
                Ok(())
            }
            Err(code) => {
                self.send.count = 0;
                Err(match code {
                    Code::NOT_FOUND | Code::METHOD_NOT_ALLOWED => SendError::NotFound,
                    Code::UNAUTHORIZED => SendError::Denied,
                    _ => SendError::TooLarge,
                })
            }
        }
    }

    /// True when the waiting Send of server `i` is to start now (no registration request
    /// is due and the exchange slot is free); a Send whose server is no longer registered,
    /// or whose exchange was dropped (connection lost, restart), ends here with
    /// [`Event::SendTimeout`].
    pub(super) fn send_due(&mut self, i: usize) -> bool {
        let server = super::slot_of(i);
        let Some(s) = self.servers.get(i) else {
            return false;
        };
        if self.send.state == IDLE
            || self.send.server != server
            || self.send.owns(server, s.reg.exchange.as_ref())
        {
            return false;
        }
        if self.send.state == IN_FLIGHT || !s.reg.is_registered() {
            self.send.state = IDLE;
            self.push_event(Event::SendTimeout { server });
            return false;
        }
        s.reg.exchange.is_none()
    }

    /// True when the exchange in flight of server `i` is the Send's.
    pub(super) fn send_owns(&self, i: usize) -> bool {
        self.servers
            .get(i)
            .is_some_and(|s| self.send.owns(super::slot_of(i), s.reg.exchange.as_ref()))
    }

    /// Encodes the Send (with the exchange's message id and token when it is in flight)
    /// into `tx`; the error is the code a Read would have got.
    pub(super) fn encode_send(
        &mut self,
        i: usize,
        platform: &mut dyn Platform,
        tx: &mut super::Datagram,
    ) -> Result<usize, Code> {
        let (mid, token) = match self.servers.get(i).and_then(|s| s.reg.exchange) {
            Some(ex) if self.send.state == IN_FLIGHT => (ex.message_id, ex.token),
            _ => (0, [0; TOKEN_LEN]),
        };
        #[cfg(feature = "access-control")]
        let ssid = self.acl_server(super::slot_of(i));
        let format = self.send.format;
        let mut objects = Registry {
            servers: &mut self.servers,
            now: 0,
            platform,
            #[cfg(feature = "access-control")]
            acl: &mut self.acl,
            #[cfg(feature = "access-control")]
            ssid,
        };
        let too_large = |_| Code::INTERNAL_SERVER_ERROR;
        let mut b =
            MessageBuilder::new(tx, MsgType::Con, Code::POST, mid, &token).map_err(too_large)?;
        b.option(opt::URI_PATH, b"dp").map_err(too_large)?;
        b.option_uint(opt::CONTENT_FORMAT, u32::from(format))
            .map_err(too_large)?;
        payload(
            format,
            self.send.paths(),
            &mut objects,
            b.payload_writer().map_err(too_large)?,
        )?;
        Ok(b.finish())
    }

    /// The response to the Send in flight of `server`, if `msg` is one (as the client
    /// matches responses: the token, and the message id of a piggybacked one). True when
    /// it was taken.
    pub(super) fn send_response(&mut self, server: u8, msg: &crate::coap::Message<'_>) -> bool {
        let i = usize::from(server);
        let Some(s) = self.servers.get_mut(i) else {
            return false;
        };
        let ack = msg.mtype() == MsgType::Ack;
        let matches = s.reg.exchange.is_some_and(|e| {
            (!ack || e.message_id == msg.message_id()) && e.matches_token(msg.token())
        });
        if !matches || !self.send.owns(server, s.reg.exchange.as_ref()) {
            return false;
        }
        s.reg.exchange = None;
        self.send.state = IDLE;
        let code = msg.code();
        self.push_event(if code.class() == 2 {
            Event::Sent { server }
        } else {
            Event::SendRefused { server, code }
        });
        true
    }

    /// The Send in flight of server `i` got no response (or a Reset, or did not fit a
    /// retransmission): [`Event::SendTimeout`]. True when the failed exchange was the
    /// Send's.
    pub(super) fn send_failed(&mut self, i: usize) -> bool {
        if !self.send_owns(i) {
            return false;
        }
        if let Some(s) = self.servers.get_mut(i) {
            s.reg.exchange = None;
        }
        self.send.state = IDLE;
        self.push_event(Event::SendTimeout {
            server: super::slot_of(i),
        });
        true
    }
}

/// The values of `paths` as records in `format` (the Read-Composite encoding): every path
/// must name something readable.
#[inline(never)]
fn payload(
    format: u16,
    paths: &[Path],
    objects: &mut Registry<'_>,
    w: &mut Writer<'_>,
) -> Result<(), Code> {
    let mut enc = Encoder::new(format, w, Path::ROOT)
        .ok_or(Code::BAD_REQUEST)?
        .map_err(super::dm::format_code)?;
    for path in paths {
        objects.with(path, 1, &mut |obj| {
            let def = super::dm::target(path, obj)?;
            if def.is_some_and(|d| !d.ops.allows(Operations::R)) {
                return Err(Code::METHOD_NOT_ALLOWED);
            }
            if read_into(&mut enc, path, def, obj)? == 0 && def.is_some() {
                return Err(Code::NOT_FOUND);
            }
            Ok(())
        })?;
    }
    enc.finish().map_err(super::dm::format_code)
}
