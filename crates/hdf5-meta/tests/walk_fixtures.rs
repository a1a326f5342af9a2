//! The walker against h5py: every fixture under `fixtures/` is walked and each object is
//! compared with what h5py reported about it (`fixtures/expected/*.json`, written by
//! `scripts/fixtures/generate.py` with h5py 3.16 / HDF5 2.0); see `common::compare`.

mod common;

use std::time::Duration;

use common::{compare, read_expectations, repo, walk_with_timeout, Outcome};

/// Files that are refused on purpose, with the reason the error must mention.
const REFUSED: &[(&str, &str)] = &[
    // Family-driver files map one address space onto several member files: chunk offsets
    // would not be positions in the file named by the reference.
    ("family_earliest_0.h5", "NCSAfami"),
    ("family_latest_0.h5", "NCSAfami"),
];

#[test]
fn walker_matches_h5py_on_every_fixture() {
    let mut problems = Vec::new();
    let mut walked = 0;
    for (dir, exp_dir) in [
        ("fixtures/h5", "fixtures/expected"),
        ("fixtures/opera", "fixtures/opera/expected"),
    ] {
        let mut entries: Vec<_> = std::fs::read_dir(repo().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for h5 in entries {
            let name = h5.file_name().unwrap().to_string_lossy().to_string();
            let Some(expected) =
                read_expectations(&repo().join(exp_dir).join(format!("{name}.json")))
            else {
                continue;
            };
            match walk_with_timeout(&h5, Duration::from_secs(60)) {
                Outcome::Walked(file) => {
                    walked += 1;
                    problems.extend(
                        compare(&file, &expected)
                            .into_iter()
                            .map(|p| format!("{name}: {p}")),
                    );
                }
                Outcome::Refused(e) => match REFUSED.iter().find(|(n, _)| *n == name) {
                    Some((_, why)) => assert!(
                        e.to_string().contains(why),
                        "{name}: refused with {e}, expected mention of {why}"
                    ),
                    None => problems.push(format!("{name}: walk failed: {e}")),
                },
                Outcome::TimedOut => problems.push(format!("{name}: walk timed out")),
            }
        }
    }
    assert!(walked > 50, "only {walked} fixtures walked");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
