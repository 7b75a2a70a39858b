//! The shared `moto_server` harness lives in the library, so the CLI's tests use it too.

pub use orderflow_aws::testing::Moto;
