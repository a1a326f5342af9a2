//! The OPERA DISP profile on real files: the synthetic products in `fixtures/opera` (written
//! like production by scripts/fixtures/opera_like.py) and small h5py files with other string
//! storages (scripts/testdata/make_opera_profile.py).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hdf5_meta::walk::raw::RawReader;
use hdf5_meta::walk::{walk, IoOptions, LocalFile, RangeReader, WalkOptions};
use kerchunk_refs::profile::opera_disp::{self, parse_datetime_ns, ProfileError};
use kerchunk_refs::zarr::decode_vlen;
use kerchunk_refs::ReferenceSet;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn open(path: &Path) -> (hdf5_meta::model::Hdf5File, RawReader) {
    let reader: Arc<dyn RangeReader> = Arc::new(LocalFile::open(path).unwrap());
    let file = walk(Arc::clone(&reader), WalkOptions::default())
        .await
        .unwrap();
    let raw = RawReader::open(reader, IoOptions::default()).await.unwrap();
    (file, raw)
}

/// `OPERA_..._{ref}_{sec}_v..` → the two datetimes as the product writes them.
fn dates_from_name(name: &str) -> (String, String) {
    let parts: Vec<&str> = name.split('_').collect();
    let fmt = |s: &str| {
        format!(
            "{}-{}-{} {}:{}:{}.000000",
            &s[0..4],
            &s[4..6],
            &s[6..8],
            &s[9..11],
            &s[11..13],
            &s[13..15]
        )
    };
    (fmt(parts[6]), fmt(parts[7]))
}

#[tokio::test]
async fn opera_fixtures() {
    let dir = repo().join("fixtures/opera");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".nc"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 3);
    for name in names {
        let path = dir.join(&name);
        let (file, raw) = open(&path).await;
        let url = format!("s3://final-bucket/disp/{name}");
        let mut refs = ReferenceSet::new();
        refs.set_zgroup("");
        let e = opera_disp::apply(&mut refs, &file, &raw, &url, "v1.0")
            .await
            .unwrap();
        let (r, s) = dates_from_name(&name);
        assert_eq!(
            e.reference_datetime_ns,
            parse_datetime_ns(&r).unwrap(),
            "{name}"
        );
        assert_eq!(
            e.secondary_datetime_ns,
            parse_datetime_ns(&s).unwrap(),
            "{name}"
        );
        assert_eq!(e.bytes, std::fs::metadata(&path).unwrap().len());
        assert_eq!(e.source_file_name, name);
        assert_eq!(e.netcdf_uri, url);
        let sfn = refs.get("source_file_name/0").unwrap().as_inline().unwrap();
        assert_eq!(decode_vlen(sfn).unwrap(), vec![name.as_bytes()]);
    }
}

#[tokio::test]
async fn vlen_and_compact_strings() {
    let (file, raw) = open(&repo().join("crates/kerchunk-refs/tests/data/opera_id_vlen.h5")).await;
    let (r, s) = opera_disp::read_datetimes(&file, &raw).await.unwrap();
    assert_eq!(r, parse_datetime_ns("2016-07-05 14:07:55").unwrap());
    assert_eq!(s, parse_datetime_ns("2016-07-29 14:07:56").unwrap());
}

#[tokio::test]
async fn missing_field_is_named() {
    let (file, raw) =
        open(&repo().join("crates/kerchunk-refs/tests/data/opera_id_missing.h5")).await;
    let err = opera_disp::read_datetimes(&file, &raw).await.unwrap_err();
    assert!(
        matches!(&err, ProfileError::MissingField { field, .. } if field == "identification/secondary_datetime")
    );
    assert!(
        err.to_string()
            .contains("/identification/secondary_datetime"),
        "{err}"
    );
}

#[tokio::test]
async fn malformed_datetime_is_named() {
    let (file, raw) = open(&repo().join("crates/kerchunk-refs/tests/data/opera_id_bad.h5")).await;
    let err = opera_disp::read_datetimes(&file, &raw).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("secondary_datetime") && msg.contains("yesterday"),
        "{msg}"
    );
}
