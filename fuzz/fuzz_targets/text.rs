//! Reads arbitrary bytes as a plain-text value of every type; whatever decodes must encode
//! and decode back to the same value. Also formats the first eight bytes as a float.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::buf::Writer;
use tern::formats::float::write_shortest;
use tern::formats::text::{decode, encode};
use tern::model::{ResourceType, Value};

fuzz_target!(|data: &[u8]| {
    for code in 0..=9u8 {
        let Some(ty) = ResourceType::from_u8(code) else {
            continue;
        };
        let Ok(v) = decode(data, ty) else { continue };
        let mut buf = vec![0u8; data.len() + 32];
        let mut w = Writer::new(&mut buf);
        encode(&v, &mut w).unwrap();
        let back = decode(w.written(), ty).unwrap();
        match (v, back) {
            (Value::Float(a), Value::Float(b)) => assert_eq!(a.to_bits(), b.to_bits()),
            (Value::String(_) | Value::CoreLnk(_), _) => assert_eq!(w.written(), data),
            _ => assert_eq!(v, back),
        }
    }
    if let Some(bytes) = data.get(..8) {
        let f = f64::from_bits(u64::from_le_bytes(bytes.try_into().unwrap()));
        let mut buf = [0u8; 40];
        let mut w = Writer::new(&mut buf);
        if f.is_finite() {
            write_shortest(f, &mut w).unwrap();
            let s = core::str::from_utf8(w.written()).unwrap();
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), f.to_bits());
        } else {
            assert!(write_shortest(f, &mut w).is_err());
        }
    }
});
