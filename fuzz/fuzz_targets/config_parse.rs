#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| refmatch::fuzzing::config_parse(data));
