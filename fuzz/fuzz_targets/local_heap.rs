//! Local heap header and names in its data segment.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(input) = kerchunk_rs_fuzz::Input::new(data) {
        kerchunk_rs_fuzz::local_heap(&input);
    }
});
