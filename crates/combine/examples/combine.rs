//! A minimal command line over [`combine::run`] until the real CLI exists (used by
//! `scripts/check_combine_xarray.py` and `scripts/bench_combine.py`).
//!
//! ```text
//! combine -o OUT.json [--concat DIM]... [--identical DIM]... [--selector DIM=SEL]...
//!         [--dtype DIM=DTYPE]... [--keep PREFIX]... [--drop PREFIX]... [--profile NAME]
//!         [--inline BYTES] [--skip-mismatched] INPUT...
//! ```
//! Inputs are JSON or JSON.gz reference files; local chunk files are read for inlining and
//! `data:` selectors. Writes gzip when OUT ends in `.gz`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use combine::{profile, run, CombineOptions, Input, JsonWriter, LocalFetcher, NpType, Selector};

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("combine: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut o = CombineOptions::default();
    let mut out = None;
    let mut inputs = Vec::new();
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "-o" => out = Some(val()?),
            "--concat" => o.concat_dims.push(val()?),
            "--identical" => o.identical_dims.push(val()?),
            "--selector" => {
                let v = val()?;
                let (d, s) = v.split_once('=').ok_or("--selector DIM=SELECTOR")?;
                o.selectors.insert(d.to_string(), Selector::parse(s)?);
            }
            "--dtype" => {
                let v = val()?;
                let (d, t) = v.split_once('=').ok_or("--dtype DIM=DTYPE")?;
                o.coord_dtypes
                    .insert(d.to_string(), NpType::parse(t).ok_or("unknown dtype")?);
            }
            "--keep" => o.filter.keep_prefixes.push(val()?),
            "--drop" => o.filter.drop_prefixes.push(val()?),
            "--profile" => {
                let p = profile::profile(&val()?).ok_or("unknown profile")?;
                let po = p.options();
                o.concat_dims.extend(po.concat_dims);
                o.identical_dims.extend(po.identical_dims);
                o.filter.extend(&po.filter);
            }
            "--inline" => o.inline_threshold = val()?.parse()?,
            "--skip-mismatched" => o.skip_mismatched = true,
            _ => inputs.push(Input::file(a)),
        }
    }
    let out = out.ok_or("-o OUT is required")?;
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let w: Box<dyn Write> = if out.ends_with(".gz") {
        Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::default(),
        ))
    } else {
        Box::new(file)
    };
    let mut writer = JsonWriter::new(w)?;
    let report = run(&inputs, &o, Some(&LocalFetcher::default()), &mut writer)?;
    let mut w = writer.finish()?;
    w.flush()?;
    drop(w);
    for s in &report.skipped {
        eprintln!("skipped {}: {}", s.input, s.reason);
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "combined {} inputs, {} references ({} inlined)",
        report.combined.len(),
        report.references,
        report.inlined
    );
    Ok(())
}
