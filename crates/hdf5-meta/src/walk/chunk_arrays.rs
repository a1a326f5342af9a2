//! Fixed-array and extensible-array chunk indexes, read level by level: header, then index or
//! data block, then every super block at once, then every data block (or page) at once.

use std::collections::BTreeMap;

use super::chunks::IndexedChunk;
use super::context::Context;
use super::error::Result;
use crate::format::chunk_index::extensible_array::{
    parse_data_block_page, DataBlockParent, DataBlockSlot, ExtensibleArrayDataBlock,
    ExtensibleArrayHeader, ExtensibleArrayIndexBlock, ExtensibleArraySuperBlock,
};
use crate::format::chunk_index::fixed_array::{self, FixedArrayHeader};
use crate::format::chunk_index::{ChunkEntry, GridNumbering};
use crate::format::messages::layout::ChunkedLayout;

/// Chunks of a fixed-array index (slots numbered over the maximum-dims chunk grid).
pub async fn fixed_array(
    ctx: &Context,
    addr: u64,
    c: &ChunkedLayout,
    max: &[u64],
) -> Result<Vec<IndexedChunk>> {
    let sizes = ctx.sizes;
    let numbering = GridNumbering::max_grid(max, &c.chunk_dims).ok_or_else(|| {
        ctx.limit(format!(
            "fixed array at {addr}: dimensions do not form a chunk grid"
        ))
    })?;
    let h = ctx
        .parse_at(addr, FixedArrayHeader::size(sizes) as u64, |b| {
            FixedArrayHeader::parse(b, addr, sizes)
        })
        .await?;
    let Some(db) = h.data_block_address else {
        return Ok(Vec::new());
    };
    let layout = h
        .data_block_layout(sizes)
        .map_err(|e| ctx.format_error(e))?;
    let block = ctx
        .parse_at(db, layout.parse_len(), |b| {
            fixed_array::parse_data_block(b, db, sizes, &h)
        })
        .await?;
    let mut slots: Vec<(u64, ChunkEntry)> = Vec::new();
    match layout.paging {
        None => slots.extend(
            block
                .entries
                .iter()
                .copied()
                .enumerate()
                .map(|(i, e)| (i as u64, e)),
        ),
        Some(p) => {
            let pages: Vec<(u64, u64, u64)> = (0..p.page_count)
                .filter(|&page| block.page_initialized(page))
                .filter_map(|page| {
                    p.page_range(page)
                        .map(|(off, len)| (page, db.saturating_add(off), len))
                })
                .collect();
            ctx.prefetch(pages.iter().map(|&(_, a, n)| (a, n))).await?;
            for (page, a, len) in pages {
                let entries = ctx
                    .parse_at(a, len, |b| fixed_array::parse_page(b, a, sizes, &h, page))
                    .await?;
                let first = p.first_entry(page);
                slots.extend(
                    entries
                        .into_iter()
                        .enumerate()
                        .map(|(i, e)| (first + i as u64, e)),
                );
            }
        }
    }
    to_coords(ctx, addr, slots, &numbering)
}

/// Chunks of an extensible-array index (slots numbered over the swizzled grid).
pub async fn extensible_array(
    ctx: &Context,
    addr: u64,
    c: &ChunkedLayout,
    max: &[u64],
) -> Result<Vec<IndexedChunk>> {
    let sizes = ctx.sizes;
    let unlimited: Vec<usize> = (0..max.len())
        .filter(|&d| max.get(d) == Some(&u64::MAX))
        .collect();
    let numbering = match unlimited.as_slice() {
        [d] => GridNumbering::extensible(max, &c.chunk_dims, *d),
        _ => None,
    }
    .ok_or_else(|| {
        ctx.limit(format!(
            "extensible array at {addr}: needs exactly one unlimited dimension"
        ))
    })?;
    let h = ctx
        .parse_at(addr, ExtensibleArrayHeader::size(sizes) as u64, |b| {
            ExtensibleArrayHeader::parse(b, addr, sizes)
        })
        .await?;
    let g = h.geometry(sizes).map_err(|e| ctx.format_error(e))?;
    let Some(ib_addr) = h.index_block_address else {
        return Ok(Vec::new());
    };
    let ib = ctx
        .parse_at(ib_addr, g.index_block_size(), |b| {
            ExtensibleArrayIndexBlock::parse(b, ib_addr, &g)
        })
        .await?;
    let mut slots: Vec<(u64, ChunkEntry)> = ib
        .elements
        .iter()
        .copied()
        .enumerate()
        .map(|(i, e)| (i as u64, e))
        .collect();

    // Super blocks holding slots below max_index_set (at most 65). Their data blocks are
    // listed only from blocks actually read (the index block, loaded super blocks), so a
    // file-supplied max_index_set cannot make the walk enumerate billions of absent blocks.
    let max_index = h.stats.max_index_set;
    let live: Vec<usize> = (0..g.super_blocks.len())
        .take_while(|&u| g.super_block_first_index(u).is_some_and(|f| f < max_index))
        .collect();
    // Round 1: every allocated super block among them.
    let mut super_addrs: BTreeMap<usize, (u64, usize)> = BTreeMap::new();
    for &u in &live {
        let Some(slot) = u.checked_sub(g.index_block_super_blocks) else {
            continue;
        };
        if let Some(Some(a)) = ib.super_block_addresses.get(slot) {
            super_addrs.insert(slot, (*a, u));
        }
    }
    let mut super_lens = Vec::new();
    for (&slot, &(a, u)) in &super_addrs {
        let len = g.super_block_size(u).ok_or_else(|| {
            ctx.limit(format!(
                "extensible array at {addr}: super block {u} size overflows"
            ))
        })?;
        super_lens.push((slot, a, u, len));
    }
    ctx.prefetch(super_lens.iter().map(|&(_, a, _, n)| (a, n)))
        .await?;
    let mut supers: BTreeMap<usize, ExtensibleArraySuperBlock> = BTreeMap::new();
    for (slot, a, u, len) in super_lens {
        supers.insert(
            slot,
            ctx.parse_at(a, len, |b| ExtensibleArraySuperBlock::parse(b, a, &g, u))
                .await?,
        );
    }
    // Round 2: every allocated data block (index block: at most 2·(255 − 1) of them).
    let mut data = Vec::new();
    for &u in &live {
        let blocks: Vec<(DataBlockSlot, Option<u64>, Option<(usize, u64)>)> =
            match u.checked_sub(g.index_block_super_blocks) {
                None => g
                    .data_blocks_of(u)
                    .map(|b| {
                        let a = match b.parent {
                            DataBlockParent::IndexBlock { slot } => {
                                ib.data_block_addresses.get(slot).copied().flatten()
                            }
                            DataBlockParent::SuperBlock { .. } => None,
                        };
                        (b, a, None)
                    })
                    .collect(),
                Some(slot) => match supers.get(&slot) {
                    Some(sb) => g
                        .data_blocks_of(u)
                        .zip(&sb.data_block_addresses)
                        .enumerate()
                        .map(|(d, (b, a))| (b, *a, Some((slot, d as u64))))
                        .collect(),
                    None => Vec::new(),
                },
            };
        for (b, a, local) in blocks
            .into_iter()
            .take_while(|(b, ..)| b.first_index < max_index)
        {
            if let Some(a) = a {
                let len = g.data_block_parse_len(b.elements).ok_or_else(|| {
                    ctx.limit(format!(
                        "extensible array at {addr}: data block size overflows"
                    ))
                })?;
                data.push((b, a, len, local));
            }
        }
    }
    ctx.prefetch(data.iter().map(|&(_, a, n, _)| (a, n)))
        .await?;
    let mut pages = Vec::new();
    for (b, a, len, local) in data {
        let db = ctx
            .parse_at(a, len, |buf| {
                ExtensibleArrayDataBlock::parse(buf, a, &g, b.elements)
            })
            .await?;
        if db.pages == 0 {
            slots.extend(
                db.elements
                    .iter()
                    .copied()
                    .enumerate()
                    .map(|(i, e)| (b.first_index + i as u64, e)),
            );
            continue;
        }
        let Some((slot, d)) = local else {
            return Err(ctx.limit(format!(
                "extensible array at {addr}: paged data block outside a super block"
            )));
        };
        let Some(sb) = supers.get(&slot) else {
            continue;
        };
        for page in 0..db.pages {
            if !sb.page_initialized(d, page) {
                continue;
            }
            if let Some((off, plen)) = g.page_range(b.elements, page) {
                pages.push((
                    a.saturating_add(off),
                    plen,
                    b.first_index + page * g.page_elements,
                ));
            }
        }
    }
    // Round 3: pages of paged data blocks.
    ctx.prefetch(pages.iter().map(|&(a, n, _)| (a, n))).await?;
    for (a, len, first) in pages {
        let entries = ctx
            .parse_at(a, len, |b| parse_data_block_page(b, a, &g))
            .await?;
        slots.extend(
            entries
                .into_iter()
                .enumerate()
                .map(|(i, e)| (first + i as u64, e)),
        );
    }
    slots.retain(|(i, _)| *i < h.stats.max_index_set);
    to_coords(ctx, addr, slots, &numbering)
}

fn to_coords(
    ctx: &Context,
    addr: u64,
    slots: Vec<(u64, ChunkEntry)>,
    numbering: &GridNumbering,
) -> Result<Vec<IndexedChunk>> {
    let mut out = Vec::with_capacity(slots.len());
    for (slot, e) in slots {
        if e.address.is_none() {
            continue;
        }
        let coords = numbering.index_to_coords(slot).ok_or_else(|| {
            ctx.limit(format!(
                "chunk index at {addr}: slot {slot} outside the chunk grid"
            ))
        })?;
        out.push((coords, e));
    }
    Ok(out)
}
