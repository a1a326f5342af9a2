//! Link info (0x02) and attribute info (0x15) messages: where a group's dense links, or an
//! object's dense attributes, are stored (a fractal heap plus v2 B-tree indexes).

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

/// Dense storage of links or attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseStorage {
    /// Fractal heap holding the link or attribute messages (None when storage is compact).
    pub heap: Option<u64>,
    /// v2 B-tree indexing names (record type 5 for links, 8 for attributes).
    pub name_index: Option<u64>,
    /// v2 B-tree indexing creation order (type 6 / 9), when indexed.
    pub order_index: Option<u64>,
    /// True when creation order is tracked.
    pub order_tracked: bool,
}

/// Decode a link info message (its max creation index is 8 bytes wide).
pub fn parse_link_info(buf: &[u8], address: u64, sizes: Sizes) -> Result<DenseStorage> {
    parse(buf, address, sizes, "link info message", 8)
}

/// Decode an attribute info message (its max creation index is 2 bytes wide).
pub fn parse_attribute_info(buf: &[u8], address: u64, sizes: Sizes) -> Result<DenseStorage> {
    parse(buf, address, sizes, "attribute info message", 2)
}

fn parse(
    buf: &[u8],
    address: u64,
    sizes: Sizes,
    structure: &'static str,
    index_width: usize,
) -> Result<DenseStorage> {
    let mut c = Cursor::new(buf, address, sizes, structure);
    let version = c.u8()?;
    if version != 0 {
        return Err(c.bad_version(version));
    }
    let flags = c.u8()?;
    if flags & 0x01 != 0 {
        c.skip(index_width)?;
    }
    let heap = c.offset()?;
    let name_index = c.offset()?;
    let order_index = if flags & 0x02 != 0 { c.offset()? } else { None };
    Ok(DenseStorage {
        heap,
        name_index,
        order_index,
        order_tracked: flags & 0x01 != 0,
    })
}

/// Symbol table message (0x11): the v1 B-tree and local heap of an old-style group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolTable {
    /// v1 B-tree (type 0) address.
    pub btree: u64,
    /// Local heap address.
    pub heap: u64,
}

/// Decode a symbol table message.
pub fn parse_symbol_table(buf: &[u8], address: u64, sizes: Sizes) -> Result<SymbolTable> {
    let mut c = Cursor::new(buf, address, sizes, "symbol table message");
    let btree = c
        .offset()?
        .ok_or_else(|| c.invalid("undefined B-tree address"))?;
    let heap = c
        .offset()?
        .ok_or_else(|| c.invalid("undefined local heap address"))?;
    Ok(SymbolTable { btree, heap })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_info_index_is_two_bytes_link_info_eight() {
        // flags 3: order tracked + indexed.
        let addrs: Vec<u8> = [10u64, 20, 30]
            .iter()
            .flat_map(|a| a.to_le_bytes())
            .collect();
        let mut attr = vec![0, 3, 0xaa, 0xbb];
        attr.extend_from_slice(&addrs);
        let a = parse_attribute_info(&attr, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(
            (a.heap, a.name_index, a.order_index),
            (Some(10), Some(20), Some(30))
        );
        let mut link = vec![0, 3];
        link.extend_from_slice(&[0xaa; 8]);
        link.extend_from_slice(&addrs);
        let l = parse_link_info(&link, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(l, a);
    }
}
