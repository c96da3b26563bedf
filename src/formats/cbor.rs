//! CBOR (RFC 8949) primitives: an encoder that writes data items into a [`Writer`] and a
//! zero-copy reader that yields one data item head at a time. SenML CBOR and LwM2M CBOR
//! are built on these.
//!
//! The reader accepts what LwM2M peers send: definite and indefinite-length arrays and
//! maps, tags (returned to the caller), half, single and double floats. Indefinite-length
//! byte and text strings would need a copy to be used as one slice: they are refused as
//! malformed, as are reserved additional-information values.

use super::senml::{Num, Raw};
use super::tlv::{f32_bits, f64_from_f32_bits};
use super::FormatError;
use crate::buf::Writer;
use crate::model::Value;

/// Major type 0: unsigned integer.
pub const UINT: u8 = 0;
/// Major type 1: negative integer (-1 - n).
pub const NINT: u8 = 1;
/// Major type 2: byte string.
pub const BYTES: u8 = 2;
/// Major type 3: text string.
pub const TEXT: u8 = 3;
/// Major type 4: array.
pub const ARRAY: u8 = 4;
/// Major type 5: map.
pub const MAP: u8 = 5;
/// Major type 6: tag.
pub const TAG: u8 = 6;

/// The initial byte of an indefinite-length map.
pub const MAP_INDEFINITE: u8 = 0xbf;
/// The "break" stop code that ends an indefinite-length item.
pub const BREAK: u8 = 0xff;

/// Writes the head of a data item: major type and argument, in the shortest form.
pub fn head(w: &mut Writer<'_>, major: u8, arg: u64) -> Result<(), FormatError> {
    let mt = major << 5;
    let bytes = arg.to_be_bytes();
    let (ai, n) = match arg {
        0..=23 => return Ok(w.put_u8(mt | arg as u8)?),
        24..=0xff => (24, 1),
        0x100..=0xffff => (25, 2),
        0x1_0000..=0xffff_ffff => (26, 4),
        _ => (27, 8),
    };
    w.put_u8(mt | ai)?;
    Ok(w.put(bytes.get(8 - n..).unwrap_or(&[]))?)
}

/// A signed integer (major type 0 or 1).
pub fn int(w: &mut Writer<'_>, v: i64) -> Result<(), FormatError> {
    if v < 0 {
        // -1 - v, computed without overflow for i64::MIN.
        head(w, NINT, !(v as u64))
    } else {
        head(w, UINT, v as u64)
    }
}

/// A text string.
pub fn text(w: &mut Writer<'_>, s: &[u8]) -> Result<(), FormatError> {
    head(w, TEXT, s.len() as u64)?;
    Ok(w.put(s)?)
}

/// A byte string.
pub fn bytes(w: &mut Writer<'_>, s: &[u8]) -> Result<(), FormatError> {
    head(w, BYTES, s.len() as u64)?;
    Ok(w.put(s)?)
}

/// `true` or `false`.
pub fn boolean(w: &mut Writer<'_>, b: bool) -> Result<(), FormatError> {
    Ok(w.put_u8(if b { 0xf5 } else { 0xf4 })?)
}

/// A float: single precision when that is exact, double otherwise (so it round-trips).
pub fn float(w: &mut Writer<'_>, f: f64) -> Result<(), FormatError> {
    match f32_bits(f) {
        Some(b) => {
            w.put_u8(0xfa)?;
            Ok(w.put(&b.to_be_bytes())?)
        }
        None => {
            w.put_u8(0xfb)?;
            Ok(w.put(&f.to_bits().to_be_bytes())?)
        }
    }
}

/// A record's value as one data item; object links as `oid:iid` text.
pub fn value(w: &mut Writer<'_>, v: &Value<'_>) -> Result<(), FormatError> {
    match *v {
        Value::Integer(i) | Value::Time(i) => int(w, i),
        Value::Unsigned(u) => head(w, UINT, u),
        Value::Float(f) => float(w, f),
        Value::Boolean(b) => boolean(w, b),
        Value::String(s) | Value::CoreLnk(s) => text(w, s.as_bytes()),
        Value::Opaque(d) => bytes(w, d),
        Value::ObjLnk(..) => {
            // `oid:iid`, as text/plain writes it.
            let mut buf = [0u8; 11];
            let mut t = Writer::new(&mut buf);
            super::text::encode(v, &mut t)?;
            text(w, t.written())
        }
    }
}

/// One data item head as the reader sees it. Strings carry their bytes; arrays and maps
/// their length (`None` when indefinite), whose members follow.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Item<'a> {
    /// Unsigned integer.
    Uint(u64),
    /// Negative integer, stored as n where the value is -1 - n.
    Nint(u64),
    /// Byte string.
    Bytes(&'a [u8]),
    /// Text string (not yet checked for UTF-8).
    Text(&'a [u8]),
    /// Array of this many items.
    Array(Option<u64>),
    /// Map of this many pairs.
    Map(Option<u64>),
    /// Tag number; the tagged item follows.
    Tag(u64),
    /// `false` or `true`.
    Bool(bool),
    /// `null` or `undefined`, or another simple value.
    Simple(u8),
    /// A half, single or double float, widened exactly.
    Float(f64),
    /// The stop code of an indefinite-length array or map.
    Break,
}

impl<'a> Item<'a> {
    /// The integer value, when the item is an integer that fits an i64.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Item::Uint(u) => i64::try_from(u).ok(),
            Item::Nint(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => None,
        }
    }

    /// The item as a record value, when it is a number, a string or a boolean (text
    /// is a string; object links are told apart by the field or the resource type).
    pub fn raw(self) -> Option<Raw<'a>> {
        Some(match self {
            Item::Uint(u) => Raw::Num(Num::Uint(u)),
            Item::Nint(n) => Raw::Num(Num::Nint(n)),
            Item::Float(f) => Raw::Num(Num::Float(f)),
            Item::Text(t) => Raw::Str(t),
            Item::Bytes(b) => Raw::Data(b),
            Item::Bool(b) => Raw::Bool(b),
            _ => return None,
        })
    }
}

/// Reads data item heads from a byte slice.
#[derive(Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { rest: data }
    }

    /// True when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], FormatError> {
        let n = usize::try_from(n).map_err(|_| FormatError::Malformed)?;
        let (head, rest) = self
            .rest
            .split_at_checked(n)
            .ok_or(FormatError::Malformed)?;
        self.rest = rest;
        Ok(head)
    }

    /// The next item head.
    pub fn next_item(&mut self) -> Result<Item<'a>, FormatError> {
        let (&ib, rest) = self.rest.split_first().ok_or(FormatError::Malformed)?;
        self.rest = rest;
        let (major, ai) = (ib >> 5, ib & 0x1f);
        let arg = match ai {
            0..=23 => u64::from(ai),
            // The argument follows in 1, 2, 4 or 8 bytes.
            24..=27 => {
                let bytes = self.take(u64::from(1u8 << (ai - 24)))?;
                bytes.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b))
            }
            31 => {
                return match major {
                    ARRAY => Ok(Item::Array(None)),
                    MAP => Ok(Item::Map(None)),
                    7 => Ok(Item::Break),
                    _ => Err(FormatError::Malformed),
                }
            }
            _ => return Err(FormatError::Malformed),
        };
        Ok(match (major, ai) {
            (UINT, _) => Item::Uint(arg),
            (NINT, _) => Item::Nint(arg),
            (BYTES, _) => Item::Bytes(self.take(arg)?),
            (TEXT, _) => Item::Text(self.take(arg)?),
            (ARRAY, _) => Item::Array(Some(arg)),
            (MAP, _) => Item::Map(Some(arg)),
            (TAG, _) => Item::Tag(arg),
            // Major type 7: simple values and floats.
            (_, 20 | 21) => Item::Bool(ai == 21),
            (_, 0..=23) => Item::Simple(ai),
            (_, 24) if arg >= 32 => Item::Simple(arg as u8),
            (_, 25) => Item::Float(f64_from_f16_bits(arg as u16)),
            (_, 26) => Item::Float(f64_from_f32_bits(arg as u32)),
            (_, 27) => Item::Float(f64::from_bits(arg)),
            _ => return Err(FormatError::Malformed),
        })
    }

    /// Skips one whole data item (with everything nested in it), at most `depth` levels
    /// deep.
    pub fn skip(&mut self, depth: u8) -> Result<(), FormatError> {
        let item = self.next_item()?;
        self.skip_rest(item, depth)
    }

    /// Skips what follows the head `item` that was just read.
    pub fn skip_rest(&mut self, item: Item<'a>, depth: u8) -> Result<(), FormatError> {
        let (count, per) = match item {
            Item::Array(n) => (n, 1u64),
            Item::Map(n) => (n, 2),
            Item::Tag(_) => (Some(1), 1),
            Item::Break => return Err(FormatError::Malformed),
            _ => return Ok(()),
        };
        let depth = depth.checked_sub(1).ok_or(FormatError::TooDeep)?;
        match count {
            Some(n) => {
                let items = n.checked_mul(per).ok_or(FormatError::Malformed)?;
                // Counted in 32 bits: the data runs out long before.
                for _ in 0..u32::try_from(items).unwrap_or(u32::MAX) {
                    self.skip(depth)?;
                }
            }
            None => loop {
                let next = self.next_item()?;
                if matches!(next, Item::Break) {
                    break;
                }
                self.skip_rest(next, depth)?;
            },
        }
        Ok(())
    }
}

/// The f64 equal to an IEEE 754 half-precision float: widened to the f32 with the same
/// value (on the bits, or by the single-precision FPU for subnormals), then to f64 as TLV
/// does. NaNs keep their payload bits.
fn f64_from_f16_bits(h: u16) -> f64 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = h & 0x3ff;
    let bits = match exp {
        // Zero and subnormals: mant * 2^-24, exact in an f32.
        0 => (f32::from(mant) * (1.0 / 16_777_216.0)).to_bits(),
        0x1f if mant == 0 => 0x7f80_0000,
        0x1f => {
            return f64::from_bits(
                (u64::from(sign) << 32) | (0x7ff << 52) | (u64::from(mant) << 42),
            )
        }
        _ => ((exp + 127 - 15) << 23) | (u32::from(mant) << 13),
    };
    f64_from_f32_bits(sign | bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl Fn(&mut Writer<'_>) -> Result<(), FormatError>) -> std::vec::Vec<u8> {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        f(&mut w).unwrap();
        w.written().to_vec()
    }

    #[test]
    fn integers_use_the_shortest_head() {
        // RFC 8949 Appendix A.
        assert_eq!(enc(|w| int(w, 0)), [0x00]);
        assert_eq!(enc(|w| int(w, 23)), [0x17]);
        assert_eq!(enc(|w| int(w, 24)), [0x18, 0x18]);
        assert_eq!(enc(|w| int(w, 1000)), [0x19, 0x03, 0xe8]);
        assert_eq!(enc(|w| int(w, 1_000_000)), [0x1a, 0x00, 0x0f, 0x42, 0x40]);
        assert_eq!(
            enc(|w| head(w, UINT, u64::MAX)),
            [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(enc(|w| int(w, -1)), [0x20]);
        assert_eq!(enc(|w| int(w, -1000)), [0x39, 0x03, 0xe7]);
        assert_eq!(
            enc(|w| int(w, i64::MIN)),
            [0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn strings_floats_and_booleans() {
        assert_eq!(enc(|w| text(w, b"IETF")), [0x64, b'I', b'E', b'T', b'F']);
        assert_eq!(enc(|w| bytes(w, &[1, 2])), [0x42, 1, 2]);
        assert_eq!(enc(|w| boolean(w, true)), [0xf5]);
        assert_eq!(enc(|w| float(w, 100000.0)), [0xfa, 0x47, 0xc3, 0x50, 0x00]);
        assert_eq!(
            enc(|w| float(w, 1.1)),
            [0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]
        );
    }

    fn items(data: &[u8]) -> Result<std::vec::Vec<Item<'_>>, FormatError> {
        let mut r = Reader::new(data);
        let mut v = std::vec::Vec::new();
        while !r.is_empty() {
            v.push(r.next_item()?);
        }
        Ok(v)
    }

    #[test]
    fn reader_decodes_rfc_examples() {
        assert_eq!(items(&[0x19, 0x03, 0xe8]).unwrap(), [Item::Uint(1000)]);
        assert_eq!(items(&[0x38, 0x63]).unwrap(), [Item::Nint(99)]);
        assert_eq!(Item::Nint(99).as_i64(), Some(-100));
        assert_eq!(Item::Nint(u64::MAX).as_i64(), None);
        assert_eq!(items(&[0xf9, 0x3c, 0x00]).unwrap(), [Item::Float(1.0)]);
        assert_eq!(items(&[0xf9, 0x7b, 0xff]).unwrap(), [Item::Float(65504.0)]);
        assert_eq!(
            items(&[0xf9, 0x00, 0x01]).unwrap(),
            [Item::Float(5.960464477539063e-8)]
        );
        assert_eq!(items(&[0xf9, 0xc4, 0x00]).unwrap(), [Item::Float(-4.0)]);
        assert_eq!(
            items(&[0xf9, 0x7c, 0x00]).unwrap(),
            [Item::Float(f64::INFINITY)]
        );
        assert_eq!(
            items(&[0xfa, 0x47, 0xc3, 0x50, 0x00]).unwrap(),
            [Item::Float(100000.0)]
        );
        assert_eq!(
            items(&[0xf4, 0xf6]).unwrap(),
            [Item::Bool(false), Item::Simple(22)]
        );
        assert_eq!(
            items(&[0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0]).unwrap(),
            [Item::Tag(1), Item::Uint(1363896240)]
        );
        assert_eq!(
            items(&[0xbf, 0x61, b'a', 0x01, 0xff]).unwrap(),
            [
                Item::Map(None),
                Item::Text(b"a"),
                Item::Uint(1),
                Item::Break
            ]
        );
    }

    #[test]
    fn every_half_float_widens_exactly() {
        for h in 0..=u16::MAX {
            let (sign, exp, mant) = (h >> 15, (h >> 10) & 0x1f, h & 0x3ff);
            let got = f64_from_f16_bits(h);
            let want = match exp {
                0 => f64::from(mant) * 2f64.powi(-24),
                0x1f if mant == 0 => f64::INFINITY,
                0x1f => {
                    let bits = (0x7ffu64 << 52) | (u64::from(mant) << 42);
                    assert_eq!(got.to_bits() & !(1 << 63), bits, "{h:#x}");
                    continue;
                }
                _ => f64::from(mant | 0x400) * 2f64.powi(i32::from(exp) - 25),
            };
            let want = if sign == 1 { -want } else { want };
            assert_eq!(got.to_bits(), want.to_bits(), "{h:#x}");
        }
    }

    #[test]
    fn reader_refuses_malformed_heads() {
        for bad in [
            &[0x18][..],                                             // argument missing
            &[0x1c],                   // reserved additional information
            &[0x5f, 0x41, 0x00, 0xff], // indefinite byte string
            &[0x7f, 0xff],             // indefinite text string
            &[0x3f],                   // indefinite integer
            &[0x43, 1, 2],             // string past the end
            &[0xf8, 0x10],             // two-byte simple value below 32
            &[0xfc],                   // reserved simple
            &[0xfb, 0, 0],             // truncated double
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // huge length
        ] {
            assert!(items(bad).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn skip_handles_nesting_and_limits_depth() {
        let mut r = Reader::new(&[0x82, 0xa1, 0x01, 0x9f, 0x02, 0xff, 0xc1, 0x03, 0x07]);
        r.skip(4).unwrap();
        assert_eq!(r.next_item().unwrap(), Item::Uint(7));
        let deep = [0x81u8; 40];
        assert_eq!(Reader::new(&deep).skip(8), Err(FormatError::TooDeep));
        assert!(Reader::new(&[0x9f, 0x01]).skip(4).is_err());
        assert!(Reader::new(&[0xff]).skip(4).is_err());
    }
}
