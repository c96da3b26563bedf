//! Application objects defined in C: a checked view of a `tern_object_def_t` plus its
//! instance list, behind the engine's `Object` trait.

use core::ffi::c_void;

use heapless::Vec;

use super::types::*;
use crate::coap::Code;
use crate::config::MAX_INSTANCES;
use crate::model::{Object, Operations, ResourceDef, ResourceType, Value, ValueSink};

/// One registered C object.
pub struct CObject {
    /// The definition; its resource table is checked once by [`CObject::new`] and read
    /// through [`CObject::resources`].
    def: &'static tern_object_def_t,
    user: *mut c_void,
    /// Instance ids, in the order they were added.
    pub instances: Vec<u16, MAX_INSTANCES>,
}

impl CObject {
    /// Checks a definition: id range, table rows (and their value pointers), and that each
    /// operation a row without a value pointer needs has its handler.
    ///
    /// # Safety
    /// `def` must point to a definition (and table) that stays valid and unchanged for as
    /// long as the client lives; `tern_client_add_object` documents this.
    #[inline(always)]
    pub unsafe fn new(
        def: *const tern_object_def_t,
        user: *mut c_void,
    ) -> Result<CObject, tern_status_t> {
        // SAFETY: the caller guarantees a valid, 'static definition or NULL.
        let def: &'static tern_object_def_t =
            unsafe { def.as_ref() }.ok_or(TERN_STATUS_NULL_ARG)?;
        if matches!(def.id, 0 | 1 | 3) || standard_id(def.id) || def.id > crate::model::path::MAX_ID
        {
            return Err(TERN_STATUS_INVALID_ARG);
        }
        if def.resources.is_null() && def.resource_count != 0 {
            return Err(TERN_STATUS_NULL_ARG);
        }
        let resources = table(def);
        // The operations that some row serves through a handler.
        let mut ops = 0u8;
        for (i, r) in resources.iter().enumerate() {
            let unique = !resources.iter().take(i).any(|earlier| earlier.id == r.id);
            // A value pointer holds one plain value: not on an executable (or typeless) or
            // a multiple-instance row, and a string buffer has room for the NUL at least.
            let pointer = !r.value.is_null();
            let text = r.r#type | 8 == ResourceType::CoreLnk as u8; // String or CoreLnk
            let bad_pointer = pointer
                && (!cfg!(feature = "value-pointers")
                    || r.r#type == 0
                    || r.operations & Operations::E.0 != 0
                    || r.multiple
                    || (text && r.value_size == 0));
            let ok = unique
                && !bad_pointer
                && ResourceType::from_u8(r.r#type).is_some()
                && r.operations <= 7
                && r.id <= crate::model::path::MAX_ID;
            if !ok {
                return Err(TERN_STATUS_INVALID_ARG);
            }
            if !pointer {
                ops |= r.operations;
            }
        }
        let missing = (ops & Operations::R.0 != 0 && def.read.is_none())
            || (ops & Operations::W.0 != 0 && def.write.is_none())
            || (ops & Operations::E.0 != 0 && def.execute.is_none());
        if missing {
            return Err(TERN_STATUS_NULL_ARG);
        }
        Ok(CObject {
            def,
            user,
            instances: Vec::new(),
        })
    }

    /// The resource table of the definition.
    fn resources(&self) -> &'static [tern_resource_def_t] {
        table(self.def)
    }

    /// The row of resource `rid` when it has a value pointer (never in a build without the
    /// `value-pointers` feature, which refuses such rows).
    fn pointed(&self, rid: u16) -> Option<&'static tern_resource_def_t> {
        if !cfg!(feature = "value-pointers") {
            return None;
        }
        self.resources()
            .iter()
            .find(|r| r.id == rid)
            .filter(|r| !r.value.is_null())
    }

    /// Adds an instance id; fails when it exists or there is no room.
    #[inline(always)]
    pub fn add_instance(&mut self, iid: u16) -> Result<(), tern_status_t> {
        if self.has(iid) {
            return Err(TERN_STATUS_INVALID_ARG);
        }
        self.instances.push(iid).map_err(|_| TERN_STATUS_NO_SPACE)
    }

    /// True when instance `iid` exists (a plain loop: `contains` unrolls and is larger).
    fn has(&self, iid: u16) -> bool {
        for &i in &self.instances {
            if i == iid {
                return true;
            }
        }
        false
    }

    /// Removes an instance id.
    pub fn remove_instance(&mut self, iid: u16) -> Result<(), tern_status_t> {
        if !self.has(iid) {
            return Err(TERN_STATUS_NOT_FOUND);
        }
        // Shifted by hand: `retain` moves with memmove, which would link compiler-builtins'
        // 1.5 KB copy of it.
        let mut kept = 0;
        for read in 0..self.instances.len() {
            let id = self.instances.get(read).copied().unwrap_or(iid);
            if id != iid {
                if let Some(slot) = self.instances.get_mut(kept) {
                    *slot = id;
                }
                kept += 1;
            }
        }
        self.instances.truncate(kept);
        Ok(())
    }
}

/// The resource table of `def`: `resource_count` rows at `resources` (which may be NULL
/// only without rows: `CObject::new` refuses a definition where it is not).
fn table(def: &'static tern_object_def_t) -> &'static [tern_resource_def_t] {
    if def.resource_count == 0 {
        return &[];
    }
    // SAFETY: rows, so not NULL (checked by `CObject::new`), and the caller of `tern_client_add_object` guarantees that the
    // definition and its `resource_count` rows stay valid and unchanged for as long as the
    // client lives.
    unsafe { core::slice::from_raw_parts(def.resources, def.resource_count) }
}

fn empty_value() -> tern_value_t {
    // SAFETY: every field of `tern_value_t` is an integer, a float, a bool or a raw pointer,
    // for all of which all-zero bytes are a valid value (0, 0.0, false, NULL).
    unsafe { core::mem::MaybeUninit::<tern_value_t>::zeroed().assume_init() }
}

/// Reads a C value as the engine's value of type `kind`; `None` when it does not match.
///
/// # Safety
/// `v.data` must point to `v.len` readable bytes when the type carries bytes.
unsafe fn from_c<'a>(v: &'a tern_value_t, kind: ResourceType) -> Option<Value<'a>> {
    if v.r#type != kind as u8 {
        return None;
    }
    Some(match kind {
        ResourceType::None => return None,
        ResourceType::Integer => Value::Integer(v.i),
        ResourceType::Time => Value::Time(v.i),
        ResourceType::Unsigned => Value::Unsigned(v.u),
        ResourceType::Float => Value::Float(v.f),
        ResourceType::Boolean => Value::Boolean(v.b),
        ResourceType::ObjLnk => Value::ObjLnk(v.link_object, v.link_instance),
        ResourceType::Opaque => Value::Opaque(match (v.data.is_null(), v.len) {
            (_, 0) => &[],
            (true, _) => return None,
            // SAFETY: the handler promised `len` readable bytes at `data` for this call.
            (false, n) => unsafe { core::slice::from_raw_parts(v.data, n) },
        }),
        ResourceType::String | ResourceType::CoreLnk => {
            let s = tern_str_t {
                ptr: v.data.cast(),
                len: v.len,
            };
            // SAFETY: the handler promised `len` readable bytes at `data` for this call.
            let (ptr, len) = unsafe { super::client::str_checked(s) };
            if ptr.is_null() {
                return None;
            }
            // SAFETY: `str_checked` found `len` bytes of UTF-8 at `ptr`, valid for `'a`.
            let text =
                unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(ptr, len)) };
            if matches!(kind, ResourceType::String) {
                Value::String(text)
            } else {
                Value::CoreLnk(text)
            }
        }
    })
}

/// The C form of an engine value (borrowing its bytes).
fn to_c(value: &Value<'_>) -> tern_value_t {
    let mut v = empty_value();
    v.r#type = value.kind() as u8;
    match *value {
        Value::String(s) | Value::CoreLnk(s) => (v.data, v.len) = (s.as_ptr(), s.len()),
        Value::Opaque(b) => (v.data, v.len) = (b.as_ptr(), b.len()),
        Value::Integer(i) | Value::Time(i) => v.i = i,
        Value::Unsigned(u) => v.u = u,
        Value::Float(f) => v.f = f,
        Value::Boolean(b) => v.b = b,
        Value::ObjLnk(o, i) => (v.link_object, v.link_instance) = (o, i),
    }
    v
}

/// Sets `v` (zeroed) to the C form of the value in the variable of row `r` of type `kind`
/// (`r.value` not NULL, checked by `CObject::new`), as a read handler would; `from_c` then
/// checks it.
///
/// # Safety
/// `r.value` must point to a live variable of the row's type (`tern_resource_def_t`).
unsafe fn load(r: &tern_resource_def_t, kind: ResourceType, v: &mut tern_value_t) {
    v.r#type = kind as u8;
    let p = r.value;
    // SAFETY (every read below): the caller guarantees a live variable of the row's type,
    // aligned as C aligns that type; a `bool` is read as a byte, so any byte is accepted.
    unsafe {
        match kind {
            ResourceType::Integer | ResourceType::Time => v.i = p.cast::<i64>().read(),
            ResourceType::Unsigned => v.u = p.cast::<u64>().read(),
            ResourceType::Float => v.f = p.cast::<f64>().read(),
            ResourceType::Boolean => v.b = p.cast::<u8>().read() != 0,
            ResourceType::ObjLnk => {
                let l = p.cast::<tern_objlnk_t>().read();
                (v.link_object, v.link_instance) = (l.object_id, l.instance_id);
            }
            ResourceType::String | ResourceType::CoreLnk => {
                let bytes = core::slice::from_raw_parts(p.cast::<u8>(), r.value_size);
                v.data = bytes.as_ptr();
                v.len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            }
            ResourceType::Opaque => {
                let b = p.cast::<tern_bytes_t>().read();
                v.len = b.len;
                // A length past the capacity reads as NULL data: `from_c` refuses it.
                if b.len <= b.capacity {
                    v.data = b.data;
                }
            }
            ResourceType::None => {}
        }
    }
}

/// Checks that row `r`'s variable holds `value`: its type, and the size of a string or
/// opaque value (4.13 when it does not fit).
///
/// # Safety
/// As for `load`.
unsafe fn fits(r: &tern_resource_def_t, value: &Value<'_>) -> Result<(), Code> {
    if value.kind() as u8 != r.r#type {
        return Err(Code::BAD_REQUEST);
    }
    let fits = match *value {
        Value::String(s) | Value::CoreLnk(s) => s.len() < r.value_size,
        Value::Opaque(b) => {
            // SAFETY: the caller guarantees a live `tern_bytes_t`.
            let t = unsafe { r.value.cast::<tern_bytes_t>().read() };
            b.len() <= t.capacity && (b.is_empty() || !t.data.is_null())
        }
        _ => true,
    };
    if fits {
        Ok(())
    } else {
        Err(Code::REQUEST_ENTITY_TOO_LARGE)
    }
}

/// Stores `value` in row `r`'s variable after `fits` accepted it.
///
/// # Safety
/// As for `load`, and `fits(r, value)` returned `Ok`.
unsafe fn store(r: &tern_resource_def_t, value: &Value<'_>) {
    let p = r.value;
    // SAFETY (every write below): a live variable of the row's type; `fits` checked that
    // strings and bytes fit their buffers.
    unsafe {
        match *value {
            Value::Integer(i) | Value::Time(i) => p.cast::<i64>().write(i),
            Value::Unsigned(u) => p.cast::<u64>().write(u),
            Value::Float(f) => p.cast::<f64>().write(f),
            Value::Boolean(b) => p.cast::<bool>().write(b),
            Value::ObjLnk(object_id, instance_id) => {
                p.cast::<tern_objlnk_t>().write(tern_objlnk_t {
                    object_id,
                    instance_id,
                })
            }
            Value::String(s) | Value::CoreLnk(s) => {
                let dst = p.cast::<u8>();
                core::ptr::copy_nonoverlapping(s.as_ptr(), dst, s.len());
                dst.add(s.len()).write(0);
            }
            Value::Opaque(b) => {
                let t = p.cast::<tern_bytes_t>();
                if !b.is_empty() {
                    core::ptr::copy_nonoverlapping(b.as_ptr(), (*t).data, b.len());
                }
                (*t).len = b.len();
            }
        }
    }
}

/// Multiple-instance resources are read at most this many instances deep.
const MAX_RESOURCE_INSTANCES: usize = 1024;

impl Object for CObject {
    fn id(&self) -> u16 {
        self.def.id
    }

    fn version(&self) -> (u8, u8) {
        (self.def.version_major, self.def.version_minor)
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        let r = self.resources().get(index)?;
        let kind = ResourceType::from_u8(r.r#type)?;
        Some(ResourceDef::new(
            r.id,
            kind,
            Operations(r.operations & 7),
            r.multiple,
        ))
    }

    fn instance(&self, index: usize) -> Option<u16> {
        self.instances.get(index).copied()
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        let def = self.resource(rid).ok_or(Code::NOT_FOUND)?;
        let pointed = self.pointed(rid);
        let count = if def.multiple {
            MAX_RESOURCE_INSTANCES
        } else {
            1
        };
        for index in 0..count {
            let mut v = empty_value();
            let mut ri = 0u16;
            let status = match (pointed, self.def.read) {
                (Some(r), _) => {
                    // SAFETY: `CObject::new` checked the row (single-instance, so this runs
                    // once); the application keeps its variable alive.
                    unsafe { load(r, def.kind, &mut v) };
                    TERN_STATUS_OK
                }
                // SAFETY: both out-pointers are valid locals; the handler is the C object's own.
                (None, Some(read)) => unsafe { read(self.user, iid, rid, index, &mut ri, &mut v) },
                (None, None) => TERN_STATUS_NOT_ALLOWED,
            };
            if status == TERN_STATUS_NOT_FOUND && def.multiple {
                return Ok(());
            }
            status.check()?;
            // SAFETY: the handler or `load` set `data`/`len` to bytes valid until we return.
            let value = unsafe { from_c(&v, def.kind) }.ok_or(Code::INTERNAL_SERVER_ERROR)?;
            out.value(def.multiple.then_some(ri), &value)?;
        }
        Ok(())
    }

    #[cfg(feature = "create-delete")]
    fn create(&mut self, iid: u16) -> Result<(), Code> {
        let create = self.def.create_instance.ok_or(Code::METHOD_NOT_ALLOWED)?;
        if self.instances.is_full() {
            return Err(Code::INTERNAL_SERVER_ERROR);
        }
        // SAFETY: the handler is the C object's own.
        unsafe { create(self.user, iid) }.check()?;
        self.add_instance(iid)
            .map_err(|_| Code::INTERNAL_SERVER_ERROR)
    }

    #[cfg(feature = "create-delete")]
    fn delete(&mut self, iid: u16) -> Result<(), Code> {
        let delete = self.def.delete_instance.ok_or(Code::METHOD_NOT_ALLOWED)?;
        // SAFETY: the handler is the C object's own.
        unsafe { delete(self.user, iid) }.check()?;
        self.remove_instance(iid).map_err(|_| Code::NOT_FOUND)
    }

    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        if let Some(r) = self.pointed(rid) {
            // SAFETY: `CObject::new` checked the row; the application keeps its variable.
            unsafe {
                fits(r, value)?;
                store(r, value);
            }
            return Ok(());
        }
        let write = self.def.write.ok_or(Code::METHOD_NOT_ALLOWED)?;
        let v = to_c(value);
        let ri = riid.map_or(-1, i32::from);
        // SAFETY: `v` and the bytes it borrows live across the call.
        unsafe { write(self.user, iid, rid, ri, &v) }.check()
    }

    /// A value bound for a variable must fit it (a string its buffer, bytes their capacity).
    #[cfg(feature = "value-pointers")]
    fn check(
        &mut self,
        _iid: u16,
        rid: u16,
        _riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        match self.pointed(rid) {
            // SAFETY: `CObject::new` checked the row; the application keeps its variable.
            Some(r) => unsafe { fits(r, value) },
            None => Ok(()),
        }
    }

    fn clear_resource(&mut self, iid: u16, rid: u16) -> Result<(), Code> {
        match self.def.clear_resource {
            // SAFETY: a handler the caller supplied, called with plain integers.
            Some(clear) => unsafe { clear(self.user, iid, rid) }.check(),
            None => Ok(()),
        }
    }

    fn execute(&mut self, iid: u16, rid: u16, args: &[u8]) -> Result<(), Code> {
        let execute = self.def.execute.ok_or(Code::METHOD_NOT_ALLOWED)?;
        // SAFETY: `args` lives across the call.
        unsafe { execute(self.user, iid, rid, args.as_ptr(), args.len()) }.check()
    }

    #[cfg(feature = "blockwise")]
    fn write_block(
        &mut self,
        iid: u16,
        rid: u16,
        offset: u32,
        data: &[u8],
        last: bool,
    ) -> Result<(), Code> {
        let write_block = self.def.write_block.ok_or(Code::REQUEST_ENTITY_TOO_LARGE)?;
        // SAFETY: `data` lives across the call.
        unsafe { write_block(self.user, iid, rid, offset, data.as_ptr(), data.len(), last) }.check()
    }
}

/// True for the id of an optional standard object this build has (4, 6, 7).
fn standard_id(id: u16) -> bool {
    (cfg!(feature = "connectivity-monitoring") && id == 4)
        || (cfg!(feature = "firmware-update") && id == 5)
        || (cfg!(feature = "location") && id == 6)
        || (cfg!(feature = "connectivity-statistics") && id == 7)
}
