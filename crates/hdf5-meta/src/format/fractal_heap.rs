//! Fractal heap: header (`FRHP`), direct blocks (`FHDB`), indirect blocks (`FHIB`), the
//! doubling-table arithmetic that places blocks in the heap's linear address space, and heap-ID
//! decoding (managed, tiny, huge).
//!
//! Reading objects out of a heap, without any I/O here:
//! 1. [`FractalHeapHeader::parse`] the header (fetch [`FractalHeapHeader::min_size`] bytes first;
//!    a filtered heap's header is longer and the parser says how much with `Incomplete`).
//! 2. [`FractalHeapHeader::root`] gives the root block: a direct block, or an indirect block
//!    that [`IndirectBlock::parse`] decodes into child direct blocks ([`DirectBlockRef`]: address,
//!    heap offset, size, filtered size) and child indirect blocks ([`IndirectBlockRef`]), each
//!    with its heap offset and row count already computed. Recurse to collect every allocated
//!    direct block, or use [`IndirectBlock::child_for`] to follow only the path to one offset.
//! 3. [`FractalHeapHeader::decode_id`] turns a heap ID into a [`HeapId`]. For a managed ID, fetch
//!    the direct block containing the offset ([`DirectBlockRef::contains`]), inflate it if the
//!    heap is filtered (the stored bytes are the whole compressed block), then
//!    [`DirectBlock::parse`] it and take the bytes with [`DirectBlock::object`].
//!
//! Doubling-table rules follow the library, including the row count of child indirect blocks
//! (`log2(block size) − log2(start block size) − log2(width) + 1`, which the spec misstates).

use crate::error::{FormatError, Result};
use crate::format::checksum::{accept, lookup3, verify};
use crate::format::cursor::{bytes_for, Cursor, Sizes};

const HEADER: &str = "fractal heap header";
const DIRECT: &str = "fractal heap direct block";
const INDIRECT: &str = "fractal heap indirect block";
const HEAP_ID: &str = "fractal heap ID";

/// Heap-ID lengths up to this use the one-byte tiny-object length; longer IDs use two bytes.
const TINY_SHORT_MAX_ID_LEN: u16 = 18;

/// I/O filter information of a filtered heap (present when the filter-info length is non-zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeapFilterInfo {
    /// Stored (filtered) size of the root direct block.
    pub filtered_root_size: u64,
    /// Filter mask of the root direct block (bit set = filter skipped).
    pub root_filter_mask: u32,
    /// The encoded filter pipeline message, raw (parsed by the filter-pipeline module).
    pub pipeline: Vec<u8>,
}

/// A decoded fractal heap header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FractalHeapHeader {
    /// Address of the header (base-relative).
    pub address: u64,
    /// Length in bytes of heap IDs for this heap.
    pub heap_id_len: u16,
    /// Length of the encoded I/O filter pipeline (0 = unfiltered heap).
    pub io_filter_len: u16,
    /// Flags: bit 0 huge IDs wrapped, bit 1 direct blocks checksummed.
    pub flags: u8,
    /// Objects larger than this are stored as huge objects.
    pub max_managed_object_size: u32,
    /// Next ID to hand out to a huge object.
    pub next_huge_id: u64,
    /// v2 B-tree indexing huge objects (types 1–4), if any.
    pub huge_btree_address: Option<u64>,
    /// Free space in managed direct blocks.
    pub free_space: u64,
    /// Free-space manager of managed blocks, if any.
    pub free_space_manager_address: Option<u64>,
    /// Size of the managed linear address space.
    pub managed_space: u64,
    /// Managed space actually allocated in direct blocks.
    pub allocated_managed_space: u64,
    /// Heap offset where the next direct block will be allocated.
    pub direct_block_iterator_offset: u64,
    /// Number of managed objects.
    pub managed_object_count: u64,
    /// Total size of huge objects.
    pub huge_object_size: u64,
    /// Number of huge objects.
    pub huge_object_count: u64,
    /// Total size of tiny objects.
    pub tiny_object_size: u64,
    /// Number of tiny objects.
    pub tiny_object_count: u64,
    /// Root block address; `None` when the heap has no managed blocks.
    pub root_block_address: Option<u64>,
    /// Starting number of rows of the root indirect block.
    pub starting_root_rows: u16,
    /// Current number of rows of the root indirect block; 0 = the root is a direct block.
    pub current_root_rows: u16,
    /// Filter information, for filtered heaps.
    pub filter: Option<HeapFilterInfo>,
    /// The doubling-table parameters and derived values.
    pub table: DoublingTable,
    /// Encoded size of the header, checksum included.
    pub encoded_size: usize,
}

/// Doubling-table parameters (from the header) and the values derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoublingTable {
    /// Number of blocks per row (a power of two).
    pub width: u16,
    /// Size of blocks in rows 0 and 1 (a power of two).
    pub starting_block_size: u64,
    /// Largest direct block size (a power of two); bigger rows hold indirect blocks.
    pub max_direct_block_size: u64,
    /// log2 of the size of the heap's linear address space.
    pub max_heap_size_bits: u16,
    /// log2(starting block size).
    pub start_bits: u32,
    /// log2(starting block size × width): heap offsets below `1 << first_row_bits` are in row 0.
    pub first_row_bits: u32,
    /// Number of rows (from row 0) whose entries are direct blocks.
    pub max_direct_rows: u32,
    /// Largest possible number of rows of the root indirect block.
    pub max_root_rows: u32,
}

/// Where a heap offset falls inside an indirect block: which entry and which child block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildSlot {
    /// Row of the entry.
    pub row: u32,
    /// Column of the entry.
    pub col: u32,
    /// Entry index in row-major order (direct entries first, then indirect entries).
    pub entry: usize,
    /// Heap offset where the child block starts.
    pub block_offset: u64,
    /// Size of the child block in heap space.
    pub block_size: u64,
    /// True when the entry is a direct block.
    pub direct: bool,
}

/// Stored size and filter mask of a filtered direct block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilteredBlock {
    /// Size of the block as stored (after filtering).
    pub size: u64,
    /// Filter mask (bit set = filter skipped).
    pub filter_mask: u32,
}

/// An allocated direct block, as found in the header (root) or in an indirect block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectBlockRef {
    /// Address of the block.
    pub address: u64,
    /// Heap offset of the block's first byte.
    pub heap_offset: u64,
    /// Size of the block (unfiltered; also its size in heap space).
    pub size: u64,
    /// Stored size and mask when the heap is filtered.
    pub filtered: Option<FilteredBlock>,
}

impl DirectBlockRef {
    /// Bytes to read at [`address`](Self::address): the filtered size for filtered heaps.
    pub fn stored_size(&self) -> u64 {
        self.filtered.map_or(self.size, |f| f.size)
    }

    /// Whether `heap_offset` lies inside this block.
    pub fn contains(&self, heap_offset: u64) -> bool {
        heap_offset >= self.heap_offset && heap_offset - self.heap_offset < self.size
    }
}

/// An allocated indirect block: the root, or a child of another indirect block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndirectBlockRef {
    /// Address of the block.
    pub address: u64,
    /// Heap offset where the block's address range starts.
    pub heap_offset: u64,
    /// Number of rows of the block.
    pub nrows: u32,
}

/// The heap's root block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootBlock {
    /// The root is a single direct block (current root rows = 0).
    Direct(DirectBlockRef),
    /// The root is an indirect block.
    Indirect(IndirectBlockRef),
}

/// A child of an indirect block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeapChild {
    /// A direct block.
    Direct(DirectBlockRef),
    /// An indirect block.
    Indirect(IndirectBlockRef),
}

/// A decoded heap ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeapId<'a> {
    /// Object in a direct block: `offset` in heap space, `length` bytes.
    Managed {
        /// Heap offset of the object.
        offset: u64,
        /// Object length in bytes.
        length: u64,
    },
    /// Object stored inside the ID itself.
    Tiny(&'a [u8]),
    /// Huge object whose location is in the ID.
    HugeDirect {
        /// Address of the (possibly filtered) object.
        address: u64,
        /// Stored length of the object.
        length: u64,
        /// Filter mask and de-filtered size, for filtered heaps.
        filter: Option<HugeFilter>,
    },
    /// Huge object to look up in the huge-object v2 B-tree (record types 1/2) by this ID.
    HugeIndirect {
        /// The B-tree key (huge object ID).
        key: u64,
    },
}

/// Filter information of a directly addressed huge object in a filtered heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HugeFilter {
    /// Filter mask (bit set = filter skipped).
    pub filter_mask: u32,
    /// Size of the object after de-filtering.
    pub size: u64,
}

fn log2_exact(v: u64) -> Option<u32> {
    v.is_power_of_two().then(|| v.trailing_zeros())
}

fn pow2(bits: u32) -> Option<u64> {
    (bits < 64).then(|| 1u64 << bits)
}

impl DoublingTable {
    /// Validate the header parameters and derive the table. Errors name the header at `address`.
    pub fn new(
        width: u16,
        starting_block_size: u64,
        max_direct_block_size: u64,
        max_heap_size_bits: u16,
        address: u64,
    ) -> Result<Self> {
        let bad = |reason: String| FormatError::invalid(HEADER, address, reason);
        let width_bits = log2_exact(u64::from(width))
            .ok_or_else(|| bad(format!("table width {width} is not a power of two")))?;
        let start_bits = log2_exact(starting_block_size).ok_or_else(|| {
            bad(format!(
                "starting block size {starting_block_size} is not a power of two"
            ))
        })?;
        let max_direct_bits = log2_exact(max_direct_block_size)
            .filter(|&b| b >= start_bits)
            .ok_or_else(|| {
                bad(format!(
                    "maximum direct block size {max_direct_block_size} is not a power of two \
                     >= the starting block size"
                ))
            })?;
        let first_row_bits = start_bits + width_bits;
        let heap_bits = u32::from(max_heap_size_bits);
        if heap_bits > 64 || heap_bits < first_row_bits || heap_bits < max_direct_bits {
            return Err(bad(format!(
                "maximum heap size of {heap_bits} bits does not fit the doubling table"
            )));
        }
        Ok(Self {
            width,
            starting_block_size,
            max_direct_block_size,
            max_heap_size_bits,
            start_bits,
            first_row_bits,
            max_direct_rows: max_direct_bits - start_bits + 2,
            max_root_rows: heap_bits - first_row_bits + 1,
        })
    }

    /// Bytes of a heap offset (block offsets in blocks, offsets in managed heap IDs).
    pub fn heap_offset_size(&self) -> usize {
        usize::from(self.max_heap_size_bits).div_ceil(8)
    }

    /// Size of each block in `row`; `None` beyond the largest possible row.
    pub fn row_block_size(&self, row: u32) -> Option<u64> {
        if row >= self.max_root_rows {
            return None;
        }
        match row {
            0 => Some(self.starting_block_size),
            _ => pow2(self.start_bits + row - 1),
        }
    }

    /// Offset of the start of `row` from the start of the indirect block holding it.
    pub fn row_offset(&self, row: u32) -> Option<u64> {
        if row >= self.max_root_rows {
            return None;
        }
        match row {
            0 => Some(0),
            _ => pow2(self.first_row_bits + row - 1),
        }
    }

    /// Whether the entries of `row` are direct blocks.
    pub fn is_direct_row(&self, row: u32) -> bool {
        row < self.max_direct_rows
    }

    /// Number of rows of an indirect block covering `block_size` bytes of heap space (a child
    /// indirect block of the row whose block size is `block_size`).
    pub fn indirect_block_rows(&self, block_size: u64) -> Option<u32> {
        let bits = log2_exact(block_size)?;
        let rows = bits.checked_sub(self.first_row_bits)?.checked_add(1)?;
        (rows <= self.max_root_rows).then_some(rows)
    }

    /// Numbers of direct (`K`) and indirect (`N`) entries of an indirect block with `nrows` rows.
    pub fn entry_counts(&self, nrows: u32) -> (usize, usize) {
        let width = usize::from(self.width);
        let direct_rows = nrows.min(self.max_direct_rows) as usize;
        let indirect_rows = nrows.saturating_sub(self.max_direct_rows) as usize;
        (
            direct_rows.saturating_mul(width),
            indirect_rows.saturating_mul(width),
        )
    }

    /// Row and column of `offset`, an offset relative to the start of an indirect block.
    pub fn locate(&self, offset: u64) -> Option<(u32, u32)> {
        let first_row_span = pow2(self.first_row_bits)?;
        let (row, row_start) = if offset < first_row_span {
            (0, 0)
        } else {
            let high_bit = 63 - offset.leading_zeros();
            (high_bit - self.first_row_bits + 1, pow2(high_bit)?)
        };
        let col = (offset - row_start) / self.row_block_size(row)?;
        Some((row, u32::try_from(col).ok()?))
    }

    /// The child slot holding heap offset `heap_offset` in the indirect block that starts at
    /// heap offset `block_offset` and has `nrows` rows; `None` if the offset lies outside it.
    pub fn child_slot(&self, block_offset: u64, nrows: u32, heap_offset: u64) -> Option<ChildSlot> {
        let (row, col) = self.locate(heap_offset.checked_sub(block_offset)?)?;
        if row >= nrows {
            return None;
        }
        let block_size = self.row_block_size(row)?;
        let start = block_offset
            .checked_add(self.row_offset(row)?)?
            .checked_add(u64::from(col).checked_mul(block_size)?)?;
        let entry = (row as usize)
            .checked_mul(usize::from(self.width))?
            .checked_add(col as usize)?;
        Some(ChildSlot {
            row,
            col,
            entry,
            block_offset: start,
            block_size,
            direct: self.is_direct_row(row),
        })
    }

    /// Heap offset and block size of entry number `entry` of an indirect block at `block_offset`.
    fn entry_block(&self, block_offset: u64, entry: usize) -> Option<(u32, u64, u64)> {
        let width = usize::from(self.width);
        let row = u32::try_from(entry / width).ok()?;
        let col = (entry % width) as u64;
        let size = self.row_block_size(row)?;
        let offset = block_offset
            .checked_add(self.row_offset(row)?)?
            .checked_add(col.checked_mul(size)?)?;
        Some((row, offset, size))
    }
}

impl FractalHeapHeader {
    /// Size of an unfiltered header; fetch at least this many bytes before parsing.
    pub fn min_size(sizes: Sizes) -> usize {
        let o = usize::from(sizes.offset);
        let l = usize::from(sizes.length);
        // signature, version, ID length, filter length, flags, max managed size
        4 + 1 + 2 + 2 + 1 + 4
            + l + o + l + o // next huge ID, huge B-tree, free space, free-space manager
            + 8 * l // managed space … tiny count
            + 2 + l + l + 2 + 2 // width, start size, max direct size, max heap bits, start rows
            + o + 2 // root address, current rows
            + 4 // checksum
    }

    /// Parse a header from `buf`, which starts at `address`. Verifies the checksum.
    pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<Self> {
        let mut c = Cursor::new(buf, address, sizes, HEADER);
        c.require(Self::min_size(sizes))?;
        c.signature(b"FRHP")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.bad_version(version));
        }
        let heap_id_len = c.u16()?;
        let io_filter_len = c.u16()?;
        let flags = c.u8()?;
        let max_managed_object_size = c.u32()?;
        let next_huge_id = c.length()?;
        let huge_btree_address = c.offset()?;
        let free_space = c.length()?;
        let free_space_manager_address = c.offset()?;
        let managed_space = c.length()?;
        let allocated_managed_space = c.length()?;
        let direct_block_iterator_offset = c.length()?;
        let managed_object_count = c.length()?;
        let huge_object_size = c.length()?;
        let huge_object_count = c.length()?;
        let tiny_object_size = c.length()?;
        let tiny_object_count = c.length()?;
        let width = c.u16()?;
        let starting_block_size = c.length()?;
        let max_direct_block_size = c.length()?;
        let max_heap_size_bits = c.u16()?;
        let starting_root_rows = c.u16()?;
        let root_block_address = c.offset()?;
        let current_root_rows = c.u16()?;
        let filter = if io_filter_len > 0 {
            c.require(usize::from(sizes.length) + 4 + usize::from(io_filter_len) + 4)?;
            let filtered_root_size = c.length()?;
            let root_filter_mask = c.u32()?;
            let pipeline = c.bytes(usize::from(io_filter_len))?.to_vec();
            Some(HeapFilterInfo {
                filtered_root_size,
                root_filter_mask,
                pipeline,
            })
        } else {
            None
        };
        let checksum_pos = c.pos();
        verify(HEADER, address, buf, checksum_pos)?;
        let table = DoublingTable::new(
            width,
            starting_block_size,
            max_direct_block_size,
            max_heap_size_bits,
            address,
        )?;
        if u32::from(current_root_rows) > table.max_root_rows {
            return Err(c.invalid(format!(
                "{current_root_rows} root rows exceed the maximum of {}",
                table.max_root_rows
            )));
        }
        if heap_id_len == 0 {
            return Err(c.invalid("heap ID length 0"));
        }
        Ok(Self {
            address,
            heap_id_len,
            io_filter_len,
            flags,
            max_managed_object_size,
            next_huge_id,
            huge_btree_address,
            free_space,
            free_space_manager_address,
            managed_space,
            allocated_managed_space,
            direct_block_iterator_offset,
            managed_object_count,
            huge_object_size,
            huge_object_count,
            tiny_object_size,
            tiny_object_count,
            root_block_address,
            starting_root_rows,
            current_root_rows,
            filter,
            table,
            encoded_size: checksum_pos + 4,
        })
    }

    /// Whether direct blocks carry a checksum (flags bit 1).
    pub fn checksummed_direct_blocks(&self) -> bool {
        self.flags & 0x02 != 0
    }

    /// Whether the heap's blocks and huge objects pass through an I/O filter pipeline.
    pub fn is_filtered(&self) -> bool {
        self.filter.is_some()
    }

    /// Bytes of the length field of managed heap IDs.
    pub fn managed_length_size(&self) -> usize {
        let block = (self.table.max_direct_block_size.trailing_zeros() as usize).div_ceil(8);
        block.min(bytes_for(u64::from(self.max_managed_object_size)))
    }

    /// Whether huge objects are addressed directly from their heap IDs (else through the
    /// huge-object B-tree).
    pub fn huge_ids_direct(&self, sizes: Sizes) -> bool {
        let o = usize::from(sizes.offset);
        let l = usize::from(sizes.length);
        let needed = if self.is_filtered() {
            o + l + 4 + l
        } else {
            o + l
        };
        usize::from(self.heap_id_len) > needed
    }

    /// Size of a direct block's prefix (signature … checksum), before object data.
    pub fn direct_block_prefix_size(&self, sizes: Sizes) -> usize {
        4 + 1
            + usize::from(sizes.offset)
            + self.table.heap_offset_size()
            + if self.checksummed_direct_blocks() {
                4
            } else {
                0
            }
    }

    /// Encoded size of an indirect block with `nrows` rows (fetch this many bytes).
    pub fn indirect_block_size(&self, sizes: Sizes, nrows: u32) -> usize {
        let o = usize::from(sizes.offset);
        let direct_entry = if self.is_filtered() {
            o + usize::from(sizes.length) + 4
        } else {
            o
        };
        let (k, n) = self.table.entry_counts(nrows);
        (4 + 1 + o + self.table.heap_offset_size() + 4)
            .saturating_add(k.saturating_mul(direct_entry))
            .saturating_add(n.saturating_mul(o))
    }

    /// The root block, or `None` for a heap without managed blocks.
    pub fn root(&self) -> Option<RootBlock> {
        let address = self.root_block_address?;
        Some(if self.current_root_rows == 0 {
            RootBlock::Direct(DirectBlockRef {
                address,
                heap_offset: 0,
                size: self.table.starting_block_size,
                filtered: self.filter.as_ref().map(|f| FilteredBlock {
                    size: f.filtered_root_size,
                    filter_mask: f.root_filter_mask,
                }),
            })
        } else {
            RootBlock::Indirect(IndirectBlockRef {
                address,
                heap_offset: 0,
                nrows: u32::from(self.current_root_rows),
            })
        })
    }

    /// Decode a heap ID of this heap (`id` holds at least the ID's meaningful bytes).
    pub fn decode_id<'a>(&self, id: &'a [u8], sizes: Sizes) -> Result<HeapId<'a>> {
        let mut c = Cursor::new(id, self.address, sizes, HEAP_ID);
        let first = c.u8()?;
        if first >> 6 != 0 {
            return Err(c.bad_version(first >> 6));
        }
        match (first >> 4) & 0x03 {
            0 => {
                let offset = c.uint(self.table.heap_offset_size())?;
                let length = c.uint(self.managed_length_size())?;
                if length == 0 {
                    return Err(c.invalid("managed object of length 0"));
                }
                Ok(HeapId::Managed { offset, length })
            }
            1 => {
                if self.huge_ids_direct(sizes) {
                    let address = c
                        .offset()?
                        .ok_or_else(|| c.invalid("undefined huge object address"))?;
                    let length = c.length()?;
                    let filter = if self.is_filtered() {
                        let filter_mask = c.u32()?;
                        let size = c.length()?;
                        Some(HugeFilter { filter_mask, size })
                    } else {
                        None
                    };
                    Ok(HeapId::HugeDirect {
                        address,
                        length,
                        filter,
                    })
                } else {
                    let width = usize::from(self.heap_id_len).saturating_sub(1).min(8);
                    Ok(HeapId::HugeIndirect {
                        key: c.uint(width)?,
                    })
                }
            }
            2 => {
                let len = if self.heap_id_len > TINY_SHORT_MAX_ID_LEN {
                    let low = c.u8()?;
                    ((usize::from(first & 0x0f) << 8) | usize::from(low)) + 1
                } else {
                    usize::from(first & 0x0f) + 1
                };
                Ok(HeapId::Tiny(c.bytes(len)?))
            }
            t => Err(c.invalid(format!("heap ID type {t}"))),
        }
    }
}

/// A decoded indirect block: its direct and indirect child entries in on-disk order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndirectBlock {
    /// Address of the block.
    pub address: u64,
    /// Heap offset where the block's range starts.
    pub block_offset: u64,
    /// Number of rows.
    pub nrows: u32,
    /// Direct-block entries (row-major; `None` = not allocated).
    pub direct: Vec<Option<DirectBlockRef>>,
    /// Indirect-block entries following the direct ones (`None` = not allocated).
    pub indirect: Vec<Option<IndirectBlockRef>>,
    /// Encoded size of the block, checksum included.
    pub encoded_size: usize,
}

impl IndirectBlock {
    /// Parse the indirect block described by `block` (root from [`FractalHeapHeader::root`] or
    /// a child from another indirect block). Verifies signature, owner, offset and checksum.
    pub fn parse(
        buf: &[u8],
        address: u64,
        sizes: Sizes,
        heap: &FractalHeapHeader,
        block: &IndirectBlockRef,
    ) -> Result<Self> {
        let mut c = Cursor::new(buf, address, sizes, INDIRECT);
        let table = &heap.table;
        if block.nrows == 0 || block.nrows > table.max_root_rows {
            return Err(c.invalid(format!("{} rows", block.nrows)));
        }
        let size = heap.indirect_block_size(sizes, block.nrows);
        c.require(size)?;
        c.signature(b"FHIB")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.bad_version(version));
        }
        check_owner(&mut c, heap)?;
        let block_offset = c.uint(table.heap_offset_size())?;
        if block_offset != block.heap_offset {
            return Err(c.invalid(format!(
                "block offset {block_offset}, expected {}",
                block.heap_offset
            )));
        }
        let (k, n) = table.entry_counts(block.nrows);
        let mut direct = Vec::with_capacity(k);
        for entry in 0..k {
            let child = c.offset()?;
            let filtered = if heap.is_filtered() {
                let size = c.length()?;
                let filter_mask = c.u32()?;
                Some(FilteredBlock { size, filter_mask })
            } else {
                None
            };
            direct.push(match child {
                Some(child) => {
                    let (_, heap_offset, size) = table
                        .entry_block(block_offset, entry)
                        .ok_or_else(|| c.invalid(format!("entry {entry} outside the heap")))?;
                    Some(DirectBlockRef {
                        address: child,
                        heap_offset,
                        size,
                        filtered,
                    })
                }
                None => None,
            });
        }
        let mut indirect = Vec::with_capacity(n);
        for i in 0..n {
            indirect.push(match c.offset()? {
                Some(child) => {
                    let entry = k.saturating_add(i);
                    let (_, heap_offset, size) = table
                        .entry_block(block_offset, entry)
                        .ok_or_else(|| c.invalid(format!("entry {entry} outside the heap")))?;
                    let nrows = table.indirect_block_rows(size).ok_or_else(|| {
                        c.invalid(format!("no row count for a {size}-byte child"))
                    })?;
                    Some(IndirectBlockRef {
                        address: child,
                        heap_offset,
                        nrows,
                    })
                }
                None => None,
            });
        }
        let checksum_pos = c.pos();
        verify(INDIRECT, address, buf, checksum_pos)?;
        Ok(Self {
            address,
            block_offset,
            nrows: block.nrows,
            direct,
            indirect,
            encoded_size: size,
        })
    }

    /// The allocated direct children.
    pub fn allocated_direct(&self) -> impl Iterator<Item = &DirectBlockRef> {
        self.direct.iter().flatten()
    }

    /// The allocated indirect children.
    pub fn allocated_indirect(&self) -> impl Iterator<Item = &IndirectBlockRef> {
        self.indirect.iter().flatten()
    }

    /// The child block containing `heap_offset`, or `None` if it lies outside this block or
    /// its entry is not allocated.
    pub fn child_for(&self, table: &DoublingTable, heap_offset: u64) -> Option<HeapChild> {
        let slot = table.child_slot(self.block_offset, self.nrows, heap_offset)?;
        if slot.direct {
            self.direct
                .get(slot.entry)
                .copied()
                .flatten()
                .map(HeapChild::Direct)
        } else {
            let i = slot.entry.checked_sub(self.direct.len())?;
            self.indirect
                .get(i)
                .copied()
                .flatten()
                .map(HeapChild::Indirect)
        }
    }
}

/// A decoded direct block header; object bytes are read from the same buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectBlock {
    /// Address of the block.
    pub address: u64,
    /// Heap offset of the block's first byte.
    pub heap_offset: u64,
    /// Block size.
    pub size: u64,
    /// Size of the prefix; object data starts here.
    pub prefix_size: usize,
}

impl DirectBlock {
    /// Parse the direct block `block` from `buf`, its whole (for filtered heaps: already
    /// de-filtered) content. Verifies signature, owner, offset and, when the heap checksums
    /// direct blocks, the checksum.
    pub fn parse(
        buf: &[u8],
        address: u64,
        sizes: Sizes,
        heap: &FractalHeapHeader,
        block: &DirectBlockRef,
    ) -> Result<Self> {
        let mut c = Cursor::new(buf, address, sizes, DIRECT);
        let size =
            usize::try_from(block.size).map_err(|_| c.invalid("block size exceeds memory"))?;
        let prefix_size = heap.direct_block_prefix_size(sizes);
        if size < prefix_size {
            return Err(c.invalid(format!(
                "block size {size} below the {prefix_size}-byte prefix"
            )));
        }
        c.require(size)?;
        c.signature(b"FHDB")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.bad_version(version));
        }
        check_owner(&mut c, heap)?;
        let block_offset = c.uint(heap.table.heap_offset_size())?;
        if block_offset != block.heap_offset {
            return Err(c.invalid(format!(
                "block offset {block_offset}, expected {}",
                block.heap_offset
            )));
        }
        if heap.checksummed_direct_blocks() {
            let pos = c.pos();
            let stored = c.u32()?;
            // The checksum covers the whole block with the checksum field zeroed.
            let mut copy = buf.get(..size).ok_or_else(|| c.incomplete(size))?.to_vec();
            if let Some(field) = copy.get_mut(pos..pos + 4) {
                field.fill(0);
            }
            let computed = lookup3(&copy, 0);
            if !accept(stored, computed) {
                return Err(FormatError::Checksum {
                    structure: DIRECT,
                    offset: address,
                    stored,
                    computed,
                });
            }
        }
        Ok(Self {
            address,
            heap_offset: block.heap_offset,
            size: block.size,
            prefix_size,
        })
    }

    /// The bytes of the managed object at heap offset `offset`, `length` bytes long, from
    /// `buf` (the same block content given to [`parse`](Self::parse)).
    pub fn object<'a>(&self, buf: &'a [u8], offset: u64, length: u64) -> Result<&'a [u8]> {
        let bad = || {
            FormatError::invalid(
                DIRECT,
                self.address,
                format!("object at heap offset {offset} ({length} bytes) outside the block"),
            )
        };
        let start = offset.checked_sub(self.heap_offset).ok_or_else(bad)?;
        let end = start.checked_add(length).ok_or_else(bad)?;
        if start < self.prefix_size as u64 || end > self.size {
            return Err(bad());
        }
        let (start, end) = (
            usize::try_from(start).map_err(|_| bad())?,
            usize::try_from(end).map_err(|_| bad())?,
        );
        buf.get(start..end).ok_or(FormatError::Incomplete {
            structure: DIRECT,
            offset: self.address,
            needed: end as u64,
        })
    }
}

/// Read the heap-header address of a block and check that it names `heap`.
fn check_owner(c: &mut Cursor<'_>, heap: &FractalHeapHeader) -> Result<()> {
    let owner = c.offset()?;
    if owner != Some(heap.address) {
        return Err(c.invalid(format!(
            "block belongs to heap {owner:?}, expected {}",
            heap.address
        )));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    const S8: Sizes = Sizes {
        offset: 8,
        length: 8,
    };

    /// Header parameters for the test encoder.
    #[derive(Clone)]
    struct Params {
        id_len: u16,
        flags: u8,
        max_managed: u32,
        width: u16,
        start: u64,
        max_direct: u64,
        bits: u16,
        root: u64,
        root_rows: u16,
        filter: Option<(u64, u32, Vec<u8>)>,
    }

    /// The library's link-heap parameters (observed in h5py files): width 4, start 512,
    /// max direct 64 KiB, 32-bit heap, 7-byte IDs, checksummed direct blocks.
    fn link_heap() -> Params {
        Params {
            id_len: 7,
            flags: 2,
            max_managed: 4096,
            width: 4,
            start: 512,
            max_direct: 65536,
            bits: 32,
            root: 1000,
            root_rows: 0,
            filter: None,
        }
    }

    fn seal(mut v: Vec<u8>) -> Vec<u8> {
        let sum = lookup3(&v, 0);
        v.extend_from_slice(&sum.to_le_bytes());
        v
    }

    fn encode_header(p: &Params) -> Vec<u8> {
        let mut v = b"FRHP".to_vec();
        v.push(0);
        v.extend_from_slice(&p.id_len.to_le_bytes());
        let flen = p.filter.as_ref().map_or(0, |f| f.2.len() as u16);
        v.extend_from_slice(&flen.to_le_bytes());
        v.push(p.flags);
        v.extend_from_slice(&p.max_managed.to_le_bytes());
        v.extend_from_slice(&1u64.to_le_bytes()); // next huge ID
        v.extend_from_slice(&u64::MAX.to_le_bytes()); // huge B-tree
        v.extend_from_slice(&10u64.to_le_bytes()); // free space
        v.extend_from_slice(&u64::MAX.to_le_bytes()); // free-space manager
        for x in [4096u64, 4096, 4096, 3, 0, 0, 0, 0] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(&p.width.to_le_bytes());
        v.extend_from_slice(&p.start.to_le_bytes());
        v.extend_from_slice(&p.max_direct.to_le_bytes());
        v.extend_from_slice(&p.bits.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&p.root.to_le_bytes());
        v.extend_from_slice(&p.root_rows.to_le_bytes());
        if let Some((size, mask, pipeline)) = &p.filter {
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&mask.to_le_bytes());
            v.extend_from_slice(pipeline);
        }
        seal(v)
    }

    fn parse_header(p: &Params, address: u64) -> FractalHeapHeader {
        FractalHeapHeader::parse(&encode_header(p), address, S8).unwrap()
    }

    /// A checksummed direct block of `size` bytes with `objects` placed at block-relative offsets.
    fn encode_direct(
        heap: u64,
        offset_bytes: usize,
        block_offset: u64,
        size: usize,
        objects: &[(usize, &[u8])],
    ) -> Vec<u8> {
        let mut v = b"FHDB".to_vec();
        v.push(0);
        v.extend_from_slice(&heap.to_le_bytes());
        v.extend_from_slice(&block_offset.to_le_bytes()[..offset_bytes]);
        let sum_pos = v.len();
        v.extend_from_slice(&[0; 4]);
        v.resize(size, 0);
        for (at, bytes) in objects {
            v[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        let sum = lookup3(&v, 0);
        v[sum_pos..sum_pos + 4].copy_from_slice(&sum.to_le_bytes());
        v
    }

    fn encode_indirect(
        heap: u64,
        offset_bytes: usize,
        block_offset: u64,
        children: &[u64],
    ) -> Vec<u8> {
        let mut v = b"FHIB".to_vec();
        v.push(0);
        v.extend_from_slice(&heap.to_le_bytes());
        v.extend_from_slice(&block_offset.to_le_bytes()[..offset_bytes]);
        for c in children {
            v.extend_from_slice(&c.to_le_bytes());
        }
        seal(v)
    }

    // Values for the library's link heap, derived by hand from the doubling-table rules:
    // first_row_bits = 9 + 2 = 11; max_direct_rows = 16 − 9 + 2 = 9; max_root_rows = 32 − 11 + 1.
    #[test]
    fn doubling_table_of_a_link_heap() {
        let t = parse_header(&link_heap(), 0).table;
        assert_eq!(
            (
                t.start_bits,
                t.first_row_bits,
                t.max_direct_rows,
                t.max_root_rows
            ),
            (9, 11, 9, 22)
        );
        assert_eq!(t.heap_offset_size(), 4);
        let sizes: Vec<_> = (0..10).map(|r| t.row_block_size(r).unwrap()).collect();
        assert_eq!(
            sizes,
            [512, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]
        );
        let offsets: Vec<_> = (0..4).map(|r| t.row_offset(r).unwrap()).collect();
        assert_eq!(offsets, [0, 2048, 4096, 8192]);
        assert_eq!(t.row_block_size(22), None);
        // A child indirect block in row 9 spans 128 KiB: log2(131072) − 11 + 1 = 7 rows (the
        // spec's formula without the width term would give 9).
        assert_eq!(t.indirect_block_rows(131072), Some(7));
        assert_eq!(t.indirect_block_rows(1000), None);
        assert_eq!(t.entry_counts(7), (28, 0));
        assert_eq!(t.entry_counts(16), (36, 28));
        assert_eq!(t.locate(0), Some((0, 0)));
        assert_eq!(t.locate(2047), Some((0, 3)));
        assert_eq!(t.locate(2048), Some((1, 0)));
        assert_eq!(t.locate(4096 + 3 * 1024), Some((2, 3)));
        assert_eq!(t.locate(8191), Some((2, 3)));
        assert_eq!(t.locate(u64::MAX), None);
        // 600 000 lies past the 9 direct rows (2^19 = 524 288 bytes): row 9, column 0, a child
        // indirect block at 524 288; inside it, 75 712 falls in row 6 (16 KiB blocks), column 0.
        let slot = t.child_slot(0, 16, 600_000).unwrap();
        assert_eq!(
            slot,
            ChildSlot {
                row: 9,
                col: 0,
                entry: 36,
                block_offset: 524_288,
                block_size: 131_072,
                direct: false
            }
        );
        let inner = t.child_slot(524_288, 7, 600_000).unwrap();
        assert_eq!(
            (inner.row, inner.col, inner.block_offset, inner.block_size),
            (6, 0, 589_824, 16_384)
        );
        assert!(inner.direct);
        assert_eq!(t.child_slot(524_288, 7, 524_287), None);
        assert_eq!(t.child_slot(0, 3, 8192), None);
    }

    #[test]
    fn table_validation() {
        let bad = |f: fn(&mut Params)| {
            let mut p = link_heap();
            f(&mut p);
            FractalHeapHeader::parse(&encode_header(&p), 0, S8).unwrap_err()
        };
        for e in [
            bad(|p| p.width = 3),
            bad(|p| p.width = 0),
            bad(|p| p.start = 500),
            bad(|p| p.max_direct = 256),
            bad(|p| p.bits = 70),
            bad(|p| p.bits = 10),
            bad(|p| p.root_rows = 23),
            bad(|p| p.id_len = 0),
        ] {
            assert!(matches!(e, FormatError::Invalid { .. }), "{e:?}");
        }
    }

    #[test]
    fn header_fields_checksum_and_lengths() {
        let mut p = link_heap();
        p.root_rows = 2;
        let b = encode_header(&p);
        assert_eq!(b.len(), FractalHeapHeader::min_size(S8));
        let h = FractalHeapHeader::parse(&b, 640, S8).unwrap();
        assert_eq!(h.encoded_size, b.len());
        assert_eq!(
            (
                h.heap_id_len,
                h.max_managed_object_size,
                h.managed_object_count
            ),
            (7, 4096, 3)
        );
        assert_eq!(
            (h.huge_btree_address, h.root_block_address),
            (None, Some(1000))
        );
        assert!(h.checksummed_direct_blocks() && !h.is_filtered());
        assert_eq!(h.managed_length_size(), 2);
        assert_eq!(h.direct_block_prefix_size(S8), 4 + 1 + 8 + 4 + 4);
        // Two rows of four direct entries: 4 + 1 + 8 + 4 + 8·8 + 4.
        assert_eq!(h.indirect_block_size(S8, 2), 85);
        assert_eq!(
            h.root(),
            Some(RootBlock::Indirect(IndirectBlockRef {
                address: 1000,
                heap_offset: 0,
                nrows: 2
            }))
        );
        let mut corrupt = b.clone();
        corrupt[20] ^= 0x40;
        assert!(matches!(
            FractalHeapHeader::parse(&corrupt, 640, S8),
            Err(FormatError::Checksum { .. })
        ));
        assert!(matches!(
            FractalHeapHeader::parse(&b[..50], 640, S8),
            Err(FormatError::Incomplete { needed, .. }) if needed == b.len() as u64
        ));
        // A filtered header is longer; the first, minimal read reports how much is missing.
        p.filter = Some((300, 0, vec![2, 1, 1, 0, 0, 0, 1, 0, 6, 0, 0, 0]));
        p.root_rows = 0;
        let b = encode_header(&p);
        let err =
            FractalHeapHeader::parse(&b[..FractalHeapHeader::min_size(S8)], 0, S8).unwrap_err();
        assert_eq!(
            err,
            FormatError::Incomplete {
                structure: HEADER,
                offset: 0,
                needed: b.len() as u64
            }
        );
        let h = FractalHeapHeader::parse(&b, 0, S8).unwrap();
        assert_eq!(h.filter.as_ref().unwrap().pipeline.len(), 12);
        assert_eq!(
            h.root(),
            Some(RootBlock::Direct(DirectBlockRef {
                address: 1000,
                heap_offset: 0,
                size: 512,
                filtered: Some(FilteredBlock {
                    size: 300,
                    filter_mask: 0
                }),
            }))
        );
        // Filtered direct entries carry size and mask: 4 + 1 + 8 + 4 + 4·(8 + 8 + 4) + 4.
        assert_eq!(h.indirect_block_size(S8, 1), 101);
    }

    #[test]
    fn heap_ids() {
        let h = parse_header(&link_heap(), 0);
        // Managed: type 0, 4-byte offset, 2-byte length (link heap, 7-byte IDs).
        let id = [0x00, 0x10, 0x02, 0, 0, 0x25, 0];
        assert_eq!(
            h.decode_id(&id, S8).unwrap(),
            HeapId::Managed {
                offset: 0x210,
                length: 0x25
            }
        );
        assert!(h.decode_id(&[0x00, 1, 0, 0, 0, 0, 0], S8).is_err()); // length 0
        assert!(h.decode_id(&[0x40, 0, 0, 0, 0, 1, 0], S8).is_err()); // version 1
        assert!(h.decode_id(&[0x30, 0, 0, 0, 0, 1, 0], S8).is_err()); // type 3
        assert!(h.decode_id(&[0x00, 1, 0], S8).is_err()); // truncated
                                                          // Tiny, normal form: low nibble = length − 1.
        assert_eq!(
            h.decode_id(&[0x22, b'a', b'b', b'c', 0, 0, 0], S8).unwrap(),
            HeapId::Tiny(b"abc")
        );
        assert!(h.decode_id(&[0x2f, 1, 2], S8).is_err());
        // Huge with a 7-byte ID (< 1 + O + L): indirect, the key is the 6 remaining bytes.
        assert_eq!(
            h.decode_id(&[0x10, 5, 1, 0, 0, 0, 0], S8).unwrap(),
            HeapId::HugeIndirect { key: 0x105 }
        );

        // 20-byte IDs: tiny objects use the extended (12-bit) length; huge objects are direct.
        let mut p = link_heap();
        p.id_len = 20;
        let h = parse_header(&p, 0);
        let mut id = vec![0x21, 0x02]; // length − 1 = 0x102 → 259 bytes (needs a longer slice)
        id.extend(std::iter::repeat_n(7u8, 259));
        assert_eq!(h.decode_id(&id, S8).unwrap(), HeapId::Tiny(&id[2..]));
        let mut id = vec![0x10];
        id.extend_from_slice(&0x4000u64.to_le_bytes());
        id.extend_from_slice(&160_000u64.to_le_bytes());
        assert_eq!(
            h.decode_id(&id, S8).unwrap(),
            HeapId::HugeDirect {
                address: 0x4000,
                length: 160_000,
                filter: None
            }
        );
        // Filtered heap with 29-byte IDs: direct huge IDs also carry mask and de-filtered size.
        p.id_len = 29;
        p.filter = Some((0, 0, vec![0; 8]));
        let h = parse_header(&p, 0);
        id.extend_from_slice(&1u32.to_le_bytes());
        id.extend_from_slice(&200_000u64.to_le_bytes());
        assert_eq!(
            h.decode_id(&id, S8).unwrap(),
            HeapId::HugeDirect {
                address: 0x4000,
                length: 160_000,
                filter: Some(HugeFilter {
                    filter_mask: 1,
                    size: 200_000
                })
            }
        );
        // Same ID length, but a filtered heap needs 1 + 8 + 8 + 4 + 8 bytes for direct IDs.
        p.id_len = 20;
        let h = parse_header(&p, 0);
        assert_eq!(
            h.decode_id(&[0x10, 3, 0, 0, 0, 0, 0, 0, 0], S8).unwrap(),
            HeapId::HugeIndirect { key: 3 }
        );
    }

    /// A small synthetic heap: width 2, start 64, max direct 128, 16-bit heap.
    /// Rows 0–1 hold 64-byte blocks, row 2 128-byte blocks (max_direct_rows = 3), row 3 child
    /// indirect blocks of 256 bytes with 2 rows each. The root has 4 rows: 6 direct entries
    /// (entry 1 and 5 unallocated), then 2 indirect entries (the second unallocated).
    fn synthetic_file() -> (Vec<u8>, FractalHeapHeader) {
        let p = Params {
            id_len: 6,
            flags: 2,
            max_managed: 100,
            width: 2,
            start: 64,
            max_direct: 128,
            bits: 16,
            root: 1000,
            root_rows: 4,
            filter: None,
        };
        let heap = 100u64;
        let mut file = vec![0u8; 4000];
        let put = |file: &mut Vec<u8>, at: usize, bytes: &[u8]| {
            file[at..at + bytes.len()].copy_from_slice(bytes)
        };
        put(&mut file, heap as usize, &encode_header(&p));
        const U: u64 = u64::MAX;
        put(
            &mut file,
            1000,
            &encode_indirect(heap, 2, 0, &[1200, U, 1300, 1400, 1500, U, 2000, U]),
        );
        put(
            &mut file,
            2000,
            &encode_indirect(heap, 2, 512, &[2200, 2300, U, 2400]),
        );
        // Direct block prefix: 4 + 1 + 8 + 2 + 4 = 19 bytes.
        let blocks: [(usize, u64, usize, &[u8]); 7] = [
            (1200, 0, 64, b"zero"),
            (1300, 128, 64, b"row one"),
            (1400, 192, 64, b"row one col one"),
            (1500, 256, 128, b"row two"),
            (2200, 512, 64, b"child row zero"),
            (2300, 576, 64, b"child col one"),
            (2400, 704, 64, b"child row one col one"),
        ];
        for (at, off, size, obj) in blocks {
            put(
                &mut file,
                at,
                &encode_direct(heap, 2, off, size, &[(20, obj)]),
            );
        }
        let h = FractalHeapHeader::parse(&file[heap as usize..], heap, S8).unwrap();
        (file, h)
    }

    /// Collect all allocated direct blocks, depth first, the way a walker would.
    fn collect(
        file: &[u8],
        h: &FractalHeapHeader,
        iblock: &IndirectBlockRef,
        out: &mut Vec<DirectBlockRef>,
    ) {
        let at = iblock.address as usize;
        let ib = IndirectBlock::parse(&file[at..], iblock.address, S8, h, iblock).unwrap();
        out.extend(ib.allocated_direct().copied());
        for child in ib.allocated_indirect() {
            collect(file, h, child, out);
        }
    }

    fn read_object(file: &[u8], h: &FractalHeapHeader, id: &[u8]) -> Vec<u8> {
        let HeapId::Managed { offset, length } = h.decode_id(id, S8).unwrap() else {
            panic!("not managed")
        };
        let Some(RootBlock::Indirect(mut iref)) = h.root() else {
            panic!("no root")
        };
        loop {
            let ib =
                IndirectBlock::parse(&file[iref.address as usize..], iref.address, S8, h, &iref)
                    .unwrap();
            match ib.child_for(&h.table, offset).unwrap() {
                HeapChild::Indirect(next) => iref = next,
                HeapChild::Direct(d) => {
                    let buf = &file[d.address as usize..];
                    let db = DirectBlock::parse(buf, d.address, S8, h, &d).unwrap();
                    return db.object(buf, offset, length).unwrap().to_vec();
                }
            }
        }
    }

    #[test]
    fn synthetic_heap_blocks_and_objects() {
        let (file, h) = synthetic_file();
        assert_eq!(h.table.max_direct_rows, 3);
        let Some(RootBlock::Indirect(root)) = h.root() else {
            panic!("root is indirect")
        };
        assert_eq!(h.indirect_block_size(S8, 4), 4 + 1 + 8 + 2 + 8 * 8 + 4);
        let mut blocks = Vec::new();
        collect(&file, &h, &root, &mut blocks);
        let found: Vec<_> = blocks
            .iter()
            .map(|b| (b.address, b.heap_offset, b.size))
            .collect();
        assert_eq!(
            found,
            [
                (1200, 0, 64),
                (1300, 128, 64),
                (1400, 192, 64),
                (1500, 256, 128),
                (2200, 512, 64),
                (2300, 576, 64),
                (2400, 704, 64)
            ]
        );
        let root_block = IndirectBlock::parse(&file[1000..], 1000, S8, &h, &root).unwrap();
        assert_eq!(
            root_block.allocated_indirect().copied().collect::<Vec<_>>(),
            [IndirectBlockRef {
                address: 2000,
                heap_offset: 512,
                nrows: 2
            }]
        );
        // Unallocated entries: direct entry 1 (heap 64..128) and the second child (768..1024).
        assert_eq!(root_block.child_for(&h.table, 100), None);
        assert_eq!(root_block.child_for(&h.table, 800), None);
        assert_eq!(root_block.child_for(&h.table, 5000), None);
        // Managed IDs: type byte, 2-byte offset, 1-byte length (min(128 → 1 byte, 100 → 1 byte)).
        let id = |off: u16, len: u8| [0x00, off as u8, (off >> 8) as u8, len, 0, 0];
        assert_eq!(read_object(&file, &h, &id(20, 4)), b"zero");
        assert_eq!(
            read_object(&file, &h, &id(192 + 20, 15)),
            b"row one col one"
        );
        assert_eq!(read_object(&file, &h, &id(256 + 20, 7)), b"row two");
        assert_eq!(
            read_object(&file, &h, &id(704 + 20, 21)),
            b"child row one col one"
        );
    }

    #[test]
    fn block_integrity_checks() {
        let (mut file, h) = synthetic_file();
        let d = DirectBlockRef {
            address: 1300,
            heap_offset: 128,
            size: 64,
            filtered: None,
        };
        let db = DirectBlock::parse(&file[1300..], 1300, S8, &h, &d).unwrap();
        assert_eq!(db.prefix_size, 19);
        // Objects may not overlap the prefix or run past the block.
        assert!(db.object(&file[1300..], 128 + 10, 4).is_err());
        assert!(db.object(&file[1300..], 128 + 60, 8).is_err());
        assert!(db.object(&file[1300..], 100, 8).is_err());
        // Wrong expected offset, short buffer, corrupt data.
        let wrong = DirectBlockRef {
            heap_offset: 192,
            ..d
        };
        assert!(matches!(
            DirectBlock::parse(&file[1300..], 1300, S8, &h, &wrong),
            Err(FormatError::Invalid { .. })
        ));
        assert!(matches!(
            DirectBlock::parse(&file[1300..1340], 1300, S8, &h, &d),
            Err(FormatError::Incomplete { needed: 64, .. })
        ));
        file[1300 + 30] ^= 1;
        assert!(matches!(
            DirectBlock::parse(&file[1300..], 1300, S8, &h, &d),
            Err(FormatError::Checksum { .. })
        ));
        // An indirect block of another heap is rejected.
        let other = FractalHeapHeader {
            address: 7,
            ..h.clone()
        };
        let root = IndirectBlockRef {
            address: 1000,
            heap_offset: 0,
            nrows: 4,
        };
        assert!(matches!(
            IndirectBlock::parse(&file[1000..], 1000, S8, &other, &root),
            Err(FormatError::Invalid { .. })
        ));
        let too_many = IndirectBlockRef { nrows: 40, ..root };
        assert!(IndirectBlock::parse(&file[1000..], 1000, S8, &h, &too_many).is_err());
    }
}
