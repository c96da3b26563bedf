//! The LwM2M 1.0 JSON format (application/vnd.oma.lwm2m+json, 11543): one object with a
//! base name `bn` and an array `e` of entries with a name `n` relative to it and one of
//! the values `v` (number), `bv` (boolean), `ov` (object link) or `sv` (string; opaque
//! values in base64).

use super::content_format::JSON;
use super::records::{self, Decoder};
use super::senml::{self, Raw};
use super::FormatError;
use crate::buf::Writer;
use crate::model::{Path, ResourceType, Value};

/// Writes the entries of a payload about `base` (the path of the request).
pub struct Encoder<'w, 'b>(records::Encoder<'w, 'b>);

impl<'w, 'b> Encoder<'w, 'b> {
    /// Starts the payload (the header is written with the first entry).
    pub fn new(w: &'w mut Writer<'b>, base: Path) -> Result<Self, FormatError> {
        let e = records::Encoder::new(JSON, w, base).ok_or(FormatError::Malformed)?;
        e.map(Encoder)
    }

    /// One entry for the resource (instance) at `path`.
    pub fn record(&mut self, path: &Path, value: &Value<'_>) -> Result<(), FormatError> {
        self.0.record(path, value)
    }

    /// Closes the payload.
    pub fn finish(self) -> Result<(), FormatError> {
        self.0.finish()
    }
}

/// The value of an entry for a resource of type `ty` (opaque values are base64 in `sv`).
pub fn to_value<'a>(
    raw: Raw<'a>,
    ty: ResourceType,
    scratch: &'a mut [u8],
) -> Result<Value<'a>, FormatError> {
    senml::convert(raw, ty, scratch, true, true)
}

/// One decoded entry.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Record<'a> {
    /// Base name and name joined.
    pub path: Path,
    /// The entry's value.
    pub value: Raw<'a>,
}

/// The entries of an LwM2M JSON payload.
pub struct Records<'a>(Decoder<'a>);

impl<'a> Records<'a> {
    /// Finds the base name and the entry array, in whichever order they come.
    pub fn new(data: &'a [u8]) -> Result<Self, FormatError> {
        let d = Decoder::new(JSON, data).ok_or(FormatError::Malformed)?;
        d.map(Records)
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.0.next()?;
        Some(r.and_then(|r| {
            Ok(Record {
                path: r.path,
                value: r.value.ok_or(FormatError::Malformed)?,
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(data: &str) -> Result<std::vec::Vec<Record<'_>>, FormatError> {
        Records::new(data.as_bytes())?.collect()
    }

    #[test]
    fn encodes_an_instance() {
        let mut b = [0u8; 256];
        let mut w = Writer::new(&mut b);
        let mut e = Encoder::new(&mut w, Path::instance(3, 0)).unwrap();
        e.record(
            &Path::resource(3, 0, 0),
            &Value::String("Open Mobile Alliance"),
        )
        .unwrap();
        e.record(&Path::new(&[3, 0, 6, 1]).unwrap(), &Value::Integer(5))
            .unwrap();
        e.record(&Path::resource(3, 0, 9), &Value::Opaque(b"hi"))
            .unwrap();
        e.record(&Path::resource(3, 0, 10), &Value::Boolean(true))
            .unwrap();
        e.record(&Path::resource(3, 0, 11), &Value::ObjLnk(1, 2))
            .unwrap();
        e.finish().unwrap();
        assert_eq!(
            core::str::from_utf8(w.written()).unwrap(),
            r#"{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/1","v":5},{"n":"9","sv":"aGk="},{"n":"10","bv":true},{"n":"11","ov":"1:2"}]}"#
        );
        let recs = decode(core::str::from_utf8(w.written()).unwrap()).unwrap();
        assert_eq!(recs.len(), 5);
        assert_eq!(recs[1].path.ids(), &[3, 0, 6, 1]);
        let mut s = [0u8; 8];
        assert_eq!(
            to_value(recs[2].value, ResourceType::Opaque, &mut s),
            Ok(Value::Opaque(b"hi"))
        );
    }

    #[test]
    fn an_entry_for_the_base_itself_has_an_empty_name() {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        let mut e = Encoder::new(&mut w, Path::resource(3, 0, 9)).unwrap();
        e.record(&Path::resource(3, 0, 9), &Value::Integer(87))
            .unwrap();
        e.finish().unwrap();
        let text = core::str::from_utf8(w.written()).unwrap();
        assert_eq!(text, r#"{"bn":"/3/0/9","e":[{"n":"","v":87}]}"#);
        assert_eq!(decode(text).unwrap()[0].path, Path::resource(3, 0, 9));
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        Encoder::new(&mut w, Path::object(3))
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(w.written(), br#"{"bn":"/3/","e":[]}"#);
    }

    #[test]
    fn an_entry_without_a_name_is_the_base_name() {
        let recs = decode(r#"{"bn":"/1/0/1","e":[{"v":60}]}"#).unwrap();
        assert_eq!(recs[0].path, Path::resource(1, 0, 1));
    }

    #[test]
    fn decodes_keys_in_any_order() {
        let recs = decode(r#"{"e":[{"sv":"x","n":"1"}],"bt":5,"bn":"/3/0/"}"#).unwrap();
        assert_eq!(recs[0].path, Path::resource(3, 0, 1));
        assert_eq!(recs[0].value, Raw::Str(b"x"));
        assert_eq!(decode(r#"{"bn":"/3/0/","e":[]}"#).unwrap(), []);
    }

    #[test]
    fn refuses_malformed_payloads() {
        for bad in [
            "[]",
            "{}",
            r#"{"bn":"/3/0/"}"#,
            r#"{"bn":"/3/0/","e":{}}"#,
            r#"{"bn":"/3/0/","e":[],"e":[]}"#,
            r#"{"bn":3,"e":[]}"#,
            r#"{"bn":"/3/0/","e":[{"n":"1"}]}"#,
            r#"{"bn":"/3/0/","e":[{"v":1}]}"#,
            r#"{"bn":"/3/0/","e":[{"sv":"a"}]}"#,
            r#"{"bn":"/3/0/","e":[{"n":"1","v":1,"sv":"a"}]}"#,
            r#"{"bn":"/3/0/","e":[{"n":"1","v":"1"}]}"#,
            r#"{"bn":"/3/0/","e":[{"n":"1","x":1}]}"#,
            r#"{"bn":"/3/0/","e":[{"n":"1","v":1},]}"#,
            r#"{"bn":"/3/0/","e":[{"n":"1","v":1}]"#,
            r#"{"bn":"/3/0/","e":[{"n":"1","v":1}]} x"#,
            r#"{"bn":"/3/0/","x":[[[[[[1]]]]]],"e":[]}"#,
            r#"{"bn":"/3/","e":[{"n":"0","v":1}]}"#,
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
