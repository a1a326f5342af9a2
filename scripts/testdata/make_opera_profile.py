#!/usr/bin/env python
"""Small HDF5 files for the OPERA DISP profile tests (crates/kerchunk-refs/tests/opera_profile.rs).

    "$(scripts/pyenv)" scripts/testdata/make_opera_profile.py

Written with h5py 3.16.0 (HDF5 2.0.0). Each file has only the /identification fields the
profile reads, stored in the ways a product could store them:
  - opera_id_vlen.h5: reference_datetime as a variable-length UTF-8 string (global heap),
    secondary_datetime as a fixed-length NULLPAD |S26 in compact layout;
  - opera_id_missing.h5: reference_datetime only (secondary_datetime absent);
  - opera_id_bad.h5: both present, secondary_datetime is not a datetime.
"""
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "crates", "kerchunk-refs", "tests", "data")


def main():
    os.makedirs(OUT, exist_ok=True)
    with h5py.File(os.path.join(OUT, "opera_id_vlen.h5"), "w") as f:
        g = f.create_group("identification")
        g.create_dataset("reference_datetime", data="2016-07-05 14:07:55.000000",
                         dtype=h5py.string_dtype("utf-8"))
        space = h5py.h5s.create(h5py.h5s.SCALAR)
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        tid = h5py.h5t.C_S1.copy()
        tid.set_size(26)
        tid.set_strpad(h5py.h5t.STR_NULLPAD)
        ds = h5py.h5d.create(g.id, b"secondary_datetime", tid, space, dcpl=dcpl)
        ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(b"2016-07-29 14:07:56.000000", dtype="S26"))
    with h5py.File(os.path.join(OUT, "opera_id_missing.h5"), "w") as f:
        g = f.create_group("identification")
        g["reference_datetime"] = np.bytes_("2016-07-05 14:07:55.000000")
    with h5py.File(os.path.join(OUT, "opera_id_bad.h5"), "w") as f:
        g = f.create_group("identification")
        g["reference_datetime"] = np.bytes_("2016-07-05 14:07:55.000000")
        g["secondary_datetime"] = np.bytes_("yesterday")
    for name in ("opera_id_vlen.h5", "opera_id_missing.h5", "opera_id_bad.h5"):
        with h5py.File(os.path.join(OUT, name), "r") as f:
            for k in ("reference_datetime", "secondary_datetime"):
                if k in f["identification"]:
                    d = f["identification"][k]
                    print(name, k, d.dtype, d.id.get_create_plist().get_layout(), d[()])


if __name__ == "__main__":
    main()
