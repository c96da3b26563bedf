//! Feeds arbitrary datagrams to a DTLS session with raw public keys that has taken a valid
//! ServerHello and the server's Certificate (its configured key), so that what follows
//! reaches the ServerKeyExchange, CertificateRequest and ServerHelloDone parsing, the
//! signature check and the ECDH: records and handshake messages of any shape, split from
//! the input by a one-byte length. Whatever comes, nothing panics, every datagram the
//! session sends parses as DTLS records, and the session never claims to be established.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::dtls::Session;

/// The P-256 base point, uncompressed: the server's key.
const SERVER: [u8; 65] = [
    4, 0x6B, 0x17, 0xD1, 0xF2, 0xE1, 0x2C, 0x42, 0x47, 0xF8, 0xBC, 0xE6, 0xE5, 0x63, 0xA4, 0x40,
    0xF2, 0x77, 0x03, 0x7D, 0x81, 0x2D, 0xEB, 0x33, 0xA0, 0xF4, 0xA1, 0x39, 0x45, 0xD8, 0x98,
    0xC2, 0x96, 0x4F, 0xE3, 0x42, 0xE2, 0xFE, 0x1A, 0x7F, 0x9B, 0x8E, 0xE7, 0xEB, 0x4A, 0x7C,
    0x0F, 0x9E, 0x16, 0x2B, 0xCE, 0x33, 0x57, 0x6B, 0x31, 0x5E, 0xCE, 0xCB, 0xB6, 0x40, 0x68,
    0x37, 0xBF, 0x51, 0xF5,
];

fn handshake_record(msg_type: u8, seq: u16, body: &[u8]) -> Vec<u8> {
    let l = (body.len() as u32).to_be_bytes();
    let mut m = vec![msg_type, l[1], l[2], l[3]];
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, l[1], l[2], l[3]]);
    m.extend_from_slice(body);
    let mut r = vec![22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, seq as u8];
    r.extend_from_slice(&(m.len() as u16).to_be_bytes());
    r.extend_from_slice(&m);
    r
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut session) = Session::new_rpk(&[0x21; 32], &SERVER, [7; 32], [8; 32], 0) else {
        return;
    };
    let mut out = [0u8; 1500];
    let _ = session.poll_transmit(0, &mut out);
    let mut hello = vec![0xFE, 0xFD];
    hello.extend_from_slice(&[9; 32]);
    hello.extend_from_slice(&[0, 0xC0, 0xAE, 0, 0, 10, 0, 19, 0, 1, 2, 0, 20, 0, 1, 2]);
    let mut certificate = vec![0, 0, 91, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48];
    certificate.extend_from_slice(&[0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE]);
    certificate.extend_from_slice(&[0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00]);
    certificate.extend_from_slice(&SERVER);
    let mut flight = handshake_record(2, 0, &hello);
    flight.extend_from_slice(&handshake_record(11, 1, &certificate));
    session.handle_datagram(&mut flight);
    assert!(session.error().is_none(), "the primed flight is taken");
    let mut now = 0u64;
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (datagram, tail) = tail.split_at(len);
        rest = tail;
        let mut buf = datagram.to_vec();
        assert!(session.handle_datagram(&mut buf).is_none(), "application data before a Finished");
        now += 700;
        while let Some(n) = session.poll_transmit(now, &mut out) {
            let mut d = &out[..n];
            while !d.is_empty() {
                let h = if d[0] == 25 { 13 + session.peer_cid().map_or(0, <[u8]>::len) } else { 13 };
                assert!(d.len() >= h, "a truncated record header");
                let l = usize::from(u16::from_be_bytes([d[h - 2], d[h - 1]]));
                assert!(d.len() >= h + l, "a record longer than its datagram");
                d = &d[h + l..];
            }
        }
        assert!(!session.is_established());
    }
});
