//! DTLS 1.2 handshakes recorded live with real servers on the host (OpenSSL's `s_server`
//! with a pre-shared key, GnuTLS's `gnutls-serv` with raw public keys;
//! `tests/dtls/handshakes/` holds them and says how they were made), replayed here to the library's DTLS client made from the same inputs
//! (client random, keys, ephemeral seed). Its datagrams must be the recorded ones byte for
//! byte and it must end established: the server's Finished only verifies over the same
//! transcript, so this proves the handshake's arithmetic (P-256, SHA-256, the PRF,
//! AES-128-CCM-8) on the 32-bit target. The stack each takes below the case is measured by
//! painting.

use tern::dtls::Session;

#[rustfmt::skip]
#[path = "../../../dtls/handshakes/psk.rs"]
mod psk;
#[rustfmt::skip]
#[path = "../../../dtls/handshakes/rpk.rs"]
mod rpk;

/// A case: its stack use in bytes, or why it failed.
type Case = fn() -> Result<usize, &'static str>;

pub static CASES: &[(&str, Case)] = &[
    ("dtls_psk_handshake_replayed", psk_handshake),
    ("dtls_rpk_handshake_replayed", rpk_handshake),
];

/// The largest datagram either side sent, with room to spare.
const DATAGRAM: usize = 1500;

fn psk_handshake() -> Result<usize, &'static str> {
    let random = psk::RANDOM.try_into().map_err(|_| "a 32-byte random")?;
    let session = Session::new(psk::IDENTITY, psk::KEY, random, 0).map_err(|_| "credentials")?;
    measured(session, psk::CLIENT, psk::SERVER)
}

fn rpk_handshake() -> Result<usize, &'static str> {
    let random = rpk::RANDOM.try_into().map_err(|_| "a 32-byte random")?;
    let seed = rpk::SEED.try_into().map_err(|_| "a 32-byte seed")?;
    let session = Session::new_rpk(rpk::CLIENT_KEY, rpk::SERVER_KEY, random, seed, 0)
        .map_err(|_| "keys")?;
    measured(session, rpk::CLIENT, rpk::SERVER)
}

/// Replays the handshake to `session` and measures the stack the replay takes below this
/// frame (the session and the buffers are here, above the painted region).
#[inline(never)]
fn measured(
    mut session: Session,
    client: &[&[u8]],
    server: &[&[u8]],
) -> Result<usize, &'static str> {
    let mut buf = [0u8; DATAGRAM];
    let mut out = [0u8; DATAGRAM];
    crate::paint_stack();
    let result = replay(&mut session, client, server, &mut buf, &mut out);
    let stack = crate::stack_used();
    result.map(|()| stack)
}

/// Hands `session` each recorded server datagram in turn, checking that what it sends in
/// between is what the client sent when it was recorded.
#[inline(never)]
fn replay(
    session: &mut Session,
    client: &[&[u8]],
    server: &[&[u8]],
    buf: &mut [u8; DATAGRAM],
    out: &mut [u8; DATAGRAM],
) -> Result<(), &'static str> {
    let mut recorded = client.iter();
    for datagram in server {
        sent_as_recorded(session, &mut recorded, out)?;
        let b = buf.get_mut(..datagram.len()).ok_or("a recorded datagram is too long")?;
        b.copy_from_slice(datagram);
        session.handle_datagram(b);
        if session.error().is_some() {
            return Err("the session failed on a recorded server datagram");
        }
    }
    sent_as_recorded(session, &mut recorded, out)?;
    if recorded.next().is_some() {
        return Err("the client sent fewer datagrams than recorded");
    }
    if !session.is_established() {
        return Err("the session is not established after the server's last flight");
    }
    Ok(())
}

/// Drains what `session` has to send; each datagram must be the next recorded one.
fn sent_as_recorded(
    session: &mut Session,
    recorded: &mut core::slice::Iter<'_, &[u8]>,
    out: &mut [u8; DATAGRAM],
) -> Result<(), &'static str> {
    // Bounded: a flight is a few datagrams.
    for _ in 0..8 {
        let Some(n) = session.poll_transmit(0, out) else {
            return Ok(());
        };
        let sent = out.get(..n).ok_or("a datagram longer than the buffer")?;
        if recorded.next() != Some(&sent) {
            return Err("the client sent a datagram other than the recorded one");
        }
    }
    Err("the client sent more datagrams than a flight holds")
}
