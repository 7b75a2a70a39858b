//! `DynamoDbLedger` against moto's DynamoDB (`scripts/setup` installs `moto_server`), and its
//! error mapping against a loopback stand-in that fails on purpose.

mod common;
mod errors;
mod ledger;
