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
