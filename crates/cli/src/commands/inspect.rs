//! `kerchunk inspect`: a readable tree of a walked file (like `h5dump -H` / `ncdump -h`), or
//! the same as JSON.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use hdf5_meta::format::messages::datatype::Datatype;
use hdf5_meta::format::messages::fill_value::FillState;
use hdf5_meta::format::messages::filter_pipeline::Filter;
use hdf5_meta::format::value::{RefValue, Value};
use hdf5_meta::model::{Attribute, Dataset, Hdf5File, LinkInfo, ObjectKind, Storage};
use hdf5_meta::walk::{walk, WalkOptions};
use serde_json::{json, Map, Value as Json};

use crate::args::InspectArgs;
use crate::error::{CliError, Context, Result};
use crate::storage::{Location, Side, Storage as Stores};

/// Longest attribute value shown in the tree without `--full`.
const MAX_VALUE_CHARS: usize = 100;

/// Runs `kerchunk inspect`.
pub async fn run(args: InspectArgs, storage: Arc<Stores>) -> Result<()> {
    let loc = Location::parse(&args.source)?;
    let reader = storage.reader(Side::Data, &loc)?;
    // Walk errors name the file themselves.
    let file = walk(reader, WalkOptions::default())
        .await
        .map_err(|e| CliError::fail(e.to_string()))?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&to_json(&file)).context("JSON")?;
        s.push('\n');
        s
    } else {
        render_tree(&file, args.full)
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).context("standard output")?;
    out.flush().context("standard output")
}

/// Filter name by HDF5 id.
fn filter_name(f: &Filter) -> String {
    let known = match f.id {
        1 => Some("deflate"),
        2 => Some("shuffle"),
        3 => Some("fletcher32"),
        4 => Some("szip"),
        5 => Some("nbit"),
        6 => Some("scaleoffset"),
        32000 => Some("lzf"),
        32001 => Some("blosc"),
        32004 => Some("lz4"),
        32008 => Some("bitshuffle"),
        32015 => Some("zstd"),
        32026 => Some("blosc2"),
        _ => None,
    };
    let name = known
        .map(str::to_string)
        .or_else(|| f.name.clone())
        .unwrap_or_else(|| format!("filter {}", f.id));
    match (f.id, f.client_data.as_slice()) {
        (1, [level, ..]) => format!("{name}({level})"),
        (2 | 3, _) | (_, []) => name,
        (_, cd) => format!("{name}{cd:?}"),
    }
}

/// A short description of a datatype: numpy type string, or the HDF5 class.
fn dtype_text(dt: &Datatype) -> String {
    if let Some(s) = dt.numpy_typestr() {
        return s;
    }
    match dt {
        Datatype::VarLen(v) => match v.kind {
            hdf5_meta::format::messages::datatype::VarLenKind::String { .. } => {
                "vlen string".to_string()
            }
            hdf5_meta::format::messages::datatype::VarLenKind::Sequence => {
                format!("vlen sequence of {}", dtype_text(&v.base))
            }
        },
        Datatype::Reference(_) => "reference".to_string(),
        Datatype::Compound(c) => format!("compound ({} members, {} B)", c.members.len(), c.size),
        Datatype::Array(a) => format!("array {:?} of {}", a.dims, dtype_text(&a.base)),
        Datatype::Time(t) => format!("time ({} B)", t.size),
        other => format!("class {} ({} B)", other.class(), other.size()),
    }
}

fn shape_text(shape: &Option<Vec<u64>>) -> String {
    match shape {
        None => "null".to_string(),
        Some(s) if s.is_empty() => "scalar".to_string(),
        Some(s) => format!(
            "({})",
            s.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Number of chunks in the grid of `shape` by `chunk` (saturating).
fn grid_chunks(shape: &[u64], chunk: &[u64]) -> u64 {
    shape
        .iter()
        .zip(chunk)
        .map(|(&s, &c)| if c == 0 { 0 } else { s.div_ceil(c) })
        .fold(1u64, u64::saturating_mul)
}

fn storage_text(d: &Dataset) -> String {
    match &d.storage {
        Storage::Compact(b) => format!("compact {} B", b.len()),
        Storage::Contiguous(None) => "contiguous (not allocated)".to_string(),
        Storage::Contiguous(Some(r)) => format!("contiguous {} B @ {}", r.length, r.offset),
        Storage::Chunked {
            chunk_shape,
            chunks,
            ..
        } => {
            let total = d
                .shape
                .as_deref()
                .map_or(0, |s| grid_chunks(s, chunk_shape));
            format!(
                "chunks {} {}/{} stored",
                shape_text(&Some(chunk_shape.clone())),
                chunks.len(),
                total
            )
        }
        Storage::External(files) => format!("external ({} file(s))", files.len()),
        Storage::Virtual => "virtual".to_string(),
    }
}

fn fill_text(d: &Dataset) -> Option<String> {
    match &d.fill_value.state {
        FillState::User(bytes) => {
            let v = hdf5_meta::format::value::decode_value(&d.datatype, bytes).ok()?;
            Some(value_text(&v, &HashMap::new()))
        }
        FillState::Undefined => Some("undefined".to_string()),
        FillState::Default => None,
    }
}

/// A value as text: strings quoted, arrays in brackets, references as paths.
fn value_text(v: &Value, paths: &HashMap<u64, &str>) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => format_float(*f),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Bytes(b) => format!("b{:?}", String::from_utf8_lossy(b)),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| value_text(i, paths))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Compound(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(n, i)| format!("{n}: {}", value_text(i, paths)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Enum { name: Some(n), .. } => n.clone(),
        Value::Enum { name: None, value } => value_text(value, paths),
        Value::Complex(re, im) => format!("{}{:+}j", format_float(*re), im),
        Value::Opaque(b) => format!("<{} opaque bytes>", b.len()),
        Value::VarLen { length, .. } => format!("<vlen of {length}>"),
        Value::Reference(RefValue::Object(Some(a))) => paths
            .get(a)
            .map_or_else(|| format!("<object @{a}>"), |p| format!("<{p}>")),
        Value::Reference(RefValue::Object(None)) => "<null reference>".to_string(),
        Value::Reference(_) => "<region reference>".to_string(),
    }
}

fn format_float(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

fn shorten(s: String, full: bool) -> String {
    if full || s.chars().count() <= MAX_VALUE_CHARS {
        return s;
    }
    let head: String = s.chars().take(MAX_VALUE_CHARS).collect();
    format!("{head}… ({} chars)", s.chars().count())
}

fn attr_lines(
    out: &mut String,
    indent: &str,
    attrs: &[Attribute],
    paths: &HashMap<u64, &str>,
    full: bool,
) {
    for a in attrs {
        let v = shorten(value_text(&a.value, paths), full);
        let _ = writeln!(out, "{indent}@{} = {v}", a.name);
    }
}

/// The tree: one line per object, indented by depth; groups end in `/`; attributes follow
/// their object, prefixed with `@`.
pub fn render_tree(file: &Hdf5File, full: bool) -> String {
    let paths: HashMap<u64, &str> = file
        .objects
        .iter()
        .map(|o| (o.address, o.path.as_str()))
        .collect();
    let mut out = String::new();
    let page = file
        .page_size
        .map(|p| format!(", page size {p}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} ({} bytes, superblock v{}{page})",
        file.location, file.size, file.superblock_version
    );
    for o in &file.objects {
        let depth = if o.path == "/" {
            0
        } else {
            o.path.matches('/').count()
        };
        let indent = "  ".repeat(depth);
        let name = if o.path == "/" {
            "/"
        } else {
            o.path.rsplit('/').next().unwrap_or(&o.path)
        };
        match &o.kind {
            ObjectKind::Group { members } => {
                let slash = if name == "/" { "" } else { "/" };
                let _ = writeln!(
                    out,
                    "{indent}{name}{slash}  group, {} members",
                    members.len()
                );
            }
            ObjectKind::Dataset(d) => {
                let mut line = format!(
                    "{indent}{name}  {}  {}  {}",
                    dtype_text(&d.datatype),
                    shape_text(&d.shape),
                    storage_text(d)
                );
                if let Some(max) = &d.max_shape {
                    if d.shape.as_ref().is_some_and(|s| {
                        s.len() == max.len() && s.iter().zip(max).any(|(a, m)| *m != Some(*a))
                    }) {
                        let m: Vec<String> = max
                            .iter()
                            .map(|m| m.map_or("unlimited".to_string(), |v| v.to_string()))
                            .collect();
                        let _ = write!(line, "  max ({})", m.join(", "));
                    }
                }
                if !d.filters.is_empty() {
                    let _ = write!(
                        line,
                        "  filters {}",
                        d.filters
                            .iter()
                            .map(filter_name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                if let Some(f) = fill_text(d) {
                    let _ = write!(line, "  fill {f}");
                }
                let _ = writeln!(out, "{line}");
            }
            ObjectKind::Datatype(t) => {
                let _ = writeln!(out, "{indent}{name}  committed datatype {}", dtype_text(t));
            }
        }
        attr_lines(
            &mut out,
            &format!("{indent}    "),
            &o.attributes,
            &paths,
            full,
        );
    }
    for (path, link) in &file.other_links {
        let target = match link {
            LinkInfo::Soft(p) => format!("soft link -> {p}"),
            LinkInfo::External { file, path } => format!("external link -> {file}:{path}"),
            LinkInfo::Dangling(a) => format!("dangling hard link -> @{a}"),
        };
        let _ = writeln!(out, "{path}  {target}");
    }
    for (path, first) in &file.aliases {
        let _ = writeln!(out, "{path}  hard link to {first}");
    }
    for w in &file.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

fn value_json(v: &Value, paths: &HashMap<u64, &str>) -> Json {
    let float = |f: f64| {
        if f.is_finite() {
            json!(f)
        } else {
            json!(f.to_string())
        }
    };
    match v {
        Value::Int(i) => json!(i),
        Value::UInt(u) => json!(u),
        Value::Float(f) => float(*f),
        Value::Bool(b) => json!(b),
        Value::String(s) => json!(s),
        Value::Bytes(b) | Value::Opaque(b) => {
            json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) })
        }
        Value::Array(items) => Json::Array(items.iter().map(|i| value_json(i, paths)).collect()),
        Value::Compound(fields) => Json::Object(
            fields
                .iter()
                .map(|(n, i)| (n.clone(), value_json(i, paths)))
                .collect(),
        ),
        Value::Enum { name: Some(n), .. } => json!(n),
        Value::Enum { name: None, value } => value_json(value, paths),
        Value::Complex(re, im) => json!([float(*re), float(*im)]),
        Value::VarLen { length, .. } => json!({ "vlen_length": length }),
        Value::Reference(RefValue::Object(Some(a))) => {
            json!({ "reference": paths.get(a).copied().unwrap_or_default(), "address": a })
        }
        Value::Reference(RefValue::Object(None)) => Json::Null,
        Value::Reference(_) => json!({ "region_reference": true }),
    }
}

/// The walked file as JSON: `location`, `size`, `superblock_version`, `page_size`,
/// `objects` (path, kind, attributes, and for datasets dtype/shape/maxshape/storage/filters/
/// fill value), `links`, `aliases`, `warnings`, `io`.
pub fn to_json(file: &Hdf5File) -> Json {
    let paths: HashMap<u64, &str> = file
        .objects
        .iter()
        .map(|o| (o.address, o.path.as_str()))
        .collect();
    let objects: Vec<Json> = file
        .objects
        .iter()
        .map(|o| {
            let mut m = Map::new();
            m.insert("path".into(), json!(o.path));
            m.insert("address".into(), json!(o.address));
            match &o.kind {
                ObjectKind::Group { members } => {
                    m.insert("kind".into(), json!("group"));
                    m.insert("members".into(), json!(members));
                }
                ObjectKind::Datatype(t) => {
                    m.insert("kind".into(), json!("datatype"));
                    m.insert("dtype".into(), json!(dtype_text(t)));
                }
                ObjectKind::Dataset(d) => {
                    m.insert("kind".into(), json!("dataset"));
                    m.insert("dtype".into(), json!(dtype_text(&d.datatype)));
                    m.insert("shape".into(), json!(d.shape));
                    m.insert("maxshape".into(), json!(d.max_shape));
                    let storage = match &d.storage {
                        Storage::Compact(b) => json!({"layout": "compact", "size": b.len()}),
                        Storage::Contiguous(r) => json!({"layout": "contiguous", "offset": r.map(|r| r.offset), "size": r.map(|r| r.length)}),
                        Storage::Chunked { chunk_shape, chunks, .. } => json!({
                            "layout": "chunked",
                            "chunks": chunk_shape,
                            "stored_chunks": chunks.len(),
                            "grid_chunks": d.shape.as_deref().map(|s| grid_chunks(s, chunk_shape)),
                            "stored_bytes": chunks.iter().map(|c| c.size).fold(0u64, u64::saturating_add),
                        }),
                        Storage::External(files) => json!({"layout": "external", "files": files.iter().map(|(n, o, s)| json!([n, o, s])).collect::<Vec<_>>()}),
                        Storage::Virtual => json!({"layout": "virtual"}),
                    };
                    m.insert("storage".into(), storage);
                    let filters: Vec<Json> = d.filters.iter().map(|f| json!({"id": f.id, "name": filter_name(f), "client_data": f.client_data})).collect();
                    m.insert("filters".into(), json!(filters));
                    let fill = match &d.fill_value.state {
                        FillState::User(b) => hdf5_meta::format::value::decode_value(&d.datatype, b).map(|v| value_json(&v, &paths)).unwrap_or(Json::Null),
                        _ => Json::Null,
                    };
                    m.insert("fill_value".into(), fill);
                }
            }
            let attrs: Map<String, Json> = o.attributes.iter().map(|a| (a.name.clone(), value_json(&a.value, &paths))).collect();
            m.insert("attributes".into(), Json::Object(attrs));
            Json::Object(m)
        })
        .collect();
    let links: Vec<Json> = file
        .other_links
        .iter()
        .map(|(p, l)| match l {
            LinkInfo::Soft(t) => json!({"path": p, "kind": "soft", "target": t}),
            LinkInfo::External { file, path } => {
                json!({"path": p, "kind": "external", "file": file, "target": path})
            }
            LinkInfo::Dangling(a) => json!({"path": p, "kind": "dangling", "address": a}),
        })
        .collect();
    json!({
        "location": file.location,
        "size": file.size,
        "superblock_version": file.superblock_version,
        "base_address": file.base_address,
        "page_size": file.page_size,
        "objects": objects,
        "links": links,
        "aliases": file.aliases.iter().map(|(a, b)| json!({"path": a, "hardlink_of": b})).collect::<Vec<_>>(),
        "warnings": file.warnings,
        "io": {"requests": file.io.requests, "bytes": file.io.bytes, "rounds": file.io.rounds},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdf5_meta::walk::LocalFile;
    use std::path::Path;

    async fn opera() -> Hdf5File {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/opera");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "nc"))
            .collect();
        files.sort();
        walk(
            Arc::new(LocalFile::open(&files[0]).unwrap()),
            WalkOptions::default(),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn tree_of_an_opera_product() {
        let file = opera().await;
        let text = render_tree(&file, false);
        // Values from fixtures/opera/expected/*.json (h5py) and scripts/fixtures/opera_like.py.
        assert!(text.contains("\n  displacement  <f4  (200, 300)  chunks (64, 64) 20/20 stored  filters shuffle, deflate(4)  fill NaN\n"), "{text}");
        assert!(text.contains("\n    @Conventions = \"CF-1.8\"\n"), "{text}");
        assert!(text.contains("\n  identification/  group,"), "{text}");
        assert!(
            text.contains("\n    reference_datetime  |S26  scalar  contiguous 26 B @"),
            "{text}"
        );
        assert!(
            text.contains("@DIMENSION_LIST = [</y>, </x>]") || text.contains("@_Netcdf4Dimid"),
            "{text}"
        );
        // Long values are shortened unless --full.
        assert!(text.contains("… ("), "{text}");
        assert!(render_tree(&file, true).len() > text.len());
    }

    #[tokio::test]
    async fn json_of_an_opera_product() {
        let file = opera().await;
        let j = to_json(&file);
        let objects = j["objects"].as_array().unwrap();
        let d = objects
            .iter()
            .find(|o| o["path"] == "/displacement")
            .unwrap();
        assert_eq!(d["dtype"], "<f4");
        assert_eq!(d["shape"], json!([200, 300]));
        assert_eq!(d["storage"]["chunks"], json!([64, 64]));
        assert_eq!(d["storage"]["grid_chunks"], 20);
        assert_eq!(d["filters"][1]["name"], "deflate(4)");
        assert_eq!(d["fill_value"], "NaN");
        assert_eq!(d["attributes"]["units"], "meters");
        let root = &objects[0];
        assert_eq!(root["kind"], "group");
        assert_eq!(root["attributes"]["title"], "OPERA_L3_DISP-S1 Product");
    }
}
