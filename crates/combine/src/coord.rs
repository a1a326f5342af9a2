//! Coordinate values: typed scalars from selectors, numpy-like dtypes, ordering, casting and
//! the encoding of a concat coordinate array.

use std::cmp::Ordering;
use std::fmt;

use crate::cftime::{self, Calendar};

/// Unit of a numpy `datetime64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeUnit {
    /// Days.
    D,
    /// Hours.
    H,
    /// Minutes.
    M,
    /// Seconds.
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
    /// Nanoseconds.
    Ns,
}

impl TimeUnit {
    /// The unit of a numpy datetime64 code (`D`, `h`, `m`, `s`, `ms`, `us`, `ns`).
    pub(crate) fn parse(s: &str) -> Option<TimeUnit> {
        Some(match s {
            "D" => TimeUnit::D,
            "h" => TimeUnit::H,
            "m" => TimeUnit::M,
            "s" => TimeUnit::S,
            "ms" => TimeUnit::Ms,
            "us" => TimeUnit::Us,
            "ns" => TimeUnit::Ns,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            TimeUnit::D => "D",
            TimeUnit::H => "h",
            TimeUnit::M => "m",
            TimeUnit::S => "s",
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "us",
            TimeUnit::Ns => "ns",
        }
    }

    /// Nanoseconds per unit.
    fn ns(self) -> i128 {
        match self {
            TimeUnit::D => 86_400_000_000_000,
            TimeUnit::H => 3_600_000_000_000,
            TimeUnit::M => 60_000_000_000,
            TimeUnit::S => 1_000_000_000,
            TimeUnit::Ms => 1_000_000,
            TimeUnit::Us => 1_000,
            TimeUnit::Ns => 1,
        }
    }
}

/// A numpy dtype a coordinate can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NpType {
    /// `|b1`.
    Bool,
    /// Signed integer of the given byte size.
    Int(u8),
    /// Unsigned integer of the given byte size.
    UInt(u8),
    /// Float of the given byte size (4 or 8).
    Float(u8),
    /// `<U{n}`: fixed-length unicode (n characters; `None` = fit the values).
    Str(Option<u32>),
    /// `|S{n}`: fixed-length bytes (`None` = fit the values).
    Bytes(Option<u32>),
    /// `<M8[unit]`.
    Time(TimeUnit),
}

impl NpType {
    /// Parses a numpy dtype spelling: `float32`, `f8`, `<i4`, `uint16`, `bool`, `M8[s]`,
    /// `datetime64[ns]`, `<U10`, `str`, `S5`, `bytes`.
    pub fn parse(s: &str) -> Option<NpType> {
        let t = s.trim();
        let named = match t {
            "bool" | "|b1" | "b1" | "?" => Some(NpType::Bool),
            "int8" => Some(NpType::Int(1)),
            "int16" => Some(NpType::Int(2)),
            "int32" => Some(NpType::Int(4)),
            "int64" | "int" => Some(NpType::Int(8)),
            "uint8" => Some(NpType::UInt(1)),
            "uint16" => Some(NpType::UInt(2)),
            "uint32" => Some(NpType::UInt(4)),
            "uint64" => Some(NpType::UInt(8)),
            "float32" => Some(NpType::Float(4)),
            "float64" | "float" => Some(NpType::Float(8)),
            "str" | "U" | "<U" => Some(NpType::Str(None)),
            "bytes" | "S" | "|S" => Some(NpType::Bytes(None)),
            _ => None,
        };
        if named.is_some() {
            return named;
        }
        let t = t.trim_start_matches(['<', '|', '=']);
        if let Some(unit) = t
            .strip_prefix("datetime64[")
            .or_else(|| t.strip_prefix("M8["))
            .and_then(|u| u.strip_suffix(']'))
        {
            return TimeUnit::parse(unit).map(NpType::Time);
        }
        let mut chars = t.chars();
        let kind = chars.next()?;
        let n: u32 = chars.as_str().parse().ok()?;
        let size = u8::try_from(n).ok();
        match (kind, size) {
            ('i', Some(s @ (1 | 2 | 4 | 8))) => Some(NpType::Int(s)),
            ('u', Some(s @ (1 | 2 | 4 | 8))) => Some(NpType::UInt(s)),
            ('f', Some(s @ (4 | 8))) => Some(NpType::Float(s)),
            ('U', _) if n > 0 => Some(NpType::Str(Some(n))),
            ('S', _) if n > 0 => Some(NpType::Bytes(Some(n))),
            _ => None,
        }
    }

    /// The zarr v2 dtype string (little-endian), once lengths are known.
    pub fn zarr_dtype(&self) -> String {
        match self {
            NpType::Bool => "|b1".into(),
            NpType::Int(1) => "|i1".into(),
            NpType::UInt(1) => "|u1".into(),
            NpType::Int(n) => format!("<i{n}"),
            NpType::UInt(n) => format!("<u{n}"),
            NpType::Float(n) => format!("<f{n}"),
            NpType::Str(n) => format!("<U{}", n.unwrap_or(1)),
            NpType::Bytes(n) => format!("|S{}", n.unwrap_or(1)),
            NpType::Time(u) => format!("<M8[{}]", u.as_str()),
        }
    }

    /// Bytes per element.
    pub fn itemsize(&self) -> usize {
        match self {
            NpType::Bool => 1,
            NpType::Int(n) | NpType::UInt(n) | NpType::Float(n) => usize::from(*n),
            NpType::Str(n) => 4 * n.unwrap_or(1) as usize,
            NpType::Bytes(n) => n.unwrap_or(1) as usize,
            NpType::Time(_) => 8,
        }
    }
}

/// One coordinate value.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// Boolean.
    Bool(bool),
    /// Signed integer; the `u8` is the source item size in bytes.
    Int(i64, u8),
    /// Unsigned integer with its source item size.
    UInt(u64, u8),
    /// Float with its source item size.
    Float(f64, u8),
    /// Text.
    Str(String),
    /// Fixed-length bytes (trailing NULs stripped, as numpy does).
    Bytes(Vec<u8>),
    /// numpy datetime64.
    Time(i64, TimeUnit),
    /// A decoded CF instant (microseconds since the calendar's epoch).
    Cf(Calendar, i128),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(v, _) => write!(f, "{v}"),
            Scalar::UInt(v, _) => write!(f, "{v}"),
            Scalar::Float(v, _) => write!(f, "{v}"),
            Scalar::Str(s) => write!(f, "{s:?}"),
            Scalar::Bytes(b) => write!(f, "b{:?}", String::from_utf8_lossy(b)),
            Scalar::Time(v, u) => write!(f, "datetime64({v}, {})", u.as_str()),
            Scalar::Cf(c, us) => f.write_str(&cftime::isoformat(*c, *us)),
        }
    }
}

fn cmp_f64_i128(f: f64, i: i128) -> Ordering {
    let fi = f as i128; // saturating, truncating toward zero
    match fi.cmp(&i) {
        Ordering::Equal => {
            let frac = f - f.trunc();
            frac.partial_cmp(&0.0).unwrap_or(Ordering::Equal)
        }
        o => o,
    }
}

impl Scalar {
    fn number(&self) -> Option<Num> {
        match self {
            Scalar::Int(v, _) => Some(Num::I(i128::from(*v))),
            Scalar::UInt(v, _) => Some(Num::I(i128::from(*v))),
            Scalar::Float(v, _) => Some(Num::F(*v)),
            Scalar::Bool(b) => Some(Num::I(i128::from(*b))),
            _ => None,
        }
    }

    /// Total order between comparable values (numbers with numbers, text with text, …);
    /// `None` when the kinds cannot be compared (or a value is NaN).
    pub fn compare(&self, other: &Scalar) -> Option<Ordering> {
        if let (Some(a), Some(b)) = (self.number(), other.number()) {
            return match (a, b) {
                (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
                (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
                (Num::F(x), Num::I(y)) => (!x.is_nan()).then(|| cmp_f64_i128(x, y)),
                (Num::I(x), Num::F(y)) => (!y.is_nan()).then(|| cmp_f64_i128(y, x).reverse()),
            };
        }
        match (self, other) {
            (Scalar::Str(a), Scalar::Str(b)) => Some(a.cmp(b)),
            (Scalar::Bytes(a), Scalar::Bytes(b)) => Some(a.cmp(b)),
            (Scalar::Time(a, ua), Scalar::Time(b, ub)) => {
                Some((i128::from(*a) * ua.ns()).cmp(&(i128::from(*b) * ub.ns())))
            }
            (Scalar::Cf(ca, a), Scalar::Cf(cb, b)) => cftime::cmp_instants((*ca, *a), (*cb, *b)),
            _ => None,
        }
    }

    /// A short name of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Scalar::Bool(_) => "bool",
            Scalar::Int(..) | Scalar::UInt(..) => "integer",
            Scalar::Float(..) => "float",
            Scalar::Str(_) => "string",
            Scalar::Bytes(_) => "bytes",
            Scalar::Time(..) => "datetime64",
            Scalar::Cf(..) => "CF datetime",
        }
    }

    /// Converts a JSON value (from an attribute, a list selector or a constant).
    pub fn from_json(v: &serde_json::Value) -> Result<Vec<Scalar>, String> {
        use serde_json::Value as J;
        Ok(match v {
            J::Bool(b) => vec![Scalar::Bool(*b)],
            J::Number(n) => vec![if let Some(i) = n.as_i64() {
                Scalar::Int(i, 8)
            } else if let Some(u) = n.as_u64() {
                Scalar::UInt(u, 8)
            } else {
                Scalar::Float(n.as_f64().unwrap_or(f64::NAN), 8)
            }],
            J::String(s) => vec![Scalar::Str(s.clone())],
            J::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    if it.is_array() || it.is_object() {
                        return Err(format!("nested value {it} cannot be a coordinate"));
                    }
                    out.extend(Scalar::from_json(it)?);
                }
                out
            }
            J::Null => return Err("null cannot be a coordinate value".into()),
            J::Object(_) => return Err(format!("object {v} cannot be a coordinate value")),
        })
    }

    /// Casts to `t` as `np.array(value, dtype=t)` would (numbers truncate toward zero when
    /// cast to integers; strings parse as numbers or ISO datetimes).
    pub fn cast(&self, t: NpType) -> Result<Scalar, String> {
        let bad = || format!("cannot cast {} {self} to {}", self.kind(), t.zarr_dtype());
        Ok(match t {
            NpType::Bool => match self.number() {
                Some(Num::I(i)) => Scalar::Bool(i != 0),
                Some(Num::F(f)) => Scalar::Bool(f != 0.0),
                None => return Err(bad()),
            },
            NpType::Int(n) => {
                let i = self.as_i128().ok_or_else(bad)?;
                let bits = u32::from(n) * 8;
                let min = -(1i128 << (bits - 1));
                let max = (1i128 << (bits - 1)) - 1;
                if i < min || i > max {
                    return Err(format!("{self} does not fit {}", t.zarr_dtype()));
                }
                Scalar::Int(i as i64, n)
            }
            NpType::UInt(n) => {
                let i = self.as_i128().ok_or_else(bad)?;
                let max = (1i128 << (u32::from(n) * 8)) - 1;
                if i < 0 || i > max {
                    return Err(format!("{self} does not fit {}", t.zarr_dtype()));
                }
                Scalar::UInt(i as u64, n)
            }
            NpType::Float(n) => {
                let f = match self {
                    Scalar::Str(s) => s.trim().parse::<f64>().map_err(|_| bad())?,
                    _ => match self.number().ok_or_else(bad)? {
                        Num::I(i) => i as f64,
                        Num::F(f) => f,
                    },
                };
                Scalar::Float(if n == 4 { f64::from(f as f32) } else { f }, n)
            }
            NpType::Str(_) => match self {
                Scalar::Str(s) => Scalar::Str(s.clone()),
                Scalar::Bytes(b) => Scalar::Str(String::from_utf8(b.clone()).map_err(|_| bad())?),
                Scalar::Cf(c, us) => Scalar::Str(cftime::isoformat(*c, *us)),
                other => Scalar::Str(other.to_string()),
            },
            NpType::Bytes(_) => match self {
                Scalar::Bytes(b) => Scalar::Bytes(b.clone()),
                Scalar::Str(s) if s.is_ascii() => Scalar::Bytes(s.as_bytes().to_vec()),
                Scalar::Int(..) | Scalar::UInt(..) | Scalar::Float(..) => {
                    Scalar::Bytes(self.to_string().into_bytes())
                }
                _ => return Err(bad()),
            },
            NpType::Time(unit) => {
                let ns: i128 = match self {
                    Scalar::Time(v, u) => i128::from(*v) * u.ns(),
                    Scalar::Cf(c, us) => {
                        let civil = cftime::to_civil(*c, *us).ok_or_else(bad)?;
                        gregorian_ns(civil).ok_or_else(bad)?
                    }
                    Scalar::Str(s) => {
                        let civil = cftime::parse_datetime(s).ok_or_else(bad)?;
                        gregorian_ns(civil).ok_or_else(bad)?
                    }
                    Scalar::Int(..) | Scalar::UInt(..) => self
                        .as_i128()
                        .and_then(|i| i.checked_mul(unit.ns()))
                        .ok_or_else(bad)?,
                    _ => return Err(bad()),
                };
                let v = ns.div_euclid(unit.ns());
                Scalar::Time(i64::try_from(v).map_err(|_| bad())?, unit)
            }
        })
    }

    fn as_i128(&self) -> Option<i128> {
        match self {
            Scalar::Str(s) => s.trim().parse::<i128>().ok(),
            _ => match self.number()? {
                Num::I(i) => Some(i),
                Num::F(f) if f.is_finite() && f.abs() < 1e38 => Some(f.trunc() as i128),
                Num::F(_) => None,
            },
        }
    }
}

/// Nanoseconds since 1970-01-01 of a (proleptic Gregorian) civil date-time.
fn gregorian_ns(c: cftime::Civil) -> Option<i128> {
    let epoch = cftime::to_instant(
        Calendar::ProlepticGregorian,
        cftime::Civil {
            year: 1970,
            month: 1,
            day: 1,
            time_us: 0,
        },
    )?;
    let t = cftime::to_instant(Calendar::ProlepticGregorian, c)?;
    Some((t - epoch) * 1000)
}

enum Num {
    I(i128),
    F(f64),
}

/// The dtype numpy infers for an array of these values (`np.array(sorted(values))`), or an
/// explanation when the kinds do not mix. Values must be non-empty.
pub fn infer_type(values: &[Scalar]) -> Result<NpType, String> {
    let mut int = 0u8;
    let mut uint = 0u8;
    let mut float = 0u8;
    let (mut boolean, mut text, mut bytes) = (false, 0u32, 0u32);
    let mut time: Option<TimeUnit> = None;
    let mut kinds = 0;
    for v in values {
        match v {
            Scalar::Bool(_) => boolean = true,
            Scalar::Int(_, s) => int = int.max(*s),
            Scalar::UInt(_, s) => uint = uint.max(*s),
            Scalar::Float(_, s) => float = float.max(*s),
            Scalar::Str(s) => text = text.max(u32::try_from(s.chars().count()).unwrap_or(u32::MAX)),
            Scalar::Bytes(b) => bytes = bytes.max(u32::try_from(b.len()).unwrap_or(u32::MAX)),
            Scalar::Time(_, u) => time = Some(time.map_or(*u, |t| t.max(*u))),
            Scalar::Cf(..) => return Err("CF datetimes must be re-encoded".into()),
        }
    }
    let has_text = values.iter().any(|v| matches!(v, Scalar::Str(_)));
    let has_bytes = values.iter().any(|v| matches!(v, Scalar::Bytes(_)));
    let numeric = boolean || int > 0 || uint > 0 || float > 0;
    for k in [numeric, has_text, has_bytes, time.is_some()] {
        kinds += usize::from(k);
    }
    if kinds > 1 {
        return Err("coordinate values of different kinds (numbers, text, bytes, datetimes) cannot be mixed".into());
    }
    if has_text {
        return Ok(NpType::Str(Some(text.max(1))));
    }
    if has_bytes {
        return Ok(NpType::Bytes(Some(bytes.max(1))));
    }
    if let Some(u) = time {
        return Ok(NpType::Time(u));
    }
    if float > 0 {
        let small_ints = int <= 2 && uint <= 2;
        return Ok(NpType::Float(if float == 4 && small_ints { 4 } else { 8 }));
    }
    match (int, uint) {
        (0, 0) => Ok(NpType::Bool),
        (i, 0) => Ok(NpType::Int(i)),
        (0, u) => Ok(NpType::UInt(u)),
        (i, u) if u < 8 => Ok(NpType::Int(i.max(u.saturating_mul(2)).min(8))),
        _ => Ok(NpType::Float(8)),
    }
}

/// Little-endian bytes of `values` as dtype `t` (whose lengths must be set).
pub fn encode(values: &[Scalar], t: NpType) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(values.len().saturating_mul(t.itemsize()));
    for v in values {
        let v = v.cast(t)?;
        match (t, &v) {
            (NpType::Bool, Scalar::Bool(b)) => out.push(u8::from(*b)),
            (NpType::Int(n), Scalar::Int(i, _)) => {
                out.extend_from_slice(i.to_le_bytes().get(..usize::from(n)).unwrap_or(&[]))
            }
            (NpType::UInt(n), Scalar::UInt(u, _)) => {
                out.extend_from_slice(u.to_le_bytes().get(..usize::from(n)).unwrap_or(&[]))
            }
            (NpType::Float(4), Scalar::Float(f, _)) => {
                out.extend_from_slice(&(*f as f32).to_le_bytes())
            }
            (NpType::Float(_), Scalar::Float(f, _)) => out.extend_from_slice(&f.to_le_bytes()),
            (NpType::Str(n), Scalar::Str(s)) => {
                let n = n.unwrap_or(1) as usize;
                let count = s.chars().count();
                if count > n {
                    return Err(format!("{s:?} is longer than {}", t.zarr_dtype()));
                }
                for c in s.chars() {
                    out.extend_from_slice(&u32::from(c).to_le_bytes());
                }
                out.resize(out.len() + 4 * (n - count), 0);
            }
            (NpType::Bytes(n), Scalar::Bytes(b)) => {
                let n = n.unwrap_or(1) as usize;
                if b.len() > n {
                    return Err(format!("{v} is longer than {}", t.zarr_dtype()));
                }
                out.extend_from_slice(b);
                out.resize(out.len() + (n - b.len()), 0);
            }
            (NpType::Time(_), Scalar::Time(x, _)) => out.extend_from_slice(&x.to_le_bytes()),
            _ => return Err(format!("cannot encode {v} as {}", t.zarr_dtype())),
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parse_dtypes() {
        assert_eq!(NpType::parse("float32"), Some(NpType::Float(4)));
        assert_eq!(NpType::parse("<i8"), Some(NpType::Int(8)));
        assert_eq!(NpType::parse("M8[s]"), Some(NpType::Time(TimeUnit::S)));
        assert_eq!(
            NpType::parse("datetime64[ns]"),
            Some(NpType::Time(TimeUnit::Ns))
        );
        assert_eq!(NpType::parse("<U88"), Some(NpType::Str(Some(88))));
        assert_eq!(NpType::parse("|S5"), Some(NpType::Bytes(Some(5))));
        assert_eq!(NpType::parse("f3"), None);
        assert_eq!(NpType::Int(1).zarr_dtype(), "|i1");
    }

    #[test]
    fn ordering_across_number_kinds() {
        let a = Scalar::Int(1, 8);
        let b = Scalar::Float(1.0, 8);
        let c = Scalar::Float(1.5, 4);
        let d = Scalar::UInt(u64::MAX, 8);
        assert_eq!(a.compare(&b), Some(Ordering::Equal));
        assert_eq!(a.compare(&c), Some(Ordering::Less));
        assert_eq!(d.compare(&a), Some(Ordering::Greater));
        assert_eq!(
            Scalar::Int(-1, 8).compare(&Scalar::Float(-0.5, 8)),
            Some(Ordering::Less)
        );
        assert_eq!(Scalar::Str("a".into()).compare(&a), None);
        assert_eq!(Scalar::Float(f64::NAN, 8).compare(&a), None);
        assert_eq!(
            Scalar::Time(1, TimeUnit::S).compare(&Scalar::Time(999, TimeUnit::Ms)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn inference_like_numpy() {
        // np.array([np.int32(1), np.int32(2)]).dtype == int32; python ints -> int64.
        assert_eq!(
            infer_type(&[Scalar::Int(1, 4), Scalar::Int(2, 4)]),
            Ok(NpType::Int(4))
        );
        assert_eq!(
            infer_type(&[Scalar::Int(1, 4), Scalar::Int(2, 8)]),
            Ok(NpType::Int(8))
        );
        assert_eq!(
            infer_type(&[Scalar::Int(1, 8), Scalar::Float(2.0, 8)]),
            Ok(NpType::Float(8))
        );
        assert_eq!(
            infer_type(&[Scalar::UInt(1, 4), Scalar::Int(2, 4)]),
            Ok(NpType::Int(8))
        );
        assert_eq!(
            infer_type(&[Scalar::Str("ab".into()), Scalar::Str("é".into())]),
            Ok(NpType::Str(Some(2)))
        );
        assert!(infer_type(&[Scalar::Str("a".into()), Scalar::Int(1, 8)]).is_err());
    }

    #[test]
    fn casting_and_encoding() {
        assert_eq!(
            Scalar::Float(1.7, 8).cast(NpType::Int(4)),
            Ok(Scalar::Int(1, 4))
        );
        assert!(Scalar::Int(300, 8).cast(NpType::UInt(1)).is_err());
        assert_eq!(
            Scalar::Str("1970-01-02".into()).cast(NpType::Time(TimeUnit::S)),
            Ok(Scalar::Time(86_400, TimeUnit::S))
        );
        let u = encode(&[Scalar::Str("ab".into())], NpType::Str(Some(3))).unwrap();
        assert_eq!(u, [97, 0, 0, 0, 98, 0, 0, 0, 0, 0, 0, 0]);
        let s = encode(&[Scalar::Bytes(b"a".to_vec())], NpType::Bytes(Some(2))).unwrap();
        assert_eq!(s, b"a\0");
        let f = encode(&[Scalar::Int(1, 8)], NpType::Float(8)).unwrap();
        assert_eq!(f, 1f64.to_le_bytes());
        assert!(encode(&[Scalar::Str("abc".into())], NpType::Str(Some(2))).is_err());
    }
}
