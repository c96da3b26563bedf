//! Compile-time capacities, set by environment variables at build time (see `build.rs`;
//! Zephyr's Kconfig passes them through). The C header carries the same values.
include!(concat!(env!("OUT_DIR"), "/config.rs"));
