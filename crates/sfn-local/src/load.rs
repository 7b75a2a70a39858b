//! Loading and validating a definition the way `CreateStateMachine` does.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::choice::load_rule;
use crate::intrinsics::Intrinsic;
use crate::model::*;
use crate::path::Path;
use crate::template::Template;
use crate::timestamp;
use crate::{Error, StatesError};

/// The limit AWS puts on state names.
const MAX_NAME_LEN: usize = 80;

pub(crate) struct Loaded {
    pub root: Graph,
    pub timeout_seconds: Option<u64>,
    pub uses_context: bool,
}

pub(crate) fn load(value: &Value) -> Result<Loaded, Error> {
    let Some(obj) = value.as_object() else {
        return Err(Error::invalid(
            "/",
            "definition must be a valid JSON object",
        ));
    };
    let mut missing = Vec::new();
    if !obj.contains_key("States") {
        missing.push("States");
    }
    if !obj.contains_key("StartAt") {
        missing.push("StartAt");
    }
    if !missing.is_empty() {
        return Err(Error::invalid(
            "/",
            format!("these fields are required: [{}]", missing.join(", ")),
        ));
    }
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "StartAt" | "States" | "Comment" | "Version" | "TimeoutSeconds" | "QueryLanguage"
        ) {
            return Err(Error::invalid(
                "/",
                format!("field '{key}' is not supported"),
            ));
        }
    }
    let jsonata = match obj.get("QueryLanguage") {
        None => false,
        Some(Value::String(s)) if s == "JSONPath" => false,
        Some(Value::String(s)) if s == "JSONata" => true,
        Some(other) => {
            return Err(Error::invalid(
                "/",
                format!("'QueryLanguage' must be 'JSONPath' or 'JSONata', not {other}"),
            ));
        }
    };
    if jsonata {
        check_no_downgrade(obj, "")?;
        return Err(Error::Unsupported {
            location: "/".into(),
            message: "'QueryLanguage' JSONata is not supported by this engine; use JSONPath".into(),
        });
    }
    if let Some(v) = obj.get("Version") {
        if !v.is_string() {
            return Err(Error::invalid("/Version", "'Version' must be a string"));
        }
    }
    let timeout_seconds = match obj.get("TimeoutSeconds") {
        None => None,
        Some(v) => Some(positive_int(v, "/TimeoutSeconds", "TimeoutSeconds")?),
    };
    let mut loader = Loader {
        uses_context: false,
    };
    let root = loader.graph(obj, "")?;
    Ok(Loaded {
        root,
        timeout_seconds,
        uses_context: loader.uses_context,
    })
}

/// A state may not fall back to JSONPath inside a JSONata machine.
fn check_no_downgrade(obj: &Map<String, Value>, prefix: &str) -> Result<(), Error> {
    let Some(states) = obj.get("States").and_then(Value::as_object) else {
        return Ok(());
    };
    for (name, state) in states {
        let loc = format!("{prefix}/States/{name}");
        if state.get("QueryLanguage").and_then(Value::as_str) == Some("JSONPath") {
            return Err(Error::invalid(
                loc,
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            ));
        }
        if let Some(branches) = state.get("Branches").and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                if let Some(b) = b.as_object() {
                    check_no_downgrade(b, &format!("{loc}/Branches/{i}"))?;
                }
            }
        }
        for key in ["ItemProcessor", "Iterator"] {
            if let Some(p) = state.get(key).and_then(Value::as_object) {
                check_no_downgrade(p, &format!("{loc}/{key}"))?;
            }
        }
    }
    Ok(())
}

fn positive_int(v: &Value, loc: &str, field: &str) -> Result<u64, Error> {
    match v.as_u64() {
        Some(n) if n > 0 && n <= 99_999_999 => Ok(n),
        _ => Err(Error::invalid(
            loc,
            format!("'{field}' must be an integer between 1 and 99999999, not {v}"),
        )),
    }
}

fn non_negative_int(v: &Value, loc: &str, field: &str) -> Result<u64, Error> {
    v.as_u64().ok_or_else(|| {
        Error::invalid(
            loc,
            format!("'{field}' must be a non-negative integer, not {v}"),
        )
    })
}

fn path_expr(v: &Value, loc: &str, field: &str) -> Result<PathExpr, Error> {
    let Some(text) = v.as_str() else {
        return Err(Error::invalid(
            loc,
            format!("'{field}' must be a JSONPath string, not {v}"),
        ));
    };
    let path = Path::parse(text).map_err(|e| {
        Error::invalid(
            loc,
            format!("'{field}' is not a valid JSONPath ({text:?}): {e}"),
        )
    })?;
    Ok(PathExpr {
        text: text.into(),
        path,
    })
}

struct Loader {
    uses_context: bool,
}

/// Names of a scope's states; the second value marks whether each is reachable.
struct Scope<'a> {
    index: HashMap<&'a str, usize>,
}

impl Scope<'_> {
    fn resolve(&self, name: &str, loc: &str, field: &str) -> Result<usize, Error> {
        self.index.get(name).copied().ok_or_else(|| {
            Error::invalid(
                loc,
                format!("missing '{field}' target: no state named {name:?} in this scope"),
            )
        })
    }
}

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];
const IO: &[&str] = &["InputPath", "OutputPath"];
const TRANSITION: &[&str] = &["Next", "End"];
const RESULT: &[&str] = &["ResultPath", "Parameters", "ResultSelector"];
const ERRORS: &[&str] = &["Retry", "Catch"];

impl Loader {
    fn graph(&mut self, obj: &Map<String, Value>, prefix: &str) -> Result<Graph, Error> {
        let loc_root = if prefix.is_empty() {
            "/".to_owned()
        } else {
            prefix.to_owned()
        };
        let Some(start) = obj.get("StartAt") else {
            return Err(Error::invalid(
                loc_root,
                "these fields are required: [StartAt]",
            ));
        };
        let Some(start) = start.as_str() else {
            return Err(Error::invalid(
                format!("{prefix}/StartAt"),
                "'StartAt' must be a string",
            ));
        };
        let Some(states) = obj.get("States") else {
            return Err(Error::invalid(
                loc_root,
                "these fields are required: [States]",
            ));
        };
        let Some(states) = states.as_object() else {
            return Err(Error::invalid(
                format!("{prefix}/States"),
                "'States' must be an object",
            ));
        };
        if states.is_empty() {
            return Err(Error::invalid(
                format!("{prefix}/States"),
                "'States' must name at least one state",
            ));
        }
        let scope = Scope {
            index: states
                .keys()
                .enumerate()
                .map(|(i, k)| (k.as_str(), i))
                .collect(),
        };
        let start = scope.resolve(start, &format!("{prefix}/StartAt"), "StartAt")?;
        let mut loaded = Vec::with_capacity(states.len());
        for (name, state) in states {
            let loc = format!("{prefix}/States/{name}");
            if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
                return Err(Error::invalid(
                    loc,
                    format!("state names must be 1 to {MAX_NAME_LEN} characters long"),
                ));
            }
            loaded.push(self.state(name, state, &loc, &scope)?);
        }
        let graph = Graph {
            start,
            states: loaded,
        };
        check_reachable(&graph, prefix)?;
        Ok(graph)
    }

    fn state(
        &mut self,
        name: &str,
        value: &Value,
        loc: &str,
        scope: &Scope,
    ) -> Result<State, Error> {
        let Some(obj) = value.as_object() else {
            return Err(Error::invalid(loc, "a state must be an object"));
        };
        let Some(kind) = obj.get("Type") else {
            return Err(Error::invalid(loc, "these fields are required: [Type]"));
        };
        let kind = kind.as_str().unwrap_or_default();
        check_query_language(obj, loc)?;
        check_state_fields(obj, kind, loc)?;
        let mut uses_context = false;
        let input_path = selector(
            obj.get("InputPath"),
            &format!("{loc}/InputPath"),
            "InputPath",
            &mut uses_context,
        )?;
        let output_path = selector(
            obj.get("OutputPath"),
            &format!("{loc}/OutputPath"),
            "OutputPath",
            &mut uses_context,
        )?;
        let result_path = match obj.get("ResultPath") {
            None => ResultPath::Replace,
            Some(v) => result_path(v, &format!("{loc}/ResultPath"))?,
        };
        // A Map's `Parameters` is its legacy item selector, read with the Map's fields.
        let parameters = match obj.get("Parameters") {
            _ if kind == "Map" => None,
            None => None,
            Some(v) => Some(Template::load(
                v,
                &format!("{loc}/Parameters"),
                &mut uses_context,
            )?),
        };
        let result_selector = match obj.get("ResultSelector") {
            None => None,
            Some(v) => Some(Template::load(
                v,
                &format!("{loc}/ResultSelector"),
                &mut uses_context,
            )?),
        };
        let terminal = matches!(kind, "Choice" | "Succeed" | "Fail");
        let next = if terminal {
            None
        } else {
            transition(obj, loc, scope)?
        };
        let retry = match obj.get("Retry") {
            None => Vec::new(),
            Some(v) => retriers(v, &format!("{loc}/Retry"))?,
        };
        let catch = match obj.get("Catch") {
            None => Vec::new(),
            Some(v) => catchers(v, &format!("{loc}/Catch"), scope)?,
        };
        let kind = self.kind(kind, obj, loc, scope, &mut uses_context)?;
        if uses_context {
            self.uses_context = true;
        }
        Ok(State {
            name: Arc::from(name),
            kind,
            input_path,
            output_path,
            result_path,
            parameters,
            result_selector,
            next,
            retry,
            catch,
            uses_context,
            source: value.clone(),
        })
    }

    /// The type-specific part of a state.
    fn kind(
        &mut self,
        kind: &str,
        obj: &Map<String, Value>,
        loc: &str,
        scope: &Scope,
        uses_context: &mut bool,
    ) -> Result<Kind, Error> {
        Ok(match kind {
            "Pass" => Kind::Pass {
                result: obj.get("Result").cloned(),
            },
            "Task" => Kind::Task(Box::new(task(obj, loc, uses_context)?)),
            "Choice" => choice(obj, loc, scope, uses_context)?,
            "Wait" => Kind::Wait(wait(obj, loc)?),
            "Succeed" => Kind::Succeed,
            "Fail" => Kind::Fail {
                error: fail_field(obj, "Error", loc, uses_context)?,
                cause: fail_field(obj, "Cause", loc, uses_context)?,
            },
            "Parallel" => Kind::Parallel {
                branches: self.branches(obj, loc)?,
            },
            "Map" => Kind::Map(Box::new(self.map(obj, loc, uses_context)?)),
            other => return Err(Error::invalid(loc, format!("unknown state type {other:?}"))),
        })
    }

    fn branches(&mut self, obj: &Map<String, Value>, loc: &str) -> Result<Vec<Graph>, Error> {
        let Some(branches) = obj.get("Branches") else {
            return Err(Error::invalid(loc, "these fields are required: [Branches]"));
        };
        let Some(branches) = branches.as_array().filter(|b| !b.is_empty()) else {
            return Err(Error::invalid(
                format!("{loc}/Branches"),
                "'Branches' must be a non-empty array",
            ));
        };
        let mut graphs = Vec::with_capacity(branches.len());
        for (i, b) in branches.iter().enumerate() {
            let bloc = format!("{loc}/Branches/{i}");
            let Some(bobj) = b.as_object() else {
                return Err(Error::invalid(bloc, "a branch must be an object"));
            };
            check_fields(bobj, &bloc, &["StartAt", "States", "Comment"])?;
            graphs.push(self.graph(bobj, &bloc)?);
        }
        Ok(graphs)
    }
    fn map(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        uses_context: &mut bool,
    ) -> Result<MapSpec, Error> {
        let (pobj, ploc, mode) = processor(obj, loc)?;
        let processor = self.graph(pobj, &ploc)?;
        let items_path = match obj.get("ItemsPath") {
            None => None,
            Some(v) => {
                let p = path_expr(v, &format!("{loc}/ItemsPath"), "ItemsPath")?;
                if p.path.is_context() {
                    *uses_context = true;
                }
                Some(p)
            }
        };
        let item_selector = match (obj.get("ItemSelector"), obj.get("Parameters")) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    loc,
                    "a Map state has either 'ItemSelector' or 'Parameters', not both",
                ));
            }
            (Some(v), None) => Some(Template::load(
                v,
                &format!("{loc}/ItemSelector"),
                uses_context,
            )?),
            (None, Some(v)) => Some(Template::load(
                v,
                &format!("{loc}/Parameters"),
                uses_context,
            )?),
            (None, None) => None,
        };
        let max_concurrency = count_source(obj, "MaxConcurrency", loc, uses_context)?;
        let tolerated_count = count_source(obj, "ToleratedFailureCount", loc, uses_context)?;
        let tolerated_percentage = tolerated_percentage(obj, loc, uses_context)?;
        let batcher = batcher(obj, loc, uses_context)?;
        let reader = reader(obj, loc, uses_context)?;
        if let Some(label) = obj.get("Label") {
            match label.as_str() {
                Some(l) if !l.is_empty() && l.chars().count() <= 40 => {}
                _ => {
                    return Err(Error::invalid(
                        loc,
                        "'Label' must be a string of 1 to 40 characters",
                    ));
                }
            }
        }
        Ok(MapSpec {
            processor,
            mode,
            items_path,
            item_selector,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
            batcher,
            reader,
        })
    }
}

/// `QueryLanguage` on a state: JSONPath, or JSONata (which this engine does not run).
fn check_query_language(obj: &Map<String, Value>, loc: &str) -> Result<(), Error> {
    match obj.get("QueryLanguage") {
        None => Ok(()),
        Some(Value::String(s)) if s == "JSONPath" => Ok(()),
        Some(Value::String(s)) if s == "JSONata" => Err(Error::Unsupported {
            location: loc.into(),
            message: "'QueryLanguage' JSONata is not supported by this engine; use JSONPath".into(),
        }),
        Some(other) => Err(Error::invalid(
            loc,
            format!("'QueryLanguage' must be 'JSONPath' or 'JSONata', not {other}"),
        )),
    }
}

/// Refuses a field the state's type does not take.
fn check_state_fields(obj: &Map<String, Value>, kind: &str, loc: &str) -> Result<(), Error> {
    let allowed: Vec<&[&str]> = match kind {
        "Pass" => vec![
            COMMON,
            IO,
            TRANSITION,
            &["Result", "ResultPath", "Parameters"],
        ],
        "Task" => vec![
            COMMON,
            IO,
            TRANSITION,
            RESULT,
            ERRORS,
            &[
                "Resource",
                "TimeoutSeconds",
                "TimeoutSecondsPath",
                "HeartbeatSeconds",
                "HeartbeatSecondsPath",
                "Credentials",
            ],
        ],
        "Choice" => vec![COMMON, IO, &["Choices", "Default"]],
        "Wait" => vec![
            COMMON,
            IO,
            TRANSITION,
            &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
        ],
        "Succeed" => vec![COMMON, IO],
        "Fail" => vec![COMMON, &["Error", "ErrorPath", "Cause", "CausePath"]],
        "Parallel" => vec![COMMON, IO, TRANSITION, RESULT, ERRORS, &["Branches"]],
        "Map" => vec![
            COMMON,
            IO,
            TRANSITION,
            RESULT,
            ERRORS,
            &[
                "ItemProcessor",
                "Iterator",
                "ItemsPath",
                "ItemSelector",
                "ItemReader",
                "ItemBatcher",
                "ResultWriter",
                "MaxConcurrency",
                "MaxConcurrencyPath",
                "ToleratedFailureCount",
                "ToleratedFailureCountPath",
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
                "Label",
            ],
        ],
        other => {
            return Err(Error::invalid(
                format!("{loc}/Type"),
                format!(
                    "unknown state type {other:?}: use Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map"
                ),
            ));
        }
    };

    for key in obj.keys() {
        if !allowed.iter().any(|set| set.contains(&key.as_str())) {
            let hint = match key.as_str() {
                "Assign" | "Arguments" | "Output" | "Items" => {
                    " (variables and JSONata fields are not supported by this engine)"
                }
                _ => "",
            };
            return Err(Error::invalid(
                loc,
                format!("field '{key}' is not supported in a {kind} state{hint}"),
            ));
        }
    }
    Ok(())
}

/// `Next` or `End` of a state that is not terminal by type.
fn transition(obj: &Map<String, Value>, loc: &str, scope: &Scope) -> Result<Option<usize>, Error> {
    match (obj.get("Next"), obj.get("End")) {
        (Some(Value::String(n)), None) => {
            Ok(Some(scope.resolve(n, &format!("{loc}/Next"), "Next")?))
        }
        (Some(_), None) => Err(Error::invalid(
            format!("{loc}/Next"),
            "'Next' must be a string",
        )),
        (None, Some(Value::Bool(true))) => Ok(None),
        (None, Some(_)) => Err(Error::invalid(
            format!("{loc}/End"),
            "'End' must be true when present",
        )),
        (Some(_), Some(_)) => Err(Error::invalid(
            loc,
            "a state cannot have both 'Next' and 'End'",
        )),
        (None, None) => Err(Error::invalid(
            loc,
            "this state needs either 'Next' or 'End': true",
        )),
    }
}

/// A Map's `ItemProcessor` (or legacy `Iterator`): the object, its location and its mode;
/// fields only a Distributed Map takes are refused on an inline one.
fn processor<'v>(
    obj: &'v Map<String, Value>,
    loc: &str,
) -> Result<(&'v Map<String, Value>, String, MapMode), Error> {
    let (processor, key) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(p), None) => (p, "ItemProcessor"),
        (None, Some(p)) => (p, "Iterator"),
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                loc,
                "a Map state has either 'ItemProcessor' or 'Iterator', not both",
            ));
        }
        (None, None) => {
            return Err(Error::invalid(
                loc,
                "these fields are required: [ItemProcessor]",
            ));
        }
    };
    let ploc = format!("{loc}/{key}");
    let Some(pobj) = processor.as_object() else {
        return Err(Error::invalid(ploc, format!("'{key}' must be an object")));
    };
    check_fields(
        pobj,
        &ploc,
        &["StartAt", "States", "Comment", "ProcessorConfig"],
    )?;
    let mode = match pobj.get("ProcessorConfig") {
        None => MapMode::Inline,
        Some(Value::Object(cfg)) => {
            let cloc = format!("{ploc}/ProcessorConfig");
            check_fields(cfg, &cloc, &["Mode", "ExecutionType"])?;
            let mode = match cfg.get("Mode").and_then(Value::as_str) {
                None | Some("INLINE") => MapMode::Inline,
                Some("DISTRIBUTED") => MapMode::Distributed,
                Some(other) => {
                    return Err(Error::invalid(
                        cloc,
                        format!("'Mode' must be INLINE or DISTRIBUTED, not {other:?}"),
                    ));
                }
            };
            match cfg.get("ExecutionType").map(|v| v.as_str()) {
                None | Some(Some("STANDARD" | "EXPRESS")) => {}
                Some(other) => {
                    return Err(Error::invalid(
                        cloc,
                        format!("'ExecutionType' must be STANDARD or EXPRESS, not {other:?}"),
                    ));
                }
            }
            mode
        }
        Some(_) => return Err(Error::invalid(ploc, "'ProcessorConfig' must be an object")),
    };
    if mode == MapMode::Inline {
        for f in [
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "Label",
        ] {
            if obj.contains_key(f) {
                return Err(Error::invalid(
                    loc,
                    format!("field '{f}' is only supported by a DISTRIBUTED Map"),
                ));
            }
        }
    }
    Ok((pobj, ploc, mode))
}

/// `ToleratedFailurePercentage` or its `…Path`.
fn tolerated_percentage(
    obj: &Map<String, Value>,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Source<f64>>, Error> {
    let tolerated_percentage = match (
        obj.get("ToleratedFailurePercentage"),
        obj.get("ToleratedFailurePercentagePath"),
    ) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                loc,
                "use either 'ToleratedFailurePercentage' or 'ToleratedFailurePercentagePath'",
            ));
        }
        (Some(v), None) => match v.as_f64() {
            Some(p) if (0.0..=100.0).contains(&p) => Some(Source::Literal(p)),
            _ => {
                return Err(Error::invalid(
                    format!("{loc}/ToleratedFailurePercentage"),
                    "'ToleratedFailurePercentage' must be a number between 0 and 100",
                ));
            }
        },
        (None, Some(v)) => Some(Source::Path(reference(
            v,
            &format!("{loc}/ToleratedFailurePercentagePath"),
            "ToleratedFailurePercentagePath",
            uses_context,
        )?)),
        (None, None) => None,
    };
    Ok(tolerated_percentage)
}

/// A Distributed Map's `ItemBatcher`.
fn batcher(
    obj: &Map<String, Value>,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Batcher>, Error> {
    let batcher = match obj.get("ItemBatcher") {
        None => None,
        Some(Value::Object(b)) => {
            let bloc = format!("{loc}/ItemBatcher");
            check_fields(
                b,
                &bloc,
                &[
                    "MaxItemsPerBatch",
                    "MaxItemsPerBatchPath",
                    "MaxInputBytesPerBatch",
                    "MaxInputBytesPerBatchPath",
                    "BatchInput",
                ],
            )?;
            let max_items = count_source(b, "MaxItemsPerBatch", &bloc, uses_context)?;
            let max_bytes = count_source(b, "MaxInputBytesPerBatch", &bloc, uses_context)?;
            if max_items.is_none() && max_bytes.is_none() {
                return Err(Error::invalid(
                    bloc,
                    "'ItemBatcher' needs 'MaxItemsPerBatch' or 'MaxInputBytesPerBatch'",
                ));
            }
            let batch_input = match b.get("BatchInput") {
                None => None,
                Some(v) => Some(Template::load(
                    v,
                    &format!("{bloc}/BatchInput"),
                    uses_context,
                )?),
            };
            Some(Batcher {
                max_items,
                max_bytes,
                batch_input,
            })
        }
        Some(_) => return Err(Error::invalid(loc, "'ItemBatcher' must be an object")),
    };
    Ok(batcher)
}

/// A Distributed Map's `ItemReader`.
fn reader(
    obj: &Map<String, Value>,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Reader>, Error> {
    let reader = match obj.get("ItemReader") {
        None => None,
        Some(Value::Object(r)) => {
            let rloc = format!("{loc}/ItemReader");
            check_fields(r, &rloc, &["Resource", "Parameters", "ReaderConfig"])?;
            let Some(resource) = r.get("Resource").and_then(Value::as_str) else {
                return Err(Error::invalid(
                    rloc,
                    "these fields are required: [Resource]",
                ));
            };
            check_arn(resource, &rloc)?;
            let parameters = match r.get("Parameters") {
                None => None,
                Some(v) => Some(Template::load(
                    v,
                    &format!("{rloc}/Parameters"),
                    uses_context,
                )?),
            };
            let max_items = match r.get("ReaderConfig") {
                None => None,
                Some(Value::Object(c)) => {
                    count_source(c, "MaxItems", &format!("{rloc}/ReaderConfig"), uses_context)?
                }
                Some(_) => {
                    return Err(Error::invalid(rloc, "'ReaderConfig' must be an object"));
                }
            };
            Some(Reader {
                resource: Arc::from(resource),
                parameters,
                max_items,
            })
        }
        Some(_) => return Err(Error::invalid(loc, "'ItemReader' must be an object")),
    };
    Ok(reader)
}

fn check_fields(obj: &Map<String, Value>, loc: &str, allowed: &[&str]) -> Result<(), Error> {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(Error::invalid(
                loc,
                format!("field '{key}' is not supported here"),
            ));
        }
    }
    Ok(())
}

fn selector(
    v: Option<&Value>,
    loc: &str,
    field: &str,
    uses_context: &mut bool,
) -> Result<Selector, Error> {
    match v {
        None => Ok(Selector::Identity),
        Some(Value::Null) => Ok(Selector::Empty),
        Some(Value::String(s)) if s == "$" => Ok(Selector::Identity),
        Some(v) => {
            let p = path_expr(v, loc, field)?;
            if p.path.is_context() {
                *uses_context = true;
            }
            Ok(Selector::Path(p))
        }
    }
}

fn result_path(v: &Value, loc: &str) -> Result<ResultPath, Error> {
    match v {
        Value::Null => Ok(ResultPath::Discard),
        Value::String(s) if s == "$" => Ok(ResultPath::Replace),
        v => {
            let p = path_expr(v, loc, "ResultPath")?;
            if p.path.is_context() || !p.path.is_reference() {
                return Err(Error::invalid(
                    loc,
                    format!(
                        "'ResultPath' must be a reference path on the state input, not {:?}",
                        p.text
                    ),
                ));
            }
            Ok(ResultPath::Path(p))
        }
    }
}

/// A `…Path` field naming a single value (`$.x` or `$$.x`).
fn reference(
    v: &Value,
    loc: &str,
    field: &str,
    uses_context: &mut bool,
) -> Result<PathExpr, Error> {
    let p = path_expr(v, loc, field)?;
    if !p.path.is_reference() {
        return Err(Error::invalid(
            loc,
            format!(
                "'{field}' must be a reference path (one value), not {:?}",
                p.text
            ),
        ));
    }
    if p.path.is_context() {
        *uses_context = true;
    }
    Ok(p)
}

/// `Field` (a non-negative integer) or `FieldPath`.
fn count_source(
    obj: &Map<String, Value>,
    field: &str,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Source<u64>>, Error> {
    let path_field = format!("{field}Path");
    match (obj.get(field), obj.get(&path_field)) {
        (Some(_), Some(_)) => Err(Error::invalid(
            loc,
            format!("use either '{field}' or '{path_field}', not both"),
        )),
        (Some(v), None) => Ok(Some(Source::Literal(non_negative_int(
            v,
            &format!("{loc}/{field}"),
            field,
        )?))),
        (None, Some(v)) => Ok(Some(Source::Path(reference(
            v,
            &format!("{loc}/{path_field}"),
            &path_field,
            uses_context,
        )?))),
        (None, None) => Ok(None),
    }
}

fn check_arn(resource: &str, loc: &str) -> Result<(), Error> {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    if parts.len() < 6
        || parts[0] != "arn"
        || parts[1].is_empty()
        || parts[2].is_empty()
        || parts[5].is_empty()
    {
        return Err(Error::invalid(
            loc,
            format!("the resource {resource:?} is not a valid resource ARN"),
        ));
    }
    Ok(())
}

fn task(obj: &Map<String, Value>, loc: &str, uses_context: &mut bool) -> Result<Task, Error> {
    let Some(resource) = obj.get("Resource") else {
        return Err(Error::invalid(loc, "these fields are required: [Resource]"));
    };
    let Some(resource) = resource.as_str() else {
        return Err(Error::invalid(
            format!("{loc}/Resource"),
            "'Resource' must be a string",
        ));
    };
    check_arn(resource, &format!("{loc}/Resource"))?;
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let (service, region, rest) = (parts[2], parts[3], parts[5]);
    let (resource_type, resource_name, direct_lambda) = if service == "states" && region.is_empty()
    {
        let (t, n) = rest.split_once(':').unwrap_or((rest, ""));
        (t.to_owned(), n.to_owned(), false)
    } else if service == "lambda" {
        ("lambda".to_owned(), resource.to_owned(), true)
    } else if service == "states" {
        let kind = rest.split(':').next().unwrap_or(rest);
        (kind.to_owned(), resource.to_owned(), false)
    } else {
        (service.to_owned(), rest.to_owned(), false)
    };
    let wait_for_task_token = resource.ends_with(".waitForTaskToken");
    let timeout = seconds_source(obj, "TimeoutSeconds", loc, uses_context)?;
    let heartbeat = seconds_source(obj, "HeartbeatSeconds", loc, uses_context)?;
    if let (Some(Source::Literal(t)), Some(Source::Literal(h))) = (&timeout, &heartbeat) {
        if h >= t {
            return Err(Error::invalid(
                loc,
                "'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'",
            ));
        }
    }
    if wait_for_task_token {
        *uses_context = true;
    }
    Ok(Task {
        resource: Arc::from(resource),
        resource_type: resource_type.into(),
        resource_name: resource_name.into(),
        direct_lambda,
        wait_for_task_token,
        timeout,
        heartbeat,
    })
}

fn seconds_source(
    obj: &Map<String, Value>,
    field: &str,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Source<u64>>, Error> {
    let path_field = format!("{field}Path");
    match (obj.get(field), obj.get(&path_field)) {
        (Some(_), Some(_)) => Err(Error::invalid(
            loc,
            format!("use either '{field}' or '{path_field}', not both"),
        )),
        (Some(v), None) => Ok(Some(Source::Literal(positive_int(
            v,
            &format!("{loc}/{field}"),
            field,
        )?))),
        (None, Some(v)) => Ok(Some(Source::Path(reference(
            v,
            &format!("{loc}/{path_field}"),
            &path_field,
            uses_context,
        )?))),
        (None, None) => Ok(None),
    }
}

fn choice(
    obj: &Map<String, Value>,
    loc: &str,
    scope: &Scope,
    uses_context: &mut bool,
) -> Result<Kind, Error> {
    let Some(choices) = obj.get("Choices") else {
        return Err(Error::invalid(loc, "these fields are required: [Choices]"));
    };
    let Some(choices) = choices.as_array().filter(|c| !c.is_empty()) else {
        return Err(Error::invalid(
            format!("{loc}/Choices"),
            "'Choices' must be a non-empty array",
        ));
    };
    let mut rules = Vec::with_capacity(choices.len());
    for (i, c) in choices.iter().enumerate() {
        let cloc = format!("{loc}/Choices/{i}");
        let (rule, next) = load_rule(c, &cloc, true, uses_context)?;
        let next = next.unwrap_or_default();
        rules.push((rule, scope.resolve(&next, &format!("{cloc}/Next"), "Next")?));
    }
    let default = match obj.get("Default") {
        None => None,
        Some(Value::String(d)) => Some(scope.resolve(d, &format!("{loc}/Default"), "Default")?),
        Some(_) => {
            return Err(Error::invalid(
                format!("{loc}/Default"),
                "'Default' must be a string",
            ));
        }
    };
    Ok(Kind::Choice {
        choices: rules,
        default,
    })
}

fn wait(obj: &Map<String, Value>, loc: &str) -> Result<Wait, Error> {
    let fields: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
        .into_iter()
        .filter(|f| obj.contains_key(*f))
        .collect();
    if fields.len() != 1 {
        return Err(Error::invalid(
            loc,
            "a Wait state needs exactly one of 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'",
        ));
    }
    let field = fields[0];
    let v = &obj[field];
    let floc = format!("{loc}/{field}");
    let mut ignored = false;
    Ok(match field {
        "Seconds" => Wait::Seconds(v.as_u64().filter(|s| *s <= 99_999_999).ok_or_else(|| {
            Error::invalid(
                &floc,
                format!("'Seconds' must be an integer between 0 and 99999999, not {v}"),
            )
        })?),
        "Timestamp" => Wait::Timestamp(
            v.as_str()
                .and_then(timestamp::parse)
                .ok_or_else(|| Error::invalid(&floc, "string does not match RFC3339 timestamp"))?,
        ),
        "SecondsPath" => Wait::SecondsPath(reference(v, &floc, field, &mut ignored)?),
        _ => Wait::TimestampPath(reference(v, &floc, field, &mut ignored)?),
    })
}

fn fail_field(
    obj: &Map<String, Value>,
    field: &str,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Source<String>>, Error> {
    let path_field = format!("{field}Path");
    match (obj.get(field), obj.get(&path_field)) {
        (Some(_), Some(_)) => Err(Error::invalid(
            loc,
            format!("use either '{field}' or '{path_field}', not both"),
        )),
        (Some(Value::String(s)), None) => Ok(Some(Source::Literal(s.clone()))),
        (Some(_), None) => Err(Error::invalid(
            format!("{loc}/{field}"),
            format!("'{field}' must be a string"),
        )),
        (None, Some(Value::String(text))) if text.starts_with("States.") => {
            let f = Intrinsic::parse(text).map_err(|e| {
                Error::invalid(
                    format!("{loc}/{path_field}"),
                    format!("'{path_field}' is not a valid intrinsic function call: {e}"),
                )
            })?;
            if text.contains("$$") {
                *uses_context = true;
            }
            Ok(Some(Source::Intrinsic(f)))
        }
        (None, Some(v)) => Ok(Some(Source::Path(reference(
            v,
            &format!("{loc}/{path_field}"),
            &path_field,
            uses_context,
        )?))),
        (None, None) => Ok(None),
    }
}

fn error_equals(obj: &Map<String, Value>, loc: &str, last: bool) -> Result<ErrorEquals, Error> {
    let Some(list) = obj.get("ErrorEquals") else {
        return Err(Error::invalid(
            loc,
            "these fields are required: [ErrorEquals]",
        ));
    };
    let Some(list) = list.as_array().filter(|l| !l.is_empty()) else {
        return Err(Error::invalid(
            format!("{loc}/ErrorEquals"),
            "'ErrorEquals' must be a non-empty array of error names",
        ));
    };
    let mut names = Vec::with_capacity(list.len());
    let mut all = false;
    for v in list {
        let Some(name) = v.as_str() else {
            return Err(Error::invalid(
                format!("{loc}/ErrorEquals"),
                format!("error names must be strings, not {v}"),
            ));
        };
        if name == StatesError::All.name() {
            if list.len() != 1 {
                return Err(Error::invalid(
                    format!("{loc}/ErrorEquals"),
                    "'States.ALL' must appear alone in 'ErrorEquals'",
                ));
            }
            if !last {
                return Err(Error::invalid(
                    loc,
                    "the retrier or catcher with 'States.ALL' must be the last one",
                ));
            }
            all = true;
        } else {
            names.push(name.into());
        }
    }
    Ok(ErrorEquals { names, all })
}

fn retriers(v: &Value, loc: &str) -> Result<Vec<Retrier>, Error> {
    let Some(list) = v.as_array() else {
        return Err(Error::invalid(loc, "'Retry' must be an array"));
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let rloc = format!("{loc}/{i}");
        let Some(obj) = r.as_object() else {
            return Err(Error::invalid(rloc, "a retrier must be an object"));
        };
        check_fields(
            obj,
            &rloc,
            &[
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ],
        )?;
        let errors = error_equals(obj, &rloc, i + 1 == list.len())?;
        let interval_seconds = match obj.get("IntervalSeconds") {
            None => 1.0,
            Some(v) => {
                positive_int(v, &format!("{rloc}/IntervalSeconds"), "IntervalSeconds")? as f64
            }
        };
        let max_attempts = match obj.get("MaxAttempts") {
            None => 3,
            Some(v) => v.as_u64().filter(|n| *n <= 99_999_999).ok_or_else(|| {
                Error::invalid(
                    format!("{rloc}/MaxAttempts"),
                    format!("'MaxAttempts' must be an integer between 0 and 99999999, not {v}"),
                )
            })?,
        };
        let backoff_rate = match obj.get("BackoffRate") {
            None => 2.0,
            Some(v) => v.as_f64().filter(|b| *b >= 1.0).ok_or_else(|| {
                Error::invalid(
                    format!("{rloc}/BackoffRate"),
                    format!("'BackoffRate' must be a number of at least 1.0, not {v}"),
                )
            })?,
        };
        let max_delay_seconds = match obj.get("MaxDelaySeconds") {
            None => None,
            Some(v) => {
                Some(positive_int(v, &format!("{rloc}/MaxDelaySeconds"), "MaxDelaySeconds")? as f64)
            }
        };
        let full_jitter = match obj.get("JitterStrategy").map(|v| v.as_str()) {
            None | Some(Some("NONE")) => false,
            Some(Some("FULL")) => true,
            Some(_) => {
                return Err(Error::invalid(
                    format!("{rloc}/JitterStrategy"),
                    "'JitterStrategy' must be FULL or NONE",
                ));
            }
        };
        out.push(Retrier {
            errors,
            interval_seconds,
            max_attempts,
            backoff_rate,
            max_delay_seconds,
            full_jitter,
        });
    }
    Ok(out)
}

fn catchers(v: &Value, loc: &str, scope: &Scope) -> Result<Vec<Catcher>, Error> {
    let Some(list) = v.as_array() else {
        return Err(Error::invalid(loc, "'Catch' must be an array"));
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let cloc = format!("{loc}/{i}");
        let Some(obj) = c.as_object() else {
            return Err(Error::invalid(cloc, "a catcher must be an object"));
        };
        check_fields(
            obj,
            &cloc,
            &["ErrorEquals", "Next", "ResultPath", "Comment"],
        )?;
        let errors = error_equals(obj, &cloc, i + 1 == list.len())?;
        let next = match obj.get("Next") {
            Some(Value::String(n)) => scope.resolve(n, &format!("{cloc}/Next"), "Next")?,
            Some(_) => {
                return Err(Error::invalid(
                    format!("{cloc}/Next"),
                    "'Next' must be a string",
                ));
            }
            None => return Err(Error::invalid(cloc, "these fields are required: [Next]")),
        };
        let result_path = match obj.get("ResultPath") {
            None => ResultPath::Replace,
            Some(v) => result_path(v, &format!("{cloc}/ResultPath"))?,
        };
        out.push(Catcher {
            errors,
            next,
            result_path,
        });
    }
    Ok(out)
}

fn check_reachable(graph: &Graph, prefix: &str) -> Result<(), Error> {
    let mut seen = vec![false; graph.states.len()];
    let mut stack = vec![graph.start];
    while let Some(i) = stack.pop() {
        let Some(flag) = seen.get_mut(i) else {
            continue;
        };
        if *flag {
            continue;
        }
        *flag = true;
        let Some(s) = graph.states.get(i) else {
            continue;
        };
        stack.extend(s.next);
        stack.extend(s.catch.iter().map(|c| c.next));
        if let Kind::Choice { choices, default } = &s.kind {
            stack.extend(choices.iter().map(|(_, n)| *n));
            stack.extend(*default);
        }
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        let name = graph.states.get(i).map(|s| &*s.name).unwrap_or_default();
        return Err(Error::invalid(
            format!("{prefix}/States/{name}"),
            format!("state {name:?} is not reachable"),
        ));
    }
    Ok(())
}
