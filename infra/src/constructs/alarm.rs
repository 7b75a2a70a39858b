//! CloudWatch alarms on the stack's own metrics, notifying a topic when they fire.

use crate::InfraError;
use crate::expr::{Expr, LogicalId};
use crate::node::Node;
use crate::stack::{Construct, Resource, Scope};

/// One CloudWatch metric: `namespace`/`name` with its dimensions, summed over the period.
#[derive(Clone, Debug)]
pub struct Metric {
    namespace: &'static str,
    name: &'static str,
    dimensions: Vec<(&'static str, Expr)>,
}

impl Metric {
    /// `namespace`/`name` (e.g. `AWS/States`, `ExecutionsFailed`) for the resource the
    /// dimension names (e.g. `StateMachineArn`).
    pub fn new(
        namespace: &'static str,
        name: &'static str,
        dimension: &'static str,
        value: Expr,
    ) -> Self {
        Metric {
            namespace,
            name,
            dimensions: vec![(dimension, value)],
        }
    }

    fn stat(&self, id: &str) -> Node {
        let dimensions = self
            .dimensions
            .iter()
            .map(|(name, value)| Node::map().with("Name", *name).with("Value", value));
        Node::map()
            .with("Id", id)
            .with(
                "MetricStat",
                Node::map()
                    .with(
                        "Metric",
                        Node::map()
                            .with("Namespace", self.namespace)
                            .with("MetricName", self.name)
                            .with("Dimensions", Node::seq(dimensions)),
                    )
                    .with("Period", PERIOD_SECONDS)
                    .with("Stat", "Sum"),
            )
            .with("ReturnData", false)
    }
}

/// Five minutes: the shortest period the AWS/States, AWS/Lambda, AWS/DynamoDB and AWS/SNS
/// metrics are all published at without detailed monitoring.
const PERIOD_SECONDS: i64 = 300;

/// What an alarm watches.
#[derive(Clone, Debug)]
pub enum Watch {
    /// Any datapoint of the metric at or over one: something that should never happen
    /// (a timed-out execution, a throttle, a failed delivery).
    AnyOf(Vec<Metric>),
    /// `failed` as a percentage of `all` over the period: failures that are normal at some
    /// rate, because a rejected order fails its execution and a declined charge its function.
    Share {
        /// What failed.
        failed: Metric,
        /// Everything that ran.
        all: Metric,
    },
}

/// Builds an [`Alarm`].
#[derive(Clone, Debug)]
pub struct AlarmBuilder {
    id: String,
    description: String,
    watch: Watch,
    threshold: Option<Expr>,
    topic: Option<Expr>,
}

impl AlarmBuilder {
    /// An alarm with logical id `id` (also its name's suffix) watching `watch`.
    pub fn new(id: &str, description: &str, watch: Watch) -> Self {
        AlarmBuilder {
            id: id.to_owned(),
            description: description.to_owned(),
            watch,
            threshold: None,
            topic: None,
        }
    }

    /// The percentage over which a [`Watch::Share`] alarm fires (required for it).
    pub fn percent(mut self, threshold: Expr) -> Self {
        self.threshold = Some(threshold);
        self
    }

    /// The topic notified when the alarm fires (required).
    pub fn notify(mut self, topic: Expr) -> Self {
        self.topic = Some(topic);
        self
    }

    /// Checks the settings.
    pub fn build(self) -> Result<Alarm, InfraError> {
        let id = LogicalId::new(&self.id)?;
        let topic = super::required(&self.id, "alarm topic", self.topic)?;
        let threshold = match (&self.watch, self.threshold) {
            (Watch::Share { .. }, Some(threshold)) => Some(threshold),
            (Watch::Share { .. }, None) => {
                return Err(InfraError::InvalidSetting {
                    construct: self.id,
                    setting: "threshold",
                    value: "missing".to_owned(),
                    expected: "a share alarm needs a percentage",
                });
            }
            (Watch::AnyOf(metrics), _) if metrics.is_empty() => {
                return Err(InfraError::InvalidSetting {
                    construct: self.id,
                    setting: "metrics",
                    value: "none".to_owned(),
                    expected: "an alarm watches at least one metric",
                });
            }
            (Watch::AnyOf(_), _) => None,
        };
        Ok(Alarm {
            id,
            description: self.description,
            watch: self.watch,
            threshold,
            topic,
        })
    }
}

/// A CloudWatch alarm; missing data (nothing ran) is not a breach.
#[derive(Clone, Debug)]
pub struct Alarm {
    id: LogicalId,
    description: String,
    watch: Watch,
    threshold: Option<Expr>,
    topic: Expr,
}

impl Construct for Alarm {
    fn synthesize(self, scope: &mut Scope) -> Result<(), InfraError> {
        let (metrics, threshold) = match &self.watch {
            Watch::AnyOf(metrics) => {
                let sum = (0..metrics.len())
                    .map(|i| format!("FILL(m{i}, 0)"))
                    .collect::<Vec<_>>()
                    .join(" + ");
                let mut nodes: Vec<Node> = metrics
                    .iter()
                    .enumerate()
                    .map(|(i, m)| m.stat(&format!("m{i}")))
                    .collect();
                nodes.push(expression("total", &sum, "events in five minutes"));
                (nodes, Node::Int(1))
            }
            Watch::Share { failed, all } => (
                vec![
                    failed.stat("failed"),
                    all.stat("all"),
                    expression(
                        "share",
                        "IF(FILL(all, 0) > 0, 100 * FILL(failed, 0) / FILL(all, 0), 0)",
                        "percent failed in five minutes",
                    ),
                ],
                self.threshold.map(Node::from).unwrap_or(Node::Int(100)),
            ),
        };
        let properties = Node::map()
            .with(
                "AlarmName",
                Expr::concat([Expr::stack_name(), Expr::literal(format!("-{}", self.id))]),
            )
            .with("AlarmDescription", self.description.as_str())
            .with("Metrics", Node::Seq(metrics))
            .with("ComparisonOperator", "GreaterThanOrEqualToThreshold")
            .with("Threshold", threshold)
            .with("EvaluationPeriods", 1_i64)
            .with("DatapointsToAlarm", 1_i64)
            .with("TreatMissingData", "notBreaching")
            .with("AlarmActions", Node::seq([&self.topic]));
        scope.add(
            &self.id,
            Resource::new("AWS::CloudWatch::Alarm", properties),
        )
    }
}

fn expression(id: &str, expression: &str, label: &str) -> Node {
    Node::map()
        .with("Id", id)
        .with("Expression", expression)
        .with("Label", label)
        .with("ReturnData", true)
}
