//! CoAP message parsing (a checked zero-copy view) and building (into a caller buffer).
//!
//! Wire format (RFC 7252 section 3):
//! ```text
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! |Ver| T |  TKL  |      Code     |          Message ID           |
//! | Token (0-8 bytes) ... | Options ... | 0xFF | Payload ...
//! ```
//! Each option starts with a byte holding a 4-bit number delta and a 4-bit value length;
//! 13 means "one more byte, plus 13", 14 "two more bytes, plus 269", 15 is reserved (and the
//! byte 0xFF is the payload marker).

use super::{Code, MsgType};
use crate::buf::{NoSpace, Writer};

/// The only CoAP version there is.
const VERSION: u8 = 1;
/// Length of the fixed header.
pub const HEADER_LEN: usize = 4;
/// Longest token.
const MAX_TOKEN: usize = 8;
/// Separates the options from the payload.
const PAYLOAD_MARKER: u8 = 0xFF;
/// Longest option value the 14-form length can express (269 + 65535).
const MAX_OPTION_LEN: usize = 269 + 0xFFFF;

/// The four fixed bytes at the start of every CoAP message.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Header {
    /// The message type.
    pub mtype: MsgType,
    /// The token length announced by the header (not checked against the message length).
    pub tkl: u8,
    /// The code.
    pub code: Code,
    /// The message ID.
    pub message_id: u16,
}

/// Reads the fixed 4-byte header only, without looking at the rest of the datagram.
///
/// Returns `None` when `buf` is shorter than 4 bytes or the version is not 1. This is what a
/// receiver uses to answer a confirmable message whose body does not parse with a RST.
pub fn peek_header(buf: &[u8]) -> Option<Header> {
    let (&b0, rest) = buf.split_first()?;
    let (&code, rest) = rest.split_first()?;
    let (&m0, rest) = rest.split_first()?;
    let (&m1, _) = rest.split_first()?;
    if b0 >> 6 != VERSION {
        return None;
    }
    Some(Header {
        mtype: MsgType::from_bits(b0 >> 4),
        tkl: b0 & 0x0F,
        code: Code(code),
        message_id: u16::from_be_bytes([m0, m1]),
    })
}

/// Why a datagram is not a well-formed CoAP message.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum ParseError {
    /// The datagram ends before the header, the token, an extended option field or an
    /// option value that its lengths announce.
    Truncated,
    /// The version field is not 1.
    BadVersion,
    /// The token length is 9 to 15, or not 0 in an empty (0.00) message.
    BadTokenLength,
    /// An option header uses the reserved nibble 15, an option number passes 65535, or an
    /// empty (0.00) message has bytes after its header.
    BadOption,
    /// A payload marker (0xFF) is followed by no payload.
    EmptyPayload,
}

/// One option of a parsed message.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct CoapOption<'a> {
    /// The option number (see [`super::opt`]).
    pub number: u16,
    /// The raw option value, borrowed from the datagram.
    pub value: &'a [u8],
}

/// Splits the next option off `buf`, whose previous option had number `prev`.
///
/// Returns `Ok(None)` at the end of the options (end of `buf` or the payload marker).
fn next_option(buf: &[u8], prev: u16) -> Result<Option<(CoapOption<'_>, &[u8])>, ParseError> {
    let Some((&first, rest)) = buf.split_first() else {
        return Ok(None);
    };
    if first == PAYLOAD_MARKER {
        return Ok(None);
    }
    let (delta, rest) = extended(first >> 4, rest)?;
    let (len, rest) = extended(first & 0x0F, rest)?;
    let number = u32::from(prev)
        .checked_add(delta)
        .and_then(|n| u16::try_from(n).ok())
        .ok_or(ParseError::BadOption)?;
    let len = usize::try_from(len).map_err(|_| ParseError::Truncated)?;
    let (value, rest) = rest.split_at_checked(len).ok_or(ParseError::Truncated)?;
    Ok(Some((CoapOption { number, value }, rest)))
}

/// Decodes a delta or length nibble and its extension bytes.
#[inline(always)]
fn extended(nibble: u8, rest: &[u8]) -> Result<(u32, &[u8]), ParseError> {
    match nibble {
        0..=12 => Ok((u32::from(nibble), rest)),
        13 => {
            let (&b, rest) = rest.split_first().ok_or(ParseError::Truncated)?;
            Ok((13 + u32::from(b), rest))
        }
        14 => {
            let (&b0, rest) = rest.split_first().ok_or(ParseError::Truncated)?;
            let (&b1, rest) = rest.split_first().ok_or(ParseError::Truncated)?;
            Ok((269 + u32::from(u16::from_be_bytes([b0, b1])), rest))
        }
        _ => Err(ParseError::BadOption),
    }
}

/// A checked, zero-copy view of a CoAP message.
///
/// Built by [`Message::parse`], which validates the whole datagram once; every accessor after
/// that borrows from the datagram and cannot fail.
#[derive(Clone, Copy)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Message<'a> {
    raw: &'a [u8],
    header: Header,
    token: &'a [u8],
    options: &'a [u8],
    payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// Validates `buf` as a CoAP message.
    ///
    /// Checks the version, the token length, every option header (including the extended
    /// 13/14 forms), that no option runs past the end or past number 65535, that a payload
    /// marker is followed by a payload, and that an empty message (0.00) is exactly 4 bytes.
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let fixed = buf.get(..HEADER_LEN).ok_or(ParseError::Truncated)?;
        let header = peek_header(fixed).ok_or(ParseError::BadVersion)?;
        let tkl = usize::from(header.tkl);
        if tkl > MAX_TOKEN {
            return Err(ParseError::BadTokenLength);
        }
        let rest = buf.get(HEADER_LEN..).unwrap_or(&[]);
        if header.code.is_empty() {
            if tkl != 0 {
                return Err(ParseError::BadTokenLength);
            }
            if !rest.is_empty() {
                return Err(ParseError::BadOption);
            }
        }
        let (token, after_token) = rest.split_at_checked(tkl).ok_or(ParseError::Truncated)?;

        // Walk the options once; whatever follows is the marker and payload.
        let mut cursor = after_token;
        let mut prev = 0u16;
        while let Some((o, next)) = next_option(cursor, prev)? {
            prev = o.number;
            cursor = next;
        }
        let options_len = after_token.len().saturating_sub(cursor.len());
        let options = after_token.get(..options_len).unwrap_or(&[]);
        let payload = match cursor.split_first() {
            None => &[][..],
            Some((_marker, [])) => return Err(ParseError::EmptyPayload),
            Some((_marker, payload)) => payload,
        };
        Ok(Message {
            raw: buf,
            header,
            token,
            options,
            payload,
        })
    }

    /// The whole datagram.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// The fixed header.
    pub fn header(&self) -> Header {
        self.header
    }

    /// The message type.
    pub fn mtype(&self) -> MsgType {
        self.header.mtype
    }

    /// The code.
    pub fn code(&self) -> Code {
        self.header.code
    }

    /// The message ID.
    pub fn message_id(&self) -> u16 {
        self.header.message_id
    }

    /// The token (0 to 8 bytes).
    pub fn token(&self) -> &'a [u8] {
        self.token
    }

    /// All options, in wire order (non-decreasing numbers, repeats in their order).
    pub fn options(&self) -> Options<'a> {
        Options {
            rest: self.options,
            prev: 0,
        }
    }

    /// The value of the first option numbered `n`, if any.
    pub fn option(&self, n: u16) -> Option<&'a [u8]> {
        self.options_of(n).next()
    }

    /// The values of every option numbered `n`, in order (e.g. the Uri-Path segments).
    pub fn options_of(&self, n: u16) -> impl Iterator<Item = &'a [u8]> + 'a {
        OptionsOf {
            options: self.options(),
            n,
        }
    }

    /// The first option numbered `n` read as a CoAP uint (big-endian, 0 to 4 bytes).
    ///
    /// `None` when the option is absent or longer than 4 bytes.
    pub fn option_uint(&self, n: u16) -> Option<u32> {
        decode_uint(self.option(n)?)
    }

    /// The payload (empty when there is none).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The number of the first critical option (odd number) for which `known` returns false.
    ///
    /// A request carrying one must be rejected with 4.02 Bad Option (a confirmable response
    /// with a RST).
    pub fn first_unknown_critical(&self, known: impl Fn(u16) -> bool) -> Option<u16> {
        self.options()
            .map(|o| o.number)
            .find(|&n| super::opt::is_critical(n) && !known(n))
    }
}

/// Iterator over the options of a parsed [`Message`], in wire order.
#[derive(Clone)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Options<'a> {
    rest: &'a [u8],
    prev: u16,
}

impl<'a> Iterator for Options<'a> {
    type Item = CoapOption<'a>;

    fn next(&mut self) -> Option<CoapOption<'a>> {
        // The bytes were validated by `Message::parse`; an error cannot occur here, and
        // would only end the iteration.
        match next_option(self.rest, self.prev) {
            Ok(Some((o, rest))) => {
                self.rest = rest;
                self.prev = o.number;
                Some(o)
            }
            _ => {
                self.rest = &[];
                None
            }
        }
    }
}

/// The values of the options numbered `n` (a plain loop: smaller than the adapters
/// `skip_while`, `take_while` and `map`).
struct OptionsOf<'a> {
    options: Options<'a>,
    n: u16,
}

impl<'a> Iterator for OptionsOf<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let o = self.options.next()?;
            if o.number == self.n {
                return Some(o.value);
            }
            if o.number > self.n {
                // Numbers do not decrease: no later option matches.
                self.options.rest = &[];
                return None;
            }
        }
    }
}

/// Reads a CoAP uint: big-endian, 0 to 4 bytes (zero bytes is 0). `None` when longer.
pub fn decode_uint(v: &[u8]) -> Option<u32> {
    if v.len() > 4 {
        return None;
    }
    Some(v.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}

/// Writes `v` as a CoAP uint of minimal length into `tmp` and returns the used part
/// (0 encodes as zero bytes).
pub fn encode_uint(v: u32, tmp: &mut [u8; 4]) -> &[u8] {
    *tmp = v.to_be_bytes();
    // leading_zeros is at most 32, so the index is at most 4.
    let skip = (v.leading_zeros() / 8) as usize;
    tmp.get(skip..).unwrap_or(&[])
}

/// Why a message could not be built.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum BuildError {
    /// The buffer is too small (or an option value is longer than CoAP can express).
    NoSpace,
    /// An option number is below the previous one, or an option follows the payload.
    OutOfOrder,
    /// The token is longer than 8 bytes.
    BadToken,
}

impl From<NoSpace> for BuildError {
    fn from(_: NoSpace) -> Self {
        BuildError::NoSpace
    }
}

/// Writes a CoAP message into a caller buffer: header and token first, then options in
/// non-decreasing number order, then the payload, then [`MessageBuilder::finish`].
///
/// A failed call writes nothing, so the caller may try something smaller (e.g. block-wise).
pub struct MessageBuilder<'b> {
    w: Writer<'b>,
    last_option: u16,
    /// Position of the payload marker once written, 0 before (the header comes first, so
    /// the marker is never at 0).
    marker_at: usize,
    /// The block of the payload this message carries (see [`MessageBuilder::block2`]).
    #[cfg(feature = "blockwise")]
    block: Option<super::Block>,
}

impl<'b> MessageBuilder<'b> {
    /// Starts a message in `buf` with its header and token.
    ///
    /// Fails with [`BuildError::BadToken`] when `token` is longer than 8 bytes and
    /// [`BuildError::NoSpace`] when `buf` cannot hold header and token.
    pub fn new(
        buf: &'b mut [u8],
        mtype: MsgType,
        code: Code,
        message_id: u16,
        token: &[u8],
    ) -> Result<Self, BuildError> {
        if token.len() > MAX_TOKEN {
            return Err(BuildError::BadToken);
        }
        let tkl = token.len() as u8;
        let mut w = Writer::new(buf);
        let [m0, m1] = message_id.to_be_bytes();
        w.put(&[(VERSION << 6) | ((mtype as u8) << 4) | tkl, code.0, m0, m1])?;
        w.put(token)?;
        Ok(MessageBuilder {
            w,
            last_option: 0,
            marker_at: 0,
            #[cfg(feature = "blockwise")]
            block: None,
        })
    }

    /// Bytes written so far.
    #[allow(clippy::len_without_is_empty)] // never empty: the header is written by `new`
    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.w.written()
    }

    /// Appends option `number` with `value`.
    ///
    /// Numbers must not decrease (the same number again adds a repeat) and no option may
    /// follow the payload: otherwise [`BuildError::OutOfOrder`]. Writes nothing on error.
    pub fn option(&mut self, number: u16, value: &[u8]) -> Result<(), BuildError> {
        let delta = match number.checked_sub(self.last_option) {
            Some(d) if self.marker_at == 0 => d,
            _ => return Err(BuildError::OutOfOrder),
        };
        if value.len() > MAX_OPTION_LEN {
            return Err(BuildError::NoSpace);
        }
        // At most 269 + 0xFFFF after the check above: the cast keeps the value.
        let len = value.len() as u32;
        // The delta and length nibbles, then the delta's and the length's 0-, 1- or 2-byte
        // extensions: together at most 4 bytes, the low ones of `ext`, big-endian.
        let (dn, dx, dl) = ext_form(u32::from(delta));
        let (ln, lx, ll) = ext_form(len);
        // `ll` is at most 2 and `dx` below 2^16: the shift keeps every bit.
        let ext = (dx << (8 * ll)) | lx;
        let ext = ext.to_be_bytes();
        let start = self.w.len();
        let res = self
            .w
            .put(&[(dn << 4) | ln])
            .and_then(|()| self.w.put(ext.get(4 - (dl + ll)..).unwrap_or(&[])))
            .and_then(|()| self.w.put(value));
        if res.is_err() {
            self.w.truncate(start);
            return Err(BuildError::NoSpace);
        }
        self.last_option = number;
        Ok(())
    }

    /// Appends option `number` holding `v` as a minimal-length CoAP uint.
    pub fn option_uint(&mut self, number: u16, v: u32) -> Result<(), BuildError> {
        let mut tmp = [0u8; 4];
        let value = encode_uint(v, &mut tmp);
        self.option(number, value)
    }

    /// Appends option `number` holding the UTF-8 bytes of `s`.
    pub fn option_str(&mut self, number: u16, s: &str) -> Result<(), BuildError> {
        self.option(number, s.as_bytes())
    }

    /// Writes the payload marker (the first time only) and returns the writer positioned
    /// after it, so an encoder can stream the payload into the buffer.
    ///
    /// A marker followed by nothing is removed by [`MessageBuilder::finish`]. To undo a partial
    /// payload, truncate the writer back to a length it had before.
    pub fn payload_writer(&mut self) -> Result<&mut Writer<'b>, BuildError> {
        if self.marker_at == 0 {
            #[cfg(feature = "blockwise")]
            if self.block.is_some() {
                // Filled in by `finish_block`, at fixed width (leading zeros are allowed).
                self.option(super::opt::BLOCK2, &[0; 3])?;
                // Size2 (delta 5, length 4) right after it.
                self.w.put(&[0x54, 0, 0, 0, 0])?;
                self.last_option = super::opt::SIZE2;
            }
            let at = self.w.len();
            self.w.put_u8(PAYLOAD_MARKER)?;
            self.marker_at = at;
            #[cfg(feature = "blockwise")]
            if let Some(block) = self.block {
                let offset = block.offset().ok_or(BuildError::NoSpace)?;
                self.w.window(offset, block.size())?;
            }
        }
        Ok(&mut self.w)
    }

    /// Makes the payload block `block` (its `more` is ignored) of a whole that the caller
    /// writes in full: the payload writer is windowed on the block, and
    /// [`MessageBuilder::finish_block`] adds Block2 and Size2 (RFC 7959).
    #[cfg(feature = "blockwise")]
    pub fn block2(&mut self, block: super::Block) {
        self.block = Some(block);
    }

    /// Ends a message like [`MessageBuilder::finish`]; with a payload made by
    /// [`MessageBuilder::block2`] it fills in Block2 (with the M bit) and Size2 (the whole
    /// payload's length). `None` when the block starts past the end of the payload (block 0
    /// of an empty one is there).
    // Not inlined: its frame would lie under every handler that builds a response.
    #[cfg(feature = "blockwise")]
    #[inline(never)]
    pub fn finish_block(mut self) -> Option<usize> {
        if let (Some(block), at @ 1..) = (self.block, self.marker_at) {
            let total = self.w.len().checked_sub(at.checked_add(1)?)?;
            let offset = block.offset()?;
            if offset >= total && block.num > 0 {
                return None;
            }
            let more = offset.saturating_add(block.size()) < total;
            // The two options just before the marker: Block2's 3-byte value, Size2's header
            // (delta 5, length 4) and Size2's 4-byte value.
            let v = (block.num << 4) | (u32::from(more) << 3) | u32::from(block.szx);
            let [_, b0, b1, b2] = v.to_be_bytes();
            let [s0, s1, s2, s3] = u32::try_from(total).unwrap_or(u32::MAX).to_be_bytes();
            self.w
                .patch(at.checked_sub(8)?, &[b0, b1, b2, 0x54, s0, s1, s2, s3]);
        }
        Some(self.finish())
    }

    /// The unused rest of the buffer, as scratch space while the response is being decided:
    /// nothing put there becomes part of the message.
    pub fn spare(&mut self) -> &mut [u8] {
        self.w.spare()
    }

    /// Appends `data` to the payload (writing the marker first if needed). Empty `data` writes
    /// nothing. On [`BuildError::NoSpace`] nothing is written, not even the marker.
    pub fn payload(&mut self, data: &[u8]) -> Result<(), BuildError> {
        if data.is_empty() {
            return Ok(());
        }
        let had_marker = self.marker_at != 0;
        let res = self.payload_writer()?.put(data);
        if res.is_err() && !had_marker {
            self.w.truncate(self.marker_at);
            self.marker_at = 0;
        }
        Ok(res?)
    }

    /// Ends the message and returns its length; a payload marker followed by no payload is
    /// dropped.
    pub fn finish(mut self) -> usize {
        let at = self.marker_at;
        if at != 0 && self.w.stored() <= at.saturating_add(1) {
            self.w.truncate(at);
        }
        self.w.stored()
    }
}

/// The nibble, extension value and extension length (0, 1 or 2 bytes) of an option delta or
/// length `v` (at most 269 + 0xFFFF).
#[inline(always)]
fn ext_form(v: u32) -> (u8, u32, usize) {
    match v {
        0..=12 => (v as u8, 0, 0),
        13..=268 => (13, v - 13, 1),
        _ => (14, v - 269, 2),
    }
}

/// Writes an empty message (code 0.00, no token): an empty ACK, a RST, or a CoAP ping (CON).
/// Returns its length (4).
pub fn empty(buf: &mut [u8], mtype: MsgType, mid: u16) -> Result<usize, BuildError> {
    MessageBuilder::new(buf, mtype, Code::EMPTY, mid, &[])?;
    Ok(HEADER_LEN)
}

#[cfg(test)]
mod tests {
    use super::super::{opt, Block};
    use super::*;

    /// Builds `m` again from its parsed fields.
    fn rebuild(m: &Message) -> Vec<u8> {
        let mut out = vec![0u8; m.as_bytes().len() + 16];
        let mut b =
            MessageBuilder::new(&mut out, m.mtype(), m.code(), m.message_id(), m.token()).unwrap();
        for o in m.options() {
            b.option(o.number, o.value).unwrap();
        }
        b.payload(m.payload()).unwrap();
        let n = b.finish();
        out.truncate(n);
        out
    }

    fn opts(m: &Message) -> Vec<(u16, Vec<u8>)> {
        m.options().map(|o| (o.number, o.value.to_vec())).collect()
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    // ---- fixtures -------------------------------------------------------------------------

    /// RFC 7252 figure 16: CON GET /temperature, MID 0x7d34, no token.
    #[test]
    fn rfc7252_get_without_token() {
        let bytes = cat(&[&[0x40, 0x01, 0x7d, 0x34, 0xBB], b"temperature"]);
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.mtype(), MsgType::Con);
        assert_eq!(m.code(), Code::GET);
        assert_eq!(m.message_id(), 0x7d34);
        assert_eq!(m.token(), b"");
        assert_eq!(opts(&m), vec![(opt::URI_PATH, b"temperature".to_vec())]);
        assert_eq!(m.payload(), b"");

        let mut buf = [0u8; 64];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 0x7d34, &[]).unwrap();
        b.option_str(opt::URI_PATH, "temperature").unwrap();
        let n = b.finish();
        assert_eq!(&buf[..n], &bytes[..]);
    }

    /// RFC 7252 figure 16: the piggybacked ACK 2.05 "22.3 C".
    #[test]
    fn rfc7252_piggybacked_response() {
        let bytes = cat(&[&[0x60, 0x45, 0x7d, 0x34, 0xFF], b"22.3 C"]);
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.mtype(), MsgType::Ack);
        assert_eq!(m.code(), Code::CONTENT);
        assert_eq!(m.message_id(), 0x7d34);
        assert_eq!(m.options().count(), 0);
        assert_eq!(m.payload(), b"22.3 C");

        let mut buf = [0u8; 64];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Ack, Code::CONTENT, 0x7d34, &[]).unwrap();
        b.payload(b"22.3 C").unwrap();
        let n = b.finish();
        assert_eq!(&buf[..n], &bytes[..]);
    }

    /// RFC 7252 figure 17: the same exchange with a one-byte token 0x20.
    #[test]
    fn rfc7252_with_token() {
        let req = cat(&[&[0x41, 0x01, 0x7d, 0x35, 0x20, 0xBB], b"temperature"]);
        let m = Message::parse(&req).unwrap();
        assert_eq!(m.token(), &[0x20]);
        assert_eq!(m.option(opt::URI_PATH), Some(&b"temperature"[..]));
        assert_eq!(rebuild(&m), req);

        let resp = cat(&[&[0x61, 0x45, 0x7d, 0x35, 0x20, 0xFF], b"22.5 C"]);
        let m = Message::parse(&resp).unwrap();
        assert_eq!(m.mtype(), MsgType::Ack);
        assert_eq!(m.token(), &[0x20]);
        assert_eq!(m.payload(), b"22.5 C");
        let mut buf = [0u8; 64];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Ack, Code::CONTENT, 0x7d35, &[0x20]).unwrap();
        b.payload(b"22.5 C").unwrap();
        let n = b.finish();
        assert_eq!(&buf[..n], &resp[..]);
    }

    /// An LwM2M Register: CON POST /rd?ep=node1&lt=300&b=U, link-format payload.
    #[test]
    fn lwm2m_register() {
        let bytes = cat(&[
            &[0x44, 0x02, 0x12, 0x34, 1, 2, 3, 4],
            &[0xB2],
            b"rd",
            &[0x11, 40],
            &[0x38],
            b"ep=node1",
            &[0x06],
            b"lt=300",
            &[0x03],
            b"b=U",
            &[0xFF],
            b"</1/0>,</3/0>",
        ]);
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.mtype(), MsgType::Con);
        assert_eq!(m.code(), Code::POST);
        assert_eq!(m.message_id(), 0x1234);
        assert_eq!(m.token(), &[1, 2, 3, 4]);
        assert_eq!(
            m.options_of(opt::URI_PATH).collect::<Vec<_>>(),
            vec![&b"rd"[..]]
        );
        assert_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(40));
        assert_eq!(
            m.options_of(opt::URI_QUERY).collect::<Vec<_>>(),
            vec![&b"ep=node1"[..], b"lt=300", b"b=U"]
        );
        assert_eq!(m.option(opt::URI_QUERY), Some(&b"ep=node1"[..]));
        assert_eq!(m.option(opt::OBSERVE), None);
        assert_eq!(m.payload(), b"</1/0>,</3/0>");

        let mut buf = [0u8; 128];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Con, Code::POST, 0x1234, &[1, 2, 3, 4]).unwrap();
        b.option_str(opt::URI_PATH, "rd").unwrap();
        b.option_uint(opt::CONTENT_FORMAT, 40).unwrap();
        b.option_str(opt::URI_QUERY, "ep=node1").unwrap();
        b.option_str(opt::URI_QUERY, "lt=300").unwrap();
        b.option_str(opt::URI_QUERY, "b=U").unwrap();
        b.payload_writer().unwrap().put(b"</1/0>,").unwrap();
        b.payload_writer().unwrap().put(b"</3/0>").unwrap();
        let n = b.finish();
        assert_eq!(&buf[..n], &bytes[..]);
    }

    /// A notification: ACK 2.05 with Observe (3-byte uint), Content-Format TLV (11542, a
    /// 2-byte uint), Block2 and a payload.
    #[test]
    fn notification_with_block2() {
        let bytes = cat(&[
            &[0x62, 0x45, 0xBE, 0xEF, 0xCA, 0xFE],
            &[0x63, 0x01, 0x02, 0x03], // Observe (6), 3 bytes
            &[0x62, 0x2D, 0x16],       // Content-Format (12), 11542
            &[0xB1, 0x0E],             // Block2 (23): num 0, more, 1024
            &[0xFF, 0x08, 0x00],
        ]);
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.option_uint(opt::OBSERVE), Some(0x010203));
        assert_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(11542));
        let b2 = Block::decode(m.option(opt::BLOCK2).unwrap()).unwrap();
        assert_eq!(
            b2,
            Block {
                num: 0,
                more: true,
                szx: 6
            }
        );
        assert_eq!(m.payload(), &[0x08, 0x00]);
        assert_eq!(rebuild(&m), bytes);

        let mut buf = [0u8; 64];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Ack, Code::CONTENT, 0xBEEF, &[0xCA, 0xFE])
                .unwrap();
        b.option_uint(opt::OBSERVE, 0x010203).unwrap();
        b.option_uint(opt::CONTENT_FORMAT, 11542).unwrap();
        let mut tmp = [0u8; 4];
        b.option(opt::BLOCK2, b2.encode(&mut tmp)).unwrap();
        b.payload(&[0x08, 0x00]).unwrap();
        let n = b.finish();
        assert_eq!(&buf[..n], &bytes[..]);
    }

    #[test]
    fn empty_messages() {
        for (t, first) in [
            (MsgType::Con, 0x40),
            (MsgType::Ack, 0x60),
            (MsgType::Rst, 0x70),
        ] {
            let mut buf = [0u8; 8];
            let n = empty(&mut buf, t, 0xA1B2).unwrap();
            assert_eq!(&buf[..n], &[first, 0x00, 0xA1, 0xB2]);
            let m = Message::parse(&buf[..n]).unwrap();
            assert_eq!(m.mtype(), t);
            assert!(m.code().is_empty());
            assert_eq!(m.message_id(), 0xA1B2);
            assert_eq!(m.token(), b"");
            assert_eq!(m.options().count(), 0);
            assert_eq!(m.payload(), b"");
        }
        assert_eq!(
            empty(&mut [0u8; 3], MsgType::Ack, 1),
            Err(BuildError::NoSpace)
        );
    }

    #[test]
    fn peek_header_reads_four_bytes_only() {
        // A CON whose options are broken still yields its header, so it can get a RST.
        let h = peek_header(&[0x42, 0x01, 0x00, 0x07, 0xAA, 0xBB, 0xF1]).unwrap();
        assert_eq!(
            h,
            Header {
                mtype: MsgType::Con,
                tkl: 2,
                code: Code::GET,
                message_id: 7
            }
        );
        assert_eq!(
            Message::parse(&[0x42, 0x01, 0x00, 0x07, 0xAA, 0xBB, 0xF1]).unwrap_err(),
            ParseError::BadOption
        );
        // Token length 15 is reported as read.
        assert_eq!(peek_header(&[0x5F, 0x45, 0xFF, 0xFF]).unwrap().tkl, 15);
        assert_eq!(peek_header(&[0x40, 0x01, 0x00]), None);
        assert_eq!(peek_header(&[]), None);
        assert_eq!(peek_header(&[0x80, 0x01, 0x00, 0x00]), None);
        assert_eq!(peek_header(&[0x00, 0x01, 0x00, 0x00]), None);
    }

    // ---- option encodings -----------------------------------------------------------------

    /// Expected option header bytes for a delta or length.
    fn ext_bytes(v: usize) -> (u8, Vec<u8>) {
        match v {
            0..=12 => (v as u8, vec![]),
            13..=268 => (13, vec![(v - 13) as u8]),
            _ => (14, ((v - 269) as u16).to_be_bytes().to_vec()),
        }
    }

    #[test]
    fn extended_delta_forms_round_trip() {
        for number in [
            0u16, 1, 11, 12, 13, 14, 60, 267, 268, 269, 270, 1000, 2048, 65000, 65534, 65535,
        ] {
            let mut buf = vec![0u8; 64];
            let mut b = MessageBuilder::new(&mut buf, MsgType::Non, Code::PUT, 9, &[7]).unwrap();
            b.option(number, b"xy").unwrap();
            let n = b.finish();
            let (nib, ext) = ext_bytes(usize::from(number));
            let expect = cat(&[&[0x51, 0x03, 0x00, 0x09, 0x07, (nib << 4) | 2], &ext, b"xy"]);
            assert_eq!(&buf[..n], &expect[..], "number {number}");
            let m = Message::parse(&buf[..n]).unwrap();
            assert_eq!(opts(&m), vec![(number, b"xy".to_vec())], "number {number}");
        }
    }

    #[test]
    fn extended_length_forms_round_trip() {
        for len in [
            0usize, 1, 12, 13, 14, 255, 267, 268, 269, 270, 1000, 65535, 65804,
        ] {
            let value: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut buf = vec![0u8; len + 16];
            let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::POST, 1, &[]).unwrap();
            b.option(opt::ETAG, &value).unwrap();
            let n = b.finish();
            let (nib, ext) = ext_bytes(len);
            assert_eq!(buf[4], 0x40 | nib, "len {len}");
            assert_eq!(&buf[5..5 + ext.len()], &ext[..], "len {len}");
            assert_eq!(n, 5 + ext.len() + len);
            let m = Message::parse(&buf[..n]).unwrap();
            assert_eq!(m.option(opt::ETAG), Some(&value[..]), "len {len}");
            assert_eq!(rebuild(&m), &buf[..n]);
        }
    }

    #[test]
    fn option_value_longer_than_coap_allows() {
        let value = vec![0u8; 65805];
        let mut buf = vec![0u8; 70000];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::POST, 1, &[]).unwrap();
        assert_eq!(b.option(opt::ETAG, &value), Err(BuildError::NoSpace));
        assert_eq!(b.len(), 4);
    }

    #[test]
    fn deltas_between_options() {
        // Pairs of consecutive options whose deltas hit every form.
        let numbers = [0u16, 12, 25, 293, 294, 562, 1000, 65535];
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut buf,
            MsgType::Con,
            Code::GET,
            2,
            &[1, 2, 3, 4, 5, 6, 7, 8],
        )
        .unwrap();
        for (i, &n) in numbers.iter().enumerate() {
            b.option(n, &[i as u8]).unwrap();
        }
        let n = b.finish();
        let m = Message::parse(&buf[..n]).unwrap();
        let got: Vec<_> = opts(&m);
        let want: Vec<_> = numbers
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, vec![i as u8]))
            .collect();
        assert_eq!(got, want);
        assert_eq!(m.token(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(rebuild(&m), &buf[..n]);
    }

    #[test]
    fn options_out_of_order_are_refused() {
        let mut buf = [0u8; 64];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 2, &[]).unwrap();
        b.option_str(opt::URI_PATH, "a").unwrap();
        let before = b.len();
        assert_eq!(b.option_uint(opt::OBSERVE, 0), Err(BuildError::OutOfOrder));
        assert_eq!(
            b.option_str(opt::URI_HOST, "h"),
            Err(BuildError::OutOfOrder)
        );
        assert_eq!(b.len(), before);
        // The same number again is a repeat, a higher one is fine.
        b.option_str(opt::URI_PATH, "b").unwrap();
        b.option_uint(opt::CONTENT_FORMAT, 0).unwrap();
        // Nothing may follow the payload.
        b.payload(b"p").unwrap();
        assert_eq!(b.option_uint(opt::ACCEPT, 0), Err(BuildError::OutOfOrder));
        let n = b.finish();
        let m = Message::parse(&buf[..n]).unwrap();
        assert_eq!(
            m.options_of(opt::URI_PATH).collect::<Vec<_>>(),
            vec![&b"a"[..], b"b"]
        );
        assert_eq!(m.option(opt::CONTENT_FORMAT), Some(&[][..]));
        assert_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(0));
        assert_eq!(m.payload(), b"p");
    }

    #[test]
    fn repeatable_options_come_back_in_order() {
        let segs = ["3", "0", "15", "", "a-long-segment-over-thirteen"];
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 3, &[]).unwrap();
        b.option_uint(opt::OBSERVE, 0).unwrap();
        for s in segs {
            b.option_str(opt::URI_PATH, s).unwrap();
        }
        b.option_uint(opt::ACCEPT, 11542).unwrap();
        let n = b.finish();
        let m = Message::parse(&buf[..n]).unwrap();
        let got: Vec<&[u8]> = m.options_of(opt::URI_PATH).collect();
        let want: Vec<&[u8]> = segs.iter().map(|s| s.as_bytes()).collect();
        assert_eq!(got, want);
        assert_eq!(m.option(opt::URI_PATH), Some(&b"3"[..]));
        assert_eq!(m.option_uint(opt::OBSERVE), Some(0));
        assert_eq!(m.option_uint(opt::ACCEPT), Some(11542));
        assert_eq!(m.options_of(opt::URI_QUERY).count(), 0);
    }

    #[test]
    fn option_uint_too_long_is_none() {
        let bytes = [0x40, 0x01, 0x00, 0x01, 0x65, 1, 2, 3, 4, 5];
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.option(opt::OBSERVE), Some(&[1, 2, 3, 4, 5][..]));
        assert_eq!(m.option_uint(opt::OBSERVE), None);
        assert_eq!(m.option_uint(opt::ACCEPT), None);
    }

    #[test]
    fn unknown_critical_options() {
        let mut buf = [0u8; 64];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 4, &[]).unwrap();
        b.option_uint(opt::OBSERVE, 0).unwrap(); // elective
        b.option_str(opt::URI_PATH, "3").unwrap(); // critical, known
        b.option_uint(opt::CONTENT_FORMAT, 0).unwrap(); // elective
        b.option(opt::BLOCK1, &[0x06]).unwrap(); // critical
        b.option(2049, &[]).unwrap(); // critical, unknown
        let n = b.finish();
        let m = Message::parse(&buf[..n]).unwrap();
        assert_eq!(
            m.first_unknown_critical(|n| n == opt::URI_PATH),
            Some(opt::BLOCK1)
        );
        assert_eq!(
            m.first_unknown_critical(|n| n == opt::URI_PATH || n == opt::BLOCK1),
            Some(2049)
        );
        assert_eq!(m.first_unknown_critical(|_| true), None);
        // Elective options never count.
        let m = Message::parse(&[0x40, 0x01, 0, 0, 0x60, 0xE0, 0x00, 0x01]).unwrap();
        assert_eq!(m.option(6 + 270), Some(&[][..]));
        assert_eq!(m.first_unknown_critical(|_| false), None);
    }

    #[test]
    fn uint_codec() {
        let cases: [(u32, &[u8]); 8] = [
            (0, &[]),
            (1, &[1]),
            (255, &[0xFF]),
            (256, &[1, 0]),
            (65535, &[0xFF, 0xFF]),
            (65536, &[1, 0, 0]),
            (0x0100_0000, &[1, 0, 0, 0]),
            (u32::MAX, &[0xFF, 0xFF, 0xFF, 0xFF]),
        ];
        for (v, bytes) in cases {
            let mut tmp = [0u8; 4];
            assert_eq!(encode_uint(v, &mut tmp), bytes);
            assert_eq!(decode_uint(bytes), Some(v));
        }
        // Leading zeros are accepted on input.
        assert_eq!(decode_uint(&[0, 0, 0, 5]), Some(5));
        assert_eq!(decode_uint(&[0, 0, 0, 0, 5]), None);
    }

    // ---- builder --------------------------------------------------------------------------

    #[test]
    fn builder_token_too_long() {
        let mut buf = [0u8; 64];
        assert!(matches!(
            MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[0; 9]),
            Err(BuildError::BadToken)
        ));
        assert!(MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[0; 8]).is_ok());
    }

    #[test]
    fn builder_no_space_writes_nothing() {
        let mut small = [0u8; 5];
        assert!(matches!(
            MessageBuilder::new(&mut small, MsgType::Con, Code::GET, 1, &[1, 2]),
            Err(BuildError::NoSpace)
        ));
        let mut buf = [0u8; 12];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[1, 2]).unwrap();
        assert_eq!(
            b.option_str(opt::URI_PATH, "too-long"),
            Err(BuildError::NoSpace)
        );
        assert_eq!(b.len(), 6);
        b.option_str(opt::URI_PATH, "ok").unwrap();
        assert_eq!(b.len(), 9);
        // 3 bytes left: marker + 2, so a 3-byte payload does not fit and leaves no trace.
        assert_eq!(b.payload(b"abc"), Err(BuildError::NoSpace));
        assert_eq!(b.len(), 9);
        // Options may still follow, since no payload was started.
        b.option(opt::URI_PATH, b"").unwrap();
        assert_eq!(b.len(), 10);
        assert_eq!(b.payload(b"abc"), Err(BuildError::NoSpace));
        assert_eq!(b.payload(b"a"), Ok(()));
        assert_eq!(b.payload(b"c"), Err(BuildError::NoSpace));
        assert_eq!(b.finish(), 12);
    }

    /// Builds block `num` (of `16 << szx` bytes) of a `total`-byte payload written in
    /// 7-byte pieces after a Content-Format; returns the message.
    #[cfg(feature = "blockwise")]
    fn block_message(num: u32, szx: u8, total: usize) -> Option<Vec<u8>> {
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Ack, Code::CONTENT, 9, &[1, 2]).unwrap();
        b.block2(Block::new(num, true, szx).unwrap());
        b.option_uint(opt::CONTENT_FORMAT, 42).unwrap();
        let w = b.payload_writer().unwrap();
        let data: Vec<u8> = (0..total).map(|i| i as u8).collect();
        for piece in data.chunks(7) {
            w.put(piece).unwrap();
        }
        let n = b.finish_block()?;
        Some(buf[..n].to_vec())
    }

    #[cfg(feature = "blockwise")]
    #[test]
    fn block2_message_carries_its_block_with_block2_and_size2() {
        for total in [0usize, 1, 16, 40, 100] {
            for szx in 0..=2u8 {
                let size = 16usize << szx;
                let blocks = total.div_ceil(size).max(1) as u32;
                for num in 0..blocks + 1 {
                    let Some(bytes) = block_message(num, szx, total) else {
                        assert!(num >= blocks, "block {num} of {blocks} is there");
                        continue;
                    };
                    assert!(num < blocks, "block {num} of {blocks} past the end");
                    let m = Message::parse(&bytes).unwrap();
                    let start = num as usize * size;
                    let end = (start + size).min(total);
                    let want: Vec<u8> = (start..end).map(|i| i as u8).collect();
                    assert_eq!(m.payload(), &want[..]);
                    let more = end < total;
                    let block = Block::decode(m.option(opt::BLOCK2).unwrap()).unwrap();
                    assert_eq!(block, Block::new(num, more, szx).unwrap());
                    assert_eq!(m.option_uint(opt::SIZE2), Some(total as u32));
                    assert_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(42));
                }
            }
        }
    }

    #[test]
    fn finish_drops_a_lonely_marker() {
        let mut buf = [0u8; 16];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Non, Code::CHANGED, 5, &[]).unwrap();
        let w = b.payload_writer().unwrap();
        assert_eq!(w.len(), 5);
        assert_eq!(b.len(), 5);
        assert_eq!(b.finish(), 4);
        assert_eq!(&buf[..4], &[0x50, 0x44, 0x00, 0x05]);

        // A payload that an encoder started and then rolled back also loses its marker.
        let mut buf = [0u8; 16];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Non, Code::CHANGED, 5, &[]).unwrap();
        let w = b.payload_writer().unwrap();
        let mark = w.len();
        w.put(b"partial").unwrap();
        w.truncate(mark);
        assert_eq!(b.finish(), 4);

        // An empty payload() writes nothing at all.
        let mut buf = [0u8; 16];
        let mut b = MessageBuilder::new(&mut buf, MsgType::Non, Code::CHANGED, 5, &[]).unwrap();
        b.payload(b"").unwrap();
        assert_eq!(b.as_bytes(), &[0x50, 0x44, 0x00, 0x05]);
        b.option_uint(opt::CONTENT_FORMAT, 0).unwrap();
        assert_eq!(b.finish(), 5);
    }

    // ---- malformed input ------------------------------------------------------------------

    #[test]
    fn reject_truncated_header() {
        for len in 0..4 {
            let bytes = [0x40, 0x01, 0x00, 0x00];
            assert_eq!(
                Message::parse(&bytes[..len]).unwrap_err(),
                ParseError::Truncated,
                "len {len}"
            );
        }
    }

    #[test]
    fn reject_bad_version() {
        for b0 in [0x00, 0x80, 0xC0, 0x10, 0xA1] {
            assert_eq!(
                Message::parse(&[b0, 0x01, 0x00, 0x00]).unwrap_err(),
                ParseError::BadVersion,
                "{b0:#x}"
            );
        }
    }

    #[test]
    fn reject_token_length_9_to_15() {
        for tkl in 9u8..=15 {
            let mut bytes = vec![0x40 | tkl, 0x01, 0x00, 0x00];
            bytes.extend_from_slice(&[0xAA; 15]);
            assert_eq!(
                Message::parse(&bytes).unwrap_err(),
                ParseError::BadTokenLength,
                "tkl {tkl}"
            );
        }
    }

    #[test]
    fn reject_token_longer_than_message() {
        assert_eq!(
            Message::parse(&[0x48, 0x01, 0, 0, 1, 2, 3, 4, 5, 6, 7]).unwrap_err(),
            ParseError::Truncated
        );
        assert_eq!(
            Message::parse(&[0x41, 0x45, 0, 0]).unwrap_err(),
            ParseError::Truncated
        );
    }

    #[test]
    fn reject_option_delta_nibble_15() {
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xF0]).unwrap_err(),
            ParseError::BadOption
        );
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xF1, 0x00]).unwrap_err(),
            ParseError::BadOption
        );
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xB1, b'a', 0xFE, 0, 0]).unwrap_err(),
            ParseError::BadOption
        );
    }

    #[test]
    fn reject_option_length_nibble_15() {
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0x0F, 0, 0]).unwrap_err(),
            ParseError::BadOption
        );
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xBF]).unwrap_err(),
            ParseError::BadOption
        );
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xDF, 0x00]).unwrap_err(),
            ParseError::BadOption
        );
    }

    #[test]
    fn reject_option_value_past_the_end() {
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xB5, b'a', b'b']).unwrap_err(),
            ParseError::Truncated
        );
        // Extended length 13 + 2 = 15 bytes announced, 3 present.
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xBD, 0x02, 1, 2, 3]).unwrap_err(),
            ParseError::Truncated
        );
        // Extended length 269 + 0 announced, 1 present.
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0x4E, 0x00, 0x00, 1]).unwrap_err(),
            ParseError::Truncated
        );
        // A value that swallows what would be the payload marker still runs past the end.
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0x43, 0xFF, 1]).unwrap_err(),
            ParseError::Truncated
        );
    }

    #[test]
    fn reject_extended_bytes_missing() {
        // Delta 13 form, its byte missing.
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xD0]).unwrap_err(),
            ParseError::Truncated
        );
        // Delta 14 form, one of two bytes present.
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xE0, 0x01]).unwrap_err(),
            ParseError::Truncated
        );
        // Length 13 form, its byte missing.
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0x0D]).unwrap_err(),
            ParseError::Truncated
        );
        // Delta 14 present, length 14 missing a byte.
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xEE, 0x00, 0x00, 0x00]).unwrap_err(),
            ParseError::Truncated
        );
    }

    #[test]
    fn reject_option_number_beyond_65535() {
        // One delta of 269 + 65535.
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xE0, 0xFF, 0xFF]).unwrap_err(),
            ParseError::BadOption
        );
        // 65535 (269 + 0xFEF2) is fine...
        let ok = [0x40, 0x01, 0, 0, 0xE0, 0xFE, 0xF2];
        assert_eq!(Message::parse(&ok).unwrap().option(65535), Some(&[][..]));
        // ...then one more.
        let bad = [0x40, 0x01, 0, 0, 0xE0, 0xFE, 0xF2, 0x10];
        assert_eq!(Message::parse(&bad).unwrap_err(), ParseError::BadOption);
        // 65535 again (delta 0) is a repeat, allowed.
        let rep = [0x40, 0x01, 0, 0, 0xE0, 0xFE, 0xF2, 0x00];
        assert_eq!(Message::parse(&rep).unwrap().options_of(65535).count(), 2);
    }

    #[test]
    fn reject_payload_marker_without_payload() {
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xFF]).unwrap_err(),
            ParseError::EmptyPayload
        );
        assert_eq!(
            Message::parse(&[0x41, 0x45, 0, 0, 9, 0xFF]).unwrap_err(),
            ParseError::EmptyPayload
        );
        assert_eq!(
            Message::parse(&[0x40, 0x01, 0, 0, 0xB1, b'x', 0xFF]).unwrap_err(),
            ParseError::EmptyPayload
        );
    }

    #[test]
    fn reject_empty_message_with_token() {
        assert_eq!(
            Message::parse(&[0x41, 0x00, 0, 0, 0xAA]).unwrap_err(),
            ParseError::BadTokenLength
        );
        // Even when the token is missing too.
        assert_eq!(
            Message::parse(&[0x62, 0x00, 0, 0]).unwrap_err(),
            ParseError::BadTokenLength
        );
    }

    #[test]
    fn reject_empty_message_with_options_or_payload() {
        assert_eq!(
            Message::parse(&[0x60, 0x00, 0, 0, 0xB1, b'a']).unwrap_err(),
            ParseError::BadOption
        );
        assert_eq!(
            Message::parse(&[0x70, 0x00, 0, 0, 0xFF, 1]).unwrap_err(),
            ParseError::BadOption
        );
        assert_eq!(
            Message::parse(&[0x40, 0x00, 0, 0, 0xFF]).unwrap_err(),
            ParseError::BadOption
        );
    }

    // ---- cross-check against an independent codec -----------------------------------------

    struct Spec {
        mtype: MsgType,
        code: Code,
        mid: u16,
        token: Vec<u8>,
        options: Vec<(u16, Vec<u8>)>,
        payload: Vec<u8>,
    }

    fn lite_type(t: MsgType) -> coap_lite::MessageType {
        match t {
            MsgType::Con => coap_lite::MessageType::Confirmable,
            MsgType::Non => coap_lite::MessageType::NonConfirmable,
            MsgType::Ack => coap_lite::MessageType::Acknowledgement,
            MsgType::Rst => coap_lite::MessageType::Reset,
        }
    }

    fn encode_lite(s: &Spec) -> Vec<u8> {
        let mut p = coap_lite::Packet::new();
        p.header.set_type(lite_type(s.mtype));
        p.header.code = coap_lite::MessageClass::from(s.code.0);
        p.header.message_id = s.mid;
        p.set_token(s.token.clone());
        for (n, v) in &s.options {
            p.add_option(coap_lite::CoapOption::from(*n), v.clone());
        }
        p.payload = s.payload.clone();
        p.to_bytes().unwrap()
    }

    fn encode_ours(s: &Spec) -> Vec<u8> {
        let mut buf = vec![0u8; 2048];
        let mut b = MessageBuilder::new(&mut buf, s.mtype, s.code, s.mid, &s.token).unwrap();
        for (n, v) in &s.options {
            b.option(*n, v).unwrap();
        }
        b.payload(&s.payload).unwrap();
        let n = b.finish();
        buf.truncate(n);
        buf
    }

    fn specs() -> Vec<Spec> {
        let s = |mtype, code, mid, token: &[u8], options: &[(u16, &[u8])], payload: &[u8]| Spec {
            mtype,
            code,
            mid,
            token: token.to_vec(),
            options: options.iter().map(|(n, v)| (*n, v.to_vec())).collect(),
            payload: payload.to_vec(),
        };
        let long = vec![b'x'; 300];
        let mid_len = vec![b'y'; 200];
        vec![
            s(
                MsgType::Con,
                Code::GET,
                1,
                &[],
                &[(opt::URI_PATH, b"temperature")],
                b"",
            ),
            s(MsgType::Ack, Code::CONTENT, 2, &[0x20], &[], b"22.5 C"),
            s(MsgType::Ack, Code::EMPTY, 3, &[], &[], b""),
            s(MsgType::Rst, Code::EMPTY, 0xFFFF, &[], &[], b""),
            s(
                MsgType::Con,
                Code::POST,
                0x1234,
                &[1, 2, 3, 4, 5, 6, 7, 8],
                &[
                    (opt::URI_PATH, b"rd"),
                    (opt::CONTENT_FORMAT, &[40]),
                    (opt::URI_QUERY, b"ep=node"),
                    (opt::URI_QUERY, b"lt=86400"),
                ],
                b"</1/0>,</3/0>,</5>",
            ),
            s(
                MsgType::Non,
                Code::CONTENT,
                77,
                &[9, 9],
                &[
                    (opt::OBSERVE, &[0x01, 0x00, 0x00]),
                    (opt::CONTENT_FORMAT, &[0x2D, 0x16]),
                ],
                &[0xC8, 0x00, 0x05],
            ),
            s(
                MsgType::Con,
                Code::PUT,
                5,
                &[1],
                &[
                    (opt::URI_PATH, b"3"),
                    (opt::URI_PATH, b"0"),
                    (opt::URI_PATH, b"1"),
                ],
                b"hello",
            ),
            s(MsgType::Con, Code::new(4, 2), 6, &[2], &[], b""),
            s(
                MsgType::Ack,
                Code::CONTINUE,
                7,
                &[3],
                &[(opt::BLOCK1, &[0x0E])],
                b"",
            ),
            s(
                MsgType::Con,
                Code::FETCH,
                8,
                &[4, 4, 4],
                &[(opt::ETAG, &long), (opt::SIZE1, &[0x04, 0x00])],
                b"{}",
            ),
            s(
                MsgType::Non,
                Code::IPATCH,
                9,
                &[],
                &[
                    (opt::PROXY_URI, &mid_len),
                    (opt::NO_RESPONSE, &[26]),
                    (2000, b"z"),
                    (65000, &[]),
                ],
                b"!",
            ),
            s(
                MsgType::Con,
                Code::new(7, 31),
                10,
                &[5],
                &[
                    (opt::IF_MATCH, b""),
                    (opt::IF_MATCH, b"abcd"),
                    (opt::IF_NONE_MATCH, b""),
                ],
                &long,
            ),
            s(
                MsgType::Ack,
                Code::SERVICE_UNAVAILABLE,
                11,
                &[0xFF; 8],
                &[(opt::MAX_AGE, &[0x3C])],
                b"later",
            ),
        ]
    }

    #[test]
    fn cross_check_with_coap_lite() {
        for (i, s) in specs().iter().enumerate() {
            // Theirs encoded, ours parsed.
            let theirs = encode_lite(s);
            let m = Message::parse(&theirs).unwrap_or_else(|e| panic!("spec {i}: {e:?}"));
            assert_eq!(m.mtype(), s.mtype, "spec {i}");
            assert_eq!(m.code(), s.code, "spec {i}");
            assert_eq!(m.message_id(), s.mid, "spec {i}");
            assert_eq!(m.token(), &s.token[..], "spec {i}");
            assert_eq!(opts(&m), s.options, "spec {i}");
            assert_eq!(m.payload(), &s.payload[..], "spec {i}");

            // Ours encoded, theirs parsed.
            let ours = encode_ours(s);
            let p =
                coap_lite::Packet::from_bytes(&ours).unwrap_or_else(|e| panic!("spec {i}: {e:?}"));
            assert_eq!(p.header.get_version(), 1, "spec {i}");
            assert_eq!(p.header.get_type(), lite_type(s.mtype), "spec {i}");
            assert_eq!(u8::from(p.header.code), s.code.0, "spec {i}");
            assert_eq!(p.header.message_id, s.mid, "spec {i}");
            assert_eq!(p.get_token(), &s.token[..], "spec {i}");
            let their_opts: Vec<(u16, Vec<u8>)> = p
                .options()
                .flat_map(|(n, vs)| vs.iter().map(move |v| (*n, v.clone())))
                .collect();
            assert_eq!(their_opts, s.options, "spec {i}");
            assert_eq!(p.payload, s.payload, "spec {i}");

            // Both encoders are canonical, so the bytes agree too.
            assert_eq!(ours, theirs, "spec {i}");
        }
    }

    // ---- property-style -------------------------------------------------------------------

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn byte(&mut self) -> u8 {
            // Favour the bytes that sit on format boundaries.
            const SPECIAL: [u8; 12] = [
                0x00, 0x0C, 0x0D, 0x0E, 0x0F, 0xC0, 0xD0, 0xE0, 0xF0, 0xFF, 0x40, 0x41,
            ];
            if self.below(4) == 0 {
                SPECIAL[self.below(SPECIAL.len())]
            } else {
                self.next() as u8
            }
        }
    }

    /// Parses `bytes`, walks every accessor, and when the parse succeeds checks that
    /// rebuilding the message gives the same bytes.
    fn check(bytes: &[u8]) -> bool {
        let header = peek_header(bytes);
        let Ok(m) = Message::parse(bytes) else {
            return false;
        };
        assert_eq!(header, Some(m.header()));
        let _ = (m.mtype(), m.code(), m.message_id(), m.token(), m.payload());
        let mut prev = 0u16;
        let mut count = 0usize;
        for o in m.options() {
            assert!(o.number >= prev);
            prev = o.number;
            count += 1;
            assert!(m.option(o.number).is_some());
            let _ = m.option_uint(o.number);
            let _ = m.options_of(o.number).count();
            if o.number == opt::BLOCK1 || o.number == opt::BLOCK2 {
                if let Some(b) = Block::decode(o.value) {
                    let _ = (b.size(), b.offset());
                }
            }
        }
        let _ = m.first_unknown_critical(|n| n == opt::URI_PATH);
        assert_eq!(m.options().count(), count);
        assert_eq!(rebuild(&m), bytes);
        true
    }

    #[test]
    fn random_inputs_never_panic_and_round_trip() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut parsed = 0;
        for _ in 0..100_000 {
            let len = rng.below(40);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
            // Most inputs get a valid version and a small token length so that the options
            // parser is reached.
            if let Some(b0) = bytes.first_mut() {
                if rng.below(8) != 0 {
                    *b0 = 0x40 | (*b0 & 0x30) | (rng.below(5) as u8);
                }
            }
            if check(&bytes) {
                parsed += 1;
            }
        }
        // The generator is meant to reach valid messages often.
        assert!(parsed > 10_000, "only {parsed} parsed");
    }

    #[test]
    fn mutated_messages_never_panic_and_round_trip() {
        let seeds: Vec<Vec<u8>> = specs().iter().map(encode_ours).collect();
        let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
        let mut parsed = 0;
        for _ in 0..100_000 {
            let mut bytes = seeds[rng.below(seeds.len())].clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(5) {
                    0 if at < bytes.len() => bytes[at] = rng.byte(),
                    1 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
                    2 => bytes.insert(at, rng.byte()),
                    3 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.truncate(at),
                }
            }
            if check(&bytes) {
                parsed += 1;
            }
        }
        assert!(parsed > 1_000, "only {parsed} parsed");
    }
}
