//! External raw data files (message 0x07): names from the local heap, offsets and sizes.

use super::context::Context;
use super::error::Result;
use crate::format::local_heap;
use crate::format::messages::external_files;
use crate::format::messages::link::text;
use crate::format::object_header::Message;

/// (file name, offset in that file, size) for each slot of an external file list.
pub async fn slots(ctx: &Context, m: &Message) -> Result<Vec<(String, u64, u64)>> {
    let sizes = ctx.sizes;
    let list = external_files::parse(&m.data, m.address, sizes).map_err(|e| ctx.format_error(e))?;
    let heap_addr = list.heap_address.ok_or_else(|| {
        ctx.limit(format!(
            "external file list at {}: no local heap",
            m.address
        ))
    })?;
    let heap = ctx
        .parse_at(heap_addr, local_heap::header_len(sizes) as u64, |b| {
            local_heap::parse(b, heap_addr, sizes)
        })
        .await?;
    let seg = heap
        .data_segment_address
        .ok_or_else(|| ctx.limit(format!("local heap at {heap_addr}: no data segment")))?;
    if heap.data_segment_size > ctx.cache.len() {
        return Err(ctx.limit(format!(
            "local heap at {heap_addr}: data segment larger than the file"
        )));
    }
    let names = ctx.read(seg, heap.data_segment_size).await?;
    list.files
        .iter()
        .map(|f| {
            let name = heap
                .name_at(&names, f.name_offset)
                .map_err(|e| ctx.format_error(e))?;
            Ok((text(name), f.file_offset, f.size))
        })
        .collect()
}
