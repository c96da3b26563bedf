//! Reassembly of a fragmented handshake message (RFC 6347 section 4.2.3), in a fixed buffer.
//!
//! Only the handshake message the session expects next is reassembled: its fragments may come
//! in any order, overlap, repeat, and spread over records and datagrams; a bitmap records which
//! bytes have arrived. The buffer holds [`MAX_MESSAGE`] bytes: the largest message a server
//! sends this client is a HelloVerifyRequest with a 255-byte cookie (258 bytes); a ServerHello
//! with its extensions or a ServerKeyExchange with an identity hint stays well below.

/// The longest handshake message body reassembled from fragments.
pub const MAX_MESSAGE: usize = 320;

/// A fragment that cannot be part of the message being reassembled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Refused {
    /// The message is longer than [`MAX_MESSAGE`]: it can never be reassembled here.
    TooLong,
    /// The fragment runs past the message's length, or its type or length differ from the
    /// fragments before it: dropped.
    Inconsistent,
}

/// The header fields of one handshake fragment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fragment {
    pub msg_type: u8,
    pub seq: u16,
    /// The whole message's length.
    pub len: usize,
    pub offset: usize,
}

/// One message being put back together.
pub struct Reassembly {
    /// A message is under way, with this type, message_seq and length.
    active: bool,
    msg_type: u8,
    seq: u16,
    len: u16,
    body: [u8; MAX_MESSAGE],
    /// Bit i: byte i of the body has arrived.
    have: [u8; MAX_MESSAGE / 8],
}

impl Default for Reassembly {
    fn default() -> Self {
        Reassembly {
            active: false,
            msg_type: 0,
            seq: 0,
            len: 0,
            body: [0; MAX_MESSAGE],
            have: [0; MAX_MESSAGE / 8],
        }
    }
}

impl Reassembly {
    /// Forgets any message under way.
    pub fn clear(&mut self) {
        self.active = false;
    }

    /// Adds fragment `f` carrying `data`. `Ok(Some(body))` once the message is whole (the
    /// reassembly then starts afresh), `Ok(None)` while bytes are missing. A fragment of
    /// another message_seq than the one under way starts that message instead.
    pub fn add(&mut self, f: Fragment, data: &[u8]) -> Result<Option<&[u8]>, Refused> {
        if f.len > MAX_MESSAGE {
            return Err(Refused::TooLong);
        }
        let end = f
            .offset
            .checked_add(data.len())
            .ok_or(Refused::Inconsistent)?;
        if end > f.len {
            return Err(Refused::Inconsistent);
        }
        // At most MAX_MESSAGE: fits.
        let len = u16::try_from(f.len).map_err(|_| Refused::TooLong)?;
        if self.active && self.seq == f.seq {
            if self.msg_type != f.msg_type || self.len != len {
                return Err(Refused::Inconsistent);
            }
        } else {
            self.active = true;
            self.msg_type = f.msg_type;
            self.seq = f.seq;
            self.len = len;
            self.have = [0; MAX_MESSAGE / 8];
        }
        let dst = self
            .body
            .get_mut(f.offset..end)
            .ok_or(Refused::Inconsistent)?;
        // `dst` ends at `end`, so it is exactly as long as `data`. Copied byte by byte:
        // copy_from_slice would keep its length check, a panic path, in the image.
        for (d, s) in dst.iter_mut().zip(data) {
            *d = *s;
        }
        for i in f.offset..end {
            if let Some(b) = self.have.get_mut(i / 8) {
                *b |= 1 << (i % 8);
            }
        }
        let whole = (0..f.len).all(|i| {
            self.have
                .get(i / 8)
                .is_some_and(|b| b & (1 << (i % 8)) != 0)
        });
        if !whole {
            return Ok(None);
        }
        self.active = false;
        Ok(self.body.get(..f.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(offset: usize, len: usize) -> Fragment {
        Fragment {
            msg_type: 2,
            seq: 1,
            len,
            offset,
        }
    }

    fn message(n: usize) -> std::vec::Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn two_fragments_in_order_and_reversed() {
        let m = message(100);
        let mut r = Reassembly::default();
        assert_eq!(r.add(frag(0, 100), &m[..60]), Ok(None));
        assert_eq!(r.add(frag(60, 100), &m[60..]), Ok(Some(&m[..])));
        assert_eq!(r.add(frag(60, 100), &m[60..]), Ok(None), "starts afresh");
        assert_eq!(r.add(frag(0, 100), &m[..60]), Ok(Some(&m[..])));
    }

    #[test]
    fn three_fragments_out_of_order_overlapping_and_repeated() {
        let m = message(MAX_MESSAGE);
        let mut r = Reassembly::default();
        assert_eq!(r.add(frag(200, MAX_MESSAGE), &m[200..]), Ok(None));
        assert_eq!(
            r.add(frag(200, MAX_MESSAGE), &m[200..]),
            Ok(None),
            "a duplicate"
        );
        assert_eq!(r.add(frag(0, MAX_MESSAGE), &m[..90]), Ok(None));
        assert_eq!(
            r.add(frag(50, MAX_MESSAGE), &m[50..150]),
            Ok(None),
            "overlaps"
        );
        assert_eq!(
            r.add(frag(140, MAX_MESSAGE), &m[140..210]),
            Ok(Some(&m[..]))
        );
    }

    #[test]
    fn lies_and_oversized_messages_are_refused() {
        let m = message(100);
        let mut r = Reassembly::default();
        assert_eq!(
            r.add(frag(0, MAX_MESSAGE + 1), &m[..10]),
            Err(Refused::TooLong)
        );
        assert_eq!(r.add(frag(95, 100), &m[..10]), Err(Refused::Inconsistent));
        assert_eq!(
            r.add(frag(usize::MAX - 2, 100), &m[..10]),
            Err(Refused::Inconsistent)
        );
        assert_eq!(r.add(frag(0, 100), &m[..50]), Ok(None));
        assert_eq!(
            r.add(frag(50, 120), &m[50..]),
            Err(Refused::Inconsistent),
            "another length for the same message"
        );
        let other_type = Fragment {
            msg_type: 12,
            ..frag(50, 100)
        };
        assert_eq!(r.add(other_type, &m[50..]), Err(Refused::Inconsistent));
        assert_eq!(r.add(frag(50, 100), &m[50..]), Ok(Some(&m[..])));
        // A fragment of a new message_seq replaces what was under way.
        assert_eq!(r.add(frag(0, 100), &m[..50]), Ok(None));
        let next = Fragment {
            seq: 2,
            ..frag(0, 10)
        };
        assert_eq!(r.add(next, &m[..10]), Ok(Some(&m[..10])));
        // An empty message is whole at once.
        assert_eq!(r.add(frag(0, 0), &[]), Ok(Some(&[][..])));
    }
}
