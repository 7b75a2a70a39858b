//! Integration tests: one binary, one module per concern.

mod common;
mod conformance;
mod fuzz;
mod limits;
mod properties;
mod workflow;
