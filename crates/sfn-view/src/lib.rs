//! What the Step Functions console shows of a state machine and its executions: the graph
//! of a loaded definition with an execution's path coloured ([`graph`]), and the table of
//! steps read from the typed history ([`table`]).
//!
//! ```
//! use sfn_local::{ExecuteOptions, StateMachine};
//! use sfn_view::{graph, table};
//!
//! let machine = StateMachine::from_json(
//!     r#"{"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": true}}}"#,
//! )?;
//! let run = futures::executor::block_on(machine.execute(serde_json::json!({}), &ExecuteOptions::new()));
//! let mermaid = graph::render(&machine, Some(&graph::path_from_history(&run.history)), graph::Format::Mermaid);
//! assert!(mermaid.starts_with("flowchart TD"));
//! let rows = table::rows(&run.history, Some(&machine));
//! assert_eq!(rows[0].name, "Hello");
//! assert!(table::table(&rows, false).contains("succeeded"));
//! # Ok::<(), sfn_local::Error>(())
//! ```
#![warn(missing_docs)]

pub mod graph;
pub mod table;
