//! Fixed-array chunk index: header, data block, pages.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("fixed_array", data);
});
