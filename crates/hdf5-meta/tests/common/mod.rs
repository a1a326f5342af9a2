//! Comparison of a walked file with what h5py reported about it (the expectations schema of
//! `fixtures/README.md`, written by `scripts/fixtures/h5expect.py`), shared by the fixture and
//! official-corpus tests: paths, kinds, links, datatypes (class and size), dtypes, shapes,
//! layouts, filters, fill values, chunk lists (grid, byte offset, size, mask), contiguous
//! ranges and attribute values. What h5py could not read (`"kind": null`, `h5py_error`,
//! `h5py_field_errors`, skipped values) is not compared.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hdf5_meta::format::messages::datatype::{
    ByteOrder, CharSet, Datatype, ReferenceKind, StringPadding, VarLenKind,
};
use hdf5_meta::format::messages::fill_value::FillState;
use hdf5_meta::format::value::{self, RefValue, Value};
use hdf5_meta::model::{Dataset, Hdf5File, LinkInfo, ObjectKind, Storage};
use hdf5_meta::walk::{walk, LocalFile, WalkError, WalkOptions};
use serde_json::Value as Json;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Read an expectations document, plain (`x.json`) or gzipped (`x.json.gz`).
pub fn read_expectations(path: &Path) -> Option<Json> {
    let raw = std::fs::read(path).ok()?;
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_string(&mut s)
            .ok()?;
        s
    } else {
        String::from_utf8(raw).ok()?
    };
    serde_json::from_str(&text).ok()
}

/// How a walk ended.
#[derive(Debug)]
pub enum Outcome {
    /// The walk produced a model.
    Walked(Box<Hdf5File>),
    /// The walk refused the file.
    Refused(WalkError),
    /// The walk did not finish in time (its thread is abandoned).
    TimedOut,
}

/// Walk `path` on its own thread and runtime, giving up after `limit` (a walk stuck in a
/// CPU loop cannot be cancelled, so the thread is left behind and the test goes on).
pub fn walk_with_timeout(path: &Path, limit: Duration) -> Outcome {
    let (tx, rx) = std::sync::mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let r = match LocalFile::open(&path) {
            Ok(reader) => rt.block_on(async {
                tokio::time::timeout(limit, walk(Arc::new(reader), WalkOptions::default())).await
            }),
            Err(e) => Ok(Err(WalkError::io(&path.display().to_string(), e))),
        };
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit + Duration::from_secs(5)) {
        Ok(Ok(Ok(f))) => Outcome::Walked(Box::new(f)),
        Ok(Ok(Err(e))) => Outcome::Refused(e),
        Ok(Err(_)) | Err(_) => Outcome::TimedOut,
    }
}

/// Flattened, comparable leaves of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    /// Any number.
    Num(f64),
    /// Text, bytes (lossy) or a resolved reference (`ref:<path>`).
    Text(String),
    /// A boolean.
    Bool(bool),
    /// Null.
    Null,
}

fn num(f: f64) -> Leaf {
    Leaf::Num(f)
}

/// Leaves of an h5py-encoded value.
pub fn expected_leaves(v: &Json, out: &mut Vec<Leaf>) {
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

/// Leaves of one of our values (references resolved to paths through `file`).
pub fn our_leaves(file: &Hdf5File, v: &Value, out: &mut Vec<Leaf>) {
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

/// Equal leaves (numbers within 1e-12 relative, NaN = NaN, booleans = 0/1).
pub fn same_leaves(a: &[Leaf], b: &[Leaf]) -> bool {
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

fn short(v: &[Leaf]) -> Vec<Leaf> {
    v.iter().take(6).cloned().collect()
}

/// h5py's class name for a datatype (variable-length strings are `H5T_STRING`).
pub fn class_name(t: &Datatype) -> &'static str {
    match t {
        Datatype::FixedPoint(_) => "H5T_INTEGER",
        Datatype::FloatingPoint(_) => "H5T_FLOAT",
        Datatype::Time(_) => "H5T_TIME",
        Datatype::String(_) => "H5T_STRING",
        Datatype::Bitfield(_) => "H5T_BITFIELD",
        Datatype::Opaque(_) => "H5T_OPAQUE",
        Datatype::Compound(_) => "H5T_COMPOUND",
        Datatype::Reference(_) => "H5T_REFERENCE",
        Datatype::Enum(_) => "H5T_ENUM",
        Datatype::VarLen(v) if matches!(v.kind, VarLenKind::String { .. }) => "H5T_STRING",
        Datatype::VarLen(_) => "H5T_VLEN",
        Datatype::Array(_) => "H5T_ARRAY",
        Datatype::Complex(_) => "H5T_COMPLEX",
    }
}

/// True when an h5py type description contains variable-length data or references (whose
/// sizes h5py reports for the in-memory type, not as stored).
fn has_memory_sized_parts(t: &Json) -> bool {
    if !t.is_object() {
        return false;
    }
    let class = t["class"].as_str().unwrap_or("");
    class == "H5T_VLEN"
        || class == "H5T_REFERENCE"
        || t["vlen"] == Json::Bool(true)
        || has_memory_sized_parts(&t["base"])
        || t["members"]
            .as_array()
            .is_some_and(|ms| ms.iter().any(|m| has_memory_sized_parts(&m["type"])))
}

/// Compare a datatype with h5py's description: class, size (when stored as reported), byte
/// order, sign, string padding and character set, opaque tag, reference kind, enumeration
/// members, array dims, compound members and base types, recursively.
fn check_type(what: &str, ours: &Datatype, exp: &Json, p: &mut impl FnMut(String)) {
    if let Some(diff) = type_difference(ours, exp) {
        p(format!("{what}: datatype {diff}"));
    }
}

fn order_name(o: ByteOrder) -> &'static str {
    match o {
        ByteOrder::LittleEndian => "le",
        ByteOrder::BigEndian => "be",
    }
}

fn padding_name(pad: StringPadding) -> &'static str {
    match pad {
        StringPadding::NullTerminate => "nullterm",
        StringPadding::NullPad => "nullpad",
        StringPadding::SpacePad => "spacepad",
    }
}

fn charset_name(c: CharSet) -> &'static str {
    match c {
        CharSet::Ascii => "ascii",
        CharSet::Utf8 => "utf8",
    }
}

/// The first difference between our datatype and h5py's (`None` when they agree). Keys h5py
/// left out (compact attribute descriptions drop null/false ones) are not compared, except
/// `signed`, whose absence means unsigned.
fn type_difference(ours: &Datatype, exp: &Json) -> Option<String> {
    let class = exp["class"].as_str()?;
    if class_name(ours) != class {
        return Some(format!("class {} != h5py {class}", class_name(ours)));
    }
    if !has_memory_sized_parts(exp) && exp["size"].as_u64().is_some_and(|s| s != ours.size()) {
        return Some(format!("size {} != h5py {}", ours.size(), exp["size"]));
    }
    let mismatch =
        |what: &str, a: &dyn std::fmt::Debug, b: &Json| Some(format!("{what} {a:?} != h5py {b}"));
    let order = match ours {
        Datatype::FixedPoint(t) => Some(t.order),
        Datatype::FloatingPoint(t) => Some(t.order),
        Datatype::Bitfield(t) => Some(t.order),
        _ => None,
    };
    if let (Some(o), Some(e)) = (order, exp["order"].as_str()) {
        if order_name(o) != e {
            return mismatch("order", &order_name(o), &exp["order"]);
        }
    }
    match ours {
        Datatype::FixedPoint(t) => {
            let signed = exp["signed"].as_bool().unwrap_or(false);
            if t.signed != signed {
                return mismatch("signed", &t.signed, &exp["signed"]);
            }
        }
        Datatype::String(t) => {
            if exp["strpad"]
                .as_str()
                .is_some_and(|e| e != padding_name(t.padding))
            {
                return mismatch("padding", &t.padding, &exp["strpad"]);
            }
            if exp["cset"]
                .as_str()
                .is_some_and(|e| e != charset_name(t.charset))
            {
                return mismatch("charset", &t.charset, &exp["cset"]);
            }
        }
        Datatype::VarLen(v) => match v.kind {
            VarLenKind::String { padding, charset } => {
                if exp["strpad"]
                    .as_str()
                    .is_some_and(|e| e != padding_name(padding))
                {
                    return mismatch("padding", &padding, &exp["strpad"]);
                }
                if exp["cset"]
                    .as_str()
                    .is_some_and(|e| e != charset_name(charset))
                {
                    return mismatch("charset", &charset, &exp["cset"]);
                }
            }
            VarLenKind::Sequence => {
                return type_difference(&v.base, &exp["base"]).map(|d| format!("vlen base: {d}"))
            }
        },
        Datatype::Opaque(t) => {
            if exp["tag"].as_str().is_some_and(|e| e != t.tag) {
                return mismatch("tag", &t.tag, &exp["tag"]);
            }
        }
        Datatype::Reference(t) => {
            let kind = match t.kind {
                ReferenceKind::Object => "object",
                ReferenceKind::DatasetRegion => "region",
                _ => "other",
            };
            if exp["reftype"].as_str().is_some_and(|e| e != kind) {
                return mismatch("reference kind", &t.kind, &exp["reftype"]);
            }
        }
        Datatype::Enum(t) => {
            if let Some(members) = exp["enum"].as_object() {
                let ours: Vec<(String, Option<f64>)> = t
                    .members
                    .iter()
                    .map(|m| {
                        let v = value::decode_value(&t.base, &m.value)
                            .ok()
                            .and_then(|v| match v {
                                Value::Int(i) => Some(i as f64),
                                Value::UInt(u) => Some(u as f64),
                                _ => None,
                            });
                        (m.name.clone(), v)
                    })
                    .collect();
                let same = ours.len() == members.len()
                    && ours
                        .iter()
                        .all(|(n, v)| members.get(n).and_then(Json::as_f64) == *v);
                if !same {
                    return mismatch("enum members", &ours, &exp["enum"]);
                }
            }
            return type_difference(&t.base, &exp["base"]).map(|d| format!("enum base: {d}"));
        }
        Datatype::Array(t) => {
            if let Some(dims) = exp["dims"].as_array() {
                let e: Vec<u64> = dims.iter().filter_map(Json::as_u64).collect();
                if t.dims.iter().map(|&d| u64::from(d)).collect::<Vec<_>>() != e {
                    return mismatch("array dims", &t.dims, &exp["dims"]);
                }
            }
            return type_difference(&t.base, &exp["base"]).map(|d| format!("array base: {d}"));
        }
        Datatype::Complex(t) => {
            return type_difference(&t.base, &exp["base"]).map(|d| format!("complex base: {d}"))
        }
        Datatype::Compound(t) => {
            let Some(members) = exp["members"].as_array() else {
                return None;
            };
            if members.len() != t.members.len() {
                return Some(format!(
                    "{} members != h5py {}",
                    t.members.len(),
                    members.len()
                ));
            }
            // Offsets after a variable-length or reference member are h5py's in-memory ones.
            let offsets_as_stored = !has_memory_sized_parts(exp);
            for (m, e) in t.members.iter().zip(members) {
                let offset_differs =
                    offsets_as_stored && e["offset"].as_u64() != Some(u64::from(m.offset));
                if e["name"].as_str() != Some(m.name.as_str()) || offset_differs {
                    return Some(format!(
                        "member {:?}@{} != h5py {}@{}",
                        m.name, m.offset, e["name"], e["offset"]
                    ));
                }
                if let Some(d) = type_difference(&m.datatype, &e["type"]) {
                    return Some(format!("member {:?}: {d}", m.name));
                }
            }
        }
        _ => {}
    }
    None
}

fn field_failed(o: &Json, field: &str) -> bool {
    o["h5py_field_errors"].get(field).is_some()
}

/// Compare `file` with h5py's `expected` document; returns the differences found.
pub fn compare(file: &Hdf5File, expected: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    let mut p = |s: String| problems.push(s);
    let Some(objects) = expected["objects"].as_array() else {
        return problems;
    };
    for o in objects {
        let path = o["path"].as_str().unwrap_or("");
        let kind = o["kind"].as_str().unwrap_or("");
        if let Some(first) = o["hardlink_of"].as_str() {
            let ok = file.aliases.iter().any(|(a, f)| a == path && f == first)
                || file.aliases.iter().any(|(a, f)| a == first && f == path);
            if !ok && file.get(path).is_none() {
                p(format!("{path}: hard link to {first} not found"));
            }
            continue;
        }
        match kind {
            "softlink" => {
                let t = o["target"].as_str().unwrap_or("");
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
                let (f, t) = (
                    o["file"].as_str().unwrap_or(""),
                    o["target"].as_str().unwrap_or(""),
                );
                let want = LinkInfo::External {
                    file: f.into(),
                    path: t.into(),
                };
                if !file
                    .other_links
                    .iter()
                    .any(|(l, i)| l == path && *i == want)
                {
                    p(format!("{path}: external link to {f}:{t} missing"));
                }
                continue;
            }
            "group" | "dataset" | "datatype" => {}
            _ => continue, // h5py could not open it
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
        if let Some(a) = o["header_addr"].as_u64() {
            if a != obj.address {
                p(format!(
                    "{path}: header address {} != h5py {a}",
                    obj.address
                ));
            }
        }
        if let Some(attrs) = o["attrs"].as_object() {
            check_attributes(file, path, obj, attrs, &mut p);
        }
        match (&obj.kind, kind) {
            (ObjectKind::Group { .. }, "group") => {}
            (ObjectKind::Datatype(t), "datatype") => check_type(path, t, &o["h5type"], &mut p),
            (ObjectKind::Dataset(d), "dataset") => check_dataset(file, path, o, d, &mut p),
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
    // Nothing beyond what h5py lists (unless h5py could not list some group's links).
    let listing_complete = objects.iter().all(|o| !field_failed(o, "links"));
    if listing_complete {
        let known: std::collections::HashSet<&str> =
            objects.iter().filter_map(|o| o["path"].as_str()).collect();
        let ours = file
            .objects
            .iter()
            .map(|o| o.path.as_str())
            .chain(file.aliases.iter().map(|(a, _)| a.as_str()))
            .chain(file.other_links.iter().map(|(l, _)| l.as_str()));
        for path in ours {
            if !known.contains(path) {
                p(format!("{path}: not listed by h5py"));
            }
        }
    }
    problems
}

fn check_attributes(
    file: &Hdf5File,
    path: &str,
    obj: &hdf5_meta::model::Object,
    attrs: &serde_json::Map<String, Json>,
    p: &mut impl FnMut(String),
) {
    for (an, av) in attrs {
        let Some(ours) = obj.attributes.iter().find(|a| &a.name == an) else {
            p(format!("{path}: attribute {an} missing"));
            continue;
        };
        check_type(&format!("{path}@{an}"), &ours.datatype, &av["h5type"], p);
        if av.get("h5py_error").is_some()
            || av.get("note").is_some()
            || av.get("value_skipped").is_some()
        {
            continue;
        }
        if av["shape"].is_null() {
            if ours.shape.is_some() {
                p(format!("{path}@{an}: expected an empty attribute"));
            }
            continue;
        }
        let (mut e, mut g) = (Vec::new(), Vec::new());
        expected_leaves(&av["value"], &mut e);
        our_leaves(file, &ours.value, &mut g);
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

fn check_dataset(file: &Hdf5File, path: &str, o: &Json, d: &Dataset, p: &mut impl FnMut(String)) {
    if o.get("h5py_error").is_some() {
        return; // h5py could not describe it at all
    }
    if !field_failed(o, "h5type") {
        check_type(path, &d.datatype, &o["h5type"], p);
    }
    // HDF5 recomputes the extent of a virtual dataset with unlimited dimensions from the source
    // files it finds when opening it; the model keeps the extent stored in the file.
    let vds_unlimited = o["layout"] == "virtual"
        && o["maxshape"]
            .as_array()
            .is_some_and(|m| m.iter().any(Json::is_null));
    if !field_failed(o, "shape") && !vds_unlimited {
        let shape: Option<Vec<u64>> = serde_json::from_value(o["shape"].clone()).ok();
        if o["shape"].is_null() != d.shape.is_none() || (shape.is_some() && shape != d.shape) {
            p(format!("{path}: shape {:?} != {}", d.shape, o["shape"]));
        }
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
        if o["dtype_descr"].is_null() && !field_failed(o, "dtype_descr") && dt != "|O" {
            let ours = d.datatype.numpy_typestr();
            // h5py converts floats of other layouts (long double, bfloat16, n-bit) to the
            // nearest numpy float; their bytes are not that type, so the model gives none.
            if ours.is_none() && non_ieee_float(&d.datatype) {
                return check_rest(file, path, o, d, p);
            }
            if ours.as_deref() != Some(dt) {
                p(format!("{path}: dtype {ours:?} != {dt}"));
            }
        }
    }
    check_rest(file, path, o, d, p)
}

/// Floating-point data (or complex over it) whose bit layout is not an IEEE binary16/32/64.
fn non_ieee_float(t: &Datatype) -> bool {
    match t {
        Datatype::FloatingPoint(f) => f.ieee_bits().is_none(),
        Datatype::Complex(c) => non_ieee_float(&c.base),
        _ => false,
    }
}

/// Filters, fill value and storage.
fn check_rest(file: &Hdf5File, path: &str, o: &Json, d: &Dataset, p: &mut impl FnMut(String)) {
    if !field_failed(o, "filters") {
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
    }
    check_fill(file, path, o, d, p);
    if !field_failed(o, "layout")
        && !field_failed(o, "chunk_list")
        && !field_failed(o, "contiguous")
    {
        check_storage(path, o, &d.storage, p);
    }
}

/// The fill value: defined state, and the value itself for user-defined fills of types
/// without variable-length parts.
fn check_fill(file: &Hdf5File, path: &str, o: &Json, d: &Dataset, p: &mut impl FnMut(String)) {
    let Some(defined) = o["fillvalue_defined"].as_str() else {
        return;
    };
    let ours = match &d.fill_value.state {
        FillState::Default => "default",
        FillState::Undefined => "undefined",
        FillState::User(_) => "user",
    };
    if ours != defined {
        p(format!("{path}: fill value {ours} != h5py {defined}"));
        return;
    }
    let FillState::User(bytes) = &d.fill_value.state else {
        return;
    };
    if o["fillvalue"].is_null()
        || has_memory_sized_parts(&o["h5type"])
        || field_failed(o, "fillvalue")
    {
        return;
    }
    match value::decode_value(&d.datatype, bytes) {
        Ok(v) => {
            let (mut e, mut g) = (Vec::new(), Vec::new());
            expected_leaves(&o["fillvalue"], &mut e);
            our_leaves(file, &v, &mut g);
            if !same_leaves(&e, &g) {
                p(format!(
                    "{path}: fill value {:?} != h5py {:?}",
                    short(&g),
                    short(&e)
                ));
            }
        }
        Err(e) => p(format!("{path}: fill value undecodable: {e}")),
    }
}

fn check_storage(path: &str, o: &Json, s: &Storage, p: &mut impl FnMut(String)) {
    let layout = o["layout"].as_str().unwrap_or("");
    match (s, layout) {
        (Storage::Compact(_), "compact") | (Storage::Virtual, "virtual") => {}
        (Storage::External(slots), "contiguous") if !o["external"].is_null() => {
            let exp: Vec<(String, u64, u64)> =
                serde_json::from_value(o["external"].clone()).unwrap_or_default();
            if *slots != exp {
                p(format!("{path}: external {slots:?} != {exp:?}"));
            }
        }
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
                .into_iter()
                .flatten()
                .map(|c| {
                    let off: Vec<u64> =
                        serde_json::from_value(c["offset"].clone()).unwrap_or_default();
                    let grid = off
                        .iter()
                        .zip(&exp_shape)
                        .map(|(a, b)| a / b.max(&1))
                        .collect();
                    (
                        grid,
                        c["byte_offset"].as_u64().unwrap_or(0),
                        c["size"].as_u64().unwrap_or(0),
                        c["mask"].as_u64().unwrap_or(0) as u32,
                    )
                })
                .collect();
            exp.sort();
            let mut ours: Vec<_> = chunks
                .iter()
                .map(|c| (c.grid.clone(), c.offset, c.size, c.filter_mask))
                .collect();
            ours.sort();
            if o["chunk_list_truncated"] == Json::Bool(true) {
                // Only the first entries were recorded: all must be ours, and the count must agree.
                let count = o["chunk_count"].as_u64().unwrap_or(0);
                let missing = exp.iter().find(|e| ours.binary_search(e).is_err());
                if ours.len() as u64 != count || missing.is_some() {
                    p(format!(
                        "{path}: {} chunks vs h5py {count}; h5py chunk not ours: {missing:?}",
                        ours.len()
                    ));
                }
            } else if ours != exp {
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
