//! A tiny LwM2M client made of coap-lite and a UDP socket, for testing the
//! test server against itself.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use tern_test_server::coap_lite::option_value::{OptionValueU16, OptionValueU32};
use tern_test_server::coap_lite::{
    CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType,
};
use tern_test_server::{location_path, set_path};

pub const T: Duration = Duration::from_secs(5);

pub struct Client {
    pub sock: UdpSocket,
    pub server: SocketAddr,
    mid: u16,
}

impl Client {
    pub fn new(server: SocketAddr) -> Client {
        let bind: SocketAddr = if server.is_ipv4() {
            "127.0.0.1:0".parse().unwrap()
        } else {
            "[::1]:0".parse().unwrap()
        };
        let sock = UdpSocket::bind(bind).unwrap();
        Client {
            sock,
            server,
            mid: 0x1000,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    pub fn next_mid(&mut self) -> u16 {
        self.mid = self.mid.wrapping_add(1);
        self.mid
    }

    pub fn send(&self, p: &Packet) -> Vec<u8> {
        let b = p.to_bytes().unwrap();
        self.sock.send_to(&b, self.server).unwrap();
        b
    }

    pub fn send_bytes(&self, b: &[u8]) {
        self.sock.send_to(b, self.server).unwrap();
    }

    /// Next datagram that parses as CoAP, or None after `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<Packet> {
        self.recv_bytes(timeout)
            .map(|b| Packet::from_bytes(&b).unwrap())
    }

    pub fn recv_bytes(&self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 2048];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            self.sock.set_read_timeout(Some(deadline - now)).unwrap();
            if let Ok((n, from)) = self.sock.recv_from(&mut buf) {
                if from == self.server {
                    return Some(buf[..n].to_vec());
                }
            }
        }
    }

    /// A CON request with the given method, path, queries and payload.
    pub fn build(
        &mut self,
        method: RequestType,
        path: &str,
        query: &[&str],
        cf: Option<u16>,
        payload: &[u8],
    ) -> Packet {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(method);
        p.header.message_id = self.next_mid();
        p.set_token(vec![0xC0, self.mid as u8]);
        set_path(&mut p, path);
        for q in query {
            p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
        }
        if let Some(cf) = cf {
            p.add_option_as(CoapOption::ContentFormat, OptionValueU16(cf));
        }
        p.payload = payload.to_vec();
        p
    }

    /// Send a CON request and wait for the piggybacked ACK with its message id.
    pub fn exchange(&mut self, p: &Packet) -> Packet {
        self.send(p);
        let deadline = Instant::now() + T;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let r = self.recv(left).expect("no response from the server");
            if r.header.get_type() == MessageType::Acknowledgement
                && r.header.message_id == p.header.message_id
            {
                return r;
            }
        }
    }

    pub fn register(&mut self, ep: &str, query: &[&str], links: &str) -> Packet {
        let q_ep = format!("ep={ep}");
        let mut q = vec![q_ep.as_str()];
        q.extend_from_slice(query);
        let p = self.build(RequestType::Post, "/rd", &q, Some(40), links.as_bytes());
        self.exchange(&p)
    }

    /// Register and return the location path ("/rd/N").
    pub fn register_ok(&mut self, ep: &str) -> String {
        let r = self.register(ep, &["lt=300", "lwm2m=1.1", "b=U"], "</1/0>,</3/0>");
        assert_eq!(r.header.code, MessageClass::Response(ResponseType::Created));
        format!("/{}", location_path(&r).join("/"))
    }

    /// Wait for a request from the server.
    pub fn recv_request(&self, timeout: Duration) -> Option<Packet> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let p = self.recv(left)?;
            if matches!(p.header.code, MessageClass::Request(_)) {
                return Some(p);
            }
        }
    }

    /// Answer a request with a piggybacked response.
    pub fn answer(
        &self,
        req: &Packet,
        code: ResponseType,
        cf: Option<u16>,
        payload: &[u8],
    ) -> Packet {
        let mut r = Packet::new();
        r.header.set_type(MessageType::Acknowledgement);
        r.header.code = MessageClass::Response(code);
        r.header.message_id = req.header.message_id;
        r.set_token(req.get_token().to_vec());
        if let Some(cf) = cf {
            r.add_option_as(CoapOption::ContentFormat, OptionValueU16(cf));
        }
        r.payload = payload.to_vec();
        self.send(&r);
        r
    }

    /// A notification (CON or NON) for `token`.
    pub fn notify(&mut self, token: &[u8], seq: u32, con: bool, payload: &[u8]) -> Packet {
        let mut r = Packet::new();
        r.header.set_type(if con {
            MessageType::Confirmable
        } else {
            MessageType::NonConfirmable
        });
        r.header.code = MessageClass::Response(ResponseType::Content);
        r.header.message_id = self.next_mid();
        r.set_token(token.to_vec());
        r.add_option_as(CoapOption::Observe, OptionValueU32(seq));
        r.add_option_as(CoapOption::ContentFormat, OptionValueU16(0));
        r.payload = payload.to_vec();
        self.send(&r);
        r
    }
}

pub fn path_of(p: &Packet) -> String {
    format!("/{}", tern_test_server::uri_path(p).join("/"))
}
