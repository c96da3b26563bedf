//! Pull download of a firmware package (the Firmware Update object's Package URI, /5/0/1):
//! confirmable GETs with Block2 (RFC 7959) on a connection of its own, the download slot
//! [`DOWNLOAD_SLOT`], each block streamed into the object through
//! [`Object::write_block`] on /5/0/0.
//!
//! A block whose retransmissions all time out is asked for again after a pause, from the
//! next block needed (the download resumes, it does not start over); after `MAX_LOSSES`
//! such losses in a row the object gets Update Result 4 (connection lost).
//!
//! The object drives it: once a request has reached object 5, the client reads State
//! (/5/0/3) and Package URI through the `Object` trait; State 1 with a URI starts a
//! download, any other state stops one. The URI is not copied: each GET reads it from the
//! object again, and a fingerprint of it tells when it is no longer the one downloaded.

use super::exchange::{Exchange, RequestKind, Timer, TOKEN_LEN};
use super::{Engine, Event, Platform};
use crate::coap::{opt, Block, Code, Message, MessageBuilder, MsgType};
use crate::config::{MAX_MESSAGE_SIZE, MAX_PACKAGE_URI_LEN, MAX_SERVERS};
use crate::model::{UpdateResult, Value, ValueSink};

/// The connection slot of the download (after the servers' slots).
pub const DOWNLOAD_SLOT: u8 = MAX_SERVERS as u8;
/// Blocks lost in a row (every retransmission timed out) before the download fails.
pub const MAX_LOSSES: u8 = 4;
/// Pause after a lost block before it is asked for again, times the losses in a row.
pub const RESUME_DELAY_MS: u64 = 5_000;
/// The block size asked for: the largest that leaves room for the header, the token and
/// the options in a `MAX_MESSAGE_SIZE` datagram.
const SZX: u8 = Block::szx_for(MAX_MESSAGE_SIZE - 64);

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
enum Phase {
    /// No download.
    Idle,
    /// Waiting for the application to open the connection.
    Connecting,
    /// Asking for blocks.
    Active,
    /// A block was lost: ask again at `until`.
    Paused { until: u64 },
}

/// The download's state, one per client.
pub struct Download {
    /// The fingerprint of the Package URI downloaded from (see [`fingerprint`]).
    uri: u32,
    phase: Phase,
    exchange: Option<Exchange>,
    /// Bytes received (the offset of the next block).
    received: u32,
    /// Size2 of the package, 0 while unknown.
    total: u32,
    /// The block size exponent in use (the server may ask for smaller blocks).
    szx: u8,
    /// Blocks lost in a row.
    losses: u8,
}

impl Download {
    pub(super) const fn new() -> Download {
        Download {
            uri: 0,
            phase: Phase::Idle,
            exchange: None,
            received: 0,
            total: 0,
            szx: SZX,
            losses: 0,
        }
    }

    /// When the download next needs `poll_transmit`.
    pub(super) fn deadline(&self) -> Option<u64> {
        match (self.phase, &self.exchange) {
            (Phase::Active, Some(e)) => Some(e.deadline()),
            (Phase::Active, None) => Some(0),
            (Phase::Paused { until }, _) => Some(until),
            _ => None,
        }
    }
}

/// Reads State and the Package URI's fingerprint of the Firmware Update object.
#[derive(Default)]
struct Probe {
    state: i64,
    uri: Option<u32>,
}

impl ValueSink for Probe {
    fn value(&mut self, _instance: Option<u16>, value: &Value<'_>) -> Result<(), Code> {
        match *value {
            Value::Integer(i) => self.state = i,
            Value::String(s) => self.uri = fingerprint(s),
            _ => {}
        }
        Ok(())
    }
}

/// A fingerprint of a Package URI a download can use (FNV-1a), None for an empty one or
/// one longer than `MAX_PACKAGE_URI_LEN`.
fn fingerprint(uri: &str) -> Option<u32> {
    let b = uri.as_bytes();
    (!b.is_empty() && b.len() <= MAX_PACKAGE_URI_LEN).then(|| {
        b.iter().fold(0x811C_9DC5u32, |h, &c| {
            (h ^ u32::from(c)).wrapping_mul(0x0100_0193)
        })
    })
}

/// Hands the Package URI (/5/0/1) read from the object to `f`, as long as its fingerprint
/// is `uri`; None when it cannot be read or is another one.
fn with_uri<R>(platform: &mut dyn Platform, uri: u32, f: impl FnOnce(&str) -> R) -> Option<R> {
    struct Sink<F, R> {
        uri: u32,
        f: Option<F>,
        out: Option<R>,
    }
    impl<F: FnOnce(&str) -> R, R> ValueSink for Sink<F, R> {
        fn value(&mut self, _instance: Option<u16>, value: &Value<'_>) -> Result<(), Code> {
            if let Value::String(s) = *value {
                if fingerprint(s) == Some(self.uri) {
                    self.out = self.f.take().map(|f| f(s));
                }
            }
            Ok(())
        }
    }
    let mut sink = Sink {
        uri,
        f: Some(f),
        out: None,
    };
    platform.objects().find(5)?.read(0, 1, &mut sink).ok()?;
    sink.out
}

impl Engine {
    /// The Package URI being downloaded, read from the Firmware Update object through
    /// `platform` and handed to `f`: the application opens a connection to it on
    /// [`Event::DownloadConnectionNeeded`]. None when no download runs, or when the object
    /// no longer holds that URI.
    pub fn download_uri<R>(
        &self,
        platform: &mut dyn Platform,
        f: impl FnOnce(&str) -> R,
    ) -> Option<R> {
        if matches!(self.download.phase, Phase::Idle) {
            return None;
        }
        with_uri(platform, self.download.uri, f)
    }

    /// Bytes received and the package size from Size2 (0 while unknown).
    pub fn download_progress(&self) -> (u32, u32) {
        (self.download.received, self.download.total)
    }

    /// The application opened the download connection: blocks are asked for.
    pub fn download_connection_opened(&mut self) {
        if matches!(self.download.phase, Phase::Connecting) {
            self.download.phase = Phase::Active;
        }
    }

    /// The application could not open a connection to the Package URI: the download
    /// fails with Update Result 7 (invalid URI).
    pub fn download_connection_failed(&mut self, platform: &mut dyn Platform) {
        if !matches!(self.download.phase, Phase::Idle) {
            self.download_end(Some(UpdateResult::InvalidUri), platform);
        }
    }

    /// Starts or stops the download to follow the Firmware Update object (after a request
    /// reached object 5, or when the application changed it).
    pub fn firmware_changed(&mut self, platform: &mut dyn Platform) {
        let mut probe = Probe::default();
        if let Some(obj) = platform.objects().find(5) {
            // A failed read leaves State 0: no download.
            let _ = obj
                .read(0, 3, &mut probe)
                .and_then(|()| obj.read(0, 1, &mut probe));
        }
        let idle = matches!(self.download.phase, Phase::Idle);
        match probe.uri.filter(|_| probe.state == 1) {
            // Another URI while downloading (an object that allows it): start over from it.
            Some(uri) if idle || uri != self.download.uri => {
                if !idle {
                    self.download_end(None, platform);
                }
                let d = &mut self.download;
                *d = Download::new();
                d.uri = uri;
                d.phase = Phase::Connecting;
                self.push_event(Event::DownloadConnectionNeeded);
            }
            None if !idle => self.download_end(None, platform),
            _ => {}
        }
    }

    /// Ends the download: the connection is released (whether or not it was opened) and a
    /// failure reaches the platform.
    fn download_end(&mut self, failure: Option<UpdateResult>, platform: &mut dyn Platform) {
        self.download.phase = Phase::Idle;
        self.download.exchange = None;
        if let Some(r) = failure {
            platform.download_failed(r);
        }
        self.push_event(Event::ConnectionDone {
            server: DOWNLOAD_SLOT,
        });
    }

    /// The block asked for is lost (every retransmission timed out, a RST, a 5.xx): asked
    /// for again after a pause, or the download fails after `MAX_LOSSES` in a row.
    fn download_lost(&mut self, now: u64, platform: &mut dyn Platform) {
        let d = &mut self.download;
        d.exchange = None;
        d.losses = d.losses.saturating_add(1);
        if d.losses >= MAX_LOSSES {
            self.download_end(Some(UpdateResult::ConnectionLost), platform);
        } else {
            let pause = RESUME_DELAY_MS.saturating_mul(u64::from(d.losses));
            d.phase = Phase::Paused {
                until: now.saturating_add(pause),
            };
        }
    }

    /// Runs the download's timers; returns the length of a request written to `tx`.
    pub(super) fn download_poll(
        &mut self,
        now: u64,
        platform: &mut dyn Platform,
        tx: &mut super::Datagram,
    ) -> Option<usize> {
        let d = &mut self.download;
        match d.phase {
            Phase::Paused { until } if now >= until => d.phase = Phase::Active,
            Phase::Active => {}
            _ => return None,
        }
        if let Some(ex) = d.exchange {
            match ex.check(now) {
                Timer::Wait => return None,
                Timer::Retransmit => {}
                Timer::GiveUp => {
                    self.download_lost(now, platform);
                    return None;
                }
            }
        } else {
            let mut random = [0u8; TOKEN_LEN + 2];
            platform.random(&mut random);
            let [token @ .., j0, j1] = random;
            self.next_mid = self.next_mid.wrapping_add(1);
            let jitter = u16::from_le_bytes([j0, j1]);
            // The kind only matters to registration, which never sees this exchange.
            self.download.exchange = Some(Exchange::new(
                RequestKind::Update,
                self.next_mid,
                token,
                jitter,
            ));
        }
        let d = &mut self.download;
        let ex = d.exchange.as_mut()?;
        ex.sent(now);
        let ex = *ex;
        match encode_get(platform, &self.download, &ex, tx) {
            Some(len) => Some(len),
            None => {
                // A URI the object no longer holds, or whose options do not fit a request.
                self.download_end(Some(UpdateResult::InvalidUri), platform);
                None
            }
        }
    }

    /// A datagram on the download connection.
    pub(super) fn download_datagram(
        &mut self,
        msg: &Message<'_>,
        now: u64,
        platform: &mut dyn Platform,
    ) -> Result<(), super::DropReason> {
        use super::DropReason;
        let (mtype, mid, code) = (msg.mtype(), msg.message_id(), msg.code());
        let matched = self.download.exchange.filter(|e| {
            (mtype != MsgType::Ack && mtype != MsgType::Rst || e.message_id == mid)
                && (code.is_empty() || e.matches_token(msg.token()))
        });
        let Some(mut ex) = matched.filter(|_| matches!(self.download.phase, Phase::Active)) else {
            if mtype == MsgType::Con {
                self.control_message(DOWNLOAD_SLOT, MsgType::Rst, mid);
            }
            return Err(DropReason::Unmatched);
        };
        if mtype == MsgType::Con {
            self.control_message(DOWNLOAD_SLOT, MsgType::Ack, mid);
        }
        if code.is_empty() {
            if mtype == MsgType::Ack {
                ex.acknowledged(now);
                self.download.exchange = Some(ex);
            } else {
                self.download_lost(now, platform);
            }
            return Ok(());
        }
        if !code.is_response() {
            return Err(DropReason::Malformed);
        }
        self.download.exchange = None;
        match code.class() {
            2 if code == Code::CONTENT => self.download_block(msg, now, platform),
            // The server is busy: like a lost block.
            5 => self.download_lost(now, platform),
            // 4.04 and every other refusal: the URI names nothing we can download.
            _ => self.download_end(Some(UpdateResult::InvalidUri), platform),
        }
        Ok(())
    }

    /// A 2.05 with the next block (or the whole package, without Block2).
    fn download_block(&mut self, msg: &Message<'_>, now: u64, platform: &mut dyn Platform) {
        let d = &mut self.download;
        let payload = msg.payload();
        let block = match msg.option(opt::BLOCK2) {
            Some(v) => Block::decode(v),
            None => Block::new(0, false, d.szx),
        };
        let Some(block) = block else {
            return self.download_end(Some(UpdateResult::InvalidUri), platform);
        };
        let offset = block.offset().and_then(|o| u32::try_from(o).ok());
        // Not the block asked for, or cut short: asked for again after a pause, like a lost
        // one (a server that keeps doing it ends the download).
        if offset != Some(d.received) || (block.more && payload.len() != block.size()) {
            return self.download_lost(now, platform);
        }
        if let Some(size) = msg.option_uint(opt::SIZE2) {
            d.total = size;
        }
        d.szx = block.szx.min(d.szx);
        d.losses = 0;
        let last = !block.more;
        let written = match platform.objects().find(5) {
            Some(obj) => obj.write_block(0, 0, d.received, payload, last),
            None => Err(Code::NOT_FOUND),
        };
        let d = &mut self.download;
        if written.is_err() {
            // The object refused (and reports why in Update Result), or was reset.
            return self.download_end(None, platform);
        }
        d.received = d
            .received
            .saturating_add(u32::try_from(payload.len()).unwrap_or(u32::MAX));
        let (received, total) = (d.received, d.total);
        self.push_event(Event::DownloadProgress { received, total });
        if last {
            self.download_end(None, platform);
        }
    }
}

/// The GET of the next block: Uri-Path and Uri-Query from the Package URI (read from the
/// object, None unless it still holds the one downloaded), then Block2.
fn encode_get(
    platform: &mut dyn Platform,
    d: &Download,
    ex: &Exchange,
    tx: &mut super::Datagram,
) -> Option<usize> {
    let mut b = MessageBuilder::new(tx, MsgType::Con, Code::GET, ex.message_id, &ex.token).ok()?;
    let mut sink = UriOptions {
        b: &mut b,
        uri: d.uri,
        done: false,
    };
    platform.objects().find(5)?.read(0, 1, &mut sink).ok()?;
    if !sink.done {
        return None;
    }
    // The block number: bytes received over the block size, 2^(szx + 4) (szx is at most 6).
    let block = Block::new(d.received >> (u32::from(d.szx.min(6)) + 4), false, d.szx)?;
    let mut tmp = [0u8; 4];
    b.option(opt::BLOCK2, block.encode(&mut tmp)).ok()?;
    Some(b.finish())
}

/// Adds the options of the Package URI read from the object, if it is the one downloaded
/// (fingerprint `uri`); `done` once they are in.
struct UriOptions<'a, 'b> {
    b: &'a mut MessageBuilder<'b>,
    uri: u32,
    done: bool,
}

impl ValueSink for UriOptions<'_, '_> {
    fn value(&mut self, _instance: Option<u16>, value: &Value<'_>) -> Result<(), Code> {
        if let Value::String(s) = *value {
            self.done = fingerprint(s) == Some(self.uri) && uri_options(self.b, s).is_some();
        }
        Ok(())
    }
}

/// Uri-Path and Uri-Query from a URI.
fn uri_options(b: &mut MessageBuilder<'_>, uri: &str) -> Option<()> {
    // After the scheme and the authority: the path, then the query (bytes only: `str`
    // pattern searching costs kilobytes of flash).
    let uri = uri.as_bytes();
    let rest = uri.get(uri.iter().position(|&c| c == b':')?.saturating_add(3)..)?;
    let query = from_byte(rest, b'?');
    let path = from_byte(rest.get(..rest.len().saturating_sub(query.len()))?, b'/');
    for seg in path.split(|&c| c == b'/').filter(|s| !s.is_empty()) {
        b.option(opt::URI_PATH, seg).ok()?;
    }
    for q in query
        .split(|&c| c == b'?' || c == b'&')
        .filter(|s| !s.is_empty())
    {
        b.option(opt::URI_QUERY, q).ok()?;
    }
    Some(())
}

/// `s` from the first `c` on (empty when there is none).
fn from_byte(s: &[u8], c: u8) -> &[u8] {
    match s.iter().position(|&x| x == c) {
        Some(at) => s.get(at..).unwrap_or(&[]),
        None => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Object, Objects, ResourceDef};
    use coap_lite::{CoapOption, Packet};

    /// An object 5 holding a Package URI (None: its read fails).
    struct Pkg(Option<&'static str>);

    impl Object for Pkg {
        fn id(&self) -> u16 {
            5
        }
        fn resource_at(&self, _index: usize) -> Option<ResourceDef> {
            None
        }
        fn instance(&self, index: usize) -> Option<u16> {
            (index == 0).then_some(0)
        }
        fn read(&mut self, _iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
            match (rid, self.0) {
                (1, Some(uri)) => out.value(None, &Value::String(uri)),
                _ => Err(Code::NOT_FOUND),
            }
        }
        fn write(&mut self, _: u16, _: u16, _: Option<u16>, _: &Value<'_>) -> Result<(), Code> {
            Err(Code::METHOD_NOT_ALLOWED)
        }
        fn execute(&mut self, _iid: u16, _rid: u16, _args: &[u8]) -> Result<(), Code> {
            Err(Code::METHOD_NOT_ALLOWED)
        }
    }

    impl Objects for Pkg {
        fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
            (index == 0).then_some(self as &mut dyn Object)
        }
    }

    impl Platform for Pkg {
        fn random(&mut self, out: &mut [u8]) {
            out.fill(0);
        }
        fn objects(&mut self) -> &mut dyn Objects {
            self
        }
    }

    /// The GET for `held` in the object when the download started from `started`.
    fn encode(started: &str, held: Option<&'static str>, received: u32) -> Option<Packet> {
        let mut d = Download::new();
        d.uri = fingerprint(started)?;
        d.received = received;
        let ex = Exchange::new(RequestKind::Update, 9, [1; TOKEN_LEN], 0);
        let mut tx = [0u8; MAX_MESSAGE_SIZE];
        let len = encode_get(&mut Pkg(held), &d, &ex, &mut tx)?;
        Some(Packet::from_bytes(&tx[..len]).expect("parses"))
    }

    fn get(uri: &'static str, received: u32) -> Packet {
        encode(uri, Some(uri), received).expect("fits")
    }

    #[test]
    fn the_get_reads_the_uri_the_download_started_from_or_fails() {
        assert!(
            encode("coap://h/a", Some("coap://h/b"), 0).is_none(),
            "another URI"
        );
        assert!(encode("coap://h/a", None, 0).is_none(), "unreadable");
        assert!(encode("coap://h/a", Some(""), 0).is_none(), "emptied");
        let long: &'static str = std::boxed::Box::leak(
            std::format!("coap://h/{}", "x".repeat(MAX_PACKAGE_URI_LEN)).into_boxed_str(),
        );
        assert_eq!(fingerprint(long), None, "too long to download from");
        assert_eq!(fingerprint(""), None);
        assert_ne!(fingerprint("coap://h/a"), fingerprint("coap://h/b"));
        let path = "coap://h/".len();
        assert!(fingerprint(&long[..MAX_PACKAGE_URI_LEN]).is_some());
        assert!(encode(&long[..path + 40], Some(&long[..path + 40]), 0).is_some());
    }

    fn strings(p: &Packet, o: CoapOption) -> std::vec::Vec<std::string::String> {
        p.get_option(o)
            .map(|l| {
                l.iter()
                    .map(|v| std::string::String::from_utf8(v.clone()).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn the_get_carries_the_uri_path_query_and_next_block() {
        let p = get("coap://[::1]:5683/fw/a/image.bin?v=2&x", 0);
        assert_eq!(strings(&p, CoapOption::UriPath), ["fw", "a", "image.bin"]);
        assert_eq!(strings(&p, CoapOption::UriQuery), ["v=2", "x"]);
        assert_eq!(p.header.message_id, 9);
        assert_eq!(p.get_token(), [1; TOKEN_LEN]);
        let size = 16u32 << SZX;
        let p = get("coaps://host/image", 3 * size);
        assert_eq!(strings(&p, CoapOption::UriPath), ["image"]);
        assert!(strings(&p, CoapOption::UriQuery).is_empty());
        let b2 = p
            .get_option(CoapOption::Block2)
            .unwrap()
            .front()
            .unwrap()
            .clone();
        let v = b2.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b));
        assert_eq!((v >> 4, v & 8, v & 7), (3, 0, u32::from(SZX)));
        let p = get("coap://host", 0);
        assert!(strings(&p, CoapOption::UriPath).is_empty());
        let p = get("coap://host:1/?q", 0);
        assert!(strings(&p, CoapOption::UriPath).is_empty());
        assert_eq!(strings(&p, CoapOption::UriQuery), ["q"]);
    }
}
