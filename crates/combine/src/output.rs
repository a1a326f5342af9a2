//! Output sinks: where combined references go, one at a time.
//!
//! [`JsonWriter`] streams a version-1 document (`{"version":1,"refs":{...}}`). Inline bytes
//! are written as a JSON string when they are UTF-8 (and do not start with `base64:`), else
//! as `"base64:…"` — the bytes a reader gets back are the same either way.

use std::collections::HashMap;
use std::io::Write;

use base64::Engine as _;

use crate::error::{CombineError, Result};
use crate::input::RefView;

/// Receives the combined references. Each key is given exactly once.
pub trait RefSink {
    /// Adds one reference.
    fn put(&mut self, key: &str, value: RefView<'_>) -> Result<()>;
}

/// Collects references in memory (tests, small combines).
impl RefSink for Vec<(String, crate::reference::Reference)> {
    fn put(&mut self, key: &str, value: RefView<'_>) -> Result<()> {
        self.push((key.to_string(), value.to_reference(&mut |s| s.into())));
        Ok(())
    }
}

/// Streams a kerchunk version-1 JSON document to a writer.
#[derive(Debug)]
pub struct JsonWriter<W: Write> {
    out: W,
    first: bool,
    url_cache: HashMap<String, Vec<u8>>,
    scratch: Vec<u8>,
    written: u64,
}

fn io(e: std::io::Error) -> CombineError {
    CombineError::Output(e)
}

fn write_json_str(buf: &mut Vec<u8>, s: &str) {
    // Serialising a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, s);
}

impl<W: Write> JsonWriter<W> {
    /// Starts the document.
    pub fn new(mut out: W) -> Result<Self> {
        out.write_all(b"{\"version\":1,\"refs\":{").map_err(io)?;
        Ok(JsonWriter {
            out,
            first: true,
            url_cache: HashMap::new(),
            scratch: Vec::with_capacity(256),
            written: 0,
        })
    }

    /// Number of references written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Ends the document and returns the writer (flushed).
    pub fn finish(mut self) -> Result<W> {
        self.out.write_all(b"}}").map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }

    fn write_url(&mut self, url: Option<&str>) {
        match url {
            None => self.scratch.extend_from_slice(b"null"),
            Some(u) => {
                if let Some(enc) = self.url_cache.get(u) {
                    self.scratch.extend_from_slice(enc);
                } else {
                    let mut enc = Vec::with_capacity(u.len() + 2);
                    write_json_str(&mut enc, u);
                    self.scratch.extend_from_slice(&enc);
                    if self.url_cache.len() < 100_000 {
                        self.url_cache.insert(u.to_string(), enc);
                    }
                }
            }
        }
    }
}

/// Appends the JSON form of inline bytes.
pub fn write_inline(buf: &mut Vec<u8>, data: &[u8]) {
    match std::str::from_utf8(data) {
        Ok(s) if !s.starts_with("base64:") => write_json_str(buf, s),
        _ => {
            buf.extend_from_slice(b"\"base64:");
            buf.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(data)
                    .as_bytes(),
            );
            buf.push(b'"');
        }
    }
}

impl<W: Write> RefSink for JsonWriter<W> {
    fn put(&mut self, key: &str, value: RefView<'_>) -> Result<()> {
        self.scratch.clear();
        if !self.first {
            self.scratch.push(b',');
        }
        self.first = false;
        write_json_str(&mut self.scratch, key);
        self.scratch.push(b':');
        match value {
            RefView::Inline(b) => write_inline(&mut self.scratch, &b),
            RefView::Whole { url } => {
                self.scratch.push(b'[');
                self.write_url(url.as_deref());
                self.scratch.push(b']');
            }
            RefView::Range {
                url,
                offset,
                length,
            } => {
                self.scratch.push(b'[');
                self.write_url(url.as_deref());
                let _ = write!(self.scratch, ",{offset},{length}]");
            }
        }
        self.out.write_all(&self.scratch).map_err(io)?;
        self.written += 1;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn writes_version1_document() {
        let mut w = JsonWriter::new(Vec::new()).unwrap();
        w.put(
            ".zgroup",
            RefView::Inline(Cow::Borrowed(br#"{"zarr_format":2}"#)),
        )
        .unwrap();
        w.put(
            "a/0",
            RefView::Range {
                url: Some(Cow::Borrowed("s3://b/f.nc")),
                offset: 1,
                length: 2,
            },
        )
        .unwrap();
        w.put("a/1", RefView::Whole { url: None }).unwrap();
        w.put("a/2", RefView::Inline(Cow::Borrowed(&[0xff, 0])))
            .unwrap();
        w.put("a/3", RefView::Inline(Cow::Borrowed(b"base64:x")))
            .unwrap();
        w.put(
            "a/4",
            RefView::Range {
                url: Some(Cow::Borrowed("s3://b/f.nc")),
                offset: 3,
                length: 4,
            },
        )
        .unwrap();
        assert_eq!(w.written(), 6);
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            r#"{"version":1,"refs":{".zgroup":"{\"zarr_format\":2}","a/0":["s3://b/f.nc",1,2],"a/1":[null],"a/2":"base64:/wA=","a/3":"base64:YmFzZTY0Ong=","a/4":["s3://b/f.nc",3,4]}}"#
        );
    }
}
