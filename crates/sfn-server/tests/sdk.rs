//! The server driven through the AWS SDK for Rust, as a user's tests would drive it.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::operation::create_state_machine::builders::CreateStateMachineFluentBuilder;
use aws_sdk_sfn::operation::describe_execution::builders::DescribeExecutionFluentBuilder;
use aws_sdk_sfn::operation::get_execution_history::builders::GetExecutionHistoryFluentBuilder;
use aws_sdk_sfn::operation::list_executions::builders::ListExecutionsFluentBuilder;
use aws_sdk_sfn::operation::start_execution::builders::StartExecutionFluentBuilder;
use aws_sdk_sfn::types::{ExecutionStatus, StateMachineType, Tag};
use futures::FutureExt as _;
use serde_json::{Value, json};
use sfn_local::{Handlers, TaskFailure, TaskRequest};
use sfn_server::{Server, Service, Time};
use sfn_testing::MockConfig;

const ROLE: &str = "arn:aws:iam::123456789012:role/local";

struct Local {
    client: Client,
    service: Arc<Service>,
    addr: std::net::SocketAddr,
    /// The task tokens `lambda:invoke` was sent, in order.
    tokens: Arc<std::sync::Mutex<Vec<String>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A server on a free loopback port, in virtual time, with `echo` answering
/// `arn:aws:lambda:…:function:echo` with its input, `hang` never answering and `boom`
/// failing with `Boom`, and `lambda:invoke` keeping the `token` of its payload.
async fn local() -> Local {
    local_with(None).await
}

/// As [`local`], running the test cases of `mocks` for `#TestCase` ARNs.
async fn local_with(mocks: Option<MockConfig>) -> Local {
    local_on(aws_emulator::Store::in_memory().expect("a store"), mocks).await
}

/// As [`local`], on `store`, durable when it is kept on disk.
async fn local_on(store: aws_emulator::Store, mocks: Option<MockConfig>) -> Local {
    let tokens = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = Arc::clone(&tokens);
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", move |r: TaskRequest| {
            if let Some(token) = r.input["Payload"]["token"].as_str() {
                kept.lock().expect("tokens").push(token.to_owned());
            }
            async { Ok(json!({"StatusCode": 200})) }.boxed()
        })
        .expect("a pattern");
    handlers
        .register("arn:aws:lambda:*:*:function:echo", |r: TaskRequest| {
            async move { Ok(r.input) }.boxed()
        })
        .and_then(|h| {
            h.register("arn:aws:lambda:*:*:function:hang", |_: TaskRequest| {
                futures::future::pending().boxed()
            })
        })
        .and_then(|h| {
            h.register("arn:aws:lambda:*:*:function:boom", |_: TaskRequest| {
                async { Err(TaskFailure::new("Boom", "it went off")) }.boxed()
            })
        })
        .and_then(|h| {
            // Fails its first call, answers every later one: what a redrive gets past.
            let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            h.register(
                "arn:aws:lambda:*:*:function:flaky",
                move |r: TaskRequest| {
                    let first = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0;
                    async move {
                        if first {
                            Err(TaskFailure::new("Flaky", "the first call fails"))
                        } else {
                            Ok(r.input)
                        }
                    }
                    .boxed()
                },
            )
        })
        .expect("patterns");
    let on_disk = store.database_file().is_some();
    let mut service = Service::new(store, handlers, Time::Virtual);
    if on_disk {
        service = service.durable().expect("a durable service");
    }
    if let Some(mocks) = mocks {
        service = service.with_mock_config(mocks);
    }
    let service = Arc::new(service);
    let server = Server::bind(
        "127.0.0.1:0".parse().expect("an address"),
        Arc::clone(&service),
    )
    .await
    .expect("a free port");
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let aws = sfn_aws::AwsClients::builder()
        .endpoint_url(format!("http://{addr}"))
        .region("us-east-1")
        .build()
        .await
        .expect("a configuration");
    let config = aws_sdk_sfn::config::Builder::from(aws.sdk_config())
        .interceptor(sfn_aws::NoHostPrefix)
        .build();
    Local {
        client: Client::from_conf(config),
        service,
        addr,
        tokens,
        _stop: stop,
    }
}

impl Local {
    fn start(&self, machine: &str, name: &str, input: &str) -> StartExecutionFluentBuilder {
        self.client
            .start_execution()
            .state_machine_arn(machine)
            .name(name)
            .input(input)
    }

    fn history(&self, execution: &str) -> GetExecutionHistoryFluentBuilder {
        self.client.get_execution_history().execution_arn(execution)
    }

    fn executions(&self, machine: &str) -> ListExecutionsFluentBuilder {
        self.client.list_executions().state_machine_arn(machine)
    }

    fn create(&self, name: &str, definition: impl Into<String>) -> CreateStateMachineFluentBuilder {
        self.client
            .create_state_machine()
            .name(name)
            .definition(definition)
            .role_arn(ROLE)
    }

    fn describe(&self, execution: &str) -> DescribeExecutionFluentBuilder {
        self.client.describe_execution().execution_arn(execution)
    }
}

fn task_machine(function: &str) -> String {
    json!({
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": format!("arn:aws:lambda:us-east-1:123456789012:function:{function}"),
                "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": true
            },
            "Caught": {"Type": "Fail", "Error": "Caught", "Cause": "boom was caught"}
        }
    })
    .to_string()
}

fn code<E: aws_sdk_sfn::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("(no code)").to_owned()
}

async fn within<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("the test finishes within a minute")
}

async fn create(local: &Local, name: &str, definition: &str, kind: StateMachineType) -> String {
    local
        .create(name, definition)
        .r#type(kind)
        .send()
        .await
        .expect("created")
        .state_machine_arn
}

/// Polls until the execution leaves RUNNING.
async fn finished(
    local: &Local,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    loop {
        let described = local.describe(arn).send().await.expect("described");
        if described.status != ExecutionStatus::Running {
            return described;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_machines_are_created_described_listed_updated_tagged_and_deleted() {
    within(async {
        let local = local().await;
        let definition = task_machine("echo");
        let arn = create(&local, "first", &definition, StateMachineType::Standard).await;
        assert_eq!(
            arn,
            "arn:aws:states:us-east-1:123456789012:stateMachine:first"
        );
        // The same request again is answered with the same machine; another definition
        // under the name is refused.
        let again = create(&local, "first", &definition, StateMachineType::Standard).await;
        assert_eq!(again, arn);
        let taken = local
            .create("first", task_machine("boom"))
            .send()
            .await
            .expect_err("the name is taken");
        assert_eq!(code(&taken), "StateMachineAlreadyExists");
        create(&local, "second", &definition, StateMachineType::Express).await;

        let described = local
            .client
            .describe_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .expect("described");
        assert_eq!(described.name, "first");
        assert_eq!(described.definition, definition);
        assert_eq!(described.role_arn, ROLE);
        assert_eq!(described.r#type, StateMachineType::Standard);

        let page = local
            .client
            .list_state_machines()
            .max_results(1)
            .send()
            .await
            .expect("listed");
        assert_eq!(page.state_machines.len(), 1);
        let token = page.next_token.expect("a second page");
        let rest = local
            .client
            .list_state_machines()
            .next_token(token)
            .send()
            .await
            .expect("listed");
        let names: Vec<String> = page
            .state_machines
            .iter()
            .chain(&rest.state_machines)
            .map(|m| m.name.clone())
            .collect();
        assert_eq!(names, ["first", "second"]);
        assert!(rest.next_token.is_none());

        let updated = local
            .client
            .update_state_machine()
            .state_machine_arn(&arn)
            .definition(task_machine("boom"))
            .send()
            .await
            .expect("updated");
        assert!(updated.revision_id.is_some_and(|r| !r.is_empty()));

        local
            .client
            .tag_resource()
            .resource_arn(&arn)
            .tags(Tag::builder().key("team").value("orders").build())
            .send()
            .await
            .expect("tagged");
        let tags = local
            .client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .expect("tags");
        let tags: Vec<(Option<String>, Option<String>)> = tags
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect();
        assert_eq!(tags, [(Some("team".into()), Some("orders".into()))]);

        local
            .client
            .delete_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .expect("deleted");
        let gone = local
            .client
            .describe_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .expect_err("deleted");
        assert_eq!(code(&gone), "StateMachineDoesNotExist");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_aws_error_codes() {
    within(async {
        let local = local().await;
        let invalid = local
            .create("bad", r#"{"StartAt": "Nowhere", "States": {}}"#)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(code(&invalid), "InvalidDefinition");
        let name = local
            .create("has space", task_machine("echo"))
            .send()
            .await
            .expect_err("refused");
        assert_eq!(code(&name), "InvalidName");
        let arn = local
            .client
            .describe_state_machine()
            .state_machine_arn("not-an-arn")
            .send()
            .await
            .expect_err("refused");
        assert_eq!(code(&arn), "InvalidArn");
        let missing = local
            .describe("arn:aws:states:us-east-1:123456789012:execution:none:x")
            .send()
            .await
            .expect_err("refused");
        assert_eq!(code(&missing), "ExecutionDoesNotExist");
        let machine = create(
            &local,
            "m",
            &task_machine("echo"),
            StateMachineType::Standard,
        )
        .await;
        let input = local
            .client
            .start_execution()
            .state_machine_arn(&machine)
            .input("{not json")
            .send()
            .await
            .expect_err("refused");
        assert_eq!(code(&input), "InvalidExecutionInput");
        let validated = local
            .client
            .validate_state_machine_definition()
            .definition(r#"{"StartAt": "Nowhere", "States": {}}"#)
            .send()
            .await
            .expect("validated");
        assert_eq!(validated.result.as_str(), "FAIL");
        assert!(!validated.diagnostics.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_run_and_their_history_pages() {
    within(async {
        let local = local().await;
        let machine = create(
            &local,
            "echo",
            &task_machine("echo"),
            StateMachineType::Standard,
        )
        .await;
        let started = local
            .start(&machine, "e1", r#"{"order": 1}"#)
            .send()
            .await
            .expect("started");
        assert_eq!(
            started.execution_arn,
            "arn:aws:states:us-east-1:123456789012:execution:echo:e1"
        );
        let done = finished(&local, &started.execution_arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded);
        let output: Value =
            serde_json::from_str(done.output.as_deref().unwrap_or("null")).expect("JSON");
        assert_eq!(output, json!({"order": 1}));
        // The name is used: starting again (even with the same input) is refused.
        let again = local
            .start(&machine, "e1", r#"{"order": 1}"#)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(code(&again), "ExecutionAlreadyExists");

        let all = local
            .history(&started.execution_arn)
            .send()
            .await
            .expect("history");
        let types: Vec<String> = all
            .events
            .iter()
            .map(|e| e.r#type.as_str().to_owned())
            .collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "LambdaFunctionScheduled",
                "LambdaFunctionStarted",
                "LambdaFunctionSucceeded",
                "TaskStateExited",
                "ExecutionSucceeded"
            ]
        );
        let first_two = local
            .history(&started.execution_arn)
            .max_results(2)
            .reverse_order(true)
            .include_execution_data(false)
            .send()
            .await
            .expect("history");
        let ids: Vec<i64> = first_two.events.iter().map(|e| e.id).collect();
        assert_eq!(ids, [7, 6]);
        let token = first_two.next_token.expect("more events");
        let exited = first_two.events[1]
            .state_exited_event_details
            .as_ref()
            .expect("exit details");
        assert!(exited.output.is_none(), "execution data left out");
        let next = local
            .history(&started.execution_arn)
            .max_results(2)
            .reverse_order(true)
            .next_token(token)
            .send()
            .await
            .expect("history");
        assert_eq!(next.events.iter().map(|e| e.id).collect::<Vec<_>>(), [5, 4]);

        let failing = create(
            &local,
            "boom",
            &task_machine("boom"),
            StateMachineType::Standard,
        )
        .await;
        let failed = local
            .client
            .start_execution()
            .state_machine_arn(&failing)
            .send()
            .await
            .expect("started");
        let failed = finished(&local, &failed.execution_arn).await;
        assert_eq!(failed.status, ExecutionStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("Caught"));
        let listed = local
            .executions(&machine)
            .status_filter(ExecutionStatus::Succeeded)
            .send()
            .await
            .expect("listed");
        assert_eq!(listed.executions.len(), 1);
        let none = local
            .executions(&machine)
            .status_filter(ExecutionStatus::Failed)
            .send()
            .await
            .expect("listed");
        assert!(none.executions.is_empty());
        let for_execution = local
            .client
            .describe_state_machine_for_execution()
            .execution_arn(&started.execution_arn)
            .send()
            .await
            .expect("described");
        assert_eq!(for_execution.name, "echo");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_execution_is_idempotent_and_stops() {
    within(async {
        let local = local().await;
        let machine = create(
            &local,
            "hang",
            &task_machine("hang"),
            StateMachineType::Standard,
        )
        .await;
        let start = || local.start(&machine, "waiting", "{}").send();
        let first = start().await.expect("started");
        let second = start()
            .await
            .expect("the same start again is answered the same");
        assert_eq!(first.execution_arn, second.execution_arn);
        assert_eq!(first.start_date, second.start_date);
        let other = local
            .start(&machine, "waiting", r#"{"other": true}"#)
            .send()
            .await
            .expect_err("another input under the name");
        assert_eq!(code(&other), "ExecutionAlreadyExists");
        let running = local
            .describe(&first.execution_arn)
            .send()
            .await
            .expect("described");
        assert_eq!(running.status, ExecutionStatus::Running);
        // Its history is read as it is recorded: the task has started and waits.
        let so_far = loop {
            let events = local
                .history(&first.execution_arn)
                .send()
                .await
                .expect("history")
                .events;
            if events.len() >= 4 {
                break events;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let types: Vec<&str> = so_far.iter().map(|e| e.r#type.as_str()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "LambdaFunctionScheduled",
                "LambdaFunctionStarted"
            ]
        );
        local
            .client
            .stop_execution()
            .execution_arn(&first.execution_arn)
            .error("Stopped")
            .cause("by the test")
            .send()
            .await
            .expect("stopped");
        let stopped = finished(&local, &first.execution_arn).await;
        assert_eq!(stopped.status, ExecutionStatus::Aborted);
        assert_eq!(stopped.error.as_deref(), Some("Stopped"));
        let history = local
            .history(&first.execution_arn)
            .send()
            .await
            .expect("history");
        let types: Vec<&str> = history.events.iter().map(|e| e.r#type.as_str()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "LambdaFunctionScheduled",
                "LambdaFunctionStarted",
                "ExecutionAborted"
            ]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_machines_answer_start_sync_execution() {
    within(async {
        let local = local().await;
        let express = create(
            &local,
            "quick",
            &task_machine("echo"),
            StateMachineType::Express,
        )
        .await;
        let answered = local
            .client
            .start_sync_execution()
            .state_machine_arn(&express)
            .input(r#"{"n": 2}"#)
            .send()
            .await
            .expect("answered");
        assert_eq!(answered.status.as_str(), "SUCCEEDED");
        assert_eq!(answered.output.as_deref(), Some(r#"{"n":2}"#));
        assert!(answered.execution_arn.contains(":express:quick:"));
        let standard = create(
            &local,
            "slow",
            &task_machine("echo"),
            StateMachineType::Standard,
        )
        .await;
        let refused = local
            .client
            .start_sync_execution()
            .state_machine_arn(&standard)
            .send()
            .await
            .expect_err("not for Standard machines");
        assert_eq!(code(&refused), "StateMachineTypeNotSupported");
    })
    .await;
}

/// A raw request, to check what no SDK sends.
async fn raw(addr: std::net::SocketAddr, host: &str, extra: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connected");
    let body = "{}";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Type: application/x-amz-json-1.0\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answered");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_host_or_origin_is_refused() {
    within(async {
        let local = local().await;
        let own = format!("127.0.0.1:{}", local.addr.port());
        assert!(raw(local.addr, &own, "").await.starts_with("HTTP/1.1 200"));
        let rebound = raw(
            local.addr,
            &format!("evil.example:{}", local.addr.port()),
            "",
        )
        .await;
        assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
        assert!(rebound.contains("AccessDeniedException"), "{rebound}");
        let cross = raw(local.addr, &own, "Origin: http://evil.example\r\n").await;
        assert!(cross.starts_with("HTTP/1.1 403"), "{cross}");
    })
    .await;
}

impl Local {
    /// The `n`th task token sent (from 0), once it has been.
    async fn token(&self, n: usize) -> String {
        loop {
            if let Some(token) = self.tokens.lock().expect("tokens").get(n) {
                return token.clone();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_tasks_answer_to_their_token() {
    within(async {
        let local = local().await;
        let waiting = |next: Value| {
            let mut state = json!({
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
            });
            if let (Value::Object(state), Value::Object(more)) = (&mut state, next) {
                state.extend(more);
            }
            state
        };
        let definition = json!({
            "StartAt": "Approve",
            "States": {
                "Approve": waiting(json!({"ResultPath": "$.approval", "Next": "Beat"})),
                "Beat": waiting(json!({
                    "HeartbeatSeconds": 1,
                    "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.beat", "Next": "Reject"}],
                    "Next": "Reject"
                })),
                "Reject": waiting(json!({"End": true}))
            }
        });
        let machine = create(&local, "callbacks", &definition.to_string(), StateMachineType::Standard).await;
        let started = local.start(&machine, "c1", "{}").send().await.expect("started");

        let first = local.token(0).await;
        let bad = local
            .client
            .send_task_success()
            .task_token(&first)
            .output("{not json")
            .send()
            .await
            .expect_err("refused");
        assert_eq!(code(&bad), "InvalidOutput");
        local
            .client
            .send_task_success()
            .task_token(&first)
            .output(r#"{"approved": true}"#)
            .send()
            .await
            .expect("answered");
        let again = local
            .client
            .send_task_success()
            .task_token(&first)
            .output("{}")
            .send()
            .await
            .expect_err("answered once");
        assert_eq!(code(&again), "TaskDoesNotExist");

        // The second task gets one heartbeat, then none: it times out and is caught.
        let second = local.token(1).await;
        local
            .client
            .send_task_heartbeat()
            .task_token(&second)
            .send()
            .await
            .expect("a heartbeat");
        let third = local.token(2).await;
        local
            .client
            .send_task_failure()
            .task_token(&third)
            .error("Rejected")
            .cause("by the test")
            .send()
            .await
            .expect("answered");
        let done = finished(&local, &started.execution_arn).await;
        assert_eq!(done.status, ExecutionStatus::Failed);
        assert_eq!(done.error.as_deref(), Some("Rejected"));
        assert_eq!(done.cause.as_deref(), Some("by the test"));
        let history = local.history(&started.execution_arn).send().await.expect("history");
        let exited: Vec<Value> = history
            .events
            .iter()
            .filter_map(|e| e.state_exited_event_details.as_ref())
            .filter_map(|d| d.output.as_deref())
            .filter_map(|o| serde_json::from_str(o).ok())
            .collect();
        assert_eq!(exited.first().map(|o| o["approval"].clone()), Some(json!({"approved": true})));
        assert_eq!(
            exited.get(1).map(|o| o["beat"]["Error"].clone()),
            Some(json!("States.HeartbeatTimeout"))
        );
        let timed_out: Vec<Option<&str>> = history
            .events
            .iter()
            .filter_map(|e| e.task_timed_out_event_details.as_ref())
            .map(|d| d.error.as_deref())
            .collect();
        assert_eq!(timed_out, [Some("States.HeartbeatTimeout")], "recorded as a timeout");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_take_activity_tasks_and_answer_them() {
    within(async {
        let local = local().await;
        let activity = local
            .client
            .create_activity()
            .name("approve")
            .send()
            .await
            .expect("created")
            .activity_arn;
        assert_eq!(
            activity,
            "arn:aws:states:us-east-1:123456789012:activity:approve"
        );
        let described = local
            .client
            .describe_activity()
            .activity_arn(&activity)
            .send()
            .await
            .expect("described");
        assert_eq!(described.name, "approve");
        let listed = local.client.list_activities().send().await.expect("listed");
        assert_eq!(listed.activities.len(), 1);

        let definition = json!({
            "StartAt": "Approve",
            "States": {"Approve": {"Type": "Task", "Resource": activity, "End": true}}
        });
        let machine = create(
            &local,
            "worked",
            &definition.to_string(),
            StateMachineType::Standard,
        )
        .await;
        // The worker polls first; the task reaches it once the execution queues it.
        let worker = {
            let client = local.client.clone();
            let activity = activity.clone();
            tokio::spawn(async move {
                client
                    .get_activity_task()
                    .activity_arn(activity)
                    .worker_name("test-worker")
                    .send()
                    .await
            })
        };
        let started = local
            .start(&machine, "w1", r#"{"amount": 7}"#)
            .send()
            .await
            .expect("started");
        let task = worker.await.expect("the worker ran").expect("a task");
        assert_eq!(task.input.as_deref(), Some(r#"{"amount":7}"#));
        local
            .client
            .send_task_success()
            .task_token(task.task_token.expect("a token"))
            .output(r#"{"approved": 7}"#)
            .send()
            .await
            .expect("answered");
        let done = finished(&local, &started.execution_arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded);
        assert_eq!(done.output.as_deref(), Some(r#"{"approved":7}"#));
        let history = local
            .history(&started.execution_arn)
            .send()
            .await
            .expect("a history");
        let types: Vec<&str> = history.events.iter().map(|e| e.r#type.as_str()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "ActivityScheduled",
                "ActivityStarted",
                "ActivitySucceeded",
                "TaskStateExited",
                "ExecutionSucceeded"
            ]
        );
        let scheduled = history.events[2]
            .activity_scheduled_event_details
            .as_ref()
            .expect("its details");
        assert_eq!(scheduled.resource, activity);
        assert_eq!(scheduled.input.as_deref(), Some(r#"{"amount":7}"#));
        let worker = history.events[3]
            .activity_started_event_details
            .as_ref()
            .and_then(|d| d.worker_name.as_deref());
        assert_eq!(worker, Some("test-worker"));

        local
            .client
            .delete_activity()
            .activity_arn(&activity)
            .send()
            .await
            .expect("deleted");
        let gone = local
            .client
            .describe_activity()
            .activity_arn(&activity)
            .send()
            .await
            .expect_err("deleted");
        assert_eq!(code(&gone), "ActivityDoesNotExist");
    })
    .await;
}

/// What TestState answered, or the error code it refused with.
async fn test_state(
    request: aws_sdk_sfn::operation::test_state::builders::TestStateFluentBuilder,
) -> Result<aws_sdk_sfn::operation::test_state::TestStateOutput, String> {
    request.send().await.map_err(|e| {
        use aws_sdk_sfn::error::ProvideErrorMetadata as _;
        e.code().unwrap_or("no code").to_owned()
    })
}

fn parse(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_state_runs_a_task_with_the_handlers_at_debug() {
    use aws_sdk_sfn::types::{InspectionLevel, TestExecutionStatus};
    within(async {
        let local = local().await;
        let definition = json!({
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
            "InputPath": "$.order",
            "ResultSelector": {"echoed.$": "$.id"},
            "ResultPath": "$.result",
            "Next": "Charge"
        });
        let request = local
            .client
            .test_state()
            .definition(definition.to_string())
            .input(json!({"order": {"id": 7}}).to_string())
            .inspection_level(InspectionLevel::Debug);
        let out = test_state(request).await.expect("an answer");
        assert_eq!(out.status(), Some(&TestExecutionStatus::Succeeded));
        assert_eq!(out.next_state(), Some("Charge"));
        assert_eq!(
            parse(out.output()),
            json!({"order": {"id": 7}, "result": {"echoed": 7}})
        );
        let data = out.inspection_data().expect("inspection data at DEBUG");
        assert_eq!(parse(data.after_input_path()), json!({"id": 7}));
        assert_eq!(parse(data.result()), json!({"id": 7}));
        assert_eq!(parse(data.after_result_selector()), json!({"echoed": 7}));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_state_retries_and_catches_a_mocked_error() {
    use aws_sdk_sfn::types::{
        InspectionLevel, MockErrorOutput, MockInput, TestExecutionStatus, TestStateConfiguration,
    };
    within(async {
        let local = local().await;
        let definition = json!({
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "HandleError"}],
            "End": true
        })
        .to_string();
        let mock = MockInput::builder()
            .error_output(
                MockErrorOutput::builder()
                    .error("Lambda.ServiceException")
                    .cause("Service error")
                    .build(),
            )
            .build();
        let at = |retries: i32| {
            local
                .client
                .test_state()
                .definition(definition.clone())
                .input("{\"data\": \"value\"}")
                .mock(mock.clone())
                .state_configuration(
                    TestStateConfiguration::builder()
                        .retrier_retry_count(retries)
                        .build(),
                )
                .inspection_level(InspectionLevel::Debug)
        };
        let out = test_state(at(1)).await.expect("an answer");
        assert_eq!(out.status(), Some(&TestExecutionStatus::Retriable));
        let details = out
            .inspection_data()
            .and_then(|d| d.error_details())
            .expect("error details");
        assert_eq!(
            (details.retry_index(), details.retry_backoff_interval_seconds()),
            (Some(0), Some(4))
        );
        let out = test_state(at(3)).await.expect("an answer");
        assert_eq!(out.status(), Some(&TestExecutionStatus::CaughtError));
        assert_eq!(out.next_state(), Some("HandleError"));
        assert_eq!(out.error(), Some("Lambda.ServiceException"));
        assert_eq!(
            out.inspection_data()
                .and_then(|d| d.error_details())
                .and_then(|d| d.catch_index()),
            Some(0)
        );
        assert_eq!(
            parse(out.output()),
            json!({"data": "value", "error": {"Error": "Lambda.ServiceException", "Cause": "Service error"}})
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_state_refuses_with_the_api_error_codes() {
    use aws_sdk_sfn::types::MockInput;
    within(async {
        let local = local().await;
        let pass = json!({"Type": "Pass", "End": true}).to_string();
        let refused = test_state(local.client.test_state().definition("{\"Type\": 1}")).await;
        assert_eq!(refused.err().as_deref(), Some("InvalidDefinition"));
        let refused = test_state(
            local
                .client
                .test_state()
                .definition(pass.clone())
                .input("{"),
        )
        .await;
        assert_eq!(refused.err().as_deref(), Some("InvalidExecutionInput"));
        let refused = test_state(
            local
                .client
                .test_state()
                .definition(pass)
                .mock(MockInput::builder().result("{}").build()),
        )
        .await;
        assert_eq!(refused.err().as_deref(), Some("ValidationException"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_case_arn_runs_with_its_mocked_responses() {
    within(async {
        let mocks = MockConfig::from_value(&json!({
            "StateMachines": {
                "pay": {"TestCases": {"BusyThenPaid": {"Call": "BusyThenPaid"}}},
                "quick": {"TestCases": {"Boom": {"Call": "Boom"}}}
            },
            "MockedResponses": {
                "BusyThenPaid": {
                    "0": {"Throw": {"Error": "Busy", "Cause": "try again"}},
                    "1": {"Return": {"paid": true}}
                },
                "Boom": {"0": {"Throw": {"Error": "Boom", "Cause": "mocked"}}}
            }
        }))
        .expect("a mock configuration");
        let local = local_with(Some(mocks)).await;
        let definition = json!({"StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hang",
            "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 30}],
            "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.error", "Next": "Caught"}],
            "End": true},
            "Caught": {"Type": "Fail", "Error": "Caught", "Cause": "boom was caught"}}})
        .to_string();
        let pay = create(&local, "pay", &definition, StateMachineType::Standard).await;
        // The function itself never answers: only the mock can end this execution.
        let started = local
            .start(&format!("{pay}#BusyThenPaid"), "first", "{}")
            .send()
            .await
            .expect("started");
        assert!(started.execution_arn.ends_with(":execution:pay:first"));
        let done = finished(&local, &started.execution_arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded);
        assert_eq!(done.output.as_deref(), Some(r#"{"paid":true}"#));
        let history = local
            .history(&started.execution_arn)
            .send()
            .await
            .expect("a history");
        let failed = history
            .events
            .iter()
            .filter(|e| e.r#type.as_str() == "LambdaFunctionFailed")
            .count();
        assert_eq!(
            failed, 1,
            "the first invocation's Busy, then the retry's answer"
        );
        // Each execution counts from the first response again.
        let again = local
            .start(&format!("{pay}#BusyThenPaid"), "second", "{}")
            .send()
            .await
            .expect("started");
        assert_eq!(
            finished(&local, &again.execution_arn).await.status,
            ExecutionStatus::Succeeded
        );

        let quick = create(&local, "quick", &definition, StateMachineType::Express).await;
        let answered = local
            .client
            .start_sync_execution()
            .state_machine_arn(format!("{quick}#Boom"))
            .send()
            .await
            .expect("answered");
        assert_eq!(answered.status.as_str(), "FAILED");
        assert_eq!(answered.error.as_deref(), Some("Caught"));

        let refused = local
            .start(&format!("{pay}#NoSuchCase"), "third", "{}")
            .send()
            .await
            .expect_err("no such test case");
        assert_eq!(code(&refused), "ValidationException");
    })
    .await;
    within(async {
        let local = local().await;
        let pay = create(
            &local,
            "pay",
            &task_machine("echo"),
            StateMachineType::Standard,
        )
        .await;
        let refused = local
            .start(&format!("{pay}#BusyThenPaid"), "first", "{}")
            .send()
            .await
            .expect_err("no mock configuration");
        assert_eq!(code(&refused), "InvalidArn");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_execution_is_redriven_from_its_failed_state() {
    within(async {
        let dir = tempfile::tempdir().expect("a store directory");
        let local = local_on(aws_emulator::Store::open(dir.path()).expect("a store"), None).await;
        let definition = json!({"StartAt": "Before", "States": {
            "Before": {"Type": "Pass", "Result": "done once", "ResultPath": "$.before", "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
                     "Parameters": {"n.$": "$.n", "redrives.$": "$$.Execution.RedriveCount"},
                     "ResultPath": "$.call", "End": true}}})
        .to_string();
        let machine = create(&local, "redo", &definition, StateMachineType::Standard).await;
        let started = local
            .start(&machine, "once", r#"{"n": 7}"#)
            .send()
            .await
            .expect("started");
        let arn = started.execution_arn;
        let failed = finished(&local, &arn).await;
        assert_eq!(failed.status, ExecutionStatus::Failed);
        assert_eq!(failed.redrive_status.as_ref().map(|s| s.as_str()), Some("REDRIVABLE"));
        assert_eq!(failed.redrive_count, Some(0));
        let redriven = local
            .client
            .redrive_execution()
            .execution_arn(&arn)
            .send()
            .await
            .expect("redriven");
        let done = finished(&local, &arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded);
        assert_eq!(
            parse(done.output.as_deref()),
            json!({"n": 7, "before": "done once", "call": {"n": 7, "redrives": 1}})
        );
        assert_eq!(done.redrive_count, Some(1));
        assert_eq!(done.redrive_date, Some(redriven.redrive_date));
        assert_eq!(done.redrive_status.as_ref().map(|s| s.as_str()), Some("NOT_REDRIVABLE"));
        assert_eq!(
            done.redrive_status_reason.as_deref(),
            Some("Execution is SUCCEEDED and cannot be redriven.")
        );
        let history = local.history(&arn).send().await.expect("a history");
        let types: Vec<&str> = history.events.iter().map(|e| e.r#type.as_str()).collect();
        let at = types
            .iter()
            .position(|t| *t == "ExecutionRedriven")
            .expect("an ExecutionRedriven event");
        assert_eq!(types[at - 1], "ExecutionFailed");
        assert_eq!(types[at + 1], "TaskStateEntered", "the failed state again, not Before");
        assert_eq!(types.iter().filter(|t| **t == "PassStateEntered").count(), 1);
        assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
        let again = local
            .client
            .redrive_execution()
            .execution_arn(&arn)
            .send()
            .await
            .expect_err("a succeeded execution");
        assert_eq!(code(&again), "ExecutionNotRedrivable");
    })
    .await;
    within(async {
        // Without a store on disk nothing is kept to redrive from.
        let local = local().await;
        let machine = create(
            &local,
            "gone",
            &task_machine("boom"),
            StateMachineType::Standard,
        )
        .await;
        let started = local
            .start(&machine, "x", "{}")
            .send()
            .await
            .expect("started");
        let failed = finished(&local, &started.execution_arn).await;
        assert_eq!(failed.status, ExecutionStatus::Failed);
        assert_eq!(
            failed.redrive_status_reason.as_deref(),
            Some("Execution was started before the launch of RedriveExecution.")
        );
        let refused = local
            .client
            .redrive_execution()
            .execution_arn(&started.execution_arn)
            .send()
            .await
            .expect_err("nothing kept");
        assert_eq!(code(&refused), "ExecutionNotRedrivable");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activities_outlast_the_server() {
    within(async {
        let dir = tempfile::tempdir().expect("a store directory");
        let store = || aws_emulator::Store::open(dir.path()).expect("a store");
        let first = local_on(store(), None).await;
        let created = first
            .client
            .create_activity()
            .name("kept")
            .send()
            .await
            .expect("created");
        drop(first);
        let second = local_on(store(), None).await;
        let described = second
            .client
            .describe_activity()
            .activity_arn(&created.activity_arn)
            .send()
            .await
            .expect("still there");
        assert_eq!(described.name, "kept");
        assert_eq!(described.creation_date, created.creation_date);
        // Created again: the same activity, as CreateActivity is idempotent.
        let again = second
            .client
            .create_activity()
            .name("kept")
            .send()
            .await
            .expect("created");
        assert_eq!(again.creation_date, created.creation_date);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_that_cannot_be_resumed_ends_failed_saying_why() {
    within(async {
        let dir = tempfile::tempdir().expect("a store directory");
        let store = || aws_emulator::Store::open(dir.path()).expect("a store");
        let first = local_on(store(), None).await;
        let machine = create(&first, "stuck", &task_machine("hang"), StateMachineType::Standard).await;
        let started = first.start(&machine, "s1", "{}").send().await.expect("started");
        // The server goes, and its key with it: what it sealed can no longer be opened.
        drop(first);
        std::fs::remove_file(dir.path().join("execution-key")).expect("the key file");
        let service = Arc::new(
            Service::new(store(), Handlers::new(), Time::Virtual)
                .durable()
                .expect("a new key"),
        );
        assert_eq!(service.resume_running().await.expect("resumed"), 0);
        let record = store()
            .get_execution(&started.execution_arn)
            .expect("read")
            .expect("recorded");
        assert_eq!(record.status, aws_emulator::ExecutionStatus::Failed);
        assert_eq!(record.error.as_deref(), Some("States.Runtime"));
        assert_eq!(
            record.cause.as_deref(),
            Some(
                "The execution could not be resumed after the server stopped: its checkpoint cannot be opened with this store's execution key."
            )
        );
        let history = store().execution_history(&started.execution_arn).expect("a history");
        assert_eq!(history.last().and_then(|e| e["type"].as_str()), Some("ExecutionFailed"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redriven_execution_resumed_after_a_restart_is_still_redriven() {
    within(async {
        let dir = tempfile::tempdir().expect("a store directory");
        let store = || aws_emulator::Store::open(dir.path()).expect("a store");
        let first = local_on(store(), None).await;
        // Fails until redriven, then waits in a task that never answers.
        let definition = json!({"QueryLanguage": "JSONata", "StartAt": "Gate", "States": {
            "Gate": {"Type": "Pass", "Next": "Wait For Ever",
                     "Output": "{% $states.context.Execution.RedriveCount > 0 ? {} : $error('not yet') %}"},
            "Wait For Ever": {"Type": "Task",
                              "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hang",
                              "Arguments": {"redrives": "{% $states.context.Execution.RedriveCount %}"},
                              "End": true}}})
        .to_string();
        let machine = create(&first, "gated", &definition, StateMachineType::Standard).await;
        let arn = first
            .start(&machine, "g1", "{}")
            .send()
            .await
            .expect("started")
            .execution_arn;
        assert_eq!(finished(&first, &arn).await.status, ExecutionStatus::Failed);
        first
            .client
            .redrive_execution()
            .execution_arn(&arn)
            .send()
            .await
            .expect("redriven");
        let scheduled = |events: &[aws_sdk_sfn::types::HistoryEvent]| -> Vec<Value> {
            events
                .iter()
                .filter_map(|e| e.lambda_function_scheduled_event_details.as_ref())
                .filter_map(|d| d.input.as_deref())
                .map(|i| parse(Some(i)))
                .collect()
        };
        loop {
            let history = first.history(&arn).send().await.expect("a history");
            if !scheduled(&history.events).is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(first);
        // Another server on the same store resumes it at the task (the checkpoint before
        // it: the task is scheduled again), still redriven once.
        let second = local_on(store(), None).await;
        let service = second.service.clone();
        assert_eq!(service.resume_running().await.expect("resumed"), 1);
        loop {
            let history = second.history(&arn).send().await.expect("a history");
            let inputs = scheduled(&history.events);
            if !inputs.is_empty() {
                assert_eq!(inputs, [json!({"redrives": 1})]);
                let redriven = history
                    .events
                    .iter()
                    .filter(|e| e.r#type.as_str() == "ExecutionRedriven")
                    .count();
                assert_eq!(redriven, 1, "resuming is not another redrive");
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}
