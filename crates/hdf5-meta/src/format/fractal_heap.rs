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
use crate::format::checksum::{lookup3, verify};
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
            bad(format!("starting block size {starting_block_size} is not a power of two"))
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
        (direct_rows.saturating_mul(width), indirect_rows.saturating_mul(width))
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
            Some(HeapFilterInfo { filtered_root_size, root_filter_mask, pipeline })
        } else {
            None
        };
        let checksum_pos = c.pos();
        verify(HEADER, address, buf, checksum_pos)?;
        let table =
            DoublingTable::new(width, starting_block_size, max_direct_block_size, max_heap_size_bits, address)?;
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
        let needed = if self.is_filtered() { o + l + 4 + l } else { o + l };
        usize::from(self.heap_id_len) > needed
    }

    /// Size of a direct block's prefix (signature … checksum), before object data.
    pub fn direct_block_prefix_size(&self, sizes: Sizes) -> usize {
        4 + 1
            + usize::from(sizes.offset)
            + self.table.heap_offset_size()
            + if self.checksummed_direct_blocks() { 4 } else { 0 }
    }

    /// Encoded size of an indirect block with `nrows` rows (fetch this many bytes).
    pub fn indirect_block_size(&self, sizes: Sizes, nrows: u32) -> usize {
        let o = usize::from(sizes.offset);
        let direct_entry = if self.is_filtered() { o + usize::from(sizes.length) + 4 } else { o };
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
                    let address = c.offset()?.ok_or_else(|| c.invalid("undefined huge object address"))?;
                    let length = c.length()?;
                    let filter = if self.is_filtered() {
                        let filter_mask = c.u32()?;
                        let size = c.length()?;
                        Some(HugeFilter { filter_mask, size })
                    } else {
                        None
                    };
                    Ok(HeapId::HugeDirect { address, length, filter })
                } else {
                    let width = usize::from(self.heap_id_len).saturating_sub(1).min(8);
                    Ok(HeapId::HugeIndirect { key: c.uint(width)? })
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
                    Some(DirectBlockRef { address: child, heap_offset, size, filtered })
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
                    let nrows = table
                        .indirect_block_rows(size)
                        .ok_or_else(|| c.invalid(format!("no row count for a {size}-byte child")))?;
                    Some(IndirectBlockRef { address: child, heap_offset, nrows })
                }
                None => None,
            });
        }
        let checksum_pos = c.pos();
        verify(INDIRECT, address, buf, checksum_pos)?;
        Ok(Self { address, block_offset, nrows: block.nrows, direct, indirect, encoded_size: size })
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
            self.direct.get(slot.entry).copied().flatten().map(HeapChild::Direct)
        } else {
            let i = slot.entry.checked_sub(self.direct.len())?;
            self.indirect.get(i).copied().flatten().map(HeapChild::Indirect)
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
        let size = usize::try_from(block.size).map_err(|_| c.invalid("block size exceeds memory"))?;
        let prefix_size = heap.direct_block_prefix_size(sizes);
        if size < prefix_size {
            return Err(c.invalid(format!("block size {size} below the {prefix_size}-byte prefix")));
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
            if computed != stored {
                return Err(FormatError::Checksum { structure: DIRECT, offset: address, stored, computed });
            }
        }
        Ok(Self { address, heap_offset: block.heap_offset, size: block.size, prefix_size })
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
        let (start, end) = (usize::try_from(start).map_err(|_| bad())?, usize::try_from(end).map_err(|_| bad())?);
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
