//! Loads arbitrary bytes as the two record slots of the persisted state. Whatever they
//! hold, the load does not panic; a record that is applied saves again, and what was saved
//! loads again. With the first byte's top bit set, the rest is a record body that the
//! harness seals with a valid header and CRC, so that the item checks are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::client::persist::{MemSlots as Slots, Restored};
use tern::client::{Client, Config, ServerConfig, Version};

fn client() -> Client {
    let servers = [ServerConfig {
        uri: "coap://127.0.0.1:5683",
        short_id: 1,
        lifetime_s: 60,
    }];
    let config = Config {
        endpoint: "fuzz",
        version: Version::V1_1,
        update_margin_s: 5,
        servers: &servers,
    };
    Client::new(&config, 1).expect("valid configuration")
}

/// A record around `body`: the header of format version 1 and the CRC-32.
fn seal(body: &[u8]) -> Vec<u8> {
    let len = body.len().min(4096);
    let mut r = b"tern\x01\x00".to_vec();
    r.extend_from_slice(&(len as u16).to_le_bytes());
    r.extend_from_slice(&7u32.to_le_bytes());
    r.extend_from_slice(&body[..len]);
    let mut crc = !0u32;
    for &b in &r {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    r.extend_from_slice(&(!crc).to_le_bytes());
    r
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let mut slots = if split & 0x80 != 0 {
        Slots([seal(rest), Vec::new()])
    } else {
        let at = usize::from(split).min(rest.len());
        Slots([rest[..at].to_vec(), rest[at..].to_vec()])
    };
    let mut c = client();
    if let Restored::Applied { .. } = c.restore_state(&mut slots) {
        let mut again = Slots([Vec::new(), Vec::new()]);
        assert!(c.save_state(&mut again));
        let mut d = client();
        assert!(matches!(
            d.restore_state(&mut again),
            Restored::Applied { .. }
        ));
    }
});
