//! The C library's critical section (the `c-critical-section` feature): the
//! `critical-section` crate's implementation over the hooks the application hands
//! `tern_set_critical_section` (Zephyr `irq_lock`/`irq_unlock`, FreeRTOS
//! `taskENTER_CRITICAL`/`taskEXIT_CRITICAL`, a mutex on a host). Without hooks it does
//! nothing, which is right for an application that signals changes from the thread that runs
//! the client. tern never nests its critical sections, so one saved state is enough.

// The statics serve the implementation, which std builds (host tests) do not have.
#![cfg_attr(feature = "std", allow(dead_code))]

use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use super::types::*;

/// Enters the platform's critical section; returns what `exit` needs to leave it (the
/// interrupt state, say).
pub type tern_critical_enter_fn = Option<unsafe extern "C" fn(user: *mut c_void) -> u32>;
/// Leaves the critical section `enter` entered, given what it returned.
pub type tern_critical_exit_fn = Option<unsafe extern "C" fn(user: *mut c_void, state: u32)>;

type Enter = unsafe extern "C" fn(*mut c_void) -> u32;
type Exit = unsafe extern "C" fn(*mut c_void, u32);

static ENTER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());
static EXIT: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());
static USER: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
static STATE: AtomicU32 = AtomicU32::new(0);

/// Gives the library the platform's critical section, which `tern_resource_changed` needs
/// when it is called from another thread or an interrupt (both hooks, or neither to go
/// back to none). Global to every client; call it once, before those calls start.
/// `TERN_STATUS_NULL_ARG` when only one hook is given. Only in builds with the
/// `c-critical-section` feature.
///
/// # Safety
/// The hooks must be callable from every context that calls `tern_resource_changed` or
/// runs the client, with `user`, for as long as clients run.
#[no_mangle]
pub unsafe extern "C" fn tern_set_critical_section(
    enter: tern_critical_enter_fn,
    exit: tern_critical_exit_fn,
    user: *mut c_void,
) -> tern_status_t {
    let (enter, exit) = match (enter, exit) {
        (Some(en), Some(ex)) => (en as *mut (), ex as *mut ()),
        (None, None) => (core::ptr::null_mut(), core::ptr::null_mut()),
        _ => return TERN_STATUS_NULL_ARG,
    };
    ENTER.store(core::ptr::null_mut(), Ordering::SeqCst);
    USER.store(user, Ordering::SeqCst);
    EXIT.store(exit, Ordering::SeqCst);
    ENTER.store(enter, Ordering::SeqCst);
    TERN_STATUS_OK
}

#[cfg(not(feature = "std"))]
struct Hooks;

#[cfg(not(feature = "std"))]
critical_section::set_impl!(Hooks);

// SAFETY: acquire and release run the application's hooks, which make the section
// exclusive across threads and interrupts (their documented contract); sections do not
// nest in tern, so the state saved by `acquire` is the one `release` restores.
#[cfg(not(feature = "std"))]
unsafe impl critical_section::Impl for Hooks {
    unsafe fn acquire() -> critical_section::RawRestoreState {
        let f = ENTER.load(Ordering::Acquire);
        if !f.is_null() {
            // SAFETY: only ever stored from an `Enter` by tern_set_critical_section.
            let enter = unsafe { core::mem::transmute::<*mut (), Enter>(f) };
            // SAFETY: the application's hook, with its `user`.
            let state = unsafe { enter(USER.load(Ordering::Acquire)) };
            STATE.store(state, Ordering::Relaxed);
        }
        Default::default()
    }

    unsafe fn release(_: critical_section::RawRestoreState) {
        let f = EXIT.load(Ordering::Acquire);
        if !f.is_null() {
            // SAFETY: only ever stored from an `Exit` by tern_set_critical_section.
            let exit = unsafe { core::mem::transmute::<*mut (), Exit>(f) };
            // SAFETY: the application's hook, with its `user` and the state `enter` gave.
            unsafe { exit(USER.load(Ordering::Acquire), STATE.load(Ordering::Relaxed)) };
        }
    }
}
