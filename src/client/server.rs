//! One LwM2M server account: its Security (0) and Server (1) instance data and the Server
//! object as the device-management side sees it.

use heapless::String;

use crate::coap::Code;
use crate::config::MAX_URI_LEN;
use crate::model::{Object, Operations, ResourceDef, ResourceType as T, Value, ValueSink};

use super::registration::Registration;

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
    /// The URI is empty, too long or not `coap://`.
    BadUri,
    /// The short server id is 0 or 65535.
    BadShortId,
    /// The lifetime is 0.
    BadLifetime,
}

/// Server object (1) and Security object (0) data of one account, plus its registration.
pub struct Server {
    /// Security instance id (the instance's position among servers).
    pub security_iid: u16,
    /// Server instance id.
    pub server_iid: u16,
    /// Server URI.
    pub uri: String<MAX_URI_LEN>,
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
    /// Registration state.
    pub reg: Registration,
    /// The platform has opened a connection for this server.
    pub connected: bool,
}

impl ServerConfig<'_> {
    /// Checks the settings.
    pub fn check(&self) -> Result<(), ConfigError> {
        let uri = self.uri;
        if !(uri.starts_with("coap://") && uri.len() > 7 && uri.len() <= MAX_URI_LEN) {
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

impl Server {
    /// A server account from a configuration that passed [`ServerConfig::check`],
    /// registered as instance `index`.
    pub(crate) fn new(cfg: &ServerConfig<'_>, index: u16) -> Server {
        let mut server = Server {
            security_iid: index,
            server_iid: index,
            uri: String::new(),
            short_id: cfg.short_id,
            lifetime_s: cfg.lifetime_s,
            default_pmin: 0,
            default_pmax: 0,
            storing: true,
            binding: 0,
            reg: Registration::new(),
            connected: false,
        };
        // Cannot fail: `check` limits the length.
        let _ = server.uri.push_str(cfg.uri);
        server
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

const SERVER_RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, T::Integer, Operations::R, false),
    ResourceDef::new(1, T::Integer, Operations::RW, false),
    ResourceDef::new(2, T::Integer, Operations::RW, false),
    ResourceDef::new(3, T::Integer, Operations::RW, false),
    ResourceDef::new(6, T::Boolean, Operations::RW, false),
    ResourceDef::new(7, T::String, Operations::RW, false),
    ResourceDef::new(8, T::None, Operations::E, false),
];

/// The Server object (1) over the client's server accounts.
pub struct ServerObject<'s> {
    /// The accounts, one instance each.
    pub servers: &'s mut [Server],
}

impl ServerObject<'_> {
    fn get(&mut self, iid: u16) -> Result<&mut Server, Code> {
        // Instance ids are positions (see `Server::new`).
        self.servers
            .get_mut(usize::from(iid))
            .ok_or(Code::NOT_FOUND)
    }
}

fn u32_value(v: &Value<'_>) -> Result<u32, Code> {
    match *v {
        Value::Integer(i) => u32::try_from(i).map_err(|_| Code::BAD_REQUEST),
        Value::Unsigned(u) => u32::try_from(u).map_err(|_| Code::BAD_REQUEST),
        _ => Err(Code::BAD_REQUEST),
    }
}

impl Object for ServerObject<'_> {
    fn id(&self) -> u16 {
        1
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        SERVER_RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        self.servers.get(index).map(|s| s.server_iid)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        let s = self.get(iid)?;
        let v = match rid {
            0..=3 => Value::Integer(i64::from(match rid {
                0 => u32::from(s.short_id),
                1 => s.lifetime_s,
                2 => s.default_pmin,
                _ => s.default_pmax,
            })),
            6 => Value::Boolean(s.storing),
            7 => Value::String(s.binding()),
            8 => return Err(Code::METHOD_NOT_ALLOWED),
            _ => return Err(Code::NOT_FOUND),
        };
        out.value(None, &v)
    }

    fn write(&mut self, iid: u16, rid: u16, riid: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
        let s = self.get(iid)?;
        if riid.is_some() {
            return Err(Code::BAD_REQUEST);
        }
        // The changed setting's field and the Update it asks for (0: none).
        let (changed, flag) = match (rid, *v) {
            (1..=3, _) => {
                let n = u32_value(v)?;
                let (field, flag) = match rid {
                    1 if n == 0 => return Err(Code::BAD_REQUEST),
                    1 => (&mut s.lifetime_s, super::registration::UPDATE_LIFETIME),
                    2 => (&mut s.default_pmin, 0),
                    _ => (&mut s.default_pmax, 0),
                };
                (core::mem::replace(field, n) != n, flag)
            }
            (6, Value::Boolean(b)) => {
                s.storing = b;
                (false, 0)
            }
            (7, Value::String(b)) => {
                let idx = match b {
                    "U" => 0,
                    "UQ" => 1,
                    _ => return Err(Code::BAD_REQUEST),
                };
                (
                    core::mem::replace(&mut s.binding, idx) != idx,
                    super::registration::UPDATE_BINDING,
                )
            }
            (6 | 7, _) => return Err(Code::BAD_REQUEST),
            (0 | 8, _) => return Err(Code::METHOD_NOT_ALLOWED),
            _ => return Err(Code::NOT_FOUND),
        };
        if changed {
            s.reg.request_update(flag);
        }
        Ok(())
    }

    fn execute(&mut self, iid: u16, rid: u16, _args: &[u8]) -> Result<(), Code> {
        let s = self.get(iid)?;
        match rid {
            8 => {
                s.reg.request_update(super::registration::UPDATE_TRIGGER);
                Ok(())
            }
            0..=7 => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }
}
