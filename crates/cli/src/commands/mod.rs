//! The subcommands.

pub mod combine;
pub mod index;
pub mod inspect;
pub mod latest;
