//! Refusing work that cannot fit: requests whose memory or disk needs exceed what the machine
//! has are stopped before any work, with the size they need, instead of dying of an
//! out-of-memory kill an hour in or filling the disk.
//!
//! Available memory is `MemAvailable` from `/proc/meminfo` (Linux), lowered by the environment
//! variable `GENVIZ_MAX_MEMORY` (bytes, or with a K, M, G or T suffix) where a user shares the
//! machine; free disk comes from `statvfs` on the output folder. Where neither is known (other
//! systems), nothing is refused.

use crate::{Error, Result};
use std::path::Path;

/// Environment variable capping the memory genviz plans to use (e.g. `8G`).
pub const MEMORY_VAR: &str = "GENVIZ_MAX_MEMORY";

/// `bytes` as a short human-readable size (decimal units, as `df -H`).
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    for (unit, scale) in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)] {
        if b >= scale {
            return format!("{:.1} {unit}", b / scale);
        }
    }
    format!("{bytes} bytes")
}

/// Parses `12345`, `512M`, `8G`, `1.5T` (powers of 1024 for the suffixes).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (number, scale) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&t[..i], 1 << 20),
        (i, 'g' | 'G') => (&t[..i], 1 << 30),
        (i, 't' | 'T') => (&t[..i], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = number.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * scale as f64).min(u64::MAX as f64) as u64)
}

/// Memory genviz may plan to use: `MemAvailable`, capped by `GENVIZ_MAX_MEMORY`.
pub fn available_memory() -> Option<u64> {
    let from_proc = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|rest| rest.trim().strip_suffix("kB"))
                .and_then(|kb| kb.trim().parse::<u64>().ok())
                .map(|kb| kb.saturating_mul(1024))
        });
    let cap = std::env::var(MEMORY_VAR).ok().and_then(|v| parse_size(&v));
    match (from_proc, cap) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

/// Free bytes (for an unprivileged user) on the file system holding `path`, or the nearest
/// existing folder above it.
pub fn free_disk(path: &Path) -> Option<u64> {
    let mut p = path;
    while !p.exists() {
        p = p.parent()?;
    }
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    statvfs_free(p)
}

#[cfg(unix)]
fn statvfs_free(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path and `s` is a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), s.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs succeeded, so it filled `s`.
    let s = unsafe { s.assume_init() };
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Some((s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

#[cfg(not(unix))]
fn statvfs_free(_: &Path) -> Option<u64> {
    None
}

/// Refuses `what` if it needs more than `bytes` of memory than is available.
pub fn check_memory(what: &str, bytes: u64) -> Result<()> {
    match available_memory() {
        Some(avail) if bytes > avail => Err(Error::invalid(format!(
            "{what} is too big: it needs about {} of memory, but only {} is available{}; ask for less",
            human(bytes),
            human(avail),
            if std::env::var(MEMORY_VAR).is_ok() {
                format!(" (capped by {MEMORY_VAR})")
            } else {
                String::new()
            }
        ))),
        _ => Ok(()),
    }
}

/// Refuses `what` if writing `bytes` into `dir` would not fit on its disk.
pub fn check_disk(what: &str, bytes: u64, dir: &Path) -> Result<()> {
    match free_disk(dir) {
        Some(free) if bytes > free => Err(Error::invalid(format!(
            "{what} is too big: it needs about {} on disk in {}, but only {} is free; ask for less or choose another --out",
            human(bytes),
            dir.display(),
            human(free)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("2K"), Some(2048));
        assert_eq!(parse_size("1.5G"), Some(3 << 29));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1G"), None);
        assert_eq!(human(3_200_000_000), "3.2 GB");
        assert_eq!(human(12), "12 bytes");
    }

    #[test]
    fn absurd_requests_are_refused_with_their_size() {
        let dir = tempfile::tempdir().unwrap();
        // No machine has an exabyte of memory or disk.
        let exa = 1u64 << 60;
        if available_memory().is_some() {
            let e = check_memory("a test grid", exa).unwrap_err().to_string();
            assert!(
                e.contains("a test grid is too big: it needs about 1152921.5 TB"),
                "{e}"
            );
        }
        if free_disk(dir.path()).is_some() {
            let e = check_disk("a test grid", exa, dir.path())
                .unwrap_err()
                .to_string();
            assert!(e.contains("on disk") && e.contains("1152921.5 TB"), "{e}");
            // Small requests pass, even for a folder not created yet.
            check_disk("a small file", 10, &dir.path().join("a/b")).unwrap();
        }
        check_memory("a small array", 10).unwrap();
    }
}
