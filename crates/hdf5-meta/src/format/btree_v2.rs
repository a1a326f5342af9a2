//! Version 2 B-trees: header (`BTHD`), internal nodes (`BTIN`), leaf nodes (`BTLF`) and the
//! record types used by the library (1–11).
//!
//! Walking a tree: [`BTreeV2Header::parse`] the header ([`BTreeV2Header::encoded_size`] bytes),
//! take [`BTreeV2Header::root`], fetch [`BTreeV2Header::node_size`] bytes at the node's address
//! (or just [`BTreeV2Header::node_used_size`]), [`Node::parse`] it, and recurse into
//! [`Node::children`]. In an internal node, record `i` sorts between children `i` and `i + 1`.
//!
//! Field widths in internal nodes follow the library: the per-child record count uses the byte
//! width of the *leaf* capacity at every level; the per-child total count (present only in
//! nodes of depth > 1) uses the byte width of the maximum total under a child's depth.
//! Node checksums sit right after the used records and pointers, not at the end of the node.

use crate::error::Result;
use crate::format::checksum::verify;
use crate::format::cursor::{bytes_for, Cursor, Sizes};
use crate::format::sohm::SohmRecord;

const HEADER: &str = "v2 B-tree header";
const INTERNAL: &str = "v2 B-tree internal node";
const LEAF: &str = "v2 B-tree leaf node";

/// Signature, version, type and checksum bytes of every node.
const NODE_OVERHEAD: u64 = 4 + 1 + 1 + 4;

/// Deepest tree accepted: a tree of depth d holds at least 2^d − 1 records.
const MAX_DEPTH: u16 = 64;

/// Capacity figures of one level of the tree (index = depth, 0 = leaves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Level {
    /// Maximum records in one node at this depth.
    max_records: u64,
    /// Maximum records in a node at this depth and all its descendants.
    max_total: u64,
    /// Bytes used to store `max_total`-bounded counts (0 at the leaf level: not stored).
    total_width: usize,
}

/// A decoded v2 B-tree header, with the per-depth capacities derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BTreeV2Header {
    /// Address of the header.
    pub address: u64,
    /// Record type (1–11).
    pub tree_type: u8,
    /// Size of every node in bytes.
    pub node_size: u32,
    /// Size of one record in bytes.
    pub record_size: u16,
    /// Depth of the tree (0 = the root is a leaf).
    pub depth: u16,
    /// Split threshold, percent full.
    pub split_percent: u8,
    /// Merge threshold, percent full.
    pub merge_percent: u8,
    /// Root node address; `None` for an empty tree.
    pub root_address: Option<u64>,
    /// Number of records in the root node.
    pub root_records: u16,
    /// Number of records in the whole tree.
    pub total_records: u64,
    /// Width of the per-child record counts in internal nodes.
    records_width: usize,
    levels: Vec<Level>,
}

/// A pointer to a node: what the header or a parent node knows about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRef {
    /// Address of the node.
    pub address: u64,
    /// Number of records in the node itself.
    pub records: u64,
    /// Number of records in the node and all its descendants.
    pub total_records: u64,
    /// Depth of the node (0 = leaf).
    pub depth: u16,
}

/// A decoded node: records in key order and, for internal nodes, `records + 1` children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Address of the node.
    pub address: u64,
    /// Depth of the node (0 = leaf).
    pub depth: u16,
    /// The node's records.
    pub records: Vec<Record>,
    /// Child pointers (empty for leaves).
    pub children: Vec<NodeRef>,
}

/// One v2 B-tree record, decoded by tree type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Type 1: huge fractal-heap object, indirectly accessed, not filtered.
    HugeObject {
        /// Address of the object.
        address: u64,
        /// Length of the object.
        length: u64,
        /// Huge object ID (the key stored in the heap ID).
        id: u64,
    },
    /// Type 2: huge fractal-heap object, indirectly accessed, filtered.
    FilteredHugeObject {
        /// Address of the filtered object.
        address: u64,
        /// Stored (filtered) length.
        length: u64,
        /// Filter mask.
        filter_mask: u32,
        /// De-filtered size.
        size: u64,
        /// Huge object ID.
        id: u64,
    },
    /// Type 3: huge fractal-heap object, directly accessed, not filtered.
    DirectHugeObject {
        /// Address of the object.
        address: u64,
        /// Length of the object.
        length: u64,
    },
    /// Type 4: huge fractal-heap object, directly accessed, filtered.
    DirectFilteredHugeObject {
        /// Address of the filtered object.
        address: u64,
        /// Stored (filtered) length.
        length: u64,
        /// Filter mask.
        filter_mask: u32,
        /// De-filtered size.
        size: u64,
    },
    /// Type 5: link name index of a dense group.
    LinkName {
        /// lookup3 hash of the link name.
        hash: u32,
        /// Heap ID of the link message in the group's fractal heap.
        heap_id: [u8; 7],
    },
    /// Type 6: link creation-order index of a dense group.
    LinkCreationOrder {
        /// Creation order of the link.
        creation_order: u64,
        /// Heap ID of the link message.
        heap_id: [u8; 7],
    },
    /// Type 7: shared object header message index.
    SharedMessage(SohmRecord),
    /// Type 8: attribute name index of dense attribute storage.
    AttributeName {
        /// Heap ID of the attribute message in the object's attribute heap.
        heap_id: [u8; 8],
        /// Object header message flags of the attribute message.
        message_flags: u8,
        /// Creation order of the attribute.
        creation_order: u32,
        /// lookup3 hash of the attribute name.
        hash: u32,
    },
    /// Type 9: attribute creation-order index.
    AttributeCreationOrder {
        /// Heap ID of the attribute message.
        heap_id: [u8; 8],
        /// Object header message flags of the attribute message.
        message_flags: u8,
        /// Creation order of the attribute.
        creation_order: u32,
    },
    /// Type 10: chunk of a dataset without filters.
    Chunk {
        /// Address of the chunk.
        address: u64,
        /// Chunk offsets in chunk units, one per dataset dimension.
        scaled_offsets: Vec<u64>,
    },
    /// Type 11: chunk of a filtered dataset.
    FilteredChunk {
        /// Address of the chunk.
        address: u64,
        /// Stored (filtered) size of the chunk.
        size: u64,
        /// Filter mask (bit set = filter skipped).
        filter_mask: u32,
        /// Chunk offsets in chunk units, one per dataset dimension.
        scaled_offsets: Vec<u64>,
    },
}

/// How to decode records of one tree.
#[derive(Debug, Clone, Copy)]
struct RecordLayout {
    tree_type: u8,
    /// Dataset rank for types 10/11.
    rank: usize,
    /// Width of the type-11 chunk-size field.
    chunk_size_width: usize,
}

impl BTreeV2Header {
    /// Encoded size of a header (fetch this many bytes).
    pub fn encoded_size(sizes: Sizes) -> usize {
        4 + 1
            + 1
            + 4
            + 2
            + 2
            + 1
            + 1
            + usize::from(sizes.offset)
            + 2
            + usize::from(sizes.length)
            + 4
    }

    /// Parse a header from `buf`, which starts at `address`. Verifies the checksum and derives
    /// the node capacities of every level.
    pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<Self> {
        let mut c = Cursor::new(buf, address, sizes, HEADER);
        c.require(Self::encoded_size(sizes))?;
        c.signature(b"BTHD")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.bad_version(version));
        }
        let tree_type = c.u8()?;
        let node_size = c.u32()?;
        let record_size = c.u16()?;
        let depth = c.u16()?;
        let split_percent = c.u8()?;
        let merge_percent = c.u8()?;
        let root_address = c.offset()?;
        let root_records = c.u16()?;
        let total_records = c.length()?;
        verify(HEADER, address, buf, c.pos())?;

        if !(1..=11).contains(&tree_type) {
            return Err(c.invalid(format!("unknown record type {tree_type}")));
        }
        if depth > MAX_DEPTH {
            return Err(c.invalid(format!("depth {depth}")));
        }
        let node = u64::from(node_size);
        let rec = u64::from(record_size);
        let leaf_max = node
            .saturating_sub(NODE_OVERHEAD)
            .checked_div(rec)
            .unwrap_or(0);
        if leaf_max == 0 {
            return Err(c.invalid(format!(
                "node size {node_size} holds no {record_size}-byte record"
            )));
        }
        let records_width = bytes_for(leaf_max);
        let mut levels = vec![Level {
            max_records: leaf_max,
            max_total: leaf_max,
            total_width: 0,
        }];
        let mut below = levels
            .first()
            .copied()
            .ok_or_else(|| c.invalid("no leaf level"))?;
        for d in 1..=depth {
            let pointer = u64::from(sizes.offset) + records_width as u64 + below.total_width as u64;
            let max_records = node
                .saturating_sub(NODE_OVERHEAD + pointer)
                .checked_div(rec + pointer)
                .unwrap_or(0);
            if max_records == 0 {
                return Err(c.invalid(format!("internal nodes at depth {d} hold no record")));
            }
            let max_total = (max_records + 1)
                .saturating_mul(below.max_total)
                .saturating_add(max_records);
            below = Level {
                max_records,
                max_total,
                total_width: bytes_for(max_total),
            };
            levels.push(below);
        }
        Ok(Self {
            address,
            tree_type,
            node_size,
            record_size,
            depth,
            split_percent,
            merge_percent,
            root_address,
            root_records,
            total_records,
            records_width,
            levels,
        })
    }

    /// Bytes of a node (the allocation size; the used part may be shorter).
    pub fn node_size(&self) -> usize {
        self.node_size as usize
    }

    /// The root node, or `None` for an empty tree.
    pub fn root(&self) -> Option<NodeRef> {
        Some(NodeRef {
            address: self.root_address?,
            records: u64::from(self.root_records),
            total_records: self.total_records,
            depth: self.depth,
        })
    }

    /// Maximum number of records in one node at `depth`.
    pub fn max_records(&self, depth: u16) -> Option<u64> {
        self.levels.get(usize::from(depth)).map(|l| l.max_records)
    }

    /// Size of one child pointer in an internal node at `depth` (≥ 1): address, record count
    /// and (for depth > 1) total record count.
    pub fn child_pointer_size(&self, sizes: Sizes, depth: u16) -> Option<usize> {
        let below = self.levels.get(usize::from(depth.checked_sub(1)?))?;
        Some(usize::from(sizes.offset) + self.records_width + below.total_width)
    }

    /// Bytes of `node` that hold data, checksum included.
    pub fn node_used_size(&self, sizes: Sizes, node: &NodeRef) -> Option<usize> {
        let n = usize::try_from(node.records).ok()?;
        let records = n.checked_mul(usize::from(self.record_size))?;
        let pointers = if node.depth > 0 {
            n.checked_add(1)?
                .checked_mul(self.child_pointer_size(sizes, node.depth)?)?
        } else {
            0
        };
        (NODE_OVERHEAD as usize)
            .checked_add(records)?
            .checked_add(pointers)
    }

    fn record_layout(
        &self,
        sizes: Sizes,
        rank: Option<u8>,
        c: &Cursor<'_>,
    ) -> Result<RecordLayout> {
        let o = usize::from(sizes.offset);
        let l = usize::from(sizes.length);
        let actual = usize::from(self.record_size);
        let mut layout = RecordLayout {
            tree_type: self.tree_type,
            rank: 0,
            chunk_size_width: 0,
        };
        let expected = match self.tree_type {
            1 => o + 2 * l,
            2 => o + 3 * l + 4,
            3 => o + l,
            4 => o + 2 * l + 4,
            5 => 4 + 7,
            6 => 8 + 7,
            7 => SohmRecord::encoded_size(sizes),
            8 => 8 + 1 + 4 + 4,
            9 => 8 + 1 + 4,
            10 | 11 => {
                let rank = usize::from(
                    rank.ok_or_else(|| c.invalid("chunk records need the dataset rank"))?,
                );
                if rank == 0 {
                    return Err(c.invalid("chunk records with rank 0"));
                }
                layout.rank = rank;
                if self.tree_type == 10 {
                    o + 8 * rank
                } else {
                    // The chunk-size width is whatever the record size leaves (layout v4 computes
                    // it from the chunk size, layout v5 uses Size of Lengths).
                    let width = actual
                        .checked_sub(o + 4 + 8 * rank)
                        .filter(|w| (1..=8).contains(w));
                    layout.chunk_size_width = width.ok_or_else(|| {
                        c.invalid(format!(
                            "record size {actual} leaves no chunk-size field for rank {rank}"
                        ))
                    })?;
                    actual
                }
            }
            t => return Err(c.invalid(format!("unknown record type {t}"))),
        };
        if expected != actual {
            return Err(c.invalid(format!(
                "record size {actual} for type {}, expected {expected}",
                self.tree_type
            )));
        }
        Ok(layout)
    }
}

fn address(c: &mut Cursor<'_>) -> Result<u64> {
    c.offset()?
        .ok_or_else(|| c.invalid("undefined address in record"))
}

fn heap_id<const N: usize>(c: &mut Cursor<'_>) -> Result<[u8; N]> {
    let bytes = c.bytes(N)?;
    <[u8; N]>::try_from(bytes).map_err(|_| c.invalid("heap ID"))
}

impl Record {
    fn decode(c: &mut Cursor<'_>, layout: &RecordLayout) -> Result<Self> {
        Ok(match layout.tree_type {
            1 => Record::HugeObject {
                address: address(c)?,
                length: c.length()?,
                id: c.length()?,
            },
            2 => Record::FilteredHugeObject {
                address: address(c)?,
                length: c.length()?,
                filter_mask: c.u32()?,
                size: c.length()?,
                id: c.length()?,
            },
            3 => Record::DirectHugeObject {
                address: address(c)?,
                length: c.length()?,
            },
            4 => Record::DirectFilteredHugeObject {
                address: address(c)?,
                length: c.length()?,
                filter_mask: c.u32()?,
                size: c.length()?,
            },
            5 => Record::LinkName {
                hash: c.u32()?,
                heap_id: heap_id(c)?,
            },
            6 => Record::LinkCreationOrder {
                creation_order: c.u64()?,
                heap_id: heap_id(c)?,
            },
            7 => Record::SharedMessage(SohmRecord::decode(c)?),
            8 => Record::AttributeName {
                heap_id: heap_id(c)?,
                message_flags: c.u8()?,
                creation_order: c.u32()?,
                hash: c.u32()?,
            },
            9 => Record::AttributeCreationOrder {
                heap_id: heap_id(c)?,
                message_flags: c.u8()?,
                creation_order: c.u32()?,
            },
            10 => {
                let address = address(c)?;
                let scaled_offsets = (0..layout.rank).map(|_| c.u64()).collect::<Result<_>>()?;
                Record::Chunk {
                    address,
                    scaled_offsets,
                }
            }
            11 => {
                let address = address(c)?;
                let size = c.uint(layout.chunk_size_width)?;
                let filter_mask = c.u32()?;
                let scaled_offsets = (0..layout.rank).map(|_| c.u64()).collect::<Result<_>>()?;
                Record::FilteredChunk {
                    address,
                    size,
                    filter_mask,
                    scaled_offsets,
                }
            }
            t => return Err(c.invalid(format!("unknown record type {t}"))),
        })
    }
}

impl Node {
    /// Parse the node `node` (from [`BTreeV2Header::root`] or a parent's children) from `buf`,
    /// which starts at `address`. `rank` is the dataset rank, required for record types 10/11.
    /// Verifies signature, type, counts against capacities, and the checksum.
    pub fn parse(
        buf: &[u8],
        address: u64,
        sizes: Sizes,
        header: &BTreeV2Header,
        node: &NodeRef,
        rank: Option<u8>,
    ) -> Result<Self> {
        let structure = if node.depth == 0 { LEAF } else { INTERNAL };
        let mut c = Cursor::new(buf, address, sizes, structure);
        if node.depth > header.depth {
            return Err(c.invalid(format!(
                "depth {} below a tree of depth {}",
                node.depth, header.depth
            )));
        }
        let max = header.max_records(node.depth).unwrap_or(0);
        if node.records > max {
            return Err(c.invalid(format!("{} records, at most {max} fit", node.records)));
        }
        let used = header
            .node_used_size(sizes, node)
            .ok_or_else(|| c.invalid("node size overflows"))?;
        if used > header.node_size() {
            return Err(c.invalid(format!("{used} used bytes exceed the node size")));
        }
        c.require(used)?;
        c.signature(if node.depth == 0 { b"BTLF" } else { b"BTIN" })?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.bad_version(version));
        }
        let tree_type = c.u8()?;
        if tree_type != header.tree_type {
            return Err(c.invalid(format!(
                "node type {tree_type} in a type-{} tree",
                header.tree_type
            )));
        }
        let layout = header.record_layout(sizes, rank, &c)?;
        // `used` (checked above) bounds these counts by the bytes in `buf`.
        let n = usize::try_from(node.records).map_err(|_| c.invalid("record count"))?;
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            let start = c.pos();
            records.push(Record::decode(&mut c, &layout)?);
            c.seek(start + usize::from(header.record_size));
        }
        let mut children = Vec::new();
        if node.depth > 0 {
            let child_depth = node.depth - 1;
            let total_width = header
                .levels
                .get(usize::from(child_depth))
                .map_or(0, |l| l.total_width);
            children.reserve(n + 1);
            for _ in 0..=n {
                let child = c
                    .offset()?
                    .ok_or_else(|| c.invalid("undefined child address"))?;
                let records = c.uint(header.records_width)?;
                let total_records = if child_depth > 0 {
                    c.uint(total_width)?
                } else {
                    records
                };
                children.push(NodeRef {
                    address: child,
                    records,
                    total_records,
                    depth: child_depth,
                });
            }
        }
        verify(structure, address, buf, c.pos())?;
        Ok(Self {
            address,
            depth: node.depth,
            records,
            children,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::FormatError;
    use crate::format::checksum::lookup3;

    const S8: Sizes = Sizes {
        offset: 8,
        length: 8,
    };

    /// Append the lookup3 checksum of everything so far.
    fn seal(mut v: Vec<u8>) -> Vec<u8> {
        let sum = lookup3(&v, 0);
        v.extend_from_slice(&sum.to_le_bytes());
        v
    }

    fn header_bytes(
        tree_type: u8,
        node_size: u32,
        record_size: u16,
        depth: u16,
        root: u64,
        nroot: u16,
        total: u64,
    ) -> Vec<u8> {
        let mut v = b"BTHD".to_vec();
        v.push(0);
        v.push(tree_type);
        v.extend_from_slice(&node_size.to_le_bytes());
        v.extend_from_slice(&record_size.to_le_bytes());
        v.extend_from_slice(&depth.to_le_bytes());
        v.extend_from_slice(&[100, 40]);
        v.extend_from_slice(&root.to_le_bytes());
        v.extend_from_slice(&nroot.to_le_bytes());
        v.extend_from_slice(&total.to_le_bytes());
        seal(v)
    }

    // Capacities for the library's link-name trees (node 512, record 11, O = 8):
    // leaf (512 − 10) / 11 = 45 → 1-byte counts; depth 1: pointer 8 + 1 = 9 →
    // (512 − 10 − 9) / 20 = 24, total (24 + 1)·45 + 24 = 1149 → 2 bytes; depth 2: pointer
    // 8 + 1 + 2 = 11 → (512 − 10 − 11) / 22 = 22, total 23·1149 + 22 = 26449.
    #[test]
    fn capacities_follow_the_library() {
        let h =
            BTreeV2Header::parse(&header_bytes(5, 512, 11, 3, 4096, 1, 20000), 100, S8).unwrap();
        assert_eq!(h.max_records(0), Some(45));
        assert_eq!(h.max_records(1), Some(24));
        assert_eq!(h.max_records(2), Some(22));
        assert_eq!(h.child_pointer_size(S8, 1), Some(9));
        assert_eq!(h.child_pointer_size(S8, 2), Some(11));
        assert_eq!(h.child_pointer_size(S8, 3), Some(11));
        assert_eq!(h.levels[1].max_total, 1149);
        assert_eq!(h.levels[2].max_total, 26449);
    }

    #[test]
    fn header_rejects_bad_checksum_and_tiny_nodes() {
        let mut b = header_bytes(5, 512, 11, 0, 4096, 1, 1);
        b[8] ^= 1;
        assert!(matches!(
            BTreeV2Header::parse(&b, 0, S8),
            Err(FormatError::Checksum { .. })
        ));
        let b = header_bytes(5, 12, 11, 0, 4096, 1, 1);
        assert!(matches!(
            BTreeV2Header::parse(&b, 0, S8),
            Err(FormatError::Invalid { .. })
        ));
        let b = header_bytes(5, 512, 11, 0, 4096, 1, 1);
        assert!(matches!(
            BTreeV2Header::parse(&b[..20], 0, S8),
            Err(FormatError::Incomplete { needed: 38, .. })
        ));
    }

    #[test]
    fn leaf_with_link_name_records() {
        let h = BTreeV2Header::parse(&header_bytes(5, 512, 11, 0, 4096, 2, 2), 0, S8).unwrap();
        let mut v = b"BTLF".to_vec();
        v.extend_from_slice(&[0, 5]);
        for (hash, id) in [(7u32, [0u8, 1, 2, 3, 4, 5, 6]), (9, [0, 9, 9, 9, 9, 9, 9])] {
            v.extend_from_slice(&hash.to_le_bytes());
            v.extend_from_slice(&id);
        }
        let mut node = seal(v);
        node.resize(512, 0); // the rest of the node is unused
        let root = h.root().unwrap();
        let n = Node::parse(&node, 4096, S8, &h, &root, None).unwrap();
        assert!(n.children.is_empty());
        assert_eq!(
            n.records[1],
            Record::LinkName {
                hash: 9,
                heap_id: [0, 9, 9, 9, 9, 9, 9]
            }
        );
        // A wrong type byte is rejected.
        node[5] = 6;
        assert!(Node::parse(&node, 4096, S8, &h, &root, None).is_err());
    }

    #[test]
    fn internal_node_pointer_widths() {
        // Depth-2 tree: the root's children are depth-1 nodes, so each pointer is
        // address (8) + count (1) + total (2).
        let h = BTreeV2Header::parse(&header_bytes(6, 512, 15, 2, 8192, 1, 70), 0, S8).unwrap();
        let mut v = b"BTIN".to_vec();
        v.extend_from_slice(&[0, 6]);
        v.extend_from_slice(&33u64.to_le_bytes());
        v.extend_from_slice(&[0, 0, 0, 0, 0x21, 0, 0]);
        for (addr, count, total) in [(1000u64, 2u8, 34u16), (2000, 1, 35)] {
            v.extend_from_slice(&addr.to_le_bytes());
            v.push(count);
            v.extend_from_slice(&total.to_le_bytes());
        }
        let node = seal(v);
        let n = Node::parse(&node, 8192, S8, &h, &h.root().unwrap(), None).unwrap();
        assert_eq!(
            n.records,
            vec![Record::LinkCreationOrder {
                creation_order: 33,
                heap_id: [0, 0, 0, 0, 0x21, 0, 0]
            }]
        );
        assert_eq!(
            n.children,
            vec![
                NodeRef {
                    address: 1000,
                    records: 2,
                    total_records: 34,
                    depth: 1
                },
                NodeRef {
                    address: 2000,
                    records: 1,
                    total_records: 35,
                    depth: 1
                },
            ]
        );
    }

    #[test]
    fn filtered_chunk_width_comes_from_record_size() {
        // Rank 2, O = 8, 3-byte chunk size (layout v4 with a 400-byte chunk): 8 + 3 + 4 + 16 = 31.
        let h = BTreeV2Header::parse(&header_bytes(11, 2048, 31, 0, 64, 1, 1), 0, S8).unwrap();
        let mut v = b"BTLF".to_vec();
        v.extend_from_slice(&[0, 11]);
        v.extend_from_slice(&5000u64.to_le_bytes());
        v.extend_from_slice(&[0x90, 0x01, 0x00]);
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(&3u64.to_le_bytes());
        v.extend_from_slice(&4u64.to_le_bytes());
        let node = seal(v);
        let n = Node::parse(&node, 64, S8, &h, &h.root().unwrap(), Some(2)).unwrap();
        assert_eq!(
            n.records,
            vec![Record::FilteredChunk {
                address: 5000,
                size: 400,
                filter_mask: 2,
                scaled_offsets: vec![3, 4]
            }]
        );
        // Without a rank, or with the wrong one, the record cannot be decoded.
        assert!(Node::parse(&node, 64, S8, &h, &h.root().unwrap(), None).is_err());
        assert!(Node::parse(&node, 64, S8, &h, &h.root().unwrap(), Some(3)).is_err());
    }

    #[test]
    fn huge_object_records_at_small_sizes() {
        // O = L = 4: type 1 record = 4 + 4 + 4 = 12 bytes.
        let s4 = Sizes {
            offset: 4,
            length: 4,
        };
        let mut v = b"BTHD".to_vec();
        v.extend_from_slice(&[0, 1]);
        v.extend_from_slice(&512u32.to_le_bytes());
        v.extend_from_slice(&12u16.to_le_bytes());
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&[100, 40]);
        v.extend_from_slice(&77u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        let h = BTreeV2Header::parse(&seal(v), 0, s4).unwrap();
        let mut v = b"BTLF".to_vec();
        v.extend_from_slice(&[0, 1]);
        for x in [9000u32, 160_000, 1] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        let n = Node::parse(&seal(v), 77, s4, &h, &h.root().unwrap(), None).unwrap();
        assert_eq!(
            n.records,
            vec![Record::HugeObject {
                address: 9000,
                length: 160_000,
                id: 1
            }]
        );
    }
}
