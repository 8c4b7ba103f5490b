//! The strings of grid flags: `--x min:max:num`, `--shard k/n`, `--spacing`, `--norm`.
#![no_main]
use genviz_landscape::{Axis, Normalization, Shard, Spacing};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(axis) = text.parse::<Axis>() {
        // Coordinates are only computed for grids the commands accept (their size is checked
        // against memory first); here, small ones.
        if axis.num <= 4096 {
            for s in [Spacing::Linear, Spacing::Pow5, Spacing::Pow2] {
                let c = axis.coords(s);
                assert_eq!(c.len(), axis.num);
                assert!(c.iter().all(|v| v.is_finite()), "{text}: {c:?}");
            }
        }
    }
    if let Ok(shard) = text.parse::<Shard>() {
        for total in [0usize, 1, 7, 1 << 20, usize::MAX] {
            let r = shard.range(total);
            assert!(r.start <= r.end && r.end <= total);
        }
    }
    let _ = text.parse::<Spacing>();
    let _ = text.parse::<Normalization>();
});
