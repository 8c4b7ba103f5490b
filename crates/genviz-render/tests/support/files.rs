//! What the figure and page tests check about the files they leave: which files a folder
//! holds, that a refused call wrote none, the pixels of a PNG, and where a test leaves its
//! output for a person to look at. Each test binary uses a part of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use genviz_core::Error;

/// The names of the entries of `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Asserts that `dir` is empty: nothing, not even a temporary file, was left behind.
pub fn assert_no_files(dir: &Path) {
    let left = files_in(dir);
    assert!(left.is_empty(), "{left:?}");
}

/// Asserts `result` is an `Invalid` error whose message names `path` and contains `needle`.
pub fn assert_invalid(result: genviz_core::Result<()>, path: &Path, needle: &str) {
    match result {
        Err(Error::Invalid(msg)) => {
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
        }
        other => panic!("expected an Invalid error mentioning {needle:?}, got {other:?}"),
    }
}

/// The colour of pixel `(x, y)`.
pub fn rgb(img: &image::RgbImage, x: u32, y: u32) -> [u8; 3] {
    img.get_pixel(x, y).0
}

/// `target/<name>/`, created: where a test leaves pages and screenshots for a person to look at.
pub fn output_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new(env!("CARGO_TARGET_TMPDIR")))
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
