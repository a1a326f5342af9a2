//! Superblock-extension messages that tune the file: file space info (0x17; the paged
//! strategy's page size) and B-tree 'K' values (0x13).

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

/// File space strategy "page": metadata and raw data aggregated into fixed-size pages.
pub const STRATEGY_PAGE: u8 = 1;

/// File space info message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSpaceInfo {
    /// Strategy (0 FSM+aggregators, 1 paged, 2 aggregators, 3 none).
    pub strategy: u8,
    /// Page size for the paged strategy (version 1 only).
    pub page_size: Option<u64>,
}

/// Decode a file space info message.
pub fn parse_file_space_info(buf: &[u8], address: u64, sizes: Sizes) -> Result<FileSpaceInfo> {
    let mut c = Cursor::new(buf, address, sizes, "file space info message");
    let version = c.u8()?;
    match version {
        0 => Ok(FileSpaceInfo {
            strategy: c.u8()?,
            page_size: None,
        }),
        1 => {
            let strategy = c.u8()?;
            c.skip(1)?; // persist free space
            c.length()?; // section threshold
            let page = c.length()?;
            Ok(FileSpaceInfo {
                strategy,
                page_size: (strategy == STRATEGY_PAGE && page > 0).then_some(page),
            })
        }
        v => Err(c.bad_version(v)),
    }
}

/// B-tree 'K' values message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BTreeKs {
    /// Chunk (indexed storage) B-tree internal K.
    pub indexed_storage: u16,
    /// Group B-tree internal K.
    pub group_internal: u16,
    /// Symbol table node K.
    pub group_leaf: u16,
}

/// Message type of B-tree 'K' values.
pub const BTREE_K: u16 = 0x13;

/// Decode a B-tree 'K' values message.
pub fn parse_btree_k(buf: &[u8], address: u64, sizes: Sizes) -> Result<BTreeKs> {
    let mut c = Cursor::new(buf, address, sizes, "B-tree K values message");
    let version = c.u8()?;
    if version != 0 {
        return Err(c.bad_version(version));
    }
    Ok(BTreeKs {
        indexed_storage: c.u16()?,
        group_internal: c.u16()?,
        group_leaf: c.u16()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paged_strategy_page_size() {
        // version 1, strategy 1 (page), persist 0, threshold 1, page 4 MiB, ...
        let mut b = vec![1, 1, 0];
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&(4u64 << 20).to_le_bytes());
        let i = parse_file_space_info(&b, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(
            i,
            FileSpaceInfo {
                strategy: 1,
                page_size: Some(4 << 20)
            }
        );
        let k = parse_btree_k(&[0, 64, 0, 16, 0, 4, 0], 0, Sizes::DEFAULT).unwrap();
        assert_eq!(
            k,
            BTreeKs {
                indexed_storage: 64,
                group_internal: 16,
                group_leaf: 4
            }
        );
    }
}
