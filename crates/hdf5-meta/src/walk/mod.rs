//! Async traversal of an HDF5 file over a range reader: the I/O side of the crate. It fetches
//! the structures the [`format`](crate::format) parsers decode, level by level and in
//! coalesced batches, and assembles the [`model`](crate::model).

mod attributes;
mod btree_v1;
mod btree_v2;
pub mod cache;
mod chunk_arrays;
mod chunks;
pub mod context;
mod dense;
pub mod error;
mod extension;
mod external;
mod groups;
pub mod header;
pub mod raw;
pub mod source;
mod walker;

pub use cache::{BlockCache, IoOptions, IoStats};
pub use error::WalkError;
pub use source::{LocalFile, MemoryFile, RangeReader, StoreObject, WithLatency};
pub use walker::{walk, walk_cached, WalkOptions};
