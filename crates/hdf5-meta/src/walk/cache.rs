//! A block cache over a [`RangeReader`]: aligned blocks, coalesced concurrent fetches,
//! single flight per block, a speculative head read, and request accounting.
//!
//! Every fetch covers whole blocks. Missing blocks that a read or a prefetch batch needs are
//! grouped into runs (adjacent blocks, and gaps up to `max_gap` bytes, become one request);
//! each run is fetched once and shared by everyone who waits for any of its blocks.

use std::collections::HashMap;
use std::io;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::future::try_join_all;
use tokio::sync::{OnceCell, Semaphore};

use super::source::RangeReader;

/// I/O tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoOptions {
    /// Cache block size in bytes; reads are widened to whole blocks.
    pub block_size: u64,
    /// Bytes read from the start of the file in the first request.
    pub head_size: u64,
    /// Missing ranges closer than this are fetched as one request.
    pub max_gap: u64,
    /// Maximum number of requests in flight.
    pub max_concurrency: usize,
}

impl Default for IoOptions {
    fn default() -> Self {
        Self {
            block_size: 64 * 1024,
            head_size: 1 << 20,
            max_gap: 256 * 1024,
            max_concurrency: 32,
        }
    }
}

/// Counters of what a walk read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoStats {
    /// Requests sent to the underlying reader.
    pub requests: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Sequential rounds: the longest chain of requests each of which started after the
    /// previous one finished (what latency multiplies).
    pub rounds: u64,
    /// Wall time spent between the first request's start and the last one's end.
    pub io_time: Duration,
}

type Fetched = Result<Bytes, Arc<io::Error>>;

#[derive(Debug)]
struct Run {
    start: u64,
    end: u64,
    data: OnceCell<Fetched>,
}

#[derive(Debug, Default)]
struct State {
    blocks: HashMap<u64, Arc<Run>>,
    log: Vec<(Instant, Instant, u64)>,
}

/// The cached, counting reader the walker uses.
#[derive(Debug)]
pub struct BlockCache {
    inner: Arc<dyn RangeReader>,
    len: u64,
    opts: IoOptions,
    state: Mutex<State>,
    permits: Semaphore,
}

impl BlockCache {
    /// Wrap a reader; asks it for its length once.
    pub async fn new(inner: Arc<dyn RangeReader>, opts: IoOptions) -> io::Result<Self> {
        let len = inner.size().await?;
        let opts = IoOptions {
            block_size: opts.block_size.max(512),
            max_concurrency: opts.max_concurrency.max(1),
            ..opts
        };
        Ok(Self {
            inner,
            len,
            opts,
            state: Mutex::new(State::default()),
            permits: Semaphore::new(opts.max_concurrency),
        })
    }

    /// File length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Location of the underlying reader.
    pub fn location(&self) -> &str {
        self.inner.location()
    }

    /// Current options.
    pub fn options(&self) -> IoOptions {
        self.opts
    }

    /// Change the block size (e.g. to the file's page size once the superblock is known).
    /// Blocks already cached stay valid.
    pub fn set_block_size(&mut self, block_size: u64) {
        if self
            .state
            .lock()
            .map(|s| s.blocks.is_empty())
            .unwrap_or(false)
        {
            self.opts.block_size = block_size.max(512);
        }
    }

    /// Read the head of the file speculatively (one request of `head_size` bytes).
    pub async fn read_head(&self) -> io::Result<Bytes> {
        let n = self.opts.head_size.min(self.len);
        self.read(0, n).await
    }

    /// Make sure every range in `ranges` is cached, fetching missing parts concurrently,
    /// coalesced by `max_gap`.
    pub async fn prefetch(&self, ranges: &[Range<u64>]) -> io::Result<()> {
        let runs = self.plan(ranges)?;
        try_join_all(runs.iter().map(|r| self.fetch(r))).await?;
        Ok(())
    }

    /// Read `len` bytes at absolute position `start`; shorter only at end of file.
    pub async fn read(&self, start: u64, len: u64) -> io::Result<Bytes> {
        let end = start.saturating_add(len).min(self.len);
        if start >= end {
            return Ok(Bytes::new());
        }
        let runs = self.plan(std::slice::from_ref(&(start..end)))?;
        try_join_all(runs.iter().map(|r| self.fetch(r))).await?;
        // Assemble from the runs that cover [start, end).
        let covering = self.covering(start, end)?;
        if let [run] = covering.as_slice() {
            let data = self.fetch(run).await?;
            let from = (start - run.start) as usize;
            let to = ((end - run.start) as usize).min(data.len());
            return Ok(data.slice(from.min(to)..to));
        }
        let mut out = BytesMut::with_capacity((end - start) as usize);
        let mut pos = start;
        for run in covering {
            let data = self.fetch(&run).await?;
            let from = (pos - run.start) as usize;
            let to = ((end.min(run.end) - run.start) as usize).min(data.len());
            out.extend_from_slice(data.get(from..to).unwrap_or_default());
            pos = run.end.min(end);
        }
        Ok(out.freeze())
    }

    /// Statistics so far.
    pub fn stats(&self) -> IoStats {
        let Ok(state) = self.state.lock() else {
            return IoStats::default();
        };
        let mut log = state.log.clone();
        drop(state);
        log.sort_by_key(|e| e.0);
        // Longest chain of requests where each starts after the previous ended.
        let mut chain = vec![1u64; log.len()];
        for i in 0..log.len() {
            let best = (0..i)
                .filter(|&j| log[j].1 <= log[i].0)
                .map(|j| chain[j])
                .max()
                .unwrap_or(0);
            chain[i] = best + 1;
        }
        let first = log.iter().map(|e| e.0).min();
        let last = log.iter().map(|e| e.1).max();
        IoStats {
            requests: log.len() as u64,
            bytes: log.iter().map(|e| e.2).sum(),
            rounds: chain.iter().copied().max().unwrap_or(0),
            io_time: match (first, last) {
                (Some(a), Some(b)) => b.duration_since(a),
                _ => Duration::ZERO,
            },
        }
    }

    fn lock(&self) -> io::Result<std::sync::MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| io::Error::other("cache lock poisoned"))
    }

    /// Register runs for the missing blocks of `ranges` and return every run they need.
    fn plan(&self, ranges: &[Range<u64>]) -> io::Result<Vec<Arc<Run>>> {
        let bs = self.opts.block_size;
        let gap_blocks = self.opts.max_gap / bs;
        let mut wanted: Vec<u64> = Vec::new();
        for r in ranges {
            let end = r.end.min(self.len);
            if r.start >= end {
                continue;
            }
            wanted.extend(r.start / bs..=(end - 1) / bs);
        }
        wanted.sort_unstable();
        wanted.dedup();
        let mut state = self.lock()?;
        let mut needed: Vec<Arc<Run>> = Vec::new();
        let missing: Vec<u64> = wanted
            .iter()
            .copied()
            .filter(|b| !state.blocks.contains_key(b))
            .collect();
        // Group missing blocks into runs, bridging small gaps of blocks not yet cached.
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for &b in &missing {
            match runs.last_mut() {
                Some((_, last))
                    if b - *last <= gap_blocks + 1
                        && (*last + 1..b).all(|g| !state.blocks.contains_key(&g)) =>
                {
                    *last = b;
                }
                _ => runs.push((b, b)),
            }
        }
        for (first, last) in runs {
            let run = Arc::new(Run {
                start: first * bs,
                end: ((last + 1) * bs).min(self.len),
                data: OnceCell::new(),
            });
            for b in first..=last {
                state.blocks.insert(b, Arc::clone(&run));
            }
        }
        for b in wanted {
            if let Some(run) = state.blocks.get(&b) {
                if !needed.iter().any(|n| Arc::ptr_eq(n, run)) {
                    needed.push(Arc::clone(run));
                }
            }
        }
        Ok(needed)
    }

    /// The distinct runs covering [start, end), in order.
    fn covering(&self, start: u64, end: u64) -> io::Result<Vec<Arc<Run>>> {
        let bs = self.opts.block_size;
        let state = self.lock()?;
        let mut out: Vec<Arc<Run>> = Vec::new();
        for b in start / bs..=(end - 1) / bs {
            let run = state
                .blocks
                .get(&b)
                .ok_or_else(|| io::Error::other("block missing from cache"))?;
            if !out.last().is_some_and(|l| Arc::ptr_eq(l, run)) {
                out.push(Arc::clone(run));
            }
        }
        Ok(out)
    }

    async fn fetch(&self, run: &Run) -> io::Result<Bytes> {
        let result = run
            .data
            .get_or_init(|| async {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .map_err(|e| Arc::new(io::Error::other(e)))?;
                let started = Instant::now();
                let data = self
                    .inner
                    .read_range(run.start..run.end)
                    .await
                    .map_err(Arc::new)?;
                if let Ok(mut state) = self.state.lock() {
                    state.log.push((started, Instant::now(), data.len() as u64));
                }
                Ok(data)
            })
            .await;
        result
            .clone()
            .map_err(|e| io::Error::new(e.kind(), e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::source::MemoryFile;

    fn file(n: usize) -> Arc<dyn RangeReader> {
        Arc::new(MemoryFile::new(
            (0..n).map(|i| (i % 251) as u8).collect::<Vec<_>>(),
            "mem",
        ))
    }

    #[tokio::test]
    async fn reads_are_cached_and_coalesced() {
        let opts = IoOptions {
            block_size: 1024,
            head_size: 4096,
            max_gap: 2048,
            max_concurrency: 4,
        };
        let cache = BlockCache::new(file(100_000), opts).await.unwrap();
        let head = cache.read_head().await.unwrap();
        assert_eq!(head.len(), 4096);
        // Inside the head: no new request.
        let b = cache.read(1000, 100).await.unwrap();
        assert_eq!(b[0], (1000 % 251) as u8);
        assert_eq!(cache.stats().requests, 1);
        // Two ranges 1.5 KiB apart (gap <= max_gap) become one request.
        cache
            .prefetch(&[10_000..10_100, 11_700..11_800])
            .await
            .unwrap();
        assert_eq!(cache.stats().requests, 2);
        // A read spanning cached runs assembles correctly.
        let span = cache.read(4000, 7000).await.unwrap();
        assert!(span
            .iter()
            .enumerate()
            .all(|(i, &v)| v == ((4000 + i) % 251) as u8));
        // Reads past EOF are clamped.
        assert_eq!(cache.read(99_990, 100).await.unwrap().len(), 10);
        assert_eq!(
            cache.stats().rounds,
            cache.stats().requests.min(cache.stats().rounds)
        );
    }
}
