//! Object header messages, one module per message type.
