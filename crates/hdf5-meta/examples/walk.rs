//! Walk one file and print its objects, links and I/O statistics (a debugging aid).

use std::sync::Arc;

use hdf5_meta::model::ObjectKind;
use hdf5_meta::walk::{walk, LocalFile, WalkOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: walk FILE")?;
    let file = walk(Arc::new(LocalFile::open(&path)?), WalkOptions::default()).await?;
    for o in &file.objects {
        let kind = match &o.kind {
            ObjectKind::Group { members } => format!("group ({} members)", members.len()),
            ObjectKind::Dataset(d) => format!(
                "dataset {:?} shape {:?} {:?}",
                d.datatype.numpy_typestr(),
                d.shape,
                storage(&d.storage)
            ),
            ObjectKind::Datatype(t) => format!("datatype {:?}", t.numpy_typestr()),
        };
        println!(
            "{} @{}: {kind}, {} attributes",
            o.path,
            o.address,
            o.attributes.len()
        );
    }
    println!(
        "aliases: {}, other links: {}",
        file.aliases.len(),
        file.other_links.len()
    );
    for (a, f) in file.aliases.iter().take(5) {
        println!("  {a} -> {f}");
    }
    for w in &file.warnings {
        println!("warning: {w}");
    }
    println!("io: {:?}", file.io);
    Ok(())
}

fn storage(s: &hdf5_meta::model::Storage) -> String {
    match s {
        hdf5_meta::model::Storage::Chunked {
            chunk_shape,
            chunks,
            ..
        } => format!("chunks {chunk_shape:?} x{}", chunks.len()),
        other => format!("{other:?}").chars().take(80).collect(),
    }
}
