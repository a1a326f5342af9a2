//! Zarr v2 chunk keys and chunk-grid arithmetic.
//!
//! A chunk of the array at `<path>` with grid index `(i, j, k)` has the key `<path>/i.j.k`
//! (kerchunk always uses the `.` dimension separator). A 0-d (scalar) array has one chunk,
//! `<path>/0`. An array at the root (`path == ""`) has keys without the `path/` prefix.
//! Indices are written in canonical decimal (no sign, no leading zeros), which is what zarr
//! looks up; anything else is rejected by the parsers here.

use crate::error::{RefsError, Result};

/// The key suffix of the only chunk of a 0-d array.
pub const SCALAR_CHUNK_KEY: &str = "0";

/// Joins a node path and a leaf name into a key: `join_key("a/b", ".zarray") == "a/b/.zarray"`,
/// `join_key("", ".zgroup") == ".zgroup"`.
pub fn join_key(path: &str, leaf: &str) -> String {
    if path.is_empty() {
        leaf.to_string()
    } else {
        let mut s = String::with_capacity(path.len() + 1 + leaf.len());
        s.push_str(path);
        s.push('/');
        s.push_str(leaf);
        s
    }
}

/// Splits a key into its node path and last component: `"a/b/0.1"` → `("a/b", "0.1")`,
/// `".zgroup"` → `("", ".zgroup")`.
pub fn split_key(key: &str) -> (&str, &str) {
    key.rsplit_once('/').unwrap_or(("", key))
}

/// Formats a chunk grid index as a key suffix: `[1, 0, 2]` → `"1.0.2"`, `[]` → `"0"`.
pub fn format_chunk_index(index: &[u64]) -> String {
    if index.is_empty() {
        return SCALAR_CHUNK_KEY.to_string();
    }
    let mut s = String::with_capacity(index.len() * 2);
    for (n, i) in index.iter().enumerate() {
        if n > 0 {
            s.push('.');
        }
        s.push_str(&i.to_string());
    }
    s
}

/// The full chunk key of `index` in the array at `path`.
pub fn chunk_key(path: &str, index: &[u64]) -> String {
    join_key(path, &format_chunk_index(index))
}

/// Parses a key suffix such as `"1.0.2"` into `[1, 0, 2]`, without knowing the array's rank
/// (so `"0"` gives `[0]`; use [`ChunkGrid::parse_index`] to accept it as a scalar's key).
pub fn parse_chunk_index(suffix: &str) -> Result<Vec<u64>> {
    let bad = |reason: &str| RefsError::ChunkKey {
        key: suffix.to_string(),
        reason: reason.to_string(),
    };
    if suffix.is_empty() {
        return Err(bad("empty chunk index"));
    }
    suffix
        .split('.')
        .map(|part| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("index components must be decimal digits"));
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(bad("index component has a leading zero"));
            }
            part.parse::<u64>()
                .map_err(|_| bad("index component does not fit in u64"))
        })
        .collect()
}

/// The regular chunk grid of a Zarr v2 array: its shape, chunk shape and the number of chunks
/// per axis (`ceil(shape / chunks)`, 0 for an empty axis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkGrid {
    shape: Vec<u64>,
    chunks: Vec<u64>,
    grid: Vec<u64>,
}

impl ChunkGrid {
    /// Builds the grid; `shape` and `chunks` must have the same length and every chunk extent
    /// must be positive unless the axis is empty (kerchunk writes `"chunks":[0]` for a
    /// contiguous zero-length dataset).
    pub fn new(shape: &[u64], chunks: &[u64]) -> Result<Self> {
        let bad = |reason: String| RefsError::ChunkKey {
            key: String::new(),
            reason,
        };
        if shape.len() != chunks.len() {
            return Err(bad(format!(
                "shape {shape:?} and chunks {chunks:?} have different ranks"
            )));
        }
        let grid = shape
            .iter()
            .zip(chunks)
            .map(|(&s, &c)| match (s, c) {
                (0, _) => Ok(0),
                (_, 0) => Err(bad(format!(
                    "zero chunk extent for a non-empty axis (shape {shape:?}, chunks {chunks:?})"
                ))),
                (s, c) => Ok(s.div_ceil(c)),
            })
            .collect::<Result<Vec<u64>>>()?;
        Ok(Self {
            shape: shape.to_vec(),
            chunks: chunks.to_vec(),
            grid,
        })
    }

    /// Number of dimensions (0 for a scalar).
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The array shape.
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }

    /// The chunk shape.
    pub fn chunks(&self) -> &[u64] {
        &self.chunks
    }

    /// Number of chunks along each axis.
    pub fn grid_shape(&self) -> &[u64] {
        &self.grid
    }

    /// Total number of chunks (1 for a scalar, 0 if any axis is empty); errors on overflow.
    pub fn num_chunks(&self) -> Result<u64> {
        self.grid.iter().try_fold(1u64, |acc, &g| {
            acc.checked_mul(g).ok_or_else(|| RefsError::ChunkKey {
                key: String::new(),
                reason: format!("chunk count of grid {:?} overflows u64", self.grid),
            })
        })
    }

    /// Whether `index` has the grid's rank and lies inside it.
    pub fn contains(&self, index: &[u64]) -> bool {
        index.len() == self.grid.len() && index.iter().zip(&self.grid).all(|(i, g)| i < g)
    }

    fn check(&self, index: &[u64]) -> Result<()> {
        if self.contains(index) {
            Ok(())
        } else {
            Err(RefsError::ChunkKey {
                key: format_chunk_index(index),
                reason: format!("index {index:?} outside chunk grid {:?}", self.grid),
            })
        }
    }

    /// Parses a key suffix and checks it against the grid (`"0"` is the scalar's `[]`).
    pub fn parse_index(&self, suffix: &str) -> Result<Vec<u64>> {
        if self.grid.is_empty() {
            return if suffix == SCALAR_CHUNK_KEY {
                Ok(Vec::new())
            } else {
                Err(RefsError::ChunkKey {
                    key: suffix.to_string(),
                    reason: "a 0-d array has the single chunk key \"0\"".to_string(),
                })
            };
        }
        let index = parse_chunk_index(suffix)?;
        self.check(&index)?;
        Ok(index)
    }

    /// The key suffix of `index`, checked against the grid.
    pub fn format_index(&self, index: &[u64]) -> Result<String> {
        self.check(index)?;
        Ok(format_chunk_index(index))
    }

    /// The full key of chunk `index` of the array at `path`, checked against the grid.
    pub fn key(&self, path: &str, index: &[u64]) -> Result<String> {
        Ok(join_key(path, &self.format_index(index)?))
    }

    /// The C-order (row-major) linear number of chunk `index`.
    pub fn ravel(&self, index: &[u64]) -> Result<u64> {
        self.check(index)?;
        // Inside the grid, the result is < num_chunks; checked ops guard absurd grids anyway.
        let mut n: u64 = 0;
        for (&i, &g) in index.iter().zip(&self.grid) {
            n = n
                .checked_mul(g)
                .and_then(|n| n.checked_add(i))
                .ok_or_else(|| RefsError::ChunkKey {
                    key: format_chunk_index(index),
                    reason: "linear chunk number overflows u64".to_string(),
                })?;
        }
        Ok(n)
    }

    /// The grid index of C-order linear chunk number `n` (inverse of [`ChunkGrid::ravel`]).
    pub fn unravel(&self, n: u64) -> Result<Vec<u64>> {
        if n >= self.num_chunks()? {
            return Err(RefsError::ChunkKey {
                key: n.to_string(),
                reason: format!("linear chunk number outside grid {:?}", self.grid),
            });
        }
        let mut rest = n;
        let mut index = vec![0u64; self.grid.len()];
        for (slot, &g) in index.iter_mut().zip(&self.grid).rev() {
            // g > 0 here: an empty axis makes num_chunks 0 and returns above.
            *slot = rest.checked_rem(g).unwrap_or(0);
            rest = rest.checked_div(g).unwrap_or(0);
        }
        Ok(index)
    }

    /// Every chunk index of the grid in C order (one `[]` for a scalar; none if an axis is
    /// empty).
    pub fn indices(&self) -> ChunkIndices<'_> {
        let next = if self.grid.contains(&0) {
            None
        } else {
            Some(vec![0; self.grid.len()])
        };
        ChunkIndices {
            grid: &self.grid,
            next,
        }
    }

    /// Every chunk key of the array at `path`, in C order.
    pub fn keys<'a>(&'a self, path: &'a str) -> impl Iterator<Item = String> + 'a {
        self.indices().map(move |i| chunk_key(path, &i))
    }
}

/// Iterator over the chunk indices of a [`ChunkGrid`] in C order.
#[derive(Debug, Clone)]
pub struct ChunkIndices<'a> {
    grid: &'a [u64],
    next: Option<Vec<u64>>,
}

impl Iterator for ChunkIndices<'_> {
    type Item = Vec<u64>;

    fn next(&mut self) -> Option<Vec<u64>> {
        let current = self.next.take()?;
        let mut succ = current.clone();
        // Increment the last axis, carrying leftwards; finished when the carry leaves axis 0.
        let mut done = true;
        for (slot, &g) in succ.iter_mut().zip(self.grid).rev() {
            *slot = slot.saturating_add(1);
            if *slot < g {
                done = false;
                break;
            }
            *slot = 0;
        }
        if !done {
            self.next = Some(succ);
        }
        Some(current)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_and_paths() {
        assert_eq!(chunk_key("temp", &[0, 1, 0]), "temp/0.1.0");
        assert_eq!(chunk_key("grp/gv", &[]), "grp/gv/0");
        assert_eq!(chunk_key("", &[3]), "3");
        assert_eq!(split_key("grp/gv/0.0"), ("grp/gv", "0.0"));
        assert_eq!(split_key(".zattrs"), ("", ".zattrs"));
        assert_eq!(join_key("", ".zgroup"), ".zgroup");
    }

    #[test]
    fn parse_rejects_non_canonical() {
        assert_eq!(parse_chunk_index("12.0.3").unwrap(), vec![12, 0, 3]);
        for bad in [
            "",
            ".",
            "1.",
            ".1",
            "01",
            "-1",
            "+1",
            "1 ",
            "a",
            "1..2",
            "99999999999999999999",
        ] {
            assert!(parse_chunk_index(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn grid_shapes() {
        // kerchunk-behavior.md §2.9: chunks may exceed the shape (unlimited dims).
        let g = ChunkGrid::new(&[3], &[512]).unwrap();
        assert_eq!(g.grid_shape(), &[1]);
        let g = ChunkGrid::new(&[3, 4, 5], &[1, 2, 5]).unwrap();
        assert_eq!(g.grid_shape(), &[3, 2, 1]);
        assert_eq!(g.num_chunks().unwrap(), 6);
        let keys: Vec<_> = g.keys("temp").collect();
        assert_eq!(
            keys,
            [
                "temp/0.0.0",
                "temp/0.1.0",
                "temp/1.0.0",
                "temp/1.1.0",
                "temp/2.0.0",
                "temp/2.1.0"
            ]
        );
        assert!(g.parse_index("2.1.0").is_ok());
        assert!(g.parse_index("3.0.0").is_err());
        assert!(g.parse_index("0.0").is_err());
        // Zero-length axis: no chunks at all, chunk extent 0 allowed there.
        let g = ChunkGrid::new(&[0], &[0]).unwrap();
        assert_eq!(g.num_chunks().unwrap(), 0);
        assert_eq!(g.indices().count(), 0);
        assert!(ChunkGrid::new(&[4], &[0]).is_err());
        assert!(ChunkGrid::new(&[4], &[]).is_err());
    }

    #[test]
    fn scalar_grid() {
        let g = ChunkGrid::new(&[], &[]).unwrap();
        assert_eq!(g.num_chunks().unwrap(), 1);
        assert_eq!(g.keys("scalar").collect::<Vec<_>>(), ["scalar/0"]);
        assert_eq!(g.parse_index("0").unwrap(), Vec::<u64>::new());
        assert!(g.parse_index("1").is_err());
        assert_eq!(g.ravel(&[]).unwrap(), 0);
        assert_eq!(g.unravel(0).unwrap(), Vec::<u64>::new());
        assert!(g.unravel(1).is_err());
    }

    #[test]
    fn overflowing_grid_is_an_error() {
        let g = ChunkGrid::new(&[u64::MAX, u64::MAX], &[1, 1]).unwrap();
        assert!(g.num_chunks().is_err());
        assert!(g.unravel(0).is_err());
        assert!(g.ravel(&[u64::MAX - 1, u64::MAX - 1]).is_err());
    }

    fn grid_strategy() -> impl Strategy<Value = ChunkGrid> {
        prop::collection::vec((1u64..50, 1u64..20), 0..5).prop_map(|dims| {
            let (shape, chunks): (Vec<u64>, Vec<u64>) = dims.into_iter().unzip();
            ChunkGrid::new(&shape, &chunks).unwrap()
        })
    }

    proptest! {
        #[test]
        fn index_key_round_trip(index in prop::collection::vec(any::<u64>(), 1..6)) {
            let key = chunk_key("a/b", &index);
            let (path, suffix) = split_key(&key);
            prop_assert_eq!(path, "a/b");
            prop_assert_eq!(parse_chunk_index(suffix).unwrap(), index);
        }

        #[test]
        fn grid_round_trip(g in grid_strategy(), pick in any::<prop::sample::Index>()) {
            let n = g.num_chunks().unwrap();
            let lin = pick.index(n as usize) as u64;
            let idx = g.unravel(lin).unwrap();
            prop_assert_eq!(g.ravel(&idx).unwrap(), lin);
            let suffix = g.format_index(&idx).unwrap();
            prop_assert_eq!(g.parse_index(&suffix).unwrap(), idx.clone());
            // indices() enumerates in C order, i.e. in linear order.
            prop_assert_eq!(g.indices().nth(lin as usize).unwrap(), idx);
            prop_assert_eq!(g.indices().count() as u64, n);
        }
    }
}
