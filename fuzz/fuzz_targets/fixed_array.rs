//! Fixed-array chunk index: header, data block, pages.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(input) = kerchunk_rs_fuzz::Input::new(data) {
        kerchunk_rs_fuzz::fixed_array(&input);
    }
});
