//! Every content format of the default features: text, opaque, CoRE link format, TLV,
//! SenML JSON, SenML CBOR, LwM2M CBOR and LwM2M 1.0 JSON. Values encoded and decoded
//! back (floats bit for bit), and malformed input rejected.

use tern::buf::Writer;
use tern::formats::content_format as cf;
use tern::formats::link::{LinkIter, LinkWriter};
use tern::formats::records::{Decoder, Encoder};
use tern::formats::tlv::{self, TlvEncoder, TlvIter, TlvKind};
use tern::formats::{opaque, text, FormatError};
use tern::model::{Path, ResourceType, Value};

use super::sim::Outcome;

/// Floats whose text or binary form must come back bit for bit (the largest and the
/// smallest make the printer's big integers largest).
const FLOATS: [f64; 9] = [
    21.5,
    0.1,
    -2.5,
    1e300,
    -1.25e-7,
    3.4028234663852886e38,
    0.0,
    f64::MAX,
    -5e-324,
];

/// `v` in plain text.
fn text_of<'b>(v: &Value<'_>, buf: &'b mut [u8]) -> Result<&'b [u8], FormatError> {
    let mut w = Writer::new(buf);
    text::encode(v, &mut w)?;
    let n = w.len();
    Ok(buf.get(..n).unwrap_or(&[]))
}

pub fn text_values() -> Outcome {
    let mut b = [0u8; 64];
    let cases: [(Value<'_>, &[u8]); 7] = [
        (Value::Integer(-42), b"-42"),
        (Value::Unsigned(u64::MAX), b"18446744073709551615"),
        (Value::Boolean(true), b"1"),
        (Value::ObjLnk(3, 0), b"3:0"),
        (Value::String("Cel"), b"Cel"),
        (Value::Time(1_700_000_000), b"1700000000"),
        (Value::Opaque(&[0xde, 0xad, 0xbe, 0xef]), b"3q2+7w=="),
    ];
    for (v, want) in cases {
        let got = text_of(&v, &mut b).map_err(|_| "text encode")?;
        ensure_eq!(got, want);
        if v.kind() != ResourceType::Opaque {
            ensure_eq!(text::decode(want, v.kind()), Ok(v));
        }
    }
    ensure_eq!(
        text::decode(b"false", ResourceType::Boolean),
        Ok(Value::Boolean(false))
    );
    ensure_eq!(
        text::decode(b"-0", ResourceType::Unsigned),
        Ok(Value::Unsigned(0))
    );
    // Not enough room: an error, not a partial success.
    let mut tiny = [0u8; 2];
    ensure_eq!(
        text_of(&Value::Integer(-42), &mut tiny),
        Err(FormatError::NoSpace)
    );
    Ok(())
}

/// The engine's double addition and comparison, done on the bit patterns, against the
/// target's own (the FPU, or the soft-float routines on a Cortex-M3), on edge values and
/// on pseudo-random operands.
pub fn double_arithmetic_on_bits() -> Outcome {
    use tern::formats::float::{add, less};
    let same = |x: f64, y: f64| (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits();
    let edges = [
        0.0,
        -0.0,
        5e-324,
        2.225073858507201e-308,
        2.2250738585072014e-308,
        1.0,
        1.0000000000000002,
        0.9999999999999999,
        f64::MAX,
        f64::INFINITY,
        f64::NAN,
    ];
    for a in edges.iter().flat_map(|&v| [v, -v]) {
        for b in edges.iter().flat_map(|&v| [v, -v]) {
            ensure!(same(add(a, b), a + b), "an edge sum differs");
            ensure!(less(a, b) == (a < b), "an edge comparison differs");
        }
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..2000u64 {
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let a = next();
        // Every other b has an exponent close to a's: cancellation and ties.
        let b = match i % 2 {
            0 => (next() & 0x800F_FFFF_FFFF_FFFF) | (a & 0x7FF0_0000_0000_0000),
            _ => next(),
        };
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        ensure!(same(add(x, y), x + y), "a random sum differs");
        ensure!(less(x, y) == (x < y), "a random comparison differs");
    }
    Ok(())
}

pub fn text_floats_exact() -> Outcome {
    let mut b = [0u8; 64];
    for f in FLOATS {
        let t = text_of(&Value::Float(f), &mut b).map_err(|_| "float encode")?;
        match text::decode(t, ResourceType::Float) {
            Ok(Value::Float(g)) => ensure_eq!(g.to_bits(), f.to_bits()),
            _ => return Err("a float written as text does not read back"),
        }
    }
    ensure_eq!(text_of(&Value::Float(0.1), &mut b), Ok(&b"0.1"[..]));
    ensure_eq!(
        text_of(&Value::Float(21.5), &mut [0u8; 16]),
        Ok(&b"21.5"[..])
    );
    ensure_eq!(
        text::decode(b"2.5e-1", ResourceType::Float),
        Ok(Value::Float(0.25))
    );
    ensure_eq!(
        text::decode(b"-7", ResourceType::Float),
        Ok(Value::Float(-7.0))
    );
    ensure_eq!(
        text_of(&Value::Float(f64::NAN), &mut b),
        Err(FormatError::OutOfRange)
    );
    Ok(())
}

pub fn text_malformed() -> Outcome {
    use ResourceType as T;
    let bad: [(&[u8], T, FormatError); 12] = [
        (b"12a", T::Integer, FormatError::Malformed),
        (b"", T::Integer, FormatError::Malformed),
        (b" 1", T::Integer, FormatError::Malformed),
        (b"9223372036854775808", T::Integer, FormatError::OutOfRange),
        (b"-1", T::Unsigned, FormatError::OutOfRange),
        (b"2", T::Boolean, FormatError::Malformed),
        (b"inf", T::Float, FormatError::Malformed),
        (b"1e400", T::Float, FormatError::OutOfRange),
        (b"1.2.3", T::Float, FormatError::Malformed),
        (b"3:70000", T::ObjLnk, FormatError::OutOfRange),
        (b"\xff\xfe", T::String, FormatError::Malformed),
        (b"AAAA", T::Opaque, FormatError::WrongType),
    ];
    for (data, ty, why) in bad {
        ensure_eq!(text::decode(data, ty), Err(why));
    }
    ensure!(text::decode(b"3", T::ObjLnk).is_err());
    ensure!(text::decode(b"x", T::None).is_err());
    Ok(())
}

pub fn opaque_values() -> Outcome {
    let data = [0u8, 1, 0x80, 0xff];
    let mut b = [0u8; 8];
    let mut w = Writer::new(&mut b);
    opaque::encode(&Value::Opaque(&data), &mut w).map_err(|_| "opaque encode")?;
    ensure_eq!(w.written(), &data);
    ensure_eq!(
        opaque::decode(&data, ResourceType::Opaque),
        Ok(Value::Opaque(&data[..]))
    );
    let mut w = Writer::new(&mut b);
    ensure_eq!(
        opaque::encode(&Value::Integer(1), &mut w),
        Err(FormatError::WrongType)
    );
    ensure_eq!(
        opaque::decode(&data, ResourceType::Integer),
        Err(FormatError::WrongType)
    );
    let mut small = [0u8; 2];
    let mut w = Writer::new(&mut small);
    ensure_eq!(
        opaque::encode(&Value::Opaque(&data), &mut w),
        Err(FormatError::NoSpace)
    );
    Ok(())
}

pub fn link_format_round_trip() -> Outcome {
    let mut b = [0u8; 128];
    let mut w = Writer::new(&mut b);
    {
        let mut l = LinkWriter::new(&mut w);
        ensure_eq!(l.attr_uint("pmin", 1), Err(FormatError::Malformed));
        l.link(&Path::ROOT).map_err(|_| "root")?;
        l.attr_str("rt", "oma.lwm2m").map_err(|_| "rt")?;
        l.link(&Path::instance(3303, 0)).map_err(|_| "link")?;
        l.attr_uint("pmin", 10).map_err(|_| "pmin")?;
        l.link(&Path::resource(3303, 0, 5700)).map_err(|_| "link")?;
        l.attr_str("title", "a\"b").map_err(|_| "title")?;
        l.attr_flag("obs").map_err(|_| "flag")?;
        ensure_eq!(l.count(), 3);
    }
    let text = w.written();
    ensure_eq!(
        text,
        &br#"</>;rt="oma.lwm2m",</3303/0>;pmin=10,</3303/0/5700>;title="a\"b";obs"#[..]
    );
    let mut it = LinkIter::new(text);
    let root = it
        .next()
        .ok_or("no first link")?
        .map_err(|_| "first link")?;
    ensure_eq!(root.target, b"/");
    let mut p = root.params();
    ensure_eq!(p.next(), Some((&b"rt"[..], Some(&b"oma.lwm2m"[..]))));
    ensure!(p.next().is_none());
    let inst = it
        .next()
        .ok_or("no second link")?
        .map_err(|_| "second link")?;
    ensure_eq!(inst.target, b"/3303/0");
    ensure_eq!(inst.params().next(), Some((&b"pmin"[..], Some(&b"10"[..]))));
    let res = it
        .next()
        .ok_or("no third link")?
        .map_err(|_| "third link")?;
    ensure_eq!(res.target, b"/3303/0/5700");
    let mut p = res.params();
    ensure_eq!(p.next(), Some((&b"title"[..], Some(&br#"a\"b"#[..]))));
    ensure_eq!(p.next(), Some((&b"obs"[..], None)));
    ensure!(it.next().is_none());
    // Whitespace between links, as some servers send it.
    ensure_eq!(
        LinkIter::new(b"</1/0>,\r\n </3/0>")
            .filter(|l| l.is_ok())
            .count(),
        2
    );
    ensure_eq!(LinkIter::new(b"").count(), 0);
    Ok(())
}

pub fn link_format_malformed() -> Outcome {
    let bad: [&[u8]; 9] = [
        b"</3/0",
        b"<>",
        b"/3/0>",
        b"</3/0>x",
        b"</3/0>,",
        b"</3/0>;=1",
        b"</3/0>;a=\"open",
        b"</3/0>;a=b\"c",
        b"</1/0>,</3/0>;x;;",
    ];
    for data in bad {
        let mut errors = 0;
        for l in LinkIter::new(data) {
            if l.is_err() {
                errors += 1;
            }
        }
        ensure_eq!(errors, 1);
    }
    Ok(())
}

/// An object instance /3303/0 in TLV: a string, an integer, a boolean, floats and a
/// multiple resource with two instances.
fn tlv_instance(buf: &mut [u8]) -> Result<&[u8], FormatError> {
    let mut w = Writer::new(buf);
    {
        let mut e = TlvEncoder::new(&mut w);
        e.begin(TlvKind::ObjectInstance, 0)?;
        e.value(TlvKind::Resource, 5701, &Value::String("Cel"))?;
        e.value(TlvKind::Resource, 5900, &Value::Integer(-300))?;
        e.value(TlvKind::Resource, 5, &Value::Boolean(true))?;
        e.value(TlvKind::Resource, 5700, &Value::Float(21.5))?;
        e.value(TlvKind::Resource, 5601, &Value::Float(0.1))?;
        e.begin(TlvKind::MultipleResource, 11)?;
        e.value(TlvKind::ResourceInstance, 0, &Value::Integer(1))?;
        e.value(TlvKind::ResourceInstance, 7, &Value::ObjLnk(3, 0))?;
        e.end()?;
        e.end()?;
        if e.depth() != 0 {
            return Err(FormatError::Malformed);
        }
    }
    let n = w.len();
    Ok(buf.get(..n).unwrap_or(&[]))
}

pub fn tlv_round_trip() -> Outcome {
    let mut b = [0u8; 128];
    let data = tlv_instance(&mut b).map_err(|_| "TLV encode")?;
    ensure!(tlv::validate(data, tlv::MAX_NESTING).is_ok());
    let mut top = TlvIter::new(data);
    let inst = top.next().ok_or("no instance")?.map_err(|_| "instance")?;
    ensure_eq!((inst.kind, inst.id), (TlvKind::ObjectInstance, 0));
    ensure!(top.next().is_none());
    let mut it = TlvIter::new(inst.value);
    let mut next = || it.next().ok_or("missing entry")?.map_err(|_| "bad entry");
    let units = next()?;
    ensure_eq!(
        (units.kind, units.id, units.value),
        (TlvKind::Resource, 5701, &b"Cel"[..])
    );
    let interval = next()?;
    ensure_eq!(interval.value, &[0xfe, 0xd4], "-300 in two bytes");
    ensure_eq!(
        tlv::decode_value(interval.value, ResourceType::Integer),
        Ok(Value::Integer(-300))
    );
    let flag = next()?;
    ensure_eq!(
        tlv::decode_value(flag.value, ResourceType::Boolean),
        Ok(Value::Boolean(true))
    );
    let _ = next()?;
    let _ = next()?;
    let multi = next()?;
    ensure_eq!((multi.kind, multi.id), (TlvKind::MultipleResource, 11));
    let mut inner = TlvIter::new(multi.value);
    let a = inner
        .next()
        .ok_or("instance 0")?
        .map_err(|_| "instance 0")?;
    ensure_eq!((a.kind, a.id), (TlvKind::ResourceInstance, 0));
    let b7 = inner
        .next()
        .ok_or("instance 7")?
        .map_err(|_| "instance 7")?;
    ensure_eq!(b7.id, 7);
    ensure_eq!(
        tlv::decode_value(b7.value, ResourceType::ObjLnk),
        Ok(Value::ObjLnk(3, 0))
    );
    ensure!(inner.next().is_none());
    ensure_eq!(
        tlv::decode_value(&[0, 0, 0, 0, 0, 0, 0, 1], ResourceType::Integer),
        Ok(Value::Integer(1))
    );
    Ok(())
}

pub fn tlv_floats_exact() -> Outcome {
    let mut b = [0u8; 32];
    for f in FLOATS {
        let mut w = Writer::new(&mut b);
        TlvEncoder::new(&mut w)
            .value(TlvKind::Resource, 1, &Value::Float(f))
            .map_err(|_| "TLV float")?;
        let e = TlvIter::new(w.written())
            .next()
            .ok_or("no entry")?
            .map_err(|_| "entry")?;
        match tlv::decode_value(e.value, ResourceType::Float) {
            Ok(Value::Float(g)) => ensure_eq!(g.to_bits(), f.to_bits()),
            _ => return Err("a TLV float does not read back"),
        }
        // Four bytes when a single-precision float holds it exactly, else eight.
        let single = f64::from(f as f32) == f;
        ensure_eq!(e.value.len(), if single { 4 } else { 8 });
    }
    Ok(())
}

pub fn tlv_malformed() -> Outcome {
    // A length past the end; a header cut short; a 24-bit length with too few bytes.
    let truncated: [&[u8]; 4] = [
        &[0xc3, 0x01, 0x00],
        &[0xe8],
        &[0xd0, 0x05, 0x00],
        &[0xc8, 0x01, 0x09, 0x01],
    ];
    for data in truncated {
        ensure!(
            TlvIter::new(data).any(|t| t.is_err()),
            "a truncated TLV reads"
        );
        ensure!(tlv::validate(data, tlv::MAX_NESTING).is_err());
    }
    // A resource instance at the top level; an object instance inside an object instance.
    ensure!(tlv::validate(&[0x41, 0x00, 0x01], 2).is_err());
    ensure!(tlv::validate(&[0x03, 0x00, 0x01, 0x00, 0x00], 2).is_err());
    // Nesting deeper than allowed.
    let mut b = [0u8; 128];
    let good = tlv_instance(&mut b).map_err(|_| "encode")?;
    ensure_eq!(tlv::validate(good, 1), Err(FormatError::TooDeep));
    // Every truncation of a good payload is refused.
    for n in 1..good.len() {
        ensure!(
            tlv::validate(good.get(..n).unwrap_or(&[]), 2).is_err(),
            "a truncated instance validates"
        );
    }
    // Values whose length does not fit their type.
    ensure!(tlv::decode_value(&[1, 2, 3], ResourceType::Integer).is_err());
    ensure!(tlv::decode_value(&[1, 2], ResourceType::Float).is_err());
    ensure!(tlv::decode_value(&[2], ResourceType::Boolean).is_err());
    ensure!(tlv::decode_value(&[0xff], ResourceType::String).is_err());
    ensure!(tlv::decode_value(&[1, 2, 3], ResourceType::ObjLnk).is_err());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The record formats
// ---------------------------------------------------------------------------------------

const OPAQUE: [u8; 5] = [0, 1, 0x80, 0xfe, 0xff];

/// The records of the round trips: every type, floats that must come back exactly.
fn records() -> [(Path, Value<'static>); 11] {
    let r = |rid| Path::resource(3303, 0, rid);
    [
        (r(5700), Value::Float(21.5)),
        (r(5601), Value::Float(0.1)),
        (r(5602), Value::Float(-1.25e-7)),
        (r(5603), Value::Float(1e300)),
        (r(5701), Value::String("Cel \"quoted\"")),
        (r(5900), Value::Integer(-9_000_000_000)),
        (r(5901), Value::Unsigned(1 << 40)),
        (r(5850), Value::Boolean(true)),
        (r(5750), Value::Opaque(&OPAQUE)),
        (r(5910), Value::ObjLnk(3, 0)),
        (
            Path::new(&[3303, 0, 5800, 2]).unwrap_or(Path::ROOT),
            Value::Time(1_700_000_000),
        ),
    ]
}

/// The records encoded in `format` about /3303/0 and decoded back: same paths, same values.
fn records_round_trip(format: u16) -> Outcome {
    let recs = records();
    let mut b = [0u8; 512];
    let mut w = Writer::new(&mut b);
    {
        let mut e = Encoder::new(format, &mut w, Path::instance(3303, 0))
            .ok_or("the format is not built")?
            .map_err(|_| "encoder")?;
        for (p, v) in &recs {
            e.record(p, v).map_err(|_| "record")?;
        }
        e.finish().map_err(|_| "finish")?;
    }
    let data = w.written();
    let d = Decoder::new(format, data)
        .ok_or("the format is not built")?
        .map_err(|_| "decoder")?;
    let mut n = 0;
    let mut scratch = [0u8; 64];
    for rec in Decoder::new(format, data)
        .ok_or("format")?
        .map_err(|_| "decoder")?
    {
        let rec = rec.map_err(|_| "a record does not decode")?;
        let (path, want) = recs.get(n).ok_or("more records than written")?;
        ensure_eq!(rec.path, *path);
        let raw = rec.value.ok_or("a record without its value")?;
        let got = d
            .value(raw, want.kind(), &mut scratch)
            .map_err(|_| "a value does not convert back")?;
        match (got, *want) {
            (Value::Float(g), Value::Float(f)) => ensure_eq!(g.to_bits(), f.to_bits()),
            (g, f) => ensure!(g == f, "a value reads back different"),
        }
        n += 1;
    }
    ensure_eq!(n, recs.len());
    // A value of another type than the resource's is refused.
    let first = Decoder::new(format, data)
        .ok_or("format")?
        .map_err(|_| "decoder")?
        .next()
        .ok_or("no record")?
        .map_err(|_| "record")?;
    let raw = first.value.ok_or("no value")?;
    ensure!(d.value(raw, ResourceType::Boolean, &mut scratch).is_err());
    // Every truncation of the payload is refused.
    for cut in 1..data.len() {
        let short = data.get(..cut).unwrap_or(&[]);
        let refused = match Decoder::new(format, short) {
            Some(Ok(mut d)) => d.any(|r| r.is_err()),
            _ => true,
        };
        ensure!(refused, "a truncated payload decodes");
    }
    Ok(())
}

/// Every payload in `bad` is refused by `format`'s decoder (at the start or at a record).
fn records_malformed(format: u16, bad: &[&[u8]]) -> Outcome {
    for data in bad {
        let refused = match Decoder::new(format, data).ok_or("the format is not built")? {
            Ok(mut d) => d.any(|r| r.is_err()),
            Err(_) => true,
        };
        ensure!(refused, "a malformed payload decodes");
    }
    Ok(())
}

pub fn senml_json_round_trip() -> Outcome {
    records_round_trip(cf::SENML_JSON)
}

pub fn senml_json_malformed() -> Outcome {
    records_malformed(
        cf::SENML_JSON,
        &[
            b"{\"n\":\"/3/0/0\"}",
            b"[{\"n\":\"/3/0/0\",\"v\":}]",
            b"[{\"n\":\"/3/0/0\",\"v\":1",
            b"[{\"n\":\"/3/0/0\" \"v\":1}]",
            b"[{\"n\":\"3/0/0\",\"v\":1}]",
            b"[{\"n\":\"/3/0/0\",\"v\":1}]x",
            b"[{\"n\":\"/3/0/0\",\"vs\":\"open}]",
            b"[{\"n\":\"/70000/0/0\",\"v\":1}]",
        ],
    )
}

pub fn senml_cbor_round_trip() -> Outcome {
    records_round_trip(cf::SENML_CBOR)
}

pub fn senml_cbor_malformed() -> Outcome {
    records_malformed(
        cf::SENML_CBOR,
        &[
            // Not an array; an array of one map cut short; a name that is not text.
            &[0xa1, 0x00, 0x61, b'x'],
            &[0x81, 0xa2, 0x00, 0x66, b'/', b'3', b'/', b'0'],
            &[0x81, 0xa2, 0x00, 0x01, 0x02, 0x01],
            // A reserved additional-information value; an indefinite array without break.
            &[0x81, 0xa1, 0x00, 0x7c],
            &[
                0x9f, 0xa2, 0x00, 0x66, b'/', b'3', b'/', b'0', b'/', b'0', 0x02, 0x01,
            ],
        ],
    )
}

pub fn lwm2m_cbor_round_trip() -> Outcome {
    records_round_trip(cf::LWM2M_CBOR)
}

pub fn lwm2m_cbor_malformed() -> Outcome {
    records_malformed(
        cf::LWM2M_CBOR,
        &[
            // Not a map; a map cut short; a key that is not an id; a break out of place.
            &[0x81, 0x03],
            &[0xa1, 0x03, 0xa1, 0x00, 0xa1],
            &[0xa1, 0x61, b'x', 0x01],
            &[0xa1, 0x03, 0xff],
            &[0xbf, 0x03, 0xa1, 0x00, 0xa1, 0x00, 0x01],
        ],
    )
}

pub fn json_round_trip() -> Outcome {
    records_round_trip(cf::JSON)
}

pub fn json_malformed() -> Outcome {
    records_malformed(
        cf::JSON,
        &[
            b"[{\"n\":\"0\",\"v\":1}]",
            b"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"0\",\"v\":}]}",
            b"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"0\",\"v\":1}",
            b"{\"bn\":\"/3/0/\",\"e\":{\"n\":\"0\",\"v\":1}}",
            b"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"0\",\"sv\":\"x}]}",
        ],
    )
}
