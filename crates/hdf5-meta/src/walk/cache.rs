//! A byte cache over a [`RangeReader`]: aligned, coalesced, concurrent, single-flight fetches,
//! a speculative head read, and request accounting.
//!
//! The cache holds *runs*: non-overlapping byte ranges of the file, each fetched by exactly one
//! request (or being fetched: whoever needs a run in flight waits for it). A read or prefetch
//! widens what it needs to whole blocks (`block_size`, which the walker switches to the file's
//! page size for paged files, so metadata is read one page at a time), subtracts what is cached
//! or in flight, and fetches the rest as new runs: adjacent pieces, and pieces separated by gaps
//! of at most `max_gap` bytes that hold nothing cached, become one request. No byte is fetched
//! twice.
//!
//! Misses are batched across concurrent callers: a caller that misses queues its ranges and
//! yields once to the executor before planning, so that every future polled in the same pass
//! (the datasets of one level, say) adds its ranges first; the first to resume plans the whole
//! batch, and the others find their ranges in flight.

use std::collections::BTreeMap;
use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::future::try_join_all;
use tokio::sync::{OnceCell, Semaphore};

use super::source::RangeReader;

/// Largest block size the cache aligns to (page sizes above this keep the previous size).
pub const MAX_BLOCK_SIZE: u64 = 64 << 20;
/// Smallest block size.
const MIN_BLOCK_SIZE: u64 = 512;

/// I/O tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoOptions {
    /// Alignment of reads in bytes until the file's page size is known (paged files then use
    /// whole pages).
    pub block_size: u64,
    /// Bytes read from the start of the file in the first request.
    pub head_size: u64,
    /// Missing ranges closer than this are fetched as one request.
    pub max_gap: u64,
    /// Maximum number of requests in flight.
    pub max_concurrency: usize,
    /// Files with the paged file-space strategy: once the page size is known, reads are
    /// aligned to `min(page size, page_block_limit)` instead of `block_size` (0 = never).
    pub page_block_limit: u64,
}

impl IoOptions {
    /// For files on local disk, where a read costs a system call rather than a round trip:
    /// small aligned blocks and no speculative head or whole-page reads, so only the bytes
    /// the walk needs are read and held (full-size OPERA-like file, inline threshold 300:
    /// 6.4 MB read instead of 29 MB, peak RSS of `kerchunk index` 19 MiB instead of 40 MiB,
    /// identical output).
    pub fn local_file() -> Self {
        Self {
            block_size: 16 * 1024,
            head_size: 16 * 1024,
            max_gap: 4 * 1024,
            page_block_limit: 0,
            ..Self::default()
        }
    }
}

impl Default for IoOptions {
    /// The defaults come from `scripts/bench` measurements (README, "Benchmarks").
    fn default() -> Self {
        Self {
            block_size: 64 * 1024,
            head_size: 4 << 20,
            max_gap: 256 * 1024,
            max_concurrency: 32,
            page_block_limit: 4 << 20,
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
    /// Wall time since the cache was created (the whole walk and translation so far).
    pub wall_time: Duration,
}

impl IoStats {
    /// Statistics of a request log: (start, end, bytes) per request.
    pub fn from_log(log: &[(Instant, Instant, u64)]) -> Self {
        let mut log = log.to_vec();
        log.sort_by_key(|e| e.0);
        // Longest chain of requests where each starts after the previous one ended: requests
        // sorted by start, a request extends the longest chain among those that ended before
        // it started (ends visited in order, so the scan is O(n log n)).
        let mut ends: Vec<(Instant, usize)> =
            log.iter().enumerate().map(|(i, e)| (e.1, i)).collect();
        ends.sort_unstable();
        let mut chain = vec![0u64; log.len()];
        let mut ended = ends.iter().peekable();
        let mut best_ended = 0u64;
        for (i, entry) in log.iter().enumerate() {
            while let Some(&&(end, j)) = ended.peek() {
                if end > entry.0 {
                    break;
                }
                best_ended = best_ended.max(chain.get(j).copied().unwrap_or(0));
                ended.next();
            }
            if let Some(c) = chain.get_mut(i) {
                *c = best_ended + 1;
            }
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
            wall_time: Duration::ZERO,
        }
    }
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
    /// Runs by start position; they never overlap.
    runs: BTreeMap<u64, Arc<Run>>,
    /// Ranges of callers that missed and yielded, not yet planned.
    pending: Vec<Range<u64>>,
    /// (start, end, bytes) of every request.
    log: Vec<(Instant, Instant, u64)>,
}

impl State {
    /// Runs overlapping [s, e), in order.
    fn overlapping(&self, s: u64, e: u64) -> impl Iterator<Item = &Arc<Run>> {
        let before = self
            .runs
            .range(..=s)
            .next_back()
            .map(|(_, r)| r)
            .filter(|r| r.end > s);
        let after = self
            .runs
            .range(s.saturating_add(1)..e.max(s.saturating_add(1)))
            .map(|(_, r)| r);
        before.into_iter().chain(after)
    }

    /// Parts of the sorted, disjoint intervals `want` that no run covers.
    fn missing(&self, want: &[(u64, u64)]) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        for &(s, e) in want {
            let mut pos = s;
            for r in self.overlapping(s, e) {
                if r.start > pos {
                    out.push((pos, r.start.min(e)));
                }
                pos = pos.max(r.end);
            }
            if pos < e {
                out.push((pos, e));
            }
        }
        out
    }
}

/// The cached, counting reader the walker uses.
#[derive(Debug)]
pub struct BlockCache {
    inner: Arc<dyn RangeReader>,
    len: u64,
    opts: IoOptions,
    block_size: AtomicU64,
    state: Mutex<State>,
    permits: Semaphore,
    created: Instant,
}

impl BlockCache {
    /// Wrap a reader: reads the head (`head_size` bytes) and learns the file's length in
    /// the same request where the reader can ([`RangeReader::read_head`]).
    pub async fn new(inner: Arc<dyn RangeReader>, opts: IoOptions) -> io::Result<Self> {
        let created = Instant::now();
        let opts = IoOptions {
            block_size: opts.block_size.clamp(MIN_BLOCK_SIZE, MAX_BLOCK_SIZE),
            max_concurrency: opts.max_concurrency.max(1),
            ..opts
        };
        let (head, len) = inner.read_head(opts.head_size.max(MIN_BLOCK_SIZE)).await?;
        let mut state = State::default();
        state.log.push((created, Instant::now(), head.len() as u64));
        if !head.is_empty() {
            let end = head.len() as u64;
            let run = Run {
                start: 0,
                end,
                data: OnceCell::new_with(Some(Ok(head))),
            };
            state.runs.insert(0, Arc::new(run));
        }
        Ok(Self {
            inner,
            len,
            opts,
            block_size: AtomicU64::new(opts.block_size),
            state: Mutex::new(state),
            permits: Semaphore::new(opts.max_concurrency),
            created,
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

    /// Current options (with the current block size).
    pub fn options(&self) -> IoOptions {
        IoOptions {
            block_size: self.block_size(),
            ..self.opts
        }
    }

    /// The block size the cache was created with (before any switch to the page size).
    pub fn configured_block_size(&self) -> u64 {
        self.opts.block_size
    }

    /// Current alignment of reads.
    pub fn block_size(&self) -> u64 {
        self.block_size.load(Ordering::Relaxed)
    }

    /// Align later reads to the file's page size, as far as `page_block_limit` allows (the
    /// largest power-of-two fraction of the page within the limit, so blocks stay aligned to
    /// pages). What is cached stays valid.
    pub fn set_page_size(&self, page_size: u64) {
        let limit = self.opts.page_block_limit;
        if limit == 0 || page_size == 0 {
            return;
        }
        let mut b = page_size;
        while b > limit && b.is_multiple_of(2) {
            b /= 2;
        }
        if b <= limit {
            self.set_block_size(b);
        }
    }

    /// Align later reads to `block_size`; sizes outside 512 B ..= [`MAX_BLOCK_SIZE`] are
    /// ignored. What is cached stays valid.
    pub fn set_block_size(&self, block_size: u64) {
        if (MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&block_size) {
            self.block_size.store(block_size, Ordering::Relaxed);
        }
    }

    /// Read the head of the file speculatively (one request of `head_size` bytes).
    pub async fn read_head(&self) -> io::Result<Bytes> {
        let n = self.opts.head_size.max(MIN_BLOCK_SIZE).min(self.len);
        self.read(0, n).await
    }

    /// Make sure every range in `ranges` is cached, fetching missing parts concurrently,
    /// coalesced by `max_gap`.
    pub async fn prefetch(&self, ranges: &[Range<u64>]) -> io::Result<()> {
        self.prefetch_aligned(ranges, self.block_size()).await
    }

    /// [`prefetch`](Self::prefetch) with an explicit alignment for the missing parts (raw data
    /// reads use small blocks where metadata uses whole pages).
    pub async fn prefetch_aligned(&self, ranges: &[Range<u64>], align: u64) -> io::Result<()> {
        let runs = self.ensure(ranges, align).await?;
        try_join_all(runs.iter().map(|r| self.fetch(r))).await?;
        Ok(())
    }

    /// Read `len` bytes at absolute position `start`; shorter only at end of file.
    pub async fn read(&self, start: u64, len: u64) -> io::Result<Bytes> {
        self.read_aligned(start, len, self.block_size()).await
    }

    /// [`read`](Self::read) with an explicit alignment for the missing parts.
    pub async fn read_aligned(&self, start: u64, len: u64, align: u64) -> io::Result<Bytes> {
        let end = start.saturating_add(len).min(self.len);
        if start >= end {
            return Ok(Bytes::new());
        }
        let runs = self
            .ensure(std::slice::from_ref(&(start..end)), align)
            .await?;
        let data = try_join_all(runs.iter().map(|r| self.fetch(r))).await?;
        let piece = |run: &Run, data: &Bytes| {
            let from = usize::try_from(start.max(run.start) - run.start).unwrap_or(usize::MAX);
            let to = usize::try_from(end.min(run.end) - run.start)
                .unwrap_or(usize::MAX)
                .min(data.len());
            data.slice(from.min(to)..to)
        };
        if let ([run], [d]) = (runs.as_slice(), data.as_slice()) {
            return Ok(piece(run, d));
        }
        let mut out = BytesMut::with_capacity(usize::try_from(end - start).unwrap_or(0));
        let mut pos = start;
        for (run, d) in runs.iter().zip(&data) {
            if run.start > pos {
                return Err(io::Error::other(format!("cache hole at {pos}")));
            }
            out.extend_from_slice(&piece(run, d));
            pos = run.end.min(end);
        }
        Ok(out.freeze())
    }

    /// Statistics so far.
    pub fn stats(&self) -> IoStats {
        let log = match self.state.lock() {
            Ok(state) => state.log.clone(),
            Err(_) => return IoStats::default(),
        };
        IoStats {
            wall_time: self.created.elapsed(),
            ..IoStats::from_log(&log)
        }
    }

    fn lock(&self) -> io::Result<std::sync::MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| io::Error::other("cache lock poisoned"))
    }

    /// The runs that cover `ranges`, creating (not fetching) runs for what is missing. A miss
    /// first yields once so that concurrent misses are planned together.
    async fn ensure(&self, ranges: &[Range<u64>], align: u64) -> io::Result<Vec<Arc<Run>>> {
        let wanted = self.clip(ranges);
        {
            let mut state = self.lock()?;
            if state.missing(&wanted).is_empty() {
                return Ok(Self::covering(&state, &wanted));
            }
            state.pending.extend(ranges.iter().cloned());
        }
        tokio::task::yield_now().await;
        let mut state = self.lock()?;
        let mut batch = std::mem::take(&mut state.pending);
        batch.extend(ranges.iter().cloned());
        self.plan(&mut state, &batch, align);
        Ok(Self::covering(&state, &wanted))
    }

    /// `ranges` clipped to the file, sorted and merged.
    fn clip(&self, ranges: &[Range<u64>]) -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = ranges
            .iter()
            .map(|r| (r.start, r.end.min(self.len)))
            .filter(|(s, e)| s < e)
            .collect();
        merge(&mut v, 0);
        v
    }

    /// Create runs for the missing, aligned parts of `ranges`.
    fn plan(&self, state: &mut State, ranges: &[Range<u64>], align: u64) {
        let bs = align.clamp(MIN_BLOCK_SIZE, MAX_BLOCK_SIZE);
        let mut want: Vec<(u64, u64)> = self
            .clip(ranges)
            .into_iter()
            .map(|(s, e)| {
                let s = s - s % bs;
                let e = e.div_ceil(bs).saturating_mul(bs).min(self.len);
                (s, e)
            })
            .collect();
        merge(&mut want, 0);
        let mut missing = state.missing(&want);
        // Bridge gaps of at most max_gap bytes that hold nothing cached or in flight.
        let mut runs: Vec<(u64, u64)> = Vec::with_capacity(missing.len());
        for (s, e) in missing.drain(..) {
            match runs.last_mut() {
                Some(last)
                    if s.saturating_sub(last.1) <= self.opts.max_gap
                        && state.overlapping(last.1, s).next().is_none() =>
                {
                    last.1 = e;
                }
                _ => runs.push((s, e)),
            }
        }
        for (start, end) in runs {
            state.runs.insert(
                start,
                Arc::new(Run {
                    start,
                    end,
                    data: OnceCell::new(),
                }),
            );
        }
    }

    /// The distinct runs overlapping the sorted, disjoint intervals `wanted`, in order.
    fn covering(state: &State, wanted: &[(u64, u64)]) -> Vec<Arc<Run>> {
        let mut out: Vec<Arc<Run>> = Vec::new();
        for &(s, e) in wanted {
            for r in state.overlapping(s, e) {
                if !out.last().is_some_and(|l| Arc::ptr_eq(l, r)) {
                    out.push(Arc::clone(r));
                }
            }
        }
        out
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

/// Sort intervals and merge those overlapping or closer than `gap`.
fn merge(v: &mut Vec<(u64, u64)>, gap: u64) {
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for &(s, e) in v.iter() {
        match out.last_mut() {
            Some(last) if s <= last.1.saturating_add(gap) => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    *v = out;
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
            page_block_limit: 0,
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

    /// A memory file that records every range it serves.
    #[derive(Debug)]
    struct Recording {
        inner: MemoryFile,
        seen: Mutex<Vec<Range<u64>>>,
    }

    #[async_trait::async_trait]
    impl RangeReader for Recording {
        async fn read_range(&self, range: Range<u64>) -> io::Result<Bytes> {
            self.seen.lock().unwrap().push(range.clone());
            self.inner.read_range(range).await
        }
        async fn size(&self) -> io::Result<u64> {
            self.inner.size().await
        }
        fn location(&self) -> &str {
            self.inner.location()
        }
    }

    fn recording(n: usize) -> Arc<Recording> {
        Arc::new(Recording {
            inner: MemoryFile::new((0..n).map(|i| (i % 251) as u8).collect::<Vec<_>>(), "mem"),
            seen: Mutex::new(Vec::new()),
        })
    }

    fn opts(block: u64, gap: u64, page_limit: u64) -> IoOptions {
        IoOptions {
            block_size: block,
            head_size: 4096,
            max_gap: gap,
            max_concurrency: 8,
            page_block_limit: page_limit,
        }
    }

    fn check(bytes: &Bytes, start: u64) {
        assert!(bytes
            .iter()
            .enumerate()
            .all(|(i, &v)| v == ((start as usize + i) % 251) as u8));
    }

    #[tokio::test]
    async fn page_aligned_after_the_page_size_is_known_and_nothing_fetched_twice() {
        let rec = recording(200_000);
        let cache = BlockCache::new(rec.clone(), opts(1024, 0, 1 << 20))
            .await
            .unwrap();
        cache.read_head().await.unwrap();
        // 64 KiB pages (the limit is 1 MiB): later misses fetch whole pages...
        cache.set_page_size(65536);
        assert_eq!(cache.block_size(), 65536);
        check(&cache.read(70_000, 10).await.unwrap(), 70_000);
        // ...except what is already cached: the head (0..4096) is not fetched again.
        check(&cache.read(100, 10_000).await.unwrap(), 100);
        let seen = rec.seen.lock().unwrap().clone();
        assert_eq!(seen, vec![0..4096, 65536..131072, 4096..65536]);
        // A page larger than the limit is split into the largest power-of-two fraction.
        let small = BlockCache::new(rec.clone(), opts(1024, 0, 16384))
            .await
            .unwrap();
        small.set_page_size(65536);
        assert_eq!(small.block_size(), 16384);
        // A limit of 0 keeps the block size.
        let off = BlockCache::new(rec, opts(1024, 0, 0)).await.unwrap();
        off.set_page_size(65536);
        assert_eq!(off.block_size(), 1024);
    }

    #[tokio::test]
    async fn overlapping_and_concurrent_reads_never_refetch() {
        let rec = recording(300_000);
        let cache = BlockCache::new(rec.clone(), opts(4096, 8192, 0))
            .await
            .unwrap();
        // Pseudo-random reads, some concurrent; every byte comes right and the served ranges
        // never overlap.
        let mut x = 12345u64;
        for _ in 0..50 {
            let mut batch = Vec::new();
            for _ in 0..4 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let start = (x >> 33) % 290_000;
                let len = (x >> 20) % 9000 + 1;
                batch.push((start, len));
            }
            let got = futures::future::join_all(batch.iter().map(|&(s, n)| cache.read(s, n))).await;
            for ((s, n), b) in batch.iter().zip(got) {
                let b = b.unwrap();
                assert_eq!(b.len() as u64, *n.min(&(300_000 - s)));
                check(&b, *s);
            }
        }
        let mut seen = rec.seen.lock().unwrap().clone();
        seen.sort_by_key(|r| r.start);
        assert!(seen.windows(2).all(|w| w[0].end <= w[1].start), "{seen:?}");
        assert_eq!(
            cache.stats().bytes,
            seen.iter().map(|r| r.end - r.start).sum::<u64>()
        );
    }

    #[tokio::test]
    async fn concurrent_misses_become_one_request() {
        let rec = recording(100_000);
        let cache = BlockCache::new(rec.clone(), opts(1024, 4096, 0))
            .await
            .unwrap();
        // Three callers miss at once (as the datasets of one level do): their ranges lie within
        // max_gap of each other, so one request serves all three.
        let (a, b, c) = futures::join!(
            cache.read(10_000, 100),
            cache.prefetch(std::slice::from_ref(&(12_000..12_100))),
            cache.read(14_500, 10)
        );
        check(&a.unwrap(), 10_000);
        b.unwrap();
        check(&c.unwrap(), 14_500);
        // (The head, 0..4096, was read when the cache was made.)
        assert_eq!(rec.seen.lock().unwrap().clone(), vec![0..4096, 9216..15360]);
        // A gap holding cached bytes is not bridged: 9216..15360 is not fetched again.
        cache.prefetch(&[8000..8100, 16_000..16_100]).await.unwrap();
        let seen = rec.seen.lock().unwrap().clone();
        assert_eq!(&seen[2..], &[7168..8192, 15360..16384]);
    }

    #[test]
    fn rounds_are_the_longest_chain_of_sequential_requests() {
        let t = Instant::now();
        let ms = |n| t + Duration::from_millis(n);
        // a: 0-20, then b and c concurrently 20-40 and 21-41, then d 41-60: 3 rounds; e
        // overlaps everything (0-60): still 3.
        let log = [
            (ms(0), ms(20), 1),
            (ms(20), ms(40), 2),
            (ms(21), ms(41), 3),
            (ms(41), ms(60), 4),
            (ms(0), ms(60), 5),
        ];
        let s = IoStats::from_log(&log);
        assert_eq!((s.requests, s.bytes, s.rounds), (5, 15, 3));
        assert_eq!(s.io_time, Duration::from_millis(60));
        assert_eq!(IoStats::from_log(&[]).rounds, 0);
    }
}
