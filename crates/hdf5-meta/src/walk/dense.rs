//! Dense storage: link and attribute messages kept in a fractal heap and indexed by a v2
//! B-tree, and shared messages kept in the SOHM heap. A heap's direct blocks are found level by
//! level through its indirect blocks and fetched in one batch; filtered blocks are inflated.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::OnceCell;

use super::btree_v2;
use super::context::Context;
use super::error::Result;
use crate::format::btree_v2::Record;
use crate::format::cursor::Cursor;
use crate::format::fractal_heap::{
    DirectBlock, DirectBlockRef, FractalHeapHeader, HeapId, IndirectBlock, RootBlock,
};
use crate::format::sohm::{SharedMessageTable, SohmIndex};

/// A fractal heap with all its direct blocks loaded.
pub struct LoadedHeap {
    header: FractalHeapHeader,
    blocks: Vec<(DirectBlock, Bytes)>,
    huge: HashMap<u64, (u64, u64)>,
}

impl LoadedHeap {
    /// The bytes of the object `id`, with the file address they came from.
    fn object(&self, ctx: &Context, id: &[u8]) -> Result<(Vec<u8>, u64)> {
        let fe = |e| ctx.format_error(e);
        match self.header.decode_id(id, ctx.sizes).map_err(fe)? {
            HeapId::Managed { offset, length } => {
                // Blocks are sorted by heap offset: the candidate is the last one starting at or
                // before `offset`.
                let i = self
                    .blocks
                    .partition_point(|(b, _)| b.heap_offset <= offset);
                let (block, data) = i
                    .checked_sub(1)
                    .and_then(|i| self.blocks.get(i))
                    .filter(|(b, _)| offset - b.heap_offset < b.size)
                    .ok_or_else(|| {
                        ctx.limit(format!(
                            "fractal heap at {}: no direct block holds offset {offset}",
                            self.header.address
                        ))
                    })?;
                let bytes = block.object(data, offset, length).map_err(fe)?;
                Ok((
                    bytes.to_vec(),
                    block.address.saturating_add(offset - block.heap_offset),
                ))
            }
            HeapId::Tiny(bytes) => Ok((bytes.to_vec(), self.header.address)),
            HeapId::HugeDirect { .. } | HeapId::HugeIndirect { .. } => Err(ctx.limit(format!(
                "fractal heap at {}: huge objects are read through read_object",
                self.header.address
            ))),
        }
    }
}

/// Fractal heaps loaded so far in a walk, by address: each is read and decoded once, however
/// many objects use it (the SOHM heap serves every shared message; a crafted file could also
/// point many objects at one big heap).
#[derive(Default)]
pub struct HeapCache(Mutex<HashMap<u64, Arc<OnceCell<Arc<LoadedHeap>>>>>);

impl std::fmt::Debug for HeapCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "HeapCache({n} heaps)")
    }
}

/// The heap at `address`, loaded once per walk.
async fn load_heap(ctx: &Context, address: u64) -> Result<Arc<LoadedHeap>> {
    let cell = {
        let mut map = ctx
            .heaps
            .0
            .lock()
            .map_err(|_| ctx.limit("fractal heap cache lock poisoned"))?;
        Arc::clone(map.entry(address).or_default())
    };
    cell.get_or_try_init(|| async { read_heap(ctx, address).await.map(Arc::new) })
        .await
        .cloned()
}

/// Read a heap's header and every allocated direct block.
async fn read_heap(ctx: &Context, address: u64) -> Result<LoadedHeap> {
    let sizes = ctx.sizes;
    let header = ctx
        .parse_at(
            address,
            FractalHeapHeader::min_size(sizes) as u64 + 64,
            |b| FractalHeapHeader::parse(b, address, sizes),
        )
        .await?;
    let mut direct: Vec<DirectBlockRef> = Vec::new();
    let mut indirect = Vec::new();
    match header.root() {
        None => {}
        Some(RootBlock::Direct(d)) => direct.push(d),
        Some(RootBlock::Indirect(i)) => indirect.push(i),
    }
    let mut seen = HashSet::new();
    while !indirect.is_empty() {
        for i in &indirect {
            if !seen.insert(i.address) {
                return Err(ctx.limit(format!(
                    "fractal heap at {address}: indirect block {} reached twice",
                    i.address
                )));
            }
        }
        let lens: Vec<u64> = indirect
            .iter()
            .map(|i| header.indirect_block_size(sizes, i.nrows) as u64)
            .collect();
        ctx.prefetch(indirect.iter().zip(&lens).map(|(i, &n)| (i.address, n)))
            .await?;
        let mut next = Vec::new();
        for (i, len) in indirect.iter().zip(lens) {
            let block = ctx
                .parse_at(i.address, len, |b| {
                    IndirectBlock::parse(b, i.address, sizes, &header, i)
                })
                .await?;
            direct.extend(block.allocated_direct().copied());
            next.extend(block.allocated_indirect().copied());
        }
        indirect = next;
    }
    let total = direct
        .iter()
        .try_fold(0u64, |sum, d| sum.checked_add(d.stored_size()));
    if total.is_none_or(|total| total > ctx.cache.len()) {
        let total = total.map_or_else(|| "over 2^64".to_string(), |t| t.to_string());
        return Err(ctx.limit(format!(
            "fractal heap at {address}: direct blocks total {total} bytes, more than the file"
        )));
    }
    ctx.prefetch(direct.iter().map(|d| (d.address, d.stored_size())))
        .await?;
    let mut blocks = Vec::with_capacity(direct.len());
    for d in direct {
        let raw = ctx.read(d.address, d.stored_size()).await?;
        let data = match d.filtered {
            Some(f) if f.filter_mask & 1 == 0 => inflate(ctx, &raw, d.size, d.address)?,
            _ => raw,
        };
        let block = DirectBlock::parse(&data, d.address, sizes, &header, &d)
            .map_err(|e| ctx.format_error(e))?;
        blocks.push((block, data));
    }
    blocks.sort_by_key(|(b, _)| b.heap_offset);
    let mut huge = HashMap::new();
    if let Some(bt) = header.huge_btree_address {
        let (_, recs) = btree_v2::records(ctx, bt, None).await?;
        for r in recs {
            if let Record::HugeObject {
                address,
                length,
                id,
            } = r
            {
                huge.insert(id, (address, length));
            }
        }
    }
    Ok(LoadedHeap {
        header,
        blocks,
        huge,
    })
}

/// Inflate a deflate-filtered heap block (the only filter the library applies to heaps).
fn inflate(ctx: &Context, raw: &[u8], size: u64, address: u64) -> Result<Bytes> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(raw)
        .take(size)
        .read_to_end(&mut out)
        .map_err(|e| {
            ctx.limit(format!(
                "fractal heap block at {address}: deflate failed: {e}"
            ))
        })?;
    Ok(Bytes::from(out))
}

/// Read the object for `id`, including huge objects stored outside the heap's blocks.
async fn read_object(ctx: &Context, heap: &LoadedHeap, id: &[u8]) -> Result<(Vec<u8>, u64)> {
    match heap
        .header
        .decode_id(id, ctx.sizes)
        .map_err(|e| ctx.format_error(e))?
    {
        HeapId::HugeDirect {
            address,
            length,
            filter: None,
        } => Ok((ctx.read(address, length).await?.to_vec(), address)),
        HeapId::HugeIndirect { key } => {
            let &(address, length) = heap.huge.get(&key).ok_or_else(|| {
                ctx.limit(format!(
                    "fractal heap at {}: huge object {key} not in its B-tree",
                    heap.header.address
                ))
            })?;
            Ok((ctx.read(address, length).await?.to_vec(), address))
        }
        HeapId::HugeDirect { address, .. } => Err(ctx.limit(format!(
            "fractal heap at {}: filtered huge object at {address} is not supported",
            heap.header.address
        ))),
        _ => heap.object(ctx, id),
    }
}

/// Raw link messages of a dense group: (message bytes, their address).
pub async fn link_messages(
    ctx: &Context,
    heap: u64,
    name_index: u64,
) -> Result<Vec<(Vec<u8>, u64)>> {
    indexed_messages(ctx, heap, name_index, |r| match r {
        Record::LinkName { heap_id, .. } => Some(heap_id.to_vec()),
        _ => None,
    })
    .await
}

/// Raw attribute messages of an object with dense attributes.
pub async fn attribute_messages(
    ctx: &Context,
    heap: u64,
    name_index: u64,
) -> Result<Vec<(Vec<u8>, u64)>> {
    indexed_messages(ctx, heap, name_index, |r| match r {
        Record::AttributeName { heap_id, .. } => Some(heap_id.to_vec()),
        _ => None,
    })
    .await
}

/// The heap objects named by the heap IDs that `id_of` picks from the name index's records.
async fn indexed_messages(
    ctx: &Context,
    heap: u64,
    name_index: u64,
    id_of: impl Fn(Record) -> Option<Vec<u8>>,
) -> Result<Vec<(Vec<u8>, u64)>> {
    let (loaded, (_, records)) = futures::try_join!(
        load_heap(ctx, heap),
        btree_v2::records(ctx, name_index, None)
    )?;
    let mut out = Vec::with_capacity(records.len());
    for id in records.into_iter().filter_map(id_of) {
        out.push(read_object(ctx, &loaded, &id).await?);
    }
    Ok(out)
}

/// The SOHM heap index for a message type, from the shared message table message (0x0F) of
/// the superblock extension.
async fn sohm_index(ctx: &Context, kind: u16) -> Result<SohmIndex> {
    let (table_addr, nindexes) = ctx.sohm_table.ok_or_else(|| {
        ctx.limit(
            "shared message stored in the SOHM heap, but the file has no shared message table",
        )
    })?;
    let sizes = ctx.sizes;
    let table = ctx
        .parse_at(
            table_addr,
            SharedMessageTable::encoded_size(sizes, nindexes) as u64,
            |b| SharedMessageTable::parse(b, table_addr, sizes, nindexes),
        )
        .await?;
    table
        .index_for(kind)
        .cloned()
        .ok_or_else(|| ctx.limit(format!("no shared message index for message type {kind}")))
}

/// A shared message of `kind` stored in the SOHM fractal heap under `id`.
pub async fn sohm_message(ctx: &Context, kind: u16, id: &[u8; 8]) -> Result<(Vec<u8>, u64)> {
    let index = sohm_index(ctx, kind).await?;
    let heap = index
        .heap_address
        .ok_or_else(|| ctx.limit("shared message index without a heap"))?;
    let loaded = load_heap(ctx, heap).await?;
    read_object(ctx, &loaded, id).await
}

/// Decode the shared message table message (0x0F): (table address, number of indexes).
pub fn parse_sohm_table_message(ctx: &Context, data: &[u8], address: u64) -> Result<(u64, u8)> {
    let mut c = Cursor::new(data, address, ctx.sizes, "shared message table message");
    let parsed = (|| {
        let version = c.u8()?;
        if version != 0 {
            return Err(c.bad_version(version));
        }
        let table = c
            .offset()?
            .ok_or_else(|| c.invalid("undefined table address"))?;
        Ok((table, c.u8()?))
    })();
    parsed.map_err(|e| ctx.format_error(e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::format::messages::kinds;
    use crate::format::superblock;
    use crate::walk::cache::{BlockCache, IoOptions};
    use crate::walk::source::MemoryFile;

    #[tokio::test]
    async fn heaps_are_loaded_once_per_walk() {
        // sohm_btree.h5 fixture: shared datatypes, dataspaces and attributes in one SOHM heap.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/h5/sohm_btree.h5"
        );
        let reader = Arc::new(MemoryFile::new(
            std::fs::read(path).unwrap(),
            "sohm_btree.h5",
        ));
        let cache = BlockCache::new(reader, IoOptions::default()).await.unwrap();
        let head = cache.read_head().await.unwrap();
        let sb = superblock::parse(&head, 0).unwrap();
        let mut ctx = Context {
            cache: Arc::new(cache),
            base: 0,
            sizes: sb.sizes,
            sohm_table: None,
            heaps: Default::default(),
        };
        ctx.sohm_table = super::super::extension::read(&ctx, &sb)
            .await
            .unwrap()
            .sohm_table;
        let heap = sohm_index(&ctx, kinds::ATTRIBUTE)
            .await
            .unwrap()
            .heap_address
            .unwrap();
        let (a, b) = futures::join!(load_heap(&ctx, heap), load_heap(&ctx, heap));
        let (a, c) = (a.unwrap(), load_heap(&ctx, heap).await.unwrap());
        assert!(Arc::ptr_eq(&a, &b.unwrap()) && Arc::ptr_eq(&a, &c));
        assert_eq!(ctx.heaps.0.lock().unwrap().len(), 1);
    }
}
