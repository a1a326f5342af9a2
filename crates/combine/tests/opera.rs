//! The OPERA DISP profile on small DISP-like per-file reference sets (the key layout of
//! opera-disp-and-ecosystem.md §1.11–1.12 on a 4×6 grid). Expected structure from the ASF
//! stack observed with kerchunk (§1.12): `source_file_name` becomes a sorted `<U` coordinate,
//! per-file scalars and `corrections/*` get it prepended, `x`/`y` are shared, the orbit
//! vectors, `displacement` and `time` are filtered out.

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
use combine::{run, CombineError, Input, MismatchKind, Reference, OPERA_DISP};

fn za(shape: &[u64], chunks: &[u64], dtype: &str, fill: &str, filters: &str) -> String {
    format!(
        r#"{{"chunks":{chunks:?},"compressor":null,"dtype":"{dtype}","fill_value":{fill},"filters":{filters},"order":"C","shape":{shape:?},"zarr_format":2}}"#
    )
}

fn vlen(s: &str) -> Vec<u8> {
    let mut v = 1u32.to_le_bytes().to_vec();
    v.extend((s.len() as u32).to_le_bytes());
    v.extend(s.as_bytes());
    v
}

/// A DISP-like input; `chunk` is the layer chunk edge (2 = "128²", 4 = "256²").
fn disp(sec_date: &str, chunk: u64, orbit_len: u64) -> Input {
    let name = format!("OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_{sec_date}T140756Z_v1.0_20250408T163512Z.nc");
    let url: Arc<str> = Arc::from(format!("s3://bucket/{name}"));
    let mut refs: Vec<(String, Reference)> = Vec::new();
    let mut put = |k: &str, v: Reference| refs.push((k.to_string(), v));
    let txt = |s: String| Reference::inline(s.into_bytes());
    let mut off = 0u64;
    let mut rng = |len: u64| {
        off += len;
        Reference::Range {
            url: Some(Arc::clone(&url)),
            offset: off,
            length: len,
        }
    };
    let shuffle = r#"[{"elementsize":4,"id":"shuffle"},{"id":"zlib","level":4}]"#;
    put(".zgroup", txt(r#"{"zarr_format":2}"#.into()));
    put(
        ".zattrs",
        txt(r#"{"Conventions":"CF-1.8","title":"OPERA_L3_DISP-S1 Product"}"#.into()),
    );
    for (n, len) in [("y", 4u64), ("x", 6)] {
        put(
            &format!("{n}/.zarray"),
            txt(za(&[len], &[len], "<f8", "null", "null")),
        );
        put(
            &format!("{n}/.zattrs"),
            txt(format!(r#"{{"_ARRAY_DIMENSIONS":["{n}"],"units":"m"}}"#)),
        );
        put(&format!("{n}/0"), rng(8 * len));
        put(
            &format!("corrections/{n}/.zarray"),
            txt(za(&[len], &[len], "<f8", "null", "null")),
        );
        put(
            &format!("corrections/{n}/.zattrs"),
            txt(format!(r#"{{"_ARRAY_DIMENSIONS":["corrections/{n}"]}}"#)),
        );
        put(&format!("corrections/{n}/0"), rng(8 * len));
    }
    put("time/.zarray", txt(za(&[1], &[1], "<f8", "null", "null")));
    put(
        "time/.zattrs",
        txt(r#"{"_ARRAY_DIMENSIONS":["time"]}"#.into()),
    );
    put("time/0", Reference::inline(1.0f64.to_le_bytes().to_vec()));
    put(
        "spatial_ref/.zarray",
        txt(za(&[], &[], "<i8", "null", "null")),
    );
    put(
        "spatial_ref/.zattrs",
        txt(r#"{"_ARRAY_DIMENSIONS":[],"GeoTransform":"0 30 0 0 0 -30"}"#.into()),
    );
    put("spatial_ref/0", Reference::inline(vec![0u8; 8]));
    for layer in [
        "short_wavelength_displacement",
        "displacement",
        "corrections/ionospheric_delay",
    ] {
        let dims = if layer.starts_with("corrections") {
            r#"["corrections/y","corrections/x"]"#
        } else {
            r#"["y","x"]"#
        };
        put(
            &format!("{layer}/.zarray"),
            txt(za(&[4, 6], &[chunk, chunk], "<f4", "\"NaN\"", shuffle)),
        );
        put(
            &format!("{layer}/.zattrs"),
            txt(format!(
                r#"{{"_ARRAY_DIMENSIONS":{dims},"units":"meters"}}"#
            )),
        );
        for i in 0..4u64.div_ceil(chunk) {
            for j in 0..6u64.div_ceil(chunk) {
                put(&format!("{layer}/{i}.{j}"), rng(1000 + i * 10 + j));
            }
        }
    }
    put("corrections/.zgroup", txt(r#"{"zarr_format":2}"#.into()));
    put(
        "corrections/.zattrs",
        txt(format!(r#"{{"description":"{sec_date}"}}"#)),
    );
    put("identification/.zgroup", txt(r#"{"zarr_format":2}"#.into()));
    put(
        "identification/frame_id/.zarray",
        txt(za(&[], &[], "<i8", "null", "null")),
    );
    put(
        "identification/frame_id/0",
        Reference::inline(11116i64.to_le_bytes().to_vec()),
    );
    put("metadata/.zgroup", txt(r#"{"zarr_format":2}"#.into()));
    put(
        "metadata/reference_orbit/.zgroup",
        txt(r#"{"zarr_format":2}"#.into()),
    );
    put(
        "metadata/reference_orbit/orbit_type/.zarray",
        txt(za(&[], &[], "|S10", "\"IA==\"", "null")),
    );
    put(
        "metadata/reference_orbit/orbit_type/0",
        txt("precise   ".into()),
    );
    put(
        "metadata/reference_orbit/position_x/.zarray",
        txt(za(&[orbit_len], &[orbit_len], "<f8", "0.0", "null")),
    );
    put(
        "metadata/reference_orbit/position_x/.zattrs",
        txt(r#"{"_ARRAY_DIMENSIONS":["phony_dim_0"]}"#.into()),
    );
    put("metadata/reference_orbit/position_x/0", rng(8 * orbit_len));
    let vl = r#"[{"id":"vlen-utf8"}]"#;
    put("source_file_name/.zarray", txt(za(&[], &[], "|O", "0", vl)));
    put(
        "source_file_name/.zattrs",
        txt(r#"{"_ARRAY_DIMENSIONS":[]}"#.into()),
    );
    put("source_file_name/0", Reference::inline(vlen(&name)));
    put("bytes/.zarray", txt(za(&[], &[], "<f8", "0.0", "null")));
    put("bytes/.zattrs", txt(r#"{"_ARRAY_DIMENSIONS":[]}"#.into()));
    put(
        "bytes/0",
        Reference::inline(1.0e8f64.to_le_bytes().to_vec()),
    );
    Input::memory(name, refs)
}

fn combine(inputs: &[Input]) -> Result<BTreeMap<String, Reference>, CombineError> {
    let mut o = OPERA_DISP.options();
    o.inline_threshold = 0;
    let mut sink: Vec<(String, Reference)> = Vec::new();
    run(inputs, &o, None, &mut sink)?;
    Ok(sink.into_iter().collect())
}

fn json(out: &BTreeMap<String, Reference>, k: &str) -> serde_json::Value {
    parse_lenient(out[k].as_inline().unwrap()).unwrap()
}

#[test]
fn asf_stack_structure() {
    // Orbit vectors of different lengths: filtered out by the profile, so no mismatch.
    let inputs = [
        disp("20160810", 4, 13),
        disp("20160729", 4, 14),
        disp("20160822", 4, 15),
    ];
    let out = combine(&inputs).unwrap();
    let names: Vec<String> = inputs.iter().map(|i| i.name().to_string()).collect();
    let mut sorted = names.clone();
    sorted.sort();

    let sfn = json(&out, "source_file_name/.zarray");
    assert_eq!(sfn["shape"], serde_json::json!([3]));
    assert_eq!(
        sfn["dtype"],
        serde_json::json!(format!("<U{}", names[0].len()))
    );
    // The inputs' `|O` fill 0 is not a string: "" as kerchunk writes (zarr 3 rejects 0).
    assert_eq!(sfn["fill_value"], serde_json::json!(""));
    // The coordinate holds the sorted names as UCS-4.
    let data = out["source_file_name/0"].as_inline().unwrap();
    let text: String = data
        .chunks(4)
        .map(|c| char::from_u32(u32::from_le_bytes([c[0], c[1], c[2], c[3]])).unwrap())
        .collect();
    assert_eq!(text, sorted.concat());
    assert_eq!(
        json(&out, "source_file_name/.zattrs")["_ARRAY_DIMENSIONS"],
        serde_json::json!(["source_file_name"])
    );

    let swd = json(&out, "short_wavelength_displacement/.zarray");
    assert_eq!(swd["shape"], serde_json::json!([3, 4, 6]));
    assert_eq!(swd["chunks"], serde_json::json!([1, 4, 4]));
    assert_eq!(
        json(&out, "short_wavelength_displacement/.zattrs")["_ARRAY_DIMENSIONS"],
        serde_json::json!(["source_file_name", "y", "x"])
    );
    // Input 20160729 (second given) sorts first.
    match &out["short_wavelength_displacement/0.0.1"] {
        Reference::Range { url, .. } => assert!(url.as_deref().unwrap().contains("20160729")),
        other => panic!("{other:?}"),
    }
    assert!(out.contains_key("short_wavelength_displacement/2.0.1"));
    // Scalars and group coordinates are stacked.
    assert_eq!(
        json(&out, "identification/frame_id/.zarray")["shape"],
        serde_json::json!([3])
    );
    assert_eq!(
        json(&out, "bytes/.zarray")["chunks"],
        serde_json::json!([1])
    );
    assert_eq!(
        json(&out, "corrections/x/.zarray")["shape"],
        serde_json::json!([3, 6])
    );
    assert_eq!(
        json(&out, "spatial_ref/.zarray")["shape"],
        serde_json::json!([3])
    );
    assert!(out.contains_key("metadata/reference_orbit/orbit_type/2"));
    // x and y are shared, from the first input in coordinate order.
    assert_eq!(json(&out, "x/.zarray")["shape"], serde_json::json!([6]));
    match &out["x/0"] {
        Reference::Range { url, .. } => assert!(url.as_deref().unwrap().contains("20160729")),
        other => panic!("{other:?}"),
    }
    // Group attributes come from the last input.
    assert_eq!(
        json(&out, "corrections/.zattrs")["description"],
        serde_json::json!("20160822")
    );
    // Filtered out.
    for k in out.keys() {
        assert!(
            !k.starts_with("displacement") && !k.starts_with("time") && !k.contains("position_x"),
            "{k}"
        );
    }
}

#[test]
fn mixed_128_and_256_chunks_are_caught() {
    let inputs = [disp("20160729", 2, 13), disp("20160810", 4, 13)];
    match combine(&inputs).unwrap_err() {
        CombineError::Mismatch {
            var,
            kind,
            first,
            second,
            ..
        } => {
            assert_eq!(kind, MismatchKind::ChunkShape);
            assert!(
                var == "corrections/ionospheric_delay" || var == "short_wavelength_displacement",
                "{var}"
            );
            assert!(first.contains("20160729") && second.contains("20160810"));
        }
        other => panic!("{other}"),
    }
    // With skip_mismatched the odd one out is reported and the rest combined.
    let mut o = OPERA_DISP.options();
    o.inline_threshold = 0;
    o.skip_mismatched = true;
    let inputs = [
        disp("20160729", 2, 13),
        disp("20160810", 4, 13),
        disp("20160822", 4, 13),
    ];
    let mut sink: Vec<(String, Reference)> = Vec::new();
    let report = run(&inputs, &o, None, &mut sink).unwrap();
    // When skipping, the most common chunking wins: the early 128² product is left out.
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0].input.contains("20160729"));
    assert_eq!(report.combined.len(), 2);
}

#[test]
fn unfiltered_orbit_lengths_are_a_shape_mismatch() {
    let inputs = [disp("20160729", 4, 13), disp("20160810", 4, 14)];
    let mut o = OPERA_DISP.options();
    o.filter = combine::KeyFilter::default();
    o.inline_threshold = 0;
    let err = run(&inputs, &o, None, &mut Vec::new()).unwrap_err();
    assert!(
        matches!(&err, CombineError::Mismatch { var, kind: MismatchKind::Shape, .. } if var == "metadata/reference_orbit/position_x"),
        "{err}"
    );
}
