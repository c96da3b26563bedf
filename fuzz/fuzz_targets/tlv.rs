//! Reads arbitrary bytes as an OMA TLV payload: validates it, walks every level, decodes
//! every value as every type and re-encodes what decodes. A payload that validates must
//! walk without error, and re-encoding it twice must give the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::buf::Writer;
use tern::formats::tlv::{decode_value, validate, validate_in, TlvEncoder, TlvIter, TlvKind};
use tern::formats::FormatError;
use tern::model::{ResourceType, Value};

const TYPES: [ResourceType; 10] = [
    ResourceType::None,
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
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn check_value(raw: &[u8]) {
    for ty in TYPES {
        let Ok(v) = decode_value(raw, ty) else {
            continue;
        };
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        let long = matches!(v, Value::String(_) | Value::Opaque(_) | Value::CoreLnk(_));
        if long {
            // Raw bytes come back as they are.
            let mut big = vec![0u8; raw.len() + 8];
            let mut w = Writer::new(&mut big);
            TlvEncoder::new(&mut w)
                .value(TlvKind::Resource, 1, &v)
                .unwrap();
            let t = TlvIter::new(w.written()).next().unwrap().unwrap();
            assert_eq!(t.value, raw);
            continue;
        }
        TlvEncoder::new(&mut w)
            .value(TlvKind::Resource, 1, &v)
            .unwrap();
        let t = TlvIter::new(w.written()).next().unwrap().unwrap();
        assert!(t.value.len() <= raw.len() || matches!(v, Value::Float(_)));
        let back = decode_value(t.value, ty).unwrap();
        assert!(same(&v, &back));
    }
}

/// Walks every level; returns false when an entry is malformed.
fn walk(data: &[u8], depth: usize) -> bool {
    for tlv in TlvIter::new(data) {
        let Ok(tlv) = tlv else { return false };
        if tlv.kind.is_container() && depth < 4 {
            if !walk(tlv.value, depth + 1) {
                return false;
            }
        } else {
            check_value(tlv.value);
        }
    }
    true
}

/// Rebuilds a validated tree with the encoder, leaves as opaque bytes.
fn rebuild(data: &[u8], e: &mut TlvEncoder<'_, '_>) -> Result<(), FormatError> {
    for tlv in TlvIter::new(data) {
        let tlv = tlv?;
        if tlv.kind.is_container() {
            e.begin(tlv.kind, tlv.id)?;
            rebuild(tlv.value, e)?;
            e.end()?;
        } else {
            e.value(tlv.kind, tlv.id, &Value::Opaque(tlv.value))?;
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let valid = validate(data, 2);
    let _ = validate_in(data, 2, Some(TlvKind::MultipleResource));
    let _ = validate_in(data, 1, Some(TlvKind::ObjectInstance));
    let walked = walk(data, 0);
    if valid.is_ok() {
        assert!(walked);
        // Open containers hold 3 bytes more header than they end with.
        let mut once = vec![0u8; data.len() + 6];
        let mut w1 = Writer::new(&mut once);
        rebuild(data, &mut TlvEncoder::new(&mut w1)).unwrap();
        let once = w1.written().to_vec();
        assert!(once.len() <= data.len());
        assert_eq!(validate(&once, 2), Ok(()));
        let mut twice = vec![0u8; once.len() + 6];
        let mut w2 = Writer::new(&mut twice);
        rebuild(&once, &mut TlvEncoder::new(&mut w2)).unwrap();
        assert_eq!(w2.written(), &once[..]);
    }
});
