//! Device management (LwM2M-3) as far as the foundation goes: Read, Write of one resource
//! or of an instance in TLV, Execute and Discover. Each handler streams its payload into
//! the response; an error code makes the caller rebuild the response without a payload.

use crate::buf::Writer;
use crate::coap::{opt, Code, Message, MessageBuilder};
use crate::formats::content_format as cf;
use crate::formats::link::LinkWriter;
use crate::formats::tlv::{self, TlvEncoder, TlvIter, TlvKind};
use crate::formats::{opaque, text, FormatError};
use crate::model::{object, Object, Operations, Path, ResourceDef, ResourceType, Value, ValueSink};

/// Answers one request on an existing object. Returns the success code, or the error code
/// to answer with instead (the caller discards whatever was written). Under Access Control
/// it runs in a callback of every request: inlined there, one frame less on the deepest
/// path (72 B of stack on a Cortex-M4).
#[cfg_attr(feature = "access-control", inline(always))]
pub fn dispatch(
    req: &Message<'_>,
    path: &Path,
    obj: &mut dyn Object,
    b: &mut MessageBuilder<'_>,
    attrs: &dyn LinkAttrs,
) -> Result<Code, Code> {
    let accept = req.option_uint(opt::ACCEPT);
    match req.code() {
        Code::GET if accept == Some(u32::from(cf::LINK)) => discover(path, obj, b, attrs),
        Code::GET => read(path, accept, obj, b),
        // A POST with a payload on a resource is a Write, unless the resource is
        // executable: then the payload is the Execute's arguments.
        Code::POST if path.len() == 3 && (req.payload().is_empty() || executable(path, obj)) => {
            execute(path, obj, req.payload())
        }
        Code::PUT | Code::POST if path.len() >= 2 && !req.payload().is_empty() => {
            write(req, path, obj, b)
        }
        // An empty value of one resource (an empty Package resets Firmware Update, E.6).
        Code::PUT if path.len() == 3 && req.option(opt::CONTENT_FORMAT).is_some() => {
            write(req, path, obj, b)
        }
        #[cfg(feature = "create-delete")]
        Code::POST if path.len() == 1 => create(req, obj, b),
        #[cfg(feature = "create-delete")]
        Code::DELETE if path.len() == 2 => delete(path, obj),
        _ => Err(Code::METHOD_NOT_ALLOWED),
    }
}

/// True when `path` names an executable resource of `obj`.
pub(super) fn executable(path: &Path, obj: &dyn Object) -> bool {
    path.resource_id()
        .and_then(|rid| object::resource(obj, rid))
        .is_some_and(|d| d.ops.allows(Operations::E))
}

/// The instance must exist; the resource, when the path names one, must be defined.
pub(super) fn target(path: &Path, obj: &dyn Object) -> Result<Option<ResourceDef>, Code> {
    if let Some(iid) = path.instance_id() {
        if !object::has_instance(obj, iid) {
            return Err(Code::NOT_FOUND);
        }
    }
    match path.resource_id() {
        Some(rid) => object::resource(obj, rid).map(Some).ok_or(Code::NOT_FOUND),
        None => Ok(None),
    }
}

/// Read (GET) of an object, instance, resource or resource instance in the format the
/// server accepts; notifications reuse it.
pub(super) fn read(
    path: &Path,
    accept: Option<u32>,
    obj: &mut dyn Object,
    b: &mut MessageBuilder<'_>,
) -> Result<Code, Code> {
    let def = target(path, obj)?;
    if let Some(d) = def {
        if !d.ops.allows(Operations::R) {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        if path.resource_instance_id().is_some() && !d.multiple {
            return Err(Code::NOT_FOUND);
        }
    }
    let format = read_format(accept, def, path)?;
    b.option_uint(opt::CONTENT_FORMAT, u32::from(format))
        .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    let w = b
        .payload_writer()
        .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    match (format, def) {
        (cf::TLV, _) => read_tlv(path, def, obj, w)?,
        #[cfg(feature = "records")]
        (f, _) if crate::formats::records::supported(f) => {
            super::records::read(path, def, f, obj, w)?
        }
        (_, Some(d)) => read_single(path, d.id, format, obj, w)?,
        _ => return Err(Code::NOT_ACCEPTABLE),
    }
    Ok(Code::CONTENT)
}

/// The format of a Read response: TLV, or the natural format of a single value (text, or
/// opaque for an opaque resource); the server's Accept must name one of them.
fn read_format(accept: Option<u32>, def: Option<ResourceDef>, path: &Path) -> Result<u16, Code> {
    let natural = match def {
        Some(d) if !d.multiple || path.resource_instance_id().is_some() => {
            if d.kind == ResourceType::Opaque {
                cf::OPAQUE
            } else {
                cf::TEXT
            }
        }
        _ => cf::TLV,
    };
    match accept.map(u16::try_from) {
        None => Ok(natural),
        Some(Ok(a)) if a == cf::TLV || a == natural => Ok(a),
        #[cfg(feature = "records")]
        Some(Ok(a)) if crate::formats::records::supported(a) => Ok(a),
        _ => Err(Code::NOT_ACCEPTABLE),
    }
}

/// Writes one value in text or opaque; ignores values of other resource instances.
struct SingleSink<'w, 'b> {
    w: &'w mut Writer<'b>,
    format: u16,
    want: Option<u16>,
    found: bool,
}

impl ValueSink for SingleSink<'_, '_> {
    fn value(&mut self, instance: Option<u16>, value: &Value<'_>) -> Result<(), Code> {
        if instance != self.want || self.found {
            return Ok(());
        }
        self.found = true;
        let r = if self.format == cf::OPAQUE {
            opaque::encode(value, self.w)
        } else {
            text::encode(value, self.w)
        };
        r.map_err(format_code)
    }
}

fn read_single(
    path: &Path,
    rid: u16,
    format: u16,
    obj: &mut dyn Object,
    w: &mut Writer<'_>,
) -> Result<(), Code> {
    let iid = path.instance_id().ok_or(Code::BAD_REQUEST)?;
    let mut sink = SingleSink {
        w,
        format,
        want: path.resource_instance_id(),
        found: false,
    };
    obj.read(iid, rid, &mut sink)?;
    if sink.found {
        Ok(())
    } else {
        Err(Code::NOT_FOUND)
    }
}

/// Streams values of one resource as TLV.
struct TlvSink<'e, 'w, 'b> {
    enc: &'e mut TlvEncoder<'w, 'b>,
    rid: u16,
    want: Option<u16>,
    count: usize,
}

impl ValueSink for TlvSink<'_, '_, '_> {
    fn value(&mut self, instance: Option<u16>, value: &Value<'_>) -> Result<(), Code> {
        let (kind, id) = match (instance, self.want) {
            (None, _) => (TlvKind::Resource, self.rid),
            (Some(ri), Some(want)) if ri != want => return Ok(()),
            (Some(ri), _) => (TlvKind::ResourceInstance, ri),
        };
        self.count += 1;
        self.enc.value(kind, id, value).map_err(format_code)
    }
}

/// `def` is the resource the path names (found by `target`), if it names one.
#[inline(never)]
fn read_tlv(
    path: &Path,
    def: Option<ResourceDef>,
    obj: &mut dyn Object,
    w: &mut Writer<'_>,
) -> Result<(), Code> {
    let mut enc = TlvEncoder::new(w);
    match (path.instance_id(), def) {
        (Some(iid), Some(def)) => {
            let n = tlv_resource(&mut enc, obj, iid, def, path.resource_instance_id())?;
            if n == 0 {
                return Err(Code::NOT_FOUND);
            }
        }
        (Some(iid), None) => tlv_instance(&mut enc, obj, iid)?,
        _ => {
            let mut i = 0;
            while let Some(iid) = obj.instance(i) {
                enc.begin(TlvKind::ObjectInstance, iid)
                    .map_err(format_code)?;
                tlv_instance(&mut enc, obj, iid)?;
                enc.end().map_err(format_code)?;
                i += 1;
            }
        }
    }
    Ok(())
}

/// Every readable resource of an instance; resources the instance lacks are skipped.
fn tlv_instance(enc: &mut TlvEncoder<'_, '_>, obj: &mut dyn Object, iid: u16) -> Result<(), Code> {
    let mut i = 0;
    while let Some(def) = obj.resource_at(i) {
        i += 1;
        if !def.ops.allows(Operations::R) {
            continue;
        }
        let mark = enc.mark();
        match tlv_resource(enc, obj, iid, def, None) {
            Ok(_) => {}
            Err(Code::NOT_FOUND) => enc.rollback(mark),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One resource (wrapped as a Multiple Resource when it has instances); returns the
/// number of values written.
fn tlv_resource(
    enc: &mut TlvEncoder<'_, '_>,
    obj: &mut dyn Object,
    iid: u16,
    def: ResourceDef,
    want: Option<u16>,
) -> Result<usize, Code> {
    let wrap = def.multiple && want.is_none();
    if wrap {
        enc.begin(TlvKind::MultipleResource, def.id)
            .map_err(format_code)?;
    }
    let mut sink = TlvSink {
        enc,
        rid: def.id,
        want,
        count: 0,
    };
    obj.read(iid, def.id, &mut sink)?;
    let count = sink.count;
    if wrap {
        enc.end().map_err(format_code)?;
    }
    Ok(count)
}

fn execute(path: &Path, obj: &mut dyn Object, args: &[u8]) -> Result<Code, Code> {
    let def = target(path, obj)?.ok_or(Code::METHOD_NOT_ALLOWED)?;
    if path.resource_instance_id().is_some() || !def.ops.allows(Operations::E) {
        return Err(Code::METHOD_NOT_ALLOWED);
    }
    let (iid, rid) = (path.instance_id().ok_or(Code::BAD_REQUEST)?, def.id);
    if !execute_args_valid(args) {
        return Err(Code::BAD_REQUEST);
    }
    obj.execute(iid, rid, args)?;
    Ok(Code::CHANGED)
}

/// True when `args` is empty or an argument list (LwM2M 1.1 Core, Execute):
/// `arg *("," arg)` with `arg = DIGIT ["=" "'" *CHAR "'"]`, where CHAR is printable ASCII
/// but for space, `"`, `'` and `\` (0x21, 0x23-0x26, 0x28-0x5B, 0x5D-0x7E).
fn execute_args_valid(args: &[u8]) -> bool {
    // States: 0 expects a digit, 1 follows a digit, 2 expects a quote, 3 is in a value,
    // 4 follows a value.
    let mut state = 0u8;
    for &c in args {
        let value_char = c > b' ' && c < 0x7F && !matches!(c, b'"' | b'\'' | b'\\');
        state = match state {
            0 if c.is_ascii_digit() => 1,
            1 if c == b'=' => 2,
            1 | 4 if c == b',' => 0,
            2 | 3 if c == b'\'' => state + 1,
            3 if value_char => 3,
            _ => return false,
        };
    }
    args.is_empty() || state == 1 || state == 4
}

/// Kept out of `dispatch` (`inline(never)`): the image is smaller that way.
#[inline(never)]
fn write(
    req: &Message<'_>,
    path: &Path,
    obj: &mut dyn Object,
    b: &mut MessageBuilder<'_>,
) -> Result<Code, Code> {
    let def = target(path, obj)?;
    let iid = path.instance_id().ok_or(Code::METHOD_NOT_ALLOWED)?;
    let format = req
        .option_uint(opt::CONTENT_FORMAT)
        .ok_or(Code::BAD_REQUEST)?;
    let data = req.payload();
    let text = format == u32::from(cf::TEXT);
    let mode = if req.code() == Code::PUT {
        Mode::Replace
    } else {
        Mode::Update
    };
    if format == u32::from(cf::TLV) {
        write_tlv(data, iid, path.resource_id(), obj, mode)?;
    } else if text || format == u32::from(cf::OPAQUE) {
        let d = def.filter(|d| !d.multiple).ok_or(Code::BAD_REQUEST)?;
        writable(d, Mode::Update)?;
        let v = if text {
            text::decode(data, d.kind)
        } else {
            opaque::decode(data, d.kind)
        };
        store(obj, iid, d.id, None, &v, true)?;
    } else {
        write_records(format, data, path, obj, b, mode)?;
    }
    Ok(Code::CHANGED)
}

/// How a Write treats what the target holds: a partial update (POST) adds and updates, a
/// replace (PUT) first empties each multiple-instance resource it writes, and the writes
/// of a Create may also give read-only resources their first value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Update,
    Replace,
    Create,
}

/// A Write in one of the record formats, when this build has it; the unused part of the
/// response buffer holds decoded strings meanwhile (the response itself has no payload).
fn write_records(
    format: u32,
    data: &[u8],
    path: &Path,
    obj: &mut dyn Object,
    b: &mut MessageBuilder<'_>,
    mode: Mode,
) -> Result<(), Code> {
    #[cfg(feature = "records")]
    if let Some(f) = u16::try_from(format)
        .ok()
        .filter(|&f| crate::formats::records::supported(f))
    {
        return super::records::write(f, data, path, obj, b.spare(), mode);
    }
    let _ = (format, data, path, obj, b, mode);
    Err(Code::UNSUPPORTED_CONTENT_FORMAT)
}

/// A resource a Write may set; a Create may also give readable resources their
/// first value.
pub(super) fn writable(d: ResourceDef, mode: Mode) -> Result<(), Code> {
    if d.ops.allows(Operations::W) || (mode == Mode::Create && d.ops.allows(Operations::R)) {
        Ok(())
    } else {
        Err(Code::METHOD_NOT_ALLOWED)
    }
}

/// A TLV Write: the whole payload is checked (structure, resources, types) before any
/// value reaches the object.
/// A Create makes instance `iid` between the check and the writes; a Replace (PUT) empties
/// each multiple-instance resource of the payload before its instances are written.
fn write_tlv(
    data: &[u8],
    iid: u16,
    rid: Option<u16>,
    obj: &mut dyn Object,
    mode: Mode,
) -> Result<(), Code> {
    tlv::validate(data, 2).map_err(format_code)?;
    for pass in [false, true] {
        #[cfg(feature = "create-delete")]
        if pass && mode == Mode::Create {
            obj.create(iid)?;
        }
        for item in TlvIter::new(data) {
            // Checked by `validate`: no error here (it would be Malformed, 4.00).
            let Ok(t) = item else {
                return Err(Code::BAD_REQUEST);
            };
            if rid.is_some_and(|r| r != t.id) {
                return Err(Code::BAD_REQUEST);
            }
            let def = object::resource(obj, t.id).ok_or(Code::NOT_FOUND)?;
            writable(def, mode)?;
            write_tlv_resource(&t, def, iid, obj, pass, mode == Mode::Replace)?;
        }
    }
    Ok(())
}

/// Checks (`apply` false) or applies one top-level TLV resource.
pub(super) fn write_tlv_resource(
    t: &tlv::Tlv<'_>,
    def: ResourceDef,
    iid: u16,
    obj: &mut dyn Object,
    apply: bool,
    replace: bool,
) -> Result<(), Code> {
    match (t.kind, def.multiple) {
        (TlvKind::Resource, false) => {
            let v = tlv::decode_value(t.value, def.kind);
            store(obj, iid, def.id, None, &v, apply)?;
        }
        (TlvKind::MultipleResource, true) => {
            if apply && replace {
                obj.clear_resource(iid, def.id)?;
            }
            for inner in TlvIter::new(t.value) {
                let Ok(ri) = inner else {
                    return Err(Code::BAD_REQUEST);
                };
                let v = tlv::decode_value(ri.value, def.kind);
                store(obj, iid, def.id, Some(ri.id), &v, apply)?;
            }
        }
        _ => return Err(Code::BAD_REQUEST),
    }
    Ok(())
}

/// Stores a decoded value when `apply` is set, else has the object check it; a decoding
/// failure gives its code either way.
/// One shared copy (`inline(never)`), taking the result by reference: no copies of it.
#[inline(never)]
pub(super) fn store(
    obj: &mut dyn Object,
    iid: u16,
    rid: u16,
    riid: Option<u16>,
    v: &Result<Value<'_>, FormatError>,
    apply: bool,
) -> Result<(), Code> {
    match v {
        Ok(v) if apply => obj.write(iid, rid, riid, v),
        Ok(v) => obj.check(iid, rid, riid, v),
        Err(e) => Err(format_code(*e)),
    }
}

/// Create (POST on an object): the new instance's id comes from the payload (a TLV Object
/// Instance, or the records' paths) or is the lowest free one; the whole payload is
/// checked first, and a write that still fails deletes the new instance again. Answers
/// 2.01 with the new instance's path as Location-Path. Kept out of `dispatch`
/// (`inline(never)`): inlined, its frame would be on every request's path (160 B deeper).
#[cfg(feature = "create-delete")]
#[inline(never)]
fn create(
    req: &Message<'_>,
    obj: &mut dyn Object,
    b: &mut MessageBuilder<'_>,
) -> Result<Code, Code> {
    let format = req.option_uint(opt::CONTENT_FORMAT);
    let (given, data) = create_target(format, req.payload())?;
    let iid = match given {
        Some(iid) if object::has_instance(obj, iid) => return Err(Code::BAD_REQUEST),
        Some(iid) => iid,
        None => free_instance(obj)?,
    };
    let path = Path::instance(obj.id(), iid);
    let result = match format {
        _ if data.is_empty() => obj.create(iid),
        Some(f) if f == u32::from(cf::TLV) => write_tlv(data, iid, None, obj, Mode::Create),
        Some(f) => write_records(f, data, &path, obj, b, Mode::Create),
        None => Err(Code::BAD_REQUEST),
    };
    if let Err(e) = result {
        if object::has_instance(obj, iid) {
            let _ = obj.delete(iid);
        }
        return Err(e);
    }
    let mut digits = [0u8; 20];
    for id in [obj.id(), iid] {
        let seg = crate::util::u64_to_dec(u64::from(id), &mut digits);
        b.option(opt::LOCATION_PATH, seg)
            .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    }
    Ok(Code::CREATED)
}

/// The instance id a Create payload names, if any, and the payload of that instance. A TLV
/// payload may wrap its resources in one Object Instance; record payloads name full paths,
/// and their first record's instance is the one created.
#[cfg(feature = "create-delete")]
fn create_target(format: Option<u32>, data: &[u8]) -> Result<(Option<u16>, &[u8]), Code> {
    if format == Some(u32::from(cf::TLV)) {
        let mut items = TlvIter::new(data);
        if let Some(Ok(t)) = items.next() {
            if t.kind == TlvKind::ObjectInstance {
                return match items.next() {
                    None => Ok((Some(t.id), t.value)),
                    Some(_) => Err(Code::BAD_REQUEST),
                };
            }
        }
        return Ok((None, data));
    }
    #[cfg(feature = "records")]
    if let Some(f) = format.and_then(|f| u16::try_from(f).ok()) {
        if let Some(Ok(mut records)) = crate::formats::records::Decoder::new(f, data) {
            let first = records.next().and_then(Result::ok);
            return Ok((first.and_then(|r| r.path.instance_id()), data));
        }
    }
    Ok((None, data))
}

/// The lowest instance id the object does not use.
#[cfg(feature = "create-delete")]
fn free_instance(obj: &dyn Object) -> Result<u16, Code> {
    (0..crate::model::path::MAX_ID)
        .find(|&iid| !object::has_instance(obj, iid))
        .ok_or(Code::INTERNAL_SERVER_ERROR)
}

/// Delete of an instance.
#[cfg(feature = "create-delete")]
fn delete(path: &Path, obj: &mut dyn Object) -> Result<Code, Code> {
    target(path, obj)?;
    let iid = path.instance_id().ok_or(Code::METHOD_NOT_ALLOWED)?;
    obj.delete(iid)?;
    Ok(Code::DELETED)
}

/// Counts the values of a resource (for `dim`).
struct Count(u32);

impl ValueSink for Count {
    fn value(&mut self, _instance: Option<u16>, _value: &Value<'_>) -> Result<(), Code> {
        self.0 = self.0.saturating_add(1);
        Ok(())
    }
}

/// What Discover shows after a link besides `dim` and `ver`: the attributes the asking
/// server set on that path.
pub trait LinkAttrs {
    /// Appends the attributes of `path` to the link just written.
    fn write(&self, path: &Path, links: &mut LinkWriter<'_, '_>) -> Result<(), FormatError>;
}

/// No attributes (a build without them).
impl LinkAttrs for () {
    fn write(&self, _path: &Path, _links: &mut LinkWriter<'_, '_>) -> Result<(), FormatError> {
        Ok(())
    }
}

/// Writes the link to `path` and its attributes.
fn link(links: &mut LinkWriter<'_, '_>, attrs: &dyn LinkAttrs, path: &Path) -> Result<(), Code> {
    links.link(path).map_err(format_code)?;
    attrs.write(path, links).map_err(format_code)
}

fn discover(
    path: &Path,
    obj: &mut dyn Object,
    b: &mut MessageBuilder<'_>,
    attrs: &dyn LinkAttrs,
) -> Result<Code, Code> {
    let def = target(path, obj)?;
    if path.resource_instance_id().is_some() {
        return Err(Code::BAD_REQUEST);
    }
    b.option_uint(opt::CONTENT_FORMAT, u32::from(cf::LINK))
        .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    let w = b
        .payload_writer()
        .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    let mut links = LinkWriter::new(w);
    let oid = obj.id();
    match (path.instance_id(), def) {
        (Some(iid), Some(d)) => discover_resource(&mut links, attrs, obj, oid, iid, d)?,
        (Some(iid), None) => discover_instance(&mut links, attrs, obj, oid, iid)?,
        _ => {
            links.link(&Path::object(oid)).map_err(format_code)?;
            let (major, minor) = obj.version();
            if (major, minor) != (1, 0) {
                links
                    .attr_raw("ver", &version_text(major, minor))
                    .map_err(format_code)?;
            }
            attrs
                .write(&Path::object(oid), &mut links)
                .map_err(format_code)?;
            let mut i = 0;
            while let Some(iid) = obj.instance(i) {
                discover_instance(&mut links, attrs, obj, oid, iid)?;
                i += 1;
            }
        }
    }
    Ok(Code::CONTENT)
}

fn discover_instance(
    links: &mut LinkWriter<'_, '_>,
    attrs: &dyn LinkAttrs,
    obj: &mut dyn Object,
    oid: u16,
    iid: u16,
) -> Result<(), Code> {
    link(links, attrs, &Path::instance(oid, iid))?;
    let mut i = 0;
    while let Some(d) = obj.resource_at(i) {
        i += 1;
        match discover_resource(links, attrs, obj, oid, iid, d) {
            Ok(()) | Err(Code::NOT_FOUND) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One resource link; readable resources the instance lacks are left out (4.04).
fn discover_resource(
    links: &mut LinkWriter<'_, '_>,
    attrs: &dyn LinkAttrs,
    obj: &mut dyn Object,
    oid: u16,
    iid: u16,
    d: ResourceDef,
) -> Result<(), Code> {
    let mut count = Count(0);
    if d.ops.allows(Operations::R) {
        obj.read(iid, d.id, &mut count)?;
        if count.0 == 0 {
            return Err(Code::NOT_FOUND);
        }
    }
    let path = Path::resource(oid, iid, d.id);
    links.link(&path).map_err(format_code)?;
    if d.multiple && d.ops.allows(Operations::R) {
        links
            .attr_uint("dim", u64::from(count.0))
            .map_err(format_code)?;
    }
    attrs.write(&path, links).map_err(format_code)
}

/// `major.minor` as text (both below 10 in every published object version).
pub fn version_text(major: u8, minor: u8) -> [u8; 3] {
    [b'0' + major % 10, b'.', b'0' + minor % 10]
}

/// The CoAP code for a format failure: the output did not fit, or the input was bad.
/// One shared copy (`inline(never)`) is smaller than the copies inlined at each call.
#[inline(never)]
pub(super) fn format_code(e: FormatError) -> Code {
    match e {
        FormatError::NoSpace => Code::INTERNAL_SERVER_ERROR,
        _ => Code::BAD_REQUEST,
    }
}

#[cfg(test)]
mod tests {
    use super::execute_args_valid;

    #[test]
    fn execute_arguments_follow_the_grammar() {
        for ok in [
            &b""[..],
            b"0",
            b"5,4",
            b"0='',1",
            b"2='coap://example.org/fw',3",
            b"9='!#$%&()*+-./:;<=>?@[]^_`{|}~'",
        ] {
            assert!(execute_args_valid(ok), "{:?}", core::str::from_utf8(ok));
        }
        for bad in [
            &b","[..],
            b"0,",
            b",0",
            b"10",
            b"a",
            b"0=",
            b"0='",
            b"0=x",
            b"0='a b'",
            b"0='a\"b'",
            b"0='a\\b'",
            b"0='a'b",
            b"0='a''",
            b"0='\xc3\xa9'",
            b"0 ",
        ] {
            assert!(!execute_args_valid(bad), "{:?}", bad);
        }
    }
}
