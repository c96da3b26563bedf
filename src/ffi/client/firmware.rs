//! `tern_client_*firmware*`: the Firmware Update object (5) as C sees it (the
//! firmware-update feature).

use core::ffi::c_void;

use super::{live, status, str_arg, tern_client_t, State};
use crate::client::download::DOWNLOAD_SLOT;
use crate::ffi::types::*;
use crate::model::{Firmware, FirmwareSink, PullSupport, UpdateResult};

/// Where a firmware package goes, as C callbacks (all called from inside
/// `tern_client_step` / `tern_client_input`, with `user` first). Each returning `uint8_t`
/// returns 0 to go on, or the Update Result the server should see: 2 not enough storage,
/// 3 out of RAM, 5 integrity check failure, 6 unsupported package type.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_firmware_sink_t {
    /// Passed to every callback.
    pub user: *mut c_void,
    /// A new package starts: forget any earlier one. Required.
    pub open: Option<unsafe extern "C" fn(user: *mut c_void) -> u8>,
    /// `len` bytes at byte `offset` of the package, in order and without gaps (`data`
    /// valid during the call only). Required.
    pub write: Option<
        unsafe extern "C" fn(user: *mut c_void, offset: u32, data: *const u8, len: usize) -> u8,
    >,
    /// The package is complete (`size` bytes): check it. Required.
    pub finish: Option<unsafe extern "C" fn(user: *mut c_void, size: u32) -> u8>,
    /// The download was cancelled or failed: drop what was received. Optional.
    pub cancel: Option<unsafe extern "C" fn(user: *mut c_void)>,
    /// A server executed Update (/5/0/2) on the complete package; the response has been
    /// sent. Apply the package (now or later: a reboot may come first) and report the
    /// outcome with `tern_client_firmware_result` once the step has returned (not from
    /// inside a callback). Required.
    pub update: Option<unsafe extern "C" fn(user: *mut c_void)>,
}

/// The C sink, `None` until the application sets one (the object is not offered then).
pub(super) struct CSink(Option<tern_firmware_sink_t>);

/// The Firmware Update object of a C client.
pub(super) type CFirmware = Firmware<'static, CSink>;

pub(super) fn new_object() -> CFirmware {
    Firmware::new(CSink(None), PullSupport::None)
}

/// True once a sink is set: the object is offered to the servers.
pub(super) fn enabled(f: &CFirmware) -> bool {
    f.sink().0.is_some()
}

fn result(r: u8) -> Result<(), UpdateResult> {
    match r {
        0 => Ok(()),
        r => Err(UpdateResult::from_u8(r)
            .filter(|r| *r as u8 >= 2)
            .unwrap_or(UpdateResult::UpdateFailed)),
    }
}

impl FirmwareSink for CSink {
    fn open(&mut self) -> Result<(), UpdateResult> {
        match self.0 {
            // SAFETY: a callback the application registered, with its own `user`.
            Some(tern_firmware_sink_t {
                user,
                open: Some(f),
                ..
            }) => result(unsafe { f(user) }),
            _ => Err(UpdateResult::NoStorage),
        }
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
        match self.0 {
            // SAFETY: as above; `data` is valid for the call.
            Some(tern_firmware_sink_t {
                user,
                write: Some(f),
                ..
            }) => result(unsafe { f(user, offset, data.as_ptr(), data.len()) }),
            _ => Err(UpdateResult::NoStorage),
        }
    }

    fn finish(&mut self, size: u32) -> Result<(), UpdateResult> {
        match self.0 {
            // SAFETY: as above.
            Some(tern_firmware_sink_t {
                user,
                finish: Some(f),
                ..
            }) => result(unsafe { f(user, size) }),
            _ => Err(UpdateResult::IntegrityFailure),
        }
    }

    fn cancel(&mut self) {
        if let Some(tern_firmware_sink_t {
            user,
            cancel: Some(f),
            ..
        }) = self.0
        {
            // SAFETY: as above.
            unsafe { f(user) }
        }
    }
}

/// Offers the Firmware Update object (5) to the servers, with `sink` receiving the
/// packages (copied; its `user` must outlive the client). `pull`: 0 push only (a Package
/// URI gets Update Result 9), 1 also `coap://` Package URIs, 2 also `coaps://` (the
/// platform's `open` secures that connection itself). A pull download opens its own
/// connection through the platform's `open` with the Package URI and `security_instance`
/// 65535; `TERN_EVENT_FIRMWARE_PROGRESS` reports it. A registration Update follows.
/// `TERN_STATUS_NULL_ARG` when a required callback is missing.
///
/// # Safety
/// `client` from `tern_client_init`; `sink` valid for the call.
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_firmware_sink(
    client: *mut tern_client_t,
    sink: *const tern_firmware_sink_t,
    pull: u8,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    // SAFETY: NULL or valid by the caller's contract.
    let Some(&s) = (unsafe { sink.as_ref() }) else {
        return TERN_STATUS_NULL_ARG;
    };
    let (Some(_), Some(_), Some(_), Some(_)) = (s.open, s.write, s.finish, s.update) else {
        return TERN_STATUS_NULL_ARG;
    };
    let pull = match pull {
        0 => PullSupport::None,
        1 => PullSupport::Coap,
        2 => PullSupport::CoapAndCoaps,
        _ => return TERN_STATUS_INVALID_ARG,
    };
    c.firmware = Firmware::new(CSink(Some(s)), pull);
    c.core.update(true);
    TERN_STATUS_OK
}

/// Reports the outcome of an update the `update` callback started: 1 success (State Idle,
/// Update Result 1), 8 update failed (back to Downloaded, Update Result 8: the server may
/// execute Update again), or 2, 3, 5, 6 (the package is dropped: Idle with that result).
/// `TERN_STATUS_BAD_STATE` when no update runs, `TERN_STATUS_INVALID_ARG` for another value.
///
/// # Safety
/// `client` from `tern_client_init`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_firmware_result(
    client: *mut tern_client_t,
    result: u8,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    let r = match UpdateResult::from_u8(result) {
        Some(r) if matches!(result, 1 | 2 | 3 | 5 | 6 | 8) => r,
        _ => return TERN_STATUS_INVALID_ARG,
    };
    let done = c.firmware.update_done(r);
    c.firmware_events();
    status(if done {
        Ok(())
    } else {
        Err(TERN_STATUS_BAD_STATE)
    })
}

/// Sets PkgName and PkgVersion (/5/0/6, /5/0/7) of the package, once the application knows
/// them (from the package's header, say). Borrowed: both must stay valid until replaced or
/// until the client is closed. `TERN_STATUS_INVALID_ARG` for text that is not UTF-8.
///
/// # Safety
/// `client` from `tern_client_init`; each string valid for its length, as long as said.
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_firmware_package(
    client: *mut tern_client_t,
    name: tern_str_t,
    version: tern_str_t,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    // SAFETY: the caller keeps the strings valid while the object holds them.
    let (name, version) = match unsafe { (str_arg(name), str_arg(version)) } {
        (Ok(n), Ok(v)) => (n, v),
        (Err(s), _) | (_, Err(s)) => return s,
    };
    c.firmware.set_package_info(name, version);
    TERN_STATUS_OK
}

/// The Firmware Update object's State (/5/0/3: 0 idle, 1 downloading, 2 downloaded,
/// 3 updating) and Update Result (/5/0/5), and the bytes of the package received so far
/// and its size as the download server announced it (0 when unknown, as for a push).
/// Any pointer may be NULL.
///
/// # Safety
/// `client` from `tern_client_init`; the pointers NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tern_client_firmware_status(
    client: *mut tern_client_t,
    state: *mut u8,
    result: *mut u8,
    received: *mut u32,
    total: *mut u32,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    let st = c.firmware.state();
    let (got, size) = match st {
        crate::model::FirmwareState::Downloading { pull: true, .. } => c.core.download_progress(),
        crate::model::FirmwareState::Downloading { next, .. } => (next, 0),
        crate::model::FirmwareState::Downloaded { size, .. }
        | crate::model::FirmwareState::Updating { size } => (size, size),
        _ => (0, 0),
    };
    // SAFETY: each pointer is NULL or writable by the caller's contract.
    unsafe {
        for (p, v) in [(state, st.number()), (result, st.result() as u8)] {
            if !p.is_null() {
                *p = v;
            }
        }
        for (p, v) in [(received, got), (total, size)] {
            if !p.is_null() {
                *p = v;
            }
        }
    }
    TERN_STATUS_OK
}

impl State {
    /// Opens the download connection to the Package URI (object 5 is this object: a C
    /// object cannot take its number).
    pub(super) fn open_download(&mut self) {
        let i = usize::from(DOWNLOAD_SLOT);
        let mut conn: *mut c_void = core::ptr::null_mut();
        let uri = self.firmware.uri().as_bytes();
        let st = match self.platform.open {
            // SAFETY: `uri` is valid for the call; `conn` is a valid out-pointer.
            Some(open) => unsafe {
                open(
                    self.platform.user,
                    uri.as_ptr().cast(),
                    uri.len(),
                    u16::MAX,
                    &mut conn,
                )
            },
            None => TERN_STATUS_NULL_ARG,
        };
        match (st, self.connections.get_mut(i)) {
            (TERN_STATUS_OK, Some(slot)) if !conn.is_null() => {
                *slot = conn;
                self.core.download_connection_opened();
            }
            _ => {
                let (core, mut env) = self.env();
                core.download_connection_failed(&mut env);
            }
        }
    }

    /// A firmware event for the application (no log line).
    pub(super) fn firmware_event(&self, kind: tern_event_kind_t, code: u16, value: u32) {
        self.emit(kind, DOWNLOAD_SLOT, code, value);
    }

    /// Reports a changed State, and starts an update a server asked for.
    pub(super) fn firmware_events(&mut self) {
        if let Some(st) = self.firmware.take_change() {
            self.firmware_event(
                tern_event_kind_t::TERN_EVENT_FIRMWARE_STATE,
                u16::from(st.result() as u8),
                u32::from(st.number()),
            );
        }
        if self.firmware.take_update_request() {
            if let Some(tern_firmware_sink_t {
                user,
                update: Some(f),
                ..
            }) = self.firmware.sink().0
            {
                // SAFETY: a callback the application registered.
                unsafe { f(user) }
            }
        }
    }
}
