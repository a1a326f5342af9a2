"""Make the benchmark's million-chunk file: one 1000 x 1000 uint8 dataset in 1 x 1 chunks
(1,000,000 chunks, every one written), default file format, so the chunk index is a v1 B-tree
(what netCDF-4 files use). h5py (see requirements.txt).

    python make_million.py OUT.h5
"""
import sys

import h5py
import numpy as np


def main(out):
    n = 1000
    with h5py.File(out, "w") as f:
        d = f.create_dataset("x", shape=(n, n), dtype="u1", chunks=(1, 1))
        d[...] = (np.arange(n * n) % 251).astype("u1").reshape(n, n)
        d.attrs["description"] = "1,000,000 chunks of one byte"
    with h5py.File(out, "r") as f:
        print(f"{out}: {f['x'].id.get_num_chunks()} chunks, h5py {h5py.__version__}, "
              f"HDF5 {h5py.version.hdf5_version}")


if __name__ == "__main__":
    main(sys.argv[1])
