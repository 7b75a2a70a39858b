//! Activities: Create/Describe/List/DeleteActivity, and the tasks of `activity:` resources,
//! handed to a worker's GetActivityTask (a long poll of up to 60 seconds, as on AWS) and
//! answered with SendTaskSuccess/Failure/Heartbeat like any task token (API reference,
//! GetActivityTask). Activities are kept in the store, so they outlast the server; the tasks
//! queued for workers are in memory (a resumed execution queues its task again).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sfn_local::{StatesError, Submission, TaskFailure, TaskHandler, TaskRequest};
use tokio::sync::Notify;

use aws_emulator::Store;

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
    /// Tasks waiting for a worker: token, input, and where to say a worker took it.
    queue: VecDeque<(String, Value, Submission)>,
}

/// The activities and their queued tasks, by ARN.
pub(crate) struct Activities {
    store: Store,
    region: String,
    account: String,
    callbacks: Arc<Callbacks>,
    all: Mutex<HashMap<String, Activity>>,
    /// Woken when a task is queued.
    queued: Notify,
}

impl Activities {
    /// The activities `store` holds. A store that cannot be read starts with none (and
    /// says so): each CreateActivity then writes through again.
    pub(crate) fn new(store: Store, callbacks: Arc<Callbacks>) -> Self {
        let kept = store.activities().unwrap_or_else(|e| {
            eprintln!("sfn-server: the activities cannot be read from the store: {e}");
            Vec::new()
        });
        let all = kept
            .into_iter()
            .map(|a| {
                let activity = Activity {
                    name: a.name,
                    created: a.created,
                    queue: VecDeque::new(),
                };
                (a.arn, activity)
            })
            .collect();
        Activities {
            region: store.region().to_owned(),
            account: store.account_id().to_owned(),
            store,
            callbacks,
            all: Mutex::new(all),
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
        // Idempotent, as CreateActivity is.
        let kept = self.store.create_activity(&arn, name, SystemTime::now())?;
        let mut all = self.lock();
        let activity = all.entry(arn.clone()).or_insert_with(|| Activity {
            name: kept.name,
            created: kept.created,
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
        self.store.delete_activity(arn)?;
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
        let worker = p.optional_string("workerName")?.map(str::to_owned);
        let deadline = tokio::time::Instant::now() + LONG_POLL;
        loop {
            let woken = self.queued.notified();
            {
                let mut all = self.lock();
                let activity = all.get_mut(&arn).ok_or_else(|| Self::missing(&arn))?;
                if let Some((token, input, started)) = activity.queue.pop_front() {
                    // The history's ActivityStarted names the worker.
                    let mut details = Map::new();
                    if let Some(worker) = &worker {
                        details.insert("workerName".into(), json!(worker));
                    }
                    started.submit(Value::Object(details));
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
            activity
                .queue
                .push_back((token.clone(), request.input, request.submission));
        }
        self.queued.notify_waiters();
        let answer = waiting.answer().await;
        // A task no worker took before it ended leaves the queue with it.
        if let Some(activity) = self.lock().get_mut(&arn) {
            activity.queue.retain(|(t, _, _)| *t != token);
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
