//! Sans-IO parsers of HDF5 on-disk structures. Each parser takes a byte slice that starts at
//! the structure's (base-relative) address and returns a typed value or a [`FormatError`];
//! a too-short slice yields [`FormatError::Incomplete`] with the number of bytes needed.
//!
//! [`FormatError`]: crate::error::FormatError
//! [`FormatError::Incomplete`]: crate::error::FormatError::Incomplete

pub mod btree_v1;
pub mod btree_v2;
pub mod checksum;
pub mod chunk_index;
pub mod cursor;
pub mod fractal_heap;
pub mod global_heap;
pub mod local_heap;
pub mod messages;
pub mod object_header;
pub mod sohm;
pub mod superblock;
pub mod symbol_table;
pub mod value;

pub use cursor::{Cursor, Sizes};
