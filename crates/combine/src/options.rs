//! Combine options (kerchunk `MultiZarrToZarr` parameters plus this crate's validation and
//! filtering switches).

use std::collections::BTreeMap;

use crate::coord::NpType;
use crate::error::{CombineError, Result};
use crate::filter::KeyFilter;
use crate::selector::Selector;

/// kerchunk's default `inline_threshold`.
pub const DEFAULT_INLINE_THRESHOLD: u64 = 500;

/// What to combine and how.
#[derive(Debug, Clone)]
pub struct CombineOptions {
    /// Dimensions to concatenate along (new or existing), in order.
    pub concat_dims: Vec<String>,
    /// Arrays copied verbatim from the first input that has them.
    pub identical_dims: Vec<String>,
    /// Selector per concat dim; missing ones default to `data:<dim>`.
    pub selectors: BTreeMap<String, Selector>,
    /// Coordinate dtype per concat dim (kerchunk `coo_dtypes`), applied to every selector
    /// value and to the written coordinate array.
    pub coord_dtypes: BTreeMap<String, NpType>,
    /// Key filter applied to every input before anything else.
    pub filter: KeyFilter,
    /// Chunk references smaller than this many bytes are fetched and written inline (`0`
    /// disables; needs a fetcher, without one nothing is inlined).
    pub inline_threshold: u64,
    /// Leave out (and report) inputs that mismatch or duplicate coordinates instead of
    /// failing.
    pub skip_mismatched: bool,
}

impl Default for CombineOptions {
    fn default() -> Self {
        CombineOptions {
            concat_dims: Vec::new(),
            identical_dims: Vec::new(),
            selectors: BTreeMap::new(),
            coord_dtypes: BTreeMap::new(),
            filter: KeyFilter::default(),
            inline_threshold: DEFAULT_INLINE_THRESHOLD,
            skip_mismatched: false,
        }
    }
}

impl CombineOptions {
    /// Options concatenating along `dims` with default selectors.
    pub fn concat<S: Into<String>>(dims: impl IntoIterator<Item = S>) -> Self {
        CombineOptions {
            concat_dims: dims.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// The selector for `dim` (`data:<dim>` unless set).
    pub fn selector(&self, dim: &str) -> Selector {
        self.selectors
            .get(dim)
            .cloned()
            .unwrap_or_else(|| Selector::Data(dim.to_string()))
    }

    /// Checks the options are consistent (kerchunk: "Values being mapped cannot also be
    /// identical").
    pub fn validate(&self) -> Result<()> {
        if self.concat_dims.is_empty() {
            return Err(CombineError::Options("no concat dimension given".into()));
        }
        for (i, d) in self.concat_dims.iter().enumerate() {
            if d == "var" {
                return Err(CombineError::Options(
                    "the special concat dim \"var\" (merging variables) is not supported".into(),
                ));
            }
            if self.concat_dims.iter().skip(i + 1).any(|e| e == d) {
                return Err(CombineError::Options(format!(
                    "concat dim {d:?} given twice"
                )));
            }
        }
        for d in &self.identical_dims {
            if self.concat_dims.contains(d) || self.selectors.contains_key(d) {
                return Err(CombineError::Options(format!(
                    "{d:?}: values being mapped cannot also be identical"
                )));
            }
        }
        for k in self.selectors.keys().chain(self.coord_dtypes.keys()) {
            if !self.concat_dims.contains(k) {
                return Err(CombineError::Options(format!(
                    "selector or dtype given for {k:?}, which is not a concat dim"
                )));
            }
        }
        Ok(())
    }
}
