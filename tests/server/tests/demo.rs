//! The demo binary, driven by the small coap-lite client.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{path_of, Client, T};
use tern_test_server::coap_lite::option_value::OptionValueU16;
use tern_test_server::coap_lite::{CoapOption, MessageClass, RequestType, ResponseType};

struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
    port: u16,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str]) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern-test-server"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(T).expect("LISTENING line");
    let port = first
        .strip_prefix("LISTENING ")
        .expect(&first)
        .parse()
        .unwrap();
    Demo {
        child,
        lines: rx,
        port,
    }
}

fn wait_exit(d: &mut Demo) -> (i32, Vec<String>) {
    for _ in 0..100 {
        if let Some(st) = d.child.try_wait().unwrap() {
            let mut lines = Vec::new();
            while let Ok(l) = d.lines.recv_timeout(Duration::from_millis(200)) {
                lines.push(l);
            }
            return (st.code().unwrap_or(-1), lines);
        }
        thread::sleep(Duration::from_millis(100));
    }
    panic!("the demo did not exit");
}

#[test]
fn demo_scenario_end_to_end() {
    let mut d = spawn(&[
        "--scenario",
        "demo",
        "--endpoint",
        "demo-ep",
        "--timeout",
        "20",
    ]);
    let server: SocketAddr = ([127, 0, 0, 1], d.port).into();
    let mut c = Client::new(server);
    // Another endpoint registering first is ignored by the demo.
    let mut other = Client::new(server);
    other.register_ok("someone-else");
    let loc = {
        let r = c.register("demo-ep", &["lt=300", "lwm2m=1.1", "b=U"], "</1/0>,</3/0>");
        assert_eq!(r.header.code, MessageClass::Response(ResponseType::Created));
        format!("/{}", tern_test_server::location_path(&r).join("/"))
    };

    let tlv_device: Vec<u8> = {
        let mut v = vec![0xC8, 0x00, 0x04];
        v.extend_from_slice(b"tern");
        v.extend_from_slice(&[0xC1, 0x09, 0x64]); // battery 100
        v.extend_from_slice(&[0x83, 0x0B, 0x41, 0x00, 0x00]); // error codes [0]
        v
    };
    for _ in 0..5 {
        let Some(req) = c.recv_request(T) else {
            let (code, lines) = wait_exit(&mut d);
            panic!("no request from the demo; it exited {code}: {lines:?}");
        };
        let accept = req
            .get_first_option_as::<OptionValueU16>(CoapOption::Accept)
            .map(|v| v.unwrap().0);
        match (req.header.code, path_of(&req).as_str(), accept) {
            (MessageClass::Request(RequestType::Get), "/3/0/0", Some(0)) => {
                c.answer(&req, ResponseType::Content, Some(0), b"tern");
            }
            (MessageClass::Request(RequestType::Get), "/3/0", Some(11542)) => {
                c.answer(&req, ResponseType::Content, Some(11542), &tlv_device);
            }
            (MessageClass::Request(RequestType::Get), "/3/0", Some(40)) => {
                c.answer(
                    &req,
                    ResponseType::Content,
                    Some(40),
                    b"</3/0>,</3/0/0>,</3/0/9>,</3/0/11>",
                );
            }
            (MessageClass::Request(RequestType::Put), "/1/0/1", None) => {
                assert_eq!(req.payload, b"300");
                c.answer(&req, ResponseType::Changed, None, b"");
            }
            (MessageClass::Request(RequestType::Post), "/1/0/8", None) => {
                c.answer(&req, ResponseType::Changed, None, b"");
            }
            other => panic!("unexpected request {other:?}"),
        }
    }
    let p = c.build(RequestType::Post, &loc, &[], None, b"");
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::Changed)
    );
    let p = c.build(RequestType::Delete, &loc, &[], None, b"");
    assert_eq!(
        c.exchange(&p).header.code,
        MessageClass::Response(ResponseType::Deleted)
    );

    let (code, lines) = wait_exit(&mut d);
    let text = lines.join("\n");
    assert_eq!(code, 0, "{text}");
    let expect = [
        "server: registered ep=demo-ep lt=300 b=U lwm2m=1.1 objects=</1/0>,</3/0>",
        "server: read /3/0/0 -> 2.05 \"tern\"",
        "server: read /3/0 (TLV) -> 2.05 3 resources: 0=\"tern\" 9=100 11=[0:0]",
        "server: discover /3/0 -> 2.05 </3/0>,</3/0/0>,</3/0/9>,</3/0/11>",
        "server: write /1/0/1 = 300 -> 2.04",
        "server: execute /1/0/8 -> 2.04",
        "server: update ep=demo-ep",
        "server: deregistered ep=demo-ep",
    ];
    assert_eq!(lines, expect, "{text}");
}

#[test]
fn demo_fails_cleanly_without_a_client() {
    let mut d = spawn(&["--scenario", "demo", "--timeout", "0.5"]);
    let (code, lines) = wait_exit(&mut d);
    assert_eq!(code, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("server: FAIL "), "{lines:?}");
}

#[test]
fn serve_logs_events_until_timeout() {
    let mut d = spawn(&["--scenario", "serve", "--timeout", "1.5"]);
    let mut c = Client::new(([127, 0, 0, 1], d.port).into());
    c.register_ok("logged");
    let (code, lines) = wait_exit(&mut d);
    assert_eq!(code, 0);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("server: datagram from 127.0.0.1:") && l.contains("CON POST")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("server: registered ep=logged lt=300")),
        "{lines:?}"
    );
}

#[test]
fn bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_tern-test-server"))
        .args(["--scenario", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
