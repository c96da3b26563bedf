//! Queue mode (feature `queue-mode`; LwM2M 1.1 Core 6.4 and Transport 5.1): a server told
//! at Register that the client is in queue mode (`b=UQ` in 1.0, the `Q` parameter in 1.1)
//! holds its requests until the client shows up. The client stays awake, listening, for
//! the awake time after its last datagram with that server (by default
//! MAX_TRANSMIT_WAIT, 93 s), then sleeps: [`super::Event::Sleeping`] tells the application
//! it may stop listening (power the radio down) until the client next sends to that server
//! — the periodic Update, a Send, a notification — which [`super::Event::Awake`] announces
//! before the datagram goes out.

use super::{Client, Event};

/// MAX_TRANSMIT_WAIT (RFC 7252 section 4.8.2) in ms: the default awake time.
pub const DEFAULT_AWAKE_MS: u32 = 93_000;

/// Queue-mode state of one server.
#[derive(Clone, Copy, Default)]
pub struct Queue {
    /// Awake time in ms; 0 while queue mode is off.
    pub awake_ms: u32,
    /// Until when the client listens.
    awake_until: u64,
    /// The application was told the client sleeps.
    asleep: bool,
}

impl Queue {
    /// True while the client sleeps for this server.
    pub fn asleep(&self) -> bool {
        self.asleep
    }

    /// When the client falls asleep, if awake in queue mode.
    pub fn deadline(&self) -> Option<u64> {
        (self.awake_ms != 0 && !self.asleep).then_some(self.awake_until)
    }

    /// A datagram went to or came from the server at `now`: awake for the awake time from
    /// then; true when that wakes the client.
    pub fn activity(&mut self, now: u64) -> bool {
        self.awake_until = now.saturating_add(u64::from(self.awake_ms));
        core::mem::take(&mut self.asleep)
    }
}

impl Client {
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
            let due = s.queue.deadline().is_some_and(|t| now >= t);
            if idle && due && !(self.reply.unsent && self.reply.server == i) {
                s.queue.asleep = true;
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
            .is_some_and(|s| s.queue.activity(now));
        if woke {
            self.push_event(Event::Awake { server });
        }
    }
}
