//! The orderflow stack: three Rust functions, the orders and charge-ledger tables, the
//! notification topic, the order-processing state machine and the Standard entry that runs
//! it as nested executions; their customer-managed keys, alarms and the queue of orders the
//! entry could not complete.

use order_resources::{self as contract, Function, Resource};

use crate::InfraError;
use crate::constructs::{
    Alarm, AlarmBuilder, KmsKey, LogLevel, Metric, RustFunction, RustFunctionBuilder, StateMachine,
    StateMachineBuilder, Substitution, Table, TableBuilder, Topic, TopicBuilder,
    UnfinishedExecutionsQueue, Watch,
};
use crate::definition::Definition;
use crate::expr::Expr;
use crate::stack::{ParameterBuilder, ParameterType, Stack};

/// The state machine definition, relative to the repository root.
pub const DEFINITION_PATH: &str = contract::Definition::OrderProcessing.path();

/// The Standard entry's definition, relative to the repository root.
pub const ENTRY_DEFINITION_PATH: &str = contract::Definition::Order.path();

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
    let settings = Settings::declare(&mut stack)?;
    let keys = Keys::new()?;
    let data = Data::new(&settings, &keys)?;
    let functions = Functions::new(&settings, &keys, &data.ledger)?;
    let machines = StateMachines::new(definition, entry, &settings, &keys, &data, &functions)?;
    let unfinished = UnfinishedExecutionsQueue::new(
        "UnfinishedOrdersQueue",
        "unfinished-orders",
        &machines.entry,
        &keys.operations,
    )?;
    let alarms = alarms(&settings, &data, &functions, &machines)?;
    let outputs = outputs(&data, &functions, &machines, &unfinished);

    stack.add(data.orders)?;
    stack.add(data.ledger)?;
    stack.add(data.notifications)?;
    stack.add(data.alarms)?;
    for function in functions.into_all() {
        stack.add(function)?;
    }
    stack.add(machines.processing)?;
    stack.add(machines.entry)?;
    stack.add(unfinished)?;
    for alarm in alarms {
        stack.add(alarm)?;
    }
    // Last: their policies are written from every use the constructs above made of them.
    stack.add(keys.data)?;
    stack.add(keys.operations)?;
    stack.check()?;
    for (name, description, value) in outputs {
        stack.output(name, description, value)?;
    }
    Ok(stack)
}

/// The stack's parameters.
struct Settings {
    workflow_type: Expr,
    deletion_protection: Expr,
    log_retention: Expr,
    failure_percent: Expr,
}

impl Settings {
    fn declare(stack: &mut Stack) -> Result<Settings, InfraError> {
        let workflow_type = stack.parameter(
            ParameterBuilder::new("WorkflowType", ParameterType::String)
                .description(
                    "How order processing runs. EXPRESS (default): at-least-once, which its \
                     idempotent steps make safe, billed per request and duration, history in \
                     the log group; each order still gets one exactly-once Standard execution \
                     through the entry state machine. STANDARD: every step billed as a state \
                     transition, with its history in the console for 90 days",
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
                    "The share of failed executions or function invocations, in percent over \
                     five minutes, at which an alarm fires. A rejected order fails its \
                     executions and a declined charge its function, so some failures are normal",
                )
                .default(20)
                .build()?,
        )?;
        Ok(Settings {
            workflow_type,
            deletion_protection,
            log_retention,
            failure_percent,
        })
    }
}

/// The customer-managed keys. Order data: the state machines' definitions and execution data
/// (the card number of an untokenized order among them), the two tables, the notifications.
/// Operations data: the log groups, the alarm topic, the queue of unfinished orders.
struct Keys {
    data: KmsKey,
    operations: KmsKey,
}

impl Keys {
    fn new() -> Result<Keys, InfraError> {
        Ok(Keys {
            data: KmsKey::new(
                "OrderDataKey",
                "orderflow order data: execution data of both state machines, the orders and \
                 charge-ledger tables, the order notifications",
                "order-data",
            )?,
            operations: KmsKey::new(
                "OperationsKey",
                "orderflow operations data: log groups, alarms, the queue of unfinished orders",
                "operations",
            )?,
        })
    }
}

/// The tables and topics.
struct Data {
    orders: Table,
    ledger: Table,
    notifications: Topic,
    alarms: Topic,
}

impl Data {
    fn new(settings: &Settings, keys: &Keys) -> Result<Data, InfraError> {
        let orders = TableBuilder::new(
            Resource::OrdersTable.logical_id(),
            contract::ORDERS_TABLE_KEY,
        )
        .deletion_protection(settings.deletion_protection.clone())
        .encrypted_with(&keys.data)
        .build()?;
        // Charges by order id, so a retried charge returns the first result instead of
        // charging again. Entries expire LEDGER_RETENTION_DAYS after the charge, longer than an
        // order can come back: a redrive within 14 days of its execution's end, a resubmission
        // within RESUBMISSION_WINDOW_DAYS of the order.
        let ledger = TableBuilder::new("ChargeLedgerTable", "OrderId")
            .deletion_protection(settings.deletion_protection.clone())
            .encrypted_with(&keys.data)
            .time_to_live("ExpiresAt")
            .build()?;
        let notifications = TopicBuilder::new(Resource::OrderNotificationsTopic.logical_id())
            .display_name("orderflow")
            .encrypted_with(&keys.data)
            .build()?;
        let alarms = TopicBuilder::new("AlarmTopic")
            .display_name("orderflow alarms")
            .encrypted_with(&keys.operations)
            .for_alarms()
            .build()?;
        Ok(Data {
            orders,
            ledger,
            notifications,
            alarms,
        })
    }
}

/// The Lambda functions, one per [`Function`] of the contract.
struct Functions {
    verify_payment: RustFunction,
    check_stock: RustFunction,
    charge_payment: RustFunction,
}

impl Functions {
    fn new(settings: &Settings, keys: &Keys, ledger: &Table) -> Result<Functions, InfraError> {
        let function = |f: Function| {
            RustFunctionBuilder::new(Resource::Function(f).logical_id(), f.name())
                .description(description(f))
                .memory_mb(128)
                .timeout_secs(10)
                .log_retention_days(settings.log_retention.clone())
                .logs_encrypted_with(&keys.operations)
        };
        let mut charge_payment = function(Function::ChargePayment)
            .environment("LEDGER_TABLE_NAME", ledger.name())
            .environment(
                "LEDGER_RETENTION_DAYS",
                Expr::literal(LEDGER_RETENTION_DAYS.to_string()),
            )
            .build()?;
        ledger.grant_get_item(&mut charge_payment);
        ledger.grant_put_item(&mut charge_payment);
        Ok(Functions {
            verify_payment: function(Function::VerifyPayment).build()?,
            check_stock: function(Function::CheckStock).build()?,
            charge_payment,
        })
    }

    fn get(&self, f: Function) -> &RustFunction {
        match f {
            Function::VerifyPayment => &self.verify_payment,
            Function::CheckStock => &self.check_stock,
            Function::ChargePayment => &self.charge_payment,
        }
    }

    /// The functions in the contract's order.
    fn into_all(self) -> [RustFunction; 3] {
        [self.verify_payment, self.check_stock, self.charge_payment]
    }
}

fn description(f: Function) -> &'static str {
    match f {
        Function::VerifyPayment => {
            "Validates an order and verifies its card or payment token; returns a payment token and the last four digits"
        }
        Function::CheckStock => "Looks up the quantity in stock of each item of an order",
        Function::ChargePayment => "Charges an order's payment token at most once per order id",
    }
}

/// The prefix of a function's alarms' logical ids.
fn alarm_prefix(f: Function) -> &'static str {
    match f {
        Function::VerifyPayment => "VerifyPayment",
        Function::CheckStock => "CheckStock",
        Function::ChargePayment => "ChargePayment",
    }
}

/// The order-processing state machine and the entry that runs it.
struct StateMachines {
    processing: StateMachine,
    entry: StateMachine,
}

impl StateMachines {
    fn new(
        definition: Definition,
        entry: Definition,
        settings: &Settings,
        keys: &Keys,
        data: &Data,
        functions: &Functions,
    ) -> Result<StateMachines, InfraError> {
        let processing = StateMachineBuilder::new(
            contract::Definition::OrderProcessing.logical_id(),
            definition,
        )
        .name("order-processing")
        .workflow_type(settings.workflow_type.clone())
        // Express keeps no history but its logs; at ERROR they hold the failures only (what
        // an alarm leads to), never execution data. ALL would cost about as much as the
        // Express execution itself (`orderflow cost`).
        .log_level(LogLevel::Error)
        .log_retention_days(settings.log_retention.clone())
        .encrypted_with(&keys.data)
        .logs_encrypted_with(&keys.operations);
        let mut processing = substitute(processing, contract::Definition::OrderProcessing, |r| {
            substitution(r, data, functions, None)
        })?
        .build()?;
        for f in Function::ALL {
            functions.get(f).grant_invoke(&mut processing);
        }
        data.orders.grant_get_item(&mut processing);
        data.orders.grant_put_item(&mut processing);
        data.orders.grant_update_item(&mut processing);
        data.notifications.grant_publish(&mut processing);

        // The entry: one Standard execution per order (its name is the order's), which runs
        // processing to completion as a nested execution, and records and notifies an order
        // processing could not complete.
        let entry = StateMachineBuilder::new(contract::Definition::Order.logical_id(), entry)
            .name("order")
            .workflow_type(Expr::literal("STANDARD"))
            // Step Functions keeps every event of a Standard execution for 90 days already
            // (GetExecutionHistory, the console), so logs add only what alarms and queries
            // over many executions need: the failures.
            .log_level(LogLevel::Error)
            .log_retention_days(settings.log_retention.clone())
            .encrypted_with(&keys.data)
            .logs_encrypted_with(&keys.operations);
        let mut entry = substitute(entry, contract::Definition::Order, |r| {
            substitution(r, data, functions, Some(&processing))
        })?
        .build()?;
        processing.grant_start_execution_sync(&mut entry);
        data.orders.grant_put_item(&mut entry);
        data.notifications.grant_publish(&mut entry);
        Ok(StateMachines { processing, entry })
    }
}

/// `builder` with each resource the contract says `definition` names substituted for the
/// contract's placeholder; `lookup` gives the construct standing for a resource.
fn substitute<'a>(
    mut builder: StateMachineBuilder,
    definition: contract::Definition,
    lookup: impl Fn(Resource) -> Option<&'a dyn Substitution>,
) -> Result<StateMachineBuilder, InfraError> {
    for &resource in definition.resources() {
        let construct = lookup(resource).ok_or_else(|| InfraError::MissingSubstitution {
            placeholder: resource.placeholder().to_owned(),
        })?;
        builder = builder.substitute_as(resource.placeholder(), construct);
    }
    Ok(builder)
}

/// The construct standing for `resource`; the processing state machine only once it is
/// built (its own definition cannot name it).
fn substitution<'a>(
    resource: Resource,
    data: &'a Data,
    functions: &'a Functions,
    processing: Option<&'a StateMachine>,
) -> Option<&'a dyn Substitution> {
    match resource {
        Resource::Function(f) => Some(functions.get(f)),
        Resource::OrdersTable => Some(&data.orders),
        Resource::OrderNotificationsTopic => Some(&data.notifications),
        Resource::OrderProcessingStateMachine => processing.map(|m| m as &dyn Substitution),
    }
}

/// The alarms, each notifying the alarm topic: executions failing or timing out, functions
/// failing or throttled, tables throttled, notifications undelivered.
fn alarms(
    settings: &Settings,
    data: &Data,
    functions: &Functions,
    machines: &StateMachines,
) -> Result<Vec<Alarm>, InfraError> {
    let mut alarm_list = Vec::new();
    let states = |name, machine: &StateMachine| {
        Metric::new("AWS/States", name, "StateMachineArn", machine.arn())
    };
    let (entry, processing) = (&machines.entry, &machines.processing);
    for (id, label, m) in [
        ("EntryExecutionsFailing", "the order entry", entry),
        (
            "ProcessingExecutionsFailing",
            "order processing",
            processing,
        ),
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
            .percent(settings.failure_percent.clone()),
        );
    }
    for (id, label, m) in [
        ("EntryExecutionsTimedOut", "the order entry", entry),
        (
            "ProcessingExecutionsTimedOut",
            "order processing",
            processing,
        ),
    ] {
        alarm_list.push(AlarmBuilder::new(
            id,
            &format!("An execution of {label} timed out"),
            Watch::AnyOf(vec![states("ExecutionsTimedOut", m)]),
        ));
    }
    for f in Function::ALL {
        let prefix = alarm_prefix(f);
        let lambda =
            |name| Metric::new("AWS/Lambda", name, "FunctionName", functions.get(f).name());
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
            .percent(settings.failure_percent.clone()),
        );
        alarm_list.push(AlarmBuilder::new(
            &format!("{prefix}Throttles"),
            "The function was throttled",
            Watch::AnyOf(vec![lambda("Throttles")]),
        ));
    }
    for (prefix, table) in [
        ("OrdersTable", &data.orders),
        ("ChargeLedgerTable", &data.ledger),
    ] {
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
            data.notifications.name(),
        )]),
    ));
    alarm_list
        .into_iter()
        .map(|a| a.notify(data.alarms.arn()).build())
        .collect()
}

/// The stack's outputs: (name, description, value).
fn outputs(
    data: &Data,
    functions: &Functions,
    machines: &StateMachines,
    unfinished: &UnfinishedExecutionsQueue,
) -> Vec<(&'static str, &'static str, Expr)> {
    let entry = &machines.entry;
    vec![
        (
            "StateMachineArn",
            "The entry state machine: start one execution per order, named after it",
            entry.arn(),
        ),
        (
            "ProcessingStateMachineArn",
            "The order-processing state machine the entry runs (it can also be started directly)",
            machines.processing.arn(),
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
            data.orders.name(),
        ),
        (
            "ChargeLedgerTableName",
            "The table of charges by order id",
            data.ledger.name(),
        ),
        (
            "OrderNotificationsTopicArn",
            "Subscribe here to receive order notifications",
            data.notifications.arn(),
        ),
        (
            "VerifyPaymentFunctionName",
            "For `cargo lambda deploy` and `aws lambda invoke`",
            functions.verify_payment.name(),
        ),
        (
            "CheckStockFunctionName",
            "For `cargo lambda deploy` and `aws lambda invoke`",
            functions.check_stock.name(),
        ),
        (
            "ChargePaymentFunctionName",
            "For `cargo lambda deploy` and `aws lambda invoke`",
            functions.charge_payment.name(),
        ),
        (
            "AlarmTopicArn",
            "Subscribe here to receive the alarms",
            data.alarms.arn(),
        ),
        (
            "UnfinishedOrdersQueueUrl",
            "Entry executions that did not succeed (rejections too), for a redrive or a resubmission",
            unfinished.url(),
        ),
    ]
}
