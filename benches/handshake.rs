//! A DTLS 1.2 PSK handshake (TLS_PSK_WITH_AES_128_CCM_8), for instruction counts under
//! callgrind and for what it puts on the wire.
//!
//! The server is OpenSSL's `s_server -dtls1_2` on loopback. One live handshake records
//! the server's datagrams; `handshake N` then replays them to N fresh sessions in process
//! (the same client random, so the server's flights verify again): `.ci/callgrind.sh` runs
//! it for two values of N and divides the difference, so the live handshake, the sockets
//! and process start-up cancel out. It prints the bytes and flights each side sent.
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tern::dtls::Session;

const IDENTITY: &[u8] = b"tern-bench";
const KEY: [u8; 16] = *b"0123456789abcdef";
const RANDOM: [u8; 32] = *b"the bench's client random, 32 b.";

/// s_server on a free loopback port, killed when dropped.
struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> Server {
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .port();
    let hex: String = KEY.iter().map(|b| format!("{b:02x}")).collect();
    let mut child = Command::new("openssl")
        .args([
            "s_server",
            "-dtls1_2",
            "-nocert",
            "-cipher",
            "PSK-AES128-CCM8",
        ])
        .args(["-psk", &hex, "-psk_identity", "tern-bench"])
        .args(["-accept", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl must be installed");
    let stdout = child.stdout.take().expect("piped stdout");
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.starts_with("ACCEPT"));
    assert!(ready, "s_server did not start");
    Server(child, port)
}

/// What one side sent: its datagrams in order.
#[derive(Default)]
struct Wire {
    client: Vec<Vec<u8>>,
    server: Vec<Vec<u8>>,
}

/// The live handshake: every datagram of both sides, in order.
fn record() -> Wire {
    let server = start_server();
    let sock = UdpSocket::bind("127.0.0.1:0").expect("a socket");
    sock.connect(("127.0.0.1", server.1)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let start = Instant::now();
    let now = || start.elapsed().as_millis() as u64;
    let mut session = Session::new(IDENTITY, &KEY, RANDOM, 0).expect("credentials");
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
fn replay(wire: &Wire) -> bool {
    let mut session = Session::new(IDENTITY, &KEY, RANDOM, 0).expect("credentials");
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

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let wire = record();
    let bytes = |d: &[Vec<u8>]| d.iter().map(Vec::len).sum::<usize>();
    println!(
        "handshake: client sent {} datagrams ({} bytes), server {} datagrams ({} bytes), {} round trips",
        wire.client.len(),
        bytes(&wire.client),
        wire.server.len(),
        bytes(&wire.server),
        wire.client.len()
    );
    let ok = (0..n).filter(|_| replay(&wire)).count();
    assert_eq!(ok, n, "every replayed handshake is established");
}
