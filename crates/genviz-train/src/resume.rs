//! Resuming a killed training run: the whole state of the loop in one file.
//!
//! At every checkpoint the trainer writes `checkpoints/state.safetensors` (atomically, and
//! after the checkpoint and trajectory it describes): the parameters, the optimizer's vectors
//! (`optimizer.first`, `optimizer.second`, and whatever else the optimizer keeps, such as
//! `optimizer.max_second` or L-BFGS's `optimizer.lbfgs.old_dirs`), and in its metadata the
//! step, the optimizer's step count and scalars, the positions of the random streams, the
//! minibatch order and the logged metrics. Rerunning the same command
//! continues from there and gives the same bits as a run that was never interrupted.

use crate::optim::OptimizerState;
use crate::trainer::{MetricRow, TrainConfig};
use genviz_core::io::{read_safetensors, write_safetensors};
use genviz_core::{Error, Layout, Params, Result, Role};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Metadata key of the loop state.
const STATE_KEY: &str = "genviz.resume";

/// Where the state lives in a run folder.
pub fn state_path(dir: &Path) -> PathBuf {
    dir.join("checkpoints").join("state.safetensors")
}

/// Everything but the big vectors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoopState {
    /// Steps done.
    pub step: u64,
    /// The optimizer's own step count.
    pub optimizer_step: u64,
    /// The optimizer's scalars (ASGD's step size, L-BFGS's `t` and `H_diag`, ...).
    #[serde(default)]
    pub optimizer_scalars: BTreeMap<String, f64>,
    /// Word position of the minibatch stream (a decimal u128).
    pub batch_rng: String,
    /// Word position of the poison stream (a decimal u128).
    pub poison_rng: String,
    /// The current minibatch order.
    pub order: Vec<usize>,
    /// Next position in `order`.
    pub cursor: usize,
    /// Rows logged so far.
    pub history: Vec<MetricRow>,
    /// The configuration the state belongs to.
    pub config: TrainConfig,
    /// The seed the state belongs to.
    pub seed: u64,
}

/// The loop state with the parameters and the optimizer's state.
pub struct Snapshot {
    /// Scalars, positions and history.
    pub state: LoopState,
    /// Parameters.
    pub params: Vec<f32>,
    /// The optimizer's step count, vectors and scalars (the step count and scalars are also
    /// in `state`, which is what the file stores).
    pub optimizer: OptimizerState,
}

/// Prefix of the optimizer's vectors in the state file.
const OPTIMIZER_PREFIX: &str = "optimizer.";

/// Writes `snapshot` into `dir`'s state file.
pub fn save(dir: &Path, snapshot: &Snapshot) -> Result<()> {
    let n = snapshot.params.len();
    let vectors = &snapshot.optimizer.vectors;
    let layout = Layout::new(
        std::iter::once(("params".to_string(), vec![n], Role::Weight)).chain(vectors.iter().map(
            |(name, v)| {
                (
                    format!("{OPTIMIZER_PREFIX}{name}"),
                    vec![v.len()],
                    Role::Weight,
                )
            },
        )),
    )?;
    let values = std::iter::once(snapshot.params.as_slice())
        .chain(vectors.values().map(Vec::as_slice))
        .collect::<Vec<_>>()
        .concat();
    let params = Params::from_vec(Arc::new(layout), values)?;
    let json = serde_json::to_string(&snapshot.state)
        .map_err(|e| Error::invalid(format!("encoding the training state: {e}")))?;
    write_safetensors(
        &state_path(dir),
        &params,
        HashMap::from([(STATE_KEY.to_string(), json)]),
    )
}

/// Reads `dir`'s state file, if any, checking it belongs to `config` and `seed`.
pub fn load(dir: &Path, config: &TrainConfig, seed: u64) -> Result<Option<Snapshot>> {
    let path = state_path(dir);
    if !path.exists() {
        return Ok(None);
    }
    let file = read_safetensors(&path)?;
    let json = file
        .metadata
        .get(STATE_KEY)
        .ok_or_else(|| Error::bad_file(&path, format!("no `{STATE_KEY}` metadata")))?;
    let state: LoopState = serde_json::from_str(json)
        .map_err(|e| Error::bad_file(&path, format!("invalid training state: {e}")))?;
    if &state.config != config || state.seed != seed {
        return Err(Error::bad_file(
            &path,
            "holds a run with another configuration or seed; rerun the same command to resume it, or choose another --out",
        ));
    }
    let params = file
        .get("params")
        .map(|t| t.values.clone())
        .ok_or_else(|| Error::bad_file(&path, "tensor `params` is missing"))?;
    let vectors = file
        .tensors
        .iter()
        .filter_map(|t| {
            t.name
                .strip_prefix(OPTIMIZER_PREFIX)
                .map(|name| (name.to_string(), t.values.clone()))
        })
        .collect();
    Ok(Some(Snapshot {
        params,
        optimizer: OptimizerState {
            step: state.optimizer_step,
            vectors,
            scalars: state.optimizer_scalars.clone(),
        },
        state,
    }))
}
