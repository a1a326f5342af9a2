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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(walk(
        Arc::new(MemoryFile::new(bytes, name)),
        WalkOptions::default(),
    ))
}

fn fill_state(file: &Hdf5File, path: &str) -> FillState {
    match &file.get(path).unwrap().kind {
        ObjectKind::Dataset(d) => d.fill_value.state.clone(),
        _ => panic!("{path} is not a dataset"),
    }
}

/// Set the flags byte of a v2/v3 superblock at offset 0 (O = 8) and fix its checksum.
fn with_superblock_flags(mut bytes: Vec<u8>, flags: u8) -> Vec<u8> {
    assert!(
        matches!(bytes[8], 2 | 3) && bytes[9] == 8,
        "v2/v3 superblock with O = 8 expected"
    );
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
        WalkError::Truncated {
            structure,
            offset: 0,
            needed_end,
            file_len,
            ..
        } => {
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
        assert!(
            msg.contains(&format!(
                "superblock at offset 0: unsupported: file consistency flags {flags:#04x}"
            )),
            "{msg}"
        );
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
    assert!(
        msg.contains("unsupported: metadata cache image message"),
        "{msg}"
    );
}

#[test]
fn fill_value_without_new_message() {
    // h5py (cases.json): no fill message → undefined; old message of size 0 → undefined;
    // old message holding 42 → user-defined 42.
    let f = walk_bytes(
        read("tests/data/walk/no_fill_message.h5"),
        "no_fill_message.h5",
    )
    .unwrap();
    assert_eq!(fill_state(&f, "/d"), FillState::Undefined);
    let f = walk_bytes(
        read("tests/data/walk/old_fill_message_empty.h5"),
        "old_fill_message_empty.h5",
    )
    .unwrap();
    assert_eq!(fill_state(&f, "/d"), FillState::Undefined);
    let f = walk_bytes(
        read("tests/data/walk/old_fill_message.h5"),
        "old_fill_message.h5",
    )
    .unwrap();
    assert_eq!(
        fill_state(&f, "/d"),
        FillState::User(42i32.to_le_bytes().to_vec())
    );
}

/// Patch the v3 superblock's end-of-file address (O = 8) and fix its checksum.
fn with_end_of_file(mut bytes: Vec<u8>, eof: u64) -> Vec<u8> {
    assert!(bytes[8] == 3 && bytes[9] == 8);
    bytes[28..36].copy_from_slice(&eof.to_le_bytes());
    let sum = lookup3(&bytes[..44], 0);
    bytes[44..48].copy_from_slice(&sum.to_le_bytes());
    bytes
}

#[test]
fn extensible_array_with_huge_max_index_set_is_bounded() {
    // /ea25 of the extensible_array.h5 fixture: EA header at 447 (max bits 32, 4 index-block
    // elements, super block min data pointers 4, data block min elements 16), index block at
    // 50132. Rewrite it as a 64-bit array whose "max index set" is 2^64 − 1, with a new index
    // block (appended) keeping the 4 index-block elements and no data or super blocks: the
    // walk used to list every possible data block below max index set (~2^31) before reading
    // any, and exhausted memory.
    let mut bytes = read("../../fixtures/h5/extensible_array.h5");
    let (hdr, old_ib) = (447usize, 50132usize);
    assert_eq!(&bytes[hdr..hdr + 4], b"EAHD");
    assert_eq!(&bytes[old_ib..old_ib + 4], b"EAIB");
    let new_ib = bytes.len() as u64;
    // Index block: signature, version 0, client 0 (chunks), header address, 4 elements of
    // 8 bytes, 2·(4 − 1) data-block addresses, (1 + 64 − log2 16) − 2·log2 4 = 57 super-block
    // addresses, checksum.
    let mut ib = b"EAIB\0\0".to_vec();
    ib.extend_from_slice(&(hdr as u64).to_le_bytes());
    ib.extend_from_slice(&bytes[old_ib + 14..old_ib + 14 + 32]);
    ib.extend(std::iter::repeat_n(0xffu8, (6 + 57) * 8));
    let sum = lookup3(&ib, 0);
    ib.extend_from_slice(&sum.to_le_bytes());
    // Header: max elements bits 64, max index set 2^64 − 1, new index block address.
    bytes[hdr + 7] = 64;
    bytes[hdr + 44..hdr + 52].copy_from_slice(&u64::MAX.to_le_bytes());
    bytes[hdr + 60..hdr + 68].copy_from_slice(&new_ib.to_le_bytes());
    let sum = lookup3(&bytes[hdr..hdr + 68], 0);
    bytes[hdr + 68..hdr + 72].copy_from_slice(&sum.to_le_bytes());
    bytes.extend_from_slice(&ib);
    let eof = bytes.len() as u64;
    let bytes = with_end_of_file(bytes, eof);

    let original = walk_bytes(
        read("../../fixtures/h5/extensible_array.h5"),
        "extensible_array.h5",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let patched = walk_bytes(bytes, "ea_huge.h5").unwrap();
    assert!(started.elapsed().as_secs() < 10);
    let chunks = |f: &Hdf5File| match &f.get("/ea25").unwrap().kind {
        ObjectKind::Dataset(d) => match &d.storage {
            hdf5_meta::model::Storage::Chunked { chunks, .. } => chunks.clone(),
            other => panic!("{other:?}"),
        },
        _ => panic!("/ea25 is not a dataset"),
    };
    // Only the index block's own 4 elements remain.
    assert_eq!(chunks(&original).len(), 25);
    assert_eq!(chunks(&patched), chunks(&original)[..4].to_vec());
}
