//! The command's error type: a message (already naming what failed) and whether it is a
//! usage error (exit 2) or a failure (exit 1). Messages pass through
//! [`redact`](crate::secrets::redact) before they are printed.

use std::fmt;

/// Exit code of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit code when the work failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a command-line usage error.
pub const EXIT_USAGE: u8 = 2;

/// A failed command.
#[derive(Debug)]
pub struct CliError {
    /// True for usage errors (bad arguments), false for failures of the work itself.
    pub usage: bool,
    /// What went wrong.
    pub message: String,
}

impl CliError {
    /// A failure of the work (exit 1).
    pub fn fail(message: impl Into<String>) -> Self {
        Self {
            usage: false,
            message: message.into(),
        }
    }

    /// A command-line usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            usage: true,
            message: message.into(),
        }
    }

    /// The exit code for this error.
    pub fn exit_code(&self) -> u8 {
        if self.usage {
            EXIT_USAGE
        } else {
            EXIT_FAILURE
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::secrets::redact(&self.message))
    }
}

impl std::error::Error for CliError {}

/// Result alias of the command.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// Adds context to errors: `what: error`.
pub trait Context<T> {
    /// Turns an error into a failure whose message starts with `what`.
    fn context(self, what: impl fmt::Display) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| CliError::fail(format!("{what}: {e}")))
    }
}
