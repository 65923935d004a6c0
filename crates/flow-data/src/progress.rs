//! Reporting what the cache builder does: messages and a progress bar.
//!
//! The library never prints by itself; it reports to a [`Progress`], and the caller
//! decides: [`ConsoleProgress`] prints messages to stdout and draws an indicatif bar on
//! stderr (hidden when stderr is not a terminal), [`QuietProgress`] drops everything.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

/// Receives what the cache builder is doing.
pub trait Progress {
    /// A line saying what was done or found.
    fn message(&self, text: &str);
    /// A measurable step begins: `total` units of work, described by `label`.
    fn start(&self, label: &str, total: u64);
    /// `units` more of the current step are done.
    fn advance(&self, units: u64);
    /// The current step is over.
    fn finish(&self);
}

/// Discards every report.
#[derive(Clone, Copy, Debug, Default)]
pub struct QuietProgress;

impl Progress for QuietProgress {
    fn message(&self, _text: &str) {}
    fn start(&self, _label: &str, _total: u64) {}
    fn advance(&self, _units: u64) {}
    fn finish(&self) {}
}

/// Prints messages to stdout and shows steps as an indicatif progress bar on stderr.
#[derive(Debug, Default)]
pub struct ConsoleProgress {
    bar: Mutex<Option<ProgressBar>>,
}

impl ConsoleProgress {
    /// A reporter with no step in progress.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_bar(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        // A poisoned lock only means another report panicked; the bar itself is fine.
        let mut guard = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }
}

impl Progress for ConsoleProgress {
    fn message(&self, text: &str) {
        self.with_bar(|bar| match bar {
            Some(bar) => bar.suspend(|| println!("{text}")),
            None => println!("{text}"),
        });
    }

    fn start(&self, label: &str, total: u64) {
        let style = ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} ({elapsed})")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let new_bar = ProgressBar::new(total)
            .with_style(style)
            .with_message(label.to_string());
        self.with_bar(|bar| {
            if let Some(old) = bar.replace(new_bar) {
                old.finish_and_clear();
            }
        });
    }

    fn advance(&self, units: u64) {
        self.with_bar(|bar| {
            if let Some(bar) = bar {
                bar.inc(units);
            }
        });
    }

    fn finish(&self) {
        self.with_bar(|bar| {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
        });
    }
}
