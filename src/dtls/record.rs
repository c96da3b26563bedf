//! The DTLS 1.2 record layer (RFC 6347 section 4.1): record headers, AES-128-CCM-8
//! protection (RFC 6655: a 4-byte implicit and an 8-byte explicit nonce, an 8-byte tag), the
//! Connection ID record format (RFC 9146 section 4: `tls12_cid` records carrying the CID in
//! the header and the real content type inside the encrypted DTLSInnerPlaintext) and the
//! anti-replay window.

use super::ccm::{Ccm8, TAG};
use crate::buf::{NoSpace, Writer};

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
/// A record in the Connection ID format (RFC 9146 section 4).
pub const TLS12_CID: u8 = 25;
/// The longest peer CID this client takes (RFC 9146 allows 255).
pub const MAX_CID: usize = 16;

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
    write_header_cid(w, content_type, epoch, seq, &[], len)
}

/// Writes a record header with `cid` between the sequence number and the length (RFC 9146
/// section 4; empty for the RFC 6347 header).
fn write_header_cid(
    w: &mut Writer<'_>,
    content_type: u8,
    epoch: u16,
    seq: u64,
    cid: &[u8],
    len: usize,
) -> Result<(), NoSpace> {
    let len = u16::try_from(len).map_err(|_| NoSpace)?;
    w.put_u8(content_type)?;
    w.put(&VERSION)?;
    w.put(&epoch.to_be_bytes())?;
    w.put(seq.to_be_bytes().get(2..).unwrap_or_default())?;
    w.put(cid)?;
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

/// The longest additional data: RFC 9146's with the longest CID.
const MAX_AAD: usize = 8 + 3 + 2 + 8 + MAX_CID + 2;

/// The additional data of a record, in `ad`; its length. Without a CID (`cid` is `None`),
/// RFC 5246 section 6.2.3.3's: epoch and sequence, type, version, length. With one (a
/// `tls12_cid` record), RFC 9146 section 5's: 8 bytes of 0xFF, tls12_cid, cid_length,
/// tls12_cid, version, epoch and sequence, the CID, the DTLSInnerPlaintext's length.
fn additional_data(
    ad: &mut [u8; MAX_AAD],
    content_type: u8,
    epoch: u16,
    seq: u64,
    cid: Option<&[u8]>,
    len: usize,
) -> usize {
    let mut w = Writer::new(ad);
    let l = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    let es = epoch_seq(epoch, seq);
    // Sized for the longest CID (the callers' are at most MAX_CID): cannot fail.
    let _ = match cid {
        None => w
            .put(&es)
            .and_then(|_| w.put(&[content_type, VERSION[0], VERSION[1]]))
            .and_then(|_| w.put(&l)),
        Some(cid) => w
            .put(&[0xFF; 8])
            .and_then(|_| w.put(&[TLS12_CID, cid.len() as u8, TLS12_CID]))
            .and_then(|_| w.put(&VERSION))
            .and_then(|_| w.put(&es))
            .and_then(|_| w.put(cid))
            .and_then(|_| w.put(&l)),
    };
    w.len()
}

impl Keys {
    /// Appends a protected record of `plaintext` to `w`: a `content_type` record, or with a
    /// non-empty `cid` a `tls12_cid` record carrying it, its DTLSInnerPlaintext being
    /// `plaintext`, `content_type` and no padding.
    pub fn seal(
        &self,
        w: &mut Writer<'_>,
        content_type: u8,
        epoch: u16,
        seq: u64,
        cid: &[u8],
        plaintext: &[u8],
    ) -> Result<(), NoSpace> {
        let inner = plaintext
            .len()
            .checked_add(usize::from(!cid.is_empty()))
            .ok_or(NoSpace)?;
        let len = inner.checked_add(OVERHEAD).ok_or(NoSpace)?;
        let (outer, aad_cid) = if cid.is_empty() {
            (content_type, None)
        } else {
            (TLS12_CID, Some(cid))
        };
        write_header_cid(w, outer, epoch, seq, cid, len)?;
        let explicit = epoch_seq(epoch, seq);
        w.put(&explicit)?;
        let start = w.len();
        w.put(plaintext)?;
        if !cid.is_empty() {
            w.put_u8(content_type)?;
        }
        let mut aad = [0u8; MAX_AAD];
        let n = additional_data(&mut aad, outer, epoch, seq, aad_cid, inner);
        let body = w.written_mut().get_mut(start..).ok_or(NoSpace)?;
        let tag =
            Ccm8::new(&self.key, &self.iv, &explicit).seal(aad.get(..n).ok_or(NoSpace)?, body);
        w.put(&tag)
    }

    /// Decrypts a protected record's body in place: its content type and plaintext, or
    /// `None` when it does not authenticate. A `tls12_cid` record (this client's own CID is
    /// empty, so its header is the usual one) yields the type and content of its
    /// DTLSInnerPlaintext.
    pub fn open<'a>(&self, record: Record<'a>) -> Option<(u8, &'a mut [u8])> {
        let (explicit, rest) = record.body.split_at_mut_checked(8)?;
        let cut = rest.len().checked_sub(TAG)?;
        let (data, tag) = rest.split_at_mut_checked(cut)?;
        let explicit: [u8; 8] = (&*explicit).try_into().ok()?;
        let cid = (record.content_type == TLS12_CID).then_some(&[][..]);
        let mut aad = [0u8; MAX_AAD];
        let n = additional_data(
            &mut aad,
            record.content_type,
            record.epoch,
            record.seq,
            cid,
            data.len(),
        );
        let tag: [u8; TAG] = (&*tag).try_into().ok()?;
        Ccm8::new(&self.key, &self.iv, &explicit)
            .open(aad.get(..n)?, data, &tag)
            .ok()?;
        if cid.is_none() {
            return Some((record.content_type, data));
        }
        // DTLSInnerPlaintext: the content, the real type (never 0), zero padding.
        let last = data.iter().rposition(|b| *b != 0)?;
        let (content, real) = data.split_at_mut_checked(last)?;
        Some((*real.first()?, content))
    }
}

/// The 64-record anti-replay window of RFC 6347 section 4.1.2.6.
#[derive(Clone, Copy, Default)]
pub struct Window {
    /// The highest sequence number accepted.
    high: u64,
    /// Bit i: `high - i` was accepted (0: nothing accepted yet; then bit 0 is always set).
    bits: u64,
}

impl Window {
    /// The bit of `seq` when it is not newer than the highest accepted (0 when it is too
    /// old for the window); `None` when it is newer, or nothing was accepted yet.
    fn bit(&self, seq: u64) -> Option<u64> {
        if self.bits == 0 || seq > self.high {
            return None;
        }
        let back = u32::try_from(self.high - seq).unwrap_or(u32::MAX);
        Some(1u64.checked_shl(back).unwrap_or(0))
    }

    /// True when `seq` is new (not yet seen and not too old).
    pub fn fresh(&self, seq: u64) -> bool {
        !self.bit(seq).is_some_and(|b| b == 0 || self.bits & b != 0)
    }

    /// Marks `seq` as seen (after its record authenticated).
    pub fn accept(&mut self, seq: u64) {
        match self.bit(seq) {
            Some(b) => self.bits |= b,
            None => {
                let shift = u32::try_from(seq.wrapping_sub(self.high)).unwrap_or(u32::MAX);
                self.bits = self.bits.checked_shl(shift).unwrap_or(0) | 1;
                self.high = seq;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccm::aead::{AeadInPlace, KeyInit};
    use ccm::consts::{U12, U8};

    /// The ccm crate's AES-128-CCM-8: an independent check of the records' layout.
    type Aes128Ccm8 = ccm::Ccm<aes::Aes128, U8, U12>;

    #[test]
    fn a_sealed_record_opens_and_a_changed_one_does_not() {
        let keys = Keys {
            key: [7; 16],
            iv: [1, 2, 3, 4],
        };
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        keys.seal(&mut w, APPLICATION_DATA, 1, 5, &[], b"hello")
            .unwrap();
        let n = w.len();
        assert_eq!(n, HEADER + OVERHEAD + 5);
        let mut copy = buf;
        let (rec, rest) = split(&mut copy[..n]).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            (rec.content_type, rec.epoch, rec.seq),
            (APPLICATION_DATA, 1, 5)
        );
        let (t, d) = keys.open(rec).unwrap();
        assert_eq!((t, &*d), (APPLICATION_DATA, &b"hello"[..]));
        for i in [3, 10, HEADER, HEADER + 9, n - 1] {
            let mut bad = buf;
            bad[i] ^= 1;
            let opened = split(&mut bad[..n]).and_then(|(rec, _)| keys.open(rec));
            assert!(opened.is_none(), "byte {i} changed, still opens");
        }
    }

    /// RFC 9146 section 5's additional data, byte by byte, for a 3-byte CID.
    #[test]
    fn the_cid_additional_data_is_laid_out_as_rfc_9146_says() {
        let mut ad = [0u8; MAX_AAD];
        let n = additional_data(
            &mut ad,
            TLS12_CID,
            1,
            0x0102_0304_0506,
            Some(&[0xC1, 0xC2, 0xC3]),
            0x0123,
        );
        assert_eq!(
            &ad[..n],
            &[
                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // seq_num_placeholder
                25, 3, 25, // tls12_cid, cid_length, tls12_cid
                0xFE, 0xFD, // version
                0, 1, 1, 2, 3, 4, 5, 6, // epoch, sequence number
                0xC1, 0xC2, 0xC3, // cid
                0x01, 0x23, // length_of_DTLSInnerPlaintext
            ]
        );
        let n = additional_data(&mut ad, APPLICATION_DATA, 1, 7, None, 5);
        assert_eq!(&ad[..n], &[0, 1, 0, 0, 0, 0, 0, 7, 23, 0xFE, 0xFD, 0, 5]);
    }

    /// A record sealed with the peer's CID: type 25, the CID after the sequence number, the
    /// real type inside. Its ciphertext is checked against one computed here independently
    /// (AES-128-CCM-8 over the RFC 9146 additional data and inner plaintext).
    #[test]
    fn a_cid_record_has_the_cid_in_its_header_and_the_type_inside() {
        let keys = Keys {
            key: [7; 16],
            iv: [1, 2, 3, 4],
        };
        let cid = [0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF];
        let mut buf = [0u8; 96];
        let mut w = Writer::new(&mut buf);
        keys.seal(&mut w, APPLICATION_DATA, 1, 9, &cid, b"hi")
            .unwrap();
        let n = w.len();
        assert_eq!(n, HEADER + cid.len() + OVERHEAD + 2 + 1);
        assert_eq!(&buf[..3], &[TLS12_CID, 0xFE, 0xFD]);
        assert_eq!(&buf[3..11], &[0, 1, 0, 0, 0, 0, 0, 9]);
        assert_eq!(&buf[11..17], &cid);
        assert_eq!(&buf[17..19], &((8 + 3 + 8) as u16).to_be_bytes());
        assert_eq!(&buf[19..27], &[0, 1, 0, 0, 0, 0, 0, 9], "explicit nonce");
        let mut expect = *b"hi\x17";
        let mut aad = std::vec![0xFF; 8];
        aad.extend_from_slice(&[25, 6, 25, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9]);
        aad.extend_from_slice(&cid);
        aad.extend_from_slice(&[0, 3]);
        let tag = Aes128Ccm8::new(&[7; 16].into())
            .encrypt_in_place_detached(
                &[1, 2, 3, 4, 0, 1, 0, 0, 0, 0, 0, 9].into(),
                &aad,
                &mut expect,
            )
            .unwrap();
        assert_eq!(&buf[27..30], &expect);
        assert_eq!(&buf[30..38], tag.as_slice());
    }

    /// A tls12_cid record to this client (its CID is empty) opens to its real type and
    /// content, padding stripped; one whose inner plaintext is all zeros does not.
    #[test]
    fn a_cid_record_with_padding_opens_to_its_real_type() {
        let keys = Keys {
            key: [9; 16],
            iv: [4, 3, 2, 1],
        };
        let seal_inner = |inner: &[u8]| {
            let mut v = std::vec![TLS12_CID, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 3];
            v.extend_from_slice(&((inner.len() + 16) as u16).to_be_bytes());
            v.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 3]);
            let mut aad = std::vec![0xFF; 8];
            aad.extend_from_slice(&[25, 0, 25, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 3]);
            aad.extend_from_slice(&(inner.len() as u16).to_be_bytes());
            let mut body = inner.to_vec();
            let tag = Aes128Ccm8::new(&[9; 16].into())
                .encrypt_in_place_detached(
                    &[4, 3, 2, 1, 0, 1, 0, 0, 0, 0, 0, 3].into(),
                    &aad,
                    &mut body,
                )
                .unwrap();
            v.extend_from_slice(&body);
            v.extend_from_slice(&tag);
            v
        };
        let mut rec = seal_inner(b"data\x17\0\0\0");
        let (r, _) = split(&mut rec).unwrap();
        let (t, d) = keys.open(r).unwrap();
        assert_eq!((t, &*d), (APPLICATION_DATA, &b"data"[..]));
        let mut zeros = seal_inner(&[0, 0, 0]);
        let (r, _) = split(&mut zeros).unwrap();
        assert!(keys.open(r).is_none(), "no real type");
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
