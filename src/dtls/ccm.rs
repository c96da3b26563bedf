//! AES-128-CCM with an 8-byte tag and the 12-byte nonce of DTLS 1.2 (RFC 6655 on RFC 3610,
//! NIST SP 800-38C): a CBC-MAC over the first block, the additional data and the
//! plaintext, and counter mode for the tag and the message, on RustCrypto's AES.
//!
//! The two loops are written here rather than taken from the ccm crate: its generic AEAD,
//! stream-cipher and counter layers around the same loops cost about 1 KB more flash on a
//! Cortex-M, which the PSK suite's budget cannot carry. The tests check this code against
//! that crate and against SP 800-38C's example with these parameters.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use subtle::ConstantTimeEq;

/// Bytes of the tag.
pub const TAG: usize = 8;

type Block = [u8; 16];

/// The first byte of a counter block: L' = L - 1 for the 3-byte counter a 12-byte nonce
/// leaves (RFC 3610 section 2.3).
const COUNTER_FLAGS: u8 = 2;
/// The first byte of the first CBC-MAC block without additional data: M' = (8 - 2) / 2
/// for the 8-byte tag, then L' (RFC 3610 section 2.2).
const MAC_FLAGS: u8 = 3 << 3 | COUNTER_FLAGS;
/// The Adata bit of that byte: additional data follows.
const ADATA: u8 = 0x40;

/// One record's key and nonce.
pub struct Ccm8 {
    aes: Aes128,
    /// The nonce in the middle of a block: byte 0 and the last three are set per use.
    block: Block,
}

/// The tag did not match: the record is not authentic.
#[derive(Debug, PartialEq, Eq)]
pub struct Forged;

impl Ccm8 {
    /// The cipher for a record's nonce: the 4-byte implicit part, then the 8-byte explicit
    /// one (RFC 6655 section 3).
    pub fn new(key: &[u8; 16], implicit: &[u8; 4], explicit: &[u8; 8]) -> Ccm8 {
        let mut block = [0u8; 16];
        for (b, n) in block
            .iter_mut()
            .skip(1)
            .zip(implicit.iter().chain(explicit))
        {
            *b = *n;
        }
        Ccm8 {
            aes: Aes128::new(key.into()),
            block,
        }
    }

    /// Encrypts `data` in place; its tag over `aad` and the plaintext.
    pub fn seal(&self, aad: &[u8], data: &mut [u8]) -> [u8; TAG] {
        self.crypt(aad, data, Direction::Seal)
    }

    /// Decrypts `data` in place when `tag` authenticates it and `aad`; otherwise `Forged`,
    /// and `data` is zeroed (no unauthenticated plaintext is left behind).
    pub fn open(&self, aad: &[u8], data: &mut [u8], tag: &[u8; TAG]) -> Result<(), Forged> {
        if bool::from(self.crypt(aad, data, Direction::Open).ct_eq(tag)) {
            return Ok(());
        }
        data.fill(0);
        Err(Forged)
    }

    /// The nonce's block with `flags` first and `n` in the last three bytes, encrypted:
    /// the first block of the CBC-MAC, or a block of the key stream.
    fn encrypted(&self, flags: u8, n: usize) -> Block {
        let mut block = self.block;
        let [_, a, b, c] = u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
        block[0] = flags;
        block[13] = a;
        block[14] = b;
        block[15] = c;
        self.aes.encrypt_block((&mut block).into());
        block
    }

    /// Runs the key stream from counter block 1 over `data`, and the CBC-MAC over the first
    /// block, `aad` (after its 2-byte length) and the plaintext (before it is encrypted or
    /// after it is decrypted): the tag, the MAC's first bytes encrypted with counter block 0.
    fn crypt(&self, aad: &[u8], data: &mut [u8], direction: Direction) -> [u8; TAG] {
        let flags = if aad.is_empty() {
            MAC_FLAGS
        } else {
            MAC_FLAGS | ADATA
        };
        let mut mac = CbcMac {
            aes: &self.aes,
            state: self.encrypted(flags, data.len()),
            used: 0,
        };
        if !aad.is_empty() {
            // The records' additional data is far shorter than the 0xFF00 bytes that a
            // 2-byte length encodes.
            let aad_len = u16::try_from(aad.len()).unwrap_or(u16::MAX);
            mac.absorb(&aad_len.to_be_bytes());
            mac.absorb(aad);
            mac.pad();
        }
        for (i, chunk) in (1..).zip(data.chunks_mut(16)) {
            if direction == Direction::Seal {
                mac.absorb(chunk);
            }
            for (d, k) in chunk.iter_mut().zip(self.encrypted(COUNTER_FLAGS, i)) {
                *d ^= k;
            }
            if direction == Direction::Open {
                mac.absorb(chunk);
            }
        }
        mac.pad();
        let mut tag = [0u8; TAG];
        for ((t, x), s) in tag
            .iter_mut()
            .zip(mac.state)
            .zip(self.encrypted(COUNTER_FLAGS, 0))
        {
            *t = x ^ s;
        }
        tag
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Seal,
    Open,
}

/// CBC-MAC state: the chained block and the bytes absorbed into it so far.
struct CbcMac<'a> {
    aes: &'a Aes128,
    state: Block,
    used: usize,
}

impl CbcMac<'_> {
    /// XORs `bytes` into the chain, encrypting each block as it fills.
    fn absorb(&mut self, bytes: &[u8]) {
        for b in bytes {
            if let Some(x) = self.state.get_mut(self.used) {
                *x ^= b;
            }
            self.used += 1;
            if self.used == self.state.len() {
                self.pad();
            }
        }
    }

    /// Ends a partly filled block as if zeros followed (XORing zeros changes nothing).
    fn pad(&mut self) {
        if self.used > 0 {
            self.aes.encrypt_block((&mut self.state).into());
            self.used = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::tests::hex;
    use ccm::aead::AeadInPlace;
    use ccm::consts::{U12, U8};

    fn cipher(key: &[u8; 16], nonce: &[u8; 12]) -> Ccm8 {
        Ccm8::new(
            key,
            nonce[..4].try_into().unwrap(),
            nonce[4..].try_into().unwrap(),
        )
    }

    /// NIST SP 800-38C appendix C, example 3: a 12-byte nonce and an 8-byte tag.
    #[test]
    fn sp_800_38c_example_3() {
        let key: [u8; 16] = hex("404142434445464748494a4b4c4d4e4f").try_into().unwrap();
        let nonce: [u8; 12] = hex("101112131415161718191a1b").try_into().unwrap();
        let aad = hex("000102030405060708090a0b0c0d0e0f10111213");
        let mut data = hex("202122232425262728292a2b2c2d2e2f3031323334353637");
        let ccm = cipher(&key, &nonce);
        let tag = ccm.seal(&aad, &mut data);
        assert_eq!(
            data,
            hex("e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5")
        );
        assert_eq!(tag.to_vec(), hex("484392fbc1b09951"));
        ccm.open(&aad, &mut data, &tag).unwrap();
        assert_eq!(
            data,
            hex("202122232425262728292a2b2c2d2e2f3031323334353637")
        );
    }

    /// Every length of data and of additional data around the block boundaries gives what
    /// the ccm crate gives, and opens back.
    #[test]
    fn agrees_with_the_ccm_crate() {
        type Reference = ccm::Ccm<aes::Aes128, U8, U12>;
        let key = [0x5a; 16];
        let reference = <Reference as ccm::aead::KeyInit>::new(&key.into());
        for data_len in 0..50usize {
            for aad_len in [0usize, 1, 13, 14, 15, 16, 30, 39] {
                let nonce = [data_len as u8; 12];
                let aad: std::vec::Vec<u8> = (0..aad_len).map(|i| i as u8 ^ 0xA5).collect();
                let plain: std::vec::Vec<u8> = (0..data_len).map(|i| (i * 7) as u8).collect();
                let mut ours = plain.clone();
                let tag = cipher(&key, &nonce).seal(&aad, &mut ours);
                let mut theirs = plain.clone();
                let their_tag = reference
                    .encrypt_in_place_detached(&nonce.into(), &aad, &mut theirs)
                    .unwrap();
                assert_eq!((ours.clone(), tag.to_vec()), (theirs, their_tag.to_vec()));
                cipher(&key, &nonce).open(&aad, &mut ours, &tag).unwrap();
                assert_eq!(ours, plain);
            }
        }
    }

    #[test]
    fn a_changed_byte_anywhere_fails_and_leaves_no_plaintext() {
        let ccm = cipher(&[7; 16], &[9; 12]);
        let aad = [1u8, 2, 3];
        let mut sealed = *b"a message of some length";
        let tag = ccm.seal(&aad, &mut sealed);
        for i in 0..sealed.len() {
            let mut data = sealed;
            data[i] ^= 0x01;
            assert_eq!(ccm.open(&aad, &mut data, &tag), Err(Forged));
            assert!(data.iter().all(|b| *b == 0));
        }
        for i in 0..TAG {
            let mut bad = tag;
            bad[i] ^= 0x80;
            assert_eq!(ccm.open(&aad, &mut sealed.clone(), &bad), Err(Forged));
        }
        assert_eq!(ccm.open(&[1, 2, 4], &mut sealed.clone(), &tag), Err(Forged));
        assert_eq!(ccm.open(&[], &mut sealed.clone(), &tag), Err(Forged));
        let mut data = sealed;
        ccm.open(&aad, &mut data, &tag).unwrap();
        assert_eq!(&data, b"a message of some length");
    }
}
