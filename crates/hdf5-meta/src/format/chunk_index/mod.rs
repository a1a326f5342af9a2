//! Chunk indexes of data layout v4/v5 (fixed array, extensible array, implicit, single chunk)
//! and the chunk-grid arithmetic that turns index slots into chunk coordinates.
//!
//! Slot numbering (see the project's HDF5 notes, §0 items 4 and 5):
//! - **Fixed array** and **implicit** indexes number chunks in C order over the chunk grid of
//!   the dataset's *maximum* dimensions ([`GridNumbering::max_grid`]).
//! - **Extensible array** numbers chunks over a "swizzled" grid: the single unlimited dimension
//!   is moved to the slowest-varying position, the other dimensions keep their order and use
//!   their maximum extent ([`GridNumbering::extensible`]).
//!
//! Chunk coordinates here are always *scaled* (chunk units, not element offsets), and
//! `chunk_dims` means the dataset's chunk shape without the trailing element-size dimension of
//! the layout message. Maximum dimensions use `u64::MAX` for "unlimited".

pub mod extensible_array;
pub mod fixed_array;
pub mod implicit;
pub mod single_chunk;

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

/// One chunk as recorded by a chunk index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkEntry {
    /// Base-relative address of the stored chunk; `None` when the chunk is not allocated.
    pub address: Option<u64>,
    /// Stored (filtered) size in bytes, for filtered datasets; `None` for unfiltered ones,
    /// whose chunks all occupy the full unfiltered chunk size.
    pub filtered_size: Option<u64>,
    /// Filter mask: bit *i* set means filter *i* of the pipeline was skipped for this chunk.
    pub filter_mask: u32,
}

impl ChunkEntry {
    /// Bytes the chunk occupies in the file: the filtered size when recorded, otherwise
    /// `unfiltered_bytes` (the product of the chunk dims and the element size).
    pub fn stored_size(&self, unfiltered_bytes: u64) -> u64 {
        self.filtered_size.unwrap_or(unfiltered_bytes)
    }
}

/// How the elements of a fixed or extensible array encode a [`ChunkEntry`]: an address of
/// Size-of-Offsets bytes, and for filtered chunks a size field plus a 4-byte filter mask.
///
/// The size field's width is derived from the element size the index header records
/// (`element_size − O − 4`): layout v4 computes a 1..8-byte width from the chunk size, while
/// HDF5 2.0's layout v5 uses Size of Lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryFormat {
    /// Bytes per element.
    pub element_size: usize,
    /// Width of the filtered-size field; `None` for unfiltered elements (address only).
    pub size_width: Option<usize>,
}

impl EntryFormat {
    /// The element format for client ID `client` (0 = unfiltered, 1 = filtered chunks) and
    /// the element size recorded in an index header; errors name `structure` at `address`.
    pub fn new(
        client: u8,
        element_size: u8,
        sizes: Sizes,
        structure: &'static str,
        address: u64,
    ) -> Result<Self> {
        use crate::error::FormatError;
        let o = usize::from(sizes.offset);
        let element_size = usize::from(element_size);
        if element_size == 0 {
            return Err(FormatError::invalid(structure, address, "element size 0"));
        }
        match client {
            0 if element_size == o => Ok(Self {
                element_size,
                size_width: None,
            }),
            1 => {
                let width = element_size.saturating_sub(o + 4);
                if (1..=8).contains(&width) {
                    Ok(Self {
                        element_size,
                        size_width: Some(width),
                    })
                } else {
                    Err(FormatError::invalid(
                        structure,
                        address,
                        format!("filtered element size {element_size} leaves a {width}-byte chunk-size field"),
                    ))
                }
            }
            0 => Err(FormatError::invalid(
                structure,
                address,
                format!("unfiltered element size {element_size} differs from Size of Offsets {o}"),
            )),
            other => Err(FormatError::unsupported(
                structure,
                address,
                format!("client ID {other}"),
            )),
        }
    }

    /// Decode one element at the cursor.
    pub fn read(&self, c: &mut Cursor<'_>) -> Result<ChunkEntry> {
        let address = c.offset()?;
        match self.size_width {
            None => Ok(ChunkEntry {
                address,
                filtered_size: None,
                filter_mask: 0,
            }),
            Some(w) => {
                let size = c.uint(w)?;
                let filter_mask = c.u32()?;
                Ok(ChunkEntry {
                    address,
                    filtered_size: Some(size),
                    filter_mask,
                })
            }
        }
    }

    /// Decode `count` consecutive elements, checking first that the cursor holds them all.
    pub fn read_many(&self, c: &mut Cursor<'_>, count: u64) -> Result<Vec<ChunkEntry>> {
        let bytes = usize::try_from(count)
            .ok()
            .and_then(|n| n.checked_mul(self.element_size))
            .ok_or_else(|| c.invalid(format!("{count} elements overflow")))?;
        c.require(bytes)?;
        let mut out = Vec::with_capacity(bytes / self.element_size.max(1));
        for _ in 0..count {
            out.push(self.read(c)?);
        }
        Ok(out)
    }
}

/// Number of chunks along each dimension needed to cover `extent` (ceiling division).
/// `None` when the ranks differ, a chunk dimension is 0, or an extent is unlimited.
pub fn chunk_counts(extent: &[u64], chunk_dims: &[u64]) -> Option<Vec<u64>> {
    if extent.len() != chunk_dims.len() {
        return None;
    }
    extent
        .iter()
        .zip(chunk_dims)
        .map(|(&e, &c)| {
            if c == 0 || e == u64::MAX {
                None
            } else {
                Some(e.div_ceil(c))
            }
        })
        .collect()
}

/// C-order (row-major, last dimension fastest) linear index of `coords` in a grid of `grid`
/// cells per dimension. `None` when ranks differ, a coordinate is out of range, or it overflows.
pub fn coords_to_linear(coords: &[u64], grid: &[u64]) -> Option<u64> {
    if coords.len() != grid.len() {
        return None;
    }
    coords.iter().zip(grid).try_fold(0u64, |acc, (&x, &n)| {
        if x >= n {
            return None;
        }
        acc.checked_mul(n)?.checked_add(x)
    })
}

/// Inverse of [`coords_to_linear`]: grid coordinates of C-order `index`. `None` when the
/// index lies outside the grid.
pub fn linear_to_coords(index: u64, grid: &[u64]) -> Option<Vec<u64>> {
    let mut coords = vec![0u64; grid.len()];
    let mut rest = index;
    for (slot, &n) in coords.iter_mut().zip(grid).rev() {
        if n == 0 {
            return None;
        }
        *slot = rest % n;
        rest /= n;
    }
    (rest == 0).then_some(coords)
}

/// True when the chunk at scaled `coords` starts inside `extent` in every dimension (i.e. it
/// holds at least one element of a dataset of that current extent).
pub fn chunk_in_extent(coords: &[u64], chunk_dims: &[u64], extent: &[u64]) -> bool {
    coords.len() == chunk_dims.len()
        && coords.len() == extent.len()
        && coords
            .iter()
            .zip(chunk_dims)
            .zip(extent)
            .all(|((&x, &c), &e)| x.checked_mul(c).is_some_and(|start| start < e))
}

/// True when the chunk at scaled `coords` extends past `extent` in some dimension (an edge
/// chunk; relevant to DONT_FILTER_PARTIAL_BOUND_CHUNKS, whose edge chunks are stored unfiltered).
pub fn chunk_crosses_extent(coords: &[u64], chunk_dims: &[u64], extent: &[u64]) -> bool {
    coords
        .iter()
        .zip(chunk_dims)
        .zip(extent)
        .any(|((&x, &c), &e)| {
            x.checked_add(1)
                .and_then(|n| n.checked_mul(c))
                .is_none_or(|end| end > e)
        })
}

/// Bytes of one unfiltered chunk: the product of `chunk_dims` and `element_size`.
pub fn unfiltered_chunk_bytes(chunk_dims: &[u64], element_size: u64) -> Option<u64> {
    chunk_dims
        .iter()
        .try_fold(element_size, |acc, &d| acc.checked_mul(d))
}

/// Numbering of chunk-index slots over a chunk grid: which scaled coordinates slot *i* holds.
///
/// Internally the grid is visited in C order over `order` (the dataset dimensions from slowest-
/// to fastest-varying); the slowest one may be unbounded (extensible array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridNumbering {
    /// Dataset dimension at each position of the visiting order (slowest first).
    order: Vec<usize>,
    /// Chunk counts per position of `order`; the first is ignored when `unbounded` is set.
    counts: Vec<u64>,
    /// True when the slowest-varying position has no bound (extensible array).
    unbounded: bool,
}

impl GridNumbering {
    /// C-order numbering over the chunk grid of the maximum dims, as used by the fixed-array
    /// and implicit indexes. `None` when a max dim is unlimited, a chunk dim is 0, or ranks differ.
    pub fn max_grid(max_dims: &[u64], chunk_dims: &[u64]) -> Option<Self> {
        let counts = chunk_counts(max_dims, chunk_dims)?;
        Some(Self {
            order: (0..counts.len()).collect(),
            counts,
            unbounded: false,
        })
    }

    /// Swizzled numbering used by the extensible-array index: dimension `unlimited_dim` first
    /// (unbounded), the others in their order over their maximum extent. `max_dims[unlimited_dim]`
    /// is ignored. `None` when another max dim is unlimited, a chunk dim is 0, ranks differ or
    /// `unlimited_dim` is out of range.
    pub fn extensible(max_dims: &[u64], chunk_dims: &[u64], unlimited_dim: usize) -> Option<Self> {
        if unlimited_dim >= max_dims.len() || max_dims.len() != chunk_dims.len() {
            return None;
        }
        let mut order = vec![unlimited_dim];
        order.extend((0..max_dims.len()).filter(|&d| d != unlimited_dim));
        let counts = order
            .iter()
            .map(|&d| {
                let c = *chunk_dims.get(d)?;
                if c == 0 {
                    return None;
                }
                if d == unlimited_dim {
                    return Some(0);
                }
                let m = *max_dims.get(d)?;
                (m != u64::MAX).then(|| m.div_ceil(c))
            })
            .collect::<Option<Vec<u64>>>()?;
        Some(Self {
            order,
            counts,
            unbounded: true,
        })
    }

    /// Dataset rank.
    pub fn rank(&self) -> usize {
        self.order.len()
    }

    /// Number of slots, or `None` when unbounded (extensible array) or overflowing.
    pub fn slot_count(&self) -> Option<u64> {
        if self.unbounded {
            return None;
        }
        self.counts
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n))
    }

    /// Scaled chunk coordinates (in dataset dimension order) held by slot `index`; `None`
    /// when the slot lies outside a bounded grid.
    pub fn index_to_coords(&self, index: u64) -> Option<Vec<u64>> {
        let mut coords = vec![0u64; self.order.len()];
        let mut rest = index;
        for (pos, (&d, &n)) in self.order.iter().zip(&self.counts).enumerate().rev() {
            let value = if pos == 0 && self.unbounded {
                std::mem::take(&mut rest)
            } else {
                if n == 0 {
                    return None;
                }
                let v = rest % n;
                rest /= n;
                v
            };
            *coords.get_mut(d)? = value;
        }
        (rest == 0).then_some(coords)
    }

    /// Slot holding the chunk at scaled `coords` (dataset dimension order); `None` when out
    /// of the grid or overflowing.
    pub fn coords_to_index(&self, coords: &[u64]) -> Option<u64> {
        if coords.len() != self.order.len() {
            return None;
        }
        self.order
            .iter()
            .zip(&self.counts)
            .enumerate()
            .try_fold(0u64, |acc, (pos, (&d, &n))| {
                let x = *coords.get(d)?;
                if pos == 0 && self.unbounded {
                    return Some(x);
                }
                if x >= n {
                    return None;
                }
                acc.checked_mul(n)?.checked_add(x)
            })
    }
}

/// Scaled chunk coordinates of fixed-array or implicit-index slot `index` (C order over the
/// maximum-dims chunk grid).
pub fn max_grid_index_to_coords(
    index: u64,
    max_dims: &[u64],
    chunk_dims: &[u64],
) -> Option<Vec<u64>> {
    GridNumbering::max_grid(max_dims, chunk_dims)?.index_to_coords(index)
}

/// Scaled chunk coordinates of extensible-array slot `index` (swizzled numbering, see
/// [`GridNumbering::extensible`]).
pub fn ea_index_to_coords(
    index: u64,
    max_dims: &[u64],
    chunk_dims: &[u64],
    unlimited_dim: usize,
) -> Option<Vec<u64>> {
    GridNumbering::extensible(max_dims, chunk_dims, unlimited_dim)?.index_to_coords(index)
}

/// Extensible-array slot of the chunk at scaled `coords` (inverse of [`ea_index_to_coords`]).
pub fn ea_coords_to_index(
    coords: &[u64],
    max_dims: &[u64],
    chunk_dims: &[u64],
    unlimited_dim: usize,
) -> Option<u64> {
    GridNumbering::extensible(max_dims, chunk_dims, unlimited_dim)?.coords_to_index(coords)
}

/// `2^bits` as u64, or `None` when `bits ≥ 64`.
fn pow2(bits: u8) -> Option<u64> {
    1u64.checked_shl(u32::from(bits))
}

/// Test for bit `bit` of an MSB-first bitmap (bit *i* is `0x80 >> (i % 8)` of byte `i / 8`).
fn msb_bit(bitmap: &[u8], bit: u64) -> bool {
    usize::try_from(bit / 8)
        .ok()
        .and_then(|i| bitmap.get(i))
        .is_some_and(|b| b & (0x80u8 >> (bit % 8)) != 0)
}

#[cfg(test)]
mod tests;
