#![allow(clippy::expect_used)]
//! Oracle 1: our references for every fixture compared with kerchunk 0.2.10's
//! (`fixtures/kerchunk-golden/*.json`, made with `inline_threshold=100` and url = the file
//! name; see fixtures/README.md).
//!
//! The comparison is semantic: metadata documents are parsed (NaN-tolerant) and compared as
//! JSON values, byte-range references must be identical, inline data is compared as bytes, and
//! inline chunks that differ only in how they were compressed are compared after decoding
//! through the array's filters. Every other difference must be listed in [`ALLOW`], the
//! explicit, commented list of deliberate differences; an entry that no longer matches
//! anything fails the test too, so the list stays exact.
//!
//! Skips (passes with a message) when `fixtures/` is not present.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use hdf5_meta::walk::LocalFile;
use kerchunk_refs::translate::{codecs, index_file, IndexOptions};
use kerchunk_refs::zarr::{parse_json_lenient, Codec, ZArray};
use kerchunk_refs::{RefValue, ReferenceSet};
use serde_json::Value;

/// Kinds of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    /// Keys we emit that kerchunk does not (it failed on the dataset, or lost its data).
    OnlyOurs,
    /// Keys kerchunk emits that we do not (we refuse the dataset with a warning).
    OnlyGolden,
    /// A `.zarray` field differs.
    Zarray,
    /// Only `fill_value` differs, and ours is `null`.
    NullFill,
    /// `.zattrs` differs.
    Zattrs,
    /// A chunk's bytes or reference differ.
    Chunk,
    /// kerchunk failed on the whole file; we index it.
    GoldenError,
}

/// One deliberate difference: file name (`*` = any), array/group path (`*` = any), kind, why.
struct Allow {
    file: &'static str,
    path: &'static str,
    what: What,
    why: &'static str,
}

const fn allow(file: &'static str, path: &'static str, what: What, why: &'static str) -> Allow {
    Allow {
        file,
        path,
        what,
        why,
    }
}

use What::*;

/// The deliberate differences from kerchunk 0.2.10 (kerchunk-behavior.md §6 lists the bugs
/// not to copy). Generic rules that need no entry: inline chunks whose golden text was
/// JSON-minified by kerchunk (§1.4 bug: `b"-"` became `"0"`, `b"[1, 2]"` became `"[1,2]"`),
/// and re-encoded chunks that decode to the same bytes (zlib streams from another encoder).
const ALLOW: &[Allow] = &[
    // Compound attributes: kerchunk aborts the object with a TypeError after writing
    // `_ARRAY_DIMENSIONS` only, and emits no chunk (§2.12 rule 7); we convert them to objects.
    allow(
        "attrs_dense_latest.h5",
        "d",
        Zattrs,
        "compound attribute converted, kerchunk aborted",
    ),
    allow(
        "attrs_dense_latest.h5",
        "d",
        OnlyOurs,
        "chunk kerchunk lost when the attribute failed",
    ),
    allow(
        "attrs_earliest.h5",
        "d",
        Zattrs,
        "compound attribute converted, kerchunk aborted",
    ),
    allow(
        "attrs_earliest.h5",
        "d",
        OnlyOurs,
        "chunk kerchunk lost when the attribute failed",
    ),
    // A compact scalar: kerchunk fails ("Illegal slicing argument for scalar dataspace").
    allow(
        "contig_compact_external_*",
        "compact_empty_scalar",
        OnlyOurs,
        "compact scalar embedded",
    ),
    // External raw data: kerchunk emits metadata only (reads as fill); we reference the
    // external file (one segment) next to the HDF5 file.
    allow(
        "contig_compact_external_*",
        "external",
        OnlyOurs,
        "external raw file referenced",
    ),
    // HDF5 array types: kerchunk fails in zarr dtype resolution; we fold the array dims into
    // the shape (§2.6).
    allow(
        "dtypes_*",
        "array_i4x3",
        OnlyOurs,
        "array type folded into the shape",
    ),
    // Opaque: kerchunk fails in embed mode; we emit |V2 references.
    allow(
        "dtypes_earliest.h5",
        "opaque_v2",
        OnlyOurs,
        "opaque as |V<n>",
    ),
    allow("dtypes_latest.h5", "opaque_v2", OnlyOurs, "opaque as |V<n>"),
    // Compounds: kerchunk's embed mode fails under zarr 3.1; we emit flat structured dtypes.
    allow(
        "dtypes_earliest.h5",
        "uses_committed",
        OnlyOurs,
        "compound as structured dtype",
    ),
    allow(
        "dtypes_latest.h5",
        "uses_committed",
        OnlyOurs,
        "compound as structured dtype",
    ),
    allow(
        "fillvalues_*",
        "compound_fill",
        OnlyOurs,
        "compound as structured dtype",
    ),
    allow(
        "v18_bounds.h5",
        "compound",
        OnlyOurs,
        "compound as structured dtype",
    ),
    // Object references: kerchunk embeds the string "None" per element (§2.15); we embed the
    // target paths.
    allow(
        "dtypes_earliest.h5",
        "objref",
        Chunk,
        "object references as target paths",
    ),
    allow(
        "dtypes_latest.h5",
        "objref",
        Chunk,
        "object references as target paths",
    ),
    // Region references and vlen sequences: kerchunk embeds repr strings ("None",
    // "[np.int32(0)]"), i.e. garbage; we refuse them with a warning.
    allow(
        "dtypes_earliest.h5",
        "regionref",
        OnlyGolden,
        "region references refused",
    ),
    allow(
        "dtypes_latest.h5",
        "regionref",
        OnlyGolden,
        "region references refused",
    ),
    allow(
        "nc4_types.nc",
        "ragged",
        OnlyGolden,
        "vlen sequences refused",
    ),
    allow("dtypes_*", "vlen_i4", OnlyGolden, "vlen sequences refused"),
    // Virtual datasets: kerchunk emits metadata without chunks (reads as fill); we refuse.
    allow("vds_*", "vds", OnlyGolden, "virtual dataset refused"),
    // Extensible-array datasets whose unlimited dimension is not first: kerchunk's chunk keys
    // come from HDF5 2.0's chunk_iter, which reports un-unswizzled offsets (fixtures README);
    // ours come from the index itself and read back equal to h5py.
    allow(
        "extensible_array.h5",
        "ea_unlim_middle",
        Chunk,
        "kerchunk's chunk keys are wrong",
    ),
    allow(
        "extensible_array.h5",
        "ea_unlim_second",
        Chunk,
        "kerchunk's chunk keys are wrong",
    ),
    allow(
        "extensible_array.h5",
        "ea_unlim_middle",
        OnlyOurs,
        "kerchunk's chunk keys are wrong",
    ),
    allow(
        "extensible_array.h5",
        "ea_unlim_second",
        OnlyOurs,
        "kerchunk's chunk keys are wrong",
    ),
    allow(
        "extensible_array.h5",
        "ea_unlim_middle",
        OnlyGolden,
        "kerchunk's chunk keys are wrong",
    ),
    allow(
        "extensible_array.h5",
        "ea_unlim_second",
        OnlyGolden,
        "kerchunk's chunk keys are wrong",
    ),
    // fletcher32: kerchunk refuses it; numcodecs' fletcher32 reads HDF5's trailer.
    allow("filters_*", "fletcher32", OnlyOurs, "fletcher32 as a codec"),
    allow(
        "filters_*",
        "shuffle_gzip_fletcher32",
        OnlyOurs,
        "fletcher32 as a codec",
    ),
    // LZF declared but skipped on every chunk (filter mask): kerchunk refuses the dataset;
    // we reference the unfiltered chunks.
    allow(
        "filters_*",
        "lzf",
        OnlyOurs,
        "LZF skipped by every chunk's filter mask",
    ),
    // Heterogeneous filter masks with chunks above the unsupported threshold: kerchunk
    // refuses; we re-encode the odd chunks (stored blosc frames) and embed them.
    allow(
        "filters_plugins.h5",
        "blosc_lz4",
        OnlyOurs,
        "odd-mask chunks re-encoded",
    ),
    // DONT_FILTER_PARTIAL_BOUND_CHUNKS: kerchunk references the raw edge chunk as if it were
    // deflated (unreadable); we deflate it and embed it.
    allow(
        "partial_edge_unfiltered.h5",
        "fixed",
        Chunk,
        "unfiltered edge chunk re-encoded",
    ),
    allow(
        "partial_edge_unfiltered.h5",
        "unlimited",
        Chunk,
        "unfiltered edge chunk re-encoded",
    ),
    // netCDF-4 files (root `_NCProperties`): every dataset is a netCDF variable whose missing
    // values come from `_FillValue` only; kerchunk gives those without `_Netcdf4*` attributes
    // (scalars, and h5py-written arrays without dimension scales) the HDF5 fill, so xarray
    // masks stored zeros (spatial_ref = 0 reads as NaN).
    allow(
        "OPERA_*",
        "*",
        NullFill,
        "netCDF-4 variables without _FillValue: fill null",
    ),
    // O=L=4 file with an extensible array: HDF5 2.0 (and so kerchunk) cannot open /ea.
    allow(
        "sizes44_latest_ea.h5",
        "*",
        GoldenError,
        "HDF5 2.0 cannot read this file",
    ),
    allow(
        "sizes44_latest_ea.h5",
        "*",
        OnlyOurs,
        "HDF5 2.0 cannot read this file",
    ),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn glob(pattern: &str, s: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => s.starts_with(prefix),
        None => pattern == s,
    }
}

/// The array or group a key belongs to.
fn node_of(key: &str) -> &str {
    key.rsplit_once('/').map_or("", |(p, _)| p)
}

fn leaf_of(key: &str) -> &str {
    key.rsplit_once('/').map_or(key, |(_, l)| l)
}

fn is_meta(key: &str) -> bool {
    matches!(leaf_of(key), ".zarray" | ".zattrs" | ".zgroup")
}

/// Bytes of a golden inline value.
fn golden_bytes(s: &str) -> Vec<u8> {
    match s.strip_prefix("base64:") {
        Some(b) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .unwrap_or_default(),
        None => s.as_bytes().to_vec(),
    }
}

/// Undo zlib / shuffle / fletcher32 (the codecs whose encodings may legitimately differ).
fn decode_with(filters: &[Codec], data: &[u8]) -> Option<Vec<u8>> {
    let mut d = data.to_vec();
    for c in filters.iter().rev() {
        d = match c {
            Codec::Zlib { .. } => codecs::inflate(&d, 1 << 28).ok()?,
            Codec::Shuffle { elementsize } => {
                codecs::unshuffle(&d, usize::try_from(*elementsize).ok()?)
            }
            Codec::Fletcher32 => codecs::fletcher32_check(&d).ok()?,
            _ => return None,
        };
    }
    Some(d)
}

fn filters_of(refs: &ReferenceSet, node: &str) -> Vec<Codec> {
    let Ok(Some(z)) = refs.zarray(node) else {
        return Vec::new();
    };
    let z: ZArray = z;
    z.filters
        .unwrap_or_default()
        .iter()
        .filter_map(|v| Codec::from_config(v).ok())
        .collect()
}

/// Generic deliberate difference 1: `_ARRAY_DIMENSIONS` names a dimension scale by its name,
/// not its full path (kerchunk: `grp/z`; netCDF-4 and xarray reading the file: `z`).
fn normalize_golden(v: &mut Value) {
    if let Some(Value::Array(dims)) = v.get_mut("_ARRAY_DIMENSIONS") {
        for d in dims.iter_mut() {
            if let Value::String(s) = d {
                if let Some((_, name)) = s.rsplit_once('/') {
                    *s = name.to_string();
                }
            }
        }
    }
}

/// Generic deliberate difference 2: fixed-length string datasets (more than one byte) carry
/// `_Encoding: "utf-8"` so that xarray decodes them to str as it does for the netCDF file.
fn normalize_ours(v: &mut Value, golden: Option<&Value>) {
    let golden_has = golden.and_then(|g| g.get("_Encoding")).is_some();
    if let Value::Object(m) = v {
        if !golden_has && m.get("_Encoding") == Some(&Value::from("utf-8")) {
            m.remove("_Encoding");
        }
    }
}

/// Whether two `.zarray` documents differ only in `fill_value`, ours being `null`.
fn only_fill_nulled(golden: Option<&Value>, ours: Option<&Value>) -> bool {
    let (Some(Value::Object(g)), Some(Value::Object(o))) = (golden, ours) else {
        return false;
    };
    if o.get("fill_value") != Some(&Value::Null) {
        return false;
    }
    let strip = |m: &serde_json::Map<String, Value>| {
        let mut m = m.clone();
        m.remove("fill_value");
        m
    };
    strip(g) == strip(o)
}

/// Compare one file; returns (node, what, detail) differences.
fn compare(golden: &Value, ours: &ReferenceSet) -> Vec<(String, What, String)> {
    let mut diffs = Vec::new();
    let empty = serde_json::Map::new();
    let grefs = golden
        .get("refs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let keys: BTreeSet<&str> = grefs
        .keys()
        .map(String::as_str)
        .chain(ours.keys())
        .collect();
    for key in keys {
        let node = node_of(key).to_string();
        let (g, o) = (grefs.get(key), ours.get(key));
        let (g, o) = match (g, o) {
            (Some(g), Some(o)) => (g, o),
            (None, Some(_)) => {
                diffs.push((node, OnlyOurs, key.to_string()));
                continue;
            }
            (Some(_), None) => {
                diffs.push((node, OnlyGolden, key.to_string()));
                continue;
            }
            (None, None) => continue,
        };
        if is_meta(key) {
            let gv = g
                .as_str()
                .and_then(|s| parse_json_lenient(s.as_bytes()).ok())
                .map(|mut v| {
                    normalize_golden(&mut v);
                    v
                });
            let ov = o
                .as_inline()
                .and_then(|b| parse_json_lenient(b).ok())
                .map(|mut v| {
                    normalize_ours(&mut v, gv.as_ref());
                    v
                });
            if gv.is_none() || gv != ov {
                let what = if leaf_of(key) == ".zattrs" {
                    Zattrs
                } else if only_fill_nulled(gv.as_ref(), ov.as_ref()) {
                    NullFill
                } else {
                    Zarray
                };
                diffs.push((node, what, format!("{key}: golden {g} ours {:?}", ov)));
            }
            continue;
        }
        match (g, o) {
            (
                Value::Array(gl),
                RefValue::Range {
                    url,
                    offset,
                    length,
                },
            ) => {
                let same = gl.len() == 3
                    && gl.first().and_then(Value::as_str) == url.as_deref()
                    && gl.get(1).and_then(Value::as_u64) == Some(*offset)
                    && gl.get(2).and_then(Value::as_u64) == Some(*length);
                if !same {
                    diffs.push((node, Chunk, format!("{key}: golden {g} ours {o:?}")));
                }
            }
            (Value::String(gs), RefValue::Inline(ob)) => {
                let gb = golden_bytes(gs);
                if gb == ob.as_ref() {
                    continue;
                }
                // kerchunk JSON-minifies chunk bytes that parse as JSON (§1.4 bug).
                if !gs.starts_with("base64:") && serde_json::from_str::<Value>(gs).is_ok() {
                    continue;
                }
                let f = filters_of(ours, &node);
                if !f.is_empty()
                    && decode_with(&f, &gb).is_some()
                    && decode_with(&f, &gb) == decode_with(&f, ob)
                {
                    continue;
                }
                diffs.push((node, Chunk, format!("{key}: inline bytes differ")));
            }
            _ => diffs.push((node, Chunk, format!("{key}: golden {g} ours {o:?}"))),
        }
    }
    diffs
}

#[tokio::test]
async fn kerchunk_goldens() {
    let root = fixtures();
    let gdir = root.join("kerchunk-golden");
    let Ok(entries) = std::fs::read_dir(&gdir) else {
        eprintln!("skipping: {} not found", gdir.display());
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no goldens in {}", gdir.display());
    let mut used = vec![false; ALLOW.len()];
    let mut unexplained = Vec::new();
    let mut files = 0;
    let mut tally: BTreeMap<&'static str, usize> = BTreeMap::new();
    for gname in &names {
        let file = gname.trim_end_matches(".json");
        let path = [root.join("h5").join(file), root.join("opera").join(file)]
            .into_iter()
            .find(|p| p.exists());
        let Some(path) = path else {
            unexplained.push(format!("{file}: fixture file missing"));
            continue;
        };
        let golden: Value =
            serde_json::from_slice(&std::fs::read(gdir.join(gname)).expect("read golden"))
                .expect("golden JSON");
        let reader = Arc::new(LocalFile::open(&path).expect("open fixture"));
        let ours = index_file(reader, Some(file), &IndexOptions::default()).await;
        files += 1;
        let mut diffs = match (&ours, golden.get("error")) {
            (Err(_), Some(_)) => continue, // both fail (family members, multi-file drivers)
            (Err(e), None) => {
                unexplained.push(format!("{file}: we fail where kerchunk succeeds: {e}"));
                continue;
            }
            (Ok(_), Some(err)) => vec![(String::new(), GoldenError, format!("kerchunk: {err}"))],
            (Ok(_), None) => Vec::new(),
        };
        if let Ok((refs, _)) = &ours {
            diffs.extend(compare(&golden, refs));
        }
        for (node, what, detail) in diffs {
            let hit = ALLOW.iter().position(|a| {
                glob(a.file, file) && (a.path == "*" || a.path == node) && a.what == what
            });
            match hit {
                Some(i) => {
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                    if let Some(a) = ALLOW.get(i) {
                        *tally.entry(a.why).or_default() += 1;
                    }
                }
                None => unexplained.push(format!("{file}: {what:?} at {node:?}: {detail}")),
            }
        }
    }
    for (a, u) in ALLOW.iter().zip(&used) {
        if !u {
            unexplained.push(format!(
                "stale allow-list entry: {} {} {:?} ({})",
                a.file, a.path, a.what, a.why
            ));
        }
    }
    eprintln!("{files} fixtures compared with kerchunk goldens; allowed differences by reason:");
    for (why, n) in &tally {
        eprintln!("  {n:5}  {why}");
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}
