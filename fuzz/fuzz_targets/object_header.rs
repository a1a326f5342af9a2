//! Object header first chunk + continuation chain, every message decoded.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(input) = kerchunk_rs_fuzz::Input::new(data) {
        kerchunk_rs_fuzz::object_header(&input);
    }
});
