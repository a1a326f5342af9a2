//! Property tests: every input chunk appears exactly once, at the index its coordinate
//! gives, and the output does not depend on the order of the inputs.

#![allow(
    clippy::result_large_err,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use combine::{run, CombineOptions, Input, Reference};
use proptest::prelude::*;

/// One synthetic input: `len` time steps starting at `t0`, x of length 3 in chunks of 2,
/// `v(time, x)` with chunks (1, 2) and only the chunks in `present`.
fn input(id: usize, t0: i64, len: usize, present: &[bool]) -> Input {
    let mut refs: Vec<(String, Reference)> = Vec::new();
    let inline = |s: String| Reference::inline(s.into_bytes());
    refs.push((".zgroup".into(), inline(r#"{"zarr_format":2}"#.into())));
    refs.push((
        "time/.zarray".into(),
        inline(format!(r#"{{"shape":[{len}],"chunks":[{len}],"dtype":"<i8","fill_value":null,"order":"C","filters":null,"compressor":null,"zarr_format":2}}"#)),
    ));
    refs.push((
        "time/.zattrs".into(),
        inline(r#"{"_ARRAY_DIMENSIONS":["time"]}"#.into()),
    ));
    let t: Vec<u8> = (t0..t0 + len as i64)
        .flat_map(|v| v.to_le_bytes())
        .collect();
    refs.push(("time/0".into(), Reference::inline(t)));
    refs.push((
        "v/.zarray".into(),
        inline(format!(r#"{{"shape":[{len},3],"chunks":[1,2],"dtype":"<f4","fill_value":"NaN","order":"C","filters":null,"compressor":null,"zarr_format":2}}"#)),
    ));
    refs.push((
        "v/.zattrs".into(),
        inline(r#"{"_ARRAY_DIMENSIONS":["time","x"]}"#.into()),
    ));
    let url: Arc<str> = Arc::from(format!("file{id}.nc"));
    for t in 0..len {
        for x in 0..2 {
            if present.get(t * 2 + x).copied().unwrap_or(true) {
                refs.push((
                    format!("v/{t}.{x}"),
                    Reference::Range {
                        url: Some(Arc::clone(&url)),
                        offset: (t * 2 + x) as u64,
                        length: 10,
                    },
                ));
            }
        }
    }
    // A scalar per input, which gets the concat dim prepended.
    refs.push(("s/.zarray".into(), inline(r#"{"shape":[],"chunks":[],"dtype":"<i4","fill_value":0,"order":"C","filters":null,"compressor":null,"zarr_format":2}"#.into())));
    refs.push((
        "s/0".into(),
        Reference::Range {
            url: Some(Arc::clone(&url)),
            offset: 999,
            length: 4,
        },
    ));
    Input::memory(format!("in{id}"), refs)
}

fn combine(inputs: &[Input]) -> BTreeMap<String, Reference> {
    let mut o = CombineOptions::concat(["time"]);
    o.inline_threshold = 0;
    let mut sink: Vec<(String, Reference)> = Vec::new();
    run(inputs, &o, None, &mut sink).unwrap();
    let n = sink.len();
    let m: BTreeMap<_, _> = sink.into_iter().collect();
    assert_eq!(m.len(), n, "duplicate output key");
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn chunks_once_at_the_right_index_and_order_independent(
        lens in prop::collection::vec(1usize..4, 1..6),
        gaps in prop::collection::vec(0i64..3, 6),
        present in prop::collection::vec(any::<bool>(), 40),
        perm_seed in any::<u64>(),
    ) {
        // Consecutive time ranges with gaps in value (not in position).
        let mut t0s = Vec::new();
        let mut t = 0i64;
        for (i, len) in lens.iter().enumerate() {
            t0s.push(t);
            t += *len as i64 + gaps[i];
        }
        let inputs: Vec<Input> = lens.iter().enumerate()
            .map(|(i, &len)| input(i, t0s[i], len, &present[(i * 6)..]))
            .collect();
        let out = combine(&inputs);

        // Expected: chunk (t, x) of input i at (start_i + t, x) where start_i = steps before it.
        let mut expected = BTreeMap::new();
        let mut start = 0usize;
        for (i, &len) in lens.iter().enumerate() {
            for tt in 0..len {
                for x in 0..2 {
                    if present[i * 6..].get(tt * 2 + x).copied().unwrap_or(true) {
                        expected.insert(format!("v/{}.{x}", start + tt), (format!("file{i}.nc"), (tt * 2 + x) as u64));
                    }
                }
            }
            expected.insert(format!("s/{start}"), (format!("file{i}.nc"), 999));
            start += len;
        }
        let got: BTreeMap<String, (String, u64)> = out.iter()
            .filter(|(k, _)| (k.starts_with("v/") || k.starts_with("s/")) && !k.contains(".z"))
            .map(|(k, v)| match v {
                Reference::Range { url, offset, .. } => (k.clone(), (url.as_deref().unwrap_or("").to_string(), *offset)),
                other => panic!("{k}: {other:?}"),
            })
            .collect();
        prop_assert_eq!(&got, &expected);

        // Any permutation gives the same output.
        let mut perm: Vec<Input> = inputs.clone();
        let mut seed = perm_seed;
        for i in (1..perm.len()).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (seed >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(combine(&perm), out);
    }
}

proptest! {
    #[test]
    fn malformed_inputs_never_panic(doc in prop::collection::vec(any::<u8>(), 0..300), mutate in any::<usize>()) {
        // Arbitrary bytes, and a valid document with one byte changed.
        let mut o = CombineOptions::concat(["time"]);
        o.inline_threshold = 0;
        let _ = run(&[Input::bytes("junk", doc.clone())], &o, None, &mut Vec::new());
        let good = br#"{"version":1,"refs":{"time/.zarray":"{\"shape\":[1],\"chunks\":[1],\"dtype\":\"<i8\"}","time/0":"base64:AAAAAAAAAAA=","v/.zarray":"{\"shape\":[1,2],\"chunks\":[1,1],\"dtype\":\"<f4\"}","v/.zattrs":"{\"_ARRAY_DIMENSIONS\":[\"time\",\"x\"]}","v/0.1":["f",1,2]}}"#;
        let mut bad = good.to_vec();
        let pos = mutate % bad.len();
        bad[pos] = doc.first().copied().unwrap_or(b'9');
        let _ = run(&[Input::bytes("a", bad), Input::bytes("b", good.to_vec())], &o, None, &mut Vec::new());
    }
}
