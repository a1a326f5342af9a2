//! Property tests: arbitrary reference sets survive write → read, plain and gzip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use kerchunk_refs::{
    read_reference_set, stream_refs, write_reference_set, RefValue, ReferenceSet, Url, WriteOptions,
};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z/._\"\\\\ é😀{}\\[\\]:,]{0,16}",
        Just(String::new()),
        Just("version".to_string()),
        Just("refs".to_string()),
        Just("base64:".to_string()),
        Just("a/b/.zarray".to_string()),
    ]
}

fn url() -> impl Strategy<Value = Url> {
    prop_oneof![
        Just(None),
        // A small pool so many refs share a URL.
        prop::sample::select(vec![
            "s3://bucket/f.nc",
            "f.nc",
            "https://h/p?q=\"x\"",
            "{{u}}/x",
            ""
        ])
        .prop_map(|s| Some(Arc::from(s))),
        any::<String>().prop_map(|s| Some(Arc::from(s))),
    ]
}

fn inline_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        any::<String>().prop_map(String::into_bytes),
        "base64:[A-Za-z0-9+/=]{0,12}".prop_map(String::into_bytes),
        prop::sample::select(vec![
            &b"1.50"[..],
            b" 42 ",
            b"[1, 2]",
            b"{\"a\": 1}",
            b"null",
            b"base64:",
            b"base64:AAAA",
            b"\0\x01\x02",
            b"\xc3\xa9",
            b"\xc3",
            b"\"",
            b"\\u0000",
        ])
        .prop_map(<[u8]>::to_vec),
    ]
}

fn value() -> impl Strategy<Value = RefValue> {
    let offset = prop_oneof![any::<u64>(), Just(u64::MAX), Just(0u64)];
    prop_oneof![
        inline_bytes().prop_map(RefValue::inline),
        url().prop_map(|url| RefValue::Whole { url }),
        (url(), offset.clone(), offset).prop_map(|(url, o, l)| RefValue::range(url, o, l)),
    ]
}

fn reference_set() -> impl Strategy<Value = ReferenceSet> {
    prop::collection::vec((key(), value()), 0..40).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn write_read_round_trip(set in reference_set(), gzip in any::<bool>()) {
        let opts = WriteOptions { gzip, ..WriteOptions::default() };
        let out = write_reference_set(&set, Vec::new(), &opts).unwrap();
        prop_assert_eq!(kerchunk_refs::read::is_gzip(&out), gzip);
        let back = read_reference_set(&out).unwrap();
        // Same keys and values (ReferenceSet equality ignores order).
        prop_assert_eq!(&back, &set);
        // Same order too, unless a URL contains "{{": without a `templates` key seen yet the
        // reader defers such references to the end of the document (read.rs module doc).
        let deferred = set.iter().any(|(_, v)| {
            v.url().and_then(|u| u.as_deref()).is_some_and(|u| u.contains("{{"))
        });
        if !deferred {
            prop_assert_eq!(back.keys().collect::<Vec<_>>(), set.keys().collect::<Vec<_>>());
            // The streaming reader delivers the same sequence.
            let mut streamed = Vec::new();
            let meta = stream_refs(&out[..], |k, v| { streamed.push((k.to_string(), v)); Ok(()) }).unwrap();
            prop_assert_eq!(meta.version, 1);
            prop_assert_eq!(meta.gzip, gzip);
            let expected: Vec<_> = set.into_iter().collect();
            prop_assert_eq!(streamed, expected);
        }
    }

    #[test]
    fn templated_round_trip(
        suffixes in prop::collection::vec("[a-z0-9/._-]{0,10}", 1..20),
        prefixes in prop::sample::subsequence(vec!["s3://bucket/", "s3://bucket/data/", "https://x/"], 0..=3),
    ) {
        let pool = ["s3://bucket/", "s3://bucket/data/", "https://x/", "other://"];
        let mut set = ReferenceSet::new();
        for (i, s) in suffixes.iter().enumerate() {
            let u = format!("{}{s}", pool[i % pool.len()]);
            set.insert(format!("v/{i}"), RefValue::range(Some(Arc::from(u.as_str())), i as u64, 1));
        }
        let templates = prefixes.iter().enumerate().map(|(i, p)| (format!("t{i}"), p.to_string())).collect();
        let opts = WriteOptions { templates, ..WriteOptions::default() };
        let out = write_reference_set(&set, Vec::new(), &opts).unwrap();
        prop_assert_eq!(read_reference_set(&out).unwrap(), set);
    }

    #[test]
    fn reader_never_panics_on_garbage(data in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = read_reference_set(&data);
    }

    #[test]
    fn reader_never_panics_on_mutated_documents(
        set in reference_set(),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut out = write_reference_set(&set, Vec::new(), &WriteOptions::default()).unwrap();
        if !out.is_empty() {
            let i = cut.index(out.len());
            out[i] = byte;
            let _ = read_reference_set(&out);
            out.truncate(i);
            let _ = read_reference_set(&out);
        }
    }
}
