//! The client under deterministic simulation: registration life cycle, retransmission,
//! loss, duplication and reordering over virtual days.

mod sim;

use std::collections::BTreeSet;

use coap_lite::option_value::OptionValueU16;
use coap_lite::{CoapOption, MessageClass, MessageType, RequestType, ResponseType};
use sim::*;
use tern::client::Event;
use tern::coap::Code;

fn registered_ev(e: &Event) -> bool {
    matches!(e, Event::Registered { server: 0 })
}

fn updated_ev(e: &Event) -> bool {
    matches!(e, Event::Updated { server: 0 })
}

fn mid_token(bytes: &[u8]) -> (u16, Vec<u8>) {
    let p = parse(bytes).expect("CoAP");
    (p.header.message_id, p.get_token().to_vec())
}

fn gaps(times: &[u64]) -> Vec<u64> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn clean_network_life_cycle() {
    let (lifetime, margin) = (300, 30);
    let mut sim = Sim::new(1, NetConfig::clean(10), lifetime, margin);
    let reg_at = sim
        .run_until_event(10_000, registered_ev)
        .expect("registered");
    let registers = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    assert_eq!(registers.len(), 1);
    assert_eq!(registers[0].0, 0, "Register goes out at once");
    assert_eq!(reg_at, 20, "one round trip of 2 x 10 ms");

    let rsp = sim
        .server_request(request(RequestType::Get, "/3/0/0"), 60_000)
        .expect("read answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.05");
    assert_eq!(content_format(&rsp), Some(0));
    assert_eq!(String::from_utf8_lossy(&rsp.payload), MANUFACTURER);
    assert_eq!(
        rsp.header.get_type(),
        MessageType::Acknowledgement,
        "piggybacked"
    );

    // The periodic Update: lifetime minus margin after the 2.01 arrived.
    let upd_at = sim.run_until_event(1_000_000, updated_ev).expect("updated");
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(updates.len(), 1);
    let due = reg_at + u64::from(lifetime - margin) * 1000;
    assert_eq!(updates[0].0, due, "Update at lifetime - margin");
    assert_eq!(upd_at, due + 20);
    let p = parse(&updates[0].1).unwrap();
    assert_eq!(uri_path(&p), ["rd", "1"]);
    assert!(
        uri_query(&p).is_empty(),
        "a periodic Update carries no parameters: {:?}",
        uri_query(&p)
    );
    assert!(p.payload.is_empty());
    // The next one is scheduled from the Update's response.
    assert_eq!(
        sim.client.poll_timeout(),
        Some(upd_at + u64::from(lifetime - margin) * 1000)
    );

    sim.client.deregister();
    let dereg_at = sim
        .run_until_event(sim.now + 10_000, |e| {
            matches!(e, Event::Deregistered { .. })
        })
        .expect("deregistered");
    let deletes = sim.datagrams(Dir::Up, Fate::Sent, is_deregister);
    assert_eq!(deletes.len(), 1);
    assert_eq!(uri_path(&parse(&deletes[0].1).unwrap()), ["rd", "1"]);
    assert_eq!(dereg_at, upd_at + 20);
    assert!(sim.client.is_idle());
    assert_eq!(sim.client.poll_timeout(), None);

    assert_eq!(
        sim.event_kinds(),
        vec![
            Event::ConnectionNeeded { server: 0 },
            Event::Registered { server: 0 },
            Event::Updated { server: 0 },
            Event::Deregistered { server: 0 },
            Event::ConnectionDone { server: 0 },
        ]
    );
    let kinds: Vec<&str> = sim
        .server
        .log
        .iter()
        .map(|l| match l {
            ServerLog::Registered { .. } => "reg",
            ServerLog::Updated { .. } => "upd",
            ServerLog::Deregistered { .. } => "dereg",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["reg", "upd", "dereg"]);
    // Nothing more for an hour.
    sim.run_until(sim.now + 3_600_000);
    assert_eq!(
        sim.datagrams(Dir::Up, Fate::Sent, |_| true).len(),
        4,
        "Register, the read's ACK, Update, De-register"
    );
}

#[test]
fn register_retransmission_timing() {
    let mut sim = Sim::new(2, NetConfig::clean(10), 300, 30);
    let mut dropped = 0;
    sim.net.filter = Some(Box::new(move |dir, b, _| {
        if dir == Dir::Up && is_register(b) && dropped < 2 {
            dropped += 1;
            return true;
        }
        false
    }));
    let reg_at = sim
        .run_until_event(60_000, registered_ev)
        .expect("registered at the third copy");
    let regs = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    assert_eq!(regs.len(), 3);
    let times: Vec<u64> = regs.iter().map(|r| r.0).collect();
    let g = gaps(&times);
    assert!(
        (2_000..3_000).contains(&g[0]),
        "first timeout {} not in 2..3 s",
        g[0]
    );
    assert!(
        (4_000..6_000).contains(&g[1]),
        "second timeout {} not in 4..6 s",
        g[1]
    );
    assert_eq!(g[1], 2 * g[0], "the timeout doubles");
    let first = mid_token(&regs[0].1);
    for r in &regs {
        assert_eq!(mid_token(&r.1), first, "MID and token stay the same");
        assert_eq!(r.1, regs[0].1, "the retransmission is the same datagram");
    }
    assert_eq!(reg_at, times[2] + 20);
}

#[test]
fn register_gives_up_and_backs_off_under_total_loss() {
    let mut net = NetConfig::clean(10);
    net.loss_pct = 100;
    let mut sim = Sim::new(3, net, 300, 30);
    let gave_up = sim
        .run_until_event(200_000, |e| matches!(e, Event::RegistrationRetry { .. }))
        .expect("gives up");
    let regs = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    assert_eq!(regs.len(), 5, "1 transmission + 4 retransmissions");
    let times: Vec<u64> = regs.iter().map(|r| r.0).collect();
    let g = gaps(&times);
    assert!((2_000..3_000).contains(&g[0]), "{g:?}");
    for w in g.windows(2) {
        assert_eq!(w[1], 2 * w[0], "doubling: {g:?}");
    }
    assert!(
        (30_000..45_000).contains(&(times[4] - times[0])),
        "last retransmission at {}",
        times[4]
    );
    assert!(
        (62_000..=93_000).contains(&(gave_up - times[0])),
        "gave up at {gave_up}"
    );
    assert_eq!(
        gave_up - times[4],
        g[3] * 2,
        "waits a full last timeout before giving up"
    );
    for r in &regs {
        assert_eq!(mid_token(&r.1), mid_token(&regs[0].1));
    }
    let retry: Vec<Event> = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::RegistrationRetry { .. }))
        .map(|(_, e)| *e)
        .collect();
    assert_eq!(
        retry,
        [Event::RegistrationRetry {
            server: 0,
            delay_ms: 60_000
        }]
    );
    assert_eq!(sim.client.poll_timeout(), Some(gave_up + 60_000));

    // Silence for 60 s, then a new Register (new MID and token).
    sim.run_until(gave_up + 59_999);
    assert_eq!(sim.datagrams(Dir::Up, Fate::Sent, is_register).len(), 5);
    sim.run_until(gave_up + 60_000);
    let regs = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    assert_eq!(regs.len(), 6);
    assert_eq!(regs[5].0, gave_up + 60_000);
    let (m0, t0) = mid_token(&regs[0].1);
    let (m5, t5) = mid_token(&regs[5].1);
    assert_ne!(m0, m5);
    assert_ne!(t0, t5);
    // The second failure doubles the backoff.
    sim.run_until_event(gave_up + 200_000, |e| {
        matches!(e, Event::RegistrationRetry { .. })
    })
    .expect("second give-up");
    assert_eq!(
        sim.events.last().map(|e| e.1),
        Some(Event::RegistrationRetry {
            server: 0,
            delay_ms: 120_000
        })
    );
}

/// Queues server traffic every `period` ms until `end`: Read /3/0/0, Execute /3303/0/5605,
/// Write /3303/0/5701, Read /3303/0 in TLV, and a NON Read.
fn server_traffic(sim: &mut Sim, start: u64, period: u64, end: u64) {
    let mut k = 0u64;
    let mut t = start;
    while t < end {
        let p = match k % 5 {
            0 => request(RequestType::Get, "/3/0/0"),
            1 => request(RequestType::Post, "/3303/0/5605"),
            2 => {
                let mut p = request(RequestType::Put, "/3303/0/5701");
                p.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
                p.payload = format!("K{k}").into_bytes();
                p
            }
            3 => {
                let mut p = request(RequestType::Get, "/3303/0");
                p.add_option_as(CoapOption::Accept, OptionValueU16(11542));
                p
            }
            _ => {
                let mut p = request(RequestType::Get, "/3303/0/5700");
                p.header.set_type(MessageType::NonConfirmable);
                p
            }
        };
        sim.server.queue_request(t, p);
        k += 1;
        t += period;
    }
}

fn lossy_sim(seed: u64, hours: u64) -> Sim {
    let mut sim = Sim::new(seed, NetConfig::lossy(30, 20, 20), 300, 150);
    server_traffic(&mut sim, 20_000, 420_000, hours * 3_600_000);
    sim.run_until(hours * 3_600_000);
    sim
}

fn check_lossy_run(seed: u64, sim: &Sim) {
    let end = sim.now;
    assert!(
        !sim.server.refreshes.is_empty(),
        "seed {seed}: never registered"
    );
    assert!(
        sim.server.refreshes[0].0 < 120_000,
        "seed {seed}: first registration at {}",
        sim.server.refreshes[0].0
    );
    let expired = sim.server.expiries(end);
    assert!(
        expired.is_empty(),
        "seed {seed}: the server's registration expired: {expired:?}"
    );

    // De-duplication: every copy of the client's answer to one server request is the same.
    for (mid, answers) in &sim.server.answers {
        assert!(
            answers.iter().all(|a| a == &answers[0]),
            "seed {seed}: mid {mid} answered differently: {answers:?}"
        );
    }
    // Execute ran once per distinct request that reached the client.
    let executes: BTreeSet<u16> = sim
        .datagrams(Dir::Down, Fate::Delivered, |b| {
            parse(b).is_some_and(|p| {
                p.header.code == MessageClass::Request(RequestType::Post)
                    && uri_path(&p) == ["3303", "0", "5605"]
            })
        })
        .iter()
        .map(|(_, b)| parse(b).unwrap().header.message_id)
        .collect();
    assert!(!executes.is_empty());
    assert_eq!(
        sim.platform.objects.temp.executions as usize,
        executes.len(),
        "seed {seed}: executions vs distinct Execute requests"
    );
    let delivered_dups = sim.datagrams(Dir::Down, Fate::Delivered, |b| {
        parse(b).is_some_and(|p| {
            p.header.get_type() == MessageType::Confirmable
                && matches!(p.header.code, MessageClass::Request(_))
        })
    });
    assert!(
        delivered_dups.len() > executes.len(),
        "seed {seed}: the network duplicated nothing?"
    );
    // Most server requests got an answer (each exchange has 5 tries at 49 % success).
    let answered = sim
        .server
        .ops
        .iter()
        .filter(|o| o.response.is_some())
        .count();
    let sent = sim
        .server
        .ops
        .iter()
        .filter(|o| o.sent_at.is_some())
        .count();
    assert!(
        answered * 10 >= sent * 7,
        "seed {seed}: only {answered} of {sent} server requests answered"
    );
    for o in sim.server.ops.iter().filter(|o| o.response.is_some()) {
        let rsp = o.response.as_ref().unwrap();
        assert!(
            code_str(raw_code(rsp)).starts_with("2."),
            "seed {seed}: {}",
            code_str(raw_code(rsp))
        );
    }
    // The client kept a consistent view: it never reports a rejection.
    assert!(!sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::RegistrationRejected { .. })));
    let updates = sim.events.iter().filter(|(_, e)| updated_ev(e)).count();
    assert!(
        updates > 400,
        "seed {seed}: only {updates} Updates in a day"
    );
}

#[test]
fn lossy_network_24h_20_seeds() {
    for seed in 100..120 {
        let sim = lossy_sim(seed, 24);
        check_lossy_run(seed, &sim);
    }
}

#[test]
fn same_seed_same_run() {
    let a = lossy_sim(7, 3);
    let b = lossy_sim(7, 3);
    assert!(a.trace.len() > 100);
    assert_eq!(a.trace, b.trace, "same seed, different datagrams");
    assert_eq!(a.events, b.events);
    let c = lossy_sim(8, 3);
    assert_ne!(a.trace, c.trace, "another seed should give another run");
}

#[test]
fn update_on_execute_and_on_lifetime_write() {
    let mut sim = registered_sim(4, 300, 30);
    let rsp = sim
        .server_request(request(RequestType::Post, "/1/0/8"), sim.now + 10_000)
        .expect("execute answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.04");
    let at = sim
        .run_until_event(sim.now + 10_000, updated_ev)
        .expect("Update after Execute /1/0/8");
    assert!(at < 1_000, "the trigger Update goes out at once ({at})");
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(updates.len(), 1);
    assert!(uri_query(&parse(&updates[0].1).unwrap()).is_empty());

    let mut w = request(RequestType::Put, "/1/0/1");
    w.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
    w.payload = b"600".to_vec();
    let rsp = sim
        .server_request(w, sim.now + 10_000)
        .expect("write answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.04");
    let at = sim
        .run_until_event(sim.now + 10_000, updated_ev)
        .expect("Update after the lifetime write");
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(updates.len(), 2);
    let q = uri_query(&parse(&updates[1].1).unwrap());
    assert_eq!(q, ["lt=600"]);
    assert_eq!(sim.server.reg.as_ref().unwrap().lifetime_s, 600);
    assert_eq!(sim.client.servers()[0].lifetime_s, 600);
    // The new lifetime schedules the next Update.
    assert_eq!(sim.client.poll_timeout(), Some(at + 570_000));

    // Writing the same lifetime again is no change: no Update.
    let mut w = request(RequestType::Put, "/1/0/1");
    w.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
    w.payload = b"600".to_vec();
    sim.server_request(w, sim.now + 10_000)
        .expect("write answered");
    sim.run_until(sim.now + 10_000);
    assert_eq!(sim.datagrams(Dir::Up, Fate::Sent, is_update).len(), 2);
}

#[test]
fn forbidden_register_is_not_retried() {
    let mut sim = Sim::new(5, NetConfig::clean(10), 300, 30);
    sim.server.behavior.register_code = ResponseType::Forbidden;
    sim.run_until(3_600_000 + 100);
    let rejected: Vec<_> = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::RegistrationRejected { .. }))
        .collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        rejected[0],
        &(
            20,
            Event::RegistrationRejected {
                server: 0,
                code: Code::FORBIDDEN
            }
        )
    );
    assert_eq!(
        sim.datagrams(Dir::Up, Fate::Sent, is_register).len(),
        1,
        "no Register after 4.03 for an hour"
    );
    assert_eq!(sim.datagrams(Dir::Up, Fate::Sent, |_| true).len(), 1);
    assert_eq!(sim.client.poll_timeout(), None);
    assert!(sim.client.is_idle());
    // restart() lets it try again.
    sim.server.behavior.register_code = ResponseType::Created;
    sim.client.restart(sim.now);
    assert!(sim
        .run_until_event(sim.now + 10_000, registered_ev)
        .is_some());
}

#[test]
fn update_not_found_registers_again() {
    let mut sim = registered_sim(6, 300, 30);
    sim.server
        .behavior
        .update_codes
        .push_back(ResponseType::NotFound);
    sim.client.update(false);
    let seen = sim.events.len();
    let again = sim
        .run_until_event(sim.now + 10_000, registered_ev)
        .expect("registers again");
    let after: Vec<Event> = sim.events[seen..].iter().map(|(_, e)| *e).collect();
    assert_eq!(
        after,
        [
            Event::UpdateFailed { server: 0 },
            Event::Registered { server: 0 }
        ]
    );
    let regs = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    assert_eq!(regs.len(), 2);
    let failed_at = sim.events[seen].0;
    assert_eq!(
        regs[1].0, failed_at,
        "Register goes out as soon as the 4.04 arrives"
    );
    assert_eq!(again, failed_at + 20);
    assert_eq!(sim.server.reg.as_ref().unwrap().id, 2);
    // Later Updates go to the new location.
    sim.client.update(false);
    sim.run_until_event(sim.now + 10_000, updated_ev)
        .expect("updated");
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(
        uri_path(&parse(&updates.last().unwrap().1).unwrap()),
        ["rd", "2"]
    );
}

#[test]
fn separate_response_to_register() {
    let mut sim = Sim::new(7, NetConfig::clean(10), 300, 30);
    sim.server.behavior.register_separate = true;
    sim.server.behavior.separate_delay_ms = 20_000;
    let reg_at = sim
        .run_until_event(60_000, registered_ev)
        .expect("registered by the separate response");
    assert_eq!(reg_at, 10 + 20_000 + 10);
    let regs = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    assert_eq!(regs.len(), 1, "no retransmission after the empty ACK");
    // The server's CON 2.01 and the client's empty ACK for it.
    let cons = sim.datagrams(Dir::Down, Fate::Sent, |b| {
        parse(b).is_some_and(|p| {
            p.header.get_type() == MessageType::Confirmable && code_str(raw_code(&p)) == "2.01"
        })
    });
    assert_eq!(
        cons.len(),
        1,
        "the client's ACK stops the server's retransmission"
    );
    let con = parse(&cons[0].1).unwrap();
    assert_eq!(con.get_token(), mid_token(&regs[0].1).1.as_slice());
    let acks = sim.datagrams(Dir::Up, Fate::Sent, |b| b.len() == 4 && b[0] == 0x60);
    assert_eq!(acks.len(), 1);
    assert_eq!(mid_token(&acks[0].1).0, con.header.message_id);
    assert_eq!(acks[0].0, reg_at, "ACKed at once");
    // The registration works: the periodic Update goes to the location of the 2.01.
    sim.run_until_event(reg_at + 300_000, updated_ev)
        .expect("updated");
    assert_eq!(
        sim.datagrams(Dir::Up, Fate::Sent, is_update)[0].0,
        reg_at + 270_000
    );
}

#[test]
fn separate_response_retransmitted_by_the_server_is_acked_again() {
    // The client's ACK of the separate 2.01 is lost: the server sends the CON again and
    // must get an ACK again (RFC 7252 4.5), not a Reset.
    let mut sim = Sim::new(8, NetConfig::clean(10), 300, 30);
    sim.server.behavior.register_separate = true;
    sim.server.behavior.separate_delay_ms = 5_000;
    let mut lost = false;
    sim.net.filter = Some(Box::new(move |dir, b, _| {
        if dir == Dir::Up && b.len() == 4 && b[0] == 0x60 && !lost {
            lost = true;
            return true;
        }
        false
    }));
    sim.run_until_event(60_000, registered_ev)
        .expect("registered");
    sim.run_until(60_000);
    let cons = sim.datagrams(Dir::Down, Fate::Sent, |b| {
        parse(b).is_some_and(|p| {
            p.header.get_type() == MessageType::Confirmable && code_str(raw_code(&p)) == "2.01"
        })
    });
    assert_eq!(cons.len(), 2, "one retransmission after the lost ACK");
    let replies = sim.datagrams(Dir::Up, Fate::Sent, |b| b.len() == 4);
    assert_eq!(replies.len(), 2);
    for (_, r) in &replies {
        assert_eq!(r[0], 0x60, "an empty ACK each time, not a RST: {r:02x?}");
        assert_eq!(mid_token(r).0, parse(&cons[0].1).unwrap().header.message_id);
    }
    assert!(sim.registered());
    let registered = sim.events.iter().filter(|(_, e)| registered_ev(e)).count();
    assert_eq!(registered, 1);
}

#[test]
fn deregister_while_registering_stops() {
    let mut net = NetConfig::clean(10);
    net.loss_pct = 100;
    let mut sim = Sim::new(9, net, 300, 30);
    sim.run_until(1_000);
    sim.client.deregister();
    sim.run_until(300_000);
    assert!(sim.datagrams(Dir::Up, Fate::Sent, is_register).len() <= 5);
    assert!(sim.client.is_idle());
    assert_eq!(sim.client.poll_timeout(), None);
}
