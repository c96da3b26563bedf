//! One client, two LwM2M servers at once: independent registrations, requests answered on
//! the connection they came in on, and a server that is down (never answers, or its
//! connection cannot be opened) does not disturb the other one.
//!
//! These tests need a build with `TERN_MAX_SERVERS` of 2 or more (tests/run.sh runs this
//! file so); with the default of 1 they say so and check nothing else.

mod sim;

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use sim::*;
use tern::client::{Client, Event};

const UP: u8 = 0;
const DOWN: u8 = 1;

/// What the dead server does.
#[derive(Clone, Copy, PartialEq)]
enum Dead {
    /// Its connection opens, but nothing ever answers.
    Silent,
    /// Its connection cannot be opened.
    Unreachable,
}

struct Two {
    client: Client,
    platform: TestPlatform,
    now: u64,
    events: Vec<(u64, Event)>,
    /// Requests the live server received: (time, bytes).
    up: Vec<(u64, Vec<u8>)>,
    /// Datagrams sent towards the dead server.
    down: usize,
    dead: Dead,
}

fn two(dead: Dead) -> Option<Two> {
    Some(Two {
        client: two_server_client(60, 10, 1)?,
        platform: TestPlatform::new(9),
        now: 0,
        events: Vec::new(),
        up: Vec::new(),
        down: 0,
        dead,
    })
}

impl Two {
    /// Runs the client until `until` (ms), the live server answering every request at
    /// once; bounded in steps.
    fn run(&mut self, until: u64) {
        for _ in 0..100_000 {
            let mut busy = false;
            while let Some(e) = self.client.poll_event() {
                busy = true;
                self.events.push((self.now, e));
                if let Event::ConnectionNeeded { server } = e {
                    if server == DOWN && self.dead == Dead::Unreachable {
                        self.client.connection_failed(server, self.now);
                    } else {
                        self.client.connection_opened(server);
                    }
                }
            }
            let mut sent = Vec::new();
            while let Some(x) = self.client.poll_transmit(self.now, &mut self.platform) {
                sent.push((x.server, x.data.to_vec()));
            }
            busy |= !sent.is_empty();
            for (server, bytes) in sent {
                if server == DOWN {
                    self.down += 1;
                    continue;
                }
                self.up.push((self.now, bytes.clone()));
                if let Some(ack) = answer(&bytes) {
                    self.client
                        .handle_datagram(UP, &ack, self.now, &mut self.platform);
                }
            }
            if busy {
                continue;
            }
            match self.client.poll_timeout() {
                Some(t) if t <= until => self.now = self.now.max(t),
                _ => {
                    self.now = until;
                    return;
                }
            }
        }
        panic!("the client did not settle");
    }
}

/// The live server's piggybacked answer to a Register (2.01, Location /rd/0) or an Update
/// (2.04).
fn answer(bytes: &[u8]) -> Option<Vec<u8>> {
    let req = parse(bytes)?;
    let code = if is_register(bytes) {
        ResponseType::Created
    } else if is_update(bytes) {
        ResponseType::Changed
    } else {
        return None;
    };
    let mut ack = Packet::new();
    ack.header.set_type(MessageType::Acknowledgement);
    ack.header.code = MessageClass::Response(code);
    ack.header.message_id = req.header.message_id;
    ack.set_token(req.get_token().to_vec());
    if code == ResponseType::Created {
        ack.add_option(CoapOption::LocationPath, b"rd".to_vec());
        ack.add_option(CoapOption::LocationPath, b"0".to_vec());
    }
    ack.to_bytes().ok()
}

fn check_undisturbed(t: &mut Two) {
    t.run(200_000);
    let registered_at = t
        .events
        .iter()
        .find(|(_, e)| matches!(e, Event::Registered { server: UP }))
        .map(|(at, _)| *at)
        .expect("the live server registers");
    assert!(
        registered_at < 1_000,
        "at once, not after the other's retries"
    );
    // Updates every lifetime less the margin (50 s), all answered.
    let updates: Vec<u64> =
        t.up.iter()
            .filter(|(_, b)| is_update(b))
            .map(|u| u.0)
            .collect();
    assert!(updates.len() >= 3, "updates: {updates:?}");
    for w in updates.windows(2) {
        assert_eq!(w[1] - w[0], 50_000, "updates: {updates:?}");
    }
    assert!(!t.events.iter().any(|(_, e)| matches!(
        e,
        Event::UpdateFailed { server: UP } | Event::RegistrationRetry { server: UP, .. }
    )));
    assert!(t.client.servers()[UP as usize].reg.is_registered());
    assert!(!t.client.servers()[DOWN as usize].reg.is_registered());

    // A request from the live server is answered on its connection (Access Control is on
    // with two servers: the live one may read the Device object).
    t.client
        .access_control()
        .set(3, 0, 101, u16::from(tern::client::acl::READ))
        .unwrap();
    let mut get = Packet::new();
    get.header.set_type(MessageType::Confirmable);
    get.header.code = MessageClass::Request(RequestType::Get);
    get.header.message_id = 0x4242;
    get.set_token(vec![1, 2]);
    get.add_option(CoapOption::UriPath, b"3".to_vec());
    get.add_option(CoapOption::UriPath, b"0".to_vec());
    get.add_option(CoapOption::UriPath, b"0".to_vec());
    let bytes = get.to_bytes().unwrap();
    t.client.handle_datagram(UP, &bytes, t.now, &mut t.platform);
    let out = t
        .client
        .poll_transmit(t.now, &mut t.platform)
        .expect("an answer");
    assert_eq!(out.server, UP);
    let rsp = Packet::from_bytes(out.data).unwrap();
    assert_eq!(
        rsp.header.code,
        MessageClass::Response(ResponseType::Content)
    );
    assert_eq!(rsp.payload, MANUFACTURER.as_bytes());
}

#[test]
fn a_server_that_never_answers_does_not_disturb_the_other() {
    let Some(mut t) = two(Dead::Silent) else {
        return;
    };
    check_undisturbed(&mut t);
    // The dead server got its Register retransmitted and retried, nothing else.
    assert!(t.down >= 5, "Register retransmissions: {}", t.down);
    assert!(t
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::RegistrationRetry { server: DOWN, .. })));
}

#[test]
fn a_server_that_cannot_be_reached_does_not_disturb_the_other() {
    let Some(mut t) = two(Dead::Unreachable) else {
        return;
    };
    check_undisturbed(&mut t);
    assert_eq!(t.down, 0, "nothing is sent without a connection");
}
