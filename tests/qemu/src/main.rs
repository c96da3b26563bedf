//! The engine's protocol cases (`tests/protocol/`) as firmware: run on QEMU (mps2-an385,
//! Cortex-M3; mps2-an386, Cortex-M4F) with semihosting, one `test NAME ... ok` or
//! `test NAME ... FAILED: reason` line per case, then `N passed, N failed`, and the exit
//! status says whether every case passed. A panic prints the summary so far, names the
//! case that panicked and exits non-zero. After them, two DTLS handshakes recorded with real
//! servers (`src/handshakes/`) are replayed to the library's DTLS client, each with the
//! stack it took measured.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

#[path = "../../protocol/mod.rs"]
mod protocol;

mod handshakes;

/// The case running now, and the counts so far (read by the panic hook).
static CURRENT: AtomicUsize = AtomicUsize::new(usize::MAX);
static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

/// tern's panic handler calls this hook (the library brings the firmware's
/// `#[panic_handler]`): the summary so far, counting the case that panicked as failed,
/// then a failing exit.
extern "C" fn on_panic() -> ! {
    let current = CURRENT.load(Ordering::Relaxed);
    let name = protocol::TESTS.get(current).map_or_else(
        || {
            current
                .checked_sub(protocol::TESTS.len())
                .and_then(|i| handshakes::CASES.get(i))
                .map_or("(no case)", |c| c.0)
        },
        |c| c.0,
    );
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

/// Bytes of stack painted below the entry's frame to measure the cases' stack use.
const PAINT: usize = 128 * 1024;
/// Left alone just below the frame (the painting loop itself may spill there).
const GAP: usize = 256;
const PATTERN: u32 = 0xDEAD_BEEF;

/// The lowest painted word and the number of painted words.
fn painted_region() -> (*mut u32, usize) {
    let sp = cortex_m::register::msp::read() as usize;
    let top = (sp - GAP) & !3;
    ((top - PAINT) as *mut u32, PAINT / 4)
}

/// Fills the stack below the current frame with [`PATTERN`].
pub(crate) fn paint_stack() {
    let (low, words) = painted_region();
    for i in 0..words {
        // SAFETY: the region lies between `PAINT + GAP` and `GAP` bytes below the stack
        // pointer of the entry function, inside the 4 MiB of RAM (memory.x) and far above
        // .bss (about 12 KB at its start): no live data is there yet; writes are volatile
        // and aligned.
        unsafe { low.add(i).write_volatile(PATTERN) };
    }
}

/// The deepest stack use since [`paint_stack`], in bytes below the painted top.
pub(crate) fn stack_used() -> usize {
    let (low, words) = painted_region();
    let untouched = (0..words)
        // SAFETY: the same region as `paint_stack`, now below the stack pointer again:
        // reads of plain words, aligned and volatile.
        .take_while(|&i| unsafe { low.add(i).read_volatile() } == PATTERN)
        .count();
    (words - untouched) * 4 + GAP
}

#[entry]
fn main() -> ! {
    tern::ffi::tern_set_panic_hook(Some(on_panic));
    paint_stack();
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
    let protocol_stack = stack_used();
    for (i, (name, case)) in handshakes::CASES.iter().enumerate() {
        CURRENT.store(protocol::TESTS.len() + i, Ordering::Relaxed);
        match case() {
            Ok(stack) => {
                PASSED.fetch_add(1, Ordering::Relaxed);
                hprintln!("test {} ... ok", name);
                hprintln!("stack: {} bytes for {}", stack, name);
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
    hprintln!(
        "stack: at most {} bytes used by a protocol case (of {} measured)",
        protocol_stack,
        PAINT + GAP
    );
    hprintln!("{} passed, {} failed", passed, failed);
    debug::exit(if failed == 0 && passed == protocol::TESTS.len() + handshakes::CASES.len() {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::bkpt();
    }
}
