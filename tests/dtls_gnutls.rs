//! DTLS 1.2 against GnuTLS's `gnutls-serv --udp --echo` on loopback: a pre-shared key
//! (TLS_PSK_WITH_AES_128_CCM_8) and raw public keys (RFC 7250,
//! TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8) with keys generated for each run. tern's
//! `dtls::Session`, driven over a real UDP socket, must finish the handshake and get its
//! data echoed back; a server whose key is not the configured one must fail the session.
//!
//! gnutls-serv has no listen-address option: it runs under a small LD_PRELOAD shim
//! (tests/dtls/shim.c, built here with gcc) that turns its wildcard binds into loopback
//! ones. Without gnutls-serv, certtool, openssl or gcc the tests say so and pass.
#![cfg(feature = "dtls")]

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(feature = "dtls-rpk")]
use tern::dtls::Error;
use tern::dtls::Session;

const PSK_PRIORITY: &str =
    "NONE:+VERS-DTLS1.2:+AES-128-CCM-8:+AEAD:+COMP-NULL:+SIGN-ALL:+PSK:+GROUP-ALL";
#[cfg(feature = "dtls-rpk")]
const RPK_PRIORITY: &str = "NONE:+VERS-DTLS1.2:+AES-128-CCM-8:+AEAD:+COMP-NULL:+SIGN-ALL:+ECDHE-ECDSA:+GROUP-SECP256R1:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK";

fn debug() -> bool {
    std::env::var_os("TERN_DTLS_DEBUG").is_some()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A directory of its own for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("tern-gnutls-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a tool to completion (at most 30 s is plenty for key generation).
fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The tools the tests need, and the shim built into `dir`; `None` (with a message) when
/// something is missing.
fn prepare(dir: &TempDir) -> Option<PathBuf> {
    for tool in ["gnutls-serv", "certtool", "openssl", "gcc"] {
        if !have(tool) {
            eprintln!(
                "SKIPPED: {tool} not found (apt-get install gnutls-bin openssl gcc): \
                 the GnuTLS interop tests did not run"
            );
            return None;
        }
    }
    let shim = dir.path("shim.so");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dtls/shim.c");
    run(
        "gcc",
        &[
            "-shared",
            "-fPIC",
            "-o",
            shim.to_str().unwrap(),
            source.to_str().unwrap(),
            "-ldl",
        ],
    );
    Some(shim)
}

/// gnutls-serv, stopped when dropped.
struct GnuTls {
    child: Child,
    port: u16,
}

impl Drop for GnuTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl GnuTls {
    fn start(shim: &Path, args: &[&str]) -> GnuTls {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("gnutls-serv")
            .env("LD_PRELOAD", shim)
            .args(["--udp", "--echo", "-p", &port.to_string()])
            .args(args)
            .args(if debug() { &["-d", "4"][..] } else { &[][..] })
            .stdin(Stdio::null())
            .stdout(if debug() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .stderr(if debug() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("gnutls-serv");
        let server = GnuTls { child, port };
        // Its stdout is block-buffered in a pipe: wait for the loopback socket instead.
        let bound = format!(" 0100007F:{port:04X} ");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string("/proc/net/udp").is_ok_and(|t| t.contains(&bound)) {
            assert!(
                Instant::now() < deadline,
                "gnutls-serv did not bind 127.0.0.1:{port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn socket(&self) -> UdpSocket {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.connect(("127.0.0.1", self.port)).unwrap();
        sock
    }
}

/// Runs the handshake over `sock` until it is over or 10 s pass (alerts included), then
/// sends what is still due.
fn handshake(sock: &UdpSocket, session: &mut Session, start: Instant) {
    let now = || start.elapsed().as_millis() as u64;
    let mut out = [0u8; 1500];
    let mut buf = [0u8; 1500];
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    while !session.is_established() && now() < 10_000 {
        while let Some(n) = session.poll_transmit(now(), &mut out) {
            sock.send(&out[..n]).unwrap();
        }
        if session.error().is_some() {
            break;
        }
        if let Ok(n) = sock.recv(&mut buf) {
            session.handle_datagram(&mut buf[..n]);
        }
    }
    // What is due once established: the client's last flight of an abbreviated handshake.
    while let Some(n) = session.poll_transmit(now(), &mut out) {
        sock.send(&out[..n]).unwrap();
    }
}

/// Sends `payload` and waits (at most 10 s) for the server's echo of it.
fn echo(sock: &UdpSocket, session: &mut Session, payload: &[u8]) {
    let mut out = [0u8; 1500];
    let n = session.seal(payload, &mut out).unwrap();
    sock.send(&out[..n]).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        let Ok(n) = sock.recv(&mut buf) else { continue };
        if let Some(data) = session.handle_datagram(&mut buf[..n]) {
            assert_eq!(data, payload, "the echo");
            return;
        }
    }
    panic!(
        "no echo of {:?} within 10 s",
        String::from_utf8_lossy(payload)
    );
}

#[test]
fn psk_handshake_then_data_echoed_by_gnutls() {
    let dir = TempDir::new("psk");
    let Some(shim) = prepare(&dir) else { return };
    let passwd = dir.path("psk.passwd");
    std::fs::write(&passwd, "tern-client:000102030405060708090a0b0c0d0e0f\n").unwrap();
    let server = GnuTls::start(
        &shim,
        &[
            "--priority",
            PSK_PRIORITY,
            "--pskpasswd",
            passwd.to_str().unwrap(),
        ],
    );
    let sock = server.socket();
    let start = Instant::now();
    let key: Vec<u8> = (0u8..16).collect();
    let mut session = Session::new(b"tern-client", &key, [7; 32], 0).unwrap();
    handshake(&sock, &mut session, start);
    assert!(session.is_established(), "handshake: {:?}", session.error());
    echo(&sock, &mut session, b"ping from tern over PSK");
    echo(&sock, &mut session, b"and a second record");
}

/// Keys for one raw-public-key run: the server's (PEM files for gnutls-serv, its
/// SubjectPublicKeyInfo DER for tern) and the client's (PKCS#8 DER for tern).
#[cfg(feature = "dtls-rpk")]
struct Keys {
    server_key: PathBuf,
    server_pub: PathBuf,
    server_spki: Vec<u8>,
    client_key: Vec<u8>,
}

#[cfg(feature = "dtls-rpk")]
fn make_keys(dir: &TempDir, name: &str) -> Keys {
    let p = |f: &str| dir.path(&format!("{name}-{f}"));
    let server_key = p("server.pem");
    let server_pub = p("server.pub.pem");
    let spki = p("server.pub.der");
    let client_pem = p("client.pem");
    let client_der = p("client.p8");
    let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
    run(
        "certtool",
        &[
            "--generate-privkey",
            "--key-type=ecdsa",
            "--curve=secp256r1",
            "--outfile",
            &s(&server_key),
        ],
    );
    run(
        "certtool",
        &[
            "--load-privkey",
            &s(&server_key),
            "--pubkey-info",
            "--outfile",
            &s(&server_pub),
        ],
    );
    run(
        "openssl",
        &[
            "pkey",
            "-in",
            &s(&server_key),
            "-pubout",
            "-outform",
            "DER",
            "-out",
            &s(&spki),
        ],
    );
    run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &s(&client_pem),
        ],
    );
    run(
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            &s(&client_pem),
            "-outform",
            "DER",
            "-out",
            &s(&client_der),
        ],
    );
    Keys {
        server_spki: std::fs::read(&spki).unwrap(),
        client_key: std::fs::read(&client_der).unwrap(),
        server_key,
        server_pub,
    }
}

#[cfg(feature = "dtls-rpk")]
fn rpk_server(shim: &Path, keys: &Keys, extra: &[&str]) -> GnuTls {
    let mut args = vec![
        "--priority",
        RPK_PRIORITY,
        "--rawpkkeyfile",
        keys.server_key.to_str().unwrap(),
        "--rawpkfile",
        keys.server_pub.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    GnuTls::start(shim, &args)
}

#[cfg(feature = "dtls-rpk")]
#[test]
fn rpk_handshake_then_data_echoed_by_gnutls() {
    let dir = TempDir::new("rpk");
    let Some(shim) = prepare(&dir) else { return };
    let keys = make_keys(&dir, "a");
    assert_eq!(keys.server_spki.len(), 91, "a P-256 SubjectPublicKeyInfo");
    // Once where the server asks for the client's key (the client then sends its
    // Certificate and CertificateVerify), once where it must have one.
    for extra in [&[][..], &["--require-client-cert"][..]] {
        let server = rpk_server(&shim, &keys, extra);
        let sock = server.socket();
        let start = Instant::now();
        let mut session =
            Session::new_rpk(&keys.client_key, &keys.server_spki, [3; 32], [9; 32], 0).unwrap();
        handshake(&sock, &mut session, start);
        assert!(
            session.is_established(),
            "handshake ({extra:?}): {:?}",
            session.error()
        );
        echo(&sock, &mut session, b"ping from tern over raw public keys");
        echo(&sock, &mut session, b"and a second record");
    }
}

#[cfg(feature = "dtls-rpk")]
#[test]
fn a_server_with_another_key_fails_the_rpk_session() {
    let dir = TempDir::new("rpk-wrong");
    let Some(shim) = prepare(&dir) else { return };
    let keys = make_keys(&dir, "a");
    let other = make_keys(&dir, "b");
    let server = rpk_server(&shim, &keys, &[]);
    let sock = server.socket();
    let start = Instant::now();
    let mut session =
        Session::new_rpk(&keys.client_key, &other.server_spki, [3; 32], [9; 32], 0).unwrap();
    handshake(&sock, &mut session, start);
    assert!(!session.is_established());
    assert_eq!(session.error(), Some(Error::BadServerKey));
    assert_eq!(
        session.poll_timeout(),
        None,
        "the alert went out, nothing else"
    );
}

#[cfg(feature = "dtls-rpk")]
#[test]
fn an_rpk_session_resumes_with_gnutls() {
    let dir = TempDir::new("rpk-resume");
    let Some(shim) = prepare(&dir) else { return };
    let keys = make_keys(&dir, "a");
    let server = rpk_server(&shim, &keys, &[]);
    let sock = server.socket();
    let start = Instant::now();
    let mut session =
        Session::new_rpk(&keys.client_key, &keys.server_spki, [3; 32], [9; 32], 0).unwrap();
    handshake(&sock, &mut session, start);
    assert!(session.is_established(), "{:?}", session.error());
    echo(&sock, &mut session, b"before the resumption");
    let mut out = [0u8; 128];
    let n = session.close(&mut out).expect("close_notify");
    sock.send(&out[..n]).unwrap();
    // A new handshake on the same session: the abbreviated one (no certificates, no key
    // exchange), then data again.
    session.start([4; 32], start.elapsed().as_millis() as u64);
    session.seed_ephemeral([10; 32]);
    handshake(&sock, &mut session, start);
    assert!(session.is_established(), "{:?}", session.error());
    assert!(session.is_resumed(), "gnutls-serv resumed the session");
    echo(&sock, &mut session, b"after the resumption");
}
