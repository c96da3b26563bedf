//! The LwM2M 1.0 JSON format (application/vnd.oma.lwm2m+json, 11543): one object with a
//! base name `bn` and an array `e` of entries with a name `n` relative to it and one of
//! the values `v` (number), `bv` (boolean), `ov` (object link) or `sv` (string; opaque
//! values in base64).

use super::json_lex::{self, Lexer, Token};
use super::senml::{self, Num, Raw};
use super::FormatError;
use crate::buf::Writer;
use crate::model::{Path, ResourceType, Value};

/// How deep the decoder follows nested values it skips.
const SKIP_DEPTH: u8 = 4;

/// Writes the entries of a payload about `base` (the path of the request).
pub struct Encoder<'w, 'b> {
    w: &'w mut Writer<'b>,
    base: Path,
    first: bool,
}

impl<'w, 'b> Encoder<'w, 'b> {
    /// Starts the payload (the header is written with the first entry).
    pub fn new(w: &'w mut Writer<'b>, base: Path) -> Result<Self, FormatError> {
        Ok(Encoder {
            w,
            base,
            first: true,
        })
    }

    /// `{"bn":"/3/0/","e":[`; the base name of an entry for the base path itself has no
    /// trailing slash, as that entry's name is empty.
    fn header(&mut self, whole: bool) -> Result<(), FormatError> {
        self.w.put(b"{\"bn\":\"")?;
        senml::write_ids(self.base.ids(), self.w)?;
        if !whole {
            self.w.put_u8(b'/')?;
        }
        Ok(self.w.put(b"\",\"e\":[")?)
    }

    /// One entry for the resource (instance) at `path`.
    pub fn record(&mut self, path: &Path, value: &Value<'_>) -> Result<(), FormatError> {
        let (_, rest) = senml::split(&self.base, path);
        if self.first {
            self.header(rest.is_empty())?;
        }
        let w = &mut *self.w;
        w.put(if self.first {
            b"{\"n\":\""
        } else {
            b",{\"n\":\""
        })?;
        self.first = false;
        for (i, id) in rest.iter().enumerate() {
            if i > 0 {
                w.put_u8(b'/')?;
            }
            w.put_u64_dec(u64::from(*id))?;
        }
        w.put(b"\",")?;
        value_field(w, value)?;
        Ok(w.put_u8(b'}')?)
    }

    /// Closes the payload.
    pub fn finish(mut self) -> Result<(), FormatError> {
        if self.first {
            self.header(false)?;
        }
        Ok(self.w.put(b"]}")?)
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
        Value::Float(f) if f.is_finite() => {
            w.put(b"\"v\":")?;
            super::float::write_shortest(f, w)?;
        }
        Value::Float(_) => return Err(FormatError::OutOfRange),
        Value::Boolean(b) => w.put(if b { b"\"bv\":true" } else { b"\"bv\":false" })?,
        Value::String(s) | Value::CoreLnk(s) => {
            w.put(b"\"sv\":")?;
            json_lex::write_string(w, s.as_bytes())?;
        }
        Value::Opaque(d) => {
            w.put(b"\"sv\":\"")?;
            super::text::encode_base64(d, w)?;
            w.put_u8(b'"')?;
        }
        Value::ObjLnk(oid, iid) => {
            w.put(b"\"ov\":\"")?;
            w.put_u64_dec(u64::from(oid))?;
            w.put_u8(b':')?;
            w.put_u64_dec(u64::from(iid))?;
            w.put_u8(b'"')?;
        }
    }
    Ok(())
}

/// The value of an entry for a resource of type `ty` (opaque values are base64 in `sv`).
pub fn to_value<'a>(
    raw: Raw<'a>,
    ty: ResourceType,
    scratch: &'a mut [u8],
) -> Result<Value<'a>, FormatError> {
    match (raw, ty) {
        (Raw::Str(s), ResourceType::Opaque) => senml::to_value(Raw::Data(s), ty, scratch, true),
        _ => senml::to_value(raw, ty, scratch, true),
    }
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
pub struct Records<'a> {
    lex: Lexer<'a>,
    bn: &'a [u8],
    first: bool,
    done: bool,
}

impl<'a> Records<'a> {
    /// Finds the base name and the entry array, in whichever order they come.
    pub fn new(data: &'a [u8]) -> Result<Self, FormatError> {
        let mut lex = Lexer::new(data);
        if lex.expect_token()? != Token::BeginObject {
            return Err(FormatError::Malformed);
        }
        let (mut bn, mut entries) = (None, None);
        loop {
            let key = match lex.expect_token()? {
                Token::Str(k) => k,
                _ => return Err(FormatError::Malformed),
            };
            if lex.expect_token()? != Token::Colon {
                return Err(FormatError::Malformed);
            }
            let slot = match key {
                b"bn" => &mut bn,
                b"e" => &mut entries,
                _ => &mut None,
            };
            let start = lex.clone();
            let v = lex.expect_token()?;
            if slot.replace((start, v)).is_some() {
                return Err(FormatError::Malformed);
            }
            skip_rest(&mut lex, v, SKIP_DEPTH)?;
            match lex.expect_token()? {
                Token::Comma => {}
                Token::EndObject if lex.next_token()?.is_none() => break,
                _ => return Err(FormatError::Malformed),
            }
        }
        let bn = match bn {
            Some((_, Token::Str(s))) => s,
            None => &[],
            Some(_) => return Err(FormatError::Malformed),
        };
        match entries {
            Some((mut lex, Token::BeginArray)) => {
                lex.expect_token()?;
                Ok(Records {
                    lex,
                    bn,
                    first: true,
                    done: false,
                })
            }
            _ => Err(FormatError::Malformed),
        }
    }

    fn next_record(&mut self) -> Result<Option<Record<'a>>, FormatError> {
        let t = self.lex.expect_token()?;
        let first = core::mem::replace(&mut self.first, false);
        let opens = match t {
            Token::EndArray => {
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
        self.entry().map(Some)
    }

    fn entry(&mut self) -> Result<Record<'a>, FormatError> {
        let (mut name, mut value, mut time) = (None, None, false);
        loop {
            let key = match self.lex.expect_token()? {
                Token::Str(k) => k,
                _ => return Err(FormatError::Malformed),
            };
            if self.lex.expect_token()? != Token::Colon {
                return Err(FormatError::Malformed);
            }
            let v = self.lex.expect_token()?;
            let repeated = match (key, v) {
                (b"n", Token::Str(s)) => name.replace(s).is_some(),
                (b"t", Token::Num(_)) => core::mem::replace(&mut time, true),
                (b"v", Token::Num(n)) => value.replace(Raw::Num(Num::Text(n))).is_some(),
                (b"bv", Token::Bool(b)) => value.replace(Raw::Bool(b)).is_some(),
                (b"ov", Token::Str(s)) => value.replace(Raw::ObjLnk(s)).is_some(),
                (b"sv", Token::Str(s)) => value.replace(Raw::Str(s)).is_some(),
                _ => true,
            };
            if repeated {
                return Err(FormatError::Malformed);
            }
            match self.lex.expect_token()? {
                Token::Comma => {}
                Token::EndObject => break,
                _ => return Err(FormatError::Malformed),
            }
        }
        // An entry without a name stands for the base name itself.
        let path = senml::path(self.bn, name.unwrap_or_default())?;
        let path = senml::value_path(path, &value)?;
        Ok(Record {
            path,
            value: value.ok_or(FormatError::Malformed)?,
        })
    }
}

/// Skips what follows token `t` when it opens an array or object (only the nesting is
/// checked: what is skipped is never used).
fn skip_rest(lex: &mut Lexer<'_>, t: Token<'_>, depth: u8) -> Result<(), FormatError> {
    let close = match t {
        Token::BeginArray => Token::EndArray,
        Token::BeginObject => Token::EndObject,
        Token::Str(_)
        | Token::Num(_)
        | Token::Bool(_)
        | Token::Null
        | Token::Colon
        | Token::Comma => return Ok(()),
        _ => return Err(FormatError::Malformed),
    };
    let depth = depth.checked_sub(1).ok_or(FormatError::TooDeep)?;
    loop {
        let next = lex.expect_token()?;
        if next == close {
            return Ok(());
        }
        skip_rest(lex, next, depth)?;
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
