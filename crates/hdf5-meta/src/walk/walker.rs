//! The walk: superblock → object headers level by level (all headers of one depth fetched in
//! one batch) → datasets' chunk indexes (concurrently) → attributes with variable-length
//! values resolved. Produces a [`Hdf5File`].

use std::collections::HashMap;
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
use crate::error::FormatError;
use crate::format::messages::layout::{self, Storage as LayoutStorage};
use crate::format::messages::link::{Link, LinkTarget};
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
        Self {
            io: IoOptions::default(),
            max_objects: 1_000_000,
            dataset_concurrency: 64,
        }
    }
}

/// Walk the file behind `reader` and describe every object in it.
pub async fn walk(reader: Arc<dyn RangeReader>, opts: WalkOptions) -> Result<Hdf5File> {
    let location = reader.location().to_string();
    let cache = BlockCache::new(reader, opts.io)
        .await
        .map_err(|e| WalkError::io(&location, e))?;
    walk_cached(Arc::new(cache), opts).await
}

/// [`walk`] through an existing cache, which keeps what the walk read: a
/// [`RawReader`](super::raw::RawReader) made [`from_cache`](super::raw::RawReader::from_cache)
/// then reads data without fetching any byte twice, and [`BlockCache::stats`] counts both.
/// `opts.io` is ignored (the cache has its options); for files with the paged file-space
/// strategy the cache is switched to page-aligned reads once the page size is known.
pub async fn walk_cached(cache: Arc<BlockCache>, opts: WalkOptions) -> Result<Hdf5File> {
    let location = cache.location().to_string();
    let head = cache
        .read_head()
        .await
        .map_err(|e| WalkError::io(&location, e))?;
    let at = superblock::find_signature(&head).ok_or_else(|| WalkError::NotHdf5 {
        file: location.clone(),
    })?;
    let sb = superblock::parse(head.get(at as usize..).unwrap_or_default(), at)
        .map_err(|e| WalkError::format(&location, e))?;
    let mut ctx = Context {
        cache,
        base: sb.base_address,
        sizes: sb.sizes,
        sohm_table: None,
        heaps: Default::default(),
    };
    refuse_multi_file_drivers(&ctx, &sb).await?;
    let ext = super::extension::read(&ctx, &sb).await?;
    check_superblock(&ctx, &sb, at)?;
    ctx.sohm_table = ext.sohm_table;
    let page_size = ext.page_size;
    if let Some(p) = page_size {
        // Paged file space: metadata is aggregated in pages, so read it in page-aligned blocks.
        ctx.cache.set_page_size(p);
    }
    let ks = GroupKs {
        internal: sb.group_internal_k.max(1),
        leaf: sb.group_leaf_k.max(1),
    };

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
    let chunk_k = ext.chunk_btree_k;
    describe_datasets(&ctx, &headers, chunk_k, opts, &mut file).await?;
    attributes::attach(&ctx, &headers, &mut file).await?;
    file.io = ctx.cache.stats();
    Ok(file)
}

async fn refuse_multi_file_drivers(ctx: &Context, sb: &Superblock) -> Result<()> {
    let Some(addr) = sb.driver_info_address else {
        return Ok(());
    };
    let sizes = ctx.sizes;
    let info = ctx
        .parse_at(addr, superblock::DRIVER_INFO_HEADER_LEN as u64 + 64, |b| {
            superblock::parse_driver_info(b, addr, sizes)
        })
        .await?;
    if info.is_multi_file() {
        return Err(multi_file_error(ctx, &info.driver_id));
    }
    Ok(())
}

/// Superblock v3 consistency flag: the file is open for writing.
const WRITE_ACCESS: u32 = 0x01;
/// Superblock v3 consistency flag: the file is open for SWMR writing.
const SWMR_WRITE_ACCESS: u32 = 0x04;

/// Refuse what HDF5 itself refuses to open: a v3 superblock whose consistency flags say the
/// file is open for writing (or its writer never closed it), and a file shorter than the
/// end-of-file address its superblock records (truncated, or one member of a multi-file set).
fn check_superblock(ctx: &Context, sb: &Superblock, at: u64) -> Result<()> {
    if sb.version >= 3 && sb.flags & (WRITE_ACCESS | SWMR_WRITE_ACCESS) != 0 {
        let why = format!(
            "file consistency flags {:#04x}: the file is open for writing or its writer did not close it \
             (metadata may be incomplete; HDF5 refuses it too, `h5clear -s` clears the flags)",
            sb.flags
        );
        return Err(WalkError::format(
            ctx.file(),
            FormatError::unsupported("superblock", at, why),
        ));
    }
    let eof = sb.end_of_file();
    if eof > ctx.cache.len() {
        return Err(WalkError::Truncated {
            file: ctx.file().to_string(),
            structure: "superblock (end-of-file address)",
            offset: at,
            needed_end: eof,
            file_len: ctx.cache.len(),
        });
    }
    Ok(())
}

/// The error for files written with the family, multi or split drivers.
pub fn multi_file_error(ctx: &Context, driver: &str) -> WalkError {
    ctx.limit(format!(
        "file driver {driver:?} spreads the file over several member files; index each member's data \
         through a single-file copy (e.g. h5repack) instead"
    ))
}

/// Visit every object: headers are fetched breadth first (one batch per depth), then paths
/// are assigned depth first in name order, as h5py's `visititems` does, so an object reachable
/// through several hard links is listed under the path h5py (and kerchunk) report first.
async fn traverse(
    ctx: &Context,
    sb: &Superblock,
    ks: GroupKs,
    opts: WalkOptions,
    file: &mut Hdf5File,
) -> Result<HashMap<u64, Header>> {
    let root = sb.root_object_header_address;
    let mut headers: HashMap<u64, Header> = HashMap::new();
    let mut links_of: HashMap<u64, Vec<Link>> = HashMap::new();
    let mut level: Vec<u64> = vec![root];
    while !level.is_empty() {
        level.sort_unstable();
        level.dedup();
        level.retain(|a| !headers.contains_key(a));
        if headers.len() + level.len() > opts.max_objects {
            return Err(ctx.limit(format!("more than {} objects", opts.max_objects)));
        }
        ctx.prefetch(level.iter().map(|a| header::speculative_range(*a)))
            .await?;
        let loaded = try_join_all(level.iter().map(|a| header::load(ctx, *a))).await?;
        let links = try_join_all(loaded.iter().map(|h| async move {
            if groups::is_group(h) || h.address == root {
                groups::links(ctx, h, ks).await.map(Some)
            } else {
                Ok(None)
            }
        }))
        .await?;
        let mut next = Vec::new();
        for (h, links) in loaded.into_iter().zip(links) {
            if let Some(links) = links {
                next.extend(links.iter().filter_map(|l| match l.target {
                    LinkTarget::Hard(a) => Some(a),
                    _ => None,
                }));
                links_of.insert(h.address, links);
            }
            headers.insert(h.address, h);
        }
        level = next;
    }

    // Depth-first naming.
    let mut named: HashMap<u64, String> = HashMap::new();
    let mut stack: Vec<(String, u64)> = vec![("/".to_string(), root)];
    while let Some((path, addr)) = stack.pop() {
        if let Some(first) = named.get(&addr) {
            file.aliases.push((path, first.clone()));
            continue;
        }
        named.insert(addr, path.clone());
        let Some(h) = headers.get(&addr) else {
            continue;
        };
        let kind = match links_of.get(&addr) {
            Some(links) => {
                for l in links.iter().rev() {
                    let child = join(&path, &l.name);
                    match &l.target {
                        LinkTarget::Hard(a) => stack.push((child, *a)),
                        LinkTarget::Soft(p) => {
                            file.other_links.push((child, LinkInfo::Soft(p.clone())))
                        }
                        LinkTarget::External { file: f, path: p } => file.other_links.push((
                            child,
                            LinkInfo::External {
                                file: f.clone(),
                                path: p.clone(),
                            },
                        )),
                        LinkTarget::Other(t) => file
                            .warnings
                            .push(format!("{child}: user-defined link type {t} ignored")),
                    }
                }
                ObjectKind::Group {
                    members: links.iter().map(|l| l.name.clone()).collect(),
                }
            }
            // Datasets are described once every header is known (shared messages may point anywhere).
            None if h.first(kinds::LAYOUT).is_some() => ObjectKind::Group {
                members: Vec::new(),
            },
            None => match h.first(kinds::DATATYPE) {
                Some(m) => ObjectKind::Datatype(
                    datatype::parse(&m.data, m.address, ctx.sizes)
                        .map_err(|e| ctx.format_error(e))?,
                ),
                None => ObjectKind::Group {
                    members: Vec::new(),
                },
            },
        };
        file.objects.push(Object {
            path,
            address: addr,
            attributes: Vec::new(),
            kind,
        });
    }
    file.other_links.sort_by(|a, b| a.0.cmp(&b.0));
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
        .filter(|(_, o)| {
            headers
                .get(&o.address)
                .is_some_and(|h| h.first(kinds::LAYOUT).is_some())
        })
        .map(|(i, _)| i)
        .collect();
    let described: Vec<(usize, Dataset)> = stream::iter(indices.into_iter().filter_map(|i| {
        let h = headers.get(&file.objects.get(i)?.address)?;
        Some(async move { describe(ctx, h, chunk_k, headers).await.map(|d| (i, d)) })
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
async fn describe(
    ctx: &Context,
    h: &Header,
    chunk_k: u16,
    headers: &HashMap<u64, Header>,
) -> Result<Dataset> {
    let sizes = ctx.sizes;
    let fe = |e| ctx.format_error(e);
    let missing = |what: &str| ctx.limit(format!("dataset at {}: no {what} message", h.address));
    let message = |kind| attributes::message_bytes(ctx, h, kind, headers);
    let (space_data, space_addr) = message(kinds::DATASPACE)
        .await?
        .ok_or_else(|| missing("dataspace"))?;
    let space = dataspace::parse(&space_data, space_addr, sizes).map_err(fe)?;
    let datatype = attributes::message_datatype(ctx, h, headers)
        .await?
        .ok_or_else(|| missing("datatype"))?;
    let fill = match (
        message(kinds::FILL_VALUE).await?,
        message(kinds::FILL_VALUE_OLD).await?,
    ) {
        (Some((d, a)), _) => fill_value::parse(&d, a, sizes).map_err(fe)?,
        (None, Some((d, a))) => fill_value::parse_old(&d, a, sizes).map_err(fe)?,
        // No fill value message (files of HDF5 < 1.6): the library reports it as undefined.
        (None, None) => fill_value::FillValue {
            version: 0,
            alloc_time: None,
            fill_time: None,
            state: fill_value::FillState::Undefined,
        },
    };
    let filters = match message(kinds::FILTER_PIPELINE).await? {
        Some((d, a)) => filter_pipeline::parse(&d, a, sizes).map_err(fe)?.filters,
        None => Vec::new(),
    };
    let layout_msg = h.first(kinds::LAYOUT).ok_or_else(|| missing("layout"))?;
    let layout = layout::parse(&layout_msg.data, layout_msg.address, sizes).map_err(fe)?;
    let shape = match space.kind {
        dataspace::DataspaceKind::Null => None,
        _ => Some(space.dims.clone()),
    };
    let max_shape = (!space.max_dims.is_empty()).then(|| space.max_dims.clone());
    let element_count = shape.as_ref().map_or(Some(0), |s| {
        s.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
    });
    let contiguous_size = element_count.and_then(|n| layout.contiguous_size(n, datatype.size()));
    let storage = match layout.storage {
        LayoutStorage::Compact { data } => Storage::Compact(data),
        LayoutStorage::Contiguous { address, size } => {
            let size = contiguous_size.unwrap_or(size);
            if let Some(m) = h.first(kinds::EXTERNAL_FILES) {
                Storage::External(super::external::slots(ctx, m).await?)
            } else {
                let range = address.map(|a| ByteRange {
                    offset: ctx.base.saturating_add(a),
                    length: size,
                });
                // HDF5 refuses to open a contiguous dataset whose storage ends past its end-of-file
                // address; references to bytes past the end of the file would not resolve.
                if let Some(r) = range.filter(|r| {
                    r.offset
                        .checked_add(r.length)
                        .is_none_or(|end| end > ctx.cache.len())
                }) {
                    return Err(WalkError::Truncated {
                        file: ctx.file().to_string(),
                        structure: "contiguous storage (data layout message)",
                        offset: layout_msg.address,
                        needed_end: r.offset.saturating_add(r.length),
                        file_len: ctx.cache.len(),
                    });
                }
                Storage::Contiguous(range)
            }
        }
        LayoutStorage::Chunked(c) => {
            let dims = shape.clone().unwrap_or_default();
            let chunks =
                chunks::enumerate(ctx, &c, layout.version, &dims, &space.max_dims, chunk_k).await?;
            Storage::Chunked {
                chunk_shape: c.chunk_dims.clone(),
                unfiltered_edges: c.dont_filter_partial_bound_chunks(),
                chunks,
            }
        }
        LayoutStorage::Virtual { .. } => Storage::Virtual,
    };
    Ok(Dataset {
        datatype,
        shape,
        max_shape,
        filters,
        fill_value: fill,
        storage,
    })
}
