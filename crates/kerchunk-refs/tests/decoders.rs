#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! The Rust decoders on real h5py files (fixtures/h5/filters_earliest.h5, made by
//! scripts/fixtures/generate.py with h5py 3.16 / HDF5 2.0): with a large unsupported-inline
//! threshold the LZF and scale-offset datasets are decoded and embedded, and their values
//! agree with the same data stored with gzip (`gzip9`). `scripts/conformance` checks the
//! same decoders value for value against h5py, on the fixtures and the official corpus.
//! Skips when `fixtures/` is absent.

use std::path::Path;
use std::sync::Arc;

use hdf5_meta::walk::LocalFile;
use kerchunk_refs::chunk_key::chunk_key;
use kerchunk_refs::translate::{codecs, index_file, IndexOptions};
use kerchunk_refs::zarr::Codec;
use kerchunk_refs::{RefValue, ReferenceSet};

/// The decoded bytes of chunk `key` of array `path` (inline or read from `file`).
fn chunk(refs: &ReferenceSet, file: &[u8], path: &str, index: &[u64]) -> Vec<u8> {
    let z = refs.zarray(path).expect("zarray").expect("array present");
    let filters: Vec<Codec> = z
        .filters
        .unwrap_or_default()
        .iter()
        .map(|v| Codec::from_config(v).expect("codec"))
        .collect();
    let key = chunk_key(path, index);
    let mut data = match refs.get(&key).expect("chunk present") {
        RefValue::Inline(b) => b.to_vec(),
        RefValue::Range { offset, length, .. } => {
            file[*offset as usize..(*offset + *length) as usize].to_vec()
        }
        RefValue::Whole { .. } => panic!("whole-file reference"),
    };
    for c in filters.iter().rev() {
        data = match c {
            Codec::Zlib { .. } => codecs::inflate(&data, 1 << 20).expect("inflate"),
            Codec::Shuffle { elementsize } => codecs::unshuffle(&data, *elementsize as usize),
            Codec::Fletcher32 => codecs::fletcher32_check(&data).expect("checksum"),
            other => panic!("unexpected codec {other:?}"),
        };
    }
    data
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[tokio::test]
async fn lzf_and_scaleoffset_agree_with_gzip() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/h5/filters_earliest.h5");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return;
    };
    let opts = IndexOptions {
        unsupported_inline_threshold: Some(100_000_000),
        ..IndexOptions::default()
    };
    let (refs, warnings) = index_file(Arc::new(LocalFile::open(&path).unwrap()), None, &opts)
        .await
        .unwrap();
    for p in ["/lzf", "/scaleoffset_int", "/scaleoffset_float", "/gzip9"] {
        assert!(
            !warnings.iter().any(|w| w.path == p),
            "unexpected warning for {p}: {warnings:?}"
        );
    }
    // 40 × 30 elements in 10 × 10 chunks: a 4 × 3 grid.
    for i in 0..4 {
        for j in 0..3 {
            let gz = chunk(&refs, &bytes, "gzip9", &[i, j]);
            assert_eq!(
                chunk(&refs, &bytes, "lzf", &[i, j]),
                gz,
                "lzf chunk {i}.{j}"
            );
            // scaleoffset=3: three decimal digits kept.
            let so = f32s(&chunk(&refs, &bytes, "scaleoffset_float", &[i, j]));
            for (a, b) in so.iter().zip(f32s(&gz)) {
                assert!(
                    (a - b).abs() <= 0.0005 + 1e-5,
                    "scaleoffset_float chunk {i}.{j}: {a} vs {b}"
                );
            }
            // Integers drawn from 0..4000.
            let ints = chunk(&refs, &bytes, "scaleoffset_int", &[i, j]);
            assert_eq!(ints.len(), 400);
            assert!(ints
                .chunks_exact(4)
                .all(|c| (0..4000).contains(&i32::from_le_bytes(c.try_into().unwrap()))));
        }
    }
}
