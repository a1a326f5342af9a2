//! Link message (0x06): one named link of a new-style group (hard, soft or external).

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// Object header address (base-relative).
    Hard(u64),
    /// A path in the same file.
    Soft(String),
    /// A path in another file.
    External {
        /// File name as stored.
        file: String,
        /// Object path inside that file.
        path: String,
    },
    /// A user-defined link type this reader does not interpret.
    Other(u8),
}

/// A decoded link message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Link name.
    pub name: String,
    /// Creation order, when stored.
    pub creation_order: Option<u64>,
    /// Target.
    pub target: LinkTarget,
}

/// Decode a link message.
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<Link> {
    let mut c = Cursor::new(buf, address, sizes, "link message");
    let version = c.u8()?;
    if version != 1 {
        return Err(c.bad_version(version));
    }
    let flags = c.u8()?;
    let link_type = if flags & 0x08 != 0 { c.u8()? } else { 0 };
    let creation_order = if flags & 0x04 != 0 {
        Some(c.u64()?)
    } else {
        None
    };
    if flags & 0x10 != 0 {
        c.skip(1)?; // charset: names are decoded as UTF-8 either way
    }
    let name_len = c.uint(1usize << (flags & 0x03))?;
    let name_len = usize::try_from(name_len).map_err(|_| c.invalid("name length overflow"))?;
    let name = text(c.bytes(name_len)?);
    let target = match link_type {
        0 => LinkTarget::Hard(
            c.offset()?
                .ok_or_else(|| c.invalid("hard link to undefined address"))?,
        ),
        1 => {
            let n = usize::from(c.u16()?);
            LinkTarget::Soft(text(c.bytes(n)?))
        }
        64 => {
            let n = usize::from(c.u16()?);
            let info = c.bytes(n)?;
            let mut parts = info.get(1..).unwrap_or_default().split(|&b| b == 0);
            let file = text(parts.next().unwrap_or_default());
            let path = text(parts.next().unwrap_or_default());
            LinkTarget::External { file, path }
        }
        other => LinkTarget::Other(other),
    };
    Ok(Link {
        name,
        creation_order,
        target,
    })
}

/// Decode stored text as UTF-8, replacing invalid sequences.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_soft_and_external_links() {
        // flags 0: 1-byte name length, hard link; name "ab"; address 0x40.
        let mut hard = vec![1, 0, 2, b'a', b'b'];
        hard.extend_from_slice(&0x40u64.to_le_bytes());
        let l = parse(&hard, 0, Sizes::DEFAULT).unwrap();
        assert_eq!((l.name.as_str(), l.target), ("ab", LinkTarget::Hard(0x40)));

        // flags 0x08 | 0x04: type present, creation order present; soft link "s" -> "/g/d".
        let mut soft = vec![1, 0x0c, 1];
        soft.extend_from_slice(&7u64.to_le_bytes());
        soft.extend_from_slice(&[1, b's', 4, 0]);
        soft.extend_from_slice(b"/g/d");
        let l = parse(&soft, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(l.creation_order, Some(7));
        assert_eq!(l.target, LinkTarget::Soft("/g/d".into()));

        // external: info = version/flags byte, "f.h5\0/x\0".
        let mut ext = vec![1, 0x08, 64, 1, b'e', 9, 0, 0];
        ext.extend_from_slice(b"f.h5\0/x\0");
        let l = parse(&ext, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(
            l.target,
            LinkTarget::External {
                file: "f.h5".into(),
                path: "/x".into()
            }
        );
    }

    #[test]
    fn truncated_link_is_incomplete() {
        assert!(matches!(
            parse(&[1, 0, 9, b'a'], 5, Sizes::DEFAULT),
            Err(crate::FormatError::Incomplete { offset: 5, .. })
        ));
    }
}
