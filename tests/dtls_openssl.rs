//! DTLS 1.2 with a pre-shared key against an independent peer: OpenSSL's `s_server
//! -dtls1_2` with PSK-AES128-CCM8, on loopback. The session (tern's `dtls::Session`, driven
//! here over a real UDP socket) must finish the handshake, including the cookie exchange,
//! and exchange application data both ways; a wrong key must not get through.
#![cfg(feature = "dtls")]

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use tern::dtls::{Error, Session};

const IDENTITY: &[u8] = b"tern-client";
const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f";

/// s_server, stopped when dropped; its stdout lines come through `lines`.
struct OpenSsl {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    port: u16,
}

impl Drop for OpenSsl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OpenSsl {
    fn start() -> OpenSsl {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("openssl")
            .args([
                "s_server",
                "-dtls1_2",
                "-nocert",
                "-cipher",
                "PSK-AES128-CCM8",
            ])
            .args(["-psk", KEY_HEX, "-psk_identity", "tern-client"])
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .args(if std::env::var_os("TERN_DTLS_DEBUG").is_some() {
                &["-msg", "-state"][..]
            } else {
                &[][..]
            })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("TERN_DTLS_DEBUG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("openssl (the openssl package) must be installed");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let server = OpenSsl {
            child,
            stdin,
            lines,
            port,
        };
        server.wait_for(|l| l.starts_with("ACCEPT"), "ACCEPT");
        server
    }

    /// Waits (at most 10 s) for a line of s_server's output that `want` accepts.
    fn wait_for(&self, want: impl Fn(&str) -> bool, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if want(&line) => return line,
                Ok(line) => {
                    if std::env::var_os("TERN_DTLS_DEBUG").is_some() {
                        eprintln!("s_server: {line}");
                    }
                }
                Err(_) => break,
            }
        }
        panic!("s_server never printed {what}");
    }
}

/// Runs the handshake over `sock` until it is over or 10 s pass; returns the session.
fn handshake(sock: &UdpSocket, key: &[u8]) -> Session {
    let start = Instant::now();
    let now = || start.elapsed().as_millis() as u64;
    let mut session =
        Session::new(IDENTITY, key, *b"tern's client random, 32 bytes!!", now()).unwrap();
    let mut out = [0u8; 1500];
    let mut buf = [0u8; 1500];
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    while !session.is_established() && session.error().is_none() && now() < 10_000 {
        while let Some(n) = session.poll_transmit(now(), &mut out) {
            sock.send(&out[..n]).unwrap();
        }
        if let Ok(n) = sock.recv(&mut buf) {
            session.handle_datagram(&mut buf[..n]);
        }
    }
    session
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn psk_handshake_then_data_both_ways_with_openssl() {
    let mut server = OpenSsl::start();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", server.port)).unwrap();

    let mut session = handshake(&sock, &hex(KEY_HEX));
    assert!(session.is_established(), "handshake: {:?}", session.error());

    let mut out = [0u8; 256];
    let n = session.seal(b"ping from tern\n", &mut out).unwrap();
    sock.send(&out[..n]).unwrap();
    server.wait_for(|l| l == "ping from tern", "the client's data");

    let stdin = server.stdin.as_mut().unwrap();
    stdin.write_all(b"pong from openssl\n").unwrap();
    stdin.flush().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 1500];
    let got = loop {
        let n = sock.recv(&mut buf).expect("s_server's data within 10 s");
        if let Some(data) = session.handle_datagram(&mut buf[..n]) {
            break data.to_vec();
        }
    };
    assert_eq!(got, b"pong from openssl\n");

    // Records keep flowing after an exchange both ways (a new sequence number each).
    let n = session.seal(b"again\n", &mut out).unwrap();
    sock.send(&out[..n]).unwrap();
    server.wait_for(|l| l == "again", "the second record");
}

#[test]
fn a_wrong_key_never_establishes() {
    let server = OpenSsl::start();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", server.port)).unwrap();
    let mut wrong = hex(KEY_HEX);
    wrong[0] ^= 0xFF;
    let session = handshake(&sock, &wrong);
    assert!(!session.is_established());
    // OpenSSL answers a bad Finished with a fatal alert (decrypt_error, 51, or
    // bad_record_mac, 20) or stays silent (PEERS.md): either way, no session.
    assert!(
        matches!(session.error(), None | Some(Error::Alert(_))),
        "{:?}",
        session.error()
    );
}
