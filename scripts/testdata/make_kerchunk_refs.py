"""Make the kerchunk test fixtures for crates/kerchunk-refs/tests/data/.

Run from anywhere with the project's dev venv:
    /work/devvenv/bin/python scripts/testdata/make_kerchunk_refs.py

Versions used for the committed files: kerchunk 0.2.10, fsspec 2026.9.0, netCDF4 1.7.5,
h5py 3.16.0 (HDF5 2.0.0), ujson 6.1.0.

Outputs (all small):
  tiny.nc                 the netCDF-4 input (byte ranges in the references point into it)
  tiny.json               SingleHdf5ToZarr(url="tiny.nc", inline_threshold=64) written with
                          ujson (compact, "/" escaped as "\\/", as MultiZarrToZarr writes)
  tiny_v0.json.gz         the same "refs" as a version-0 document, json.dumps (spaced), gzipped
  tiny_templated.json     the same refs with every url replaced by "{{u}}" and templates {"u": ...},
                          keys sorted (so "refs" precedes "templates" and "version")
  tiny_expected.json      {key: base64(bytes)} as returned by fsspec's ReferenceFileSystem for
                          every key of tiny.json; also checked against the other two documents
"""
import base64
import gzip
import json
import os
import pathlib

import fsspec
import netCDF4
import numpy as np
import ujson
from kerchunk.hdf import SingleHdf5ToZarr

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates" / "kerchunk-refs" / "tests" / "data"
OUT.mkdir(parents=True, exist_ok=True)
os.chdir(OUT)  # references use the relative url "tiny.nc"

NC = "tiny.nc"
if os.path.exists(NC):
    os.remove(NC)
with netCDF4.Dataset(NC, "w") as ds:
    ds.title = "tiny kerchunk fixture \u00e9/\u00fc"
    ds.createDimension("time", None)
    ds.createDimension("lat", 4)
    ds.createDimension("lon", 5)
    ds.createDimension("wide", 40)
    ds.createDimension("nchar", 3)
    t = ds.createVariable("time", "f8", ("time",))
    t.units = "days since 2000-01-01"
    t[:] = [0.0, 1.0, 2.0]
    lat = ds.createVariable("lat", "f4", ("lat",))
    lat[:] = [0.0, 1.0, 2.0, 3.0]
    temp = ds.createVariable("temp", "f4", ("time", "lat", "lon"), zlib=True, shuffle=True,
                             complevel=4, chunksizes=(1, 2, 5), fill_value=-999.0)
    temp.units = "K"
    temp[:] = np.arange(60, dtype="f4").reshape(3, 4, 5) / 7.0
    big = ds.createVariable("big", "f8", ("lat", "wide"), contiguous=True)
    big[:] = np.arange(160, dtype="f8").reshape(4, 40) * 1.5
    chars = ds.createVariable("chars", "S1", ("lat", "nchar"))
    chars[:] = np.array([[bytes([c]) for c in row] for row in (b"abc", b"de\0", b"f\0\0", b"ghi")],
                        dtype="S1")
    sc = ds.createVariable("scalar", "i8", ())
    sc[...] = 42
    raw = ds.createVariable("rawbytes", "u1", ("nchar",))
    raw[:] = [0xFF, 0xFE, 0x80]  # not UTF-8: kerchunk stores it as base64
    g = ds.createGroup("grp")
    g.createDimension("z", 2)
    gv = g.createVariable("gv", "u2", ("z", "lat"), fill_value=7)
    gv[:] = np.arange(8, dtype="u2").reshape(2, 4)

# An h5py-written |S4 dataset whose bytes are valid JSON: kerchunk minifies "1.50" to "1.5"
# (kerchunk-behavior.md §1.4); fsspec returns the corrupted 3 bytes and so must we.
import h5py
with h5py.File(NC, "a") as f:
    f.create_dataset("jsonish", data=np.array([b"1.50"], dtype="S4"))

refs = SingleHdf5ToZarr(NC, url=NC, inline_threshold=64).translate()
with open("tiny.json", "w") as fh:
    ujson.dump(refs, fh)
with gzip.open("tiny_v0.json.gz", "wt") as fh:
    fh.write(json.dumps(refs["refs"]))
templated = {
    "version": 1,
    "templates": {"u": NC},
    "refs": {k: (["{{u}}"] + v[1:] if isinstance(v, list) else v) for k, v in refs["refs"].items()},
}
with open("tiny_templated.json", "w") as fh:
    json.dump(templated, fh, sort_keys=True)

def cat_all(fo):
    fs = fsspec.filesystem("reference", fo=fo, remote_protocol="file")
    return {k: fs.cat(k) for k in refs["refs"]}

expected = cat_all("tiny.json")
for other in (json.loads(gzip.open("tiny_v0.json.gz").read()), "tiny_templated.json"):
    assert cat_all(other) == expected
with open("tiny_expected.json", "w") as fh:
    json.dump({k: base64.b64encode(v).decode() for k, v in expected.items()}, fh, indent=0)
for p in sorted(OUT.iterdir()):
    print(p.name, p.stat().st_size)
