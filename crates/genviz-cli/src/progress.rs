//! How the command line shows a job's progress: bars on standard error when it is a terminal;
//! otherwise (CI logs, `nohup`, a notebook cell) one line per finished stage with its time,
//! so that a long run is never silent.

use genviz_experiments::{Progress, Stage};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The command line's [`Progress`].
pub struct Terminal {
    multi: MultiProgress,
    bars: bool,
}

impl Terminal {
    /// Bars when standard error is a terminal, lines otherwise.
    pub fn new() -> Self {
        Terminal {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: std::io::stderr().is_terminal(),
        }
    }

    fn line(&self, text: &str) {
        if self.bars {
            let _ = self.multi.println(text);
        } else {
            eprintln!("{text}");
        }
    }
}

impl Progress for Terminal {
    fn stage(&self, label: &str, total: u64, unit: &str) -> Box<dyn Stage + '_> {
        let bar = self.bars.then(|| {
            let bar = self.multi.add(ProgressBar::new(total));
            let template = format!(
                "{{prefix:>20}} [{{bar:30}}] {{pos}}/{{len}} {unit}, {{elapsed}} (eta {{eta}}) {{msg}}"
            );
            bar.set_style(
                ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar
        });
        Box::new(TerminalStage {
            terminal: self,
            bar,
            label: label.to_string(),
            start: Instant::now(),
            finished: AtomicBool::new(false),
        })
    }

    fn note(&self, message: &str) {
        self.line(message);
    }
}

struct TerminalStage<'a> {
    terminal: &'a Terminal,
    bar: Option<ProgressBar>,
    label: String,
    start: Instant,
    finished: AtomicBool,
}

impl Stage for TerminalStage<'_> {
    fn update(&self, done: u64, status: Option<&str>) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            if let Some(s) = status {
                bar.set_message(s.to_string());
            }
        }
    }

    fn log(&self, line: &str) {
        self.terminal.line(line);
    }

    fn finish(&self, summary: &str) {
        self.finished.store(true, Ordering::Relaxed);
        match &self.bar {
            Some(bar) => bar.finish_with_message(summary.to_string()),
            None => eprintln!(
                "{}: {summary} ({:.1} s)",
                self.label,
                self.start.elapsed().as_secs_f64()
            ),
        }
    }
}

impl Drop for TerminalStage<'_> {
    fn drop(&mut self) {
        if self.finished.load(Ordering::Relaxed) {
            return;
        }
        match &self.bar {
            Some(bar) => bar.abandon_with_message("failed"),
            None => eprintln!(
                "{}: failed after {:.1} s",
                self.label,
                self.start.elapsed().as_secs_f64()
            ),
        }
    }
}
