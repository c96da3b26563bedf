//! What the record-format targets check, whatever the format: reads arbitrary bytes as a
//! payload in `format`, walks every record and converts every value to every resource
//! type. Each value that converts is encoded again as a one-record payload about its own
//! path, which must decode to the same path and value. Only the JSON formats may refuse
//! a value, and only a float they cannot carry (an infinity or NaN).

use tern::buf::Writer;
use tern::formats::content_format::{JSON, SENML_JSON};
use tern::formats::records::{Decoder, Encoder};
use tern::formats::senml;
use tern::model::{ResourceType, Value};

fn same(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => a == b,
    }
}

/// Runs the checks on `data` as a payload in content format `format`.
pub fn check(format: u16, data: &[u8]) {
    let json = format == SENML_JSON || format == JSON;
    let Some(Ok(mut records)) = Decoder::new(format, data) else {
        return;
    };
    for _ in 0..64 {
        let rec = match records.next() {
            None => break,
            Some(Ok(rec)) => rec,
            Some(Err(_)) => return,
        };
        let Some(raw) = rec.value else { continue };
        // Every type but None, in ResourceType's order.
        for ty in (1..=9).filter_map(ResourceType::from_u8) {
            let mut scratch = [0u8; 128];
            let Ok(v) = records.value(raw, ty, &mut scratch) else {
                continue;
            };
            let mut out = vec![0u8; data.len() * 2 + 64];
            let mut w = Writer::new(&mut out);
            let mut e = Encoder::new(format, &mut w, rec.path).unwrap().unwrap();
            if e.record(&rec.path, &v).is_err() {
                assert!(json && matches!(v, Value::Float(f) if !f.is_finite()));
                continue;
            }
            e.finish().unwrap();
            let mut again = Decoder::new(format, w.written()).unwrap().unwrap();
            let rec2 = again.next().unwrap().unwrap();
            assert_eq!(rec2.path, rec.path);
            let Some(raw) = rec2.value else {
                panic!("value lost")
            };
            let mut scratch2 = [0u8; 128];
            let back = again.value(raw, ty, &mut scratch2).unwrap();
            assert!(same(&v, &back));
        }
    }
    let _ = Decoder::new(format, data);
    let _ = senml::path(data, &[]);
}
