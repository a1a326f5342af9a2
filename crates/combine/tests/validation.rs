//! Validation kerchunk lacks, skipping mismatching inputs, inlining through a fetcher, and
//! option errors. Inputs are the committed test inputs plus variants made by
//! `scripts/testdata/make_combine_goldens.py` (`f3_*.json`).

#![allow(
    clippy::result_large_err,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use combine::{
    run, CombineError, CombineOptions, Input, LocalFetcher, MismatchKind, Reference, Selector,
};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/combine")
        .join(name)
}

fn inputs_with(extra: &str) -> Vec<Input> {
    let mut v: Vec<Input> = (0..3)
        .map(|i| Input::file(data(&format!("f{i}.json"))))
        .collect();
    v.push(Input::file(data(extra)));
    v
}

fn opts() -> CombineOptions {
    let mut o = CombineOptions::concat(["time"]);
    o.identical_dims = vec!["x".into(), "static".into()];
    o.inline_threshold = 0;
    o
}

fn combine(
    inputs: &[Input],
    o: &CombineOptions,
) -> Result<(combine::CombineReport, Vec<(String, Reference)>), CombineError> {
    let mut sink = Vec::new();
    run(inputs, o, None, &mut sink).map(|r| (r, sink))
}

fn expect_mismatch(file: &str, kind: MismatchKind, var: &str) {
    let err = combine(&inputs_with(file), &opts()).unwrap_err();
    match &err {
        CombineError::Mismatch {
            var: v,
            kind: k,
            first,
            second,
            ..
        } => {
            assert_eq!(*k, kind, "{err}");
            assert_eq!(v, var, "{err}");
            assert!(first.ends_with("f0.json"), "{err}");
            assert!(second.ends_with(file), "{err}");
        }
        other => panic!("expected a mismatch, got {other}"),
    }
    assert!(err.to_string().contains(var));
}

#[test]
fn chunk_shape_mismatch_like_disp_128_vs_256() {
    // kerchunk raises "Found chunk size mismatch" here too (checked by the golden script).
    expect_mismatch("f3_chunks.json", MismatchKind::ChunkShape, "v");
}

#[test]
fn dtype_mismatch() {
    expect_mismatch("f3_dtype.json", MismatchKind::Dtype, "v");
}

#[test]
fn fill_value_mismatch() {
    expect_mismatch("f3_fill.json", MismatchKind::FillValue, "v");
}

#[test]
fn codec_mismatch() {
    expect_mismatch("f3_codecs.json", MismatchKind::Codecs, "v");
}

#[test]
fn shape_mismatch_outside_concat_dim() {
    // x has 5 entries instead of 4: x is an identical dim, checked too. (The first array in
    // path order that differs is reported; every array on x differs.)
    let err = combine(&inputs_with("f3_shape.json"), &opts()).unwrap_err();
    assert!(
        matches!(
            err,
            CombineError::Mismatch {
                kind: MismatchKind::Shape,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn duplicate_coordinate_values() {
    let err = combine(&inputs_with("f3_dup.json"), &opts()).unwrap_err();
    match &err {
        CombineError::DuplicateCoordinate {
            dim,
            value,
            first,
            second,
        } => {
            assert_eq!(dim, "time");
            assert_eq!(value, "2");
            assert!(
                first.ends_with("f1.json") && second.ends_with("f3_dup.json"),
                "{err}"
            );
        }
        other => panic!("expected a duplicate, got {other}"),
    }
}

#[test]
fn skip_mismatched_reports_and_leaves_out() {
    let mut o = opts();
    o.skip_mismatched = true;
    for file in [
        "f3_chunks.json",
        "f3_dtype.json",
        "f3_fill.json",
        "f3_codecs.json",
        "f3_shape.json",
        "f3_dup.json",
    ] {
        let (report, refs) = combine(&inputs_with(file), &o).unwrap();
        assert_eq!(report.skipped.len(), 1, "{file}");
        assert!(report.skipped[0].input.ends_with(file));
        assert!(report.skipped[0].reason.is_skippable());
        assert_eq!(report.combined.len(), 3);
        // The output equals the combine of the three good inputs.
        let (_, good) = combine(&inputs_with("f0.json")[..3], &opts()).unwrap();
        assert_eq!(refs, good, "{file}");
    }
}

#[test]
fn options_are_checked() {
    let mut o = opts();
    o.identical_dims.push("time".into());
    assert!(matches!(
        combine(&inputs_with("f0.json"), &o),
        Err(CombineError::Options(_))
    ));
    let mut o = opts();
    o.concat_dims.clear();
    assert!(matches!(
        combine(&inputs_with("f0.json"), &o),
        Err(CombineError::Options(_))
    ));
    let mut o = opts();
    o.selectors.insert("other".into(), Selector::Index);
    assert!(matches!(
        combine(&inputs_with("f0.json"), &o),
        Err(CombineError::Options(_))
    ));
    assert!(matches!(
        combine(&[], &opts()),
        Err(CombineError::NoInputs(_))
    ));
}

#[test]
fn selector_errors_name_input_and_dim() {
    let mut o = CombineOptions::concat(["nope"]);
    o.inline_threshold = 0;
    let err = combine(&inputs_with("f0.json"), &o).unwrap_err();
    assert!(
        matches!(&err, CombineError::Selector { dim, input, .. } if dim == "nope" && input.ends_with("f0.json")),
        "{err}"
    );
    o.selectors
        .insert("nope".into(), Selector::parse("attr:missing").unwrap());
    assert!(matches!(
        combine(&inputs_with("f0.json"), &o),
        Err(CombineError::Selector { .. })
    ));
    o.selectors
        .insert("nope".into(), Selector::parse("re:zzz").unwrap());
    assert!(matches!(
        combine(&inputs_with("f0.json"), &o),
        Err(CombineError::Selector { .. })
    ));
    o.selectors
        .insert("nope".into(), Selector::parse("list:[1]").unwrap());
    assert!(matches!(
        combine(&inputs_with("f0.json"), &o),
        Err(CombineError::Selector { .. })
    ));
}

fn doc(time: &[f64], v_chunks: u64, v_keys: &[&str], url: &str) -> Input {
    use base64::Engine as _;
    let t: Vec<u8> = time.iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut refs = serde_json::Map::new();
    refs.insert(".zgroup".into(), r#"{"zarr_format":2}"#.into());
    refs.insert("time/.zarray".into(), format!(r#"{{"shape":[{n}],"chunks":[{n}],"dtype":"<f8","fill_value":null,"order":"C","filters":null,"compressor":null,"zarr_format":2}}"#, n = time.len()).into());
    refs.insert(
        "time/.zattrs".into(),
        r#"{"_ARRAY_DIMENSIONS":["time"]}"#.into(),
    );
    refs.insert(
        "time/0".into(),
        format!(
            "base64:{}",
            base64::engine::general_purpose::STANDARD.encode(t)
        )
        .into(),
    );
    refs.insert("v/.zarray".into(), format!(r#"{{"shape":[{n}],"chunks":[{v_chunks}],"dtype":"<i2","fill_value":0,"order":"C","filters":null,"compressor":null,"zarr_format":2}}"#, n = time.len()).into());
    refs.insert(
        "v/.zattrs".into(),
        r#"{"_ARRAY_DIMENSIONS":["time"]}"#.into(),
    );
    for (i, k) in v_keys.iter().enumerate() {
        refs.insert(format!("v/{k}"), serde_json::json!([url, 2 * i as u64, 2]));
    }
    let d = serde_json::json!({"version": 1, "refs": refs});
    Input::bytes(
        format!("doc{}", time.first().copied().unwrap_or(0.0)),
        serde_json::to_vec(&d).unwrap(),
    )
}

#[test]
fn misaligned_and_partial_chunks_are_errors() {
    let mut o = CombineOptions::concat(["time"]);
    o.inline_threshold = 0;
    // Input 1 starts at index 1 with chunk 2 (input 0 has no `v`): its chunk 0 would be
    // written at output chunk 0 and hold time indices 0..2, shifted by one.
    let no_v = Input::bytes("no_v", br#"{"version":1,"refs":{"time/.zarray":"{\"shape\":[1],\"chunks\":[1],\"dtype\":\"<f8\"}","time/.zattrs":"{\"_ARRAY_DIMENSIONS\":[\"time\"]}","time/0":"base64:AAAAAAAAAAA="}}"#.to_vec());
    let err = combine(&[no_v, doc(&[1.0, 2.0], 2, &["0"], "b")], &o).unwrap_err();
    assert!(
        matches!(&err, CombineError::Layout { var, .. } if var == "v"),
        "{err}"
    );
    assert!(
        err.to_string().contains("multiple of its chunk size"),
        "{err}"
    );
    // A partial last chunk followed by another input.
    let err = combine(
        &[
            doc(&[0.0, 1.0, 2.0], 2, &["0", "1"], "a"),
            doc(&[3.0, 4.0], 2, &["0"], "b"),
        ],
        &o,
    )
    .unwrap_err();
    assert!(err.to_string().contains("partial"), "{err}");
    // Interleaved coordinates.
    let err = combine(
        &[
            doc(&[0.0, 2.0], 2, &["0"], "a"),
            doc(&[1.0, 3.0], 2, &["0"], "b"),
        ],
        &o,
    )
    .unwrap_err();
    assert!(err.to_string().contains("interleaved"), "{err}");
    // Chunk key outside the grid, and a malformed key.
    let err = combine(
        &[doc(&[0.0], 1, &["5"], "a"), doc(&[1.0], 1, &["0"], "b")],
        &o,
    )
    .unwrap_err();
    assert!(err.to_string().contains("outside"), "{err}");
    let err = combine(
        &[doc(&[0.0], 1, &["x"], "a"), doc(&[1.0], 1, &["0"], "b")],
        &o,
    )
    .unwrap_err();
    assert!(err.to_string().contains("bad chunk key"), "{err}");
    // The good case: partial chunk only at the end.
    let (_, refs) = combine(
        &[
            doc(&[0.0, 1.0], 2, &["0"], "a"),
            doc(&[2.0, 3.0, 4.0], 2, &["0", "1"], "b"),
        ],
        &o,
    )
    .unwrap();
    let keys: Vec<&str> = refs
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| k.starts_with("v/") && !k.contains(".z"))
        .collect();
    assert_eq!(keys, ["v/0", "v/1", "v/2"]);
}

#[test]
fn null_urls_are_rejected() {
    let mut o = CombineOptions::concat(["time"]);
    o.inline_threshold = 0;
    let err = combine(&[doc(&[0.0], 1, &["0"], "a"), Input::bytes("n", br#"{"version":1,"refs":{"time/.zarray":"{\"shape\":[1],\"chunks\":[1],\"dtype\":\"<f8\"}","time/0":"base64:AAAAAAAA8D8=","v/.zarray":"{\"shape\":[1],\"chunks\":[1],\"dtype\":\"<i2\",\"fill_value\":0}","v/.zattrs":"{\"_ARRAY_DIMENSIONS\":[\"time\"]}","v/0":[null,0,2]}}"#.to_vec())], &o).unwrap_err();
    assert!(
        matches!(&err, CombineError::InvalidRef { key, .. } if key == "v/0"),
        "{err}"
    );
}

#[test]
fn small_chunks_are_inlined_with_a_fetcher() {
    let dir = std::env::temp_dir().join(format!("combine-inline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.bin"), [1u8, 0, 2, 0]).unwrap();
    std::fs::write(dir.join("b.bin"), [3u8, 0, 4, 0]).unwrap();
    let a = dir.join("a.bin").display().to_string();
    let b = dir.join("b.bin").display().to_string();
    let mut o = CombineOptions::concat(["time"]);
    o.inline_threshold = 3; // chunks are 2 bytes
    let inputs = [doc(&[0.0], 1, &["0"], &a), doc(&[1.0], 1, &["0"], &b)];
    let mut sink: Vec<(String, Reference)> = Vec::new();
    let report = run(&inputs, &o, Some(&LocalFetcher::default()), &mut sink).unwrap();
    assert_eq!(report.inlined, 2);
    let get = |k: &str| {
        sink.iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(&get("v/0").as_inline().unwrap()[..], &[1u8, 0]);
    assert_eq!(&get("v/1").as_inline().unwrap()[..], &[3u8, 0]);
    // Threshold 2 is not > 2 bytes: references stay (kerchunk compares with `<`).
    o.inline_threshold = 2;
    let mut sink2: Vec<(String, Reference)> = Vec::new();
    run(&inputs, &o, Some(&LocalFetcher::default()), &mut sink2).unwrap();
    assert!(sink2
        .iter()
        .any(|(k, v)| k == "v/0" && v.as_inline().is_none()));
    // A missing file fails naming input, key and URL.
    let bad = [
        doc(&[0.0], 1, &["0"], &a),
        doc(&[1.0], 1, &["0"], "/nonexistent/file"),
    ];
    o.inline_threshold = 3;
    let err = run(&bad, &o, Some(&LocalFetcher::default()), &mut Vec::new()).unwrap_err();
    assert!(
        matches!(&err, CombineError::Fetch { key, .. } if key == "v/1"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn huge_file_supplied_shapes_do_not_panic() {
    let mut o = CombineOptions::concat(["time"]);
    o.inline_threshold = 0;
    let mk = |t: &str| {
        Input::bytes(
            t.to_string(),
            format!(
                r#"{{"version":1,"refs":{{"time/.zarray":"{{\"shape\":[1],\"chunks\":[1],\"dtype\":\"<f8\"}}","time/0":"{t}","v/.zarray":"{{\"shape\":[18446744073709551615,18446744073709551615],\"chunks\":[1,1],\"dtype\":\"<f4\"}}","v/.zattrs":"{{\"_ARRAY_DIMENSIONS\":[\"a\",\"b\"]}}","v/5.18446744073709551614":["f",0,1]}}}}"#
            )
            .into_bytes(),
        )
    };
    // Two inputs with 8-byte inline times.
    let r = combine(&[mk("base64:AAAAAAAAAAA="), mk("base64:AAAAAAAA8D8=")], &o);
    assert!(r.is_ok(), "{:?}", r.err());
    let mut o2 = o.clone();
    o2.coord_dtypes
        .insert("time".into(), combine::NpType::parse("M8[ns]").unwrap());
    o2.selectors.insert(
        "time".into(),
        Selector::parse("const:\"99999999999999999999999\"").unwrap(),
    );
    assert!(combine(&[mk("base64:AAAAAAAAAAA=")], &o2).is_err());
}
