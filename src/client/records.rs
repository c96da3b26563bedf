//! Read and Write in the record formats (SenML JSON and CBOR, LwM2M JSON and CBOR): a
//! Read streams one record per value into the response; a Write checks every record
//! (path, resource, type) before any value reaches the object.

use super::dm::{format_code, store, writable};
use crate::buf::Writer;
use crate::coap::{opt, Code, MessageBuilder};
use crate::formats::records::{Decoder, Encoder};
use crate::model::{object, Object, Operations, Path, ResourceDef, Value, ValueSink};

/// Streams the values of one resource as records.
struct RecordSink<'e, 'w, 'b> {
    enc: &'e mut Encoder<'w, 'b>,
    /// `/oid/iid/rid`.
    path: Path,
    want: Option<u16>,
    count: usize,
}

impl ValueSink for RecordSink<'_, '_, '_> {
    fn value(&mut self, instance: Option<u16>, value: &Value<'_>) -> Result<(), Code> {
        let path = match (instance, self.want) {
            (Some(ri), Some(want)) if ri != want => return Ok(()),
            (Some(ri), _) => {
                let mut ids = [ri; 4];
                for (d, s) in ids.iter_mut().zip(self.path.ids()) {
                    *d = *s;
                }
                Path::new(&ids).ok_or(Code::INTERNAL_SERVER_ERROR)?
            }
            (None, _) => self.path,
        };
        self.count += 1;
        self.enc.record(&path, value).map_err(format_code)
    }
}

/// A Read of `path` in record format `format`; `def` is the resource the path names, if
/// it names one.
pub fn read(
    path: &Path,
    def: Option<ResourceDef>,
    format: u16,
    obj: &mut dyn Object,
    w: &mut Writer<'_>,
) -> Result<(), Code> {
    let mut enc = Encoder::new(format, w, *path)
        .ok_or(Code::NOT_ACCEPTABLE)?
        .map_err(format_code)?;
    if read_into(&mut enc, path, def, obj)? == 0 && def.is_some() {
        return Err(Code::NOT_FOUND);
    }
    enc.finish().map_err(format_code)
}

/// Writes the values at `path` of `obj` as records; returns how many.
fn read_into(
    enc: &mut Encoder<'_, '_>,
    path: &Path,
    def: Option<ResourceDef>,
    obj: &mut dyn Object,
) -> Result<usize, Code> {
    let oid = obj.id();
    match (path.instance_id(), def) {
        (Some(iid), Some(def)) => resource(enc, obj, oid, iid, def, path.resource_instance_id()),
        (Some(iid), None) => instance(enc, obj, oid, iid),
        _ => {
            let (mut i, mut n) = (0, 0);
            while let Some(iid) = obj.instance(i) {
                n += instance(enc, obj, oid, iid)?;
                i += 1;
            }
            Ok(n)
        }
    }
}

/// Every readable resource of an instance; resources the instance lacks are skipped.
fn instance(
    enc: &mut Encoder<'_, '_>,
    obj: &mut dyn Object,
    oid: u16,
    iid: u16,
) -> Result<usize, Code> {
    let (mut i, mut n) = (0, 0);
    while let Some(def) = obj.resource_at(i) {
        i += 1;
        if !def.ops.allows(Operations::R) {
            continue;
        }
        match resource(enc, obj, oid, iid, def, None) {
            Ok(count) => n += count,
            Err(Code::NOT_FOUND) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The values of one resource; returns how many were written.
fn resource(
    enc: &mut Encoder<'_, '_>,
    obj: &mut dyn Object,
    oid: u16,
    iid: u16,
    def: ResourceDef,
    want: Option<u16>,
) -> Result<usize, Code> {
    let mut sink = RecordSink {
        enc,
        path: Path::resource(oid, iid, def.id),
        want,
        count: 0,
    };
    obj.read(iid, def.id, &mut sink)?;
    Ok(sink.count)
}

/// A Write of `path` (an instance or a resource of `obj`) with a payload in record format
/// `format`. `scratch` holds decoded strings and data while they are written.
///
/// With `create`, the instance is created between the check and the writes.
pub fn write(
    format: u16,
    data: &[u8],
    path: &Path,
    obj: &mut dyn Object,
    scratch: &mut [u8],
    create: bool,
) -> Result<(), Code> {
    let iid = path.instance_id().ok_or(Code::METHOD_NOT_ALLOWED)?;
    let mut any = false;
    for apply in [false, true] {
        #[cfg(feature = "create-delete")]
        if apply && create {
            obj.create(iid)?;
        }
        let mut dec = Decoder::new(format, data)
            .ok_or(Code::UNSUPPORTED_CONTENT_FORMAT)?
            .map_err(format_code)?;
        while let Some(rec) = dec.next() {
            let rec = rec.map_err(format_code)?;
            let (def, riid) = target(&rec.path, path, obj, create)?;
            let raw = rec.value.ok_or(Code::BAD_REQUEST)?;
            let v = dec.value(raw, def.kind, scratch);
            store(obj, iid, def.id, riid, &v, apply)?;
            any = true;
        }
    }
    if any {
        Ok(())
    } else {
        Err(Code::BAD_REQUEST)
    }
}

/// The writable resource a record at `rec` names, below the request's `path`, and its
/// resource instance id (which a multiple resource needs and a single one must not have).
fn target(
    rec: &Path,
    path: &Path,
    obj: &dyn Object,
    create: bool,
) -> Result<(ResourceDef, Option<u16>), Code> {
    if !rec.starts_with(path) {
        return Err(Code::BAD_REQUEST);
    }
    let rid = rec.resource_id().ok_or(Code::BAD_REQUEST)?;
    let def = object::resource(obj, rid).ok_or(Code::NOT_FOUND)?;
    writable(def, create)?;
    let riid = rec.resource_instance_id();
    if riid.is_some() != def.multiple {
        return Err(Code::BAD_REQUEST);
    }
    Ok((def, riid))
}

/// Finds objects by path for the composite operations, which span objects.
pub trait Lookup {
    /// Runs `f` on the object of `path` for an operation needing ACL right `right` (1 Read,
    /// 2 Write); 4.04 when there is none, 4.01 for the Security object or where Access
    /// Control refuses.
    fn with(
        &mut self,
        path: &Path,
        right: u8,
        f: &mut dyn FnMut(&mut dyn Object) -> Result<(), Code>,
    ) -> Result<(), Code>;
}

/// Read-Composite (FETCH on `/`): the paths the request's records name, read in order
/// into one payload in the Accept format (the request's own by default). Paths that do not
/// exist are left out; 4.04 when none does.
pub fn read_composite(
    format: u16,
    accept: u16,
    data: &[u8],
    objects: &mut dyn Lookup,
    b: &mut MessageBuilder<'_>,
) -> Result<Code, Code> {
    b.option_uint(opt::CONTENT_FORMAT, u32::from(accept))
        .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    let w = b
        .payload_writer()
        .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    let mut enc = Encoder::new(accept, w, Path::ROOT)
        .ok_or(Code::NOT_ACCEPTABLE)?
        .map_err(format_code)?;
    let dec = Decoder::new(format, data)
        .ok_or(Code::UNSUPPORTED_CONTENT_FORMAT)?
        .map_err(format_code)?;
    let mut found = 0;
    for rec in dec {
        let path = rec.map_err(format_code)?.path;
        if path.is_empty() {
            return Err(Code::BAD_REQUEST);
        }
        let read = objects.with(&path, 1, &mut |obj| {
            let def = super::dm::target(&path, obj)?;
            found += read_into(&mut enc, &path, def, obj)?;
            Ok(())
        });
        match read {
            Ok(()) | Err(Code::NOT_FOUND) => {}
            Err(e) => return Err(e),
        }
    }
    if found == 0 {
        return Err(Code::NOT_FOUND);
    }
    enc.finish().map_err(format_code)?;
    Ok(Code::CONTENT)
}

/// Write-Composite (iPATCH on `/`): every record names a resource (instance) of an existing
/// instance of any object; all are checked before any is written.
pub fn write_composite(
    format: u16,
    data: &[u8],
    objects: &mut dyn Lookup,
    scratch: &mut [u8],
) -> Result<Code, Code> {
    for apply in [false, true] {
        let mut dec = Decoder::new(format, data)
            .ok_or(Code::UNSUPPORTED_CONTENT_FORMAT)?
            .map_err(format_code)?;
        while let Some(rec) = dec.next() {
            let rec = rec.map_err(format_code)?;
            let raw = rec.value.ok_or(Code::BAD_REQUEST)?;
            let (oid, iid) = match rec.path.ids() {
                [oid, iid, _, ..] => (*oid, *iid),
                _ => return Err(Code::BAD_REQUEST),
            };
            objects.with(&rec.path, 2, &mut |obj| {
                if !object::has_instance(obj, iid) {
                    return Err(Code::NOT_FOUND);
                }
                let (def, riid) = target(&rec.path, &Path::instance(oid, iid), obj, false)?;
                let v = dec.value(raw, def.kind, scratch);
                store(obj, iid, def.id, riid, &v, apply)
            })?;
        }
    }
    Ok(Code::CHANGED)
}
