//! Listing a chunked dataset's stored chunks through whichever index it uses.

use super::btree_v1;
use super::chunk_arrays;
use super::context::Context;
use super::error::{Result, WalkError};
use crate::format::btree_v1::{BTreeKind, Keys};
use crate::format::chunk_index::{self, implicit, ChunkEntry, GridNumbering};
use crate::format::messages::layout::{ChunkIndex, ChunkedLayout};
use crate::model::ChunkRef;

/// A chunk as an index reports it: scaled grid coordinates and its entry.
pub type IndexedChunk = (Vec<u64>, ChunkEntry);

/// Every allocated chunk inside the current extent `dims`, in C order of grid index.
pub async fn enumerate(
    ctx: &Context,
    c: &ChunkedLayout,
    layout_version: u8,
    dims: &[u64],
    max_dims: &[Option<u64>],
    chunk_k: u16,
) -> Result<Vec<ChunkRef>> {
    let Some(addr) = c.address else {
        return Ok(Vec::new());
    };
    let rank = c.chunk_dims.len();
    if dims.len() != rank || c.chunk_dims.contains(&0) {
        return Err(ctx.limit(format!(
            "chunk index at {addr}: chunk rank {rank} does not match dataspace rank {} (or a zero chunk dim)",
            dims.len()
        )));
    }
    let unfiltered = c
        .chunk_bytes()
        .ok_or_else(|| ctx.limit(format!("chunk index at {addr}: chunk size overflows")))?;
    let max: Vec<u64> = if max_dims.is_empty() {
        dims.to_vec()
    } else {
        max_dims.iter().map(|m| m.unwrap_or(u64::MAX)).collect()
    };
    let grid = chunk_index::chunk_counts(dims, &c.chunk_dims)
        .ok_or_else(|| ctx.limit(format!("chunk index at {addr}: chunk grid overflows")))?;
    let found: Vec<IndexedChunk> = match &c.index {
        ChunkIndex::BTreeV1 => btree_v1_chunks(ctx, addr, c, chunk_k).await?,
        ChunkIndex::SingleChunk { filtered } => {
            vec![(vec![0; rank], chunk_index::single_chunk::entry(Some(addr), filtered.map(|f| (f.size, f.filter_mask))))]
        }
        ChunkIndex::Implicit => implicit_bounds(ctx, addr, unfiltered, &max, &c.chunk_dims)
            .and_then(|()| implicit::chunks(addr, unfiltered, dims, &max, &c.chunk_dims))
            .ok_or_else(|| ctx.limit(format!("implicit chunk index at {addr}: inconsistent dimensions, or storage past the end of the file")))?
            .map(|ch| (ch.coords, ChunkEntry { address: Some(ch.address), filtered_size: None, filter_mask: 0 }))
            .collect(),
        ChunkIndex::FixedArray { .. } => chunk_arrays::fixed_array(ctx, addr, c, &max).await?,
        ChunkIndex::ExtensibleArray { .. } => chunk_arrays::extensible_array(ctx, addr, c, &max).await?,
        ChunkIndex::BTreeV2 { .. } => super::btree_v2::chunk_entries(ctx, addr, rank, layout_version).await?,
    };
    let mut out: Vec<(u64, ChunkRef)> = Vec::with_capacity(found.len());
    for (coords, e) in found {
        let Some(a) = e.address else { continue };
        let Some(linear) = chunk_index::coords_to_linear(&coords, &grid) else {
            continue;
        }; // outside the extent
        out.push((
            linear,
            ChunkRef {
                grid: coords,
                offset: ctx.base.saturating_add(a),
                size: e.stored_size(unfiltered),
                filter_mask: e.filter_mask,
            },
        ));
    }
    out.sort_by_key(|(l, _)| *l);
    out.dedup_by_key(|(l, _)| *l);
    // A chunk past the end of the file would become a reference to bytes that do not exist.
    let file_len = ctx.cache.len();
    if let Some((_, c)) = out.iter().find(|(_, c)| {
        c.offset
            .checked_add(c.size)
            .is_none_or(|end| end > file_len)
    }) {
        return Err(WalkError::Truncated {
            file: ctx.file().to_string(),
            structure: "chunk (listed by the chunk index)",
            offset: c.offset,
            needed_end: c.offset.saturating_add(c.size),
            file_len,
        });
    }
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// An implicit index allocates every chunk of the maximum-dims grid at creation, contiguously
/// from its address: that storage must lie inside the file (and chunks must have a size), which
/// also bounds how many chunks are listed.
fn implicit_bounds(
    ctx: &Context,
    addr: u64,
    chunk_bytes: u64,
    max: &[u64],
    chunk_dims: &[u64],
) -> Option<()> {
    let slots = GridNumbering::max_grid(max, chunk_dims)?.slot_count()?;
    let end = ctx
        .base
        .checked_add(addr)?
        .checked_add(slots.checked_mul(chunk_bytes)?)?;
    (chunk_bytes > 0 && end <= ctx.cache.len()).then_some(())
}

async fn btree_v1_chunks(
    ctx: &Context,
    addr: u64,
    c: &ChunkedLayout,
    k: u16,
) -> Result<Vec<IndexedChunk>> {
    let rank = c.chunk_dims.len();
    let leaves = btree_v1::leaves(ctx, addr, BTreeKind::Chunk { rank }, k).await?;
    let mut out = Vec::new();
    for node in leaves {
        let Keys::Chunk(keys) = node.keys else {
            continue;
        };
        for (key, child) in keys.into_iter().zip(node.children) {
            let coords: Vec<u64> = key
                .offsets
                .iter()
                .zip(&c.chunk_dims)
                .map(|(o, d)| o / d)
                .collect();
            if coords.len() != rank {
                return Err(ctx.limit(format!(
                    "chunk B-tree at {addr}: key of rank {} for a rank-{rank} dataset",
                    coords.len()
                )));
            }
            out.push((
                coords,
                ChunkEntry {
                    address: Some(child),
                    filtered_size: Some(u64::from(key.chunk_size)),
                    filter_mask: key.filter_mask,
                },
            ));
        }
    }
    Ok(out)
}
