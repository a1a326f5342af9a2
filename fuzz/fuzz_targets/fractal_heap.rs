//! Fractal heap header, direct/indirect blocks, heap IDs.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("fractal_heap", data);
});
