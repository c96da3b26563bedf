//! LwM2M plain text (content format 0, [`super::content_format::TEXT`]).
//!
//! One value per payload, as its UTF-8 text (LwM2M Core 1.1, 7.4.1 and Appendix C):
//! strings as they are, integers and time in decimal, booleans `0`/`1`, object links
//! `oid:iid`, floats in decimal, opaque values in base64.
//!
//! Floats are written with the fewest significant digits that read back to the same bits,
//! without `core::fmt`: [`encode_f64`] generates exact decimal digits with a small
//! fixed-size big integer and checks each candidate with `str::parse::<f64>`.

use crate::buf::Writer;
use crate::formats::FormatError;
use crate::model::{ResourceType, Value};
use core::cmp::Ordering;

/// Writes `v` as LwM2M plain text.
///
/// Strings and CoRE links are written as they are, integers, unsigned integers and time in
/// decimal, booleans as `0` or `1`, object links as `oid:iid`, opaque values in base64
/// (with `=` padding) and floats by [`encode_f64`]. A non-finite float gives
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
        Value::Opaque(data) => encode_base64(data, w)?,
        Value::Float(f) => encode_f64(f, w)?,
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
    match ty {
        ResourceType::String => Ok(Value::String(utf8(data)?)),
        ResourceType::CoreLnk => Ok(Value::CoreLnk(utf8(data)?)),
        ResourceType::Integer => Ok(Value::Integer(decode_i64(data)?)),
        ResourceType::Time => Ok(Value::Time(decode_i64(data)?)),
        ResourceType::Unsigned => Ok(Value::Unsigned(decode_u64(data)?)),
        ResourceType::Float => Ok(Value::Float(decode_f64(data)?)),
        ResourceType::Boolean => match data {
            b"0" | b"false" => Ok(Value::Boolean(false)),
            b"1" | b"true" => Ok(Value::Boolean(true)),
            _ => Err(FormatError::Malformed),
        },
        ResourceType::ObjLnk => {
            let colon = data
                .iter()
                .position(|&c| c == b':')
                .ok_or(FormatError::Malformed)?;
            let (oid, rest) = data.split_at_checked(colon).unwrap_or((data, &[]));
            let iid = rest.get(1..).unwrap_or(&[]);
            Ok(Value::ObjLnk(decode_u16(oid)?, decode_u16(iid)?))
        }
        ResourceType::Opaque | ResourceType::None => Err(FormatError::WrongType),
    }
}

fn utf8(data: &[u8]) -> Result<&str, FormatError> {
    core::str::from_utf8(data).map_err(|_| FormatError::Malformed)
}

/// Splits an optional sign off `data` and checks that the rest is one or more digits.
/// Returns (negative, digits).
fn signed_digits(data: &[u8]) -> Result<(bool, &[u8]), FormatError> {
    let (neg, digits) = match data.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, data),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(FormatError::Malformed);
    }
    Ok((neg, digits))
}

fn decode_i64(data: &[u8]) -> Result<i64, FormatError> {
    signed_digits(data)?;
    crate::util::parse_i64(data).ok_or(FormatError::OutOfRange)
}

fn decode_u64(data: &[u8]) -> Result<u64, FormatError> {
    let (neg, digits) = signed_digits(data)?;
    let v = crate::util::parse_u64(digits).ok_or(FormatError::OutOfRange)?;
    if neg && v != 0 {
        return Err(FormatError::OutOfRange);
    }
    Ok(v)
}

fn decode_u16(data: &[u8]) -> Result<u16, FormatError> {
    if data.is_empty() || !data.iter().all(u8::is_ascii_digit) {
        return Err(FormatError::Malformed);
    }
    let v = crate::util::parse_u64(data).ok_or(FormatError::OutOfRange)?;
    u16::try_from(v).map_err(|_| FormatError::OutOfRange)
}

fn decode_f64(data: &[u8]) -> Result<f64, FormatError> {
    // Only the characters of a decimal number: this keeps out `inf`, `nan`, `infinity`.
    if data.is_empty()
        || !data
            .iter()
            .all(|&c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return Err(FormatError::Malformed);
    }
    let s = utf8(data)?;
    let v: f64 = s.parse().map_err(|_| FormatError::Malformed)?;
    if !v.is_finite() {
        return Err(FormatError::OutOfRange);
    }
    Ok(v)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64(six: u32) -> u8 {
    BASE64.get((six & 63) as usize).copied().unwrap_or(b'=')
}

/// Writes `data` in base64 (RFC 4648 section 4, with `=` padding).
pub fn encode_base64(data: &[u8], w: &mut Writer<'_>) -> Result<(), FormatError> {
    for chunk in data.chunks(3) {
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            n |= u32::from(b) << (16 - 8 * i);
        }
        let out = [
            b64(n >> 18),
            b64(n >> 12),
            if chunk.len() > 1 { b64(n >> 6) } else { b'=' },
            if chunk.len() > 2 { b64(n) } else { b'=' },
        ];
        w.put(&out)?;
    }
    Ok(())
}

// ---- float to shortest decimal ------------------------------------------------------------

/// Words of the big integer: 1280 bits. The largest intermediate is below 2^1140
/// (a 53-bit mantissa times 10^324 for the smallest subnormal).
const WORDS: usize = 40;

/// A fixed-size unsigned big integer, least significant word first; words at `used` and
/// above are zero.
#[derive(Clone, Copy)]
struct Big {
    w: [u32; WORDS],
    used: usize,
}

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big {
            w: [0; WORDS],
            used: 2,
        };
        for (i, word) in b.w.iter_mut().take(2).enumerate() {
            // Keeps the low 32 bits by design.
            *word = (v >> (32 * i)) as u32;
        }
        b
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for word in self.w.iter_mut().take(self.used) {
            let t = u64::from(*word) * u64::from(m) + carry;
            // Low half kept, high half carried.
            *word = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            // The bounds above keep every value inside WORDS words.
            if let Some(word) = self.w.get_mut(self.used) {
                *word = carry as u32;
                self.used += 1;
            }
        }
    }

    fn mul_pow2(&mut self, mut n: u32) {
        while n >= 31 {
            self.mul_small(1 << 31);
            n -= 31;
        }
        self.mul_small(1 << n);
    }

    fn mul_pow10(&mut self, mut n: u32) {
        while n >= 9 {
            self.mul_small(1_000_000_000);
            n -= 9;
        }
        self.mul_small(10u32.pow(n));
    }

    fn cmp(&self, o: &Big) -> Ordering {
        let n = self.used.max(o.used);
        for (a, b) in self.w.iter().take(n).rev().zip(o.w.iter().take(n).rev()) {
            match a.cmp(b) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        Ordering::Equal
    }

    /// `self -= o`; only called with `self >= o`.
    fn sub(&mut self, o: &Big) {
        let n = self.used.max(o.used);
        let mut borrow = false;
        for (a, &b) in self.w.iter_mut().zip(o.w.iter()).take(n) {
            let (d1, b1) = a.overflowing_sub(b);
            let (d2, b2) = d1.overflowing_sub(u32::from(borrow));
            *a = d2;
            borrow = b1 || b2;
        }
        self.used = n;
    }

    fn is_zero(&self) -> bool {
        self.w.iter().take(self.used).all(|&w| w == 0)
    }
}

/// The first 17 significant decimal digits of a positive finite `v`, the decimal exponent
/// of the first digit, and how the rest compares with half a unit of the 17th digit.
struct Digits {
    d: [u8; 17],
    exp: i32,
    rest_vs_half: Ordering,
    rest_zero: bool,
}

fn exact_digits(v: f64) -> Digits {
    let bits = v.to_bits();
    let frac = bits & ((1u64 << 52) - 1);
    // The exponent field is 11 bits wide.
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let (mant, e2) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    };
    // floor(log2 v), then an estimate of floor(log10 v) that is exact or one too small.
    let log2 = 63 - mant.leading_zeros() as i32 + e2;
    let mut exp = (log2 * 78913) >> 18;

    let mut num = Big::from_u64(mant);
    let mut den = Big::from_u64(1);
    if e2 > 0 {
        num.mul_pow2(e2.unsigned_abs());
    } else {
        den.mul_pow2(e2.unsigned_abs());
    }
    if exp >= 0 {
        den.mul_pow10(exp.unsigned_abs());
    } else {
        num.mul_pow10(exp.unsigned_abs());
    }
    // Bring num/den into [1, 10).
    loop {
        let mut ten_den = den;
        ten_den.mul_small(10);
        if num.cmp(&ten_den) == Ordering::Less {
            break;
        }
        den = ten_den;
        exp += 1;
    }
    while num.cmp(&den) == Ordering::Less {
        num.mul_small(10);
        exp -= 1;
    }
    let mut d = [0u8; 17];
    let count = d.len();
    for (i, digit) in d.iter_mut().enumerate() {
        let mut q = 0u8;
        while q < 9 && num.cmp(&den) != Ordering::Less {
            num.sub(&den);
            q += 1;
        }
        *digit = q;
        if i + 1 < count {
            num.mul_small(10);
        }
    }
    let rest_zero = num.is_zero();
    num.mul_small(2);
    Digits {
        d,
        exp,
        rest_vs_half: num.cmp(&den),
        rest_zero,
    }
}

/// Writes the decimal digits of `mant` (exactly `p` digits, first one non-zero) whose first
/// digit has decimal exponent `exp`: plain notation for exponents -6..=20, else `d.ddde-N`.
/// Integral values keep a `.0` so that the text reads as a float.
fn put_decimal(
    mut mant: u64,
    mut p: usize,
    exp: i32,
    w: &mut Writer<'_>,
) -> Result<(), FormatError> {
    while p > 1 && mant % 10 == 0 {
        mant /= 10;
        p -= 1;
    }
    let mut tmp = [0u8; 20];
    let digits = crate::util::u64_to_dec(mant, &mut tmp);
    if (0..21).contains(&exp) {
        let int_len = exp.unsigned_abs() as usize + 1;
        if digits.len() <= int_len {
            w.put(digits)?;
            for _ in digits.len()..int_len {
                w.put_u8(b'0')?;
            }
            w.put(b".0")?;
        } else {
            let (int, frac) = digits.split_at_checked(int_len).unwrap_or((digits, &[]));
            w.put(int)?;
            w.put_u8(b'.')?;
            w.put(frac)?;
        }
    } else if (-6..0).contains(&exp) {
        w.put(b"0.")?;
        for _ in 1..exp.unsigned_abs() {
            w.put_u8(b'0')?;
        }
        w.put(digits)?;
    } else {
        let (first, rest) = digits.split_at_checked(1).unwrap_or((digits, &[]));
        w.put(first)?;
        if !rest.is_empty() {
            w.put_u8(b'.')?;
            w.put(rest)?;
        }
        w.put_u8(b'e')?;
        w.put_i64_dec(i64::from(exp))?;
    }
    Ok(())
}

/// Formats the candidate into `buf` and tells whether it parses back to `v`. Returns the
/// length written.
fn candidate(v: f64, mant: u64, p: usize, exp: i32, buf: &mut [u8; 32]) -> Option<usize> {
    let mut w = Writer::new(buf);
    put_decimal(mant, p, exp, &mut w).ok()?;
    let parsed: f64 = core::str::from_utf8(w.written()).ok()?.parse().ok()?;
    if parsed.to_bits() == v.to_bits() {
        Some(w.len())
    } else {
        None
    }
}

/// Writes a finite float in the shortest decimal form that `str::parse::<f64>` reads back
/// to the same bits: `21.0`, `-0.5`, `0.1`, `1e21`, `5e-324`, `-0.0`. Plain notation is used
/// for decimal exponents -6 to 20 and `e` notation beyond. NaN and infinities give
/// [`FormatError::OutOfRange`].
pub fn encode_f64(v: f64, w: &mut Writer<'_>) -> Result<(), FormatError> {
    if !v.is_finite() {
        return Err(FormatError::OutOfRange);
    }
    if v.is_sign_negative() {
        w.put_u8(b'-')?;
    }
    let a = v.abs();
    if a == 0.0 {
        w.put(b"0.0")?;
        return Ok(());
    }
    let digits = exact_digits(a);
    let mut buf = [0u8; 32];
    let mut trunc = 0u64;
    let mut pow = 1u64;
    for p in 1..=digits.d.len() {
        let next = digits.d.get(p).copied();
        trunc = trunc * 10 + u64::from(digits.d.get(p - 1).copied().unwrap_or(0));
        pow *= 10;
        // How the dropped digits compare with half a unit of the last kept digit.
        let tail = match next {
            Some(5) => {
                let more = digits.d.iter().skip(p + 1).any(|&x| x != 0);
                if more || !digits.rest_zero {
                    Ordering::Greater
                } else {
                    Ordering::Equal
                }
            }
            Some(n) => n.cmp(&5),
            None => digits.rest_vs_half,
        };
        let (up_mant, up_p, up_exp) = if trunc + 1 == pow {
            (pow / 10, p, digits.exp + 1)
        } else {
            (trunc + 1, p, digits.exp)
        };
        let down = (trunc, p, digits.exp);
        let up = (up_mant, up_p, up_exp);
        let (first, second) = if tail == Ordering::Greater {
            (up, down)
        } else {
            (down, up)
        };
        for (mant, pp, exp) in [first, second] {
            if let Some(len) = candidate(a, mant, pp, exp, &mut buf) {
                w.put(buf.get(..len).unwrap_or(&[]))?;
                return Ok(());
            }
        }
    }
    // Unreachable for finite input (the nearest 17-digit decimal always reads back), but
    // never panic: write the nearest 17-digit form.
    let n = if digits.rest_vs_half == Ordering::Greater {
        trunc + 1
    } else {
        trunc
    };
    put_decimal(n, 17, digits.exp, w)
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
        encode_f64(f, &mut w).unwrap();
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
        assert_eq!(encode_f64(f64::NAN, &mut w), Err(FormatError::OutOfRange));
        assert_eq!(
            encode_f64(f64::INFINITY, &mut w),
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
        assert_eq!(encode_f64(0.125, &mut w), Err(FormatError::NoSpace));
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
            encode_f64(f, &mut w).unwrap();
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
