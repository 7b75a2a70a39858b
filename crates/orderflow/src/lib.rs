//! The order workflow run locally: the project's state machine definition on the
//! `sfn-local` engine, with the three functions in process and DynamoDB/SNS in the embedded
//! store (or the real APIs through `sfn-aws`), plus what the `orderflow` CLI shows of
//! an execution: its table view, its graph.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use orderflow::workflow::{DEFINITION, Time, Workflow};
//!
//! let store = aws_emulator::Store::open(".orderflow")?;
//! let flow = Workflow::local(store, DEFINITION, Time::Virtual)?;
//! let order = serde_json::from_str(&std::fs::read_to_string("events/order.json")?)?;
//! let run = flow.run(order, "first-order", 7).await?;
//! assert_eq!(run.order_state.as_deref(), Some("PAYMENT_PROCESSED"));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod integrations;
pub mod load;
pub mod redact;
pub mod standins;
pub mod workflow;
