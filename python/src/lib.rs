//! `genviz._genviz`: the native half of the Python package.
//!
//! It is deliberately small. A job crosses the boundary as the same JSON a run folder's
//! `run.json` holds (`{"command": ..., "config": ...}`), is parsed into the library's typed
//! [`Job`] and run by [`Job::run`], exactly the call the command line makes, so a Python call and
//! a `genviz` command with the same settings write the same files. Everything Python-shaped
//! (keyword arguments, numpy inputs, result objects) lives in `python/genviz/`.
//!
//! While a job runs, the GIL is released: the job runs on its own thread and the calling thread
//! waits for it, waking every 20 ms to let Python handle signals. Ctrl-C sets a flag that the job's progress
//! stages read at their next report; they then unwind the job (a panic with a private payload,
//! caught here), and the call raises `KeyboardInterrupt`. Files already written stay valid: the
//! library writes atomically and keeps its resume state, so calling again resumes.

use genviz_experiments::paper::{Figure, PaperConfig, Scale};
use genviz_experiments::record::set_invocation;
use genviz_experiments::{presets, Job, Progress, Stage};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray2};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// How often the waiting thread lets Python look for signals.
const SIGNAL_POLL: Duration = Duration::from_millis(20);
/// The least time between two progress updates sent to Python, so that a fast job's thousands of
/// updates do not cost more than the job.
const UPDATE_EVERY: Duration = Duration::from_millis(100);

/// The payload of the unwinding that stops a cancelled job.
struct Cancelled;

/// Keeps the default panic message for real panics, and none for a cancellation.
fn quiet_cancellations() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<Cancelled>().is_none() {
                default(info);
            }
        }));
    });
}

/// Forwards a job's progress to a Python callable `callback(event, label, value, text)`:
/// `("stage", label, total, unit)`, `("update", label, done, status)`, `("log", label, 0, line)`,
/// `("finish", label, 0, summary)`, `("fail", label, 0, "")` and `("note", "", 0, message)`.
/// Errors raised by the callback are ignored: a broken progress bar must not stop a job.
struct PyProgress<'a> {
    callback: Option<Py<PyAny>>,
    cancel: &'a AtomicBool,
}

impl PyProgress<'_> {
    fn send(&self, event: &str, label: &str, value: u64, text: &str) {
        if let Some(callback) = &self.callback {
            Python::attach(|py| {
                let _ = callback.call1(py, (event, label, value, text));
            });
        }
    }

    fn check_cancel(&self) {
        if self.cancel.load(Ordering::Relaxed) {
            std::panic::panic_any(Cancelled);
        }
    }
}

impl Progress for PyProgress<'_> {
    fn stage(&self, label: &str, total: u64, unit: &str) -> Box<dyn Stage + '_> {
        self.check_cancel();
        self.send("stage", label, total, unit);
        Box::new(PyStage {
            progress: self,
            label: label.to_string(),
            total,
            last: Mutex::new(None),
            finished: AtomicBool::new(false),
        })
    }

    fn note(&self, message: &str) {
        self.check_cancel();
        self.send("note", "", 0, message);
    }
}

struct PyStage<'a> {
    progress: &'a PyProgress<'a>,
    label: String,
    total: u64,
    last: Mutex<Option<Instant>>,
    finished: AtomicBool,
}

impl Stage for PyStage<'_> {
    fn update(&self, done: u64, status: Option<&str>) {
        self.progress.check_cancel();
        let due = {
            let Ok(mut last) = self.last.lock() else {
                return;
            };
            let due = done >= self.total || last.is_none_or(|t| t.elapsed() >= UPDATE_EVERY);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            self.progress
                .send("update", &self.label, done, status.unwrap_or(""));
        }
    }

    fn log(&self, line: &str) {
        self.progress.send("log", &self.label, 0, line);
    }

    fn finish(&self, summary: &str) {
        self.finished.store(true, Ordering::Relaxed);
        self.progress.send("finish", &self.label, 0, summary);
    }
}

impl Drop for PyStage<'_> {
    fn drop(&mut self) {
        if !self.finished.load(Ordering::Relaxed) {
            self.progress.send("fail", &self.label, 0, "");
        }
    }
}

/// Runs one job into `out` and returns its run record as JSON, with the seconds the library
/// spent in it (what the Python layer's overhead is measured against).
///
/// `job` is `{"command": ..., "config": ...}` as in `run.json`; `invocation` is what the record
/// says made it (the Python call); `progress` is an optional callable (see [`PyProgress`]).
#[pyfunction]
#[pyo3(signature = (job, out, invocation, progress=None))]
fn run(
    py: Python<'_>,
    job: &str,
    out: PathBuf,
    invocation: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<(String, f64)> {
    let job: Job = serde_json::from_str(job)
        .map_err(|e| PyValueError::new_err(format!("job configuration: {e}")))?;
    quiet_cancellations();
    set_invocation(invocation);
    let cancel = AtomicBool::new(false);
    let mut interrupt: Option<PyErr> = None;
    let outcome = py.detach(|| {
        let progress = PyProgress {
            callback: progress,
            cancel: &cancel,
        };
        std::thread::scope(|scope| {
            let (done, finished) = std::sync::mpsc::channel();
            let (job, out, progress) = (&job, &out, &progress);
            scope.spawn(move || {
                let start = Instant::now();
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| job.run(out, progress)));
                let _ = done.send(outcome.map(|r| r.map(|record| (record, start.elapsed()))));
            });
            loop {
                match finished.recv_timeout(SIGNAL_POLL) {
                    Ok(outcome) => break outcome,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        if interrupt.is_none() {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                cancel.store(true, Ordering::Relaxed);
                                interrupt = Some(e);
                            }
                        }
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        break Err(Box::new("the job's thread ended without a result"))
                    }
                }
            }
        })
    });
    match outcome {
        Ok(Ok((record, elapsed))) => Ok((to_json(&record)?, elapsed.as_secs_f64())),
        Ok(Err(e)) => Err(PyRuntimeError::new_err(format!("{e:#}"))),
        Err(payload) => match interrupt {
            Some(e) if payload.downcast_ref::<Cancelled>().is_some() => Err(e),
            _ => Err(PyRuntimeError::new_err(format!(
                "genviz stopped on an internal error: {}",
                panic_message(payload.as_ref())
            ))),
        },
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}

/// One of the library's training presets as configuration JSON: `swiss-roll-clean`,
/// `swiss-roll-poisoned`, `fashion-mnist-clean` or `fashion-mnist-poisoned`, for `steps` steps
/// (default: the paper's, as `genviz paper` trains them).
#[pyfunction]
#[pyo3(signature = (name, steps=None))]
fn preset(name: &str, steps: Option<u64>) -> PyResult<String> {
    let images = Scale::quick().images;
    let config = match name {
        "swiss-roll-clean" => presets::swiss_roll_clean(steps.unwrap_or(presets::CLEAN_STEPS)),
        "swiss-roll-poisoned" => {
            presets::swiss_roll_poisoned(steps.unwrap_or(presets::POISONED_STEPS))
        }
        "fashion-mnist-clean" => presets::fashion_mnist_clean(steps.unwrap_or(images.clean_steps)),
        "fashion-mnist-poisoned" => {
            presets::fashion_mnist_poisoned(steps.unwrap_or(images.poisoned_steps))
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "preset `{other}`: expected swiss-roll-clean, swiss-roll-poisoned, fashion-mnist-clean or fashion-mnist-poisoned"
            )))
        }
    };
    to_json(&config)
}

/// `genviz paper`'s configuration: the quick or the full preset, all their figures.
#[pyfunction]
fn paper_config(full: bool) -> PyResult<String> {
    to_json(&PaperConfig {
        figures: Figure::preset(full),
        scale: if full { Scale::full() } else { Scale::quick() },
    })
}

/// `genviz eval`: loss and accuracy of a model on its data, as JSON.
#[pyfunction]
fn evaluate(py: Python<'_>, model: PathBuf, data: &str) -> PyResult<String> {
    let source = serde_json::from_str(data)
        .map_err(|e| PyValueError::new_err(format!("data source: {e}")))?;
    let e = py
        .detach(|| genviz_experiments::model::evaluate(&model, &source))
        .map_err(|e| PyRuntimeError::new_err(format!("{e:#}")))?;
    to_json(&e)
}

/// The class a model predicts for each row of `x` (`[n, features]`, float32), as `genviz eval`
/// would load the model (`data`: the same data source JSON, which an ONNX model needs).
#[pyfunction]
fn predict<'py>(
    py: Python<'py>,
    model: PathBuf,
    x: PyReadonlyArray2<'py, f32>,
    data: &str,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    let source: genviz_experiments::model::DataSource = serde_json::from_str(data)
        .map_err(|e| PyValueError::new_err(format!("data source: {e}")))?;
    let rows = x.as_array();
    let (n, features) = rows.dim();
    let flat: Vec<f32> = rows.iter().copied().collect();
    let classes = py
        .detach(|| -> anyhow::Result<Vec<u32>> {
            let (m, train, _) = source.open(&model, &genviz_experiments::Silent)?;
            if train.dim() != features {
                anyhow::bail!(
                    "x has {features} features per row, but model {} reads {}",
                    model.display(),
                    train.dim()
                );
            }
            Ok(m.net.net().predict(m.params.values(), &flat, n))
        })
        .map_err(|e| PyValueError::new_err(format!("{e:#}")))?;
    Ok(PyArray1::from_vec(py, classes))
}

/// The tensors of a safetensors file, in file order, as `(name, array)` pairs: float32 numpy
/// arrays in their stored shape (PyTorch's layouts), handed over without a copy.
#[pyfunction]
fn read_tensors<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
    let file = genviz_core::io::read_safetensors(Path::new(&path))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    file.tensors
        .into_iter()
        .map(|t| {
            let flat = PyArray1::from_vec(py, t.values);
            let shaped = flat.reshape(t.shape)?;
            Ok((t.name, shaped.into_any()))
        })
        .collect()
}

/// The folder a job writes into when the caller names none: a new one under `runs/`, as the
/// command line chooses it.
#[pyfunction]
fn new_run_dir(kind: &str) -> PathBuf {
    genviz_experiments::run_dir::choose(None, kind)
}

fn to_json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// The native module.
#[pymodule]
fn _genviz(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", genviz_core::VERSION)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(preset, m)?)?;
    m.add_function(wrap_pyfunction!(paper_config, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(read_tensors, m)?)?;
    m.add_function(wrap_pyfunction!(new_run_dir, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    Ok(())
}
