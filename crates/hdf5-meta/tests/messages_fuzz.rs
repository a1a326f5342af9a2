//! No header-message parser (nor the value decoder) may panic on arbitrary or corrupted
//! input: random bytes and single-byte mutations of the real message vectors.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::OnceLock;

use hdf5_meta::format::messages::{
    attribute, dataspace, datatype, external_files, fill_value, filter_pipeline, layout,
};
use hdf5_meta::format::value::decode_values;
use hdf5_meta::format::Sizes;
use proptest::prelude::*;

/// Run every parser over `buf`; decode a few values whenever a datatype parses.
fn exercise(buf: &[u8], sizes: Sizes, data: &[u8]) {
    let _ = dataspace::parse(buf, 0, sizes);
    let _ = fill_value::parse(buf, 0, sizes);
    let _ = fill_value::parse_old(buf, 0, sizes);
    let _ = filter_pipeline::parse(buf, 0, sizes);
    let _ = external_files::parse(buf, 0, sizes);
    let _ = layout::parse(buf, 0, sizes);
    if let Ok(a) = attribute::parse(buf, 0, sizes) {
        if let (Some(dt), Some(ds)) = (a.datatype.inline(), a.dataspace.inline()) {
            let _ = decode_values(dt, &a.data, ds.element_count().unwrap_or(0));
        }
    }
    if let Ok((dt, used)) = datatype::parse_prefix(buf, 0, sizes) {
        let _ = dt.numpy_typestr();
        let rest = &buf[used..];
        let _ = decode_values(&dt, rest, 2);
        let _ = decode_values(&dt, rest, u64::MAX);
        let _ = decode_values(&dt, data, 1);
    }
}

fn sizes_strategy() -> impl Strategy<Value = Sizes> {
    prop_oneof![Just(2u8), Just(4u8), Just(8u8)].prop_map(|w| Sizes {
        offset: w,
        length: w,
    })
}

/// Message bytes of the h5py-generated vectors (loaded once).
fn real_messages() -> &'static [(Vec<u8>, Sizes)] {
    static CACHE: OnceLock<Vec<(Vec<u8>, Sizes)>> = OnceLock::new();
    CACHE.get_or_init(load_real_messages)
}

fn load_real_messages() -> Vec<(Vec<u8>, Sizes)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/messages");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("generated")
        {
            continue;
        }
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let h = case["hex"].as_str().unwrap();
            let bytes = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect();
            let w = case["sizes"][0].as_u64().unwrap() as u8;
            out.push((
                bytes,
                Sizes {
                    offset: w,
                    length: w,
                },
            ));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..200), sizes in sizes_strategy()) {
        exercise(&buf, sizes, &buf);
    }

    #[test]
    fn mutated_real_messages_never_panic(pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(),
                                         byte in any::<u8>(), cut in any::<prop::sample::Index>(),
                                         data in proptest::collection::vec(any::<u8>(), 0..96)) {
        let messages = real_messages();
        let (mut buf, sizes) = messages[pick.index(messages.len())].clone();
        if !buf.is_empty() {
            let i = at.index(buf.len());
            buf[i] = byte;
            let n = cut.index(buf.len() + 1);
            exercise(&buf[..n], sizes, &data);
        }
        exercise(&buf, sizes, &data);
    }
}
