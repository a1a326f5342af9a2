//! Filter pipeline message (type 0x0B), versions 1 and 2.
//!
//! v1: version, filter count, reserved(6); per filter: id(2), name length(2), flags(2),
//! client-data count(2), name (NUL-padded to a multiple of 8), client data (4 bytes each),
//! plus 4 padding bytes when the count is odd.
//! v2: version, filter count; per filter: id(2), [name length(2) if id ≥ 256], flags(2),
//! count(2), [unpadded name if id ≥ 256], client data. Filters are listed in the order they
//! are applied on write; decoding applies them in reverse.

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

const STRUCTURE: &str = "filter pipeline message";

/// Largest number of filters in one pipeline (library limit).
pub const MAX_FILTERS: u8 = 32;

/// Well-known filter identifiers.
pub mod filter_id {
    /// gzip/zlib; client data = compression level.
    pub const DEFLATE: u16 = 1;
    /// Byte shuffle; client data = element size.
    pub const SHUFFLE: u16 = 2;
    /// Fletcher-32 checksum appended to each chunk.
    pub const FLETCHER32: u16 = 3;
    /// SZIP.
    pub const SZIP: u16 = 4;
    /// N-bit packing.
    pub const NBIT: u16 = 5;
    /// Scale-offset.
    pub const SCALEOFFSET: u16 = 6;
    /// LZF (h5py).
    pub const LZF: u16 = 32000;
    /// Blosc.
    pub const BLOSC: u16 = 32001;
    /// LZ4.
    pub const LZ4: u16 = 32004;
    /// Bitshuffle.
    pub const BITSHUFFLE: u16 = 32008;
    /// Zstandard.
    pub const ZSTD: u16 = 32015;
    /// Blosc2.
    pub const BLOSC2: u16 = 32026;
}

/// One filter of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Filter identifier (see [`filter_id`]).
    pub id: u16,
    /// Optional name stored in the message.
    pub name: Option<String>,
    /// Flag bit 0: the filter is optional (failures are tolerated on write).
    pub optional: bool,
    /// Client data values.
    pub client_data: Vec<u32>,
}

/// A decoded filter pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterPipeline {
    /// Message version (1 or 2).
    pub version: u8,
    /// Filters in write (application) order.
    pub filters: Vec<Filter>,
}

/// A name field: bytes up to the first NUL, lossily as UTF-8; `None` when empty.
fn name_from(raw: &[u8]) -> Option<String> {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let name = raw.get(..end).unwrap_or_default();
    (!name.is_empty()).then(|| String::from_utf8_lossy(name).into_owned())
}

/// Parse a filter pipeline message starting at `buf[0]` (file address `address`).
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<FilterPipeline> {
    let mut c = Cursor::new(buf, address, sizes, STRUCTURE);
    let version = c.u8()?;
    if !(1..=2).contains(&version) {
        return Err(c.bad_version(version));
    }
    let count = c.u8()?;
    if count > MAX_FILTERS {
        return Err(c.invalid(format!("{count} filters (max {MAX_FILTERS})")));
    }
    if version == 1 {
        c.skip(6)?; // reserved
    }
    let mut filters = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let id = c.u16()?;
        let has_name = version == 1 || id >= 256;
        let name_len = if has_name { usize::from(c.u16()?) } else { 0 };
        let flags = c.u16()?;
        let nvalues = usize::from(c.u16()?);
        let name = if version == 1 {
            // The stored length already includes the NUL padding to a multiple of 8.
            let padded = name_len.div_ceil(8).saturating_mul(8);
            name_from(c.bytes(padded)?)
        } else if has_name {
            name_from(c.bytes(name_len)?)
        } else {
            None
        };
        c.require(nvalues.saturating_mul(4))?;
        let mut client_data = Vec::with_capacity(nvalues);
        for _ in 0..nvalues {
            client_data.push(c.u32()?);
        }
        if version == 1 && nvalues % 2 == 1 {
            c.skip(4)?;
        }
        filters.push(Filter {
            id,
            name,
            optional: flags & 0x01 != 0,
            client_data,
        });
    }
    Ok(FilterPipeline { version, filters })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::FormatError;

    fn filter_v1(id: u16, name: &[u8], flags: u16, values: &[u32]) -> Vec<u8> {
        let padded = if name.is_empty() {
            0
        } else {
            (name.len() + 1).div_ceil(8) * 8
        };
        let mut v = Vec::new();
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&(padded as u16).to_le_bytes());
        v.extend_from_slice(&flags.to_le_bytes());
        v.extend_from_slice(&(values.len() as u16).to_le_bytes());
        let mut n = name.to_vec();
        n.resize(padded, 0);
        v.extend_from_slice(&n);
        for x in values {
            v.extend_from_slice(&x.to_le_bytes());
        }
        if values.len() % 2 == 1 {
            v.extend_from_slice(&[0; 4]);
        }
        v
    }

    #[test]
    fn v1_names_and_odd_padding() {
        let mut v = vec![1, 3, 0, 0, 0, 0, 0, 0];
        v.extend(filter_v1(2, b"shuffle", 1, &[8]));
        v.extend(filter_v1(1, b"deflate", 1, &[6]));
        v.extend(filter_v1(3, b"fletcher32", 0, &[]));
        let fp = parse(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(fp.filters.len(), 3);
        assert_eq!(fp.filters[0].name.as_deref(), Some("shuffle"));
        assert_eq!(fp.filters[0].client_data, vec![8]);
        assert!(fp.filters[1].optional);
        assert_eq!(fp.filters[2].id, filter_id::FLETCHER32);
        assert!(!fp.filters[2].optional);
        // Every truncation is incomplete.
        for n in 0..v.len() {
            assert!(matches!(
                parse(&v[..n], 0, Sizes::DEFAULT),
                Err(FormatError::Incomplete { .. })
            ));
        }
    }

    #[test]
    fn v2_names_only_for_user_filters() {
        let mut v = vec![2, 2];
        // deflate: no name.
        v.extend_from_slice(&[1, 0, 1, 0, 1, 0, 4, 0, 0, 0]);
        // id 32015 with name "zstd\0" (length 5), 2 values.
        v.extend_from_slice(&32015u16.to_le_bytes());
        v.extend_from_slice(&5u16.to_le_bytes());
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(b"zstd\0");
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&7u32.to_le_bytes());
        let fp = parse(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(
            fp.filters[0],
            Filter {
                id: 1,
                name: None,
                optional: true,
                client_data: vec![4]
            }
        );
        assert_eq!(
            fp.filters[1],
            Filter {
                id: 32015,
                name: Some("zstd".into()),
                optional: false,
                client_data: vec![3, 7]
            }
        );
    }

    #[test]
    fn rejects_bad_header() {
        assert!(matches!(
            parse(&[3, 0], 0, Sizes::DEFAULT),
            Err(FormatError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            parse(&[2, 33], 0, Sizes::DEFAULT),
            Err(FormatError::Invalid { .. })
        ));
        // A huge client-data count with no bytes behind it must not allocate.
        assert!(matches!(
            parse(&[2, 1, 1, 0, 0, 0, 0xff, 0xff], 0, Sizes::DEFAULT),
            Err(FormatError::Incomplete { .. })
        ));
    }
}
