//! CoRE link format (RFC 6690, content format 40, [`super::content_format::LINK`]).
//!
//! LwM2M uses it for the object list in Register and Update, for Discover answers and for
//! Bootstrap-Discover:
//!
//! ```text
//! </>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>
//! </3/0>;pmin=10,</3/0/1>,</3/0/7>;dim=2
//! ```
//!
//! [`LinkWriter`] writes such lists into a [`Writer`]; [`LinkIter`] reads them back without
//! allocating (for test tools, fuzzing and checking what a peer sent).

use crate::buf::Writer;
use crate::formats::FormatError;
use crate::model::Path;

/// Writes a link list: each [`link`](Self::link) starts an entry, the `attr_*` calls add
/// parameters to the latest one.
///
/// On [`FormatError::NoSpace`] the writer may hold part of an entry: the caller truncates it
/// back to its length before the failed call (that also keeps the list well formed).
pub struct LinkWriter<'w, 'b> {
    w: &'w mut Writer<'b>,
    links: usize,
}

impl<'w, 'b> LinkWriter<'w, 'b> {
    /// A link writer appending to `w`. The first link gets no leading comma.
    pub fn new(w: &'w mut Writer<'b>) -> Self {
        LinkWriter { w, links: 0 }
    }

    /// Number of links started so far.
    pub fn count(&self) -> usize {
        self.links
    }

    /// Starts an entry for `path`: `</3/0>`, or `</>` for the root, with a `,` before every
    /// entry but the first.
    pub fn link(&mut self, path: &Path) -> Result<(), FormatError> {
        if self.links > 0 {
            self.w.put_u8(b',')?;
        }
        self.w.put_u8(b'<')?;
        if path.is_empty() {
            self.w.put_u8(b'/')?;
        }
        for &id in path.ids() {
            self.w.put_u8(b'/')?;
            self.w.put_u64_dec(u64::from(id))?;
        }
        self.w.put_u8(b'>')?;
        self.links += 1;
        Ok(())
    }

    /// Starts an attribute; before any link it gives [`FormatError::Malformed`].
    fn attr_name(&mut self, name: &str) -> Result<(), FormatError> {
        if self.links == 0 {
            return Err(FormatError::Malformed);
        }
        self.w.put_u8(b';')?;
        self.w.put(name.as_bytes())?;
        Ok(())
    }

    /// Adds `;name="v"`; `"` and `\` in `v` are escaped with `\` (RFC 6690 quoted-string).
    pub fn attr_str(&mut self, name: &str, v: &str) -> Result<(), FormatError> {
        self.attr_name(name)?;
        self.w.put(b"=\"")?;
        for &c in v.as_bytes() {
            if c == b'"' || c == b'\\' {
                self.w.put_u8(b'\\')?;
            }
            self.w.put_u8(c)?;
        }
        self.w.put_u8(b'"')?;
        Ok(())
    }

    /// Adds `;name=123`.
    pub fn attr_uint(&mut self, name: &str, v: u64) -> Result<(), FormatError> {
        self.attr_name(name)?;
        self.w.put_u8(b'=')?;
        self.w.put_u64_dec(v)?;
        Ok(())
    }

    /// Adds `;name=v` with `v` as it is, unquoted (e.g. a float formatted by
    /// [`super::float::write_shortest`], or `1.1`). The caller makes sure `v` is a valid token.
    pub fn attr_raw(&mut self, name: &str, v: &[u8]) -> Result<(), FormatError> {
        self.attr_name(name)?;
        self.w.put_u8(b'=')?;
        self.w.put(v)?;
        Ok(())
    }

    /// Adds `;name` with no value.
    pub fn attr_flag(&mut self, name: &str) -> Result<(), FormatError> {
        self.attr_name(name)
    }
}

/// One link of a parsed list.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Link<'a> {
    /// The URI between `<` and `>` (never empty).
    pub target: &'a [u8],
    /// The parameters after `>`, each starting with `;` (already checked by [`LinkIter`]).
    params: &'a [u8],
}

impl<'a> Link<'a> {
    /// The link's parameters, in order.
    pub fn params(&self) -> ParamIter<'a> {
        ParamIter { rest: self.params }
    }
}

/// Splits one `;name[=value]` parameter off the front of `s` (which starts with `;`).
/// Returns the name, the value (quotes removed, escapes left as they are) and the rest,
/// which is empty or starts with `;` or `,`.
#[allow(clippy::type_complexity)]
fn split_param(s: &[u8]) -> Result<(&[u8], Option<&[u8]>, &[u8]), FormatError> {
    let s = match s.split_first() {
        Some((b';', rest)) => rest,
        _ => return Err(FormatError::Malformed),
    };
    let name_len = s
        .iter()
        .position(|&c| matches!(c, b'=' | b';' | b','))
        .unwrap_or(s.len());
    let (name, rest) = s.split_at_checked(name_len).unwrap_or((s, &[]));
    if name.is_empty() || name.iter().any(|c| matches!(c, b'"' | b'<' | b'>' | b' ')) {
        return Err(FormatError::Malformed);
    }
    let rest = match rest.split_first() {
        Some((b'=', v)) => v,
        _ => return Ok((name, None, rest)),
    };
    if let Some((b'"', q)) = rest.split_first() {
        // Quoted string: up to the first unescaped quote.
        let mut escaped = false;
        let mut end = None;
        for (i, &c) in q.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                end = Some(i);
                break;
            }
        }
        let end = end.ok_or(FormatError::Malformed)?;
        let (value, after) = q.split_at_checked(end).unwrap_or((q, &[]));
        let after = after.get(1..).unwrap_or(&[]);
        if !matches!(after.first(), None | Some(b';' | b',')) {
            return Err(FormatError::Malformed);
        }
        Ok((name, Some(value), after))
    } else {
        let end = rest
            .iter()
            .position(|&c| matches!(c, b';' | b','))
            .unwrap_or(rest.len());
        let (value, after) = rest.split_at_checked(end).unwrap_or((rest, &[]));
        if value.iter().any(|c| matches!(c, b'"' | b'<' | b'>')) {
            return Err(FormatError::Malformed);
        }
        Ok((name, Some(value), after))
    }
}

/// The parameters of one [`Link`]: `(name, value)`, the value without its quotes (escapes
/// such as `\"` are left as they are) and `None` for a bare `;name`.
#[derive(Clone)]
pub struct ParamIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a [u8], Option<&'a [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        // The parameters were checked when the link was parsed; stop quietly otherwise.
        match split_param(self.rest) {
            Ok((name, value, rest)) => {
                self.rest = rest;
                Some((name, value))
            }
            Err(_) => {
                self.rest = &[];
                None
            }
        }
    }
}

/// Iterates over the links of a link-format payload.
///
/// Yields each link; on bad syntax (a missing `<` or `>`, an empty target, an unterminated
/// quoted string, a parameter without a name, text after a link that is not `;` or `,`, a
/// trailing `,`) it yields one `Err(FormatError::Malformed)` and stops. Commas inside quoted
/// strings do not split links. Whitespace (space, tab, CR, LF) before a link is skipped, as
/// some servers break long lists into lines. An empty payload has no links.
#[derive(Clone)]
pub struct LinkIter<'a> {
    rest: &'a [u8],
    failed: bool,
    first: bool,
}

impl<'a> LinkIter<'a> {
    /// An iterator over the links in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        LinkIter {
            rest: data,
            failed: false,
            first: true,
        }
    }

    fn parse_next(&mut self) -> Result<Option<Link<'a>>, FormatError> {
        let mut s = self.rest;
        if !self.first {
            match s.split_first() {
                None => return Ok(None),
                Some((b',', rest)) => s = rest,
                Some(_) => return Err(FormatError::Malformed),
            }
        }
        let skip = s
            .iter()
            .position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            .unwrap_or(s.len());
        s = s.get(skip..).unwrap_or(&[]);
        if self.first && s.is_empty() {
            return Ok(None);
        }
        self.first = false;
        let s = match s.split_first() {
            Some((b'<', rest)) => rest,
            _ => return Err(FormatError::Malformed),
        };
        let close = s
            .iter()
            .position(|&c| c == b'>')
            .ok_or(FormatError::Malformed)?;
        let (target, after) = s.split_at_checked(close).unwrap_or((s, &[]));
        if target.is_empty() || target.iter().any(|c| matches!(c, b'<' | b'"' | b',')) {
            return Err(FormatError::Malformed);
        }
        let params_start = after.get(1..).unwrap_or(&[]);
        let mut p = params_start;
        while let Some(b';') = p.first() {
            let (_, _, rest) = split_param(p)?;
            p = rest;
        }
        if !matches!(p.first(), None | Some(b',')) {
            return Err(FormatError::Malformed);
        }
        let params = params_start
            .get(..params_start.len().saturating_sub(p.len()))
            .unwrap_or(&[]);
        self.rest = p;
        Ok(Some(Link { target, params }))
    }
}

impl<'a> Iterator for LinkIter<'a> {
    type Item = Result<Link<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.parse_next() {
            Ok(Some(link)) => Some(Ok(link)),
            Ok(None) => {
                self.failed = true;
                None
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn write(f: impl FnOnce(&mut LinkWriter<'_, '_>) -> Result<(), FormatError>) -> Vec<u8> {
        let mut b = [0u8; 256];
        let mut w = Writer::new(&mut b);
        f(&mut LinkWriter::new(&mut w)).unwrap();
        w.written().to_vec()
    }

    const REGISTER: &[u8] =
        b"</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>";
    const DISCOVER: &[u8] = b"</3/0>;pmin=10,</3/0/1>,</3/0/7>;dim=2";

    #[test]
    fn register_payload() {
        let out = write(|l| {
            l.link(&Path::ROOT)?;
            l.attr_str("rt", "oma.lwm2m")?;
            l.attr_uint("ct", 11543)?;
            l.link(&Path::instance(1, 0))?;
            l.link(&Path::instance(3, 0))?;
            l.link(&Path::object(3303))?;
            l.attr_raw("ver", b"1.1")?;
            l.link(&Path::instance(3303, 0))
        });
        assert_eq!(out, REGISTER);
    }

    #[test]
    fn discover_payload() {
        let out = write(|l| {
            l.link(&Path::instance(3, 0))?;
            l.attr_uint("pmin", 10)?;
            l.link(&Path::resource(3, 0, 1))?;
            l.link(&Path::resource(3, 0, 7))?;
            l.attr_uint("dim", 2)
        });
        assert_eq!(out, DISCOVER);
    }

    #[test]
    fn flags_escapes_and_resource_instances() {
        let out = write(|l| {
            l.link(&Path::new(&[3, 0, 7, 1]).unwrap())?;
            l.attr_flag("obs")?;
            l.attr_str("title", "a \"b\" \\c")
        });
        assert_eq!(out, b"</3/0/7/1>;obs;title=\"a \\\"b\\\" \\\\c\"");
        let link = LinkIter::new(&out).next().unwrap().unwrap();
        let params: Vec<_> = link.params().collect();
        assert_eq!(
            params,
            [
                (&b"obs"[..], None),
                (&b"title"[..], Some(&b"a \\\"b\\\" \\\\c"[..]))
            ]
        );
    }

    #[test]
    fn attribute_before_link_is_malformed() {
        let mut b = [0u8; 16];
        let mut w = Writer::new(&mut b);
        let mut l = LinkWriter::new(&mut w);
        assert_eq!(l.attr_uint("pmin", 1), Err(FormatError::Malformed));
        assert_eq!(l.count(), 0);
        assert!(w.is_empty());
    }

    #[test]
    fn no_space() {
        let mut b = [0u8; 5];
        let mut w = Writer::new(&mut b);
        let mut l = LinkWriter::new(&mut w);
        assert_eq!(l.link(&Path::instance(3303, 0)), Err(FormatError::NoSpace));
    }

    #[test]
    fn parse_register_payload() {
        let links: Vec<_> = LinkIter::new(REGISTER).map(Result::unwrap).collect();
        let targets: Vec<&[u8]> = links.iter().map(|l| l.target).collect();
        assert_eq!(targets, [&b"/"[..], b"/1/0", b"/3/0", b"/3303", b"/3303/0"]);
        let p0: Vec<_> = links[0].params().collect();
        assert_eq!(
            p0,
            [
                (&b"rt"[..], Some(&b"oma.lwm2m"[..])),
                (&b"ct"[..], Some(&b"11543"[..]))
            ]
        );
        assert_eq!(links[1].params().count(), 0);
        assert_eq!(
            links[3].params().collect::<Vec<_>>(),
            [(&b"ver"[..], Some(&b"1.1"[..]))]
        );
    }

    #[test]
    fn parse_discover_payload() {
        let links: Vec<_> = LinkIter::new(DISCOVER).map(Result::unwrap).collect();
        assert_eq!(links.len(), 3);
        assert_eq!(links[2].target, b"/3/0/7");
        assert_eq!(
            links[2].params().collect::<Vec<_>>(),
            [(&b"dim"[..], Some(&b"2"[..]))]
        );
    }

    #[test]
    fn comma_inside_quotes_does_not_split() {
        let data = b"</a>;title=\"x,y;z\";ct=0,</b>";
        let links: Vec<_> = LinkIter::new(data).map(Result::unwrap).collect();
        assert_eq!(links.len(), 2);
        let p: Vec<_> = links[0].params().collect();
        assert_eq!(
            p,
            [
                (&b"title"[..], Some(&b"x,y;z"[..])),
                (&b"ct"[..], Some(&b"0"[..]))
            ]
        );
        assert_eq!(links[1].target, b"/b");
    }

    #[test]
    fn whitespace_between_links_and_empty_payload() {
        assert_eq!(LinkIter::new(b"").count(), 0);
        assert_eq!(LinkIter::new(b"  ").count(), 0);
        let links: Vec<_> = LinkIter::new(b"</a>,\r\n </b>")
            .map(Result::unwrap)
            .collect();
        assert_eq!(links.len(), 2);
    }

    #[test]
    fn unterminated_quote_is_malformed() {
        let mut it = LinkIter::new(b"</a>;rt=\"oma,</b>");
        assert_eq!(it.next(), Some(Err(FormatError::Malformed)));
        assert_eq!(it.next(), None);
        assert_eq!(
            LinkIter::new(b"</a>;rt=\"x\\\"").next(),
            Some(Err(FormatError::Malformed))
        );
    }

    #[test]
    fn missing_close_bracket_is_malformed() {
        let mut it = LinkIter::new(b"</a>,</b;ct=0");
        assert!(matches!(it.next(), Some(Ok(_))));
        assert_eq!(it.next(), Some(Err(FormatError::Malformed)));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn missing_open_bracket_is_malformed() {
        assert_eq!(
            LinkIter::new(b"/a>").next(),
            Some(Err(FormatError::Malformed))
        );
    }

    #[test]
    fn empty_target_is_malformed() {
        assert_eq!(
            LinkIter::new(b"<>;ct=0").next(),
            Some(Err(FormatError::Malformed))
        );
    }

    #[test]
    fn other_bad_syntax_is_malformed() {
        for data in [
            &b"</a>,"[..],
            b"</a>x",
            b"</a>;",
            b"</a>;=1",
            b"</a>;rt=\"x\"y",
            b"</a>;rt=x\"y\"",
            b"</a></b>",
            b"</a>,,</b>",
        ] {
            let r: Result<Vec<_>, _> = LinkIter::new(data).collect();
            assert_eq!(
                r,
                Err(FormatError::Malformed),
                "{:?}",
                std::string::String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn empty_values_and_flags_parse() {
        let link = LinkIter::new(b"</a>;x=;y;z=\"\"").next().unwrap().unwrap();
        let p: Vec<_> = link.params().collect();
        assert_eq!(
            p,
            [
                (&b"x"[..], Some(&b""[..])),
                (&b"y"[..], None),
                (&b"z"[..], Some(&b""[..]))
            ]
        );
    }
}
