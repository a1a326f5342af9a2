//! Fixed-length strings whose stored bytes are not what HDF5 returns.
//!
//! HDF5 converts fixed-length strings on read: a space-padded string (`H5T_STR_SPACEPAD`,
//! Fortran style) loses its trailing spaces, and a NUL-terminated one (`H5T_STR_NULLTERM`)
//! ends at its first NUL even when the writer left garbage after it. numpy's `S` type only
//! strips trailing NULs, so references to such raw bytes would read differently from h5py.
//! kerchunk references them anyway; here the bytes are checked and, where they differ,
//! rewritten to the NUL-padded form HDF5 returns (see `dataset` for how such chunks are
//! embedded).

use hdf5_meta::format::messages::datatype::{Datatype, StringPadding};

/// A string field inside one element: byte offset, size, padding rule.
pub type Field = (usize, usize, StringPadding);

/// The string fields of `dt` that need checking (space-padded ones, and NUL-terminated ones
/// longer than one byte), at their offsets within one element.
pub fn fields(dt: &Datatype) -> Vec<Field> {
    let mut out = Vec::new();
    collect(dt, 0, &mut out);
    out
}

fn collect(dt: &Datatype, at: usize, out: &mut Vec<Field>) {
    match dt {
        Datatype::String(t) => {
            let size = usize::try_from(t.size).unwrap_or(0);
            let needs = match t.padding {
                StringPadding::SpacePad => true,
                StringPadding::NullTerminate => size > 1,
                StringPadding::NullPad => false,
            };
            if needs {
                out.push((at, size, t.padding));
            }
        }
        Datatype::Compound(c) => {
            for m in &c.members {
                collect(
                    &m.datatype,
                    at.saturating_add(usize::try_from(m.offset).unwrap_or(usize::MAX)),
                    out,
                );
            }
        }
        Datatype::Array(a) => {
            let n: usize = a
                .dims
                .iter()
                .map(|&d| usize::try_from(d).unwrap_or(0))
                .product();
            let step = usize::try_from(a.base.size()).unwrap_or(0);
            let mut inner = Vec::new();
            collect(&a.base, 0, &mut inner);
            if inner.is_empty() {
                return;
            }
            for i in 0..n.min(1 << 20) {
                for &(o, s, p) in &inner {
                    out.push((
                        at.saturating_add(i.saturating_mul(step)).saturating_add(o),
                        s,
                        p,
                    ));
                }
            }
        }
        _ => {}
    }
}

/// Whether any field is space-padded (those always need rewriting when padded).
pub fn has_space_padding(fields: &[Field]) -> bool {
    fields.iter().any(|f| f.2 == StringPadding::SpacePad)
}

/// Rewrite every element of `buf` (elements of `elem` bytes) in place as HDF5 returns the
/// strings: space padding and bytes after a NUL terminator become NULs. Returns whether
/// anything changed.
pub fn normalize(buf: &mut [u8], elem: usize, fields: &[Field]) -> bool {
    if elem == 0 || fields.is_empty() {
        return false;
    }
    let mut changed = false;
    for e in buf.chunks_exact_mut(elem) {
        for &(off, size, pad) in fields {
            let Some(s) = off.checked_add(size).and_then(|end| e.get_mut(off..end)) else {
                continue;
            };
            let keep = match pad {
                StringPadding::SpacePad => s.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1),
                StringPadding::NullTerminate => s.iter().position(|&b| b == 0).unwrap_or(s.len()),
                StringPadding::NullPad => s.len(),
            };
            if let Some(tail) = s.get_mut(keep..) {
                if tail.iter().any(|&b| b != 0) {
                    tail.fill(0);
                    changed = true;
                }
            }
        }
    }
    changed
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::translate::dtype::tests::{compound, int, string};
    use hdf5_meta::format::messages::datatype::{ByteOrder, CharSet, StringType};

    fn s(size: u32, padding: StringPadding) -> Datatype {
        Datatype::String(StringType {
            size,
            padding,
            charset: CharSet::Ascii,
        })
    }

    #[test]
    fn space_and_null_terminated() {
        // tstr.h5 in the HDF5 test suite stores "ab cd ef1" space-padded; h5py reads it
        // without the trailing spaces.
        let f = fields(&s(11, StringPadding::SpacePad));
        let mut b = *b"ab cd ef1  ";
        assert!(normalize(&mut b, 11, &f));
        assert_eq!(&b, b"ab cd ef1\0\0");
        assert!(!normalize(&mut b, 11, &f));
        // h5repack_objs.h5: NUL-terminated "" followed by garbage.
        let f = fields(&s(2, StringPadding::NullTerminate));
        let mut b = *b"\0dxy";
        assert!(normalize(&mut b, 2, &f));
        assert_eq!(&b, b"\0\0xy");
        assert!(fields(&s(1, StringPadding::NullTerminate)).is_empty());
        assert!(fields(&string(4)).is_empty()); // NUL-padded: raw bytes are exact
    }

    #[test]
    fn compound_members() {
        let c = compound(
            vec![
                ("i", 0, int(4, true, ByteOrder::LittleEndian)),
                ("t", 4, s(3, StringPadding::SpacePad)),
            ],
            7,
        );
        let f = fields(&c);
        assert_eq!(f, vec![(4, 3, StringPadding::SpacePad)]);
        assert!(has_space_padding(&f));
        let mut b = [1, 0, 0, 0, b'a', b' ', b' ', 2, 0, 0, 0, b'b', b'c', b'd'];
        assert!(normalize(&mut b, 7, &f));
        assert_eq!(b, [1, 0, 0, 0, b'a', 0, 0, 2, 0, 0, 0, b'b', b'c', b'd']);
    }
}
