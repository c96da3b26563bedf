//! SenML CBOR (RFC 8428 section 6, content format 112) as LwM2M 1.1 uses it.
//!
//! [`records::Encoder`] and [`records::Decoder`] speak it as format 112 with the record
//! writer and reader here. The encoder streams records into the message buffer as an
//! indefinite-length array, so no record count is needed up front. The decoder walks a
//! pack record by record, resolving base names, without copying.

use super::cbor::{self, Item};
use super::records::{self, Record};
use super::senml::{self, label, Fields};
use super::FormatError;
use crate::buf::Writer;
use crate::model::{Path, Value};

/// The value labels, by [`senml::label`] class: `v` 2, `vs` 3, `vb` 4, `vd` 8, and LwM2M's
/// object link field, the text "vlo".
const VALUE_LABELS: [&[u8]; 5] = [
    &[0x02],
    &[0x03],
    &[0x04],
    &[0x08],
    &[0x63, b'v', b'l', b'o'],
];
/// The labels of the base name (-2) and the name (0).
const BN: u8 = 0x21;
const N: u8 = 0x00;

/// Nesting the decoder follows when it skips an unknown field's value.
const SKIP_DEPTH: u8 = 4;

/// One record in a pack opened by a [`records::Encoder`].
pub(super) fn record(
    e: &mut records::Encoder<'_, '_>,
    path: &Path,
    value: &Value<'_>,
) -> Result<(), FormatError> {
    let (nb, rest) = senml::split(&e.base, path);
    let bn = e.first && nb > 0;
    let w = &mut *e.w;
    cbor::head(
        w,
        cbor::MAP,
        1 + u64::from(bn) + u64::from(!rest.is_empty()),
    )?;
    if bn {
        name(w, BN, e.base.ids())?;
    }
    if !rest.is_empty() {
        name(w, N, rest)?;
    }
    w.put(senml::label(value, &VALUE_LABELS))?;
    cbor::value(w, value)
}

/// The one-byte label `key`, then `/a/b` as a text string.
fn name(w: &mut Writer<'_>, key: u8, ids: &[u16]) -> Result<(), FormatError> {
    w.put_u8(key)?;
    let mut buf = [0u8; senml::MAX_NAME];
    let mut t = Writer::new(&mut buf);
    senml::write_ids(ids, &mut t, true)?;
    cbor::text(w, t.written())
}

/// Reads the records of a pack one by one.
pub(super) struct RecordReader<'a> {
    r: cbor::Reader<'a>,
    /// Records left in a definite-length pack; `None` when indefinite.
    left: Option<u64>,
    bn: &'a [u8],
}

impl<'a> RecordReader<'a> {
    /// Starts on a pack whose first item, `first`, was read from `r`; fails unless it is
    /// an array.
    pub(super) fn new(r: cbor::Reader<'a>, first: Item<'a>) -> Result<Self, FormatError> {
        match first {
            Item::Array(left) => Ok(RecordReader { r, left, bn: &[] }),
            _ => Err(FormatError::Malformed),
        }
    }

    /// The next record; `None` after the last, when nothing follows the pack.
    pub(super) fn next_record(&mut self) -> Result<Option<Record<'a>>, FormatError> {
        let item = match self.left {
            Some(0) => Item::Break,
            _ => self.r.next_item()?,
        };
        let fields = match (self.left, item) {
            (None | Some(0), Item::Break) if self.r.is_empty() => return Ok(None),
            (_, Item::Map(Some(n))) => n,
            _ => return Err(FormatError::Malformed),
        };
        if let Some(left) = self.left.as_mut() {
            *left -= 1;
        }
        let mut f = Fields::default();
        // Counted in 32 bits: no message holds more pairs (the data runs out first).
        for _ in 0..u32::try_from(fields).unwrap_or(u32::MAX) {
            let l = field_label(self.r.next_item()?)?;
            if l == label::OTHER {
                self.r.skip(SKIP_DEPTH)?;
                continue;
            }
            let v = self.r.next_item()?.raw().ok_or(FormatError::Malformed)?;
            f.take(l, v, &mut self.bn)?;
        }
        f.record(self.bn, false).map(Some)
    }
}

/// The field a map key names. Unknown labels need no understanding (units, sums,
/// versions) unless they are text ending in `_`.
fn field_label(key: Item<'_>) -> Result<u8, FormatError> {
    Ok(match key {
        Item::Text(b"vlo") => label::VLO,
        Item::Text(t) if t.last() == Some(&b'_') => return Err(FormatError::Malformed),
        Item::Text(_) => label::OTHER,
        Item::Nint(1) => label::BN,
        Item::Nint(2) => label::BT,
        Item::Uint(0) => label::N,
        Item::Uint(2) => label::V,
        Item::Uint(3) => label::VS,
        Item::Uint(4) => label::VB,
        Item::Uint(6) => label::T,
        Item::Uint(8) => label::VD,
        Item::Uint(n) | Item::Nint(n) if n <= i64::MAX as u64 => label::OTHER,
        _ => return Err(FormatError::Malformed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::content_format::SENML_CBOR;
    use crate::formats::records::testing::{decode, encode};
    use crate::formats::senml::{Num, Raw};

    #[test]
    fn encodes_with_a_base_name_on_the_first_record() {
        let base = Path::instance(3, 0);
        let bytes = encode(
            SENML_CBOR,
            base,
            &[
                (Path::resource(3, 0, 0), Value::String("tern")),
                (Path::new(&[3, 0, 7, 1]).unwrap(), Value::Integer(-5)),
            ],
        );
        assert_eq!(
            bytes,
            [
                0x9f, // indefinite array
                0xa3, 0x21, 0x64, b'/', b'3', b'/', b'0', // bn "/3/0"
                0x00, 0x62, b'/', b'0', // n "/0"
                0x03, 0x64, b't', b'e', b'r', b'n', // vs
                0xa2, 0x00, 0x64, b'/', b'7', b'/', b'1', 0x02, 0x24, // n "/7/1", v -5
                0xff,
            ]
        );
        // coap-lite has no SenML; the records decode back to the same paths and values.
        let recs = decode(SENML_CBOR, &bytes).unwrap();
        assert_eq!(recs[0].path, Path::resource(3, 0, 0));
        assert_eq!(recs[0].value, Some(Raw::Str(b"tern")));
        assert_eq!(recs[1].path.ids(), &[3, 0, 7, 1]);
        assert_eq!(recs[1].value, Some(Raw::Num(Num::Nint(4))));
    }

    #[test]
    fn every_value_type_round_trips() {
        let p = Path::resource(1, 0, 1);
        let values = [
            Value::Integer(i64::MIN),
            Value::Unsigned(u64::MAX),
            Value::Float(0.1),
            Value::Float(-2.5),
            Value::Boolean(false),
            Value::Opaque(&[0, 255]),
            Value::Time(1_700_000_000),
            Value::ObjLnk(3, 65534),
            Value::String("é"),
            Value::CoreLnk("</3/0>"),
        ];
        for v in values {
            let bytes = encode(SENML_CBOR, p, &[(p, v)]);
            let recs = decode(SENML_CBOR, &bytes).unwrap();
            assert_eq!(recs.len(), 1);
            assert_eq!(recs[0].path, p);
            let mut s = [0u8; 16];
            let back = senml::to_value(recs[0].value.unwrap(), v.kind(), &mut s, false).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn decodes_definite_packs_and_base_names_that_change() {
        // [{-2: "/3/0/", 0: "1", 3: "x"}, {0: "2", 2: 7}, {-2: "/4/0/", 0: "0", 2: 1.5}]
        let data = [
            0x83, 0xa3, 0x21, 0x65, b'/', b'3', b'/', b'0', b'/', 0x00, 0x61, b'1', 0x03, 0x61,
            b'x', 0xa2, 0x00, 0x61, b'2', 0x02, 0x07, 0xa3, 0x21, 0x65, b'/', b'4', b'/', b'0',
            b'/', 0x00, 0x61, b'0', 0x02, 0xf9, 0x3e, 0x00,
        ];
        let recs = decode(SENML_CBOR, &data).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].path, Path::resource(3, 0, 2));
        assert_eq!(recs[2].path, Path::resource(4, 0, 0));
        assert_eq!(recs[2].value, Some(Raw::Num(Num::Float(1.5))));
    }

    #[test]
    fn a_record_without_value_names_a_path() {
        // Read-Composite: [{0: "/3/0"}]
        let data = [0x81, 0xa1, 0x00, 0x64, b'/', b'3', b'/', b'0'];
        let recs = decode(SENML_CBOR, &data).unwrap();
        assert_eq!(
            recs[0],
            Record {
                path: Path::instance(3, 0),
                value: None
            }
        );
    }

    #[test]
    fn refuses_malformed_packs() {
        let bad: &[&[u8]] = &[
            &[],
            &[0xa0],                                                       // not an array
            &[0x81, 0x01],                                                 // record is not a map
            &[0x81, 0xa1, 0x00, 0x01],                                     // name is not text
            &[0x81, 0xa1, 0x00, 0x61, b'3'], // name without leading slash
            &[0x82, 0xa1, 0x00, 0x62, b'/', b'3'], // one record missing
            &[0x81, 0xa1, 0x00, 0x62, b'/', b'3', 0x00], // trailing bytes
            &[0x9f, 0xa1, 0x00, 0x62, b'/', b'3'], // no break
            &[0x81, 0xa2, 0x00, 0x62, b'/', b'3', 0x00, 0x62, b'/', b'4'], // repeated n
            &[
                0x81, 0xa3, 0x00, 0x62, b'/', b'3', 0x02, 0x01, 0x03, 0x61, b'a',
            ], // two values
            &[0x81, 0xa2, 0x00, 0x62, b'/', b'3', 0x04, 0x01], // vb not a boolean
            &[
                0x81, 0xa2, 0x00, 0x62, b'/', b'3', 0x63, b'x', b'x', b'_', 0x01,
            ], // must-understand
            &[0x81, 0xbf, 0x00, 0x62, b'/', b'3', 0xff], // indefinite record map
            &[0x81, 0xa1, 0x00, 0x7f, 0x61, b'/', 0xff], // indefinite text name
            &[0x81, 0xa1, 0xf5, 0x01],       // label is neither int nor text
            &[0x81, 0xa2, 0x00, 0x62, b'/', b'3', 0x02, 0x01], // a value for a whole object
        ];
        for b in bad {
            assert!(decode(SENML_CBOR, b).is_err(), "{b:02x?}");
        }
    }

    #[test]
    fn ignores_unknown_labels_that_need_no_understanding() {
        // {0: "/3/0/1", 1: "Cel", "foo": [1], 2: 5}
        let data = [
            0x81, 0xa4, 0x00, 0x66, b'/', b'3', b'/', b'0', b'/', b'1', 0x01, 0x63, b'C', b'e',
            b'l', 0x63, b'f', b'o', b'o', 0x81, 0x01, 0x02, 0x05,
        ];
        let recs = decode(SENML_CBOR, &data).unwrap();
        assert_eq!(recs[0].value, Some(Raw::Num(Num::Uint(5))));
    }
}
