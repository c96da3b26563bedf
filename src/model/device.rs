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
    #[cfg(feature = "device-time")]
    ResourceDef::new(14, T::String, Operations::RW, false),
    #[cfg(feature = "device-time")]
    ResourceDef::new(15, T::String, Operations::RW, false),
    ResourceDef::new(16, T::String, Operations::R, false),
];

/// Longest Timezone (/3/0/15) kept: the longest IANA zone name has 32 characters.
#[cfg(feature = "device-time")]
pub const MAX_TIMEZONE_LEN: usize = 32;

/// Device object state. Reboot is reported through [`Device::take_reboot_request`] so that
/// the response reaches the server before the platform reboots.
pub struct Device<'a> {
    info: DeviceInfo<'a>,
    uptime_s: i64,
    /// Unix time minus uptime: what a write of Current Time (/3/0/13) sets.
    clock_offset_s: i64,
    /// UTC Offset (/3/0/14) and Timezone (/3/0/15) as the server wrote them (ASCII), one
    /// after the other; a length of 0 is an absent resource (4.04 on Read) until written.
    #[cfg(feature = "device-time")]
    time_text: [u8; TIME_TEXT_LEN],
    #[cfg(feature = "device-time")]
    time_text_len: [u8; 2],
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
            clock_offset_s: 0,
            #[cfg(feature = "device-time")]
            time_text: [0; TIME_TEXT_LEN],
            #[cfg(feature = "device-time")]
            time_text_len: [0; 2],
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
        self.clock_offset_s.saturating_add(self.uptime_s)
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
            #[cfg(feature = "device-time")]
            14 | 15 => (None, Value::String(self.time_text(rid)?)),
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
        match (rid, riid, *value) {
            (13, None, Value::Time(t) | Value::Integer(t)) => {
                self.clock_offset_s = t.saturating_sub(self.uptime_s);
                Ok(())
            }
            // Current Time stays UTC: the offset and the zone are only reported back.
            #[cfg(feature = "device-time")]
            (14 | 15, None, Value::String(s)) => self.set_time_text(rid, s.as_bytes()),
            (13..=15, ..) => Err(Code::BAD_REQUEST),
            _ => Err(Code::METHOD_NOT_ALLOWED),
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

/// Bytes of `Device::time_text`: the longest UTC offset (`+hh:mm`), then the longest
/// Timezone.
#[cfg(feature = "device-time")]
const TIME_TEXT_LEN: usize = 6 + MAX_TIMEZONE_LEN;

#[cfg(feature = "device-time")]
impl Device<'_> {
    /// Where resource 14 or 15 lives in `time_text`: (offset, capacity, slot of its length).
    fn time_slot(rid: u16) -> (usize, usize, usize) {
        if rid == 14 {
            (0, 6, 0)
        } else {
            (6, MAX_TIMEZONE_LEN, 1)
        }
    }

    /// UTC Offset (14) or Timezone (15); 4.04 while not written.
    fn time_text(&self, rid: u16) -> Result<&str, Code> {
        let (at, _, slot) = Self::time_slot(rid);
        let len = usize::from(self.time_text_len.get(slot).copied().unwrap_or(0));
        let bytes = self.time_text.get(at..at + len).unwrap_or(&[]);
        crate::util::utf8(bytes)
            .filter(|s| !s.is_empty())
            .ok_or(Code::NOT_FOUND)
    }

    /// Stores a UTC Offset (14) or Timezone (15) after checking it: 4.00 when malformed
    /// or too long (nothing changes then).
    #[inline(never)]
    fn set_time_text(&mut self, rid: u16, s: &[u8]) -> Result<(), Code> {
        let (at, cap, slot) = Self::time_slot(rid);
        let ok = if rid == 14 {
            utc_offset_ok(s)
        } else {
            // IANA names are printable ASCII without spaces (`America/Port-au-Prince`).
            !s.is_empty() && s.iter().all(|&c| c.wrapping_sub(b'!') < 94)
        };
        let dst = self
            .time_text
            .get_mut(at..at + s.len())
            .filter(|_| ok && s.len() <= cap)
            .ok_or(Code::BAD_REQUEST)?;
        for (d, &c) in dst.iter_mut().zip(s) {
            *d = c;
        }
        if let Some(l) = self.time_text_len.get_mut(slot) {
            *l = s.len() as u8;
        }
        Ok(())
    }
}

/// An ISO 8601 UTC offset: `Z`, or a sign and two digits of hours (up to 14), optionally
/// followed by two digits of minutes (up to 59), with or without a colon: `+02`, `-0530`,
/// `+05:30`.
#[cfg(feature = "device-time")]
fn utc_offset_ok(s: &[u8]) -> bool {
    match s {
        b"Z" => true,
        [b'+' | b'-', h0, h1, rest @ ..] => {
            let m: &[u8] = match rest {
                [] => b"00",
                [b':', m @ ..] => m,
                m => m,
            };
            two_digits(*h0, *h1) <= 14 && matches!(m, [m0, m1] if two_digits(*m0, *m1) <= 59)
        }
        _ => false,
    }
}

/// The number two ASCII digits spell, or 99 when they are not digits.
#[cfg(feature = "device-time")]
fn two_digits(a: u8, b: u8) -> u8 {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        (a - b'0') * 10 + (b - b'0')
    } else {
        99
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

    #[cfg(feature = "device-time")]
    #[test]
    fn utc_offset_and_timezone_are_checked_and_read_back() {
        struct Text(std::string::String);
        impl ValueSink for Text {
            fn value(&mut self, ri: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
                assert_eq!(ri, None);
                if let Value::String(s) = v {
                    self.0 = (*s).into();
                }
                Ok(())
            }
        }
        let read = |d: &mut Device<'_>, rid| {
            let mut t = Text(std::string::String::new());
            d.read(0, rid, &mut t).map(|_| t.0)
        };
        let mut d = Device::new(DeviceInfo {
            manufacturer: "m",
            model: "x",
            serial: "1",
            firmware_version: "0",
        });
        assert_eq!(
            read(&mut d, 14),
            Err(Code::NOT_FOUND),
            "absent until written"
        );
        assert_eq!(read(&mut d, 15), Err(Code::NOT_FOUND));
        for good in ["+02:00", "-0530", "+14", "Z", "-12:00", "+00:00"] {
            assert_eq!(d.write(0, 14, None, &Value::String(good)), Ok(()), "{good}");
            assert_eq!(read(&mut d, 14).as_deref(), Ok(good));
        }
        for bad in [
            "",
            "02:00",
            "+2:00",
            "+15:00",
            "+02:60",
            "+02:0",
            "UTC+2",
            "+02:00:00",
            "z",
        ] {
            assert_eq!(
                d.write(0, 14, None, &Value::String(bad)),
                Err(Code::BAD_REQUEST),
                "{bad}"
            );
        }
        assert_eq!(
            read(&mut d, 14).as_deref(),
            Ok("+00:00"),
            "a failed write changes nothing"
        );
        assert_eq!(
            d.write(0, 14, None, &Value::Integer(2)),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(
            d.write(0, 14, Some(0), &Value::String("Z")),
            Err(Code::BAD_REQUEST)
        );
        let longest = "America/Argentina/ComodRivadavia";
        assert_eq!(longest.len(), MAX_TIMEZONE_LEN);
        for good in [
            "Europe/Paris",
            "Etc/GMT+2",
            "America/Port-au-Prince",
            longest,
        ] {
            assert_eq!(d.write(0, 15, None, &Value::String(good)), Ok(()), "{good}");
            assert_eq!(read(&mut d, 15).as_deref(), Ok(good));
        }
        let too_long = "America/Argentina/ComodRivadaviaX";
        for bad in ["", "Europe/Paris ", "Europe/Pärís", too_long] {
            assert_eq!(
                d.write(0, 15, None, &Value::String(bad)),
                Err(Code::BAD_REQUEST),
                "{bad}"
            );
        }
        assert_eq!(read(&mut d, 15).as_deref(), Ok(longest));
        // Current Time stays UTC whatever the offset.
        d.set_uptime_ms(5_000);
        assert_eq!(d.write(0, 13, None, &Value::Time(1_700_000_000)), Ok(()));
        assert_eq!(d.write(0, 14, None, &Value::String("+05:30")), Ok(()));
        assert_eq!(d.current_time(), 1_700_000_000);
        assert_eq!(
            d.write(0, 16, None, &Value::String("U")),
            Err(Code::METHOD_NOT_ALLOWED)
        );
    }
}
