#!/usr/bin/env python
"""Check an OPERA DISP stack made by `kerchunk combine --profile opera-disp` with xarray.

    "$(scripts/pyenv)" scripts/check_opera_stack.py [--stack STACK] --nc-dir DIR PER_FILE... \\
        [--url-prefix PREFIX] [--s3-endpoint URL --refs-key K --refs-secret S \\
         --data-key K --data-secret S]

STACK and PER_FILE (the per-file reference sets of the products that were combined, made by
`kerchunk index --profile opera-disp`) are local paths or s3:// URLs, JSON or JSON.gz. DIR
holds the original .nc files (by base name) for value checks with h5py. With --s3-endpoint,
s3:// references are read with the refs credentials and chunks with the data credentials
(through fsspec/s3fs), as a user of two buckets would.

Checks (the ASF Discovery-kerchunk-timeseries structure, opera-disp-and-ecosystem.md §1.12):
  - source_file_name is a coordinate, sorted, equal to the per-file products' names;
  - time is not a coordinate; x and y are; the non-whitelisted `displacement` is absent;
  - for each product, stack.sel(source_file_name=name) equals its single-file store for the
    stacked variables, and the single-file store matches the .nc file read with h5py:
    short_wavelength_displacement, x, y, bytes (file size), netcdf_uri (PREFIX/name),
    product_version (from the name), reference/secondary_datetime (/identification).
Without --stack, only the per-file stores are checked (against h5py). Exits non-zero on the
first difference.
"""
import argparse
import os
import re
import sys

import h5py
import numpy as np
import xarray as xr

STACKED = ["short_wavelength_displacement", "bytes", "netcdf_uri", "product_version",
           "reference_datetime", "secondary_datetime", "spatial_ref"]


def s3_options(endpoint, key, secret):
    return {"key": key, "secret": secret,
            "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}


def open_refs(url, a):
    so = {"fo": url}
    target = {"compression": "infer"}
    if url.startswith("s3://"):
        so["target_protocol"] = "s3"
        target.update(s3_options(a.s3_endpoint, a.refs_key, a.refs_secret))
    so["target_options"] = target
    if a.s3_endpoint:
        so["remote_protocol"] = "s3"
        # zarr opens the reference filesystem asynchronously; its chunk filesystem must match.
        so["remote_options"] = dict(s3_options(a.s3_endpoint, a.data_key, a.data_secret), asynchronous=True)
    else:
        so["remote_protocol"] = "file"
    return xr.open_dataset("reference://", engine="zarr",
                           backend_kwargs={"consolidated": False, "storage_options": so})


def check(cond, msg):
    if not cond:
        print(f"check_opera_stack: FAILED: {msg}", file=sys.stderr)
        sys.exit(1)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a.shape == b.shape and np.array_equal(a, b)


def ident_datetime(f, field):
    v = f["identification"][field][()]
    v = v.decode() if isinstance(v, bytes) else str(v)
    return np.datetime64(v.replace(" ", "T"), "ns")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("per_file", nargs="+")
    ap.add_argument("--stack")
    ap.add_argument("--nc-dir", required=True)
    ap.add_argument("--url-prefix")
    ap.add_argument("--s3-endpoint")
    ap.add_argument("--refs-key")
    ap.add_argument("--refs-secret")
    ap.add_argument("--data-key")
    ap.add_argument("--data-secret")
    a = ap.parse_args()

    if a.stack:
        stack = open_refs(a.stack, a)
        names = check_stack(stack)
    else:
        stack, names = None, None
    seen = []
    for ref in a.per_file:
        seen.append(check_single(ref, stack, names, a))
    if names is not None:
        check(sorted(seen) == names, f"stack names {names} != per-file names {sorted(seen)}")
        print(f"check_opera_stack: {len(names)} products OK (source_file_name coordinate, x/y "
              f"coordinates, values equal to the single-file stores and h5py)")
    else:
        print(f"check_opera_stack: {len(seen)} single-file stores OK (values equal to h5py)")


def check_stack(stack):
    check("source_file_name" in stack.coords, f"source_file_name is not a coordinate: {list(stack.coords)}")
    check("time" not in stack.coords, "time is a coordinate")
    check("x" in stack.coords and "y" in stack.coords, f"x/y are not coordinates: {list(stack.coords)}")
    check("displacement" not in stack.variables, "displacement was not filtered out")
    names = [str(n) for n in stack.source_file_name.values]
    check(names == sorted(names), f"source_file_name not sorted: {names}")
    check(stack["short_wavelength_displacement"].dims == ("source_file_name", "y", "x"),
          f"dims {stack['short_wavelength_displacement'].dims}")
    return names


def check_single(ref, stack, names, a):
    """Checks one per-file store (against the stack, if any, and h5py); returns its name."""
    single = open_refs(ref, a)
    name = str(single.source_file_name.values)
    if stack is not None:
        check(name in names, f"{name} missing from the stack")
        sel = stack.sel(source_file_name=name)
        for var in STACKED:
            check(same(sel[var].values, single[var].values), f"{name}: {var} differs between stack and single file")
        for var in ("x", "y"):
            check(same(stack[var].values, single[var].values), f"{name}: {var} differs")
    nc = os.path.join(a.nc_dir, name)
    with h5py.File(nc, "r") as f:
        check(same(single["short_wavelength_displacement"].values, f["short_wavelength_displacement"][...]),
              f"{name}: short_wavelength_displacement differs from h5py")
        check(same(single["x"].values, f["x"][...]) and same(single["y"].values, f["y"][...]),
              f"{name}: x/y differ from h5py")
        for field in ("reference_datetime", "secondary_datetime"):
            want = ident_datetime(f, field)
            check(single[field].values == want, f"{name}: {field} {single[field].values} != {want}")
    check(float(single["bytes"].values) == os.path.getsize(nc), f"{name}: bytes != file size")
    uri = str(single["netcdf_uri"].values)
    if a.url_prefix:
        check(uri == a.url_prefix.rstrip("/") + "/" + name, f"{name}: netcdf_uri {uri}")
    else:
        check(uri.endswith("/" + name), f"{name}: netcdf_uri {uri}")
    version = re.search(r"_(v\d+\.\d+)_", name).group(1)
    check(str(single["product_version"].values) == version, f"{name}: product_version")
    return name


if __name__ == "__main__":
    main()
