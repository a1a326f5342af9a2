//! Errors of a walk: I/O, malformed structures, truncation and resource limits, each naming
//! the file.

use thiserror::Error;

use crate::error::FormatError;

/// An error while walking a file.
#[derive(Debug, Error)]
pub enum WalkError {
    /// The range reader failed.
    #[error("{file}: read failed: {source}")]
    Io {
        /// File location.
        file: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A structure could not be decoded.
    #[error("{file}: {source}")]
    Format {
        /// File location.
        file: String,
        /// What was wrong, naming the structure and offset.
        #[source]
        source: FormatError,
    },
    /// A structure runs past the end of the file.
    #[error("{file}: {structure} at offset {offset} needs bytes up to {needed_end}, but the file ends at {file_len} (truncated?)")]
    Truncated {
        /// File location.
        file: String,
        /// Structure being read.
        structure: &'static str,
        /// Its address.
        offset: u64,
        /// Absolute end position it needs.
        needed_end: u64,
        /// File length.
        file_len: u64,
    },
    /// The file is not HDF5 (no signature found).
    #[error("{file}: not an HDF5 file (no superblock signature at 0, 512, 1024, …)")]
    NotHdf5 {
        /// File location.
        file: String,
    },
    /// A limit protecting against hostile input was hit, or a cycle was found.
    #[error("{file}: {what}")]
    Limit {
        /// File location.
        file: String,
        /// What limit, and where.
        what: String,
    },
}

impl WalkError {
    /// Wrap a format error for `file`.
    pub fn format(file: &str, source: FormatError) -> Self {
        Self::Format {
            file: file.to_string(),
            source,
        }
    }

    /// Wrap an I/O error for `file`.
    pub fn io(file: &str, source: std::io::Error) -> Self {
        Self::Io {
            file: file.to_string(),
            source,
        }
    }

    /// A limit or cycle error for `file`.
    pub fn limit(file: &str, what: impl Into<String>) -> Self {
        Self::Limit {
            file: file.to_string(),
            what: what.into(),
        }
    }
}

/// Result alias for the walk layer.
pub type Result<T, E = WalkError> = std::result::Result<T, E>;
