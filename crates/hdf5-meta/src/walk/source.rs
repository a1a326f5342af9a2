//! Range readers: the only I/O the walker needs — read a byte range, know the length.

use std::fmt::Debug;
use std::io;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::{path::Path as StorePath, ObjectStore, ObjectStoreExt};

/// A source of bytes addressed by absolute file position.
#[async_trait]
pub trait RangeReader: Send + Sync + Debug {
    /// Read `range`; returns fewer bytes only when the range runs past the end of the file.
    async fn read_range(&self, range: Range<u64>) -> io::Result<Bytes>;
    /// Total length of the file in bytes.
    async fn len(&self) -> io::Result<u64>;
    /// Human-readable location (path or URL) used in errors and logs.
    fn location(&self) -> &str;
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

    async fn len(&self) -> io::Result<u64> {
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

    async fn len(&self) -> io::Result<u64> {
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
        let len = self.len().await?;
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

    async fn len(&self) -> io::Result<u64> {
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
