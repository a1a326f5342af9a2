//! The walker against h5py on the official HDF5 test corpus (`shared/corpus/hdf5-official`,
//! or `$HDF5_CORPUS_DIR`; the test is skipped when neither exists). Every file is walked with
//! a time limit and either
//! (a) matches h5py's expectations (`fixtures/official-expected/`, written by
//!     `scripts/fixtures/official_expectations.py`) for everything h5py could read, or
//! (b) is refused with a typed error naming the structure and its offset, as listed in
//!     [`REFUSED`].
//! A file h5py cannot open must be refused too: the walker never guesses its way through.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use common::{compare, read_expectations, repo, walk_with_timeout, Outcome};
use hdf5_meta::walk::WalkError;

/// Time limit per file.
const LIMIT: Duration = Duration::from_secs(20);

/// Why a file is refused (the summary counts files per reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Why {
    /// Family/multi/split driver: one address space spread over several files.
    MultiFile,
    /// A member of a multi-file set other than the one holding the superblock.
    NoSuperblock,
    /// The superblock's end-of-file address lies past the end of the file.
    Truncated,
    /// The file was not closed (superblock v3 file consistency flags set).
    NotClosed,
    /// Deliberately corrupt (fuzzer/CVE reproducers, damaged test files).
    Corrupt,
    /// A valid feature this reader does not handle.
    Unsupported,
}

impl Why {
    fn label(self) -> &'static str {
        match self {
            Why::MultiFile => "multi-file driver",
            Why::NoSuperblock => "no superblock (multi-file member)",
            Why::Truncated => "truncated",
            Why::NotClosed => "not closed (consistency flags)",
            Why::Corrupt => "corrupt",
            Why::Unsupported => "unsupported",
        }
    }
}

/// What kind of error a refusal must be.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `WalkError::Format` (names the structure and offset).
    Format,
    /// `WalkError::Truncated` (names the structure and offset).
    Truncated,
    /// `WalkError::NotHdf5`.
    NotHdf5,
    /// `WalkError::Limit`, whose message names the structure and offset.
    Limit,
}

/// Files the walker refuses: (file, reason, error kind, text the error message must contain).
/// h5py (HDF5 2.0) cannot open any of them either, except where noted.
const REFUSED: &[(&str, Why, Kind, &str)] = &[
    // --- Family driver: the superblock's driver info block says "NCSAfami"; member 0 holds the
    // superblock, the others are raw continuations of the address space.
    (
        "family_file00000.h5",
        Why::MultiFile,
        Kind::Limit,
        "NCSAfami",
    ),
    (
        "family_file00002.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "family_file00004.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "family_file00006.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "family_file00008.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "family_file00010.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "family_file00012.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "family_file00014.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "family_file00016.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "tfamily00001.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "tfamily00003.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "tfamily00005.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "tfamily00007.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "tfamily00009.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "family_v16-000002.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    // Family member 0 written by HDF5 1.6 without a driver info block: only the end-of-file
    // address (19408 > 5120 bytes) shows the file continues elsewhere.
    (
        "family_v16-000000.h5",
        Why::Truncated,
        Kind::Truncated,
        "superblock (end-of-file address) at offset 0 needs bytes up to 19408",
    ),
    // --- Multi/split driver members: the superblock lives in the "-s.h5" member, absent here.
    (
        "multi_file_v16-r.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "tmulti-l.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "tmulti-r.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    (
        "tsplit_file-r.h5",
        Why::NoSuperblock,
        Kind::NotHdf5,
        "not an HDF5 file",
    ),
    // --- Corrupt files (h5py opens the file but fails on the object named).
    // Symbol table entry name offset 999 in a 176-byte local heap data segment.
    (
        "bad_offset.h5",
        Why::Corrupt,
        Kind::Format,
        "local heap data segment at offset 3136",
    ),
    // Root symbol table message points at address 0 (the superblock) for its local heap;
    // HDF5 1.10+ repairs this from the cached root entry, HDF5 2.0/h5py fail.
    (
        "corrupt_stab_msg.h5",
        Why::Corrupt,
        Kind::Format,
        "local heap at offset 0",
    ),
    // Dataspace message cut short (CVE-2018-14460 reproducer).
    (
        "h5repack_CVE-2018-14460.h5",
        Why::Corrupt,
        Kind::Format,
        "dataspace message at offset 1024",
    ),
    // Layout message of dimensionality 0.
    (
        "h5stat_err_old_layout.h5",
        Why::Corrupt,
        Kind::Format,
        "data layout message at offset 1064",
    ),
    // Fill value message claiming 8 MB of value in a 1.7 KB file (CVE-2018-11206 reproducer).
    (
        "tCVE_2018_11206_fill_new.h5",
        Why::Corrupt,
        Kind::Truncated,
        "fill value message at offset 824",
    ),
    // Object header of version 0 (garbage where the root's header should be).
    (
        "h5clear_fsm_persist_noclose.h5",
        Why::Corrupt,
        Kind::Format,
        "object header at offset 200",
    ),
    // Free-space manager persisted in a file with a metadata cache image message (0x18) in its
    // superblock extension (CVE-2020-10812 reproducer: h5clear_fsm_persist_greater.h5 with the
    // file space info message retyped and the EOF cut to the file length). With a cache image
    // the library keeps metadata in the image instead of at the structures' addresses.
    (
        "cve_2020_10812.h5",
        Why::Unsupported,
        Kind::Format,
        "superblock extension at offset 48: unsupported: metadata cache image",
    ),
    // --- Superblock end-of-file address past the end of the file (HDF5: "truncated file").
    // 96-byte file: superblock only; its driver info block would start at the end of the file.
    (
        "test_subfiling_stripe_sizes.h5",
        Why::Truncated,
        Kind::Truncated,
        "driver information block at offset 96 needs bytes up to 97",
    ),
    // h5clear test files truncated on purpose below their recorded end of file (the second
    // one has a 512-byte userblock).
    (
        "h5clear_fsm_persist_greater.h5",
        Why::Truncated,
        Kind::Truncated,
        "superblock (end-of-file address) at offset 0 needs bytes up to 3048",
    ),
    (
        "h5clear_fsm_persist_user_greater.h5",
        Why::Truncated,
        Kind::Truncated,
        "superblock (end-of-file address) at offset 512 needs bytes up to 4000",
    ),
    // --- Superblock v3 with the "open for write" (0x01) / SWMR-write (0x04) consistency flags:
    // HDF5: "file is already open for write (may use <h5clear file> ...)".
    (
        "h5clear_log_v3.h5",
        Why::NotClosed,
        Kind::Format,
        "superblock at offset 0: unsupported: file consistency flags 0x05",
    ),
    (
        "h5clear_sec2_v3.h5",
        Why::NotClosed,
        Kind::Format,
        "superblock at offset 0: unsupported: file consistency flags 0x05",
    ),
    (
        "latest_h5clear_log_v3.h5",
        Why::NotClosed,
        Kind::Format,
        "superblock at offset 0: unsupported: file consistency flags 0x01",
    ),
];

fn corpus_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("HDF5_CORPUS_DIR").map(PathBuf::from),
        Some(repo().join("../shared/corpus/hdf5-official")),
    ];
    candidates.into_iter().flatten().find(|d| d.is_dir())
}

fn kind_matches(e: &WalkError, k: Kind) -> bool {
    matches!(
        (e, k),
        (WalkError::Format { .. }, Kind::Format)
            | (WalkError::Truncated { .. }, Kind::Truncated)
            | (WalkError::NotHdf5 { .. }, Kind::NotHdf5)
            | (WalkError::Limit { .. }, Kind::Limit)
    )
}

#[test]
fn walker_matches_h5py_on_the_official_corpus() {
    let Some(dir) = corpus_dir() else {
        eprintln!("official corpus not found (set HDF5_CORPUS_DIR): skipped");
        return;
    };
    let exp_dir = repo().join("fixtures/official-expected");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".h5"))
        .collect();
    names.sort();
    let mut problems = Vec::new();
    let (mut walked, mut matched) = (0, 0);
    let mut refused: BTreeMap<Why, usize> = BTreeMap::new();
    for name in &names {
        let expected = read_expectations(&exp_dir.join(format!("{name}.json")))
            .or_else(|| read_expectations(&exp_dir.join(format!("{name}.json.gz"))));
        let Some(expected) = expected else {
            problems.push(format!(
                "{name}: no expectations (run scripts/fixtures/official_expectations.py)"
            ));
            continue;
        };
        let entry = REFUSED.iter().find(|r| r.0 == name);
        match (walk_with_timeout(&dir.join(name), LIMIT), entry) {
            (Outcome::Walked(file), None) => {
                walked += 1;
                if expected["objects"].is_null() {
                    problems.push(format!(
                        "{name}: walked, but h5py cannot open it ({})",
                        expected["h5py_error"]
                    ));
                    continue;
                }
                let found = compare(&file, &expected);
                if found.is_empty() {
                    matched += 1;
                }
                problems.extend(found.into_iter().map(|p| format!("{name}: {p}")));
            }
            (Outcome::Walked(_), Some((_, why, _, _))) => {
                walked += 1;
                problems.push(format!(
                    "{name}: walked, but listed as refused ({})",
                    why.label()
                ));
            }
            (Outcome::Refused(e), Some(&(_, why, kind, text))) => {
                let msg = e.to_string();
                if !kind_matches(&e, kind) || !msg.contains(text) {
                    problems.push(format!(
                        "{name}: refused with {e:?}, expected {kind:?} mentioning {text:?}"
                    ));
                }
                *refused.entry(why).or_default() += 1;
            }
            (Outcome::Refused(e), None) => problems.push(format!("{name}: refused: {e}")),
            (Outcome::TimedOut, _) => {
                problems.push(format!("{name}: walk took longer than {LIMIT:?}"))
            }
        }
    }
    for (name, ..) in REFUSED {
        if !names.iter().any(|n| n == name) {
            problems.push(format!(
                "{name}: in the refusal table but not in the corpus"
            ));
        }
    }
    let reasons: Vec<String> = refused
        .iter()
        .map(|(w, n)| format!("{}: {n}", w.label()))
        .collect();
    println!(
        "official corpus: {walked} walked ({matched} match h5py), {} refused: {}",
        refused.values().sum::<usize>(),
        reasons.join(", ")
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
