//! Shared state of one walk: the block cache, the file's address sizes and base address,
//! and helpers that read and decode a structure at a base-relative address, fetching more
//! bytes when a parser reports that its slice was too short.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;

use super::cache::BlockCache;
use super::error::{Result, WalkError};
use crate::error::FormatError;
use crate::format::cursor::Sizes;

/// Upper bound on re-reads of one structure before giving up (each at least doubles the size).
const MAX_RETRIES: usize = 24;

/// Walk-wide context.
#[derive(Debug)]
pub struct Context {
    /// The cached reader (shared with a [`RawReader`](super::raw::RawReader) when the caller
    /// reads data too, so nothing is fetched twice).
    pub cache: Arc<BlockCache>,
    /// Absolute position of address 0.
    pub base: u64,
    /// Size of Offsets / Lengths.
    pub sizes: Sizes,
    /// Shared message table (address, number of indexes), from the superblock extension.
    pub sohm_table: Option<(u64, u8)>,
    /// Fractal heaps already loaded.
    pub(crate) heaps: super::dense::HeapCache,
}

impl Context {
    /// The file's location, for errors.
    pub fn file(&self) -> &str {
        self.cache.location()
    }

    /// Wrap a format error, turning "incomplete" at the end of the file into [`WalkError::Truncated`].
    pub fn format_error(&self, e: FormatError) -> WalkError {
        if let FormatError::Incomplete {
            structure,
            offset,
            needed,
        } = e
        {
            let needed_end = self.base.saturating_add(offset).saturating_add(needed);
            if needed_end > self.cache.len() {
                return WalkError::Truncated {
                    file: self.file().to_string(),
                    structure,
                    offset,
                    needed_end,
                    file_len: self.cache.len(),
                };
            }
        }
        WalkError::format(self.file(), e)
    }

    /// Read `len` bytes at base-relative `address` (shorter at end of file).
    pub async fn read(&self, address: u64, len: u64) -> Result<Bytes> {
        let start = self
            .base
            .checked_add(address)
            .ok_or_else(|| self.limit(format!("address {address} overflows")))?;
        self.cache
            .read(start, len)
            .await
            .map_err(|e| WalkError::io(self.file(), e))
    }

    /// Make sure the given base-relative ranges are cached (one coalesced batch).
    pub async fn prefetch(&self, ranges: impl IntoIterator<Item = (u64, u64)>) -> Result<()> {
        let ranges: Vec<_> = ranges
            .into_iter()
            .map(|(a, n)| {
                let s = self.base.saturating_add(a);
                s..s.saturating_add(n)
            })
            .collect();
        self.cache
            .prefetch(&ranges)
            .await
            .map_err(|e| WalkError::io(self.file(), e))
    }

    /// Decode a structure at `address`, starting with `guess` bytes and re-reading with as many
    /// bytes as the parser asks for. Sizes are bounded by the file length.
    pub async fn parse_at<T>(
        &self,
        address: u64,
        guess: u64,
        parse: impl Fn(&[u8]) -> Result<T, FormatError>,
    ) -> Result<T> {
        let mut want = guess.max(16);
        for _ in 0..MAX_RETRIES {
            let bytes = self.read(address, want).await?;
            match parse(&bytes) {
                Ok(v) => return Ok(v),
                Err(FormatError::Incomplete { needed, .. })
                    if (bytes.len() as u64) == want && needed > want =>
                {
                    want = needed.max(want.saturating_mul(2).min(needed.saturating_add(4096)));
                }
                Err(e) => return Err(self.format_error(e)),
            }
        }
        Err(self.limit(format!(
            "structure at {address} kept growing past {want} bytes"
        )))
    }

    /// A limit error for this file.
    pub fn limit(&self, what: impl Into<String>) -> WalkError {
        WalkError::limit(self.file(), what)
    }
}

/// The blocks of one structure visited so far (all of one size, e.g. the nodes of a B-tree).
/// A block seen twice means a cycle; two blocks closer than their size overlap, which no
/// library-written file has and which could otherwise make a small file decode the same bytes
/// over and over. Either way the structure is refused, so its cost stays bounded by the file.
#[derive(Debug, Default)]
pub struct BlockSet {
    seen: BTreeSet<u64>,
}

impl BlockSet {
    /// Record the `len`-byte block at `address`; `Err` with the block it collides with.
    pub fn insert(&mut self, address: u64, len: u64) -> std::result::Result<(), u64> {
        let len = len.max(1);
        let Some(end) = address.checked_add(len) else {
            return Err(address);
        };
        if let Some(&p) = self.seen.range(..=address).next_back() {
            if p.checked_add(len).is_none_or(|end| end > address) {
                return Err(p);
            }
        }
        if let Some(&n) = self.seen.range(address..).next() {
            if end > n {
                return Err(n);
            }
        }
        self.seen.insert(address);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::BlockSet;

    #[test]
    fn block_set_refuses_repeats_and_overlaps() {
        let mut s = BlockSet::default();
        assert_eq!(s.insert(1000, 100), Ok(()));
        assert_eq!(s.insert(1100, 100), Ok(()));
        assert_eq!(s.insert(800, 200), Ok(()));
        assert_eq!(s.insert(1000, 100), Err(1000)); // cycle
        assert_eq!(s.insert(1150, 100), Err(1100)); // starts inside a block
        assert_eq!(s.insert(750, 100), Err(800)); // ends inside the next one
        assert_eq!(s.insert(700, 100), Ok(())); // adjacent is fine
        assert_eq!(s.insert(1200, 100), Ok(()));
        assert_eq!(s.insert(u64::MAX - 10, 100), Err(u64::MAX - 10)); // runs past the address space
    }
}
