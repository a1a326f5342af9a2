//! Criterion benchmarks of in-process indexing: walk + translate of a file held in memory on a
//! single-threaded runtime (so throughput is per core), reported as chunk references per
//! second. Always the small OPERA-like fixture; with `KERCHUNK_BENCH_DATA` set to the data
//! directory of `scripts/bench` (default /work/bench when it exists) also the million-chunk
//! file (`million/million.h5`, inline threshold 0) and the full-size OPERA-like files.
//!
//!     cargo bench -p kerchunk-refs --bench index

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hdf5_meta::walk::{MemoryFile, RangeReader};
use kerchunk_refs::translate::{index_file, IndexOptions};
use kerchunk_refs::RefValue;

fn first_nc(dir: &Path) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "nc"))
        .collect();
    v.sort();
    v.into_iter().next()
}

fn inputs() -> Vec<(&'static str, PathBuf, u64)> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    if let Some(p) = first_nc(&repo.join("fixtures/opera")) {
        out.push(("opera_fixture", p, 300));
    }
    let data = std::env::var_os("KERCHUNK_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/bench"));
    let million = data.join("million/million.h5");
    if million.exists() {
        out.push(("million_chunks", million, 0));
    }
    for (name, sub) in [("opera_full_256", "full"), ("opera_full_128", "full128")] {
        if let Some(p) = first_nc(&data.join(sub)) {
            out.push((name, p, 300));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("index_in_memory");
    group.sample_size(10);
    for (name, path, threshold) in inputs() {
        let reader: Arc<dyn RangeReader> =
            Arc::new(MemoryFile::new(std::fs::read(&path).unwrap(), name));
        let opts = IndexOptions {
            inline_threshold: threshold,
            ..IndexOptions::default()
        };
        let run = || rt.block_on(index_file(Arc::clone(&reader), Some(name), &opts));
        let (refs, _) = run().unwrap();
        let chunks = refs
            .iter()
            .filter(|(_, v)| matches!(v, RefValue::Range { .. }))
            .count();
        group.throughput(Throughput::Elements(chunks as u64));
        group.bench_function(name, |b| b.iter(|| run().unwrap()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
