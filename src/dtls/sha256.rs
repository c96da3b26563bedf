//! SHA-256 (FIPS 180-4) on the sha2 crate's compression function, and HMAC-SHA-256
//! (RFC 2104) on it: the handshake transcript, the TLS PRF and the Finished messages.
//!
//! The message schedule and rounds are sha2's (its compact software backend); the block
//! buffering and padding, and HMAC's two passes, are written here: the digest crate's
//! generic buffer and finalisation layers, and the hmac crate's over them, cost about half
//! a kilobyte more flash on a Cortex-M, which the pre-shared key suite's budget cannot
//! carry. The tests check this code against both crates and the published vectors.

/// Bytes of a digest.
pub const LEN: usize = 32;
const BLOCK: usize = 64;

/// The initial hash value (FIPS 180-4 section 5.3.3).
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A running SHA-256.
#[derive(Clone)]
pub struct Sha256 {
    state: [u32; 8],
    block: [u8; BLOCK],
    /// Bytes taken so far.
    len: u64,
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256::new()
    }
}

impl Sha256 {
    pub const fn new() -> Self {
        Sha256 {
            state: H0,
            block: [0; BLOCK],
            len: 0,
        }
    }

    /// The digest of `data`.
    pub fn digest(data: &[u8]) -> [u8; LEN] {
        let mut h = Sha256::new();
        h.update(data);
        h.finalize()
    }

    pub fn update(&mut self, data: &[u8]) {
        for b in data {
            self.absorb(*b);
        }
    }

    /// Takes one byte, compressing each block as it fills (the one place that calls the
    /// compression function).
    #[inline(never)]
    fn absorb(&mut self, b: u8) {
        let used = (self.len % BLOCK as u64) as usize;
        if let Some(x) = self.block.get_mut(used) {
            *x = b;
        }
        self.len = self.len.wrapping_add(1);
        if used == BLOCK - 1 {
            sha2::compress256(&mut self.state, core::slice::from_ref((&self.block).into()));
        }
    }

    /// The digest of everything taken: the padding (a 1 bit, zeros, the length in bits)
    /// ends the last block.
    pub fn finalize(mut self) -> [u8; LEN] {
        let bits = self.len.wrapping_mul(8).to_be_bytes();
        self.absorb(0x80);
        while self.len % BLOCK as u64 != (BLOCK - 8) as u64 {
            self.absorb(0);
        }
        self.update(&bits);
        let mut out = [0u8; LEN];
        for (o, word) in out.chunks_exact_mut(4).zip(self.state) {
            for (d, s) in o.iter_mut().zip(word.to_be_bytes()) {
                *d = s;
            }
        }
        out
    }
}

/// HMAC-SHA-256 of the concatenation of `parts` under `key` (a key longer than a block is
/// hashed first).
pub fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; LEN] {
    let hashed;
    let key = if key.len() > BLOCK {
        hashed = Sha256::digest(key);
        &hashed[..]
    } else {
        key
    };
    // The key padded with zeros to a block, XORed with `pad`, starts each pass.
    let start = |pad: u8| {
        let mut h = Sha256::new();
        for i in 0..BLOCK {
            h.absorb(key.get(i).copied().unwrap_or(0) ^ pad);
        }
        h
    };
    let mut inner = start(0x36);
    for p in parts {
        inner.update(p);
    }
    let mut outer = start(0x5c);
    outer.update(&inner.finalize());
    outer.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::tests::hex;
    use hmac::Mac;
    use sha2::Digest;

    /// FIPS 180-4's examples (NIST's SHA-256 example values).
    #[test]
    fn the_published_digests() {
        for (msg, digest) in [
            (
                &b""[..],
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                b"abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
        ] {
            assert_eq!(Sha256::digest(msg).to_vec(), hex(digest));
        }
    }

    /// RFC 4231's test cases 1, 2 and 6 (a key longer than a block).
    #[test]
    fn the_published_hmacs() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, mac) in cases {
            assert_eq!(hmac(key, &[data]).to_vec(), hex(mac));
        }
    }

    /// Every length around the block and padding boundaries, in pieces, gives what the
    /// sha2 and hmac crates give.
    #[test]
    fn agrees_with_the_sha2_and_hmac_crates() {
        let data: std::vec::Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in 0..data.len() {
            let msg = &data[..len];
            let (a, b) = msg.split_at(len / 3);
            let mut ours = Sha256::new();
            ours.update(a);
            ours.update(b);
            let theirs: [u8; 32] = sha2::Sha256::digest(msg).into();
            assert_eq!(ours.clone().finalize(), theirs, "length {len}");
            let key = &data[len / 2..(len / 2 + len % 140).min(data.len())];
            let mut mac = hmac::SimpleHmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            mac.update(msg);
            let theirs: [u8; 32] = mac.finalize().into_bytes().into();
            assert_eq!(hmac(key, &[a, b]), theirs, "length {len}");
        }
    }
}
