//! A bounds-checked little-endian reader over a byte slice, aware of the file's
//! Size of Offsets and Size of Lengths. Every read that runs past the slice returns
//! [`FormatError::Incomplete`] naming the structure, so callers can fetch more and retry.

use crate::error::{FormatError, Result};

/// Widths of addresses ("offsets") and lengths, from the superblock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Size of Offsets in bytes (2, 4, 8 or 16).
    pub offset: u8,
    /// Size of Lengths in bytes (2, 4, 8 or 16).
    pub length: u8,
}

impl Sizes {
    /// The common 8/8 sizes.
    pub const DEFAULT: Sizes = Sizes {
        offset: 8,
        length: 8,
    };
}

impl Default for Sizes {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Cursor over a structure's bytes. `base` is the file address of `buf[0]`, used in errors.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
    sizes: Sizes,
    structure: &'static str,
}

impl<'a> Cursor<'a> {
    /// A cursor over `buf`, whose first byte sits at file address `base`.
    pub fn new(buf: &'a [u8], base: u64, sizes: Sizes, structure: &'static str) -> Self {
        Self {
            buf,
            pos: 0,
            base,
            sizes,
            structure,
        }
    }

    /// The structure name used in errors.
    pub fn structure(&self) -> &'static str {
        self.structure
    }

    /// Rename the structure reported in errors (e.g. when moving into a sub-structure).
    pub fn set_structure(&mut self, structure: &'static str) {
        self.structure = structure;
    }

    /// Address sizes.
    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    /// Bytes consumed so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Move to an absolute position within the slice (may be past the end; the next read errors).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// File address of the current position (saturating: a structure placed at the very top
    /// of the address space must not overflow).
    pub fn address(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// File address of the slice start.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Bytes left in the slice.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The whole underlying slice.
    pub fn buffer(&self) -> &'a [u8] {
        self.buf
    }

    /// Error: incomplete, needing `n` more bytes from the current position.
    pub fn incomplete(&self, n: usize) -> FormatError {
        FormatError::Incomplete {
            structure: self.structure,
            offset: self.base,
            needed: (self.pos as u64).saturating_add(n as u64),
        }
    }

    /// Error: invalid value, at this structure.
    pub fn invalid(&self, reason: impl Into<String>) -> FormatError {
        FormatError::invalid(self.structure, self.base, reason)
    }

    /// Error: unsupported feature, at this structure.
    pub fn unsupported(&self, feature: impl Into<String>) -> FormatError {
        FormatError::unsupported(self.structure, self.base, feature)
    }

    /// Error: unsupported version, at this structure.
    pub fn bad_version(&self, version: u8) -> FormatError {
        FormatError::UnsupportedVersion {
            structure: self.structure,
            offset: self.base,
            version,
        }
    }

    /// Take the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.invalid("length overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.incomplete(n))?;
        self.pos = end;
        Ok(s)
    }

    /// Skip `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    /// Check that `n` more bytes are available without consuming them.
    pub fn require(&self, n: usize) -> Result<()> {
        if self.remaining() >= n {
            Ok(())
        } else {
            Err(self.incomplete(n))
        }
    }

    /// Expect a signature (e.g. `b"TREE"`).
    pub fn signature(&mut self, sig: &[u8]) -> Result<()> {
        let found = self.bytes(sig.len())?;
        if found == sig {
            Ok(())
        } else {
            Err(FormatError::BadSignature {
                structure: self.structure,
                offset: self.base,
                found: String::from_utf8_lossy(found).into_owned(),
            })
        }
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?.first().copied().unwrap_or_default())
    }

    /// Little-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(self.uint(2)? as u16)
    }

    /// Little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(self.uint(4)? as u32)
    }

    /// Little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        self.uint(8)
    }

    /// Little-endian unsigned integer of `n` bytes (0..=8; wider values must fit in 64 bits).
    pub fn uint(&mut self, n: usize) -> Result<u64> {
        let s = self.bytes(n)?;
        read_le(s).ok_or_else(|| self.unsupported(format!("{n}-byte integer wider than 64 bits")))
    }

    /// An address of Size-of-Offsets bytes; `None` for the undefined address (all ones).
    pub fn offset(&mut self) -> Result<Option<u64>> {
        let n = usize::from(self.sizes.offset);
        let s = self.bytes(n)?;
        if s.iter().all(|&b| b == 0xff) {
            return Ok(None);
        }
        read_le(s)
            .map(Some)
            .ok_or_else(|| self.unsupported("address wider than 64 bits"))
    }

    /// A length of Size-of-Lengths bytes; all ones maps to `u64::MAX` ("unlimited").
    pub fn length(&mut self) -> Result<u64> {
        let n = usize::from(self.sizes.length);
        let s = self.bytes(n)?;
        if s.iter().all(|&b| b == 0xff) {
            return Ok(u64::MAX);
        }
        read_le(s).ok_or_else(|| self.unsupported("length wider than 64 bits"))
    }

    /// A length of Size-of-Lengths bytes that must fit the slice-derived bound `max`.
    pub fn bounded_length(&mut self, max: u64, what: &str) -> Result<u64> {
        let v = self.length()?;
        if v > max {
            return Err(self.invalid(format!("{what} {v} exceeds bound {max}")));
        }
        Ok(v)
    }

    /// A NUL-terminated string (the NUL is consumed and not returned).
    pub fn cstr(&mut self) -> Result<&'a [u8]> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.incomplete(rest.len() + 1))?;
        let s = self.bytes(len)?;
        self.pos += 1;
        Ok(s)
    }

    /// Advance to the next multiple of `align` relative to the slice start.
    pub fn align(&mut self, align: usize) -> Result<()> {
        if align > 1 {
            let pad = (align - self.pos % align) % align;
            self.skip(pad)?;
        }
        Ok(())
    }
}

/// Decode a little-endian unsigned integer of up to 8 bytes; wider slices must have zero high bytes.
pub fn read_le(s: &[u8]) -> Option<u64> {
    let (low, high) = s.split_at(s.len().min(8));
    if high.iter().any(|&b| b != 0) {
        return None;
    }
    Some(
        low.iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    )
}

/// Number of bytes needed to store values up to `max` (at least 1), as used by the
/// variable-width fields of fractal heaps and chunk indexes.
pub fn bytes_for(max: u64) -> usize {
    let bits = 64 - max.leading_zeros() as usize;
    bits.div_ceil(8).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_undefined_addresses() {
        let data = [0x01, 0x02, 0xff, 0xff, 0xff, 0xff, 0x10, 0x00, 0x00, 0x00];
        let mut c = Cursor::new(
            &data,
            100,
            Sizes {
                offset: 4,
                length: 4,
            },
            "test",
        );
        assert_eq!(c.u16().unwrap(), 0x0201);
        assert_eq!(c.offset().unwrap(), None);
        assert_eq!(c.length().unwrap(), 16);
        let err = c.u8().unwrap_err();
        assert_eq!(
            err,
            FormatError::Incomplete {
                structure: "test",
                offset: 100,
                needed: 11
            }
        );
    }

    /// Regression (fuzz/object_header, fuzz/messages): a v1 message or attribute at a base
    /// address near `u64::MAX` overflowed computing its data address.
    #[test]
    fn address_near_the_top_saturates() {
        let mut c = Cursor::new(&[0; 16], u64::MAX - 3, Sizes::DEFAULT, "test");
        c.skip(8).unwrap();
        assert_eq!(c.address(), u64::MAX);
    }

    #[test]
    fn bytes_for_widths() {
        assert_eq!(bytes_for(0), 1);
        assert_eq!(bytes_for(255), 1);
        assert_eq!(bytes_for(256), 2);
        assert_eq!(bytes_for(u64::MAX), 8);
    }
}
