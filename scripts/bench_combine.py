#!/usr/bin/env python3
"""Benchmark (not a test): our combiner vs kerchunk MultiZarrToZarr on synthetic OPERA
DISP-S1-like per-file reference sets.

Each synthetic input has the key layout kerchunk emits for a DISP-S1 product (6898 x 9618
layers in 256 x 256 chunks = 27 x 38 = 1026 chunk references per layer; 11 root layers and
3 correction layers; x/y/spatial_ref/time; ~50 identification and ~40 metadata scalars;
orbit vectors) plus the 6 scalars the ASF package adds (source_file_name, netcdf_uri, bytes,
product_version, reference_datetime, secondary_datetime): ~14.5k references per file.

Both tools run on the same inputs in the same run, with and without the ASF key filter
(our `--profile opera-disp`; kerchunk with the equivalent preprocess), inline_threshold 0
(the chunk targets do not exist). Peak RSS and CPU time are measured per child process;
wall time is what the targets refer to, CPU time shows the work when the machine is busy
(ours uses every core, kerchunk one).

    python scripts/bench_combine.py --combine-cmd target/release/examples/combine [-n 100 400]
"""
import argparse
import base64
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time

ROWS, COLS, CH = 6898, 9618, 256
ROOT_LAYERS = [
    ("displacement", "<f4", "NaN"), ("short_wavelength_displacement", "<f4", "NaN"),
    ("recommended_mask", "|u1", 255), ("connected_component_labels", "<u2", 65535),
    ("temporal_coherence", "<f4", "NaN"), ("estimated_phase_quality", "<f4", "NaN"),
    ("persistent_scatterer_mask", "|u1", 255), ("shp_counts", "<i2", 0),
    ("water_mask", "|u1", 255), ("phase_similarity", "<f4", "NaN"),
    ("timeseries_inversion_residuals", "<f4", "NaN"),
]
CORR_LAYERS = ["ionospheric_delay", "solid_earth_tide", "perpendicular_baseline"]
KEEP = (".zattrs", ".zgroup", "bytes", "corrections", "identification", "metadata", "netcdf_uri",
        "product_version", "reference_datetime", "secondary_datetime",
        "short_wavelength_displacement", "source_file_name", "spatial_ref", "x", "y")
DROP = tuple(f"metadata/{o}_orbit/{v}" for o in ("reference", "secondary")
             for v in ("position", "time", "velocity"))


def za(shape, chunks, dtype, fill, filters=None):
    return json.dumps({"chunks": chunks, "compressor": None, "dtype": dtype, "fill_value": fill,
                       "filters": filters, "order": "C", "shape": shape, "zarr_format": 2},
                      separators=(",", ":"))


def zat(dims, **kw):
    d = {"_ARRAY_DIMENSIONS": dims}
    d.update(kw)
    return json.dumps(d, separators=(",", ":"))


def template():
    """One per-file reference set with @URL@, @NAME@ and @N@ placeholders."""
    r = {}
    off = [4 * 1024 * 1024]

    def ref(size):
        off[0] += size
        return ["@URL@", off[0] - size, size]

    def layer(path, dtype, fill, dims):
        es = int(dtype[2:]) if dtype[2:].isdigit() else 1
        flt = [{"elementsize": es, "id": "shuffle"}, {"id": "zlib", "level": 4}]
        r[f"{path}/.zarray"] = za([ROWS, COLS], [CH, CH], dtype, fill, flt)
        r[f"{path}/.zattrs"] = zat(dims, grid_mapping="spatial_ref", units="meters",
                                   long_name=path, description=f"{path} layer")
        for i in range(-(-ROWS // CH)):
            for j in range(-(-COLS // CH)):
                r[f"{path}/{i}.{j}"] = ref(20000 + (i * 7 + j * 13) % 5000)

    r[".zgroup"] = '{"zarr_format":2}'
    r[".zattrs"] = json.dumps({"Conventions": "CF-1.8", "contact": "opera-sds-ops@jpl.nasa.gov",
                               "institution": "NASA JPL", "mission_name": "OPERA",
                               "reference_document": "JPL D-108765",
                               "title": "OPERA_L3_DISP-S1 Product"}, separators=(",", ":"))
    for name, n in (("y", ROWS), ("x", COLS)):
        r[f"{name}/.zarray"] = za([n], [n], "<f8", None)
        r[f"{name}/.zattrs"] = zat([name], units="m")
        r[f"{name}/0"] = ref(8 * n)
    for name in ("time", "reference_time"):
        r[f"{name}/.zarray"] = za([1], [1], "<f8", None)
        r[f"{name}/.zattrs"] = zat(["time"], units="seconds since 2010-01-01 00:00:00.000000",
                                   calendar="standard")
        r[f"{name}/0"] = "base64:" + base64.b64encode(b"\x00\x00\x00\x00\x80\x84\x1e\x41").decode()
    r["spatial_ref/.zarray"] = za([], [], "<i8", None)
    r["spatial_ref/.zattrs"] = zat([], crs_wkt="PROJCS[...]", GeoTransform="499800.0 30.0 0.0 4114500.0 0.0 -30.0")
    r["spatial_ref/0"] = "\u0000" * 8
    for name, dt, fill in ROOT_LAYERS:
        layer(name, dt, fill, ["y", "x"])
    r["corrections/.zgroup"] = '{"zarr_format":2}'
    r["corrections/.zattrs"] = json.dumps({"description": "corrections"})
    for name, n in (("y", ROWS), ("x", COLS)):
        r[f"corrections/{name}/.zarray"] = za([n], [n], "<f8", None)
        r[f"corrections/{name}/.zattrs"] = zat([f"corrections/{name}"])
        r[f"corrections/{name}/0"] = ref(8 * n)
    r["corrections/spatial_ref/.zarray"] = za([], [], "<i8", None)
    r["corrections/spatial_ref/.zattrs"] = zat([])
    r["corrections/spatial_ref/0"] = "\u0000" * 8
    for name in CORR_LAYERS:
        layer(f"corrections/{name}", "<f4", "NaN", ["corrections/y", "corrections/x"])
    for grp, count in (("identification", 50), ("metadata", 40)):
        r[f"{grp}/.zgroup"] = '{"zarr_format":2}'
        r[f"{grp}/.zattrs"] = "{}"
        for k in range(count):
            p = f"{grp}/item_{k:02d}"
            if k % 3 == 0:
                r[f"{p}/.zarray"] = za([], [], "<i8", None)
                r[f"{p}/0"] = "base64:" + base64.b64encode((k).to_bytes(8, "little")).decode()
            elif k % 3 == 1:
                r[f"{p}/.zarray"] = za([], [], "|S26", "IA==")
                r[f"{p}/0"] = "2016-07-05 14:07:55.000000"
            else:
                r[f"{p}/.zarray"] = za([], [], "|S7200", "IA==")
                r[f"{p}/0"] = ref(7200)
            r[f"{p}/.zattrs"] = zat([], description=f"item {k}")
    for o in ("reference_orbit", "secondary_orbit"):
        r[f"metadata/{o}/.zgroup"] = '{"zarr_format":2}'
        r[f"metadata/{o}/.zattrs"] = "{}"
        for v in ("time", "position_x", "position_y", "position_z", "velocity_x", "velocity_y", "velocity_z"):
            r[f"metadata/{o}/{v}/.zarray"] = za([987654321], [987654321], "<f8", 0.0)
            r[f"metadata/{o}/{v}/.zattrs"] = zat(["phony_dim_0"])
            r[f"metadata/{o}/{v}/0"] = ref(8 * 13)
    # The ASF scalars.
    vl = {"id": "vlen-utf8"}
    for name in ("source_file_name", "netcdf_uri", "product_version"):
        r[f"{name}/.zarray"] = za([], [], "|O", 0, [vl])
        r[f"{name}/.zattrs"] = zat([])
    r["source_file_name/0"] = "@VLEN_NAME@"
    r["netcdf_uri/0"] = "@VLEN_URL@"
    r["product_version/0"] = "base64:" + base64.b64encode(b"\x01\x00\x00\x00\x04\x00\x00\x00v1.0").decode()
    r["bytes/.zarray"] = za([], [], "<f8", 0.0)
    r["bytes/.zattrs"] = zat([])
    r["bytes/0"] = "base64:" + base64.b64encode(b"\x00\x00\x00\x00\x00\x00\xa0\x41").decode()
    for name in ("reference_datetime", "secondary_datetime"):
        r[f"{name}/.zarray"] = za([], [], "<M8[ns]", 0)
        r[f"{name}/.zattrs"] = zat([])
        r[f"{name}/0"] = "@DATE@"
    text = json.dumps({"version": 1, "refs": r}, separators=(",", ":"))
    return text.replace("987654321", "@N@")


def vlen(s):
    b = s.encode()
    return "base64:" + base64.b64encode(len([s]).to_bytes(4, "little") + len(b).to_bytes(4, "little") + b).decode()


def make_inputs(d, n, tpl):
    paths = []
    for i in range(n):
        name = (f"OPERA_L3_DISP-S1_IW_F11116_VV_20160705T140755Z_{20160729 + i:08d}T140756Z"
                f"_v1.0_20250408T163512Z.nc")
        url = f"/nonexistent/opera-bucket/{name}"  # never read (inline_threshold 0); s3:// would need s3fs
        ns = (1_469_800_000 + 86400 * 12 * i) * 1_000_000_000
        doc = (tpl.replace("@URL@", url).replace('"@VLEN_NAME@"', json.dumps(vlen(name)))
               .replace('"@VLEN_URL@"', json.dumps(vlen(url)))
               .replace('"@DATE@"', json.dumps("base64:" + base64.b64encode(ns.to_bytes(8, "little")).decode()))
               .replace("@N@", "13"))  # same length everywhere, else we (rightly) refuse the unfiltered stack
        p = os.path.join(d, f"in{i:04d}.json")
        with open(p, "w") as f:
            f.write(doc)
        paths.append(p)
    return paths


KERCHUNK = r"""
import json, sys, time
from kerchunk.combine import MultiZarrToZarr
filtered = sys.argv[1] == "1"; out = sys.argv[2]; paths = sys.argv[3:]
KEEP = %r; DROP = %r
def pre(refs):
    for k in list(refs):
        if not k.startswith(KEEP) or k.startswith(DROP):
            refs.pop(k)
    return refs
t0 = time.time()
docs = [json.load(open(p)) for p in paths]
mzz = MultiZarrToZarr(paths, indicts=docs, concat_dims=["source_file_name"], identical_dims=["y", "x"],
                      inline_threshold=0, preprocess=pre if filtered else None)
mzz.translate(out)
""" % (KEEP, DROP)


def measure(argv):
    """Runs argv in a wrapper process; returns (wall s, peak RSS MiB, CPU s) of the command."""
    wrapper = ("import resource, subprocess, sys, time; t = time.time(); "
               "r = subprocess.run(sys.argv[1:]); dt = time.time() - t; "
               "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "print(dt, u.ru_maxrss, u.ru_utime + u.ru_stime); sys.exit(r.returncode)")
    r = subprocess.run([sys.executable, "-c", wrapper] + argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{argv[:3]} failed:\n{r.stderr[-3000:]}")
    secs, kb, cpu = r.stdout.strip().splitlines()[-1].split()
    return float(secs), int(kb) / 1024, float(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--combine-cmd", required=True)
    ap.add_argument("-n", type=int, nargs="+", default=[100, 400])
    ap.add_argument("--python", default=sys.executable, help="python with kerchunk 0.2.10")
    ap.add_argument("--no-kerchunk", action="store_true")
    args = ap.parse_args()
    tpl = template()
    per_file = json.loads(tpl.replace("@N@", "13"))["refs"]
    print(f"per-file references: {len(per_file)}, JSON {len(tpl) / 1e6:.2f} MB")
    d = tempfile.mkdtemp(prefix="bench-combine-")
    kscript = os.path.join(d, "mzz.py")
    with open(kscript, "w") as f:
        f.write(KERCHUNK)
    for n in args.n:
        paths = make_inputs(d, n, tpl)
        for filtered in (True, False):
            label = f"N={n} {'ASF filter' if filtered else 'no filter '}"
            ours_out = os.path.join(d, "ours.json")
            opts = (["--profile", "opera-disp"] if filtered else
                    ["--concat", "source_file_name", "--identical", "y", "--identical", "x"])
            t_o, m_o, c_o = measure(shlex.split(args.combine_cmd) + ["-o", ours_out, "--inline", "0"] + opts + paths)
            size = os.path.getsize(ours_out) / 1e6
            print(f"{label}  ours:     {t_o:8.2f} s wall {c_o:8.2f} s CPU {m_o:8.1f} MiB  ({size:.1f} MB JSON)", flush=True)
            if args.no_kerchunk:
                continue
            k_out = os.path.join(d, "kerchunk.json")
            t_k, m_k, c_k = measure([args.python, kscript, "1" if filtered else "0", k_out] + paths)
            print(f"{label}  kerchunk: {t_k:8.2f} s wall {c_k:8.2f} s CPU {m_k:8.1f} MiB  ({os.path.getsize(k_out) / 1e6:.1f} MB JSON)")
            ok_t = "ok" if t_k / t_o >= 20 else "MISSED"
            ok_m = "ok" if m_o <= m_k / 5 else "MISSED"
            print(f"{label}  speed-up {t_k / t_o:6.1f}x wall, {c_k / c_o:6.1f}x CPU (target >= 20x: {ok_t}); "
                  f"memory {m_o / m_k:6.3f} of kerchunk (target <= 0.2: {ok_m})", flush=True)
        for p in paths:
            os.remove(p)


if __name__ == "__main__":
    main()
