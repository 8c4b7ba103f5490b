//! An IDX file (MNIST / Fashion-MNIST; plain or gzip, told by its first bytes), parsed as
//! images and as labels.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.idx");
    let _ = genviz_data::images::parse_idx_images(data.to_vec(), path);
    let _ = genviz_data::images::parse_idx_labels(data.to_vec(), path, 10);
});
