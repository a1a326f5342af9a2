//! HDF5 filter pipeline → numcodecs filters, per-chunk filter masks, and chunk decoding /
//! re-encoding (kerchunk-behavior.md §2.8).
//!
//! Mapping (as kerchunk): deflate → `zlib` (level = client data 0), shuffle → `shuffle`
//! (element size = client data 0, else the type size), zstd (32015) → `zstd`, blosc (32001)
//! → `blosc` (cname from the compressor code, `blocksize` = the chunk byte count as kerchunk
//! writes it). Differences: fletcher32 maps to numcodecs `fletcher32` (same checksum and
//! trailer as HDF5; kerchunk refuses it), and the list keeps the HDF5 pipeline order (kerchunk
//! moves shuffle first, which only differs for pipelines that shuffle after compressing).
//! LZF, scale-offset and the HDF5 LZ4 framing have no numcodecs equivalent but are decoded
//! here; szip, n-bit, bitshuffle and unknown filters can be neither referenced nor decoded.
//!
//! Filter masks: the declared pipeline is the one used by most chunks (ties: the first
//! chunk's), counting a partial edge chunk of a dataset written with
//! `DONT_FILTER_PARTIAL_BOUND_CHUNKS` as unfiltered. Chunks stored differently are decoded and
//! re-encoded with the declared codecs (kerchunk takes the first chunk's mask, and drops every
//! filter after its highest set bit, which makes some datasets unreadable).

use hdf5_meta::format::messages::filter_pipeline::{filter_id, Filter};

use super::codecs::{self, ScaleOffset};
use crate::zarr::Codec;

/// A Rust decoder for one HDF5 filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoder {
    /// zlib stream.
    Deflate,
    /// Byte shuffle with this element size.
    Shuffle(usize),
    /// Fletcher-32 trailer.
    Fletcher32,
    /// LZF (h5py, 32000).
    Lzf,
    /// Scale-offset (6).
    ScaleOffset(ScaleOffset),
    /// HDF5 LZ4 plugin framing (32004).
    Lz4,
}

/// What one pipeline filter becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// HDF5 filter id.
    pub id: u16,
    /// Human name for messages.
    pub name: String,
    /// The numcodecs equivalent, if any.
    pub codec: Option<Codec>,
    /// A Rust decoder, if any.
    pub decoder: Option<Decoder>,
}

/// Blosc compressor names by code (c-blosc `BLOSC_*_FORMAT` order used by the HDF5 plugin).
const BLOSC_NAMES: [&str; 6] = ["blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"];

/// Human name of a filter id.
pub fn filter_name(f: &Filter) -> String {
    let known = match f.id {
        filter_id::DEFLATE => "deflate",
        filter_id::SHUFFLE => "shuffle",
        filter_id::FLETCHER32 => "fletcher32",
        filter_id::SZIP => "szip",
        filter_id::NBIT => "nbit",
        filter_id::SCALEOFFSET => "scaleoffset",
        filter_id::LZF => "lzf",
        filter_id::BLOSC => "blosc",
        filter_id::LZ4 => "lz4",
        filter_id::BITSHUFFLE => "bitshuffle",
        filter_id::ZSTD => "zstd",
        filter_id::BLOSC2 => "blosc2",
        _ => {
            return format!(
                "filter {}{}",
                f.id,
                f.name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            )
        }
    };
    format!("{known} ({})", f.id)
}

/// Map one filter. `itemsize` is the dataset's element size, `chunk_bytes` its unfiltered
/// chunk size.
pub fn map_filter(f: &Filter, itemsize: u64, chunk_bytes: u64) -> Mapped {
    let cd = |i: usize| f.client_data.get(i).copied();
    let (codec, decoder) = match f.id {
        filter_id::DEFLATE => (
            Some(Codec::Zlib {
                level: i64::from(cd(0).unwrap_or(4)),
            }),
            Some(Decoder::Deflate),
        ),
        filter_id::SHUFFLE => {
            let n = cd(0).map_or(itemsize, u64::from).max(1);
            (
                Some(Codec::Shuffle { elementsize: n }),
                Some(Decoder::Shuffle(usize::try_from(n).unwrap_or(1))),
            )
        }
        filter_id::FLETCHER32 => (Some(Codec::Fletcher32), Some(Decoder::Fletcher32)),
        filter_id::ZSTD => (
            Some(Codec::Zstd {
                level: i64::from(cd(0).unwrap_or(0) as i32),
                checksum: false,
            }),
            None,
        ),
        filter_id::BLOSC => {
            let code = cd(6).unwrap_or(0) as usize;
            let codec = BLOSC_NAMES.get(code).map(|cname| Codec::Blosc {
                cname: (*cname).to_string(),
                clevel: i64::from(cd(4).unwrap_or(5)),
                shuffle: i64::from(cd(5).unwrap_or(1)),
                blocksize: cd(3).map_or(chunk_bytes, u64::from),
            });
            (codec, None)
        }
        filter_id::LZF => (None, Some(Decoder::Lzf)),
        filter_id::LZ4 => (None, Some(Decoder::Lz4)),
        filter_id::SCALEOFFSET => (
            None,
            ScaleOffset::from_client_data(&f.client_data)
                .ok()
                .map(Decoder::ScaleOffset),
        ),
        _ => (None, None),
    };
    Mapped {
        id: f.id,
        name: filter_name(f),
        codec,
        decoder,
    }
}

/// Map a whole pipeline.
pub fn map_pipeline(filters: &[Filter], itemsize: u64, chunk_bytes: u64) -> Vec<Mapped> {
    filters
        .iter()
        .map(|f| map_filter(f, itemsize, chunk_bytes))
        .collect()
}

/// Bits of a mask that refer to existing pipeline positions.
pub fn effective_mask(mask: u32, nfilters: usize) -> u32 {
    if nfilters >= 32 {
        mask
    } else {
        mask & ((1u32 << nfilters) - 1)
    }
}

/// The most common mask (ties go to the earliest one seen); 0 when there are none.
pub fn majority_mask(masks: impl IntoIterator<Item = u32>) -> u32 {
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for m in masks {
        match counts.iter_mut().find(|(k, _)| *k == m) {
            Some((_, c)) => *c += 1,
            None => counts.push((m, 1)),
        }
    }
    let mut best: Option<(u32, usize)> = None;
    for (m, c) in counts {
        if best.is_none_or(|(_, bc)| c > bc) {
            best = Some((m, c));
        }
    }
    best.map_or(0, |(m, _)| m)
}

/// The filters applied under `mask` (bit i set = filter i skipped), in pipeline order.
pub fn applied(pipeline: &[Mapped], mask: u32) -> impl Iterator<Item = &Mapped> {
    pipeline
        .iter()
        .enumerate()
        .filter(move |(i, _)| *i >= 32 || mask & (1 << i) == 0)
        .map(|(_, m)| m)
}

/// Undo the filters applied under `mask`, last first. `max_out` bounds every stage's output
/// (the unfiltered chunk size, plus slack for checksums).
pub fn decode_chunk(
    pipeline: &[Mapped],
    mask: u32,
    stored: &[u8],
    max_out: usize,
) -> Result<Vec<u8>, String> {
    let steps: Vec<&Mapped> = applied(pipeline, mask).collect();
    let mut data = stored.to_vec();
    for m in steps.into_iter().rev() {
        let dec = m
            .decoder
            .as_ref()
            .ok_or_else(|| format!("no Rust decoder for {}", m.name))?;
        data = match dec {
            Decoder::Deflate => codecs::inflate(&data, max_out),
            Decoder::Shuffle(n) => Ok(codecs::unshuffle(&data, *n)),
            Decoder::Fletcher32 => codecs::fletcher32_check(&data),
            Decoder::Lzf => codecs::lzf_decompress(&data, max_out),
            Decoder::ScaleOffset(p) => p.decode(&data),
            Decoder::Lz4 => codecs::hdf5_lz4(&data, max_out),
        }
        .map_err(|e| e.to_string())?;
    }
    Ok(data)
}

/// Encode raw chunk bytes with numcodecs codecs, in order. zstd and blosc are written in
/// their stored (uncompressed) frame forms.
pub fn encode_chunk(codecs: &[Codec], raw: &[u8], itemsize: u64) -> Result<Vec<u8>, String> {
    let mut data = raw.to_vec();
    for c in codecs {
        data = match c {
            Codec::Zlib { level } => codecs::deflate(&data, *level).map_err(|e| e.to_string())?,
            Codec::Shuffle { elementsize } => {
                codecs::shuffle(&data, usize::try_from(*elementsize).unwrap_or(1))
            }
            Codec::Fletcher32 => codecs::fletcher32_append(&data),
            Codec::Zstd { .. } => codecs::zstd_stored(&data),
            Codec::Blosc { .. } => {
                codecs::blosc_stored(&data, usize::try_from(itemsize).unwrap_or(1))
                    .map_err(|e| e.to_string())?
            }
            other => return Err(format!("cannot encode with codec {:?}", other.id())),
        };
    }
    Ok(data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn f(id: u16, cd: &[u32]) -> Filter {
        Filter {
            id,
            name: None,
            optional: false,
            client_data: cd.to_vec(),
        }
    }

    #[test]
    fn mapping_matches_kerchunk_configs() {
        let p = map_pipeline(&[f(2, &[4]), f(1, &[6]), f(3, &[])], 4, 400);
        let configs: Vec<String> = p
            .iter()
            .map(|m| m.codec.as_ref().unwrap().to_config().to_string())
            .collect();
        assert_eq!(
            configs,
            [
                r#"{"id":"shuffle","elementsize":4}"#,
                r#"{"id":"zlib","level":6}"#,
                r#"{"id":"fletcher32"}"#
            ]
        );
        // Blosc client data (rev, ver, typesize, chunk_bytes, clevel, shuffle, compcode):
        // kerchunk-behavior.md §2.8.1 example {"cname":"zstd","clevel":5,"shuffle":1,"blocksize":2000}.
        let b = map_filter(&f(32001, &[2, 2, 4, 2000, 5, 1, 5]), 4, 2000);
        assert_eq!(
            b.codec.unwrap().to_config().to_string(),
            r#"{"id":"blosc","cname":"zstd","clevel":5,"shuffle":1,"blocksize":2000}"#
        );
        let z = map_filter(&f(32015, &[3]), 4, 100);
        assert_eq!(
            z.codec.unwrap().to_config().to_string(),
            r#"{"id":"zstd","level":3,"checksum":false}"#
        );
        let l = map_filter(&f(32000, &[4, 261, 400]), 4, 400);
        assert!(l.codec.is_none() && l.decoder == Some(Decoder::Lzf));
        let s = map_filter(&f(4, &[]), 4, 400);
        assert!(s.codec.is_none() && s.decoder.is_none());
        assert_eq!(s.name, "szip (4)");
    }

    #[test]
    fn masks() {
        assert_eq!(majority_mask([0, 1, 1, 0, 1]), 1);
        assert_eq!(majority_mask([2, 0]), 2);
        assert_eq!(majority_mask([]), 0);
        assert_eq!(effective_mask(0xffff_ffff, 2), 3);
        let p = map_pipeline(&[f(2, &[4]), f(1, &[1])], 4, 16);
        assert_eq!(applied(&p, 1).map(|m| m.id).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn decode_and_reencode_round_trip() {
        let p = map_pipeline(&[f(2, &[4]), f(1, &[1]), f(3, &[])], 4, 16);
        let raw: Vec<u8> = (0u8..16).collect();
        let codecs: Vec<Codec> = p.iter().map(|m| m.codec.clone().unwrap()).collect();
        let enc = encode_chunk(&codecs, &raw, 4).unwrap();
        assert_eq!(decode_chunk(&p, 0, &enc, 16).unwrap(), raw);
        // With shuffle skipped (mask bit 0), only deflate + fletcher32 are undone.
        let enc2 = encode_chunk(&codecs[1..], &raw, 4).unwrap();
        assert_eq!(decode_chunk(&p, 1, &enc2, 16).unwrap(), raw);
        // Raw chunk (all skipped).
        assert_eq!(decode_chunk(&p, 7, &raw, 16).unwrap(), raw);
        let zp = map_pipeline(&[f(32015, &[1])], 4, 16);
        assert!(decode_chunk(&zp, 0, &raw, 16).unwrap_err().contains("zstd"));
    }
}
