//! Decimal text ⇄ `f64` without `core`'s float parsing and printing, and without floating-point
//! arithmetic: values are taken apart with [`f64::to_bits`] and built with [`f64::from_bits`],
//! and all the work is done on integers. On a single-precision FPU (Cortex-M4F) this links no
//! soft-double helpers, and the code needs no power-of-ten tables. The two operations the
//! engine does on doubles, [`add`] (observation steps, attribute checks) and [`less`], are
//! here for the same reason.
//!
//! Both directions are exact:
//! - [`write_shortest`] writes the shortest digit string that reads back to the same bits
//!   (when several are equally short, the one nearest the value: the same digits as Rust's
//!   `{:e}`). It uses the classic exact "free-format" digit generation (the Dragon4 family:
//!   stop as soon as the digits identify the value) on small fixed-size big integers.
//! - [`parse`] rounds correctly (to nearest, ties to even) whatever the number of digits,
//!   exactly: the digits make a big integer, scaled by a power of two so that it keeps at
//!   least 64 bits, then multiplied by `5^e` or divided by `5^-e` (short division, with a
//!   sticky bit for any remainder); its top 64 bits and the sticky bit give the rounded
//!   value. Digits beyond the first `KEEP` significant ones are summed up in one sticky
//!   digit (see there why that keeps the rounding exact), so the big integer stays bounded.
//!
//! Code size is what this module is written for: one small set of big-integer routines on
//! `u32` limbs (multiply-add by a small number, divide by a small number, subtract,
//! compare), shared by both directions, and loops rather than fast paths. Speed is traded
//! for it: a parse of a long or far-from-one number takes a few hundred thousand cycles on a
//! Cortex-M4. The printer's loops cover only the limbs in use, so everyday values are
//! quick (about 7,000 instructions on x86-64 against 70,000 at the ends of the range:
//! `.ci/callgrind.sh`).
//!
//! Memory: nothing is allocated. The printer keeps two big integers of `PRINT_LIMBS` limbs
//! (200 bytes) on the stack, and the third of the algorithm, a power of two times a small
//! number, in three limbs; the parser keeps one of `PARSE_LIMBS` limbs (328 bytes).
//! Worst-case stack on a Cortex-M4 (`opt-level = "z"`, LTO; the `push` and `sub sp` of each
//! frame on the deepest call path): about 440 bytes for [`write_shortest`] and 420 for
//! [`parse`].

use crate::buf::Writer;
use crate::formats::FormatError;

/// Limbs of the printer's big integers: 800 bits. During digit generation `r` stays below
/// `10 s`, and `m` below `100 s` (it grows tenfold per digit and ends the loop once past
/// `r`). With the power of two the three share left out, `s` is at most `5^309` (below
/// 2^718) for large values, where `k` is at most 309, and `2^770` for the smallest ones,
/// where `k` is -306 and `2^(1075 - 306 + 1)` is left: everything stays below 2^777.
const PRINT_LIMBS: usize = 25;

/// Significant digits the parser keeps; one more digit, 1 when any later digit is not zero
/// and 0 otherwise, stands for all the later ones.
///
/// Why that is exact: every `f64`, and every halfway point between two neighbours (also the
/// one above `f64::MAX`, where rounding goes to infinity, and half the smallest subnormal),
/// is a decimal of at most 768 significant digits (`(2m + 1) * 2^(e - 1)` is `(2m + 1) *
/// 5^(1 - e) / 10^(1 - e)` for `e < 1`, and `(2^54 - 1) * 5^1075` has 768 digits). Let the
/// kept digits be `D * 10^q`, the leading one at `10^P`, so `q = P - KEEP + 1 <= P - 767`.
/// When a later digit is not zero, the value lies strictly between `D * 10^q` and
/// `(D + 1) * 10^q`. A boundary strictly inside that interval would be at least `10^P`, so a
/// multiple of `10^(P - 767)` and hence of `10^q`: there is none. So the value and
/// `(10 D + 1) * 10^(q - 1)`, which lies in the same interval, round alike; the parser uses
/// the latter (and `10 D * 10^(q - 1)`, the same value, when all later digits are zeros).
const KEEP: i32 = 770;

/// Limbs of the parser's big integer: 2624 bits. The digits are below `10^771`, so below
/// `2^b` with `b` their bit length; scaled by `2^K`, `K = 66 + 2.3223 n - b` for a
/// division by `5^n` with `n <= 771 + 323`, they stay below `2^(66 + 2.3223 * 1094)`, below
/// 2^2607, and quotients only shrink. For `e >= 0` the product is below
/// `2^66 * 5^309` (2^784).
const PARSE_LIMBS: usize = 82;

/// Bits of an `f64` holding the fraction.
const FRAC_MASK: u64 = (1 << 52) - 1;

/// The bits of positive infinity; every finite positive value has smaller bits.
const INF_BITS: u64 = 0x7FF0_0000_0000_0000;

/// `a = a * m + c`, on little-endian `u32` limbs. An overflow would lose the top bits; the
/// bounds at the limb counts show that none happens (and the tests check it).
#[inline(never)]
fn mul_add(a: &mut [u32], m: u32, mut c: u32) {
    for x in a.iter_mut() {
        let p = u64::from(*x) * u64::from(m) + u64::from(c);
        *x = p as u32;
        c = (p >> 32) as u32;
    }
    #[cfg(test)]
    assert_eq!(c, 0, "big integer overflow");
}

/// The first `n` limbs of `a` (all of them when it has fewer).
fn low(a: &mut [u32], n: usize) -> &mut [u32] {
    let n = n.min(a.len());
    a.get_mut(..n).unwrap_or_default()
}

/// `a = a * base^n`, in steps of the largest power of `base` that fits a limb.
#[inline(never)]
fn mul_pow(a: &mut [u32], base: u32, n: u32) {
    let mut f = 1u32;
    for _ in 0..n {
        match f.checked_mul(base) {
            Some(g) => f = g,
            None => {
                mul_add(a, f, 0);
                f = base;
            }
        }
    }
    mul_add(a, f, 0);
}

/// A big integer operand of the printer: `limbs * 2^(32 * offset)`. Either of `s` and `m`
/// is a power of two times a small number (see [`shortest`]), kept in three limbs and an
/// offset instead of a whole big integer.
struct Shifted<'a> {
    limbs: &'a [u32],
    offset: usize,
}

impl Shifted<'_> {
    /// Limb `i` of the value (0 past its ends).
    #[inline(always)]
    fn limb(&self, i: usize) -> u32 {
        // Below the offset the index wraps to a huge one, which `get` refuses.
        self.limbs
            .get(i.wrapping_sub(self.offset))
            .copied()
            .unwrap_or(0)
    }
}

/// `a = a - b` when `b` is not larger than `a`, and whether it was done: a first pass only
/// looks for the final borrow, a second stores the difference.
#[inline(never)]
fn sub_if_ge(a: &mut [u32], b: &Shifted<'_>) -> bool {
    let mut ge = false;
    loop {
        // a + !b + 1: a carry out of the top means no borrow.
        let mut carry = 1u64;
        for (i, x) in a.iter_mut().enumerate() {
            let s = u64::from(*x) + u64::from(!b.limb(i)) + carry;
            if ge {
                *x = s as u32;
            }
            carry = s >> 32;
        }
        if ge || carry == 0 {
            return ge;
        }
        ge = true;
    }
}

/// The sign (-1, 0, 1) of `a * ma + b * mb - c`, over the limbs of `a` (`ma` and `mb` are
/// at most 2).
#[inline(never)]
fn cmp_sum(a: &[u32], ma: u32, b: &Shifted<'_>, mb: u32, c: &Shifted<'_>) -> i8 {
    let mut carry = 0u64;
    let mut ord = 0i8;
    for (i, &x) in a.iter().enumerate() {
        let s = u64::from(x) * u64::from(ma) + u64::from(b.limb(i)) * u64::from(mb) + carry;
        carry = s >> 32;
        let s = s as u32;
        let z = c.limb(i);
        if s != z {
            ord = if s > z { 1 } else { -1 };
        }
    }
    if carry != 0 {
        1
    } else {
        ord
    }
}

/// The number of significant bits (0 for zero).
fn bit_len(a: &[u32]) -> i32 {
    let mut len = 0;
    let mut top = 0;
    for &x in a {
        top += 32;
        if x != 0 {
            len = top - x.leading_zeros() as i32;
        }
    }
    len
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
    let even = i8::from(mant & 1 == 0);
    // v = r / s, m / s = half the gap below, (1 + unequal) m / s = half the gap above; all
    // times 2^(1 + unequal) to make them integers. Each is a power of 2 times a power of 5
    // (times `mant` for r); the power of 2 the three share is left out, which keeps them
    // below 2^800 (see PRINT_LIMBS).
    //
    // k = floor(log10(2) * (exp + 52)) + 2 (78913 / 2^18 is log10(2) to within 2^-24, exact
    // at this range) is never below the k of the free-format algorithm (the least k with the
    // upper end of the rounding interval below 10^k, or at most when even): one or two above
    // it for normal values, up to 18 for subnormals. While it is above, the digit generated
    // is 0 and ends nothing; it is dropped and k lowered, so the digits are the same.
    let mut k = (((exp + 52) * 78913) >> 18) + 2;
    let (up, down) = (exp.max(0) as u32, (-exp).max(0) as u32);
    // 10^k goes to s, 10^-k to r and m: its power of 5 as such, its power of 2 with theirs.
    let (s5, rm5) = if k >= 0 {
        (k as u32, 0)
    } else {
        (0, k.unsigned_abs())
    };
    let r2 = up + 1 + unequal + rm5;
    let s2 = down + 1 + unequal + s5;
    let m2 = up + rm5;
    let common = r2.min(s2).min(m2);
    // Two big integers on the stack, not three: r, and in `x` whichever of s and m is not a
    // power of two.
    let mut big = [[0u32; PRINT_LIMBS]; 2];
    let [r, x] = &mut big;
    let ([r0, r1, ..], [x0, ..]) = (&mut *r, &mut *x);
    *r0 = mant as u32;
    *r1 = (mant >> 32) as u32;
    *x0 = 1;
    mul_pow(r, 2, r2 - common);
    mul_pow(r, 5, rm5);
    // With k >= 0, m is a power of two (times 10^n after n digits); with k < 0, s is. That
    // one is kept as `small * 2^shift`.
    let m_small = k >= 0;
    let (x2, shift) = if m_small { (s2, m2) } else { (m2, s2) };
    mul_pow(x, 2, x2 - common);
    mul_pow(x, 5, s5 + rm5);
    // `small` is shifted by whole limbs, and stays below 10^19 times 2^31 (at most 19 digits
    // are generated with k >= 0).
    let shift = shift - common;
    let mut small = [1u32 << (shift % 32), 0, 0];
    let offset = (shift / 32) as usize;
    // Every value stays below 100 s (see PRINT_LIMBS): the loops below need only the limbs
    // that takes, a few for everyday values rather than all of them.
    let s_bits = if m_small {
        bit_len(x)
    } else {
        32 * offset as i32 + bit_len(&small)
    };
    let len = (((s_bits + 7) / 32 + 1) as usize).min(PRINT_LIMBS);
    let r = r.get_mut(..len).unwrap_or_default();
    let x = x.get_mut(..len).unwrap_or_default();
    let ((s, s_at), (m, m_at)) = if m_small {
        ((x, 0), (&mut small[..], offset))
    } else {
        ((&mut small[..], offset), (x, 0))
    };
    let s = Shifted {
        limbs: s,
        offset: s_at,
    };
    let plus = 1 + unequal;
    let mut n = 0;
    // Seventeen digits always identify an f64, so the loop ends by its own test; the count
    // (at most 18 leading zeros, see k, and 17 digits) only bounds it should that fail.
    for _ in 0..35 {
        mul_add(r, 10, 0);
        mul_add(m, 10, 0);
        #[cfg(test)]
        assert!(32 * m_at as i32 + bit_len(m) <= 32 * len as i32);
        let m = Shifted {
            limbs: m,
            offset: m_at,
        };
        // r < 10 s, so the digit is at most 9 (the test only bounds the loop).
        let mut d = 0;
        while d < 9 && sub_if_ge(r, &s) {
            d += 1;
        }
        // The digits so far are within the gap below (low), or the next one up is within
        // the gap above (high). Neither holds at a leading zero: v is more than the gap
        // below, and the upper end of its rounding interval is below 10^(k - 1) there.
        let low = cmp_sum(r, 1, &m, 0, &m) < even;
        let high = cmp_sum(r, 1, &m, plus, &s) + even > 0;
        // Round up when only the upper digit is in range, or when both are and the rest is
        // at least half.
        if high && (!low || cmp_sum(r, 2, &m, 0, &s) >= 0) {
            d += 1;
        }
        if n == 0 && d == 0 {
            k -= 1;
            continue;
        }
        if let Some(slot) = digits.get_mut(n) {
            *slot = d;
        }
        n += 1;
        if low || high {
            break;
        }
    }
    (n, k)
}

/// The sign bit of an `f64`.
const SIGN: u64 = 1 << 63;

/// `a + b` exactly as the hardware rounds it (to nearest, ties to even), on the bit
/// patterns: on a single-precision FPU no soft-double addition routine (900 bytes on a
/// Cortex-M4) is linked. A NaN operand, or infinities of opposite signs, give a NaN.
pub fn add(a: f64, b: f64) -> f64 {
    let (x, y) = (a.to_bits(), b.to_bits());
    // x is the operand of larger magnitude.
    let (x, y) = if x & !SIGN >= y & !SIGN {
        (x, y)
    } else {
        (y, x)
    };
    let (ax, ay) = (x & !SIGN, y & !SIGN);
    if ax >= INF_BITS {
        let opposite_infinities = ay == INF_BITS && ax == INF_BITS && x != y;
        return f64::from_bits(if opposite_infinities {
            INF_BITS | 1 << 51
        } else {
            x
        });
    }
    // Mantissas with the hidden bit and three more bits (guard, round, sticky) below; y's
    // aligned on x's, what is shifted out kept as the sticky bit (my is below 2^56, so a
    // shift by 63 leaves the sticky bit alone).
    let (ex, mx) = unpack(ax);
    let (ey, my) = unpack(ay);
    let d = (ex - ey).min(63);
    let my = (my >> d) | u64::from(my & ((1 << d) - 1) != 0);
    let mut e = ex;
    let mut m = if (x ^ y) & SIGN == 0 {
        mx + my
    } else {
        mx - my
    };
    if m == 0 {
        // Zeros, and a difference of equal values: negative only when both operands are.
        return f64::from_bits(x & y & SIGN);
    }
    if m >> 56 != 0 {
        m = (m >> 1) | (m & 1);
        e += 1;
    }
    while m >> 55 == 0 && e > 1 {
        m <<= 1;
        e -= 1;
    }
    let low = m & 7;
    m >>= 3;
    if low > 4 || (low == 4 && m & 1 == 1) {
        m += 1;
    }
    // The hidden bit adds one to the exponent field, and a rounding carry (m = 2^53) one
    // more; a subnormal (e = 1, m below 2^52) gets the field 0. Past the largest finite
    // value: infinity.
    let bits = ((e - 1) << 52) + m;
    f64::from_bits(bits.min(INF_BITS) | (x & SIGN))
}

/// The exponent (1 for subnormals) and the mantissa, hidden bit included, shifted left by 3,
/// of a positive finite `f64`'s bits.
fn unpack(bits: u64) -> (u64, u64) {
    let biased = bits >> 52;
    let m = (bits & FRAC_MASK) | u64::from(biased != 0) << 52;
    (biased.max(1), m << 3)
}

/// `a < b` as the hardware compares (false when either is a NaN; -0 equals +0), on the bit
/// patterns.
pub fn less(a: f64, b: f64) -> bool {
    let (x, y) = (a.to_bits(), b.to_bits());
    let (ax, ay) = (x & !SIGN, y & !SIGN);
    if ax > INF_BITS || ay > INF_BITS || ax | ay == 0 {
        return false;
    }
    // Ordered as unsigned integers: negative values complemented, positive ones above them.
    let key = |bits: u64| if bits & SIGN != 0 { !bits } else { bits | SIGN };
    key(x) < key(y)
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
    // Written straight into `w`, byte by byte, and truncated away when it does not fit.
    let start = w.len();
    let mut fits = true;
    if bits != abs {
        fits &= w.put_u8(b'-').is_ok();
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
    for j in first..last + 1 {
        if j == point {
            fits &= w.put_u8(b'.').is_ok();
        }
        // A negative j becomes a huge index, for which `get` gives None.
        fits &= w
            .put_u8(b'0' + digits.get(j as usize).copied().unwrap_or(0))
            .is_ok();
    }
    if !plain {
        fits &= w.put_u8(b'e').is_ok();
    }
    if !fits || (!plain && w.put_i64_dec(i64::from(x)).is_err()) {
        w.truncate(start);
        return Err(FormatError::NoSpace);
    }
    Ok(())
}

/// `s` without a leading `-` or `+`.
#[inline(never)]
fn skip_sign(s: &[u8]) -> &[u8] {
    match s.split_first() {
        Some((b'-' | b'+', rest)) => rest,
        _ => s,
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
    let neg = s.first() == Some(&b'-');
    let mut rest = skip_sign(s);
    // The value is num * 10^e; `kept` digits of num are significant.
    let mut num = [0u32; PARSE_LIMBS];
    let mut e: i32 = 0;
    let mut kept: i32 = 0;
    let mut seen = false;
    let mut point = false;
    while let Some((&c, after)) = rest.split_first() {
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            seen = true;
            e += i32::from(!point);
            if kept <= KEEP {
                // Leading zeros leave num at zero. The digit after the first KEEP stands
                // for all the later ones: 1 when any is not zero.
                if kept > 0 || d > 0 {
                    let d = if kept < KEEP { d } else { u8::from(d > 0) };
                    mul_add(&mut num, 10, u32::from(d));
                    kept += 1;
                }
                e -= 1;
            } else if let (true, Some(x)) = (d > 0, num.first_mut()) {
                *x |= 1;
            }
        } else if c == b'.' && !point {
            point = true;
        } else {
            break;
        }
        rest = after;
    }
    if !seen {
        return Err(FormatError::Malformed);
    }
    if let Some((&c, after)) = rest.split_first() {
        let digits = skip_sign(after);
        if c | 0x20 != b'e' || digits.is_empty() {
            return Err(FormatError::Malformed);
        }
        let mut exp: i32 = 0;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d >= 10 {
                return Err(FormatError::Malformed);
            }
            // Capped far beyond any exponent that matters, so this cannot overflow.
            exp = (exp * 10 + i32::from(d)).min(1 << 24);
        }
        e += if after.first() == Some(&b'-') {
            -exp
        } else {
            exp
        };
    }
    let sign = u64::from(neg) << 63;
    // The value is in [10^(dp - 1), 10^dp).
    let dp = e + kept;
    if kept == 0 || dp < -323 {
        // Zero, or below 10^-324: less than half the smallest subnormal.
        return Ok(f64::from_bits(sign));
    }
    if dp > 309 {
        return Err(FormatError::OutOfRange);
    }
    // value = num * 10^e = num * 5^e * 2^e. With K more bits, num * 2^K * 5^e (a product for
    // e >= 0, a quotient for e < 0, divided in steps of at most 5^6 with a sticky bit for
    // any remainder) is at least 2^64, and the value is that times 2^(e - K).
    // ceil(n log2(5)) <= n * 2378 / 1024 + 1 bounds the bits of 5^n.
    let n = e.min(0).unsigned_abs();
    let k = (64 + ((n * 2378) >> 10) as i32 + 1 - (bit_len(&num) - 1)).max(0);
    mul_pow(&mut num, 2, k as u32);
    let mut sticky = false;
    if e >= 0 {
        mul_pow(&mut num, 5, e as u32);
    }
    // The limbs still in use: the divisions only shrink the number, and each one (and the
    // bit count before it) runs over those alone.
    let mut used = PARSE_LIMBS;
    // Divided by 5^n first (by 5^6 while it goes), then down to 54 bits (53 and a rounding
    // bit), fewer for subnormals, whose last bit is worth 2^-1074: halved (15 bits at a time
    // while far). Each step keeps a sticky bit for a remainder.
    let mut left = n;
    let mut b = e - k;
    loop {
        let len = bit_len(low(&mut num, used));
        used = len as usize / 32 + 1;
        let (c, d) = if left >= 6 {
            (6, 15625)
        } else if left > 0 {
            (1, 5)
        } else if len > 54 + 15 {
            (15, 1 << 15)
        } else if len > 54 || b < -1075 {
            (1, 2)
        } else {
            break;
        };
        sticky |= crate::util::div_small(low(&mut num, used), d) != 0;
        if left > 0 {
            left -= c;
        } else {
            b += c as i32;
        }
    }
    let [lo, hi, ..] = num;
    let q = u64::from(hi) << 32 | u64::from(lo);
    let mut m = q >> 1;
    if q & 1 != 0 && (sticky || m & 1 != 0) {
        m += 1;
    }
    // For a normal value, m is in [2^52, 2^53]: its hidden bit adds one to the biased
    // exponent (and a rounding carry one more); subnormals have b = -1075 and m < 2^52.
    let bits = ((b + 1075) as u64).wrapping_shl(52).wrapping_add(m);
    if bits >= INF_BITS {
        return Err(FormatError::OutOfRange);
    }
    Ok(f64::from_bits(bits | sign))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random numbers for the tests (xorshift64*).
    /// How many random cases a test runs: fewer in a debug build.
    fn runs(debug: usize, release: usize) -> usize {
        if cfg!(debug_assertions) {
            debug
        } else {
            release
        }
    }

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

    /// Every binary exponent with the mantissas at its ends and in its middle (the big
    /// integers are largest at the ends of the exponent range, and `mul_add` checks them for
    /// overflow in tests): core's digits, read back to the same bits.
    #[test]
    fn every_exponent_at_its_ends() {
        for biased in 0..0x7ffu64 {
            for frac in [0, 1, 2, 1 << 51, FRAC_MASK - 1, FRAC_MASK] {
                let bits = biased << 52 | frac;
                let v = f64::from_bits(bits);
                if v == 0.0 {
                    continue;
                }
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
        let count = runs(20_000, 1_000_000);
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
        let count = runs(20_000, 500_000);
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

    /// Long inputs at the ends of the range, where the parser's big integers are largest
    /// (their overflow checks apply in tests), and around the number of digits kept.
    #[test]
    fn long_inputs_at_the_ends() {
        for dp in [-324, -323, -322, -308, -307, 0, 1, 308, 309] {
            for len in [1, 767, 768, 769, 770, 771, 772, 900] {
                for lead in ["9", "1", "24703282292062327", "17976931348623158"] {
                    let body = format!("{lead}{}", "9".repeat(len));
                    let n = body.len() as i32;
                    check_parse(&format!("{body}e{}", dp - n));
                    let body = format!("{lead}{}", "0".repeat(len));
                    check_parse(&format!("{body}e{}", dp - n));
                    check_parse(&format!("{body}1e{}", dp - n - 1));
                }
            }
        }
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

    /// Bit patterns where addition and comparison have their edge cases: zeros, the
    /// smallest and largest subnormals and normals, powers of two and their neighbours,
    /// the largest finite value, infinities and NaNs, of both signs.
    fn special_bits() -> Vec<u64> {
        let mut v = vec![
            0,
            1,
            2,
            3,
            FRAC_MASK - 1,
            FRAC_MASK,
            1 << 52,
            (1 << 52) + 1,
            0x3FF0_0000_0000_0000,
            0x3FF0_0000_0000_0001,
            0x3FEF_FFFF_FFFF_FFFF,
            0x4340_0000_0000_0000,
            0x7FE0_0000_0000_0000,
            0x7FEF_FFFF_FFFF_FFFE,
            0x7FEF_FFFF_FFFF_FFFF,
            INF_BITS,
            INF_BITS | 1,
            INF_BITS | 1 << 51,
        ];
        let negatives: Vec<u64> = v.iter().map(|b| b | SIGN).collect();
        v.extend(negatives);
        v
    }

    fn same_bits(x: f64, y: f64) -> bool {
        (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
    }

    #[test]
    fn add_and_less_match_the_hardware_at_the_edges() {
        let bits = special_bits();
        for &a in &bits {
            for &b in &bits {
                let (x, y) = (f64::from_bits(a), f64::from_bits(b));
                assert!(same_bits(add(x, y), x + y), "{x:e} + {y:e}");
                assert_eq!(less(x, y), x < y, "{x:e} < {y:e}");
            }
        }
    }

    /// Random operands, many with exponents close together (where cancellation and the
    /// rounding of ties happen), and some with a few mantissa bits only.
    #[test]
    fn add_and_less_match_the_hardware_on_random_operands() {
        let count = runs(200_000, 2_000_000);
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        for i in 0..count {
            let a = rng.next();
            let mut b = rng.next();
            match i % 4 {
                // An exponent within 3 of a's, either sign.
                0 => {
                    b = (b & (SIGN | FRAC_MASK))
                        | ((a >> 52 & 0x7FF) + rng.below(4)).min(0x7FE) << 52
                }
                // Within 60.
                1 => {
                    b = (b & (SIGN | FRAC_MASK))
                        | ((a >> 52 & 0x7FF).saturating_sub(rng.below(60))) << 52
                }
                // Few mantissa bits: exact ties.
                2 => b &= !0xFFFF_FFFF,
                _ => {}
            }
            let (x, y) = (f64::from_bits(a), f64::from_bits(b));
            assert!(same_bits(add(x, y), x + y), "{a:#x} + {b:#x}");
            assert!(same_bits(add(x, -x), x + -x), "{a:#x} - itself");
            assert_eq!(less(x, y), x < y, "{a:#x} < {b:#x}");
        }
    }
}
