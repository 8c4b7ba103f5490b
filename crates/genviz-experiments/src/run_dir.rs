//! Run folders: where each command writes, and the record (`run.json`) that makes a run
//! traceable to the command and configuration that produced it.

use anyhow::{bail, Context, Result};
use genviz_core::io::{write_npz, NpyArray};
use genviz_core::Dataset;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The folder a command writes into: `out` if given, else a new `runs/<name>-<time>` (with a
/// suffix when two runs start in the same second). Nothing is created yet, so a run refused
/// on its settings leaves no empty folder.
pub fn choose(out: Option<&Path>, name: &str) -> PathBuf {
    match out {
        Some(d) => d.to_path_buf(),
        None => {
            let base = PathBuf::from("runs").join(format!("{name}-{}", timestamp()));
            let mut dir = base.clone();
            let mut k = 1;
            while dir.exists() {
                k += 1;
                dir = PathBuf::from(format!("{}-{k}", base.display()));
            }
            dir
        }
    }
}

/// Creates the run folder `dir` (and its parents); an existing folder is kept, so a rerun
/// resumes into it.
///
/// # Errors
/// When `dir` is a file or cannot be created.
pub fn create(dir: &Path) -> Result<()> {
    if dir.is_file() {
        bail!("{}: is a file, expected a folder", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// [`choose`] then [`create`].
pub fn prepare(out: Option<&Path>, name: &str) -> Result<PathBuf> {
    let dir = choose(out, name);
    create(&dir)?;
    Ok(dir)
}

/// `YYYYMMDD-HHMMSS` in UTC.
pub fn timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Saves the exact data of a run as `data.npz` (`x_train`, `y_train`, `x_test`, `y_test`;
/// float32 features `[n, dim]`, int64 labels), so anyone can re-evaluate its model.
pub fn write_data(dir: &Path, train: &Dataset, test: &Dataset) -> Result<()> {
    let arrays = |d: &Dataset| {
        (
            NpyArray::F32(d.features().to_vec(), vec![d.len(), d.dim()]),
            NpyArray::I64(
                d.labels().iter().map(|&y| i64::from(y)).collect(),
                vec![d.len()],
            ),
        )
    };
    let (xtr, ytr) = arrays(train);
    let (xte, yte) = arrays(test);
    write_npz(
        &dir.join("data.npz"),
        &[
            ("x_train", xtr),
            ("y_train", ytr),
            ("x_test", xte),
            ("y_test", yte),
        ],
    )?;
    Ok(())
}
