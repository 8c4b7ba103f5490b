//! What every demo does first: find and create the folder it writes into.

use std::path::PathBuf;

/// The folder given as the demo's first argument, or `default`, created.
pub fn output_dir(default: &str) -> genviz_core::Result<PathBuf> {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from(default), PathBuf::from);
    std::fs::create_dir_all(&dir).map_err(|e| genviz_core::Error::io(&dir, e))?;
    Ok(dir)
}
