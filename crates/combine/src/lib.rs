//! Combining kerchunk reference sets along a concat dimension.
