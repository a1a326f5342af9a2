//! Object header messages, one module per message type.

pub mod kinds;
pub mod link;
pub mod link_info;
