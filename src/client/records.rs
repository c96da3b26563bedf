//! Read and Write in the record formats (SenML JSON and CBOR, LwM2M JSON and CBOR): a
//! Read streams one record per value into the response; a Write checks every record
//! (path, resource, type) before any value reaches the object.

use super::dm::{format_code, store, writable};
use crate::buf::Writer;
use crate::coap::Code;
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
    let oid = obj.id();
    match (path.instance_id(), def) {
        (Some(iid), Some(def)) => {
            let n = resource(&mut enc, obj, oid, iid, def, path.resource_instance_id())?;
            if n == 0 {
                return Err(Code::NOT_FOUND);
            }
        }
        (Some(iid), None) => instance(&mut enc, obj, oid, iid)?,
        _ => {
            let mut i = 0;
            while let Some(iid) = obj.instance(i) {
                instance(&mut enc, obj, oid, iid)?;
                i += 1;
            }
        }
    }
    enc.finish().map_err(format_code)
}

/// Every readable resource of an instance; resources the instance lacks are skipped.
fn instance(
    enc: &mut Encoder<'_, '_>,
    obj: &mut dyn Object,
    oid: u16,
    iid: u16,
) -> Result<(), Code> {
    let mut i = 0;
    while let Some(def) = obj.resource_at(i) {
        i += 1;
        if !def.ops.allows(Operations::R) {
            continue;
        }
        match resource(enc, obj, oid, iid, def, None) {
            Ok(_) | Err(Code::NOT_FOUND) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
pub fn write(
    format: u16,
    data: &[u8],
    path: &Path,
    obj: &mut dyn Object,
    scratch: &mut [u8],
) -> Result<(), Code> {
    let iid = path.instance_id().ok_or(Code::METHOD_NOT_ALLOWED)?;
    let mut any = false;
    for apply in [false, true] {
        let mut dec = Decoder::new(format, data)
            .ok_or(Code::UNSUPPORTED_CONTENT_FORMAT)?
            .map_err(format_code)?;
        while let Some(rec) = dec.next() {
            let rec = rec.map_err(format_code)?;
            let (def, riid) = target(&rec.path, path, obj)?;
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
fn target(rec: &Path, path: &Path, obj: &dyn Object) -> Result<(ResourceDef, Option<u16>), Code> {
    if !rec.starts_with(path) {
        return Err(Code::BAD_REQUEST);
    }
    let rid = rec.resource_id().ok_or(Code::BAD_REQUEST)?;
    let def = object::resource(obj, rid).ok_or(Code::NOT_FOUND)?;
    writable(def)?;
    let riid = rec.resource_instance_id();
    if riid.is_some() != def.multiple {
        return Err(Code::BAD_REQUEST);
    }
    Ok((def, riid))
}
