//! Persistence: the state a reboot must not lose (Server object resources, the registration
//! Location, Access Control instances) saved as a checksummed record in two slots, and
//! loaded back whole or not at all, under deterministic simulation.

mod sim;

use coap_lite::option_value::OptionValueU16;
use coap_lite::{CoapOption, RequestType};
use sim::*;
use tern::client::persist::{MemSlots as Slots, Reject, Restored, Store};
use tern::client::{Client, Event};

/// A store whose writes all fail.
struct Broken;

impl Store for Broken {
    fn write(&mut self, _: u8, _: u32, _: &[u8]) -> bool {
        false
    }
    fn read(&mut self, _: u8, _: u32, _: &mut [u8]) -> bool {
        false
    }
}

fn write_text(sim: &mut Sim, path: &str, value: &str) -> String {
    let mut w = request(RequestType::Put, path);
    w.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
    w.payload = value.as_bytes().to_vec();
    let rsp = sim.server_request(w, sim.now + 10_000).expect("answered");
    code_str(raw_code(&rsp))
}

fn fresh() -> Client {
    new_client(300, 30, 7)
}

fn lifetime(c: &Client) -> u32 {
    c.servers()[0].lifetime_s
}

/// A client whose lifetime is `lt`, saved into `slots`.
fn save_with_lifetime(c: &mut Client, slots: &mut Slots, lt: &str) {
    let v = tern::model::Value::Integer(lt.parse().unwrap());
    c.set_server_resource(0, 1, &v).unwrap();
    assert!(c.save_state(slots));
}

#[test]
fn a_server_write_and_the_location_survive_a_restart() {
    let mut sim = registered_sim(61, 300, 30);
    assert!(
        sim.client.state_changed(),
        "a new Location is state to keep"
    );
    let mut slots = Slots::default();
    assert!(sim.client.save_state(&mut slots));
    assert!(!sim.client.state_changed());

    assert_eq!(write_text(&mut sim, "/1/0/1", "120"), "2.04");
    assert_eq!(write_text(&mut sim, "/1/0/3", "77"), "2.04");
    assert!(sim.client.state_changed(), "a Write to the Server object");
    assert!(sim.client.save_state(&mut slots));
    assert!(
        slots.0.iter().all(|s| !s.is_empty()),
        "one record in each slot"
    );
    // A read changes nothing that is kept.
    sim.server_request(request(RequestType::Get, "/3/0/0"), sim.now + 10_000);
    assert!(!sim.client.state_changed());

    // "Reboot": a client from the factory configuration loads the newer record.
    let mut restarted = fresh();
    assert_eq!(
        restarted.restore_state(&mut slots),
        Restored::Applied { sequence: 2 }
    );
    assert_eq!(lifetime(&restarted), 120);
    assert_eq!(restarted.servers()[0].default_pmax, 77);

    // With the saved Location, it starts with an Update, which the server knows.
    let registers = sim.datagrams(Dir::Up, Fate::Sent, is_register).len();
    sim.client = restarted;
    sim.run_until_event(sim.now + 20_000, |e| {
        matches!(e, Event::Updated { server: 0 })
    })
    .expect("the Update on the saved Location succeeds");
    assert_eq!(
        sim.datagrams(Dir::Up, Fate::Sent, is_register).len(),
        registers,
        "no new Register"
    );
    let updates = sim.datagrams(Dir::Up, Fate::Sent, is_update);
    let last = parse(&updates.last().unwrap().1).unwrap();
    assert!(
        uri_query(&last).iter().any(|q| q == "lt=120"),
        "the Update carries the restored lifetime: {:?}",
        uri_query(&last)
    );
}

#[test]
fn a_saved_location_the_server_forgot_leads_to_a_new_register() {
    let mut sim = registered_sim(62, 300, 30);
    let mut slots = Slots::default();
    assert!(sim.client.save_state(&mut slots));
    // A different server, which never saw this registration: the Update fails and the
    // client registers again.
    let mut other = Sim::new(63, NetConfig::clean(10), 300, 30);
    let mut restarted = fresh();
    assert!(matches!(
        restarted.restore_state(&mut slots),
        Restored::Applied { .. }
    ));
    other.client = restarted;
    other
        .run_until_event(20_000, |e| matches!(e, Event::Registered { server: 0 }))
        .expect("registers after the failed Update");
    assert!(other
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::UpdateFailed { .. })));
}

/// The record is cut at every byte offset of a save over the older record: the client
/// loads either the previous state or the new one, never a mix, never nothing.
#[test]
fn a_power_cut_at_every_byte_keeps_the_old_or_the_new_state() {
    let mut c = fresh();
    let mut slots = Slots::default();
    save_with_lifetime(&mut c, &mut slots, "100"); // sequence 1, slot 0
    save_with_lifetime(&mut c, &mut slots, "150"); // sequence 2, slot 1
    let before = slots.clone();
    save_with_lifetime(&mut c, &mut slots, "200"); // sequence 3, slot 0, over sequence 1
    let new = slots.0[0].clone();
    let old = before.0[0].clone();
    assert_eq!(new.len(), old.len(), "same layout, same length");
    for cut in 0..=new.len() {
        // The bytes up to the cut are the new record's, the rest still the old one's.
        let mut torn = before.clone();
        torn.0[0][..cut].copy_from_slice(&new[..cut]);
        let mut r = fresh();
        let got = r.restore_state(&mut torn);
        let lt = lifetime(&r);
        if cut == new.len() {
            assert_eq!((got, lt), (Restored::Applied { sequence: 3 }, 200));
        } else {
            assert_eq!(
                (got, lt),
                (Restored::Applied { sequence: 2 }, 150),
                "cut after {cut} of {} bytes",
                new.len()
            );
        }
        // Cut while the slot was erased first (flash): the same.
        let mut erased = before.clone();
        erased.0[0] = new[..cut].to_vec();
        let mut r = fresh();
        let got = r.restore_state(&mut erased);
        let want = if cut == new.len() { (3, 200) } else { (2, 150) };
        assert_eq!(
            (got, lifetime(&r)),
            (Restored::Applied { sequence: want.0 }, want.1)
        );
    }
}

/// Recomputes the CRC-32 trailer of a record after a test changed it.
fn reseal(record: &mut [u8]) {
    let n = record.len() - 4;
    let mut crc = !0u32;
    for &b in &record[..n] {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    record[n..].copy_from_slice(&(!crc).to_le_bytes());
}

#[test]
fn damaged_foreign_or_unusable_records_are_refused_and_nothing_changes() {
    let mut c = fresh();
    let mut slots = Slots::default();
    save_with_lifetime(&mut c, &mut slots, "100");
    let good = slots.0[0].clone();

    // A flipped bit anywhere: the checksum fails.
    for i in [0, 5, 7, 12, good.len() / 2, good.len() - 1] {
        let mut bad = Slots::default();
        bad.0[0] = good.clone();
        bad.0[0][i] ^= 0x10;
        let mut r = fresh();
        assert_eq!(
            r.restore_state(&mut bad),
            Restored::Rejected(Reject::Corrupt),
            "byte {i}"
        );
        assert_eq!(lifetime(&r), 300, "factory lifetime kept");
    }
    // Another format version, correctly sealed.
    let mut other = good.clone();
    other[4] = 99;
    reseal(&mut other);
    let mut r = fresh();
    assert_eq!(
        r.restore_state(&mut Slots([other, Vec::new()])),
        Restored::Rejected(Reject::Version)
    );
    // A Lifetime of 0 (item 1, after the 12-byte header, 3-byte item head, 2-byte id).
    let mut zero = good.clone();
    zero[17..21].copy_from_slice(&0u32.to_le_bytes());
    reseal(&mut zero);
    let mut r = fresh();
    assert_eq!(
        r.restore_state(&mut Slots([zero, Vec::new()])),
        Restored::Rejected(Reject::Content)
    );
    assert_eq!(lifetime(&r), 300);
    // A length past the end of the slot.
    let mut long = good.clone();
    long[6] = 0xFF;
    let mut r = fresh();
    assert_eq!(
        r.restore_state(&mut Slots([long, Vec::new()])),
        Restored::Rejected(Reject::Corrupt)
    );
    // Nothing stored, or erased flash: the factory settings, no complaint.
    let mut r = fresh();
    assert_eq!(r.restore_state(&mut Slots::default()), Restored::Empty);
    let erased = Slots([vec![0xFF; 64], vec![0xFF; 64]]);
    assert_eq!(r.restore_state(&mut erased.clone()), Restored::Empty);
}

#[test]
fn a_failed_store_keeps_the_last_good_record_as_the_one_to_replace() {
    let mut c = fresh();
    let mut slots = Slots::default();
    save_with_lifetime(&mut c, &mut slots, "100"); // slot 0
    c.set_server_resource(0, 1, &tern::model::Value::Integer(130))
        .unwrap();
    assert!(!c.save_state(&mut Broken));
    // The next save still goes to slot 1, never over the last good record in slot 0.
    save_with_lifetime(&mut c, &mut slots, "140");
    let mut r = fresh();
    assert_eq!(
        r.restore_state(&mut slots),
        Restored::Applied { sequence: 2 }
    );
    assert_eq!(lifetime(&r), 140);
    assert_eq!(slots.0[1].len(), slots.0[0].len());
}

#[test]
fn access_control_instances_are_kept() {
    let mut c = fresh();
    c.access_control().set(3303, 0, 101, 0x01).unwrap();
    c.access_control().set(3303, 0, 0, 0x03).unwrap();
    c.access_control().set_owner(3303, 0, 101).unwrap();
    let mut slots = Slots::default();
    assert!(c.save_state(&mut slots));
    let mut r = fresh();
    // A factory ACL set before the load is replaced by the saved table.
    r.access_control().set(3304, 0, 101, 0x01).unwrap();
    assert!(matches!(
        r.restore_state(&mut slots),
        Restored::Applied { .. }
    ));
    assert!(r.access_control().allows(3303, 0, 101, 0x01));
    assert!(
        !r.access_control().allows(3303, 0, 101, 0x02),
        "server 101's own entry"
    );
    assert!(
        r.access_control().allows(3303, 0, 7, 0x02),
        "the default entry"
    );
    assert!(
        !r.access_control().allows(3304, 0, 7, 0x01),
        "the factory ACL is gone"
    );
}

#[test]
fn queue_mode_comes_back_with_the_binding() {
    let mut c = fresh();
    assert!(c.set_queue_mode(0, Some(5_000)));
    let mut slots = Slots::default();
    assert!(c.save_state(&mut slots));
    let mut r = fresh();
    assert!(matches!(
        r.restore_state(&mut slots),
        Restored::Applied { .. }
    ));
    assert!(r.servers()[0].queue_mode());
    assert_eq!(r.servers()[0].awake_ms, 93_000, "the default awake time");
    assert_eq!(r.servers()[0].binding(), "UQ");
}
