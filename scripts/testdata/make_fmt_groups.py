#!/usr/bin/env python3
"""Generate the small HDF5 files used by crates/hdf5-meta/tests/fmt_groups.rs.

Made with h5py 3.16.0 / HDF5 2.0.0 (the project's /work/devvenv). Run from the repo root:

    /work/devvenv/bin/python scripts/testdata/make_fmt_groups.py

Writes crates/hdf5-meta/tests/data/fmt_groups/*.h5 plus expected.json, which records what
h5py reports for each file (superblock facts, old-style group listings, soft links, vlen
string values with the absolute offset of their descriptors, and every chunk's
offset/byte offset/size/filter mask from `chunk_iter`). Files stay well below 64 KB.
"""

import ctypes
import glob
import json
import os

import h5py
import numpy as np

OUT = os.path.join("crates", "hdf5-meta", "tests", "data", "fmt_groups")

# The HDF5 library inside the h5py wheel, for property setters h5py does not expose.
_LIB = ctypes.CDLL(glob.glob(os.path.join(os.path.dirname(h5py.__file__) + ".libs", "libhdf5-*.so*"))[0])
_LIB.H5Pset_istore_k.argtypes = [ctypes.c_int64, ctypes.c_uint]
_LIB.H5Pset_sym_k.argtypes = [ctypes.c_int64, ctypes.c_uint, ctypes.c_uint]
_LIB.H5Pget_istore_k.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_uint)]
_LIB.H5Pget_sym_k.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint)]

VSTR = ["alpha", "", "Four score and seven years ago", "\u00fcn\u00efc\u00f6d\u00e9"]


def open_file(path, libver="earliest", userblock=0, sizes=None, istore_k=None, sym_k=None):
    """Create a file through the low-level API so FCPL settings are honoured."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    if userblock:
        fcpl.set_userblock(userblock)
    if sizes:
        fcpl.set_sizes(*sizes)
    if istore_k:
        assert _LIB.H5Pset_istore_k(fcpl.id, istore_k) >= 0
    if sym_k:
        assert _LIB.H5Pset_sym_k(fcpl.id, *sym_k) >= 0
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    bounds = {
        "earliest": (h5py.h5f.LIBVER_EARLIEST, h5py.h5f.LIBVER_LATEST),
        "v108": (h5py.h5f.LIBVER_V18, h5py.h5f.LIBVER_V18),
        "latest": (h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST),
    }[libver]
    fapl.set_libver_bounds(*bounds)
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    return h5py.File(fid)


def add_vstr(f, name="vstr"):
    f.create_dataset(name, data=VSTR, dtype=h5py.string_dtype("utf-8"))


def add_subgroups(g, n):
    for i in range(n):
        g.create_group(f"sub{i:02d}")


def make_files():
    os.makedirs(OUT, exist_ok=True)
    specs = {}

    # 1. User block 512, superblock v0, old-style groups, soft link, vlen strings, chunks.
    p = os.path.join(OUT, "ub512_earliest.h5")
    with open_file(p, userblock=512) as f:
        add_subgroups(f.create_group("grp"), 20)
        f["soft"] = h5py.SoftLink("/grp/sub01")
        add_vstr(f)
        f.create_dataset("chunked2d", data=np.arange(60, dtype="<i4").reshape(6, 10), chunks=(3, 4))
        d = f.create_dataset("masked", shape=(8,), dtype="<i4", chunks=(4,), compression="gzip")
        d[:4] = np.arange(4)
        # Second chunk stored raw with the gzip filter marked as skipped (mask bit 0).
        d.id.write_direct_chunk((4,), np.arange(4, 8, dtype="<i4").tobytes(), filter_mask=1)
    with open(p, "r+b") as fh:
        fh.write(b"user block text, not HDF5 " * 8)
    specs[p] = dict(userblock=512)

    # 2. User block 1024, superblock v3 (checksummed), vlen strings in a latest-format file.
    p = os.path.join(OUT, "ub1024_latest.h5")
    with open_file(p, libver="latest", userblock=1024) as f:
        add_vstr(f)
        f.create_group("g")
    specs[p] = dict(userblock=1024)

    # 3. Superblock v1 (non-default indexed-storage K = 64, symbol-table K = 8/2):
    #    200 one-element chunks make a two-level chunk B-tree; 10 links make several SNODs.
    p = os.path.join(OUT, "sb_v1_istore64.h5")
    with open_file(p, istore_k=64, sym_k=(8, 2)) as f:
        f.create_dataset("many", data=np.arange(200, dtype="<i2"), chunks=(1,))
        add_subgroups(f.create_group("g"), 10)
    specs[p] = dict(userblock=0)

    # 4. Superblock v2 (v1.8 bounds): v1 B-tree chunk index under a v2 object header.
    p = os.path.join(OUT, "sb_v2_v108.h5")
    with open_file(p, libver="v108") as f:
        f.create_dataset("gz", data=np.arange(100, dtype="<f4").reshape(10, 10), chunks=(5, 5), compression="gzip")
    specs[p] = dict(userblock=0)

    # 5. Size of Offsets = Size of Lengths = 4, superblock v0.
    p = os.path.join(OUT, "sizes44_earliest.h5")
    with open_file(p, sizes=(4, 4)) as f:
        add_subgroups(f.create_group("grp"), 20)
        add_vstr(f)
        f.create_dataset("chunked2d", data=np.arange(60, dtype="<i4").reshape(6, 10), chunks=(3, 4))
    specs[p] = dict(userblock=0)
    return specs


def describe(path, userblock):
    info = {"userblock": userblock, "groups": {}, "soft_links": {}, "vlen": {}, "chunks": {}}
    with open(path, "rb") as fh:
        raw = fh.read()
    sb = raw[userblock:]
    info["superblock_version"] = sb[8]
    info["offset_size"], info["length_size"] = (sb[13], sb[14]) if sb[8] < 2 else (sb[9], sb[10])
    with h5py.File(path, "r") as f:
        fcpl = f.id.get_create_plist()
        ik, lk, istore = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
        assert _LIB.H5Pget_sym_k(fcpl.id, ctypes.byref(ik), ctypes.byref(lk)) >= 0
        assert _LIB.H5Pget_istore_k(fcpl.id, ctypes.byref(istore)) >= 0
        info["group_internal_k"], info["group_leaf_k"] = ik.value, lk.value
        info["istore_k"] = istore.value

        def visit(g, gpath):
            info["groups"][gpath] = sorted(g.keys())
            for name in sorted(g.keys()):
                child = gpath.rstrip("/") + "/" + name
                link = g.get(name, getlink=True)
                if isinstance(link, h5py.SoftLink):
                    info["soft_links"][child] = link.path
                    continue
                obj = g[name]
                if isinstance(obj, h5py.Group):
                    visit(obj, child)
                elif obj.dtype.kind == "O":
                    info["vlen"][child] = {
                        "offset": obj.id.get_offset(),
                        "values": [v.decode("utf-8") for v in obj[...]],
                    }
                elif obj.chunks:
                    rows = []
                    obj.id.chunk_iter(lambda c: rows.append([list(c.chunk_offset), c.byte_offset, c.size, c.filter_mask]))
                    info["chunks"][child] = {"rank": obj.ndim, "chunks": rows}

        visit(f, "/")
    # Only old-style (symbol table) files list groups the test can walk.
    if info["superblock_version"] >= 2:
        info["groups"] = {}
    return info


def main():
    specs = make_files()
    expected = {}
    for path, spec in sorted(specs.items()):
        size = os.path.getsize(path)
        assert size < 64 * 1024, (path, size)
        expected[os.path.basename(path)] = describe(path, spec["userblock"])
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(json.dumps({k: (os.path.getsize(os.path.join(OUT, k))) for k in expected}))


if __name__ == "__main__":
    main()
