//! The engine over a real UDP socket on 127.0.0.1 against the in-repo test server.
//!
//! One thread drives both: the client through a small std loop (socket, `Instant`-based
//! milliseconds), the server through its non-blocking `begin` / `Pending` API (the server's
//! own worker thread owns its socket). Every wait is bounded.

mod sim;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use sim::{TestPlatform, EP, MANUFACTURER};
use tern::client::{Client, Config, Event, ServerConfig, Version};
use tern_test_server::coap_lite::option_value::OptionValueU16;
use tern_test_server::coap_lite::{CoapOption, MessageClass, RequestType};
use tern_test_server::{self as ts, Impairment, OpError, Pending, Response, TestServer};

/// Drives the engine over a socket. `speed` runs the engine's clock faster than the wall
/// clock (the engine's ACK_TIMEOUT is a compile-time constant; a faster clock is how a test
/// shortens it).
struct Driver {
    sock: UdpSocket,
    server: SocketAddr,
    client: Client,
    platform: TestPlatform,
    start: Instant,
    speed: u64,
    events: Vec<Event>,
    server_events: Vec<ts::Event>,
}

impl Driver {
    fn new(server: &TestServer, lifetime_s: u32, speed: u64) -> Driver {
        let uri = server.uri();
        let servers = [ServerConfig {
            uri: &uri,
            short_id: 1,
            lifetime_s,
        }];
        let config = Config {
            endpoint: EP,
            version: Version::V1_1,
            update_margin_s: 10,
            servers: &servers,
        };
        let client = Client::new(&config, 0x1234).expect("client");
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        Driver {
            sock,
            server: server.local_addr(),
            client,
            platform: TestPlatform::new(99),
            start: Instant::now(),
            speed,
            events: Vec::new(),
            server_events: Vec::new(),
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 * self.speed
    }

    /// One round: receive for at most a few ms (less when the engine is due sooner), feed,
    /// send, collect events.
    fn pump(&mut self, server: &TestServer) {
        let now = self.now();
        let wait_ms = match self.client.poll_timeout() {
            Some(t) if t <= now => 1,
            Some(t) => ((t - now) / self.speed).clamp(1, 5),
            None => 5,
        };
        self.sock
            .set_read_timeout(Some(Duration::from_millis(wait_ms)))
            .unwrap();
        let mut buf = [0u8; 2048];
        if let Ok((n, from)) = self.sock.recv_from(&mut buf) {
            if from == self.server {
                let now = self.now();
                self.client
                    .handle_datagram(0, &buf[..n], now, &mut self.platform);
            }
        }
        let now = self.now();
        while let Some(t) = self.client.poll_transmit(now, &mut self.platform) {
            self.sock.send_to(t.data, self.server).unwrap();
        }
        while let Some(e) = self.client.poll_event() {
            if let Event::ConnectionNeeded { server } = e {
                self.client.connection_opened(server);
            }
            self.events.push(e);
        }
        self.server_events.extend(server.drain_events());
    }

    /// Pumps until `cond` or `timeout` (wall clock).
    fn until(
        &mut self,
        server: &TestServer,
        timeout: Duration,
        mut cond: impl FnMut(&Driver) -> bool,
    ) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if cond(self) {
                return true;
            }
            self.pump(server);
        }
        cond(self)
    }

    /// Pumps until the server's request completes.
    fn finish(
        &mut self,
        server: &TestServer,
        pending: Pending<'_>,
        timeout: Duration,
    ) -> Result<Response, OpError> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(r) = pending.poll() {
                return r;
            }
            self.pump(server);
        }
        pending.poll().unwrap_or(Err(OpError::Timeout))
    }

    fn has_event(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(pred)
    }

    fn count_server(&self, pred: impl Fn(&ts::Event) -> bool) -> usize {
        self.server_events.iter().filter(|e| pred(e)).count()
    }
}

const T: Duration = Duration::from_secs(20);

fn register(d: &mut Driver, server: &TestServer) {
    assert!(
        d.until(server, T, |d| d
            .has_event(|e| matches!(e, Event::Registered { .. }))
            && server.registration(EP).is_some()),
        "no registration; client events {:?}",
        d.events
    );
}

#[test]
fn full_session_against_the_test_server() {
    let server = TestServer::start().expect("server");
    let mut d = Driver::new(&server, 300, 1);
    register(&mut d, &server);
    let reg = server.registration(EP).unwrap();
    assert_eq!(reg.lifetime, 300);
    assert_eq!(reg.lwm2m, "1.1");
    assert_eq!(reg.binding, "U");
    assert_eq!(reg.content_format, Some(40));
    assert_eq!(
        reg.objects,
        [
            "</>;rt=\"oma.lwm2m\";ct=\"110 112 11542 11543 11544\"",
            "</1/0>",
            "</3/0>",
            "</3303>;ver=1.1",
            "</3303/0>"
        ]
    );

    // Read /3/0/0 as text.
    let p = server
        .begin(EP, |p| {
            ts::set_path(p, "/3/0/0");
            p.add_option_as(CoapOption::Accept, OptionValueU16(ts::CF_TEXT));
        })
        .unwrap();
    let r = d.finish(&server, p, T).expect("read /3/0/0");
    assert_eq!(r.code_string(), "2.05");
    assert_eq!(r.content_format, Some(ts::CF_TEXT));
    assert_eq!(r.payload_str(), MANUFACTURER);

    // Read /3/0 in TLV: decode it with the server's own decoder.
    let p = server
        .begin(EP, |p| {
            ts::set_path(p, "/3/0");
            p.add_option_as(CoapOption::Accept, OptionValueU16(ts::CF_TLV));
        })
        .unwrap();
    let r = d.finish(&server, p, T).expect("read /3/0");
    assert_eq!(r.code_string(), "2.05");
    assert_eq!(r.content_format, Some(ts::CF_TLV));
    let tlvs = ts::tlv::decode(&r.payload).expect("valid TLV");
    let res = |id: u16| {
        tlvs.iter()
            .find(|t| t.id == id)
            .unwrap_or_else(|| panic!("resource {id} missing: {tlvs:?}"))
    };
    assert_eq!(res(0).kind, ts::tlv::TlvKind::Resource);
    assert_eq!(res(0).value, MANUFACTURER.as_bytes());
    assert_eq!(res(1).value, b"sim-1");
    assert_eq!(res(2).value, b"0001");
    assert_eq!(res(3).value, b"0.1.0");
    assert_eq!(res(11).kind, ts::tlv::TlvKind::MultipleResource);
    assert_eq!(res(11).children.len(), 1);
    assert_eq!(res(11).children[0].id, 0);
    assert_eq!(ts::tlv::as_int(&res(11).children[0].value), Some(0));
    assert_eq!(res(16).value, b"U");
    assert!(
        tlvs.iter().all(|t| t.id != 4),
        "the executable Reboot is not read"
    );

    // Write the lifetime: an Update with lt= follows.
    let p = server
        .begin(EP, |p| {
            p.header.code = MessageClass::Request(RequestType::Put);
            ts::set_path(p, "/1/0/1");
            p.add_option_as(CoapOption::ContentFormat, OptionValueU16(ts::CF_TEXT));
            p.payload = b"120".to_vec();
        })
        .unwrap();
    assert_eq!(
        d.finish(&server, p, T).expect("write /1/0/1").code_string(),
        "2.04"
    );
    assert!(
        d.until(&server, T, |d| d.count_server(|e| matches!(
            e,
            ts::Event::Updated {
                lifetime: Some(120),
                ..
            }
        )) == 1),
        "no Update with lt=120: {:?}",
        d.server_events
            .iter()
            .map(|e| e.summary())
            .collect::<Vec<_>>()
    );
    assert_eq!(server.registration(EP).unwrap().lifetime, 120);

    // Execute the Registration Update Trigger.
    let p = server
        .begin(EP, |p| {
            p.header.code = MessageClass::Request(RequestType::Post);
            ts::set_path(p, "/1/0/8");
        })
        .unwrap();
    assert_eq!(
        d.finish(&server, p, T)
            .expect("execute /1/0/8")
            .code_string(),
        "2.04"
    );
    assert!(
        d.until(&server, T, |d| d.count_server(|e| matches!(
            e,
            ts::Event::Updated { lifetime: None, .. }
        )) >= 1),
        "no Update after Execute /1/0/8"
    );

    // Discover /3/0.
    let p = server
        .begin(EP, |p| {
            ts::set_path(p, "/3/0");
            p.add_option_as(CoapOption::Accept, OptionValueU16(ts::CF_LINK));
        })
        .unwrap();
    let r = d.finish(&server, p, T).expect("discover /3/0");
    assert_eq!(r.code_string(), "2.05");
    assert_eq!(r.content_format, Some(ts::CF_LINK));
    let links = ts::split_links(&r.payload_str());
    assert_eq!(links[0], "</3/0>");
    for l in ["</3/0/0>", "</3/0/4>", "</3/0/11>;dim=1", "</3/0/13>"] {
        assert!(links.iter().any(|x| x == l), "{l} missing from {links:?}");
    }

    // De-register.
    d.client.deregister();
    assert!(d.until(&server, T, |d| d
        .has_event(|e| matches!(e, Event::Deregistered { .. }))
        && d.count_server(|e| matches!(e, ts::Event::Deregistered { .. })) == 1));
    assert!(server.registration(EP).is_none());
    assert!(d.client.is_idle());
    // The client's datagrams all parsed with the server's codec.
    assert_eq!(
        d.count_server(|e| matches!(e, ts::Event::Datagram { parsed: Err(_), .. })),
        0
    );
}

#[test]
fn registration_completes_under_impairment() {
    let config = ts::Config {
        ack_timeout: Duration::from_millis(300),
        reorder_hold: Duration::from_millis(100),
        ..ts::Config::default()
    };
    let server = TestServer::with_config(config).expect("server");
    server.set_impairment(Impairment {
        drop_percent: 20,
        duplicate_percent: 10,
        seed: 5,
        ..Impairment::default()
    });
    // The engine's clock runs 8x: its 2..3 s ACK_TIMEOUT becomes 250..375 ms.
    let mut d = Driver::new(&server, 300, 8);
    register(&mut d, &server);
    // A read and an Update also get through.
    let p = server
        .begin(EP, |p| {
            ts::set_path(p, "/3303/0/5701");
        })
        .unwrap();
    let r = d.finish(&server, p, T).expect("read under impairment");
    assert_eq!(r.code_string(), "2.05");
    assert_eq!(r.payload_str(), "Cel");
    for _ in 0..5 {
        let p = server.begin(EP, |p| ts::set_path(p, "/3/0/0")).unwrap();
        assert_eq!(
            d.finish(&server, p, T)
                .expect("read under impairment")
                .payload_str(),
            MANUFACTURER
        );
    }
    d.client.update(false);
    assert!(d.until(&server, T, |d| d
        .has_event(|e| matches!(e, Event::Updated { .. }))));
    assert!(
        d.count_server(|e| matches!(e, ts::Event::Dropped { .. })) > 0,
        "the impairment dropped nothing"
    );
    assert_eq!(
        d.count_server(|e| matches!(e, ts::Event::Datagram { parsed: Err(_), .. })),
        0
    );
}
