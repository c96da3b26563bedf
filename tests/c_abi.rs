//! The C ABI driven from Rust the way a C application drives it, so that Miri can check the
//! library's unsafe code: the client built in place in the caller's storage, the pointers
//! and lengths crossing the boundary, the application's variables that value pointers name,
//! the handlers' borrowed values, the persistence callbacks. `tests/run.sh` runs it under
//! Miri (`cargo +nightly miri test --test c_abi`), which fails on any access out of bounds,
//! misaligned, to freed or uninitialised memory, or against Rust's aliasing rules; as a plain
//! test it checks the same behaviour natively. The C tests (`tests/c/`) cover the same calls
//! from C, where Miri cannot go.
//!
//! One client, one server (the test plays it with coap-lite): Register, a Read through a
//! value pointer and one through a handler, a Write into a string variable, an Execute, an
//! Observe and the notification a change brings, the persisted state loaded by a second
//! client, De-register, close. With the `platform-credentials` feature, the keys a
//! bootstrap blob writes reach the platform's `credentials` callback before `open`.

#[cfg(feature = "platform-credentials")]
mod sim;

use std::ffi::{c_char, c_void};
use std::ptr::{addr_of_mut, null, null_mut};

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use tern::ffi::client::*;
use tern::ffi::tern_event_kind_t::*;
use tern::ffi::tern_status_t::*;
use tern::ffi::tern_type_t::*;
use tern::ffi::*;

const OP_R: u8 = 1;
const OP_W: u8 = 2;
const OP_E: u8 = 4;

/// What the platform callbacks saw; `user` points at it.
#[derive(Default)]
struct Platform {
    sent: Vec<Vec<u8>>,
    events: Vec<tern_event_kind_t>,
    /// Connections opened and closed, and keys handed over, in order.
    log: Vec<String>,
    /// The two record slots of the persistence callbacks.
    slots: [Vec<u8>; 2],
    /// Makes the `credentials` callback refuse the keys.
    #[cfg(feature = "platform-credentials")]
    refuse: bool,
}

impl Platform {
    fn count(&self, prefix: &str) -> usize {
        self.log.iter().filter(|l| l.starts_with(prefix)).count()
    }
}

/// The application object's state: what its handlers see through their `user` pointer.
#[derive(Default)]
struct Sensor {
    executed: u32,
    /// Bytes a read handler lends the library (valid until the caller returns).
    unit: [u8; 3],
}

/// `user` as the platform's state.
///
/// # Safety
/// Every platform callback gets the `Platform` the test gave as `user`, and the test holds
/// no reference to it while the library runs.
unsafe fn platform<'a>(user: *mut c_void) -> &'a mut Platform {
    // SAFETY: see above.
    unsafe { &mut *user.cast::<Platform>() }
}

unsafe extern "C" fn open(
    user: *mut c_void,
    _uri: *const c_char,
    _len: usize,
    iid: u16,
    conn: *mut *mut c_void,
) -> tern_status_t {
    // SAFETY: the library passes its platform's user and a writable out-pointer.
    unsafe {
        platform(user).log.push(format!("open {iid}"));
        *conn = std::ptr::NonNull::<u8>::dangling().as_ptr().cast();
    }
    TERN_STATUS_OK
}

unsafe extern "C" fn send(
    user: *mut c_void,
    _conn: *mut c_void,
    data: *const u8,
    len: usize,
) -> tern_status_t {
    // SAFETY: `data` is valid for `len` bytes during the call.
    unsafe {
        let datagram = std::slice::from_raw_parts(data, len).to_vec();
        platform(user).sent.push(datagram);
    }
    TERN_STATUS_OK
}

unsafe extern "C" fn close(user: *mut c_void, _conn: *mut c_void) {
    // SAFETY: as for `open`.
    unsafe { platform(user).log.push("close".into()) };
}

unsafe extern "C" fn random(_user: *mut c_void, out: *mut u8, len: usize) {
    // SAFETY: the library passes `len` writable bytes.
    unsafe { std::ptr::write_bytes(out, 0x5a, len) };
}

unsafe extern "C" fn event(user: *mut c_void, e: *const tern_event_t) {
    // SAFETY: the event is valid during the call.
    let (p, kind) = unsafe { (platform(user), (*e).kind) };
    if kind == TERN_EVENT_CONNECTION_FAILED {
        p.log.push("connection failed".into());
    }
    p.events.push(kind);
}

unsafe extern "C" fn store(
    user: *mut c_void,
    slot: u8,
    offset: u32,
    data: *const u8,
    len: usize,
) -> tern_status_t {
    // SAFETY: `data` is valid for `len` bytes during the call.
    let (p, data) = unsafe { (platform(user), std::slice::from_raw_parts(data, len)) };
    let Some(record) = p.slots.get_mut(usize::from(slot)) else {
        return TERN_STATUS_INVALID_ARG;
    };
    let start = offset as usize;
    if record.len() < start + len {
        record.resize(start + len, 0);
    }
    record[start..start + len].copy_from_slice(data);
    TERN_STATUS_OK
}

unsafe extern "C" fn load(
    user: *mut c_void,
    slot: u8,
    offset: u32,
    buffer: *mut u8,
    len: usize,
) -> tern_status_t {
    // SAFETY: as for `store`; `buffer` is writable for `len` bytes.
    let p = unsafe { platform(user) };
    let Some(record) = p.slots.get(usize::from(slot)) else {
        return TERN_STATUS_INVALID_ARG;
    };
    let start = offset as usize;
    match record.get(start..start + len) {
        Some(bytes) => {
            // SAFETY: see above.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer, len) };
            TERN_STATUS_OK
        }
        None => TERN_STATUS_NOT_FOUND,
    }
}

/// Reads the Sensor Units (5701) through the handler: bytes lent from the object's state.
unsafe extern "C" fn sensor_read(
    user: *mut c_void,
    _instance: u16,
    resource: u16,
    _index: usize,
    _resource_instance: *mut u16,
    value: *mut tern_value_t,
) -> tern_status_t {
    if resource != 5701 {
        return TERN_STATUS_NOT_FOUND;
    }
    // SAFETY: `user` is the test's `Sensor`, `value` writable during the call.
    unsafe {
        let sensor = user.cast::<Sensor>();
        let unit = addr_of_mut!((*sensor).unit);
        (*value).r#type = TERN_TYPE_STRING as u8;
        (*value).data = unit.cast::<u8>();
        (*value).len = (*unit).len();
    }
    TERN_STATUS_OK
}

/// Reset Min and Max Measured Values (5605).
unsafe extern "C" fn sensor_execute(
    user: *mut c_void,
    _instance: u16,
    resource: u16,
    _args: *const u8,
    _len: usize,
) -> tern_status_t {
    if resource != 5605 {
        return TERN_STATUS_NOT_FOUND;
    }
    // SAFETY: `user` is the test's `Sensor`.
    unsafe { (*user.cast::<Sensor>()).executed += 1 };
    TERN_STATUS_OK
}

fn text(s: &'static str) -> tern_str_t {
    tern_str_t {
        ptr: s.as_ptr().cast(),
        len: s.len(),
    }
}

fn config(server: &tern_server_config_t) -> tern_config_t {
    tern_config_t {
        endpoint: text("tern-c-abi"),
        lwm2m_version: 11,
        update_margin_s: 10,
        servers: server,
        server_count: 1,
        manufacturer: text("tern"),
        model: text("m"),
        serial: text("1"),
        firmware_version: text("1"),
        bootstrap_uri: text(""),
        bootstrap_hold_off_s: 0,
        bootstrap_flags: 0,
    }
}

fn platform_of(p: *mut Platform) -> tern_platform_t {
    tern_platform_t {
        user: p.cast(),
        open: Some(open),
        send: Some(send),
        recv: None,
        close: Some(close),
        random: Some(random),
        log: None,
        event: Some(event),
        store: Some(store),
        load: Some(load),
        #[cfg(feature = "platform-credentials")]
        credentials: Some(credentials::credentials),
        #[cfg(not(feature = "platform-credentials"))]
        credentials: None,
    }
}

/// Storage for one client, aligned to 8 as the header asks.
fn storage() -> Vec<u64> {
    vec![0u64; tern_client_storage_size() / 8 + 1]
}

/// A confirmable request from the server.
fn request(method: RequestType, mid: u16, path: &[&str]) -> Packet {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(method);
    p.header.message_id = mid;
    p.set_token(vec![0xc0, mid as u8]);
    for seg in path {
        p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
    }
    p
}

/// A text/plain Write (PUT) of `payload`.
fn put_text(mid: u16, path: &[&str], payload: &[u8]) -> Packet {
    let mut p = request(RequestType::Put, mid, path);
    p.set_content_format(coap_lite::ContentFormat::TextPlain);
    p.payload = payload.to_vec();
    p
}

/// The server's piggybacked response to the client's request `to`.
fn ack(to: &Packet, code: ResponseType) -> Packet {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Acknowledgement);
    p.header.code = MessageClass::Response(code);
    p.header.message_id = to.header.message_id;
    p.set_token(to.get_token().to_vec());
    p
}

/// Hands `packet` to the client at `now_ms`.
///
/// # Safety
/// `client` is live.
unsafe fn input(client: *mut tern_client_t, packet: &Packet, now_ms: u64) {
    let bytes = packet.to_bytes().expect("encodable");
    let conn = std::ptr::NonNull::<u8>::dangling().as_ptr().cast();
    // SAFETY: forwarded from the caller; the bytes are valid for their length.
    let status = unsafe { tern_client_input(client, conn, bytes.as_ptr(), bytes.len(), now_ms) };
    assert_eq!(status, TERN_STATUS_OK);
}

/// The datagrams sent since the last call, parsed.
fn drain(p: *mut Platform) -> Vec<Packet> {
    // SAFETY: the library does not run while the test looks.
    let sent = unsafe { std::mem::take(&mut (*p).sent) };
    sent.iter()
        .map(|d| Packet::from_bytes(d).expect("the client sent a datagram coap-lite parses"))
        .collect()
}

/// Hands `packet` to the client and returns the one reply it sent.
///
/// # Safety
/// `client` is live; `p` is its platform's user.
unsafe fn exchange(client: *mut tern_client_t, p: *mut Platform, packet: &Packet) -> Packet {
    // SAFETY: forwarded from the caller.
    unsafe { input(client, packet, 1_000) };
    let mut replies = drain(p);
    assert_eq!(replies.len(), 1, "one reply to each request");
    let reply = replies.remove(0);
    assert_eq!(reply.header.message_id, packet.header.message_id);
    reply
}

fn path_of(p: &Packet, option: CoapOption) -> Vec<String> {
    p.get_option(option)
        .map(|segs| {
            segs.iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn pointers_and_sizes_are_checked_before_anything_is_written() {
    let server = tern_server_config_t {
        uri: text("coap://192.0.2.1:5683"),
        short_server_id: 1,
        lifetime_s: 60,
    };
    let cfg = config(&server);
    let mut state = Platform::default();
    let plat = platform_of(&mut state);
    let mut mem = storage();
    let len = mem.len() * 8;
    let base = mem.as_mut_ptr().cast::<u8>();
    let mut client = null_mut();
    // SAFETY: every pointer is NULL or valid for what it claims.
    unsafe {
        assert_eq!(
            tern_client_init(null_mut(), len, &cfg, &plat, &mut client),
            TERN_STATUS_NULL_ARG
        );
        assert_eq!(
            tern_client_init(base.cast(), len, null(), &plat, &mut client),
            TERN_STATUS_NULL_ARG
        );
        assert_eq!(
            tern_client_init(base.cast(), 16, &cfg, &plat, &mut client),
            TERN_STATUS_NO_SPACE
        );
        assert_eq!(
            tern_client_init(base.add(4).cast(), len - 8, &cfg, &plat, &mut client),
            TERN_STATUS_INVALID_ARG
        );
        assert!(client.is_null(), "no handle after a refusal");
        let mut next = 0;
        assert_eq!(
            tern_client_step(null_mut(), 0, &mut next),
            TERN_STATUS_NULL_ARG
        );
        assert_eq!(tern_client_close(null_mut()), TERN_STATUS_NULL_ARG);
        assert_eq!(
            tern_client_init(base.cast(), len, &cfg, &plat, &mut client),
            TERN_STATUS_OK
        );
        assert_eq!(
            tern_client_add_object(client, null(), null_mut(), null(), 0),
            TERN_STATUS_NULL_ARG
        );
        assert_eq!(
            tern_client_input(client, null_mut(), null(), 4, 0),
            TERN_STATUS_NULL_ARG
        );
        assert_eq!(tern_client_close(client), TERN_STATUS_OK);
    }
    assert!(state.sent.is_empty(), "nothing sent: {:?}", state.sent);
}

#[test]
fn a_client_in_caller_storage_serves_a_server_through_the_c_abi() {
    let server = tern_server_config_t {
        uri: text("coap://192.0.2.1:5683"),
        short_server_id: 1,
        lifetime_s: 60,
    };
    let cfg = config(&server);
    // Everything the library points at lives in boxes the test only reads through raw
    // pointers while the client runs.
    let state = Box::into_raw(Box::<Platform>::default());
    let sensor = Box::into_raw(Box::<Sensor>::default());
    let value = Box::into_raw(Box::new(21.5f64));
    let name = Box::into_raw(Box::new([0u8; 16]));
    // SAFETY: `sensor` is live and not otherwise borrowed.
    unsafe { (*sensor).unit = *b"Cel" };
    let rows = [
        tern_resource_def_t {
            id: 5700,
            r#type: TERN_TYPE_FLOAT as u8,
            operations: OP_R,
            multiple: false,
            value: value.cast(),
            value_size: 0,
        },
        tern_resource_def_t {
            id: 5701,
            r#type: TERN_TYPE_STRING as u8,
            operations: OP_R,
            multiple: false,
            value: null_mut(),
            value_size: 0,
        },
        tern_resource_def_t {
            id: 5750,
            r#type: TERN_TYPE_STRING as u8,
            operations: OP_R | OP_W,
            multiple: false,
            value: name.cast(),
            value_size: 16,
        },
        tern_resource_def_t {
            id: 5605,
            r#type: TERN_TYPE_NONE as u8,
            operations: OP_E,
            multiple: false,
            value: null_mut(),
            value_size: 0,
        },
    ];
    let def = tern_object_def_t {
        id: 3303,
        version_major: 1,
        version_minor: 1,
        resources: rows.as_ptr(),
        resource_count: rows.len(),
        read: Some(sensor_read),
        write: None,
        execute: Some(sensor_execute),
        create_instance: None,
        delete_instance: None,
        clear_resource: None,
        write_block: None,
    };
    let plat = platform_of(state);
    let mut mem = storage();
    let len = mem.len() * 8;
    let mut client = null_mut();
    let mut next = 0u64;
    // SAFETY: the storage, configuration, table, variables and platform state outlive the
    // client, which is closed before they go; the test reads the shared state only between
    // calls into the library.
    unsafe {
        let st = tern_client_init(mem.as_mut_ptr().cast(), len, &cfg, &plat, &mut client);
        assert_eq!(st, TERN_STATUS_OK);
        let ids = [0u16];
        let st = tern_client_add_object(client, &def, sensor.cast(), ids.as_ptr(), ids.len());
        assert_eq!(st, TERN_STATUS_OK);

        // Register.
        assert_eq!(tern_client_step(client, 0, &mut next), TERN_STATUS_OK);
        assert_eq!((*state).count("open"), 1);
        let sent = drain(state);
        assert_eq!(sent.len(), 1);
        let register = &sent[0];
        assert_eq!(
            register.header.code,
            MessageClass::Request(RequestType::Post)
        );
        assert_eq!(path_of(register, CoapOption::UriPath), ["rd"]);
        let links = String::from_utf8_lossy(&register.payload).into_owned();
        assert!(links.contains("</3303/0>"), "{links}");
        let mut created = ack(register, ResponseType::Created);
        created.add_option(CoapOption::LocationPath, b"rd".to_vec());
        created.add_option(CoapOption::LocationPath, b"c1".to_vec());
        input(client, &created, 10);
        assert!((*state).events.contains(&TERN_EVENT_REGISTERED));
        assert!(drain(state).is_empty());

        // Read through the value pointer, and through the handler's lent bytes.
        let reply = exchange(
            client,
            state,
            &request(RequestType::Get, 1, &["3303", "0", "5700"]),
        );
        assert_eq!(
            reply.header.code,
            MessageClass::Response(ResponseType::Content)
        );
        assert_eq!(reply.payload, b"21.5");
        let reply = exchange(
            client,
            state,
            &request(RequestType::Get, 2, &["3303", "0", "5701"]),
        );
        assert_eq!(reply.payload, b"Cel");

        // Write into the application's string variable: NUL-terminated in its buffer.
        let write = put_text(3, &["3303", "0", "5750"], b"probe-7");
        let reply = exchange(client, state, &write);
        assert_eq!(
            reply.header.code,
            MessageClass::Response(ResponseType::Changed)
        );
        assert_eq!(&name.read()[..8], b"probe-7\0");
        // Too long for the buffer with its NUL: refused, the variable unchanged.
        let write = put_text(4, &["3303", "0", "5750"], b"sixteen-bytes-xx");
        let reply = exchange(client, state, &write);
        assert_eq!(
            reply.header.code,
            MessageClass::Response(ResponseType::RequestEntityTooLarge)
        );
        assert_eq!(&name.read()[..8], b"probe-7\0");

        // Execute.
        let reply = exchange(
            client,
            state,
            &request(RequestType::Post, 5, &["3303", "0", "5605"]),
        );
        assert_eq!(
            reply.header.code,
            MessageClass::Response(ResponseType::Changed)
        );
        assert_eq!((*sensor).executed, 1);

        // Observe the value, change the variable, signal it: a notification with the new
        // value.
        let mut observe = request(RequestType::Get, 6, &["3303", "0", "5700"]);
        observe.set_observe_value(0);
        let reply = exchange(client, state, &observe);
        assert_eq!(reply.payload, b"21.5");
        assert!(reply.get_observe_value().is_some(), "the Observe is taken");
        value.write(-3.25);
        let ids = [3303u16, 0, 5700];
        assert_eq!(
            tern_resource_changed(client, ids.as_ptr(), 3),
            TERN_STATUS_OK
        );
        assert_eq!(tern_client_step(client, 2_000, &mut next), TERN_STATUS_OK);
        let notes = drain(state);
        let note = notes
            .iter()
            .find(|p| p.get_token() == observe.get_token())
            .expect("a notification");
        assert_eq!(note.payload, b"-3.25");

        // De-register, then close: the connection goes with the client.
        assert_eq!(tern_client_deregister(client), TERN_STATUS_OK);
        assert_eq!(tern_client_step(client, 3_000, &mut next), TERN_STATUS_OK);
        let sent = drain(state);
        let delete = sent
            .iter()
            .find(|p| p.header.code == MessageClass::Request(RequestType::Delete))
            .expect("a De-register");
        assert_eq!(path_of(delete, CoapOption::UriPath), ["rd", "c1"]);
        input(client, &ack(delete, ResponseType::Deleted), 3_010);
        assert!(tern_client_is_idle(client));
        assert!((*state).events.contains(&TERN_EVENT_DEREGISTERED));
        assert_eq!(tern_client_close(client), TERN_STATUS_OK);
        assert_eq!((*state).count("close"), 1);
        assert_eq!(
            tern_client_step(client, 4_000, &mut next),
            TERN_STATUS_BAD_STATE
        );

        // The persisted state (the registration's Location) reaches a new client in the
        // same storage through `load`.
        (*state).events.clear();
        let st = tern_client_init(mem.as_mut_ptr().cast(), len, &cfg, &plat, &mut client);
        assert_eq!(st, TERN_STATUS_OK);
        assert_eq!(tern_client_step(client, 0, &mut next), TERN_STATUS_OK);
        assert!(
            (*state).events.contains(&TERN_EVENT_STATE_RESTORED),
            "{:?}",
            (*state).events.len()
        );
        assert_eq!(tern_client_close(client), TERN_STATUS_OK);

        drop(Box::from_raw(state));
        drop(Box::from_raw(sensor));
        drop(Box::from_raw(value));
        drop(Box::from_raw(name));
    }
}

/// The pre-shared key a bootstrap writes for a server the platform secures: the
/// `credentials` callback gets it before `open`, and a refusal fails the connection without
/// an `open`.
#[cfg(feature = "platform-credentials")]
mod credentials {
    use super::*;

    extern "C" {
        // Not re-exported by path from the crate: reached by its C symbol, as C does, with
        // the handle as C sees it, an opaque pointer.
        fn tern_client_bootstrap_blob(
            client: *mut c_void,
            data: *const u8,
            len: usize,
        ) -> tern_status_t;
    }

    const KEY: &[u8] = b"0123456789abcdef";
    const HANDED: &str = "credentials 1 0 tern-psk";

    pub unsafe extern "C" fn credentials(
        user: *mut c_void,
        c: *const tern_credentials_t,
    ) -> tern_status_t {
        // SAFETY: the credentials and the bytes they point at are valid during the call.
        let (c, identity, key) = unsafe {
            let c = &*c;
            let identity = std::slice::from_raw_parts(c.identity, c.identity_len);
            (c, identity, std::slice::from_raw_parts(c.key, c.key_len))
        };
        // SAFETY: as for every platform callback.
        let p = unsafe { platform(user) };
        let identity = String::from_utf8_lossy(identity);
        let line = format!("credentials {} {} {identity}", c.security_instance, c.mode);
        p.log.push(line);
        assert_eq!(key, KEY);
        if p.refuse {
            TERN_STATUS_IO
        } else {
            TERN_STATUS_OK
        }
    }

    /// A client bootstrapped from a blob with a PSK account; its log after the first step.
    fn first_step(refuse: bool) -> Vec<String> {
        let server = tern_server_config_t {
            uri: text(sim::SERVER_URI),
            short_server_id: 101,
            lifetime_s: 60,
        };
        let cfg = config(&server);
        let state = Box::into_raw(Box::new(Platform {
            refuse,
            ..Platform::default()
        }));
        let plat = platform_of(state);
        let mut mem = storage();
        let mut client = null_mut();
        let blob = sim::security_blob(0, "coaps://192.0.2.9:5684", b"tern-psk", KEY);
        let mut next = 0;
        // SAFETY: the storage, configuration and platform state outlive the client, which
        // is closed before they go.
        unsafe {
            let len = mem.len() * 8;
            let st = tern_client_init(mem.as_mut_ptr().cast(), len, &cfg, &plat, &mut client);
            assert_eq!(st, TERN_STATUS_OK);
            let st = tern_client_bootstrap_blob(client.cast(), blob.as_ptr(), blob.len());
            assert_eq!(st, TERN_STATUS_OK);
            assert_eq!(tern_client_step(client, 0, &mut next), TERN_STATUS_OK);
            assert_eq!(tern_client_close(client), TERN_STATUS_OK);
            Box::from_raw(state).log
        }
    }

    /// The connection asked for at init is taken back by the blob's close before the
    /// platform opened it: the first step opens the new account's connection once (and
    /// `tern_client_close` closes it).
    #[test]
    fn the_written_key_reaches_the_platform_before_the_one_open() {
        let log = first_step(false);
        assert_eq!(log, [HANDED, "open 1", "close"]);
    }

    #[test]
    fn a_refused_key_fails_the_connection_without_an_open() {
        let log = first_step(true);
        assert!(log.iter().all(|l| !l.starts_with("open")), "{log:?}");
        assert_eq!(log.first().map(String::as_str), Some(HANDED));
        assert_eq!(log.get(1).map(String::as_str), Some("connection failed"));
    }
}
