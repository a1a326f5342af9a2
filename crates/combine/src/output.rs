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
    last_url: String,
    last_url_json: Vec<u8>,
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
            last_url: String::new(),
            last_url_json: Vec::new(),
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
            Some(u) if !self.last_url_json.is_empty() && u == self.last_url => {
                self.scratch.extend_from_slice(&self.last_url_json);
            }
            Some(u) => {
                self.last_url.clear();
                self.last_url.push_str(u);
                self.last_url_json.clear();
                if let Some(enc) = self.url_cache.get(u) {
                    self.last_url_json.extend_from_slice(enc);
                    self.scratch.extend_from_slice(enc);
                } else {
                    let mut enc = Vec::with_capacity(u.len() + 2);
                    write_json_str(&mut enc, u);
                    self.scratch.extend_from_slice(&enc);
                    self.last_url_json.extend_from_slice(&enc);
                    if self.url_cache.len() < 100_000 {
                        self.url_cache.insert(u.to_string(), enc);
                    }
                }
            }
        }
    }
}

/// Appends the decimal digits of `n` (faster than `write!`).
pub fn push_u64(buf: &mut Vec<u8>, n: u64) {
    buf.extend_from_slice(decimal(&mut [0; 20], n).as_bytes());
}

/// The decimal digits of `n`, written into `tmp`.
pub fn decimal(tmp: &mut [u8; 20], mut n: u64) -> &str {
    let mut i = tmp.len();
    loop {
        i -= 1;
        if let Some(d) = tmp.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(tmp.get(i..).unwrap_or_default()).unwrap_or_default()
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
                self.scratch.push(b',');
                push_u64(&mut self.scratch, offset);
                self.scratch.push(b',');
                push_u64(&mut self.scratch, length);
                self.scratch.push(b']');
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
    fn decimal_digits() {
        for n in [0u64, 7, 10, 1234567890, u64::MAX] {
            let mut b = Vec::new();
            push_u64(&mut b, n);
            assert_eq!(String::from_utf8(b).unwrap(), n.to_string());
        }
    }

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
