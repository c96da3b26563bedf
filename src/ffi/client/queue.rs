//! `tern_client_set_queue_mode` (the queue-mode feature).

use super::{live, tern_client_t};
use crate::ffi::types::*;

/// Puts server slot `server` in queue mode (`enabled`), awake `awake_ms` after each
/// exchange with it (0: MAX_TRANSMIT_WAIT, 93 s), or takes it out. The server hears it with
/// the next Register (LwM2M 1.1: the `Q` parameter) or Update (1.0: the binding `UQ`). In
/// queue mode the client reports `TERN_EVENT_QUEUE_SLEEPING` when the awake time is over
/// and `TERN_EVENT_QUEUE_AWAKE` when it sends to the server again; a server writing the
/// binding `UQ` or `U` (/1/x/7) switches it too. Notifications raised while it sleeps are
/// held (`TERN_NOTIFY_QUEUE_BYTES`) and leave after the Update that wakes it is answered;
/// `TERN_EVENT_NOTIFICATIONS_DROPPED` reports those dropped. `TERN_STATUS_INVALID_ARG` for
/// an unknown slot.
///
/// # Safety
/// `client` from `tern_client_init`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_queue_mode(
    client: *mut tern_client_t,
    server: u8,
    enabled: bool,
    awake_ms: u32,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    if c.core.set_queue_mode(server, enabled.then_some(awake_ms)) {
        TERN_STATUS_OK
    } else {
        TERN_STATUS_INVALID_ARG
    }
}
