//! Command-line arguments (clap derive). The long help (`--help`) teaches by example.

use clap::{Args, Parser, Subcommand, ValueEnum};

const MAIN_HELP: &str = "\
Locations: every SRC, INPUT and OUT is a local path, `-` (standard output), or a URL:
  s3://bucket/key   gs://bucket/key   az://container/key   http(s)://host/path   file:///path

Storage options (object_store configuration keys), one side each:
  --data-option KEY=VALUE   the bucket holding the NetCDF/HDF5 files
  --refs-option KEY=VALUE   the bucket holding the reference JSON
  Common S3 keys: aws_access_key_id, aws_secret_access_key, aws_session_token, aws_region,
  aws_endpoint, aws_allow_http, aws_skip_signature (anonymous access to public buckets).
  GCS keys start with google_, Azure keys with azure_. Every provider also takes the HTTP
  client keys (timeout=30s, connect_timeout=5s, …) and the retry policy: failed requests
  (5xx, resets, timeouts, cut-off bodies) are retried with exponential backoff, up to
  max_retries=10 times within retry_timeout=3m, the first wait being retry_backoff=100ms. The standard environment variables
  (AWS_*, GOOGLE_*, AZURE_*) are the default for both sides; giving a credential on a side
  replaces the environment's credentials for that side. Secrets are never printed.

Exit codes: 0 success, 1 failure, 2 usage error.

Examples:
  kerchunk inspect s3://bucket/granule.nc --data-option aws_region=us-west-2
  kerchunk index granule.nc -o granule.json
  kerchunk index s3://staging/F.nc --url s3://archive/F.nc -o s3://refs/F.json.gz
  kerchunk index data/*.nc --out-dir refs/ --jobs 8 --profile opera-disp
  kerchunk latest refs/*.json | kerchunk combine @- -o stack.json --profile opera-disp
  kerchunk combine a.json b.json.gz -o out.json --concat-dim time --identical-dim lat --identical-dim lon";

/// Index NetCDF4/HDF5 files into kerchunk references and combine them, reading only
/// metadata through byte ranges (local files or object stores).
#[derive(Debug, Parser)]
#[command(name = "kerchunk", version, about, after_long_help = MAIN_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Options shared by every subcommand.
    #[command(flatten)]
    pub global: Global,
}

/// Options of every subcommand.
#[derive(Debug, Args)]
pub struct Global {
    /// Log every request (range reads, uploads) with its size and duration on stderr.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress bars and no summaries; only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Store option for the bucket of the NetCDF/HDF5 files (repeatable).
    #[arg(long = "data-option", value_name = "KEY=VALUE", global = true)]
    pub data_options: Vec<String>,
    /// Store option for the bucket of the reference JSON (repeatable).
    #[arg(long = "refs-option", value_name = "KEY=VALUE", global = true)]
    pub refs_options: Vec<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Index NetCDF4/HDF5 files into kerchunk reference sets.
    Index(IndexArgs),
    /// Combine many reference sets into one along concat dimensions (MultiZarrToZarr).
    Combine(CombineArgs),
    /// Keep the newest version of each OPERA product from a list of names.
    Latest(LatestArgs),
    /// Print the structure of an HDF5/NetCDF4 file (groups, variables, chunking, attributes).
    Inspect(InspectArgs),
}

/// Per-file profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileName {
    /// OPERA DISP-S1 products as the ASF Discovery-kerchunk-timeseries package stacks them.
    OperaDisp,
}

const INDEX_HELP: &str = "\
Writes one kerchunk reference set (JSON; gzip when the output name ends in .gz) per file.
With one SRC, -o OUT (default: standard output). With several, --out-dir DIR names each output
after its file (<name>.json, or <name>.json.gz with --gzip); files are indexed concurrently
(--jobs) and a failure does not stop the others (the exit code is then 1).

The references point at SRC unless --url (one file) or --url-prefix (many files) says where
the files will be read from: index from a staging bucket, point at the final one.

--profile opera-disp adds the six per-file variables of the ASF OPERA DISP workflow at the
root (netcdf_uri, source_file_name, bytes, product_version, reference_datetime,
secondary_datetime) and inlines chunks under 300 bytes. The product version is
--product-version, or else read from the file name (`_v1.0_` gives `v1.0`).

Examples:
  kerchunk index granule.nc                              # to standard output
  kerchunk index granule.nc -o granule.json.gz --inline-threshold 500
  kerchunk index s3://staging/F.nc --url s3://archive/F.nc -o s3://refs/F.json \\
      --data-option aws_region=us-west-2 --refs-option aws_region=us-east-1
  kerchunk index a.nc b.nc c.nc --out-dir s3://refs/disp/ --url-prefix s3://archive/disp/ \\
      --profile opera-disp --jobs 8";

/// `kerchunk index`.
#[derive(Debug, Args)]
#[command(after_long_help = INDEX_HELP)]
pub struct IndexArgs {
    /// Files to index (paths or URLs).
    #[arg(value_name = "SRC", required = true)]
    pub sources: Vec<String>,
    /// Output for a single SRC (`-` = standard output, the default).
    #[arg(short, long, value_name = "OUT", conflicts_with = "out_dir")]
    pub output: Option<String>,
    /// Directory or URL prefix receiving one `<name>.json` per SRC.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<String>,
    /// With --out-dir: write `<name>.json.gz`.
    #[arg(long, requires = "out_dir")]
    pub gzip: bool,
    /// URL written into the references instead of SRC (one SRC only).
    #[arg(long, value_name = "FINAL_URL", conflicts_with = "url_prefix")]
    pub url: Option<String>,
    /// URL prefix written into the references: PREFIX/<file name>.
    #[arg(long, value_name = "PREFIX")]
    pub url_prefix: Option<String>,
    /// Embed chunks smaller than N bytes in the references (default 100; 300 with
    /// --profile opera-disp; 0 disables).
    #[arg(long, value_name = "N")]
    pub inline_threshold: Option<u64>,
    /// Add a workflow's per-file variables.
    #[arg(long, value_enum)]
    pub profile: Option<ProfileName>,
    /// Product version recorded by --profile opera-disp (default: from the file name).
    #[arg(long, value_name = "V", requires = "profile")]
    pub product_version: Option<String>,
    /// Files indexed concurrently.
    #[arg(short, long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,
}

const COMBINE_HELP: &str = "\
Inputs are reference files (JSON or JSON.gz, local or remote, read with --refs-option), or
@LIST: a file (or `@-` for standard input) with one input per line. Chunks smaller than
--inline-threshold are fetched (with --data-option) and embedded.

SELECTOR (--coo-map DIM=SELECTOR) tells where an input's coordinate along DIM comes from, as
kerchunk's coo_map: `data:VAR` (the default, VAR's values), `cf:VAR` (CF-decoded times),
`attr:NAME` (a global attribute), `vattr:VAR:NAME` (a variable's attribute), `re:PATTERN`
(searched in the input's name: the first group, or the whole match), `list:[JSON values]`
(one per input), `INDEX` (the input's position) or `const:JSON`; any other text is a string
constant. --coo-dtype sets the coordinate's numpy dtype (e.g. `time=M8[s]`, `run=i4`).

--profile opera-disp stacks OPERA DISP products like the ASF package: concat along
source_file_name, y/x identical, and only its list of variables (orbit vectors dropped).

Examples:
  kerchunk combine refs/*.json -o stack.json --concat-dim time --identical-dim lat --identical-dim lon
  kerchunk combine @inputs.txt -o s3://refs/stack.json.gz --profile opera-disp \\
      --refs-option aws_region=us-west-2
  kerchunk combine a.json b.json -o out.json --concat-dim run --coo-map 'run=re:run(\\d+)' --coo-dtype run=i4";

/// `kerchunk combine`.
#[derive(Debug, Args)]
#[command(after_long_help = COMBINE_HELP)]
pub struct CombineArgs {
    /// Reference files, or @LIST files naming them.
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,
    /// Output (`-` = standard output; `.gz` = gzip).
    #[arg(short, long, value_name = "OUT", required = true)]
    pub output: String,
    /// Dimension to concatenate along (repeatable).
    #[arg(long = "concat-dim", value_name = "D")]
    pub concat_dims: Vec<String>,
    /// Variable identical in every input, copied from the first (repeatable).
    #[arg(long = "identical-dim", value_name = "D")]
    pub identical_dims: Vec<String>,
    /// Where the coordinate of a concat dimension comes from (repeatable).
    #[arg(long = "coo-map", value_name = "D=SELECTOR")]
    pub coo_map: Vec<String>,
    /// numpy dtype of a concat coordinate, e.g. `time=M8[s]` (repeatable).
    #[arg(long = "coo-dtype", value_name = "D=DTYPE")]
    pub coo_dtypes: Vec<String>,
    /// Keep only keys starting with PREFIX (repeatable).
    #[arg(long, value_name = "PREFIX")]
    pub keep: Vec<String>,
    /// Drop keys starting with PREFIX (repeatable; applied after --keep).
    #[arg(long, value_name = "PREFIX")]
    pub drop: Vec<String>,
    /// A workflow's preset of dimensions and filters.
    #[arg(long, value_enum)]
    pub profile: Option<ProfileName>,
    /// Embed referenced chunks smaller than N bytes (default 500; 0 disables).
    #[arg(long, value_name = "N")]
    pub inline_threshold: Option<u64>,
    /// Leave out inputs that do not match the others instead of failing.
    #[arg(long)]
    pub skip_mismatched: bool,
    /// Remote inputs downloaded concurrently.
    #[arg(short, long, value_name = "N", default_value_t = 8)]
    pub jobs: usize,
}

const LATEST_HELP: &str = "\
Groups OPERA product names by everything before `_v<major>.<minor>` and keeps the highest
version of each group (ties: the later generation time), if it is at least --min-version.
Names come from the arguments or, without any, from standard input (one per line). Kept
names are printed in input order; superseded, too-old and unrecognised names are reported
on stderr (unless --quiet).

Example:
  aws s3 ls s3://bucket/disp/ | awk '{print $4}' | kerchunk latest --min-version 1.0";

/// `kerchunk latest`.
#[derive(Debug, Args)]
#[command(after_long_help = LATEST_HELP)]
pub struct LatestArgs {
    /// Product names, paths or URLs (default: read from standard input).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Lowest product version kept.
    #[arg(long, value_name = "V", default_value = "0.9")]
    pub min_version: String,
}

const INSPECT_HELP: &str = "\
Reads only the file's metadata. The tree lists groups (ending in /), datasets with dtype,
shape, storage (contiguous/compact/chunked with chunk shape and stored/total chunks), filters
and fill value, then attributes (prefixed with @). --json prints the same as one JSON document.

Examples:
  kerchunk inspect granule.nc
  kerchunk inspect s3://bucket/granule.nc --json --data-option aws_skip_signature=true";

/// `kerchunk inspect`.
#[derive(Debug, Args)]
#[command(after_long_help = INSPECT_HELP)]
pub struct InspectArgs {
    /// File to inspect (path or URL).
    #[arg(value_name = "SRC")]
    pub source: String,
    /// Machine-readable JSON instead of the tree.
    #[arg(long)]
    pub json: bool,
    /// Do not shorten long attribute values in the tree.
    #[arg(long)]
    pub full: bool,
}
