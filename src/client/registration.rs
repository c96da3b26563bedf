//! The registration state machine of one server (LwM2M-2: Register, Update, De-register).

use heapless::Vec;

use crate::coap::{opt, Code, Message};
use crate::config::MAX_LOCATION_LEN;

use super::exchange::{Exchange, RequestKind};
use super::Event;

/// Update flag: send the lifetime (`lt=`).
pub const UPDATE_LIFETIME: u8 = 1;
/// Update flag: send the binding (`b=`).
pub const UPDATE_BINDING: u8 = 2;
/// Update flag: send the object list.
pub const UPDATE_OBJECTS: u8 = 4;
/// Update flag: an Update without parameters (Registration Update Trigger, application).
pub const UPDATE_TRIGGER: u8 = 8;

/// Longest wait between two Register attempts.
const MAX_BACKOFF_MS: u64 = 3_600_000;

/// Where the registration stands.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Phase {
    /// Not registered; Register is due at `at` (once the connection is open).
    Unregistered {
        /// When to send Register.
        at: u64,
    },
    /// Registered; the next periodic Update is due at `update_at`.
    Registered {
        /// When the periodic Update is due.
        update_at: u64,
    },
    /// De-registered at the application's request: nothing more is sent.
    Deregistered,
    /// The server refused the registration with a 4.xx: not retried until restarted.
    Rejected,
}

/// Registration state of one server.
pub struct Registration {
    /// Current phase.
    pub phase: Phase,
    /// The request in flight, if any (NSTART 1).
    pub exchange: Option<Exchange>,
    /// Update flags waiting to be sent.
    pending: u8,
    /// Update flags carried by the Update in flight.
    sending: u8,
    /// The application asked to de-register.
    deregister: bool,
    /// Consecutive failed Register attempts.
    attempts: u8,
    /// Location-Path values of the 2.01, each prefixed by its length.
    location: Vec<u8, MAX_LOCATION_LEN>,
}

impl Registration {
    /// Unregistered, Register due as soon as possible.
    pub const fn new() -> Self {
        Registration {
            phase: Phase::Unregistered { at: 0 },
            exchange: None,
            pending: 0,
            sending: 0,
            deregister: false,
            attempts: 0,
            location: Vec::new(),
        }
    }

    /// Asks for an Update carrying `flags` (ignored unless registered).
    pub fn request_update(&mut self, flags: u8) {
        self.pending |= flags;
    }

    /// Asks for De-register (or stops trying to register).
    pub fn request_deregister(&mut self) {
        self.deregister = true;
        if !matches!(self.phase, Phase::Registered { .. }) && !self.in_flight(RequestKind::Register)
        {
            self.phase = Phase::Deregistered;
            self.exchange = None;
        }
    }

    /// True when registered (an Update may be in flight).
    pub fn is_registered(&self) -> bool {
        matches!(self.phase, Phase::Registered { .. })
    }

    fn in_flight(&self, kind: RequestKind) -> bool {
        matches!(self.exchange, Some(e) if e.kind == kind)
    }

    /// The request to start at `now`, if one is due and none is in flight.
    pub fn due(&self, now: u64) -> Option<RequestKind> {
        if now < self.deadline()? {
            return None;
        }
        match self.phase {
            Phase::Unregistered { .. } => Some(RequestKind::Register),
            Phase::Registered { .. } if self.deregister => Some(RequestKind::Deregister),
            Phase::Registered { .. } => Some(RequestKind::Update),
            _ => None,
        }
    }

    /// When the registration next needs to run (ignoring the exchange timer).
    pub fn deadline(&self) -> Option<u64> {
        if self.exchange.is_some() {
            return None;
        }
        match self.phase {
            Phase::Unregistered { at } if !self.deregister => Some(at),
            Phase::Registered { .. } if self.deregister || self.pending != 0 => Some(0),
            Phase::Registered { update_at } => Some(update_at),
            _ => None,
        }
    }

    /// Starts a request; for an Update, moves the pending flags into the request.
    pub fn start(&mut self, exchange: Exchange) {
        if exchange.kind == RequestKind::Update {
            self.sending = self.pending;
            self.pending = 0;
        }
        self.exchange = Some(exchange);
    }

    /// Update flags of the Update in flight.
    pub fn sending(&self) -> u8 {
        self.sending
    }

    /// The Uri-Path of a request: `rd` for Register, else the Location-Path values.
    pub fn path(&self, register: bool) -> LocationIter<'_> {
        LocationIter {
            rest: if register { b"\x02rd" } else { &self.location },
        }
    }

    /// Handles the response to the request in flight; returns the event for the client's
    /// queue (`server` is this registration's slot).
    pub fn on_response(
        &mut self,
        server: u8,
        msg: &Message<'_>,
        now: u64,
        lifetime_s: u32,
        margin_s: u32,
    ) -> Option<Event> {
        let kind = self.exchange.take()?.kind;
        let code = msg.code();
        let ok = match kind {
            RequestKind::Register => code == Code::CREATED && self.store_location(msg),
            RequestKind::Update => code == Code::CHANGED,
            RequestKind::Deregister => true,
        };
        if ok {
            return Some(self.succeeded(server, kind, now, lifetime_s, margin_s));
        }
        Some(match (kind, code.class()) {
            (RequestKind::Register, 4) => {
                self.phase = Phase::Rejected;
                Event::RegistrationRejected { server, code }
            }
            _ => self.failed(server, kind, now),
        })
    }

    /// The request in flight got no answer (retransmissions exhausted) or a Reset.
    pub fn on_failure(&mut self, server: u8, now: u64) -> Option<Event> {
        let kind = self.exchange.take()?.kind;
        Some(self.failed(server, kind, now))
    }

    fn succeeded(
        &mut self,
        server: u8,
        kind: RequestKind,
        now: u64,
        lifetime_s: u32,
        margin_s: u32,
    ) -> Event {
        match kind {
            RequestKind::Deregister => return self.finish_deregister(server),
            RequestKind::Register => {
                self.attempts = 0;
                self.pending = 0;
            }
            RequestKind::Update => {}
        }
        self.sending = 0;
        // The lifetime less the margin, the margin being at most half the lifetime.
        let wait_ms = if margin_s <= lifetime_s / 2 {
            u64::from(lifetime_s - margin_s) * 1000
        } else {
            u64::from(lifetime_s) * 500
        };
        self.phase = Phase::Registered {
            update_at: now.saturating_add(wait_ms),
        };
        if kind == RequestKind::Register {
            Event::Registered { server }
        } else {
            Event::Updated { server }
        }
    }

    fn failed(&mut self, server: u8, kind: RequestKind, now: u64) -> Event {
        self.sending = 0;
        match kind {
            RequestKind::Deregister => self.finish_deregister(server),
            RequestKind::Update => {
                // The server may have lost us: register again at once.
                self.phase = Phase::Unregistered { at: now };
                Event::UpdateFailed { server }
            }
            RequestKind::Register => {
                let delay = backoff_ms(self.attempts);
                self.attempts = self.attempts.saturating_add(1);
                self.phase = if self.deregister {
                    Phase::Deregistered
                } else {
                    Phase::Unregistered {
                        at: now.saturating_add(delay),
                    }
                };
                // At most MAX_BACKOFF_MS: fits a u32.
                Event::RegistrationRetry {
                    server,
                    delay_ms: delay as u32,
                }
            }
        }
    }

    fn finish_deregister(&mut self, server: u8) -> Event {
        self.phase = Phase::Deregistered;
        self.location.clear();
        Event::Deregistered { server }
    }

    /// Keeps the Location-Path options of a 2.01; false when they do not fit.
    fn store_location(&mut self, msg: &Message<'_>) -> bool {
        self.location.clear();
        for seg in msg.options_of(opt::LOCATION_PATH) {
            let Ok(len) = u8::try_from(seg.len()) else {
                return false;
            };
            if self.location.push(len).is_err() || self.location.extend_from_slice(seg).is_err() {
                self.location.clear();
                return false;
            }
        }
        // A registration without a location cannot be updated: treat it as a failure.
        !self.location.is_empty()
    }
}

impl Default for Registration {
    fn default() -> Self {
        Self::new()
    }
}

/// Register retry delay after `attempts` failures: 60 s doubling, at most an hour
/// (LwM2M Server object resource 17, Communication Retry Timer, default 60 s).
pub fn backoff_ms(attempts: u8) -> u64 {
    // Six doublings already pass the cap, and 60 s << 6 fits a u32.
    u64::from(60_000u32 << attempts.min(6)).min(MAX_BACKOFF_MS)
}

/// Iterates over stored Location-Path values.
pub struct LocationIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for LocationIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let seg = tail.get(..usize::from(len))?;
        self.rest = tail.get(usize::from(len)..).unwrap_or(&[]);
        Some(seg)
    }
}
