//! The Information Reporting interface: Observe of a resource, a change notified with an
//! increasing Observe number, pmin and pmax, cancellation by RST and by Observe 1.

use tern::client::Event;
use tern::coap::{opt, Code, MsgType};
use tern::model::Path;

use super::sim::*;

const SENSOR: &str = "/3303/0/5700";

/// Observes the sensor value with token `token`; returns the Observe number of the 2.05.
fn observe(sim: &mut Sim, token: &'static [u8]) -> Result<u32, &'static str> {
    let d = sim.expect(&Req::get(SENSOR).observe(0).token(token), Code::CONTENT)?;
    let m = d.msg()?;
    if m.payload() != b"21.5" {
        return Err("the Observe response does not carry the value");
    }
    m.option_uint(opt::OBSERVE)
        .ok_or("the Observe response has no Observe option")
}

fn set_temperature(sim: &mut Sim, v: f64) {
    sim.platform.objects.temp.value = v;
    sim.client.resource_changed(&Path::resource(3303, 0, 5700));
}

/// Write-Attributes on `path`.
fn attributes(sim: &mut Sim, path: &'static str, q: &'static [&'static str]) -> Outcome {
    sim.expect(&Req::new(Code::PUT, path).queries(q), Code::CHANGED)
        .map(|_| ())
}

pub fn observe_and_notify() -> Outcome {
    let mut sim = Sim::registered(61)?;
    let s0 = observe(&mut sim, &[1])?;
    ensure_eq!(sim.client.observations(), 1);
    // Nothing changes: nothing is sent.
    sim.advance(sim.now + 100_000)?;
    ensure!(sim.out.is_empty());
    set_temperature(&mut sim, 30.25);
    sim.pump()?;
    let n = sim.take()?;
    let s1 = {
        let m = n.msg()?;
        ensure_eq!(m.mtype(), MsgType::Non);
        ensure_eq!(m.code(), Code::CONTENT);
        ensure_eq!(m.token(), &[1]);
        ensure_eq!(m.payload(), b"30.25");
        m.option_uint(opt::OBSERVE).ok_or("no Observe number")?
    };
    ensure!(s1 > s0, "the Observe number does not increase");
    ensure!(sim.out.is_empty());
    // Several changes before the client runs: one notification, a higher number.
    sim.now += 1_000;
    set_temperature(&mut sim, 18.0);
    set_temperature(&mut sim, -4.5);
    sim.pump()?;
    let n2 = sim.take()?;
    let m2 = n2.msg()?;
    ensure_eq!(m2.payload(), b"-4.5");
    ensure!(m2.option_uint(opt::OBSERVE).ok_or("no Observe number")? > s1);
    ensure!(m2.message_id() != n.msg()?.message_id());
    ensure!(sim.out.is_empty());
    Ok(())
}

pub fn pmin_respected() -> Outcome {
    let mut sim = Sim::registered(62)?;
    attributes(&mut sim, SENSOR, &["pmin=10"])?;
    let t0 = sim.now;
    observe(&mut sim, &[2])?;
    sim.now += 1_000;
    set_temperature(&mut sim, 22.0);
    ensure_eq!(sim.client.poll_timeout(), Some(t0 + 10_000));
    sim.advance(t0 + 9_999)?;
    ensure!(sim.out.is_empty(), "notified before pmin");
    sim.advance(t0 + 10_000)?;
    let n = sim.take()?;
    ensure_eq!(n.at, t0 + 10_000);
    ensure_eq!(n.msg()?.payload(), b"22.0");
    // The next change waits pmin from that notification.
    set_temperature(&mut sim, 23.0);
    sim.advance(t0 + 19_999)?;
    ensure!(sim.out.is_empty(), "notified before pmin");
    sim.advance(t0 + 20_000)?;
    ensure_eq!(sim.take()?.msg()?.payload(), b"23.0");
    Ok(())
}

pub fn pmax_forces_notification() -> Outcome {
    let mut sim = Sim::registered(63)?;
    attributes(&mut sim, "/3303", &["pmax=20"])?;
    let t0 = sim.now;
    let s0 = observe(&mut sim, &[3])?;
    sim.advance(t0 + 65_000)?;
    let mut last = s0;
    for k in 1..=3u64 {
        let n = sim.take()?;
        ensure_eq!(n.at, t0 + k * 20_000);
        let m = n.msg()?;
        ensure_eq!(m.payload(), b"21.5");
        let s = m.option_uint(opt::OBSERVE).ok_or("no Observe number")?;
        ensure!(s > last);
        last = s;
    }
    ensure!(sim.out.is_empty());
    Ok(())
}

pub fn cancel_by_reset() -> Outcome {
    let mut sim = Sim::registered(64)?;
    observe(&mut sim, &[4])?;
    set_temperature(&mut sim, 25.0);
    sim.pump()?;
    let mid = sim.take()?.msg()?.message_id();
    sim.deliver(0, &empty(MsgType::Rst, mid))?;
    ensure_eq!(sim.client.observations(), 0);
    ensure!(sim.saw(Event::ObservationEnded {
        server: 0,
        path: Path::resource(3303, 0, 5700)
    }));
    set_temperature(&mut sim, 26.0);
    sim.advance(sim.now + 10_000)?;
    ensure!(sim.out.is_empty(), "notified after the RST");
    Ok(())
}

pub fn cancel_by_observe_1() -> Outcome {
    let mut sim = Sim::registered(65)?;
    observe(&mut sim, &[5])?;
    observe(&mut sim, &[6])?;
    ensure_eq!(sim.client.observations(), 2);
    let d = sim.expect(&Req::get(SENSOR).observe(1).token(&[5]), Code::CONTENT)?;
    ensure!(d.msg()?.option_uint(opt::OBSERVE).is_none());
    ensure_eq!(sim.client.observations(), 1);
    set_temperature(&mut sim, 27.0);
    sim.pump()?;
    let n = sim.take()?;
    ensure_eq!(n.msg()?.token(), &[6]);
    ensure!(sim.out.is_empty(), "the cancelled observation notifies");
    Ok(())
}

pub fn observe_missing_path() -> Outcome {
    let mut sim = Sim::registered(66)?;
    let d = sim.expect(&Req::get("/3303/9/5700").observe(0), Code::NOT_FOUND)?;
    ensure!(d.msg()?.option_uint(opt::OBSERVE).is_none());
    sim.expect(
        &Req::get("/3303/0/5605").observe(0),
        Code::METHOD_NOT_ALLOWED,
    )?;
    ensure_eq!(sim.client.observations(), 0);
    Ok(())
}

pub fn observe_instance_in_tlv() -> Outcome {
    use tern::formats::content_format as cf;
    use tern::formats::tlv::{TlvIter, TlvKind};
    let mut sim = Sim::registered(67)?;
    let req = Req::get("/3303/0").observe(0).accept(cf::TLV).token(&[7]);
    let d = sim.expect(&req, Code::CONTENT)?;
    ensure_eq!(
        d.msg()?.option_uint(opt::CONTENT_FORMAT),
        Some(u32::from(cf::TLV))
    );
    set_temperature(&mut sim, 19.5);
    sim.pump()?;
    let n = sim.take()?;
    let m = n.msg()?;
    ensure_eq!(m.token(), &[7]);
    ensure_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(u32::from(cf::TLV)));
    // 19.5 as a 4-byte float: 0x419c0000.
    let found = TlvIter::new(m.payload()).any(|t| {
        t.is_ok_and(|t| {
            t.kind == TlvKind::Resource && t.id == 5700 && t.value == [0x41, 0x9c, 0, 0]
        })
    });
    ensure!(found, "the notification lacks the new value");
    Ok(())
}

pub fn confirmable_notification_acked() -> Outcome {
    let mut sim = Sim::registered(68)?;
    attributes(&mut sim, SENSOR, &["con=1"])?;
    observe(&mut sim, &[8])?;
    set_temperature(&mut sim, 24.0);
    sim.pump()?;
    let n = sim.take()?;
    let mid = {
        let m = n.msg()?;
        ensure_eq!(m.mtype(), MsgType::Con);
        m.message_id()
    };
    // Not acknowledged: retransmitted with the same message id.
    sim.advance(n.at + 3_000)?;
    let again = sim.take()?;
    ensure_eq!(again.msg()?.message_id(), mid);
    sim.deliver(0, &empty(MsgType::Ack, mid))?;
    sim.advance(n.at + 100_000)?;
    ensure!(sim.out.is_empty(), "retransmitted after the ACK");
    ensure_eq!(sim.client.observations(), 1);
    Ok(())
}
