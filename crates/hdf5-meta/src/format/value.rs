//! Decoded values of fixed-size datatype elements (attribute values, fill values, small
//! datasets). Pure: variable-length data and references are returned as placeholders that
//! the walker resolves through the global heap or object headers.

use crate::error::{FormatError, Result};
use crate::format::cursor::read_le;
use crate::format::messages::datatype::{
    ByteOrder, Datatype, FloatType, MantissaNorm, ReferenceKind, StringPadding,
};

const STRUCTURE: &str = "datatype value";

/// Deepest nesting of values decoded (mirrors the datatype parser's limit).
const MAX_DEPTH: usize = 40;

/// A global heap ID as stored in variable-length elements and region references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapId {
    /// Address of the global heap collection (`None` = undefined address).
    pub collection: Option<u64>,
    /// Index of the object within the collection.
    pub index: u32,
}

/// A reference value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefValue {
    /// Object reference: raw object header address (`None` = undefined; h5py writes 0 for
    /// a null reference).
    Object(Option<u64>),
    /// Old dataset-region reference: global heap ID of the serialized selection.
    Region(HeapId),
    /// Revised (HDF5 1.12+) reference: the encoded bytes, uninterpreted.
    Encoded(Vec<u8>),
}

/// One decoded element.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Signed integer (fixed-point signed, time).
    Int(i64),
    /// Unsigned integer (fixed-point unsigned, bitfield).
    UInt(u64),
    /// Floating-point number (any layout, converted to f64).
    Float(f64),
    /// h5py-style boolean: an enum over a 1-byte integer with members FALSE=0, TRUE=1.
    Bool(bool),
    /// Raw bytes: a fixed-length string that is not valid UTF-8 (padding removed).
    Bytes(Vec<u8>),
    /// Fixed-length string with padding removed.
    String(String),
    /// Array element, nested by dimension (slowest-varying dimension outermost).
    Array(Vec<Value>),
    /// Compound element: (member name, value) in member order.
    Compound(Vec<(String, Value)>),
    /// Enumeration element: the matching member name (`None` if no member matches) and the
    /// base-type value.
    Enum {
        /// Name of the matching member.
        name: Option<String>,
        /// Decoded base value.
        value: Box<Value>,
    },
    /// Complex number (real, imaginary).
    Complex(f64, f64),
    /// Opaque bytes.
    Opaque(Vec<u8>),
    /// Variable-length element placeholder: element count (or byte length for strings) and
    /// the global heap ID holding the data.
    VarLen {
        /// Number of base-type elements (bytes for strings).
        length: u32,
        /// Where the data lives.
        heap_id: HeapId,
    },
    /// Reference placeholder.
    Reference(RefValue),
}

fn err(reason: impl Into<String>) -> FormatError {
    FormatError::invalid(STRUCTURE, 0, reason)
}

/// Decode one element of type `dt` from the start of `bytes` (which must hold at least
/// `dt.size()` bytes).
pub fn decode_value(dt: &Datatype, bytes: &[u8]) -> Result<Value> {
    decode_at(dt, bytes, 0)
}

/// Decode `count` consecutive elements of type `dt` from `bytes`.
pub fn decode_values(dt: &Datatype, bytes: &[u8], count: u64) -> Result<Vec<Value>> {
    let size = usize::try_from(dt.size()).map_err(|_| err("element size too large"))?;
    if size == 0 {
        return Err(err("element size 0"));
    }
    let n = usize::try_from(count).map_err(|_| err("element count too large"))?;
    let needed = n
        .checked_mul(size)
        .filter(|&t| t <= bytes.len())
        .ok_or_else(|| {
            err(format!(
                "{count} elements of {size} bytes exceed the {} bytes given",
                bytes.len()
            ))
        })?;
    bytes
        .get(..needed)
        .unwrap_or_default()
        .chunks_exact(size)
        .map(|chunk| decode_value(dt, chunk))
        .collect()
}

/// The first `size` bytes of `bytes`, or an error when too short.
fn element(bytes: &[u8], size: u64) -> Result<&[u8]> {
    usize::try_from(size)
        .ok()
        .and_then(|n| bytes.get(..n))
        .ok_or_else(|| {
            err(format!(
                "{} bytes given for a {size}-byte element",
                bytes.len()
            ))
        })
}

/// Assemble up to 16 bytes into an integer honouring the byte order.
fn to_u128(bytes: &[u8], order: ByteOrder) -> Result<u128> {
    if bytes.len() > 16 {
        return Err(FormatError::unsupported(
            STRUCTURE,
            0,
            "numeric element wider than 16 bytes",
        ));
    }
    let fold = |acc: u128, &b: &u8| (acc << 8) | u128::from(b);
    Ok(match order {
        ByteOrder::LittleEndian => bytes.iter().rev().fold(0, fold),
        ByteOrder::BigEndian => bytes.iter().fold(0, fold),
    })
}

/// Extract `width` bits starting at bit `pos` (width ≤ 128).
fn bit_field(raw: u128, pos: u32, width: u32) -> u128 {
    let shifted = raw.checked_shr(pos).unwrap_or(0);
    if width >= 128 {
        shifted
    } else {
        shifted & ((1u128 << width) - 1)
    }
}

fn decode_integer(
    bytes: &[u8],
    order: ByteOrder,
    offset: u16,
    precision: u16,
    signed: bool,
) -> Result<Value> {
    if precision > 64 {
        return Err(FormatError::unsupported(
            STRUCTURE,
            0,
            format!("{precision}-bit integer"),
        ));
    }
    let raw = to_u128(bytes, order)?;
    let v = bit_field(raw, offset.into(), precision.into()) as u64;
    if signed {
        // Sign-extend from `precision` bits (precision 0 decodes as 0).
        let shift = 64 - u32::from(precision).min(64);
        let s = v.checked_shl(shift).map_or(0, |x| (x as i64) >> shift);
        Ok(Value::Int(s))
    } else {
        Ok(Value::UInt(v))
    }
}

/// `x · 2^k` without intermediate overflow/underflow for the exponent ranges of HDF5 floats.
fn ldexp(x: f64, k: i64) -> f64 {
    let k = k.clamp(-2200, 2200) as i32;
    let half = k / 2;
    x * 2f64.powi(half) * 2f64.powi(k - half)
}

fn decode_float(t: &FloatType, bytes: &[u8]) -> Result<f64> {
    let raw = to_u128(bytes, t.order)?;
    match t.ieee_bits() {
        Some(32) => return Ok(f64::from(f32::from_bits(raw as u32))),
        Some(64) => return Ok(f64::from_bits(raw as u64)),
        _ => {}
    }
    let sign = bit_field(raw, t.sign_location.into(), 1) != 0;
    let esize = u32::from(t.exponent_size);
    let msize = u32::from(t.mantissa_size);
    let e = bit_field(raw, t.exponent_location.into(), esize);
    let m = bit_field(raw, t.mantissa_location.into(), msize);
    let e_max = if esize >= 128 {
        u128::MAX
    } else {
        (1u128 << esize) - 1
    };
    let bias = i64::from(t.exponent_bias);
    let e_i = i64::try_from(e).unwrap_or(i64::MAX);
    let msize_i = i64::from(msize);
    let magnitude = if e == e_max && esize > 0 {
        // Infinity or NaN; with an explicit leading bit, ignore it when testing the fraction.
        let fraction = match t.normalization {
            MantissaNorm::MsbSet if msize > 0 => bit_field(m, 0, msize - 1),
            _ => m,
        };
        if fraction == 0 {
            f64::INFINITY
        } else {
            f64::NAN
        }
    } else {
        let mf = m as f64;
        match t.normalization {
            MantissaNorm::Implied if e == 0 => ldexp(mf, 1 - bias - msize_i),
            MantissaNorm::Implied => ldexp(ldexp(1.0, msize_i) + mf, e_i - bias - msize_i),
            MantissaNorm::MsbSet => ldexp(mf, e_i.max(1) - bias - (msize_i - 1)),
            MantissaNorm::None => ldexp(mf, e_i - bias - msize_i),
        }
    };
    Ok(if sign { -magnitude } else { magnitude })
}

/// Strip string padding per the HDF5 rules and decode as UTF-8 when possible.
pub fn decode_string(bytes: &[u8], padding: StringPadding) -> Value {
    let trimmed = match padding {
        StringPadding::NullTerminate => {
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            bytes.get(..end).unwrap_or_default()
        }
        StringPadding::NullPad => {
            let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            bytes.get(..end).unwrap_or_default()
        }
        StringPadding::SpacePad => {
            let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
            bytes.get(..end).unwrap_or_default()
        }
    };
    match std::str::from_utf8(trimmed) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => Value::Bytes(trimmed.to_vec()),
    }
}

fn heap_id(bytes: &[u8]) -> Result<HeapId> {
    // Global heap ID = collection address (Size of Offsets) + 4-byte index.
    let (addr, index) = bytes
        .len()
        .checked_sub(4)
        .map(|o| bytes.split_at(o))
        .ok_or_else(|| err("global heap ID shorter than 4 bytes"))?;
    let collection = if addr.iter().all(|&b| b == 0xff) {
        None
    } else {
        Some(read_le(addr).ok_or_else(|| err("global heap address wider than 64 bits"))?)
    };
    let index = read_le(index).unwrap_or(0) as u32;
    Ok(HeapId { collection, index })
}

fn decode_array(base: &Datatype, dims: &[u32], bytes: &[u8], depth: usize) -> Result<Value> {
    let Some((&first, rest)) = dims.split_first() else {
        return decode_at(base, bytes, depth + 1);
    };
    let stride = rest
        .iter()
        .try_fold(base.size(), |acc, &d| acc.checked_mul(u64::from(d)))
        .and_then(|s| usize::try_from(s).ok())
        .filter(|&s| s > 0)
        .ok_or_else(|| err("array stride overflows or is zero"))?;
    let n = usize::try_from(first).map_err(|_| err("array dimension too large"))?;
    if n.checked_mul(stride).is_none_or(|t| t > bytes.len()) {
        return Err(err("array element larger than the bytes given"));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let start = i.saturating_mul(stride);
        let sub = bytes.get(start..).unwrap_or_default();
        out.push(decode_array(base, rest, sub, depth)?);
    }
    Ok(Value::Array(out))
}

fn decode_at(dt: &Datatype, bytes: &[u8], depth: usize) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(err("value nesting too deep"));
    }
    let bytes = element(bytes, dt.size())?;
    match dt {
        Datatype::FixedPoint(t) => {
            decode_integer(bytes, t.order, t.bit_offset, t.precision, t.signed)
        }
        Datatype::Bitfield(t) => decode_integer(bytes, t.order, t.bit_offset, t.precision, false),
        Datatype::Time(t) => decode_integer(bytes, t.order, 0, t.precision, true),
        Datatype::FloatingPoint(t) => decode_float(t, bytes).map(Value::Float),
        Datatype::String(t) => Ok(decode_string(bytes, t.padding)),
        Datatype::Opaque(_) => Ok(Value::Opaque(bytes.to_vec())),
        Datatype::Compound(t) => {
            let mut out = Vec::with_capacity(t.members.len());
            for m in &t.members {
                let start =
                    usize::try_from(m.offset).map_err(|_| err("member offset too large"))?;
                let sub = bytes
                    .get(start..)
                    .ok_or_else(|| err(format!("member {:?} outside the element", m.name)))?;
                out.push((m.name.clone(), decode_at(&m.datatype, sub, depth + 1)?));
            }
            Ok(Value::Compound(out))
        }
        Datatype::Reference(t) => match t.kind {
            ReferenceKind::Object => {
                let addr = if bytes.iter().all(|&b| b == 0xff) {
                    None
                } else {
                    Some(read_le(bytes).ok_or_else(|| err("object reference wider than 64 bits"))?)
                };
                Ok(Value::Reference(RefValue::Object(addr)))
            }
            ReferenceKind::DatasetRegion => Ok(Value::Reference(RefValue::Region(heap_id(bytes)?))),
            _ => Ok(Value::Reference(RefValue::Encoded(bytes.to_vec()))),
        },
        Datatype::Enum(t) => {
            let value = decode_at(&t.base, bytes, depth + 1)?;
            if t.is_h5py_bool() {
                match value {
                    Value::Int(0) | Value::UInt(0) => return Ok(Value::Bool(false)),
                    Value::Int(1) | Value::UInt(1) => return Ok(Value::Bool(true)),
                    _ => {}
                }
            }
            let name = t
                .members
                .iter()
                .find(|m| m.value == bytes)
                .map(|m| m.name.clone());
            Ok(Value::Enum {
                name,
                value: Box::new(value),
            })
        }
        Datatype::VarLen(_) => {
            let (len, id) = bytes
                .split_at_checked(4)
                .ok_or_else(|| err("variable-length element shorter than 4 bytes"))?;
            let length = read_le(len).unwrap_or(0) as u32;
            Ok(Value::VarLen {
                length,
                heap_id: heap_id(id)?,
            })
        }
        Datatype::Array(t) => decode_array(&t.base, &t.dims, bytes, depth),
        Datatype::Complex(t) => {
            let Datatype::FloatingPoint(f) = t.base.as_ref() else {
                return Err(err("complex base type is not floating point"));
            };
            let half = usize::try_from(f.size).map_err(|_| err("complex part too large"))?;
            let (re, im) = bytes
                .split_at_checked(half)
                .ok_or_else(|| err("complex element too short"))?;
            Ok(Value::Complex(decode_float(f, re)?, decode_float(f, im)?))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::format::messages::datatype::parse;
    use crate::format::Sizes;

    fn dt(bytes: &[u8]) -> Datatype {
        parse(bytes, 0, Sizes::DEFAULT).unwrap()
    }

    fn header(version: u8, class: u8, bits: u32, size: u32) -> Vec<u8> {
        let mut v = vec![(version << 4) | class];
        v.extend_from_slice(&bits.to_le_bytes()[..3]);
        v.extend_from_slice(&size.to_le_bytes());
        v
    }

    fn int(size: u32, signed: bool, big: bool) -> Vec<u8> {
        let mut v = header(1, 0, u32::from(big) | if signed { 8 } else { 0 }, size);
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&((size * 8) as u16).to_le_bytes());
        v
    }

    fn float(size: u32, big: bool, esize: u8, msize: u8, bias: u32, norm: u32) -> Vec<u8> {
        let bits = u32::from(big) | (norm << 4) | ((size * 8 - 1) << 8);
        let mut v = header(1, 1, bits, size);
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&((size * 8) as u16).to_le_bytes());
        v.extend_from_slice(&[msize, esize, 0, msize]);
        v.extend_from_slice(&bias.to_le_bytes());
        v
    }

    #[test]
    fn integers_both_orders_and_sign_extension() {
        let t = dt(&int(4, true, false));
        assert_eq!(
            decode_value(&t, &(-5i32).to_le_bytes()).unwrap(),
            Value::Int(-5)
        );
        let t = dt(&int(2, false, true));
        assert_eq!(
            decode_value(&t, &[0x12, 0x34]).unwrap(),
            Value::UInt(0x1234)
        );
        let t = dt(&int(8, true, true));
        assert_eq!(
            decode_value(&t, &i64::MIN.to_be_bytes()).unwrap(),
            Value::Int(i64::MIN)
        );
        // 12-bit signed value at bit offset 2 in a 2-byte element: 0xFFF << 2 = -1.
        let mut v = header(1, 0, 8, 2);
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&12u16.to_le_bytes());
        assert_eq!(
            decode_value(&dt(&v), &[0xfc, 0x3f]).unwrap(),
            Value::Int(-1)
        );
        // Too few bytes is an error.
        assert!(decode_value(&dt(&int(4, true, false)), &[1, 2]).is_err());
    }

    #[test]
    fn floats_ieee_half_bfloat_and_extended() {
        let f8 = dt(&float(8, false, 11, 52, 1023, 2));
        assert_eq!(
            decode_value(&f8, &1.5f64.to_le_bytes()).unwrap(),
            Value::Float(1.5)
        );
        let f4be = dt(&float(4, true, 8, 23, 127, 2));
        assert_eq!(
            decode_value(&f4be, &(-2.25f32).to_be_bytes()).unwrap(),
            Value::Float(-2.25)
        );
        // binary16: 0x3c00 = 1.0, 0xc000 = -2.0, 0x0001 = 2^-24 (subnormal), 0x7c00 = inf.
        let f2 = dt(&float(2, false, 5, 10, 15, 2));
        assert_eq!(decode_value(&f2, &[0x00, 0x3c]).unwrap(), Value::Float(1.0));
        assert_eq!(
            decode_value(&f2, &[0x00, 0xc0]).unwrap(),
            Value::Float(-2.0)
        );
        assert_eq!(
            decode_value(&f2, &[0x01, 0x00]).unwrap(),
            Value::Float(2f64.powi(-24))
        );
        assert_eq!(
            decode_value(&f2, &[0x00, 0x7c]).unwrap(),
            Value::Float(f64::INFINITY)
        );
        let Value::Float(nan) = decode_value(&f2, &[0x01, 0x7e]).unwrap() else {
            panic!()
        };
        assert!(nan.is_nan());
        // bfloat16: top half of an f32; 0x3fc0 = 1.5.
        let bf = dt(&float(2, false, 8, 7, 127, 2));
        assert_eq!(decode_value(&bf, &[0xc0, 0x3f]).unwrap(), Value::Float(1.5));
        // x87 80-bit extended in 16 bytes: explicit leading bit (MsbSet), 64-bit mantissa at 0,
        // 15-bit exponent at 64, sign at 79, bias 16383. 3.0 = 1.1b × 2^1.
        let mut v = header(1, 1, (1 << 4) | (79 << 8), 16);
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&80u16.to_le_bytes());
        v.extend_from_slice(&[64, 15, 0, 64]);
        v.extend_from_slice(&16383u32.to_le_bytes());
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&0xC000_0000_0000_0000u64.to_le_bytes());
        bytes[8..10].copy_from_slice(&(16383u16 + 1).to_le_bytes());
        assert_eq!(decode_value(&dt(&v), &bytes).unwrap(), Value::Float(3.0));
    }

    #[test]
    fn strings_follow_padding_rules() {
        let nt = dt(&header(1, 3, 0, 6));
        assert_eq!(
            decode_value(&nt, b"ab\0cd\0").unwrap(),
            Value::String("ab".into())
        );
        let np = dt(&header(1, 3, 1, 6));
        assert_eq!(
            decode_value(&np, b"ab\0cd\0").unwrap(),
            Value::String("ab\0cd".into())
        );
        let sp = dt(&header(1, 3, 2, 6));
        assert_eq!(
            decode_value(&sp, b"ab c  ").unwrap(),
            Value::String("ab c".into())
        );
        assert_eq!(
            decode_value(&np, b"\xff\xfe\0\0\0\0").unwrap(),
            Value::Bytes(vec![0xff, 0xfe])
        );
    }

    #[test]
    fn compound_enum_bool_array_complex() {
        // {a: i2 at 0, b: f4 at 4} size 8, v3 encoding.
        let mut v = header(3, 6, 2, 8);
        v.extend_from_slice(b"a\0");
        v.push(0);
        v.extend_from_slice(&int(2, true, false));
        v.extend_from_slice(b"b\0");
        v.push(4);
        v.extend_from_slice(&float(4, false, 8, 23, 127, 2));
        let mut bytes = vec![0xfe, 0xff, 0, 0];
        bytes.extend_from_slice(&0.5f32.to_le_bytes());
        assert_eq!(
            decode_value(&dt(&v), &bytes).unwrap(),
            Value::Compound(vec![
                ("a".into(), Value::Int(-2)),
                ("b".into(), Value::Float(0.5))
            ])
        );
        // h5py bool enum.
        let mut v = header(1, 8, 2, 1);
        v.extend_from_slice(&int(1, true, false));
        v.extend_from_slice(b"FALSE\0\0\0TRUE\0\0\0\0");
        v.extend_from_slice(&[0, 1]);
        let t = dt(&v);
        assert_eq!(decode_value(&t, &[1]).unwrap(), Value::Bool(true));
        assert_eq!(
            decode_value(&t, &[7]).unwrap(),
            Value::Enum {
                name: None,
                value: Box::new(Value::Int(7))
            }
        );
        // Ordinary enum.
        let mut v = header(3, 8, 2, 2);
        v.extend_from_slice(&int(2, false, false));
        v.extend_from_slice(b"RED\0GREEN\0");
        v.extend_from_slice(&[5, 0, 7, 0]);
        assert_eq!(
            decode_value(&dt(&v), &[7, 0]).unwrap(),
            Value::Enum {
                name: Some("GREEN".into()),
                value: Box::new(Value::UInt(7))
            }
        );
        // Array u1[2][3] → nested.
        let mut v = header(3, 10, 0, 6);
        v.push(2);
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&int(1, false, false));
        let row = |a: u64, b: u64, c: u64| {
            Value::Array(vec![Value::UInt(a), Value::UInt(b), Value::UInt(c)])
        };
        assert_eq!(
            decode_value(&dt(&v), &[1, 2, 3, 4, 5, 6]).unwrap(),
            Value::Array(vec![row(1, 2, 3), row(4, 5, 6)])
        );
        // Complex of f4.
        let mut v = header(5, 11, 1, 8);
        v.extend_from_slice(&float(4, false, 8, 23, 127, 2));
        let mut bytes = 1.0f32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&(-3.0f32).to_le_bytes());
        assert_eq!(
            decode_value(&dt(&v), &bytes).unwrap(),
            Value::Complex(1.0, -3.0)
        );
    }

    #[test]
    fn vlen_and_reference_placeholders() {
        let mut v = header(1, 9, 1, 16);
        v.extend_from_slice(&int(1, false, false));
        let mut bytes = 5u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&0x1234u64.to_le_bytes());
        bytes.extend_from_slice(&3u32.to_le_bytes());
        assert_eq!(
            decode_value(&dt(&v), &bytes).unwrap(),
            Value::VarLen {
                length: 5,
                heap_id: HeapId {
                    collection: Some(0x1234),
                    index: 3
                }
            }
        );
        // O = 4 file: vlen element is 12 bytes.
        let mut v = header(1, 9, 0, 12);
        v.extend_from_slice(&int(4, true, false));
        let mut bytes = 2u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0xff; 4]);
        bytes.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            decode_value(&dt(&v), &bytes).unwrap(),
            Value::VarLen {
                length: 2,
                heap_id: HeapId {
                    collection: None,
                    index: 0
                }
            }
        );
        let r = dt(&header(1, 7, 0, 8));
        assert_eq!(
            decode_value(&r, &800u64.to_le_bytes()).unwrap(),
            Value::Reference(RefValue::Object(Some(800)))
        );
        let r = dt(&header(1, 7, 1, 12));
        let mut bytes = 96u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        assert_eq!(
            decode_value(&r, &bytes).unwrap(),
            Value::Reference(RefValue::Region(HeapId {
                collection: Some(96),
                index: 1
            }))
        );
    }

    #[test]
    fn decode_values_checks_bounds() {
        let t = dt(&int(2, false, false));
        assert_eq!(
            decode_values(&t, &[1, 0, 2, 0, 9], 2).unwrap(),
            vec![Value::UInt(1), Value::UInt(2)]
        );
        assert!(decode_values(&t, &[1, 0, 2], 2).is_err());
        assert!(decode_values(&t, &[], u64::MAX).is_err());
    }
}
