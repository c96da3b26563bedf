//! A small OMA-TLV (content format 11542) decoder, enough to inspect what a
//! client sends. Written independently of the engine's encoder so that the two
//! cross-check each other.

use std::fmt;

/// The four TLV identifier kinds (bits 7-6 of the type byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlvKind {
    /// 00: an object instance, whose value is a sequence of resource TLVs.
    ObjectInstance,
    /// 01: a resource instance, inside a multiple resource.
    ResourceInstance,
    /// 10: a multiple resource, whose value is a sequence of resource instances.
    MultipleResource,
    /// 11: a resource with a value.
    Resource,
}

/// One decoded TLV. `children` is filled for object instances and multiple
/// resources; `value` always holds the raw value bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub kind: TlvKind,
    pub id: u16,
    pub value: Vec<u8>,
    pub children: Vec<Tlv>,
}

/// Why a TLV buffer could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlvError {
    pub offset: usize,
    pub reason: &'static str,
}

impl fmt::Display for TlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad TLV at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for TlvError {}

/// Decode a whole buffer into a list of TLVs (nested kinds are decoded too).
pub fn decode(buf: &[u8]) -> Result<Vec<Tlv>, TlvError> {
    decode_at(buf, 0)
}

fn decode_at(buf: &[u8], base: usize) -> Result<Vec<Tlv>, TlvError> {
    let mut out = Vec::new();
    let mut i = 0usize;
    let err = |at: usize, reason| TlvError {
        offset: base + at,
        reason,
    };
    while i < buf.len() {
        let start = i;
        let ty = buf[i];
        i += 1;
        let kind = match ty >> 6 {
            0 => TlvKind::ObjectInstance,
            1 => TlvKind::ResourceInstance,
            2 => TlvKind::MultipleResource,
            _ => TlvKind::Resource,
        };
        let id_len = if ty & 0x20 != 0 { 2 } else { 1 };
        if i + id_len > buf.len() {
            return Err(err(start, "identifier truncated"));
        }
        let id = if id_len == 2 {
            u16::from_be_bytes([buf[i], buf[i + 1]])
        } else {
            u16::from(buf[i])
        };
        i += id_len;
        let len_bytes = usize::from((ty >> 3) & 0x03);
        let len = if len_bytes == 0 {
            usize::from(ty & 0x07)
        } else {
            if i + len_bytes > buf.len() {
                return Err(err(start, "length truncated"));
            }
            let mut l = 0usize;
            for b in &buf[i..i + len_bytes] {
                l = (l << 8) | usize::from(*b);
            }
            i += len_bytes;
            l
        };
        if i + len > buf.len() {
            return Err(err(start, "value truncated"));
        }
        let value = buf[i..i + len].to_vec();
        let children = match kind {
            TlvKind::ObjectInstance | TlvKind::MultipleResource => {
                let kids = decode_at(&value, base + i)?;
                let want = if kind == TlvKind::ObjectInstance {
                    |k: TlvKind| matches!(k, TlvKind::Resource | TlvKind::MultipleResource)
                } else {
                    |k: TlvKind| k == TlvKind::ResourceInstance
                };
                if kids.iter().any(|k| !want(k.kind)) {
                    return Err(err(start, "unexpected nested kind"));
                }
                kids
            }
            _ => Vec::new(),
        };
        i += len;
        out.push(Tlv {
            kind,
            id,
            value,
            children,
        });
    }
    Ok(out)
}

/// Encode TLVs (the inverse of [`decode`]; children, when present, replace `value`).
pub fn encode(tlvs: &[Tlv]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in tlvs {
        let value = if t.children.is_empty() {
            t.value.clone()
        } else {
            encode(&t.children)
        };
        let mut ty: u8 = match t.kind {
            TlvKind::ObjectInstance => 0x00,
            TlvKind::ResourceInstance => 0x40,
            TlvKind::MultipleResource => 0x80,
            TlvKind::Resource => 0xC0,
        };
        if t.id > 0xFF {
            ty |= 0x20;
        }
        let len = value.len();
        let len_field: Vec<u8> = if len < 8 {
            ty |= len as u8;
            Vec::new()
        } else if len <= 0xFF {
            ty |= 0x08;
            vec![len as u8]
        } else if len <= 0xFFFF {
            ty |= 0x10;
            (len as u16).to_be_bytes().to_vec()
        } else {
            ty |= 0x18;
            let b = (len as u32).to_be_bytes();
            b[1..].to_vec()
        };
        out.push(ty);
        if t.id > 0xFF {
            out.extend_from_slice(&t.id.to_be_bytes());
        } else {
            out.push(t.id as u8);
        }
        out.extend_from_slice(&len_field);
        out.extend_from_slice(&value);
    }
    out
}

/// Interpret TLV value bytes as a signed big-endian integer (1, 2, 4 or 8 bytes).
pub fn as_int(value: &[u8]) -> Option<i64> {
    match value.len() {
        1 => Some(i64::from(value[0] as i8)),
        2 => Some(i64::from(i16::from_be_bytes([value[0], value[1]]))),
        4 => Some(i64::from(i32::from_be_bytes([
            value[0], value[1], value[2], value[3],
        ]))),
        8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(value);
            Some(i64::from_be_bytes(b))
        }
        _ => None,
    }
}

/// Render a value for a human: text when it is printable UTF-8 and `text_hint`
/// says it is a string, otherwise an integer when the length allows, else hex.
pub fn render_value(value: &[u8], text_hint: bool) -> String {
    if text_hint {
        if let Ok(s) = std::str::from_utf8(value) {
            if s.chars().all(|c| !c.is_control()) {
                return format!("{s:?}");
            }
        }
    }
    if let Some(n) = as_int(value) {
        return n.to_string();
    }
    if let Ok(s) = std::str::from_utf8(value) {
        if !s.is_empty() && s.chars().all(|c| !c.is_control()) {
            return format!("{s:?}");
        }
    }
    let hex: Vec<String> = value.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{}", hex.join(""))
}

/// Resources of the Device object (3) whose type is String.
pub fn device_resource_is_text(id: u16) -> bool {
    matches!(id, 0 | 1 | 2 | 3 | 14 | 15 | 16 | 17 | 18 | 19)
}

/// A one-line summary of decoded TLVs, e.g. `0="Acme" 9=100 11=[0:0]`.
/// `text_hint(resource_id)` says which resources are strings.
pub fn summary(tlvs: &[Tlv], text_hint: &dyn Fn(u16) -> bool) -> String {
    let mut parts = Vec::new();
    for t in tlvs {
        match t.kind {
            TlvKind::ObjectInstance => {
                parts.push(format!(
                    "inst {}: {{{}}}",
                    t.id,
                    summary(&t.children, text_hint)
                ));
            }
            TlvKind::MultipleResource => {
                let inner: Vec<String> = t
                    .children
                    .iter()
                    .map(|c| format!("{}:{}", c.id, render_value(&c.value, text_hint(t.id))))
                    .collect();
                parts.push(format!("{}=[{}]", t.id, inner.join(",")));
            }
            TlvKind::Resource | TlvKind::ResourceInstance => {
                parts.push(format!(
                    "{}={}",
                    t.id,
                    render_value(&t.value, text_hint(t.id))
                ));
            }
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_spec_example_device_resources() {
        // Resource 0 "Open Mobile Alliance", multiple resource 6 with
        // instances 0:1 and 1:5, resource 9 = 100 (1 byte).
        let mut buf = vec![0xC8, 0x00, 0x14];
        buf.extend_from_slice(b"Open Mobile Alliance");
        buf.extend_from_slice(&[0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05]);
        buf.extend_from_slice(&[0xC1, 0x09, 0x64]);
        let tlvs = decode(&buf).unwrap();
        assert_eq!(tlvs.len(), 3);
        assert_eq!(tlvs[0].kind, TlvKind::Resource);
        assert_eq!(tlvs[0].value, b"Open Mobile Alliance");
        assert_eq!(tlvs[1].kind, TlvKind::MultipleResource);
        assert_eq!(tlvs[1].children.len(), 2);
        assert_eq!(as_int(&tlvs[2].value), Some(100));
        let s = summary(&tlvs, &device_resource_is_text);
        assert_eq!(s, "0=\"Open Mobile Alliance\" 6=[0:1,1:5] 9=100");
        assert_eq!(encode(&tlvs), buf);
    }

    #[test]
    fn long_ids_and_lengths_round_trip() {
        let t = Tlv {
            kind: TlvKind::Resource,
            id: 300,
            value: vec![7u8; 300],
            children: vec![],
        };
        let enc = encode(std::slice::from_ref(&t));
        assert_eq!(enc[0], 0xC0 | 0x20 | 0x10);
        assert_eq!(decode(&enc).unwrap(), vec![t]);
    }

    #[test]
    fn truncated_input_is_an_error() {
        assert!(decode(&[0xC8, 0x00, 0x14, b'a']).is_err());
        assert!(decode(&[0xE0]).is_err());
        assert!(decode(&[0x08, 0x00, 0x02, 0xFF, 0xFF]).is_err());
    }
}
