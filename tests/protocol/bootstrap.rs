//! The Bootstrap interface: the Bootstrap-Request after the hold-off, Bootstrap-Write of
//! /0 and /1 in TLV, Finish, then the Register to the server written; an inconsistent
//! Finish and bad writes that change nothing; a registered server the bootstrap drops
//! de-registered before the new one registers.

use tern::buf::Writer;
use tern::client::bootstrap::{BootstrapConfig, BOOTSTRAP_SLOT};
use tern::client::{Event, ServerConfig};
use tern::coap::{Code, MsgType};
use tern::formats::content_format as cf;
use tern::formats::tlv::{TlvEncoder, TlvKind};
use tern::formats::FormatError;
use tern::model::Value;

use super::sim::*;

const BS_URI: &str = "coap://192.0.2.100:5683";
const DM_URI: &str = "coap://192.0.2.9:5683";

/// A client with only a bootstrap account (hold-off 5 s).
fn client(seed: u64) -> Result<Sim, &'static str> {
    let bs = BootstrapConfig {
        uri: BS_URI,
        hold_off_s: 5,
        first: false,
        server_initiated: false,
    };
    Sim::with_bootstrap(seed, &[], &bs)
}

/// Runs the hold-off: the Bootstrap-Request, taken and answered 2.04.
fn bootstrap_started(sim: &mut Sim) -> Result<Dgram, &'static str> {
    sim.pump()?;
    if !sim.out.is_empty() {
        return Err("sent before the hold-off");
    }
    sim.advance(4_999)?;
    if !sim.out.is_empty() {
        return Err("sent before the hold-off");
    }
    sim.advance(5_000)?;
    let req = sim.take()?;
    if req.server != BOOTSTRAP_SLOT {
        return Err("the Bootstrap-Request is not on the bootstrap connection");
    }
    sim.answer(&req, Code::CHANGED, &[])?;
    Ok(req)
}

/// A TLV object instance `iid` with `values` (resource id, value).
fn instance<'b>(
    buf: &'b mut [u8],
    iid: u16,
    values: &[(u16, Value<'_>)],
) -> Result<&'b [u8], &'static str> {
    let mut w = Writer::new(buf);
    {
        let mut e = TlvEncoder::new(&mut w);
        let mut go = || -> Result<(), FormatError> {
            e.begin(TlvKind::ObjectInstance, iid)?;
            for (rid, v) in values {
                e.value(TlvKind::Resource, *rid, v)?;
            }
            e.end()
        };
        go().map_err(|_| "TLV encode")?;
    }
    let n = w.len();
    buf.get(..n).ok_or("length")
}

/// Security instance `iid`: a NoSec DM server `uri` with Short Server ID `ssid`.
fn security<'b>(
    buf: &'b mut [u8],
    iid: u16,
    uri: &str,
    ssid: i64,
) -> Result<&'b [u8], &'static str> {
    instance(
        buf,
        iid,
        &[
            (0, Value::String(uri)),
            (1, Value::Boolean(false)),
            (2, Value::Integer(3)),
            (3, Value::Opaque(b"id")),
            (10, Value::Integer(ssid)),
        ],
    )
}

/// Server instance `iid`: `ssid`, `lifetime`, binding U.
fn server(buf: &mut [u8], iid: u16, ssid: i64, lifetime: i64) -> Result<&[u8], &'static str> {
    instance(
        buf,
        iid,
        &[
            (0, Value::Integer(ssid)),
            (1, Value::Integer(lifetime)),
            (6, Value::Boolean(false)),
            (7, Value::String("U")),
        ],
    )
}

/// A Bootstrap-Write of `tlv` to `path`; the response code.
fn write(sim: &mut Sim, path: &'static str, tlv: &[u8]) -> Result<Code, &'static str> {
    let (d, _) = sim.request_on(BOOTSTRAP_SLOT, &Req::put(path, cf::TLV, tlv))?;
    let code = d.msg()?.code();
    Ok(code)
}

/// Bootstrap-Writes of the account for [`DM_URI`]: Security /0/1 and Server /1/0, Short
/// Server ID 201, lifetime 120 s.
fn write_account(sim: &mut Sim) -> Outcome {
    let mut b = [0u8; 128];
    ensure_eq!(
        write(sim, "/0", security(&mut b, 1, DM_URI, 201)?)?,
        Code::CHANGED
    );
    ensure_eq!(
        write(sim, "/1", server(&mut b, 0, 201, 120)?)?,
        Code::CHANGED
    );
    Ok(())
}

fn finish(sim: &mut Sim) -> Result<Dgram, &'static str> {
    sim.request_on(BOOTSTRAP_SLOT, &Req::post("/bs"))
        .map(|(d, _)| d)
}

pub fn bootstrap_request() -> Outcome {
    let mut sim = client(71)?;
    ensure!(sim.client.servers().is_empty());
    let req = bootstrap_started(&mut sim)?;
    ensure_eq!(req.at, 5_000);
    let m = req.msg()?;
    ensure_eq!(m.mtype(), MsgType::Con);
    ensure_eq!(m.code(), Code::POST);
    ensure!(path_is(&m, &["bs"]));
    ensure!(queries_are(&m, &["ep=tern-qemu-1", "pct=11542"]));
    ensure!(sim.saw(Event::ConnectionNeeded {
        server: BOOTSTRAP_SLOT
    }));
    ensure!(sim.out.is_empty());
    Ok(())
}

pub fn write_finish_register() -> Outcome {
    let mut sim = client(72)?;
    bootstrap_started(&mut sim)?;
    write_account(&mut sim)?;
    ensure!(
        sim.client.servers().is_empty(),
        "a server is live before Finish"
    );
    let done = finish(&mut sim)?;
    ensure_eq!(done.msg()?.code(), Code::CHANGED);
    ensure!(sim.saw(Event::Bootstrapped));
    {
        let s = sim
            .client
            .servers()
            .first()
            .ok_or("no server after Finish")?;
        ensure_eq!(s.uri.as_str(), DM_URI);
        ensure_eq!((s.short_id, s.lifetime_s), (201, 120));
    }
    // The new server's connection was opened: its Register follows, on its slot.
    sim.advance(sim.now + 1_000)?;
    let reg = sim.take().map_err(|_| "no Register after Finish")?;
    ensure_eq!(reg.server, 0);
    let m = reg.msg()?;
    ensure!(path_is(&m, &["rd"]));
    ensure!(queries_are(
        &m,
        &["ep=tern-qemu-1", "lt=120", "lwm2m=1.1", "b=U"]
    ));
    sim.answer(&reg, Code::CREATED, &LOCATION)?;
    ensure!(sim.saw(Event::Registered { server: 0 }));
    ensure!(sim.saw(Event::ConnectionDone {
        server: BOOTSTRAP_SLOT
    }));
    // The bootstrap server has no authority any more.
    let mut b = [0u8; 128];
    ensure_eq!(
        write(&mut sim, "/0", security(&mut b, 2, DM_URI, 202)?)?,
        Code::UNAUTHORIZED
    );
    Ok(())
}

pub fn inconsistent_finish_refused() -> Outcome {
    let mut sim = client(73)?;
    bootstrap_started(&mut sim)?;
    let mut b = [0u8; 128];
    // A Server instance without the Security instance of its Short Server ID.
    ensure_eq!(
        write(&mut sim, "/1/0", server(&mut b, 0, 202, 60)?)?,
        Code::CHANGED
    );
    let r = finish(&mut sim)?;
    ensure_eq!(r.msg()?.code(), Code::NOT_ACCEPTABLE);
    ensure!(
        sim.client.servers().is_empty(),
        "an inconsistent configuration is applied"
    );
    ensure!(!sim.saw(Event::Bootstrapped));
    // Repaired: accepted.
    ensure_eq!(
        write(&mut sim, "/0", security(&mut b, 1, DM_URI, 202)?)?,
        Code::CHANGED
    );
    ensure_eq!(finish(&mut sim)?.msg()?.code(), Code::CHANGED);
    ensure_eq!(sim.client.servers().first().map(|s| s.short_id), Some(202));
    Ok(())
}

pub fn bad_bootstrap_write_changes_nothing() -> Outcome {
    let mut sim = client(74)?;
    bootstrap_started(&mut sim)?;
    write_account(&mut sim)?;
    let mut b = [0u8; 128];
    // Malformed TLV, an unknown object, a Short Server ID out of range.
    ensure_eq!(
        write(&mut sim, "/1", &[0x08, 0x00, 0x09, 0xc1])?,
        Code::BAD_REQUEST
    );
    ensure_eq!(
        write(&mut sim, "/5/0", &[0xc1, 0x01, 0x01])?,
        Code::NOT_FOUND
    );
    ensure_eq!(
        write(&mut sim, "/1", server(&mut b, 0, 70_000, 60)?)?,
        Code::BAD_REQUEST
    );
    // Not TLV.
    let (d, _) = sim.request_on(BOOTSTRAP_SLOT, &Req::put("/1/0/1", cf::TEXT, b"60"))?;
    ensure_eq!(d.msg()?.code(), Code::UNSUPPORTED_CONTENT_FORMAT);
    // The last good configuration is what Finish installs.
    ensure_eq!(finish(&mut sim)?.msg()?.code(), Code::CHANGED);
    let s = sim.client.servers().first().ok_or("no server")?;
    ensure_eq!((s.short_id, s.lifetime_s), (201, 120));
    Ok(())
}

pub fn discover_and_delete() -> Outcome {
    let mut sim = client(75)?;
    bootstrap_started(&mut sim)?;
    write_account(&mut sim)?;
    let discover = |sim: &mut Sim, path| -> Result<Dgram, &'static str> {
        let (d, _) = sim.request_on(BOOTSTRAP_SLOT, &Req::get(path).accept(cf::LINK))?;
        Ok(d)
    };
    let d = discover(&mut sim, "/")?;
    {
        let m = d.msg()?;
        ensure_eq!(m.code(), Code::CONTENT);
        let p = m.payload();
        ensure!(contains(p, b"</>;lwm2m=\"1.1\""));
        ensure!(contains(
            p,
            b"</0/1>;ssid=201;uri=\"coap://192.0.2.9:5683\""
        ));
        ensure!(contains(p, b"</1/0>;ssid=201"));
        ensure!(contains(p, b"</3/0>"));
    }
    // Delete of everything but the bootstrap account.
    let (d, _) = sim.request_on(BOOTSTRAP_SLOT, &Req::delete("/"))?;
    ensure_eq!(d.msg()?.code(), Code::DELETED);
    let d = discover(&mut sim, "/1")?;
    ensure_eq!(d.msg()?.payload(), b"</>;lwm2m=\"1.1\"");
    let d = discover(&mut sim, "/0")?;
    ensure!(!contains(d.msg()?.payload(), b"ssid=201"));
    ensure!(contains(d.msg()?.payload(), BS_URI.as_bytes()));
    Ok(())
}

/// Registered with [`SERVER_URI`] (Short Server ID 101); the bootstrap server, listened for,
/// replaces that account with [`DM_URI`] (201): the De-register goes out first, the new
/// configuration is installed once it is answered.
pub fn dropped_server_deregisters_first() -> Outcome {
    let servers = [ServerConfig {
        uri: SERVER_URI,
        short_id: 101,
        lifetime_s: 300,
    }];
    let bs = BootstrapConfig {
        uri: BS_URI,
        hold_off_s: 5,
        first: false,
        server_initiated: true,
    };
    let mut sim = Sim::with_bootstrap(75, &servers, &bs)?;
    sim.register()?;
    let r = sim.request_on(BOOTSTRAP_SLOT, &Req::delete("/"))?.0;
    ensure_eq!(r.msg()?.code(), Code::DELETED);
    write_account(&mut sim)?;
    ensure_eq!(finish(&mut sim)?.msg()?.code(), Code::CHANGED);
    let dereg = sim.take().map_err(|_| "no De-register")?;
    ensure_eq!(dereg.server, 0);
    {
        let m = dereg.msg()?;
        ensure_eq!(m.code(), Code::DELETE);
        ensure!(path_is(&m, &LOCATION));
    }
    ensure!(
        !sim.saw(Event::Bootstrapped),
        "installed before the De-register"
    );
    ensure_eq!(sim.client.servers().first().map(|s| s.short_id), Some(101));
    sim.answer(&dereg, Code::DELETED, &[])?;
    ensure!(sim.saw(Event::Deregistered { server: 0 }));
    ensure!(sim.saw(Event::Bootstrapped));
    ensure_eq!(sim.client.servers().first().map(|s| s.short_id), Some(201));
    // The new account registers.
    sim.advance(sim.now + 1_000)?;
    let reg = sim
        .take()
        .map_err(|_| "no Register after the De-register")?;
    ensure!(queries_are(
        &reg.msg()?,
        &["ep=tern-qemu-1", "lt=120", "lwm2m=1.1", "b=U"]
    ));
    Ok(())
}
