//! SenML CBOR (RFC 8428 section 6, content format 112) as LwM2M 1.1 uses it.
//!
//! The encoder streams records into the message buffer as an indefinite-length array, so
//! no record count is needed up front. The decoder walks a pack record by record,
//! resolving base names, without copying.

use super::cbor::{self, Item, Reader};
use super::senml::{self, Num, Raw};
use super::FormatError;
use crate::buf::Writer;
use crate::model::{Path, Value};

const BN: i64 = -2;
const BT: i64 = -3;
const N: i64 = 0;
const V: i64 = 2;
const VS: i64 = 3;
const VB: i64 = 4;
const T: i64 = 6;
const VD: i64 = 8;
/// LwM2M's object-link value field is the text label "vlo".
const VLO: &[u8] = b"vlo";

/// Nesting the decoder follows when it skips an unknown field's value.
const SKIP_DEPTH: u8 = 4;

/// Writes a pack of records about `base` (the path of the request).
pub struct Encoder<'w, 'b> {
    w: &'w mut Writer<'b>,
    base: Path,
    first: bool,
}

impl<'w, 'b> Encoder<'w, 'b> {
    /// Opens the pack.
    pub fn new(w: &'w mut Writer<'b>, base: Path) -> Result<Self, FormatError> {
        w.put_u8(0x9f)?;
        Ok(Encoder {
            w,
            base,
            first: true,
        })
    }

    /// One record: the value of the resource (instance) at `path`, with a time when given.
    pub fn record(
        &mut self,
        path: &Path,
        value: &Value<'_>,
        time: Option<i64>,
    ) -> Result<(), FormatError> {
        let (nb, rest) = senml::split(&self.base, path);
        let bn = self.first && nb > 0;
        let fields = 1 + u64::from(bn) + u64::from(!rest.is_empty()) + u64::from(time.is_some());
        cbor::head(self.w, cbor::MAP, fields)?;
        if bn {
            cbor::int(self.w, BN)?;
            ids_text(self.w, self.base.ids())?;
        }
        self.first = false;
        if !rest.is_empty() {
            cbor::int(self.w, N)?;
            ids_text(self.w, rest)?;
        }
        if let Some(t) = time {
            cbor::int(self.w, T)?;
            cbor::int(self.w, t)?;
        }
        value_field(self.w, value)
    }

    /// Closes the pack.
    pub fn finish(self) -> Result<(), FormatError> {
        Ok(self.w.put_u8(cbor::BREAK)?)
    }
}

/// `/a/b` as a CBOR text string.
fn ids_text(w: &mut Writer<'_>, ids: &[u16]) -> Result<(), FormatError> {
    let mut buf = [0u8; senml::MAX_NAME];
    let mut t = Writer::new(&mut buf);
    senml::write_ids(ids, &mut t)?;
    cbor::text(w, t.written())
}

fn value_field(w: &mut Writer<'_>, value: &Value<'_>) -> Result<(), FormatError> {
    match *value {
        Value::Integer(i) | Value::Time(i) => {
            cbor::int(w, V)?;
            cbor::int(w, i)
        }
        Value::Unsigned(u) => {
            cbor::int(w, V)?;
            cbor::head(w, cbor::UINT, u)
        }
        Value::Float(f) => {
            cbor::int(w, V)?;
            cbor::float(w, f)
        }
        Value::String(s) | Value::CoreLnk(s) => {
            cbor::int(w, VS)?;
            cbor::text(w, s.as_bytes())
        }
        Value::Boolean(b) => {
            cbor::int(w, VB)?;
            cbor::boolean(w, b)
        }
        Value::Opaque(d) => {
            cbor::int(w, VD)?;
            cbor::bytes(w, d)
        }
        Value::ObjLnk(oid, iid) => {
            cbor::text(w, VLO)?;
            let mut buf = [0u8; 11];
            let mut t = Writer::new(&mut buf);
            t.put_u64_dec(u64::from(oid))?;
            t.put_u8(b':')?;
            t.put_u64_dec(u64::from(iid))?;
            cbor::text(w, t.written())
        }
    }
}

/// One decoded record: its resolved path and its value, if it has one.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Record<'a> {
    /// Base name and name joined.
    pub path: Path,
    /// The value field, `None` for a record without one (a Read-Composite request).
    pub value: Option<Raw<'a>>,
}

/// The records of a SenML CBOR pack.
pub struct Records<'a> {
    r: Reader<'a>,
    /// Records left in a definite-length pack; `None` when indefinite.
    left: Option<u64>,
    bn: &'a [u8],
    done: bool,
}

impl<'a> Records<'a> {
    /// Starts on a pack; fails when `data` does not begin with an array.
    pub fn new(data: &'a [u8]) -> Result<Self, FormatError> {
        let mut r = Reader::new(data);
        match r.next_item()? {
            Item::Array(left) => Ok(Records {
                r,
                left,
                bn: &[],
                done: false,
            }),
            _ => Err(FormatError::Malformed),
        }
    }

    fn next_record(&mut self) -> Result<Option<Record<'a>>, FormatError> {
        let fields = match (self.left, self.r.next_item()?) {
            (Some(0), _) => return Err(FormatError::Malformed),
            (_, Item::Break) if self.left.is_none() => return self.end(),
            (_, Item::Map(Some(n))) => n,
            _ => return Err(FormatError::Malformed),
        };
        if let Some(left) = self.left.as_mut() {
            *left -= 1;
        }
        let mut name: Option<&'a [u8]> = None;
        let mut value = None;
        let mut seen = 0u16;
        for _ in 0..fields {
            let key = self.r.next_item()?;
            let bit = self.field(key, &mut name, &mut value)?;
            if seen & bit != 0 {
                return Err(FormatError::Malformed);
            }
            seen |= bit;
        }
        if self.left == Some(0) {
            self.end()?;
        }
        let path = senml::value_path(senml::path(self.bn, name.unwrap_or(&[]))?, &value)?;
        Ok(Some(Record { path, value }))
    }

    /// The pack is over: nothing may follow it.
    fn end(&mut self) -> Result<Option<Record<'a>>, FormatError> {
        self.done = true;
        if self.r.is_empty() {
            Ok(None)
        } else {
            Err(FormatError::Malformed)
        }
    }

    /// Reads the value of the field labelled `key`; returns a bit that tells repeated
    /// fields apart.
    fn field(
        &mut self,
        key: Item<'a>,
        name: &mut Option<&'a [u8]>,
        value: &mut Option<Raw<'a>>,
    ) -> Result<u16, FormatError> {
        let label = match key {
            Item::Text(t) if t == VLO => 100,
            Item::Text(t) if t.last() == Some(&b'_') => return Err(FormatError::Malformed),
            Item::Text(_) => {
                self.r.skip(SKIP_DEPTH)?;
                return Ok(0);
            }
            other => other.as_i64().ok_or(FormatError::Malformed)?,
        };
        let item = self.r.next_item()?;
        let raw = match (label, item) {
            (BN, Item::Text(t)) => {
                self.bn = t;
                return Ok(1 << 1);
            }
            (N, Item::Text(t)) => {
                *name = Some(t);
                return Ok(1 << 2);
            }
            (BT | T, i) => return number(i).map(|_| 1 << 3),
            (V, i) => Raw::Num(number(i)?),
            (VS, Item::Text(t)) => Raw::Str(t),
            (VB, Item::Bool(b)) => Raw::Bool(b),
            (VD, Item::Bytes(d)) => Raw::Data(d),
            (100, Item::Text(t)) => Raw::ObjLnk(t),
            (BN | N | VS | VB | VD | 100, _) => return Err(FormatError::Malformed),
            // Other RFC 8428 labels (units, sums, versions): ignored.
            (_, i) => {
                self.r.skip_rest(i, SKIP_DEPTH)?;
                return Ok(0);
            }
        };
        if value.replace(raw).is_some() {
            return Err(FormatError::Malformed);
        }
        Ok(1 << 4)
    }
}

fn number(i: Item<'_>) -> Result<Num<'static>, FormatError> {
    match i {
        Item::Uint(u) => Ok(Num::Uint(u)),
        Item::Nint(n) => Ok(Num::Nint(n)),
        Item::Float(f) => Ok(Num::Float(f)),
        _ => Err(FormatError::Malformed),
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.next_record();
        if r.is_err() {
            self.done = true;
        }
        r.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(base: Path, recs: &[(Path, Value<'_>)]) -> std::vec::Vec<u8> {
        let mut b = [0u8; 256];
        let mut w = Writer::new(&mut b);
        let mut e = Encoder::new(&mut w, base).unwrap();
        for (p, v) in recs {
            e.record(p, v, None).unwrap();
        }
        e.finish().unwrap();
        w.written().to_vec()
    }

    fn decode(data: &[u8]) -> Result<std::vec::Vec<Record<'_>>, FormatError> {
        Records::new(data)?.collect()
    }

    #[test]
    fn encodes_with_a_base_name_on_the_first_record() {
        let base = Path::instance(3, 0);
        let bytes = encode(
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
        let recs = decode(&bytes).unwrap();
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
            let bytes = encode(p, &[(p, v)]);
            let recs = decode(&bytes).unwrap();
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
        let recs = decode(&data).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].path, Path::resource(3, 0, 2));
        assert_eq!(recs[2].path, Path::resource(4, 0, 0));
        assert_eq!(recs[2].value, Some(Raw::Num(Num::Float(1.5))));
    }

    #[test]
    fn a_record_without_value_names_a_path() {
        // Read-Composite: [{0: "/3/0"}]
        let data = [0x81, 0xa1, 0x00, 0x64, b'/', b'3', b'/', b'0'];
        let recs = decode(&data).unwrap();
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
            assert!(decode(b).is_err(), "{b:02x?}");
        }
    }

    #[test]
    fn ignores_unknown_labels_that_need_no_understanding() {
        // {0: "/3/0/1", 1: "Cel", "foo": [1], 2: 5}
        let data = [
            0x81, 0xa4, 0x00, 0x66, b'/', b'3', b'/', b'0', b'/', b'1', 0x01, 0x63, b'C', b'e',
            b'l', 0x63, b'f', b'o', b'o', 0x81, 0x01, 0x02, 0x05,
        ];
        let recs = decode(&data).unwrap();
        assert_eq!(recs[0].value, Some(Raw::Num(Num::Uint(5))));
    }
}
