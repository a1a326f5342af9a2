//! One dataset → `.zarray`, `.zattrs` and chunk references (kerchunk-behavior.md §2.4, §2.5,
//! §2.9).
//!
//! * Contiguous data is one chunk covering the shape; chunked data keeps the HDF5 chunk shape
//!   and one key per allocated chunk (unwritten chunks are omitted); a scalar's key is `0`.
//! * Compact data is always embedded (kerchunk drops it above `inline_threshold`).
//! * A stored chunk smaller than `inline_threshold` (strict `<`) is embedded.
//! * Chunks whose filter mask differs from the declared pipeline, and partial edge chunks of
//!   datasets written with `DONT_FILTER_PARTIAL_BOUND_CHUNKS`, are decoded and re-encoded with
//!   the declared codecs, then embedded (up to `max_reencoded_chunk` bytes each, else the
//!   dataset is refused).
//! * Filters without a numcodecs equivalent but with a Rust decoder (LZF, scale-offset, LZ4)
//!   put the dataset on the "data path": its decoded chunks are embedded without filters when
//!   the whole dataset is smaller than the unsupported-inline threshold; otherwise it is
//!   refused.
//! * Variable-length strings and object references are read and embedded as `vlen-utf8`
//!   chunks (one per HDF5 chunk), including scalars (kerchunk loses scalar strings).
//! * Fixed-length string datasets (more than one byte) get `_Encoding: "utf-8"` in `.zattrs`
//!   so that xarray decodes them to `str` as it does reading the netCDF file (kerchunk leaves
//!   them as bytes).
//! * External raw data in one segment is referenced in the external file (resolved next to
//!   the HDF5 file's URL); virtual datasets are refused.

use bytes::Bytes;
use hdf5_meta::format::messages::datatype::Datatype;
use hdf5_meta::format::value::{decode_value, RefValue as H5Ref, Value};
use hdf5_meta::model::{ChunkRef, Dataset, Object, Storage};
use hdf5_meta::walk::raw::{RawError, RawReader};
use serde_json::Value as J;

use super::attrs::{convert_all, Json, PathIndex};
use super::dims::{array_dimensions, is_dimension_scale};
use super::dtype::{repr, Repr};
use super::fill::fill_value;
use super::filters::{
    applied, decode_chunk, effective_mask, encode_chunk, majority_mask, map_pipeline, Mapped,
};
use super::strings;
use super::{IndexOptions, Reason, Warning};
use crate::chunk_key::chunk_key;
use crate::reference::{RefValue, Url};
use crate::zarr::{encode_vlen, Codec, DType, ZArray};

/// A translated array, ready to be inserted.
#[derive(Debug)]
pub struct ArrayOut {
    /// Key prefix (HDF5 path without the leading `/`).
    pub path: String,
    /// `.zarray`.
    pub zarray: ZArray,
    /// `.zattrs` fields (`_ARRAY_DIMENSIONS` first).
    pub zattrs: Vec<(String, Json)>,
    /// Chunk keys and values.
    pub chunks: Vec<(String, RefValue)>,
}

/// The outcome of one dataset.
#[derive(Debug)]
pub enum Outcome {
    /// Emitted (with non-fatal warnings).
    Array(Box<ArrayOut>, Vec<Warning>),
    /// A netCDF dimension without a variable: emits nothing, by design.
    DimensionOnly,
    /// Not representable: nothing is emitted.
    Refused(Warning),
}

/// Shared inputs of the per-dataset translation.
pub struct Ctx<'a> {
    /// Raw data access.
    pub raw: &'a RawReader,
    /// Object header address → path.
    pub paths: &'a PathIndex,
    /// URL written into references.
    pub url: Url,
    /// Options.
    pub opts: &'a IndexOptions,
    /// The file is netCDF-4 (its root group has `_NCProperties`).
    pub netcdf_file: bool,
}

/// A refusal in progress: reason and message.
type Refusal = (Reason, String);

/// I/O errors abort the whole translation; malformed data refuses the dataset.
fn raw_err(e: RawError) -> Result<Refusal, RawError> {
    match e {
        RawError::Io { .. } => Err(e),
        other => Ok((Reason::Data, other.to_string())),
    }
}

fn product(dims: &[u64]) -> Option<u64> {
    dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
}

fn to_usize(n: u64, what: &str) -> Result<usize, Refusal> {
    usize::try_from(n).map_err(|_| {
        (
            Reason::Size,
            format!("{what} of {n} bytes does not fit in memory"),
        )
    })
}

/// Translate one dataset. `Err` only for I/O failures, which abort the whole file.
pub async fn translate(obj: &Object, ds: &Dataset, ctx: &Ctx<'_>) -> Result<Outcome, RawError> {
    let mut warnings = Vec::new();
    match build(obj, ds, ctx, &mut warnings).await {
        Ok(Some(a)) => Ok(Outcome::Array(Box::new(a), warnings)),
        Ok(None) => Ok(Outcome::DimensionOnly),
        Err(Step::Refused((reason, message))) => Ok(Outcome::Refused(Warning {
            path: obj.path.clone(),
            refused: true,
            reason,
            message,
        })),
        Err(Step::Io(e)) => Err(e),
    }
}

enum Step {
    Refused(Refusal),
    Io(RawError),
}

impl From<Refusal> for Step {
    fn from(r: Refusal) -> Self {
        Step::Refused(r)
    }
}

impl From<RawError> for Step {
    fn from(e: RawError) -> Self {
        match raw_err(e) {
            Ok(r) => Step::Refused(r),
            Err(e) => Step::Io(e),
        }
    }
}

/// How the chunk data is produced.
enum Data {
    /// References (or inlined copies) of stored chunks, with these codecs.
    Refs(Vec<Codec>),
    /// Decoded, embedded without codecs.
    Decoded,
    /// Embedded `vlen-utf8` / `vlen-bytes` items.
    Vlen,
}

async fn build(
    obj: &Object,
    ds: &Dataset,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<ArrayOut>, Step> {
    let shape = match &ds.shape {
        Some(s) => s.clone(),
        None => {
            return Err(Step::Refused((
                Reason::Storage,
                "null dataspace (no elements, no shape)".into(),
            )))
        }
    };
    if obj.path.contains('\\') {
        return Err(Step::Refused((
            Reason::Name,
            "the path contains a backslash, which zarr-python reads as a path separator".into(),
        )));
    }
    if matches!(ds.storage, Storage::Virtual) {
        return Err(Step::Refused((
            Reason::Storage,
            "virtual dataset: its data lives in other datasets or files".into(),
        )));
    }
    let rep = repr(&ds.datatype).map_err(|m| Step::Refused((Reason::Datatype, m)))?;
    if is_dimension_scale(&obj.attributes) && !has_storage(&ds.storage) {
        return Ok(None);
    }
    let extra: Vec<u64> = match &rep {
        Repr::Plain { extra_dims, .. } => extra_dims.clone(),
        _ => Vec::new(),
    };
    let mut zshape = shape.clone();
    zshape.extend_from_slice(&extra);
    let hdf5_chunks: Option<Vec<u64>> = match &ds.storage {
        Storage::Chunked { chunk_shape, .. } => {
            let mut c = chunk_shape.clone();
            if c.len() == shape.len() + 1 {
                c.pop(); // layout v1–3 store the element size as a last dimension
            }
            if c.len() != shape.len() || c.contains(&0) {
                return Err(Step::Refused((
                    Reason::Storage,
                    format!("chunk shape {c:?} does not fit dataspace {shape:?}"),
                )));
            }
            Some(c)
        }
        _ => None,
    };
    let mut zchunks = hdf5_chunks.clone().unwrap_or_else(|| shape.clone());
    zchunks.extend_from_slice(&extra);

    let dims = array_dimensions(obj, shape.len(), zshape.len(), ctx.paths)
        .map_err(|m| Step::Refused((Reason::Dimensions, m)))?;
    let mut zattrs = vec![(
        "_ARRAY_DIMENSIONS".to_string(),
        Json::List(dims.into_iter().map(Json::Str).collect()),
    )];
    zattrs.extend(convert_all(&obj.attributes, ctx.paths));
    // Fixed-length strings longer than one byte are text to netCDF-4 (NC_STRING) and h5py
    // users; `_Encoding` makes xarray decode the bytes to str as it does for the file.
    // (One-byte strings are netCDF NC_CHAR arrays and stay bytes.)
    if matches!(&ds.datatype, Datatype::String(t) if t.size > 1)
        && !zattrs.iter().any(|(k, _)| k == "_Encoding")
    {
        zattrs.push(("_Encoding".to_string(), Json::Str("utf-8".to_string())));
    }
    let key_path = obj.path.trim_start_matches('/').to_string();

    let elem = ds.datatype.size();
    let nelem = product(&shape)
        .ok_or_else(|| Step::Refused((Reason::Size, "element count overflows".into())))?;
    let nbytes = nelem
        .checked_mul(elem)
        .ok_or_else(|| Step::Refused((Reason::Size, "byte size overflows".into())))?;

    let (dtype, data, chunks) = match &rep {
        Repr::Plain { dtype, .. } => {
            let (data, chunks) = plain_chunks(
                ds,
                &shape,
                hdf5_chunks.as_deref(),
                &key_path,
                nbytes,
                &extra,
                ctx,
                warnings,
            )
            .await?;
            (dtype.clone(), data, chunks)
        }
        Repr::VlenString { .. } | Repr::ObjectRef => {
            let chunks =
                vlen_chunks(ds, &rep, &shape, hdf5_chunks.as_deref(), &key_path, ctx).await?;
            (DType::simple("|O"), Data::Vlen, chunks)
        }
    };
    let complete = nbytes == 0 || is_complete(&ds.storage, &shape, hdf5_chunks.as_deref());
    let mut zarray = ZArray::new(zshape, zchunks, dtype);
    zarray.fill_value = match &data {
        Data::Vlen => J::Null,
        Data::Decoded => fill_value(ds, &rep, &obj.attributes, complete, true, ctx.netcdf_file),
        Data::Refs(_) => fill_value(ds, &rep, &obj.attributes, complete, false, ctx.netcdf_file),
    };
    let (codecs, chunks) = match data {
        Data::Refs(c) => (c, chunks),
        Data::Decoded => (Vec::new(), chunks),
        Data::Vlen => {
            let utf8 = chunks
                .iter()
                .all(|(_, v)| v.as_inline().is_none_or(|b| vlen_is_utf8(b)));
            (
                vec![if utf8 {
                    Codec::VlenUtf8
                } else {
                    Codec::VlenBytes
                }],
                chunks,
            )
        }
    };
    zarray.set_filters(&codecs);
    Ok(Some(ArrayOut {
        path: key_path,
        zarray,
        zattrs,
        chunks,
    }))
}

/// Whether every chunk inside the extent is stored (so the fill value is never read).
fn is_complete(s: &Storage, shape: &[u64], chunk_shape: Option<&[u64]>) -> bool {
    match s {
        Storage::Compact(_) | Storage::External(_) => true,
        Storage::Contiguous(r) => r.is_some(),
        Storage::Chunked { chunks, .. } => {
            let cs = chunk_shape.unwrap_or(shape);
            let grid = shape
                .iter()
                .zip(cs)
                .try_fold(1u64, |acc, (&s, &c)| acc.checked_mul(s.div_ceil(c.max(1))));
            grid.is_some_and(|g| chunks.len() as u64 >= g)
        }
        Storage::Virtual => false,
    }
}

fn has_storage(s: &Storage) -> bool {
    match s {
        Storage::Compact(b) => !b.is_empty(),
        Storage::Contiguous(r) => r.is_some(),
        Storage::Chunked { chunks, .. } => !chunks.is_empty(),
        Storage::External(segs) => !segs.is_empty(),
        Storage::Virtual => true,
    }
}

/// Key of an HDF5 chunk grid index, padded with zeros for array-type dimensions.
fn key_of(path: &str, grid: &[u64], extra: usize) -> String {
    let mut g = grid.to_vec();
    g.extend(std::iter::repeat_n(0, extra));
    chunk_key(path, &g)
}

/// Whether a chunk at `grid` extends past the dataset extent.
fn is_partial(grid: &[u64], chunk: &[u64], shape: &[u64]) -> bool {
    grid.iter()
        .zip(chunk)
        .zip(shape)
        .any(|((&g, &c), &s)| g.saturating_add(1).saturating_mul(c) > s)
}

/// Read `size` bytes at `offset` (inline copies and decoding).
async fn read(ctx: &Ctx<'_>, offset: u64, size: u64) -> Result<Bytes, Step> {
    Ok(ctx.raw.read(offset, size).await?)
}

/// A reference to stored bytes, or an inline copy when smaller than the threshold.
async fn reference(ctx: &Ctx<'_>, offset: u64, size: u64) -> Result<RefValue, Step> {
    let end = offset
        .checked_add(size)
        .ok_or_else(|| Step::Refused((Reason::Data, format!("range {offset}+{size} overflows"))))?;
    if end > ctx.raw.len() {
        return Err(Step::Refused((
            Reason::Data,
            format!(
                "data at {offset}..{end} lies past the end of the file ({} bytes)",
                ctx.raw.len()
            ),
        )));
    }
    if ctx.opts.inline_threshold > 0 && size < ctx.opts.inline_threshold {
        return Ok(RefValue::Inline(read(ctx, offset, size).await?));
    }
    Ok(RefValue::range(ctx.url.clone(), offset, size))
}

/// Prefetch the small ranges that will be inlined, in one batch.
async fn prefetch_small(
    ctx: &Ctx<'_>,
    ranges: impl Iterator<Item = (u64, u64)>,
) -> Result<(), Step> {
    let t = ctx.opts.inline_threshold;
    let want: Vec<std::ops::Range<u64>> = ranges
        .filter(|&(_, s)| t > 0 && s < t)
        .map(|(o, s)| o..o.saturating_add(s))
        .collect();
    if !want.is_empty() {
        ctx.raw.prefetch(&want).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn plain_chunks(
    ds: &Dataset,
    shape: &[u64],
    hdf5_chunks: Option<&[u64]>,
    path: &str,
    nbytes: u64,
    extra: &[u64],
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<(Data, Vec<(String, RefValue)>), Step> {
    let zero_key = key_of(path, &vec![0; shape.len()], extra.len());
    match &ds.storage {
        Storage::Compact(bytes) => {
            let n = to_usize(nbytes, "compact data")?;
            let data = bytes.get(..n).ok_or_else(|| {
                Step::Refused((
                    Reason::Data,
                    format!("compact data holds {} of {nbytes} bytes", bytes.len()),
                ))
            })?;
            let mut data = data.to_vec();
            strings::normalize(
                &mut data,
                to_usize(ds.datatype.size(), "element")?,
                &strings::fields(&ds.datatype),
            );
            let chunks = if nbytes == 0 {
                Vec::new()
            } else {
                vec![(zero_key, RefValue::Inline(Bytes::from(data)))]
            };
            Ok((Data::Decoded, chunks))
        }
        Storage::Contiguous(None) => Ok((Data::Refs(Vec::new()), Vec::new())),
        Storage::Contiguous(Some(r)) => {
            if nbytes == 0 {
                return Ok((Data::Refs(Vec::new()), Vec::new()));
            }
            if r.length < nbytes {
                return Err(Step::Refused((
                    Reason::Data,
                    format!(
                        "contiguous storage of {} bytes is shorter than the {nbytes} bytes of data",
                        r.length
                    ),
                )));
            }
            let fields = strings::fields(&ds.datatype);
            if !fields.is_empty() {
                if let Some(fixed) =
                    fixed_strings(ds, &fields, r.offset, nbytes, ctx, warnings).await?
                {
                    return Ok((
                        Data::Refs(Vec::new()),
                        vec![(zero_key, RefValue::Inline(Bytes::from(fixed)))],
                    ));
                }
            }
            let v = reference(ctx, r.offset, nbytes).await?;
            Ok((Data::Refs(Vec::new()), vec![(zero_key, v)]))
        }
        Storage::External(segs) => match segs.as_slice() {
            [(name, offset, size)] if *size >= nbytes => {
                if strings::has_space_padding(&strings::fields(&ds.datatype)) {
                    return Err(Step::Refused((
                        Reason::Datatype,
                        "space-padded strings in an external raw file (HDF5 strips the padding on read)".into(),
                    )));
                }
                let url = external_url(ctx.url.as_deref(), name);
                warnings.push(Warning {
                    path: String::new(),
                    refused: false,
                    reason: Reason::Storage,
                    message: format!(
                        "data is in the external raw file {name:?}, referenced as {url:?}"
                    ),
                });
                let chunks = if nbytes == 0 {
                    Vec::new()
                } else {
                    vec![(zero_key, RefValue::range(Some(url.into()), *offset, nbytes))]
                };
                Ok((Data::Refs(Vec::new()), chunks))
            }
            _ => Err(Step::Refused((
                Reason::Storage,
                format!(
                    "external raw data in {} segments cannot be one Zarr chunk",
                    segs.len()
                ),
            ))),
        },
        Storage::Virtual => Err(Step::Refused((Reason::Storage, "virtual dataset".into()))),
        Storage::Chunked {
            unfiltered_edges,
            chunks,
            ..
        } => {
            let cshape = hdf5_chunks.unwrap_or(shape);
            chunked(
                ds,
                shape,
                cshape,
                *unfiltered_edges,
                chunks,
                path,
                nbytes,
                extra.len(),
                ctx,
                warnings,
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn chunked(
    ds: &Dataset,
    shape: &[u64],
    cshape: &[u64],
    unfiltered_edges: bool,
    chunks: &[ChunkRef],
    path: &str,
    nbytes: u64,
    extra: usize,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<(Data, Vec<(String, RefValue)>), Step> {
    let elem = ds.datatype.size();
    let chunk_bytes = product(cshape)
        .and_then(|n| n.checked_mul(elem))
        .ok_or_else(|| Step::Refused((Reason::Size, "chunk size overflows".into())))?;
    let itemsize = match &ds.datatype {
        Datatype::Array(a) => a.base.size(),
        other => other.size(),
    };
    let pipeline = map_pipeline(&ds.filters, elem, chunk_bytes);
    let fields = strings::fields(&ds.datatype);
    let esize = to_usize(elem, "element")?;
    let n = pipeline.len();
    let all = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
    let masks: Vec<u32> = chunks
        .iter()
        .map(|c| {
            if unfiltered_edges && is_partial(&c.grid, cshape, shape) {
                all
            } else {
                effective_mask(c.filter_mask, n)
            }
        })
        .collect();
    let declared_mask = majority_mask(masks.iter().copied());
    let declared: Vec<&Mapped> = applied(&pipeline, declared_mask).collect();
    let max_out = to_usize(chunk_bytes.saturating_add(64), "chunk")?;

    if let Some(missing) = declared.iter().find(|m| m.codec.is_none()) {
        // Data path: decode everything and embed, when small enough.
        let limit = ctx.opts.unsupported_threshold();
        if nbytes >= limit {
            return Err(Step::Refused((
                Reason::Filter,
                format!(
                    "{} has no numcodecs equivalent{}; the dataset ({nbytes} bytes decoded) is not below the unsupported-inline threshold ({limit} bytes)",
                    missing.name,
                    if missing.decoder.is_some() { " (it can be decoded in Rust)" } else { " and no Rust decoder" }
                ),
            )));
        }
        if let Some(m) = declared.iter().find(|m| m.decoder.is_none()) {
            return Err(Step::Refused((
                Reason::Filter,
                format!("{} has no numcodecs equivalent and no Rust decoder", m.name),
            )));
        }
        ctx.raw
            .prefetch(
                &chunks
                    .iter()
                    .map(|c| c.offset..c.offset.saturating_add(c.size))
                    .collect::<Vec<_>>(),
            )
            .await?;
        let mut out = Vec::with_capacity(chunks.len());
        for (c, &mask) in chunks.iter().zip(&masks) {
            let stored = read(ctx, c.offset, c.size).await?;
            let raw = decode_chunk(&pipeline, mask, &stored, max_out)
                .map_err(|m| Step::Refused((Reason::Filter, format!("chunk {:?}: {m}", c.grid))))?;
            if raw.len() as u64 != chunk_bytes {
                return Err(Step::Refused((
                    Reason::Data,
                    format!(
                        "chunk {:?} decoded to {} bytes, expected {chunk_bytes}",
                        c.grid,
                        raw.len()
                    ),
                )));
            }
            let mut raw = raw;
            strings::normalize(&mut raw, esize, &fields);
            out.push((
                key_of(path, &c.grid, extra),
                RefValue::Inline(Bytes::from(raw)),
            ));
        }
        return Ok((Data::Decoded, out));
    }

    let codecs: Vec<Codec> = declared.iter().filter_map(|m| m.codec.clone()).collect();
    // Strings HDF5 rewrites on read: check every chunk (when affordable and decodable).
    let check_strings = !fields.is_empty()
        && strings_checkable(
            &fields,
            stored_total(chunks),
            declared.iter().all(|m| m.decoder.is_some()),
            path,
            warnings,
        )?;
    if check_strings {
        ctx.raw
            .prefetch(
                &chunks
                    .iter()
                    .map(|c| c.offset..c.offset.saturating_add(c.size))
                    .collect::<Vec<_>>(),
            )
            .await?;
    } else {
        prefetch_small(
            ctx,
            chunks
                .iter()
                .zip(&masks)
                .filter(|(_, &m)| m == declared_mask)
                .map(|(c, _)| (c.offset, c.size)),
        )
        .await?;
        let odd: Vec<std::ops::Range<u64>> = chunks
            .iter()
            .zip(&masks)
            .filter(|(_, &m)| m != declared_mask)
            .map(|(c, _)| c.offset..c.offset.saturating_add(c.size))
            .collect();
        if !odd.is_empty() {
            ctx.raw.prefetch(&odd).await?;
        }
    }
    let mut out = Vec::with_capacity(chunks.len());
    for (c, &mask) in chunks.iter().zip(&masks) {
        let key = key_of(path, &c.grid, extra);
        if mask == declared_mask && !check_strings {
            out.push((key, reference(ctx, c.offset, c.size).await?));
            continue;
        }
        let stored = read(ctx, c.offset, c.size).await?;
        let mut raw = decode_chunk(&pipeline, mask, &stored, max_out).map_err(|m| {
            Step::Refused((
                Reason::Filter,
                format!(
                    "chunk {:?} is stored with filter mask {mask:#x} and cannot be re-encoded: {m}",
                    c.grid
                ),
            ))
        })?;
        if raw.len() as u64 != chunk_bytes {
            return Err(Step::Refused((
                Reason::Data,
                format!(
                    "chunk {:?} decoded to {} bytes, expected {chunk_bytes}",
                    c.grid,
                    raw.len()
                ),
            )));
        }
        let rewritten = check_strings && strings::normalize(&mut raw, esize, &fields);
        if mask == declared_mask && !rewritten {
            out.push((key, reference(ctx, c.offset, c.size).await?));
            continue;
        }
        let enc = encode_chunk(&codecs, &raw, itemsize)
            .map_err(|m| Step::Refused((Reason::Filter, m)))?;
        if enc.len() as u64 > ctx.opts.max_reencoded_chunk {
            let why = if rewritten {
                "holds strings HDF5 rewrites on read".to_string()
            } else {
                format!("is stored with filter mask {mask:#x} (declared {declared_mask:#x})")
            };
            return Err(Step::Refused((
                Reason::Size,
                format!(
                    "chunk {:?} {why}; re-encoded it is {} bytes, above max_reencoded_chunk ({})",
                    c.grid,
                    enc.len(),
                    ctx.opts.max_reencoded_chunk
                ),
            )));
        }
        out.push((key, RefValue::Inline(Bytes::from(enc))));
    }
    Ok((Data::Refs(codecs), out))
}

/// Largest dataset whose fixed-length strings are read and checked at index time.
const STRING_CHECK_LIMIT: u64 = 64 << 20;

fn stored_total(chunks: &[ChunkRef]) -> u64 {
    chunks.iter().fold(0u64, |a, c| a.saturating_add(c.size))
}

/// Whether the string fields can be checked; refuses space-padded strings that cannot be,
/// and warns for NUL-terminated ones (those are usually clean).
fn strings_checkable(
    fields: &[strings::Field],
    total: u64,
    decodable: bool,
    path: &str,
    warnings: &mut Vec<Warning>,
) -> Result<bool, Step> {
    let why = if total > STRING_CHECK_LIMIT {
        format!("{total} bytes of string data exceed the {STRING_CHECK_LIMIT}-byte check limit")
    } else if !decodable {
        "its filters cannot be decoded in Rust".to_string()
    } else {
        return Ok(true);
    };
    if strings::has_space_padding(fields) {
        return Err(Step::Refused((
            Reason::Datatype,
            format!(
                "space-padded strings (HDF5 strips the padding on read) cannot be rewritten: {why}"
            ),
        )));
    }
    warnings.push(Warning {
        path: String::new(),
        refused: false,
        reason: Reason::Datatype,
        message: format!(
            "NUL-terminated strings of {path:?} not checked for bytes after the terminator: {why}"
        ),
    });
    Ok(false)
}

/// Contiguous fixed-length strings: the normalized bytes when HDF5 would return something
/// else than the stored bytes (to be embedded), `None` when the stored bytes are exact.
async fn fixed_strings(
    ds: &Dataset,
    fields: &[strings::Field],
    offset: u64,
    nbytes: u64,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Vec<u8>>, Step> {
    if !strings_checkable(fields, nbytes, true, "", warnings)? {
        return Ok(None);
    }
    let mut raw = read(ctx, offset, nbytes).await?.to_vec();
    if !strings::normalize(&mut raw, to_usize(ds.datatype.size(), "element")?, fields) {
        return Ok(None);
    }
    if raw.len() as u64 > ctx.opts.max_reencoded_chunk {
        return Err(Step::Refused((
            Reason::Size,
            format!("strings HDF5 rewrites on read need embedding, but {} bytes exceed max_reencoded_chunk ({})", raw.len(), ctx.opts.max_reencoded_chunk),
        )));
    }
    Ok(Some(raw))
}

/// URL of an external raw data file: absolute names as given, relative ones next to `url`.
fn external_url(url: Option<&str>, name: &str) -> String {
    if name.starts_with('/') || name.contains("://") {
        return name.to_string();
    }
    match url.and_then(|u| {
        u.rfind('/')
            .map(|i| u.get(..=i).unwrap_or_default().to_string())
    }) {
        Some(dir) => format!("{dir}{name}"),
        None => name.to_string(),
    }
}

/// Decoded element bytes of a vlen / reference dataset, one buffer per Zarr chunk:
/// (grid index, bytes of `chunk elements × element size`).
async fn element_chunks(
    ds: &Dataset,
    shape: &[u64],
    cshape: Option<&[u64]>,
    nbytes: u64,
    ctx: &Ctx<'_>,
) -> Result<Vec<(Vec<u64>, Vec<u8>)>, Step> {
    let zero = vec![0; shape.len()];
    match &ds.storage {
        Storage::Compact(b) => {
            let n = to_usize(nbytes, "compact data")?;
            let data = b.get(..n).ok_or_else(|| {
                Step::Refused((
                    Reason::Data,
                    "compact data is shorter than the dataset".into(),
                ))
            })?;
            Ok(vec![(zero, data.to_vec())])
        }
        Storage::Contiguous(None) => Ok(Vec::new()),
        Storage::Contiguous(Some(r)) => {
            if nbytes == 0 {
                return Ok(Vec::new());
            }
            if r.length < nbytes {
                return Err(Step::Refused((
                    Reason::Data,
                    "contiguous storage is shorter than the dataset".into(),
                )));
            }
            Ok(vec![(zero, read(ctx, r.offset, nbytes).await?.to_vec())])
        }
        Storage::Chunked {
            unfiltered_edges,
            chunks,
            ..
        } => {
            let cshape = cshape.unwrap_or(shape);
            let elem = ds.datatype.size();
            let chunk_bytes = product(cshape)
                .and_then(|n| n.checked_mul(elem))
                .ok_or_else(|| Step::Refused((Reason::Size, "chunk size overflows".into())))?;
            let max_out = to_usize(chunk_bytes.saturating_add(64), "chunk")?;
            let pipeline = map_pipeline(&ds.filters, elem, chunk_bytes);
            let n = pipeline.len();
            let all = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
            ctx.raw
                .prefetch(
                    &chunks
                        .iter()
                        .map(|c| c.offset..c.offset.saturating_add(c.size))
                        .collect::<Vec<_>>(),
                )
                .await?;
            let mut out = Vec::with_capacity(chunks.len());
            for c in chunks {
                let mask = if *unfiltered_edges && is_partial(&c.grid, cshape, shape) {
                    all
                } else {
                    effective_mask(c.filter_mask, n)
                };
                let stored = read(ctx, c.offset, c.size).await?;
                let raw = decode_chunk(&pipeline, mask, &stored, max_out).map_err(|m| {
                    Step::Refused((Reason::Filter, format!("chunk {:?}: {m}", c.grid)))
                })?;
                if raw.len() as u64 != chunk_bytes {
                    return Err(Step::Refused((
                        Reason::Data,
                        format!(
                            "chunk {:?} decoded to {} bytes, expected {chunk_bytes}",
                            c.grid,
                            raw.len()
                        ),
                    )));
                }
                out.push((c.grid.clone(), raw));
            }
            Ok(out)
        }
        Storage::External(_) => Err(Step::Refused((
            Reason::Storage,
            "variable-length data in external raw files".into(),
        ))),
        Storage::Virtual => Err(Step::Refused((Reason::Storage, "virtual dataset".into()))),
    }
}

/// Which elements of a chunk (C order) lie inside the dataset extent.
fn inside_mask(grid: &[u64], cshape: &[u64], shape: &[u64]) -> Vec<bool> {
    let valid: Vec<u64> = grid
        .iter()
        .zip(cshape)
        .zip(shape)
        .map(|((&g, &c), &s)| s.saturating_sub(g.saturating_mul(c)).min(c))
        .collect();
    let total = usize::try_from(product(cshape).unwrap_or(0)).unwrap_or(0);
    let mut out = Vec::with_capacity(total);
    let mut idx = vec![0u64; cshape.len()];
    for _ in 0..total {
        out.push(idx.iter().zip(&valid).all(|(i, v)| i < v));
        for d in (0..idx.len()).rev() {
            if let (Some(i), Some(&c)) = (idx.get_mut(d), cshape.get(d)) {
                *i += 1;
                if *i < c {
                    break;
                }
                *i = 0;
            }
        }
    }
    out
}

async fn vlen_chunks(
    ds: &Dataset,
    rep: &Repr,
    shape: &[u64],
    cshape: Option<&[u64]>,
    path: &str,
    ctx: &Ctx<'_>,
) -> Result<Vec<(String, RefValue)>, Step> {
    let elem = ds.datatype.size();
    let nbytes = product(shape)
        .and_then(|n| n.checked_mul(elem))
        .ok_or_else(|| Step::Refused((Reason::Size, "byte size overflows".into())))?;
    let parts = element_chunks(ds, shape, cshape, nbytes, ctx).await?;
    let cs = cshape.unwrap_or(shape);
    let esize = to_usize(elem, "element")?;
    let mut out = Vec::with_capacity(parts.len());
    for (grid, bytes) in parts {
        let inside = inside_mask(&grid, cs, shape);
        let elems: Vec<&[u8]> = bytes.chunks_exact(esize.max(1)).collect();
        let items: Vec<Vec<u8>> = match rep {
            Repr::VlenString { .. } => {
                let wanted: Vec<u8> = elems
                    .iter()
                    .zip(&inside)
                    .filter(|(_, &i)| i)
                    .flat_map(|(e, _)| e.iter().copied())
                    .collect();
                let resolved = ctx.raw.read_vlen(&wanted).await?;
                let mut it = resolved.into_iter();
                inside
                    .iter()
                    .map(|&i| {
                        if !i {
                            return Vec::new();
                        }
                        let (len, data) = it.next().unwrap_or_default();
                        let n = usize::try_from(len).unwrap_or(usize::MAX).min(data.len());
                        data.get(..n).unwrap_or_default().to_vec()
                    })
                    .collect()
            }
            _ => elems
                .iter()
                .zip(&inside)
                .map(|(e, &i)| {
                    if !i {
                        return Vec::new();
                    }
                    match decode_value(&ds.datatype, e) {
                        Ok(Value::Reference(H5Ref::Object(Some(a)))) => ctx
                            .paths
                            .get(&a)
                            .map(|p| p.as_bytes().to_vec())
                            .unwrap_or_default(),
                        _ => Vec::new(),
                    }
                })
                .collect(),
        };
        let enc = encode_vlen(items.iter().map(Vec::as_slice))
            .map_err(|e| Step::Refused((Reason::Size, e.to_string())))?;
        out.push((key_of(path, &grid, 0), RefValue::Inline(Bytes::from(enc))));
    }
    Ok(out)
}

/// Whether every item of an encoded vlen chunk is valid UTF-8.
fn vlen_is_utf8(chunk: &[u8]) -> bool {
    crate::zarr::decode_vlen(chunk)
        .is_ok_and(|items| items.iter().all(|i| std::str::from_utf8(i).is_ok()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn extent_helpers() {
        assert!(is_partial(&[1], &[3], &[5]));
        assert!(!is_partial(&[0], &[3], &[5]));
        assert_eq!(
            inside_mask(&[1, 0], &[2, 2], &[3, 1]),
            vec![true, false, false, false]
        );
        assert_eq!(inside_mask(&[], &[], &[]), vec![true]);
        assert_eq!(key_of("a/b", &[1, 2], 1), "a/b/1.2.0");
        assert_eq!(key_of("s", &[], 0), "s/0");
        assert_eq!(external_url(Some("data/f.h5"), "f.bin"), "data/f.bin");
        assert_eq!(external_url(Some("f.h5"), "f.bin"), "f.bin");
        assert_eq!(external_url(Some("s3://b/k/f.h5"), "/abs/x"), "/abs/x");
    }
}
