//! The orderflow stack: three Rust functions, the orders and charge-ledger tables, the
//! notification topic, the order-processing state machine and the Standard entry that runs
//! it as nested executions; their customer-managed keys, alarms and the queue of orders the
//! entry could not complete.

use crate::InfraError;
use crate::constructs::{
    AlarmBuilder, KmsKey, LogLevel, Metric, RustFunctionBuilder, StateMachineBuilder, TableBuilder,
    TopicBuilder, UnfinishedExecutionsQueue, Watch,
};
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

/// How long after an order a client may still resubmit it (the same orderId) and be answered
/// from the charge ledger rather than charged again.
pub const RESUBMISSION_WINDOW_DAYS: u32 = 30;

/// How long Step Functions lets an execution that did not succeed be redriven, after it ends.
pub const REDRIVE_WINDOW_DAYS: u32 = 14;

/// How long charge-ledger entries are kept before the table's time to live may delete them:
/// past both windows, with a day to spare, so no order can come back to an empty ledger.
pub const LEDGER_RETENTION_DAYS: u32 = REDRIVE_WINDOW_DAYS + RESUBMISSION_WINDOW_DAYS + 1;

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

    let failure_percent = stack.parameter(
        ParameterBuilder::new("FailureAlarmPercent", ParameterType::Number)
            .description(
                "The share of failed executions or function invocations, in percent over five \
                 minutes, at which an alarm fires. A rejected order fails its executions and a \
                 declined charge its function, so some failures are normal",
            )
            .default(20)
            .build()?,
    )?;

    // Order data: the state machines' definitions and execution data (the card number of an
    // untokenized order among them), the two tables, the notifications. Operations data: the
    // log groups, the alarm topic, the queue of unfinished orders.
    let data_key = KmsKey::new(
        "OrderDataKey",
        "orderflow order data: execution data of both state machines, the orders and \
         charge-ledger tables, the order notifications",
        "order-data",
    )?;
    let operations_key = KmsKey::new(
        "OperationsKey",
        "orderflow operations data: log groups, alarms, the queue of unfinished orders",
        "operations",
    )?;

    let orders = TableBuilder::new("OrdersTable", "OrderId")
        .deletion_protection(deletion_protection.clone())
        .encrypted_with(&data_key)
        .build()?;
    // Charges by order id, so a retried charge returns the first result instead of charging
    // again. Entries expire LEDGER_RETENTION_DAYS after the charge, longer than an order can
    // come back: a redrive within 14 days of its execution's end, a resubmission within
    // RESUBMISSION_WINDOW_DAYS of the order.
    let ledger = TableBuilder::new("ChargeLedgerTable", "OrderId")
        .deletion_protection(deletion_protection)
        .encrypted_with(&data_key)
        .time_to_live("ExpiresAt")
        .build()?;
    let notifications = TopicBuilder::new("OrderNotificationsTopic")
        .display_name("orderflow")
        .encrypted_with(&data_key)
        .build()?;
    let alarms = TopicBuilder::new("AlarmTopic")
        .display_name("orderflow alarms")
        .encrypted_with(&operations_key)
        .for_alarms()
        .build()?;

    let function = |id: &str, binary: &str, description: &str| {
        RustFunctionBuilder::new(id, binary)
            .description(description)
            .memory_mb(128)
            .timeout_secs(10)
            .log_retention_days(log_retention.clone())
            .logs_encrypted_with(&operations_key)
    };
    let verify_payment = function(
        "VerifyPaymentFunction",
        "verify-payment",
        "Validates an order and verifies its card or payment token; returns a payment token and the last four digits",
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
    .environment(
        "LEDGER_RETENTION_DAYS",
        Expr::literal(LEDGER_RETENTION_DAYS.to_string()),
    )
    .build()?;
    ledger.grant_get_item(&mut charge_payment);
    ledger.grant_put_item(&mut charge_payment);

    let mut machine = StateMachineBuilder::new("OrderProcessingStateMachine", definition)
        .name("order-processing")
        .workflow_type(workflow_type)
        // Express keeps no history but its logs; at ERROR they hold the failures only (what an
        // alarm leads to), never execution data. ALL would cost about as much as the Express
        // execution itself (`orderflow cost`).
        .log_level(LogLevel::Error)
        .log_retention_days(log_retention.clone())
        .encrypted_with(&data_key)
        .logs_encrypted_with(&operations_key)
        .substitute(&verify_payment)
        .substitute(&check_stock)
        .substitute(&charge_payment)
        .substitute(&orders)
        .substitute(&notifications)
        .build()?;
    verify_payment.grant_invoke(&mut machine);
    check_stock.grant_invoke(&mut machine);
    charge_payment.grant_invoke(&mut machine);
    orders.grant_get_item(&mut machine);
    orders.grant_put_item(&mut machine);
    orders.grant_update_item(&mut machine);
    notifications.grant_publish(&mut machine);

    // The entry: one Standard execution per order (its name is the order's), which runs
    // processing to completion as a nested execution, and records and notifies an order
    // processing could not complete.
    let mut entry = StateMachineBuilder::new("OrderStateMachine", entry)
        .name("order")
        .workflow_type(Expr::literal("STANDARD"))
        // Step Functions keeps every event of a Standard execution for 90 days already
        // (GetExecutionHistory, the console), so logs add only what alarms and queries over
        // many executions need: the failures.
        .log_level(LogLevel::Error)
        .log_retention_days(log_retention.clone())
        .encrypted_with(&data_key)
        .logs_encrypted_with(&operations_key)
        .substitute(&machine)
        .substitute(&orders)
        .substitute(&notifications)
        .build()?;
    machine.grant_start_execution_sync(&mut entry);
    orders.grant_put_item(&mut entry);
    notifications.grant_publish(&mut entry);

    let unfinished = UnfinishedExecutionsQueue::new(
        "UnfinishedOrdersQueue",
        "unfinished-orders",
        &entry,
        &operations_key,
    )?;

    let mut alarm_list = Vec::new();
    let states = |name, machine: &crate::constructs::StateMachine| {
        Metric::new("AWS/States", name, "StateMachineArn", machine.arn())
    };
    for (id, label, m) in [
        ("EntryExecutionsFailing", "the order entry", &entry),
        ("ProcessingExecutionsFailing", "order processing", &machine),
    ] {
        alarm_list.push(
            AlarmBuilder::new(
                id,
                &format!(
                    "Executions of {label} fail more often than FailureAlarmPercent (rejected \
                     orders fail too)"
                ),
                Watch::Share {
                    failed: states("ExecutionsFailed", m),
                    all: states("ExecutionsStarted", m),
                },
            )
            .percent(failure_percent.clone()),
        );
    }
    for (id, label, m) in [
        ("EntryExecutionsTimedOut", "the order entry", &entry),
        ("ProcessingExecutionsTimedOut", "order processing", &machine),
    ] {
        alarm_list.push(AlarmBuilder::new(
            id,
            &format!("An execution of {label} timed out"),
            Watch::AnyOf(vec![states("ExecutionsTimedOut", m)]),
        ));
    }
    for (prefix, f) in [
        ("VerifyPayment", &verify_payment),
        ("CheckStock", &check_stock),
        ("ChargePayment", &charge_payment),
    ] {
        let lambda = |name| Metric::new("AWS/Lambda", name, "FunctionName", f.name());
        alarm_list.push(
            AlarmBuilder::new(
                &format!("{prefix}Errors"),
                "The function fails more often than FailureAlarmPercent (a declined charge \
                 or an invalid order is an error too)",
                Watch::Share {
                    failed: lambda("Errors"),
                    all: lambda("Invocations"),
                },
            )
            .percent(failure_percent.clone()),
        );
        alarm_list.push(AlarmBuilder::new(
            &format!("{prefix}Throttles"),
            "The function was throttled",
            Watch::AnyOf(vec![lambda("Throttles")]),
        ));
    }
    for (prefix, table) in [("OrdersTable", &orders), ("ChargeLedgerTable", &ledger)] {
        let dynamodb = |name| Metric::new("AWS/DynamoDB", name, "TableName", table.name());
        alarm_list.push(AlarmBuilder::new(
            &format!("{prefix}Throttles"),
            "Requests to the table were throttled",
            Watch::AnyOf(vec![
                dynamodb("ReadThrottleEvents"),
                dynamodb("WriteThrottleEvents"),
            ]),
        ));
    }
    alarm_list.push(AlarmBuilder::new(
        "NotificationsFailed",
        "Order notifications could not be delivered to a subscriber",
        Watch::AnyOf(vec![Metric::new(
            "AWS/SNS",
            "NumberOfNotificationsFailed",
            "TopicName",
            notifications.name(),
        )]),
    ));
    let alarm_list = alarm_list
        .into_iter()
        .map(|a| a.notify(alarms.arn()).build())
        .collect::<Result<Vec<_>, _>>()?;

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
        (
            "AlarmTopicArn",
            "Subscribe here to receive the alarms",
            alarms.arn(),
        ),
        (
            "UnfinishedOrdersQueueUrl",
            "Entry executions that did not succeed (rejections too), for a redrive or a resubmission",
            unfinished.url(),
        ),
    ];

    stack.add(orders)?;
    stack.add(ledger)?;
    stack.add(notifications)?;
    stack.add(alarms)?;
    stack.add(verify_payment)?;
    stack.add(check_stock)?;
    stack.add(charge_payment)?;
    stack.add(machine)?;
    stack.add(entry)?;
    stack.add(unfinished)?;
    for alarm in alarm_list {
        stack.add(alarm)?;
    }
    // Last: their policies are written from every use the constructs above made of them.
    stack.add(data_key)?;
    stack.add(operations_key)?;
    stack.check()?;
    for (name, description, value) in outputs {
        stack.output(name, description, value)?;
    }
    Ok(stack)
}
