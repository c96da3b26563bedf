//! LwM2M CBOR (LwM2M 1.2, content format 11544): nested CBOR maps keyed by the ids of
//! the path, the values at the leaves. A key may also be an array of ids that stands for
//! several levels at once; the encoder uses that for the request's own path.
//!
//! [`records::Encoder`] and [`records::Decoder`] speak it as format 11544 with the record
//! writer and reader here. The encoder streams into the message buffer with
//! indefinite-length maps, closing and opening levels as consecutive records' paths
//! diverge (records arrive grouped by path, as a Read produces them). The decoder walks
//! the nesting with a fixed stack.

use super::cbor::{self, Item};
use super::records::{self, Record};
use super::senml::{self, Raw};
use super::FormatError;
use crate::model::{Path, ResourceType, Value};

/// One record in a payload opened by a [`records::Encoder`]: `path` lies at or below the
/// base path and after the previous record's path.
///
/// The first record's keys start with the base path: one id, or an array of them (whose
/// ids then open no maps between them).
pub(super) fn record(
    e: &mut records::Encoder<'_, '_>,
    path: &Path,
    value: &Value<'_>,
) -> Result<(), FormatError> {
    let ids = path.ids();
    let base = e.base.ids();
    // The first id to write, and the end of the ids that an array key holds.
    let (from, array) = if e.first {
        if !path.starts_with(&e.base) {
            return Err(FormatError::Malformed);
        }
        if base.len() > 1 {
            cbor::head(e.w, cbor::ARRAY, base.len() as u64)?;
        }
        (0, base.len())
    } else {
        let prev = e.prev.ids();
        let span = prev.iter().zip(ids).take_while(|(a, b)| a == b).count();
        if span >= ids.len() || span < base.len() {
            return Err(FormatError::Malformed);
        }
        // Close the maps that hold keys deeper than the shared prefix.
        for _ in span + 1..prev.len() {
            e.w.put_u8(cbor::BREAK)?;
        }
        (span, 0)
    };
    e.prev = *path;
    for (i, &id) in ids.iter().enumerate().skip(from) {
        if i > from && i >= array {
            e.w.put_u8(cbor::MAP_INDEFINITE)?;
        }
        cbor::head(e.w, cbor::UINT, u64::from(id))?;
    }
    cbor::value(e.w, value)
}

/// The value of a record for a resource of type `ty`. Object links arrive as text.
pub fn to_value<'a>(
    raw: Raw<'a>,
    ty: ResourceType,
    scratch: &'a mut [u8],
) -> Result<Value<'a>, FormatError> {
    senml::convert(raw, ty, scratch, false, true)
}

/// One level of map nesting: pairs left ([`INDEFINITE`] when the map ends with a break)
/// and the path length at which this map's keys start.
#[derive(Clone, Copy)]
struct Level {
    left: u32,
    depth: u8,
}

/// The pairs left in an indefinite-length map. A definite length is capped just below
/// (no message holds that many pairs, so the cap changes no outcome).
const INDEFINITE: u32 = u32::MAX;

impl Level {
    fn new(left: Option<u64>, depth: u8) -> Level {
        let left = left.map_or(INDEFINITE, |n| n.min(u64::from(INDEFINITE - 1)) as u32);
        Level { left, depth }
    }
}

/// Reads the records of a payload one by one, following the nesting with a fixed stack.
pub(super) struct RecordReader<'a> {
    r: cbor::Reader<'a>,
    stack: [Level; 5],
    len: usize,
    path: [u16; 4],
}

impl<'a> RecordReader<'a> {
    /// Starts on a payload whose first item, `first`, was read from `r`; fails unless it
    /// is a map.
    pub(super) fn new(r: cbor::Reader<'a>, first: Item<'a>) -> Result<Self, FormatError> {
        let left = match first {
            Item::Map(left) => left,
            _ => return Err(FormatError::Malformed),
        };
        Ok(RecordReader {
            r,
            stack: [Level::new(left, 0); 5],
            len: 1,
            path: [0; 4],
        })
    }

    /// The next key of the innermost map, closing finished maps; `None` when the outer
    /// map is done.
    fn next_key(&mut self) -> Result<Option<(Item<'a>, u8)>, FormatError> {
        while let Some(i) = self.len.checked_sub(1) {
            let level = self.stack.get_mut(i).ok_or(FormatError::Malformed)?;
            let depth = level.depth;
            let item = match level.left {
                0 => None,
                INDEFINITE => Some(self.r.next_item()?).filter(|i| !matches!(i, Item::Break)),
                n => {
                    level.left = n - 1;
                    Some(self.r.next_item()?)
                }
            };
            if let Some(key) = item {
                return Ok(Some((key, depth)));
            }
            self.len = i;
        }
        Ok(None)
    }

    /// Appends the ids of `key` to the path at `depth`; returns the new depth.
    fn push_key(&mut self, key: Item<'a>, depth: u8) -> Result<u8, FormatError> {
        let (mut n, mut item) = match key {
            Item::Uint(id) => (1, Item::Uint(id)),
            Item::Array(Some(n)) if n > 0 => (n, self.r.next_item()?),
            _ => return Err(FormatError::Malformed),
        };
        let mut depth = usize::from(depth);
        loop {
            let id = match item {
                Item::Uint(id) => u16::try_from(id).ok(),
                _ => None,
            };
            let id = id.filter(|&i| i <= crate::model::path::MAX_ID);
            let slot = self.path.get_mut(depth).ok_or(FormatError::Malformed)?;
            *slot = id.ok_or(FormatError::Malformed)?;
            depth += 1;
            n -= 1;
            if n == 0 {
                return Ok(depth as u8);
            }
            item = self.r.next_item()?;
        }
    }

    /// The next record; `None` after the last, when nothing follows the payload.
    pub(super) fn next_record(&mut self) -> Result<Option<Record<'a>>, FormatError> {
        loop {
            let Some((key, depth)) = self.next_key()? else {
                return if self.r.is_empty() {
                    Ok(None)
                } else {
                    Err(FormatError::Malformed)
                };
            };
            let depth = self.push_key(key, depth)?;
            let mut item = self.r.next_item()?;
            while let Item::Tag(_) = item {
                item = self.r.next_item()?;
            }
            let value = match item {
                Item::Map(left) => {
                    let slot = self.stack.get_mut(self.len).ok_or(FormatError::TooDeep)?;
                    *slot = Level::new(left, depth);
                    self.len += 1;
                    continue;
                }
                Item::Simple(22) => None,
                _ => Some(item.raw().ok_or(FormatError::Malformed)?),
            };
            let ids = self.path.get(..usize::from(depth)).unwrap_or(&[]);
            let path = Path::new(ids).ok_or(FormatError::Malformed)?;
            let path = senml::value_path(path, &value)?;
            return Ok(Some(Record { path, value }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::Writer;
    use crate::formats::content_format::LWM2M_CBOR;
    use crate::formats::records::testing::{decode, encode};
    use crate::formats::records::Encoder;
    use crate::formats::senml::Num;

    fn p(ids: &[u16]) -> Path {
        Path::new(ids).unwrap()
    }

    #[test]
    fn encodes_an_instance_with_a_multiple_resource() {
        let bytes = encode(
            LWM2M_CBOR,
            p(&[3, 0]),
            &[
                (p(&[3, 0, 0]), Value::String("t")),
                (p(&[3, 0, 7, 0]), Value::Integer(1)),
                (p(&[3, 0, 7, 1]), Value::Integer(2)),
                (p(&[3, 0, 9]), Value::Boolean(true)),
            ],
        );
        assert_eq!(
            bytes,
            [
                0xbf, 0x82, 0x03, 0x00, // {[3, 0]:
                0xbf, 0x00, 0x61, b't', //   {0: "t",
                0x07, 0xbf, 0x00, 0x01, 0x01, 0x02, 0xff, //  7: {0: 1, 1: 2},
                0x09, 0xf5, 0xff, 0xff, //  9: true}}
            ]
        );
        let recs = decode(LWM2M_CBOR, &bytes).unwrap();
        let paths: std::vec::Vec<_> = recs.iter().map(|r| r.path).collect();
        assert_eq!(
            paths,
            [
                p(&[3, 0, 0]),
                p(&[3, 0, 7, 0]),
                p(&[3, 0, 7, 1]),
                p(&[3, 0, 9])
            ]
        );
        assert_eq!(recs[2].value, Some(Raw::Num(Num::Uint(2))));
    }

    #[test]
    fn single_resource_and_root_reads() {
        let bytes = encode(
            LWM2M_CBOR,
            p(&[3, 0, 0]),
            &[(p(&[3, 0, 0]), Value::Integer(5))],
        );
        assert_eq!(bytes, [0xbf, 0x83, 0x03, 0x00, 0x00, 0x05, 0xff]);
        assert_eq!(decode(LWM2M_CBOR, &bytes).unwrap()[0].path, p(&[3, 0, 0]));
        let bytes = encode(
            LWM2M_CBOR,
            Path::ROOT,
            &[
                (p(&[1, 0, 1]), Value::Integer(5)),
                (p(&[3, 0, 0]), Value::Integer(6)),
            ],
        );
        assert_eq!(
            bytes,
            [
                0xbf, 0x01, 0xbf, 0x00, 0xbf, 0x01, 0x05, 0xff, 0xff, 0x03, 0xbf, 0x00, 0xbf, 0x00,
                0x06, 0xff, 0xff, 0xff
            ]
        );
        let recs = decode(LWM2M_CBOR, &bytes).unwrap();
        assert_eq!(recs[1].path, p(&[3, 0, 0]));
    }

    #[test]
    fn every_value_type_round_trips() {
        let path = p(&[1, 0, 1]);
        for v in [
            Value::Integer(i64::MIN),
            Value::Unsigned(u64::MAX),
            Value::Float(0.1),
            Value::Boolean(false),
            Value::Opaque(&[0, 255]),
            Value::Time(1_700_000_000),
            Value::ObjLnk(3, 65534),
            Value::String("é"),
        ] {
            let bytes = encode(LWM2M_CBOR, path, &[(path, v)]);
            let recs = decode(LWM2M_CBOR, &bytes).unwrap();
            let mut s = [0u8; 8];
            assert_eq!(
                to_value(recs[0].value.unwrap(), v.kind(), &mut s).unwrap(),
                v
            );
        }
    }

    #[test]
    fn decodes_definite_maps_array_keys_and_nulls() {
        // {3: {0: {[0]: null, 1: 1(5)}}} with definite lengths and a tagged time.
        let data = [
            0xa1, 0x03, 0xa1, 0x00, 0xa2, 0x81, 0x00, 0xf6, 0x01, 0xc1, 0x05,
        ];
        let recs = decode(LWM2M_CBOR, &data).unwrap();
        assert_eq!(
            recs[0],
            Record {
                path: p(&[3, 0, 0]),
                value: None
            }
        );
        assert_eq!(recs[1].value, Some(Raw::Num(Num::Uint(5))));
    }

    #[test]
    fn refuses_malformed_payloads() {
        let bad: &[&[u8]] = &[
            &[],
            &[0x80],                            // not a map
            &[0xbf, 0x03],                      // key without value
            &[0xbf, 0x03, 0x01],                // no break
            &[0xbf, 0x03, 0x01, 0xff, 0x00],    // trailing bytes
            &[0xa1, 0x61, b'a', 0x01],          // text key
            &[0xa1, 0x80, 0x01],                // empty array key
            &[0xa1, 0x19, 0xff, 0xff, 0x01],    // id 65535
            &[0xa1, 0x85, 0, 0, 0, 0, 0, 0x01], // five ids
            &[0xa1, 0x03, 0x81, 0x01],          // array value
            &[
                0xa1, 0x03, 0xa1, 0x00, 0xa1, 0x00, 0xa1, 0x00, 0xa1, 0x00, 0x01,
            ], // too deep
            &[0xa1, 0x03, 0x7f, 0xff],          // indefinite text value
            &[0xa1, 0x03, 0x05],                // a value for a whole object
        ];
        for b in bad {
            assert!(decode(LWM2M_CBOR, b).is_err(), "{b:02x?}");
        }
    }

    #[test]
    fn encoder_refuses_paths_out_of_order_or_outside_the_base() {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        let mut e = Encoder::new(LWM2M_CBOR, &mut w, p(&[3, 0]))
            .unwrap()
            .unwrap();
        assert!(e.record(&p(&[4, 0, 0]), &Value::Integer(1)).is_err());
        e.record(&p(&[3, 0, 1]), &Value::Integer(1)).unwrap();
        assert!(e.record(&p(&[3, 0, 1]), &Value::Integer(1)).is_err());
    }
}
