//! Local heaps (`HEAP`): the name store of old-style groups (and of External Data Files
//! messages). The header points at a separate data segment holding NUL-terminated strings,
//! each padded to a multiple of 8; offset 0 is the empty string.
//!
//! Header: signature (4), version 0 (1), reserved (3), data segment size (L), offset of the
//! free-list head (L; no free block is written as 1 by the C library, the spec says undefined),
//! data segment address (O).

use crate::error::{FormatError, Result};
use crate::format::cursor::{Cursor, Sizes};

/// Signature of a local heap header.
pub const HEAP_SIGNATURE: &[u8; 4] = b"HEAP";

/// A decoded local heap header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalHeap {
    /// Size in bytes of the data segment.
    pub data_segment_size: u64,
    /// Offset of the first free block within the data segment; `None` when there is none.
    pub free_list_offset: Option<u64>,
    /// Address of the data segment (usually right after the header); `None` if undefined.
    pub data_segment_address: Option<u64>,
}

/// Encoded size of a local heap header: `8 + 2L + O` (32 bytes at O = L = 8).
pub fn header_len(sizes: Sizes) -> usize {
    8 + 2 * usize::from(sizes.length) + usize::from(sizes.offset)
}

/// Parse a local heap header at `address`.
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<LocalHeap> {
    let mut cur = Cursor::new(buf, address, sizes, "local heap");
    cur.signature(HEAP_SIGNATURE)?;
    let version = cur.u8()?;
    if version != 0 {
        return Err(cur.bad_version(version));
    }
    cur.skip(3)?; // reserved
    let data_segment_size = cur.length()?;
    let free = cur.length()?;
    // The C library writes 1 ("H5HL_FREE_NULL") for an empty free list; the spec says the
    // undefined value (all ones, which `length` maps to u64::MAX).
    let free_list_offset = if free == 1 || free == u64::MAX {
        None
    } else {
        Some(free)
    };
    let data_segment_address = cur.offset()?;
    Ok(LocalHeap {
        data_segment_size,
        free_list_offset,
        data_segment_address,
    })
}

impl LocalHeap {
    /// The NUL-terminated string (without its NUL) at `offset` in the data segment. `data`
    /// holds the segment's bytes from its start — the whole segment, or a prefix of it, in
    /// which case an `Incomplete` error asks for more (never more than the segment size).
    /// Offsets at or past the segment size, and strings running to the segment end without a
    /// NUL, are invalid.
    pub fn name_at<'a>(&self, data: &'a [u8], offset: u64) -> Result<&'a [u8]> {
        const STRUCTURE: &str = "local heap data segment";
        let seg_addr = self.data_segment_address.unwrap_or(u64::MAX);
        if offset >= self.data_segment_size {
            return Err(FormatError::invalid(
                STRUCTURE,
                seg_addr,
                format!(
                    "name offset {offset} beyond data segment size {}",
                    self.data_segment_size
                ),
            ));
        }
        // Only the segment's own bytes count, even if the caller passed more.
        let seg_len = usize::try_from(self.data_segment_size).unwrap_or(usize::MAX);
        let data = data.get(..seg_len).unwrap_or(data);
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let rest = data.get(start..).unwrap_or_default();
        match rest.iter().position(|&b| b == 0) {
            Some(n) => Ok(rest.get(..n).unwrap_or_default()),
            None if (data.len() as u64) < self.data_segment_size => Err(FormatError::Incomplete {
                structure: STRUCTURE,
                offset: seg_addr,
                needed: self.data_segment_size,
            }),
            None => Err(FormatError::invalid(
                STRUCTURE,
                seg_addr,
                format!("name at offset {offset} is not NUL-terminated"),
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::format::symbol_table::tests::le;

    /// Encode a local heap header (format spec III.D) followed by its data segment.
    fn encode(sizes: Sizes, data: &[u8], free: Option<u64>, addr: u64) -> Vec<u8> {
        let mut out = b"HEAP\0\0\0\0".to_vec();
        out.extend(le(Some(data.len() as u64), sizes.length));
        out.extend(le(free, sizes.length));
        out.extend(le(Some(addr), sizes.offset));
        out.extend(data);
        out
    }

    // Names padded to 8 as the library writes them: "" at 0, "g1" at 8, "dataset" at 16.
    const DATA: &[u8] = b"\0\0\0\0\0\0\0\0g1\0\0\0\0\0\0dataset\0";

    #[test]
    fn header_and_names() {
        for sizes in [
            Sizes::DEFAULT,
            Sizes {
                offset: 4,
                length: 4,
            },
        ] {
            let hl = header_len(sizes);
            let bytes = encode(sizes, DATA, Some(1), 680 + hl as u64);
            let heap = parse(&bytes, 680, sizes).unwrap();
            assert_eq!(heap.data_segment_size, DATA.len() as u64);
            assert_eq!(heap.free_list_offset, None);
            assert_eq!(heap.data_segment_address, Some(680 + hl as u64));
            let seg = &bytes[hl..];
            assert_eq!(heap.name_at(seg, 0).unwrap(), b"");
            assert_eq!(heap.name_at(seg, 8).unwrap(), b"g1");
            assert_eq!(heap.name_at(seg, 16).unwrap(), b"dataset");
            assert_eq!(heap.name_at(seg, 18).unwrap(), b"taset");
        }
        assert_eq!(header_len(Sizes::DEFAULT), 32);
        let free = encode(Sizes::DEFAULT, DATA, Some(16), 712);
        assert_eq!(
            parse(&free, 680, Sizes::DEFAULT).unwrap().free_list_offset,
            Some(16)
        );
        let undef = encode(Sizes::DEFAULT, DATA, None, 712);
        assert_eq!(
            parse(&undef, 680, Sizes::DEFAULT).unwrap().free_list_offset,
            None
        );
    }

    #[test]
    fn errors() {
        let sizes = Sizes::DEFAULT;
        let bytes = encode(sizes, DATA, Some(1), 712);
        assert!(matches!(
            parse(&bytes[..20], 680, sizes),
            Err(FormatError::Incomplete { needed: 24, .. })
        ));
        let mut bad = bytes.clone();
        bad[4] = 1;
        assert!(matches!(
            parse(&bad, 680, sizes),
            Err(FormatError::UnsupportedVersion { .. })
        ));
        let heap = parse(&bytes, 680, sizes).unwrap();
        assert!(matches!(
            heap.name_at(DATA, 24),
            Err(FormatError::Invalid { .. })
        ));
        assert!(matches!(
            heap.name_at(DATA, u64::MAX),
            Err(FormatError::Invalid { .. })
        ));
        // A prefix of the segment: ask for the whole segment.
        assert!(matches!(
            heap.name_at(&DATA[..18], 16),
            Err(FormatError::Incomplete {
                needed: 24,
                offset: 712,
                ..
            })
        ));
        // No NUL before the end of the segment.
        let unterminated = LocalHeap {
            data_segment_size: 3,
            ..heap
        };
        assert!(matches!(
            unterminated.name_at(b"abcd\0", 0),
            Err(FormatError::Invalid { .. })
        ));
    }
}
