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

    // A record of epoch 1 before any keys: dropped, and said so.
    let mut epoch_1 = FATAL_ALERT;
    epoch_1[4] = 1;
    client.handle_datagram(0, &epoch_1, 5, &mut platform);
    let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
    assert_eq!(
        events,
        [tern::client::Event::Dropped {
            server: 0,
            reason: tern::client::DropReason::Unauthenticated
        }]
    );

    client.handle_datagram(0, &FATAL_ALERT, 10, &mut platform);
    assert!(client.poll_transmit(10, &mut platform).is_none());
    let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
    assert_eq!(
        events,
        [tern::client::Event::HandshakeFailed {
            server: 0,
            error: tern::dtls::Error::Alert(40)
        }],
        "the application hears why"
    );
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
const SECURE_URI: &str = "coaps://192.0.2.9:5684";

#[test]
fn a_bootstrap_written_psk_secures_the_server_and_survives_a_restart() {
    let mut client = new_client(60, 10, 1);
    let mut platform = TestPlatform::new(1);
    let blob = security_blob(0, SECURE_URI, b"tern-psk", b"0123456789abcdef");
    assert_eq!(client.bootstrap_from_blob(&blob), Ok(()));
    assert_eq!(client.servers()[0].uri.as_str(), SECURE_URI);
    assert!(
        is_client_hello(&first_datagram(&mut client, &mut platform)),
        "the bootstrapped server is secured: a handshake, not a Register"
    );
    assert!(client.state_changed());
    let mut rebooted = restarted(&mut client);
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
    let blob = security_blob(3, "coap://192.0.2.9:5683", b"", b"");
    assert_eq!(client.bootstrap_from_blob(&blob), Ok(()));
    assert!(
        is_register(&first_datagram(&mut client, &mut platform)),
        "NoSec: a plain Register"
    );
}

#[test]
fn unusable_security_instances_are_refused_at_finish() {
    use tern::client::bootstrap::BlobError::Write;
    let mut client = new_client(60, 10, 1);
    let missing = "psk identity or key missing";
    let mut cases = vec![
        (security_blob(0, SECURE_URI, b"tern-psk", b""), missing),
        (security_blob(0, SECURE_URI, b"", b"key"), missing),
        (
            security_blob(0, "coap://192.0.2.9:5683", b"id", b"key"),
            "server uri",
        ),
        (security_blob(3, SECURE_URI, b"", b""), "server uri"),
        (
            security_blob(2, SECURE_URI, b"cert", b"key"),
            "x.509 certificates not supported",
        ),
    ];
    if cfg!(feature = "dtls-rpk") {
        cases.push((
            security_blob(1, SECURE_URI, b"pub", b"key"),
            "rpk keys missing",
        ));
        // Not a point on the curve: X without Y.
        let bad = security_blob_with(1, SECURE_URI, b"", &[4; 64], &[1; 32]);
        cases.push((bad, "rpk keys unusable"));
        // Longer than a pre-shared key may be, though resource 5 may hold a DER private key.
        cases.push((
            security_blob(0, SECURE_URI, b"id", &[7; 65]),
            "psk unusable",
        ));
    } else {
        cases.push((
            security_blob(1, SECURE_URI, b"pub", b"key"),
            "security mode not supported",
        ));
    }
    assert_refused_at_finish(&mut client, &cases);
    if !cfg!(feature = "dtls-rpk") {
        // A key longer than a session holds is refused at the write.
        let long = security_blob(0, SECURE_URI, b"id", &[7; 65]);
        assert!(matches!(client.bootstrap_from_blob(&long), Err(Write(_))));
    }
}

/// A client with a bootstrap server (coaps://, no hold-off, bootstrapped from first) and
/// `servers`, no keys given.
fn bootstrap_client<'a>(
    slot: &'a mut std::mem::MaybeUninit<tern::client::Client>,
    servers: &[tern::client::ServerConfig<'_>],
) -> &'a mut tern::client::Client {
    use tern::client::bootstrap::BootstrapConfig;
    use tern::client::{Client, Config, Version};
    let config = Config {
        endpoint: EP,
        version: Version::V1_1,
        update_margin_s: 10,
        servers,
    };
    let bs = BootstrapConfig {
        uri: "coaps://192.0.2.100:5684",
        hold_off_s: 0,
        first: true,
        server_initiated: false,
    };
    Client::init_with_bootstrap(slot, &config, &bs, 1).expect("valid configuration")
}

/// A client with only a bootstrap server (coaps://, no hold-off) whose account has a key.
fn secured_bootstrap_client(
    slot: &mut std::mem::MaybeUninit<tern::client::Client>,
) -> &mut tern::client::Client {
    use tern::client::bootstrap::BOOTSTRAP_SLOT;
    let client = bootstrap_client(slot, &[]);
    client
        .set_psk(BOOTSTRAP_SLOT, b"bs-identity", b"bs-key")
        .unwrap();
    client
}

/// Opens the bootstrap connection and returns the first datagram the client sends on it.
#[cfg(feature = "dtls-rpk")]
fn first_bootstrap_datagram(
    client: &mut tern::client::Client,
    platform: &mut TestPlatform,
) -> Vec<u8> {
    use tern::client::bootstrap::BOOTSTRAP_SLOT;
    assert!(client.poll_transmit(0, platform).is_none());
    while client.poll_event().is_some() {}
    client.connection_opened(BOOTSTRAP_SLOT);
    let t = client.poll_transmit(0, platform).expect("a datagram");
    assert_eq!(t.server, BOOTSTRAP_SLOT);
    t.data.to_vec()
}

#[test]
fn bootstrap_psk_settings_are_checked_without_a_session() {
    use tern::client::bootstrap::BOOTSTRAP_SLOT;
    use tern::client::PskError::BadCredentials;
    let mut slot = std::mem::MaybeUninit::uninit();
    let client = bootstrap_client(&mut slot, &[]);
    let long = [7u8; 65];
    for (identity, key, why) in [
        (&b""[..], &b"key"[..], "empty identity"),
        (b"id", b"", "empty key"),
        (&long[..], b"key", "identity too long"),
        (b"id", &long[..], "key too long"),
    ] {
        assert_eq!(
            client.set_psk(BOOTSTRAP_SLOT, identity, key),
            Err(BadCredentials),
            "{why}"
        );
    }
    let account = client.bootstrap_account().unwrap();
    assert_eq!(account.mode, 3, "still NoSec: nothing kept");
    assert_eq!(
        client.set_psk(BOOTSTRAP_SLOT, &long[..64], &long[..64]),
        Ok(())
    );
    let account = client.bootstrap_account().unwrap();
    assert_eq!((account.mode, account.keys.key.len()), (0, 64));
}

#[cfg(feature = "dtls-rpk")]
#[test]
fn the_bootstrap_server_takes_raw_public_keys_kept_in_their_raw_forms() {
    use tern::client::bootstrap::BOOTSTRAP_SLOT;
    use tern::client::PskError::{BadCredentials, UnknownServer};
    // The cipher suite list: this suite alone.
    let offers = |hello: &[u8], [a, b]: [u8; 2]| hello.windows(4).any(|w| w == [0, 2, a, b]);
    let mut client = new_client(60, 10, 1);
    assert_eq!(
        client.set_rpk(BOOTSTRAP_SLOT, &[1; 32], &P256_G),
        Err(UnknownServer),
        "no bootstrap account"
    );
    let mut slot = std::mem::MaybeUninit::uninit();
    let client = bootstrap_client(&mut slot, &[]);
    let mut off_curve = P256_G;
    off_curve[64] ^= 1;
    for (private, public, why) in [
        (&[0u8; 32][..], &P256_G[..], "zero key"),
        (&[1; 31], &P256_G, "short key"),
        (&[1; 32], &P256_G[1..64], "short point"),
        (&[1; 32], &off_curve, "off the curve"),
    ] {
        assert_eq!(
            client.set_rpk(BOOTSTRAP_SLOT, private, public),
            Err(BadCredentials),
            "{why}"
        );
        assert_eq!(client.bootstrap_account().unwrap().mode, 3, "nothing kept");
    }
    // The SEC1 point given, the raw X || Y kept (as a session's rpk_keys gives them).
    client.set_rpk(BOOTSTRAP_SLOT, &[1; 32], &P256_G).unwrap();
    let account = client.bootstrap_account().unwrap();
    assert_eq!(account.mode, 1, "Security mode 1");
    assert_eq!(&account.keys.key[..], &[1; 32]);
    assert_eq!(&account.keys.server_key[..], &P256_G[1..]);
    assert!(account.keys.identity.is_empty());

    let mut platform = TestPlatform::new(1);
    let hello = first_bootstrap_datagram(client, &mut platform);
    assert!(is_client_hello(&hello), "a ClientHello, not the request");
    assert!(
        offers(&hello, [0xC0, 0xAE]),
        "an ECDHE-ECDSA handshake only"
    );
    assert!(
        client.poll_transmit(0, &mut platform).is_none(),
        "nothing else before the handshake"
    );
}

#[cfg(feature = "dtls-rpk")]
#[test]
fn the_bootstrap_servers_psk_and_raw_public_keys_replace_each_other() {
    use tern::client::bootstrap::BOOTSTRAP_SLOT;
    // The cipher suite list: this suite alone.
    let offers = |hello: &[u8], [a, b]: [u8; 2]| hello.windows(4).any(|w| w == [0, 2, a, b]);
    // With one session: a replacement needs no second one.
    let mut slot = std::mem::MaybeUninit::uninit();
    let client = secured_bootstrap_client(&mut slot);
    client.set_rpk(BOOTSTRAP_SLOT, &[1; 32], &P256_G).unwrap();
    let account = client.bootstrap_account().unwrap();
    assert_eq!((account.mode, account.keys.identity.len()), (1, 0));
    let hello = first_bootstrap_datagram(client, &mut TestPlatform::new(1));
    assert!(offers(&hello, [0xC0, 0xAE]), "raw public keys only");

    let mut slot = std::mem::MaybeUninit::uninit();
    let client = bootstrap_client(&mut slot, &[]);
    client.set_rpk(BOOTSTRAP_SLOT, &[1; 32], &P256_G).unwrap();
    client
        .set_psk(BOOTSTRAP_SLOT, b"bs-identity", b"bs-key")
        .unwrap();
    let account = client.bootstrap_account().unwrap();
    assert_eq!(account.mode, 0);
    assert!(account.keys.server_key.is_empty(), "the server key went");
    assert_eq!(&account.keys.key[..], b"bs-key");
    let hello = first_bootstrap_datagram(client, &mut TestPlatform::new(1));
    assert!(offers(&hello, [0xC0, 0xA8]), "the pre-shared key only");
}

#[cfg(feature = "dtls-rpk")]
#[test]
fn the_bootstrap_servers_rpk_session_is_kept_free() {
    use tern::client::bootstrap::BOOTSTRAP_SLOT;
    use tern::client::PskError::NoSpace;
    use tern::client::ServerConfig;
    if tern::config::MAX_DTLS_SESSIONS != 1 {
        eprintln!("the reservation checks need TERN_MAX_DTLS_SESSIONS=1");
        return;
    }
    let factory = [ServerConfig {
        uri: SECURE_URI,
        short_id: 101,
        lifetime_s: 60,
    }];
    // Keys for the bootstrap server keep the only session from the factory server...
    let mut slot = std::mem::MaybeUninit::uninit();
    let client = bootstrap_client(&mut slot, &factory);
    client.set_rpk(BOOTSTRAP_SLOT, &[1; 32], &P256_G).unwrap();
    assert_eq!(client.set_rpk(0, &[2; 32], &P256_G), Err(NoSpace));
    assert_eq!(client.set_psk(0, b"id", b"key"), Err(NoSpace));
    // ... the bootstrap connection takes it ...
    let hello = first_bootstrap_datagram(client, &mut TestPlatform::new(1));
    assert!(is_client_hello(&hello));
    // ... and the factory server's session leaves none for the bootstrap server.
    let mut slot = std::mem::MaybeUninit::uninit();
    let client = bootstrap_client(&mut slot, &factory);
    client.set_rpk(0, &[2; 32], &P256_G).unwrap();
    assert_eq!(
        client.set_rpk(BOOTSTRAP_SLOT, &[1; 32], &P256_G),
        Err(NoSpace)
    );
    assert_eq!(client.bootstrap_account().unwrap().mode, 3, "nothing kept");
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
        let blob = security_blob(0, SECURE_URI, b"tern-psk", b"0123456789abcdef");
        assert_eq!(
            bs.bootstrap_from_blob(&blob),
            Err(tern::client::bootstrap::BlobError::Inconsistent(
                "more secured servers than dtls sessions"
            ))
        );
    }
}

#[cfg(feature = "dtls-rpk")]
#[test]
fn bootstrap_written_raw_public_keys_secure_the_server_and_survive_a_restart() {
    let offers_rpk = |hello: &[u8]| hello.windows(4).any(|w| w == [0, 2, 0xC0, 0xAE]);
    let mut client = new_client(60, 10, 1);
    let mut platform = TestPlatform::new(1);
    let blob = security_blob_with(1, SECURE_URI, b"", &P256_G, &[1; 32]);
    assert_eq!(client.bootstrap_from_blob(&blob), Ok(()));
    let hello = first_datagram(&mut client, &mut platform);
    assert!(
        is_client_hello(&hello) && offers_rpk(&hello),
        "an ECDHE-ECDSA handshake"
    );
    let mut rebooted = restarted(&mut client);
    let hello = first_datagram(&mut rebooted, &mut platform);
    assert!(
        is_client_hello(&hello) && offers_rpk(&hello),
        "the saved keys secure it after a restart"
    );
}
