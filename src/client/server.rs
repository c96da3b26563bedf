//! One LwM2M server account: its Security (0) and Server (1) instance data and the Server
//! object as the device-management side sees it.

use heapless::String;

use crate::coap::Code;
use crate::config::MAX_URI_LEN;
use crate::model::{Object, Operations, ResourceDef, ResourceType as T, Value, ValueSink};

use super::registration::{Registration, Timing, UPDATE_BINDING, UPDATE_LIFETIME, UPDATE_TRIGGER};

/// Settings of one server, as configured at init.
#[derive(Clone, Copy)]
pub struct ServerConfig<'a> {
    /// Server URI (Security resource 0), e.g. `coap://[::1]:5683`.
    pub uri: &'a str,
    /// Short Server ID (Security resource 10, Server resource 0), 1..=65534.
    pub short_id: u16,
    /// Registration lifetime in seconds (Server resource 1).
    pub lifetime_s: u32,
}

/// Why a server configuration was refused.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum ConfigError {
    /// The URI is empty, too long, or neither `coap://` nor `coaps://`.
    BadUri,
    /// The short server id is 0 or 65535.
    BadShortId,
    /// The lifetime is 0.
    BadLifetime,
}

/// The Server object (1) resources of one account: what a server's Write and a
/// Bootstrap-Write set, and all that the bootstrap's staging copy keeps of a Server
/// instance (see [`ServerObject`] and `bootstrap`).
#[derive(Clone, Copy)]
pub struct Account {
    /// Server instance id.
    pub server_iid: u16,
    /// Short Server ID.
    pub short_id: u16,
    /// Lifetime in seconds.
    pub lifetime_s: u32,
    /// Default minimum period (resource 2).
    pub default_pmin: u32,
    /// Default maximum period (resource 3).
    pub default_pmax: u32,
    /// Notification Storing When Disabled or Offline (resource 6).
    pub storing: bool,
    /// Binding (resource 7): 0 for `U`, 1 for `UQ` (the bindings the client accepts).
    binding: u8,
    /// Resources 5, 14 and 17-20: what the registration follows.
    pub timing: Timing,
    /// The store-and-serve resources.
    #[cfg(feature = "server-extra")]
    extra: Extra,
}

/// One server account: its Server object resources ([`Account`], reached through `Deref`),
/// its Security instance (id and URI) and its registration.
pub struct Server {
    /// The Server object resources.
    pub account: Account,
    /// Security instance id (the instance's position among servers).
    pub security_iid: u16,
    /// The platform has opened a connection for this server.
    pub connected: bool,
    /// Server URI.
    pub uri: String<MAX_URI_LEN, u8>,
    /// Queue mode: on with the binding `UQ`.
    #[cfg(feature = "queue-mode")]
    pub queue: super::queue::Queue,
    /// Queue mode's awake time in ms; 0 while queue mode is off.
    #[cfg(feature = "queue-mode")]
    pub awake_ms: u32,
    /// Registration state.
    pub reg: Registration,
}

impl core::ops::Deref for Server {
    type Target = Account;

    fn deref(&self) -> &Account {
        &self.account
    }
}

impl core::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Account {
        &mut self.account
    }
}

/// Resources the client stores and serves without acting on them (feature
/// `server-extra`): each is absent (4.04 on Read, left out of instance reads) until set.
#[cfg(feature = "server-extra")]
#[derive(Clone, Copy)]
struct Extra {
    /// Bit i: value i (in the order of `EXTRA_RESOURCES`) is set.
    present: u16,
    /// Values 4 to 8 (resources 15, 16, 21, 22, 23): the booleans as 0 or 1, the
    /// Preferred Transport as its letter.
    small: [u8; EXTRA_RESOURCES.len() - BIG],
    /// Values 0 to 3 (resources 10 to 13): the APN link as `oid << 16 | iid`, the numbers.
    big: [u32; BIG],
}

/// The store-and-serve values kept as u32 (the first ones of `EXTRA_RESOURCES`).
#[cfg(feature = "server-extra")]
const BIG: usize = 4;

impl ServerConfig<'_> {
    /// Checks the settings.
    pub fn check(&self) -> Result<(), ConfigError> {
        let uri = self.uri;
        // coaps:// is secured by the engine's own DTLS (Client::set_psk) or by the platform's
        // socket (its `open` gets the URI and the Security instance).
        let scheme = (uri.starts_with("coap://") && uri.len() > 7)
            || (uri.starts_with("coaps://") && uri.len() > 8);
        if !scheme || uri.len() > MAX_URI_LEN {
            return Err(ConfigError::BadUri);
        }
        if self.short_id == 0 || self.short_id == u16::MAX {
            return Err(ConfigError::BadShortId);
        }
        if self.lifetime_s == 0 {
            return Err(ConfigError::BadLifetime);
        }
        Ok(())
    }
}

impl Account {
    /// Instance `server_iid` with the Short Server ID and lifetime given and the spec's
    /// defaults for the rest.
    pub(crate) const fn new(server_iid: u16, short_id: u16, lifetime_s: u32) -> Account {
        Account {
            server_iid,
            short_id,
            lifetime_s,
            default_pmin: 0,
            default_pmax: 0,
            storing: true,
            binding: 0,
            timing: Timing::DEFAULT,
            #[cfg(feature = "server-extra")]
            extra: Extra {
                present: 0,
                small: [0; EXTRA_RESOURCES.len() - BIG],
                big: [0; BIG],
            },
        }
    }

    /// What a persisted record keeps of the account (see `persist`): Short Server ID,
    /// Lifetime, Default Minimum and Maximum Period (little-endian), then a flag byte (bit 0
    /// Notification Storing, bit 1 binding `UQ`).
    #[cfg(feature = "persistence")]
    pub(super) fn saved(&self) -> [u8; 15] {
        let [i0, i1] = self.short_id.to_le_bytes();
        let [a0, a1, a2, a3] = self.lifetime_s.to_le_bytes();
        let [b0, b1, b2, b3] = self.default_pmin.to_le_bytes();
        let [c0, c1, c2, c3] = self.default_pmax.to_le_bytes();
        let flags = u8::from(self.storing) | self.binding << 1;
        [
            i0, i1, a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, flags,
        ]
    }

    /// Mute Send (resource 23): true when a server set it (it is stored with the
    /// `server-extra` feature only; without it, Send is never muted).
    #[cfg(feature = "send")]
    pub fn mute_send(&self) -> bool {
        #[cfg(feature = "server-extra")]
        return self.extra.raw(MUTE_SEND).is_some_and(|v| v != 0);
        #[cfg(not(feature = "server-extra"))]
        false
    }

    /// True when the client registers in queue mode.
    pub fn queue_mode(&self) -> bool {
        self.binding == 1
    }

    /// The Binding resource value.
    pub fn binding(&self) -> &'static str {
        if self.binding == 1 {
            "UQ"
        } else {
            "U"
        }
    }
}

impl Server {
    /// A server account from a configuration that passed [`ServerConfig::check`],
    /// registered as instance `index`.
    pub(crate) fn new(cfg: &ServerConfig<'_>, index: u16) -> Server {
        Server::with_account(
            Account::new(index, cfg.short_id, cfg.lifetime_s),
            index,
            cfg.uri,
        )
    }

    /// A server account with the Server object resources `account`, Security instance
    /// `security_iid` and URI `uri` (at most `MAX_URI_LEN` bytes), not registered; in
    /// queue mode with the default awake time when the binding is `UQ`.
    pub(crate) fn with_account(account: Account, security_iid: u16, uri: &str) -> Server {
        let mut server = Server {
            account,
            security_iid,
            connected: false,
            uri: String::new(),
            #[cfg(feature = "queue-mode")]
            queue: super::queue::Queue::default(),
            #[cfg(feature = "queue-mode")]
            awake_ms: 0,
            reg: Registration::new(),
        };
        // Cannot fail: the caller checked the length.
        let _ = server.uri.push_str(uri);
        #[cfg(feature = "queue-mode")]
        if account.binding == 1 {
            server.awake_ms = super::queue::DEFAULT_AWAKE_MS;
        }
        server
    }

    /// Checks (and with `apply`, takes) what [`Account::saved`] wrote after the Short
    /// Server ID.
    #[cfg(feature = "persistence")]
    pub(super) fn restore(&mut self, v: &[u8], apply: bool) -> Result<(), super::persist::Reject> {
        let field = |i: usize| {
            v.get(i..i + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
        };
        let (Some(lifetime), Some(pmin), Some(pmax), Some(&flags)) =
            (field(0), field(4), field(8), v.get(12))
        else {
            return Err(super::persist::Reject::Content);
        };
        if lifetime == 0 || flags > 3 || v.len() != 13 {
            return Err(super::persist::Reject::Content);
        }
        if apply {
            self.lifetime_s = lifetime;
            self.default_pmin = pmin;
            self.default_pmax = pmax;
            self.storing = flags & 1 != 0;
            self.binding = flags >> 1;
            // Queue mode follows the binding (the awake time is the application's choice).
            #[cfg(feature = "queue-mode")]
            {
                let default = super::queue::DEFAULT_AWAKE_MS;
                let ms = self.awake_ms;
                self.awake_ms = match self.binding {
                    1 if ms == 0 => default,
                    1 => ms,
                    _ => 0,
                };
            }
        }
        Ok(())
    }

    /// Queue mode on (awake `ms` after each exchange) or off (`None`): the binding `UQ` or
    /// `U`; a change reaches the server with the next Register or Update.
    #[cfg(feature = "queue-mode")]
    pub(super) fn set_queue(&mut self, ms: Option<u32>) {
        let binding = u8::from(ms.is_some());
        if core::mem::replace(&mut self.binding, binding) != binding {
            self.reg.request_update(UPDATE_BINDING);
        }
        self.awake_ms = ms.unwrap_or(0);
        if ms.is_none() {
            // Out of queue mode: awake for good.
            self.queue.activity(0, 0);
        }
    }
}

/// The resources every build has (LwM2M 1.2 Server object, appendix E.2, as far as a 1.1
/// client goes; resources 24-27 of 1.2 are not served).
const SERVER_RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, T::Integer, Operations::R, false),
    ResourceDef::new(1, T::Integer, Operations::RW, false),
    ResourceDef::new(2, T::Integer, Operations::RW, false),
    ResourceDef::new(3, T::Integer, Operations::RW, false),
    #[cfg(feature = "server-extra")]
    ResourceDef::new(4, T::None, Operations::E, false),
    #[cfg(feature = "server-extra")]
    ResourceDef::new(5, T::Integer, Operations::RW, false),
    ResourceDef::new(6, T::Boolean, Operations::RW, false),
    ResourceDef::new(7, T::String, Operations::RW, false),
    ResourceDef::new(8, T::None, Operations::E, false),
    ResourceDef::new(9, T::None, Operations::E, false),
    #[cfg(feature = "server-extra")]
    ResourceDef::new(14, T::Unsigned, Operations::RW, false),
    #[cfg(feature = "server-extra")]
    ResourceDef::new(17, T::Unsigned, Operations::RW, false),
    #[cfg(feature = "server-extra")]
    ResourceDef::new(18, T::Unsigned, Operations::RW, false),
    #[cfg(feature = "server-extra")]
    ResourceDef::new(19, T::Unsigned, Operations::RW, false),
    #[cfg(feature = "server-extra")]
    ResourceDef::new(20, T::Unsigned, Operations::RW, false),
];

/// The store-and-serve resources (feature `server-extra`). Operations as in the 1.2
/// object: 11, 12, 13, 15 and 16 are read-only for a server (the client or a bootstrap
/// sets them).
#[cfg(feature = "server-extra")]
const EXTRA_RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(10, T::ObjLnk, Operations::RW, false),
    ResourceDef::new(11, T::Unsigned, Operations::R, false),
    ResourceDef::new(12, T::Time, Operations::R, false),
    ResourceDef::new(13, T::Unsigned, Operations::R, false),
    ResourceDef::new(15, T::Boolean, Operations::R, false),
    ResourceDef::new(16, T::Boolean, Operations::R, false),
    ResourceDef::new(21, T::Boolean, Operations::RW, false),
    ResourceDef::new(22, T::String, Operations::RW, false),
    ResourceDef::new(23, T::Boolean, Operations::RW, false),
];

/// The position of Mute Send (23) in `EXTRA_RESOURCES`.
#[cfg(all(feature = "send", feature = "server-extra"))]
const MUTE_SEND: usize = 8;
#[cfg(all(feature = "send", feature = "server-extra"))]
#[allow(clippy::indexing_slicing)] // evaluated at compile time
const _: () = assert!(EXTRA_RESOURCES[MUTE_SEND].id == 23);

/// The Server object (1) over the client's server accounts.
pub struct ServerObject<'s> {
    /// The accounts, one instance each.
    pub servers: &'s mut [Server],
    /// The time of the request (a Disable counts from it when not registered).
    pub now: u64,
}

impl ServerObject<'_> {
    fn get(&mut self, iid: u16) -> Result<&mut Server, Code> {
        // Instance ids are positions (see `Server::new`), except after a bootstrap.
        #[cfg(not(feature = "bootstrap"))]
        return self
            .servers
            .get_mut(usize::from(iid))
            .ok_or(Code::NOT_FOUND);
        #[cfg(feature = "bootstrap")]
        self.servers
            .iter_mut()
            .find(|s| s.server_iid == iid)
            .ok_or(Code::NOT_FOUND)
    }

    /// Checks a value for resource `rid` and, with `apply`, stores it: 4.00 for a value
    /// out of range or of the wrong type, nothing changed then.
    fn set(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        v: &Value<'_>,
        apply: bool,
    ) -> Result<(), Code> {
        let s = self.get(iid)?;
        let update = s.account.set(rid, riid, v, apply)?;
        s.reg.request_update(update);
        // Queue mode follows the binding: on with the default awake time, or off.
        #[cfg(feature = "queue-mode")]
        if update & UPDATE_BINDING != 0 {
            s.set_queue(s.queue_mode().then_some(super::queue::DEFAULT_AWAKE_MS));
        }
        Ok(())
    }
}

impl Account {
    /// Checks a value for resource `rid` and, with `apply`, stores it: 4.00 for a value
    /// out of range or of the wrong type, nothing changed then. Returns the Update flags of
    /// what changed (the lifetime, the binding).
    pub(super) fn set(
        &mut self,
        rid: u16,
        riid: Option<u16>,
        v: &Value<'_>,
        apply: bool,
    ) -> Result<u8, Code> {
        if riid.is_some() {
            return Err(Code::BAD_REQUEST);
        }
        let mut update = 0;
        match rid {
            1..=3 => {
                let n = u32_value(v)?;
                if rid == 1 && n == 0 {
                    return Err(Code::BAD_REQUEST);
                }
                let field = match rid {
                    1 => &mut self.lifetime_s,
                    2 => &mut self.default_pmin,
                    _ => &mut self.default_pmax,
                };
                if apply && core::mem::replace(field, n) != n && rid == 1 {
                    update = UPDATE_LIFETIME;
                }
            }
            #[cfg(feature = "server-extra")]
            5 | 14 | 17..=20 => set_timing(&mut self.timing, rid, v, apply)?,
            6 => {
                let b = bool_value(v)?;
                if apply {
                    self.storing = b;
                }
            }
            7 => {
                let idx = match *v {
                    Value::String("U") => 0,
                    Value::String("UQ") => 1,
                    _ => return Err(Code::BAD_REQUEST),
                };
                if apply && core::mem::replace(&mut self.binding, idx) != idx {
                    update = UPDATE_BINDING;
                }
            }
            0 | 8 | 9 => return Err(Code::METHOD_NOT_ALLOWED),
            #[cfg(feature = "server-extra")]
            4 => return Err(Code::METHOD_NOT_ALLOWED),
            #[cfg(feature = "server-extra")]
            10..=13 | 15 | 16 | 21..=23 => self.extra.set(rid, v, apply)?,
            _ => return Err(Code::NOT_FOUND),
        }
        Ok(update)
    }

    /// The value of resource `rid`: 4.05 for the executable ones, 4.04 for the others the
    /// object does not have (and the store-and-serve ones not set).
    pub(super) fn value(&self, rid: u16) -> Result<Value<'static>, Code> {
        #[cfg(feature = "server-extra")]
        let t = &self.timing;
        Ok(match rid {
            0..=3 => Value::Integer(i64::from(match rid {
                0 => u32::from(self.short_id),
                1 => self.lifetime_s,
                2 => self.default_pmin,
                _ => self.default_pmax,
            })),
            #[cfg(feature = "server-extra")]
            5 => Value::Integer(i64::from(t.disable_timeout_s)),
            #[cfg(feature = "server-extra")]
            14 | 17..=20 => Value::Unsigned(u64::from(match rid {
                14 => t.initial_delay_s,
                17 => u32::from(t.retry_count),
                18 => t.retry_timer_s,
                19 => t.sequence_delay_s,
                _ => u32::from(t.sequence_retry_count),
            })),
            6 => Value::Boolean(self.storing),
            7 => Value::String(self.binding()),
            8 | 9 => return Err(Code::METHOD_NOT_ALLOWED),
            #[cfg(feature = "server-extra")]
            4 => return Err(Code::METHOD_NOT_ALLOWED),
            #[cfg(feature = "server-extra")]
            10..=13 | 15 | 16 | 21..=23 => self.extra.get(rid).ok_or(Code::NOT_FOUND)?,
            _ => return Err(Code::NOT_FOUND),
        })
    }
}

/// Checks and, with `apply`, stores a value of a timing resource (5, 14, 17-20): counts
/// (17, 20) are at least 1 and at most 255.
#[cfg(feature = "server-extra")]
fn set_timing(t: &mut Timing, rid: u16, v: &Value<'_>, apply: bool) -> Result<(), Code> {
    let n = u32_value(v)?;
    let count = u8::try_from(n).ok().filter(|&c| c > 0);
    if matches!(rid, 17 | 20) && count.is_none() {
        return Err(Code::BAD_REQUEST);
    }
    if apply {
        let count = count.unwrap_or(1);
        match rid {
            5 => t.disable_timeout_s = n,
            14 => t.initial_delay_s = n,
            17 => t.retry_count = count,
            18 => t.retry_timer_s = n,
            19 => t.sequence_delay_s = n,
            _ => t.sequence_retry_count = count,
        }
    }
    Ok(())
}

#[cfg(feature = "server-extra")]
impl Extra {
    fn set(&mut self, rid: u16, v: &Value<'_>, apply: bool) -> Result<(), Code> {
        let (i, kind) = extra_resource(rid)?;
        let n = match (kind, *v) {
            // A link to an APN connection profile (object 11), or the null link.
            (T::ObjLnk, Value::ObjLnk(oid, iid))
                if oid == 11 || (oid, iid) == (u16::MAX, u16::MAX) =>
            {
                u32::from(oid) << 16 | u32::from(iid)
            }
            (T::Boolean, Value::Boolean(b)) => u32::from(b),
            (T::String, Value::String(t @ ("U" | "T" | "S" | "N"))) => {
                t.bytes().next().map_or(0, u32::from)
            }
            (T::Time, Value::Time(t) | Value::Integer(t)) => {
                u32::try_from(t).map_err(|_| Code::BAD_REQUEST)?
            }
            // The TLS-DTLS Alert Code is a byte.
            (T::Unsigned, _) => Some(u32_value(v)?)
                .filter(|&n| rid != 11 || n <= 255)
                .ok_or(Code::BAD_REQUEST)?,
            _ => return Err(Code::BAD_REQUEST),
        };
        if apply {
            let slot = match i.checked_sub(BIG) {
                None => self.big.get_mut(i).map(|b| *b = n),
                // Values from here on fit a byte (checked above).
                Some(j) => self.small.get_mut(j).map(|b| *b = n as u8),
            };
            if slot.is_some() {
                self.present |= 1 << i;
            }
        }
        Ok(())
    }

    /// Value i of `EXTRA_RESOURCES`, `None` while it is not set.
    fn raw(&self, i: usize) -> Option<u32> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        match i.checked_sub(BIG) {
            None => self.big.get(i).copied(),
            Some(j) => self.small.get(j).copied().map(u32::from),
        }
    }

    /// The value of resource `rid`, `None` while it is not set.
    fn get(&self, rid: u16) -> Option<Value<'static>> {
        let (i, kind) = extra_resource(rid).ok()?;
        let n = self.raw(i)?;
        Some(match kind {
            T::ObjLnk => Value::ObjLnk((n >> 16) as u16, n as u16),
            T::Boolean => Value::Boolean(n != 0),
            T::String => Value::String(match n as u8 {
                b'U' => "U",
                b'T' => "T",
                b'S' => "S",
                _ => "N",
            }),
            T::Time => Value::Time(i64::from(n)),
            _ => Value::Unsigned(u64::from(n)),
        })
    }
}

/// The position and type of store-and-serve resource `rid`.
#[cfg(feature = "server-extra")]
fn extra_resource(rid: u16) -> Result<(usize, T), Code> {
    EXTRA_RESOURCES
        .iter()
        .enumerate()
        .find(|(_, d)| d.id == rid)
        .map(|(i, d)| (i, d.kind))
        .ok_or(Code::NOT_FOUND)
}

fn u32_value(v: &Value<'_>) -> Result<u32, Code> {
    match *v {
        Value::Integer(i) => u32::try_from(i).map_err(|_| Code::BAD_REQUEST),
        Value::Unsigned(u) => u32::try_from(u).map_err(|_| Code::BAD_REQUEST),
        _ => Err(Code::BAD_REQUEST),
    }
}

fn bool_value(v: &Value<'_>) -> Result<bool, Code> {
    match *v {
        Value::Boolean(b) => Ok(b),
        _ => Err(Code::BAD_REQUEST),
    }
}

/// The Server object's resource definition at `index`.
pub(super) fn resource_at(index: usize) -> Option<ResourceDef> {
    let r = SERVER_RESOURCES.get(index).copied();
    #[cfg(feature = "server-extra")]
    let r = r.or_else(|| {
        EXTRA_RESOURCES
            .get(index.checked_sub(SERVER_RESOURCES.len())?)
            .copied()
    });
    r
}

impl Object for ServerObject<'_> {
    fn id(&self) -> u16 {
        1
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        resource_at(index)
    }

    fn instance(&self, index: usize) -> Option<u16> {
        self.servers.get(index).map(|s| s.server_iid)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        let v = self.get(iid)?.value(rid)?;
        out.value(None, &v)
    }

    fn write(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        self.set(iid, rid, riid, v, true)
    }

    fn check(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        self.set(iid, rid, riid, v, false)
    }

    fn execute(&mut self, iid: u16, rid: u16, _args: &[u8]) -> Result<(), Code> {
        let now = self.now;
        #[cfg(not(feature = "server-extra"))]
        let _ = now;
        let s = self.get(iid)?;
        match rid {
            #[cfg(feature = "server-extra")]
            4 => {
                s.reg.request_disable(now, &s.account.timing);
                Ok(())
            }
            8 => {
                s.reg.request_update(UPDATE_TRIGGER);
                Ok(())
            }
            // Bootstrap-Request Trigger: this client has no bootstrap server account to
            // bootstrap from (the bootstrap interface comes later), so the Execute is not
            // allowed (4.05), as a client without one answers.
            9 => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::METHOD_NOT_ALLOWED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::registration::Phase;

    struct Sink(Option<std::string::String>);

    impl ValueSink for Sink {
        fn value(&mut self, _instance: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
            self.0 = Some(format!("{v:?}"));
            Ok(())
        }
    }

    fn server() -> Server {
        let cfg = ServerConfig {
            uri: "coap://192.0.2.1",
            short_id: 7,
            lifetime_s: 300,
        };
        Server::new(&cfg, 0)
    }

    fn read(obj: &mut ServerObject<'_>, rid: u16) -> Result<std::string::String, Code> {
        let mut sink = Sink(None);
        obj.read(0, rid, &mut sink)?;
        Ok(sink.0.unwrap())
    }

    fn def(obj: &ServerObject<'_>, rid: u16) -> Option<ResourceDef> {
        crate::model::object::resource(obj, rid)
    }

    #[test]
    fn an_account_stays_small() {
        // Each server has two: the live one and the bootstrap's staging copy.
        assert!(core::mem::size_of::<Account>() <= 64);
    }

    #[test]
    fn defaults_are_the_specs() {
        let mut servers = [server()];
        let mut obj = ServerObject {
            servers: &mut servers,
            now: 0,
        };
        assert_eq!(read(&mut obj, 0), Ok("Integer(7)".into()));
        assert_eq!(read(&mut obj, 5), Ok("Integer(86400)".into()));
        assert_eq!(read(&mut obj, 14), Ok("Unsigned(0)".into()));
        assert_eq!(read(&mut obj, 17), Ok("Unsigned(5)".into()));
        assert_eq!(read(&mut obj, 18), Ok("Unsigned(60)".into()));
        assert_eq!(read(&mut obj, 19), Ok("Unsigned(86400)".into()));
        assert_eq!(read(&mut obj, 20), Ok("Unsigned(1)".into()));
        for rid in [4, 8, 9] {
            assert_eq!(read(&mut obj, rid), Err(Code::METHOD_NOT_ALLOWED));
            assert_eq!(def(&obj, rid).unwrap().ops, Operations::E);
        }
        for rid in [5, 14, 17, 18, 19, 20] {
            assert_eq!(def(&obj, rid).unwrap().ops, Operations::RW, "{rid}");
        }
        assert_eq!(def(&obj, 5).unwrap().kind, T::Integer);
        assert_eq!(def(&obj, 17).unwrap().kind, T::Unsigned);
        // Resources of the 1.2 object a 1.1 client does not serve.
        assert!(def(&obj, 24).is_none());
        assert_eq!(read(&mut obj, 26), Err(Code::NOT_FOUND));
    }

    #[test]
    fn timing_writes_are_checked_and_stored() {
        let mut servers = [server()];
        let mut obj = ServerObject {
            servers: &mut servers,
            now: 0,
        };
        // (resource, accepted values, refused values)
        let cases: &[(u16, &[u64], &[Value<'_>])] = &[
            (
                5,
                &[0, 30, u64::from(u32::MAX)],
                &[
                    Value::Integer(-1),
                    Value::Unsigned(1 << 32),
                    Value::Boolean(true),
                ],
            ),
            (14, &[0, 5], &[Value::Integer(-5), Value::String("5")]),
            (
                17,
                &[1, 3, 255],
                &[Value::Unsigned(0), Value::Unsigned(256)],
            ),
            (18, &[0, 10], &[Value::Integer(-1), Value::Float(1.0)]),
            (
                19,
                &[0, 120, u64::from(u32::MAX)],
                &[Value::Unsigned(1 << 32)],
            ),
            (20, &[1, 2, 255], &[Value::Integer(0), Value::Integer(300)]),
        ];
        for &(rid, good, bad) in cases {
            for &n in good {
                assert_eq!(obj.check(0, rid, None, &Value::Unsigned(n)), Ok(()));
                assert_eq!(obj.write(0, rid, None, &Value::Unsigned(n)), Ok(()));
                let v = read(&mut obj, rid).unwrap();
                assert!(v.ends_with(&format!("({n})")), "{rid}: {v}");
            }
            let before = obj.servers[0].timing;
            for v in bad {
                assert_eq!(
                    obj.check(0, rid, None, v),
                    Err(Code::BAD_REQUEST),
                    "{rid} {v:?}"
                );
                assert_eq!(
                    obj.write(0, rid, None, v),
                    Err(Code::BAD_REQUEST),
                    "{rid} {v:?}"
                );
                assert_eq!(
                    obj.servers[0].timing, before,
                    "a failed write changes nothing"
                );
            }
            // A resource instance of a single resource.
            assert_eq!(
                obj.write(0, rid, Some(0), &Value::Unsigned(1)),
                Err(Code::BAD_REQUEST)
            );
        }
        let t = obj.servers[0].timing;
        assert_eq!(t.disable_timeout_s, u32::MAX);
        assert_eq!(t.initial_delay_s, 5);
        assert_eq!((t.retry_count, t.retry_timer_s), (255, 10));
        assert_eq!(
            (t.sequence_delay_s, t.sequence_retry_count),
            (u32::MAX, 255)
        );
        // Integers are taken as well as unsigned values.
        assert_eq!(obj.write(0, 18, None, &Value::Integer(30)), Ok(()));
        assert_eq!(obj.servers[0].timing.retry_timer_s, 30);
        // Check alone stores nothing.
        assert_eq!(obj.check(0, 18, None, &Value::Integer(31)), Ok(()));
        assert_eq!(obj.servers[0].timing.retry_timer_s, 30);
    }

    #[test]
    fn other_writes_keep_their_rules() {
        let mut servers = [server()];
        let mut obj = ServerObject {
            servers: &mut servers,
            now: 0,
        };
        assert_eq!(
            obj.write(0, 1, None, &Value::Integer(0)),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(obj.write(0, 1, None, &Value::Integer(600)), Ok(()));
        assert_eq!(read(&mut obj, 1), Ok("Integer(600)".into()));
        assert_eq!(obj.write(0, 7, None, &Value::String("UQ")), Ok(()));
        assert_eq!(
            obj.write(0, 7, None, &Value::String("T")),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(read(&mut obj, 7), Ok("String(\"UQ\")".into()));
        assert_eq!(
            obj.write(0, 6, None, &Value::Integer(1)),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(obj.write(0, 6, None, &Value::Boolean(false)), Ok(()));
        assert_eq!(read(&mut obj, 6), Ok("Boolean(false)".into()));
        for rid in [0, 4, 8, 9] {
            assert_eq!(
                obj.write(0, rid, None, &Value::Integer(1)),
                Err(Code::METHOD_NOT_ALLOWED)
            );
        }
        assert_eq!(
            obj.write(0, 99, None, &Value::Integer(1)),
            Err(Code::NOT_FOUND)
        );
        assert_eq!(
            obj.write(1, 5, None, &Value::Integer(1)),
            Err(Code::NOT_FOUND)
        );
    }

    #[test]
    fn bootstrap_request_trigger_is_not_allowed_without_bootstrap() {
        let mut servers = [server()];
        let mut obj = ServerObject {
            servers: &mut servers,
            now: 0,
        };
        assert_eq!(obj.execute(0, 9, b""), Err(Code::METHOD_NOT_ALLOWED));
        assert_eq!(obj.servers[0].reg.phase, Phase::Unregistered { at: 0 });
    }

    #[test]
    fn disable_before_registration_disables_at_once() {
        let mut servers = [server()];
        let mut obj = ServerObject {
            servers: &mut servers,
            now: 1_000,
        };
        obj.write(0, 5, None, &Value::Integer(30)).unwrap();
        assert_eq!(obj.execute(0, 4, b""), Ok(()));
        assert_eq!(obj.servers[0].reg.phase, Phase::Disabled { until: 31_000 });
    }

    #[cfg(feature = "server-extra")]
    #[test]
    fn stored_resources_are_absent_until_set() {
        let mut servers = [server()];
        let mut obj = ServerObject {
            servers: &mut servers,
            now: 0,
        };
        let ops = |obj: &ServerObject<'_>, rid| def(obj, rid).unwrap().ops;
        for rid in [10, 21, 22, 23] {
            assert_eq!(ops(&obj, rid), Operations::RW, "{rid}");
        }
        for rid in [11, 12, 13, 15, 16] {
            assert_eq!(ops(&obj, rid), Operations::R, "{rid}");
        }
        for rid in [10, 11, 12, 13, 15, 16, 21, 22, 23] {
            assert_eq!(read(&mut obj, rid), Err(Code::NOT_FOUND), "{rid}");
        }
        // (resource, a value taken, what Read gives back, values refused)
        let cases: &[(u16, Value<'_>, &str, &[Value<'_>])] = &[
            (
                10,
                Value::ObjLnk(11, 2),
                "ObjLnk(11, 2)",
                &[Value::ObjLnk(3, 0), Value::Integer(11)],
            ),
            (
                11,
                Value::Unsigned(40),
                "Unsigned(40)",
                &[Value::Unsigned(256), Value::Integer(-1)],
            ),
            (
                12,
                Value::Time(1_700_000_000),
                "Time(1700000000)",
                &[Value::Time(-1), Value::Time(1 << 32), Value::Boolean(true)],
            ),
            (
                13,
                Value::Unsigned(3),
                "Unsigned(3)",
                &[Value::Unsigned(1 << 32), Value::String("3")],
            ),
            (
                15,
                Value::Boolean(true),
                "Boolean(true)",
                &[Value::Integer(1)],
            ),
            (
                16,
                Value::Boolean(false),
                "Boolean(false)",
                &[Value::Integer(0)],
            ),
            (
                21,
                Value::Boolean(true),
                "Boolean(true)",
                &[Value::String("true")],
            ),
            (
                22,
                Value::String("T"),
                "String(\"T\")",
                &[Value::String("UQ"), Value::String(""), Value::String("X")],
            ),
            (
                23,
                Value::Boolean(false),
                "Boolean(false)",
                &[Value::Unsigned(0)],
            ),
        ];
        for (rid, good, back, bad) in cases {
            for v in *bad {
                assert_eq!(
                    obj.write(0, *rid, None, v),
                    Err(Code::BAD_REQUEST),
                    "{rid} {v:?}"
                );
                assert_eq!(
                    read(&mut obj, *rid),
                    Err(Code::NOT_FOUND),
                    "{rid} unchanged"
                );
            }
            assert_eq!(obj.check(0, *rid, None, good), Ok(()));
            assert_eq!(
                read(&mut obj, *rid),
                Err(Code::NOT_FOUND),
                "{rid}: check stores nothing"
            );
            assert_eq!(obj.write(0, *rid, None, good), Ok(()), "{rid}");
            assert_eq!(read(&mut obj, *rid).as_deref(), Ok(*back), "{rid}");
            for v in *bad {
                assert_eq!(obj.write(0, *rid, None, v), Err(Code::BAD_REQUEST));
                assert_eq!(read(&mut obj, *rid).as_deref(), Ok(*back), "{rid} kept");
            }
        }
        // The null link clears nothing but is a valid link.
        assert_eq!(
            obj.write(0, 10, None, &Value::ObjLnk(u16::MAX, u16::MAX)),
            Ok(())
        );
        assert_eq!(read(&mut obj, 10), Ok("ObjLnk(65535, 65535)".into()));
        for t in ["U", "S", "N"] {
            assert_eq!(obj.write(0, 22, None, &Value::String(t)), Ok(()));
            assert_eq!(read(&mut obj, 22), Ok(format!("String({t:?})")));
        }
    }
}
