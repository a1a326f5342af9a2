//! Async traversal of an HDF5 file over a range reader.

pub mod cache;
pub mod raw;
pub mod source;

pub use cache::{BlockCache, IoOptions, IoStats};
pub use source::{LocalFile, MemoryFile, RangeReader, StoreObject};
