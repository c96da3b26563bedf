//! Content formats: each module encodes into a [`crate::buf::Writer`] and decodes from a
//! borrowed slice without allocating.

#[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
pub mod cbor;
pub mod float;
#[cfg(feature = "json")]
pub mod json;
#[cfg(any(feature = "senml-json", feature = "json"))]
pub mod json_lex;
pub mod link;
#[cfg(feature = "lwm2m-cbor")]
pub mod lwm2m_cbor;
pub mod opaque;
#[cfg(feature = "records")]
pub mod records;
#[cfg(feature = "records")]
pub mod senml;
#[cfg(feature = "senml-cbor")]
pub mod senml_cbor;
#[cfg(feature = "senml-json")]
pub mod senml_json;
pub mod text;
pub mod tlv;

/// CoAP Content-Format numbers used by LwM2M.
pub mod content_format {
    /// text/plain;charset=utf-8
    pub const TEXT: u16 = 0;
    /// application/link-format
    pub const LINK: u16 = 40;
    /// application/octet-stream
    pub const OPAQUE: u16 = 42;
    /// application/cbor
    pub const CBOR: u16 = 60;
    /// application/senml+json
    pub const SENML_JSON: u16 = 110;
    /// application/senml+cbor
    pub const SENML_CBOR: u16 = 112;
    /// application/vnd.oma.lwm2m+tlv
    pub const TLV: u16 = 11542;
    /// application/vnd.oma.lwm2m+json
    pub const JSON: u16 = 11543;
    /// application/vnd.oma.lwm2m+cbor
    pub const LWM2M_CBOR: u16 = 11544;
    /// The pre-standard TLV number some 1.0 servers still send.
    pub const LEGACY_TLV: u16 = 1542;
    /// The pre-standard text number some 1.0 servers still send.
    pub const LEGACY_TEXT: u16 = 1541;
}

/// Why a payload could not be decoded or encoded.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum FormatError {
    /// The bytes do not follow the format (truncated, bad length, bad syntax).
    Malformed,
    /// The value does not fit the resource's type.
    WrongType,
    /// A number outside the range the type allows.
    OutOfRange,
    /// Nesting deeper than the format allows.
    TooDeep,
    /// The output buffer is full.
    NoSpace,
}

impl From<crate::buf::NoSpace> for FormatError {
    fn from(_: crate::buf::NoSpace) -> Self {
        FormatError::NoSpace
    }
}
