//! The state record slots as C provides them (`tern_platform_t` `store` and `load`, the
//! persistence feature).

use super::State;
use crate::client::persist::{Restored, Store};
use crate::ffi::types::*;

/// The platform's slots.
struct CStore<'a>(&'a tern_platform_t);

impl Store for CStore<'_> {
    fn write(&mut self, slot: u8, offset: u32, data: &[u8]) -> bool {
        let Some(f) = self.0.store else {
            return false;
        };
        // SAFETY: `data` is valid for the call.
        unsafe { f(self.0.user, slot, offset, data.as_ptr(), data.len()) == TERN_STATUS_OK }
    }

    fn read(&mut self, slot: u8, offset: u32, buf: &mut [u8]) -> bool {
        let Some(f) = self.0.load else {
            return false;
        };
        // SAFETY: `buf` is valid and writable for the call.
        unsafe { f(self.0.user, slot, offset, buf.as_mut_ptr(), buf.len()) == TERN_STATUS_OK }
    }
}

impl State {
    /// Loads the saved state, once, before the first step does anything else.
    // Not inlined into the step: its frame would then lie under every request.
    #[inline(never)]
    pub(super) fn restore_once(&mut self) {
        if core::mem::replace(&mut self.restored, true) || self.platform.load.is_none() {
            return;
        }
        use tern_event_kind_t::*;
        match self.core.restore_state(&mut CStore(&self.platform)) {
            Restored::Empty => {}
            Restored::Applied { sequence } => self.state_event(TERN_EVENT_STATE_RESTORED, sequence),
            Restored::Rejected(why) => {
                self.state_log(b"saved state refused, configuration kept\0", why as u32);
                self.state_event(TERN_EVENT_STATE_REJECTED, why as u32);
            }
        }
    }

    /// Saves the state when it changed.
    pub(super) fn save_if_changed(&mut self) {
        if self.platform.store.is_none() || !self.core.state_changed() {
            return;
        }
        let platform = self.platform;
        if !self.core.save_state(&mut CStore(&platform)) {
            self.state_log(b"saving the state failed\0", 0);
            self.state_event(tern_event_kind_t::TERN_EVENT_STATE_STORE_FAILED, 0);
        }
    }

    fn state_event(&self, kind: tern_event_kind_t, value: u32) {
        self.emit(kind, u8::MAX, 0, value);
    }

    /// `line` is NUL-terminated.
    fn state_log(&self, line: &'static [u8], value: u32) {
        if let Some(f) = self.platform.log {
            let level = tern_log_level_t::TERN_LOG_WARN;
            // SAFETY: `line` is a static NUL-terminated string.
            unsafe {
                f(
                    self.platform.user,
                    level,
                    line.as_ptr().cast(),
                    u8::MAX,
                    value,
                )
            };
        }
    }
}
