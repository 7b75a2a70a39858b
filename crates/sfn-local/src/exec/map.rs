//! Map states: the items, their inputs, and the iterations (inline, or as a Distributed
//! Map's child executions).

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::stream::StreamExt;
use serde_json::{Map, Value};

use super::fields::{Frame, States};
use super::{Failure, MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES, Recorder, Run, Track};
use crate::history::EventDetails;
use crate::model::*;
use crate::query::QueryError;
use crate::show::bare;
use crate::states_error::StatesError;
use crate::task::TaskRequest;
use crate::vars::Scope;

impl Run<'_> {
    /// `MaxConcurrency`, `ToleratedFailureCount` and the batcher's and reader's numbers: a
    /// literal, the value a `…Path` selects, or a JSONata expression on the state input.
    pub(super) fn map_number(
        &self,
        src: &Option<Source<u64>>,
        field: &str,
        input: &Value,
        fr: &Frame<'_>,
    ) -> Result<Option<u64>, Failure> {
        match src {
            None | Some(Source::Intrinsic(_)) => Ok(None),
            Some(Source::Literal(n)) => Ok(Some(*n)),
            Some(Source::Query(q)) => self
                .query_integer(q, States::input(input), 0, i64::MAX.unsigned_abs(), fr)
                .map(Some),
            Some(Source::Path(p)) => {
                let v = p
                    .eval(input, fr.docs())
                    .map_err(|_| self.runtime(fr, p.not_found(input, fr.docs())))?;
                // AWS reads the value's text as a number: `"1"` is 1.
                let n = match v.as_ref() {
                    Value::String(s) => s.parse::<i64>().ok(),
                    other => other.as_i64(),
                };
                match n {
                    Some(n) if n < 0 => Err(self.runtime(fr, format!("{field} cannot be negative."))),
                    Some(n) => Ok(Some(n.unsigned_abs())),
                    None => Err(self.runtime(
                        fr,
                        format!("The {field}Path field refers to value \"{}\" which is not a valid integer: {}", bare(&v), p.text),
                    )),
                }
            }
        }
    }

    /// The items a Map iterates over: from its `ItemReader`, else what `ItemsPath` selects
    /// (or JSONata's `Items` gives), else the input itself.
    pub(super) async fn map_items(
        &self,
        spec: &MapSpec,
        input: &Value,
        fr: &Frame<'_>,
    ) -> Result<Vec<Value>, Failure> {
        if let Some(reader) = &spec.reader {
            return self.read_items(reader, input, fr).await;
        }
        let selected = match &spec.items {
            Items::Input if fr.st.lang == Lang::Jsonata => {
                return match input {
                    Value::Array(a) => Ok(a.clone()),
                    other => Err(Self::query_failure(
                        fr,
                        QueryError::new(
                            None,
                            format!("Map state input must be an array but was: {other}"),
                        ),
                    )),
                };
            }
            Items::Query(t) => {
                return self.with_query(fr, States::input(input), |env, rng| {
                    match t.eval(env, rng)? {
                        Value::Array(a) => Ok(a),
                        other => Err(match t.as_query() {
                            Some(q) => q.unexpected("array", &other),
                            None => QueryError::new(Some("Items"), "'Items' must be an array"),
                        }),
                    }
                });
            }
            Items::Input => Cow::Borrowed(input),
            Items::Path(p) => p
                .eval(input, fr.docs())
                .map_err(|_| self.runtime(fr, p.not_found(input, fr.docs())))?,
        };
        match selected {
            Cow::Borrowed(Value::Array(a)) => Ok(a.clone()),
            Cow::Owned(Value::Array(a)) => Ok(a),
            other => Err(self.runtime(
                fr,
                format!(
                    "Items must be a JSON array, but the ItemsPath selected: {}",
                    other.as_ref()
                ),
            )),
        }
    }

    /// `ToleratedFailurePercentage`, the value its `…Path` selects, or its expression.
    pub(super) fn tolerated_percentage(
        &self,
        spec: &MapSpec,
        input: &Value,
        fr: &Frame<'_>,
    ) -> Result<Option<f64>, Failure> {
        let out_of_range = "ToleratedFailurePercentage must be between 0 and 100.";
        Ok(match &spec.tolerated_percentage {
            None | Some(Source::Intrinsic(_)) => None,
            Some(Source::Literal(p)) => Some(*p),
            Some(Source::Query(q)) => {
                Some(self.with_query(fr, States::input(input), |env, rng| {
                    let v = q.eval(env, rng)?;
                    match v.as_f64() {
                        Some(x) if (0.0..=100.0).contains(&x) => Ok(x),
                        Some(_) => Err(q.invalid(out_of_range)),
                        None => Err(q.unexpected("number", &v)),
                    }
                })?)
            }
            Some(Source::Path(p)) => {
                let v = p
                    .eval(input, fr.docs())
                    .map_err(|_| self.runtime(fr, p.not_found(input, fr.docs())))?;
                let x = match v.as_ref() {
                    Value::String(s) => s.parse::<f64>().ok().filter(|x| x.is_finite()),
                    other => other.as_f64(),
                };
                match x {
                    Some(x) if (0.0..=100.0).contains(&x) => Some(x),
                    Some(_) => return Err(self.runtime(fr, out_of_range)),
                    None => {
                        return Err(self.runtime(
                            fr,
                            format!("The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {}", bare(&v), p.text),
                        ));
                    }
                }
            }
        })
    }

    /// Each iteration's input: the item selector per item (with `$$.Map.Item`), then
    /// batches.
    pub(super) fn iteration_inputs(
        &self,
        spec: &MapSpec,
        items: Vec<Value>,
        input: &Value,
        fr: &Frame<'_>,
    ) -> Result<Vec<Value>, Failure> {
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            match &spec.item_selector {
                None => inputs.push(item),
                Some(selector) => {
                    let item_frame = Frame {
                        st: fr.st,
                        entered: fr.entered,
                        entered_prev: fr.entered_prev,
                        entered_millis: fr.entered_millis,
                        ctx: self.item_context(fr, index, &item),
                        vars: fr.vars,
                    };
                    inputs.push(self.fill(selector, input, States::input(input), &item_frame)?);
                }
            }
        }
        if let Some(b) = &spec.batcher {
            inputs = self.batch(b, inputs, input, fr)?;
        }
        Ok(inputs)
    }

    /// Everything a Map does before its first iteration starts.
    async fn map_setup(
        &self,
        spec: &MapSpec,
        input: &Value,
        fr: &Frame<'_>,
    ) -> Result<(Vec<Value>, Option<u64>, Option<u64>, Option<f64>), Failure> {
        let items = self.map_items(spec, input, fr).await?;
        let max_concurrency =
            self.map_number(&spec.max_concurrency, "MaxConcurrency", input, fr)?;
        let tolerated_count =
            self.map_number(&spec.tolerated_count, "ToleratedFailureCount", input, fr)?;
        let tolerated_percentage = self.tolerated_percentage(spec, input, fr)?;
        let inputs = self.iteration_inputs(spec, items, input, fr)?;
        Ok((
            inputs,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
        ))
    }

    /// `input` is the effective input (after `InputPath`), which the Map's JSONPath fields
    /// read; a JSONata Map reads the state input, the same value.
    pub(super) async fn map(
        &self,
        spec: &MapSpec,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
    ) -> Result<Value, Failure> {
        let st = fr.st;
        let (inputs, max_concurrency, tolerated_count, tolerated_percentage) =
            match self.map_setup(spec, &input, fr).await {
                Ok(setup) => setup,
                // AWS records an expression's failure here, then the Map's.
                Err(mut f) if f.evaluation.is_some() => {
                    self.evaluation_failed(fr, &mut f, track);
                    self.record(track, || EventDetails::MapStateFailed);
                    return Err(f);
                }
                Err(f) => return Err(f),
            };
        drop(input);
        let distributed = spec.mode == MapMode::Distributed;
        let total = inputs.len();
        let started = self.record(track, || EventDetails::MapStateStarted { length: total });
        if distributed {
            let arn = format!(
                "{}/{}:{}",
                self.execution_arn.replace(":execution:", ":mapRun:"),
                st.name,
                started
            );
            self.record(track, || EventDetails::MapRunStarted { map_run_arn: arn });
        }
        let limit = concurrency_limit(max_concurrency, distributed, total);
        let rec = track.rec;
        let name = &st.name;
        let processor = &spec.processor;
        // A Distributed Map's iterations are child executions: they see no variables of
        // this state machine.
        let outer = (!distributed).then_some(fr.vars);
        let mut stream = futures::stream::iter(inputs.into_iter().enumerate())
            .map(|(index, item)| async move {
                let r = if distributed {
                    self.child_execution(processor, item).await
                } else {
                    let it = Track {
                        rec,
                        prev: started,
                        branch: None,
                    };
                    self.inline_iteration(processor, item, index, it, name, outer)
                        .await
                };
                (index, r)
            })
            .buffer_unordered(limit);
        let mut results = vec![Value::Null; total];
        let mut failed = 0usize;
        while let Some((index, r)) = stream.next().await {
            match r {
                Ok(v) => {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = v;
                    }
                }
                Err(f) if !distributed => {
                    drop(stream);
                    if let Some(last) = f.last_event {
                        track.prev = last;
                    }
                    self.record(track, || EventDetails::MapStateFailed);
                    return Err(f);
                }
                Err(f) => {
                    failed += 1;
                    if !tolerated(failed, total, tolerated_count, tolerated_percentage) {
                        drop(stream);
                        return Err(self.threshold_exceeded(track));
                    }
                    if let Some(slot) = results.get_mut(index) {
                        *slot = f.to_value();
                    }
                }
            }
        }
        if distributed {
            self.record(track, || EventDetails::MapRunSucceeded);
        }
        self.record(track, || EventDetails::MapStateSucceeded);
        Ok(Value::Array(results))
    }

    /// One item of a Distributed Map: a child execution with its own history.
    async fn child_execution(&self, processor: &Graph, item: Value) -> Result<Value, Failure> {
        let child = Recorder::new(false, MAX_HISTORY_EVENTS);
        let _ = child.next_id.fetch_add(1, Ordering::Relaxed);
        let r = self.graph(processor, item, &child, 1, None, None).await;
        r.map(|(v, _)| v)
    }

    /// One item of an inline Map, recorded in the execution's history between its
    /// `MapIterationStarted` and its `MapIterationSucceeded` or `MapIterationFailed`.
    async fn inline_iteration<'s>(
        &'s self,
        processor: &'s Graph,
        item: Value,
        index: usize,
        mut it: Track<'s>,
        name: &Arc<str>,
        outer: Option<&'s Scope<'s>>,
    ) -> Result<Value, Failure> {
        let rec = it.rec;
        self.record(&mut it, || EventDetails::MapIterationStarted {
            name: Arc::clone(name),
            index,
        });
        let r = self.graph(processor, item, rec, it.prev, outer, None).await;
        match &r {
            Ok((_, last)) => {
                it.prev = *last;
                self.record(&mut it, || EventDetails::MapIterationSucceeded {
                    name: Arc::clone(name),
                    index,
                });
            }
            Err(f) => {
                if let Some(last) = f.last_event {
                    it.prev = last;
                }
                self.record(&mut it, || EventDetails::MapIterationFailed {
                    name: Arc::clone(name),
                    index,
                });
            }
        }
        r.map(|(v, _)| v)
    }

    /// Records that a Distributed Map's failures passed what it tolerates, and the failure.
    fn threshold_exceeded(&self, track: &mut Track<'_>) -> Failure {
        let error = Some(
            StatesError::ExceedToleratedFailureThreshold
                .name()
                .to_owned(),
        );
        let cause = Some("The specified tolerated failure threshold was exceeded".to_owned());
        self.record(track, || EventDetails::MapRunFailed {
            error: error.clone(),
            cause: cause.clone(),
        });
        self.record(track, || EventDetails::MapStateFailed);
        Failure::of(error, cause)
    }

    fn batch(
        &self,
        b: &Batcher,
        inputs: Vec<Value>,
        input: &Value,
        fr: &Frame<'_>,
    ) -> Result<Vec<Value>, Failure> {
        let max_items = self
            .map_number(&b.max_items, "MaxItemsPerBatch", input, fr)?
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(usize::MAX);
        let max_bytes = self
            .map_number(&b.max_bytes, "MaxInputBytesPerBatch", input, fr)?
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(MAX_PAYLOAD_BYTES);
        let batch_input = match &b.batch_input {
            Some(t) => Some(self.fill(t, input, States::input(input), fr)?),
            None => None,
        };
        let make = |items: Vec<Value>| {
            let mut m = Map::new();
            if let Some(bi) = &batch_input {
                m.insert("BatchInput".into(), bi.clone());
            }
            m.insert("Items".into(), Value::Array(items));
            Value::Object(m)
        };
        let mut batches = Vec::new();
        let mut current = Vec::new();
        let mut bytes = 0usize;
        for item in inputs {
            let size = crate::vars::json_size(&item);
            if !current.is_empty() && (current.len() >= max_items || bytes + size > max_bytes) {
                batches.push(make(std::mem::take(&mut current)));
                bytes = 0;
            }
            bytes += size;
            current.push(item);
        }
        if !current.is_empty() {
            batches.push(make(current));
        }
        Ok(batches)
    }

    /// `ItemReader`: the items come from the handler registered for the reader's resource.
    async fn read_items(
        &self,
        reader: &Reader,
        input: &Value,
        fr: &Frame<'_>,
    ) -> Result<Vec<Value>, Failure> {
        let parameters = match &reader.parameters {
            Some(t) => self.fill(t, input, States::input(input), fr)?,
            None => Value::Object(Map::new()),
        };
        let max_items = self.map_number(&reader.max_items, "MaxItems", input, fr)?;
        let failed = |cause: String| Failure::new(StatesError::ItemReaderFailed.name(), cause);
        let Some(handler) = self.handlers.find(&reader.resource) else {
            return Err(failed(format!(
                "no handler is registered for the ItemReader resource '{}'",
                reader.resource
            )));
        };
        let request = TaskRequest {
            resource: Arc::clone(&reader.resource),
            input: parameters,
            state_name: Arc::clone(&fr.st.name),
            attempt: 1,
            timeout_seconds: None,
            heartbeat_seconds: None,
            task_token: None,
            submission: Default::default(),
        };
        let items = match handler.invoke(request).await {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                return Err(failed(format!(
                    "the ItemReader returned {other}, which is not a JSON array"
                )));
            }
            Err(f) => {
                return Err(failed(format!(
                    "{}: {}",
                    f.error,
                    f.cause.unwrap_or_default()
                )));
            }
        };
        Ok(match max_items.and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n > 0 => items.into_iter().take(n).collect(),
            _ => items,
        })
    }
}

/// How many iterations run at once: `MaxConcurrency`, where 0 or none means all of an
/// inline Map's items and 10,000 child executions of a Distributed Map.
fn concurrency_limit(max_concurrency: Option<u64>, distributed: bool, total: usize) -> usize {
    match max_concurrency {
        Some(0) | None if distributed => 10_000,
        Some(0) | None => total.max(1),
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX).max(1),
    }
}

/// Whether `failed` of `total` iterations are within `ToleratedFailureCount` or
/// `ToleratedFailurePercentage`; with neither set, no failure is.
pub(super) fn tolerated(
    failed: usize,
    total: usize,
    count: Option<u64>,
    percentage: Option<f64>,
) -> bool {
    let over_count = count.is_none_or(|c| failed as u64 > c);
    let over_pct = percentage.is_none_or(|p| (failed as f64) * 100.0 / (total as f64) > p);
    match (count, percentage) {
        (None, None) => false,
        _ => !(over_count && over_pct),
    }
}
