//! LwM2M plain text (content format 0, [`super::content_format::TEXT`]).
//!
//! One value per payload, as its UTF-8 text (LwM2M Core 1.1, 7.4.1 and Appendix C):
//! strings as they are, integers and time in decimal, booleans `0`/`1`, object links
//! `oid:iid`, floats in decimal, opaque values in base64.
//!
//! Floats are written with the fewest significant digits that read back to the same bits
//! and parsed with correct rounding by [`super::float`], without `core::fmt` or `core`'s
//! float parser.

use crate::buf::Writer;
use crate::formats::FormatError;
use crate::model::{ResourceType, Value};

/// Writes `v` as LwM2M plain text.
///
/// Strings and CoRE links are written as they are, integers, unsigned integers and time in
/// decimal, booleans as `0` or `1`, object links as `oid:iid`, opaque values in base64
/// (with `=` padding) and floats by [`super::float::write_shortest`]. A non-finite float gives
/// [`FormatError::OutOfRange`]. On [`FormatError::NoSpace`] the writer may hold part of the
/// value: the caller truncates it back to its length before the call.
pub fn encode(v: &Value<'_>, w: &mut Writer<'_>) -> Result<(), FormatError> {
    match *v {
        Value::String(s) | Value::CoreLnk(s) => w.put(s.as_bytes())?,
        Value::Integer(i) | Value::Time(i) => w.put_i64_dec(i)?,
        Value::Unsigned(u) => w.put_u64_dec(u)?,
        Value::Boolean(b) => w.put_u8(if b { b'1' } else { b'0' })?,
        Value::ObjLnk(oid, iid) => {
            w.put_u64_dec(u64::from(oid))?;
            w.put_u8(b':')?;
            w.put_u64_dec(u64::from(iid))?;
        }
        Value::Opaque(data) => encode_base64(data, false, w)?,
        Value::Float(f) => super::float::write_shortest(f, w)?,
    }
    Ok(())
}

/// Reads a plain-text payload as a value of type `ty`.
///
/// - String and CoreLnk: the bytes must be valid UTF-8, else [`FormatError::Malformed`].
/// - Integer and Time: an optional sign and decimal digits (no spaces); bad syntax gives
///   `Malformed`, a number outside `i64` gives [`FormatError::OutOfRange`].
/// - Unsigned: like Integer; a negative number (other than `-0`) or one above `u64::MAX`
///   gives `OutOfRange`.
/// - Float: decimal with optional fraction and exponent (`inf`, `nan` and the empty payload
///   are `Malformed`); a number too large for `f64` (e.g. `1e400`) gives `OutOfRange`, one
///   too small rounds to zero.
/// - Boolean: `0`, `1`, `false` or `true`; anything else is `Malformed`.
/// - ObjLnk: `oid:iid` in decimal; an id above 65535 gives `OutOfRange`.
/// - Opaque: [`FormatError::WrongType`]. Base64 text cannot be decoded into a borrowed
///   value; opaque resources are written with content format 42 (see `super::opaque`).
/// - None: `WrongType` (executable resources carry no value).
pub fn decode<'a>(data: &'a [u8], ty: ResourceType) -> Result<Value<'a>, FormatError> {
    Ok(match ty {
        // Text values are the same in TLV: the bytes as they are.
        ResourceType::String | ResourceType::CoreLnk => super::tlv::decode_value(data, ty)?,
        ResourceType::Integer | ResourceType::Time | ResourceType::Unsigned => {
            decode_int(data, ty)?
        }
        ResourceType::Float => Value::Float(super::float::parse(data)?),
        ResourceType::Boolean => match data {
            b"0" | b"false" => Value::Boolean(false),
            b"1" | b"true" => Value::Boolean(true),
            _ => return Err(FormatError::Malformed),
        },
        ResourceType::ObjLnk => {
            let colon = data
                .iter()
                .position(|&c| c == b':')
                .ok_or(FormatError::Malformed)?;
            let oid = decode_u16(data.get(..colon).unwrap_or(&[]))?;
            Value::ObjLnk(oid, decode_u16(data.get(colon + 1..).unwrap_or(&[]))?)
        }
        ResourceType::Opaque | ResourceType::None => return Err(FormatError::WrongType),
    })
}

/// One or more decimal digits (no sign): `Malformed` on anything else, `OutOfRange` when the
/// number passes `u64::MAX`.
#[inline(never)]
pub(crate) fn digits(data: &[u8]) -> Result<u64, FormatError> {
    if data.is_empty() {
        return Err(FormatError::Malformed);
    }
    let mut v = 0u64;
    let mut over = false;
    for &c in data {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return Err(FormatError::Malformed);
        }
        // Above this, ten times the value passes u64::MAX.
        over |= v > u64::MAX / 10;
        let (sum, carry) = v.wrapping_mul(10).overflowing_add(u64::from(d));
        over |= carry;
        v = sum;
    }
    if over {
        return Err(FormatError::OutOfRange);
    }
    Ok(v)
}

/// An Integer, Time or Unsigned value: an optional sign and decimal digits.
#[inline(never)]
fn decode_int(data: &[u8], ty: ResourceType) -> Result<Value<'static>, FormatError> {
    let (neg, rest) = match data.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, data),
    };
    let m = digits(rest)?;
    if ty == ResourceType::Unsigned {
        return if neg && m != 0 {
            Err(FormatError::OutOfRange)
        } else {
            Ok(Value::Unsigned(m))
        };
    }
    // `m as i64` of 2^63 is i64::MIN, which negates to itself.
    let i = match (neg, m) {
        (true, m) if m <= 1 << 63 => (m as i64).wrapping_neg(),
        (false, m) if m < 1 << 63 => m as i64,
        _ => return Err(FormatError::OutOfRange),
    };
    Ok(if ty == ResourceType::Time {
        Value::Time(i)
    } else {
        Value::Integer(i)
    })
}

/// An id of an object link: digits only, at most 65535.
fn decode_u16(data: &[u8]) -> Result<u16, FormatError> {
    u16::try_from(digits(data)?).map_err(|_| FormatError::OutOfRange)
}

/// Writes `data` in base64 (RFC 4648): the standard alphabet with `=` padding (section 4),
/// or with `url` the URL-safe alphabet without padding (section 5, SenML's `vd`).
pub fn encode_base64(data: &[u8], url: bool, w: &mut Writer<'_>) -> Result<(), FormatError> {
    // The alphabet computed rather than looked up: smaller than a 64-byte table.
    let digit = |six: u32| {
        let six = (six & 63) as u8;
        match six {
            0..=25 => b'A' + six,
            26..=51 => b'a' + (six - 26),
            52..=61 => b'0' + (six - 52),
            62 if url => b'-',
            62 => b'+',
            _ if url => b'_',
            _ => b'/',
        }
    };
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            w.put_u8(digit(acc >> bits))?;
        }
    }
    if bits > 0 {
        w.put_u8(digit(acc << (6 - bits)))?;
    }
    if !url {
        // `k` bytes past the last whole group of three give `3 - k` padding characters.
        for _ in 0..(3 - data.len() % 3) % 3 {
            w.put_u8(b'=')?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: Value<'_>) -> std::vec::Vec<u8> {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        encode(&v, &mut w).unwrap();
        w.written().to_vec()
    }

    fn fenc(f: f64) -> std::string::String {
        let mut b = [0u8; 40];
        let mut w = Writer::new(&mut b);
        crate::formats::float::write_shortest(f, &mut w).unwrap();
        std::string::String::from_utf8(w.written().to_vec()).unwrap()
    }

    #[test]
    fn encode_each_type() {
        assert_eq!(
            enc(Value::String("Open Mobile Alliance")),
            b"Open Mobile Alliance"
        );
        assert_eq!(enc(Value::CoreLnk("</1/0>")), b"</1/0>");
        assert_eq!(enc(Value::Integer(-42)), b"-42");
        assert_eq!(enc(Value::Time(1367491215)), b"1367491215");
        assert_eq!(enc(Value::Unsigned(u64::MAX)), b"18446744073709551615");
        assert_eq!(enc(Value::Boolean(true)), b"1");
        assert_eq!(enc(Value::Boolean(false)), b"0");
        assert_eq!(enc(Value::ObjLnk(3, 65535)), b"3:65535");
        assert_eq!(enc(Value::Float(21.5)), b"21.5");
        assert_eq!(enc(Value::Opaque(b"")), b"");
        assert_eq!(enc(Value::Opaque(b"f")), b"Zg==");
        assert_eq!(enc(Value::Opaque(b"fo")), b"Zm8=");
        assert_eq!(enc(Value::Opaque(b"foo")), b"Zm9v");
        assert_eq!(enc(Value::Opaque(b"foobar")), b"Zm9vYmFy");
        assert_eq!(enc(Value::Opaque(&[0xfb, 0xff])), b"+/8=");
    }

    #[test]
    fn round_trip_every_type() {
        let values = [
            Value::String("héllo"),
            Value::CoreLnk("</3/0>;pmin=10"),
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Time(-1),
            Value::Unsigned(u64::MAX),
            Value::Unsigned(0),
            Value::Boolean(true),
            Value::Boolean(false),
            Value::ObjLnk(0, 0),
            Value::ObjLnk(65535, 65535),
            Value::Float(3.25),
            Value::Float(-0.0),
            Value::Float(f64::MAX),
            Value::Float(f64::MIN_POSITIVE),
            Value::Float(5e-324),
        ];
        for v in values {
            let bytes = enc(v);
            let back = decode(&bytes, v.kind()).unwrap();
            match (v, back) {
                (Value::Float(a), Value::Float(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                _ => assert_eq!(v, back),
            }
        }
    }

    #[test]
    fn float_shortest_forms() {
        assert_eq!(fenc(21.0), "21.0");
        assert_eq!(fenc(0.1), "0.1");
        assert_eq!(fenc(0.3), "0.3");
        assert_eq!(fenc(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(fenc(-2.5), "-2.5");
        assert_eq!(fenc(0.0), "0.0");
        assert_eq!(fenc(-0.0), "-0.0");
        assert_eq!(fenc(100.0), "100.0");
        assert_eq!(fenc(1e20), "100000000000000000000.0");
        assert_eq!(fenc(1e21), "1e21");
        assert_eq!(fenc(1.5e300), "1.5e300");
        assert_eq!(fenc(0.000001), "0.000001");
        assert_eq!(fenc(1e-7), "1e-7");
        assert_eq!(fenc(1.25e-7), "1.25e-7");
        assert_eq!(fenc(5e-324), "5e-324");
        assert_eq!(fenc(f64::MAX), "1.7976931348623157e308");
        assert_eq!(fenc(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        assert_eq!(fenc(9007199254740993.0), "9007199254740992.0");
        assert_eq!(fenc(123456.789), "123456.789");
        assert_eq!(fenc(f64::from(f32::MAX)), "3.4028234663852886e38");
    }

    #[test]
    fn float_non_finite_is_out_of_range() {
        let mut b = [0u8; 40];
        let mut w = Writer::new(&mut b);
        assert_eq!(
            crate::formats::float::write_shortest(f64::NAN, &mut w),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            crate::formats::float::write_shortest(f64::INFINITY, &mut w),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            encode(&Value::Float(f64::NEG_INFINITY), &mut w),
            Err(FormatError::OutOfRange)
        );
        assert!(w.is_empty());
    }

    #[test]
    fn float_no_space() {
        let mut b = [0u8; 3];
        let mut w = Writer::new(&mut b);
        assert_eq!(
            crate::formats::float::write_shortest(0.125, &mut w),
            Err(FormatError::NoSpace)
        );
    }

    #[test]
    fn float_random_bits_round_trip() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut b = [0u8; 40];
        let mut n = 0;
        while n < 100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if !f.is_finite() {
                continue;
            }
            n += 1;
            let mut w = Writer::new(&mut b);
            crate::formats::float::write_shortest(f, &mut w).unwrap();
            let s = core::str::from_utf8(w.written()).unwrap();
            let back: f64 = s.parse().unwrap();
            assert_eq!(back.to_bits(), f.to_bits(), "{s}");
            // Shortest: the standard library's shortest form has as many digits or more.
            let std_digits = std::format!("{:e}", f.abs());
            let std_sig = std_digits.split('e').next().unwrap().replace('.', "").len();
            let ours = s.trim_start_matches('-');
            let mant = ours.split('e').next().unwrap();
            let sig = mant
                .replace('.', "")
                .trim_start_matches('0')
                .trim_end_matches('0')
                .len();
            assert!(sig <= std_sig.max(1), "{s} vs {std_digits}");
        }
    }

    #[test]
    fn float_small_values_round_trip() {
        for i in 0..10_000u32 {
            let f = f64::from(i) / 1000.0;
            let s = fenc(f);
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), f.to_bits());
            assert_eq!(s, std::format!("{f:?}"));
        }
        for i in 1..2000u64 {
            let f = f64::from_bits(i);
            assert_eq!(fenc(f).parse::<f64>().unwrap().to_bits(), i);
        }
    }

    #[test]
    fn decode_each_type() {
        assert_eq!(
            decode(b"abc", ResourceType::String),
            Ok(Value::String("abc"))
        );
        assert_eq!(decode(b"", ResourceType::String), Ok(Value::String("")));
        assert_eq!(decode(b"-5", ResourceType::Integer), Ok(Value::Integer(-5)));
        assert_eq!(decode(b"+5", ResourceType::Integer), Ok(Value::Integer(5)));
        assert_eq!(decode(b"7", ResourceType::Time), Ok(Value::Time(7)));
        assert_eq!(
            decode(b"-0", ResourceType::Unsigned),
            Ok(Value::Unsigned(0))
        );
        assert_eq!(
            decode(b"1", ResourceType::Boolean),
            Ok(Value::Boolean(true))
        );
        assert_eq!(
            decode(b"0", ResourceType::Boolean),
            Ok(Value::Boolean(false))
        );
        assert_eq!(
            decode(b"true", ResourceType::Boolean),
            Ok(Value::Boolean(true))
        );
        assert_eq!(
            decode(b"false", ResourceType::Boolean),
            Ok(Value::Boolean(false))
        );
        assert_eq!(
            decode(b"1:2", ResourceType::ObjLnk),
            Ok(Value::ObjLnk(1, 2))
        );
        assert_eq!(decode(b"21", ResourceType::Float), Ok(Value::Float(21.0)));
        assert_eq!(
            decode(b"-1.5E+2", ResourceType::Float),
            Ok(Value::Float(-150.0))
        );
        assert_eq!(
            decode(b"1e-400", ResourceType::Float),
            Ok(Value::Float(0.0))
        );
        assert_eq!(
            decode(b"</1>", ResourceType::CoreLnk),
            Ok(Value::CoreLnk("</1>"))
        );
    }

    #[test]
    fn float_too_large_is_out_of_range() {
        assert_eq!(
            decode(b"1e400", ResourceType::Float),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            decode(b"-1e400", ResourceType::Float),
            Err(FormatError::OutOfRange)
        );
    }

    #[test]
    fn float_words_are_malformed() {
        for s in [
            &b"inf"[..],
            b"-inf",
            b"nan",
            b"NaN",
            b"infinity",
            b"",
            b".",
            b"e5",
            b"1e",
            b" 1",
            b"1,5",
        ] {
            assert_eq!(
                decode(s, ResourceType::Float),
                Err(FormatError::Malformed),
                "{s:?}"
            );
        }
    }

    fn decode_i64(s: &[u8]) -> Result<i64, FormatError> {
        match decode(s, ResourceType::Integer)? {
            Value::Integer(i) => Ok(i),
            v => panic!("{v:?}"),
        }
    }

    fn decode_u64(s: &[u8]) -> Result<u64, FormatError> {
        match decode(s, ResourceType::Unsigned)? {
            Value::Unsigned(u) => Ok(u),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn integer_edges() {
        assert_eq!(decode_i64(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(
            decode_i64(b"-9223372036854775809"),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            decode_i64(b"9223372036854775808"),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(decode_i64(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(decode_i64(b"+7"), Ok(7));
        assert_eq!(decode_i64(b"-0"), Ok(0));
        assert_eq!(decode_i64(b"-"), Err(FormatError::Malformed));
        assert_eq!(decode_u64(b"-0"), Ok(0));
        assert_eq!(decode_u64(b"-1"), Err(FormatError::OutOfRange));
        assert_eq!(decode_u64(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            decode_u64(b"18446744073709551616"),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            decode_u64(b"184467440737095516150"),
            Err(FormatError::OutOfRange)
        );
        // Bad syntax wins over overflow, wherever it is.
        assert_eq!(
            decode_u64(b"99999999999999999999999x"),
            Err(FormatError::Malformed)
        );
        assert_eq!(decode_u64(b"+"), Err(FormatError::Malformed));
        assert_eq!(decode_u64(b"+5"), Ok(5));
        assert_eq!(decode_u16(b"+1"), Err(FormatError::Malformed));
        assert_eq!(decode_u16(b"65535"), Ok(65535));
        assert_eq!(decode_u16(b"65536"), Err(FormatError::OutOfRange));
    }

    #[test]
    fn integer_overflow_is_out_of_range() {
        assert_eq!(
            decode(b"9223372036854775808", ResourceType::Integer),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            decode(b"-9223372036854775809", ResourceType::Time),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            decode(b"18446744073709551616", ResourceType::Unsigned),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            decode(b"-1", ResourceType::Unsigned),
            Err(FormatError::OutOfRange)
        );
    }

    #[test]
    fn empty_integer_is_malformed() {
        assert_eq!(
            decode(b"", ResourceType::Integer),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode(b"", ResourceType::Unsigned),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode(b"", ResourceType::Boolean),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode(b"", ResourceType::ObjLnk),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn double_minus_is_malformed() {
        assert_eq!(
            decode(b"--1", ResourceType::Integer),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode(b"-", ResourceType::Integer),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode(b"1 ", ResourceType::Integer),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode(b"0x10", ResourceType::Integer),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode(b"--1", ResourceType::Unsigned),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn objlnk_id_above_65535_is_out_of_range() {
        assert_eq!(
            decode(b"1:70000", ResourceType::ObjLnk),
            Err(FormatError::OutOfRange)
        );
        assert_eq!(
            decode(b"65536:0", ResourceType::ObjLnk),
            Err(FormatError::OutOfRange)
        );
    }

    #[test]
    fn objlnk_bad_syntax_is_malformed() {
        for s in [&b"1"[..], b":1", b"1:", b"1:2:3", b"-1:2", b"1: 2"] {
            assert_eq!(
                decode(s, ResourceType::ObjLnk),
                Err(FormatError::Malformed),
                "{s:?}"
            );
        }
    }

    #[test]
    fn boolean_two_is_malformed() {
        assert_eq!(
            decode(b"2", ResourceType::Boolean),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode(b"True", ResourceType::Boolean),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        assert_eq!(
            decode(b"a\xffb", ResourceType::String),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode(b"\xc3", ResourceType::CoreLnk),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn opaque_and_none_are_wrong_type() {
        assert_eq!(
            decode(b"Zm9v", ResourceType::Opaque),
            Err(FormatError::WrongType)
        );
        assert_eq!(decode(b"", ResourceType::None), Err(FormatError::WrongType));
    }
}
