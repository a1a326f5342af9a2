//! Zarr v2 metadata: `.zarray`, `.zgroup`, `.zattrs`, fill values and numcodecs configs.
//!
//! Serialisation is compact JSON (no whitespace) with `.zarray` keys in the order kerchunk
//! 0.2.10 / zarr-python 3 writes them: `shape, chunks, dtype, fill_value, order, filters,
//! dimension_separator, compressor, zarr_format` (kerchunk-behavior.md §2.2). Parsing accepts
//! any key order, ignores unknown keys (zarr v2 spec) and defaults a missing
//! `dimension_separator` to `"."` (zarr-2-era files omit it).

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::chunk_key::ChunkGrid;
use crate::error::{RefsError, Result};

/// The JSON text of a root or group `.zgroup`: `{"zarr_format":2}`.
pub const ZGROUP_JSON: &str = r#"{"zarr_format":2}"#;

/// The `zarr_format` field, which must be 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZarrFormat2;

impl Serialize for ZarrFormat2 {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u8(2)
    }
}

impl<'de> Deserialize<'de> for ZarrFormat2 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = u64::deserialize(d)?;
        if v == 2 {
            Ok(ZarrFormat2)
        } else {
            Err(de::Error::custom(format!(
                "zarr_format must be 2, found {v}"
            )))
        }
    }
}

/// Memory layout of a chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Order {
    /// Row-major (the only order kerchunk writes).
    #[default]
    C,
    /// Column-major.
    F,
}

/// Separator between chunk-index components in chunk keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DimensionSeparator {
    /// `.` (`0.1.2`); the default and what kerchunk writes.
    #[default]
    #[serde(rename = ".")]
    Dot,
    /// `/` (`0/1/2`).
    #[serde(rename = "/")]
    Slash,
}

/// A zarr v2 dtype: a numpy type string (`"<f4"`, `"|S26"`, `"<M8[ns]"`, `"|O"`) or, for
/// structured (compound) types, a list of fields `[[name, dtype], [name, dtype, shape], …]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DType {
    /// A numpy type string with byte order.
    Simple(String),
    /// A structured dtype.
    Structured(Vec<StructField>),
}

/// One field of a structured dtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructField {
    /// Field name.
    pub name: String,
    /// Field type (may itself be structured).
    pub dtype: DType,
    /// Sub-array shape, if the field is an array (`[name, dtype, shape]`).
    pub shape: Option<Vec<u64>>,
}

impl DType {
    /// A simple dtype from its type string.
    pub fn simple(s: impl Into<String>) -> Self {
        DType::Simple(s.into())
    }

    /// Bytes per element, or `None` for object (`O`) or unrecognised type strings.
    /// Handles `b i u f c S V U M m` kinds (`U` is 4 bytes per character, datetimes 8).
    pub fn itemsize(&self) -> Option<u64> {
        match self {
            DType::Simple(s) => simple_itemsize(s),
            DType::Structured(fields) => fields.iter().try_fold(0u64, |acc, f| {
                let count = match &f.shape {
                    Some(shape) => shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d))?,
                    None => 1,
                };
                acc.checked_add(f.dtype.itemsize()?.checked_mul(count)?)
            }),
        }
    }
}

fn simple_itemsize(s: &str) -> Option<u64> {
    let s = s.trim_start_matches(['<', '>', '|', '=']);
    let mut chars = s.chars();
    let kind = chars.next()?;
    let rest = chars.as_str();
    match kind {
        'M' | 'm' => {
            // "M8" or "M8[unit]"
            let digits = rest.split('[').next()?;
            (digits == "8").then_some(8)
        }
        'b' | 'i' | 'u' | 'f' | 'c' | 'S' | 'V' | 'U' => {
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u64 = rest.parse().ok()?;
            if kind == 'U' {
                n.checked_mul(4)
            } else {
                Some(n)
            }
        }
        _ => None,
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DType::Simple(s) => f.write_str(s),
            DType::Structured(_) => {
                let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
                f.write_str(&text)
            }
        }
    }
}

impl Serialize for DType {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            DType::Simple(t) => s.serialize_str(t),
            DType::Structured(fields) => {
                let mut seq = s.serialize_seq(Some(fields.len()))?;
                for f in fields {
                    seq.serialize_element(f)?;
                }
                seq.end()
            }
        }
    }
}

impl Serialize for StructField {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let len = if self.shape.is_some() { 3 } else { 2 };
        let mut seq = s.serialize_seq(Some(len))?;
        seq.serialize_element(&self.name)?;
        seq.serialize_element(&self.dtype)?;
        if let Some(shape) = &self.shape {
            seq.serialize_element(shape)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for DType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a numpy type string or a list of [name, dtype(, shape)] fields")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<DType, E> {
                Ok(DType::Simple(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<DType, A::Error> {
                let mut fields = Vec::new();
                while let Some(f) = seq.next_element::<StructField>()? {
                    fields.push(f);
                }
                Ok(DType::Structured(fields))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for StructField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StructField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a structured dtype field [name, dtype] or [name, dtype, shape]")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<StructField, A::Error> {
                let name: String = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let dtype: DType = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let shape: Option<Vec<u64>> = seq.next_element()?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(4, &self));
                }
                Ok(StructField { name, dtype, shape })
            }
        }
        d.deserialize_seq(V)
    }
}

/// Zarr v2 array metadata (`.zarray`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZArray {
    /// Array shape (`[]` for a scalar).
    pub shape: Vec<u64>,
    /// Chunk shape (may exceed `shape`).
    pub chunks: Vec<u64>,
    /// Element type.
    pub dtype: DType,
    /// Fill value (`null` = undefined); see the `fill_*` helpers for the encodings.
    #[serde(default)]
    pub fill_value: Value,
    /// Chunk memory layout.
    #[serde(default)]
    pub order: Order,
    /// numcodecs configs applied in order before the compressor; `None` when empty.
    #[serde(default)]
    pub filters: Option<Vec<Value>>,
    /// Chunk key separator.
    #[serde(default)]
    pub dimension_separator: DimensionSeparator,
    /// Compressor config (kerchunk always writes `null` and puts codecs in `filters`).
    #[serde(default)]
    pub compressor: Option<Value>,
    /// Always 2.
    pub zarr_format: ZarrFormat2,
}

impl ZArray {
    /// A `.zarray` with kerchunk's defaults: fill `null`, order `C`, no filters, no
    /// compressor, separator `.`.
    pub fn new(shape: Vec<u64>, chunks: Vec<u64>, dtype: DType) -> Self {
        Self {
            shape,
            chunks,
            dtype,
            fill_value: Value::Null,
            order: Order::C,
            filters: None,
            dimension_separator: DimensionSeparator::Dot,
            compressor: None,
            zarr_format: ZarrFormat2,
        }
    }

    /// Sets `filters` from codecs; an empty list becomes `null`, as kerchunk writes it.
    pub fn set_filters(&mut self, codecs: &[Codec]) {
        self.filters = if codecs.is_empty() {
            None
        } else {
            Some(codecs.iter().map(Codec::to_config).collect())
        };
    }

    /// The chunk grid (errors if shape and chunks are inconsistent).
    pub fn grid(&self) -> Result<ChunkGrid> {
        ChunkGrid::new(&self.shape, &self.chunks).map_err(|e| RefsError::Zarr {
            what: ".zarray".to_string(),
            reason: e.to_string(),
        })
    }

    /// Checks the invariants serde cannot: consistent shape/chunks and a non-empty dtype.
    pub fn validate(&self) -> Result<()> {
        self.grid()?;
        match &self.dtype {
            DType::Simple(s) if s.is_empty() => Err(RefsError::Zarr {
                what: ".zarray".to_string(),
                reason: "empty dtype".to_string(),
            }),
            DType::Structured(f) if f.is_empty() => Err(RefsError::Zarr {
                what: ".zarray".to_string(),
                reason: "structured dtype without fields".to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Parses and validates `.zarray` JSON text.
    pub fn from_json(text: &[u8]) -> Result<Self> {
        let z: ZArray = serde_json::from_slice(text).map_err(|e| RefsError::Zarr {
            what: ".zarray".to_string(),
            reason: e.to_string(),
        })?;
        z.validate()?;
        Ok(z)
    }

    /// Compact JSON text of this `.zarray`.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| RefsError::Zarr {
            what: ".zarray".to_string(),
            reason: e.to_string(),
        })
    }
}

/// Zarr v2 group metadata (`.zgroup`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZGroup {
    /// Always 2.
    pub zarr_format: ZarrFormat2,
}

impl ZGroup {
    /// Parses `.zgroup` JSON text.
    pub fn from_json(text: &[u8]) -> Result<Self> {
        serde_json::from_slice(text).map_err(|e| RefsError::Zarr {
            what: ".zgroup".to_string(),
            reason: e.to_string(),
        })
    }
}

/// The content of a `.zattrs` document, in insertion order.
pub type Attributes = Map<String, Value>;

/// Compact JSON text of a `.zattrs` document.
pub fn attrs_to_json(attrs: &Attributes) -> String {
    // Serialising a map of strings to `Value`s cannot fail (Value holds no NaN/inf).
    serde_json::to_string(attrs).unwrap_or_else(|_| String::from("{}"))
}

/// Parses a `.zattrs` document leniently: kerchunk writes NaN and infinite attribute values as
/// the bare non-JSON tokens `NaN`, `Infinity`, `-Infinity` (kerchunk-behavior.md §2.2); they
/// are read as the *strings* `"NaN"`, `"Infinity"`, `"-Infinity"` (serde_json cannot hold
/// non-finite numbers).
pub fn parse_attrs(text: &[u8]) -> Result<Attributes> {
    let err = |reason: String| RefsError::Zarr {
        what: ".zattrs".to_string(),
        reason,
    };
    match parse_json_lenient(text).map_err(|e| err(e.to_string()))? {
        Value::Object(m) => Ok(m),
        other => Err(err(format!("expected a JSON object, found {other}"))),
    }
}

/// Parses JSON that may contain the Python `json` module's bare `NaN`, `Infinity` and
/// `-Infinity` tokens, turning each into the corresponding string.
pub fn parse_json_lenient(text: &[u8]) -> std::result::Result<Value, serde_json::Error> {
    serde_json::from_slice(&quote_non_finite(text))
}

/// Rewrites bare `NaN` / `Infinity` / `-Infinity` tokens outside JSON strings as strings.
fn quote_non_finite(text: &[u8]) -> Cow<'_, [u8]> {
    const TOKENS: [&[u8]; 3] = [b"-Infinity", b"Infinity", b"NaN"];
    let mut out: Option<Vec<u8>> = None;
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some(tok) = TOKENS
            .iter()
            .find(|t| text.get(i..).is_some_and(|rest| rest.starts_with(t)))
        {
            let buf = out.get_or_insert_with(|| text.get(..i).unwrap_or_default().to_vec());
            buf.push(b'"');
            buf.extend_from_slice(tok);
            buf.push(b'"');
            i += tok.len();
            continue;
        }
        if let Some(buf) = out.as_mut() {
            buf.push(b);
        }
        i += 1;
    }
    match out {
        Some(v) => Cow::Owned(v),
        None => Cow::Borrowed(text),
    }
}

/// Encodes a float fill value: NaN → `"NaN"`, ±inf → `"Infinity"` / `"-Infinity"`, else a
/// JSON number. For float32 data pass the value widened to f64 (as kerchunk does:
/// float32 `1e37` → `9.999999933815813e+36`).
pub fn fill_float(v: f64) -> Value {
    if v.is_nan() {
        Value::from("NaN")
    } else if v == f64::INFINITY {
        Value::from("Infinity")
    } else if v == f64::NEG_INFINITY {
        Value::from("-Infinity")
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

/// Encodes a complex fill value as `[re, im]` (each via [`fill_float`]).
pub fn fill_complex(re: f64, im: f64) -> Value {
    Value::Array(vec![fill_float(re), fill_float(im)])
}

/// Encodes a fill value of a byte-string (`S`), void (`V`) or structured dtype: standard
/// base64 of the raw bytes (`b" "` → `"IA=="`).
pub fn fill_bytes(v: &[u8]) -> Value {
    Value::from(base64::engine::general_purpose::STANDARD.encode(v))
}

/// Decodes a float fill value written by [`fill_float`] (numbers or the three strings).
pub fn parse_fill_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// Decodes a base64 byte-string fill value written by [`fill_bytes`].
pub fn parse_fill_bytes(v: &Value) -> Option<Vec<u8>> {
    let s = v.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// A numcodecs codec configuration (`{"id": ..., ...}`) as used in `filters`/`compressor`.
#[derive(Debug, Clone, PartialEq)]
pub enum Codec {
    /// `{"id":"zlib","level":L}` (HDF5 deflate).
    Zlib {
        /// Compression level.
        level: i64,
    },
    /// `{"id":"shuffle","elementsize":N}` (HDF5 shuffle).
    Shuffle {
        /// Element size in bytes.
        elementsize: u64,
    },
    /// `{"id":"zstd","level":L,"checksum":false}` (HDF5 plugin 32015).
    Zstd {
        /// Compression level (0 = library default).
        level: i64,
        /// Whether frames carry a checksum.
        checksum: bool,
    },
    /// `{"id":"blosc","cname":…,"clevel":…,"shuffle":…,"blocksize":…}` (HDF5 plugin 32001).
    Blosc {
        /// Inner compressor name (`blosclz`, `lz4`, `lz4hc`, `snappy`, `zlib`, `zstd`).
        cname: String,
        /// Compression level.
        clevel: i64,
        /// 0 none, 1 byte, 2 bit, -1 auto.
        shuffle: i64,
        /// Block size (0 = automatic).
        blocksize: u64,
    },
    /// `{"id":"fletcher32"}`: data followed by a 4-byte checksum.
    Fletcher32,
    /// `{"id":"vlen-utf8"}`: u32 count, then u32 length + UTF-8 bytes per item.
    VlenUtf8,
    /// `{"id":"vlen-bytes"}`: as `vlen-utf8` with raw bytes.
    VlenBytes,
    /// Any other codec, kept verbatim.
    Other(Value),
}

impl Codec {
    /// The numcodecs id.
    pub fn id(&self) -> &str {
        match self {
            Codec::Zlib { .. } => "zlib",
            Codec::Shuffle { .. } => "shuffle",
            Codec::Zstd { .. } => "zstd",
            Codec::Blosc { .. } => "blosc",
            Codec::Fletcher32 => "fletcher32",
            Codec::VlenUtf8 => "vlen-utf8",
            Codec::VlenBytes => "vlen-bytes",
            Codec::Other(v) => v.get("id").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The JSON config, with `id` first and fields in numcodecs' `get_config` order.
    pub fn to_config(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), Value::from(self.id()));
        match self {
            Codec::Zlib { level } => {
                m.insert("level".into(), Value::from(*level));
            }
            Codec::Shuffle { elementsize } => {
                m.insert("elementsize".into(), Value::from(*elementsize));
            }
            Codec::Zstd { level, checksum } => {
                m.insert("level".into(), Value::from(*level));
                m.insert("checksum".into(), Value::from(*checksum));
            }
            Codec::Blosc {
                cname,
                clevel,
                shuffle,
                blocksize,
            } => {
                m.insert("cname".into(), Value::from(cname.as_str()));
                m.insert("clevel".into(), Value::from(*clevel));
                m.insert("shuffle".into(), Value::from(*shuffle));
                m.insert("blocksize".into(), Value::from(*blocksize));
            }
            Codec::Fletcher32 | Codec::VlenUtf8 | Codec::VlenBytes => {}
            Codec::Other(v) => return v.clone(),
        }
        Value::Object(m)
    }

    /// Parses a config. Known ids get numcodecs' defaults for missing fields (zlib level 1,
    /// shuffle elementsize 4, zstd level 0 / no checksum, blosc lz4/5/1/0) and ignore extra
    /// fields; unknown ids become [`Codec::Other`].
    pub fn from_config(v: &Value) -> Result<Codec> {
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| RefsError::Zarr {
                what: format!("codec {v}"),
                reason: "missing string \"id\"".to_string(),
            })?;
        let bad = |field: &str| RefsError::Zarr {
            what: format!("codec {id:?}"),
            reason: format!("field {field:?} has the wrong type or range"),
        };
        let int = |field: &str, default: i64| match v.get(field) {
            None => Ok(default),
            Some(x) => x.as_i64().ok_or_else(|| bad(field)),
        };
        let uint = |field: &str, default: u64| match v.get(field) {
            None => Ok(default),
            Some(x) => x.as_u64().ok_or_else(|| bad(field)),
        };
        Ok(match id {
            "zlib" => Codec::Zlib {
                level: int("level", 1)?,
            },
            "shuffle" => Codec::Shuffle {
                elementsize: uint("elementsize", 4)?,
            },
            "zstd" => Codec::Zstd {
                level: int("level", 0)?,
                checksum: match v.get("checksum") {
                    None => false,
                    Some(x) => x.as_bool().ok_or_else(|| bad("checksum"))?,
                },
            },
            "blosc" => Codec::Blosc {
                cname: match v.get("cname") {
                    None => "lz4".to_string(),
                    Some(x) => x.as_str().ok_or_else(|| bad("cname"))?.to_string(),
                },
                clevel: int("clevel", 5)?,
                shuffle: int("shuffle", 1)?,
                blocksize: uint("blocksize", 0)?,
            },
            "fletcher32" => Codec::Fletcher32,
            "vlen-utf8" => Codec::VlenUtf8,
            "vlen-bytes" => Codec::VlenBytes,
            _ => Codec::Other(v.clone()),
        })
    }
}

/// Encodes items in the numcodecs `vlen-utf8` / `vlen-bytes` chunk format: u32 LE item
/// count, then per item a u32 LE byte length and the bytes (kerchunk-behavior.md §2.14).
/// Errors if the count or an item length exceeds `u32::MAX`.
pub fn encode_vlen<'a>(items: impl ExactSizeIterator<Item = &'a [u8]>) -> Result<Vec<u8>> {
    let too_big = || RefsError::Zarr {
        what: "vlen chunk".to_string(),
        reason: "item count or length exceeds u32::MAX".to_string(),
    };
    let count = u32::try_from(items.len()).map_err(|_| too_big())?;
    let mut out = Vec::with_capacity(4 + items.len() * 4);
    out.extend_from_slice(&count.to_le_bytes());
    for item in items {
        let len = u32::try_from(item.len()).map_err(|_| too_big())?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(item);
    }
    Ok(out)
}

/// Decodes a `vlen-utf8` / `vlen-bytes` chunk into its items (bounds-checked; trailing bytes
/// are an error).
pub fn decode_vlen(chunk: &[u8]) -> Result<Vec<&[u8]>> {
    let bad = |reason: &str| RefsError::Zarr {
        what: "vlen chunk".to_string(),
        reason: reason.to_string(),
    };
    let take_u32 = |rest: &mut &[u8]| -> Result<usize> {
        let (head, tail) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("truncated length"))?;
        *rest = tail;
        usize::try_from(u32::from_le_bytes(*head)).map_err(|_| bad("length does not fit usize"))
    };
    let mut rest = chunk;
    let count = take_u32(&mut rest)?;
    // Each item needs at least its 4-byte length, so the count is bounded by the input.
    if count > rest.len() / 4 {
        return Err(bad("item count exceeds the chunk size"));
    }
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let len = take_u32(&mut rest)?;
        let (item, tail) = rest
            .split_at_checked(len)
            .ok_or_else(|| bad("truncated item"))?;
        items.push(item);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(bad("trailing bytes after the last item"));
    }
    Ok(items)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected text from kerchunk-behavior.md §2.16 (observed kerchunk 0.2.10 output).
    const TEMP_ZARRAY: &str = r#"{"shape":[3,4,5],"chunks":[1,2,5],"dtype":"<f4","fill_value":-999.0,"order":"C","filters":[{"id":"shuffle","elementsize":4},{"id":"zlib","level":4}],"dimension_separator":".","compressor":null,"zarr_format":2}"#;

    #[test]
    fn zarray_matches_kerchunk_text() {
        let mut z = ZArray::new(vec![3, 4, 5], vec![1, 2, 5], DType::simple("<f4"));
        z.fill_value = fill_float(-999.0);
        z.set_filters(&[Codec::Shuffle { elementsize: 4 }, Codec::Zlib { level: 4 }]);
        assert_eq!(z.to_json().unwrap(), TEMP_ZARRAY);
        assert_eq!(ZArray::from_json(TEMP_ZARRAY.as_bytes()).unwrap(), z);
        assert_eq!(z.dtype.itemsize(), Some(4));
    }

    #[test]
    fn zarray_zarr2_era_sorted_without_separator() {
        // kerchunk 0.2.6 + zarr 2.18 (kerchunk-behavior.md §2.2): sorted keys, no separator.
        let text = br#"{"chunks":[10],"compressor":null,"dtype":"|S26","fill_value":"IA==","filters":null,"order":"C","shape":[10],"zarr_format":2,"extra":1}"#;
        let z = ZArray::from_json(text).unwrap();
        assert_eq!(z.dimension_separator, DimensionSeparator::Dot);
        assert_eq!(parse_fill_bytes(&z.fill_value).unwrap(), b" ");
        assert_eq!(z.dtype.itemsize(), Some(26));
    }

    #[test]
    fn zarray_rejections() {
        for bad in [
            &br#"{"shape":[3],"chunks":[1],"dtype":"<f4","zarr_format":3}"#[..],
            br#"{"shape":[3],"chunks":[1,1],"dtype":"<f4","zarr_format":2}"#,
            br#"{"shape":[3],"chunks":[0],"dtype":"<f4","zarr_format":2}"#,
            br#"{"shape":[3],"chunks":[1],"dtype":"","zarr_format":2}"#,
            br#"{"shape":[3],"chunks":[1],"dtype":7,"zarr_format":2}"#,
            br#"{"shape":[-3],"chunks":[1],"dtype":"<f4","zarr_format":2}"#,
            br#"{"shape":[3],"chunks":[1],"dtype":"<f4","order":"X","zarr_format":2}"#,
            b"[]",
        ] {
            assert!(
                ZArray::from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn structured_dtype() {
        // kerchunk-behavior.md §2.15 (observed): nested compound with a |V4 field.
        let text = r#"[["a","|V4"],["b",[["c","<i2"],["d",">f8"]]],["e","<f4",[2,3]]]"#;
        let d: DType = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), text);
        assert_eq!(d.itemsize(), Some(4 + 2 + 8 + 4 * 6));
        assert!(serde_json::from_str::<DType>(r#"[["a"]]"#).is_err());
        assert!(serde_json::from_str::<DType>(r#"[["a","<i2",[1],4]]"#).is_err());
    }

    #[test]
    fn itemsizes() {
        for (s, n) in [
            ("|b1", Some(1)),
            ("<c16", Some(16)),
            ("<U88", Some(352)),
            ("<M8[ns]", Some(8)),
            ("|O", None),
            ("<f", None),
            ("<x4", None),
        ] {
            assert_eq!(DType::simple(s).itemsize(), n, "{s}");
        }
    }

    #[test]
    fn fill_values() {
        assert_eq!(fill_float(f64::NAN), json!("NaN"));
        assert_eq!(fill_float(f64::INFINITY), json!("Infinity"));
        assert_eq!(fill_float(f64::NEG_INFINITY), json!("-Infinity"));
        // kerchunk-behavior.md §2.7: float32 1e37 widened to f64.
        assert_eq!(
            serde_json::to_string(&fill_float(f64::from(1e37f32))).unwrap(),
            "9.999999933815813e+36"
        );
        assert_eq!(fill_complex(0.0, 0.0), json!([0.0, 0.0]));
        assert_eq!(fill_bytes(b" "), json!("IA=="));
        assert_eq!(fill_bytes(b"zz"), json!("eno="));
        assert!(parse_fill_float(&json!("NaN")).unwrap().is_nan());
        assert_eq!(parse_fill_float(&json!(-1.5)), Some(-1.5));
        assert_eq!(parse_fill_float(&json!("x")), None);
    }

    #[test]
    fn codecs_round_trip() {
        let cases = [
            (Codec::Zlib { level: 4 }, r#"{"id":"zlib","level":4}"#),
            (
                Codec::Shuffle { elementsize: 8 },
                r#"{"id":"shuffle","elementsize":8}"#,
            ),
            (
                Codec::Zstd {
                    level: 3,
                    checksum: false,
                },
                r#"{"id":"zstd","level":3,"checksum":false}"#,
            ),
            (
                Codec::Blosc {
                    cname: "zstd".into(),
                    clevel: 5,
                    shuffle: 1,
                    blocksize: 2000,
                },
                r#"{"id":"blosc","cname":"zstd","clevel":5,"shuffle":1,"blocksize":2000}"#,
            ),
            (Codec::Fletcher32, r#"{"id":"fletcher32"}"#),
            (Codec::VlenUtf8, r#"{"id":"vlen-utf8"}"#),
            (Codec::VlenBytes, r#"{"id":"vlen-bytes"}"#),
            (
                Codec::Other(json!({"id":"fill_hdf_strings","dtype":"S16","id_map":null})),
                r#"{"id":"fill_hdf_strings","dtype":"S16","id_map":null}"#,
            ),
        ];
        for (codec, text) in cases {
            assert_eq!(serde_json::to_string(&codec.to_config()).unwrap(), text);
            let parsed = Codec::from_config(&serde_json::from_str(text).unwrap()).unwrap();
            assert_eq!(parsed, codec);
        }
        // Checklist item 21's older zstd form has no "checksum".
        assert_eq!(
            Codec::from_config(&json!({"id":"zstd","level":1})).unwrap(),
            Codec::Zstd {
                level: 1,
                checksum: false
            }
        );
        assert!(Codec::from_config(&json!({"level":1})).is_err());
        assert!(Codec::from_config(&json!({"id":"zlib","level":"x"})).is_err());
        assert!(Codec::from_config(&json!({"id":"shuffle","elementsize":-1})).is_err());
    }

    #[test]
    fn vlen_chunks() {
        // kerchunk-behavior.md §2.14 (observed): ["hello","world","x",""] in embed mode.
        let want = b"\x04\0\0\0\x05\0\0\0hello\x05\0\0\0world\x01\0\0\0x\0\0\0\0";
        let items: [&[u8]; 4] = [b"hello", b"world", b"x", b""];
        assert_eq!(encode_vlen(items.iter().copied()).unwrap(), want);
        assert_eq!(decode_vlen(want).unwrap(), items);
        assert_eq!(decode_vlen(&[0, 0, 0, 0]).unwrap(), Vec::<&[u8]>::new());
        for bad in [
            &b""[..],
            b"\x01\0\0",
            b"\x01\0\0\0",
            b"\x01\0\0\0\x05\0\0\0abc",
            b"\xff\xff\xff\xff\0\0\0\0",
            b"\0\0\0\0x",
        ] {
            assert!(decode_vlen(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lenient_attrs() {
        // kerchunk-behavior.md §2.12 (observed root .zattrs, abridged).
        let text = br#"{"inf":Infinity,"nan":NaN,"neg":-Infinity,"s":"NaN \" Infinity","n":-1.5}"#;
        let a = parse_attrs(text).unwrap();
        assert_eq!(a["inf"], json!("Infinity"));
        assert_eq!(a["nan"], json!("NaN"));
        assert_eq!(a["neg"], json!("-Infinity"));
        assert_eq!(a["s"], json!("NaN \" Infinity"));
        assert_eq!(a["n"], json!(-1.5));
        assert!(parse_attrs(b"[1]").is_err());
        assert!(parse_attrs(b"{\"a\":").is_err());
        assert_eq!(
            attrs_to_json(&a),
            r#"{"inf":"Infinity","nan":"NaN","neg":"-Infinity","s":"NaN \" Infinity","n":-1.5}"#
        );
        assert_eq!(
            ZGroup::from_json(ZGROUP_JSON.as_bytes()).unwrap(),
            ZGroup::default()
        );
        assert!(ZGroup::from_json(br#"{"zarr_format":3}"#).is_err());
    }
}
