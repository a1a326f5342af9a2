//! The CLI's calls into the translation (`kerchunk_refs::translate`) and combine (`combine`)
//! libraries, kept in this one module so each is a single, obvious wiring point.
//!
//! WIRING STATUS: both libraries are being written on their own branches (`translate`,
//! `combine`); until they are merged these functions report that the feature is not in this
//! build. Everything around them (arguments, storage, outputs, progress, the OPERA profile)
//! is live.

use std::io::Write;
use std::sync::Arc;

use hdf5_meta::model::Hdf5File;
use hdf5_meta::walk::RangeReader;
use kerchunk_refs::ReferenceSet;

use crate::error::{CliError, Result};

fn not_landed(what: &str, library: &str) -> CliError {
    CliError::fail(format!(
        "`kerchunk {what}` is not available in this build yet: it needs {library}, which has not been merged"
    ))
}

/// Options of one translation.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // Read once `translate` is wired.
pub struct TranslateOptions {
    /// Chunks smaller than this many bytes are embedded.
    pub inline_threshold: u64,
}

/// Translates a walked file into references whose chunks point at `url`; also returns the
/// translation's warnings as text.
///
/// WIRING (branch `translate`): `kerchunk_refs::translate::translate(file,
/// &RawReader::open(reader, io).await?, Some(url), &IndexOptions { inline_threshold, .. })`.
pub async fn translate(
    _file: &Hdf5File,
    _reader: Arc<dyn RangeReader>,
    _url: &str,
    _opts: TranslateOptions,
) -> Result<(ReferenceSet, Vec<String>)> {
    Err(not_landed(
        "index",
        "the HDF5 → reference translation (kerchunk_refs::translate)",
    ))
}

/// What to combine, as given on the command line.
#[derive(Debug, Clone, Default)]
#[allow(dead_code)] // Read once `combine` is wired.
pub struct CombineSpec {
    /// Inputs: (name shown and matched by selectors, local file holding the references).
    pub inputs: Vec<(String, std::path::PathBuf)>,
    /// `--concat-dim`.
    pub concat_dims: Vec<String>,
    /// `--identical-dim`.
    pub identical_dims: Vec<String>,
    /// `--coo-map` as (dim, selector text).
    pub coo_map: Vec<(String, String)>,
    /// `--coo-dtype` as (dim, dtype text).
    pub coo_dtypes: Vec<(String, String)>,
    /// `--keep`.
    pub keep: Vec<String>,
    /// `--drop`.
    pub drop: Vec<String>,
    /// `--profile` name.
    pub profile: Option<&'static str>,
    /// `--inline-threshold`.
    pub inline_threshold: Option<u64>,
    /// `--skip-mismatched`.
    pub skip_mismatched: bool,
}

/// What a combine did.
#[derive(Debug, Clone, Default)]
pub struct CombineSummary {
    /// Inputs combined.
    pub combined: usize,
    /// Inputs left out, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Non-fatal findings.
    pub warnings: Vec<String>,
    /// References written.
    pub references: u64,
}

/// Combines `spec.inputs` into `out` (a JSON document), fetching small chunks for inlining
/// through `fetcher`; `progress` is called with the number of references written so far.
///
/// WIRING (branch `combine`): build `combine::CombineOptions` (profile preset, dims,
/// `Selector::parse`, `NpType::parse`, `KeyFilter`, inline threshold, skip_mismatched), inputs
/// as `Input::file(path).with_name(name)`, implement `combine::ByteFetcher` for
/// [`crate::commands::combine::StoreFetcher`], and run `combine::run` into a
/// `combine::JsonWriter` over `out`.
pub fn combine(
    _spec: &CombineSpec,
    _fetcher: &crate::commands::combine::StoreFetcher,
    _out: &mut dyn Write,
    _progress: &dyn Fn(u64),
) -> Result<CombineSummary> {
    Err(not_landed(
        "combine",
        "the combine library (crates/combine)",
    ))
}

/// The result of `latest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatestOutcome {
    /// Names kept, in input order.
    pub kept: Vec<String>,
    /// (superseded name, the name that supersedes it).
    pub superseded: Vec<(String, String)>,
    /// Newest products below the minimum version.
    pub below_minimum: Vec<String>,
    /// Names without a `_v<major>.<minor>` version.
    pub unmatched: Vec<String>,
}

/// Keeps the newest version of each product.
///
/// WIRING (branch `combine`): `combine::latest::select_latest(names,
/// Version::parse(min_version)?)`.
pub fn latest(_names: &[String], _min_version: &str) -> Result<LatestOutcome> {
    Err(not_landed("latest", "the combine library (crates/combine)"))
}
