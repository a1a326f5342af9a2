//! Regression tests of the walker on small crafted files: what HDF5 refuses to open is refused
//! (truncated files, superblock v3 "open for write" flags, metadata cache images), and the
//! fill value of datasets without a (new) fill value message is reported as HDF5 does.
//! Files under `tests/data/walk/` come from `scripts/testdata/make_walk_cases.py` (h5py 3.16,
//! HDF5 2.0; `cases.json` records what h5py reports); the others are patched fixtures.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hdf5_meta::format::checksum::lookup3;
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

/// Set the flags byte of a v2/v3 superblock at offset 0 (O = 8) and fix its checksum.
fn with_superblock_flags(mut bytes: Vec<u8>, flags: u8) -> Vec<u8> {
    assert!(matches!(bytes[8], 2 | 3) && bytes[9] == 8, "v2/v3 superblock with O = 8 expected");
    bytes[11] = flags;
    // Signature(8) version O L flags, base, extension, EOF, root (4 × 8), then the checksum.
    let sum = lookup3(&bytes[..44], 0);
    bytes[44..48].copy_from_slice(&sum.to_le_bytes());
    bytes
}

#[test]
fn truncated_file_is_refused() {
    // The superblock's end-of-file address is the file length; cut 100 bytes off the end.
    let mut bytes = read("../../fixtures/h5/earliest_basic.h5");
    let len = bytes.len() as u64;
    bytes.truncate(bytes.len() - 100);
    let e = walk_bytes(bytes, "cut.h5").unwrap_err();
    match &e {
        WalkError::Truncated { structure, offset: 0, needed_end, file_len, .. } => {
            assert_eq!(*structure, "superblock (end-of-file address)");
            assert_eq!((*needed_end, *file_len), (len, len - 100));
        }
        other => panic!("expected a truncation error, got {other:?}"),
    }
}

#[test]
fn bytes_past_the_end_of_file_address_are_ignored() {
    let mut bytes = read("../../fixtures/h5/earliest_basic.h5");
    bytes.extend_from_slice(&[0xAA; 4096]);
    assert!(walk_bytes(bytes, "padded.h5").is_ok());
}

#[test]
fn superblock_v3_open_for_write_is_refused() {
    // HDF5 2.0: "file is already open for write (may use <h5clear file> to clear file
    // consistency flags)" for 0x01 (write) and 0x04 (SWMR write) in a v3 superblock.
    let bytes = read("../../fixtures/h5/latest_basic.h5");
    assert_eq!(bytes[8], 3);
    assert!(walk_bytes(bytes.clone(), "latest_basic.h5").is_ok());
    for flags in [0x01, 0x04, 0x05] {
        let e = walk_bytes(with_superblock_flags(bytes.clone(), flags), "open.h5").unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, WalkError::Format { .. }), "{msg}");
        assert!(msg.contains(&format!("superblock at offset 0: unsupported: file consistency flags {flags:#04x}")), "{msg}");
    }
    // Other bits are not consistency flags HDF5 checks.
    assert!(walk_bytes(with_superblock_flags(bytes, 0x02), "flag2.h5").is_ok());
}

#[test]
fn superblock_v2_flags_are_not_checked() {
    // HDF5 checks the consistency flags of v3 superblocks only.
    let bytes = read("../../fixtures/h5/v18_bounds.h5");
    assert_eq!(bytes[8], 2);
    assert!(walk_bytes(with_superblock_flags(bytes, 0x05), "v2_flags.h5").is_ok());
}

#[test]
fn metadata_cache_image_is_refused() {
    // h5py opens it (cases.json); the root group's header exists only inside the image.
    let e = walk_bytes(read("tests/data/walk/cache_image.h5"), "cache_image.h5").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, WalkError::Format { .. }), "{msg}");
    assert!(msg.contains("superblock extension at offset"), "{msg}");
    assert!(msg.contains("unsupported: metadata cache image message"), "{msg}");
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
