//! 24 hours of virtual time on a network that loses, duplicates and reorders 30 % of the
//! datagrams each way: the server observes the temperature with `con=1` (confirmable
//! notifications), the value changes every 10 minutes. No change is lost silently: each
//! value reaches the server in a notification (or a later value does), or the client
//! reports that the observation ended, and the server observes again.

mod sim;

use coap_lite::{CoapOption, MessageType, RequestType};
use sim::*;
use tern::client::Event;
use tern::model::Path;

const MINUTE: u64 = 60_000;
const DAY: u64 = 24 * 60 * MINUTE;

/// Observes /3303/0/5700 with `con=1`; the observation's token, or `None` when the
/// exchanges failed (the network ate them).
fn observe(sim: &mut Sim) -> Option<Vec<u8>> {
    let mut attrs = request(RequestType::Put, "/3303/0/5700");
    attrs.add_option(CoapOption::UriQuery, b"con=1".to_vec());
    let r = sim.server_request(attrs, sim.now + 2 * MINUTE)?;
    if code_str(raw_code(&r)) != "2.04" {
        return None;
    }
    let mut obs = request(RequestType::Get, "/3303/0/5700");
    obs.add_option(CoapOption::Observe, vec![]);
    let r = sim.server_request(obs, sim.now + 2 * MINUTE)?;
    (r.get_option(CoapOption::Observe).is_some()).then(|| r.get_token().to_vec())
}

/// (arrival time, token, value) of every notification the server received.
fn delivered(sim: &Sim) -> Vec<(u64, Vec<u8>, f64)> {
    sim.trace
        .iter()
        .filter(|r| r.dir == Dir::Up && r.fate == Fate::Delivered)
        .filter_map(|r| {
            let p = parse(&r.bytes)?;
            let notification = p.get_option(CoapOption::Observe).is_some()
                && p.header.get_type() != MessageType::Acknowledgement
                && code_str(raw_code(&p)) == "2.05";
            let v: f64 = std::str::from_utf8(&p.payload).ok()?.parse().ok()?;
            notification.then(|| (r.at, p.get_token().to_vec(), v))
        })
        .collect()
}

fn run(seed: u64) {
    let mut sim = Sim::new(seed, NetConfig::lossy(30, 30, 30), 3600, 600);
    sim.run_until_event(10 * MINUTE, |e| matches!(e, Event::Registered { .. }))
        .expect("registers despite the losses");
    let mut tokens = Vec::new();
    let mut ends = Vec::new();
    let mut changes = Vec::new();
    let mut observed = false;
    let path = Path::resource(3303, 0, 5700);
    for i in 1..=(DAY / (10 * MINUTE)) {
        let seen = sim.events.len();
        sim.run_until(i * 10 * MINUTE);
        let ended = sim.events[seen..]
            .iter()
            .filter(|(_, e)| matches!(e, Event::ObservationEnded { .. }))
            .map(|(t, _)| *t);
        ends.extend(ended.clone());
        if ended.count() > 0 || !observed {
            // The server observes again (a few tries: the network eats some of them).
            observed = false;
            for _ in 0..5 {
                if !sim.registered() {
                    break;
                }
                if let Some(t) = observe(&mut sim) {
                    tokens.push(t);
                    observed = true;
                    break;
                }
            }
        }
        if observed {
            sim.platform.objects.temp.value = i as f64;
            sim.client.resource_changed(&path);
            changes.push((sim.now, i as f64));
        }
    }
    sim.run_until(DAY + 30 * MINUTE);
    ends.extend(
        sim.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::ObservationEnded { .. }))
            .map(|(t, _)| *t),
    );
    let got = delivered(&sim);
    assert!(got.len() > 50, "notifications arrived: {}", got.len());
    let mut silent = Vec::new();
    for &(at, v) in &changes {
        let notified = got.iter().any(|&(t, _, x)| t >= at && x >= v);
        let reported = ends.iter().any(|&t| t >= at);
        if !(notified || reported) {
            silent.push((at, v));
        }
    }
    assert!(
        silent.is_empty(),
        "seed {seed}: changes lost without a word: {silent:?} ({} changes, {} notifications, {} ends)",
        changes.len(),
        got.len(),
        ends.len()
    );
    eprintln!(
        "seed {seed}: {} changes, {} notifications delivered, {} observations ended",
        changes.len(),
        got.len(),
        ends.len()
    );
    assert!(
        changes.len() > 100,
        "the observation held most of the day: {}",
        changes.len()
    );
}

#[test]
fn a_lossy_day_loses_no_change_silently() {
    for seed in [101, 202, 303] {
        run(seed);
    }
}
