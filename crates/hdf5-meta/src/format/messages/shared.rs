//! Shared-message encoding: the payload of any header message whose flag bit 1 ("shared") is
//! set. It points either at another object header (a committed datatype) or into the SOHM
//! fractal heap of the index tracking that message type.
//!
//! Versions as written by the library:
//! - v1: version, type (ignored), 6 reserved bytes, then a leftover symbol-table entry: a
//!   Size-of-Lengths field (skipped) before the object header address.
//! - v2: version, type (written as 2 although the spec tabulates 0), address.
//! - v3: version, type 1 → 8-byte SOHM heap ID; type 2 (committed) or 3 → address.

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

const SHARED: &str = "shared message";

/// Where the shared message's real content lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedRef {
    /// In the object header at this address (committed datatype).
    Address(u64),
    /// In the SOHM fractal heap of the index covering the message type, under this heap ID.
    SohmHeapId([u8; 8]),
}

/// Decode a shared-message payload from `buf`, which starts at `address`.
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<SharedRef> {
    let mut c = Cursor::new(buf, address, sizes, SHARED);
    let version = c.u8()?;
    let kind = c.u8()?;
    let read_address = |c: &mut Cursor<'_>| -> Result<SharedRef> {
        let a = c
            .offset()?
            .ok_or_else(|| c.invalid("undefined object header address"))?;
        Ok(SharedRef::Address(a))
    };
    match version {
        1 => {
            c.skip(6)?;
            c.skip(usize::from(sizes.length))?;
            read_address(&mut c)
        }
        2 => read_address(&mut c),
        3 => match kind {
            1 => {
                let id = c.bytes(8)?;
                let id = <[u8; 8]>::try_from(id).map_err(|_| c.invalid("heap ID"))?;
                Ok(SharedRef::SohmHeapId(id))
            }
            2 | 3 => read_address(&mut c),
            t => Err(c.invalid(format!("version 3 sharing type {t}"))),
        },
        v => Err(c.bad_version(v)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::FormatError;

    const S8: Sizes = Sizes {
        offset: 8,
        length: 8,
    };

    #[test]
    fn version_1_skips_the_length_field() {
        // v1 as in official tcompound.h5: ver 1, type 0, 6 reserved, heap offset (L), address.
        let mut b = vec![1, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&0x20u64.to_le_bytes());
        b.extend_from_slice(&0x3f8u64.to_le_bytes());
        assert_eq!(parse(&b, 0, S8).unwrap(), SharedRef::Address(0x3f8));
        let s4 = Sizes {
            offset: 4,
            length: 4,
        };
        let b = [1, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 0x10, 0, 0, 0];
        assert_eq!(parse(&b, 0, s4).unwrap(), SharedRef::Address(0x10));
    }

    #[test]
    fn version_2_and_3() {
        // v2 as written by HDF5 2.0 for a committed datatype (type byte 2).
        let b = [2, 2, 0x70, 0x07, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&b, 0, S8).unwrap(), SharedRef::Address(0x770));
        // v3 type 1: SOHM heap ID (from sohm_list.h5).
        let b = [3, 1, 0, 0x2a, 0, 0, 0, 0, 0x24, 0];
        assert_eq!(
            parse(&b, 0, S8).unwrap(),
            SharedRef::SohmHeapId([0, 0x2a, 0, 0, 0, 0, 0x24, 0])
        );
        let b = [3, 2, 0x70, 0x07, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&b, 0, S8).unwrap(), SharedRef::Address(0x770));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            parse(&[4, 2, 0, 0], 5, S8),
            Err(FormatError::UnsupportedVersion { version: 4, .. })
        ));
        assert!(matches!(
            parse(&[3, 0, 0, 0], 5, S8),
            Err(FormatError::Invalid { .. })
        ));
        assert!(matches!(
            parse(&[2, 2, 0, 0], 5, S8),
            Err(FormatError::Incomplete { needed: 10, .. })
        ));
        let undefined = [2, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(parse(&undefined, 5, S8).is_err());
        assert!(parse(&[], 5, S8).is_err());
    }
}
