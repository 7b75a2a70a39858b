//! Integration tests: the language case by case, the Step Functions corpus, properties,
//! and (on demand) jsonata's own test suite.

mod common;
mod corpus;
mod language;
mod properties;
mod suite;
