//! Reads arbitrary bytes as a LwM2M CBOR (11544) payload; the checks are in records_common.rs.
#![no_main]

#[path = "records_common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::check(
    tern::formats::content_format::LWM2M_CBOR,
    data
));
