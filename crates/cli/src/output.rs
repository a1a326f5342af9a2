//! Atomic outputs: a reference file appears complete or not at all.
//!
//! - Local paths: written to a temporary file beside the target, flushed to disk, then renamed
//!   over it.
//! - Object stores: written to a local spool file first, then uploaded with one PUT (up to
//!   [`SINGLE_PUT_LIMIT`]) or a multipart upload, which the store only makes visible when it
//!   is completed (and which is aborted on error).
//! - `-`: standard output, streamed.
//!
//! A [`PendingOutput`] dropped without [`PendingOutput::commit`] removes its temporary file,
//! so an interrupted run never leaves a truncated reference file behind.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use crate::error::{CliError, Context, Result};
use crate::log;
use crate::storage::{Location, Side, Storage, TempDir};

/// Largest output uploaded with a single PUT; larger ones use a multipart upload.
pub const SINGLE_PUT_LIMIT: u64 = 64 << 20;
/// Part size of multipart uploads.
const PART_SIZE: usize = 16 << 20;

enum Kind {
    Stdout,
    Local {
        tmp: PathBuf,
        dest: PathBuf,
    },
    Remote {
        spool: PathBuf,
        _dir: TempDir,
        store: Arc<dyn ObjectStore>,
        path: StorePath,
        display: String,
    },
}

/// An output being written.
pub struct PendingOutput {
    kind: Kind,
    file: Option<File>,
    committed: bool,
}

impl PendingOutput {
    /// Starts writing to `loc` (a reference file, so object stores use the refs side).
    pub fn create(storage: &Storage, loc: &Location) -> Result<Self> {
        match loc {
            Location::Stdio => Ok(Self {
                kind: Kind::Stdout,
                file: None,
                committed: false,
            }),
            Location::Local(dest) => {
                let name = dest
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| {
                        CliError::usage(format!("{}: not a file path", dest.display()))
                    })?;
                let dir = dest
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("."));
                let (tmp, file) = create_unique(&dir, &name)?;
                Ok(Self {
                    kind: Kind::Local {
                        tmp,
                        dest: dest.clone(),
                    },
                    file: Some(file),
                    committed: false,
                })
            }
            Location::Url(u) => {
                let (store, path) = storage.store(Side::Refs, u)?;
                let dir = TempDir::new("kerchunk-upload")?;
                let spool = dir.path().join("spool");
                let file = File::create(&spool).context(spool.display())?;
                Ok(Self {
                    kind: Kind::Remote {
                        spool,
                        _dir: dir,
                        store,
                        path,
                        display: u.to_string(),
                    },
                    file: Some(file),
                    committed: false,
                })
            }
        }
    }

    /// A buffered writer for the content (call once).
    pub fn writer(&self) -> Result<Box<dyn Write + Send>> {
        match &self.file {
            None => Ok(Box::new(BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            ))),
            Some(f) => Ok(Box::new(BufWriter::with_capacity(
                1 << 16,
                f.try_clone().context("cannot write the output")?,
            ))),
        }
    }

    /// Makes the output visible; the writer must have been flushed (dropped) before.
    pub async fn commit(mut self) -> Result<()> {
        match &self.kind {
            Kind::Stdout => {}
            Kind::Local { tmp, dest } => {
                if let Some(f) = &self.file {
                    f.sync_all().context(dest.display())?;
                }
                std::fs::rename(tmp, dest).context(format!(
                    "cannot move the output into place at {}",
                    dest.display()
                ))?;
            }
            Kind::Remote {
                spool,
                store,
                path,
                display,
                ..
            } => {
                if let Some(f) = &self.file {
                    f.sync_all().context(display)?;
                }
                upload(spool, store.as_ref(), path, display).await?;
            }
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingOutput {
    fn drop(&mut self) {
        if let Kind::Local { tmp, .. } = &self.kind {
            if !self.committed {
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
}

/// A new file `.<name>.<pid>-<n>.tmp` in `dir`.
fn create_unique(dir: &std::path::Path, name: &str) -> Result<(PathBuf, File)> {
    let mut last = None;
    for n in 0..1000u32 {
        let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => {
                return Err(CliError::fail(format!(
                    "{}: cannot create the output: {e}",
                    dir.join(name).display()
                )))
            }
        }
    }
    Err(CliError::fail(format!(
        "{}: cannot create a temporary file: {}",
        dir.display(),
        last.map(|e| e.to_string()).unwrap_or_default()
    )))
}

async fn upload(
    spool: &std::path::Path,
    store: &dyn ObjectStore,
    path: &StorePath,
    display: &str,
) -> Result<()> {
    let size = std::fs::metadata(spool).context(spool.display())?.len();
    let start = Instant::now();
    if size <= SINGLE_PUT_LIMIT {
        let data = std::fs::read(spool).context(spool.display())?;
        let r = store.put(path, PutPayload::from(data)).await;
        log::request(&format!("PUT {display}"), start, &r, |_| size);
        r.context(format!("uploading {display}"))?;
        return Ok(());
    }
    let upload = store
        .put_multipart(path)
        .await
        .context(format!("starting the upload of {display}"))?;
    let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut f = File::open(spool).context(spool.display())?;
    let mut buf = vec![0u8; PART_SIZE];
    let res: Result<()> = async {
        loop {
            let n = f.read(&mut buf).context(spool.display())?;
            if n == 0 {
                break;
            }
            w.wait_for_capacity(4)
                .await
                .context(format!("uploading {display}"))?;
            w.write(buf.get(..n).unwrap_or_default());
        }
        Ok(())
    }
    .await;
    match res {
        Ok(()) => {
            let r = w.finish().await;
            log::request(&format!("PUT (multipart) {display}"), start, &r, |_| size);
            r.context(format!("completing the upload of {display}"))?;
            Ok(())
        }
        Err(e) => {
            let _ = w.abort().await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_output_is_atomic() {
        let dir = TempDir::new("kerchunk-test-out").unwrap();
        let dest = dir.path().join("refs.json");
        let storage = Storage::default();
        let loc = Location::Local(dest.clone());
        // Dropped before commit: nothing left behind.
        {
            let out = PendingOutput::create(&storage, &loc).unwrap();
            let mut w = out.writer().unwrap();
            w.write_all(b"{\"version\":1,").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Committed: the whole content at the destination, no temporary file.
        std::fs::write(&dest, b"old").unwrap();
        let out = PendingOutput::create(&storage, &loc).unwrap();
        {
            let mut w = out.writer().unwrap();
            w.write_all(b"new content").unwrap();
            w.flush().unwrap();
            // Until commit, readers still see the old file.
            assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        }
        out.commit().await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new content");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn remote_output_single_and_multipart() {
        let dir = TempDir::new("kerchunk-test-up").unwrap();
        let spool = dir.path().join("spool");
        let store = object_store::memory::InMemory::new();
        let small = b"small".to_vec();
        std::fs::write(&spool, &small).unwrap();
        upload(&spool, &store, &StorePath::from("a.json"), "mem://a.json")
            .await
            .unwrap();
        assert_eq!(
            store
                .get(&StorePath::from("a.json"))
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .as_ref(),
            small.as_slice()
        );
        let big: Vec<u8> = (0..SINGLE_PUT_LIMIT + 3).map(|i| (i % 251) as u8).collect();
        std::fs::write(&spool, &big).unwrap();
        upload(&spool, &store, &StorePath::from("b.json"), "mem://b.json")
            .await
            .unwrap();
        let got = store
            .get(&StorePath::from("b.json"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(got.len(), big.len());
        assert!(got.as_ref() == big.as_slice());
    }
}
