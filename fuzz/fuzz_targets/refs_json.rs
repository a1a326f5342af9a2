//! Kerchunk reference JSON (plain or gzip), whole-slice and streaming readers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("refs_json", data);
});
