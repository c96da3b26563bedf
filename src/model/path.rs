//! LwM2M paths: `/`, `/O`, `/O/I`, `/O/I/R`, `/O/I/R/RI`.

/// Largest id an object, instance, resource or resource instance may have (65535 is reserved).
pub const MAX_ID: u16 = 65534;

/// A path of zero to four ids. Ids are checked against [`MAX_ID`] on construction.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Path {
    ids: [u16; 4],
    len: u8,
}

impl Path {
    /// The root path `/`.
    pub const ROOT: Path = Path {
        ids: [0; 4],
        len: 0,
    };

    /// A path from up to four ids; `None` when there are more or one is out of range.
    pub fn new(ids: &[u16]) -> Option<Path> {
        if ids.len() > 4 || ids.iter().any(|&i| i > MAX_ID) {
            return None;
        }
        let mut p = Path::ROOT;
        for (slot, &id) in p.ids.iter_mut().zip(ids) {
            *slot = id;
        }
        p.len = ids.len() as u8;
        Some(p)
    }

    /// `/oid`.
    pub fn object(oid: u16) -> Path {
        Path {
            ids: [oid, 0, 0, 0],
            len: 1,
        }
    }

    /// `/oid/iid`.
    pub fn instance(oid: u16, iid: u16) -> Path {
        Path {
            ids: [oid, iid, 0, 0],
            len: 2,
        }
    }

    /// `/oid/iid/rid`.
    pub fn resource(oid: u16, iid: u16, rid: u16) -> Path {
        Path {
            ids: [oid, iid, rid, 0],
            len: 3,
        }
    }

    /// Number of ids (0 for the root).
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True for the root path.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ids, outermost first.
    pub fn ids(&self) -> &[u16] {
        self.ids.get(..self.len()).unwrap_or(&[])
    }

    /// Object id, when the path has one.
    pub fn object_id(&self) -> Option<u16> {
        self.ids().first().copied()
    }

    /// Object instance id, when the path has one.
    pub fn instance_id(&self) -> Option<u16> {
        self.ids().get(1).copied()
    }

    /// Resource id, when the path has one.
    pub fn resource_id(&self) -> Option<u16> {
        self.ids().get(2).copied()
    }

    /// Resource instance id, when the path has one.
    pub fn resource_instance_id(&self) -> Option<u16> {
        self.ids().get(3).copied()
    }

    /// Parses CoAP Uri-Path segments (each a decimal id). An empty segment list is the root.
    /// A single empty segment (a trailing `/`) is accepted as the root as well.
    pub fn from_segments<'a>(segments: impl Iterator<Item = &'a [u8]>) -> Option<Path> {
        let mut p = Path::ROOT;
        for seg in segments {
            if seg.is_empty() {
                if p.len == 0 {
                    continue;
                }
                return None;
            }
            let index = p.len();
            let slot = p.ids.get_mut(index)?;
            // Decimal digits only; the value is checked after each digit, so it stays small.
            let mut v: u32 = 0;
            for &c in seg {
                let d = c.wrapping_sub(b'0');
                if d > 9 {
                    return None;
                }
                v = v * 10 + u32::from(d);
                if v > u32::from(MAX_ID) {
                    return None;
                }
            }
            *slot = u16::try_from(v).ok()?;
            p.len += 1;
        }
        Some(p)
    }

    /// True when `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &Path) -> bool {
        other.len <= self.len && self.ids().get(..other.len()) == Some(other.ids())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(s: &'static str) -> Option<Path> {
        Path::from_segments(s.split('/').filter(|x| !x.is_empty()).map(str::as_bytes))
    }

    #[test]
    fn parse_paths() {
        assert_eq!(segs("3/0/1").unwrap().ids(), &[3, 0, 1]);
        assert_eq!(segs("").unwrap(), Path::ROOT);
        assert!(segs("1/2/3/4/5").is_none());
        assert!(segs("65535").is_none());
        assert!(segs("70000").is_none());
        assert!(segs("x").is_none());
        assert!(segs("-1").is_none());
        assert!(Path::new(&[1, 65535]).is_none());
    }

    #[test]
    fn prefix() {
        let r = Path::resource(3, 0, 1);
        assert!(r.starts_with(&Path::object(3)));
        assert!(r.starts_with(&Path::ROOT));
        assert!(!r.starts_with(&Path::instance(3, 1)));
        assert!(!Path::object(3).starts_with(&r));
    }
}
