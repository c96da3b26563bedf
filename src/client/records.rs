//! Read and Write in the record formats (SenML JSON and CBOR, LwM2M JSON and CBOR): a
//! Read streams one record per value into the response; a Write checks every record
//! (path, resource, type) before any value reaches the object.

use super::dm::{format_code, store, writable, Mode};
use crate::buf::Writer;
use crate::coap::{opt, Code, MessageBuilder};
use crate::formats::records::{Decoder, Encoder, Record};
use crate::model::{object, Object, Operations, Path, ResourceDef, Value, ValueSink};

/// Streams the values of one resource as records.
struct RecordSink<'e, 'w, 'b> {
    enc: &'e mut Encoder<'w, 'b>,
    /// `oid`, `iid`, `rid`.
    ids: [u16; 3],
    want: Option<u16>,
    count: usize,
}

impl ValueSink for RecordSink<'_, '_, '_> {
    fn value(&mut self, instance: Option<u16>, value: &Value<'_>) -> Result<(), Code> {
        let [oid, iid, rid] = self.ids;
        let path = match (instance, self.want) {
            (Some(ri), Some(want)) if ri != want => return Ok(()),
            (Some(ri), _) => Path::new(&[oid, iid, rid, ri]).ok_or(Code::INTERNAL_SERVER_ERROR)?,
            (None, _) => Path::resource(oid, iid, rid),
        };
        self.count += 1;
        self.enc.record(&path, value).map_err(format_code)
    }
}

/// A Read of `path` in record format `format`; `def` is the resource the path names, if
/// it names one.
#[inline(never)]
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
pub(super) fn read_into(
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
        ids: [oid, iid, def.id],
        want,
        count: 0,
    };
    obj.read(iid, def.id, &mut sink)?;
    Ok(sink.count)
}

/// A Write of `path` (an instance or a resource of `obj`) with a payload in record format
/// `format`. `scratch` holds decoded strings and data while they are written.
///
/// A Create makes the instance between the check and the writes; a Replace empties each
/// multiple-instance resource before the first of its records is written.
pub fn write(
    format: u16,
    data: &[u8],
    path: &Path,
    obj: &mut dyn Object,
    scratch: &mut [u8],
    mode: Mode,
) -> Result<(), Code> {
    let iid = path.instance_id().ok_or(Code::METHOD_NOT_ALLOWED)?;
    let mut one = One(obj);
    let mut any = 0;
    for apply in [false, true] {
        #[cfg(feature = "create-delete")]
        if apply && mode == Mode::Create {
            one.0.create(iid)?;
        }
        let _ = iid;
        any = write_pass(format, data, Some(path), &mut one, scratch, mode, apply)?;
    }
    if any > 0 {
        Ok(())
    } else {
        Err(Code::BAD_REQUEST)
    }
}

/// The one object a Write addresses, as the [`Lookup`] that [`write_pass`] needs (the
/// records' paths lie below the request's, so they name this object).
struct One<'o>(&'o mut dyn Object);

impl Lookup for One<'_> {
    fn with(
        &mut self,
        _path: &Path,
        _right: u8,
        f: &mut dyn FnMut(&mut dyn Object) -> Result<(), Code>,
    ) -> Result<(), Code> {
        f(&mut *self.0)
    }
}

/// Runs `f` on every record of `data` in `format`, with the decoder (which converts the
/// values); the first error stops. One copy of the decoder's loop for every operation.
#[inline(never)]
pub(super) fn each_record(
    format: u16,
    data: &[u8],
    f: &mut dyn FnMut(Record<'_>, &Decoder<'_>) -> Result<(), Code>,
) -> Result<(), Code> {
    let mut dec = Decoder::new(format, data)
        .ok_or(Code::UNSUPPORTED_CONTENT_FORMAT)?
        .map_err(format_code)?;
    while let Some(rec) = dec.next() {
        f(rec.map_err(format_code)?, &dec)?;
    }
    Ok(())
}

/// One pass of a Write (`scope`: the request's path) or a Write-Composite (`scope` is
/// `None`): every record checked (path, resource, type), and its value stored when
/// `apply`. Returns how many records there were.
///
/// A Write checks a record's path, then its resource, then that it has a value; a
/// Write-Composite first that it has a value, then that its instance exists. A Create may
/// set readable resources too.
#[inline(never)]
fn write_pass(
    format: u16,
    data: &[u8],
    scope: Option<&Path>,
    objects: &mut dyn Lookup,
    scratch: &mut [u8],
    mode: Mode,
    apply: bool,
) -> Result<usize, Code> {
    let mut n = 0;
    // The multiple-instance resource a Replace emptied last (its records come together).
    let mut cleared = None;
    each_record(format, data, &mut |rec, dec| {
        let mut value = rec.value;
        match scope {
            Some(path) if !rec.path.starts_with(path) => return Err(Code::BAD_REQUEST),
            Some(_) => {}
            None => value = Some(value.ok_or(Code::BAD_REQUEST)?),
        }
        let (iid, rid) = match rec.path.ids() {
            [_, iid, rid, ..] => (*iid, *rid),
            _ => return Err(Code::BAD_REQUEST),
        };
        n += 1;
        // Access Control: the Write right on the record's object instance.
        objects.with(&rec.path, 2, &mut |obj| {
            if scope.is_none() && !object::has_instance(obj, iid) {
                return Err(Code::NOT_FOUND);
            }
            let def = object::resource(obj, rid).ok_or(Code::NOT_FOUND)?;
            writable(def, mode)?;
            let riid = rec.path.resource_instance_id();
            if riid.is_some() != def.multiple {
                return Err(Code::BAD_REQUEST);
            }
            let raw = value.ok_or(Code::BAD_REQUEST)?;
            let v = dec.value(raw, def.kind, scratch);
            if apply && def.multiple && mode == Mode::Replace && cleared != Some((iid, rid)) {
                obj.clear_resource(iid, rid)?;
                cleared = Some((iid, rid));
            }
            store(obj, iid, rid, riid, &v, apply)
        })
    })?;
    Ok(n)
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
    composite_read(accept, objects, b, &mut |each| paths_of(format, data, each))
}

/// Takes one path after the other.
pub(super) type PathSink<'a> = dyn FnMut(Path) -> Result<(), Code> + 'a;

/// The paths a FETCH payload's records name, in order (an empty path is 4.00).
pub(super) fn paths_of(format: u16, data: &[u8], each: &mut PathSink<'_>) -> Result<(), Code> {
    each_record(format, data, &mut |rec, _| {
        if rec.path.is_empty() {
            return Err(Code::BAD_REQUEST);
        }
        each(rec.path)
    })
}

/// The values at `paths` in record format `format` (an Observe-Composite's notification).
#[cfg(feature = "observe")]
pub(super) fn read_paths(
    format: u16,
    paths: &[Path],
    objects: &mut dyn Lookup,
    b: &mut MessageBuilder<'_>,
) -> Result<Code, Code> {
    composite_read(format, objects, b, &mut |each| {
        paths.iter().try_for_each(|p| each(*p))
    })
}

/// One payload of the values at the paths `paths` yields, in `accept`; 4.04 when none
/// exists.
fn composite_read(
    accept: u16,
    objects: &mut dyn Lookup,
    b: &mut MessageBuilder<'_>,
    paths: &mut dyn FnMut(&mut PathSink<'_>) -> Result<(), Code>,
) -> Result<Code, Code> {
    b.option_uint(opt::CONTENT_FORMAT, u32::from(accept))
        .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    let w = b
        .payload_writer()
        .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    let mut enc = Encoder::new(accept, w, Path::ROOT)
        .ok_or(Code::NOT_ACCEPTABLE)?
        .map_err(format_code)?;
    let mut found = 0;
    paths(&mut |path| {
        let read = objects.with(&path, 1, &mut |obj| {
            let def = super::dm::target(&path, obj)?;
            found += read_into(&mut enc, &path, def, obj)?;
            Ok(())
        });
        match read {
            Ok(()) | Err(Code::NOT_FOUND) => Ok(()),
            Err(e) => Err(e),
        }
    })?;
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
        write_pass(format, data, None, objects, scratch, Mode::Update, apply)?;
    }
    Ok(Code::CHANGED)
}
