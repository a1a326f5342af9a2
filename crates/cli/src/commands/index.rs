//! `kerchunk index`: walk → translate → (profile) → write, for one file or many concurrently.

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;

use futures::{stream, StreamExt};
use hdf5_meta::walk::raw::RawReader;
use hdf5_meta::walk::{walk_cached, BlockCache, IoOptions, IoStats};
use kerchunk_refs::profile::opera_disp;
use kerchunk_refs::translate::{translate, IndexOptions};
use kerchunk_refs::{write_reference_set, WriteOptions};

use crate::args::{IndexArgs, ProfileName};
use crate::error::{CliError, Context, Result};
use crate::output::PendingOutput;
use crate::progress::{note, Progress};
use crate::storage::{Location, Side, Storage};

/// kerchunk's usual inline threshold when no profile says otherwise.
pub const DEFAULT_INLINE_THRESHOLD: u64 = 100;

/// One file to index.
#[derive(Debug, Clone)]
struct Job {
    src: Location,
    out: Location,
    /// URL written into the references.
    url: String,
    /// `Some` when the OPERA DISP profile applies: the product version to record.
    product_version: Option<String>,
}

/// What indexing one file produced.
#[derive(Debug)]
struct Done {
    references: usize,
    warnings: Vec<String>,
    /// Everything read for this file (walk and data reads share one cache).
    io: IoStats,
}

/// The product version in an OPERA file name: `..._v1.0_...` or `..._v1.0.nc` gives `v1.0`.
pub fn version_from_name(name: &str) -> Option<String> {
    let b = name.as_bytes();
    let mut found = None;
    let mut i = 0;
    while let Some(pos) = name.get(i..).and_then(|s| s.find("_v")) {
        let start = i + pos + 2;
        let mut j = start;
        let mut dots = 0;
        while let Some(&c) = b.get(j) {
            if c.is_ascii_digit() {
                j += 1;
            } else if c == b'.' && dots == 0 && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
                dots += 1;
                j += 1;
            } else {
                break;
            }
        }
        let ends_ok = matches!(b.get(j), None | Some(b'_') | Some(b'.'));
        if dots == 1 && j > start && ends_ok {
            found = name.get(start - 1..j).map(str::to_string);
        }
        i = start;
    }
    found
}

fn plan(args: &IndexArgs) -> Result<Vec<Job>> {
    if args.jobs == 0 {
        return Err(CliError::usage("--jobs must be at least 1"));
    }
    let many = args.sources.len() > 1;
    if many && args.out_dir.is_none() {
        return Err(CliError::usage(format!(
            "{} files given: use --out-dir DIR to write one reference file per input",
            args.sources.len()
        )));
    }
    if many && args.url.is_some() {
        return Err(CliError::usage(
            "--url names one file; with several files use --url-prefix",
        ));
    }
    let out_dir = args.out_dir.as_deref().map(Location::parse).transpose()?;
    if matches!(out_dir, Some(Location::Stdio)) {
        return Err(CliError::usage("--out-dir cannot be standard output"));
    }
    let prefix = args
        .url_prefix
        .as_deref()
        .map(|p| p.trim_end_matches('/').to_string());
    let mut seen = HashSet::new();
    let mut jobs = Vec::with_capacity(args.sources.len());
    for s in &args.sources {
        let src = Location::parse(s)?;
        if src == Location::Stdio {
            return Err(CliError::usage(
                "SRC cannot be standard input: give a path or URL",
            ));
        }
        let name = src
            .file_name()
            .ok_or_else(|| CliError::usage(format!("{s}: no file name")))?;
        let out = match &out_dir {
            Some(dir) => {
                let ext = if args.gzip { "json.gz" } else { "json" };
                let out = dir.join(&format!("{name}.{ext}"));
                if !seen.insert(out.display()) {
                    return Err(CliError::usage(format!(
                        "two inputs named {name:?} would both write {}",
                        out.display()
                    )));
                }
                out
            }
            None => Location::parse(args.output.as_deref().unwrap_or("-"))?,
        };
        let url = match (&args.url, &prefix) {
            (Some(u), _) => u.clone(),
            (None, Some(p)) => format!("{p}/{name}"),
            (None, None) => src.reference_url(),
        };
        let product_version = match args.profile {
            None => None,
            Some(ProfileName::OperaDisp) => {
                let final_name = opera_disp::source_file_name(&url);
                Some(match &args.product_version {
                    Some(v) => v.clone(),
                    None => version_from_name(final_name).ok_or_else(|| {
                        CliError::usage(format!(
                            "{final_name}: no _v<major>.<minor> in the name; give --product-version"
                        ))
                    })?,
                })
            }
        };
        jobs.push(Job {
            src,
            out,
            url,
            product_version,
        });
    }
    Ok(jobs)
}

async fn index_one(job: &Job, storage: &Storage, opts: &IndexOptions) -> Result<Done> {
    let reader = storage.reader(Side::Data, &job.src)?;
    // Walk and raw-read errors name the file themselves.
    let fail = |e: &dyn std::fmt::Display| CliError::fail(e.to_string());
    let io = match job.src {
        Location::Local(_) => IoOptions::local_file(),
        _ => opts.walk.io,
    };
    let cache = BlockCache::new(reader, io)
        .await
        .map_err(|e| CliError::fail(format!("{}: {e}", job.src.display())))?;
    let cache = Arc::new(cache);
    let file = walk_cached(Arc::clone(&cache), opts.walk)
        .await
        .map_err(|e| fail(&e))?;
    let raw = RawReader::from_cache(Arc::clone(&cache))
        .await
        .map_err(|e| fail(&e))?;
    let (mut refs, warnings) = translate(&file, &raw, Some(&job.url), opts)
        .await
        .map_err(|e| CliError::fail(format!("{}: {e}", job.src.display())))?;
    if let Some(version) = &job.product_version {
        opera_disp::apply(&mut refs, &file, &raw, &job.url, version)
            .await
            .map_err(|e| fail(&e))?;
    }
    let out = PendingOutput::create(storage, &job.out)?;
    let w = out.writer()?;
    let wopts = WriteOptions {
        gzip: job.out.is_gzip(),
        ..WriteOptions::default()
    };
    let mut w =
        write_reference_set(&refs, w, &wopts).context(format!("writing {}", job.out.display()))?;
    w.flush().context(job.out.display())?;
    drop(w);
    out.commit().await?;
    let io = cache.stats();
    crate::log::log(1, || {
        format!(
            "{}: {} requests, {} bytes, {} sequential rounds, I/O {:.1} ms, wall {:.1} ms",
            job.src.display(),
            io.requests,
            io.bytes,
            io.rounds,
            io.io_time.as_secs_f64() * 1e3,
            io.wall_time.as_secs_f64() * 1e3
        )
    });
    Ok(Done {
        references: refs.len(),
        warnings: warnings.iter().map(ToString::to_string).collect(),
        io,
    })
}

/// Runs `kerchunk index`.
pub async fn run(
    args: IndexArgs,
    storage: Arc<Storage>,
    progress: Progress,
    quiet: bool,
) -> Result<()> {
    let jobs = plan(&args)?;
    if let Some(Location::Local(dir)) = args.out_dir.as_deref().map(Location::parse).transpose()? {
        std::fs::create_dir_all(&dir).context(dir.display())?;
    }
    let threshold = args.inline_threshold.unwrap_or(match args.profile {
        Some(ProfileName::OperaDisp) => opera_disp::INLINE_THRESHOLD,
        None => DEFAULT_INLINE_THRESHOLD,
    });
    let opts = IndexOptions {
        inline_threshold: threshold,
        ..IndexOptions::default()
    };
    let total = jobs.len();
    let bar = progress.bar(total as u64, "files indexed");
    let mut results = stream::iter(jobs.iter().map(|job| {
        let storage = Arc::clone(&storage);
        let opts = &opts;
        async move { (job, index_one(job, &storage, opts).await) }
    }))
    .buffer_unordered(args.jobs);
    let started = std::time::Instant::now();
    let (mut failed, mut refs, mut requests, mut bytes) = (0usize, 0usize, 0u64, 0u64);
    let mut rounds = 0u64;
    let mut only_error = None;
    while let Some((job, r)) = results.next().await {
        bar.inc(1);
        match r {
            Ok(done) => {
                refs += done.references;
                requests += done.io.requests;
                bytes += done.io.bytes;
                rounds = rounds.max(done.io.rounds);
                if !quiet {
                    for w in &done.warnings {
                        note(&bar, &format!("kerchunk: {}: {w}", job.src.display()));
                    }
                }
                bar.set_message(job.src.file_name().unwrap_or_default());
            }
            Err(e) if total == 1 => {
                failed += 1;
                only_error = Some(e);
            }
            Err(e) => {
                failed += 1;
                note(&bar, &format!("kerchunk: error: {e}"));
            }
        }
    }
    bar.finish_and_clear();
    if !quiet && (total > 1 || failed == 0) {
        eprintln!(
            "kerchunk: indexed {} of {total} file(s): {refs} references, {requests} requests, {bytes} bytes read, {rounds} sequential rounds (most for one file), {:.2} s",
            total - failed,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(e) = only_error {
        return Err(e);
    }
    if failed > 0 {
        return Err(CliError::fail(format!("{failed} of {total} files failed")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(cmd: &[&str]) -> IndexArgs {
        let mut v = vec!["kerchunk", "index"];
        v.extend_from_slice(cmd);
        match crate::args::Cli::try_parse_from(v).unwrap().command {
            crate::args::Command::Index(a) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn versions_from_names() {
        let n = "OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_20160729T140756Z_v1.0_20250408T163512Z.nc";
        assert_eq!(version_from_name(n).as_deref(), Some("v1.0"));
        assert_eq!(version_from_name("X_v0.10.nc").as_deref(), Some("v0.10"));
        assert_eq!(version_from_name("X_v1_2.nc"), None);
        assert_eq!(version_from_name("X_vx.nc"), None);
        assert_eq!(version_from_name("plain.nc"), None);
    }

    #[test]
    fn plans() {
        let jobs = plan(&args(&[
            "s3://b/a.nc",
            "s3://b/c.nc",
            "--out-dir",
            "s3://r/refs",
            "--gzip",
            "--url-prefix",
            "s3://final/",
        ]))
        .unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].out.display(), "s3://r/refs/a.nc.json.gz");
        assert_eq!(jobs[1].url, "s3://final/c.nc");
        let one = plan(&args(&[
            "s3://b/F_v1.0_x.nc",
            "--url",
            "s3://final/F_v1.2_x.nc",
            "--profile",
            "opera-disp",
        ]))
        .unwrap();
        assert_eq!(one[0].out, Location::Stdio);
        assert_eq!(
            one[0].product_version.as_deref(),
            Some("v1.2"),
            "from the final name"
        );
        let e = plan(&args(&["a.nc", "b.nc"])).unwrap_err();
        assert!(e.usage && e.message.contains("--out-dir"));
        let e = plan(&args(&["a.nc", "b.nc", "--out-dir", "o", "--url", "x"])).unwrap_err();
        assert!(e.usage);
        let e = plan(&args(&["d1/a.nc", "d2/a.nc", "--out-dir", "o"])).unwrap_err();
        assert!(e.usage && e.message.contains("a.nc"));
        let e = plan(&args(&["plain.nc", "--profile", "opera-disp"])).unwrap_err();
        assert!(e.usage && e.message.contains("--product-version"));
    }
}
