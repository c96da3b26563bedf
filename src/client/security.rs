//! The Security object (0) as the bootstrap interface writes it: a fixed table of
//! `MAX_SERVERS + 1` instances (the DM servers' and the bootstrap server's).
//!
//! Kept: LwM2M Server URI (0), Bootstrap-Server (1), Security Mode (2), Short Server ID
//! (10) and Client Hold Off Time (11); with the engine's DTLS (feature `dtls`) also the
//! PSK Identity (3) and Secret Key (5) of a pre-shared-key account (mode 0), each at most
//! 64 bytes, and with `dtls-rpk` the Server Public Key (4) and the private key (5) of a
//! raw-public-key account (mode 1). Without them the keys are accepted and dropped, and a
//! Finish refuses those modes. The Bootstrap-Server Account Timeout (12) is checked and
//! dropped: the client never purges the bootstrap account. Nothing of the
//! object is ever readable by a server, and no value of it is logged.

use heapless::{String, Vec};

use crate::coap::Code;
use crate::config::{MAX_SERVERS, MAX_URI_LEN};
use crate::model::{Object, Operations, ResourceDef, ResourceType as T, Value, ValueSink};

/// Security instances: one per DM server and the bootstrap server's.
pub const MAX_SECURITY: usize = MAX_SERVERS + 1;

/// Security Mode Pre-Shared Key.
pub const MODE_PSK: u8 = 0;
/// Security Mode Certificate (X.509): refused for now.
pub const MODE_CERTIFICATE: u8 = 2;
/// Security Mode NoSec.
pub const MODE_NOSEC: u8 = 3;

/// Security Mode Raw Public Key.
pub const MODE_RPK: u8 = 1;

#[cfg(feature = "dtls")]
pub use crate::dtls::{MAX_PSK_IDENTITY_LEN, MAX_PSK_LEN};
/// The longest PSK identity kept for the platform.
#[cfg(feature = "platform-credentials")]
pub const MAX_PSK_IDENTITY_LEN: usize = 64;
/// The longest pre-shared key kept for the platform.
#[cfg(feature = "platform-credentials")]
pub const MAX_PSK_LEN: usize = 64;

/// Resource 3's longest value kept: a PSK identity, or this client's public key (a
/// SubjectPublicKeyInfo, 91 bytes for P-256).
#[cfg(any(feature = "dtls", feature = "platform-credentials"))]
const RES3_MAX: usize = if cfg!(feature = "dtls-rpk") {
    91
} else {
    MAX_PSK_IDENTITY_LEN
};
/// Resource 5's longest value kept: a pre-shared key, or this client's private key (PKCS#8
/// with its public key, 138 bytes for P-256).
#[cfg(any(feature = "dtls", feature = "platform-credentials"))]
const RES5_MAX: usize = if cfg!(feature = "dtls-rpk") {
    138
} else {
    MAX_PSK_LEN
};

/// The keys of an account, kept for the engine's DTLS (or, with `platform-credentials`, for
/// the platform's): empty until written. Mode 0 uses resources 3 (the PSK identity) and 5
/// (the key); mode 1 uses 4 (the server's public key) and 5 (this client's private key),
/// and derives 3.
#[cfg(any(feature = "dtls", feature = "platform-credentials"))]
#[derive(Clone, Default)]
pub struct Keys {
    /// Resource 3.
    pub identity: Vec<u8, RES3_MAX>,
    /// Resource 4 (raw public keys only).
    #[cfg(feature = "dtls-rpk")]
    pub server_key: Vec<u8, 91>,
    /// Resource 5.
    pub key: Vec<u8, RES5_MAX>,
}

#[cfg(any(feature = "dtls", feature = "platform-credentials"))]
impl Keys {
    /// Resources 3, 4 and 5 from their bytes; `None` when one is too long (or, without
    /// `dtls-rpk`, when there is a server key).
    pub fn from_parts(identity: &[u8], server_key: &[u8], key: &[u8]) -> Option<Keys> {
        #[cfg(not(feature = "dtls-rpk"))]
        if !server_key.is_empty() {
            return None;
        }
        Some(Keys {
            identity: Vec::from_slice(identity).ok()?,
            #[cfg(feature = "dtls-rpk")]
            server_key: Vec::from_slice(server_key).ok()?,
            key: Vec::from_slice(key).ok()?,
        })
    }

    /// What `mode` needs is written: identity and key for PSK, key and server key for RPK.
    pub fn is_set(&self, mode: u8) -> bool {
        match mode {
            MODE_PSK => !self.identity.is_empty() && !self.key.is_empty(),
            #[cfg(feature = "dtls-rpk")]
            MODE_RPK => !self.server_key.is_empty() && !self.key.is_empty(),
            _ => false,
        }
    }
}

/// One Security instance.
#[derive(Clone)]
pub struct Security {
    /// Instance id.
    pub iid: u16,
    /// LwM2M Server URI (resource 0).
    pub uri: String<MAX_URI_LEN, u8>,
    /// Bootstrap-Server (resource 1).
    pub bootstrap: bool,
    /// Security Mode (resource 2), 0..=4.
    pub mode: u8,
    /// Short Server ID (resource 10), 0 while not written.
    pub ssid: u16,
    /// Client Hold Off Time in seconds (resource 11).
    pub hold_off_s: u32,
    /// The keys (resources 3, 4 and 5).
    #[cfg(any(feature = "dtls", feature = "platform-credentials"))]
    pub keys: Keys,
}

impl Security {
    /// An instance with nothing written yet: NoSec, no URI.
    pub const fn new(iid: u16) -> Security {
        Security {
            iid,
            uri: String::new(),
            bootstrap: false,
            mode: MODE_NOSEC,
            ssid: 0,
            hold_off_s: 0,
            #[cfg(any(feature = "dtls", feature = "platform-credentials"))]
            keys: Keys {
                identity: Vec::new(),
                #[cfg(feature = "dtls-rpk")]
                server_key: Vec::new(),
                key: Vec::new(),
            },
        }
    }
}

/// The Security instances.
///
/// cbindgen:ignore
pub type Table = Vec<Security, MAX_SECURITY>;

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, T::String, Operations::W, false),
    ResourceDef::new(1, T::Boolean, Operations::W, false),
    ResourceDef::new(2, T::Integer, Operations::W, false),
    ResourceDef::new(3, T::Opaque, Operations::W, false),
    ResourceDef::new(4, T::Opaque, Operations::W, false),
    ResourceDef::new(5, T::Opaque, Operations::W, false),
    ResourceDef::new(10, T::Integer, Operations::W, false),
    ResourceDef::new(11, T::Integer, Operations::W, false),
    ResourceDef::new(12, T::Integer, Operations::W, false),
];

/// The Security object over a table (the bootstrap's staging copy).
pub struct SecurityObject<'a> {
    /// The instances.
    pub table: &'a mut Table,
}

impl SecurityObject<'_> {
    /// Checks a value and, with `apply`, stores it: 4.00 for a value out of range or of
    /// the wrong type, nothing changed then.
    fn set(&mut self, iid: u16, rid: u16, v: &Value<'_>, apply: bool) -> Result<(), Code> {
        let s = self
            .table
            .iter_mut()
            .find(|s| s.iid == iid)
            .ok_or(Code::NOT_FOUND)?;
        let n = match *v {
            Value::Integer(i) => u32::try_from(i).ok(),
            Value::Unsigned(u) => u32::try_from(u).ok(),
            _ => None,
        };
        match (rid, *v) {
            (0, Value::String(u)) if u.len() <= MAX_URI_LEN => {
                if apply {
                    s.uri.clear();
                    // Cannot fail: the length was checked.
                    let _ = s.uri.push_str(u);
                }
            }
            (1, Value::Boolean(b)) => {
                if apply {
                    s.bootstrap = b;
                }
            }
            (2, _) if n.is_some_and(|m| m <= 4) => {
                if apply {
                    s.mode = n.unwrap_or(0) as u8;
                }
            }
            #[cfg(any(feature = "dtls", feature = "platform-credentials"))]
            (3 | 5, Value::Opaque(k)) => {
                if rid == 3 {
                    let kept = Vec::from_slice(k).map_err(|_| Code::BAD_REQUEST)?;
                    if apply {
                        s.keys.identity = kept;
                    }
                } else {
                    let kept = Vec::from_slice(k).map_err(|_| Code::BAD_REQUEST)?;
                    if apply {
                        s.keys.key = kept;
                    }
                }
            }
            #[cfg(feature = "dtls-rpk")]
            (4, Value::Opaque(k)) => {
                let kept = Vec::from_slice(k).map_err(|_| Code::BAD_REQUEST)?;
                if apply {
                    s.keys.server_key = kept;
                }
            }
            // Keys this build cannot use: accepted, not kept.
            #[allow(unreachable_patterns)]
            (3..=5, Value::Opaque(_)) => {}
            // 0 is "none": what a bootstrap account carries (Leshan writes it there).
            (10, _) if n.is_some_and(|i| i <= 65534) => {
                if apply {
                    s.ssid = n.unwrap_or(0) as u16;
                }
            }
            (11 | 12, _) if n.is_some() => {
                if apply && rid == 11 {
                    s.hold_off_s = n.unwrap_or(0);
                }
            }
            _ => return Err(Code::BAD_REQUEST),
        }
        Ok(())
    }
}

impl Object for SecurityObject<'_> {
    fn id(&self) -> u16 {
        0
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        self.table.get(index).map(|s| s.iid)
    }

    /// Never readable (Bootstrap-Read covers objects 1 and 2 only).
    fn read(&mut self, _iid: u16, _rid: u16, _out: &mut dyn ValueSink) -> Result<(), Code> {
        Err(Code::UNAUTHORIZED)
    }

    fn write(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        if riid.is_some() {
            return Err(Code::BAD_REQUEST);
        }
        self.set(iid, rid, v, true)
    }

    fn check(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        if riid.is_some() {
            return Err(Code::BAD_REQUEST);
        }
        self.set(iid, rid, v, false)
    }

    fn execute(&mut self, _iid: u16, _rid: u16, _args: &[u8]) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }

    fn create(&mut self, iid: u16) -> Result<(), Code> {
        self.table
            .push(Security::new(iid))
            .map_err(|_| Code::BAD_REQUEST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_before_they_are_stored() {
        let mut table = Table::new();
        let mut obj = SecurityObject { table: &mut table };
        obj.create(4).unwrap();
        assert_eq!(obj.write(4, 10, None, &Value::Integer(101)), Ok(()));
        for (rid, bad) in [
            (10, Value::Integer(-1)),
            (10, Value::Integer(65535)),
            (2, Value::Integer(5)),
            (1, Value::Integer(1)),
            (11, Value::Integer(-1)),
            (0, Value::Integer(1)),
        ] {
            assert_eq!(
                obj.write(4, rid, None, &bad),
                Err(Code::BAD_REQUEST),
                "{rid}"
            );
        }
        assert_eq!(obj.write(4, 3, None, &Value::Opaque(b"secret")), Ok(()));
        assert_eq!(
            obj.write(5, 10, None, &Value::Integer(1)),
            Err(Code::NOT_FOUND)
        );
        assert_eq!(obj.check(4, 10, None, &Value::Integer(7)), Ok(()));
        assert_eq!(table[0].ssid, 101);
    }

    #[test]
    fn a_bootstrap_account_may_carry_short_server_id_zero() {
        // As Leshan's bootstrap server writes its own account: no server, so no ID.
        let mut table = Table::new();
        let mut obj = SecurityObject { table: &mut table };
        obj.create(0).unwrap();
        assert_eq!(obj.write(0, 1, None, &Value::Boolean(true)), Ok(()));
        assert_eq!(obj.write(0, 10, None, &Value::Integer(0)), Ok(()));
        assert!(table[0].bootstrap);
        assert_eq!(table[0].ssid, 0);
    }
}
