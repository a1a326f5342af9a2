//! One reference value and URL interning: kerchunk-refs' model, under the name this crate's
//! API uses.

pub use kerchunk_refs::reference::{RefValue as Reference, Url, UrlInterner};
