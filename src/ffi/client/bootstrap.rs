//! The bootstrap server account of a C config, and the bootstrap events.

use core::mem::MaybeUninit;

use super::str_arg;
use crate::client::bootstrap::BootstrapConfig;
use crate::client::{Client, Config};
use crate::ffi::types::*;

/// Initialises the engine, with the bootstrap account when the config names one.
///
/// # Safety
/// `cfg.bootstrap_uri` must be valid for its length (copied before this returns).
pub(super) unsafe fn init(
    core: &mut MaybeUninit<Client>,
    config: &Config<'_>,
    cfg: &tern_config_t,
    seed: u16,
) -> Result<(), tern_status_t> {
    let r = if cfg.bootstrap_uri.len == 0 {
        Client::init_in_place(core, config, seed).map(|_| ())
    } else {
        let bs = BootstrapConfig {
            // SAFETY: forwarded from the caller's contract; copied by the engine.
            uri: unsafe { str_arg(cfg.bootstrap_uri)? },
            hold_off_s: cfg.bootstrap_hold_off_s,
            first: cfg.bootstrap_flags & 1 != 0,
            server_initiated: cfg.bootstrap_flags & 2 != 0,
        };
        Client::init_with_bootstrap(core, config, &bs, seed).map(|_| ())
    };
    r.map_err(|_| TERN_STATUS_INVALID_ARG)
}

/// Applies a bootstrap blob read from a smartcard or a secure element: as a Bootstrap-Delete
/// of `/` (the bootstrap account stays), Bootstrap-Writes and a Bootstrap-Finish. The blob
/// is a list of parts, each a 2-byte Object ID (0 Security or 1 Server) and a 2-byte length,
/// both big-endian, then that many bytes of TLV: the object's instances, as a
/// Bootstrap-Write of `/0` or `/1` carries them. On success the client registers with the
/// servers it describes (`TERN_EVENT_BOOTSTRAPPED`) and, with persistence, saves them; a
/// registered server the blob drops de-registers first (`TERN_EVENT_DEREGISTERED`).
/// `TERN_STATUS_INVALID_ARG` when the blob is malformed, writes what an object refuses or
/// describes an unusable configuration (a server without its Security instance, ...):
/// nothing changes then. Only in builds with the `bootstrap` feature.
///
/// # Safety
/// `client` from `tern_client_init`; `data` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn tern_client_bootstrap_blob(
    client: *mut super::tern_client_t,
    data: *const u8,
    len: usize,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { super::live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    if data.is_null() {
        return TERN_STATUS_NULL_ARG;
    }
    // SAFETY: non-null, `len` bytes guaranteed by the caller.
    let blob = unsafe { core::slice::from_raw_parts(data, len) };
    match c.core.bootstrap_from_blob(blob) {
        Ok(()) => TERN_STATUS_OK,
        Err(_) => TERN_STATUS_INVALID_ARG,
    }
}
