//! The engine's protocol cases (`tests/protocol/`) as firmware: run on QEMU (mps2-an385,
//! Cortex-M3; mps2-an386, Cortex-M4F) with semihosting, one `test NAME ... ok` or
//! `test NAME ... FAILED: reason` line per case, then `N passed, N failed`, and the exit
//! status says whether every case passed. A panic prints the summary so far, names the
//! case that panicked and exits non-zero.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

#[path = "../../protocol/mod.rs"]
mod protocol;

/// The case running now, and the counts so far (read by the panic hook).
static CURRENT: AtomicUsize = AtomicUsize::new(usize::MAX);
static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

/// tern's panic handler calls this hook (the library brings the firmware's
/// `#[panic_handler]`): the summary so far, counting the case that panicked as failed,
/// then a failing exit.
extern "C" fn on_panic() -> ! {
    let name = protocol::TESTS
        .get(CURRENT.load(Ordering::Relaxed))
        .map_or("(no case)", |c| c.0);
    hprintln!("test {} ... FAILED: panicked", name);
    hprintln!(
        "{} passed, {} failed",
        PASSED.load(Ordering::Relaxed),
        FAILED.load(Ordering::Relaxed) + 1
    );
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::bkpt();
    }
}

#[entry]
fn main() -> ! {
    tern::ffi::tern_set_panic_hook(Some(on_panic));
    hprintln!("running {} protocol cases", protocol::TESTS.len());
    for (i, (name, case)) in protocol::TESTS.iter().enumerate() {
        CURRENT.store(i, Ordering::Relaxed);
        match case() {
            Ok(()) => {
                PASSED.fetch_add(1, Ordering::Relaxed);
                hprintln!("test {} ... ok", name);
            }
            Err(why) => {
                FAILED.fetch_add(1, Ordering::Relaxed);
                hprintln!("test {} ... FAILED: {}", name, why);
            }
        }
    }
    let (passed, failed) = (
        PASSED.load(Ordering::Relaxed),
        FAILED.load(Ordering::Relaxed),
    );
    hprintln!("{} passed, {} failed", passed, failed);
    debug::exit(if failed == 0 && passed == protocol::TESTS.len() {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::bkpt();
    }
}
