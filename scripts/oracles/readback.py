#!/usr/bin/env python
"""Read-back oracle: every dataset read through our references equals h5py's read of the file.

    scripts/oracles/readback.py --indexer PATH/TO/index [--timeout S] [--json OUT] FILE_OR_DIR ...

For each HDF5 file: run the Rust indexer (crates/kerchunk-refs/examples/index.rs), which writes
a kerchunk reference set (url = the file's absolute path) and its warnings as JSON lines; open
the references with fsspec's reference filesystem + zarr (format 2); then for every dataset h5py
can see, compare values (NaN-aware; strings decoded; object references as target paths;
compounds field by field). A dataset is

  * match    -- same shape, dtype kind and values;
  * refused  -- not in the references, with a warning naming it (counted by reason);
  * differ   -- anything else: missing without a warning, unreadable through zarr, or
                different values;
  * skipped  -- h5py itself cannot read it (missing plugin, corrupt data), or it is a netCDF
                dimension without a variable (emits nothing by design).

A file is "refused" when the indexer rejects it as a whole (exit status 1 with a message, e.g.
not HDF5, or a multi-file driver); a crash (panic), a timeout or a malformed output counts as a
difference. Prints

  files: N indexed, M refused | datasets: A match, B differ

plus breakdowns, and exits non-zero on any difference.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

warnings.simplefilter("ignore")

try:  # registers blosc/zstd/lz4/bitshuffle/... for h5py
    import hdf5plugin  # noqa: F401
except ImportError:  # pragma: no cover
    pass
import fsspec
import h5py
import zarr


def collect(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for n in sorted(os.listdir(p)):
                q = os.path.join(p, n)
                if os.path.isfile(q) and n.endswith((".h5", ".nc", ".hdf5", ".he5", ".nc4")):
                    out.append(q)
        else:
            out.append(p)
    return out


EXTRA_ARGS = []


def run_indexer(indexer, path, timeout):
    """(refs dict or None, warnings list, failure text or None, fatal bool)."""
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "refs.json")
        try:
            p = subprocess.run(
                [indexer, path, "--url", os.path.abspath(path), "--out", out, "--warnings-json"] + EXTRA_ARGS,
                capture_output=True, timeout=timeout, text=True)
        except subprocess.TimeoutExpired:
            return None, [], "indexer timed out after %d s" % timeout, True
        warns = []
        other = []
        for line in p.stderr.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    warns.append(json.loads(line))
                    continue
                except ValueError:
                    pass
            if line:
                other.append(line)
        if p.returncode != 0:
            msg = " ".join(other)[-300:] or "exit status %d" % p.returncode
            # Exit 1 with an error message is a clean refusal; anything else (101 = panic,
            # signals) is a bug.
            return None, warns, msg, p.returncode != 1 or "panicked" in p.stderr
        try:
            with open(out) as fh:
                refs = json.load(fh)
        except ValueError as e:
            return None, warns, "malformed reference JSON: %s" % e, True
        return refs, warns, None, False


def refusal_reason(message):
    m = message.lower()
    for key, label in (("not an hdf5 file", "not HDF5"), ("file driver", "multi-file driver"),
                       ("truncated", "truncated file"), ("invalid", "malformed structure"),
                       ("bad signature", "malformed structure"), ("incomplete", "malformed structure"),
                       ("unsupported", "unsupported structure"), ("limit", "limit")):
        if key in m:
            return label
    return "other"


def h5_datasets(f):
    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            found.append("/" + name)

    f.visititems(visit)
    return found


def decode_str(x):
    if isinstance(x, bytes):
        return x.decode("utf-8", "surrogateescape")
    if x is None:
        return ""
    return str(x)


def h5_values(f, ds):
    """The dataset's values as numpy, strings decoded, references as paths."""
    dt = ds.dtype
    if ds.shape is None:
        return None
    data = ds[()]
    if dt.kind == "O":
        ref = h5py.check_dtype(ref=dt)
        if ref is not None:
            def name(r):
                if not r:
                    return ""
                try:
                    return f[r].name or ""
                except Exception:
                    return ""
            return np.vectorize(name, otypes=[object])(data) if np.ndim(data) else np.array(name(data), dtype=object)
        if np.ndim(data) == 0:
            return np.array(decode_str(data), dtype=object)
        return np.vectorize(decode_str, otypes=[object])(data)
    return np.asarray(data)


def zarr_values(arr):
    v = arr[...]
    if v.dtype.kind in ("O", "T", "U"):
        if np.ndim(v) == 0:
            return np.array(decode_str(v[()]), dtype=object)
        return np.vectorize(decode_str, otypes=[object])(np.asarray(v, dtype=object))
    return np.asarray(v)


def equal(a, b):
    """(ok, why)."""
    if a.shape != b.shape:
        return False, "shape %s vs %s" % (a.shape, b.shape)
    if a.dtype.names or b.dtype.names:
        if a.dtype.names != b.dtype.names:
            return False, "fields %s vs %s" % (a.dtype.names, b.dtype.names)
        for n in a.dtype.names:
            ok, why = equal(np.asarray(a[n]), np.asarray(b[n]))
            if not ok:
                return False, "field %s: %s" % (n, why)
        return True, ""
    if a.dtype.kind == "O" or b.dtype.kind == "O":
        ok = a.shape == b.shape and all(x == y for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
        return ok, "" if ok else "strings differ (first: %r vs %r)" % first_diff(a, b)
    if a.dtype.kind != b.dtype.kind and not (a.dtype.kind in "iub" and b.dtype.kind in "iub"):
        return False, "dtype %s vs %s" % (a.dtype, b.dtype)
    if a.dtype.kind in "fc":
        ok = np.array_equal(a, b, equal_nan=True)
    elif a.dtype.kind == "V":
        ok = a.tobytes() == b.tobytes()
    else:
        ok = np.array_equal(a, b)
    return ok, "" if ok else "values differ (first: %r vs %r)" % first_diff(a, b)


def first_diff(a, b):
    fa, fb = a.ravel(), b.ravel()
    for x, y in zip(fa, fb):
        same = x == y
        try:
            same = same or (np.isnan(x) and np.isnan(y))
        except TypeError:
            pass
        if not np.all(same):
            return (x, y)
    return (None, None)


def is_dimension_only(ds):
    cls = ds.attrs.get("CLASS")
    if isinstance(cls, bytes):
        cls = cls.decode()
    if cls != "DIMENSION_SCALE":
        return False
    try:
        return ds.id.get_storage_size() == 0
    except Exception:
        return False


def check_file(path, indexer, timeout, stats, report):
    refs, warns, failure, fatal = run_indexer(indexer, path, timeout)
    refused_paths = {w["path"]: w for w in warns if w.get("refused")}
    if refs is None:
        if fatal:
            stats["differ_files"] += 1
            report.append("%s: INDEXER FAILURE: %s" % (path, failure))
        else:
            stats["files_refused"] += 1
            stats["file_reasons"][refusal_reason(failure)] += 1
            report.append("%s: refused: %s" % (path, failure))
        return
    stats["files_indexed"] += 1
    try:
        f = h5py.File(path, "r")
    except Exception as e:
        report.append("%s: h5py cannot open the file (%s); nothing to compare" % (path, str(e)[:120]))
        stats["skipped"]["h5py cannot open file"] += 1
        return
    with f:
        fs = fsspec.filesystem("reference", fo=refs)
        try:
            root = zarr.open_group(fs.get_mapper(""), mode="r", zarr_format=2)
        except Exception as e:
            stats["differ"] += 1
            report.append("%s: zarr cannot open the references: %s" % (path, e))
            return
        try:
            names = h5_datasets(f)
        except Exception as e:
            report.append("%s: h5py cannot list the file (%s)" % (path, str(e)[:120]))
            stats["skipped"]["h5py cannot list file"] += 1
            return
        for p in names:
            key = p.lstrip("/")
            if p in refused_paths:
                stats["refused"] += 1
                stats["reasons"][refused_paths[p]["reason"]] += 1
                continue
            try:
                ds = f[p]
                want = h5_values(f, ds)
            except Exception as e:
                stats["skipped"]["h5py cannot read"] += 1
                report.append("%s:%s: skipped, h5py cannot read it (%s)" % (path, p, str(e)[:100]))
                continue
            try:
                arr = root[key]
            except KeyError:
                if is_dimension_only(ds):
                    stats["skipped"]["netCDF dimension without variable"] += 1
                    continue
                if ds.shape is None and p in refused_paths:
                    continue
                stats["differ"] += 1
                report.append("%s:%s: DIFFER: missing from the references without a warning" % (path, p))
                continue
            try:
                got = zarr_values(arr)
            except Exception as e:
                stats["differ"] += 1
                report.append("%s:%s: DIFFER: zarr read failed: %s" % (path, p, str(e)[:200]))
                continue
            ok, why = equal(want, got)
            if ok:
                stats["match"] += 1
            else:
                stats["differ"] += 1
                report.append("%s:%s: DIFFER: %s" % (path, p, why))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--indexer", required=True)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--label", default="files")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--indexer-arg", action="append", default=[],
                    help="extra argument for the indexer (repeatable), e.g. --indexer-arg=--unsupported-inline-threshold --indexer-arg=1000000")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    EXTRA_ARGS.extend(a.indexer_arg)
    stats = {"files_indexed": 0, "files_refused": 0, "differ_files": 0, "match": 0, "differ": 0,
             "refused": 0, "reasons": collections.Counter(), "file_reasons": collections.Counter(),
             "skipped": collections.Counter()}
    report = []
    for path in collect(a.paths):
        try:
            check_file(path, a.indexer, a.timeout, stats, report)
        except Exception as e:  # the oracle itself must not hide a file
            stats["differ_files"] += 1
            report.append("%s: ORACLE ERROR: %r" % (path, e))
    for line in report:
        if a.verbose or "DIFFER" in line or "FAILURE" in line or "ERROR" in line:
            print(line)
    print("== %s ==" % a.label)
    print("files: %d indexed, %d refused | datasets: %d match, %d differ"
          % (stats["files_indexed"], stats["files_refused"] + stats["differ_files"],
             stats["match"], stats["differ"]))
    if stats["file_reasons"] or stats["differ_files"]:
        parts = ["%s: %d" % kv for kv in sorted(stats["file_reasons"].items())]
        if stats["differ_files"]:
            parts.append("indexer failure: %d" % stats["differ_files"])
        print("  refused files by reason: " + ", ".join(parts))
    print("  refused datasets: %d (%s)" % (stats["refused"], ", ".join("%s: %d" % kv for kv in sorted(stats["reasons"].items())) or "none"))
    if stats["skipped"]:
        print("  skipped datasets: " + ", ".join("%s: %d" % kv for kv in sorted(stats["skipped"].items())))
    sys.exit(1 if stats["differ"] or stats["differ_files"] else 0)


if __name__ == "__main__":
    main()
