//! What SenML JSON (110) and SenML CBOR (112) share (RFC 8428 as LwM2M 1.1 uses it): record
//! names built from the base name and the name, the value fields, and the conversion of a
//! decoded value to the type of the resource it is written to.

use super::records::Record;
use super::{text, FormatError};
use crate::buf::Writer;
use crate::model::{Path, ResourceType, Value};

/// Longest record name: `/65534/65534/65534/65534`.
pub const MAX_NAME: usize = 24;

/// A number as the wire carried it.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Num<'a> {
    /// A non-negative integer (CBOR major type 0).
    #[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
    Uint(u64),
    /// A negative integer -1 - n (CBOR major type 1).
    #[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
    Nint(u64),
    /// A float (CBOR major type 7).
    #[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
    Float(f64),
    /// A JSON number, still as text.
    Text(&'a [u8]),
}

/// A decoded record value, before the resource's type is known.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Raw<'a> {
    /// `v`.
    Num(Num<'a>),
    /// `vs`: UTF-8 bytes (CBOR), or JSON string contents with escapes still in them.
    Str(&'a [u8]),
    /// `vb`.
    Bool(bool),
    /// `vd`: the bytes (CBOR) or their base64url text (JSON).
    Data(&'a [u8]),
    /// `vlo`: `oid:iid`.
    ObjLnk(&'a [u8]),
}

/// The path named by base name `bn` followed by name `n` (each may be empty). LwM2M names
/// are absolute paths: `/3/0/1`.
pub fn path(bn: &[u8], n: &[u8]) -> Result<Path, FormatError> {
    let mut buf = [0u8; MAX_NAME];
    let mut w = Writer::new(&mut buf);
    if w.put(bn).and_then(|()| w.put(n)).is_err() {
        return Err(FormatError::Malformed);
    }
    match w.written().split_first() {
        Some((b'/', rest)) if rest.first() != Some(&b'/') => {
            Path::from_segments(rest.split(|&c| c == b'/')).ok_or(FormatError::Malformed)
        }
        _ => Err(FormatError::Malformed),
    }
}

/// Values belong to resources and resource instances: a value at a shorter path is
/// malformed.
pub fn value_path<T>(path: Path, value: &Option<T>) -> Result<Path, FormatError> {
    if value.is_some() && path.resource_id().is_none() {
        Err(FormatError::Malformed)
    } else {
        Ok(path)
    }
}

/// Writes `/id/id...` for `ids` into `w`; without the first slash unless `lead`.
pub fn write_ids(ids: &[u16], w: &mut Writer<'_>, lead: bool) -> Result<(), FormatError> {
    for (i, &id) in ids.iter().enumerate() {
        if lead || i > 0 {
            w.put_u8(b'/')?;
        }
        w.put_u64_dec(u64::from(id))?;
    }
    Ok(())
}

/// The one of a format's five value labels (number, string, boolean, data, object link)
/// that carries `v`.
pub fn label<'l>(v: &Value<'_>, labels: &[&'l [u8]; 5]) -> &'l [u8] {
    let [num, string, boolean, data, objlnk] = *labels;
    match v {
        Value::Integer(_) | Value::Unsigned(_) | Value::Float(_) | Value::Time(_) => num,
        Value::String(_) | Value::CoreLnk(_) => string,
        Value::Boolean(_) => boolean,
        Value::Opaque(_) => data,
        Value::ObjLnk(..) => objlnk,
    }
}

/// The base name and name of a record for `path` in a payload about `base`: the base name
/// is `base` itself (`None` for the root), the name the rest of `path` (`None` when empty).
pub fn split<'p>(base: &Path, path: &'p Path) -> (usize, &'p [u16]) {
    let n = base.len().min(path.len());
    (n, path.ids().get(n..).unwrap_or(&[]))
}

/// The record fields a decoder knows, as indices into its table of keys: `bn`, `n`, `bt`,
/// `t`, `v`, `vs`, `vb`, `vd`, `vlo`, and a field that is ignored.
pub mod label {
    /// Base name.
    pub const BN: u8 = 0;
    /// Name.
    pub const N: u8 = 1;
    /// Base time.
    pub const BT: u8 = 2;
    /// Time.
    pub const T: u8 = 3;
    /// Number value.
    pub const V: u8 = 4;
    /// String value.
    pub const VS: u8 = 5;
    /// Boolean value.
    pub const VB: u8 = 6;
    /// Data value.
    pub const VD: u8 = 7;
    /// Object link value.
    pub const VLO: u8 = 8;
    /// A field that needs no understanding.
    pub const OTHER: u8 = 9;
}

/// The fields of one record, as a decoder reads them.
#[derive(Default)]
pub struct Fields<'a> {
    name: Option<&'a [u8]>,
    value: Option<Raw<'a>>,
    /// Which of base name, name, time and value were seen (each may appear once).
    seen: u8,
}

impl<'a> Fields<'a> {
    /// Takes field `label` with value `v`; a base name goes to `bn`. A value of the wrong
    /// kind or a field repeated is malformed.
    pub fn take(&mut self, label: u8, v: Raw<'a>, bn: &mut &'a [u8]) -> Result<(), FormatError> {
        use label::*;
        let bit = match (label, v) {
            (BN, Raw::Str(s)) => {
                *bn = s;
                1
            }
            (N, Raw::Str(s)) => {
                self.name = Some(s);
                2
            }
            (BT | T, Raw::Num(_)) => 4,
            (V, Raw::Num(_)) | (VS, Raw::Str(_)) | (VB, Raw::Bool(_)) | (VD, Raw::Data(_)) => {
                self.value = Some(v);
                8
            }
            (VLO, Raw::Str(s)) => {
                self.value = Some(Raw::ObjLnk(s));
                8
            }
            (OTHER, _) => 0,
            _ => return Err(FormatError::Malformed),
        };
        if self.seen & bit != 0 {
            return Err(FormatError::Malformed);
        }
        self.seen |= bit;
        Ok(())
    }

    /// The record these fields make under base name `bn`; `lwm2m` records (LwM2M JSON
    /// entries) need a value (an entry without a name stands for the base name itself).
    pub fn record(self, bn: &[u8], lwm2m: bool) -> Result<Record<'a>, FormatError> {
        if lwm2m && self.value.is_none() {
            return Err(FormatError::Malformed);
        }
        let path = path(bn, self.name.unwrap_or(&[]))?;
        Ok(Record {
            path: value_path(path, &self.value)?,
            value: self.value,
        })
    }
}

/// The value a record of a record format carries for a resource of type `ty` (see
/// [`to_value`]). The LwM2M formats have no data field in JSON (opaque values are base64
/// strings) and no object link field in CBOR (object links are text).
pub fn convert<'a>(
    raw: Raw<'a>,
    ty: ResourceType,
    scratch: &'a mut [u8],
    json: bool,
    lwm2m: bool,
) -> Result<Value<'a>, FormatError> {
    let raw = match (raw, ty) {
        (Raw::Str(s), ResourceType::ObjLnk) if lwm2m && !json => Raw::ObjLnk(s),
        (Raw::Str(s), ResourceType::Opaque) if lwm2m && json => Raw::Data(s),
        _ => raw,
    };
    to_value(raw, ty, scratch, json)
}

/// The value a record carries for a resource of type `ty`. `scratch` receives the decoded
/// form of escaped JSON strings and base64 data; `json` says which encoding `raw` is in.
pub fn to_value<'a>(
    raw: Raw<'a>,
    ty: ResourceType,
    scratch: &'a mut [u8],
    json: bool,
) -> Result<Value<'a>, FormatError> {
    use ResourceType as T;
    match (raw, ty) {
        (Raw::Num(n), T::Integer | T::Time | T::Unsigned | T::Float) => num_value(n, ty),
        (Raw::Bool(b), T::Boolean) => Ok(Value::Boolean(b)),
        (Raw::Str(s), T::String | T::CoreLnk) => text::decode(plain(s, scratch, json, ty)?, ty),
        (Raw::Data(d), T::Opaque) => Ok(Value::Opaque(plain(d, scratch, json, ty)?)),
        (Raw::ObjLnk(s), T::ObjLnk) => text::decode(s, ty),
        _ => Err(FormatError::WrongType),
    }
}

/// The bytes a string or data field stands for: in JSON, strings are unescaped and data
/// base64url-decoded into `scratch`; in CBOR they are used as they are.
fn plain<'a>(
    s: &'a [u8],
    scratch: &'a mut [u8],
    json: bool,
    ty: ResourceType,
) -> Result<&'a [u8], FormatError> {
    #[cfg(any(feature = "senml-json", feature = "json"))]
    if json {
        return match ty {
            ResourceType::Opaque => super::json_lex::base64url(s, scratch),
            _ => super::json_lex::unescape(s, scratch),
        };
    }
    let _ = (scratch, json, ty);
    Ok(s)
}

fn num_value(n: Num<'_>, ty: ResourceType) -> Result<Value<'_>, FormatError> {
    match n {
        Num::Text(t) => text::decode(t, ty),
        // Only CBOR carries numbers in binary (a JSON-only build has no such arm).
        #[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
        _ => binary_num(n, ty),
    }
}

/// A CBOR number as a value of type `ty`.
#[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
fn binary_num(n: Num<'_>, ty: ResourceType) -> Result<Value<'_>, FormatError> {
    let int = |v: i64| match ty {
        ResourceType::Time => Ok(Value::Time(v)),
        ResourceType::Unsigned => u64::try_from(v)
            .map(Value::Unsigned)
            .map_err(|_| FormatError::OutOfRange),
        _ => Ok(Value::Integer(v)),
    };
    match (n, ty) {
        (Num::Text(t), _) => text::decode(t, ty),
        (Num::Float(f), ResourceType::Float) => Ok(Value::Float(f)),
        (Num::Uint(u), ResourceType::Unsigned) => Ok(Value::Unsigned(u)),
        (Num::Uint(u), ResourceType::Float) => Ok(Value::Float(f64_from_int(false, u)?)),
        (Num::Nint(n), ResourceType::Float) => {
            Ok(Value::Float(f64_from_int(true, n.saturating_add(1))?))
        }
        (Num::Uint(u), _) => int(i64::try_from(u).map_err(|_| FormatError::OutOfRange)?),
        (Num::Nint(u), _) => int(i64::try_from(u)
            .map(|v| -1 - v)
            .map_err(|_| FormatError::OutOfRange)?),
        // A float where an integer is expected: only when it is one.
        (Num::Float(f), _) => int(exact_i64(f).ok_or(FormatError::WrongType)?),
    }
}

/// `f` as an i64 when it is an integer in range (below 2^63 in magnitude), read off the bit
/// pattern: no soft-float routine is linked.
#[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
fn exact_i64(f: f64) -> Option<i64> {
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mant = (bits & ((1 << 52) - 1)) | (1 << 52);
    let m = match exp {
        // Zeros (a test of the bits that LLVM would turn into a soft-float comparison,
        // 80 bytes of __aeabi_dcmpeq, were it made before the match).
        -1023 if mant == 1 << 52 => 0,
        0..=51 => {
            let frac = 52 - exp as u32;
            if mant & ((1 << frac) - 1) != 0 {
                return None;
            }
            mant >> frac
        }
        52..=62 => mant << (exp - 52),
        _ => return None,
    };
    let m = m as i64;
    Some(if bits >> 63 != 0 { -m } else { m })
}

/// The f64 equal to an integer of magnitude `m` (below 2^53, so exact), built on the bit
/// pattern: no soft-float routine is linked.
#[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
fn f64_from_int(neg: bool, m: u64) -> Result<f64, FormatError> {
    if m >= 1 << 53 {
        return Err(FormatError::OutOfRange);
    }
    if m == 0 {
        return Ok(0.0);
    }
    let p = 63 - m.leading_zeros();
    let mant = (m << (52 - p)) & ((1 << 52) - 1);
    let exp = u64::from(1023 + p);
    Ok(f64::from_bits((u64::from(neg) << 63) | (exp << 52) | mant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_join_base_and_name() {
        assert_eq!(path(b"/3/0/", b"1").unwrap(), Path::resource(3, 0, 1));
        assert_eq!(path(b"", b"/3/0/1").unwrap(), Path::resource(3, 0, 1));
        assert_eq!(path(b"/3/0/1", b"").unwrap(), Path::resource(3, 0, 1));
        assert_eq!(path(b"/3/0", b"/11/2").unwrap().ids(), &[3, 0, 11, 2]);
        assert_eq!(path(b"/", b"").unwrap(), Path::ROOT);
        for (bn, n) in [
            (&b""[..], &b""[..]),
            (b"3/0", b"/1"),
            (b"//3", b""),
            (b"/3//0", b""),
            (b"/3/0/1/2/3", b""),
            (b"/65535", b""),
            (b"/3/x", b""),
            (b"/1/2/3/4/5/6/7/8/9/10/11/12", b"/13"),
        ] {
            assert!(path(bn, n).is_err(), "{bn:?} {n:?}");
        }
    }

    #[test]
    fn split_into_base_and_rest() {
        let base = Path::instance(3, 0);
        let p = Path::new(&[3, 0, 11, 1]).unwrap();
        assert_eq!(split(&base, &p), (2, &[11u16, 1][..]));
        assert_eq!(split(&Path::ROOT, &p), (0, &[3u16, 0, 11, 1][..]));
        let mut b = [0u8; 32];
        let mut w = Writer::new(&mut b);
        write_ids(&[3, 0, 65534], &mut w, true).unwrap();
        write_ids(&[7, 1], &mut w, false).unwrap();
        assert_eq!(w.written(), b"/3/0/655347/1");
    }

    #[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
    #[test]
    fn numbers_take_the_resource_type() {
        let mut s = [0u8; 8];
        let v = |n, ty, s: &mut [u8]| to_value(Raw::Num(n), ty, s, false).map(|v| format!("{v:?}"));
        assert_eq!(
            v(Num::Uint(5), ResourceType::Integer, &mut s).unwrap(),
            "Integer(5)"
        );
        assert_eq!(
            v(Num::Nint(4), ResourceType::Integer, &mut s).unwrap(),
            "Integer(-5)"
        );
        assert_eq!(
            v(Num::Nint(0), ResourceType::Unsigned, &mut s),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            v(Num::Uint(u64::MAX), ResourceType::Unsigned, &mut s).unwrap(),
            format!("Unsigned({})", u64::MAX)
        );
        assert_eq!(
            v(Num::Uint(u64::MAX), ResourceType::Integer, &mut s),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            v(Num::Float(2.0), ResourceType::Time, &mut s).unwrap(),
            "Time(2)"
        );
        assert_eq!(
            v(Num::Float(2.5), ResourceType::Integer, &mut s),
            Err(FormatError::WrongType)
        );
        assert_eq!(
            v(Num::Float(1e19), ResourceType::Integer, &mut s),
            Err(FormatError::WrongType)
        );
        assert_eq!(
            v(Num::Uint(3), ResourceType::Float, &mut s).unwrap(),
            "Float(3.0)"
        );
        assert_eq!(
            v(Num::Text(b"-12"), ResourceType::Integer, &mut s).unwrap(),
            "Integer(-12)"
        );
        assert_eq!(
            v(Num::Text(b"1.5"), ResourceType::Float, &mut s).unwrap(),
            "Float(1.5)"
        );
        assert_eq!(
            v(Num::Uint(1), ResourceType::Boolean, &mut s),
            Err(FormatError::WrongType)
        );
        assert_eq!(
            v(Num::Uint(1), ResourceType::String, &mut s),
            Err(FormatError::WrongType)
        );
    }

    #[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
    #[test]
    fn integer_float_conversions_match_the_hardware() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = x >> (x % 64);
            if m < 1 << 53 {
                assert_eq!(f64_from_int(false, m).unwrap(), m as f64);
                assert_eq!(f64_from_int(true, m).unwrap(), -(m as f64));
            }
            let f = f64::from_bits(x);
            let want = (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.223_372_036_854_775e18)
                .then_some(f as i64);
            assert_eq!(exact_i64(f), want, "{f:e}");
            let g = (x % 2_000_001) as f64 - 1e6;
            assert_eq!(exact_i64(g), Some(g as i64));
            assert_eq!(exact_i64(g + 0.5), None);
        }
        assert_eq!(exact_i64(-0.0), Some(0));
        assert_eq!(exact_i64(f64::INFINITY), None);
        assert_eq!(exact_i64(f64::NAN), None);
    }

    #[test]
    fn other_values_need_the_matching_field() {
        let mut s = [0u8; 8];
        assert_eq!(
            to_value(Raw::Str(b"hi"), ResourceType::String, &mut s, false),
            Ok(Value::String("hi"))
        );
        assert_eq!(
            to_value(Raw::Str(&[0xff]), ResourceType::String, &mut s, false),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            to_value(Raw::Bool(true), ResourceType::Boolean, &mut s, false),
            Ok(Value::Boolean(true))
        );
        assert_eq!(
            to_value(Raw::ObjLnk(b"3:0"), ResourceType::ObjLnk, &mut s, false),
            Ok(Value::ObjLnk(3, 0))
        );
        assert_eq!(
            to_value(Raw::Data(&[1, 2]), ResourceType::Opaque, &mut s, false),
            Ok(Value::Opaque(&[1, 2]))
        );
        assert_eq!(
            to_value(Raw::Str(b"x"), ResourceType::Opaque, &mut s, false),
            Err(FormatError::WrongType)
        );
    }
}
