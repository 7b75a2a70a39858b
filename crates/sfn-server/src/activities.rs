//! Activities: Create/Describe/List/DeleteActivity, and the tasks of `activity:` resources,
//! handed to a worker's GetActivityTask (a long poll of up to 60 seconds, as on AWS) and
//! answered with SendTaskSuccess/Failure/Heartbeat like any task token (API reference,
//! GetActivityTask). Activities are kept in memory: they last as long as the server.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sfn_local::{StatesError, TaskFailure, TaskHandler, TaskRequest};
use tokio::sync::Notify;

use crate::callbacks::Callbacks;
use crate::error::ApiError;
use crate::wire::{self, Arn, Params, seconds};

/// How long GetActivityTask waits for a task before answering with none.
const LONG_POLL: Duration = Duration::from_secs(60);
/// The most tasks one activity queues for its workers.
const MAX_QUEUED: usize = 10_000;

struct Activity {
    name: String,
    created: SystemTime,
    /// Tasks waiting for a worker: token and input.
    queue: VecDeque<(String, Value)>,
}

/// The activities and their queued tasks, by ARN.
pub(crate) struct Activities {
    region: String,
    account: String,
    callbacks: Arc<Callbacks>,
    all: Mutex<HashMap<String, Activity>>,
    /// Woken when a task is queued.
    queued: Notify,
}

impl Activities {
    pub(crate) fn new(region: &str, account: &str, callbacks: Arc<Callbacks>) -> Self {
        Activities {
            region: region.to_owned(),
            account: account.to_owned(),
            callbacks,
            all: Mutex::new(HashMap::new()),
            queued: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Activity>> {
        self.all.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:activity:{name}",
            self.region, self.account
        )
    }

    fn activity_arn<'p>(p: &Params<'p>) -> Result<&'p str, ApiError> {
        let arn = p.string("activityArn")?;
        if Arn::parse(arn)?.kind != "activity" {
            return Err(ApiError::invalid_arn(arn));
        }
        Ok(arn)
    }

    fn missing(arn: &str) -> ApiError {
        ApiError {
            code: "ActivityDoesNotExist",
            message: format!("Activity Does Not Exist: '{arn}'"),
            status: 400,
        }
    }

    pub(crate) fn create(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let name = p.string("name")?;
        wire::check_name(name)?;
        let arn = self.arn(name);
        let mut all = self.lock();
        // Idempotent, as CreateActivity is.
        let activity = all.entry(arn.clone()).or_insert_with(|| Activity {
            name: name.to_owned(),
            created: SystemTime::now(),
            queue: VecDeque::new(),
        });
        Ok(json!({"activityArn": arn, "creationDate": seconds(activity.created)}))
    }

    pub(crate) fn describe(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let arn = Self::activity_arn(p)?;
        let all = self.lock();
        let activity = all.get(arn).ok_or_else(|| Self::missing(arn))?;
        Ok(json!({
            "activityArn": arn,
            "name": activity.name,
            "creationDate": seconds(activity.created),
        }))
    }

    pub(crate) fn delete(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let arn = Self::activity_arn(p)?;
        self.lock().remove(arn);
        Ok(json!({}))
    }

    pub(crate) fn list(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let (start, size) = (p.page_start()?, p.page_size()?);
        let mut items: Vec<(SystemTime, String, String)> = self
            .lock()
            .iter()
            .map(|(arn, a)| (a.created, arn.clone(), a.name.clone()))
            .collect();
        items.sort();
        let (page, next) = wire::page(items, start, size);
        let mut out = Map::new();
        out.insert(
            "activities".into(),
            page.into_iter()
                .map(|(created, arn, name)| {
                    json!({"activityArn": arn, "name": name, "creationDate": seconds(created)})
                })
                .collect(),
        );
        if let Some(token) = next {
            out.insert("nextToken".into(), json!(token));
        }
        Ok(Value::Object(out))
    }

    /// A worker's long poll: the oldest queued task, or `{}` after [`LONG_POLL`].
    pub(crate) async fn get_task(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let arn = Self::activity_arn(p)?.to_owned();
        let deadline = tokio::time::Instant::now() + LONG_POLL;
        loop {
            let woken = self.queued.notified();
            {
                let mut all = self.lock();
                let activity = all.get_mut(&arn).ok_or_else(|| Self::missing(&arn))?;
                if let Some((token, input)) = activity.queue.pop_front() {
                    return Ok(json!({"taskToken": token, "input": input.to_string()}));
                }
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return Ok(json!({}));
            }
        }
    }

    async fn run(&self, request: TaskRequest) -> Result<Value, TaskFailure> {
        let arn = request.resource.to_string();
        let token = uuid::Uuid::new_v4().to_string();
        let waiting = self.callbacks.register(&token, request.heartbeat_seconds);
        {
            let mut all = self.lock();
            let Some(activity) = all.get_mut(&arn) else {
                return Err(TaskFailure::new(
                    StatesError::Runtime.name(),
                    format!("Activity Does Not Exist: '{arn}'"),
                ));
            };
            if activity.queue.len() >= MAX_QUEUED {
                return Err(TaskFailure::new(
                    StatesError::Runtime.name(),
                    format!("the activity {arn} has {MAX_QUEUED} tasks queued already"),
                ));
            }
            activity.queue.push_back((token.clone(), request.input));
        }
        self.queued.notify_waiters();
        let answer = waiting.answer().await;
        // A task no worker took before it ended leaves the queue with it.
        if let Some(activity) = self.lock().get_mut(&arn) {
            activity.queue.retain(|(t, _)| *t != token);
        }
        answer
    }
}

/// The task handler of `arn:aws:states:*:*:activity:*` resources.
pub(crate) struct ActivityTasks(pub(crate) Arc<Activities>);

impl TaskHandler for ActivityTasks {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        Box::pin(self.0.run(request))
    }
}
