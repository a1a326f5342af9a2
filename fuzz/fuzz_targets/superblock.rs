//! Superblock (`find_signature` + `superblock::parse`) and driver info block.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kerchunk_rs_fuzz::run("superblock", data);
});
