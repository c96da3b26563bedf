//! The Firmware Update object (5), single instance 0 (LwM2M Core 1.1, Appendix E.6).
//!
//! The package reaches the application through a [`FirmwareSink`] as it arrives: pushed by
//! a server's Write of Package (/5/0/0, whole or block by block), or pulled by the client
//! from the Package URI (/5/0/1; the downloader in `client::download` feeds the same
//! [`Object::write_block`]). The engine never stores the image.
//!
//! ```text
//!  Idle(result) --Write Package / Package URI--> Downloading --last block--> Downloaded
//!       ^   ^                                        |                        |  ^
//!       |   +------------ failure (result 2..7, 9) --+       Execute Update   |  | failed (8)
//!       +-------------------- success (1) ----------------------- Updating <--+--+
//!  An empty Package or Package URI resets every state but Updating to Idle(0).
//! ```

use heapless::String;

use super::object::{Object, Operations, ResourceDef, ValueSink};
use super::{ResourceType as T, Value};
use crate::coap::Code;
use crate::config::MAX_PACKAGE_URI_LEN;

/// Update Result (/5/0/5) values.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
#[repr(u8)]
pub enum UpdateResult {
    /// 0: initial value; set again when a download or an update starts.
    Initial = 0,
    /// 1: firmware updated successfully.
    Success = 1,
    /// 2: not enough flash memory for the new package.
    NoStorage = 2,
    /// 3: out of RAM during the download.
    OutOfMemory = 3,
    /// 4: connection lost during the download.
    ConnectionLost = 4,
    /// 5: integrity check failure of the downloaded package.
    IntegrityFailure = 5,
    /// 6: unsupported package type.
    UnsupportedType = 6,
    /// 7: invalid URI.
    InvalidUri = 7,
    /// 8: firmware update failed.
    UpdateFailed = 8,
    /// 9: unsupported protocol.
    UnsupportedProtocol = 9,
}

impl UpdateResult {
    /// The result from its number (0 to 9).
    pub fn from_u8(v: u8) -> Option<UpdateResult> {
        use UpdateResult::*;
        Some(match v {
            0 => Initial,
            1 => Success,
            2 => NoStorage,
            3 => OutOfMemory,
            4 => ConnectionLost,
            5 => IntegrityFailure,
            6 => UnsupportedType,
            7 => InvalidUri,
            8 => UpdateFailed,
            9 => UnsupportedProtocol,
            _ => return None,
        })
    }
}

/// The state machine. Each variant carries only what its state can have: Update Result is
/// 0 while downloading or updating, 0 or 8 once downloaded, anything in Idle.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum FirmwareState {
    /// State 0, with the outcome of the last download or update.
    Idle(UpdateResult),
    /// State 1: `next` bytes have been received; `pull` when the client downloads from the
    /// Package URI, else a server pushes Package.
    Downloading { pull: bool, next: u32 },
    /// State 2: the package is complete (`size` bytes); `update_failed` after an update
    /// that failed (Update Result 8).
    Downloaded { size: u32, update_failed: bool },
    /// State 3: the application applies the package (`size` bytes).
    Updating { size: u32 },
}

impl FirmwareState {
    /// The State resource (/5/0/3).
    pub fn number(&self) -> u8 {
        match self {
            FirmwareState::Idle(_) => 0,
            FirmwareState::Downloading { .. } => 1,
            FirmwareState::Downloaded { .. } => 2,
            FirmwareState::Updating { .. } => 3,
        }
    }

    /// The Update Result resource (/5/0/5).
    pub fn result(&self) -> UpdateResult {
        match *self {
            FirmwareState::Idle(r) => r,
            FirmwareState::Downloaded {
                update_failed: true,
                ..
            } => UpdateResult::UpdateFailed,
            _ => UpdateResult::Initial,
        }
    }
}

/// Where the package bytes go: the application's download slot (flash partition, file).
/// A failure names the Update Result the server sees.
pub trait FirmwareSink {
    /// A new package starts: forget any earlier (partial) one.
    fn open(&mut self) -> Result<(), UpdateResult>;
    /// `data` at byte `offset` of the package (blocks arrive in order, without gaps).
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult>;
    /// The package is complete (`size` bytes): check it (integrity, type).
    fn finish(&mut self, size: u32) -> Result<(), UpdateResult>;
    /// The download was cancelled or failed: drop what was received.
    fn cancel(&mut self);
}

/// The protocols a pull download may use (Firmware Update Protocol Support, /5/0/8).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum PullSupport {
    /// Push only: a Package URI gets Update Result 9 (unsupported protocol).
    None,
    /// `coap://`.
    Coap,
    /// `coap://` and `coaps://` (the platform's socket secures the connection).
    CoapAndCoaps,
}

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, T::Opaque, Operations::W, false),
    ResourceDef::new(1, T::String, Operations::RW, false),
    ResourceDef::new(2, T::None, Operations::E, false),
    ResourceDef::new(3, T::Integer, Operations::R, false),
    ResourceDef::new(5, T::Integer, Operations::R, false),
    ResourceDef::new(6, T::String, Operations::R, false),
    ResourceDef::new(7, T::String, Operations::R, false),
    ResourceDef::new(8, T::Integer, Operations::R, true),
    ResourceDef::new(9, T::Integer, Operations::R, false),
];

/// The Firmware Update object over the application's sink `S`.
pub struct Firmware<'a, S> {
    sink: S,
    state: FirmwareState,
    pull: PullSupport,
    uri: String<MAX_PACKAGE_URI_LEN>,
    pkg_name: &'a str,
    pkg_version: &'a str,
    update_requested: bool,
    changed: bool,
}

impl<'a, S: FirmwareSink> Firmware<'a, S> {
    /// An idle object writing packages to `sink`.
    pub fn new(sink: S, pull: PullSupport) -> Self {
        Firmware {
            sink,
            state: FirmwareState::Idle(UpdateResult::Initial),
            pull,
            uri: String::new(),
            pkg_name: "",
            pkg_version: "",
            update_requested: false,
            changed: false,
        }
    }

    /// The current state.
    pub fn state(&self) -> FirmwareState {
        self.state
    }

    /// The Package URI (/5/0/1), empty when none is set.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The sink.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The sink, to change it.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// PkgName and PkgVersion (/5/0/6, /5/0/7) of the package, once the application knows
    /// them (borrowed until replaced).
    pub fn set_package_info(&mut self, name: &'a str, version: &'a str) {
        self.pkg_name = name;
        self.pkg_version = version;
    }

    /// The new state once after each change (for the application's events).
    pub fn take_change(&mut self) -> Option<FirmwareState> {
        core::mem::take(&mut self.changed).then_some(self.state)
    }

    /// True once after a server executed Update (/5/0/2); the response has been sent by
    /// then. The application applies the package and calls [`Firmware::update_done`].
    pub fn take_update_request(&mut self) -> bool {
        core::mem::take(&mut self.update_requested)
    }

    /// The application's outcome of an update: `Success` goes to Idle (1); `UpdateFailed`
    /// back to Downloaded (8, the package may be tried again); `NoStorage`, `OutOfMemory`,
    /// `IntegrityFailure` and `UnsupportedType` drop the package (Idle). False (nothing
    /// changes) when no update runs or for another result.
    pub fn update_done(&mut self, result: UpdateResult) -> bool {
        use UpdateResult::*;
        let FirmwareState::Updating { size } = self.state else {
            return false;
        };
        let next = match result {
            Success | NoStorage | OutOfMemory | IntegrityFailure | UnsupportedType => {
                FirmwareState::Idle(result)
            }
            UpdateFailed => FirmwareState::Downloaded {
                size,
                update_failed: true,
            },
            _ => return false,
        };
        self.set(next);
        true
    }

    /// The client's pull download failed (`ConnectionLost`, `InvalidUri`, ...): Idle with
    /// that result. Ignored unless a pull download runs.
    pub fn download_failed(&mut self, result: UpdateResult) {
        if matches!(self.state, FirmwareState::Downloading { pull: true, .. }) {
            self.sink.cancel();
            self.set(FirmwareState::Idle(result));
        }
    }

    fn set(&mut self, state: FirmwareState) {
        self.state = state;
        self.changed = true;
    }

    /// Back to Idle(0) (an empty Package or Package URI); refused while updating.
    fn reset(&mut self) -> Result<(), Code> {
        match self.state {
            FirmwareState::Updating { .. } => return Err(Code::METHOD_NOT_ALLOWED),
            FirmwareState::Idle(_) => {}
            _ => self.sink.cancel(),
        }
        self.uri.clear();
        self.set(FirmwareState::Idle(UpdateResult::Initial));
        Ok(())
    }

    /// Starts a download from Idle: the sink opens (a refusal ends in Idle with its result).
    fn start(&mut self, pull: bool) -> Result<(), UpdateResult> {
        self.sink.open()?;
        self.set(FirmwareState::Downloading { pull, next: 0 });
        Ok(())
    }

    /// One piece of the package at `offset`; `last` completes it. A sink failure ends in
    /// Idle with the sink's result (the write itself succeeds: errors are reported in
    /// Update Result).
    fn block(&mut self, offset: u32, data: &[u8], last: bool) -> Result<(), Code> {
        let FirmwareState::Downloading { pull, next } = self.state else {
            return Err(Code::METHOD_NOT_ALLOWED);
        };
        if offset != next {
            return Err(Code::REQUEST_ENTITY_INCOMPLETE);
        }
        let len = u32::try_from(data.len()).map_err(|_| Code::REQUEST_ENTITY_TOO_LARGE)?;
        let end = next
            .checked_add(len)
            .ok_or(Code::REQUEST_ENTITY_TOO_LARGE)?;
        let outcome = self.sink.write(offset, data).and_then(|()| {
            if last {
                self.sink.finish(end)
            } else {
                Ok(())
            }
        });
        let state = match outcome {
            Ok(()) if last => FirmwareState::Downloaded {
                size: end,
                update_failed: false,
            },
            Ok(()) => FirmwareState::Downloading { pull, next: end },
            Err(r) => {
                self.sink.cancel();
                FirmwareState::Idle(r)
            }
        };
        // Progress alone is not a state change for the application's events.
        self.changed |= state.number() != 1;
        self.state = state;
        Ok(())
    }

    /// A Package URI write: a valid one starts a pull download, another ends in Idle with
    /// Update Result 7 or 9.
    fn write_uri(&mut self, uri: &str) -> Result<(), Code> {
        if uri.is_empty() {
            return self.reset();
        }
        if !matches!(self.state, FirmwareState::Idle(_)) {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        let outcome = match check_uri(uri, self.pull) {
            Ok(()) => {
                self.uri.clear();
                // Fits: `check_uri` limits the length.
                let _ = self.uri.push_str(uri);
                self.start(true)
            }
            Err(r) => Err(r),
        };
        if let Err(r) = outcome {
            self.uri.clear();
            self.set(FirmwareState::Idle(r));
        }
        Ok(())
    }
}

/// A Package URI the client can download from: `coap://host...` (or `coaps://` when the
/// platform secures connections), at most `MAX_PACKAGE_URI_LEN` bytes.
/// Bytes only: `str` pattern searching costs kilobytes of flash.
fn check_uri(uri: &str, pull: PullSupport) -> Result<(), UpdateResult> {
    let b = uri.as_bytes();
    // `get` after `starts_with`: `<[u8]>::strip_prefix` keeps a panic path after LTO.
    let after = |p: &[u8]| b.starts_with(p).then(|| b.get(p.len()..)).flatten();
    let (secure, rest) = match (after(b"coap://"), after(b"coaps://")) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ if b.windows(3).any(|w| w == b"://") => return Err(UpdateResult::UnsupportedProtocol),
        _ => return Err(UpdateResult::InvalidUri),
    };
    match pull {
        PullSupport::None => return Err(UpdateResult::UnsupportedProtocol),
        PullSupport::Coap if secure => return Err(UpdateResult::UnsupportedProtocol),
        _ => {}
    }
    let host_ok = !matches!(rest.first(), None | Some(b'/' | b':'));
    if !host_ok || b.len() > MAX_PACKAGE_URI_LEN || b.iter().any(|&c| c <= b' ') {
        return Err(UpdateResult::InvalidUri);
    }
    Ok(())
}

impl<S: FirmwareSink> Object for Firmware<'_, S> {
    fn id(&self) -> u16 {
        5
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        (index == 0).then_some(0)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        if iid != 0 {
            return Err(Code::NOT_FOUND);
        }
        let int = |v: u8| Value::Integer(i64::from(v));
        let v = match rid {
            1 => Value::String(&self.uri),
            3 => int(self.state.number()),
            5 => int(self.state.result() as u8),
            6 => Value::String(self.pkg_name),
            7 => Value::String(self.pkg_version),
            8 => {
                let n = match self.pull {
                    PullSupport::None => 0,
                    PullSupport::Coap => 1,
                    PullSupport::CoapAndCoaps => 2,
                };
                for p in 0..n {
                    out.value(Some(u16::from(p)), &int(p))?;
                }
                return Ok(());
            }
            // 0 pull only, 1 push only, 2 both.
            9 => int(if self.pull == PullSupport::None { 1 } else { 2 }),
            0 | 2 => return Err(Code::METHOD_NOT_ALLOWED),
            _ => return Err(Code::NOT_FOUND),
        };
        out.value(None, &v)
    }

    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        if iid != 0 {
            return Err(Code::NOT_FOUND);
        }
        match (rid, riid, *value) {
            (0, None, Value::Opaque(data)) => self.write_block(0, 0, 0, data, true),
            (1, None, Value::String(uri)) => self.write_uri(uri),
            (0 | 1, _, _) => Err(Code::BAD_REQUEST),
            (2 | 3 | 5..=9, _, _) => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }

    fn write_block(
        &mut self,
        iid: u16,
        rid: u16,
        offset: u32,
        data: &[u8],
        last: bool,
    ) -> Result<(), Code> {
        match (iid, rid) {
            (0, 0) => {}
            (0, 1..=9) => return Err(Code::METHOD_NOT_ALLOWED),
            _ => return Err(Code::NOT_FOUND),
        }
        if offset == 0 {
            match self.state {
                // An empty Package resets.
                _ if data.is_empty() && last => return self.reset(),
                // The first block of a pull download (the URI write opened the sink).
                FirmwareState::Downloading {
                    pull: true,
                    next: 0,
                } => {}
                FirmwareState::Idle(_) => {
                    if let Err(r) = self.start(false) {
                        self.set(FirmwareState::Idle(r));
                        return Ok(());
                    }
                }
                // A pushed package starting over.
                FirmwareState::Downloading { pull: false, .. } => {
                    self.sink.cancel();
                    if let Err(r) = self.start(false) {
                        self.set(FirmwareState::Idle(r));
                        return Ok(());
                    }
                }
                _ => return Err(Code::METHOD_NOT_ALLOWED),
            }
        }
        self.block(offset, data, last)
    }

    fn execute(&mut self, iid: u16, rid: u16, _args: &[u8]) -> Result<(), Code> {
        match (iid, rid) {
            (0, 2) => {
                // Update is only executable in Downloaded (E.6): 4.05 elsewhere.
                let FirmwareState::Downloaded { size, .. } = self.state else {
                    return Err(Code::METHOD_NOT_ALLOWED);
                };
                self.set(FirmwareState::Updating { size });
                self.update_requested = true;
                Ok(())
            }
            (0, _) => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FirmwareState::*;
    use UpdateResult::*;

    /// Records what reaches the sink; `fail_*` make a step fail.
    #[derive(Default)]
    struct Sink {
        data: std::vec::Vec<u8>,
        opened: u32,
        cancelled: u32,
        finished: Option<u32>,
        fail_open: Option<UpdateResult>,
        fail_write_at: Option<(u32, UpdateResult)>,
        fail_finish: Option<UpdateResult>,
    }

    impl FirmwareSink for Sink {
        fn open(&mut self) -> Result<(), UpdateResult> {
            self.opened += 1;
            self.data.clear();
            self.finished = None;
            self.fail_open.map_or(Ok(()), Err)
        }
        fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
            if let Some((at, r)) = self.fail_write_at {
                if offset >= at {
                    return Err(r);
                }
            }
            assert_eq!(offset as usize, self.data.len(), "in order, no gaps");
            self.data.extend_from_slice(data);
            Ok(())
        }
        fn finish(&mut self, size: u32) -> Result<(), UpdateResult> {
            self.finished = Some(size);
            self.fail_finish.map_or(Ok(()), Err)
        }
        fn cancel(&mut self) {
            self.cancelled += 1;
        }
    }

    fn fw(pull: PullSupport) -> Firmware<'static, Sink> {
        Firmware::new(Sink::default(), pull)
    }

    struct Ints(std::vec::Vec<(Option<u16>, i64)>, std::string::String);
    impl ValueSink for Ints {
        fn value(&mut self, ri: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
            match v {
                Value::Integer(i) => self.0.push((ri, *i)),
                Value::String(s) => self.1 = (*s).into(),
                _ => {}
            }
            Ok(())
        }
    }

    fn read(
        f: &mut Firmware<'static, Sink>,
        rid: u16,
    ) -> (std::vec::Vec<(Option<u16>, i64)>, std::string::String) {
        let mut out = Ints(std::vec::Vec::new(), std::string::String::new());
        f.read(0, rid, &mut out).unwrap();
        (out.0, out.1)
    }

    /// State and Update Result as the server reads them.
    fn sr(f: &mut Firmware<'static, Sink>) -> (i64, i64) {
        (read(f, 3).0[0].1, read(f, 5).0[0].1)
    }

    fn uri(f: &mut Firmware<'static, Sink>, u: &str) -> Result<(), Code> {
        f.write(0, 1, None, &Value::String(u))
    }

    fn downloaded(f: &mut Firmware<'static, Sink>) {
        f.write(0, 0, None, &Value::Opaque(b"image")).unwrap();
        assert_eq!(
            f.state(),
            Downloaded {
                size: 5,
                update_failed: false
            }
        );
    }

    #[test]
    fn push_whole_value_then_update_succeeds() {
        let mut f = fw(PullSupport::Coap);
        assert_eq!(sr(&mut f), (0, 0));
        downloaded(&mut f);
        assert_eq!(f.sink().data, b"image");
        assert_eq!(f.sink().finished, Some(5));
        assert_eq!(f.take_change(), Some(f.state()));
        assert_eq!(f.take_change(), None);
        assert_eq!(sr(&mut f), (2, 0));
        assert_eq!(f.execute(0, 2, &[]), Ok(()));
        assert_eq!(f.state(), Updating { size: 5 });
        assert!(f.take_update_request());
        assert!(!f.take_update_request());
        assert_eq!(sr(&mut f), (3, 0));
        assert!(!f.update_done(InvalidUri), "not an update outcome");
        assert!(f.update_done(Success));
        assert_eq!(f.state(), Idle(Success));
        assert_eq!(sr(&mut f), (0, 1));
        assert!(!f.update_done(Success), "no update runs");
    }

    #[test]
    fn failed_update_returns_to_downloaded_and_may_run_again() {
        let mut f = fw(PullSupport::Coap);
        downloaded(&mut f);
        f.execute(0, 2, &[]).unwrap();
        assert!(f.update_done(UpdateFailed));
        assert_eq!(
            f.state(),
            Downloaded {
                size: 5,
                update_failed: true
            }
        );
        assert_eq!(sr(&mut f), (2, 8));
        f.execute(0, 2, &[]).unwrap();
        assert_eq!(
            sr(&mut f),
            (3, 0),
            "Update Result is reset when the update starts"
        );
        assert!(f.update_done(IntegrityFailure));
        assert_eq!(sr(&mut f), (0, 5));
    }

    #[test]
    fn update_is_executable_in_downloaded_only() {
        let mut f = fw(PullSupport::Coap);
        assert_eq!(f.execute(0, 2, &[]), Err(Code::METHOD_NOT_ALLOWED), "idle");
        f.write_block(0, 0, 0, b"ab", false).unwrap();
        assert_eq!(
            f.execute(0, 2, &[]),
            Err(Code::METHOD_NOT_ALLOWED),
            "downloading"
        );
        f.write_block(0, 0, 2, b"cd", true).unwrap();
        f.execute(0, 2, &[]).unwrap();
        assert_eq!(
            f.execute(0, 2, &[]),
            Err(Code::METHOD_NOT_ALLOWED),
            "updating"
        );
        assert_eq!(f.execute(0, 3, &[]), Err(Code::METHOD_NOT_ALLOWED));
        assert_eq!(f.execute(1, 2, &[]), Err(Code::NOT_FOUND));
        assert_eq!(f.state(), Updating { size: 4 });
    }

    #[test]
    fn blocks_in_order_and_gaps_refused() {
        let mut f = fw(PullSupport::None);
        f.write_block(0, 0, 0, b"0123", false).unwrap();
        assert_eq!(
            f.state(),
            Downloading {
                pull: false,
                next: 4
            }
        );
        assert_eq!(
            f.write_block(0, 0, 8, b"89", false),
            Err(Code::REQUEST_ENTITY_INCOMPLETE)
        );
        assert_eq!(
            f.state(),
            Downloading {
                pull: false,
                next: 4
            },
            "unchanged"
        );
        f.write_block(0, 0, 4, b"4567", false).unwrap();
        // Offset 0 again starts over.
        f.write_block(0, 0, 0, b"xy", false).unwrap();
        assert_eq!(f.sink().opened, 2);
        f.write_block(0, 0, 2, b"z", true).unwrap();
        assert_eq!(f.sink().data, b"xyz");
        assert_eq!(
            f.state(),
            Downloaded {
                size: 3,
                update_failed: false
            }
        );
        assert_eq!(
            f.write_block(0, 0, 3, b"more", false),
            Err(Code::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            f.write_block(0, 0, 0, b"new", true),
            Err(Code::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            f.write_block(0, 1, 0, b"x", true),
            Err(Code::METHOD_NOT_ALLOWED)
        );
        assert_eq!(f.write_block(1, 0, 0, b"x", true), Err(Code::NOT_FOUND));
    }

    #[test]
    fn empty_package_or_uri_resets_to_idle() {
        let mut f = fw(PullSupport::Coap);
        f.write_block(0, 0, 0, b"ab", false).unwrap();
        f.write(0, 0, None, &Value::Opaque(&[])).unwrap();
        assert_eq!(f.state(), Idle(Initial));
        assert_eq!(f.sink().cancelled, 1);
        uri(&mut f, "coap://h/fw").unwrap();
        assert_eq!(sr(&mut f), (1, 0));
        uri(&mut f, "").unwrap();
        assert_eq!(sr(&mut f), (0, 0));
        assert_eq!(read(&mut f, 1).1, "");
        assert_eq!(f.sink().cancelled, 2);
        downloaded(&mut f);
        uri(&mut f, "").unwrap();
        assert_eq!(f.state(), Idle(Initial));
        // Reset after a failure clears the result; refused while updating.
        uri(&mut f, "http://h/fw").unwrap();
        assert_eq!(sr(&mut f), (0, 9));
        f.write(0, 0, None, &Value::Opaque(&[])).unwrap();
        assert_eq!(sr(&mut f), (0, 0));
        downloaded(&mut f);
        f.execute(0, 2, &[]).unwrap();
        assert_eq!(uri(&mut f, ""), Err(Code::METHOD_NOT_ALLOWED));
        assert_eq!(f.state(), Updating { size: 5 });
    }

    #[test]
    fn package_uri_starts_a_pull_or_names_the_error() {
        let mut f = fw(PullSupport::Coap);
        for (u, r) in [
            ("http://example.com/fw", UnsupportedProtocol),
            ("coaps://example.com/fw", UnsupportedProtocol),
            ("coap+tcp://example.com/fw", UnsupportedProtocol),
            ("example.com/fw", InvalidUri),
            ("coap://", InvalidUri),
            ("coap:///fw", InvalidUri),
            ("coap://host/a b", InvalidUri),
        ] {
            assert_eq!(uri(&mut f, u), Ok(()), "{u}: the write succeeds");
            assert_eq!(f.state(), Idle(r), "{u}");
            assert_eq!(read(&mut f, 1).1, "", "{u}: not kept");
        }
        let long = std::format!("coap://h/{}", "x".repeat(MAX_PACKAGE_URI_LEN));
        uri(&mut f, &long).unwrap();
        assert_eq!(f.state(), Idle(InvalidUri));
        uri(&mut f, "coap://[::1]:5683/fw/image.bin").unwrap();
        assert_eq!(
            f.state(),
            Downloading {
                pull: true,
                next: 0
            }
        );
        assert_eq!(read(&mut f, 1).1, "coap://[::1]:5683/fw/image.bin");
        assert_eq!(f.sink().opened, 1);
        assert_eq!(uri(&mut f, "coap://h/other"), Err(Code::METHOD_NOT_ALLOWED));
        // Blocks from the downloader, then a loss reported by it.
        f.write_block(0, 0, 0, b"abc", false).unwrap();
        f.download_failed(ConnectionLost);
        assert_eq!(f.state(), Idle(ConnectionLost));
        assert_eq!(f.sink().cancelled, 1);
        f.download_failed(InvalidUri);
        assert_eq!(f.state(), Idle(ConnectionLost), "no download runs: ignored");

        let mut secure = fw(PullSupport::CoapAndCoaps);
        uri(&mut secure, "coaps://h/fw").unwrap();
        assert_eq!(
            secure.state(),
            Downloading {
                pull: true,
                next: 0
            }
        );
        let mut push_only = fw(PullSupport::None);
        uri(&mut push_only, "coap://h/fw").unwrap();
        assert_eq!(push_only.state(), Idle(UnsupportedProtocol));
    }

    #[test]
    fn sink_failures_end_in_idle_with_their_result() {
        let mut f = fw(PullSupport::Coap);
        f.sink_mut().fail_open = Some(NoStorage);
        assert_eq!(f.write(0, 0, None, &Value::Opaque(b"x")), Ok(()));
        assert_eq!(f.state(), Idle(NoStorage));
        uri(&mut f, "coap://h/fw").unwrap();
        assert_eq!(f.state(), Idle(NoStorage));
        f.sink_mut().fail_open = None;
        f.sink_mut().fail_write_at = Some((4, OutOfMemory));
        f.write_block(0, 0, 0, b"0123", false).unwrap();
        f.write_block(0, 0, 4, b"4567", false).unwrap();
        assert_eq!(f.state(), Idle(OutOfMemory));
        assert_eq!(f.sink().cancelled, 1);
        f.sink_mut().fail_write_at = None;
        f.sink_mut().fail_finish = Some(IntegrityFailure);
        f.write(0, 0, None, &Value::Opaque(b"bad")).unwrap();
        assert_eq!(sr(&mut f), (0, 5));
    }

    #[test]
    fn resources_and_bad_writes() {
        let mut f = fw(PullSupport::CoapAndCoaps);
        f.set_package_info("app", "1.2.3");
        assert_eq!(read(&mut f, 6).1, "app");
        assert_eq!(read(&mut f, 7).1, "1.2.3");
        assert_eq!(read(&mut f, 8).0, [(Some(0), 0), (Some(1), 1)]);
        assert_eq!(read(&mut f, 9).0, [(None, 2)]);
        assert_eq!(read(&mut fw(PullSupport::None), 9).0, [(None, 1)]);
        assert_eq!(read(&mut fw(PullSupport::None), 8).0, []);
        let mut out = Ints(std::vec::Vec::new(), std::string::String::new());
        assert_eq!(f.read(0, 0, &mut out), Err(Code::METHOD_NOT_ALLOWED));
        assert_eq!(f.read(0, 4, &mut out), Err(Code::NOT_FOUND));
        assert_eq!(f.read(1, 3, &mut out), Err(Code::NOT_FOUND));
        assert_eq!(
            f.write(0, 0, None, &Value::String("x")),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(
            f.write(0, 1, None, &Value::Integer(1)),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(
            f.write(0, 3, None, &Value::Integer(1)),
            Err(Code::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            f.write(1, 1, None, &Value::String("")),
            Err(Code::NOT_FOUND)
        );
        assert_eq!(f.state(), Idle(Initial));
        assert_eq!(f.take_change(), None, "refused writes change nothing");
    }
}
