//! HDF5 datatype → Zarr v2 dtype (kerchunk-behavior.md §2.6).
//!
//! Byte order is preserved (`>f4` stays big-endian), 1-byte types use `|`, h5py booleans are
//! `|b1`, enums use their base integer type, h5py complex compounds (`r`, `i`) and the HDF5 2.0
//! complex class are `<c8`/`<c16`, fixed strings are `|S<n>`, opaque is `|V<n>`, HDF5 array
//! types fold their dimensions into the shape, and compounds become structured dtypes when
//! every member is a plain type laid out packed and in order (zarr-python 3 reads only flat
//! structured dtypes, so nested compounds and array members are refused). Variable-length
//! strings and object references are embedded as `|O` + `vlen-utf8` (strings that are not
//! UTF-8: `vlen-bytes`). Everything else is refused with a reason.

use hdf5_meta::format::messages::datatype::{
    CharSet, CompoundType, Datatype, EnumType, ReferenceKind, VarLenKind,
};

use crate::zarr::{DType, StructField};

/// How a dataset's elements are represented in Zarr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repr {
    /// Stored bytes are the Zarr elements: references point straight at the file.
    Plain {
        /// Zarr dtype.
        dtype: DType,
        /// Dimensions of an HDF5 array type, appended to the dataset shape.
        extra_dims: Vec<u64>,
        /// Element size in bytes of the Zarr dtype.
        itemsize: u64,
        /// What the element is (for fill values and attributes).
        kind: Kind,
    },
    /// Variable-length strings, embedded as `vlen-utf8` (or `vlen-bytes`) chunks.
    VlenString {
        /// Character set (ASCII strings are still written as `vlen-utf8` when valid UTF-8).
        charset: CharSet,
    },
    /// Object references, embedded as `vlen-utf8` chunks of the target paths.
    ObjectRef,
}

/// Element kind of a plain representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Signed integer.
    Int,
    /// Unsigned integer (also bitfields).
    UInt,
    /// IEEE float.
    Float,
    /// h5py boolean.
    Bool,
    /// Complex (two floats).
    Complex,
    /// Fixed-length byte string.
    Bytes,
    /// Opaque bytes.
    Opaque,
    /// Structured (compound).
    Struct,
}

/// Map a dataset datatype; `Err` carries the reason it cannot be represented.
pub fn repr(dt: &Datatype) -> Result<Repr, String> {
    match dt {
        Datatype::VarLen(v) => match v.kind {
            VarLenKind::String { charset, .. } => Ok(Repr::VlenString { charset }),
            VarLenKind::Sequence => Err(
                "variable-length sequence type: no Zarr v2 equivalent readable by zarr-python"
                    .to_string(),
            ),
        },
        Datatype::Reference(r) => match r.kind {
            ReferenceKind::Object => Ok(Repr::ObjectRef),
            other => Err(format!("{other:?} reference type: no Zarr equivalent")),
        },
        Datatype::Array(a) => {
            let (dtype, kind) = plain(&a.base)?;
            let itemsize = a.base.size();
            Ok(Repr::Plain {
                dtype,
                extra_dims: a.dims.iter().map(|&d| u64::from(d)).collect(),
                itemsize,
                kind,
            })
        }
        other => {
            let (dtype, kind) = plain(other)?;
            Ok(Repr::Plain {
                dtype,
                extra_dims: Vec::new(),
                itemsize: other.size(),
                kind,
            })
        }
    }
}

/// A fixed-size type as a simple or structured dtype.
pub fn plain(dt: &Datatype) -> Result<(DType, Kind), String> {
    match dt {
        Datatype::Compound(c) => {
            if let Some(s) = complex_compound(c) {
                return Ok((DType::simple(s), Kind::Complex));
            }
            structured(c).map(|f| (DType::Structured(f), Kind::Struct))
        }
        _ => scalar(dt).map(|(s, k)| (DType::simple(s), k)),
    }
}

/// A non-compound fixed-size type as a numpy type string.
fn scalar(dt: &Datatype) -> Result<(String, Kind), String> {
    let kind = match dt {
        Datatype::FixedPoint(t) if t.signed => Kind::Int,
        Datatype::FixedPoint(_) | Datatype::Bitfield(_) => Kind::UInt,
        Datatype::FloatingPoint(_) => Kind::Float,
        Datatype::String(_) => Kind::Bytes,
        Datatype::Opaque(_) => Kind::Opaque,
        Datatype::Complex(_) => Kind::Complex,
        Datatype::Enum(e) if is_bool(e) => return Ok(("|b1".to_string(), Kind::Bool)),
        Datatype::Enum(e) => return scalar(&e.base),
        Datatype::Time(_) => return Err("HDF5 time type: not supported by numpy/zarr".to_string()),
        Datatype::Compound(_) => {
            return Err(
                "nested compound member: zarr-python reads only flat structured dtypes".to_string(),
            )
        }
        Datatype::Array(_) => {
            return Err(
                "array-typed compound member: zarr-python reads only flat structured dtypes"
                    .to_string(),
            )
        }
        Datatype::VarLen(_) => {
            return Err("variable-length member inside a compound or array type".to_string())
        }
        Datatype::Reference(_) => {
            return Err("reference member inside a compound or array type".to_string())
        }
    };
    if let Datatype::FixedPoint(t) = dt {
        // Raw bytes equal the values only when every bit is significant, or for unsigned
        // values with zero padding above them (HDF5 sign-extends signed n-bit values).
        let full = u32::from(t.precision) == t.size.saturating_mul(8);
        if !full && (t.signed || t.bit_offset != 0 || t.low_pad || t.high_pad) {
            return Err(format!(
                "{}-bit {} integer with padding bits in {} bytes (HDF5 converts it on read)",
                t.precision,
                if t.signed { "signed" } else { "unsigned" },
                t.size
            ));
        }
    }
    match dt.numpy_typestr() {
        Some(s) => Ok((s, kind)),
        None => Err(match dt {
            Datatype::FloatingPoint(_) => {
                "non-IEEE floating-point layout (e.g. long double)".to_string()
            }
            Datatype::FixedPoint(t) => format!(
                "{}-bit integer with padding bits in {} bytes",
                t.precision, t.size
            ),
            Datatype::Bitfield(t) => format!("{}-bit bitfield in {} bytes", t.precision, t.size),
            _ => format!(
                "datatype class {} of size {} has no numpy equivalent",
                dt.class(),
                dt.size()
            ),
        }),
    }
}

/// h5py's boolean: an enum over a 1-byte integer with exactly FALSE = 0 and TRUE = 1.
pub fn is_bool(e: &EnumType) -> bool {
    matches!(e.base.as_ref(), Datatype::FixedPoint(b) if b.size == 1)
        && e.members.len() == 2
        && e.members
            .iter()
            .any(|m| m.name == "FALSE" && m.value == [0])
        && e.members.iter().any(|m| m.name == "TRUE" && m.value == [1])
}

/// h5py's complex numbers: a compound of two equal IEEE floats named `r` and `i`, packed.
fn complex_compound(c: &CompoundType) -> Option<String> {
    let [re, im] = c.members.as_slice() else {
        return None;
    };
    let (Datatype::FloatingPoint(a), Datatype::FloatingPoint(b)) = (&re.datatype, &im.datatype)
    else {
        return None;
    };
    let ok = re.name == "r"
        && im.name == "i"
        && a == b
        && matches!(a.ieee_bits(), Some(32 | 64))
        && re.offset == 0
        && im.offset == a.size
        && c.size == 2 * a.size;
    ok.then(|| format!("{}c{}", a.order.numpy_char(), c.size))
}

/// A flat structured dtype: members packed, in offset order, covering the whole record.
fn structured(c: &CompoundType) -> Result<Vec<StructField>, String> {
    let mut fields = Vec::with_capacity(c.members.len());
    let mut at: u64 = 0;
    for m in &c.members {
        if u64::from(m.offset) != at {
            return Err(format!("compound member {:?} at offset {} leaves a gap or overlaps (zarr structured dtypes are packed)", m.name, m.offset));
        }
        let (dtype, _) = match &m.datatype {
            Datatype::Compound(inner) => match complex_compound(inner) {
                Some(s) => (DType::simple(s), Kind::Complex),
                None => return Err(format!("compound member {:?} is itself a compound: zarr-python reads only flat structured dtypes", m.name)),
            },
            other => scalar(other).map(|(s, k)| (DType::simple(s), k)).map_err(|e| format!("compound member {:?}: {e}", m.name))?,
        };
        at = at.saturating_add(m.datatype.size());
        fields.push(StructField {
            name: m.name.clone(),
            dtype,
            shape: None,
        });
    }
    if at != u64::from(c.size) || fields.is_empty() {
        return Err(format!(
            "compound of {} bytes has {at} bytes of members (padding is not representable)",
            c.size
        ));
    }
    Ok(fields)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use hdf5_meta::format::messages::datatype::*;

    pub fn int(size: u32, signed: bool, order: ByteOrder) -> Datatype {
        Datatype::FixedPoint(FixedPointType {
            size,
            order,
            signed,
            low_pad: false,
            high_pad: false,
            bit_offset: 0,
            precision: (size * 8) as u16,
        })
    }

    pub fn float(size: u32, order: ByteOrder) -> Datatype {
        let (e, m, bias) = match size {
            2 => (5, 10, 15),
            4 => (8, 23, 127),
            _ => (11, 52, 1023),
        };
        Datatype::FloatingPoint(FloatType {
            size,
            order,
            low_pad: false,
            high_pad: false,
            internal_pad: false,
            normalization: MantissaNorm::Implied,
            sign_location: (size * 8 - 1) as u8,
            bit_offset: 0,
            precision: (size * 8) as u16,
            exponent_location: m,
            exponent_size: e,
            mantissa_location: 0,
            mantissa_size: m,
            exponent_bias: bias,
        })
    }

    pub fn string(size: u32) -> Datatype {
        Datatype::String(StringType {
            size,
            padding: StringPadding::NullPad,
            charset: CharSet::Ascii,
        })
    }

    pub fn compound(members: Vec<(&str, u32, Datatype)>, size: u32) -> Datatype {
        Datatype::Compound(CompoundType {
            size,
            members: members
                .into_iter()
                .map(|(n, o, d)| CompoundMember {
                    name: n.to_string(),
                    offset: o,
                    datatype: d,
                })
                .collect(),
        })
    }

    pub fn h5py_bool() -> Datatype {
        Datatype::Enum(EnumType {
            size: 1,
            base: Box::new(int(1, true, ByteOrder::LittleEndian)),
            members: vec![
                EnumMember {
                    name: "FALSE".into(),
                    value: vec![0],
                },
                EnumMember {
                    name: "TRUE".into(),
                    value: vec![1],
                },
            ],
        })
    }

    fn simple(dt: &Datatype) -> String {
        match repr(dt).unwrap() {
            Repr::Plain { dtype, .. } => dtype.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numeric_types_keep_byte_order() {
        use ByteOrder::*;
        assert_eq!(simple(&int(4, true, LittleEndian)), "<i4");
        assert_eq!(simple(&int(8, false, BigEndian)), ">u8");
        assert_eq!(simple(&int(1, false, BigEndian)), "|u1");
        assert_eq!(simple(&float(4, BigEndian)), ">f4");
        assert_eq!(simple(&float(2, LittleEndian)), "<f2");
        assert_eq!(simple(&string(7)), "|S7");
        assert_eq!(simple(&h5py_bool()), "|b1");
        let e = Datatype::Enum(EnumType {
            size: 2,
            base: Box::new(int(2, true, BigEndian)),
            members: vec![EnumMember {
                name: "A".into(),
                value: vec![0, 1],
            }],
        });
        assert_eq!(simple(&e), ">i2");
    }

    #[test]
    fn compounds() {
        use ByteOrder::*;
        let c = compound(
            vec![
                ("r", 0, float(8, LittleEndian)),
                ("i", 8, float(8, LittleEndian)),
            ],
            16,
        );
        assert_eq!(simple(&c), "<c16");
        let c = compound(
            vec![
                ("a", 0, int(4, true, LittleEndian)),
                ("b", 4, float(8, BigEndian)),
                ("s", 12, string(3)),
            ],
            15,
        );
        assert_eq!(simple(&c), r#"[["a","<i4"],["b",">f8"],["s","|S3"]]"#);
        // Padding (aligned layout) is refused.
        let c = compound(
            vec![
                ("a", 0, int(4, true, LittleEndian)),
                ("b", 8, float(8, LittleEndian)),
            ],
            16,
        );
        assert!(repr(&c).unwrap_err().contains("gap"));
        // Nested compound is refused.
        let inner = compound(vec![("x", 0, int(2, true, LittleEndian))], 2);
        let c = compound(vec![("n", 0, inner)], 2);
        assert!(repr(&c).is_err());
    }

    #[test]
    fn array_type_folds_dims() {
        let a = Datatype::Array(ArrayType {
            size: 24,
            dims: vec![2, 3],
            base: Box::new(float(4, ByteOrder::LittleEndian)),
        });
        match repr(&a).unwrap() {
            Repr::Plain {
                dtype,
                extra_dims,
                itemsize,
                ..
            } => {
                assert_eq!(dtype.to_string(), "<f4");
                assert_eq!(extra_dims, vec![2, 3]);
                assert_eq!(itemsize, 4);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refusals_and_embeds() {
        let vs = Datatype::VarLen(VarLenType {
            size: 16,
            kind: VarLenKind::Sequence,
            base: Box::new(int(4, true, ByteOrder::LittleEndian)),
        });
        assert!(repr(&vs).unwrap_err().contains("sequence"));
        let s = Datatype::VarLen(VarLenType {
            size: 16,
            kind: VarLenKind::String {
                padding: StringPadding::NullTerminate,
                charset: CharSet::Utf8,
            },
            base: Box::new(int(1, false, ByteOrder::LittleEndian)),
        });
        assert_eq!(
            repr(&s).unwrap(),
            Repr::VlenString {
                charset: CharSet::Utf8
            }
        );
        let r = Datatype::Reference(ReferenceType {
            size: 8,
            kind: ReferenceKind::Object,
            encoding_version: 0,
        });
        assert_eq!(repr(&r).unwrap(), Repr::ObjectRef);
        let r = Datatype::Reference(ReferenceType {
            size: 12,
            kind: ReferenceKind::DatasetRegion,
            encoding_version: 0,
        });
        assert!(repr(&r).is_err());
        let mut padded = int(4, true, ByteOrder::LittleEndian);
        if let Datatype::FixedPoint(t) = &mut padded {
            t.precision = 12;
        }
        assert!(repr(&padded).unwrap_err().contains("padding"));
    }
}
