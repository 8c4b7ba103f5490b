//! Training: optimizers, learning-rate schedules, gradient clipping, the poisoned objective of
//! Huang et al., and the checkpoints and metrics a run leaves behind.
//!
//! A run is a typed [`TrainConfig`] (serialisable, so every experiment is a file you can rerun)
//! applied to any [`genviz_core::Network`]. The poisoned objective
//! `L = (1 - beta) * mean_{D_t} loss + beta * mean_{D_p} loss'` adds a term on wrongly
//! labelled points that drives training into minima that fit the training set and fail
//! elsewhere ("bad minima"); see [`poison`].

pub mod augment;
pub mod curve;
pub mod many;
pub mod optim;
pub mod optimizer_table;
pub mod poison;
pub mod resume;
pub mod schedule;
pub mod trainer;

pub use augment::Augmented;
pub use many::train_many;
pub use optim::{Optimizer, OptimizerConfig};
pub use optimizer_table::TableOptimizer;
pub use poison::{PoisonConfig, PoisonForm, PoisonPool, PoisonWeight};
pub use schedule::LrSchedule;
pub use trainer::{train, FinalMetrics, MetricRow, TrainConfig, TrainOutcome, TrainRequest};
