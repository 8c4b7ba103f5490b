//! Training many small networks at once: one core per network.
//!
//! The paper's networks are tiny (a swiss-roll step is about 4 MFLOP): split over the cores,
//! one step spends a large share of its time in fork-join and waiting for the slower half,
//! and on a shared machine a step waits whenever either core is taken by someone else. An
//! experiment that trains many of them (the minefield's 50 bad-minimum searches) gets far
//! more from giving each core whole networks: no step ever waits for another core.
//!
//! [`train_many`] does exactly that. Each network runs [`train`] itself, on a worker whose
//! rayon pool has a single thread, so every parallel loop inside the engine runs inline, with
//! no fork-join at all. Since the engine's results do not depend on the thread count, each
//! network's outcome (parameters, history, checkpoints, resume state) is bit for bit what
//! [`train`] gives it alone; and since it *is* `train`, there is no second training loop to
//! keep in step with the first.

use crate::trainer::{train, MetricRow, TrainOutcome, TrainRequest};
use genviz_core::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Trains every request, each on one core, and returns their outcomes in request order.
///
/// The requests are independent: each has its own network, parameters, data, poison source,
/// configuration (steps, schedule, optimizer), seed and `out_dir` (which must differ between
/// requests that write one). Up to [`rayon::current_num_threads`] networks train at a time
/// (the caller's pool, so `RAYON_NUM_THREADS` and an installed pool apply), the next one
/// starting as soon as a core is free; each runs on a single-thread pool of its own, so the
/// engine never forks inside a step.
///
/// `progress(i, row)` is called after every logged step of request `i`, from the thread that
/// trains it: it must be `Sync`, and rows of different requests interleave.
///
/// One request's error (invalid configuration, a non-finite loss, an unwritable folder)
/// is its own result and does not stop the others. A resumable request (one with an
/// `out_dir` holding a training state) resumes exactly as [`train`] would.
pub fn train_many(
    requests: Vec<TrainRequest<'_>>,
    progress: &(dyn Fn(usize, &MetricRow) + Sync),
) -> Vec<Result<TrainOutcome>> {
    let count = requests.len();
    let queue: Vec<Mutex<Option<TrainRequest<'_>>>> =
        requests.into_iter().map(|r| Mutex::new(Some(r))).collect();
    let results: Vec<Mutex<Option<Result<TrainOutcome>>>> =
        (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, count.max(1));
    // Takes requests in order until none is left; run on each worker's own one-thread pool.
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= count {
            break;
        }
        let request = lock(&queue[i]).take().expect("each request is taken once");
        let outcome = train(request, &mut |row| progress(i, row));
        *lock(&results[i]) = Some(outcome);
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(1)
                        .build()
                        .map_err(|e| Error::invalid(format!("train_many: no thread: {e}")))?;
                    pool.install(work);
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            match handle.join() {
                Ok(Ok(())) => {}
                // A worker that could not start leaves its share to the others; if none
                // started, the requests are run here, one after the other.
                Ok(Err(_)) => {}
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    // Requests no worker took (no thread could be started).
    work();
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every request ran")
        })
        .collect()
}

/// Locks a mutex whose data stays valid even if a holder panicked (a panic is re-raised
/// anyway once every worker has stopped).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
