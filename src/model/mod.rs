//! The object model: paths, values, object definitions and the standard objects.

#[cfg(feature = "connectivity-monitoring")]
pub mod connectivity;
pub mod device;
#[cfg(feature = "firmware-update")]
pub mod firmware;
#[cfg(feature = "location")]
pub mod location;
pub mod object;
pub mod path;
#[cfg(feature = "connectivity-statistics")]
pub mod statistics;
pub mod value;

#[cfg(feature = "connectivity-monitoring")]
pub use connectivity::{Connectivity, ConnectivityMonitoring};
#[cfg(feature = "location")]
pub use location::{Fix, Location};
#[cfg(feature = "connectivity-statistics")]
pub use statistics::ConnectivityStatistics;

pub use device::{Device, DeviceInfo};
#[cfg(feature = "firmware-update")]
pub use firmware::{Firmware, FirmwareSink, FirmwareState, PullSupport, UpdateResult};
pub use object::{Object, Objects, Operations, ResourceDef, ValueSink};
pub use path::Path;
pub use value::{ResourceType, Value};
