//! Zarr `fill_value` of a dataset (kerchunk-behavior.md §2.7).
//!
//! In order: embedded object arrays (vlen strings, references) and structured dtypes get
//! `null`; fixed-length strings get the base64 of the HDF5 fill bytes; a netCDF variable
//! (any attribute name containing `_Netcdf4`, or any dataset of a file whose root has
//! `_NCProperties`) or a "datetime" (`units` containing `since`) gets `null`; anything else the HDF5 fill value (library default: zero; undefined: `null`).
//! Finally a `_FillValue` attribute (squeezed, cast to the dataset's type) overrides all of
//! these.
//!
//! Deliberate differences from kerchunk: in a netCDF-4 file (root `_NCProperties`) every
//! dataset is a netCDF variable, whose missing values are declared by `_FillValue` only, so
//! scalar variables (which carry no `_Netcdf4*` attribute) get `null` too, as netCDF readers
//! and xarray treat them (kerchunk gives them the HDF5 fill, and xarray then masks a stored
//! `0` as missing); a fixed-string dataset whose HDF5 fill is empty gets
//! the base64 of that (zero) fill instead of `" "` (`"IA=="`), so unwritten chunks read as
//! HDF5 reads them; a bytes `_FillValue` on a string dataset is base64-encoded once (kerchunk
//! encodes it twice); arrays embedded from decoded data keep the rules above (kerchunk writes
//! `null` for them).

use hdf5_meta::format::messages::datatype::Datatype;
use hdf5_meta::format::messages::fill_value::FillState;
use hdf5_meta::format::value::{decode_value, Value};
use hdf5_meta::model::{Attribute, Dataset};
use serde_json::Value as J;

use super::dtype::{Kind, Repr};
use crate::zarr::{fill_bytes, fill_complex, fill_float};

/// Whether any attribute name marks a netCDF-4 variable (`_Netcdf4Dimid`, `_Netcdf4Coordinates`).
pub fn is_netcdf_variable(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.name.contains("_Netcdf4"))
}

/// Whether `units` (str or bytes) contains `since` (a netCDF time variable).
pub fn is_datetime(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.name == "units"
            && match &a.value {
                Value::String(s) => s.contains("since"),
                Value::Bytes(b) => b.windows(5).any(|w| w == b"since"),
                Value::Array(items) => items
                    .iter()
                    .any(|v| matches!(v, Value::String(s) if s.contains("since"))),
                _ => false,
            }
    })
}

/// The element type of a plain representation: the base of an HDF5 array type.
fn element_type(dt: &Datatype) -> &Datatype {
    match dt {
        Datatype::Array(a) => a.base.as_ref(),
        other => other,
    }
}

/// A decoded scalar of `kind` as a Zarr fill value.
fn encode(kind: Kind, v: &Value, raw: &[u8]) -> J {
    match (kind, v) {
        (_, Value::Enum { value, .. }) => encode(kind, value, raw),
        (Kind::Bool, Value::Bool(b)) => J::Bool(*b),
        (Kind::Bool, Value::Int(i)) => J::Bool(*i != 0),
        (Kind::Bool, Value::UInt(u)) => J::Bool(*u != 0),
        (Kind::Int | Kind::UInt, Value::Int(i)) => J::from(*i),
        (Kind::Int | Kind::UInt, Value::UInt(u)) => J::from(*u),
        (Kind::Float, Value::Float(f)) => fill_float(*f),
        (Kind::Complex, Value::Complex(re, im)) => fill_complex(*re, *im),
        (Kind::Complex, Value::Compound(parts)) => match parts.as_slice() {
            [(_, Value::Float(re)), (_, Value::Float(im))] => fill_complex(*re, *im),
            _ => J::Null,
        },
        (Kind::Bytes | Kind::Opaque, _) => fill_bytes(raw),
        _ => J::Null,
    }
}

/// The raw bytes of one element of the dataset's HDF5 fill (`None` when undefined).
fn hdf5_fill_bytes(ds: &Dataset, itemsize: u64) -> Option<Vec<u8>> {
    let size = usize::try_from(itemsize).ok()?;
    match &ds.fill_value.state {
        FillState::Undefined => None,
        FillState::Default => Some(vec![0; size]),
        FillState::User(b) => b.get(..size).map(<[u8]>::to_vec),
    }
}

/// The dataset's HDF5 fill as a Zarr fill value.
fn hdf5_fill(ds: &Dataset, kind: Kind, itemsize: u64) -> J {
    let Some(raw) = hdf5_fill_bytes(ds, itemsize) else {
        return J::Null;
    };
    match decode_value(element_type(&ds.datatype), &raw) {
        Ok(v) => encode(kind, &v, &raw),
        Err(_) => J::Null,
    }
}

/// Squeeze an attribute value to one element (scalar or size-1 array).
fn squeeze(v: &Value) -> Option<&Value> {
    match v {
        Value::Array(items) if items.len() == 1 => items.first().and_then(squeeze),
        Value::Array(_) => None,
        other => Some(other),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Enum { value, .. } => as_f64(value),
        _ => None,
    }
}

/// A `_FillValue` attribute cast to the dataset's element kind (numpy `astype` semantics:
/// floats truncate toward zero when cast to integers; float32 datasets round to float32).
fn override_from(attr: &Attribute, kind: Kind, el: &Datatype) -> Option<J> {
    let v = squeeze(&attr.value)?;
    Some(match kind {
        Kind::Float => {
            let f = as_f64(v)?;
            fill_float(if el.size() == 4 {
                f64::from(f as f32)
            } else {
                f
            })
        }
        Kind::Int => match v {
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Bool(b) => J::from(i64::from(*b)),
            other => J::from(as_f64(other)?.trunc() as i64),
        },
        Kind::UInt => match v {
            Value::UInt(u) => J::from(*u),
            Value::Int(i) => J::from(*i),
            Value::Bool(b) => J::from(u64::from(*b)),
            other => J::from(as_f64(other)?.trunc() as u64),
        },
        Kind::Bool => J::Bool(as_f64(v)? != 0.0),
        Kind::Complex => match v {
            Value::Complex(re, im) => fill_complex(*re, *im),
            other => fill_complex(as_f64(other)?, 0.0),
        },
        Kind::Bytes | Kind::Opaque => match v {
            Value::String(s) => fill_bytes(s.as_bytes()),
            Value::Bytes(b) | Value::Opaque(b) => fill_bytes(b),
            _ => return None,
        },
        Kind::Struct => return None,
    })
}

/// The Zarr fill value of a dataset represented as `repr`, given its attributes. `complete`
/// says every chunk inside the extent is stored (the fill value is then never read, and
/// kerchunk's choice is kept even where it would be wrong for unwritten data); `data_path`
/// says the data is embedded from decoded values (kerchunk writes `null` then);
/// `netcdf_file` says the file is netCDF-4.
pub fn fill_value(
    ds: &Dataset,
    repr: &Repr,
    attrs: &[Attribute],
    complete: bool,
    data_path: bool,
    netcdf_file: bool,
) -> J {
    let (kind, itemsize) = match repr {
        Repr::Plain { kind, itemsize, .. } => (*kind, *itemsize),
        Repr::VlenString { .. } | Repr::ObjectRef => return J::Null,
    };
    let el = element_type(&ds.datatype);
    if let Some(a) = attrs
        .iter()
        .find(|a| a.name == "_FillValue" && a.shape.is_some())
    {
        if let Some(j) = override_from(a, kind, el) {
            return j;
        }
    }
    if data_path && complete {
        return J::Null;
    }
    match kind {
        Kind::Struct if complete => J::Null,
        Kind::Struct => match hdf5_fill_bytes(ds, itemsize) {
            Some(raw) => fill_bytes(&raw),
            None => J::Null,
        },
        Kind::Bytes => match hdf5_fill_bytes(ds, itemsize) {
            // kerchunk: an empty (all-NUL) string fill becomes b" "; harmless when complete.
            Some(raw) if complete && raw.iter().all(|&b| b == 0) => fill_bytes(b" "),
            Some(raw) => fill_bytes(&raw),
            None => J::Null,
        },
        _ if complete && (netcdf_file || is_datetime(attrs) || is_netcdf_variable(attrs)) => {
            J::Null
        }
        _ => hdf5_fill(ds, kind, itemsize),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::translate::dtype::repr;
    use crate::translate::dtype::tests::{float, h5py_bool, int, string};
    use hdf5_meta::format::messages::datatype::ByteOrder::LittleEndian;
    use hdf5_meta::format::messages::fill_value::FillValue;
    use hdf5_meta::model::Storage;

    fn ds(dt: Datatype, state: FillState) -> Dataset {
        Dataset {
            datatype: dt,
            shape: Some(vec![4]),
            max_shape: None,
            filters: vec![],
            fill_value: FillValue {
                version: 3,
                alloc_time: None,
                fill_time: None,
                state,
            },
            storage: Storage::Contiguous(None),
        }
    }

    fn attr(name: &str, dt: Datatype, value: Value) -> Attribute {
        Attribute {
            name: name.into(),
            datatype: dt,
            shape: Some(vec![]),
            value,
        }
    }

    fn fill(d: &Dataset, attrs: &[Attribute]) -> J {
        fill_value(d, &repr(&d.datatype).unwrap(), attrs, true, false, false)
    }

    #[test]
    fn netcdf_files_null_every_fill_without_fillvalue() {
        // A scalar netCDF variable has no _Netcdf4 attribute; in a netCDF-4 file it still
        // gets null (kerchunk: the HDF5 fill, so xarray masks a stored 0).
        let d = ds(int(8, true, LittleEndian), FillState::Default);
        let r = repr(&d.datatype).unwrap();
        assert_eq!(fill_value(&d, &r, &[], true, false, true), J::Null);
        assert_eq!(fill_value(&d, &r, &[], true, false, false), J::from(0));
        // Unwritten chunks: the HDF5 fill, so that reads match HDF5.
        assert_eq!(fill_value(&d, &r, &[], false, false, true), J::from(0));
    }

    #[test]
    fn complete_datasets_keep_kerchunk_choices() {
        let d = ds(string(2), FillState::Default);
        assert_eq!(
            fill_value(&d, &repr(&d.datatype).unwrap(), &[], true, false, false),
            J::from("IA==")
        );
        let d = ds(int(4, true, LittleEndian), FillState::Default);
        assert_eq!(
            fill_value(&d, &repr(&d.datatype).unwrap(), &[], true, true, false),
            J::Null
        );
        assert_eq!(
            fill_value(&d, &repr(&d.datatype).unwrap(), &[], false, true, false),
            J::from(0)
        );
        let dimid = attr("_Netcdf4Dimid", int(4, true, LittleEndian), Value::Int(0));
        let d = ds(
            float(4, LittleEndian),
            FillState::User(9.96921e36f32.to_le_bytes().to_vec()),
        );
        assert_eq!(
            fill_value(
                &d,
                &repr(&d.datatype).unwrap(),
                std::slice::from_ref(&dimid),
                true,
                false,
                false
            ),
            J::Null
        );
        assert_eq!(
            fill_value(
                &d,
                &repr(&d.datatype).unwrap(),
                &[dimid],
                false,
                false,
                false
            ),
            J::from(f64::from(9.96921e36f32))
        );
    }

    #[test]
    fn hdf5_fill_values() {
        let d = ds(
            float(8, LittleEndian),
            FillState::User(f64::NEG_INFINITY.to_le_bytes().to_vec()),
        );
        assert_eq!(fill(&d, &[]), J::from("-Infinity"));
        let d = ds(int(4, true, LittleEndian), FillState::Default);
        assert_eq!(fill(&d, &[]), J::from(0));
        let d = ds(int(4, true, LittleEndian), FillState::Undefined);
        assert_eq!(fill(&d, &[]), J::Null);
        let d = ds(h5py_bool(), FillState::Default);
        assert_eq!(fill(&d, &[]), J::Bool(false));
        let d = ds(string(2), FillState::User(b"zz".to_vec()));
        assert_eq!(fill(&d, &[]), J::from("eno=")); // kerchunk-behavior.md §2.7: b"zz" → "eno="
        let d = ds(string(2), FillState::Default);
        assert_eq!(fill(&d, &[]), J::from("IA=="));
        assert_eq!(
            fill_value(&d, &repr(&d.datatype).unwrap(), &[], false, false, false),
            J::from("AAA=")
        );
        // i8 netCDF default fill, seen on scalar netCDF variables without _Netcdf4 attributes.
        let d = ds(
            int(8, true, LittleEndian),
            FillState::User((-9223372036854775806i64).to_le_bytes().to_vec()),
        );
        assert_eq!(fill(&d, &[]), J::from(-9223372036854775806i64));
    }

    #[test]
    fn netcdf_and_fillvalue_rules() {
        let d = ds(
            float(4, LittleEndian),
            FillState::User(9.96921e36f32.to_le_bytes().to_vec()),
        );
        let dimid = attr("_Netcdf4Dimid", int(4, true, LittleEndian), Value::Int(0));
        assert_eq!(fill(&d, std::slice::from_ref(&dimid)), J::Null);
        let units = attr(
            "units",
            string(30),
            Value::String("days since 2000-01-01".into()),
        );
        assert_eq!(fill(&d, &[units]), J::Null);
        // _FillValue (a float64 attribute on a float32 variable) is cast to float32.
        let fv = attr("_FillValue", float(8, LittleEndian), Value::Float(1e37));
        assert_eq!(fill(&d, &[dimid, fv]), J::from(9.999999933815813e36));
        let fv = Attribute {
            shape: Some(vec![1]),
            ..attr(
                "_FillValue",
                float(4, LittleEndian),
                Value::Array(vec![Value::Float(f64::NAN)]),
            )
        };
        assert_eq!(fill(&d, &[fv]), J::from("NaN"));
        let di = ds(int(2, true, LittleEndian), FillState::Default);
        let fv = attr("_FillValue", float(8, LittleEndian), Value::Float(-7.9));
        assert_eq!(fill(&di, &[fv]), J::from(-7));
        let ds_s = ds(string(2), FillState::Default);
        let fv = attr("_FillValue", string(2), Value::String("xx".into()));
        assert_eq!(fill(&ds_s, &[fv]), J::from("eHg="));
    }
}
