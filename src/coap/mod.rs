//! CoAP (RFC 7252) message codec.
//!
//! [`Message`] is a checked, zero-copy view over a received datagram: [`Message::parse`]
//! validates the header, the token and every option once, after which the accessors never
//! fail. [`MessageBuilder`] writes a message into a caller-supplied buffer, streaming the
//! payload straight into it. [`Block`] is the Block1/Block2 option value of RFC 7959.
//! Nothing here allocates, formats or panics on input.

pub mod block;
pub mod msg;

pub use block::Block;
pub use msg::*;

/// The CoAP message type (the 2-bit `T` field of the header).
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum MsgType {
    /// Confirmable: the peer acknowledges it with an ACK (or rejects it with a RST).
    Con = 0,
    /// Non-confirmable: sent once, never acknowledged.
    Non = 1,
    /// Acknowledgement of a confirmable message, possibly carrying a piggybacked response.
    Ack = 2,
    /// Reset: the receiver could not process a message (also cancels an observation).
    Rst = 3,
}

impl MsgType {
    /// The type encoded in the low two bits of `bits` (higher bits are ignored).
    pub const fn from_bits(bits: u8) -> MsgType {
        match bits & 0x03 {
            0 => MsgType::Con,
            1 => MsgType::Non,
            2 => MsgType::Ack,
            _ => MsgType::Rst,
        }
    }
}

/// A CoAP code: a 3-bit class and a 5-bit detail, written `class.detail` (e.g. 2.05).
///
/// The wrapped byte is the code exactly as it appears on the wire; unknown codes are kept
/// as they are.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Code(pub u8);

impl Code {
    /// The code `class.detail`; class is taken modulo 8 and detail modulo 32.
    pub const fn new(class: u8, detail: u8) -> Code {
        Code(((class & 0x07) << 5) | (detail & 0x1F))
    }

    /// The class (0 request, 2 success, 4 client error, 5 server error).
    pub const fn class(self) -> u8 {
        self.0 >> 5
    }

    /// The detail (the two digits after the dot).
    pub const fn detail(self) -> u8 {
        self.0 & 0x1F
    }

    /// True for a request method (class 0, other than the empty code 0.00).
    pub const fn is_request(self) -> bool {
        self.class() == 0 && self.0 != 0
    }

    /// True for a response code (class 2, 3, 4 or 5).
    pub const fn is_response(self) -> bool {
        matches!(self.class(), 2..=5)
    }

    /// True for the empty code 0.00 (an empty ACK or RST, or a CoAP ping).
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// 0.00: empty message.
    pub const EMPTY: Code = Code::new(0, 0);
    /// 0.01 GET.
    pub const GET: Code = Code::new(0, 1);
    /// 0.02 POST.
    pub const POST: Code = Code::new(0, 2);
    /// 0.03 PUT.
    pub const PUT: Code = Code::new(0, 3);
    /// 0.04 DELETE.
    pub const DELETE: Code = Code::new(0, 4);
    /// 0.05 FETCH (RFC 8132).
    pub const FETCH: Code = Code::new(0, 5);
    /// 0.06 PATCH (RFC 8132).
    pub const PATCH: Code = Code::new(0, 6);
    /// 0.07 iPATCH (RFC 8132).
    pub const IPATCH: Code = Code::new(0, 7);
    /// 2.01 Created.
    pub const CREATED: Code = Code::new(2, 1);
    /// 2.02 Deleted.
    pub const DELETED: Code = Code::new(2, 2);
    /// 2.03 Valid.
    pub const VALID: Code = Code::new(2, 3);
    /// 2.04 Changed.
    pub const CHANGED: Code = Code::new(2, 4);
    /// 2.05 Content.
    pub const CONTENT: Code = Code::new(2, 5);
    /// 2.31 Continue (RFC 7959: send the next Block1 block).
    pub const CONTINUE: Code = Code::new(2, 31);
    /// 4.00 Bad Request.
    pub const BAD_REQUEST: Code = Code::new(4, 0);
    /// 4.01 Unauthorized.
    pub const UNAUTHORIZED: Code = Code::new(4, 1);
    /// 4.02 Bad Option (an unknown critical option).
    pub const BAD_OPTION: Code = Code::new(4, 2);
    /// 4.03 Forbidden.
    pub const FORBIDDEN: Code = Code::new(4, 3);
    /// 4.04 Not Found.
    pub const NOT_FOUND: Code = Code::new(4, 4);
    /// 4.05 Method Not Allowed.
    pub const METHOD_NOT_ALLOWED: Code = Code::new(4, 5);
    /// 4.06 Not Acceptable.
    pub const NOT_ACCEPTABLE: Code = Code::new(4, 6);
    /// 4.08 Request Entity Incomplete (RFC 7959).
    pub const REQUEST_ENTITY_INCOMPLETE: Code = Code::new(4, 8);
    /// 4.12 Precondition Failed.
    pub const PRECONDITION_FAILED: Code = Code::new(4, 12);
    /// 4.13 Request Entity Too Large.
    pub const REQUEST_ENTITY_TOO_LARGE: Code = Code::new(4, 13);
    /// 4.15 Unsupported Content-Format.
    pub const UNSUPPORTED_CONTENT_FORMAT: Code = Code::new(4, 15);
    /// 5.00 Internal Server Error.
    pub const INTERNAL_SERVER_ERROR: Code = Code::new(5, 0);
    /// 5.01 Not Implemented.
    pub const NOT_IMPLEMENTED: Code = Code::new(5, 1);
    /// 5.03 Service Unavailable.
    pub const SERVICE_UNAVAILABLE: Code = Code::new(5, 3);
}

/// CoAP option numbers (RFC 7252, 7641, 7959, 7967).
pub mod opt {
    /// If-Match (repeatable, opaque).
    pub const IF_MATCH: u16 = 1;
    /// Uri-Host (string).
    pub const URI_HOST: u16 = 3;
    /// ETag (opaque).
    pub const ETAG: u16 = 4;
    /// If-None-Match (empty).
    pub const IF_NONE_MATCH: u16 = 5;
    /// Observe (uint, RFC 7641): 0 registers, 1 deregisters; a sequence number in notifications.
    pub const OBSERVE: u16 = 6;
    /// Uri-Port (uint).
    pub const URI_PORT: u16 = 7;
    /// Location-Path (repeatable string): one segment per option.
    pub const LOCATION_PATH: u16 = 8;
    /// Uri-Path (repeatable string): one segment per option.
    pub const URI_PATH: u16 = 11;
    /// Content-Format (uint).
    pub const CONTENT_FORMAT: u16 = 12;
    /// Max-Age (uint, seconds).
    pub const MAX_AGE: u16 = 14;
    /// Uri-Query (repeatable string): one `key=value` per option.
    pub const URI_QUERY: u16 = 15;
    /// Accept (uint).
    pub const ACCEPT: u16 = 17;
    /// Location-Query (repeatable string).
    pub const LOCATION_QUERY: u16 = 20;
    /// Block2 (uint, RFC 7959): block of a response payload.
    pub const BLOCK2: u16 = 23;
    /// Block1 (uint, RFC 7959): block of a request payload.
    pub const BLOCK1: u16 = 27;
    /// Size2 (uint, RFC 7959): total size of a response payload.
    pub const SIZE2: u16 = 28;
    /// Proxy-Uri (string).
    pub const PROXY_URI: u16 = 35;
    /// Proxy-Scheme (string).
    pub const PROXY_SCHEME: u16 = 39;
    /// Size1 (uint): total size of a request payload.
    pub const SIZE1: u16 = 60;
    /// No-Response (uint, RFC 7967).
    pub const NO_RESPONSE: u16 = 258;

    /// True when option `n` is critical (odd numbers): a receiver that does not know it
    /// must reject the message (4.02 Bad Option for a confirmable request).
    pub const fn is_critical(n: u16) -> bool {
        n & 1 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_parts() {
        assert_eq!(Code::CONTENT.0, 0x45);
        assert_eq!(Code::CONTENT.class(), 2);
        assert_eq!(Code::CONTENT.detail(), 5);
        assert_eq!(Code::CONTINUE.0, 0x5F);
        assert_eq!(Code::REQUEST_ENTITY_TOO_LARGE.0, 0x8D);
        assert_eq!(Code::SERVICE_UNAVAILABLE.0, 0xA3);
        assert_eq!(Code::IPATCH.0, 0x07);
        assert_eq!(Code::new(9, 40), Code::new(1, 8));
    }

    #[test]
    fn code_kinds() {
        assert!(Code::EMPTY.is_empty());
        assert!(!Code::EMPTY.is_request());
        assert!(!Code::EMPTY.is_response());
        assert!(Code::GET.is_request());
        assert!(Code::IPATCH.is_request());
        assert!(!Code::GET.is_response());
        for c in [
            Code::CREATED,
            Code::BAD_REQUEST,
            Code::INTERNAL_SERVER_ERROR,
            Code::new(3, 1),
        ] {
            assert!(c.is_response());
            assert!(!c.is_request());
        }
        assert!(!Code::new(1, 0).is_response());
        assert!(!Code::new(6, 0).is_response());
        assert!(!Code::new(7, 31).is_request());
    }

    #[test]
    fn msg_type_bits() {
        for t in [MsgType::Con, MsgType::Non, MsgType::Ack, MsgType::Rst] {
            assert_eq!(MsgType::from_bits(t as u8), t);
        }
        assert_eq!(MsgType::from_bits(0x06), MsgType::Ack);
    }

    #[test]
    fn critical_options() {
        for n in [
            opt::IF_MATCH,
            opt::URI_HOST,
            opt::URI_PATH,
            opt::BLOCK1,
            opt::BLOCK2,
            opt::URI_QUERY,
        ] {
            assert!(opt::is_critical(n));
        }
        for n in [
            opt::ETAG,
            opt::OBSERVE,
            opt::CONTENT_FORMAT,
            opt::SIZE1,
            opt::SIZE2,
            opt::NO_RESPONSE,
        ] {
            assert!(!opt::is_critical(n));
        }
    }
}
