//! Named option presets, as data. [`OPERA_DISP`] reproduces the ASF
//! `Discovery-kerchunk-timeseries` stacking of OPERA DISP-S1 products.

use crate::filter::KeyFilter;
use crate::options::CombineOptions;

/// A named preset of concat dims, identical dims and key filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Name used on the command line.
    pub name: &'static str,
    /// Concat dimensions (default `data:` selectors).
    pub concat_dims: &'static [&'static str],
    /// Arrays copied from the first input.
    pub identical_dims: &'static [&'static str],
    /// Keep-prefixes (whitelist).
    pub keep_prefixes: &'static [&'static str],
    /// Drop-prefixes (blacklist, applied after the whitelist).
    pub drop_prefixes: &'static [&'static str],
}

/// OPERA DISP-S1 stacks: one product per `source_file_name` (a scalar vlen-utf8 variable
/// added to each per-file reference set), `y`/`x` shared, only the ASF-whitelisted keys, and
/// without the orbit vectors whose length varies between products.
pub const OPERA_DISP: Profile = Profile {
    name: "opera-disp",
    concat_dims: &["source_file_name"],
    identical_dims: &["y", "x"],
    keep_prefixes: &[
        ".zattrs",
        ".zgroup",
        "bytes",
        "corrections",
        "identification",
        "metadata",
        "netcdf_uri",
        "product_version",
        "reference_datetime",
        "secondary_datetime",
        "short_wavelength_displacement",
        "source_file_name",
        "spatial_ref",
        "x",
        "y",
    ],
    drop_prefixes: &[
        "metadata/reference_orbit/position",
        "metadata/reference_orbit/time",
        "metadata/reference_orbit/velocity",
        "metadata/secondary_orbit/position",
        "metadata/secondary_orbit/time",
        "metadata/secondary_orbit/velocity",
    ],
};

/// Every built-in profile.
pub const PROFILES: &[Profile] = &[OPERA_DISP];

/// The built-in profile called `name`.
pub fn profile(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.name == name)
}

impl Profile {
    /// The key filter of this profile.
    pub fn filter(&self) -> KeyFilter {
        KeyFilter::new(
            self.keep_prefixes.iter().copied(),
            self.drop_prefixes.iter().copied(),
        )
    }

    /// Options with this profile's dims and filter (other options at their defaults).
    pub fn options(&self) -> CombineOptions {
        CombineOptions {
            concat_dims: self.concat_dims.iter().map(|s| s.to_string()).collect(),
            identical_dims: self.identical_dims.iter().map(|s| s.to_string()).collect(),
            filter: self.filter(),
            ..CombineOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opera_disp_is_the_asf_configuration() {
        let p = profile("opera-disp").map(|p| p.options());
        let o = p.unwrap_or_default();
        assert_eq!(o.concat_dims, ["source_file_name"]);
        assert_eq!(o.identical_dims, ["y", "x"]);
        assert!(o.validate().is_ok());
        let f = &o.filter;
        for k in [
            "short_wavelength_displacement/0.0",
            "source_file_name/0",
            "corrections/ionospheric_delay/1.2",
            "metadata/reference_orbit/orbit_type/0",
            "x/0",
            ".zattrs",
        ] {
            assert!(f.accepts(k), "{k}");
        }
        for k in [
            "displacement/0.0",
            "time/0",
            "reference_time/0",
            "recommended_mask/0.0",
            "metadata/secondary_orbit/velocity_x/0",
            "metadata/reference_orbit/time/0",
        ] {
            assert!(!f.accepts(k), "{k}");
        }
    }
}
