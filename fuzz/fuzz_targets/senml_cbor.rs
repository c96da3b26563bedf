//! Reads arbitrary bytes as a SenML CBOR (112) payload: walks every record and converts every
//! value to every resource type. Each value that converts is encoded again as a one-record
//! payload about its own path, which must decode to the same path and value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::buf::Writer;
use tern::formats::senml_cbor::{Encoder, Records};
use tern::formats::{senml_cbor, senml};
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
        let Some(raw) = rec.value else { continue };
        for ty in TYPES {
            let mut scratch = [0u8; 128];
            let Ok(v) = senml::to_value(raw, ty, &mut scratch, false) else { continue };
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
            let Some(raw) = again.value else { panic!("value lost") };
            let mut scratch2 = [0u8; 128];
            let back = senml::to_value(raw, ty, &mut scratch2, false).unwrap();
            assert!(same(&v, &back));
        }
    }
    let _ = senml_cbor::Records::new(data);
    let _ = senml::path(data, &[]);
});
