//! Reads arbitrary bytes as a LwM2M JSON (11543) payload: walks every record and converts every
//! value to every resource type. Each value that converts is encoded again as a one-record
//! payload about its own path, which must decode to the same path and value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::buf::Writer;
use tern::formats::json::{Encoder, Records};
use tern::formats::{json, senml};
use tern::model::{ResourceType, Value};

const TYPES: [ResourceType; 9] = [
    ResourceType::String,
    ResourceType::Integer,
    ResourceType::Unsigned,
    ResourceType::Float,
    ResourceType::Boolean,
    ResourceType::Opaque,
    ResourceType::Time,
    ResourceType::ObjLnk,
    ResourceType::CoreLnk,
];

fn same(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(records) = Records::new(data) else { return };
    for rec in records.take(64) {
        let Ok(rec) = rec else { return };
        let raw = rec.value;
        for ty in TYPES {
            let mut scratch = [0u8; 128];
            let Ok(v) = json::to_value(raw, ty, &mut scratch) else { continue };
            let mut out = vec![0u8; data.len() * 2 + 64];
            let mut w = Writer::new(&mut out);
            let mut e = Encoder::new(&mut w, rec.path).unwrap();
            if e.record(&rec.path, &v).is_err() {
                // Only values JSON cannot carry (infinities, NaN) may be refused.
                assert!(matches!(v, Value::Float(f) if !f.is_finite()));
                continue;
            }
            e.finish().unwrap();
            let again = Records::new(w.written()).unwrap().next().unwrap().unwrap();
            assert_eq!(again.path, rec.path);
            let raw = again.value;
            let mut scratch2 = [0u8; 128];
            let back = json::to_value(raw, ty, &mut scratch2).unwrap();
            assert!(same(&v, &back));
        }
    }
    let _ = json::Records::new(data);
    let _ = senml::path(data, &[]);
});
