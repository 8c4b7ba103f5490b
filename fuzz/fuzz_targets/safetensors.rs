//! A weights file: the safetensors container, then the MLP built from its tensors (names,
//! shapes, genviz's spec metadata, finite values).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.safetensors");
    if let Ok(file) = genviz_core::io::parse_safetensors(data, path) {
        let _ = genviz_mlp::mlp_from_tensors(&file, path);
    }
});
