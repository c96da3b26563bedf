//! Time: the caller's clock is monotonic u64 milliseconds, and every deadline of the
//! engine is an absolute instant on it. These tests pin the exact instants of Register
//! retransmissions and registration Updates for a client started 5 s before 2^32 ms (where
//! a 32-bit millisecond counter wraps), and what the engine does when the clock jumps:
//! forward (what is overdue happens once, no burst of retransmissions), and backward (a
//! caller whose clock is not monotonic: nothing panics, nothing is done early, requests
//! are still answered, and the deadlines keep their instants: time stands still for the
//! engine until the clock is back where it was).

mod sim;

use sim::*;
use tern::client::Event;

const WRAP: u64 = 1 << 32;
/// One way through the clean simulated network.
const HOP: u64 = 10;

fn mid(bytes: &[u8]) -> u16 {
    parse(bytes).expect("parses").header.message_id
}

/// A simulation whose clock starts at `start`.
fn sim_at(seed: u64, start: u64, lifetime_s: u32, margin_s: u32) -> Sim {
    let mut sim = Sim::new(seed, NetConfig::clean(HOP), lifetime_s, margin_s);
    sim.now = start;
    sim
}

#[test]
fn register_retransmissions_and_updates_keep_their_instants_across_the_wrap() {
    let t0 = WRAP - 5_000;
    let mut sim = sim_at(61, t0, 60, 10);
    // The first three Registers are lost: the fourth leaves after the wrap.
    let mut lost = 0;
    sim.net.filter = Some(Box::new(move |dir, bytes, _| {
        let drop = dir == Dir::Up && is_register(bytes) && lost < 3;
        lost += usize::from(drop);
        drop
    }));
    let registered = sim
        .run_until_event(t0 + 60_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    let registers = sim.datagrams(Dir::Up, Fate::Sent, is_register);
    assert_eq!(registers.len(), 4);
    assert_eq!(registers[0].0, t0, "Register at start");
    let t = registers[1].0 - registers[0].0;
    assert!((2_000..3_000).contains(&t), "ACK_TIMEOUT with jitter: {t}");
    assert_eq!(registers[2].0, t0 + 3 * t);
    assert_eq!(registers[3].0, t0 + 7 * t);
    assert!(registers[3].0 > WRAP, "past the wrap");
    assert!(registers
        .iter()
        .all(|(_, b)| mid(b) == mid(&registers[0].1)));
    assert_eq!(registered, t0 + 7 * t + 2 * HOP);
    // Updates every lifetime less the margin (50 s) after the last response.
    sim.run_until(t0 + 400_000);
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(
        updates.len(),
        7,
        "{:?}",
        updates.iter().map(|u| u.0).collect::<Vec<_>>()
    );
    let mut last_response = registered;
    for (at, _) in &updates {
        assert_eq!(*at, last_response + 50_000);
        last_response = at + 2 * HOP;
    }
    assert_eq!(
        sim.event_kinds()
            .iter()
            .filter(|e| matches!(e, Event::Updated { .. }))
            .count(),
        7
    );
    assert!(sim.server.expiries(sim.now).is_empty(), "never expired");
}

/// A client started just before the wrap and asleep across it (no input, only its own
/// deadlines) wakes at its Update instant.
#[test]
fn update_due_after_the_wrap_is_not_early_or_late() {
    let t0 = WRAP - 5_000;
    let mut sim = sim_at(62, t0, 30, 0);
    let registered = sim
        .run_until_event(t0 + 10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    assert_eq!(registered, t0 + 2 * HOP);
    // The margin (0) gives the whole lifetime: the Update falls 25 s after the wrap.
    assert_eq!(sim.client.poll_timeout(), Some(registered + 30_000));
    sim.run_until(registered + 30_000 - 1);
    assert!(sim.datagrams(Dir::Up, Fate::Sent, is_update).is_empty());
    sim.run_until(registered + 30_000);
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].0, registered + 30_000);
}

#[test]
fn forward_jump_sends_what_is_overdue_once() {
    let mut sim = sim_at(63, WRAP - 5_000, 300, 30);
    sim.run_until_event(WRAP + 10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    sim.run_until(WRAP + 20_000);
    // Updates go unanswered from here on.
    sim.net.filter = Some(Box::new(|dir, bytes, _| dir == Dir::Up && is_update(bytes)));

    // Ten hours later, many lifetimes and retransmission timeouts overdue: one Update.
    let jump = sim.now + 36_000_000;
    sim.now = jump;
    assert_eq!(sim.drain_client(), 1);
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].0, jump);
    let first = mid(&updates[0].1);
    // Its first timeout runs from the jump.
    let deadline = sim.client.poll_timeout().expect("a timer");
    let t = deadline - jump;
    assert!((2_000..3_000).contains(&t), "{t}");

    // Another jump while it waits for its ACK: one retransmission, not one per timeout
    // that passed.
    let jump2 = jump + 3_600_000;
    sim.now = jump2;
    assert_eq!(sim.drain_client(), 1);
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(updates.len(), 2);
    assert_eq!((updates[1].0, mid(&updates[1].1)), (jump2, first));
    assert_eq!(
        sim.client.poll_timeout(),
        Some(jump2 + 2 * t),
        "doubled, from the jump"
    );

    // The remaining retransmissions follow the rules from there; then the client gives
    // up and registers again (the registration is not kept alive by the lost Updates).
    let failed = sim
        .run_until_event(jump2 + 200_000, |e| matches!(e, Event::UpdateFailed { .. }))
        .expect("the Update fails");
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    let times: Vec<u64> = updates.iter().map(|u| u.0).collect();
    assert_eq!(
        times,
        [jump, jump2, jump2 + 2 * t, jump2 + 6 * t, jump2 + 14 * t]
    );
    assert_eq!(failed, jump2 + 30 * t);
    sim.run_until_event(failed + 10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers again");
}

#[test]
fn backward_jump_stands_time_still() {
    let mut sim = sim_at(64, WRAP - 5_000, 300, 30);
    let registered = sim
        .run_until_event(WRAP + 10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    let update_at = registered + 270_000;
    assert_eq!(sim.client.poll_timeout(), Some(update_at));

    // The clock goes back an hour (and below the wrap): nothing is due, nothing panics.
    sim.now -= 3_600_000;
    assert!(sim.now < WRAP);
    assert!(sim
        .client
        .poll_transmit(sim.now, &mut sim.platform)
        .is_none());
    assert_eq!(sim.client.poll_timeout(), Some(update_at), "same instant");
    // Requests are still answered meanwhile.
    let r = sim.server_request(
        request(coap_lite::RequestType::Get, "/3/0/0"),
        sim.now + 1_000,
    );
    assert_eq!(
        r.expect("answered").payload,
        MANUFACTURER.as_bytes().to_vec()
    );
    // The Update leaves at its instant once the clock is there again, and not before.
    sim.run_until(update_at - 1);
    assert!(sim.datagrams(Dir::Up, Fate::Sent, is_update).is_empty());
    sim.run_until(update_at + 1_000);
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].0, update_at);
    assert!(sim.event_kinds().contains(&Event::Updated { server: 0 }));

    // Backward while a request is in flight: its retransmission keeps its instant too.
    sim.net.filter = Some(Box::new(|dir, bytes, _| dir == Dir::Up && is_update(bytes)));
    sim.client.update(false);
    assert_eq!(sim.drain_client(), 1);
    let sent = sim.now;
    let deadline = sim.client.poll_timeout().expect("a timer");
    sim.now = sent - 10_000;
    assert_eq!(sim.drain_client(), 0);
    assert_eq!(sim.client.poll_timeout(), Some(deadline));
    sim.run_until(deadline);
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    assert_eq!(updates.len(), 3);
    assert_eq!(updates[2].0, deadline);
}
