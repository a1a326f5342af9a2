//! Header message type numbers.

/// Dataspace.
pub const DATASPACE: u16 = 0x01;
/// Link info (new-style groups).
pub const LINK_INFO: u16 = 0x02;
/// Datatype.
pub const DATATYPE: u16 = 0x03;
/// Fill value, old form.
pub const FILL_VALUE_OLD: u16 = 0x04;
/// Fill value.
pub const FILL_VALUE: u16 = 0x05;
/// Link.
pub const LINK: u16 = 0x06;
/// External data files.
pub const EXTERNAL_FILES: u16 = 0x07;
/// Data layout.
pub const LAYOUT: u16 = 0x08;
/// Group info.
pub const GROUP_INFO: u16 = 0x0A;
/// Filter pipeline.
pub const FILTER_PIPELINE: u16 = 0x0B;
/// Attribute.
pub const ATTRIBUTE: u16 = 0x0C;
/// Symbol table (old-style groups).
pub const SYMBOL_TABLE: u16 = 0x11;
/// Shared message table (superblock extension).
pub const SHARED_MESSAGE_TABLE: u16 = 0x0F;
/// Driver info (superblock extension).
pub const DRIVER_INFO: u16 = 0x14;
/// Attribute info.
pub const ATTRIBUTE_INFO: u16 = 0x15;
/// File space info (superblock extension).
pub const FILE_SPACE_INFO: u16 = 0x17;
/// Metadata cache image (superblock extension).
pub const CACHE_IMAGE: u16 = 0x18;
