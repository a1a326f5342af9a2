//! Progress on a terminal (indicatif): shown only when stderr is a TTY, without `--quiet`
//! and without `-v` (request logs and bars do not mix).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Makes progress bars, or hidden ones when progress is off.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Progress is shown when not `quiet`, not verbose, and stderr is a terminal.
    pub fn new(quiet: bool) -> Self {
        Self {
            enabled: !quiet && crate::log::verbosity() == 0 && std::io::stderr().is_terminal(),
        }
    }

    /// A bar counting `len` items of `what` (e.g. "files indexed").
    pub fn bar(&self, len: u64, what: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {what} {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        pb.set_style(style);
        pb.enable_steady_tick(Duration::from_millis(200));
        pb
    }

    /// A counter without a known total (e.g. "references combined").
    pub fn counter(&self, what: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{human_pos}} {what} {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
        pb.set_style(style);
        pb.enable_steady_tick(Duration::from_millis(200));
        pb
    }
}

/// Prints a line on stderr without garbling a visible bar (redacted).
pub fn note(pb: &ProgressBar, line: &str) {
    let line = crate::secrets::redact(line);
    if pb.is_hidden() {
        eprintln!("{line}");
    } else {
        pb.suspend(|| eprintln!("{line}"));
    }
}
