//! Malformed and unwelcome datagrams fed to a registered client: each gets exactly the
//! reaction RFC 7252 / LwM2M name, and none changes the client's state.

mod sim;

use coap_lite::option_value::OptionValueU16;
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use sim::*;
use tern::client::{DropReason, Event};
use tern::config::MAX_MESSAGE_SIZE;

const MID: u16 = 0xBEEF;
const TOKEN: [u8; 4] = [0xA1, 0xA2, 0xA3, 0xA4];

/// What the client looked like before the datagram.
#[derive(Debug, PartialEq)]
struct Snapshot {
    registered: bool,
    phase: String,
    deadline: Option<u64>,
    lifetime: u32,
    temp_units: String,
    temp_interval: i64,
    executions: u32,
}

fn snapshot(sim: &Sim) -> Snapshot {
    let s = &sim.client.servers()[0];
    Snapshot {
        registered: s.reg.is_registered(),
        phase: format!("{:?}", s.reg.phase),
        deadline: sim.client.poll_timeout(),
        lifetime: s.lifetime_s,
        temp_units: sim.platform.objects.temp.units.clone(),
        temp_interval: sim.platform.objects.temp.interval,
        executions: sim.platform.objects.temp.executions,
    }
}

fn setup() -> Sim {
    let mut sim = registered_sim(21, 300, 30);
    sim.run_until(1_000);
    assert!(sim.registered());
    assert!(sim
        .client
        .poll_transmit(sim.now, &mut sim.platform)
        .is_none());
    while sim.client.poll_event().is_some() {}
    sim
}

/// Feeds one datagram; returns what the client sent in reaction and the events it reported.
fn feed(sim: &mut Sim, bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Event>) {
    sim.client
        .handle_datagram(0, bytes, sim.now, &mut sim.platform);
    let mut out = Vec::new();
    while let Some(t) = sim.client.poll_transmit(sim.now, &mut sim.platform) {
        out.push(t.data.to_vec());
        assert!(out.len() < 10);
    }
    let mut events = Vec::new();
    while let Some(e) = sim.client.poll_event() {
        events.push(e);
    }
    (out, events)
}

/// Feeds `bytes` and checks that the state is unchanged and nothing more is pending.
fn feed_checked(bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Event>) {
    let mut sim = setup();
    feed_on(&mut sim, bytes)
}

fn feed_on(sim: &mut Sim, bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Event>) {
    let before = snapshot(sim);
    let r = feed(sim, bytes);
    assert_eq!(snapshot(sim), before, "state changed");
    assert!(
        sim.client
            .poll_transmit(sim.now, &mut sim.platform)
            .is_none(),
        "extra transmit pending"
    );
    r
}

fn malformed() -> Vec<Event> {
    vec![Event::Dropped {
        server: 0,
        reason: DropReason::Malformed,
    }]
}

fn rst(mid: u16) -> Vec<u8> {
    let [a, b] = mid.to_be_bytes();
    vec![0x70, 0x00, a, b]
}

/// CON GET /3/0/0 with a 4-byte token, as raw bytes.
fn con_get_raw() -> Vec<u8> {
    let [a, b] = MID.to_be_bytes();
    let mut v = vec![0x44, 0x01, a, b];
    v.extend_from_slice(&TOKEN);
    v.extend_from_slice(&[0xB1, b'3', 0x01, b'0', 0x01, b'0']);
    v
}

fn packet(ty: MessageType, method: RequestType, path: &str) -> Packet {
    let mut p = request(method, path);
    p.header.set_type(ty);
    p.header.message_id = MID;
    p.set_token(TOKEN.to_vec());
    p
}

/// Sends a CON request and returns the single piggybacked response.
fn respond(p: &Packet) -> Packet {
    let (out, events) = feed_checked(&p.to_bytes().unwrap());
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(out.len(), 1, "one response");
    let r = parse(&out[0]).expect("response parses");
    assert_eq!(r.header.get_type(), MessageType::Acknowledgement);
    assert_eq!(r.header.message_id, MID);
    assert_eq!(r.get_token(), TOKEN);
    r
}

fn code(r: &Packet) -> String {
    code_str(raw_code(r))
}

// ---- the valid baseline ----------------------------------------------------------------

#[test]
fn baseline_valid_read() {
    let r = respond(&parse(&con_get_raw()).unwrap());
    assert_eq!(code(&r), "2.05");
    assert_eq!(r.payload, MANUFACTURER.as_bytes());
}

// ---- truncated header ----------------------------------------------------------------

fn silent_drop(bytes: &[u8]) {
    let (out, events) = feed_checked(bytes);
    assert!(out.is_empty(), "no reaction expected, got {out:02x?}");
    assert_eq!(events, malformed());
}

#[test]
fn truncated_header_0_bytes() {
    silent_drop(&[]);
}

#[test]
fn truncated_header_1_byte() {
    silent_drop(&[0x40]);
}

#[test]
fn truncated_header_2_bytes() {
    silent_drop(&[0x40, 0x01]);
}

#[test]
fn truncated_header_3_bytes() {
    silent_drop(&[0x40, 0x01, 0xBE]);
}

// ---- version ----------------------------------------------------------------

fn with_version(v: u8) -> Vec<u8> {
    let mut b = con_get_raw();
    b[0] = (b[0] & 0x3F) | (v << 6);
    b
}

#[test]
fn version_0_is_ignored() {
    silent_drop(&with_version(0));
}

#[test]
fn version_2_is_ignored() {
    silent_drop(&with_version(2));
}

#[test]
fn version_3_is_ignored() {
    silent_drop(&with_version(3));
}

// ---- token length ----------------------------------------------------------------

fn with_tkl(ty: u8, tkl: u8) -> Vec<u8> {
    let [a, b] = MID.to_be_bytes();
    let mut v = vec![0x40 | (ty << 4) | tkl, 0x01, a, b];
    v.extend_from_slice(&[0x55; 15]);
    v
}

#[test]
fn token_length_9_to_15_con_gets_rst() {
    for tkl in 9..=15 {
        let (out, events) = feed_checked(&with_tkl(0, tkl));
        assert_eq!(out, [rst(MID)], "tkl {tkl}");
        assert_eq!(events, malformed());
    }
}

#[test]
fn token_length_9_to_15_non_gets_nothing() {
    for tkl in 9..=15 {
        let (out, events) = feed_checked(&with_tkl(1, tkl));
        assert!(out.is_empty(), "tkl {tkl}: {out:02x?}");
        assert_eq!(events, malformed());
    }
}

// ---- options ----------------------------------------------------------------

fn con_rst(bytes: &[u8]) {
    let (out, events) = feed_checked(bytes);
    assert_eq!(out, [rst(MID)]);
    assert_eq!(events, malformed());
}

#[test]
fn option_delta_nibble_15() {
    let mut b = con_get_raw();
    b.extend_from_slice(&[0xF1, 0x00]);
    con_rst(&b);
}

#[test]
fn option_length_nibble_15() {
    let mut b = con_get_raw();
    b.extend_from_slice(&[0x0F, 0x00]);
    con_rst(&b);
}

#[test]
fn option_running_past_the_end() {
    let mut b = con_get_raw();
    b.extend_from_slice(&[0x05, b'x', b'y']);
    con_rst(&b);
}

#[test]
fn option_extended_length_byte_missing() {
    let mut b = con_get_raw();
    b.push(0x0D);
    con_rst(&b);
}

#[test]
fn payload_marker_without_payload() {
    let mut b = con_get_raw();
    b.push(0xFF);
    con_rst(&b);
}

// ---- responses and empty messages ----------------------------------------------------

fn response(ty: MessageType, token: &[u8]) -> Vec<u8> {
    let mut p = Packet::new();
    p.header.set_type(ty);
    p.header.code = MessageClass::Response(ResponseType::Content);
    p.header.message_id = MID;
    p.set_token(token.to_vec());
    p.payload = b"x".to_vec();
    p.to_bytes().unwrap()
}

/// Feeds `bytes`, which match no exchange: no state changes and one `Unmatched` drop event.
/// Returns what the client sent.
fn unmatched(bytes: &[u8]) -> Vec<Vec<u8>> {
    let (out, events) = feed_checked(bytes);
    assert_eq!(
        events,
        [Event::Dropped {
            server: 0,
            reason: DropReason::Unmatched
        }]
    );
    out
}

#[test]
fn con_response_with_unknown_token_gets_rst() {
    let out = unmatched(&response(MessageType::Confirmable, &[9, 9, 9, 9]));
    assert_eq!(out, [rst(MID)]);
}

#[test]
fn non_response_with_unknown_token_is_ignored() {
    let out = unmatched(&response(MessageType::NonConfirmable, &[9, 9, 9, 9]));
    assert!(out.is_empty());
}

#[test]
fn piggybacked_response_for_nothing_is_ignored() {
    let out = unmatched(&response(MessageType::Acknowledgement, &[9, 9, 9, 9]));
    assert!(out.is_empty());
}

#[test]
fn ack_for_a_message_never_sent_is_ignored() {
    let out = unmatched(&empty_message(MessageType::Acknowledgement, MID));
    assert!(out.is_empty());
}

#[test]
fn rst_for_a_message_never_sent_is_ignored() {
    let out = unmatched(&empty_message(MessageType::Reset, MID));
    assert!(out.is_empty());
}

#[test]
fn con_empty_message_ping_gets_rst() {
    let (out, events) = feed_checked(&empty_message(MessageType::Confirmable, MID));
    assert_eq!(out, [rst(MID)]);
    assert!(events.is_empty());
}

#[test]
fn empty_message_with_token_is_malformed() {
    let [a, b] = MID.to_be_bytes();
    let (out, events) = feed_checked(&[0x41, 0x00, a, b, 0x01]);
    assert_eq!(out, [rst(MID)]);
    assert_eq!(events, malformed());
}

// ---- requests ----------------------------------------------------------------

#[test]
fn unknown_critical_option_gets_4_02() {
    let mut p = packet(MessageType::Confirmable, RequestType::Get, "/3/0/0");
    p.add_option(CoapOption::Unknown(2049), b"?".to_vec());
    let r = respond(&p);
    assert_eq!(code(&r), "4.02");
    assert!(r.payload.is_empty());
}

#[test]
fn non_request_with_unknown_critical_option_is_rejected_silently() {
    let mut p = packet(MessageType::NonConfirmable, RequestType::Get, "/3/0/0");
    p.add_option(CoapOption::Unknown(2049), b"?".to_vec());
    let (out, events) = feed_checked(&p.to_bytes().unwrap());
    assert!(out.is_empty(), "{out:02x?}");
    assert_eq!(
        events,
        [Event::Dropped {
            server: 0,
            reason: DropReason::BadOption
        }]
    );
}

#[test]
fn con_response_with_unknown_critical_option_gets_rst() {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Response(ResponseType::Content);
    p.header.message_id = MID;
    p.set_token(TOKEN.to_vec());
    p.add_option(CoapOption::Unknown(2049), b"?".to_vec());
    let (out, events) = feed_checked(&p.to_bytes().unwrap());
    assert_eq!(out, [rst(MID)]);
    assert_eq!(
        events,
        [Event::Dropped {
            server: 0,
            reason: DropReason::BadOption
        }]
    );
}

#[test]
fn unknown_elective_option_is_ignored() {
    let mut p = packet(MessageType::Confirmable, RequestType::Get, "/3/0/0");
    p.add_option(CoapOption::Unknown(2050), b"?".to_vec());
    assert_eq!(code(&respond(&p)), "2.05");
}

#[test]
fn duplicate_con_request_gets_the_cached_response() {
    let mut sim = setup();
    let p = packet(MessageType::Confirmable, RequestType::Post, "/3303/0/5605");
    let bytes = p.to_bytes().unwrap();
    let (first, _) = feed(&mut sim, &bytes);
    assert_eq!(first.len(), 1);
    assert_eq!(code(&parse(&first[0]).unwrap()), "2.04");
    assert_eq!(sim.platform.objects.temp.executions, 1);
    // The duplicate: same bytes back, the handler not run again, no other change.
    let (second, events) = feed_on(&mut sim, &bytes);
    assert_eq!(second, first);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(sim.platform.objects.temp.executions, 1);
    // A third copy later, still within EXCHANGE_LIFETIME.
    sim.now += 60_000;
    let (third, _) = feed(&mut sim, &bytes);
    assert_eq!(third, first);
    assert_eq!(sim.platform.objects.temp.executions, 1);
    // A new message id is a new request.
    let mut p2 = p.clone();
    p2.header.message_id = MID + 1;
    let (fourth, _) = feed(&mut sim, &p2.to_bytes().unwrap());
    assert_eq!(fourth.len(), 1);
    assert_eq!(sim.platform.objects.temp.executions, 2);
}

#[test]
fn duplicate_non_request_is_dropped() {
    let mut sim = setup();
    let p = packet(
        MessageType::NonConfirmable,
        RequestType::Post,
        "/3303/0/5605",
    );
    let bytes = p.to_bytes().unwrap();
    let (first, _) = feed(&mut sim, &bytes);
    assert_eq!(first.len(), 1);
    let r = parse(&first[0]).unwrap();
    assert_eq!(r.header.get_type(), MessageType::NonConfirmable);
    assert_eq!(code(&r), "2.04");
    let (second, events) = feed_on(&mut sim, &bytes);
    assert!(second.is_empty());
    assert_eq!(
        events,
        [Event::Dropped {
            server: 0,
            reason: DropReason::Duplicate
        }]
    );
    assert_eq!(sim.platform.objects.temp.executions, 1);
}

/// A Read of the Device object in SenML JSON: longer than the reply cache.
fn long_read() -> Packet {
    let mut p = packet(MessageType::Confirmable, RequestType::Get, "/3/0");
    p.add_option_as(CoapOption::Accept, OptionValueU16(110));
    p
}

#[test]
fn duplicate_con_get_with_a_long_response_is_answered_again() {
    // Too long for the reply cache: a GET is idempotent, so the duplicate is handled again
    // (RFC 7252 section 4.5) and gets the same answer.
    let mut sim = setup();
    let bytes = long_read().to_bytes().unwrap();
    let (first, _) = feed(&mut sim, &bytes);
    assert_eq!(first.len(), 1);
    assert!(
        first[0].len() > 64,
        "{} bytes: short enough to cache",
        first[0].len()
    );
    let r = parse(&first[0]).unwrap();
    assert_eq!(code(&r), "2.05");
    assert_eq!(r.header.get_type(), MessageType::Acknowledgement);
    let (second, events) = feed_on(&mut sim, &bytes);
    assert_eq!(second, first);
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn request_filling_the_buffer_is_answered_and_so_is_its_duplicate() {
    // No room is left after the request for its response: it goes out of the reply cache.
    let mut p = packet(MessageType::Confirmable, RequestType::Post, "/3303/0/5605");
    let base = p.to_bytes().unwrap().len();
    p.payload = vec![b'x'; MAX_MESSAGE_SIZE - base - 1];
    let bytes = p.to_bytes().unwrap();
    assert_eq!(bytes.len(), MAX_MESSAGE_SIZE);
    let mut sim = setup();
    let (first, _) = feed(&mut sim, &bytes);
    assert_eq!(first.len(), 1);
    let r = parse(&first[0]).unwrap();
    assert_eq!(r.header.message_id, MID);
    assert_eq!(r.get_token(), TOKEN);
    let executed = sim.platform.objects.temp.executions;
    let (second, _) = feed_on(&mut sim, &bytes);
    assert_eq!(second, first);
    assert_eq!(sim.platform.objects.temp.executions, executed);
}

#[test]
fn long_response_overwritten_before_it_is_sent_is_produced_again() {
    // A datagram received before the response to the last one was sent: a long response is
    // lost (not a short one: see the test above); the server's retransmission brings it.
    let mut sim = setup();
    let get = long_read().to_bytes().unwrap();
    let ping = [0x40, 0x00, 0x12, 0x34];
    sim.client
        .handle_datagram(0, &get, sim.now, &mut sim.platform);
    sim.client
        .handle_datagram(0, &ping, sim.now, &mut sim.platform);
    let t = sim.client.poll_transmit(sim.now, &mut sim.platform);
    assert_eq!(
        t.map(|t| t.data.to_vec()),
        Some(vec![0x70, 0x00, 0x12, 0x34])
    );
    assert!(sim
        .client
        .poll_transmit(sim.now, &mut sim.platform)
        .is_none());
    sim.now += 2_000;
    let (again, _) = feed(&mut sim, &get);
    assert_eq!(again.len(), 1);
    let r = parse(&again[0]).unwrap();
    assert_eq!(code(&r), "2.05");
    assert_eq!(r.header.message_id, MID);
    assert!(!r.payload.is_empty());
}

#[test]
fn security_object_gets_4_01() {
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/0"
        ))),
        "4.01"
    );
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/0/0/0"
        ))),
        "4.01"
    );
}

#[test]
fn unknown_object_gets_4_04() {
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/4242/0"
        ))),
        "4.04"
    );
}

#[test]
fn unknown_instance_and_resource_get_4_04() {
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/3/1"
        ))),
        "4.04"
    );
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/3/0/999"
        ))),
        "4.04"
    );
}

#[test]
fn path_id_65535_gets_4_04() {
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/65535"
        ))),
        "4.04"
    );
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/3/65535"
        ))),
        "4.04"
    );
}

#[test]
fn non_numeric_path_gets_4_04() {
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/abc"
        ))),
        "4.04"
    );
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/3/0/x1"
        ))),
        "4.04"
    );
}

#[test]
fn too_long_path_gets_4_04() {
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/3/0/11/0/1"
        ))),
        "4.04"
    );
}

#[test]
fn oversized_datagram_is_dropped() {
    let mut b = con_get_raw();
    b.push(0xFF);
    b.resize(MAX_MESSAGE_SIZE + 1, b'z');
    let (out, events) = feed_checked(&b);
    assert!(out.is_empty(), "no RST for an oversized datagram");
    assert_eq!(
        events,
        [Event::Dropped {
            server: 0,
            reason: DropReason::TooLarge
        }]
    );
}

#[test]
fn datagram_of_exactly_max_size_is_handled() {
    let mut b = con_get_raw();
    b.push(0xFF);
    b.resize(MAX_MESSAGE_SIZE, b'z');
    let (out, _) = feed_checked(&b);
    assert_eq!(out.len(), 1);
}

// ---- device management response codes ----------------------------------------------

#[test]
fn execute_on_a_readable_resource_gets_4_05() {
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Post,
            "/3303/0/5700"
        ))),
        "4.05"
    );
}

#[test]
fn execute_with_malformed_arguments_gets_4_00_and_runs_nothing() {
    let mut sim = setup();
    let before = snapshot(&sim);
    for (i, args) in [&b"x"[..], b"0=1", b"0='unterminated", b"1,,2"]
        .iter()
        .enumerate()
    {
        let mut p = packet(MessageType::Confirmable, RequestType::Post, "/3303/0/5605");
        p.header.message_id = MID.wrapping_add(1 + i as u16);
        p.payload = args.to_vec();
        let (out, _) = feed(&mut sim, &p.to_bytes().expect("encodes"));
        assert_eq!(out.len(), 1);
        let r = parse(&out[0]).expect("response parses");
        assert_eq!(code(&r), "4.00", "arguments {:?}", args);
    }
    assert_eq!(snapshot(&sim), before);
    // Well-formed arguments reach the resource.
    let mut p = packet(MessageType::Confirmable, RequestType::Post, "/3303/0/5605");
    p.header.message_id = MID.wrapping_add(100);
    p.payload = b"0='on',1".to_vec();
    let (out, _) = feed(&mut sim, &p.to_bytes().expect("encodes"));
    assert_eq!(code(&parse(&out[0]).expect("response parses")), "2.04");
    assert_eq!(sim.platform.objects.temp.executions, before.executions + 1);
}

#[test]
fn read_of_an_executable_resource_gets_4_05() {
    assert_eq!(
        code(&respond(&packet(
            MessageType::Confirmable,
            RequestType::Get,
            "/3303/0/5605"
        ))),
        "4.05"
    );
}

#[test]
fn write_to_a_read_only_resource_gets_4_05() {
    let mut p = packet(MessageType::Confirmable, RequestType::Put, "/3303/0/5700");
    p.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
    p.payload = b"1.5".to_vec();
    assert_eq!(code(&respond(&p)), "4.05");
}

#[test]
fn accept_text_on_a_multiple_instance_resource_gets_4_06() {
    let mut p = packet(MessageType::Confirmable, RequestType::Get, "/3303/0/5800");
    p.add_option_as(CoapOption::Accept, OptionValueU16(0));
    assert_eq!(code(&respond(&p)), "4.06");
}

#[test]
fn accept_unknown_format_gets_4_06() {
    let mut p = packet(MessageType::Confirmable, RequestType::Get, "/3303/0/5700");
    p.add_option_as(CoapOption::Accept, OptionValueU16(9999));
    assert_eq!(code(&respond(&p)), "4.06");
}

#[test]
fn write_in_an_unknown_content_format_gets_4_15() {
    let mut p = packet(MessageType::Confirmable, RequestType::Put, "/3303/0/5701");
    p.add_option_as(CoapOption::ContentFormat, OptionValueU16(9999));
    p.payload = b"F".to_vec();
    assert_eq!(code(&respond(&p)), "4.15");
}

#[test]
fn text_write_that_is_not_an_integer_gets_4_00() {
    let mut p = packet(MessageType::Confirmable, RequestType::Put, "/3303/0/5900");
    p.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
    p.payload = b"12a".to_vec();
    // feed_checked (via respond) also checks the value is still 60.
    assert_eq!(code(&respond(&p)), "4.00");
}

#[test]
fn text_write_of_an_integer_is_applied() {
    let mut sim = setup();
    let mut p = packet(MessageType::Confirmable, RequestType::Put, "/3303/0/5900");
    p.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
    p.payload = b"-42".to_vec();
    let (out, _) = feed(&mut sim, &p.to_bytes().unwrap());
    assert_eq!(code(&parse(&out[0]).unwrap()), "2.04");
    assert_eq!(sim.platform.objects.temp.interval, -42);
}

#[test]
fn lifetime_write_of_zero_gets_4_00() {
    let mut p = packet(MessageType::Confirmable, RequestType::Put, "/1/0/1");
    p.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
    p.payload = b"0".to_vec();
    assert_eq!(code(&respond(&p)), "4.00");
}

#[test]
fn discover_of_the_device_instance() {
    let mut p = packet(MessageType::Confirmable, RequestType::Get, "/3/0");
    p.add_option_as(CoapOption::Accept, OptionValueU16(40));
    let r = respond(&p);
    assert_eq!(code(&r), "2.05");
    assert_eq!(content_format(&r), Some(40));
    let links = String::from_utf8(r.payload).unwrap();
    assert!(links.starts_with("</3/0>,</3/0/0>,"), "{links}");
    assert!(links.contains("</3/0/11>;dim=1"), "{links}");
}

#[test]
fn option_number_overflow_gets_rst() {
    let mut b = con_get_raw();
    // Two options of delta 269 + 65535 each: the number passes 65535.
    b.extend_from_slice(&[0xE0, 0xFF, 0xFF, 0xE0, 0xFF, 0xFF]);
    con_rst(&b);
}

#[test]
fn request_while_a_response_is_unsent_is_dropped_without_forgetting_the_first() {
    // Two requests handed over before the first response is drained: the second is dropped
    // (the server retransmits it), and the first is still de-duplicated afterwards.
    let mut sim = setup();
    let a = packet(MessageType::Confirmable, RequestType::Post, "/3303/0/5605")
        .to_bytes()
        .unwrap();
    let mut pb = packet(MessageType::Confirmable, RequestType::Get, "/3/0/0");
    pb.header.message_id = MID + 1;
    let b = pb.to_bytes().unwrap();
    sim.client
        .handle_datagram(0, &a, sim.now, &mut sim.platform);
    sim.client
        .handle_datagram(0, &b, sim.now, &mut sim.platform);
    let mut events = Vec::new();
    while let Some(e) = sim.client.poll_event() {
        events.push(e);
    }
    assert_eq!(
        events,
        [Event::Dropped {
            server: 0,
            reason: DropReason::Busy
        }]
    );
    let first = sim
        .client
        .poll_transmit(sim.now, &mut sim.platform)
        .expect("response to A")
        .data
        .to_vec();
    assert!(sim
        .client
        .poll_transmit(sim.now, &mut sim.platform)
        .is_none());
    assert_eq!(sim.platform.objects.temp.executions, 1);
    // The server retransmits both.
    let (again, _) = feed(&mut sim, &a);
    assert_eq!(again, [first], "A answered from the cache");
    assert_eq!(
        sim.platform.objects.temp.executions, 1,
        "A not executed twice"
    );
    let (rb, _) = feed(&mut sim, &b);
    assert_eq!(rb.len(), 1);
    assert_eq!(code(&parse(&rb[0]).unwrap()), "2.05");
}
