//! Attributes of every object: compact attribute messages and dense storage, shared
//! datatypes resolved, values decoded, variable-length data fetched from global heaps (all
//! collections a file's attributes need are fetched in one batch).

use std::collections::HashMap;

use futures::future::try_join_all;

use super::context::Context;
use super::dense;
use super::error::Result;
use super::header::{self, Header};
use crate::format::global_heap::{self, GlobalHeapCollection};
use crate::format::messages::attribute::{self, MaybeShared};
use crate::format::messages::dataspace::{self, Dataspace, DataspaceKind};
use crate::format::messages::datatype::{self, Datatype, VarLenKind};
use crate::format::messages::kinds;
use crate::format::messages::link_info;
use crate::format::messages::shared::{self, SharedRef};
use crate::format::value::{self, HeapId, RefValue, Value};
use crate::model::{Attribute, Hdf5File};

/// Guess for a global heap collection's size (the library's minimum collection is 4 KiB).
const COLLECTION_GUESS: u64 = 4096;

/// The bytes (and address) of the first message of `kind` in `h`, following a shared-message
/// reference (committed object or SOHM heap) when the message is shared.
pub async fn message_bytes(
    ctx: &Context,
    h: &Header,
    kind: u16,
    headers: &HashMap<u64, Header>,
) -> Result<Option<(Vec<u8>, u64)>> {
    let Some(m) = h.first(kind) else {
        return Ok(None);
    };
    if m.is_shared() {
        return shared_message_bytes(ctx, &m.data, m.address, kind, headers)
            .await
            .map(Some);
    }
    Ok(Some((m.data.clone(), m.address)))
}

/// The datatype message of a header, resolving a shared (committed or SOHM) datatype.
pub async fn message_datatype(
    ctx: &Context,
    h: &Header,
    headers: &HashMap<u64, Header>,
) -> Result<Option<Datatype>> {
    let Some(m) = h.first(kinds::DATATYPE) else {
        return Ok(None);
    };
    if m.is_shared() {
        return resolve_shared_datatype(ctx, &m.data, m.address, headers)
            .await
            .map(Some);
    }
    datatype::parse(&m.data, m.address, ctx.sizes)
        .map(Some)
        .map_err(|e| ctx.format_error(e))
}

async fn resolve_shared_datatype(
    ctx: &Context,
    data: &[u8],
    address: u64,
    headers: &HashMap<u64, Header>,
) -> Result<Datatype> {
    let bytes = shared_message_bytes(ctx, data, address, kinds::DATATYPE, headers).await?;
    datatype::parse(&bytes.0, bytes.1, ctx.sizes).map_err(|e| ctx.format_error(e))
}

async fn resolve_shared_dataspace(
    ctx: &Context,
    data: &[u8],
    address: u64,
    headers: &HashMap<u64, Header>,
) -> Result<Dataspace> {
    let bytes = shared_message_bytes(ctx, data, address, kinds::DATASPACE, headers).await?;
    dataspace::parse(&bytes.0, bytes.1, ctx.sizes).map_err(|e| ctx.format_error(e))
}

/// The bytes (and their address) of a shared message of `kind`.
async fn shared_message_bytes(
    ctx: &Context,
    data: &[u8],
    address: u64,
    kind: u16,
    headers: &HashMap<u64, Header>,
) -> Result<(Vec<u8>, u64)> {
    match shared::parse(data, address, ctx.sizes).map_err(|e| ctx.format_error(e))? {
        SharedRef::Address(a) => {
            let loaded;
            let h = match headers.get(&a) {
                Some(h) => h,
                None => {
                    loaded = header::load(ctx, a).await?;
                    &loaded
                }
            };
            let m = h.first(kind).ok_or_else(|| {
                ctx.limit(format!(
                    "shared message at {address}: object {a} has no message of type {kind}"
                ))
            })?;
            Ok((m.data.clone(), m.address))
        }
        SharedRef::SohmHeapId(id) => dense::sohm_message(ctx, kind, &id).await,
    }
}

/// A parsed attribute before variable-length resolution.
struct Pending {
    object: usize,
    attribute: Attribute,
}

/// Decode every object's attributes into `file`.
pub async fn attach(
    ctx: &Context,
    headers: &HashMap<u64, Header>,
    file: &mut Hdf5File,
) -> Result<()> {
    let per_object = try_join_all(file.objects.iter().enumerate().map(|(i, o)| async move {
        let Some(h) = headers.get(&o.address) else {
            return Ok(Vec::new());
        };
        object_attributes(ctx, h, headers).await.map(|v| {
            v.into_iter()
                .map(|a| Pending {
                    object: i,
                    attribute: a,
                })
                .collect::<Vec<_>>()
        })
    }))
    .await?;
    let pending: Vec<Pending> = per_object.into_iter().flatten().collect();

    // One batch for every global heap collection any attribute needs.
    let mut ids = Vec::new();
    for p in &pending {
        collect_heap_ids(&p.attribute.value, &mut ids);
    }
    ids.sort_unstable();
    ids.dedup();
    ctx.prefetch(ids.iter().map(|&a| (a, COLLECTION_GUESS)))
        .await?;
    let mut sized = Vec::with_capacity(ids.len());
    for a in ids {
        sized.push((a, collection_size(ctx, a).await?));
    }
    // Collections occupy disjoint parts of the file, which bounds what they can make us decode.
    if let Some(((a, n), (b, _))) = first_overlap(&sized) {
        return Err(ctx.limit(format!(
            "global heap collection at {a} ({n} bytes) overlaps the collection at {b}"
        )));
    }
    let mut heaps: HashMap<u64, (GlobalHeapCollection, bytes::Bytes)> = HashMap::new();
    for (a, size) in sized {
        heaps.insert(a, read_collection(ctx, a, size).await?);
    }
    for p in pending {
        let Pending {
            object,
            mut attribute,
        } = p;
        match resolve_vlen(&attribute.datatype, attribute.value, &heaps, ctx) {
            Ok(v) => attribute.value = v,
            Err(e) => {
                let path = file
                    .objects
                    .get(object)
                    .map(|o| o.path.clone())
                    .unwrap_or_default();
                file.warnings.push(format!(
                    "{path}: attribute {:?} skipped: {e}",
                    attribute.name
                ));
                continue;
            }
        }
        if let Some(o) = file.objects.get_mut(object) {
            o.attributes.push(attribute);
        }
    }
    Ok(())
}

/// The size of the global heap collection at `a`, from its header (at most the file length).
async fn collection_size(ctx: &Context, a: u64) -> Result<u64> {
    let sizes = ctx.sizes;
    let size = ctx
        .parse_at(a, global_heap::header_len(sizes) as u64, |b| {
            global_heap::collection_size(b, a, sizes)
        })
        .await?;
    if size > ctx.cache.len() {
        return Err(ctx.limit(format!(
            "global heap collection at {a}: size {size} exceeds the file"
        )));
    }
    Ok(size)
}

/// The first pair of (address, size) ranges that overlap, in address order.
fn first_overlap(ranges: &[(u64, u64)]) -> Option<((u64, u64), (u64, u64))> {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).find_map(|w| match w {
        [x, y] if x.0.checked_add(x.1).is_none_or(|end| end > y.0) => Some((*x, *y)),
        _ => None,
    })
}

/// Read and decode the `size`-byte global heap collection at `a`.
async fn read_collection(
    ctx: &Context,
    a: u64,
    size: u64,
) -> Result<(GlobalHeapCollection, bytes::Bytes)> {
    let sizes = ctx.sizes;
    let bytes = ctx.read(a, size).await?;
    let c = global_heap::parse(&bytes, a, sizes).map_err(|e| ctx.format_error(e))?;
    Ok((c, bytes))
}

/// Attribute messages of one header (compact, then dense), decoded without vlen resolution.
async fn object_attributes(
    ctx: &Context,
    h: &Header,
    headers: &HashMap<u64, Header>,
) -> Result<Vec<Attribute>> {
    let sizes = ctx.sizes;
    let mut raw: Vec<(Vec<u8>, u64)> = Vec::new();
    for m in h.of_kind(kinds::ATTRIBUTE) {
        raw.push(if m.is_shared() {
            shared_message_bytes(ctx, &m.data, m.address, kinds::ATTRIBUTE, headers).await?
        } else {
            (m.data.clone(), m.address)
        });
    }
    if let Some(m) = h.first(kinds::ATTRIBUTE_INFO) {
        let info = link_info::parse_attribute_info(&m.data, m.address, sizes)
            .map_err(|e| ctx.format_error(e))?;
        if let (Some(heap), Some(index)) = (info.heap, info.name_index) {
            raw.extend(dense::attribute_messages(ctx, heap, index).await?);
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    for (data, address) in raw {
        let a = attribute::parse(&data, address, sizes).map_err(|e| ctx.format_error(e))?;
        let dt = match a.datatype {
            MaybeShared::Inline(t) => t,
            MaybeShared::Shared(s) => resolve_shared_datatype(ctx, &s, address, headers).await?,
        };
        let space = match a.dataspace {
            MaybeShared::Inline(s) => s,
            MaybeShared::Shared(s) => resolve_shared_dataspace(ctx, &s, address, headers).await?,
        };
        let data = match attribute::expected_data_len(&dt, &space) {
            Some(n) => a
                .data
                .get(..usize::try_from(n).unwrap_or(usize::MAX))
                .unwrap_or(&a.data),
            None => &a.data,
        };
        let (shape, value) = decode(ctx, &dt, &space, data, address)?;
        out.push(Attribute {
            name: a.name,
            datatype: dt,
            shape,
            value,
        });
    }
    Ok(out)
}

/// Decode raw attribute bytes: a scalar value, an array in C order, or `Value::Array([])` for
/// a null dataspace (shape `None`).
fn decode(
    ctx: &Context,
    dt: &Datatype,
    space: &Dataspace,
    data: &[u8],
    address: u64,
) -> Result<(Option<Vec<u64>>, Value)> {
    let fe = |e| ctx.format_error(e);
    match space.kind {
        DataspaceKind::Null => Ok((None, Value::Array(Vec::new()))),
        DataspaceKind::Scalar => Ok((Some(Vec::new()), value::decode_value(dt, data).map_err(fe)?)),
        DataspaceKind::Simple => {
            let count = space.element_count().ok_or_else(|| {
                ctx.limit(format!("attribute at {address}: element count overflows"))
            })?;
            let values = value::decode_values(dt, data, count).map_err(fe)?;
            Ok((Some(space.dims.clone()), Value::Array(values)))
        }
    }
}

fn collect_heap_ids(v: &Value, out: &mut Vec<u64>) {
    match v {
        Value::VarLen {
            heap_id: HeapId {
                collection: Some(c),
                ..
            },
            length,
        } if *length > 0 => out.push(*c),
        Value::Reference(RefValue::Region(HeapId {
            collection: Some(c),
            ..
        })) => out.push(*c),
        Value::Array(items) => items.iter().for_each(|i| collect_heap_ids(i, out)),
        Value::Compound(fields) => fields.iter().for_each(|(_, i)| collect_heap_ids(i, out)),
        _ => {}
    }
}

type Heaps = HashMap<u64, (GlobalHeapCollection, bytes::Bytes)>;

/// Replace variable-length placeholders by their data, guided by the datatype.
pub fn resolve_vlen(
    dt: &Datatype,
    v: Value,
    heaps: &Heaps,
    ctx: &Context,
) -> std::result::Result<Value, String> {
    match (dt, v) {
        (Datatype::VarLen(t), Value::VarLen { length, heap_id }) => {
            let bytes: &[u8] = match heap_id.collection {
                Some(c) if length > 0 => {
                    let (coll, raw) = heaps
                        .get(&c)
                        .ok_or_else(|| format!("global heap collection {c} not loaded"))?;
                    coll.object_data(raw, heap_id.index).ok_or_else(|| {
                        format!(
                            "global heap object {} missing from collection {c}",
                            heap_id.index
                        )
                    })?
                }
                _ => &[],
            };
            match t.kind {
                VarLenKind::String { padding, .. } => {
                    let n = (length as usize).min(bytes.len());
                    Ok(value::decode_string(
                        bytes.get(..n).unwrap_or_default(),
                        padding,
                    ))
                }
                VarLenKind::Sequence => {
                    let items = value::decode_values(&t.base, bytes, u64::from(length))
                        .map_err(|e| e.to_string())?;
                    let items = items
                        .into_iter()
                        .map(|i| resolve_vlen(&t.base, i, heaps, ctx))
                        .collect::<std::result::Result<_, _>>()?;
                    Ok(Value::Array(items))
                }
            }
        }
        (Datatype::Compound(t), Value::Compound(fields)) => {
            let mut out = Vec::with_capacity(fields.len());
            for ((name, val), m) in fields.into_iter().zip(&t.members) {
                out.push((name, resolve_vlen(&m.datatype, val, heaps, ctx)?));
            }
            Ok(Value::Compound(out))
        }
        (Datatype::Array(t), Value::Array(items)) => Ok(Value::Array(
            items
                .into_iter()
                .map(|i| resolve_vlen(&t.base, i, heaps, ctx))
                .collect::<std::result::Result<_, _>>()?,
        )),
        (_, Value::Array(items)) => Ok(Value::Array(
            items
                .into_iter()
                .map(|i| resolve_vlen(dt, i, heaps, ctx))
                .collect::<std::result::Result<_, _>>()?,
        )),
        // A region reference's heap object starts with the referenced object's address; the
        // selection that follows is not kept.
        (
            _,
            Value::Reference(RefValue::Region(HeapId {
                collection: Some(c),
                index,
            })),
        ) => {
            let (coll, raw) = heaps
                .get(&c)
                .ok_or_else(|| format!("global heap collection {c} not loaded"))?;
            let bytes = coll.object_data(raw, index).ok_or_else(|| {
                format!("region reference object {index} missing from collection {c}")
            })?;
            let width = usize::from(ctx.sizes.offset);
            let addr = bytes.get(..width).and_then(crate::format::cursor::read_le);
            Ok(Value::Reference(RefValue::Object(addr)))
        }
        (_, v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::first_overlap;

    #[test]
    fn overlapping_collections_are_found() {
        assert_eq!(first_overlap(&[]), None);
        assert_eq!(first_overlap(&[(4096, 4096), (0, 4096), (8192, 100)]), None);
        // A second "collection" inside the first one (crafted heap IDs pointing into it).
        assert_eq!(
            first_overlap(&[(0, 4096), (16, 4080), (8192, 10)]),
            Some(((0, 4096), (16, 4080)))
        );
        assert_eq!(
            first_overlap(&[(u64::MAX - 1, 10), (u64::MAX, 1)]),
            Some(((u64::MAX - 1, 10), (u64::MAX, 1)))
        );
    }
}
