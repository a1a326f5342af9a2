//! The superblock extension (v2/v3 superblocks, or v0/v1 with an extension address): page size
//! of paged files, B-tree K values and the shared message table.

use super::context::Context;
use super::dense;
use super::error::Result;
use super::header;
use crate::error::FormatError;
use crate::format::messages::file_space::{self, BTREE_K};
use crate::format::messages::kinds;
use crate::format::superblock::{self, Superblock};

/// Default K of chunk B-trees when nothing overrides it.
const DEFAULT_CHUNK_K: u16 = 32;

/// What the walk needs from the superblock extension.
#[derive(Debug, Clone, Copy)]
pub struct Extension {
    /// File-space page size, for the paged strategy.
    pub page_size: Option<u64>,
    /// K of chunk v1 B-trees.
    pub chunk_btree_k: u16,
    /// Shared message table (address, number of indexes).
    pub sohm_table: Option<(u64, u8)>,
}

/// Read the extension, if any.
pub async fn read(ctx: &Context, sb: &Superblock) -> Result<Extension> {
    let mut ext = Extension {
        page_size: None,
        chunk_btree_k: if sb.version == 1 && sb.indexed_storage_k > 0 {
            sb.indexed_storage_k
        } else {
            DEFAULT_CHUNK_K
        },
        sohm_table: None,
    };
    let Some(addr) = sb.extension_address else {
        return Ok(ext);
    };
    let h = header::load(ctx, addr).await?;
    let fe = |e| ctx.format_error(e);
    if let Some(m) = h.first(kinds::FILE_SPACE_INFO) {
        ext.page_size = file_space::parse_file_space_info(&m.data, m.address, ctx.sizes)
            .map_err(fe)?
            .page_size;
    }
    if let Some(m) = h.first(BTREE_K) {
        ext.chunk_btree_k = file_space::parse_btree_k(&m.data, m.address, ctx.sizes)
            .map_err(fe)?
            .indexed_storage
            .max(1);
    }
    if let Some(m) = h.first(kinds::DRIVER_INFO) {
        // Driver info message: version, 8-character driver id, ... (same ids as the v0/v1 block).
        let id = m
            .data
            .get(1..9)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        if id == superblock::FAMILY_DRIVER_ID || id == superblock::MULTI_DRIVER_ID {
            return Err(super::walker::multi_file_error(ctx, &id));
        }
    }
    if let Some(m) = h.first(kinds::CACHE_IMAGE) {
        // The library then loads metadata from this image rather than from the structures'
        // own addresses (which may hold nothing); the image format is internal to its cache.
        let why = format!(
            "metadata cache image message at {} (files written with a cache image are not read)",
            m.address
        );
        return Err(ctx.format_error(FormatError::unsupported("superblock extension", addr, why)));
    }
    if let Some(m) = h.first(kinds::SHARED_MESSAGE_TABLE) {
        ext.sohm_table = Some(dense::parse_sohm_table_message(ctx, &m.data, m.address)?);
    }
    Ok(ext)
}
