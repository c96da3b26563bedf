//! The registration state machine of one server (LwM2M-2: Register, Update, De-register).

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

/// The Server object resources (LwM2M 1.1 Core E.2) that steer the registration of one
/// server, with the spec's defaults (Core 6.2.1.1, registration procedure default values).
#[derive(Clone, Copy)]
#[cfg_attr(any(test, feature = "std"), derive(Debug, PartialEq, Eq))]
pub struct Timing {
    /// Disable Timeout (5): seconds a Disable keeps the server away.
    #[cfg(feature = "server-extra")]
    pub disable_timeout_s: u32,
    /// Initial Registration Delay Timer (14): seconds before the first Register, until the
    /// first successful registration.
    #[cfg(feature = "server-extra")]
    pub initial_delay_s: u32,
    /// Communication Retry Timer (18): the wait after the n-th failed Register of a
    /// sequence is this many seconds times 2^(n-1).
    pub retry_timer_s: u32,
    /// Communication Sequence Delay Timer (19): seconds between two sequences;
    /// `u32::MAX` (MAX_VALUE) means no further sequence.
    pub sequence_delay_s: u32,
    /// Communication Retry Count (17): Register attempts in one sequence (1..=255).
    pub retry_count: u8,
    /// Communication Sequence Retry Count (20): sequences before the registration has
    /// failed (1..=255).
    pub sequence_retry_count: u8,
}

impl Timing {
    /// The spec's defaults: 86400 s disable, no initial delay, 5 attempts 60 s apart
    /// (doubling), one sequence, 86400 s between sequences.
    pub const DEFAULT: Timing = Timing {
        #[cfg(feature = "server-extra")]
        disable_timeout_s: 86_400,
        #[cfg(feature = "server-extra")]
        initial_delay_s: 0,
        retry_timer_s: 60,
        sequence_delay_s: 86_400,
        retry_count: 5,
        sequence_retry_count: 1,
    };
}

#[cfg(all(feature = "persistence", feature = "server-extra"))]
impl Timing {
    /// The timing resources as a persisted record keeps them: 5, 14, 18 and 19 as u32, 17
    /// and 20 as u8 (little-endian).
    pub fn to_bytes(&self) -> [u8; 18] {
        let [a0, a1, a2, a3] = self.disable_timeout_s.to_le_bytes();
        let [b0, b1, b2, b3] = self.initial_delay_s.to_le_bytes();
        let [c0, c1, c2, c3] = self.retry_timer_s.to_le_bytes();
        let [d0, d1, d2, d3] = self.sequence_delay_s.to_le_bytes();
        let (e, f) = (self.retry_count, self.sequence_retry_count);
        [
            a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3, e, f,
        ]
    }

    /// The timing of [`Timing::to_bytes`]; `None` when the counts are 0 or the length is
    /// wrong.
    pub fn from_bytes(v: &[u8]) -> Option<Timing> {
        let word = |i: usize| Some(u32::from_le_bytes(v.get(i..i + 4)?.try_into().ok()?));
        let (&retry_count, &sequence_retry_count) = (v.get(16)?, v.get(17)?);
        (v.len() == 18 && retry_count > 0 && sequence_retry_count > 0).then_some(())?;
        Some(Timing {
            disable_timeout_s: word(0)?,
            initial_delay_s: word(4)?,
            retry_timer_s: word(8)?,
            sequence_delay_s: word(12)?,
            retry_count,
            sequence_retry_count,
        })
    }
}

/// True when `location` is a list of Location-Path values, each non-empty and prefixed by
/// its length, that fits `MAX_LOCATION_LEN`.
#[cfg(feature = "persistence")]
pub fn location_valid(location: &[u8]) -> bool {
    let mut rest = location;
    while let Some((&n, tail)) = rest.split_first() {
        match tail.get(usize::from(n)..) {
            Some(after) if n > 0 => rest = after,
            _ => return false,
        }
    }
    !location.is_empty() && location.len() <= MAX_LOCATION_LEN
}

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
    /// Every Register attempt of every communication sequence failed (Server resources
    /// 17-20): not retried until restarted (no bootstrap fallback yet).
    Failed,
    /// Disabled by the server (Disable, /1/x/4): nothing is sent or taken until `until`,
    /// then the client opens the connection again and registers.
    #[cfg(feature = "server-extra")]
    Disabled {
        /// When the Disable Timeout ends.
        until: u64,
    },
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
    /// The De-register asked for is a Disable: the server stays away afterwards.
    #[cfg(feature = "server-extra")]
    disable: bool,
    /// [`FRESH`] and [`REGISTERED_ONCE`]: when the Initial Registration Delay applies.
    #[cfg(feature = "server-extra")]
    start: u8,
    /// Failed Register attempts in the current communication sequence.
    attempts: u8,
    /// Failed communication sequences.
    sequences: u8,
    /// Location-Path values of the 2.01, each prefixed by its length.
    location: LocationPath,
}

/// The Location-Path values of a registration, each prefixed by its length: at most
/// `MAX_LOCATION_LEN` bytes, counted in a byte. A heapless `Vec` counts in a `usize`, which
/// makes every server's state 8 bytes larger once aligned; with a `u8` count it keeps a
/// panicking conversion that LTO does not always remove.
struct LocationPath {
    len: u8,
    bytes: [u8; MAX_LOCATION_LEN],
}

const _: () = assert!(MAX_LOCATION_LEN <= u8::MAX as usize);

impl LocationPath {
    const fn new() -> Self {
        LocationPath {
            len: 0,
            bytes: [0; MAX_LOCATION_LEN],
        }
    }

    fn as_slice(&self) -> &[u8] {
        let (written, _) = self
            .bytes
            .split_at(usize::from(self.len).min(MAX_LOCATION_LEN));
        written
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends `data`; false when it does not fit (what fitted is kept: the callers clear).
    fn extend(&mut self, data: &[u8]) -> bool {
        for &b in data {
            let Some(slot) = self.bytes.get_mut(usize::from(self.len)) else {
                return false;
            };
            *slot = b;
            // Below MAX_LOCATION_LEN, which fits a byte.
            self.len = self.len.wrapping_add(1);
        }
        true
    }
}

/// `Registration::start`: not polled since (re)started.
#[cfg(feature = "server-extra")]
const FRESH: u8 = 1;
/// `Registration::start`: registered at least once since the server was set up (a restart
/// keeps it).
#[cfg(feature = "server-extra")]
const REGISTERED_ONCE: u8 = 2;

#[cfg(feature = "server-extra")]
impl Registration {
    /// True at the first poll after a (re)start of a server never registered: the Initial
    /// Registration Delay Timer (Server resource 14) applies.
    pub fn initial_delay_due(&mut self) -> bool {
        let due = self.start == FRESH;
        self.start &= !FRESH;
        due
    }

    /// A Register succeeded: the Initial Registration Delay no longer applies.
    pub fn registered_once(&mut self) {
        self.start |= REGISTERED_ONCE;
    }

    /// A new registration state for a restart, keeping whether the server registered once.
    pub fn restarted(&self) -> Registration {
        let mut r = Registration::new();
        r.start |= self.start & REGISTERED_ONCE;
        r
    }
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
            #[cfg(feature = "server-extra")]
            disable: false,
            #[cfg(feature = "server-extra")]
            start: FRESH,
            attempts: 0,
            sequences: 0,
            location: LocationPath::new(),
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

    /// Disable (Server resource 4): De-register when registered (the response to the
    /// Execute goes out first), then stay away for the Disable Timeout. Not registered, the
    /// client drops any Register in flight and is disabled at once (the connection is
    /// released at the next poll, see [`Registration::take_release`]).
    #[cfg(feature = "server-extra")]
    pub fn request_disable(&mut self, now: u64, t: &Timing) {
        let registered = self.is_registered();
        self.deregister = registered;
        self.disable = true;
        if !registered {
            self.exchange = None;
            self.disabled(now, t);
            self.disable = true;
        }
    }

    /// True once after a Disable that did not de-register: the connection is to be
    /// released.
    #[cfg(feature = "server-extra")]
    pub fn take_release(&mut self) -> bool {
        core::mem::take(&mut self.disable)
    }

    #[cfg(feature = "server-extra")]
    #[inline(never)]
    fn disabled(&mut self, now: u64, t: &Timing) {
        self.phase = Phase::Disabled {
            until: now.saturating_add(u64::from(t.disable_timeout_s) * 1000),
        };
        self.deregister = false;
        self.disable = false;
        self.location.clear();
    }

    /// True while a Disable keeps the server away (never without `server-extra`).
    pub fn is_disabled(&self) -> bool {
        #[cfg(feature = "server-extra")]
        return matches!(self.phase, Phase::Disabled { .. });
        #[cfg(not(feature = "server-extra"))]
        false
    }

    /// True while a De-register is asked for and not yet over.
    pub fn deregistering(&self) -> bool {
        self.deregister && self.is_registered()
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
            #[cfg(feature = "server-extra")]
            Phase::Disabled { until } => Some(until),
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
            rest: if register {
                b"\x02rd"
            } else {
                self.location.as_slice()
            },
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
        t: &Timing,
    ) -> Option<Event> {
        let kind = self.exchange.take()?.kind;
        let code = msg.code();
        let ok = match kind {
            RequestKind::Register => code == Code::CREATED && self.store_location(msg),
            RequestKind::Update => code == Code::CHANGED,
            RequestKind::Deregister => true,
        };
        if ok {
            return Some(self.succeeded(server, kind, now, lifetime_s, margin_s, t));
        }
        Some(match (kind, code.class()) {
            (RequestKind::Register, 4) => {
                self.phase = Phase::Rejected;
                Event::RegistrationRejected { server, code }
            }
            _ => self.failed(server, kind, now, t),
        })
    }

    /// The request in flight got no answer (retransmissions exhausted) or a Reset.
    pub fn on_failure(&mut self, server: u8, now: u64, t: &Timing) -> Option<Event> {
        let kind = self.exchange.take()?.kind;
        Some(self.failed(server, kind, now, t))
    }

    fn succeeded(
        &mut self,
        server: u8,
        kind: RequestKind,
        now: u64,
        lifetime_s: u32,
        margin_s: u32,
        t: &Timing,
    ) -> Event {
        match kind {
            RequestKind::Deregister => return self.finish_deregister(server, now, t),
            RequestKind::Register => {
                self.attempts = 0;
                self.sequences = 0;
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

    fn failed(&mut self, server: u8, kind: RequestKind, now: u64, t: &Timing) -> Event {
        self.sending = 0;
        match kind {
            RequestKind::Deregister => self.finish_deregister(server, now, t),
            RequestKind::Update => {
                // The server may have lost us: register again at once.
                self.phase = Phase::Unregistered { at: now };
                Event::UpdateFailed { server }
            }
            RequestKind::Register => self.register_failed(server, now, t),
        }
    }

    /// A Register attempt failed (no answer, 5.xx, or no connection): the next attempt
    /// of the sequence, the next sequence, or the end (LwM2M 1.1 Core 6.2.1.1 and Server
    /// resources 17-20).
    pub fn register_failed(&mut self, server: u8, now: u64, t: &Timing) -> Event {
        if self.deregister {
            self.phase = Phase::Deregistered;
            return Event::Deregistered { server };
        }
        match self.next_attempt_ms(t) {
            Some(delay) => {
                self.phase = Phase::Unregistered {
                    at: now.saturating_add(delay),
                };
                Event::RegistrationRetry {
                    server,
                    delay_ms: u32::try_from(delay).unwrap_or(u32::MAX),
                }
            }
            None => {
                self.phase = Phase::Failed;
                Event::RegistrationFailed { server }
            }
        }
    }

    /// Counts a failed attempt; the wait before the next one, `None` when the last
    /// sequence is exhausted.
    fn next_attempt_ms(&mut self, t: &Timing) -> Option<u64> {
        self.attempts = self.attempts.saturating_add(1);
        if self.attempts < t.retry_count {
            // Retry Timer * 2^(attempt - 1), saturating (doubled by additions: no 64-bit
            // shift or multiplication routine in the image).
            let mut wait = u64::from(t.retry_timer_s) * 1000;
            for _ in 1..self.attempts {
                wait = wait.saturating_add(wait);
            }
            return Some(wait);
        }
        self.attempts = 0;
        self.sequences = self.sequences.saturating_add(1);
        (self.sequences < t.sequence_retry_count && t.sequence_delay_s != u32::MAX)
            .then(|| u64::from(t.sequence_delay_s) * 1000)
    }

    fn finish_deregister(&mut self, server: u8, now: u64, t: &Timing) -> Event {
        #[cfg(feature = "server-extra")]
        if self.disable {
            self.disabled(now, t);
            return Event::Deregistered { server };
        }
        #[cfg(not(feature = "server-extra"))]
        let _ = (now, t);
        self.phase = Phase::Deregistered;
        self.location.clear();
        Event::Deregistered { server }
    }

    /// The Location-Path values of the registration, each prefixed by its length, while
    /// registered (what a persisted record keeps).
    #[cfg(feature = "persistence")]
    pub fn location(&self) -> Option<&[u8]> {
        (self.is_registered() && !self.location.is_empty()).then_some(self.location.as_slice())
    }

    /// Takes a persisted Location (checked by [`location_valid`]) before the first poll:
    /// registered, with an Update carrying `flags` due at once. A server that forgot the
    /// registration answers the Update with an error, and the client registers again.
    #[cfg(feature = "persistence")]
    pub fn restore_location(&mut self, location: &[u8], flags: u8) {
        if !matches!(self.phase, Phase::Unregistered { .. }) || self.exchange.is_some() {
            return;
        }
        self.location.clear();
        if self.location.extend(location) {
            self.phase = Phase::Registered { update_at: 0 };
            self.pending |= flags;
        }
    }

    /// Keeps the Location-Path options of a 2.01; false when they do not fit.
    fn store_location(&mut self, msg: &Message<'_>) -> bool {
        self.location.clear();
        for seg in msg.options_of(opt::LOCATION_PATH) {
            let Ok(len) = u8::try_from(seg.len()) else {
                return false;
            };
            if !self.location.extend(&[len]) || !self.location.extend(seg) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The waits between Register attempts until the registration fails.
    fn waits(t: &Timing) -> std::vec::Vec<u64> {
        let mut r = Registration::new();
        let mut out = std::vec::Vec::new();
        for _ in 0..1000 {
            match r.register_failed(0, 1_000, t) {
                Event::RegistrationRetry { delay_ms, .. } => out.push(u64::from(delay_ms)),
                Event::RegistrationFailed { .. } => {
                    assert_eq!(r.phase, Phase::Failed);
                    return out;
                }
                e => panic!("{e:?}"),
            }
        }
        panic!("never fails: {out:?}");
    }

    #[test]
    fn retry_sequence_follows_resources_17_to_20() {
        // Defaults: 5 attempts, 60 s doubling, one sequence.
        assert_eq!(waits(&Timing::DEFAULT), [60_000, 120_000, 240_000, 480_000]);
        let t = Timing {
            retry_count: 3,
            retry_timer_s: 10,
            sequence_retry_count: 2,
            sequence_delay_s: 600,
            ..Timing::DEFAULT
        };
        assert_eq!(
            waits(&t),
            [10_000, 20_000, 600_000, 10_000, 20_000],
            "two sequences of three attempts, 600 s apart"
        );
        // MAX_VALUE: no further sequence.
        let t = Timing {
            sequence_delay_s: u32::MAX,
            sequence_retry_count: 9,
            retry_count: 2,
            ..Timing::DEFAULT
        };
        assert_eq!(waits(&t), [60_000]);
        // One attempt per sequence: only the sequence delay.
        let t = Timing {
            retry_count: 1,
            sequence_retry_count: 3,
            sequence_delay_s: 5,
            ..Timing::DEFAULT
        };
        assert_eq!(waits(&t), [5_000, 5_000]);
        // Long sequences saturate instead of overflowing.
        let t = Timing {
            retry_count: 255,
            retry_timer_s: u32::MAX,
            ..Timing::DEFAULT
        };
        let w = waits(&t);
        assert_eq!(w.len(), 254);
        assert!(w.iter().all(|&d| d == u64::from(u32::MAX)), "{:?}", &w[..3]);
    }

    #[test]
    fn success_starts_the_sequence_over() {
        let t = Timing {
            retry_count: 2,
            ..Timing::DEFAULT
        };
        let mut r = Registration::new();
        assert!(matches!(
            r.register_failed(0, 0, &t),
            Event::RegistrationRetry {
                delay_ms: 60_000,
                ..
            }
        ));
        r.attempts = 1;
        let _ = r.succeeded(0, RequestKind::Register, 0, 300, 30, &t);
        assert!(r.is_registered());
        assert!(matches!(
            r.register_failed(0, 0, &t),
            Event::RegistrationRetry {
                delay_ms: 60_000,
                ..
            }
        ));
    }
}
