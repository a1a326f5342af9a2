//! Datatype message (type 0x03), message versions 1–5, every class 0–11.
//!
//! 8-byte header: class (low nibble) and version (high nibble), a 24-bit class bit field and
//! the element size (4 bytes), then class-specific properties. Compound, enum, variable-length,
//! array and complex types nest full datatype messages (of any version) recursively.
//! Versions 4 and 5 use the version-3 encoding (format reference §0 item 2, §1.7).

use crate::error::Result;
use crate::format::cursor::{bytes_for, Cursor, Sizes};

pub use crate::format::value::decode_value;

const STRUCTURE: &str = "datatype message";

/// Deepest nesting of datatype messages accepted (guards the recursion).
const MAX_DEPTH: usize = 32;

/// Largest array rank accepted (the library's limit).
const MAX_ARRAY_RANK: u8 = 32;

/// Byte order of an atomic type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first.
    LittleEndian,
    /// Most significant byte first.
    BigEndian,
}

impl ByteOrder {
    /// The numpy byte-order character: `<` or `>`.
    pub fn numpy_char(self) -> char {
        match self {
            ByteOrder::LittleEndian => '<',
            ByteOrder::BigEndian => '>',
        }
    }
}

/// Padding of fixed-length and variable-length strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringPadding {
    /// NUL-terminated: the value ends at the first NUL byte.
    NullTerminate,
    /// NUL-padded: trailing NUL bytes are padding.
    NullPad,
    /// Space-padded (Fortran style): trailing spaces are padding.
    SpacePad,
}

/// Character set of a string or name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharSet {
    /// US-ASCII.
    Ascii,
    /// UTF-8.
    Utf8,
}

impl CharSet {
    /// Decode a 4-bit character-set code (0 ASCII, 1 UTF-8).
    pub(crate) fn from_code(code: u32, c: &Cursor<'_>) -> Result<Self> {
        match code {
            0 => Ok(CharSet::Ascii),
            1 => Ok(CharSet::Utf8),
            other => Err(c.unsupported(format!("character set {other}"))),
        }
    }
}

/// Mantissa normalization of a floating-point type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MantissaNorm {
    /// No normalization.
    None,
    /// The most significant mantissa bit is always set and stored (e.g. x87 long double).
    MsbSet,
    /// The most significant mantissa bit is implied, not stored (IEEE 754).
    Implied,
}

/// Class 0: integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedPointType {
    /// Element size in bytes.
    pub size: u32,
    /// Byte order.
    pub order: ByteOrder,
    /// Two's-complement signed when true.
    pub signed: bool,
    /// Padding bits below the value are ones (else zeros).
    pub low_pad: bool,
    /// Padding bits above the value are ones (else zeros).
    pub high_pad: bool,
    /// Bit offset of the first significant bit.
    pub bit_offset: u16,
    /// Number of significant bits.
    pub precision: u16,
}

/// Class 1: floating point, described field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloatType {
    /// Element size in bytes.
    pub size: u32,
    /// Byte order (VAX order is rejected at parse time).
    pub order: ByteOrder,
    /// Low padding bits are ones.
    pub low_pad: bool,
    /// High padding bits are ones.
    pub high_pad: bool,
    /// Internal padding bits are ones.
    pub internal_pad: bool,
    /// Mantissa normalization.
    pub normalization: MantissaNorm,
    /// Bit position of the sign bit.
    pub sign_location: u8,
    /// Bit offset of the first significant bit.
    pub bit_offset: u16,
    /// Number of significant bits.
    pub precision: u16,
    /// Bit position of the exponent field.
    pub exponent_location: u8,
    /// Width of the exponent field in bits.
    pub exponent_size: u8,
    /// Bit position of the mantissa field.
    pub mantissa_location: u8,
    /// Width of the mantissa field in bits.
    pub mantissa_size: u8,
    /// Exponent bias.
    pub exponent_bias: u32,
}

impl FloatType {
    /// `Some(16 | 32 | 64)` when this is exactly IEEE 754 binary16/32/64 (any byte order),
    /// i.e. directly representable as numpy `f2`/`f4`/`f8`; `None` for bfloat16, x87 long
    /// double, binary128 and other custom layouts.
    pub fn ieee_bits(&self) -> Option<u32> {
        let (bits, esize, msize, bias) = match self.size {
            2 => (16u32, 5u8, 10u8, 15u32),
            4 => (32, 8, 23, 127),
            8 => (64, 11, 52, 1023),
            _ => return None,
        };
        let standard = self.bit_offset == 0
            && u32::from(self.precision) == bits
            && u32::from(self.sign_location) == bits - 1
            && self.exponent_location == msize
            && self.exponent_size == esize
            && self.mantissa_location == 0
            && self.mantissa_size == msize
            && self.exponent_bias == bias
            && self.normalization == MantissaNorm::Implied;
        standard.then_some(bits)
    }
}

/// Class 2: time (essentially never used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeType {
    /// Element size in bytes.
    pub size: u32,
    /// Byte order.
    pub order: ByteOrder,
    /// Number of significant bits.
    pub precision: u16,
}

/// Class 3: fixed-length string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringType {
    /// Length in bytes.
    pub size: u32,
    /// Padding rule.
    pub padding: StringPadding,
    /// Character set.
    pub charset: CharSet,
}

/// Class 4: bit field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitfieldType {
    /// Element size in bytes.
    pub size: u32,
    /// Byte order.
    pub order: ByteOrder,
    /// Low padding bits are ones.
    pub low_pad: bool,
    /// High padding bits are ones.
    pub high_pad: bool,
    /// Bit offset of the first significant bit.
    pub bit_offset: u16,
    /// Number of significant bits.
    pub precision: u16,
}

/// Class 5: opaque bytes with an ASCII tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueType {
    /// Element size in bytes.
    pub size: u32,
    /// Description tag (NUL padding removed).
    pub tag: String,
}

/// One member of a compound type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundMember {
    /// Member name.
    pub name: String,
    /// Byte offset of the member within the compound element.
    pub offset: u32,
    /// Member type. Version-1 "dimensioned" members are represented as an [`ArrayType`].
    pub datatype: Datatype,
}

/// Class 6: compound (C struct).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundType {
    /// Element size in bytes (members may leave gaps).
    pub size: u32,
    /// Members in stored order.
    pub members: Vec<CompoundMember>,
}

/// Kind of reference stored by a reference type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    /// `H5R_OBJECT1`: an object header address (Size of Offsets bytes).
    Object,
    /// `H5R_DATASET_REGION1`: a global heap ID (address + 4-byte index) of a region.
    DatasetRegion,
    /// `H5R_OBJECT2` (HDF5 1.12+ revised reference, encoded blob).
    Object2,
    /// `H5R_DATASET_REGION2` (revised reference, encoded blob).
    DatasetRegion2,
    /// `H5R_ATTR` (revised reference to an attribute, encoded blob).
    Attribute,
}

/// Class 7: reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceType {
    /// Element size in bytes as stored on disk.
    pub size: u32,
    /// Reference kind.
    pub kind: ReferenceKind,
    /// Encoding version of revised references (bits 4–7; 0 for the old kinds).
    pub encoding_version: u8,
}

/// One name/value pair of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumMember {
    /// Member name.
    pub name: String,
    /// Raw value bytes, encoded with the base type (size = base size).
    pub value: Vec<u8>,
}

/// Class 8: enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    /// Element size in bytes (equal to the base type's size).
    pub size: u32,
    /// Base (integer) type.
    pub base: Box<Datatype>,
    /// Name/value pairs in stored order.
    pub members: Vec<EnumMember>,
}

/// Variable-length type flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarLenKind {
    /// A sequence of base-type elements.
    Sequence,
    /// A string of bytes.
    String {
        /// Padding rule.
        padding: StringPadding,
        /// Character set.
        charset: CharSet,
    },
}

impl EnumType {
    /// h5py's boolean convention: an enum over a 1-byte integer whose members are exactly
    /// `FALSE` = 0 and `TRUE` = 1 (numpy `|b1`).
    pub fn is_h5py_bool(&self) -> bool {
        matches!(self.base.as_ref(), Datatype::FixedPoint(b) if b.size == 1)
            && self.members.len() == 2
            && self
                .members
                .iter()
                .any(|m| m.name == "FALSE" && m.value == [0])
            && self
                .members
                .iter()
                .any(|m| m.name == "TRUE" && m.value == [1])
    }
}

impl CompoundType {
    /// h5py's complex convention: exactly two members `r` (offset 0) and `i` (offset half the
    /// size) of the same IEEE binary32/64 type. Returns that float type.
    pub fn h5py_complex_part(&self) -> Option<&FloatType> {
        let [r, i] = self.members.as_slice() else {
            return None;
        };
        match (&r.datatype, &i.datatype) {
            (Datatype::FloatingPoint(a), Datatype::FloatingPoint(b))
                if r.name == "r"
                    && i.name == "i"
                    && a == b
                    && matches!(a.ieee_bits(), Some(32 | 64))
                    && r.offset == 0
                    && i.offset == a.size
                    && self.size == a.size.saturating_mul(2) =>
            {
                Some(a)
            }
            _ => None,
        }
    }
}

/// Class 9: variable length. Each element on disk is a 4-byte length followed by a global heap
/// ID (collection address + 4-byte index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarLenType {
    /// Element size in bytes on disk (4 + Size of Offsets + 4).
    pub size: u32,
    /// Sequence or string.
    pub kind: VarLenKind,
    /// Base type (an unsigned byte for strings).
    pub base: Box<Datatype>,
}

/// Class 10: fixed-size array of a base type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayType {
    /// Element size in bytes (product of dims × base size).
    pub size: u32,
    /// Dimension sizes, slowest-varying first.
    pub dims: Vec<u32>,
    /// Base type.
    pub base: Box<Datatype>,
}

/// Class 11 (HDF5 2.0, datatype v5): complex number, rectangular form, both parts of the
/// same floating-point type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplexType {
    /// Element size in bytes (twice the base size).
    pub size: u32,
    /// Floating-point type of the real and imaginary parts.
    pub base: Box<Datatype>,
}

/// A decoded datatype message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datatype {
    /// Class 0: signed or unsigned integer of any byte order.
    FixedPoint(FixedPointType),
    /// Class 1: floating point (IEEE or custom layout).
    FloatingPoint(FloatType),
    /// Class 2: time.
    Time(TimeType),
    /// Class 3: fixed-length string.
    String(StringType),
    /// Class 4: bit field.
    Bitfield(BitfieldType),
    /// Class 5: opaque.
    Opaque(OpaqueType),
    /// Class 6: compound.
    Compound(CompoundType),
    /// Class 7: object/region reference (old or revised).
    Reference(ReferenceType),
    /// Class 8: enumeration over an integer base type.
    Enum(EnumType),
    /// Class 9: variable-length sequence or string.
    VarLen(VarLenType),
    /// Class 10: array.
    Array(ArrayType),
    /// Class 11: complex.
    Complex(ComplexType),
}

impl Datatype {
    /// Element size in bytes, as stored on disk.
    pub fn size(&self) -> u64 {
        u64::from(match self {
            Datatype::FixedPoint(t) => t.size,
            Datatype::FloatingPoint(t) => t.size,
            Datatype::Time(t) => t.size,
            Datatype::String(t) => t.size,
            Datatype::Bitfield(t) => t.size,
            Datatype::Opaque(t) => t.size,
            Datatype::Compound(t) => t.size,
            Datatype::Reference(t) => t.size,
            Datatype::Enum(t) => t.size,
            Datatype::VarLen(t) => t.size,
            Datatype::Array(t) => t.size,
            Datatype::Complex(t) => t.size,
        })
    }

    /// The HDF5 class number (0–11).
    pub fn class(&self) -> u8 {
        match self {
            Datatype::FixedPoint(_) => 0,
            Datatype::FloatingPoint(_) => 1,
            Datatype::Time(_) => 2,
            Datatype::String(_) => 3,
            Datatype::Bitfield(_) => 4,
            Datatype::Opaque(_) => 5,
            Datatype::Compound(_) => 6,
            Datatype::Reference(_) => 7,
            Datatype::Enum(_) => 8,
            Datatype::VarLen(_) => 9,
            Datatype::Array(_) => 10,
            Datatype::Complex(_) => 11,
        }
    }

    /// Byte order of atomic types (enum and complex report their base's); `None` for types
    /// without one (strings, opaque, compound, references, vlen, arrays).
    pub fn byte_order(&self) -> Option<ByteOrder> {
        match self {
            Datatype::FixedPoint(t) => Some(t.order),
            Datatype::FloatingPoint(t) => Some(t.order),
            Datatype::Time(t) => Some(t.order),
            Datatype::Bitfield(t) => Some(t.order),
            Datatype::Enum(t) => t.base.byte_order(),
            Datatype::Complex(t) => t.base.byte_order(),
            _ => None,
        }
    }

    /// True when any part of this type is variable-length or a reference, i.e. its values
    /// point into the global heap or to other objects.
    pub fn has_indirection(&self) -> bool {
        match self {
            Datatype::VarLen(_) | Datatype::Reference(_) => true,
            Datatype::Compound(t) => t.members.iter().any(|m| m.datatype.has_indirection()),
            Datatype::Array(t) => t.base.has_indirection(),
            Datatype::Enum(t) => t.base.has_indirection(),
            _ => false,
        }
    }

    /// The numpy array-interface type string (e.g. `<i4`, `>f8`, `|S10`, `|u1`, `<c16`,
    /// `|V16`, `|b1`) for types that map one-to-one onto a numpy scalar type, following
    /// h5py's conventions (enum FALSE/TRUE → `|b1`, compound {r, i} → complex); `None` for
    /// other compound, array, variable-length, reference and time types, and for
    /// integers/floats with padding bits or non-IEEE layouts (the caller must handle those
    /// explicitly). Other enumerations map to their base type.
    pub fn numpy_typestr(&self) -> Option<String> {
        fn order_char(order: ByteOrder, size: u32) -> char {
            if size == 1 {
                '|'
            } else {
                order.numpy_char()
            }
        }
        let full_width = |offset: u16, precision: u16, size: u32| {
            offset == 0
                && u32::from(precision) == size.saturating_mul(8)
                && matches!(size, 1 | 2 | 4 | 8)
        };
        match self {
            // Integers with fewer significant bits (n-bit data) still read as whole integers.
            Datatype::FixedPoint(t) if t.bit_offset == 0 && matches!(t.size, 1 | 2 | 4 | 8) => {
                let kind = if t.signed { 'i' } else { 'u' };
                Some(format!("{}{}{}", order_char(t.order, t.size), kind, t.size))
            }
            Datatype::Bitfield(t) if full_width(t.bit_offset, t.precision, t.size) => {
                Some(format!("{}u{}", order_char(t.order, t.size), t.size))
            }
            Datatype::FloatingPoint(t) => t
                .ieee_bits()
                .map(|_| format!("{}f{}", t.order.numpy_char(), t.size)),
            Datatype::String(t) => Some(format!("|S{}", t.size)),
            Datatype::Opaque(t) => Some(format!("|V{}", t.size)),
            Datatype::Enum(t) if t.is_h5py_bool() => Some("|b1".to_owned()),
            Datatype::Enum(t) => t.base.numpy_typestr(),
            Datatype::Compound(t) => t
                .h5py_complex_part()
                .map(|f| format!("{}c{}", f.order.numpy_char(), t.size)),
            Datatype::Complex(t) => match t.base.as_ref() {
                Datatype::FloatingPoint(f) if matches!(f.ieee_bits(), Some(32 | 64)) => {
                    Some(format!("{}c{}", f.order.numpy_char(), t.size))
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// Parse a datatype message whose bytes start at `buf[0]` (file address `address`).
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<Datatype> {
    parse_prefix(buf, address, sizes).map(|(dt, _)| dt)
}

/// Parse a datatype message at the start of `buf` and also return how many bytes it used
/// (attribute messages and nested types need the encoded length).
pub fn parse_prefix(buf: &[u8], address: u64, sizes: Sizes) -> Result<(Datatype, usize)> {
    let mut c = Cursor::new(buf, address, sizes, STRUCTURE);
    let dt = decode(&mut c, 0)?;
    Ok((dt, c.pos()))
}

fn byte_order(bits: u32) -> ByteOrder {
    if bits & 1 != 0 {
        ByteOrder::BigEndian
    } else {
        ByteOrder::LittleEndian
    }
}

fn string_padding(code: u32, c: &Cursor<'_>) -> Result<StringPadding> {
    match code {
        0 => Ok(StringPadding::NullTerminate),
        1 => Ok(StringPadding::NullPad),
        2 => Ok(StringPadding::SpacePad),
        other => Err(c.unsupported(format!("string padding type {other}"))),
    }
}

/// Check that a bit range `offset .. offset + precision` fits in `size` bytes.
fn check_bits(c: &Cursor<'_>, offset: u64, precision: u64, size: u32, what: &str) -> Result<()> {
    let end = offset.saturating_add(precision);
    if precision == 0 || end > u64::from(size).saturating_mul(8) {
        return Err(c.invalid(format!(
            "{what}: bit range {offset}+{precision} does not fit a {size}-byte element"
        )));
    }
    Ok(())
}

/// Read a NUL-terminated name; for `padded` encodings (datatype v1/v2) skip to the next
/// multiple of 8 bytes counted from the name's start.
fn read_name(c: &mut Cursor<'_>, padded: bool) -> Result<String> {
    let start = c.pos();
    let raw = c.cstr()?;
    if padded {
        let used = c.pos().saturating_sub(start);
        let total = used.div_ceil(8).saturating_mul(8);
        c.skip(total.saturating_sub(used))?;
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}

fn decode(c: &mut Cursor<'_>, depth: usize) -> Result<Datatype> {
    if depth > MAX_DEPTH {
        return Err(c.invalid(format!("datatype nesting deeper than {MAX_DEPTH}")));
    }
    let class_version = c.u8()?;
    let version = class_version >> 4;
    let class = class_version & 0x0f;
    if !(1..=5).contains(&version) {
        return Err(c.bad_version(version));
    }
    let bit_bytes = c.bytes(3)?;
    let bits = bit_bytes
        .iter()
        .rev()
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    let size = c.u32()?;
    if size == 0 {
        return Err(c.invalid(format!("class {class} datatype with size 0")));
    }
    match class {
        0 => {
            let bit_offset = c.u16()?;
            let precision = c.u16()?;
            check_bits(c, bit_offset.into(), precision.into(), size, "fixed-point")?;
            Ok(Datatype::FixedPoint(FixedPointType {
                size,
                order: byte_order(bits),
                signed: bits & 0x08 != 0,
                low_pad: bits & 0x02 != 0,
                high_pad: bits & 0x04 != 0,
                bit_offset,
                precision,
            }))
        }
        1 => decode_float(c, bits, size),
        2 => {
            let precision = c.u16()?;
            check_bits(c, 0, precision.into(), size, "time")?;
            Ok(Datatype::Time(TimeType {
                size,
                order: byte_order(bits),
                precision,
            }))
        }
        3 => Ok(Datatype::String(StringType {
            size,
            padding: string_padding(bits & 0x0f, c)?,
            charset: CharSet::from_code((bits >> 4) & 0x0f, c)?,
        })),
        4 => {
            let bit_offset = c.u16()?;
            let precision = c.u16()?;
            check_bits(c, bit_offset.into(), precision.into(), size, "bitfield")?;
            Ok(Datatype::Bitfield(BitfieldType {
                size,
                order: byte_order(bits),
                low_pad: bits & 0x02 != 0,
                high_pad: bits & 0x04 != 0,
                bit_offset,
                precision,
            }))
        }
        5 => {
            let tag_len = usize::try_from(bits & 0xff).unwrap_or(usize::MAX);
            let raw = c.bytes(tag_len)?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            let tag = String::from_utf8_lossy(raw.get(..end).unwrap_or_default()).into_owned();
            Ok(Datatype::Opaque(OpaqueType { size, tag }))
        }
        6 => decode_compound(c, version, bits, size, depth),
        7 => {
            let kind = match bits & 0x0f {
                0 => ReferenceKind::Object,
                1 => ReferenceKind::DatasetRegion,
                2 => ReferenceKind::Object2,
                3 => ReferenceKind::DatasetRegion2,
                4 => ReferenceKind::Attribute,
                other => return Err(c.unsupported(format!("reference type {other}"))),
            };
            let encoding_version = ((bits >> 4) & 0x0f) as u8;
            Ok(Datatype::Reference(ReferenceType {
                size,
                kind,
                encoding_version,
            }))
        }
        8 => decode_enum(c, version, bits, size, depth),
        9 => {
            let kind = match bits & 0x0f {
                0 => VarLenKind::Sequence,
                1 => VarLenKind::String {
                    padding: string_padding((bits >> 4) & 0x0f, c)?,
                    charset: CharSet::from_code((bits >> 8) & 0x0f, c)?,
                },
                other => return Err(c.unsupported(format!("variable-length type {other}"))),
            };
            let base = decode(c, depth + 1)?;
            Ok(Datatype::VarLen(VarLenType {
                size,
                kind,
                base: Box::new(base),
            }))
        }
        10 => decode_array(c, version, size, depth),
        11 => {
            if bits & 0x01 == 0 {
                return Err(c.unsupported("heterogeneous complex number type"));
            }
            let form = (bits >> 1) & 0x03;
            if form != 0 {
                return Err(c.unsupported(format!("complex number form {form} (only rectangular)")));
            }
            let base = decode(c, depth + 1)?;
            if !matches!(base, Datatype::FloatingPoint(_)) {
                return Err(c.invalid("complex number base type is not floating point"));
            }
            if base.size().checked_mul(2) != Some(u64::from(size)) {
                return Err(c.invalid(format!(
                    "complex size {size} is not twice the base size {}",
                    base.size()
                )));
            }
            Ok(Datatype::Complex(ComplexType {
                size,
                base: Box::new(base),
            }))
        }
        other => Err(c.unsupported(format!("datatype class {other}"))),
    }
}

fn decode_float(c: &mut Cursor<'_>, bits: u32, size: u32) -> Result<Datatype> {
    let order = match (bits & 0x01 != 0, bits & 0x40 != 0) {
        (false, false) => ByteOrder::LittleEndian,
        (true, false) => ByteOrder::BigEndian,
        (true, true) => return Err(c.unsupported("VAX floating-point byte order")),
        (false, true) => return Err(c.invalid("reserved floating-point byte order")),
    };
    let normalization = match (bits >> 4) & 0x03 {
        0 => MantissaNorm::None,
        1 => MantissaNorm::MsbSet,
        2 => MantissaNorm::Implied,
        _ => return Err(c.invalid("reserved mantissa normalization 3")),
    };
    let sign_location = ((bits >> 8) & 0xff) as u8;
    let bit_offset = c.u16()?;
    let precision = c.u16()?;
    let exponent_location = c.u8()?;
    let exponent_size = c.u8()?;
    let mantissa_location = c.u8()?;
    let mantissa_size = c.u8()?;
    let exponent_bias = c.u32()?;
    check_bits(
        c,
        bit_offset.into(),
        precision.into(),
        size,
        "floating-point",
    )?;
    check_bits(
        c,
        exponent_location.into(),
        exponent_size.into(),
        size,
        "exponent",
    )?;
    check_bits(
        c,
        mantissa_location.into(),
        mantissa_size.into(),
        size,
        "mantissa",
    )?;
    check_bits(c, sign_location.into(), 1, size, "sign")?;
    Ok(Datatype::FloatingPoint(FloatType {
        size,
        order,
        low_pad: bits & 0x02 != 0,
        high_pad: bits & 0x04 != 0,
        internal_pad: bits & 0x08 != 0,
        normalization,
        sign_location,
        bit_offset,
        precision,
        exponent_location,
        exponent_size,
        mantissa_location,
        mantissa_size,
        exponent_bias,
    }))
}

fn decode_compound(
    c: &mut Cursor<'_>,
    version: u8,
    bits: u32,
    size: u32,
    depth: usize,
) -> Result<Datatype> {
    let count = bits & 0xffff;
    // v3+: member offsets use the fewest bytes able to hold the compound size.
    let offset_width = bytes_for(u64::from(size));
    let mut members = Vec::new();
    for _ in 0..count {
        let name = read_name(c, version < 3)?;
        let offset = if version < 3 {
            c.u32()?
        } else {
            c.uint(offset_width)? as u32
        };
        let mut array_dims = Vec::new();
        if version == 1 {
            let ndims = c.u8()?;
            c.skip(3)?; // reserved
            c.skip(4)?; // dimension permutation (never implemented)
            c.skip(4)?; // reserved
            let mut dims = [0u32; 4];
            for d in dims.iter_mut() {
                *d = c.u32()?;
            }
            if ndims > 4 {
                return Err(c.invalid(format!(
                    "compound member {name:?} has {ndims} dimensions (max 4)"
                )));
            }
            array_dims.extend(dims.iter().take(usize::from(ndims)));
        }
        let mut datatype = decode(c, depth + 1)?;
        if !array_dims.is_empty() {
            datatype = Datatype::Array(array_of(c, array_dims, datatype)?);
        }
        let end = u64::from(offset).saturating_add(datatype.size());
        if end > u64::from(size) {
            return Err(c.invalid(format!(
                "compound member {name:?} ends at byte {end}, past the compound size {size}"
            )));
        }
        members.push(CompoundMember {
            name,
            offset,
            datatype,
        });
    }
    Ok(Datatype::Compound(CompoundType { size, members }))
}

/// Build an array type over `base`, computing and bounds-checking its size.
fn array_of(c: &Cursor<'_>, dims: Vec<u32>, base: Datatype) -> Result<ArrayType> {
    // A zero dimension would make a zero-sized element that value decoding cannot bound.
    if dims.contains(&0) {
        return Err(c.invalid(format!("array dimension 0 in {dims:?}")));
    }
    let total = dims
        .iter()
        .try_fold(base.size(), |acc, &d| acc.checked_mul(u64::from(d)))
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| c.invalid("array element size overflows 32 bits"))?;
    Ok(ArrayType {
        size: total,
        dims,
        base: Box::new(base),
    })
}

fn decode_enum(
    c: &mut Cursor<'_>,
    version: u8,
    bits: u32,
    size: u32,
    depth: usize,
) -> Result<Datatype> {
    let count = usize::try_from(bits & 0xffff).unwrap_or(usize::MAX);
    let base = decode(c, depth + 1)?;
    if base.size() != u64::from(size) {
        return Err(c.invalid(format!(
            "enumeration size {size} differs from its base type size {}",
            base.size()
        )));
    }
    let mut names = Vec::new();
    for _ in 0..count {
        names.push(read_name(c, version < 3)?);
    }
    let value_size = usize::try_from(size).unwrap_or(usize::MAX);
    c.require(value_size.saturating_mul(count))?;
    let mut members = Vec::with_capacity(count);
    for name in names {
        let value = c.bytes(value_size)?.to_vec();
        members.push(EnumMember { name, value });
    }
    Ok(Datatype::Enum(EnumType {
        size,
        base: Box::new(base),
        members,
    }))
}

fn decode_array(c: &mut Cursor<'_>, version: u8, size: u32, depth: usize) -> Result<Datatype> {
    let rank = c.u8()?;
    if rank == 0 || rank > MAX_ARRAY_RANK {
        return Err(c.invalid(format!(
            "array rank {rank} out of range 1..={MAX_ARRAY_RANK}"
        )));
    }
    if version < 3 {
        c.skip(3)?; // reserved
    }
    let mut dims = Vec::with_capacity(usize::from(rank));
    for _ in 0..rank {
        dims.push(c.u32()?);
    }
    if version < 3 {
        c.skip(4usize.saturating_mul(usize::from(rank)))?; // permutation indices (unused)
    }
    let base = decode(c, depth + 1)?;
    let array = array_of(c, dims, base)?;
    if array.size != size {
        return Err(c.invalid(format!(
            "array size {size} differs from dims × base size = {}",
            array.size
        )));
    }
    Ok(Datatype::Array(array))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::error::FormatError;

    /// Tiny encoder for datatype messages used by the tests.
    fn header(version: u8, class: u8, bits: u32, size: u32) -> Vec<u8> {
        let mut v = vec![(version << 4) | class];
        v.extend_from_slice(&bits.to_le_bytes()[..3]);
        v.extend_from_slice(&size.to_le_bytes());
        v
    }

    /// An integer datatype message (HDF5 v1 encoding).
    fn int(size: u32, signed: bool, big: bool) -> Vec<u8> {
        let bits = u32::from(big) | if signed { 0x08 } else { 0 };
        let mut v = header(1, 0, bits, size);
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&((size * 8) as u16).to_le_bytes());
        v
    }

    /// An IEEE float datatype message (layouts from IEEE 754: sign at top bit).
    fn ieee(size: u32, big: bool) -> Vec<u8> {
        let (esize, msize, bias) = match size {
            2 => (5u8, 10u8, 15u32),
            4 => (8, 23, 127),
            _ => (11, 52, 1023),
        };
        let bits = u32::from(big) | (2 << 4) | ((size * 8 - 1) << 8);
        let mut v = header(1, 1, bits, size);
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&((size * 8) as u16).to_le_bytes());
        v.extend_from_slice(&[msize, esize, 0, msize]);
        v.extend_from_slice(&bias.to_le_bytes());
        v
    }

    fn p(buf: &[u8]) -> Result<Datatype> {
        parse(buf, 0, Sizes::DEFAULT)
    }

    #[test]
    fn integers_and_numpy_strings() {
        let dt = p(&int(4, true, false)).unwrap();
        assert_eq!(dt.size(), 4);
        assert_eq!(dt.numpy_typestr().as_deref(), Some("<i4"));
        let dt = p(&int(2, false, true)).unwrap();
        assert_eq!(dt.numpy_typestr().as_deref(), Some(">u2"));
        assert_eq!(dt.byte_order(), Some(ByteOrder::BigEndian));
        let dt = p(&int(1, false, false)).unwrap();
        assert_eq!(dt.numpy_typestr().as_deref(), Some("|u1"));
    }

    #[test]
    fn padded_integer_has_no_numpy_mapping() {
        // 12 significant bits at offset 2 inside a 2-byte element.
        let mut v = header(1, 0, 0x08, 2);
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&12u16.to_le_bytes());
        let dt = p(&v).unwrap();
        assert_eq!(dt.numpy_typestr(), None);
        // Precision running past the element is rejected.
        let mut v = header(1, 0, 0, 1);
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&8u16.to_le_bytes());
        assert!(matches!(p(&v), Err(FormatError::Invalid { .. })));
    }

    #[test]
    fn floats_ieee_and_vax() {
        for (size, s) in [(2u32, "<f2"), (4, "<f4"), (8, "<f8")] {
            let dt = p(&ieee(size, false)).unwrap();
            assert_eq!(dt.numpy_typestr().as_deref(), Some(s));
        }
        assert_eq!(
            p(&ieee(8, true)).unwrap().numpy_typestr().as_deref(),
            Some(">f8")
        );
        // bfloat16: 8-bit exponent, 7-bit mantissa, bias 127 → no numpy mapping.
        let mut v = header(1, 1, (2 << 4) | (15 << 8), 2);
        v.extend_from_slice(&[0, 0, 16, 0, 7, 8, 0, 7]);
        v.extend_from_slice(&127u32.to_le_bytes());
        let dt = p(&v).unwrap();
        assert_eq!(dt.numpy_typestr(), None);
        // VAX order (bits 0 and 6 set) → unsupported.
        let mut v = ieee(4, false);
        v[1] |= 0x41;
        assert!(matches!(p(&v), Err(FormatError::Unsupported { .. })));
    }

    #[test]
    fn time_string_bitfield_opaque() {
        let mut v = header(1, 2, 0, 4);
        v.extend_from_slice(&32u16.to_le_bytes());
        assert_eq!(
            p(&v).unwrap(),
            Datatype::Time(TimeType {
                size: 4,
                order: ByteOrder::LittleEndian,
                precision: 32
            })
        );
        // String: space-padded (2), UTF-8 (1 << 4).
        let v = header(1, 3, 2 | (1 << 4), 7);
        assert_eq!(
            p(&v).unwrap(),
            Datatype::String(StringType {
                size: 7,
                padding: StringPadding::SpacePad,
                charset: CharSet::Utf8
            })
        );
        assert_eq!(p(&v).unwrap().numpy_typestr().as_deref(), Some("|S7"));
        let mut v = header(1, 4, 1, 2);
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&16u16.to_le_bytes());
        assert_eq!(p(&v).unwrap().numpy_typestr().as_deref(), Some(">u2"));
        let mut v = header(1, 5, 8, 16);
        v.extend_from_slice(b"mytag\0\0\0");
        assert_eq!(
            p(&v).unwrap(),
            Datatype::Opaque(OpaqueType {
                size: 16,
                tag: "mytag".into()
            })
        );
    }

    /// Regression (fuzz/value, fuzz/messages): a v1 compound member with a zero dimension
    /// gave a 0-byte array type over 2.5e6 × 11263 elements, which value decoding then tried
    /// to materialise (out of memory).
    #[test]
    fn compound_v1_member_with_zero_dimension_is_an_error() {
        let mut v = header(1, 6, 1, 8);
        v.extend_from_slice(b"l\0\0\0\0\0\0\0");
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for d in [2_555_908u32, 11263, 0, 0] {
            v.extend_from_slice(&d.to_le_bytes());
        }
        v.extend_from_slice(&int(4, true, false));
        let err = p(&v).unwrap_err().to_string();
        assert!(err.contains("array dimension 0"), "{err}");
    }

    #[test]
    fn compound_versions() {
        // v1 with a dimensioned member: {a: i4 at 0, b: f8[2][3] at 8}, size 56.
        let mut v = header(1, 6, 2, 56);
        v.extend_from_slice(b"a\0\0\0\0\0\0\0");
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&[0; 12]);
        v.extend_from_slice(&[0; 16]);
        v.extend_from_slice(&int(4, true, false));
        v.extend_from_slice(b"b\0\0\0\0\0\0\0");
        v.extend_from_slice(&8u32.to_le_bytes());
        v.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for d in [2u32, 3, 0, 0] {
            v.extend_from_slice(&d.to_le_bytes());
        }
        v.extend_from_slice(&ieee(8, false));
        let (dt, used) = parse_prefix(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(used, v.len());
        let Datatype::Compound(ct) = dt else {
            panic!("not compound")
        };
        assert_eq!(ct.members.len(), 2);
        assert_eq!(ct.members[1].offset, 8);
        let Datatype::Array(at) = &ct.members[1].datatype else {
            panic!("not array")
        };
        assert_eq!(at.dims, vec![2, 3]);
        assert_eq!(at.size, 48);

        // v3 with 1-byte offsets (size < 256) and unpadded names.
        let mut v = header(3, 6, 2, 12);
        v.extend_from_slice(b"x\0");
        v.push(0);
        v.extend_from_slice(&int(4, true, false));
        v.extend_from_slice(b"yy\0");
        v.push(4);
        v.extend_from_slice(&ieee(8, false));
        let (dt, used) = parse_prefix(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(used, v.len());
        let Datatype::Compound(ct) = dt else {
            panic!("not compound")
        };
        assert_eq!(ct.members[1].name, "yy");
        assert_eq!(ct.members[1].offset, 4);

        // v5 compound of size 300 → 2-byte offsets.
        let mut v = header(5, 6, 1, 300);
        v.extend_from_slice(b"z\0");
        v.extend_from_slice(&292u16.to_le_bytes());
        v.extend_from_slice(&ieee(8, false));
        let Datatype::Compound(ct) = p(&v).unwrap() else {
            panic!("not compound")
        };
        assert_eq!(ct.members[0].offset, 292);

        // h5py's complex convention {r: f8 at 0, i: f8 at 8} → `<c16`.
        let mut v = header(3, 6, 2, 16);
        v.extend_from_slice(b"r\0");
        v.push(0);
        v.extend_from_slice(&ieee(8, false));
        v.extend_from_slice(b"i\0");
        v.push(8);
        v.extend_from_slice(&ieee(8, false));
        assert_eq!(p(&v).unwrap().numpy_typestr().as_deref(), Some("<c16"));

        // A member past the end is invalid.
        let mut v = header(3, 6, 1, 4);
        v.extend_from_slice(b"z\0");
        v.push(2);
        v.extend_from_slice(&int(4, true, false));
        assert!(matches!(p(&v), Err(FormatError::Invalid { .. })));
    }

    #[test]
    fn references() {
        let v = header(1, 7, 0, 8);
        assert_eq!(
            p(&v).unwrap(),
            Datatype::Reference(ReferenceType {
                size: 8,
                kind: ReferenceKind::Object,
                encoding_version: 0
            })
        );
        // Revised object reference, encoding version 1 (as in official trefer_obj.h5).
        let v = header(1, 7, 0x12, 18);
        assert_eq!(
            p(&v).unwrap(),
            Datatype::Reference(ReferenceType {
                size: 18,
                kind: ReferenceKind::Object2,
                encoding_version: 1
            })
        );
        let v = header(4, 7, 0x14, 18);
        let Datatype::Reference(r) = p(&v).unwrap() else {
            panic!()
        };
        assert_eq!(r.kind, ReferenceKind::Attribute);
        assert!(p(&header(4, 7, 5, 18)).is_err());
    }

    #[test]
    fn enums_v1_and_v3() {
        // v1: names padded to 8.
        let mut v = header(1, 8, 2, 1);
        v.extend_from_slice(&int(1, true, false));
        v.extend_from_slice(b"FALSE\0\0\0TRUE\0\0\0\0");
        v.extend_from_slice(&[0, 1]);
        let (dt, used) = parse_prefix(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(used, v.len());
        let Datatype::Enum(et) = &dt else { panic!() };
        assert_eq!(et.members[1].name, "TRUE");
        assert_eq!(et.members[1].value, vec![1]);
        assert_eq!(dt.numpy_typestr().as_deref(), Some("|b1"));
        // v3: unpadded names, 2-byte values.
        let mut v = header(3, 8, 2, 2);
        v.extend_from_slice(&int(2, false, false));
        v.extend_from_slice(b"RED\0GREEN\0");
        v.extend_from_slice(&[5, 0, 7, 0]);
        let (dt, used) = parse_prefix(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(used, v.len());
        let Datatype::Enum(et) = &dt else { panic!() };
        assert_eq!(et.members[1].name, "GREEN");
        assert_eq!(et.members[1].value, vec![7, 0]);
        // Truncated values → Incomplete, not a panic.
        assert!(matches!(
            p(v.get(..v.len() - 1).unwrap()),
            Err(FormatError::Incomplete { .. })
        ));
    }

    #[test]
    fn vlen_array_complex() {
        // vlen string: type 1, null-terminated (0), UTF-8 (1 << 8), base u1.
        let mut v = header(1, 9, 1 | (1 << 8), 16);
        v.extend_from_slice(&int(1, false, false));
        let Datatype::VarLen(vt) = p(&v).unwrap() else {
            panic!()
        };
        assert_eq!(
            vt.kind,
            VarLenKind::String {
                padding: StringPadding::NullTerminate,
                charset: CharSet::Utf8
            }
        );
        // Array v2 (with permutation) of i4[2][3].
        let mut v = header(2, 10, 0, 24);
        v.extend_from_slice(&[2, 0, 0, 0]);
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&int(4, true, false));
        let (dt, used) = parse_prefix(&v, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(used, v.len());
        let Datatype::Array(at) = dt else { panic!() };
        assert_eq!(at.dims, vec![2, 3]);
        // Array v3 with a wrong total size is rejected.
        let mut v = header(3, 10, 0, 25);
        v.push(2);
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&int(4, true, false));
        assert!(matches!(p(&v), Err(FormatError::Invalid { .. })));
        // Complex (v5, class 11, homogeneous rectangular) of f8.
        let mut v = header(5, 11, 1, 16);
        v.extend_from_slice(&ieee(8, false));
        let dt = p(&v).unwrap();
        assert_eq!(dt.numpy_typestr().as_deref(), Some("<c16"));
        // Polar form is unsupported.
        let mut v = header(5, 11, 1 | 2, 16);
        v.extend_from_slice(&ieee(8, false));
        assert!(matches!(p(&v), Err(FormatError::Unsupported { .. })));
    }

    #[test]
    fn rejects_bad_versions_and_deep_nesting() {
        assert!(matches!(
            p(&header(0, 0, 0, 4)),
            Err(FormatError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            p(&header(6, 0, 0, 4)),
            Err(FormatError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            p(&header(1, 12, 0, 4)),
            Err(FormatError::Unsupported { .. })
        ));
        // 40 nested vlen sequences of vlen sequences.
        let mut v = Vec::new();
        for _ in 0..40 {
            v.extend_from_slice(&header(1, 9, 0, 16));
        }
        v.extend_from_slice(&int(1, false, false));
        assert!(matches!(p(&v), Err(FormatError::Invalid { .. })));
    }

    #[test]
    fn never_panics_on_truncation() {
        let mut v = header(1, 6, 2, 56);
        v.extend_from_slice(b"a\0\0\0\0\0\0\0");
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&[0; 28]);
        v.extend_from_slice(&int(4, true, false));
        for n in 0..v.len() {
            assert!(p(v.get(..n).unwrap()).is_err());
        }
    }
}
