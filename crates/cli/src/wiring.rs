//! The CLI's calls into the combine library (`crates/combine`), kept in this one module:
//! command-line values → `CombineOptions`, the object-store [`ByteFetcher`], a counting
//! sink for progress, and `latest`.

use std::io::Write;

use combine::error::FetchError;
use combine::latest::{select_latest, Version};
use combine::{
    profile, run, ByteFetcher, ByteRequest, CombineError, CombineOptions, Input, JsonWriter,
    NpType, RefSink, RefView, Selector,
};

use crate::commands::combine::StoreFetcher;
use crate::error::{CliError, Result};

/// What to combine, as given on the command line.
#[derive(Debug, Clone, Default)]
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

fn push_unique(to: &mut Vec<String>, from: &[String]) {
    for v in from {
        if !to.contains(v) {
            to.push(v.clone());
        }
    }
}

/// The combine options of a spec: the profile's preset, then the explicit options.
fn options(spec: &CombineSpec) -> Result<CombineOptions> {
    let mut o = match spec.profile {
        Some(name) => profile::profile(name)
            .ok_or_else(|| CliError::usage(format!("unknown profile {name:?}")))?
            .options(),
        None => CombineOptions::default(),
    };
    push_unique(&mut o.concat_dims, &spec.concat_dims);
    push_unique(&mut o.identical_dims, &spec.identical_dims);
    for (dim, text) in &spec.coo_map {
        let sel =
            Selector::parse(text).map_err(|e| CliError::usage(format!("--coo-map {dim}: {e}")))?;
        o.selectors.insert(dim.clone(), sel);
    }
    for (dim, text) in &spec.coo_dtypes {
        let t = NpType::parse(text).ok_or_else(|| {
            CliError::usage(format!("--coo-dtype {dim}: unknown numpy dtype {text:?}"))
        })?;
        o.coord_dtypes.insert(dim.clone(), t);
    }
    push_unique(&mut o.filter.keep_prefixes, &spec.keep);
    push_unique(&mut o.filter.drop_prefixes, &spec.drop);
    if let Some(t) = spec.inline_threshold {
        o.inline_threshold = t;
    }
    o.skip_mismatched = spec.skip_mismatched;
    o.validate().map_err(|e| CliError::usage(e.to_string()))?;
    Ok(o)
}

impl ByteFetcher for StoreFetcher {
    fn fetch(&self, requests: &[ByteRequest<'_>]) -> Vec<Result<Vec<u8>, FetchError>> {
        let reqs: Vec<(&str, Option<(u64, u64)>)> =
            requests.iter().map(|r| (r.url, r.range)).collect();
        StoreFetcher::fetch(self, &reqs)
            .into_iter()
            .map(|r| r.map_err(FetchError::from))
            .collect()
    }

    fn size(&self, url: &str) -> Result<u64, FetchError> {
        StoreFetcher::size(self, url).map_err(FetchError::from)
    }
}

/// Forwards references to the output and reports the count.
struct Counting<'a, S: RefSink> {
    inner: &'a mut S,
    written: u64,
    progress: &'a dyn Fn(u64),
}

impl<S: RefSink> RefSink for Counting<'_, S> {
    fn put(&mut self, key: &str, value: RefView<'_>) -> combine::Result<()> {
        self.inner.put(key, value)?;
        self.written += 1;
        if self.written.is_multiple_of(4096) {
            (self.progress)(self.written);
        }
        Ok(())
    }
}

fn failure(e: CombineError) -> CliError {
    match e {
        CombineError::Options(_) => CliError::usage(e.to_string()),
        other => CliError::fail(other.to_string()),
    }
}

/// Combines `spec.inputs` into `out` (a JSON document), fetching small chunks for inlining
/// through `fetcher`; `progress` is called with the number of references written so far.
pub fn combine(
    spec: &CombineSpec,
    fetcher: &StoreFetcher,
    out: &mut dyn Write,
    progress: &dyn Fn(u64),
) -> Result<CombineSummary> {
    let options = options(spec)?;
    let inputs: Vec<Input> = spec
        .inputs
        .iter()
        .map(|(name, path)| Input::file(path).with_name(name.as_str()))
        .collect();
    let mut writer = JsonWriter::new(out).map_err(failure)?;
    let report = {
        let mut sink = Counting {
            inner: &mut writer,
            written: 0,
            progress,
        };
        let r = run(&inputs, &options, Some(fetcher), &mut sink).map_err(failure)?;
        progress(sink.written);
        r
    };
    writer.finish().map_err(failure)?;
    Ok(CombineSummary {
        combined: report.combined.len(),
        skipped: report
            .skipped
            .iter()
            .map(|s| (s.input.clone(), s.reason.to_string()))
            .collect(),
        warnings: report.warnings,
        references: report.references,
    })
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
pub fn latest(names: &[String], min_version: &str) -> Result<LatestOutcome> {
    let min = Version::parse(min_version).ok_or_else(|| {
        CliError::usage(format!(
            "--min-version {min_version:?}: expected <major>.<minor>"
        ))
    })?;
    let s = select_latest(names, min);
    Ok(LatestOutcome {
        kept: s.kept,
        superseded: s.superseded,
        below_minimum: s.below_minimum,
        unmatched: s.unmatched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_then_explicit_options() {
        let spec = CombineSpec {
            profile: Some("opera-disp"),
            concat_dims: vec!["source_file_name".into()],
            drop: vec!["corrections".into()],
            coo_map: vec![("source_file_name".into(), "re:F(\\d+)".into())],
            inline_threshold: Some(0),
            ..CombineSpec::default()
        };
        let o = options(&spec).unwrap();
        assert_eq!(
            o.concat_dims,
            ["source_file_name"],
            "no duplicate from the profile"
        );
        assert_eq!(o.identical_dims, ["y", "x"]);
        assert!(o.filter.drop_prefixes.contains(&"corrections".to_string()));
        assert_eq!(o.inline_threshold, 0);
        let bad = CombineSpec {
            concat_dims: vec!["t".into()],
            coo_dtypes: vec![("t".into(), "float128x".into())],
            ..CombineSpec::default()
        };
        assert!(options(&bad).unwrap_err().usage);
        let bad = CombineSpec {
            concat_dims: vec!["t".into()],
            coo_map: vec![("t".into(), "re:(".into())],
            ..CombineSpec::default()
        };
        assert!(options(&bad).unwrap_err().usage);
    }

    #[test]
    fn latest_versions() {
        let names: Vec<String> = [
            "P_A_v1.0_20250101T000000Z.nc",
            "P_A_v1.1_20250201T000000Z.nc",
            "P_B_v0.8_20250101T000000Z.nc",
            "junk.nc",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let o = latest(&names, "0.9").unwrap();
        assert_eq!(o.kept, ["P_A_v1.1_20250201T000000Z.nc"]);
        assert_eq!(o.superseded.len(), 1);
        assert_eq!(o.below_minimum, ["P_B_v0.8_20250101T000000Z.nc"]);
        assert_eq!(o.unmatched, ["junk.nc"]);
        assert!(latest(&names, "one").unwrap_err().usage);
    }
}
