//! Real-file tests for the superblock, symbol table, local/global heap and v1 B-tree parsers.
//!
//! Two sources of bytes:
//! * `tests/data/fmt_groups/*.h5`, made by `scripts/testdata/make_fmt_groups.py` with h5py
//!   3.16 / HDF5 2.0; `expected.json` holds what h5py reports for them.
//! * the official HDF5 test files under `/work/shared/corpus/hdf5-official` (skipped when
//!   absent); expected values there were read with h5py 3.16 and are noted inline.
//!
//! A tiny test-only walker follows old-style groups from the superblock's root symbol table
//! entry: local heap → group B-tree → SNOD nodes → entries, recursing through cache-type-1
//! scratch pads (or, for cache type 0, a Symbol Table message in a v1 object header).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use hdf5_meta::format::btree_v1::{self, BTreeKind, Keys};
use hdf5_meta::format::global_heap;
use hdf5_meta::format::local_heap;
use hdf5_meta::format::superblock::{self, Superblock};
use hdf5_meta::format::symbol_table::{self, Scratch};
use hdf5_meta::format::Sizes;
use serde_json::Value;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmt_groups")
}

/// The official corpus, relative to the crate (repo at /work/main, or a worktree one level
/// deeper under /work/wt/<branch>); `None` when absent so tests skip.
fn corpus_dir() -> Option<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        "../../../shared/corpus/hdf5-official",
        "../../../../shared/corpus/hdf5-official",
    ]
    .iter()
    .map(|p| base.join(p))
    .find(|p| p.is_dir())
}

fn corpus_file(name: &str) -> Option<Vec<u8>> {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipping: official HDF5 corpus absent");
        return None;
    };
    Some(std::fs::read(dir.join(name)).unwrap())
}

fn open_superblock(file: &[u8]) -> Superblock {
    let at = superblock::find_signature(file).expect("signature");
    superblock::parse(&file[at as usize..], at).unwrap()
}

/// Slice of `file` starting at base-relative `addr`.
fn at<'a>(file: &'a [u8], sb: &Superblock, addr: u64) -> &'a [u8] {
    &file[(sb.base_address + addr) as usize..]
}

#[derive(Default, Debug)]
struct Walk {
    groups: BTreeMap<String, Vec<String>>,
    soft_links: BTreeMap<String, String>,
    visited: BTreeSet<u64>,
}

/// Symbol Table message (0x11) of a v1 object header, following continuation messages.
fn symbol_table_message(file: &[u8], sb: &Superblock, oh: u64) -> Option<(u64, u64)> {
    let b = at(file, sb, oh);
    if b[0] != 1 {
        return None; // v2 "OHDR" headers hold new-style groups in these files
    }
    let o = sb.sizes.offset as usize;
    let l = sb.sizes.length as usize;
    let rd = |b: &[u8], p: usize, n: usize| {
        b[p..p + n]
            .iter()
            .rev()
            .fold(0u64, |a, &x| (a << 8) | x as u64)
    };
    let first_len = rd(b, 8, 4) as usize;
    // Message blocks as (slice starting at the block, block length).
    let mut blocks = vec![(&b[16..], first_len)];
    while let Some((blk, len)) = blocks.pop() {
        let mut pos = 0;
        while pos + 8 <= len {
            let ty = rd(blk, pos, 2);
            let size = rd(blk, pos + 2, 2) as usize;
            match ty {
                0x11 => return Some((rd(blk, pos + 8, o), rd(blk, pos + 8 + o, o))),
                0x10 => blocks.push((
                    at(file, sb, rd(blk, pos + 8, o)),
                    rd(blk, pos + 8 + o, l) as usize,
                )),
                _ => {}
            }
            pos += 8 + size;
        }
    }
    None
}

fn walk_group(file: &[u8], sb: &Superblock, btree: u64, heap: u64, path: &str, w: &mut Walk) {
    let sizes = sb.sizes;
    let hdr = local_heap::parse(at(file, sb, heap), heap, sizes).unwrap();
    let seg_addr = hdr.data_segment_address.unwrap();
    let seg = &at(file, sb, seg_addr)[..hdr.data_segment_size as usize];
    let mut names = Vec::new();
    let mut stack = vec![btree];
    while let Some(node_addr) = stack.pop() {
        let full = node_size_slice(file, sb, node_addr, BTreeKind::Group, sb.group_internal_k);
        let node = btree_v1::parse_node(full, node_addr, sizes, BTreeKind::Group).unwrap();
        assert!(node.entries_used as usize <= 2 * sb.group_internal_k as usize);
        let Keys::Group(keys) = &node.keys else {
            panic!("group keys")
        };
        assert_eq!(keys.len(), node.children.len() + 1);
        if node.level > 0 {
            stack.extend(node.children.iter().copied());
            continue;
        }
        for &snod in &node.children {
            let len = symbol_table::node_size(sizes, sb.group_leaf_k);
            let entries =
                symbol_table::parse_node(&at(file, sb, snod)[..len], snod, sizes).unwrap();
            assert!(entries.len() <= 2 * sb.group_leaf_k as usize);
            for e in entries {
                let name =
                    String::from_utf8(hdr.name_at(seg, e.link_name_offset).unwrap().to_vec())
                        .unwrap();
                let child_path = format!("{}/{}", path.trim_end_matches('/'), name);
                names.push(name);
                match e.scratch {
                    Scratch::SoftLink { link_value_offset } => {
                        assert_eq!(e.object_header_address, None);
                        let target = hdr.name_at(seg, u64::from(link_value_offset)).unwrap();
                        w.soft_links
                            .insert(child_path, String::from_utf8(target.to_vec()).unwrap());
                    }
                    Scratch::Group {
                        btree_address,
                        heap_address,
                    } => {
                        let oh = e.object_header_address.unwrap();
                        if w.visited.insert(oh) {
                            walk_group(
                                file,
                                sb,
                                btree_address.unwrap(),
                                heap_address.unwrap(),
                                &child_path,
                                w,
                            );
                        }
                    }
                    Scratch::Nothing => {
                        let oh = e.object_header_address.unwrap();
                        if let Some((bt, hp)) = symbol_table_message(file, sb, oh) {
                            if w.visited.insert(oh) {
                                walk_group(file, sb, bt, hp, &child_path, w);
                            }
                        }
                    }
                }
            }
        }
    }
    names.sort();
    w.groups.insert(path.to_string(), names);
}

/// Exactly one allocated node's bytes (fails if the file is shorter: nodes are written full).
fn node_size_slice<'a>(
    file: &'a [u8],
    sb: &Superblock,
    addr: u64,
    kind: BTreeKind,
    k: u16,
) -> &'a [u8] {
    &at(file, sb, addr)[..btree_v1::node_size(sb.sizes, kind, k)]
}

fn walk_root(file: &[u8], sb: &Superblock) -> Walk {
    let root = sb.root_symbol_table_entry.expect("v0/1 root entry");
    let mut w = Walk::default();
    w.visited.insert(sb.root_object_header_address);
    match root.scratch {
        Scratch::Group {
            btree_address,
            heap_address,
        } => walk_group(
            file,
            sb,
            btree_address.unwrap(),
            heap_address.unwrap(),
            "/",
            &mut w,
        ),
        _ => {
            let (bt, hp) = symbol_table_message(file, sb, sb.root_object_header_address).unwrap();
            walk_group(file, sb, bt, hp, "/", &mut w)
        }
    }
    w
}

/// One chunk as the v1 B-tree leaves describe it: absolute address → (offsets, size, mask).
type ChunkRecord = (Vec<u64>, u32, u32);

/// Scan for `TREE` nodes of type 1 and decode them with each candidate rank, keeping the
/// decoding whose leaf entries are all known chunks (internal nodes must point at nodes one
/// level down). Returns the chunk records found per rank.
fn scan_chunk_trees(
    file: &[u8],
    sb: &Superblock,
    expected: &HashMap<u64, (usize, ChunkRecord)>,
    ranks: &BTreeSet<usize>,
) -> (HashMap<u64, ChunkRecord>, usize) {
    let mut found = HashMap::new();
    let mut internal = 0;
    let sig_positions: Vec<usize> = file
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"TREE")
        .map(|(i, _)| i)
        .collect();
    for pos in sig_positions {
        if file[pos + 4] != 1 {
            continue;
        }
        let addr = pos as u64 - sb.base_address;
        for &rank in ranks {
            let kind = BTreeKind::Chunk { rank };
            let Ok(node) = btree_v1::parse_node(&file[pos..], addr, sb.sizes, kind) else {
                continue;
            };
            assert!(node.entries_used as usize <= 2 * sb.indexed_storage_k as usize);
            let Keys::Chunk(keys) = &node.keys else {
                panic!("chunk keys")
            };
            if node.level > 0 {
                let ok = node.children.iter().all(|&c| {
                    let b = at(file, sb, c);
                    &b[..4] == b"TREE" && b[5] == node.level - 1
                });
                if ok && keys.iter().all(|k| k.offsets.len() == rank) {
                    internal += 1;
                }
                continue;
            }
            let recs: Vec<(u64, ChunkRecord)> = node
                .children
                .iter()
                .zip(keys)
                .map(|(&c, k)| {
                    (
                        c + sb.base_address,
                        (k.offsets.clone(), k.chunk_size, k.filter_mask),
                    )
                })
                .collect();
            let all_known = recs
                .iter()
                .all(|(a, r)| expected.get(a).is_some_and(|(er, e)| *er == rank && e == r));
            if all_known {
                for (a, r) in recs {
                    assert!(found.insert(a, r).is_none(), "chunk at {a} listed twice");
                }
                break;
            }
        }
    }
    (found, internal)
}

fn expected_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(data_dir().join("expected.json")).unwrap())
        .unwrap()
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Decode the vlen strings of a contiguous dataset whose descriptors start at absolute `offset`.
fn read_vlen_strings(file: &[u8], sb: &Superblock, offset: u64, n: usize) -> Vec<String> {
    let dlen = global_heap::vlen_descriptor_len(sb.sizes);
    (0..n)
        .map(|i| {
            let a = offset + (i * dlen) as u64;
            let d = global_heap::parse_vlen_descriptor(
                &file[a as usize..],
                a - sb.base_address,
                sb.sizes,
            )
            .unwrap();
            if d.length == 0 {
                return String::new();
            }
            let coll_addr = d.heap_id.collection_address.unwrap();
            let bytes = at(file, sb, coll_addr);
            let size = global_heap::collection_size(
                &bytes[..global_heap::header_len(sb.sizes)],
                coll_addr,
                sb.sizes,
            )
            .unwrap() as usize;
            // A short slice asks for the whole collection.
            assert!(matches!(
                global_heap::parse(&bytes[..size - 1], coll_addr, sb.sizes),
                Err(hdf5_meta::FormatError::Incomplete { needed, .. }) if needed as usize == size
            ));
            let coll = global_heap::parse(&bytes[..size], coll_addr, sb.sizes).unwrap();
            let data = coll
                .object_data(&bytes[..size], d.heap_id.object_index)
                .unwrap();
            String::from_utf8(data[..d.length as usize].to_vec()).unwrap()
        })
        .collect()
}

#[test]
fn generated_files_match_h5py() {
    let expected = expected_json();
    for (name, exp) in expected.as_object().unwrap() {
        let file = std::fs::read(data_dir().join(name)).unwrap();
        let sb = open_superblock(&file);
        let ub = exp["userblock"].as_u64().unwrap();
        assert_eq!(superblock::find_signature(&file), Some(ub), "{name}");
        assert_eq!(sb.base_address, ub, "{name}");
        assert_eq!(sb.stored_base_address, ub, "{name}");
        assert_eq!(
            u64::from(sb.version),
            exp["superblock_version"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            u64::from(sb.sizes.offset),
            exp["offset_size"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            u64::from(sb.sizes.length),
            exp["length_size"].as_u64().unwrap(),
            "{name}"
        );
        // The stored EOF is absolute: it equals the file size, user block included.
        assert_eq!(sb.eof_address, file.len() as u64, "{name}");
        assert_eq!(sb.end_of_file(), file.len() as u64, "{name}");
        assert_eq!(sb.driver_info_address, None, "{name}");
        if sb.version < 2 {
            assert_eq!(
                u64::from(sb.group_leaf_k),
                exp["group_leaf_k"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                u64::from(sb.group_internal_k),
                exp["group_internal_k"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                u64::from(sb.indexed_storage_k),
                exp["istore_k"].as_u64().unwrap(),
                "{name}"
            );
            // Groups and soft links.
            let w = walk_root(&file, &sb);
            let groups: BTreeMap<String, Vec<String>> = exp["groups"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), str_list(v)))
                .collect();
            assert_eq!(w.groups, groups, "{name}");
            let soft: BTreeMap<String, String> = exp["soft_links"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            assert_eq!(w.soft_links, soft, "{name}");
        } else {
            assert_eq!(sb.root_symbol_table_entry, None);
        }
        // Variable-length strings through the global heap.
        for (path, v) in exp["vlen"].as_object().unwrap() {
            let values = str_list(&v["values"]);
            let got = read_vlen_strings(&file, &sb, v["offset"].as_u64().unwrap(), values.len());
            assert_eq!(got, values, "{name}{path}");
        }
        // Chunk B-trees.
        let mut want: HashMap<u64, (usize, ChunkRecord)> = HashMap::new();
        let mut ranks = BTreeSet::new();
        for v in exp["chunks"].as_object().unwrap().values() {
            let rank = v["rank"].as_u64().unwrap() as usize;
            ranks.insert(rank);
            for c in v["chunks"].as_array().unwrap() {
                let offs: Vec<u64> = c[0]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap())
                    .collect();
                let rec = (
                    offs,
                    c[2].as_u64().unwrap() as u32,
                    c[3].as_u64().unwrap() as u32,
                );
                want.insert(c[1].as_u64().unwrap(), (rank, rec));
            }
        }
        let (found, internal) = scan_chunk_trees(&file, &sb, &want, &ranks);
        assert_eq!(found.len(), want.len(), "{name}: chunks found");
        if name == "sb_v1_istore64.h5" {
            // 200 chunks with 2K = 128 entries per node need a level-1 root.
            assert_eq!(internal, 1);
            assert_eq!(sb.indexed_storage_k, 64);
        }
        if name == "ub512_earliest.h5" {
            // The directly written chunk has filter mask 1 (gzip skipped), 16 raw bytes.
            assert!(found
                .values()
                .any(|(o, size, mask)| o == &vec![4] && *size == 16 && *mask == 1));
        }
    }
}

#[test]
fn generated_file_userblock_text_is_skipped() {
    // The generator overwrote the 512-byte user block with text; the search starts past it.
    let file = std::fs::read(data_dir().join("ub512_earliest.h5")).unwrap();
    assert!(file.starts_with(b"user block text"));
    assert!(superblock::parse(&file, 0).is_err());
    assert_eq!(superblock::find_signature(&file[..519]), None);
    assert_eq!(superblock::find_signature(&file[..520]), Some(512));
}

#[test]
fn corpus_group_old() {
    let Some(file) = corpus_file("group_old.h5") else {
        return;
    };
    let sb = open_superblock(&file);
    let w = walk_root(&file, &sb);
    // h5py: {'/': ['old'], '/old': []}
    assert_eq!(w.groups.len(), 2);
    assert_eq!(w.groups["/"], vec!["old"]);
    assert!(w.groups["/old"].is_empty());
}

#[test]
fn corpus_tmany_groups_and_soft_links() {
    let Some(file) = corpus_file("tmany.h5") else {
        return;
    };
    let sb = open_superblock(&file);
    let w = walk_root(&file, &sb);
    // From h5py (g8 holds external/user-defined links, so it is a new-style group and is
    // not walked here).
    let expect: BTreeMap<&str, Vec<&str>> = [
        ("/", vec!["g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8"]),
        ("/g1", vec!["g1.1", "g1.2"]),
        ("/g1/g1.1", vec!["dset1"]),
        ("/g1/g1.2", vec!["link1"]),
        ("/g2", vec!["slink2"]),
        ("/g3", vec!["link3"]),
        ("/g4", vec!["dset2"]),
        ("/g5", vec!["slink4"]),
        ("/g6", vec!["dset3"]),
        ("/g7", vec!["slink5", "slink6"]),
    ]
    .into_iter()
    .collect();
    let got: BTreeMap<&str, Vec<&str>> = w
        .groups
        .iter()
        .map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(got, expect);
    let soft: Vec<(&str, &str)> = w
        .soft_links
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        soft,
        vec![
            ("/g2/slink2", "/g1"),
            ("/g5/slink4", "/g6/dset3"),
            ("/g7/slink5", "/g8/elink"),
            ("/g7/slink6", "/g8/udlink"),
        ]
    );
}

#[test]
fn corpus_twithub_userblock() {
    let Some(file) = corpus_file("twithub.h5") else {
        return;
    };
    let sb = open_superblock(&file);
    // Superblock and stored base at 512; the stored EOF (10592) is absolute = file size.
    assert_eq!(sb.base_address, 512);
    assert_eq!(sb.stored_base_address, 512);
    assert_eq!(sb.eof_address, 10592);
    assert_eq!(sb.end_of_file(), file.len() as u64);
    assert_eq!(sb.root_object_header_address, 96);
    let w = walk_root(&file, &sb);
    // h5py lists g1.2 and g2 too, but they hold external/user-defined links (new-style).
    assert_eq!(w.groups["/"], vec!["g1", "g2"]);
    assert_eq!(w.groups["/g1"], vec!["g1.1", "g1.2"]);
    assert_eq!(w.groups["/g1/g1.1"], vec!["dset1.1.1", "dset1.1.2"]);
    assert_eq!(w.groups.len(), 3);
}

#[test]
fn corpus_tsizeslheap_four_byte_sizes() {
    let Some(file) = corpus_file("tsizeslheap.h5") else {
        return;
    };
    let sb = open_superblock(&file);
    assert_eq!(
        sb.sizes,
        Sizes {
            offset: 4,
            length: 4
        }
    );
    let w = walk_root(&file, &sb);
    assert_eq!(w.groups["/"], vec!["Dataset1"]);
}

#[test]
fn corpus_tvlstr_global_heap() {
    let Some(file) = corpus_file("tvlstr.h5") else {
        return;
    };
    let sb = open_superblock(&file);
    // h5py: Dataset1 is contiguous at 2048 with these four values; the collection is at 4096.
    let got = read_vlen_strings(&file, &sb, 2048, 4);
    assert_eq!(
        got,
        vec![
            "Four score and seven years ago our forefathers brought forth on this continent a new nation,",
            "conceived in liberty and dedicated to the proposition that all men are created equal.",
            "",
            "",
        ]
    );
    let coll = global_heap::parse(&file[4096..], 4096, sb.sizes).unwrap();
    assert_eq!(coll.size, 4096);
    assert!(coll.free_space > 0);
}

#[test]
fn corpus_btree_idx_1_6_chunks() {
    let Some(file) = corpus_file("btree_idx_1_6.h5") else {
        return;
    };
    let sb = open_superblock(&file);
    // h5py chunk_iter: dset → ((2i,), mask 0, 6310 + 8i, 8); dset_filter → ((2i,), 0, 6240 + 14i, 14).
    let mut want = HashMap::new();
    for i in 0..5u64 {
        want.insert(6310 + 8 * i, (1, (vec![2 * i], 8, 0)));
        want.insert(6240 + 14 * i, (1, (vec![2 * i], 14, 0)));
    }
    let (found, _) = scan_chunk_trees(&file, &sb, &want, &BTreeSet::from([1]));
    assert_eq!(found.len(), 10);
    let w = walk_root(&file, &sb);
    assert_eq!(w.groups["/"], vec!["dset", "dset_filter"]);
}

#[test]
fn corpus_family_driver_info() {
    let Some(file) = corpus_file("family_file00000.h5") else {
        return;
    };
    let sb = open_superblock(&file);
    let addr = sb.driver_info_address.expect("driver info");
    assert_eq!(addr, 0x60);
    let info = superblock::parse_driver_info(at(&file, &sb, addr), addr, sb.sizes).unwrap();
    assert_eq!(info.driver_id, "NCSAfami");
    assert_eq!(info.family_member_size, Some(1024));
    assert!(info.is_multi_file());
    // Logical EOF spans the members (h5py: stored_eof = 18432 while this member is 1024 bytes).
    assert_eq!(sb.eof_address, 18432);
}

/// Every parser on every signature occurrence of every corpus file, whole and truncated:
/// errors are fine, panics are not.
#[test]
fn corpus_never_panics() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipping: official HDF5 corpus absent");
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = std::fs::read(entry.unwrap().path()).unwrap();
        let sizes = superblock::find_signature(&file)
            .and_then(|a| superblock::parse(&file[a as usize..], a).ok())
            .map(|sb| sb.sizes)
            .unwrap_or(Sizes::DEFAULT);
        for cut in [usize::MAX, 7, 40, 300] {
            n += fuzz::parse_all(&file, sizes, cut);
        }
    }
    assert!(n > 100);
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn sizes() -> impl Strategy<Value = Sizes> {
        (
            prop::sample::select(vec![2u8, 4, 8, 16]),
            prop::sample::select(vec![2u8, 4, 8, 16]),
        )
            .prop_map(|(offset, length)| Sizes { offset, length })
    }

    proptest! {
        /// Random bytes behind each signature: every parser returns, none panics.
        #[test]
        fn parsers_never_panic(body in prop::collection::vec(any::<u8>(), 0..600), sizes in sizes(), rank in 0usize..40) {
            for sig in [&b"TREE"[..], b"SNOD", b"HEAP", b"GCOL", &superblock::SIGNATURE[..]] {
                let mut buf = sig.to_vec();
                buf.extend(&body);
                let _ = btree_v1::parse_node(&buf, 0, sizes, BTreeKind::Group);
                let _ = btree_v1::parse_node(&buf, 0, sizes, BTreeKind::Chunk { rank });
                let _ = symbol_table::parse_node(&buf, 0, sizes);
                let _ = symbol_table::parse_entry(&body, 0, sizes);
                if let Ok(h) = local_heap::parse(&buf, 0, sizes) {
                    let _ = h.name_at(&body, rank as u64);
                }
                let _ = global_heap::parse(&buf, 0, sizes);
                let _ = global_heap::collection_size(&buf, 0, sizes);
                let _ = global_heap::parse_vlen_descriptor(&body, 0, sizes);
                let _ = superblock::parse(&buf, 0);
                let _ = superblock::parse_driver_info(&body, 0, sizes);
                let _ = btree_v1::node_size(sizes, BTreeKind::Chunk { rank }, u16::MAX);
            }
        }
    }

    /// Parse every structure of `file` found by signature, each from a slice of at most
    /// `cut` bytes; errors are fine, panics are not. Returns the number of structures tried.
    pub(super) fn parse_all(file: &[u8], sizes: Sizes, cut: usize) -> usize {
        let mut n = 0;
        for (i, w) in file.windows(4).enumerate() {
            let s = &file[i..];
            let s = &s[..s.len().min(cut)];
            let a = i as u64;
            match w {
                b"TREE" => {
                    for kind in [
                        BTreeKind::Group,
                        BTreeKind::Chunk { rank: 1 },
                        BTreeKind::Chunk { rank: 2 },
                    ] {
                        let _ = btree_v1::parse_node(s, a, sizes, kind);
                    }
                }
                b"SNOD" => drop(symbol_table::parse_node(s, a, sizes)),
                b"HEAP" => {
                    if let Ok(h) = local_heap::parse(s, a, sizes) {
                        for off in [0, 1, 8, 16, h.data_segment_size] {
                            let _ = h.name_at(&file[(i + 32).min(file.len())..], off);
                        }
                    }
                }
                b"GCOL" => drop(global_heap::parse(s, a, sizes)),
                [0x89, b'H', b'D', b'F'] => drop(superblock::parse(s, a)),
                _ => continue,
            }
            n += 1;
        }
        n
    }

    fn generated_files() -> Vec<Vec<u8>> {
        let mut names: Vec<_> = std::fs::read_dir(data_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "h5"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Real files with up to 16 bytes overwritten just after structure signatures.
        #[test]
        fn mutated_real_files_never_panic(
            which in 0usize..5,
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..96, any::<u8>()), 1..16),
        ) {
            let files = generated_files();
            let mut file = files[which % files.len()].clone();
            let sigs: Vec<usize> = file
                .windows(4)
                .enumerate()
                .filter(|(_, w)| matches!(*w, b"TREE" | b"SNOD" | b"HEAP" | b"GCOL" | [0x89, b'H', b'D', b'F']))
                .map(|(i, _)| i)
                .collect();
            for (sig, delta, byte) in edits {
                let pos = sigs[sig.index(sigs.len())] + 4 + delta;
                if let Some(b) = file.get_mut(pos) {
                    *b = byte;
                }
            }
            let sizes = superblock::find_signature(&file)
                .and_then(|a| superblock::parse(&file[a as usize..], a).ok())
                .map(|sb| sb.sizes)
                .unwrap_or(Sizes::DEFAULT);
            parse_all(&file, sizes, usize::MAX);
        }
    }
}
