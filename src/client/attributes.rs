//! Notification attributes (LwM2M 1.1 section 5.1.2, 1.2 additions): what a server sets with
//! Write-Attributes (PUT with Uri-Query and no payload) on an object, instance, resource or
//! resource instance, kept per server in a fixed table and shown by Discover.

use heapless::Vec;

use crate::coap::Code;
use crate::config::MAX_ATTRIBUTES;
use crate::formats::link::LinkWriter;
use crate::formats::FormatError;
use crate::model::{Path, ResourceDef, ResourceType};

/// The attributes set on one path; `None` is "not set".
#[derive(Clone, Copy, Default, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Attributes {
    /// Minimum period, seconds.
    pub pmin: Option<u32>,
    /// Maximum period, seconds.
    pub pmax: Option<u32>,
    /// Greater than.
    pub gt: Option<f64>,
    /// Less than.
    pub lt: Option<f64>,
    /// Step.
    pub st: Option<f64>,
    /// Minimum evaluation period, seconds (1.1).
    pub epmin: Option<u32>,
    /// Maximum evaluation period, seconds (1.1).
    pub epmax: Option<u32>,
    /// Edge: notify on a boolean's rising (1) or falling (0) edge (1.2).
    pub edge: Option<bool>,
    /// Notify with confirmable messages (1.2).
    pub con: Option<bool>,
    /// Historical queue maximum (1.2).
    pub hqmax: Option<u32>,
}

/// The attribute names, in the order Discover writes them.
const NAMES: [&str; 10] = [
    "pmin", "pmax", "gt", "lt", "st", "epmin", "epmax", "edge", "con", "hqmax",
];

impl Attributes {
    fn is_empty(&self) -> bool {
        *self == Attributes::default()
    }

    /// Sets (`value` given) or clears (`None`) the attribute `name`; 4.00 for an unknown
    /// name or a value that does not parse.
    fn apply(&mut self, name: &[u8], value: Option<&[u8]>) -> Result<(), Code> {
        let bad = Code::BAD_REQUEST;
        let int = |v: Option<&[u8]>| -> Result<Option<u32>, Code> {
            v.map(|t| {
                let n = crate::formats::text::digits(t).map_err(|_| bad)?;
                u32::try_from(n).map_err(|_| bad)
            })
            .transpose()
        };
        let float = |v: Option<&[u8]>| -> Result<Option<f64>, Code> {
            v.map(|t| crate::formats::float::parse(t).map_err(|_| bad))
                .transpose()
        };
        let flag = |v: Option<&[u8]>| -> Result<Option<bool>, Code> {
            match v {
                None => Ok(None),
                Some(b"0") => Ok(Some(false)),
                Some(b"1") => Ok(Some(true)),
                Some(_) => Err(bad),
            }
        };
        match name {
            b"pmin" => self.pmin = int(value)?,
            b"pmax" => self.pmax = int(value)?,
            b"gt" => self.gt = float(value)?,
            b"lt" => self.lt = float(value)?,
            b"st" => self.st = float(value)?,
            b"epmin" => self.epmin = int(value)?,
            b"epmax" => self.epmax = int(value)?,
            b"edge" => self.edge = flag(value)?,
            b"con" => self.con = flag(value)?,
            b"hqmax" => self.hqmax = int(value)?,
            _ => return Err(bad),
        }
        Ok(())
    }

    /// 4.00 for a set that contradicts itself or does not fit the target: value conditions
    /// (gt, lt, st) only on numeric resources, edge only on boolean ones, lt below gt with
    /// room for two steps between them, a step that is not negative, and maximum periods
    /// not below the minimum ones.
    fn check(&self, def: Option<ResourceDef>) -> Result<(), Code> {
        let numeric = matches!(
            def.map(|d| d.kind),
            Some(
                ResourceType::Integer
                    | ResourceType::Unsigned
                    | ResourceType::Float
                    | ResourceType::Time
            )
        );
        let boolean = def.is_some_and(|d| d.kind == ResourceType::Boolean);
        let value_conditions = self.gt.is_some() || self.lt.is_some() || self.st.is_some();
        let ok = (numeric || !value_conditions)
            && (boolean || self.edge.is_none())
            && !matches!(self.st, Some(st) if st < 0.0)
            && match (self.lt, self.gt) {
                (Some(lt), Some(gt)) => lt + 2.0 * self.st.unwrap_or(0.0) < gt,
                _ => true,
            }
            && ordered(self.pmin, self.pmax)
            && ordered(self.epmin, self.epmax);
        if ok {
            Ok(())
        } else {
            Err(Code::BAD_REQUEST)
        }
    }

    /// Appends `;name=value` for each attribute set.
    pub fn write_link(&self, links: &mut LinkWriter<'_, '_>) -> Result<(), FormatError> {
        let ints = [
            self.pmin, self.pmax, None, None, None, self.epmin, self.epmax, None, None, self.hqmax,
        ];
        let floats = [None, None, self.gt, self.lt, self.st];
        let flags = [self.edge, self.con];
        for (i, name) in NAMES.iter().enumerate() {
            if let Some(Some(v)) = ints.get(i) {
                links.attr_uint(name, u64::from(*v))?;
            } else if let Some(Some(f)) = floats.get(i) {
                let mut buf = [0u8; 32];
                let mut w = crate::buf::Writer::new(&mut buf);
                crate::formats::float::write_shortest(*f, &mut w)?;
                links.attr_raw(name, w.written())?;
            } else if let Some(Some(b)) = i.checked_sub(7).and_then(|j| flags.get(j)) {
                links.attr_raw(name, if *b { b"1" } else { b"0" })?;
            }
        }
        Ok(())
    }
}

/// A maximum, when both are set, is not below the minimum.
fn ordered(min: Option<u32>, max: Option<u32>) -> bool {
    match (min, max) {
        (Some(min), Some(max)) => max >= min,
        _ => true,
    }
}

/// One server's attributes on one path.
#[derive(Clone, Copy)]
struct Entry {
    server: u8,
    path: Path,
    attrs: Attributes,
}

/// Every attribute set by every server, in a table of `TERN_MAX_ATTRIBUTES` entries.
pub struct Store {
    entries: Vec<Entry, MAX_ATTRIBUTES>,
}

impl Store {
    /// An empty table.
    pub const fn new() -> Store {
        Store {
            entries: Vec::new(),
        }
    }

    /// The attributes `server` set on exactly `path`, if any.
    pub fn get(&self, server: u8, path: &Path) -> Option<&Attributes> {
        self.entries
            .iter()
            .find(|e| e.server == server && e.path == *path)
            .map(|e| &e.attrs)
    }

    /// Write-Attributes: applies every `name[=value]` query to what `server` has on `path`
    /// (a resource described by `def`, when the path names one) and keeps the result only
    /// when all of it parses and checks. 5.00 when the table is full.
    pub fn write<'q>(
        &mut self,
        server: u8,
        path: &Path,
        def: Option<ResourceDef>,
        queries: impl Iterator<Item = &'q [u8]>,
    ) -> Result<(), Code> {
        let index = self
            .entries
            .iter()
            .position(|e| e.server == server && e.path == *path);
        let mut attrs = index
            .and_then(|i| self.entries.get(i))
            .map_or_else(Attributes::default, |e| e.attrs);
        let mut seen = 0u16;
        for q in queries {
            let (name, value) = match q.iter().position(|&c| c == b'=') {
                Some(eq) => (q.get(..eq).unwrap_or(&[]), q.get(eq + 1..)),
                None => (q, None),
            };
            let bit = NAMES
                .iter()
                .position(|n| n.as_bytes() == name)
                .ok_or(Code::BAD_REQUEST)?;
            if seen & (1 << bit) != 0 {
                return Err(Code::BAD_REQUEST);
            }
            seen |= 1 << bit;
            attrs.apply(name, value)?;
        }
        attrs.check(def)?;
        match (index, attrs.is_empty()) {
            (Some(i), true) => {
                self.entries.swap_remove(i);
            }
            (Some(i), false) => {
                if let Some(e) = self.entries.get_mut(i) {
                    e.attrs = attrs;
                }
            }
            (None, true) => {}
            (None, false) => {
                let entry = Entry {
                    server,
                    path: *path,
                    attrs,
                };
                self.entries
                    .push(entry)
                    .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
            }
        }
        Ok(())
    }

    /// Forgets what any server set on `path` or below it (after a Delete).
    pub fn remove_under(&mut self, path: &Path) {
        let mut i = 0;
        while let Some(e) = self.entries.get(i) {
            if e.path.starts_with(path) {
                self.entries.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Operations;

    const FLOAT: ResourceDef = ResourceDef::new(5700, ResourceType::Float, Operations::R, false);
    const TEXT: ResourceDef = ResourceDef::new(5701, ResourceType::String, Operations::R, false);
    const FLAG: ResourceDef = ResourceDef::new(5500, ResourceType::Boolean, Operations::R, false);

    fn write(s: &mut Store, path: Path, def: Option<ResourceDef>, q: &[&str]) -> Result<(), Code> {
        s.write(1, &path, def, q.iter().map(|x| x.as_bytes()))
    }

    #[test]
    fn set_merge_and_clear() {
        let mut s = Store::new();
        let p = Path::resource(3303, 0, 5700);
        write(&mut s, p, Some(FLOAT), &["pmin=10", "gt=25.5"]).unwrap();
        write(&mut s, p, Some(FLOAT), &["pmax=60", "lt=-3"]).unwrap();
        let a = *s.get(1, &p).unwrap();
        assert_eq!(
            (a.pmin, a.pmax, a.gt, a.lt),
            (Some(10), Some(60), Some(25.5), Some(-3.0))
        );
        assert!(s.get(2, &p).is_none(), "attributes are per server");
        write(&mut s, p, Some(FLOAT), &["pmin", "pmax", "gt", "lt"]).unwrap();
        assert!(
            s.get(1, &p).is_none(),
            "an entry with nothing set is dropped"
        );
    }

    #[test]
    fn contradictions_and_misfits_are_refused_and_change_nothing() {
        let mut s = Store::new();
        let p = Path::resource(3303, 0, 5700);
        write(&mut s, p, Some(FLOAT), &["pmin=5"]).unwrap();
        for q in [
            &["lt=10", "gt=5"][..],
            &["lt=5", "gt=5"],
            &["lt=0", "gt=10", "st=5"],
            &["st=-1"],
            &["pmin=10", "pmax=5"],
            &["pmax=4"],
            &["epmin=10", "epmax=9"],
            &["pmin=x"],
            &["pmin=-1"],
            &["gt=1e"],
            &["edge=1"],
            &["con=2"],
            &["bogus=1"],
            &["pmin=1", "pmin=2"],
            &["pmax=100", "lt=2", "gt=1"],
        ] {
            assert_eq!(
                write(&mut s, p, Some(FLOAT), q),
                Err(Code::BAD_REQUEST),
                "{q:?}"
            );
            assert_eq!(s.get(1, &p).unwrap().pmax, None, "{q:?}");
            assert_eq!(s.get(1, &p).unwrap().pmin, Some(5), "{q:?}");
        }
        assert_eq!(
            write(&mut s, p, Some(FLOAT), &["lt=0", "gt=10", "st=4.9"]),
            Ok(())
        );
        // Value conditions need a numeric resource; edge a boolean one.
        let inst = Path::instance(3303, 0);
        assert_eq!(write(&mut s, inst, None, &["gt=1"]), Err(Code::BAD_REQUEST));
        assert_eq!(
            write(&mut s, Path::resource(3303, 0, 5701), Some(TEXT), &["lt=1"]),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(
            write(
                &mut s,
                Path::resource(3303, 0, 5500),
                Some(FLAG),
                &["edge=1", "con=1"]
            ),
            Ok(())
        );
        assert_eq!(
            write(&mut s, inst, None, &["pmin=1", "pmax=2", "hqmax=3"]),
            Ok(())
        );
    }

    #[test]
    fn a_full_table_is_500_and_delete_forgets() {
        let mut s = Store::new();
        for i in 0..MAX_ATTRIBUTES as u16 {
            write(&mut s, Path::instance(3303, i), None, &["pmin=1"]).unwrap();
        }
        let extra = Path::instance(3303, 999);
        assert_eq!(
            write(&mut s, extra, None, &["pmin=1"]),
            Err(Code::INTERNAL_SERVER_ERROR)
        );
        s.remove_under(&Path::instance(3303, 0));
        assert!(s.get(1, &Path::instance(3303, 0)).is_none());
        write(&mut s, extra, None, &["pmin=1"]).unwrap();
    }

    #[test]
    fn link_format_lists_what_is_set() {
        let a = Attributes {
            pmin: Some(10),
            gt: Some(25.5),
            epmax: Some(7),
            con: Some(true),
            ..Attributes::default()
        };
        let mut buf = [0u8; 96];
        let mut w = crate::buf::Writer::new(&mut buf);
        let mut links = LinkWriter::new(&mut w);
        links.link(&Path::resource(3303, 0, 5700)).unwrap();
        a.write_link(&mut links).unwrap();
        assert_eq!(w.written(), b"</3303/0/5700>;pmin=10;gt=25.5;epmax=7;con=1");
    }
}
