//! Integration tests: one binary, one module per concern.

mod common;
mod conformance;
mod fuzz;
mod jsonata;
mod limits;
mod properties;
mod resume;
mod tasks;
mod test_state;
