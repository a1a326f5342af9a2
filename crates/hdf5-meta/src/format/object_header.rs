//! Object headers, versions 1 and 2 (`OHDR`), and their continuation blocks (`OCHK`).
//!
//! A header is read as a chain of chunks: the first at the object's address, further ones
//! named by continuation messages (type 0x10). [`parse_header`] decodes the first chunk and
//! [`parse_continuation`] each further one; both return the raw messages of that chunk and the
//! continuation ranges found in it, leaving the chain walk (and its cycle detection) to the caller.

use crate::error::Result;
use crate::format::checksum;
use crate::format::cursor::{Cursor, Sizes};

/// Message type of a header continuation.
pub const CONTINUATION: u16 = 0x10;

/// Bytes to read speculatively for a header whose size is not known yet.
pub const SPECULATIVE_LEN: usize = 512;

/// One raw header message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message type (0x01 dataspace, 0x03 datatype, 0x08 layout, …).
    pub kind: u16,
    /// Message flags (bit 0 constant, bit 1 shared, …).
    pub flags: u8,
    /// Creation order, when the header tracks it (v2 only).
    pub creation_order: Option<u16>,
    /// File address of the message data.
    pub address: u64,
    /// The message data.
    pub data: Vec<u8>,
}

impl Message {
    /// True when the message data is a shared-message reference rather than the message itself.
    pub fn is_shared(&self) -> bool {
        self.flags & 0x02 != 0
    }
}

/// A header continuation: where the next chunk of messages lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Continuation {
    /// Address of the continuation block.
    pub address: u64,
    /// Its length in bytes (for v2, including the `OCHK` signature and checksum).
    pub length: u64,
}

/// One decoded chunk of an object header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderChunk {
    /// Header version (1 or 2).
    pub version: u8,
    /// Messages in this chunk, continuation and null messages excluded.
    pub messages: Vec<Message>,
    /// Continuation blocks named in this chunk, in order.
    pub continuations: Vec<Continuation>,
    /// v2 header flags (0 for v1): bit 2 = creation order tracked.
    pub flags: u8,
    /// Total bytes this chunk occupies from its address.
    pub len: u64,
}

/// Number of bytes needed to parse the prefix of the header at the start of `buf` and
/// know its first chunk's total size, or an error if the bytes are not a header.
pub fn first_chunk_len(buf: &[u8], address: u64, sizes: Sizes) -> Result<u64> {
    let mut c = Cursor::new(buf, address, sizes, "object header");
    if buf.starts_with(b"OHDR") {
        let (prefix_len, data_len, _) = v2_prefix(&mut c)?;
        Ok(prefix_len as u64 + data_len + 4)
    } else {
        let version = c.u8()?;
        if version != 1 {
            return Err(c.bad_version(version));
        }
        c.skip(1 + 2 + 4)?;
        let data_len = u64::from(c.u32()?);
        Ok(16 + data_len)
    }
}

/// Decode the v2 prefix; returns (prefix length, chunk-0 data length, flags).
fn v2_prefix(c: &mut Cursor<'_>) -> Result<(usize, u64, u8)> {
    c.signature(b"OHDR")?;
    let version = c.u8()?;
    if version != 2 {
        return Err(c.bad_version(version));
    }
    let flags = c.u8()?;
    if flags & 0x20 != 0 {
        c.skip(16)?; // access, modification, change, birth times
    }
    if flags & 0x10 != 0 {
        c.skip(4)?; // max compact / min dense attribute counts
    }
    let width = 1usize << (flags & 0x03);
    let data_len = c.uint(width)?;
    Ok((c.pos(), data_len, flags))
}

/// Decode the first chunk of the object header at `address`; `buf` must hold at least
/// [`first_chunk_len`] bytes.
pub fn parse_header(buf: &[u8], address: u64, sizes: Sizes) -> Result<HeaderChunk> {
    let mut c = Cursor::new(buf, address, sizes, "object header");
    if buf.starts_with(b"OHDR") {
        let (prefix_len, data_len, flags) = v2_prefix(&mut c)?;
        let end = checked_end(&c, prefix_len, data_len)?;
        checksum::verify("object header", address, buf, end)?;
        let (messages, continuations) = v2_messages(buf, address, sizes, prefix_len, end, flags)?;
        Ok(HeaderChunk {
            version: 2,
            messages,
            continuations,
            flags,
            len: end as u64 + 4,
        })
    } else {
        let version = c.u8()?;
        if version != 1 {
            return Err(c.bad_version(version));
        }
        c.skip(1)?;
        let declared = usize::from(c.u16()?);
        c.skip(4)?; // reference count
        let data_len = u64::from(c.u32()?);
        let end = checked_end(&c, 16, data_len)?;
        let (messages, continuations) = v1_messages(buf, address, sizes, 16, end, declared)?;
        Ok(HeaderChunk {
            version: 1,
            messages,
            continuations,
            flags: 0,
            len: end as u64,
        })
    }
}

/// Decode a continuation block of a header of `version` (1 or 2, from its first chunk).
pub fn parse_continuation(
    buf: &[u8],
    cont: Continuation,
    sizes: Sizes,
    version: u8,
    flags: u8,
) -> Result<HeaderChunk> {
    let address = cont.address;
    let mut c = Cursor::new(buf, address, sizes, "object header continuation");
    let len =
        usize::try_from(cont.length).map_err(|_| c.invalid("continuation length overflow"))?;
    c.require(len)?;
    if version == 2 {
        c.signature(b"OCHK")?;
        let end = len
            .checked_sub(4)
            .ok_or_else(|| c.invalid("continuation shorter than its checksum"))?;
        checksum::verify("object header continuation", address, buf, end)?;
        let (messages, continuations) = v2_messages(buf, address, sizes, 4, end, flags)?;
        Ok(HeaderChunk {
            version,
            messages,
            continuations,
            flags,
            len: cont.length,
        })
    } else {
        let (messages, continuations) = v1_messages(buf, address, sizes, 0, len, usize::MAX)?;
        Ok(HeaderChunk {
            version,
            messages,
            continuations,
            flags,
            len: cont.length,
        })
    }
}

fn checked_end(c: &Cursor<'_>, start: usize, data_len: u64) -> Result<usize> {
    let data_len = usize::try_from(data_len).map_err(|_| c.invalid("header size overflow"))?;
    let end = start
        .checked_add(data_len)
        .ok_or_else(|| c.invalid("header size overflow"))?;
    c.require(end.saturating_sub(c.pos()))?;
    Ok(end)
}

type Messages = (Vec<Message>, Vec<Continuation>);

fn v1_messages(
    buf: &[u8],
    address: u64,
    sizes: Sizes,
    start: usize,
    end: usize,
    max: usize,
) -> Result<Messages> {
    let region = buf.get(..end).unwrap_or(buf);
    let mut c = Cursor::new(region, address, sizes, "object header");
    c.seek(start);
    let mut out = (Vec::new(), Vec::new());
    while c.remaining() >= 8 && out.0.len() + out.1.len() < max {
        let kind = c.u16()?;
        let size = usize::from(c.u16()?);
        let flags = c.u8()?;
        c.skip(3)?;
        let data_address = c.address();
        let data = c.bytes(size)?;
        push_message(&mut out, kind, flags, None, data_address, data, sizes)?;
    }
    Ok(out)
}

fn v2_messages(
    buf: &[u8],
    address: u64,
    sizes: Sizes,
    start: usize,
    end: usize,
    flags: u8,
) -> Result<Messages> {
    let region = buf.get(..end).unwrap_or(buf);
    let mut c = Cursor::new(region, address, sizes, "object header");
    c.seek(start);
    let track_order = flags & 0x04 != 0;
    let header_len = if track_order { 6 } else { 4 };
    let mut out = (Vec::new(), Vec::new());
    // Fewer bytes than a message header at the end is a gap, not a message.
    while c.remaining() >= header_len {
        let kind = u16::from(c.u8()?);
        let size = usize::from(c.u16()?);
        let mflags = c.u8()?;
        let order = if track_order { Some(c.u16()?) } else { None };
        let data_address = c.address();
        let data = c.bytes(size)?;
        push_message(&mut out, kind, mflags, order, data_address, data, sizes)?;
    }
    Ok(out)
}

fn push_message(
    out: &mut Messages,
    kind: u16,
    flags: u8,
    creation_order: Option<u16>,
    address: u64,
    data: &[u8],
    sizes: Sizes,
) -> Result<()> {
    match kind {
        0 => {} // null message: padding
        CONTINUATION => {
            let mut c = Cursor::new(data, address, sizes, "continuation message");
            let target = c
                .offset()?
                .ok_or_else(|| c.invalid("undefined continuation address"))?;
            let length = c.length()?;
            out.1.push(Continuation {
                address: target,
                length,
            });
        }
        _ => out.0.push(Message {
            kind,
            flags,
            creation_order,
            address,
            data: data.to_vec(),
        }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encode a v2 header with the given (type, data) messages, as the format describes:
    /// "OHDR", version 2, flags (0: 1-byte chunk size), chunk size, messages, checksum.
    fn v2_header(messages: &[(u8, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (kind, data) in messages {
            body.push(*kind);
            body.extend_from_slice(&(data.len() as u16).to_le_bytes());
            body.push(0);
            body.extend_from_slice(data);
        }
        let mut out = b"OHDR".to_vec();
        out.extend_from_slice(&[2, 0, body.len() as u8]);
        out.extend_from_slice(&body);
        let sum = checksum::lookup3(&out, 0);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    #[test]
    fn v2_header_with_continuation() {
        let mut cont = 4096u64.to_le_bytes().to_vec();
        cont.extend_from_slice(&100u64.to_le_bytes());
        let buf = v2_header(&[(0x01, &[1, 2, 3]), (0x10, &cont), (0x00, &[0, 0])]);
        assert_eq!(
            first_chunk_len(&buf, 0, Sizes::DEFAULT).unwrap(),
            buf.len() as u64
        );
        let h = parse_header(&buf, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(h.version, 2);
        assert_eq!(h.messages.len(), 1);
        assert_eq!(h.messages[0].kind, 1);
        assert_eq!(h.messages[0].data, vec![1, 2, 3]);
        assert_eq!(h.messages[0].address, 11);
        assert_eq!(
            h.continuations,
            vec![Continuation {
                address: 4096,
                length: 100
            }]
        );
    }

    #[test]
    fn v2_checksum_and_truncation_are_errors() {
        let mut buf = v2_header(&[(0x01, &[1, 2, 3])]);
        let short = &buf[..buf.len() - 2];
        assert!(matches!(
            parse_header(short, 7, Sizes::DEFAULT),
            Err(crate::FormatError::Incomplete { offset: 7, .. })
        ));
        buf[8] ^= 0xff;
        assert!(matches!(
            parse_header(&buf, 7, Sizes::DEFAULT),
            Err(crate::FormatError::Checksum { .. })
        ));
    }

    #[test]
    fn v1_header_messages_are_8_aligned() {
        // version 1, reserved, 1 message, refcount 1, data size 16; message: type 1, size 8.
        let mut buf = vec![1, 0, 1, 0, 1, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0];
        buf.extend_from_slice(&[1, 0, 8, 0, 0, 0, 0, 0]);
        buf.extend_from_slice(&[9; 8]);
        let h = parse_header(&buf, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(h.len, 32);
        assert_eq!(h.messages.len(), 1);
        assert_eq!(h.messages[0].data, vec![9; 8]);
    }
}
