//! Typed resource values (LwM2M Core 1.1, Appendix C data types).

/// The data type of a resource, as an object definition declares it.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
#[repr(u8)]
pub enum ResourceType {
    /// Executable resources carry no value.
    None = 0,
    /// UTF-8 string.
    String = 1,
    /// Signed 64-bit integer.
    Integer = 2,
    /// Unsigned 64-bit integer (LwM2M 1.1).
    Unsigned = 3,
    /// IEEE 754 float (32 or 64 bit on the wire).
    Float = 4,
    /// Boolean.
    Boolean = 5,
    /// Opaque bytes.
    Opaque = 6,
    /// Unix time in seconds (signed).
    Time = 7,
    /// Object link: object id and instance id.
    ObjLnk = 8,
    /// CoRE link (a string in RFC 6690 format).
    CoreLnk = 9,
}

impl ResourceType {
    /// The type from its numeric code (`tern_type_t` in C).
    pub fn from_u8(v: u8) -> Option<ResourceType> {
        Some(match v {
            0 => ResourceType::None,
            1 => ResourceType::String,
            2 => ResourceType::Integer,
            3 => ResourceType::Unsigned,
            4 => ResourceType::Float,
            5 => ResourceType::Boolean,
            6 => ResourceType::Opaque,
            7 => ResourceType::Time,
            8 => ResourceType::ObjLnk,
            9 => ResourceType::CoreLnk,
            _ => return None,
        })
    }
}

/// One value, borrowing any bytes from the object that produced it or the message it was
/// decoded from.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Value<'a> {
    /// UTF-8 string.
    String(&'a str),
    /// Signed integer.
    Integer(i64),
    /// Unsigned integer.
    Unsigned(u64),
    /// Float.
    Float(f64),
    /// Boolean.
    Boolean(bool),
    /// Opaque bytes.
    Opaque(&'a [u8]),
    /// Unix time in seconds.
    Time(i64),
    /// Object link (object id, instance id).
    ObjLnk(u16, u16),
    /// CoRE link format string.
    CoreLnk(&'a str),
}

impl Value<'_> {
    /// The data type this value carries.
    pub fn kind(&self) -> ResourceType {
        match self {
            Value::String(_) => ResourceType::String,
            Value::Integer(_) => ResourceType::Integer,
            Value::Unsigned(_) => ResourceType::Unsigned,
            Value::Float(_) => ResourceType::Float,
            Value::Boolean(_) => ResourceType::Boolean,
            Value::Opaque(_) => ResourceType::Opaque,
            Value::Time(_) => ResourceType::Time,
            Value::ObjLnk(..) => ResourceType::ObjLnk,
            Value::CoreLnk(_) => ResourceType::CoreLnk,
        }
    }
}
