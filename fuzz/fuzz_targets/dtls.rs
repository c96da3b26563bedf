//! Feeds arbitrary datagrams to a DTLS session waiting for the server's hello: records and
//! handshake messages of any shape (fragments too), split from the input by a one-byte
//! length. Whatever comes, nothing panics, every datagram the session sends parses as DTLS
//! records, and a session never claims to be established (no datagram here can carry a
//! valid Finished).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::dtls::Session;

fuzz_target!(|data: &[u8]| {
    let Ok(mut session) = Session::new(b"fuzz", b"0123456789abcdef", [7; 32], 0) else {
        return;
    };
    let mut out = [0u8; 1500];
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
            // Every record header is whole and its length fits the datagram (a tls12_cid
            // record carries the server's CID before its length).
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
        assert!(session.poll_timeout().map_or(true, |t| t >= now || t == 0) || session.error().is_some());
    }
});
