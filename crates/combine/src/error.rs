//! Errors of the combiner. Every variant names the input (file name or label) and, where one
//! applies, the reference key or variable concerned.

use thiserror::Error;

/// Result alias used throughout this crate.
pub type Result<T, E = CombineError> = std::result::Result<T, E>;

/// Boxed error from a caller-supplied [`crate::fetch::ByteFetcher`].
pub type FetchError = Box<dyn std::error::Error + Send + Sync>;

/// Which property of a variable differs between two inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MismatchKind {
    /// `.zarray` `chunks` (e.g. OPERA DISP 128×128 before SAS v0.5.4 vs 256×256 after).
    ChunkShape,
    /// `.zarray` `shape` along a dimension that is not concatenated.
    Shape,
    /// `.zarray` `dtype`.
    Dtype,
    /// `.zarray` `filters` and `compressor`.
    Codecs,
    /// `.zarray` `fill_value`.
    FillValue,
    /// `_ARRAY_DIMENSIONS` (names or number of dimensions).
    Dimensions,
    /// `.zarray` `order` or `dimension_separator`.
    Layout,
}

impl std::fmt::Display for MismatchKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MismatchKind::ChunkShape => "chunk shape",
            MismatchKind::Shape => "shape",
            MismatchKind::Dtype => "dtype",
            MismatchKind::Codecs => "codecs",
            MismatchKind::FillValue => "fill value",
            MismatchKind::Dimensions => "dimensions",
            MismatchKind::Layout => "memory layout",
        })
    }
}

/// An error while combining reference sets.
#[derive(Debug, Error)]
pub enum CombineError {
    /// Reading an input failed.
    #[error("input {input}: {source}")]
    Io {
        /// The input.
        input: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An input is not a well-formed reference document.
    #[error("input {input}: malformed reference JSON: {message}")]
    Json {
        /// The input.
        input: String,
        /// What went wrong (with line and column when known).
        message: String,
    },
    /// One reference of an input is invalid or cannot be combined.
    #[error("input {input}, key {key:?}: {reason}")]
    InvalidRef {
        /// The input.
        input: String,
        /// The reference key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A coordinate selector could not be evaluated on an input.
    #[error("coordinate {dim:?}, input {input}: {reason}")]
    Selector {
        /// The concat dimension.
        dim: String,
        /// The input.
        input: String,
        /// What went wrong.
        reason: String,
    },
    /// The same variable differs between two inputs.
    #[error("variable {var:?}: {kind} differs between input {first} ({first_value}) and input {second} ({second_value})")]
    Mismatch {
        /// The variable (array path).
        var: String,
        /// Which property differs.
        kind: MismatchKind,
        /// The input that defined the variable first.
        first: String,
        /// Its value of the property.
        first_value: String,
        /// The input that differs.
        second: String,
        /// Its value of the property.
        second_value: String,
    },
    /// Two inputs claim the same coordinate value(s), so their chunks would overwrite each other.
    #[error("inputs {first} and {second} both have {dim:?} = {value}")]
    DuplicateCoordinate {
        /// The concat dimension (the first one on which they overlap, for several dims).
        dim: String,
        /// The coordinate value (formatted).
        value: String,
        /// The earlier input.
        first: String,
        /// The later input.
        second: String,
    },
    /// An input's chunks cannot be placed in the output without misalignment or overlap.
    #[error("variable {var:?}, input {input}: {reason}")]
    Layout {
        /// The variable.
        var: String,
        /// The input.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// The options are inconsistent.
    #[error("invalid options: {0}")]
    Options(String),
    /// Fetching bytes (for inlining or for a `data:` selector) failed.
    #[error("input {input}, key {key:?}: fetching {url}: {source}")]
    Fetch {
        /// The input.
        input: String,
        /// The reference key whose bytes were fetched.
        key: String,
        /// The target URL.
        url: String,
        /// The fetcher's error.
        #[source]
        source: FetchError,
    },
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Output(#[source] std::io::Error),
    /// No input was given, or every input was skipped.
    #[error("no inputs to combine{0}")]
    NoInputs(String),
}

impl CombineError {
    /// Whether this error is a per-input inconsistency that `skip_mismatched` may turn into
    /// leaving the input out (variable mismatches and duplicate coordinates).
    pub fn is_skippable(&self) -> bool {
        matches!(
            self,
            CombineError::Mismatch { .. } | CombineError::DuplicateCoordinate { .. }
        )
    }
}
