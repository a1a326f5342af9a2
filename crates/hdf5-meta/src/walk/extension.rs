//! The superblock extension (v2/v3 superblocks): page size of paged files and B-tree K values.

use super::context::Context;
use super::error::Result;
use super::header;
use crate::format::messages::file_space::{self, BTREE_K};
use crate::format::messages::kinds;
use crate::format::superblock::Superblock;

/// Default K of chunk B-trees when nothing overrides it.
const DEFAULT_CHUNK_K: u16 = 32;

/// The file-space page size, when the file uses the paged strategy.
pub async fn page_size(ctx: &Context, sb: &Superblock) -> Result<Option<u64>> {
    let Some(addr) = sb.extension_address else { return Ok(None) };
    let h = header::load(ctx, addr).await?;
    match h.first(kinds::FILE_SPACE_INFO) {
        Some(m) => Ok(file_space::parse_file_space_info(&m.data, m.address, ctx.sizes).map_err(|e| ctx.format_error(e))?.page_size),
        None => Ok(None),
    }
}

/// K of chunk v1 B-trees: superblock v1 field, extension message, or the default 32.
pub async fn chunk_btree_k(ctx: &Context, sb: &Superblock) -> Result<u16> {
    if sb.version == 1 && sb.indexed_storage_k > 0 {
        return Ok(sb.indexed_storage_k);
    }
    let Some(addr) = sb.extension_address else { return Ok(DEFAULT_CHUNK_K) };
    let h = header::load(ctx, addr).await?;
    match h.first(BTREE_K) {
        Some(m) => Ok(file_space::parse_btree_k(&m.data, m.address, ctx.sizes).map_err(|e| ctx.format_error(e))?.indexed_storage.max(1)),
        None => Ok(DEFAULT_CHUNK_K),
    }
}
