//! The formats that carry a flat list of (path, value) records — SenML JSON and CBOR,
//! LwM2M JSON and LwM2M CBOR — behind one encoder and one decoder, chosen by content
//! format number. Only the formats whose Cargo feature is on exist here (the module
//! exists when at least one does).

use super::content_format as cf;
use super::senml::Raw;
use super::FormatError;
use crate::buf::Writer;
use crate::model::{Path, ResourceType, Value};

#[cfg(feature = "json")]
use super::json;
#[cfg(feature = "lwm2m-cbor")]
use super::lwm2m_cbor;
#[cfg(feature = "senml-cbor")]
use super::senml_cbor;
#[cfg(feature = "senml-json")]
use super::senml_json;

/// True when `format` is a record format this build speaks.
pub fn supported(format: u16) -> bool {
    matches!(format, cf::SENML_JSON if cfg!(feature = "senml-json"))
        || matches!(format, cf::SENML_CBOR if cfg!(feature = "senml-cbor"))
        || matches!(format, cf::LWM2M_CBOR if cfg!(feature = "lwm2m-cbor"))
        || matches!(format, cf::JSON if cfg!(feature = "json"))
}

/// Writes records in one of the record formats.
pub enum Encoder<'w, 'b> {
    /// SenML JSON (110).
    #[cfg(feature = "senml-json")]
    SenmlJson(senml_json::Encoder<'w, 'b>),
    /// SenML CBOR (112).
    #[cfg(feature = "senml-cbor")]
    SenmlCbor(senml_cbor::Encoder<'w, 'b>),
    /// LwM2M CBOR (11544).
    #[cfg(feature = "lwm2m-cbor")]
    Lwm2mCbor(lwm2m_cbor::Encoder<'w, 'b>),
    /// LwM2M JSON (11543).
    #[cfg(feature = "json")]
    Json(json::Encoder<'w, 'b>),
}

impl<'w, 'b> Encoder<'w, 'b> {
    /// An encoder for `format` about `base` (the request's path); `None` when this build
    /// does not speak `format`.
    pub fn new(
        format: u16,
        w: &'w mut Writer<'b>,
        base: Path,
    ) -> Option<Result<Self, FormatError>> {
        Some(match format {
            #[cfg(feature = "senml-json")]
            cf::SENML_JSON => senml_json::Encoder::new(w, base).map(Encoder::SenmlJson),
            #[cfg(feature = "senml-cbor")]
            cf::SENML_CBOR => senml_cbor::Encoder::new(w, base).map(Encoder::SenmlCbor),
            #[cfg(feature = "lwm2m-cbor")]
            cf::LWM2M_CBOR => lwm2m_cbor::Encoder::new(w, base).map(Encoder::Lwm2mCbor),
            #[cfg(feature = "json")]
            cf::JSON => json::Encoder::new(w, base).map(Encoder::Json),
            _ => return None,
        })
    }

    /// One record.
    pub fn record(&mut self, path: &Path, value: &Value<'_>) -> Result<(), FormatError> {
        match self {
            #[cfg(feature = "senml-json")]
            Encoder::SenmlJson(e) => e.record(path, value, None),
            #[cfg(feature = "senml-cbor")]
            Encoder::SenmlCbor(e) => e.record(path, value, None),
            #[cfg(feature = "lwm2m-cbor")]
            Encoder::Lwm2mCbor(e) => e.record(path, value),
            #[cfg(feature = "json")]
            Encoder::Json(e) => e.record(path, value),
        }
    }

    /// Closes the payload.
    pub fn finish(self) -> Result<(), FormatError> {
        match self {
            #[cfg(feature = "senml-json")]
            Encoder::SenmlJson(e) => e.finish(),
            #[cfg(feature = "senml-cbor")]
            Encoder::SenmlCbor(e) => e.finish(),
            #[cfg(feature = "lwm2m-cbor")]
            Encoder::Lwm2mCbor(e) => e.finish(),
            #[cfg(feature = "json")]
            Encoder::Json(e) => e.finish(),
        }
    }
}

/// One decoded record, whatever the format.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Record<'a> {
    /// The record's path.
    pub path: Path,
    /// Its value; `None` when the record only names a path.
    pub value: Option<Raw<'a>>,
}

/// Reads the records of a payload in one of the record formats.
pub enum Decoder<'a> {
    /// SenML JSON (110).
    #[cfg(feature = "senml-json")]
    SenmlJson(senml_json::Records<'a>),
    /// SenML CBOR (112).
    #[cfg(feature = "senml-cbor")]
    SenmlCbor(senml_cbor::Records<'a>),
    /// LwM2M CBOR (11544).
    #[cfg(feature = "lwm2m-cbor")]
    Lwm2mCbor(lwm2m_cbor::Records<'a>),
    /// LwM2M JSON (11543).
    #[cfg(feature = "json")]
    Json(json::Records<'a>),
}

impl<'a> Decoder<'a> {
    /// A decoder for `data` in `format`; `None` when this build does not speak `format`.
    pub fn new(format: u16, data: &'a [u8]) -> Option<Result<Self, FormatError>> {
        Some(match format {
            #[cfg(feature = "senml-json")]
            cf::SENML_JSON => senml_json::Records::new(data).map(Decoder::SenmlJson),
            #[cfg(feature = "senml-cbor")]
            cf::SENML_CBOR => senml_cbor::Records::new(data).map(Decoder::SenmlCbor),
            #[cfg(feature = "lwm2m-cbor")]
            cf::LWM2M_CBOR => lwm2m_cbor::Records::new(data).map(Decoder::Lwm2mCbor),
            #[cfg(feature = "json")]
            cf::JSON => json::Records::new(data).map(Decoder::Json),
            _ => return None,
        })
    }

    /// The value of a record for a resource of type `ty`, decoded into `scratch` where
    /// the format needs it (escaped strings, base64).
    pub fn value<'s>(
        &self,
        raw: Raw<'s>,
        ty: ResourceType,
        scratch: &'s mut [u8],
    ) -> Result<Value<'s>, FormatError> {
        match self {
            #[cfg(feature = "senml-json")]
            Decoder::SenmlJson(_) => super::senml::to_value(raw, ty, scratch, true),
            #[cfg(feature = "senml-cbor")]
            Decoder::SenmlCbor(_) => super::senml::to_value(raw, ty, scratch, false),
            #[cfg(feature = "lwm2m-cbor")]
            Decoder::Lwm2mCbor(_) => lwm2m_cbor::to_value(raw, ty, scratch),
            #[cfg(feature = "json")]
            Decoder::Json(_) => json::to_value(raw, ty, scratch),
        }
    }
}

impl<'a> Iterator for Decoder<'a> {
    type Item = Result<Record<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            #[cfg(feature = "senml-json")]
            Decoder::SenmlJson(r) => r.next().map(|r| {
                r.map(|r| Record {
                    path: r.path,
                    value: r.value,
                })
            }),
            #[cfg(feature = "senml-cbor")]
            Decoder::SenmlCbor(r) => r.next().map(|r| {
                r.map(|r| Record {
                    path: r.path,
                    value: r.value,
                })
            }),
            #[cfg(feature = "lwm2m-cbor")]
            Decoder::Lwm2mCbor(r) => r.next().map(|r| {
                r.map(|r| Record {
                    path: r.path,
                    value: r.value,
                })
            }),
            #[cfg(feature = "json")]
            Decoder::Json(r) => r.next().map(|r| {
                r.map(|r| Record {
                    path: r.path,
                    value: Some(r.value),
                })
            }),
        }
    }
}
