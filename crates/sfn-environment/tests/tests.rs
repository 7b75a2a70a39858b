//! The crate's integration tests, one binary.

mod endpoint;
mod integrations;
