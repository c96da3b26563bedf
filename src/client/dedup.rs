//! De-duplication of incoming confirmable and non-confirmable messages (RFC 7252 section 4.5).

use crate::config::DEDUP_ENTRIES;

/// How long a CON message id is remembered (EXCHANGE_LIFETIME).
pub const CON_LIFETIME_MS: u64 = 247_000;
/// How long a NON message id is remembered (NON_LIFETIME).
pub const NON_LIFETIME_MS: u64 = 145_000;

/// A slot; an expiry of 0 (never in the future) marks it free.
#[derive(Clone, Copy)]
struct Entry {
    server: u8,
    message_id: u16,
    expires: u64,
}

impl Entry {
    const FREE: Entry = Entry {
        server: 0,
        message_id: 0,
        expires: 0,
    };

    fn is(&self, server: u8, message_id: u16) -> bool {
        self.server == server && self.message_id == message_id
    }
}

/// Recently seen (server, message id) pairs. When full, the entry closest to expiry is
/// replaced: a bounded table that forgets early under a flood rather than growing.
///
/// Plain integers only: all-zero bytes are a valid, empty table (the client relies on this
/// to initialise it in place).
pub struct Dedup {
    entries: [Entry; DEDUP_ENTRIES],
}

impl Dedup {
    /// An empty table.
    pub const fn new() -> Self {
        Dedup {
            entries: [Entry::FREE; DEDUP_ENTRIES],
        }
    }

    /// True when the message was seen before and has not expired. Otherwise remembers it.
    pub fn seen(&mut self, server: u8, message_id: u16, confirmable: bool, now: u64) -> bool {
        if self.contains(server, message_id, now) {
            return true;
        }
        let life = if confirmable {
            CON_LIFETIME_MS
        } else {
            NON_LIFETIME_MS
        };
        // The entry closest to expiry: an expired or free one (expiry at most `now`) first
        // (none when every entry expires at the end of time: then nothing is remembered).
        let mut spare = Entry::FREE;
        let mut victim = &mut spare;
        let mut victim_expiry = u64::MAX;
        for e in self.entries.iter_mut() {
            if e.expires < victim_expiry {
                victim_expiry = e.expires;
                victim = e;
            }
        }
        *victim = Entry {
            server,
            message_id,
            expires: now.saturating_add(life),
        };
        false
    }

    /// True when the message was seen before and has not expired; remembers nothing.
    pub fn contains(&self, server: u8, message_id: u16, now: u64) -> bool {
        self.entries
            .iter()
            .any(|e| e.expires > now && e.is(server, message_id))
    }

    /// Forgets one message (it was dropped unanswered: its retransmission must be handled).
    pub fn forget(&mut self, server: u8, message_id: u16) {
        for e in self.entries.iter_mut() {
            if e.is(server, message_id) {
                e.expires = 0;
            }
        }
    }

    /// Forgets everything about one server (its connection was replaced).
    pub fn forget_server(&mut self, server: u8) {
        for e in self.entries.iter_mut() {
            if e.server == server {
                e.expires = 0;
            }
        }
    }
}

impl Default for Dedup {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_lifetime() {
        let mut d = Dedup::new();
        assert!(!d.seen(0, 5, true, 0));
        assert!(d.seen(0, 5, true, 1000));
        assert!(!d.seen(1, 5, true, 1000), "other server, other id space");
        assert!(!d.seen(0, 5, true, CON_LIFETIME_MS), "expired");
        assert!(!d.seen(0, 9, false, 0));
        assert!(d.seen(0, 9, false, NON_LIFETIME_MS - 1));
        assert!(!d.seen(0, 9, false, NON_LIFETIME_MS));
    }

    #[test]
    fn contains_and_forget() {
        let mut d = Dedup::new();
        assert!(!d.contains(0, 5, 0), "contains remembers nothing");
        assert!(!d.seen(0, 5, true, 0));
        assert!(!d.seen(0, 6, true, 0));
        assert!(d.contains(0, 5, 10));
        assert!(!d.contains(1, 5, 10));
        assert!(!d.contains(0, 5, CON_LIFETIME_MS));
        d.forget(0, 5);
        assert!(!d.contains(0, 5, 10));
        assert!(d.contains(0, 6, 10), "only the one message is forgotten");
    }

    #[test]
    fn full_table_evicts_oldest() {
        let mut d = Dedup::new();
        for mid in 0..DEDUP_ENTRIES as u16 {
            assert!(!d.seen(0, mid, true, u64::from(mid)));
        }
        assert!(!d.seen(0, 1000, true, 100));
        assert!(!d.seen(0, 0, true, 101), "oldest entry was evicted");
        assert!(d.seen(0, 1000, true, 102));
    }
}
