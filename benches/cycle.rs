//! Work driven in process, for instruction counts under callgrind.
//!
//! `cycle N`: N full registration cycles: Register (2.01), a server Read of /3/0/0 (text),
//! a registration Update (2.04) and De-register (2.02).
//! `cycle N FORMAT`: one registration, then N Reads of /3/0 with Accept: FORMAT.
//! `cycle N notify FORMAT`: one registration and an Observe of /3/0 with Accept: FORMAT,
//! then N value changes, each notified.
//! `cycle N float typical|ends`: N rounds of shortest-digit writes of five values: sensor
//! readings (`typical`), or values at the ends of the exponent range (`ends`), where the
//! printer's big integers are longest.
//! `cycle N parse typical|ends`: N rounds of parsing the same five values from text (the
//! shortest digits, in exponent form for `ends`), as a server's Write brings them.
//!
//! `.ci/callgrind.sh` runs each for two values of N and divides the difference, so set-up
//! costs cancel out.
use tern::client::{Client, Config, Platform, ServerConfig, Version};
use tern::coap::{opt, Code, Message, MessageBuilder, MsgType};
use tern::model::{Device, DeviceInfo, Object, Objects};

struct Bench {
    device: Device<'static>,
    counter: u8,
}

impl Objects for Bench {
    fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
        (index == 0).then_some(&mut self.device as &mut dyn Object)
    }
}

impl Platform for Bench {
    fn random(&mut self, out: &mut [u8]) {
        for b in out {
            self.counter = self.counter.wrapping_mul(31).wrapping_add(7);
            *b = self.counter;
        }
    }
    fn objects(&mut self) -> &mut dyn Objects {
        self
    }
}

/// The piggybacked answer to the client's request `req`.
fn answer(req: &[u8], code: Code, buf: &mut [u8]) -> usize {
    let m = Message::parse(req).expect("client sent a valid message");
    let mut b =
        MessageBuilder::new(buf, MsgType::Ack, code, m.message_id(), m.token()).expect("fits");
    if code == Code::CREATED {
        b.option(opt::LOCATION_PATH, b"rd").expect("fits");
        b.option(opt::LOCATION_PATH, b"1").expect("fits");
    }
    b.finish()
}

fn read_request(mid: u16, path: &[&[u8]], accept: Option<u16>, buf: &mut [u8]) -> usize {
    let mut b =
        MessageBuilder::new(buf, MsgType::Con, Code::GET, mid, &[0xab, 0xcd]).expect("fits");
    for seg in path {
        b.option(opt::URI_PATH, seg).expect("fits");
    }
    if let Some(f) = accept {
        b.option_uint(opt::ACCEPT, u32::from(f)).expect("fits");
    }
    b.finish()
}

/// Sends the client's next datagram to the server and answers it with `code`.
fn exchange(client: &mut Client, bench: &mut Bench, now: u64, code: Code) {
    let mut reply = [0u8; 64];
    let len = {
        let t = client.poll_transmit(now, bench).expect("a request is due");
        answer(t.data, code, &mut reply)
    };
    client.handle_datagram(0, &reply[..len], now, bench);
}

fn config_and_objects(i: u16) -> (Client, Bench) {
    let servers = [ServerConfig {
        uri: "coap://127.0.0.1:5683",
        short_id: 1,
        lifetime_s: 300,
    }];
    let config = Config {
        endpoint: "bench",
        version: Version::V1_1,
        update_margin_s: 10,
        servers: &servers,
    };
    let info = DeviceInfo {
        manufacturer: "tern",
        model: "bench",
        serial: "1",
        firmware_version: "0.1",
    };
    let mut bench = Bench {
        device: Device::new(info),
        counter: i as u8,
    };
    let mut client = Client::new(&config, i).expect("valid config");
    client.connection_opened(0);
    exchange(&mut client, &mut bench, 1_000, Code::CREATED);
    (client, bench)
}

fn cycle(i: u16) {
    let (mut client, mut bench) = config_and_objects(i);
    let now = 1_000;
    let mut req = [0u8; 32];
    let len = read_request(i, &[b"3", b"0", b"0"], None, &mut req);
    client.handle_datagram(0, &req[..len], now, &mut bench);
    let resp = client
        .poll_transmit(now, &mut bench)
        .expect("the read is answered");
    assert_eq!(Message::parse(resp.data).expect("valid").payload(), b"tern");
    client.update(false);
    exchange(&mut client, &mut bench, now, Code::CHANGED);
    client.deregister();
    exchange(&mut client, &mut bench, now, Code::DELETED);
    assert!(client.is_idle());
}

/// `n` Reads of /3/0 in `format` on one registered client.
fn reads(n: u16, format: u16) {
    let (mut client, mut bench) = config_and_objects(1);
    let mut req = [0u8; 32];
    for i in 0..n {
        let len = read_request(i, &[b"3", b"0"], Some(format), &mut req);
        client.handle_datagram(0, &req[..len], 1_000, &mut bench);
        let resp = client
            .poll_transmit(1_000, &mut bench)
            .expect("the read is answered");
        let m = Message::parse(resp.data).expect("valid");
        assert_eq!(m.code(), Code::CONTENT);
        assert_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(u32::from(format)));
    }
}

/// An Observe of /3/0 in `format`, then `n` changes, each notified.
fn notifications(n: u16, format: u16) {
    let (mut client, mut bench) = config_and_objects(1);
    let mut req = [0u8; 32];
    let len = {
        let mut b =
            MessageBuilder::new(&mut req, MsgType::Con, Code::GET, 7, &[0xab]).expect("fits");
        b.option_uint(opt::OBSERVE, 0).expect("fits");
        b.option(opt::URI_PATH, b"3").expect("fits");
        b.option(opt::URI_PATH, b"0").expect("fits");
        b.option_uint(opt::ACCEPT, u32::from(format)).expect("fits");
        b.finish()
    };
    client.handle_datagram(0, &req[..len], 1_000, &mut bench);
    assert!(
        client.poll_transmit(1_000, &mut bench).is_some(),
        "the Observe is answered"
    );
    let path = tern::model::Path::instance(3, 0);
    for i in 0..u64::from(n) {
        let now = 2_000 + i * 1_000;
        client.resource_changed(&path);
        let t = client
            .poll_transmit(now, &mut bench)
            .expect("a notification");
        let m = Message::parse(t.data).expect("valid");
        assert!(m.option(opt::OBSERVE).is_some());
        assert_eq!(m.option_uint(opt::CONTENT_FORMAT), Some(u32::from(format)));
    }
}

/// `n` rounds of writing each of `values` as text.
fn floats(n: u16, values: &[f64; 5]) {
    let mut buf = [0u8; 32];
    for _ in 0..n {
        for &v in values {
            let mut w = tern::buf::Writer::new(&mut buf);
            tern::formats::float::write_shortest(std::hint::black_box(v), &mut w)
                .expect("room for a float");
            assert!(!w.is_empty());
        }
    }
}

/// `n` rounds of parsing each of `values` from text: `{}` for typical values, `{:e}` at
/// the ends of the range.
fn parses(n: u16, values: &[f64; 5], exponent: bool) {
    let texts = values.map(|v| {
        if exponent {
            format!("{v:e}")
        } else {
            format!("{v}")
        }
    });
    for _ in 0..n {
        for (t, &v) in texts.iter().zip(values) {
            let got = tern::formats::float::parse(std::hint::black_box(t.as_bytes()));
            assert_eq!(got.map(f64::to_bits), Ok(v.to_bits()), "{t}");
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u16 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mode = args.next();
    if matches!(mode.as_deref(), Some("float" | "parse")) {
        let ends = args.next().as_deref() == Some("ends");
        let values = if ends {
            [f64::MAX, 5e-324, -2.2250738585072014e-308, 1e300, 1.7e-300]
        } else {
            [21.5, 23.456789, 1013.25, -40.0, 0.1]
        };
        if mode.as_deref() == Some("parse") {
            parses(n, &values, ends);
            println!("{n} rounds of 5 floats parsed");
        } else {
            floats(n, &values);
            println!("{n} rounds of 5 floats written");
        }
        return;
    }
    if mode.as_deref() == Some("notify") {
        let format = args.next().and_then(|a| a.parse().ok()).unwrap_or(11542);
        notifications(n, format);
        println!("{n} notifications of /3/0 in format {format}");
        return;
    }
    match mode.and_then(|a| a.parse().ok()) {
        Some(format) => {
            reads(n, format);
            println!("{n} reads of /3/0 in format {format}");
        }
        None => {
            for i in 0..n {
                cycle(i);
            }
            println!("{n} cycles");
        }
    }
}
