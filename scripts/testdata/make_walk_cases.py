#!/usr/bin/env python3
"""Generate small files for the walker's regression tests (crates/hdf5-meta/tests/walk_cases.rs).

Made with h5py 3.16.0 / HDF5 2.0.0 (the libhdf5 bundled in the h5py wheel, called through ctypes
for the metadata cache image option). Run from the repository root:

    "$(scripts/pyenv)" scripts/testdata/make_walk_cases.py

Writes crates/hdf5-meta/tests/data/walk/<name>.h5 and cases.json (what h5py reports for each):

* cache_image.h5 — written with a metadata cache image (H5Pset_mdc_image_config): the root
  group's object header lives only in the image (its home address holds zeros).
* no_fill_message.h5 — earliest-format dataset whose fill value messages (new 0x05 and old
  0x04) are turned into NIL messages, as in files of HDF5 < 1.6: HDF5 reports the fill value
  as undefined.
* old_fill_message.h5 — the same with only an old fill value message (0x04) of 4 bytes
  holding 42 (the new one turned into NIL): HDF5 reports a user-defined fill value 42.
* old_fill_message_empty.h5 — only an old fill value message of size 0: HDF5 reports undefined.
"""

import ctypes
import json
import os
import struct
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import h5expect  # noqa: E402
import h5msg  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "crates", "hdf5-meta", "tests", "data", "walk")
FILL_NEW, FILL_OLD, NIL = 0x05, 0x04, 0x00


class CacheImageConfig(ctypes.Structure):
    _fields_ = [("version", ctypes.c_int), ("generate_image", ctypes.c_bool),
                ("save_resize_status", ctypes.c_bool), ("entry_ageout", ctypes.c_int)]


def cache_image(path):
    lib = h5expect.lib()
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    cfg = CacheImageConfig(1, True, False, -1)
    lib.H5Pset_mdc_image_config.argtypes = [ctypes.c_int64, ctypes.POINTER(CacheImageConfig)]
    if lib.H5Pset_mdc_image_config(fapl.id, ctypes.byref(cfg)) < 0:
        raise RuntimeError("H5Pset_mdc_image_config failed")
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fapl=fapl)
    with h5py.File(fid) as f:
        g = f.create_group("grp")
        g.attrs["a"] = np.int32(1)
        g.create_dataset("d", data=np.arange(20, dtype="<i4"), chunks=(5,))


def earliest_dataset(path, fillvalue):
    with h5py.File(path, "w", libver="earliest") as f:
        f.create_dataset("d", data=np.arange(6, dtype="<i4"), fillvalue=fillvalue)
        return f["d"].id.get_offset() is not None


def patch_fill(path, keep_old):
    """Turn the fill value messages of /d into NIL messages; with `keep_old` (an int or None)
    rewrite the first of them as an old fill message (0x04) of that int32 value (or size 0
    when the value is 0)."""
    with h5py.File(path, "r") as f:
        addr = h5py.h5o.get_info(f["d"].id).addr
    buf = bytearray(open(path, "rb").read())
    base, ver, o, l = h5msg.superblock(buf)
    msgs = [m for m in h5msg.messages(bytes(buf), addr, base, o, l) if m[0] in (FILL_NEW, FILL_OLD)]
    assert msgs, "no fill value message found"
    for i, (mtype, _flags, data, size) in enumerate(msgs):
        header = data - 8  # v1 object header message: type(2) size(2) flags(1) reserved(3)
        assert struct.unpack_from("<H", buf, header)[0] == mtype
        if i == 0 and keep_old is not None:
            struct.pack_into("<H", buf, header, FILL_OLD)
            body = struct.pack("<I", 0) if keep_old == 0 else struct.pack("<Ii", 4, keep_old)
            assert len(body) <= size
            buf[data:data + size] = body + bytes(size - len(body))
        else:
            struct.pack_into("<H", buf, header, NIL)
    with open(path, "wb") as fh:
        fh.write(bytes(buf))


def describe(path):
    with h5py.File(path, "r") as f:
        out = {}
        d = f.get("d")
        if d is not None:
            dcpl = d.id.get_create_plist()
            out["fillvalue_defined"] = {0: "undefined", 1: "default", 2: "user"}[dcpl.fill_value_defined()]
            out["fillvalue"] = int(d.fillvalue) if out["fillvalue_defined"] == "user" else None
            out["values"] = d[()].tolist()
        return out


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {}
    p = os.path.join(OUT, "cache_image.h5")
    cache_image(p)
    with h5py.File(p, "r") as f:
        names = []
        f.visit(names.append)
        cases["cache_image.h5"] = {"objects": sorted(names), "grp_attr_a": int(f["grp"].attrs["a"])}
    for name, fill, keep_old in [("no_fill_message.h5", 7, None), ("old_fill_message.h5", 7, 42),
                                 ("old_fill_message_empty.h5", 7, 0)]:
        p = os.path.join(OUT, name)
        earliest_dataset(p, fill)
        patch_fill(p, keep_old)
        cases[name] = describe(p)
    for name, c in cases.items():
        c["bytes"] = os.path.getsize(os.path.join(OUT, name))
    cases["_made_with"] = {"h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version}
    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(cases, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print(json.dumps(cases, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
