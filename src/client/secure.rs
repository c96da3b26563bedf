//! Servers secured with the engine's own DTLS (feature `dtls`, Security mode 0: a
//! pre-shared key). [`Client::set_psk`] gives a server slot its identity and key (a
//! `coaps://` URI); once the platform opens its connection, the handshake's flights go out
//! before anything else for that server, registration waits for the handshake to end, and
//! every datagram to or from the server is then sealed and opened here. A handshake that
//! fails starts again (new random, new flight timers). With the `dtls-rpk` feature,
//! [`Client::set_rpk`] secures a server with raw public keys instead (Security mode 1).
//! The bootstrap server's slot takes either: its account keeps the keys, and its session
//! exists while its connection is open.

use super::{DropReason, Engine, Event, Platform};
use crate::config::MAX_MESSAGE_SIZE;
use crate::dtls::{Session, SessionKeys, RECORD_OVERHEAD};

/// A failed handshake starts again this long after it failed (a server that answers every
/// ClientHello with an alert is not flooded).
const RETRY_MS: u64 = 60_000;

/// The secured servers' links, one per session.
pub type Links = heapless::Vec<Link, { crate::config::MAX_DTLS_SESSIONS }>;

/// One secured server.
pub struct Link {
    server: u8,
    session: Session,
    /// When a failed handshake starts again (0: not failed, or not seen yet).
    retry_at: u64,
    /// Whether the session is being ended, and why.
    end: End,
}

/// The end of a session: a close_notify (when established) goes out first, then the
/// session is idle and keeps what the next handshake resumes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// In use.
    No,
    /// The server stopped answering: a new handshake follows at once.
    Restart,
    /// The engine released the connection: nothing until it opens again.
    Release,
    /// Released and closed.
    Released,
}

/// The buffer a datagram is sealed in (and opened in).
pub(super) const SEALED: usize = MAX_MESSAGE_SIZE + RECORD_OVERHEAD;

/// Why [`Client::set_psk`] refused.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum PskError {
    /// No such server slot.
    UnknownServer,
    /// Every session (`TERN_MAX_DTLS_SESSIONS`) is taken.
    NoSpace,
    /// The identity or the key is empty or longer than 64 bytes; a raw public key or
    /// private key that does not parse or is not on P-256.
    BadCredentials,
}

impl Engine {
    /// Secures server slot `server` with DTLS and a pre-shared key, replacing any it had.
    /// Call before its connection opens (before the first step).
    /// Server slot [`BOOTSTRAP_SLOT`](super::bootstrap::BOOTSTRAP_SLOT) is the bootstrap
    /// server's: its session exists while its connection is open, and one session is kept
    /// free for it.
    pub fn set_psk(&mut self, server: u8, identity: &[u8], key: &[u8]) -> Result<(), PskError> {
        #[cfg(feature = "bootstrap")]
        if server == super::bootstrap::BOOTSTRAP_SLOT {
            // Checked without a session: it is made when the connection opens.
            if !Session::psk_fits(identity, key) {
                return Err(PskError::BadCredentials);
            }
            let keys = super::security::Keys::from_parts(identity, &[], key)
                .ok_or(PskError::BadCredentials)?;
            return self.set_bootstrap_key(super::security::MODE_PSK, keys);
        }
        let keys = SessionKeys::psk(identity, key).map_err(|_| PskError::BadCredentials)?;
        self.secure_with(server, keys)
    }

    /// Secures DM server slot `server` with a session made from `keys`, replacing the one it
    /// had.
    fn secure_with(&mut self, server: u8, keys: SessionKeys) -> Result<(), PskError> {
        if self.servers.get(usize::from(server)).is_none() {
            return Err(PskError::UnknownServer);
        }
        if self.link(server).is_none() && self.free_sessions() == 0 {
            return Err(PskError::NoSpace);
        }
        if put_session(&mut self.dtls, server, keys) {
            Ok(())
        } else {
            Err(PskError::NoSpace)
        }
    }

    /// Secures server slot `server` with DTLS and raw public keys (Security mode 1, feature
    /// `dtls-rpk`): this client's P-256 `private_key` (Security resource 5: the raw 32
    /// bytes, SEC1 or PKCS#8 DER) and the server's `server_public_key` (resource 4: its
    /// SubjectPublicKeyInfo DER, the SEC1 point or X || Y), replacing what it had. Keys
    /// that do not parse give [`PskError::BadCredentials`]. Call before its connection opens.
    /// On [`BOOTSTRAP_SLOT`](super::bootstrap::BOOTSTRAP_SLOT) the bootstrap account takes
    /// them (Security mode 1, kept in their raw forms), as [`Client::set_psk`] does a key.
    #[cfg(feature = "dtls-rpk")]
    pub fn set_rpk(
        &mut self,
        server: u8,
        private_key: &[u8],
        server_public_key: &[u8],
    ) -> Result<(), PskError> {
        #[cfg(feature = "bootstrap")]
        if server == super::bootstrap::BOOTSTRAP_SLOT {
            let rpk = crate::dtls::RpkKeys::new(private_key, server_public_key)
                .map_err(|_| PskError::BadCredentials)?;
            let (private, server_key) = rpk.raw();
            let keys = super::security::Keys::from_parts(&[], server_key, private)
                .ok_or(PskError::BadCredentials)?;
            return self.set_bootstrap_key(super::security::MODE_RPK, keys);
        }
        if self.servers.get(usize::from(server)).is_none() {
            return Err(PskError::UnknownServer);
        }
        let keys = SessionKeys::rpk(private_key, server_public_key)
            .map_err(|_| PskError::BadCredentials)?;
        self.secure_with(server, keys)
    }

    /// Sessions a new secured server may take: the bootstrap account's is kept while it
    /// has keys and no session.
    fn free_sessions(&self) -> usize {
        let free = crate::config::MAX_DTLS_SESSIONS.saturating_sub(self.dtls.len());
        #[cfg(feature = "bootstrap")]
        if self.bootstrap.keys().is_some()
            && !self
                .dtls
                .iter()
                .any(|l| l.server == super::bootstrap::BOOTSTRAP_SLOT)
        {
            return free.saturating_sub(1);
        }
        free
    }

    /// The bootstrap account's keys for Security `mode` (checked by the caller), replacing
    /// those it had, when a session is left for it.
    #[cfg(feature = "bootstrap")]
    fn set_bootstrap_key(&mut self, mode: u8, keys: super::security::Keys) -> Result<(), PskError> {
        if self.bootstrap.keys().is_none() && self.free_sessions() == 0 {
            return Err(PskError::NoSpace);
        }
        if self.set_bootstrap_keys(mode, keys) {
            Ok(())
        } else {
            Err(PskError::UnknownServer)
        }
    }

    /// The bootstrap connection opened: a session for it when its account has keys (a
    /// pre-shared key, or raw public keys). False when there is no session free for it or
    /// the keys make none.
    #[cfg(feature = "bootstrap")]
    pub(super) fn secure_bootstrap(&mut self) -> bool {
        let slot = super::bootstrap::BOOTSTRAP_SLOT;
        self.unsecure(slot);
        let Some(account) = self.bootstrap.keys() else {
            return true;
        };
        // Without raw public keys, an account with keys is in PSK mode.
        #[cfg(not(feature = "dtls-rpk"))]
        let mode = super::security::MODE_PSK;
        #[cfg(feature = "dtls-rpk")]
        let mode = account.mode;
        let Some(keys) = keys_for(mode, &account.keys) else {
            return false;
        };
        put_session(&mut self.dtls, slot, keys)
    }

    /// Drops the session of `server`, if it has one.
    #[cfg(feature = "bootstrap")]
    pub(super) fn unsecure(&mut self, server: u8) {
        self.dtls.retain(|l| l.server != server);
    }

    /// True while `server`'s connection is open.
    fn slot_connected(&self, server: u8) -> bool {
        #[cfg(feature = "bootstrap")]
        if server == super::bootstrap::BOOTSTRAP_SLOT {
            return self.bootstrap_is_connected();
        }
        self.servers
            .get(usize::from(server))
            .is_some_and(|s| s.connected)
    }

    /// Gives a staged Security instance the mode and keys of the live server in `slot`, if
    /// it is secured (a Bootstrap-Write that leaves it alone keeps them).
    #[cfg(feature = "bootstrap")]
    pub(super) fn stage_psk(links: &[Link], slot: u8, sec: &mut super::security::Security) {
        let Some(link) = links.iter().find(|l| l.server == slot) else {
            return;
        };
        if let Some((mode, keys)) = link_keys(&link.session) {
            sec.mode = mode;
            sec.keys = keys;
        }
    }

    /// After a bootstrap: the servers whose Security instance is in PSK (or RPK) mode are
    /// secured with its keys, the others not (the Finish checked that they fit and parse).
    #[cfg(feature = "bootstrap")]
    pub(super) fn install_psks(&mut self) {
        // The bootstrap server's session stays: the Finish's response goes out on it.
        self.dtls
            .retain(|l| l.server == super::bootstrap::BOOTSTRAP_SLOT);
        for i in 0..self.servers.len() {
            let Some(server) = self.servers.get(i) else {
                break;
            };
            let keys = self
                .bootstrap
                .security
                .iter()
                .find(|s| !s.bootstrap && s.ssid == server.short_id)
                .and_then(|s| keys_for(s.mode, &s.keys));
            if let Some(keys) = keys {
                // No room: the server stays unsecured (the Finish checked there was).
                let _ = put_session(&mut self.dtls, super::slot_of(i), keys);
            }
        }
    }

    /// The Security mode and keys of a secured server, borrowed from its session: identity,
    /// server key and secret key, as a staged instance's resources 3, 4 and 5 hold them.
    #[cfg(all(feature = "bootstrap", feature = "persistence"))]
    pub(super) fn keys_of(&self, server: u8) -> Option<(u8, [&[u8]; 3])> {
        let link = self.dtls.iter().find(|l| l.server == server)?;
        session_keys(&link.session)
    }

    /// Secures a restored server with saved keys; false when they do not make a session.
    #[cfg(all(feature = "bootstrap", feature = "persistence"))]
    pub(super) fn restore_keys(
        &mut self,
        server: u8,
        mode: u8,
        keys: &super::security::Keys,
    ) -> bool {
        let Some(keys) = keys_for(mode, keys) else {
            return false;
        };
        self.secure_with(server, keys).is_ok()
    }

    fn link(&mut self, server: u8) -> Option<&mut Link> {
        self.dtls.iter_mut().find(|l| l.server == server)
    }

    /// True when `server` may exchange CoAP: not secured, or its handshake is over.
    pub(super) fn secure_ready(&self, server: u8) -> bool {
        self.dtls
            .iter()
            .find(|l| l.server == server)
            .map_or(true, |l| l.session.is_established())
    }

    /// A handshake flight due for a connected secured server, written to `tx`.
    pub(super) fn secure_poll(
        &mut self,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut super::Datagram,
    ) -> Option<(u8, usize)> {
        for i in 0..self.dtls.len() {
            let server = self.dtls.get(i)?.server;
            let connected = self.slot_connected(server);
            let link = self.dtls.get_mut(i)?;
            if let Some(len) = link.end(&mut *tx) {
                return Some((server, len));
            }
            if !connected || link.end == End::Released {
                continue;
            }
            if link.session.error().is_some() {
                // A failure's fatal alert goes out first.
                if let Some(len) = link.session.poll_transmit(now, &mut *tx) {
                    return Some((server, len));
                }
                if link.retry_at == 0 {
                    link.retry_at = now.saturating_add(RETRY_MS);
                    if let Some(error) = link.session.error() {
                        self.push_event(Event::HandshakeFailed { server, error });
                    }
                    continue;
                }
                if now < link.retry_at {
                    continue;
                }
            }
            if link.session.is_idle() || link.session.error().is_some() {
                link.retry_at = 0;
                // The client random, then (raw public keys) the ephemeral key's seed.
                #[cfg(not(feature = "dtls-rpk"))]
                let mut random = [0u8; 32];
                #[cfg(feature = "dtls-rpk")]
                let mut random = [0u8; 64];
                platform.random(&mut random);
                let (client_random, _seed) = random.split_at(32);
                link.session
                    .start(crate::dtls::array(Some(client_random)), now);
                #[cfg(feature = "dtls-rpk")]
                link.session.seed_ephemeral(crate::dtls::array(Some(_seed)));
            }
            if let Some(len) = link.session.poll_transmit(now, &mut *tx) {
                return Some((server, len));
            }
        }
        None
    }

    /// When a handshake next needs [`Client::secure_poll`].
    pub(super) fn secure_deadline(&self) -> Option<u64> {
        let mut next = None;
        for l in &self.dtls {
            if l.end == End::Released || !self.slot_connected(l.server) {
                continue;
            }
            let due = match l.session.error() {
                Some(_) => Some(l.retry_at),
                None => l.session.poll_timeout(),
            };
            next = match (next, due) {
                (Some(a), Some(b)) => Some(u64::min(a, b)),
                (a, b) => a.or(b),
            };
        }
        next
    }

    /// Seals `data` for `server` into `sealed` when the server is secured: `Some(Ok(len))`,
    /// `None` to send `data` as it is, `Some(Err(()))` when the server is secured but has no
    /// session to seal with (the datagram is dropped: never sent in the clear).
    pub(super) fn seal(
        links: &mut [Link],
        sealed: &mut [u8],
        server: u8,
        data: &[u8],
    ) -> Option<Result<usize, ()>> {
        let link = links.iter_mut().find(|l| l.server == server)?;
        Some(link.session.seal(data, sealed).map_err(|_| ()))
    }

    /// The engine releases `server`'s connection: its session ends (see [`End`]) before
    /// the platform closes the connection, as long as the caller sends what
    /// [`Client::poll_transmit`] gives before acting on [`Event::ConnectionDone`].
    pub(super) fn release_secure(&mut self, server: u8) {
        self.end_session(server, End::Release);
    }

    /// `server`'s connection opened (again): a released session may start a handshake (a
    /// close_notify not sent by then is not sent at all: its connection is gone).
    pub(super) fn reopen_secure(&mut self, server: u8) {
        let released = |l: &&mut Link| matches!(l.end, End::Release | End::Released);
        if let Some(link) = self.link(server).filter(released) {
            let _ = link.session.close(&mut []);
            link.end = End::No;
        }
    }

    /// A request to `server` went unanswered: a new handshake (resuming the session if
    /// the server still knows it) before the next one, in case the server lost its state
    /// or a NAT its binding.
    /// False when `server` is not secured.
    pub(super) fn restart_secure(&mut self, server: u8) -> bool {
        self.end_session(server, End::Restart)
    }

    fn end_session(&mut self, server: u8, end: End) -> bool {
        self.link(server).map(|l| l.end = end).is_some()
    }

    /// Opens a datagram from a secured `server` in place: `Some(Some(len))` for the
    /// application data it carried, moved to the front of `data`; `Some(None)` when it was
    /// for the handshake (or dropped); `None` when the server is not secured.
    pub(super) fn open(&mut self, server: u8, data: &mut [u8]) -> Option<Option<usize>> {
        let (opened, rejected) = open_in(&mut self.dtls, server, data)?;
        self.note_rejected(server, rejected);
        Some(opened)
    }

    /// Opens a datagram from a secured `server` too large for the client's buffer in the
    /// buffer datagrams are sealed in, as [`Engine::open`] does; the application data is
    /// copied to the front of `buf`.
    pub(super) fn open_large(
        &mut self,
        server: u8,
        data: &[u8],
        buf: &mut [u8],
    ) -> Option<Option<usize>> {
        let Some(sealed) = self.sealed.get_mut(..data.len()) else {
            // Larger than any record this client takes: dropped, never read in the clear.
            return self.link(server).map(|_| None);
        };
        sealed.copy_from_slice(data);
        let (opened, rejected) = open_in(&mut self.dtls, server, sealed)?;
        let copied = opened.and_then(|n| {
            let plain = sealed.get(..n)?;
            buf.get_mut(..n)?.copy_from_slice(plain);
            Some(n)
        });
        self.note_rejected(server, rejected);
        Some(copied)
    }

    fn note_rejected(&mut self, server: u8, rejected: bool) {
        if rejected {
            let reason = DropReason::Unauthenticated;
            self.push_event(Event::Dropped { server, reason });
        }
    }
}

/// Opens `data` with `server`'s session, in place: the application data's length (moved to
/// the front of `data`) if it carried any, and whether a record was rejected. `None` when
/// the server is not secured.
fn open_in(links: &mut [Link], server: u8, data: &mut [u8]) -> Option<(Option<usize>, bool)> {
    let session = &mut links.iter_mut().find(|l| l.server == server)?.session;
    let base = data.as_ptr() as usize;
    let before = session.rejected_records();
    let plain = session
        .handle_datagram(data)
        .map(|p| ((p.as_ptr() as usize).saturating_sub(base), p.len()));
    let rejected = session.rejected_records() != before;
    let opened = plain.and_then(|(start, n)| {
        let end = start.checked_add(n).filter(|&end| end <= data.len())?;
        data.copy_within(start..end, 0);
        Some(n)
    });
    Some((opened, rejected))
}

impl Link {
    fn new(server: u8, session: Session) -> Link {
        Link {
            server,
            session,
            retry_at: 0,
            end: End::No,
        }
    }

    /// Ends the session when asked: the close_notify's length when one was written to
    /// `out`.
    fn end(&mut self, out: &mut [u8]) -> Option<usize> {
        let next = match self.end {
            End::No | End::Released => return None,
            End::Restart => End::No,
            End::Release => End::Released,
        };
        self.end = next;
        self.session.close(out)
    }
}

/// Puts a session made from `keys` in `server`'s link, or in a new one; false when there is
/// no room. Not inlined: the session (over a kilobyte) is made in this frame, which the
/// parsing of the keys, done before, does not run under. The old link goes first, so that
/// the new one is written in one place only.
#[inline(never)]
fn put_session(links: &mut Links, server: u8, keys: SessionKeys<'_>) -> bool {
    let link = Link::new(server, Session::from_keys(keys));
    if let Some(i) = links.iter().position(|l| l.server == server) {
        links.swap_remove(i);
    }
    links.push(link).is_ok()
}

/// The credentials for an account in `mode` with `keys`: PSK (mode 0) or, with `dtls-rpk`,
/// raw public keys (mode 1); `None` for another mode or keys that do not parse. Not
/// inlined: its parsing runs under its caller's frame alone, not a session's.
#[cfg(feature = "bootstrap")]
#[inline(never)]
pub(super) fn keys_for(mode: u8, keys: &super::security::Keys) -> Option<SessionKeys<'_>> {
    match mode {
        super::security::MODE_PSK => SessionKeys::psk(&keys.identity, &keys.key).ok(),
        #[cfg(feature = "dtls-rpk")]
        super::security::MODE_RPK => SessionKeys::rpk(&keys.key, &keys.server_key).ok(),
        _ => None,
    }
}

/// The mode and keys a session was made with (raw public keys in their raw forms), as
/// resources 3, 4 and 5 of a Security instance hold them.
#[cfg(feature = "bootstrap")]
fn session_keys(session: &Session) -> Option<(u8, [&[u8]; 3])> {
    if let Some((identity, key)) = session.psk() {
        return Some((super::security::MODE_PSK, [identity, &[], key]));
    }
    #[cfg(feature = "dtls-rpk")]
    if let Some((private, server)) = session.rpk_keys() {
        return Some((super::security::MODE_RPK, [&[], server, private]));
    }
    None
}

/// The same, copied.
#[cfg(feature = "bootstrap")]
fn link_keys(session: &Session) -> Option<(u8, super::security::Keys)> {
    let (mode, [identity, server, key]) = session_keys(session)?;
    Some((
        mode,
        super::security::Keys::from_parts(identity, server, key)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Client, Config, Version};
    use crate::dtls::tests::{established_session, open_from_client, sealed_by_server};
    use crate::model::{Objects, Path};
    use std::vec::Vec;

    /// Random bytes, and no application object.
    struct Rng(u8, ());

    impl Platform for Rng {
        fn random(&mut self, out: &mut [u8]) {
            for b in out {
                self.0 = self.0.wrapping_mul(5).wrapping_add(1);
                *b = self.0;
            }
        }
        fn objects(&mut self) -> &mut dyn Objects {
            &mut self.1
        }
    }

    /// A client whose server (slot 0) is secured by an established session, registered
    /// at `rd/5`, and the server's side: the next record number it seals with.
    fn registered() -> (Client, Rng, u64) {
        let servers = [super::super::ServerConfig {
            uri: "coaps://192.0.2.1",
            short_id: 1,
            lifetime_s: 300,
        }];
        let config = Config {
            endpoint: "ep",
            version: Version::V1_1,
            update_margin_s: 10,
            servers: &servers,
        };
        let mut c = Client::new(&config, 7).unwrap();
        let mut p = Rng(3, ());
        secure(&mut c, 0, established_session());
        c.connection_opened(0);
        let register = sent(&mut c, &mut p, 0);
        assert_eq!(register.len(), 1, "one Register");
        let (t, epoch, coap) = open_from_client(&register[0]).expect("sealed");
        assert_eq!(
            (t, epoch, coap.get(1)),
            (23, 1, Some(&0x02)),
            "a POST, sealed"
        );
        c.handle_datagram(
            0,
            &sealed_by_server(23, 1, &ack(&coap, 0x41, b"\x82rd\x015")),
            1,
            &mut p,
        );
        let events: Vec<_> = core::iter::from_fn(|| c.poll_event()).collect();
        assert!(
            events.contains(&Event::Registered { server: 0 }),
            "{events:?}"
        );
        (c, p, 2)
    }

    /// Secures slot `server` with `session` (an established one, from the DTLS tests).
    fn secure(c: &mut Client, server: u8, session: Session) {
        c.dtls.retain(|l| l.server != server);
        assert!(c.dtls.push(Link::new(server, session)).is_ok());
    }

    /// Everything the client sends at `now`.
    fn sent(c: &mut Client, p: &mut Rng, now: u64) -> Vec<Vec<u8>> {
        core::iter::from_fn(|| c.poll_transmit(now, p).map(|t| t.data.to_vec()))
            .take(16)
            .collect()
    }

    /// The piggybacked response with `code` and raw `options` to CON request `req`.
    fn ack(req: &[u8], code: u8, options: &[u8]) -> Vec<u8> {
        let tkl = usize::from(req[0] & 0x0F);
        let mut r = vec![0x60 | req[0] & 0x0F, code, req[2], req[3]];
        r.extend_from_slice(&req[4..4 + tkl]);
        r.extend_from_slice(options);
        r
    }

    fn is_client_hello(d: &[u8]) -> bool {
        d.len() > 13 && d[0] == 22 && d[3..5] == [0, 0] && d[13] == 1
    }

    #[test]
    fn a_de_registration_ends_the_session_before_the_connection_closes() {
        let (mut c, mut p, seq) = registered();
        c.deregister();
        let delete = sent(&mut c, &mut p, 10);
        let (_, _, coap) = open_from_client(&delete[0]).expect("sealed");
        assert_eq!(coap.get(1), Some(&0x04), "a DELETE");
        c.handle_datagram(
            0,
            &sealed_by_server(23, seq, &ack(&coap, 0x42, b"")),
            11,
            &mut p,
        );
        // The close_notify goes out before the platform hears of ConnectionDone.
        let after = sent(&mut c, &mut p, 11);
        assert_eq!(after.len(), 1, "only the close_notify");
        assert_eq!(open_from_client(&after[0]), Some((21, 1, vec![1, 0])));
        let events: Vec<_> = core::iter::from_fn(|| c.poll_event()).collect();
        assert!(events.ends_with(&[
            Event::Deregistered { server: 0 },
            Event::ConnectionDone { server: 0 }
        ]));
        // Released: no handshake, no timer, until the connection opens again.
        assert_eq!(c.secure_deadline(), None);
        assert!(sent(&mut c, &mut p, 5_000).is_empty());
        c.connection_opened(0);
        let again = sent(&mut c, &mut p, 6_000);
        assert!(
            again.first().is_some_and(|d| is_client_hello(d)),
            "{again:?}"
        );
    }

    #[test]
    fn an_unanswered_update_restarts_the_handshake() {
        let (mut c, mut p, _) = registered();
        c.update(false);
        let mut now = 100;
        let mut restart = None;
        while now < 300_000 && restart.is_none() {
            let batch = sent(&mut c, &mut p, now);
            assert!(
                batch.iter().all(|d| matches!(d[0], 20..=23)),
                "DTLS records only"
            );
            if batch.iter().any(|d| d[0] == 21) {
                restart = Some((now, batch));
            }
            now += 500;
        }
        // CoAP gives up after MAX_TRANSMIT_WAIT (93 s at most; 45 s at least): the
        // close_notify, then at once a new ClientHello.
        let (at, batch) = restart.expect("a close_notify once the Update was given up");
        assert!((45_000..=93_500).contains(&at), "{at}");
        assert_eq!(open_from_client(&batch[0]), Some((21, 1, vec![1, 0])));
        assert!(
            batch.get(1).is_some_and(|d| is_client_hello(d)),
            "{batch:?}"
        );
    }

    #[test]
    fn a_record_larger_than_the_buffer_is_opened_in_the_sealing_buffer() {
        let (mut c, mut p, seq) = registered();
        // A Read of /1/0/1 padded with a payload: the CoAP message fits the buffer, its
        // record does not.
        let mut read = vec![
            0x42, 0x01, 0x12, 0x35, 0xAB, 0xCE, 0xB1, b'1', 0x01, b'0', 0x01, b'1', 0xFF,
        ];
        read.resize(crate::config::MAX_MESSAGE_SIZE - 8, b'x');
        let record = sealed_by_server(23, seq, &read);
        assert!(record.len() > crate::config::MAX_MESSAGE_SIZE);
        c.handle_datagram(0, &record, 20, &mut p);
        let answer = sent(&mut c, &mut p, 20);
        let (_, _, coap) = open_from_client(&answer[0]).expect("sealed");
        assert_eq!((coap[1], &coap[4..6]), (0x45, &[0xAB, 0xCE][..]), "2.05");
        // One larger than any record the client takes is dropped, never read in the
        // clear.
        read.resize(SEALED + 1, b'x');
        c.handle_datagram(0, &read, 30, &mut p);
        assert!(sent(&mut c, &mut p, 30).is_empty());
    }

    #[test]
    fn a_notification_waits_for_the_session_and_never_goes_in_the_clear() {
        let (mut c, mut p, seq) = registered();
        // The server observes the lifetime (/1/0/1).
        let observe = [
            0x42, 0x01, 0x12, 0x34, 0xAB, 0xCD, 0x60, 0x51, b'1', 0x01, b'0', 0x01, b'1',
        ];
        c.handle_datagram(0, &sealed_by_server(23, seq, &observe), 20, &mut p);
        let answer = sent(&mut c, &mut p, 20);
        let (_, _, coap) = open_from_client(&answer[0]).expect("sealed");
        assert_eq!(coap.get(1), Some(&0x45), "2.05 Content");
        c.restart_secure(0);
        let restarted = sent(&mut c, &mut p, 30);
        assert_eq!(open_from_client(&restarted[0]), Some((21, 1, vec![1, 0])));
        assert!(restarted.get(1).is_some_and(|d| is_client_hello(d)));
        // A notification due while the handshake runs waits for it: nothing in the clear,
        // and no deadline earlier than the handshake's flight timer.
        c.resource_changed(&Path::new(&[1, 0, 1]).unwrap());
        for now in [40, 1_100, 3_100] {
            for d in sent(&mut c, &mut p, now) {
                assert!(is_client_hello(&d), "only ClientHellos: {d:?}");
            }
            assert_eq!(c.poll_timeout(), c.secure_deadline(), "at {now}");
        }
        // The session is back: the notification goes, sealed.
        secure(&mut c, 0, established_session());
        let note = sent(&mut c, &mut p, 3_200);
        let (t, epoch, coap) = open_from_client(&note[0]).expect("sealed");
        assert_eq!((t, epoch), (23, 1));
        assert_eq!(
            (coap[1], &coap[4..6]),
            (0x45, &[0xAB, 0xCD][..]),
            "2.05 on the token"
        );
    }
}
