//! The walker against h5py: every fixture under `fixtures/` is walked and each object is
//! compared with what h5py reported about it (`fixtures/expected/*.json`, written by
//! `scripts/fixtures/generate.py` with h5py 3.16 / HDF5 2.0): paths, kinds, links, dtypes,
//! shapes, layouts, filters, chunk lists (grid, byte offset, size, mask), contiguous ranges and
//! attribute values.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hdf5_meta::format::value::{RefValue, Value};
use hdf5_meta::model::{Hdf5File, LinkInfo, ObjectKind, Storage};
use hdf5_meta::walk::{walk, LocalFile, WalkOptions};
use serde_json::Value as Json;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Files that are refused on purpose, with the reason the error must mention.
const REFUSED: &[(&str, &str)] = &[
    // Family-driver files map one address space onto several member files: chunk offsets
    // would not be positions in the file named by the reference.
    ("family_earliest_0.h5", "NCSAfami"),
    ("family_latest_0.h5", "NCSAfami"),
];

/// Flattened, comparable leaves of a value.
#[derive(Debug, Clone, PartialEq)]
enum Leaf {
    Num(f64),
    Text(String),
    Bool(bool),
    Null,
}

fn num(f: f64) -> Leaf {
    Leaf::Num(f)
}

fn expected_leaves(v: &Json, out: &mut Vec<Leaf>) {
    match v {
        Json::Null => out.push(Leaf::Null),
        Json::Bool(b) => out.push(Leaf::Bool(*b)),
        Json::Number(n) => out.push(num(n.as_f64().unwrap_or(f64::NAN))),
        Json::String(s) => match s.as_str() {
            "NaN" => out.push(num(f64::NAN)),
            "Infinity" => out.push(num(f64::INFINITY)),
            "-Infinity" => out.push(num(f64::NEG_INFINITY)),
            _ => out.push(Leaf::Text(s.clone())),
        },
        Json::Array(items) => items.iter().for_each(|i| expected_leaves(i, out)),
        Json::Object(m) => {
            if let Some(Json::String(b)) = m.get("bytes") {
                let raw = base64_decode(b);
                out.push(Leaf::Text(String::from_utf8_lossy(&raw).into_owned()));
            } else if let Some(Json::String(p)) = m.get("ref") {
                out.push(Leaf::Text(format!("ref:{p}")));
            } else if let Some(Json::String(p)) = m.get("regionref") {
                // Region references resolve to the referenced object; the selection is dropped.
                out.push(Leaf::Text(format!("ref:{p}")));
            } else {
                m.values().for_each(|i| expected_leaves(i, out));
            }
        }
    }
}

fn our_leaves(file: &Hdf5File, v: &Value, out: &mut Vec<Leaf>) {
    match v {
        Value::Int(i) => out.push(num(*i as f64)),
        Value::UInt(u) => out.push(num(*u as f64)),
        Value::Float(f) => out.push(num(*f)),
        Value::Bool(b) => out.push(Leaf::Bool(*b)),
        Value::Bytes(b) => out.push(Leaf::Text(String::from_utf8_lossy(b).into_owned())),
        Value::String(s) => out.push(Leaf::Text(s.clone())),
        Value::Array(items) => items.iter().for_each(|i| our_leaves(file, i, out)),
        Value::Compound(fields) => fields.iter().for_each(|(_, i)| our_leaves(file, i, out)),
        Value::Enum { value, .. } => our_leaves(file, value, out),
        Value::Complex(re, im) => {
            out.push(num(*re));
            out.push(num(*im));
        }
        Value::Opaque(b) => out.push(Leaf::Text(String::from_utf8_lossy(b).into_owned())),
        Value::Reference(RefValue::Object(Some(a))) => {
            let p = file
                .objects
                .iter()
                .find(|o| o.address == *a)
                .map(|o| o.path.clone())
                .unwrap_or_default();
            out.push(Leaf::Text(format!("ref:{p}")));
        }
        Value::Reference(_) => out.push(Leaf::Null),
        Value::VarLen { .. } => out.push(Leaf::Text("<unresolved vlen>".into())),
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn same_leaves(a: &[Leaf], b: &[Leaf]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Leaf::Num(p), Leaf::Num(q)) => {
                p == q
                    || (p.is_nan() && q.is_nan())
                    || ((p - q).abs() <= 1e-12 * p.abs().max(q.abs()))
            }
            (Leaf::Bool(p), Leaf::Num(q)) | (Leaf::Num(q), Leaf::Bool(p)) => {
                (*p as u8 as f64) == *q
            }
            _ => x == y,
        })
}

fn check_file(h5: &Path, expected: &Json, problems: &mut Vec<String>) -> Option<Hdf5File> {
    let name = h5.file_name().unwrap().to_string_lossy().to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reader = Arc::new(LocalFile::open(h5).unwrap());
    let file = match rt.block_on(walk(reader, WalkOptions::default())) {
        Ok(f) => f,
        Err(e) => {
            if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == name) {
                assert!(
                    e.to_string().contains(why),
                    "{name}: refused with {e}, expected mention of {why}"
                );
            } else {
                problems.push(format!("{name}: walk failed: {e}"));
            }
            return None;
        }
    };
    let mut p = |s: String| problems.push(format!("{name}: {s}"));
    for o in expected["objects"].as_array().unwrap() {
        let path = o["path"].as_str().unwrap();
        let kind = o["kind"].as_str().unwrap_or("");
        if o.get("hardlink_of").is_some_and(|h| !h.is_null()) {
            let first = o["hardlink_of"].as_str().unwrap();
            let ok = file.aliases.iter().any(|(a, f)| a == path && f == first)
                || file.aliases.iter().any(|(a, f)| a == first && f == path);
            if !ok && file.get(path).is_none() {
                p(format!("{path}: hard link to {first} not found"));
            }
            continue;
        }
        match kind {
            "softlink" => {
                let t = o["target"].as_str().unwrap();
                if !file
                    .other_links
                    .iter()
                    .any(|(l, i)| l == path && *i == LinkInfo::Soft(t.into()))
                {
                    p(format!("{path}: soft link to {t} missing"));
                }
                continue;
            }
            "externallink" => {
                if !file
                    .other_links
                    .iter()
                    .any(|(l, i)| l == path && matches!(i, LinkInfo::External { .. }))
                {
                    p(format!("{path}: external link missing"));
                }
                continue;
            }
            "group" | "dataset" | "datatype" => {}
            _ => continue,
        }
        let Some(obj) = file.get(path).or_else(|| {
            file.aliases
                .iter()
                .find(|(a, _)| a == path)
                .and_then(|(_, f)| file.get(f))
        }) else {
            p(format!("{path}: {kind} not found"));
            continue;
        };
        // Attributes: names and values.
        if let Some(attrs) = o["attrs"].as_object() {
            for (an, av) in attrs {
                let Some(ours) = obj.attributes.iter().find(|a| &a.name == an) else {
                    p(format!("{path}: attribute {an} missing"));
                    continue;
                };
                let (mut e, mut g) = (Vec::new(), Vec::new());
                if av["shape"].is_null() {
                    if ours.shape.is_some() {
                        p(format!("{path}@{an}: expected an empty attribute"));
                    }
                    continue;
                }
                expected_leaves(&av["value"], &mut e);
                our_leaves(&file, &ours.value, &mut g);
                if !same_leaves(&e, &g) {
                    p(format!(
                        "{path}@{an}: value {:?} != h5py {:?}",
                        short(&g),
                        short(&e)
                    ));
                }
            }
            if obj.attributes.len() != attrs.len() {
                p(format!(
                    "{path}: {} attributes, h5py has {}",
                    obj.attributes.len(),
                    attrs.len()
                ));
            }
        }
        match (&obj.kind, kind) {
            (ObjectKind::Group { .. }, "group") | (ObjectKind::Datatype(_), "datatype") => {}
            (ObjectKind::Dataset(d), "dataset") => {
                let shape: Option<Vec<u64>> = serde_json::from_value(o["shape"].clone()).ok();
                if o["shape"].is_null() != d.shape.is_none()
                    || (shape.is_some() && shape != d.shape)
                {
                    p(format!("{path}: shape {:?} != {}", d.shape, o["shape"]));
                }
                if let Some(max) = o["maxshape"].as_array() {
                    let ours: Vec<Option<u64>> = d.max_shape.clone().unwrap_or_else(|| {
                        d.shape
                            .clone()
                            .unwrap_or_default()
                            .into_iter()
                            .map(Some)
                            .collect()
                    });
                    let exp: Vec<Option<u64>> = max.iter().map(|m| m.as_u64()).collect();
                    if ours != exp {
                        p(format!("{path}: maxshape {ours:?} != {exp:?}"));
                    }
                }
                if let Some(dt) = o["dtype"].as_str() {
                    if o["dtype_descr"].is_null() && dt != "|O" {
                        let ours = d.datatype.numpy_typestr();
                        if ours.as_deref() != Some(dt) {
                            p(format!("{path}: dtype {ours:?} != {dt}"));
                        }
                    }
                }
                let filters: Vec<(u64, Vec<u64>)> = o["filters"]
                    .as_array()
                    .map(|fs| {
                        fs.iter()
                            .map(|f| {
                                (
                                    f["id"].as_u64().unwrap_or(0),
                                    serde_json::from_value(f["cd"].clone()).unwrap_or_default(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let ours: Vec<(u64, Vec<u64>)> = d
                    .filters
                    .iter()
                    .map(|f| {
                        (
                            u64::from(f.id),
                            f.client_data.iter().map(|&c| u64::from(c)).collect(),
                        )
                    })
                    .collect();
                if ours != filters {
                    p(format!("{path}: filters {ours:?} != {filters:?}"));
                }
                check_storage(path, o, &d.storage, &mut p);
            }
            (k, _) => p(format!(
                "{path}: kind {} != {kind}",
                match k {
                    ObjectKind::Group { .. } => "group",
                    ObjectKind::Dataset(_) => "dataset",
                    ObjectKind::Datatype(_) => "datatype",
                }
            )),
        }
    }
    Some(file)
}

fn short(v: &[Leaf]) -> Vec<Leaf> {
    v.iter().take(6).cloned().collect()
}

fn check_storage(path: &str, o: &Json, s: &Storage, p: &mut impl FnMut(String)) {
    let layout = o["layout"].as_str().unwrap_or("");
    match (s, layout) {
        (Storage::Compact(_), "compact") | (Storage::Virtual, "virtual") => {}
        (Storage::External(_), "contiguous") if !o["external"].is_null() => {}
        (Storage::Contiguous(r), "contiguous") => {
            let c = &o["contiguous"];
            let exp = c["offset"]
                .as_u64()
                .map(|off| (off, c["size"].as_u64().unwrap_or(0)));
            let ours = r.map(|r| (r.offset, r.length));
            if exp != ours {
                p(format!("{path}: contiguous {ours:?} != {exp:?}"));
            }
        }
        (
            Storage::Chunked {
                chunk_shape,
                chunks,
                ..
            },
            "chunked",
        ) => {
            let exp_shape: Vec<u64> =
                serde_json::from_value(o["chunks"].clone()).unwrap_or_default();
            if *chunk_shape != exp_shape {
                p(format!(
                    "{path}: chunk shape {chunk_shape:?} != {exp_shape:?}"
                ));
            }
            if o["chunk_list_trusted"] == Json::Bool(false) || o["chunk_list"].is_null() {
                return;
            }
            let mut exp: Vec<(Vec<u64>, u64, u64, u32)> = o["chunk_list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let off: Vec<u64> = serde_json::from_value(c["offset"].clone()).unwrap();
                    let grid = off.iter().zip(&exp_shape).map(|(a, b)| a / b).collect();
                    (
                        grid,
                        c["byte_offset"].as_u64().unwrap(),
                        c["size"].as_u64().unwrap(),
                        c["mask"].as_u64().unwrap() as u32,
                    )
                })
                .collect();
            exp.sort();
            let mut ours: Vec<_> = chunks
                .iter()
                .map(|c| (c.grid.clone(), c.offset, c.size, c.filter_mask))
                .collect();
            ours.sort();
            if ours != exp {
                let first = ours.iter().zip(&exp).find(|(a, b)| a != b);
                p(format!(
                    "{path}: {} chunks vs h5py {}; first difference {first:?}",
                    ours.len(),
                    exp.len()
                ));
            }
        }
        (s, l) => p(format!("{path}: storage {s:?} != layout {l}")
            .chars()
            .take(300)
            .collect()),
    }
}

#[test]
fn walker_matches_h5py_on_every_fixture() {
    let mut problems = Vec::new();
    let mut walked = 0;
    for (dir, exp_dir) in [
        ("fixtures/h5", "fixtures/expected"),
        ("fixtures/opera", "fixtures/opera/expected"),
    ] {
        let mut entries: Vec<_> = std::fs::read_dir(repo().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for h5 in entries {
            let name = h5.file_name().unwrap().to_string_lossy().to_string();
            let exp_path = repo().join(exp_dir).join(format!("{name}.json"));
            let Ok(text) = std::fs::read_to_string(&exp_path) else {
                continue;
            };
            let expected: Json = serde_json::from_str(&text).unwrap();
            if check_file(&h5, &expected, &mut problems).is_some() {
                walked += 1;
            }
        }
    }
    assert!(walked > 50, "only {walked} fixtures walked");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
