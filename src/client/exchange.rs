//! Outgoing confirmable requests: retransmission (RFC 7252 section 4.2) and response matching.
//!
//! The request bytes are not kept: each (re)transmission is encoded again from the client's
//! state with the same message id and token, which saves a message buffer per server.

/// ACK_TIMEOUT in milliseconds.
pub const ACK_TIMEOUT_MS: u64 = 2_000;
/// The spread of ACK_RANDOM_FACTOR (1.5) above ACK_TIMEOUT, in milliseconds.
pub const ACK_RANDOM_SPREAD_MS: u64 = 1_000;
/// MAX_RETRANSMIT.
pub const MAX_RETRANSMIT: u8 = 4;
/// EXCHANGE_LIFETIME in milliseconds (247 s).
pub const EXCHANGE_LIFETIME_MS: u64 = 247_000;
/// How long to wait for a separate response after an empty ACK.
pub const SEPARATE_RESPONSE_MS: u64 = EXCHANGE_LIFETIME_MS;

/// The token length the client uses for its requests.
pub const TOKEN_LEN: usize = 8;

/// What a pending request asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum RequestKind {
    /// Register (`POST /rd`).
    Register,
    /// Registration Update (`POST /rd/<location>`).
    Update,
    /// De-register (`DELETE /rd/<location>`).
    Deregister,
}

/// The outcome of a timer check on a pending exchange.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Timer {
    /// Nothing to do before the deadline.
    Wait,
    /// Send the request again (same message id and token).
    Retransmit,
    /// Retransmissions exhausted, or no separate response came: the request failed.
    GiveUp,
}

/// One confirmable request in flight (NSTART 1: at most one per server).
#[derive(Clone, Copy)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Exchange {
    /// What the request is.
    pub kind: RequestKind,
    /// Message id of every transmission.
    pub message_id: u16,
    /// Token of every transmission.
    pub token: [u8; TOKEN_LEN],
    /// Transmissions so far (0 before the first).
    transmissions: u8,
    /// The first transmission's timeout (ACK_TIMEOUT .. ACK_TIMEOUT * ACK_RANDOM_FACTOR),
    /// doubled for each retransmission.
    initial_ms: u16,
    /// When the timer fires.
    deadline: u64,
    /// An empty ACK arrived: the response comes separately, stop retransmitting.
    acked: bool,
}

impl Exchange {
    /// A new exchange; `jitter` (any value) picks the initial timeout in
    /// ACK_TIMEOUT .. ACK_TIMEOUT * ACK_RANDOM_FACTOR.
    pub fn new(kind: RequestKind, message_id: u16, token: [u8; TOKEN_LEN], jitter: u16) -> Self {
        Exchange {
            kind,
            message_id,
            token,
            transmissions: 0,
            // At most 2,999: fits.
            initial_ms: (ACK_TIMEOUT_MS + u64::from(jitter) % ACK_RANDOM_SPREAD_MS) as u16,
            deadline: 0,
            acked: false,
        }
    }

    /// True when the request still has to be sent for the first time.
    pub fn unsent(&self) -> bool {
        self.transmissions == 0
    }

    /// Records a transmission at `now` and arms the timer (doubled for each retransmission:
    /// at most 48 s, after `MAX_RETRANSMIT` doublings of 3 s).
    pub fn sent(&mut self, now: u64) {
        let doublings = self.transmissions.min(MAX_RETRANSMIT);
        self.transmissions = self.transmissions.saturating_add(1);
        let timeout = u32::from(self.initial_ms) << doublings;
        self.deadline = now.saturating_add(u64::from(timeout));
    }

    /// An empty ACK: wait for the separate response without retransmitting.
    pub fn acknowledged(&mut self, now: u64) {
        self.acked = true;
        self.deadline = now.saturating_add(SEPARATE_RESPONSE_MS);
    }

    /// When the exchange next needs attention (0 before the first transmission, which is
    /// due at once).
    pub fn deadline(&self) -> u64 {
        self.deadline
    }

    /// Checks the timer at `now`.
    pub fn check(&self, now: u64) -> Timer {
        if self.unsent() || now < self.deadline {
            Timer::Wait
        } else if self.acked || self.transmissions > MAX_RETRANSMIT {
            Timer::GiveUp
        } else {
            Timer::Retransmit
        }
    }

    /// True when `token` is this exchange's token.
    pub fn matches_token(&self, token: &[u8]) -> bool {
        token == self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_gives_up_after_max_retransmit() {
        let mut e = Exchange::new(RequestKind::Register, 7, [1; 8], 0);
        assert!(e.unsent());
        assert_eq!(e.deadline(), 0, "due at once");
        assert_eq!(e.check(0), Timer::Wait);
        let mut now = 0;
        let mut gaps = std::vec::Vec::new();
        e.sent(now);
        loop {
            let d = e.deadline();
            assert_eq!(e.check(d - 1), Timer::Wait);
            gaps.push(d - now);
            now = d;
            match e.check(now) {
                Timer::Retransmit => e.sent(now),
                Timer::GiveUp => break,
                Timer::Wait => unreachable!(),
            }
        }
        // 1 transmission + 4 retransmissions, timeouts 2, 4, 8, 16, 32 s.
        assert_eq!(gaps, [2000, 4000, 8000, 16000, 32000]);
    }

    #[test]
    fn jitter_stays_within_the_random_factor() {
        for j in [0u16, 1, 999, 1000, 65535] {
            let mut e = Exchange::new(RequestKind::Update, 1, [0; 8], j);
            e.sent(0);
            let d = e.deadline();
            assert!((2000..3000).contains(&d), "{d}");
        }
    }

    #[test]
    fn empty_ack_stops_retransmission() {
        let mut e = Exchange::new(RequestKind::Update, 1, [0; 8], 0);
        e.sent(0);
        e.acknowledged(100);
        assert_eq!(e.check(2_500), Timer::Wait);
        assert_eq!(e.check(100 + SEPARATE_RESPONSE_MS), Timer::GiveUp);
    }
}
