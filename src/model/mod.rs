//! The object model: paths, values, object definitions and the standard objects.

pub mod device;
pub mod object;
pub mod path;
pub mod value;

pub use device::{Device, DeviceInfo};
pub use object::{Object, Objects, Operations, ResourceDef, ValueSink};
pub use path::Path;
pub use value::{ResourceType, Value};
