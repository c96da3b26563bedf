//! Information reporting (LwM2M-4, RFC 7641): observations of objects, instances, resources
//! and resource instances in a table of `TERN_MAX_OBSERVATIONS` entries, notifications under
//! the attributes the servers set (pmin, pmax, gt, lt, st, epmin, epmax, edge, con, inherited
//! object to instance to resource, the Server object's default periods), and the value
//! changes the application signals, from any thread or interrupt through [`Changes`].
//!
//! A notification is a Read of the observed path (`dm::read`, in the format the Observe asked
//! for) in a 2.05 with the observation's token and an Observe sequence number: non-confirmable
//! unless `con=1`, then confirmable, one at a time, retransmitted like a request; one that is
//! never acknowledged, or a RST to any notification, ends the observation
//! ([`Event::ObservationEnded`]).

use core::cell::Cell;

use heapless::Vec;

use super::attributes::Attributes;
use super::exchange::{Exchange, RequestKind, Timer};
use super::{dm, Engine, Event, Platform, Registry};
use crate::coap::{msg::decode_uint, opt, Code, Message, MessageBuilder, MsgType};
#[cfg(feature = "queue-mode")]
use crate::config::NOTIFY_QUEUE_BYTES;
use crate::config::{MAX_OBSERVATIONS, MAX_PENDING_CHANGES};
use crate::formats::content_format as cf;
use crate::formats::float::{add, less};
use crate::model::{Object, Path, Value, ValueSink};

/// Observe sequence numbers are 24-bit (RFC 7641 section 4.4).
const SEQ_MASK: u32 = 0xFF_FFFF;
/// A value changed since the last evaluation of the notification criteria.
const CHANGED: u8 = 1;
/// The confirmable notification in flight is this observation's.
const IN_FLIGHT: u8 = 2;
/// No Accept in the Observe.
const NO_ACCEPT: u16 = u16::MAX;
/// An Observe-Composite: the paths are in [`Observations::composite`].
#[cfg(feature = "records")]
const COMPOSITE: u8 = 4;
/// `Observation::flags`: the token's length is kept in the bits from this one.
const TOKEN_SHIFT: u8 = 4;
/// Observe-Composites held at once, and paths in each.
#[cfg(feature = "records")]
const MAX_COMPOSITE: usize = 2;
#[cfg(feature = "records")]
const COMPOSITE_PATHS: usize = 4;

/// The paths of one Observe-Composite (FETCH with Observe), by server and token.
#[cfg(feature = "records")]
#[derive(Clone)]
struct Composite {
    server: u8,
    token: Vec<u8, 8>,
    paths: Vec<Path, COMPOSITE_PATHS>,
}

/// One observation: 44 bytes on 32-bit targets.
#[derive(Clone, Copy)]
struct Observation {
    /// The last value notified, for gt, lt, st and edge (f64 bytes).
    value: [u8; 8],
    /// When the last notification (or the Observe's response) went out: the low 32 bits of
    /// the millisecond clock (see `full`).
    sent: u32,
    /// When the notification criteria were last evaluated (as `sent`).
    evaluated: u32,
    token: [u8; 8],
    path: Path,
    /// The Observe's Accept, `NO_ACCEPT` for none: every notification has its format.
    accept: u16,
    /// Message id of the last notification: a RST with it cancels.
    mid: u16,
    server: u8,
    /// `CHANGED`, `IN_FLIGHT` and `COMPOSITE`, and the token's length above `TOKEN_SHIFT`.
    flags: u8,
}

impl Observation {
    fn token(&self) -> &[u8] {
        self.token
            .get(..usize::from(self.flags >> TOKEN_SHIFT))
            .unwrap_or(&[])
    }

    fn last(&self) -> f64 {
        f64::from_ne_bytes(self.value)
    }
}

/// The observations of every server, the Observe sequence counter and the confirmable
/// notification in flight.
pub struct Observations {
    table: Vec<Observation, MAX_OBSERVATIONS>,
    #[cfg(feature = "records")]
    composite: Vec<Composite, MAX_COMPOSITE>,
    seq: u32,
    con: Option<Exchange>,
    /// The latest time the client was given (the times of the table are relative to it).
    now: u64,
    /// Notifications raised while their server sleeps or is offline.
    #[cfg(feature = "queue-mode")]
    held: super::queue::Held,
}

impl Observations {
    /// No observation.
    pub const fn new() -> Observations {
        Observations {
            table: Vec::new(),
            #[cfg(feature = "records")]
            composite: Vec::new(),
            seq: 0,
            con: None,
            now: 0,
            #[cfg(feature = "queue-mode")]
            held: super::queue::Held::new(),
        }
    }

    /// How many observations are held.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when none is held.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn position(&self, server: u8, token: &[u8]) -> Option<usize> {
        self.table
            .iter()
            .position(|o| o.server == server && o.token() == token)
    }

    /// Removes entry `i` (moving the last one into its place); a confirmable notification
    /// of it in flight is dropped.
    fn remove_at(&mut self, i: usize) -> Option<Observation> {
        let last = self.table.pop()?;
        let o = match self.table.get_mut(i) {
            Some(slot) => core::mem::replace(slot, last),
            None => last,
        };
        if o.flags & IN_FLIGHT != 0 {
            self.con = None;
        }
        #[cfg(feature = "records")]
        self.composite
            .retain(|c| !(c.server == o.server && c.token.as_slice() == o.token()));
        Some(o)
    }

    /// The paths of composite observation `o`, if it is one.
    #[cfg(feature = "records")]
    fn composite_paths(&self, o: &Observation) -> Option<&[Path]> {
        if o.flags & COMPOSITE == 0 {
            return None;
        }
        self.composite
            .iter()
            .find(|c| c.server == o.server && c.token.as_slice() == o.token())
            .map(|c| c.paths.as_slice())
    }

    /// Removes every observation `keep` refuses.
    fn retain(&mut self, keep: impl Fn(&Observation) -> bool) {
        let mut i = 0;
        while let Some(o) = self.table.get(i) {
            if keep(o) {
                i += 1;
            } else {
                self.remove_at(i);
            }
        }
    }

    fn in_flight(&self) -> Option<usize> {
        self.table.iter().position(|o| o.flags & IN_FLIGHT != 0)
    }
}

impl Default for Observations {
    fn default() -> Self {
        Observations::new()
    }
}

/// What an Observe option in a request asks (RFC 7641 section 2): `Some(true)` register (0),
/// `Some(false)` deregister (1). Only on a GET that is no Discover. A value longer than 3
/// bytes is an elective option of the wrong length: ignored (RFC 7252 section 5.4.3), so the
/// request is a plain Read.
pub(super) fn intent(req: &Message<'_>) -> Option<bool> {
    // FETCH: Observe-Composite (LwM2M 1.1), with the record formats.
    let fetch = cfg!(feature = "records") && req.code() == Code::FETCH;
    if !(req.code() == Code::GET || fetch)
        || req.option_uint(opt::ACCEPT) == Some(u32::from(cf::LINK))
    {
        return None;
    }
    match req
        .option(opt::OBSERVE)
        .filter(|v| v.len() <= 3)
        .and_then(decode_uint)
    {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}

/// The format and paths of an Observe-Composite (FETCH with Observe): `None` when the
/// payload does not parse, names no path or more than `COMPOSITE_PATHS`.
#[cfg(feature = "records")]
fn composite_request(req: &Message<'_>) -> Option<(u16, Vec<Path, COMPOSITE_PATHS>)> {
    if req.code() != Code::FETCH {
        return None;
    }
    let format = u16::try_from(req.option_uint(opt::CONTENT_FORMAT)?).ok()?;
    let mut paths = Vec::new();
    super::records::paths_of(format, req.payload(), &mut |p| {
        paths.push(p).map_err(|_| Code::REQUEST_ENTITY_TOO_LARGE)
    })
    .ok()?;
    (!paths.is_empty()).then_some((format, paths))
}

/// The full millisecond time of `t` (the low 32 bits of a time at most 49 days before
/// `now`).
fn full(now: u64, t: u32) -> u64 {
    now.saturating_sub(u64::from((now as u32).wrapping_sub(t)))
}

fn ms(s: u32) -> u64 {
    u64::from(s).saturating_mul(1000)
}

/// True when the attributes put conditions on the value (gt, lt, st, edge).
fn conditional(a: &Attributes) -> bool {
    a.gt().is_some() || a.lt().is_some() || a.st().is_some() || a.edge().is_some()
}

/// True when value `v`, after `last` was notified, meets one of the conditions: it crossed
/// gt or lt (either way), moved by st or more, or reached the edge (LwM2M 1.1 section
/// 5.1.2, 1.2 `edge`; booleans are 0 and 1). The arithmetic is `float::add` and
/// `float::less`, on the bit patterns: no soft-double routine is linked.
fn fires(a: &Attributes, last: f64, v: f64) -> bool {
    let crossed = |t: Option<f64>| t.is_some_and(|t| less(t, last) != less(t, v));
    let step = a.st().is_some_and(|st| {
        let d = add(v, -last);
        !(less(d, st) && less(-d, st))
    });
    let edge = a
        .edge()
        .is_some_and(|e| less(0.0, v) == e && less(0.0, last) != e);
    crossed(a.gt()) || crossed(a.lt()) || step || edge
}

/// The double equal to `i` when it is exact (below 2^53 in magnitude), built on the bit
/// pattern: no soft-float conversion routine is linked.
fn exact(i: i64) -> Option<f64> {
    let m = i.unsigned_abs();
    if m >= 1 << 53 {
        return None;
    }
    if m == 0 {
        return Some(0.0);
    }
    let p = 63 - m.leading_zeros();
    let mant = (m << (52 - p)) & ((1 << 52) - 1);
    let sign = u64::from(i < 0) << 63;
    Some(f64::from_bits(sign | (u64::from(1023 + p) << 52) | mant))
}

/// A numeric view of one value (booleans are 0 and 1).
struct Number {
    want: Option<u16>,
    value: Option<f64>,
}

impl ValueSink for Number {
    fn value(&mut self, instance: Option<u16>, value: &Value<'_>) -> Result<(), Code> {
        if instance == self.want {
            self.value = match *value {
                Value::Integer(i) | Value::Time(i) => exact(i),
                Value::Unsigned(u) => i64::try_from(u).ok().and_then(exact),
                Value::Float(f) => Some(f),
                Value::Boolean(b) => Some(if b { 1.0 } else { 0.0 }),
                _ => None,
            };
        }
        Ok(())
    }
}

/// Every object a server may reach (`Registry`), borrowed from the client's fields.
macro_rules! registry {
    ($c:expr, $server:expr, $now:expr, $platform:expr) => {
        Registry {
            #[cfg(feature = "access-control")]
            ssid: $c.acl_server($server),
            servers: &mut $c.servers,
            now: $now,
            platform: $platform,
            #[cfg(feature = "access-control")]
            acl: &mut $c.acl,
        }
    };
}

/// When an observation next needs the client, and when pmax forces a notification.
struct Plan {
    at: u64,
    forced: Option<u64>,
    attrs: Attributes,
    /// The notification is held rather than sent (queue mode: the server sleeps or is
    /// offline, or notifications held for it have not left yet).
    hold: bool,
}

impl Engine {
    /// A value changed: observations of `path`, of what lies below it and of what contains
    /// it notify (under their attributes). Shortens [`Engine::poll_timeout`].
    pub fn resource_changed(&mut self, path: &Path) {
        let overlaps = |p: &Path| p.starts_with(path) || path.starts_with(p);
        for i in 0..self.observe.table.len() {
            let Some(&o) = self.observe.table.get(i) else {
                break;
            };
            #[cfg(feature = "records")]
            let hit = match self.observe.composite_paths(&o) {
                Some(paths) => paths.iter().any(overlaps),
                None => overlaps(&o.path),
            };
            #[cfg(not(feature = "records"))]
            let hit = overlaps(&o.path);
            if let (true, Some(slot)) = (hit, self.observe.table.get_mut(i)) {
                slot.flags |= CHANGED;
            }
        }
    }

    /// Takes the changes signalled through `changes` (from other threads or interrupts).
    // Not inlined into the step: its frame would then lie under every request.
    #[inline(never)]
    pub fn take_changes(&mut self, changes: &Changes) {
        let p = changes.take();
        if p.all {
            self.resource_changed(&Path::ROOT);
        }
        for path in p.paths.iter().take(usize::from(p.len)) {
            self.resource_changed(path);
        }
    }

    /// Forgets every observation (a bootstrap, a factory reset); notifications held for a
    /// server are reported dropped.
    pub fn clear_observations(&mut self) {
        #[cfg(feature = "queue-mode")]
        for server in 0..self.servers.len() as u8 {
            self.drop_held(server);
        }
        self.observe = Observations::new();
    }

    /// The observations held.
    pub fn observations(&self) -> usize {
        self.observe.len()
    }

    /// Before a request is answered: a GET with Observe 1 ends the observation of its
    /// token; one with Observe 0 gets the sequence number for its response when there is
    /// room for it (else it is answered as a plain Read, RFC 7641 section 4.1).
    #[inline(never)]
    pub(super) fn observe_intent(&mut self, server: u8, req: &Message<'_>) -> Option<u32> {
        let t = &mut self.observe;
        let existing = t.position(server, req.token());
        if !intent(req)? {
            if let Some(i) = existing {
                t.remove_at(i);
            }
            return None;
        }
        #[cfg(feature = "records")]
        if req.code() == Code::FETCH {
            let room = existing.is_some() || !(t.table.is_full() || t.composite.is_full());
            return (room && composite_request(req).is_some()).then_some(t.seq);
        }
        (existing.is_some() || !t.table.is_full()).then_some(t.seq)
    }

    /// After a request is answered with `code`: an Observe answered 2.05 is kept; what a
    /// server's Write, Execute, Create or Delete changed is marked; observations of a
    /// deleted instance end.
    pub(super) fn observe_answered(
        &mut self,
        server: u8,
        req: &Message<'_>,
        seq: Option<u32>,
        code: Code,
        now: u64,
        platform: &mut dyn Platform,
    ) {
        let Some(path) = Path::from_segments(req.options_of(opt::URI_PATH)) else {
            return;
        };
        let token = req.token();
        self.observe.now = self.observe.now.max(now);
        match code {
            Code::CONTENT if seq.is_some() => {
                let mut token_buf = [0u8; 8];
                for (d, s) in token_buf.iter_mut().zip(token) {
                    *d = *s;
                }
                let n = token.len().min(8);
                let mut o = Observation {
                    value: [0; 8],
                    sent: now as u32,
                    evaluated: now as u32,
                    token: token_buf,
                    path,
                    accept: req
                        .option_uint(opt::ACCEPT)
                        .and_then(|a| u16::try_from(a).ok())
                        .unwrap_or(NO_ACCEPT),
                    mid: 0,
                    server,
                    // At most 8: fits the high nibble.
                    flags: (n as u8) << TOKEN_SHIFT,
                };
                o.value = self.number(&o, now, platform).unwrap_or(0.0).to_ne_bytes();
                let t = &mut self.observe;
                #[cfg(feature = "records")]
                if let Some((format, paths)) = composite_request(req) {
                    o.flags |= COMPOSITE;
                    o.accept = req
                        .option_uint(opt::ACCEPT)
                        .and_then(|a| u16::try_from(a).ok())
                        .unwrap_or(format);
                    t.composite
                        .retain(|c| !(c.server == server && c.token.as_slice() == token));
                    let mut tok = Vec::new();
                    let _ = tok.extend_from_slice(o.token());
                    let entry = Composite {
                        server,
                        token: tok,
                        paths,
                    };
                    if t.composite.push(entry).is_err() {
                        return;
                    }
                }
                t.seq = t.seq.wrapping_add(1) & SEQ_MASK;
                match t.position(server, token).and_then(|i| t.table.get_mut(i)) {
                    Some(slot) => *slot = o,
                    None => {
                        let _ = t.table.push(o);
                    }
                }
            }
            Code::DELETED => {
                self.observe.retain(|o| !o.path.starts_with(&path));
                self.resource_changed(&path);
            }
            // A Write-Attributes (a PUT with a query and no payload) changes no value.
            Code::CHANGED | Code::CREATED
                if !(req.code() == Code::PUT
                    && req.payload().is_empty()
                    && req.option(opt::URI_QUERY).is_some()) =>
            {
                self.resource_changed(&path)
            }
            _ => {}
        }
    }

    /// A new registration with `server`: its observations are gone on its side, and the
    /// application hears of each ([`Event::ObservationEnded`]), so that no change waiting to
    /// be notified is dropped silently.
    pub(super) fn observe_registered(&mut self, server: u8) {
        #[cfg(feature = "queue-mode")]
        self.drop_held(server);
        while let Some(i) = self.observe.table.iter().position(|o| o.server == server) {
            self.end_observation(i);
        }
    }

    /// An empty ACK or RST that matches no request: true when it answered a notification.
    /// A RST ends the observation.
    pub(super) fn notification_answer(&mut self, server: u8, mid: u16, reset: bool) -> bool {
        let t = &mut self.observe;
        if let Some(i) = t.in_flight() {
            if t.con.is_some_and(|ex| ex.message_id == mid)
                && t.table.get(i).is_some_and(|o| o.server == server)
            {
                t.con = None;
                if let Some(o) = t.table.get_mut(i) {
                    o.flags &= !IN_FLIGHT;
                }
                if !reset {
                    return true;
                }
            }
        }
        if !reset {
            return false;
        }
        match t
            .table
            .iter()
            .position(|o| o.server == server && o.mid == mid)
        {
            Some(i) => {
                self.end_observation(i);
                true
            }
            None => false,
        }
    }

    /// Ends observation `i` and tells the application.
    fn end_observation(&mut self, i: usize) {
        if let Some(o) = self.observe.remove_at(i) {
            self.push_event(Event::ObservationEnded {
                server: o.server,
                path: o.path,
            });
        }
    }

    /// The attributes that apply to `o`: the object's, then the instance's, then the
    /// resource's and the resource instance's, each over the one before.
    fn attributes_of(&self, o: &Observation) -> Attributes {
        let mut a = Attributes::default();
        let ids = o.path.ids();
        for n in 1..=ids.len() {
            let level = ids.get(..n).and_then(Path::new);
            if let Some(x) = level.and_then(|p| self.attrs.get(o.server, &p)) {
                a.overlay(x);
            }
        }
        a
    }

    /// When observation `o` next needs the client; `None` while nothing is due or its
    /// server is not registered, and for confirmable notifications while another one is in
    /// flight.
    fn plan(&self, o: &Observation, now: u64) -> Option<Plan> {
        let s = self.servers.get(usize::from(o.server))?;
        #[cfg(feature = "queue-mode")]
        let hold = self.holds(o.server);
        #[cfg(not(feature = "queue-mode"))]
        let hold = false;
        if !hold && (!s.connected || !s.reg.is_registered()) || o.flags & IN_FLIGHT != 0 {
            return None;
        }
        // Asleep in queue mode with Notification Storing off (/1/x/6): changes wait
        // (coalesced, the latest value wins) until the client wakes for its next Update.
        #[cfg(feature = "queue-mode")]
        if !hold && s.queue.asleep() {
            return None;
        }
        let attrs = self.attributes_of(o);
        if !hold && self.observe.con.is_some() && attrs.con() == Some(true) {
            return None;
        }
        let sent = full(now, o.sent);
        let evaluated = full(now, o.evaluated);
        let pmin = attrs.pmin().unwrap_or(s.default_pmin);
        let pmax = attrs.pmax().unwrap_or(s.default_pmax);
        let earliest = sent.saturating_add(ms(pmin));
        // A pmax below pmin is ignored (LwM2M 1.1 section 5.1.2).
        let forced = (pmax > 0 && pmax >= pmin).then(|| sent.saturating_add(ms(pmax)));
        let (epmin, epmax) = attrs.epmin_epmax();
        let changed = (o.flags & CHANGED != 0)
            .then(|| earliest.max(evaluated.saturating_add(ms(epmin.unwrap_or(0)))));
        // epmax: the value is sampled at least that often when conditions apply to it.
        let sampled = epmax
            .filter(|&e| e > 0 && conditional(&attrs))
            .map(|e| earliest.max(evaluated.saturating_add(ms(e))));
        let mut at = forced;
        for d in [changed, sampled].into_iter().flatten() {
            at = Some(at.map_or(d, |a| a.min(d)));
        }
        Some(Plan {
            at: at?,
            forced,
            attrs,
            hold,
        })
    }

    /// The earliest deadline of the observations (for `poll_timeout`).
    pub(super) fn observe_deadline(&self) -> Option<u64> {
        let now = self.observe.now;
        let mut next = self.observe.con.map(|ex| ex.deadline());
        // Held notifications that can leave now (after a confirmable one, its deadline).
        #[cfg(feature = "queue-mode")]
        if next.is_none() && self.next_held().is_some() {
            next = Some(now);
        }
        for o in self
            .observe
            .table
            .iter()
            .filter(|o| self.reachable(o.server))
        {
            if let Some(p) = self.plan(o, now) {
                next = Some(next.map_or(p.at, |n| n.min(p.at)));
            }
        }
        next
    }

    /// The numeric value of a resource (instance) observation, if it has one.
    fn number(&mut self, o: &Observation, now: u64, platform: &mut dyn Platform) -> Option<f64> {
        let (Some(iid), Some(rid)) = (o.path.instance_id(), o.path.resource_id()) else {
            return None;
        };
        let mut n = Number {
            want: o.path.resource_instance_id(),
            value: None,
        };
        let mut objects = registry!(self, o.server, now, platform);
        let _ = objects.with(&o.path, 1, &mut |obj: &mut dyn Object| {
            obj.read(iid, rid, &mut n)
        });
        n.value
    }

    /// The next notification to send (server, length in `tx`), if one is due.
    pub(super) fn poll_notify(
        &mut self,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut super::Datagram,
    ) -> Option<(u8, usize)> {
        self.observe.now = self.observe.now.max(now);
        if let Some(ex) = self.observe.con {
            let i = self.observe.in_flight();
            match (ex.check(now), i) {
                (Timer::Wait, Some(_)) => {}
                (Timer::Retransmit, Some(i)) => {
                    let o = *self.observe.table.get(i)?;
                    if let Some(ex) = self.observe.con.as_mut() {
                        ex.sent(now);
                    }
                    let (len, _) = self.encode(&o, MsgType::Con, ex.message_id, now, platform, tx);
                    return Some((o.server, len));
                }
                // Never acknowledged: the observation ends (RFC 7641 section 4.5).
                (Timer::GiveUp, Some(i)) => self.end_observation(i),
                (_, None) => self.observe.con = None,
            }
        }
        #[cfg(feature = "queue-mode")]
        if let Some(sent) = self.flush_held(now, platform, tx) {
            return Some(sent);
        }
        let mut i = 0;
        while let Some(&o) = self.observe.table.get(i) {
            i += 1;
            // A secured server's notifications wait for its session, rather than go nowhere.
            if !self.reachable(o.server) {
                continue;
            }
            let Some(plan) = self.plan(&o, now).filter(|p| p.at <= now) else {
                continue;
            };
            let a = plan.attrs;
            let forced = plan.forced.is_some_and(|f| f <= now);
            let conditions = conditional(&a);
            let v = if conditions {
                self.number(&o, now, platform)
            } else {
                None
            };
            let notify = forced
                || match (conditions, v) {
                    (true, Some(v)) => fires(&a, o.last(), v),
                    (true, None) => true,
                    (false, _) => o.flags & CHANGED != 0,
                };
            let con = a.con() == Some(true);
            let mid = if notify && !plan.hold { self.mid() } else { 0 };
            let slot = self.observe.table.get_mut(i - 1)?;
            slot.evaluated = now as u32;
            slot.flags &= !CHANGED;
            if !notify {
                continue;
            }
            slot.sent = now as u32;
            if let Some(v) = v {
                slot.value = v.to_ne_bytes();
            }
            // Held with the value it has now, to leave when the server is reachable.
            #[cfg(feature = "queue-mode")]
            if plan.hold {
                if self.hold(&o, i - 1, &a, now, platform, tx) {
                    i -= 1;
                }
                continue;
            }
            slot.mid = mid;
            let mtype = if con { MsgType::Con } else { MsgType::Non };
            let (len, code) = self.encode(&o, mtype, mid, now, platform, tx);
            let t = &mut self.observe;
            t.seq = t.seq.wrapping_add(1) & SEQ_MASK;
            if code != Code::CONTENT {
                // An error notification ends the observation (RFC 7641 section 3.2).
                t.remove_at(i - 1);
            } else if con {
                self.confirmable(i - 1, mid, now, platform);
            }
            return Some((o.server, len));
        }
        None
    }

    /// Observation `i`'s confirmable notification `mid` went out: it is in flight,
    /// retransmitted until acknowledged.
    fn confirmable(&mut self, i: usize, mid: u16, now: u64, platform: &mut dyn Platform) {
        let mut jitter = [0u8; 2];
        platform.random(&mut jitter);
        let mut ex = Exchange::new(RequestKind::Update, mid, [0; 8], u16::from_le_bytes(jitter));
        ex.sent(now);
        let t = &mut self.observe;
        t.con = Some(ex);
        if let Some(slot) = t.table.get_mut(i) {
            slot.flags |= IN_FLIGHT;
        }
    }

    /// Encodes a notification of `o` into `tx`: a Read of its path in its format with the
    /// current sequence number, or the Read's error code alone. One too large for a message
    /// goes as its first block (Block2 and Size2, RFC 7959 section 2.6: the server fetches
    /// the rest with GETs, which Block2 answers). Returns the length and the code.
    fn encode(
        &mut self,
        o: &Observation,
        mtype: MsgType,
        mid: u16,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut super::Datagram,
    ) -> (usize, Code) {
        let seq = self.observe.seq;
        let accept = (o.accept != NO_ACCEPT).then_some(u32::from(o.accept));
        #[cfg(feature = "records")]
        let paths = self.observe.composite_paths(o).map(|p| {
            let mut v: Vec<Path, COMPOSITE_PATHS> = Vec::new();
            let _ = v.extend_from_slice(p);
            v
        });
        #[cfg(feature = "records")]
        let composite = paths.as_deref();
        let mut objects = registry!(self, o.server, now, platform);
        let mut attempt = |block: Option<crate::coap::Block>| {
            let mut b = MessageBuilder::new(&mut *tx, mtype, Code::CONTENT, mid, o.token())
                .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
            b.option_uint(opt::OBSERVE, seq)
                .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
            #[cfg(feature = "blockwise")]
            if let Some(block) = block {
                b.block2(block);
            }
            #[cfg(not(feature = "blockwise"))]
            let _ = block;
            #[cfg(feature = "records")]
            if let Some(paths) = composite {
                let format = accept
                    .and_then(|a| u16::try_from(a).ok())
                    .unwrap_or(cf::SENML_CBOR);
                super::records::read_paths(format, paths, &mut objects, &mut b)?;
            } else {
                objects.with(&o.path, 1, &mut |obj: &mut dyn Object| {
                    dm::read(&o.path, accept, obj, &mut b).map(drop)
                })?;
            }
            #[cfg(not(feature = "records"))]
            objects.with(&o.path, 1, &mut |obj: &mut dyn Object| {
                dm::read(&o.path, accept, obj, &mut b).map(drop)
            })?;
            #[cfg(feature = "blockwise")]
            if block.is_some() {
                return b.finish_block().ok_or(Code::INTERNAL_SERVER_ERROR);
            }
            Ok(b.finish())
        };
        let r = attempt(None);
        #[cfg(feature = "blockwise")]
        let r = match r {
            Err(Code::INTERNAL_SERVER_ERROR) => attempt(super::blockwise::first_block()),
            r => r,
        };
        let code = match r {
            Ok(len) => return (len, Code::CONTENT),
            Err(c) => c,
        };
        let len = MessageBuilder::new(tx, mtype, code, mid, o.token()).map_or(0, |b| b.finish());
        (len, code)
    }
}

/// Queue mode: notifications raised while their server sleeps or is offline are held
/// ([`super::queue::Held`]) with the value they had, and leave oldest first, before any new
/// one, once the server is reachable again (after the Update that wakes the client is
/// answered). The oldest are dropped to make room, and beyond an observation's `hqmax`
/// (LwM2M 1.2: at most that many of it, the newest at least); a new registration drops
/// what its server had. The application hears of every drop
/// ([`Event::NotificationsDropped`]). A held notification too large for one message goes
/// as its first block: the server's GETs for the rest read the current value.
#[cfg(feature = "queue-mode")]
impl Engine {
    /// True when notifications of `server`'s observations are held rather than sent: it
    /// sleeps in queue mode or is offline (no connection, registering again, disabled)
    /// and Notification Storing (/1/x/6) is on, or notifications held for it have not
    /// left yet (they go first). Never with `TERN_NOTIFY_QUEUE_BYTES` 0: changes then
    /// wait, coalesced, and the latest value goes at wake-up.
    fn holds(&self, server: u8) -> bool {
        use super::registration::Phase;
        let Some(s) = self.servers.get(usize::from(server)) else {
            return false;
        };
        let gone = matches!(
            s.reg.phase,
            Phase::Deregistered | Phase::Rejected | Phase::Failed
        );
        let away = s.queue.asleep() || !s.connected || !s.reg.is_registered();
        NOTIFY_QUEUE_BYTES > 0 && s.storing && away && !gone
            || self.observe.held.count(server, None).0 > 0
    }

    /// Holds the notification just raised for observation `i` (`o`, with attributes `a`):
    /// its value read now; true when it ended the observation (a read error, which the held
    /// notification reports).
    fn hold(
        &mut self,
        o: &Observation,
        i: usize,
        a: &Attributes,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut super::Datagram,
    ) -> bool {
        let (con, hqmax) = (a.con() == Some(true), a.hqmax());
        let seq = self.observe.seq;
        let (len, code) = self.encode(o, MsgType::Non, 0, now, platform, tx);
        // What follows the header, the token and the Observe option (its byte and value).
        let mut tmp = [0u8; 4];
        let skip = 5 + o.token().len() + crate::coap::msg::encode_uint(seq, &mut tmp).len();
        // Beyond hqmax, the observation's oldest goes.
        let max = hqmax.map_or(usize::MAX, |h| (h as usize).max(1));
        while let (n, Some(at)) = self.observe.held.count(o.server, Some(o.token())) {
            if n < max {
                break;
            }
            self.observe.held.remove(at);
            self.report_dropped(o.server, 1);
        }
        // The oldest go until it fits (it alone, when larger than the whole queue).
        loop {
            let tail = tx.get(skip..len).unwrap_or(&[]);
            if super::queue::HEAD + o.token().len() + tail.len() > NOTIFY_QUEUE_BYTES {
                self.report_dropped(o.server, 1);
                break;
            }
            if self
                .observe
                .held
                .push(o.server, code.0, con, o.token(), tail)
            {
                break;
            }
            match self.observe.held.remove(0) {
                Some(server) => self.report_dropped(server, 1),
                None => break,
            }
        }
        if code != Code::CONTENT {
            self.observe.remove_at(i);
            return true;
        }
        false
    }

    fn report_dropped(&mut self, server: u8, count: u16) {
        if count > 0 {
            self.push_event(Event::NotificationsDropped { server, count });
        }
    }

    /// Drops every notification held for `server` and tells the application how many.
    pub(super) fn drop_held(&mut self, server: u8) {
        let mut n = 0u16;
        while let (_, Some(at)) = self.observe.held.count(server, None) {
            self.observe.held.remove(at);
            n = n.saturating_add(1);
        }
        self.report_dropped(server, n);
    }

    /// The offset of the oldest held notification whose server is reachable again:
    /// connected, registered, awake, and no request (the Update that woke the client)
    /// waiting for its answer.
    fn next_held(&self) -> Option<usize> {
        let mut at = 0;
        while let Some(r) = self.observe.held.get(at) {
            let ready = self.servers.get(usize::from(r.server)).is_some_and(|s| {
                s.connected
                    && s.reg.is_registered()
                    && !s.queue.asleep()
                    && s.reg.exchange.is_none()
            });
            if ready {
                return Some(at);
            }
            at = r.next;
        }
        None
    }

    /// Sends the oldest held notification that can leave (none while a confirmable one is
    /// in flight), with the next Observe sequence number: confirmable when it was raised
    /// so and its observation is still there (a retransmission carries the latest value,
    /// as for any notification). One of an observation that ended meanwhile is discarded,
    /// unless it reports the error that ended it.
    fn flush_held(
        &mut self,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut super::Datagram,
    ) -> Option<(u8, usize)> {
        while self.observe.con.is_none() {
            let at = self.next_held()?;
            let r = self.observe.held.get(at)?;
            let server = r.server;
            let obs = self.observe.position(server, r.token);
            let content = r.code == Code::CONTENT.0;
            let con = r.con && obs.is_some();
            let mid = self.next_mid.wrapping_add(1);
            let seq = self.observe.seq;
            let mtype = if con { MsgType::Con } else { MsgType::Non };
            // Nothing for an observation that ended, unless it reports the error.
            let mut end = None;
            if obs.is_some() || !content {
                end = MessageBuilder::new(&mut *tx, mtype, Code(r.code), mid, r.token)
                    .ok()
                    .and_then(|mut b| {
                        let observe = content.then(|| b.option_uint(opt::OBSERVE, seq));
                        observe.map_or(true, |o| o.is_ok()).then(|| b.len())
                    })
                    .and_then(|start| {
                        let e = start.checked_add(r.tail.len())?;
                        let d = tx.get_mut(start..e)?;
                        d.iter_mut().zip(r.tail).for_each(|(d, s)| *d = *s);
                        Some(e)
                    });
                if end.is_none() {
                    // Longer than a message now that its sequence number is: dropped.
                    self.report_dropped(server, 1);
                }
            }
            self.observe.held.remove(at);
            let Some(len) = end else {
                continue;
            };
            self.next_mid = mid;
            self.observe.seq = seq.wrapping_add(1) & SEQ_MASK;
            if let Some(i) = obs {
                if let Some(slot) = self.observe.table.get_mut(i) {
                    slot.mid = mid;
                }
                if con {
                    self.confirmable(i, mid, now, platform);
                }
            }
            return Some((server, len));
        }
        None
    }
}

/// Value changes signalled from any thread or interrupt, until the client takes them
/// ([`Engine::take_changes`]): up to `TERN_MAX_PENDING_CHANGES` paths, repeated and nested
/// ones coalesced; when full, everything counts as changed (no change is dropped). Kept
/// outside the [`Client`](super::Client) so that signalling never needs the client itself.
pub struct Changes(critical_section::Mutex<Cell<Pending>>);

/// The changes signalled so far.
#[derive(Clone, Copy)]
pub struct Pending {
    paths: [Path; MAX_PENDING_CHANGES],
    len: u8,
    all: bool,
}

impl Pending {
    const NONE: Pending = Pending {
        paths: [Path::ROOT; MAX_PENDING_CHANGES],
        len: 0,
        all: false,
    };

    fn add(&mut self, path: &Path) {
        if self.all {
            return;
        }
        let len = usize::from(self.len);
        for p in self.paths.iter_mut().take(len) {
            if path.starts_with(p) {
                return;
            }
            if p.starts_with(path) {
                *p = *path;
                return;
            }
        }
        match self.paths.get_mut(len) {
            Some(slot) => {
                *slot = *path;
                self.len += 1;
            }
            None => self.all = true,
        }
    }
}

impl Changes {
    /// Nothing changed.
    pub const fn new() -> Changes {
        Changes(critical_section::Mutex::new(Cell::new(Pending::NONE)))
    }

    /// Signals that the value(s) at `path` changed. Safe from any thread or interrupt.
    pub fn mark(&self, path: &Path) {
        critical_section::with(|cs| {
            let cell = self.0.borrow(cs);
            let mut p = cell.get();
            p.add(path);
            cell.set(p);
        })
    }

    /// True when a change waits to be taken.
    pub fn pending(&self) -> bool {
        critical_section::with(|cs| {
            let p = self.0.borrow(cs).get();
            p.all || p.len > 0
        })
    }

    fn take(&self) -> Pending {
        critical_section::with(|cs| self.0.borrow(cs).replace(Pending::NONE))
    }
}

impl Default for Changes {
    fn default() -> Self {
        Changes::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_coalesce_and_overflow_to_everything() {
        let c = Changes::new();
        assert!(!c.pending());
        let r = Path::resource(3, 0, 9);
        c.mark(&r);
        c.mark(&r);
        c.mark(&Path::resource(3, 0, 9));
        let p = c.take();
        assert_eq!((p.len, p.all), (1, false));
        // A containing path replaces the paths below it; a path below one kept is covered.
        c.mark(&r);
        c.mark(&Path::instance(3, 0));
        c.mark(&Path::resource(3, 0, 10));
        let p = c.take();
        assert_eq!((p.len, p.all, p.paths[0]), (1, false, Path::instance(3, 0)));
        for i in 0..=MAX_PENDING_CHANGES as u16 {
            c.mark(&Path::instance(3303, i));
        }
        assert!(c.pending());
        assert!(c.take().all, "a full set marks everything changed");
        assert!(!c.pending());
    }

    #[test]
    fn an_observe_option_of_four_bytes_is_ignored() {
        let mut buf = [0u8; 32];
        for (value, want) in [
            (&[][..], Some(true)),
            (&[1][..], Some(false)),
            (&[0, 0, 0][..], Some(true)),
            (&[0, 0, 0, 0][..], None),
            (&[2][..], None),
        ] {
            let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[1]).unwrap();
            b.option(opt::OBSERVE, value).unwrap();
            b.option(opt::URI_PATH, b"3").unwrap();
            let n = b.finish();
            let m = Message::parse(&buf[..n]).unwrap();
            assert_eq!(intent(&m), want, "{value:?}");
        }
    }

    #[test]
    fn conditions_fire_on_crossings_steps_and_edges() {
        let mut a = Attributes::default();
        let mut s = crate::client::attributes::Store::new();
        let p = Path::resource(1, 0, 1);
        let def = Some(crate::model::ResourceDef::new(
            1,
            crate::model::ResourceType::Float,
            crate::model::Operations::R,
            false,
        ));
        s.write(0, &p, def, [&b"gt=10"[..], b"lt=0"].into_iter())
            .unwrap();
        a.overlay(s.get(0, &p).unwrap());
        assert!(fires(&a, 5.0, 11.0) && fires(&a, 11.0, 5.0));
        assert!(fires(&a, 5.0, -1.0) && !fires(&a, 5.0, 9.0));
        let mut b = Attributes::default();
        s.write(0, &p, def, [&b"gt"[..], b"lt", b"st=2"].into_iter())
            .unwrap();
        b.overlay(s.get(0, &p).unwrap());
        assert!(fires(&b, 5.0, 7.0) && fires(&b, 5.0, 3.0) && !fires(&b, 5.0, 6.5));
        // edge=1: false to true only; edge=0: true to false only.
        let flag = Some(crate::model::ResourceDef::new(
            2,
            crate::model::ResourceType::Boolean,
            crate::model::Operations::R,
            false,
        ));
        let q = Path::resource(1, 0, 2);
        for (edge, rising, falling) in [(&b"edge=1"[..], true, false), (b"edge=0", false, true)] {
            s.write(0, &q, flag, [edge].into_iter()).unwrap();
            let mut e = Attributes::default();
            e.overlay(s.get(0, &q).unwrap());
            assert_eq!(fires(&e, 0.0, 1.0), rising);
            assert_eq!(fires(&e, 1.0, 0.0), falling);
            assert!(!fires(&e, 1.0, 1.0) && !fires(&e, 0.0, 0.0));
        }
        for i in [0i64, 1, -1, 7, -12345, (1 << 53) - 1, -(1 << 53) + 1] {
            assert_eq!(exact(i), Some(i as f64));
        }
        assert_eq!(exact(1 << 53), None);
    }
}
