//! The superblock (versions 0–3), the signature search, and the v0/1 driver information block.
//!
//! Versions 0 and 1 carry the group K values, four addresses and an embedded root symbol table
//! entry; version 1 adds the indexed-storage (chunk B-tree) K. Versions 2 and 3 carry four
//! addresses and a lookup3 checksum over everything before it.
//!
//! Addresses: the superblock is found at an absolute file offset (0, 512, 1024, …); every
//! address stored in the file is relative to the *base address*, except the end-of-file
//! address, which the C library stores as an absolute offset (relative EOA + base). When the
//! stored base differs from where the superblock was found (a user block added or removed
//! after writing), the C library uses the superblock's position as the base and shifts the
//! EOF by the difference; so does this reader.

use crate::error::{FormatError, Result};
use crate::format::checksum;
use crate::format::cursor::{Cursor, Sizes};
use crate::format::symbol_table::{self, SymbolTableEntry};

/// The 8-byte HDF5 format signature.
pub const SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// Bytes of the driver information block before its driver-specific data: version (1),
/// reserved (3), data size (4), driver identification (8).
pub const DRIVER_INFO_HEADER_LEN: usize = 16;

/// Driver identification of the family driver (one logical file split into equal members).
pub const FAMILY_DRIVER_ID: &str = "NCSAfami";

/// Driver identification of the multi driver (also used by the split driver).
pub const MULTI_DRIVER_ID: &str = "NCSAmult";

/// Search `buf` (the file's first bytes) for the signature at offsets 0, 512, 1024, 2048, …
/// and return the absolute offset of the first match. `None` means no match within `buf`;
/// a caller holding only a prefix of the file may need to read further.
pub fn find_signature(buf: &[u8]) -> Option<u64> {
    let mut offset: usize = 0;
    loop {
        let end = offset.checked_add(SIGNATURE.len())?;
        let candidate = buf.get(offset..end)?;
        if candidate == SIGNATURE {
            return Some(offset as u64);
        }
        offset = if offset == 0 {
            512
        } else {
            offset.checked_mul(2)?
        };
    }
}

/// A decoded superblock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    /// Superblock version (0, 1, 2 or 3).
    pub version: u8,
    /// Size of Offsets / Size of Lengths for the whole file.
    pub sizes: Sizes,
    /// Absolute file offset of the superblock (where the signature was found). This is the
    /// effective base address: absolute = `base_address + stored address`.
    pub base_address: u64,
    /// The base address as stored in the file (equal to `base_address` unless the file was
    /// moved within a larger file after writing).
    pub stored_base_address: u64,
    /// File consistency flags (v0/1: 4 bytes; v2/3: 1 byte — bit 0 write access, bit 2 SWMR).
    pub flags: u32,
    /// Group leaf node K (v0/1; symbol table nodes hold up to 2K entries). For v2/3 the
    /// library default 4; a B-tree K message in the superblock extension may override it.
    pub group_leaf_k: u16,
    /// Group internal node K (v0/1; group B-tree nodes hold up to 2K children). For v2/3 the
    /// library default 16; a B-tree K message in the superblock extension may override it.
    pub group_internal_k: u16,
    /// Indexed-storage (chunk B-tree) internal node K: stored only in version 1, else the
    /// library default 32 (v2/3 files may override it in the superblock extension).
    pub indexed_storage_k: u16,
    /// Superblock extension object header address (v2/3; for v0/1 the "free-space info"
    /// slot, which the C library reads as the extension address too). `None` when undefined.
    pub extension_address: Option<u64>,
    /// End-of-file address as stored: an absolute offset in the file as it was written
    /// (for family files, in the logical address space); see [`Superblock::end_of_file`].
    pub eof_address: u64,
    /// Driver information block address (v0/1 only).
    pub driver_info_address: Option<u64>,
    /// Address of the root group's object header.
    pub root_object_header_address: u64,
    /// The root group's symbol table entry (v0/1 only). When its cache type is 1 the scratch
    /// pad holds the root group's B-tree and local heap addresses.
    pub root_symbol_table_entry: Option<SymbolTableEntry>,
}

/// Library default group leaf K.
const DEFAULT_GROUP_LEAF_K: u16 = 4;
/// Library default group internal K.
const DEFAULT_GROUP_INTERNAL_K: u16 = 16;
/// Library default indexed-storage (chunk B-tree) K.
const DEFAULT_INDEXED_STORAGE_K: u16 = 32;

const STRUCTURE: &str = "superblock";

impl Superblock {
    /// Absolute end of the HDF5 data in this file: the stored EOF shifted by
    /// `base_address − stored_base_address` (saturating), as the C library does. Use it to
    /// clamp speculative reads.
    pub fn end_of_file(&self) -> u64 {
        self.eof_address
            .saturating_sub(self.stored_base_address)
            .saturating_add(self.base_address)
    }

    /// Absolute file offset of a (base-relative) address stored in the file.
    pub fn absolute(&self, address: u64) -> Option<u64> {
        self.base_address.checked_add(address)
    }
}

/// Encoded size of a superblock of `version` with the given sizes (including the signature
/// and, for v2/3, the checksum); `None` for an unknown version.
pub fn superblock_len(version: u8, sizes: Sizes) -> Option<usize> {
    let o = usize::from(sizes.offset);
    match version {
        0 => Some(24 + 4 * o + symbol_table::entry_len(sizes)),
        1 => Some(28 + 4 * o + symbol_table::entry_len(sizes)),
        2 | 3 => Some(12 + 4 * o + 4),
        _ => None,
    }
}

fn check_size(value: u8, what: &str, address: u64) -> Result<()> {
    // The C library accepts 2, 4, 8, 16 and 32; this reader decodes values up to 64 bits
    // and reports wider non-zero values as unsupported when they are read.
    if matches!(value, 2 | 4 | 8 | 16 | 32) {
        Ok(())
    } else {
        Err(FormatError::invalid(
            STRUCTURE,
            address,
            format!("bad {what} {value}"),
        ))
    }
}

/// Parse the superblock from `buf`, which starts at the signature found at absolute file
/// offset `address` (see [`find_signature`]). Verifies the v2/3 checksum.
pub fn parse(buf: &[u8], address: u64) -> Result<Superblock> {
    // Sizes are unknown until decoded; read the fixed prefix with placeholders.
    let mut cur = Cursor::new(buf, address, Sizes::DEFAULT, STRUCTURE);
    cur.signature(&SIGNATURE)?;
    let version = cur.u8()?;
    match version {
        0 | 1 => parse_v0_v1(buf, address, version),
        2 | 3 => parse_v2_v3(buf, address, version),
        v => Err(cur.bad_version(v)),
    }
}

fn parse_v0_v1(buf: &[u8], address: u64, version: u8) -> Result<Superblock> {
    let mut cur = Cursor::new(buf, address, Sizes::DEFAULT, STRUCTURE);
    cur.skip(SIGNATURE.len() + 1)?;
    let free_space_version = cur.u8()?;
    let root_group_version = cur.u8()?;
    cur.skip(1)?; // reserved
    let shared_header_version = cur.u8()?;
    for (v, what) in [
        (free_space_version, "free-space storage version"),
        (root_group_version, "root group symbol table entry version"),
        (
            shared_header_version,
            "shared header message format version",
        ),
    ] {
        if v != 0 {
            return Err(cur.invalid(format!("{what} {v} (expected 0)")));
        }
    }
    let offset = cur.u8()?;
    let length = cur.u8()?;
    check_size(offset, "size of offsets", address)?;
    check_size(length, "size of lengths", address)?;
    let sizes = Sizes { offset, length };
    cur.skip(1)?; // reserved
    let group_leaf_k = cur.u16()?;
    let group_internal_k = cur.u16()?;
    if group_leaf_k == 0 || group_internal_k == 0 {
        return Err(cur.invalid("group B-tree K of zero"));
    }
    let flags = cur.u32()?;
    let indexed_storage_k = if version == 1 {
        let k = cur.u16()?;
        cur.skip(2)?; // reserved
        if k == 0 {
            return Err(cur.invalid("indexed storage K of zero"));
        }
        k
    } else {
        DEFAULT_INDEXED_STORAGE_K
    };
    // From here on addresses have the file's widths.
    let pos = cur.pos();
    let mut cur = Cursor::new(buf, address, sizes, STRUCTURE);
    cur.seek(pos);
    let stored_base_address = cur.offset()?.unwrap_or(0);
    let extension_address = cur.offset()?;
    let eof_address = cur.offset()?.unwrap_or(u64::MAX);
    let driver_info_address = cur.offset()?;
    cur.set_structure("superblock root symbol table entry");
    let root = symbol_table::read_entry(&mut cur)?;
    let root_object_header_address = root.object_header_address.ok_or_else(|| {
        FormatError::invalid(
            STRUCTURE,
            address,
            "root group object header address is undefined",
        )
    })?;
    Ok(Superblock {
        version,
        sizes,
        base_address: address,
        stored_base_address,
        flags,
        group_leaf_k,
        group_internal_k,
        indexed_storage_k,
        extension_address,
        eof_address,
        driver_info_address,
        root_object_header_address,
        root_symbol_table_entry: Some(root),
    })
}

fn parse_v2_v3(buf: &[u8], address: u64, version: u8) -> Result<Superblock> {
    let mut cur = Cursor::new(buf, address, Sizes::DEFAULT, STRUCTURE);
    cur.skip(SIGNATURE.len() + 1)?;
    let offset = cur.u8()?;
    let length = cur.u8()?;
    check_size(offset, "size of offsets", address)?;
    check_size(length, "size of lengths", address)?;
    let sizes = Sizes { offset, length };
    let flags = u32::from(cur.u8()?);
    let pos = cur.pos();
    let mut cur = Cursor::new(buf, address, sizes, STRUCTURE);
    cur.seek(pos);
    // Make sure the whole structure is present before decoding addresses, so a short slice
    // reports the full length needed.
    cur.require(4 * usize::from(offset) + 4)?;
    let stored_base_address = cur.offset()?.unwrap_or(0);
    let extension_address = cur.offset()?;
    let eof_address = cur.offset()?.unwrap_or(u64::MAX);
    let root = cur.offset()?;
    checksum::verify(STRUCTURE, address, buf, cur.pos())?;
    let root_object_header_address = root.ok_or_else(|| {
        FormatError::invalid(
            STRUCTURE,
            address,
            "root group object header address is undefined",
        )
    })?;
    Ok(Superblock {
        version,
        sizes,
        base_address: address,
        stored_base_address,
        flags,
        group_leaf_k: DEFAULT_GROUP_LEAF_K,
        group_internal_k: DEFAULT_GROUP_INTERNAL_K,
        indexed_storage_k: DEFAULT_INDEXED_STORAGE_K,
        extension_address,
        eof_address,
        driver_info_address: None,
        root_object_header_address,
        root_symbol_table_entry: None,
    })
}

/// A decoded driver information block (superblock v0/1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverInfo {
    /// The 8-character driver identification, e.g. `"NCSAfami"` or `"NCSAmult"`
    /// (non-ASCII bytes are replaced lossily).
    pub driver_id: String,
    /// Size in bytes of the driver-specific data that follows the 16-byte header.
    pub data_len: u32,
    /// Member file size for the family driver (`NCSAfami`); `None` for other drivers.
    pub family_member_size: Option<u64>,
}

impl DriverInfo {
    /// Total size of the block: header plus driver data.
    pub fn total_len(&self) -> usize {
        DRIVER_INFO_HEADER_LEN.saturating_add(self.data_len as usize)
    }

    /// True for drivers that spread one logical address space over several files
    /// (family, multi, split).
    pub fn is_multi_file(&self) -> bool {
        self.driver_id == FAMILY_DRIVER_ID || self.driver_id == MULTI_DRIVER_ID
    }
}

/// Parse the driver information block at `address` (from [`Superblock::driver_info_address`]).
/// `buf` must hold the 16-byte header; for `NCSAfami` also its 8-byte member size.
pub fn parse_driver_info(buf: &[u8], address: u64, sizes: Sizes) -> Result<DriverInfo> {
    let mut cur = Cursor::new(buf, address, sizes, "driver information block");
    let version = cur.u8()?;
    if version != 0 {
        return Err(cur.bad_version(version));
    }
    cur.skip(3)?; // reserved
    let data_len = cur.u32()?;
    let id = cur.bytes(8)?;
    let driver_id = String::from_utf8_lossy(id).into_owned();
    let family_member_size = if driver_id == FAMILY_DRIVER_ID {
        if data_len < 8 {
            return Err(cur.invalid(format!(
                "family driver data of {data_len} bytes (expected 8)"
            )));
        }
        Some(cur.u64()?)
    } else {
        None
    };
    Ok(DriverInfo {
        driver_id,
        data_len,
        family_member_size,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::format::symbol_table::tests::{encode_entry, le};
    use crate::format::symbol_table::Scratch;

    fn root_entry() -> SymbolTableEntry {
        SymbolTableEntry {
            link_name_offset: 0,
            object_header_address: Some(96),
            cache_type: 1,
            scratch: Scratch::Group {
                btree_address: Some(136),
                heap_address: Some(680),
            },
        }
    }

    /// Encoder for superblock v0/1 following the spec's field table (format spec II.A).
    fn encode_v0_v1(version: u8, sizes: Sizes, istore_k: u16, driver: Option<u64>) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend([version, 0, 0, 0, 0, sizes.offset, sizes.length, 0]);
        out.extend(4u16.to_le_bytes());
        out.extend(16u16.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        if version == 1 {
            out.extend(istore_k.to_le_bytes());
            out.extend([0, 0]);
        }
        out.extend(le(Some(0), sizes.offset)); // base
        out.extend(le(None, sizes.offset)); // free space / extension
        out.extend(le(Some(4096), sizes.offset)); // EOF
        out.extend(le(driver, sizes.offset));
        out.extend(encode_entry(&root_entry(), sizes));
        out
    }

    /// Encoder for superblock v2/3 (format spec II.A, versions 2 and 3), base 0, EOF 2048,
    /// root object header at 48.
    fn encode_v2_v3(version: u8, sizes: Sizes, ext: Option<u64>) -> Vec<u8> {
        encode_v2_v3_fields(version, sizes, 0, 0, ext, 2048, 48)
    }

    /// Encoder for superblock v2/3 with every field given.
    fn encode_v2_v3_fields(
        version: u8,
        sizes: Sizes,
        flags: u8,
        base: u64,
        ext: Option<u64>,
        eof: u64,
        root: u64,
    ) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend([version, sizes.offset, sizes.length, flags]);
        out.extend(le(Some(base), sizes.offset));
        out.extend(le(ext, sizes.offset));
        out.extend(le(Some(eof), sizes.offset));
        out.extend(le(Some(root), sizes.offset));
        let sum = checksum::lookup3(&out, 0);
        out.extend(sum.to_le_bytes());
        out
    }

    proptest::proptest! {
        /// Any v2/v3 superblock the encoder writes (sizes 2, 4 or 8, any flags and defined
        /// addresses) parses back to the same fields, wherever it is found.
        #[test]
        fn v2_v3_fields_round_trip(
            version in 2u8..=3,
            width in proptest::sample::select(vec![2u8, 4, 8]),
            length in proptest::sample::select(vec![2u8, 4, 8]),
            flags in proptest::prelude::any::<u8>(),
            fields in proptest::prelude::any::<(u64, Option<u64>, u64, u64)>(),
            found_at in 0u64..1 << 40,
        ) {
            let sizes = Sizes { offset: width, length };
            // Values that fit the offset width and are not the undefined address (all ones).
            let max = if width == 8 { u64::MAX - 1 } else { (1u64 << (8 * width)) - 2 };
            let (base, ext, eof, root) = fields;
            let (base, ext, eof, root) = (base % max, ext.map(|e| e % max), eof % max, root % max);
            let b = encode_v2_v3_fields(version, sizes, flags, base, ext, eof, root);
            proptest::prop_assert_eq!(superblock_len(version, sizes), Some(b.len()));
            let sb = parse(&b, found_at).unwrap();
            proptest::prop_assert_eq!((sb.version, sb.sizes, sb.flags), (version, sizes, u32::from(flags)));
            proptest::prop_assert_eq!(sb.stored_base_address, base);
            proptest::prop_assert_eq!(sb.base_address, found_at);
            proptest::prop_assert_eq!(sb.extension_address, ext);
            proptest::prop_assert_eq!((sb.eof_address, sb.root_object_header_address), (eof, root));
        }
    }

    #[test]
    fn signature_search_doubles() {
        let mut file = vec![0u8; 4096];
        assert_eq!(find_signature(&file), None);
        file[2048..2056].copy_from_slice(&SIGNATURE);
        assert_eq!(find_signature(&file), Some(2048));
        // A signature at a non-power-of-two offset is not found.
        let mut odd = vec![0u8; 4096];
        odd[700..708].copy_from_slice(&SIGNATURE);
        assert_eq!(find_signature(&odd), None);
        assert_eq!(find_signature(&SIGNATURE), Some(0));
        assert_eq!(find_signature(&[]), None);
    }

    #[test]
    fn v0_and_v1_fields() {
        let sizes = Sizes::DEFAULT;
        let v0 = encode_v0_v1(0, sizes, 0, None);
        assert_eq!(v0.len(), 96);
        assert_eq!(superblock_len(0, sizes), Some(96));
        let sb = parse(&v0, 512).unwrap();
        assert_eq!(sb.version, 0);
        assert_eq!(sb.base_address, 512);
        assert_eq!(sb.stored_base_address, 0);
        assert_eq!(
            (sb.group_leaf_k, sb.group_internal_k, sb.indexed_storage_k),
            (4, 16, 32)
        );
        assert_eq!(sb.extension_address, None);
        assert_eq!(sb.eof_address, 4096);
        assert_eq!(sb.driver_info_address, None);
        assert_eq!(sb.root_object_header_address, 96);
        assert_eq!(sb.root_symbol_table_entry, Some(root_entry()));
        assert_eq!(sb.absolute(96), Some(608));
        // Stored base 0 and EOF 4096 (absolute when written), now found at 512: shifted.
        assert_eq!(sb.end_of_file(), 4608);

        let small = Sizes {
            offset: 4,
            length: 4,
        };
        let v1 = encode_v0_v1(1, small, 64, Some(96));
        assert_eq!(superblock_len(1, small), Some(v1.len()));
        let sb = parse(&v1, 0).unwrap();
        assert_eq!((sb.version, sb.sizes, sb.indexed_storage_k), (1, small, 64));
        assert_eq!(sb.driver_info_address, Some(96));
        // Every truncation is reported as Incomplete.
        for n in 0..v1.len() {
            assert!(
                matches!(parse(&v1[..n], 0), Err(FormatError::Incomplete { .. })),
                "len {n}"
            );
        }
    }

    #[test]
    fn v0_rejects_bad_values() {
        let sizes = Sizes::DEFAULT;
        let mut b = encode_v0_v1(0, sizes, 0, None);
        b[13] = 3; // size of offsets
        assert!(matches!(parse(&b, 0), Err(FormatError::Invalid { .. })));
        let mut b = encode_v0_v1(0, sizes, 0, None);
        b[16] = 0; // leaf K = 0
        assert!(matches!(parse(&b, 0), Err(FormatError::Invalid { .. })));
        let mut b = encode_v0_v1(0, sizes, 0, None);
        b[8] = 4; // version
        assert!(matches!(
            parse(&b, 0),
            Err(FormatError::UnsupportedVersion { version: 4, .. })
        ));
        let mut b = encode_v0_v1(0, sizes, 0, None);
        b[64..72].copy_from_slice(&[0xff; 8]); // root object header address undefined
        assert!(matches!(parse(&b, 0), Err(FormatError::Invalid { .. })));
    }

    #[test]
    fn v2_and_v3_checksum() {
        for version in [2, 3] {
            let b = encode_v2_v3(version, Sizes::DEFAULT, Some(4000));
            assert_eq!(superblock_len(version, Sizes::DEFAULT), Some(b.len()));
            let sb = parse(&b, 0).unwrap();
            assert_eq!(sb.version, version);
            assert_eq!(sb.extension_address, Some(4000));
            assert_eq!(sb.eof_address, 2048);
            assert_eq!(sb.root_object_header_address, 48);
            assert_eq!(sb.root_symbol_table_entry, None);
            let mut bad = b.clone();
            bad[20] ^= 1;
            assert!(matches!(parse(&bad, 0), Err(FormatError::Checksum { .. })));
            assert!(matches!(
                parse(&b[..20], 0),
                Err(FormatError::Incomplete { needed, .. }) if needed as usize == b.len()
            ));
        }
    }

    #[test]
    fn driver_info_family_and_multi() {
        // Bytes as found in the official family_file00000.h5 at address 0x60.
        let mut fam = vec![0, 0, 0, 0, 8, 0, 0, 0];
        fam.extend(b"NCSAfami");
        fam.extend(1024u64.to_le_bytes());
        let d = parse_driver_info(&fam, 0x60, Sizes::DEFAULT).unwrap();
        assert_eq!(d.driver_id, "NCSAfami");
        assert_eq!(d.family_member_size, Some(1024));
        assert_eq!(d.total_len(), 24);
        assert!(d.is_multi_file());
        assert!(matches!(
            parse_driver_info(&fam[..20], 0x60, Sizes::DEFAULT),
            Err(FormatError::Incomplete { .. })
        ));

        let mut multi = vec![0, 0, 0, 0, 40, 0, 0, 0];
        multi.extend(b"NCSAmult");
        let d = parse_driver_info(&multi, 0, Sizes::DEFAULT).unwrap();
        assert_eq!(
            (d.driver_id.as_str(), d.family_member_size, d.data_len),
            ("NCSAmult", None, 40)
        );
        assert!(d.is_multi_file());

        let mut bad = fam.clone();
        bad[0] = 1;
        assert!(matches!(
            parse_driver_info(&bad, 0, Sizes::DEFAULT),
            Err(FormatError::UnsupportedVersion { .. })
        ));
        let mut short = fam;
        short[4] = 4; // family data shorter than the 8-byte member size
        assert!(matches!(
            parse_driver_info(&short, 0, Sizes::DEFAULT),
            Err(FormatError::Invalid { .. })
        ));
    }
}
