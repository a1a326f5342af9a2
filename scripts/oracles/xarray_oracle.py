#!/usr/bin/env python
"""xarray oracle: for netCDF-4 files, xr.open_dataset through our references equals
xr.open_dataset of the file (netCDF4 engine), group by group: same variables, coordinates,
dimensions, attributes and values (xarray.testing.assert_identical, after CF decoding).

    scripts/oracles/xarray_oracle.py --indexer PATH/TO/index FILE.nc ...

Variables our indexer refused (with a warning) are left out of both sides and counted. Prints
`netcdf files: N | groups: A identical, B differ` and exits non-zero on any difference.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings

warnings.simplefilter("ignore")

import fsspec  # noqa: E402
import netCDF4  # noqa: E402
import xarray as xr  # noqa: E402


def groups(path):
    out = []

    def walk(g, prefix):
        out.append(prefix or "/")
        for name, sub in g.groups.items():
            walk(sub, prefix + "/" + name)

    with netCDF4.Dataset(path) as nc:
        walk(nc, "")
    return out


def index(indexer, path, timeout):
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "refs.json")
        p = subprocess.run([indexer, path, "--url", os.path.abspath(path), "--out", out, "--warnings-json"],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError("indexer failed: " + p.stderr[-300:])
        refused = set()
        for line in p.stderr.splitlines():
            if line.startswith("{"):
                w = json.loads(line)
                if w.get("refused"):
                    refused.add(w["path"])
        with open(out) as fh:
            return json.load(fh), refused


def open_refs(refs, group):
    # Open the group's own mapper as the store root: zarr 3 cannot list a subgroup of an
    # fsspec reference filesystem (its listing of "grp/" comes back empty, also for
    # kerchunk's own output), while the root of a sub-mapper lists fine.
    fs = fsspec.filesystem("reference", fo=refs)
    store = fs.get_mapper("" if group == "/" else group.lstrip("/"))
    return xr.open_dataset(store, engine="zarr", consolidated=False, zarr_format=2)


def canonical_phony(ds):
    """Rename dimensions without a scale (phony_dim_*) to phony_<size>: netCDF-C numbers
    them across the file, kerchunk per axis (kerchunk-behavior.md §2.13); only their sizes
    and sharing carry meaning."""
    ren = {}
    for d, n in ds.sizes.items():
        if str(d).startswith("phony_dim_"):
            ren[d] = "phony_%d" % n
    if len(set(ren.values())) != len(ren):
        return ds  # two phony dims of one size: leave as is
    return ds.rename_dims(ren) if ren else ds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--indexer", required=True)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    n_files = same = differ = refused_vars = 0
    for path in a.files:
        n_files += 1
        try:
            refs, refused = index(a.indexer, path, a.timeout)
        except Exception as e:
            differ += 1
            print("%s: DIFFER: %s" % (path, e))
            continue
        for g in groups(path):
            prefix = "" if g == "/" else g
            try:
                want = xr.open_dataset(path, group=None if g == "/" else g, engine="netcdf4")
                got = open_refs(refs, g)
            except Exception as e:
                differ += 1
                print("%s:%s: DIFFER: cannot open: %s" % (path, g, str(e)[:300]))
                continue
            drop = [v for v in want.variables if "%s/%s" % (prefix, v) in refused]
            refused_vars += len(drop)
            want = want.drop_vars(drop)
            got = got.drop_vars([v for v in drop if v in got.variables])
            try:
                xr.testing.assert_identical(canonical_phony(want.load()), canonical_phony(got.load()))
                same += 1
            except AssertionError as e:
                differ += 1
                print("%s:%s: DIFFER:\n%s" % (path, g, str(e)[:2000]))
    print("netcdf files: %d | groups: %d identical, %d differ | refused variables left out: %d"
          % (n_files, same, differ, refused_vars))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
