//! Per-file profiles: additions to a translated reference set that a downstream workflow
//! expects of every file it stacks.
//!
//! - [`opera_disp`]: OPERA DISP-S1 products as the ASF `Discovery-kerchunk-timeseries`
//!   package indexes them (six per-file scalar variables at the root).

pub mod opera_disp;
