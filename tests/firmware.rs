//! The Firmware Update object (5) through the engine: a package pushed by Write, and a
//! package pulled from a Package URI over real UDP on loopback from a small Block2 file
//! server (coap-lite), including blocks whose every retransmission is lost, after which
//! the download resumes where it stopped and completes with the exact bytes.
#![cfg(feature = "firmware-update")]

mod sim;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};

use sim::{new_client, request, Rng, ScriptedServer};
use tern::client::download::{DOWNLOAD_SLOT, MAX_LOSSES};
use tern::client::{Client, Event, Platform};
use tern::model::{
    Device, DeviceInfo, Firmware, FirmwareSink, FirmwareState, Object, Objects, PullSupport,
    UpdateResult,
};

/// The application's download slot: the bytes, in order.
#[derive(Default)]
struct Sink {
    data: Vec<u8>,
    opened: u32,
    finished: Option<u32>,
}

impl FirmwareSink for Sink {
    fn open(&mut self) -> Result<(), UpdateResult> {
        self.opened += 1;
        self.data.clear();
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
        assert_eq!(offset as usize, self.data.len(), "in order, without gaps");
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn finish(&mut self, size: u32) -> Result<(), UpdateResult> {
        self.finished = Some(size);
        Ok(())
    }
    fn cancel(&mut self) {
        self.data.clear();
    }
}

struct Objs {
    device: Device<'static>,
    fw: Firmware<'static, Sink>,
}

impl Objects for Objs {
    fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
        match index {
            0 => Some(&mut self.device),
            1 => Some(&mut self.fw),
            _ => None,
        }
    }
}

struct Plat {
    rng: Rng,
    objs: Objs,
}

impl Platform for Plat {
    fn random(&mut self, out: &mut [u8]) {
        self.rng.fill(out);
    }
    fn objects(&mut self) -> &mut dyn Objects {
        &mut self.objs
    }
    fn download_failed(&mut self, result: UpdateResult) {
        self.objs.fw.download_failed(result);
    }
}

fn platform() -> Plat {
    Plat {
        rng: Rng(7),
        objs: Objs {
            device: Device::new(DeviceInfo {
                manufacturer: "m",
                model: "x",
                serial: "1",
                firmware_version: "0",
            }),
            fw: Firmware::new(Sink::default(), PullSupport::Coap),
        },
    }
}

/// A package of `len` bytes that no block repeats.
fn package(len: usize) -> Vec<u8> {
    let mut rng = Rng(0xF1F1);
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    v
}

/// CRC-32 (IEEE), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The server's request to the client (on server slot 0); returns the response.
fn server_request(c: &mut Client, p: &mut Plat, mut req: Packet, now: u64) -> Packet {
    static MID: AtomicU32 = AtomicU32::new(0x100);
    req.header.message_id = MID.fetch_add(1, Ordering::Relaxed) as u16;
    req.set_token(vec![0x42]);
    c.handle_datagram(0, &req.to_bytes().unwrap(), now, p);
    let t = c.poll_transmit(now, p).expect("a response");
    assert_eq!(t.server, 0);
    Packet::from_bytes(t.data).expect("parses")
}

fn code(p: &Packet) -> String {
    let raw: u8 = p.header.code.into();
    format!("{}.{:02}", raw >> 5, raw & 0x1F)
}

fn read_text(c: &mut Client, p: &mut Plat, path: &str, now: u64) -> String {
    let mut req = request(RequestType::Get, path);
    req.add_option(CoapOption::Accept, vec![0]);
    let r = server_request(c, p, req, now);
    assert_eq!(code(&r), "2.05", "{path}");
    String::from_utf8(r.payload).unwrap()
}

fn write(c: &mut Client, p: &mut Plat, path: &str, format: u8, data: &[u8]) -> String {
    let mut req = request(RequestType::Put, path);
    req.add_option(CoapOption::ContentFormat, vec![format]);
    req.payload = data.to_vec();
    code(&server_request(c, p, req, 0))
}

fn execute(c: &mut Client, p: &mut Plat, path: &str) -> String {
    code(&server_request(c, p, request(RequestType::Post, path), 0))
}

/// A client whose server connection is never opened: it answers requests and sends
/// nothing of its own on slot 0.
fn client() -> Client {
    let mut c = new_client(300, 30, 1);
    while c.poll_event().is_some() {}
    c
}

#[test]
fn pushed_package_is_downloaded_then_updated() {
    let (mut c, mut p) = (client(), platform());
    let image = package(400);
    assert_eq!(
        execute(&mut c, &mut p, "/5/0/2"),
        "4.05",
        "nothing downloaded"
    );
    assert_eq!(write(&mut c, &mut p, "/5/0/0", 42, &image), "2.04");
    assert_eq!(p.objs.fw.sink().data, image);
    assert_eq!(p.objs.fw.sink().finished, Some(400));
    assert_eq!(read_text(&mut c, &mut p, "/5/0/3", 0), "2");
    assert_eq!(read_text(&mut c, &mut p, "/5/0/5", 0), "0");
    assert_eq!(execute(&mut c, &mut p, "/5/0/2"), "2.04");
    assert_eq!(read_text(&mut c, &mut p, "/5/0/3", 0), "3");
    assert!(p.objs.fw.take_update_request());
    assert_eq!(
        execute(&mut c, &mut p, "/5/0/2"),
        "4.05",
        "already updating"
    );
    assert!(p.objs.fw.update_done(UpdateResult::Success));
    assert_eq!(read_text(&mut c, &mut p, "/5/0/3", 0), "0");
    assert_eq!(read_text(&mut c, &mut p, "/5/0/5", 0), "1");
    // An empty Package resets the result; Package (write-only) cannot be read.
    assert_eq!(write(&mut c, &mut p, "/5/0/0", 42, &[]), "2.04");
    assert_eq!(read_text(&mut c, &mut p, "/5/0/5", 0), "0");
    let mut req = request(RequestType::Get, "/5/0/0");
    req.add_option(CoapOption::Accept, vec![42]);
    assert_eq!(code(&server_request(&mut c, &mut p, req, 0)), "4.05");
    assert_eq!(c.poll_event(), None, "a push opens no download");
}

/// Block1 option value: `num`, more-flag, SZX.
fn block1(num: u32, more: bool, szx: u8) -> Vec<u8> {
    let v = (num << 4) | (u32::from(more) << 3) | u32::from(szx);
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    bytes[skip..].to_vec()
}

#[test]
fn package_pushed_block_by_block_arrives_whole() {
    let (mut c, mut p) = (client(), platform());
    // 3,000 bytes: more than a message holds, so it comes in 256-byte Block1 blocks.
    let image = package(3000);
    let blocks: Vec<&[u8]> = image.chunks(256).collect();
    for (num, chunk) in blocks.iter().enumerate() {
        let more = num + 1 < blocks.len();
        let mut req = request(RequestType::Put, "/5/0/0");
        req.add_option(CoapOption::ContentFormat, vec![42]);
        req.add_option(CoapOption::Block1, block1(num as u32, more, 4));
        req.payload = chunk.to_vec();
        let r = server_request(&mut c, &mut p, req, 0);
        assert_eq!(code(&r), if more { "2.31" } else { "2.04" }, "block {num}");
        // Until the last block the state is Downloading (1); then Downloaded (2).
        let state = read_text(&mut c, &mut p, "/5/0/3", 0);
        assert_eq!(state, if more { "1" } else { "2" }, "after block {num}");
    }
    assert_eq!(p.objs.fw.sink().data, image);
    assert_eq!(p.objs.fw.sink().finished, Some(3000));
    assert_eq!(execute(&mut c, &mut p, "/5/0/2"), "2.04");
    assert!(p.objs.fw.take_update_request());
}

#[test]
fn unusable_package_uris_are_reported_in_update_result() {
    let (mut c, mut p) = (client(), platform());
    for (uri, result) in [
        ("http://127.0.0.1/fw", "9"),
        ("coaps://127.0.0.1/fw", "9"),
        ("not a uri", "7"),
    ] {
        assert_eq!(write(&mut c, &mut p, "/5/0/1", 0, uri.as_bytes()), "2.04");
        assert_eq!(read_text(&mut c, &mut p, "/5/0/3", 0), "0", "{uri}");
        assert_eq!(read_text(&mut c, &mut p, "/5/0/5", 0), result, "{uri}");
    }
    assert_eq!(c.poll_event(), None, "no download starts");
    // A URI that cannot be opened: Invalid URI.
    assert_eq!(
        write(
            &mut c,
            &mut p,
            "/5/0/1",
            0,
            b"coap://unresolvable.invalid/fw"
        ),
        "2.04"
    );
    assert_eq!(c.poll_event(), Some(Event::DownloadConnectionNeeded));
    assert_eq!(
        c.download_uri(&mut p, str::to_owned).as_deref(),
        Some("coap://unresolvable.invalid/fw")
    );
    assert_eq!(p.objs.fw.uri(), "coap://unresolvable.invalid/fw");
    c.download_connection_failed(&mut p);
    assert_eq!(
        p.objs.fw.state(),
        FirmwareState::Idle(UpdateResult::InvalidUri)
    );
}

/// What the file server does with requests for one block.
struct Drop {
    block: u32,
    /// Requests for it still to be ignored.
    remaining: u32,
}

/// How the file server answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// In the ACK.
    Piggybacked,
    /// An empty ACK, then a confirmable response.
    Separate,
    /// Always block 0, whatever was asked for (a broken server).
    BlockZero,
}

/// A CoAP file server on 127.0.0.1: GET /fw/image.bin answered with Block2 blocks of the
/// size asked for (at most 256 bytes) and Size2; anything else gets 4.04.
struct FileServer {
    port: u16,
    /// ACKs of the client's ACKs of separate responses.
    acks: Arc<AtomicU32>,
    /// Datagrams handled (answered, dropped or taken), counted after any answer went out.
    handled: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    /// Block numbers of the requests that reached it (dropped ones too).
    log: Arc<Mutex<Vec<u32>>>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    fn start(file: Vec<u8>, drops: Vec<Drop>) -> FileServer {
        FileServer::start_with(file, drops, Mode::Piggybacked)
    }

    fn start_with(file: Vec<u8>, drops: Vec<Drop>, mode: Mode) -> FileServer {
        let separate = mode == Mode::Separate;
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let port = sock.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop2, log2) = (stop.clone(), log.clone());
        let acks = Arc::new(AtomicU32::new(0));
        let acks2 = acks.clone();
        let handled = Arc::new(AtomicU32::new(0));
        let handled2 = handled.clone();
        let mut next_mid = 0x7000u16;
        let thread = std::thread::spawn(move || {
            let mut drops = drops;
            let mut buf = [0u8; 1500];
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop2.load(Ordering::Relaxed) && Instant::now() < deadline {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                // Counted once this datagram is dealt with, whatever the branch.
                struct Count<'a>(&'a AtomicU32);
                impl std::ops::Drop for Count<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_add(1, Ordering::SeqCst);
                    }
                }
                let _count = Count(&handled2);
                let Ok(req) = Packet::from_bytes(&buf[..n]) else {
                    continue;
                };
                if req.header.code == MessageClass::Empty {
                    if req.header.get_type() == MessageType::Acknowledgement {
                        acks2.fetch_add(1, Ordering::Relaxed);
                    }
                    continue;
                }
                let (num, szx) = req
                    .get_option(CoapOption::Block2)
                    .and_then(|l| l.front().cloned())
                    .map(|v| {
                        let x = v.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b));
                        (x >> 4, (x & 7) as u8)
                    })
                    .unwrap_or((0, 6));
                log2.lock().unwrap().push(num);
                if let Some(d) = drops.iter_mut().find(|d| d.block == num && d.remaining > 0) {
                    d.remaining -= 1;
                    continue;
                }
                let mut r = Packet::new();
                r.header.set_type(MessageType::Acknowledgement);
                r.header.message_id = req.header.message_id;
                r.set_token(req.get_token().to_vec());
                let path: Vec<String> = req
                    .get_option(CoapOption::UriPath)
                    .map(|l| {
                        l.iter()
                            .map(|s| String::from_utf8_lossy(s).into())
                            .collect()
                    })
                    .unwrap_or_default();
                if path != ["fw", "image.bin"] {
                    r.header.code = MessageClass::Response(ResponseType::NotFound);
                } else {
                    let szx = szx.min(4);
                    let num = if mode == Mode::BlockZero { 0 } else { num };
                    let size = 16usize << szx;
                    let start = (num as usize * size).min(file.len());
                    let end = (start + size).min(file.len());
                    let more = end < file.len();
                    let v = (num << 4) | (u32::from(more) << 3) | u32::from(szx);
                    let bytes: Vec<u8> = v
                        .to_be_bytes()
                        .into_iter()
                        .skip_while(|&b| b == 0)
                        .collect();
                    r.header.code = MessageClass::Response(ResponseType::Content);
                    r.add_option(CoapOption::Block2, bytes);
                    r.add_option(
                        CoapOption::Size2,
                        (file.len() as u32)
                            .to_be_bytes()
                            .into_iter()
                            .skip_while(|&b| b == 0)
                            .collect(),
                    );
                    r.payload = file[start..end].to_vec();
                }
                if separate {
                    let mut ack = Packet::new();
                    ack.header.set_type(MessageType::Acknowledgement);
                    ack.header.code = MessageClass::Empty;
                    ack.header.message_id = req.header.message_id;
                    let _ = sock.send_to(&ack.to_bytes().unwrap(), from);
                    r.header.set_type(MessageType::Confirmable);
                    next_mid = next_mid.wrapping_add(1);
                    r.header.message_id = next_mid;
                }
                let _ = sock.send_to(&r.to_bytes().unwrap(), from);
            }
        });
        FileServer {
            port,
            acks,
            handled,
            stop,
            log,
            thread: Some(thread),
        }
    }
}

impl std::ops::Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs a pull download of `uri` over a real socket: virtual time jumps to the client's
/// next deadline once the server has dealt with everything sent and nothing is waiting
/// (loopback delivers at once), so that ACK timeouts take no wall time and a slow machine
/// changes nothing. Returns the events and the virtual time at the end.
fn pull(c: &mut Client, p: &mut Plat, uri: &str, server: &FileServer) -> (Vec<Event>, u64) {
    assert_eq!(write(c, p, "/5/0/1", 0, uri.as_bytes()), "2.04");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    let mut now = 0u64;
    let mut events = Vec::new();
    let mut open = false;
    let mut sent = 0u32;
    let wall = Instant::now();
    for _ in 0..20_000 {
        // Sent before the events are handled: the ACK of a last separate response goes out
        // before its connection is closed (as the C facade does).
        while let Some(t) = c.poll_transmit(now, p) {
            if t.server == DOWNLOAD_SLOT {
                sock.send(t.data).unwrap();
                sent += 1;
            }
        }
        while let Some(e) = c.poll_event() {
            match e {
                Event::DownloadConnectionNeeded => {
                    let uri = c.download_uri(p, str::to_owned).unwrap();
                    let addr = uri["coap://".len()..].split('/').next().unwrap();
                    sock.connect(addr).unwrap();
                    c.download_connection_opened();
                    open = true;
                }
                Event::ConnectionDone { server } if server == DOWNLOAD_SLOT => open = false,
                _ => {}
            }
            events.push(e);
        }
        if !open && events.contains(&Event::DownloadConnectionNeeded) {
            break;
        }
        let mut buf = [0u8; 1500];
        match sock.recv(&mut buf) {
            Ok(n) => c.handle_datagram(DOWNLOAD_SLOT, &buf[..n], now, p),
            Err(_) if server.handled.load(Ordering::SeqCst) >= sent => {
                if let Some(t) = c.poll_timeout() {
                    now = now.max(t);
                }
            }
            Err(_) => {}
        }
        assert!(
            wall.elapsed() < Duration::from_secs(30),
            "bounded in wall time"
        );
    }
    (events, now)
}

#[test]
fn pulled_package_arrives_whole_and_updates() {
    let image = package(5000);
    let server = FileServer::start(image.clone(), Vec::new());
    let (mut c, mut p) = (client(), platform());
    let uri = format!("coap://127.0.0.1:{}/fw/image.bin", server.port);
    let (events, _) = pull(&mut c, &mut p, &uri, &server);
    assert_eq!(
        p.objs.fw.state(),
        FirmwareState::Downloaded {
            size: 5000,
            update_failed: false
        }
    );
    assert_eq!(crc32(&p.objs.fw.sink().data), crc32(&image));
    assert_eq!(p.objs.fw.sink().data, image);
    let progress: Vec<(u32, u32)> = events
        .iter()
        .filter_map(|e| match *e {
            Event::DownloadProgress { received, total } => Some((received, total)),
            _ => None,
        })
        .collect();
    assert_eq!(progress.len(), 5000usize.div_ceil(256));
    assert_eq!(progress.last(), Some(&(5000, 5000)));
    assert_eq!(c.download_progress(), (5000, 5000));
    let log = server.log.lock().unwrap().clone();
    assert_eq!(
        log,
        (0..20).collect::<Vec<u32>>(),
        "each block asked for once"
    );
    assert_eq!(read_text(&mut c, &mut p, "/5/0/1", 0), uri);
    assert_eq!(execute(&mut c, &mut p, "/5/0/2"), "2.04");
    assert!(p.objs.fw.take_update_request());
    assert!(p.objs.fw.update_done(UpdateResult::UpdateFailed));
    assert_eq!(read_text(&mut c, &mut p, "/5/0/3", 0), "2");
    assert_eq!(read_text(&mut c, &mut p, "/5/0/5", 0), "8");
}

#[test]
fn lost_blocks_resume_from_the_next_needed_block() {
    let image = package(6000);
    // Block 7: every transmission of the first exchange and two of the next one are lost
    // (two losses in a row); block 15: one whole exchange.
    let per_exchange = 5;
    let drops = vec![
        Drop {
            block: 7,
            remaining: per_exchange + per_exchange + 2,
        },
        Drop {
            block: 15,
            remaining: per_exchange,
        },
    ];
    let server = FileServer::start(image.clone(), drops);
    let (mut c, mut p) = (client(), platform());
    let uri = format!("coap://127.0.0.1:{}/fw/image.bin", server.port);
    let (_, end) = pull(&mut c, &mut p, &uri, &server);
    assert_eq!(
        p.objs.fw.state(),
        FirmwareState::Downloaded {
            size: 6000,
            update_failed: false
        }
    );
    assert_eq!(
        crc32(&p.objs.fw.sink().data),
        crc32(&image),
        "the exact bytes"
    );
    assert_eq!(p.objs.fw.sink().opened, 1, "never started over");
    let log = server.log.lock().unwrap().clone();
    assert_eq!(
        log.iter().filter(|&&n| n == 0).count(),
        1,
        "block 0 once: {log:?}"
    );
    assert_eq!(log.iter().filter(|&&n| n == 7).count(), 13, "{log:?}");
    assert_eq!(log.iter().filter(|&&n| n == 15).count(), 6, "{log:?}");
    let mut sorted = log.clone();
    sorted.dedup();
    assert_eq!(
        sorted,
        (0..24).collect::<Vec<u32>>(),
        "in order, resumed: {log:?}"
    );
    assert!(
        end > 62_000 * 3,
        "three exchanges timed out (virtual {end} ms)"
    );
}

#[test]
fn a_server_that_stays_silent_ends_in_connection_lost() {
    let image = package(1000);
    let drops = vec![Drop {
        block: 2,
        remaining: u32::MAX,
    }];
    let server = FileServer::start(image, drops);
    let (mut c, mut p) = (client(), platform());
    let uri = format!("coap://127.0.0.1:{}/fw/image.bin", server.port);
    let (events, _) = pull(&mut c, &mut p, &uri, &server);
    assert_eq!(
        p.objs.fw.state(),
        FirmwareState::Idle(UpdateResult::ConnectionLost)
    );
    assert_eq!(read_text(&mut c, &mut p, "/5/0/5", 0), "4");
    assert!(
        p.objs.fw.sink().data.is_empty(),
        "the partial package is dropped"
    );
    let log = server.log.lock().unwrap().clone();
    assert_eq!(
        log.iter().filter(|&&n| n == 2).count(),
        5 * usize::from(MAX_LOSSES),
        "{log:?}"
    );
    assert!(events.contains(&Event::ConnectionDone {
        server: DOWNLOAD_SLOT
    }));
}

#[test]
fn a_missing_file_is_an_invalid_uri_and_an_empty_uri_cancels() {
    let server = FileServer::start(package(100), Vec::new());
    let (mut c, mut p) = (client(), platform());
    let uri = format!("coap://127.0.0.1:{}/fw/other.bin", server.port);
    pull(&mut c, &mut p, &uri, &server);
    assert_eq!(
        p.objs.fw.state(),
        FirmwareState::Idle(UpdateResult::InvalidUri)
    );

    // Cancelled by an empty Package URI while the connection is being opened.
    let uri = format!("coap://127.0.0.1:{}/fw/image.bin", server.port);
    assert_eq!(write(&mut c, &mut p, "/5/0/1", 0, uri.as_bytes()), "2.04");
    assert_eq!(c.poll_event(), Some(Event::DownloadConnectionNeeded));
    c.download_connection_opened();
    assert!(c
        .poll_transmit(0, &mut p)
        .is_some_and(|t| t.server == DOWNLOAD_SLOT));
    assert_eq!(write(&mut c, &mut p, "/5/0/1", 0, b""), "2.04");
    assert_eq!(
        c.poll_event(),
        Some(Event::ConnectionDone {
            server: DOWNLOAD_SLOT
        })
    );
    assert_eq!(
        p.objs.fw.state(),
        FirmwareState::Idle(UpdateResult::Initial)
    );
    assert!(
        c.poll_transmit(100_000, &mut p).is_none(),
        "nothing more asked for"
    );
}

#[test]
fn separate_responses_are_acknowledged_and_used() {
    let image = package(1500);
    let server = FileServer::start_with(image.clone(), Vec::new(), Mode::Separate);
    let (mut c, mut p) = (client(), platform());
    let uri = format!("coap://127.0.0.1:{}/fw/image.bin", server.port);
    pull(&mut c, &mut p, &uri, &server);
    assert_eq!(
        p.objs.fw.state(),
        FirmwareState::Downloaded {
            size: 1500,
            update_failed: false
        }
    );
    assert_eq!(p.objs.fw.sink().data, image);
    // Every separate response was acknowledged (the last ACK may still be in flight).
    let blocks = 1500u32.div_ceil(256);
    for _ in 0..100 {
        if server.acks.load(Ordering::Relaxed) == blocks {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.acks.load(Ordering::Relaxed), blocks);
    assert_eq!(
        server.log.lock().unwrap().len(),
        blocks as usize,
        "no retransmission"
    );
}

#[test]
fn a_server_sending_the_wrong_blocks_ends_in_connection_lost() {
    let server = FileServer::start_with(package(1000), Vec::new(), Mode::BlockZero);
    let (mut c, mut p) = (client(), platform());
    let uri = format!("coap://127.0.0.1:{}/fw/image.bin", server.port);
    pull(&mut c, &mut p, &uri, &server);
    assert_eq!(
        p.objs.fw.state(),
        FirmwareState::Idle(UpdateResult::ConnectionLost)
    );
    let log = server.log.lock().unwrap().clone();
    // Block 0 once, then block 1 asked for MAX_LOSSES times (answered with block 0).
    assert_eq!(log.len(), 1 + usize::from(MAX_LOSSES), "{log:?}");
    assert!(log[1..].iter().all(|&n| n == 1), "{log:?}");
}

/// The simulator's scripted server pushes a package over a network that loses 25 % of the
/// datagrams and duplicates 40 % (virtual time, deterministic): the Write of Package is
/// taken once (duplicates get the cached response), then Update runs.
#[test]
fn pushed_package_survives_a_lossy_network() {
    let image = package(400);
    let (mut c, mut p) = (new_client(300, 30, 3), platform());
    let mut server = ScriptedServer::new(11);
    let mut rng = Rng(0x222);
    // (delivery time, sequence, towards the client, bytes)
    let mut net: Vec<(u64, u64, bool, Vec<u8>)> = Vec::new();
    let mut seq = 0u64;
    let (mut lost_count, mut dup_count) = (0u32, 0u32);
    let mut send = |net: &mut Vec<(u64, u64, bool, Vec<u8>)>,
                    rng: &mut Rng,
                    now: u64,
                    down: bool,
                    b: Vec<u8>| {
        let lost = rng.percent(25);
        let copies = if rng.percent(40) { 2 } else { 1 };
        lost_count += u32::from(lost);
        dup_count += u32::from(!lost && copies == 2);
        for _ in 0..copies {
            let delay = 5 + rng.below(200);
            seq += 1;
            if !lost {
                net.push((now + delay, seq, down, b.clone()));
            }
        }
    };
    let mut ops: Vec<usize> = Vec::new();
    let mut now = 0u64;
    let mut put_deliveries = 0u32;
    for _ in 0..100_000 {
        while let Some(e) = c.poll_event() {
            if let Event::ConnectionNeeded { server } = e {
                c.connection_opened(server);
            }
        }
        while let Some(t) = c.poll_transmit(now, &mut p) {
            assert_eq!(t.server, 0);
            let b = t.data.to_vec();
            send(&mut net, &mut rng, now, false, b);
        }
        for b in server.take_outbox() {
            send(&mut net, &mut rng, now, true, b);
        }
        if ops.is_empty() && server.reg.is_some() {
            let mut put = request(RequestType::Put, "/5/0/0");
            put.add_option(CoapOption::ContentFormat, vec![42]);
            put.payload = image.clone();
            let mut state = request(RequestType::Get, "/5/0/3");
            state.add_option(CoapOption::Accept, vec![0]);
            let mut state2 = state.clone();
            ops.push(server.queue_request(now, put));
            ops.push(server.queue_request(now, state));
            ops.push(server.queue_request(now, request(RequestType::Post, "/5/0/2")));
            state2.add_option(CoapOption::Accept, vec![0]);
            ops.push(server.queue_request(now, state2));
        }
        let done = |s: &ScriptedServer| {
            !ops.is_empty()
                && ops
                    .iter()
                    .all(|&i| s.ops[i].response.is_some() || s.ops[i].failed)
        };
        if done(&server) {
            break;
        }
        let next = [
            c.poll_timeout(),
            net.iter().map(|d| d.0).min(),
            server.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("something is due");
        now = now.max(next);
        assert!(now < 900_000, "bounded in virtual time");
        net.sort_by_key(|d| (d.0, d.1));
        while net.first().is_some_and(|d| d.0 <= now) {
            let (_, _, down, b) = net.remove(0);
            if down {
                put_deliveries += u32::from(b.len() > image.len());
                c.handle_datagram(0, &b, now, &mut p);
            } else {
                server.handle(now, &b);
            }
        }
        if server.poll_timeout().is_some_and(|t| t <= now) {
            server.on_timer(now);
        }
    }
    let answers: Vec<(String, String)> = ops
        .iter()
        .map(|&i| {
            let r = server.ops[i]
                .response
                .as_ref()
                .expect("answered despite the losses");
            (code(r), String::from_utf8_lossy(&r.payload).into_owned())
        })
        .collect();
    assert_eq!(answers[0].0, "2.04");
    assert_eq!(answers[1], ("2.05".into(), "2".into()));
    assert_eq!(answers[2].0, "2.04");
    assert_eq!(answers[3], ("2.05".into(), "3".into()));
    assert!(
        put_deliveries >= 2,
        "the Write arrived {put_deliveries} times"
    );
    assert_eq!(p.objs.fw.sink().opened, 1, "the Write was taken once");
    assert_eq!(p.objs.fw.sink().data, image);
    assert!(p.objs.fw.take_update_request());
    assert!(
        lost_count > 0 && dup_count > 0,
        "lost {lost_count}, duplicated {dup_count}"
    );
}

/// An object 5 of the application's own, which lets its Package URI change while a download
/// runs (the model refuses that).
struct OwnFirmware {
    uri: &'static str,
    failed: Option<UpdateResult>,
}

impl Object for OwnFirmware {
    fn id(&self) -> u16 {
        5
    }
    fn resource_at(&self, _index: usize) -> Option<tern::model::ResourceDef> {
        None
    }
    fn instance(&self, index: usize) -> Option<u16> {
        (index == 0).then_some(0)
    }
    fn read(
        &mut self,
        _iid: u16,
        rid: u16,
        out: &mut dyn tern::model::ValueSink,
    ) -> Result<(), tern::coap::Code> {
        match rid {
            1 => out.value(None, &tern::model::Value::String(self.uri)),
            3 => out.value(None, &tern::model::Value::Integer(1)),
            _ => Err(tern::coap::Code::NOT_FOUND),
        }
    }
    fn write(
        &mut self,
        _: u16,
        _: u16,
        _: Option<u16>,
        _: &tern::model::Value<'_>,
    ) -> Result<(), tern::coap::Code> {
        Err(tern::coap::Code::METHOD_NOT_ALLOWED)
    }
    fn execute(&mut self, _: u16, _: u16, _: &[u8]) -> Result<(), tern::coap::Code> {
        Err(tern::coap::Code::METHOD_NOT_ALLOWED)
    }
}

impl Objects for OwnFirmware {
    fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
        (index == 0).then_some(self as &mut dyn Object)
    }
}

impl Platform for OwnFirmware {
    fn random(&mut self, out: &mut [u8]) {
        out.fill(3);
    }
    fn objects(&mut self) -> &mut dyn Objects {
        self
    }
    fn download_failed(&mut self, result: UpdateResult) {
        self.failed = Some(result);
    }
}

fn uri_path(t: &[u8]) -> Vec<String> {
    let p = Packet::from_bytes(t).expect("parses");
    p.get_option(CoapOption::UriPath)
        .map(|l| {
            l.iter()
                .map(|v| String::from_utf8(v.clone()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn another_package_uri_while_downloading_starts_over_and_a_changed_one_fails() {
    let mut c = client();
    let mut p = OwnFirmware {
        uri: "coap://127.0.0.1:9/a",
        failed: None,
    };
    c.firmware_changed(&mut p);
    assert_eq!(c.poll_event(), Some(Event::DownloadConnectionNeeded));
    c.download_connection_opened();
    let t = c.poll_transmit(0, &mut p).expect("a GET");
    assert_eq!(t.server, DOWNLOAD_SLOT);
    assert_eq!(uri_path(t.data), ["a"]);
    c.firmware_changed(&mut p);
    assert_eq!(c.poll_event(), None, "the same URI: the download goes on");

    // The application changed the URI and said so: the download starts over from it.
    p.uri = "coap://127.0.0.1:9/b";
    c.firmware_changed(&mut p);
    assert_eq!(
        c.poll_event(),
        Some(Event::ConnectionDone {
            server: DOWNLOAD_SLOT
        })
    );
    assert_eq!(c.poll_event(), Some(Event::DownloadConnectionNeeded));
    assert_eq!(
        c.download_uri(&mut p, str::to_owned).as_deref(),
        Some("coap://127.0.0.1:9/b")
    );
    c.download_connection_opened();
    let t = c.poll_transmit(0, &mut p).expect("a GET");
    assert_eq!(uri_path(t.data), ["b"]);

    // Changed without a word: no block is asked for from another URI, the download fails.
    p.uri = "coap://127.0.0.1:9/c";
    assert_eq!(c.download_uri(&mut p, str::to_owned), None);
    let at = c.poll_timeout().expect("the retransmission");
    assert!(c.poll_transmit(at, &mut p).is_none());
    assert_eq!(p.failed, Some(UpdateResult::InvalidUri));
    assert_eq!(
        c.poll_event(),
        Some(Event::ConnectionDone {
            server: DOWNLOAD_SLOT
        })
    );
}
