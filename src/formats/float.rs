//! Decimal text ⇄ `f64` without `core`'s float parsing and printing, and without floating-point
//! arithmetic: values are taken apart with [`f64::to_bits`] and built with [`f64::from_bits`],
//! and all the work is done on integers. On a single-precision FPU (Cortex-M4F) this links no
//! soft-double helpers, and the code needs no power-of-ten tables.
//!
//! Both directions are exact:
//! - [`write_shortest`] writes the shortest digit string that reads back to the same bits
//!   (when several are equally short, the one nearest the value: the same digits as Rust's
//!   `{:e}`). It uses the classic exact "free-format" digit generation (the Dragon4 family:
//!   stop as soon as the digits identify the value) on a small fixed-size big integer.
//! - [`parse`] rounds correctly (to nearest, ties to even) whatever the number of digits. The
//!   first 19 significant digits give the result, or its two candidates when the digits after
//!   them leave the rounding in doubt; then the input is compared digit by digit with the
//!   exact decimal expansion of the halfway point between the candidates.
//!
//! Memory: nothing is allocated. A big integer is `LIMBS` 32-bit limbs (136 bytes) on the
//! stack. Worst-case stack on a Cortex-M4 (`opt-level = "z"`, LTO; summed from the `push` and
//! `sub sp` of each frame on the deepest call path): about 650 bytes for [`write_shortest`]
//! (three big integers, 408 bytes, in one frame) and about 470 for [`parse`] (two).
//!
//! Code size, measured by linking a crate that calls only these two functions into a Thumb-2
//! image with `--gc-sections`: about 2.9 KB of code, plus `memclr4` and 64-bit shift helpers
//! the firmware has anyway, and no tables. Speed is traded for size: a parse takes a 64-step
//! shift-and-subtract division on 34-limb numbers (tens of thousands of cycles).

use crate::buf::Writer;
use crate::formats::FormatError;
use core::cmp::Ordering;

/// Limbs in a big integer: 1088 bits. The largest value held is `10 r` during digit
/// generation for the smallest values, below `10 s` where `s` is at most `10 * 2^1075`
/// (the scale of the smallest subnormal, times ten after the correction of `k`): below 2^1082.
const LIMBS: usize = 34;

/// Bits of an `f64` holding the fraction.
const FRAC_MASK: u64 = (1 << 52) - 1;

/// The bits of positive infinity; every finite positive value has smaller bits.
const INF_BITS: u64 = 0x7FF0_0000_0000_0000;

/// A non-negative integer below 2^1088, least significant limb first. An operation that
/// overflowed would lose the top bits; the bounds in the comments show that none does (and
/// the tests check it).
struct Big([u32; LIMBS]);

impl Big {
    fn new(v: u64) -> Big {
        let mut b = Big([0; LIMBS]);
        let [lo, hi, ..] = &mut b.0;
        *lo = v as u32;
        *hi = (v >> 32) as u32;
        b
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&x| x == 0)
    }

    /// The number of significant bits (0 for zero).
    fn bit_len(&self) -> u32 {
        let mut len = LIMBS as u32 * 32;
        for &x in self.0.iter().rev() {
            if x != 0 {
                return len - x.leading_zeros();
            }
            len -= 32;
        }
        0
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for x in self.0.iter_mut() {
            let p = u64::from(*x) * u64::from(m) + carry;
            *x = p as u32;
            carry = p >> 32;
        }
        #[cfg(test)]
        assert_eq!(carry, 0, "big integer overflow");
    }

    fn mul_pow5(&mut self, mut n: u32) {
        while n > 0 {
            let step = n.min(13); // 5^13 < 2^32
            self.mul_small(5u32.wrapping_pow(step));
            n -= step;
        }
    }

    fn mul_pow10(&mut self, n: u32) {
        self.mul_pow5(n);
        self.shl(n);
    }

    /// Multiplies by `2^n`.
    fn shl(&mut self, n: u32) {
        let limbs = (n / 32) as usize;
        let bits = n % 32;
        #[cfg(test)]
        assert!(
            self.is_zero() || self.bit_len() + n <= LIMBS as u32 * 32,
            "big integer overflow"
        );
        // From the top down, so every source limb is read before it is overwritten.
        for i in (0..LIMBS).rev() {
            let src = |k: usize| {
                i.checked_sub(k)
                    .and_then(|j| self.0.get(j))
                    .copied()
                    .unwrap_or(0)
            };
            let hi = src(limbs).wrapping_shl(bits);
            // `>> 1 >> (31 - bits)` is `>> (32 - bits)` without a shift by 32 when `bits` is 0.
            let lo = (src(limbs + 1) >> 1).wrapping_shr(31 - bits);
            if let Some(x) = self.0.get_mut(i) {
                *x = hi | lo;
            }
        }
    }

    /// Subtracts `o`, which must not be larger.
    fn sub(&mut self, o: &Big) {
        let mut borrow = false;
        for (x, &y) in self.0.iter_mut().zip(o.0.iter()) {
            let (d, b1) = x.overflowing_sub(y);
            let (d, b2) = d.overflowing_sub(u32::from(borrow));
            *x = d;
            borrow = b1 | b2;
        }
    }

    /// `self` against `o`.
    fn cmp(&self, o: &Big) -> Ordering {
        self.0.iter().rev().cmp(o.0.iter().rev())
    }

    /// `self + (b << shift)` against `c`, for `shift` 0 or 1, without a temporary: the sum is
    /// formed from the bottom up and the most significant differing limb decides.
    fn cmp_sum(&self, b: &Big, shift: u32, c: &Big) -> Ordering {
        let mut carry = 0u64;
        let mut ord = Ordering::Equal;
        for ((&x, &y), &z) in self.0.iter().zip(b.0.iter()).zip(c.0.iter()) {
            let s = u64::from(x) + (u64::from(y) << (shift & 1)) + carry;
            carry = s >> 32;
            ord = (s as u32).cmp(&z).then(ord);
        }
        if carry != 0 {
            Ordering::Greater
        } else {
            ord
        }
    }

    /// Replaces `self` by `self mod s` and returns `self / s`, which must be below 10.
    fn div_rem_digit(&mut self, s: &Big) -> u8 {
        let mut d = 0;
        while d < 9 && self.cmp(s) != Ordering::Less {
            self.sub(s);
            d += 1;
        }
        d
    }
}

/// Sets `r / s` to the positive value `mant * 2^exp` divided by `10^k`, and returns `k`; `r`
/// and `s` both carry an extra factor `2^extra`. The estimate of `k` is exact or one too
/// small (`r / s` is in `[0.1, 2)`): callers correct it.
fn scaled(r: &mut Big, s: &mut Big, mant: u64, exp: i32, extra: u32) -> i32 {
    *r = Big::new(mant);
    r.shl(exp.max(0) as u32 + extra);
    *s = Big::new(1);
    s.shl((-exp).max(0) as u32 + extra);
    // floor(log2(value)), then k = floor(log10(2) * that) + 1 (78913 / 2^18 is log10(2) to
    // within 2^-24, exact at this range).
    let e2 = exp + 63 - mant.leading_zeros() as i32;
    let k = ((e2 * 78913) >> 18) + 1;
    if k >= 0 {
        s.mul_pow10(k as u32);
    } else {
        r.mul_pow10(k.unsigned_abs());
    }
    k
}

/// The mantissa (with the hidden bit) and exponent of a positive finite `f64`'s bits:
/// the value is `mant * 2^exp`.
fn split(bits: u64) -> (u64, i32) {
    let biased = ((bits >> 52) & 0x7FF) as i32;
    let frac = bits & FRAC_MASK;
    if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), biased - 1075)
    }
}

/// Shortest digits of the positive finite value with bits `bits`, into `digits`; returns the
/// digit count and `k` (the value is `0.d1d2... * 10^k`). Not inlined, so that the caller's
/// frame stays small.
#[inline(never)]
fn shortest(bits: u64, digits: &mut [u8; 17]) -> (usize, i32) {
    let (mant, exp) = split(bits);
    // When the value is a power of two (but not the smallest normal), the gap to the next
    // value below is half the gap above: m+ = 2 m-.
    let unequal = u32::from(bits & FRAC_MASK == 0 && bits >> 52 > 1);
    // An even mantissa rounds ties to itself, so the interval's ends are included.
    let even = mant & 1 == 0;
    // v = r / s, m- / s = half the gap below, (m- << unequal) / s = half the gap above.
    let mut r = Big([0; LIMBS]);
    let mut s = Big([0; LIMBS]);
    let mut k = scaled(&mut r, &mut s, mant, exp, 1 + unequal);
    let mut minus = Big::new(1);
    minus.shl(exp.max(0) as u32);
    if k < 0 {
        minus.mul_pow10(k.unsigned_abs());
    }
    // Make the upper end of the rounding interval at most 10^k (below it, when not even).
    let high = r.cmp_sum(&minus, unequal, &s);
    if high == Ordering::Greater || (even && high == Ordering::Equal) {
        s.mul_small(10);
        k += 1;
    }
    let mut n = 0;
    // Seventeen digits always identify an f64, so the loop ends by its own test.
    for slot in digits.iter_mut() {
        r.mul_small(10);
        minus.mul_small(10);
        let mut d = r.div_rem_digit(&s);
        let low = match r.cmp(&minus) {
            Ordering::Less => true,
            Ordering::Equal => even,
            Ordering::Greater => false,
        };
        let high = match r.cmp_sum(&minus, unequal, &s) {
            Ordering::Greater => true,
            Ordering::Equal => even,
            Ordering::Less => false,
        };
        // Round up when only the upper digit is in range, or when both are and the rest is
        // at least half.
        if high && (!low || r.cmp_sum(&r, 0, &s) != Ordering::Less) {
            d += 1;
        }
        *slot = d;
        n += 1;
        if low || high {
            break;
        }
    }
    (n, k)
}

/// Writes a finite `v` as the shortest decimal that parses back to the same bits.
///
/// Plain notation for decimal exponents -6 to 20, with `.0` after integers: `21.5`,
/// `-0.001`, `100.0`, `100000000000000000000.0`, `0.000001`. `e` notation beyond, with no
/// `+` and no leading zeros in the exponent: `1e21`, `1.5e300`, `1e-7`, `-5e-324`. Zero is
/// `0.0`, negative zero `-0.0`. At most 25 bytes.
///
/// NaN and infinities give [`FormatError::OutOfRange`]. When the writer has too little room
/// the result is [`FormatError::NoSpace`] and the writer is left as it was (what was written
/// of the number is truncated away).
pub fn write_shortest(v: f64, w: &mut Writer<'_>) -> Result<(), FormatError> {
    let bits = v.to_bits();
    let abs = bits & !(1 << 63);
    if abs >= INF_BITS {
        return Err(FormatError::OutOfRange);
    }
    let start = w.len();
    let mut full = false;
    let mut push = |b: u8| full |= w.put_u8(b).is_err();
    if bits != abs {
        push(b'-');
    }
    // Digits after the n-th stay 0.
    let mut digits = [0u8; 17];
    let (n, k) = if abs == 0 {
        (1, 1) // one digit, 0, at the units place
    } else {
        shortest(abs, &mut digits)
    };
    // The value is 0.d0d1d2... * 10^k = d0.d1d2... * 10^x. Digit j is written for j from
    // `first` to `last`, with the point before digit `point`; digits outside 0..n are 0.
    let n = n as i32;
    let x = k - 1;
    let plain = (-6..=20).contains(&x);
    let (first, point, last) = if plain {
        (x.min(0), k, (n - 1).max(k))
    } else {
        (0, 1, n - 1)
    };
    for j in first..=last {
        if j == point {
            push(b'.');
        }
        // A negative j becomes a huge index, for which `get` gives None.
        push(b'0' + digits.get(j as usize).copied().unwrap_or(0));
    }
    if !plain {
        push(b'e');
        if x < 0 {
            push(b'-');
        }
        let a = x.unsigned_abs(); // at most 324
        if a >= 100 {
            push(b'0' + (a / 100) as u8);
        }
        if a >= 10 {
            push(b'0' + (a / 10 % 10) as u8);
        }
        push(b'0' + (a % 10) as u8);
    }
    if full {
        w.truncate(start);
        return Err(FormatError::NoSpace);
    }
    Ok(())
}

/// Rounds `q * 2^b` to the nearest `f64` (ties to even) and returns its bits, or
/// [`INF_BITS`] when it is too large. `sticky` says that the exact value is a little above
/// `q * 2^b` (by less than `2^b`); then `q` must have at least 55 significant bits.
fn round(q: u64, b: i32, sticky: bool) -> u64 {
    if q == 0 {
        return 0;
    }
    let lz = q.leading_zeros();
    // Shifting left fills zeros below the rounding bit; `sticky` keeps what they stood for.
    let q = q << lz;
    let b = b - lz as i32;
    // value = q * 2^b with q in [2^63, 2^64): its binary exponent is b + 63.
    let e2 = b + 63;
    let (shift, base) = if e2 < -1022 {
        // Subnormal: the last kept bit is worth 2^-1074.
        ((-1074 - b) as u32, 0)
    } else {
        // 53 bits kept; the hidden bit of `m` adds one to the biased exponent.
        (11, ((e2 + 1022) as u64) << 52)
    };
    if shift > 64 {
        // Below half the smallest subnormal.
        return 0;
    }
    // shift is in 11..=64.
    let m = q.checked_shr(shift).unwrap_or(0);
    let half = (q >> (shift - 1)) & 1 == 1;
    let below = q & ((1u64 << (shift - 1)) - 1) != 0;
    let up = half && (below || sticky || m & 1 == 1);
    // A carry out of the mantissa moves into the exponent field, as it should.
    base.wrapping_add(m)
        .wrapping_add(u64::from(up))
        .min(INF_BITS)
}

/// Bits of the `f64` nearest to `w * 10^e10`, or to a value just above it when `sticky`
/// (`w >= 10^18` then). Needs `w > 0` and `-342 <= e10 <= 309`.
fn approx(w: u64, e10: i32, sticky: bool) -> u64 {
    // value = a / d * 2^e10 with a = w * 5^e10 (below 2^782) or d = 5^-e10 (below 2^795).
    let mut a = Big::new(w);
    a.mul_pow5(e10.max(0) as u32);
    let mut d = Big::new(1);
    d.mul_pow5((-e10).max(0) as u32);
    // Scale by 2^delta so that a / d is in (2^62, 2^64): a / d * 2^(e10 - delta).
    let delta = 63 + d.bit_len() as i32 - a.bit_len() as i32;
    a.shl(delta.max(0) as u32);
    // Restoring division against d * 2^64: 64 quotient bits.
    d.shl((64 - delta.min(0)) as u32);
    let mut q = 0u64;
    for _ in 0..64 {
        a.shl(1);
        q <<= 1;
        if a.cmp(&d) != Ordering::Less {
            a.sub(&d);
            q |= 1;
        }
    }
    round(q, e10 - delta, sticky || !a.is_zero())
}

/// Compares the decimal `0.d1d2d3... * 10^dp`, whose digits (with leading zeros and perhaps
/// a point) are `mant`, with the point halfway between the `f64` with bits `lo` and the next.
/// Not inlined, so that its two big integers and those of [`approx`] share stack space.
#[inline(never)]
fn cmp_halfway(lo: u64, mant: &[u8], dp: i32) -> Ordering {
    let (m, exp) = split(lo);
    // halfway = (2 m + 1) * 2^(exp - 1).
    let mut r = Big([0; LIMBS]);
    let mut s = Big([0; LIMBS]);
    let mut k = scaled(&mut r, &mut s, 2 * m + 1, exp - 1, 0);
    if r.cmp(&s) != Ordering::Less {
        s.mul_small(10);
        k += 1;
    }
    if k != dp {
        return dp.cmp(&k);
    }
    // Now halfway = r / s * 10^k with r / s in [0.1, 1): generate its digits one by one.
    let mut started = false;
    for &c in mant {
        if c == b'.' || (!started && c == b'0') {
            continue;
        }
        started = true;
        r.mul_small(10);
        let d = b'0' + r.div_rem_digit(&s);
        if c != d {
            return c.cmp(&d);
        }
    }
    if r.is_zero() {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}

/// Reads a decimal number: `[+-]digits[.digits][(e|E)[+-]digits]`, where either the integer
/// or the fraction digits may be missing (`5.`, `.5`) but not both. Any number of digits is
/// accepted, and the result is the nearest `f64` (ties to even), subnormals included; a value
/// below half the smallest subnormal gives a zero of the number's sign.
///
/// Anything else (empty, a bare sign or point, spaces, `inf`, `nan`, hexadecimal, `_`, an
/// exponent without digits) is [`FormatError::Malformed`]. A value that rounds beyond
/// `f64::MAX` is [`FormatError::OutOfRange`]. Exponents far out of range (`1e99999999999`)
/// are handled without overflow.
pub fn parse(s: &[u8]) -> Result<f64, FormatError> {
    let (neg, body) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let count_digits = |t: &[u8]| t.iter().take_while(|c| c.is_ascii_digit()).count();
    let int_len = count_digits(body);
    let mut rest = body.get(int_len..).unwrap_or(&[]);
    let mut mant_len = int_len;
    let mut frac_len = 0;
    if let Some((b'.', after)) = rest.split_first() {
        frac_len = count_digits(after);
        mant_len += 1 + frac_len;
        rest = after.get(frac_len..).unwrap_or(&[]);
    }
    if int_len + frac_len == 0 {
        return Err(FormatError::Malformed);
    }
    let mut exp: i64 = 0;
    if let Some((&e, after)) = rest.split_first() {
        if e | 0x20 != b'e' {
            return Err(FormatError::Malformed);
        }
        let (exp_neg, after) = match after.split_first() {
            Some((b'-', t)) => (true, t),
            Some((b'+', t)) => (false, t),
            _ => (false, after),
        };
        if after.is_empty() || count_digits(after) != after.len() {
            return Err(FormatError::Malformed);
        }
        for &c in after {
            // Capped far beyond any exponent that matters, so this cannot overflow.
            exp = (exp * 10 + i64::from(c - b'0')).min(1 << 40);
        }
        if exp_neg {
            exp = -exp;
        }
    }
    let mant = body.get(..mant_len).unwrap_or(&[]);
    // The first 19 significant digits into w, and whether any later digit is not zero.
    let mut zeros = 0i64;
    let mut w = 0u64;
    let mut taken = 0i32;
    let mut more = false;
    for &c in mant {
        let d = c.wrapping_sub(b'0');
        if c == b'.' {
            continue;
        } else if w == 0 && d == 0 {
            zeros += 1;
        } else if taken < 19 {
            w = w * 10 + u64::from(d);
            taken += 1;
        } else {
            more |= d != 0;
        }
    }
    let sign = u64::from(neg) << 63;
    // The value is 0.d1d2d3... * 10^dp, d1 being the first non-zero digit. Slices are shorter
    // than 2^63 bytes, so this does not overflow.
    let dp = int_len as i64 - zeros + exp;
    if dp > 309 && w != 0 {
        // At least 10^309.
        return Err(FormatError::OutOfRange);
    }
    if dp < -323 || w == 0 {
        // Zero, or below 10^-324: less than half the smallest subnormal.
        return Ok(f64::from_bits(sign));
    }
    let dp = dp as i32;
    let e10 = dp - taken;
    let mut bits = approx(w, e10, more);
    if more {
        // The value is strictly between w and w + 1 (times 10^e10); when those round apart,
        // the halfway point between the two results decides.
        let hi = approx(w + 1, e10, false);
        if hi != bits {
            bits = match cmp_halfway(bits, mant, dp) {
                Ordering::Greater => hi,
                Ordering::Less => bits,
                Ordering::Equal if bits & 1 == 0 => bits,
                Ordering::Equal => hi,
            };
        }
    }
    if bits >= INF_BITS {
        return Err(FormatError::OutOfRange);
    }
    Ok(f64::from_bits(bits | sign))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random numbers for the tests (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn show(v: f64) -> String {
        let mut b = [0u8; 40];
        let mut w = Writer::new(&mut b);
        write_shortest(v, &mut w).unwrap();
        String::from_utf8(w.written().to_vec()).unwrap()
    }

    fn parse_str(s: &str) -> Result<f64, FormatError> {
        parse(s.as_bytes())
    }

    /// The documented layout, built from the digits of core's `{:e}`.
    fn expected(v: f64) -> String {
        let sign = if v.is_sign_negative() { "-" } else { "" };
        if v == 0.0 {
            return format!("{sign}0.0");
        }
        let e = format!("{:e}", v.abs());
        let (m, x) = e.split_once('e').unwrap();
        let x: i32 = x.parse().unwrap();
        let digits: String = m.chars().filter(|&c| c != '.').collect();
        let n = digits.len() as i32;
        let k = x + 1;
        let body = if (-6..=20).contains(&x) {
            if k <= 0 {
                format!("0.{}{}", "0".repeat((-k) as usize), digits)
            } else if k >= n {
                format!("{}{}.0", digits, "0".repeat((k - n) as usize))
            } else {
                format!("{}.{}", &digits[..k as usize], &digits[k as usize..])
            }
        } else {
            format!("{m}e{x}")
        };
        format!("{sign}{body}")
    }

    fn core_parse(s: &str) -> Result<f64, FormatError> {
        let v: f64 = s.parse().map_err(|_| FormatError::Malformed)?;
        if v.is_infinite() {
            Err(FormatError::OutOfRange)
        } else {
            Ok(v)
        }
    }

    fn same(a: Result<f64, FormatError>, b: Result<f64, FormatError>) -> bool {
        match (a, b) {
            (Ok(x), Ok(y)) => x.to_bits() == y.to_bits(),
            (x, y) => x.err() == y.err(),
        }
    }

    fn check_parse(s: &str) {
        let ours = parse_str(s);
        let core = core_parse(s);
        assert!(same(ours, core), "{s}: {ours:?} vs core {core:?}");
    }

    #[test]
    fn shortest_forms() {
        for (v, s) in [
            (21.5, "21.5"),
            (-0.001, "-0.001"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1e20, "100000000000000000000.0"),
            (1e21, "1e21"),
            (1.5e300, "1.5e300"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (5e-324, "5e-324"),
            (-5e-324, "-5e-324"),
            (f64::MAX, "1.7976931348623157e308"),
            (f64::MIN, "-1.7976931348623157e308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (2.225073858507201e-308, "2.225073858507201e-308"),
            (9007199254740993.0, "9007199254740992.0"),
            (123456.789, "123456.789"),
            (f64::from(f32::MAX), "3.4028234663852886e38"),
            (1.0, "1.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "10000000000000000.0"),
            (-1.7976931348623157e-300, "-1.7976931348623157e-300"),
        ] {
            assert_eq!(show(v), s, "{v:e}");
            assert_eq!(show(v), expected(v));
        }
        assert!(parse_str(&show(-0.0)).unwrap().is_sign_negative());
    }

    #[test]
    fn non_finite_and_no_space() {
        let mut b = [0u8; 40];
        let mut w = Writer::new(&mut b);
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -f64::NAN] {
            assert_eq!(write_shortest(v, &mut w), Err(FormatError::OutOfRange));
        }
        assert!(w.is_empty());
        // The longest output takes 25 bytes.
        assert_eq!(show(-0.0000012345678901234567), "-0.0000012345678901234567");
        assert_eq!(show(-1.2345678901234567e-308), "-1.2345678901234567e-308");
        for (v, len) in [(0.125, 5), (-1.5e300, 8), (-0.0000012345678901234567, 25)] {
            // One byte short, after what the writer already holds: NoSpace, and the earlier
            // content stays as it was, without part of the number.
            let mut small = [0u8; 40];
            let mut ws = Writer::new(&mut small[..len + 1]);
            ws.put(b"ab").unwrap();
            assert_eq!(write_shortest(v, &mut ws), Err(FormatError::NoSpace));
            assert_eq!(ws.written(), b"ab");
            let mut exact = [0u8; 40];
            let mut we = Writer::new(&mut exact[..len + 2]);
            we.put(b"ab").unwrap();
            assert_eq!(write_shortest(v, &mut we), Ok(()));
            assert_eq!(we.written().len(), len + 2);
            assert_eq!(we.remaining(), 0);
        }
    }

    /// Every subnormal with a small mantissa, and the values around the smallest normal,
    /// where the big integers are largest.
    #[test]
    fn extremes_round_trip() {
        let min_normal = f64::MIN_POSITIVE.to_bits();
        let max = f64::MAX.to_bits();
        for bits in (1..3000)
            .chain(min_normal - 3000..min_normal + 3000)
            .chain(max - 3000..=max)
        {
            for bits in [bits, bits | 1 << 63] {
                let v = f64::from_bits(bits);
                let s = show(v);
                assert_eq!(s, expected(v));
                assert_eq!(parse_str(&s).unwrap().to_bits(), bits, "{s}");
            }
        }
    }

    /// Random bit patterns: the output is exactly the documented layout of core's shortest
    /// digits, and both core and `parse` read it back to the same bits.
    #[test]
    fn random_bits_round_trip() {
        let count = if cfg!(debug_assertions) {
            20_000
        } else {
            1_000_000
        };
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut tested = 0;
        for i in 0..count {
            let mut bits = rng.next();
            // A share of small exponents and small mantissas, where the edge cases are.
            match i % 8 {
                0 => bits &= 0x800F_FFFF_FFFF_FFFF,
                1 => bits &= 0xFFF0_0000_0000_00FF,
                2 => bits &= 0xFFF0_0000_0000_0000,
                _ => {}
            }
            let v = f64::from_bits(bits);
            if !v.is_finite() {
                continue;
            }
            let s = show(v);
            assert_eq!(s, expected(v), "bits {bits:#x}");
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), bits, "{s}");
            assert_eq!(parse_str(&s).unwrap().to_bits(), bits, "{s}");
            tested += 1;
        }
        assert!(tested > count * 9 / 10);
    }

    fn random_digits(rng: &mut Rng, n: usize) -> String {
        (0..n)
            .map(|i| {
                let d = rng.below(10) as u8;
                // Runs of 0s and 9s make the values sit near rounding boundaries.
                let d = match rng.below(4) {
                    0 if i > 0 => 0,
                    1 => 9,
                    _ => d,
                };
                char::from(b'0' + d)
            })
            .collect()
    }

    /// Random decimal strings of every shape against core.
    #[test]
    fn random_strings_match_core() {
        let count = if cfg!(debug_assertions) {
            20_000
        } else {
            500_000
        };
        let mut rng = Rng(0x1234_5678_9ABC_DEF1);
        for i in 0..count {
            let n = if i % 50 == 0 {
                300 + rng.below(500) as usize
            } else {
                1 + rng.below(40) as usize
            };
            let digits = random_digits(&mut rng, n);
            let point = rng.below(n as u64 + 1) as usize;
            // The value's decimal exponent is spread over -350..350.
            let exp = rng.below(700) as i64 - 350 - point as i64;
            let sign = ["", "-", "+"][rng.below(3) as usize];
            let e = ["e", "E"][rng.below(2) as usize];
            let s = match rng.below(3) {
                0 => format!("{sign}{digits}{e}{exp}"),
                1 => format!("{sign}{}.{}{e}{exp}", &digits[..point], &digits[point..]),
                _ => format!("{sign}{}.{}", &digits[..point], &digits[point..]),
            };
            check_parse(&s);
        }
    }

    /// The exact decimal digits and exponent of `h * 2^x`: the value is `digits * 10^e`.
    fn exact_decimal(h: u64, x: i32) -> (String, i32) {
        // Little-endian decimal digits.
        let mut d: Vec<u8> = h.to_string().bytes().rev().map(|c| c - b'0').collect();
        let (factor, times, e) = if x >= 0 { (2, x, 0) } else { (5, -x, x) };
        for _ in 0..times {
            let mut carry = 0;
            for digit in d.iter_mut() {
                let p = *digit * factor + carry;
                *digit = p % 10;
                carry = p / 10;
            }
            while carry > 0 {
                d.push(carry % 10);
                carry /= 10;
            }
        }
        let s: String = d.iter().rev().map(|&c| char::from(b'0' + c)).collect();
        (s, e)
    }

    /// Inputs exactly at, just above and just below the halfway points between neighbours,
    /// with hundreds of digits, against core.
    #[test]
    fn halfway_points() {
        let count = if cfg!(debug_assertions) { 300 } else { 5_000 };
        let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
        let mut cases: Vec<u64> = vec![
            0,
            1,
            2,
            0x000F_FFFF_FFFF_FFFF,
            0x0010_0000_0000_0000,
            0x0010_0000_0000_0001,
            0x7FEF_FFFF_FFFF_FFFF,
            0x7FEF_FFFF_FFFF_FFFE,
            0x4340_0000_0000_0000,
            1f64.to_bits(),
        ];
        for _ in 0..count {
            cases.push(rng.next() % 0x7FF0_0000_0000_0000);
        }
        let mut longest = 0;
        for bits in cases {
            let (mant, exp) = split(bits);
            let (digits, e) = exact_decimal(2 * mant + 1, exp - 1);
            longest = longest.max(digits.trim_end_matches('0').len());
            let last = digits.len() - 1;
            let below = format!(
                "{}{}{}e{}",
                &digits[..last],
                char::from(digits.as_bytes()[last] - 1),
                "9".repeat(30),
                e - 30
            );
            for s in [
                format!("{digits}e{e}"),
                format!("{digits}{}1e{}", "0".repeat(40), e - 41),
                format!("{digits}{}e{}", "0".repeat(900), e - 900),
                below,
                format!("0.{digits}e{}", e + digits.len() as i32),
            ] {
                check_parse(&s);
            }
        }
        // The halfway point above the largest subnormal has 767 significant digits.
        assert!(longest >= 760, "{longest}");
    }

    /// f64::MAX plus half its last place: 2^1024 - 2^970.
    const MAX_HALFWAY: &str = "1.79769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792e308";

    #[test]
    fn hard_cases() {
        for (s, bits) in [
            ("2.2250738585072011e-308", 0x000F_FFFF_FFFF_FFFF),
            ("2.2250738585072012e-308", 0x0010_0000_0000_0000),
            ("9007199254740993", 0x4340_0000_0000_0000),
            (
                "9007199254740993.0000000000000000000000000001",
                0x4340_0000_0000_0001,
            ),
            (
                "9007199254740994.9999999999999999999999999999",
                0x4340_0000_0000_0001,
            ),
            ("9007199254740995", 0x4340_0000_0000_0002),
            ("0.1", 0x3FB9_9999_9999_999A),
            ("1e23", 0x44B5_2D02_C7E1_4AF6),
            ("8.98846567431158e307", 0x7FE0_0000_0000_0000),
            ("1.7976931348623157e308", 0x7FEF_FFFF_FFFF_FFFF),
            ("1.7976931348623158e308", 0x7FEF_FFFF_FFFF_FFFF),
            ("5e-324", 1),
            ("2.4703282292062328e-324", 1),
            ("2.4703282292062327e-324", 0),
            ("4.9406564584124654e-324", 1),
            ("1e-400", 0),
            ("-1e-400", 1 << 63),
            ("-0", 1 << 63),
            ("-0.0e5", 1 << 63),
            ("0e999999999999999999999999", 0),
            ("1e-99999999999999999999", 0),
            ("-1e-99999999999999999999", 1 << 63),
            ("000000000000000000000000000000001", 0x3FF0_0000_0000_0000),
            ("1.", 0x3FF0_0000_0000_0000),
            (".5", 0x3FE0_0000_0000_0000),
            ("+.5e1", 0x4014_0000_0000_0000),
            ("-21.5", 0xC035_8000_0000_0000),
            ("100", 0x4059_0000_0000_0000),
        ] {
            assert_eq!(parse_str(s).map(f64::to_bits), Ok(bits), "{s}");
            check_parse(s);
        }
        // The halfway point between the two largest values rounds up, to infinity.
        for s in [
            "1.8e308",
            "-1.8e308",
            MAX_HALFWAY,
            "1e309",
            "1e99999999999999999999",
            "-1e99999999999999999999",
            "123456789e99999999999",
        ] {
            assert_eq!(parse_str(s), Err(FormatError::OutOfRange), "{s}");
        }
        // Just below that halfway point: the largest value.
        let max_below = MAX_HALFWAY.replace("7792e308", "7791999999999999999999e308");
        assert_eq!(parse_str(&max_below), Ok(f64::MAX));
        check_parse(&max_below);
        // 800 digits.
        let long = format!("0.{}1e-300", "0".repeat(799));
        check_parse(&long);
        let long = format!("{}e-750", "7".repeat(800));
        check_parse(&long);
        let long = format!("1{}", "0".repeat(308));
        check_parse(&long);
        // 100 000 digits: just above a halfway point, far down.
        let long = format!("9007199254740993{}1e-100001", "0".repeat(100_000));
        assert_eq!(parse_str(&long), Ok(9007199254740994.0));
        let long = format!("9007199254740993{}e-100000", "0".repeat(100_000));
        assert_eq!(parse_str(&long), Ok(9007199254740992.0));
        let long = format!("2{}", "0".repeat(308));
        assert_eq!(parse_str(&long), Err(FormatError::OutOfRange));
    }

    #[test]
    fn malformed() {
        for s in [
            "", "-", "+", ".", "-.", "1e", "1e+", "1e-", "e5", ".e5", "1.2.3", "--1", "+-1", " 1",
            "1 ", "inf", "-inf", "infinity", "NaN", "nan", "0x10", "1_000", "1e5.0", "1e5e5",
            "1,5", "١", "1f", "1ee5", "1e 5",
        ] {
            assert_eq!(parse_str(s), Err(FormatError::Malformed), "{s:?}");
        }
    }

    /// Short strings over a small alphabet are accepted exactly when core accepts them.
    #[test]
    fn grammar_matches_core() {
        let alphabet = b"0159.eE+-";
        let mut rng = Rng(0x0BAD_5EED_0BAD_5EED);
        for _ in 0..100_000 {
            let n = rng.below(7) as usize;
            let s: String = (0..n)
                .map(|_| char::from(alphabet[rng.below(alphabet.len() as u64) as usize]))
                .collect();
            check_parse(&s);
        }
    }
}
