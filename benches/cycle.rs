//! One full registration cycle driven in process, for instruction counts under callgrind:
//! Register (2.01), a server Read of /3/0/0 (text), a registration Update (2.04) and
//! De-register (2.02). `cycle N` runs N cycles; `.ci/callgrind.sh` runs it for two values
//! of N and divides the difference, so set-up costs cancel out.
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

fn read_request(mid: u16, buf: &mut [u8]) -> usize {
    let mut b =
        MessageBuilder::new(buf, MsgType::Con, Code::GET, mid, &[0xab, 0xcd]).expect("fits");
    for seg in [&b"3"[..], b"0", b"0"] {
        b.option(opt::URI_PATH, seg).expect("fits");
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

fn cycle(i: u16) {
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
    let now = 1_000;
    exchange(&mut client, &mut bench, now, Code::CREATED);
    let mut req = [0u8; 32];
    let len = read_request(i, &mut req);
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

fn main() {
    let n: u16 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    for i in 0..n {
        cycle(i);
    }
    println!("{n} cycles");
}
