//! Integration tests: DynamoDB and SNS against `moto_server` on loopback (run `scripts/setup`
//! first), Lambda against a stand-in for the Invoke API, and the handlers under the engine.

mod common;

mod dynamodb;
mod lambda;
mod sns;
mod workflow;
