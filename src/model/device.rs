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
    ResourceDef::new(12, T::None, Operations::E, false),
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
    /// Error Code (/3/0/11) values now reported, in the order they were raised.
    errors: heapless::Vec<u8, MAX_ERRORS>,
}

/// Error codes reported at once; the spec defines 1 to 8 and leaves 16 to 32 to the device.
pub const MAX_ERRORS: usize = 8;

impl<'a> Device<'a> {
    /// A device with the given identity; current time starts at the Unix epoch.
    pub fn new(info: DeviceInfo<'a>) -> Self {
        Device {
            info,
            uptime_s: 0,
            utc_offset_s: 0,
            reboot_requested: false,
            factory_reset_requested: false,
            errors: heapless::Vec::new(),
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

    /// Raises (`present`) or clears error code `code` (1 to 32) of the Error Code resource.
    /// False for a code out of range, or when [`MAX_ERRORS`] are already raised.
    pub fn set_error(&mut self, code: u8, present: bool) -> bool {
        if !(1..=32).contains(&code) {
            return false;
        }
        let at = self.errors.iter().position(|&e| e == code);
        match (at, present) {
            (Some(_), true) => true,
            (None, true) => self.errors.push(code).is_ok(),
            (Some(i), false) => {
                // Shifted by hand: `remove` would link a memmove.
                let mut kept = i;
                for j in i + 1..self.errors.len() {
                    let e = self.errors.get(j).copied().unwrap_or(0);
                    if let Some(slot) = self.errors.get_mut(kept) {
                        *slot = e;
                    }
                    kept += 1;
                }
                self.errors.truncate(kept);
                true
            }
            (None, false) => true,
        }
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
            // "0: no error" when nothing is raised, else one instance per code.
            11 if !self.errors.is_empty() => {
                for (i, &e) in self.errors.iter().enumerate() {
                    out.value(Some(i as u16), &Value::Integer(i64::from(e)))?;
                }
                return Ok(());
            }
            11 => (Some(0), Value::Integer(0)),
            13 => (None, Value::Time(self.current_time())),
            16 => (None, Value::String("U")),
            4 | 5 | 12 => return Err(Code::METHOD_NOT_ALLOWED),
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
            (0, 12) => {
                self.errors.clear();
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

    struct Collect(std::vec::Vec<(Option<u16>, i64)>);
    impl ValueSink for Collect {
        fn value(&mut self, ri: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
            if let Value::Integer(i) = v {
                self.0.push((ri, *i));
            }
            Ok(())
        }
    }

    fn errors(d: &mut Device<'_>) -> std::vec::Vec<(Option<u16>, i64)> {
        let mut c = Collect(std::vec::Vec::new());
        d.read(0, 11, &mut c).unwrap();
        c.0
    }

    #[test]
    fn error_codes_are_raised_cleared_and_reset() {
        let mut d = Device::new(DeviceInfo {
            manufacturer: "m",
            model: "x",
            serial: "1",
            firmware_version: "0",
        });
        assert_eq!(errors(&mut d), [(Some(0), 0)]);
        assert!(d.set_error(1, true));
        assert!(d.set_error(7, true));
        assert!(d.set_error(1, true), "raising twice keeps one");
        assert_eq!(errors(&mut d), [(Some(0), 1), (Some(1), 7)]);
        assert!(d.set_error(1, false));
        assert_eq!(errors(&mut d), [(Some(0), 7)]);
        assert!(!d.set_error(0, true));
        assert!(!d.set_error(33, true));
        for code in 16..16 + MAX_ERRORS as u8 - 1 {
            assert!(d.set_error(code, true));
        }
        assert!(!d.set_error(2, true), "full");
        assert_eq!(d.execute(0, 12, &[]), Ok(()));
        assert_eq!(errors(&mut d), [(Some(0), 0)]);
    }
}
