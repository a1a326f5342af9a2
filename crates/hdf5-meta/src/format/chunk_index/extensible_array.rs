//! Extensible-array chunk index (layout index type 4): header `EAHD`, index block `EAIB`,
//! super blocks `EASB` and data blocks `EADB` (possibly paged), plus the array geometry.
//!
//! Slots (one per chunk, numbered over the swizzled grid, see
//! [`GridNumbering::extensible`](super::GridNumbering::extensible)) are laid out as: the first
//! `index_block_elements` slots inside the index block; then super block *u* = 0, 1, 2, …
//! covering `2^⌊u/2⌋` data blocks of `data_block_min_elements · 2^⌈u/2⌉` slots each. The data
//! blocks of the first `2·log2(super_block_min_data_pointers)` super blocks are pointed to
//! directly by the index block; later super blocks exist on disk (`EASB`) and point to their
//! data blocks. Data blocks with more than `2^max_data_block_page_bits` elements are paged; the
//! super block then holds one MSB-first page-initialisation bit string across all its data
//! blocks (bit = data block · pages per block + page).
//!
//! Walker recipe: [`ExtensibleArrayHeader::parse`] → [`ExtensibleArrayHeader::geometry`] →
//! [`ExtensibleArrayIndexBlock::parse`] (fetch [`EaGeometry::index_block_size`] bytes) → for each
//! [`EaGeometry::data_blocks`] slot whose `first_index` is below the header's
//! `max_index_set`: resolve its address (index block, or a super block parsed with
//! [`ExtensibleArraySuperBlock::parse`]), then [`ExtensibleArrayDataBlock::parse`] and, when
//! paged, [`parse_data_block_page`] for each initialised page.

use super::{msb_bit, pow2, ChunkEntry, EntryFormat};
use crate::error::{FormatError, Result};
use crate::format::checksum;
use crate::format::cursor::{Cursor, Sizes};

const HEADER: &str = "extensible array header";
const INDEX_BLOCK: &str = "extensible array index block";
const SUPER_BLOCK: &str = "extensible array super block";
const DATA_BLOCK: &str = "extensible array data block";
const PAGE: &str = "extensible array data block page";

/// Signature + version + client ID + checksum, the fixed part of every EA block.
const PREFIX: u64 = 10;

/// The six statistics an extensible-array header stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensibleArrayStatistics {
    /// Number of super blocks created.
    pub super_blocks: u64,
    /// Bytes of all super blocks.
    pub super_blocks_size: u64,
    /// Number of data blocks created.
    pub data_blocks: u64,
    /// Bytes of all data blocks.
    pub data_blocks_size: u64,
    /// One more than the highest slot index ever set: slots at or beyond it are unused.
    pub max_index_set: u64,
    /// Number of slots realised (allocated), not the number of chunks.
    pub elements: u64,
}

/// Creation parameters of an extensible array (stored both in the layout message and the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensibleArrayParams {
    /// Bits needed for the maximum number of elements (default 32).
    pub max_elements_bits: u8,
    /// Elements stored in the index block itself (default 4).
    pub index_block_elements: u8,
    /// Minimum elements per data block (default 16; a power of two).
    pub data_block_min_elements: u8,
    /// Minimum data-block pointers per super block (default 4; a power of two).
    pub super_block_min_data_pointers: u8,
    /// log2 of the elements per data-block page (default 10).
    pub max_data_block_page_bits: u8,
}

/// An extensible-array header (`EAHD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensibleArrayHeader {
    /// File address of the header (stored in every block, checked when parsing them).
    pub address: u64,
    /// Client ID: 0 = unfiltered chunks, 1 = filtered chunks.
    pub client: u8,
    /// How elements are encoded (element size and filtered-size width).
    pub entry_format: EntryFormat,
    /// Creation parameters.
    pub params: ExtensibleArrayParams,
    /// Stored statistics.
    pub stats: ExtensibleArrayStatistics,
    /// Address of the index block; `None` when no chunk has been written.
    pub index_block_address: Option<u64>,
}

impl ExtensibleArrayHeader {
    /// Encoded size of a header for these address sizes.
    pub fn size(sizes: Sizes) -> usize {
        16 + 6 * usize::from(sizes.length) + usize::from(sizes.offset)
    }

    /// Decode an extensible-array header at `address`, verifying its checksum.
    pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<Self> {
        let mut c = Cursor::new(buf, address, sizes, HEADER);
        c.require(Self::size(sizes))?;
        c.signature(b"EAHD")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.bad_version(version));
        }
        let client = c.u8()?;
        let element_size = c.u8()?;
        let params = ExtensibleArrayParams {
            max_elements_bits: c.u8()?,
            index_block_elements: c.u8()?,
            data_block_min_elements: c.u8()?,
            super_block_min_data_pointers: c.u8()?,
            max_data_block_page_bits: c.u8()?,
        };
        let stats = ExtensibleArrayStatistics {
            super_blocks: c.length()?,
            super_blocks_size: c.length()?,
            data_blocks: c.length()?,
            data_blocks_size: c.length()?,
            max_index_set: c.length()?,
            elements: c.length()?,
        };
        let index_block_address = c.offset()?;
        checksum::verify(HEADER, address, buf, c.pos())?;
        let entry_format = EntryFormat::new(client, element_size, sizes, HEADER, address)?;
        let header = Self {
            address,
            client,
            entry_format,
            params,
            stats,
            index_block_address,
        };
        header.geometry(sizes)?;
        Ok(header)
    }

    /// The array geometry implied by the header's parameters.
    pub fn geometry(&self, sizes: Sizes) -> Result<EaGeometry> {
        EaGeometry::new(
            &self.params,
            self.entry_format,
            self.client,
            self.address,
            sizes,
        )
    }
}

/// Shape of super block *u*.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuperBlockInfo {
    /// Data blocks in this super block (`2^⌊u/2⌋`).
    pub data_blocks: u64,
    /// Elements per data block (`data_block_min_elements · 2^⌈u/2⌉`).
    pub data_block_elements: u64,
    /// First slot of the super block, counted after the index-block elements.
    pub start_index: u64,
    /// Number of data blocks in all earlier super blocks.
    pub start_data_block: u64,
}

/// Derived layout of an extensible array: super-block shapes and block sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EaGeometry {
    /// Address of the header the blocks must point back to.
    pub header_address: u64,
    /// Client ID blocks must carry.
    pub client: u8,
    /// Element encoding.
    pub entry_format: EntryFormat,
    /// Address sizes.
    pub sizes: Sizes,
    /// One entry per possible super block (`1 + max_bits − log2(data_block_min_elements)`).
    pub super_blocks: Vec<SuperBlockInfo>,
    /// Width in bytes of the "block offset" field of super and data blocks (`⌈max_bits/8⌉`).
    pub block_offset_size: usize,
    /// Elements stored in the index block.
    pub index_block_elements: u64,
    /// Super blocks whose data blocks the index block points to directly
    /// (`2·log2(super_block_min_data_pointers)`).
    pub index_block_super_blocks: usize,
    /// Data-block addresses in the index block (`2·(super_block_min_data_pointers − 1)`).
    pub index_block_data_blocks: usize,
    /// Super-block addresses in the index block.
    pub index_block_super_block_addresses: usize,
    /// Elements per data-block page.
    pub page_elements: u64,
}

/// Where slot *i* of an extensible array lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EaLocation {
    /// In the index block's own elements, at `element`.
    IndexBlock {
        /// Position among the index block's elements.
        element: u64,
    },
    /// In a data block whose address the index block holds.
    IndexBlockDataBlock {
        /// Super block number *u*.
        super_block: usize,
        /// Position among the index block's data-block addresses.
        slot: usize,
        /// Element within the data block.
        element: u64,
    },
    /// In a data block of an on-disk super block.
    SuperBlock {
        /// Super block number *u*.
        super_block: usize,
        /// Position among the index block's super-block addresses.
        slot: usize,
        /// Data block within the super block.
        data_block: u64,
        /// Element within the data block.
        element: u64,
        /// Page, when the data block is paged.
        page: Option<EaPage>,
    },
}

/// Position of an element inside a paged data block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EaPage {
    /// Page within the data block.
    pub page: u64,
    /// Bit of the super block's page-initialisation bit string for this page.
    pub init_bit: u64,
    /// Element within the page.
    pub element: u64,
}

/// Who holds a data block's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataBlockParent {
    /// The index block, at this position of its data-block addresses.
    IndexBlock {
        /// Position among the index block's data-block addresses.
        slot: usize,
    },
    /// A super block, itself at position `slot` of the index block's super-block addresses.
    SuperBlock {
        /// Position among the index block's super-block addresses.
        slot: usize,
        /// Data block within the super block.
        data_block: u64,
    },
}

/// One data block of an extensible array, as enumerated by [`EaGeometry::data_blocks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataBlockSlot {
    /// Super block number *u*.
    pub super_block: usize,
    /// Where the data block's address is stored.
    pub parent: DataBlockParent,
    /// Array slot of the data block's first element (index-block elements included).
    pub first_index: u64,
    /// Elements in the data block.
    pub elements: u64,
}

/// Exact log2 of a power of two, `None` otherwise.
fn exact_log2(v: u8) -> Option<u32> {
    v.is_power_of_two().then(|| v.trailing_zeros())
}

impl EaGeometry {
    /// Compute the geometry of an array with parameters `p`; errors name the header at
    /// `header_address`.
    pub fn new(
        p: &ExtensibleArrayParams,
        entry_format: EntryFormat,
        client: u8,
        header_address: u64,
        sizes: Sizes,
    ) -> Result<Self> {
        let invalid = |reason: String| FormatError::invalid(HEADER, header_address, reason);
        let max_bits = u32::from(p.max_elements_bits);
        if max_bits == 0 || max_bits > 64 {
            return Err(invalid(format!("max elements bits {max_bits}")));
        }
        let min_log = exact_log2(p.data_block_min_elements)
            .filter(|&l| l <= max_bits)
            .ok_or_else(|| {
                invalid(format!(
                    "data block min elements {}",
                    p.data_block_min_elements
                ))
            })?;
        let ptr_log = exact_log2(p.super_block_min_data_pointers).ok_or_else(|| {
            invalid(format!(
                "super block min data pointers {}",
                p.super_block_min_data_pointers
            ))
        })?;
        let page_elements = pow2(p.max_data_block_page_bits)
            .ok_or_else(|| invalid(format!("page bits {}", p.max_data_block_page_bits)))?;
        let nsblks = 1 + max_bits - min_log;
        let min = u64::from(p.data_block_min_elements);
        let mut super_blocks = Vec::with_capacity(nsblks as usize);
        let (mut start_index, mut start_data_block) = (0u64, 0u64);
        for u in 0..nsblks {
            // Both exponents are ≤ 32 (u ≤ 64), so the shifts cannot overflow; the element
            // count saturates only for absurd parameters whose later slots are unreachable.
            let data_blocks = 1u64 << (u / 2);
            let data_block_elements = min.saturating_mul(1u64 << u.div_ceil(2));
            super_blocks.push(SuperBlockInfo {
                data_blocks,
                data_block_elements,
                start_index,
                start_data_block,
            });
            start_index =
                start_index.saturating_add(data_blocks.saturating_mul(data_block_elements));
            start_data_block = start_data_block.saturating_add(data_blocks);
        }
        let index_block_super_blocks = 2 * ptr_log as usize;
        let index_block_super_block_addresses = super_blocks
            .len()
            .checked_sub(index_block_super_blocks)
            .ok_or_else(|| {
                invalid(format!(
                    "{index_block_super_blocks} index-block super blocks exceed {nsblks}"
                ))
            })?;
        let index_block_data_blocks = 2 * (usize::from(p.super_block_min_data_pointers) - 1);
        // The library never pages data blocks that hang directly off the index block.
        if super_blocks
            .iter()
            .take(index_block_super_blocks)
            .any(|s| s.data_block_elements > page_elements)
        {
            return Err(FormatError::unsupported(
                HEADER,
                header_address,
                "paged data blocks under the index block",
            ));
        }
        Ok(Self {
            header_address,
            client,
            entry_format,
            sizes,
            super_blocks,
            block_offset_size: max_bits.div_ceil(8) as usize,
            index_block_elements: u64::from(p.index_block_elements),
            index_block_super_blocks,
            index_block_data_blocks,
            index_block_super_block_addresses,
            page_elements,
        })
    }

    fn element_size(&self) -> u64 {
        self.entry_format.element_size as u64
    }

    fn offset_size(&self) -> u64 {
        u64::from(self.sizes.offset)
    }

    /// Bytes of the index block.
    pub fn index_block_size(&self) -> u64 {
        // At most 255 elements of ≤ 255 bytes and ≤ 65 + 254 addresses: no overflow.
        let addrs = (self.index_block_data_blocks + self.index_block_super_block_addresses) as u64;
        PREFIX
            + self.offset_size()
            + self.index_block_elements * self.element_size()
            + addrs * self.offset_size()
    }

    /// Pages per data block of super block `u` (0 when its data blocks are not paged).
    pub fn pages_per_data_block(&self, u: usize) -> u64 {
        self.super_blocks
            .get(u)
            .map(|s| {
                if s.data_block_elements > self.page_elements {
                    s.data_block_elements / self.page_elements
                } else {
                    0
                }
            })
            .unwrap_or(0)
    }

    /// Bytes of the page-initialisation bitmap of super block `u` (0 when unpaged).
    pub fn super_block_bitmap_size(&self, u: usize) -> Option<u64> {
        let per_block = self.pages_per_data_block(u).div_ceil(8);
        self.super_blocks.get(u)?.data_blocks.checked_mul(per_block)
    }

    /// Bytes of super block `u`; `None` for an unknown super block or on overflow.
    pub fn super_block_size(&self, u: usize) -> Option<u64> {
        let info = self.super_blocks.get(u)?;
        let addrs = info.data_blocks.checked_mul(self.offset_size())?;
        (PREFIX + self.offset_size() + self.block_offset_size as u64)
            .checked_add(self.super_block_bitmap_size(u)?)?
            .checked_add(addrs)
    }

    /// Bytes of a data block's prefix (signature … block offset, plus checksum): the whole
    /// on-disk header of a paged data block, after which its pages start.
    pub fn data_block_prefix_size(&self) -> u64 {
        PREFIX + self.offset_size() + self.block_offset_size as u64
    }

    /// Bytes of one data-block page, checksum included.
    pub fn page_size(&self) -> Option<u64> {
        self.page_elements
            .checked_mul(self.element_size())?
            .checked_add(4)
    }

    /// Pages of a data block of `elements` elements (0 when not paged).
    pub fn data_block_pages(&self, elements: u64) -> u64 {
        if elements > self.page_elements {
            elements.div_ceil(self.page_elements)
        } else {
            0
        }
    }

    /// Bytes [`ExtensibleArrayDataBlock::parse`] needs for a data block of `elements`
    /// elements: the prefix when paged, else the prefix plus the elements.
    pub fn data_block_parse_len(&self, elements: u64) -> Option<u64> {
        if self.data_block_pages(elements) > 0 {
            Some(self.data_block_prefix_size())
        } else {
            elements
                .checked_mul(self.element_size())?
                .checked_add(self.data_block_prefix_size())
        }
    }

    /// Byte range `(offset from the data block address, length)` of `page` in a paged data
    /// block of `elements` elements; `None` past the last page.
    pub fn page_range(&self, elements: u64, page: u64) -> Option<(u64, u64)> {
        if page >= self.data_block_pages(elements) {
            return None;
        }
        let size = self.page_size()?;
        Some((
            self.data_block_prefix_size()
                .checked_add(page.checked_mul(size)?)?,
            size,
        ))
    }

    /// Super block holding slot `index` (which must be past the index-block elements).
    fn super_block_of(&self, index: u64) -> Option<usize> {
        let j = index.checked_sub(self.index_block_elements)?;
        let min = self.super_blocks.first()?.data_block_elements;
        let u = (j / min).checked_add(1)?.ilog2() as usize;
        (u < self.super_blocks.len()).then_some(u)
    }

    /// Where slot `index` lives; `None` beyond the array's capacity.
    pub fn locate(&self, index: u64) -> Option<EaLocation> {
        if index < self.index_block_elements {
            return Some(EaLocation::IndexBlock { element: index });
        }
        let u = self.super_block_of(index)?;
        let info = self.super_blocks.get(u)?;
        let local = index
            .checked_sub(self.index_block_elements)?
            .checked_sub(info.start_index)?;
        let data_block = local / info.data_block_elements;
        let element = local % info.data_block_elements;
        if data_block >= info.data_blocks {
            return None;
        }
        if u < self.index_block_super_blocks {
            let slot = usize::try_from(info.start_data_block.checked_add(data_block)?).ok()?;
            return Some(EaLocation::IndexBlockDataBlock {
                super_block: u,
                slot,
                element,
            });
        }
        let pages = self.pages_per_data_block(u);
        let page = (pages > 0).then(|| EaPage {
            page: element / self.page_elements,
            init_bit: data_block
                .saturating_mul(pages)
                .saturating_add(element / self.page_elements),
            element: element % self.page_elements,
        });
        Some(EaLocation::SuperBlock {
            super_block: u,
            slot: u - self.index_block_super_blocks,
            data_block,
            element,
            page,
        })
    }

    /// All data blocks in slot order (lazily; the sequence is long for large `max_bits`, so
    /// stop once `first_index` reaches the header's `max_index_set`).
    pub fn data_blocks(&self) -> impl Iterator<Item = DataBlockSlot> + '_ {
        (0..self.super_blocks.len()).flat_map(move |u| self.data_blocks_of(u))
    }

    /// First array slot of super block `u` (index-block elements included); `None` for an
    /// unknown `u`.
    pub fn super_block_first_index(&self, u: usize) -> Option<u64> {
        let info = self.super_blocks.get(u)?;
        Some(self.index_block_elements.saturating_add(info.start_index))
    }

    /// The data blocks of super block `u` in slot order (lazily: `2^⌊u/2⌋` of them; empty for
    /// an unknown `u`).
    pub fn data_blocks_of(&self, u: usize) -> impl Iterator<Item = DataBlockSlot> + '_ {
        let base = self.index_block_elements;
        self.super_blocks.get(u).into_iter().flat_map(move |info| {
            (0..info.data_blocks).map(move |d| {
                let parent = if u < self.index_block_super_blocks {
                    DataBlockParent::IndexBlock {
                        slot: info.start_data_block.saturating_add(d) as usize,
                    }
                } else {
                    DataBlockParent::SuperBlock {
                        slot: u - self.index_block_super_blocks,
                        data_block: d,
                    }
                };
                let first_index = base
                    .saturating_add(info.start_index)
                    .saturating_add(d.saturating_mul(info.data_block_elements));
                DataBlockSlot {
                    super_block: u,
                    parent,
                    first_index,
                    elements: info.data_block_elements,
                }
            })
        })
    }
}

/// Read the common block prefix: signature, version, client ID and owning header address.
fn block_prefix(c: &mut Cursor<'_>, signature: &[u8], g: &EaGeometry) -> Result<()> {
    c.signature(signature)?;
    let version = c.u8()?;
    if version != 0 {
        return Err(c.bad_version(version));
    }
    let client = c.u8()?;
    if client != g.client {
        return Err(c.invalid(format!("client ID {client}, header says {}", g.client)));
    }
    let owner = c.offset()?;
    if owner != Some(g.header_address) {
        return Err(c.invalid(format!(
            "header address {owner:?}, expected {}",
            g.header_address
        )));
    }
    Ok(())
}

fn require_len(c: &Cursor<'_>, len: Option<u64>) -> Result<()> {
    let n = len
        .and_then(|l| usize::try_from(l).ok())
        .ok_or_else(|| c.invalid("block size overflows"))?;
    c.require(n)
}

fn read_addresses(c: &mut Cursor<'_>, count: u64) -> Result<Vec<Option<u64>>> {
    let n = usize::try_from(count).map_err(|_| c.invalid("too many addresses"))?;
    c.require(n.saturating_mul(usize::from(c.sizes().offset)))?;
    (0..n).map(|_| c.offset()).collect()
}

/// A decoded extensible-array index block (`EAIB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensibleArrayIndexBlock {
    /// The index block's own elements (slots `0..index_block_elements`).
    pub elements: Vec<ChunkEntry>,
    /// Addresses of the data blocks of the first super blocks (`None` = not allocated).
    pub data_block_addresses: Vec<Option<u64>>,
    /// Addresses of super blocks `index_block_super_blocks..` (`None` = not allocated).
    pub super_block_addresses: Vec<Option<u64>>,
}

impl ExtensibleArrayIndexBlock {
    /// Decode the index block at `address` ([`EaGeometry::index_block_size`] bytes).
    pub fn parse(buf: &[u8], address: u64, g: &EaGeometry) -> Result<Self> {
        let mut c = Cursor::new(buf, address, g.sizes, INDEX_BLOCK);
        require_len(&c, Some(g.index_block_size()))?;
        block_prefix(&mut c, b"EAIB", g)?;
        let elements = g.entry_format.read_many(&mut c, g.index_block_elements)?;
        let data_block_addresses = read_addresses(&mut c, g.index_block_data_blocks as u64)?;
        let super_block_addresses =
            read_addresses(&mut c, g.index_block_super_block_addresses as u64)?;
        checksum::verify(INDEX_BLOCK, address, buf, c.pos())?;
        Ok(Self {
            elements,
            data_block_addresses,
            super_block_addresses,
        })
    }
}

/// A decoded extensible-array super block (`EASB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensibleArraySuperBlock {
    /// Super block number *u* (given by the caller).
    pub index: usize,
    /// Stored block offset (the super block's first slot, counted after the index-block elements).
    pub block_offset: u64,
    /// Page-initialisation bit string (MSB-first) when its data blocks are paged.
    pub page_init: Option<Vec<u8>>,
    /// Pages per data block (0 when not paged).
    pub pages_per_data_block: u64,
    /// Addresses of its data blocks (`None` = not allocated).
    pub data_block_addresses: Vec<Option<u64>>,
}

impl ExtensibleArraySuperBlock {
    /// Decode super block number `u` at `address` ([`EaGeometry::super_block_size`] bytes).
    pub fn parse(buf: &[u8], address: u64, g: &EaGeometry, u: usize) -> Result<Self> {
        let mut c = Cursor::new(buf, address, g.sizes, SUPER_BLOCK);
        let info = *g
            .super_blocks
            .get(u)
            .ok_or_else(|| c.invalid(format!("no super block {u}")))?;
        require_len(&c, g.super_block_size(u))?;
        block_prefix(&mut c, b"EASB", g)?;
        let block_offset = c.uint(g.block_offset_size)?;
        let pages_per_data_block = g.pages_per_data_block(u);
        let page_init = if pages_per_data_block > 0 {
            let len = g
                .super_block_bitmap_size(u)
                .and_then(|l| usize::try_from(l).ok());
            let len = len.ok_or_else(|| c.invalid("bitmap too large"))?;
            Some(c.bytes(len)?.to_vec())
        } else {
            None
        };
        let data_block_addresses = read_addresses(&mut c, info.data_blocks)?;
        checksum::verify(SUPER_BLOCK, address, buf, c.pos())?;
        Ok(Self {
            index: u,
            block_offset,
            page_init,
            pages_per_data_block,
            data_block_addresses,
        })
    }

    /// True when `page` of data block `data_block` was written. Always true for unpaged
    /// super blocks (whose data blocks are read whole).
    pub fn page_initialized(&self, data_block: u64, page: u64) -> bool {
        match &self.page_init {
            None => true,
            Some(bits) => data_block
                .checked_mul(self.pages_per_data_block)
                .and_then(|b| b.checked_add(page))
                .is_some_and(|bit| msb_bit(bits, bit)),
        }
    }
}

/// A decoded extensible-array data block (`EADB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensibleArrayDataBlock {
    /// Stored block offset (informational; for data blocks under the index block the library
    /// stores `start_index(u) + global data block number · elements`, not the first slot).
    pub block_offset: u64,
    /// Elements when not paged; empty when paged.
    pub elements: Vec<ChunkEntry>,
    /// Number of pages following the prefix (0 when not paged).
    pub pages: u64,
}

impl ExtensibleArrayDataBlock {
    /// Decode a data block of `elements` elements at `address`
    /// ([`EaGeometry::data_block_parse_len`] bytes).
    pub fn parse(buf: &[u8], address: u64, g: &EaGeometry, elements: u64) -> Result<Self> {
        let mut c = Cursor::new(buf, address, g.sizes, DATA_BLOCK);
        require_len(&c, g.data_block_parse_len(elements))?;
        block_prefix(&mut c, b"EADB", g)?;
        let block_offset = c.uint(g.block_offset_size)?;
        let pages = g.data_block_pages(elements);
        let elements = if pages > 0 {
            Vec::new()
        } else {
            g.entry_format.read_many(&mut c, elements)?
        };
        checksum::verify(DATA_BLOCK, address, buf, c.pos())?;
        Ok(Self {
            block_offset,
            elements,
            pages,
        })
    }
}

/// Decode one data-block page (`page_elements` elements + checksum) at `address`, i.e. the
/// data block address plus the offset from [`EaGeometry::page_range`].
pub fn parse_data_block_page(buf: &[u8], address: u64, g: &EaGeometry) -> Result<Vec<ChunkEntry>> {
    let mut c = Cursor::new(buf, address, g.sizes, PAGE);
    let entries = g.entry_format.read_many(&mut c, g.page_elements)?;
    checksum::verify(PAGE, address, buf, c.pos())?;
    Ok(entries)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::format::checksum::lookup3;
    use proptest::prelude::*;

    const S: Sizes = Sizes::DEFAULT;

    /// Append the lookup3 checksum of everything so far.
    fn seal(mut v: Vec<u8>) -> Vec<u8> {
        let sum = lookup3(&v, 0);
        v.extend_from_slice(&sum.to_le_bytes());
        v
    }

    /// Small parameters: max bits 8, 2 index-block elements, data blocks of ≥ 2 elements,
    /// super blocks with ≥ 2 data-block pointers, pages of 4 elements.
    fn small() -> ExtensibleArrayParams {
        ExtensibleArrayParams {
            max_elements_bits: 8,
            index_block_elements: 2,
            data_block_min_elements: 2,
            super_block_min_data_pointers: 2,
            max_data_block_page_bits: 2,
        }
    }

    fn header_bytes(
        client: u8,
        esize: u8,
        p: &ExtensibleArrayParams,
        stats: [u64; 6],
        iblock: u64,
    ) -> Vec<u8> {
        let mut v = b"EAHD".to_vec();
        v.extend_from_slice(&[
            0,
            client,
            esize,
            p.max_elements_bits,
            p.index_block_elements,
            p.data_block_min_elements,
            p.super_block_min_data_pointers,
            p.max_data_block_page_bits,
        ]);
        for s in stats {
            v.extend_from_slice(&s.to_le_bytes());
        }
        v.extend_from_slice(&iblock.to_le_bytes());
        seal(v)
    }

    fn prefix(sig: &[u8], client: u8, header: u64) -> Vec<u8> {
        let mut v = sig.to_vec();
        v.extend_from_slice(&[0, client]);
        v.extend_from_slice(&header.to_le_bytes());
        v
    }

    fn addr(a: Option<u64>) -> [u8; 8] {
        a.unwrap_or(u64::MAX).to_le_bytes()
    }

    fn geometry() -> EaGeometry {
        let f = EntryFormat {
            element_size: 8,
            size_width: None,
        };
        EaGeometry::new(&small(), f, 0, 100, S).unwrap()
    }

    #[test]
    fn header_and_geometry() {
        let hdr = header_bytes(0, 8, &small(), [1, 2, 3, 4, 31, 6], 700);
        assert_eq!(hdr.len(), ExtensibleArrayHeader::size(S));
        let h = ExtensibleArrayHeader::parse(&hdr, 100, S).unwrap();
        assert_eq!(h.params, small());
        assert_eq!(h.stats.max_index_set, 31);
        assert_eq!(h.stats.elements, 6);
        assert_eq!(h.index_block_address, Some(700));
        let g = h.geometry(S).unwrap();
        assert_eq!(g, geometry());
        // nsblks = 1 + 8 − log2(2) = 8; super block u: 2^⌊u/2⌋ blocks of 2·2^⌈u/2⌉ elements.
        let shapes: Vec<_> = g
            .super_blocks
            .iter()
            .map(|s| (s.data_blocks, s.data_block_elements, s.start_index))
            .collect();
        assert_eq!(
            shapes,
            [
                (1, 2, 0),
                (1, 4, 2),
                (2, 4, 6),
                (2, 8, 14),
                (4, 8, 30),
                (4, 16, 62),
                (8, 16, 126),
                (8, 32, 254)
            ]
        );
        assert_eq!(
            (
                g.index_block_super_blocks,
                g.index_block_data_blocks,
                g.index_block_super_block_addresses
            ),
            (2, 2, 6)
        );
        assert_eq!(g.block_offset_size, 1);
        // 10 + 8 (header address) + 2 × 8 elements + (2 + 6) × 8 addresses.
        assert_eq!(g.index_block_size(), 10 + 8 + 16 + 64);
        // Super block 2: unpaged, 2 data blocks: 10 + 8 + 1 + 2 × 8.
        assert_eq!(g.super_block_size(2), Some(35));
        // Super block 3: 2 pages per data block → 1 bitmap byte per data block.
        assert_eq!(
            (g.pages_per_data_block(3), g.super_block_bitmap_size(3)),
            (2, Some(2))
        );
        assert_eq!(g.super_block_size(3), Some(35 + 2));
        // Super block 7: 8 pages per data block, 8 data blocks → 8 bitmap bytes.
        assert_eq!(g.super_block_size(7), Some(10 + 8 + 1 + 8 + 64));
        assert_eq!(g.super_block_size(8), None);
        assert_eq!(g.data_block_prefix_size(), 19);
        assert_eq!(g.data_block_parse_len(4), Some(19 + 32));
        assert_eq!(g.data_block_parse_len(8), Some(19));
        assert_eq!(g.page_range(8, 1), Some((19 + 36, 36)));
        assert_eq!(g.page_range(8, 2), None);
        assert_eq!(g.page_range(4, 0), None);
    }

    #[test]
    fn header_errors() {
        let mut hdr = header_bytes(0, 8, &small(), [0; 6], 700);
        hdr[6] = 9;
        assert!(matches!(
            ExtensibleArrayHeader::parse(&hdr, 100, S),
            Err(FormatError::Checksum { .. })
        ));
        for bad in [
            ExtensibleArrayParams {
                max_elements_bits: 0,
                ..small()
            },
            ExtensibleArrayParams {
                max_elements_bits: 65,
                ..small()
            },
            ExtensibleArrayParams {
                data_block_min_elements: 3,
                ..small()
            },
            ExtensibleArrayParams {
                data_block_min_elements: 0,
                ..small()
            },
            ExtensibleArrayParams {
                max_elements_bits: 1,
                data_block_min_elements: 4,
                ..small()
            },
            ExtensibleArrayParams {
                super_block_min_data_pointers: 6,
                ..small()
            },
            ExtensibleArrayParams {
                super_block_min_data_pointers: 128,
                ..small()
            },
            ExtensibleArrayParams {
                max_data_block_page_bits: 64,
                ..small()
            },
            // Paging would start under the index block.
            ExtensibleArrayParams {
                max_data_block_page_bits: 1,
                ..small()
            },
        ] {
            let hdr = header_bytes(0, 8, &bad, [0; 6], 700);
            assert!(
                ExtensibleArrayHeader::parse(&hdr, 100, S).is_err(),
                "{bad:?}"
            );
        }
        // Extreme but legal parameters: 64 max bits, minimum 1 element — geometry saturates.
        let wide = ExtensibleArrayParams {
            max_elements_bits: 64,
            data_block_min_elements: 1,
            ..small()
        };
        let hdr = header_bytes(0, 8, &wide, [0; 6], 700);
        let g = ExtensibleArrayHeader::parse(&hdr, 100, S)
            .unwrap()
            .geometry(S)
            .unwrap();
        assert_eq!(g.super_blocks.len(), 65);
        assert_eq!(g.block_offset_size, 8);
        let _ = g.locate(u64::MAX);
        let _ = g.super_block_size(64);
    }

    #[test]
    fn locate_slots() {
        let g = geometry();
        assert_eq!(g.locate(1), Some(EaLocation::IndexBlock { element: 1 }));
        // Slot 2 → j 0 → super block 0, its only data block (index-block slot 0).
        assert_eq!(
            g.locate(2),
            Some(EaLocation::IndexBlockDataBlock {
                super_block: 0,
                slot: 0,
                element: 0
            })
        );
        // Slot 5 → j 3 → super block 1 (start 2), element 1 of index-block data block slot 1.
        assert_eq!(
            g.locate(5),
            Some(EaLocation::IndexBlockDataBlock {
                super_block: 1,
                slot: 1,
                element: 1
            })
        );
        // Slot 8 → j 6 → super block 2 (first on-disk super block), data block 0.
        assert_eq!(
            g.locate(8),
            Some(EaLocation::SuperBlock {
                super_block: 2,
                slot: 0,
                data_block: 0,
                element: 0,
                page: None
            })
        );
        // Slot 30 → j 28 → super block 3 (start 14): local 14 → data block 1, element 6 → page 1
        // (4 elements per page), bit 1·2 + 1 = 3, element 2 of the page.
        assert_eq!(
            g.locate(30),
            Some(EaLocation::SuperBlock {
                super_block: 3,
                slot: 1,
                data_block: 1,
                element: 6,
                page: Some(EaPage {
                    page: 1,
                    init_bit: 3,
                    element: 2
                }),
            })
        );
        // Capacity = 2 + 510.
        assert!(g.locate(511).is_some());
        assert_eq!(g.locate(512), None);
    }

    #[test]
    fn data_block_enumeration_matches_locate() {
        let g = geometry();
        let blocks: Vec<_> = g.data_blocks().collect();
        assert_eq!(blocks.len(), 1 + 1 + 2 + 2 + 4 + 4 + 8 + 8);
        assert_eq!(blocks[0].first_index, 2);
        assert_eq!(
            blocks[2].parent,
            DataBlockParent::SuperBlock {
                slot: 0,
                data_block: 0
            }
        );
        let mut next = 2;
        for b in &blocks {
            assert_eq!(b.first_index, next);
            next += b.elements;
            let last = g.locate(b.first_index + b.elements - 1).unwrap();
            match (b.parent, last) {
                (
                    DataBlockParent::IndexBlock { slot },
                    EaLocation::IndexBlockDataBlock {
                        slot: s, element, ..
                    },
                ) => {
                    assert_eq!((slot, element), (s, b.elements - 1));
                }
                (
                    DataBlockParent::SuperBlock { slot, data_block },
                    EaLocation::SuperBlock {
                        slot: s,
                        data_block: d,
                        element,
                        ..
                    },
                ) => assert_eq!((slot, data_block, element), (s, d, b.elements - 1)),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(next, 512);
    }

    #[test]
    fn index_super_and_data_blocks() {
        let g = geometry();
        // Index block: 2 elements, 2 data-block addresses, 6 super-block addresses.
        let mut ib = prefix(b"EAIB", 0, 100);
        for a in [
            Some(5000),
            None,
            Some(6000),
            None,
            Some(7000),
            Some(8000),
            None,
            None,
            None,
            None,
        ] {
            ib.extend_from_slice(&addr(a));
        }
        let ib = seal(ib);
        assert_eq!(ib.len() as u64, g.index_block_size());
        let b = ExtensibleArrayIndexBlock::parse(&ib, 700, &g).unwrap();
        assert_eq!(
            b.elements.iter().map(|e| e.address).collect::<Vec<_>>(),
            [Some(5000), None]
        );
        assert_eq!(b.data_block_addresses, [Some(6000), None]);
        assert_eq!(
            b.super_block_addresses,
            [Some(7000), Some(8000), None, None, None, None]
        );
        assert!(matches!(
            ExtensibleArrayIndexBlock::parse(&ib[..40], 700, &g),
            Err(FormatError::Incomplete { needed: 98, .. })
        ));
        let wrong_owner = EaGeometry {
            header_address: 99,
            ..g.clone()
        };
        assert!(ExtensibleArrayIndexBlock::parse(&ib, 700, &wrong_owner).is_err());
        let wrong_client = EaGeometry {
            client: 1,
            ..g.clone()
        };
        assert!(ExtensibleArrayIndexBlock::parse(&ib, 700, &wrong_client).is_err());

        // Super block 3 (paged, 2 data blocks × 2 pages): block offset 14 and a 2-byte bitmap read
        // as one MSB-first bit string: 0b0101_0000 sets bits 1 (data block 0, page 1) and 3
        // (data block 1, page 1).
        let mut sb = prefix(b"EASB", 0, 100);
        sb.push(14);
        sb.extend_from_slice(&[0b0101_0000, 0]);
        sb.extend_from_slice(&addr(Some(9000)));
        sb.extend_from_slice(&addr(None));
        let sb = seal(sb);
        let s = ExtensibleArraySuperBlock::parse(&sb, 8000, &g, 3).unwrap();
        assert_eq!(s.block_offset, 14);
        assert_eq!(s.data_block_addresses, [Some(9000), None]);
        let init: Vec<_> = (0..2)
            .flat_map(|d| (0..2).map(move |p| (d, p)))
            .filter(|&(d, p)| s.page_initialized(d, p))
            .collect();
        assert_eq!(init, [(0, 1), (1, 1)]);
        assert!(ExtensibleArraySuperBlock::parse(&sb, 8000, &g, 9).is_err());

        // Unpaged super block 2: no bitmap; every page counts as initialised.
        let mut sb2 = prefix(b"EASB", 0, 100);
        sb2.push(6);
        sb2.extend_from_slice(&addr(Some(1)));
        sb2.extend_from_slice(&addr(Some(2)));
        let sb2 = seal(sb2);
        let s2 = ExtensibleArraySuperBlock::parse(&sb2, 7000, &g, 2).unwrap();
        assert_eq!(
            (s2.page_init.clone(), s2.page_initialized(1, 0)),
            (None, true)
        );

        // Unpaged data block of 4 elements.
        let mut db = prefix(b"EADB", 0, 100);
        db.push(2);
        for a in [Some(10), None, Some(30), None] {
            db.extend_from_slice(&addr(a));
        }
        let db = seal(db);
        let d = ExtensibleArrayDataBlock::parse(&db, 6000, &g, 4).unwrap();
        assert_eq!((d.block_offset, d.pages), (2, 0));
        assert_eq!(
            d.elements.iter().map(|e| e.address).collect::<Vec<_>>(),
            [Some(10), None, Some(30), None]
        );
        let mut bad = db.clone();
        bad[20] ^= 0xff;
        assert!(matches!(
            ExtensibleArrayDataBlock::parse(&bad, 6000, &g, 4),
            Err(FormatError::Checksum { .. })
        ));

        // Paged data block of 8 elements: prefix with its own checksum, then 2 pages.
        let mut pdb = prefix(b"EADB", 0, 100);
        pdb.push(14);
        let pdb = seal(pdb);
        let d = ExtensibleArrayDataBlock::parse(&pdb, 9000, &g, 8).unwrap();
        assert_eq!((d.pages, d.elements.len()), (2, 0));
        let mut page = Vec::new();
        for a in [None, Some(44), None, None] {
            page.extend_from_slice(&addr(a));
        }
        let page = seal(page);
        let e = parse_data_block_page(&page, 9000 + 19 + 36, &g).unwrap();
        assert_eq!(e[1].address, Some(44));
    }

    #[test]
    fn filtered_elements() {
        // Layout v4 style 2-byte size field: 8 + 2 + 4 = 14 bytes per element.
        let f = EntryFormat::new(1, 14, S, "t", 0).unwrap();
        let g = EaGeometry::new(&small(), f, 1, 100, S).unwrap();
        let mut ib = prefix(b"EAIB", 1, 100);
        for (a, size, mask) in [(5000u64, 0x1234u16, 0u32), (u64::MAX, 0, 0)] {
            ib.extend_from_slice(&a.to_le_bytes());
            ib.extend_from_slice(&size.to_le_bytes());
            ib.extend_from_slice(&mask.to_le_bytes());
        }
        for _ in 0..8 {
            ib.extend_from_slice(&addr(None));
        }
        let ib = seal(ib);
        let b = ExtensibleArrayIndexBlock::parse(&ib, 700, &g).unwrap();
        assert_eq!(
            b.elements[0],
            ChunkEntry {
                address: Some(5000),
                filtered_size: Some(0x1234),
                filter_mask: 0
            }
        );
        assert_eq!(b.elements[1].address, None);
    }

    proptest! {
        #[test]
        fn locate_is_consistent_with_enumeration(index in 0u64..512) {
            let g = geometry();
            let loc = g.locate(index).unwrap();
            let rebuilt = match loc {
                EaLocation::IndexBlock { element } => element,
                EaLocation::IndexBlockDataBlock { slot, element, .. } => {
                    let b = g.data_blocks().find(|b| b.parent == DataBlockParent::IndexBlock { slot }).unwrap();
                    b.first_index + element
                }
                EaLocation::SuperBlock { slot, data_block, element, page, .. } => {
                    let b = g
                        .data_blocks()
                        .find(|b| b.parent == DataBlockParent::SuperBlock { slot, data_block })
                        .unwrap();
                    if let Some(p) = page {
                        prop_assert_eq!(p.page * 4 + p.element, element);
                        prop_assert_eq!(p.init_bit, data_block * g.pages_per_data_block(slot + 2) + p.page);
                    }
                    b.first_index + element
                }
            };
            prop_assert_eq!(rebuilt, index);
        }
    }
}
