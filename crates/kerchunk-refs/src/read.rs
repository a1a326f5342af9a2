//! Streaming reader of kerchunk reference JSON (versions 0 and 1, optionally gzipped).
//!
//! # What is read
//! * **Version**: a document whose *first* key is `version`, `refs`, `templates` or `gen` is
//!   version 1 (and must then contain `"version": 1`); any other document is version 0, a
//!   flat `{key: value}` map. (fsspec decides by the presence of `version` anywhere; deciding on
//!   the first key is what makes streaming possible, and only differs for pathological
//!   documents.) Unknown top-level keys of version 1 are ignored, as fsspec does.
//! * **Values**: a string is inline data (UTF-8 bytes of the string), `"base64:…"` is the
//!   base64-decoded rest (padding optional), a JSON object is its compact JSON text
//!   (semantically, not byte-for-byte, equal to fsspec's `json.dumps`), `[url]` is a whole
//!   file, `[url, offset, length]` a byte range; `url` may be `null`.
//! * **templates**: `{{name}}` in reference URLs is replaced by the template's value when the
//!   document has a non-empty `templates` (as fsspec does). If `templates` comes after `refs`,
//!   only the references whose URL contains `{{` are buffered until the end; they are then
//!   delivered after the others (key order carries no meaning in reference sets).
//! * **gen**: each entry's cartesian product of `dimensions` (a `{start?, stop, step?}` range
//!   or an explicit list) is expanded after all `refs`, so generated keys override equal
//!   `refs` keys as in fsspec. Only plain `{{name}}` substitution is implemented (see
//!   [`crate::template`]); jinja expressions give [`RefsError::UnsupportedTemplate`].
//! * **gzip**: detected from the magic bytes `1f 8b`, whatever the file name.
//!
//! The whole document is never materialised: each reference is handed to a callback as soon
//! as it is parsed.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufReader, Read};
use std::sync::Arc;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use bytes::Bytes;
use indexmap::IndexMap;
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value;

use crate::error::{RefsError, Result};
use crate::reference::{RefValue, Url, UrlInterner};
use crate::reference_set::ReferenceSet;
use crate::template::{has_placeholder, render};

/// Standard-alphabet base64 that accepts both padded and unpadded input.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `bytes` starts with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// What the reader learned about a document besides its references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// Reference spec version: 0 or 1.
    pub version: u32,
    /// The document's `templates`, in document order (already applied to the URLs).
    pub templates: Vec<(String, String)>,
    /// References delivered to the callback (including generated ones).
    pub refs: u64,
    /// Of which produced by `gen`.
    pub generated: u64,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
}

/// Reads a reference document from `r` (plain or gzip JSON), calling `f(key, value)` for every
/// reference without materialising the document. A key that occurs twice is delivered twice;
/// the later one wins in fsspec.
pub fn stream_refs<R: Read>(r: R, f: impl FnMut(&str, RefValue) -> Result<()>) -> Result<Meta> {
    stream_refs_with(r, &mut UrlInterner::new(), f)
}

/// [`stream_refs`] with a caller-supplied [`UrlInterner`], so URLs are shared across documents.
pub fn stream_refs_with<R: Read>(
    mut r: R,
    interner: &mut UrlInterner,
    f: impl FnMut(&str, RefValue) -> Result<()>,
) -> Result<Meta> {
    // Peek at the first two bytes (robust to readers returning one byte at a time).
    let mut head = [0u8; 2];
    let mut n = 0;
    while n < head.len() {
        let buf = head.get_mut(n..).unwrap_or_default();
        match r.read(buf) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let head = head.get(..n).unwrap_or_default();
    let gzip = is_gzip(head);
    let input = BufReader::with_capacity(1 << 16, io::Cursor::new(head.to_vec()).chain(r));
    let mut core = Core::new(interner, f);
    if gzip {
        let decoder = flate2::bufread::MultiGzDecoder::new(input);
        let de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, decoder));
        drive(de, &mut core)?;
    } else {
        drive(serde_json::Deserializer::from_reader(input), &mut core)?;
    }
    core.finish(gzip)
}

/// Reads a whole reference document (plain or gzip JSON) into a [`ReferenceSet`]. Later
/// duplicates replace earlier values.
pub fn read_reference_set(bytes: &[u8]) -> Result<ReferenceSet> {
    let mut set = ReferenceSet::new();
    let mut insert = |k: &str, v: RefValue| {
        set.insert(k, v);
        Ok(())
    };
    if is_gzip(bytes) {
        stream_refs(bytes, insert)?;
    } else {
        // Slice input parses faster than the generic reader path.
        let mut interner = UrlInterner::new();
        let mut core = Core::new(&mut interner, &mut insert);
        drive(serde_json::Deserializer::from_slice(bytes), &mut core)?;
        core.finish(false)?;
    }
    Ok(set)
}

/// Parses one document with `core`, turning serde errors into [`RefsError`]s with positions.
fn drive<'de, R, F>(mut de: serde_json::Deserializer<R>, core: &mut Core<'_, F>) -> Result<()>
where
    R: serde_json::de::Read<'de>,
    F: FnMut(&str, RefValue) -> Result<()>,
{
    let res = DocSeed { core: &mut *core }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match res {
        Ok(()) => Ok(()),
        Err(e) => Err(match core.error.take() {
            Some(err) => with_position(err, &e),
            None if e.is_io() => RefsError::Io(e.into()),
            None => RefsError::from_json(&e),
        }),
    }
}

/// Fills the position of a structured error raised inside a visitor.
fn with_position(err: RefsError, e: &serde_json::Error) -> RefsError {
    match err {
        RefsError::InvalidRef { key, reason, .. } => RefsError::InvalidRef {
            key,
            reason,
            line: e.line(),
            column: e.column(),
        },
        RefsError::Json { message, .. } => RefsError::Json {
            line: e.line(),
            column: e.column(),
            message,
        },
        other => other,
    }
}

/// A list reference whose URL needs templates that have not been seen yet.
struct PendingRef {
    key: String,
    url: String,
    range: Option<(u64, u64)>,
}

/// Reader state shared by the visitors.
struct Core<'i, F> {
    interner: &'i mut UrlInterner,
    f: F,
    /// `None` until `templates` is seen.
    templates: Option<IndexMap<String, String>>,
    /// Resolved templated URLs, by raw text.
    rendered: HashMap<String, Arc<str>>,
    pending: Vec<PendingRef>,
    gens: Vec<Value>,
    version: u32,
    version_seen: bool,
    /// Structured error stashed by a visitor before it aborts the parse.
    error: Option<RefsError>,
    refs: u64,
    generated: u64,
}

impl<'i, F: FnMut(&str, RefValue) -> Result<()>> Core<'i, F> {
    fn new(interner: &'i mut UrlInterner, f: F) -> Self {
        Self {
            interner,
            f,
            templates: None,
            rendered: HashMap::new(),
            pending: Vec::new(),
            gens: Vec::new(),
            version: 0,
            version_seen: false,
            error: None,
            refs: 0,
            generated: 0,
        }
    }

    /// Stashes `err` and returns a serde error that aborts the parse.
    fn fail<E: de::Error>(&mut self, err: RefsError) -> E {
        let msg = err.to_string();
        self.error = Some(err);
        E::custom(msg)
    }

    fn invalid<E: de::Error>(&mut self, key: &str, reason: impl Into<String>) -> E {
        self.fail(RefsError::InvalidRef {
            key: key.to_string(),
            reason: reason.into(),
            line: 0,
            column: 0,
        })
    }

    fn emit(&mut self, key: &str, value: RefValue) -> Result<()> {
        self.refs = self.refs.saturating_add(1);
        (self.f)(key, value)
    }

    /// Resolves a raw URL with the known, non-empty templates.
    fn templated_url(&mut self, key: &str, raw: &str) -> Result<Arc<str>> {
        if let Some(url) = self.rendered.get(raw) {
            return Ok(Arc::clone(url));
        }
        let templates = self.templates.as_ref();
        let lookup = |name: &str| templates.and_then(|t| t.get(name)).map(String::as_str);
        let url = render(raw, lookup, key, false)?;
        let url = self.interner.intern(&url);
        self.rendered.insert(raw.to_string(), Arc::clone(&url));
        Ok(url)
    }

    fn templates_active(&self) -> bool {
        self.templates.as_ref().is_some_and(|t| !t.is_empty())
    }

    fn set_templates(&mut self, t: IndexMap<String, String>) -> Result<()> {
        self.templates = Some(t);
        self.rendered.clear();
        for p in std::mem::take(&mut self.pending) {
            self.emit_pending(p)?;
        }
        Ok(())
    }

    fn emit_pending(&mut self, p: PendingRef) -> Result<()> {
        let url = if self.templates_active() {
            self.templated_url(&p.key, &p.url)?
        } else {
            self.interner.intern(&p.url)
        };
        let value = match p.range {
            Some((offset, length)) => RefValue::range(Some(url), offset, length),
            None => RefValue::Whole { url: Some(url) },
        };
        self.emit(&p.key, value)
    }

    /// End of document: checks, late templates, gen expansion.
    fn finish(mut self, gzip: bool) -> Result<Meta> {
        if self.version == 1 && !self.version_seen {
            return Err(RefsError::Json {
                line: 0,
                column: 0,
                message: "document has refs/templates/gen but no \"version\"".to_string(),
            });
        }
        for p in std::mem::take(&mut self.pending) {
            self.emit_pending(p)?;
        }
        for (index, gen) in std::mem::take(&mut self.gens).iter().enumerate() {
            self.expand_gen(index, gen)?;
        }
        Ok(Meta {
            version: self.version,
            templates: self
                .templates
                .take()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            refs: self.refs,
            generated: self.generated,
            gzip,
        })
    }

    fn expand_gen(&mut self, index: usize, gen: &Value) -> Result<()> {
        let bad = |reason: String| RefsError::Gen { index, reason };
        let obj = gen
            .as_object()
            .ok_or_else(|| bad("entry is not a JSON object".into()))?;
        let text = |field: &str| -> Result<Option<String>> {
            match obj.get(field) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(bad(format!("\"{field}\" must be a string"))),
            }
        };
        let key_t = text("key")?.ok_or_else(|| bad("missing \"key\"".into()))?;
        let url_t = text("url")?.ok_or_else(|| bad("missing \"url\"".into()))?;
        let range_t = match (text("offset")?, text("length")?) {
            (Some(o), Some(l)) => Some((o, l)),
            (None, None) => None,
            _ => {
                return Err(bad(
                    "\"offset\" and \"length\" must both be given or both omitted".into(),
                ))
            }
        };
        let dims_v = obj
            .get("dimensions")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("missing \"dimensions\" object".into()))?;
        let templates = self.templates.clone().unwrap_or_default();
        let mut dims = Vec::with_capacity(dims_v.len());
        for (name, spec) in dims_v {
            if templates.contains_key(name) {
                return Err(bad(format!("{name:?} is both a dimension and a template")));
            }
            dims.push((
                name.clone(),
                Dim::parse(spec).map_err(|r| bad(format!("dimension {name:?}: {r}")))?,
            ));
        }
        if dims.iter().any(|(_, d)| d.len() == 0) {
            return Ok(());
        }
        // Odometer over the cartesian product, last dimension fastest (itertools.product).
        let mut pos = vec![0u64; dims.len()];
        let mut values: Vec<String> = dims
            .iter()
            .map(|(_, d)| d.value(0))
            .collect::<std::result::Result<_, _>>()
            .map_err(bad)?;
        loop {
            let lookup = |name: &str| {
                dims.iter()
                    .position(|(n, _)| n == name)
                    .and_then(|i| values.get(i))
                    .map(String::as_str)
                    .or_else(|| templates.get(name).map(String::as_str))
            };
            let ctx = format!("gen[{index}]");
            let key = render(&key_t, lookup, &ctx, true)?;
            let url = render(&url_t, lookup, &ctx, true)?;
            let url: Url = Some(self.interner.intern(&url));
            let value = match &range_t {
                Some((o, l)) => {
                    let offset =
                        parse_rendered_int(&render(o, lookup, &ctx, true)?).ok_or_else(|| {
                            bad(format!("offset of {key:?} is not a non-negative integer"))
                        })?;
                    let length =
                        parse_rendered_int(&render(l, lookup, &ctx, true)?).ok_or_else(|| {
                            bad(format!("length of {key:?} is not a non-negative integer"))
                        })?;
                    RefValue::range(url, offset, length)
                }
                None => RefValue::Whole { url },
            };
            self.generated = self.generated.saturating_add(1);
            self.emit(&key, value)?;
            // Advance.
            let mut axis = dims.len();
            loop {
                let Some(a) = axis.checked_sub(1) else {
                    return Ok(());
                };
                axis = a;
                let (Some(p), Some((_, d)), Some(v)) =
                    (pos.get_mut(a), dims.get(a), values.get_mut(a))
                else {
                    return Ok(());
                };
                *p = p.saturating_add(1);
                if *p < d.len() {
                    *v = d.value(*p).map_err(bad)?;
                    break;
                }
                *p = 0;
                *v = d.value(0).map_err(bad)?;
            }
        }
    }
}

/// Python's `int(str)` for what a rendered offset/length can reasonably be.
fn parse_rendered_int(s: &str) -> Option<u64> {
    let s = s.trim();
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// One `gen` dimension.
enum Dim {
    /// `range(start, stop, step)`, with its precomputed length.
    Range { start: i64, step: i64, len: u64 },
    /// Explicit values, rendered as Python's `str()` would.
    List(Vec<String>),
}

impl Dim {
    fn parse(v: &Value) -> std::result::Result<Dim, String> {
        match v {
            Value::Array(items) => items
                .iter()
                .map(|x| match x {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    Value::Bool(true) => Ok("True".to_string()),
                    Value::Bool(false) => Ok("False".to_string()),
                    Value::Null => Ok("None".to_string()),
                    _ => Err("list values must be scalars".to_string()),
                })
                .collect::<std::result::Result<_, _>>()
                .map(Dim::List),
            Value::Object(m) => {
                let int = |k: &str, default: Option<i64>| match m.get(k) {
                    None => default.ok_or_else(|| format!("missing \"{k}\"")),
                    Some(x) => x
                        .as_i64()
                        .ok_or_else(|| format!("\"{k}\" must be an integer")),
                };
                let start = int("start", Some(0))?;
                let stop = int("stop", None)?;
                let step = int("step", Some(1))?;
                let span = i128::from(stop) - i128::from(start);
                let step128 = i128::from(step);
                let len = match step128 {
                    0 => return Err("step must not be zero".to_string()),
                    s if s > 0 && span > 0 => (span + s - 1) / s,
                    s if s < 0 && span < 0 => (span + s + 1) / s,
                    _ => 0,
                };
                let len = u64::try_from(len).map_err(|_| "range too long".to_string())?;
                Ok(Dim::Range { start, step, len })
            }
            _ => Err("must be a list or a {start, stop, step} object".to_string()),
        }
    }

    fn len(&self) -> u64 {
        match self {
            Dim::Range { len, .. } => *len,
            Dim::List(v) => v.len() as u64,
        }
    }

    fn value(&self, i: u64) -> std::result::Result<String, String> {
        match self {
            Dim::Range { start, step, .. } => {
                let v = i128::from(*start) + i128::from(*step) * i128::from(i);
                Ok(v.to_string())
            }
            Dim::List(v) => usize::try_from(i)
                .ok()
                .and_then(|i| v.get(i))
                .cloned()
                .ok_or_else(|| "dimension index out of range".to_string()),
        }
    }
}

/// Reads a map key into a reusable buffer.
struct KeySeed<'b>(&'b mut String);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<(), E> {
        self.0.clear();
        self.0.push_str(v);
        Ok(())
    }
}

/// The whole document.
struct DocSeed<'c, 'i, F> {
    core: &'c mut Core<'i, F>,
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> DeserializeSeed<'de> for DocSeed<'_, '_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> Visitor<'de> for DocSeed<'_, '_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a reference document (JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let core = self.core;
        let mut key = String::new();
        let mut first = true;
        while map.next_key_seed(KeySeed(&mut key))?.is_some() {
            if first {
                first = false;
                if matches!(key.as_str(), "version" | "refs" | "templates" | "gen") {
                    core.version = 1;
                }
            }
            if core.version == 0 {
                emit_value(core, &mut map, &key)?;
                continue;
            }
            match key.as_str() {
                "version" => {
                    let v: Value = map.next_value()?;
                    if v.as_u64() != Some(1) {
                        return Err(core.fail(RefsError::UnsupportedVersion(v.to_string())));
                    }
                    core.version_seen = true;
                }
                "templates" => {
                    let v: Value = map.next_value()?;
                    let t = parse_templates(v).map_err(|m| {
                        core.fail(RefsError::Json {
                            line: 0,
                            column: 0,
                            message: m,
                        })
                    })?;
                    core.set_templates(t).map_err(|e| core.fail(e))?;
                }
                "gen" => match map.next_value::<Value>()? {
                    Value::Array(items) => core.gens.extend(items),
                    _ => {
                        return Err(core.fail(RefsError::Json {
                            line: 0,
                            column: 0,
                            message: "\"gen\" must be a list".to_string(),
                        }))
                    }
                },
                "refs" => map.next_value_seed(RefsSeed { core: &mut *core })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

fn parse_templates(v: Value) -> std::result::Result<IndexMap<String, String>, String> {
    let Value::Object(m) = v else {
        return Err("\"templates\" must be an object".to_string());
    };
    m.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            Value::Number(n) => Ok((k, n.to_string())),
            _ => Err(format!("template {k:?} must be a string")),
        })
        .collect()
}

/// Parses the value of `key` from `map` and delivers it (or buffers it for late templates).
fn emit_value<'de, A, F>(
    core: &mut Core<'_, F>,
    map: &mut A,
    key: &str,
) -> std::result::Result<(), A::Error>
where
    A: MapAccess<'de>,
    F: FnMut(&str, RefValue) -> Result<()>,
{
    match map.next_value_seed(ValueSeed {
        core: &mut *core,
        key,
    })? {
        Parsed::Ready(v) => core.emit(key, v).map_err(|e| core.fail(e)),
        Parsed::Pending { url, range } => {
            core.pending.push(PendingRef {
                key: key.to_string(),
                url,
                range,
            });
            Ok(())
        }
    }
}

/// The `refs` object.
struct RefsSeed<'c, 'i, F> {
    core: &'c mut Core<'i, F>,
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> DeserializeSeed<'de> for RefsSeed<'_, '_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> Visitor<'de> for RefsSeed<'_, '_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a \"refs\" object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut key = String::new();
        while map.next_key_seed(KeySeed(&mut key))?.is_some() {
            emit_value(self.core, &mut map, &key)?;
        }
        Ok(())
    }
}

/// A parsed reference value.
enum Parsed {
    Ready(RefValue),
    /// A list reference whose URL awaits `templates`.
    Pending {
        url: String,
        range: Option<(u64, u64)>,
    },
}

/// One reference value.
struct ValueSeed<'c, 'i, 'k, F> {
    core: &'c mut Core<'i, F>,
    key: &'k str,
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> DeserializeSeed<'de>
    for ValueSeed<'_, '_, '_, F>
{
    type Value = Parsed;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Parsed, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> Visitor<'de> for ValueSeed<'_, '_, '_, F> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a JSON object, [url] or [url, offset, length]")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Parsed, E> {
        let bytes = match v.strip_prefix("base64:") {
            Some(b64) => match LENIENT_BASE64.decode(b64) {
                Ok(b) => Bytes::from(b),
                Err(e) => return Err(self.core.invalid(self.key, format!("invalid base64: {e}"))),
            },
            None => Bytes::copy_from_slice(v.as_bytes()),
        };
        Ok(Parsed::Ready(RefValue::Inline(bytes)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Parsed, A::Error> {
        let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let text = serde_json::to_string(&v).map_err(|e| {
            self.core
                .invalid(self.key, format!("cannot re-serialise object: {e}"))
        })?;
        Ok(Parsed::Ready(RefValue::Inline(Bytes::from(text))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Parsed, A::Error> {
        let core = self.core;
        let key = self.key;
        let Some(url) = seq.next_element_seed(UrlSeed {
            core: &mut *core,
            key,
        })?
        else {
            return Err(core.invalid(key, "empty list reference"));
        };
        let range = match seq.next_element_seed(IntSeed {
            core: &mut *core,
            key,
        })? {
            None => None,
            Some(offset) => match seq.next_element_seed(IntSeed {
                core: &mut *core,
                key,
            })? {
                Some(length) => Some((offset, length)),
                None => {
                    return Err(
                        core.invalid(key, "list reference must be [url] or [url, offset, length]")
                    )
                }
            },
        };
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(core.invalid(key, "list reference has more than 3 elements"));
        }
        Ok(match (url, range) {
            (UrlOut::Ready(url), Some((offset, length))) => Parsed::Ready(RefValue::Range {
                url,
                offset,
                length,
            }),
            (UrlOut::Ready(url), None) => Parsed::Ready(RefValue::Whole { url }),
            (UrlOut::Raw(url), range) => Parsed::Pending { url, range },
        })
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Parsed, E> {
        Err(self.core.invalid(self.key, "a boolean is not a reference"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Parsed, E> {
        Err(self.core.invalid(self.key, "a number is not a reference"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Parsed, E> {
        Err(self.core.invalid(self.key, "a number is not a reference"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Parsed, E> {
        Err(self.core.invalid(self.key, "a number is not a reference"))
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Parsed, E> {
        Err(self.core.invalid(self.key, "null is not a reference"))
    }
}

/// A URL as parsed: final, or raw text waiting for `templates`.
enum UrlOut {
    Ready(Url),
    Raw(String),
}

/// The first element of a list reference: a string or `null`.
struct UrlSeed<'c, 'i, 'k, F> {
    core: &'c mut Core<'i, F>,
    key: &'k str,
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> DeserializeSeed<'de> for UrlSeed<'_, '_, '_, F> {
    type Value = UrlOut;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<UrlOut, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> Visitor<'de> for UrlSeed<'_, '_, '_, F> {
    type Value = UrlOut;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a URL string or null")
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<UrlOut, E> {
        Ok(UrlOut::Ready(None))
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<UrlOut, E> {
        Ok(UrlOut::Ready(None))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<UrlOut, E> {
        let core = self.core;
        if !has_placeholder(v) {
            return Ok(UrlOut::Ready(Some(core.interner.intern(v))));
        }
        match &core.templates {
            // Version 0 has no templates: the URL is final.
            None if core.version == 0 => Ok(UrlOut::Ready(Some(core.interner.intern(v)))),
            None => Ok(UrlOut::Raw(v.to_string())),
            Some(t) if t.is_empty() => Ok(UrlOut::Ready(Some(core.interner.intern(v)))),
            Some(_) => match core.templated_url(self.key, v) {
                Ok(url) => Ok(UrlOut::Ready(Some(url))),
                Err(e) => Err(core.fail(e)),
            },
        }
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<UrlOut, E> {
        Err(self.core.invalid(self.key, "URL must be a string or null"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<UrlOut, E> {
        Err(self.core.invalid(self.key, "URL must be a string or null"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<UrlOut, E> {
        Err(self.core.invalid(self.key, "URL must be a string or null"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<UrlOut, E> {
        Err(self.core.invalid(self.key, "URL must be a string or null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> std::result::Result<UrlOut, A::Error> {
        Err(self.core.invalid(self.key, "URL must be a string or null"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> std::result::Result<UrlOut, A::Error> {
        Err(self.core.invalid(self.key, "URL must be a string or null"))
    }
}

/// An offset or length: a non-negative integer (an integral float is accepted).
struct IntSeed<'c, 'i, 'k, F> {
    core: &'c mut Core<'i, F>,
    key: &'k str,
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> DeserializeSeed<'de> for IntSeed<'_, '_, '_, F> {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&str, RefValue) -> Result<()>> Visitor<'de> for IntSeed<'_, '_, '_, F> {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer offset or length")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<u64, E> {
        u64::try_from(v).map_err(|_| {
            self.core
                .invalid(self.key, format!("negative offset or length {v}"))
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<u64, E> {
        // 2^64 as f64; integral floats below it convert exactly.
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 18_446_744_073_709_551_616.0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(v as u64)
        } else {
            Err(self
                .core
                .invalid(self.key, format!("offset or length {v} is not a u64")))
        }
    }
    fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<u64, E> {
        Err(self
            .core
            .invalid(self.key, "offset and length must be integers"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<u64, E> {
        Err(self
            .core
            .invalid(self.key, "offset and length must be integers"))
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<u64, E> {
        Err(self
            .core
            .invalid(self.key, "offset and length must be integers"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> std::result::Result<u64, A::Error> {
        Err(self
            .core
            .invalid(self.key, "offset and length must be integers"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> std::result::Result<u64, A::Error> {
        Err(self
            .core
            .invalid(self.key, "offset and length must be integers"))
    }
}
