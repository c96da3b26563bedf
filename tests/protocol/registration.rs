//! The Registration interface: Register (query and object links), the 2.01's Location,
//! the Update before the lifetime ends, De-register, retry after a lost Register, a
//! refusal, and a failed Update.

use tern::client::{Event, Version};
use tern::coap::{opt, Code, MsgType};
use tern::formats::content_format as cf;

use super::sim::*;

pub fn register_query_and_links() -> Outcome {
    let mut sim = Sim::new(31, 300, 30, Version::V1_1)?;
    ensure_eq!(
        sim.client.poll_event(),
        Some(Event::ConnectionNeeded { server: 0 })
    );
    ensure!(
        sim.client.poll_transmit(0, &mut sim.platform).is_none(),
        "sent before the connection opened"
    );
    sim.client.connection_opened(0);
    sim.pump()?;
    let reg = sim.take()?;
    let m = reg.msg()?;
    ensure_eq!(m.mtype(), MsgType::Con);
    ensure_eq!(m.code(), Code::POST);
    ensure!(path_is(&m, &["rd"]));
    ensure!(queries_are(
        &m,
        &["ep=tern-qemu-1", "lt=300", "lwm2m=1.1", "b=U"]
    ));
    ensure_eq!(
        m.option_uint(opt::CONTENT_FORMAT),
        Some(u32::from(cf::LINK))
    );
    ensure_eq!(
        m.payload(),
        &br#"</>;rt="oma.lwm2m";ct="110 112 11542 11543 11544",</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>"#[..]
    );
    ensure!(
        !contains(m.payload(), b"</0"),
        "the Security object is announced"
    );
    ensure!(sim.out.is_empty());
    Ok(())
}

pub fn register_1_0() -> Outcome {
    let mut sim = Sim::new(32, 86_400, 60, Version::V1_0)?;
    sim.pump()?;
    let reg = sim.take()?;
    let m = reg.msg()?;
    ensure!(queries_are(
        &m,
        &["ep=tern-qemu-1", "lt=86400", "lwm2m=1.0", "b=U"]
    ));
    ensure_eq!(m.payload(), &b"</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>"[..]);
    Ok(())
}

pub fn location_used_by_update() -> Outcome {
    let mut sim = Sim::registered(33)?;
    sim.client.update(false);
    sim.pump()?;
    let upd = sim.take()?;
    {
        let m = upd.msg()?;
        ensure_eq!(m.code(), Code::POST);
        ensure!(path_is(&m, &LOCATION));
        ensure!(queries_are(&m, &[]));
        ensure!(m.payload().is_empty());
    }
    sim.answer(&upd, Code::CHANGED, &[])?;
    ensure!(sim.saw(Event::Updated { server: 0 }));
    // With the object list changed, the Update carries it in link format.
    sim.client.update(true);
    sim.pump()?;
    let upd = sim.take()?;
    let m = upd.msg()?;
    ensure!(path_is(&m, &LOCATION));
    ensure_eq!(
        m.option_uint(opt::CONTENT_FORMAT),
        Some(u32::from(cf::LINK))
    );
    ensure!(contains(m.payload(), b"</3303/0>"));
    Ok(())
}

pub fn update_before_lifetime_ends() -> Outcome {
    let mut sim = Sim::new(34, 60, 10, Version::V1_1)?;
    sim.register()?;
    let t0 = sim.now;
    // Lifetime 60 s, margin 10 s: the Update at 50 s, not before.
    sim.advance(t0 + 49_999)?;
    ensure!(sim.out.is_empty(), "an Update before lifetime - margin");
    sim.advance(t0 + 50_000)?;
    let upd = sim.take()?;
    ensure_eq!(upd.at, t0 + 50_000);
    ensure!(path_is(&upd.msg()?, &LOCATION));
    sim.answer(&upd, Code::CHANGED, &[])?;
    ensure!(sim.saw(Event::Updated { server: 0 }));
    // The next one 50 s after the answer.
    let t1 = sim.now;
    sim.advance(t1 + 50_000)?;
    let again = sim.take()?;
    ensure_eq!(again.at, t1 + 50_000);
    ensure!(again.msg()?.message_id() != upd.msg()?.message_id());
    Ok(())
}

pub fn deregister() -> Outcome {
    let mut sim = Sim::registered(35)?;
    sim.client.deregister();
    sim.pump()?;
    let d = sim.take()?;
    {
        let m = d.msg()?;
        ensure_eq!(m.mtype(), MsgType::Con);
        ensure_eq!(m.code(), Code::DELETE);
        ensure!(path_is(&m, &LOCATION));
    }
    ensure!(!sim.client.is_idle());
    sim.answer(&d, Code::DELETED, &[])?;
    ensure!(sim.saw(Event::Deregistered { server: 0 }));
    ensure!(sim.saw(Event::ConnectionDone { server: 0 }));
    ensure!(sim.client.is_idle());
    // Nothing more is sent, however long it runs.
    sim.advance(sim.now + 1_000_000)?;
    ensure!(sim.out.is_empty());
    Ok(())
}

pub fn retry_after_lost_register() -> Outcome {
    let mut sim = Sim::new(36, 300, 30, Version::V1_1)?;
    sim.pump()?;
    let first = sim.take()?;
    // Every transmission lost: the Register fails within 93 s, then waits 60 s.
    sim.advance(100_000)?;
    ensure_eq!(sim.out.len(), 4);
    sim.clear_out();
    let failed_at = sim
        .events
        .iter()
        .find(|(_, e)| matches!(e, Event::RegistrationRetry { .. }))
        .map(|(t, _)| *t)
        .ok_or("no RegistrationRetry")?;
    sim.advance(failed_at + 60_000)?;
    let again = sim.take()?;
    ensure_eq!(again.at, failed_at + 60_000);
    {
        let m = again.msg()?;
        let f = first.msg()?;
        ensure!(path_is(&m, &["rd"]));
        ensure!(m.message_id() != f.message_id());
        ensure!(m.token() != f.token());
    }
    // This one is answered: registered.
    sim.answer(&again, Code::CREATED, &LOCATION)?;
    ensure!(sim.saw(Event::Registered { server: 0 }));
    ensure!(sim.client.servers()[0].reg.is_registered());
    Ok(())
}

pub fn register_rejected() -> Outcome {
    let mut sim = Sim::new(37, 300, 30, Version::V1_1)?;
    sim.pump()?;
    let reg = sim.take()?;
    sim.answer(&reg, Code::FORBIDDEN, &[])?;
    ensure!(sim.saw(Event::RegistrationRejected {
        server: 0,
        code: Code::FORBIDDEN
    }));
    sim.advance(1_000_000)?;
    ensure!(sim.out.is_empty(), "a refused Register is retried");
    ensure!(sim.client.is_idle());
    // Restarted by the application: a new Register.
    sim.client.restart(sim.now);
    sim.pump()?;
    ensure!(path_is(&sim.take()?.msg()?, &["rd"]));
    Ok(())
}

pub fn failed_update_registers_again() -> Outcome {
    let mut sim = Sim::registered(38)?;
    sim.client.update(false);
    sim.pump()?;
    let upd = sim.take()?;
    sim.answer(&upd, Code::NOT_FOUND, &[])?;
    ensure!(sim.saw(Event::UpdateFailed { server: 0 }));
    let reg = sim
        .take()
        .map_err(|_| "no Register after a failed Update")?;
    ensure!(path_is(&reg.msg()?, &["rd"]));
    Ok(())
}

pub fn lost_update_registers_again() -> Outcome {
    let mut sim = Sim::registered(39)?;
    sim.client.update(false);
    sim.pump()?;
    let upd = sim.take()?;
    let mid = upd.msg()?.message_id();
    // Every transmission of the Update lost: UpdateFailed, then a new Register at once.
    let t0 = sim.now;
    sim.advance(t0 + 100_000)?;
    for _ in 0..4 {
        let again = sim.take()?;
        ensure_eq!(again.msg()?.message_id(), mid);
        ensure!(path_is(&again.msg()?, &LOCATION));
    }
    ensure!(sim.saw(Event::UpdateFailed { server: 0 }));
    let reg = sim
        .take()
        .map_err(|_| "no Register after the lost Update")?;
    ensure!(path_is(&reg.msg()?, &["rd"]));
    sim.answer(&reg, Code::CREATED, &LOCATION)?;
    ensure!(sim.client.servers()[0].reg.is_registered());
    Ok(())
}
