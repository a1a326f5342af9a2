//! Where files are: local paths and URLs (`s3://`, `gs://`, `az://`, `http(s)://`, `file://`),
//! and the object stores behind them, configured per side.
//!
//! Two sides carry separate options: [`Side::Data`] (the bucket holding the NetCDF/HDF5
//! files, `--data-option`) and [`Side::Refs`] (the bucket holding reference JSON,
//! `--refs-option`). Each store starts from the provider's standard environment variables
//! (`AWS_*`, `GOOGLE_*`, `AZURE_*`) and the side's options override them; when a side's
//! options name a credential (access key id, secret or token), the environment's credentials
//! are ignored for that side, so an environment session token never mixes with keys given on
//! the command line.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use hdf5_meta::walk::{LocalFile, RangeReader, StoreObject};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::http::HttpBuilder;
use object_store::path::Path as StorePath;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, RetryConfig};
use url::Url;

use crate::error::{CliError, Context, Result};
use crate::log::{self, LoggingReader};
use crate::secrets;

/// Which bucket's options apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The NetCDF/HDF5 files (`--data-option`).
    Data,
    /// The reference JSON files (`--refs-option`).
    Refs,
}

impl Side {
    fn flag(self) -> &'static str {
        match self {
            Side::Data => "--data-option",
            Side::Refs => "--refs-option",
        }
    }
}

/// `KEY=VALUE` store options of one side. Values never appear in `Debug` output.
#[derive(Clone, Default)]
pub struct StoreOptions {
    pairs: Vec<(String, String)>,
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.pairs.iter().map(|(k, _)| format!("{k}=…")))
            .finish()
    }
}

impl StoreOptions {
    /// Parses `KEY=VALUE` arguments of `flag`; keys are lower-cased. Credential values are
    /// registered for redaction.
    pub fn parse(args: &[String], flag: &str) -> Result<Self> {
        let mut pairs = Vec::with_capacity(args.len());
        for a in args {
            let (k, v) = a.split_once('=').ok_or_else(|| {
                CliError::usage(format!("{flag} expects KEY=VALUE, got {:?}", key_only(a)))
            })?;
            let k = k.trim().to_ascii_lowercase();
            if k.is_empty() {
                return Err(CliError::usage(format!("{flag}: empty key")));
            }
            if secrets::is_secret_key(&k) {
                secrets::register(v);
            }
            pairs.push((k, v.to_string()));
        }
        Ok(Self { pairs })
    }

    /// The option keys.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    /// The retry policy (`max_retries`, `retry_timeout`, `retry_backoff`; object_store's
    /// defaults otherwise) and the remaining pairs, which go to the store builder.
    fn retry(&self, flag: &str) -> Result<(RetryConfig, Vec<(String, String)>)> {
        let mut retry = RetryConfig::default();
        let mut rest = Vec::new();
        for (k, v) in &self.pairs {
            let bad = |what: &str| CliError::usage(format!("{flag} {k}={v}: expected {what}"));
            match k.as_str() {
                "max_retries" => retry.max_retries = v.parse().map_err(|_| bad("a count"))?,
                "retry_timeout" => {
                    retry.retry_timeout =
                        parse_duration(v).ok_or_else(|| bad("a duration (30s, 500ms, 2m)"))?;
                }
                "retry_backoff" => {
                    retry.backoff = BackoffConfig {
                        init_backoff: parse_duration(v)
                            .ok_or_else(|| bad("a duration (100ms, 1s)"))?,
                        ..BackoffConfig::default()
                    };
                }
                _ => rest.push((k.clone(), v.clone())),
            }
        }
        Ok((retry, rest))
    }
}

/// `30s`, `500ms`, `2m` or plain seconds (`1.5`).
fn parse_duration(v: &str) -> Option<std::time::Duration> {
    let (number, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60.0)
    } else {
        (v, 1.0)
    };
    let secs = number.trim().parse::<f64>().ok()? * scale;
    std::time::Duration::try_from_secs_f64(secs).ok()
}

/// What an argument shows of a malformed option: never its value.
fn key_only(arg: &str) -> String {
    if arg.len() > 40 || secrets::is_secret_key(arg) {
        "<hidden>".to_string()
    } else {
        arg.to_string()
    }
}

/// Registers the credential values found in the environment, so they are redacted too.
pub fn register_env_secrets() {
    for (k, v) in std::env::vars() {
        if ["AWS_", "GOOGLE_", "AZURE_"]
            .iter()
            .any(|p| k.starts_with(p))
            && secrets::is_secret_key(&k)
        {
            secrets::register(&v);
        }
    }
}

/// Registers the credentials a URL may carry (a password; presigned or SAS query parameters
/// such as `X-Amz-Signature`, `X-Amz-Security-Token`, `sig`) for redaction.
fn register_url_secrets(url: &Url) {
    if let Some(p) = url.password() {
        secrets::register(p);
    }
    for (k, v) in url.query_pairs() {
        if secrets::is_secret_key(&k) || k.eq_ignore_ascii_case("sig") {
            secrets::register(&v);
        }
    }
}

/// A file location: standard input/output, a local path, or a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `-`: standard output (or input).
    Stdio,
    /// A local path (also from `file://` URLs).
    Local(PathBuf),
    /// An object-store URL.
    Url(Url),
}

/// URL schemes served by an object store.
const SCHEMES: &[&str] = &[
    "s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "adl", "http", "https",
];

impl Location {
    /// Parses `-`, a local path, a `file://` URL or an object-store URL.
    pub fn parse(s: &str) -> Result<Self> {
        if s == "-" {
            return Ok(Location::Stdio);
        }
        if s.is_empty() {
            return Err(CliError::usage("empty path"));
        }
        let Some((scheme, _)) = s.split_once("://") else {
            return Ok(Location::Local(PathBuf::from(s)));
        };
        let url = Url::parse(s)
            .map_err(|e| CliError::usage(format!("{}: not a valid URL: {e}", key_only(s))))?;
        register_url_secrets(&url);
        match url.scheme() {
            "file" => url
                .to_file_path()
                .map(Location::Local)
                .map_err(|()| CliError::usage(format!("{s}: not a local file URL"))),
            sch if SCHEMES.contains(&sch) => {
                if url.host_str().unwrap_or_default().is_empty() {
                    return Err(CliError::usage(format!("{s}: no bucket or host")));
                }
                Ok(Location::Url(url))
            }
            _ => Err(CliError::usage(format!(
                "{s}: unsupported scheme {scheme:?} (use a local path, file://, s3://, gs://, az:// or http(s)://)"
            ))),
        }
    }

    /// The location as the user would write it (URL or path).
    pub fn display(&self) -> String {
        match self {
            Location::Stdio => "-".to_string(),
            Location::Local(p) => p.display().to_string(),
            Location::Url(u) => u.to_string(),
        }
    }

    /// The last path segment (file name), if any.
    pub fn file_name(&self) -> Option<String> {
        match self {
            Location::Stdio => None,
            Location::Local(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
            Location::Url(u) => u
                .path_segments()
                .and_then(|mut s| s.next_back())
                .filter(|n| !n.is_empty())
                .map(percent_decode),
        }
    }

    /// A child of this location seen as a directory or prefix.
    pub fn join(&self, name: &str) -> Location {
        match self {
            Location::Stdio => Location::Local(PathBuf::from(name)),
            Location::Local(p) => Location::Local(p.join(name)),
            Location::Url(u) => {
                let mut u = u.clone();
                if !u.path().ends_with('/') {
                    let p = format!("{}/", u.path());
                    u.set_path(&p);
                }
                match u.join(&percent_encode_segment(name)) {
                    Ok(j) => Location::Url(j),
                    Err(_) => Location::Url(u),
                }
            }
        }
    }

    /// Whether the name ends in `.gz` (gzip-compressed references).
    pub fn is_gzip(&self) -> bool {
        self.file_name()
            .is_some_and(|n| n.to_ascii_lowercase().ends_with(".gz"))
    }

    /// The string written into references for this location: the URL, or the absolute path
    /// of a local file (made absolute so the references work from any directory).
    pub fn reference_url(&self) -> String {
        match self {
            Location::Local(p) => std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
            other => other.display(),
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            if let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.bytes() {
        if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// Object stores for both sides, built on first use and shared.
#[derive(Debug, Default)]
pub struct Storage {
    data: StoreOptions,
    refs: StoreOptions,
    stores: Mutex<HashMap<(Side, String), Arc<dyn ObjectStore>>>,
}

/// Credential keys of each provider: options naming one of these replace the environment's
/// credentials.
const CREDENTIAL_KEYS: &[&str] = &[
    "aws_access_key_id",
    "access_key_id",
    "aws_secret_access_key",
    "secret_access_key",
    "aws_session_token",
    "aws_token",
    "session_token",
    "token",
];

impl Storage {
    /// Storage with the given per-side options.
    pub fn new(data: StoreOptions, refs: StoreOptions) -> Self {
        Self {
            data,
            refs,
            stores: Mutex::new(HashMap::new()),
        }
    }

    fn options(&self, side: Side) -> &StoreOptions {
        match side {
            Side::Data => &self.data,
            Side::Refs => &self.refs,
        }
    }

    /// The store serving `url` on `side`, and the object path within it.
    pub fn store(&self, side: Side, url: &Url) -> Result<(Arc<dyn ObjectStore>, StorePath)> {
        let base = format!("{}://{}", url.scheme(), url.authority());
        let path =
            StorePath::from_url_path(url.path()).context(format!("{url}: invalid object path"))?;
        if let Some(s) = self
            .stores
            .lock()
            .ok()
            .and_then(|m| m.get(&(side, base.clone())).cloned())
        {
            return Ok((s, path));
        }
        let store = self.build(side, url, &base)?;
        if let Ok(mut m) = self.stores.lock() {
            m.insert((side, base), Arc::clone(&store));
        }
        Ok((store, path))
    }

    fn build(&self, side: Side, url: &Url, base: &str) -> Result<Arc<dyn ObjectStore>> {
        let opts = self.options(side);
        let flag = side.flag();
        let bad_key = |provider: &str, k: &str| {
            CliError::usage(format!(
                "{flag} {k}: not a known {provider} option (see `kerchunk --help` for the keys)"
            ))
        };
        let own_credentials = opts.keys().any(|k| CREDENTIAL_KEYS.contains(&k));
        let env = |prefix: &str| -> Vec<(String, String)> {
            std::env::vars()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .filter(|(k, _)| !(own_credentials && CREDENTIAL_KEYS.contains(&k.as_str())))
                .collect()
        };
        let (retry, pairs) = opts.retry(flag)?;
        let built: std::result::Result<Arc<dyn ObjectStore>, object_store::Error> =
            match url.scheme() {
                "s3" | "s3a" => {
                    let mut b = AmazonS3Builder::new();
                    for (k, v) in env("AWS_") {
                        if let Ok(key) = k.parse::<AmazonS3ConfigKey>() {
                            b = b.with_config(key, v);
                        }
                    }
                    for (k, v) in &pairs {
                        let key = k
                            .parse::<AmazonS3ConfigKey>()
                            .map_err(|_| bad_key("S3", k))?;
                        b = b.with_config(key, v);
                    }
                    b.with_retry(retry)
                        .with_url(url.as_str())
                        .build()
                        .map(|s| Arc::new(s) as _)
                }
                "gs" => {
                    let mut b = GoogleCloudStorageBuilder::new();
                    for (k, v) in env("GOOGLE_") {
                        if let Ok(key) = k.parse::<GoogleConfigKey>() {
                            b = b.with_config(key, v);
                        }
                    }
                    for (k, v) in &pairs {
                        let key = k
                            .parse::<GoogleConfigKey>()
                            .map_err(|_| bad_key("GCS", k))?;
                        b = b.with_config(key, v);
                    }
                    b.with_retry(retry)
                        .with_url(url.as_str())
                        .build()
                        .map(|s| Arc::new(s) as _)
                }
                "az" | "azure" | "abfs" | "abfss" | "adl" => {
                    let mut b = MicrosoftAzureBuilder::new();
                    for (k, v) in env("AZURE_") {
                        if let Ok(key) = k.parse::<AzureConfigKey>() {
                            b = b.with_config(key, v);
                        }
                    }
                    for (k, v) in &pairs {
                        let key = k
                            .parse::<AzureConfigKey>()
                            .map_err(|_| bad_key("Azure", k))?;
                        b = b.with_config(key, v);
                    }
                    b.with_retry(retry)
                        .with_url(url.as_str())
                        .build()
                        .map(|s| Arc::new(s) as _)
                }
                "http" | "https" => {
                    let mut b = HttpBuilder::new().with_url(base).with_retry(retry);
                    for (k, v) in &pairs {
                        let key = k
                            .parse::<ClientConfigKey>()
                            .map_err(|_| bad_key("HTTP client", k))?;
                        b = b.with_config(key, v);
                    }
                    b.build().map(|s| Arc::new(s) as _)
                }
                other => {
                    return Err(CliError::usage(format!(
                        "{url}: unsupported scheme {other:?}"
                    )))
                }
            };
        built.map_err(|e| CliError::fail(format!("{base}: cannot configure the store: {e}")))
    }

    /// A range reader over a data file.
    pub fn reader(&self, side: Side, loc: &Location) -> Result<Arc<dyn RangeReader>> {
        let r: Arc<dyn RangeReader> = match loc {
            Location::Stdio => {
                return Err(CliError::usage(
                    "cannot read an HDF5 file from standard input; give a path or URL",
                ))
            }
            Location::Local(p) => Arc::new(LocalFile::open(p).context(p.display())?),
            Location::Url(u) => {
                let (store, path) = self.store(side, u)?;
                Arc::new(StoreObject::new(store, path, u.to_string()))
            }
        };
        Ok(LoggingReader::wrap(r))
    }

    /// The whole content of a file (`-` is standard input).
    pub async fn read_all(&self, side: Side, loc: &Location) -> Result<Bytes> {
        match loc {
            Location::Stdio => {
                use tokio::io::AsyncReadExt;
                let mut v = Vec::new();
                tokio::io::stdin()
                    .read_to_end(&mut v)
                    .await
                    .context("standard input")?;
                Ok(Bytes::from(v))
            }
            Location::Local(p) => tokio::fs::read(p)
                .await
                .map(Bytes::from)
                .context(p.display()),
            Location::Url(u) => {
                let (store, path) = self.store(side, u)?;
                let start = Instant::now();
                let what = format!("GET {u}");
                let r = async { store.get(&path).await?.bytes().await }.await;
                log::request(&what, start, &r, |b| b.len() as u64);
                r.context(u)
            }
        }
    }

    /// Bytes `offset..offset+length` of a file, or the whole file when `range` is `None`.
    pub async fn read_range(
        &self,
        side: Side,
        loc: &Location,
        range: Option<(u64, u64)>,
    ) -> Result<Bytes> {
        let Some((offset, length)) = range else {
            return self.read_all(side, loc).await;
        };
        let end = offset.checked_add(length).ok_or_else(|| {
            CliError::fail(format!(
                "{}: range {offset}+{length} overflows",
                loc.display()
            ))
        })?;
        match loc {
            Location::Url(u) => {
                let (store, path) = self.store(side, u)?;
                let start = Instant::now();
                let what = format!("GET {u} bytes={offset}-{}", end.saturating_sub(1));
                let r = store.get_range(&path, offset..end).await;
                log::request(&what, start, &r, |b| b.len() as u64);
                r.context(u)
            }
            other => {
                let r = self.reader(side, other)?;
                let b = r.read_range(offset..end).await.context(other.display())?;
                if (b.len() as u64) < length {
                    return Err(CliError::fail(format!(
                        "{}: range {offset}+{length} runs past the end of the file",
                        other.display()
                    )));
                }
                Ok(b)
            }
        }
    }

    /// Size of a file in bytes.
    pub async fn size(&self, side: Side, loc: &Location) -> Result<u64> {
        match loc {
            Location::Url(u) => {
                let (store, path) = self.store(side, u)?;
                let start = Instant::now();
                let r = store.head(&path).await;
                log::request(&format!("HEAD {u}"), start, &r, |m| m.size);
                Ok(r.context(u)?.size)
            }
            Location::Local(p) => Ok(tokio::fs::metadata(p).await.context(p.display())?.len()),
            Location::Stdio => Err(CliError::usage("standard input has no size")),
        }
    }
}

/// A directory that is removed (with its content) when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory under the system temporary directory.
    pub fn new(prefix: &str) -> Result<Self> {
        let base = std::env::temp_dir();
        for attempt in 0..100u32 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let path = base.join(format!("{prefix}-{}-{nanos}-{attempt}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(CliError::fail(format!(
                        "{}: cannot create a temporary directory: {e}",
                        path.display()
                    )))
                }
            }
        }
        Err(CliError::fail("cannot create a temporary directory"))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_options_are_taken_out_of_the_store_options() {
        let args: Vec<String> = [
            "max_retries=2",
            "retry_timeout=1.5s",
            "retry_backoff=50ms",
            "aws_region=x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (retry, rest) = StoreOptions::parse(&args, "--data-option")
            .unwrap()
            .retry("--data-option")
            .unwrap();
        assert_eq!(retry.max_retries, 2);
        assert_eq!(retry.retry_timeout, std::time::Duration::from_millis(1500));
        assert_eq!(
            retry.backoff.init_backoff,
            std::time::Duration::from_millis(50)
        );
        assert_eq!(rest, vec![("aws_region".to_string(), "x".to_string())]);

        let bad = StoreOptions::parse(&["retry_timeout=soon".to_string()], "--data-option")
            .unwrap()
            .retry("--data-option")
            .unwrap_err();
        assert!(bad.to_string().contains("retry_timeout=soon"), "{bad}");
        assert_eq!(
            parse_duration("2m"),
            Some(std::time::Duration::from_secs(120))
        );
        assert_eq!(parse_duration("-1s"), None);
    }

    #[test]
    fn locations() {
        assert_eq!(Location::parse("-").unwrap(), Location::Stdio);
        assert_eq!(
            Location::parse("a/b.json").unwrap(),
            Location::Local(PathBuf::from("a/b.json"))
        );
        assert_eq!(
            Location::parse("file:///tmp/x.nc").unwrap(),
            Location::Local(PathBuf::from("/tmp/x.nc"))
        );
        let s3 = Location::parse("s3://bucket/dir/F%201.nc").unwrap();
        assert_eq!(s3.file_name().as_deref(), Some("F 1.nc"));
        assert!(matches!(Location::parse("ftp://h/x"), Err(e) if e.usage));
        assert!(matches!(Location::parse("s3:///x"), Err(e) if e.usage));
        let dir = Location::parse("s3://bucket/refs").unwrap();
        assert_eq!(
            dir.join("a b.json").display(),
            "s3://bucket/refs/a%20b.json"
        );
        let dir = Location::parse("gs://bucket/refs/").unwrap();
        assert_eq!(
            dir.join("a.json.gz").display(),
            "gs://bucket/refs/a.json.gz"
        );
        assert!(dir.join("a.json.gz").is_gzip());
        assert_eq!(
            Location::parse("out").unwrap().join("x.json"),
            Location::Local(PathBuf::from("out/x.json"))
        );
    }

    #[test]
    fn url_credentials_are_redacted() {
        let u = "https://user:pa55word@host/f.nc?X-Amz-Signature=abcdef123456&X-Amz-Date=20250101";
        let loc = Location::parse(u).unwrap();
        let shown = secrets::redact(&loc.display());
        assert!(
            !shown.contains("pa55word") && !shown.contains("abcdef123456"),
            "{shown}"
        );
        assert!(shown.contains("X-Amz-Date=20250101"), "{shown}");
        Location::parse("https://acct.blob.core.windows.net/c/f.nc?sv=2022&sig=SASSIGNATURE")
            .unwrap();
        assert_eq!(secrets::redact("x SASSIGNATURE"), "x ***");
    }

    #[test]
    fn options() {
        let o = StoreOptions::parse(
            &[
                "AWS_REGION=us-west-2".into(),
                "aws_secret_access_key=abcd/efgh".into(),
            ],
            "--data-option",
        )
        .unwrap();
        assert_eq!(
            o.keys().collect::<Vec<_>>(),
            ["aws_region", "aws_secret_access_key"]
        );
        let dbg = format!("{o:?}");
        assert!(!dbg.contains("abcd") && !dbg.contains("us-west-2"), "{dbg}");
        assert_eq!(secrets::redact("x abcd/efgh y"), "x *** y");
        let e =
            StoreOptions::parse(&["aws_secret_access_key".into()], "--data-option").unwrap_err();
        assert!(e.usage);
        assert!(!e.message.contains("aws_secret_access_key"));
    }

    #[test]
    fn unknown_keys_are_usage_errors() {
        let s = Storage::new(
            StoreOptions::parse(&["aws_colour=blue".into()], "--data-option").unwrap(),
            StoreOptions::default(),
        );
        let url = Url::parse("s3://bucket/key.nc").unwrap();
        let e = s.store(Side::Data, &url).map(|_| ()).unwrap_err();
        assert!(e.usage && e.message.contains("aws_colour"), "{}", e.message);
        // The refs side has no such option and builds fine.
        assert!(s.store(Side::Refs, &url).is_ok());
    }
}
