//! A standalone `.npy`: as features (float), as labels (integers), and as a features/labels
//! pair split at the first byte's position.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.npy");
    let _ = genviz_core::io::parse_npy_f32(data, path);
    let _ = genviz_core::io::parse_npy_i64(data, path);
    if let Some((&cut, rest)) = data.split_first() {
        let cut = usize::from(cut) * rest.len() / 256;
        let (x, y) = rest.split_at(cut);
        let _ = genviz_data::parse_npy_pair((x, path), (y, path), None);
    }
});
