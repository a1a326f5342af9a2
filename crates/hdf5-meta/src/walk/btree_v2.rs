//! Level-by-level traversal of v2 B-trees: all nodes of one depth are fetched in one batch.

use super::chunks::IndexedChunk;
use super::context::{BlockSet, Context};
use super::error::Result;
use crate::format::btree_v2::{BTreeV2Header, Node, Record};
use crate::format::chunk_index::ChunkEntry;

/// Every record of the v2 B-tree whose header is at `address`, in key order within each node
/// (the order across nodes is by depth; callers sort when order matters).
pub async fn records(
    ctx: &Context,
    address: u64,
    rank: Option<u8>,
) -> Result<(BTreeV2Header, Vec<Record>)> {
    let sizes = ctx.sizes;
    let header = ctx
        .parse_at(address, BTreeV2Header::encoded_size(sizes) as u64, |b| {
            BTreeV2Header::parse(b, address, sizes)
        })
        .await?;
    let mut out = Vec::new();
    let mut level: Vec<_> = header.root().into_iter().collect();
    let mut seen = BlockSet::default();
    let node_len = u64::from(header.node_size);
    while !level.is_empty() {
        for n in &level {
            if let Err(other) = seen.insert(n.address, node_len) {
                return Err(ctx.limit(format!(
                    "v2 B-tree at {address}: node {} collides with node {other} (cycle or overlap)",
                    n.address
                )));
            }
        }
        ctx.prefetch(level.iter().map(|n| (n.address, node_len)))
            .await?;
        let mut next = Vec::new();
        for n in level {
            let node = ctx
                .parse_at(n.address, node_len, |b| {
                    Node::parse(b, n.address, sizes, &header, &n, rank)
                })
                .await?;
            out.extend(node.records);
            next.extend(node.children);
        }
        level = next;
    }
    Ok((header, out))
}

/// Chunks of a v2-B-tree chunk index (record types 10 and 11).
pub async fn chunk_entries(
    ctx: &Context,
    address: u64,
    rank: usize,
    _layout_version: u8,
) -> Result<Vec<IndexedChunk>> {
    let r = u8::try_from(rank)
        .map_err(|_| ctx.limit(format!("v2 B-tree chunk index at {address}: rank {rank}")))?;
    let (_, recs) = records(ctx, address, Some(r)).await?;
    Ok(recs
        .into_iter()
        .filter_map(|rec| match rec {
            Record::Chunk {
                address,
                scaled_offsets,
            } => Some((
                scaled_offsets,
                ChunkEntry {
                    address: Some(address),
                    filtered_size: None,
                    filter_mask: 0,
                },
            )),
            Record::FilteredChunk {
                address,
                size,
                filter_mask,
                scaled_offsets,
            } => Some((
                scaled_offsets,
                ChunkEntry {
                    address: Some(address),
                    filtered_size: Some(size),
                    filter_mask,
                },
            )),
            _ => None,
        })
        .collect())
}
