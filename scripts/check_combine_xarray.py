#!/usr/bin/env python3
"""Conformance check: a combined reference set of N small netCDF files, opened with xarray,
equals xr.concat of the same files opened with netCDF4 (values, coordinates, attributes).

    python scripts/check_combine_xarray.py --combine-cmd "<command running our combiner>"

The command gets the output path, options and inputs appended in the flag syntax of
`cargo run --release -p combine --example combine --` (-o OUT --concat time --identical lat
--identical lon IN...). If the command contains `{output}` and `{inputs}` placeholders they
are substituted instead (options then come from `{options}`).

Needs numpy, netCDF4, h5py, kerchunk (per-file references via SingleHdf5ToZarr), xarray,
zarr and fsspec. Exits non-zero on any difference.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np


def make_files(d, n):
    import netCDF4

    paths = []
    for i in range(n):
        p = os.path.join(d, f"in{i:02d}.nc")
        with netCDF4.Dataset(p, "w") as ds:
            ds.title = "combine conformance"
            ds.source = "scripts/check_combine_xarray.py"
            ds.createDimension("time", 1)
            ds.createDimension("lat", 5)
            ds.createDimension("lon", 7)
            t = ds.createVariable("time", "f8", ("time",))
            t.units = "days since 2000-01-01"
            t.calendar = "standard"
            t[:] = [10.0 * i + 0.5]
            lat = ds.createVariable("lat", "f4", ("lat",))
            lat.units = "degrees_north"
            lat[:] = np.linspace(-20, 20, 5)
            lon = ds.createVariable("lon", "f4", ("lon",))
            lon.units = "degrees_east"
            lon[:] = np.linspace(0, 60, 7)
            temp = ds.createVariable("temp", "f4", ("time", "lat", "lon"), zlib=True, shuffle=True,
                                     chunksizes=(1, 3, 4), fill_value=-999.0)
            temp.units = "K"
            temp.long_name = "temperature"
            rng = np.random.default_rng(i)
            data = (280 + 10 * rng.standard_normal((1, 5, 7))).astype("f4")
            data[0, 0, 0] = -999.0  # a missing value
            temp[:] = data
            cnt = ds.createVariable("count", "i2", ("time", "lat"), fill_value=-1)
            cnt[:] = np.arange(5, dtype="i2")[None, :] + i
            elev = ds.createVariable("elev", "f8", ("lat", "lon"))
            elev.units = "m"
            elev[:] = np.arange(35, dtype="f8").reshape(5, 7) + 100 * i
            run = ds.createVariable("run", "i4", ())
            run.long_name = "run number"
            run.assignValue(100 + i)
        paths.append(p)
    return paths


def make_refs(paths):
    from kerchunk.hdf import SingleHdf5ToZarr

    out = []
    for p in paths:
        with open(p, "rb") as f:
            refs = SingleHdf5ToZarr(f, p, inline_threshold=100).translate()
        j = p[:-3] + ".json"
        with open(j, "w") as f:
            json.dump(refs, f)
        out.append(j)
    return out


def clean_attrs(a):
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in a.items()
            if not k.startswith("_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--combine-cmd", required=True)
    ap.add_argument("-n", type=int, default=4, help="number of files (default 4)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    import xarray as xr

    d = tempfile.mkdtemp(prefix="combine-xr-")
    files = make_files(d, args.n)
    refs = make_refs(files)
    # Give the inputs out of order: the combiner must sort them by coordinate.
    refs_shuffled = refs[1:] + refs[:1]
    out = os.path.join(d, "combined.json")
    options = ["--concat", "time", "--identical", "lat", "--identical", "lon"]
    cmd = args.combine_cmd
    if "{output}" in cmd:
        cmd = cmd.format(output=shlex.quote(out), inputs=" ".join(map(shlex.quote, refs_shuffled)),
                         options=" ".join(options))
        argv = shlex.split(cmd)
    else:
        argv = shlex.split(cmd) + ["-o", out] + options + refs_shuffled
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr, file=sys.stderr)
        sys.exit(f"combiner failed with exit code {r.returncode}")

    got = xr.open_dataset(
        "reference://", engine="zarr",
        backend_kwargs={"consolidated": False,
                        "storage_options": {"fo": out, "remote_protocol": "file"}},
    ).load()
    parts = [xr.open_dataset(f, engine="netcdf4").load() for f in files]
    want = xr.concat(parts, dim="time", data_vars="all", coords="different", compat="equals",
                     combine_attrs="override")

    problems = []
    if sorted(got.variables) != sorted(want.variables):
        problems.append(f"variables differ: {sorted(got.variables)} vs {sorted(want.variables)}")
    for name in sorted(set(got.variables) & set(want.variables)):
        g, w = got[name], want[name]
        if g.dims != w.dims:
            problems.append(f"{name}: dims {g.dims} vs {w.dims}")
            continue
        if not np.array_equal(g.values, w.values, equal_nan=g.dtype.kind in "fc"):
            problems.append(f"{name}: values differ\n{g.values}\nvs\n{w.values}")
        if clean_attrs(g.attrs) != clean_attrs(w.attrs):
            problems.append(f"{name}: attrs {g.attrs} vs {w.attrs}")
    if clean_attrs(got.attrs) != clean_attrs(want.attrs):
        problems.append(f"global attrs {got.attrs} vs {want.attrs}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"files kept in {d}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: combined store of {args.n} files equals xr.concat along time "
          f"({len(got.variables)} variables)")
    if not args.keep:
        import shutil
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
