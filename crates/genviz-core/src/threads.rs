//! Running work on a pool of a chosen size.
//!
//! genviz promises the same numbers whatever the thread count, so tests run one computation on
//! pools of different sizes and compare; and a few computations (t-SNE, whose library sums
//! in whatever order its threads finish) stay deterministic only on one thread.

use crate::{Error, Result};

/// Runs `f` on a fresh rayon pool of `threads` threads (0: rayon's default, one per core).
pub fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::invalid(format!("a pool of {threads} threads: {e}")))?;
    Ok(pool.install(f))
}
