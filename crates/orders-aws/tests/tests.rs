//! `DynamoDbLedger` against moto's DynamoDB (`scripts/setup` installs `moto_server`).

mod common;
mod ledger;
