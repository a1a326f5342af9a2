//! Pure-Rust reader of HDF5 metadata through byte ranges.
//!
//! Two layers:
//! - [`format`]: sans-IO parsers, one module per on-disk structure, decoding from `&[u8]`.
//! - `walk`: async traversal over a range reader (local file or object store) that turns a
//!   file into a model of groups, datasets, attributes and chunk byte ranges.

pub mod error;
pub mod format;
pub mod model;
pub mod walk;

pub use error::FormatError;
