//! OMA TLV (content format 11542, [`super::content_format::TLV`]; LwM2M Core 1.1, 7.4.3).
//!
//! Each entry is a type byte, an 8- or 16-bit id, a length of 0 to 3 bytes and the value:
//!
//! ```text
//! type byte: bits 7-6 kind (00 object instance, 01 resource instance,
//!                           10 multiple resource, 11 resource with value)
//!            bit 5    id is 16 bits (else 8)
//!            bits 4-3 length field size: 0 (length in bits 2-0), 1, 2 or 3 bytes
//!            bits 2-0 the length when bits 4-3 are 00
//! ```
//!
//! Both directions stream: [`TlvEncoder`] writes entries straight into a [`Writer`] and fixes
//! container headers up when they close; [`TlvIter`] walks a borrowed slice one level at a
//! time, and a container's value is read with a nested `TlvIter`. Nothing is built in RAM.

use crate::buf::Writer;
use crate::formats::FormatError;
use crate::model::{ResourceType, Value};

/// The kind of a TLV entry (bits 7-6 of its type byte).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
#[repr(u8)]
pub enum TlvKind {
    /// An object instance: a container of resources.
    ObjectInstance = 0,
    /// One instance of a multiple resource, with its value.
    ResourceInstance = 1,
    /// A multiple resource: a container of resource instances.
    MultipleResource = 2,
    /// A single resource, with its value.
    Resource = 3,
}

impl TlvKind {
    fn from_type_byte(b: u8) -> TlvKind {
        match b >> 6 {
            0 => TlvKind::ObjectInstance,
            1 => TlvKind::ResourceInstance,
            2 => TlvKind::MultipleResource,
            _ => TlvKind::Resource,
        }
    }

    /// True for the kinds whose value is a list of TLV entries.
    pub fn is_container(self) -> bool {
        matches!(self, TlvKind::ObjectInstance | TlvKind::MultipleResource)
    }
}

/// Largest value length a TLV header can carry (24 bits).
pub const MAX_LEN: usize = 0xFF_FFFF;

/// Container levels the encoder can hold open: an object instance holding a multiple
/// resource.
pub const MAX_NESTING: usize = 2;

/// Bytes of a header with a 3-byte length: type, id, length.
fn reserved_header_len(id: u16) -> usize {
    if id > 0xFF {
        6
    } else {
        5
    }
}

/// Writes the minimal header for an entry at the end of `out` (with `fixed`, the header with
/// a 3-byte length whatever the length); returns it.
fn header(
    kind: TlvKind,
    id: u16,
    len: usize,
    fixed: bool,
    out: &mut [u8; 6],
) -> Result<&[u8], FormatError> {
    if len > MAX_LEN {
        return Err(FormatError::OutOfRange);
    }
    let wide = id > 0xFF;
    // Length field size in bytes: 0 (in the type byte), 1, 2 or 3.
    let (len_len, short) = if fixed {
        (3, 0)
    } else if len < 8 {
        (0, len as u8)
    } else {
        ((usize::BITS - len.leading_zeros()).div_ceil(8) as usize, 0)
    };
    let t = ((kind as u8) << 6) | (u8::from(wide) << 5) | ((len_len as u8) << 3) | short;
    // Backwards from the end: the length's bytes, the id's, the type byte (big-endian).
    let mut at = out.len();
    let mut push = |b: u8| {
        at = at.wrapping_sub(1);
        if let Some(slot) = out.get_mut(at) {
            *slot = b;
        }
    };
    for i in 0..len_len {
        push((len >> (8 * i)) as u8);
    }
    push(id as u8);
    if wide {
        push((id >> 8) as u8);
    }
    push(t);
    Ok(out.get(at..).unwrap_or(&[]))
}

#[derive(Clone, Copy)]
struct Open {
    /// Where the container's header starts.
    start: usize,
    kind: TlvKind,
    id: u16,
}

const CLOSED: Open = Open {
    start: 0,
    kind: TlvKind::Resource,
    id: 0,
};

/// A position in a [`TlvEncoder`]'s output, from [`TlvEncoder::mark`].
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct TlvMark {
    len: usize,
    depth: usize,
}

/// Streams TLV entries into a [`Writer`].
///
/// Containers are opened with [`begin`](Self::begin) and closed with [`end`](Self::end):
/// `begin` writes a header with room for a 3-byte length, the children follow it, and `end`
/// writes the real, minimal header and moves the children down to meet it, so the output is
/// exactly what a two-pass encoder would produce.
///
/// Placement is checked as the spec requires: an object instance only at the top level, a
/// multiple resource at the top level or in an object instance, a resource instance in a
/// multiple resource (or alone at the top level, as the answer to a read of one resource
/// instance), a resource at the top level or in an object instance. A misplaced entry gives
/// [`FormatError::Malformed`] and writes nothing.
///
/// While a container is open its header takes 3 bytes more than it will in the end, so the
/// writer needs up to 6 bytes of room beyond the final output (two open levels).
///
/// Into a windowed writer (block-wise transfer) containers keep the header with a 3-byte
/// length (valid TLV), so that the byte stream is the same whichever block is stored: `end`
/// writes the length into the stored part of the header only and moves nothing.
///
/// On any error (in particular [`FormatError::NoSpace`]) the writer may hold a partial entry
/// and open containers stay unfinished: the caller truncates the writer back to its length
/// before the encoding started (or before the failed entry, if it wants to resume after
/// making room) and does not use the encoder's output as it stands.
pub struct TlvEncoder<'w, 'b> {
    w: &'w mut Writer<'b>,
    open: [Open; MAX_NESTING],
    depth: usize,
}

impl<'w, 'b> TlvEncoder<'w, 'b> {
    /// An encoder appending to `w`.
    pub fn new(w: &'w mut Writer<'b>) -> Self {
        TlvEncoder {
            w,
            open: [CLOSED; MAX_NESTING],
            depth: 0,
        }
    }

    /// Number of containers open.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The writer underneath (for its length, to truncate after an error).
    pub fn writer(&mut self) -> &mut Writer<'b> {
        self.w
    }

    /// The current position: [`rollback`](Self::rollback) to it drops everything written
    /// after it, including containers opened after it.
    pub fn mark(&self) -> TlvMark {
        TlvMark {
            len: self.w.len(),
            depth: self.depth,
        }
    }

    /// Drops everything written since `mark` and closes (without writing) the containers
    /// opened since then. The containers open at the mark must still be open (marks are used
    /// last-in first-out); a mark taken inside a container that has since been closed
    /// truncates the output into that container's bytes and must not be used.
    pub fn rollback(&mut self, mark: TlvMark) {
        self.w.truncate(mark.len);
        self.depth = self.depth.min(mark.depth);
    }

    /// Whether an entry of `kind` may stand in the innermost open container (or at the top
    /// level): bit `5 * kind + parent` of a table, `parent` being the container's kind, or 4
    /// at the top level.
    fn placed(&self, kind: TlvKind) -> bool {
        const ALLOWED: u32 = 0b10000 // an object instance: at the top level
            | 0b10100 << 5 // a resource instance: there or in a multiple resource
            | 0b10001 << 10 // a multiple resource: there or in an object instance
            | 0b10001 << 15; // a resource: likewise
        let parent = match self.depth.checked_sub(1).and_then(|i| self.open.get(i)) {
            Some(o) => o.kind as u32,
            None => 4,
        };
        (ALLOWED >> (5 * kind as u32 + parent)) & 1 != 0
    }

    /// Opens a container: `kind` is [`TlvKind::ObjectInstance`] or
    /// [`TlvKind::MultipleResource`] (else [`FormatError::WrongType`]). A third level gives
    /// [`FormatError::TooDeep`], a misplaced container [`FormatError::Malformed`].
    pub fn begin(&mut self, kind: TlvKind, id: u16) -> Result<(), FormatError> {
        if !kind.is_container() {
            return Err(FormatError::WrongType);
        }
        if self.depth >= MAX_NESTING {
            return Err(FormatError::TooDeep);
        }
        if !self.placed(kind) {
            return Err(FormatError::Malformed);
        }
        let start = self.w.len();
        let reserve = reserved_header_len(id);
        self.w.put([0u8; 6].get(..reserve).unwrap_or(&[]))?;
        let slot = self.open.get_mut(self.depth).ok_or(FormatError::TooDeep)?;
        *slot = Open { start, kind, id };
        self.depth += 1;
        Ok(())
    }

    /// Closes the innermost open container, writing its minimal header. Without an open
    /// container gives [`FormatError::Malformed`]; children longer than [`MAX_LEN`] give
    /// [`FormatError::OutOfRange`].
    pub fn end(&mut self) -> Result<(), FormatError> {
        let top = self.depth.checked_sub(1).ok_or(FormatError::Malformed)?;
        let o = *self.open.get(top).ok_or(FormatError::Malformed)?;
        self.depth = top;
        // Its children start after the reserved header.
        let body = o.start.wrapping_add(reserved_header_len(o.id));
        // The writer was truncated below the reserved header: nothing sane to close.
        let len = self
            .w
            .len()
            .checked_sub(body)
            .ok_or(FormatError::Malformed)?;
        let mut h = [0u8; 6];
        #[cfg(feature = "blockwise")]
        if self.w.is_windowed() {
            let head = header(o.kind, o.id, len, true, &mut h)?;
            self.w.patch(o.start, head);
            return Ok(());
        }
        let head = header(o.kind, o.id, len, false, &mut h)?;
        // The header fits the reserved space; the body moves down over what is left of it.
        let buf = self.w.written_mut();
        let mut to = o.start;
        for &b in head {
            if let Some(d) = buf.get_mut(to) {
                *d = b;
            }
            to += 1;
        }
        for from in body..buf.len() {
            let b = buf.get(from).copied().unwrap_or(0);
            if let Some(d) = buf.get_mut(to) {
                *d = b;
            }
            to += 1;
        }
        self.w.truncate(to);
        Ok(())
    }

    /// Writes one value entry: `kind` is [`TlvKind::Resource`] or
    /// [`TlvKind::ResourceInstance`] (else [`FormatError::WrongType`]).
    ///
    /// Integer and Time use the smallest of 1, 2, 4 or 8 bytes in two's complement,
    /// Unsigned the smallest of 1, 2, 4 or 8 bytes unsigned, Float 4 bytes when the value is
    /// exactly an `f32` and 8 otherwise, Boolean 1 byte, ObjLnk 4 bytes (object id then
    /// instance id, big-endian), strings, CoRE links and opaque values their bytes.
    pub fn value(&mut self, kind: TlvKind, id: u16, v: &Value<'_>) -> Result<(), FormatError> {
        if kind.is_container() {
            return Err(FormatError::WrongType);
        }
        if !self.placed(kind) {
            return Err(FormatError::Malformed);
        }
        // Numbers are written as the last `n` bytes of a big-endian 64-bit pattern.
        let (bits, n) = match *v {
            Value::String(s) | Value::CoreLnk(s) => return self.put_entry(kind, id, s.as_bytes()),
            Value::Opaque(b) => return self.put_entry(kind, id, b),
            Value::Integer(i) | Value::Time(i) => (i as u64, int_len(i as u64, true)),
            Value::Unsigned(u) => (u, int_len(u, false)),
            Value::Float(f) => match f32_bits(f) {
                Some(bits) => (u64::from(bits), 4),
                None => (f.to_bits(), 8),
            },
            Value::Boolean(b) => (u64::from(b), 1),
            Value::ObjLnk(oid, iid) => (u64::from(oid) << 16 | u64::from(iid), 4),
        };
        let num = bits.to_be_bytes();
        self.put_entry(
            kind,
            id,
            num.get(8usize.saturating_sub(n)..).unwrap_or(&num),
        )
    }

    /// Writes one entry's header and value.
    fn put_entry(&mut self, kind: TlvKind, id: u16, data: &[u8]) -> Result<(), FormatError> {
        let mut h = [0u8; 6];
        self.w.put(header(kind, id, data.len(), false, &mut h)?)?;
        self.w.put(data)?;
        Ok(())
    }
}

/// The fewest bytes (1, 2, 4 or 8) that hold `bits` as a two's-complement (`signed`) or
/// unsigned big-endian number. (No variable 64-bit shifts: they would link runtime helpers.)
fn int_len(bits: u64, signed: bool) -> usize {
    // A negative number needs as many bits as its complement, plus the sign bit.
    let mag = if signed {
        bits ^ ((bits as i64 >> 63) as u64)
    } else {
        bits
    };
    match 64 - mag.leading_zeros() + u32::from(signed) {
        0..=8 => 1,
        9..=16 => 2,
        17..=32 => 4,
        _ => 8,
    }
}

/// One TLV entry, borrowing its value from the payload.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Tlv<'a> {
    /// What the entry is.
    pub kind: TlvKind,
    /// Object instance, resource or resource instance id.
    pub id: u16,
    /// The value bytes; for a container, its children (read them with [`TlvIter::new`]).
    pub value: &'a [u8],
}

/// Reads one entry from the front of `data`; returns it and the bytes after it.
fn parse_one(data: &[u8]) -> Result<(Tlv<'_>, &[u8]), FormatError> {
    let (&t, rest) = data.split_first().ok_or(FormatError::Malformed)?;
    let id_len = 1 + usize::from((t >> 5) & 1);
    let len_len = usize::from((t >> 3) & 0x03);
    let (fields, rest) = rest
        .split_at_checked(id_len + len_len)
        .ok_or(FormatError::Malformed)?;
    // The id bytes, then the length bytes (if any), both big-endian.
    let mut id = 0u16;
    let mut len = if len_len == 0 {
        usize::from(t & 0x07)
    } else {
        0
    };
    for (i, &b) in fields.iter().enumerate() {
        if i < id_len {
            id = (id << 8) | u16::from(b);
        } else {
            len = (len << 8) | usize::from(b);
        }
    }
    let (value, rest) = rest.split_at_checked(len).ok_or(FormatError::Malformed)?;
    let kind = TlvKind::from_type_byte(t);
    Ok((Tlv { kind, id, value }, rest))
}

/// The bits of `f` as an f32 when the conversion is exact, computed on the bit patterns
/// so that no soft-float conversion routine is linked on single-precision FPUs. Infinities
/// and NaNs stay 8 bytes.
pub(crate) fn f32_bits(f: f64) -> Option<u32> {
    let bits = f.to_bits();
    let sign = ((bits >> 32) as u32) & 0x8000_0000;
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        // Zero; f64 subnormals are far below the f32 range.
        return (mant == 0).then_some(sign);
    }
    let e = exp - 1023;
    let (shift, biased) = match e {
        -126..=127 => (29u32, (e + 127) as u32),
        // f32 subnormal: the implicit bit becomes explicit, shifted further.
        -149..=-127 => ((29 + (-126 - e)) as u32, 0),
        _ => return None,
    };
    let full = if biased == 0 {
        mant | (1u64 << 52)
    } else {
        mant
    };
    // Exact when no set bit is shifted out; `shift` is at least 29, and the kept bits fit
    // a u32 (split so that no variable 64-bit shift links a runtime helper).
    if full.trailing_zeros() < shift {
        return None;
    }
    Some(sign | (biased << 23) | ((full >> 29) as u32 >> (shift - 29)))
}

/// The f64 equal to the f32 with bits `b`, computed on the bit patterns (exact, like
/// `f64::from(f32)`, without the soft-float conversion routine).
pub(crate) fn f64_from_f32_bits(b: u32) -> f64 {
    let sign = u64::from(b >> 31) << 63;
    let exp = (b >> 23) & 0xff;
    let mant = b & 0x7f_ffff;
    let (exp, mant) = match exp {
        0 if mant == 0 => (0, 0),
        0 => {
            // Subnormal: mant * 2^-149, normalised around its highest set bit `p`.
            let p = 31 - mant.leading_zeros();
            (p + 874, (mant ^ (1 << p)) << (23 - p))
        }
        // Infinity, or a NaN made quiet as the hardware conversion does.
        0xff => (0x7ff, if mant == 0 { 0 } else { mant | 0x40_0000 }),
        _ => (exp + 1023 - 127, mant),
    };
    let bits = sign | (u64::from(exp) << 52) | (u64::from(mant) << 29);
    f64::from_bits(bits)
}

/// Iterates over the TLV entries at one level of a payload.
///
/// Yields each entry in order. On a malformed entry (a header cut short, a length past the
/// end of the data) it yields one `Err(FormatError::Malformed)` and then stops. It does not
/// check placement or descend into containers: use [`validate`] for the whole tree.
#[derive(Clone)]
pub struct TlvIter<'a> {
    /// What is left to read (emptied after an error).
    data: &'a [u8],
}

impl<'a> TlvIter<'a> {
    /// An iterator over the entries in `data` (a payload, or a container's value).
    pub fn new(data: &'a [u8]) -> Self {
        TlvIter { data }
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        match parse_one(self.data) {
            Ok((tlv, rest)) => {
                self.data = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.data = &[];
                Some(Err(e))
            }
        }
    }
}

/// Checks a whole TLV payload before any of it is used, so that a Write that fails changes
/// nothing. Equivalent to [`validate_in`] with no parent (a payload for an object, object
/// instance or resource path).
///
/// Every entry must be well formed; an object instance may appear only at the top level, a
/// resource or multiple resource at the top level or in an object instance, and a resource
/// instance only in a multiple resource. `max_depth` is the number of container levels
/// allowed: 0 accepts only resources, 1 also one object instance or multiple resource level,
/// 2 an object instance holding multiple resources. Errors: [`FormatError::Malformed`] for
/// bad bytes or a misplaced entry, [`FormatError::TooDeep`] for nesting beyond `max_depth`.
pub fn validate(data: &[u8], max_depth: usize) -> Result<(), FormatError> {
    validate_in(data, max_depth, None)
}

/// Like [`validate`], with the top-level entries checked as children of `parent`.
///
/// A payload written to a resource instance path (`/O/I/R/RI`) holds resource instances at
/// its top level: check it with `parent = Some(TlvKind::MultipleResource)`.
pub fn validate_in(
    data: &[u8],
    max_depth: usize,
    parent: Option<TlvKind>,
) -> Result<(), FormatError> {
    for tlv in TlvIter::new(data) {
        let tlv = tlv?;
        let allowed = match (parent, tlv.kind) {
            (None, TlvKind::ResourceInstance) => false,
            (None, _) => true,
            (Some(TlvKind::ObjectInstance), k) => {
                matches!(k, TlvKind::Resource | TlvKind::MultipleResource)
            }
            (Some(TlvKind::MultipleResource), k) => k == TlvKind::ResourceInstance,
            (Some(_), _) => false,
        };
        if !allowed {
            return Err(FormatError::Malformed);
        }
        if tlv.kind.is_container() {
            // The placement rules above bound this recursion to two levels.
            let left = max_depth.checked_sub(1).ok_or(FormatError::TooDeep)?;
            validate_in(tlv.value, left, Some(tlv.kind))?;
        }
    }
    Ok(())
}

/// Reads a resource (or resource instance) value of type `ty` from its raw TLV bytes.
///
/// Integer and Time take 1, 2, 4 or 8 bytes in two's complement, Unsigned 1, 2, 4 or 8 bytes
/// unsigned, Float 4 or 8 bytes, Boolean 1 byte that is 0 or 1, ObjLnk 4 bytes; any other
/// length or a boolean byte other than 0 or 1 is [`FormatError::Malformed`]. String and
/// CoreLnk must be UTF-8 (else `Malformed`); Opaque is the bytes as they are. `None` gives
/// [`FormatError::WrongType`].
pub fn decode_value<'a>(raw: &'a [u8], ty: ResourceType) -> Result<Value<'a>, FormatError> {
    // Text and opaque values return here; a numeric type gives the lengths it accepts
    // (bit `n` set: `n` bytes), and its value is read below as one big-endian number.
    let lens: u16 = match ty {
        ResourceType::String | ResourceType::CoreLnk => {
            let s = utf8(raw)?;
            return Ok(if ty == ResourceType::CoreLnk {
                Value::CoreLnk(s)
            } else {
                Value::String(s)
            });
        }
        ResourceType::Opaque => return Ok(Value::Opaque(raw)),
        ResourceType::None => return Err(FormatError::WrongType),
        ResourceType::Integer | ResourceType::Time | ResourceType::Unsigned => {
            1 << 1 | 1 << 2 | 1 << 4 | 1 << 8
        }
        ResourceType::Float => 1 << 4 | 1 << 8,
        ResourceType::Boolean => 1 << 1,
        ResourceType::ObjLnk => 1 << 4,
    };
    let n = raw.len();
    if n > 8 || (lens >> n) & 1 == 0 {
        return Err(FormatError::Malformed);
    }
    // `v` unsigned, `i` sign-extended from the top bit of the first byte (its bits start
    // as all ones for a negative number and are shifted out as the bytes come in).
    let ones = raw.first().map_or(0, |&b| u64::from(b >> 7).wrapping_neg());
    let (v, i) = raw.iter().fold((0u64, ones), |(v, i), &b| {
        ((v << 8) | u64::from(b), (i << 8) | u64::from(b))
    });
    let i = i as i64;
    Ok(match ty {
        ResourceType::Integer => Value::Integer(i),
        ResourceType::Time => Value::Time(i),
        ResourceType::Unsigned => Value::Unsigned(v),
        ResourceType::Float if n == 4 => Value::Float(f64_from_f32_bits(v as u32)),
        ResourceType::Float => Value::Float(f64::from_bits(v)),
        ResourceType::Boolean if v <= 1 => Value::Boolean(v != 0),
        ResourceType::ObjLnk => Value::ObjLnk((v >> 16) as u16, v as u16),
        _ => return Err(FormatError::Malformed),
    })
}

fn utf8(raw: &[u8]) -> Result<&str, FormatError> {
    crate::util::utf8(raw).ok_or(FormatError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_widening_matches_core() {
        let mut x: u32 = 0x9E37_79B9;
        for b in (0..=0x80_0000u32).chain([
            0x7f80_0000,
            0xff80_0000,
            0x7fc0_0001,
            0x8000_0001,
            0x7f7f_ffff,
        ]) {
            for b in [b, b | 0x8000_0000] {
                assert_eq!(
                    f64_from_f32_bits(b).to_bits(),
                    f64::from(f32::from_bits(b)).to_bits(),
                    "{b:08x}"
                );
            }
        }
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            assert_eq!(
                f64_from_f32_bits(x).to_bits(),
                f64::from(f32::from_bits(x)).to_bits(),
                "{x:08x}"
            );
        }
    }

    #[test]
    fn int_len_is_the_fewest_bytes() {
        for shift in 0..64 {
            for delta in [-1i64, 0, 1] {
                let x = (1i64 << shift).wrapping_add(delta);
                for v in [x, x.wrapping_neg(), !x] {
                    let fits = |n: u32| {
                        let unused = 64 - 8 * n;
                        (
                            ((v << unused) >> unused) == v,
                            ((v as u64) << unused) >> unused == v as u64,
                        )
                    };
                    let want = |signed: bool| {
                        [1, 2, 4, 8]
                            .into_iter()
                            .find(|&n| if signed { fits(n).0 } else { fits(n).1 })
                            .unwrap()
                    };
                    assert_eq!(int_len(v as u64, true), want(true) as usize, "{v}");
                    assert_eq!(int_len(v as u64, false), want(false) as usize, "{v}");
                }
            }
        }
    }

    #[test]
    fn f32_bits_matches_the_exact_conversion() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let check = |f: f64| {
            let narrow = f as f32;
            let exact = f.is_finite() && f64::from(narrow).to_bits() == f.to_bits();
            assert_eq!(f32_bits(f), exact.then(|| narrow.to_bits()), "{f:e}");
        };
        for f in [
            0.0,
            -0.0,
            1.0,
            21.5,
            0.1,
            f64::from(f32::MAX),
            f64::from(f32::MIN_POSITIVE),
            1e-45,
            f64::INFINITY,
            f64::NAN,
        ] {
            check(f);
        }
        for i in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Half random f64 bits, half values that came from an f32.
            let f = if i % 2 == 0 {
                f64::from_bits(x)
            } else {
                f64::from(f32::from_bits(x as u32))
            };
            check(f);
        }
    }
    use std::vec::Vec;

    /// LwM2M Core 1.1, 7.4.3.2, Read on /3/0: the Device object instance.
    const DEVICE: &[u8] = &[
        0xC8, 0x00, 0x14, b'O', b'p', b'e', b'n', b' ', b'M', b'o', b'b', b'i', b'l', b'e', b' ',
        b'A', b'l', b'l', b'i', b'a', b'n', b'c', b'e', //
        0xC8, 0x01, 0x16, b'L', b'i', b'g', b'h', b't', b'w', b'e', b'i', b'g', b'h', b't', b' ',
        b'M', b'2', b'M', b' ', b'C', b'l', b'i', b'e', b'n', b't', //
        0xC8, 0x02, 0x09, b'3', b'4', b'5', b'0', b'0', b'0', b'1', b'2', b'3', //
        0xC3, 0x03, b'1', b'.', b'0', //
        0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05, //
        0x88, 0x07, 0x08, 0x42, 0x00, 0x0E, 0xD8, 0x42, 0x01, 0x13, 0x88, //
        0x87, 0x08, 0x41, 0x00, 0x7D, 0x42, 0x01, 0x03, 0x84, //
        0xC1, 0x09, 0x64, //
        0xC1, 0x0A, 0x0F, //
        0x83, 0x0B, 0x41, 0x00, 0x00, //
        0xC4, 0x0D, 0x51, 0x82, 0x42, 0x8F, //
        0xC6, 0x0E, b'+', b'0', b'2', b':', b'0', b'0', //
        0xC1, 0x10, b'U',
    ];

    /// LwM2M Core 1.1, 7.4.3.2, Read on /2: two Access Control object instances. (The
    /// 1.0 text printed the second ACL header as 0x86; its six bytes hold seven, so the
    /// consistent 0x87 is used.)
    const ACL: &[u8] = &[
        0x08, 0x00, 0x0E, //
        0xC1, 0x00, 0x01, 0xC1, 0x01, 0x00, 0x83, 0x02, 0x41, 0x7F, 0x07, 0xC1, 0x03, 0x7F, //
        0x08, 0x02, 0x12, //
        0xC1, 0x00, 0x03, 0xC1, 0x01, 0x00, 0x87, 0x02, 0x41, 0x7F, 0x07, 0x61, 0x01, 0x36, 0x01,
        0xC1, 0x03, 0x7F,
    ];

    /// LwM2M Core 1.1, 7.4.3.2, Read on /1: one Server object instance (short server id 1,
    /// lifetime 86400, notification storing true, binding "U").
    const SERVER: &[u8] = &[
        0x08, 0x00, 0x0F, 0xC1, 0x00, 0x01, 0xC4, 0x01, 0x00, 0x01, 0x51, 0x80, 0xC1, 0x06, 0x01,
        0xC1, 0x07, b'U',
    ];

    fn encode_device(w: &mut Writer<'_>) -> Result<(), FormatError> {
        let mut e = TlvEncoder::new(w);
        e.value(TlvKind::Resource, 0, &Value::String("Open Mobile Alliance"))?;
        e.value(
            TlvKind::Resource,
            1,
            &Value::String("Lightweight M2M Client"),
        )?;
        e.value(TlvKind::Resource, 2, &Value::String("345000123"))?;
        e.value(TlvKind::Resource, 3, &Value::String("1.0"))?;
        for (rid, vals) in [(6u16, &[1i64, 5][..]), (7, &[3800, 5000]), (8, &[125, 900])] {
            e.begin(TlvKind::MultipleResource, rid)?;
            for (i, &v) in vals.iter().enumerate() {
                e.value(TlvKind::ResourceInstance, i as u16, &Value::Integer(v))?;
            }
            e.end()?;
        }
        e.value(TlvKind::Resource, 9, &Value::Integer(100))?;
        e.value(TlvKind::Resource, 10, &Value::Integer(15))?;
        e.begin(TlvKind::MultipleResource, 11)?;
        e.value(TlvKind::ResourceInstance, 0, &Value::Integer(0))?;
        e.end()?;
        e.value(TlvKind::Resource, 13, &Value::Time(1367491215))?;
        e.value(TlvKind::Resource, 14, &Value::String("+02:00"))?;
        e.value(TlvKind::Resource, 16, &Value::String("U"))?;
        Ok(())
    }

    #[test]
    fn device_example_encodes_byte_for_byte() {
        let mut b = [0u8; 256];
        let mut w = Writer::new(&mut b);
        encode_device(&mut w).unwrap();
        assert_eq!(w.written(), DEVICE);
    }

    #[test]
    fn device_example_decodes() {
        validate(DEVICE, 2).unwrap();
        let top: Vec<Tlv<'_>> = TlvIter::new(DEVICE).map(Result::unwrap).collect();
        assert_eq!(top.len(), 13);
        assert_eq!(top[0].kind, TlvKind::Resource);
        assert_eq!(
            decode_value(top[0].value, ResourceType::String),
            Ok(Value::String("Open Mobile Alliance"))
        );
        assert_eq!(
            decode_value(top[3].value, ResourceType::String),
            Ok(Value::String("1.0"))
        );
        assert_eq!(top[4].kind, TlvKind::MultipleResource);
        assert_eq!(top[4].id, 6);
        let volts: Vec<_> = TlvIter::new(top[5].value)
            .map(|t| {
                let t = t.unwrap();
                assert_eq!(t.kind, TlvKind::ResourceInstance);
                (t.id, decode_value(t.value, ResourceType::Integer).unwrap())
            })
            .collect();
        assert_eq!(
            volts,
            [(0, Value::Integer(3800)), (1, Value::Integer(5000))]
        );
        assert_eq!(
            decode_value(top[7].value, ResourceType::Integer),
            Ok(Value::Integer(100))
        );
        assert_eq!(top[10].id, 13);
        assert_eq!(
            decode_value(top[10].value, ResourceType::Time),
            Ok(Value::Time(1367491215))
        );
        assert_eq!(
            decode_value(top[12].value, ResourceType::String),
            Ok(Value::String("U"))
        );
    }

    #[test]
    fn acl_example_both_ways() {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        let mut e = TlvEncoder::new(&mut w);
        for (iid, oid, acl, owner) in [
            (0u16, 1i64, &[(127u16, 7i64)][..], 127i64),
            (2, 3, &[(127, 7), (310, 1)], 127),
        ] {
            e.begin(TlvKind::ObjectInstance, iid).unwrap();
            e.value(TlvKind::Resource, 0, &Value::Integer(oid)).unwrap();
            e.value(TlvKind::Resource, 1, &Value::Integer(0)).unwrap();
            e.begin(TlvKind::MultipleResource, 2).unwrap();
            for &(ri, v) in acl {
                e.value(TlvKind::ResourceInstance, ri, &Value::Integer(v))
                    .unwrap();
            }
            e.end().unwrap();
            e.value(TlvKind::Resource, 3, &Value::Integer(owner))
                .unwrap();
            e.end().unwrap();
        }
        assert_eq!(e.depth(), 0);
        assert_eq!(w.written(), ACL);

        validate(ACL, 2).unwrap();
        let insts: Vec<_> = TlvIter::new(ACL).map(Result::unwrap).collect();
        assert_eq!(insts.len(), 2);
        assert_eq!((insts[1].kind, insts[1].id), (TlvKind::ObjectInstance, 2));
        let res: Vec<_> = TlvIter::new(insts[1].value).map(Result::unwrap).collect();
        let acl: Vec<_> = TlvIter::new(res[2].value)
            .map(|t| {
                let t = t.unwrap();
                (t.id, decode_value(t.value, ResourceType::Integer).unwrap())
            })
            .collect();
        assert_eq!(acl, [(127, Value::Integer(7)), (310, Value::Integer(1))]);
    }

    #[test]
    fn server_example_both_ways() {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        let mut e = TlvEncoder::new(&mut w);
        e.begin(TlvKind::ObjectInstance, 0).unwrap();
        e.value(TlvKind::Resource, 0, &Value::Integer(1)).unwrap();
        e.value(TlvKind::Resource, 1, &Value::Integer(86400))
            .unwrap();
        e.value(TlvKind::Resource, 6, &Value::Boolean(true))
            .unwrap();
        e.value(TlvKind::Resource, 7, &Value::String("U")).unwrap();
        e.end().unwrap();
        assert_eq!(w.written(), SERVER);
        validate(SERVER, 1).unwrap();
        let inst = TlvIter::new(SERVER).next().unwrap().unwrap();
        let res: Vec<_> = TlvIter::new(inst.value).map(Result::unwrap).collect();
        assert_eq!(
            decode_value(res[1].value, ResourceType::Integer),
            Ok(Value::Integer(86400))
        );
        assert_eq!(
            decode_value(res[2].value, ResourceType::Boolean),
            Ok(Value::Boolean(true))
        );
    }

    fn one_value(v: &Value<'_>) -> Vec<u8> {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        TlvEncoder::new(&mut w)
            .value(TlvKind::Resource, 1, v)
            .unwrap();
        w.written().to_vec()
    }

    #[test]
    fn integer_sizes() {
        assert_eq!(one_value(&Value::Integer(0)), [0xC1, 1, 0]);
        assert_eq!(one_value(&Value::Integer(-1)), [0xC1, 1, 0xFF]);
        assert_eq!(one_value(&Value::Integer(127)), [0xC1, 1, 0x7F]);
        assert_eq!(one_value(&Value::Integer(128)), [0xC2, 1, 0x00, 0x80]);
        assert_eq!(one_value(&Value::Integer(-129)), [0xC2, 1, 0xFF, 0x7F]);
        assert_eq!(one_value(&Value::Integer(32768)), [0xC4, 1, 0, 0, 0x80, 0]);
        assert_eq!(
            one_value(&Value::Integer(1 << 31)),
            [0xC8, 1, 8, 0, 0, 0, 0, 0x80, 0, 0, 0]
        );
        assert_eq!(one_value(&Value::Unsigned(200)), [0xC1, 1, 200]);
        assert_eq!(one_value(&Value::Unsigned(0xFFFF)), [0xC2, 1, 0xFF, 0xFF]);
        assert_eq!(one_value(&Value::Unsigned(0x1_0000)), [0xC4, 1, 0, 1, 0, 0]);
        assert_eq!(
            one_value(&Value::Unsigned(u64::MAX)),
            [0xC8, 1, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        );
    }

    #[test]
    fn other_value_encodings() {
        assert_eq!(one_value(&Value::Float(1.5)), [0xC4, 1, 0x3F, 0xC0, 0, 0]);
        assert_eq!(
            one_value(&Value::Float(0.1)),
            [0xC8, 1, 8, 0x3F, 0xB9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A]
        );
        assert_eq!(one_value(&Value::Boolean(false)), [0xC1, 1, 0]);
        assert_eq!(
            one_value(&Value::ObjLnk(0x1234, 0xFFFF)),
            [0xC4, 1, 0x12, 0x34, 0xFF, 0xFF]
        );
        assert_eq!(one_value(&Value::Opaque(&[])), [0xC0, 1]);
        assert_eq!(
            one_value(&Value::CoreLnk("</1>")),
            [0xC4, 1, b'<', b'/', b'1', b'>']
        );
    }

    #[test]
    fn round_trip_every_type() {
        let values = [
            Value::String("héllo"),
            Value::CoreLnk("</3/0>"),
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Integer(-40000),
            Value::Time(-5),
            Value::Unsigned(u64::MAX),
            Value::Unsigned(300),
            Value::Float(f64::MAX),
            Value::Float(-0.0),
            Value::Float(0.25),
            Value::Float(f64::INFINITY),
            Value::Boolean(true),
            Value::Opaque(&[1, 2, 3]),
            Value::ObjLnk(3, 0),
        ];
        for v in values {
            let bytes = one_value(&v);
            let t = TlvIter::new(&bytes).next().unwrap().unwrap();
            assert_eq!((t.kind, t.id), (TlvKind::Resource, 1));
            let back = decode_value(t.value, v.kind()).unwrap();
            match (v, back) {
                (Value::Float(a), Value::Float(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                _ => assert_eq!(v, back),
            }
        }
    }

    #[test]
    fn ids_255_and_256() {
        let mut b = [0u8; 16];
        let mut w = Writer::new(&mut b);
        let mut e = TlvEncoder::new(&mut w);
        e.value(TlvKind::Resource, 255, &Value::Boolean(true))
            .unwrap();
        e.value(TlvKind::Resource, 256, &Value::Boolean(true))
            .unwrap();
        assert_eq!(w.written(), [0xC1, 0xFF, 1, 0xE1, 0x01, 0x00, 1]);
        let ids: Vec<u16> = TlvIter::new(w.written()).map(|t| t.unwrap().id).collect();
        assert_eq!(ids, [255, 256]);
    }

    fn len_field_size(len: usize) -> usize {
        match len {
            0..=7 => 0,
            8..=0xFF => 1,
            0x100..=0xFFFF => 2,
            _ => 3,
        }
    }

    /// A multiple resource whose children take exactly `body` bytes, with `id`.
    fn container_with_body(body: usize, id: u16) -> Vec<u8> {
        let mut buf = std::vec![0u8; body + 16];
        let mut w = Writer::new(&mut buf);
        let mut e = TlvEncoder::new(&mut w);
        e.begin(TlvKind::MultipleResource, id).unwrap();
        if body > 0 {
            let s = (body.saturating_sub(5)..body)
                .rev()
                .find(|&s| 2 + len_field_size(s) + s == body)
                .unwrap();
            let data = std::vec![0xA5u8; s];
            e.value(TlvKind::ResourceInstance, 0, &Value::Opaque(&data))
                .unwrap();
        }
        e.end().unwrap();
        w.written().to_vec()
    }

    #[test]
    fn nested_headers_are_minimal() {
        for (body, hdr) in [
            (0usize, &[0x80u8, 0x05][..]),
            (7, &[0x87, 0x05]),
            (8, &[0x88, 0x05, 8]),
            (255, &[0x88, 0x05, 0xFF]),
            (256, &[0x90, 0x05, 0x01, 0x00]),
            (65535, &[0x90, 0x05, 0xFF, 0xFF]),
            (65536, &[0x98, 0x05, 0x01, 0x00, 0x00]),
        ] {
            let out = container_with_body(body, 5);
            assert_eq!(out.len(), hdr.len() + body, "body {body}");
            assert_eq!(&out[..hdr.len()], hdr, "body {body}");
            validate(&out, 1).unwrap();
            let t = TlvIter::new(&out).next().unwrap().unwrap();
            assert_eq!(t.value.len(), body);
            assert_eq!(TlvIter::new(t.value).count(), usize::from(body > 0));
        }
        let out = container_with_body(300, 256);
        assert_eq!(&out[..5], [0xB0, 0x01, 0x00, 0x01, 0x2C]);
    }

    #[test]
    fn nested_object_instance_minimal() {
        let mut b = [0u8; 600];
        let mut w = Writer::new(&mut b);
        let mut e = TlvEncoder::new(&mut w);
        e.begin(TlvKind::ObjectInstance, 300).unwrap();
        e.begin(TlvKind::MultipleResource, 1).unwrap();
        e.value(TlvKind::ResourceInstance, 0, &Value::Opaque(&[7; 300]))
            .unwrap();
        e.end().unwrap();
        e.value(TlvKind::Resource, 2, &Value::Boolean(true))
            .unwrap();
        e.end().unwrap();
        let out = w.written();
        // Object instance: 16-bit id, 2-byte length 4 + 304 + 3 = 311.
        assert_eq!(&out[..5], [0x30, 0x01, 0x2C, 0x01, 0x37]);
        assert_eq!(&out[5..9], [0x90, 0x01, 0x01, 0x30]);
        assert_eq!(out.len(), 5 + 311);
        validate(out, 2).unwrap();
    }

    /// Two object instances, each with a multiple resource and values (a half-written
    /// resource rolled back in between), into `w`.
    #[cfg(feature = "blockwise")]
    fn nested(w: &mut Writer<'_>) {
        let mut e = TlvEncoder::new(w);
        for iid in [0u16, 300] {
            e.begin(TlvKind::ObjectInstance, iid).unwrap();
            e.value(
                TlvKind::Resource,
                1,
                &Value::String("a string of some length"),
            )
            .unwrap();
            let mark = e.mark();
            e.begin(TlvKind::MultipleResource, 7).unwrap();
            e.value(TlvKind::ResourceInstance, 0, &Value::Integer(5))
                .unwrap();
            e.rollback(mark);
            e.begin(TlvKind::MultipleResource, 400).unwrap();
            for ri in 0..20u16 {
                e.value(
                    TlvKind::ResourceInstance,
                    ri,
                    &Value::Integer(i64::from(ri) * 1000),
                )
                .unwrap();
            }
            e.end().unwrap();
            e.value(TlvKind::Resource, 2, &Value::Boolean(true))
                .unwrap();
            e.end().unwrap();
        }
    }

    /// The (kind, id, value) entries of a TLV stream, nested ones flattened in order.
    #[cfg(feature = "blockwise")]
    fn entries(data: &[u8]) -> Vec<(TlvKind, u16, Vec<u8>)> {
        let mut out = Vec::new();
        for t in TlvIter::new(data) {
            let t = t.unwrap();
            if t.kind.is_container() {
                out.push((t.kind, t.id, Vec::new()));
                out.extend(entries(t.value));
            } else {
                out.push((t.kind, t.id, t.value.to_vec()));
            }
        }
        out
    }

    #[cfg(feature = "blockwise")]
    #[test]
    fn windowed_encoding_is_one_stream_across_blocks() {
        let mut b = [0u8; 512];
        let mut w = Writer::new(&mut b);
        nested(&mut w);
        let plain = w.written().to_vec();
        for size in [16usize, 32, 64, 1024] {
            let mut whole = Vec::new();
            let mut total = None;
            for num in 0.. {
                let mut b = [0u8; 1030];
                let mut w = Writer::new(&mut b);
                w.window(num * size, size).unwrap();
                nested(&mut w);
                assert_eq!(
                    *total.get_or_insert(w.len()),
                    w.len(),
                    "same length each time"
                );
                whole.extend_from_slice(w.written());
                if (num + 1) * size >= w.len() {
                    break;
                }
            }
            assert_eq!(whole.len(), total.unwrap());
            validate(&whole, 2).unwrap();
            assert_eq!(entries(&whole), entries(&plain), "block size {size}");
            // Four containers with bodies of 1-byte lengths keep 3-byte lengths: 2 more each.
            assert_eq!(whole.len(), plain.len() + 4 * 2);
        }
    }

    #[test]
    fn header_longer_than_24_bits_is_out_of_range() {
        let mut h = [0u8; 6];
        assert_eq!(
            header(TlvKind::Resource, 0, MAX_LEN, false, &mut h).map(<[u8]>::len),
            Ok(5)
        );
        assert_eq!(
            header(TlvKind::Resource, 0, MAX_LEN + 1, false, &mut h).map(<[u8]>::len),
            Err(FormatError::OutOfRange)
        );
    }

    #[test]
    fn encoder_rejects_bad_nesting() {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        let mut e = TlvEncoder::new(&mut w);
        assert_eq!(e.begin(TlvKind::Resource, 0), Err(FormatError::WrongType));
        assert_eq!(
            e.value(TlvKind::ObjectInstance, 0, &Value::Integer(1)),
            Err(FormatError::WrongType)
        );
        assert_eq!(e.end(), Err(FormatError::Malformed));
        e.begin(TlvKind::ObjectInstance, 0).unwrap();
        assert_eq!(
            e.begin(TlvKind::ObjectInstance, 1),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            e.value(TlvKind::ResourceInstance, 0, &Value::Integer(1)),
            Err(FormatError::Malformed)
        );
        e.begin(TlvKind::MultipleResource, 1).unwrap();
        assert_eq!(
            e.begin(TlvKind::MultipleResource, 2),
            Err(FormatError::TooDeep)
        );
        assert_eq!(
            e.value(TlvKind::Resource, 0, &Value::Integer(1)),
            Err(FormatError::Malformed)
        );
        e.end().unwrap();
        e.end().unwrap();
        assert_eq!(w.written(), [0x02, 0x00, 0x80, 0x01]);
    }

    #[test]
    fn resource_instance_alone_at_top_level() {
        let mut b = [0u8; 8];
        let mut w = Writer::new(&mut b);
        TlvEncoder::new(&mut w)
            .value(TlvKind::ResourceInstance, 1, &Value::Integer(5))
            .unwrap();
        assert_eq!(w.written(), [0x41, 0x01, 0x05]);
        assert_eq!(
            validate_in(w.written(), 0, Some(TlvKind::MultipleResource)),
            Ok(())
        );
    }

    #[test]
    fn no_space_leaves_partial_output_for_the_caller_to_truncate() {
        let mut b = [0u8; 24];
        let mut w = Writer::new(&mut b);
        assert_eq!(encode_device(&mut w), Err(FormatError::NoSpace));
        w.truncate(0);
        assert!(w.is_empty());
        let mut b = [0u8; 6];
        let mut w = Writer::new(&mut b);
        let mut e = TlvEncoder::new(&mut w);
        e.begin(TlvKind::MultipleResource, 0).unwrap();
        assert_eq!(
            e.value(TlvKind::ResourceInstance, 0, &Value::Integer(1)),
            Err(FormatError::NoSpace)
        );
        assert_eq!(e.end(), Ok(()));
        assert_eq!(w.written(), [0x80, 0x00]);
    }

    #[test]
    fn rollback_drops_a_half_written_multiple_resource() {
        let mut b = [0u8; 32];
        let mut w = Writer::new(&mut b);
        let mut e = TlvEncoder::new(&mut w);
        e.begin(TlvKind::ObjectInstance, 0).unwrap();
        e.value(TlvKind::Resource, 0, &Value::Integer(1)).unwrap();
        let mark = e.mark();
        e.begin(TlvKind::MultipleResource, 7).unwrap();
        e.value(TlvKind::ResourceInstance, 0, &Value::Integer(2))
            .unwrap();
        e.rollback(mark);
        assert_eq!(e.depth(), 1);
        e.value(TlvKind::Resource, 9, &Value::Integer(3)).unwrap();
        e.end().unwrap();
        assert_eq!(
            w.written(),
            [0x06, 0x00, 0xC1, 0x00, 0x01, 0xC1, 0x09, 0x03]
        );
    }

    #[test]
    fn end_after_truncation_below_body_is_malformed() {
        let mut b = [0u8; 16];
        let mut w = Writer::new(&mut b);
        let mut e = TlvEncoder::new(&mut w);
        e.begin(TlvKind::MultipleResource, 0).unwrap();
        e.writer().truncate(1);
        assert_eq!(e.end(), Err(FormatError::Malformed));
    }

    #[test]
    fn length_past_the_end_is_malformed() {
        let mut it = TlvIter::new(&[0xC3, 0x01, b'a', b'b']);
        assert_eq!(it.next(), Some(Err(FormatError::Malformed)));
        assert_eq!(it.next(), None);
        assert_eq!(
            validate(&[0xC1, 0x00, 0x01, 0xC3, 0x01, b'a'], 2),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn truncated_header_is_malformed() {
        let mut it = TlvIter::new(&[0xC1, 0x00, 0x05, 0xE1, 0x01]);
        assert!(matches!(it.next(), Some(Ok(_))));
        assert_eq!(it.next(), Some(Err(FormatError::Malformed)));
        assert_eq!(it.next(), None);
        assert_eq!(
            TlvIter::new(&[0xC1]).next(),
            Some(Err(FormatError::Malformed))
        );
    }

    #[test]
    fn three_byte_length_truncated_is_malformed() {
        assert_eq!(
            TlvIter::new(&[0xD8, 0x01, 0x00, 0x01]).next(),
            Some(Err(FormatError::Malformed))
        );
        assert_eq!(
            validate(&[0xD8, 0x01, 0x00, 0x01], 2),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn resource_instance_at_top_level_is_malformed() {
        assert_eq!(
            validate(&[0x41, 0x00, 0x01], 2),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn misplaced_entries_are_malformed() {
        // An object instance inside an object instance.
        assert_eq!(
            validate(&[0x03, 0x00, 0x00, 0x00, 0x00], 2),
            Err(FormatError::Malformed)
        );
        // A resource inside a multiple resource.
        assert_eq!(
            validate(&[0x83, 0x00, 0xC1, 0x00, 0x01], 2),
            Err(FormatError::Malformed)
        );
        // A resource instance directly in an object instance.
        assert_eq!(
            validate(&[0x03, 0x00, 0x41, 0x00, 0x01], 2),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn nesting_deeper_than_allowed_is_too_deep() {
        assert_eq!(validate(ACL, 1), Err(FormatError::TooDeep));
        assert_eq!(validate(SERVER, 0), Err(FormatError::TooDeep));
        assert_eq!(validate(&DEVICE[..23], 0), Ok(()));
    }

    #[test]
    fn malformed_child_fails_validation() {
        // The container's length is right, its child's is not.
        assert_eq!(
            validate(&[0x83, 0x00, 0x42, 0x00, 0x01], 2),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn integer_with_three_bytes_is_malformed() {
        assert_eq!(
            decode_value(&[0, 0, 1], ResourceType::Integer),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode_value(&[], ResourceType::Integer),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode_value(&[0, 0, 1], ResourceType::Unsigned),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode_value(&[0; 16], ResourceType::Time),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn float_with_five_bytes_is_malformed() {
        assert_eq!(
            decode_value(&[0; 5], ResourceType::Float),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        assert_eq!(
            decode_value(b"a\xff", ResourceType::String),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode_value(b"\xe2\x82", ResourceType::CoreLnk),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn bool_value_two_is_malformed() {
        assert_eq!(
            decode_value(&[2], ResourceType::Boolean),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            decode_value(&[0, 1], ResourceType::Boolean),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn objlnk_needs_four_bytes() {
        assert_eq!(
            decode_value(&[0, 1, 0, 2], ResourceType::ObjLnk),
            Ok(Value::ObjLnk(1, 2))
        );
        assert_eq!(
            decode_value(&[0, 1, 0], ResourceType::ObjLnk),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn decode_integer_widths() {
        assert_eq!(
            decode_value(&[0x80], ResourceType::Integer),
            Ok(Value::Integer(-128))
        );
        assert_eq!(
            decode_value(&[0xFF, 0xFE], ResourceType::Integer),
            Ok(Value::Integer(-2))
        );
        assert_eq!(
            decode_value(&[0x80, 0, 0, 0], ResourceType::Integer),
            Ok(Value::Integer(i64::from(i32::MIN)))
        );
        assert_eq!(
            decode_value(&[0x80], ResourceType::Unsigned),
            Ok(Value::Unsigned(128))
        );
        assert_eq!(
            decode_value(&[0xFF; 8], ResourceType::Unsigned),
            Ok(Value::Unsigned(u64::MAX))
        );
        assert_eq!(
            decode_value(&[0xFF; 8], ResourceType::Integer),
            Ok(Value::Integer(-1))
        );
        assert_eq!(
            decode_value(&[], ResourceType::None),
            Err(FormatError::WrongType)
        );
    }

    #[test]
    fn empty_payload_is_valid_and_empty() {
        assert_eq!(validate(&[], 2), Ok(()));
        assert_eq!(TlvIter::new(&[]).next(), None);
    }
}
