//! Pure-Rust HDF5 filter decoders and the few encoders needed to re-encode a chunk for a
//! numcodecs pipeline.
//!
//! Decoders: deflate, shuffle, fletcher32, LZF (h5py's filter 32000), scale-offset (filter 6,
//! integer and floating-point D-scale), the HDF5 LZ4 plugin framing (32004). Encoders:
//! zlib, shuffle, fletcher32, and "stored" forms of zstd (a frame of raw blocks) and blosc (a
//! memcpy'd frame) that the numcodecs decoders read back exactly. Every function is
//! bounds-checked and never allocates more than the caller's expected output size.

use std::io::{Read, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

/// A decoding or encoding failure (the message says which filter and why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub String);

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

type Result<T> = std::result::Result<T, CodecError>;

fn err(msg: impl Into<String>) -> CodecError {
    CodecError(msg.into())
}

/// Inflate a zlib stream (HDF5 deflate), refusing output longer than `max_out` bytes.
pub fn inflate(data: &[u8], max_out: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(max_out.min(data.len().saturating_mul(8)).min(1 << 24));
    let limit = u64::try_from(max_out).unwrap_or(u64::MAX).saturating_add(1);
    ZlibDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| err(format!("deflate: {e}")))?;
    if out.len() > max_out {
        return Err(err(format!(
            "deflate: output exceeds the expected {max_out} bytes"
        )));
    }
    Ok(out)
}

/// Compress with zlib at `level` (0–9; out-of-range levels are clamped).
pub fn deflate(data: &[u8], level: i64) -> Result<Vec<u8>> {
    let level = u32::try_from(level.clamp(0, 9)).unwrap_or(6);
    let mut e = ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        Compression::new(level),
    );
    e.write_all(data).map_err(|e| err(format!("zlib: {e}")))?;
    e.finish().map_err(|e| err(format!("zlib: {e}")))
}

/// Undo the HDF5 shuffle filter: byte `j` of element `i` was stored at `j * n + i`. A tail
/// shorter than one element is left in place, as HDF5 does.
pub fn unshuffle(data: &[u8], elemsize: usize) -> Vec<u8> {
    if elemsize <= 1 || data.len() < elemsize {
        return data.to_vec();
    }
    let n = data.len() / elemsize;
    let mut out = vec![0u8; data.len()];
    for (j, plane) in data.chunks_exact(n).take(elemsize).enumerate() {
        for (i, &b) in plane.iter().enumerate() {
            if let Some(slot) = out.get_mut(i * elemsize + j) {
                *slot = b;
            }
        }
    }
    let body = n * elemsize;
    if let (Some(dst), Some(src)) = (out.get_mut(body..), data.get(body..)) {
        dst.copy_from_slice(src);
    }
    out
}

/// Apply the HDF5 / numcodecs shuffle filter (inverse of [`unshuffle`]).
pub fn shuffle(data: &[u8], elemsize: usize) -> Vec<u8> {
    if elemsize <= 1 || data.len() < elemsize {
        return data.to_vec();
    }
    let n = data.len() / elemsize;
    let mut out = vec![0u8; data.len()];
    for (i, elem) in data.chunks_exact(elemsize).enumerate() {
        for (j, &b) in elem.iter().enumerate() {
            if let Some(slot) = out.get_mut(j * n + i) {
                *slot = b;
            }
        }
    }
    let body = n * elemsize;
    if let (Some(dst), Some(src)) = (out.get_mut(body..), data.get(body..)) {
        dst.copy_from_slice(src);
    }
    out
}

/// The HDF5 Fletcher-32 checksum: 16-bit big-endian words, sums folded every 360 words, an
/// odd final byte taken as the high byte of a word.
pub fn fletcher32_sum(data: &[u8]) -> u32 {
    let mut sum1: u32 = 0;
    let mut sum2: u32 = 0;
    let words = data.chunks_exact(2);
    let odd = words.remainder().first().copied();
    let pairs: Vec<&[u8]> = words.collect();
    for block in pairs.chunks(360) {
        for w in block {
            let hi = u32::from(w.first().copied().unwrap_or(0));
            let lo = u32::from(w.get(1).copied().unwrap_or(0));
            sum1 = sum1.wrapping_add((hi << 8) | lo);
            sum2 = sum2.wrapping_add(sum1);
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if let Some(b) = odd {
        sum1 = sum1.wrapping_add(u32::from(b) << 8);
        sum2 = sum2.wrapping_add(sum1);
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

/// Strip and verify the 4-byte little-endian Fletcher-32 trailer. Like HDF5, also accepts
/// the byte-swapped checksum written by very old library versions.
pub fn fletcher32_check(data: &[u8]) -> Result<Vec<u8>> {
    let cut = data
        .len()
        .checked_sub(4)
        .ok_or_else(|| err("fletcher32: chunk shorter than its checksum"))?;
    let (body, tail) = data.split_at(cut);
    let stored = u32::from_le_bytes(
        tail.try_into()
            .map_err(|_| err("fletcher32: bad trailer"))?,
    );
    let sum = fletcher32_sum(body);
    if stored != sum && stored != sum.swap_bytes() {
        return Err(err(format!(
            "fletcher32: checksum mismatch (stored {stored:#010x}, computed {sum:#010x})"
        )));
    }
    Ok(body.to_vec())
}

/// Append the Fletcher-32 trailer (as HDF5 and numcodecs write it).
pub fn fletcher32_append(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 4);
    out.extend_from_slice(data);
    out.extend_from_slice(&fletcher32_sum(data).to_le_bytes());
    out
}

/// Decompress raw LZF data (liblzf format, as h5py's LZF filter stores it), expecting at most
/// `max_out` bytes.
pub fn lzf_decompress(data: &[u8], max_out: usize) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(1 << 26));
    let mut ip = 0usize;
    let byte = |i: usize| {
        data.get(i)
            .copied()
            .ok_or_else(|| err("lzf: truncated input"))
    };
    while ip < data.len() {
        let ctrl = usize::from(byte(ip)?);
        ip += 1;
        if ctrl < 32 {
            let len = ctrl + 1;
            let lit = data
                .get(ip..ip + len)
                .ok_or_else(|| err("lzf: literal run past the input"))?;
            if out.len() + len > max_out {
                return Err(err("lzf: output exceeds the expected size"));
            }
            out.extend_from_slice(lit);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(byte(ip)?);
                ip += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8) + usize::from(byte(ip)?) + 1;
            ip += 1;
            let start = out
                .len()
                .checked_sub(back)
                .ok_or_else(|| err("lzf: back reference before the start"))?;
            if out.len() + len > max_out {
                return Err(err("lzf: output exceeds the expected size"));
            }
            for k in 0..len {
                let b = out
                    .get(start + k)
                    .copied()
                    .ok_or_else(|| err("lzf: bad back reference"))?;
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// Decompress one LZ4 block (no frame) into at most `max_out` bytes.
pub fn lz4_block(data: &[u8], max_out: usize) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(1 << 26));
    let mut ip = 0usize;
    let byte = |i: usize| {
        data.get(i)
            .copied()
            .ok_or_else(|| err("lz4: truncated block"))
    };
    loop {
        let token = byte(ip)?;
        ip += 1;
        let mut lit = usize::from(token >> 4);
        if lit == 15 {
            loop {
                let b = byte(ip)?;
                ip += 1;
                lit = lit
                    .checked_add(usize::from(b))
                    .ok_or_else(|| err("lz4: length overflow"))?;
                if b != 255 {
                    break;
                }
            }
        }
        let run = data
            .get(ip..ip.saturating_add(lit))
            .ok_or_else(|| err("lz4: literals past the block"))?;
        if out.len().saturating_add(lit) > max_out {
            return Err(err("lz4: output exceeds the expected size"));
        }
        out.extend_from_slice(run);
        ip += lit;
        if ip >= data.len() {
            return Ok(out); // the last sequence has literals only
        }
        let off = usize::from(u16::from_le_bytes([byte(ip)?, byte(ip + 1)?]));
        ip += 2;
        let mut mlen = usize::from(token & 0x0f);
        if mlen == 15 {
            loop {
                let b = byte(ip)?;
                ip += 1;
                mlen = mlen
                    .checked_add(usize::from(b))
                    .ok_or_else(|| err("lz4: length overflow"))?;
                if b != 255 {
                    break;
                }
            }
        }
        mlen += 4;
        let start = out
            .len()
            .checked_sub(off)
            .filter(|_| off > 0)
            .ok_or_else(|| err("lz4: bad match offset"))?;
        if out.len().saturating_add(mlen) > max_out {
            return Err(err("lz4: output exceeds the expected size"));
        }
        for k in 0..mlen {
            let b = out
                .get(start + k)
                .copied()
                .ok_or_else(|| err("lz4: bad match"))?;
            out.push(b);
        }
    }
}

/// Decode the HDF5 LZ4 plugin's framing (filter 32004): 8-byte big-endian total size, 4-byte
/// big-endian block size, then per block a 4-byte big-endian compressed size and the block
/// (stored raw when that size equals the block's uncompressed size).
pub fn hdf5_lz4(data: &[u8], max_out: usize) -> Result<Vec<u8>> {
    let total = data.get(..8).ok_or_else(|| err("lz4: missing header"))?;
    let total = u64::from_be_bytes(total.try_into().map_err(|_| err("lz4: header"))?);
    let block = data.get(8..12).ok_or_else(|| err("lz4: missing header"))?;
    let block = u64::from(u32::from_be_bytes(
        block.try_into().map_err(|_| err("lz4: header"))?,
    ));
    let total = usize::try_from(total)
        .ok()
        .filter(|&t| t <= max_out)
        .ok_or_else(|| err("lz4: size exceeds the chunk"))?;
    let block = usize::try_from(block)
        .ok()
        .filter(|&b| b > 0)
        .ok_or_else(|| err("lz4: zero block size"))?;
    let mut out = Vec::with_capacity(total);
    let mut ip = 12usize;
    while out.len() < total {
        let want = block.min(total - out.len());
        let csize = data
            .get(ip..ip + 4)
            .ok_or_else(|| err("lz4: truncated block header"))?;
        let csize =
            u32::from_be_bytes(csize.try_into().map_err(|_| err("lz4: block header"))?) as usize;
        ip += 4;
        let body = data
            .get(ip..ip.saturating_add(csize))
            .ok_or_else(|| err("lz4: block past the input"))?;
        ip += csize;
        if csize == want {
            out.extend_from_slice(body);
        } else {
            let dec = lz4_block(body, want)?;
            if dec.len() != want {
                return Err(err(format!(
                    "lz4: block decoded to {} bytes, expected {want}",
                    dec.len()
                )));
            }
            out.extend_from_slice(&dec);
        }
    }
    Ok(out)
}

/// Parameters of the scale-offset filter (filter 6) from its 20 client-data values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleOffset {
    /// 0: float D-scale, 1: float E-scale (never implemented by HDF5), 2: integer.
    pub scale_type: u32,
    /// Decimal scale factor (floats) or minimum bits (integers).
    pub scale_factor: i32,
    /// Elements per chunk.
    pub nelmts: usize,
    /// 0 integer, 1 float.
    pub class: u32,
    /// Element size in bytes (1, 2, 4, 8).
    pub size: usize,
    /// Integers: signed (two's complement) when true.
    pub signed: bool,
    /// Dataset byte order is big-endian.
    pub big_endian: bool,
    /// Fill value bytes (little-endian, `size` bytes) when defined.
    pub fill: Option<Vec<u8>>,
}

impl ScaleOffset {
    /// Read the client data; errors on malformed or unsupported parameters.
    pub fn from_client_data(cd: &[u32]) -> Result<Self> {
        let get = |i: usize| {
            cd.get(i)
                .copied()
                .ok_or_else(|| err(format!("scaleoffset: {} parameters, expected 20", cd.len())))
        };
        let size = get(4)? as usize;
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(err(format!("scaleoffset: element size {size}")));
        }
        let class = get(3)?;
        let scale_type = get(0)?;
        if class > 1 || (class == 1 && scale_type != 0) || (class == 0 && scale_type != 2) {
            return Err(err(format!("scaleoffset: class {class} with scale type {scale_type} (E-scale is not implemented by HDF5)")));
        }
        if class == 1 && size < 4 {
            return Err(err("scaleoffset: float smaller than 4 bytes"));
        }
        let fill = if get(7)? == 1 {
            let mut bytes = Vec::with_capacity(8);
            for k in 0..size.div_ceil(4) {
                bytes.extend_from_slice(&get(8 + k)?.to_le_bytes());
            }
            bytes.truncate(size);
            Some(bytes)
        } else {
            None
        };
        Ok(Self {
            scale_type,
            scale_factor: get(1)? as i32,
            nelmts: get(2)? as usize,
            class,
            size,
            signed: get(5)? == 1,
            big_endian: get(6)? == 1,
            fill,
        })
    }

    /// Decode one chunk. The packed values were written by a little-endian machine (the
    /// filter stores data in the writer's memory order); the result is in the dataset's
    /// byte order.
    pub fn decode(&self, data: &[u8]) -> Result<Vec<u8>> {
        let bits = (self.size * 8) as u32;
        let out_len = self
            .nelmts
            .checked_mul(self.size)
            .ok_or_else(|| err("scaleoffset: size overflow"))?;
        if self.class == 0 && self.scale_factor == bits as i32 {
            return Ok(data.to_vec()); // "no need to process data"
        }
        let header: &[u8; 21] = data
            .get(..21)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| err("scaleoffset: chunk shorter than its 21-byte header"))?;
        let [b0, b1, b2, b3, b4, ..] = *header;
        let minbits = u32::from_le_bytes([b0, b1, b2, b3]);
        let mv_size = usize::from(b4).min(8);
        let mut minval: u64 = 0;
        for (i, &b) in header
            .get(5..5 + mv_size)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            minval |= u64::from(b) << (8 * i);
        }
        if minbits > bits {
            return Err(err(format!(
                "scaleoffset: {minbits} bits for a {bits}-bit type"
            )));
        }
        let payload = data.get(21..).unwrap_or_default();
        let mut le: Vec<u8>;
        if minbits == bits {
            le = payload
                .get(..out_len)
                .ok_or_else(|| err("scaleoffset: short payload"))?
                .to_vec();
        } else {
            let mask: u64 = if minbits == 64 {
                u64::MAX
            } else {
                (1u64 << minbits) - 1
            };
            let need_bits = (self.nelmts as u128) * u128::from(minbits);
            if (payload.len() as u128) * 8 < need_bits {
                return Err(err("scaleoffset: short payload"));
            }
            le = Vec::with_capacity(out_len);
            let mut bitpos: usize = 0;
            let fill_raw = self.fill.as_ref().map(|f| le_u64(f));
            for _ in 0..self.nelmts {
                let mut v: u64 = 0;
                for _ in 0..minbits {
                    let byte = payload.get(bitpos / 8).copied().unwrap_or(0);
                    let bit = (byte >> (7 - (bitpos % 8))) & 1;
                    v = (v << 1) | u64::from(bit);
                    bitpos += 1;
                }
                let is_fill = fill_raw.is_some() && minbits > 0 && v == mask;
                let word = if self.class == 0 {
                    match (is_fill, fill_raw) {
                        (true, Some(f)) => f,
                        _ => v.wrapping_add(minval),
                    }
                } else {
                    self.float_value(v, minval, is_fill)
                };
                le.extend_from_slice(word.to_le_bytes().get(..self.size).unwrap_or_default());
            }
        }
        if self.big_endian {
            for e in le.chunks_exact_mut(self.size) {
                e.reverse();
            }
        }
        Ok(le)
    }

    /// Floating-point D-scale post-processing: `int / 10^D + min` in the element's precision,
    /// where the unpacked bits are read as a signed integer of the element's width.
    fn float_value(&self, v: u64, minval: u64, is_fill: bool) -> u64 {
        let d = self.scale_factor;
        if self.size == 4 {
            let fill = self.fill.as_ref().map(|f| le_u64(f) as u32);
            if let (true, Some(f)) = (is_fill, fill) {
                return u64::from(f);
            }
            let min = f32::from_bits(minval as u32);
            let x = (v as u32 as i32) as f32 / 10f32.powi(d) + min;
            u64::from(x.to_bits())
        } else {
            let fill = self.fill.as_ref().map(|f| le_u64(f));
            if let (true, Some(f)) = (is_fill, fill) {
                return f;
            }
            let min = f64::from_bits(minval);
            let x = (v as i64) as f64 / 10f64.powi(d) + min;
            x.to_bits()
        }
    }
}

fn le_u64(b: &[u8]) -> u64 {
    b.iter()
        .take(8)
        .enumerate()
        .fold(0u64, |acc, (i, &x)| acc | (u64::from(x) << (8 * i)))
}

/// A zstd frame holding `data` in raw (stored) blocks, with the content size in the header,
/// which numcodecs' `zstd` codec decodes to `data`.
pub fn zstd_stored(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = 128 * 1024;
    let mut out = Vec::with_capacity(data.len() + 32);
    out.extend_from_slice(&0xFD2F_B528u32.to_le_bytes());
    let n = data.len() as u64;
    // Single-segment frame; Frame_Content_Size field of 1, 2, 4 or 8 bytes.
    if n < 256 {
        out.push(0x20);
        out.push(n as u8);
    } else if n < 65536 + 256 {
        out.push(0x60);
        out.extend_from_slice(&((n - 256) as u16).to_le_bytes());
    } else if n <= u64::from(u32::MAX) {
        out.push(0xA0);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    } else {
        out.push(0xE0);
        out.extend_from_slice(&n.to_le_bytes());
    }
    let mut blocks = data.chunks(MAX_BLOCK).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0]); // last, raw, size 0
    }
    while let Some(b) = blocks.next() {
        let last = u32::from(blocks.peek().is_none());
        let header = ((b.len() as u32) << 3) | last; // block type 0 = raw
        out.extend_from_slice(header.to_le_bytes().get(..3).unwrap_or_default());
        out.extend_from_slice(b);
    }
    out
}

/// A Blosc frame holding `data` uncompressed (the "memcpyed" flag), which numcodecs' `blosc`
/// codec decodes to `data`. Fails above Blosc's 2 GiB limit.
pub fn blosc_stored(data: &[u8], typesize: usize) -> Result<Vec<u8>> {
    let n = u32::try_from(data.len())
        .ok()
        .filter(|&n| n <= i32::MAX as u32 - 16)
        .ok_or_else(|| err("blosc: chunk too large"))?;
    let mut out = Vec::with_capacity(data.len() + 16);
    out.push(2); // format version
    out.push(1); // compressor format version
    out.push(0x02); // flags: memcpyed
    out.push(u8::try_from(typesize).unwrap_or(1).max(1));
    out.extend_from_slice(&n.to_le_bytes()); // nbytes
    out.extend_from_slice(&n.to_le_bytes()); // blocksize
    out.extend_from_slice(&(n + 16).to_le_bytes()); // cbytes
    out.extend_from_slice(data);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn fletcher32_matches_a_real_hdf5_chunk() {
        // h5py 3.16 / HDF5 2.0: create_dataset("x", data=np.arange(10, dtype="<i4"),
        // chunks=(10,), fletcher32=True) stored the 40 data bytes followed by 00 2d 01 4a.
        let data: Vec<u8> = (0i32..10).flat_map(|v| v.to_le_bytes()).collect();
        let stored = fletcher32_append(&data);
        assert_eq!(&stored[40..], &[0x00, 0x2d, 0x01, 0x4a]);
        assert_eq!(fletcher32_check(&stored).unwrap(), data);
        let mut bad = stored.clone();
        bad[0] ^= 1;
        assert!(fletcher32_check(&bad).is_err());
        assert!(fletcher32_check(&[1, 2]).is_err());
        // Odd length takes the last byte as a high byte.
        assert_eq!(fletcher32_sum(&[1]), (0x0100 << 16) | 0x0100);
    }

    #[test]
    fn shuffle_round_trips_with_tail() {
        let data: Vec<u8> = (0u8..11).collect();
        let s = shuffle(&data, 4);
        // Two full elements: plane j holds byte j of each; the 3-byte tail is kept.
        assert_eq!(s, vec![0, 4, 1, 5, 2, 6, 3, 7, 8, 9, 10]);
        assert_eq!(unshuffle(&s, 4), data);
        assert_eq!(unshuffle(&[1, 2], 4), vec![1, 2]);
    }

    #[test]
    fn zlib_round_trip_and_limit() {
        let data = vec![7u8; 1000];
        let z = deflate(&data, 4).unwrap();
        assert_eq!(inflate(&z, 1000).unwrap(), data);
        assert!(inflate(&z, 999).is_err());
        assert!(inflate(b"not zlib", 10).is_err());
    }

    #[test]
    fn lzf_literals_and_back_references() {
        // Hand-assembled: literal run "abc" (ctrl 2), then a back reference of length 6
        // (ctrl len field 4 → 4+2) at distance 3 (offset field 2 → 2+1).
        let enc = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(lzf_decompress(&enc, 100).unwrap(), b"abcabcabc");
        assert!(lzf_decompress(&enc, 5).is_err());
        assert!(lzf_decompress(&[(1 << 5), 9], 100).is_err()); // reference before start
        assert!(lzf_decompress(&[5, b'a'], 100).is_err()); // truncated literal
    }

    #[test]
    fn lz4_block_and_hdf5_framing() {
        // Token 0x32: 3 literals "xyz", match length 2+4 = 6 at offset 3; then a final
        // literal-only sequence "!" (token 0x10).
        let block = [0x32, b'x', b'y', b'z', 3, 0, 0x10, b'!'];
        assert_eq!(lz4_block(&block, 100).unwrap(), b"xyzxyzxyz!");
        let mut framed = 10u64.to_be_bytes().to_vec();
        framed.extend_from_slice(&1024u32.to_be_bytes());
        framed.extend_from_slice(&(block.len() as u32).to_be_bytes());
        framed.extend_from_slice(&block);
        assert_eq!(hdf5_lz4(&framed, 100).unwrap(), b"xyzxyzxyz!");
        assert!(hdf5_lz4(&framed, 5).is_err());
        assert!(lz4_block(&[0x0f, 0, 0], 100).is_err());
    }

    fn so_params(
        class: u32,
        scale_type: u32,
        factor: i32,
        n: u32,
        size: u32,
        signed: bool,
        fill: Option<u64>,
    ) -> Vec<u32> {
        let mut cd = vec![
            scale_type,
            factor as u32,
            n,
            class,
            size,
            u32::from(signed),
            0,
            u32::from(fill.is_some()),
        ];
        let f = fill.unwrap_or(0);
        cd.push(f as u32);
        cd.push((f >> 32) as u32);
        cd.resize(20, 0);
        cd
    }

    /// Pack `values` MSB-first with `minbits` bits each behind a 21-byte header.
    fn so_pack(minbits: u32, minval: u64, values: &[u64]) -> Vec<u8> {
        let mut out = minbits.to_le_bytes().to_vec();
        out.push(8);
        out.extend_from_slice(&minval.to_le_bytes());
        out.resize(21, 0);
        let mut bits = Vec::new();
        for v in values {
            for k in (0..minbits).rev() {
                bits.push(((v >> k) & 1) as u8);
            }
        }
        for byte in bits.chunks(8) {
            let mut b = 0u8;
            for (i, bit) in byte.iter().enumerate() {
                b |= bit << (7 - i);
            }
            out.push(b);
        }
        out
    }

    #[test]
    fn scaleoffset_integers() {
        // i32 values 100, 103, 107 and a fill (-1): minval 100, minbits 4, fill code 15.
        let p = ScaleOffset::from_client_data(&so_params(
            0,
            2,
            0,
            4,
            4,
            true,
            Some(u64::from((-1i32) as u32)),
        ))
        .unwrap();
        let packed = so_pack(4, 100, &[0, 3, 7, 15]);
        let out = p.decode(&packed).unwrap();
        let vals: Vec<i32> = out
            .chunks(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(vals, vec![100, 103, 107, -1]);
        // Negative minimum without fill.
        let p = ScaleOffset::from_client_data(&so_params(0, 2, 0, 2, 2, true, None)).unwrap();
        let out = p.decode(&so_pack(2, (-5i64) as u64, &[0, 3])).unwrap();
        assert_eq!(out, [(-5i16).to_le_bytes(), (-2i16).to_le_bytes()].concat());
        // minbits 0: every element equals minval... stored as zero offsets.
        let out = p.decode(&so_pack(0, 9, &[])).unwrap();
        assert_eq!(out, [9i16.to_le_bytes(), 9i16.to_le_bytes()].concat());
        // Short payloads are errors.
        assert!(p.decode(&[0; 10]).is_err());
        assert!(ScaleOffset::from_client_data(&[0; 5]).is_err());
        assert!(ScaleOffset::from_client_data(&so_params(1, 1, 2, 4, 4, false, None)).is_err());
    }

    #[test]
    fn scaleoffset_float_dscale() {
        // f64 D-scale 2: values 1.25, 1.5 with min 1.0 stored as 25, 50.
        let p = ScaleOffset::from_client_data(&so_params(1, 0, 2, 2, 8, false, None)).unwrap();
        let out = p.decode(&so_pack(6, 1.0f64.to_bits(), &[25, 50])).unwrap();
        assert_eq!(out, [1.25f64.to_le_bytes(), 1.5f64.to_le_bytes()].concat());
        let p = ScaleOffset::from_client_data(&so_params(1, 0, 1, 1, 4, false, None)).unwrap();
        let out = p
            .decode(&so_pack(3, u64::from(2.0f32.to_bits()), &[5]))
            .unwrap();
        assert_eq!(out, 2.5f32.to_le_bytes());
    }

    #[test]
    fn stored_frames_have_the_documented_headers() {
        let z = zstd_stored(b"hello");
        assert_eq!(&z[..6], &[0x28, 0xb5, 0x2f, 0xfd, 0x20, 5]);
        assert_eq!(&z[6..9], &[(5 << 3) | 1, 0, 0]);
        assert_eq!(&z[9..], b"hello");
        let big = vec![1u8; 300_000];
        let z = zstd_stored(&big);
        assert_eq!(z.len(), 4 + 1 + 4 + 3 * 3 + 300_000);
        let b = blosc_stored(b"abcd", 4).unwrap();
        assert_eq!(&b[..4], &[2, 1, 2, 4]);
        assert_eq!(&b[12..16], &20u32.to_le_bytes());
        assert_eq!(&b[16..], b"abcd");
    }
}
