//! A group's links, whichever way they are stored: old-style symbol tables (v1 B-tree of
//! symbol table nodes plus a local heap), link messages in the header, or dense storage
//! (fractal heap indexed by a v2 B-tree).

use super::btree_v1;
use super::context::Context;
use super::dense;
use super::error::Result;
use super::header::Header;
use crate::format::btree_v1::BTreeKind;
use crate::format::local_heap;
use crate::format::messages::kinds;
use crate::format::messages::link::{self, Link, LinkTarget};
use crate::format::messages::link_info::{self, SymbolTable};
use crate::format::symbol_table::{self, Scratch};

/// Group B-tree K and symbol-table-node K from the superblock.
#[derive(Debug, Clone, Copy)]
pub struct GroupKs {
    /// Group internal node K (v1 B-tree fan-out).
    pub internal: u16,
    /// Group leaf node K (symbol table node capacity is 2K).
    pub leaf: u16,
}

/// True when the header describes a group.
pub fn is_group(h: &Header) -> bool {
    h.first(kinds::SYMBOL_TABLE).is_some()
        || h.first(kinds::LINK_INFO).is_some()
        || h.first(kinds::LINK).is_some()
}

/// All links of the group whose header is `h`, sorted by name.
pub async fn links(ctx: &Context, h: &Header, ks: GroupKs) -> Result<Vec<Link>> {
    let sizes = ctx.sizes;
    let mut out = Vec::new();
    if let Some(m) = h.first(kinds::SYMBOL_TABLE) {
        let st = link_info::parse_symbol_table(&m.data, m.address, sizes)
            .map_err(|e| ctx.format_error(e))?;
        out.extend(symbol_table_links(ctx, st, ks).await?);
    }
    for m in h.of_kind(kinds::LINK) {
        out.push(link::parse(&m.data, m.address, sizes).map_err(|e| ctx.format_error(e))?);
    }
    if let Some(m) = h.first(kinds::LINK_INFO) {
        let info = link_info::parse_link_info(&m.data, m.address, sizes)
            .map_err(|e| ctx.format_error(e))?;
        if let (Some(heap), Some(index)) = (info.heap, info.name_index) {
            for (bytes, address) in dense::link_messages(ctx, heap, index).await? {
                out.push(link::parse(&bytes, address, sizes).map_err(|e| ctx.format_error(e))?);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Links of an old-style group.
async fn symbol_table_links(ctx: &Context, st: SymbolTable, ks: GroupKs) -> Result<Vec<Link>> {
    let sizes = ctx.sizes;
    let heap = ctx
        .parse_at(st.heap, local_heap::header_len(sizes) as u64, |b| {
            local_heap::parse(b, st.heap, sizes)
        })
        .await?;
    let leaves = btree_v1::leaves(ctx, st.btree, BTreeKind::Group, ks.internal).await?;
    let snods: Vec<u64> = leaves
        .iter()
        .flat_map(|n| n.children.iter().copied())
        .collect();
    let node_len = symbol_table::node_size(sizes, ks.leaf) as u64;
    let segment = heap
        .data_segment_address
        .ok_or_else(|| ctx.limit(format!("local heap at {}: undefined data segment", st.heap)))?;
    if heap.data_segment_size > ctx.cache.len() {
        return Err(ctx.limit(format!(
            "local heap at {}: data segment larger than the file",
            st.heap
        )));
    }
    ctx.prefetch(
        snods
            .iter()
            .map(|&a| (a, node_len))
            .chain([(segment, heap.data_segment_size)]),
    )
    .await?;
    let names = ctx.read(segment, heap.data_segment_size).await?;
    let mut out = Vec::new();
    for a in snods {
        let entries = ctx
            .parse_at(a, node_len, |b| symbol_table::parse_node(b, a, sizes))
            .await?;
        for e in entries {
            let name = heap
                .name_at(&names, e.link_name_offset)
                .map_err(|e| ctx.format_error(e))?;
            let target = match (e.scratch, e.object_header_address) {
                (Scratch::SoftLink { link_value_offset }, _) => {
                    let v = heap
                        .name_at(&names, u64::from(link_value_offset))
                        .map_err(|e| ctx.format_error(e))?;
                    LinkTarget::Soft(link::text(v))
                }
                (_, Some(addr)) => LinkTarget::Hard(addr),
                (_, None) => continue,
            };
            out.push(Link {
                name: link::text(name),
                creation_order: None,
                target,
            });
        }
    }
    Ok(out)
}
