//! Shared object header message table and lists.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("sohm", data);
});
