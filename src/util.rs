//! Small helpers shared by the codecs: decimal conversion without `core::fmt`.

/// `x / d` and `x % d` by long division in 16-bit steps with 32-bit arithmetic: a 32-bit
/// target then needs no 64-bit division routine. `d` must not be 0 (then `(0, 0)`).
pub fn div_rem_u64(x: u64, d: u16) -> (u64, u16) {
    let mut limbs = [x as u32, (x >> 32) as u32];
    let rem = div_small(&mut limbs, u32::from(d));
    let [lo, hi] = limbs;
    if d == 0 {
        return (0, 0);
    }
    ((u64::from(hi) << 32) | u64::from(lo), rem as u16)
}

/// `a = a / d` on little-endian `u32` limbs, by long division in 16-bit steps with 32-bit
/// arithmetic (no 64-bit division routine); returns the remainder. `d` must be below 2^16
/// and not 0 (then `a` is left as it is and the result is 0).
#[inline(never)]
pub fn div_small(a: &mut [u32], d: u32) -> u32 {
    if d == 0 || d > 0xFFFF {
        return 0;
    }
    let mut rem = 0u32;
    for x in a.iter_mut().rev() {
        // `rem < d <= 0xFFFF`, so `rem << 16 | half` fits in 32 bits.
        let t = (rem << 16) | (*x >> 16);
        let u = ((t % d) << 16) | (*x & 0xFFFF);
        rem = u % d;
        *x = ((t / d) << 16) | (u / d);
    }
    rem
}

/// Writes the decimal digits of `v` at the end of `tmp` and returns them.
pub fn u64_to_dec(v: u64, tmp: &mut [u8; 20]) -> &[u8] {
    let mut limbs = [v as u32, (v >> 32) as u32];
    let mut start = tmp.len();
    // 20 digits hold u64::MAX, so the loop ends on zero before the slots run out.
    for slot in tmp.iter_mut().rev() {
        // The remainder is below 10, so the cast cannot truncate.
        *slot = b'0' + div_small(&mut limbs, 10) as u8;
        start -= 1;
        if limbs == [0, 0] {
            break;
        }
    }
    tmp.get(start..).unwrap_or(&[])
}

/// `bytes` as a `str` when it is valid UTF-8 (RFC 3629: no overlong forms, no surrogates,
/// nothing above U+10FFFF). A compact validator: `core::str::from_utf8` is several times
/// larger on a Cortex-M.
pub fn utf8(bytes: &[u8]) -> Option<&str> {
    let mut rest = bytes;
    while let Some((&lead, tail)) = rest.split_first() {
        let (len, min) = match lead {
            0x00..=0x7f => (0usize, 0u32),
            0xc2..=0xdf => (1, 0x80),
            0xe0..=0xef => (2, 0x800),
            0xf0..=0xf4 => (3, 0x1_0000),
            _ => return None,
        };
        let cont = tail.get(..len)?;
        let mut cp = u32::from(lead) & (0x7f >> len);
        for &c in cont {
            if c & 0xc0 != 0x80 {
                return None;
            }
            cp = (cp << 6) | u32::from(c & 0x3f);
        }
        if cp < min || cp > 0x10_ffff || (0xd800..=0xdfff).contains(&cp) {
            return None;
        }
        rest = tail.get(len..)?;
    }
    // SAFETY: every sequence was checked above to be well-formed UTF-8.
    Some(unsafe { core::str::from_utf8_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_division() {
        for x in [
            0u64,
            1,
            9,
            10,
            999,
            1000,
            65535,
            65536,
            u64::from(u32::MAX) + 7,
            u64::MAX,
            1 << 63,
        ] {
            for d in [1u16, 3, 10, 1000, 65535] {
                assert_eq!(
                    div_rem_u64(x, d),
                    (x / u64::from(d), (x % u64::from(d)) as u16),
                    "{x} / {d}"
                );
            }
        }
        assert_eq!(div_rem_u64(5, 0), (0, 0));
    }

    #[test]
    fn utf8_agrees_with_core() {
        let cases: &[&[u8]] = &[
            b"",
            b"abc",
            "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}".as_bytes(),
            &[0xc0, 0x80],
            &[0xc1, 0xbf],
            &[0xe0, 0x80, 0x80],
            &[0xed, 0xa0, 0x80],
            &[0xf4, 0x90, 0x80, 0x80],
            &[0xf5, 0x80, 0x80, 0x80],
            &[0x80],
            &[0xe2, 0x82],
            &[0xff],
            &[0xf0, 0x9f, 0x98, 0x80],
        ];
        for c in cases {
            assert_eq!(utf8(c), core::str::from_utf8(c).ok(), "{c:02x?}");
        }
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..300_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 5) as usize;
            // Bias towards the interesting lead bytes.
            let bytes: std::vec::Vec<u8> = (0..len)
                .map(|i| (x >> (8 * i + 3)) as u8 | if i == 0 { 0xc0 } else { 0 })
                .collect();
            assert_eq!(
                utf8(&bytes),
                core::str::from_utf8(&bytes).ok(),
                "{bytes:02x?}"
            );
            let raw: std::vec::Vec<u8> = (0..len).map(|i| (x >> (8 * i)) as u8).collect();
            assert_eq!(utf8(&raw), core::str::from_utf8(&raw).ok(), "{raw:02x?}");
        }
    }
}
