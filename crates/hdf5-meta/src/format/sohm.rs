//! Shared object header messages: the table of indexes (`SMTB`, reached from the Shared
//! Message Table message in the superblock extension), list indexes (`SMLI`) and the index
//! record format shared with v2 B-tree record type 7.
//!
//! To resolve a shared message stored in a SOHM heap (shared-message encoding v3, type 1) a
//! reader only needs the heap address of the index whose message-type flags cover the
//! message: see [`SharedMessageTable::index_for`]. The list / B-tree records are for writers
//! and consistency checks.

use crate::error::Result;
use crate::format::checksum::verify;
use crate::format::cursor::{Cursor, Sizes};

const TABLE: &str = "shared message table";
const LIST: &str = "shared message list";

/// Storage form of one index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SohmIndexType {
    /// An `SMLI` list of records.
    List,
    /// A v2 B-tree of type-7 records.
    BTree,
}

/// One index of the shared-message table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SohmIndex {
    /// Index format version (0).
    pub version: u8,
    /// Whether the index is a list or a v2 B-tree.
    pub index_type: SohmIndexType,
    /// Message types tracked: bit 0 dataspace, 1 datatype, 2 fill value, 3 filter pipeline,
    /// 4 attribute.
    pub message_types: u16,
    /// Messages smaller than this are not shared.
    pub min_message_size: u32,
    /// Above this many messages the list becomes a B-tree.
    pub list_cutoff: u16,
    /// Below this many messages the B-tree becomes a list.
    pub btree_cutoff: u16,
    /// Number of messages in the index.
    pub message_count: u16,
    /// Address of the `SMLI` list or the v2 B-tree header.
    pub index_address: Option<u64>,
    /// Address of the fractal heap holding the shared messages.
    pub heap_address: Option<u64>,
}

/// The decoded shared-message table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedMessageTable {
    /// Address of the table.
    pub address: u64,
    /// The indexes, in table order.
    pub indexes: Vec<SohmIndex>,
}

/// An index record: where one shared message lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SohmRecord {
    /// The message is in the index's fractal heap (location 0).
    InHeap {
        /// lookup3 hash of the message.
        hash: u32,
        /// Number of objects using the message.
        reference_count: u32,
        /// 8-byte heap ID in the index's fractal heap.
        heap_id: [u8; 8],
    },
    /// The message is still in the one object header using it (location 1).
    InObjectHeader {
        /// lookup3 hash of the message.
        hash: u32,
        /// Object header message type.
        message_type: u8,
        /// Index of the message among messages of its type in that header.
        creation_index: u16,
        /// Address of the object header.
        object_header_address: u64,
    },
}

/// The flag bit (in [`SohmIndex::message_types`]) for an object header message type, for the
/// five shareable types. The library stores `1 << message type` (H5O_SHMESG_*_FLAG), e.g.
/// 0x182a for "all types" in `fixtures/h5/sohm_list.h5`; the spec's table of bits 0–4 does not
/// match files.
pub fn message_type_flag(message_type: u16) -> Option<u16> {
    match message_type {
        0x01 | 0x03 | 0x05 | 0x0B | 0x0C => Some(1 << message_type),
        _ => None,
    }
}

impl SohmIndex {
    /// Encoded size of one index entry of the table.
    pub fn encoded_size(sizes: Sizes) -> usize {
        1 + 1 + 2 + 4 + 2 + 2 + 2 + 2 * usize::from(sizes.offset)
    }
}

impl SharedMessageTable {
    /// Encoded size of a table with `nindexes` indexes (from the Shared Message Table message).
    pub fn encoded_size(sizes: Sizes, nindexes: u8) -> usize {
        4 + usize::from(nindexes) * SohmIndex::encoded_size(sizes) + 4
    }

    /// Parse a table of `nindexes` indexes from `buf`, which starts at `address`.
    pub fn parse(buf: &[u8], address: u64, sizes: Sizes, nindexes: u8) -> Result<Self> {
        let mut c = Cursor::new(buf, address, sizes, TABLE);
        c.require(Self::encoded_size(sizes, nindexes))?;
        c.signature(b"SMTB")?;
        let mut indexes = Vec::with_capacity(usize::from(nindexes));
        for _ in 0..nindexes {
            let version = c.u8()?;
            if version != 0 {
                return Err(c.bad_version(version));
            }
            let index_type = match c.u8()? {
                0 => SohmIndexType::List,
                1 => SohmIndexType::BTree,
                t => return Err(c.invalid(format!("index type {t}"))),
            };
            indexes.push(SohmIndex {
                version,
                index_type,
                message_types: c.u16()?,
                min_message_size: c.u32()?,
                list_cutoff: c.u16()?,
                btree_cutoff: c.u16()?,
                message_count: c.u16()?,
                index_address: c.offset()?,
                heap_address: c.offset()?,
            });
        }
        verify(TABLE, address, buf, c.pos())?;
        Ok(Self { address, indexes })
    }

    /// The index tracking object header message type `message_type` (e.g. 0x01 dataspace).
    pub fn index_for(&self, message_type: u16) -> Option<&SohmIndex> {
        let flag = message_type_flag(message_type)?;
        self.indexes.iter().find(|i| i.message_types & flag != 0)
    }
}

impl SohmRecord {
    /// Encoded size of one record (list entries and v2 B-tree type-7 records alike):
    /// location, hash, and the larger of the two location-specific parts.
    pub fn encoded_size(sizes: Sizes) -> usize {
        1 + 4 + (4 + 8).max(1 + 1 + 2 + usize::from(sizes.offset))
    }

    /// Decode one record at the cursor, consuming exactly [`encoded_size`](Self::encoded_size) bytes.
    pub(crate) fn decode(c: &mut Cursor<'_>) -> Result<Self> {
        let start = c.pos();
        let location = c.u8()?;
        let hash = c.u32()?;
        let record = match location {
            0 => {
                let reference_count = c.u32()?;
                let id = c.bytes(8)?;
                let heap_id = <[u8; 8]>::try_from(id).map_err(|_| c.invalid("heap ID"))?;
                SohmRecord::InHeap {
                    hash,
                    reference_count,
                    heap_id,
                }
            }
            1 => {
                c.skip(1)?;
                let message_type = c.u8()?;
                let creation_index = c.u16()?;
                let object_header_address = c
                    .offset()?
                    .ok_or_else(|| c.invalid("undefined object header address"))?;
                SohmRecord::InObjectHeader {
                    hash,
                    message_type,
                    creation_index,
                    object_header_address,
                }
            }
            l => return Err(c.invalid(format!("shared message location {l}"))),
        };
        c.seek(start);
        c.skip(Self::encoded_size(c.sizes()))?;
        Ok(record)
    }
}

/// A decoded `SMLI` list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedMessageList {
    /// Address of the list.
    pub address: u64,
    /// The records.
    pub records: Vec<SohmRecord>,
}

impl SharedMessageList {
    /// Bytes holding a list of `count` records, checksum included (the allocation may be larger:
    /// the checksum follows the used records).
    pub fn encoded_size(sizes: Sizes, count: u16) -> usize {
        4 + usize::from(count) * SohmRecord::encoded_size(sizes) + 4
    }

    /// Parse a list holding `count` records (the index's message count) from `buf`, which
    /// starts at `address`.
    pub fn parse(buf: &[u8], address: u64, sizes: Sizes, count: u16) -> Result<Self> {
        let mut c = Cursor::new(buf, address, sizes, LIST);
        c.require(Self::encoded_size(sizes, count))?;
        c.signature(b"SMLI")?;
        let records = (0..count)
            .map(|_| SohmRecord::decode(&mut c))
            .collect::<Result<Vec<_>>>()?;
        verify(LIST, address, buf, c.pos())?;
        Ok(Self { address, records })
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

    fn seal(mut v: Vec<u8>) -> Vec<u8> {
        let sum = lookup3(&v, 0);
        v.extend_from_slice(&sum.to_le_bytes());
        v
    }

    #[test]
    fn table_with_two_indexes() {
        let mut v = b"SMTB".to_vec();
        // Index 0: list, dataspace + datatype (1<<1 | 1<<3), min 8, cutoffs 50/40, 3 messages.
        v.extend_from_slice(&[0, 0, 0x0a, 0x00, 8, 0, 0, 0, 50, 0, 40, 0, 3, 0]);
        v.extend_from_slice(&600u64.to_le_bytes());
        v.extend_from_slice(&700u64.to_le_bytes());
        // Index 1: B-tree, attributes (1<<12), no heap yet.
        v.extend_from_slice(&[0, 1, 0x00, 0x10, 16, 0, 0, 0, 2, 0, 1, 0, 0, 0]);
        v.extend_from_slice(&800u64.to_le_bytes());
        v.extend_from_slice(&u64::MAX.to_le_bytes());
        let b = seal(v);
        assert_eq!(b.len(), SharedMessageTable::encoded_size(S8, 2));
        let t = SharedMessageTable::parse(&b, 96, S8, 2).unwrap();
        assert_eq!(t.indexes[0].index_type, SohmIndexType::List);
        assert_eq!(t.indexes[0].message_count, 3);
        assert_eq!(t.index_for(0x03).unwrap().heap_address, Some(700));
        assert_eq!(t.index_for(0x0C).unwrap().index_type, SohmIndexType::BTree);
        assert_eq!(t.index_for(0x0C).unwrap().heap_address, None);
        assert!(t.index_for(0x05).is_none());
        assert!(t.index_for(0x08).is_none());
        // Too few bytes: the parser asks for the whole table.
        assert!(matches!(
            SharedMessageTable::parse(&b[..10], 96, S8, 2),
            Err(FormatError::Incomplete { needed: 68, .. })
        ));
    }

    #[test]
    fn list_records_and_padding() {
        // O = 4: object-header records are 1 + 4 + 1 + 1 + 2 + 4 = 13 bytes, padded to 17.
        let s4 = Sizes {
            offset: 4,
            length: 4,
        };
        assert_eq!(SohmRecord::encoded_size(s4), 17);
        let mut v = b"SMLI".to_vec();
        v.push(0);
        v.extend_from_slice(&0xdead_beef_u32.to_le_bytes());
        v.extend_from_slice(&5u32.to_le_bytes());
        v.extend_from_slice(&[0, 0x2a, 0, 0, 0, 0, 0x24, 0]);
        v.push(1);
        v.extend_from_slice(&7u32.to_le_bytes());
        v.extend_from_slice(&[0, 0x0c, 2, 0]);
        v.extend_from_slice(&0x1b24u32.to_le_bytes());
        v.extend_from_slice(&[0; 4]);
        let mut b = seal(v);
        b.extend_from_slice(&[0; 34]); // unused allocation after the checksum
        let l = SharedMessageList::parse(&b, 550, s4, 2).unwrap();
        assert_eq!(
            l.records,
            vec![
                SohmRecord::InHeap {
                    hash: 0xdead_beef,
                    reference_count: 5,
                    heap_id: [0, 0x2a, 0, 0, 0, 0, 0x24, 0]
                },
                SohmRecord::InObjectHeader {
                    hash: 7,
                    message_type: 0x0c,
                    creation_index: 2,
                    object_header_address: 0x1b24
                },
            ]
        );
        b[4] = 2;
        assert!(SharedMessageList::parse(&b, 550, s4, 2).is_err());
    }
}
