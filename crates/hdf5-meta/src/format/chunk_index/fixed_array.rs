//! Fixed-array chunk index (layout index type 3): header `FAHD` and data block `FADB`.
//!
//! The data block holds one element per chunk of the maximum-dims chunk grid (C order, see
//! [`GridNumbering::max_grid`](super::GridNumbering::max_grid)). When it has more than
//! `2^page_bits` elements it is *paged*: its prefix carries an MSB-first page-initialisation
//! bitmap and is followed by pages of `2^page_bits` elements (the last one shorter), each with
//! its own checksum. Pages whose bit is clear were never written: their chunks are unallocated.
//!
//! Reading order for a walker: [`FixedArrayHeader::parse`] at the layout's index address, then
//! [`FixedArrayHeader::data_block_layout`] tells how many bytes to fetch at the data block
//! address for [`parse_data_block`]; when paged, fetch each initialised page's
//! [`FixedArrayPaging::page_range`] and decode it with [`parse_page`].

use super::{msb_bit, pow2, ChunkEntry, EntryFormat};
use crate::error::{FormatError, Result};
use crate::format::checksum;
use crate::format::cursor::{Cursor, Sizes};

const HEADER: &str = "fixed array header";
const DATA_BLOCK: &str = "fixed array data block";
const PAGE: &str = "fixed array data block page";

/// Signature + version + client ID + checksum, the fixed part of every FA block.
const PREFIX: u64 = 10;

/// A fixed-array header (`FAHD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedArrayHeader {
    /// File address of the header (stored in the data block, checked when parsing it).
    pub address: u64,
    /// Client ID: 0 = unfiltered chunks, 1 = filtered chunks.
    pub client: u8,
    /// How elements are encoded (element size and filtered-size width).
    pub entry_format: EntryFormat,
    /// log2 of the number of elements per data-block page.
    pub page_bits: u8,
    /// Number of elements (chunks of the maximum-dims grid).
    pub entries: u64,
    /// Address of the data block; `None` when no chunk has been written.
    pub data_block_address: Option<u64>,
}

impl FixedArrayHeader {
    /// Encoded size of a header for these address sizes.
    pub fn size(sizes: Sizes) -> usize {
        12 + usize::from(sizes.offset) + usize::from(sizes.length)
    }

    /// Decode a fixed-array header at `address`, verifying its checksum.
    pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<Self> {
        let mut c = Cursor::new(buf, address, sizes, HEADER);
        c.require(Self::size(sizes))?;
        c.signature(b"FAHD")?;
        let version = c.u8()?;
        if version != 0 {
            return Err(c.bad_version(version));
        }
        let client = c.u8()?;
        let element_size = c.u8()?;
        let page_bits = c.u8()?;
        let entries = c.length()?;
        let data_block_address = c.offset()?;
        checksum::verify(HEADER, address, buf, c.pos())?;
        let entry_format = EntryFormat::new(client, element_size, sizes, HEADER, address)?;
        if pow2(page_bits).is_none() {
            return Err(c.invalid(format!("page bits {page_bits}")));
        }
        Ok(Self {
            address,
            client,
            entry_format,
            page_bits,
            entries,
            data_block_address,
        })
    }

    /// Byte geometry of the data block: its total size, prefix size and, when paged, pages.
    pub fn data_block_layout(&self, sizes: Sizes) -> Result<FixedArrayDataBlockLayout> {
        let bad = || FormatError::invalid(HEADER, self.address, "data block size overflows");
        let esize = self.entry_format.element_size as u64;
        let page_entries = pow2(self.page_bits).ok_or_else(bad)?;
        let base = PREFIX + u64::from(sizes.offset);
        let elements_bytes = self.entries.checked_mul(esize).ok_or_else(bad)?;
        if self.entries <= page_entries {
            let size = base.checked_add(elements_bytes).ok_or_else(bad)?;
            return Ok(FixedArrayDataBlockLayout {
                prefix_size: base,
                size,
                paging: None,
            });
        }
        let page_count = self.entries.div_ceil(page_entries);
        let bitmap_size = page_count.div_ceil(8);
        let prefix_size = base.checked_add(bitmap_size).ok_or_else(bad)?;
        let size = page_count
            .checked_mul(4)
            .and_then(|c| c.checked_add(elements_bytes))
            .and_then(|s| s.checked_add(prefix_size))
            .ok_or_else(bad)?;
        let page_size = page_entries
            .checked_mul(esize)
            .and_then(|s| s.checked_add(4))
            .ok_or_else(bad)?;
        let paging = FixedArrayPaging {
            prefix_size,
            page_entries,
            page_count,
            page_size,
            bitmap_size,
            entries: self.entries,
            element_size: esize,
        };
        Ok(FixedArrayDataBlockLayout {
            prefix_size,
            size,
            paging: Some(paging),
        })
    }
}

/// Byte geometry of a fixed-array data block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedArrayDataBlockLayout {
    /// Bytes of the prefix (signature … bitmap, plus its checksum when paged): the part
    /// [`parse_data_block`] needs when paged. When unpaged this excludes the elements.
    pub prefix_size: u64,
    /// Total bytes of the data block including all pages: what [`parse_data_block`] needs
    /// when unpaged.
    pub size: u64,
    /// Page geometry, when the data block is paged.
    pub paging: Option<FixedArrayPaging>,
}

impl FixedArrayDataBlockLayout {
    /// Bytes [`parse_data_block`] needs: the prefix when paged, the whole block otherwise.
    pub fn parse_len(&self) -> u64 {
        if self.paging.is_some() {
            self.prefix_size
        } else {
            self.size
        }
    }
}

/// Pages of a paged fixed-array data block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedArrayPaging {
    /// Bytes before the first page (the data block prefix, bitmap and checksum included).
    pub prefix_size: u64,
    /// Elements per full page (`2^page_bits`).
    pub page_entries: u64,
    /// Number of pages.
    pub page_count: u64,
    /// Bytes of a full page including its checksum.
    pub page_size: u64,
    /// Bytes of the page-initialisation bitmap.
    pub bitmap_size: u64,
    /// Total elements in the array.
    entries: u64,
    /// Bytes per element.
    element_size: u64,
}

impl FixedArrayPaging {
    /// Index of the first element held by `page`.
    pub fn first_entry(&self, page: u64) -> u64 {
        page.saturating_mul(self.page_entries)
    }

    /// Elements held by `page` (the last page may be shorter); 0 past the end.
    pub fn entries_in_page(&self, page: u64) -> u64 {
        let first = self.first_entry(page);
        self.entries.saturating_sub(first).min(self.page_entries)
    }

    /// Byte range `(offset from the data block address, length)` of `page`, checksum
    /// included; `None` past the last page.
    pub fn page_range(&self, page: u64) -> Option<(u64, u64)> {
        if page >= self.page_count {
            return None;
        }
        let offset = self
            .prefix_size
            .checked_add(page.checked_mul(self.page_size)?)?;
        let len = self
            .entries_in_page(page)
            .checked_mul(self.element_size)?
            .checked_add(4)?;
        Some((offset, len))
    }
}

/// A decoded fixed-array data block (`FADB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedArrayDataBlock {
    /// All elements, in slot order, when the block is not paged; empty when paged.
    pub entries: Vec<ChunkEntry>,
    /// Page-initialisation bitmap (MSB-first), when the block is paged.
    pub page_init: Option<Vec<u8>>,
}

impl FixedArrayDataBlock {
    /// True when `page` of a paged block was written (its bit is set in the bitmap).
    pub fn page_initialized(&self, page: u64) -> bool {
        self.page_init.as_deref().is_some_and(|b| msb_bit(b, page))
    }
}

/// Decode the data block at `address` of the fixed array described by `header`, verifying
/// its checksum and that it points back at the header. When paged only the prefix is read
/// (see [`FixedArrayDataBlockLayout::parse_len`]); pages are decoded with [`parse_page`].
pub fn parse_data_block(
    buf: &[u8],
    address: u64,
    sizes: Sizes,
    header: &FixedArrayHeader,
) -> Result<FixedArrayDataBlock> {
    let layout = header.data_block_layout(sizes)?;
    let mut c = Cursor::new(buf, address, sizes, DATA_BLOCK);
    let need =
        usize::try_from(layout.parse_len()).map_err(|_| c.invalid("data block too large"))?;
    c.require(need)?;
    c.signature(b"FADB")?;
    let version = c.u8()?;
    if version != 0 {
        return Err(c.bad_version(version));
    }
    let client = c.u8()?;
    if client != header.client {
        return Err(c.invalid(format!("client ID {client}, header says {}", header.client)));
    }
    let owner = c.offset()?;
    if owner != Some(header.address) {
        return Err(c.invalid(format!(
            "header address {owner:?}, expected {}",
            header.address
        )));
    }
    let block = match layout.paging {
        Some(p) => {
            let bitmap_len =
                usize::try_from(p.bitmap_size).map_err(|_| c.invalid("bitmap too large"))?;
            let bitmap = c.bytes(bitmap_len)?.to_vec();
            FixedArrayDataBlock {
                entries: Vec::new(),
                page_init: Some(bitmap),
            }
        }
        None => {
            let entries = header.entry_format.read_many(&mut c, header.entries)?;
            FixedArrayDataBlock {
                entries,
                page_init: None,
            }
        }
    };
    checksum::verify(DATA_BLOCK, address, buf, c.pos())?;
    Ok(block)
}

/// Decode page `page` of a paged fixed-array data block; `buf` starts at the page, whose
/// address is the data block address plus the offset from [`FixedArrayPaging::page_range`].
/// Returns the page's elements (slots `first_entry(page)..`), checksum verified.
pub fn parse_page(
    buf: &[u8],
    address: u64,
    sizes: Sizes,
    header: &FixedArrayHeader,
    page: u64,
) -> Result<Vec<ChunkEntry>> {
    let layout = header.data_block_layout(sizes)?;
    let paging = layout
        .paging
        .ok_or_else(|| FormatError::invalid(PAGE, address, "data block is not paged"))?;
    let count = paging.entries_in_page(page);
    if count == 0 {
        return Err(FormatError::invalid(
            PAGE,
            address,
            format!("page {page} out of range"),
        ));
    }
    let mut c = Cursor::new(buf, address, sizes, PAGE);
    let entries = header.entry_format.read_many(&mut c, count)?;
    checksum::verify(PAGE, address, buf, c.pos())?;
    Ok(entries)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::format::checksum::lookup3;
    use proptest::prelude::*;

    /// Append the lookup3 checksum of everything so far.
    fn seal(mut v: Vec<u8>) -> Vec<u8> {
        let sum = lookup3(&v, 0);
        v.extend_from_slice(&sum.to_le_bytes());
        v
    }

    fn header_bytes(client: u8, esize: u8, page_bits: u8, n: u64, dblk: u64) -> Vec<u8> {
        let mut v = b"FAHD".to_vec();
        v.extend_from_slice(&[0, client, esize, page_bits]);
        v.extend_from_slice(&n.to_le_bytes());
        v.extend_from_slice(&dblk.to_le_bytes());
        seal(v)
    }

    fn unfiltered(addr: Option<u64>) -> Vec<u8> {
        addr.unwrap_or(u64::MAX).to_le_bytes().to_vec()
    }

    /// One element as the format stores it: address (8), then for filtered chunks the
    /// stored size in `width` bytes and the filter mask (4).
    fn element(e: &ChunkEntry, width: Option<usize>) -> Vec<u8> {
        let mut v = unfiltered(e.address);
        if let Some(w) = width {
            v.extend_from_slice(&e.filtered_size.unwrap_or(0).to_le_bytes()[..w]);
            v.extend_from_slice(&e.filter_mask.to_le_bytes());
        }
        v
    }

    /// Random elements for a client: unfiltered (address only) or filtered with a size field
    /// of `width` bytes.
    fn elements(width: Option<usize>, max: usize) -> impl Strategy<Value = Vec<ChunkEntry>> {
        let size_max = width.map_or(0, |w| {
            if w >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * w)) - 1
            }
        });
        prop::collection::vec(
            (prop::option::of(0..u64::MAX), 0..=size_max, any::<u32>()),
            0..max,
        )
        .prop_map(move |v| {
            v.into_iter()
                .map(|(address, size, mask)| ChunkEntry {
                    address,
                    filtered_size: width.map(|_| size),
                    filter_mask: if width.is_some() { mask } else { 0 },
                })
                .collect()
        })
    }

    fn client_and_width() -> impl Strategy<Value = (u8, Option<usize>)> {
        prop_oneof![Just((0u8, None)), (1usize..=8).prop_map(|w| (1u8, Some(w)))]
    }

    proptest! {
        /// Header and data block written by the encoder parse back to the same elements,
        /// unpaged (entries <= 2^page_bits) or paged (pages parsed one by one, every page
        /// marked initialised in the bitmap).
        #[test]
        fn encoded_arrays_parse_back(
            (client, width, entries) in client_and_width()
                .prop_flat_map(|(c, w)| (Just(c), Just(w), elements(w, 300))),
            page_bits in 1u8..10,
            hdr_addr in 0u64..1 << 40,
            dblk in 0u64..1 << 40,
        ) {
            let esize = 8 + width.map_or(0, |w| w + 4);
            let n = entries.len() as u64;
            let hdr = header_bytes(client, esize as u8, page_bits, n, dblk);
            let h = FixedArrayHeader::parse(&hdr, hdr_addr, Sizes::DEFAULT).unwrap();
            prop_assert_eq!((h.entries, h.data_block_address, h.client), (n, Some(dblk), client));
            let layout = h.data_block_layout(Sizes::DEFAULT).unwrap();
            let mut block = b"FADB".to_vec();
            block.extend_from_slice(&[0, client]);
            block.extend_from_slice(&hdr_addr.to_le_bytes());
            match layout.paging {
                None => {
                    for e in &entries {
                        block.extend(element(e, width));
                    }
                    let block = seal(block);
                    prop_assert_eq!(block.len() as u64, layout.size);
                    let parsed = parse_data_block(&block, dblk, Sizes::DEFAULT, &h).unwrap();
                    prop_assert_eq!(parsed.entries, entries);
                }
                Some(p) => {
                    block.extend(vec![0xffu8; p.bitmap_size as usize]);
                    let block = seal(block);
                    prop_assert_eq!(block.len() as u64, layout.prefix_size);
                    let parsed = parse_data_block(&block, dblk, Sizes::DEFAULT, &h).unwrap();
                    let mut all = Vec::new();
                    for page in 0..p.page_count {
                        prop_assert!(parsed.page_initialized(page));
                        let first = (page * p.page_entries) as usize;
                        let count = p.entries_in_page(page) as usize;
                        let mut bytes = Vec::new();
                        for e in &entries[first..first + count] {
                            bytes.extend(element(e, width));
                        }
                        let bytes = seal(bytes);
                        all.extend(parse_page(&bytes, 0, Sizes::DEFAULT, &h, page).unwrap());
                    }
                    prop_assert_eq!(all, entries);
                }
            }
        }
    }

    #[test]
    fn unpaged_unfiltered() {
        let hdr = header_bytes(0, 8, 10, 3, 500);
        let h = FixedArrayHeader::parse(&hdr, 100, Sizes::DEFAULT).unwrap();
        assert_eq!(h.entries, 3);
        assert_eq!(h.data_block_address, Some(500));
        let lay = h.data_block_layout(Sizes::DEFAULT).unwrap();
        // 10 fixed bytes + 8 header address + 3 × 8 elements.
        assert_eq!(
            lay,
            FixedArrayDataBlockLayout {
                prefix_size: 18,
                size: 42,
                paging: None
            }
        );

        let mut db = b"FADB".to_vec();
        db.extend_from_slice(&[0, 0]);
        db.extend_from_slice(&100u64.to_le_bytes());
        for a in [Some(1000), None, Some(3000)] {
            db.extend(unfiltered(a));
        }
        let db = seal(db);
        assert_eq!(db.len(), 42);
        let b = parse_data_block(&db, 500, Sizes::DEFAULT, &h).unwrap();
        let addrs: Vec<_> = b.entries.iter().map(|e| e.address).collect();
        assert_eq!(addrs, [Some(1000), None, Some(3000)]);
        assert!(b
            .entries
            .iter()
            .all(|e| e.filtered_size.is_none() && e.filter_mask == 0));

        // Truncation asks for the whole block; a flipped byte fails the checksum.
        let err = parse_data_block(&db[..30], 500, Sizes::DEFAULT, &h).unwrap_err();
        assert_eq!(
            err,
            FormatError::Incomplete {
                structure: DATA_BLOCK,
                offset: 500,
                needed: 42
            }
        );
        let mut bad = db.clone();
        bad[20] ^= 1;
        assert!(matches!(
            parse_data_block(&bad, 500, Sizes::DEFAULT, &h),
            Err(FormatError::Checksum { .. })
        ));
        // Wrong owning header.
        let h2 = FixedArrayHeader { address: 101, ..h };
        assert!(matches!(
            parse_data_block(&db, 500, Sizes::DEFAULT, &h2),
            Err(FormatError::Invalid { .. })
        ));
    }

    #[test]
    fn header_rejects_bad_checksum_version_and_sizes() {
        let mut hdr = header_bytes(0, 8, 10, 3, 500);
        hdr[5] = 1;
        assert!(matches!(
            FixedArrayHeader::parse(&hdr, 0, Sizes::DEFAULT),
            Err(FormatError::Checksum { .. })
        ));
        let hdr = header_bytes(0, 7, 10, 3, 500);
        assert!(matches!(
            FixedArrayHeader::parse(&hdr, 0, Sizes::DEFAULT),
            Err(FormatError::Invalid { .. })
        ));
        let hdr = header_bytes(2, 8, 10, 3, 500);
        assert!(matches!(
            FixedArrayHeader::parse(&hdr, 0, Sizes::DEFAULT),
            Err(FormatError::Unsupported { .. })
        ));
        let hdr = header_bytes(0, 8, 64, 3, 500);
        assert!(matches!(
            FixedArrayHeader::parse(&hdr, 0, Sizes::DEFAULT),
            Err(FormatError::Invalid { .. })
        ));
        let hdr = header_bytes(0, 8, 10, u64::MAX - 1, 500);
        let h = FixedArrayHeader::parse(&hdr, 0, Sizes::DEFAULT).unwrap();
        assert!(h.data_block_layout(Sizes::DEFAULT).is_err());
        let mut v = b"FAHD".to_vec();
        v.push(1);
        assert!(matches!(
            FixedArrayHeader::parse(&v, 0, Sizes::DEFAULT),
            Err(FormatError::Incomplete { .. })
        ));
    }

    #[test]
    fn paged_filtered_with_msb_first_bitmap() {
        // 2^2 = 4 elements per page, 10 elements → 3 pages (4, 4, 2); filtered elements with a
        // 3-byte size field (layout v4 style): 8 + 3 + 4 = 15 bytes.
        let hdr = header_bytes(1, 15, 2, 10, 900);
        let h = FixedArrayHeader::parse(&hdr, 64, Sizes::DEFAULT).unwrap();
        assert_eq!(
            h.entry_format,
            EntryFormat {
                element_size: 15,
                size_width: Some(3)
            }
        );
        let lay = h.data_block_layout(Sizes::DEFAULT).unwrap();
        let p = lay.paging.unwrap();
        // prefix = 10 + 8 + 1 bitmap byte; pages 4 × 15 + 4.
        assert_eq!(
            (p.prefix_size, p.page_count, p.page_size, p.bitmap_size),
            (19, 3, 64, 1)
        );
        assert_eq!(lay.size, 19 + 10 * 15 + 3 * 4);
        assert_eq!(p.page_range(0), Some((19, 64)));
        assert_eq!(p.page_range(2), Some((19 + 128, 2 * 15 + 4)));
        assert_eq!(p.page_range(3), None);
        assert_eq!((p.first_entry(2), p.entries_in_page(2)), (8, 2));

        let mut db = b"FADB".to_vec();
        db.extend_from_slice(&[0, 1]);
        db.extend_from_slice(&64u64.to_le_bytes());
        db.push(0b1010_0000); // pages 0 and 2 written
        let db = seal(db);
        let b = parse_data_block(&db, 900, Sizes::DEFAULT, &h).unwrap();
        assert!(b.entries.is_empty());
        assert_eq!(
            (
                b.page_initialized(0),
                b.page_initialized(1),
                b.page_initialized(2),
                b.page_initialized(3)
            ),
            (true, false, true, false)
        );

        let mut page = Vec::new();
        for (a, size, mask) in [(5000u64, 77u32, 0u32), (6000, 0x01_02_03, 2)] {
            page.extend_from_slice(&a.to_le_bytes());
            page.extend_from_slice(&size.to_le_bytes()[..3]);
            page.extend_from_slice(&mask.to_le_bytes());
        }
        let page = seal(page);
        let e = parse_page(&page, 900 + 19 + 128, Sizes::DEFAULT, &h, 2).unwrap();
        assert_eq!(
            e,
            [
                ChunkEntry {
                    address: Some(5000),
                    filtered_size: Some(77),
                    filter_mask: 0
                },
                ChunkEntry {
                    address: Some(6000),
                    filtered_size: Some(0x01_02_03),
                    filter_mask: 2
                },
            ]
        );
        assert!(parse_page(&page, 0, Sizes::DEFAULT, &h, 3).is_err());
        assert!(matches!(
            parse_page(&page, 0, Sizes::DEFAULT, &h, 1),
            Err(FormatError::Incomplete { .. })
        ));
    }

    #[test]
    fn small_offsets_and_lengths() {
        // O = L = 4: header is 12 + 4 + 4 bytes; undefined address is 0xffffffff.
        let s = Sizes {
            offset: 4,
            length: 4,
        };
        let mut v = b"FAHD".to_vec();
        v.extend_from_slice(&[0, 0, 4, 10]);
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(&u32::MAX.to_le_bytes());
        let v = seal(v);
        assert_eq!(v.len(), FixedArrayHeader::size(s));
        let h = FixedArrayHeader::parse(&v, 0, s).unwrap();
        assert_eq!((h.entries, h.data_block_address), (2, None));
    }
}
