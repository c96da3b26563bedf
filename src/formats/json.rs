//! The LwM2M 1.0 JSON format (application/vnd.oma.lwm2m+json, 11543): one object with a
//! base name `bn` and an array `e` of entries with a name `n` relative to it and one of
//! the values `v` (number), `bv` (boolean), `ov` (object link) or `sv` (string; opaque
//! values in base64).
//!
//! [`records::Encoder`](super::records::Encoder) and
//! [`records::Decoder`](super::records::Decoder) speak it as format 11543, with the
//! record writer and reader of [`json_lex`](super::json_lex).

use super::senml::{self, Raw};
use super::FormatError;
use crate::model::{ResourceType, Value};

/// The value of an entry for a resource of type `ty` (opaque values are base64 in `sv`).
pub fn to_value<'a>(
    raw: Raw<'a>,
    ty: ResourceType,
    scratch: &'a mut [u8],
) -> Result<Value<'a>, FormatError> {
    senml::convert(raw, ty, scratch, true, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::content_format::JSON;
    use crate::formats::records::testing::{decode, encode};
    use crate::model::Path;

    #[test]
    fn encodes_an_instance() {
        let bytes = encode(
            JSON,
            Path::instance(3, 0),
            &[
                (
                    Path::resource(3, 0, 0),
                    Value::String("Open Mobile Alliance"),
                ),
                (Path::new(&[3, 0, 6, 1]).unwrap(), Value::Integer(5)),
                (Path::resource(3, 0, 9), Value::Opaque(b"hi")),
                (Path::resource(3, 0, 10), Value::Boolean(true)),
                (Path::resource(3, 0, 11), Value::ObjLnk(1, 2)),
            ],
        );
        assert_eq!(
            core::str::from_utf8(&bytes).unwrap(),
            r#"{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/1","v":5},{"n":"9","sv":"aGk="},{"n":"10","bv":true},{"n":"11","ov":"1:2"}]}"#
        );
        let recs = decode(JSON, &bytes).unwrap();
        assert_eq!(recs.len(), 5);
        assert_eq!(recs[1].path.ids(), &[3, 0, 6, 1]);
        let mut s = [0u8; 8];
        assert_eq!(
            to_value(recs[2].value.unwrap(), ResourceType::Opaque, &mut s),
            Ok(Value::Opaque(b"hi"))
        );
    }

    #[test]
    fn an_entry_for_the_base_itself_has_an_empty_name() {
        let bytes = encode(
            JSON,
            Path::resource(3, 0, 9),
            &[(Path::resource(3, 0, 9), Value::Integer(87))],
        );
        assert_eq!(bytes, br#"{"bn":"/3/0/9","e":[{"n":"","v":87}]}"#);
        assert_eq!(
            decode(JSON, &bytes).unwrap()[0].path,
            Path::resource(3, 0, 9)
        );
        assert_eq!(
            encode(JSON, Path::object(3), &[]),
            br#"{"bn":"/3/","e":[]}"#
        );
    }

    #[test]
    fn an_entry_without_a_name_is_the_base_name() {
        let recs = decode(JSON, br#"{"bn":"/1/0/1","e":[{"v":60}]}"#).unwrap();
        assert_eq!(recs[0].path, Path::resource(1, 0, 1));
    }

    #[test]
    fn decodes_keys_in_any_order() {
        let recs = decode(JSON, br#"{"e":[{"sv":"x","n":"1"}],"bt":5,"bn":"/3/0/"}"#).unwrap();
        assert_eq!(recs[0].path, Path::resource(3, 0, 1));
        assert_eq!(recs[0].value, Some(Raw::Str(b"x")));
        assert_eq!(decode(JSON, br#"{"bn":"/3/0/","e":[]}"#).unwrap(), []);
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
            assert!(decode(JSON, bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
