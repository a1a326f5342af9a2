//! Tests of the shared chunk-index helpers and the chunk-grid arithmetic.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use proptest::prelude::*;

#[test]
fn counts_and_c_order() {
    assert_eq!(chunk_counts(&[100, 50], &[10, 10]), Some(vec![10, 5]));
    assert_eq!(chunk_counts(&[101, 1], &[10, 10]), Some(vec![11, 1]));
    assert_eq!(chunk_counts(&[0], &[10]), Some(vec![0]));
    assert_eq!(chunk_counts(&[10], &[0]), None);
    assert_eq!(chunk_counts(&[u64::MAX], &[10]), None);
    assert_eq!(chunk_counts(&[10], &[1, 1]), None);
    // Last dimension fastest.
    assert_eq!(coords_to_linear(&[2, 3], &[10, 5]), Some(13));
    assert_eq!(linear_to_coords(13, &[10, 5]), Some(vec![2, 3]));
    assert_eq!(linear_to_coords(50, &[10, 5]), None);
    assert_eq!(coords_to_linear(&[0, 5], &[10, 5]), None);
    assert_eq!(linear_to_coords(0, &[]), Some(vec![]));
    assert_eq!(linear_to_coords(1, &[]), None);
    assert_eq!(coords_to_linear(&[u64::MAX - 1, 1], &[u64::MAX, 2]), None);
}

#[test]
fn max_grid_numbering() {
    // FA/implicit: (4,5) dataset, max (8,10), chunks (3,2) → max grid 3×5; chunk (1,2) is slot 7.
    assert_eq!(
        max_grid_index_to_coords(7, &[8, 10], &[3, 2]),
        Some(vec![1, 2])
    );
    let g = GridNumbering::max_grid(&[8, 10], &[3, 2]).unwrap();
    assert_eq!(g.slot_count(), Some(15));
    assert_eq!(g.coords_to_index(&[1, 2]), Some(7));
    assert_eq!(g.index_to_coords(15), None);
    assert!(GridNumbering::max_grid(&[8, u64::MAX], &[3, 2]).is_none());
}

#[test]
fn extensible_swizzled_numbering() {
    // (6,40) with maxshape (6,None), chunks (2,2): the unlimited dim 1 becomes slowest, the
    // fixed dim 0 has 3 chunks, so slot = c1·3 + c0.
    assert_eq!(
        ea_index_to_coords(0, &[6, u64::MAX], &[2, 2], 1),
        Some(vec![0, 0])
    );
    assert_eq!(
        ea_index_to_coords(1, &[6, u64::MAX], &[2, 2], 1),
        Some(vec![1, 0])
    );
    assert_eq!(
        ea_index_to_coords(3, &[6, u64::MAX], &[2, 2], 1),
        Some(vec![0, 1])
    );
    assert_eq!(
        ea_index_to_coords(59, &[6, u64::MAX], &[2, 2], 1),
        Some(vec![2, 19])
    );
    assert_eq!(
        ea_coords_to_index(&[2, 19], &[6, u64::MAX], &[2, 2], 1),
        Some(59)
    );
    assert_eq!(
        ea_coords_to_index(&[3, 0], &[6, u64::MAX], &[2, 2], 1),
        None
    );
    // (4,30,6)/(4,None,6), chunks (2,2,3): order (1,0,2), counts (∞,2,2): slot = c1·4 + c0·2 + c2.
    assert_eq!(
        ea_index_to_coords(4 * 7 + 2 + 1, &[4, u64::MAX, 6], &[2, 2, 3], 1),
        Some(vec![1, 7, 1])
    );
    // Unlimited first: plain C order with an unbounded slowest dim.
    assert_eq!(
        ea_index_to_coords(1_000_003, &[u64::MAX, 3], &[1, 1], 0),
        Some(vec![333_334, 1])
    );
    let g = GridNumbering::extensible(&[u64::MAX, 3], &[1, 1], 0).unwrap();
    assert_eq!(g.slot_count(), None);
    // Two unlimited dims, bad dim index, zero chunk dims.
    assert!(GridNumbering::extensible(&[u64::MAX, u64::MAX], &[1, 1], 0).is_none());
    assert!(GridNumbering::extensible(&[5, u64::MAX], &[1, 1], 2).is_none());
    assert!(GridNumbering::extensible(&[5, u64::MAX], &[0, 1], 1).is_none());
}

#[test]
fn extent_predicates_and_sizes() {
    assert!(chunk_in_extent(&[9, 4], &[10, 10], &[100, 50]));
    assert!(!chunk_in_extent(&[10, 0], &[10, 10], &[100, 50]));
    assert!(!chunk_crosses_extent(&[9, 4], &[10, 10], &[100, 50]));
    assert!(chunk_crosses_extent(&[9, 4], &[10, 10], &[100, 45]));
    assert!(chunk_crosses_extent(&[u64::MAX], &[2], &[100]));
    assert_eq!(unfiltered_chunk_bytes(&[10, 10], 4), Some(400));
    assert_eq!(unfiltered_chunk_bytes(&[u64::MAX, 2], 1), None);
}

#[test]
fn entry_formats() {
    let s = Sizes::DEFAULT;
    assert_eq!(EntryFormat::new(0, 8, s, "t", 0).unwrap().size_width, None);
    // Layout v5 writes Size-of-Lengths-wide sizes: 8 + 8 + 4 = 20 bytes per element.
    assert_eq!(
        EntryFormat::new(1, 20, s, "t", 0).unwrap().size_width,
        Some(8)
    );
    assert_eq!(
        EntryFormat::new(1, 13, s, "t", 0).unwrap().size_width,
        Some(1)
    );
    assert!(EntryFormat::new(1, 12, s, "t", 0).is_err());
    assert!(EntryFormat::new(1, 21, s, "t", 0).is_err());
    assert!(EntryFormat::new(0, 4, s, "t", 0).is_err());
    assert!(EntryFormat::new(
        0,
        0,
        Sizes {
            offset: 0,
            length: 8
        },
        "t",
        0
    )
    .is_err());
    assert!(EntryFormat::new(3, 8, s, "t", 0).is_err());
    // read_many checks the bytes before allocating.
    let f = EntryFormat::new(0, 8, s, "t", 0).unwrap();
    let mut c = Cursor::new(&[0u8; 16], 0, s, "t");
    assert!(matches!(
        f.read_many(&mut c, u64::MAX / 2),
        Err(crate::error::FormatError::Invalid { .. })
    ));
    assert!(matches!(
        f.read_many(&mut c, 3),
        Err(crate::error::FormatError::Incomplete { needed: 24, .. })
    ));
    assert_eq!(f.read_many(&mut c, 2).unwrap().len(), 2);
}

#[test]
fn msb_first_bits() {
    let bits = [0b0101_0000, 0b1000_0000];
    let set: Vec<u64> = (0..20).filter(|&b| msb_bit(&bits, b)).collect();
    assert_eq!(set, [1, 3, 8]);
}

fn grid_strategy() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(1u64..12, 1..5)
}

proptest! {
    #[test]
    fn linear_coords_round_trip(grid in grid_strategy(), seed in any::<u64>()) {
        let total: u64 = grid.iter().product();
        let index = seed % total;
        let coords = linear_to_coords(index, &grid).unwrap();
        prop_assert_eq!(coords_to_linear(&coords, &grid), Some(index));
        prop_assert!(coords.iter().zip(&grid).all(|(x, n)| x < n));
    }

    #[test]
    fn swizzle_round_trip(
        chunks in prop::collection::vec(1u64..5, 1..5),
        maxes in prop::collection::vec(1u64..40, 5),
        unlim_seed in any::<usize>(),
        index in 0u64..100_000,
    ) {
        let rank = chunks.len();
        let unlim = unlim_seed % rank;
        let mut max_dims: Vec<u64> = maxes[..rank].to_vec();
        max_dims[unlim] = u64::MAX;
        let coords = ea_index_to_coords(index, &max_dims, &chunks, unlim).unwrap();
        prop_assert_eq!(ea_coords_to_index(&coords, &max_dims, &chunks, unlim), Some(index));
        // Fixed dims stay within the max grid; the swizzled order equals C order over
        // (unlimited dim, other dims in order).
        let mut order = vec![unlim];
        order.extend((0..rank).filter(|&d| d != unlim));
        let counts: Vec<u64> = order
            .iter()
            .map(|&d| if d == unlim { u64::MAX } else { max_dims[d].div_ceil(chunks[d]) })
            .collect();
        let swizzled: Vec<u64> = order.iter().map(|&d| coords[d]).collect();
        let tail = coords_to_linear(&swizzled[1..], &counts[1..]).unwrap();
        let tail_size: u64 = counts[1..].iter().product();
        prop_assert_eq!(swizzled[0] * tail_size + tail, index);
    }

    #[test]
    fn max_grid_round_trip(
        chunks in prop::collection::vec(1u64..5, 1..4),
        maxes in prop::collection::vec(1u64..30, 4),
        seed in any::<u64>(),
    ) {
        let max_dims = &maxes[..chunks.len()];
        let g = GridNumbering::max_grid(max_dims, &chunks).unwrap();
        let index = seed % g.slot_count().unwrap();
        let coords = g.index_to_coords(index).unwrap();
        prop_assert_eq!(g.coords_to_index(&coords), Some(index));
        let grid = chunk_counts(max_dims, &chunks).unwrap();
        prop_assert_eq!(coords_to_linear(&coords, &grid), Some(index));
    }
}

/// Prefix `body` with `sig`, version 0 and append a valid checksum so parsers get past the
/// signature and checksum checks and exercise the field validation.
fn sealed(sig: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = sig.to_vec();
    v.push(0);
    v.extend_from_slice(body);
    let sum = crate::format::checksum::lookup3(&v, 0);
    v.extend_from_slice(&sum.to_le_bytes());
    v
}

proptest! {
    /// Arbitrary field values never panic or allocate beyond the input.
    #[test]
    fn arbitrary_blocks_do_not_panic(
        body in prop::collection::vec(any::<u8>(), 0..200),
        elements in any::<u64>(),
        u in 0usize..70,
        o in prop::sample::select(vec![2u8, 4, 8]),
    ) {
        use extensible_array::*;
        use fixed_array::*;
        let s = Sizes { offset: o, length: o };
        if let Ok(h) = FixedArrayHeader::parse(&sealed(b"FAHD", &body), 0, s) {
            let _ = h.data_block_layout(s).map(|l| l.paging.map(|p| p.page_range(elements)));
            let _ = parse_data_block(&sealed(b"FADB", &body), 0, s, &h);
            let _ = parse_page(&body, 0, s, &h, elements);
        }
        if let Ok(h) = ExtensibleArrayHeader::parse(&sealed(b"EAHD", &body), 0, s) {
            let g = h.geometry(s).unwrap();
            let _ = g.locate(elements);
            let _ = (g.super_block_size(u), g.page_range(elements, elements / 3));
            let _ = g.data_blocks().take(1000).count();
            let _ = ExtensibleArrayIndexBlock::parse(&sealed(b"EAIB", &body), 0, &g);
            let _ = ExtensibleArraySuperBlock::parse(&sealed(b"EASB", &body), 0, &g, u);
            let _ = ExtensibleArrayDataBlock::parse(&sealed(b"EADB", &body), 0, &g, elements);
            let _ = parse_data_block_page(&body, 0, &g);
        }
        // Random EA parameters directly (the header rarely validates from random bytes).
        if body.len() >= 6 {
            let p = ExtensibleArrayParams {
                max_elements_bits: body[0] % 70,
                index_block_elements: body[1],
                data_block_min_elements: 1 << (body[2] % 8),
                super_block_min_data_pointers: 1 << (body[3] % 8),
                max_data_block_page_bits: body[4] % 70,
            };
            let f = EntryFormat { element_size: usize::from(o), size_width: None };
            if let Ok(g) = EaGeometry::new(&p, f, 0, 0, s) {
                let _ = g.locate(elements);
                let _ = (g.index_block_size(), g.super_block_size(u), g.data_block_parse_len(elements));
                let _ = g.data_blocks().take(1000).last();
                let _ = ExtensibleArraySuperBlock::parse(&body, 0, &g, u);
                let _ = ExtensibleArrayDataBlock::parse(&body, 0, &g, elements);
            }
        }
    }
}
