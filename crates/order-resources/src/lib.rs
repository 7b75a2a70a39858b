//! The order workflow's resource contract, declared once: the functions, table, topic and
//! nested state machine that the definitions under `statemachine/` name through `${...}`
//! placeholders, and which definition names which. The stack substitutes deployed resources
//! for them, a local run substitutes its own values, and tests check the definitions, the
//! stack and the local run against this list.
//!
//! ```
//! use order_resources::{Definition, Function, Resource};
//!
//! let charge = Function::ChargePayment;
//! assert_eq!(charge.name(), "charge-payment");
//! assert_eq!(Resource::Function(charge).placeholder(), "ChargePaymentFunctionArn");
//!
//! let entry: Vec<&str> = Definition::Order.resources().iter().map(|r| r.placeholder()).collect();
//! assert_eq!(
//!     entry,
//!     ["OrderProcessingStateMachineArn", "OrdersTableName", "OrderNotificationsTopicArn"]
//! );
//! assert_eq!(Definition::Order.path(), "statemachine/order.asl.json");
//! ```
#![warn(missing_docs)]

/// The Lambda functions of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    /// `verify-payment`: validates an order and verifies its payment.
    VerifyPayment,
    /// `check-stock`: looks up the stock of an order's items.
    CheckStock,
    /// `charge-payment`: charges an order at most once.
    ChargePayment,
}

impl Function {
    /// Every function.
    pub const ALL: [Function; 3] = [
        Function::VerifyPayment,
        Function::CheckStock,
        Function::ChargePayment,
    ];

    /// The function's name: its binary (`crates/<name>`), its `cargo lambda` name, the last
    /// part of its local ARN.
    pub const fn name(self) -> &'static str {
        match self {
            Function::VerifyPayment => "verify-payment",
            Function::CheckStock => "check-stock",
            Function::ChargePayment => "charge-payment",
        }
    }
}

/// A resource the definitions name through a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// One of the functions, substituted by its ARN.
    Function(Function),
    /// The table of order records, substituted by its name.
    OrdersTable,
    /// The topic order notifications are published to, substituted by its ARN.
    OrderNotificationsTopic,
    /// The order-processing state machine, which the entry runs as a nested execution,
    /// substituted by its ARN.
    OrderProcessingStateMachine,
}

impl Resource {
    /// Every resource.
    pub const ALL: [Resource; 6] = [
        Resource::Function(Function::VerifyPayment),
        Resource::Function(Function::CheckStock),
        Resource::Function(Function::ChargePayment),
        Resource::OrdersTable,
        Resource::OrderNotificationsTopic,
        Resource::OrderProcessingStateMachine,
    ];

    /// The name inside `${...}` that stands for the resource in a definition.
    pub const fn placeholder(self) -> &'static str {
        match self {
            Resource::Function(Function::VerifyPayment) => "VerifyPaymentFunctionArn",
            Resource::Function(Function::CheckStock) => "CheckStockFunctionArn",
            Resource::Function(Function::ChargePayment) => "ChargePaymentFunctionArn",
            Resource::OrdersTable => "OrdersTableName",
            Resource::OrderNotificationsTopic => "OrderNotificationsTopicArn",
            Resource::OrderProcessingStateMachine => "OrderProcessingStateMachineArn",
        }
    }

    /// The resource's logical id in the deployed stack.
    pub const fn logical_id(self) -> &'static str {
        match self {
            Resource::Function(Function::VerifyPayment) => "VerifyPaymentFunction",
            Resource::Function(Function::CheckStock) => "CheckStockFunction",
            Resource::Function(Function::ChargePayment) => "ChargePaymentFunction",
            Resource::OrdersTable => "OrdersTable",
            Resource::OrderNotificationsTopic => "OrderNotificationsTopic",
            Resource::OrderProcessingStateMachine => Definition::OrderProcessing.logical_id(),
        }
    }
}

/// The orders table's partition key, which every item and key the definitions send it
/// carries.
pub const ORDERS_TABLE_KEY: &str = "OrderId";

/// The state machine definitions under `statemachine/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Definition {
    /// Order processing: verifies, checks stock, charges, records and notifies.
    OrderProcessing,
    /// The entry: one Standard execution per order, running order processing to completion
    /// and recording an order it could not complete.
    Order,
}

impl Definition {
    /// Every definition.
    pub const ALL: [Definition; 2] = [Definition::OrderProcessing, Definition::Order];

    /// The file, relative to the repository root.
    pub const fn path(self) -> &'static str {
        match self {
            Definition::OrderProcessing => "statemachine/order-processing.asl.json",
            Definition::Order => "statemachine/order.asl.json",
        }
    }

    /// The logical id of the state machine that runs it in the deployed stack.
    pub const fn logical_id(self) -> &'static str {
        match self {
            Definition::OrderProcessing => "OrderProcessingStateMachine",
            Definition::Order => "OrderStateMachine",
        }
    }

    /// The resources it names, each through its placeholder.
    pub const fn resources(self) -> &'static [Resource] {
        match self {
            Definition::OrderProcessing => &[
                Resource::Function(Function::VerifyPayment),
                Resource::Function(Function::CheckStock),
                Resource::Function(Function::ChargePayment),
                Resource::OrdersTable,
                Resource::OrderNotificationsTopic,
            ],
            Definition::Order => &[
                Resource::OrderProcessingStateMachine,
                Resource::OrdersTable,
                Resource::OrderNotificationsTopic,
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct() {
        let mut placeholders: Vec<&str> = Resource::ALL.iter().map(|r| r.placeholder()).collect();
        let mut ids: Vec<&str> = Resource::ALL.iter().map(|r| r.logical_id()).collect();
        let mut functions: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
        for names in [&mut placeholders, &mut ids, &mut functions] {
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), count, "{names:?}");
        }
    }

    #[test]
    fn every_resource_is_named_by_a_definition_and_lists_are_complete() {
        for resource in Resource::ALL {
            assert!(
                Definition::ALL
                    .iter()
                    .any(|d| d.resources().contains(&resource)),
                "{resource:?} is named by no definition"
            );
        }
        for function in Function::ALL {
            assert!(Resource::ALL.contains(&Resource::Function(function)));
        }
    }
}
