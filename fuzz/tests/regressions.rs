//! Replays every input under `regressions/<target>/` (crashes found by fuzzing, kept after
//! their fix) through the same driver the fuzz target uses. Run with the fuzzing cfg so that
//! checksums are not verified, exactly as in the fuzz build:
//!
//! ```sh
//! RUSTFLAGS="--cfg fuzzing" cargo test --manifest-path fuzz/Cargo.toml --no-default-features
//! ```

use std::path::Path;

#[test]
fn every_regression_input_runs_without_panicking() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut replayed = 0;
    for dir in std::fs::read_dir(&root).expect("fuzz/regressions exists") {
        let dir = dir.expect("directory entry");
        let target = dir.file_name().to_string_lossy().into_owned();
        assert!(
            kerchunk_rs_fuzz::TARGETS.contains(&target.as_str()),
            "fuzz/regressions/{target}: no such fuzz target"
        );
        for file in std::fs::read_dir(dir.path()).expect("target directory") {
            let path = file.expect("directory entry").path();
            let data = std::fs::read(&path).expect("regression input");
            eprintln!("replaying {}", path.display());
            kerchunk_rs_fuzz::run(&target, &data);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no regression inputs found under {}", root.display());
}

/// The checksum bypass the fuzz build relies on must be active here too, or inputs that were
/// mutated behind a checksum would stop at the checksum and replay nothing.
#[test]
fn built_with_the_fuzzing_cfg() {
    assert!(
        cfg!(fuzzing),
        "run with RUSTFLAGS=\"--cfg fuzzing\" (see the module documentation)"
    );
}
