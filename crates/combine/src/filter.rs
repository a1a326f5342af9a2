//! Key filters applied to every input before combining, matching by plain key prefix exactly
//! as the ASF workflow's `preprocess` does (`key.startswith(prefix)`): a keep-list (whitelist;
//! empty keeps everything) and then a drop-list (blacklist).
//!
//! Note that matching is by string prefix, not by path component: keep-prefix `x` also keeps
//! `x_extra/0` — the ASF behaviour this reproduces.

/// Keep/drop prefix filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFilter {
    /// A key is kept only if it starts with one of these (no entries: every key is kept).
    pub keep_prefixes: Vec<String>,
    /// A kept key is then dropped if it starts with one of these.
    pub drop_prefixes: Vec<String>,
}

impl KeyFilter {
    /// A filter from keep and drop prefixes.
    pub fn new<K, D>(keep: K, drop: D) -> Self
    where
        K: IntoIterator,
        K::Item: Into<String>,
        D: IntoIterator,
        D::Item: Into<String>,
    {
        KeyFilter {
            keep_prefixes: keep.into_iter().map(Into::into).collect(),
            drop_prefixes: drop.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the filter keeps every key.
    pub fn is_noop(&self) -> bool {
        self.keep_prefixes.is_empty() && self.drop_prefixes.is_empty()
    }

    /// Whether `key` passes the filter.
    pub fn accepts(&self, key: &str) -> bool {
        let kept = self.keep_prefixes.is_empty()
            || self
                .keep_prefixes
                .iter()
                .any(|p| key.starts_with(p.as_str()));
        kept && !self
            .drop_prefixes
            .iter()
            .any(|p| key.starts_with(p.as_str()))
    }

    /// A matcher equivalent to [`KeyFilter::accepts`] that only compares the prefixes
    /// sharing a key's first byte (faster for long prefix lists).
    pub fn matcher(&self) -> FilterMatcher<'_> {
        let mut keep: Vec<Vec<&str>> = vec![Vec::new(); 257];
        let mut drop: Vec<Vec<&str>> = vec![Vec::new(); 257];
        for (list, buckets) in [
            (&self.keep_prefixes, &mut keep),
            (&self.drop_prefixes, &mut drop),
        ] {
            for p in list {
                let b = p.as_bytes().first().map_or(256, |&b| usize::from(b));
                if let Some(v) = buckets.get_mut(b) {
                    v.push(p.as_str());
                }
            }
        }
        FilterMatcher {
            keep_all: self.keep_prefixes.is_empty(),
            noop: self.is_noop(),
            keep,
            drop,
        }
    }

    /// Adds the prefixes of `other` to this filter.
    pub fn extend(&mut self, other: &KeyFilter) {
        self.keep_prefixes
            .extend(other.keep_prefixes.iter().cloned());
        self.drop_prefixes
            .extend(other.drop_prefixes.iter().cloned());
    }
}

/// A prepared [`KeyFilter`]: prefixes bucketed by first byte (bucket 256 = empty prefix).
#[derive(Debug, Clone)]
pub struct FilterMatcher<'a> {
    keep_all: bool,
    noop: bool,
    keep: Vec<Vec<&'a str>>,
    drop: Vec<Vec<&'a str>>,
}

impl FilterMatcher<'_> {
    fn any(buckets: &[Vec<&str>], key: &str) -> bool {
        let first = key.as_bytes().first().map(|&b| usize::from(b));
        let hit = |b: Option<usize>| {
            b.and_then(|b| buckets.get(b))
                .is_some_and(|ps| ps.iter().any(|p| key.starts_with(p)))
        };
        hit(first) || hit(Some(256))
    }

    /// Whether `key` passes the filter.
    pub fn accepts(&self, key: &str) -> bool {
        if self.noop {
            return true;
        }
        (self.keep_all || Self::any(&self.keep, key)) && !Self::any(&self.drop, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_then_drop_by_plain_prefix() {
        let f = KeyFilter::new(
            [".zattrs", "x", "metadata"],
            ["metadata/reference_orbit/position"],
        );
        assert!(f.accepts("x/0"));
        assert!(f.accepts("x_extra/0")); // plain prefix, as ASF's startswith
        assert!(f.accepts(".zattrs"));
        assert!(!f.accepts(".zgroup"));
        assert!(!f.accepts("displacement/0.0"));
        assert!(f.accepts("metadata/reference_orbit/time/0"));
        assert!(!f.accepts("metadata/reference_orbit/position_x/0"));
        assert!(KeyFilter::default().accepts("anything"));
        assert!(KeyFilter::default().is_noop());
        let only_drop = KeyFilter::new(Vec::<String>::new(), ["a"]);
        assert!(!only_drop.accepts("ab"));
        assert!(only_drop.accepts("b"));
        // The matcher agrees with accepts, including the empty prefix.
        let with_empty = KeyFilter::new(["", "x"], ["xy"]);
        for flt in [&f, &only_drop, &with_empty, &KeyFilter::default()] {
            let m = flt.matcher();
            for k in [
                "x/0",
                "xy",
                "",
                ".zattrs",
                "metadata/reference_orbit/position_x/0",
                "b",
                "ab",
                "é",
            ] {
                assert_eq!(m.accepts(k), flt.accepts(k), "{flt:?} {k}");
            }
        }
    }
}
