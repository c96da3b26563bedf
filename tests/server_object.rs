//! The Server object's resources that steer the registration, under deterministic
//! simulation: Disable (4) with its Disable Timeout (5), the Initial Registration Delay
//! Timer (14) and the Register retry sequence (Communication Retry Count and Timer,
//! Sequence Delay Timer and Retry Count: 17-20).

mod sim;

use coap_lite::option_value::OptionValueU16;
use coap_lite::{CoapOption, MessageClass, RequestType, ResponseType};
use sim::*;
use tern::client::{DropReason, Event};
use tern::model::Value;

fn registered_ev(e: &Event) -> bool {
    matches!(e, Event::Registered { server: 0 })
}

/// A text/plain Write of `value` to `path`; the response code as "x.yy".
fn write_text(sim: &mut Sim, path: &str, value: &str) -> String {
    let mut w = request(RequestType::Put, path);
    w.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
    w.payload = value.as_bytes().to_vec();
    let rsp = sim
        .server_request(w, sim.now + 10_000)
        .expect("write answered");
    code_str(raw_code(&rsp))
}

/// The text/plain value of `path`.
fn read_text(sim: &mut Sim, path: &str) -> String {
    let rsp = sim
        .server_request(request(RequestType::Get, path), sim.now + 10_000)
        .expect("read answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.05", "read {path}");
    String::from_utf8(rsp.payload).unwrap()
}

/// The times of the client's Registers.
fn register_times(sim: &Sim) -> Vec<u64> {
    sim.datagrams(Dir::Up, Fate::Sent, is_register)
        .iter()
        .map(|r| r.0)
        .collect()
}

#[test]
fn disable_deregisters_stays_away_and_registers_again() {
    let mut sim = registered_sim(41, 300, 30);
    assert_eq!(
        read_text(&mut sim, "/1/0/5"),
        "86400",
        "the default Disable Timeout"
    );
    assert_eq!(write_text(&mut sim, "/1/0/5", "120"), "2.04");
    assert_eq!(read_text(&mut sim, "/1/0/5"), "120");
    sim.run_until(sim.now + 1_000);
    let up_before = sim.datagrams(Dir::Up, Fate::Sent, |_| true).len();

    // Execute Disable: the 2.04 goes out first, then the De-register.
    let op = sim
        .server
        .queue_request(sim.now, request(RequestType::Post, "/1/0/4"));
    let dereg_at = sim
        .run_until_event(sim.now + 10_000, |e| {
            matches!(e, Event::Deregistered { server: 0 })
        })
        .expect("de-registers");
    let rsp = sim.server.ops[op]
        .response
        .clone()
        .expect("execute answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.04");
    let up: Vec<(u64, Vec<u8>)> =
        sim.datagrams(Dir::Up, Fate::Sent, |_| true)[up_before..].to_vec();
    let first = parse(&up[0].1).unwrap();
    assert_eq!(
        first.header.code,
        MessageClass::Response(ResponseType::Changed),
        "the response to the Execute comes first"
    );
    assert!(
        is_deregister(&up[1].1),
        "then the De-register: {:?}",
        parse(&up[1].1).map(|p| p.header.code)
    );
    assert!(matches!(
        sim.server.log.last(),
        Some(ServerLog::Deregistered { .. })
    ));
    let kinds = sim.event_kinds();
    let n = kinds.len();
    assert_eq!(
        kinds[n - 2..],
        [
            Event::Deregistered { server: 0 },
            Event::ConnectionDone { server: 0 }
        ]
    );
    // The deadline is the end of the Disable Timeout, counted from the de-registration.
    assert_eq!(sim.client.poll_timeout(), Some(dereg_at + 120_000));
    assert!(!sim.client.is_idle(), "a disabled server comes back");

    // Nothing goes out during the timeout, and a request from the server is ignored.
    let sent = sim.datagrams(Dir::Up, Fate::Sent, |_| true).len();
    sim.run_until(dereg_at + 30_000);
    let mut p = request(RequestType::Get, "/3/0/0");
    p.header.message_id = 0x5151;
    p.set_token(vec![1]);
    sim.inject(&p.to_bytes().unwrap());
    assert_eq!(
        sim.events.last().map(|e| e.1),
        Some(Event::Dropped {
            server: 0,
            reason: DropReason::Disabled
        })
    );
    sim.run_until(dereg_at + 119_999);
    assert_eq!(
        sim.datagrams(Dir::Up, Fate::Sent, |_| true).len(),
        sent,
        "silence while disabled"
    );
    assert!(
        !sim.events
            .iter()
            .any(|(t, e)| *t > dereg_at && matches!(e, Event::ConnectionNeeded { .. })),
        "no connection asked for while disabled"
    );

    // Then a new connection and a Register.
    let seen = sim.events.len();
    let at = sim
        .run_until_event(dereg_at + 130_000, registered_ev)
        .expect("registers again after the Disable Timeout");
    assert!(at >= dereg_at + 120_000, "{at}");
    assert!(at < dereg_at + 121_000, "{at}");
    assert_eq!(
        sim.events[seen].1,
        Event::ConnectionNeeded { server: 0 },
        "asks for the connection first"
    );
    let regs = register_times(&sim);
    assert_eq!(regs.len(), 2);
    assert_eq!(regs[1], dereg_at + 120_000);
    assert!(sim.registered());
    // The settings survive.
    assert_eq!(read_text(&mut sim, "/1/0/5"), "120");
}

#[test]
fn disable_before_registering_releases_the_connection_at_once() {
    let mut sim = Sim::new(49, NetConfig::clean(10), 300, 30);
    sim.client
        .set_server_resource(0, 5, &Value::Integer(50))
        .unwrap();
    let mut p = request(RequestType::Post, "/1/0/4");
    p.header.message_id = 0x6161;
    p.set_token(vec![2]);
    sim.inject(&p.to_bytes().unwrap());
    let up = sim.datagrams(Dir::Up, Fate::Sent, |_| true);
    assert_eq!(up.len(), 1, "the 2.04 and no Register");
    assert_eq!(
        parse(&up[0].1).unwrap().header.code,
        MessageClass::Response(ResponseType::Changed)
    );
    assert!(sim
        .event_kinds()
        .contains(&Event::ConnectionDone { server: 0 }));
    assert!(!sim
        .event_kinds()
        .contains(&Event::Deregistered { server: 0 }));
    assert_eq!(sim.client.poll_timeout(), Some(50_000));
    let at = sim.run_until_event(60_000, registered_ev).unwrap();
    assert_eq!(register_times(&sim), [50_000]);
    assert_eq!(at, 50_020);
}

#[test]
fn disable_timeout_writes_are_checked() {
    let mut sim = registered_sim(42, 300, 30);
    assert_eq!(write_text(&mut sim, "/1/0/5", "-1"), "4.00");
    assert_eq!(write_text(&mut sim, "/1/0/5", "4294967296"), "4.00");
    assert_eq!(write_text(&mut sim, "/1/0/5", "abc"), "4.00");
    assert_eq!(read_text(&mut sim, "/1/0/5"), "86400");
    // Executing a readable resource, reading an executable one.
    let rsp = sim
        .server_request(request(RequestType::Get, "/1/0/4"), sim.now + 10_000)
        .unwrap();
    assert_eq!(code_str(raw_code(&rsp)), "4.05");
    let rsp = sim
        .server_request(request(RequestType::Post, "/1/0/9"), sim.now + 10_000)
        .unwrap();
    assert_eq!(
        code_str(raw_code(&rsp)),
        "4.05",
        "Bootstrap-Request Trigger: no bootstrap server to ask"
    );
    assert!(sim.registered());
}

#[test]
fn tlv_write_with_one_bad_value_changes_nothing() {
    let mut sim = registered_sim(43, 300, 30);
    // /1/0: Communication Retry Count 2 and Sequence Retry Count 0 (out of range).
    let mut w = request(RequestType::Post, "/1/0");
    w.add_option_as(CoapOption::ContentFormat, OptionValueU16(11542));
    w.payload = vec![0xC1, 17, 2, 0xC1, 20, 0];
    let rsp = sim.server_request(w, sim.now + 10_000).unwrap();
    assert_eq!(code_str(raw_code(&rsp)), "4.00");
    assert_eq!(read_text(&mut sim, "/1/0/17"), "5");
    assert_eq!(read_text(&mut sim, "/1/0/20"), "1");
    // The same with a valid value goes through.
    let mut w = request(RequestType::Post, "/1/0");
    w.add_option_as(CoapOption::ContentFormat, OptionValueU16(11542));
    w.payload = vec![0xC1, 17, 2, 0xC1, 20, 3];
    let rsp = sim.server_request(w, sim.now + 10_000).unwrap();
    assert_eq!(code_str(raw_code(&rsp)), "2.04");
    assert_eq!(read_text(&mut sim, "/1/0/17"), "2");
    assert_eq!(read_text(&mut sim, "/1/0/20"), "3");
}

#[test]
fn default_retry_sequence_gives_up_after_five_attempts() {
    let mut sim = Sim::new(44, NetConfig::clean(10), 300, 30);
    sim.server.behavior.register_code = ResponseType::ServiceUnavailable;
    let failed = sim
        .run_until_event(3_600_000, |e| {
            matches!(e, Event::RegistrationFailed { server: 0 })
        })
        .expect("the registration fails");
    let t = register_times(&sim);
    assert_eq!(t.len(), 5, "Communication Retry Count 5");
    let gaps: Vec<u64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    // 60 s doubling, each after the 5.03 that came 20 ms after the Register.
    assert_eq!(gaps, [60_020, 120_020, 240_020, 480_020]);
    assert_eq!(failed, t[4] + 20);
    assert!(sim.client.is_idle());
    assert_eq!(sim.client.poll_timeout(), None);
    sim.run_until(failed + 86_400_000 * 2);
    assert_eq!(register_times(&sim).len(), 5, "no second sequence");
    // restart() tries again.
    sim.server.behavior.register_code = ResponseType::Created;
    sim.client.restart(sim.now);
    assert!(sim
        .run_until_event(sim.now + 10_000, registered_ev)
        .is_some());
}

#[test]
fn retry_resources_shape_the_backoff_on_a_failing_server() {
    // Set by the application before start: 3 attempts 10 s apart (doubling), 3 sequences
    // 300 s apart.
    let mut sim = Sim::new(45, NetConfig::clean(10), 300, 30);
    for (rid, v) in [(17u16, 3u64), (18, 10), (19, 300), (20, 3)] {
        sim.client
            .set_server_resource(0, rid, &Value::Unsigned(v))
            .unwrap();
    }
    // Out of range: refused, nothing changed.
    assert!(sim
        .client
        .set_server_resource(0, 17, &Value::Unsigned(0))
        .is_err());
    assert!(sim
        .client
        .set_server_resource(0, 0, &Value::Unsigned(9))
        .is_err());
    sim.server.behavior.register_code = ResponseType::ServiceUnavailable;
    sim.run_until_event(3_600_000, |e| {
        matches!(e, Event::RegistrationFailed { server: 0 })
    })
    .expect("the registration fails");
    let t = register_times(&sim);
    let gaps: Vec<u64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        gaps,
        [10_020, 20_020, 300_020, 10_020, 20_020, 300_020, 10_020, 20_020],
        "three sequences of three attempts"
    );
    let retries: Vec<u32> = sim
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::RegistrationRetry { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(
        retries,
        [10_000, 20_000, 300_000, 10_000, 20_000, 300_000, 10_000, 20_000]
    );
}

#[test]
fn retry_resources_written_by_the_server_apply_to_the_next_registration() {
    // Total loss after the registration: the Update fails, then every Register times
    // out (CoAP gives up after about 93 s) and the sequence the server wrote follows.
    let mut sim = registered_sim(46, 300, 30);
    assert_eq!(write_text(&mut sim, "/1/0/17", "2"), "2.04");
    assert_eq!(write_text(&mut sim, "/1/0/18", "7"), "2.04");
    assert_eq!(write_text(&mut sim, "/1/0/19", "4294967295"), "2.04");
    assert_eq!(write_text(&mut sim, "/1/0/17", "0"), "4.00");
    assert_eq!(read_text(&mut sim, "/1/0/17"), "2");
    sim.net.config.loss_pct = 100;
    sim.client.update(false);
    sim.run_until_event(sim.now + 3_600_000, |e| {
        matches!(e, Event::RegistrationFailed { server: 0 })
    })
    .expect("fails after two attempts, no second sequence (MAX_VALUE)");
    let retries: Vec<Event> = sim
        .event_kinds()
        .into_iter()
        .filter(|e| matches!(e, Event::RegistrationRetry { .. }))
        .collect();
    assert_eq!(
        retries,
        [Event::RegistrationRetry {
            server: 0,
            delay_ms: 7_000
        }]
    );
    // Two Registers (each with its retransmissions) after the first one.
    let regs = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    let firsts: std::collections::BTreeSet<Vec<u8>> = regs
        .iter()
        .map(|r| parse(&r.1).unwrap().get_token().to_vec())
        .collect();
    assert_eq!(firsts.len(), 3, "the first Register, then two attempts");
}

#[test]
fn initial_registration_delay_holds_the_first_register() {
    let mut sim = Sim::new(47, NetConfig::clean(10), 300, 30);
    sim.client
        .set_server_resource(0, 14, &Value::Unsigned(30))
        .unwrap();
    let at = sim
        .run_until_event(60_000, registered_ev)
        .expect("registers");
    let t = register_times(&sim);
    assert_eq!(t, [30_000], "the first Register waits 30 s");
    assert_eq!(at, 30_020);
    assert_eq!(read_text(&mut sim, "/1/0/14"), "30");
    // Only until the first successful registration: a new start registers at once.
    sim.client.deregister();
    sim.run_until_event(sim.now + 10_000, |e| {
        matches!(e, Event::Deregistered { .. })
    })
    .unwrap();
    let now = sim.now;
    sim.client.restart(now);
    let again = sim.run_until_event(now + 60_000, registered_ev).unwrap();
    assert!(
        again < now + 1_000,
        "no delay after a registration ({again})"
    );
}

#[test]
fn initial_registration_delay_of_zero_registers_at_once() {
    let mut sim = Sim::new(48, NetConfig::clean(10), 300, 30);
    let at = sim.run_until_event(60_000, registered_ev).unwrap();
    assert_eq!(at, 20);
}
