//! Running work on pools of a chosen size.
//!
//! genviz promises the same numbers whatever the thread count, so tests run one computation on
//! pools of different sizes and compare; a few computations (t-SNE, whose library sums in
//! whatever order its threads finish) stay deterministic only on one thread; and many small
//! independent jobs (the minefield's bad-minimum searches, a sweep's trainings) run fastest one
//! per core, each on a pool of its own, with no fork-join inside their tiny steps.

use crate::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `f` on a fresh rayon pool of `threads` threads (0: rayon's default, one per core).
pub fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::invalid(format!("a pool of {threads} threads: {e}")))?;
    Ok(pool.install(f))
}

/// Runs `f(i, item)` for every item, one core each, and returns the results in item order.
///
/// Up to [`rayon::current_num_threads`] items run at a time (the caller's pool, so
/// `RAYON_NUM_THREADS` and an installed pool apply), the next one starting as soon as a core
/// is free. Each runs on a worker whose rayon pool has a single thread, so every parallel loop
/// inside `f` runs inline: a job whose parallel sections are tiny pays no fork-join, and since
/// genviz's results do not depend on the thread count, each result is what `f` gives alone.
/// Where no worker thread can be started, the items run here, one after the other.
pub fn one_core_each<T: Send, R: Send>(items: Vec<T>, f: impl Fn(usize, T) -> R + Sync) -> Vec<R> {
    let count = items.len();
    let queue: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<R>>> = (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, count.max(1));
    // Takes items in order until none is left.
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= count {
            break;
        }
        let item = lock(&queue[i]).take().expect("each item is taken once");
        let result = f(i, item);
        *lock(&results[i]) = Some(result);
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| with_threads(1, work)))
            .collect();
        for handle in handles {
            // A worker that could not build its pool leaves its share to the others.
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    // Items no worker took (no pool could be built).
    work();
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every item ran")
        })
        .collect()
}

/// Locks a mutex whose data stays valid even if a holder panicked (the panic is re-raised
/// anyway once every worker has stopped).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once_on_a_one_thread_pool_in_order() {
        let out = with_threads(2, || {
            one_core_each((0..7).collect(), |i, item: usize| {
                assert_eq!(i, item);
                (item * 10, rayon::current_num_threads())
            })
        })
        .unwrap();
        assert_eq!(
            out.iter().map(|r| r.0).collect::<Vec<_>>(),
            [0, 10, 20, 30, 40, 50, 60]
        );
        assert!(out.iter().all(|r| r.1 == 1), "{out:?}");
        assert!(one_core_each(Vec::<u8>::new(), |_, x| x).is_empty());
    }
}
