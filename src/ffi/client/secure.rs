//! DTLS with a pre-shared key (the `dtls` feature) or raw public keys (`dtls-rpk`) for a
//! server; without the feature the call says so, so that one application builds against
//! either library.

#[cfg(feature = "dtls")]
use crate::client::PskError;
use crate::ffi::types::*;

/// Secures server `server` (its index in `tern_config_t.servers`) with tern's own DTLS 1.2
/// (TLS_PSK_WITH_AES_128_CCM_8) and this pre-shared key: `identity` (Security resource 3)
/// and `key` (resource 5), each 1 to 64 bytes, copied and never logged. The server's URI
/// is then `coaps://` (port 5684 by default); the platform's `open` gets it and opens a
/// plain UDP socket: the library does the handshake and protects every datagram. Call
/// before the first `tern_client_step`. `server` `TERN_BOOTSTRAP_SLOT` is the bootstrap
/// server (`tern_config_t.bootstrap_uri`): its session lives while its connection is open,
/// and one of the `TERN_MAX_DTLS_SESSIONS` is kept for it (the key replaces raw public keys
/// `tern_client_set_rpk` gave it). A bootstrap server may also
/// provision keys: a Security instance in mode 0 with resources 3 and 5 secures its server
/// the same way. `TERN_STATUS_NOT_FOUND` for an unknown server,
/// `TERN_STATUS_INVALID_ARG` for an empty or too long identity or key,
/// `TERN_STATUS_NO_SPACE` when `TERN_MAX_DTLS_SESSIONS` servers are secured already,
/// `TERN_STATUS_NOT_ALLOWED` from a library built without the `dtls` feature.
///
/// # Safety
/// `client` from `tern_client_init`; `identity` and `key` valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_psk(
    client: *mut super::tern_client_t,
    server: u8,
    identity: *const u8,
    identity_len: usize,
    key: *const u8,
    key_len: usize,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { super::live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    if identity.is_null() || key.is_null() {
        return TERN_STATUS_NULL_ARG;
    }
    #[cfg(not(feature = "dtls"))]
    {
        let _ = (c, server, identity_len, key_len);
        TERN_STATUS_NOT_ALLOWED
    }
    // SAFETY: forwarded from the caller's contract; both pointers checked above.
    #[cfg(feature = "dtls")]
    unsafe {
        set(c, server, identity, identity_len, key, key_len)
    }
}

/// `tern_client_set_psk` past its pointer checks.
///
/// # Safety
/// As `tern_client_set_psk`; `identity` and `key` non-null.
#[cfg(feature = "dtls")]
unsafe fn set(
    c: &mut super::State,
    server: u8,
    identity: *const u8,
    identity_len: usize,
    key: *const u8,
    key_len: usize,
) -> tern_status_t {
    // SAFETY: non-null, lengths guaranteed by the caller; copied before returning.
    let (identity, key) = unsafe {
        (
            core::slice::from_raw_parts(identity, identity_len),
            core::slice::from_raw_parts(key, key_len),
        )
    };
    match c.core.set_psk(server, identity, key) {
        Ok(()) => TERN_STATUS_OK,
        Err(PskError::UnknownServer) => TERN_STATUS_NOT_FOUND,
        Err(PskError::NoSpace) => TERN_STATUS_NO_SPACE,
        Err(PskError::BadCredentials) => TERN_STATUS_INVALID_ARG,
    }
}

/// Secures server `server` (its index in `tern_config_t.servers`) with tern's own DTLS 1.2
/// and raw public keys (RFC 7250, LwM2M Security mode 1): TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
/// on P-256. `private_key` is this client's key (Security resource 5): the raw 32-byte
/// scalar, or DER as an ECPrivateKey (SEC1, RFC 5915) or a PKCS#8 PrivateKeyInfo;
/// `server_public_key` is the server's key (resource 4): its SubjectPublicKeyInfo DER (91
/// bytes), the SEC1 point (65 bytes uncompressed, 33 compressed) or the raw X || Y (64
/// bytes). Both are copied and never logged; the client's own public key (what it sends
/// when the server asks) is derived from its private key. A server presenting another key
/// fails the handshake. The URI is `coaps://`, as with `tern_client_set_psk`. Call before
/// the first `tern_client_step`. `server` `TERN_BOOTSTRAP_SLOT` is the bootstrap server
/// (`tern_config_t.bootstrap_uri`, Security mode 1 for its account): as with
/// `tern_client_set_psk`, its session lives while its connection is open and one of the
/// `TERN_MAX_DTLS_SESSIONS` is kept for it; raw public keys and a pre-shared key given to
/// it replace each other. `TERN_STATUS_NOT_FOUND` for an unknown server,
/// `TERN_STATUS_INVALID_ARG` for a key that does not parse or is not on P-256,
/// `TERN_STATUS_NO_SPACE` when `TERN_MAX_DTLS_SESSIONS` servers are secured already,
/// `TERN_STATUS_NOT_ALLOWED` from a library built without the `dtls-rpk` feature.
///
/// # Safety
/// `client` from `tern_client_init`; `private_key` and `server_public_key` valid for their
/// lengths.
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_rpk(
    client: *mut super::tern_client_t,
    server: u8,
    private_key: *const u8,
    private_key_len: usize,
    server_public_key: *const u8,
    server_public_key_len: usize,
) -> tern_status_t {
    // SAFETY: forwarded.
    let c = match unsafe { super::live(client) } {
        Ok(c) => c,
        Err(s) => return s,
    };
    if private_key.is_null() || server_public_key.is_null() {
        return TERN_STATUS_NULL_ARG;
    }
    #[cfg(not(feature = "dtls-rpk"))]
    {
        let _ = (c, server, private_key_len, server_public_key_len);
        TERN_STATUS_NOT_ALLOWED
    }
    // SAFETY: non-null (checked above), lengths guaranteed by the caller; copied before
    // returning.
    #[cfg(feature = "dtls-rpk")]
    unsafe {
        let (private_key, server_public_key) = (
            core::slice::from_raw_parts(private_key, private_key_len),
            core::slice::from_raw_parts(server_public_key, server_public_key_len),
        );
        match c.core.set_rpk(server, private_key, server_public_key) {
            Ok(()) => TERN_STATUS_OK,
            Err(PskError::UnknownServer) => TERN_STATUS_NOT_FOUND,
            Err(PskError::NoSpace) => TERN_STATUS_NO_SPACE,
            Err(PskError::BadCredentials) => TERN_STATUS_INVALID_ARG,
        }
    }
}
