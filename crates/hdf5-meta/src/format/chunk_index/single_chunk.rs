//! Single-chunk index (layout index type 1): the dataset is one chunk (current = max = chunk
//! dims) stored at the layout's index address. When layout flag bit 1
//! (SINGLE_INDEX_WITH_FILTER) is set, the layout message also carries the filtered size and
//! filter mask, decoded by the layout parser and passed in here.

use super::ChunkEntry;

/// The only chunk (scaled coordinates all zero) of a single-chunk index at `address`, with
/// `filtered` = `(filtered size, filter mask)` from the layout message when present.
pub fn entry(address: Option<u64>, filtered: Option<(u64, u32)>) -> ChunkEntry {
    match filtered {
        Some((size, filter_mask)) => ChunkEntry {
            address,
            filtered_size: Some(size),
            filter_mask,
        },
        None => ChunkEntry {
            address,
            filtered_size: None,
            filter_mask: 0,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn filtered_and_unfiltered() {
        let e = entry(Some(4096), Some((123, 1)));
        assert_eq!(e.stored_size(800), 123);
        assert_eq!(e.filter_mask, 1);
        let e = entry(Some(4096), None);
        assert_eq!((e.stored_size(800), e.filter_mask), (800, 0));
    }
}
