//! Integration tests of the order domain: validation and verification tables, properties,
//! and the sample events.

mod common;
mod fixtures;
mod properties;
mod validation;
mod verification;
