//! One header message; `params[0]` is its type, `params[1]` its flags.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("messages", data);
});
