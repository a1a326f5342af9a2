//! Drivers shared by the fuzz targets in `fuzz_targets/`.
//!
//! Every HDF5 target except `superblock` reads its input as a small file image with a 16-byte
//! prefix (see [`Input`]): the prefix gives the Size of Offsets/Lengths, three target-specific
//! parameter bytes, the file address of the image's first byte and the address of the
//! structure to start from. The drivers parse that structure with the format layer and then
//! follow the addresses it contains (continuation blocks, child nodes, data blocks, pages…)
//! when they fall inside the image, the way the walker does, with hard caps on the number of
//! blocks visited so that every input finishes quickly. Results are discarded: the only
//! property checked is that no parser panics, overflows, or allocates beyond its input.
//!
//! The seed script (`scripts/fuzz-seeds.py`) writes inputs in this format, cut from real files.

use std::collections::HashSet;
use std::io::Read;

use hdf5_meta::format::btree_v1::{self, BTreeKind, Keys};
use hdf5_meta::format::btree_v2::{BTreeV2Header, Node, NodeRef};
use hdf5_meta::format::chunk_index::extensible_array::{
    parse_data_block_page, DataBlockParent, ExtensibleArrayDataBlock, ExtensibleArrayHeader,
    ExtensibleArrayIndexBlock, ExtensibleArraySuperBlock,
};
use hdf5_meta::format::chunk_index::fixed_array::{self, FixedArrayHeader};
use hdf5_meta::format::fractal_heap::{
    DirectBlock, DirectBlockRef, FractalHeapHeader, HeapChild, HeapId, IndirectBlock,
    IndirectBlockRef, RootBlock,
};
use hdf5_meta::format::messages::{
    attribute, dataspace, datatype, external_files, fill_value, filter_pipeline, kinds, layout,
    link, link_info, shared,
};
use hdf5_meta::format::object_header::{self, Continuation};
use hdf5_meta::format::sohm::{SharedMessageList, SharedMessageTable, SohmIndexType};
use hdf5_meta::format::value::{self, Value};
use hdf5_meta::format::{global_heap, local_heap, superblock, symbol_table, Sizes};

/// Upper bound on blocks/nodes one input may make a driver visit.
const MAX_BLOCKS: usize = 256;

/// Widths selectable for Size of Offsets / Size of Lengths (index = two bits of the prefix).
const WIDTHS: [u8; 4] = [8, 4, 2, 16];

/// A fuzz input: `[sizes:1][params:3][origin:8 LE][entry offset:4 LE][image…]`.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Size of Offsets (bits 0–1 of the first byte) and Lengths (bits 2–3), from [`WIDTHS`].
    pub sizes: Sizes,
    /// Target-specific parameters (a rank, a count, a message type…).
    pub params: [u8; 3],
    /// File address of `image[0]`.
    pub origin: u64,
    /// File address of the structure to start from (`origin` + the stored entry offset).
    pub entry: u64,
    /// The file image.
    pub image: &'a [u8],
}

impl<'a> Input<'a> {
    /// Length of the prefix.
    pub const PREFIX: usize = 16;

    /// Split a raw fuzz input; `None` when shorter than the prefix.
    pub fn new(raw: &'a [u8]) -> Option<Self> {
        let (prefix, image) = raw.split_at_checked(Self::PREFIX)?;
        let sel = prefix[0];
        let sizes = Sizes {
            offset: WIDTHS[usize::from(sel & 3)],
            length: WIDTHS[usize::from((sel >> 2) & 3)],
        };
        let origin = u64::from_le_bytes(prefix[4..12].try_into().ok()?);
        let entry_offset = u32::from_le_bytes(prefix[12..16].try_into().ok()?);
        Some(Self {
            sizes,
            params: [prefix[1], prefix[2], prefix[3]],
            origin,
            entry: origin.checked_add(u64::from(entry_offset))?,
            image,
        })
    }

    /// The image from file address `address` to its end; `None` outside the image.
    pub fn at(&self, address: u64) -> Option<&'a [u8]> {
        let start = usize::try_from(address.checked_sub(self.origin)?).ok()?;
        self.image.get(start..)
    }

    /// Like [`at`](Self::at) but at most `len` bytes (the length a reader would fetch).
    pub fn range(&self, address: u64, len: u64) -> Option<&'a [u8]> {
        let rest = self.at(address)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX).min(rest.len());
        rest.get(..len)
    }

    /// Parameter `i` as a little-endian u16 of bytes `i` and `i + 1`.
    pub fn param16(&self, i: usize) -> u16 {
        u16::from_le_bytes([self.params[i], self.params.get(i + 1).copied().unwrap_or(0)])
    }
}

/// Superblock target: the raw input is the start of a file.
pub fn superblock(data: &[u8]) {
    let Some(off) = superblock::find_signature(data) else {
        return;
    };
    let Some(buf) = usize::try_from(off).ok().and_then(|o| data.get(o..)) else {
        return;
    };
    let Ok(sb) = superblock::parse(buf, off) else {
        return;
    };
    let _ = superblock::superblock_len(sb.version, sb.sizes);
    let _ = sb.end_of_file();
    let _ = sb.absolute(sb.root_object_header_address);
    if let Some(entry) = &sb.root_symbol_table_entry {
        let _ = sb.absolute(entry.link_name_offset);
    }
    if let Some(addr) = sb.driver_info_address {
        let abs = sb.absolute(addr).and_then(|a| usize::try_from(a).ok());
        if let Some(b) = abs.and_then(|a| data.get(a..)) {
            if let Ok(info) = superblock::parse_driver_info(b, addr, sb.sizes) {
                let _ = (info.total_len(), info.is_multi_file());
            }
        }
    }
}

/// Object header target: the first chunk at the entry, its continuation chain inside the
/// image, and every message decoded by type. `params[0]` bit 0 selects parsing the entry as a
/// continuation block (`OCHK` or v1) of length `params[1..3]`.
pub fn object_header(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let sizes = input.sizes;
    let _ = object_header::first_chunk_len(buf, input.entry, sizes);
    let first = if input.params[0] & 1 != 0 {
        let cont = Continuation {
            address: input.entry,
            length: u64::from(input.param16(1)),
        };
        let version = if buf.starts_with(b"OCHK") { 2 } else { 1 };
        object_header::parse_continuation(buf, cont, sizes, version, input.params[0] >> 1)
    } else {
        object_header::parse_header(buf, input.entry, sizes)
    };
    let Ok(first) = first else {
        return;
    };
    let (version, flags) = (first.version, first.flags);
    let mut pending: Vec<Continuation> = first.continuations.clone();
    let mut chunks = vec![first];
    let mut seen = HashSet::new();
    while let Some(cont) = pending.pop() {
        if chunks.len() >= 32 || !seen.insert(cont.address) {
            break;
        }
        let Some(buf) = input.at(cont.address) else {
            continue;
        };
        if let Ok(chunk) = object_header::parse_continuation(buf, cont, sizes, version, flags) {
            pending.extend(chunk.continuations.iter().copied());
            chunks.push(chunk);
        }
    }
    for m in chunks.iter().flat_map(|c| &c.messages) {
        let _ = m.is_shared();
        message(m.kind, m.flags, &m.data, m.address, sizes);
    }
}

/// Messages target: `params[0]` is the message type, `params[1]` the message flags, the image
/// (from the entry) the message data.
pub fn messages(input: &Input<'_>) {
    if let Some(data) = input.at(input.entry) {
        message(
            u16::from(input.params[0]),
            input.params[1],
            data,
            input.entry,
            input.sizes,
        );
    }
}

/// Decode one header message of type `kind` with the parser the walker would use.
pub fn message(kind: u16, flags: u8, data: &[u8], address: u64, sizes: Sizes) {
    if flags & 0x02 != 0 {
        let _ = shared::parse(data, address, sizes);
        return;
    }
    match kind {
        kinds::DATASPACE => {
            if let Ok(s) = dataspace::parse(data, address, sizes) {
                let _ = (s.rank(), s.element_count(), s.has_unlimited());
            }
        }
        kinds::LINK_INFO => {
            let _ = link_info::parse_link_info(data, address, sizes);
        }
        kinds::DATATYPE => {
            if let Ok(dt) = datatype::parse(data, address, sizes) {
                datatype_queries(&dt);
            }
        }
        kinds::FILL_VALUE_OLD => {
            if let Ok(f) = fill_value::parse_old(data, address, sizes) {
                let _ = f.user_bytes();
            }
        }
        kinds::FILL_VALUE => {
            if let Ok(f) = fill_value::parse(data, address, sizes) {
                let _ = f.user_bytes();
            }
        }
        kinds::LINK => {
            if let Ok(l) = link::parse(data, address, sizes) {
                let _ = l;
            }
            let _ = link::text(data);
        }
        kinds::EXTERNAL_FILES => {
            let _ = external_files::parse(data, address, sizes);
        }
        kinds::LAYOUT => {
            if let Ok(l) = layout::parse(data, address, sizes) {
                let _ = l.contiguous_size(u64::MAX, u64::MAX);
                let _ = l.contiguous_size(3, 5);
                if let layout::Storage::Chunked(c) = &l.storage {
                    let _ = (c.chunk_bytes(), c.dont_filter_partial_bound_chunks());
                }
            }
        }
        kinds::FILTER_PIPELINE => {
            let _ = filter_pipeline::parse(data, address, sizes);
        }
        kinds::ATTRIBUTE => {
            if let Ok(a) = attribute::parse(data, address, sizes) {
                attribute_values(&a);
            }
        }
        kinds::SYMBOL_TABLE => {
            let _ = link_info::parse_symbol_table(data, address, sizes);
        }
        kinds::ATTRIBUTE_INFO => {
            let _ = link_info::parse_attribute_info(data, address, sizes);
        }
        _ => {}
    }
}

/// Decode an attribute's value like the walker: scalar, simple (C-order array) or null.
fn attribute_values(a: &attribute::Attribute) {
    let (Some(dt), Some(space)) = (a.datatype.inline(), a.dataspace.inline()) else {
        return;
    };
    datatype_queries(dt);
    let _ = attribute::expected_data_len(dt, space);
    match space.kind {
        dataspace::DataspaceKind::Null => {}
        dataspace::DataspaceKind::Scalar => {
            if let Ok(v) = value::decode_value(dt, &a.data) {
                follow_vlen(dt, &v, &a.data);
            }
        }
        dataspace::DataspaceKind::Simple => {
            if let Some(count) = space.element_count() {
                let _ = value::decode_values(dt, &a.data, count);
            }
        }
    }
}

/// Exercise the derived properties of a datatype.
fn datatype_queries(dt: &datatype::Datatype) {
    let _ = (dt.size(), dt.class(), dt.byte_order(), dt.has_indirection());
    let _ = dt.numpy_typestr();
    if let datatype::Datatype::FloatingPoint(f) = dt {
        let _ = f.ieee_bits();
    }
}

/// Decode the data of variable-length values found in `v` from `heap_data` (standing in for
/// the global heap object), as the walker does once the heap object is fetched.
fn follow_vlen(dt: &datatype::Datatype, v: &Value, heap_data: &[u8]) {
    let (datatype::Datatype::VarLen(t), Value::VarLen { length, .. }) = (dt, v) else {
        return;
    };
    match t.kind {
        datatype::VarLenKind::String { padding, .. } => {
            let n = usize::try_from(*length).unwrap_or(usize::MAX).min(heap_data.len());
            let _ = value::decode_string(&heap_data[..n], padding);
        }
        datatype::VarLenKind::Sequence => {
            let _ = value::decode_values(&t.base, heap_data, u64::from(*length));
        }
    }
}

/// Value target: a datatype message at the entry, then element bytes right after it.
/// `params[0..2]` is the element count (0 = as many as fit), `params[2]` selects a string
/// padding for [`value::decode_string`].
pub fn values(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let Ok((dt, used)) = datatype::parse_prefix(buf, input.entry, input.sizes) else {
        return;
    };
    datatype_queries(&dt);
    let rest = buf.get(used..).unwrap_or_default();
    let size = dt.size();
    let count = match input.param16(0) {
        0 if size > 0 => rest.len() as u64 / size,
        n => u64::from(n),
    };
    if let Ok(v) = value::decode_value(&dt, rest) {
        follow_vlen(&dt, &v, rest.get(size as usize..).unwrap_or_default());
    }
    if let Ok(vs) = value::decode_values(&dt, rest, count) {
        let _ = vs.len();
    }
    let _ = global_heap::parse_vlen_descriptor(rest, input.entry, input.sizes);
    let padding = match input.params[2] & 3 {
        0 => datatype::StringPadding::NullTerminate,
        1 => datatype::StringPadding::NullPad,
        _ => datatype::StringPadding::SpacePad,
    };
    let _ = value::decode_string(rest, padding);
}

/// v1 B-tree target: a `TREE` node at the entry (chunk trees of rank `params[0] % 40`) and
/// its subtree inside the image, group leaves' `SNOD` nodes included; or a `SNOD` node.
pub fn btree_v1(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let sizes = input.sizes;
    let _ = btree_v1::node_size(sizes, BTreeKind::Group, input.param16(1));
    if buf.starts_with(b"SNOD") {
        symbol_nodes(input, &[input.entry]);
        return;
    }
    let kind = match buf.get(4) {
        Some(0) => BTreeKind::Group,
        _ => BTreeKind::Chunk {
            rank: usize::from(input.params[0] % 40),
        },
    };
    let _ = btree_v1::node_size(sizes, kind, input.param16(1));
    let mut pending = vec![input.entry];
    let mut seen = HashSet::new();
    let mut leaves = Vec::new();
    while let Some(addr) = pending.pop() {
        if seen.len() >= MAX_BLOCKS || !seen.insert(addr) {
            continue;
        }
        let Some(buf) = input.at(addr) else {
            continue;
        };
        let Ok(node) = btree_v1::parse_node(buf, addr, sizes, kind) else {
            continue;
        };
        if let Keys::Chunk(keys) = &node.keys {
            let _ = keys.len();
        }
        if node.level > 0 {
            pending.extend(node.children.iter().copied());
        } else if kind == BTreeKind::Group {
            leaves.extend(node.children.iter().copied());
        }
    }
    symbol_nodes(input, &leaves);
}

fn symbol_nodes(input: &Input<'_>, addrs: &[u64]) {
    for &addr in addrs.iter().take(MAX_BLOCKS) {
        if let Some(buf) = input.at(addr) {
            if let Ok(entries) = symbol_table::parse_node(buf, addr, input.sizes) {
                let _ = entries.len();
            }
        }
    }
}

/// v2 B-tree target: a `BTHD` header at the entry and its nodes inside the image; chunk
/// records (types 10/11) use rank `params[0]`.
pub fn btree_v2(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let sizes = input.sizes;
    let Ok(header) = BTreeV2Header::parse(buf, input.entry, sizes) else {
        return;
    };
    let _ = BTreeV2Header::encoded_size(sizes);
    let rank = Some(input.params[0]);
    let mut pending: Vec<NodeRef> = header.root().into_iter().collect();
    let mut visited = 0;
    while let Some(node) = pending.pop() {
        visited += 1;
        if visited > MAX_BLOCKS {
            break;
        }
        let _ = header.max_records(node.depth);
        let _ = header.child_pointer_size(sizes, node.depth);
        let len = header.node_used_size(sizes, &node).unwrap_or(header.node_size()) as u64;
        let Some(buf) = input.range(node.address, len.max(header.node_size() as u64)) else {
            continue;
        };
        if let Ok(n) = Node::parse(buf, node.address, sizes, &header, &node, rank) {
            let _ = n.records.len();
            pending.extend(n.children.iter().copied());
        }
    }
}

/// Local heap target: a `HEAP` header at the entry and names read from its data segment at
/// offset 0, every 8 bytes of the first 512, and `params[0..2]`.
pub fn local_heap(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let _ = local_heap::header_len(input.sizes);
    let Ok(heap) = local_heap::parse(buf, input.entry, input.sizes) else {
        return;
    };
    let Some(seg) = heap
        .data_segment_address
        .and_then(|a| input.range(a, heap.data_segment_size))
    else {
        return;
    };
    let extra = u64::from(input.param16(0));
    for offset in (0..512).step_by(8).chain([extra, heap.data_segment_size]) {
        let _ = heap.name_at(seg, offset);
    }
}

/// Global heap target: a `GCOL` collection at the entry and every object in it; heap IDs and
/// vlen descriptors decoded from the object data.
pub fn global_heap(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let sizes = input.sizes;
    let _ = (
        global_heap::header_len(sizes),
        global_heap::object_header_len(sizes),
        global_heap::heap_id_len(sizes),
        global_heap::vlen_descriptor_len(sizes),
    );
    let _ = global_heap::collection_size(buf, input.entry, sizes);
    let Ok(coll) = global_heap::parse(buf, input.entry, sizes) else {
        return;
    };
    let last = coll.objects.last().map_or(0, |o| o.index);
    for index in [0, 1, u32::from(last), u32::from(input.param16(0))] {
        let _ = coll.object(index);
        if let Some(data) = coll.object_data(buf, index) {
            let _ = global_heap::parse_heap_id(data, input.entry, sizes);
            let _ = global_heap::parse_vlen_descriptor(data, input.entry, sizes);
        }
    }
}

/// Fractal heap target: an `FRHP` header at the entry, its managed blocks inside the image,
/// and heap IDs (taken from the image tail, `heap_id_len` bytes at a time) looked up in them.
pub fn fractal_heap(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let sizes = input.sizes;
    let _ = FractalHeapHeader::min_size(sizes);
    let Ok(heap) = FractalHeapHeader::parse(buf, input.entry, sizes) else {
        return;
    };
    let _ = (
        heap.checksummed_direct_blocks(),
        heap.is_filtered(),
        heap.managed_length_size(),
        heap.huge_ids_direct(sizes),
        heap.direct_block_prefix_size(sizes),
        heap.table.heap_offset_size(),
    );
    let mut directs: Vec<(DirectBlockRef, DirectBlock)> = Vec::new();
    let mut indirects: Vec<IndirectBlock> = Vec::new();
    let mut pending: Vec<HeapChild> = match heap.root() {
        Some(RootBlock::Direct(d)) => vec![HeapChild::Direct(d)],
        Some(RootBlock::Indirect(i)) => vec![HeapChild::Indirect(i)],
        None => Vec::new(),
    };
    let mut visited = 0;
    while let Some(child) = pending.pop() {
        visited += 1;
        if visited > MAX_BLOCKS {
            break;
        }
        match child {
            HeapChild::Direct(d) => {
                let _ = (d.stored_size(), d.contains(heap.managed_space));
                let Some(b) = input.range(d.address, d.size) else {
                    continue;
                };
                if let Ok(block) = DirectBlock::parse(b, d.address, sizes, &heap, &d) {
                    directs.push((d, block));
                }
            }
            HeapChild::Indirect(i) => {
                let _ = heap.indirect_block_size(sizes, i.nrows);
                let Some(b) = input.at(i.address) else {
                    continue;
                };
                if let Ok(block) = IndirectBlock::parse(b, i.address, sizes, &heap, &i) {
                    pending.extend(block.allocated_direct().map(|d| HeapChild::Direct(*d)));
                    pending.extend(
                        block
                            .allocated_indirect()
                            .map(|i: &IndirectBlockRef| HeapChild::Indirect(*i)),
                    );
                    indirects.push(block);
                }
            }
        }
    }
    // Heap IDs: the last few heap_id_len-sized pieces of the image.
    let id_len = usize::from(heap.heap_id_len).max(1);
    let ids = input.image.rchunks(id_len).take(8);
    for id in ids {
        let Ok(decoded) = heap.decode_id(id, sizes) else {
            continue;
        };
        let HeapId::Managed { offset, length } = decoded else {
            continue;
        };
        let _ = heap.table.locate(offset);
        for ib in &indirects {
            let _ = heap.table.child_slot(ib.block_offset, ib.nrows, offset);
            let _ = ib.child_for(&heap.table, offset);
        }
        for (d, block) in &directs {
            if d.contains(offset) {
                if let Some(b) = input.range(d.address, d.size) {
                    let _ = block.object(b, offset, length);
                }
            }
        }
    }
}

/// Shared-message target: an `SMTB` table at the entry (`params[0]` indexes) and the `SMLI`
/// lists it names inside the image; or an `SMLI` list of `params[1..3]` records.
pub fn sohm(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let sizes = input.sizes;
    if buf.starts_with(b"SMLI") {
        let count = input.param16(1);
        let _ = SharedMessageList::encoded_size(sizes, count);
        let _ = SharedMessageList::parse(buf, input.entry, sizes, count);
        return;
    }
    let nindexes = input.params[0];
    let _ = SharedMessageTable::encoded_size(sizes, nindexes);
    let Ok(table) = SharedMessageTable::parse(buf, input.entry, sizes, nindexes) else {
        return;
    };
    for t in [0x01, 0x03, 0x05, 0x0B, 0x0C, 0x10] {
        let _ = table.index_for(t);
    }
    for index in &table.indexes {
        if index.index_type != SohmIndexType::List {
            continue;
        }
        if let Some(b) = index.index_address.and_then(|a| input.at(a)) {
            let addr = index.index_address.unwrap_or_default();
            let _ = SharedMessageList::parse(b, addr, sizes, index.message_count);
        }
    }
}

/// Fixed-array target: an `FAHD` header at the entry, its data block and pages in the image.
pub fn fixed_array(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let sizes = input.sizes;
    let _ = FixedArrayHeader::size(sizes);
    let Ok(h) = FixedArrayHeader::parse(buf, input.entry, sizes) else {
        return;
    };
    let Ok(layout) = h.data_block_layout(sizes) else {
        return;
    };
    let Some(db) = h.data_block_address else {
        return;
    };
    let Some(b) = input.range(db, layout.parse_len()) else {
        return;
    };
    let Ok(block) = fixed_array::parse_data_block(b, db, sizes, &h) else {
        return;
    };
    let Some(p) = layout.paging else {
        return;
    };
    for page in 0..p.page_count.min(MAX_BLOCKS as u64) {
        let _ = (p.first_entry(page), p.entries_in_page(page));
        if !block.page_initialized(page) {
            continue;
        }
        let Some((off, len)) = p.page_range(page) else {
            continue;
        };
        let Some(addr) = db.checked_add(off) else {
            continue;
        };
        if let Some(b) = input.range(addr, len) {
            let _ = fixed_array::parse_page(b, addr, sizes, &h, page);
        }
    }
}

/// Extensible-array target: an `EAHD` header at the entry, then its index block, super
/// blocks, data blocks and pages in the image, visiting data blocks in slot order.
pub fn extensible_array(input: &Input<'_>) {
    let Some(buf) = input.at(input.entry) else {
        return;
    };
    let sizes = input.sizes;
    let _ = ExtensibleArrayHeader::size(sizes);
    let Ok(h) = ExtensibleArrayHeader::parse(buf, input.entry, sizes) else {
        return;
    };
    let Ok(g) = h.geometry(sizes) else {
        return;
    };
    let _ = (g.index_block_size(), g.data_block_prefix_size(), g.page_size());
    for i in [0, 1, h.stats.max_index_set, u64::from(input.param16(0)), u64::MAX] {
        let _ = g.locate(i);
    }
    let Some(ib_addr) = h.index_block_address else {
        return;
    };
    let Some(b) = input.range(ib_addr, g.index_block_size()) else {
        return;
    };
    let Ok(ib) = ExtensibleArrayIndexBlock::parse(b, ib_addr, &g) else {
        return;
    };
    let mut supers: Vec<(usize, Option<ExtensibleArraySuperBlock>)> = Vec::new();
    for slot in g
        .data_blocks()
        .take_while(|s| s.first_index < h.stats.max_index_set)
        .take(MAX_BLOCKS)
    {
        let _ = (
            g.pages_per_data_block(slot.super_block),
            g.super_block_bitmap_size(slot.super_block),
            g.data_block_pages(slot.elements),
        );
        let (db_addr, local) = match slot.parent {
            DataBlockParent::IndexBlock { slot: i } => {
                (ib.data_block_addresses.get(i).copied().flatten(), None)
            }
            DataBlockParent::SuperBlock {
                slot: i,
                data_block,
            } => {
                if !supers.iter().any(|(s, _)| *s == i) {
                    let sb = ib.super_block_addresses.get(i).copied().flatten().and_then(|a| {
                        let len = g.super_block_size(slot.super_block)?;
                        let b = input.range(a, len)?;
                        ExtensibleArraySuperBlock::parse(b, a, &g, slot.super_block).ok()
                    });
                    supers.push((i, sb));
                }
                let sb = supers.iter().find(|(s, _)| *s == i).and_then(|(_, sb)| sb.as_ref());
                let Some(sb) = sb else {
                    continue;
                };
                let addr = usize::try_from(data_block)
                    .ok()
                    .and_then(|d| sb.data_block_addresses.get(d))
                    .copied()
                    .flatten();
                (addr, Some((sb.clone(), data_block)))
            }
        };
        let Some(db_addr) = db_addr else {
            continue;
        };
        let Some(len) = g.data_block_parse_len(slot.elements) else {
            continue;
        };
        let Some(b) = input.range(db_addr, len) else {
            continue;
        };
        let Ok(db) = ExtensibleArrayDataBlock::parse(b, db_addr, &g, slot.elements) else {
            continue;
        };
        for page in 0..db.pages.min(MAX_BLOCKS as u64) {
            if let Some((sb, d)) = &local {
                if !sb.page_initialized(*d, page) {
                    continue;
                }
            }
            let Some((off, plen)) = g.page_range(slot.elements, page) else {
                continue;
            };
            let Some(addr) = db_addr.checked_add(off) else {
                continue;
            };
            if let Some(b) = input.range(addr, plen) {
                let _ = parse_data_block_page(b, addr, &g);
            }
        }
    }
}

/// A reader returning at most `step` bytes per call, to exercise the streaming paths.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        buf[..n].copy_from_slice(head);
        self.data = tail;
        Ok(n)
    }
}

/// Reference JSON target: the first byte selects the reader (bit 0: streaming through a
/// reader returning `1 + (byte >> 1)` bytes per call, else the whole-slice reader).
pub fn refs(data: &[u8]) {
    let Some((&mode, doc)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(set) = kerchunk_refs::read::read_reference_set(doc) {
            let _ = set;
        }
    } else {
        let reader = Trickle {
            data: doc,
            step: 1 + usize::from(mode >> 1),
        };
        let mut n = 0u64;
        let _ = kerchunk_refs::read::stream_refs(reader, |_, _| {
            n += 1;
            Ok(())
        });
    }
}

/// Whole-file indexing from memory: the input is an HDF5 file image, walked and translated to
/// references exactly as `kerchunk index` does (an odd input length selects tiny I/O blocks
/// so that the walker's "need more bytes" re-fetch paths run too). Every error is acceptable; a panic,
/// hang or huge allocation is not.
pub fn index(data: &[u8]) {
    use hdf5_meta::walk::MemoryFile;
    use kerchunk_refs::translate::{index_file, IndexOptions};
    use std::sync::Arc;

    thread_local! {
        static RUNTIME: Option<tokio::runtime::Runtime> =
            tokio::runtime::Builder::new_current_thread().build().ok();
    }
    let mut opts = IndexOptions::default();
    if data.len() % 2 == 1 {
        // Tiny blocks: many cache misses, parsers told "need more bytes" and retried.
        opts.walk.io.head_size = 512;
        opts.walk.io.block_size = 64;
        opts.walk.io.max_gap = 0;
    }
    let reader = Arc::new(MemoryFile::new(data.to_vec(), "fuzz.h5"));
    RUNTIME.with(|rt| {
        if let Some(rt) = rt {
            let _ = rt.block_on(index_file(reader, Some("fuzz.h5"), &opts));
        }
    });
}

/// Combining arbitrary reference sets: `[mode:1][doc][0xFF 0xFE][doc]…` (up to 6 documents,
/// each plain or gzip JSON). `mode` picks the concat dimension and its selector, whether `x`
/// and `y` are identical dims, and whether mismatched inputs are skipped. Referenced bytes
/// come from a fetcher that serves a deterministic pattern, so `data:` selectors and inlining
/// run on non-inline chunks too.
pub fn combine(data: &[u8]) {
    use combine::{run, ByteFetcher, ByteRequest, CombineOptions, Input, Selector};

    struct Pattern;
    impl ByteFetcher for Pattern {
        fn fetch(
            &self,
            requests: &[ByteRequest<'_>],
        ) -> Vec<Result<Vec<u8>, combine::error::FetchError>> {
            requests
                .iter()
                .map(|r| match r.range {
                    Some((offset, length)) if length <= 4096 => {
                        Ok((0..length).map(|i| (offset.wrapping_add(i) % 251) as u8).collect())
                    }
                    _ => Err("pattern fetcher: whole targets and large ranges refused".into()),
                })
                .collect()
        }
        fn size(&self, _url: &str) -> Result<u64, combine::error::FetchError> {
            Ok(64)
        }
    }

    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut inputs = Vec::new();
    let mut remaining = rest;
    while inputs.len() < 6 {
        let (doc, tail) = match remaining.windows(2).position(|w| w == [0xFF, 0xFE]) {
            Some(i) => (&remaining[..i], remaining.get(i + 2..).unwrap_or_default()),
            None => (remaining, &[][..]),
        };
        inputs.push(Input::bytes(format!("in{}_2024.json", inputs.len()), doc.to_vec()));
        if tail.is_empty() {
            break;
        }
        remaining = tail;
    }
    let dim = ["time", "t", "source_file_name", "x"][usize::from(mode & 3)];
    let mut opts = CombineOptions::concat([dim]);
    let selector = match (mode >> 2) & 7 {
        0 => None,
        1 => Some("INDEX"),
        2 => Some("cf:time"),
        3 => Some("attr:title"),
        4 => Some("vattr:time:units"),
        5 => Some(r"re:in(\d)_"),
        6 => Some("list:[3, 1, 2, 0, 5, 4]"),
        _ => Some("const:7"),
    };
    if let Some(s) = selector.and_then(|s| Selector::parse(s).ok()) {
        opts.selectors.insert(dim.to_string(), s);
    }
    if mode & 0x20 != 0 && dim != "x" {
        opts.identical_dims = vec!["x".into(), "y".into()];
    }
    opts.skip_mismatched = mode & 0x40 != 0;
    opts.inline_threshold = if mode & 0x80 != 0 { 100 } else { 0 };
    let Ok(mut sink) = combine::JsonWriter::new(Vec::new()) else {
        return;
    };
    if run(&inputs, &opts, Some(&Pattern), &mut sink).is_ok() {
        let _ = sink.finish();
    }
}

/// Every target's name, as in `Cargo.toml` and `fuzz/regressions/<target>/`.
pub const TARGETS: &[&str] = &["btree_v1", "btree_v2", "combine", "extensible_array", "fixed_array", "fractal_heap", "global_heap", "index", "local_heap", "messages", "object_header", "refs_json", "sohm", "superblock", "value"];

/// Runs fuzz target `target` on one input (the entry point of every `fuzz_targets/*.rs`, and
/// of the regression replay in `tests/regressions.rs`). Returns `false` for an unknown target.
pub fn run(target: &str, data: &[u8]) -> bool {
    let structure = |driver: fn(&Input<'_>)| {
        if let Some(input) = Input::new(data) {
            driver(&input);
        }
    };
    match target {
        "btree_v1" => structure(btree_v1),
        "btree_v2" => structure(btree_v2),
        "combine" => combine(data),
        "extensible_array" => structure(extensible_array),
        "fixed_array" => structure(fixed_array),
        "fractal_heap" => structure(fractal_heap),
        "global_heap" => structure(global_heap),
        "index" => index(data),
        "local_heap" => structure(local_heap),
        "messages" => structure(messages),
        "object_header" => structure(object_header),
        "refs_json" => refs(data),
        "sohm" => structure(sohm),
        "superblock" => superblock(data),
        "value" => structure(values),
        _ => return false,
    }
    true
}
