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

/// Registers in queue mode (lifetime 60 s, margin 10 s: the Update at about 50 s), observes
/// the temperature (/3303/0/5700) and runs until the client sleeps; returns the token.
fn observed_and_asleep(sim: &mut Sim) -> Vec<u8> {
    assert!(sim.client.set_queue_mode(0, Some(AWAKE_MS)));
    sim.run_until_event(10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers");
    let mut obs = request(RequestType::Get, "/3303/0/5700");
    obs.add_option(CoapOption::Observe, vec![]);
    let first = sim.server_request(obs, sim.now + 5_000).expect("observed");
    assert_eq!(code_str(raw_code(&first)), "2.05");
    sim.run_until(20_000);
    assert_eq!(times(sim, sleeping).len(), 1, "asleep by now");
    first.get_token().to_vec()
}

/// The temperature becomes `value` and the client runs until `until`.
fn change(sim: &mut Sim, value: f64, until: u64) {
    sim.platform.objects.temp.value = value;
    sim.client
        .resource_changed(&tern::model::Path::resource(3303, 0, 5700));
    sim.run_until(until);
}

/// The notifications with `token` the client sent: (time, Observe number, payload).
fn notifications(sim: &Sim, token: &[u8]) -> Vec<(u64, u32, String)> {
    sim.datagrams(Dir::Up, Fate::Sent, notification_with(token))
        .into_iter()
        .map(|(t, b)| {
            let p = parse(&b).unwrap();
            let seq = p
                .get_option(CoapOption::Observe)
                .and_then(|v| v.front())
                .map_or(0, |v| v.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x)));
            (t, seq, String::from_utf8(p.payload).unwrap())
        })
        .collect()
}

fn dropped(sim: &Sim) -> Vec<u16> {
    sim.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::NotificationsDropped { server: 0, count } => Some(*count),
            _ => None,
        })
        .collect()
}

#[test]
fn changes_while_asleep_leave_in_order_with_their_values_after_the_wake_up_update() {
    let mut sim = Sim::new(75, NetConfig::clean(10), 60, 10);
    let token = observed_and_asleep(&mut sim);

    // Three changes while asleep: nothing leaves until the client wakes for its Update.
    change(&mut sim, 30.0, 30_000);
    change(&mut sim, 31.5, 35_000);
    change(&mut sim, 33.25, 45_000);
    let held = notifications(&sim, &token);
    assert!(held.is_empty(), "notified while asleep: {held:?}");

    sim.run_until_event(60_000, |e| matches!(e, Event::Updated { .. }))
        .expect("the Update is answered");
    sim.run_until(sim.now + 500);
    let update = sim.datagrams(Dir::Up, Fate::Sent, is_update)[0].0;
    let sent = notifications(&sim, &token);
    let values: Vec<&str> = sent.iter().map(|n| n.2.as_str()).collect();
    assert_eq!(
        values,
        ["30.0", "31.5", "33.25"],
        "each change with its value, oldest first"
    );
    for n in &sent {
        // The Update's answer arrives 20 ms after it left (10 ms each way).
        assert!(
            n.0 >= update + 20,
            "after the Update ({update}) is answered: {n:?}"
        );
    }
    assert!(
        sent.windows(2).all(|w| w[0].1 < w[1].1),
        "increasing Observe numbers: {sent:?}"
    );
    assert!(dropped(&sim).is_empty(), "nothing dropped");

    // Awake (for the awake time): a new change goes at once, after the held ones.
    let t = sim.now;
    change(&mut sim, 35.0, t + 1_000);
    let sent = notifications(&sim, &token);
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[3].2, "35.0");
    assert!(sent[3].1 > sent[2].1);
}

#[test]
fn a_request_that_wakes_the_client_lets_the_held_notifications_go() {
    let mut sim = Sim::new(81, NetConfig::clean(10), 300, 30);
    let token = observed_and_asleep(&mut sim);
    change(&mut sim, 25.5, 25_000);
    assert!(notifications(&sim, &token).is_empty());
    let rsp = sim
        .server_request(request(RequestType::Get, "/3/0/0"), sim.now + 5_000)
        .expect("answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.05");
    sim.run_until(sim.now + 100);
    let sent = notifications(&sim, &token);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].2, "25.5");
    assert!(sim.datagrams(Dir::Up, Fate::Sent, is_update).is_empty());
}

#[test]
fn a_full_queue_drops_the_oldest_keeps_the_newest_and_says_how_many() {
    let mut sim = Sim::new(77, NetConfig::clean(10), 60, 10);
    let token = observed_and_asleep(&mut sim);
    // Twelve changes do not fit TERN_NOTIFY_QUEUE_BYTES (128: about six of these).
    let values: Vec<f64> = (0..12).map(|i| 40.5 + f64::from(i)).collect();
    for (i, v) in values.iter().enumerate() {
        change(&mut sim, *v, 21_000 + 2_000 * i as u64);
    }
    let lost: u16 = dropped(&sim).iter().sum();
    assert!(lost > 0, "the queue overflowed");
    assert!(
        notifications(&sim, &token).is_empty(),
        "nothing leaves while asleep"
    );

    sim.run_until(60_000);
    let sent = notifications(&sim, &token);
    assert_eq!(
        sent.len() + usize::from(lost),
        values.len(),
        "every change either sent or counted dropped: {sent:?}"
    );
    let newest: Vec<String> = values[usize::from(lost)..]
        .iter()
        .map(|v| v.to_string())
        .collect();
    let got: Vec<String> = sent.iter().map(|n| n.2.clone()).collect();
    assert_eq!(
        got, newest,
        "the oldest were dropped, the newest kept, in order"
    );
}

#[test]
fn hqmax_bounds_what_one_observation_holds() {
    let mut sim = Sim::new(78, NetConfig::clean(10), 60, 10);
    let token = observed_and_asleep(&mut sim);
    // A Write-Attributes wakes the client; wait until it sleeps again.
    let mut wa = request(RequestType::Put, "/3303/0/5700");
    wa.add_option(CoapOption::UriQuery, b"hqmax=2".to_vec());
    let rsp = sim.server_request(wa, sim.now + 5_000).expect("answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.04");
    let t = sim.now;
    sim.run_until(t + u64::from(AWAKE_MS) + 100);
    assert_eq!(times(&sim, sleeping).len(), 2, "asleep again");

    let t = sim.now;
    for (i, v) in [1.5, 2.5, 3.5, 4.5].iter().enumerate() {
        change(&mut sim, *v, t + 1_000 * (i as u64 + 1));
    }
    assert_eq!(dropped(&sim).iter().sum::<u16>(), 2, "beyond hqmax");
    sim.run_until(60_000);
    let got: Vec<String> = notifications(&sim, &token)
        .into_iter()
        .map(|n| n.2)
        .collect();
    assert_eq!(got, ["3.5", "4.5"], "the newest two");
}

#[test]
fn confirmable_held_notifications_leave_one_at_a_time_each_acknowledged() {
    let mut sim = Sim::new(80, NetConfig::clean(10), 60, 10);
    let token = observed_and_asleep(&mut sim);
    let mut wa = request(RequestType::Put, "/3303/0/5700");
    wa.add_option(CoapOption::UriQuery, b"con=1".to_vec());
    let rsp = sim.server_request(wa, sim.now + 5_000).expect("answered");
    assert_eq!(code_str(raw_code(&rsp)), "2.04");
    let t = sim.now;
    sim.run_until(t + u64::from(AWAKE_MS) + 100);
    assert_eq!(times(&sim, sleeping).len(), 2, "asleep again");

    let t = sim.now;
    change(&mut sim, 21.5, t + 1_000);
    change(&mut sim, 22.5, t + 2_000);
    sim.run_until(60_000);
    let sent = notifications(&sim, &token);
    let got: Vec<&str> = sent.iter().map(|n| n.2.as_str()).collect();
    assert_eq!(got, ["21.5", "22.5"]);
    let types: Vec<_> = sim
        .datagrams(Dir::Up, Fate::Sent, notification_with(&token))
        .iter()
        .map(|(_, b)| parse(b).unwrap().header.get_type())
        .collect();
    assert!(
        types
            .iter()
            .all(|t| *t == coap_lite::MessageType::Confirmable),
        "{types:?}"
    );
    // The second leaves once the first is acknowledged (10 ms each way).
    assert!(sent[1].0 >= sent[0].0 + 20, "{sent:?}");
    assert!(sent[1].1 > sent[0].1);
    assert_eq!(sim.client.observations(), 1);
}

#[test]
fn a_new_registration_reports_the_notifications_it_drops() {
    let mut sim = Sim::new(79, NetConfig::clean(10), 60, 10);
    let token = observed_and_asleep(&mut sim);
    change(&mut sim, 30.0, 25_000);
    change(&mut sim, 31.0, 30_000);
    assert!(dropped(&sim).is_empty());
    // A new Register ends the observations on the server's side (and the held
    // notifications with them): the application hears how many.
    sim.client.restart(sim.now);
    sim.run_until_event(sim.now + 10_000, |e| matches!(e, Event::Registered { .. }))
        .expect("registers again");
    sim.run_until(sim.now + 1_000);
    assert_eq!(dropped(&sim), [2]);
    assert!(notifications(&sim, &token).is_empty(), "none sent");
    assert_eq!(sim.client.observations(), 0);
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
