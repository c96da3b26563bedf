//! The Bootstrap interface under arbitrary input: with the first byte even, the rest is a
//! smartcard blob (`Client::bootstrap_from_blob`); odd, it is a series of datagrams
//! (`[length, bytes...]`) from a bootstrap server the client listens to (server-initiated
//! bootstrap: Bootstrap-Write, -Read, -Discover, -Delete and -Finish, well formed or not).
//! Nothing panics; every datagram the client sends parses as CoAP; a blob that is taken
//! leaves at least one server, and one that is refused leaves the configured one.
#![no_main]

use std::mem::MaybeUninit;

use libfuzzer_sys::fuzz_target;
use tern::client::bootstrap::{BootstrapConfig, BOOTSTRAP_SLOT};
use tern::client::{Client, Config, Platform, ServerConfig, Version};
use tern::coap::Message;
use tern::model::{Device, DeviceInfo, Object, Objects};

struct Env(Device<'static>);

impl Objects for Env {
    fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
        (index == 0).then_some(&mut self.0 as &mut dyn Object)
    }
}

impl Platform for Env {
    fn random(&mut self, out: &mut [u8]) {
        out.fill(0x5a);
    }
    fn objects(&mut self) -> &mut dyn Objects {
        self
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let servers = [ServerConfig {
        uri: "coap://127.0.0.1:5683",
        short_id: 1,
        lifetime_s: 60,
    }];
    let config = Config {
        endpoint: "fuzz",
        version: Version::V1_1,
        update_margin_s: 5,
        servers: &servers,
    };
    let bs = BootstrapConfig {
        uri: "coap://127.0.0.1:5783",
        hold_off_s: 0,
        first: false,
        server_initiated: true,
    };
    let mut slot = Box::new(MaybeUninit::<Client>::uninit());
    let c = Client::init_with_bootstrap(&mut slot, &config, &bs, 1).expect("valid configuration");
    let mut env = Env(Device::new(DeviceInfo {
        manufacturer: "tern",
        model: "fuzz",
        serial: "1",
        firmware_version: "0",
    }));
    if mode & 1 == 0 {
        match c.bootstrap_from_blob(rest) {
            Ok(()) => assert!(!c.servers().is_empty()),
            Err(_) => assert_eq!(c.servers()[0].short_id, 1),
        }
        return;
    }
    while let Some(e) = c.poll_event() {
        if let tern::client::Event::ConnectionNeeded { server } = e {
            if server == BOOTSTRAP_SLOT {
                c.connection_opened(server);
            }
        }
    }
    let mut input = rest;
    let mut now = 1_000;
    while let Some((&len, tail)) = input.split_first() {
        let (dgram, after) = tail.split_at(usize::from(len).min(tail.len()));
        input = after;
        now += 100;
        c.handle_datagram(BOOTSTRAP_SLOT, dgram, now, &mut env);
        for _ in 0..16 {
            let Some(t) = c.poll_transmit(now, &mut env) else {
                break;
            };
            assert!(Message::parse(t.data).is_ok(), "the client sent garbage");
        }
        while c.poll_event().is_some() {}
    }
});
