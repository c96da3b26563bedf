//! Queue mode (feature `queue-mode`; LwM2M 1.1 Core 6.4 and Transport 5.1): a server told
//! at Register that the client is in queue mode (`b=UQ` in 1.0, the `Q` parameter in 1.1)
//! holds its requests until the client shows up. The client stays awake, listening, for
//! the awake time after its last datagram with that server (by default
//! MAX_TRANSMIT_WAIT, 93 s), then sleeps: [`super::Event::Sleeping`] tells the application
//! it may stop listening (power the radio down) until the client next sends to that server
//! — the periodic Update, a Send, a notification — which [`super::Event::Awake`] announces
//! before the datagram goes out. Notifications raised meanwhile are held ([`Held`], see
//! `observe.rs`) and leave once that Update is answered.

use super::{Engine, Event};

/// MAX_TRANSMIT_WAIT (RFC 7252 section 4.8.2) in ms: the default awake time.
pub const DEFAULT_AWAKE_MS: u32 = 93_000;

/// Queue-mode state of one server: until when the client listens, or [`ASLEEP`] once the
/// application was told it sleeps. The awake time is the server's own
/// ([`super::server::Server::awake_ms`]), kept outside so that the two fill the server's
/// state without padding.
#[derive(Clone, Copy, Default)]
pub struct Queue {
    awake_until: u64,
}

/// `awake_until` of a server the client sleeps for (no instant is that late).
const ASLEEP: u64 = u64::MAX;

impl Queue {
    /// True while the client sleeps for this server.
    pub fn asleep(&self) -> bool {
        self.awake_until == ASLEEP
    }

    /// When the client falls asleep, if awake in queue mode (an awake time of `awake_ms`;
    /// 0 while queue mode is off).
    pub fn deadline(&self, awake_ms: u32) -> Option<u64> {
        (awake_ms != 0 && !self.asleep()).then_some(self.awake_until)
    }

    /// A datagram went to or came from the server at `now`: awake for `awake_ms` from
    /// then; true when that wakes the client.
    pub fn activity(&mut self, now: u64, awake_ms: u32) -> bool {
        let woke = self.asleep();
        self.awake_until = now.saturating_add(u64::from(awake_ms)).min(ASLEEP - 1);
        woke
    }
}

impl Engine {
    /// Puts server slot `server` in queue mode, awake `awake_ms` after each exchange (0: the
    /// default, 93 s), or takes it out (`None`). The server hears it at the next Register
    /// (a registered server gets an Update with the binding in LwM2M 1.0; in 1.1 queue
    /// mode is a Register parameter, so it applies from the next registration). False for
    /// an unknown slot.
    pub fn set_queue_mode(&mut self, server: u8, awake_ms: Option<u32>) -> bool {
        let Some(s) = self.servers.get_mut(usize::from(server)) else {
            return false;
        };
        s.set_queue(awake_ms.map(|ms| if ms == 0 { DEFAULT_AWAKE_MS } else { ms }));
        true
    }

    /// Puts servers to sleep whose awake time is over (none while an exchange is in flight
    /// or a response waits to go out).
    pub(super) fn sleep_due(&mut self, now: u64) {
        let mut i = 0u8;
        while let Some(s) = self.servers.get_mut(usize::from(i)) {
            let idle = s.reg.exchange.is_none() && s.reg.is_registered();
            let due = s.queue.deadline(s.awake_ms).is_some_and(|t| now >= t);
            if idle && due && !(self.reply.unsent() && self.reply.server == i) {
                s.queue.awake_until = ASLEEP;
                self.push_event(Event::Sleeping { server: i });
            }
            i = i.saturating_add(1);
        }
    }

    /// Notes a datagram to or from server slot `server`; announces a wake-up.
    pub(super) fn queue_activity(&mut self, server: u8, now: u64) {
        let woke = self
            .servers
            .get_mut(usize::from(server))
            .is_some_and(|s| s.queue.activity(now, s.awake_ms));
        if woke {
            self.push_event(Event::Awake { server });
        }
    }
}

/// Notifications raised while their server sleeps or is offline (feature `observe` too):
/// `TERN_NOTIFY_QUEUE_BYTES` bytes of records, oldest first, each one notification as it
/// was when raised — its server, code, token and the encoded message after the Observe
/// option (Content-Format and payload) — so that it leaves later with its own Observe
/// sequence number and message id. A record is `[length (2 bytes, LE), server, code, flags
/// (token length, bit 7: confirmable), token, tail]`.
#[cfg(feature = "observe")]
pub struct Held {
    buf: [u8; crate::config::NOTIFY_QUEUE_BYTES],
    len: usize,
}

#[cfg(feature = "observe")]
impl Default for Held {
    fn default() -> Self {
        Held::new()
    }
}

/// One held notification.
#[cfg(feature = "observe")]
pub struct Record<'a> {
    pub server: u8,
    pub code: u8,
    pub con: bool,
    pub token: &'a [u8],
    /// The message's options after Observe and its payload.
    pub tail: &'a [u8],
    /// Where the next record starts.
    pub next: usize,
}

#[cfg(feature = "observe")]
pub const HEAD: usize = 5;

#[cfg(feature = "observe")]
impl Held {
    /// Nothing held.
    pub const fn new() -> Held {
        Held {
            buf: [0; crate::config::NOTIFY_QUEUE_BYTES],
            len: 0,
        }
    }

    /// The record at offset `at` (0: the oldest), if there is one.
    pub fn get(&self, at: usize) -> Option<Record<'_>> {
        let rec = self.buf.get(at..self.len)?;
        let [l0, l1, server, code, flags, ..] = *rec else {
            return None;
        };
        let n = usize::from(u16::from_le_bytes([l0, l1]));
        let tl = usize::from(flags & 0x0F);
        let token = rec.get(HEAD..HEAD.checked_add(tl)?)?;
        let tail = rec.get(HEAD.checked_add(tl)?..n)?;
        Some(Record {
            server,
            code,
            con: flags & 0x80 != 0,
            token,
            tail,
            next: at.checked_add(n)?,
        })
    }

    /// Removes the record at offset `at`; returns its server.
    pub fn remove(&mut self, at: usize) -> Option<u8> {
        let r = self.get(at)?;
        let (server, next) = (r.server, r.next);
        // Byte by byte (no panic path): the records after it move down.
        for src in next..self.len {
            let byte = self.buf.get(src).copied().unwrap_or(0);
            if let Some(d) = self.buf.get_mut(src - (next - at)) {
                *d = byte;
            }
        }
        self.len = self.len.checked_sub(next.checked_sub(at)?)?;
        Some(server)
    }

    /// Appends a record when there is room for it (false otherwise: nothing changes).
    pub fn push(&mut self, server: u8, code: u8, con: bool, token: &[u8], tail: &[u8]) -> bool {
        let tl = token.len().min(8);
        let n = HEAD + tl + tail.len();
        if n > self.buf.len() - self.len {
            return false;
        }
        let head = [
            n as u8,
            (n >> 8) as u8,
            server,
            code,
            tl as u8 | u8::from(con) << 7,
        ];
        let mut at = self.len;
        for part in [&head[..], token, tail] {
            for &b in part {
                if let Some(d) = self.buf.get_mut(at) {
                    *d = b;
                }
                at += 1;
            }
        }
        self.len = at;
        true
    }

    /// True when no record is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The records held for `server` (and, with a token, for that observation only), and
    /// the offset of the oldest of them.
    pub fn count(&self, server: u8, token: Option<&[u8]>) -> (usize, Option<usize>) {
        let (mut n, mut first, mut at) = (0, None, 0);
        while let Some(r) = self.get(at) {
            if r.server == server && token.map_or(true, |t| t == r.token) {
                n += 1;
                first = first.or(Some(at));
            }
            at = r.next;
        }
        (n, first)
    }
}

#[cfg(all(test, feature = "observe"))]
mod tests {
    use super::*;

    #[test]
    fn held_records_keep_their_order_and_leave_from_anywhere() {
        let mut h = Held::new();
        assert!(h.is_empty() && h.get(0).is_none());
        assert!(h.push(0, 0x45, false, &[1, 2], b"\x60\xff30"));
        assert!(h.push(1, 0x45, true, &[3], b"\xff31"));
        assert!(h.push(0, 0x84, false, &[1, 2], b""));
        let a = h.get(0).unwrap();
        assert_eq!(
            (a.server, a.code, a.con, a.token, a.tail),
            (0, 0x45, false, &[1, 2][..], &b"\x60\xff30"[..])
        );
        let b = h.get(a.next).unwrap();
        assert_eq!(
            (b.server, b.con, b.token, b.tail),
            (1, true, &[3][..], &b"\xff31"[..])
        );
        assert_eq!(h.count(0, None), (2, Some(0)));
        assert_eq!(h.count(0, Some(&[1, 2])), (2, Some(0)));
        assert_eq!(h.count(1, None), (1, Some(a.next)));
        assert_eq!(h.count(1, Some(&[9])), (0, None));
        // The middle one leaves: the last moves down, intact.
        assert_eq!(h.remove(a.next), Some(1));
        let c = h.get(h.get(0).unwrap().next).unwrap();
        assert_eq!(
            (c.server, c.code, c.token, c.tail),
            (0, 0x84, &[1, 2][..], &b""[..])
        );
        assert!(h.get(c.next).is_none());
        assert_eq!(h.remove(0), Some(0));
        assert_eq!(h.remove(0), Some(0));
        assert!(h.is_empty() && h.remove(0).is_none());
    }

    #[test]
    fn a_record_without_room_changes_nothing() {
        let mut h = Held::new();
        let big = [7u8; crate::config::NOTIFY_QUEUE_BYTES];
        assert!(!h.push(0, 0x45, false, &[1], &big));
        assert!(h.is_empty());
        let Some(fill) = crate::config::NOTIFY_QUEUE_BYTES.checked_sub(HEAD + 1) else {
            return;
        };
        assert!(h.push(0, 0x45, false, &[1], &big[..fill]));
        assert!(!h.push(0, 0x45, false, &[], &[]));
        assert_eq!(h.count(0, None), (1, Some(0)));
        assert_eq!(h.get(0).unwrap().tail.len(), fill);
    }
}
