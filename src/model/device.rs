//! The Device object (3), single instance 0.

use super::object::{Object, Operations, ResourceDef, ValueSink};
use super::{ResourceType as T, Value};
use crate::coap::Code;

/// Fixed identity strings of the device (borrowed for the client's lifetime).
#[derive(Clone, Copy)]
pub struct DeviceInfo<'a> {
    /// Resource 0, Manufacturer.
    pub manufacturer: &'a str,
    /// Resource 1, Model Number.
    pub model: &'a str,
    /// Resource 2, Serial Number.
    pub serial: &'a str,
    /// Resource 3, Firmware Version.
    pub firmware_version: &'a str,
}

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, T::String, Operations::R, false),
    ResourceDef::new(1, T::String, Operations::R, false),
    ResourceDef::new(2, T::String, Operations::R, false),
    ResourceDef::new(3, T::String, Operations::R, false),
    ResourceDef::new(4, T::None, Operations::E, false),
    ResourceDef::new(5, T::None, Operations::E, false),
    ResourceDef::new(11, T::Integer, Operations::R, true),
    ResourceDef::new(13, T::Time, Operations::RW, false),
    ResourceDef::new(16, T::String, Operations::R, false),
];

/// Device object state. Reboot is reported through [`Device::take_reboot_request`] so that
/// the response reaches the server before the platform reboots.
pub struct Device<'a> {
    info: DeviceInfo<'a>,
    uptime_s: i64,
    utc_offset_s: i64,
    reboot_requested: bool,
    factory_reset_requested: bool,
}

impl<'a> Device<'a> {
    /// A device with the given identity; current time starts at the Unix epoch.
    pub fn new(info: DeviceInfo<'a>) -> Self {
        Device {
            info,
            uptime_s: 0,
            utc_offset_s: 0,
            reboot_requested: false,
            factory_reset_requested: false,
        }
    }

    /// Tells the object the current monotonic time (for resource 13, Current Time).
    pub fn set_uptime_ms(&mut self, now_ms: u64) {
        self.uptime_s = i64::try_from(crate::util::div_rem_u64(now_ms, 1000).0).unwrap_or(i64::MAX);
    }

    /// True once after a server executed Reboot (/3/0/4).
    pub fn take_reboot_request(&mut self) -> bool {
        core::mem::take(&mut self.reboot_requested)
    }

    /// True once after a server executed Factory Reset (/3/0/5); the response has been sent
    /// by then. The application restores its factory configuration.
    pub fn take_factory_reset_request(&mut self) -> bool {
        core::mem::take(&mut self.factory_reset_requested)
    }

    fn current_time(&self) -> i64 {
        self.utc_offset_s.saturating_add(self.uptime_s)
    }
}

impl Object for Device<'_> {
    fn id(&self) -> u16 {
        3
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        (index == 0).then_some(0)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        if iid != 0 {
            return Err(Code::NOT_FOUND);
        }
        let i = self.info;
        let (instance, v) = match rid {
            0 => (None, Value::String(i.manufacturer)),
            1 => (None, Value::String(i.model)),
            2 => (None, Value::String(i.serial)),
            3 => (None, Value::String(i.firmware_version)),
            11 => (Some(0), Value::Integer(0)),
            13 => (None, Value::Time(self.current_time())),
            16 => (None, Value::String("U")),
            4 | 5 => return Err(Code::METHOD_NOT_ALLOWED),
            _ => return Err(Code::NOT_FOUND),
        };
        out.value(instance, &v)
    }

    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        if iid != 0 {
            return Err(Code::NOT_FOUND);
        }
        if rid != 13 {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        match (riid, *value) {
            (None, Value::Time(t) | Value::Integer(t)) => {
                self.utc_offset_s = t.saturating_sub(self.uptime_s);
                Ok(())
            }
            _ => Err(Code::BAD_REQUEST),
        }
    }

    fn execute(&mut self, iid: u16, rid: u16, _args: &[u8]) -> Result<(), Code> {
        match (iid, rid) {
            (0, 4) => {
                self.reboot_requested = true;
                Ok(())
            }
            (0, 5) => {
                self.factory_reset_requested = true;
                Ok(())
            }
            (0, _) => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reboot_and_factory_reset_are_told_apart_and_reported_once() {
        let mut d = Device::new(DeviceInfo {
            manufacturer: "m",
            model: "x",
            serial: "1",
            firmware_version: "0",
        });
        assert_eq!(d.execute(0, 5, &[]), Ok(()));
        assert!(!d.take_reboot_request());
        assert!(d.take_factory_reset_request());
        assert!(!d.take_factory_reset_request());
        assert_eq!(d.execute(0, 4, &[]), Ok(()));
        assert!(d.take_reboot_request());
        assert!(!d.take_factory_reset_request());
        assert_eq!(d.execute(0, 0, &[]), Err(Code::METHOD_NOT_ALLOWED));
        assert_eq!(d.execute(1, 5, &[]), Err(Code::NOT_FOUND));
        struct Nothing;
        impl ValueSink for Nothing {
            fn value(&mut self, _: Option<u16>, _: &Value<'_>) -> Result<(), Code> {
                Ok(())
            }
        }
        assert_eq!(d.read(0, 5, &mut Nothing), Err(Code::METHOD_NOT_ALLOWED));
    }
}
