//! Pass 1: read one input's metadata and evaluate its coordinate selectors, keeping only a
//! compact summary (array signatures are interned across inputs).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::cftime::CfUnits;
use crate::coord::{NpType, Scalar};
use crate::decode::read_array;
use crate::error::{CombineError, Result};
use crate::fetch::{ByteFetcher, ByteRequest};
use crate::input::{Input, RefView};
use crate::meta::{array_dims, parse_attrs, ArrayMeta};
use crate::options::CombineOptions;
use crate::reference::{Reference, UrlInterner};
use crate::selector::Selector;

/// Splits a key into (parent path, leaf); root keys have parent `""`.
pub(crate) fn split_key(key: &str) -> (&str, &str) {
    key.rsplit_once('/').unwrap_or(("", key))
}

/// What must agree between inputs for the same variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Sig {
    pub shape: Vec<u64>,
    pub chunks: Vec<u64>,
    pub dims: Vec<String>,
    pub dtype: String,
    pub fill: String,
    pub codecs: String,
    pub layout: String,
}

/// Interners shared by all inputs (paths and signatures), safe to use from several threads.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    inner: Mutex<SharedInner>,
}

#[derive(Debug, Default)]
struct SharedInner {
    paths: HashMap<String, u32>,
    path_names: Vec<Arc<str>>,
    sigs: HashMap<Arc<Sig>, u32>,
    sig_list: Vec<Arc<Sig>>,
}

impl Shared {
    pub fn path_id(&self, p: &str) -> u32 {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = g.paths.get(p) {
            return id;
        }
        let id = g.path_names.len() as u32;
        g.path_names.push(Arc::from(p));
        g.paths.insert(p.to_string(), id);
        id
    }

    pub fn sig_id(&self, s: Sig) -> u32 {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = g.sigs.get(&s) {
            return id;
        }
        let id = g.sig_list.len() as u32;
        let a = Arc::new(s);
        g.sig_list.push(Arc::clone(&a));
        g.sigs.insert(a, id);
        id
    }

    /// Snapshot of the path names and signatures.
    pub fn tables(&self) -> (Vec<Arc<str>>, Vec<Arc<Sig>>) {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (g.path_names.clone(), g.sig_list.clone())
    }
}

/// Attributes and fill value of the array named like a concat dim, from one input.
#[derive(Debug, Clone)]
pub(crate) struct CoordSource {
    pub attrs: Map<String, Value>,
    pub fill: Value,
}

/// Pass-1 summary of one input.
#[derive(Debug)]
pub(crate) struct Summary {
    pub index: usize,
    pub name: String,
    /// Per concat dim: sorted distinct values.
    pub values: Vec<Vec<Scalar>>,
    /// Array path id → signature id.
    pub arrays: HashMap<u32, u32>,
    /// Groups with `.zgroup` (not the root).
    pub groups: HashSet<u32>,
    /// Groups with `.zattrs`.
    pub group_attrs: HashSet<u32>,
    pub coord_src: Vec<Option<CoordSource>>,
    pub cf_units: Vec<Option<(String, String)>>,
    /// `_ARRAY_DIMENSIONS` of root-level arrays.
    pub root_deps: HashSet<String>,
    pub warnings: Vec<String>,
}

struct Collected {
    zarrays: HashMap<String, Vec<u8>>,
    zattrs: HashMap<String, Vec<u8>>,
    groups: HashSet<String>,
    chunk_parents: HashSet<String>,
    selector_chunks: HashMap<String, HashMap<String, Reference>>,
}

fn meta_bytes(input: &str, key: &str, v: &RefView<'_>) -> Result<Vec<u8>> {
    match v {
        RefView::Inline(b) => Ok(b.to_vec()),
        _ => Err(CombineError::InvalidRef {
            input: input.to_string(),
            key: key.to_string(),
            reason: "metadata must be inline JSON, not a file reference".into(),
        }),
    }
}

fn collect(input: &Input, opts: &CombineOptions, needed: &[&str]) -> Result<Collected> {
    let name = input.name().to_string();
    let mut c = Collected {
        zarrays: HashMap::new(),
        zattrs: HashMap::new(),
        groups: HashSet::new(),
        chunk_parents: HashSet::new(),
        selector_chunks: HashMap::new(),
    };
    let mut last_parent = String::new();
    let filter = opts.filter.matcher();
    let mut urls = UrlInterner::new();
    // Only metadata and the chunks selectors read are decoded; other values are skipped
    // (null URLs in them are caught in pass 2).
    let wanted = |key: &str| {
        let (parent, leaf) = split_key(key);
        (leaf.starts_with(".z") || needed.contains(&parent)) && filter.accepts(key)
    };
    input.visit_selected(&wanted, &mut |key, v| {
        let Some(v) = v else {
            // A chunk whose value was skipped: only its array path matters.
            let (parent, leaf) = split_key(key);
            if !leaf.starts_with(".z") && parent != last_parent && filter.accepts(key) {
                last_parent.clear();
                last_parent.push_str(parent);
                c.chunk_parents.insert(parent.to_string());
            }
            return Ok(());
        };
        let (parent, leaf) = split_key(key);
        match leaf {
            ".zarray" => {
                c.zarrays
                    .insert(parent.to_string(), meta_bytes(&name, key, &v)?);
            }
            ".zattrs" => {
                c.zattrs
                    .insert(parent.to_string(), meta_bytes(&name, key, &v)?);
            }
            ".zgroup" => {
                c.groups.insert(parent.to_string());
            }
            l if l.starts_with(".z") => {}
            _ => {
                if let RefView::Whole { url: None } | RefView::Range { url: None, .. } = v {
                    return Err(null_url(&name, key));
                }
                c.chunk_parents.insert(parent.to_string());
                c.selector_chunks
                    .entry(parent.to_string())
                    .or_default()
                    .insert(leaf.to_string(), v.to_reference(&mut |s| urls.intern(s)));
            }
        }
        Ok(())
    })?;
    Ok(c)
}

/// The error for a reference with a null URL.
pub(crate) fn null_url(input: &str, key: &str) -> CombineError {
    CombineError::InvalidRef {
        input: input.to_string(),
        key: key.to_string(),
        reason: "reference with a null URL (the reader's default target) cannot be combined with other inputs".into(),
    }
}

fn selector_error(dim: &str, input: &str, reason: impl Into<String>) -> CombineError {
    CombineError::Selector {
        dim: dim.to_string(),
        input: input.to_string(),
        reason: reason.into(),
    }
}

/// Reads the values of array `var` (for `data:`/`cf:`), fetching non-inline chunks.
fn array_values(
    name: &str,
    dim: &str,
    var: &str,
    c: &Collected,
    fetcher: Option<&dyn ByteFetcher>,
) -> Result<(ArrayMeta, Vec<Scalar>)> {
    let text = c
        .zarrays
        .get(var)
        .ok_or_else(|| selector_error(dim, name, format!("no array {var:?} in this input")))?;
    let (meta, _) = ArrayMeta::parse(text)
        .map_err(|e| selector_error(dim, name, format!("{var}/.zarray: {e}")))?;
    let empty = HashMap::new();
    let refs = c.selector_chunks.get(var).unwrap_or(&empty);
    let mut bytes: HashMap<String, Vec<u8>> = HashMap::new();
    let mut remote: Vec<(&String, ByteRequest<'_>)> = Vec::new();
    for (suffix, r) in refs {
        match r {
            Reference::Inline(b) => {
                bytes.insert(suffix.clone(), b.to_vec());
            }
            Reference::Whole { url } => remote.push((
                suffix,
                ByteRequest {
                    url: url.as_deref().unwrap_or(""),
                    range: None,
                },
            )),
            Reference::Range {
                url,
                offset,
                length,
            } => remote.push((
                suffix,
                ByteRequest {
                    url: url.as_deref().unwrap_or(""),
                    range: Some((*offset, *length)),
                },
            )),
        }
    }
    if !remote.is_empty() {
        let f = fetcher.ok_or_else(|| {
            selector_error(
                dim,
                name,
                format!("array {var:?} has chunks in files; reading them needs a byte fetcher"),
            )
        })?;
        let reqs: Vec<ByteRequest<'_>> = remote.iter().map(|(_, r)| *r).collect();
        let got = f.fetch(&reqs);
        for ((suffix, req), res) in remote.iter().zip(got) {
            let data = res.map_err(|source| CombineError::Fetch {
                input: name.to_string(),
                key: format!("{var}/{suffix}"),
                url: req.url.to_string(),
                source,
            })?;
            bytes.insert((*suffix).clone(), data);
        }
    }
    let values =
        read_array(&meta, &bytes).map_err(|e| selector_error(dim, name, format!("{var}: {e}")))?;
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(v.ok_or_else(|| {
            selector_error(dim, name, format!("{var} has a missing (null) value"))
        })?);
    }
    Ok((meta, out))
}

fn attrs_of(c: &Collected, path: &str) -> std::result::Result<Option<Map<String, Value>>, String> {
    c.zattrs.get(path).map(|t| parse_attrs(t)).transpose()
}

/// Pass 1 for one input.
pub(crate) fn scan(
    index: usize,
    input: &Input,
    opts: &CombineOptions,
    fetcher: Option<&dyn ByteFetcher>,
    shared: &Shared,
) -> Result<Summary> {
    let name = input.name().to_string();
    let selectors: Vec<Selector> = opts.concat_dims.iter().map(|d| opts.selector(d)).collect();
    let needed: Vec<&str> = selectors.iter().filter_map(Selector::data_var).collect();
    let c = collect(input, opts, &needed)?;
    let meta_err = |key: String, reason: String| CombineError::InvalidRef {
        input: name.clone(),
        key,
        reason,
    };

    let mut s = Summary {
        index,
        name: name.clone(),
        values: Vec::new(),
        arrays: HashMap::new(),
        groups: HashSet::new(),
        group_attrs: HashSet::new(),
        coord_src: Vec::new(),
        cf_units: Vec::new(),
        root_deps: HashSet::new(),
        warnings: Vec::new(),
    };
    for g in &c.groups {
        if !g.is_empty() {
            let id = shared.path_id(g);
            s.groups.insert(id);
            if c.zattrs.contains_key(g) {
                s.group_attrs.insert(id);
            }
        }
    }
    for (path, text) in &c.zarrays {
        let (meta, _) =
            ArrayMeta::parse(text).map_err(|e| meta_err(format!("{path}/.zarray"), e))?;
        let attrs = attrs_of(&c, path).map_err(|e| meta_err(format!("{path}/.zattrs"), e))?;
        let dims = array_dims(attrs.as_ref(), meta.shape.len())
            .map_err(|e| meta_err(format!("{path}/.zattrs"), e))?;
        if !path.contains('/') {
            s.root_deps.extend(dims.iter().cloned());
        }
        let sig = Sig {
            shape: meta.shape.clone(),
            chunks: meta.chunks.clone(),
            dims,
            dtype: meta.dtype.to_string(),
            fill: meta.fill_value.to_string(),
            codecs: format!(
                "filters={} compressor={}",
                Value::Array(meta.filters.clone()),
                meta.compressor.clone().unwrap_or(Value::Null)
            ),
            layout: format!(
                "order={} dimension_separator={}",
                if meta.order_f { "F" } else { "C" },
                if meta.slash_separator { "/" } else { "." }
            ),
        };
        let id = shared.path_id(path);
        s.arrays.insert(id, shared.sig_id(sig));
    }
    for p in &c.chunk_parents {
        if !c.zarrays.contains_key(p) {
            s.warnings.push(format!(
                "input {name}: keys under {p:?} belong to no array (no .zarray); they are left out"
            ));
        }
    }

    for (dim, sel) in opts.concat_dims.iter().zip(&selectors) {
        let dtype = opts.coord_dtypes.get(dim).copied();
        let mut cf = None;
        let mut vals: Vec<Scalar> = match sel {
            Selector::Data(var) => array_values(&name, dim, var, &c, fetcher)?.1,
            Selector::Cf(var) => {
                let (_, raw) = array_values(&name, dim, var, &c, fetcher)?;
                let attrs = attrs_of(&c, var)
                    .map_err(|e| selector_error(dim, &name, e))?
                    .unwrap_or_default();
                let units = attrs
                    .get("units")
                    .and_then(Value::as_str)
                    .ok_or_else(|| selector_error(dim, &name, format!("{var} has no units")))?
                    .to_string();
                let calendar = attrs
                    .get("calendar")
                    .and_then(Value::as_str)
                    .unwrap_or("standard")
                    .to_string();
                let u =
                    CfUnits::parse(&units, &calendar).map_err(|e| selector_error(dim, &name, e))?;
                let mut out = Vec::with_capacity(raw.len());
                for v in raw {
                    let us = match v {
                        Scalar::Int(i, _) => u.decode_int(i128::from(i)),
                        Scalar::UInt(i, _) => u.decode_int(i128::from(i)),
                        Scalar::Float(f, _) => u.decode(f),
                        other => {
                            return Err(selector_error(
                                dim,
                                &name,
                                format!("{var}: {} values are not CF times", other.kind()),
                            ))
                        }
                    }
                    .ok_or_else(|| {
                        selector_error(dim, &name, format!("{var}: time value out of range"))
                    })?;
                    out.push(Scalar::Cf(u.calendar, us));
                }
                cf = Some((units, calendar));
                out
            }
            Selector::Attr(a) => {
                let attrs = attrs_of(&c, "")
                    .map_err(|e| selector_error(dim, &name, e))?
                    .unwrap_or_default();
                let v = attrs.get(a).ok_or_else(|| {
                    selector_error(dim, &name, format!("no root attribute {a:?}"))
                })?;
                Scalar::from_json(v).map_err(|e| selector_error(dim, &name, e))?
            }
            Selector::VarAttr { var, attr } => {
                let attrs = attrs_of(&c, var)
                    .map_err(|e| selector_error(dim, &name, e))?
                    .ok_or_else(|| {
                        selector_error(dim, &name, format!("no attributes for {var:?}"))
                    })?;
                let v = attrs.get(attr).ok_or_else(|| {
                    selector_error(dim, &name, format!("{var:?} has no attribute {attr:?}"))
                })?;
                Scalar::from_json(v).map_err(|e| selector_error(dim, &name, e))?
            }
            Selector::Regex(re) => {
                let caps = re.captures(&name).ok_or_else(|| {
                    selector_error(
                        dim,
                        &name,
                        format!("pattern {:?} does not match the name", re.as_str()),
                    )
                })?;
                let m = caps
                    .get(1)
                    .or_else(|| caps.get(0))
                    .map_or("", |m| m.as_str());
                vec![Scalar::Str(m.to_string())]
            }
            Selector::List(items) => {
                let v = items.get(index).ok_or_else(|| {
                    selector_error(
                        dim,
                        &name,
                        format!(
                            "the list has {} values, no value for input {index}",
                            items.len()
                        ),
                    )
                })?;
                Scalar::from_json(v).map_err(|e| selector_error(dim, &name, e))?
            }
            Selector::Index => vec![Scalar::Int(index as i64, 8)],
            Selector::Constant(v) => {
                Scalar::from_json(v).map_err(|e| selector_error(dim, &name, e))?
            }
        };
        if let Some(t) = dtype {
            vals = vals
                .iter()
                .map(|v| v.cast(t))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| selector_error(dim, &name, e))?;
        }
        if cf.is_some() && !matches!(dtype, Some(NpType::Time(_)) | None) {
            return Err(selector_error(
                dim,
                &name,
                "a cf: coordinate can only be cast to a datetime64 dtype",
            ));
        }
        if vals.is_empty() {
            return Err(selector_error(dim, &name, "no coordinate values"));
        }
        if let Some(bad) = vals
            .iter()
            .find(|v| matches!(v, Scalar::Float(f, _) if f.is_nan()))
        {
            return Err(selector_error(
                dim,
                &name,
                format!("coordinate value {bad} is not comparable"),
            ));
        }
        let first = vals.first().cloned();
        if let Some(f) = &first {
            if let Some(bad) = vals.iter().find(|v| v.compare(f).is_none()) {
                return Err(selector_error(
                    dim,
                    &name,
                    format!("values {f} and {bad} cannot be compared"),
                ));
            }
        }
        vals.sort_by(|a, b| a.compare(b).unwrap_or(std::cmp::Ordering::Equal));
        vals.dedup_by(|a, b| a.compare(b) == Some(std::cmp::Ordering::Equal));
        s.values.push(vals);
        s.cf_units.push(cf);
        let src = match c.zarrays.get(dim.as_str()) {
            Some(text) => {
                let (meta, _) =
                    ArrayMeta::parse(text).map_err(|e| meta_err(format!("{dim}/.zarray"), e))?;
                let attrs = attrs_of(&c, dim)
                    .map_err(|e| meta_err(format!("{dim}/.zattrs"), e))?
                    .unwrap_or_default();
                Some(CoordSource {
                    attrs,
                    fill: meta.fill_value,
                })
            }
            None => None,
        };
        s.coord_src.push(src);
    }
    Ok(s)
}
