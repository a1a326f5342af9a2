//! Global heap collection, its objects, heap IDs and vlen descriptors.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("global_heap", data);
});
