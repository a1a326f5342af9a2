//! The OPERA DISP-S1 per-file profile (`--profile opera-disp`): what the ASF
//! `Discovery-kerchunk-timeseries` package adds to each product's references before stacking
//! (opera-disp-and-ecosystem.md §1.12).
//!
//! Six scalar variables at the root, each with `.zattrs` `{"_ARRAY_DIMENSIONS":[]}` and one
//! inline chunk `<name>/0`:
//!
//! | variable | dtype | value |
//! |---|---|---|
//! | `netcdf_uri` | `\|O` + `vlen-utf8` | the final URL of the file |
//! | `source_file_name` | `\|O` + `vlen-utf8` | the final URL's base name |
//! | `bytes` | `<f8` | the file size |
//! | `product_version` | `\|O` + `vlen-utf8` | as given by the caller (e.g. `v1.0`) |
//! | `reference_datetime` | `<M8[ns]` | `/identification/reference_datetime` |
//! | `secondary_datetime` | `<M8[ns]` | `/identification/secondary_datetime` |
//!
//! Fill values: `0.0` for `<f8` and `0` for `<M8[ns]`, as the ASF package's zarr writer
//! produced; `null` for `|O`, as kerchunk writes variable-length strings (the ASF writer's
//! `0` is rejected by zarr 3 once a stack turns `source_file_name` into a `<U` coordinate
//! that inherits it). `compressor` is null. The identification fields are scalar
//! strings (fixed-length `|S26` in products, variable-length accepted too) such as
//! `2016-07-05 14:07:55.000000`, read from the file's raw data; a missing field is an error
//! naming it. The fields are read through the walker's raw-data reader
//! ([`RawReader`]). Use [`INLINE_THRESHOLD`] (ASF's 300) when translating for this profile.

use bytes::Bytes;
use hdf5_meta::format::messages::datatype::{Datatype, VarLenKind};
use hdf5_meta::format::value::{decode_string, Value};
use hdf5_meta::model::{Hdf5File, ObjectKind, Storage};
use hdf5_meta::walk::raw::{RawError, RawReader};
use serde_json::Value as Json;

use crate::chunk_key::join_key;
use crate::error::RefsError;
use crate::reference::RefValue;
use crate::reference_set::{ReferenceSet, ZARRAY, ZATTRS, ZGROUP};
use crate::zarr::{encode_vlen, Codec, DType, ZArray};

/// The profile's name on the command line.
pub const NAME: &str = "opera-disp";

/// Inline threshold the ASF package indexes with (`SingleHdf5ToZarr(inline_threshold=300)`).
pub const INLINE_THRESHOLD: u64 = 300;

/// HDF5 path (without the leading `/`) of the reference acquisition datetime.
pub const REFERENCE_DATETIME_FIELD: &str = "identification/reference_datetime";

/// HDF5 path (without the leading `/`) of the secondary acquisition datetime.
pub const SECONDARY_DATETIME_FIELD: &str = "identification/secondary_datetime";

/// The variables this profile adds, in the order they are inserted.
pub const VARIABLES: [&str; 6] = [
    "netcdf_uri",
    "bytes",
    "source_file_name",
    "product_version",
    "reference_datetime",
    "secondary_datetime",
];

/// Largest identification string read (products use 26 bytes).
const MAX_FIELD_BYTES: u64 = 64 * 1024;

/// Why the profile could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// An identification field is absent from the file.
    #[error("{file}: OPERA DISP profile: missing identification field /{field}")]
    MissingField {
        /// The file.
        file: String,
        /// HDF5 path of the field.
        field: String,
    },
    /// An identification field exists but cannot be used.
    #[error("{file}: OPERA DISP profile: identification field /{field}: {reason}")]
    BadField {
        /// The file.
        file: String,
        /// HDF5 path of the field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading a field's data failed (the error names the file).
    #[error("OPERA DISP profile: reading /{field}: {source}")]
    Read {
        /// HDF5 path of the field.
        field: String,
        /// The raw reader's error.
        source: RawError,
    },
    /// The reference set already has a node where a profile variable goes.
    #[error(
        "OPERA DISP profile: the references already contain {key:?}; refusing to overwrite it"
    )]
    Exists {
        /// The conflicting key.
        key: String,
    },
    /// Building the zarr metadata failed.
    #[error("OPERA DISP profile: {0}")]
    Refs(#[from] RefsError),
}

/// Result alias of this module.
pub type Result<T, E = ProfileError> = std::result::Result<T, E>;

/// The per-file values the profile adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extras {
    /// Final URL of the file (where readers will fetch chunks).
    pub netcdf_uri: String,
    /// Base name of [`Extras::netcdf_uri`].
    pub source_file_name: String,
    /// File size in bytes (written as float64, as the ASF package does).
    pub bytes: u64,
    /// Product version as given by the caller.
    pub product_version: String,
    /// Reference acquisition time, nanoseconds since 1970-01-01T00:00:00.
    pub reference_datetime_ns: i64,
    /// Secondary acquisition time, nanoseconds since 1970-01-01T00:00:00.
    pub secondary_datetime_ns: i64,
}

/// The file name part of a path or URL: after the last `/`, without `?query` or `#fragment`.
pub fn source_file_name(url: &str) -> &str {
    let s = url.split(['?', '#']).next().unwrap_or(url);
    s.rsplit('/').next().unwrap_or(s)
}

/// Parses `YYYY-MM-DD[ T]HH:MM:SS[.fraction][Z]` (or a bare `YYYY-MM-DD`) as UTC and returns
/// nanoseconds since the Unix epoch; up to 9 fraction digits. `None` when malformed or out of
/// the `i64` nanosecond range (years ~1678–2262, as numpy's `datetime64[ns]`).
pub fn parse_datetime_ns(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = match s.find([' ', 'T']) {
        Some(i) => (s.get(..i)?, Some(s.get(i + 1..)?)),
        None => (s, None),
    };
    let mut d = date.splitn(3, '-');
    let year: i64 = digits(d.next()?, 4)?;
    let month: i64 = digits(d.next()?, 2)?;
    let day: i64 = digits(d.next()?, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut secs, mut nanos) = (0i64, 0i64);
    if let Some(time) = time {
        let (hms, frac) = match time.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (time, None),
        };
        let mut t = hms.splitn(3, ':');
        let h: i64 = digits(t.next()?, 2)?;
        let m: i64 = digits(t.next()?, 2)?;
        let sec: i64 = digits(t.next()?, 2)?;
        if h > 23 || m > 59 || sec > 59 {
            return None;
        }
        secs = h * 3600 + m * 60 + sec;
        if let Some(f) = frac {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let scale = 10i64.checked_pow(9 - u32::try_from(f.len()).ok()?)?;
            nanos = f.parse::<i64>().ok()?.checked_mul(scale)?;
        }
    }
    let days = days_from_civil(year, month, day);
    days.checked_mul(86_400)?
        .checked_add(secs)?
        .checked_mul(1_000_000_000)?
        .checked_add(nanos)
}

/// Exactly `n` ASCII digits.
fn digits(s: &str, n: usize) -> Option<i64> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
/// Inputs are bounded (4-digit year), so nothing overflows.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Extras {
    /// Extras for a file that will live at `final_url`.
    pub fn new(
        final_url: &str,
        bytes: u64,
        product_version: &str,
        reference_datetime_ns: i64,
        secondary_datetime_ns: i64,
    ) -> Self {
        Self {
            netcdf_uri: final_url.to_string(),
            source_file_name: source_file_name(final_url).to_string(),
            bytes,
            product_version: product_version.to_string(),
            reference_datetime_ns,
            secondary_datetime_ns,
        }
    }
}

/// Reads the two identification datetimes of a walked file (nanoseconds since the epoch).
pub async fn read_datetimes(file: &Hdf5File, raw: &RawReader) -> Result<(i64, i64)> {
    let mut out = [0i64; 2];
    for (slot, field) in out
        .iter_mut()
        .zip([REFERENCE_DATETIME_FIELD, SECONDARY_DATETIME_FIELD])
    {
        let text = read_string_field(file, raw, field).await?;
        *slot = parse_datetime_ns(&text).ok_or_else(|| ProfileError::BadField {
            file: file.location.clone(),
            field: field.to_string(),
            reason: format!(
                "{text:?} is not a datetime like \"2016-07-05 14:07:55.000000\" (within the \
                 datetime64[ns] range)"
            ),
        })?;
    }
    let [reference, secondary] = out;
    Ok((reference, secondary))
}

/// Computes the extras of a walked file: `final_url` is where the file will be read from,
/// `product_version` is recorded as given; the size is the walked file's.
pub async fn extras(
    file: &Hdf5File,
    raw: &RawReader,
    final_url: &str,
    product_version: &str,
) -> Result<Extras> {
    let (reference, secondary) = read_datetimes(file, raw).await?;
    Ok(Extras::new(
        final_url,
        file.size,
        product_version,
        reference,
        secondary,
    ))
}

/// Adds the six variables to `refs`. Nothing is inserted if any of them (or a group of the
/// same name) already exists.
pub fn add_extras(refs: &mut ReferenceSet, e: &Extras) -> Result<()> {
    for name in VARIABLES {
        for leaf in [ZARRAY, ZGROUP] {
            let key = join_key(name, leaf);
            if refs.contains_key(&key) {
                return Err(ProfileError::Exists { key });
            }
        }
    }
    let strings: [(&str, &str); 3] = [
        ("netcdf_uri", &e.netcdf_uri),
        ("source_file_name", &e.source_file_name),
        ("product_version", &e.product_version),
    ];
    let mut arrays: Vec<(&str, ZArray, Vec<u8>)> = Vec::with_capacity(VARIABLES.len());
    for (name, text) in strings {
        let mut z = ZArray::new(Vec::new(), Vec::new(), DType::simple("|O"));
        z.set_filters(&[Codec::VlenUtf8]);
        arrays.push((name, z, encode_vlen([text.as_bytes()].into_iter())?));
    }
    let mut z = ZArray::new(Vec::new(), Vec::new(), DType::simple("<f8"));
    z.fill_value = Json::from(0.0);
    // A float64 represents sizes exactly up to 2^53 bytes (8 PiB).
    #[allow(clippy::cast_precision_loss)]
    let size = e.bytes as f64;
    arrays.push(("bytes", z, size.to_le_bytes().to_vec()));
    for (name, ns) in [
        ("reference_datetime", e.reference_datetime_ns),
        ("secondary_datetime", e.secondary_datetime_ns),
    ] {
        let mut z = ZArray::new(Vec::new(), Vec::new(), DType::simple("<M8[ns]"));
        z.fill_value = Json::from(0);
        arrays.push((name, z, ns.to_le_bytes().to_vec()));
    }
    for name in VARIABLES {
        let Some((_, z, chunk)) = arrays.iter().find(|(n, _, _)| *n == name) else {
            continue;
        };
        refs.set_zarray(name, z)?;
        refs.insert_json_text(join_key(name, ZATTRS), r#"{"_ARRAY_DIMENSIONS":[]}"#);
        refs.insert(
            join_key(name, "0"),
            RefValue::inline(Bytes::from(chunk.clone())),
        );
    }
    Ok(())
}

/// Reads the identification fields of a walked file and adds the six variables to its
/// translated references. Returns the values added.
pub async fn apply(
    refs: &mut ReferenceSet,
    file: &Hdf5File,
    raw: &RawReader,
    final_url: &str,
    product_version: &str,
) -> Result<Extras> {
    let e = extras(file, raw, final_url, product_version).await?;
    add_extras(refs, &e)?;
    Ok(e)
}

/// The value of a scalar string dataset (`field` without the leading `/`): fixed-length or
/// variable-length, stored compact, contiguous or as one unfiltered chunk.
async fn read_string_field(file: &Hdf5File, raw: &RawReader, field: &str) -> Result<String> {
    let location = || file.location.clone();
    let bad = |reason: String| ProfileError::BadField {
        file: location(),
        field: field.to_string(),
        reason,
    };
    let read_err = |source: RawError| ProfileError::Read {
        field: field.to_string(),
        source,
    };
    let path = format!("/{field}");
    let object = file.get(&path).ok_or_else(|| ProfileError::MissingField {
        file: location(),
        field: field.to_string(),
    })?;
    let ObjectKind::Dataset(d) = &object.kind else {
        return Err(bad("not a dataset".to_string()));
    };
    match d.shape.as_deref() {
        Some([]) | Some([1]) => {}
        other => return Err(bad(format!("expected a scalar, found shape {other:?}"))),
    }
    let elem = d.datatype.size();
    if elem == 0 || elem > MAX_FIELD_BYTES {
        return Err(bad(format!("element size {elem} out of range")));
    }
    let stored: Bytes = match &d.storage {
        Storage::Compact(data) => Bytes::copy_from_slice(data),
        Storage::Contiguous(Some(r)) => raw.read(r.offset, elem).await.map_err(read_err)?,
        Storage::Contiguous(None) => {
            return Err(bad("never written (no storage allocated)".to_string()))
        }
        Storage::Chunked { chunks, .. } if d.filters.is_empty() => match chunks.as_slice() {
            [c] => raw.read(c.offset, elem).await.map_err(read_err)?,
            _ => {
                return Err(bad(format!(
                    "expected one stored chunk, found {}",
                    chunks.len()
                )))
            }
        },
        _ => {
            return Err(bad(
                "unsupported storage (filtered, external or virtual)".to_string()
            ))
        }
    };
    let element = stored
        .get(..usize::try_from(elem).unwrap_or(usize::MAX))
        .ok_or_else(|| bad(format!("stored data shorter than one {elem}-byte element")))?;
    let value = match &d.datatype {
        Datatype::String(t) => decode_string(element, t.padding),
        Datatype::VarLen(t) => match t.kind {
            VarLenKind::String { padding, .. } => {
                let items = raw.read_vlen(element).await.map_err(read_err)?;
                let (len, data) = items
                    .into_iter()
                    .next()
                    .ok_or_else(|| bad("no variable-length element".to_string()))?;
                let n = usize::try_from(len).unwrap_or(usize::MAX);
                let bytes = data.get(..n).ok_or_else(|| {
                    bad(format!("string of {len} bytes longer than its heap object"))
                })?;
                decode_string(bytes, padding)
            }
            VarLenKind::Sequence => {
                return Err(bad("a variable-length sequence, not a string".to_string()))
            }
        },
        other => {
            return Err(bad(format!(
                "expected a string, found datatype {}",
                other
                    .numpy_typestr()
                    .unwrap_or_else(|| format!("class {}", other.class()))
            )))
        }
    };
    match value {
        Value::String(s) => Ok(s),
        _ => Err(bad("not valid UTF-8".to_string())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::zarr::decode_vlen;

    #[test]
    fn datetimes() {
        // Epoch seconds from Python: datetime(2016,7,5,14,7,55,tzinfo=timezone.utc).timestamp()
        // = 1467727675.
        assert_eq!(
            parse_datetime_ns("2016-07-05 14:07:55.000000"),
            Some(1_467_727_675_000_000_000)
        );
        assert_eq!(
            parse_datetime_ns("2016-07-05T14:07:55.5Z"),
            Some(1_467_727_675_500_000_000)
        );
        assert_eq!(parse_datetime_ns("1970-01-01"), Some(0));
        assert_eq!(parse_datetime_ns("1970-01-01 00:00:00.000000001"), Some(1));
        // 1969-12-31 23:59:59 is one second before the epoch.
        assert_eq!(
            parse_datetime_ns("1969-12-31 23:59:59"),
            Some(-1_000_000_000)
        );
        // Leap day 2024-02-29: 19782 days after the epoch (date(2024,2,29) - date(1970,1,1)).
        assert_eq!(
            parse_datetime_ns("2024-02-29"),
            Some(19_782 * 86_400 * 1_000_000_000)
        );
        for bad in [
            "",
            "2016-07-05 14:07",
            "2016-13-01",
            "2023-02-29",
            "2016-07-05 24:00:00",
            "2016-07-05 14:07:55.",
            "2016-07-05 14:07:55.0000000000",
            "16-07-05",
            "2016-07-05 14:07:55 extra",
            "3000-01-01", // beyond datetime64[ns]
        ] {
            assert_eq!(parse_datetime_ns(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn base_names() {
        assert_eq!(source_file_name("s3://bucket/a/b/F.nc"), "F.nc");
        assert_eq!(
            source_file_name("https://h/x/F.nc?versionId=3#frag"),
            "F.nc"
        );
        assert_eq!(source_file_name("F.nc"), "F.nc");
        assert_eq!(source_file_name("/tmp/dir/F.nc"), "F.nc");
    }

    fn inline<'a>(refs: &'a ReferenceSet, key: &str) -> &'a [u8] {
        refs.get(key).and_then(RefValue::as_inline).expect(key)
    }

    #[test]
    fn adds_six_scalars() {
        let e = Extras::new("s3://b/p/F.nc", 212_992, "v1.0", 1, -2);
        let mut refs = ReferenceSet::new();
        refs.set_zgroup("");
        add_extras(&mut refs, &e).unwrap();
        assert_eq!(refs.len(), 1 + 6 * 3);
        for name in VARIABLES {
            let z = refs.zarray(name).unwrap().unwrap();
            assert!(z.shape.is_empty() && z.chunks.is_empty(), "{name}");
            assert_eq!(z.compressor, None);
            assert_eq!(
                inline(&refs, &format!("{name}/.zattrs")),
                br#"{"_ARRAY_DIMENSIONS":[]}"#
            );
        }
        for (name, want) in [
            ("netcdf_uri", "s3://b/p/F.nc"),
            ("source_file_name", "F.nc"),
            ("product_version", "v1.0"),
        ] {
            let z = refs.zarray(name).unwrap().unwrap();
            assert_eq!(z.dtype, DType::simple("|O"));
            assert_eq!(z.fill_value, Json::Null);
            assert_eq!(
                z.filters,
                Some(vec![serde_json::json!({"id": "vlen-utf8"})])
            );
            let items = decode_vlen(inline(&refs, &format!("{name}/0"))).unwrap();
            assert_eq!(items, vec![want.as_bytes()]);
        }
        let z = refs.zarray("bytes").unwrap().unwrap();
        assert_eq!(
            (z.dtype, z.fill_value.as_f64()),
            (DType::simple("<f8"), Some(0.0))
        );
        assert_eq!(inline(&refs, "bytes/0"), 212_992f64.to_le_bytes());
        let z = refs.zarray("reference_datetime").unwrap().unwrap();
        assert_eq!(z.dtype, DType::simple("<M8[ns]"));
        assert_eq!(inline(&refs, "reference_datetime/0"), 1i64.to_le_bytes());
        assert_eq!(inline(&refs, "secondary_datetime/0"), (-2i64).to_le_bytes());
    }

    #[test]
    fn refuses_to_overwrite() {
        let e = Extras::new("F.nc", 1, "v1", 0, 0);
        let mut refs = ReferenceSet::new();
        refs.set_zgroup("bytes");
        let err = add_extras(&mut refs, &e).unwrap_err();
        assert!(matches!(err, ProfileError::Exists { ref key } if key == "bytes/.zgroup"));
        assert_eq!(refs.len(), 1, "nothing inserted");
    }
}
