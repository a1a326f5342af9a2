//! Byte-string variables whose `|S<n>` width differs between inputs (OPERA DISP
//! `identification/source_data_file_list`: `|S149` in one product, `|S299` in another) are
//! widened to the largest width with NUL-padded inline chunks; anything that cannot be padded
//! stays a dtype mismatch. Also the fill value of a string concat coordinate.

#![allow(
    clippy::result_large_err,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use combine::meta::parse_lenient;
use combine::{run, CombineError, CombineOptions, Input, LocalFetcher, MismatchKind, Reference};

fn txt(s: &str) -> Reference {
    Reference::inline(s.as_bytes().to_vec())
}

fn za(shape: &[u64], dtype: &str, fill: &str, filters: &str) -> String {
    format!(
        r#"{{"chunks":{shape:?},"compressor":null,"dtype":"{dtype}","fill_value":{fill},"filters":{filters},"order":"C","shape":{shape:?},"zarr_format":2}}"#
    )
}

/// One input at `time = t` with a 1-D byte-string variable `s` of `n` elements of width
/// `width` (chunk `s/0` is `chunk`) and a scalar byte-string `label`.
fn input(t: f64, width: u64, fill: &str, chunk: Reference, label: &str) -> Input {
    let n = 2u64;
    let refs = vec![
        (".zgroup".to_string(), txt(r#"{"zarr_format":2}"#)),
        ("time/.zarray".into(), txt(&za(&[1], "<f8", "null", "null"))),
        (
            "time/.zattrs".into(),
            txt(r#"{"_ARRAY_DIMENSIONS":["time"]}"#),
        ),
        ("time/0".into(), Reference::inline(t.to_le_bytes().to_vec())),
        (
            "s/.zarray".into(),
            txt(&za(&[n], &format!("|S{width}"), fill, "null")),
        ),
        ("s/.zattrs".into(), txt(r#"{"_ARRAY_DIMENSIONS":["n"]}"#)),
        ("s/0".into(), chunk),
        (
            "label/.zarray".into(),
            txt(&za(&[], &format!("|S{}", label.len()), r#""IA==""#, "null")),
        ),
        ("label/.zattrs".into(), txt(r#"{"_ARRAY_DIMENSIONS":[]}"#)),
        ("label/0".into(), txt(label)),
    ];
    Input::memory(format!("t{t}"), refs)
}

fn combine(inputs: &[Input]) -> Result<BTreeMap<String, Reference>, CombineError> {
    let mut o = CombineOptions::concat(["time"]);
    o.inline_threshold = 0;
    let mut sink: Vec<(String, Reference)> = Vec::new();
    run(inputs, &o, None, &mut sink)?;
    Ok(sink.into_iter().collect())
}

fn json(out: &BTreeMap<String, Reference>, k: &str) -> serde_json::Value {
    parse_lenient(out[k].as_inline().unwrap()).unwrap()
}

#[test]
fn s3_and_s5_are_widened_to_s5_with_nul_padding() {
    // Given in reverse order: t1 (|S5) sorts after t0 (|S3).
    let inputs = [
        input(1.0, 5, r#""IA==""#, txt("hellowide"), "restituted"),
        input(0.0, 3, r#""IA==""#, txt("abcxyz"), "precise"),
    ];
    let out = combine(&inputs).unwrap();
    let z = json(&out, "s/.zarray");
    assert_eq!(z["dtype"], "|S5");
    assert_eq!(z["shape"], serde_json::json!([2, 2]));
    assert_eq!(z["fill_value"], "IA==");
    // t0's two 3-byte elements, each padded to 5 bytes.
    assert_eq!(&out["s/0.0"].as_inline().unwrap()[..], b"abc\0\0xyz\0\0");
    // The widest input's chunk is copied as is.
    assert_eq!(&out["s/1.0"].as_inline().unwrap()[..], b"hellowide");
    // Scalars too (like "precise" / "restituted orbit file").
    assert_eq!(json(&out, "label/.zarray")["dtype"], "|S10");
    assert_eq!(&out["label/0"].as_inline().unwrap()[..], b"precise\0\0\0");
    assert_eq!(&out["label/1"].as_inline().unwrap()[..], b"restituted");
}

#[test]
fn fills_differing_only_in_trailing_nuls_are_equal() {
    // Base64 of 3 and 5 NUL bytes: the same (empty) numpy value.
    let inputs = [
        input(0.0, 3, r#""AAAA""#, txt("abcxyz"), "a"),
        input(1.0, 5, r#""AAAAAAA=""#, txt("hellowide"), "a"),
    ];
    let out = combine(&inputs).unwrap();
    assert_eq!(json(&out, "s/.zarray")["dtype"], "|S5");
    assert_eq!(&out["s/0.0"].as_inline().unwrap()[..], b"abc\0\0xyz\0\0");
}

fn expect_dtype_mismatch(inputs: &[Input], kind: MismatchKind) {
    match combine(inputs).unwrap_err() {
        CombineError::Mismatch { var, kind: k, .. } => {
            assert_eq!(var, "s");
            assert_eq!(k, kind);
        }
        other => panic!("expected a mismatch, got {other}"),
    }
}

#[test]
fn narrower_chunk_in_a_file_is_fetched_and_padded() {
    // With a fetcher, a narrower input's small chunk in a file is read, padded and inlined
    // (the OPERA-like e2e products reference their 349-byte file lists).
    let path = std::env::temp_dir().join(format!("widen-{}.bin", std::process::id()));
    std::fs::write(&path, b"....abcxyz....").unwrap();
    let range = Reference::Range {
        url: Some(Arc::from(format!("file://{}", path.display()))),
        offset: 4,
        length: 6,
    };
    let inputs = [
        input(0.0, 3, r#""IA==""#, range, "a"),
        input(1.0, 5, r#""IA==""#, txt("hellowide"), "a"),
    ];
    let mut o = CombineOptions::concat(["time"]);
    o.inline_threshold = 0;
    let mut sink: Vec<(String, Reference)> = Vec::new();
    let r = run(&inputs, &o, Some(&LocalFetcher::default()), &mut sink);
    let _ = std::fs::remove_file(&path);
    r.unwrap();
    let out: BTreeMap<String, Reference> = sink.into_iter().collect();
    assert_eq!(json(&out, "s/.zarray")["dtype"], "|S5");
    assert_eq!(&out["s/0.0"].as_inline().unwrap()[..], b"abc\0\0xyz\0\0");
}

#[test]
fn narrower_chunk_in_a_file_without_fetcher_is_still_a_mismatch() {
    let range = Reference::Range {
        url: Some(Arc::from("s3://b/f.nc")),
        offset: 100,
        length: 6,
    };
    expect_dtype_mismatch(
        &[
            input(0.0, 3, r#""IA==""#, range, "a"),
            input(1.0, 5, r#""IA==""#, txt("hellowide"), "a"),
        ],
        MismatchKind::Dtype,
    );
}

#[test]
fn the_widest_input_may_reference_a_file() {
    // Only narrower inputs need inline chunks.
    let range = Reference::Range {
        url: Some(Arc::from("s3://b/f.nc")),
        offset: 100,
        length: 10,
    };
    let out = combine(&[
        input(0.0, 3, r#""IA==""#, txt("abcxyz"), "a"),
        input(1.0, 5, r#""IA==""#, range.clone(), "a"),
    ])
    .unwrap();
    assert_eq!(out["s/1.0"], range);
}

#[test]
fn codecs_or_different_fills_are_still_mismatches() {
    // A compressed byte-string variable cannot be padded.
    let mut a: Vec<(String, Reference)> = Vec::new();
    input(0.0, 3, r#""IA==""#, txt("abcxyz"), "a")
        .visit(&mut |k, v| {
            let v = if k == "s/.zarray" {
                txt(&za(
                    &[2],
                    "|S3",
                    r#""IA==""#,
                    r#"[{"id":"zlib","level":4}]"#,
                ))
            } else {
                v.to_reference(&mut |u| Arc::from(u))
            };
            a.push((k.to_string(), v));
            Ok(())
        })
        .unwrap();
    let zlib5 = {
        let mut b: Vec<(String, Reference)> = Vec::new();
        input(1.0, 5, r#""IA==""#, txt("hellowide"), "a")
            .visit(&mut |k, v| {
                let v = if k == "s/.zarray" {
                    txt(&za(
                        &[2],
                        "|S5",
                        r#""IA==""#,
                        r#"[{"id":"zlib","level":4}]"#,
                    ))
                } else {
                    v.to_reference(&mut |u| Arc::from(u))
                };
                b.push((k.to_string(), v));
                Ok(())
            })
            .unwrap();
        Input::memory("t1", b)
    };
    expect_dtype_mismatch(&[Input::memory("t0", a), zlib5], MismatchKind::Dtype);
    // b" " and b"x" are different values.
    expect_dtype_mismatch(
        &[
            input(0.0, 3, r#""IA==""#, txt("abcxyz"), "a"),
            input(1.0, 5, r#""eA==""#, txt("hellowide"), "a"),
        ],
        MismatchKind::FillValue,
    );
}

#[test]
fn inline_chunk_of_partial_elements_is_an_error() {
    let err = combine(&[
        input(0.0, 3, r#""IA==""#, txt("abcxy"), "a"),
        input(1.0, 5, r#""IA==""#, txt("hellowide"), "a"),
    ])
    .unwrap_err();
    assert!(
        matches!(err, CombineError::Layout { ref var, .. } if var == "s"),
        "{err}"
    );
}

#[test]
fn string_coordinate_fill_is_empty_string() {
    // A `source_file_name`-like scalar vlen string with the `0` fill of ASF-made inputs.
    let mk = |name: &str| {
        let mut vlen = 1u32.to_le_bytes().to_vec();
        vlen.extend((name.len() as u32).to_le_bytes());
        vlen.extend(name.as_bytes());
        Input::memory(
            name,
            vec![
                (".zgroup".to_string(), txt(r#"{"zarr_format":2}"#)),
                (
                    "sfn/.zarray".into(),
                    txt(&za(&[], "|O", "0", r#"[{"id":"vlen-utf8"}]"#)),
                ),
                ("sfn/.zattrs".into(), txt(r#"{"_ARRAY_DIMENSIONS":[]}"#)),
                ("sfn/0".into(), Reference::inline(vlen)),
                ("v/.zarray".into(), txt(&za(&[], "<f8", "0.0", "null"))),
                ("v/0".into(), Reference::inline(vec![0u8; 8])),
            ],
        )
    };
    let mut o = CombineOptions::concat(["sfn"]);
    o.inline_threshold = 0;
    let mut sink: Vec<(String, Reference)> = Vec::new();
    run(&[mk("b.nc"), mk("a.nc")], &o, None, &mut sink).unwrap();
    let out: BTreeMap<String, Reference> = sink.into_iter().collect();
    let z = json(&out, "sfn/.zarray");
    assert_eq!(z["dtype"], "<U4");
    assert_eq!(z["fill_value"], "");
}
