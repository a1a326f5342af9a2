//! Kerchunk reference sets: the reference model, zarr v2 metadata, readers and writers.
//!
//! - [`reference`](mod@reference): one reference ([`RefValue`]) and the [`UrlInterner`].
//! - [`reference_set`]: the ordered key → value map ([`ReferenceSet`]).
//! - [`chunk_key`]: chunk keys and chunk-grid arithmetic.
//! - [`zarr`]: `.zarray` / `.zgroup` / `.zattrs` and numcodecs configs.
//! - [`read`](mod@read) / [`write`](mod@write): streaming JSON (and JSON.gz) reader and writer.
//! - [`template`]: the plain `{{name}}` substitution used by `templates` and `gen`.
//! - [`translate`]: HDF5 model → reference set (kerchunk's `SingleHdf5ToZarr`).
//! - [`profile`]: per-file additions for downstream workflows (OPERA DISP).

pub mod chunk_key;
pub mod error;
pub mod profile;
pub mod read;
pub mod reference;
pub mod reference_set;
pub mod template;
pub mod translate;
pub mod write;
pub mod zarr;

pub use error::{RefsError, Result};
pub use read::{read_reference_set, stream_refs, stream_refs_with, Meta};
pub use reference::{RefValue, Url, UrlInterner};
pub use reference_set::ReferenceSet;
pub use write::{is_gzip_path, write_reference_set, RefWriter, WriteOptions};
