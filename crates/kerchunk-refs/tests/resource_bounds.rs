//! Absurd sizes declared by a file are refused (or handled) quickly and without allocation
//! in proportion to the declared size: the whole indexing pipeline (walk + translation) runs
//! on fixtures patched to declare a 2^60-element dataspace or a 2^40-entry fixed array, and
//! the process's peak resident memory (VmHWM) must stay far below what the declared sizes
//! would need.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdf5_meta::format::checksum::lookup3;
use hdf5_meta::walk::MemoryFile;
use kerchunk_refs::translate::{index_file, IndexOptions};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/h5")
            .join(name),
    )
    .unwrap()
}

/// Peak resident set size of this process so far, in bytes (Linux `VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Indexes `bytes`; returns the outcome as text (`ok: N refs, warnings: …` or `error: …`) and
/// the time it took.
fn index(bytes: Vec<u8>, name: &str) -> (String, Duration) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let outcome = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(30),
            index_file(
                Arc::new(MemoryFile::new(bytes, name)),
                Some(name),
                &IndexOptions::default(),
            ),
        )
        .await
    });
    let took = started.elapsed();
    let text = match outcome {
        Err(_) => panic!("{name}: indexing did not finish in 30 s"),
        Ok(Ok((refs, warnings))) => format!("ok: {} refs, warnings: {warnings:?}", refs.len()),
        Ok(Err(e)) => format!("error: {e}"),
    };
    (text, took)
}

#[test]
fn absurd_declared_sizes_are_cheap() {
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();

    // earliest_basic.h5, /contig (int32, shape [100], contiguous, 400 bytes stored): its
    // version-1 dataspace message at 824 is [version 1, rank 1, flags 1 (max dims present),
    // 5 reserved bytes, dim 100 as u64, max dim 100 as u64] (offset found by searching for
    // that byte pattern; v1 object headers carry no checksum). Declare 2^60 elements.
    let mut b = fixture("earliest_basic.h5");
    let at = 824;
    let mut expected = vec![1u8, 1, 1, 0, 0, 0, 0, 0];
    expected.extend_from_slice(&100u64.to_le_bytes());
    expected.extend_from_slice(&100u64.to_le_bytes());
    assert_eq!(&b[at..at + 24], &expected[..], "fixture changed");
    b[at + 8..at + 16].copy_from_slice(&(1u64 << 60).to_le_bytes());
    b[at + 16..at + 24].copy_from_slice(&(1u64 << 60).to_le_bytes());
    // Expected: /contig is left out with a warning (400 stored bytes cannot hold 2^62).
    cases.push(("dataspace_2e60.h5", b, "shorter than"));

    // fixed_array.h5, /fa: its fixed-array header at 447 is "FAHD", version 0, client 0,
    // entry size 8, page bits 10, max entries 50 (u64), data block address (u64), then the
    // lookup3 checksum of those 24 bytes. Declare 2^40 entries (so 2^30 pages and a 128 MiB
    // page bitmap) and re-seal the checksum.
    let mut b = fixture("fixed_array.h5");
    let at = 447;
    assert_eq!(&b[at..at + 8], b"FAHD\x00\x00\x08\x0a", "fixture changed");
    assert_eq!(&b[at + 8..at + 16], &50u64.to_le_bytes(), "fixture changed");
    b[at + 8..at + 16].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let sum = lookup3(&b[at..at + 24], 0);
    b[at + 24..at + 28].copy_from_slice(&sum.to_le_bytes());
    // Expected: the file is refused when the data block's declared size passes the file end.
    cases.push(("fixed_array_2e40.h5", b, "the file ends at"));

    let before = peak_rss();
    for (name, bytes, why) in cases {
        let (outcome, took) = index(bytes, name);
        eprintln!("{name}: {outcome} in {took:?}");
        assert!(took < Duration::from_secs(5), "{name}: took {took:?}");
        assert!(
            outcome.contains(why),
            "{name}: expected {why:?}, got {outcome}"
        );
        if let Some(err) = outcome.strip_prefix("error: ") {
            assert!(
                err.contains(name),
                "{name}: error does not name the file: {err}"
            );
        }
    }
    let grown = peak_rss().saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "peak RSS grew by {} MiB while indexing files of a few KiB",
        grown >> 20
    );
}
