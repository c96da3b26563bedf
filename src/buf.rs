//! A bounded writer over a caller-supplied byte buffer.
//!
//! Every encoder in the engine writes through [`Writer`]: it never grows, never panics, and
//! reports [`NoSpace`] when the buffer is full (the caller then answers 4.13 / 5.00 or uses
//! block-wise transfer).

/// The buffer is too small for what was to be written.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct NoSpace;

/// Appends bytes to a fixed buffer, tracking the write position.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Appends `data`, or writes nothing and returns [`NoSpace`].
    pub fn put(&mut self, data: &[u8]) -> Result<(), NoSpace> {
        let end = self.pos.checked_add(data.len()).ok_or(NoSpace)?;
        let dst = self.buf.get_mut(self.pos..end).ok_or(NoSpace)?;
        // A zip instead of copy_from_slice: same memcpy, no length-mismatch panic path.
        for (d, s) in dst.iter_mut().zip(data) {
            *d = *s;
        }
        self.pos = end;
        Ok(())
    }

    /// The unwritten rest of the buffer, as scratch space: what is put there does not
    /// count as written.
    pub fn spare(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.pos..).unwrap_or_default()
    }

    /// Appends one byte.
    pub fn put_u8(&mut self, b: u8) -> Result<(), NoSpace> {
        self.put(&[b])
    }

    /// Appends the decimal form of `v`.
    pub fn put_u64_dec(&mut self, v: u64) -> Result<(), NoSpace> {
        let mut tmp = [0u8; 20];
        let digits = crate::util::u64_to_dec(v, &mut tmp);
        self.put(digits)
    }

    /// Appends the decimal form of `v`, with a leading `-` when negative.
    pub fn put_i64_dec(&mut self, v: i64) -> Result<(), NoSpace> {
        if v < 0 {
            self.put_u8(b'-')?;
        }
        self.put_u64_dec(v.unsigned_abs())
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or(&[])
    }

    /// Mutable access to the bytes written so far (for back-patching lengths).
    pub fn written_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(..self.pos).unwrap_or(&mut [])
    }

    /// Drops everything written after `len` (used to undo a partial write).
    pub fn truncate(&mut self, len: usize) {
        if len < self.pos {
            self.pos = len;
        }
    }

    /// Gives the underlying buffer back, with the number of bytes written.
    pub fn finish(self) -> (&'a mut [u8], usize) {
        (self.buf, self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_stops_at_the_end() {
        let mut b = [0u8; 4];
        let mut w = Writer::new(&mut b);
        assert_eq!(w.put(b"abc"), Ok(()));
        assert_eq!(w.put(b"de"), Err(NoSpace));
        assert_eq!(w.written(), b"abc");
        assert_eq!(w.put_u8(b'd'), Ok(()));
        assert_eq!(w.remaining(), 0);
    }

    #[test]
    fn decimal() {
        let mut b = [0u8; 48];
        let mut w = Writer::new(&mut b);
        w.put_i64_dec(i64::MIN).unwrap();
        w.put_u8(b' ').unwrap();
        w.put_u64_dec(0).unwrap();
        w.put_u8(b' ').unwrap();
        w.put_u64_dec(u64::MAX).unwrap();
        assert_eq!(w.written(), b"-9223372036854775808 0 18446744073709551615");
    }
}
