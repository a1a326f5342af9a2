//! Attribute message (type 0x0C), versions 1–3 (format reference §1.10).
//!
//! v1: version, reserved, name size(2), datatype size(2), dataspace size(2), then the name,
//! datatype and dataspace each padded to a multiple of 8, then the data.
//! v2: version, flags (bit 0 datatype shared, bit 1 dataspace shared), sizes, no padding.
//! v3: as v2 plus the name's character set (1 byte) before the name.
//! Sizes include the name's NUL. A shared datatype/dataspace is a shared-message encoding
//! (resolved elsewhere), kept here as raw bytes.

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};
use crate::format::messages::dataspace::{self, Dataspace};
use crate::format::messages::datatype::{self, CharSet, Datatype};

const STRUCTURE: &str = "attribute message";

/// A message that is either stored inline or is a shared-message reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaybeShared<T> {
    /// The message itself.
    Inline(T),
    /// The raw shared-message encoding (to be resolved through a committed datatype or the
    /// shared object header message heap).
    Shared(Vec<u8>),
}

impl<T> MaybeShared<T> {
    /// The inline value, if not shared.
    pub fn inline(&self) -> Option<&T> {
        match self {
            MaybeShared::Inline(t) => Some(t),
            MaybeShared::Shared(_) => None,
        }
    }
}

/// A decoded attribute message.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Message version (1–3).
    pub version: u8,
    /// Attribute name.
    pub name: String,
    /// Character set of the name (ASCII before v3).
    pub name_charset: CharSet,
    /// Element datatype, or a shared reference to it.
    pub datatype: MaybeShared<Datatype>,
    /// Shape, or a shared reference to it.
    pub dataspace: MaybeShared<Dataspace>,
    /// Raw value bytes: exactly element count × datatype size when both datatype and
    /// dataspace are inline; otherwise everything after the dataspace (the caller trims it
    /// with [`expected_data_len`] once the shared messages are resolved).
    pub data: Vec<u8>,
}

/// Bytes of attribute data implied by a datatype and dataspace (`None` on overflow).
pub fn expected_data_len(datatype: &Datatype, dataspace: &Dataspace) -> Option<u64> {
    dataspace.element_count()?.checked_mul(datatype.size())
}

/// Parse an attribute message starting at `buf[0]` (file address `address`).
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<Attribute> {
    let mut c = Cursor::new(buf, address, sizes, STRUCTURE);
    let version = c.u8()?;
    if !(1..=3).contains(&version) {
        return Err(c.bad_version(version));
    }
    let flags = c.u8()?;
    let flags = if version == 1 { 0 } else { flags };
    if flags & !0x03 != 0 {
        return Err(c.invalid(format!("unknown attribute flags {flags:#04x}")));
    }
    let name_size = usize::from(c.u16()?);
    let datatype_size = usize::from(c.u16()?);
    let dataspace_size = usize::from(c.u16()?);
    let name_charset = if version >= 3 {
        let code = c.u8()?;
        CharSet::from_code(code.into(), &c)?
    } else {
        CharSet::Ascii
    };
    let padded = |n: usize| {
        if version == 1 {
            n.div_ceil(8).saturating_mul(8)
        } else {
            n
        }
    };

    let name_raw = c.bytes(name_size)?;
    c.skip(padded(name_size).saturating_sub(name_size))?;
    let end = name_raw
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(name_raw.len());
    let name = String::from_utf8_lossy(name_raw.get(..end).unwrap_or_default()).into_owned();

    let dt_address = c.address();
    let dt_raw = c.bytes(datatype_size)?;
    c.skip(padded(datatype_size).saturating_sub(datatype_size))?;
    let datatype = if flags & 0x01 != 0 {
        MaybeShared::Shared(dt_raw.to_vec())
    } else {
        MaybeShared::Inline(datatype::parse(dt_raw, dt_address, sizes)?)
    };

    let ds_address = c.address();
    let ds_raw = c.bytes(dataspace_size)?;
    c.skip(padded(dataspace_size).saturating_sub(dataspace_size))?;
    let dataspace = if flags & 0x02 != 0 {
        MaybeShared::Shared(ds_raw.to_vec())
    } else {
        MaybeShared::Inline(dataspace::parse(ds_raw, ds_address, sizes)?)
    };

    let data = match (&datatype, &dataspace) {
        (MaybeShared::Inline(dt), MaybeShared::Inline(ds)) => {
            let n = expected_data_len(dt, ds)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| c.invalid("attribute data size overflows"))?;
            c.bytes(n)?.to_vec()
        }
        _ => c.bytes(c.remaining())?.to_vec(),
    };
    Ok(Attribute {
        version,
        name,
        name_charset,
        datatype,
        dataspace,
        data,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::FormatError;
    use crate::format::messages::dataspace::DataspaceKind;
    use crate::format::value::{decode_values, Value};

    /// i4 little-endian datatype message.
    fn i4() -> Vec<u8> {
        vec![0x10, 0x08, 0, 0, 4, 0, 0, 0, 0, 0, 32, 0]
    }

    /// Simple 1-D dataspace v1 with `n` elements.
    fn space_v1(n: u64) -> Vec<u8> {
        let mut v = vec![1, 1, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(&n.to_le_bytes());
        v
    }

    fn pad8(mut v: Vec<u8>) -> Vec<u8> {
        v.resize(v.len().div_ceil(8) * 8, 0);
        v
    }

    #[test]
    fn v1_padded() {
        let (name, dt, ds) = (b"units\0".to_vec(), i4(), space_v1(2));
        let mut v = vec![1, 0];
        for n in [name.len(), dt.len(), ds.len()] {
            v.extend_from_slice(&(n as u16).to_le_bytes());
        }
        v.extend(pad8(name));
        v.extend(pad8(dt));
        v.extend(pad8(ds));
        v.extend_from_slice(&7i32.to_le_bytes());
        v.extend_from_slice(&(-1i32).to_le_bytes());
        v.extend_from_slice(&[0; 8]); // message padding after the data
        let a = parse(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(a.name, "units");
        assert_eq!(a.data.len(), 8);
        let dt = a.datatype.inline().unwrap();
        let values = decode_values(dt, &a.data, 2).unwrap();
        assert_eq!(values, vec![Value::Int(7), Value::Int(-1)]);
        // Truncated data → Incomplete.
        assert!(matches!(
            parse(&v[..v.len() - 9], 0, Sizes::DEFAULT),
            Err(FormatError::Incomplete { .. })
        ));
    }

    #[test]
    fn v3_utf8_null_dataspace_and_shared_type() {
        // v3, UTF-8 name, null dataspace v2 → no data.
        let name = "é\0".as_bytes().to_vec();
        let ds = vec![2, 0, 0, 2];
        let mut v = vec![3, 0];
        for n in [name.len(), 12, ds.len()] {
            v.extend_from_slice(&(n as u16).to_le_bytes());
        }
        v.push(1);
        v.extend(name);
        v.extend(i4());
        v.extend(ds);
        let a = parse(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(a.name, "é");
        assert_eq!(a.name_charset, CharSet::Utf8);
        assert_eq!(a.dataspace.inline().unwrap().kind, DataspaceKind::Null);
        assert!(a.data.is_empty());

        // v2 with a shared datatype (shared message v2: version 2, type 2, address).
        let name = b"t\0".to_vec();
        let mut shared = vec![2, 2];
        shared.extend_from_slice(&0x300u64.to_le_bytes());
        let ds = space_v1(1);
        let mut v = vec![2, 1];
        for n in [name.len(), shared.len(), ds.len()] {
            v.extend_from_slice(&(n as u16).to_le_bytes());
        }
        v.extend(name);
        v.extend(shared.clone());
        v.extend(ds);
        v.extend_from_slice(&[1, 2, 3]);
        let a = parse(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(a.datatype, MaybeShared::Shared(shared));
        assert_eq!(a.data, vec![1, 2, 3]);
    }

    #[test]
    fn rejects_bad_header() {
        assert!(matches!(
            parse(&[4, 0], 0, Sizes::DEFAULT),
            Err(FormatError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            parse(&[2, 4, 0, 0, 0, 0, 0, 0], 0, Sizes::DEFAULT),
            Err(FormatError::Invalid { .. })
        ));
    }
}
