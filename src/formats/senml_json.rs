//! SenML JSON (RFC 8428, content format 110) as LwM2M 1.1 uses it.
//!
//! [`records::Encoder`](super::records::Encoder) and
//! [`records::Decoder`](super::records::Decoder) speak it as format 110, with the record
//! writer and reader of [`json_lex`](super::json_lex). The encoder streams records into the message buffer; floats print in their shortest
//! exact form and opaque values in base64url. The decoder walks a pack record by record
//! without copying (escaped strings and base64 data are decoded later, into a scratch
//! buffer, when the resource's type is known).

#[cfg(test)]
mod tests {
    use crate::buf::Writer;
    use crate::formats::content_format::SENML_JSON;
    use crate::formats::records::testing::{decode, encode};
    use crate::formats::records::Encoder;
    use crate::formats::senml::{self, Num, Raw};
    use crate::formats::FormatError;
    use crate::model::{Path, Value};

    #[test]
    fn encodes_a_device_instance() {
        let s = encode(
            SENML_JSON,
            Path::instance(3, 0),
            &[
                (Path::resource(3, 0, 0), Value::String("Open \"M\"")),
                (Path::new(&[3, 0, 7, 0]).unwrap(), Value::Integer(3800)),
                (Path::resource(3, 0, 13), Value::Time(1_367_491_215)),
                (Path::resource(3, 0, 99), Value::Float(21.5)),
            ],
        );
        assert_eq!(
            std::str::from_utf8(&s).unwrap(),
            r#"[{"bn":"/3/0","n":"/0","vs":"Open \"M\""},{"n":"/7/0","v":3800},{"n":"/13","v":1367491215},{"n":"/99","v":21.5}]"#
        );
    }

    #[test]
    fn every_value_type_round_trips() {
        let p = Path::resource(1, 0, 1);
        let values = [
            Value::Integer(i64::MIN),
            Value::Unsigned(u64::MAX),
            Value::Float(0.1),
            Value::Float(-2.5e-300),
            Value::Boolean(true),
            Value::Opaque(&[0, 255, 7]),
            Value::Time(-1),
            Value::ObjLnk(3, 65534),
            Value::String("é\n\\"),
            Value::CoreLnk("</3/0>"),
        ];
        for v in values {
            let bytes = encode(SENML_JSON, p, &[(p, v)]);
            let text = std::str::from_utf8(&bytes).unwrap();
            let recs = decode(SENML_JSON, &bytes).unwrap();
            assert_eq!(recs.len(), 1, "{text}");
            assert_eq!(recs[0].path, p);
            let mut s = [0u8; 16];
            let back = senml::to_value(recs[0].value.unwrap(), v.kind(), &mut s, true).unwrap();
            assert_eq!(back, v, "{text}");
        }
    }

    #[test]
    fn infinities_have_no_json_form() {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        let mut e = Encoder::new(SENML_JSON, &mut w, Path::ROOT)
            .unwrap()
            .unwrap();
        let p = Path::resource(1, 0, 1);
        assert_eq!(
            e.record(&p, &Value::Float(f64::INFINITY)),
            Err(FormatError::OutOfRange)
        );
    }

    #[test]
    fn decodes_the_specification_write_example() {
        // Write of /3/0 with two resources, base name in the first record.
        let recs = decode(
            SENML_JSON,
            br#"[{"bn":"/3/0/","n":"14","vs":"+02:00"},
                {"n":"15","vs":"Europe/Paris","u":"x"}, {"bn":"/1/0/","n":"1","v":86400}]"#,
        )
        .unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].path, Path::resource(3, 0, 14));
        assert_eq!(recs[1].path, Path::resource(3, 0, 15));
        assert_eq!(recs[2].path, Path::resource(1, 0, 1));
        assert_eq!(recs[2].value, Some(Raw::Num(Num::Text(b"86400"))));
        assert_eq!(decode(SENML_JSON, b"[]").unwrap(), []);
        assert_eq!(
            decode(SENML_JSON, br#"[{"n":"/3/0"}]"#).unwrap()[0].value,
            None
        );
    }

    #[test]
    fn refuses_malformed_packs() {
        for bad in [
            "",
            "{}",
            "[",
            "[{}]",
            "[{\"n\":\"/3\"}",
            "[{\"n\":\"/3\"},]",
            "[{\"n\":\"/3\"}] x",
            "[{\"n\":\"/3\",}]",
            "[{\"n\":\"/3\" \"v\":1}]",
            "[{\"n\":\"/3\"}{\"n\":\"/4\"}]",
            "[{\"n\":\"/3\",\"n\":\"/4\"}]",
            "[{\"n\":\"/3\",\"v\":1,\"vs\":\"a\"}]",
            "[{\"n\":\"/3\",\"v\":\"1\"}]",
            "[{\"n\":\"/3\",\"vb\":1}]",
            "[{\"n\":3}]",
            "[{\"n\":\"3/0\"}]",
            "[{\"n\":\"/3\",\"foo_\":1}]",
            "[{\"n\":\"/3\",\"foo\":{}}]",
            "[{\"n\":\"/3\",\"foo\":[1]}]",
            "[{\"bn\":\"/3/0/\",\"n\":\"1/2/3\"}]",
            "[1]",
            "[{\"n\":\"/3/0\",\"v\":1}]",
        ] {
            assert!(decode(SENML_JSON, bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
