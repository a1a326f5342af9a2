//! Dataspace message (type 0x01), versions 1 and 2.
//!
//! v1: version, rank, flags, reserved(1), reserved(4), then rank × L current sizes,
//! [rank × L maximum sizes if flag bit 0], [rank × L permutation indices if flag bit 1].
//! v2: version, rank, flags, type (0 scalar, 1 simple, 2 null), then sizes and maxima.
//! A maximum of all ones at Size-of-Lengths width means "unlimited" (§0 item 14).

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

const STRUCTURE: &str = "dataspace message";

/// Largest rank the HDF5 library supports.
pub const MAX_RANK: u8 = 32;

/// The shape class of a dataspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataspaceKind {
    /// A single element, rank 0.
    Scalar,
    /// A rectilinear array (rank ≥ 1 in practice).
    Simple,
    /// No elements at all (attributes/datasets created with `H5S_NULL`).
    Null,
}

/// A decoded dataspace message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataspace {
    /// Message version (1 or 2).
    pub version: u8,
    /// Scalar, simple or null.
    pub kind: DataspaceKind,
    /// Current dimension sizes, slowest-varying first (empty for scalar/null).
    pub dims: Vec<u64>,
    /// Maximum dimension sizes, same length as `dims`; `None` = unlimited. Equal to `dims`
    /// when the message stores no maxima.
    pub max_dims: Vec<Option<u64>>,
}

impl Dataspace {
    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    /// Number of elements: 1 for scalar, 0 for null, the product of `dims` otherwise;
    /// `None` if the product overflows 64 bits.
    pub fn element_count(&self) -> Option<u64> {
        match self.kind {
            DataspaceKind::Null => Some(0),
            DataspaceKind::Scalar => Some(1),
            DataspaceKind::Simple => self
                .dims
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d)),
        }
    }

    /// True when at least one dimension is unlimited.
    pub fn has_unlimited(&self) -> bool {
        self.max_dims.iter().any(Option::is_none)
    }
}

/// Parse a dataspace message whose bytes start at `buf[0]` (file address `address`).
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<Dataspace> {
    let mut c = Cursor::new(buf, address, sizes, STRUCTURE);
    let version = c.u8()?;
    let rank = c.u8()?;
    let flags = c.u8()?;
    let kind = match version {
        1 => {
            c.skip(5)?; // reserved
            if rank == 0 {
                DataspaceKind::Scalar
            } else {
                DataspaceKind::Simple
            }
        }
        2 => match c.u8()? {
            0 => DataspaceKind::Scalar,
            1 => DataspaceKind::Simple,
            2 => DataspaceKind::Null,
            other => return Err(c.invalid(format!("dataspace type {other}"))),
        },
        v => return Err(c.bad_version(v)),
    };
    if rank > MAX_RANK {
        return Err(c.invalid(format!("rank {rank} exceeds {MAX_RANK}")));
    }
    if kind != DataspaceKind::Simple && rank != 0 {
        return Err(c.invalid(format!("{kind:?} dataspace with rank {rank}")));
    }
    let n = usize::from(rank);
    let mut dims = Vec::with_capacity(n);
    for _ in 0..n {
        let d = c.length()?;
        dims.push(d);
    }
    let max_dims = if flags & 0x01 != 0 {
        let mut m = Vec::with_capacity(n);
        for _ in 0..n {
            // Cursor::length maps all ones at width L to u64::MAX: that is "unlimited".
            let d = c.length()?;
            m.push((d != u64::MAX).then_some(d));
        }
        m
    } else {
        dims.iter().copied().map(Some).collect()
    };
    if version == 1 && flags & 0x02 != 0 {
        // Permutation indices: specified but never implemented by the library; skip them.
        c.skip(usize::from(sizes.length).saturating_mul(n))?;
    }
    Ok(Dataspace {
        version,
        kind,
        dims,
        max_dims,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::FormatError;

    /// Encode a dataspace message: `width` = Size of Lengths.
    fn encode(version: u8, kind: u8, dims: &[u64], max: Option<&[u64]>, width: usize) -> Vec<u8> {
        let mut v = vec![version, dims.len() as u8, u8::from(max.is_some())];
        if version == 1 {
            v.extend_from_slice(&[0; 5]);
        } else {
            v.push(kind);
        }
        for d in dims.iter().chain(max.unwrap_or_default()) {
            v.extend_from_slice(&d.to_le_bytes()[..width]);
        }
        v
    }

    #[test]
    fn v1_simple_with_unlimited_at_width_4() {
        let sizes = Sizes {
            offset: 4,
            length: 4,
        };
        let v = encode(1, 0, &[10, 3], Some(&[0xffff_ffff, 3]), 4);
        let ds = parse(&v, 0, sizes).unwrap();
        assert_eq!(ds.kind, DataspaceKind::Simple);
        assert_eq!(ds.dims, vec![10, 3]);
        assert_eq!(ds.max_dims, vec![None, Some(3)]);
        assert!(ds.has_unlimited());
        assert_eq!(ds.element_count(), Some(30));
    }

    #[test]
    fn v1_scalar_and_v2_kinds() {
        let ds = parse(&encode(1, 0, &[], None, 8), 0, Sizes::DEFAULT).unwrap();
        assert_eq!(ds.kind, DataspaceKind::Scalar);
        assert_eq!(ds.element_count(), Some(1));
        let ds = parse(&encode(2, 2, &[], None, 8), 0, Sizes::DEFAULT).unwrap();
        assert_eq!(ds.kind, DataspaceKind::Null);
        assert_eq!(ds.element_count(), Some(0));
        let ds = parse(&encode(2, 1, &[4], Some(&[u64::MAX]), 8), 0, Sizes::DEFAULT).unwrap();
        assert_eq!(ds.max_dims, vec![None]);
        let ds = parse(&encode(2, 1, &[4, 5], None, 8), 0, Sizes::DEFAULT).unwrap();
        assert_eq!(ds.max_dims, vec![Some(4), Some(5)]);
    }

    #[test]
    fn v1_permutation_is_skipped() {
        let mut v = encode(1, 0, &[2], None, 8);
        v[2] = 0x02;
        v.extend_from_slice(&0u64.to_le_bytes());
        assert_eq!(parse(&v, 0, Sizes::DEFAULT).unwrap().dims, vec![2]);
        // …and its absence is reported as incomplete.
        assert!(matches!(
            parse(&v[..v.len() - 1], 0, Sizes::DEFAULT),
            Err(FormatError::Incomplete { .. })
        ));
    }

    #[test]
    fn rejects_malformed() {
        assert!(matches!(
            parse(&[3, 0, 0, 0], 0, Sizes::DEFAULT),
            Err(FormatError::UnsupportedVersion { .. })
        ));
        assert!(parse(&encode(2, 3, &[], None, 8), 0, Sizes::DEFAULT).is_err());
        assert!(parse(&encode(2, 0, &[1], None, 8), 0, Sizes::DEFAULT).is_err());
        let mut v = encode(2, 1, &[], None, 8);
        v[1] = 33;
        assert!(matches!(
            parse(&v, 0, Sizes::DEFAULT),
            Err(FormatError::Invalid { .. })
        ));
        let v = encode(2, 1, &[1, 2, 3], Some(&[1, 2, 3]), 8);
        for n in 0..v.len() {
            assert!(matches!(
                parse(&v[..n], 7, Sizes::DEFAULT),
                Err(FormatError::Incomplete { offset: 7, .. })
            ));
        }
    }
}
