//! Walking through `object_store` (an in-memory store, so no network is mocked: the same
//! `StoreObject` reader runs against S3 in the CLI's tests) gives the same model as a local
//! walk, and the requests are batched: every level of the metadata tree costs one round.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code
use std::sync::Arc;

use hdf5_meta::walk::{
    walk, IoOptions, LocalFile, RangeReader, StoreObject, WalkOptions, WithLatency,
};
use object_store::memory::InMemory;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

fn opera_fixture() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/opera");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "nc"))
        .collect();
    files.sort();
    files.remove(0)
}

#[tokio::test]
async fn object_store_walk_equals_local_walk_and_is_batched() {
    let path = opera_fixture();
    let bytes = std::fs::read(&path).unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let key = StorePath::from("staging/product.nc");
    store
        .put(&key, PutPayload::from(bytes.clone()))
        .await
        .unwrap();

    // Small blocks and head so that the file's metadata is not all in the first read: the
    // walk then has to fetch B-tree nodes and heaps level by level.
    let io = IoOptions {
        block_size: 4096,
        head_size: 16 * 1024,
        max_gap: 8192,
        max_concurrency: 16,
        page_block_limit: 0,
    };
    let opts = WalkOptions {
        io,
        ..WalkOptions::default()
    };
    // 20 ms per request, as on S3, so that rounds (requests that could not overlap) show.
    let object: Arc<dyn RangeReader> =
        Arc::new(StoreObject::new(store, key, "memory://staging/product.nc"));
    let slow = Arc::new(WithLatency::new(
        object,
        std::time::Duration::from_millis(20),
    ));
    let remote = walk(slow, opts).await.unwrap();
    let local = walk(Arc::new(LocalFile::open(&path).unwrap()), opts)
        .await
        .unwrap();

    let paths = |f: &hdf5_meta::model::Hdf5File| {
        f.objects.iter().map(|o| o.path.clone()).collect::<Vec<_>>()
    };
    assert_eq!(paths(&remote), paths(&local));
    assert_eq!(
        format!("{:?}", remote.objects),
        format!("{:?}", local.objects)
    );
    let s = remote.io;
    eprintln!(
        "OPERA-like fixture {} ({} bytes) over object_store: {} requests, {} sequential rounds, {} bytes read",
        path.file_name().unwrap().to_string_lossy(),
        bytes.len(),
        s.requests,
        s.rounds,
        s.bytes
    );
    // Rounds are bounded by the depth of the metadata dependency chain, not by the number of
    // objects (~100 here): superblock, extension, then per group level its header, its dense
    // link heap and B-tree levels, then datasets' chunk-index levels, dense attributes and
    // global heaps. Fetching structures one after another would take > 100 rounds.
    assert!(s.rounds <= 16, "{} rounds", s.rounds);
    assert!(s.requests < 60, "{} requests", s.requests);

    // With the default options (1 MiB speculative head) the whole metadata of this small file
    // arrives in the first request.
    let store2: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    store2
        .put(&StorePath::from("p.nc"), PutPayload::from(bytes))
        .await
        .unwrap();
    let object: Arc<dyn RangeReader> = Arc::new(StoreObject::new(
        store2,
        StorePath::from("p.nc"),
        "memory://p.nc",
    ));
    let default = walk(object, WalkOptions::default()).await.unwrap();
    eprintln!(
        "with default options: {} requests, {} rounds",
        default.io.requests, default.io.rounds
    );
    assert_eq!(default.io.requests, 1);
}
