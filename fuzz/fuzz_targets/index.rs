//! Whole-file walk and translation to references from an in-memory file image.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("index", data);
});
