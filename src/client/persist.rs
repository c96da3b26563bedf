//! Persistence (feature `persistence`): the state a reboot must not lose — each server's
//! Server object resources, its registration Location and the Access Control instances —
//! as one versioned, checksummed record in one of two slots.
//!
//! A record is a 12-byte header (`tern`, the format version, a reserved byte, the body
//! length as u16 and a sequence number as u32, little-endian), the body, then a CRC-32
//! (IEEE) of header and body. The body is a list of items, each a tag byte, a u16 length
//! and the value; an unknown tag is skipped, so that a later version can add items.
//!
//! A save writes the record with the next sequence number into the slot that does not hold
//! the last good one: a power cut in the middle of it leaves a record whose CRC fails, and
//! the other slot still holds the previous state. A load takes the valid record with the
//! higher sequence number, checks every item before it applies any, and applies nothing
//! when one is wrong.

use super::registration::{UPDATE_BINDING, UPDATE_LIFETIME, UPDATE_OBJECTS};
use super::Engine;
use crate::config::{MAX_LOCATION_LEN, MAX_SERVERS};

/// The record format this build writes and reads.
pub const VERSION: u8 = 1;
const MAGIC: [u8; 4] = *b"tern";
const HEADER_LEN: u32 = 12;
/// The largest body a load accepts.
pub const MAX_BODY: u16 = 4096;

const TAG_SERVER: u8 = 1;
const TAG_LOCATION: u8 = 2;
#[cfg(feature = "server-extra")]
const TAG_TIMING: u8 = 3;
#[cfg(feature = "access-control")]
pub(super) const TAG_ACL: u8 = 4;

/// The longest item value a load reads (longer ones are skipped when unknown, refused
/// when known).
const ITEM_MAX: usize = {
    let acl = 6 + 4 * (MAX_SERVERS + 1);
    let location = 2 + MAX_LOCATION_LEN;
    let max = if acl > location { acl } else { location };
    #[cfg(feature = "bootstrap")]
    let max = if super::bootstrap::ACCOUNT_MAX > max {
        super::bootstrap::ACCOUNT_MAX
    } else {
        max
    };
    #[cfg(all(
        feature = "bootstrap",
        any(feature = "dtls", feature = "platform-credentials")
    ))]
    let max = if super::bootstrap::KEYS_MAX > max {
        super::bootstrap::KEYS_MAX
    } else {
        max
    };
    max
};

/// The two slots a record goes to, provided by the platform (flash pages, files, ...).
pub trait Store {
    /// Writes `data` at `offset` of slot `slot` (0 or 1); false when it failed. A record
    /// is written from offset 0 up, in pieces.
    fn write(&mut self, slot: u8, offset: u32, data: &[u8]) -> bool;
    /// Fills `buf` from `offset` of slot `slot`; false when the slot is empty or shorter.
    fn read(&mut self, slot: u8, offset: u32, buf: &mut [u8]) -> bool;
}

/// Two slots in RAM (host builds: tests, simulation, fuzzing). A slot shorter than a read
/// fails it, like an empty one.
#[cfg(any(test, feature = "std"))]
#[derive(Clone, Default, Debug)]
pub struct MemSlots(pub [std::vec::Vec<u8>; 2]);

#[cfg(any(test, feature = "std"))]
impl Store for MemSlots {
    fn write(&mut self, slot: u8, offset: u32, data: &[u8]) -> bool {
        let Some(s) = self.0.get_mut(usize::from(slot)) else {
            return false;
        };
        let at = offset as usize;
        let end = at + data.len();
        if s.len() < end {
            s.resize(end, 0xFF);
        }
        s.splice(at..end, data.iter().copied());
        true
    }

    fn read(&mut self, slot: u8, offset: u32, buf: &mut [u8]) -> bool {
        let src = self
            .0
            .get(usize::from(slot))
            .and_then(|s| s.get(offset as usize..))
            .and_then(|s| s.get(..buf.len()));
        match src {
            Some(src) => {
                buf.copy_from_slice(src);
                true
            }
            None => false,
        }
    }
}

/// What a load found.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Restored {
    /// Neither slot holds a record: the factory settings stay.
    Empty,
    /// The record with this sequence number was applied.
    Applied {
        /// Its sequence number.
        sequence: u32,
    },
    /// A record was found but refused; the factory settings stay.
    Rejected(Reject),
}

/// Why a stored record was refused.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
#[repr(u8)]
pub enum Reject {
    /// Its checksum, magic or length is wrong (a torn or damaged write).
    Corrupt = 1,
    /// Written by another version of the format.
    Version = 2,
    /// Well formed, but an item holds a value the client cannot take.
    Content = 3,
}

/// Where the records stand.
#[derive(Clone, Copy, Default)]
pub struct Persist {
    /// The state changed since the last save.
    pub dirty: bool,
    /// The sequence number and slot of the last good record, when there is one.
    last: Option<(u32, u8)>,
}

/// A CRC-32 (IEEE 802.3, reflected) step, bit by bit: no table in flash.
fn crc32(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    crc
}

/// Writes a record's bytes to a slot, keeping the offset and the CRC.
struct Out<'s> {
    store: &'s mut dyn Store,
    slot: u8,
    offset: u32,
    crc: u32,
    ok: bool,
}

impl Out<'_> {
    fn put(&mut self, data: &[u8]) {
        self.crc = crc32(self.crc, data);
        self.ok &= self.store.write(self.slot, self.offset, data);
        self.offset = self.offset.saturating_add(data.len() as u32);
    }
}

/// True when `a` comes after `b` in sequence-number order (wrapping).
fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl Engine {
    /// True when state worth keeping changed since the last [`Engine::save_state`].
    pub fn state_changed(&self) -> bool {
        self.persist.dirty
    }

    /// Writes the state as a new record into the slot that does not hold the last good
    /// one; false when the store failed (the last good record stays the one loaded).
    pub fn save_state(&mut self, store: &mut dyn Store) -> bool {
        self.persist.dirty = false;
        let (sequence, slot) = match self.persist.last {
            Some((seq, slot)) => (seq.wrapping_add(1), slot ^ 1),
            None => (1, 0),
        };
        let mut len = 0u32;
        self.items(&mut |d| len = len.saturating_add(d.len() as u32));
        let Ok(len16) = u16::try_from(len) else {
            return false;
        };
        let mut out = Out {
            store,
            slot,
            offset: 0,
            crc: !0,
            ok: true,
        };
        let [l0, l1] = len16.to_le_bytes();
        let [s0, s1, s2, s3] = sequence.to_le_bytes();
        let [m0, m1, m2, m3] = MAGIC;
        out.put(&[m0, m1, m2, m3, VERSION, 0, l0, l1, s0, s1, s2, s3]);
        self.items(&mut |d| out.put(d));
        let crc = !out.crc;
        out.put(&crc.to_le_bytes());
        if out.ok {
            self.persist.last = Some((sequence, slot));
        }
        out.ok
    }

    /// Emits the body's items.
    fn items(&self, emit: &mut dyn FnMut(&[u8])) {
        #[cfg(feature = "bootstrap")]
        self.account_items(&mut |head, uri| {
            item(emit, super::bootstrap::TAG_ACCOUNT, &[head, uri]);
        });
        for s in self.servers.iter() {
            let [i0, i1] = s.short_id.to_le_bytes();
            item(emit, TAG_SERVER, &[&s.saved()]);
            if let Some(loc) = s.reg.location() {
                item(emit, TAG_LOCATION, &[&[i0, i1], loc]);
            }
            #[cfg(feature = "server-extra")]
            item(emit, TAG_TIMING, &[&[i0, i1], &s.timing.to_bytes()]);
        }
        #[cfg(feature = "access-control")]
        self.acl.items(&mut |v| item(emit, TAG_ACL, &[v]));
        #[cfg(all(
            feature = "bootstrap",
            any(feature = "dtls", feature = "platform-credentials")
        ))]
        self.key_items(&mut |parts| item(emit, super::bootstrap::TAG_KEYS, parts));
    }

    /// Loads the newest good record, if any, and applies it: called once, before the first
    /// step. A record is applied whole or not at all.
    pub fn restore_state(&mut self, store: &mut dyn Store) -> Restored {
        let mut best: Option<(u32, u8, u16)> = None;
        let mut refused = None;
        for slot in 0..2u8 {
            match check_slot(store, slot) {
                Ok(Some((seq, len))) => {
                    if best.map_or(true, |(b, _, _)| newer(seq, b)) {
                        best = Some((seq, slot, len));
                    }
                }
                Ok(None) => {}
                Err(r) => refused = refused.or(Some(r)),
            }
        }
        let Some((sequence, slot, len)) = best else {
            return refused.map_or(Restored::Empty, Restored::Rejected);
        };
        if let Err(r) = self.apply(store, slot, len, false) {
            return Restored::Rejected(r);
        }
        // Checked above: the second pass applies what the first accepted.
        let _ = self.apply(store, slot, len, true);
        #[cfg(feature = "bootstrap")]
        self.bootstrap_restored();
        self.persist.last = Some((sequence, slot));
        Restored::Applied { sequence }
    }

    /// Walks the items of the record in `slot`; checks each and, with `apply`, applies it.
    fn apply(
        &mut self,
        store: &mut dyn Store,
        slot: u8,
        len: u16,
        apply: bool,
    ) -> Result<(), Reject> {
        #[cfg(feature = "access-control")]
        if apply {
            self.acl.clear();
        }
        let end = HEADER_LEN + u32::from(len);
        let mut at = HEADER_LEN;
        let mut buf = [0u8; ITEM_MAX];
        #[cfg(feature = "access-control")]
        let mut acls = 0usize;
        while at < end {
            let mut head = [0u8; 3];
            if !store.read(slot, at, &mut head) {
                return Err(Reject::Corrupt);
            }
            let [tag, l0, l1] = head;
            let n = u16::from_le_bytes([l0, l1]);
            at = at.saturating_add(3);
            let next = at.saturating_add(u32::from(n));
            if next > end {
                return Err(Reject::Corrupt);
            }
            if let Some(v) = buf.get_mut(..usize::from(n)) {
                if !store.read(slot, at, v) {
                    return Err(Reject::Corrupt);
                }
                #[cfg(feature = "access-control")]
                if tag == TAG_ACL {
                    acls = acls.saturating_add(1);
                    if acls > crate::config::MAX_ACL_INSTANCES {
                        return Err(Reject::Content);
                    }
                }
                self.item(tag, v, apply)?;
            } else if known(tag) {
                return Err(Reject::Content);
            }
            at = next;
        }
        Ok(())
    }

    /// Checks (and with `apply`, applies) one item.
    // Not inlined: the items' frames (saved keys, parsed) lie under the loop's buffer
    // otherwise.
    #[inline(never)]
    fn item(&mut self, tag: u8, v: &[u8], apply: bool) -> Result<(), Reject> {
        let Some((id, rest)) = v.split_first_chunk::<2>() else {
            return if known(tag) {
                Err(Reject::Content)
            } else {
                Ok(())
            };
        };
        let ssid = u16::from_le_bytes(*id);
        #[cfg(feature = "access-control")]
        if tag == TAG_ACL {
            return self.acl.restore(v, apply).map_err(|_| Reject::Content);
        }
        #[cfg(feature = "bootstrap")]
        if tag == super::bootstrap::TAG_ACCOUNT {
            return self.restore_account(v, apply).map_err(|_| Reject::Content);
        }
        #[cfg(all(
            feature = "bootstrap",
            any(feature = "dtls", feature = "platform-credentials")
        ))]
        if tag == super::bootstrap::TAG_KEYS {
            return self
                .restore_keys_item(v, apply)
                .map_err(|_| Reject::Content);
        }
        // Items of a server this configuration does not have are dropped.
        let Some(s) = self.servers.iter_mut().find(|s| s.short_id == ssid) else {
            return Ok(());
        };
        match tag {
            TAG_SERVER => s.restore(rest, apply),
            TAG_LOCATION => {
                if !super::registration::location_valid(rest) {
                    return Err(Reject::Content);
                }
                if apply {
                    s.reg
                        .restore_location(rest, UPDATE_OBJECTS | UPDATE_LIFETIME | UPDATE_BINDING);
                }
                Ok(())
            }
            #[cfg(feature = "server-extra")]
            TAG_TIMING => {
                let t = super::registration::Timing::from_bytes(rest).ok_or(Reject::Content)?;
                if apply {
                    s.timing = t;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// True when a successful request may have changed kept state: anything on the Server
/// (1) or Access Control (2) object, a composite request, and (with Access Control) a
/// Create or Delete, which adds or drops an instance's ACL.
pub fn touches_state(req: &crate::coap::Message<'_>) -> bool {
    use crate::coap::opt;
    #[cfg(feature = "access-control")]
    {
        use crate::coap::Code;
        let object_level = req.options_of(opt::URI_PATH).count() == 1;
        if req.code() == Code::DELETE || (req.code() == Code::POST && object_level) {
            return true;
        }
    }
    matches!(req.option(opt::URI_PATH), Some(b"1" | b"2") | None)
}

/// True for the tags this build reads.
fn known(tag: u8) -> bool {
    #[cfg(feature = "bootstrap")]
    if tag == super::bootstrap::TAG_ACCOUNT {
        return true;
    }
    #[cfg(all(
        feature = "bootstrap",
        any(feature = "dtls", feature = "platform-credentials")
    ))]
    if tag == super::bootstrap::TAG_KEYS {
        return true;
    }
    #[cfg(feature = "server-extra")]
    if tag == TAG_TIMING {
        return true;
    }
    #[cfg(feature = "access-control")]
    if tag == TAG_ACL {
        return true;
    }
    matches!(tag, TAG_SERVER | TAG_LOCATION)
}

/// Emits one item: the tag, the length of the parts together, the parts.
fn item(emit: &mut dyn FnMut(&[u8]), tag: u8, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let [l0, l1] = u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes();
    emit(&[tag, l0, l1]);
    for p in parts {
        emit(p);
    }
}

/// The sequence number and body length of the record in `slot`: `None` when the slot is
/// empty, an error when it holds a record that is damaged or of another version.
fn check_slot(store: &mut dyn Store, slot: u8) -> Result<Option<(u32, u16)>, Reject> {
    let mut h = [0u8; HEADER_LEN as usize];
    if !store.read(slot, 0, &mut h) {
        return Ok(None);
    }
    let [m0, m1, m2, m3, version, _, l0, l1, s0, s1, s2, s3] = h;
    if [m0, m1, m2, m3] != MAGIC {
        // Erased flash or a record torn within its first bytes.
        return if h.iter().all(|&b| b == 0xFF || b == 0) {
            Ok(None)
        } else {
            Err(Reject::Corrupt)
        };
    }
    let len = u16::from_le_bytes([l0, l1]);
    if len > MAX_BODY {
        return Err(Reject::Corrupt);
    }
    let mut crc = crc32(!0, &h);
    let end = HEADER_LEN + u32::from(len);
    let mut at = HEADER_LEN;
    let mut chunk = [0u8; 32];
    while at < end {
        let n = (end - at).min(chunk.len() as u32) as usize;
        let part = chunk.get_mut(..n).unwrap_or(&mut []);
        if !store.read(slot, at, part) {
            return Err(Reject::Corrupt);
        }
        crc = crc32(crc, part);
        at += n as u32;
    }
    let mut trailer = [0u8; 4];
    if !store.read(slot, end, &mut trailer) || u32::from_le_bytes(trailer) != !crc {
        return Err(Reject::Corrupt);
    }
    if version != VERSION {
        return Err(Reject::Version);
    }
    Ok(Some((u32::from_le_bytes([s0, s1, s2, s3]), len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(!crc32(!0, b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn sequence_numbers_compare_across_the_wrap() {
        assert!(newer(2, 1));
        assert!(newer(0, u32::MAX));
        assert!(!newer(u32::MAX, 0));
        assert!(!newer(5, 5));
    }
}
