//! An `.npz` archive: every array as float and as integers, and the `train` split as a data set.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.npz");
    if let Ok(mut npz) = genviz_core::io::Npz::from_bytes(data.to_vec(), path) {
        if let Ok(names) = npz.names() {
            for name in names.iter().take(8) {
                let _ = npz.f32(name);
                let _ = npz.f64(name);
                let _ = npz.i64(name);
            }
        }
    }
    let _ = genviz_data::parse_npz_split(data.to_vec(), path, "train", None);
});
