//! v1 B-tree nodes (group and chunk) and symbol table nodes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(input) = kerchunk_rs_fuzz::Input::new(data) {
        kerchunk_rs_fuzz::btree_v1(&input);
    }
});
