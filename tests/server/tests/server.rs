//! The test server tested against a small coap-lite client.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{path_of, Client, T};
use tern_test_server::coap_lite::option_value::OptionValueU16;
use tern_test_server::coap_lite::{
    CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType,
};
use tern_test_server::{
    content_format, location_path, observe_value, Config, Direction, Event, Impairment, OpError,
    TestServer,
};

const SHORT: Duration = Duration::from_millis(300);

fn fast() -> Config {
    Config {
        ack_timeout: Duration::from_millis(100),
        ..Config::default()
    }
}

fn registered(server: &TestServer, ep: &str) -> tern_test_server::Registration {
    match server.wait_for(T, |e| matches!(e, Event::Registered(r) if r.ep == ep)) {
        Some(Event::Registered(r)) => r,
        other => panic!("no registration for {ep}: {other:?}"),
    }
}

#[test]
fn register_read_update_deregister() {
    let server = TestServer::start().unwrap();
    assert!(server.uri().starts_with("coap://127.0.0.1:"));
    assert!(server.uri().ends_with(&server.port().to_string()));
    let mut c = Client::new(server.local_addr());

    let r = c.register(
        "node-1",
        &["lt=120", "lwm2m=1.1", "b=U"],
        "</>;rt=\"oma.lwm2m\",</1/0>,</3/0>,</3303>;ver=1.1",
    );
    assert_eq!(r.header.code, MessageClass::Response(ResponseType::Created));
    let loc = location_path(&r);
    assert_eq!(loc.len(), 2, "Location-Path is two options: {loc:?}");
    assert_eq!(loc[0], "rd");
    assert!(!loc[1].is_empty() && loc[1].len() <= 8);

    let reg = registered(&server, "node-1");
    assert_eq!(reg.lifetime, 120);
    assert_eq!(reg.binding, "U");
    assert_eq!(reg.lwm2m, "1.1");
    assert!(!reg.queue_mode);
    assert_eq!(
        reg.objects,
        vec![
            "</>;rt=\"oma.lwm2m\"",
            "</1/0>",
            "</3/0>",
            "</3303>;ver=1.1"
        ]
    );
    assert_eq!(reg.location, format!("/rd/{}", loc[1]));
    assert_eq!(reg.addr, c.addr());
    assert_eq!(reg.content_format, Some(40));
    assert_eq!(server.registration("node-1"), Some(reg.clone()));

    // The server reads while the client answers on another thread.
    let responder = thread::spawn(move || {
        let req = c.recv_request(T).expect("no read request");
        assert_eq!(req.header.get_type(), MessageType::Confirmable);
        assert_eq!(req.header.code, MessageClass::Request(RequestType::Get));
        assert_eq!(path_of(&req), "/3/0/0");
        assert_eq!(
            req.get_first_option_as::<OptionValueU16>(CoapOption::Accept)
                .unwrap()
                .unwrap()
                .0,
            0,
            "Accept: text/plain"
        );
        assert!(!req.get_token().is_empty());
        c.answer(&req, ResponseType::Content, Some(0), b"tern");
        c
    });
    let rsp = server.read("node-1", "/3/0/0", Some(0), T).unwrap();
    assert_eq!(rsp.code, ResponseType::Content);
    assert_eq!(rsp.code_string(), "2.05");
    assert_eq!(rsp.content_format, Some(0));
    assert_eq!(rsp.payload, b"tern");
    let mut c = responder.join().unwrap();

    // Update with a new lifetime and object list.
    let p = c.build(
        RequestType::Post,
        &reg.location,
        &["lt=60"],
        Some(40),
        b"</1/0>,</3/0>,</5/0>",
    );
    let r = c.exchange(&p);
    assert_eq!(r.header.code, MessageClass::Response(ResponseType::Changed));
    match server
        .wait_for(T, |e| matches!(e, Event::Updated { .. }))
        .unwrap()
    {
        Event::Updated {
            ep,
            lifetime,
            binding,
            objects,
            location,
            ..
        } => {
            assert_eq!(ep, "node-1");
            assert_eq!(lifetime, Some(60));
            assert_eq!(binding, None);
            assert_eq!(objects.as_deref(), Some("</1/0>,</3/0>,</5/0>"));
            assert_eq!(location, reg.location);
        }
        _ => unreachable!(),
    }
    let now = server.registration("node-1").unwrap();
    assert_eq!(now.lifetime, 60);
    assert_eq!(now.objects.len(), 3);

    // An empty Update (no query, no payload) is fine too.
    let p = c.build(RequestType::Post, &reg.location, &[], None, b"");
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::Changed)
    );
    match server
        .wait_for(T, |e| matches!(e, Event::Updated { .. }))
        .unwrap()
    {
        Event::Updated {
            lifetime: None,
            objects: None,
            ..
        } => {}
        other => panic!("{other:?}"),
    }

    // De-register.
    let p = c.build(RequestType::Delete, &reg.location, &[], None, b"");
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::Deleted)
    );
    assert_eq!(
        server.wait_for(T, |e| matches!(e, Event::Deregistered { .. })),
        Some(Event::Deregistered {
            ep: "node-1".into()
        })
    );
    assert_eq!(server.registration("node-1"), None);
    assert_eq!(
        server.read("node-1", "/3/0/0", None, SHORT).unwrap_err(),
        OpError::NotRegistered
    );

    // Update and de-register on the old location now say 4.04.
    let p = c.build(RequestType::Post, &reg.location, &[], None, b"");
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::NotFound)
    );
    let p = c.build(RequestType::Delete, &reg.location, &[], None, b"");
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::NotFound)
    );
}

#[test]
fn every_datagram_is_an_event_in_order() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    let p = c.build(RequestType::Post, "/rd", &["ep=ev"], Some(40), b"</3/0>");
    let sent = p.to_bytes().unwrap();
    c.exchange(&p);
    match server.wait_event(T).unwrap() {
        Event::Datagram {
            from,
            bytes,
            parsed,
        } => {
            assert_eq!(from, c.addr());
            assert_eq!(bytes, sent);
            assert_eq!(parsed.unwrap(), p);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(server.wait_event(T), Some(Event::Registered(_))));
    assert_eq!(server.wait_event(SHORT), None);
}

#[test]
fn duplicate_register_gets_same_response_and_one_registration() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    let p = c.build(
        RequestType::Post,
        "/rd",
        &["ep=dup", "lt=30"],
        Some(40),
        b"</3/0>",
    );
    c.send(&p);
    let first = c.recv_bytes(T).unwrap();
    c.send(&p);
    let second = c.recv_bytes(T).unwrap();
    assert_eq!(first, second, "a retransmitted CON gets the same response");
    assert!(server
        .wait_for(T, |e| matches!(e, Event::Duplicate { .. }))
        .is_some());
    let events = server.drain_events();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Registered(_))),
        "{events:?}"
    );
    assert_eq!(server.registrations().len(), 1);
    let loc = location_path(&Packet::from_bytes(&first).unwrap());
    assert_eq!(
        server.registration("dup").unwrap().location,
        format!("/{}", loc.join("/"))
    );
}

#[test]
fn register_errors() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());

    // Missing ep -> 4.00.
    let p = c.build(
        RequestType::Post,
        "/rd",
        &["lt=30", "lwm2m=1.1"],
        Some(40),
        b"</3/0>",
    );
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::BadRequest)
    );
    assert!(matches!(
        server.wait_for(T, |e| matches!(e, Event::RegistrationRejected { .. })),
        Some(Event::RegistrationRejected {
            ep: None,
            code: ResponseType::BadRequest,
            ..
        })
    ));
    // A malformed lifetime -> 4.00.
    let p = c.build(
        RequestType::Post,
        "/rd",
        &["ep=x", "lt=soon"],
        Some(40),
        b"</3/0>",
    );
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::BadRequest)
    );
    assert!(server.registrations().is_empty());

    // Update of an unknown registration -> 4.04.
    let p = c.build(RequestType::Post, "/rd/nope", &["lt=30"], None, b"");
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::NotFound)
    );

    // GET /rd -> 4.05, anything else -> 4.04 and an event.
    let p = c.build(RequestType::Get, "/rd", &[], None, b"");
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::MethodNotAllowed)
    );
    let p = c.build(RequestType::Post, "/bs", &["ep=x"], None, b"");
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::NotFound)
    );
    match server.wait_for(
        T,
        |e| matches!(e, Event::Request { path, .. } if path == "/bs"),
    ) {
        Some(Event::Request { method, query, .. }) => {
            assert_eq!(method, "POST");
            assert_eq!(query, vec!["ep=x".to_string()]);
        }
        other => panic!("{other:?}"),
    }

    // A forced registration response.
    server.set_registration_response(Some(ResponseType::Forbidden));
    assert_eq!(
        c.register("forced", &[], "</3/0>").header.code,
        MessageClass::Response(ResponseType::Forbidden)
    );
    assert!(server.registration("forced").is_none());
    server.set_registration_response(None);
    assert_eq!(
        c.register("forced", &[], "</3/0>").header.code,
        MessageClass::Response(ResponseType::Created)
    );
    let reg = registered(&server, "forced");
    // Defaults when the parameters are absent.
    assert_eq!(
        (reg.lifetime, reg.binding.as_str(), reg.lwm2m.as_str()),
        (86400, "U", "1.0")
    );
}

#[test]
fn queue_mode_and_reregistration() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    c.register("q10", &["b=UQ", "lwm2m=1.0"], "</3/0>");
    assert!(registered(&server, "q10").queue_mode);
    c.register("q11", &["b=U", "Q", "lwm2m=1.1"], "</3/0>");
    let first = registered(&server, "q11");
    assert!(first.queue_mode);
    // Registering the same endpoint again replaces the registration.
    c.register("q11", &["b=U", "lwm2m=1.1"], "</3/0>,</5/0>");
    let second = registered(&server, "q11");
    assert!(!second.queue_mode);
    assert_ne!(first.location, second.location);
    assert_eq!(server.registrations().len(), 2);
}

#[test]
fn update_follows_a_new_address() {
    let server = TestServer::start().unwrap();
    let mut a = Client::new(server.local_addr());
    let loc = a.register_ok("mover");
    let mut b = Client::new(server.local_addr());
    let p = b.build(RequestType::Post, &loc, &["b=UQ"], None, b"");
    assert_eq!(
        b.exchange(&p).header.code,
        MessageClass::Response(ResponseType::Changed)
    );
    let reg = server.registration("mover").unwrap();
    assert_eq!(reg.addr, b.addr());
    assert_eq!(reg.binding, "UQ");
    assert!(reg.queue_mode);
}

#[test]
fn operations_send_the_right_requests() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    c.register_ok("ops");
    let h = thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..6 {
            let req = c.recv_request(T).expect("request");
            let method = match req.header.code {
                MessageClass::Request(m) => m,
                _ => unreachable!(),
            };
            let cf = content_format(&req);
            let accept = req
                .get_first_option_as::<OptionValueU16>(CoapOption::Accept)
                .map(|v| v.unwrap().0);
            let query = tern_test_server::uri_query(&req);
            seen.push((
                method,
                path_of(&req),
                cf,
                accept,
                query,
                req.payload.clone(),
            ));
            let code = match method {
                RequestType::Get => ResponseType::Content,
                RequestType::Delete => ResponseType::Deleted,
                _ => ResponseType::Changed,
            };
            c.answer(&req, code, None, b"");
        }
        seen
    });
    server.write("ops", "/1/0/1", 0, b"300", true, T).unwrap();
    server
        .write("ops", "/3/0", 11542, &[0xC1, 0x0E, 0x2B], false, T)
        .unwrap();
    server.execute("ops", "/1/0/8", b"", T).unwrap();
    server.discover("ops", "/3/0", T).unwrap();
    server
        .write_attributes("ops", "/3/0/9", "pmin=1&pmax=5", T)
        .unwrap();
    assert_eq!(
        server.delete("ops", "/3303/0", T).unwrap().code,
        ResponseType::Deleted
    );
    let seen = h.join().unwrap();
    use RequestType::*;
    assert_eq!(
        seen[0],
        (Put, "/1/0/1".into(), Some(0), None, vec![], b"300".to_vec())
    );
    assert_eq!(
        seen[1],
        (
            Post,
            "/3/0".into(),
            Some(11542),
            None,
            vec![],
            vec![0xC1, 0x0E, 0x2B]
        )
    );
    assert_eq!(seen[2], (Post, "/1/0/8".into(), None, None, vec![], vec![]));
    assert_eq!(
        seen[3],
        (Get, "/3/0".into(), None, Some(40), vec![], vec![])
    );
    assert_eq!(
        seen[4],
        (
            Put,
            "/3/0/9".into(),
            None,
            None,
            vec!["pmin=1".into(), "pmax=5".into()],
            vec![]
        )
    );
    assert_eq!(
        seen[5],
        (Delete, "/3303/0".into(), None, None, vec![], vec![])
    );
}

#[test]
fn not_registered() {
    let server = TestServer::start().unwrap();
    assert_eq!(
        server.read("ghost", "/3/0", None, SHORT).unwrap_err(),
        OpError::NotRegistered
    );
    assert!(server.begin("ghost", |_| {}).is_err());
}

#[test]
fn retransmits_until_answered() {
    let server = TestServer::with_config(fast()).unwrap();
    let mut c = Client::new(server.local_addr());
    c.register_ok("rtx");
    let h = thread::spawn(move || {
        let first = c.recv_request(T).unwrap();
        let t0 = Instant::now();
        let second = c.recv_request(T).unwrap();
        let gap = t0.elapsed();
        assert_eq!(first, second, "a retransmission is the same message");
        c.answer(&second, ResponseType::Content, None, b"late");
        gap
    });
    let rsp = server.read("rtx", "/3/0/0", None, T).unwrap();
    assert_eq!(rsp.payload, b"late");
    let gap = h.join().unwrap();
    assert!(
        gap >= Duration::from_millis(90) && gap < Duration::from_secs(1),
        "ACK_TIMEOUT..1.5x: {gap:?}"
    );
}

#[test]
fn gives_up_after_max_retransmit() {
    let server = TestServer::with_config(Config {
        ack_timeout: Duration::from_millis(40),
        ..Config::default()
    })
    .unwrap();
    let mut c = Client::new(server.local_addr());
    c.register_ok("mute");
    let t0 = Instant::now();
    assert_eq!(
        server
            .read("mute", "/3/0/0", None, Duration::from_secs(10))
            .unwrap_err(),
        OpError::Timeout
    );
    // 40 ms * (1 + 2 + 4 + 8 + 16) = 1.24 s at least, 1.86 s at most, plus polling.
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(1200) && took < Duration::from_secs(4),
        "{took:?}"
    );
    let mut n = 0;
    while let Some(p) = c.recv_request(SHORT) {
        n += 1;
        assert_eq!(path_of(&p), "/3/0/0");
    }
    assert_eq!(n, 5, "one transmission and four retransmissions");
}

#[test]
fn caller_timeout_is_bounded() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    c.register_ok("slow");
    let t0 = Instant::now();
    assert_eq!(
        server.read("slow", "/3/0/0", None, SHORT).unwrap_err(),
        OpError::Timeout
    );
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[test]
fn separate_response_is_acked() {
    let server = TestServer::with_config(fast()).unwrap();
    let mut c = Client::new(server.local_addr());
    c.register_ok("sep");
    let h = thread::spawn(move || {
        let req = c.recv_request(T).unwrap();
        let mut ack = Packet::new();
        ack.header.set_type(MessageType::Acknowledgement);
        ack.header.code = MessageClass::Empty;
        ack.header.message_id = req.header.message_id;
        c.send(&ack);
        // Longer than several retransmission timeouts: the empty ACK stopped them.
        assert!(
            c.recv(Duration::from_millis(500)).is_none(),
            "no retransmission after the empty ACK"
        );
        let mut rsp = Packet::new();
        rsp.header.set_type(MessageType::Confirmable);
        rsp.header.code = MessageClass::Response(ResponseType::Content);
        rsp.header.message_id = c.next_mid();
        rsp.set_token(req.get_token().to_vec());
        rsp.payload = b"separate".to_vec();
        c.send(&rsp);
        let ack = c.recv(T).expect("the CON response is ACKed");
        assert_eq!(ack.header.get_type(), MessageType::Acknowledgement);
        assert_eq!(ack.header.code, MessageClass::Empty);
        assert_eq!(ack.header.message_id, rsp.header.message_id);
    });
    let rsp = server.read("sep", "/3/0/0", None, T).unwrap();
    assert_eq!(rsp.payload, b"separate");
    h.join().unwrap();
}

#[test]
fn reset_fails_the_request() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    c.register_ok("rst");
    let h = thread::spawn(move || {
        let req = c.recv_request(T).unwrap();
        let mut rst = Packet::new();
        rst.header.set_type(MessageType::Reset);
        rst.header.code = MessageClass::Empty;
        rst.header.message_id = req.header.message_id;
        c.send(&rst);
    });
    assert_eq!(
        server.read("rst", "/3/0/0", None, T).unwrap_err(),
        OpError::Reset
    );
    h.join().unwrap();
}

#[test]
fn observe_notifications_and_cancel() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    c.register_ok("obs");
    let h = thread::spawn(move || {
        let req = c.recv_request(T).unwrap();
        assert_eq!(observe_value(&req), Some(0));
        let mut r = Packet::new();
        r.header.set_type(MessageType::Acknowledgement);
        r.header.code = MessageClass::Response(ResponseType::Content);
        r.header.message_id = req.header.message_id;
        r.set_token(req.get_token().to_vec());
        r.set_observe_value(1);
        r.payload = b"21.5".to_vec();
        c.send(&r);
        (c, req.get_token().to_vec())
    });
    let (rsp, token) = server.observe("obs", "/3303/0/5700", Some(0), T).unwrap();
    let (mut c, sent_token) = h.join().unwrap();
    assert_eq!(token, sent_token);
    assert_eq!(rsp.observe, Some(1));
    assert_eq!(rsp.payload, b"21.5");

    // A CON notification is ACKed and reported.
    let n = c.notify(&token, 2, true, b"22.0");
    let ack = c.recv(T).unwrap();
    assert_eq!(
        (ack.header.get_type(), ack.header.message_id),
        (MessageType::Acknowledgement, n.header.message_id)
    );
    match server
        .wait_for(T, |e| matches!(e, Event::Notification { .. }))
        .unwrap()
    {
        Event::Notification {
            ep,
            token: t,
            seq,
            code,
            payload,
            content_format,
            confirmable,
        } => {
            assert_eq!(ep, "obs");
            assert_eq!(t, token);
            assert_eq!(seq, Some(2));
            assert_eq!(code, ResponseType::Content);
            assert_eq!(payload, b"22.0");
            assert_eq!(content_format, Some(0));
            assert!(confirmable);
        }
        _ => unreachable!(),
    }
    // Its retransmission is ACKed again but reported once.
    c.send(&n);
    assert_eq!(c.recv(T).unwrap().header.message_id, n.header.message_id);
    // A NON notification is reported, not answered.
    c.notify(&token, 3, false, b"22.5");
    assert!(matches!(
        server.wait_for(T, |e| matches!(e, Event::Notification { .. })),
        Some(Event::Notification {
            seq: Some(3),
            confirmable: false,
            ..
        })
    ));
    assert!(c.recv(SHORT).is_none());

    // A notification for a token the server never sent gets RST.
    let n = c.notify(b"\x01\x02\x03", 4, true, b"x");
    let rst = c.recv(T).unwrap();
    assert_eq!(
        (rst.header.get_type(), rst.header.message_id),
        (MessageType::Reset, n.header.message_id)
    );

    // After forgetting the observation, the next notification gets RST too.
    server.forget_observation(&token);
    let n = c.notify(&token, 5, true, b"23.0");
    let rst = c.recv(T).unwrap();
    assert_eq!(
        (rst.header.get_type(), rst.header.message_id),
        (MessageType::Reset, n.header.message_id)
    );
    let evs = server.drain_events();
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, Event::Notification { .. }))
            .count(),
        0,
        "{evs:?}"
    );
}

#[test]
fn send_operation_and_ping() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    c.register_ok("sender");
    let p = c.build(
        RequestType::Post,
        "/dp",
        &[],
        Some(110),
        b"[{\"n\":\"/3/0/9\",\"v\":80}]",
    );
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::Changed)
    );
    match server
        .wait_for(T, |e| matches!(e, Event::Send { .. }))
        .unwrap()
    {
        Event::Send {
            ep,
            content_format,
            payload,
        } => {
            assert_eq!(ep.as_deref(), Some("sender"));
            assert_eq!(content_format, Some(110));
            assert_eq!(payload, p.payload);
        }
        _ => unreachable!(),
    }
    // CoAP ping: empty CON -> RST.
    let mut ping = Packet::new();
    ping.header.set_type(MessageType::Confirmable);
    ping.header.code = MessageClass::Empty;
    ping.header.message_id = 0x4242;
    c.send(&ping);
    let rst = c.recv(T).unwrap();
    assert_eq!(
        (rst.header.get_type(), rst.header.message_id),
        (MessageType::Reset, 0x4242)
    );
}

#[test]
fn garbage_is_recorded_and_ignored() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    c.send_bytes(&[0x40]);
    c.send_bytes(b"\x7f\x01\x00\x01not coap");
    for _ in 0..2 {
        match server.wait_event(T).unwrap() {
            Event::Datagram { parsed, .. } => assert!(parsed.is_err()),
            other => panic!("{other:?}"),
        }
    }
    assert!(c.recv(SHORT).is_none(), "nothing answers garbage");
    // Still alive.
    c.register_ok("after-garbage");
}

#[test]
fn send_raw_reaches_the_client() {
    let server = TestServer::start().unwrap();
    let mut c = Client::new(server.local_addr());
    c.register_ok("raw");
    server.send_raw("raw", b"\xff\xff");
    assert_eq!(c.recv_bytes(T).unwrap(), b"\xff\xff");
    server.send_raw("nobody", b"x");
}

#[test]
fn drop_everything() {
    let server = TestServer::start().unwrap();
    server.set_impairment(Impairment {
        drop_percent: 100,
        ..Impairment::default()
    });
    let mut c = Client::new(server.local_addr());
    let p = c.build(RequestType::Post, "/rd", &["ep=lost"], Some(40), b"</3/0>");
    c.send(&p);
    assert!(c.recv(Duration::from_millis(500)).is_none());
    match server.wait_event(T).unwrap() {
        Event::Dropped {
            direction: Direction::Inbound,
            peer,
            ..
        } => assert_eq!(peer, c.addr()),
        other => panic!("{other:?}"),
    }
    assert!(server.registrations().is_empty());
    assert_eq!(server.wait_event(SHORT), None);

    // Outbound too: let the request in, drop the answer.
    server.set_impairment(Impairment::default());
    let loc = c.register_ok("lost");
    server.set_impairment(Impairment {
        drop_percent: 100,
        ..Impairment::default()
    });
    let h = thread::spawn(move || c.recv(Duration::from_millis(500)));
    assert_eq!(
        server
            .read("lost", "/3/0/0", None, Duration::from_millis(300))
            .unwrap_err(),
        OpError::Timeout
    );
    assert!(h.join().unwrap().is_none());
    assert!(loc.starts_with("/rd/"));
}

/// Send `n` numbered datagrams through a fresh server with the given
/// impairment and return which ones arrived (in arrival order).
fn arrivals(imp: Impairment, n: u8) -> Vec<u8> {
    let server = TestServer::start().unwrap();
    server.set_impairment(imp);
    let c = Client::new(server.local_addr());
    for i in 0..n {
        c.send_bytes(&[0xFF, i]); // not CoAP: nothing is sent back
        thread::sleep(Duration::from_millis(1));
    }
    let mut got = Vec::new();
    let mut seen = 0;
    while seen < usize::from(n) {
        match server
            .wait_event(T)
            .expect("every datagram is accounted for")
        {
            Event::Datagram { bytes, .. } => {
                seen += 1;
                got.push(bytes[1]);
            }
            Event::Dropped { .. } => seen += 1,
            _ => {}
        }
    }
    got
}

#[test]
fn same_seed_same_drop_pattern() {
    let imp = |seed| Impairment {
        drop_percent: 50,
        seed,
        ..Impairment::default()
    };
    let a = arrivals(imp(7), 40);
    let b = arrivals(imp(7), 40);
    let c = arrivals(imp(8), 40);
    assert_eq!(a, b, "same seed, same pattern");
    assert_ne!(a, c, "another seed, another pattern");
    assert!(
        a.len() > 5 && a.len() < 35,
        "about half get through: {}",
        a.len()
    );
}

#[test]
fn duplicate_and_reorder() {
    // Every datagram doubled: the client sees each response twice and the
    // server sees each request twice (and answers the copy from its cache).
    let server = TestServer::start().unwrap();
    server.set_impairment(Impairment {
        duplicate_percent: 100,
        ..Impairment::default()
    });
    let mut c = Client::new(server.local_addr());
    let p = c.build(RequestType::Post, "/rd", &["ep=twice"], Some(40), b"</3/0>");
    c.send(&p);
    let mut got = Vec::new();
    while let Some(b) = c.recv_bytes(SHORT) {
        got.push(b);
    }
    // Two inbound copies, each answered (original + replay), each answer doubled.
    assert_eq!(got.len(), 4);
    assert!(got.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(server.registrations().len(), 1);
    drop(server);

    // Reorder everything: each datagram is held until the next overtakes it.
    let server = TestServer::start().unwrap();
    server.set_impairment(Impairment {
        reorder_percent: 100,
        ..Impairment::default()
    });
    let c = Client::new(server.local_addr());
    for i in 0..4u8 {
        c.send_bytes(&[0xFF, i]);
        thread::sleep(Duration::from_millis(30));
    }
    let mut order = Vec::new();
    while let Some(Event::Datagram { bytes, .. }) = server.wait_event(Duration::from_secs(2)) {
        order.push(bytes[1]);
        if order.len() == 4 {
            break;
        }
    }
    assert_eq!(order, vec![1, 0, 3, 2]);
}

#[test]
fn delay() {
    let server = TestServer::start().unwrap();
    server.set_impairment(Impairment {
        delay_ms: 150,
        ..Impairment::default()
    });
    let mut c = Client::new(server.local_addr());
    let p = c.build(
        RequestType::Post,
        "/rd",
        &["ep=slowpoke"],
        Some(40),
        b"</3/0>",
    );
    let t0 = Instant::now();
    let r = c.exchange(&p);
    let rtt = t0.elapsed();
    assert_eq!(r.header.code, MessageClass::Response(ResponseType::Created));
    assert!(
        rtt >= Duration::from_millis(300) && rtt < Duration::from_secs(2),
        "{rtt:?}"
    );
}

#[test]
fn ipv6_loopback_when_available() {
    let Ok(server) = TestServer::start_v6() else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    assert!(server.uri().starts_with("coap://[::1]:"));
    let mut c = Client::new(server.local_addr());
    c.register_ok("six");
    assert!(server.registration("six").unwrap().addr.is_ipv6());
}

#[test]
fn stop_closes_the_socket() {
    let server = TestServer::start().unwrap();
    let addr = server.local_addr();
    let t0 = Instant::now();
    server.stop();
    assert!(t0.elapsed() < Duration::from_secs(1));
    // The port is free again.
    std::net::UdpSocket::bind(addr).unwrap();
}
