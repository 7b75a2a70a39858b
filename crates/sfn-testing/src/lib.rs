//! Tests any state machine with mocked service responses, in Step Functions Local's mock
//! configuration format.
//!
//! A test file names a definition, the mock configuration and, per test case, the input
//! and what the execution must do: its status, its output (exact or a subset), its error
//! and cause, the states it enters (in order, or some that must or must not be entered).
//! [`run`] runs the cases of any number of files in parallel, each in virtual time with its
//! own mock counters; [`Coverage`] reports the states and the Choice, Retry and Catch rules
//! no case exercised; [`junit`] writes the results for a CI system.
//!
//! ```
//! use serde_json::json;
//! use sfn_testing::{MockConfig, TestFile, run};
//!
//! let file = TestFile::from_value(json!({
//!     "definition": {"StartAt": "Charge", "States": {
//!         "Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
//!                    "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 60}],
//!                    "OutputPath": "$.Payload", "End": true}}},
//!     "mockConfig": {
//!         "StateMachines": {"Pay": {"TestCases": {"BusyOnce": {"Charge": "BusyThenPaid"}}}},
//!         "MockedResponses": {"BusyThenPaid": {
//!             "0": {"Throw": {"Error": "Busy", "Cause": "try later"}},
//!             "1": {"Return": {"StatusCode": 200, "Payload": {"paid": true}}}}}},
//!     "testCases": {"BusyOnce": {"input": {}, "expect": {
//!         "status": "SUCCEEDED", "output": {"paid": true}, "path": ["Charge"]}}}
//! }), "pay.test.json".as_ref())?;
//! let results = run(&[file], 1);
//! assert!(results[0].passed(), "{:?}", results[0].failures);
//! # Ok::<(), sfn_testing::TestFileError>(())
//! ```
#![warn(missing_docs)]

mod coverage;
mod error;
pub mod junit;
mod mock;
mod run;
mod suite;

pub use coverage::{Coverage, Gap, Tally};
pub use error::{MockError, TestFileError};
pub use mock::{Answer, MockConfig, MockedCase, MockedResponse};
pub use run::{CaseResult, run};
pub use suite::{Expect, ExpectedStatus, TestCase, TestFile};
