//! JSON (RFC 8259) as the two JSON content formats need it: a zero-copy tokenizer that
//! checks the grammar of strings and numbers, string escapes in both directions,
//! base64url (RFC 4648 section 5) for SenML's `vd`, and the record writer and reader that
//! SenML JSON and LwM2M JSON share (they differ in framing and in the keys they use).

use super::records::{Encoder, Record};
use super::senml::{self, label, Fields, Num, Raw};
use super::FormatError;
use crate::buf::Writer;
use crate::model::{Path, Value};

/// The value keys, by [`senml::label`] class; data and object links open a string.
const SENML_VALUE_KEYS: [&[u8]; 5] = [
    b"\"v\":",
    b"\"vs\":",
    b"\"vb\":",
    b"\"vd\":\"",
    b"\"vlo\":\"",
];
const LWM2M_VALUE_KEYS: [&[u8]; 5] = [
    b"\"v\":",
    b"\"sv\":",
    b"\"bv\":",
    b"\"sv\":\"",
    b"\"ov\":\"",
];

/// The keys a decoder knows, indexed by [`label`]. LwM2M JSON has no base name, base
/// time or data field in an entry: `"` stands for those, as no key can be one bare quote.
const SENML_KEYS: [&[u8]; 9] = [b"bn", b"n", b"bt", b"t", b"v", b"vs", b"vb", b"vd", b"vlo"];
const LWM2M_KEYS: [&[u8]; 9] = [b"\"", b"n", b"\"", b"t", b"v", b"sv", b"bv", b"\"", b"ov"];

/// How deep the LwM2M JSON decoder follows nested values it skips.
const SKIP_DEPTH: u8 = 4;

/// LwM2M JSON's `{"bn":"/3/0/","e":[`; the base name of an entry for the base path itself
/// has no trailing slash, as that entry's name is empty.
#[cfg(feature = "json")]
pub(super) fn header(w: &mut Writer<'_>, base: &Path, whole: bool) -> Result<(), FormatError> {
    w.put(b"{\"bn\":\"")?;
    senml::write_ids(base.ids(), w, true)?;
    if !whole {
        w.put_u8(b'/')?;
    }
    Ok(w.put(b"\",\"e\":[")?)
}

/// `key` (which opens a string), the ids, the string's end and a comma.
fn name(w: &mut Writer<'_>, key: &[u8], ids: &[u16], lead: bool) -> Result<(), FormatError> {
    w.put(key)?;
    senml::write_ids(ids, w, lead)?;
    Ok(w.put(b"\",")?)
}

/// One SenML JSON record or LwM2M JSON entry.
pub(super) fn record(
    e: &mut Encoder<'_, '_>,
    path: &Path,
    value: &Value<'_>,
) -> Result<(), FormatError> {
    let lwm2m = e.kind.lwm2m();
    let (nb, rest) = senml::split(&e.base, path);
    let w = &mut *e.w;
    #[cfg(feature = "json")]
    if e.first && lwm2m {
        header(w, &e.base, rest.is_empty())?;
    }
    w.put(if e.first { b"{" } else { b",{" })?;
    if lwm2m {
        name(w, b"\"n\":\"", rest, false)?;
    } else {
        if e.first && nb > 0 {
            name(w, b"\"bn\":\"", e.base.ids(), true)?;
        }
        if !rest.is_empty() {
            name(w, b"\"n\":\"", rest, true)?;
        }
    }
    w.put(senml::label(
        value,
        if lwm2m {
            &LWM2M_VALUE_KEYS
        } else {
            &SENML_VALUE_KEYS
        },
    ))?;
    match *value {
        Value::String(s) | Value::CoreLnk(s) => write_string(w, s.as_bytes())?,
        Value::Boolean(b) => w.put(if b { b"true" } else { b"false" })?,
        Value::Opaque(d) => super::text::encode_base64(d, !lwm2m, w)?,
        // Numbers as in text/plain (JSON has no infinities or NaN: the text form refuses
        // them too), object links as `oid:iid` inside the quotes that the key opened.
        _ => super::text::encode(value, w)?,
    }
    if matches!(value, Value::Opaque(_) | Value::ObjLnk(..)) {
        w.put_u8(b'"')?;
    }
    Ok(w.put_u8(b'}')?)
}

/// The records of a SenML JSON pack or the entries of an LwM2M JSON payload.
pub struct Records<'a> {
    lex: Lexer<'a>,
    bn: &'a [u8],
    first: bool,
    lwm2m: bool,
}

impl<'a> Records<'a> {
    /// Starts on a SenML JSON pack (`[` first), or on an LwM2M JSON payload: then the
    /// whole object is checked and its base name and entry array found, in whichever
    /// order they come.
    pub fn new(data: &'a [u8], lwm2m: bool) -> Result<Self, FormatError> {
        let lwm2m = lwm2m_json(lwm2m);
        let mut lex = Lexer::new(data);
        let mut bn: &[u8] = &[];
        if !lwm2m {
            lex.expect(Token::BeginArray)?;
            return Ok(Records {
                lex,
                bn,
                first: true,
                lwm2m,
            });
        }
        lex.expect(Token::BeginObject)?;
        let (mut has_bn, mut entries) = (false, None);
        loop {
            let Token::Str(key) = lex.expect_token()? else {
                return Err(FormatError::Malformed);
            };
            lex.expect(Token::Colon)?;
            let v = lex.expect_token()?;
            match (key, v) {
                (b"bn", Token::Str(s)) if !has_bn => (bn, has_bn) = (s, true),
                (b"e", Token::BeginArray) if entries.is_none() => entries = Some(lex.clone()),
                (b"bn" | b"e", _) => return Err(FormatError::Malformed),
                _ => {}
            }
            skip_rest(&mut lex, v, SKIP_DEPTH)?;
            match lex.expect_token()? {
                Token::Comma => {}
                Token::EndObject if lex.next_token()?.is_none() => break,
                _ => return Err(FormatError::Malformed),
            }
        }
        let lex = entries.ok_or(FormatError::Malformed)?;
        Ok(Records {
            lex,
            bn,
            first: true,
            lwm2m,
        })
    }

    /// True for LwM2M JSON (a constant in a build with one of the two JSON formats).
    fn lwm2m(&self) -> bool {
        lwm2m_json(self.lwm2m)
    }

    /// The next record; `None` after the last.
    pub fn next_record(&mut self) -> Result<Option<Record<'a>>, FormatError> {
        let t = self.lex.expect_token()?;
        let first = core::mem::replace(&mut self.first, false);
        let opens = match t {
            // A pack is all there is; LwM2M JSON's object was checked at the start.
            Token::EndArray if self.lwm2m() || self.lex.next_token()?.is_none() => return Ok(None),
            Token::BeginObject => first,
            Token::Comma => !first && self.lex.expect(Token::BeginObject).is_ok(),
            _ => false,
        };
        if !opens {
            return Err(FormatError::Malformed);
        }
        let keys = if self.lwm2m() {
            &LWM2M_KEYS
        } else {
            &SENML_KEYS
        };
        let mut fields = Fields::default();
        let mut t = self.lex.expect_token()?;
        // `{}` (a record that repeats the base name) has no fields.
        if !matches!(t, Token::EndObject) {
            loop {
                let Token::Str(key) = t else {
                    return Err(FormatError::Malformed);
                };
                self.lex.expect(Token::Colon)?;
                let l = match keys.iter().position(|k| *k == key) {
                    Some(i) => i as u8,
                    // A must-understand label we do not know (SenML), or any other (LwM2M).
                    None if self.lwm2m() || key.last() == Some(&b'_') => {
                        return Err(FormatError::Malformed)
                    }
                    None => label::OTHER,
                };
                let v = match self.lex.expect_token()? {
                    Token::Str(s) if l == label::VD => Raw::Data(s),
                    Token::Str(s) => Raw::Str(s),
                    Token::Num(n) => Raw::Num(Num::Text(n)),
                    Token::Bool(b) => Raw::Bool(b),
                    _ => return Err(FormatError::Malformed),
                };
                fields.take(l, v, &mut self.bn)?;
                match self.lex.expect_token()? {
                    Token::Comma => t = self.lex.expect_token()?,
                    Token::EndObject => break,
                    _ => return Err(FormatError::Malformed),
                }
            }
        }
        fields.record(self.bn, self.lwm2m()).map(Some)
    }
}

/// `lwm2m`, or what it must be when this build has only one of the JSON formats: the
/// other one's code then goes away.
fn lwm2m_json(lwm2m: bool) -> bool {
    if !cfg!(feature = "json") {
        false
    } else if !cfg!(feature = "senml-json") {
        true
    } else {
        lwm2m
    }
}

/// Skips what follows token `t` when it opens an array or object (only the nesting is
/// checked: what is skipped is never used).
fn skip_rest(lex: &mut Lexer<'_>, t: Token<'_>, depth: u8) -> Result<(), FormatError> {
    let close = match t {
        Token::BeginArray => Token::EndArray,
        Token::BeginObject => Token::EndObject,
        Token::EndArray | Token::EndObject => return Err(FormatError::Malformed),
        _ => return Ok(()),
    };
    let depth = depth.checked_sub(1).ok_or(FormatError::TooDeep)?;
    loop {
        let next = lex.expect_token()?;
        if same(&next, &close) {
            return Ok(());
        }
        skip_rest(lex, next, depth)?;
    }
}

/// True when `a` and `b` are the same kind of token (their contents are not compared).
fn same(a: &Token<'_>, b: &Token<'_>) -> bool {
    core::mem::discriminant(a) == core::mem::discriminant(b)
}

/// One JSON token. Strings are the bytes between the quotes, escapes still in them.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Token<'a> {
    /// `{`
    BeginObject,
    /// `}`
    EndObject,
    /// `[`
    BeginArray,
    /// `]`
    EndArray,
    /// `:`
    Colon,
    /// `,`
    Comma,
    /// A string's contents.
    Str(&'a [u8]),
    /// A number's text.
    Num(&'a [u8]),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// Reads tokens from a byte slice, skipping white space.
#[derive(Clone)]
pub struct Lexer<'a> {
    rest: &'a [u8],
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Lexer { rest: data }
    }

    /// The next token; `None` at the end of the input.
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>, FormatError> {
        let start = self
            .rest
            .iter()
            .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'));
        self.rest = self
            .rest
            .get(start.unwrap_or(self.rest.len())..)
            .unwrap_or(&[]);
        let Some(&c) = self.rest.first() else {
            return Ok(None);
        };
        let (token, len) = match c {
            b'{' => (Token::BeginObject, 1),
            b'}' => (Token::EndObject, 1),
            b'[' => (Token::BeginArray, 1),
            b']' => (Token::EndArray, 1),
            b':' => (Token::Colon, 1),
            b',' => (Token::Comma, 1),
            b'"' => {
                let len = string_len(self.rest.get(1..).unwrap_or(&[]))?;
                let s = self.rest.get(1..1 + len).ok_or(FormatError::Malformed)?;
                (Token::Str(s), len + 2)
            }
            b't' => keyword(self.rest, b"true", Token::Bool(true))?,
            b'f' => keyword(self.rest, b"false", Token::Bool(false))?,
            b'n' => keyword(self.rest, b"null", Token::Null)?,
            _ => {
                let len = number_len(self.rest)?;
                (Token::Num(self.rest.get(..len).unwrap_or(&[])), len)
            }
        };
        self.rest = self.rest.get(len..).ok_or(FormatError::Malformed)?;
        Ok(Some(token))
    }

    /// The next token, which must be `want` (a token without contents).
    fn expect(&mut self, want: Token<'_>) -> Result<(), FormatError> {
        if same(&self.expect_token()?, &want) {
            Ok(())
        } else {
            Err(FormatError::Malformed)
        }
    }

    /// The next token, which must exist.
    pub fn expect_token(&mut self) -> Result<Token<'a>, FormatError> {
        self.next_token()?.ok_or(FormatError::Malformed)
    }
}

/// `token` and its length when `rest` starts with `word`.
fn keyword<'a>(
    rest: &[u8],
    word: &[u8],
    token: Token<'a>,
) -> Result<(Token<'a>, usize), FormatError> {
    if rest.starts_with(word) {
        Ok((token, word.len()))
    } else {
        Err(FormatError::Malformed)
    }
}

/// The length of a string's contents up to (not including) the closing quote.
fn string_len(s: &[u8]) -> Result<usize, FormatError> {
    let mut i = 0;
    loop {
        match *s.get(i).ok_or(FormatError::Malformed)? {
            b'"' => return Ok(i),
            b'\\' => {
                i += match s.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                    Some(b'u') => {
                        hex4(s.get(i + 2..i + 6))?;
                        6
                    }
                    _ => return Err(FormatError::Malformed),
                }
            }
            0..=0x1f => return Err(FormatError::Malformed),
            _ => i += 1,
        }
    }
}

/// The value of four hex digits.
fn hex4(s: Option<&[u8]>) -> Result<u32, FormatError> {
    let mut v = 0;
    for &c in s.ok_or(FormatError::Malformed)? {
        let d = char::from(c).to_digit(16).ok_or(FormatError::Malformed)?;
        v = (v << 4) | d;
    }
    Ok(v)
}

/// The length of the number at the start of `s` (RFC 8259 section 6 grammar).
fn number_len(s: &[u8]) -> Result<usize, FormatError> {
    let digits = |from: usize| {
        let mut n = 0;
        while s.get(from + n).is_some_and(u8::is_ascii_digit) {
            n += 1;
        }
        n
    };
    let mut i = usize::from(s.first() == Some(&b'-'));
    let int = digits(i);
    if int == 0 || (int > 1 && s.get(i) == Some(&b'0')) {
        return Err(FormatError::Malformed);
    }
    i += int;
    if s.get(i) == Some(&b'.') {
        let frac = digits(i + 1);
        if frac == 0 {
            return Err(FormatError::Malformed);
        }
        i += 1 + frac;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = digits(i);
        if exp == 0 {
            return Err(FormatError::Malformed);
        }
        i += exp;
    }
    Ok(i)
}

/// The bytes a string token stands for: `s` itself when it has no escape, otherwise the
/// unescaped form written into `scratch` (UTF-8 is checked by the caller).
pub fn unescape<'a>(s: &'a [u8], scratch: &'a mut [u8]) -> Result<&'a [u8], FormatError> {
    // Not `contains`: on a Cortex-M that links core's word-at-a-time memchr (338 bytes).
    #[allow(clippy::manual_contains)]
    if !s.iter().any(|&c| c == b'\\') {
        return Ok(s);
    }
    let mut w = Writer::new(scratch);
    let mut rest = s;
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        if c != b'\\' {
            w.put_u8(c)?;
            continue;
        }
        let (&e, tail) = rest.split_first().ok_or(FormatError::Malformed)?;
        rest = tail;
        let cp = match e {
            b'b' => 8,
            b'f' => 12,
            b'n' => 10,
            b'r' => 13,
            b't' => 9,
            b'u' => unicode_escape(&mut rest)?,
            other => u32::from(other),
        };
        put_char(&mut w, cp)?;
    }
    let (buf, len) = w.finish();
    Ok(buf.get(..len).unwrap_or(&[]))
}

/// The code point of `XXXX` (after `\u`) at the start of `rest`, with a following
/// `\uXXXX` low surrogate when the first is a high one.
fn unicode_escape(rest: &mut &[u8]) -> Result<u32, FormatError> {
    let cp = hex4(rest.get(..4))?;
    *rest = rest.get(4..).unwrap_or(&[]);
    match cp {
        0xd800..=0xdbff => {
            if rest.get(..2) != Some(b"\\u") {
                return Err(FormatError::Malformed);
            }
            let low = hex4(rest.get(2..6))?;
            if low >> 10 != 0xdc00 >> 10 {
                return Err(FormatError::Malformed);
            }
            *rest = rest.get(6..).unwrap_or(&[]);
            Ok(0x1_0000 + ((cp - 0xd800) << 10) + (low - 0xdc00))
        }
        0xdc00..=0xdfff => Err(FormatError::Malformed),
        _ => Ok(cp),
    }
}

/// Writes code point `cp` (a Unicode scalar value: surrogates were refused) as UTF-8.
fn put_char(w: &mut Writer<'_>, cp: u32) -> Result<(), FormatError> {
    // Continuation bytes after the first, and the first byte's length marker.
    let (more, lead) = match cp {
        0..=0x7f => (0, 0),
        0x80..=0x7ff => (1, 0xc0),
        0x800..=0xffff => (2, 0xe0),
        _ => (3, 0xf0),
    };
    // One write for every byte: the first carries the marker and the highest bits, each
    // continuation byte 10xxxxxx six more.
    let (mut shift, mut mark, mut mask) = (6 * more, lead, 0x7f);
    loop {
        w.put_u8(mark | ((cp >> shift) & mask) as u8)?;
        if shift == 0 {
            return Ok(());
        }
        (shift, mark, mask) = (shift - 6, 0x80, 0x3f);
    }
}

/// Writes `s` as a JSON string, quotes included.
pub fn write_string(w: &mut Writer<'_>, s: &[u8]) -> Result<(), FormatError> {
    w.put_u8(b'"')?;
    for &c in s {
        match c {
            b'"' | b'\\' => w.put(&[b'\\', c])?,
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let hex = |n: u8| HEX.get(usize::from(n & 15)).copied().unwrap_or(b'0');
                w.put(&[b'\\', b'u', b'0', b'0', hex(c >> 4), hex(c)])?;
            }
            _ => w.put_u8(c)?,
        }
    }
    Ok(w.put_u8(b'"')?)
}

/// Decodes base64url (padding optional; the standard alphabet's `+` and `/` accepted too)
/// into `scratch`. Bits left over at the end must be zero.
pub fn base64url<'a>(s: &[u8], scratch: &'a mut [u8]) -> Result<&'a [u8], FormatError> {
    let mut s = s;
    for _ in 0..2 {
        if let Some((b'=', rest)) = s.split_last() {
            s = rest;
        }
    }
    let mut w = Writer::new(scratch);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return Err(FormatError::Malformed),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            w.put_u8((acc >> bits) as u8)?;
        }
    }
    if bits >= 6 || acc & ((1 << bits) - 1) != 0 {
        return Err(FormatError::Malformed);
    }
    let (buf, len) = w.finish();
    Ok(buf.get(..len).unwrap_or(&[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Result<std::vec::Vec<Token<'_>>, FormatError> {
        let mut l = Lexer::new(s.as_bytes());
        let mut v = std::vec::Vec::new();
        while let Some(t) = l.next_token()? {
            v.push(t);
        }
        Ok(v)
    }

    #[test]
    fn tokenizes_a_senml_pack() {
        let t = tokens(r#" [{"bn":"/3/0/", "v": -1.5e3, "vb":true},null] "#).unwrap();
        assert_eq!(
            t,
            [
                Token::BeginArray,
                Token::BeginObject,
                Token::Str(b"bn"),
                Token::Colon,
                Token::Str(b"/3/0/"),
                Token::Comma,
                Token::Str(b"v"),
                Token::Colon,
                Token::Num(b"-1.5e3"),
                Token::Comma,
                Token::Str(b"vb"),
                Token::Colon,
                Token::Bool(true),
                Token::EndObject,
                Token::Comma,
                Token::Null,
                Token::EndArray,
            ]
        );
    }

    #[test]
    fn refuses_bad_strings_numbers_and_words() {
        for bad in [
            "\"abc",
            "\"a\\x\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"a\u{1}b\"",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "1e+",
            "tru",
            "nul",
            "+1",
            "@",
        ] {
            assert!(tokens(bad).is_err(), "{bad}");
        }
        assert_eq!(tokens("0 -0 10.25E-2").unwrap().len(), 3);
    }

    #[test]
    fn unescapes_into_scratch() {
        let mut s = [0u8; 32];
        assert_eq!(unescape(b"plain", &mut s).unwrap(), b"plain");
        let mut s = [0u8; 32];
        assert_eq!(
            unescape(br#"a\"b\\c\/\n\u00e9\u20ac\ud83d\ude00"#, &mut s).unwrap(),
            "a\"b\\c/\n\u{e9}\u{20ac}\u{1f600}".as_bytes()
        );
        for bad in [&br"\ud83d"[..], br"\ud83dx", br"\ude00", br"\ud83d\u0041"] {
            let mut s = [0u8; 32];
            assert_eq!(
                unescape(bad, &mut s),
                Err(FormatError::Malformed),
                "{bad:?}"
            );
        }
        let mut tiny = [0u8; 2];
        assert_eq!(unescape(br"\n\n\n", &mut tiny), Err(FormatError::NoSpace));
    }

    #[test]
    fn escapes_strings() {
        let mut b = [0u8; 32];
        let mut w = Writer::new(&mut b);
        write_string(&mut w, b"a\"\\\x01").unwrap();
        assert_eq!(w.written(), br#""a\"\\\u0001""#);
    }

    #[test]
    fn base64url_round_trips() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"\xfb\xff\xbf"] {
            let mut b = [0u8; 16];
            let mut w = Writer::new(&mut b);
            crate::formats::text::encode_base64(data, true, &mut w).unwrap();
            let text = w.written().to_vec();
            assert!(!text.contains(&b'='));
            let mut s = [0u8; 16];
            assert_eq!(base64url(&text, &mut s).unwrap(), data);
        }
        let mut s = [0u8; 16];
        assert_eq!(base64url(b"-_8=", &mut s).unwrap(), [0xfb, 0xff]);
        assert_eq!(base64url(b"+/8", &mut s).unwrap(), [0xfb, 0xff]);
        assert!(base64url(b"abcde", &mut s).is_err());
        assert!(base64url(b"ab!d", &mut s).is_err());
        // Left-over bits that are not zero.
        assert!(base64url(b"-_9", &mut s).is_err());
    }
}
