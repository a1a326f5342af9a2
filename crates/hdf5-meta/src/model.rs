//! What a walk produces: the file's objects with everything a reference emitter needs.
//! All byte offsets in the model are absolute file positions (base address applied).

use crate::format::messages::datatype::Datatype;
use crate::format::messages::fill_value::FillValue;
use crate::format::messages::filter_pipeline::Filter;
use crate::format::value::Value;
use crate::walk::IoStats;

/// A walked file.
#[derive(Debug, Clone)]
pub struct Hdf5File {
    /// Location the file was read from.
    pub location: String,
    /// File length in bytes.
    pub size: u64,
    /// Superblock version (0–3).
    pub superblock_version: u8,
    /// Absolute position of the HDF5 data (non-zero with a userblock).
    pub base_address: u64,
    /// File-space page size when the paged strategy is used.
    pub page_size: Option<u64>,
    /// Every object reachable from the root, depth first in name order; each object once,
    /// under its first path (the root group first, path `/`).
    pub objects: Vec<Object>,
    /// Links that are not hard links to objects (soft, external, dangling), by path.
    pub other_links: Vec<(String, LinkInfo)>,
    /// Hard links to an object already listed under another path: (path, first path).
    pub aliases: Vec<(String, String)>,
    /// Non-fatal problems (e.g. an attribute that could not be decoded).
    pub warnings: Vec<String>,
    /// What the walk read.
    pub io: IoStats,
}

impl Hdf5File {
    /// The object at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.path == path)
    }
}

/// A link that does not resolve to an object in this file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkInfo {
    /// Soft link to a path.
    Soft(String),
    /// External link.
    External {
        /// Target file.
        file: String,
        /// Path inside it.
        path: String,
    },
    /// Hard link to an address that is not an object header.
    Dangling(u64),
}

/// One object.
#[derive(Debug, Clone)]
pub struct Object {
    /// Absolute HDF5 path (`/` for the root).
    pub path: String,
    /// Object header address (base-relative, as references store it).
    pub address: u64,
    /// Attributes in header order (dense ones in name order).
    pub attributes: Vec<Attribute>,
    /// What kind of object.
    pub kind: ObjectKind,
}

/// The kind of an object.
#[derive(Debug, Clone)]
pub enum ObjectKind {
    /// A group; member names are in link order.
    Group {
        /// Names of the group's links.
        members: Vec<String>,
    },
    /// A dataset.
    Dataset(Box<Dataset>),
    /// A committed (named) datatype.
    Datatype(Datatype),
}

/// A dataset's description and storage.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Element type.
    pub datatype: Datatype,
    /// Current shape; `None` for a null dataspace; empty for a scalar.
    pub shape: Option<Vec<u64>>,
    /// Maximum shape (`None` entries are unlimited); `None` when not stored.
    pub max_shape: Option<Vec<Option<u64>>>,
    /// Filter pipeline, in application (write) order.
    pub filters: Vec<Filter>,
    /// Fill value.
    pub fill_value: FillValue,
    /// Where the data is.
    pub storage: Storage,
}

/// Storage of a dataset's raw data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Data stored in the object header.
    Compact(Vec<u8>),
    /// One contiguous range; `None` when never allocated.
    Contiguous(Option<ByteRange>),
    /// Chunked storage.
    Chunked {
        /// Chunk shape (element counts).
        chunk_shape: Vec<u64>,
        /// True when edge chunks are stored unfiltered (DONT_FILTER_PARTIAL_BOUND_CHUNKS).
        unfiltered_edges: bool,
        /// Allocated chunks in C order of their grid index.
        chunks: Vec<ChunkRef>,
    },
    /// Data in external raw files: (file name, offset in that file, size).
    External(Vec<(String, u64, u64)>),
    /// A virtual dataset (not representable as references).
    Virtual,
}

/// An absolute byte range in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// Absolute offset.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
}

/// One stored chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRef {
    /// Chunk grid index (element offset divided by the chunk shape).
    pub grid: Vec<u64>,
    /// Absolute offset of the stored bytes.
    pub offset: u64,
    /// Stored (possibly filtered) size in bytes.
    pub size: u64,
    /// Filter mask: bit i set means filter i was not applied.
    pub filter_mask: u32,
}

/// An attribute with its decoded value.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Name.
    pub name: String,
    /// Element type.
    pub datatype: Datatype,
    /// Shape; `None` for a null dataspace (an empty attribute); empty for a scalar.
    pub shape: Option<Vec<u64>>,
    /// Decoded value: a scalar for scalar dataspaces, else an array in C order.
    /// Variable-length data is resolved; object references become [`Value::Path`]-like values
    /// as decided by the walker.
    pub value: Value,
}
