//! Implicit chunk index (layout index type 2): every chunk of the *maximum*-dims chunk grid is
//! allocated up front, contiguously in C order, each with the full unfiltered chunk size,
//! starting at the layout's index address. Only unfiltered datasets with fixed maximum dims and
//! early allocation use it.

use super::{chunk_counts, GridNumbering};

/// One chunk of an implicit index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplicitChunk {
    /// Scaled chunk coordinates.
    pub coords: Vec<u64>,
    /// Base-relative address of the chunk.
    pub address: u64,
    /// Bytes of the chunk (the unfiltered chunk size).
    pub size: u64,
}

/// Address of the chunk at scaled `coords`: `index_address + slot · chunk_bytes`, the slot
/// counted in C order over the maximum-dims grid. `None` when out of the grid or overflowing.
pub fn chunk_address(
    index_address: u64,
    chunk_bytes: u64,
    max_dims: &[u64],
    chunk_dims: &[u64],
    coords: &[u64],
) -> Option<u64> {
    let slot = GridNumbering::max_grid(max_dims, chunk_dims)?.coords_to_index(coords)?;
    index_address.checked_add(slot.checked_mul(chunk_bytes)?)
}

/// Iterator over the chunks of an implicit index that intersect the current extent, in C
/// order over the current chunk grid. Built by [`chunks`].
#[derive(Debug, Clone)]
pub struct ImplicitChunks {
    numbering: GridNumbering,
    current_grid: Vec<u64>,
    next: Option<Vec<u64>>,
    index_address: u64,
    chunk_bytes: u64,
}

/// The chunks inside the current extent `current_dims` of an implicit index at
/// `index_address` with `chunk_bytes`-byte chunks. `None` when ranks differ, a max dim is
/// unlimited or smaller than the current dim, a chunk dim is 0, or the storage would overflow
/// the address space.
pub fn chunks(
    index_address: u64,
    chunk_bytes: u64,
    current_dims: &[u64],
    max_dims: &[u64],
    chunk_dims: &[u64],
) -> Option<ImplicitChunks> {
    let numbering = GridNumbering::max_grid(max_dims, chunk_dims)?;
    let current_grid = chunk_counts(current_dims, chunk_dims)?;
    if current_dims.iter().zip(max_dims).any(|(c, m)| c > m) {
        return None;
    }
    // The whole storage must fit the address space, so no per-chunk address can overflow.
    numbering
        .slot_count()?
        .checked_mul(chunk_bytes)?
        .checked_add(index_address)?;
    let next = (!current_grid.contains(&0)).then(|| vec![0u64; current_grid.len()]);
    Some(ImplicitChunks {
        numbering,
        current_grid,
        next,
        index_address,
        chunk_bytes,
    })
}

impl Iterator for ImplicitChunks {
    type Item = ImplicitChunk;

    fn next(&mut self) -> Option<ImplicitChunk> {
        let coords = self.next.take()?;
        // Advance the odometer (last dimension fastest).
        let mut following = coords.clone();
        let mut carried = true;
        for (x, &n) in following.iter_mut().zip(&self.current_grid).rev() {
            *x += 1;
            if *x < n {
                carried = false;
                break;
            }
            *x = 0;
        }
        if !carried {
            self.next = Some(following);
        }
        let slot = self.numbering.coords_to_index(&coords)?;
        let address = self
            .index_address
            .checked_add(slot.checked_mul(self.chunk_bytes)?)?;
        Some(ImplicitChunk {
            coords,
            address,
            size: self.chunk_bytes,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn numbered_over_the_max_grid() {
        // Current (4,5), max (8,10), chunks (3,2): current grid 2×3, max grid 3×5.
        // Chunk (1,2) is max-grid slot 1·5 + 2 = 7 → 1000 + 7·6 (6 = 3·2 one-byte elements).
        let all: Vec<_> = chunks(1000, 6, &[4, 5], &[8, 10], &[3, 2])
            .unwrap()
            .collect();
        let got: Vec<_> = all.iter().map(|c| (c.coords.clone(), c.address)).collect();
        let want: Vec<(Vec<u64>, u64)> = vec![
            (vec![0, 0], 1000),
            (vec![0, 1], 1006),
            (vec![0, 2], 1012),
            (vec![1, 0], 1030),
            (vec![1, 1], 1036),
            (vec![1, 2], 1042),
        ];
        assert_eq!(got, want);
        assert!(all.iter().all(|c| c.size == 6));
        assert_eq!(
            chunk_address(1000, 6, &[8, 10], &[3, 2], &[2, 4]),
            Some(1000 + 14 * 6)
        );
        assert_eq!(chunk_address(1000, 6, &[8, 10], &[3, 2], &[3, 0]), None);
    }

    #[test]
    fn rejects_bad_shapes_and_overflow() {
        assert!(chunks(0, 6, &[9, 5], &[8, 10], &[3, 2]).is_none());
        assert!(chunks(0, 6, &[4, 5], &[8, u64::MAX], &[3, 2]).is_none());
        assert!(chunks(0, 6, &[4, 5], &[8, 10], &[3, 0]).is_none());
        assert!(chunks(0, 6, &[4], &[8, 10], &[3, 2]).is_none());
        assert!(chunks(u64::MAX - 10, 6, &[4, 5], &[8, 10], &[3, 2]).is_none());
        assert_eq!(chunks(0, 6, &[0, 5], &[8, 10], &[3, 2]).unwrap().count(), 0);
    }
}
