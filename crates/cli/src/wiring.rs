//! The CLI's calls into the combine library (`crates/combine`), kept in this one module so
//! they are a single, obvious wiring point.
//!
//! WIRING STATUS: the library is being written on its own branch (`combine`); until it is
//! merged these functions report that the feature is not in this build. Everything around
//! them (arguments, storage, inputs, outputs, progress) is live.

use std::io::Write;

use crate::error::{CliError, Result};

fn not_landed(what: &str, library: &str) -> CliError {
    CliError::fail(format!(
        "`kerchunk {what}` is not available in this build yet: it needs {library}, which has not been merged"
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
