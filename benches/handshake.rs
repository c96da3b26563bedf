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

use tern::dtls::Session;

#[path = "replay/mod.rs"]
mod replay;

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

fn session() -> Session {
    Session::new(IDENTITY, &KEY, RANDOM, 0).expect("credentials")
}

fn main() {
    let server = start_server();
    let wire = replay::record(server.1, session);
    drop(server);
    replay::write_fixture(
        "handshake",
        &wire,
        &[("IDENTITY", IDENTITY), ("KEY", &KEY), ("RANDOM", &RANDOM)],
    );
    replay::report_and_replay("handshake", &wire, session);
}
