//! The engine's protocol cases without std or alloc: the CoAP codec and message layer,
//! every content format of the default features, and the registration, device
//! management, reporting and bootstrap interfaces through a small simulator ([`sim`]).
//!
//! The same table runs on the host (`tests/protocol.rs`, in `cargo test`) and as firmware
//! on QEMU for Cortex-M3 and Cortex-M4F (`tests/qemu/`). A case is a plain function that
//! returns `Err(reason)` on failure; a case that panics is a failure too (on QEMU the run
//! stops there, with the summary so far).

#![allow(dead_code)]

/// Fails the case with the file, line and condition when `cond` is false.
macro_rules! ensure {
    ($cond:expr) => {
        if !$cond {
            return Err(concat!(file!(), ":", line!(), ": ", stringify!($cond)));
        }
    };
    ($cond:expr, $why:literal) => {
        if !$cond {
            return Err(concat!(file!(), ":", line!(), ": ", $why));
        }
    };
}

/// Fails the case when `a != b`.
macro_rules! ensure_eq {
    ($a:expr, $b:expr) => {
        if $a != $b {
            return Err(concat!(
                file!(),
                ":",
                line!(),
                ": ",
                stringify!($a),
                " != ",
                stringify!($b)
            ));
        }
    };
    ($a:expr, $b:expr, $why:literal) => {
        if $a != $b {
            return Err(concat!(file!(), ":", line!(), ": ", $why));
        }
    };
}

pub mod sim;

mod bootstrap;
mod coap;
mod dm;
mod formats;
mod registration;
mod reporting;

/// One case: its name and the function that runs it.
pub type Case = (&'static str, fn() -> sim::Outcome);

/// Builds the table from `module: case, case, ...;` lists, naming each `module::case`.
macro_rules! cases {
    ($($module:ident: $($case:ident),+ $(,)?;)+) => {
        &[$($((concat!(stringify!($module), "::", stringify!($case)), $module::$case),)+)+]
    };
}

/// Every case, in the order they run.
pub const TESTS: &[Case] = cases! {
    coap:
        parse_rfc_example,
        build_parse_round_trip,
        option_delta_and_length_extensions,
        malformed_messages_rejected,
        builder_refuses_bad_input,
        uint_and_block_values,
        con_retransmission_backoff,
        empty_ack_then_separate_response,
        reset_fails_the_register,
        duplicate_con_gets_cached_response,
        ping_answered_with_reset,
        malformed_con_reset_non_dropped,
        unmatched_response_dropped,
        non_request_gets_non_response,
        unknown_critical_option_bad_option,
        non_duplicate_dropped;
    formats:
        text_values,
        double_arithmetic_on_bits,
        text_floats_exact,
        text_malformed,
        opaque_values,
        link_format_round_trip,
        link_format_malformed,
        tlv_round_trip,
        tlv_floats_exact,
        tlv_malformed,
        senml_json_round_trip,
        senml_json_malformed,
        senml_cbor_round_trip,
        senml_cbor_malformed,
        lwm2m_cbor_round_trip,
        lwm2m_cbor_malformed,
        json_round_trip,
        json_malformed;
    registration:
        register_query_and_links,
        register_1_0,
        location_used_by_update,
        update_before_lifetime_ends,
        deregister,
        retry_after_lost_register,
        register_rejected,
        failed_update_registers_again,
        lost_update_registers_again;
    dm:
        read_device_tlv,
        read_resource_text,
        read_in_every_format,
        write_then_read,
        write_bad_value_changes_nothing,
        write_read_only_not_allowed,
        write_unsupported_format,
        execute,
        execute_not_executable,
        not_found,
        create_and_delete,
        discover,
        read_composite,
        write_attributes_checked;
    reporting:
        observe_and_notify,
        pmin_respected,
        pmax_forces_notification,
        cancel_by_reset,
        cancel_by_observe_1,
        observe_missing_path,
        observe_instance_in_tlv,
        confirmable_notification_acked;
    bootstrap:
        bootstrap_request,
        write_finish_register,
        inconsistent_finish_refused,
        bad_bootstrap_write_changes_nothing,
        discover_and_delete,
        dropped_server_deregisters_first;
};
