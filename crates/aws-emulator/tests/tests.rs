//! Integration tests of the public API: one binary, one module per area.

mod common;

mod dynamodb;
mod executions;
mod ledger;
mod open;
mod properties;
mod sns;
