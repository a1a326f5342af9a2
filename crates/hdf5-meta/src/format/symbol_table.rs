//! Symbol table entries and `SNOD` symbol table nodes (old-style groups).
//!
//! An old-style group is a v1 B-tree of node type 0 whose leaves point at `SNOD` nodes; each
//! node holds up to 2·(group leaf K) symbol table entries, and link names live in the group's
//! local heap. The superblock (versions 0/1) also embeds one entry for the root group.
//!
//! Entry layout: link-name offset (Size of *Lengths* bytes — the C library decodes it as a
//! length, even though it is described next to addresses), object header address (O), cache
//! type (4), reserved (4), scratch pad (16) — `L + O + 24` bytes.

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

/// Signature of a symbol table node.
pub const SNOD_SIGNATURE: &[u8; 4] = b"SNOD";

/// Bytes before the first entry of a symbol table node: signature, version, reserved, count.
pub const NODE_HEADER_LEN: usize = 8;

/// Size of the scratch-pad area of a symbol table entry.
const SCRATCH_LEN: usize = 16;

/// What a symbol table entry caches in its 16-byte scratch pad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scratch {
    /// Cache type 0: nothing cached (datasets, named datatypes, groups without a cache).
    Nothing,
    /// Cache type 1: the object is an old-style group; its v1 B-tree and local heap addresses.
    Group {
        /// Address of the group's v1 B-tree (node type 0).
        btree_address: Option<u64>,
        /// Address of the group's local heap header.
        heap_address: Option<u64>,
    },
    /// Cache type 2: a soft link; the object header address is undefined and the link value
    /// (target path) is a NUL-terminated string at this offset in the parent's local heap.
    SoftLink {
        /// Offset of the link value within the parent group's local heap data segment.
        link_value_offset: u32,
    },
}

/// One symbol table entry (one link of an old-style group, or the superblock's root entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolTableEntry {
    /// Offset of the link name within the group's local heap data segment.
    pub link_name_offset: u64,
    /// Address of the object header; `None` for soft links.
    pub object_header_address: Option<u64>,
    /// The raw cache type (0, 1 or 2).
    pub cache_type: u32,
    /// The decoded scratch pad.
    pub scratch: Scratch,
}

/// Encoded size of one symbol table entry: `L + O + 24` (40 bytes at O = L = 8).
pub fn entry_len(sizes: Sizes) -> usize {
    usize::from(sizes.length) + usize::from(sizes.offset) + 8 + SCRATCH_LEN
}

/// Allocated size of a symbol table node for the given group leaf K: `8 + 2K · entry_len`
/// (328 bytes with K = 4 at O = L = 8). Nodes are always written at full size.
pub fn node_size(sizes: Sizes, group_leaf_k: u16) -> usize {
    NODE_HEADER_LEN.saturating_add(
        usize::from(group_leaf_k)
            .saturating_mul(2)
            .saturating_mul(entry_len(sizes)),
    )
}

/// Read one symbol table entry at the cursor position; errors name the cursor's structure.
pub fn read_entry(cur: &mut Cursor<'_>) -> Result<SymbolTableEntry> {
    let link_name_offset = cur.length()?;
    let object_header_address = cur.offset()?;
    let cache_type = cur.u32()?;
    cur.skip(4)?; // reserved
    let scratch_bytes = cur.bytes(SCRATCH_LEN)?;
    let mut scratch_cur = Cursor::new(
        scratch_bytes,
        cur.address().saturating_sub(SCRATCH_LEN as u64),
        cur.sizes(),
        cur.structure(),
    );
    let scratch = match cache_type {
        0 => Scratch::Nothing,
        1 => {
            if 2 * usize::from(cur.sizes().offset) > SCRATCH_LEN {
                return Err(cur.unsupported(
                    "cached symbol table addresses wider than the 16-byte scratch pad",
                ));
            }
            Scratch::Group {
                btree_address: scratch_cur.offset()?,
                heap_address: scratch_cur.offset()?,
            }
        }
        2 => Scratch::SoftLink {
            link_value_offset: scratch_cur.u32()?,
        },
        other => return Err(cur.invalid(format!("unknown symbol table entry cache type {other}"))),
    };
    Ok(SymbolTableEntry {
        link_name_offset,
        object_header_address,
        cache_type,
        scratch,
    })
}

/// Parse one symbol table entry from `buf`, which starts at the entry's `address`.
pub fn parse_entry(buf: &[u8], address: u64, sizes: Sizes) -> Result<SymbolTableEntry> {
    let mut cur = Cursor::new(buf, address, sizes, "symbol table entry");
    read_entry(&mut cur)
}

/// Parse a `SNOD` symbol table node at `address` and return its used entries (the stored
/// count, in name order). Unused slots after the count are not read. The number of entries
/// is bounded by the bytes of `buf`: a count that runs past the slice yields `Incomplete`.
pub fn parse_node(buf: &[u8], address: u64, sizes: Sizes) -> Result<Vec<SymbolTableEntry>> {
    let mut cur = Cursor::new(buf, address, sizes, "symbol table node");
    cur.signature(SNOD_SIGNATURE)?;
    let version = cur.u8()?;
    if version != 1 {
        return Err(cur.bad_version(version));
    }
    cur.skip(1)?; // reserved
    let count = usize::from(cur.u16()?);
    let total = count.saturating_mul(entry_len(sizes));
    cur.require(total)?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        entries.push(read_entry(&mut cur)?);
    }
    Ok(entries)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub(crate) mod tests {
    use super::*;
    use crate::error::FormatError;

    /// Little-endian `n`-byte encoding of `v` (all ones when `v` is `None`).
    pub(crate) fn le(v: Option<u64>, n: u8) -> Vec<u8> {
        match v {
            Some(v) => (0..n)
                .map(|i| if i < 8 { (v >> (8 * i)) as u8 } else { 0 })
                .collect(),
            None => vec![0xff; usize::from(n)],
        }
    }

    /// Encode a symbol table entry per the format spec (III.C, "Symbol Table Entry").
    pub(crate) fn encode_entry(e: &SymbolTableEntry, sizes: Sizes) -> Vec<u8> {
        let mut out = le(Some(e.link_name_offset), sizes.length);
        out.extend(le(e.object_header_address, sizes.offset));
        out.extend(e.cache_type.to_le_bytes());
        out.extend([0; 4]);
        let mut scratch = Vec::new();
        match e.scratch {
            Scratch::Nothing => {}
            Scratch::Group {
                btree_address,
                heap_address,
            } => {
                scratch.extend(le(btree_address, sizes.offset));
                scratch.extend(le(heap_address, sizes.offset));
            }
            Scratch::SoftLink { link_value_offset } => {
                scratch.extend(link_value_offset.to_le_bytes())
            }
        }
        scratch.resize(SCRATCH_LEN, 0);
        out.extend(scratch);
        out
    }

    fn encode_node(entries: &[SymbolTableEntry], sizes: Sizes, leaf_k: u16) -> Vec<u8> {
        let mut out = b"SNOD".to_vec();
        out.extend([1, 0]);
        out.extend((entries.len() as u16).to_le_bytes());
        for e in entries {
            out.extend(encode_entry(e, sizes));
        }
        out.resize(node_size(sizes, leaf_k), 0);
        out
    }

    fn sample() -> Vec<SymbolTableEntry> {
        vec![
            SymbolTableEntry {
                link_name_offset: 8,
                object_header_address: Some(800),
                cache_type: 1,
                scratch: Scratch::Group {
                    btree_address: Some(136),
                    heap_address: Some(680),
                },
            },
            SymbolTableEntry {
                link_name_offset: 16,
                object_header_address: Some(2000),
                cache_type: 0,
                scratch: Scratch::Nothing,
            },
            SymbolTableEntry {
                link_name_offset: 24,
                object_header_address: None,
                cache_type: 2,
                scratch: Scratch::SoftLink {
                    link_value_offset: 32,
                },
            },
        ]
    }

    #[test]
    fn sizes_match_spec() {
        // 40-byte entries at O = L = 8; 8 + 2·4·40 = 328-byte node with the default leaf K 4.
        assert_eq!(entry_len(Sizes::DEFAULT), 40);
        assert_eq!(node_size(Sizes::DEFAULT, 4), 328);
        assert_eq!(
            entry_len(Sizes {
                offset: 4,
                length: 4
            }),
            32
        );
    }

    #[test]
    fn node_round_trip_both_widths() {
        for sizes in [
            Sizes::DEFAULT,
            Sizes {
                offset: 4,
                length: 4,
            },
            Sizes {
                offset: 8,
                length: 4,
            },
        ] {
            let bytes = encode_node(&sample(), sizes, 4);
            assert_eq!(parse_node(&bytes, 1072, sizes).unwrap(), sample());
        }
    }

    #[test]
    fn node_errors() {
        let sizes = Sizes::DEFAULT;
        let bytes = encode_node(&sample(), sizes, 4);
        // Short slice: asks for the header plus the three used entries.
        let err = parse_node(&bytes[..50], 1072, sizes).unwrap_err();
        assert_eq!(
            err,
            FormatError::Incomplete {
                structure: "symbol table node",
                offset: 1072,
                needed: 128
            }
        );
        let mut bad = bytes.clone();
        bad[4] = 2;
        assert!(matches!(
            parse_node(&bad, 0, sizes),
            Err(FormatError::UnsupportedVersion { version: 2, .. })
        ));
        bad = bytes.clone();
        bad[0] = b'X';
        assert!(matches!(
            parse_node(&bad, 0, sizes),
            Err(FormatError::BadSignature { .. })
        ));
        // Unknown cache type 7 in the first entry.
        bad = bytes;
        bad[8 + 16] = 7;
        assert!(matches!(
            parse_node(&bad, 0, sizes),
            Err(FormatError::Invalid { .. })
        ));
        // A huge stored count over a short buffer is an Incomplete, not an allocation.
        let mut huge = b"SNOD\x01\x00\xff\xff".to_vec();
        huge.extend([0; 40]);
        assert!(matches!(
            parse_node(&huge, 0, sizes),
            Err(FormatError::Incomplete { .. })
        ));
    }

    #[test]
    fn sixteen_byte_addresses_do_not_fit_the_scratch_pad() {
        let sizes = Sizes {
            offset: 16,
            length: 8,
        };
        let mut bytes = le(Some(0), 8);
        bytes.extend(le(Some(96), 16));
        bytes.extend(1u32.to_le_bytes());
        bytes.extend([0; 20]);
        assert!(matches!(
            parse_entry(&bytes, 0, sizes),
            Err(FormatError::Unsupported { .. })
        ));
    }
}
