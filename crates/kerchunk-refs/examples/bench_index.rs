//! In-process indexing benchmark (used by `scripts/bench`; not a test): index one file held in
//! memory, optionally behind a fixed per-request latency, and print one JSON line.
//!
//!     bench_index FILE [--repeat N] [--latency-ms MS] [--inline-threshold N]
//!                      [--head-size B] [--block-size B] [--max-gap B] [--max-concurrency N] [--page-block-limit B] [--log]
//!
//! The whole file is read into memory first, so the timings are the walk and translation
//! themselves ("metadata in memory"); the runtime is single-threaded, so refs/s is per core.
//! With `--latency-ms` every request waits that long first (`WithLatency`), which makes the
//! request/round counts cost what they cost on a network: that is how the default I/O options
//! were chosen (sweep `--head-size`).
//!
//! Output: {"file", "size", "refs", "chunk_refs", "repeat", "best_s", "median_s",
//! "chunk_refs_per_s", "requests", "bytes", "rounds", "io_ms"}.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdf5_meta::walk::{IoOptions, MemoryFile, RangeReader, WithLatency};
use kerchunk_refs::translate::{index_file_with_stats, IndexOptions};
use kerchunk_refs::RefValue;

/// Prints every request on stderr (`--log`).
#[derive(Debug)]
struct Logged {
    inner: Arc<dyn RangeReader>,
    t0: Instant,
}

#[async_trait::async_trait]
impl RangeReader for Logged {
    async fn read_range(&self, range: std::ops::Range<u64>) -> std::io::Result<bytes::Bytes> {
        let t = self.t0.elapsed().as_secs_f64() * 1e3;
        let r = self.inner.read_range(range.clone()).await;
        eprintln!(
            "{t:8.1} ms .. {:8.1} ms  GET {}..{} ({} B)",
            self.t0.elapsed().as_secs_f64() * 1e3,
            range.start,
            range.end,
            range.end - range.start
        );
        r
    }

    async fn size(&self) -> std::io::Result<u64> {
        self.inner.size().await
    }

    fn location(&self) -> &str {
        self.inner.location()
    }
}

fn usage() -> String {
    "usage: bench_index FILE [--repeat N] [--latency-ms MS] [--inline-threshold N] [--head-size B] [--block-size B] [--max-gap B] [--max-concurrency N] [--page-block-limit B] [--log]".to_string()
}

fn main() -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut repeat = 5usize;
    let mut latency = Duration::ZERO;
    let mut opts = IndexOptions::default();
    let mut io = IoOptions::default();
    let mut log = false;
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(usage);
        match a.as_str() {
            "--repeat" => repeat = value()?.parse::<usize>()?.max(1),
            "--latency-ms" => latency = Duration::from_secs_f64(value()?.parse::<f64>()? / 1e3),
            "--inline-threshold" => opts.inline_threshold = value()?.parse()?,
            "--head-size" => io.head_size = value()?.parse()?,
            "--block-size" => io.block_size = value()?.parse()?,
            "--max-gap" => io.max_gap = value()?.parse()?,
            "--max-concurrency" => io.max_concurrency = value()?.parse()?,
            "--page-block-limit" => io.page_block_limit = value()?.parse()?,
            "--log" => log = true,
            _ if file.is_none() && !a.starts_with("--") => file = Some(a),
            _ => return Err(usage().into()),
        }
    }
    opts.walk.io = io;
    let file = file.ok_or_else(usage)?;
    let bytes = std::fs::read(&file)?;
    let size = bytes.len();
    let memory: Arc<dyn RangeReader> = Arc::new(MemoryFile::new(bytes, file.clone()));
    let reader: Arc<dyn RangeReader> = if latency.is_zero() {
        memory
    } else {
        Arc::new(WithLatency::new(memory, latency))
    };
    let reader: Arc<dyn RangeReader> = if log {
        Arc::new(Logged {
            inner: reader,
            t0: Instant::now(),
        })
    } else {
        reader
    };
    let mut times = Vec::with_capacity(repeat);
    let mut last = None;
    for _ in 0..repeat {
        let t = Instant::now();
        let (refs, _warnings, stats) =
            index_file_with_stats(Arc::clone(&reader), Some(&file), &opts).await?;
        times.push(t.elapsed().as_secs_f64());
        last = Some((refs, stats));
    }
    let (refs, stats) = last.ok_or("no run")?;
    let chunk_refs = refs
        .iter()
        .filter(|(_, v)| matches!(v, RefValue::Range { .. }))
        .count();
    times.sort_by(f64::total_cmp);
    let best = times.first().copied().unwrap_or(0.0);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    let out = serde_json::json!({
        "file": file,
        "size": size,
        "refs": refs.len(),
        "chunk_refs": chunk_refs,
        "repeat": repeat,
        "best_s": best,
        "median_s": median,
        "chunk_refs_per_s": if best > 0.0 { chunk_refs as f64 / best } else { 0.0 },
        "requests": stats.requests,
        "bytes": stats.bytes,
        "rounds": stats.rounds,
        "io_ms": stats.io_time.as_secs_f64() * 1e3,
        "options": {"head_size": io.head_size, "block_size": io.block_size, "max_gap": io.max_gap,
                    "max_concurrency": io.max_concurrency, "page_block_limit": io.page_block_limit, "latency_ms": latency.as_secs_f64() * 1e3},
    });
    println!("{out}");
    Ok(())
}
