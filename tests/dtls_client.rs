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

/// One TLV entry (kind 0: object instance, 3: resource) with a value shorter than 256.
fn tlv(kind: u8, id: u8, v: &[u8]) -> Vec<u8> {
    let mut out = if v.len() < 8 {
        vec![kind << 6 | v.len() as u8, id]
    } else {
        vec![kind << 6 | 0x08, id, v.len() as u8]
    };
    out.extend(v);
    out
}

/// A smartcard blob with one Security instance (`mode`, `uri`, the keys given) and its
/// Server instance (Short Server ID 201).
fn blob(mode: u8, uri: &str, identity: &[u8], key: &[u8]) -> Vec<u8> {
    let mut sec = tlv(3, 0, uri.as_bytes());
    sec.extend(tlv(3, 1, &[0]));
    sec.extend(tlv(3, 2, &[mode]));
    sec.extend(tlv(3, 3, identity));
    sec.extend(tlv(3, 5, key));
    sec.extend(tlv(3, 10, &[0, 201]));
    let mut srv = tlv(3, 0, &[0, 201]);
    srv.extend(tlv(3, 1, &[120]));
    srv.extend(tlv(3, 7, b"U"));
    let mut out = Vec::new();
    for (oid, body) in [(0u8, tlv(0, 1, &sec)), (1, tlv(0, 0, &srv))] {
        out.extend([0, oid]);
        out.extend((body.len() as u16).to_be_bytes());
        out.extend(body);
    }
    out
}

const SECURE_URI: &str = "coaps://192.0.2.9:5684";

/// Opens server 0's connection and returns the first datagram the client sends on it.
fn first_datagram(client: &mut tern::client::Client, platform: &mut TestPlatform) -> Vec<u8> {
    while client.poll_event().is_some() {}
    client.connection_opened(0);
    let t = client.poll_transmit(0, platform).expect("a datagram");
    assert_eq!(t.server, 0);
    t.data.to_vec()
}

#[test]
fn a_bootstrap_written_psk_secures_the_server_and_survives_a_restart() {
    use tern::client::persist::{MemSlots, Restored};
    let mut client = new_client(60, 10, 1);
    let mut platform = TestPlatform::new(1);
    let blob = blob(0, SECURE_URI, b"tern-psk", b"0123456789abcdef");
    assert_eq!(client.bootstrap_from_blob(&blob), Ok(()));
    assert_eq!(client.servers()[0].uri.as_str(), SECURE_URI);
    assert!(
        is_client_hello(&first_datagram(&mut client, &mut platform)),
        "the bootstrapped server is secured: a handshake, not a Register"
    );
    assert!(client.state_changed());
    let mut slots = MemSlots::default();
    assert!(client.save_state(&mut slots));

    let mut rebooted = new_client(60, 10, 2);
    let restored = rebooted.restore_state(&mut slots);
    assert!(matches!(restored, Restored::Applied { .. }), "{restored:?}");
    assert_eq!(rebooted.servers()[0].uri.as_str(), SECURE_URI);
    assert!(
        is_client_hello(&first_datagram(&mut rebooted, &mut platform)),
        "the saved key secures it after a restart"
    );
}

#[test]
fn a_bootstrap_back_to_nosec_drops_the_key() {
    let mut client = new_client(60, 10, 1);
    let mut platform = TestPlatform::new(1);
    client.set_psk(0, b"factory", b"key").unwrap();
    let blob = blob(3, "coap://192.0.2.9:5683", b"", b"");
    assert_eq!(client.bootstrap_from_blob(&blob), Ok(()));
    assert!(
        is_register(&first_datagram(&mut client, &mut platform)),
        "NoSec: a plain Register"
    );
}

#[test]
fn unusable_security_instances_are_refused_at_finish() {
    use tern::client::bootstrap::BlobError::Inconsistent;
    let mut client = new_client(60, 10, 1);
    for (blob, why) in [
        (
            blob(0, SECURE_URI, b"tern-psk", b""),
            "psk identity or key missing",
        ),
        (
            blob(0, SECURE_URI, b"", b"key"),
            "psk identity or key missing",
        ),
        (
            blob(0, "coap://192.0.2.9:5683", b"id", b"key"),
            "server uri",
        ),
        (blob(3, SECURE_URI, b"", b""), "server uri"),
        (
            blob(2, SECURE_URI, b"cert", b"key"),
            "x.509 certificates not supported",
        ),
        (
            blob(1, SECURE_URI, b"pub", b"key"),
            "security mode not supported",
        ),
    ] {
        assert_eq!(client.bootstrap_from_blob(&blob), Err(Inconsistent(why)));
        assert_eq!(
            client.servers()[0].uri.as_str(),
            SERVER_URI,
            "nothing changed"
        );
    }
    // A key longer than a session holds is refused at the write.
    let long = blob(0, SECURE_URI, b"id", &[7; 65]);
    assert!(matches!(
        client.bootstrap_from_blob(&long),
        Err(tern::client::bootstrap::BlobError::Write(_))
    ));
}

/// A client with only a bootstrap server (coaps://, no hold-off) whose account has a key.
fn secured_bootstrap_client(
    slot: &mut std::mem::MaybeUninit<tern::client::Client>,
) -> &mut tern::client::Client {
    use tern::client::bootstrap::{BootstrapConfig, BOOTSTRAP_SLOT};
    use tern::client::{Client, Config, Version};
    let config = Config {
        endpoint: EP,
        version: Version::V1_1,
        update_margin_s: 10,
        servers: &[],
    };
    let bs = BootstrapConfig {
        uri: "coaps://192.0.2.100:5684",
        hold_off_s: 0,
        first: true,
        server_initiated: false,
    };
    let client = Client::init_with_bootstrap(slot, &config, &bs, 1).expect("valid configuration");
    client
        .set_psk(BOOTSTRAP_SLOT, b"bs-identity", b"bs-key")
        .unwrap();
    client
}

#[test]
fn a_secured_bootstrap_server_gets_the_handshake_before_the_request() {
    use tern::client::bootstrap::BOOTSTRAP_SLOT;
    let mut slot = std::mem::MaybeUninit::uninit();
    let client = secured_bootstrap_client(&mut slot);
    let mut platform = TestPlatform::new(1);
    assert!(client.poll_transmit(0, &mut platform).is_none());
    while client.poll_event().is_some() {}
    client.connection_opened(BOOTSTRAP_SLOT);
    let t = client.poll_transmit(0, &mut platform).expect("a datagram");
    assert_eq!(t.server, BOOTSTRAP_SLOT);
    assert!(
        is_client_hello(t.data),
        "a ClientHello, not the Bootstrap-Request"
    );
    assert!(
        client.poll_transmit(0, &mut platform).is_none(),
        "nothing else before the handshake"
    );
    assert_eq!(
        client.poll_timeout(),
        Some(1_000),
        "only the flight's timer"
    );
}

#[test]
fn the_bootstrap_servers_session_is_kept_free() {
    use tern::client::bootstrap::BOOTSTRAP_SLOT;
    // A factory server and a secured bootstrap server: with one session, the bootstrap
    // server's is kept and the factory server cannot take it.
    let mut client = new_client(60, 10, 1);
    assert!(
        client.set_psk(BOOTSTRAP_SLOT, b"id", b"key").is_err(),
        "no bootstrap account"
    );
    let mut slot = std::mem::MaybeUninit::uninit();
    let bs = secured_bootstrap_client(&mut slot);
    assert!(bs.set_psk(0, b"id", b"key").is_err(), "no server 0");
    assert!(
        bs.set_psk(BOOTSTRAP_SLOT, b"id2", b"key2").is_ok(),
        "replaced"
    );
    if tern::config::MAX_DTLS_SESSIONS == 1 {
        let blob = blob(0, SECURE_URI, b"tern-psk", b"0123456789abcdef");
        assert_eq!(
            bs.bootstrap_from_blob(&blob),
            Err(tern::client::bootstrap::BlobError::Inconsistent(
                "more secured servers than dtls sessions"
            ))
        );
    }
}
