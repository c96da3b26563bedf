//! Types shared with C.

use core::ffi::{c_char, c_void};

use crate::coap::Code;

/// The result of every `tern_` function.
#[repr(i32)]
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum tern_status_t {
    /// Success.
    TERN_STATUS_OK = 0,
    /// Nothing to do now (a `recv` callback with no datagram waiting).
    TERN_STATUS_WOULD_BLOCK = 1,
    /// A required pointer was NULL.
    TERN_STATUS_NULL_ARG = -1,
    /// An argument is out of range or malformed (bad UTF-8, bad URI, bad table entry).
    TERN_STATUS_INVALID_ARG = -2,
    /// A buffer or a compile-time capacity is too small.
    TERN_STATUS_NO_SPACE = -3,
    /// No such object, instance, resource or server.
    TERN_STATUS_NOT_FOUND = -4,
    /// The operation is not allowed on that resource.
    TERN_STATUS_NOT_ALLOWED = -5,
    /// A platform callback reported an I/O failure.
    TERN_STATUS_IO = -6,
    /// The client is not initialised, or the call does not fit its state.
    TERN_STATUS_BAD_STATE = -7,
    /// An internal failure.
    TERN_STATUS_INTERNAL = -8,
}

pub use tern_status_t::*;

impl tern_status_t {
    /// A handler's status as a result: `Ok` for `TERN_STATUS_OK`, else the CoAP code it
    /// becomes in a response.
    #[inline(never)]
    pub(crate) fn check(self) -> Result<(), Code> {
        let row = (self as i32 + 8) as usize;
        match CHECK_CODES
            .get(row)
            .copied()
            .unwrap_or(Code::INTERNAL_SERVER_ERROR)
        {
            Code(0) => Ok(()),
            code => Err(code),
        }
    }
}

/// Row `status + 8` holds what a handler's status becomes in a response: `Code(0)` for
/// `TERN_STATUS_OK` (success), else the CoAP code.
const CHECK_CODES: [Code; 10] = {
    const E: Code = Code::INTERNAL_SERVER_ERROR;
    [
        E,                        // TERN_STATUS_INTERNAL
        E,                        // TERN_STATUS_BAD_STATE
        E,                        // TERN_STATUS_IO
        Code::METHOD_NOT_ALLOWED, // TERN_STATUS_NOT_ALLOWED
        Code::NOT_FOUND,          // TERN_STATUS_NOT_FOUND
        E,                        // TERN_STATUS_NO_SPACE
        Code::BAD_REQUEST,        // TERN_STATUS_INVALID_ARG
        E,                        // TERN_STATUS_NULL_ARG
        Code(0),                  // TERN_STATUS_OK
        Code::CHANGED,            // TERN_STATUS_WOULD_BLOCK
    ]
};

/// A string as a pointer and a length (no NUL terminator needed).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_str_t {
    /// The bytes (UTF-8); may be NULL only when `len` is 0.
    pub ptr: *const c_char,
    /// Length in bytes.
    pub len: usize,
}

/// Resource data types (the `type` of a table row and of a value).
#[repr(u8)]
#[derive(Clone, Copy)]
pub enum tern_type_t {
    /// Executable resource: no value.
    TERN_TYPE_NONE = 0,
    /// UTF-8 string (`data`, `len`).
    TERN_TYPE_STRING = 1,
    /// Signed integer (`i`).
    TERN_TYPE_INTEGER = 2,
    /// Unsigned integer (`u`).
    TERN_TYPE_UNSIGNED = 3,
    /// Float (`f`).
    TERN_TYPE_FLOAT = 4,
    /// Boolean (`b`).
    TERN_TYPE_BOOLEAN = 5,
    /// Opaque bytes (`data`, `len`).
    TERN_TYPE_OPAQUE = 6,
    /// Unix time in seconds (`i`).
    TERN_TYPE_TIME = 7,
    /// Object link (`link_object`, `link_instance`).
    TERN_TYPE_OBJLNK = 8,
    /// CoRE link string (`data`, `len`).
    TERN_TYPE_CORELNK = 9,
}

/// One value crossing the boundary. Only the fields of its `type` are meaningful; `data`
/// is borrowed: in a read handler it must stay valid until the handler's caller returns
/// (the value is encoded at once), in a write handler it is valid during the call only.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_value_t {
    /// A `tern_type_t` value.
    pub r#type: u8,
    /// Boolean value.
    pub b: bool,
    /// Object link: object id.
    pub link_object: u16,
    /// Object link: instance id.
    pub link_instance: u16,
    /// Integer and time values.
    pub i: i64,
    /// Unsigned values.
    pub u: u64,
    /// Float values.
    pub f: f64,
    /// String, opaque and CoRE link bytes.
    pub data: *const u8,
    /// Length of `data` in bytes.
    pub len: usize,
}

/// One row of an object's resource table.
///
/// A row's value lives either behind the object's read and write handlers (`value` NULL) or
/// in an application variable that `value` points at: the library then reads the variable
/// for a server's Read (and for notifications) and, when the row has `TERN_OP_W`, stores a
/// server's Write in it, so the object needs no handler for that row. The variable has the
/// C type of the row's `type`:
///
/// - `TERN_TYPE_INTEGER` and `TERN_TYPE_TIME` (Unix time, s): `int64_t`;
/// - `TERN_TYPE_UNSIGNED`: `uint64_t`;
/// - `TERN_TYPE_FLOAT`: `double`;
/// - `TERN_TYPE_BOOLEAN`: `bool`;
/// - `TERN_TYPE_OBJLNK`: `tern_objlnk_t`;
/// - `TERN_TYPE_STRING` and `TERN_TYPE_CORELNK`: a `char` buffer of `value_size` bytes
///   holding UTF-8 text up to a NUL (or filling the buffer, without one);
/// - `TERN_TYPE_OPAQUE`: `tern_bytes_t`.
///
/// A Write the variable cannot hold (a string of `value_size` bytes or more, with no room
/// for its NUL; opaque bytes over the `tern_bytes_t` capacity) is refused with 4.13 Request
/// Entity Too Large and leaves the variable as it was; the other types hold every value a
/// server can send. A value pointer serves a single-instance resource (`multiple` false) of
/// a readable or writable row; `tern_client_add_object` refuses it on an executable or
/// multiple-instance row. The variable is shared by every instance of the object: objects
/// with per-instance values use handlers.
///
/// Value pointers are the `value-pointers` feature (default on); a build without it refuses
/// a row with one (`TERN_STATUS_INVALID_ARG`).
///
/// The library reads and writes the variable only from inside `tern_client_step` and
/// `tern_client_input`. An application that changes it from another thread or an interrupt
/// guards it as it would any variable shared with that code, and reports the change (for
/// notifications) through `tern_resource_changed` once that exists.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_resource_def_t {
    /// Resource id.
    pub id: u16,
    /// A `tern_type_t` value.
    pub r#type: u8,
    /// `TERN_OP_R`, `TERN_OP_W`, `TERN_OP_E` bits.
    pub operations: u8,
    /// True for a multiple-instance resource.
    pub multiple: bool,
    /// The application variable holding the value (see above), or NULL when the handlers
    /// serve this row. It must stay valid for the client's lifetime.
    pub value: *mut c_void,
    /// For `TERN_TYPE_STRING` and `TERN_TYPE_CORELNK` with `value`: the size of the char
    /// buffer in bytes, NUL included (at least 1). Ignored for the other rows.
    pub value_size: usize,
}

/// The variable of an opaque row with a value pointer: `len` bytes of value at `data`, in
/// a buffer of `capacity` bytes. A server's Write copies its bytes to `data` and sets
/// `len`; one longer than `capacity` is refused (4.13) and changes nothing.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_bytes_t {
    /// The buffer; may be NULL only when `capacity` is 0.
    pub data: *mut u8,
    /// Length of the value in bytes (at most `capacity`).
    pub len: usize,
    /// Size of the buffer at `data` in bytes.
    pub capacity: usize,
}

/// The variable of an object link row with a value pointer.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_objlnk_t {
    /// Object id.
    pub object_id: u16,
    /// Object instance id.
    pub instance_id: u16,
}

/// Reads one value. For a single-instance resource `index` is 0; for a multiple-instance
/// resource the library calls with index 0, 1, ... and the handler sets `*resource_instance`
/// and the value, returning `TERN_STATUS_NOT_FOUND` past the last instance.
pub type tern_read_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        instance: u16,
        resource: u16,
        index: usize,
        resource_instance: *mut u16,
        value: *mut tern_value_t,
    ) -> tern_status_t,
>;

/// Writes one value; `resource_instance` is -1 for a single-instance resource. Return
/// `TERN_STATUS_INVALID_ARG` for a value out of range.
pub type tern_write_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        instance: u16,
        resource: u16,
        resource_instance: i32,
        value: *const tern_value_t,
    ) -> tern_status_t,
>;

/// Executes a resource with its argument bytes (`args` valid during the call only).
pub type tern_execute_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        instance: u16,
        resource: u16,
        args: *const u8,
        len: usize,
    ) -> tern_status_t,
>;

/// Receives one block of a block-wise (Block1) write of an opaque resource: `offset` is the
/// byte offset of the `len` bytes at `data` (valid during the call only) in the whole value,
/// and `last` is true for the final block. Blocks arrive in order; offset 0 starts a new
/// value. Return `TERN_STATUS_OK` to take the block, or an error status to abort the write.
pub type tern_write_block_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        instance: u16,
        resource: u16,
        offset: u32,
        data: *const u8,
        len: usize,
        last: bool,
    ) -> tern_status_t,
>;

/// An application object: a static table plus handlers, or value pointers for plain values
/// (see `tern_resource_def_t`). The definition must outlive the client (declare it
/// `static const`).
#[repr(C)]
pub struct tern_object_def_t {
    /// Object id (4..=65534; 0, 1 and 3 are the library's own).
    pub id: u16,
    /// Object version major (1 for 1.0).
    pub version_major: u8,
    /// Object version minor.
    pub version_minor: u8,
    /// The resource table.
    pub resources: *const tern_resource_def_t,
    /// Number of rows in `resources`.
    pub resource_count: usize,
    /// Read handler; may be NULL when every readable row has a value pointer.
    pub read: tern_read_fn,
    /// Write handler; may be NULL when every writable row has a value pointer.
    pub write: tern_write_fn,
    /// Execute handler (required when a resource is executable).
    pub execute: tern_execute_fn,
    /// Instance creation for a server's Create; NULL when the instances are fixed (the
    /// server then gets 4.05).
    pub create_instance: tern_instance_fn,
    /// Instance deletion for a server's Delete; NULL when the instances are fixed (4.05).
    pub delete_instance: tern_instance_fn,
    /// Removal of every instance of a multiple-instance resource before a server's
    /// replacing Write (PUT) writes the instances it keeps; NULL when a PUT should only add
    /// and update instances, like a POST.
    pub clear_resource: tern_clear_fn,
    /// Block-wise writes of opaque resources (values larger than one message), block by
    /// block; NULL when the object takes whole values only (the server then gets 4.13).
    pub write_block: tern_write_block_fn,
}

/// Removes every instance of multiple-instance resource `resource` of instance `instance`;
/// the write handler then receives the instances the server sent.
pub type tern_clear_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, instance: u16, resource: u16) -> tern_status_t>;

/// Creates or deletes instance `instance` at a server's request. After a Create the library
/// writes the values the server sent through the write handler (a failure there deletes
/// the instance again). The library keeps the instance list and sends the registration
/// Update itself. Return `TERN_STATUS_OK`, or an error status: the server sees the CoAP
/// code it stands for (`TERN_STATUS_NO_SPACE` for an object that holds no more instances:
/// 5.00).
pub type tern_instance_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, instance: u16) -> tern_status_t>;

/// Opens a connection to a server. `uri` (not NUL-terminated) is the Security object's
/// Server URI; `security_instance` lets a platform that secures the connection itself pick
/// its credentials. On success store an opaque handle in `*connection` (any value but NULL).
pub type tern_open_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        uri: *const c_char,
        uri_len: usize,
        security_instance: u16,
        connection: *mut *mut c_void,
    ) -> tern_status_t,
>;

/// Sends one datagram on a connection (the bytes are valid during the call only).
pub type tern_send_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        connection: *mut c_void,
        data: *const u8,
        len: usize,
    ) -> tern_status_t,
>;

/// Receives one datagram without blocking: copy at most `capacity` bytes to `buffer`, store
/// the length in `*len` and return `TERN_STATUS_OK`, or return `TERN_STATUS_WOULD_BLOCK`
/// when none is waiting. A datagram longer than `capacity` must be dropped.
pub type tern_recv_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        connection: *mut c_void,
        buffer: *mut u8,
        capacity: usize,
        len: *mut usize,
    ) -> tern_status_t,
>;

/// Closes a connection the library no longer uses.
pub type tern_close_fn = Option<unsafe extern "C" fn(user: *mut c_void, connection: *mut c_void)>;

/// Fills `buffer` with `len` random bytes (a hardware RNG or a CSPRNG).
pub type tern_random_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, buffer: *mut u8, len: usize)>;

/// Writes `len` bytes of a state record at `offset` of record slot `slot` (0 or 1): flash
/// pages, a file, EEPROM (the persistence feature). A record is written from offset 0 up,
/// in pieces, always into the slot that does not hold the last good record. Return
/// `TERN_STATUS_OK` when the bytes are written.
pub type tern_store_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        slot: u8,
        offset: u32,
        data: *const u8,
        len: usize,
    ) -> tern_status_t,
>;

/// Fills `buffer` with `len` bytes from `offset` of record slot `slot` (0 or 1). Return
/// `TERN_STATUS_OK` when all of them were read, `TERN_STATUS_NOT_FOUND` when the slot is
/// empty or shorter.
pub type tern_load_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        slot: u8,
        offset: u32,
        buffer: *mut u8,
        len: usize,
    ) -> tern_status_t,
>;

/// A pre-shared key that a bootstrap server wrote for a server the platform secures (the
/// `platform-credentials` feature); the pointers are valid during the call only.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_credentials_t {
    /// The server's Security object instance: the one `open` is then called with.
    pub security_instance: u16,
    /// The Security Mode (resource 2): 0, a pre-shared key.
    pub mode: u8,
    /// The PSK Identity (resource 3).
    pub identity: *const u8,
    /// Its length in bytes (1 to 64).
    pub identity_len: usize,
    /// The Secret Key (resource 5).
    pub key: *const u8,
    /// Its length in bytes (1 to 64).
    pub key_len: usize,
}

/// Installs the credentials of a Security instance in the platform's DTLS (Zephyr:
/// `tls_credential_add` under the instance's `sec_tag`). Called just before `open` for a
/// server whose Security instance has bootstrap-written keys, each time its connection is
/// opened: the keys may have changed. Anything but `TERN_STATUS_OK` fails the connection,
/// as a failed `open` does.
pub type tern_credentials_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        credentials: *const tern_credentials_t,
    ) -> tern_status_t,
>;

/// Log severities.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum tern_log_level_t {
    /// Something failed.
    TERN_LOG_ERROR = 1,
    /// Something unexpected that the library handled.
    TERN_LOG_WARN = 2,
    /// A state change.
    TERN_LOG_INFO = 3,
    /// Detail.
    TERN_LOG_DEBUG = 4,
}

/// A log line: `message` is a static NUL-terminated string; `server` is the server slot
/// concerned (or 255), `value` a number that goes with the message (a CoAP code as
/// class*100+detail, a delay in ms, a reason).
pub type tern_log_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        level: tern_log_level_t,
        message: *const c_char,
        server: u8,
        value: u32,
    ),
>;

/// What happened (`tern_event_t.kind`).
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum tern_event_kind_t {
    /// Registered with the server.
    TERN_EVENT_REGISTERED = 1,
    /// The server refused the registration (`code`); not retried until `tern_client_restart`.
    TERN_EVENT_REGISTRATION_REJECTED = 2,
    /// Register failed; retried after `value` ms.
    TERN_EVENT_REGISTRATION_RETRY = 3,
    /// A registration Update succeeded.
    TERN_EVENT_UPDATED = 4,
    /// A registration Update failed; the client registers again.
    TERN_EVENT_UPDATE_FAILED = 5,
    /// De-registered.
    TERN_EVENT_DEREGISTERED = 6,
    /// A server executed Reboot (/3/0/4); the response has been sent.
    TERN_EVENT_REBOOT_REQUESTED = 7,
    /// Opening the server's connection failed; retried after `value` ms.
    TERN_EVENT_CONNECTION_FAILED = 8,
    /// A server executed Factory Reset (/3/0/5); the response has been sent. Restore the
    /// factory configuration (and usually reboot).
    TERN_EVENT_FACTORY_RESET_REQUESTED = 9,
    /// Every Register attempt of every communication sequence failed (Server object
    /// resources 17 to 20: Communication Retry Count and Timer, Sequence Delay Timer and
    /// Retry Count); not retried until `tern_client_restart`.
    TERN_EVENT_REGISTRATION_FAILED = 12,
    /// An observation ended on the client's side (the observe feature): the server answered
    /// a notification with RST, or never acknowledged a confirmable one. `value` is the
    /// observed object id << 16 | instance id (65535: the whole object).
    TERN_EVENT_OBSERVATION_ENDED = 13,
    /// The Firmware Update object changed State (the firmware-update feature): `value`
    /// is the State (0 idle, 1 downloading, 2 downloaded, 3 updating) and `code` the
    /// Update Result (0 initial, 1 success, 2 no storage, 3 out of RAM, 4 connection lost,
    /// 5 integrity check failure, 6 unsupported package type, 7 invalid URI, 8 update
    /// failed, 9 unsupported protocol).
    TERN_EVENT_FIRMWARE_STATE = 20,
    /// A block of a pulled firmware package arrived: `value` is the bytes received so far
    /// (`tern_client_firmware_status` has the size).
    TERN_EVENT_FIRMWARE_PROGRESS = 21,
    /// The server acknowledged a Send (`tern_send`) with a 2.xx (the send feature).
    TERN_EVENT_SEND_SUCCEEDED = 30,
    /// The server answered a Send with an error: `code` (e.g. 404).
    TERN_EVENT_SEND_FAILED = 31,
    /// A Send got no response (every retransmission unanswered), a Reset, or could not
    /// leave (the registration ended, the connection was lost).
    TERN_EVENT_SEND_TIMEOUT = 32,
    /// The saved state was loaded and applied: `value` is the record's sequence number.
    TERN_EVENT_STATE_RESTORED = 40,
    /// A saved record was refused and the configuration kept: `value` is why (1 damaged,
    /// 2 another format version, 3 a value the client cannot take).
    TERN_EVENT_STATE_REJECTED = 41,
    /// Saving the state failed (the `store` callback did not return `TERN_STATUS_OK`); the
    /// last good record stays.
    TERN_EVENT_STATE_STORE_FAILED = 42,
    /// A Bootstrap-Finish was accepted: the client now serves the servers the bootstrap
    /// server wrote (the `bootstrap` feature), once the registered servers it dropped have
    /// de-registered.
    TERN_EVENT_BOOTSTRAPPED = 50,
    /// The Bootstrap-Request failed or the bootstrap timed out: it starts over after the
    /// Client Hold Off Time.
    TERN_EVENT_BOOTSTRAP_FAILED = 51,
    /// Queue mode (`tern_client_set_queue_mode`): the awake time after the last exchange
    /// with `server` is over; the application may stop listening on its connection (power
    /// the radio down) until `TERN_EVENT_QUEUE_AWAKE`.
    TERN_EVENT_QUEUE_SLEEPING = 60,
    /// Queue mode: the client sends to `server` again (a registration Update, a Send, a
    /// notification), or a datagram from it arrived anyway.
    TERN_EVENT_QUEUE_AWAKE = 61,
    /// Queue mode: `value` notifications for `server` held while it slept or was offline
    /// were dropped — the oldest, when `TERN_NOTIFY_QUEUE_BYTES` was full (or beyond the
    /// observation's `hqmax`), or every one it had when a new registration ended its
    /// observations. The others leave after the next Update, oldest first.
    TERN_EVENT_NOTIFICATIONS_DROPPED = 62,
    /// The library's DTLS handshake with `server` failed (the dtls feature); it starts
    /// again after a minute. `code` says why: the server's fatal alert description (0 to
    /// 255, e.g. 20 bad_record_mac, 40 handshake_failure, 51 decrypt_error), or 256 the
    /// server broke the protocol, 257 its Finished did not verify (not the same key), 258
    /// no answer after every retransmission, 259 unusable credentials, 260 a handshake
    /// message too long, 261 endless HelloVerifyRequests, 262 not the configured server
    /// public key, 263 a ServerKeyExchange signature that does not verify. Records that do
    /// not authenticate are dropped and logged (reason 9), not reported here.
    TERN_EVENT_DTLS_FAILED = 70,
}

/// An event for the application.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_event_t {
    /// What happened.
    pub kind: tern_event_kind_t,
    /// The server slot (0 for the first configured server).
    pub server: u8,
    /// A CoAP response code as class*100+detail (e.g. 403), or 0.
    pub code: u16,
    /// A number that goes with the event (a delay in ms), or 0.
    pub value: u32,
}

/// Receives events (`event` valid during the call only).
pub type tern_event_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, event: *const tern_event_t)>;

/// The platform: callbacks the library calls from inside `tern_client_step` and
/// `tern_client_input`, never from anywhere else, each with `user` as first argument.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_platform_t {
    /// Passed to every callback.
    pub user: *mut c_void,
    /// Required.
    pub open: tern_open_fn,
    /// Required.
    pub send: tern_send_fn,
    /// Optional: NULL when datagrams are pushed with `tern_client_input`.
    pub recv: tern_recv_fn,
    /// Optional.
    pub close: tern_close_fn,
    /// Required.
    pub random: tern_random_fn,
    /// Optional.
    pub log: tern_log_fn,
    /// Optional.
    pub event: tern_event_fn,
    /// Optional: where the state a reboot must not lose is saved (with `load`; the
    /// persistence feature). Each server's Server object resources, its registration
    /// Location and the Access Control instances are saved as one versioned, checksummed
    /// record after they change; two slots, so that a power cut in the middle of a save
    /// never loses the last good record.
    pub store: tern_store_fn,
    /// Optional: reads the slots back. The first `tern_client_step` loads the newest good
    /// record and applies it over the configuration (a damaged or unknown record is
    /// refused with a log line and `TERN_EVENT_STATE_REJECTED`); with a saved Location the
    /// client starts with an Update instead of a Register.
    pub load: tern_load_fn,
    /// Optional: takes the pre-shared keys that a bootstrap server wrote, for a platform
    /// that does the DTLS of `coaps://` servers itself (a library built with the
    /// `platform-credentials` feature; ignored otherwise). Without it, such a server's
    /// connection is opened with whatever credentials the platform has for its Security
    /// instance.
    pub credentials: tern_credentials_fn,
}

/// One LwM2M server.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_server_config_t {
    /// Server URI, e.g. `coap://192.0.2.1:5683` (copied). A `coaps://` server is secured
    /// either by the library's own DTLS (`tern_client_set_psk`, the `dtls` feature) or,
    /// without that call, by the platform: its `open` returns a DTLS socket (Zephyr's TLS
    /// sockets, mbedTLS, OpenSSL) and the library sends plain CoAP on it.
    pub uri: tern_str_t,
    /// Short Server ID, 1..=65534.
    pub short_server_id: u16,
    /// Registration lifetime in seconds (> 0).
    pub lifetime_s: u32,
}

/// Client settings for `tern_client_init`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_config_t {
    /// Endpoint client name (copied; letters, digits and `-_.~:@`).
    pub endpoint: tern_str_t,
    /// LwM2M version: 10 for 1.0, 11 for 1.1.
    pub lwm2m_version: u8,
    /// Seconds before the lifetime ends at which the Update goes out (at most half of it).
    pub update_margin_s: u32,
    /// The servers (at least 1, at most `TERN_MAX_SERVERS`).
    pub servers: *const tern_server_config_t,
    /// Number of entries in `servers`.
    pub server_count: usize,
    /// Device object (3) resource 0; borrowed: must outlive the client.
    pub manufacturer: tern_str_t,
    /// Device resource 1; borrowed.
    pub model: tern_str_t,
    /// Device resource 2; borrowed.
    pub serial: tern_str_t,
    /// Device resource 3; borrowed.
    pub firmware_version: tern_str_t,
    /// The bootstrap server's URI (`coap://`, or `coaps://` secured by the platform's
    /// socket; copied), or empty (length 0) for none. With one, `server_count` may be 0:
    /// the client bootstraps first. Ignored by a build without the `bootstrap` feature.
    pub bootstrap_uri: tern_str_t,
    /// Client Hold Off Time: seconds before the Bootstrap-Request is sent.
    pub bootstrap_hold_off_s: u32,
    /// `TERN_BOOTSTRAP_FIRST` (bootstrap before registering even with servers configured)
    /// and `TERN_BOOTSTRAP_SERVER_INITIATED` (open the bootstrap connection at start and
    /// take the bootstrap server's operations without a Bootstrap-Request) bits.
    pub bootstrap_flags: u8,
}
