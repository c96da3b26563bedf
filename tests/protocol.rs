//! The protocol cases of `tests/protocol/` (no std, no alloc) on the host: the same table
//! that `tests/qemu/` runs as firmware on Cortex-M under QEMU.
//!
//! One test runs every case in turn (they share the simulator's static client slot) and
//! names each failing case. The cases use the default features' formats and interfaces.
#![cfg(all(
    feature = "bootstrap",
    feature = "observe",
    feature = "attributes",
    feature = "create-delete",
    feature = "senml-json",
    feature = "senml-cbor",
    feature = "lwm2m-cbor",
    feature = "json"
))]

#[path = "protocol/mod.rs"]
mod protocol;

#[test]
fn every_protocol_case() {
    let mut failed = Vec::new();
    for (name, case) in protocol::TESTS {
        match case() {
            Ok(()) => println!("test {name} ... ok"),
            Err(why) => {
                println!("test {name} ... FAILED: {why}");
                failed.push(format!("{name}: {why}"));
            }
        }
    }
    println!(
        "{} passed, {} failed",
        protocol::TESTS.len() - failed.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "failed cases:\n{}", failed.join("\n"));
    assert!(protocol::TESTS.len() >= 40, "the table lost cases");
}
