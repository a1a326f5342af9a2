//! `latest`: keep the newest version of each OPERA product.
//!
//! OPERA names look like
//! `OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_20160729T140756Z_v1.0_20250408T163512Z.nc`:
//! the product version `v<major>.<minor>` is followed by the generation datetime. Products are
//! grouped by the name prefix before `_v<version>`; per group the highest version is kept
//! (ties broken by the later generation datetime, then by the later position in the input),
//! and only if it is at least the minimum version (ASF's `keep_latest_products` uses 0.9).
//! Names that do not match are reported in [`LatestSelection::unmatched`], never dropped
//! silently.

use std::collections::HashMap;

use regex::Regex;

/// A product version `v<major>.<minor>`, compared numerically (`v1.10 > v1.9`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

impl Version {
    /// Parses `"1.0"` or `"v1.0"`.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let (a, b) = s.split_once('.')?;
        Some(Version {
            major: a.parse().ok()?,
            minor: b.parse().ok()?,
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}", self.major, self.minor)
    }
}

/// ASF's default minimum version, 0.9.
pub const DEFAULT_MIN_VERSION: Version = Version { major: 0, minor: 9 };

/// The result of [`select_latest`]; every input name appears in exactly one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatestSelection {
    /// The newest product of each group, in input order.
    pub kept: Vec<String>,
    /// Older products, each with the name that supersedes it.
    pub superseded: Vec<(String, String)>,
    /// Newest products whose version is below the minimum.
    pub below_minimum: Vec<String>,
    /// Names that do not contain `_v<major>.<minor>`.
    pub unmatched: Vec<String>,
}

struct Parsed {
    index: usize,
    prefix: String,
    version: Version,
    generation: String,
}

fn pattern() -> Option<Regex> {
    Regex::new(r"^(.+?)_v(\d+)\.(\d+)(?:_(\d{8}T\d{6}Z?))?(?:[._].*)?$").ok()
}

/// The file name part of a path or URL (after the last `/`, without `?query`/`#fragment`).
fn base_name(s: &str) -> &str {
    let s = s.split(['?', '#']).next().unwrap_or(s);
    s.rsplit('/').next().unwrap_or(s)
}

/// Keeps, per product (name prefix before `_v`), the highest version at or above `min`.
pub fn select_latest<S: AsRef<str>>(names: &[S], min: Version) -> LatestSelection {
    let mut out = LatestSelection::default();
    let Some(re) = pattern() else {
        out.unmatched = names.iter().map(|n| n.as_ref().to_string()).collect();
        return out;
    };
    let mut parsed = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let name = name.as_ref();
        let caps = re.captures(base_name(name));
        let p = caps.and_then(|c| {
            Some(Parsed {
                index,
                prefix: c.get(1)?.as_str().to_string(),
                version: Version {
                    major: c.get(2)?.as_str().parse().ok()?,
                    minor: c.get(3)?.as_str().parse().ok()?,
                },
                generation: c
                    .get(4)
                    .map_or_else(String::new, |g| g.as_str().to_string()),
            })
        });
        match p {
            Some(p) => parsed.push(p),
            None => out.unmatched.push(name.to_string()),
        }
    }
    // Best entry per prefix.
    let mut best: HashMap<&str, usize> = HashMap::new();
    for (i, p) in parsed.iter().enumerate() {
        let slot = best.entry(p.prefix.as_str()).or_insert(i);
        if let Some(cur) = parsed.get(*slot) {
            if (p.version, &p.generation, p.index) > (cur.version, &cur.generation, cur.index) {
                *slot = i;
            }
        }
    }
    let name_of = |p: &Parsed| names.get(p.index).map_or("", |n| n.as_ref()).to_string();
    for (i, p) in parsed.iter().enumerate() {
        let winner = best.get(p.prefix.as_str()).copied().unwrap_or(i);
        if winner != i {
            if let Some(w) = parsed.get(winner) {
                out.superseded.push((name_of(p), name_of(w)));
            }
        } else if p.version < min {
            out.below_minimum.push(name_of(p));
        } else {
            out.kept.push(name_of(p));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A10: &str = "s3://b/OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_20160729T140756Z_v1.0_20250408T163512Z.nc";
    const A10_OLD: &str =
        "OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_20160729T140756Z_v1.0_20241219T000000Z.nc";
    const A09: &str =
        "OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_20160729T140756Z_v0.9_20240101T000000Z.nc";
    const B08: &str =
        "OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_20160810T140756Z_v0.8_20240101T000000Z.nc";
    const C110: &str =
        "OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_20160822T140756Z_v1.10_20240101T000000Z.nc";
    const C19: &str =
        "OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_20160822T140756Z_v1.9_20250101T000000Z.nc";

    #[test]
    fn keeps_highest_version_per_prefix() {
        let names = [A09, A10, A10_OLD, B08, C19, C110, "README.txt"];
        let s = select_latest(&names, DEFAULT_MIN_VERSION);
        assert_eq!(s.kept, vec![A10.to_string(), C110.to_string()]);
        assert_eq!(s.below_minimum, vec![B08.to_string()]);
        assert_eq!(s.unmatched, vec!["README.txt".to_string()]);
        assert_eq!(s.superseded.len(), 3);
        assert!(s.superseded.contains(&(A09.to_string(), A10.to_string())));
        // Same version: the later generation datetime wins.
        assert!(s
            .superseded
            .contains(&(A10_OLD.to_string(), A10.to_string())));
        // Versions compare numerically: v1.10 > v1.9.
        assert!(s.superseded.contains(&(C19.to_string(), C110.to_string())));
        let total = s.kept.len() + s.superseded.len() + s.below_minimum.len() + s.unmatched.len();
        assert_eq!(total, names.len());
    }

    #[test]
    fn min_version_and_parse() {
        assert_eq!(Version::parse("v1.2"), Some(Version { major: 1, minor: 2 }));
        assert_eq!(Version::parse("0.9"), Some(DEFAULT_MIN_VERSION));
        assert_eq!(Version::parse("1"), None);
        let s = select_latest(&[B08], Version { major: 0, minor: 8 });
        assert_eq!(s.kept, vec![B08.to_string()]);
        assert_eq!(DEFAULT_MIN_VERSION.to_string(), "v0.9");
        // Without a generation datetime or extension.
        let s = select_latest(&["X_v2.0", "X_v1.0.nc"], DEFAULT_MIN_VERSION);
        assert_eq!(s.kept, vec!["X_v2.0".to_string()]);
    }
}
