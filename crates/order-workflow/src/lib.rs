//! The order workflow's composition root: the project's state machine definitions on the
//! `sfn-local` engine, with the three functions in process and DynamoDB/SNS in the embedded
//! store (or the real APIs through `sfn-aws`), nested executions, injected faults, card
//! numbers masked before anything is stored; plus the load harness and the cost model built
//! on it. The `orderflow` CLI is its user.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use order_workflow::{Time, Workflow};
//!
//! let store = aws_emulator::Store::open(".orderflow")?;
//! let flow = Workflow::builder(store).time(Time::Virtual).build().await?;
//! let order = serde_json::from_str(&std::fs::read_to_string("events/order.json")?)?;
//! let run = flow.run(order, "first-order", 7).await?;
//! assert_eq!(run.order_state.as_deref(), Some("PAYMENT_PROCESSED"));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod cost;
pub mod integrations;
pub mod loadtest;
pub mod redact;
pub mod seed;
pub mod standins;
pub mod workflow;

pub use workflow::{
    DEFINITION, ENTRY_DEFINITION, ENTRY_STATE_MACHINE_NAME, LocalOptions, Run, STATE_MACHINE_NAME,
    TABLE_KEY, TABLE_NAME, TOPIC_NAME, Time, Workflow, WorkflowBuilder,
};
