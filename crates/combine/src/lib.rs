//! Combining many kerchunk reference sets along concat dimensions — kerchunk's
//! `MultiZarrToZarr`, streaming and with the validation it lacks.
//!
//! ```no_run
//! use combine::{run, CombineOptions, Input, JsonWriter, LocalFetcher};
//! let inputs = vec![Input::file("a.json"), Input::file("b.json.gz")];
//! let options = CombineOptions::concat(["time"]);
//! let mut out = JsonWriter::new(std::fs::File::create("combined.json")?)?;
//! let report = run(&inputs, &options, Some(&LocalFetcher::default()), &mut out)?;
//! out.finish()?;
//! eprintln!("{} inputs combined", report.combined.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Two passes over the inputs: pass 1 keeps per input only its coordinate values and
//! interned array signatures; pass 2 streams every reference straight to the output, so
//! memory stays flat in the number of references.

mod batch;
pub mod cftime;
pub mod combine;
pub mod coord;
pub mod decode;
pub mod error;
pub mod fetch;
pub mod filter;
pub mod input;
pub mod latest;
pub mod meta;
pub mod options;
pub mod output;
pub mod profile;
pub mod reference;
mod scan;
pub mod selector;

pub use crate::combine::{run, CombineReport, SkippedInput};
pub use crate::coord::NpType;
pub use crate::error::{CombineError, MismatchKind, Result};
pub use crate::fetch::{ByteFetcher, ByteRequest, LocalFetcher};
pub use crate::filter::KeyFilter;
pub use crate::input::{Input, RefView};
pub use crate::options::CombineOptions;
pub use crate::output::{JsonWriter, RefSink};
pub use crate::profile::{Profile, OPERA_DISP};
pub use crate::reference::Reference;
pub use crate::selector::Selector;
