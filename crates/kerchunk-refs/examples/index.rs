//! Index one HDF5 / netCDF-4 file and write its kerchunk references (a stand-in for the CLI,
//! used by `scripts/conformance`).
//!
//!     index FILE [--url URL] [--inline-threshold N] [--unsupported-inline-threshold N] [--out OUT.json] [--warnings-json]
//!
//! References go to OUT (default stdout). Warnings go to stderr, one per line, as text or,
//! with `--warnings-json`, as JSON objects `{"path", "refused", "reason", "message"}`.

use std::io::Write;

use std::sync::Arc;

use hdf5_meta::walk::LocalFile;
use kerchunk_refs::translate::{index_file, IndexOptions};
use kerchunk_refs::{write_reference_set, WriteOptions};

fn usage() -> String {
    "usage: index FILE [--url URL] [--inline-threshold N] [--unsupported-inline-threshold N] [--out OUT.json] [--warnings-json]"
        .to_string()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut url = None;
    let mut out = None;
    let mut json_warnings = false;
    let mut opts = IndexOptions::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--url" => url = Some(args.next().ok_or_else(usage)?),
            "--out" => out = Some(args.next().ok_or_else(usage)?),
            "--inline-threshold" => {
                opts.inline_threshold = args.next().ok_or_else(usage)?.parse()?
            }
            "--unsupported-inline-threshold" => {
                opts.unsupported_inline_threshold = Some(args.next().ok_or_else(usage)?.parse()?)
            }
            "--warnings-json" => json_warnings = true,
            _ if file.is_none() && !a.starts_with("--") => file = Some(a),
            _ => return Err(usage().into()),
        }
    }
    let file = file.ok_or_else(usage)?;
    let reader = Arc::new(LocalFile::open(&file)?);
    let (refs, warnings) = index_file(reader, Some(url.as_deref().unwrap_or(&file)), &opts).await?;
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    for w in &warnings {
        if json_warnings {
            let v = serde_json::json!({"path": w.path, "refused": w.refused, "reason": w.reason.as_str(), "message": w.message});
            writeln!(err, "{v}")?;
        } else {
            writeln!(err, "{w}")?;
        }
    }
    match out {
        Some(p) => {
            let f = std::fs::File::create(&p)?;
            write_reference_set(
                &refs,
                std::io::BufWriter::new(f),
                &WriteOptions::for_path(&p),
            )?;
        }
        None => {
            let _ = write_reference_set(&refs, std::io::stdout().lock(), &WriteOptions::default())?;
        }
    }
    Ok(())
}
