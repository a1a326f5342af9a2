//! v2 B-tree header and its internal/leaf nodes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("btree_v2", data);
});
