//! HDF5 attributes → `.zattrs` (kerchunk-behavior.md §2.12).
//!
//! Matches kerchunk: hidden netCDF / dimension-scale attributes are dropped, as is any
//! attribute whose value is the string `"DIMENSION_SCALE"`; scalar fixed-length byte strings
//! decode as UTF-8 with replacement (empty → `" "`); size-1 arrays unwrap to scalars; arrays
//! become lists; null-dataspace attributes become `""`; a numeric `_FillValue` is dropped
//! (it becomes the array's fill value); NaN and ±inf are written as the bare tokens `NaN`,
//! `Infinity`, `-Infinity` (as Python's `json` does); complex numbers become Python's repr
//! (`"(1+2j)"`).
//!
//! Deliberate differences: multi-dimensional arrays become nested lists (kerchunk writes the
//! numpy repr string `"[[0, 1], [2, 3]]"`); compound values become JSON objects (kerchunk
//! aborts the object with a `TypeError`); object references become the target's HDF5 path
//! (kerchunk writes `"<HDF5 object reference>"`).

use std::collections::HashMap;
use std::fmt::Write as _;

use hdf5_meta::format::messages::datatype::{Datatype, VarLenKind};
use hdf5_meta::format::value::{RefValue, Value};
use hdf5_meta::model::Attribute;

/// Attribute names kerchunk never copies into `.zattrs`.
pub const HIDDEN: [&str; 8] = [
    "REFERENCE_LIST",
    "CLASS",
    "DIMENSION_LIST",
    "NAME",
    "_Netcdf4Dimid",
    "_Netcdf4Coordinates",
    "_nc3_strict",
    "_NCProperties",
];

/// A JSON value that can hold non-finite floats (written as bare `NaN` / `Infinity`).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A float (NaN and infinities allowed).
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Json>),
    /// An object, in insertion order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Append the compact JSON text of this value to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Json::UInt(u) => {
                let _ = write!(out, "{u}");
            }
            Json::Float(f) => out.push_str(&float_text(*f)),
            Json::Str(s) => write_str(out, s),
            Json::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => write_object(out, fields),
        }
    }

    /// Compact JSON text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
}

/// Compact JSON text of an object given as ordered fields.
pub fn object_text(fields: &[(String, Json)]) -> String {
    let mut s = String::new();
    write_object(&mut s, fields);
    s
}

fn write_object(out: &mut String, fields: &[(String, Json)]) {
    out.push('{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, k);
        out.push(':');
        v.write(out);
    }
    out.push('}');
}

fn write_str(out: &mut String, s: &str) {
    // serde_json's escaping of a plain string cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\"")));
}

/// Shortest round-trip text of a finite float (`1.5`, `400.0`, `1e37`); the bare tokens
/// `NaN`, `Infinity`, `-Infinity` otherwise.
pub fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        serde_json::Number::from_f64(f).map_or_else(|| "null".to_string(), |n| n.to_string())
    }
}

/// Python's `repr` of a float inside a complex repr: shortest round trip, no trailing `.0`.
fn py_complex_part(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let t = float_text(f);
    t.strip_suffix(".0").map(str::to_string).unwrap_or(t)
}

/// Python's `repr(complex(re, im))`: `"(1+2j)"`, or `"2j"` when the real part is +0.
pub fn py_complex_repr(re: f64, im: f64) -> String {
    let imag = py_complex_part(im);
    if re == 0.0 && re.is_sign_positive() {
        return format!("{imag}j");
    }
    let sign = if im.is_sign_negative() || imag.starts_with('-') {
        ""
    } else {
        "+"
    };
    format!("({}{sign}{imag}j)", py_complex_part(re))
}

/// Lookup of object header addresses (as stored in references) to HDF5 paths.
pub type PathIndex = HashMap<u64, String>;

/// Convert one element value.
fn element(dt: &Datatype, v: &Value, paths: &PathIndex) -> Json {
    match v {
        Value::Int(i) => Json::Int(*i),
        Value::UInt(u) => Json::UInt(*u),
        Value::Float(f) => Json::Float(*f),
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::Str(s.clone()),
        Value::Bytes(b) => Json::Str(String::from_utf8_lossy(b).into_owned()),
        Value::Enum { value, .. } => {
            let base = match dt {
                Datatype::Enum(e) => e.base.as_ref(),
                other => other,
            };
            element(base, value, paths)
        }
        Value::Complex(re, im) => Json::Str(py_complex_repr(*re, *im)),
        Value::Compound(fields) => {
            let members: Vec<&Datatype> = match dt {
                Datatype::Compound(c) => c.members.iter().map(|m| &m.datatype).collect(),
                _ => Vec::new(),
            };
            Json::Object(
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, (name, val))| {
                        (
                            name.clone(),
                            element(members.get(i).copied().unwrap_or(dt), val, paths),
                        )
                    })
                    .collect(),
            )
        }
        Value::Array(items) => {
            let base = match dt {
                Datatype::Array(a) => a.base.as_ref(),
                Datatype::VarLen(v) => v.base.as_ref(),
                other => other,
            };
            Json::List(items.iter().map(|i| element(base, i, paths)).collect())
        }
        Value::Opaque(b) => Json::Str(String::from_utf8_lossy(b).into_owned()),
        Value::Reference(RefValue::Object(Some(addr))) => match paths.get(addr) {
            Some(p) => Json::Str(p.clone()),
            None => Json::Str("<HDF5 object reference>".to_string()),
        },
        Value::Reference(RefValue::Object(None)) => {
            Json::Str("<HDF5 object reference>".to_string())
        }
        Value::Reference(_) => Json::Str("<HDF5 region reference>".to_string()),
        Value::VarLen { .. } => Json::Null,
    }
}

/// Most lists an attribute's nesting may create beyond its number of values.
const MAX_EMPTY_LISTS: u64 = 1 << 16;

/// Nest a flat C-order list of values by `shape` (dimensions of length 0 give empty lists).
fn nest(mut flat: Vec<Json>, shape: &[u64]) -> Json {
    match shape {
        [] | [_] => Json::List(flat),
        [first, rest @ ..] => {
            let n = usize::try_from(*first).unwrap_or(0);
            let inner: usize = rest
                .iter()
                .map(|&d| usize::try_from(d).unwrap_or(0))
                .product();
            let mut out = Vec::with_capacity(n.min(flat.len().max(1)));
            for _ in 0..n {
                let take = inner.min(flat.len());
                let tail = flat.split_off(take);
                out.push(nest(flat, rest));
                flat = tail;
            }
            Json::List(out)
        }
    }
}

/// Convert an attribute's value as kerchunk does (see the module docs); `None` drops it.
pub fn convert(a: &Attribute, paths: &PathIndex) -> Option<Json> {
    if HIDDEN.contains(&a.name.as_str()) {
        return None;
    }
    let is_string = match &a.datatype {
        Datatype::String(_) => true,
        Datatype::VarLen(v) => matches!(v.kind, VarLenKind::String { .. }),
        _ => false,
    };
    let Some(shape) = &a.shape else {
        return Some(Json::Str(String::new())); // h5py.Empty
    };
    if a.name == "_FillValue" && !(is_string && shape.is_empty()) {
        return None; // numeric (numpy) _FillValue feeds the fill value instead
    }
    let value = if shape.is_empty() {
        let v = element(&a.datatype, &a.value, paths);
        match (&a.datatype, v) {
            // np.bytes_ → str; an empty result becomes " ".
            (Datatype::String(_), Json::Str(s)) if s.is_empty() => Json::Str(" ".to_string()),
            (_, v) => v,
        }
    } else {
        let items: Vec<Json> = match &a.value {
            Value::Array(items) => items
                .iter()
                .map(|i| element(&a.datatype, i, paths))
                .collect(),
            other => vec![element(&a.datatype, other, paths)],
        };
        if items.len() == 1 {
            items.into_iter().next().unwrap_or(Json::Null)
        } else {
            // Nesting makes one list per index of the leading dimensions, whatever the data:
            // a zero-length dimension under a declared 2^32-long first one would be
            // billions of empty lists. Such an attribute (no values) is dropped instead.
            // Lists made: d0 at the first level, d0·d1 at the second, … (all but the last).
            let lead = shape.split_last().map_or(&[][..], |(_, lead)| lead);
            let lists = lead
                .iter()
                .try_fold((1u64, 0u64), |(level, total), &d| {
                    let level = level.checked_mul(d)?;
                    Some((level, total.checked_add(level)?))
                })
                .map(|(_, total)| total);
            if lists.is_none_or(|n| n > MAX_EMPTY_LISTS.max(items.len() as u64)) {
                return None;
            }
            nest(items, shape)
        }
    };
    if value == Json::Str("DIMENSION_SCALE".to_string()) {
        return None;
    }
    Some(value)
}

/// Convert all attributes of an object, in order.
pub fn convert_all(attrs: &[Attribute], paths: &PathIndex) -> Vec<(String, Json)> {
    attrs
        .iter()
        .filter_map(|a| convert(a, paths).map(|v| (a.name.clone(), v)))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::translate::dtype::tests::{float, int, string};
    use hdf5_meta::format::messages::datatype::{ByteOrder, ComplexType, FloatType};

    fn attr(name: &str, dt: Datatype, shape: Option<Vec<u64>>, value: Value) -> Attribute {
        Attribute {
            name: name.to_string(),
            datatype: dt,
            shape,
            value,
        }
    }

    fn conv(a: &Attribute) -> Option<String> {
        convert(a, &PathIndex::new()).map(|j| j.to_text())
    }

    #[test]
    fn zero_length_dimensions() {
        let le = ByteOrder::LittleEndian;
        let empty =
            |shape: Vec<u64>| attr("z", int(4, true, le), Some(shape), Value::Array(vec![]));
        // As h5py's .tolist(): one empty list per index of the leading dimensions.
        assert_eq!(conv(&empty(vec![3, 0])).unwrap(), "[[],[],[]]");
        assert_eq!(conv(&empty(vec![0])).unwrap(), "[]");
        // Found by fuzzing: 2^32 - 7 empty lists would exhaust memory; dropped instead.
        let started = std::time::Instant::now();
        assert_eq!(conv(&empty(vec![u64::from(u32::MAX) - 6, 0])), None);
        assert_eq!(conv(&empty(vec![u64::MAX, u64::MAX, 0])), None);
        // Also when the zero is not the last dimension (found by fuzzing too).
        assert_eq!(conv(&empty(vec![u64::from(u32::MAX), 0, 5])), None);
        assert_eq!(conv(&empty(vec![2, 0, 5])).unwrap(), "[[],[]]");
        assert!(started.elapsed().as_secs() < 1);
    }

    #[test]
    fn scalars_and_strings() {
        let le = ByteOrder::LittleEndian;
        assert_eq!(
            conv(&attr(
                "i",
                int(8, true, le),
                Some(vec![]),
                Value::Int(1 << 40)
            ))
            .unwrap(),
            "1099511627776"
        );
        // float32 0.1 widened: kerchunk's observed 0.10000000149011612.
        assert_eq!(
            conv(&attr(
                "f",
                float(4, le),
                Some(vec![]),
                Value::Float(f64::from(0.1f32))
            ))
            .unwrap(),
            "0.10000000149011612"
        );
        assert_eq!(
            conv(&attr(
                "n",
                float(8, le),
                Some(vec![]),
                Value::Float(f64::NAN)
            ))
            .unwrap(),
            "NaN"
        );
        assert_eq!(
            conv(&attr(
                "n",
                float(8, le),
                Some(vec![]),
                Value::Float(f64::NEG_INFINITY)
            ))
            .unwrap(),
            "-Infinity"
        );
        assert_eq!(
            conv(&attr(
                "s",
                string(4),
                Some(vec![]),
                Value::Bytes(vec![0xff, 0xfe, b'a', b'b'])
            ))
            .unwrap(),
            r#""\ufffd\ufffdab""#.replace("\\ufffd", "\u{fffd}")
        );
        assert_eq!(
            conv(&attr(
                "e",
                string(4),
                Some(vec![]),
                Value::String(String::new())
            ))
            .unwrap(),
            r#"" ""#
        );
        assert_eq!(
            conv(&attr("empty", int(4, true, le), None, Value::Array(vec![]))).unwrap(),
            r#""""#
        );
        assert_eq!(
            conv(&attr(
                "CLASS",
                string(16),
                Some(vec![]),
                Value::String("DIMENSION_SCALE".into())
            )),
            None
        );
        assert_eq!(
            conv(&attr(
                "other",
                string(16),
                Some(vec![]),
                Value::String("DIMENSION_SCALE".into())
            )),
            None
        );
        assert_eq!(
            conv(&attr(
                "_FillValue",
                float(4, le),
                Some(vec![1]),
                Value::Array(vec![Value::Float(1.0)])
            )),
            None
        );
        assert_eq!(
            conv(&attr(
                "_FillValue",
                string(2),
                Some(vec![]),
                Value::String("xx".into())
            ))
            .unwrap(),
            r#""xx""#
        );
        assert_eq!(
            conv(&attr(
                "b",
                int(1, true, le),
                Some(vec![]),
                Value::Bool(true)
            ))
            .unwrap(),
            "true"
        );
    }

    #[test]
    fn arrays() {
        let le = ByteOrder::LittleEndian;
        let one = attr(
            "one",
            float(8, le),
            Some(vec![1]),
            Value::Array(vec![Value::Float(7.5)]),
        );
        assert_eq!(conv(&one).unwrap(), "7.5");
        let list = attr(
            "l",
            int(1, false, le),
            Some(vec![3]),
            Value::Array(vec![Value::UInt(1), Value::UInt(2), Value::UInt(3)]),
        );
        assert_eq!(conv(&list).unwrap(), "[1,2,3]");
        let m = attr(
            "m",
            int(4, true, le),
            Some(vec![2, 3]),
            Value::Array((0..6).map(Value::Int).collect()),
        );
        assert_eq!(conv(&m).unwrap(), "[[0,1,2],[3,4,5]]");
        let s = attr(
            "s",
            string(2),
            Some(vec![2]),
            Value::Array(vec![
                Value::String("ab".into()),
                Value::String(String::new()),
            ]),
        );
        assert_eq!(conv(&s).unwrap(), r#"["ab",""]"#);
    }

    #[test]
    fn complex_refs_and_compounds() {
        let f = match float(8, ByteOrder::LittleEndian) {
            Datatype::FloatingPoint(f) => f,
            _ => unreachable!(),
        };
        let c = Datatype::Complex(ComplexType {
            size: 16,
            base: Box::new(Datatype::FloatingPoint(FloatType { ..f })),
        });
        assert_eq!(
            conv(&attr(
                "c",
                c.clone(),
                Some(vec![]),
                Value::Complex(1.0, 2.0)
            ))
            .unwrap(),
            r#""(1+2j)""#
        );
        assert_eq!(
            conv(&attr(
                "c",
                c.clone(),
                Some(vec![]),
                Value::Complex(1.5, -2.0)
            ))
            .unwrap(),
            r#""(1.5-2j)""#
        );
        assert_eq!(
            conv(&attr("c", c, Some(vec![]), Value::Complex(0.0, 3.0))).unwrap(),
            r#""3j""#
        );
        let r = Datatype::Reference(hdf5_meta::format::messages::datatype::ReferenceType {
            size: 8,
            kind: hdf5_meta::format::messages::datatype::ReferenceKind::Object,
            encoding_version: 0,
        });
        let mut paths = PathIndex::new();
        paths.insert(800, "/grp/x".to_string());
        let a = attr(
            "r",
            r.clone(),
            Some(vec![]),
            Value::Reference(RefValue::Object(Some(800))),
        );
        assert_eq!(convert(&a, &paths).unwrap().to_text(), r#""/grp/x""#);
        let a = attr(
            "r",
            r,
            Some(vec![]),
            Value::Reference(RefValue::Object(Some(5))),
        );
        assert_eq!(
            convert(&a, &paths).unwrap().to_text(),
            r#""<HDF5 object reference>""#
        );
        let comp = crate::translate::dtype::tests::compound(
            vec![("a", 0, int(4, true, ByteOrder::LittleEndian))],
            4,
        );
        let a = attr(
            "k",
            comp,
            Some(vec![]),
            Value::Compound(vec![("a".into(), Value::Int(3))]),
        );
        assert_eq!(conv(&a).unwrap(), r#"{"a":3}"#);
    }

    #[test]
    fn object_text_escapes() {
        let o = vec![
            ("a/b".to_string(), Json::Str("x\"y".into())),
            ("n".to_string(), Json::Float(f64::INFINITY)),
        ];
        assert_eq!(object_text(&o), r#"{"a/b":"x\"y","n":Infinity}"#);
        assert_eq!(float_text(400.0), "400.0");
    }
}
