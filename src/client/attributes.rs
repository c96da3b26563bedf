//! Notification attributes (LwM2M 1.1 section 5.1.2, 1.2 additions): what a server sets with
//! Write-Attributes (PUT with Uri-Query and no payload) on an object, instance, resource or
//! resource instance, kept per server in a fixed table and shown by Discover.

use heapless::Vec;

use crate::coap::Code;
use crate::config::MAX_ATTRIBUTES;
use crate::formats::float::{add, less};
use crate::formats::link::LinkWriter;
use crate::formats::FormatError;
use crate::model::{Path, ResourceDef, ResourceType};

/// The attribute names; an attribute's index here is its bit in [`Attributes`].
const NAMES: [&str; 10] = [
    "pmin", "pmax", "gt", "lt", "st", "epmin", "epmax", "edge", "con", "hqmax",
];
const PMIN: usize = 0;
const PMAX: usize = 1;
const GT: usize = 2;
const LT: usize = 3;
const ST: usize = 4;
const EPMIN: usize = 5;
const EPMAX: usize = 6;
const EDGE: usize = 7;
const CON: usize = 8;
const HQMAX: usize = 9;

/// The attributes set on one path, packed (60 bytes a table entry on every target): a bit
/// per attribute that is set, then the values. Periods and hqmax are whole seconds or
/// counts, gt, lt and st floats, edge and con flags.
#[derive(Clone, Copy, Default, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Attributes {
    set: u16,
    flags: u8,
    /// pmin, pmax, epmin, epmax, hqmax.
    ints: [u32; 5],
    /// gt, lt, st (f64 bytes: an entry then needs no 8-byte alignment).
    floats: [[u8; 8]; 3],
}

/// Where attribute `name` keeps its value: (kind, slot); kind 0 int, 1 float, 2 flag.
fn slot(name: usize) -> (u8, usize) {
    match name {
        PMIN => (0, 0),
        PMAX => (0, 1),
        EPMIN => (0, 2),
        EPMAX => (0, 3),
        HQMAX => (0, 4),
        GT => (1, 0),
        LT => (1, 1),
        ST => (1, 2),
        EDGE => (2, 0),
        _ => (2, 1),
    }
}

impl Attributes {
    fn has(&self, name: usize) -> bool {
        self.set & (1 << name) != 0
    }

    fn int(&self, name: usize) -> Option<u32> {
        let v = self.ints.get(slot(name).1).copied();
        v.filter(|_| self.has(name))
    }

    fn float(&self, name: usize) -> Option<f64> {
        let v = self
            .floats
            .get(slot(name).1)
            .copied()
            .map(f64::from_ne_bytes);
        v.filter(|_| self.has(name))
    }

    fn flag(&self, name: usize) -> Option<bool> {
        self.has(name)
            .then_some(self.flags & (1 << slot(name).1) != 0)
    }

    /// Minimum period, seconds.
    pub fn pmin(&self) -> Option<u32> {
        self.int(PMIN)
    }

    /// Maximum period, seconds.
    pub fn pmax(&self) -> Option<u32> {
        self.int(PMAX)
    }

    /// Greater than.
    pub fn gt(&self) -> Option<f64> {
        self.float(GT)
    }

    /// Less than.
    pub fn lt(&self) -> Option<f64> {
        self.float(LT)
    }

    /// Step.
    pub fn st(&self) -> Option<f64> {
        self.float(ST)
    }

    /// Minimum and maximum evaluation periods, seconds (1.1).
    pub fn epmin_epmax(&self) -> (Option<u32>, Option<u32>) {
        (self.int(EPMIN), self.int(EPMAX))
    }

    /// Edge (1.2): notify on a boolean's rising (true) or falling edge.
    pub fn edge(&self) -> Option<bool> {
        self.flag(EDGE)
    }

    /// Notify with confirmable messages (1.2).
    pub fn con(&self) -> Option<bool> {
        self.flag(CON)
    }

    /// Historical queue maximum (1.2).
    pub fn hqmax(&self) -> Option<u32> {
        self.int(HQMAX)
    }

    /// Takes every attribute `inner` (set on a deeper level) has, over what `self` has: how
    /// an observation sees the object's, then the instance's, then the resource's.
    #[cfg(feature = "observe")]
    pub fn overlay(&mut self, inner: &Attributes) {
        for name in 0..NAMES.len() {
            if !inner.has(name) {
                continue;
            }
            match slot(name) {
                (0, i) => {
                    if let (Some(d), Some(s)) = (self.ints.get_mut(i), inner.ints.get(i)) {
                        *d = *s;
                    }
                }
                (1, i) => {
                    if let (Some(d), Some(s)) = (self.floats.get_mut(i), inner.floats.get(i)) {
                        *d = *s;
                    }
                }
                (_, i) => self.flags = (self.flags & !(1 << i)) | (inner.flags & (1 << i)),
            }
        }
        self.set |= inner.set;
    }

    /// Sets (`value` given) or clears (`None`) attribute `name` (an index into `NAMES`);
    /// 4.00 for a value that does not parse.
    fn apply(&mut self, name: usize, value: Option<&[u8]>) -> Result<(), Code> {
        let bad = Code::BAD_REQUEST;
        let Some(text) = value else {
            self.set &= !(1 << name);
            return Ok(());
        };
        let (kind, i) = slot(name);
        match kind {
            0 => {
                let n = crate::formats::text::digits(text).map_err(|_| bad)?;
                let v = self.ints.get_mut(i).ok_or(bad)?;
                *v = u32::try_from(n).map_err(|_| bad)?;
            }
            1 => {
                let v = self.floats.get_mut(i).ok_or(bad)?;
                *v = crate::formats::float::parse(text)
                    .map_err(|_| bad)?
                    .to_ne_bytes();
            }
            _ => match text {
                b"0" => self.flags &= !(1 << i),
                b"1" => self.flags |= 1 << i,
                _ => return Err(bad),
            },
        }
        self.set |= 1 << name;
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
        let value_conditions = self.set & ((1 << GT) | (1 << LT) | (1 << ST)) != 0;
        let ok = (numeric || !value_conditions)
            && (boolean || !self.has(EDGE))
            && !matches!(self.st(), Some(st) if less(st, 0.0))
            && match (self.lt(), self.gt()) {
                (Some(lt), Some(gt)) => {
                    let st = self.st().unwrap_or(0.0);
                    less(add(lt, add(st, st)), gt)
                }
                _ => true,
            }
            && ordered(self.pmin(), self.pmax())
            && ordered(self.int(EPMIN), self.int(EPMAX));
        if ok {
            Ok(())
        } else {
            Err(Code::BAD_REQUEST)
        }
    }

    /// Appends `;name=value` for each attribute set.
    pub fn write_link(&self, links: &mut LinkWriter<'_, '_>) -> Result<(), FormatError> {
        for (name, text) in NAMES.iter().enumerate() {
            if !self.has(name) {
                continue;
            }
            let mut buf = [0u8; 32];
            let mut w = crate::buf::Writer::new(&mut buf);
            match slot(name) {
                (0, _) => w.put_u64_dec(u64::from(self.int(name).unwrap_or(0)))?,
                (1, _) => {
                    crate::formats::float::write_shortest(self.float(name).unwrap_or(0.0), &mut w)?
                }
                _ => w.put_u8(if self.flag(name) == Some(true) {
                    b'1'
                } else {
                    b'0'
                })?,
            }
            links.attr_raw(text, w.written())?;
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
            attrs.apply(bit, value)?;
        }
        attrs.check(def)?;
        match (index, attrs.set == 0) {
            (Some(i), true) => self.remove_at(i),
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

    /// Removes entry `i`, moving the last one into its place (`swap_remove` without its
    /// panic path and its memmove).
    fn remove_at(&mut self, i: usize) {
        if let Some(last) = self.entries.pop() {
            if let Some(slot) = self.entries.get_mut(i) {
                *slot = last;
            }
        }
    }

    /// Forgets what any server set on `path` or below it (after a Delete).
    pub fn remove_under(&mut self, path: &Path) {
        let mut i = 0;
        while let Some(e) = self.entries.get(i) {
            if e.path.starts_with(path) {
                self.remove_at(i);
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
            (a.pmin(), a.pmax(), a.gt(), a.lt()),
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
            assert_eq!(s.get(1, &p).unwrap().pmax(), None, "{q:?}");
            assert_eq!(s.get(1, &p).unwrap().pmin(), Some(5), "{q:?}");
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
        let mut a = Attributes::default();
        for (name, value) in [
            (PMIN, "10"),
            (GT, "25.5"),
            (EPMAX, "7"),
            (CON, "1"),
            (EDGE, "0"),
        ] {
            a.apply(name, Some(value.as_bytes())).unwrap();
        }
        assert_eq!(
            (a.con(), a.edge(), a.epmin_epmax()),
            (Some(true), Some(false), (None, Some(7)))
        );
        let mut buf = [0u8; 96];
        let mut w = crate::buf::Writer::new(&mut buf);
        let mut links = LinkWriter::new(&mut w);
        links.link(&Path::resource(3303, 0, 5700)).unwrap();
        a.write_link(&mut links).unwrap();
        assert_eq!(
            w.written(),
            b"</3303/0/5700>;pmin=10;gt=25.5;epmax=7;edge=0;con=1"
        );
    }

    #[test]
    fn an_entry_is_60_bytes() {
        assert!(core::mem::size_of::<Entry>() <= 60);
    }
}
