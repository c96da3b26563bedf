//! Pre-shared keys that a bootstrap server wrote, kept for a platform that does the DTLS
//! itself (feature `platform-credentials`): Zephyr's TLS sockets, mbedTLS under FreeRTOS,
//! a modem. The engine does not use them; the C layer hands a server's keys to the
//! platform's `credentials` callback each time it opens that server's connection, and the
//! persisted record keeps them across a reboot, as it does for the engine's own DTLS.

use heapless::Vec;

use super::security::{Keys, Security, MODE_PSK};
use super::Engine;
use crate::config::MAX_SERVERS;

/// The keys of one server slot.
#[derive(Clone)]
pub(super) struct Credential {
    server: u8,
    keys: Keys,
}

/// The servers' keys, by slot.
///
/// cbindgen:ignore
pub(super) type Table = Vec<Credential, MAX_SERVERS>;

impl Engine {
    /// The Security instance, mode and keys to hand the platform before it opens
    /// `server`'s connection (the bootstrap server's too): `None` for a server without
    /// bootstrap-written keys, whose credentials are the platform's own.
    pub fn platform_credentials(&self, server: u8) -> Option<(u16, u8, &Keys)> {
        if server == super::bootstrap::BOOTSTRAP_SLOT {
            let a = self.bootstrap_account()?;
            return a.keys.is_set(a.mode).then_some((a.iid, a.mode, &a.keys));
        }
        let iid = self.servers.get(usize::from(server))?.security_iid;
        let c = self.credentials.iter().find(|c| c.server == server)?;
        Some((iid, MODE_PSK, &c.keys))
    }

    /// Gives a staged Security instance the keys of the live server in `slot`, if it has
    /// some (a Bootstrap-Write that leaves it alone keeps them).
    pub(super) fn stage_psk(table: &Table, slot: u8, sec: &mut Security) {
        if let Some(c) = table.iter().find(|c| c.server == slot) {
            sec.mode = MODE_PSK;
            sec.keys = c.keys.clone();
        }
    }

    /// After a bootstrap: the keys of the servers whose Security instance is in PSK mode
    /// (the Finish checked that they are there).
    pub(super) fn install_psks(&mut self) {
        self.credentials.clear();
        for (i, server) in self.servers.iter().enumerate() {
            let keys = self
                .bootstrap
                .security
                .iter()
                .find(|s| !s.bootstrap && s.ssid == server.short_id && s.mode == MODE_PSK)
                .map(|s| s.keys.clone());
            if let Some(keys) = keys {
                let _ = self.credentials.push(Credential {
                    server: super::slot_of(i),
                    keys,
                });
            }
        }
    }

    /// The mode and keys of `server`, borrowed: identity, server key (none) and key, as a
    /// staged instance's resources 3, 4 and 5 hold them.
    #[cfg(feature = "persistence")]
    pub(super) fn keys_of(&self, server: u8) -> Option<(u8, [&[u8]; 3])> {
        let c = self.credentials.iter().find(|c| c.server == server)?;
        Some((MODE_PSK, [&c.keys.identity, &[], &c.keys.key]))
    }

    /// Gives a restored server its saved keys; false when they are not a pre-shared key.
    #[cfg(feature = "persistence")]
    pub(super) fn restore_keys(&mut self, server: u8, mode: u8, keys: &Keys) -> bool {
        if mode != MODE_PSK || !keys.is_set(mode) {
            return false;
        }
        self.credentials.retain(|c| c.server != server);
        let c = Credential {
            server,
            keys: keys.clone(),
        };
        self.credentials.push(c).is_ok()
    }
}
