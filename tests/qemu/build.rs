// SPDX-License-Identifier: Apache-2.0 OR MIT
//! Puts memory.x (the MPS2 boards' 4 MiB of flash and 4 MiB of RAM) where cortex-m-rt's
//! link.x finds it.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("memory.x is copied");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
}
