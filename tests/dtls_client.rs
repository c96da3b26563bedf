//! The client with a server secured by its own DTLS (feature `dtls`): the handshake goes out
//! before any CoAP, and a handshake that fails starts again only after a pause, so that a
//! server answering every ClientHello with an alert is not flooded.
#![cfg(feature = "dtls")]

mod sim;

use sim::*;

/// A fatal alert record (epoch 0): handshake_failure.
const FATAL_ALERT: [u8; 15] = [21, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40];

fn is_client_hello(d: &[u8]) -> bool {
    d.len() > 13 && d[0] == 22 && d[1..3] == [0xFE, 0xFD] && d[13] == 1
}

#[test]
fn the_handshake_goes_first_and_a_failed_one_waits_before_it_starts_again() {
    let mut client = new_client(60, 10, 1);
    let mut platform = TestPlatform::new(1);
    client.set_psk(0, b"tern", b"0123456789abcdef").unwrap();
    while client.poll_event().is_some() {}
    client.connection_opened(0);

    let hello = client
        .poll_transmit(0, &mut platform)
        .unwrap()
        .data
        .to_vec();
    assert!(
        is_client_hello(&hello),
        "the first datagram is a ClientHello"
    );
    assert!(
        client.poll_transmit(0, &mut platform).is_none(),
        "no Register before the handshake"
    );
    assert_eq!(
        client.poll_timeout(),
        Some(1_000),
        "the flight's retransmission timer"
    );

    client.handle_datagram(0, &FATAL_ALERT, 10, &mut platform);
    assert!(client.poll_transmit(10, &mut platform).is_none());
    assert_eq!(
        client.poll_timeout(),
        Some(60_010),
        "a failed handshake waits a minute"
    );
    assert!(client.poll_transmit(59_000, &mut platform).is_none());

    let again = client
        .poll_transmit(60_010, &mut platform)
        .unwrap()
        .data
        .to_vec();
    assert!(is_client_hello(&again), "then it starts again");
    assert_ne!(again, hello, "with a new random");
}

#[test]
fn psk_settings_are_checked() {
    let mut client = new_client(60, 10, 1);
    assert!(client.set_psk(1, b"id", b"key").is_err(), "no such server");
    assert!(client.set_psk(0, b"", b"key").is_err(), "empty identity");
    assert!(client.set_psk(0, b"id", &[0; 65]).is_err(), "key too long");
    assert!(client.set_psk(0, b"id", b"key").is_ok());
    assert!(
        client.set_psk(0, b"id2", b"key2").is_ok(),
        "replaced, not added"
    );
}

/// The P-256 base point, uncompressed: a valid public key.
#[cfg(feature = "dtls-rpk")]
const P256_G: [u8; 65] = [
    4, 0x6B, 0x17, 0xD1, 0xF2, 0xE1, 0x2C, 0x42, 0x47, 0xF8, 0xBC, 0xE6, 0xE5, 0x63, 0xA4, 0x40,
    0xF2, 0x77, 0x03, 0x7D, 0x81, 0x2D, 0xEB, 0x33, 0xA0, 0xF4, 0xA1, 0x39, 0x45, 0xD8, 0x98, 0xC2,
    0x96, 0x4F, 0xE3, 0x42, 0xE2, 0xFE, 0x1A, 0x7F, 0x9B, 0x8E, 0xE7, 0xEB, 0x4A, 0x7C, 0x0F, 0x9E,
    0x16, 0x2B, 0xCE, 0x33, 0x57, 0x6B, 0x31, 0x5E, 0xCE, 0xCB, 0xB6, 0x40, 0x68, 0x37, 0xBF, 0x51,
    0xF5,
];

#[cfg(feature = "dtls-rpk")]
#[test]
fn rpk_settings_are_checked_and_the_hello_offers_only_ecdhe_ecdsa() {
    let mut client = new_client(60, 10, 1);
    let mut platform = TestPlatform::new(1);
    assert!(
        client.set_rpk(1, &[1; 32], &P256_G).is_err(),
        "no such server"
    );
    assert!(client.set_rpk(0, &[0; 32], &P256_G).is_err(), "zero key");
    assert!(client.set_rpk(0, &[1; 31], &P256_G).is_err(), "short key");
    assert!(
        client.set_rpk(0, &[1; 32], &P256_G[1..64]).is_err(),
        "short point"
    );
    let mut off_curve = P256_G;
    off_curve[64] ^= 1;
    assert!(
        client.set_rpk(0, &[1; 32], &off_curve).is_err(),
        "off the curve"
    );
    client.set_psk(0, b"tern", b"0123456789abcdef").unwrap();
    client.set_rpk(0, &[1; 32], &P256_G).unwrap();
    while client.poll_event().is_some() {}
    client.connection_opened(0);
    let hello = client
        .poll_transmit(0, &mut platform)
        .unwrap()
        .data
        .to_vec();
    assert!(is_client_hello(&hello));
    assert!(
        hello.windows(4).any(|w| w == [0, 2, 0xC0, 0xAE]),
        "the RPK suite alone replaced the PSK"
    );
    assert!(!hello.windows(2).any(|w| w == [0xC0, 0xA8]));
}

/// A handshake record (epoch 0) carrying one unfragmented message.
#[cfg(feature = "dtls-rpk")]
fn handshake_record(msg_type: u8, seq: u16, body: &[u8]) -> Vec<u8> {
    let l = (body.len() as u32).to_be_bytes();
    let mut m = vec![msg_type, l[1], l[2], l[3]];
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, l[1], l[2], l[3]]);
    m.extend_from_slice(body);
    let mut r = vec![22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, seq as u8];
    r.extend_from_slice(&(m.len() as u16).to_be_bytes());
    r.extend_from_slice(&m);
    r
}

#[cfg(feature = "dtls-rpk")]
#[test]
fn a_server_with_another_key_gets_a_bad_certificate_alert_then_a_pause() {
    let mut client = new_client(60, 10, 1);
    let mut platform = TestPlatform::new(1);
    client.set_rpk(0, &[1; 32], &P256_G).unwrap();
    while client.poll_event().is_some() {}
    client.connection_opened(0);
    assert!(is_client_hello(
        client.poll_transmit(0, &mut platform).unwrap().data
    ));

    // ServerHello choosing the RPK suite and raw public keys both ways, then a Certificate
    // whose SubjectPublicKeyInfo holds another key.
    let mut hello = vec![0xFE, 0xFD];
    hello.extend_from_slice(&[9; 32]);
    hello.extend_from_slice(&[0, 0xC0, 0xAE, 0, 0, 10, 0, 19, 0, 1, 2, 0, 20, 0, 1, 2]);
    let mut flight = handshake_record(2, 0, &hello);
    let mut certificate = vec![
        0, 0, 91, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48,
    ];
    certificate.extend_from_slice(&[0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE]);
    certificate.extend_from_slice(&[0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00]);
    certificate.extend_from_slice(&P256_G);
    certificate[94 - 1] ^= 1; // the last byte of Y: not the configured key
    flight.extend_from_slice(&handshake_record(11, 1, &certificate));
    client.handle_datagram(0, &flight, 10, &mut platform);

    let alert = client
        .poll_transmit(10, &mut platform)
        .expect("the alert goes out")
        .data
        .to_vec();
    assert_eq!(alert.len(), 15);
    assert_eq!(alert[0], 21, "an alert record");
    assert_eq!(&alert[13..], &[2, 42], "fatal bad_certificate");
    assert!(client.poll_transmit(10, &mut platform).is_none());
    assert_eq!(
        client.poll_timeout(),
        Some(60_010),
        "then a minute before a new handshake"
    );
}
