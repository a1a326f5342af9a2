//! `kerchunk latest`: keep the newest version of each OPERA product.

use std::io::{IsTerminal, Write};

use crate::args::LatestArgs;
use crate::error::{CliError, Context, Result};
use crate::wiring;

/// Names from the arguments, or else one per line from standard input (blank lines and
/// `#` comments skipped).
fn names(args: &LatestArgs) -> Result<Vec<String>> {
    if !args.names.is_empty() {
        return Ok(args.names.clone());
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CliError::usage(
            "no names given: pass them as arguments or on standard input",
        ));
    }
    let text = std::io::read_to_string(stdin).context("standard input")?;
    Ok(list_lines(&text))
}

/// The entries of a list file: trimmed lines, without blanks and `#` comments.
pub fn list_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Runs `kerchunk latest`.
pub fn run(args: LatestArgs, quiet: bool) -> Result<()> {
    let names = names(&args)?;
    let outcome = wiring::latest(&names, &args.min_version)?;
    let mut out = std::io::stdout().lock();
    for n in &outcome.kept {
        writeln!(out, "{n}").context("standard output")?;
    }
    out.flush().context("standard output")?;
    if !quiet {
        for (old, new) in &outcome.superseded {
            eprintln!("kerchunk: dropped {old}: superseded by {new}");
        }
        for n in &outcome.below_minimum {
            eprintln!("kerchunk: dropped {n}: version below {}", args.min_version);
        }
        for n in &outcome.unmatched {
            eprintln!("kerchunk: dropped {n}: no _v<major>.<minor> version in the name");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn list_lines() {
        assert_eq!(
            super::list_lines(" a.json \n\n# comment\nb.json\r\n"),
            ["a.json", "b.json"]
        );
    }
}
