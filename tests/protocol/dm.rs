//! The Device Management interface on a registered client: Read (TLV, text, every record
//! format), Write, Execute, Create, Delete, Discover, and the error codes 4.00, 4.04,
//! 4.05 and 4.15, a failed Write changing nothing.

use tern::coap::{opt, Code};
use tern::formats::content_format as cf;
use tern::formats::records::Decoder;
use tern::formats::tlv::{TlvIter, TlvKind};
use tern::model::{Path, ResourceType, Value};

use super::sim::*;

pub fn read_device_tlv() -> Outcome {
    let mut sim = Sim::registered(41)?;
    let d = sim.expect(&Req::get("/3/0").accept(cf::TLV), Code::CONTENT)?;
    let m = d.msg()?;
    ensure_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(u32::from(cf::TLV)));
    // An instance's resources at the top level.
    let mut seen = 0;
    for t in TlvIter::new(m.payload()) {
        let t = t.map_err(|_| "bad TLV resource")?;
        match (t.kind, t.id) {
            (TlvKind::Resource, 0) => ensure_eq!(t.value, MANUFACTURER.as_bytes()),
            (TlvKind::Resource, 1) => ensure_eq!(t.value, b"qemu-1"),
            (TlvKind::Resource, 2) => ensure_eq!(t.value, b"0001"),
            (TlvKind::Resource, 3) => ensure_eq!(t.value, b"0.1.0"),
            (_, 4 | 5 | 12) => return Err("an executable resource is read"),
            (TlvKind::ObjectInstance | TlvKind::ResourceInstance, _) => {
                return Err("an entry of the wrong kind")
            }
            _ => {}
        }
        seen += 1;
    }
    ensure!(seen >= 4);
    // The object: its one instance wraps the same resources.
    let d = sim.expect(&Req::get("/3").accept(cf::TLV), Code::CONTENT)?;
    let m = d.msg()?;
    let mut top = TlvIter::new(m.payload());
    let inst = top.next().ok_or("empty payload")?.map_err(|_| "bad TLV")?;
    ensure_eq!((inst.kind, inst.id), (TlvKind::ObjectInstance, 0));
    ensure!(top.next().is_none());
    ensure_eq!(TlvIter::new(inst.value).count(), seen);
    Ok(())
}

pub fn read_resource_text() -> Outcome {
    let mut sim = Sim::registered(42)?;
    let d = sim.expect(&Req::get("/3/0/0"), Code::CONTENT)?;
    let m = d.msg()?;
    ensure_eq!(
        m.option_uint(opt::CONTENT_FORMAT),
        Some(u32::from(cf::TEXT))
    );
    ensure_eq!(m.payload(), MANUFACTURER.as_bytes());
    let d = sim.expect(&Req::get("/3303/0/5700"), Code::CONTENT)?;
    ensure_eq!(d.msg()?.payload(), b"21.5");
    // An Accept the client cannot produce: 4.06.
    sim.expect(&Req::get("/3/0/0").accept(9999), Code::NOT_ACCEPTABLE)?;
    Ok(())
}

pub fn read_in_every_format() -> Outcome {
    let mut sim = Sim::registered(43)?;
    for format in [cf::SENML_JSON, cf::SENML_CBOR, cf::LWM2M_CBOR, cf::JSON] {
        let d = sim.expect(&Req::get("/3303/0").accept(format), Code::CONTENT)?;
        let m = d.msg()?;
        ensure_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(u32::from(format)));
        let dec = Decoder::new(format, m.payload())
            .ok_or("format")?
            .map_err(|_| "the payload does not decode")?;
        let mut found = false;
        let mut scratch = [0u8; 32];
        for rec in Decoder::new(format, m.payload())
            .ok_or("format")?
            .map_err(|_| "decoder")?
        {
            let rec = rec.map_err(|_| "a record does not decode")?;
            if rec.path == Path::resource(3303, 0, 5700) {
                let raw = rec.value.ok_or("no value")?;
                ensure_eq!(
                    dec.value(raw, ResourceType::Float, &mut scratch),
                    Ok(Value::Float(21.5))
                );
                found = true;
            }
        }
        ensure!(found, "the sensor value is missing");
    }
    Ok(())
}

pub fn write_then_read() -> Outcome {
    let mut sim = Sim::registered(44)?;
    sim.expect(&Req::put("/3303/0/5701", cf::TEXT, b"K"), Code::CHANGED)?;
    ensure_eq!(sim.platform.objects.temp.units.as_str(), "K");
    let d = sim.expect(&Req::get("/3303/0/5701"), Code::CONTENT)?;
    ensure_eq!(d.msg()?.payload(), b"K");
    // A partial update (POST) of the instance in TLV: resource 5900.
    let tlv = [0xe1, 0x17, 0x0c, 0x2d];
    sim.expect(&Req::post("/3303/0").body(cf::TLV, &tlv), Code::CHANGED)?;
    ensure_eq!(sim.platform.objects.temp.interval, 45);
    ensure_eq!(sim.platform.objects.temp.units.as_str(), "K");
    Ok(())
}

pub fn write_bad_value_changes_nothing() -> Outcome {
    let mut sim = Sim::registered(45)?;
    sim.expect(
        &Req::put("/3303/0/5900", cf::TEXT, b"12x"),
        Code::BAD_REQUEST,
    )?;
    ensure_eq!(sim.platform.objects.temp.interval, 60);
    // Malformed TLV: a length past the end.
    sim.expect(
        &Req::put("/3303/0/5900", cf::TLV, &[0xc4, 0x17, 0x01]),
        Code::BAD_REQUEST,
    )?;
    ensure_eq!(sim.platform.objects.temp.interval, 60);
    // A good resource, then a bad one in the same Write: neither is stored.
    let both = [
        0xe3, 0x16, 0x45, b'a', b'b', b'c', 0xe3, 0x17, 0x0c, 0x01, 0x02, 0x03,
    ];
    sim.expect(
        &Req::post("/3303/0").body(cf::TLV, &both),
        Code::BAD_REQUEST,
    )?;
    ensure_eq!(sim.platform.objects.temp.units.as_str(), "Cel");
    ensure_eq!(sim.platform.objects.temp.interval, 60);
    ensure_eq!(sim.platform.objects.temp.writes, 0);
    Ok(())
}

pub fn write_read_only_not_allowed() -> Outcome {
    let mut sim = Sim::registered(46)?;
    sim.expect(
        &Req::put("/3/0/0", cf::TEXT, b"evil"),
        Code::METHOD_NOT_ALLOWED,
    )?;
    sim.expect(
        &Req::put("/3303/0/5700", cf::TEXT, b"1.5"),
        Code::METHOD_NOT_ALLOWED,
    )?;
    ensure_eq!(sim.platform.objects.temp.value, 21.5);
    let d = sim.expect(&Req::get("/3/0/0"), Code::CONTENT)?;
    ensure_eq!(d.msg()?.payload(), MANUFACTURER.as_bytes());
    Ok(())
}

pub fn write_unsupported_format() -> Outcome {
    let mut sim = Sim::registered(47)?;
    sim.expect(
        &Req::put("/3303/0/5701", 9999, b"K"),
        Code::UNSUPPORTED_CONTENT_FORMAT,
    )?;
    ensure_eq!(sim.platform.objects.temp.units.as_str(), "Cel");
    Ok(())
}

pub fn execute() -> Outcome {
    let mut sim = Sim::registered(48)?;
    sim.expect(&Req::post("/3303/0/5605"), Code::CHANGED)?;
    sim.expect(
        &Req::post("/3303/0/5605").body(cf::TEXT, b"0='x'"),
        Code::CHANGED,
    )?;
    ensure_eq!(sim.platform.objects.temp.executions, 2);
    // Reboot of the Device object: answered, then reported to the application.
    sim.expect(&Req::post("/3/0/4"), Code::CHANGED)?;
    ensure!(sim.platform.objects.device.take_reboot_request());
    Ok(())
}

pub fn execute_not_executable() -> Outcome {
    let mut sim = Sim::registered(49)?;
    sim.expect(&Req::post("/3303/0/5700"), Code::METHOD_NOT_ALLOWED)?;
    // Read of an executable resource, Execute of an instance.
    sim.expect(&Req::get("/3303/0/5605"), Code::METHOD_NOT_ALLOWED)?;
    ensure_eq!(sim.platform.objects.temp.executions, 0);
    // Execute with a malformed argument list: 4.00.
    sim.expect(
        &Req::post("/3303/0/5605").body(cf::TEXT, b"0='x"),
        Code::BAD_REQUEST,
    )?;
    ensure_eq!(sim.platform.objects.temp.executions, 0);
    Ok(())
}

pub fn not_found() -> Outcome {
    let mut sim = Sim::registered(50)?;
    for path in ["/9999", "/3303/9", "/3303/0/1234", "/3/1/0", "/3303/9/5605"] {
        let code = if path.ends_with("5605") {
            Code::POST
        } else {
            Code::GET
        };
        sim.expect(&Req::new(code, path), Code::NOT_FOUND)?;
    }
    // A path that is not a path (a non-numeric segment): 4.00 or 4.04, never 2.xx.
    let d = sim.request(&Req::get("/3/zero"))?;
    ensure_eq!(d.msg()?.code().class(), 4);
    Ok(())
}

pub fn create_and_delete() -> Outcome {
    let mut sim = Sim::registered(51)?;
    // Create /3303/1 with its units, in TLV.
    let create = [0x05, 0x01, 0xe2, 0x16, 0x45, b'F', b'!'];
    sim.expect(&Req::post("/3303").body(cf::TLV, &create), Code::CREATED)?;
    ensure!(sim.platform.objects.temp.instances.contains(&1));
    ensure_eq!(sim.platform.objects.temp.units.as_str(), "F!");
    // The object list changed: an Update follows the response.
    let upd = sim.take().map_err(|_| "no Update after Create")?;
    ensure!(contains(upd.msg()?.payload(), b"</3303/1>"));
    sim.answer(&upd, Code::CHANGED, &[])?;
    // Creating it again: 4.00.
    sim.expect(
        &Req::post("/3303").body(cf::TLV, &create),
        Code::BAD_REQUEST,
    )?;
    sim.expect(&Req::delete("/3303/1"), Code::DELETED)?;
    ensure!(!sim.platform.objects.temp.instances.contains(&1));
    sim.expect(&Req::get("/3303/1"), Code::NOT_FOUND)?;
    sim.expect(&Req::delete("/3303/1"), Code::NOT_FOUND)?;
    // Device has one instance and cannot lose it; the Device object cannot grow.
    sim.expect(&Req::delete("/3/0"), Code::METHOD_NOT_ALLOWED)?;
    Ok(())
}

pub fn discover() -> Outcome {
    let mut sim = Sim::registered(52)?;
    let d = sim.expect(&Req::get("/3303/0").accept(cf::LINK), Code::CONTENT)?;
    let m = d.msg()?;
    ensure_eq!(
        m.option_uint(opt::CONTENT_FORMAT),
        Some(u32::from(cf::LINK))
    );
    let p = m.payload();
    ensure!(contains(p, b"</3303/0>"));
    ensure!(contains(p, b"</3303/0/5700>"));
    ensure!(contains(p, b"</3303/0/5605>"));
    ensure!(!contains(p, b"</3/0"));
    Ok(())
}

pub fn read_composite() -> Outcome {
    let mut sim = Sim::registered(53)?;
    let paths = br#"[{"n":"/3/0/0"},{"n":"/9999/0"},{"n":"/3303/0/5700"}]"#;
    let req = Req::new(Code::FETCH, "/")
        .body(cf::SENML_JSON, paths)
        .accept(cf::SENML_CBOR);
    let d = sim.expect(&req, Code::CONTENT)?;
    let m = d.msg()?;
    ensure_eq!(
        m.option_uint(opt::CONTENT_FORMAT),
        Some(u32::from(cf::SENML_CBOR))
    );
    let dec = Decoder::new(cf::SENML_CBOR, m.payload())
        .ok_or("format")?
        .map_err(|_| "decoder")?;
    let mut scratch = [0u8; 32];
    let mut n = 0;
    for rec in Decoder::new(cf::SENML_CBOR, m.payload())
        .ok_or("format")?
        .map_err(|_| "decoder")?
    {
        let rec = rec.map_err(|_| "record")?;
        let raw = rec.value.ok_or("no value")?;
        match n {
            0 => {
                ensure_eq!(rec.path, Path::resource(3, 0, 0));
                ensure_eq!(
                    dec.value(raw, ResourceType::String, &mut scratch),
                    Ok(Value::String(MANUFACTURER))
                );
            }
            1 => {
                ensure_eq!(rec.path, Path::resource(3303, 0, 5700));
                ensure_eq!(
                    dec.value(raw, ResourceType::Float, &mut scratch),
                    Ok(Value::Float(21.5))
                );
            }
            _ => return Err("a record for a path that does not exist"),
        }
        n += 1;
    }
    ensure_eq!(n, 2);
    // Malformed paths: 4.00.
    let bad = Req::new(Code::FETCH, "/").body(cf::SENML_JSON, b"[{\"n\":");
    sim.expect(&bad, Code::BAD_REQUEST)?;
    Ok(())
}

pub fn write_attributes_checked() -> Outcome {
    let mut sim = Sim::registered(54)?;
    let wa = |q| Req::new(Code::PUT, "/3303/0/5700").queries(q);
    sim.expect(&wa(&["pmin=5", "pmax=60"]), Code::CHANGED)?;
    let d = sim.expect(&Req::get("/3303/0/5700").accept(cf::LINK), Code::CONTENT)?;
    ensure!(contains(d.msg()?.payload(), b"pmin=5"));
    ensure!(contains(d.msg()?.payload(), b"pmax=60"));
    // A value that is not a number, an unknown attribute: 4.00, nothing changed.
    sim.expect(&wa(&["pmin=soon"]), Code::BAD_REQUEST)?;
    sim.expect(&wa(&["pmin=7", "colour=red"]), Code::BAD_REQUEST)?;
    let d = sim.expect(&Req::get("/3303/0/5700").accept(cf::LINK), Code::CONTENT)?;
    ensure!(contains(d.msg()?.payload(), b"pmin=5"));
    ensure!(!contains(d.msg()?.payload(), b"pmin=7"));
    Ok(())
}
