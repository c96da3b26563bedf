//! Feeds arbitrary datagrams to a registered client through the C ABI, whose application
//! object keeps its values in C variables (value pointers of every type) and behind
//! handlers: the library's stores into those variables, and the bytes it lends the
//! handlers, under AddressSanitizer.
//!
//! Input: chunks of `[control, length, bytes...]`. The control byte's low two bits pick
//! what the chunk is: 0 a datagram from the server (`tern_client_input`); 1 a
//! `tern_client_step` after `control >> 2` tenths of a second; 2 `tern_resource_changed`
//! with the chunk's bytes as up to four big-endian ids; 3 a `tern_client_update`.
//!
//! Checked: no call returns a status outside the documented set; the guard bytes around
//! every variable stay as they were (no store runs past its variable); a string variable
//! holds UTF-8 up to its NUL or its end; an opaque variable's length stays within its
//! capacity and its buffer where the application put it; every datagram the client sends
//! is CoAP version 1 with a valid token length.
#![no_main]

use std::ffi::{c_char, c_void};
use std::ptr::{addr_of_mut, null_mut};

use libfuzzer_sys::fuzz_target;
use tern::ffi::client::*;
use tern::ffi::tern_status_t::*;
use tern::ffi::tern_type_t::*;
use tern::ffi::*;

const GUARD: [u8; 8] = [0xa5; 8];
const OP_R: u8 = 1;
const OP_W: u8 = 2;
const OP_E: u8 = 4;

/// The application's variables, each string and byte buffer followed by guard bytes.
#[repr(C)]
struct Vars {
    f: f64,
    i: i64,
    u: u64,
    b: bool,
    t: i64,
    link: tern_objlnk_t,
    name: [u8; 16],
    name_guard: [u8; 8],
    core: [u8; 12],
    core_guard: [u8; 8],
    blob: tern_bytes_t,
    blob_buf: [u8; 24],
    blob_guard: [u8; 8],
    /// The multiple-instance resource behind the handlers.
    history: [i64; 3],
}

/// The datagrams the client sent.
#[derive(Default)]
struct Net {
    sent: Vec<Vec<u8>>,
}

unsafe extern "C" fn open(
    _user: *mut c_void,
    _uri: *const c_char,
    _len: usize,
    _iid: u16,
    conn: *mut *mut c_void,
) -> tern_status_t {
    // SAFETY: a writable out-pointer.
    unsafe { *conn = std::ptr::NonNull::<u8>::dangling().as_ptr().cast() };
    TERN_STATUS_OK
}

unsafe extern "C" fn send(
    user: *mut c_void,
    _conn: *mut c_void,
    data: *const u8,
    len: usize,
) -> tern_status_t {
    // SAFETY: `user` is the `Net`; `data` is valid for `len` bytes.
    unsafe {
        let datagram = std::slice::from_raw_parts(data, len).to_vec();
        (*user.cast::<Net>()).sent.push(datagram);
    }
    TERN_STATUS_OK
}

unsafe extern "C" fn random(_user: *mut c_void, out: *mut u8, len: usize) {
    // SAFETY: `len` writable bytes.
    unsafe { std::ptr::write_bytes(out, 0x3c, len) };
}

/// Reads every byte a value lends, so that the sanitizer sees a short buffer.
fn touch(v: &tern_value_t) -> u8 {
    if v.data.is_null() {
        return 0;
    }
    // SAFETY: the library lends `len` bytes at `data` for the call.
    unsafe { std::slice::from_raw_parts(v.data, v.len) }
        .iter()
        .fold(0, |a, b| a ^ b)
}

unsafe extern "C" fn read(
    user: *mut c_void,
    _instance: u16,
    resource: u16,
    index: usize,
    resource_instance: *mut u16,
    value: *mut tern_value_t,
) -> tern_status_t {
    // SAFETY: `user` is the `Vars`; the out-pointers are writable during the call.
    unsafe {
        let vars = user.cast::<Vars>();
        let Some(&h) = (*vars).history.get(index).filter(|_| resource == 5820) else {
            return TERN_STATUS_NOT_FOUND;
        };
        *resource_instance = index as u16;
        (*value).r#type = TERN_TYPE_INTEGER as u8;
        (*value).i = h;
    }
    TERN_STATUS_OK
}

unsafe extern "C" fn write(
    user: *mut c_void,
    _instance: u16,
    resource: u16,
    resource_instance: i32,
    value: *const tern_value_t,
) -> tern_status_t {
    // SAFETY: `user` is the `Vars`; `value` is valid during the call.
    unsafe {
        let v = &*value;
        touch(v);
        let vars = user.cast::<Vars>();
        let slot = usize::try_from(resource_instance).ok();
        match slot.and_then(|i| (*vars).history.get_mut(i)) {
            Some(h) if resource == 5820 => *h = v.i,
            _ => return TERN_STATUS_NOT_FOUND,
        }
    }
    TERN_STATUS_OK
}

unsafe extern "C" fn execute(
    _user: *mut c_void,
    _instance: u16,
    _resource: u16,
    args: *const u8,
    len: usize,
) -> tern_status_t {
    if !args.is_null() {
        // SAFETY: `len` bytes at `args` during the call.
        let _ = unsafe { std::slice::from_raw_parts(args, len) }
            .iter()
            .fold(0u8, |a, b| a ^ b);
    }
    TERN_STATUS_OK
}

unsafe extern "C" fn clear(user: *mut c_void, _instance: u16, _resource: u16) -> tern_status_t {
    // SAFETY: `user` is the `Vars`.
    unsafe { (*user.cast::<Vars>()).history = [0; 3] };
    TERN_STATUS_OK
}

fn row(
    id: u16,
    ty: tern_type_t,
    operations: u8,
    value: *mut c_void,
    size: usize,
) -> tern_resource_def_t {
    tern_resource_def_t {
        id,
        r#type: ty as u8,
        operations,
        multiple: false,
        value,
        value_size: size,
    }
}

/// A readable and writable row whose value lives at `value`.
fn rw(id: u16, ty: tern_type_t, value: *mut c_void, size: usize) -> tern_resource_def_t {
    row(id, ty, OP_R | OP_W, value, size)
}

fn text(s: &'static str) -> tern_str_t {
    tern_str_t {
        ptr: s.as_ptr().cast(),
        len: s.len(),
    }
}

/// The documented statuses a call may return.
fn known(st: tern_status_t) -> bool {
    matches!(
        st,
        TERN_STATUS_OK
            | TERN_STATUS_NULL_ARG
            | TERN_STATUS_INVALID_ARG
            | TERN_STATUS_NO_SPACE
            | TERN_STATUS_NOT_FOUND
            | TERN_STATUS_BAD_STATE
    )
}

/// The variables' invariants.
///
/// # Safety
/// No library call runs.
unsafe fn check(vars: *mut Vars, buf: *mut u8) {
    // SAFETY: see above.
    let v = unsafe { &*vars };
    assert_eq!(v.name_guard, GUARD, "a string store ran past its buffer");
    assert_eq!(v.core_guard, GUARD, "a CoRE link store ran past its buffer");
    assert_eq!(v.blob_guard, GUARD, "an opaque store ran past its buffer");
    assert!(
        v.blob.len <= v.blob.capacity,
        "opaque length past its capacity"
    );
    assert_eq!(v.blob.data, buf, "the opaque buffer moved");
    for s in [&v.name[..], &v.core[..]] {
        let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
        assert!(
            std::str::from_utf8(&s[..end]).is_ok(),
            "a string variable is not UTF-8"
        );
    }
}

/// Every datagram sent since the last call is CoAP version 1 with a valid token length.
///
/// # Safety
/// No library call runs.
unsafe fn drain(net: *mut Net) {
    // SAFETY: see above.
    for d in unsafe { std::mem::take(&mut (*net).sent) } {
        assert!(d.len() >= 4, "a datagram shorter than a CoAP header");
        assert_eq!(d[0] >> 6, 1, "not CoAP version 1");
        assert!(d[0] & 0x0f <= 8, "token length above 8");
    }
}

fuzz_target!(|data: &[u8]| {
    let vars = Box::into_raw(Box::new(Vars {
        f: 21.5,
        i: -4,
        u: 7,
        b: true,
        t: 1_700_000_000,
        link: tern_objlnk_t {
            object_id: 3,
            instance_id: 0,
        },
        name: *b"probe\0\0\0\0\0\0\0\0\0\0\0",
        name_guard: GUARD,
        core: *b"</3/0>\0\0\0\0\0\0",
        core_guard: GUARD,
        blob: tern_bytes_t {
            data: null_mut(),
            len: 0,
            capacity: 24,
        },
        blob_buf: [0; 24],
        blob_guard: GUARD,
        history: [1, 2, 3],
    }));
    let net = Box::into_raw(Box::<Net>::default());
    // SAFETY: `vars` is live; its fields' addresses are stable until it is freed below.
    let (buf, rows) = unsafe {
        let buf = addr_of_mut!((*vars).blob_buf).cast::<u8>();
        (*vars).blob.data = buf;
        let rows = [
            rw(5700, TERN_TYPE_FLOAT, addr_of_mut!((*vars).f).cast(), 0),
            rw(5800, TERN_TYPE_INTEGER, addr_of_mut!((*vars).i).cast(), 0),
            rw(5801, TERN_TYPE_UNSIGNED, addr_of_mut!((*vars).u).cast(), 0),
            rw(5850, TERN_TYPE_BOOLEAN, addr_of_mut!((*vars).b).cast(), 0),
            rw(5518, TERN_TYPE_TIME, addr_of_mut!((*vars).t).cast(), 0),
            rw(5900, TERN_TYPE_OBJLNK, addr_of_mut!((*vars).link).cast(), 0),
            rw(
                5701,
                TERN_TYPE_STRING,
                addr_of_mut!((*vars).name).cast(),
                16,
            ),
            rw(
                5911,
                TERN_TYPE_CORELNK,
                addr_of_mut!((*vars).core).cast(),
                12,
            ),
            rw(5910, TERN_TYPE_OPAQUE, addr_of_mut!((*vars).blob).cast(), 0),
            row(5605, TERN_TYPE_NONE, OP_E, null_mut(), 0),
            tern_resource_def_t {
                multiple: true,
                ..row(5820, TERN_TYPE_INTEGER, OP_R | OP_W, null_mut(), 0)
            },
        ];
        (buf, rows)
    };
    let def = tern_object_def_t {
        id: 3303,
        version_major: 1,
        version_minor: 0,
        resources: rows.as_ptr(),
        resource_count: rows.len(),
        read: Some(read),
        write: Some(write),
        execute: Some(execute),
        create_instance: None,
        delete_instance: None,
        clear_resource: Some(clear),
        write_block: None,
    };
    let server = tern_server_config_t {
        uri: text("coap://192.0.2.1:5683"),
        short_server_id: 1,
        lifetime_s: 60,
    };
    let config = tern_config_t {
        endpoint: text("tern-fuzz"),
        lwm2m_version: 11,
        update_margin_s: 10,
        servers: &server,
        server_count: 1,
        manufacturer: text("tern"),
        model: text("m"),
        serial: text("1"),
        firmware_version: text("1"),
        bootstrap_uri: text(""),
        bootstrap_hold_off_s: 0,
        bootstrap_flags: 0,
    };
    let platform = tern_platform_t {
        user: net.cast(),
        open: Some(open),
        send: Some(send),
        recv: None,
        close: None,
        random: Some(random),
        log: None,
        event: None,
        store: None,
        load: None,
        credentials: None,
    };
    let mut storage = vec![0u64; tern_client_storage_size() / 8 + 1];
    let mut client = null_mut();
    let conn = std::ptr::NonNull::<u8>::dangling().as_ptr().cast();
    let mut now = 0u64;
    let mut next = 0u64;
    // SAFETY: the storage, table, variables and callbacks' state outlive the client, which
    // is closed before they are freed; the variables are read only between library calls.
    unsafe {
        let len = storage.len() * 8;
        let st = tern_client_init(
            storage.as_mut_ptr().cast(),
            len,
            &config,
            &platform,
            &mut client,
        );
        assert_eq!(st, TERN_STATUS_OK);
        let ids = [0u16];
        let st = tern_client_add_object(client, &def, vars.cast(), ids.as_ptr(), ids.len());
        assert_eq!(st, TERN_STATUS_OK);
        assert_eq!(tern_client_step(client, now, &mut next), TERN_STATUS_OK);
        drain(net);
        let mut rest = data;
        while let [control, len, tail @ ..] = rest {
            let n = usize::from(*len).min(tail.len());
            let (chunk, after) = tail.split_at(n);
            rest = after;
            let st = match control & 3 {
                0 => tern_client_input(client, conn, chunk.as_ptr(), chunk.len(), now),
                1 => {
                    now += u64::from(control >> 2) * 100;
                    tern_client_step(client, now, &mut next)
                }
                2 => {
                    let ids: Vec<u16> = chunk
                        .chunks_exact(2)
                        .map(|p| u16::from_be_bytes([p[0], p[1]]))
                        .collect();
                    tern_resource_changed(client, ids.as_ptr(), ids.len())
                }
                _ => tern_client_update(client),
            };
            assert!(known(st), "an undocumented status {st:?}");
            check(vars, buf);
            drain(net);
        }
        assert_eq!(tern_client_close(client), TERN_STATUS_OK);
        drop(Box::from_raw(vars));
        drop(Box::from_raw(net));
    }
});
