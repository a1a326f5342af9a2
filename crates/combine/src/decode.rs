//! Reading the values of a (small) array from its chunks, for `data:` and `cf:` selectors:
//! zarr v2 codecs (`zlib`, `gzip`, `shuffle`, `vlen-utf8`, `vlen-bytes`, `json2`), numpy
//! dtypes (`b i u f S U M8 O`, either byte order), C order, missing chunks = fill value.

use std::collections::HashMap;
use std::io::Read;

use base64::Engine as _;
use serde_json::Value;

use crate::coord::{Scalar, TimeUnit};
use crate::meta::ArrayMeta;

/// The most elements a selector array may have (bounds allocations by file-supplied shapes).
pub const MAX_SELECTOR_ELEMENTS: u64 = 1 << 24;
const MAX_OBJECT_CHUNK_BYTES: u64 = 1 << 28;

#[derive(Debug, Clone, Copy)]
enum Elem {
    Bool,
    Int(usize, bool),
    UInt(usize, bool),
    Float(usize, bool),
    Bytes(usize),
    Str(usize, bool),
    Time(TimeUnit, bool),
    Object,
}

impl Elem {
    fn parse(dtype: &str) -> Result<Elem, String> {
        let bad = || format!("unsupported dtype {dtype:?} for a coordinate");
        let (be, rest) = match dtype.as_bytes().first() {
            Some(b'>') => (true, dtype.get(1..).unwrap_or("")),
            Some(b'<' | b'|' | b'=') => (false, dtype.get(1..).unwrap_or("")),
            _ => (false, dtype),
        };
        if rest == "O" {
            return Ok(Elem::Object);
        }
        if rest == "b1" {
            return Ok(Elem::Bool);
        }
        if let Some(u) = rest.strip_prefix("M8[").and_then(|u| u.strip_suffix(']')) {
            let unit = TimeUnit::parse(u).ok_or_else(bad)?;
            return Ok(Elem::Time(unit, be));
        }
        let mut chars = rest.chars();
        let kind = chars.next().ok_or_else(bad)?;
        let n: usize = chars.as_str().parse().map_err(|_| bad())?;
        Ok(match (kind, n) {
            ('i', 1 | 2 | 4 | 8) => Elem::Int(n, be),
            ('u', 1 | 2 | 4 | 8) => Elem::UInt(n, be),
            ('f', 4 | 8) => Elem::Float(n, be),
            ('S', 1..=1_000_000) => Elem::Bytes(n),
            ('U', 1..=1_000_000) => Elem::Str(n, be),
            _ => return Err(bad()),
        })
    }

    fn itemsize(&self) -> Option<usize> {
        Some(match self {
            Elem::Bool => 1,
            Elem::Int(n, _) | Elem::UInt(n, _) | Elem::Float(n, _) | Elem::Bytes(n) => *n,
            Elem::Str(n, _) => 4 * n,
            Elem::Time(..) => 8,
            Elem::Object => return None,
        })
    }

    fn decode_one(&self, b: &[u8]) -> Result<Option<Scalar>, String> {
        fn uint(b: &[u8], be: bool) -> u64 {
            let mut v = 0u64;
            if be {
                for &x in b {
                    v = (v << 8) | u64::from(x);
                }
            } else {
                for &x in b.iter().rev() {
                    v = (v << 8) | u64::from(x);
                }
            }
            v
        }
        Ok(Some(match *self {
            Elem::Bool => Scalar::Bool(b.first().is_some_and(|&x| x != 0)),
            Elem::Int(n, be) => {
                let u = uint(b, be);
                let shift = 64 - 8 * n as u32;
                Scalar::Int(((u << shift) as i64) >> shift, n as u8)
            }
            Elem::UInt(n, be) => Scalar::UInt(uint(b, be), n as u8),
            Elem::Float(4, be) => Scalar::Float(f64::from(f32::from_bits(uint(b, be) as u32)), 4),
            Elem::Float(_, be) => Scalar::Float(f64::from_bits(uint(b, be)), 8),
            Elem::Bytes(_) => {
                let end = b.iter().rposition(|&x| x != 0).map_or(0, |p| p + 1);
                Scalar::Bytes(b.get(..end).unwrap_or(&[]).to_vec())
            }
            Elem::Str(_, be) => {
                let mut s = String::new();
                for c in b.chunks_exact(4) {
                    let cp = uint(c, be) as u32;
                    s.push(
                        char::from_u32(cp).ok_or_else(|| format!("invalid code point {cp:#x}"))?,
                    );
                }
                Scalar::Str(s.trim_end_matches('\0').to_string())
            }
            Elem::Time(unit, be) => {
                let v = uint(b, be) as i64;
                if v == i64::MIN {
                    return Ok(None); // NaT
                }
                Scalar::Time(v, unit)
            }
            Elem::Object => return Err("object dtype needs an object codec".into()),
        }))
    }
}

fn codec_id(c: &Value) -> &str {
    c.get("id").and_then(Value::as_str).unwrap_or("")
}

fn inflate(data: &[u8], gzip: bool, limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let res = if gzip {
        flate2::read::MultiGzDecoder::new(data)
            .take(limit + 1)
            .read_to_end(&mut out)
    } else {
        flate2::read::ZlibDecoder::new(data)
            .take(limit + 1)
            .read_to_end(&mut out)
    };
    res.map_err(|e| format!("decompression failed: {e}"))?;
    if out.len() as u64 > limit {
        return Err("decompressed chunk is larger than the chunk shape allows".into());
    }
    Ok(out)
}

fn unshuffle(data: &[u8], elementsize: usize) -> Vec<u8> {
    if elementsize <= 1 || !data.len().is_multiple_of(elementsize) {
        return data.to_vec();
    }
    let n = data.len() / elementsize;
    let mut out = vec![0u8; data.len()];
    for (i, &b) in data.iter().enumerate() {
        let (byte, elem) = (i / n, i % n);
        if let Some(o) = out.get_mut(elem * elementsize + byte) {
            *o = b;
        }
    }
    out
}

fn read_u32(b: &[u8], pos: &mut usize) -> Result<usize, String> {
    let s = b
        .get(*pos..*pos + 4)
        .ok_or_else(|| "truncated vlen chunk".to_string())?;
    *pos += 4;
    let a: [u8; 4] = s
        .try_into()
        .map_err(|_| "truncated vlen chunk".to_string())?;
    Ok(u32::from_le_bytes(a) as usize)
}

fn decode_vlen(b: &[u8], text: bool) -> Result<Vec<Option<Scalar>>, String> {
    let mut pos = 0;
    let n = read_u32(b, &mut pos)?;
    if n > b.len() / 4 {
        return Err("vlen item count exceeds the chunk size".into());
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = read_u32(b, &mut pos)?;
        let item = b
            .get(pos..pos.saturating_add(len))
            .ok_or_else(|| "truncated vlen item".to_string())?;
        pos += len;
        out.push(Some(if text {
            Scalar::Str(
                String::from_utf8(item.to_vec()).map_err(|_| "vlen-utf8 item is not UTF-8")?,
            )
        } else {
            Scalar::Bytes(item.to_vec())
        }));
    }
    Ok(out)
}

fn decode_json2(b: &[u8]) -> Result<Vec<Option<Scalar>>, String> {
    let v: Value = serde_json::from_slice(b).map_err(|e| format!("json2 chunk: {e}"))?;
    let items = v.as_array().ok_or("json2 chunk is not a list")?;
    // [items..., dtype, shape]
    let n = items.len().saturating_sub(2);
    let mut out = Vec::with_capacity(n);
    for it in items.iter().take(n) {
        out.push(match it {
            Value::Null => None,
            other => Scalar::from_json(other)?.into_iter().next(),
        });
    }
    Ok(out)
}

/// Decodes one chunk's bytes into `count` elements.
fn decode_chunk(
    meta: &ArrayMeta,
    elem: Elem,
    raw: &[u8],
    count: u64,
) -> Result<Vec<Option<Scalar>>, String> {
    let limit = match elem.itemsize() {
        Some(s) => count.saturating_mul(s as u64),
        None => MAX_OBJECT_CHUNK_BYTES,
    };
    let mut data: Vec<u8> = raw.to_vec();
    if let Some(c) = &meta.compressor {
        data = match codec_id(c) {
            "zlib" => inflate(&data, false, limit)?,
            "gzip" => inflate(&data, true, limit)?,
            other => return Err(format!("unsupported compressor {other:?}")),
        };
    }
    let mut objects: Option<Vec<Option<Scalar>>> = None;
    for (i, f) in meta.filters.iter().enumerate().rev() {
        if objects.is_some() {
            return Err(format!("filter {:?} after an object codec", codec_id(f)));
        }
        match codec_id(f) {
            "zlib" => data = inflate(&data, false, limit)?,
            "gzip" => data = inflate(&data, true, limit)?,
            "shuffle" => {
                let es = f.get("elementsize").and_then(Value::as_u64).unwrap_or(1);
                data = unshuffle(&data, usize::try_from(es).unwrap_or(1));
            }
            "vlen-utf8" if i == 0 => objects = Some(decode_vlen(&data, true)?),
            "vlen-bytes" if i == 0 => objects = Some(decode_vlen(&data, false)?),
            "json2" if i == 0 => objects = Some(decode_json2(&data)?),
            other => return Err(format!("unsupported codec {other:?}")),
        }
    }
    let out = match objects {
        Some(o) => o,
        None => {
            let size = elem
                .itemsize()
                .ok_or("object dtype without an object codec")?;
            if (data.len() as u64) < limit {
                return Err(format!("chunk has {} bytes, expected {limit}", data.len()));
            }
            data.chunks_exact(size)
                .take(count as usize)
                .map(|b| elem.decode_one(b))
                .collect::<Result<_, _>>()?
        }
    };
    if (out.len() as u64) < count {
        return Err(format!(
            "chunk holds {} elements, expected {count}",
            out.len()
        ));
    }
    Ok(out)
}

fn fill_scalar(meta: &ArrayMeta, elem: Elem) -> Option<Scalar> {
    let f = &meta.fill_value;
    match elem {
        Elem::Float(n, _) => Some(Scalar::Float(
            match f {
                Value::String(s) if s == "NaN" => f64::NAN,
                Value::String(s) if s == "Infinity" => f64::INFINITY,
                Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
                other => other.as_f64().unwrap_or(0.0),
            },
            n as u8,
        )),
        Elem::Bytes(_) => {
            let b = f
                .as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .unwrap_or_default();
            elem.decode_one(&b).ok().flatten()
        }
        Elem::Object => None,
        Elem::Str(..) => Some(Scalar::Str(f.as_str().unwrap_or("").to_string())),
        _ => {
            let v = f.as_i64().unwrap_or(0);
            let bytes = v.to_le_bytes();
            let size = elem.itemsize().unwrap_or(8);
            let le = match elem {
                Elem::Int(n, _) => Elem::Int(n, false),
                Elem::UInt(n, _) => Elem::UInt(n, false),
                Elem::Time(u, _) => Elem::Time(u, false),
                e => e,
            };
            le.decode_one(bytes.get(..size).unwrap_or(&bytes))
                .ok()
                .flatten()
        }
    }
}

/// Reads every element of an array (C order). `chunks` maps chunk-key suffixes (`"0.1"`) to
/// chunk bytes; absent chunks take the fill value. Elements that are null (object `None`,
/// NaT) come back as `None`.
pub fn read_array(
    meta: &ArrayMeta,
    chunks: &HashMap<String, Vec<u8>>,
) -> Result<Vec<Option<Scalar>>, String> {
    let dtype = meta
        .dtype
        .as_str()
        .ok_or("structured dtypes cannot be coordinates")?;
    let elem = Elem::parse(dtype)?;
    let ndim = meta.shape.len();
    if meta.chunks.len() != ndim {
        return Err("chunks and shape have different lengths".into());
    }
    if meta.order_f && ndim > 1 {
        return Err("Fortran-ordered arrays are not supported as coordinates".into());
    }
    let total = meta
        .shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .filter(|&t| t <= MAX_SELECTOR_ELEMENTS)
        .ok_or("array is too large for a coordinate selector")?;
    let chunk_len = meta
        .chunks
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .filter(|&t| t <= MAX_SELECTOR_ELEMENTS)
        .ok_or("chunks are too large for a coordinate selector")?;
    let fill = fill_scalar(meta, elem);
    let mut out: Vec<Option<Scalar>> = vec![fill; total as usize];
    for (suffix, raw) in chunks {
        let idx: Vec<u64> = if ndim == 0 {
            if suffix != "0" {
                return Err(format!("scalar chunk key {suffix:?} is not \"0\""));
            }
            Vec::new()
        } else {
            suffix
                .split('.')
                .map(|p| {
                    p.parse::<u64>()
                        .map_err(|_| format!("bad chunk key {suffix:?}"))
                })
                .collect::<Result<_, _>>()?
        };
        if idx.len() != ndim {
            return Err(format!("chunk key {suffix:?} does not have {ndim} indices"));
        }
        let values =
            decode_chunk(meta, elem, raw, chunk_len).map_err(|e| format!("chunk {suffix}: {e}"))?;
        // Scatter every element of the chunk (C order) that falls inside the array.
        let dims: Vec<(u64, u64, u64)> = (0..ndim)
            .map(|d| {
                let c = meta.chunks.get(d).copied().unwrap_or(1).max(1);
                let s = meta.shape.get(d).copied().unwrap_or(0);
                (c, s, idx.get(d).copied().unwrap_or(0))
            })
            .collect();
        for (j, v) in values.into_iter().enumerate().take(chunk_len as usize) {
            let mut rem = j as u64;
            let mut coords = vec![0u64; ndim];
            let mut inside = true;
            for (d, &(c, s, i)) in dims.iter().enumerate().rev() {
                let g = i.saturating_mul(c).saturating_add(rem % c);
                rem /= c;
                inside &= g < s;
                if let Some(slot) = coords.get_mut(d) {
                    *slot = g;
                }
            }
            if !inside {
                continue;
            }
            let g = coords
                .iter()
                .zip(&dims)
                .fold(0u64, |acc, (&x, &(_, s, _))| {
                    acc.saturating_mul(s).saturating_add(x)
                });
            if let Some(slot) = out.get_mut(g as usize) {
                *slot = v;
            }
        }
    }
    Ok(out)
}
