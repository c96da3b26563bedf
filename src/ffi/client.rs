//! `tern_client_*`: the client as C sees it, in storage the caller provides.

use core::ffi::{c_char, c_void};
use core::mem::{align_of, size_of, MaybeUninit};
use core::ptr::addr_of_mut;

use heapless::Vec;

use super::object::CObject;
use super::standard::Standard;
use super::types::*;
use crate::client::{Client, Config, Event, Platform, ServerConfig, Version};
use crate::config::{MAX_MESSAGE_SIZE, MAX_OBJECTS, MAX_SERVERS};
use crate::model::{Device, DeviceInfo, Object, Objects};

#[cfg(feature = "firmware-update")]
mod firmware;
#[cfg(feature = "firmware-update")]
pub use firmware::*;
#[cfg(feature = "bootstrap")]
mod bootstrap;
#[cfg(feature = "persistence")]
mod persist;
#[cfg(feature = "queue-mode")]
mod queue;
mod secure;
#[cfg(feature = "queue-mode")]
pub use queue::*;
#[cfg(feature = "send")]
mod send;
#[cfg(feature = "send")]
pub use send::*;

const MAGIC: u32 = 0x7465_726e; // "tern"

/// Connection slots: one per server, then the firmware download's, then the bootstrap
/// server's.
const CONNECTIONS: usize = if cfg!(feature = "bootstrap") {
    MAX_SERVERS + 2
} else {
    MAX_SERVERS + cfg!(feature = "firmware-update") as usize
};

/// Datagrams read from one connection in one step, so that a flood cannot starve the rest.
const RECV_BURST: usize = 16;

/// Bytes of storage a client needs (its exact size on this target; see
/// `TERN_CLIENT_STORAGE_SIZE` for a compile-time bound).
#[no_mangle]
pub extern "C" fn tern_client_storage_size() -> usize {
    size_of::<tern_client_t>()
}

/// A client. Opaque to C: it lives in storage the application provides.
pub struct tern_client_t(Storage);

/// The client's storage: the state every entry point borrows (mutably), and apart from it
/// what `tern_resource_changed` reaches from other threads and interrupts. Not part of the
/// C API:
///
/// cbindgen:ignore
#[repr(C)]
struct Storage {
    state: State,
    #[cfg(feature = "observe")]
    isr: Isr,
}

/// What `tern_resource_changed` may touch while `tern_client_step` runs: never borrowed
/// mutably after `tern_client_init`.
#[cfg(feature = "observe")]
#[repr(C)]
struct Isr {
    /// `MAGIC` once the client is initialised (as `State::magic`).
    magic: u32,
    changes: crate::client::observe::Changes,
}

/// The client's fields, in C order so that those the entry points use most come first,
/// where the shortest Thumb loads and stores reach them, and no padding is left between
/// the 8-byte aligned ones on 32-bit targets. Not part of the C API:
///
/// cbindgen:ignore
#[repr(C)]
struct State {
    magic: u32,
    platform: tern_platform_t,
    connections: [*mut c_void; CONNECTIONS],
    /// The saved state was looked for (the first step does it).
    #[cfg(feature = "persistence")]
    restored: bool,
    device: Device<'static>,
    standard: Standard,
    #[cfg(feature = "firmware-update")]
    firmware: firmware::CFirmware,
    objects: Vec<CObject, MAX_OBJECTS>,
    core: Client,
}

/// `Platform` over the C callbacks, and the objects as the engine sees them (the Device
/// object, the optional standard objects, then the C objects), borrowed for one call into
/// the engine.
struct Env<'a> {
    platform: &'a tern_platform_t,
    device: &'a mut Device<'static>,
    standard: &'a mut Standard,
    objects: &'a mut [CObject],
    #[cfg(feature = "firmware-update")]
    firmware: &'a mut firmware::CFirmware,
}

impl Objects for Env<'_> {
    fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
        let Some(i) = index.checked_sub(1) else {
            return Some(&mut *self.device);
        };
        // The Firmware Update object follows the Device object once it has a sink.
        #[cfg(feature = "firmware-update")]
        let i = match (firmware::enabled(self.firmware), i) {
            (true, 0) => return Some(&mut *self.firmware),
            (true, i) => i - 1,
            (false, i) => i,
        };
        match self.standard.object(i) {
            Ok(o) => Some(o),
            Err(i) => self.objects.get_mut(i).map(|o| o as &mut dyn Object),
        }
    }
}

impl Platform for Env<'_> {
    fn random(&mut self, out: &mut [u8]) {
        if let Some(f) = self.platform.random {
            // SAFETY: `out` is a valid writable buffer of `out.len()` bytes.
            unsafe { f(self.platform.user, out.as_mut_ptr(), out.len()) }
        }
    }

    fn objects(&mut self) -> &mut dyn Objects {
        self
    }

    #[cfg(feature = "firmware-update")]
    fn download_failed(&mut self, result: crate::model::UpdateResult) {
        self.firmware.download_failed(result);
    }
}

/// A string from C, borrowed for `'a`; NULL only with length 0; UTF-8 checked.
///
/// # Safety
/// `s.ptr` must point to `s.len` readable bytes valid for `'a`.
#[inline(always)]
unsafe fn str_arg<'a>(s: tern_str_t) -> Result<&'a str, tern_status_t> {
    // SAFETY: forwarded from the caller's contract.
    let (ptr, len) = unsafe { str_checked(s) };
    if ptr.is_null() {
        return Err(if len == 0 {
            TERN_STATUS_NULL_ARG
        } else {
            TERN_STATUS_INVALID_ARG
        });
    }
    // SAFETY: `str_checked` returned a non-null pointer, so `len` valid UTF-8 bytes live at
    // `ptr` for `'a` (the caller's contract).
    Ok(unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(ptr, len)) })
}

/// The checking half of `str_arg` (also used for the text values of read handlers), kept
/// out of line; it returns a pair so that the result travels in registers: the string's
/// pointer and length, or NULL and 0 (NULL argument) or NULL and 1 (not UTF-8).
///
/// # Safety
/// As for `str_arg`.
#[inline(never)]
pub(super) unsafe fn str_checked(s: tern_str_t) -> (*const u8, usize) {
    if s.len == 0 {
        return ("".as_ptr(), 0);
    }
    if s.ptr.is_null() {
        return (core::ptr::null(), 0);
    }
    // SAFETY: guaranteed by the caller.
    let bytes = unsafe { core::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len) };
    match crate::util::utf8(bytes) {
        Some(text) => (text.as_ptr(), text.len()),
        None => (core::ptr::null(), 1),
    }
}

/// The optional standard objects of a live client and its engine (for the setters in
/// `standard.rs`).
///
/// # Safety
/// As for `live`.
pub(super) unsafe fn standard_of<'a>(
    client: *mut tern_client_t,
) -> Result<(&'a mut Standard, &'a mut Client), tern_status_t> {
    // SAFETY: forwarded.
    let c = unsafe { live(client)? };
    Ok((&mut c.standard, &mut c.core))
}

/// A live client from a pointer, or the status to return.
///
/// # Safety
/// `client` must be NULL or point to storage that `tern_client_init` may have set up.
unsafe fn live<'a>(client: *mut tern_client_t) -> Result<&'a mut State, tern_status_t> {
    if client.is_null() {
        return Err(TERN_STATUS_NULL_ARG);
    }
    if misaligned(client.cast()) {
        return Err(TERN_STATUS_INVALID_ARG);
    }
    // SAFETY: aligned and non-null; only the plain `u32` field is read, through the raw
    // pointer, so storage that was never initialised is not taken for a client.
    let magic = unsafe { core::ptr::addr_of!((*client).0.state.magic).read() };
    if magic != MAGIC {
        return Err(TERN_STATUS_BAD_STATE);
    }
    // SAFETY: the magic is only ever set by tern_client_init, after a full write.
    Ok(unsafe { &mut *addr_of_mut!((*client).0.state) })
}

/// True when `p` is not aligned for a `tern_client_t`.
fn misaligned(p: *mut c_void) -> bool {
    p as usize & (align_of::<tern_client_t>() - 1) != 0
}

fn status(r: Result<(), tern_status_t>) -> tern_status_t {
    r.err().unwrap_or(TERN_STATUS_OK)
}

/// Initialises a client in `storage` (`len` bytes, aligned to 8; at least
/// `tern_client_storage_size()` bytes, which `TERN_CLIENT_STORAGE_SIZE` bounds) and stores
/// its handle in `*client`. The config is copied except for the Device strings, which are
/// borrowed and must outlive the client. The platform's `open`, `send` and `random` are
/// required. Nothing is sent until the first `tern_client_step`.
///
/// # Safety
/// Every pointer must be NULL or valid for its documented size.
#[no_mangle]
pub unsafe extern "C" fn tern_client_init(
    storage: *mut c_void,
    len: usize,
    config: *const tern_config_t,
    platform: *const tern_platform_t,
    client: *mut *mut tern_client_t,
) -> tern_status_t {
    // SAFETY: forwarded from the caller's contract.
    status(unsafe { init(storage, len, config, platform, client) })
}

unsafe fn init(
    storage: *mut c_void,
    len: usize,
    config: *const tern_config_t,
    platform: *const tern_platform_t,
    client: *mut *mut tern_client_t,
) -> Result<(), tern_status_t> {
    if storage.is_null() || client.is_null() {
        return Err(TERN_STATUS_NULL_ARG);
    }
    // SAFETY: checked for NULL; the caller guarantees validity.
    let (cfg, plat) = unsafe { (config.as_ref(), platform.as_ref()) };
    let (Some(cfg), Some(plat)) = (cfg, plat) else {
        return Err(TERN_STATUS_NULL_ARG);
    };
    let (Some(_), Some(_), Some(random)) = (plat.open, plat.send, plat.random) else {
        return Err(TERN_STATUS_NULL_ARG);
    };
    if len < size_of::<tern_client_t>() {
        return Err(TERN_STATUS_NO_SPACE);
    }
    if misaligned(storage) {
        return Err(TERN_STATUS_INVALID_ARG);
    }
    let mut list = [ServerConfig {
        uri: "",
        short_id: 0,
        lifetime_s: 0,
    }; MAX_SERVERS];
    let servers = server_configs(cfg, &mut list)?;
    let mut seed = [0u8; 2];
    // SAFETY: a valid two-byte buffer.
    unsafe { random(plat.user, seed.as_mut_ptr(), seed.len()) };
    // SAFETY: the endpoint is copied by Client::new; the Device strings are borrowed for
    // the client's lifetime as documented.
    let info = unsafe {
        DeviceInfo {
            manufacturer: str_arg(cfg.manufacturer)?,
            model: str_arg(cfg.model)?,
            serial: str_arg(cfg.serial)?,
            firmware_version: str_arg(cfg.firmware_version)?,
        }
    };
    let config = Config {
        // SAFETY: copied before this function returns.
        endpoint: unsafe { str_arg(cfg.endpoint)? },
        version: match cfg.lwm2m_version {
            10 => Version::V1_0,
            11 => Version::V1_1,
            _ => return Err(TERN_STATUS_INVALID_ARG),
        },
        update_margin_s: cfg.update_margin_s,
        servers,
    };
    // The state is the storage's first field (`repr(C)`).
    let slot = storage.cast::<State>();
    #[cfg(feature = "observe")]
    let storage_slot = storage.cast::<Storage>();
    // SAFETY: `storage` is non-null, aligned and at least size_of::<tern_client_t>() bytes.
    // Fields are written in place through raw pointers (the client is too large to build
    // on a firmware stack); the magic, written last, marks the client as usable.
    unsafe {
        // Copied out before the first write, in case it lies in `storage`.
        let plat = *plat;
        // All zeros: magic 0 (not usable yet), no connections, an empty receive buffer.
        slot.write_bytes(0, 1);
        addr_of_mut!((*slot).platform).write(plat);
        addr_of_mut!((*slot).device).write(Device::new(info));
        #[cfg(feature = "firmware-update")]
        addr_of_mut!((*slot).firmware).write(firmware::new_object());
        addr_of_mut!((*slot).standard).write(Standard::new());
        addr_of_mut!((*slot).objects).write(Vec::new());
        let core = &mut *addr_of_mut!((*slot).core).cast::<MaybeUninit<Client>>();
        #[cfg(feature = "bootstrap")]
        bootstrap::init(core, &config, cfg, u16::from_le_bytes(seed))?;
        #[cfg(not(feature = "bootstrap"))]
        Client::init_in_place(core, &config, u16::from_le_bytes(seed))
            .map_err(|_| TERN_STATUS_INVALID_ARG)?;
        #[cfg(feature = "observe")]
        {
            let isr = addr_of_mut!((*storage_slot).isr);
            addr_of_mut!((*isr).changes).write(crate::client::observe::Changes::new());
            addr_of_mut!((*isr).magic).write(MAGIC);
        }
        addr_of_mut!((*slot).magic).write(MAGIC);
        *client = storage.cast();
    }
    Ok(())
}

/// The servers of a C config, copied into engine form in `out` (URIs borrowed for the init
/// call); returns the filled part.
fn server_configs<'a, 'c>(
    cfg: &'c tern_config_t,
    out: &'a mut [ServerConfig<'c>; MAX_SERVERS],
) -> Result<&'a [ServerConfig<'c>], tern_status_t> {
    let n = cfg.server_count;
    // A bootstrap account may come alone.
    #[cfg(feature = "bootstrap")]
    let none_allowed = cfg.bootstrap_uri.len != 0;
    #[cfg(not(feature = "bootstrap"))]
    let none_allowed = false;
    if (n == 0 && !none_allowed) || n > MAX_SERVERS {
        return Err(TERN_STATUS_INVALID_ARG);
    }
    #[cfg(feature = "bootstrap")]
    if n == 0 {
        return Ok(&[]);
    }
    if cfg.servers.is_null() {
        return Err(TERN_STATUS_NULL_ARG);
    }
    // SAFETY: non-null; the caller guarantees `server_count` entries.
    let list = unsafe { core::slice::from_raw_parts(cfg.servers, n) };
    for (sc, s) in out.iter_mut().zip(list) {
        *sc = ServerConfig {
            // SAFETY: the caller guarantees the URI bytes; Client::new copies them.
            uri: unsafe { str_arg(s.uri)? },
            short_id: s.short_server_id,
            lifetime_s: s.lifetime_s,
        };
    }
    Ok(out.get(..n).unwrap_or(&[]))
}

/// Registers an application object with the instances it has now (`instance_ids`, may be
/// NULL when `instance_count` is 0). `def` must outlive the client; `user` is passed to its
/// handlers. Objects registered after the first step trigger a registration Update.
/// `TERN_STATUS_INVALID_ARG` for an id the library owns (0, 1, 3, and 4, 5, 6, 7 when built
/// with their objects) or above 65534, a table
/// row with an unknown type, unknown operation bits, an id above 65534 or an id used twice,
/// a value pointer on an executable or multiple-instance row, a string or CoRE link row
/// with a value pointer and `value_size` 0, or repeated instance ids; `TERN_STATUS_NULL_ARG`
/// for a NULL `def` or a missing handler that a row without a value pointer needs.
///
/// # Safety
/// `client` from `tern_client_init`; `def` valid and unchanged for the client's lifetime;
/// `instance_ids` valid for `instance_count` entries.
#[no_mangle]
pub unsafe extern "C" fn tern_client_add_object(
    client: *mut tern_client_t,
    def: *const tern_object_def_t,
    user: *mut c_void,
    instance_ids: *const u16,
    instance_count: usize,
) -> tern_status_t {
    // SAFETY: forwarded from the caller's contract.
    status(unsafe { add_object(client, def, user, instance_ids, instance_count) })
}

unsafe fn add_object(
    client: *mut tern_client_t,
    def: *const tern_object_def_t,
    user: *mut c_void,
    ids: *const u16,
    count: usize,
) -> Result<(), tern_status_t> {
    // SAFETY: forwarded.
    let c = unsafe { live(client)? };
    // SAFETY: forwarded.
    let mut obj = unsafe { CObject::new(def, user)? };
    if c.objects.iter().any(|o| o.id() == obj.id()) {
        return Err(TERN_STATUS_INVALID_ARG);
    }
    let ids: &[u16] = match (ids.is_null(), count) {
        (_, 0) => &[],
        (true, _) => return Err(TERN_STATUS_NULL_ARG),
        // SAFETY: non-null, `count` entries guaranteed by the caller.
        (false, n) => unsafe { core::slice::from_raw_parts(ids, n) },
    };
    for &iid in ids {
        if iid > crate::model::path::MAX_ID {
            return Err(TERN_STATUS_INVALID_ARG);
        }
        obj.add_instance(iid)?;
    }
    if c.objects.is_full() {
        return Err(TERN_STATUS_NO_SPACE);
    }
    // SAFETY: not full, checked just above.
    unsafe { c.objects.push_unchecked(obj) };
    c.core.update(true);
    Ok(())
}

/// Adds (`present` true) or removes an instance of an application object; a registration
/// Update with the new object list follows.
///
/// # Safety
/// `client` from `tern_client_init`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_instance(
    client: *mut tern_client_t,
    object_id: u16,
    instance_id: u16,
    present: bool,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    if instance_id > crate::model::path::MAX_ID {
        return TERN_STATUS_INVALID_ARG;
    }
    let Some(obj) = c.objects.iter_mut().find(|o| o.id() == object_id) else {
        return TERN_STATUS_NOT_FOUND;
    };
    let r = if present {
        obj.add_instance(instance_id)
    } else {
        obj.remove_instance(instance_id)
    };
    if r.is_ok() {
        c.core.update(true);
    }
    status(r)
}

/// Raises (`present` true) or clears an error code of the Device object's Error Code
/// resource (/3/0/11): 1 low battery, 2 external power supply off, 3 GPS failure, 4 low
/// received signal strength, 5 out of memory, 6 SMS failure, 7 IP connectivity failure,
/// 8 peripheral malfunction, 16 to 32 device specific. A server's Reset Error Code
/// (/3/0/12) clears them all. `TERN_STATUS_INVALID_ARG` for another code,
/// `TERN_STATUS_NO_SPACE` when eight are raised already.
///
/// # Safety
/// `client` from `tern_client_init`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_device_error(
    client: *mut tern_client_t,
    code: u8,
    present: bool,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    match (c.device.set_error(code, present), code) {
        (true, _) => TERN_STATUS_OK,
        (false, 1..=32) => TERN_STATUS_NO_SPACE,
        (false, _) => TERN_STATUS_INVALID_ARG,
    }
}

/// Factory Access Control (object 2), for clients with several servers: gives server
/// `short_server_id` the ACL `rights` (`TERN_ACL_READ` | `TERN_ACL_WRITE` | `TERN_ACL_EXECUTE`
/// | `TERN_ACL_DELETE` | `TERN_ACL_CREATE`) on instance `instance_id` of object `object_id`.
/// Short Server ID 0 sets the default rights of servers without an entry of their own;
/// instance 65535 stands for the object itself, whose `TERN_ACL_CREATE` lets a server create
/// instances (the creator then owns the new instance). The Access Control instance is added
/// when missing, owned by the bootstrap server (65535) until `tern_client_set_acl_owner`.
/// With one server nothing is checked. Only in builds with the `access-control` feature.
/// `TERN_STATUS_NULL_ARG` for a NULL client, `TERN_STATUS_INVALID_ARG` for object id 0 or
/// 65535, short server id 65535 or rights above 255, `TERN_STATUS_NO_SPACE` when `TERN_MAX_ACL_INSTANCES`
/// instances, or the instance's `TERN_MAX_SERVERS` + 1 entries, are taken.
///
/// # Safety
/// `client` from `tern_client_init`.
#[cfg(feature = "access-control")]
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_acl(
    client: *mut tern_client_t,
    object_id: u16,
    instance_id: u16,
    short_server_id: u16,
    rights: u16,
) -> tern_status_t {
    // SAFETY: forwarded.
    match unsafe { live(client) } {
        Ok(c) => acl_status(c.core.access_control().set(
            object_id,
            instance_id,
            short_server_id,
            rights,
        )),
        Err(s) => s,
    }
}

/// Sets the Access Control Owner of instance `instance_id` of object `object_id` (65535:
/// the object's Create rights): the only server that may change that instance's ACLs
/// through object 2, with every right when it has no ACL entry of its own; 65535 leaves it
/// to the bootstrap server. Statuses as for `tern_client_set_acl`.
///
/// # Safety
/// `client` from `tern_client_init`.
#[cfg(feature = "access-control")]
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_acl_owner(
    client: *mut tern_client_t,
    object_id: u16,
    instance_id: u16,
    owner: u16,
) -> tern_status_t {
    // SAFETY: forwarded.
    match unsafe { live(client) } {
        Ok(c) => acl_status(
            c.core
                .access_control()
                .set_owner(object_id, instance_id, owner),
        ),
        Err(s) => s,
    }
}

#[cfg(feature = "access-control")]
fn acl_status(r: Result<(), crate::client::acl::AclError>) -> tern_status_t {
    match r {
        Ok(()) => TERN_STATUS_OK,
        Err(crate::client::acl::AclError::InvalidId) => TERN_STATUS_INVALID_ARG,
        Err(crate::client::acl::AclError::NoSpace) => TERN_STATUS_NO_SPACE,
    }
}

/// Runs the client: receives what the `recv` callback has, handles timers, sends through
/// `send`, reports events, and stores in `*next_ms` the time at which it wants to run again
/// (`UINT64_MAX`: only new input gives it work). `now_ms` is a monotonic clock in ms, 64
/// bits wide (widen a 32-bit tick counter by counting its wraps). After a forward jump of
/// the clock, what is overdue is done once (no burst of retransmissions); a clock that goes
/// backward makes time stand still for the engine until it is back where it was (nothing is
/// done early; `*next_ms` is never before `now_ms`).
///
/// # Safety
/// `client` from `tern_client_init`; `next_ms` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tern_client_step(
    client: *mut tern_client_t,
    now_ms: u64,
    next_ms: *mut u64,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    c.device.set_uptime_ms(now_ms);
    #[cfg(feature = "persistence")]
    c.restore_once();
    // SAFETY: `client` is valid (checked by `live`); `isr` is a field apart from the state
    // `c` borrows, and is only ever borrowed shared.
    #[cfg(feature = "observe")]
    let changes = unsafe { &(*core::ptr::addr_of!((*client).0.isr)).changes };
    #[cfg(feature = "observe")]
    c.core.take_changes(changes);
    c.dispatch_events(now_ms);
    c.receive(now_ms);
    c.flush(now_ms);
    c.dispatch_events(now_ms);
    let next = c.core.poll_timeout().map_or(u64::MAX, |t| t.max(now_ms));
    // A change signalled meanwhile: run again at once.
    #[cfg(feature = "observe")]
    let next = if changes.pending() { now_ms } else { next };
    if !next_ms.is_null() {
        // SAFETY: non-null and writable by the caller's contract.
        unsafe { *next_ms = next };
    }
    TERN_STATUS_OK
}

/// Hands the client one datagram received on `connection` (for platforms whose receive
/// path pushes). Responses go out through `send` before this returns.
///
/// # Safety
/// `client` from `tern_client_init`; `data` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn tern_client_input(
    client: *mut tern_client_t,
    connection: *mut c_void,
    data: *const u8,
    len: usize,
    now_ms: u64,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    if data.is_null() || connection.is_null() {
        return TERN_STATUS_NULL_ARG;
    }
    let Some(server) = c.server_of(connection) else {
        return TERN_STATUS_NOT_FOUND;
    };
    if len > MAX_MESSAGE_SIZE {
        return TERN_STATUS_NO_SPACE;
    }
    // SAFETY: non-null, `len` bytes guaranteed by the caller.
    let bytes = unsafe { core::slice::from_raw_parts(data, len) };
    c.device.set_uptime_ms(now_ms);
    c.standard.received(len, now_ms);
    c.handle(server, bytes, now_ms);
    c.flush(now_ms);
    c.dispatch_events(now_ms);
    TERN_STATUS_OK
}

/// Signals that the value of the path `ids[0..count]` (object, instance, resource, resource
/// instance; `count` 1 to 4, or 0 for everything) changed: observations of it, of what it
/// contains and of what contains it notify under their attributes. Safe to call from
/// another thread or an interrupt, also while `tern_client_step` runs, once
/// `tern_set_critical_section` has the platform's critical section (without one, call it
/// from the thread that steps the client); then wake that thread: the next
/// `tern_client_step` takes the change. Repeated changes of one path count once; when
/// `TERN_MAX_PENDING_CHANGES` paths wait, every observation counts as changed.
/// `TERN_STATUS_NULL_ARG` for a NULL `client` or `ids`, `TERN_STATUS_INVALID_ARG` for more
/// than 4 ids or an id above 65534, `TERN_STATUS_BAD_STATE` for a client not initialised.
/// Only in builds with the `observe` feature.
///
/// # Safety
/// `client` from `tern_client_init` (not concurrently closed); `ids` valid for `count`
/// entries.
#[cfg(feature = "observe")]
#[no_mangle]
pub unsafe extern "C" fn tern_resource_changed(
    client: *mut tern_client_t,
    ids: *const u16,
    count: usize,
) -> tern_status_t {
    if client.is_null() || ids.is_null() {
        return TERN_STATUS_NULL_ARG;
    }
    if misaligned(client.cast()) || count > 4 {
        return TERN_STATUS_INVALID_ARG;
    }
    // SAFETY: `client` is non-null and aligned. Only the `isr` part of the storage is
    // reached, through a raw-pointer projection (`addr_of!`), and only shared: every other
    // entry point (`tern_client_step` included) borrows the `state` field alone mutably, so
    // this never aliases a `&mut` even when it interrupts one of them. `Changes` is `Sync`:
    // its set is only touched inside a critical section.
    let isr = unsafe { &*core::ptr::addr_of!((*client).0.isr) };
    if isr.magic != MAGIC {
        return TERN_STATUS_BAD_STATE;
    }
    // SAFETY: non-null, `count` (at most 4) entries guaranteed by the caller.
    let ids = unsafe { core::slice::from_raw_parts(ids, count) };
    match crate::model::Path::new(ids) {
        Some(path) => {
            isr.changes.mark(&path);
            TERN_STATUS_OK
        }
        None => TERN_STATUS_INVALID_ARG,
    }
}

/// Starts de-registration from every server; keep calling `tern_client_step` until
/// `tern_client_is_idle` says it is done (or a deadline passes).
///
/// # Safety
/// `client` from `tern_client_init`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_deregister(client: *mut tern_client_t) -> tern_status_t {
    // SAFETY: forwarded.
    match unsafe { live(client) } {
        Ok(c) => {
            c.core.deregister();
            TERN_STATUS_OK
        }
        Err(s) => s,
    }
}

/// Asks every registered server for a registration Update now.
///
/// # Safety
/// `client` from `tern_client_init`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_update(client: *mut tern_client_t) -> tern_status_t {
    // SAFETY: forwarded.
    match unsafe { live(client) } {
        Ok(c) => {
            c.core.update(false);
            TERN_STATUS_OK
        }
        Err(s) => s,
    }
}

/// Registers again with every server (after a refusal or a de-registration).
///
/// # Safety
/// `client` from `tern_client_init`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_restart(
    client: *mut tern_client_t,
    now_ms: u64,
) -> tern_status_t {
    // SAFETY: forwarded.
    match unsafe { live(client) } {
        Ok(c) => {
            c.core.restart(now_ms);
            TERN_STATUS_OK
        }
        Err(s) => s,
    }
}

/// True when no server is registered or registering (after de-registration or refusal).
///
/// # Safety
/// `client` from `tern_client_init` or NULL (false).
#[no_mangle]
pub unsafe extern "C" fn tern_client_is_idle(client: *mut tern_client_t) -> bool {
    // SAFETY: forwarded.
    unsafe { live(client) }.is_ok_and(|c| c.core.is_idle())
}

/// Closes every connection and invalidates the client; its storage may then be reused.
///
/// # Safety
/// `client` from `tern_client_init`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_close(client: *mut tern_client_t) -> tern_status_t {
    // SAFETY: forwarded.
    match unsafe { live(client) } {
        Ok(c) => {
            for i in 0..CONNECTIONS {
                c.close_connection(i);
            }
            c.magic = 0;
            // SAFETY: `client` is valid (checked by `live`); `isr` is a field apart from the
            // state `c` borrows.
            #[cfg(feature = "observe")]
            unsafe {
                addr_of_mut!((*client).0.isr.magic).write(0)
            };
            TERN_STATUS_OK
        }
        Err(s) => s,
    }
}

/// A static NUL-terminated description of a status.
#[no_mangle]
pub extern "C" fn tern_status_str(status: tern_status_t) -> *const c_char {
    // Row `status + 8` of STATUS_OFFSETS is the offset of its text in STATUS_TEXT.
    let row = (status as i32 + 8) as usize;
    let at = STATUS_OFFSETS.get(row).map_or(0, |&o| usize::from(o));
    STATUS_TEXT.get(at..).unwrap_or(STATUS_TEXT).as_ptr().cast()
}

/// The statuses' descriptions, NUL-terminated, from `TERN_STATUS_INTERNAL` (-8) up to
/// `TERN_STATUS_WOULD_BLOCK` (1).
const STATUS_TEXT: &[u8] =
    b"internal error\0bad state\0i/o error\0not allowed\0not found\0no space\0\
invalid argument\0null argument\0ok\0would block\0";
const STATUS_OFFSETS: [u8; 10] = [0, 15, 25, 35, 47, 57, 66, 83, 97, 100];

/// The engine and the `Platform` it needs, borrowed from disjoint fields of a client (so
/// that a caller may hold other fields, such as the receive buffer, at the same time).
macro_rules! split {
    ($s:expr) => {
        (
            &mut $s.core,
            Env {
                platform: &$s.platform,
                device: &mut $s.device,
                standard: &mut $s.standard,
                objects: &mut $s.objects,
                #[cfg(feature = "firmware-update")]
                firmware: &mut $s.firmware,
            },
        )
    };
}

impl State {
    fn env(&mut self) -> (&mut Client, Env<'_>) {
        split!(self)
    }

    fn server_of(&self, connection: *mut c_void) -> Option<u8> {
        let i = self
            .connections
            .iter()
            .position(|&c| !c.is_null() && c == connection)?;
        u8::try_from(i).ok()
    }

    fn handle(&mut self, server: u8, data: &[u8], now: u64) {
        let (core, mut env) = self.env();
        core.handle_datagram(server, data, now, &mut env);
    }

    /// Drains the `recv` callback of every open connection (bounded per connection).
    fn receive(&mut self, now: u64) {
        let Some(recv) = self.platform.recv else {
            return;
        };
        for i in 0..CONNECTIONS {
            let Some(&conn) = self.connections.get(i).filter(|c| !c.is_null()) else {
                continue;
            };
            let Ok(server) = u8::try_from(i) else {
                continue;
            };
            for _ in 0..RECV_BURST {
                let mut len = 0usize;
                let buf = self.core.receive_buffer();
                let cap = buf.len();
                // SAFETY: `buf` is writable for `cap` bytes; `len` is a valid local.
                let st = unsafe { recv(self.platform.user, conn, buf.as_mut_ptr(), cap, &mut len) };
                if st != TERN_STATUS_OK {
                    break;
                }
                let n = len.min(cap);
                self.standard.received(n, now);
                let (core, mut env) = split!(self);
                core.handle_received(server, n, now, &mut env);
                self.flush(now);
            }
        }
    }

    /// Sends everything the engine has to send.
    fn flush(&mut self, now: u64) {
        let (send, user) = (self.platform.send, self.platform.user);
        let connections = self.connections;
        let (core, mut env) = self.env();
        // Bounded: each call either sends or returns None; the engine has finitely many
        // datagrams due at one instant.
        for _ in 0..(2 * MAX_SERVERS + 2) {
            let Some(t) = core.poll_transmit(now, &mut env) else {
                break;
            };
            let conn = connections
                .get(usize::from(t.server))
                .copied()
                .unwrap_or(core::ptr::null_mut());
            if let (Some(f), false) = (send, conn.is_null()) {
                // SAFETY: the datagram is valid for the call; `conn` came from `open`.
                let st = unsafe { f(user, conn, t.data.as_ptr(), t.data.len()) };
                env.standard.sent(st, t.data.len(), now);
            }
        }
    }

    /// Turns engine events into connection actions, log lines and application events.
    fn dispatch_events(&mut self, now: u64) {
        if self.device.take_reboot_request() {
            self.note(NOTE_REBOOT, 0, 0, 0);
        }
        if self.device.take_factory_reset_request() {
            self.note(NOTE_FACTORY_RESET, 0, 0, 0);
        }
        while let Some(e) = self.core.poll_event() {
            self.event(e, now);
        }
        #[cfg(feature = "firmware-update")]
        self.firmware_events();
        #[cfg(feature = "persistence")]
        self.save_if_changed();
    }

    fn event(&mut self, e: Event, now: u64) {
        #[allow(unused_imports)]
        use tern_event_kind_t::*;
        // (row of NOTES, server, code, value)
        let (note, server, code, value) = match e {
            Event::ConnectionNeeded { server } => return self.open_connection(server, now),
            Event::ConnectionDone { server } => return self.close_connection(usize::from(server)),
            #[cfg(feature = "firmware-update")]
            Event::DownloadConnectionNeeded => return self.open_download(),
            #[cfg(feature = "firmware-update")]
            Event::DownloadProgress { received, .. } => {
                use tern_event_kind_t::TERN_EVENT_FIRMWARE_PROGRESS;
                return self.firmware_event(TERN_EVENT_FIRMWARE_PROGRESS, 0, received);
            }
            Event::Registered { server } => (NOTE_REGISTERED, server, 0, 0),
            Event::RegistrationRejected { server, code } => {
                (NOTE_REJECTED, server, code_num(code), 0)
            }
            Event::RegistrationRetry { server, delay_ms } => (NOTE_RETRY, server, 0, delay_ms),
            Event::Updated { server } => (NOTE_UPDATED, server, 0, 0),
            Event::UpdateFailed { server } => (NOTE_UPDATE_FAILED, server, 0, 0),
            Event::Deregistered { server } => (NOTE_DEREGISTERED, server, 0, 0),
            Event::Dropped { server, reason } => (NOTE_DROPPED, server, 0, reason as u32),
            Event::EventsLost { count } => (NOTE_EVENTS_LOST, u8::MAX, 0, u32::from(count)),
            Event::RegistrationFailed { server } => (NOTE_REGISTRATION_FAILED, server, 0, 0),
            #[cfg(feature = "observe")]
            Event::ObservationEnded { server, path } => {
                let id = |i: Option<u16>| u32::from(i.unwrap_or(u16::MAX));
                if let Some(f) = self.platform.event {
                    let e = tern_event_t {
                        kind: tern_event_kind_t::TERN_EVENT_OBSERVATION_ENDED,
                        server,
                        code: 0,
                        value: (id(path.object_id()) << 16) | id(path.instance_id()),
                    };
                    // SAFETY: `e` lives across the call.
                    unsafe { f(self.platform.user, &e) };
                }
                return;
            }
            #[cfg(feature = "send")]
            Event::Sent { server } => return self.emit(TERN_EVENT_SEND_SUCCEEDED, server, 0, 0),
            #[cfg(feature = "send")]
            Event::SendRefused { server, code } => {
                return self.emit(TERN_EVENT_SEND_FAILED, server, code_num(code), 0)
            }
            #[cfg(feature = "send")]
            Event::SendTimeout { server } => {
                return self.emit(TERN_EVENT_SEND_TIMEOUT, server, 0, 0)
            }
            #[cfg(feature = "bootstrap")]
            Event::Bootstrapped => {
                return self.emit(
                    TERN_EVENT_BOOTSTRAPPED,
                    crate::client::bootstrap::BOOTSTRAP_SLOT,
                    0,
                    0,
                )
            }
            #[cfg(feature = "bootstrap")]
            Event::BootstrapFailed => {
                return self.emit(
                    TERN_EVENT_BOOTSTRAP_FAILED,
                    crate::client::bootstrap::BOOTSTRAP_SLOT,
                    0,
                    0,
                )
            }
            #[cfg(feature = "queue-mode")]
            Event::Sleeping { server } => {
                return self.emit(TERN_EVENT_QUEUE_SLEEPING, server, 0, 0)
            }
            #[cfg(feature = "queue-mode")]
            Event::Awake { server } => return self.emit(TERN_EVENT_QUEUE_AWAKE, server, 0, 0),
            #[cfg(all(feature = "queue-mode", feature = "observe"))]
            Event::NotificationsDropped { server, count } => {
                let value = u32::from(count);
                return self.emit(TERN_EVENT_NOTIFICATIONS_DROPPED, server, 0, value);
            }
            #[cfg(feature = "dtls")]
            Event::HandshakeFailed { server, error } => {
                let code = crate::dtls::Session::error_code(error);
                return self.emit(TERN_EVENT_DTLS_FAILED, server, code, 0);
            }
        };
        self.note(note, server, code, value);
    }

    fn open_connection(&mut self, server: u8, now: u64) {
        let i = usize::from(server);
        let account = match self.core.servers().get(i) {
            Some(s) => Some((s.uri.as_str(), s.security_iid)),
            #[cfg(feature = "bootstrap")]
            None => self
                .core
                .bootstrap_account()
                .map(|a| (a.uri.as_str(), a.iid)),
            #[cfg(not(feature = "bootstrap"))]
            None => None,
        };
        let (Some(open), Some((uri, security_iid))) = (self.platform.open, account) else {
            return;
        };
        #[cfg(feature = "platform-credentials")]
        if !self.hand_credentials(server) {
            let delay = self.core.connection_failed(server, now);
            self.note(NOTE_CONNECTION_FAILED, server, 0, delay);
            return;
        }
        let mut conn: *mut c_void = core::ptr::null_mut();
        let uri = uri.as_bytes();
        // SAFETY: `uri` is valid for the call; `conn` is a valid out-pointer.
        let st = unsafe {
            open(
                self.platform.user,
                uri.as_ptr().cast(),
                uri.len(),
                security_iid,
                &mut conn,
            )
        };
        match (st, self.connections.get_mut(i)) {
            (TERN_STATUS_OK, Some(slot)) if !conn.is_null() => {
                *slot = conn;
                self.core.connection_opened(server);
            }
            _ => {
                let delay = self.core.connection_failed(server, now);
                self.note(NOTE_CONNECTION_FAILED, server, 0, delay);
            }
        }
    }

    /// Hands `server`'s bootstrap-written keys, if it has some, to the platform's
    /// `credentials` callback: false when the platform refused them.
    #[cfg(feature = "platform-credentials")]
    fn hand_credentials(&self, server: u8) -> bool {
        let (Some(f), Some((iid, mode, keys))) = (
            self.platform.credentials,
            self.core.platform_credentials(server),
        ) else {
            return true;
        };
        let c = tern_credentials_t {
            security_instance: iid,
            mode,
            identity: keys.identity.as_ptr(),
            identity_len: keys.identity.len(),
            key: keys.key.as_ptr(),
            key_len: keys.key.len(),
        };
        // SAFETY: `c` and the keys it points at live across the call.
        unsafe { f(self.platform.user, &c) == TERN_STATUS_OK }
    }

    /// Reports row `note` of `NOTES`: its log line, then its event. The log line's number
    /// is the code, else the value (at most one of them is not 0), except that a failed
    /// connection's line has none (its value is the retry delay).
    fn note(&self, note: usize, server: u8, code: u16, value: u32) {
        let Some(&(kind, level, line)) = NOTES.get(note) else {
            return;
        };
        let user = self.platform.user;
        let log_value = if note == NOTE_CONNECTION_FAILED {
            0
        } else {
            u32::from(code) | value
        };
        if let (Some(level), Some(f), Some(msg)) =
            (level, self.platform.log, LINES.get(usize::from(line)..))
        {
            // SAFETY: `msg` starts a NUL-terminated line of the static `LINES`.
            unsafe { f(user, level, msg.as_ptr().cast(), server, log_value) };
        }
        if let Some(kind) = kind {
            self.emit(kind, server, code, value);
        }
    }

    /// Hands the application an event.
    pub(super) fn emit(&self, kind: tern_event_kind_t, server: u8, code: u16, value: u32) {
        if let Some(f) = self.platform.event {
            let e = tern_event_t {
                kind,
                server,
                code,
                value,
            };
            // SAFETY: `e` lives across the call.
            unsafe { f(self.platform.user, &e) };
        }
    }

    fn close_connection(&mut self, i: usize) {
        let Some(slot) = self.connections.get_mut(i) else {
            return;
        };
        let conn = core::mem::replace(slot, core::ptr::null_mut());
        if let (Some(close), false) = (self.platform.close, conn.is_null()) {
            // SAFETY: `conn` came from `open` and is closed once.
            unsafe { close(self.platform.user, conn) };
        }
    }
}

/// A CoAP code as class*100+detail (4.03 -> 403).
fn code_num(code: crate::coap::Code) -> u16 {
    u16::from(code.class()) * 100 + u16::from(code.detail())
}

/// The log lines, NUL-terminated, one after the other; `NOTES` holds their offsets.
const LINES: &[u8] =
    b"registration rejected\0registration failed, retrying\0update failed, registering again\0\
dropped a datagram\0events lost\0opening the connection failed\0\
registration failed, giving up\0";

/// What the application hears of each thing that happens: the event (if any), the log
/// level and the offset of the log line in `LINES` (if any). The rows of the events are at
/// their `tern_event_kind_t` values.
type Note = (Option<tern_event_kind_t>, Option<tern_log_level_t>, u8);
const NOTES: [Note; 13] = {
    use tern_event_kind_t::*;
    use tern_log_level_t::*;
    [
        (None, None, 0),
        (Some(TERN_EVENT_REGISTERED), None, 0),
        (
            Some(TERN_EVENT_REGISTRATION_REJECTED),
            Some(TERN_LOG_ERROR),
            0,
        ),
        (Some(TERN_EVENT_REGISTRATION_RETRY), Some(TERN_LOG_WARN), 22),
        (Some(TERN_EVENT_UPDATED), None, 0),
        (Some(TERN_EVENT_UPDATE_FAILED), Some(TERN_LOG_WARN), 52),
        (Some(TERN_EVENT_DEREGISTERED), None, 0),
        (Some(TERN_EVENT_REBOOT_REQUESTED), None, 0),
        (
            Some(TERN_EVENT_CONNECTION_FAILED),
            Some(TERN_LOG_ERROR),
            116,
        ),
        (Some(TERN_EVENT_FACTORY_RESET_REQUESTED), None, 0),
        (None, Some(TERN_LOG_DEBUG), 85),
        (None, Some(TERN_LOG_WARN), 104),
        (
            Some(TERN_EVENT_REGISTRATION_FAILED),
            Some(TERN_LOG_ERROR),
            146,
        ),
    ]
};
const NOTE_REGISTERED: usize = 1;
const NOTE_REJECTED: usize = 2;
const NOTE_RETRY: usize = 3;
const NOTE_UPDATED: usize = 4;
const NOTE_UPDATE_FAILED: usize = 5;
const NOTE_DEREGISTERED: usize = 6;
const NOTE_REBOOT: usize = 7;
const NOTE_CONNECTION_FAILED: usize = 8;
const NOTE_FACTORY_RESET: usize = 9;
const NOTE_DROPPED: usize = 10;
const NOTE_EVENTS_LOST: usize = 11;
const NOTE_REGISTRATION_FAILED: usize = 12;

/// `TERN_CLIENT_STORAGE_SIZE` of the header, with this build's capacities.
pub const CLIENT_STORAGE_SIZE: usize = {
    use crate::config::*;
    let ptr = size_of::<usize>();
    // The datagram buffer, and the cache of a short response (64 bytes).
    MAX_MESSAGE_SIZE
        + 64
        + MAX_ENDPOINT_LEN
        // A server's Server object resources (registration timing, `server-extra`), its
        // block-wise and Disable state: 112.
        + MAX_SERVERS * (MAX_URI_LEN + MAX_LOCATION_LEN + 16 * ptr + 112)
        + DEDUP_ENTRIES * 16
        + crate::client::EVENT_SLOTS * 16
        + MAX_OBJECTS * (4 * ptr + 2 * MAX_INSTANCES + 8)
        + MAX_ATTRIBUTES * 72
        + MAX_ACL_INSTANCES * (8 + 4 * (MAX_SERVERS + 1))
        // An observation (40 bytes on 32-bit targets), a pending change (a path).
        + MAX_OBSERVATIONS * 48
        + MAX_PENDING_CHANGES * 10
        + MAX_PACKAGE_URI_LEN
        // A Send: its paths and state.
        + 10 * MAX_SEND_PATHS
        // Notifications held while a server sleeps or is offline, and their length.
        + NOTIFY_QUEUE_BYTES
        + 8
        + 8
        + 128
        + 128
        + 32 * ptr
        // The optional standard objects (4, 6, 7) and the Device object's time texts.
        + 256
        + 8 * ptr
        // The bootstrap: its account and the staging copy of the Security instances (a
        // URI and 10 bytes each) and of the Server object resources (60 bytes each), its
        // request and state.
        + (MAX_SERVERS + 2) * (MAX_URI_LEN + 32)
        + MAX_SERVERS * 64
        + 8 * ptr
        + 96
        // DTLS sessions (with its slot, a PSK session takes 1160 bytes on 32-bit
        // targets, one with raw public keys 1344) and the buffer datagrams are sealed in; the
        // keys each bootstrap Security instance may carry (336 bytes with raw public keys).
        + if MAX_DTLS_SESSIONS != 0 {
            MAX_DTLS_SESSIONS * 1376 + MAX_MESSAGE_SIZE + 48 + (MAX_SERVERS + 2) * 336
        } else {
            0
        }
        // The pre-shared keys kept for the platform: in each staged Security instance, the
        // bootstrap account and each server (two 64-byte buffers and their lengths).
        + if cfg!(feature = "platform-credentials") {
            (2 * MAX_SERVERS + 2) * 152
        } else {
            0
        }
};

const _: () = assert!(
    size_of::<tern_client_t>() <= CLIENT_STORAGE_SIZE,
    "TERN_CLIENT_STORAGE_SIZE is too small"
);
const _: () = assert!(
    align_of::<tern_client_t>() <= 8,
    "tern_client_storage_t aligns to 8"
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row's event sits at its own kind, and every log line offset starts a line.
    #[test]
    fn notes_match_kinds_and_lines() {
        for (row, &(kind, level, line)) in NOTES.iter().enumerate() {
            if let Some(kind) = kind {
                assert_eq!(kind as usize, row);
            }
            let line = usize::from(line);
            assert!(level.is_none() || line == 0 || LINES.get(line - 1) == Some(&0));
        }
        let lines: std::vec::Vec<&[u8]> = LINES.split(|&b| b == 0).collect();
        assert_eq!(lines.len(), 8);
        let starts = [0usize, 22, 52, 85, 104, 116, 146];
        for (s, l) in starts.iter().zip(&lines) {
            assert_eq!(LINES.get(*s..*s + l.len()), Some(*l));
        }
    }

    #[test]
    fn status_texts() {
        let text = |s| {
            // SAFETY: tern_status_str returns a static NUL-terminated string.
            unsafe { core::ffi::CStr::from_ptr(tern_status_str(s)) }
                .to_str()
                .unwrap_or("?")
        };
        assert_eq!(text(TERN_STATUS_OK), "ok");
        assert_eq!(text(TERN_STATUS_WOULD_BLOCK), "would block");
        assert_eq!(text(TERN_STATUS_NULL_ARG), "null argument");
        assert_eq!(text(TERN_STATUS_INVALID_ARG), "invalid argument");
        assert_eq!(text(TERN_STATUS_NO_SPACE), "no space");
        assert_eq!(text(TERN_STATUS_NOT_FOUND), "not found");
        assert_eq!(text(TERN_STATUS_NOT_ALLOWED), "not allowed");
        assert_eq!(text(TERN_STATUS_IO), "i/o error");
        assert_eq!(text(TERN_STATUS_BAD_STATE), "bad state");
        assert_eq!(text(TERN_STATUS_INTERNAL), "internal error");
    }
}
