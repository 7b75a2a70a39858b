//! The shared `moto_server` harness lives in the library, so the CLI's tests use it too.

pub use sfn_aws::testing::Moto;
