//! What the `range` fuzz target (`fuzz/fuzz_targets/range.rs`) checks for one input, shared
//! through `#[path]` with the regression test that replays what it once crashed on
//! (`tests/fuzz_regressions.rs`), so both check the same things.

use genviz_landscape::{Axis, Normalization, Shard, Spacing};

/// Parses `text` as every grid flag: an axis (`min:max:num`) has `num` finite coordinates for
/// every spacing, a shard (`k/n`) a range inside the grid, and nothing panics.
pub fn check(text: &str) {
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
            assert!(
                r.start <= r.end && r.end <= total,
                "{text} of {total}: {r:?}"
            );
        }
    }
    let _ = text.parse::<Spacing>();
    let _ = text.parse::<Normalization>();
}
