//! Progress bars on standard error (hidden when it is not a terminal, e.g. in CI logs).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A set of bars shown together (one per concurrent run).
pub struct Bars {
    multi: MultiProgress,
}

impl Bars {
    /// Bars drawn on stderr when it is a terminal.
    pub fn new() -> Self {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
        }
    }

    /// A bar for `len` grid points, with an ETA.
    pub fn add_points(&self, label: &str, len: u64) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} [{bar:30}] {pos}/{len} points, {elapsed} (eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        bar
    }

    /// A bar for a job of `len` steps, with an ETA.
    pub fn add(&self, label: &str, len: u64) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>20} [{bar:30}] {pos}/{len} steps, {elapsed} (eta {eta}) {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        bar
    }
}

/// Shows a logged training row on `bar` and as a line on standard error, `start` being when
/// the run began: the progress report every conv-path training shares.
pub fn report_row(
    bar: &ProgressBar,
    label: &str,
    start: std::time::Instant,
    row: &genviz_train::MetricRow,
) {
    bar.set_position(row.step);
    bar.set_message(format!(
        "train {:.1}%  test {:.1}%",
        100.0 * row.train_acc,
        100.0 * row.test_acc
    ));
    eprintln!(
        "{label} step {}: objective {:.4}, train {:.2}% test {:.2}% ({:.0} s)",
        row.step,
        row.objective,
        100.0 * row.train_acc,
        100.0 * row.test_acc,
        start.elapsed().as_secs_f64()
    );
}

/// Closes `bar` with the final accuracies.
pub fn finish(bar: &ProgressBar, m: &genviz_train::FinalMetrics) {
    bar.finish_with_message(format!(
        "train {:.1}%  test {:.1}%",
        100.0 * m.train_acc,
        100.0 * m.test_acc
    ));
}
