//! The formats that carry a flat list of (path, value) records — SenML JSON and CBOR,
//! LwM2M JSON and LwM2M CBOR — behind one encoder and one decoder, chosen by content
//! format number. Only the formats whose Cargo feature is on exist here (the module
//! exists when at least one does). The JSON pair shares one record writer and reader,
//! the CBOR pair the value writer and SenML's field rules.

use super::content_format as cf;
use super::senml::{self, Raw};
use super::FormatError;
use crate::buf::Writer;
use crate::model::{Path, ResourceType, Value};

#[cfg(any(feature = "senml-json", feature = "json"))]
use super::json_lex;
#[cfg(feature = "lwm2m-cbor")]
use super::lwm2m_cbor;
#[cfg(feature = "senml-cbor")]
use super::senml_cbor;

/// A record format this build speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// SenML JSON (110).
    #[cfg(feature = "senml-json")]
    SenmlJson,
    /// SenML CBOR (112).
    #[cfg(feature = "senml-cbor")]
    SenmlCbor,
    /// LwM2M CBOR (11544).
    #[cfg(feature = "lwm2m-cbor")]
    Lwm2mCbor,
    /// LwM2M JSON (11543).
    #[cfg(feature = "json")]
    Json,
}

impl Kind {
    fn of(format: u16) -> Option<Kind> {
        Some(match format {
            #[cfg(feature = "senml-json")]
            cf::SENML_JSON => Kind::SenmlJson,
            #[cfg(feature = "senml-cbor")]
            cf::SENML_CBOR => Kind::SenmlCbor,
            #[cfg(feature = "lwm2m-cbor")]
            cf::LWM2M_CBOR => Kind::Lwm2mCbor,
            #[cfg(feature = "json")]
            cf::JSON => Kind::Json,
            _ => return None,
        })
    }

    /// True for the JSON formats.
    pub(super) fn json(self) -> bool {
        #[cfg(feature = "senml-json")]
        if self == Kind::SenmlJson {
            return true;
        }
        #[cfg(feature = "json")]
        if self == Kind::Json {
            return true;
        }
        false
    }

    /// True for the LwM2M formats (as opposed to SenML).
    pub(super) fn lwm2m(self) -> bool {
        #[cfg(feature = "lwm2m-cbor")]
        if self == Kind::Lwm2mCbor {
            return true;
        }
        #[cfg(feature = "json")]
        if self == Kind::Json {
            return true;
        }
        false
    }
}

/// True when `format` is a record format this build speaks.
pub fn supported(format: u16) -> bool {
    Kind::of(format).is_some()
}

/// Writes records in one of the record formats.
pub struct Encoder<'w, 'b> {
    pub(super) w: &'w mut Writer<'b>,
    /// The request's path.
    pub(super) base: Path,
    pub(super) kind: Kind,
    /// No record was written yet.
    pub(super) first: bool,
    /// LwM2M CBOR: the previous record's path (once one was written).
    #[cfg(feature = "lwm2m-cbor")]
    pub(super) prev: Path,
}

impl<'w, 'b> Encoder<'w, 'b> {
    /// An encoder for `format` about `base` (the request's path); `None` when this build
    /// does not speak `format`.
    pub fn new(
        format: u16,
        w: &'w mut Writer<'b>,
        base: Path,
    ) -> Option<Result<Self, FormatError>> {
        let kind = Kind::of(format)?;
        let start: &[u8] = match kind {
            #[cfg(feature = "senml-json")]
            Kind::SenmlJson => b"[",
            #[cfg(feature = "senml-cbor")]
            Kind::SenmlCbor => &[0x9f],
            #[cfg(feature = "lwm2m-cbor")]
            Kind::Lwm2mCbor => &[super::cbor::MAP_INDEFINITE],
            // LwM2M JSON's header is written with the first record.
            #[cfg(feature = "json")]
            Kind::Json => b"",
        };
        Some(match w.put(start) {
            Ok(()) => Ok(Encoder {
                w,
                base,
                kind,
                first: true,
                #[cfg(feature = "lwm2m-cbor")]
                prev: Path::ROOT,
            }),
            Err(e) => Err(e.into()),
        })
    }

    /// One record: the value of the resource (instance) at `path`.
    pub fn record(&mut self, path: &Path, value: &Value<'_>) -> Result<(), FormatError> {
        let r = match self.kind {
            #[cfg(feature = "senml-cbor")]
            Kind::SenmlCbor => senml_cbor::record(self, path, value),
            #[cfg(feature = "lwm2m-cbor")]
            Kind::Lwm2mCbor => lwm2m_cbor::record(self, path, value),
            #[cfg(any(feature = "senml-json", feature = "json"))]
            _ => json_lex::record(self, path, value),
        };
        if r.is_ok() {
            self.first = false;
        }
        r
    }

    /// Closes the payload.
    pub fn finish(self) -> Result<(), FormatError> {
        match self.kind {
            #[cfg(feature = "senml-json")]
            Kind::SenmlJson => self.w.put_u8(b']')?,
            #[cfg(feature = "json")]
            Kind::Json => {
                if self.first {
                    json_lex::header(self.w, &self.base, false)?;
                }
                self.w.put(b"]}")?;
            }
            #[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
            _ => {
                // The pack, and in LwM2M CBOR the maps below the first key (the base
                // path) that lead to the last record.
                #[cfg(feature = "lwm2m-cbor")]
                let open = 1 + self.prev.len().saturating_sub(self.base.len().max(1));
                #[cfg(not(feature = "lwm2m-cbor"))]
                let open = 1;
                for _ in 0..open {
                    self.w.put_u8(super::cbor::BREAK)?;
                }
            }
        }
        Ok(())
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

enum Reader<'a> {
    #[cfg(any(feature = "senml-json", feature = "json"))]
    Json(json_lex::Records<'a>),
    #[cfg(feature = "senml-cbor")]
    SenmlCbor(senml_cbor::RecordReader<'a>),
    #[cfg(feature = "lwm2m-cbor")]
    Lwm2mCbor(lwm2m_cbor::RecordReader<'a>),
}

/// Reads the records of a payload in one of the record formats.
pub struct Decoder<'a> {
    r: Reader<'a>,
    kind: Kind,
    done: bool,
}

impl<'a> Decoder<'a> {
    /// A decoder for `data` in `format`; `None` when this build does not speak `format`.
    pub fn new(format: u16, data: &'a [u8]) -> Option<Result<Self, FormatError>> {
        let kind = Kind::of(format)?;
        Some(reader(kind, data).map(|r| Decoder {
            r,
            kind,
            done: false,
        }))
    }

    /// The value of a record for a resource of type `ty`, decoded into `scratch` where
    /// the format needs it (escaped strings, base64).
    pub fn value<'s>(
        &self,
        raw: Raw<'s>,
        ty: ResourceType,
        scratch: &'s mut [u8],
    ) -> Result<Value<'s>, FormatError> {
        senml::convert(raw, ty, scratch, self.kind.json(), self.kind.lwm2m())
    }

    fn next_record(&mut self) -> Result<Option<Record<'a>>, FormatError> {
        match &mut self.r {
            #[cfg(any(feature = "senml-json", feature = "json"))]
            Reader::Json(r) => r.next_record(),
            #[cfg(feature = "senml-cbor")]
            Reader::SenmlCbor(r) => r.next_record(),
            #[cfg(feature = "lwm2m-cbor")]
            Reader::Lwm2mCbor(r) => r.next_record(),
        }
    }
}

/// The record reader of format `kind`, started on `data`. The CBOR formats read their
/// first item (the pack's array, the outer map) in one place.
fn reader(kind: Kind, data: &[u8]) -> Result<Reader<'_>, FormatError> {
    let _ = kind; // Not needed by a build with LwM2M CBOR alone.
    #[cfg(any(feature = "senml-json", feature = "json"))]
    if kind.json() {
        return json_lex::Records::new(data, kind.lwm2m()).map(Reader::Json);
    }
    #[cfg(any(feature = "senml-cbor", feature = "lwm2m-cbor"))]
    {
        let mut r = super::cbor::Reader::new(data);
        let first = r.next_item()?;
        #[cfg(feature = "senml-cbor")]
        if kind == Kind::SenmlCbor {
            return senml_cbor::RecordReader::new(r, first).map(Reader::SenmlCbor);
        }
        #[cfg(feature = "lwm2m-cbor")]
        return lwm2m_cbor::RecordReader::new(r, first).map(Reader::Lwm2mCbor);
    }
    #[allow(unreachable_code)]
    Err(FormatError::Malformed)
}

impl<'a> Iterator for Decoder<'a> {
    type Item = Result<Record<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.next_record();
        self.done = !matches!(r, Ok(Some(_)));
        r.transpose()
    }
}

/// What the formats' unit tests share: a whole payload written, or read, in one call.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Decoder, Encoder, Record};
    use crate::buf::Writer;
    use crate::formats::FormatError;
    use crate::model::{Path, Value};
    use std::vec::Vec;

    /// A payload in `format` about `base` holding `recs`; panics when any step fails.
    pub(crate) fn encode(format: u16, base: Path, recs: &[(Path, Value<'_>)]) -> Vec<u8> {
        let mut b = [0u8; 512];
        let mut w = Writer::new(&mut b);
        let mut e = Encoder::new(format, &mut w, base).unwrap().unwrap();
        for (p, v) in recs {
            e.record(p, v).unwrap();
        }
        e.finish().unwrap();
        w.written().to_vec()
    }

    /// Every record of `data` in `format`, or the first error.
    pub(crate) fn decode(format: u16, data: &[u8]) -> Result<Vec<Record<'_>>, FormatError> {
        Decoder::new(format, data).unwrap()?.collect()
    }
}
