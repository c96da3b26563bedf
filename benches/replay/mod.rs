//! What the DTLS handshake benches share: one live handshake with a real server records
//! both sides' datagrams; replaying the server's to fresh sessions (the same client random
//! and seed, so its flights verify again) is the in-process work callgrind counts.
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use tern::dtls::Session;

/// What each side sent: its datagrams in order.
#[derive(Default)]
pub struct Wire {
    pub client: Vec<Vec<u8>>,
    pub server: Vec<Vec<u8>>,
}

/// The live handshake with the server on loopback `port`, with a session from `session`.
pub fn record(port: u16, session: impl Fn() -> Session) -> Wire {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("a socket");
    sock.connect(("127.0.0.1", port)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let start = Instant::now();
    let now = || start.elapsed().as_millis() as u64;
    let mut session = session();
    let mut wire = Wire::default();
    let (mut out, mut buf) = ([0u8; 1500], [0u8; 1500]);
    while !session.is_established() && session.error().is_none() && now() < 10_000 {
        while let Some(n) = session.poll_transmit(now(), &mut out) {
            sock.send(&out[..n]).expect("send");
            wire.client.push(out[..n].to_vec());
        }
        if let Ok(n) = sock.recv(&mut buf) {
            wire.server.push(buf[..n].to_vec());
            session.handle_datagram(&mut buf[..n]);
        }
    }
    assert!(
        session.is_established(),
        "live handshake: {:?}",
        session.error()
    );
    wire
}

/// One handshake against the recorded server datagrams, in process.
fn replay(wire: &Wire, mut session: Session) -> bool {
    let mut out = [0u8; 1500];
    let mut buf = [0u8; 1500];
    for d in &wire.server {
        while session.poll_transmit(0, &mut out).is_some() {}
        let b = &mut buf[..d.len()];
        b.copy_from_slice(d);
        session.handle_datagram(b);
    }
    while session.poll_transmit(0, &mut out).is_some() {}
    session.is_established()
}

/// With `TERN_WRITE_FIXTURE=<path>/<name>` in the environment, writes the recording, with
/// the `inputs` the client's session was made from (name, bytes), to `<name>.rs` as Rust
/// constants and to `<name>.h` as C arrays: `CLIENT` and `SERVER`, each side's datagrams in
/// order. The Cortex-M test suite (tests/qemu/) and the size image (.ci/firmware/) replay
/// them (tests/dtls/handshakes/).
pub fn write_fixture(bench: &str, wire: &Wire, inputs: &[(&str, &[u8])]) {
    let Some(stem) = std::env::var("TERN_WRITE_FIXTURE").ok() else {
        return;
    };
    let name = std::path::Path::new(&stem)
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a file name")
        .to_owned();
    let origin = format!(
        "A DTLS handshake recorded live with a real server by\n\
         TERN_WRITE_FIXTURE=tests/dtls/handshakes/{name} cargo bench --features dtls-rpk --bench {bench}\n\
         (benches/replay/mod.rs): the client's inputs, then each side's datagrams in order."
    );
    // Twelve bytes a line.
    let bytes = |b: &[u8], indent: &str| -> String {
        b.chunks(12)
            .map(|c| {
                let hex: Vec<String> = c.iter().map(|x| format!("0x{x:02x},")).collect();
                format!("{indent}    {}\n", hex.join(" "))
            })
            .collect()
    };
    let sides = [("CLIENT", &wire.client), ("SERVER", &wire.server)];

    let mut rs: String = origin.lines().map(|l| format!("// {l}\n")).collect();
    rs += "\n";
    for (n, value) in inputs {
        rs += &format!("pub const {n}: &[u8] = &[\n{}];\n", bytes(value, ""));
    }
    for (n, side) in sides {
        rs += &format!("pub const {n}: &[&[u8]] = &[\n");
        for d in side.iter() {
            rs += &format!("    &[\n{}    ],\n", bytes(d, "    "));
        }
        rs += "];\n";
    }

    let mut h = format!("/* {} */\n", origin.replace('\n', "\n * "));
    h += "#include <stddef.h>\n#include <stdint.h>\n\n";
    h += "#ifndef TERN_RECORDED_DATAGRAM\n#define TERN_RECORDED_DATAGRAM\n";
    h += "struct recorded_datagram {\n    const uint8_t *data;\n    size_t len;\n};\n#endif\n\n";
    for (n, value) in inputs {
        h += &format!(
            "static const uint8_t {name}_{n}[] = {{\n{}}};\n",
            bytes(value, "")
        );
    }
    for (n, side) in sides {
        for (i, d) in side.iter().enumerate() {
            h += &format!(
                "static const uint8_t {name}_{n}_{i}[] = {{\n{}}};\n",
                bytes(d, "")
            );
        }
        h += &format!("static const struct recorded_datagram {name}_{n}[] = {{\n");
        for i in 0..side.len() {
            h += &format!("    {{{name}_{n}_{i}, sizeof {name}_{n}_{i}}},\n");
        }
        h += &format!("}};\n#define {name}_{n}_COUNT {}\n", side.len());
    }
    for (ext, text) in [("rs", rs), ("h", h)] {
        let path = format!("{stem}.{ext}");
        std::fs::write(&path, text).expect("the fixture file");
        println!("{bench}: recording written to {path}");
    }
}

/// Prints what went over the wire, then replays the handshake as often as the first
/// argument says (1 by default); every replay must establish the session.
pub fn report_and_replay(name: &str, wire: &Wire, session: impl Fn() -> Session) {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let bytes = |d: &[Vec<u8>]| d.iter().map(Vec::len).sum::<usize>();
    println!(
        "{name}: client sent {} datagrams ({} bytes), server {} datagrams ({} bytes), {} round trips",
        wire.client.len(),
        bytes(&wire.client),
        wire.server.len(),
        bytes(&wire.server),
        wire.client.len()
    );
    let ok = (0..n).filter(|_| replay(wire, session())).count();
    assert_eq!(ok, n, "every replayed handshake is established");
}
