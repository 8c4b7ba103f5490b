//! The strings of grid flags: `--x min:max:num`, `--shard k/n`, `--spacing`, `--norm`.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/genviz-landscape/tests/fuzz_checks/range.rs"]
mod range;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    range::check(text);
});
