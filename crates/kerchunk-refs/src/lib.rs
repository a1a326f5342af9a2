//! Kerchunk reference sets: the reference model, zarr v2 metadata, readers and writers.
