//! How long jobs report progress without printing: the library calls a [`Progress`], and
//! whoever runs the job decides what to show (bars in a terminal, a line per finished stage
//! in a log, a tqdm bar in a notebook, nothing in a test).

/// Receives the stages of a job as they start, advance and end.
///
/// Implementations must be shareable across threads: independent runs (Fig 8's three nets)
/// train side by side and report at the same time.
pub trait Progress: Sync {
    /// A stage of `total` units (`unit`: "steps", "points", "rays", ...) begins. Dropping the
    /// returned stage without [`Stage::finish`] means it failed.
    fn stage(&self, label: &str, total: u64, unit: &str) -> Box<dyn Stage + '_>;

    /// A remark worth its own line: a resumed file, a number measured on the way.
    fn note(&self, message: &str);
}

/// One running stage of a job.
pub trait Stage: Send + Sync {
    /// `done` of the stage's units are finished; `status` is a short state such as
    /// `"train 99.0%  test 95.5%"`.
    fn update(&self, done: u64, status: Option<&str>);

    /// A line worth keeping in a log while the stage runs (a logged row of a slow training).
    fn log(&self, line: &str);

    /// The stage ended well; `summary` says with what.
    fn finish(&self, summary: &str);
}

/// Reports nothing: for tests, benchmarks and callers that only want the results.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _label: &str, _total: u64, _unit: &str) -> Box<dyn Stage + '_> {
        Box::new(Silent)
    }
    fn note(&self, _message: &str) {}
}

impl Stage for Silent {
    fn update(&self, _done: u64, _status: Option<&str>) {}
    fn log(&self, _line: &str) {}
    fn finish(&self, _summary: &str) {}
}

/// Records every call, for tests that check what a job reports.
#[derive(Debug, Default)]
pub struct Recorder {
    events: std::sync::Mutex<Vec<String>>,
}

impl Recorder {
    /// The calls so far, one line each: `stage LABEL TOTAL UNIT`, `note ...`, `finish LABEL:
    /// SUMMARY`, `failed LABEL` (updates and log lines are left out).
    pub fn events(&self) -> Vec<String> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    fn push(&self, event: String) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event);
        }
    }
}

impl Progress for Recorder {
    fn stage(&self, label: &str, total: u64, unit: &str) -> Box<dyn Stage + '_> {
        self.push(format!("stage {label} {total} {unit}"));
        Box::new(RecordedStage {
            recorder: self,
            label: label.to_string(),
            finished: std::sync::atomic::AtomicBool::new(false),
        })
    }
    fn note(&self, message: &str) {
        self.push(format!("note {message}"));
    }
}

struct RecordedStage<'a> {
    recorder: &'a Recorder,
    label: String,
    finished: std::sync::atomic::AtomicBool,
}

impl Stage for RecordedStage<'_> {
    fn update(&self, _done: u64, _status: Option<&str>) {}
    fn log(&self, _line: &str) {}
    fn finish(&self, summary: &str) {
        self.finished
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.recorder
            .push(format!("finish {}: {summary}", self.label));
    }
}

impl Drop for RecordedStage<'_> {
    fn drop(&mut self) {
        if !self.finished.load(std::sync::atomic::Ordering::Relaxed) {
            self.recorder.push(format!("failed {}", self.label));
        }
    }
}
