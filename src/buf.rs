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
///
/// With block-wise transfer a writer can be *windowed* ([`Writer::window`]): it then counts
/// a logical position past the end of its buffer and stores only the bytes whose logical
/// offset falls in the window (after those written before the window was set). Lengths,
/// [`Writer::truncate`] and [`Writer::patch`] speak logical positions; [`Writer::written`]
/// gives the bytes stored.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    /// The logical position (the physical one too, unless windowed).
    pos: usize,
    #[cfg(feature = "blockwise")]
    win: Window,
}

/// Logical positions below `keep` are stored in place; those in `start..end` at
/// `keep + (position - start)`; others are counted only. Not windowed: `keep` is `usize::MAX`.
#[cfg(feature = "blockwise")]
#[derive(Clone, Copy)]
struct Window {
    keep: usize,
    start: usize,
    end: usize,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer {
            buf,
            pos: 0,
            #[cfg(feature = "blockwise")]
            win: Window {
                keep: usize::MAX,
                start: 0,
                end: 0,
            },
        }
    }

    /// Bytes written so far (the logical position when windowed).
    pub fn len(&self) -> usize {
        self.pos
    }

    /// Makes the writer windowed from its current position: of what follows, only the
    /// `size` bytes from `offset` on are stored (right after what was written so far); the
    /// rest is counted. Fails when the buffer cannot hold those bytes.
    #[cfg(feature = "blockwise")]
    pub fn window(&mut self, offset: usize, size: usize) -> Result<(), NoSpace> {
        let keep = self.pos;
        if keep.checked_add(size).map_or(true, |e| e > self.buf.len()) {
            return Err(NoSpace);
        }
        let start = keep.checked_add(offset).ok_or(NoSpace)?;
        let end = start.checked_add(size).ok_or(NoSpace)?;
        self.win = Window { keep, start, end };
        Ok(())
    }

    /// True when the writer is windowed.
    #[cfg(feature = "blockwise")]
    pub fn is_windowed(&self) -> bool {
        self.win.keep != usize::MAX
    }

    /// Where logical position `at` is stored, if it is.
    #[cfg(feature = "blockwise")]
    fn at(&self, at: usize) -> Option<usize> {
        let w = self.win;
        if at < w.keep {
            Some(at)
        } else if at >= w.start && at < w.end {
            Some(at - w.start + w.keep)
        } else {
            None
        }
    }

    /// Overwrites the bytes from logical position `at` (below [`Writer::len`]) that are
    /// stored; the others are skipped.
    #[cfg(feature = "blockwise")]
    pub fn patch(&mut self, at: usize, data: &[u8]) {
        for (i, &b) in data.iter().enumerate() {
            let slot = at.checked_add(i).and_then(|l| self.at(l));
            if let Some(d) = slot.and_then(|p| self.buf.get_mut(p)) {
                *d = b;
            }
        }
    }

    /// The number of bytes stored (the length when not windowed).
    pub fn stored(&self) -> usize {
        #[cfg(feature = "blockwise")]
        if self.pos > self.win.keep {
            let w = self.win;
            return w.keep + self.pos.min(w.end).saturating_sub(w.start);
        }
        self.pos
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.stored())
    }

    /// Appends `data`, or writes nothing and returns [`NoSpace`].
    pub fn put(&mut self, data: &[u8]) -> Result<(), NoSpace> {
        let end = self.pos.checked_add(data.len()).ok_or(NoSpace)?;
        #[cfg(feature = "blockwise")]
        if self.is_windowed() {
            let at = self.pos;
            self.pos = end;
            self.patch(at, data);
            return Ok(());
        }
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
        let at = self.stored();
        self.buf.get_mut(at..).unwrap_or_default()
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

    /// The bytes written so far (those stored, when windowed).
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.stored()).unwrap_or(&[])
    }

    /// Mutable access to the bytes written so far (for back-patching lengths; not for a
    /// windowed writer, whose logical positions differ: see [`Writer::patch`]).
    pub fn written_mut(&mut self) -> &mut [u8] {
        let at = self.stored();
        self.buf.get_mut(..at).unwrap_or(&mut [])
    }

    /// Drops everything written after `len` (used to undo a partial write).
    pub fn truncate(&mut self, len: usize) {
        if len < self.pos {
            self.pos = len;
        }
    }

    /// Gives the underlying buffer back, with the number of bytes written (stored).
    pub fn finish(self) -> (&'a mut [u8], usize) {
        let at = self.stored();
        (self.buf, at)
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

    /// Writes `parts` (truncating back by `undo` bytes after each part given as `Err`)
    /// through a writer windowed at `offset..offset + size` after a 2-byte head, and
    /// returns the stored bytes and the logical length.
    #[cfg(feature = "blockwise")]
    fn windowed(offset: usize, size: usize, parts: &[Result<&[u8], usize>]) -> (Vec<u8>, usize) {
        let mut b = [0u8; 40];
        let mut w = Writer::new(&mut b);
        w.put(b"hd").unwrap();
        w.window(offset, size).unwrap();
        assert!(w.is_windowed());
        for p in parts {
            match p {
                Ok(data) => w.put(data).unwrap(),
                Err(undo) => w.truncate(w.len() - undo),
            }
        }
        let len = w.len();
        (w.written().to_vec(), len)
    }

    #[cfg(feature = "blockwise")]
    #[test]
    fn window_stores_its_slice_and_counts_the_rest() {
        let text: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let parts: Vec<Result<&[u8], usize>> = text.chunks(5).map(Ok).collect();
        for size in [1, 4, 7, 16] {
            for offset in 0..text.len() + 3 {
                let (stored, len) = windowed(offset, size, &parts);
                assert_eq!(len, 2 + text.len(), "logical length");
                let end = (offset + size).min(text.len());
                let want = text.get(offset..end).unwrap_or(&[]);
                assert_eq!(&stored[..2], b"hd");
                assert_eq!(&stored[2..], want, "offset {offset} size {size}");
            }
        }
    }

    #[cfg(feature = "blockwise")]
    #[test]
    fn window_truncate_and_patch_use_logical_positions() {
        // "abcXYZ", drop "XYZ", then "defgh": the stream is "abcdefgh".
        let parts: [Result<&[u8], usize>; 3] = [Ok(b"abcXYZ"), Err(3), Ok(b"defgh")];
        for offset in 0..8 {
            let (stored, len) = windowed(offset, 3, &parts);
            assert_eq!(len, 10);
            let end = (offset + 3).min(8);
            assert_eq!(&stored[2..], &b"abcdefgh"[offset..end]);
        }
        // A patch writes only what falls in the window (and in the head).
        let mut b = [0u8; 8];
        let mut w = Writer::new(&mut b);
        w.put(b"h").unwrap();
        w.window(2, 3).unwrap();
        w.put(b"abcdef").unwrap();
        w.patch(0, b"HAB");
        w.patch(3, b"CDEF");
        assert_eq!(w.written(), b"HCDE");
        assert_eq!(w.len(), 7);
        // A window the buffer cannot hold.
        let mut b = [0u8; 8];
        let mut w = Writer::new(&mut b);
        w.put(b"hd").unwrap();
        assert_eq!(w.window(100, 7), Err(NoSpace));
        assert!(!w.is_windowed());
        assert_eq!(w.window(100, 6), Ok(()));
    }
}
