//! A CIFAR-10 binary batch (3,073-byte records: a label, then 3 x 32 x 32 pixels).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = genviz_data::images::parse_cifar_batch(data, std::path::Path::new("fuzz.bin"));
});
