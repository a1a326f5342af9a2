//! Combines the committed inputs and compares with kerchunk 0.2.10 `MultiZarrToZarr` output
//! made by `scripts/testdata/make_combine_goldens.py` (semantic comparison: metadata as JSON
//! values, inline data as bytes, file references as (url, offset, length)).

#![allow(
    clippy::result_large_err,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use combine::meta::parse_lenient;
use combine::{run, CombineOptions, Input, NpType, Reference, Selector};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/combine")
        .join(name)
}

fn inputs() -> Vec<Input> {
    (0..3)
        .map(|i| Input::file(data(&format!("f{i}.json"))))
        .collect()
}

fn load(path: PathBuf) -> BTreeMap<String, Reference> {
    let mut out = BTreeMap::new();
    Input::file(path)
        .visit(&mut |k, v| {
            out.insert(k.to_string(), v.to_reference(&mut |s| s.into()));
            Ok(())
        })
        .unwrap();
    out
}

fn combine(inputs: &[Input], opts: &CombineOptions) -> BTreeMap<String, Reference> {
    let mut sink: Vec<(String, Reference)> = Vec::new();
    run(inputs, opts, None, &mut sink).unwrap();
    let n = sink.len();
    let map: BTreeMap<_, _> = sink.into_iter().collect();
    assert_eq!(map.len(), n, "a key was written twice");
    map
}

fn is_meta(k: &str) -> bool {
    k.ends_with(".zarray") || k.ends_with(".zattrs") || k.ends_with(".zgroup")
}

/// Compares with the golden; `ignore_attrs` lists (key, attribute) pairs that differ by design.
fn check(case: &str, ours: &BTreeMap<String, Reference>, ignore_attrs: &[(&str, &str)]) {
    let golden = load(data(&format!("{case}.golden.json")));
    let gk: Vec<_> = golden.keys().collect();
    let ok: Vec<_> = ours.keys().collect();
    assert_eq!(gk, ok, "{case}: key sets differ");
    for (k, g) in &golden {
        let o = &ours[k];
        if is_meta(k) {
            let mut gv = parse_lenient(g.as_inline().unwrap()).unwrap();
            let ov = parse_lenient(o.as_inline().unwrap()).unwrap();
            for (ik, attr) in ignore_attrs {
                if ik == k {
                    gv.as_object_mut().unwrap().remove(*attr);
                }
            }
            assert_eq!(gv, ov, "{case}: {k}");
        } else {
            assert_eq!(g, o, "{case}: {k}");
        }
    }
}

fn opts(dims: &[&str], identical: &[&str]) -> CombineOptions {
    let mut o = CombineOptions::concat(dims.iter().copied());
    o.identical_dims = identical.iter().map(|s| s.to_string()).collect();
    o.inline_threshold = 0;
    o
}

fn with_sel(mut o: CombineOptions, dim: &str, sel: &str) -> CombineOptions {
    o.selectors
        .insert(dim.into(), Selector::parse(sel).unwrap());
    o
}

#[test]
fn existing_dim_data_selector() {
    // kerchunk-behavior.md §3.6: v/0.0…v/5.0, small/0..2, run sparse at 0,2,4, only_some gap.
    let out = combine(&inputs(), &opts(&["time"], &["x", "static"]));
    check("time", &out, &[]);
}

#[test]
fn new_dim_from_root_attribute() {
    let o = with_sel(
        opts(&["member"], &["x", "static", "time"]),
        "member",
        "attr:file_index",
    );
    check("attr_member", &combine(&inputs(), &o), &[]);
}

#[test]
fn scalar_variable_as_new_dim() {
    check(
        "scalar_run",
        &combine(&inputs(), &opts(&["run"], &["x", "static"])),
        &[],
    );
}

#[test]
fn fixed_bytes_scalar_sorts_inputs() {
    // Inputs given as bravo, alpha, charl; output in alpha, bravo, charl order.
    check(
        "label_bytes",
        &combine(&inputs(), &opts(&["label"], &["x", "static"])),
        &[],
    );
}

#[test]
fn vlen_utf8_scalar_like_source_file_name() {
    check(
        "vlen_name",
        &combine(&inputs(), &opts(&["name"], &["x", "static"])),
        &[],
    );
}

#[test]
fn regex_on_file_name() {
    let o = with_sel(
        opts(&["n"], &["x", "static", "time"]),
        "n",
        r"re:f(\d)\.json",
    );
    check("regex", &combine(&inputs(), &o), &[]);
}

#[test]
fn cf_time_reencoded() {
    let o = with_sel(opts(&["time"], &["x", "static"]), "time", "cf:time");
    check("cf_time", &combine(&inputs(), &o), &[]);
}

#[test]
fn cf_time_as_datetime64() {
    let mut o = with_sel(opts(&["time"], &["x", "static"]), "time", "cf:time");
    o.coord_dtypes
        .insert("time".into(), NpType::parse("M8[s]").unwrap());
    // kerchunk means to drop units/calendar for a datetime64 coordinate but keeps them
    // (kerchunk-behavior.md §3.4); this combiner drops them.
    let out = combine(&inputs(), &o);
    check(
        "cf_time_m8",
        &out,
        &[("time/.zattrs", "units"), ("time/.zattrs", "calendar")],
    );
}

#[test]
fn explicit_list() {
    let o = with_sel(
        opts(&["ens"], &["x", "static", "time"]),
        "ens",
        "list:[30,10,20]",
    );
    check("list", &combine(&inputs(), &o), &[]);
}

#[test]
fn input_index() {
    let o = with_sel(opts(&["ens"], &["x", "static", "time"]), "ens", "INDEX");
    check("index", &combine(&inputs(), &o), &[]);
}

#[test]
fn variable_attribute() {
    let o = with_sel(
        opts(&["lev"], &["x", "static", "time"]),
        "lev",
        "vattr:v:level",
    );
    check("vattr", &combine(&inputs(), &o), &[]);
}

#[test]
fn coordinate_dtype_cast() {
    let mut o = with_sel(opts(&["n"], &["x", "static", "time"]), "n", "list:[3,1,2]");
    o.coord_dtypes
        .insert("n".into(), NpType::parse("float32").unwrap());
    check("dtype_f4", &combine(&inputs(), &o), &[]);
}

#[test]
fn key_filters_like_preprocess() {
    let mut o = opts(&["time"], &["x"]);
    o.filter = combine::KeyFilter::new([".zattrs", ".zgroup", "time", "x", "v", "run"], ["v/1"]);
    check("filtered", &combine(&inputs(), &o), &[]);
}

#[test]
fn two_concat_dims() {
    let o = with_sel(
        opts(&["time", "member"], &["x", "static"]),
        "member",
        "attr:file_index",
    );
    check("two_dims", &combine(&inputs(), &o), &[]);
}

#[test]
fn order_of_inputs_does_not_matter() {
    let o = opts(&["label"], &["x", "static"]);
    let mut rev = inputs();
    rev.reverse();
    assert_eq!(combine(&inputs(), &o), combine(&rev, &o));
}
