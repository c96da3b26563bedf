//! Block-wise transfer (RFC 7959) on the client's server-facing side, through the
//! simulator with coap-lite as the independent codec: Block1 writes of an opaque resource
//! handed to the object block by block, and Block2 responses larger than one message.

mod sim;

use std::cell::RefCell;
use std::rc::Rc;

use coap_lite::{CoapOption, MessageClass, Packet, RequestType};

use sim::*;
use tern::coap::Code;
use tern::model::{Object, Operations, ResourceDef, ResourceType, Value, ValueSink};

// ---------------------------------------------------------------------------------------
// A test object with an opaque resource
// ---------------------------------------------------------------------------------------

/// What the blob object saw.
#[derive(Default)]
struct BlobLog {
    /// The value assembled from the blocks.
    value: Vec<u8>,
    /// (offset, len, last) of every block taken.
    blocks: Vec<(u32, usize, bool)>,
    /// Whole values written (non block-wise).
    writes: usize,
}

/// Object 33000, instance 0: 0 Data (opaque, RW), 1 Name (string, RW), 2 Log (opaque, R).
struct Blob(Rc<RefCell<BlobLog>>);

const BLOB_OID: u16 = 33000;
const BLOB_RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, ResourceType::Opaque, Operations::RW, false),
    ResourceDef::new(1, ResourceType::String, Operations::RW, false),
    ResourceDef::new(2, ResourceType::Opaque, Operations::R, false),
];

impl Object for Blob {
    fn id(&self) -> u16 {
        BLOB_OID
    }
    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        BLOB_RESOURCES.get(index).copied()
    }
    fn instance(&self, index: usize) -> Option<u16> {
        (index == 0).then_some(0)
    }
    fn read(&mut self, _iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        let log = self.0.borrow();
        match rid {
            0 => out.value(None, &Value::Opaque(&log.value)),
            1 => out.value(None, &Value::String("blob")),
            2 => out.value(None, &Value::Opaque(&log.value)),
            _ => Err(Code::NOT_FOUND),
        }
    }
    fn write(
        &mut self,
        _iid: u16,
        rid: u16,
        _riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        let mut log = self.0.borrow_mut();
        log.writes += 1;
        match (rid, value) {
            (0, Value::Opaque(b)) => log.value = b.to_vec(),
            (1, Value::String(_)) => {}
            _ => return Err(Code::BAD_REQUEST),
        }
        Ok(())
    }
    fn execute(&mut self, _iid: u16, _rid: u16, _args: &[u8]) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
    fn write_block(
        &mut self,
        _iid: u16,
        rid: u16,
        offset: u32,
        data: &[u8],
        last: bool,
    ) -> Result<(), Code> {
        assert_eq!(rid, 0, "only the opaque resource gets blocks");
        let mut log = self.0.borrow_mut();
        if offset == 0 {
            log.value.clear();
        }
        assert_eq!(offset as usize, log.value.len(), "blocks arrive in order");
        log.value.extend_from_slice(data);
        log.blocks.push((offset, data.len(), last));
        Ok(())
    }
}

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
#[allow(clippy::single_element_loop)]
fn malformed_block_options_get_4_02_or_4_00() {
    let (mut sim, log) = blob_sim(7);
    let data = pattern(64, 1);
    for (opt, method, path) in [(CoapOption::Block1, RequestType::Put, "/33000/0/0")] {
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
