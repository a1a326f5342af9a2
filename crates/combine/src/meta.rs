//! Zarr v2 metadata as the combiner needs it: lenient JSON (Python's bare `NaN`/`Infinity`
//! tokens survive a parse/serialise round trip), the fields of `.zarray`, and `_ARRAY_DIMENSIONS`.

use serde_json::{Map, Value};

const NAN: &str = "\u{1}NaN";
const INF: &str = "\u{1}Infinity";
const NINF: &str = "\u{1}-Infinity";

/// Parses JSON that may contain bare `NaN`, `Infinity` or `-Infinity` (as Python's `json` and
/// ujson write non-finite floats); they become private placeholder strings that
/// [`to_json_text`] turns back into the bare tokens.
pub fn parse_lenient(text: &[u8]) -> Result<Value, String> {
    const TOKENS: [(&[u8], &str); 3] = [(b"-Infinity", NINF), (b"Infinity", INF), (b"NaN", NAN)];
    let mut out: Option<Vec<u8>> = None;
    let (mut in_str, mut esc) = (false, false);
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
        } else if let Some((tok, rep)) = TOKENS
            .iter()
            .find(|(t, _)| text.get(i..).is_some_and(|r| r.starts_with(t)))
        {
            let buf = out.get_or_insert_with(|| text.get(..i).unwrap_or_default().to_vec());
            buf.extend_from_slice(serde_json::to_string(rep).unwrap_or_default().as_bytes());
            i += tok.len();
            continue;
        }
        if let Some(buf) = out.as_mut() {
            buf.push(b);
        }
        i += 1;
    }
    let src = out.as_deref().unwrap_or(text);
    serde_json::from_slice(src).map_err(|e| e.to_string())
}

/// Compact JSON text of `v`, writing placeholder strings from [`parse_lenient`] as bare
/// `NaN`/`Infinity`/`-Infinity` again.
pub fn to_json_text(v: &Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_else(|_| "null".to_string());
    if !text.contains("\\u0001") {
        return text;
    }
    text.replace("\"\\u0001NaN\"", "NaN")
        .replace("\"\\u0001Infinity\"", "Infinity")
        .replace("\"\\u0001-Infinity\"", "-Infinity")
}

/// Parses a `.zattrs` document into an ordered map.
pub fn parse_attrs(text: &[u8]) -> Result<Map<String, Value>, String> {
    match parse_lenient(text)? {
        Value::Object(m) => Ok(m),
        other => Err(format!("expected a JSON object, found {other}")),
    }
}

/// The `.zarray` fields that matter for combining.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayMeta {
    /// Shape.
    pub shape: Vec<u64>,
    /// Chunk shape.
    pub chunks: Vec<u64>,
    /// dtype (a string, or a list for structured types).
    pub dtype: Value,
    /// Fill value as written.
    pub fill_value: Value,
    /// Filters (empty for `null`).
    pub filters: Vec<Value>,
    /// Compressor.
    pub compressor: Option<Value>,
    /// `order` is `"F"`.
    pub order_f: bool,
    /// `dimension_separator` is `"/"`.
    pub slash_separator: bool,
}

fn u64_list(v: Option<&Value>, what: &str) -> Result<Vec<u64>, String> {
    let arr = v
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{what} is missing or not a list"))?;
    arr.iter()
        .map(|x| {
            x.as_u64()
                .ok_or_else(|| format!("{what} has a non-integer entry {x}"))
        })
        .collect()
}

impl ArrayMeta {
    /// Parses `.zarray` text, returning the fields and the whole document.
    pub fn parse(text: &[u8]) -> Result<(ArrayMeta, Map<String, Value>), String> {
        let doc = match parse_lenient(text)? {
            Value::Object(m) => m,
            other => return Err(format!("expected a JSON object, found {other}")),
        };
        let shape = u64_list(doc.get("shape"), "shape")?;
        let chunks = u64_list(doc.get("chunks"), "chunks")?;
        if shape.len() != chunks.len() {
            return Err(format!(
                "shape {shape:?} and chunks {chunks:?} have different lengths"
            ));
        }
        if chunks.contains(&0) {
            return Err(format!("chunks {chunks:?} contain 0"));
        }
        let dtype = doc.get("dtype").cloned().ok_or("dtype is missing")?;
        let filters = match doc.get("filters") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(other) => return Err(format!("filters must be a list or null, found {other}")),
        };
        let compressor = match doc.get("compressor") {
            None | Some(Value::Null) => None,
            Some(c) => Some(c.clone()),
        };
        let meta = ArrayMeta {
            shape,
            chunks,
            dtype,
            fill_value: doc.get("fill_value").cloned().unwrap_or(Value::Null),
            filters,
            compressor,
            order_f: doc.get("order").and_then(Value::as_str) == Some("F"),
            slash_separator: doc.get("dimension_separator").and_then(Value::as_str) == Some("/"),
        };
        Ok((meta, doc))
    }

    /// Number of chunks along each axis.
    pub fn grid(&self) -> Vec<u64> {
        self.shape
            .iter()
            .zip(&self.chunks)
            .map(|(&s, &c)| s.div_ceil(c.max(1)))
            .collect()
    }
}

/// `_ARRAY_DIMENSIONS` of an array, or kerchunk's fallback names `i, k, j, l, m` (truncated
/// to the rank) when absent. Errors on a malformed attribute or a rank above 5 without names.
pub fn array_dims(attrs: Option<&Map<String, Value>>, ndim: usize) -> Result<Vec<String>, String> {
    if let Some(v) = attrs.and_then(|a| a.get("_ARRAY_DIMENSIONS")) {
        let list = v
            .as_array()
            .ok_or_else(|| format!("_ARRAY_DIMENSIONS is not a list: {v}"))?;
        let names: Vec<String> = list
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("_ARRAY_DIMENSIONS has a non-string entry: {v}"))?;
        if !names.is_empty() || ndim == 0 {
            if names.len() != ndim {
                return Err(format!(
                    "_ARRAY_DIMENSIONS {names:?} does not match the rank {ndim}"
                ));
            }
            return Ok(names);
        }
    }
    const FALLBACK: [&str; 5] = ["i", "k", "j", "l", "m"];
    if ndim > FALLBACK.len() {
        return Err(format!("no _ARRAY_DIMENSIONS for a rank-{ndim} array"));
    }
    Ok(FALLBACK.iter().take(ndim).map(|s| s.to_string()).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lenient_round_trip() {
        let v = parse_lenient(br#"{"a":NaN,"b":[Infinity,-Infinity],"c":"NaN"}"#).unwrap();
        assert_eq!(
            to_json_text(&v),
            r#"{"a":NaN,"b":[Infinity,-Infinity],"c":"NaN"}"#
        );
        assert!(parse_lenient(b"{").is_err());
    }

    #[test]
    fn zarray_fields() {
        let (m, doc) = ArrayMeta::parse(
            br#"{"shape":[5,4],"chunks":[2,4],"dtype":"<f4","fill_value":"NaN","order":"C","filters":[{"id":"zlib","level":4}],"compressor":null,"zarr_format":2}"#,
        )
        .unwrap();
        assert_eq!(m.grid(), vec![3, 1]);
        assert_eq!(m.filters.len(), 1);
        assert_eq!(doc.len(), 8);
        assert!(ArrayMeta::parse(br#"{"shape":[5],"chunks":[],"dtype":"<f4"}"#).is_err());
        assert!(ArrayMeta::parse(br#"{"shape":[5],"chunks":[0],"dtype":"<f4"}"#).is_err());
        assert!(ArrayMeta::parse(br#"{"shape":[-5],"chunks":[1],"dtype":"<f4"}"#).is_err());
    }

    #[test]
    fn dims() {
        let a = parse_attrs(br#"{"_ARRAY_DIMENSIONS":["y","x"]}"#).unwrap();
        assert_eq!(array_dims(Some(&a), 2).unwrap(), ["y", "x"]);
        assert!(array_dims(Some(&a), 3).is_err());
        assert_eq!(array_dims(None, 2).unwrap(), ["i", "k"]);
        assert!(array_dims(None, 0).unwrap().is_empty());
        assert!(array_dims(None, 6).is_err());
    }
}
