//! Object header first chunk + continuation chain, every message decoded.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("object_header", data);
});
