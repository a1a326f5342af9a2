//! Fetching referenced bytes: for inlining small chunks and for `data:`/`cf:` selectors whose
//! chunks are not inline. The CLI implements [`ByteFetcher`] over object_store (blocking on
//! its runtime from the combining thread); [`LocalFetcher`] reads local files.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use crate::error::FetchError;

/// One request: a whole target (`range: None`) or `length` bytes from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRequest<'a> {
    /// Target URL as written in the references.
    pub url: &'a str,
    /// `(offset, length)`, or `None` for the whole target.
    pub range: Option<(u64, u64)>,
}

/// Fetches referenced bytes. Called with the batch of requests of one input at a time, so an
/// implementation can run them concurrently.
pub trait ByteFetcher: Sync {
    /// The bytes of each request, in order.
    fn fetch(&self, requests: &[ByteRequest<'_>]) -> Vec<Result<Vec<u8>, FetchError>>;
    /// The size of a whole target (for `[url]` references, to decide on inlining).
    fn size(&self, url: &str) -> Result<u64, FetchError>;
}

/// Reads local files: `file://` URLs or plain paths, relative ones against `base`.
#[derive(Debug, Clone, Default)]
pub struct LocalFetcher {
    /// Directory for relative paths (the current directory when `None`).
    pub base: Option<PathBuf>,
}

impl LocalFetcher {
    fn path(&self, url: &str) -> Result<PathBuf, FetchError> {
        let p = url.strip_prefix("file://").unwrap_or(url);
        if p.contains("://") {
            return Err(format!("{url}: not a local path").into());
        }
        let p = PathBuf::from(p);
        Ok(match (&self.base, p.is_relative()) {
            (Some(b), true) => b.join(p),
            _ => p,
        })
    }

    fn read(&self, r: &ByteRequest<'_>) -> Result<Vec<u8>, FetchError> {
        let mut f = File::open(self.path(r.url)?)?;
        match r.range {
            None => {
                let mut v = Vec::new();
                f.read_to_end(&mut v)?;
                Ok(v)
            }
            Some((offset, length)) => {
                let size = f.metadata()?.len();
                let end = offset
                    .checked_add(length)
                    .filter(|&e| e <= size)
                    .ok_or_else(|| {
                        format!(
                            "{}: range {offset}+{length} beyond the file size {size}",
                            r.url
                        )
                    })?;
                f.seek(SeekFrom::Start(offset))?;
                let mut v = vec![0u8; usize::try_from(end - offset)?];
                f.read_exact(&mut v)?;
                Ok(v)
            }
        }
    }
}

impl ByteFetcher for LocalFetcher {
    fn fetch(&self, requests: &[ByteRequest<'_>]) -> Vec<Result<Vec<u8>, FetchError>> {
        requests.iter().map(|r| self.read(r)).collect()
    }

    fn size(&self, url: &str) -> Result<u64, FetchError> {
        Ok(std::fs::metadata(self.path(url)?)?.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn local_ranges() {
        let dir = std::env::temp_dir().join(format!("combine-fetch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f.bin"), b"0123456789").unwrap();
        let f = LocalFetcher {
            base: Some(dir.clone()),
        };
        let got = f.fetch(&[
            ByteRequest {
                url: "f.bin",
                range: Some((2, 3)),
            },
            ByteRequest {
                url: &format!("file://{}", dir.join("f.bin").display()),
                range: None,
            },
            ByteRequest {
                url: "f.bin",
                range: Some((8, 3)),
            },
            ByteRequest {
                url: "s3://x/y",
                range: None,
            },
        ]);
        assert_eq!(got[0].as_ref().unwrap(), b"234");
        assert_eq!(got[1].as_ref().unwrap().len(), 10);
        assert!(got[2].is_err());
        assert!(got[3].is_err());
        assert_eq!(f.size("f.bin").unwrap(), 10);
        std::fs::remove_dir_all(&dir).ok();
    }
}
