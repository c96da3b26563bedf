//! DTLS 1.2 with a pre-shared key against an independent peer: OpenSSL's `s_server
//! -dtls1_2` with PSK-AES128-CCM8, on loopback. The session (tern's `dtls::Session`, driven
//! here over a real UDP socket) must finish the handshake, including the cookie exchange,
//! and exchange application data both ways; a wrong key must not get through; records
//! forged on the way (replayed, altered, truncated, of another epoch) must be dropped while
//! the genuine ones get through; a second handshake resumes the first one's session; a
//! renegotiation is refused; a ServerKeyExchange sent in fragments is put back together.
#![cfg(feature = "dtls")]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
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
        OpenSsl::start_with(&[])
    }

    /// s_server with `extra` arguments.
    fn start_with(extra: &[&str]) -> OpenSsl {
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
            .args(extra)
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
    let mut session = Session::new(IDENTITY, key, *b"tern's client random, 32 bytes!!", 0).unwrap();
    drive(sock, &mut session);
    session
}

/// Runs a started handshake over `sock` until it is over or 10 s pass (the session's clock
/// starts at 0 here).
fn drive(sock: &UdpSocket, session: &mut Session) {
    let start = Instant::now();
    let now = || start.elapsed().as_millis() as u64;
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
    // An abbreviated handshake ends with the client's flight.
    while let Some(n) = session.poll_transmit(now(), &mut out) {
        sock.send(&out[..n]).unwrap();
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A line from the client that s_server must print, then a line typed into s_server that
/// the session must hand back, within 10 s each.
fn both_ways(server: &mut OpenSsl, session: &mut Session, sock: &UdpSocket, up: &str, down: &str) {
    let mut out = [0u8; 256];
    let n = session
        .seal(format!("{up}\n").as_bytes(), &mut out)
        .unwrap();
    sock.send(&out[..n]).unwrap();
    server.wait_for(|l| l == up, "the client's data");
    let stdin = server.stdin.as_mut().unwrap();
    stdin.write_all(format!("{down}\n").as_bytes()).unwrap();
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
    assert_eq!(got, format!("{down}\n").as_bytes());
}

#[test]
fn psk_handshake_then_data_both_ways_with_openssl() {
    let mut server = OpenSsl::start();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", server.port)).unwrap();

    let mut session = handshake(&sock, &hex(KEY_HEX));
    assert!(session.is_established(), "handshake: {:?}", session.error());
    assert_eq!(
        session.peer_cid(),
        None,
        "OpenSSL 3.0 ignores the connection_id extension: ordinary records"
    );

    both_ways(
        &mut server,
        &mut session,
        &sock,
        "ping from tern",
        "pong from openssl",
    );
    let mut out = [0u8; 256];

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

/// A UDP relay between the session and s_server: what the client sends goes to the server;
/// what the server sends goes to the client while `pass` is set, else it is held for the
/// test, which then sends the client what it likes from the relay's address.
struct Relay {
    /// The address the session sends to.
    port: u16,
    pass: Arc<AtomicBool>,
    held: Receiver<Vec<u8>>,
    to_client: UdpSocket,
    client: Arc<Mutex<Option<SocketAddr>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Relay {
    fn start(server_port: u16) -> Relay {
        let near = UdpSocket::bind("127.0.0.1:0").unwrap();
        let far = UdpSocket::bind("127.0.0.1:0").unwrap();
        far.connect(("127.0.0.1", server_port)).unwrap();
        for s in [&near, &far] {
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        }
        let pass = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let client = Arc::new(Mutex::new(None));
        let (tx, held) = mpsc::channel();
        {
            let (near, far, stop, client) = (
                near.try_clone().unwrap(),
                far.try_clone().unwrap(),
                stop.clone(),
                client.clone(),
            );
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok((n, from)) = near.recv_from(&mut buf) {
                        *client.lock().unwrap() = Some(from);
                        let _ = far.send(&buf[..n]);
                    }
                }
            });
        }
        {
            let (near, far, stop, client, pass) = (
                near.try_clone().unwrap(),
                far,
                stop.clone(),
                client.clone(),
                pass.clone(),
            );
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::Relaxed) {
                    let Ok(n) = far.recv(&mut buf) else { continue };
                    if pass.load(Ordering::Relaxed) {
                        if let Some(to) = *client.lock().unwrap() {
                            let _ = near.send_to(&buf[..n], to);
                        }
                    } else if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
        }
        Relay {
            port: near.local_addr().unwrap().port(),
            pass,
            held,
            to_client: near,
            client,
            stop,
        }
    }

    fn send_to_client(&self, datagram: &[u8]) {
        let to = self.client.lock().unwrap().expect("the client sent first");
        self.to_client.send_to(datagram, to).unwrap();
    }
}

/// Waits (10 s) for a datagram on `sock` and hands it to the session: the data it carried.
fn receive(session: &mut Session, sock: &UdpSocket) -> Option<Vec<u8>> {
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 1500];
    let n = sock
        .recv(&mut buf)
        .expect("a datagram from the relay within 10 s");
    session.handle_datagram(&mut buf[..n]).map(|d| d.to_vec())
}

#[test]
fn forged_server_records_are_dropped_and_the_genuine_one_gets_through() {
    let mut server = OpenSsl::start();
    let relay = Relay::start(server.port);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", relay.port)).unwrap();
    let mut session = handshake(&sock, &hex(KEY_HEX));
    assert!(session.is_established(), "handshake: {:?}", session.error());

    // A first record through the relay, kept for a replay.
    relay.pass.store(false, Ordering::Relaxed);
    let stdin = server.stdin.as_mut().unwrap();
    stdin.write_all(b"first\n").unwrap();
    stdin.flush().unwrap();
    let first = relay
        .held
        .recv_timeout(Duration::from_secs(10))
        .expect("s_server's record");
    relay.send_to_client(&first);
    assert_eq!(
        receive(&mut session, &sock).as_deref(),
        Some(&b"first\n"[..])
    );

    let stdin = server.stdin.as_mut().unwrap();
    stdin.write_all(b"second\n").unwrap();
    stdin.flush().unwrap();
    let second = relay
        .held
        .recv_timeout(Duration::from_secs(10))
        .expect("s_server's record");
    assert_eq!(second[0], 23, "one application-data record");
    let n = second.len();

    let mut flipped_mac = second.clone();
    flipped_mac[n - 1] ^= 0x01;
    let truncated = second[..n - 3].to_vec();
    let mut truncated_consistent = truncated.clone();
    let l = u16::from_be_bytes([second[11], second[12]]) - 3;
    truncated_consistent[11..13].copy_from_slice(&l.to_be_bytes());
    let mut epoch_2 = second.clone();
    epoch_2[3..5].copy_from_slice(&[0, 2]);
    let mut epoch_0 = second.clone();
    epoch_0[3..5].copy_from_slice(&[0, 0]);
    let forged: [(&str, &[u8]); 6] = [
        ("a replayed record", &first),
        ("a flipped MAC byte", &flipped_mac),
        ("a truncated record", &truncated),
        (
            "a truncated record with its length fixed",
            &truncated_consistent,
        ),
        ("a record of epoch 2", &epoch_2),
        ("a record of epoch 0 (in the clear)", &epoch_0),
    ];
    let rejected = session.rejected_records();
    for (what, datagram) in forged {
        relay.send_to_client(datagram);
        assert_eq!(receive(&mut session, &sock), None, "{what} gave data");
        assert!(
            session.is_established(),
            "{what} broke the session: {:?}",
            session.error()
        );
    }
    // Each record that parses was counted (the engine logs them as unauthenticated); the
    // one cut short is not a record at all.
    assert_eq!(session.rejected_records().wrapping_sub(rejected), 5);
    relay.send_to_client(&second);
    assert_eq!(
        receive(&mut session, &sock).as_deref(),
        Some(&b"second\n"[..])
    );

    // And the client's records still reach the server through the relay.
    let mut out = [0u8; 256];
    let n = session.seal(b"after the forgeries\n", &mut out).unwrap();
    sock.send(&out[..n]).unwrap();
    server.wait_for(|l| l == "after the forgeries", "the client's record");
}

#[test]
fn a_second_handshake_resumes_the_session_with_openssl() {
    let mut server = OpenSsl::start();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", server.port)).unwrap();
    let mut session = handshake(&sock, &hex(KEY_HEX));
    assert!(session.is_established(), "handshake: {:?}", session.error());
    assert!(!session.is_resumed(), "the first handshake is a full one");
    let mut out = [0u8; 256];
    let n = session.seal(b"full\n", &mut out).unwrap();
    sock.send(&out[..n]).unwrap();
    server.wait_for(|l| l == "full", "data of the full handshake");

    // close_notify: s_server ends that connection and waits for the next one.
    let n = session.close(&mut out).unwrap();
    sock.send(&out[..n]).unwrap();
    assert!(session.is_idle());
    server.wait_for(|l| l == "DONE", "the end of the first connection");

    session.start(*b"another client random, 32 bytes!", 0);
    drive(&sock, &mut session);
    assert!(
        session.is_established(),
        "resumption: {:?}",
        session.error()
    );
    assert!(session.is_resumed(), "the server echoed the session id");
    server.wait_for(
        |l| l.contains("Reused session-id"),
        "s_server reusing the session",
    );

    both_ways(&mut server, &mut session, &sock, "resumed", "back");
}

/// s_server's "r" command renegotiates: a HelloRequest. The session answers with a warning
/// alert no_renegotiation; OpenSSL, which insists, then ends the connection with a fatal
/// handshake_failure (its dtls1_read_bytes does so on no_renegotiation), which it could only
/// do if the alert authenticated and parsed. (That the session goes on with a server that
/// accepts the refusal is a unit test.)
#[test]
fn a_renegotiation_from_openssl_is_refused_with_an_alert_it_understands() {
    let mut server = OpenSsl::start();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", server.port)).unwrap();
    let mut session = handshake(&sock, &hex(KEY_HEX));
    assert!(session.is_established(), "handshake: {:?}", session.error());
    let mut out = [0u8; 256];
    let n = session.seal(b"before\n", &mut out).unwrap();
    sock.send(&out[..n]).unwrap();
    server.wait_for(|l| l == "before", "data before the renegotiation");

    let stdin = server.stdin.as_mut().unwrap();
    stdin.write_all(b"r\n").unwrap();
    stdin.flush().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 1500];
    let n = sock.recv(&mut buf).expect("the HelloRequest within 10 s");
    assert!(session.handle_datagram(&mut buf[..n]).is_none());
    assert!(
        session.is_established(),
        "a HelloRequest does not end the session"
    );
    assert_eq!(session.poll_timeout(), Some(0), "an alert to send");
    let n = session
        .poll_transmit(0, &mut out)
        .expect("the no_renegotiation alert");
    assert_eq!(out[0], 21, "an alert record");
    assert!(session.poll_transmit(0, &mut out).is_none(), "sent once");
    sock.send(&out[..n]).unwrap();

    let n = sock.recv(&mut buf).expect("OpenSSL's answer within 10 s");
    assert!(session.handle_datagram(&mut buf[..n]).is_none());
    assert_eq!(session.error(), Some(Error::Alert(40)), "handshake_failure");
    server.wait_for(|l| l == "ERROR", "s_server ending the connection");
}

/// A small link MTU and a long identity hint make s_server send its ServerKeyExchange in
/// fragments (RFC 6347 section 4.2.3): the session puts it back together.
#[test]
fn a_server_key_exchange_in_fragments_from_openssl() {
    let hint = "h".repeat(250);
    let server = OpenSsl::start_with(&["-mtu", "256", "-psk_hint", &hint]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", server.port)).unwrap();
    let mut session = Session::new(IDENTITY, &hex(KEY_HEX), [3; 32], 0).unwrap();
    // The handshake, watching for fragments of the server's messages.
    let start = Instant::now();
    let now = || start.elapsed().as_millis() as u64;
    let mut out = [0u8; 1500];
    let mut buf = [0u8; 1500];
    let mut fragments = 0;
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    while !session.is_established() && session.error().is_none() && now() < 10_000 {
        while let Some(n) = session.poll_transmit(now(), &mut out) {
            sock.send(&out[..n]).unwrap();
        }
        if let Ok(n) = sock.recv(&mut buf) {
            // Epoch-0 handshake records: is the message shorter than its length says?
            let mut d = &buf[..n];
            while d.len() >= 25 {
                let l = usize::from(u16::from_be_bytes([d[11], d[12]]));
                if d[0] == 22 && d[3..5] == [0, 0] {
                    let len = u32::from_be_bytes([0, d[14], d[15], d[16]]);
                    let frag = u32::from_be_bytes([0, d[22], d[23], d[24]]);
                    if frag < len {
                        fragments += 1;
                    }
                }
                d = &d[(13 + l).min(d.len())..];
            }
            session.handle_datagram(&mut buf[..n]);
        }
    }
    assert!(fragments >= 2, "s_server sent {fragments} fragments");
    assert!(session.is_established(), "handshake: {:?}", session.error());
    let n = session.seal(b"reassembled\n", &mut out).unwrap();
    sock.send(&out[..n]).unwrap();
    server.wait_for(|l| l == "reassembled", "data after a fragmented handshake");
}
