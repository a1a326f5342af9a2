//! Streaming writer of kerchunk version-1 reference JSON (optionally gzipped).
//!
//! Output: `{"version":1,"refs":{...}}` (with `"templates":{...}` before `refs` when
//! templates are requested), references in the order given, compact, written key by key (the
//! document is never built in memory).
//!
//! # Inline encoding (deliberately different from kerchunk)
//! Inline bytes that are valid UTF-8 and do **not** start with `base64:` are written as a
//! JSON string; everything else as `"base64:"` + standard base64. Chunk bytes are never
//! re-formatted. kerchunk's `SingleHdf5ToZarr` differs in two ways (kerchunk-behavior.md
//! §1.4): it JSON-minifies any value that parses as JSON, corrupting chunks such as `b"1.50"`
//! (written as `"1.5"`), and it writes UTF-8 bytes starting with `base64:` as a plain string,
//! which readers then wrongly decode. Both readers (fsspec and ours) decode our output to the
//! exact original bytes. Metadata documents (`.zarray`, …) are inline JSON text and therefore
//! come out as JSON strings, as kerchunk writes them.

use std::io::{BufWriter, Write};
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::error::{RefsError, Result};
use crate::reference::{RefValue, Url};
use crate::reference_set::ReferenceSet;
use crate::template::has_placeholder;

/// Whether a path names a gzip file (extension `.gz`, any case).
pub fn is_gzip_path(path: impl AsRef<Path>) -> bool {
    path.as_ref()
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Writer options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// Gzip the output.
    pub gzip: bool,
    /// Gzip level 0–9 (default 6).
    pub gzip_level: u32,
    /// URL-prefix templates `(name, prefix)`: a URL starting with `prefix` is written as
    /// `{{name}}` + the rest (the longest matching prefix wins). Names must be identifiers,
    /// prefixes non-empty and free of `{{`.
    pub templates: Vec<(String, String)>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            gzip: false,
            gzip_level: 6,
            templates: Vec::new(),
        }
    }
}

impl WriteOptions {
    /// Default options, gzipped iff `path` ends in `.gz`.
    pub fn for_path(path: impl AsRef<Path>) -> Self {
        Self {
            gzip: is_gzip_path(path),
            ..Self::default()
        }
    }
}

enum Sink<W: Write> {
    Plain(BufWriter<W>),
    Gzip(GzEncoder<BufWriter<W>>),
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Gzip(w) => w.write_all(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

/// Incremental writer: [`RefWriter::new`] writes the header, [`RefWriter::write_ref`] one
/// reference, [`RefWriter::finish`] the closing braces. The caller must not write a key twice
/// (readers would keep the last value).
pub struct RefWriter<W: Write> {
    out: Sink<W>,
    templates: Vec<(String, String)>,
    first: bool,
}

fn json_err(e: serde_json::Error) -> RefsError {
    if e.is_io() {
        RefsError::Io(e.into())
    } else {
        RefsError::from_json(&e)
    }
}

impl<W: Write> RefWriter<W> {
    /// Starts a document on `w`.
    pub fn new(w: W, opts: &WriteOptions) -> Result<Self> {
        for (name, prefix) in &opts.templates {
            let ok_name = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok_name || prefix.is_empty() || has_placeholder(prefix) {
                return Err(RefsError::Write {
                    key: String::new(),
                    reason: format!("invalid template {name:?} = {prefix:?}"),
                });
            }
        }
        let buffered = BufWriter::with_capacity(1 << 16, w);
        let mut out = if opts.gzip {
            Sink::Gzip(GzEncoder::new(
                buffered,
                Compression::new(opts.gzip_level.min(9)),
            ))
        } else {
            Sink::Plain(buffered)
        };
        out.write_all(b"{\"version\":1,")?;
        if !opts.templates.is_empty() {
            out.write_all(b"\"templates\":{")?;
            for (i, (name, prefix)) in opts.templates.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut out, name).map_err(json_err)?;
                out.write_all(b":")?;
                serde_json::to_writer(&mut out, prefix).map_err(json_err)?;
            }
            out.write_all(b"},")?;
        }
        out.write_all(b"\"refs\":{")?;
        // Longest prefix first, so the first match is the longest.
        let mut templates = opts.templates.clone();
        templates.sort_by_key(|(_, p)| std::cmp::Reverse(p.len()));
        Ok(Self {
            out,
            templates,
            first: true,
        })
    }

    /// Writes one reference.
    pub fn write_ref(&mut self, key: &str, value: &RefValue) -> Result<()> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, key).map_err(json_err)?;
        self.out.write_all(b":")?;
        match value {
            RefValue::Inline(bytes) => self.write_inline(bytes)?,
            RefValue::Whole { url } => {
                self.out.write_all(b"[")?;
                self.write_url(key, url)?;
                self.out.write_all(b"]")?;
            }
            RefValue::Range {
                url,
                offset,
                length,
            } => {
                self.out.write_all(b"[")?;
                self.write_url(key, url)?;
                write!(self.out, ",{offset},{length}]")?;
            }
        }
        Ok(())
    }

    fn write_inline(&mut self, bytes: &[u8]) -> Result<()> {
        match std::str::from_utf8(bytes) {
            Ok(s) if !s.starts_with("base64:") => {
                serde_json::to_writer(&mut self.out, s).map_err(json_err)?;
            }
            _ => {
                self.out.write_all(b"\"base64:")?;
                {
                    let mut enc = base64::write::EncoderWriter::new(&mut self.out, &STANDARD);
                    enc.write_all(bytes)?;
                    enc.finish()?;
                }
                self.out.write_all(b"\"")?;
            }
        }
        Ok(())
    }

    fn write_url(&mut self, key: &str, url: &Url) -> Result<()> {
        let Some(url) = url else {
            self.out.write_all(b"null")?;
            return Ok(());
        };
        if self.templates.is_empty() {
            // Without templates readers do not substitute, so any text round-trips.
            serde_json::to_writer(&mut self.out, url.as_ref()).map_err(json_err)?;
            return Ok(());
        }
        if has_placeholder(url) {
            return Err(RefsError::Write {
                key: key.to_string(),
                reason: format!("URL {url:?} contains \"{{{{\" and templates are in use"),
            });
        }
        let text =
            match self.templates.iter().find_map(|(name, prefix)| {
                url.strip_prefix(prefix.as_str()).map(|rest| (name, rest))
            }) {
                Some((name, rest)) => format!("{{{{{name}}}}}{rest}"),
                None => url.to_string(),
            };
        serde_json::to_writer(&mut self.out, &text).map_err(json_err)?;
        Ok(())
    }

    /// Closes the document, flushes (and finishes the gzip stream), returning the inner writer.
    pub fn finish(mut self) -> Result<W> {
        self.out.write_all(b"}}")?;
        let buffered = match self.out {
            Sink::Plain(w) => w,
            Sink::Gzip(g) => g.finish()?,
        };
        buffered
            .into_inner()
            .map_err(|e| RefsError::Io(e.into_error()))
    }
}

/// Writes `refs` to `w` as a version-1 document, key by key, returning `w`.
pub fn write_reference_set<W: Write>(refs: &ReferenceSet, w: W, opts: &WriteOptions) -> Result<W> {
    let mut writer = RefWriter::new(w, opts)?;
    for (key, value) in refs.iter() {
        writer.write_ref(key, value)?;
    }
    writer.finish()
}
