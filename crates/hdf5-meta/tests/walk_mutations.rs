//! Mutation testing of the whole walk: fixture files with random bytes changed (bit flips,
//! interesting integers written over addresses and sizes, truncation) must be walked or
//! refused without panicking, quickly and without runaway memory. A few hundred mutations
//! run by default; `WALK_MUTATIONS=<n>` runs more (use `--release`), `WALK_MUTATION_SEED`
//! changes the seed, `WALK_MUTATION_DIRS=dir:dir` takes the files (< 64 KiB) from elsewhere
//! (e.g. the official corpus).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdf5_meta::walk::{walk, MemoryFile, WalkOptions};

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut b = original.to_vec();
    let len = b.len() as u64;
    for _ in 0..1 + rng.below(4) {
        match rng.below(4) {
            0 => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            2 => {
                // An interesting integer over a (possible) address, size or count.
                let values = [
                    0,
                    1,
                    u64::MAX,
                    u64::MAX - 1,
                    len,
                    len - 1,
                    len + 1,
                    1 << 31,
                    1 << 32,
                    rng.next() % (2 * len),
                ];
                let v = values[rng.below(values.len())];
                let width = [1usize, 2, 4, 8][rng.below(4)];
                let i = rng.below(b.len().saturating_sub(width));
                b[i..i + width].copy_from_slice(&v.to_le_bytes()[..width]);
            }
            _ => {
                let keep = rng.below(b.len());
                b.truncate(keep.max(8));
            }
        }
    }
    b
}

#[test]
fn mutated_fixtures_never_panic_or_hang() {
    let iterations: usize = std::env::var("WALK_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("WALK_MUTATION_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_1234_abcd_ef01);
    let dirs: Vec<PathBuf> = match std::env::var("WALK_MUTATION_DIRS") {
        Ok(v) => v.split(':').map(PathBuf::from).collect(),
        Err(_) => vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/h5")],
    };
    let mut files: Vec<(String, Vec<u8>)> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().flatten())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "h5")
                && p.metadata().is_ok_and(|m| m.len() < 64 * 1024)
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(files.len() > 20);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rng = Rng(seed | 1);
    let (mut ok, mut refused, mut slowest) = (0, 0, Duration::ZERO);
    for i in 0..iterations {
        let (name, original) = &files[rng.below(files.len())];
        let bytes = mutate(&mut rng, original);
        let started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(20),
                    walk(
                        Arc::new(MemoryFile::new(bytes.clone(), name.clone())),
                        WalkOptions::default(),
                    ),
                )
                .await
            })
        }));
        let took = started.elapsed();
        slowest = slowest.max(took);
        match result {
            Ok(Ok(Ok(_))) => ok += 1,
            Ok(Ok(Err(_))) => refused += 1,
            Ok(Err(_)) => {
                panic!("mutation {i} of {name} (seed {seed}): walk did not finish in 20 s")
            }
            Err(_) => {
                let dump = std::env::temp_dir().join(format!("walk_mutation_{i}_{name}"));
                let _ = std::fs::write(&dump, &bytes);
                panic!(
                    "mutation {i} of {name} (seed {seed}) panicked; bytes saved to {}",
                    dump.display()
                );
            }
        }
        assert!(
            took < Duration::from_secs(20),
            "mutation {i} of {name}: {took:?}"
        );
    }
    println!("{iterations} mutations: {ok} walked, {refused} refused, slowest {slowest:?}");
}
