#!/usr/bin/env python3
"""Generate the fractal-heap / v2-B-tree / SOHM test files for crates/hdf5-meta.

Made with h5py 3.16.0 / HDF5 2.0.0 (the libhdf5 bundled in the h5py wheel, also called through
ctypes for options h5py does not expose). Run from the repository root:

    /work/devvenv/bin/python scripts/testdata/make_heaps.py          # committed small files
    /work/devvenv/bin/python scripts/testdata/make_heaps.py --big    # + 20 000-subgroup file (not committed)

Outputs go to crates/hdf5-meta/tests/data/heaps/: each HDF5 file is stored gzip-compressed
(`*.h5.gz`, every one < 64 KB) next to `<name>.json` (`.json.gz` when large), which records what h5py sees (link names
per group, attribute names and sizes, shared-message payloads found by a tiny object-header
walker below, addresses of committed datatypes). `--big` writes `generated/huge_group.h5`
(~5 MB, git-ignored); the Rust test using it skips when it is absent.
"""

import ctypes
import glob
import gzip
import json
import os
import struct
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "crates", "hdf5-meta", "tests", "data", "heaps")
TMP = os.path.join(OUT, "tmp")

_libs = glob.glob(os.path.join(os.path.dirname(h5py.__file__), "..", "h5py.libs", "libhdf5-*.so*"))
LIB = ctypes.CDLL(_libs[0])
hid_t = ctypes.c_int64


def plist_call(name, *args):
    fn = getattr(LIB, name)
    rc = fn(*args)
    if rc < 0:
        raise RuntimeError(f"{name} failed")


def link_names(group):
    """All link names of a group, sorted, as h5py reports them."""
    return sorted(group.keys())


# --- tiny object-header walker (only to find shared-message payloads for test vectors) ---

def _ohdr_messages(data, addr):
    """Yield (type, flags, payload_address, payload) for every message of the object header at addr."""
    if data[addr:addr + 4] == b"OHDR":
        flags = data[addr + 5]
        p = addr + 6
        if flags & 0x20:
            p += 16
        if flags & 0x10:
            p += 4
        w = 1 << (flags & 3)
        size = int.from_bytes(data[p:p + w], "little")
        p += w
        blocks = [(p, p + size)]
        hdr_len = 6 if flags & 4 else 4
        while blocks:
            start, end = blocks.pop(0)
            q = start
            while q + hdr_len <= end:
                mtype = data[q]
                msize = int.from_bytes(data[q + 1:q + 3], "little")
                mflags = data[q + 3]
                q += hdr_len
                payload = data[q:q + msize]
                if mtype == 0x10:
                    caddr = int.from_bytes(payload[0:8], "little")
                    clen = int.from_bytes(payload[8:16], "little")
                    blocks.append((caddr + 4, caddr + clen - 4))
                yield mtype, mflags, q, payload
                q += msize
    elif data[addr] == 1:
        nmsgs = int.from_bytes(data[addr + 2:addr + 4], "little")
        size = int.from_bytes(data[addr + 8:addr + 12], "little")
        blocks = [(addr + 16, addr + 16 + size)]
        seen = 0
        while blocks and seen < nmsgs:
            start, end = blocks.pop(0)
            q = start
            while q + 8 <= end and seen < nmsgs:
                mtype = int.from_bytes(data[q:q + 2], "little")
                msize = int.from_bytes(data[q + 2:q + 4], "little")
                mflags = data[q + 4]
                q += 8
                payload = data[q:q + msize]
                if mtype == 0x10:
                    caddr = int.from_bytes(payload[0:8], "little")
                    clen = int.from_bytes(payload[8:16], "little")
                    blocks.append((caddr, caddr + clen))
                seen += 1
                yield mtype, mflags, q, payload
                q += msize
    else:
        raise ValueError(f"no object header at {addr}")


def shared_messages(path):
    """Shared-message payloads (message flag bit 1) of every object in the file."""
    data = open(path, "rb").read()
    out = []
    with h5py.File(path, "r") as f:
        objs = [("/", f)]
        f.visititems(lambda n, o: objs.append(("/" + n, o)) and None)
        for name, obj in objs:
            addr = h5py.h5o.get_info(obj.id).addr
            for mtype, mflags, paddr, payload in _ohdr_messages(data, addr):
                if mflags & 2:
                    out.append({"object": name, "msg_type": mtype, "address": paddr, "hex": payload.hex()})
    return out


def finish(name, meta):
    """gzip the temporary file into OUT and write its JSON next to it."""
    src = os.path.join(TMP, name)
    raw = open(src, "rb").read()
    gz = gzip.compress(raw, 9, mtime=0)
    assert len(gz) < 64 * 1024, f"{name}: {len(gz)} bytes compressed"
    with open(os.path.join(OUT, name + ".gz"), "wb") as fh:
        fh.write(gz)
    meta["file_size"] = len(raw)
    meta["generator"] = f"h5py {h5py.version.version} / HDF5 {h5py.version.hdf5_version}"
    text = json.dumps(meta, indent=1, sort_keys=True) + "\n"
    base = os.path.join(OUT, name.replace(".h5", ".json"))
    for stale in (base, base + ".gz"):
        if os.path.exists(stale):
            os.remove(stale)
    if len(text) < 60 * 1024:
        with open(base, "w") as fh:
            fh.write(text)
    else:  # long link names: store the expectations gzip-compressed as well
        with open(base + ".gz", "wb") as fh:
            fh.write(gzip.compress(text.encode(), 9, mtime=0))
    os.remove(src)
    print(f"{name}: {len(raw)} bytes, {len(gz)} gzipped")


def make_links_long():
    """Dense group whose link messages are ~3-4 KB (long names): the link heap outgrows the
    direct-block rows of the root indirect block (> 512 KiB) so child indirect blocks appear,
    with skipped (unallocated) small blocks; one 5000-char name becomes a huge object."""
    name = "links_long.h5"
    path = os.path.join(TMP, name)
    with h5py.File(path, "w", libver="latest") as f:
        t = f.create_group("target")
        g = f.create_group("big")
        for i in range(220):
            n = f"{i:04d}_" + "n" * (2900 + (i * 37) % 1100)
            g[n] = t
        g["huge_" + "h" * 5000] = t
        meta = {"groups": {"/big": link_names(g)}}
    finish(name, meta)


def make_links_depth2():
    """Creation-order tracked group with 1500 links: BT2 type 5 and type 6 of depth 2."""
    name = "links_depth2.h5"
    path = os.path.join(TMP, name)
    with h5py.File(path, "w", libver="latest") as f:
        t = f.create_group("target")
        g = f.create_group("ordered", track_order=True)
        for i in range(1500):
            g[f"link{i:05d}"] = t
        meta = {"groups": {"/ordered": list(g.keys())}}  # creation order
    finish(name, meta)


def make_filtered_heap():
    """Group created with a deflate GCPL: the link heap's direct blocks are filtered."""
    name = "filtered_heap.h5"
    path = os.path.join(TMP, name)
    with h5py.File(path, "w", libver="latest") as f:
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        gcpl.set_link_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
        plist_call("H5Pset_deflate", hid_t(gcpl.id), ctypes.c_uint(6))
        h5py.h5g.create(f.id, b"fg", gcpl=gcpl)
        g = f["fg"]
        for i in range(40):
            g.create_group(f"subgroup_number_{i:03d}")
        meta = {"groups": {"/fg": list(g.keys())}}
    finish(name, meta)


def make_dense_attrs():
    """Dataset with 30 attributes plus one 160 KB attribute (huge heap object, BT2 type 1);
    group with track_order=True and 12 attributes (BT2 types 8 and 9)."""
    name = "dense_attrs.h5"
    path = os.path.join(TMP, name)
    with h5py.File(path, "w", libver="latest") as f:
        d = f.create_dataset("d", data=np.arange(10, dtype="<i4"))
        for i in range(30):
            d.attrs[f"attr_{i:02d}"] = np.arange(i + 1, dtype="<f8")
        d.attrs["big"] = np.full(20000, 1.5, dtype="<f8")
        g = f.create_group("o", track_order=True)
        for i in range(12):
            g.attrs[f"ordered_{11 - i:02d}"] = i
        meta = {
            "attrs": {
                "/d": {k: int(np.asarray(v).nbytes) for k, v in d.attrs.items()},
                "/o": {k: int(np.asarray(v).nbytes) for k, v in g.attrs.items()},
            },
            "attr_order": {"/o": list(g.attrs.keys())},
        }
    finish(name, meta)


def make_sohm(name, btree):
    """Shared object header messages in a SOHM heap: list index, or v2 B-tree (type 7) index."""
    path = os.path.join(TMP, name)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    plist_call("H5Pset_shared_mesg_nindexes", hid_t(fcpl.id), ctypes.c_uint(1))
    plist_call("H5Pset_shared_mesg_index", hid_t(fcpl.id), ctypes.c_uint(0), ctypes.c_uint(0x1F), ctypes.c_uint(8))
    if btree:
        plist_call("H5Pset_shared_mesg_phase_change", hid_t(fcpl.id), ctypes.c_uint(2), ctypes.c_uint(1))
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    units = ["metres per second squared", "kelvin", "kilograms per cubic metre"]
    with h5py.File(fid) as f:
        n = 6 if btree else 5
        for i in range(n):
            d = f.create_dataset(f"v{i}", shape=(20, 30), chunks=(10, 10), dtype="<f4", compression="gzip")
            d.attrs["units"] = units[i % 3] if btree else units[0]
        f["committed_t"] = np.dtype([("a", "<i4"), ("b", "<f8")])
        f.create_dataset("uses_committed", shape=(3,), dtype=f["committed_t"])
    meta = {"nindexes": 1, "committed": {}}
    with h5py.File(path, "r") as f:
        meta["committed"]["/committed_t"] = h5py.h5o.get_info(f["committed_t"].id).addr
    meta["shared_messages"] = shared_messages(path)
    finish(name, meta)


def make_committed_earliest():
    """v1 object headers sharing a committed datatype (shared message v2, type byte 2)."""
    name = "committed_earliest.h5"
    path = os.path.join(TMP, name)
    with h5py.File(path, "w") as f:
        f["t"] = np.dtype([("x", "<i2"), ("y", "<f4")])
        f.create_dataset("a", shape=(2,), dtype=f["t"])
        f.create_dataset("b", shape=(3,), dtype=f["t"])
        f["a"].attrs.create("attr", np.zeros(1, dtype=f["t"].dtype), dtype=f["t"])
    meta = {"committed": {}}
    with h5py.File(path, "r") as f:
        meta["committed"]["/t"] = h5py.h5o.get_info(f["t"].id).addr
    meta["shared_messages"] = shared_messages(path)
    finish(name, meta)


def chunk_table(d):
    """h5py's view of a chunked dataset: [scaled offsets, byte offset, size, filter mask] per chunk."""
    out = []
    for i in range(d.id.get_num_chunks()):
        info = d.id.get_chunk_info(i)
        scaled = [o // c for o, c in zip(info.chunk_offset, d.chunks)]
        out.append([scaled, info.byte_offset, info.size, info.filter_mask])
    return {"rank": d.ndim, "chunks": out}


def make_bt2_chunks(name, libver):
    """Chunked datasets with two unlimited dimensions: v2 B-tree chunk index, record type 10
    (unfiltered) and 11 (gzip; layout v5 with L-byte sizes under 'latest', computed width under
    v110), plus a 6400-chunk tree deep enough for internal nodes."""
    path = os.path.join(TMP, name)
    with h5py.File(path, "w", libver=libver) as f:
        data = np.arange(400, dtype="<i4").reshape(20, 20)
        f.create_dataset("plain", data=data, maxshape=(None, None), chunks=(4, 4))
        f.create_dataset("gzip", data=data, maxshape=(None, None), chunks=(4, 4), compression="gzip")
        f.create_dataset("gzip3d", data=np.arange(6 * 8 * 10, dtype="<f8").reshape(6, 8, 10),
                         maxshape=(None, 8, None), chunks=(3, 4, 5), compression="gzip")
        if libver == "latest":
            deep = f.create_dataset("deep", shape=(80, 80), maxshape=(None, None), chunks=(1, 1), dtype="u1")
            deep[...] = 7
        meta = {"datasets": {"/" + k: chunk_table(v) for k, v in f.items()}}
    finish(name, meta)


OFFICIAL = os.environ.get("HDF5_OFFICIAL_CORPUS", "/work/shared/corpus/hdf5-official")
OFFICIAL_FILES = [
    "h5diff_danglelinks2.h5", "h5diff_grp_recurse2.h5", "h5repack_objs.h5", "test_ld.h5",
    "tfcontents1.h5", "h5fc_ext1_i.h5", "h5fc_ext2_if.h5", "h5fc_ext2_sf.h5", "h5fc_ext_none.h5",
]
# Files whose object headers hold shared messages: v1 (tcompound2), v2 with type byte 0
# (tenum) and v2 with type byte 2 (the others).
OFFICIAL_SHARED = ["h5copytst_new.h5", "tcompound2.h5", "tenum.h5", "tfcontents1.h5", "tnamed_dtype_attr.h5"]


def make_official_expected():
    """What h5py sees in the official files that hold fractal heaps / v2 B-trees (the files
    themselves stay in the shared corpus; the Rust tests skip when it is absent)."""
    if not os.path.isdir(OFFICIAL):
        print("official corpus absent: official.json not regenerated")
        return
    out = {}
    for name in sorted(set(OFFICIAL_FILES + OFFICIAL_SHARED)):
        entry = {"groups": {}, "datasets": {}, "committed": []}
        path = os.path.join(OFFICIAL, name)
        with h5py.File(path, "r") as f:
            def visit(path, obj):
                if isinstance(obj, h5py.Group):
                    entry["groups"]["/" + path] = sorted(obj.keys())
                elif isinstance(obj, h5py.Dataset) and obj.chunks is not None:
                    entry["datasets"]["/" + path] = chunk_table(obj)
                elif isinstance(obj, h5py.Datatype):
                    entry["committed"].append(h5py.h5o.get_info(obj.id).addr)
            entry["groups"]["/"] = sorted(f.keys())
            f.visititems(lambda p, o: visit(p, o))
        if name in OFFICIAL_SHARED:
            entry["shared_messages"] = shared_messages(path)
        out[name] = entry
    with open(os.path.join(OUT, "official.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


def make_huge_group():
    """20 000 subgroups with ~60-character names (not committed: ~5 MB)."""
    gen = os.path.join(OUT, "generated")
    os.makedirs(gen, exist_ok=True)
    path = os.path.join(gen, "huge_group.h5")
    with h5py.File(path, "w", libver="latest") as f:
        g = f.create_group("many")
        for i in range(20000):
            g.create_group(f"subgroup_with_a_fairly_long_name_to_grow_the_heap_{i:06d}")
        meta = {"groups": {"/many": link_names(g)}}
    with open(os.path.join(gen, "huge_group.json"), "w") as fh:
        json.dump(meta, fh)
    print(f"huge_group.h5: {os.path.getsize(path)} bytes (not committed)")


def main():
    os.makedirs(TMP, exist_ok=True)
    make_links_long()
    make_links_depth2()
    make_filtered_heap()
    make_dense_attrs()
    make_sohm("sohm_list.h5", btree=False)
    make_sohm("sohm_btree.h5", btree=True)
    make_committed_earliest()
    make_bt2_chunks("bt2_chunks.h5", "latest")
    make_bt2_chunks("bt2_chunks_v110.h5", ("v110", "v110"))
    make_official_expected()
    os.rmdir(TMP)
    if "--big" in sys.argv:
        make_huge_group()


if __name__ == "__main__":
    main()
