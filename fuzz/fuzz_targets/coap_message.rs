//! Parses arbitrary bytes as a CoAP message and walks every accessor; a message that parses
//! must come back byte for byte when rebuilt from its fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::coap::{opt, peek_header, Block, Message, MessageBuilder};

fuzz_target!(|data: &[u8]| {
    let header = peek_header(data);
    let Ok(m) = Message::parse(data) else {
        return;
    };
    assert_eq!(header, Some(m.header()));

    // Every accessor, every option.
    let _ = (m.mtype(), m.code(), m.message_id());
    let token = m.token();
    assert!(token.len() <= 8);
    let mut prev = 0u16;
    let mut distinct = 0usize;
    for (i, o) in m.options().enumerate() {
        assert!(o.number >= prev, "options out of order");
        // The lookups walk the options again: do them for the first few distinct numbers
        // only, so that inputs with thousands of options stay fast.
        if (i == 0 || o.number != prev) && distinct < 16 {
            distinct += 1;
            assert_eq!(m.option(o.number), Some(o.value));
            let _ = m.option_uint(o.number);
            assert!(m.options_of(o.number).count() >= 1);
        }
        prev = o.number;
        if o.number == opt::BLOCK1 || o.number == opt::BLOCK2 {
            if let Some(b) = Block::decode(o.value) {
                let _ = (b.size(), b.offset());
                let mut tmp = [0u8; 4];
                assert_eq!(Block::decode(b.encode(&mut tmp)), Some(b));
            }
        }
    }
    let _ = m.first_unknown_critical(|n| n == opt::URI_PATH || n == opt::URI_QUERY);
    let payload = m.payload();

    // Rebuild from the parsed fields and compare.
    let mut out = vec![0u8; data.len()];
    let mut b = MessageBuilder::new(&mut out, m.mtype(), m.code(), m.message_id(), token)
        .expect("header and token fit");
    for o in m.options() {
        b.option(o.number, o.value).expect("option fits");
    }
    b.payload(payload).expect("payload fits");
    let n = b.finish();
    assert_eq!(&out[..n], data, "rebuilt message differs");
});
