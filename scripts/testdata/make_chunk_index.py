#!/usr/bin/env python3
"""Generate the chunk-index test files under crates/hdf5-meta/tests/data/chunk_index/.

Made with h5py 3.16.0 / HDF5 2.0.0 (numpy 2.4). Run from the repository root:

    /work/devvenv/bin/python scripts/testdata/make_chunk_index.py

Each .h5 file gets a JSON sidecar (`<name>.json`) with, per dataset: shape, maxshape,
chunk shape, whether it is filtered, and h5py's `chunk_iter` list (scaled chunk coords,
byte offset, stored size, filter mask). For extensible-array datasets whose unlimited
dimension is not the first, HDF5 2.0.0's chunk_iter is wrong, so those datasets are
marked `"oracle": "values"`: every chunk is filled with `1 + (C-order index of the chunk
over the current chunk grid)` and the test checks the byte at each chunk address instead.
Sidecars are gzip-compressed JSON (`.json.gz`); chunk_iter lists are stored as columns sorted by
chunk index, with `index` and `offset` delta-encoded. Large files are written gzip-compressed
(`.h5.gz`) to stay under 64 KB.
"""

import gzip
import json
import os

import h5py
import numpy as np

OUT = os.path.join("crates", "hdf5-meta", "tests", "data", "chunk_index")


def chunk_value_fill(shape, chunks):
    """u1 array whose every chunk holds 1 + its C-order index over the current chunk grid."""
    grid = [-(-s // c) for s, c in zip(shape, chunks)]
    idx = np.indices(shape)
    lin = np.zeros(shape, dtype=np.int64)
    for d in range(len(shape)):
        lin = lin * grid[d] + idx[d] // chunks[d]
    return (1 + lin).astype("u1")


def delta(values):
    out, prev = [], 0
    for v in values:
        out.append(v - prev)
        prev = v
    return out


def describe(ds, oracle="chunk_iter"):
    """Dataset description; see the module docstring. `oracle` is "chunk_iter" (compare the full
    list), "addresses" (compare only offsets/sizes: chunk_iter coordinates are wrong) or
    "values" (no list; chunks hold `chunk_value_fill` values)."""
    return _describe(ds, oracle)


def _describe(ds, oracle):
    """Dataset description; chunk_iter is stored as delta-encoded columns sorted by chunk index
    (C-order over the current chunk grid) so that large lists compress well."""
    entries = []
    if oracle != "values":
        grid = [-(-s // c) for s, c in zip(ds.shape, ds.chunks)]

        def visit(info):
            lin = 0
            for o, c, g in zip(info.chunk_offset, ds.chunks, grid):
                lin = lin * g + o // c
            entries.append((lin, info.byte_offset, info.size, info.filter_mask))

        ds.id.chunk_iter(visit)
        entries.sort()
    return {
        "shape": list(ds.shape),
        "maxshape": [-1 if m is None else m for m in ds.maxshape],
        "chunks": list(ds.chunks),
        "itemsize": ds.dtype.itemsize,
        "filtered": ds.compression is not None,
        "oracle": oracle,
        "index": delta([e[0] for e in entries]),
        "offset": delta([e[1] for e in entries]),
        "size": [e[2] for e in entries],
        "mask": [e[3] for e in entries],
    }


def write_gz(path, data):
    """gzip with mtime 0 so that regenerating gives identical bytes."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(data)


def finish(path, meta, compress=False):
    write_gz(path.replace(".h5", ".json.gz"), json.dumps(meta, separators=(",", ":")).encode())
    if compress:
        with open(path, "rb") as src:
            write_gz(path + ".gz", src.read())
        os.remove(path)
    final = path + ".gz" if compress else path
    print(final, os.path.getsize(final))


def fixed_array(libver, name):
    path = os.path.join(OUT, name)
    meta = {}
    with h5py.File(path, "w", libver=libver) as f:
        d = f.create_dataset("unpaged", (100, 50), "u1", chunks=(10, 10))
        d[...] = chunk_value_fill(d.shape, d.chunks)
        d = f.create_dataset("paged_full", (50, 50), "u1", chunks=(1, 1))
        d[...] = chunk_value_fill(d.shape, d.chunks)
        d = f.create_dataset("paged_sparse", (50, 50), "u1", chunks=(1, 1))
        d[0, 0] = 1
        d[49, 49] = 2
        d[30, :] = 3
        d = f.create_dataset("gzip", (100, 50), "u1", chunks=(10, 10), compression="gzip")
        d[...] = chunk_value_fill(d.shape, d.chunks)
        d = f.create_dataset("gzip_paged_sparse", (40, 40), "u1", chunks=(1, 1), compression="gzip")
        d[0, :] = 7
        d[39, 5] = 9
        # Current extent smaller than max extent: slots are numbered over the max grid.
        d = f.create_dataset("maxshape", (4, 5), "u1", chunks=(3, 2), maxshape=(8, 10))
        d[...] = chunk_value_fill(d.shape, d.chunks)
        for k in f:
            meta[k] = describe(f[k])
    finish(path, meta, compress=True)


def extensible_array():
    path = os.path.join(OUT, "extensible_array.h5")
    meta = {}
    with h5py.File(path, "w", libver="latest") as f:
        d = f.create_dataset("ea25", (100,), "u1", chunks=(4,), maxshape=(None,))
        d[...] = chunk_value_fill(d.shape, d.chunks)
        d = f.create_dataset("ea25_gzip", (100,), "u1", chunks=(4,), maxshape=(None,), compression="gzip")
        d[...] = chunk_value_fill(d.shape, d.chunks)
        # Sparse writes far out: super blocks 0.., and a paged data block in super block 13.
        d = f.create_dataset("sparse_paged", (140000,), "u1", chunks=(1,), maxshape=(None,))
        for i in (0, 3, 4, 20, 300, 5000, 133000, 135000, 135001):
            d[i] = (i % 251) + 1
        d = f.create_dataset("rows", (5000, 3), "u1", chunks=(2, 3), maxshape=(None, 3))
        for r in (0, 4000, 4999):
            d[r, :] = 5
        for k in list(f):
            meta[k] = describe(f[k])
        # Unlimited dimension not first: oracle = values.
        d = f.create_dataset("unlim_last", (6, 40), "u1", chunks=(2, 2), maxshape=(6, None))
        d[...] = chunk_value_fill(d.shape, d.chunks)
        meta["unlim_last"] = describe(d, oracle="values")
        d = f.create_dataset("unlim_middle", (4, 30, 6), "u1", chunks=(2, 2, 3), maxshape=(4, None, 6))
        d[...] = chunk_value_fill(d.shape, d.chunks)
        meta["unlim_middle"] = describe(d, oracle="values")
        # Fixed dimension with max > current: HDF5 2.0 numbers it over the max extent.
        d = f.create_dataset("unlim_last_bigmax", (4, 6), "u1", chunks=(2, 3), maxshape=(10, None))
        d[...] = chunk_value_fill(d.shape, d.chunks)
        meta["unlim_last_bigmax"] = describe(d, oracle="values")
    finish(path, meta)


def extensible_array_v110():
    path = os.path.join(OUT, "extensible_array_v110.h5")
    meta = {}
    with h5py.File(path, "w", libver=("v110", "v110")) as f:
        d = f.create_dataset("ea25_gzip", (100,), "u1", chunks=(4,), maxshape=(None,), compression="gzip")
        d[...] = chunk_value_fill(d.shape, d.chunks)
        meta["ea25_gzip"] = describe(d)
    finish(path, meta)


def extensible_array_20k():
    path = os.path.join(OUT, "extensible_array_20k.h5")
    meta = {}
    with h5py.File(path, "w", libver="latest") as f:
        d = f.create_dataset("ea20k", (20000,), "u1", chunks=(1,), maxshape=(None,))
        d[...] = (np.arange(20000) % 251 + 1).astype("u1")
        meta["ea20k"] = describe(d)
    finish(path, meta, compress=True)


def implicit():
    path = os.path.join(OUT, "implicit.h5")
    meta = {}
    with h5py.File(path, "w", libver="latest") as f:
        for name, space in (
            ("same", h5py.h5s.create_simple((4, 5))),
            ("bigger_max", h5py.h5s.create_simple((4, 5), (8, 10))),
        ):
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_chunk((3, 2))
            dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
            dcpl.set_obj_track_times(False)
            dsid = h5py.h5d.create(f.id, name.encode(), h5py.h5t.STD_U8LE, space, dcpl=dcpl)
            d = h5py.Dataset(dsid)
            d[...] = chunk_value_fill(d.shape, d.chunks)
            meta[name] = describe(d)
    finish(path, meta)


def official_oracle():
    """chunk_iter oracle for the chunked datasets of the official HDF5 test files that hold
    fixed or extensible arrays (the files themselves are not copied; the test skips when the
    corpus is absent). EA datasets whose unlimited dimension is not first get "addresses"."""
    corpus = os.path.join("..", "..", "shared", "corpus", "hdf5-official")
    if not os.path.isdir(corpus):
        corpus = "/work/shared/corpus/hdf5-official"
    names = ["h5fc_edge_v3.h5", "h5fc_ext1_i.h5", "h5fc_ext2_if.h5", "h5fc_ext2_sf.h5",
             "h5fc_ext_none.h5", "tdset_idx.h5", "test_ld.h5"]
    out = {}
    for name in names:
        meta = {}
        with h5py.File(os.path.join(corpus, name), "r") as f:
            def visit(path, obj):
                if isinstance(obj, h5py.Dataset) and obj.chunks:
                    unlim = [i for i, m in enumerate(obj.maxshape) if m is None]
                    oracle = "addresses" if len(unlim) == 1 and unlim[0] != 0 else "chunk_iter"
                    meta[path] = describe(obj, oracle)
            f.visititems(visit)
        out[name] = meta
    path = os.path.join(OUT, "official_oracle.json.gz")
    write_gz(path, json.dumps(out, separators=(",", ":")).encode())
    print(path, os.path.getsize(path))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    fixed_array("latest", "fixed_array.h5")
    fixed_array(("v110", "v110"), "fixed_array_v110.h5")
    extensible_array()
    extensible_array_v110()
    extensible_array_20k()
    implicit()
    official_oracle()
