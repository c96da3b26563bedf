//! The optional standard objects of the C client: Connectivity Monitoring (4), Location (6)
//! and Connectivity Statistics (7), each behind its Cargo feature, and their setters. A
//! setter of an object the build leaves out returns `TERN_STATUS_NOT_FOUND`.

#[cfg(feature = "location")]
use crate::model::location::magnitude;
#[cfg(feature = "connectivity-statistics")]
use crate::model::ConnectivityStatistics;
use crate::model::Object;
#[cfg(feature = "connectivity-monitoring")]
use crate::model::{Connectivity, ConnectivityMonitoring};
#[cfg(feature = "location")]
use crate::model::{Fix, Location};

use super::client::{standard_of, tern_client_t};
use super::types::*;

/// The optional standard objects of a client, in object id order.
///
/// cbindgen:ignore
pub(super) struct Standard {
    #[cfg(feature = "connectivity-monitoring")]
    connectivity: ConnectivityMonitoring<'static, Text>,
    #[cfg(feature = "location")]
    location: Location,
    #[cfg(feature = "connectivity-statistics")]
    statistics: ConnectivityStatistics,
}

impl Standard {
    pub(super) const fn new() -> Self {
        Standard {
            #[cfg(feature = "connectivity-monitoring")]
            connectivity: ConnectivityMonitoring::new(),
            #[cfg(feature = "location")]
            location: Location::new(),
            #[cfg(feature = "connectivity-statistics")]
            statistics: ConnectivityStatistics::new(),
        }
    }

    /// The `index`-th of these objects, or the index counted past them.
    #[allow(unused_mut)]
    pub(super) fn object(&mut self, index: usize) -> Result<&mut dyn Object, usize> {
        let mut i = index;
        #[cfg(feature = "connectivity-monitoring")]
        match i.checked_sub(1) {
            None => return Ok(&mut self.connectivity),
            Some(rest) => i = rest,
        }
        #[cfg(feature = "location")]
        match i.checked_sub(1) {
            None => return Ok(&mut self.location),
            Some(rest) => i = rest,
        }
        #[cfg(feature = "connectivity-statistics")]
        match i.checked_sub(1) {
            None => return Ok(&mut self.statistics),
            Some(rest) => i = rest,
        }
        Err(i)
    }

    /// A datagram of `len` bytes went to `send`, which returned `status` (counted when OK).
    #[inline(always)]
    pub(super) fn sent(&mut self, status: tern_status_t, len: usize, now: u64) {
        #[cfg(feature = "connectivity-statistics")]
        if status == TERN_STATUS_OK {
            self.statistics.sent(len, now);
        }
        let _ = (status, len, now);
    }

    /// A datagram of `len` bytes came from `recv` or `tern_client_input`.
    #[inline(always)]
    pub(super) fn received(&mut self, len: usize, now: u64) {
        #[cfg(feature = "connectivity-statistics")]
        self.statistics.received(len, now);
        let _ = (len, now);
    }
}

/// Bits of `tern_connectivity_t.present`: which optional values are set (an optional
/// resource not set is absent: a server's Read of it gets 4.04).
#[repr(u32)]
#[derive(Clone, Copy)]
pub enum tern_connectivity_present_t {
    /// `link_quality` is set (resource 3).
    TERN_CONNECTIVITY_LINK_QUALITY = 1 << 3,
    /// `link_utilization` is set (resource 6).
    TERN_CONNECTIVITY_LINK_UTILIZATION = 1 << 6,
    /// `cell_id` is set (resource 8).
    TERN_CONNECTIVITY_CELL_ID = 1 << 8,
    /// `smnc` is set (resource 9).
    TERN_CONNECTIVITY_SMNC = 1 << 9,
    /// `smcc` is set (resource 10).
    TERN_CONNECTIVITY_SMCC = 1 << 10,
}

/// The values of the Connectivity Monitoring object (4) for `tern_client_set_connectivity`.
/// The struct itself is copied; the arrays it points to (and the strings in them) are
/// borrowed and must stay valid and unchanged until the next call or `tern_client_close`.
/// An array may be NULL when its count is 0; an empty array is an absent resource.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_connectivity_t {
    /// Resource 0, Network Bearer now in use, 0 to 50 (0 GSM, 6 LTE-FDD, 7 NB-IoT,
    /// 21 WLAN, 41 Ethernet, ...).
    pub network_bearer: u8,
    /// Resource 2, Radio Signal Strength in dBm.
    pub radio_signal_strength: i32,
    /// Resource 1, Available Network Bearers (each 0 to 50).
    pub available_bearers: *const u8,
    /// Entries of `available_bearers`.
    pub available_bearer_count: usize,
    /// Resource 4, IP Addresses (text, e.g. "192.0.2.7").
    pub ip_addresses: *const tern_str_t,
    /// Entries of `ip_addresses`.
    pub ip_address_count: usize,
    /// Resource 5, Router IP Addresses.
    pub router_ip_addresses: *const tern_str_t,
    /// Entries of `router_ip_addresses`.
    pub router_ip_address_count: usize,
    /// Resource 7, APNs.
    pub apns: *const tern_str_t,
    /// Entries of `apns`.
    pub apn_count: usize,
    /// Which of the values below are set: `tern_connectivity_present_t` bits.
    pub present: u32,
    /// Resource 3, Link Quality.
    pub link_quality: i32,
    /// Resource 6, Link Utilization in percent (0 to 100).
    pub link_utilization: u8,
    /// Resource 8, Cell ID.
    pub cell_id: u32,
    /// Resource 9, Serving Mobile Network Code (0 to 999).
    pub smnc: u16,
    /// Resource 10, Serving Mobile Country Code (0 to 999).
    pub smcc: u16,
}

/// Sets every value of the Connectivity Monitoring object (4); its instance 0 exists from
/// the first call on (a registration Update announces it). `TERN_STATUS_NULL_ARG` for a
/// NULL pointer (an array with entries, or a string in one), `TERN_STATUS_INVALID_ARG` for
/// a value out of range or a string that is empty or not UTF-8; nothing changes then.
/// `TERN_STATUS_NOT_FOUND` when the build leaves the object out.
///
/// # Safety
/// `client` from `tern_client_init`; `connectivity` NULL or valid, its arrays valid for
/// their counts for as long as documented on `tern_connectivity_t`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_connectivity(
    client: *mut tern_client_t,
    connectivity: *const tern_connectivity_t,
) -> tern_status_t {
    #[cfg(feature = "connectivity-monitoring")]
    {
        // SAFETY: forwarded from the caller's contract.
        let r = unsafe { set_connectivity(client, connectivity) };
        r.err().unwrap_or(TERN_STATUS_OK)
    }
    #[cfg(not(feature = "connectivity-monitoring"))]
    {
        let _ = (client, connectivity);
        TERN_STATUS_NOT_FOUND
    }
}

#[cfg(feature = "connectivity-monitoring")]
unsafe fn set_connectivity(
    client: *mut tern_client_t,
    c: *const tern_connectivity_t,
) -> Result<(), tern_status_t> {
    // SAFETY: forwarded.
    let (std, core) = unsafe { standard_of(client)? };
    // SAFETY: NULL or valid by the caller's contract.
    let c = unsafe { c.as_ref() }.ok_or(TERN_STATUS_NULL_ARG)?;
    let has = |bit: tern_connectivity_present_t| c.present & bit as u32 != 0;
    use tern_connectivity_present_t::*;
    // SAFETY: the four arrays are valid for their counts until the next call or close, as
    // the caller guarantees.
    let value = unsafe {
        Connectivity {
            network_bearer: c.network_bearer,
            available_bearers: array(c.available_bearers, c.available_bearer_count)?,
            radio_signal_strength: c.radio_signal_strength,
            link_quality: has(TERN_CONNECTIVITY_LINK_QUALITY).then_some(c.link_quality),
            ip_addresses: strings(c.ip_addresses, c.ip_address_count)?,
            router_ip_addresses: strings(c.router_ip_addresses, c.router_ip_address_count)?,
            link_utilization: has(TERN_CONNECTIVITY_LINK_UTILIZATION).then_some(c.link_utilization),
            apns: strings(c.apns, c.apn_count)?,
            cell_id: has(TERN_CONNECTIVITY_CELL_ID).then_some(c.cell_id),
            smnc: has(TERN_CONNECTIVITY_SMNC).then_some(c.smnc),
            smcc: has(TERN_CONNECTIVITY_SMCC).then_some(c.smcc),
        }
    };
    let first = std.connectivity.get().is_none();
    if !std.connectivity.set(value) {
        return Err(TERN_STATUS_INVALID_ARG);
    }
    if first {
        core.update(true);
    }
    Ok(())
}

/// A C array as a slice (empty when `n` is 0, whatever the pointer).
///
/// # Safety
/// `p` valid for `n` entries for `'static` (as far as the client is concerned).
#[cfg(feature = "connectivity-monitoring")]
unsafe fn array<T>(p: *const T, n: usize) -> Result<&'static [T], tern_status_t> {
    match (n, p.is_null()) {
        (0, _) => Ok(&[]),
        (_, true) => Err(TERN_STATUS_NULL_ARG),
        // SAFETY: non-NULL and valid for `n` entries (the caller's contract).
        _ => Ok(unsafe { core::slice::from_raw_parts(p, n) }),
    }
}

/// A string of a `tern_connectivity_t` array, checked (not NULL, not empty, UTF-8) by
/// `strings` before the object sees it.
///
/// cbindgen:ignore
#[cfg(feature = "connectivity-monitoring")]
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(super) struct Text(tern_str_t);

#[cfg(feature = "connectivity-monitoring")]
impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        // SAFETY: only `strings` hands out `Text`s, after checking that each points to
        // `len` bytes of UTF-8, which the caller keeps valid and unchanged until the next
        // tern_client_set_connectivity or tern_client_close.
        unsafe {
            core::str::from_utf8_unchecked(core::slice::from_raw_parts(
                self.0.ptr.cast(),
                self.0.len,
            ))
        }
    }
}

/// A C array of strings as `Text`s, used in place once every entry is checked: not NULL,
/// not empty, UTF-8.
///
/// # Safety
/// As for `array`, and each string valid for its length.
#[cfg(feature = "connectivity-monitoring")]
unsafe fn strings(p: *const tern_str_t, n: usize) -> Result<&'static [Text], tern_status_t> {
    // SAFETY: forwarded.
    let list = unsafe { array(p, n)? };
    for s in list {
        if s.ptr.is_null() {
            return Err(TERN_STATUS_NULL_ARG);
        }
        // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
        let (ptr, _) = unsafe { super::client::str_checked(*s) };
        if ptr.is_null() || s.len == 0 {
            return Err(TERN_STATUS_INVALID_ARG);
        }
    }
    // SAFETY: `Text` is a transparent `tern_str_t`.
    Ok(unsafe { core::slice::from_raw_parts(list.as_ptr().cast::<Text>(), list.len()) })
}

/// A position fix for `tern_client_set_location` (Location object, 6).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tern_location_t {
    /// Resource 0, Latitude in degrees (WGS84), -90 to 90.
    pub latitude: f64,
    /// Resource 1, Longitude in degrees (WGS84), -180 to 180.
    pub longitude: f64,
    /// Resource 2, Altitude in metres; NAN when unknown (the resource is then absent).
    pub altitude: f64,
    /// Resource 3, Radius of uncertainty in metres (not negative); NAN when unknown.
    pub radius: f64,
    /// Resource 6, Speed in m/s (not negative); NAN when unknown.
    pub speed: f64,
    /// Resource 5, Unix time of the measurement.
    pub timestamp: i64,
    /// Resource 4, Velocity in 3GPP TS 23.032 encoding (at most 7 bytes, copied); NULL or
    /// length 0 when unknown.
    pub velocity: *const u8,
    /// Bytes of `velocity`.
    pub velocity_len: usize,
}

/// Reports a new position fix (copied) to the Location object (6); its instance 0 exists
/// from the first call on (a registration Update announces it). `TERN_STATUS_NULL_ARG` for
/// a NULL `location` or velocity with a length, `TERN_STATUS_INVALID_ARG` for a value out
/// of range (or infinite, or a NAN latitude or longitude) or a velocity over 7 bytes;
/// nothing changes then. `TERN_STATUS_NOT_FOUND` when the build leaves the object out.
///
/// # Safety
/// `client` from `tern_client_init`; `location` NULL or valid, its velocity valid for
/// `velocity_len` bytes during the call.
#[no_mangle]
pub unsafe extern "C" fn tern_client_set_location(
    client: *mut tern_client_t,
    location: *const tern_location_t,
) -> tern_status_t {
    #[cfg(feature = "location")]
    {
        // SAFETY: forwarded from the caller's contract.
        let r = unsafe { set_location(client, location) };
        r.err().unwrap_or(TERN_STATUS_OK)
    }
    #[cfg(not(feature = "location"))]
    {
        let _ = (client, location);
        TERN_STATUS_NOT_FOUND
    }
}

#[cfg(feature = "location")]
unsafe fn set_location(
    client: *mut tern_client_t,
    l: *const tern_location_t,
) -> Result<(), tern_status_t> {
    // SAFETY: forwarded.
    let (std, core) = unsafe { standard_of(client)? };
    // SAFETY: NULL or valid by the caller's contract.
    let l = unsafe { l.as_ref() }.ok_or(TERN_STATUS_NULL_ARG)?;
    let velocity: &[u8] = match (l.velocity_len, l.velocity.is_null()) {
        (0, _) => &[],
        (_, true) => return Err(TERN_STATUS_NULL_ARG),
        // SAFETY: non-NULL, `velocity_len` bytes during the call (the caller's contract).
        (n, false) => unsafe { core::slice::from_raw_parts(l.velocity, n) },
    };
    // NaN: the only doubles whose magnitude's bits lie above infinity's.
    let known = |v: f64| (magnitude(v) <= f64::INFINITY.to_bits()).then_some(v);
    let fix = Fix {
        latitude: l.latitude,
        longitude: l.longitude,
        altitude: known(l.altitude),
        radius: known(l.radius),
        timestamp: l.timestamp,
        speed: known(l.speed),
    };
    let first = std.location.get().is_none();
    if !std.location.set(fix, velocity) {
        return Err(TERN_STATUS_INVALID_ARG);
    }
    if first {
        core.update(true);
    }
    Ok(())
}

/// Counts an SMS the application sent (`sent` true) or received, for the Connectivity
/// Statistics object (7): the SMS counters (/7/0/0, /7/0/1) are reported from the first
/// call on and count while a server's collection runs. `now_ms` as for `tern_client_step`.
/// (IP datagrams are counted by the client itself.) `TERN_STATUS_NOT_FOUND` when the build
/// leaves the object out.
///
/// # Safety
/// `client` from `tern_client_init`.
#[no_mangle]
pub unsafe extern "C" fn tern_client_count_sms(
    client: *mut tern_client_t,
    sent: bool,
    now_ms: u64,
) -> tern_status_t {
    // SAFETY: forwarded.
    match unsafe { standard_of(client) } {
        #[cfg(feature = "connectivity-statistics")]
        Ok((std, _)) => {
            std.statistics.count_sms(sent, now_ms);
            TERN_STATUS_OK
        }
        #[cfg(not(feature = "connectivity-statistics"))]
        Ok(_) => {
            let _ = (sent, now_ms);
            TERN_STATUS_NOT_FOUND
        }
        Err(s) => s,
    }
}
