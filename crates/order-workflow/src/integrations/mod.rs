//! The order workflow's Task integrations for the local engine: the functions in process and
//! the AWS services in the embedded store by default (`sfn_environment::store`), or the real APIs at an endpoint.

pub mod faults;
pub mod inject;
pub mod lambda;
pub mod ledger;
