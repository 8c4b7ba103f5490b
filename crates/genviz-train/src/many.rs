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
use genviz_core::threads::one_core_each;
use genviz_core::Result;

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
    one_core_each(requests, |i, request| {
        train(request, &mut |row| progress(i, row))
    })
}
