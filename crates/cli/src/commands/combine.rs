//! `kerchunk combine`: gather the inputs (expanding `@LIST` files, downloading remote ones
//! into a temporary directory), run the combine library, write the output atomically.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use futures::{stream, StreamExt, TryStreamExt};
use indicatif::ProgressBar;

use crate::args::{CombineArgs, ProfileName};
use crate::commands::latest::list_lines;
use crate::error::{CliError, Context, Result};
use crate::output::PendingOutput;
use crate::progress::{note, Progress};
use crate::storage::{Location, Side, Storage, TempDir};
use crate::wiring::{self, CombineSpec};

/// Fetches referenced chunk bytes for the (synchronous) combine: local paths directly,
/// URLs through the data side's stores, several requests concurrently.
#[derive(Debug)]
pub struct StoreFetcher {
    storage: Arc<Storage>,
    handle: tokio::runtime::Handle,
    concurrency: usize,
}

impl StoreFetcher {
    /// A fetcher running requests on `handle`; call it from a blocking thread.
    pub fn new(storage: Arc<Storage>, handle: tokio::runtime::Handle, concurrency: usize) -> Self {
        Self {
            storage,
            handle,
            concurrency: concurrency.max(1),
        }
    }

    /// The bytes of each `(url, range)` request (`None` = whole target), in order.
    pub fn fetch(&self, requests: &[(&str, Option<(u64, u64)>)]) -> Vec<Result<Vec<u8>, String>> {
        let storage = &self.storage;
        self.handle.block_on(
            stream::iter(requests.iter().map(|(url, range)| async move {
                let loc = Location::parse(url).map_err(|e| e.to_string())?;
                storage
                    .read_range(Side::Data, &loc, *range)
                    .await
                    .map(|b| b.to_vec())
                    .map_err(|e| e.to_string())
            }))
            .buffered(self.concurrency)
            .collect(),
        )
    }

    /// The size of a whole target.
    pub fn size(&self, url: &str) -> Result<u64, String> {
        let loc = Location::parse(url).map_err(|e| e.to_string())?;
        self.handle
            .block_on(self.storage.size(Side::Data, &loc))
            .map_err(|e| e.to_string())
    }
}

/// Input arguments with `@LIST` files expanded (`@-` reads standard input).
async fn expand_inputs(args: &[String], storage: &Storage) -> Result<Vec<Location>> {
    let mut out = Vec::new();
    for a in args {
        match a.strip_prefix('@') {
            Some(list) => {
                let loc = Location::parse(list)?;
                let bytes = storage.read_all(Side::Refs, &loc).await?;
                let text = std::str::from_utf8(&bytes).map_err(|_| {
                    CliError::fail(format!("{}: the list is not UTF-8 text", loc.display()))
                })?;
                for line in list_lines(text) {
                    out.push(Location::parse(&line)?);
                }
            }
            None => out.push(Location::parse(a)?),
        }
    }
    if out.contains(&Location::Stdio) {
        return Err(CliError::usage(
            "`-` is not an input; use @- to read a list of inputs from standard input",
        ));
    }
    if out.is_empty() {
        return Err(CliError::usage("no inputs (the lists were empty)"));
    }
    Ok(out)
}

/// `D=VALUE` pairs of a flag.
fn pairs(values: &[String], flag: &str) -> Result<Vec<(String, String)>> {
    values
        .iter()
        .map(|v| match v.split_once('=') {
            Some((d, s)) if !d.is_empty() && !s.is_empty() => Ok((d.to_string(), s.to_string())),
            _ => Err(CliError::usage(format!(
                "{flag} expects D=VALUE, got {v:?}"
            ))),
        })
        .collect()
}

/// Local files holding each input: local inputs as they are, remote ones downloaded into
/// `dir` (concurrently). Returns (name, path) in input order.
async fn materialise(
    inputs: &[Location],
    storage: &Arc<Storage>,
    dir: &TempDir,
    jobs: usize,
    bar: &ProgressBar,
) -> Result<Vec<(String, PathBuf)>> {
    stream::iter(inputs.iter().enumerate().map(|(i, loc)| {
        let storage = Arc::clone(storage);
        let target = dir.path().join(format!("{i:08}"));
        async move {
            let name = loc.display();
            let path = match loc {
                Location::Local(p) => {
                    if !p.is_file() {
                        return Err(CliError::fail(format!("{name}: no such file")));
                    }
                    p.clone()
                }
                _ => {
                    let bytes = storage.read_all(Side::Refs, loc).await?;
                    tokio::fs::write(&target, &bytes)
                        .await
                        .context(target.display())?;
                    target
                }
            };
            bar.inc(1);
            Ok((name, path))
        }
    }))
    .buffered(jobs.max(1))
    .try_collect()
    .await
}

/// Runs `kerchunk combine`.
pub async fn run(
    args: CombineArgs,
    storage: Arc<Storage>,
    progress: Progress,
    quiet: bool,
) -> Result<()> {
    if args.concat_dims.is_empty() && args.profile.is_none() {
        return Err(CliError::usage(
            "give at least one --concat-dim (or a --profile)",
        ));
    }
    let out_loc = Location::parse(&args.output)?;
    let coo_map = pairs(&args.coo_map, "--coo-map")?;
    let coo_dtypes = pairs(&args.coo_dtypes, "--coo-dtype")?;
    let inputs = expand_inputs(&args.inputs, &storage).await?;
    let dir = TempDir::new("kerchunk-combine")?;
    let bar = progress.bar(inputs.len() as u64, "inputs read");
    let named = materialise(&inputs, &storage, &dir, args.jobs, &bar).await?;
    bar.finish_and_clear();

    let spec = CombineSpec {
        inputs: named,
        concat_dims: args.concat_dims.clone(),
        identical_dims: args.identical_dims.clone(),
        coo_map,
        coo_dtypes,
        keep: args.keep.clone(),
        drop: args.drop.clone(),
        profile: args.profile.map(|p| match p {
            ProfileName::OperaDisp => "opera-disp",
        }),
        inline_threshold: args.inline_threshold,
        skip_mismatched: args.skip_mismatched,
    };
    let out = PendingOutput::create(&storage, &out_loc)?;
    let writer = out.writer()?;
    let gzip = out_loc.is_gzip();
    let counter = progress.counter("references combined");
    let fetcher = StoreFetcher::new(
        Arc::clone(&storage),
        tokio::runtime::Handle::current(),
        args.jobs.max(1) * 2,
    );
    let pb = counter.clone();
    let summary = tokio::task::spawn_blocking(move || -> Result<wiring::CombineSummary> {
        let show = |n: u64| pb.set_position(n);
        let mut w: Box<dyn Write + Send> = writer;
        if gzip {
            let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
            let s = wiring::combine(&spec, &fetcher, &mut gz, &show)?;
            w = gz.finish().context("writing the output")?;
            w.flush().context("writing the output")?;
            Ok(s)
        } else {
            let s = wiring::combine(&spec, &fetcher, &mut w, &show)?;
            w.flush().context("writing the output")?;
            Ok(s)
        }
    })
    .await
    .map_err(|e| CliError::fail(format!("the combine stopped: {e}")))??;
    counter.finish_and_clear();
    out.commit().await?;
    drop(dir);
    if !quiet {
        for (name, why) in &summary.skipped {
            note(&counter, &format!("kerchunk: skipped {name}: {why}"));
        }
        for w in &summary.warnings {
            note(&counter, &format!("kerchunk: warning: {w}"));
        }
        eprintln!(
            "kerchunk: combined {} of {} input(s) into {}: {} references",
            summary.combined,
            inputs.len(),
            out_loc.display(),
            summary.references
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_need_both_sides() {
        assert_eq!(
            pairs(&["t=data:time".into()], "--coo-map").unwrap(),
            vec![("t".to_string(), "data:time".to_string())]
        );
        // Only the first `=` splits: regular expressions may contain more.
        assert_eq!(
            pairs(&["t=re:a=(\\d)".into()], "--coo-map").unwrap()[0].1,
            "re:a=(\\d)"
        );
        assert!(pairs(&["t".into()], "--coo-map").unwrap_err().usage);
        assert!(pairs(&["=x".into()], "--coo-map").unwrap_err().usage);
    }

    #[tokio::test]
    async fn lists_expand() {
        let dir = TempDir::new("kerchunk-test-list").unwrap();
        let list = dir.path().join("inputs.txt");
        std::fs::write(&list, "a.json\n# skipped\n\ns3://bucket/b.json.gz\n").unwrap();
        let storage = Storage::default();
        let got = expand_inputs(&[format!("@{}", list.display()), "c.json".into()], &storage)
            .await
            .unwrap();
        let shown: Vec<String> = got.iter().map(Location::display).collect();
        assert_eq!(shown, ["a.json", "s3://bucket/b.json.gz", "c.json"]);
        assert!(
            expand_inputs(&["-".into()], &storage)
                .await
                .unwrap_err()
                .usage
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn fetcher_reads_local_ranges() {
        let dir = TempDir::new("kerchunk-test-fetch").unwrap();
        let f = dir.path().join("data.bin");
        std::fs::write(&f, b"0123456789").unwrap();
        let fetcher = StoreFetcher::new(
            Arc::new(Storage::default()),
            tokio::runtime::Handle::current(),
            4,
        );
        let url = format!("file://{}", f.display());
        let p = f.display().to_string();
        let got = tokio::task::spawn_blocking(move || {
            let r = fetcher.fetch(&[(&url, Some((2, 3))), (&p, None), (&p, Some((8, 5)))]);
            (r, fetcher.size(&p))
        })
        .await
        .unwrap();
        assert_eq!(got.0[0].as_deref().unwrap(), b"234");
        assert_eq!(got.0[1].as_deref().unwrap().len(), 10);
        assert!(got.0[2].is_err(), "past the end");
        assert_eq!(got.1.unwrap(), 10);
    }
}
