//! Access Control (LwM2M 1.1 Core section 7.3, object 2 in appendix E.3): which operations
//! each server may perform on each object instance when the client serves more than one
//! server.
//!
//! A fixed table of `TERN_MAX_ACL_INSTANCES` Access Control instances. Each names an object
//! instance (Object ID, Object Instance ID; instance 65535 stands for the object itself and
//! carries the Create right), its Access Control Owner, and ACL entries of (Short Server ID,
//! rights), entry 0 being the default for servers without an entry of their own. The table
//! is served as object 2 (its slot index is the instance id), so that a bootstrap write can
//! fill it through the same [`Object`] implementation.
//!
//! The rights a server has on an instance (the spec's "obtaining access right"): its own
//! ACL entry if there is one; else full rights for the Access Control Owner; else the
//! default entry; else none. An instance without an Access Control instance can be reached
//! by nobody (4.01). With one server nothing is checked.
//!
//! All-zero bytes are the empty table (Object ID 0 is never valid): the client starts
//! zeroed, so the table needs no initialisation code.

use crate::coap::Code;
use crate::config::{MAX_ACL_INSTANCES, MAX_SERVERS};
use crate::model::{Object, Operations, Path, ResourceDef, ResourceType as T, Value, ValueSink};

/// ACL bit: Read, Observe, Discover and Write-Attributes (the same bits as
/// [`Operations`] for Read, Write and Execute).
pub const READ: u8 = 1;
/// ACL bit: Write.
pub const WRITE: u8 = 2;
/// ACL bit: Execute.
pub const EXECUTE: u8 = 4;
/// ACL bit: Delete.
pub const DELETE: u8 = 8;
/// ACL bit: Create (meaningful on the object's own Access Control instance, 65535).
pub const CREATE: u8 = 16;
/// Not a right: what a POST with a payload on a resource needs, Execute when the resource
/// is executable (the payload is its arguments), else Write.
pub const EXECUTE_OR_WRITE: u8 = EXECUTE | WRITE;
/// Every right.
pub const FULL: u16 = 0x1f;
/// The rights a server gets on an instance it creates (Create applies to objects only).
pub const CREATOR: u16 = 0x0f;

/// The Object Instance ID (and Access Control Owner) value MAX_ID of the spec: the object
/// itself, for Create; as owner, an instance only the bootstrap server manages.
pub const OBJECT: u16 = u16::MAX;

/// ACL entries per instance: one per server and the default.
const ENTRIES: usize = MAX_SERVERS + 1;
/// Bytes of the bitmap of ACL entries in use.
const USED: usize = ENTRIES.div_ceil(8);

/// One Access Control Object Instance; free while `oid` is 0 (its other fields are set
/// when it is taken). ACL Resource Instance `i` (the rights `rights[i]` of server
/// `ssids[i]`, 0 being the default) exists while bit `i` of `used` is set. The rights are a
/// byte (the spec defines bits 0 to 4, the rest reserved): a byte less per entry than 16
/// bits, and a value above 255 is refused.
#[derive(Clone, Copy)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
struct Slot {
    oid: u16,
    iid: u16,
    owner: u16,
    used: [u8; USED],
    ssids: [u16; ENTRIES],
    rights: [u8; ENTRIES],
}

impl Slot {
    /// True when ACL entry `i` is in use.
    fn has(&self, i: usize) -> bool {
        self.used.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 != 0)
    }

    /// Removes every ACL entry.
    fn clear(&mut self) {
        self.used = [0; USED];
    }

    /// The index of the ACL entry of `ssid`.
    fn entry(&self, ssid: u16) -> Option<usize> {
        (0..ENTRIES).find(|&i| self.has(i) && self.ssids.get(i) == Some(&ssid))
    }

    /// The rights of entry `i`.
    fn rights_at(&self, i: Option<usize>) -> Option<u16> {
        self.rights.get(i?).map(|&r| u16::from(r))
    }

    /// The rights of server `ssid` on this instance.
    fn rights(&self, ssid: u16) -> u16 {
        match self.rights_at(self.entry(ssid)) {
            Some(r) => r,
            None if self.owner == ssid => FULL,
            None => self.rights_at(self.entry(0)).unwrap_or(0),
        }
    }

    /// Sets the entry of `ssid`; false when every entry is taken by others or `rights` is
    /// above 255.
    fn set(&mut self, ssid: u16, rights: u16) -> bool {
        let (Some(i), Ok(rights)) = (
            self.entry(ssid)
                .or_else(|| (0..ENTRIES).find(|&i| !self.has(i))),
            u8::try_from(rights),
        ) else {
            return false;
        };
        if let (Some(s), Some(r), Some(b)) = (
            self.ssids.get_mut(i),
            self.rights.get_mut(i),
            self.used.get_mut(i / 8),
        ) {
            *s = ssid;
            *r = rights;
            *b |= 1 << (i % 8);
        }
        true
    }
}

/// Why a factory ACL setting was refused.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum AclError {
    /// An id out of range (Object ID 0 or 65535, Short Server ID 65535), or rights above
    /// 255 (bits 0 to 4 are defined, the rest reserved).
    InvalidId,
    /// The table, or the instance's ACL entries, are full.
    NoSpace,
}

/// What a request may do, as far as Access Control says (see [`Store::decide`]).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Verdict {
    /// Go ahead.
    Allow,
    /// 4.01, unless the target instance does not exist (then the request's own 4.04).
    Deny,
    /// An operation on a whole object that reads: only the instances the server may read
    /// are seen (see [`View`]).
    Filter,
}

/// The Access Control table.
#[derive(Clone)]
pub struct Store {
    slots: [Slot; MAX_ACL_INSTANCES],
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// An empty table.
    pub const fn new() -> Store {
        const FREE: Slot = Slot {
            oid: 0,
            iid: 0,
            owner: 0,
            used: [0; USED],
            ssids: [0; ENTRIES],
            rights: [0; ENTRIES],
        };
        Store {
            slots: [FREE; MAX_ACL_INSTANCES],
        }
    }

    /// The index of the Access Control instance of (`oid`, `iid`) (`oid` 0: a free one).
    fn position(&self, oid: u16, iid: u16) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.oid == oid && (oid == 0 || s.iid == iid))
    }

    fn find(&self, oid: u16, iid: u16) -> Option<&Slot> {
        self.slots
            .get(self.position(oid, iid)?)
            .filter(|s| s.oid != 0)
    }

    /// The Access Control instance of (`oid`, `iid`), taken from the free ones with owner
    /// `owner` and no ACL entry when there is none.
    fn find_or_add(&mut self, oid: u16, iid: u16, owner: u16) -> Result<&mut Slot, AclError> {
        if oid == 0 || oid == OBJECT {
            return Err(AclError::InvalidId);
        }
        let (at, new) = match self.position(oid, iid) {
            Some(i) => (i, false),
            None => (self.position(0, 0).ok_or(AclError::NoSpace)?, true),
        };
        let s = self.slots.get_mut(at).ok_or(AclError::NoSpace)?;
        if new {
            s.oid = oid;
            s.iid = iid;
            s.owner = owner;
            s.clear();
        }
        Ok(s)
    }

    /// Sets the rights of server `ssid` (0: the default for servers without an entry) on
    /// instance `iid` of object `oid` (65535: the object, whose Create right lets a server
    /// create instances). The Access Control instance is added when missing, owned by the
    /// bootstrap server (65535) until [`Store::set_owner`] names a server.
    pub fn set(&mut self, oid: u16, iid: u16, ssid: u16, rights: u16) -> Result<(), AclError> {
        if ssid == OBJECT || rights > 0xff {
            return Err(AclError::InvalidId);
        }
        let slot = self.find_or_add(oid, iid, OBJECT)?;
        if slot.set(ssid, rights) {
            Ok(())
        } else {
            Err(AclError::NoSpace)
        }
    }

    /// Sets the Access Control Owner of instance `iid` of object `oid`: the only server that
    /// may change its ACL, with full rights when it has no entry of its own (65535: the
    /// bootstrap server only). The Access Control instance is added when missing.
    pub fn set_owner(&mut self, oid: u16, iid: u16, owner: u16) -> Result<(), AclError> {
        self.find_or_add(oid, iid, owner)?.owner = owner;
        Ok(())
    }

    /// True when server `ssid` has every right in `rights` on instance `iid` of `oid`.
    pub fn allows(&self, oid: u16, iid: u16, ssid: u16, rights: u16) -> bool {
        self.find(oid, iid)
            .is_some_and(|s| s.rights(ssid) & rights == rights)
    }

    /// [`Store::allows`] for one ACL bit.
    fn allows_bit(&self, oid: u16, iid: u16, ssid: u16, right: u8) -> bool {
        self.allows(oid, iid, ssid, u16::from(right))
    }

    /// Whether server `ssid` may perform an operation needing `right` (one of the ACL bits,
    /// 0 for none) on `path`; `None` when only one server is configured (nothing is
    /// checked). Operations on the Access Control object itself: everyone may read; only
    /// an instance's owner may write it; Create, Delete and Execute are refused by the
    /// object (4.05). A Create that could not be given its Access Control instance is
    /// refused with 5.00.
    pub fn decide(&self, ssid: Option<u16>, path: &Path, right: u8) -> Result<Verdict, Code> {
        let Some(ssid) = ssid.filter(|_| right != 0) else {
            return Ok(Verdict::Allow);
        };
        let oid = path.object_id().unwrap_or(0);
        let allow = match path.instance_id() {
            _ if oid == 2 => match (path.instance_id(), right) {
                (Some(iid), WRITE) => self.slot(iid).map_or(true, |s| s.owner == ssid),
                _ => true,
            },
            Some(iid) => self.allows_bit(oid, iid, ssid, right),
            None if right == CREATE => {
                if self.position(0, 0).is_none() {
                    return Err(Code::INTERNAL_SERVER_ERROR);
                }
                self.allows_bit(oid, OBJECT, ssid, CREATE)
            }
            None if right == READ => return Ok(Verdict::Filter),
            None => true,
        };
        Ok(if allow { Verdict::Allow } else { Verdict::Deny })
    }

    /// A server created instance `iid` of `oid`: it owns the new Access Control instance
    /// and has every right on the instance (nothing happens when the table is full: only a
    /// client with one server lets a Create through then).
    pub fn created(&mut self, oid: u16, iid: u16, ssid: u16) {
        if let Ok(slot) = self.find_or_add(oid, iid, ssid) {
            slot.owner = ssid;
            slot.clear();
            slot.set(ssid, CREATOR);
        }
    }

    /// Instance `iid` of `oid` was deleted: its Access Control instance goes with it.
    pub fn deleted(&mut self, oid: u16, iid: u16) {
        if let Some(at) = self.position(oid, iid).filter(|_| oid != 0) {
            if let Some(s) = self.slots.get_mut(at) {
                s.oid = 0;
            }
        }
    }

    /// Empties the table.
    #[cfg(feature = "persistence")]
    pub fn clear(&mut self) {
        for s in self.slots.iter_mut() {
            s.oid = 0;
        }
    }

    /// Emits each instance as a persisted record keeps it: Object ID, Object Instance ID,
    /// owner, then each ACL entry as Short Server ID and rights (u16 little-endian each).
    #[cfg(feature = "persistence")]
    pub fn items(&self, emit: &mut dyn FnMut(&[u8])) {
        for s in self.slots.iter().filter(|s| s.oid != 0) {
            let mut v = [0u8; 6 + 4 * ENTRIES];
            let mut n = 0;
            let mut put = |x: u16| {
                for byte in x.to_le_bytes() {
                    if let Some(b) = v.get_mut(n) {
                        *b = byte;
                        n += 1;
                    }
                }
            };
            put(s.oid);
            put(s.iid);
            put(s.owner);
            for i in (0..ENTRIES).filter(|&i| s.has(i)) {
                put(s.ssids.get(i).copied().unwrap_or(0));
                put(s.rights_at(Some(i)).unwrap_or(0));
            }
            emit(v.get(..n).unwrap_or(&[]));
        }
    }

    /// Checks (and with `apply`, adds) one instance written by [`Store::items`].
    #[cfg(feature = "persistence")]
    pub fn restore(&mut self, v: &[u8], apply: bool) -> Result<(), AclError> {
        let mut words = v.chunks_exact(2).map(|b| {
            u16::from_le_bytes([
                b.first().copied().unwrap_or(0),
                b.get(1).copied().unwrap_or(0),
            ])
        });
        let (Some(oid), Some(iid), Some(owner)) = (words.next(), words.next(), words.next()) else {
            return Err(AclError::InvalidId);
        };
        let entries = v.len().saturating_sub(6) / 4;
        if v.len() % 4 != 2 || entries > ENTRIES || oid == 0 || oid == OBJECT {
            return Err(AclError::InvalidId);
        }
        if !apply {
            return Ok(());
        }
        let slot = self.find_or_add(oid, iid, owner)?;
        slot.owner = owner;
        while let (Some(ssid), Some(rights)) = (words.next(), words.next()) {
            if !slot.set(ssid, rights) {
                return Err(AclError::NoSpace);
            }
        }
        Ok(())
    }

    /// The id of the `index`-th Access Control instance (its slot).
    fn nth(&self, mut index: usize) -> Option<u16> {
        for (i, s) in self.slots.iter().enumerate() {
            if s.oid != 0 {
                if index == 0 {
                    return u16::try_from(i).ok();
                }
                index -= 1;
            }
        }
        None
    }

    /// The used slot `iid` (the Access Control instance id).
    fn slot(&self, iid: u16) -> Option<&Slot> {
        self.slots.get(usize::from(iid)).filter(|s| s.oid != 0)
    }
}

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, T::Integer, Operations::R, false),
    ResourceDef::new(1, T::Integer, Operations::R, false),
    ResourceDef::new(2, T::Integer, Operations::RW, true),
    ResourceDef::new(3, T::Integer, Operations::RW, false),
];

/// An integer resource value in 0..=65535.
fn u16_value(v: &Value<'_>) -> Result<u16, Code> {
    let n = match *v {
        Value::Integer(i) => u16::try_from(i).ok(),
        Value::Unsigned(u) => u16::try_from(u).ok(),
        _ => None,
    };
    n.ok_or(Code::BAD_REQUEST)
}

/// The Access Control object (2). Who may do what to it is decided by [`Store::decide`]
/// before a request gets here.
impl Object for Store {
    fn id(&self) -> u16 {
        2
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        self.nth(index)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        let s = self.slot(iid).ok_or(Code::NOT_FOUND)?;
        let n = match rid {
            0 => s.oid,
            1 => s.iid,
            2 => {
                for i in (0..ENTRIES).filter(|&i| s.has(i)) {
                    if let (Some(&ssid), Some(r)) = (s.ssids.get(i), s.rights_at(Some(i))) {
                        out.value(Some(ssid), &Value::Integer(i64::from(r)))?;
                    }
                }
                return Ok(());
            }
            3 => s.owner,
            _ => return Err(Code::NOT_FOUND),
        };
        out.value(None, &Value::Integer(i64::from(n)))
    }

    /// The engine has checked the resource (0 and 1 are read-only, 2 takes resource
    /// instances, 3 does not) before a value gets here.
    fn write(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        self.slot(iid).ok_or(Code::NOT_FOUND)?;
        let n = u16_value(v)?;
        let s = self
            .slots
            .get_mut(usize::from(iid))
            .ok_or(Code::NOT_FOUND)?;
        match (rid, riid) {
            (2, Some(ssid)) if s.set(ssid, n) => Ok(()),
            (3, None) => {
                s.owner = n;
                Ok(())
            }
            _ => Err(Code::BAD_REQUEST),
        }
    }

    /// A replacing Write of the ACL resource: its entries go (the owner stays).
    fn clear_resource(&mut self, iid: u16, rid: u16) -> Result<(), Code> {
        self.slot(iid).ok_or(Code::NOT_FOUND)?;
        if let (2, Some(s)) = (rid, self.slots.get_mut(usize::from(iid))) {
            s.clear();
        }
        Ok(())
    }

    /// No resource of object 2 is executable (the engine answers 4.05 before this).
    fn execute(&mut self, _iid: u16, _rid: u16, _args: &[u8]) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
}

/// The Access Control object as the bootstrap server writes it (Bootstrap-Write of /2): a
/// write creates the instance it names (slot `iid`, owned by the bootstrap server until
/// resource 3 names a server) and sets the Object ID and Object Instance ID, which DM
/// servers only read. [`Store::bootstrap_check`] then refuses an instance left without an
/// Object ID, and two instances for one object instance.
#[cfg(feature = "bootstrap")]
pub struct Bootstrap<'a>(pub &'a mut Store);

#[cfg(feature = "bootstrap")]
impl Object for Bootstrap<'_> {
    fn id(&self) -> u16 {
        2
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        self.0.nth(index)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        self.0.read(iid, rid, out)
    }

    fn write(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        if riid.is_some() || rid > 1 {
            return self.0.write(iid, rid, riid, v);
        }
        let n = u16_value(v)?;
        let s = self
            .0
            .slots
            .get_mut(usize::from(iid))
            .filter(|s| s.oid != 0)
            .ok_or(Code::NOT_FOUND)?;
        if rid == 1 {
            s.iid = n;
        } else if n != 0 && n != OBJECT {
            s.oid = n;
        } else {
            return Err(Code::BAD_REQUEST);
        }
        Ok(())
    }

    fn execute(&mut self, _iid: u16, _rid: u16, _args: &[u8]) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }

    /// Takes the free slot `iid`, marked with Object ID 65535 (never valid) until a write
    /// names the object.
    fn create(&mut self, iid: u16) -> Result<(), Code> {
        let s = self
            .0
            .slots
            .get_mut(usize::from(iid))
            .ok_or(Code::BAD_REQUEST)?;
        s.oid = OBJECT;
        s.iid = 0;
        s.owner = OBJECT;
        s.clear();
        Ok(())
    }
}

#[cfg(feature = "bootstrap")]
impl Store {
    /// After a Bootstrap-Write of /2: every instance names an object (instance), and no
    /// two name the same one.
    pub fn bootstrap_check(&self) -> bool {
        let used = || self.slots.iter().filter(|s| s.oid != 0);
        used().all(|s| {
            s.oid != OBJECT && used().filter(|o| (o.oid, o.iid) == (s.oid, s.iid)).count() == 1
        })
    }
    /// Bootstrap-Delete of instance `iid`, or of every instance (`None`).
    pub fn bootstrap_delete(&mut self, iid: Option<u16>) {
        for (i, s) in self.slots.iter_mut().enumerate() {
            if !iid.is_some_and(|d| usize::from(d) != i) {
                s.oid = 0;
            }
        }
    }
}

/// An object as one server's request sees it when Access Control applies: a read of the
/// whole object lists only the instances the server may read (`filter`; LwM2M 1.1 section
/// 7.3), and the id of an instance the request creates is noted (`created`).
pub struct View<'a> {
    /// The object.
    pub obj: &'a mut dyn Object,
    /// The table.
    pub acl: &'a Store,
    /// The server's Short Server ID.
    pub ssid: u16,
    /// List only the instances the server may read.
    pub filter: bool,
    /// The instance the request created, if any.
    pub created: Option<u16>,
}

impl Object for View<'_> {
    fn id(&self) -> u16 {
        self.obj.id()
    }

    fn version(&self) -> (u8, u8) {
        self.obj.version()
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        self.obj.resource_at(index)
    }

    fn instance(&self, mut index: usize) -> Option<u16> {
        if !self.filter {
            return self.obj.instance(index);
        }
        let oid = self.obj.id();
        let mut i = 0;
        loop {
            let iid = self.obj.instance(i)?;
            i += 1;
            if self.acl.allows_bit(oid, iid, self.ssid, READ) {
                if index == 0 {
                    return Some(iid);
                }
                index -= 1;
            }
        }
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        self.obj.read(iid, rid, out)
    }

    fn write(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        self.obj.write(iid, rid, riid, v)
    }

    fn check(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        self.obj.check(iid, rid, riid, v)
    }

    fn clear_resource(&mut self, iid: u16, rid: u16) -> Result<(), Code> {
        self.obj.clear_resource(iid, rid)
    }

    fn execute(&mut self, iid: u16, rid: u16, args: &[u8]) -> Result<(), Code> {
        self.obj.execute(iid, rid, args)
    }

    fn write_block(
        &mut self,
        iid: u16,
        rid: u16,
        offset: u32,
        data: &[u8],
        last: bool,
    ) -> Result<(), Code> {
        self.obj.write_block(iid, rid, offset, data, last)
    }

    fn create(&mut self, iid: u16) -> Result<(), Code> {
        self.obj.create(iid)?;
        self.created = Some(iid);
        Ok(())
    }

    #[cfg(feature = "create-delete")]
    fn delete(&mut self, iid: u16) -> Result<(), Code> {
        self.obj.delete(iid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: u16 = 101;
    const B: u16 = 102;
    const C: u16 = 103;

    fn read_path(oid: u16, iid: u16) -> Path {
        Path::instance(oid, iid)
    }

    /// Every operation's right on /3303/0, for server `ssid`.
    fn verdicts(s: &Store, ssid: u16) -> [Verdict; 4] {
        [READ, WRITE, EXECUTE, DELETE]
            .map(|r| s.decide(Some(ssid), &read_path(3303, 0), r).unwrap())
    }

    #[test]
    fn one_server_is_never_checked() {
        let s = Store::new();
        for right in [0, READ, WRITE, EXECUTE, DELETE, CREATE] {
            for path in [
                Path::object(3303),
                Path::instance(3303, 0),
                Path::instance(2, 0),
            ] {
                assert_eq!(s.decide(None, &path, right), Ok(Verdict::Allow));
            }
        }
    }

    #[test]
    fn no_access_control_instance_denies_everything() {
        let s = Store::new();
        assert_eq!(verdicts(&s, A), [Verdict::Deny; 4]);
        assert_eq!(
            s.decide(Some(A), &Path::object(3303), CREATE),
            Ok(Verdict::Deny)
        );
    }

    #[test]
    fn each_right_bit_allows_its_operation_only() {
        for (bit, at) in [(READ, 0), (WRITE, 1), (EXECUTE, 2), (DELETE, 3)] {
            let mut s = Store::new();
            s.set(3303, 0, A, u16::from(bit)).unwrap();
            let v = verdicts(&s, A);
            for (i, verdict) in v.iter().enumerate() {
                let want = if i == at {
                    Verdict::Allow
                } else {
                    Verdict::Deny
                };
                assert_eq!(*verdict, want, "bit {bit:#x}, operation {i}");
            }
            // Another server without an entry and no default: nothing.
            assert_eq!(verdicts(&s, B), [Verdict::Deny; 4]);
        }
    }

    #[test]
    fn owner_without_entry_has_full_rights_but_its_own_entry_wins() {
        let mut s = Store::new();
        s.set_owner(3303, 0, A).unwrap();
        assert_eq!(verdicts(&s, A), [Verdict::Allow; 4]);
        assert_eq!(verdicts(&s, B), [Verdict::Deny; 4]);
        s.set(3303, 0, A, u16::from(READ)).unwrap();
        assert_eq!(
            verdicts(&s, A),
            [Verdict::Allow, Verdict::Deny, Verdict::Deny, Verdict::Deny]
        );
    }

    #[test]
    fn default_entry_applies_to_servers_without_their_own() {
        let mut s = Store::new();
        s.set(3303, 0, 0, u16::from(READ | EXECUTE)).unwrap();
        s.set(3303, 0, B, u16::from(WRITE)).unwrap();
        for ssid in [A, C] {
            assert_eq!(
                verdicts(&s, ssid),
                [Verdict::Allow, Verdict::Deny, Verdict::Allow, Verdict::Deny]
            );
        }
        assert_eq!(
            verdicts(&s, B),
            [Verdict::Deny, Verdict::Allow, Verdict::Deny, Verdict::Deny]
        );
    }

    #[test]
    fn create_needs_the_create_right_on_the_object_instance() {
        let mut s = Store::new();
        let obj = Path::object(3303);
        s.set(3303, OBJECT, A, u16::from(CREATE)).unwrap();
        s.set(3303, 0, B, FULL).unwrap();
        assert_eq!(s.decide(Some(A), &obj, CREATE), Ok(Verdict::Allow));
        // Create on an instance's Access Control instance does not count.
        assert_eq!(s.decide(Some(B), &obj, CREATE), Ok(Verdict::Deny));
        // Whole-object reads are filtered, other whole-object operations pass.
        assert_eq!(s.decide(Some(B), &obj, READ), Ok(Verdict::Filter));
        assert_eq!(s.decide(Some(B), &obj, 0), Ok(Verdict::Allow));
    }

    #[test]
    fn create_makes_the_creator_owner_and_delete_removes_it() {
        let mut s = Store::new();
        s.created(3303, 7, A);
        assert!(s.allows(3303, 7, A, CREATOR));
        assert!(!s.allows_bit(3303, 7, A, CREATE));
        assert!(!s.allows_bit(3303, 7, B, READ));
        assert_eq!(s.slot(0).map(|s| s.owner), Some(A));
        s.deleted(3303, 7);
        assert!(!s.allows_bit(3303, 7, A, READ));
        assert_eq!(s.instance(0), None);
    }

    #[test]
    fn a_full_table_refuses_create_with_5_00() {
        let mut s = Store::new();
        for i in 0..MAX_ACL_INSTANCES as u16 {
            s.set(3303, i, A, FULL).unwrap();
        }
        s.set(3303, OBJECT, A, FULL).unwrap_err();
        assert_eq!(s.set(3303, 99, A, 1), Err(AclError::NoSpace));
        assert_eq!(
            s.decide(Some(A), &Path::object(3303), CREATE),
            Err(Code::INTERNAL_SERVER_ERROR)
        );
        // created() on a full table changes nothing.
        s.created(3303, 99, A);
        assert!(!s.allows_bit(3303, 99, A, READ));
    }

    #[test]
    fn only_the_owner_writes_an_access_control_instance() {
        let mut s = Store::new();
        s.set_owner(3303, 0, A).unwrap();
        let p = Path::resource(2, 0, 2);
        assert_eq!(s.decide(Some(A), &p, WRITE), Ok(Verdict::Allow));
        assert_eq!(s.decide(Some(B), &p, WRITE), Ok(Verdict::Deny));
        assert_eq!(s.decide(Some(B), &p, READ), Ok(Verdict::Allow));
        assert_eq!(
            s.decide(Some(B), &Path::object(2), READ),
            Ok(Verdict::Allow)
        );
        // Bootstrap-owned (65535): no server writes it.
        s.set_owner(3303, 0, OBJECT).unwrap();
        assert_eq!(s.decide(Some(A), &p, WRITE), Ok(Verdict::Deny));
    }

    #[test]
    fn ids_and_entry_space_are_checked() {
        let mut s = Store::new();
        assert_eq!(s.set(0, 0, A, 1), Err(AclError::InvalidId));
        assert_eq!(s.set(OBJECT, 0, A, 1), Err(AclError::InvalidId));
        assert_eq!(s.set(3303, 0, OBJECT, 1), Err(AclError::InvalidId));
        for ssid in 0..ENTRIES as u16 {
            s.set(3303, 0, ssid, 1).unwrap();
        }
        assert_eq!(s.set(3303, 0, 500, 1), Err(AclError::NoSpace));
        // Changing an existing entry needs no new space.
        s.set(3303, 0, 0, 2).unwrap();
        assert!(s.allows_bit(3303, 0, 999, WRITE));
    }

    struct Collect(std::vec::Vec<(Option<u16>, i64)>);
    impl ValueSink for Collect {
        fn value(&mut self, ri: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
            if let Value::Integer(i) = v {
                self.0.push((ri, *i));
            }
            Ok(())
        }
    }

    #[test]
    fn object_2_reads_and_writes_the_table() {
        let mut s = Store::new();
        s.set(3, 0, 0, 1).unwrap();
        s.set(3, 0, A, FULL).unwrap();
        s.set_owner(3, 0, A).unwrap();
        assert_eq!(s.instance(0), Some(0));
        let mut c = Collect(vec![]);
        for rid in 0..4 {
            s.read(0, rid, &mut c).unwrap();
        }
        assert_eq!(
            c.0,
            [
                (None, 3),
                (None, 0),
                (Some(0), 1),
                (Some(A), 31),
                (None, i64::from(A))
            ]
        );
        s.write(0, 2, Some(A), &Value::Integer(5)).unwrap();
        assert!(s.allows_bit(3, 0, A, READ | EXECUTE));
        assert!(!s.allows_bit(3, 0, A, WRITE));
        s.write(0, 3, None, &Value::Integer(i64::from(B))).unwrap();
        assert_eq!(s.slot(0).map(|s| s.owner), Some(B));
        assert_eq!(
            s.write(0, 2, Some(C), &Value::Integer(70000)),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(
            s.write(0, 2, None, &Value::Integer(4)),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(
            s.write(1, 3, None, &Value::Integer(4)),
            Err(Code::NOT_FOUND)
        );
        assert_eq!(s.read(1, 0, &mut c), Err(Code::NOT_FOUND));
    }

    #[test]
    fn rights_above_a_byte_are_refused_and_change_nothing() {
        let mut s = Store::new();
        s.set(3, 0, A, 0xff).unwrap();
        assert_eq!(s.set(3, 0, A, 0x100), Err(AclError::InvalidId));
        assert_eq!(s.set(3, 0, B, 0x11f), Err(AclError::InvalidId));
        assert_eq!(
            s.write(0, 2, Some(A), &Value::Integer(256)),
            Err(Code::BAD_REQUEST)
        );
        let mut c = Collect(vec![]);
        s.read(0, 2, &mut c).unwrap();
        assert_eq!(
            c.0,
            [(Some(A), 255)],
            "the entry kept its rights; none added for B"
        );
    }
}
