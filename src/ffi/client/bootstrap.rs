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
