//! Sans-IO parsers of HDF5 on-disk structures. Each parser takes a byte slice that starts at
//! the structure's (base-relative) address and returns a typed value or a [`FormatError`];
//! a too-short slice yields [`FormatError::Incomplete`] with the number of bytes needed.
//!
//! [`FormatError`]: crate::error::FormatError
//! [`FormatError::Incomplete`]: crate::error::FormatError::Incomplete

pub mod btree_v2;
pub mod checksum;
pub mod cursor;
pub mod fractal_heap;
pub mod messages;
pub mod sohm;

pub use cursor::{Cursor, Sizes};
