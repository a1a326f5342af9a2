//! Combining arbitrary reference sets (plain or gzip JSON) along one dimension.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("combine", data);
});
