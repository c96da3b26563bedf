//! The DTLS 1.2 record layer (RFC 6347 section 4.1): record headers, AES-128-CCM-8
//! protection (RFC 6655: a 4-byte implicit and an 8-byte explicit nonce, an 8-byte tag) and
//! the anti-replay window.

use aes::Aes128;
use ccm::aead::{AeadInPlace, KeyInit};
use ccm::consts::{U12, U8};
use ccm::Ccm;

use crate::buf::{NoSpace, Writer};

type Aes128Ccm8 = Ccm<Aes128, U8, U12>;

/// Bytes of a record header: type, version, epoch, sequence number, length.
pub const HEADER: usize = 13;
/// DTLS 1.2 on the wire.
pub const VERSION: [u8; 2] = [0xFE, 0xFD];
/// The explicit nonce and the tag a protected record adds to its plaintext.
pub const OVERHEAD: usize = 8 + 8;

/// Record content types (RFC 5246 section 6.2.1).
pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;

/// A parsed record: its header fields and its body within the datagram.
pub struct Record<'a> {
    pub content_type: u8,
    pub epoch: u16,
    pub seq: u64,
    pub body: &'a mut [u8],
}

/// Splits the first record off `datagram`: the record and the rest. `None` for a header
/// that does not parse or a length past the datagram's end (the rest is dropped with it).
pub fn split(datagram: &mut [u8]) -> Option<(Record<'_>, &mut [u8])> {
    let (header, rest) = datagram.split_at_mut_checked(HEADER)?;
    let h: &[u8; HEADER] = (&*header).try_into().ok()?;
    // DTLS 1.0 too: servers answer with it before the version is settled (RFC 6347
    // section 4.2.1 for the HelloVerifyRequest).
    if h[1] != 0xFE || (h[2] != VERSION[1] && h[2] != 0xFF) {
        return None;
    }
    let epoch = u16::from_be_bytes([h[3], h[4]]);
    let seq = u64::from_be_bytes([0, 0, h[5], h[6], h[7], h[8], h[9], h[10]]);
    let len = usize::from(u16::from_be_bytes([h[11], h[12]]));
    let (body, rest) = rest.split_at_mut_checked(len)?;
    let record = Record {
        content_type: h[0],
        epoch,
        seq,
        body,
    };
    Some((record, rest))
}

/// Writes a record header.
pub fn write_header(
    w: &mut Writer<'_>,
    content_type: u8,
    epoch: u16,
    seq: u64,
    len: usize,
) -> Result<(), NoSpace> {
    let len = u16::try_from(len).map_err(|_| NoSpace)?;
    w.put_u8(content_type)?;
    w.put(&VERSION)?;
    w.put(&epoch.to_be_bytes())?;
    w.put(seq.to_be_bytes().get(2..).unwrap_or_default())?;
    w.put(&len.to_be_bytes())
}

/// One direction's key and implicit nonce.
#[derive(Clone, Default)]
pub struct Keys {
    pub key: [u8; 16],
    pub iv: [u8; 4],
}

/// The epoch and sequence number as the record header carries them (8 bytes).
fn epoch_seq(epoch: u16, seq: u64) -> [u8; 8] {
    let mut b = seq.to_be_bytes();
    let e = epoch.to_be_bytes();
    b[0] = e[0];
    b[1] = e[1];
    b
}

/// The additional data of RFC 5246 section 6.2.3.3 (with DTLS's epoch and sequence).
fn additional_data(content_type: u8, epoch: u16, seq: u64, len: usize) -> [u8; 13] {
    let mut ad = [0u8; 13];
    let es = epoch_seq(epoch, seq);
    let l = (len as u16).to_be_bytes();
    for (d, s) in ad.iter_mut().zip(
        es.iter()
            .chain(&[content_type, VERSION[0], VERSION[1]])
            .chain(l.iter()),
    ) {
        *d = *s;
    }
    ad
}

fn nonce(iv: &[u8; 4], explicit: &[u8; 8]) -> [u8; 12] {
    let mut n = [0u8; 12];
    for (d, s) in n.iter_mut().zip(iv.iter().chain(explicit.iter())) {
        *d = *s;
    }
    n
}

impl Keys {
    /// Appends a protected record of `plaintext` to `w`.
    pub fn seal(
        &self,
        w: &mut Writer<'_>,
        content_type: u8,
        epoch: u16,
        seq: u64,
        plaintext: &[u8],
    ) -> Result<(), NoSpace> {
        let len = plaintext.len().checked_add(OVERHEAD).ok_or(NoSpace)?;
        write_header(w, content_type, epoch, seq, len)?;
        let explicit = epoch_seq(epoch, seq);
        w.put(&explicit)?;
        let start = w.len();
        w.put(plaintext)?;
        let aad = additional_data(content_type, epoch, seq, plaintext.len());
        let cipher = Aes128Ccm8::new(&self.key.into());
        let body = w.written_mut().get_mut(start..).ok_or(NoSpace)?;
        let tag = cipher
            .encrypt_in_place_detached(&nonce(&self.iv, &explicit).into(), &aad, body)
            .map_err(|_| NoSpace)?;
        w.put(&tag)
    }

    /// Decrypts a protected record's body in place: the plaintext, or `None` when it does
    /// not authenticate.
    pub fn open<'a>(&self, record: Record<'a>) -> Option<&'a mut [u8]> {
        let (explicit, rest) = record.body.split_at_mut_checked(8)?;
        let cut = rest.len().checked_sub(8)?;
        let (data, tag) = rest.split_at_mut_checked(cut)?;
        let explicit: [u8; 8] = (&*explicit).try_into().ok()?;
        let aad = additional_data(record.content_type, record.epoch, record.seq, data.len());
        let cipher = Aes128Ccm8::new(&self.key.into());
        let tag: [u8; 8] = (&*tag).try_into().ok()?;
        cipher
            .decrypt_in_place_detached(&nonce(&self.iv, &explicit).into(), &aad, data, &tag.into())
            .ok()?;
        Some(data)
    }
}

/// The 64-record anti-replay window of RFC 6347 section 4.1.2.6.
#[derive(Clone, Copy, Default)]
pub struct Window {
    /// The highest sequence number accepted, plus one (0: none yet).
    top: u64,
    /// Bit i: `top - 1 - i` was accepted.
    bits: u64,
}

impl Window {
    /// True when `seq` is new (not yet seen and not too old).
    pub fn fresh(&self, seq: u64) -> bool {
        match self.top.checked_sub(1) {
            None => true,
            Some(high) if seq > high => true,
            Some(high) => {
                let back = high - seq;
                back < 64 && self.bits & (1u64 << back) == 0
            }
        }
    }

    /// Marks `seq` as seen (after its record authenticated).
    pub fn accept(&mut self, seq: u64) {
        let Some(high) = self.top.checked_sub(1) else {
            self.top = seq.saturating_add(1);
            self.bits = 1;
            return;
        };
        if seq > high {
            let shift = seq - high;
            self.bits = if shift >= 64 { 0 } else { self.bits << shift };
            self.bits |= 1;
            self.top = seq.saturating_add(1);
        } else if high - seq < 64 {
            self.bits |= 1u64 << (high - seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_record_opens_and_a_changed_one_does_not() {
        let keys = Keys {
            key: [7; 16],
            iv: [1, 2, 3, 4],
        };
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        keys.seal(&mut w, APPLICATION_DATA, 1, 5, b"hello").unwrap();
        let n = w.len();
        assert_eq!(n, HEADER + OVERHEAD + 5);
        let mut copy = buf;
        let (rec, rest) = split(&mut copy[..n]).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            (rec.content_type, rec.epoch, rec.seq),
            (APPLICATION_DATA, 1, 5)
        );
        assert_eq!(keys.open(rec).unwrap(), b"hello");
        for i in [3, 10, HEADER, HEADER + 9, n - 1] {
            let mut bad = buf;
            bad[i] ^= 1;
            let opened = split(&mut bad[..n]).and_then(|(rec, _)| keys.open(rec));
            assert!(opened.is_none(), "byte {i} changed, still opens");
        }
    }

    #[test]
    fn truncated_records_do_not_split() {
        let mut short = [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2];
        assert!(split(&mut short).is_none());
        let mut wrong_version = [22, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(split(&mut wrong_version).is_none());
    }

    #[test]
    fn the_window_refuses_replays_and_old_records() {
        let mut w = Window::default();
        assert!(w.fresh(0));
        w.accept(0);
        assert!(!w.fresh(0));
        w.accept(100);
        assert!(!w.fresh(100));
        assert!(w.fresh(99) && w.fresh(37));
        assert!(!w.fresh(36), "64 behind the top is too old");
        w.accept(99);
        assert!(!w.fresh(99));
        assert!(w.fresh(101));
    }
}
