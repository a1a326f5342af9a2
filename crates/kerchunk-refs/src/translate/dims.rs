//! `_ARRAY_DIMENSIONS` from netCDF-4 / HDF5 dimension scales (kerchunk-behavior.md §2.13).
//!
//! For each axis: the name (last path component) of the one dimension scale attached
//! through `DIMENSION_LIST`; else the dataset's own name if it is itself a dimension scale
//! (`CLASS = "DIMENSION_SCALE"`); more than one attached scale is an error (the dataset is
//! refused, as kerchunk does); else `phony_dim_<axis>`. Axes added by an HDF5 array type are
//! always `phony_dim_<axis>`.
//!
//! Deliberate difference: kerchunk writes the scale's full path without the leading `/`
//! (`grp/z`); the name alone is what netCDF-4 and xarray call the dimension.

use hdf5_meta::format::value::{RefValue, Value};
use hdf5_meta::model::{Attribute, Object};

use super::attrs::PathIndex;

/// Whether an object carries `CLASS = "DIMENSION_SCALE"`.
pub fn is_dimension_scale(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.name == "CLASS"
            && match &a.value {
                Value::String(s) => s == "DIMENSION_SCALE",
                Value::Bytes(b) => b == b"DIMENSION_SCALE",
                _ => false,
            }
    })
}

/// A dimension scale's name: the last component of its path. netCDF-4 (and so xarray
/// reading the file) names a dimension by its scale's name, visible in the defining group and
/// below; kerchunk writes the full path (`grp/z`), which xarray then treats as a different,
/// literally slash-containing dimension.
fn dimension_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// The object addresses referenced per axis by `DIMENSION_LIST` (empty when absent).
fn dimension_list(attrs: &[Attribute]) -> Vec<Vec<Option<u64>>> {
    let Some(a) = attrs.iter().find(|a| a.name == "DIMENSION_LIST") else {
        return Vec::new();
    };
    let Value::Array(axes) = &a.value else {
        return Vec::new();
    };
    axes.iter()
        .map(|axis| {
            let refs: Vec<&Value> = match axis {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            refs.into_iter()
                .filter_map(|r| match r {
                    Value::Reference(RefValue::Object(addr)) => Some(*addr),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// `_ARRAY_DIMENSIONS` for `obj`, whose Zarr array has `rank` axes (the first `ds_rank` are
/// the dataspace's). `Err` explains why the dataset cannot be given dimension names.
pub fn array_dimensions(
    obj: &Object,
    ds_rank: usize,
    rank: usize,
    paths: &PathIndex,
) -> Result<Vec<String>, String> {
    let own = dimension_name(&obj.path);
    let is_scale = is_dimension_scale(&obj.attributes);
    let list = dimension_list(&obj.attributes);
    let mut out = Vec::with_capacity(rank);
    for n in 0..rank {
        let attached: &[Option<u64>] = if n < ds_rank {
            list.get(n).map_or(&[], Vec::as_slice)
        } else {
            &[]
        };
        let name = match attached {
            [one] => match one.and_then(|a| paths.get(&a)) {
                Some(p) => dimension_name(p),
                None => {
                    return Err(format!(
                        "dimension scale attached to axis {n} is not an object of this file"
                    ))
                }
            },
            _ if is_scale && n < ds_rank => own.clone(),
            [_, _, ..] => {
                return Err(format!(
                    "{} dimension scales attached to dimension #{n}",
                    attached.len()
                ))
            }
            _ => format!("phony_dim_{n}"),
        };
        out.push(name);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::translate::dtype::tests::string;
    use hdf5_meta::model::ObjectKind;

    fn obj(path: &str, attributes: Vec<Attribute>) -> Object {
        Object {
            path: path.to_string(),
            address: 1,
            attributes,
            kind: ObjectKind::Group { members: vec![] },
        }
    }

    fn dim_list(axes: Vec<Vec<u64>>) -> Attribute {
        Attribute {
            name: "DIMENSION_LIST".into(),
            datatype: string(1), // the datatype is not consulted
            shape: Some(vec![axes.len() as u64]),
            value: Value::Array(
                axes.into_iter()
                    .map(|a| {
                        Value::Array(
                            a.into_iter()
                                .map(|x| Value::Reference(RefValue::Object(Some(x))))
                                .collect(),
                        )
                    })
                    .collect(),
            ),
        }
    }

    fn class_scale() -> Attribute {
        Attribute {
            name: "CLASS".into(),
            datatype: string(16),
            shape: Some(vec![]),
            value: Value::String("DIMENSION_SCALE".into()),
        }
    }

    #[test]
    fn scales_self_and_phony() {
        let mut paths = PathIndex::new();
        paths.insert(100, "/time".to_string());
        paths.insert(200, "/grp/z".to_string());
        let o = obj("/grp/v", vec![dim_list(vec![vec![100], vec![200], vec![]])]);
        assert_eq!(
            array_dimensions(&o, 3, 4, &paths).unwrap(),
            vec!["time", "z", "phony_dim_2", "phony_dim_3"]
        );
        let s = obj("/time", vec![class_scale()]);
        assert_eq!(array_dimensions(&s, 1, 1, &paths).unwrap(), vec!["time"]);
        let none = obj("/x", vec![]);
        assert_eq!(
            array_dimensions(&none, 2, 2, &paths).unwrap(),
            vec!["phony_dim_0", "phony_dim_1"]
        );
        assert_eq!(
            array_dimensions(&none, 0, 0, &paths).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn two_scales_on_an_axis_is_an_error() {
        let mut paths = PathIndex::new();
        paths.insert(100, "/a".to_string());
        paths.insert(200, "/b".to_string());
        let o = obj("/v", vec![dim_list(vec![vec![100, 200]])]);
        assert!(array_dimensions(&o, 1, 1, &paths)
            .unwrap_err()
            .contains("2 dimension scales"));
        let o = obj("/v", vec![dim_list(vec![vec![999]])]);
        assert!(array_dimensions(&o, 1, 1, &paths).is_err());
    }
}
