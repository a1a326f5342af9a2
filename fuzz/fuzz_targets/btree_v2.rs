//! v2 B-tree header and its internal/leaf nodes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(input) = kerchunk_rs_fuzz::Input::new(data) {
        kerchunk_rs_fuzz::btree_v2(&input);
    }
});
