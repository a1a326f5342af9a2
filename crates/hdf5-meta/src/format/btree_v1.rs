//! Version 1 B-tree nodes (`TREE`): group nodes (type 0) and raw-data chunk nodes (type 1).
//!
//! Node: signature (4), node type (1), level (1, 0 = leaf), entries used (2), left and right
//! sibling addresses (O each), then `key 0, child 0, key 1, …, child n−1, key n`. Nodes have
//! no checksum and are allocated for 2K children (K = group internal K, or indexed-storage K
//! for chunk trees), so their size is known before reading.
//!
//! * Type 0 keys: L-byte offsets into the group's local heap (the largest name in the left
//!   subtree); children are `SNOD` addresses at level 0, B-tree nodes above.
//! * Type 1 keys: chunk size in bytes as stored (4), filter mask (4), then rank + 1 offsets of
//!   8 bytes each in element units (the last, for the datatype dimension, is always 0);
//!   children are chunk addresses at level 0, B-tree nodes above.

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

/// Signature of a v1 B-tree node.
pub const TREE_SIGNATURE: &[u8; 4] = b"TREE";

/// Largest dataspace rank the library allows (`H5S_MAX_RANK`).
pub const MAX_RANK: usize = 32;

/// Which kind of tree a node belongs to; the caller knows it from where the address came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BTreeKind {
    /// Node type 0: group symbol table nodes.
    Group,
    /// Node type 1: raw-data chunks of a dataset of rank `rank` (the layout message's
    /// dimensionality minus one: the element-size dimension is not counted).
    Chunk {
        /// Dataset rank (number of dataspace dimensions), at most [`MAX_RANK`].
        rank: usize,
    },
}

impl BTreeKind {
    /// The node type byte stored in the node (0 or 1).
    pub fn node_type(self) -> u8 {
        match self {
            BTreeKind::Group => 0,
            BTreeKind::Chunk { .. } => 1,
        }
    }

    /// Encoded size of one key: L for groups, `8 + 8·(rank + 1)` for chunks.
    pub fn key_len(self, sizes: Sizes) -> usize {
        match self {
            BTreeKind::Group => usize::from(sizes.length),
            BTreeKind::Chunk { rank } => rank.saturating_add(1).saturating_mul(8).saturating_add(8),
        }
    }
}

/// Total allocated size of a node with the given K: `8 + 2O + (2K + 1)·key + 2K·O`
/// (2 616 bytes for a rank-2 chunk tree with K = 32 at O = 8; 544 for a group tree with
/// K = 16). Saturates instead of overflowing.
pub fn node_size(sizes: Sizes, kind: BTreeKind, k: u16) -> usize {
    let o = usize::from(sizes.offset);
    let two_k = 2 * usize::from(k);
    8usize
        .saturating_add(2 * o)
        .saturating_add((two_k + 1).saturating_mul(kind.key_len(sizes)))
        .saturating_add(two_k.saturating_mul(o))
}

/// Key of a raw-data chunk node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkKey {
    /// Size of the chunk as stored (after filters), in bytes.
    pub chunk_size: u32,
    /// Filter mask: bit i set means filter i of the pipeline was skipped for this chunk.
    pub filter_mask: u32,
    /// Offset of the chunk's first element in each of the `rank` dataset dimensions, in
    /// element units (the trailing datatype-dimension offset is dropped).
    pub offsets: Vec<u64>,
}

/// The keys of a node (always `entries_used + 1` of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    /// Group node keys: local-heap offsets of names.
    Group(Vec<u64>),
    /// Chunk node keys.
    Chunk(Vec<ChunkKey>),
}

/// A decoded v1 B-tree node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BTreeNode {
    /// The kind of tree, as passed to [`parse_node`].
    pub kind: BTreeKind,
    /// Level: 0 for leaves; children of a level-n node are level n−1 nodes.
    pub level: u8,
    /// Number of children in use.
    pub entries_used: u16,
    /// Address of the left sibling at the same level, if any.
    pub left_sibling: Option<u64>,
    /// Address of the right sibling at the same level, if any.
    pub right_sibling: Option<u64>,
    /// `entries_used + 1` keys; child i lies between key i and key i+1.
    pub keys: Keys,
    /// `entries_used` child addresses: `SNOD` nodes or chunks at level 0, `TREE` nodes above.
    pub children: Vec<u64>,
}

/// Parse a v1 B-tree node of the given kind at `address`. Only the used entries are read,
/// so `buf` may stop after the last used key; the count is bounded by the bytes of `buf`
/// (a short slice yields `Incomplete` with the size needed).
pub fn parse_node(buf: &[u8], address: u64, sizes: Sizes, kind: BTreeKind) -> Result<BTreeNode> {
    let mut cur = Cursor::new(buf, address, sizes, "v1 B-tree node");
    cur.signature(TREE_SIGNATURE)?;
    let node_type = cur.u8()?;
    if node_type != kind.node_type() {
        return Err(cur.invalid(format!(
            "node type {node_type}, expected {}",
            kind.node_type()
        )));
    }
    if let BTreeKind::Chunk { rank } = kind {
        if rank > MAX_RANK {
            return Err(cur.invalid(format!("chunk key rank {rank} exceeds {MAX_RANK}")));
        }
    }
    let level = cur.u8()?;
    let entries_used = cur.u16()?;
    let left_sibling = cur.offset()?;
    let right_sibling = cur.offset()?;
    let n = usize::from(entries_used);
    let key_len = kind.key_len(sizes);
    let o = usize::from(sizes.offset);
    // n + 1 keys and n children; both factors are small (u16 count, rank ≤ 32).
    cur.require((n + 1) * key_len + n * o)?;
    let mut children = Vec::with_capacity(n);
    let keys = match kind {
        BTreeKind::Group => {
            let mut keys = Vec::with_capacity(n + 1);
            for i in 0..=n {
                keys.push(cur.length()?);
                if i < n {
                    children.push(read_child(&mut cur, i)?);
                }
            }
            Keys::Group(keys)
        }
        BTreeKind::Chunk { rank } => {
            let mut keys = Vec::with_capacity(n + 1);
            for i in 0..=n {
                let chunk_size = cur.u32()?;
                let filter_mask = cur.u32()?;
                let mut offsets = Vec::with_capacity(rank);
                for _ in 0..rank {
                    offsets.push(cur.u64()?);
                }
                cur.skip(8)?; // datatype-dimension offset, always 0
                keys.push(ChunkKey {
                    chunk_size,
                    filter_mask,
                    offsets,
                });
                if i < n {
                    children.push(read_child(&mut cur, i)?);
                }
            }
            Keys::Chunk(keys)
        }
    };
    Ok(BTreeNode {
        kind,
        level,
        entries_used,
        left_sibling,
        right_sibling,
        keys,
        children,
    })
}

fn read_child(cur: &mut Cursor<'_>, i: usize) -> Result<u64> {
    cur.offset()?
        .ok_or_else(|| cur.invalid(format!("child {i} address is undefined")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::FormatError;
    use crate::format::symbol_table::tests::le;
    use proptest::prelude::*;

    /// Encode a node per the format spec (III.A.1), padded to the allocated size for `k`.
    fn encode(sizes: Sizes, node: &BTreeNode, k: u16) -> Vec<u8> {
        let mut out = b"TREE".to_vec();
        out.extend([node.kind.node_type(), node.level]);
        out.extend(node.entries_used.to_le_bytes());
        out.extend(le(node.left_sibling, sizes.offset));
        out.extend(le(node.right_sibling, sizes.offset));
        let nkeys = node.entries_used as usize + 1;
        for i in 0..nkeys {
            match &node.keys {
                Keys::Group(keys) => out.extend(le(Some(keys[i]), sizes.length)),
                Keys::Chunk(keys) => {
                    out.extend(keys[i].chunk_size.to_le_bytes());
                    out.extend(keys[i].filter_mask.to_le_bytes());
                    for off in &keys[i].offsets {
                        out.extend(off.to_le_bytes());
                    }
                    out.extend([0; 8]);
                }
            }
            if let Some(c) = node.children.get(i) {
                out.extend(le(Some(*c), sizes.offset));
            }
        }
        out.resize(node_size(sizes, node.kind, k), 0);
        out
    }

    fn group_node() -> BTreeNode {
        BTreeNode {
            kind: BTreeKind::Group,
            level: 0,
            entries_used: 2,
            left_sibling: None,
            right_sibling: Some(4000),
            keys: Keys::Group(vec![0, 8, 24]),
            children: vec![1072, 1400],
        }
    }

    fn chunk_node(rank: usize) -> BTreeNode {
        let key = |i: u64| ChunkKey {
            chunk_size: 400 + i as u32,
            filter_mask: i as u32 & 1,
            offsets: (0..rank as u64).map(|d| i * 10 + d).collect(),
        };
        BTreeNode {
            kind: BTreeKind::Chunk { rank },
            level: 0,
            entries_used: 3,
            left_sibling: Some(100),
            right_sibling: None,
            keys: Keys::Chunk((0..4).map(key).collect()),
            children: vec![5000, 5400, 5800],
        }
    }

    #[test]
    fn sizes_match_spec() {
        // Reference notes §1.6: 2 616 bytes for a rank-2 chunk tree at O = 8 with K = 32;
        // the official btree_idx_1_6.h5 places the next object 544 bytes after a K = 16 group node.
        assert_eq!(
            node_size(Sizes::DEFAULT, BTreeKind::Chunk { rank: 2 }, 32),
            2616
        );
        assert_eq!(node_size(Sizes::DEFAULT, BTreeKind::Group, 16), 544);
        assert_eq!(
            node_size(
                Sizes::DEFAULT,
                BTreeKind::Chunk { rank: usize::MAX },
                u16::MAX
            ),
            usize::MAX
        );
    }

    #[test]
    fn round_trips() {
        for sizes in [
            Sizes::DEFAULT,
            Sizes {
                offset: 4,
                length: 4,
            },
            Sizes {
                offset: 4,
                length: 8,
            },
        ] {
            let g = group_node();
            assert_eq!(
                parse_node(&encode(sizes, &g, 16), 384, sizes, BTreeKind::Group).unwrap(),
                g
            );
            for rank in [0, 1, 3] {
                let c = chunk_node(rank);
                let bytes = encode(sizes, &c, 32);
                assert_eq!(parse_node(&bytes, 384, sizes, c.kind).unwrap(), c);
            }
        }
    }

    /// Any node the encoder can write (sizes 4 or 8, any level, up to 2K children, random
    /// keys, siblings and defined child addresses) parses back to itself.
    fn arbitrary_node() -> impl Strategy<Value = (Sizes, BTreeNode, u16)> {
        let sizes = prop::sample::select(vec![(4u8, 4u8), (4, 8), (8, 4), (8, 8)]);
        (sizes, 1u16..40, 0usize..6, any::<bool>(), any::<u8>()).prop_flat_map(
            |((o, l), k, rank, group, level)| {
                let sizes = Sizes {
                    offset: o,
                    length: l,
                };
                let addr_max = if o == 4 {
                    u64::from(u32::MAX) - 1
                } else {
                    u64::MAX - 1
                };
                let len_max = if l == 4 {
                    u64::from(u32::MAX)
                } else {
                    u64::MAX
                };
                let kind = if group {
                    BTreeKind::Group
                } else {
                    BTreeKind::Chunk { rank }
                };
                let max_children = usize::from(2 * k);
                (0..=max_children).prop_flat_map(move |n| {
                    let keys = if group {
                        prop::collection::vec(0..=len_max, n + 1)
                            .prop_map(Keys::Group)
                            .boxed()
                    } else {
                        prop::collection::vec(
                            (
                                any::<u32>(),
                                any::<u32>(),
                                prop::collection::vec(any::<u64>(), rank),
                            )
                                .prop_map(
                                    |(chunk_size, filter_mask, offsets)| ChunkKey {
                                        chunk_size,
                                        filter_mask,
                                        offsets,
                                    },
                                ),
                            n + 1,
                        )
                        .prop_map(Keys::Chunk)
                        .boxed()
                    };
                    let sibling = prop::option::of(0..=addr_max);
                    (
                        keys,
                        prop::collection::vec(0..=addr_max, n),
                        sibling.clone(),
                        sibling,
                    )
                        .prop_map(
                            move |(keys, children, left_sibling, right_sibling)| {
                                let node = BTreeNode {
                                    kind,
                                    level,
                                    entries_used: n as u16,
                                    left_sibling,
                                    right_sibling,
                                    keys,
                                    children,
                                };
                                (sizes, node, k)
                            },
                        )
                })
            },
        )
    }

    proptest! {
        #[test]
        fn encoded_nodes_parse_back((sizes, node, k) in arbitrary_node(), address in any::<u64>()) {
            let bytes = encode(sizes, &node, k);
            prop_assert_eq!(bytes.len(), node_size(sizes, node.kind, k));
            prop_assert_eq!(parse_node(&bytes, address, sizes, node.kind).unwrap(), node);
        }
    }

    #[test]
    fn errors() {
        let sizes = Sizes::DEFAULT;
        let c = chunk_node(2);
        let bytes = encode(sizes, &c, 32);
        // Wrong kind and wrong rank bound.
        assert!(matches!(
            parse_node(&bytes, 0, sizes, BTreeKind::Group),
            Err(FormatError::Invalid { .. })
        ));
        assert!(matches!(
            parse_node(&bytes, 0, sizes, BTreeKind::Chunk { rank: 33 }),
            Err(FormatError::Invalid { .. })
        ));
        // Needs header (24) + 4 keys of 32 + 3 children of 8 = 176 bytes.
        assert!(matches!(
            parse_node(&bytes[..100], 9, sizes, c.kind),
            Err(FormatError::Incomplete {
                needed: 176,
                offset: 9,
                ..
            })
        ));
        assert!(parse_node(&bytes[..176], 9, sizes, c.kind).is_ok());
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(matches!(
            parse_node(&bad, 0, sizes, c.kind),
            Err(FormatError::BadSignature { .. })
        ));
        // Undefined child address.
        let mut bad = bytes;
        bad[24 + 32..24 + 40].copy_from_slice(&[0xff; 8]);
        assert!(matches!(
            parse_node(&bad, 0, sizes, c.kind),
            Err(FormatError::Invalid { .. })
        ));
        // Maximum stored count over a short slice.
        let mut huge = b"TREE\x00\x00\xff\xff".to_vec();
        huge.extend([0xff; 16]);
        assert!(matches!(
            parse_node(&huge, 0, sizes, BTreeKind::Group),
            Err(FormatError::Incomplete { .. })
        ));
    }
}
