//! The C ABI. Everything `unsafe` in the crate lives here: every pointer and length that
#![allow(non_camel_case_types)]
//! crosses the boundary is checked before use, and no entry point can unwind.

pub mod client;
#[cfg(feature = "c-critical-section")]
pub mod critical;
pub mod object;
pub mod standard;
pub mod types;

#[cfg(feature = "c-critical-section")]
pub use critical::*;
pub use types::*;

use core::sync::atomic::{AtomicUsize, Ordering};

static PANIC_HOOK: AtomicUsize = AtomicUsize::new(0);

/// Installs a function the library calls if it ever panics (a bug: no input can cause one).
/// The hook must not return (reset the device, or halt). Pass NULL to remove it.
#[no_mangle]
pub extern "C" fn tern_set_panic_hook(hook: Option<extern "C" fn() -> !>) {
    PANIC_HOOK.store(hook.map_or(0, |f| f as usize), Ordering::Relaxed);
}

/// The last guard: runs the platform's hook, else aborts (hosted) or spins (bare metal).
#[cfg_attr(any(test, feature = "std"), allow(dead_code))]
pub(crate) fn panic_hook() -> ! {
    let hook = PANIC_HOOK.load(Ordering::Relaxed);
    if hook != 0 {
        // SAFETY: the value was stored from an `extern "C" fn() -> !` in tern_set_panic_hook.
        let f: extern "C" fn() -> ! =
            unsafe { core::mem::transmute::<usize, extern "C" fn() -> !>(hook) };
        f();
    }
    halt()
}

#[cfg(all(not(target_os = "none"), not(any(test, feature = "std"))))]
fn halt() -> ! {
    extern "C" {
        fn abort() -> !;
    }
    // SAFETY: the hosted C library's abort() takes no arguments and never returns.
    unsafe { abort() }
}

#[cfg(any(target_os = "none", test, feature = "std"))]
fn halt() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// The hosted targets' precompiled `core` refers to the unwinding personality even though
/// this library is built with `panic = "abort"` and never unwinds; an empty definition
/// satisfies the linker. Bare-metal targets do not need it.
#[cfg(all(not(target_os = "none"), not(any(test, feature = "std"))))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
