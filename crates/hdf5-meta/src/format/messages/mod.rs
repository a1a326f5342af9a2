//! Object header messages, one module per message type.

pub mod shared;
