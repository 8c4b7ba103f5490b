//! Inputs the fuzzer (`fuzz/`, target `range`) once crashed on, replayed as ordinary tests:
//! each file under `tests/fuzz_regressions/range/` goes through the same checks as the target.

#[path = "fuzz_checks/range.rs"]
mod range;

#[test]
fn range_strings_found_by_the_fuzzer() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions/range");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            range::check(text);
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}
