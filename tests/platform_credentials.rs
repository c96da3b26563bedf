//! Pre-shared keys that a bootstrap server writes for a server whose DTLS the platform does
//! (feature `platform-credentials`): kept for the platform, never used by the engine itself,
//! checked at Finish, and persisted across a restart.
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

/// Through the C ABI: the `credentials` callback runs before `open`, with the written
/// key, and a refusal fails the connection without an `open`.
mod c_abi {
    use super::*;
    use std::ffi::{c_char, c_void};
    use tern::ffi::client::{tern_client_close, tern_client_init, tern_client_step};
    use tern::ffi::tern_event_kind_t::TERN_EVENT_CONNECTION_FAILED;
    use tern::ffi::tern_status_t::{TERN_STATUS_IO, TERN_STATUS_OK};
    use tern::ffi::*;

    extern "C" {
        // The client handle as C sees it: an opaque pointer.
        fn tern_client_bootstrap_blob(
            client: *mut c_void,
            data: *const u8,
            len: usize,
        ) -> tern_status_t;
    }

    /// What the platform saw, in order; `refuse` makes `credentials` fail.
    #[derive(Default)]
    struct Calls {
        log: Vec<String>,
        refuse: bool,
    }

    fn calls<'a>(user: *mut c_void) -> &'a mut Calls {
        // SAFETY: every callback gets the `Calls` the test passed as `user`.
        unsafe { &mut *user.cast::<Calls>() }
    }

    unsafe extern "C" fn open(
        user: *mut c_void,
        _uri: *const c_char,
        _len: usize,
        iid: u16,
        conn: *mut *mut c_void,
    ) -> tern_status_t {
        calls(user).log.push(format!("open {iid}"));
        // SAFETY: the library passes a valid out-pointer.
        unsafe { *conn = std::ptr::NonNull::<u8>::dangling().as_ptr().cast() };
        TERN_STATUS_OK
    }

    unsafe extern "C" fn send(
        _: *mut c_void,
        _: *mut c_void,
        _: *const u8,
        _: usize,
    ) -> tern_status_t {
        TERN_STATUS_OK
    }

    unsafe extern "C" fn close(user: *mut c_void, _: *mut c_void) {
        calls(user).log.push("close".into());
    }

    unsafe extern "C" fn random(_: *mut c_void, out: *mut u8, len: usize) {
        // SAFETY: the library passes `len` writable bytes.
        unsafe { std::ptr::write_bytes(out, 7, len) };
    }

    unsafe extern "C" fn event(user: *mut c_void, e: *const tern_event_t) {
        // SAFETY: the event is valid during the call.
        if unsafe { (*e).kind } == TERN_EVENT_CONNECTION_FAILED {
            calls(user).log.push("connection failed".into());
        }
    }

    unsafe extern "C" fn credentials(
        user: *mut c_void,
        c: *const tern_credentials_t,
    ) -> tern_status_t {
        // SAFETY: the credentials and the bytes they point at are valid during the call.
        let (c, identity, key) = unsafe {
            let c = &*c;
            let identity = std::slice::from_raw_parts(c.identity, c.identity_len);
            (c, identity, std::slice::from_raw_parts(c.key, c.key_len))
        };
        let calls = calls(user);
        let line = format!(
            "credentials {} {} {}",
            c.security_instance,
            c.mode,
            String::from_utf8_lossy(identity)
        );
        calls.log.push(line);
        assert_eq!(key, KEY);
        if calls.refuse {
            TERN_STATUS_IO
        } else {
            TERN_STATUS_OK
        }
    }

    /// A client bootstrapped from a blob with a PSK account; its log after the first step.
    fn first_step(refuse: bool) -> Vec<String> {
        let text = |s: &'static str| tern_str_t {
            ptr: s.as_ptr().cast(),
            len: s.len(),
        };
        let server = tern_server_config_t {
            uri: text(SERVER_URI),
            short_server_id: 101,
            lifetime_s: 60,
        };
        let config = tern_config_t {
            endpoint: text("tern-test"),
            lwm2m_version: 11,
            update_margin_s: 10,
            servers: &server,
            server_count: 1,
            manufacturer: text("tern"),
            model: text("m"),
            serial: text("1"),
            firmware_version: text("1"),
            bootstrap_uri: text(""),
            bootstrap_hold_off_s: 0,
            bootstrap_flags: 0,
        };
        let mut calls = Calls {
            refuse,
            ..Calls::default()
        };
        let platform = tern_platform_t {
            user: (&mut calls as *mut Calls).cast(),
            open: Some(open),
            send: Some(send),
            recv: None,
            close: Some(close),
            random: Some(random),
            log: None,
            event: Some(event),
            store: None,
            load: None,
            credentials: Some(credentials),
        };
        let mut storage = vec![0u64; tern::ffi::client::tern_client_storage_size() / 8 + 1];
        let mut client = std::ptr::null_mut();
        let blob = security_blob(0, SECURE_URI, b"tern-psk", KEY);
        let mut next = 0;
        // SAFETY: the storage, configuration and platform outlive the client, which is
        // closed before they go.
        unsafe {
            let len = storage.len() * 8;
            let st = tern_client_init(
                storage.as_mut_ptr().cast(),
                len,
                &config,
                &platform,
                &mut client,
            );
            assert_eq!(st, TERN_STATUS_OK);
            assert_eq!(
                tern_client_bootstrap_blob(client.cast(), blob.as_ptr(), blob.len()),
                TERN_STATUS_OK
            );
            assert_eq!(tern_client_step(client, 0, &mut next), TERN_STATUS_OK);
            assert_eq!(tern_client_close(client), TERN_STATUS_OK);
        }
        calls.log
    }

    const HANDED: &str = "credentials 1 0 tern-psk";

    /// The connection asked for at init is taken back by the blob's close before the
    /// platform opened it: the first step opens the new account's connection once (and
    /// `tern_client_close` closes it).
    #[test]
    fn the_written_key_reaches_the_platform_before_the_one_open() {
        let log = first_step(false);
        assert_eq!(log, [HANDED, "open 1", "close"]);
    }

    #[test]
    fn a_refused_key_fails_the_connection_without_an_open() {
        let log = first_step(true);
        assert!(log.iter().all(|l| !l.starts_with("open")), "{log:?}");
        assert_eq!(log.first().map(String::as_str), Some(HANDED));
        assert_eq!(log.get(1).map(String::as_str), Some("connection failed"));
    }
}
