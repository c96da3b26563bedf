//! Block-wise transfer (RFC 7959) on the client's server-facing side, through the
//! simulator with coap-lite as the independent codec: Block1 writes of an opaque resource
//! handed to the object block by block, and Block2 responses larger than one message.

mod sim;

use std::cell::RefCell;
use std::rc::Rc;

use coap_lite::{CoapOption, MessageClass, Packet, RequestType};

use sim::*;
use tern::buf::Writer;
use tern::formats::records::Encoder;
use tern::formats::tlv::{self, TlvEncoder, TlvIter, TlvKind};
use tern::model::{Path, Value};

/// A registered client with the blob object added.
fn blob_sim(seed: u64) -> (Sim, Rc<RefCell<BlobLog>>) {
    let mut sim = quiet_registered_sim(seed);
    let log = Rc::new(RefCell::new(BlobLog::default()));
    sim.platform
        .objects
        .extra
        .push(Box::new(Blob(Rc::clone(&log))));
    (sim, log)
}

// ---------------------------------------------------------------------------------------
// Block option helpers (encoded here, independently of the engine's codec)
// ---------------------------------------------------------------------------------------

fn block_value(num: u32, more: bool, szx: u8) -> Vec<u8> {
    let v = (num << 4) | (u32::from(more) << 3) | u32::from(szx);
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    bytes[skip..].to_vec()
}

/// (num, more, szx) of a Block option in `p`.
fn block_of(p: &Packet, o: CoapOption) -> Option<(u32, bool, u8)> {
    let v = p.get_option(o)?.front()?.clone();
    assert!(v.len() <= 3, "a Block option has at most 3 bytes");
    let x = v.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b));
    Some((x >> 4, x & 8 != 0, (x & 7) as u8))
}

fn uint_option(p: &Packet, o: CoapOption) -> Option<u32> {
    let v = p.get_option(o)?.front()?.clone();
    assert!(v.len() <= 4);
    Some(v.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
}

fn code(p: &Packet) -> String {
    code_str(raw_code(p))
}

/// A Block1 PUT of `data`'s block `num` (of `16 << szx` bytes) to `path`.
fn block1_put(path: &str, data: &[u8], num: u32, szx: u8, format: Option<u16>) -> Packet {
    let size = 16usize << szx;
    let start = num as usize * size;
    let end = (start + size).min(data.len());
    let more = end < data.len();
    let mut p = request(RequestType::Put, path);
    if let Some(f) = format {
        p.add_option(CoapOption::ContentFormat, f.to_be_bytes().to_vec());
    }
    p.add_option(CoapOption::Block1, block_value(num, more, szx));
    p.payload = data[start..end].to_vec();
    p
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    v
}

// ---------------------------------------------------------------------------------------
// Block1
// ---------------------------------------------------------------------------------------

#[test]
fn block1_write_of_a_large_opaque_value_arrives_intact() {
    let (mut sim, log) = blob_sim(1);
    let data = pattern(3000, 7);
    for szx in [4u8, 2] {
        let size = 16usize << szx;
        let count = data.len().div_ceil(size) as u32;
        for num in 0..count {
            let (r, _) = exchange(
                &mut sim,
                block1_put("/33000/0/0", &data, num, szx, Some(42)),
            );
            let last = num + 1 == count;
            let expect = if last { "2.04" } else { "2.31" };
            assert_eq!(code(&r), expect, "block {num} at szx {szx}");
            assert_eq!(
                block_of(&r, CoapOption::Block1),
                Some((num, !last, szx)),
                "Block1 echoed"
            );
        }
        let log = log.borrow();
        assert_eq!(log.value, data, "the value arrived intact");
        assert_eq!(log.writes, 0, "no whole-value write");
        let this_round = &log.blocks[log.blocks.len() - count as usize..];
        for (i, &(offset, len, last)) in this_round.iter().enumerate() {
            assert_eq!(offset as usize, i * size);
            assert_eq!(last, i + 1 == count as usize);
            assert!(len == size || last);
        }
    }
}

#[test]
fn block1_without_content_format_is_taken_for_an_opaque_resource() {
    let (mut sim, log) = blob_sim(2);
    let data = pattern(100, 3);
    let (r, _) = exchange(&mut sim, block1_put("/33000/0/0", &data, 0, 2, None));
    assert_eq!(code(&r), "2.31");
    let (r, _) = exchange(&mut sim, block1_put("/33000/0/0", &data, 1, 2, None));
    assert_eq!(code(&r), "2.04");
    assert_eq!(block_of(&r, CoapOption::Block1), Some((1, false, 2)));
    assert_eq!(log.borrow().value, data);
}

#[test]
fn block1_out_of_sequence_gets_4_08_and_block_0_restarts() {
    let (mut sim, log) = blob_sim(3);
    let data = pattern(1000, 4);
    let (r, _) = exchange(&mut sim, block1_put("/33000/0/0", &data, 0, 4, Some(42)));
    assert_eq!(code(&r), "2.31");
    // Block 2 before block 1.
    let (r, _) = exchange(&mut sim, block1_put("/33000/0/0", &data, 2, 4, Some(42)));
    assert_eq!(code(&r), "4.08");
    assert_eq!(
        log.borrow().blocks.len(),
        1,
        "the stray block was not handed over"
    );
    // Block 1 is still the one expected.
    let (r, _) = exchange(&mut sim, block1_put("/33000/0/0", &data, 1, 4, Some(42)));
    assert_eq!(code(&r), "2.31");
    // A block of another transfer that never started.
    let (mut sim2, _log2) = blob_sim(4);
    let (r, _) = exchange(&mut sim2, block1_put("/33000/0/0", &data, 1, 4, Some(42)));
    assert_eq!(code(&r), "4.08");
    // Block 0 starts over.
    for num in 0..4 {
        let (r, _) = exchange(&mut sim, block1_put("/33000/0/0", &data, num, 4, Some(42)));
        assert_eq!(code(&r), if num == 3 { "2.04" } else { "2.31" });
    }
    assert_eq!(log.borrow().value, data);
    // After the last block, a continuation is out of sequence again.
    let (r, _) = exchange(&mut sim, block1_put("/33000/0/0", &data, 1, 4, Some(42)));
    assert_eq!(code(&r), "4.08");
}

#[test]
fn block1_to_anything_but_an_opaque_resource_gets_4_13_with_size1() {
    let (mut sim, log) = blob_sim(5);
    let data = pattern(600, 5);
    let cases: &[(&str, Option<u16>)] = &[
        ("/33000/0/1", Some(0)),     // a string resource
        ("/33000/0/1", None),        // ... without Content-Format
        ("/33000/0/0", Some(0)),     // opaque resource, text payload
        ("/33000/0/0", Some(11542)), // opaque resource, TLV payload
        ("/33000/0", Some(11542)),   // an instance
        ("/3303/0/5701", Some(0)),   // the sensor's string resource
    ];
    for &(path, format) in cases {
        let (r, _) = exchange(&mut sim, block1_put(path, &data, 0, 4, format));
        assert_eq!(code(&r), "4.13", "{path} {format:?}");
        let size1 = uint_option(&r, CoapOption::Size1).expect("Size1 on a 4.13");
        assert!((256..=512).contains(&size1), "Size1 {size1}");
        assert!(r.payload.is_empty());
    }
    assert!(log.borrow().blocks.is_empty());
    // Usual checks come first: a resource that does not exist, one that is read-only.
    let (r, _) = exchange(&mut sim, block1_put("/33000/0/9", &data, 0, 4, Some(42)));
    assert_eq!(code(&r), "4.04");
    let (r, _) = exchange(&mut sim, block1_put("/33000/0/2", &data, 0, 4, Some(42)));
    assert_eq!(code(&r), "4.05");
    let (r, _) = exchange(&mut sim, block1_put("/33000/7/0", &data, 0, 4, Some(42)));
    assert_eq!(code(&r), "4.04");
}

#[test]
fn block1_retransmission_is_answered_from_the_cache_not_applied_twice() {
    let (mut sim, log) = blob_sim(6);
    let data = pattern(400, 6);
    let send = |sim: &mut Sim, p: &Packet, mid: u16| -> Vec<u8> {
        let mut p = p.clone();
        p.header.message_id = mid;
        p.set_token(vec![0x42, mid as u8]);
        let bytes = p.to_bytes().unwrap();
        sim.client
            .handle_datagram(0, &bytes, sim.now, &mut sim.platform);
        let events: Vec<_> = std::iter::from_fn(|| sim.client.poll_event()).collect();
        let out = sim
            .client
            .poll_transmit(sim.now, &mut sim.platform)
            .map(|t| t.data.to_vec());
        out.unwrap_or_else(|| panic!("no response; events {events:?}"))
    };
    let b0 = block1_put("/33000/0/0", &data, 0, 4, Some(42));
    let b1 = block1_put("/33000/0/0", &data, 1, 4, Some(42));
    let first = send(&mut sim, &b0, 0x100);
    sim.now += 1000;
    let again = send(&mut sim, &b0, 0x100);
    assert_eq!(first, again, "the same response again");
    assert_eq!(log.borrow().blocks.len(), 1, "block 0 applied once");
    let last = send(&mut sim, &b1, 0x101);
    let again = send(&mut sim, &b1, 0x101);
    assert_eq!(last, again);
    assert_eq!(code(&parse(&last).unwrap()), "2.04");
    assert_eq!(log.borrow().blocks.len(), 2);
    assert_eq!(log.borrow().value, data);
}

#[test]
fn malformed_block_options_get_4_02_or_4_00() {
    let (mut sim, log) = blob_sim(7);
    let data = pattern(64, 1);
    for (opt, method, path) in [
        (CoapOption::Block1, RequestType::Put, "/33000/0/0"),
        (CoapOption::Block2, RequestType::Get, "/3303/0"),
    ] {
        // Four bytes: an option value longer than Block allows (RFC 7252 5.4.3: 4.02).
        let mut p = request(method, path);
        p.add_option(opt, vec![0, 0, 0, 0x14]);
        p.payload = data.clone();
        let (r, _) = exchange(&mut sim, p);
        assert_eq!(code(&r), "4.02", "{opt:?} of 4 bytes");
        // SZX 7 is reserved (RFC 7959 2.2: 4.00).
        let mut p = request(method, path);
        p.add_option(opt, vec![0x07]);
        p.payload = data.clone();
        let (r, _) = exchange(&mut sim, p);
        assert_eq!(code(&r), "4.00", "{opt:?} with SZX 7");
    }
    // A block followed by more must fill its size.
    let mut p = request(RequestType::Put, "/33000/0/0");
    p.add_option(CoapOption::Block1, block_value(0, true, 4));
    p.payload = data.clone();
    let (r, _) = exchange(&mut sim, p);
    assert_eq!(code(&r), "4.00");
    assert!(log.borrow().blocks.is_empty());
    let _ = MessageClass::Empty;
}

// ---------------------------------------------------------------------------------------
// Block2
// ---------------------------------------------------------------------------------------

/// What a block-wise read gave: the reassembled payload, the Block2 options of the
/// responses, their Size2 and Content-Format.
struct Blocks {
    payload: Vec<u8>,
    options: Vec<(u32, bool, u8)>,
    size2: Vec<Option<u32>>,
    format: Option<u16>,
}

/// Reads `make()`'s target block by block, asking for blocks of `16 << szx` bytes from
/// block 0 (early negotiation); follows a smaller size the client answers with (RFC 7959
/// section 2.4: the next block is the one at the offset reached).
fn read_blocks(sim: &mut Sim, make: &dyn Fn() -> Packet, szx: u8) -> Blocks {
    let mut out = Blocks {
        payload: Vec::new(),
        options: Vec::new(),
        size2: Vec::new(),
        format: None,
    };
    let (mut num, mut szx) = (0u32, szx);
    for _ in 0..10_000 {
        let mut p = make();
        p.add_option(CoapOption::Block2, block_value(num, false, szx));
        let (r, _) = exchange(sim, p);
        assert_eq!(code(&r), "2.05", "block {num} szx {szx}");
        let (rnum, more, rszx) = block_of(&r, CoapOption::Block2).expect("Block2 in the response");
        assert!(rszx <= szx, "never a larger block than asked");
        let size = 16usize << rszx;
        assert_eq!(
            rnum as usize * size,
            out.payload.len(),
            "the block asked for"
        );
        assert!(more || r.payload.len() <= size);
        if more {
            assert_eq!(r.payload.len(), size, "a block followed by more is full");
        }
        out.payload.extend_from_slice(&r.payload);
        out.options.push((rnum, more, rszx));
        out.size2.push(uint_option(&r, CoapOption::Size2));
        out.format = content_format(&r);
        if !more {
            return out;
        }
        szx = rszx;
        num = (out.payload.len() / size) as u32;
    }
    panic!("no last block");
}

/// The sensor with a large instance: a long Units string and 120 History values.
fn large_sensor(sim: &mut Sim) {
    let t = &mut sim.platform.objects.temp;
    t.units = "degrees Celsius, measured at the inlet; ".repeat(4);
    t.history = (0..120u16)
        .map(|i| (i, i64::from(i) * 1001 - 40_000))
        .collect();
}

fn get(path: &str, accept: Option<u16>) -> Packet {
    let mut p = request(RequestType::Get, path);
    if let Some(a) = accept {
        p.add_option(CoapOption::Accept, a.to_be_bytes().to_vec());
    }
    p
}

/// (path, value) of every value of the sensor's instance 0, in the order a Read gives them.
fn sensor_values(sim: &Sim) -> Vec<(Path, Value<'static>)> {
    let t = &sim.platform.objects.temp;
    let units: &'static str = Box::leak(t.units.clone().into_boxed_str());
    let mut v = vec![
        (Path::resource(3303, 0, 5700), Value::Float(t.value)),
        (Path::resource(3303, 0, 5701), Value::String(units)),
    ];
    for (&i, h) in &t.history {
        let p = Path::new(&[3303, 0, 5800, i]).unwrap();
        v.push((p, Value::Integer(*h)));
    }
    v.push((Path::resource(3303, 0, 5900), Value::Integer(t.interval)));
    v
}

/// The whole record-format payload of `values`, encoded in one piece by the engine's
/// encoder into a buffer large enough.
fn records_whole(format: u16, base: Path, values: &[(Path, Value<'_>)]) -> Vec<u8> {
    let mut b = vec![0u8; 64 * 1024];
    let mut w = Writer::new(&mut b);
    let mut e = Encoder::new(format, &mut w, base).unwrap().unwrap();
    for (p, v) in values {
        e.record(p, v).unwrap();
    }
    e.finish().unwrap();
    w.written().to_vec()
}

/// The sensor instance as TLV, encoded in one piece.
fn tlv_whole(sim: &Sim) -> Vec<u8> {
    let t = &sim.platform.objects.temp;
    let mut b = vec![0u8; 64 * 1024];
    let mut w = Writer::new(&mut b);
    let mut e = TlvEncoder::new(&mut w);
    e.value(TlvKind::Resource, 5700, &Value::Float(t.value))
        .unwrap();
    e.value(TlvKind::Resource, 5701, &Value::String(&t.units))
        .unwrap();
    e.begin(TlvKind::MultipleResource, 5800).unwrap();
    for (&i, h) in &t.history {
        e.value(TlvKind::ResourceInstance, i, &Value::Integer(*h))
            .unwrap();
    }
    e.end().unwrap();
    e.value(TlvKind::Resource, 5900, &Value::Integer(t.interval))
        .unwrap();
    w.written().to_vec()
}

/// (kind, id, value) of every entry of a TLV stream, containers flattened in order.
fn tlv_entries(data: &[u8]) -> Vec<(TlvKind, u16, Vec<u8>)> {
    let mut out = Vec::new();
    for t in TlvIter::new(data) {
        let t = t.expect("valid TLV");
        if t.kind.is_container() {
            out.push((t.kind, t.id, Vec::new()));
            out.extend(tlv_entries(t.value));
        } else {
            out.push((t.kind, t.id, t.value.to_vec()));
        }
    }
    out
}

/// Checks the Block2 options of a read: numbers in order, M on all but the last, the same
/// Size2 (the whole length) on each.
fn check_options(b: &Blocks) {
    let last = b.options.len() - 1;
    for (i, &(_, more, _)) in b.options.iter().enumerate() {
        assert_eq!(more, i != last);
    }
    for s in &b.size2 {
        assert_eq!(
            *s,
            Some(b.payload.len() as u32),
            "Size2 is the whole length"
        );
    }
}

#[test]
fn block2_read_in_tlv_at_every_block_size() {
    let mut sim = quiet_registered_sim(11);
    large_sensor(&mut sim);
    // Without Block2 the response does not fit: block 0 of the largest size that does.
    let (r, _) = exchange(&mut sim, get("/3303/0", None));
    assert_eq!(code(&r), "2.05");
    let (num, more, szx) = block_of(&r, CoapOption::Block2).expect("answered in blocks");
    assert_eq!((num, more, szx), (0, true, 4));
    assert_eq!(r.payload.len(), 256);
    let total = uint_option(&r, CoapOption::Size2).expect("Size2") as usize;
    assert!(total > 600, "{total}");
    let whole = tlv_whole(&sim);
    let mut first: Option<Vec<u8>> = None;
    for szx in 0..=5u8 {
        let b = read_blocks(&mut sim, &|| get("/3303/0", None), szx);
        check_options(&b);
        assert_eq!(b.format, Some(11542));
        assert_eq!(b.payload.len(), total);
        assert_eq!(
            &b.payload[..256],
            &r.payload[..],
            "block 0 as answered before"
        );
        tlv::validate(&b.payload, 2).expect("valid TLV");
        assert_eq!(tlv_entries(&b.payload), tlv_entries(&whole), "szx {szx}");
        // The same stream whatever the block size.
        assert_eq!(
            b.payload,
            *first.get_or_insert(b.payload.clone()),
            "szx {szx}"
        );
        // 512-byte blocks do not fit a 512-byte message: 256 are used.
        let used = b.options[0].2;
        assert_eq!(used, szx.min(4));
    }
}

#[test]
fn block2_read_in_senml_json_at_every_block_size() {
    let mut sim = quiet_registered_sim(12);
    large_sensor(&mut sim);
    let values = sensor_values(&sim);
    let whole = records_whole(110, Path::instance(3303, 0), &values);
    assert!(whole.len() > 2000, "{}", whole.len());
    for szx in 0..=5u8 {
        let b = read_blocks(&mut sim, &|| get("/3303/0", Some(110)), szx);
        check_options(&b);
        assert_eq!(b.format, Some(110));
        assert_eq!(
            b.payload, whole,
            "szx {szx}: the same bytes as in one piece"
        );
        // And what an independent decoder makes of it.
        let json: serde_json::Value = serde_json::from_slice(&b.payload).expect("JSON");
        let recs = json.as_array().expect("a SenML pack");
        assert_eq!(recs.len(), values.len());
        assert_eq!(recs[0]["bn"], "/3303/0");
        assert_eq!(recs[1]["vs"], sim.platform.objects.temp.units.as_str());
        for (i, h) in sim.platform.objects.temp.history.values().enumerate() {
            let r = &recs[2 + i];
            assert_eq!(r["n"], format!("/5800/{i}"));
            assert_eq!(r["v"], *h);
        }
    }
    // Without Block2: block 0 and Size2.
    let (r, _) = exchange(&mut sim, get("/3303/0", Some(110)));
    assert_eq!(block_of(&r, CoapOption::Block2), Some((0, true, 4)));
    assert_eq!(uint_option(&r, CoapOption::Size2), Some(whole.len() as u32));
    assert_eq!(r.payload, whole[..256]);
}

#[test]
fn block2_read_in_every_other_format() {
    let mut sim = quiet_registered_sim(13);
    large_sensor(&mut sim);
    let values = sensor_values(&sim);
    for format in [112u16, 11543, 11544] {
        let whole = records_whole(format, Path::instance(3303, 0), &values);
        assert!(whole.len() > 512, "{format}: {}", whole.len());
        for szx in [0u8, 3, 5] {
            let b = read_blocks(&mut sim, &|| get("/3303/0", Some(format)), szx);
            check_options(&b);
            assert_eq!(b.format, Some(format));
            assert_eq!(b.payload, whole, "format {format} szx {szx}");
        }
        if format == 11543 {
            let json: serde_json::Value = serde_json::from_slice(&whole).unwrap();
            assert_eq!(json["e"].as_array().unwrap().len(), values.len());
        }
    }
    // Text: one long string resource.
    let units = "0123456789".repeat(60);
    sim.platform.objects.temp.units = units.clone();
    for szx in [1u8, 4] {
        let b = read_blocks(&mut sim, &|| get("/3303/0/5701", None), szx);
        check_options(&b);
        assert_eq!(b.format, Some(0));
        assert_eq!(b.payload, units.as_bytes());
    }
    // Opaque: a value of 2000 bytes.
    let (mut sim, log) = blob_sim(14);
    let data = pattern(2000, 9);
    log.borrow_mut().value = data.clone();
    for szx in [2u8, 4, 5] {
        let b = read_blocks(&mut sim, &|| get("/33000/0/0", None), szx);
        check_options(&b);
        assert_eq!(b.format, Some(42));
        assert_eq!(b.payload, data);
    }
    let (r, _) = exchange(&mut sim, get("/33000/0/0", None));
    assert_eq!(block_of(&r, CoapOption::Block2), Some((0, true, 4)));
    assert_eq!(r.payload, data[..256]);
}

#[test]
fn block2_discover_and_read_composite_match_the_single_response() {
    let mut sim = quiet_registered_sim(15);
    // Discover: small enough for one message, read in 16- and 32-byte blocks.
    let discover = || get("/3303", Some(40));
    let (single, _) = exchange(&mut sim, discover());
    assert_eq!(code(&single), "2.05");
    assert!(single.get_option(CoapOption::Block2).is_none());
    assert!(single.payload.len() > 64);
    for szx in [0u8, 1] {
        let b = read_blocks(&mut sim, &discover, szx);
        check_options(&b);
        assert_eq!(b.format, Some(40));
        assert_eq!(b.payload, single.payload);
    }
    // Read-Composite (FETCH / in SenML JSON) of the sensor instance and the device's
    // manufacturer.
    let composite = || {
        let mut p = request(RequestType::Fetch, "/");
        p.add_option(CoapOption::ContentFormat, 110u16.to_be_bytes().to_vec());
        p.payload = br#"[{"n":"/3303/0"},{"n":"/3/0/0"}]"#.to_vec();
        p
    };
    let (single, _) = exchange(&mut sim, composite());
    assert_eq!(code(&single), "2.05");
    assert!(single.get_option(CoapOption::Block2).is_none());
    for szx in [0u8, 2] {
        let b = read_blocks(&mut sim, &composite, szx);
        check_options(&b);
        assert_eq!(b.payload, single.payload, "szx {szx}");
    }
    // Large: answered in blocks without being asked.
    large_sensor(&mut sim);
    let (r, _) = exchange(&mut sim, composite());
    assert_eq!(block_of(&r, CoapOption::Block2), Some((0, true, 4)));
    let b = read_blocks(&mut sim, &composite, 4);
    let json: serde_json::Value = serde_json::from_slice(&b.payload).expect("JSON");
    let recs = json.as_array().unwrap();
    assert_eq!(recs.len(), sensor_values(&sim).len() + 1);
    assert_eq!(recs.last().unwrap()["vs"], MANUFACTURER);
}

#[test]
fn block2_past_the_end_gets_4_00_and_large_blocks_are_cut() {
    let mut sim = quiet_registered_sim(16);
    large_sensor(&mut sim);
    let b = read_blocks(&mut sim, &|| get("/3303/0", None), 4);
    let blocks = b.options.len() as u32;
    let mut p = get("/3303/0", None);
    p.add_option(CoapOption::Block2, block_value(blocks, false, 4));
    let (r, _) = exchange(&mut sim, p);
    assert_eq!(code(&r), "4.00");
    assert!(r.payload.is_empty());
    assert!(r.get_option(CoapOption::Block2).is_none());
    // The last block itself is there.
    let mut p = get("/3303/0", None);
    p.add_option(CoapOption::Block2, block_value(blocks - 1, false, 4));
    let (r, _) = exchange(&mut sim, p);
    assert_eq!(code(&r), "2.05");
    assert_eq!(
        block_of(&r, CoapOption::Block2),
        Some((blocks - 1, false, 4))
    );
    // Block 1 of 1024 bytes: the client answers with the 256-byte block at offset 1024.
    let json = read_blocks(&mut sim, &|| get("/3303/0", Some(110)), 4);
    assert!(json.payload.len() > 1280);
    let mut p = get("/3303/0", Some(110));
    p.add_option(CoapOption::Block2, block_value(1, false, 6));
    let (r, _) = exchange(&mut sim, p);
    assert_eq!(code(&r), "2.05");
    assert_eq!(block_of(&r, CoapOption::Block2), Some((4, true, 4)));
    assert_eq!(r.payload, json.payload[1024..1280]);
    // A small response asked for with Block2 comes as block 0 with M clear.
    let mut p = get("/3303/0/5900", None);
    p.add_option(CoapOption::Block2, block_value(0, false, 2));
    let (r, _) = exchange(&mut sim, p);
    assert_eq!(block_of(&r, CoapOption::Block2), Some((0, false, 2)));
    assert_eq!(uint_option(&r, CoapOption::Size2), Some(2));
    assert_eq!(r.payload, b"60");
    // Past the end of it.
    let mut p = get("/3303/0/5900", None);
    p.add_option(CoapOption::Block2, block_value(1, false, 2));
    let (r, _) = exchange(&mut sim, p);
    assert_eq!(code(&r), "4.00");
}

// ---------------------------------------------------------------------------------------
// Block2 notifications
// ---------------------------------------------------------------------------------------

/// Hands the client `p` (message id `mid`, token `token`) and returns what it sends first.
fn ask_client(sim: &mut Sim, mut p: Packet, mid: u16, token: &[u8]) -> Packet {
    p.header.message_id = mid;
    p.set_token(token.to_vec());
    let bytes = p.to_bytes().unwrap();
    sim.client
        .handle_datagram(0, &bytes, sim.now, &mut sim.platform);
    let out = sim
        .client
        .poll_transmit(sim.now, &mut sim.platform)
        .expect("an answer");
    Packet::from_bytes(out.data).unwrap()
}

#[test]
fn a_notification_too_large_for_a_message_goes_as_its_first_block() {
    let (mut sim, log) = blob_sim(9);
    log.borrow_mut().value = pattern(1500, 3);
    let mut observe = request(RequestType::Get, "/33000/0/0");
    observe.add_option(CoapOption::Observe, vec![]);
    let first = ask_client(&mut sim, observe, 0x7000, &[0xB0]);
    assert_eq!(code(&first), "2.05");
    assert!(
        first.get_option(CoapOption::Observe).is_some(),
        "the observation is kept"
    );

    let new = pattern(1400, 4);
    log.borrow_mut().value = new.clone();
    sim.client.resource_changed(&Path::resource(BLOB_OID, 0, 0));
    let mut notification = None;
    for _ in 0..10 {
        if let Some(t) = sim.client.poll_transmit(sim.now, &mut sim.platform) {
            notification = Some(Packet::from_bytes(t.data).unwrap());
            break;
        }
        sim.now += 100;
    }
    let n = notification.expect("a notification");
    assert_eq!(n.get_token(), &[0xB0]);
    assert_eq!(code(&n), "2.05");
    assert!(n.get_option(CoapOption::Observe).is_some());
    let (num, more, szx) = block_of(&n, CoapOption::Block2).expect("Block2 on the notification");
    assert_eq!((num, more), (0, true));
    assert_eq!(uint_option(&n, CoapOption::Size2), Some(1400));
    let size = 16usize << szx;
    assert_eq!(n.payload, new[..size]);

    // The server fetches the rest with plain GETs (RFC 7959 section 2.6).
    let mut got = n.payload.clone();
    for num in 1..new.len().div_ceil(size) as u32 {
        let mut get = request(RequestType::Get, "/33000/0/0");
        get.add_option(CoapOption::Block2, block_value(num, false, szx));
        let r = ask_client(&mut sim, get, 0x7100 + num as u16, &[0xB1]);
        assert_eq!(code(&r), "2.05");
        assert!(r.get_option(CoapOption::Observe).is_none());
        got.extend_from_slice(&r.payload);
    }
    assert_eq!(got, new);
}
