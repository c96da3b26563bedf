//! Pre-shared keys that a bootstrap server writes for a server whose DTLS the platform does
//! (feature `platform-credentials`): kept for the platform, never used by the engine itself,
//! checked at Finish, and persisted across a restart. The `credentials` callback of the C
//! ABI is checked in `tests/c_abi.rs`.
#![cfg(feature = "platform-credentials")]

mod sim;

use sim::*;
use tern::client::bootstrap::BlobError::Write;
use tern::client::Client;

const SECURE_URI: &str = "coaps://192.0.2.9:5684";
const KEY: &[u8] = b"0123456789abcdef";

/// Security instance, mode, identity and key handed to the platform for server 0.
fn handed(client: &Client) -> Option<(u16, u8, Vec<u8>, Vec<u8>)> {
    let (iid, mode, keys) = client.platform_credentials(0)?;
    Some((iid, mode, keys.identity.to_vec(), keys.key.to_vec()))
}

#[test]
fn a_bootstrap_written_psk_goes_to_the_platform_and_survives_a_restart() {
    let mut client = new_client(60, 10, 1);
    let mut platform = TestPlatform::new(1);
    assert_eq!(
        handed(&client),
        None,
        "a configured server: the platform's own keys"
    );
    let blob = security_blob(0, SECURE_URI, b"tern-psk", KEY);
    assert_eq!(client.bootstrap_from_blob(&blob), Ok(()));
    let want = Some((1, 0, b"tern-psk".to_vec(), KEY.to_vec()));
    assert_eq!(handed(&client), want);
    assert!(
        is_register(&first_datagram(&mut client, &mut platform)),
        "the platform secures the connection: the engine sends plain CoAP on it"
    );
    let rebooted = restarted(&mut client);
    assert_eq!(rebooted.servers()[0].uri.as_str(), SECURE_URI);
    assert_eq!(handed(&rebooted), want, "the saved key after a restart");
}

#[test]
fn a_bootstrap_back_to_nosec_drops_the_key() {
    let mut client = new_client(60, 10, 1);
    let blob = security_blob(0, SECURE_URI, b"tern-psk", KEY);
    assert_eq!(client.bootstrap_from_blob(&blob), Ok(()));
    assert!(handed(&client).is_some());
    let blob = security_blob(3, "coap://192.0.2.9:5683", b"", b"");
    assert_eq!(client.bootstrap_from_blob(&blob), Ok(()));
    assert_eq!(handed(&client), None);
}

#[test]
fn unusable_psk_accounts_are_refused_and_change_nothing() {
    let mut client = new_client(60, 10, 1);
    let missing = "psk identity or key missing";
    let cases = [
        (security_blob(0, SECURE_URI, b"tern-psk", b""), missing),
        (security_blob(0, SECURE_URI, b"", KEY), missing),
        (
            security_blob(0, "coap://192.0.2.9:5683", b"id", KEY),
            "server uri",
        ),
        (
            security_blob(1, SECURE_URI, b"pub", KEY),
            "security mode not supported",
        ),
        (
            security_blob(2, SECURE_URI, b"cert", KEY),
            "x.509 certificates not supported",
        ),
    ];
    assert_refused_at_finish(&mut client, &cases);
    assert_eq!(handed(&client), None);
    // Longer than the 64 bytes kept: the write itself is refused.
    let long = security_blob(0, SECURE_URI, b"id", &[7; 65]);
    assert!(matches!(client.bootstrap_from_blob(&long), Err(Write(_))));
    assert_eq!(handed(&client), None);
}
