//! Object header messages, one module per message type.

pub mod attribute;
pub mod dataspace;
pub mod datatype;
pub mod external_files;
pub mod file_space;
pub mod fill_value;
pub mod filter_pipeline;
pub mod kinds;
pub mod layout;
pub mod link;
pub mod link_info;
pub mod shared;
