//! The constructs the stack is made of. Each owns the resources it needs (a function owns its
//! role and log group), exposes references to them, and grants access to them.

mod alarm;
mod function;
mod key;
mod log_group;
mod queue;
mod state_machine;
mod table;
mod topic;

pub use alarm::{Alarm, AlarmBuilder, Metric, Watch};
pub use function::{RustFunction, RustFunctionBuilder};
pub use key::{KeyUse, KmsKey};
pub use queue::UnfinishedExecutionsQueue;
pub use state_machine::{Binding, LogLevel, StateMachine, StateMachineBuilder, Substitution};
pub use table::{Table, TableBuilder};
pub use topic::{Topic, TopicBuilder};

use crate::InfraError;
use crate::expr::Expr;

/// `value`, or the error for a required builder setting left out.
fn required(
    construct: &str,
    setting: &'static str,
    value: Option<Expr>,
) -> Result<Expr, InfraError> {
    value.ok_or_else(|| InfraError::InvalidSetting {
        construct: construct.to_owned(),
        setting,
        value: "missing".to_owned(),
        expected: "it is required",
    })
}
