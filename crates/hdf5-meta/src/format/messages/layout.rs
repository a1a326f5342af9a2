//! Data layout message (type 0x08), versions 1–5 (format reference §1.9).
//!
//! * v1/v2: version, dimensionality, class, reserved(5), [address(O) unless compact], then
//!   `dimensionality` 4-byte sizes whose last entry is the element size (for every class);
//!   compact adds size(4) + data. Contiguous size = product of all sizes, but those 32-bit
//!   sizes may be truncated (official `tlayouto.h5`), so use [`Layout::contiguous_size`].
//! * v3: version, class; compact: size(2) + data; contiguous: address(O) + size(L);
//!   chunked: dimensionality(1), v1 B-tree address(O), 4-byte sizes (last = element size).
//! * v4/v5: as v3 for compact/contiguous; chunked: flags(1), dimensionality(1), size width(1),
//!   sizes, index type(1), index parameters, address(O); virtual: heap address(O) + index(4).
//!   v5 has the v4 wire format (its chunk-index records differ, §0 item 1).

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

const STRUCTURE: &str = "data layout message";

/// Largest chunk dimensionality (dataset rank 32 + the element-size dimension).
const MAX_DIMS: u8 = 33;

/// Layout flag bit 0 (v4/v5): edge chunks are stored unfiltered (their mask stays 0).
pub const FLAG_DONT_FILTER_PARTIAL_BOUND_CHUNKS: u8 = 0x01;
/// Layout flag bit 1 (v4/v5): a single-chunk index carries filtered size + mask (§0 item 9).
pub const FLAG_SINGLE_INDEX_WITH_FILTER: u8 = 0x02;

/// Filtered size and mask of the one chunk of a single-chunk index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilteredChunk {
    /// Stored (filtered) size in bytes.
    pub size: u64,
    /// Filter mask (bit i set ⇒ filter i skipped).
    pub filter_mask: u32,
}

/// How chunk addresses are indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkIndex {
    /// Version 1 B-tree (layout v1–v3).
    BTreeV1,
    /// Type 1: the dataset is one chunk; the address is the chunk itself.
    SingleChunk {
        /// Present when the chunk is filtered (flag bit 1).
        filtered: Option<FilteredChunk>,
    },
    /// Type 2: chunks stored contiguously, row-major over the maximum chunk grid.
    Implicit,
    /// Type 3: fixed array.
    FixedArray {
        /// log2 of the elements per data-block page.
        page_bits: u8,
    },
    /// Type 4: extensible array (exactly one unlimited dimension).
    ExtensibleArray {
        /// Bits needed for the maximum number of elements.
        max_bits: u8,
        /// Elements stored in the index block.
        index_elements: u8,
        /// Minimum data-block pointers of a super block.
        min_pointers: u8,
        /// Minimum elements per data block.
        min_elements: u8,
        /// log2 of the elements per data-block page (1 byte, §0 item 10).
        page_bits: u8,
    },
    /// Type 5: version 2 B-tree (two or more unlimited dimensions).
    BTreeV2 {
        /// Node size in bytes.
        node_size: u32,
        /// Split percentage.
        split_percent: u8,
        /// Merge percentage.
        merge_percent: u8,
    },
}

/// Chunked storage description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkedLayout {
    /// Layout flags (v4/v5; 0 for older versions).
    pub flags: u8,
    /// Chunk sizes in elements, one per dataset dimension (element-size entry removed).
    pub chunk_dims: Vec<u64>,
    /// Element size in bytes (the trailing "dimension" of the message).
    pub element_size: u64,
    /// Chunk index type and its parameters.
    pub index: ChunkIndex,
    /// Index address (B-tree, array header, single chunk or implicit chunk array);
    /// `None` when storage is not allocated.
    pub address: Option<u64>,
}

impl ChunkedLayout {
    /// Bytes of one unfiltered chunk (chunk dims × element size); `None` on overflow.
    pub fn chunk_bytes(&self) -> Option<u64> {
        self.chunk_dims
            .iter()
            .try_fold(self.element_size, |acc, &d| acc.checked_mul(d))
    }

    /// Flag bit 0: partial edge chunks are stored unfiltered (§0 item 11).
    pub fn dont_filter_partial_bound_chunks(&self) -> bool {
        self.flags & FLAG_DONT_FILTER_PARTIAL_BOUND_CHUNKS != 0
    }
}

/// Where and how the raw data is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Raw data inside the message.
    Compact {
        /// The raw data bytes.
        data: Vec<u8>,
    },
    /// One contiguous block (undefined address = not allocated, or external storage).
    Contiguous {
        /// Address of the data.
        address: Option<u64>,
        /// Size in bytes. For layout v1/v2 this is the product of the stored 32-bit sizes,
        /// which the HDF5 1.4/1.6 writers truncated; prefer [`Layout::contiguous_size`].
        size: u64,
    },
    /// Chunked storage.
    Chunked(ChunkedLayout),
    /// Virtual dataset: mappings live in a global heap object.
    Virtual {
        /// Address of the global heap collection.
        heap_address: Option<u64>,
        /// Index of the object within the collection.
        index: u32,
    },
}

/// A decoded data layout message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Message version (1–5); chunk-index record widths depend on it (v5).
    pub version: u8,
    /// Storage description.
    pub storage: Storage,
}

impl Layout {
    /// Byte size of contiguous storage: the stored size for layout v3+, and
    /// `element_count × element_size` (from the dataspace and datatype) for v1/v2, whose
    /// stored dimension sizes may be truncated to 32 bits. `None` for other storage classes
    /// or on overflow.
    pub fn contiguous_size(&self, element_count: u64, element_size: u64) -> Option<u64> {
        match self.storage {
            Storage::Contiguous { size, .. } if self.version >= 3 => Some(size),
            Storage::Contiguous { .. } => element_count.checked_mul(element_size),
            _ => None,
        }
    }
}

/// Parse a data layout message starting at `buf[0]` (file address `address`).
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<Layout> {
    let mut c = Cursor::new(buf, address, sizes, STRUCTURE);
    let version = c.u8()?;
    let storage = match version {
        1 | 2 => parse_v1_v2(&mut c)?,
        3..=5 => parse_v3_plus(&mut c, version)?,
        v => return Err(c.bad_version(v)),
    };
    Ok(Layout { version, storage })
}

fn check_ndims(c: &Cursor<'_>, ndims: u8, min: u8) -> Result<()> {
    if ndims < min || ndims > MAX_DIMS {
        return Err(c.invalid(format!(
            "dimensionality {ndims} out of range {min}..={MAX_DIMS}"
        )));
    }
    Ok(())
}

/// Split the message's size list into chunk dims and the trailing element size.
fn split_element_size(c: &Cursor<'_>, mut dims: Vec<u64>) -> Result<(Vec<u64>, u64)> {
    let element_size = dims.pop().ok_or_else(|| c.invalid("no element size"))?;
    if element_size == 0 || dims.contains(&0) {
        return Err(c.invalid("zero chunk dimension or element size"));
    }
    Ok((dims, element_size))
}

fn parse_v1_v2(c: &mut Cursor<'_>) -> Result<Storage> {
    let ndims = c.u8()?;
    let class = c.u8()?;
    c.skip(5)?; // reserved
    check_ndims(c, ndims, 1)?;
    let addr = if class == 0 { None } else { c.offset()? };
    let mut dims = Vec::with_capacity(usize::from(ndims));
    for _ in 0..ndims {
        dims.push(u64::from(c.u32()?));
    }
    match class {
        0 => {
            let size = usize::try_from(c.u32()?).unwrap_or(usize::MAX);
            Ok(Storage::Compact {
                data: c.bytes(size)?.to_vec(),
            })
        }
        1 => {
            // Dims carry the element size last, so their product is the byte size.
            let size = dims
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d))
                .ok_or_else(|| c.invalid("contiguous size overflows 64 bits"))?;
            Ok(Storage::Contiguous {
                address: addr,
                size,
            })
        }
        2 => {
            check_ndims(c, ndims, 2)?;
            let (chunk_dims, element_size) = split_element_size(c, dims)?;
            Ok(Storage::Chunked(ChunkedLayout {
                flags: 0,
                chunk_dims,
                element_size,
                index: ChunkIndex::BTreeV1,
                address: addr,
            }))
        }
        other => Err(c.invalid(format!("layout class {other} in a version 1/2 message"))),
    }
}

fn parse_v3_plus(c: &mut Cursor<'_>, version: u8) -> Result<Storage> {
    let class = c.u8()?;
    match class {
        0 => {
            let size = usize::from(c.u16()?);
            Ok(Storage::Compact {
                data: c.bytes(size)?.to_vec(),
            })
        }
        1 => Ok(Storage::Contiguous {
            address: c.offset()?,
            size: c.length()?,
        }),
        2 if version == 3 => {
            let ndims = c.u8()?;
            check_ndims(c, ndims, 2)?;
            let address = c.offset()?;
            let mut dims = Vec::with_capacity(usize::from(ndims));
            for _ in 0..ndims {
                dims.push(u64::from(c.u32()?));
            }
            let (chunk_dims, element_size) = split_element_size(c, dims)?;
            Ok(Storage::Chunked(ChunkedLayout {
                flags: 0,
                chunk_dims,
                element_size,
                index: ChunkIndex::BTreeV1,
                address,
            }))
        }
        2 => parse_chunked_v4(c),
        3 if version >= 4 => Ok(Storage::Virtual {
            heap_address: c.offset()?,
            index: c.u32()?,
        }),
        other => Err(c.invalid(format!(
            "layout class {other} in a version {version} message"
        ))),
    }
}

fn parse_chunked_v4(c: &mut Cursor<'_>) -> Result<Storage> {
    let flags = c.u8()?;
    if flags & !(FLAG_DONT_FILTER_PARTIAL_BOUND_CHUNKS | FLAG_SINGLE_INDEX_WITH_FILTER) != 0 {
        return Err(c.invalid(format!("unknown chunked layout flags {flags:#04x}")));
    }
    let ndims = c.u8()?;
    check_ndims(c, ndims, 2)?;
    let width = usize::from(c.u8()?);
    if !(1..=8).contains(&width) {
        return Err(c.invalid(format!("dimension size width {width} out of range 1..=8")));
    }
    let mut dims = Vec::with_capacity(usize::from(ndims));
    for _ in 0..ndims {
        dims.push(c.uint(width)?);
    }
    let (chunk_dims, element_size) = split_element_size(c, dims)?;
    let index_type = c.u8()?;
    let index = match index_type {
        1 => {
            let filtered = if flags & FLAG_SINGLE_INDEX_WITH_FILTER != 0 {
                Some(FilteredChunk {
                    size: c.length()?,
                    filter_mask: c.u32()?,
                })
            } else {
                None
            };
            ChunkIndex::SingleChunk { filtered }
        }
        2 => ChunkIndex::Implicit,
        3 => ChunkIndex::FixedArray { page_bits: c.u8()? },
        4 => ChunkIndex::ExtensibleArray {
            max_bits: c.u8()?,
            index_elements: c.u8()?,
            min_pointers: c.u8()?,
            min_elements: c.u8()?,
            page_bits: c.u8()?,
        },
        5 => ChunkIndex::BTreeV2 {
            node_size: c.u32()?,
            split_percent: c.u8()?,
            merge_percent: c.u8()?,
        },
        other => return Err(c.unsupported(format!("chunk index type {other}"))),
    };
    let address = c.offset()?;
    Ok(Storage::Chunked(ChunkedLayout {
        flags,
        chunk_dims,
        element_size,
        index,
        address,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::error::FormatError;

    fn p(buf: &[u8]) -> Result<Layout> {
        parse(buf, 0, Sizes::DEFAULT)
    }

    fn chunked(layout: &Layout) -> &ChunkedLayout {
        match &layout.storage {
            Storage::Chunked(ch) => ch,
            other => panic!("not chunked: {other:?}"),
        }
    }

    #[test]
    fn v2_contiguous_from_tlayouto() {
        // Official tlayouto.h5: v2, 3 dims (2-D dataset + element size), contiguous,
        // undefined address; the dataset is 2^33 × 268435457 int32 but the stored sizes are
        // truncated to 32 bits: 0, 0x10000001, 4.
        let mut v = vec![2, 3, 1, 0, 0, 0, 0, 0];
        v.extend_from_slice(&[0xff; 8]);
        for d in [0u32, 0x1000_0001, 4] {
            v.extend_from_slice(&d.to_le_bytes());
        }
        let l = p(&v).unwrap();
        assert_eq!(
            l.storage,
            Storage::Contiguous {
                address: None,
                size: 0
            }
        );
        let count = (1u64 << 33) * 268_435_457;
        assert_eq!(l.contiguous_size(count, 4), count.checked_mul(4));
        // v3+ keeps the stored size.
        let mut v = vec![3, 1];
        v.extend_from_slice(&0x10u64.to_le_bytes());
        v.extend_from_slice(&40u64.to_le_bytes());
        assert_eq!(p(&v).unwrap().contiguous_size(999, 4), Some(40));
    }

    #[test]
    fn v1_chunked_and_compact() {
        let mut v = vec![1, 3, 2, 0, 0, 0, 0, 0];
        v.extend_from_slice(&0x800u64.to_le_bytes());
        for d in [4u32, 5, 8] {
            v.extend_from_slice(&d.to_le_bytes());
        }
        let l = p(&v).unwrap();
        let ch = chunked(&l);
        assert_eq!(ch.chunk_dims, vec![4, 5]);
        assert_eq!(ch.element_size, 8);
        assert_eq!(ch.chunk_bytes(), Some(160));
        assert_eq!(ch.index, ChunkIndex::BTreeV1);
        assert_eq!(ch.address, Some(0x800));
        // v1 compact: no address, dims, size(4), data.
        let mut v = vec![1, 2, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&[7, 8, 9]);
        assert_eq!(
            p(&v).unwrap().storage,
            Storage::Compact {
                data: vec![7, 8, 9]
            }
        );
    }

    #[test]
    fn v2_zero_dimensionality_is_invalid() {
        // Official h5stat_err_old_layout.h5 stores dimensionality 0.
        let mut v = vec![2, 0, 1, 0, 0, 0, 0, 0];
        v.extend_from_slice(&0x800u64.to_le_bytes());
        assert!(matches!(p(&v), Err(FormatError::Invalid { .. })));
    }

    #[test]
    fn v3_classes_at_width_4() {
        let sizes = Sizes {
            offset: 4,
            length: 4,
        };
        // Official tsizeslheap.h5: contiguous, undefined address, 4 bytes.
        let v = [3, 1, 0xff, 0xff, 0xff, 0xff, 4, 0, 0, 0];
        let l = parse(&v, 0, sizes).unwrap();
        assert_eq!(
            l.storage,
            Storage::Contiguous {
                address: None,
                size: 4
            }
        );
        let v = [3, 0, 2, 0, 0xaa, 0xbb];
        assert_eq!(
            parse(&v, 0, sizes).unwrap().storage,
            Storage::Compact {
                data: vec![0xaa, 0xbb]
            }
        );
        let mut v = vec![3, 2, 2];
        v.extend_from_slice(&0x40u32.to_le_bytes());
        v.extend_from_slice(&100u32.to_le_bytes());
        v.extend_from_slice(&4u32.to_le_bytes());
        let l = parse(&v, 0, sizes).unwrap();
        let ch = chunked(&l);
        assert_eq!(
            (ch.chunk_dims.clone(), ch.element_size, ch.address),
            (vec![100], 4, Some(0x40))
        );
        // Virtual is not valid before v4.
        assert!(parse(&[3, 3, 0, 0, 0, 0, 0, 0, 0, 0], 0, sizes).is_err());
    }

    /// v4 chunked message header: flags, ndims, width 2, dims (last = element size 4).
    fn v4_chunked(version: u8, flags: u8, dims: &[u16], index_type: u8, params: &[u8]) -> Vec<u8> {
        let mut v = vec![version, 2, flags, dims.len() as u8 + 1, 2];
        for d in dims {
            v.extend_from_slice(&d.to_le_bytes());
        }
        v.extend_from_slice(&4u16.to_le_bytes());
        v.push(index_type);
        v.extend_from_slice(params);
        v.extend_from_slice(&0x1000u64.to_le_bytes());
        v
    }

    #[test]
    fn v4_v5_every_index_type() {
        let l = p(&v4_chunked(4, 0, &[10, 20], 1, &[])).unwrap();
        assert_eq!(
            chunked(&l).index,
            ChunkIndex::SingleChunk { filtered: None }
        );
        assert_eq!(chunked(&l).chunk_dims, vec![10, 20]);
        let mut params = 123u64.to_le_bytes().to_vec();
        params.extend_from_slice(&2u32.to_le_bytes());
        let l = p(&v4_chunked(
            5,
            FLAG_SINGLE_INDEX_WITH_FILTER,
            &[10],
            1,
            &params,
        ))
        .unwrap();
        assert_eq!(l.version, 5);
        assert_eq!(
            chunked(&l).index,
            ChunkIndex::SingleChunk {
                filtered: Some(FilteredChunk {
                    size: 123,
                    filter_mask: 2
                })
            }
        );
        let l = p(&v4_chunked(4, 0, &[3], 2, &[])).unwrap();
        assert_eq!(chunked(&l).index, ChunkIndex::Implicit);
        let l = p(&v4_chunked(
            4,
            FLAG_DONT_FILTER_PARTIAL_BOUND_CHUNKS,
            &[3],
            3,
            &[10],
        ))
        .unwrap();
        assert_eq!(chunked(&l).index, ChunkIndex::FixedArray { page_bits: 10 });
        assert!(chunked(&l).dont_filter_partial_bound_chunks());
        let l = p(&v4_chunked(4, 0, &[3], 4, &[32, 4, 4, 16, 10])).unwrap();
        assert_eq!(
            chunked(&l).index,
            ChunkIndex::ExtensibleArray {
                max_bits: 32,
                index_elements: 4,
                min_pointers: 4,
                min_elements: 16,
                page_bits: 10
            }
        );
        assert_eq!(chunked(&l).address, Some(0x1000));
        let mut params = 2048u32.to_le_bytes().to_vec();
        params.extend_from_slice(&[100, 40]);
        let l = p(&v4_chunked(5, 0, &[3, 3], 5, &params)).unwrap();
        assert_eq!(
            chunked(&l).index,
            ChunkIndex::BTreeV2 {
                node_size: 2048,
                split_percent: 100,
                merge_percent: 40
            }
        );
        assert!(matches!(
            p(&v4_chunked(4, 0, &[3], 6, &[])),
            Err(FormatError::Unsupported { .. })
        ));
        assert!(matches!(
            p(&v4_chunked(4, 4, &[3], 2, &[])),
            Err(FormatError::Invalid { .. })
        ));
        let v = v4_chunked(4, 0, &[3], 4, &[32, 4, 4, 16, 10]);
        for n in 0..v.len() {
            assert!(matches!(p(&v[..n]), Err(FormatError::Incomplete { .. })));
        }
    }

    #[test]
    fn v4_virtual() {
        let mut v = vec![4, 3];
        v.extend_from_slice(&0x2000u64.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        assert_eq!(
            p(&v).unwrap().storage,
            Storage::Virtual {
                heap_address: Some(0x2000),
                index: 1
            }
        );
        assert!(matches!(
            p(&[6, 1]),
            Err(FormatError::UnsupportedVersion { .. })
        ));
    }
}
