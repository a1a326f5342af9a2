"""The kerchunk side of scripts/bench: index files with kerchunk (pinned in requirements.txt)
the way the seed workflow does (ASF Discovery-kerchunk-timeseries, see
shared/reference/opera-disp-and-ecosystem.md §1.12): s3fs with anon=False,
default_fill_cache=False, default_cache_type="first", default_block_size=1 MiB, then
SingleHdf5ToZarr(f, url, inline_threshold=N).translate(), one JSON per file.

    python kerchunk_index.py [--endpoint URL --key K --secret S] [--inline-threshold N]
                             [--out-dir DIR] [--repeat N] SRC...

SRC is a local path or s3://bucket/key. Files are indexed one after another, as kerchunk users
loop over them. Prints one JSON line: files, refs, chunk_refs, import_s (time to import the
stack), translate_s (best over --repeat of the summed per-file translate time, i.e. in-process
with the file's metadata in the OS cache), total_s.
"""
import argparse
import json
import os
import sys
import time

T0 = time.perf_counter()
import fsspec  # noqa: E402
import ujson  # noqa: E402
from kerchunk.hdf import SingleHdf5ToZarr  # noqa: E402

IMPORTED = time.perf_counter()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sources", nargs="+")
    ap.add_argument("--endpoint")
    ap.add_argument("--key")
    ap.add_argument("--secret")
    ap.add_argument("--inline-threshold", type=int, default=300)
    ap.add_argument("--out-dir")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()

    s3_opts = dict(anon=False, key=a.key, secret=a.secret,
                   client_kwargs={"endpoint_url": a.endpoint, "region_name": "us-east-1"},
                   default_fill_cache=False, default_cache_type="first",
                   default_block_size=1 << 20)
    best = None
    refs_total = chunk_total = 0
    for _ in range(max(1, a.repeat)):
        spent = 0.0
        refs_total = chunk_total = 0
        for src in a.sources:
            t = time.perf_counter()
            if src.startswith("s3://"):
                with fsspec.open(src, mode="rb", **s3_opts) as f:
                    refs = SingleHdf5ToZarr(f, src, inline_threshold=a.inline_threshold).translate()
            else:
                with open(src, "rb") as f:
                    refs = SingleHdf5ToZarr(f, src, inline_threshold=a.inline_threshold).translate()
            spent += time.perf_counter() - t
            r = refs["refs"]
            refs_total += len(r)
            chunk_total += sum(1 for v in r.values() if isinstance(v, list))
            if a.out_dir:
                name = os.path.basename(src) + ".json"
                with open(os.path.join(a.out_dir, name), "w") as out:
                    ujson.dump(refs, out)
        best = spent if best is None else min(best, spent)
    print(json.dumps({"files": len(a.sources), "refs": refs_total, "chunk_refs": chunk_total,
                      "import_s": IMPORTED - T0, "translate_s": best,
                      "total_s": time.perf_counter() - T0}))


if __name__ == "__main__":
    sys.exit(main())
