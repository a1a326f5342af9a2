//! Value decoding with a datatype parsed from the input's prefix.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("value", data);
});
