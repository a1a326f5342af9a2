//! Errors of the reference model, zarr metadata and JSON reader/writer.
//!
//! Every variant that comes from malformed input names the reference key (and, for JSON input,
//! the line and column) so a user can find the offending entry. Nothing in this crate panics on
//! malformed input.

use thiserror::Error;

/// Result alias used throughout this crate.
pub type Result<T, E = RefsError> = std::result::Result<T, E>;

/// An error while building, reading or writing a reference set.
#[derive(Debug, Error)]
pub enum RefsError {
    /// Reading or writing the underlying stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The document is not well-formed JSON, or has the wrong shape at the top level.
    #[error("malformed reference JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line of the error (0 if unknown).
        line: usize,
        /// 1-based column of the error (0 if unknown).
        column: usize,
        /// What went wrong.
        message: String,
    },
    /// One entry of `refs` (or of a version-0 document) has an invalid value.
    #[error("reference {key:?} (line {line}, column {column}): {reason}")]
    InvalidRef {
        /// The reference key.
        key: String,
        /// What is wrong with its value.
        reason: String,
        /// 1-based line where the problem was detected (0 if unknown).
        line: usize,
        /// 1-based column where the problem was detected (0 if unknown).
        column: usize,
    },
    /// `"version"` is present but is not 1.
    #[error("unsupported reference spec version {0}")]
    UnsupportedVersion(String),
    /// A `{{name}}` placeholder names a template or `gen` variable that is not defined.
    #[error("{context}: undefined template variable {name:?}")]
    UnknownTemplate {
        /// Where the placeholder appears (reference key or `gen[i].field`).
        context: String,
        /// The undefined name.
        name: String,
    },
    /// A template uses jinja syntax beyond plain `{{name}}` substitution (expressions,
    /// filters, calls, `{% %}` blocks), which this reader does not implement.
    #[error("{context}: unsupported template syntax {expr:?} (only plain {{{{name}}}} substitution is supported)")]
    UnsupportedTemplate {
        /// Where the template appears.
        context: String,
        /// The offending fragment.
        expr: String,
    },
    /// A `gen` entry is malformed.
    #[error("gen[{index}]: {reason}")]
    Gen {
        /// Position of the entry in the `gen` list.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A chunk key or chunk-grid computation is invalid.
    #[error("chunk key {key:?}: {reason}")]
    ChunkKey {
        /// The key (or key suffix) concerned.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// Zarr v2 metadata (`.zarray`, `.zgroup`, `.zattrs`, codec config) is invalid.
    #[error("zarr metadata {what}: {reason}")]
    Zarr {
        /// Which document or codec.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The writer was given something it cannot represent faithfully.
    #[error("cannot write reference {key:?}: {reason}")]
    Write {
        /// The reference key.
        key: String,
        /// Why it cannot be written.
        reason: String,
    },
    /// An error returned by a caller-supplied callback, passed through unchanged.
    #[error("callback failed: {0}")]
    Callback(Box<dyn std::error::Error + Send + Sync>),
}

impl RefsError {
    /// Builds a [`RefsError::Json`] from a `serde_json` error, keeping its position.
    pub fn from_json(err: &serde_json::Error) -> Self {
        RefsError::Json {
            line: err.line(),
            column: err.column(),
            message: strip_position(&err.to_string()),
        }
    }
}

/// `serde_json` appends " at line L column C" to its messages; the position is kept in fields.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(pos) => msg.get(..pos).unwrap_or(msg).to_string(),
        None => msg.to_string(),
    }
}
