//! The walk: superblock → object headers level by level (all headers of one depth fetched in
//! one batch) → datasets' chunk indexes (concurrently) → attributes with variable-length
//! values resolved. Produces a [`Hdf5File`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::future::try_join_all;
use futures::{stream, StreamExt, TryStreamExt};

use super::attributes;
use super::cache::{BlockCache, IoOptions};
use super::chunks;
use super::context::Context;
use super::error::{Result, WalkError};
use super::groups::{self, GroupKs};
use super::header::{self, Header};
use super::source::RangeReader;
use crate::format::messages::layout::{self, Storage as LayoutStorage};
use crate::format::messages::link::LinkTarget;
use crate::format::messages::{dataspace, datatype, fill_value, filter_pipeline, kinds};
use crate::format::superblock::{self, Superblock};
use crate::model::{ByteRange, Dataset, Hdf5File, LinkInfo, Object, ObjectKind, Storage};

/// Options of a walk.
#[derive(Debug, Clone, Copy)]
pub struct WalkOptions {
    /// I/O tuning.
    pub io: IoOptions,
    /// Most objects (groups, datasets, datatypes) a file may have.
    pub max_objects: usize,
    /// Datasets whose chunk indexes are read concurrently.
    pub dataset_concurrency: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        Self { io: IoOptions::default(), max_objects: 1_000_000, dataset_concurrency: 64 }
    }
}

/// Walk the file behind `reader` and describe every object in it.
pub async fn walk(reader: Arc<dyn RangeReader>, opts: WalkOptions) -> Result<Hdf5File> {
    let location = reader.location().to_string();
    let cache = BlockCache::new(reader, opts.io).await.map_err(|e| WalkError::io(&location, e))?;
    let head = cache.read_head().await.map_err(|e| WalkError::io(&location, e))?;
    let at = superblock::find_signature(&head).ok_or_else(|| WalkError::NotHdf5 { file: location.clone() })?;
    let sb = superblock::parse(head.get(at as usize..).unwrap_or_default(), at).map_err(|e| WalkError::format(&location, e))?;
    let ctx = Context { cache, base: sb.base_address, sizes: sb.sizes };
    refuse_multi_file_drivers(&ctx, &sb).await?;
    let page_size = super::extension::page_size(&ctx, &sb).await?;
    let ks = GroupKs { internal: sb.group_internal_k.max(1), leaf: sb.group_leaf_k.max(1) };

    let mut file = Hdf5File {
        location,
        size: ctx.cache.len(),
        superblock_version: sb.version,
        base_address: sb.base_address,
        page_size,
        objects: Vec::new(),
        other_links: Vec::new(),
        aliases: Vec::new(),
        warnings: Vec::new(),
        io: Default::default(),
    };
    let headers = traverse(&ctx, &sb, ks, opts, &mut file).await?;
    let chunk_k = super::extension::chunk_btree_k(&ctx, &sb).await?;
    describe_datasets(&ctx, &headers, chunk_k, opts, &mut file).await?;
    attributes::attach(&ctx, &headers, &mut file).await?;
    file.io = ctx.cache.stats();
    Ok(file)
}

async fn refuse_multi_file_drivers(ctx: &Context, sb: &Superblock) -> Result<()> {
    let Some(addr) = sb.driver_info_address else { return Ok(()) };
    let sizes = ctx.sizes;
    let info = ctx
        .parse_at(addr, superblock::DRIVER_INFO_HEADER_LEN as u64 + 64, |b| superblock::parse_driver_info(b, addr, sizes))
        .await?;
    if info.is_multi_file() {
        return Err(ctx.limit(format!(
            "file driver {:?} spreads the file over several member files; index each member's data \
             through a single-file copy (e.g. h5repack) instead",
            info.driver_id
        )));
    }
    Ok(())
}

/// Visit every object breadth first; returns each object's header keyed by address.
async fn traverse(
    ctx: &Context,
    sb: &Superblock,
    ks: GroupKs,
    opts: WalkOptions,
    file: &mut Hdf5File,
) -> Result<HashMap<u64, Header>> {
    let mut headers: HashMap<u64, Header> = HashMap::new();
    let mut path_of: HashMap<u64, String> = HashMap::new();
    let mut level: Vec<(String, u64)> = vec![("/".to_string(), sb.root_object_header_address)];
    while !level.is_empty() {
        // New objects of this level, fetched together.
        let mut fresh: Vec<(String, u64)> = Vec::new();
        let mut queued: HashSet<u64> = HashSet::new();
        for (path, addr) in level {
            if let Some(first) = path_of.get(&addr) {
                file.aliases.push((path, first.clone()));
            } else if queued.insert(addr) {
                fresh.push((path, addr));
            } else if let Some((first, _)) = fresh.iter().find(|(_, a)| *a == addr) {
                file.aliases.push((path, first.clone()));
            }
        }
        if headers.len() + fresh.len() > opts.max_objects {
            return Err(ctx.limit(format!("more than {} objects", opts.max_objects)));
        }
        ctx.prefetch(fresh.iter().map(|(_, a)| header::speculative_range(*a))).await?;
        let loaded = try_join_all(fresh.iter().map(|(_, a)| header::load(ctx, *a))).await?;
        let links = try_join_all(loaded.iter().map(|h| async move {
            if groups::is_group(h) || h.address == sb.root_object_header_address {
                groups::links(ctx, h, ks).await.map(Some)
            } else {
                Ok(None)
            }
        }))
        .await?;
        let mut next = Vec::new();
        for (((path, addr), h), links) in fresh.into_iter().zip(loaded).zip(links) {
            path_of.insert(addr, path.clone());
            let kind = match links {
                Some(links) => {
                    let members = links.iter().map(|l| l.name.clone()).collect();
                    for l in links {
                        let child = join(&path, &l.name);
                        match l.target {
                            LinkTarget::Hard(a) => next.push((child, a)),
                            LinkTarget::Soft(p) => file.other_links.push((child, LinkInfo::Soft(p))),
                            LinkTarget::External { file: f, path: p } => {
                                file.other_links.push((child, LinkInfo::External { file: f, path: p }))
                            }
                            LinkTarget::Other(t) => file.warnings.push(format!("{child}: user-defined link type {t} ignored")),
                        }
                    }
                    ObjectKind::Group { members }
                }
                None if h.first(kinds::LAYOUT).is_some() => ObjectKind::Group { members: Vec::new() }, // replaced by describe_datasets
                None => match h.first(kinds::DATATYPE) {
                    Some(m) => ObjectKind::Datatype(
                        datatype::parse(&m.data, m.address, ctx.sizes).map_err(|e| ctx.format_error(e))?,
                    ),
                    None => ObjectKind::Group { members: Vec::new() },
                },
            };
            file.objects.push(Object { path, address: addr, attributes: Vec::new(), kind });
            headers.insert(addr, h);
        }
        level = next;
    }
    Ok(headers)
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Fill in every dataset's description and chunk list.
async fn describe_datasets(
    ctx: &Context,
    headers: &HashMap<u64, Header>,
    chunk_k: u16,
    opts: WalkOptions,
    file: &mut Hdf5File,
) -> Result<()> {
    let indices: Vec<usize> = file
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| headers.get(&o.address).is_some_and(|h| h.first(kinds::LAYOUT).is_some()))
        .map(|(i, _)| i)
        .collect();
    let described: Vec<(usize, Dataset)> = stream::iter(indices.into_iter().map(|i| {
        let h = &headers[&file.objects[i].address];
        async move { describe(ctx, h, chunk_k, headers).await.map(|d| (i, d)) }
    }))
    .buffered(opts.dataset_concurrency.max(1))
    .try_collect()
    .await?;
    for (i, d) in described {
        if let Some(o) = file.objects.get_mut(i) {
            o.kind = ObjectKind::Dataset(Box::new(d));
        }
    }
    Ok(())
}

/// Decode one dataset's messages and list its stored chunks.
async fn describe(ctx: &Context, h: &Header, chunk_k: u16, headers: &HashMap<u64, Header>) -> Result<Dataset> {
    let sizes = ctx.sizes;
    let fe = |e| ctx.format_error(e);
    let missing = |what: &str| ctx.limit(format!("dataset at {}: no {what} message", h.address));
    let space_msg = h.first(kinds::DATASPACE).ok_or_else(|| missing("dataspace"))?;
    let space = dataspace::parse(&space_msg.data, space_msg.address, sizes).map_err(fe)?;
    let datatype = attributes::message_datatype(ctx, h, headers).await?.ok_or_else(|| missing("datatype"))?;
    let fill = match (h.first(kinds::FILL_VALUE), h.first(kinds::FILL_VALUE_OLD)) {
        (Some(m), _) => fill_value::parse(&m.data, m.address, sizes).map_err(fe)?,
        (None, Some(m)) => fill_value::parse_old(&m.data, m.address, sizes).map_err(fe)?,
        (None, None) => fill_value::FillValue::default(),
    };
    let filters = match h.first(kinds::FILTER_PIPELINE) {
        Some(m) => filter_pipeline::parse(&m.data, m.address, sizes).map_err(fe)?.filters,
        None => Vec::new(),
    };
    let layout_msg = h.first(kinds::LAYOUT).ok_or_else(|| missing("layout"))?;
    let layout = layout::parse(&layout_msg.data, layout_msg.address, sizes).map_err(fe)?;
    let shape = match space.kind {
        dataspace::DataspaceKind::Null => None,
        _ => Some(space.dims.clone()),
    };
    let max_shape = (!space.max_dims.is_empty()).then(|| space.max_dims.clone());
    let storage = match layout.storage {
        LayoutStorage::Compact { data } => Storage::Compact(data),
        LayoutStorage::Contiguous { address, size } => {
            if let Some(m) = h.first(kinds::EXTERNAL_FILES) {
                Storage::External(super::external::slots(ctx, m).await?)
            } else {
                Storage::Contiguous(address.map(|a| ByteRange { offset: ctx.base.saturating_add(a), length: size }))
            }
        }
        LayoutStorage::Chunked(c) => {
            let dims = shape.clone().unwrap_or_default();
            let chunks = chunks::enumerate(ctx, &c, layout.version, &dims, &space.max_dims, chunk_k).await?;
            Storage::Chunked {
                chunk_shape: c.chunk_dims.clone(),
                unfiltered_edges: c.dont_filter_partial_bound_chunks(),
                chunks,
            }
        }
        LayoutStorage::Virtual { .. } => Storage::Virtual,
    };
    Ok(Dataset { datatype, shape, max_shape, filters, fill_value: fill, storage })
}
