//! Inputs the fuzzer (`fuzz/`, target `range`) once crashed on, replayed as ordinary tests:
//! each file under `tests/fuzz_regressions/range/` goes through the same checks as the target.

use genviz_landscape::{Axis, Normalization, Shard, Spacing};

/// What the `range` fuzz target checks for one input.
fn check(text: &str) {
    if let Ok(axis) = text.parse::<Axis>() {
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

#[test]
fn range_strings_found_by_the_fuzzer() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions/range");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            check(text);
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}
