//! Raw data access for reference emitters: byte ranges of dataset storage (absolute file
//! positions, as the model stores them) and variable-length elements resolved through global
//! heap collections.
//!
//! This is the only place outside the walk that reads file data. Decoding filters is left to
//! the caller: this module returns stored bytes exactly as they are in the file.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use super::cache::{BlockCache, IoOptions, IoStats};
use super::source::RangeReader;
use crate::error::FormatError;
use crate::format::cursor::Sizes;
use crate::format::global_heap::{self, GlobalHeapCollection};
use crate::format::superblock;

/// Largest global heap collection accepted (the library writes 4 KiB … a few MiB).
const MAX_COLLECTION: u64 = 1 << 30;

/// An error while reading raw data.
#[derive(Debug)]
pub enum RawError {
    /// The reader failed.
    Io {
        /// File location.
        file: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A structure (superblock, global heap, descriptor) could not be decoded.
    Format {
        /// File location.
        file: String,
        /// Underlying error.
        source: FormatError,
    },
    /// The data is not where the metadata says or exceeds a limit.
    Invalid {
        /// File location.
        file: String,
        /// What is wrong.
        what: String,
    },
}

impl fmt::Display for RawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawError::Io { file, source } => write!(f, "{file}: I/O error: {source}"),
            RawError::Format { file, source } => write!(f, "{file}: {source}"),
            RawError::Invalid { file, what } => write!(f, "{file}: {what}"),
        }
    }
}

impl std::error::Error for RawError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RawError::Io { source, .. } => Some(source),
            RawError::Format { source, .. } => Some(source),
            RawError::Invalid { .. } => None,
        }
    }
}

/// Result alias of this module.
pub type Result<T, E = RawError> = std::result::Result<T, E>;

/// Reads stored bytes and variable-length data of one file.
#[derive(Debug)]
pub struct RawReader {
    cache: Arc<BlockCache>,
    /// Alignment of this reader's misses (the I/O options' block size, not the page size a
    /// walk may have switched a shared cache to: data reads are small and scattered).
    align: u64,
    base: u64,
    sizes: Sizes,
}

impl RawReader {
    /// Open `reader`, reading its superblock for the base address and address sizes.
    pub async fn open(reader: Arc<dyn RangeReader>, io: IoOptions) -> Result<Self> {
        let location = reader.location().to_string();
        let cache = BlockCache::new(reader, io)
            .await
            .map_err(|source| RawError::Io {
                file: location.clone(),
                source,
            })?;
        Self::from_cache(Arc::new(cache)).await
    }

    /// A reader sharing `cache` (typically the one a [`walk_cached`](super::walk_cached) just
    /// filled: the superblock and every metadata block it read are not fetched again).
    pub async fn from_cache(cache: Arc<BlockCache>) -> Result<Self> {
        let location = cache.location().to_string();
        let head = cache.read_head().await.map_err(|source| RawError::Io {
            file: location.clone(),
            source,
        })?;
        let at = superblock::find_signature(&head).ok_or_else(|| RawError::Invalid {
            file: location.clone(),
            what: "no HDF5 superblock signature".to_string(),
        })?;
        let sb_bytes = usize::try_from(at)
            .ok()
            .and_then(|a| head.get(a..))
            .unwrap_or_default();
        let sb = superblock::parse(sb_bytes, at).map_err(|source| RawError::Format {
            file: location,
            source,
        })?;
        Ok(Self {
            align: cache.configured_block_size(),
            cache,
            base: sb.base_address,
            sizes: sb.sizes,
        })
    }

    /// A reader for a file whose base address and address sizes are already known.
    pub async fn with_layout(
        reader: Arc<dyn RangeReader>,
        io: IoOptions,
        base: u64,
        sizes: Sizes,
    ) -> Result<Self> {
        let location = reader.location().to_string();
        let cache = BlockCache::new(reader, io)
            .await
            .map_err(|source| RawError::Io {
                file: location,
                source,
            })?;
        Ok(Self {
            align: cache.configured_block_size(),
            cache: Arc::new(cache),
            base,
            sizes,
        })
    }

    /// The file's location (for messages).
    pub fn location(&self) -> &str {
        self.cache.location()
    }

    /// Absolute position of address 0.
    pub fn base_address(&self) -> u64 {
        self.base
    }

    /// The file's Size of Offsets / Lengths.
    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    /// File length in bytes.
    pub fn len(&self) -> u64 {
        self.cache.len()
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// What was read so far.
    pub fn stats(&self) -> IoStats {
        self.cache.stats()
    }

    fn io(&self, source: std::io::Error) -> RawError {
        RawError::Io {
            file: self.location().to_string(),
            source,
        }
    }

    fn invalid(&self, what: impl Into<String>) -> RawError {
        RawError::Invalid {
            file: self.location().to_string(),
            what: what.into(),
        }
    }

    /// Fetch the given absolute ranges in one coalesced batch (later reads hit the cache).
    pub async fn prefetch(&self, ranges: &[Range<u64>]) -> Result<()> {
        self.cache
            .prefetch_aligned(ranges, self.align)
            .await
            .map_err(|e| self.io(e))
    }

    /// Exactly `len` bytes at absolute position `offset`; an error when the file is shorter.
    pub async fn read(&self, offset: u64, len: u64) -> Result<Bytes> {
        let end = offset
            .checked_add(len)
            .ok_or_else(|| self.invalid(format!("range {offset}+{len} overflows")))?;
        if end > self.len() {
            return Err(self.invalid(format!(
                "bytes {offset}..{end} lie past the end of the file ({} bytes)",
                self.len()
            )));
        }
        let b = self
            .cache
            .read_aligned(offset, len, self.align)
            .await
            .map_err(|e| self.io(e))?;
        if b.len() as u64 != len {
            return Err(self.invalid(format!(
                "short read at {offset}: {} of {len} bytes",
                b.len()
            )));
        }
        Ok(b)
    }

    /// Resolve consecutive variable-length descriptors (`4 + O + 4` bytes each: length, global
    /// heap collection address, object index) to the heap objects they point at, paired with
    /// the descriptor's length (bytes of a string, elements of a sequence; the object may be
    /// longer, e.g. a NUL terminator). A zero length or an undefined collection gives an empty
    /// item. Every collection needed is fetched in one batch.
    pub async fn read_vlen(&self, descriptors: &[u8]) -> Result<Vec<(u32, Bytes)>> {
        let dlen = global_heap::vlen_descriptor_len(self.sizes);
        if !descriptors.len().is_multiple_of(dlen) {
            return Err(self.invalid(format!(
                "{} bytes of variable-length descriptors are not a multiple of {dlen}",
                descriptors.len()
            )));
        }
        let mut parsed = Vec::with_capacity(descriptors.len() / dlen);
        for (i, d) in descriptors.chunks_exact(dlen).enumerate() {
            let at = (i as u64).saturating_mul(dlen as u64);
            let v = global_heap::parse_vlen_descriptor(d, at, self.sizes).map_err(|source| {
                RawError::Format {
                    file: self.location().to_string(),
                    source,
                }
            })?;
            parsed.push(v);
        }
        let mut wanted: Vec<u64> = parsed
            .iter()
            .filter(|d| d.length > 0)
            .filter_map(|d| d.heap_id.collection_address)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let heaps = self.load_collections(&wanted).await?;
        let mut out = Vec::with_capacity(parsed.len());
        for d in parsed {
            let Some(addr) = d.heap_id.collection_address.filter(|_| d.length > 0) else {
                out.push((0, Bytes::new()));
                continue;
            };
            let (coll, raw) = heaps
                .get(&addr)
                .ok_or_else(|| self.invalid(format!("global heap collection {addr} not loaded")))?;
            let obj = coll.object(d.heap_id.object_index).ok_or_else(|| {
                self.invalid(format!(
                    "global heap object {} missing from collection {addr}",
                    d.heap_id.object_index
                ))
            })?;
            out.push((d.length, raw.slice(obj.data.clone())));
        }
        Ok(out)
    }

    /// Load global heap collections at base-relative addresses (headers, then bodies, each
    /// level in one coalesced batch).
    async fn load_collections(
        &self,
        addrs: &[u64],
    ) -> Result<HashMap<u64, (GlobalHeapCollection, Bytes)>> {
        let hlen = global_heap::header_len(self.sizes) as u64;
        let abs = |a: u64| {
            self.base
                .checked_add(a)
                .ok_or_else(|| self.invalid(format!("address {a} overflows")))
        };
        let mut ranges = Vec::with_capacity(addrs.len());
        for &a in addrs {
            let s = abs(a)?;
            ranges.push(s..s.saturating_add(4096));
        }
        self.prefetch(&ranges).await?;
        let mut sized = Vec::with_capacity(addrs.len());
        for &a in addrs {
            let head = self.read(abs(a)?, hlen).await?;
            let size = global_heap::collection_size(&head, a, self.sizes).map_err(|source| {
                RawError::Format {
                    file: self.location().to_string(),
                    source,
                }
            })?;
            if size > MAX_COLLECTION {
                return Err(
                    self.invalid(format!("global heap collection at {a} claims {size} bytes"))
                );
            }
            sized.push((a, size));
        }
        let mut ranges = Vec::with_capacity(sized.len());
        for &(a, size) in &sized {
            let s = abs(a)?;
            ranges.push(s..s.saturating_add(size));
        }
        self.prefetch(&ranges).await?;
        let mut out = HashMap::with_capacity(sized.len());
        for (a, size) in sized {
            let raw = self.read(abs(a)?, size).await?;
            let coll =
                global_heap::parse(&raw, a, self.sizes).map_err(|source| RawError::Format {
                    file: self.location().to_string(),
                    source,
                })?;
            out.insert(a, (coll, raw));
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::walk::source::MemoryFile;

    /// A global heap collection (L = 8) holding `objects` at indices 1.., laid out as the
    /// global_heap module documents: 16-byte header, 16-byte object headers, 8-padded data.
    fn collection(objects: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            body.extend_from_slice(&((i + 1) as u16).to_le_bytes());
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&[0; 4]);
            body.extend_from_slice(&(o.len() as u64).to_le_bytes());
            body.extend_from_slice(o);
            body.resize(body.len().next_multiple_of(8), 0);
        }
        let size = (16 + body.len()).max(4096);
        let mut v = b"GCOL".to_vec();
        v.extend_from_slice(&[1, 0, 0, 0]);
        v.extend_from_slice(&(size as u64).to_le_bytes());
        v.extend_from_slice(&body);
        // Free-space object (index 0) covering the rest.
        let free = size - v.len();
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(&[0; 6]);
        v.extend_from_slice(&(free as u64).to_le_bytes());
        v.resize(size, 0);
        v
    }

    fn descriptor(len: u32, coll: u64, index: u32) -> Vec<u8> {
        let mut v = len.to_le_bytes().to_vec();
        v.extend_from_slice(&coll.to_le_bytes());
        v.extend_from_slice(&index.to_le_bytes());
        v
    }

    #[tokio::test]
    async fn resolves_descriptors_through_a_collection() {
        // File: 512 bytes of padding, then a collection at 512; base address 0.
        let mut file = vec![0u8; 512];
        file.extend_from_slice(&collection(&[b"hello", b"", b"world!"]));
        let reader = RawReader::with_layout(
            Arc::new(MemoryFile::new(file, "mem")),
            IoOptions::default(),
            0,
            Sizes::DEFAULT,
        )
        .await
        .unwrap();
        let mut d = descriptor(5, 512, 1);
        d.extend(descriptor(0, u64::MAX, 0)); // empty / undefined
        d.extend(descriptor(6, 512, 3));
        let items = reader.read_vlen(&d).await.unwrap();
        assert_eq!(
            items,
            vec![
                (5, Bytes::from_static(b"hello")),
                (0, Bytes::new()),
                (6, Bytes::from_static(b"world!"))
            ]
        );
        // A missing object is an error, not a panic.
        assert!(reader.read_vlen(&descriptor(1, 512, 9)).await.is_err());
        // A ragged descriptor buffer is refused.
        assert!(reader.read_vlen(&[0; 15]).await.is_err());
        // Reads past the end are errors.
        assert!(reader.read(reader.len() - 2, 4).await.is_err());
    }
}
