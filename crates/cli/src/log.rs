//! Verbose request logging (`-v`): every byte-range read, whole-object read and upload, with
//! its size and duration, on stderr. Off by default.

use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use hdf5_meta::walk::RangeReader;

static VERBOSITY: AtomicU8 = AtomicU8::new(0);

/// Sets the verbosity (number of `-v`).
pub fn set_verbosity(v: u8) {
    VERBOSITY.store(v, Ordering::Relaxed);
}

/// Current verbosity.
pub fn verbosity() -> u8 {
    VERBOSITY.load(Ordering::Relaxed)
}

/// Prints a log line (redacted) when the verbosity is at least `level`.
pub fn log(level: u8, line: impl FnOnce() -> String) {
    if verbosity() >= level {
        eprintln!("kerchunk: {}", crate::secrets::redact(&line()));
    }
}

/// Logs the outcome of a request that started at `start`.
pub fn request<T, E: std::fmt::Display>(
    what: &str,
    start: Instant,
    result: &Result<T, E>,
    size: impl FnOnce(&T) -> u64,
) {
    log(1, || {
        let ms = start.elapsed().as_secs_f64() * 1e3;
        match result {
            Ok(v) => format!("{what}: {} B in {ms:.1} ms", size(v)),
            Err(e) => format!("{what}: failed after {ms:.1} ms: {e}"),
        }
    });
}

/// A [`RangeReader`] that logs each request when verbose.
#[derive(Debug)]
pub struct LoggingReader {
    inner: Arc<dyn RangeReader>,
}

impl LoggingReader {
    /// Wraps `inner`; returns it unchanged when not verbose.
    pub fn wrap(inner: Arc<dyn RangeReader>) -> Arc<dyn RangeReader> {
        if verbosity() == 0 {
            inner
        } else {
            Arc::new(Self { inner })
        }
    }
}

#[async_trait]
impl RangeReader for LoggingReader {
    async fn read_range(&self, range: Range<u64>) -> io::Result<Bytes> {
        let start = Instant::now();
        let what = format!(
            "GET {} bytes={}-{}",
            self.inner.location(),
            range.start,
            range.end.saturating_sub(1)
        );
        let r = self.inner.read_range(range).await;
        request(&what, start, &r, |b| b.len() as u64);
        r
    }

    async fn read_head(&self, len: u64) -> io::Result<(Bytes, u64)> {
        let start = Instant::now();
        let what = format!(
            "GET {} bytes=0-{} (and its size)",
            self.inner.location(),
            len.saturating_sub(1)
        );
        let r = self.inner.read_head(len).await;
        request(&what, start, &r, |(b, _)| b.len() as u64);
        r
    }

    async fn size(&self) -> io::Result<u64> {
        let start = Instant::now();
        let r = self.inner.size().await;
        log(1, || {
            let ms = start.elapsed().as_secs_f64() * 1e3;
            match &r {
                Ok(n) => format!("HEAD {}: {n} B long ({ms:.1} ms)", self.inner.location()),
                Err(e) => format!("HEAD {}: failed: {e}", self.inner.location()),
            }
        });
        r
    }

    fn location(&self) -> &str {
        self.inner.location()
    }
}
