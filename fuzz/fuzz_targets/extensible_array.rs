//! Extensible-array chunk index: header, index/super/data blocks, pages.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("extensible_array", data);
});
