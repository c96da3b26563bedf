//! A DTLS 1.2 handshake with raw public keys (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, RFC
//! 7250 certificates, P-256), for instruction counts under callgrind and for what it puts
//! on the wire; the client sends its own key and a CertificateVerify (the server asks).
//!
//! The server is GnuTLS's `gnutls-serv --udp` on loopback, under the LD_PRELOAD shim of
//! tests/dtls/shim.c (built here with gcc) that keeps it off the wildcard address, with a
//! key pair made by certtool. One live handshake records the server's datagrams;
//! `handshake_rpk N` then replays them to N fresh sessions in process (the same client
//! random, ephemeral seed and key, so the server's flights verify again): `.ci/callgrind.sh`
//! runs it for two values of N and divides the difference.
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tern::dtls::Session;

#[path = "replay/mod.rs"]
mod replay;

const CLIENT_KEY: [u8; 32] = [0x21; 32];
const RANDOM: [u8; 32] = *b"the bench's client random, 32 b.";
const SEED: [u8; 32] = *b"the bench's ephemeral seed, 32 b";
const PRIORITY: &str = "NONE:+VERS-DTLS1.2:+AES-128-CCM-8:+AEAD:+COMP-NULL:+SIGN-ALL:+ECDHE-ECDSA:+GROUP-SECP256R1:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK";

/// gnutls-serv and its directory, both gone when dropped.
struct Server(Child, u16, PathBuf);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.2);
    }
}

fn run(program: &str, args: &[&str]) {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{program} {args:?} failed (gnutls-bin, openssl and gcc are needed)"
    );
}

/// The server, and its public key as a SubjectPublicKeyInfo.
fn start_server() -> (Server, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("tern-bench-rpk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let p = |f: &str| dir.join(f).to_str().expect("a UTF-8 path").to_owned();
    let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dtls/shim.c");
    run(
        "gcc",
        &[
            "-shared",
            "-fPIC",
            "-o",
            &p("shim.so"),
            shim.to_str().expect("path"),
            "-ldl",
        ],
    );
    run(
        "certtool",
        &[
            "--generate-privkey",
            "--key-type=ecdsa",
            "--curve=secp256r1",
            "--outfile",
            &p("key.pem"),
        ],
    );
    run(
        "certtool",
        &[
            "--load-privkey",
            &p("key.pem"),
            "--pubkey-info",
            "--outfile",
            &p("pub.pem"),
        ],
    );
    run(
        "openssl",
        &[
            "pkey",
            "-in",
            &p("key.pem"),
            "-pubout",
            "-outform",
            "DER",
            "-out",
            &p("pub.der"),
        ],
    );
    let spki = std::fs::read(p("pub.der")).expect("the server's public key");
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("gnutls-serv")
        .env("LD_PRELOAD", p("shim.so"))
        .args([
            "--udp",
            "--echo",
            "-p",
            &port.to_string(),
            "--priority",
            PRIORITY,
        ])
        .args([
            "--rawpkkeyfile",
            &p("key.pem"),
            "--rawpkfile",
            &p("pub.pem"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnutls-serv must be installed");
    let server = Server(child, port, dir);
    let bound = format!(" 0100007F:{port:04X} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string("/proc/net/udp").is_ok_and(|t| t.contains(&bound)) {
        assert!(Instant::now() < deadline, "gnutls-serv did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (server, spki)
}

fn session(spki: &[u8]) -> Session {
    Session::new_rpk(&CLIENT_KEY, spki, RANDOM, SEED, 0).expect("keys")
}

fn main() {
    let (server, spki) = start_server();
    let session = || session(&spki);
    let wire = replay::record(server.1, session);
    drop(server);
    replay::write_fixture(
        "handshake_rpk",
        &wire,
        &[
            ("CLIENT_KEY", &CLIENT_KEY),
            ("SERVER_KEY", &spki),
            ("RANDOM", &RANDOM),
            ("SEED", &SEED),
        ],
    );
    replay::report_and_replay("handshake_rpk", &wire, session);
}
