//! The Connectivity Monitoring object (4), single instance 0, object version 1.0: what the
//! application knows of its network connection. Every value comes from the application;
//! the instance exists once it has told the object something.

use super::object::{Object, Operations, ResourceDef, ValueSink};
use super::{ResourceType as T, Value};
use crate::coap::Code;

/// Highest Network Bearer code (0-20 cellular, 21-40 wireless, 41-50 wireline).
pub const MAX_BEARER: u8 = 50;

/// The values of the Connectivity Monitoring resources. `None` and empty lists are absent
/// resources (a Read answers 4.04, an instance Read leaves them out). The strings are `S`:
/// `&str` in Rust (the C client has a string type of its own).
#[derive(Clone, Copy)]
pub struct Connectivity<'a, S = &'a str> {
    /// 0, Network Bearer now in use (0 to 50: 0 GSM, 6 LTE-FDD, 7 NB-IoT, 21 WLAN,
    /// 41 Ethernet, ...).
    pub network_bearer: u8,
    /// 1, Available Network Bearers (each 0 to 50).
    pub available_bearers: &'a [u8],
    /// 2, Radio Signal Strength in dBm.
    pub radio_signal_strength: i32,
    /// 3, Link Quality.
    pub link_quality: Option<i32>,
    /// 4, IP Addresses.
    pub ip_addresses: &'a [S],
    /// 5, Router IP Addresses.
    pub router_ip_addresses: &'a [S],
    /// 6, Link Utilization in percent (0 to 100).
    pub link_utilization: Option<u8>,
    /// 7, APNs.
    pub apns: &'a [S],
    /// 8, Cell ID.
    pub cell_id: Option<u32>,
    /// 9, Serving Mobile Network Code (0 to 999).
    pub smnc: Option<u16>,
    /// 10, Serving Mobile Country Code (0 to 999).
    pub smcc: Option<u16>,
}

impl<S> Connectivity<'_, S> {
    /// True when every value is in its range.
    pub fn is_valid(&self) -> bool {
        self.network_bearer <= MAX_BEARER
            && self.available_bearers.iter().all(|&b| b <= MAX_BEARER)
            && self.link_utilization.map_or(true, |u| u <= 100)
            && self.smnc.map_or(true, |c| c <= 999)
            && self.smcc.map_or(true, |c| c <= 999)
    }
}

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, T::Integer, Operations::R, false),
    ResourceDef::new(1, T::Integer, Operations::R, true),
    ResourceDef::new(2, T::Integer, Operations::R, false),
    ResourceDef::new(3, T::Integer, Operations::R, false),
    ResourceDef::new(4, T::String, Operations::R, true),
    ResourceDef::new(5, T::String, Operations::R, true),
    ResourceDef::new(6, T::Integer, Operations::R, false),
    ResourceDef::new(7, T::String, Operations::R, true),
    ResourceDef::new(8, T::Integer, Operations::R, false),
    ResourceDef::new(9, T::Integer, Operations::R, false),
    ResourceDef::new(10, T::Integer, Operations::R, false),
];

/// The object: no instance until [`ConnectivityMonitoring::set`] gives it values.
pub struct ConnectivityMonitoring<'a, S = &'a str> {
    now: Option<Connectivity<'a, S>>,
    changed: bool,
}

impl<'a, S: Copy> ConnectivityMonitoring<'a, S> {
    /// The object without an instance.
    pub const fn new() -> Self {
        ConnectivityMonitoring {
            now: None,
            changed: false,
        }
    }

    /// Replaces every value (instance 0 appears with the first call). False, and nothing
    /// changed, when a value is out of range.
    pub fn set(&mut self, c: Connectivity<'a, S>) -> bool {
        if !c.is_valid() {
            return false;
        }
        self.now = Some(c);
        self.changed = true;
        true
    }

    /// The values now reported.
    pub fn get(&self) -> Option<&Connectivity<'a, S>> {
        self.now.as_ref()
    }

    /// True once after each [`ConnectivityMonitoring::set`] (for notifications).
    pub fn take_changed(&mut self) -> bool {
        core::mem::take(&mut self.changed)
    }
}

impl<S: Copy> Default for ConnectivityMonitoring<'_, S> {
    fn default() -> Self {
        Self::new()
    }
}

/// The instances of a multiple-instance resource, numbered from 0; none is an absent
/// resource.
fn bearers(out: &mut dyn ValueSink, items: &[u8]) -> Result<(), Code> {
    if items.is_empty() {
        return Err(Code::NOT_FOUND);
    }
    for (i, &b) in items.iter().enumerate() {
        out.value(Some(i as u16), &Value::Integer(i64::from(b)))?;
    }
    Ok(())
}

fn strings<S: AsRef<str>>(out: &mut dyn ValueSink, items: &[S]) -> Result<(), Code> {
    if items.is_empty() {
        return Err(Code::NOT_FOUND);
    }
    for (i, s) in items.iter().enumerate() {
        out.value(Some(i as u16), &Value::String(s.as_ref()))?;
    }
    Ok(())
}

impl<S: Copy + AsRef<str>> Object for ConnectivityMonitoring<'_, S> {
    fn id(&self) -> u16 {
        4
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        (index == 0 && self.now.is_some()).then_some(0)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        let Some(c) = self.now.filter(|_| iid == 0) else {
            return Err(Code::NOT_FOUND);
        };
        let v = match rid {
            0 => Some(i64::from(c.network_bearer)),
            1 => return bearers(out, c.available_bearers),
            2 => Some(i64::from(c.radio_signal_strength)),
            3 => c.link_quality.map(i64::from),
            4 => return strings(out, c.ip_addresses),
            5 => return strings(out, c.router_ip_addresses),
            6 => c.link_utilization.map(i64::from),
            7 => return strings(out, c.apns),
            8 => c.cell_id.map(i64::from),
            9 => c.smnc.map(i64::from),
            10 => c.smcc.map(i64::from),
            _ => None,
        };
        match v {
            Some(v) => out.value(None, &Value::Integer(v)),
            None => Err(Code::NOT_FOUND),
        }
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

    /// (resource instance, value) pairs of one resource, values as text.
    struct Collect(std::vec::Vec<(Option<u16>, std::string::String)>);
    impl ValueSink for Collect {
        fn value(&mut self, ri: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
            let text = match v {
                Value::Integer(i) => i.to_string(),
                Value::String(s) => (*s).into(),
                _ => "?".into(),
            };
            self.0.push((ri, text));
            Ok(())
        }
    }

    fn read(
        o: &mut ConnectivityMonitoring<'_>,
        rid: u16,
    ) -> Result<std::vec::Vec<(Option<u16>, std::string::String)>, Code> {
        let mut c = Collect(std::vec::Vec::new());
        o.read(0, rid, &mut c).map(|_| c.0)
    }

    fn sample() -> Connectivity<'static> {
        Connectivity {
            network_bearer: 6,
            available_bearers: &[6, 7],
            radio_signal_strength: -93,
            link_quality: Some(-11),
            ip_addresses: &["192.0.2.7"],
            router_ip_addresses: &[],
            link_utilization: None,
            apns: &["internet", "iot.example"],
            cell_id: Some(268_435_455),
            smnc: Some(1),
            smcc: Some(262),
        }
    }

    #[test]
    fn no_instance_until_set_then_every_value_read_back() {
        let mut o = ConnectivityMonitoring::new();
        assert_eq!(o.instance(0), None);
        assert_eq!(read(&mut o, 0), Err(Code::NOT_FOUND));
        assert!(!o.take_changed());
        assert!(o.set(sample()));
        assert!(o.take_changed());
        assert!(!o.take_changed());
        assert_eq!(o.instance(0), Some(0));
        assert_eq!(o.instance(1), None);
        let one = |v: &str| Ok(vec![(None, v.to_string())]);
        assert_eq!(read(&mut o, 0), one("6"));
        assert_eq!(
            read(&mut o, 1),
            Ok(vec![(Some(0), "6".into()), (Some(1), "7".into())])
        );
        assert_eq!(read(&mut o, 2), one("-93"));
        assert_eq!(read(&mut o, 3), one("-11"));
        assert_eq!(read(&mut o, 4), Ok(vec![(Some(0), "192.0.2.7".into())]));
        assert_eq!(read(&mut o, 5), Err(Code::NOT_FOUND), "no router: absent");
        assert_eq!(read(&mut o, 6), Err(Code::NOT_FOUND), "not set: absent");
        assert_eq!(
            read(&mut o, 7),
            Ok(vec![
                (Some(0), "internet".into()),
                (Some(1), "iot.example".into())
            ])
        );
        assert_eq!(read(&mut o, 8), one("268435455"));
        assert_eq!(read(&mut o, 9), one("1"));
        assert_eq!(read(&mut o, 10), one("262"));
        assert_eq!(read(&mut o, 11), Err(Code::NOT_FOUND));
        let mut c = Collect(std::vec::Vec::new());
        assert_eq!(o.read(1, 0, &mut c), Err(Code::NOT_FOUND));
        assert_eq!(
            o.write(0, 0, None, &Value::Integer(1)),
            Err(Code::METHOD_NOT_ALLOWED)
        );
        assert_eq!(o.execute(0, 0, &[]), Err(Code::METHOD_NOT_ALLOWED));
    }

    #[test]
    fn out_of_range_values_are_refused_and_change_nothing() {
        let mut o = ConnectivityMonitoring::new();
        assert!(o.set(sample()));
        o.take_changed();
        let bad = [
            Connectivity {
                network_bearer: 51,
                ..sample()
            },
            Connectivity {
                available_bearers: &[6, 99],
                ..sample()
            },
            Connectivity {
                link_utilization: Some(101),
                ..sample()
            },
            Connectivity {
                smnc: Some(1000),
                ..sample()
            },
            Connectivity {
                smcc: Some(1000),
                ..sample()
            },
        ];
        for c in bad {
            assert!(!o.set(c));
        }
        assert!(!o.take_changed());
        assert_eq!(read(&mut o, 0), Ok(vec![(None, "6".into())]));
    }
}
