//! The Block1 / Block2 option value of block-wise transfer (RFC 7959 section 2.2).
//!
//! The value is a CoAP uint of 0 to 3 bytes: `NUM << 4 | M << 3 | SZX`, where the block size
//! is `2^(SZX + 4)` bytes (16 to 1024) and SZX 7 is reserved.

use super::msg::{decode_uint, encode_uint};

/// Largest block number a 3-byte option value can carry (2^20 - 1).
const MAX_NUM: u32 = 0x000F_FFFF;
/// Largest valid size exponent (1024-byte blocks).
const MAX_SZX: u8 = 6;

/// A decoded Block1 or Block2 option.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Block {
    /// The block number (0 to 2^20 - 1).
    pub num: u32,
    /// True when more blocks follow (in a Block2 request: ignored; in a Block1 request: the
    /// sender has more to send).
    pub more: bool,
    /// The size exponent: the block holds `16 << szx` bytes (0 to 6).
    pub szx: u8,
}

impl Block {
    /// A block, or `None` when `num` exceeds 2^20 - 1 or `szx` exceeds 6.
    pub const fn new(num: u32, more: bool, szx: u8) -> Option<Block> {
        if num > MAX_NUM || szx > MAX_SZX {
            None
        } else {
            Some(Block { num, more, szx })
        }
    }

    /// Decodes an option value; `None` when it is longer than 3 bytes or uses the reserved
    /// SZX 7.
    pub fn decode(v: &[u8]) -> Option<Block> {
        if v.len() > 3 {
            return None;
        }
        let x = decode_uint(v)?;
        let szx = (x & 0x07) as u8;
        Block::new(x >> 4, x & 0x08 != 0, szx)
    }

    /// Encodes the option value with minimal length into `tmp` and returns the used part.
    ///
    /// Fields out of range (`num` above 2^20 - 1, `szx` above 7) keep only their low bits.
    pub fn encode<'t>(&self, tmp: &'t mut [u8; 4]) -> &'t [u8] {
        let v =
            ((self.num & MAX_NUM) << 4) | (u32::from(self.more) << 3) | u32::from(self.szx & 0x07);
        encode_uint(v, tmp)
    }

    /// The block size in bytes, `16 << szx` (an out-of-range `szx` counts as 6: 1024).
    pub fn size(&self) -> usize {
        16usize << self.szx.min(MAX_SZX)
    }

    /// The byte offset of this block, `num * size`; `None` if it does not fit a `usize`.
    pub fn offset(&self) -> Option<usize> {
        usize::try_from(self.num).ok()?.checked_mul(self.size())
    }

    /// The largest size exponent whose block fits in `size` bytes (0 when `size` < 32).
    pub const fn szx_for(size: usize) -> u8 {
        let mut szx = MAX_SZX;
        while szx > 0 && (16usize << szx) > size {
            szx -= 1;
        }
        szx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(b: Block) -> Vec<u8> {
        let mut tmp = [0u8; 4];
        b.encode(&mut tmp).to_vec()
    }

    #[test]
    fn decode_examples() {
        // Empty value: block 0, no more, 16 bytes.
        assert_eq!(
            Block::decode(&[]),
            Some(Block {
                num: 0,
                more: false,
                szx: 0
            })
        );
        // 0x0E: num 0, more, szx 6 (1024).
        assert_eq!(
            Block::decode(&[0x0E]),
            Some(Block {
                num: 0,
                more: true,
                szx: 6
            })
        );
        // 0x1A: num 1, more, szx 2 (64).
        assert_eq!(
            Block::decode(&[0x1A]),
            Some(Block {
                num: 1,
                more: true,
                szx: 2
            })
        );
        // Two bytes: num 0x123, no more, szx 5.
        assert_eq!(
            Block::decode(&[0x12, 0x35]),
            Some(Block {
                num: 0x123,
                more: false,
                szx: 5
            })
        );
        // Three bytes: the largest block number.
        assert_eq!(
            Block::decode(&[0xFF, 0xFF, 0xF6]),
            Some(Block {
                num: MAX_NUM,
                more: false,
                szx: 6
            })
        );
    }

    #[test]
    fn decode_rejects() {
        assert_eq!(Block::decode(&[0x07]), None, "szx 7 is reserved");
        assert_eq!(Block::decode(&[0x00, 0x0F]), None, "szx 7 with more");
        assert_eq!(Block::decode(&[0, 0, 0, 0]), None, "4 bytes");
        assert_eq!(
            Block::decode(&[0x01, 0, 0, 0x06]),
            None,
            "num above 2^20 - 1"
        );
    }

    #[test]
    fn encode_minimal() {
        assert!(enc(Block {
            num: 0,
            more: false,
            szx: 0
        })
        .is_empty());
        assert_eq!(
            enc(Block {
                num: 0,
                more: true,
                szx: 6
            }),
            [0x0E]
        );
        assert_eq!(
            enc(Block {
                num: 15,
                more: false,
                szx: 6
            }),
            [0xF6]
        );
        assert_eq!(
            enc(Block {
                num: 16,
                more: false,
                szx: 6
            }),
            [0x01, 0x06]
        );
        assert_eq!(
            enc(Block {
                num: 4095,
                more: true,
                szx: 1
            }),
            [0xFF, 0xF9]
        );
        assert_eq!(
            enc(Block {
                num: 4096,
                more: true,
                szx: 1
            }),
            [0x01, 0x00, 0x09]
        );
        assert_eq!(
            enc(Block {
                num: MAX_NUM,
                more: true,
                szx: 6
            }),
            [0xFF, 0xFF, 0xFE]
        );
    }

    #[test]
    fn round_trip() {
        for num in [
            0, 1, 2, 15, 16, 17, 255, 256, 4095, 4096, 65535, 65536, MAX_NUM,
        ] {
            for more in [false, true] {
                for szx in 0..=6 {
                    let b = Block::new(num, more, szx).unwrap();
                    let mut tmp = [0u8; 4];
                    let v = b.encode(&mut tmp);
                    assert!(v.len() <= 3);
                    assert_eq!(Block::decode(v), Some(b));
                }
            }
        }
    }

    #[test]
    fn new_checks_ranges() {
        assert!(Block::new(MAX_NUM, false, 6).is_some());
        assert!(Block::new(MAX_NUM + 1, false, 0).is_none());
        assert!(Block::new(0, false, 7).is_none());
    }

    #[test]
    fn size_and_offset() {
        assert_eq!(
            Block {
                num: 0,
                more: false,
                szx: 0
            }
            .size(),
            16
        );
        assert_eq!(
            Block {
                num: 0,
                more: false,
                szx: 6
            }
            .size(),
            1024
        );
        assert_eq!(
            Block {
                num: 0,
                more: false,
                szx: 200
            }
            .size(),
            1024
        );
        assert_eq!(
            Block {
                num: 3,
                more: false,
                szx: 2
            }
            .offset(),
            Some(192)
        );
        assert_eq!(
            Block {
                num: MAX_NUM,
                more: false,
                szx: 6
            }
            .offset(),
            Some(MAX_NUM as usize * 1024)
        );
    }

    #[test]
    fn szx_for_sizes() {
        assert_eq!(Block::szx_for(0), 0);
        assert_eq!(Block::szx_for(16), 0);
        assert_eq!(Block::szx_for(31), 0);
        assert_eq!(Block::szx_for(32), 1);
        assert_eq!(Block::szx_for(63), 1);
        assert_eq!(Block::szx_for(64), 2);
        assert_eq!(Block::szx_for(512), 5);
        assert_eq!(Block::szx_for(1023), 5);
        assert_eq!(Block::szx_for(1024), 6);
        assert_eq!(Block::szx_for(usize::MAX), 6);
    }
}
