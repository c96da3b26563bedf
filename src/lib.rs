//! tern: an OMA LwM2M client engine for firmware.
//!
//! The engine is sans-IO: it never blocks, allocates, reads a clock or touches a socket.
//! Firmware feeds it datagrams and the current time and drains the datagrams it wants sent;
//! [`client::Client`] is the state machine and `src/ffi/` the C ABI over it.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[cfg(all(feature = "dtls", feature = "platform-credentials"))]
compile_error!(
    "`dtls` and `platform-credentials` exclude each other: a bootstrap-written key goes to \
     the engine's DTLS or to the platform's, not both"
);

pub mod buf;
pub mod client;
pub mod coap;
pub mod config;
#[cfg(feature = "dtls")]
pub mod dtls;
pub mod ffi;
pub mod formats;
pub mod model;
mod util;

#[cfg(not(any(test, feature = "std")))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    ffi::panic_hook()
}
