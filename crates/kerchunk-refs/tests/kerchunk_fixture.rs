//! Reads real kerchunk 0.2.10 output (tests/data, made by scripts/testdata/make_kerchunk_refs.py)
//! and checks every key resolves to the bytes fsspec's ReferenceFileSystem returned for it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use kerchunk_refs::zarr::{fill_float, Codec, DType, ZArray};
use kerchunk_refs::{read_reference_set, RefValue, ReferenceSet, WriteOptions};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Resolves a reference to bytes; URLs are relative to tests/data, as in the script.
fn resolve(v: &RefValue, nc: &[u8]) -> Vec<u8> {
    match v {
        RefValue::Inline(b) => b.to_vec(),
        RefValue::Whole { url } => {
            assert_eq!(url.as_deref(), Some("tiny.nc"));
            nc.to_vec()
        }
        RefValue::Range {
            url,
            offset,
            length,
        } => {
            assert_eq!(url.as_deref(), Some("tiny.nc"));
            let start = usize::try_from(*offset).unwrap();
            let end = start + usize::try_from(*length).unwrap();
            nc[start..end].to_vec()
        }
    }
}

fn expected() -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read(data("tiny_expected.json")).unwrap();
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&text).unwrap();
    v.into_iter()
        .map(|(k, b64)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.as_str().unwrap())
                .unwrap();
            (k, bytes)
        })
        .collect()
}

fn check_against_fsspec(set: &ReferenceSet) {
    let nc = std::fs::read(data("tiny.nc")).unwrap();
    let expected = expected();
    assert_eq!(set.len(), expected.len());
    for (key, bytes) in &expected {
        let v = set.get(key).unwrap_or_else(|| panic!("missing {key}"));
        assert_eq!(&resolve(v, &nc), bytes, "{key}");
    }
}

#[test]
fn kerchunk_output_matches_fsspec() {
    let set = read_reference_set(&std::fs::read(data("tiny.json")).unwrap()).unwrap();
    check_against_fsspec(&set);
    // A few concrete values (see the script and tiny.json).
    assert_eq!(
        set.get("big/0.0"),
        Some(&RefValue::range(Some("tiny.nc".into()), 18331, 1280))
    );
    assert_eq!(
        set.get("chars/0.0")
            .and_then(RefValue::as_inline)
            .unwrap()
            .as_ref(),
        b"abcde\0f\0\0ghi"
    );
    assert_eq!(
        set.get("rawbytes/0")
            .and_then(RefValue::as_inline)
            .unwrap()
            .as_ref(),
        &[0xff, 0xfe, 0x80]
    );
    // kerchunk's JSON-minification bug (kerchunk-behavior.md §1.4): b"1.50" came out as "1.5";
    // fsspec returns those 3 bytes and so do we.
    assert_eq!(
        set.get("jsonish/0")
            .and_then(RefValue::as_inline)
            .unwrap()
            .as_ref(),
        b"1.5"
    );
    // Metadata parses with our zarr types and matches what we would build.
    let temp = set.zarray("temp").unwrap().unwrap();
    let mut want = ZArray::new(vec![3, 4, 5], vec![1, 2, 5], DType::simple("<f4"));
    want.fill_value = fill_float(-999.0);
    want.set_filters(&[Codec::Shuffle { elementsize: 4 }, Codec::Zlib { level: 4 }]);
    assert_eq!(temp, want);
    assert_eq!(
        temp.grid().unwrap().keys("temp").collect::<Vec<_>>(),
        set.keys()
            .filter(|k| k.starts_with("temp/0")
                || k.starts_with("temp/1")
                || k.starts_with("temp/2"))
            .collect::<Vec<_>>()
    );
    let scalar = set.zarray("scalar").unwrap().unwrap();
    assert!(scalar.shape.is_empty());
    assert!(set.contains_key("scalar/0"));
    let attrs = set.zattrs("").unwrap().unwrap();
    assert_eq!(attrs["title"], "tiny kerchunk fixture é/ü");
    let gv = set.zattrs("grp/gv").unwrap().unwrap();
    assert_eq!(gv["_ARRAY_DIMENSIONS"], serde_json::json!(["grp/z", "lat"]));
    for path in set.array_paths() {
        set.zarray(path).unwrap().unwrap().validate().unwrap();
    }
}

#[test]
fn version0_gzip_and_templated_variants() {
    let v0 = read_reference_set(&std::fs::read(data("tiny_v0.json.gz")).unwrap()).unwrap();
    check_against_fsspec(&v0);
    let templated =
        read_reference_set(&std::fs::read(data("tiny_templated.json")).unwrap()).unwrap();
    check_against_fsspec(&templated);
}

#[test]
fn rewrite_preserves_every_byte() {
    let set = read_reference_set(&std::fs::read(data("tiny.json")).unwrap()).unwrap();
    for gzip in [false, true] {
        let opts = WriteOptions {
            gzip,
            ..WriteOptions::default()
        };
        let out = kerchunk_refs::write_reference_set(&set, Vec::new(), &opts).unwrap();
        let back = read_reference_set(&out).unwrap();
        assert_eq!(back, set);
        check_against_fsspec(&back);
    }
}
