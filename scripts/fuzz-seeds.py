#!/usr/bin/env python3
"""Write seed corpora for the cargo-fuzz targets under fuzz/corpus/<target>/.

Sources (whatever exists):
  crates/hdf5-meta/tests/data/**   (*.h5, *.nc, also gzipped)
  fixtures/**                      (*.h5, *.nc, *.json, *.json.gz)
  crates/kerchunk-refs/tests/data/ (*.json, *.json.gz)
  the official HDF5 test files     ($HDF5_CORPUS, else ../shared/corpus/hdf5-official next
                                    to the repository, or two levels up for a worktree)

For every HDF5 file the script locates the superblock, then cuts out each structure at its
signature (OHDR, TREE, SNOD, HEAP, GCOL, FRHP, BTHD, SMTB/SMLI, FAHD, EAHD), v1 object
headers (found heuristically), continuation blocks and individual header messages, and writes
them in the input format of fuzz/src/lib.rs (`Input`):

  [sizes:1][params:3][origin:8 LE][entry offset:4 LE][image...]

The image is the whole file from its base address when it is at most 64 KiB (so that child
blocks stay reachable), otherwise a 64 KiB window around the structure. Only the standard
library is used. Seeds are named by content hash; `--clean` empties the corpus directories
first (libFuzzer also writes its finds there).
"""

import argparse
import gzip
import hashlib
import os
import re
import shutil
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIG = b"\x89HDF\r\n\x1a\n"
WINDOW = 64 * 1024
INDEX_MAX = 256 * 1024
SIZE_CODE = {8: 0, 4: 1, 2: 2, 16: 3}
TARGETS = [
    "superblock", "object_header", "messages", "value", "btree_v1", "btree_v2",
    "local_heap", "global_heap", "fractal_heap", "sohm", "fixed_array",
    "extensible_array", "refs_json", "index", "combine",
]


def le(b):
    return int.from_bytes(b, "little")


def corpus_dir():
    env = os.environ.get("HDF5_CORPUS")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared/corpus/hdf5-official",
                   REPO.parent.parent / "shared/corpus/hdf5-official"]
    return next((c for c in candidates if c.is_dir()), None)


def read(path):
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


class Writer:
    def __init__(self, out, clean):
        self.out = out
        self.counts = {t: 0 for t in TARGETS}
        for t in TARGETS:
            d = out / t
            if clean and d.exists():
                shutil.rmtree(d)
            d.mkdir(parents=True, exist_ok=True)

    def put(self, target, data):
        name = hashlib.sha1(data).hexdigest()
        p = self.out / target / name
        if not p.exists():
            p.write_bytes(data)
            self.counts[target] += 1


class Image:
    """A file's bytes from its base address, with its Size of Offsets/Lengths."""

    def __init__(self, img, so, sl):
        self.img, self.so, self.sl = img, so, sl
        self.sizes = SIZE_CODE[so] | (SIZE_CODE[sl] << 2)

    def addr(self, pos):
        v = self.img[pos:pos + self.so]
        return None if len(v) < self.so or v == b"\xff" * self.so else le(v)

    def input(self, addr, params=(0, 0, 0)):
        """An `Input` whose entry is the structure at `addr`."""
        if len(self.img) <= WINDOW:
            lo = 0
        else:
            lo = max(0, addr - WINDOW // 4)
        data = self.img[lo:lo + WINDOW]
        return struct.pack("<B3BQI", self.sizes, *params, lo, addr - lo) + data


def find_superblock(f):
    off = 0
    while off + 16 <= len(f):
        if f[off:off + 8] == SIG:
            return off
        off = 512 if off == 0 else off * 2
    return None


def parse_messages(im, start, end, v2_flags=None):
    """Header messages in [start, end): list of (type, flags, address, data)."""
    out, p, img = [], start, im.img
    if v2_flags is None:  # v1: 8-byte message headers, data 8-aligned
        while p + 8 <= end:
            t, size, fl = le(img[p:p + 2]), le(img[p + 2:p + 4]), img[p + 4]
            if p + 8 + size > end:
                break
            out.append((t, fl, p + 8, img[p + 8:p + 8 + size]))
            p += 8 + size
    else:
        hdr = 4 + (2 if v2_flags & 0x04 else 0)
        while p + hdr <= end:
            t, size, fl = img[p], le(img[p + 1:p + 3]), img[p + 3]
            if p + hdr + size > end:
                break
            out.append((t, fl, p + hdr, img[p + hdr:p + hdr + size]))
            p += hdr + size
    return out


def v2_header(im, a):
    img = im.img
    if img[a + 4:a + 5] != b"\x02":
        return None
    flags = img[a + 5]
    p = a + 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
    w = 1 << (flags & 3)
    size = le(img[p:p + w])
    p += w
    if p + size + 4 > len(img):
        return None
    return flags, parse_messages(im, p, p + size, flags)


def v1_header(im, a):
    """Messages of a plausible v1 object header at `a`, else None."""
    img = im.img
    h = img[a:a + 24]
    if len(h) < 24 or h[0] != 1 or h[1] != 0 or h[12:16] != b"\0\0\0\0":
        return None
    nmsgs, refcnt, hsize = le(h[2:4]), le(h[4:8]), le(h[8:12])
    if not (1 <= nmsgs <= 512 and 1 <= refcnt <= 64 and 8 <= hsize <= 65536):
        return None
    if a + 16 + hsize > len(img) or h[21:24] != b"\0\0\0":
        return None
    msgs = parse_messages(im, a + 16, a + 16 + hsize)
    if not msgs or any(t > 0x18 for t, *_ in msgs):
        return None
    return msgs


def continuation(im, data):
    """(address, length) of a continuation message."""
    if len(data) < im.so + im.sl:
        return None
    a = data[:im.so]
    if a == b"\xff" * im.so:
        return None
    return le(a), le(data[im.so:im.so + im.sl])


def chunk_btree_rank(im, a):
    """Guess the rank of a v1 chunk B-tree node from where its first keys end in 0."""
    img, o = im.img, im.so
    base = a + 8 + 2 * o
    for rank in range(1, 33):
        klen = 8 + 8 * (rank + 1)
        last = img[base + klen - 8:base + klen]
        nxt = base + klen + o
        if len(last) == 8 and le(last) == 0 and le(img[nxt + klen - 8:nxt + klen]) == 0:
            return rank
    return 1


def attribute_value_seed(im, data):
    """(datatype bytes + attribute data) of an attribute message, or None."""
    if len(data) < 8:
        return None
    ver = data[0]
    ns, ts, ss = le(data[2:4]), le(data[4:6]), le(data[6:8])
    if ver == 1:
        pad = lambda n: (n + 7) & ~7
        p = 8 + pad(ns)
        dt = data[p:p + ts]
        p += pad(ts) + pad(ss)
    elif ver in (2, 3):
        if data[1] & 3:  # shared datatype or dataspace
            return None
        p = 8 + (1 if ver == 3 else 0) + ns
        dt = data[p:p + ts]
        p += ts + ss
    else:
        return None
    return dt + data[p:p + 4096]


def hdf5_seeds(w, path, f):
    sb = find_superblock(f)
    if sb is None:
        return
    w.put("superblock", f[:sb + 4096])
    ver = f[sb + 8]
    if ver in (0, 1):
        so, sl = f[sb + 13], f[sb + 14]
    else:
        so, sl = f[sb + 9], f[sb + 10]
    if so not in SIZE_CODE or sl not in SIZE_CODE:
        return
    im = Image(f[sb:], so, sl)
    img = im.img

    def sig_positions(sig):
        return [m.start() for m in re.finditer(re.escape(sig), img)]

    headers = []  # (address, v2 flags or None, messages)
    for a in sig_positions(b"OHDR"):
        r = v2_header(im, a)
        if r:
            headers.append((a, r[0], r[1]))
    for m in re.finditer(rb"(?=\x01\x00)", img):
        msgs = v1_header(im, m.start())
        if msgs:
            headers.append((m.start(), None, msgs))

    sohm_nindexes, list_counts = {}, {}
    pending = [h + (False,) for h in headers]
    seen_cont = set()
    while pending:
        a, flags, msgs, is_cont = pending.pop()
        if not is_cont:
            w.put("object_header", im.input(a))
        for t, fl, maddr, data in msgs:
            if t < 256:
                w.put("messages", struct.pack("<B3BQI", im.sizes, t, fl, 0, maddr, 0) + data)
            if t == 0x03 and not fl & 2:
                w.put("value", struct.pack("<B3BQI", im.sizes, 0, 0, 0, maddr, 0)
                      + data + bytes(range(64)))
            if t == 0x0C and not fl & 2:
                v = attribute_value_seed(im, data)
                if v:
                    w.put("value", struct.pack("<B3BQI", im.sizes, 0, 0, 0, maddr, 0) + v)
            if t == 0x0F and len(data) >= 2 + so:
                sohm_nindexes[le(data[1:1 + so])] = data[1 + so]
            if t == 0x10:
                c = continuation(im, data)
                if not c or c[0] in seen_cont or c[0] + c[1] > len(img):
                    continue
                seen_cont.add(c[0])
                ca, cl = c
                if cl < 0x10000:
                    p0 = 1 | ((flags or 0) << 1) & 0xFF
                    w.put("object_header", im.input(ca, (p0, cl & 0xFF, cl >> 8)))
                if flags is None:
                    pending.append((ca, None, parse_messages(im, ca, ca + cl), True))
                elif img[ca:ca + 4] == b"OCHK":
                    pending.append((ca, flags, parse_messages(im, ca + 4, ca + cl - 4, flags), True))

    for a in sig_positions(b"TREE"):
        rank = chunk_btree_rank(im, a) if img[a + 4:a + 5] == b"\x01" else 0
        w.put("btree_v1", im.input(a, (rank, 0, 0)))
    for a in sig_positions(b"SNOD"):
        w.put("btree_v1", im.input(a))
    for a in sig_positions(b"BTHD"):
        ttype, rec = img[a + 5], le(img[a + 10:a + 12])
        rank = 0
        if ttype == 10:
            rank = max(0, (rec - so) // 8)
        elif ttype == 11:
            rank = max(0, (rec - so - 5) // 8)
        w.put("btree_v2", im.input(a, (rank & 0xFF, 0, 0)))
    for sig, target in [(b"HEAP", "local_heap"), (b"GCOL", "global_heap"),
                        (b"FRHP", "fractal_heap"), (b"FAHD", "fixed_array"),
                        (b"EAHD", "extensible_array")]:
        for a in sig_positions(sig):
            w.put(target, im.input(a))
    for a in sig_positions(b"SMTB"):
        n = sohm_nindexes.get(a, 1)
        w.put("sohm", im.input(a, (n, 0, 0)))
        # Index entries: version, type, message types, min size, list/btree cutoffs, count, addresses.
        p = a + 4
        for _ in range(n):
            entry = img[p:p + 14 + 2 * so]
            if len(entry) == 14 + 2 * so and entry[1] == 0:
                list_counts[le(entry[14:14 + so])] = le(entry[12:14])
            p += 14 + 2 * so
    for a in sig_positions(b"SMLI"):
        n = list_counts.get(a, 1)
        w.put("sohm", im.input(a, (0, n & 0xFF, n >> 8)))


def json_seeds(w, data):
    for mode in (0, 1, 0x0F):
        w.put("refs_json", bytes([mode]) + data)


def index_seeds(w, data):
    """Whole files for the `index` target: as is, and with one byte more (odd/even length
    selects the walker's block size, see fuzz/src/lib.rs)."""
    if len(data) <= INDEX_MAX:
        w.put("index", data)
        w.put("index", data + b"\0")


def combine_seeds(w, docs):
    """Runs of 2-3 reference documents for the `combine` target, with every mode byte that
    selects a distinct concat dim / selector."""
    for i in range(len(docs)):
        group = docs[i:i + 3]
        if len(group) < 2:
            continue
        body = b"\xff\xfe".join(group)
        for mode in (0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C, 0x22, 0x61, 0x80):
            w.put("combine", bytes([mode]) + body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clean", action="store_true", help="empty the corpus directories first")
    ap.add_argument("--out", type=Path, default=REPO / "fuzz" / "corpus")
    args = ap.parse_args()
    w = Writer(args.out, args.clean)

    h5 = []
    for root in [REPO / "crates/hdf5-meta/tests/data", REPO / "fixtures"]:
        if root.is_dir():
            h5 += [p for p in sorted(root.rglob("*"))
                   if re.search(r"\.(h5|nc|hdf5)(\.gz)?$", p.name)]
    corpus = corpus_dir()
    if corpus:
        h5 += sorted(corpus.glob("*.h5"))
    else:
        print("official HDF5 corpus not found (set HDF5_CORPUS)", file=sys.stderr)
    for p in h5:
        try:
            data = read(p)
            hdf5_seeds(w, p, data)
            index_seeds(w, data)
        except (OSError, EOFError, gzip.BadGzipFile, IndexError, ValueError) as e:
            print(f"skipping {p}: {e}", file=sys.stderr)

    for root in [REPO / "crates/kerchunk-refs/tests/data", REPO / "fixtures"]:
        if root.is_dir():
            for p in sorted(root.rglob("*")):
                if re.search(r"\.json(\.gz)?$", p.name):
                    raw = p.read_bytes()
                    json_seeds(w, raw)
                    if p.name.endswith(".json") and len(raw) < 65536:
                        json_seeds(w, gzip.compress(raw, mtime=0))

    combine_dir = REPO / "crates/combine/tests/data/combine"
    if combine_dir.is_dir():
        docs = [p.read_bytes() for p in sorted(combine_dir.glob("f*.json"))]
        golden = REPO / "fixtures/kerchunk-golden"
        docs += [p.read_bytes() for p in sorted(golden.rglob("*.json"))
                 if p.stat().st_size < 16384][:24]
        combine_seeds(w, docs)

    print(f"{len(h5)} HDF5 files; new seeds per target:")
    for t, n in w.counts.items():
        total = len(list((args.out / t).iterdir()))
        print(f"  {t:18} +{n:5}  ({total} in corpus)")


if __name__ == "__main__":
    main()
