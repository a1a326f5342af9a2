//! The combiner: pass 1 (scan every input), planning and validation, the coordinate arrays,
//! then pass 2 (stream every input again, renumbering chunk keys into the sink).
//!
//! Semantics follow kerchunk's `MultiZarrToZarr` (kerchunk-behavior.md §3) with these
//! deliberate differences:
//! * inputs are processed in coordinate order (sorted by their first coordinate value, ties
//!   by input position), so the output does not depend on the order inputs are given; "the
//!   first input" (root attributes, variable metadata, copied arrays) is the first in
//!   coordinate order and group attributes come from the last;
//! * differing shapes, dtypes, codecs, fill values, chunk shapes or dimensions of a variable,
//!   duplicate coordinate values, interleaved inputs, misaligned or partial chunks followed by
//!   another input are errors (or, with `skip_mismatched`, the offending input is left out
//!   and reported) instead of silently wrong output;
//!   when skipping, a variable's reference metadata is its most common signature across the
//!   inputs, so one odd input does not exclude all the others;
//! * coordinate arrays are written uncompressed (kerchunk zstd-compresses above 100 values);
//! * a `cf:` coordinate cast to datetime64 drops `units`/`calendar` (kerchunk's intent);
//! * references with a null URL are rejected (they would point at different files);
//! * a variable whose only difference between inputs is the width of a fixed-length byte
//!   string dtype (`|S149` in one product, `|S299` in another, as OPERA DISP's
//!   `identification/source_data_file_list`) is widened: the output `.zarray` gets the largest
//!   width and the inline chunks of narrower inputs are NUL-padded element by element (numpy
//!   strips trailing NULs, so values read back unchanged). This needs uncompressed, unfiltered
//!   data, and every chunk of a narrower input inline or (with a fetcher) a byte range of at
//!   most 1 MiB, which is fetched, padded and inlined; otherwise it stays a dtype mismatch.
//!   kerchunk instead writes the first input's dtype and silently mis-reads the others;
//! * a string concat coordinate whose input fill is not a string or null (ASF-made inputs
//!   carry `0` for `source_file_name`, which zarr 3 rejects) gets `""`, as kerchunk writes.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::batch::Batch;
use crate::cftime::CfUnits;
use crate::coord::{encode, infer_type, NpType, Scalar};
use crate::error::{CombineError, MismatchKind, Result};
use crate::fetch::{ByteFetcher, ByteRequest};
use crate::input::{Input, RefView};
use crate::meta::{parse_attrs, to_json_text, ArrayMeta};
use crate::options::CombineOptions;
use crate::output::RefSink;
use crate::scan::{scan, split_key, Shared, Sig, Summary};

/// An input left out because of `skip_mismatched`.
#[derive(Debug)]
pub struct SkippedInput {
    /// The input's name.
    pub input: String,
    /// Why.
    pub reason: CombineError,
}

/// What a combine did.
#[derive(Debug, Default)]
pub struct CombineReport {
    /// Names of the combined inputs, in output (coordinate) order.
    pub combined: Vec<String>,
    /// Inputs left out (only with `skip_mismatched`).
    pub skipped: Vec<SkippedInput>,
    /// Non-fatal findings (keys without an array, sparse prepended dims, …).
    pub warnings: Vec<String>,
    /// Length of each concat coordinate.
    pub coordinates: Vec<(String, usize)>,
    /// Number of references written.
    pub references: u64,
    /// Number of chunk references fetched and written inline.
    pub inlined: u64,
}

#[derive(Debug, Clone, Copy)]
enum Axis {
    /// A concat dim the variable lacks: chunk index = coordinate position.
    Prepend { dim: usize },
    /// A concat dim the variable has, at `axis` of the input.
    Concat { dim: usize, axis: usize, chunk: u64 },
    /// Another dim, copied.
    Keep { axis: usize },
}

#[derive(Debug)]
enum Role {
    /// An array named like a concat dim: replaced by the written coordinate.
    ConcatCoord,
    /// Copied verbatim from one input (identical dims and non-concat coordinates).
    Copy { source: usize },
    /// A data variable.
    Data(DataVar),
}

#[derive(Debug)]
struct DataVar {
    axes: Vec<Axis>,
    out_dims: Vec<String>,
    out_shape: Vec<u64>,
    out_chunks: Vec<u64>,
    /// Input (summary position) whose metadata is written.
    source: usize,
}

/// A byte-string variable widened to the largest `|S<n>` of the inputs.
#[derive(Debug)]
struct Widen {
    /// The output width.
    width: u64,
    /// An input with that width (for error messages).
    widest: String,
}

struct Plan {
    roles: HashMap<u32, Role>,
    /// Array path id → output width, for byte-string variables whose width differs.
    widths: HashMap<u32, Widen>,
    /// Per concat dim, per included input (summary position): start position.
    starts: Vec<HashMap<usize, u64>>,
    root_source: Option<usize>,
    group_source: HashMap<u32, usize>,
    group_attrs_source: HashMap<u32, usize>,
}

fn mismatch(
    var: &str,
    kind: MismatchKind,
    a: &Summary,
    av: String,
    b: &Summary,
    bv: String,
) -> CombineError {
    CombineError::Mismatch {
        var: var.to_string(),
        kind,
        first: a.name.clone(),
        first_value: av,
        second: b.name.clone(),
        second_value: bv,
    }
}

/// The width `n` of a fixed-length byte-string dtype `|S<n>` (`dtype` as JSON text).
fn bytes_width(dtype: &str) -> Option<u64> {
    dtype
        .strip_prefix("\"|S")?
        .strip_suffix('"')?
        .parse()
        .ok()
        .filter(|&n| n > 0)
}

/// Whether two byte-string fill values (JSON text, base64 strings) are the same value for
/// numpy, i.e. equal once trailing NULs are stripped.
fn same_bytes_fill(a: &str, b: &str) -> bool {
    use base64::Engine as _;
    if a == b {
        return true;
    }
    let decode = |t: &str| -> Option<Vec<u8>> {
        let s: String = serde_json::from_str(t).ok()?;
        let mut v = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        while v.last() == Some(&0) {
            v.pop();
        }
        Some(v)
    };
    matches!((decode(a), decode(b)), (Some(x), Some(y)) if x == y)
}

/// Pads every `width`-byte element of `data` with NULs to `to` bytes; `None` if `data` is not
/// a whole number of elements (or the result cannot be allocated).
fn pad_elements(data: &[u8], width: u64, to: u64) -> Option<Vec<u8>> {
    let w = usize::try_from(width).ok().filter(|&w| w > 0)?;
    let n = usize::try_from(to).ok().filter(|&n| n >= w)?;
    if !data.len().is_multiple_of(w) {
        return None;
    }
    let total = (data.len() / w).checked_mul(n)?;
    let mut out = Vec::new();
    out.try_reserve_exact(total).ok()?;
    for e in data.chunks_exact(w) {
        out.extend_from_slice(e);
        out.resize(out.len() + (n - w), 0);
    }
    Some(out)
}

/// Compares `sig` (input `b`) with the reference `r` (input `a`); `free` marks axes that may
/// differ in length (concat dims). `Ok(true)`: they differ only in the width of a byte-string
/// dtype, which the output widens.
fn compare_sig(
    var: &str,
    a: &Summary,
    r: &Sig,
    b: &Summary,
    s: &Sig,
    concat: &[String],
) -> Result<bool> {
    if r.dims != s.dims {
        return Err(mismatch(
            var,
            MismatchKind::Dimensions,
            a,
            format!("{:?}", r.dims),
            b,
            format!("{:?}", s.dims),
        ));
    }
    let shape_ok = r.shape.len() == s.shape.len()
        && r.shape
            .iter()
            .zip(&s.shape)
            .zip(&r.dims)
            .all(|((x, y), d)| x == y || concat.contains(d));
    if !shape_ok {
        return Err(mismatch(
            var,
            MismatchKind::Shape,
            a,
            format!("{:?}", r.shape),
            b,
            format!("{:?}", s.shape),
        ));
    }
    if r.chunks != s.chunks {
        return Err(mismatch(
            var,
            MismatchKind::ChunkShape,
            a,
            format!("{:?}", r.chunks),
            b,
            format!("{:?}", s.chunks),
        ));
    }
    let widen = r.dtype != s.dtype
        && r.plain
        && s.plain
        && bytes_width(&r.dtype).is_some()
        && bytes_width(&s.dtype).is_some();
    if r.dtype != s.dtype && !widen {
        return Err(mismatch(
            var,
            MismatchKind::Dtype,
            a,
            r.dtype.clone(),
            b,
            s.dtype.clone(),
        ));
    }
    if r.codecs != s.codecs {
        return Err(mismatch(
            var,
            MismatchKind::Codecs,
            a,
            r.codecs.clone(),
            b,
            s.codecs.clone(),
        ));
    }
    if r.fill != s.fill && !(widen && same_bytes_fill(&r.fill, &s.fill)) {
        return Err(mismatch(
            var,
            MismatchKind::FillValue,
            a,
            r.fill.clone(),
            b,
            s.fill.clone(),
        ));
    }
    if r.layout != s.layout {
        return Err(mismatch(
            var,
            MismatchKind::Layout,
            a,
            r.layout.clone(),
            b,
            s.layout.clone(),
        ));
    }
    Ok(widen)
}

/// An accepted input and its box: per concat dim, `[start, end)` positions.
type Accepted = (usize, Vec<(u64, u64)>);

/// A small chunk to fetch: output key, URL, byte range (`None` = whole target), and the
/// byte-string widening (element width, output width) to apply to it.
type InlineJob = (String, String, Option<(u64, u64)>, Option<(u64, u64)>);

/// Largest chunk of a narrower byte-string input fetched to be padded and inlined.
const WIDEN_FETCH_LIMIT: u64 = 1 << 20;

fn cmp_inputs(a: &Summary, b: &Summary) -> Ordering {
    for (x, y) in a.values.iter().zip(&b.values) {
        if let (Some(p), Some(q)) = (x.first(), y.first()) {
            match p.compare(q) {
                Some(Ordering::Equal) | None => {}
                Some(o) => return o,
            }
        }
    }
    a.index.cmp(&b.index)
}

fn sorted_union(lists: impl Iterator<Item = Vec<Scalar>>) -> Vec<Scalar> {
    let mut all: Vec<Scalar> = lists.flatten().collect();
    all.sort_by(|a, b| a.compare(b).unwrap_or(Ordering::Equal));
    all.dedup_by(|a, b| a.compare(b) == Some(Ordering::Equal));
    all
}

/// A value present in both sorted lists.
fn common_value(a: &[Scalar], b: &[Scalar]) -> Option<Scalar> {
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.compare(y) {
            Some(Ordering::Less) => i += 1,
            Some(Ordering::Greater) => j += 1,
            Some(Ordering::Equal) => return Some(x.clone()),
            None => return None,
        }
    }
    None
}

fn position(coord: &[Scalar], v: &Scalar) -> u64 {
    coord.partition_point(|c| c.compare(v) == Some(Ordering::Less)) as u64
}

/// Combines `inputs` into `sink`.
///
/// `fetcher` is needed to inline small chunks (`inline_threshold > 0`) and for `data:`/`cf:`
/// selectors whose chunks are not inline.
pub fn run(
    inputs: &[Input],
    options: &CombineOptions,
    fetcher: Option<&dyn ByteFetcher>,
    sink: &mut dyn RefSink,
) -> Result<CombineReport> {
    options.validate()?;
    if inputs.is_empty() {
        return Err(CombineError::NoInputs(String::new()));
    }
    let shared = Shared::default();
    let mut summaries = scan_all(inputs, options, fetcher, &shared)?;
    let (path_names, sigs) = shared.tables();
    let mut report = CombineReport::default();
    for s in &summaries {
        report.warnings.extend(s.warnings.iter().cloned());
    }

    // Kinds of first values must be comparable across inputs.
    for d in 0..options.concat_dims.len() {
        let first = summaries
            .first()
            .and_then(|s| s.values.get(d))
            .and_then(|v| v.first())
            .cloned();
        if let Some(f) = first {
            for s in &summaries {
                if let Some(v) = s.values.get(d).and_then(|v| v.first()) {
                    if v.compare(&f).is_none() {
                        return Err(CombineError::Selector {
                            dim: options.concat_dims.get(d).cloned().unwrap_or_default(),
                            input: s.name.clone(),
                            reason: format!(
                                "value {v} cannot be compared with {f} of input {}",
                                summaries.first().map_or("", |x| x.name.as_str())
                            ),
                        });
                    }
                }
            }
        }
    }
    summaries.sort_by(cmp_inputs);

    // Validation of array signatures, in coordinate order.
    let mut included = vec![true; summaries.len()];
    let mut reference: HashMap<u32, (usize, u32)> = HashMap::new();
    if options.skip_mismatched {
        // When skipping, each variable's reference is its most common signature (ties: the
        // first in coordinate order), so one odd input early on does not exclude the rest.
        let mut counts: HashMap<(u32, u32), (usize, usize)> = HashMap::new();
        for (i, s) in summaries.iter().enumerate() {
            for (&path, &sig) in &s.arrays {
                let e = counts.entry((path, sig)).or_insert((0, i));
                e.0 += 1;
            }
        }
        let mut best: HashMap<u32, (usize, usize, u32)> = HashMap::new();
        for (&(path, sig), &(n, first)) in &counts {
            let e = best.entry(path).or_insert((n, first, sig));
            if (n, std::cmp::Reverse(first)) > (e.0, std::cmp::Reverse(e.1)) {
                *e = (n, first, sig);
            }
        }
        reference.extend(
            best.into_iter()
                .map(|(p, (_, first, sig))| (p, (first, sig))),
        );
    }
    let mut widen_paths: HashSet<u32> = HashSet::new();
    for i in 0..summaries.len() {
        let Some(s) = summaries.get(i) else { continue };
        let mut err = None;
        let mut widened = Vec::new();
        let mut ids: Vec<(&u32, &u32)> = s.arrays.iter().collect();
        ids.sort();
        for (&path, &sig) in &ids {
            let name = path_names.get(path as usize).map_or("", |p| p);
            if options.concat_dims.iter().any(|d| d == name) {
                continue; // replaced by the written coordinate
            }
            if let Some(&(ri, rsig)) = reference.get(&path) {
                if rsig == sig {
                    continue;
                }
                let (Some(r), Some(a), Some(b)) = (
                    summaries.get(ri),
                    sigs.get(rsig as usize),
                    sigs.get(sig as usize),
                ) else {
                    continue;
                };
                let name = path_names.get(path as usize).map_or("", |p| p);
                match compare_sig(name, r, a, s, b, &options.concat_dims) {
                    Ok(true) => widened.push(path),
                    Ok(false) => {}
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
        }
        match err {
            Some(e) if options.skip_mismatched => {
                if let Some(x) = included.get_mut(i) {
                    *x = false;
                }
                report.skipped.push(crate::combine::SkippedInput {
                    input: s.name.clone(),
                    reason: e,
                });
            }
            Some(e) => return Err(e),
            None => {
                widen_paths.extend(widened);
                for (&path, &sig) in ids {
                    reference.entry(path).or_insert((i, sig));
                }
            }
        }
    }

    // Coordinates and overlap detection.
    let ndims = options.concat_dims.len();
    let build_coords = |included: &[bool]| -> Vec<Vec<Scalar>> {
        (0..ndims)
            .map(|d| {
                sorted_union(
                    summaries
                        .iter()
                        .zip(included)
                        .filter(|(_, &inc)| inc)
                        .map(|(s, _)| s.values.get(d).cloned().unwrap_or_default()),
                )
            })
            .collect()
    };
    let mut coords = build_coords(&included);
    let boxes = |coords: &[Vec<Scalar>], s: &Summary| -> Vec<(u64, u64)> {
        (0..ndims)
            .map(|d| {
                let vals = s.values.get(d).map_or(&[][..], |v| v.as_slice());
                let start = vals
                    .first()
                    .map_or(0, |v| position(coords.get(d).map_or(&[][..], |c| c), v));
                (start, start + vals.len() as u64)
            })
            .collect()
    };
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut removed_any = false;
    for i in 0..summaries.len() {
        if !included.get(i).copied().unwrap_or(false) {
            continue;
        }
        let Some(s) = summaries.get(i) else { continue };
        let b = boxes(&coords, s);
        let candidates: Box<dyn Iterator<Item = &Accepted>> = if ndims == 1 {
            Box::new(accepted.last().into_iter())
        } else {
            Box::new(accepted.iter())
        };
        let mut conflict = None;
        for (j, ob) in candidates {
            if b.iter().zip(ob).all(|(x, y)| x.0 < y.1 && y.0 < x.1) {
                conflict = Some(*j);
                break;
            }
        }
        match conflict {
            None => accepted.push((i, b)),
            Some(j) => {
                let other = summaries.get(j);
                let first = other.map_or(String::new(), |x| x.name.clone());
                // Overlapping ranges: a shared value in every dim is a duplicate, otherwise
                // the inputs are interleaved.
                let shared: Option<Vec<Scalar>> = (0..ndims)
                    .map(|d| {
                        let a = s.values.get(d).map_or(&[][..], |v| v);
                        let b = other.and_then(|o| o.values.get(d)).map_or(&[][..], |v| v);
                        common_value(a, b)
                    })
                    .collect();
                let Some(shared) = shared else {
                    return Err(CombineError::Layout {
                        var: options.concat_dims.first().cloned().unwrap_or_default(),
                        input: s.name.clone(),
                        reason: format!("its coordinate values are interleaved with those of input {first}, so its chunks cannot be placed"),
                    });
                };
                let e = CombineError::DuplicateCoordinate {
                    dim: options.concat_dims.first().cloned().unwrap_or_default(),
                    value: shared.first().map_or_else(String::new, |v| v.to_string()),
                    first,
                    second: s.name.clone(),
                };
                if options.skip_mismatched {
                    if let Some(x) = included.get_mut(i) {
                        *x = false;
                    }
                    removed_any = true;
                    report.skipped.push(SkippedInput {
                        input: s.name.clone(),
                        reason: e,
                    });
                } else {
                    return Err(e);
                }
            }
        }
    }
    if removed_any {
        coords = build_coords(&included);
    }
    let order: Vec<usize> = (0..summaries.len())
        .filter(|&i| included.get(i).copied().unwrap_or(false))
        .collect();
    if order.is_empty() {
        return Err(CombineError::NoInputs(" (every input was skipped)".into()));
    }

    // Starts and contiguity.
    let mut starts: Vec<HashMap<usize, u64>> = vec![HashMap::new(); ndims];
    for &i in &order {
        let Some(s) = summaries.get(i) else { continue };
        for d in 0..ndims {
            let (vals, coord) = (
                s.values.get(d).map_or(&[][..], |v| v),
                coords.get(d).map_or(&[][..], |c| c),
            );
            let start = vals.first().map_or(0, |v| position(coord, v));
            let contiguous = vals.iter().enumerate().all(|(k, v)| {
                coord.get(start as usize + k).and_then(|c| c.compare(v)) == Some(Ordering::Equal)
            });
            if !contiguous {
                return Err(CombineError::Layout {
                    var: options.concat_dims.get(d).cloned().unwrap_or_default(),
                    input: s.name.clone(),
                    reason: "its coordinate values are interleaved with another input's, so its chunks cannot be placed".into(),
                });
            }
            if let Some(m) = starts.get_mut(d) {
                m.insert(i, start);
            }
        }
    }

    let mut plan = make_plan(
        options,
        &summaries,
        &order,
        &path_names,
        &sigs,
        &coords,
        starts,
        &mut report,
    )?;
    plan.widths = output_widths(&widen_paths, &summaries, &order, &sigs);

    // Output: coordinates, then every input's references.
    let first = order.first().and_then(|&i| summaries.get(i));
    let mut written = 0u64;
    for (d, dim) in options.concat_dims.iter().enumerate() {
        let coord = coords.get(d).map_or(&[][..], |c| c);
        write_coordinate(options, dim, d, coord, first, sink, &mut report)?;
        written += 3;
        report.coordinates.push((dim.clone(), coord.len()));
    }
    let jobs: Vec<(usize, &Summary, &Input)> = order
        .iter()
        .filter_map(|&i| {
            let s = summaries.get(i)?;
            Some((i, s, inputs.get(s.index)?))
        })
        .collect();
    let shared = Emitter {
        options,
        plan: &plan,
        path_names: &path_names,
        sigs: &sigs,
        fetcher,
    };
    let (n, inlined) = emit_all(&shared, &jobs, sink)?;
    report.combined = jobs.iter().map(|(_, s, _)| s.name.clone()).collect();
    report.references = written + n;
    report.inlined = inlined;
    Ok(report)
}

/// The output width of each byte-string variable whose width differs between the combined
/// inputs (`paths`: those found to differ only in width).
fn output_widths(
    paths: &HashSet<u32>,
    summaries: &[Summary],
    order: &[usize],
    sigs: &[Arc<Sig>],
) -> HashMap<u32, Widen> {
    let mut out = HashMap::new();
    for &path in paths {
        let widths: Vec<(u64, &str)> = order
            .iter()
            .filter_map(|&i| {
                let s = summaries.get(i)?;
                let sig = sigs.get(*s.arrays.get(&path)? as usize)?;
                Some((bytes_width(&sig.dtype)?, s.name.as_str()))
            })
            .collect();
        let min = widths.iter().map(|w| w.0).min();
        // The first input (in coordinate order) with the largest width.
        let max = widths.iter().fold(None::<(u64, &str)>, |m, &w| match m {
            Some(b) if b.0 >= w.0 => Some(b),
            _ => Some(w),
        });
        if let (Some(lo), Some((width, widest))) = (min, max) {
            if lo < width {
                out.insert(
                    path,
                    Widen {
                        width,
                        widest: widest.to_string(),
                    },
                );
            }
        }
    }
    out
}

/// Pass 2 over every input: on worker threads when there are several cores, each input's
/// references buffered in a [`Batch`] and written in input order by this thread.
fn emit_all(
    em: &Emitter<'_>,
    jobs: &[(usize, &Summary, &Input)],
    sink: &mut dyn RefSink,
) -> Result<(u64, u64)> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len());
    let (mut written, mut inlined) = (0u64, 0u64);
    if workers <= 1 {
        for &(i, s, input) in jobs {
            let mut ctx = em.ctx(sink);
            ctx.emit_input(i, s, input)?;
            written += ctx.written;
            inlined += ctx.inlined;
        }
        return Ok((written, inlined));
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|sc| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Result<(Batch, u64)>)>(workers);
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            sc.spawn(move || loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(i, s, input)) = jobs.get(k) else {
                    break;
                };
                let mut batch = Batch::default();
                let mut ctx = em.ctx(&mut batch);
                let r = ctx.emit_input(i, s, input);
                let inl = ctx.inlined;
                let failed = r.is_err();
                if tx.send((k, r.map(|()| (batch, inl)))).is_err() || failed {
                    // Stop handing out work after an error.
                    next.store(jobs.len(), std::sync::atomic::Ordering::Relaxed);
                    break;
                }
            });
        }
        drop(tx);
        let mut pending: std::collections::BTreeMap<usize, Result<(Batch, u64)>> =
            std::collections::BTreeMap::new();
        let mut want = 0usize;
        for (k, r) in rx {
            pending.insert(k, r);
            while let Some(r) = pending.remove(&want) {
                let (batch, inl) = r?;
                batch.replay(sink)?;
                written += batch.len() as u64;
                inlined += inl;
                want += 1;
            }
        }
        if want < jobs.len() {
            return Err(CombineError::NoInputs(
                " (a combining thread stopped)".into(),
            ));
        }
        Ok((written, inlined))
    })
}

/// What every pass-2 worker shares.
struct Emitter<'a> {
    options: &'a CombineOptions,
    plan: &'a Plan,
    path_names: &'a [Arc<str>],
    sigs: &'a [Arc<Sig>],
    fetcher: Option<&'a dyn ByteFetcher>,
}

impl<'a> Emitter<'a> {
    fn ctx<'s>(&'s self, sink: &'s mut dyn RefSink) -> EmitCtx<'s> {
        EmitCtx {
            options: self.options,
            plan: self.plan,
            path_names: self.path_names,
            sigs: self.sigs,
            fetcher: self.fetcher,
            sink,
            written: 0,
            inlined: 0,
        }
    }
}

fn scan_all(
    inputs: &[Input],
    options: &CombineOptions,
    fetcher: Option<&dyn ByteFetcher>,
    shared: &Shared,
) -> Result<Vec<Summary>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(inputs.len())
        .max(1);
    if workers == 1 {
        return inputs
            .iter()
            .enumerate()
            .map(|(i, inp)| scan(i, inp, options, fetcher, shared))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Every worker claims inputs in increasing order and finishes what it claimed, so all
    // inputs before the first failing one are scanned: the error reported is deterministic.
    let results: Vec<Vec<(usize, Result<Summary>)>> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                sc.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(inp) = inputs.get(i) else { break };
                        let r = scan(i, inp, options, fetcher, shared);
                        let failed = r.is_err();
                        out.push((i, r));
                        if failed {
                            next.store(inputs.len(), std::sync::atomic::Ordering::Relaxed);
                            break;
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut all: Vec<(usize, Result<Summary>)> = results.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(all.len());
    for (_, r) in all {
        out.push(r?);
    }
    if out.len() != inputs.len() {
        return Err(CombineError::NoInputs(" (a scanning thread failed)".into()));
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn make_plan(
    options: &CombineOptions,
    summaries: &[Summary],
    order: &[usize],
    path_names: &[Arc<str>],
    sigs: &[Arc<Sig>],
    coords: &[Vec<Scalar>],
    starts: Vec<HashMap<usize, u64>>,
    report: &mut CombineReport,
) -> Result<Plan> {
    let concat = &options.concat_dims;
    let root_deps: HashSet<String> = order
        .first()
        .and_then(|&i| summaries.get(i))
        .map(|s| s.root_deps.clone())
        .unwrap_or_default();
    let mut roles: HashMap<u32, Role> = HashMap::new();
    let mut group_source = HashMap::new();
    let mut group_attrs_source = HashMap::new();
    let mut sparse_warned = HashSet::new();
    for &i in order {
        let Some(s) = summaries.get(i) else { continue };
        for &g in &s.groups {
            group_source.insert(g, i);
        }
        for &g in &s.group_attrs {
            if s.groups.contains(&g) {
                group_attrs_source.insert(g, i);
            }
        }
        let mut ids: Vec<(&u32, &u32)> = s.arrays.iter().collect();
        ids.sort();
        for (&path, &sig_id) in ids {
            let name = path_names.get(path as usize).map_or("", |p| p);
            let Some(sig) = sigs.get(sig_id as usize) else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(slot) = roles.entry(path) {
                let role = if concat.iter().any(|c| c == name) {
                    Role::ConcatCoord
                } else if options.identical_dims.iter().any(|c| c == name)
                    || root_deps.contains(name)
                {
                    Role::Copy { source: i }
                } else {
                    let mut axes = Vec::new();
                    let mut out_dims = Vec::new();
                    let mut out_shape = Vec::new();
                    let mut out_chunks = Vec::new();
                    for (d, c) in concat.iter().enumerate() {
                        if !sig.dims.contains(c) {
                            axes.push(Axis::Prepend { dim: d });
                            out_dims.push(c.clone());
                            out_shape.push(coords.get(d).map_or(0, |v| v.len() as u64));
                            out_chunks.push(1);
                        }
                    }
                    for (axis, dname) in sig.dims.iter().enumerate() {
                        let chunk = sig.chunks.get(axis).copied().unwrap_or(1);
                        out_dims.push(dname.clone());
                        out_chunks.push(chunk);
                        match concat.iter().position(|c| c == dname) {
                            Some(d) => {
                                axes.push(Axis::Concat {
                                    dim: d,
                                    axis,
                                    chunk,
                                });
                                out_shape.push(coords.get(d).map_or(0, |v| v.len() as u64));
                            }
                            None => {
                                axes.push(Axis::Keep { axis });
                                out_shape.push(sig.shape.get(axis).copied().unwrap_or(0));
                            }
                        }
                    }
                    Role::Data(DataVar {
                        axes,
                        out_dims,
                        out_shape,
                        out_chunks,
                        source: i,
                    })
                };
                slot.insert(role);
            }
            // Alignment checks for this input's instance of a data variable.
            if let Some(Role::Data(dv)) = roles.get(&path) {
                for ax in &dv.axes {
                    match *ax {
                        Axis::Concat { dim, axis, chunk } => {
                            let start = starts
                                .get(dim)
                                .and_then(|m| m.get(&i))
                                .copied()
                                .unwrap_or(0);
                            let n = sig.shape.get(axis).copied().unwrap_or(0);
                            let count = s.values.get(dim).map_or(0, |v| v.len() as u64);
                            let total = coords.get(dim).map_or(0, |v| v.len() as u64);
                            let dname = concat.get(dim).map_or("", |x| x.as_str());
                            let fail = |reason: String| CombineError::Layout {
                                var: name.to_string(),
                                input: s.name.clone(),
                                reason,
                            };
                            if n != count {
                                return Err(fail(format!("it has {n} entries along {dname:?} but the input has {count} coordinate value(s)")));
                            }
                            if start % chunk != 0 {
                                return Err(fail(format!("it starts at index {start} of {dname:?}, not a multiple of its chunk size {chunk}, so its chunks would be misplaced")));
                            }
                            if n % chunk != 0 && start + n != total {
                                return Err(fail(format!("its last chunk along {dname:?} is partial ({n} entries, chunk size {chunk}) but another input follows it")));
                            }
                        }
                        Axis::Prepend { dim } => {
                            let count = s.values.get(dim).map_or(0, |v| v.len());
                            if count > 1 && sparse_warned.insert((path, dim)) {
                                report.warnings.push(format!(
                                    "variable {name:?} lacks concat dim {:?} but input {} has {count} values along it: only the first gets data (sparse)",
                                    concat.get(dim).map_or("", |x| x.as_str()), s.name
                                ));
                            }
                        }
                        Axis::Keep { .. } => {}
                    }
                }
            }
        }
    }
    let root_source = order.first().copied();
    Ok(Plan {
        roles,
        widths: HashMap::new(),
        starts,
        root_source,
        group_source,
        group_attrs_source,
    })
}

fn default_fill(t: NpType) -> Value {
    match t {
        NpType::Float(_) => Value::from(0.0),
        NpType::Str(_) | NpType::Bytes(_) => Value::from(""),
        NpType::Bool => Value::Bool(false),
        NpType::Time(_) => Value::from(0),
        NpType::Int(_) | NpType::UInt(_) => Value::from(0),
    }
}

fn write_coordinate(
    options: &CombineOptions,
    dim: &str,
    d: usize,
    coord: &[Scalar],
    first: Option<&Summary>,
    sink: &mut dyn RefSink,
    report: &mut CombineReport,
) -> Result<()> {
    let bad = |reason: String| CombineError::Selector {
        dim: dim.to_string(),
        input: first.map_or(String::new(), |f| f.name.clone()),
        reason,
    };
    if coord.len() < 2 {
        report.warnings.push(format!(
            "concat coordinate {dim:?} has fewer than 2 values ({})",
            coord.len()
        ));
    }
    let src = first
        .and_then(|f| f.coord_src.get(d))
        .and_then(|x| x.as_ref());
    let cf = first
        .and_then(|f| f.cf_units.get(d))
        .and_then(|x| x.clone());
    let wanted = options.coord_dtypes.get(dim).copied();
    let mut attrs: Map<String, Value> = src.map(|s| s.attrs.clone()).unwrap_or_default();
    attrs.insert(
        "_ARRAY_DIMENSIONS".into(),
        Value::from(vec![dim.to_string()]),
    );
    let (data, dtype, fill) = match (&cf, wanted) {
        (Some((units, calendar)), None) => {
            // Re-encode with the first input's units (kerchunk: cftime.date2num).
            let u = CfUnits::parse(units, calendar).map_err(bad)?;
            let enc: Vec<std::result::Result<i64, f64>> = coord
                .iter()
                .map(|v| match v {
                    Scalar::Cf(_, us) => Ok(u.encode(*us)),
                    other => Err(bad(format!("{other} is not a CF time"))),
                })
                .collect::<Result<_>>()?;
            let all_int = enc.iter().all(|e| e.is_ok());
            let values: Vec<Scalar> = enc
                .into_iter()
                .map(|e| match e {
                    Ok(i) if all_int => Scalar::Int(i, 8),
                    Ok(i) => Scalar::Float(i as f64, 8),
                    Err(f) => Scalar::Float(f, 8),
                })
                .collect();
            let t = if all_int {
                NpType::Int(8)
            } else {
                NpType::Float(8)
            };
            attrs.insert("units".into(), Value::from(units.clone()));
            attrs.insert("calendar".into(), Value::from(calendar.clone()));
            (encode(&values, t).map_err(bad)?, t, Value::from(1u64 << 62))
        }
        _ => {
            if cf.is_some() {
                attrs.remove("units");
                attrs.remove("calendar");
            }
            let inferred = infer_type(coord).map_err(bad)?;
            let t = match (wanted, inferred) {
                (Some(NpType::Str(None)), NpType::Str(n)) => NpType::Str(n),
                (Some(NpType::Bytes(None)), NpType::Bytes(n)) => NpType::Bytes(n),
                (Some(NpType::Str(None)), _) | (Some(NpType::Bytes(None)), _) => {
                    let cast: Vec<Scalar> = coord
                        .iter()
                        .map(|v| v.cast(wanted.unwrap_or(inferred)))
                        .collect::<std::result::Result<_, _>>()
                        .map_err(bad)?;
                    infer_type(&cast).map_err(bad)?
                }
                (Some(w), _) => w,
                (None, i) => i,
            };
            let fill = match t {
                NpType::Int(_) => Value::Null,
                // A string coordinate keeps a string or null fill (as kerchunk); any other
                // fill of the input's `|O` array (ASF-made inputs have 0, which zarr 3
                // rejects for a string dtype) becomes "", as kerchunk writes it.
                NpType::Str(_) | NpType::Bytes(_) => match src.map(|s| &s.fill) {
                    Some(f @ (Value::String(_) | Value::Null)) => f.clone(),
                    Some(_) => Value::from(""),
                    None => default_fill(t),
                },
                _ => match src {
                    Some(s) => match (&s.fill, t) {
                        (Value::Number(n), NpType::Float(_)) => {
                            Value::from(n.as_f64().unwrap_or(0.0))
                        }
                        (f, _) => f.clone(),
                    },
                    None => default_fill(t),
                },
            };
            (encode(coord, t).map_err(bad)?, t, fill)
        }
    };
    let n = coord.len() as u64;
    let mut z = Map::new();
    z.insert("shape".into(), Value::from(vec![n]));
    z.insert("chunks".into(), Value::from(vec![n.max(1)]));
    z.insert("dtype".into(), Value::from(dtype.zarr_dtype()));
    z.insert("fill_value".into(), fill);
    z.insert("order".into(), Value::from("C"));
    z.insert("filters".into(), Value::Null);
    z.insert("dimension_separator".into(), Value::from("."));
    z.insert("compressor".into(), Value::Null);
    z.insert("zarr_format".into(), Value::from(2));
    let zarray = to_json_text(&Value::Object(z));
    let zattrs = to_json_text(&Value::Object(attrs));
    sink.put(
        &format!("{dim}/.zarray"),
        RefView::Inline(zarray.as_bytes().into()),
    )?;
    sink.put(
        &format!("{dim}/.zattrs"),
        RefView::Inline(zattrs.as_bytes().into()),
    )?;
    sink.put(&format!("{dim}/0"), RefView::Inline(data.into()))?;
    Ok(())
}

/// Tracks which chunk indices of one array an input already gave.
enum Seen {
    Bits(Vec<u64>),
    Set(HashSet<u64>),
}

impl Seen {
    fn new(cells: u64) -> Seen {
        if cells <= 1 << 24 {
            Seen::Bits(vec![0; cells.div_ceil(64) as usize])
        } else {
            Seen::Set(HashSet::new())
        }
    }
    /// Marks `n`; false if it was already marked.
    fn insert(&mut self, n: u64) -> bool {
        match self {
            Seen::Bits(b) => match b.get_mut((n / 64) as usize) {
                Some(w) => {
                    let bit = 1u64 << (n % 64);
                    let fresh = *w & bit == 0;
                    *w |= bit;
                    fresh
                }
                None => false,
            },
            Seen::Set(s) => s.insert(n),
        }
    }
}

struct EmitCtx<'a> {
    options: &'a CombineOptions,
    plan: &'a Plan,
    path_names: &'a [Arc<str>],
    sigs: &'a [Arc<Sig>],
    fetcher: Option<&'a dyn ByteFetcher>,
    sink: &'a mut dyn RefSink,
    written: u64,
    inlined: u64,
}

/// Per-input state of one array while streaming.
struct ArrayState<'p> {
    role: Option<&'p Role>,
    path: &'p str,
    grid: Vec<u64>,
    /// Per axis of the input: chunk offset added (concat dims).
    offsets: Vec<u64>,
    prepend: Vec<(usize, u64)>,
    seen: Option<Seen>,
    /// This input's byte-string width when its chunks must be padded to the output's.
    pad: Option<(u64, &'p Widen)>,
}

impl EmitCtx<'_> {
    fn put(&mut self, key: &str, v: RefView<'_>) -> Result<()> {
        self.sink.put(key, v)?;
        self.written += 1;
        Ok(())
    }

    fn emit_input(&mut self, i: usize, s: &Summary, input: &Input) -> Result<()> {
        let plan = self.plan;
        let path_ids: HashMap<&str, u32> = s
            .arrays
            .keys()
            .chain(s.groups.iter())
            .filter_map(|&id| self.path_names.get(id as usize).map(|n| (&**n, id)))
            .collect();
        let mut states: HashMap<u32, ArrayState<'_>> = HashMap::new();
        for (&path, &sig) in &s.arrays {
            let Some(sig) = self.sigs.get(sig as usize) else {
                continue;
            };
            let role = plan.roles.get(&path);
            let mut offsets = vec![0u64; sig.shape.len()];
            let mut prepend = Vec::new();
            if let Some(Role::Data(dv)) = role {
                for ax in &dv.axes {
                    match *ax {
                        Axis::Concat { dim, axis, chunk } => {
                            let start = plan
                                .starts
                                .get(dim)
                                .and_then(|m| m.get(&i))
                                .copied()
                                .unwrap_or(0);
                            if let Some(o) = offsets.get_mut(axis) {
                                *o = start / chunk.max(1);
                            }
                        }
                        Axis::Prepend { dim } => {
                            prepend.push((
                                dim,
                                plan.starts
                                    .get(dim)
                                    .and_then(|m| m.get(&i))
                                    .copied()
                                    .unwrap_or(0),
                            ));
                        }
                        Axis::Keep { .. } => {}
                    }
                }
            }
            let grid: Vec<u64> = sig
                .shape
                .iter()
                .zip(&sig.chunks)
                .map(|(&a, &c)| a.div_ceil(c.max(1)))
                .collect();
            let pad = match (role, plan.widths.get(&path)) {
                (Some(Role::Data(_)), Some(wd)) => bytes_width(&sig.dtype)
                    .filter(|&w| w < wd.width)
                    .map(|w| (w, wd)),
                _ => None,
            };
            states.insert(
                path,
                ArrayState {
                    pad,
                    role,
                    path: self.path_names.get(path as usize).map_or("", |p| p),
                    grid,
                    offsets,
                    prepend,
                    seen: None,
                },
            );
        }
        let mut zattrs_done: HashSet<u32> = HashSet::new();
        let mut queue: Vec<InlineJob> = Vec::new();
        let mut key_buf = String::new();
        let filter = self.options.filter.matcher();
        let mut last_parent = String::from("\u{0}");
        let mut last_id: Option<u32> = None;
        let mut idx: Vec<u64> = Vec::new();
        let threshold = if self.fetcher.is_some() {
            self.options.inline_threshold
        } else {
            0
        };
        let mut size_cache: HashMap<String, u64> = HashMap::new();
        let name = s.name.clone();
        let layout_err = |var: &str, reason: String| CombineError::Layout {
            var: var.to_string(),
            input: name.clone(),
            reason,
        };

        // Filtered-out keys are skipped without decoding their values.
        let wanted = |key: &str| filter.accepts(key);
        input.visit_selected(&wanted, &mut |key, v| {
            let Some(v) = v else { return Ok(()) };
            let (parent, leaf) = split_key(key);
            let id = if parent == last_parent {
                last_id
            } else {
                last_parent.clear();
                last_parent.push_str(parent);
                last_id = path_ids.get(parent).copied();
                last_id
            };
            if leaf == ".zgroup"
                || (leaf == ".zattrs" && id.is_some_and(|g| s.groups.contains(&g)))
                || (parent.is_empty() && leaf.starts_with(".z"))
            {
                let designated = if parent.is_empty() {
                    plan.root_source == Some(i)
                } else if leaf == ".zgroup" {
                    id.and_then(|g| plan.group_source.get(&g)) == Some(&i)
                } else {
                    id.and_then(|g| plan.group_attrs_source.get(&g)) == Some(&i)
                };
                if designated && (leaf == ".zgroup" || leaf == ".zattrs") {
                    self.put(key, v)?;
                }
                return Ok(());
            }
            let Some(id) = id else { return Ok(()) };
            let Some(st) = states.get_mut(&id) else {
                return Ok(());
            };
            match st.role {
                None | Some(Role::ConcatCoord) => Ok(()),
                Some(Role::Copy { source }) => {
                    if let RefView::Whole { url: None } | RefView::Range { url: None, .. } = v {
                        return Err(crate::scan::null_url(&name, key));
                    }
                    if *source == i {
                        self.put(key, v)?;
                    }
                    Ok(())
                }
                Some(Role::Data(dv)) => {
                    if leaf == ".zarray" || leaf == ".zattrs" {
                        if dv.source != i {
                            return Ok(());
                        }
                        let RefView::Inline(text) = &v else {
                            return Ok(());
                        };
                        let out = if leaf == ".zarray" {
                            let (_, mut doc) =
                                ArrayMeta::parse(text).map_err(|e| layout_err(st.path, e))?;
                            doc.insert("shape".into(), Value::from(dv.out_shape.clone()));
                            doc.insert("chunks".into(), Value::from(dv.out_chunks.clone()));
                            if let Some(wd) = plan.widths.get(&id) {
                                doc.insert("dtype".into(), Value::from(format!("|S{}", wd.width)));
                            }
                            to_json_text(&Value::Object(doc))
                        } else {
                            zattrs_done.insert(id);
                            let mut attrs =
                                parse_attrs(text).map_err(|e| layout_err(st.path, e))?;
                            attrs.insert(
                                "_ARRAY_DIMENSIONS".into(),
                                Value::from(dv.out_dims.clone()),
                            );
                            to_json_text(&Value::Object(attrs))
                        };
                        return self.put(key, RefView::Inline(out.into_bytes().into()));
                    }
                    if leaf.starts_with(".z") {
                        return Ok(());
                    }
                    if let RefView::Whole { url: None } | RefView::Range { url: None, .. } = v {
                        return Err(crate::scan::null_url(&name, key));
                    }
                    // A chunk: parse and check its index, renumber.
                    idx.clear();
                    if st.grid.is_empty() {
                        if leaf != "0" {
                            return Err(layout_err(
                                st.path,
                                format!("chunk key {key:?} of a scalar array is not \"0\""),
                            ));
                        }
                    } else {
                        for part in leaf.split('.') {
                            idx.push(part.parse::<u64>().map_err(|_| {
                                layout_err(st.path, format!("bad chunk key {key:?}"))
                            })?);
                        }
                    }
                    if idx.len() != st.grid.len() || idx.iter().zip(&st.grid).any(|(a, g)| a >= g) {
                        return Err(layout_err(
                            st.path,
                            format!(
                                "chunk key {key:?} is outside the array's chunk grid {:?}",
                                st.grid
                            ),
                        ));
                    }
                    let cells = st
                        .grid
                        .iter()
                        .try_fold(1u64, |a, &g| a.checked_mul(g))
                        .unwrap_or(u64::MAX)
                        .max(1);
                    let lin = idx
                        .iter()
                        .zip(&st.grid)
                        .fold(0u64, |a, (x, g)| a.saturating_mul(*g).saturating_add(*x));
                    if !st.seen.get_or_insert_with(|| Seen::new(cells)).insert(lin) {
                        return Err(layout_err(
                            st.path,
                            format!("chunk key {key:?} appears twice"),
                        ));
                    }
                    key_buf.clear();
                    key_buf.push_str(st.path);
                    key_buf.push('/');
                    let mut first = true;
                    let mut pre = st.prepend.iter();
                    for ax in &dv.axes {
                        if !first {
                            key_buf.push('.');
                        }
                        first = false;
                        let n = match *ax {
                            Axis::Prepend { .. } => pre.next().map_or(0, |p| p.1),
                            Axis::Concat { axis, .. } | Axis::Keep { axis } => {
                                idx.get(axis).copied().unwrap_or(0)
                                    + st.offsets.get(axis).copied().unwrap_or(0)
                            }
                        };
                        key_buf.push_str(crate::output::decimal(&mut [0; 20], n));
                    }
                    if let Some((w, wd)) = st.pad {
                        // A narrower byte-string input: pad its elements to the output width;
                        // a small chunk in a file is fetched (with a fetcher) and padded.
                        let data = match &v {
                            RefView::Inline(data) => data,
                            RefView::Range {
                                url: Some(u),
                                offset,
                                length,
                            } if self.fetcher.is_some() && *length <= WIDEN_FETCH_LIMIT => {
                                queue.push((
                                    key_buf.clone(),
                                    u.to_string(),
                                    Some((*offset, *length)),
                                    Some((w, wd.width)),
                                ));
                                return Ok(());
                            }
                            _ => {
                                return Err(CombineError::Mismatch {
                                    var: st.path.to_string(),
                                    kind: MismatchKind::Dtype,
                                    first: wd.widest.clone(),
                                    first_value: format!("|S{}", wd.width),
                                    second: name.clone(),
                                    second_value: format!(
                                        "|S{w}; chunk {key:?} is neither inline nor fetchable, so it cannot be widened"
                                    ),
                                })
                            }
                        };
                        let padded = pad_elements(data, w, wd.width).ok_or_else(|| {
                            layout_err(
                                st.path,
                                format!(
                                    "inline chunk {key:?} of {} bytes is not a whole number of |S{w} elements",
                                    data.len()
                                ),
                            )
                        })?;
                        let k = std::mem::take(&mut key_buf);
                        let r = self.put(&k, RefView::Inline(padded.into()));
                        key_buf = k;
                        return r;
                    }
                    if threshold > 0 {
                        match &v {
                            RefView::Range {
                                url: Some(u),
                                offset,
                                length,
                            } if *length < threshold => {
                                queue.push((
                                    key_buf.clone(),
                                    u.to_string(),
                                    Some((*offset, *length)),
                                    None,
                                ));
                                return Ok(());
                            }
                            RefView::Whole { url: Some(u) } => {
                                let size = match size_cache.get(u.as_ref()) {
                                    Some(&sz) => sz,
                                    None => {
                                        let f = self.fetcher.ok_or_else(|| {
                                            layout_err(st.path, "no fetcher".into())
                                        })?;
                                        let sz =
                                            f.size(u).map_err(|source| CombineError::Fetch {
                                                input: name.clone(),
                                                key: key.to_string(),
                                                url: u.to_string(),
                                                source,
                                            })?;
                                        size_cache.insert(u.to_string(), sz);
                                        sz
                                    }
                                };
                                if size < threshold {
                                    queue.push((key_buf.clone(), u.to_string(), None, None));
                                    return Ok(());
                                }
                            }
                            _ => {}
                        }
                    }
                    let k = std::mem::take(&mut key_buf);
                    let r = self.put(&k, v);
                    key_buf = k;
                    r
                }
            }
        })?;

        // Variables whose designated input has no .zattrs still get _ARRAY_DIMENSIONS.
        let mut missing: Vec<(&str, &DataVar)> = Vec::new();
        for (&id, st) in &states {
            if let Some(Role::Data(dv)) = st.role {
                if dv.source == i && !zattrs_done.contains(&id) {
                    missing.push((st.path, dv));
                }
            }
        }
        missing.sort_by_key(|m| m.0);
        for (path, dv) in missing {
            let mut attrs = Map::new();
            attrs.insert("_ARRAY_DIMENSIONS".into(), Value::from(dv.out_dims.clone()));
            let text = to_json_text(&Value::Object(attrs));
            self.put(
                &format!("{path}/.zattrs"),
                RefView::Inline(text.into_bytes().into()),
            )?;
        }

        if let (Some(f), false) = (self.fetcher, queue.is_empty()) {
            let reqs: Vec<ByteRequest<'_>> = queue
                .iter()
                .map(|(_, u, r, _)| ByteRequest { url: u, range: *r })
                .collect();
            let got = f.fetch(&reqs);
            for ((k, u, _, pad), res) in queue.iter().zip(got) {
                let data = res.map_err(|source| CombineError::Fetch {
                    input: s.name.clone(),
                    key: k.clone(),
                    url: u.clone(),
                    source,
                })?;
                let data = match *pad {
                    Some((w, to)) => {
                        let n = data.len();
                        pad_elements(&data, w, to).ok_or_else(|| CombineError::Layout {
                            var: split_key(k).0.to_string(),
                            input: s.name.clone(),
                            reason: format!(
                                "chunk {k:?} of {n} bytes is not a whole number of |S{w} elements"
                            ),
                        })?
                    }
                    None => data,
                };
                self.put(k, RefView::Inline(data.into()))?;
                self.inlined += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn byte_string_widths() {
        // Sig::dtype holds the dtype as JSON text (quoted).
        assert_eq!(bytes_width("\"|S149\""), Some(149));
        assert_eq!(bytes_width("\"|S0\""), None);
        assert_eq!(bytes_width("\"<U5\""), None);
        assert_eq!(bytes_width("\"|S\""), None);
        assert_eq!(bytes_width("|S5"), None);
    }

    #[test]
    fn byte_fills_compare_as_numpy_values() {
        // "AAA=" = b"\0\0", "AAAAAA==" = b"\0\0\0\0": both the empty string for numpy.
        assert!(same_bytes_fill("\"AAA=\"", "\"AAAAAA==\""));
        assert!(same_bytes_fill("\"IA==\"", "\"IA==\""));
        assert!(same_bytes_fill("null", "null"));
        // b" " vs b"\0".
        assert!(!same_bytes_fill("\"IA==\"", "\"AA==\""));
        assert!(!same_bytes_fill("null", "\"AA==\""));
    }

    #[test]
    fn padding_is_per_element() {
        assert_eq!(pad_elements(b"abcdef", 3, 5).unwrap(), b"abc\0\0def\0\0");
        assert_eq!(pad_elements(b"", 3, 5).unwrap(), b"");
        assert_eq!(pad_elements(b"abc", 3, 3).unwrap(), b"abc");
        assert!(pad_elements(b"abcd", 3, 5).is_none());
        assert!(pad_elements(b"abc", 0, 5).is_none());
        assert!(pad_elements(b"abc", 3, 2).is_none());
        assert!(pad_elements(b"abc", 3, u64::MAX).is_none());
    }
}
