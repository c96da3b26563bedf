//! Queue mode under deterministic simulation: the Register says so (`Q` in 1.1, `b=UQ` in
//! 1.0), the client sleeps once the awake time after its last exchange is over, wakes to
//! send its Update (or when the server's datagram arrives anyway), and a server writing the
//! binding switches it.

mod sim;

use coap_lite::option_value::OptionValueU16;
use coap_lite::{CoapOption, RequestType};
use sim::*;
use tern::client::{Event, Version};

const AWAKE_MS: u32 = 5_000;

fn times(sim: &Sim, pred: impl Fn(&Event) -> bool) -> Vec<u64> {
    sim.events
        .iter()
        .filter(|(_, e)| pred(e))
        .map(|(t, _)| *t)
        .collect()
}

fn sleeping(e: &Event) -> bool {
    matches!(e, Event::Sleeping { server: 0 })
}

fn awake(e: &Event) -> bool {
    matches!(e, Event::Awake { server: 0 })
}

/// The times of the datagrams the client sent, and of those the server sent.
fn traffic(sim: &Sim, dir: Dir) -> Vec<u64> {
    sim.datagrams(dir, Fate::Sent, |_| true)
        .iter()
        .map(|d| d.0)
        .collect()
}

#[test]
fn the_client_sleeps_after_the_awake_time_and_wakes_for_its_update() {
    // Lifetime 60 s, margin 10 s: an Update every 50 s.
    let mut sim = Sim::new(71, NetConfig::clean(10), 60, 10);
    assert!(sim.client.set_queue_mode(0, Some(AWAKE_MS)));
    sim.run_until(120_000);

    let register = &sim.datagrams(Dir::Up, Fate::Sent, is_register)[0].1;
    let q = uri_query(&parse(register).unwrap());
    assert!(
        q.contains(&"b=U".to_string()) && q.contains(&"Q".to_string()),
        "{q:?}"
    );

    // Asleep exactly the awake time after the last datagram of each exchange, awake
    // again when the Update leaves.
    let sleeps = times(&sim, sleeping);
    let wakes = times(&sim, awake);
    let updates: Vec<u64> = sim
        .datagrams(Dir::Up, Fate::Sent, is_update)
        .iter()
        .map(|d| d.0)
        .collect();
    assert_eq!(updates.len(), 2, "updates at {updates:?}");
    assert_eq!(wakes, updates, "the client wakes for each Update");
    assert_eq!(
        sleeps.len(),
        3,
        "after the Register and after each Update: {sleeps:?}"
    );
    let down = traffic(&sim, Dir::Down);
    let up = traffic(&sim, Dir::Up);
    for &s in &sleeps {
        let arrivals = down.iter().map(|t| t + 10);
        let last = up
            .iter()
            .copied()
            .chain(arrivals)
            .filter(|&t| t <= s)
            .max()
            .unwrap();
        assert_eq!(
            s - last,
            u64::from(AWAKE_MS),
            "slept at {s}, last datagram at {last}"
        );
    }
    // Nothing goes out while asleep.
    for w in sleeps.iter().zip(wakes.iter()) {
        assert!(
            !up.iter().any(|&t| t > *w.0 && t < *w.1),
            "traffic while asleep: {w:?}"
        );
    }
}

#[test]
fn a_request_that_arrives_anyway_wakes_the_client_and_is_answered() {
    let mut sim = Sim::new(72, NetConfig::clean(10), 300, 30);
    assert!(sim.client.set_queue_mode(0, Some(AWAKE_MS)));
    sim.run_until(10_000);
    assert_eq!(times(&sim, sleeping).len(), 1);
    let rsp = sim
        .server_request(request(RequestType::Get, "/3/0/0"), sim.now + 10_000)
        .expect("answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.05");
    assert_eq!(times(&sim, awake).len(), 1, "woken by the request");
    let t = sim.now;
    sim.run_until(t + 20_000);
    assert_eq!(
        times(&sim, sleeping).len(),
        2,
        "asleep again after the awake time"
    );
}

#[test]
fn without_queue_mode_the_client_never_sleeps() {
    let mut sim = Sim::new(73, NetConfig::clean(10), 60, 10);
    sim.run_until(120_000);
    assert!(times(&sim, sleeping).is_empty() && times(&sim, awake).is_empty());
    let register = &sim.datagrams(Dir::Up, Fate::Sent, is_register)[0].1;
    assert!(!uri_query(&parse(register).unwrap()).contains(&"Q".to_string()));
}

#[test]
fn a_server_writing_the_binding_switches_queue_mode_and_1_0_says_uq() {
    let mut sim = Sim::new(74, NetConfig::clean(10), 300, 30);
    sim.client = new_client_version(300, 30, 5, Version::V1_0);
    sim.run_until_event(10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    let mut w = request(RequestType::Put, "/1/0/7");
    w.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
    w.payload = b"UQ".to_vec();
    let rsp = sim.server_request(w, sim.now + 10_000).expect("answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.04");
    sim.run_until(sim.now + 200_000);
    let update = &sim.datagrams(Dir::Up, Fate::Sent, is_update)[0].1;
    assert!(uri_query(&parse(update).unwrap()).contains(&"b=UQ".to_string()));
    assert!(
        !times(&sim, sleeping).is_empty(),
        "queue mode with the default awake time"
    );
    let first_sleep = times(&sim, sleeping)[0];
    let arrivals = traffic(&sim, Dir::Down).into_iter().map(|t| t + 10);
    let last = traffic(&sim, Dir::Up)
        .into_iter()
        .chain(arrivals)
        .filter(|&t| t <= first_sleep)
        .max()
        .unwrap();
    assert_eq!(
        first_sleep - last,
        93_000,
        "MAX_TRANSMIT_WAIT after the last datagram"
    );
}

/// True for a notification (a 2.05 with Observe, not the Observe's ACK) carrying `token`.
fn notification_with(token: &[u8]) -> impl Fn(&[u8]) -> bool + '_ {
    move |b: &[u8]| {
        parse(b).is_some_and(|p| {
            p.get_token() == token
                && p.header.get_type() != coap_lite::MessageType::Acknowledgement
                && p.get_option(CoapOption::Observe).is_some()
                && code_str(raw_code(&p)) == "2.05"
        })
    }
}

#[test]
fn changes_while_asleep_are_notified_once_with_the_next_update() {
    // Lifetime 60 s, margin 10 s: the Update at about 50 s.
    let mut sim = Sim::new(75, NetConfig::clean(10), 60, 10);
    assert!(sim.client.set_queue_mode(0, Some(AWAKE_MS)));
    sim.run_until_event(10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    let mut obs = request(RequestType::Get, "/3303/0/5700");
    obs.add_option(CoapOption::Observe, vec![]);
    let first = sim.server_request(obs, sim.now + 5_000).expect("observed");
    assert_eq!(code_str(raw_code(&first)), "2.05");
    let token = first.get_token().to_vec();
    sim.run_until(20_000);
    assert_eq!(times(&sim, sleeping).len(), 1, "asleep by now");

    // Two changes while asleep: nothing leaves until the client wakes for its Update.
    let path = tern::model::Path::resource(3303, 0, 5700);
    sim.platform.objects.temp.value = 30.0;
    sim.client.resource_changed(&path);
    sim.run_until(30_000);
    sim.platform.objects.temp.value = 31.5;
    sim.client.resource_changed(&path);
    sim.run_until(45_000);
    let held = sim.datagrams(Dir::Up, Fate::Sent, notification_with(&token));
    assert!(held.is_empty(), "notified while asleep: {held:?}");

    sim.run_until(60_000);
    let update = sim.datagrams(Dir::Up, Fate::Sent, is_update)[0].0;
    let sent = sim.datagrams(Dir::Up, Fate::Sent, notification_with(&token));
    assert_eq!(sent.len(), 1, "the two changes give one notification");
    assert!(
        sent[0].0 >= update,
        "with the Update ({update}), not before: {}",
        sent[0].0
    );
    assert_eq!(
        parse(&sent[0].1).unwrap().payload,
        b"31.5",
        "the latest value"
    );
}

#[test]
fn a_new_registration_tells_the_application_of_each_observation_it_ends() {
    let mut sim = Sim::new(76, NetConfig::clean(10), 300, 30);
    sim.run_until_event(10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    let mut obs = request(RequestType::Get, "/3303/0/5700");
    obs.add_option(CoapOption::Observe, vec![]);
    assert!(sim.server_request(obs, sim.now + 5_000).is_some());
    assert_eq!(sim.client.observations(), 1);
    sim.client.restart(sim.now);
    sim.run_until_event(sim.now + 10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers again");
    assert_eq!(sim.client.observations(), 0);
    assert!(sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::ObservationEnded { server: 0, .. })));
}
