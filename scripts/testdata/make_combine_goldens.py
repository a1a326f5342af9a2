"""Make the combine test inputs and kerchunk MultiZarrToZarr goldens.

Inputs are small hand-built kerchunk reference sets (JSON) whose chunk references point at
files that need not exist (goldens use inline_threshold=0, so kerchunk never fetches them);
arrays that selectors read are inline.

Run with the pinned kerchunk 0.2.10 (zarr 3.1.6, numpy 2.x):
    /work/devvenv/bin/python scripts/testdata/make_combine_goldens.py crates/combine/tests/data/combine
Goldens are written as <case>.golden.json next to the inputs; the Rust tests compare them
semantically (crates/combine/tests/goldens.rs).
"""
import base64
import json
import os
import re
import sys
import warnings

import numpy as np
from kerchunk.combine import MultiZarrToZarr, drop

OUT = sys.argv[1] if len(sys.argv) > 1 else "crates/combine/tests/data/combine"
os.makedirs(OUT, exist_ok=True)


def zarray(shape, chunks, dtype, fill=None, filters=None):
    return json.dumps({"shape": shape, "chunks": chunks, "dtype": dtype, "fill_value": fill,
                       "order": "C", "filters": filters, "dimension_separator": ".",
                       "compressor": None, "zarr_format": 2})


def b64(a):
    return "base64:" + base64.b64encode(np.asarray(a).tobytes()).decode()


def vlen_utf8(items):
    out = len(items).to_bytes(4, "little")
    for s in items:
        b = s.encode()
        out += len(b).to_bytes(4, "little") + b
    return "base64:" + base64.b64encode(out).decode()


ZLIB = [{"id": "zlib", "level": 4}]


def make_input(i, label, n_time=2, v_chunks=(1, 4), x_len=4, v_dtype="<f4", v_fill="NaN",
               v_filters=ZLIB, only_some=None, name=None):
    url = f"data/f{i}.nc"
    t0 = 2 * i
    refs = {
        ".zgroup": json.dumps({"zarr_format": 2}),
        ".zattrs": json.dumps({"title": "test file", "file_index": i}),
        "time/.zarray": zarray([n_time], [n_time], "<f8"),
        "time/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": ["time"], "units": "days since 2000-01-01",
                                    "calendar": "standard"}),
        "time/0": b64(np.arange(t0, t0 + n_time, dtype="<f8")),
        "x/.zarray": zarray([x_len], [x_len], "<i4"),
        "x/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": ["x"], "units": "m"}),
        "x/0": [url, 100, 4 * x_len],
        "static/.zarray": zarray([x_len], [x_len], "<f8", fill=0.0),
        "static/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": ["x"]}),
        "static/0": [url, 200, 8 * x_len],
        "v/.zarray": zarray([n_time, x_len], list(v_chunks), v_dtype, fill=v_fill, filters=v_filters),
        "v/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": ["time", "x"], "level": 100 + i, "units": "K"}),
        "small/.zarray": zarray([n_time], [2], "<i2", fill=0),
        "small/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": ["time"]}),
        "small/0": [url, 300, 4],
        "run/.zarray": zarray([], [], "<i4", fill=None),
        "run/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": [], "long_name": "run number"}),
        "run/0": b64(np.array(10 + i, dtype="<i4")),
        "label/.zarray": zarray([], [], "|S5", fill="IA=="),
        "label/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": []}),
        "label/0": "base64:" + base64.b64encode(label.encode()).decode(),
        "name/.zarray": zarray([], [], "|O", fill=None, filters=[{"id": "vlen-utf8"}]),
        "name/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": []}),
        "name/0": vlen_utf8([name or f"PRODUCT_{label}_v1.0.nc"]),
        "grp/.zgroup": json.dumps({"zarr_format": 2}),
        "grp/.zattrs": json.dumps({"gattr": f"input {i}"}),
        "grp/gv/.zarray": zarray([3], [3], "<u2", fill=7),
        "grp/gv/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": ["grp/z"]}),
        "grp/gv/0": [url, 400, 6],
    }
    for t in range(n_time // v_chunks[0]):
        for xx in range(-(-x_len // v_chunks[1])):
            refs[f"v/{t}.{xx}"] = [url, 1000 + 100 * t + 10 * xx, 50 + t]
    if only_some:
        refs["only_some/.zarray"] = zarray([n_time, x_len], [1, x_len], "<f8", fill="NaN")
        refs["only_some/.zattrs"] = json.dumps({"_ARRAY_DIMENSIONS": ["time", "x"]})
        for t in range(n_time):
            refs[f"only_some/{t}.0"] = [url, 2000 + 100 * t, 40]
    return {"version": 1, "refs": refs}


def write(name, doc):
    p = os.path.join(OUT, name)
    with open(p, "w") as f:
        json.dump(doc, f, sort_keys=False)
    return p


labels = ["bravo", "alpha", "charl"]
paths = [write(f"f{i}.json", make_input(i, labels[i], only_some=(i != 1))) for i in range(3)]


def run(case, **kw):
    kw.setdefault("inline_threshold", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ps = list(kw.pop("paths", paths))
        # Pass the documents as indicts: with a list of paths kerchunk loads them with fs.cat,
        # whose result is ordered by path, not by the list (names and documents then disagree).
        docs = [json.load(open(p)) for p in ps]
        out = MultiZarrToZarr(ps, indicts=docs, **kw).translate()
    # Make coordinate metadata compact like everything else (kerchunk pretty-prints it).
    write(f"{case}.golden.json", out)


run("time", concat_dims=["time"], identical_dims=["x", "static"])
run("attr_member", concat_dims=["member"], coo_map={"member": "attr:file_index"},
    identical_dims=["x", "static", "time"])
run("scalar_run", concat_dims=["run"], identical_dims=["x", "static"])
# Inputs whose coordinates sort differently from their list order are given to kerchunk in
# coordinate order: kerchunk takes root/variable metadata and copied arrays from the first
# input *in the list*, this combiner from the first *in coordinate order* (so its output does
# not depend on input order). The Rust tests feed the inputs unsorted (f0, f1, f2) and must
# get these goldens, which also shows chunks are placed by coordinate value.
by_label = [paths[1], paths[0], paths[2]]  # alpha, bravo, charl
run("label_bytes", paths=by_label, concat_dims=["label"], identical_dims=["x", "static"])
run("vlen_name", paths=by_label, concat_dims=["name"], identical_dims=["x", "static"])
run("regex", concat_dims=["n"], coo_map={"n": re.compile(r"f(\d)\.json")},
    identical_dims=["x", "static", "time"])
run("cf_time", concat_dims=["time"], coo_map={"time": "cf:time"}, identical_dims=["x", "static"])
run("cf_time_m8", concat_dims=["time"], coo_map={"time": "cf:time"},
    coo_dtypes={"time": "M8[s]"}, identical_dims=["x", "static"])
# The Rust test uses list [30, 10, 20] on (f0, f1, f2), i.e. f1=10, f2=20, f0=30.
run("list", paths=[paths[1], paths[2], paths[0]], concat_dims=["ens"],
    coo_map={"ens": [10, 20, 30]}, identical_dims=["x", "static", "time"])
run("index", concat_dims=["ens"], coo_map={"ens": "INDEX"}, identical_dims=["x", "static", "time"])
run("vattr", concat_dims=["lev"], coo_map={"lev": "vattr:v:level"}, identical_dims=["x", "static", "time"])
# The Rust test uses list [3, 1, 2] on (f0, f1, f2).
run("dtype_f4", paths=[paths[1], paths[2], paths[0]], concat_dims=["n"],
    coo_map={"n": [1, 2, 3]}, coo_dtypes={"n": "float32"},
    identical_dims=["x", "static", "time"])
run("filtered", concat_dims=["time"], identical_dims=["x"],
    preprocess=lambda refs: [refs.pop(k) for k in list(refs)
                             if not k.startswith((".zattrs", ".zgroup", "time", "x", "v", "run"))
                             or k.startswith(("v/1",))])
run("two_dims", concat_dims=["time", "member"], coo_map={"member": "attr:file_index"},
    identical_dims=["x", "static"])

# Chunk-shape mismatch: kerchunk raises "Found chunk size mismatch".
p128 = write("f3_chunks.json", make_input(3, "delta", v_chunks=(2, 4)))
try:
    MultiZarrToZarr(paths + [p128], concat_dims=["time"], identical_dims=["x", "static"],
                    inline_threshold=0).translate()
    raise SystemExit("expected a chunk size mismatch")
except ValueError as e:
    assert "chunk size mismatch" in str(e)
# Other mismatching inputs (kerchunk combines them silently; we reject them).
write("f3_dtype.json", make_input(3, "delta", v_dtype="<f8"))
write("f3_fill.json", make_input(3, "delta", v_fill=0.0))
write("f3_codecs.json", make_input(3, "delta", v_filters=[{"id": "zlib", "level": 9}]))
write("f3_shape.json", make_input(3, "delta", x_len=5))
write("f3_dup.json", make_input(1, "dupli"))
print("ok")
