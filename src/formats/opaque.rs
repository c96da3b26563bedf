//! Opaque (content format 42, [`super::content_format::OPAQUE`]): the raw bytes of one
//! Opaque resource, as they are.

use crate::buf::Writer;
use crate::formats::FormatError;
use crate::model::{ResourceType, Value};

/// Writes the bytes of a [`Value::Opaque`]; any other value gives [`FormatError::WrongType`].
/// On [`FormatError::NoSpace`] nothing is written.
pub fn encode(v: &Value<'_>, w: &mut Writer<'_>) -> Result<(), FormatError> {
    match *v {
        Value::Opaque(data) => Ok(w.put(data)?),
        _ => Err(FormatError::WrongType),
    }
}

/// Reads the whole payload as a [`Value::Opaque`] borrowing `data`. Only
/// [`ResourceType::Opaque`] resources take this format; any other type gives
/// [`FormatError::WrongType`].
pub fn decode<'a>(data: &'a [u8], ty: ResourceType) -> Result<Value<'a>, FormatError> {
    match ty {
        ResourceType::Opaque => Ok(Value::Opaque(data)),
        _ => Err(FormatError::WrongType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data = [0u8, 1, 0xff, 0x80];
        let mut b = [0u8; 8];
        let mut w = Writer::new(&mut b);
        encode(&Value::Opaque(&data), &mut w).unwrap();
        assert_eq!(w.written(), &data);
        assert_eq!(
            decode(w.written(), ResourceType::Opaque),
            Ok(Value::Opaque(&data))
        );
        assert_eq!(decode(&[], ResourceType::Opaque), Ok(Value::Opaque(&[])));
    }

    #[test]
    fn other_types_are_wrong_type() {
        let mut b = [0u8; 8];
        let mut w = Writer::new(&mut b);
        assert_eq!(
            encode(&Value::String("x"), &mut w),
            Err(FormatError::WrongType)
        );
        assert_eq!(
            encode(&Value::Integer(1), &mut w),
            Err(FormatError::WrongType)
        );
        assert_eq!(
            decode(b"x", ResourceType::String),
            Err(FormatError::WrongType)
        );
        assert_eq!(
            decode(b"1", ResourceType::Integer),
            Err(FormatError::WrongType)
        );
    }

    #[test]
    fn no_space_writes_nothing() {
        let mut b = [0u8; 2];
        let mut w = Writer::new(&mut b);
        assert_eq!(
            encode(&Value::Opaque(b"abc"), &mut w),
            Err(FormatError::NoSpace)
        );
        assert!(w.is_empty());
    }
}
