//! v1 B-tree nodes (group and chunk) and symbol table nodes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("btree_v1", data);
});
