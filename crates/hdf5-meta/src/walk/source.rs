//! Range readers: the only I/O the walker needs — read a byte range, know the length.

use std::fmt::Debug;
use std::io;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::{path::Path as StorePath, GetOptions, GetRange, ObjectStore, ObjectStoreExt};

/// A source of bytes addressed by absolute file position.
#[async_trait]
pub trait RangeReader: Send + Sync + Debug {
    /// Read `range`; returns fewer bytes only when the range runs past the end of the file.
    async fn read_range(&self, range: Range<u64>) -> io::Result<Bytes>;
    /// Total length of the file in bytes.
    async fn size(&self) -> io::Result<u64>;
    /// Human-readable location (path or URL) used in errors and logs.
    fn location(&self) -> &str;
    /// The first `len` bytes (fewer when the file is shorter) and the file's length. Readers
    /// that learn the length from a ranged read (object stores: `Content-Range`) override it
    /// to save the separate size request, one round trip.
    async fn read_head(&self, len: u64) -> io::Result<(Bytes, u64)> {
        let size = self.size().await?;
        Ok((self.read_range(0..len.min(size)).await?, size))
    }
}

/// A local file read with positional reads on a blocking thread.
#[derive(Debug, Clone)]
pub struct LocalFile {
    file: Arc<std::fs::File>,
    location: String,
}

impl LocalFile {
    /// Open a local file.
    pub fn open(path: impl AsRef<std::path::Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path)?;
        Ok(Self {
            file: Arc::new(file),
            location: path.display().to_string(),
        })
    }
}

#[async_trait]
impl RangeReader for LocalFile {
    async fn read_range(&self, range: Range<u64>) -> io::Result<Bytes> {
        let file = Arc::clone(&self.file);
        tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::FileExt;
            let len = file.metadata()?.len();
            let end = range.end.min(len);
            let start = range.start.min(end);
            let mut buf = vec![0u8; usize::try_from(end - start).map_err(io::Error::other)?];
            file.read_exact_at(&mut buf, start)?;
            Ok(Bytes::from(buf))
        })
        .await
        .map_err(io::Error::other)?
    }

    async fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn location(&self) -> &str {
        &self.location
    }
}

/// An in-memory file (tests, fuzzing, already-fetched objects).
#[derive(Debug, Clone)]
pub struct MemoryFile {
    data: Bytes,
    location: String,
}

impl MemoryFile {
    /// Wrap bytes under a display name.
    pub fn new(data: impl Into<Bytes>, location: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            location: location.into(),
        }
    }
}

#[async_trait]
impl RangeReader for MemoryFile {
    async fn read_range(&self, range: Range<u64>) -> io::Result<Bytes> {
        let len = self.data.len() as u64;
        let end = range.end.min(len);
        let start = range.start.min(end);
        Ok(self.data.slice(start as usize..end as usize))
    }

    async fn size(&self) -> io::Result<u64> {
        Ok(self.data.len() as u64)
    }

    fn location(&self) -> &str {
        &self.location
    }
}

/// An object in an [`ObjectStore`] (S3, GCS, Azure, HTTP, local).
#[derive(Debug)]
pub struct StoreObject {
    store: Arc<dyn ObjectStore>,
    path: StorePath,
    location: String,
    len: tokio::sync::OnceCell<u64>,
}

impl StoreObject {
    /// An object at `path` in `store`, displayed as `location` (e.g. its URL).
    pub fn new(store: Arc<dyn ObjectStore>, path: StorePath, location: impl Into<String>) -> Self {
        Self {
            store,
            path,
            location: location.into(),
            len: tokio::sync::OnceCell::new(),
        }
    }
}

#[async_trait]
impl RangeReader for StoreObject {
    async fn read_range(&self, range: Range<u64>) -> io::Result<Bytes> {
        let len = self.size().await?;
        let end = range.end.min(len);
        let start = range.start.min(end);
        if start == end {
            return Ok(Bytes::new());
        }
        self.store
            .get_range(&self.path, start..end)
            .await
            .map_err(io::Error::other)
    }

    async fn read_head(&self, len: u64) -> io::Result<(Bytes, u64)> {
        if self.len.get().is_none() && len > 0 {
            // One GET: a range past the end returns the rest, and the metadata the size.
            let opts = GetOptions {
                range: Some(GetRange::Bounded(0..len)),
                ..GetOptions::default()
            };
            if let Ok(result) = self.store.get_opts(&self.path, opts).await {
                let size = result.meta.size;
                let bytes = result.bytes().await.map_err(io::Error::other)?;
                let _ = self.len.set(size);
                return Ok((bytes, size));
            }
            // An empty object (the range starts past its end) or a store that refuses the
            // range: ask for the size, as other readers do.
        }
        let size = self.size().await?;
        Ok((self.read_range(0..len.min(size)).await?, size))
    }

    async fn size(&self) -> io::Result<u64> {
        self.len
            .get_or_try_init(|| async {
                let meta = self
                    .store
                    .head(&self.path)
                    .await
                    .map_err(io::Error::other)?;
                Ok(meta.size)
            })
            .await
            .copied()
    }

    fn location(&self) -> &str {
        &self.location
    }
}

/// A reader that waits a fixed time before every request: it makes round trips cost what
/// they cost on a network, for tests and benchmarks of the I/O strategy.
#[derive(Debug)]
pub struct WithLatency {
    inner: Arc<dyn RangeReader>,
    delay: std::time::Duration,
}

impl WithLatency {
    /// Wrap `inner`, delaying each request by `delay`.
    pub fn new(inner: Arc<dyn RangeReader>, delay: std::time::Duration) -> Self {
        Self { inner, delay }
    }
}

#[async_trait]
impl RangeReader for WithLatency {
    async fn read_range(&self, range: Range<u64>) -> io::Result<Bytes> {
        tokio::time::sleep(self.delay).await;
        self.inner.read_range(range).await
    }

    async fn read_head(&self, len: u64) -> io::Result<(Bytes, u64)> {
        tokio::time::sleep(self.delay).await;
        self.inner.read_head(len).await
    }

    async fn size(&self) -> io::Result<u64> {
        self.inner.size().await
    }

    fn location(&self) -> &str {
        self.inner.location()
    }
}
