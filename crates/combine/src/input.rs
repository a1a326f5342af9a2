//! Inputs: kerchunk reference documents (JSON or gzip-compressed JSON, version 0 or 1, from a
//! file, from bytes, or already parsed in memory), read as a stream of `(key, value)` pairs.
//!
//! A document is parsed without building a DOM: each reference is handed to a visitor as soon
//! as it is parsed and then dropped, so reading costs memory proportional to the document
//! bytes (held while it is parsed) but no per-reference objects.
//!
//! Templates (`{{name}}` in URLs) are substituted when `"templates"` precedes `"refs"` (as
//! kerchunk writes it); `gen` entries are ignored, as fsspec does by default.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{CombineError, Result};
use crate::reference::Reference;

/// A reference value as parsed, borrowing from the document where it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefView<'a> {
    /// Inline bytes (plain strings are UTF-8 encoded, `base64:` strings decoded).
    Inline(Cow<'a, [u8]>),
    /// The whole target file.
    Whole {
        /// Target URL (`None` = null).
        url: Option<Cow<'a, str>>,
    },
    /// A byte range of the target.
    Range {
        /// Target URL (`None` = null).
        url: Option<Cow<'a, str>>,
        /// First byte.
        offset: u64,
        /// Number of bytes.
        length: u64,
    },
}

impl RefView<'_> {
    /// An owned [`Reference`], interning the URL with `intern`.
    pub fn to_reference(&self, intern: &mut impl FnMut(&str) -> Arc<str>) -> Reference {
        match self {
            RefView::Inline(b) => Reference::Inline(bytes::Bytes::copy_from_slice(b)),
            RefView::Whole { url } => Reference::Whole {
                url: url.as_deref().map(&mut *intern),
            },
            RefView::Range {
                url,
                offset,
                length,
            } => Reference::Range {
                url: url.as_deref().map(intern),
                offset: *offset,
                length: *length,
            },
        }
    }

    /// A view of an owned [`Reference`].
    pub fn of(r: &Reference) -> RefView<'_> {
        match r {
            Reference::Inline(b) => RefView::Inline(Cow::Borrowed(b)),
            Reference::Whole { url } => RefView::Whole {
                url: url.as_deref().map(Cow::Borrowed),
            },
            Reference::Range {
                url,
                offset,
                length,
            } => RefView::Range {
                url: url.as_deref().map(Cow::Borrowed),
                offset: *offset,
                length: *length,
            },
        }
    }
}

#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Bytes(Arc<[u8]>),
    Memory(Arc<[(String, Reference)]>),
}

/// One input reference set and the name selectors and messages use for it.
#[derive(Debug, Clone)]
pub struct Input {
    name: String,
    source: Source,
}

impl Input {
    /// A JSON or JSON.gz reference file; its name is the path as given.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Input {
            name: path.display().to_string(),
            source: Source::File(path),
        }
    }

    /// A JSON or JSON.gz document already in memory.
    pub fn bytes(name: impl Into<String>, data: impl Into<Arc<[u8]>>) -> Self {
        Input {
            name: name.into(),
            source: Source::Bytes(data.into()),
        }
    }

    /// Already-parsed references.
    pub fn memory(name: impl Into<String>, refs: Vec<(String, Reference)>) -> Self {
        Input {
            name: name.into(),
            source: Source::Memory(refs.into()),
        }
    }

    /// Replaces the name (used by regex selectors and in messages).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The input's name: the file path for files.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls `visit` for every reference, in document order.
    pub fn visit(&self, visit: &mut dyn FnMut(&str, RefView<'_>) -> Result<()>) -> Result<()> {
        self.visit_selected(&|_| true, &mut |k, v| match v {
            Some(v) => visit(k, v),
            None => Ok(()),
        })
    }

    /// Like [`Input::visit`], but the values of keys for which `wanted` is false are skipped
    /// without being decoded (the visitor gets `None` for them), which is cheaper.
    pub fn visit_selected(
        &self,
        wanted: &dyn Fn(&str) -> bool,
        visit: &mut dyn FnMut(&str, Option<RefView<'_>>) -> Result<()>,
    ) -> Result<()> {
        match &self.source {
            Source::Memory(refs) => {
                for (k, v) in refs.iter() {
                    visit(k, wanted(k).then(|| RefView::of(v)))?;
                }
                Ok(())
            }
            Source::Bytes(b) => visit_doc(&self.name, b, wanted, visit),
            Source::File(p) => {
                // Reuse one read buffer per thread: a fresh multi-megabyte allocation per
                // input costs page faults.
                thread_local! {
                    static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
                }
                BUF.with(|cell| match cell.try_borrow_mut() {
                    Ok(mut buf) => {
                        read_file_into(&self.name, p, &mut buf)?;
                        let r = visit_doc(&self.name, &buf, wanted, visit);
                        if buf.capacity() > 256 << 20 {
                            *buf = Vec::new();
                        }
                        r
                    }
                    Err(_) => {
                        let mut buf = Vec::new();
                        read_file_into(&self.name, p, &mut buf)?;
                        visit_doc(&self.name, &buf, wanted, visit)
                    }
                })
            }
        }
    }
}

fn read_file_into(name: &str, path: &Path, buf: &mut Vec<u8>) -> Result<()> {
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .map(|_| ())
        .map_err(|source| CombineError::Io {
            input: name.to_string(),
            source,
        })
}

/// Parses one JSON or gzip-compressed JSON document (detected by the gzip magic bytes) and
/// calls `visit` for each reference.
pub fn visit_document(
    name: &str,
    data: &[u8],
    visit: &mut dyn FnMut(&str, RefView<'_>) -> Result<()>,
) -> Result<()> {
    visit_doc(name, data, &|_| true, &mut |k, v| match v {
        Some(v) => visit(k, v),
        None => Ok(()),
    })
}

fn visit_doc(
    name: &str,
    data: &[u8],
    wanted: &dyn Fn(&str) -> bool,
    visit: &mut dyn FnMut(&str, Option<RefView<'_>>) -> Result<()>,
) -> Result<()> {
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(data)
            .read_to_end(&mut text)
            .map_err(|source| CombineError::Io {
                input: name.to_string(),
                source,
            })?;
        visit_json(name, &text, wanted, visit)
    } else {
        visit_json(name, data, wanted, visit)
    }
}

struct Ctx<'v> {
    visit: &'v mut dyn FnMut(&str, Option<RefView<'_>>) -> Result<()>,
    wanted: &'v dyn Fn(&str) -> bool,
    failure: Option<CombineError>,
    templates: HashMap<String, String>,
    seen_refs: bool,
    seen_v0: bool,
    seen_v1: bool,
    name: &'v str,
}

fn visit_json(
    name: &str,
    text: &[u8],
    wanted: &dyn Fn(&str) -> bool,
    visit: &mut dyn FnMut(&str, Option<RefView<'_>>) -> Result<()>,
) -> Result<()> {
    let mut ctx = Ctx {
        visit,
        wanted,
        failure: None,
        templates: HashMap::new(),
        seen_refs: false,
        seen_v0: false,
        seen_v1: false,
        name,
    };
    // Validating UTF-8 once up front lets the parser skip it for every string.
    let res = match std::str::from_utf8(text) {
        Ok(t) => {
            let mut de = serde_json::Deserializer::from_str(t);
            RootSeed(&mut ctx)
                .deserialize(&mut de)
                .and_then(|()| de.end())
        }
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(text);
            RootSeed(&mut ctx)
                .deserialize(&mut de)
                .and_then(|()| de.end())
        }
    };
    if let Some(f) = ctx.failure.take() {
        return Err(f);
    }
    res.map_err(|e| CombineError::Json {
        input: name.to_string(),
        message: e.to_string(),
    })
}

struct RootSeed<'a, 'v>(&'a mut Ctx<'v>);

impl<'de> DeserializeSeed<'de> for RootSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RootSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a reference document (JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let ctx = self.0;
        while let Some(key) = map.next_key::<Key<'de>>()?.map(|k| k.0) {
            match key.as_ref() {
                "version" if !ctx.seen_v0 => {
                    ctx.seen_v1 = true;
                    let v: serde_json::Value = map.next_value()?;
                    if v.as_u64() != Some(1) {
                        return Err(de::Error::custom(format!(
                            "unsupported reference spec version {v}"
                        )));
                    }
                }
                "templates" if !ctx.seen_v0 => {
                    ctx.seen_v1 = true;
                    let t: HashMap<String, String> = map.next_value()?;
                    if ctx.seen_refs && !t.is_empty() {
                        return Err(de::Error::custom(
                            "\"templates\" after \"refs\" is not supported (templates must come first)",
                        ));
                    }
                    ctx.templates = t;
                }
                "gen" if !ctx.seen_v0 => {
                    ctx.seen_v1 = true;
                    map.next_value::<IgnoredAny>()?;
                }
                "refs" if !ctx.seen_v0 => {
                    ctx.seen_v1 = true;
                    ctx.seen_refs = true;
                    map.next_value_seed(RefsSeed(&mut *ctx))?;
                }
                "version" | "templates" | "gen" | "refs" => {
                    return Err(de::Error::custom(format!(
                        "version-1 field {key:?} after version-0 references"
                    )));
                }
                _ if ctx.seen_v1 => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    ctx.seen_v0 = true;
                    map.next_value_seed(EntrySeed { ctx, key: &key })?;
                }
            }
        }
        Ok(())
    }
}

struct RefsSeed<'a, 'v>(&'a mut Ctx<'v>);

impl<'de> DeserializeSeed<'de> for RefsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RefsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the \"refs\" object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()?.map(|k| k.0) {
            map.next_value_seed(EntrySeed {
                ctx: &mut *self.0,
                key: &key,
            })?;
        }
        Ok(())
    }
}

struct EntrySeed<'a, 'v, 'k> {
    ctx: &'a mut Ctx<'v>,
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        let ctx = self.ctx;
        if !(ctx.wanted)(self.key) {
            d.deserialize_ignored_any(IgnoredAny)?;
            if let Err(e) = (ctx.visit)(self.key, None) {
                ctx.failure = Some(e);
                return Err(de::Error::custom("stopped by the visitor"));
            }
            return Ok(());
        }
        let raw = d.deserialize_any(ValueVisitor)?;
        let view = match raw {
            Raw::Str(s) => match s.strip_prefix("base64:") {
                Some(b64) => match base64::engine::general_purpose::STANDARD.decode(b64) {
                    Ok(bytes) => RefView::Inline(Cow::Owned(bytes)),
                    Err(e) => {
                        return fail(ctx, self.key, format!("invalid base64 data: {e}"));
                    }
                },
                None => RefView::Inline(match s {
                    Cow::Borrowed(b) => Cow::Borrowed(b.as_bytes()),
                    Cow::Owned(o) => Cow::Owned(o.into_bytes()),
                }),
            },
            Raw::Object(text) => RefView::Inline(Cow::Owned(text.into_bytes())),
            Raw::List(url, None) => RefView::Whole {
                url: url.map(|u| apply_templates(&ctx.templates, u)),
            },
            Raw::List(url, Some((offset, length))) => RefView::Range {
                url: url.map(|u| apply_templates(&ctx.templates, u)),
                offset,
                length,
            },
            Raw::Bad(reason) => return fail(ctx, self.key, reason),
        };
        if let Err(e) = (ctx.visit)(self.key, Some(view)) {
            ctx.failure = Some(e);
            return Err(de::Error::custom("stopped by the visitor"));
        }
        Ok(())
    }
}

fn fail<E: de::Error>(ctx: &mut Ctx<'_>, key: &str, reason: String) -> std::result::Result<(), E> {
    ctx.failure = Some(CombineError::InvalidRef {
        input: ctx.name.to_string(),
        key: key.to_string(),
        reason,
    });
    Err(E::custom("invalid reference"))
}

/// Substitutes `{{name}}` with templates (plain substitution, as fsspec's default).
fn apply_templates<'a>(templates: &HashMap<String, String>, url: Cow<'a, str>) -> Cow<'a, str> {
    if templates.is_empty() || !url.contains("{{") {
        return url;
    }
    let mut out = String::with_capacity(url.len());
    let mut rest: &str = &url;
    while let Some(start) = rest.find("{{") {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let inner = after.get(2..).unwrap_or("");
        match inner.find("}}") {
            Some(end) => {
                let name = inner.get(..end).unwrap_or("").trim();
                match templates.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(after.get(..end + 4).unwrap_or(after)),
                }
                rest = inner.get(end + 2..).unwrap_or("");
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

enum Raw<'de> {
    Str(Cow<'de, str>),
    Object(String),
    List(Option<Cow<'de, str>>, Option<(u64, u64)>),
    Bad(String),
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Raw<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a reference value (string, object, [url] or [url, offset, length])")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> std::result::Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Owned(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Raw<'de>, A::Error> {
        let v: serde_json::Map<String, serde_json::Value> =
            serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Raw::Object(
            serde_json::to_string(&v).unwrap_or_else(|_| String::from("{}")),
        ))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Raw<'de>, A::Error> {
        let url: Option<Option<Cow<'de, str>>> = seq.next_element::<UrlElem<'de>>()?.map(|u| u.0);
        let Some(url) = url else {
            return Ok(Raw::Bad("empty reference list".into()));
        };
        let offset: Option<Int> = seq.next_element()?;
        let Some(offset) = offset else {
            return Ok(Raw::List(url, None));
        };
        let length: Option<Int> = seq.next_element()?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Ok(Raw::Bad("reference list has more than 3 elements".into()));
        }
        match (offset, length) {
            (Int(Some(o)), Some(Int(Some(l)))) => Ok(Raw::List(url, Some((o, l)))),
            _ => Ok(Raw::Bad(
                "offset and length must both be non-negative integers".into(),
            )),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Raw<'de>, E> {
        Ok(Raw::Bad(format!("a number ({v}) is not a reference value")))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Raw<'de>, E> {
        Ok(Raw::Bad(format!("a number ({v}) is not a reference value")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Raw<'de>, E> {
        Ok(Raw::Bad(format!("a number ({v}) is not a reference value")))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Raw<'de>, E> {
        Ok(Raw::Bad(format!("{v} is not a reference value")))
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Raw<'de>, E> {
        Ok(Raw::Bad("null is not a reference value".into()))
    }
}

/// An object key, borrowed from the document when it has no escapes (serde's own `Cow`
/// implementation always copies).
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// An offset or length: a non-negative integer, or `None` for anything else.
struct Int(Option<u64>);

impl<'de> serde::Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                Ok(Int(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(u64::try_from(v).ok()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Int, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Int(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Int, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Int(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The URL element of a list reference: a string or null.
struct UrlElem<'de>(Option<Cow<'de, str>>);

impl<'de> serde::Deserialize<'de> for UrlElem<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UrlElem<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a URL string or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<UrlElem<'de>, E> {
                Ok(UrlElem(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UrlElem<'de>, E> {
                Ok(UrlElem(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<UrlElem<'de>, E> {
                Ok(UrlElem(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<UrlElem<'de>, E> {
                Ok(UrlElem(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn collect(doc: &[u8]) -> Result<Vec<(String, Reference)>> {
        let mut out = Vec::new();
        let input = Input::bytes("t", doc.to_vec());
        input.visit(&mut |k, v| {
            out.push((k.to_string(), v.to_reference(&mut |s| Arc::from(s))));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn version1_forms() {
        let doc = br#"{"version":1,"templates":{"u":"s3://b/f.nc"},"refs":{
            ".zgroup":"{\"zarr_format\":2}",
            "a/.zattrs":{"x":1},
            "a/0":["{{u}}",10,20],
            "a/1":["{{u}}"],
            "a/2":[null,1,2],
            "a/3":"base64:AAE=",
            "a\/4":"\u0000b"}}"#;
        let refs = collect(doc).unwrap();
        assert_eq!(refs.len(), 7);
        assert_eq!(&refs[0].1.as_inline().unwrap()[..], br#"{"zarr_format":2}"#);
        assert_eq!(&refs[1].1.as_inline().unwrap()[..], br#"{"x":1}"#);
        assert_eq!(
            refs[2].1,
            Reference::Range {
                url: Some(Arc::from("s3://b/f.nc")),
                offset: 10,
                length: 20
            }
        );
        assert_eq!(
            refs[3].1,
            Reference::Whole {
                url: Some(Arc::from("s3://b/f.nc"))
            }
        );
        assert_eq!(refs[4].1.url(), Some(&None));
        assert_eq!(&refs[5].1.as_inline().unwrap()[..], &[0u8, 1]);
        assert_eq!(refs[6].0, "a/4");
        assert_eq!(&refs[6].1.as_inline().unwrap()[..], b"\0b");
    }

    #[test]
    fn version0_and_gzip() {
        let doc = br#"{".zgroup":"{}","v/0":["f",0,4]}"#;
        let mut gz = Vec::new();
        {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
            e.write_all(doc).unwrap();
            e.finish().unwrap();
        }
        let refs = collect(&gz).unwrap();
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[1].0, "v/0");
    }

    #[test]
    fn errors_name_the_key() {
        let e = collect(br#"{"version":1,"refs":{"k":["f",-1,2]}}"#).unwrap_err();
        assert!(
            matches!(e, CombineError::InvalidRef { ref key, .. } if key == "k"),
            "{e}"
        );
        let e = collect(br#"{"version":2,"refs":{}}"#).unwrap_err();
        assert!(matches!(e, CombineError::Json { .. }), "{e}");
        let e = collect(br#"{"version":1,"refs":{"k":5}}"#).unwrap_err();
        assert!(e.to_string().contains("\"k\""), "{e}");
        let e = collect(br#"{"version":1,"refs":{"k":"base64:!!"}}"#).unwrap_err();
        assert!(e.to_string().contains("base64"), "{e}");
        assert!(collect(b"{\"version\":1,\"refs\":{\"k\":").is_err());
        assert!(collect(b"[1,2]").is_err());
        assert!(collect(&[0x1f, 0x8b, 0, 1]).is_err());
    }

    #[test]
    fn template_substitution() {
        let mut t = HashMap::new();
        t.insert("a".to_string(), "X".to_string());
        assert_eq!(
            apply_templates(&t, Cow::Borrowed("{{a}}/{{ a }}/{{b}}/{{")),
            "X/X/{{b}}/{{"
        );
    }
}
