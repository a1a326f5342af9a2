//! Global heap collections (`GCOL`) and the descriptors that point into them (variable-length
//! strings and sequences, old-style region references).
//!
//! Collection: signature (4), version 1 (1), reserved (3), collection size (L, covering the
//! whole collection including this header), then objects. Each object: index (2), reference
//! count (2), reserved (4), data size (L), data padded to a multiple of 8. The C library pads
//! the collection header and each object header to a multiple of 8 too (4 bytes of padding
//! when L = 4), so object data is always 8-aligned. Index 0 is the free
//! space; its size counts its own header, and a tail too small for an object header is free
//! space without a header. The library keeps free space at the end of the collection.
//!
//! A global heap ID is the collection address (O) followed by the object index (4); a
//! variable-length element in raw data is a 4-byte length followed by a heap ID.

use std::ops::Range;

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

/// Signature of a global heap collection.
pub const GCOL_SIGNATURE: &[u8; 4] = b"GCOL";

/// Bytes of the collection header before the collection size field.
pub const HEADER_PREFIX_LEN: usize = 8;

/// Encoded size of the collection header: `8 + L` rounded up to a multiple of 8 (16 at
/// L = 8 and at L = 4: the C library aligns it so object data stays 8-aligned).
pub fn header_len(sizes: Sizes) -> usize {
    (HEADER_PREFIX_LEN + usize::from(sizes.length)).next_multiple_of(8)
}

/// Encoded size of one object header: `8 + L` rounded up to a multiple of 8 (16 at L = 4
/// or 8).
pub fn object_header_len(sizes: Sizes) -> usize {
    (8 + usize::from(sizes.length)).next_multiple_of(8)
}

const STRUCTURE: &str = "global heap collection";

/// Read just the collection header at `address` and return the collection's total size in
/// bytes, so the caller can fetch the whole collection in one read. `buf` needs
/// [`header_len`] bytes.
pub fn collection_size(buf: &[u8], address: u64, sizes: Sizes) -> Result<u64> {
    let mut cur = Cursor::new(buf, address, sizes, STRUCTURE);
    read_header(&mut cur)
}

fn read_header(cur: &mut Cursor<'_>) -> Result<u64> {
    cur.signature(GCOL_SIGNATURE)?;
    let version = cur.u8()?;
    if version != 1 {
        return Err(cur.bad_version(version));
    }
    cur.skip(3)?; // reserved
    let size = cur.length()?;
    if size < header_len(cur.sizes()) as u64 {
        return Err(cur.invalid(format!("collection size {size} smaller than its header")));
    }
    Ok(size)
}

/// One object of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalHeapObject {
    /// The object's index (≥ 1), as referenced by heap IDs.
    pub index: u16,
    /// Reference count.
    pub ref_count: u16,
    /// Byte range of the object's data (unpadded) within the collection, relative to the
    /// collection's start.
    pub data: Range<usize>,
}

/// A decoded global heap collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalHeapCollection {
    /// Address of the collection.
    pub address: u64,
    /// Total size of the collection in bytes.
    pub size: u64,
    /// The objects in file order (free space excluded).
    pub objects: Vec<GlobalHeapObject>,
    /// Bytes of free space (object 0, header included), if any.
    pub free_space: u64,
}

impl GlobalHeapCollection {
    /// The object with the given index, if present.
    pub fn object(&self, index: u32) -> Option<&GlobalHeapObject> {
        self.objects.iter().find(|o| u32::from(o.index) == index)
    }

    /// The data of object `index`, sliced from `buf` (the same collection bytes that were
    /// parsed, starting at the collection address).
    pub fn object_data<'a>(&self, buf: &'a [u8], index: u32) -> Option<&'a [u8]> {
        self.object(index).and_then(|o| buf.get(o.data.clone()))
    }
}

/// Parse a whole global heap collection at `address`. `buf` must hold the full collection
/// (see [`collection_size`]); otherwise `Incomplete` asks for it.
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<GlobalHeapCollection> {
    let mut cur = Cursor::new(buf, address, sizes, STRUCTURE);
    let size = read_header(&mut cur)?;
    let size_usize = usize::try_from(size)
        .map_err(|_| cur.invalid(format!("collection size {size} too large")))?;
    cur.seek(0);
    cur.require(size_usize)?;
    let coll = buf.get(..size_usize).unwrap_or_default();
    let mut cur = Cursor::new(coll, address, sizes, STRUCTURE);
    cur.seek(header_len(sizes));
    let obj_hdr = object_header_len(sizes);
    let mut objects = Vec::new();
    let mut free_space = 0u64;
    while cur.remaining() > 0 {
        let begin = cur.pos();
        if cur.remaining() < obj_hdr {
            // Tail too small for an object header: implicit free space.
            free_space = free_space.saturating_add(cur.remaining() as u64);
            break;
        }
        let index = cur.u16()?;
        let ref_count = cur.u16()?;
        cur.skip(4)?; // reserved
        let obj_size = cur.length()?;
        cur.seek(begin.saturating_add(obj_hdr));
        if index == 0 {
            // Free space: its size includes this header. The library keeps it at the end;
            // stop here either way, counting the rest of the collection as free.
            free_space = free_space.saturating_add(size_usize.saturating_sub(begin) as u64);
            break;
        }
        let data_len = usize::try_from(obj_size)
            .ok()
            .filter(|&n| n <= cur.remaining())
            .ok_or_else(|| {
                cur.invalid(format!(
                    "object {index} of {obj_size} bytes overruns the collection"
                ))
            })?;
        let start = cur.pos();
        objects.push(GlobalHeapObject {
            index,
            ref_count,
            data: start..start + data_len,
        });
        // Data is padded to a multiple of 8; the final padding may be cut by the end.
        let padded = data_len.div_ceil(8).saturating_mul(8);
        cur.seek(start.saturating_add(padded).min(size_usize));
    }
    Ok(GlobalHeapCollection {
        address,
        size,
        objects,
        free_space,
    })
}

/// A global heap ID: which collection, which object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalHeapId {
    /// Address of the collection; `None` if undefined.
    pub collection_address: Option<u64>,
    /// Object index within the collection (0 for "no object", e.g. an empty or null element).
    pub object_index: u32,
}

/// A variable-length element descriptor as stored in raw data and attribute data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlenDescriptor {
    /// Number of elements of the sequence (bytes for a variable-length string).
    pub length: u32,
    /// Where the elements are stored.
    pub heap_id: GlobalHeapId,
}

/// Encoded size of a global heap ID: `O + 4`.
pub fn heap_id_len(sizes: Sizes) -> usize {
    usize::from(sizes.offset) + 4
}

/// Encoded size of a variable-length descriptor: `4 + O + 4` (16 at O = 8, 12 at O = 4).
pub fn vlen_descriptor_len(sizes: Sizes) -> usize {
    4 + heap_id_len(sizes)
}

/// Parse a global heap ID (collection address, object index) at `address`.
pub fn parse_heap_id(buf: &[u8], address: u64, sizes: Sizes) -> Result<GlobalHeapId> {
    let mut cur = Cursor::new(buf, address, sizes, "global heap ID");
    read_heap_id(&mut cur)
}

fn read_heap_id(cur: &mut Cursor<'_>) -> Result<GlobalHeapId> {
    let collection_address = cur.offset()?;
    let object_index = cur.u32()?;
    Ok(GlobalHeapId {
        collection_address,
        object_index,
    })
}

/// Parse a variable-length element descriptor (length, heap ID) at `address`. The descriptor
/// itself carries no validation: a zero length means an empty element whatever the ID.
pub fn parse_vlen_descriptor(buf: &[u8], address: u64, sizes: Sizes) -> Result<VlenDescriptor> {
    let mut cur = Cursor::new(buf, address, sizes, "variable-length descriptor");
    let length = cur.u32()?;
    let heap_id = read_heap_id(&mut cur)?;
    Ok(VlenDescriptor { length, heap_id })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::FormatError;
    use crate::format::symbol_table::tests::le;

    /// Encode a collection (format spec III.E; headers 8-aligned as the C library's
    /// `H5HG_SIZEOF_HDR`/`H5HG_SIZEOF_OBJHDR` do): objects padded to 8, then free space object 0
    /// (with header when the tail has room for one) up to `size`.
    fn encode(sizes: Sizes, objects: &[(u16, &[u8])], size: usize) -> Vec<u8> {
        let mut out = b"GCOL\x01\0\0\0".to_vec();
        out.extend(le(Some(size as u64), sizes.length));
        out.resize(header_len(sizes), 0);
        for (index, data) in objects {
            out.extend(index.to_le_bytes());
            out.extend(1u16.to_le_bytes());
            out.extend([0; 4]);
            out.extend(le(Some(data.len() as u64), sizes.length));
            out.resize(out.len().next_multiple_of(8), 0);
            out.extend(*data);
            out.resize(out.len().div_ceil(8) * 8, 0);
        }
        let free = size - out.len();
        if free >= object_header_len(sizes) {
            out.extend([0; 8]);
            out.extend(le(Some(free as u64), sizes.length));
        }
        out.resize(size, 0);
        out
    }

    #[test]
    fn collection_objects_and_free_space() {
        for sizes in [
            Sizes::DEFAULT,
            Sizes {
                offset: 4,
                length: 4,
            },
        ] {
            let bytes = encode(
                sizes,
                &[(1, b"Four score"), (2, b""), (3, b"abcdefgh")],
                4096,
            );
            assert_eq!(
                collection_size(&bytes[..header_len(sizes)], 4096, sizes).unwrap(),
                4096
            );
            let coll = parse(&bytes, 4096, sizes).unwrap();
            assert_eq!(coll.size, 4096);
            assert_eq!(coll.objects.len(), 3);
            assert_eq!(coll.object_data(&bytes, 1).unwrap(), b"Four score");
            assert_eq!(coll.object_data(&bytes, 2).unwrap(), b"");
            assert_eq!(coll.object_data(&bytes, 3).unwrap(), b"abcdefgh");
            assert_eq!(coll.object(4), None);
            let h = header_len(sizes);
            let oh = object_header_len(sizes);
            // 10 bytes pad to 16, 0 stay 0, 8 stay 8.
            let used = h + oh + 16 + oh + oh + 8;
            assert_eq!(coll.free_space, (4096 - used) as u64);
            assert_eq!(coll.objects[0].data.start, h + oh);
        }
    }

    #[test]
    fn tiny_tail_without_header() {
        // 16 + (16 + 8) = 40 used; 8 bytes left is below the 16-byte object header.
        let bytes = encode(Sizes::DEFAULT, &[(1, b"12345678")], 48);
        let coll = parse(&bytes, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(coll.objects.len(), 1);
        assert_eq!(coll.free_space, 8);
    }

    #[test]
    fn errors() {
        let sizes = Sizes::DEFAULT;
        let bytes = encode(sizes, &[(1, b"x")], 4096);
        assert!(matches!(
            parse(&bytes[..100], 7, sizes),
            Err(FormatError::Incomplete {
                needed: 4096,
                offset: 7,
                ..
            })
        ));
        let mut bad = bytes.clone();
        bad[4] = 2;
        assert!(matches!(
            parse(&bad, 0, sizes),
            Err(FormatError::UnsupportedVersion { .. })
        ));
        // Object size running past the collection end.
        let mut bad = bytes.clone();
        bad[24..32].copy_from_slice(&5000u64.to_le_bytes());
        assert!(matches!(
            parse(&bad, 0, sizes),
            Err(FormatError::Invalid { .. })
        ));
        // Collection size smaller than its header; absurd collection size.
        let mut bad = bytes.clone();
        bad[8..16].copy_from_slice(&4u64.to_le_bytes());
        assert!(matches!(
            parse(&bad, 0, sizes),
            Err(FormatError::Invalid { .. })
        ));
        let mut bad = bytes;
        bad[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(parse(&bad, 0, sizes).is_err());
    }

    #[test]
    fn vlen_descriptors() {
        // 16 bytes at O = 8: length 93, collection 4096, index 1.
        let mut d = 93u32.to_le_bytes().to_vec();
        d.extend(4096u64.to_le_bytes());
        d.extend(1u32.to_le_bytes());
        let v = parse_vlen_descriptor(&d, 2048, Sizes::DEFAULT).unwrap();
        assert_eq!(v.length, 93);
        assert_eq!(
            v.heap_id,
            GlobalHeapId {
                collection_address: Some(4096),
                object_index: 1
            }
        );
        assert_eq!(vlen_descriptor_len(Sizes::DEFAULT), 16);
        // 12 bytes at O = 4.
        let small = Sizes {
            offset: 4,
            length: 4,
        };
        assert_eq!(vlen_descriptor_len(small), 12);
        let mut d4 = 3u32.to_le_bytes().to_vec();
        d4.extend([0xff; 4]);
        d4.extend(0u32.to_le_bytes());
        let v = parse_vlen_descriptor(&d4, 0, small).unwrap();
        assert_eq!(v.heap_id.collection_address, None);
        assert!(matches!(
            parse_vlen_descriptor(&d4[..11], 0, small),
            Err(FormatError::Incomplete { needed: 12, .. })
        ));
    }
}
