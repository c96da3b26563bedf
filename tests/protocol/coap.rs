//! CoAP (RFC 7252): the codec on bytes, and the message layer through the client
//! (retransmission, ACK and RST, de-duplication, ping, bad input).

use tern::client::{DropReason, Event, Version};
use tern::coap::{
    self, opt, Block, BuildError, Code, Message, MessageBuilder, MsgType, ParseError,
};

use super::sim::*;

/// A GET of /temperature (RFC 7252 appendix A style): CON, MID 0x7d34, token 0x71.
const GET_TEMPERATURE: &[u8] = &[
    0x41, 0x01, 0x7d, 0x34, 0x71, 0xbb, b't', b'e', b'm', b'p', b'e', b'r', b'a', b't', b'u', b'r',
    b'e',
];

pub fn parse_rfc_example() -> Outcome {
    let m = Message::parse(GET_TEMPERATURE).map_err(|_| "the example does not parse")?;
    ensure_eq!(m.mtype(), MsgType::Con);
    ensure_eq!(m.code(), Code::GET);
    ensure_eq!(m.message_id(), 0x7d34);
    ensure_eq!(m.token(), &[0x71]);
    ensure!(path_is(&m, &["temperature"]));
    ensure!(m.payload().is_empty());
    // A piggybacked 2.05 with a payload.
    let resp = [
        0x61, 0x45, 0x7d, 0x34, 0x71, 0xc0, 0xff, b'2', b'2', b'.', b'3',
    ];
    let r = Message::parse(&resp).map_err(|_| "the response does not parse")?;
    ensure_eq!(r.mtype(), MsgType::Ack);
    ensure_eq!(r.code(), Code::CONTENT);
    ensure_eq!(r.option_uint(opt::CONTENT_FORMAT), Some(0));
    ensure_eq!(r.payload(), b"22.3");
    Ok(())
}

pub fn build_parse_round_trip() -> Outcome {
    let mut buf = [0u8; 128];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Non, Code::POST, 0xbeef, &[1, 2, 3, 4])
        .map_err(|_| "builder")?;
    b.option_uint(opt::OBSERVE, 0x1234).map_err(|_| "observe")?;
    b.option_str(opt::URI_PATH, "rd").map_err(|_| "path")?;
    b.option_str(opt::URI_PATH, "5a").map_err(|_| "path")?;
    b.option_uint(opt::CONTENT_FORMAT, 11542)
        .map_err(|_| "cf")?;
    b.option_str(opt::URI_QUERY, "lt=60").map_err(|_| "query")?;
    b.payload(b"hello").map_err(|_| "payload")?;
    let len = b.finish();
    let bytes = buf.get(..len).ok_or("length")?;
    // Header, token, then Observe: delta 6, length 2.
    ensure_eq!(bytes.get(..4), Some(&[0x54, 0x02, 0xbe, 0xef][..]));
    ensure_eq!(bytes.get(8..11), Some(&[0x62, 0x12, 0x34][..]));
    ensure_eq!(bytes.last(), Some(&b'o'));
    let m = Message::parse(bytes).map_err(|_| "parse")?;
    ensure_eq!(m.mtype(), MsgType::Non);
    ensure_eq!(m.message_id(), 0xbeef);
    ensure_eq!(m.token(), &[1, 2, 3, 4]);
    ensure_eq!(m.option_uint(opt::OBSERVE), Some(0x1234));
    ensure!(path_is(&m, &["rd", "5a"]));
    ensure_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(11542));
    ensure!(queries_are(&m, &["lt=60"]));
    ensure_eq!(m.payload(), b"hello");
    ensure_eq!(m.options().count(), 5);
    // An empty payload writes no marker.
    let mut b = MessageBuilder::new(&mut buf, MsgType::Ack, Code::CHANGED, 1, &[])
        .map_err(|_| "builder")?;
    b.payload(b"").map_err(|_| "payload")?;
    ensure_eq!(b.finish(), 4);
    Ok(())
}

pub fn option_delta_and_length_extensions() -> Outcome {
    let long = [b'x'; 300];
    let mid13 = [b'y'; 13];
    let mut buf = [0u8; 400];
    let mut b =
        MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 7, &[]).map_err(|_| "builder")?;
    // Delta 11 with a 13-byte value (1-byte length extension).
    b.option(opt::URI_PATH, &mid13).map_err(|_| "path")?;
    // Delta 247 (1-byte delta extension): No-Response 258.
    b.option_uint(opt::NO_RESPONSE, 26)
        .map_err(|_| "no-response")?;
    // Delta 2790 (2-byte delta extension) with a 300-byte value (2-byte length extension).
    b.option(3048, &long).map_err(|_| "3048")?;
    let len = b.finish();
    let bytes = buf.get(..len).ok_or("length")?;
    ensure_eq!(bytes.get(4..6), Some(&[0xbd, 0x00][..]));
    // 258 - 11 = 247 = 13 + 234.
    ensure_eq!(bytes.get(19..22), Some(&[0xd1, 234, 26][..]));
    // 3048 - 258 = 2790 = 269 + 2521; 300 = 269 + 31.
    ensure_eq!(bytes.get(22..27), Some(&[0xee, 0x09, 0xd9, 0x00, 0x1f][..]));
    let m = Message::parse(bytes).map_err(|_| "parse")?;
    let mut it = m.options();
    let a = it.next().ok_or("first option")?;
    ensure_eq!((a.number, a.value.len()), (opt::URI_PATH, 13));
    let n = it.next().ok_or("second option")?;
    ensure_eq!((n.number, n.value), (opt::NO_RESPONSE, &[26u8][..]));
    let c = it.next().ok_or("third option")?;
    ensure_eq!((c.number, c.value.len()), (3048, 300));
    ensure!(it.next().is_none());
    Ok(())
}

pub fn malformed_messages_rejected() -> Outcome {
    let bad: &[(&[u8], ParseError)] = &[
        (&[0x40, 0x01, 0x00], ParseError::Truncated),
        (&[0x80, 0x01, 0x00, 0x01], ParseError::BadVersion),
        (
            &[0x49, 0x01, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            ParseError::BadTokenLength,
        ),
        // A token shorter than announced.
        (&[0x44, 0x01, 0x00, 0x01, 1, 2], ParseError::Truncated),
        // An empty message with a token, or with bytes after the header.
        (&[0x41, 0x00, 0x00, 0x01, 1], ParseError::BadTokenLength),
        (&[0x60, 0x00, 0x00, 0x01, 0xff], ParseError::BadOption),
        // The reserved nibble 15 as delta or length.
        (&[0x40, 0x01, 0x00, 0x01, 0xf1, 0x00], ParseError::BadOption),
        (&[0x40, 0x01, 0x00, 0x01, 0xbf], ParseError::BadOption),
        // An option value past the end, a missing extension byte.
        (
            &[0x40, 0x01, 0x00, 0x01, 0xb5, b'a', b'b'],
            ParseError::Truncated,
        ),
        (&[0x40, 0x01, 0x00, 0x01, 0xd1], ParseError::Truncated),
        (&[0x40, 0x01, 0x00, 0x01, 0x1e, 0x01], ParseError::Truncated),
        // A payload marker with no payload.
        (&[0x40, 0x01, 0x00, 0x01, 0xff], ParseError::EmptyPayload),
        // Option numbers past 65535.
        (
            &[0x40, 0x01, 0x00, 0x01, 0xe0, 0xff, 0xff, 0xe0, 0xff, 0xff],
            ParseError::BadOption,
        ),
    ];
    for (bytes, why) in bad {
        match Message::parse(bytes) {
            Err(e) if e == *why => {}
            Err(_) => return Err("a malformed message is rejected for another reason"),
            Ok(_) => return Err("a malformed message parses"),
        }
    }
    // Every truncation of a good message inside its header or its option fails (5 bytes
    // are header and token alone: a good message).
    for n in (0..5).chain(6..GET_TEMPERATURE.len()) {
        let short = GET_TEMPERATURE.get(..n).ok_or("slice")?;
        ensure!(Message::parse(short).is_err(), "a truncated GET parses");
    }
    ensure!(coap::peek_header(&[0x40, 0x01]).is_none());
    Ok(())
}

pub fn builder_refuses_bad_input() -> Outcome {
    let mut buf = [0u8; 32];
    ensure!(matches!(
        MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[0; 9]),
        Err(BuildError::BadToken)
    ));
    let mut b =
        MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 1, &[]).map_err(|_| "builder")?;
    b.option_str(opt::URI_QUERY, "a").map_err(|_| "query")?;
    ensure_eq!(
        b.option_str(opt::URI_PATH, "b"),
        Err(BuildError::OutOfOrder)
    );
    let before = b.len();
    ensure_eq!(b.option(opt::URI_QUERY, &[0; 40]), Err(BuildError::NoSpace));
    ensure_eq!(b.len(), before, "a failed option writes nothing");
    b.payload(b"p").map_err(|_| "payload")?;
    ensure_eq!(b.option_str(opt::ACCEPT, "x"), Err(BuildError::OutOfOrder));
    let mut tiny = [0u8; 3];
    ensure!(matches!(
        MessageBuilder::new(&mut tiny, MsgType::Con, Code::GET, 1, &[]),
        Err(BuildError::NoSpace)
    ));
    ensure!(matches!(
        coap::empty(&mut tiny, MsgType::Rst, 1),
        Err(BuildError::NoSpace)
    ));
    Ok(())
}

pub fn uint_and_block_values() -> Outcome {
    let mut tmp = [0u8; 4];
    ensure_eq!(coap::encode_uint(0, &mut tmp), &[] as &[u8]);
    ensure_eq!(coap::encode_uint(255, &mut tmp), &[255]);
    ensure_eq!(coap::encode_uint(256, &mut tmp), &[1, 0]);
    ensure_eq!(coap::encode_uint(0x0102_0304, &mut tmp), &[1, 2, 3, 4]);
    ensure_eq!(coap::decode_uint(&[]), Some(0));
    ensure_eq!(coap::decode_uint(&[1, 0]), Some(256));
    ensure_eq!(coap::decode_uint(&[1, 2, 3, 4, 5]), None);
    // Block2 NUM 2, M, SZX 2 (64 bytes).
    let b = Block::decode(&[0x2a]).ok_or("block")?;
    ensure_eq!((b.num, b.more, b.szx), (2, true, 2));
    ensure_eq!(b.size(), 64);
    ensure_eq!(b.offset(), Some(128));
    ensure_eq!(b.encode(&mut tmp), &[0x2a]);
    // SZX 7 is reserved; a value longer than 3 bytes is not a block.
    ensure!(Block::decode(&[0x07]).is_none());
    ensure!(Block::decode(&[0, 0, 0, 1]).is_none());
    Ok(())
}

pub fn con_retransmission_backoff() -> Outcome {
    let mut sim = Sim::new(21, 300, 30, Version::V1_1)?;
    sim.pump()?;
    let first = sim.take()?;
    let (mid, token) = {
        let m = first.msg()?;
        ensure_eq!(m.mtype(), MsgType::Con);
        (m.message_id(), m.token().len())
    };
    ensure_eq!(token, 8);
    // Unanswered: 4 retransmissions, same message id, timeouts doubling from [2 s, 3 s),
    // then the Register has failed (at most 93 s) and a retry waits 60 s (not before 122 s).
    sim.advance(100_000)?;
    ensure_eq!(sim.out.len(), 4);
    let mut times = [first.at, 0, 0, 0, 0];
    for slot in times.iter_mut().skip(1) {
        let d = sim.take()?;
        ensure_eq!(d.msg()?.message_id(), mid);
        ensure_eq!(d.bytes(), first.bytes());
        *slot = d.at;
    }
    let t0 = times[1] - times[0];
    ensure!(
        (2_000..3_000).contains(&t0),
        "first timeout outside [2 s, 3 s)"
    );
    for w in times.windows(3) {
        ensure_eq!(w[2] - w[1], 2 * (w[1] - w[0]));
    }
    ensure!(sim.saw(Event::RegistrationRetry {
        server: 0,
        delay_ms: 60_000
    }));
    ensure!(sim.out.is_empty(), "a sixth transmission");
    Ok(())
}

pub fn empty_ack_then_separate_response() -> Outcome {
    let mut sim = Sim::new(22, 300, 30, Version::V1_1)?;
    sim.pump()?;
    let reg = sim.take()?;
    let mid = reg.msg()?.message_id();
    sim.deliver(0, &empty(MsgType::Ack, mid))?;
    // Acknowledged: no retransmission while the response is awaited.
    sim.advance(60_000)?;
    ensure!(sim.out.is_empty(), "retransmitted after an empty ACK");
    // The separate response, CON with a message id of the server's: ACKed, registered.
    let smid = sim.mid();
    let mut buf = [0u8; 64];
    let len = response(
        &mut buf,
        &reg.msg()?,
        MsgType::Con,
        smid,
        Code::CREATED,
        &LOCATION,
    )?;
    sim.deliver(0, buf.get(..len).ok_or("len")?)?;
    let ack = sim.take()?;
    ensure_eq!(ack.bytes(), &empty(MsgType::Ack, smid));
    ensure!(sim.saw(Event::Registered { server: 0 }));
    // The same separate response again (our ACK lost): ACKed again, nothing else.
    sim.deliver(0, buf.get(..len).ok_or("len")?)?;
    ensure_eq!(sim.take()?.bytes(), &empty(MsgType::Ack, smid));
    ensure!(sim.out.is_empty());
    Ok(())
}

pub fn reset_fails_the_register() -> Outcome {
    let mut sim = Sim::new(23, 300, 30, Version::V1_1)?;
    sim.pump()?;
    let mid = sim.take()?.msg()?.message_id();
    sim.deliver(0, &empty(MsgType::Rst, mid))?;
    ensure!(
        sim.saw(Event::RegistrationRetry {
            server: 0,
            delay_ms: 60_000
        }),
        "a RST does not fail the Register with the default retry timer"
    );
    ensure!(!sim.client.servers()[0].reg.is_registered());
    // The retry comes after the Communication Retry Timer, with a new message id.
    sim.advance(59_999)?;
    ensure!(sim.out.is_empty(), "retried early");
    sim.advance(60_000)?;
    let again = sim.take()?;
    ensure!(again.msg()?.message_id() != mid);
    ensure!(path_is(&again.msg()?, &["rd"]));
    Ok(())
}

pub fn duplicate_con_gets_cached_response() -> Outcome {
    let mut sim = Sim::registered(24)?;
    let mid = sim.mid();
    let mut buf = [0u8; 64];
    let len = Req::post("/3303/0/5605").encode(mid, &mut buf)?;
    let req = buf.get(..len).ok_or("len")?;
    sim.deliver(0, req)?;
    let first = sim.take()?;
    ensure_eq!(first.msg()?.code(), Code::CHANGED);
    ensure_eq!(sim.platform.objects.temp.executions, 1);
    // The retransmitted request: the same bytes again, the resource not executed twice.
    sim.now += 2_500;
    sim.deliver(0, req)?;
    let second = sim.take()?;
    ensure_eq!(second.bytes(), first.bytes());
    ensure_eq!(sim.platform.objects.temp.executions, 1);
    ensure!(sim.out.is_empty());
    Ok(())
}

pub fn ping_answered_with_reset() -> Outcome {
    let mut sim = Sim::registered(25)?;
    sim.deliver(0, &empty(MsgType::Con, 0x1357))?;
    ensure_eq!(sim.take()?.bytes(), &empty(MsgType::Rst, 0x1357));
    ensure!(sim.out.is_empty());
    ensure!(sim.client.servers()[0].reg.is_registered());
    Ok(())
}

pub fn malformed_con_reset_non_dropped() -> Outcome {
    let mut sim = Sim::registered(26)?;
    // A CON whose option runs past the end: RST with its message id.
    sim.deliver(0, &[0x40, 0x01, 0x22, 0x33, 0xb5, b'a'])?;
    ensure_eq!(sim.take()?.bytes(), &empty(MsgType::Rst, 0x2233));
    ensure!(sim.saw(Event::Dropped {
        server: 0,
        reason: DropReason::Malformed
    }));
    // The same as NON: silence.
    sim.events.clear();
    sim.deliver(0, &[0x50, 0x01, 0x22, 0x34, 0xb5, b'a'])?;
    ensure!(sim.out.is_empty());
    ensure!(sim.saw(Event::Dropped {
        server: 0,
        reason: DropReason::Malformed
    }));
    // Shorter than a header, a wrong version: dropped without an answer.
    sim.deliver(0, &[0x40, 0x01])?;
    sim.deliver(0, &[0x80, 0x01, 0x00, 0x01])?;
    ensure!(sim.out.is_empty());
    ensure!(sim.client.servers()[0].reg.is_registered());
    Ok(())
}

pub fn unmatched_response_dropped() -> Outcome {
    let mut sim = Sim::registered(27)?;
    // A piggybacked 2.04 for nothing in flight.
    sim.deliver(0, &[0x61, 0x44, 0x0f, 0x0f, 0x99])?;
    ensure!(sim.out.is_empty());
    ensure!(sim.saw(Event::Dropped {
        server: 0,
        reason: DropReason::Unmatched
    }));
    // A CON response for nothing in flight is reset.
    sim.deliver(0, &[0x41, 0x44, 0x0f, 0x10, 0x99])?;
    ensure_eq!(sim.take()?.bytes(), &empty(MsgType::Rst, 0x0f10));
    Ok(())
}

pub fn non_request_gets_non_response() -> Outcome {
    let mut sim = Sim::registered(28)?;
    let (d, mid) = sim.request_on(0, &Req::get("/3/0/0").non().token(&[5, 6]))?;
    let m = d.msg()?;
    ensure_eq!(m.mtype(), MsgType::Non);
    ensure!(
        m.message_id() != mid,
        "a NON response reuses the request's message id"
    );
    ensure_eq!(m.token(), &[5, 6]);
    ensure_eq!(m.code(), Code::CONTENT);
    ensure_eq!(m.payload(), MANUFACTURER.as_bytes());
    Ok(())
}

pub fn unknown_critical_option_bad_option() -> Outcome {
    let mut sim = Sim::registered(29)?;
    // GET /3/0/0 with the unknown critical option 2049 (delta 2038 = 269 + 1769).
    let req = [
        0x41, 0x01, 0x30, 0x01, 0x42, 0xb1, b'3', 0x01, b'0', 0x01, b'0', 0xe1, 0x06, 0xe9, 0x01,
    ];
    ensure!(Message::parse(&req).is_ok());
    sim.deliver(0, &req)?;
    let d = sim.take()?;
    let m = d.msg()?;
    ensure_eq!(m.code(), Code::BAD_OPTION);
    ensure_eq!(m.message_id(), 0x3001);
    ensure_eq!(m.token(), &[0x42]);
    // The same as NON: silently dropped.
    let mut non = req;
    non[0] = 0x51;
    non[3] = 0x02;
    sim.deliver(0, &non)?;
    ensure!(sim.out.is_empty());
    ensure!(sim.saw(Event::Dropped {
        server: 0,
        reason: DropReason::BadOption
    }));
    Ok(())
}

pub fn non_duplicate_dropped() -> Outcome {
    let mut sim = Sim::registered(30)?;
    let mut buf = [0u8; 64];
    let len = Req::post("/3303/0/5605").non().encode(0x2468, &mut buf)?;
    let req = buf.get(..len).ok_or("len")?;
    sim.deliver(0, req)?;
    ensure_eq!(sim.take()?.msg()?.code(), Code::CHANGED);
    // The same NON again: not executed again, not answered.
    sim.deliver(0, req)?;
    ensure!(sim.out.is_empty());
    ensure!(sim.saw(Event::Dropped {
        server: 0,
        reason: DropReason::Duplicate
    }));
    ensure_eq!(sim.platform.objects.temp.executions, 1);
    Ok(())
}
