//! Evaluating a state's fields: paths, payload templates, intrinsic functions and JSONata
//! expressions, with the variables in scope, failing as AWS fails for each.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::{Failure, Oversize, Run, check_limits, lock};
use crate::exec::{JsonataClock, MAX_DEPTH, MAX_PAYLOAD_BYTES};
use crate::model::*;
use crate::path::Documents;
use crate::query::{self, Query, QueryEnv, QueryError};
use crate::show::bare;
use crate::states_error::StatesError;
use crate::template::{Template, TemplateError};
use crate::timestamp;
use crate::vars::{AssignError, Assigned, Scope};

/// What a state's fields read while it runs.
pub(super) struct Frame<'f> {
    pub st: &'f State,
    /// The id of the state's `…StateEntered` event, which causes quote.
    pub entered: u64,
    /// The event the `…StateEntered` event follows.
    pub entered_prev: u64,
    pub entered_millis: i64,
    /// The context object, or `Null` when no field of the state reads it.
    pub ctx: Value,
    pub vars: &'f Scope<'f>,
}

impl Frame<'_> {
    /// The documents a JSONPath field reads besides its input.
    pub fn docs(&self) -> Documents<'_> {
        Documents {
            context: &self.ctx,
            variables: self.vars,
        }
    }
}

/// What a JSONata expression reads of `$states` besides the context object.
#[derive(Clone, Copy)]
pub(super) struct States<'v> {
    /// `$states.input`: the state's input as it entered.
    pub input: &'v Value,
    /// `$states.result`.
    pub result: Option<&'v Value>,
    /// `$states.errorOutput`.
    pub error_output: Option<&'v Value>,
}

impl<'v> States<'v> {
    pub fn input(input: &'v Value) -> Self {
        States {
            input,
            result: None,
            error_output: None,
        }
    }

    pub fn with_result(self, result: &'v Value) -> Self {
        States {
            result: Some(result),
            ..self
        }
    }
}

impl Run<'_> {
    /// How AWS opens the cause of a failure inside a state.
    pub(super) fn prefix(fr: &Frame<'_>) -> String {
        format!(
            "An error occurred while executing the state '{}' (entered at the event id #{}). ",
            fr.st.name, fr.entered
        )
    }

    pub(super) fn runtime(&self, fr: &Frame<'_>, message: impl std::fmt::Display) -> Failure {
        Failure::new(
            StatesError::Runtime.name(),
            format!("{}{message}", Self::prefix(fr)),
        )
    }

    /// `States.QueryEvaluationError`, to be recorded as an `EvaluationFailed` event.
    pub(super) fn query_failure(fr: &Frame<'_>, e: QueryError) -> Failure {
        Failure {
            evaluation: Some(e.location),
            ..Failure::new(
                StatesError::QueryEvaluationError.name(),
                format!("{}{}", Self::prefix(fr), e.message),
            )
        }
    }

    /// Runs `eval` with what a JSONata expression reads: `$states`, the variables, the
    /// execution's clock and random source.
    pub(super) fn with_query<T>(
        &self,
        fr: &Frame<'_>,
        states: States<'_>,
        eval: impl FnOnce(&QueryEnv<'_>, &mut dyn sfn_jsonata::RandomSource) -> Result<T, QueryError>,
    ) -> Result<T, Failure> {
        let clock = JsonataClock(&*self.clock);
        let env = QueryEnv {
            input: states.input,
            result: states.result,
            error_output: states.error_output,
            context: &fr.ctx,
            vars: fr.vars,
            clock: &clock,
        };
        let mut rng = lock(&self.rng);
        eval(&env, &mut *rng).map_err(|e| Self::query_failure(fr, e))
    }

    /// Fills a JSONPath template in against `doc` (`$`).
    pub(super) fn fill_path(
        &self,
        t: &Template,
        doc: &Value,
        fr: &Frame<'_>,
    ) -> Result<Value, Failure> {
        let mut rng = lock(&self.rng);
        t.eval(doc, fr.docs(), &mut *rng).map_err(|e| match e {
            TemplateError::PathNotFound { field, path } => self.runtime(
                fr,
                format!("The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{doc}'"),
            ),
            TemplateError::Intrinsic { error, message } => {
                Failure::new(&error, format!("{}{message}", Self::prefix(fr)))
            }
        })
    }

    /// Fills a payload in: a JSONPath template against `doc`, a JSONata one with `states`.
    pub(super) fn fill(
        &self,
        p: &Payload,
        doc: &Value,
        states: States<'_>,
        fr: &Frame<'_>,
    ) -> Result<Value, Failure> {
        match p {
            Payload::Path(t) => self.fill_path(t, doc, fr),
            Payload::Query(t) => self.with_query(fr, states, |env, rng| t.eval(env, rng)),
        }
    }

    /// `InputPath`/`OutputPath` on a borrowed document.
    pub(super) fn select<'v>(
        &self,
        sel: &Selector,
        doc: &'v Value,
        fr: &'v Frame<'_>,
    ) -> Result<Cow<'v, Value>, Failure> {
        match sel {
            Selector::Identity => Ok(Cow::Borrowed(doc)),
            Selector::Empty => Ok(Cow::Owned(Value::Object(Map::new()))),
            Selector::Path(p) => p
                .eval(doc, fr.docs())
                .map_err(|_| self.runtime(fr, p.not_found(doc, fr.docs()))),
        }
    }

    /// `InputPath`/`OutputPath` on an owned document (no copy for `$`).
    pub(super) fn select_owned(
        &self,
        sel: &Selector,
        doc: Value,
        fr: &Frame<'_>,
    ) -> Result<Value, Failure> {
        match sel {
            Selector::Identity => Ok(doc),
            _ => self.select(sel, &doc, fr).map(Cow::into_owned),
        }
    }

    pub(super) fn apply_result_path(
        &self,
        rp: &ResultPath,
        raw: Value,
        result: Value,
        st: &State,
    ) -> Result<Value, Failure> {
        match rp {
            ResultPath::Replace => Ok(result),
            ResultPath::Discard => Ok(raw),
            ResultPath::Path(p) => {
                let mut doc = raw;
                match p.path.set(&mut doc, result) {
                    Ok(()) => {
                        // Input and result each fit; together they may not.
                        self.check_size(&doc, st)?;
                        Ok(doc)
                    }
                    Err(_) => Err(Failure::new(
                        StatesError::ResultPathMatchFailure.name(),
                        format!(
                            "Unable to apply ReferencePath {} to input {}. (state '{}')",
                            p.text, doc, st.name
                        ),
                    )),
                }
            }
        }
    }

    /// Checks a state's result, effective input or output against the payload quota (AWS's
    /// error and cause) and against [`MAX_DEPTH`].
    pub(super) fn check_size(&self, value: &Value, st: &State) -> Result<(), Failure> {
        check_limits(value, MAX_PAYLOAD_BYTES).map_err(|kind| Self::oversize(kind, st))
    }

    fn oversize(kind: Oversize, st: &State) -> Failure {
        match kind {
            Oversize::Bytes => Failure::new(
                StatesError::DataLimitExceeded.name(),
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    st.name
                ),
            ),
            Oversize::Depth => Failure::new(
                StatesError::Runtime.name(),
                format!(
                    "The state '{}' produced a value nested more than {MAX_DEPTH} levels deep, more than this engine holds.",
                    st.name
                ),
            ),
        }
    }

    /// Evaluates an `Assign` (a state's, a Choice rule's or a catcher's): JSONPath's reads
    /// `doc` as `$`, JSONata's reads `states`. The values are checked against the scope's
    /// rules and AWS's quotas now, and stored when the state exits.
    pub(super) fn assign(
        &self,
        assign: Option<&Payload>,
        doc: &Value,
        states: States<'_>,
        fr: &Frame<'_>,
    ) -> Result<Assigned, Failure> {
        let Some(assign) = assign else {
            return Ok(Assigned::default());
        };
        let object = match self.fill(assign, doc, states, fr)? {
            Value::Object(m) => m,
            // The loader only accepts objects, whose templates fill in to objects.
            other => {
                return Err(self.runtime(fr, format!("'Assign' gave {other}, not an object")));
            }
        };
        for value in object.values() {
            if let Err(kind) = check_limits(value, usize::MAX) {
                return Err(Self::oversize(kind, fr.st));
            }
        }
        let assigned = Assigned::from_object(object);
        fr.vars.check(&assigned).map_err(|e| {
            let error = match e {
                AssignError::OuterScope(_) => StatesError::Runtime,
                _ => StatesError::DataLimitExceeded,
            };
            Failure::new(error.name(), format!("{}{}", Self::prefix(fr), e.message()))
        })?;
        Ok(assigned)
    }

    /// A JSONata state's output: `Output` evaluated, else `default`.
    pub(super) fn output(
        &self,
        output: Option<&query::Template>,
        states: States<'_>,
        default: Value,
        fr: &Frame<'_>,
    ) -> Result<Value, Failure> {
        let Some(t) = output else {
            return Ok(default);
        };
        let out = self.with_query(fr, states, |env, rng| t.eval(env, rng))?;
        self.check_size(&out, fr.st)?;
        Ok(out)
    }

    /// A JSONata expression that must give an integer in `min..=max`.
    pub(super) fn query_integer(
        &self,
        q: &Query,
        states: States<'_>,
        min: u64,
        max: u64,
        fr: &Frame<'_>,
    ) -> Result<u64, Failure> {
        self.with_query(fr, states, |env, rng| {
            let v = q.eval(env, rng)?;
            let Some(f) = v.as_f64() else {
                return Err(q.unexpected("integer", &v));
            };
            if f.fract() != 0.0 {
                return Err(q.unexpected("integer", &v));
            }
            let n = v
                .as_u64()
                .or_else(|| (f >= 0.0 && f < u64::MAX as f64).then_some(f as u64));
            match n {
                Some(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(q.invalid(&format!("{v} is not between {min} and {max}"))),
            }
        })
    }

    /// A JSONata expression that must give a string.
    pub(super) fn query_string(
        &self,
        q: &Query,
        states: States<'_>,
        fr: &Frame<'_>,
    ) -> Result<String, Failure> {
        self.with_query(fr, states, |env, rng| match q.eval(env, rng)? {
            Value::String(s) => Ok(s),
            other => Err(q.unexpected("string", &other)),
        })
    }

    /// A Fail state's `Error` or `Cause`.
    pub(super) fn fail_field(
        &self,
        src: Option<&Source<String>>,
        input: &Value,
        fr: &Frame<'_>,
    ) -> Result<Option<String>, Failure> {
        let value = match src {
            None => return Ok(None),
            Some(Source::Literal(s)) => return Ok(Some(s.clone())),
            Some(Source::Query(q)) => {
                return self.query_string(q, States::input(input), fr).map(Some);
            }
            Some(Source::Path(p)) => p
                .eval(input, fr.docs())
                .map_err(|_| self.runtime(fr, p.not_found(input, fr.docs())))?
                .into_owned(),
            Some(Source::Intrinsic(f)) => {
                let mut rng = lock(&self.rng);
                f.eval_in(input, fr.docs(), &mut *rng).map_err(|e| {
                    Failure::new(e.error_name(), format!("{}{}", Self::prefix(fr), e.cause()))
                })?
            }
        };
        match value {
            Value::String(s) => Ok(Some(s)),
            other => Err(self.runtime(
                fr,
                format!(
                    "The Fail state's error or cause path refers to {other}, which is not a string"
                ),
            )),
        }
    }

    /// When a Wait state ends, on the execution's clock.
    pub(super) fn wait_deadline(
        &self,
        wait: &Wait,
        eff: &Value,
        fr: &Frame<'_>,
    ) -> Result<i64, Failure> {
        let now = fr.entered_millis;
        let lookup = |p: &PathExpr| {
            p.eval(eff, fr.docs())
                .map(Cow::into_owned)
                .map_err(|_| self.runtime(fr, p.not_found(eff, fr.docs())))
        };
        let after = |seconds: u64| {
            now.saturating_add(
                i64::try_from(seconds)
                    .unwrap_or(i64::MAX / 2)
                    .saturating_mul(1000),
            )
        };
        let at = |ns: timestamp::Nanos| i64::try_from(ns.div_euclid(1_000_000)).unwrap_or(i64::MAX);
        Ok(match wait {
            Wait::Seconds(s) => after(*s),
            Wait::Timestamp(ns) => at(*ns),
            Wait::SecondsQuery(q) => {
                after(self.query_integer(q, States::input(eff), 0, 99_999_999, fr)?)
            }
            Wait::TimestampQuery(q) => {
                let text = self.query_string(q, States::input(eff), fr)?;
                match timestamp::parse(&text) {
                    Some(ns) => at(ns),
                    None => {
                        return Err(Self::query_failure(
                            fr,
                            QueryError::new(
                                Some("Timestamp"),
                                format!(
                                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {text}"
                                ),
                            ),
                        ));
                    }
                }
            }
            Wait::SecondsPath(p) => {
                let v = lookup(p)?;
                match v.as_i64() {
                    Some(s) if s < 0 => {
                        return Err(self.runtime(
                            fr,
                            format!(
                                "The SecondsPath parameter references a negative value: {} == {}",
                                p.text,
                                bare(&v)
                            ),
                        ));
                    }
                    Some(s) => now.saturating_add(s.saturating_mul(1000)),
                    None => {
                        return Err(self.runtime(fr, format!("The SecondsPath parameter cannot be parsed as a long value: {} == {}", p.text, bare(&v))));
                    }
                }
            }
            Wait::TimestampPath(p) => {
                let v = lookup(p)?;
                match v.as_str().and_then(timestamp::parse) {
                    Some(ns) => at(ns),
                    None => {
                        return Err(self.runtime(
                            fr,
                            format!(
                                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                                p.text,
                                bare(&v)
                            ),
                        ));
                    }
                }
            }
        })
    }

    /// A Choice rule's test against the state's effective input.
    pub(super) fn test(&self, test: &Test, eff: &Value, fr: &Frame<'_>) -> Result<bool, Failure> {
        match test {
            Test::Rule(rule) => rule.eval(eff, fr.docs()).map_err(|m| self.runtime(fr, m)),
            Test::Condition(Source::Literal(b)) => Ok(*b),
            Test::Condition(Source::Query(q)) => {
                self.with_query(fr, States::input(eff), |env, rng| {
                    match q.eval(env, rng)? {
                        Value::Bool(b) => Ok(b),
                        other => Err(q.unexpected("boolean", &other)),
                    }
                })
            }
            Test::Condition(_) => Ok(false),
        }
    }

    /// The context object of a Map iteration's `ItemSelector`.
    pub(super) fn item_context(&self, fr: &Frame<'_>, index: usize, item: &Value) -> Value {
        self.context(
            fr.st,
            self.clock.now_millis(),
            0,
            Some(("Map", json!({"Item": {"Index": index, "Value": item}}))),
        )
    }
}
