//! `tern_send`: Send (LwM2M 1.1) as C sees it (the send feature).

use super::{live, str_arg, tern_client_t};
use crate::client::send::SendError;
use crate::config::MAX_SEND_PATHS;
use crate::ffi::types::*;
use crate::model::Path;

/// Send (LwM2M 1.1 Information Reporting): queues a confirmable POST to `/dp` of server
/// `server_index` (0 for the first configured server) with the current values of the
/// `n_paths` paths at `paths`, each a text such as `"/3/0/0"` (an object, instance,
/// resource or resource instance; copied, not retained). `format` is 112 (SenML CBOR) or
/// 110 (SenML JSON); 0 means 112. The request leaves at the next `tern_client_step`; its
/// outcome comes as an event: `TERN_EVENT_SEND_SUCCEEDED` (a 2.xx), `TERN_EVENT_SEND_FAILED`
/// (`code` is the server's error code, e.g. 404) or `TERN_EVENT_SEND_TIMEOUT` (no
/// response, a Reset, or the registration ended before it could leave).
///
/// Returns `TERN_STATUS_OK` once queued, or: `TERN_STATUS_NULL_ARG` (`client` or `paths`
/// NULL, a path with a NULL pointer), `TERN_STATUS_INVALID_ARG` (no server at
/// `server_index`, `n_paths` 0 or above `TERN_MAX_SEND_PATHS`, a path that does not parse
/// or is `/`, another format), `TERN_STATUS_BAD_STATE` (the server is not registered, or
/// the client registers with LwM2M 1.0, which has no Send), `TERN_STATUS_NOT_ALLOWED` (the
/// server's Mute Send, /1/x/23, is true; or Access Control denies it Read on a path),
/// `TERN_STATUS_NOT_FOUND` (a path names nothing readable), `TERN_STATUS_NO_SPACE` (the
/// values do not fit `TERN_MAX_MESSAGE_SIZE`: block-wise Send is not supported),
/// `TERN_STATUS_WOULD_BLOCK` (a Send is waiting or in flight: one at a time per client;
/// retry after its event).
///
/// # Safety
/// `client` from `tern_client_init`; `paths` NULL or valid for `n_paths` entries, each
/// valid for its length.
#[no_mangle]
pub unsafe extern "C" fn tern_send(
    client: *mut tern_client_t,
    server_index: u8,
    paths: *const tern_str_t,
    n_paths: usize,
    format: u16,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    if paths.is_null() {
        return TERN_STATUS_NULL_ARG;
    }
    if n_paths == 0 || n_paths > MAX_SEND_PATHS {
        return TERN_STATUS_INVALID_ARG;
    }
    // SAFETY: non-null, `n_paths` entries by the caller's contract.
    let texts = unsafe { core::slice::from_raw_parts(paths, n_paths) };
    let mut list = [Path::ROOT; MAX_SEND_PATHS];
    for (slot, &text) in list.iter_mut().zip(texts) {
        // SAFETY: each entry is valid for its length by the caller's contract.
        let text = match unsafe { str_arg(text) } {
            Ok(t) => t,
            Err(s) => return s,
        };
        match Path::from_segments(text.as_bytes().split(|&b| b == b'/')) {
            Some(p) if !p.is_empty() => *slot = p,
            _ => return TERN_STATUS_INVALID_ARG,
        }
    }
    let format = if format == 0 { 112 } else { format };
    let list = list.get(..n_paths).unwrap_or(&[]);
    let (core, mut env) = c.env();
    match core.send(server_index, list, format, &mut env) {
        Ok(()) => TERN_STATUS_OK,
        Err(SendError::InvalidArg | SendError::UnknownServer) => TERN_STATUS_INVALID_ARG,
        Err(SendError::NotRegistered | SendError::Version) => TERN_STATUS_BAD_STATE,
        Err(SendError::Muted | SendError::Denied) => TERN_STATUS_NOT_ALLOWED,
        Err(SendError::NotFound) => TERN_STATUS_NOT_FOUND,
        Err(SendError::TooLarge) => TERN_STATUS_NO_SPACE,
        Err(SendError::Busy) => TERN_STATUS_WOULD_BLOCK,
    }
}
