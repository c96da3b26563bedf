//! DTLS 1.2 with a Connection ID (RFC 9146) against an independent peer: Eclipse
//! Californium's Scandium (tests/interop/scandium, a PSK echo server with 6-byte CIDs), on
//! loopback. The session must negotiate the CID, exchange data both ways, and keep working
//! when its next record leaves from another UDP socket (a NAT rebinding): Scandium finds the
//! session by the CID and answers to the new address, with no new handshake.
//!
//! Skipped (with a message) only when Java or Maven is missing.
#![cfg(feature = "dtls")]

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use tern::dtls::Session;

const IDENTITY: &str = "tern-cid";
const KEY_HEX: &str = "00112233445566778899aabbccddeeff";

/// The echo server, stopped when dropped; its stdout lines come through `lines`.
struct Scandium {
    child: Child,
    lines: Receiver<String>,
    port: u16,
}

impl Drop for Scandium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

impl Scandium {
    /// Builds (once) and starts the server; `None` when Java or Maven is missing.
    fn start() -> Option<Scandium> {
        if !have("java") || !have("mvn") {
            eprintln!("SKIPPED: dtls_scandium needs java and mvn (a JDK >= 17 and Maven)");
            return None;
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/scandium");
        let built = Command::new(dir.join("setup.sh"))
            .status()
            .expect("tests/interop/scandium/setup.sh runs");
        assert!(built.success(), "building the Scandium echo server failed");
        let classpath = format!(
            "{}:{}",
            dir.join("target/tern-scandium-echo.jar").display(),
            dir.join("target/deps/*").display()
        );
        let mut child = Command::new("java")
            .args(["-cp", &classpath, "org.tern.interop.ScandiumEcho"])
            .args(["--identity", IDENTITY, "--key", KEY_HEX, "--timeout", "60"])
            .args(if std::env::var_os("TERN_DTLS_DEBUG").is_some() {
                &["--verbose"][..]
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
            .expect("java starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Scandium {
            child,
            lines,
            port: 0,
        };
        let listening = server.wait_for(|l| l.starts_with("LISTENING "), "LISTENING");
        server.port = listening["LISTENING ".len()..].trim().parse().unwrap();
        Some(server)
    }

    /// Waits (at most 20 s) for a line of the server's output that `want` accepts.
    fn wait_for(&self, want: impl Fn(&str) -> bool, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if want(&line) => return line,
                Ok(line) => eprintln!("scandium: {line}"),
                Err(_) => break,
            }
        }
        panic!("the Scandium server never printed {what}");
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Seals `data`, sends it over `sock`, and waits (10 s) for the echo: the data it carried.
fn echo(session: &mut Session, sock: &UdpSocket, data: &[u8]) -> Vec<u8> {
    let mut out = [0u8; 1500];
    let n = session.seal(data, &mut out).unwrap();
    let cid = session.peer_cid().unwrap();
    assert_eq!(out[0], 25, "a tls12_cid record");
    assert_eq!(
        &out[11..11 + cid.len()],
        cid,
        "the CID after the sequence number"
    );
    sock.send(&out[..n]).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf) {
            if let Some(d) = session.handle_datagram(&mut buf[..n]) {
                return d.to_vec();
            }
        }
    }
    panic!("no echo of {:?} within 10 s", String::from_utf8_lossy(data));
}

#[test]
fn connection_id_survives_a_new_source_port_with_scandium() {
    let Some(server) = Scandium::start() else {
        return;
    };
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", server.port)).unwrap();

    let start = Instant::now();
    let now = || start.elapsed().as_millis() as u64;
    let mut session = Session::new(
        IDENTITY.as_bytes(),
        &hex(KEY_HEX),
        *b"a client random for scandium!!!!",
        now(),
    )
    .unwrap();
    let mut out = [0u8; 1500];
    let mut buf = [0u8; 1500];
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    while !session.is_established() && session.error().is_none() && now() < 20_000 {
        while let Some(n) = session.poll_transmit(now(), &mut out) {
            sock.send(&out[..n]).unwrap();
        }
        if let Ok(n) = sock.recv(&mut buf) {
            session.handle_datagram(&mut buf[..n]);
        }
    }
    assert!(session.is_established(), "handshake: {:?}", session.error());
    let cid = session.peer_cid().expect("Scandium gave a CID").to_vec();
    assert_eq!(cid.len(), 6, "the server's 6-byte CID");

    assert_eq!(echo(&mut session, &sock, b"first"), b"echo:first");
    let first_port = sock.local_addr().unwrap().port();
    server.wait_for(|l| l == format!("DATA {first_port} 5"), "the first record");

    // A NAT rebinding: the next record leaves from another port, same session.
    let moved = UdpSocket::bind("127.0.0.1:0").unwrap();
    moved.connect(("127.0.0.1", server.port)).unwrap();
    let new_port = moved.local_addr().unwrap().port();
    assert_ne!(new_port, first_port);
    assert_eq!(echo(&mut session, &moved, b"moved"), b"echo:moved");
    server.wait_for(
        |l| l == format!("DATA {new_port} 5"),
        "the record from the new port",
    );
    assert!(session.is_established());
    assert_eq!(session.peer_cid(), Some(&cid[..]), "no new handshake");
    assert!(
        session.poll_transmit(now(), &mut out).is_none(),
        "nothing to send: no handshake started again"
    );
    // And again, from the new address.
    assert_eq!(echo(&mut session, &moved, b"again"), b"echo:again");
}
