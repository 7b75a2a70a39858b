//! The orderflow stack: three Rust functions, the orders and charge-ledger tables, the
//! notification topic, the order-processing state machine and the Standard entry that runs
//! it as nested executions.

use crate::InfraError;
use crate::constructs::{RustFunctionBuilder, StateMachineBuilder, TableBuilder, TopicBuilder};
use crate::definition::Definition;
use crate::expr::Expr;
use crate::stack::{ParameterBuilder, ParameterType, Stack};

/// The state machine definition, relative to the repository root.
pub const DEFINITION_PATH: &str = "statemachine/order-processing.asl.json";

/// The Standard entry's definition, relative to the repository root.
pub const ENTRY_DEFINITION_PATH: &str = "statemachine/order.asl.json";

/// The template, relative to the repository root.
pub const TEMPLATE_PATH: &str = "infra/template.yaml";

/// The repository root as seen from the template's folder (`infra/`).
const ASSET_ROOT: &str = "../";

/// Retention periods CloudWatch Logs accepts, in days.
const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Builds the stack around `definition` (normally [`DEFINITION_PATH`]) and the entry that
/// runs it, `entry` (normally [`ENTRY_DEFINITION_PATH`]).
pub fn stack(definition: Definition, entry: Definition) -> Result<Stack, InfraError> {
    let mut stack = Stack::new(
        "orderflow: order processing on AWS Step Functions with Rust Lambda functions",
        ASSET_ROOT,
    );
    let workflow_type = stack.parameter(
        ParameterBuilder::new("WorkflowType", ParameterType::String)
            .description(
                "How order processing runs. EXPRESS (default): at-least-once, which its \
                 idempotent steps make safe, billed per request and duration, history in the \
                 log group; each order still gets one exactly-once Standard execution through \
                 the entry state machine. STANDARD: every step billed as a state transition, \
                 with its history in the console for 90 days",
            )
            .allowed(["EXPRESS", "STANDARD"])
            .default("EXPRESS")
            .build()?,
    )?;
    let deletion_protection = stack.parameter(
        ParameterBuilder::new("DeletionProtection", ParameterType::String)
            .description(
                "Whether the orders and charge-ledger tables refuse deletion; set to false \
                 before deleting the stack",
            )
            .allowed(["true", "false"])
            .default("true")
            .build()?,
    )?;
    let log_retention = stack.parameter(
        ParameterBuilder::new("LogRetentionInDays", ParameterType::Number)
            .description("How long the functions' and the state machine's logs are kept")
            .allowed(RETENTION_DAYS)
            .default(365)
            .build()?,
    )?;

    let orders = TableBuilder::new("OrdersTable", "OrderId")
        .deletion_protection(deletion_protection.clone())
        .build()?;
    // Charges by order id, so a retried charge returns the first result instead of charging
    // again.
    let ledger = TableBuilder::new("ChargeLedgerTable", "OrderId")
        .deletion_protection(deletion_protection)
        .build()?;
    let notifications = TopicBuilder::new("OrderNotificationsTopic")
        .display_name("orderflow")
        .build()?;

    let function = |id: &str, binary: &str, description: &str| {
        RustFunctionBuilder::new(id, binary)
            .description(description)
            .memory_mb(128)
            .timeout_secs(10)
            .log_retention_days(log_retention.clone())
    };
    let verify_payment = function(
        "VerifyPaymentFunction",
        "verify-payment",
        "Validates an order and verifies its card; returns a payment token and the last four digits",
    )
    .build()?;
    let check_stock = function(
        "CheckStockFunction",
        "check-stock",
        "Looks up the quantity in stock of each item of an order",
    )
    .build()?;
    let mut charge_payment = function(
        "ChargePaymentFunction",
        "charge-payment",
        "Charges an order's payment token at most once per order id",
    )
    .environment("LEDGER_TABLE_NAME", ledger.name())
    .build()?;
    ledger.grant_get_item(&mut charge_payment);
    ledger.grant_put_item(&mut charge_payment);

    let mut machine = StateMachineBuilder::new("OrderProcessingStateMachine", definition)
        .workflow_type(workflow_type)
        .log_retention_days(log_retention.clone())
        .substitute(&verify_payment)
        .substitute(&check_stock)
        .substitute(&charge_payment)
        .substitute(&orders)
        .substitute(&notifications)
        .build()?;
    verify_payment.grant_invoke(&mut machine);
    check_stock.grant_invoke(&mut machine);
    charge_payment.grant_invoke(&mut machine);
    orders.grant_put_item(&mut machine);
    notifications.grant_publish(&mut machine);

    // The entry: one Standard execution per order (its name is the order's), which runs
    // processing to completion as a nested execution.
    let mut entry = StateMachineBuilder::new("OrderStateMachine", entry)
        .workflow_type(Expr::literal("STANDARD"))
        .log_retention_days(log_retention.clone())
        .substitute(&machine)
        .build()?;
    machine.grant_start_execution_sync(&mut entry);

    let outputs = [
        (
            "StateMachineArn",
            "The entry state machine: start one execution per order, named after it",
            entry.arn(),
        ),
        (
            "ProcessingStateMachineArn",
            "The order-processing state machine the entry runs (it can also be started directly)",
            machine.arn(),
        ),
        (
            "StartExecutionCommand",
            "Starts an execution with the sample order (run from the repository root)",
            Expr::concat([
                "aws stepfunctions start-execution --state-machine-arn ".into(),
                entry.arn(),
                " --input file://events/order.json".into(),
            ]),
        ),
        (
            "StateMachineConsoleUrl",
            "The state machine in the Step Functions console (Start execution is there)",
            Expr::concat([
                "https://".into(),
                Expr::region(),
                ".console.aws.amazon.com/states/home?region=".into(),
                Expr::region(),
                "#/statemachines/view/".into(),
                entry.arn(),
            ]),
        ),
        (
            "OrdersTableName",
            "The table of order records",
            orders.name(),
        ),
        (
            "ChargeLedgerTableName",
            "The table of charges by order id",
            ledger.name(),
        ),
        (
            "OrderNotificationsTopicArn",
            "Subscribe here to receive order notifications",
            notifications.arn(),
        ),
        (
            "VerifyPaymentFunctionName",
            "For `cargo lambda deploy` and `aws lambda invoke`",
            verify_payment.name(),
        ),
        (
            "CheckStockFunctionName",
            "For `cargo lambda deploy` and `aws lambda invoke`",
            check_stock.name(),
        ),
        (
            "ChargePaymentFunctionName",
            "For `cargo lambda deploy` and `aws lambda invoke`",
            charge_payment.name(),
        ),
    ];

    stack.add(orders)?;
    stack.add(ledger)?;
    stack.add(notifications)?;
    stack.add(verify_payment)?;
    stack.add(check_stock)?;
    stack.add(charge_payment)?;
    stack.add(machine)?;
    stack.add(entry)?;
    for (name, description, value) in outputs {
        stack.output(name, description, value)?;
    }
    Ok(stack)
}
