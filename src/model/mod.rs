//! The object model: paths, values, object definitions and the standard objects.

pub mod device;
#[cfg(feature = "firmware-update")]
pub mod firmware;
pub mod object;
pub mod path;
pub mod value;

pub use device::{Device, DeviceInfo};
#[cfg(feature = "firmware-update")]
pub use firmware::{Firmware, FirmwareSink, FirmwareState, PullSupport, UpdateResult};
pub use object::{Object, Objects, Operations, ResourceDef, ValueSink};
pub use path::Path;
pub use value::{ResourceType, Value};
