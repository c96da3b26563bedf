//! SenML JSON (RFC 8428, content format 110) as LwM2M 1.1 uses it.
//!
//! The encoder streams records into the message buffer; floats print in their shortest
//! exact form and opaque values in base64url. The decoder walks a pack record by record
//! without copying (escaped strings and base64 data are decoded later, into a scratch
//! buffer, when the resource's type is known).

use super::json_lex::{self, Lexer, Token};
use super::senml::{self, Num, Raw};
use super::FormatError;
use crate::buf::Writer;
use crate::model::{Path, Value};

/// Writes a pack of records about `base` (the path of the request).
pub struct Encoder<'w, 'b> {
    w: &'w mut Writer<'b>,
    base: Path,
    first: bool,
}

impl<'w, 'b> Encoder<'w, 'b> {
    /// Opens the pack.
    pub fn new(w: &'w mut Writer<'b>, base: Path) -> Result<Self, FormatError> {
        w.put_u8(b'[')?;
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
        let w = &mut *self.w;
        w.put(if self.first { b"{" } else { b",{" })?;
        if self.first && nb > 0 {
            w.put(b"\"bn\":\"")?;
            senml::write_ids(self.base.ids(), w)?;
            w.put(b"\",")?;
        }
        self.first = false;
        if !rest.is_empty() {
            w.put(b"\"n\":\"")?;
            senml::write_ids(rest, w)?;
            w.put(b"\",")?;
        }
        if let Some(t) = time {
            w.put(b"\"t\":")?;
            w.put_i64_dec(t)?;
            w.put_u8(b',')?;
        }
        value_field(w, value)?;
        Ok(w.put_u8(b'}')?)
    }

    /// Closes the pack.
    pub fn finish(self) -> Result<(), FormatError> {
        Ok(self.w.put_u8(b']')?)
    }
}

fn value_field(w: &mut Writer<'_>, value: &Value<'_>) -> Result<(), FormatError> {
    match *value {
        Value::Integer(i) | Value::Time(i) => {
            w.put(b"\"v\":")?;
            w.put_i64_dec(i)?;
        }
        Value::Unsigned(u) => {
            w.put(b"\"v\":")?;
            w.put_u64_dec(u)?;
        }
        Value::Float(f) => {
            if !f.is_finite() {
                // JSON has no infinities or NaN.
                return Err(FormatError::OutOfRange);
            }
            w.put(b"\"v\":")?;
            super::float::write_shortest(f, w)?;
        }
        Value::String(s) | Value::CoreLnk(s) => {
            w.put(b"\"vs\":")?;
            json_lex::write_string(w, s.as_bytes())?;
        }
        Value::Boolean(b) => {
            w.put(b"\"vb\":")?;
            w.put(if b { b"true" } else { b"false" })?;
        }
        Value::Opaque(d) => {
            w.put(b"\"vd\":\"")?;
            json_lex::write_base64url(w, d)?;
            w.put_u8(b'"')?;
        }
        Value::ObjLnk(oid, iid) => {
            w.put(b"\"vlo\":\"")?;
            w.put_u64_dec(u64::from(oid))?;
            w.put_u8(b':')?;
            w.put_u64_dec(u64::from(iid))?;
            w.put_u8(b'"')?;
        }
    }
    Ok(())
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

/// The records of a SenML JSON pack.
pub struct Records<'a> {
    lex: Lexer<'a>,
    bn: &'a [u8],
    done: bool,
    first: bool,
}

impl<'a> Records<'a> {
    /// Starts on a pack; fails when `data` does not begin with `[`.
    pub fn new(data: &'a [u8]) -> Result<Self, FormatError> {
        let mut lex = Lexer::new(data);
        if lex.expect_token()? != Token::BeginArray {
            return Err(FormatError::Malformed);
        }
        Ok(Records {
            lex,
            bn: &[],
            done: false,
            first: true,
        })
    }

    fn next_record(&mut self) -> Result<Option<Record<'a>>, FormatError> {
        let t = self.lex.expect_token()?;
        let first = core::mem::replace(&mut self.first, false);
        let opens = match t {
            Token::EndArray if self.lex.next_token()?.is_none() => {
                self.done = true;
                return Ok(None);
            }
            Token::BeginObject => first,
            Token::Comma => !first && self.lex.expect_token()? == Token::BeginObject,
            _ => false,
        };
        if !opens {
            return Err(FormatError::Malformed);
        }
        self.record_fields().map(Some)
    }

    /// The fields of one record, after its `{`.
    fn record_fields(&mut self) -> Result<Record<'a>, FormatError> {
        let mut name: Option<&'a [u8]> = None;
        let mut value = None;
        let mut seen = 0u8;
        loop {
            let key = match self.lex.expect_token()? {
                Token::Str(k) => k,
                Token::EndObject if seen == 0 => break,
                _ => return Err(FormatError::Malformed),
            };
            if self.lex.expect_token()? != Token::Colon {
                return Err(FormatError::Malformed);
            }
            let v = self.lex.expect_token()?;
            let bit = self.field(key, v, &mut name, &mut value)?;
            if seen & bit != 0 {
                return Err(FormatError::Malformed);
            }
            seen |= bit | 1;
            match self.lex.expect_token()? {
                Token::Comma => {}
                Token::EndObject => break,
                _ => return Err(FormatError::Malformed),
            }
        }
        let path = senml::value_path(senml::path(self.bn, name.unwrap_or(&[]))?, &value)?;
        Ok(Record { path, value })
    }

    /// Takes the field `key` with value `v`; returns a bit that tells repeated fields apart.
    fn field(
        &mut self,
        key: &[u8],
        v: Token<'a>,
        name: &mut Option<&'a [u8]>,
        value: &mut Option<Raw<'a>>,
    ) -> Result<u8, FormatError> {
        let raw = match (key, v) {
            (b"bn", Token::Str(s)) => {
                self.bn = s;
                return Ok(1 << 1);
            }
            (b"n", Token::Str(s)) => {
                *name = Some(s);
                return Ok(1 << 2);
            }
            (b"bt" | b"t", Token::Num(_)) => return Ok(1 << 3),
            (b"v", Token::Num(n)) => Raw::Num(Num::Text(n)),
            (b"vs", Token::Str(s)) => Raw::Str(s),
            (b"vb", Token::Bool(b)) => Raw::Bool(b),
            (b"vd", Token::Str(s)) => Raw::Data(s),
            (b"vlo", Token::Str(s)) => Raw::ObjLnk(s),
            (b"bn" | b"n" | b"bt" | b"t" | b"v" | b"vs" | b"vb" | b"vd" | b"vlo", _) => {
                return Err(FormatError::Malformed)
            }
            // A must-understand label we do not know, or a value SenML never has.
            (k, _) if k.last() == Some(&b'_') => return Err(FormatError::Malformed),
            (_, Token::Str(_) | Token::Num(_) | Token::Bool(_)) => return Ok(0),
            _ => return Err(FormatError::Malformed),
        };
        if value.replace(raw).is_some() {
            return Err(FormatError::Malformed);
        }
        Ok(1 << 4)
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

    fn encode(base: Path, recs: &[(Path, Value<'_>)]) -> std::string::String {
        let mut b = [0u8; 512];
        let mut w = Writer::new(&mut b);
        let mut e = Encoder::new(&mut w, base).unwrap();
        for (p, v) in recs {
            e.record(p, v, None).unwrap();
        }
        e.finish().unwrap();
        std::string::String::from_utf8(w.written().to_vec()).unwrap()
    }

    fn decode(data: &str) -> Result<std::vec::Vec<Record<'_>>, FormatError> {
        Records::new(data.as_bytes())?.collect()
    }

    #[test]
    fn encodes_a_device_instance() {
        let s = encode(
            Path::instance(3, 0),
            &[
                (Path::resource(3, 0, 0), Value::String("Open \"M\"")),
                (Path::new(&[3, 0, 7, 0]).unwrap(), Value::Integer(3800)),
                (Path::resource(3, 0, 13), Value::Time(1_367_491_215)),
                (Path::resource(3, 0, 99), Value::Float(21.5)),
            ],
        );
        assert_eq!(
            s,
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
            let text = encode(p, &[(p, v)]);
            let recs = decode(&text).unwrap();
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
        let mut e = Encoder::new(&mut w, Path::ROOT).unwrap();
        let p = Path::resource(1, 0, 1);
        assert_eq!(
            e.record(&p, &Value::Float(f64::INFINITY), None),
            Err(FormatError::OutOfRange)
        );
    }

    #[test]
    fn decodes_the_specification_write_example() {
        // Write of /3/0 with two resources, base name in the first record.
        let recs = decode(
            r#"[{"bn":"/3/0/","n":"14","vs":"+02:00"},
                {"n":"15","vs":"Europe/Paris","u":"x"}, {"bn":"/1/0/","n":"1","v":86400}]"#,
        )
        .unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].path, Path::resource(3, 0, 14));
        assert_eq!(recs[1].path, Path::resource(3, 0, 15));
        assert_eq!(recs[2].path, Path::resource(1, 0, 1));
        assert_eq!(recs[2].value, Some(Raw::Num(Num::Text(b"86400"))));
        assert_eq!(decode("[]").unwrap(), []);
        assert_eq!(decode(r#"[{"n":"/3/0"}]"#).unwrap()[0].value, None);
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
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
