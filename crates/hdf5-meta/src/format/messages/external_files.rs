//! External data files message (type 0x07), version 1.
//!
//! version, reserved(3), allocated slots(2), used slots(2), local heap address(O), then
//! `used` slots of (name offset in the local heap L, offset in the file L, size L). The
//! dataset's layout is contiguous with an undefined address; its bytes are the
//! concatenation of the slots in order.

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

const STRUCTURE: &str = "external data files message";

/// One external file segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalFile {
    /// Offset of the file name in the local heap.
    pub name_offset: u64,
    /// Byte offset of the data in the external file.
    pub file_offset: u64,
    /// Bytes reserved in the external file (`u64::MAX` = unlimited, all ones on disk).
    pub size: u64,
}

/// A decoded external data files message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalFileList {
    /// Address of the local heap holding the file names.
    pub heap_address: Option<u64>,
    /// Number of slots allocated (≥ the number used).
    pub allocated_slots: u16,
    /// The used slots, in data order.
    pub files: Vec<ExternalFile>,
}

/// Parse an external data files message starting at `buf[0]` (file address `address`).
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<ExternalFileList> {
    let mut c = Cursor::new(buf, address, sizes, STRUCTURE);
    let version = c.u8()?;
    if version != 1 {
        return Err(c.bad_version(version));
    }
    c.skip(3)?;
    let allocated_slots = c.u16()?;
    let used = c.u16()?;
    if used > allocated_slots {
        return Err(c.invalid(format!("{used} slots used but {allocated_slots} allocated")));
    }
    let heap_address = c.offset()?;
    let n = usize::from(used);
    c.require(
        n.saturating_mul(3)
            .saturating_mul(usize::from(sizes.length)),
    )?;
    let mut files = Vec::with_capacity(n);
    for _ in 0..n {
        files.push(ExternalFile {
            name_offset: c.length()?,
            file_offset: c.length()?,
            size: c.length()?,
        });
    }
    Ok(ExternalFileList {
        heap_address,
        allocated_slots,
        files,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::FormatError;

    #[test]
    fn two_slots_at_width_4() {
        let sizes = Sizes {
            offset: 4,
            length: 4,
        };
        let mut v = vec![1, 0, 0, 0, 4, 0, 2, 0];
        v.extend_from_slice(&0x100u32.to_le_bytes());
        for x in [8u32, 0, 400, 24, 16, 0xffff_ffff] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        let efl = parse(&v, 0, sizes).unwrap();
        assert_eq!(efl.heap_address, Some(0x100));
        assert_eq!(efl.allocated_slots, 4);
        assert_eq!(
            efl.files[0],
            ExternalFile {
                name_offset: 8,
                file_offset: 0,
                size: 400
            }
        );
        assert_eq!(efl.files[1].size, u64::MAX);
        for n in 0..v.len() {
            assert!(matches!(
                parse(&v[..n], 0, sizes),
                Err(FormatError::Incomplete { .. })
            ));
        }
    }

    #[test]
    fn rejects_more_used_than_allocated() {
        let mut v = vec![1, 0, 0, 0, 1, 0, 2, 0];
        v.extend_from_slice(&[0; 8]);
        assert!(matches!(
            parse(&v, 0, Sizes::DEFAULT),
            Err(FormatError::Invalid { .. })
        ));
        assert!(matches!(
            parse(&[2], 0, Sizes::DEFAULT),
            Err(FormatError::UnsupportedVersion { .. })
        ));
    }
}
