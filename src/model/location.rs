//! The Location object (6), single instance 0, object version 1.0: the last position fix
//! the application reported. The instance exists once there is a fix.

use super::object::{Object, Operations, ResourceDef, ValueSink};
use super::{ResourceType as T, Value};
use crate::coap::Code;

/// Longest Velocity (/6/0/4) kept: the largest 3GPP TS 23.032 velocity encoding
/// (horizontal and vertical velocity with uncertainty) has 7 bytes.
pub const MAX_VELOCITY_LEN: usize = 7;

/// One position fix. Absent optional values are `None` (the resources are then absent).
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Fix {
    /// 0, Latitude in degrees (WGS84), -90 to 90.
    pub latitude: f64,
    /// 1, Longitude in degrees (WGS84), -180 to 180.
    pub longitude: f64,
    /// 2, Altitude in metres above sea level.
    pub altitude: Option<f64>,
    /// 3, Radius of uncertainty in metres (not negative).
    pub radius: Option<f64>,
    /// 5, Unix time of the measurement.
    pub timestamp: i64,
    /// 6, Speed in m/s (not negative).
    pub speed: Option<f64>,
}

impl Fix {
    /// True when every value is in its range (and finite). Compared as bit patterns: the
    /// bits of a non-negative double order like its value (NaN above infinity), and a
    /// target without a double-precision FPU needs no comparison routine then.
    pub fn is_valid(&self) -> bool {
        let finite = |v: f64| magnitude(v) < f64::INFINITY.to_bits();
        // Not negative (-0.0 included: its sign bit is set) and finite.
        let positive = |v: Option<f64>| v.map_or(true, |v| v.to_bits() < f64::INFINITY.to_bits());
        magnitude(self.latitude) <= 90f64.to_bits()
            && magnitude(self.longitude) <= 180f64.to_bits()
            && self.altitude.map_or(true, finite)
            && positive(self.radius)
            && positive(self.speed)
    }
}

/// The bits of `|v|`: they order like the magnitude, NaN above infinity.
pub(crate) fn magnitude(v: f64) -> u64 {
    v.to_bits() & (u64::MAX >> 1)
}

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, T::Float, Operations::R, false),
    ResourceDef::new(1, T::Float, Operations::R, false),
    ResourceDef::new(2, T::Float, Operations::R, false),
    ResourceDef::new(3, T::Float, Operations::R, false),
    ResourceDef::new(4, T::Opaque, Operations::R, false),
    ResourceDef::new(5, T::Time, Operations::R, false),
    ResourceDef::new(6, T::Float, Operations::R, false),
];

/// The object: no instance until the first [`Location::set`].
pub struct Location {
    fix: Option<Fix>,
    velocity: [u8; MAX_VELOCITY_LEN],
    velocity_len: u8,
    changed: bool,
}

impl Location {
    /// The object without an instance.
    pub const fn new() -> Self {
        Location {
            fix: None,
            velocity: [0; MAX_VELOCITY_LEN],
            velocity_len: 0,
            changed: false,
        }
    }

    /// Reports a new fix and its velocity (3GPP TS 23.032 encoding, empty when unknown;
    /// copied). False, and nothing changed, when a value is out of range or the velocity is
    /// longer than [`MAX_VELOCITY_LEN`].
    pub fn set(&mut self, fix: Fix, velocity: &[u8]) -> bool {
        let Some(dst) = self.velocity.get_mut(..velocity.len()) else {
            return false;
        };
        if !fix.is_valid() {
            return false;
        }
        for (d, &b) in dst.iter_mut().zip(velocity) {
            *d = b;
        }
        self.velocity_len = velocity.len() as u8;
        self.fix = Some(fix);
        self.changed = true;
        true
    }

    /// The fix now reported.
    pub fn get(&self) -> Option<&Fix> {
        self.fix.as_ref()
    }

    /// True once after each [`Location::set`]: the engine's hook for notifications.
    pub fn take_changed(&mut self) -> bool {
        core::mem::take(&mut self.changed)
    }
}

impl Default for Location {
    fn default() -> Self {
        Self::new()
    }
}

impl Object for Location {
    fn id(&self) -> u16 {
        6
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        (index == 0 && self.fix.is_some()).then_some(0)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        let Some(f) = self.fix.filter(|_| iid == 0) else {
            return Err(Code::NOT_FOUND);
        };
        let velocity = self
            .velocity
            .get(..usize::from(self.velocity_len))
            .unwrap_or(&[]);
        let v = match rid {
            0 => Some(f.latitude),
            1 => Some(f.longitude),
            2 => f.altitude,
            3 => f.radius,
            6 => f.speed,
            4 if !velocity.is_empty() => return out.value(None, &Value::Opaque(velocity)),
            5 => return out.value(None, &Value::Time(f.timestamp)),
            _ => None,
        };
        let v = Value::Float(v.ok_or(Code::NOT_FOUND)?);
        out.value(None, &v)
    }

    fn write(&mut self, _: u16, _: u16, _: Option<u16>, _: &Value<'_>) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }

    fn execute(&mut self, _: u16, _: u16, _: &[u8]) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One(Option<std::string::String>);
    impl ValueSink for One {
        fn value(&mut self, ri: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
            assert_eq!(ri, None);
            self.0 = Some(match v {
                Value::Float(f) => format!("f{f}"),
                Value::Time(t) => format!("t{t}"),
                Value::Opaque(b) => format!("o{b:?}"),
                _ => "?".into(),
            });
            Ok(())
        }
    }

    fn read(l: &mut Location, rid: u16) -> Result<std::string::String, Code> {
        let mut o = One(None);
        l.read(0, rid, &mut o)?;
        Ok(o.0.unwrap_or_default())
    }

    const FIX: Fix = Fix {
        latitude: -43.5723,
        longitude: 153.2176,
        altitude: Some(12.5),
        radius: None,
        timestamp: 1_700_000_000,
        speed: Some(0.0),
    };

    #[test]
    fn a_fix_is_read_back_with_absent_values_left_out() {
        let mut l = Location::new();
        assert_eq!(l.instance(0), None);
        assert_eq!(read(&mut l, 0), Err(Code::NOT_FOUND));
        assert!(l.set(FIX, &[0x10, 0x00, 0x2a, 0x00]));
        assert!(l.take_changed());
        assert!(!l.take_changed());
        assert_eq!(l.instance(0), Some(0));
        assert_eq!(read(&mut l, 0).as_deref(), Ok("f-43.5723"));
        assert_eq!(read(&mut l, 1).as_deref(), Ok("f153.2176"));
        assert_eq!(read(&mut l, 2).as_deref(), Ok("f12.5"));
        assert_eq!(read(&mut l, 3), Err(Code::NOT_FOUND));
        assert_eq!(read(&mut l, 4).as_deref(), Ok("o[16, 0, 42, 0]"));
        assert_eq!(read(&mut l, 5).as_deref(), Ok("t1700000000"));
        assert_eq!(read(&mut l, 6).as_deref(), Ok("f0"));
        assert_eq!(read(&mut l, 7), Err(Code::NOT_FOUND));
        assert!(l.set(FIX, &[]));
        assert_eq!(read(&mut l, 4), Err(Code::NOT_FOUND), "no velocity: absent");
        assert_eq!(
            l.write(0, 0, None, &Value::Float(1.0)),
            Err(Code::METHOD_NOT_ALLOWED)
        );
    }

    #[test]
    fn out_of_range_fixes_are_refused_and_change_nothing() {
        let mut l = Location::new();
        assert!(l.set(FIX, &[1]));
        l.take_changed();
        let bad = [
            Fix {
                latitude: 90.5,
                ..FIX
            },
            Fix {
                latitude: f64::NAN,
                ..FIX
            },
            Fix {
                longitude: -180.1,
                ..FIX
            },
            Fix {
                longitude: f64::INFINITY,
                ..FIX
            },
            Fix {
                altitude: Some(f64::NAN),
                ..FIX
            },
            Fix {
                radius: Some(-1.0),
                ..FIX
            },
            Fix {
                speed: Some(-0.5),
                ..FIX
            },
        ];
        for f in bad {
            assert!(!l.set(f, &[]), "{f:?}");
        }
        assert!(!l.set(FIX, &[0; MAX_VELOCITY_LEN + 1]));
        assert!(l.set(
            Fix {
                latitude: 90.0,
                longitude: -180.0,
                ..FIX
            },
            &[0; MAX_VELOCITY_LEN]
        ));
        assert!(l.set(FIX, &[1]));
        l.take_changed();
        assert!(!l.set(
            Fix {
                latitude: 91.0,
                ..FIX
            },
            &[]
        ));
        assert!(!l.take_changed());
        assert_eq!(l.get(), Some(&FIX));
        assert_eq!(read(&mut l, 4).as_deref(), Ok("o[1]"));
    }
}
