//! DTLS 1.2 (RFC 6347) client with TLS_PSK_WITH_AES_128_CCM_8 (RFC 6655, RFC 4279), as a
//! sans-IO state machine in the engine's style: [`Session::poll_transmit`] gives the next
//! datagram to send (a flight, or its retransmission when [`Session::poll_timeout`] has
//! passed), [`Session::handle_datagram`] takes what the server sent and hands back
//! decrypted application data, [`Session::seal`] protects application data. No heap: the
//! session is a fixed-size value, flights are rebuilt from it when they must be sent again.
//!
//! The handshake: ClientHello; HelloVerifyRequest and ClientHello with its cookie (when the
//! server asks); ServerHello, ServerKeyExchange (an identity hint, ignored), ServerHelloDone;
//! ClientKeyExchange (the identity), ChangeCipherSpec, Finished; the server's
//! ChangeCipherSpec and Finished. A server's handshake message may come in fragments
//! (RFC 6347 section 4.2.3): they are put back together in a fixed buffer
//! ([`MAX_HANDSHAKE_MESSAGE`] bytes; a longer message fails the session).
//!
//! Connection ID (RFC 9146): the ClientHello offers the `connection_id` extension with an
//! empty CID of the client's own (the server then sends ordinary records); when the
//! ServerHello gives a CID, every epoch-1 record this client sends is a `tls12_cid` record
//! carrying it, so that the server still finds the session after a NAT rebinding. A server
//! that does not echo the extension gets ordinary records.
//!
//! Session resumption (RFC 5246 section 7.3): after a full handshake the session keeps the
//! server's session id and the master secret; the next [`Session::start`] offers the id, and
//! a ServerHello that echoes it leads to the abbreviated handshake (the server's
//! ChangeCipherSpec and Finished first, then the client's). A failed handshake (other than
//! a timeout) forgets them.
//!
//! Renegotiation is refused: a HelloRequest after the handshake is answered with a warning
//! alert `no_renegotiation` and the session goes on.
//!
//! With the `dtls-rpk` feature, a session may hold raw public keys (RFC 7250) instead and
//! use TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (RFC 7251) on P-256: see `rpk.rs`
//! ([`Session::idle_rpk`]).

mod ccm;
mod prf;
mod reassembly;
mod record;
#[cfg(feature = "dtls-rpk")]
mod rpk;
mod sha256;

#[cfg(feature = "dtls-rpk")]
pub use rpk::{RpkKeys, ECDHE_ECDSA_WITH_AES_128_CCM_8};

use heapless::Vec;
use sha256::Sha256;

use crate::buf::{NoSpace, Writer};
use reassembly::{Fragment, Reassembly, Refused};
use record::{Keys, Window};

/// TLS_PSK_WITH_AES_128_CCM_8.
pub const PSK_WITH_AES_128_CCM_8: u16 = 0xC0A8;
/// The longest PSK identity and key a session holds.
pub const MAX_PSK_IDENTITY_LEN: usize = 64;
pub const MAX_PSK_LEN: usize = 64;
/// The longest cookie a HelloVerifyRequest may carry (RFC 6347 allows 255).
pub const MAX_COOKIE_LEN: usize = 255;
/// The longest session id (RFC 5246 section 7.4.1.2).
const MAX_SESSION_ID: usize = 32;
/// Bytes of the ClientHello's extensions, at most.
const MAX_EXTENSIONS: usize = 96;
/// The longest ClientHello (header, version, random, session id, cookie, one suite, the
/// null compression, extensions).
const MAX_CLIENT_HELLO: usize =
    HS_HEADER + 2 + 32 + 1 + MAX_SESSION_ID + 1 + MAX_COOKIE_LEN + 4 + 2 + 2 + MAX_EXTENSIONS;
/// What protection adds to a datagram of application data: header, the peer's CID, explicit
/// nonce and tag, and the real content type of a `tls12_cid` record.
pub const RECORD_OVERHEAD: usize = record::HEADER + record::MAX_CID + record::OVERHEAD + 1;
/// The longest CID a server may give this client (RFC 9146 allows 255; a longer one fails
/// the handshake).
pub const MAX_CID_LEN: usize = record::MAX_CID;
/// The longest handshake message taken in fragments.
pub const MAX_HANDSHAKE_MESSAGE: usize = reassembly::MAX_MESSAGE;

/// Initial retransmission timeout (RFC 6347 section 4.2.4.1), doubled up to the maximum.
const INITIAL_TIMEOUT_MS: u32 = 1_000;
const MAX_TIMEOUT_MS: u32 = 60_000;
/// Sends of a flight before the handshake fails.
const MAX_SENDS: u8 = 7;
/// HelloVerifyRequests taken in one handshake before it fails: a server that answers every
/// ClientHello with a new cookie must not keep the client going round.
const MAX_HELLO_VERIFY_REQUESTS: u8 = MAX_SENDS;

/// The `connection_id` extension (RFC 9146 section 3).
const EXT_CONNECTION_ID: u16 = 54;
/// Alerts (RFC 5246 section 7.2): a warning, no_renegotiation.
const ALERT_WARNING: u8 = 1;
const NO_RENEGOTIATION: u8 = 100;
const CLOSE_NOTIFY: u8 = 0;

// Handshake message types (RFC 5246 section 7.4, RFC 6347 section 4.3.2).
const HELLO_REQUEST: u8 = 0;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const HELLO_VERIFY_REQUEST: u8 = 3;
const SERVER_KEY_EXCHANGE: u8 = 12;
const SERVER_HELLO_DONE: u8 = 14;
const CLIENT_KEY_EXCHANGE: u8 = 16;
const FINISHED: u8 = 20;
/// Bytes of a DTLS handshake message header.
const HS_HEADER: usize = 12;
/// Bytes of the longest of the client's messages before its ChangeCipherSpec.
const MAX_CLIENT_MESSAGE: usize = 128;
const _: () = assert!(HS_HEADER + 2 + MAX_PSK_IDENTITY_LEN <= MAX_CLIENT_MESSAGE);

/// Why a session failed; it stays failed (start a new one).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// The server sent a fatal alert (its description).
    Alert(u8),
    /// The server chose what this client did not offer, or broke the protocol.
    Protocol,
    /// The server's Finished did not verify: not the same key.
    BadFinished,
    /// No answer after every retransmission.
    Timeout,
    /// The identity or the key is empty or too long; a raw public key or a private key
    /// that does not parse or is not on P-256.
    BadCredentials,
    /// A server handshake message longer than [`MAX_HANDSHAKE_MESSAGE`] came in fragments.
    MessageTooLong,
    /// The server answered ClientHello after ClientHello with a HelloVerifyRequest.
    TooManyHelloVerifyRequests,
    /// The server's raw public key is not the configured one (a bad_certificate alert is
    /// sent).
    BadServerKey,
    /// The server's ServerKeyExchange signature does not verify (a decrypt_error alert is
    /// sent).
    BadSignature,
}

/// What a session authenticates with: a pre-shared key, or raw public keys.
enum Credentials {
    /// The identity and the key (TLS_PSK_WITH_AES_128_CCM_8).
    Psk {
        identity: Vec<u8, MAX_PSK_IDENTITY_LEN>,
        key: Vec<u8, MAX_PSK_LEN>,
    },
    /// The keys and the handshake's state (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8).
    #[cfg(feature = "dtls-rpk")]
    Rpk(rpk::RpkState),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Credentials set; no handshake yet ([`Session::start`]).
    Idle,
    /// ClientHello sent (with a cookie once one came); waiting for the server's hello.
    Hello,
    /// ServerHello taken; waiting for the rest of the server's flight.
    ServerHello,
    /// The key exchange and Finished sent; waiting for the server's Finished.
    Finishing,
    /// The server resumes the session: waiting for its ChangeCipherSpec and Finished.
    Resuming,
    Established,
    Failed(Error),
}

/// One DTLS session with one server.
pub struct Session {
    state: State,
    credentials: Credentials,
    /// A fatal alert to send once the session failed (its description; 0: none): raw
    /// public keys only.
    #[cfg(feature = "dtls-rpk")]
    alert: u8,
    client_random: [u8; 32],
    server_random: [u8; 32],
    cookie: Vec<u8, MAX_COOKIE_LEN>,
    /// Handshake messages so far (from the ClientHello the server answered).
    transcript: Sha256,
    master: [u8; 48],
    client_keys: Keys,
    server_keys: Keys,
    /// message_seq of our current ClientHello (0, or 1 after a HelloVerifyRequest).
    hello_seq: u16,
    /// The next handshake message expected from the server.
    next_receive_seq: u16,
    /// Our record sequence number in epochs 0 and 1.
    send_seq: [u64; 2],
    window: Window,
    /// Records dropped because they did not authenticate, were replayed or belong to no
    /// epoch of the session (a count that wraps).
    rejected: u16,
    /// The current flight must be sent (first time or retransmission).
    send_flight: bool,
    retransmit_at: u64,
    timeout_ms: u32,
    sends: u8,
    /// HelloVerifyRequests taken in this handshake.
    hello_verifies: u8,
    /// The CID the server asked for in its ServerHello (empty: none, send ordinary records).
    peer_cid: Vec<u8, MAX_CID_LEN>,
    /// A no_renegotiation warning to send.
    refuse_renegotiation: bool,
    /// The fragments of the next handshake message.
    reassembly: Reassembly,
    /// The session id: the one offered, then the one the server gave.
    session_id: Vec<u8, MAX_SESSION_ID>,
    /// `session_id` and `master` belong to a finished handshake: the next start offers them.
    resumable: bool,
    /// This handshake resumes a session (the abbreviated flow).
    resumed: bool,
    /// The client's ChangeCipherSpec and Finished of an abbreviated handshake are to be sent
    /// (once, and again each time the server's Finished comes again).
    final_flight: bool,
}

/// A session's credentials, checked and parsed, to make a session from
/// ([`Session::from_keys`]). Parsing raw public keys runs deep and a session takes over a
/// kilobyte: done one after the other, their stack needs do not add up. A pre-shared key is
/// borrowed until the session copies it.
pub struct SessionKeys<'a>(Given<'a>);

enum Given<'a> {
    Psk {
        identity: &'a [u8],
        key: &'a [u8],
    },
    #[cfg(feature = "dtls-rpk")]
    Rpk(rpk::RpkKeys),
}

impl<'a> SessionKeys<'a> {
    /// A pre-shared key and its identity (see [`Session::psk_fits`]).
    pub fn psk(identity: &'a [u8], key: &'a [u8]) -> Result<Self, Error> {
        if !Session::psk_fits(identity, key) {
            return Err(Error::BadCredentials);
        }
        Ok(SessionKeys(Given::Psk { identity, key }))
    }
}

/// A cursor over a received message.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes(b.try_into().ok()?))
    }
    fn u24(&mut self) -> Option<usize> {
        let b = self.take(3)?;
        Some(b.iter().fold(0usize, |a, x| (a << 8) | usize::from(*x)))
    }
    /// A vector with a one-byte length.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
}

impl Session {
    /// A session that starts its handshake at the next [`Session::poll_transmit`].
    /// `random` is the client random (32 bytes from the platform's random source).
    pub fn new(identity: &[u8], psk: &[u8], random: [u8; 32], now: u64) -> Result<Session, Error> {
        let mut s = Session::idle(identity, psk)?;
        s.start(random, now);
        Ok(s)
    }

    /// A session holding its credentials, to be started with [`Session::start`].
    pub fn idle(identity: &[u8], psk: &[u8]) -> Result<Session, Error> {
        Ok(Session::from_keys(SessionKeys::psk(identity, psk)?))
    }

    /// An idle session with credentials checked and parsed beforehand.
    pub fn from_keys(keys: SessionKeys<'_>) -> Session {
        Session::with(match keys.0 {
            Given::Psk { identity, key } => {
                let (mut i, mut k) = (Vec::new(), Vec::new());
                // Their lengths were checked: these copies cannot fail.
                let _ = (i.extend_from_slice(identity), k.extend_from_slice(key));
                Credentials::Psk {
                    identity: i,
                    key: k,
                }
            }
            #[cfg(feature = "dtls-rpk")]
            Given::Rpk(keys) => Credentials::Rpk(rpk::RpkState::new(keys)),
        })
    }

    /// True when [`Session::idle`] takes `identity` and `psk`: neither empty nor longer
    /// than [`MAX_PSK_IDENTITY_LEN`] and [`MAX_PSK_LEN`].
    pub fn psk_fits(identity: &[u8], psk: &[u8]) -> bool {
        let fits = |v: &[u8], max: usize| !v.is_empty() && v.len() <= max;
        fits(identity, MAX_PSK_IDENTITY_LEN) && fits(psk, MAX_PSK_LEN)
    }

    fn with(credentials: Credentials) -> Session {
        Session {
            state: State::Idle,
            credentials,
            #[cfg(feature = "dtls-rpk")]
            alert: 0,
            client_random: [0; 32],
            server_random: [0; 32],
            cookie: Vec::new(),
            transcript: Sha256::new(),
            master: [0; 48],
            client_keys: Keys::default(),
            server_keys: Keys::default(),
            hello_seq: 0,
            next_receive_seq: 0,
            send_seq: [0; 2],
            window: Window::default(),
            rejected: 0,
            send_flight: false,
            retransmit_at: 0,
            timeout_ms: INITIAL_TIMEOUT_MS,
            sends: 0,
            hello_verifies: 0,
            peer_cid: Vec::new(),
            refuse_renegotiation: false,
            reassembly: Reassembly::default(),
            session_id: Vec::new(),
            resumable: false,
            resumed: false,
            final_flight: false,
        }
    }

    /// (Re)starts the handshake with a new client random: everything but the credentials
    /// and a resumable session (offered in the ClientHello) is forgotten. A handshake that
    /// failed for another reason than a timeout leaves nothing to resume.
    pub fn start(&mut self, random: [u8; 32], now: u64) {
        if matches!(self.state, State::Failed(e) if !matches!(e, Error::Timeout)) {
            self.resumable = false;
        }
        if !self.resumable {
            self.session_id.clear();
        }
        self.resumed = false;
        self.final_flight = false;
        self.state = State::Hello;
        self.client_random = random;
        self.cookie.clear();
        self.transcript = Sha256::new();
        self.hello_seq = 0;
        self.next_receive_seq = 0;
        self.send_seq = [0; 2];
        self.window = Window::default();
        self.hello_verifies = 0;
        self.peer_cid.clear();
        self.refuse_renegotiation = false;
        self.reassembly.clear();
        #[cfg(feature = "dtls-rpk")]
        {
            self.alert = 0;
        }
        #[cfg(feature = "dtls-rpk")]
        if let Credentials::Rpk(r) = &mut self.credentials {
            r.restart();
        }
        self.next_flight();
        self.retransmit_at = now;
    }

    /// The cipher suite the credentials call for.
    fn suite(&self) -> u16 {
        match self.credentials {
            Credentials::Psk { .. } => PSK_WITH_AES_128_CCM_8,
            #[cfg(feature = "dtls-rpk")]
            Credentials::Rpk(_) => ECDHE_ECDSA_WITH_AES_128_CCM_8,
        }
    }

    /// Fails the session (with an alert to send for the server's wrong key or signature).
    fn fail(&mut self, e: Error) {
        self.state = State::Failed(e);
        #[cfg(feature = "dtls-rpk")]
        {
            self.alert = match e {
                Error::BadServerKey => rpk::BAD_CERTIFICATE,
                Error::BadSignature => rpk::DECRYPT_ERROR,
                _ => 0,
            };
        }
    }

    /// The fatal alert of a failed session, once, into `out`.
    #[cfg(feature = "dtls-rpk")]
    fn write_alert(&mut self, out: &mut [u8]) -> Option<usize> {
        let description = core::mem::take(&mut self.alert);
        if description == 0 {
            return None;
        }
        let mut w = Writer::new(out);
        self.plain_record(&mut w, record::ALERT, &[2, description])
            .ok()?;
        Some(w.len())
    }

    /// True when the handshake resumed an earlier session (the abbreviated flow).
    pub fn is_resumed(&self) -> bool {
        self.resumed
    }

    /// Ends the session: an established one with a close_notify alert written to `out` (its
    /// length), a handshake in progress without a word. The session becomes idle, keeping
    /// what a later [`Session::start`] resumes; a failed one stays failed.
    pub fn close(&mut self, out: &mut [u8]) -> Option<usize> {
        match self.state {
            State::Failed(_) | State::Idle => None,
            State::Established => {
                let n = self.alert(out, CLOSE_NOTIFY);
                self.state = State::Idle;
                n
            }
            _ => {
                self.state = State::Idle;
                None
            }
        }
    }

    /// A warning alert with `description`, protected, into `out`.
    fn alert(&mut self, out: &mut [u8], description: u8) -> Option<usize> {
        let mut w = Writer::new(out);
        self.protected_record(&mut w, record::ALERT, &[ALERT_WARNING, description])
            .ok()?;
        Some(w.len())
    }

    /// `body` as one record of `content_type` in epoch 0 (in the clear).
    fn plain_record(
        &mut self,
        w: &mut Writer<'_>,
        content_type: u8,
        body: &[u8],
    ) -> Result<(), NoSpace> {
        let seq = self.next_send_seq(0);
        record::write_header(w, content_type, 0, seq, body.len())?;
        w.put(body)
    }

    /// `body` as one record of `content_type` in epoch 1, protected.
    fn protected_record(
        &mut self,
        w: &mut Writer<'_>,
        content_type: u8,
        body: &[u8],
    ) -> Result<(), NoSpace> {
        let seq = self.next_send_seq(1);
        self.client_keys
            .seal(w, content_type, 1, seq, &self.peer_cid, body)
    }

    /// The CID the server gave for the records this client sends, when it gave a non-empty
    /// one (RFC 9146).
    pub fn peer_cid(&self) -> Option<&[u8]> {
        (!self.peer_cid.is_empty()).then_some(self.peer_cid.as_slice())
    }

    /// The identity and the key the session was given (`None` with raw public keys).
    pub fn psk(&self) -> Option<(&[u8], &[u8])> {
        match &self.credentials {
            Credentials::Psk { identity, key } => Some((identity, key)),
            #[cfg(feature = "dtls-rpk")]
            Credentials::Rpk(_) => None,
        }
    }

    /// How many records were dropped for not authenticating, being replayed or belonging
    /// to no epoch of the session (wraps): what a caller compares across
    /// [`Session::handle_datagram`] to report forged traffic.
    pub fn rejected_records(&self) -> u16 {
        self.rejected
    }

    /// A number for an application to log or show: the server's alert description (0 to
    /// 255), or 256 and up for the other reasons, in the order of [`Error`]'s variants.
    pub fn error_code(e: Error) -> u16 {
        match e {
            Error::Alert(d) => u16::from(d),
            Error::Protocol => 256,
            Error::BadFinished => 257,
            Error::Timeout => 258,
            Error::BadCredentials => 259,
            Error::MessageTooLong => 260,
            Error::TooManyHelloVerifyRequests => 261,
            Error::BadServerKey => 262,
            Error::BadSignature => 263,
        }
    }

    /// True before [`Session::start`].
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    /// True once the handshake is over and application data may flow.
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Why the session failed, if it did.
    pub fn error(&self) -> Option<Error> {
        match self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// When the session next needs [`Session::poll_transmit`]: a flight to send or to send
    /// again, an alert refusing a renegotiation, or a failure's fatal alert. `None` when
    /// there is nothing to send.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            #[cfg(feature = "dtls-rpk")]
            State::Failed(_) if self.alert != 0 => Some(0),
            State::Hello | State::ServerHello | State::Finishing | State::Resuming => {
                Some(if self.send_flight {
                    0
                } else {
                    self.retransmit_at
                })
            }
            State::Established if self.refuse_renegotiation || self.final_flight => Some(0),
            _ => None,
        }
    }

    /// The next handshake datagram to send at `now`, written to `out`: its length, or
    /// `None` when nothing is due. A flight unanswered after the last retransmission fails
    /// the session ([`Error::Timeout`]).
    pub fn poll_transmit(&mut self, now: u64, out: &mut [u8]) -> Option<usize> {
        #[cfg(feature = "dtls-rpk")]
        if let State::Failed(_) = self.state {
            return self.write_alert(out);
        }
        if self.state == State::Established && self.final_flight {
            let mut w = Writer::new(out);
            self.write_change_cipher_and_finished(&mut w, self.hello_seq.wrapping_add(1))
                .ok()?;
            self.final_flight = false;
            return Some(w.len());
        }
        if self.state == State::Established && self.refuse_renegotiation {
            let n = self.alert(out, NO_RENEGOTIATION)?;
            self.refuse_renegotiation = false;
            return Some(n);
        }
        if !matches!(
            self.state,
            State::Hello | State::ServerHello | State::Finishing | State::Resuming
        ) {
            return None;
        }
        if !self.send_flight && now < self.retransmit_at {
            return None;
        }
        if self.sends >= MAX_SENDS {
            self.state = State::Failed(Error::Timeout);
            return None;
        }
        if !self.send_flight {
            // RFC 6347 section 4.2.4: double the timer at each retransmission.
            self.timeout_ms = self.timeout_ms.saturating_mul(2).min(MAX_TIMEOUT_MS);
        }
        let mut w = Writer::new(out);
        let written = match self.state {
            State::Hello | State::ServerHello | State::Resuming => self.write_hello_flight(&mut w),
            _ => self.write_finished_flight(&mut w),
        };
        written.ok()?;
        self.send_flight = false;
        self.sends = self.sends.saturating_add(1);
        self.retransmit_at = now.saturating_add(u64::from(self.timeout_ms));
        Some(w.len())
    }

    /// Starts a new flight: sent at the next poll, with a fresh timer.
    fn next_flight(&mut self) {
        self.send_flight = true;
        self.sends = 0;
        self.timeout_ms = INITIAL_TIMEOUT_MS;
    }

    fn next_send_seq(&mut self, epoch: u16) -> u64 {
        let Some(slot) = self.send_seq.get_mut(usize::from(epoch != 0)) else {
            return 0;
        };
        let seq = *slot;
        *slot = slot.saturating_add(1);
        seq
    }

    /// The ClientHello as a handshake message (header included) into `msg`: its length.
    /// The body is written first, the header and the extensions' length once they are known.
    fn client_hello(&self, msg: &mut [u8]) -> Result<usize, NoSpace> {
        let (header, body) = msg.split_at_mut_checked(HS_HEADER).ok_or(NoSpace)?;
        let mut w = Writer::new(body);
        let session_id_len = u8::try_from(self.session_id.len()).map_err(|_| NoSpace)?;
        let cookie_len = u8::try_from(self.cookie.len()).map_err(|_| NoSpace)?;
        // version, random, session id, cookie, suites, compression, extensions.
        w.put(&record::VERSION)?;
        w.put(&self.client_random)?;
        w.put_u8(session_id_len)?;
        w.put(&self.session_id)?;
        w.put_u8(cookie_len)?;
        w.put(&self.cookie)?;
        let [s0, s1] = self.suite().to_be_bytes();
        // One suite; the null compression method; the extensions' length, set below.
        w.put(&[0, 2, s0, s1, 1, 0, 0, 0])?;
        let extensions = w.len();
        self.write_cid_extension(&mut w)?;
        #[cfg(feature = "dtls-rpk")]
        self.write_rpk_extensions(&mut w)?;
        let body_len = w.len();
        let ext_len = u16::try_from(body_len.saturating_sub(extensions)).map_err(|_| NoSpace)?;
        let at = extensions.checked_sub(2).ok_or(NoSpace)?;
        w.written_mut()
            .get_mut(at..extensions)
            .ok_or(NoSpace)?
            .copy_from_slice(&ext_len.to_be_bytes());
        handshake_header(
            &mut Writer::new(header),
            CLIENT_HELLO,
            self.hello_seq,
            body_len,
        )?;
        Ok(HS_HEADER + body_len)
    }

    /// The `connection_id` extension (RFC 9146 section 3) with this client's own CID:
    /// empty, the server sends ordinary records to it and this client sends with the CID
    /// the server gives.
    fn write_cid_extension(&self, w: &mut Writer<'_>) -> Result<(), NoSpace> {
        w.put(&EXT_CONNECTION_ID.to_be_bytes())?;
        w.put(&1u16.to_be_bytes())?; // extension_data: ConnectionId
        w.put_u8(0) // cid<0..255>: empty
    }

    /// The ClientHello in a record. Until the server's hello comes, the transcript holds
    /// the ClientHello last sent: the one a ServerHello answers.
    fn write_hello_flight(&mut self, w: &mut Writer<'_>) -> Result<(), NoSpace> {
        let mut msg = [0u8; MAX_CLIENT_HELLO];
        let n = self.client_hello(&mut msg)?;
        let hello = msg.get(..n).ok_or(NoSpace)?;
        if self.state == State::Hello {
            self.transcript = Sha256::new();
            self.transcript.update(hello);
        }
        self.plain_record(w, record::HANDSHAKE, hello)
    }

    /// The client's messages (the ClientKeyExchange, with raw public keys also the
    /// Certificate and CertificateVerify when asked for), each a record in epoch 0,
    /// ChangeCipherSpec (epoch 0), Finished (epoch 1).
    fn write_finished_flight(&mut self, w: &mut Writer<'_>) -> Result<(), NoSpace> {
        for n in 0..self.client_messages() {
            let mut msg = [0u8; MAX_CLIENT_MESSAGE];
            let mut mw = Writer::new(&mut msg);
            self.client_message(n, &mut mw)?;
            self.plain_record(w, record::HANDSHAKE, mw.written())?;
        }
        self.write_change_cipher_and_finished(w, self.client_finished_seq())
    }

    /// ChangeCipherSpec (epoch 0) and the client's Finished (epoch 1) with `msg_seq`.
    fn write_change_cipher_and_finished(
        &mut self,
        w: &mut Writer<'_>,
        msg_seq: u16,
    ) -> Result<(), NoSpace> {
        self.plain_record(w, record::CHANGE_CIPHER_SPEC, &[1])?;
        let finished = self.finished_message(b"client finished", msg_seq)?;
        self.protected_record(w, record::HANDSHAKE, &finished)
    }

    /// How many messages the client sends before its ChangeCipherSpec.
    fn client_messages(&self) -> u8 {
        match &self.credentials {
            Credentials::Psk { .. } => 1,
            #[cfg(feature = "dtls-rpk")]
            Credentials::Rpk(r) => r.client_messages(),
        }
    }

    /// The message_seq of the client's Finished in a full handshake.
    fn client_finished_seq(&self) -> u16 {
        self.hello_seq
            .wrapping_add(u16::from(self.client_messages()))
            .wrapping_add(1)
    }

    /// The `n`th message the client sends before its ChangeCipherSpec into `w`; with a
    /// PSK, the ClientKeyExchange (the identity).
    fn client_message(&self, n: u8, w: &mut Writer<'_>) -> Result<(), NoSpace> {
        let seq = self.hello_seq.wrapping_add(u16::from(n)).wrapping_add(1);
        match &self.credentials {
            Credentials::Psk { identity, .. } => {
                handshake_header(w, CLIENT_KEY_EXCHANGE, seq, 2 + identity.len())?;
                w.put(&(identity.len() as u16).to_be_bytes())?;
                w.put(identity)
            }
            #[cfg(feature = "dtls-rpk")]
            Credentials::Rpk(r) => r.client_message(n, seq, w),
        }
    }

    /// Adds the client's messages before its ChangeCipherSpec to the transcript.
    fn client_flight_transcript(&mut self) -> Result<(), Error> {
        #[cfg(feature = "dtls-rpk")]
        if self.is_rpk() {
            return self.rpk_client_flight();
        }
        let mut m = [0u8; MAX_CLIENT_MESSAGE];
        let mut mw = Writer::new(&mut m);
        self.client_message(0, &mut mw)
            .map_err(|_| Error::Protocol)?;
        self.transcript.update(mw.written());
        Ok(())
    }

    /// A Finished message: PRF(master, label, transcript hash)[..12]. The client's is
    /// computed once, before it enters the transcript, and kept for retransmissions.
    fn finished_message(
        &self,
        label: &[u8],
        msg_seq: u16,
    ) -> Result<[u8; HS_HEADER + 12], NoSpace> {
        let mut m = [0u8; HS_HEADER + 12];
        let mut w = Writer::new(&mut m);
        handshake_header(&mut w, FINISHED, msg_seq, 12)?;
        let hash = self.finished_transcript(label);
        let mut verify = [0u8; 12];
        prf::prf(&self.master, label, &hash, &[], &mut verify);
        w.put(&verify)?;
        Ok(m)
    }

    /// The transcript hash a Finished with `label` covers: in a full handshake the client's
    /// covers everything up to its ClientKeyExchange, the server's also the client's
    /// Finished; in an abbreviated one the transcript is kept up to date as it goes.
    fn finished_transcript(&self, label: &[u8]) -> [u8; 32] {
        let mut t = self.transcript.clone();
        if label == b"server finished" && !self.resumed {
            if let Ok(m) = self.finished_message(b"client finished", self.client_finished_seq()) {
                t.update(&m);
            }
        }
        t.finalize()
    }

    /// Takes a datagram from the server (decrypting in place); returns the application
    /// data it carried, if any. Records that do not parse, authenticate or belong are
    /// dropped silently, as RFC 6347 section 4.1.2.7 says; a fatal alert or a protocol
    /// violation fails the session.
    // Not inlined: its frame (the handshake's) would lie under every request's.
    #[inline(never)]
    pub fn handle_datagram<'a>(&mut self, datagram: &'a mut [u8]) -> Option<&'a mut [u8]> {
        let mut rest = datagram;
        let mut data = None;
        while let Some((rec, tail)) = record::split(rest) {
            rest = tail;
            if let Some(d) = self.handle_record(rec) {
                data = Some(d);
            }
            if matches!(self.state, State::Failed(_)) {
                return None;
            }
        }
        data
    }

    fn handle_record<'a>(&mut self, rec: record::Record<'a>) -> Option<&'a mut [u8]> {
        let epoch = rec.epoch;
        let (content_type, plain): (u8, &'a mut [u8]) = match rec.epoch {
            // Epoch 0 is in the clear: only during a handshake (after it, it would let anyone
            // inject data or alerts).
            0 if rec.content_type != record::TLS12_CID
                && matches!(
                    self.state,
                    State::Hello | State::ServerHello | State::Finishing | State::Resuming
                ) =>
            {
                (rec.content_type, rec.body)
            }
            1 if !matches!(self.state, State::Hello | State::ServerHello) => {
                let seq = rec.seq;
                let opened = if self.window.fresh(seq) {
                    self.server_keys.open(rec)
                } else {
                    None
                };
                let Some(p) = opened else {
                    self.rejected = self.rejected.wrapping_add(1);
                    return None;
                };
                self.window.accept(seq);
                p
            }
            _ => {
                self.rejected = self.rejected.wrapping_add(1);
                return None;
            }
        };
        match content_type {
            record::HANDSHAKE => {
                self.handle_handshake(plain, epoch);
                None
            }
            record::ALERT => {
                if plain.first() == Some(&2) {
                    self.state = State::Failed(Error::Alert(plain.get(1).copied().unwrap_or(0)));
                }
                None
            }
            record::APPLICATION_DATA if self.state == State::Established => Some(plain),
            // ChangeCipherSpec: the server's Finished (epoch 1) is what counts.
            _ => None,
        }
    }

    /// Handshake messages of one record. The next message expected is taken whole or in
    /// fragments (put back together across records); retransmissions and messages out of
    /// turn are ignored; a HelloRequest after the handshake is refused.
    fn handle_handshake(&mut self, data: &[u8], epoch: u16) {
        let mut r = Reader(data);
        while !r.0.is_empty() {
            let (Some(msg_type), Some(len), Some(seq), Some(offset), Some(frag)) =
                (r.u8(), r.u24(), r.u16(), r.u24(), r.u24())
            else {
                return;
            };
            let Some(body) = r.take(frag) else { return };
            if msg_type == HELLO_REQUEST {
                // RFC 5246 section 7.4.1.1: ignored during a handshake; after it, this client
                // does not renegotiate (only a protected one counts).
                if epoch != 0 && self.state == State::Established {
                    self.refuse_renegotiation = true;
                }
                continue;
            }
            let hello_verify = msg_type == HELLO_VERIFY_REQUEST && self.state == State::Hello;
            let result =
                if offset == 0 && frag == len && (seq == self.next_receive_seq || hello_verify) {
                    self.handshake_message(msg_type, seq, body)
                } else if seq == self.next_receive_seq {
                    self.handshake_fragment(
                        Fragment {
                            msg_type,
                            seq,
                            len,
                            offset,
                        },
                        body,
                    )
                } else {
                    // The server's Finished again: the client's last flight was lost.
                    if self.resumed && self.state == State::Established && msg_type == FINISHED {
                        self.final_flight = epoch != 0;
                    }
                    Ok(()) // a retransmission, or a message ahead of its turn
                };
            if let Err(e) = result {
                self.fail(e);
                return;
            }
        }
    }

    /// A fragment of the next message: the message is taken once it is whole.
    fn handshake_fragment(&mut self, f: Fragment, data: &[u8]) -> Result<(), Error> {
        // Out of the session while its message is handled (which borrows the session).
        let mut reassembly = core::mem::take(&mut self.reassembly);
        let result = match reassembly.add(f, data) {
            Ok(Some(body)) => self.handshake_message(f.msg_type, f.seq, body),
            Ok(None) | Err(Refused::Inconsistent) => Ok(()),
            Err(Refused::TooLong) => Err(Error::MessageTooLong),
        };
        self.reassembly = reassembly;
        result
    }

    /// Adds a server's handshake message to the transcript, with the header it would have
    /// unfragmented (RFC 6347 section 4.2.6).
    fn transcript_add(&mut self, msg_type: u8, seq: u16, body: &[u8]) -> Result<(), Error> {
        let mut h = [0u8; HS_HEADER];
        handshake_header(&mut Writer::new(&mut h), msg_type, seq, body.len())
            .map_err(|_| Error::Protocol)?;
        self.transcript.update(&h);
        self.transcript.update(body);
        Ok(())
    }

    fn handshake_message(&mut self, msg_type: u8, seq: u16, body: &[u8]) -> Result<(), Error> {
        #[cfg(feature = "dtls-rpk")]
        if self.state == State::ServerHello && self.is_rpk() && msg_type != SERVER_HELLO_DONE {
            return self.rpk_message(msg_type, seq, body);
        }
        match (self.state, msg_type) {
            (State::Hello, HELLO_VERIFY_REQUEST) => {
                let mut r = Reader(body);
                let (Some(_version), Some(cookie)) = (r.u16(), r.vec8()) else {
                    return Ok(()); // dropped
                };
                self.hello_verifies = self.hello_verifies.saturating_add(1);
                if self.hello_verifies > MAX_HELLO_VERIFY_REQUESTS {
                    return Err(Error::TooManyHelloVerifyRequests);
                }
                // In place: a cookie-sized temporary would be on the handshake's stack.
                self.cookie.clear();
                self.cookie
                    .extend_from_slice(cookie)
                    .map_err(|_| Error::Protocol)?;
                self.hello_seq = 1;
                self.next_receive_seq = seq.wrapping_add(1);
                self.next_flight();
            }
            (State::Hello, SERVER_HELLO) => {
                // The transcript holds the ClientHello this ServerHello answers.
                if !self.server_hello(body)? {
                    return Ok(());
                }
                self.transcript_add(msg_type, seq, body)?;
                self.next_receive_seq = seq.wrapping_add(1);
                if self.resumed {
                    self.derive_key_block();
                    self.state = State::Resuming;
                    self.next_flight();
                    self.send_flight = false; // the ClientHello again only on the timer
                } else {
                    self.state = State::ServerHello;
                }
            }
            (State::Resuming, FINISHED) => {
                self.check_finished(seq, body)?;
                self.transcript_add(msg_type, seq, body)?;
                self.next_receive_seq = seq.wrapping_add(1);
                self.final_flight = true;
                self.state = State::Established;
            }
            (State::ServerHello, SERVER_KEY_EXCHANGE) => {
                self.transcript_add(msg_type, seq, body)?;
                self.next_receive_seq = seq.wrapping_add(1);
            }
            (State::ServerHello, SERVER_HELLO_DONE) => {
                self.transcript_add(msg_type, seq, body)?;
                self.next_receive_seq = seq.wrapping_add(1);
                self.derive_keys();
                self.client_flight_transcript()?;
                self.state = State::Finishing;
                self.next_flight();
            }
            (State::Finishing, FINISHED) => {
                self.check_finished(seq, body)?;
                self.resumable = !self.session_id.is_empty();
                self.state = State::Established;
            }
            _ => {}
        }
        Ok(())
    }

    /// Checks the server's Finished (`body`, message `seq`) against the transcript.
    fn check_finished(&self, seq: u16, body: &[u8]) -> Result<(), Error> {
        let expected = self
            .finished_message(b"server finished", seq)
            .map_err(|_| Error::Protocol)?;
        if expected.get(HS_HEADER..) != Some(body) {
            return Err(Error::BadFinished);
        }
        Ok(())
    }

    /// Takes a ServerHello: `Ok(false)` when it does not parse (dropped, as anyone can send
    /// one before the keys exist), an error when it chose what was not offered.
    fn server_hello(&mut self, body: &[u8]) -> Result<bool, Error> {
        let mut r = Reader(body);
        let (Some(version), Some(random), Some(session_id), Some(suite), Some(compression)) =
            (r.u16(), r.take(32), r.vec8(), r.u16(), r.u8())
        else {
            return Ok(false);
        };
        #[cfg(feature = "dtls-rpk")]
        let extensions = r.0;
        // Extensions (RFC 5246 section 7.4.1.4), when there are any.
        let mut cid = None;
        if !r.0.is_empty() {
            let Some(mut exts) = r.u16().and_then(|n| r.take(usize::from(n))).map(Reader) else {
                return Ok(false);
            };
            while !exts.0.is_empty() {
                let (Some(ext_type), Some(data)) = (
                    exts.u16(),
                    exts.u16().and_then(|n| exts.take(usize::from(n))),
                ) else {
                    return Ok(false);
                };
                if ext_type == EXT_CONNECTION_ID {
                    let mut d = Reader(data);
                    let given = d.vec8().filter(|_| d.0.is_empty());
                    let Some(given) = given else { return Ok(false) };
                    cid = Some(given);
                }
            }
        }
        if version != u16::from_be_bytes(record::VERSION)
            || suite != self.suite()
            || compression != 0
        {
            return Err(Error::Protocol);
        }
        if session_id.len() > MAX_SESSION_ID || cid.is_some_and(|c| c.len() > MAX_CID_LEN) {
            return Err(Error::Protocol);
        }
        // The id offered, echoed: the server resumes (RFC 5246 section 7.4.1.3).
        self.resumed = !session_id.is_empty() && session_id == self.session_id.as_slice();
        #[cfg(feature = "dtls-rpk")]
        if !self.rpk_server_hello(extensions, self.resumed)? {
            return Ok(false);
        }
        if !self.resumed {
            self.resumable = false;
            self.session_id.clear();
            // At most MAX_SESSION_ID bytes: checked above.
            let _ = self.session_id.extend_from_slice(session_id);
        }
        self.server_random = array(Some(random));
        self.peer_cid.clear();
        // At most MAX_CID_LEN bytes: checked above.
        let _ = self.peer_cid.extend_from_slice(cid.unwrap_or_default());
        Ok(true)
    }

    fn derive_keys(&mut self) {
        // With raw public keys, the ServerKeyExchange gave the master secret.
        match &self.credentials {
            Credentials::Psk { key, .. } => {
                self.master = prf::psk_master_secret(key, &self.client_random, &self.server_random);
            }
            #[cfg(feature = "dtls-rpk")]
            Credentials::Rpk(_) => {}
        }
        self.derive_key_block();
    }

    /// The keys of both directions from the master secret and this handshake's randoms.
    fn derive_key_block(&mut self) {
        let mut block = [0u8; 40];
        prf::prf(
            &self.master,
            b"key expansion",
            &self.server_random,
            &self.client_random,
            &mut block,
        );
        self.client_keys.key = array(block.get(..16));
        self.server_keys.key = array(block.get(16..32));
        self.client_keys.iv = array(block.get(32..36));
        self.server_keys.iv = array(block.get(36..));
    }

    /// Protects `payload` as one application-data record into `out`: its length. Fails
    /// before the handshake is over or when `out` is too small.
    pub fn seal(&mut self, payload: &[u8], out: &mut [u8]) -> Result<usize, NoSpace> {
        if self.state != State::Established {
            return Err(NoSpace);
        }
        let mut w = Writer::new(out);
        self.protected_record(&mut w, record::APPLICATION_DATA, payload)?;
        Ok(w.len())
    }
}

/// `bytes` as an array of exactly N bytes (zeros if the length differs: it never does where
/// this is used, and this keeps slice-length panics out of the engine).
pub(crate) fn array<const N: usize>(bytes: Option<&[u8]>) -> [u8; N] {
    bytes.and_then(|b| b.try_into().ok()).unwrap_or([0; N])
}

/// A DTLS handshake header for an unfragmented message of `len` bytes.
fn handshake_header(w: &mut Writer<'_>, msg_type: u8, seq: u16, len: usize) -> Result<(), NoSpace> {
    let [_, l0, l1, l2] = u32::try_from(len).map_err(|_| NoSpace)?.to_be_bytes();
    let [s0, s1] = seq.to_be_bytes();
    // Type, length, message_seq, fragment offset 0, fragment length (the whole message).
    w.put(&[msg_type, l0, l1, l2, s0, s1, 0, 0, 0, l0, l1, l2])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The bytes a string of hex digits spells (test vectors).
    pub(crate) fn hex(s: &str) -> std::vec::Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// An established PSK session (the client's keys 1s and 2s, the server's 3s and 4s),
    /// for the client's tests.
    pub(crate) fn established_session() -> Session {
        established(&[]).0
    }

    /// A datagram of the client's `established_session` opened as the server would: its
    /// content type, epoch and plaintext.
    pub(crate) fn open_from_client(datagram: &[u8]) -> Option<(u8, u16, std::vec::Vec<u8>)> {
        let mut d = datagram.to_vec();
        let (r, _) = record::split(&mut d)?;
        let epoch = r.epoch;
        let keys = Keys {
            key: [1; 16],
            iv: [2; 4],
        };
        let (t, plain) = keys.open(r)?;
        Some((t, epoch, plain.to_vec()))
    }

    /// `plain` sealed by the server of an `established_session`, record number `seq`.
    pub(crate) fn sealed_by_server(content_type: u8, seq: u64, plain: &[u8]) -> std::vec::Vec<u8> {
        let (_, keys) = established(&[]);
        from_server(&keys, content_type, seq, plain)
    }

    fn record(content_type: u8, body: &[u8]) -> std::vec::Vec<u8> {
        let mut r = vec![content_type, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    /// One unfragmented handshake message in its own record.
    pub(super) fn handshake(msg_type: u8, seq: u16, body: &[u8]) -> std::vec::Vec<u8> {
        let l = (body.len() as u32).to_be_bytes();
        let mut m = vec![msg_type, l[1], l[2], l[3]];
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, l[1], l[2], l[3]]);
        m.extend_from_slice(body);
        record(HANDSHAKE_TYPE, &m)
    }

    const HANDSHAKE_TYPE: u8 = 22;

    fn server_hello(suite: u16) -> std::vec::Vec<u8> {
        handshake(SERVER_HELLO, 0, &hello_body(suite, &[]))
    }

    fn session() -> Session {
        Session::new(b"id", b"key", [1; 32], 0).unwrap()
    }

    #[test]
    fn the_cookie_goes_back_in_a_second_client_hello() {
        let mut s = session();
        let mut out = [0u8; 600];
        let first = s.poll_transmit(0, &mut out).unwrap();
        assert_eq!(out[0], HANDSHAKE_TYPE);
        let mut hvr = handshake(HELLO_VERIFY_REQUEST, 0, &[0xFE, 0xFF, 3, 0xAA, 0xBB, 0xCC]);
        assert!(s.handle_datagram(&mut hvr).is_none());
        let second = s.poll_transmit(1, &mut out).unwrap();
        assert_eq!(second, first + 3, "the same hello with the 3-byte cookie");
        assert!(out[..second].windows(4).any(|w| w == [3, 0xAA, 0xBB, 0xCC]));
        // message_seq 1 in the second hello's handshake header.
        assert_eq!(&out[13 + 4..13 + 6], &[0, 1]);
    }

    #[test]
    fn a_suite_not_offered_fails_the_session() {
        let mut s = session();
        let mut out = [0u8; 600];
        s.poll_transmit(0, &mut out).unwrap();
        let mut sh = server_hello(0xC0AE);
        s.handle_datagram(&mut sh);
        assert_eq!(s.error(), Some(Error::Protocol));
        assert!(s.poll_transmit(10, &mut out).is_none());
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_fatal_alert_fails_the_session_and_a_warning_does_not() {
        let mut s = session();
        let mut warning = record(21, &[1, 0]);
        s.handle_datagram(&mut warning);
        assert_eq!(s.error(), None);
        let mut fatal = record(21, &[2, 40]);
        s.handle_datagram(&mut fatal);
        assert_eq!(s.error(), Some(Error::Alert(40)));
    }

    #[test]
    fn malformed_records_and_messages_change_nothing() {
        let mut s = session();
        let mut out = [0u8; 600];
        s.poll_transmit(0, &mut out).unwrap();
        let mut bad: std::vec::Vec<std::vec::Vec<u8>> = vec![
            vec![],
            vec![22, 0xFE],
            record(22, &[2, 0, 0]), // truncated handshake header
            handshake(SERVER_HELLO, 0, &[0xFE, 0xFD, 1, 2]), // truncated ServerHello
            record(23, b"application data before the handshake"),
            {
                let mut r = server_hello(PSK_WITH_AES_128_CCM_8);
                r[3] = 1; // epoch 1: nothing to open it with yet
                r
            },
            handshake(FINISHED, 5, &[0; 12]),
        ];
        for d in bad.iter_mut() {
            assert!(s.handle_datagram(d).is_none());
            assert_eq!(s.error(), None);
            assert_eq!(s.state, State::Hello);
        }
        // A fragment (offset 0, shorter than the message) is not taken either.
        let mut frag = server_hello(PSK_WITH_AES_128_CCM_8);
        frag[13 + 11] = frag[13 + 11].wrapping_sub(1);
        frag.pop();
        let body_len = frag.len() - 13;
        frag[11..13].copy_from_slice(&(body_len as u16).to_be_bytes());
        s.handle_datagram(&mut frag);
        assert_eq!(s.state, State::Hello);
    }

    #[test]
    fn flights_are_retransmitted_with_a_doubling_timer_then_the_session_fails() {
        let mut s = session();
        let mut out = [0u8; 600];
        let mut at = 0;
        let mut sends = std::vec::Vec::new();
        for _ in 0..10 {
            if let Some(t) = s.poll_timeout() {
                at = at.max(t);
            }
            if s.poll_transmit(at, &mut out).is_some() {
                sends.push(at);
            }
            assert!(
                s.poll_transmit(at, &mut out).is_none(),
                "one send per deadline"
            );
        }
        assert_eq!(sends, [0, 1_000, 3_000, 7_000, 15_000, 31_000, 63_000]);
        assert_eq!(s.error(), Some(Error::Timeout));
    }

    #[test]
    fn credentials_are_checked() {
        assert!(Session::idle(b"", b"k").is_err());
        assert!(Session::idle(b"id", b"").is_err());
        assert!(Session::idle(&[b'x'; 65], b"k").is_err());
        assert!(Session::idle(b"id", &[1; 65]).is_err());
        let mut idle = Session::idle(b"id", b"k").unwrap();
        assert!(idle.is_idle());
        assert!(idle.poll_transmit(0, &mut [0u8; 600]).is_none());
        assert_eq!(idle.seal(b"x", &mut [0u8; 64]), Err(NoSpace));
    }

    /// A handshake message as fragments: `(offset, end)` ranges of `body`, one record each.
    fn fragments(
        msg_type: u8,
        seq: u16,
        body: &[u8],
        ranges: &[(usize, usize)],
    ) -> std::vec::Vec<std::vec::Vec<u8>> {
        ranges
            .iter()
            .map(|&(a, b)| {
                let l = (body.len() as u32).to_be_bytes();
                let o = (a as u32).to_be_bytes();
                let f = ((b - a) as u32).to_be_bytes();
                let mut m = vec![msg_type, l[1], l[2], l[3]];
                m.extend_from_slice(&seq.to_be_bytes());
                m.extend_from_slice(&[o[1], o[2], o[3], f[1], f[2], f[3]]);
                m.extend_from_slice(&body[a..b]);
                record(HANDSHAKE_TYPE, &m)
            })
            .collect()
    }

    fn server_hello_body(extensions: &[u8]) -> std::vec::Vec<u8> {
        hello_body(PSK_WITH_AES_128_CCM_8, extensions)
    }

    /// A ServerHello's body: server random all 9s, no session id, `suite`, `extensions`.
    pub(super) fn hello_body(suite: u16, extensions: &[u8]) -> std::vec::Vec<u8> {
        let mut b = vec![0xFE, 0xFD];
        b.extend_from_slice(&[9; 32]);
        b.push(0);
        b.extend_from_slice(&suite.to_be_bytes());
        b.push(0);
        if !extensions.is_empty() {
            b.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
            b.extend_from_slice(extensions);
        }
        b
    }

    /// A connection_id extension giving `cid`.
    fn cid_extension(cid: &[u8]) -> std::vec::Vec<u8> {
        let mut e = vec![0, 54];
        e.extend_from_slice(&((cid.len() + 1) as u16).to_be_bytes());
        e.push(cid.len() as u8);
        e.extend_from_slice(cid);
        e
    }

    /// Feeds `datagrams` to a new session waiting for the server's hello, then returns its
    /// finished flight (which covers the transcript).
    fn finished_flight_after(datagrams: &mut [std::vec::Vec<u8>]) -> (Session, std::vec::Vec<u8>) {
        let mut s = session();
        let mut out = [0u8; 600];
        s.poll_transmit(0, &mut out).unwrap();
        for d in datagrams.iter_mut() {
            s.handle_datagram(d);
            assert_eq!(s.error(), None);
        }
        assert_eq!(s.state, State::Finishing, "the server's flight was taken");
        let n = s.poll_transmit(1, &mut out).unwrap();
        (s, out[..n].to_vec())
    }

    #[test]
    fn fragmented_server_messages_give_the_same_transcript_as_whole_ones() {
        let hello = server_hello_body(&cid_extension(&[1, 2, 3]));
        let done = handshake(SERVER_HELLO_DONE, 1, &[]);
        let (_, whole) =
            finished_flight_after(&mut [handshake(SERVER_HELLO, 0, &hello), done.clone()]);
        let n = hello.len();
        // Two fragments, in order, in one datagram.
        let mut two = fragments(SERVER_HELLO, 0, &hello, &[(0, 30), (30, n)]).concat();
        let (_, flight) = finished_flight_after(&mut [two.clone(), done.clone()]);
        assert_eq!(flight, whole);
        two.extend_from_slice(&done);
        let (_, flight) = finished_flight_after(&mut [two]);
        assert_eq!(flight, whole, "with the next message in the same datagram");
        // Three fragments, out of order, overlapping, one repeated, across datagrams.
        let mut three = fragments(
            SERVER_HELLO,
            0,
            &hello,
            &[(40, n), (40, n), (0, 20), (10, 45)],
        );
        three.push(done.clone());
        let (s, flight) = finished_flight_after(&mut three);
        assert_eq!(flight, whole);
        assert_eq!(s.peer_cid(), Some(&[1, 2, 3][..]));
    }

    #[test]
    fn fragments_that_lie_are_dropped_and_an_oversized_message_fails() {
        let hello = server_hello_body(&[]);
        let n = hello.len();
        let mut s = session();
        let mut out = [0u8; 600];
        s.poll_transmit(0, &mut out).unwrap();
        let mut first = fragments(SERVER_HELLO, 0, &hello, &[(0, 20)]).remove(0);
        s.handle_datagram(&mut first);
        // Another length for the same message, a fragment past its end, another type.
        let mut lie = fragments(SERVER_HELLO, 0, &[0; 100], &[(20, 100)]).remove(0);
        let mut beyond = fragments(SERVER_HELLO, 0, &hello, &[(20, n)]).remove(0);
        beyond[13 + 3] = 10; // the message's length: 10, shorter than the fragment's end
        let mut other = fragments(SERVER_KEY_EXCHANGE, 0, &hello, &[(20, n)]).remove(0);
        for d in [&mut lie, &mut beyond, &mut other] {
            assert!(s.handle_datagram(d).is_none());
            assert_eq!((s.state, s.error()), (State::Hello, None));
        }
        let mut rest = fragments(SERVER_HELLO, 0, &hello, &[(20, n)]).remove(0);
        s.handle_datagram(&mut rest);
        assert_eq!(
            s.state,
            State::ServerHello,
            "the genuine fragments make the message"
        );
        // A fragment of a message longer than the buffer fails the session.
        let big = vec![0; MAX_HANDSHAKE_MESSAGE + 1];
        let mut s = session();
        s.poll_transmit(0, &mut out).unwrap();
        let mut frag = fragments(SERVER_HELLO, 0, &big, &[(0, 100)]).remove(0);
        s.handle_datagram(&mut frag);
        assert_eq!(s.error(), Some(Error::MessageTooLong));
    }

    #[test]
    fn the_client_hello_offers_an_empty_connection_id() {
        let mut s = session();
        let mut out = [0u8; 600];
        let n = s.poll_transmit(0, &mut out).unwrap();
        // The ClientHello ends with its extensions: connection_id (54), an empty CID.
        assert_eq!(&out[n - 7..n], &[0, 5, 0, 54, 0, 1, 0]);
    }

    #[test]
    fn a_cid_from_the_server_hello_goes_into_every_epoch_1_record() {
        let cid = [0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5];
        let (mut s, flight) = finished_flight_after(&mut [
            handshake(SERVER_HELLO, 0, &server_hello_body(&cid_extension(&cid))),
            handshake(SERVER_HELLO_DONE, 1, &[]),
        ]);
        // ClientKeyExchange (epoch 0), ChangeCipherSpec (epoch 0), Finished (tls12_cid).
        let mut d = &flight[..];
        let mut types = vec![];
        while d.len() >= 13 {
            types.push(d[0]);
            let header = if d[0] == 25 { 13 + cid.len() } else { 13 };
            if d[0] == 25 {
                assert_eq!(&d[11..17], &cid);
            }
            let l = usize::from(u16::from_be_bytes([d[header - 2], d[header - 1]]));
            d = &d[header + l..];
        }
        assert_eq!(types, [22, 20, 25]);
        // Application data too, once established.
        s.state = State::Established;
        let mut out = [0u8; 64];
        let n = s.seal(b"x", &mut out).unwrap();
        assert_eq!(n, 13 + 6 + 8 + 1 + 1 + 8);
        assert_eq!((out[0], &out[11..17]), (25, &cid[..]));
        // No extension in the ServerHello: ordinary records.
        let (s, flight) = finished_flight_after(&mut [
            handshake(SERVER_HELLO, 0, &server_hello_body(&[])),
            handshake(SERVER_HELLO_DONE, 1, &[]),
        ]);
        assert_eq!(s.peer_cid(), None);
        let finished = &flight[flight.len() - (13 + 8 + 24 + 8)..];
        assert_eq!(finished[0], 22);
        // An empty CID means the same; a CID longer than this client holds fails.
        let (s, _) = finished_flight_after(&mut [
            handshake(SERVER_HELLO, 0, &server_hello_body(&cid_extension(&[]))),
            handshake(SERVER_HELLO_DONE, 1, &[]),
        ]);
        assert_eq!(s.peer_cid(), None);
        let mut s = session();
        s.poll_transmit(0, &mut [0u8; 600]).unwrap();
        let mut long = handshake(
            SERVER_HELLO,
            0,
            &server_hello_body(&cid_extension(&[7; MAX_CID_LEN + 1])),
        );
        s.handle_datagram(&mut long);
        assert_eq!(s.error(), Some(Error::Protocol));
    }

    #[test]
    fn endless_hello_verify_requests_fail_the_handshake() {
        let mut s = session();
        let mut out = [0u8; 600];
        let mut now = 0;
        for i in 0..=u16::from(MAX_HELLO_VERIFY_REQUESTS) {
            assert!(s.poll_transmit(now, &mut out).is_some(), "hello {i}");
            let mut hvr = handshake(HELLO_VERIFY_REQUEST, i, &[0xFE, 0xFF, 2, i as u8, 1]);
            s.handle_datagram(&mut hvr);
            now += 10;
        }
        assert_eq!(s.error(), Some(Error::TooManyHelloVerifyRequests));
        assert!(s.poll_transmit(now, &mut out).is_none());
    }

    /// An established session (keys set by hand) and the server's keys to seal records to it.
    fn established(cid: &[u8]) -> (Session, Keys) {
        let mut s = session();
        s.state = State::Established;
        s.client_keys = Keys {
            key: [1; 16],
            iv: [2; 4],
        };
        s.server_keys = Keys {
            key: [3; 16],
            iv: [4; 4],
        };
        s.peer_cid = Vec::from_slice(cid).unwrap();
        let server = s.server_keys.clone();
        (s, server)
    }

    fn from_server(keys: &Keys, content_type: u8, seq: u64, plain: &[u8]) -> std::vec::Vec<u8> {
        let mut buf = [0u8; 2048];
        let mut w = Writer::new(&mut buf);
        keys.seal(&mut w, content_type, 1, seq, &[], plain).unwrap();
        w.written().to_vec()
    }

    #[test]
    fn a_hello_request_after_the_handshake_gets_no_renegotiation() {
        for cid in [&[][..], &[5, 6, 7][..]] {
            let (mut s, server) = established(cid);
            assert_eq!(s.poll_timeout(), None);
            // A HelloRequest in the clear is not the server's: ignored.
            let mut clear = handshake(HELLO_REQUEST, 0, &[]);
            s.handle_datagram(&mut clear);
            assert_eq!(s.poll_timeout(), None);
            let mut hr = from_server(&server, 22, 1, &[0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
            assert!(s.handle_datagram(&mut hr).is_none());
            assert_eq!(s.poll_timeout(), Some(0));
            let mut out = [0u8; 128];
            let n = s.poll_transmit(5, &mut out).unwrap();
            assert!(s.poll_transmit(5, &mut out).is_none(), "sent once");
            assert_eq!(s.poll_timeout(), None);
            // The alert: a warning, no_renegotiation, sealed with the client's keys.
            if cid.is_empty() {
                let (rec, _) = record::split(&mut out[..n]).unwrap();
                let client = Keys {
                    key: [1; 16],
                    iv: [2; 4],
                };
                let (t, alert) = client.open(rec).unwrap();
                assert_eq!((t, &*alert), (21, &[1, 100][..]));
            } else {
                assert_eq!((out[0], &out[11..14]), (25, cid));
                assert_eq!(n, 13 + 3 + 8 + 2 + 1 + 8);
            }
            // The session goes on both ways.
            assert!(s.is_established());
            assert!(s.seal(b"still", &mut out).is_ok());
            let mut data = from_server(&server, 23, 2, b"data");
            assert_eq!(s.handle_datagram(&mut data).as_deref(), Some(&b"data"[..]));
        }
    }

    #[test]
    fn clear_records_after_the_handshake_are_dropped() {
        let (mut s, server) = established(&[]);
        let mut data = record(23, b"injected in the clear");
        assert!(s.handle_datagram(&mut data).is_none());
        let mut fatal = record(21, &[2, 40]);
        s.handle_datagram(&mut fatal);
        assert!(
            s.is_established(),
            "an alert in the clear is not the server's"
        );
        let mut genuine = from_server(&server, 23, 1, b"ok");
        assert_eq!(s.handle_datagram(&mut genuine).as_deref(), Some(&b"ok"[..]));
    }

    fn server_hello_with_id(id: &[u8]) -> std::vec::Vec<u8> {
        let mut b = vec![0xFE, 0xFD];
        b.extend_from_slice(&[9; 32]);
        b.push(id.len() as u8);
        b.extend_from_slice(id);
        b.extend_from_slice(&PSK_WITH_AES_128_CCM_8.to_be_bytes());
        b.push(0);
        handshake(SERVER_HELLO, 0, &b)
    }

    /// A session that finished a full handshake with session id [7; 32].
    fn resumable() -> Session {
        let mut s = session();
        s.session_id = Vec::from_slice(&[7; 32]).unwrap();
        s.master = [5; 48];
        s.resumable = true;
        s.state = State::Idle;
        s
    }

    #[test]
    fn resumption_offers_the_id_and_falls_back_to_a_full_handshake() {
        let mut out = [0u8; 600];
        let mut s = resumable();
        s.start([2; 32], 0);
        s.poll_transmit(0, &mut out).unwrap();
        // Record header, handshake header, version, random: then the session id.
        assert_eq!(out[13 + 12 + 34], 32);
        assert_eq!(&out[13 + 12 + 35..13 + 12 + 67], &[7; 32]);
        // Another id: a full handshake, and nothing to resume until it is over.
        s.handle_datagram(&mut server_hello_with_id(&[8; 32]));
        assert_eq!(
            (s.state, s.is_resumed(), s.resumable),
            (State::ServerHello, false, false)
        );
        s.state = State::Failed(Error::Protocol);
        s.start([3; 32], 10);
        s.poll_transmit(10, &mut out).unwrap();
        assert_eq!(
            out[13 + 12 + 34],
            0,
            "a failed handshake leaves no id to offer"
        );
        // A timeout keeps it.
        let mut s = resumable();
        s.state = State::Failed(Error::Timeout);
        s.start([2; 32], 0);
        s.poll_transmit(0, &mut out).unwrap();
        assert_eq!(out[13 + 12 + 34], 32);
    }

    #[test]
    fn an_abbreviated_handshake_ends_with_the_clients_flight_sent_again_when_asked() {
        let mut out = [0u8; 600];
        let mut s = resumable();
        s.start([2; 32], 0);
        s.poll_transmit(0, &mut out).unwrap();
        s.handle_datagram(&mut server_hello_with_id(&[7; 32]));
        assert_eq!(s.state, State::Resuming);
        assert!(s.is_resumed());
        assert_eq!(
            s.poll_timeout(),
            Some(1_000),
            "the ClientHello again only on the timer"
        );
        // The server's Finished over ClientHello and ServerHello, under the kept master.
        let finished = s.finished_message(b"server finished", 1).unwrap();
        let server = s.server_keys.clone();
        let mut bad = finished;
        bad[HS_HEADER] ^= 1;
        let mut forged = from_server(&server, 22, 0, &bad);
        let mut genuine = from_server(&server, 22, 1, &finished);
        let mut again = from_server(&server, 22, 2, &finished);
        let mut copy = s.transcript.clone();
        s.handle_datagram(&mut forged);
        assert_eq!(s.error(), Some(Error::BadFinished));
        // Once more with the genuine one.
        s.state = State::Resuming;
        s.window = Window::default();
        s.transcript = copy.clone();
        s.handle_datagram(&mut genuine);
        assert!(s.is_established());
        assert_eq!(s.poll_timeout(), Some(0));
        let n = s.poll_transmit(5, &mut out).unwrap();
        // ChangeCipherSpec (epoch 0), then the Finished (epoch 1).
        assert_eq!(&out[..3], &[20, 0xFE, 0xFD]);
        assert_eq!((out[14], out[14 + 3], out[14 + 4]), (22, 0, 1));
        assert_eq!(n, 14 + 13 + 8 + 24 + 8);
        assert!(s.poll_transmit(5, &mut out).is_none());
        // The client's Finished covers the server's.
        copy.update(&finished);
        let expected: [u8; 32] = copy.finalize();
        assert_eq!(s.finished_transcript(b"client finished"), expected);
        // The server's Finished again: the client's flight again.
        s.handle_datagram(&mut again);
        assert_eq!(s.poll_timeout(), Some(0));
        assert!(s.poll_transmit(6, &mut out).is_some());
        assert!(s.is_established());
    }
}
