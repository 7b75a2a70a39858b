//! Loading and validating a definition the way `CreateStateMachine` does.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::choice::load_rule;
use crate::intrinsics::Intrinsic;
use crate::model::*;
use crate::path::Path;
use crate::query::{self, Query, is_expression};
use crate::template::Template;
use crate::timestamp;
use crate::vars;
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
    let lang = query_language(obj.get("QueryLanguage"), "/")?.unwrap_or(Lang::JsonPath);
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
        lang,
    };
    let root = loader.graph(obj, "")?;
    Ok(Loaded {
        root,
        timeout_seconds,
        uses_context: loader.uses_context,
    })
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
    /// The machine's `QueryLanguage`, which every state without its own takes, nested ones
    /// included.
    lang: Lang,
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
        let lang = self.state_language(obj, loc)?;
        check_state_fields(obj, kind, lang, loc)?;
        let mut uses_context = false;
        let (input_path, output_path, result_path) = match lang {
            Lang::Jsonata => (Selector::Identity, Selector::Identity, ResultPath::Replace),
            Lang::JsonPath => (
                selector(
                    obj.get("InputPath"),
                    &format!("{loc}/InputPath"),
                    "InputPath",
                    &mut uses_context,
                )?,
                selector(
                    obj.get("OutputPath"),
                    &format!("{loc}/OutputPath"),
                    "OutputPath",
                    &mut uses_context,
                )?,
                match obj.get("ResultPath") {
                    None => ResultPath::Replace,
                    Some(v) => result_path(v, &format!("{loc}/ResultPath"))?,
                },
            ),
        };
        // A Map's `Parameters` is its legacy item selector, read with the Map's fields.
        let parameters = match lang {
            _ if kind == "Map" => None,
            Lang::JsonPath => obj
                .get("Parameters")
                .map(|v| {
                    Template::load(v, &format!("{loc}/Parameters"), &mut uses_context)
                        .map(Payload::Path)
                })
                .transpose()?,
            Lang::Jsonata => obj
                .get("Arguments")
                .map(|v| {
                    query::Template::load(
                        v,
                        "Arguments",
                        &format!("{loc}/Arguments"),
                        &mut uses_context,
                    )
                    .map(Payload::Query)
                })
                .transpose()?,
        };
        let result_selector = match obj.get("ResultSelector") {
            None => None,
            Some(v) => Some(Template::load(
                v,
                &format!("{loc}/ResultSelector"),
                &mut uses_context,
            )?),
        };
        let output = output(obj, lang, loc, &mut uses_context)?;
        let assign = assign(obj, lang, loc, &mut uses_context)?;
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
            Some(v) => catchers(v, lang, &format!("{loc}/Catch"), scope, &mut uses_context)?,
        };
        let kind = self.kind(kind, obj, lang, loc, scope, &mut uses_context)?;
        if uses_context {
            self.uses_context = true;
        }
        Ok(State {
            name: Arc::from(name),
            kind,
            lang,
            input_path,
            output_path,
            result_path,
            parameters,
            result_selector,
            output,
            assign,
            next,
            retry,
            catch,
            uses_context,
            source: value.clone(),
        })
    }

    /// The state's `QueryLanguage`, or the machine's. A JSONata machine's states cannot go
    /// back to JSONPath.
    fn state_language(&self, obj: &Map<String, Value>, loc: &str) -> Result<Lang, Error> {
        match query_language(obj.get("QueryLanguage"), loc)? {
            None => Ok(self.lang),
            Some(Lang::JsonPath) if self.lang == Lang::Jsonata => Err(Error::invalid(
                loc,
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            )),
            Some(lang) => Ok(lang),
        }
    }

    /// The type-specific part of a state.
    fn kind(
        &mut self,
        kind: &str,
        obj: &Map<String, Value>,
        lang: Lang,
        loc: &str,
        scope: &Scope,
        uses_context: &mut bool,
    ) -> Result<Kind, Error> {
        Ok(match kind {
            "Pass" => Kind::Pass {
                result: obj.get("Result").cloned(),
            },
            "Task" => Kind::Task(Box::new(task(obj, lang, loc, uses_context)?)),
            "Choice" => choice(obj, lang, loc, scope, uses_context)?,
            "Wait" => Kind::Wait(wait(obj, lang, loc, uses_context)?),
            "Succeed" => Kind::Succeed,
            "Fail" => Kind::Fail {
                error: fail_field(obj, "Error", lang, loc, uses_context)?,
                cause: fail_field(obj, "Cause", lang, loc, uses_context)?,
            },
            "Parallel" => Kind::Parallel {
                branches: self.branches(obj, loc)?,
            },
            "Map" => Kind::Map(Box::new(self.map(obj, lang, loc, uses_context)?)),
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
        lang: Lang,
        loc: &str,
        uses_context: &mut bool,
    ) -> Result<MapSpec, Error> {
        let (pobj, ploc, mode) = processor(obj, loc)?;
        let processor = self.graph(pobj, &ploc)?;
        let items = match (lang, obj.get("ItemsPath"), obj.get("Items")) {
            (Lang::JsonPath, Some(v), _) => {
                let p = path_expr(v, &format!("{loc}/ItemsPath"), "ItemsPath")?;
                if p.path.is_context() {
                    *uses_context = true;
                }
                Items::Path(p)
            }
            (Lang::Jsonata, _, Some(v)) => {
                if !(v.is_array() || v.as_str().is_some_and(is_expression)) {
                    return Err(Error::invalid(
                        format!("{loc}/Items"),
                        "'Items' must be an array or a JSONata expression ({% … %})",
                    ));
                }
                Items::Query(query::Template::load(
                    v,
                    "Items",
                    &format!("{loc}/Items"),
                    uses_context,
                )?)
            }
            _ => Items::Input,
        };
        let item_selector = match (obj.get("ItemSelector"), obj.get("Parameters")) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    loc,
                    "a Map state has either 'ItemSelector' or 'Parameters', not both",
                ));
            }
            (Some(v), None) => Some(payload(v, lang, "ItemSelector", loc, uses_context)?),
            (None, Some(v)) => Some(payload(v, lang, "Parameters", loc, uses_context)?),
            (None, None) => None,
        };
        let max_concurrency = count_source(obj, "MaxConcurrency", lang, loc, uses_context)?;
        let tolerated_count = count_source(obj, "ToleratedFailureCount", lang, loc, uses_context)?;
        let tolerated_percentage = tolerated_percentage(obj, lang, loc, uses_context)?;
        let batcher = batcher(obj, lang, loc, uses_context)?;
        let reader = reader(obj, lang, loc, uses_context)?;
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
            items,
            item_selector,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
            batcher,
            reader,
        })
    }
}

/// A `QueryLanguage` field, if present.
fn query_language(v: Option<&Value>, loc: &str) -> Result<Option<Lang>, Error> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) if s == "JSONPath" => Ok(Some(Lang::JsonPath)),
        Some(Value::String(s)) if s == "JSONata" => Ok(Some(Lang::Jsonata)),
        Some(other) => Err(Error::invalid(
            loc,
            format!("'QueryLanguage' must be 'JSONPath' or 'JSONata', not {other}"),
        )),
    }
}

/// A payload template in the state's language: `.$` keys in JSONPath, `{% %}` values in
/// JSONata.
fn payload(
    v: &Value,
    lang: Lang,
    field: &str,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Payload, Error> {
    let floc = format!("{loc}/{field}");
    Ok(match lang {
        Lang::JsonPath => Payload::Path(Template::load(v, &floc, uses_context)?),
        Lang::Jsonata => Payload::Query(query::Template::load(v, field, &floc, uses_context)?),
    })
}

/// A JSONata state's (or catcher's, or Choice rule's) `Output`.
fn output(
    obj: &Map<String, Value>,
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<query::Template>, Error> {
    match (lang, obj.get("Output")) {
        (Lang::Jsonata, Some(v)) => Ok(Some(query::Template::load(
            v,
            "Output",
            &format!("{loc}/Output"),
            uses_context,
        )?)),
        _ => Ok(None),
    }
}

/// `Assign`: an object whose keys name variables (a JSONPath key ending in `.$` takes its
/// value from a path or an intrinsic function).
fn assign(
    obj: &Map<String, Value>,
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Payload>, Error> {
    let Some(v) = obj.get("Assign") else {
        return Ok(None);
    };
    let aloc = format!("{loc}/Assign");
    let Some(map) = v.as_object() else {
        return Err(Error::invalid(aloc, "'Assign' must be an object"));
    };
    let mut seen = std::collections::HashSet::with_capacity(map.len());
    for key in map.keys() {
        let name = match lang {
            Lang::JsonPath => key.strip_suffix(".$").unwrap_or(key),
            Lang::Jsonata => key,
        };
        vars::check_name(name).map_err(|why| {
            Error::invalid(
                &aloc,
                format!("the key '{key}' of 'Assign': '{name}' {why}"),
            )
        })?;
        if !seen.insert(name) {
            return Err(Error::invalid(
                &aloc,
                format!("'Assign' sets the variable '{name}' twice"),
            ));
        }
    }
    payload(v, lang, "Assign", loc, uses_context).map(Some)
}

/// The fields JSONPath states take and JSONata states do not, with what replaces each.
const JSONPATH_ONLY: &[(&str, &str)] = &[
    (
        "InputPath",
        "read '$states.input' in 'Arguments' or 'Output'",
    ),
    ("Parameters", "use 'Arguments'"),
    ("ResultSelector", "use 'Output' with '$states.result'"),
    ("ResultPath", "use 'Output' or 'Assign'"),
    ("OutputPath", "use 'Output'"),
    ("Result", "use 'Output'"),
    ("ItemsPath", "use 'Items'"),
    ("SecondsPath", "use 'Seconds' with a JSONata expression"),
    ("TimestampPath", "use 'Timestamp' with a JSONata expression"),
    (
        "TimeoutSecondsPath",
        "use 'TimeoutSeconds' with a JSONata expression",
    ),
    (
        "HeartbeatSecondsPath",
        "use 'HeartbeatSeconds' with a JSONata expression",
    ),
    (
        "MaxConcurrencyPath",
        "use 'MaxConcurrency' with a JSONata expression",
    ),
    (
        "ToleratedFailureCountPath",
        "use 'ToleratedFailureCount' with a JSONata expression",
    ),
    (
        "ToleratedFailurePercentagePath",
        "use 'ToleratedFailurePercentage' with a JSONata expression",
    ),
    ("ErrorPath", "use 'Error' with a JSONata expression"),
    ("CausePath", "use 'Cause' with a JSONata expression"),
];

/// The fields only JSONata states take.
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];

/// Refuses a field the state's type does not take in its query language.
fn check_state_fields(
    obj: &Map<String, Value>,
    kind: &str,
    lang: Lang,
    loc: &str,
) -> Result<(), Error> {
    let jsonpath = lang == Lang::JsonPath;
    let allowed = allowed_fields(kind, jsonpath, loc)?;
    for key in obj.keys() {
        if allowed.iter().any(|set| set.contains(&key.as_str())) {
            continue;
        }
        return Err(Error::invalid(loc, field_refusal(key, kind, jsonpath)));
    }
    Ok(())
}

/// The fields a state of type `kind` takes, in JSONPath states or (`jsonpath` false)
/// JSONata ones; an unknown type is an error at `loc`.
fn allowed_fields(
    kind: &str,
    jsonpath: bool,
    loc: &str,
) -> Result<Vec<&'static [&'static str]>, Error> {
    Ok(match kind {
        "Pass" if jsonpath => vec![
            COMMON,
            IO,
            TRANSITION,
            &["Result", "ResultPath", "Parameters", "Assign"],
        ],
        "Pass" => vec![COMMON, TRANSITION, &["Output", "Assign"]],
        "Task" => vec![
            COMMON,
            if jsonpath { IO } else { &["Output"] },
            TRANSITION,
            if jsonpath { RESULT } else { &["Arguments"] },
            ERRORS,
            &[
                "Resource",
                "TimeoutSeconds",
                "HeartbeatSeconds",
                "Credentials",
                "Assign",
            ],
            if jsonpath {
                &["TimeoutSecondsPath", "HeartbeatSecondsPath"]
            } else {
                &[]
            },
        ],
        "Choice" => vec![
            COMMON,
            if jsonpath { IO } else { &["Output"] },
            &["Choices", "Default", "Assign"],
        ],
        "Wait" => vec![
            COMMON,
            if jsonpath { IO } else { &["Output"] },
            TRANSITION,
            &["Seconds", "Timestamp", "Assign"],
            if jsonpath {
                &["SecondsPath", "TimestampPath"]
            } else {
                &[]
            },
        ],
        "Succeed" => vec![COMMON, if jsonpath { IO } else { &["Output"] }],
        "Fail" => vec![
            COMMON,
            &["Error", "Cause"],
            if jsonpath {
                &["ErrorPath", "CausePath"]
            } else {
                &[]
            },
        ],
        "Parallel" => vec![
            COMMON,
            if jsonpath { IO } else { &["Output"] },
            TRANSITION,
            if jsonpath { RESULT } else { &["Arguments"] },
            ERRORS,
            &["Branches", "Assign"],
        ],
        "Map" => vec![
            COMMON,
            if jsonpath { IO } else { &["Output"] },
            TRANSITION,
            if jsonpath { RESULT } else { &["Items"] },
            ERRORS,
            &[
                "ItemProcessor",
                "Iterator",
                "ItemSelector",
                "ItemReader",
                "ItemBatcher",
                "ResultWriter",
                "MaxConcurrency",
                "ToleratedFailureCount",
                "ToleratedFailurePercentage",
                "Label",
                "Assign",
            ],
            if jsonpath {
                &[
                    "ItemsPath",
                    "MaxConcurrencyPath",
                    "ToleratedFailureCountPath",
                    "ToleratedFailurePercentagePath",
                ]
            } else {
                &[]
            },
        ],
        other => {
            return Err(Error::invalid(
                format!("{loc}/Type"),
                format!(
                    "unknown state type {other:?}: use Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map"
                ),
            ));
        }
    })
}

/// Why a state of type `kind` refuses the field `key`.
fn field_refusal(key: &str, kind: &str, jsonpath: bool) -> String {
    // A field of the other language is refused with the diagnostic
    // ValidateStateMachineDefinition gives (as measured against AWS and reported in
    // https://github.com/floci-io/floci/issues/2968), then what to write instead.
    match JSONPATH_ONLY.iter().find(|(f, _)| *f == key) {
        Some((_, instead)) if !jsonpath => format!(
            "The QueryLanguage is set to 'JSONata', but field '{key}' is only supported for the 'JSONPath' QueryLanguage ({instead})"
        ),
        _ if jsonpath && JSONATA_ONLY.contains(&key) => format!(
            "The QueryLanguage is set to 'JSONPath', but field '{key}' is only supported for the 'JSONata' QueryLanguage (set \"QueryLanguage\": \"JSONata\" to use it)"
        ),
        _ => format!("field '{key}' is not supported in a {kind} state"),
    }
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
    // The tolerated-failure fields are accepted on an inline Map too, as AWS records
    // (an inline Map fails at its first failed iteration whatever they say).
    if mode == MapMode::Inline {
        for f in ["ItemReader", "ItemBatcher", "ResultWriter", "Label"] {
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
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Source<f64>>, Error> {
    let field = "ToleratedFailurePercentage";
    if let Some(v) = obj.get(field)
        && let Some(q) = field_query(v, lang, field, &format!("{loc}/{field}"), uses_context)?
    {
        return Ok(Some(Source::Query(q)));
    }
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
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Batcher>, Error> {
    let batcher = match obj.get("ItemBatcher") {
        None => None,
        Some(Value::Object(b)) => {
            let bloc = format!("{loc}/ItemBatcher");
            let fields: &[&str] = match lang {
                Lang::JsonPath => &[
                    "MaxItemsPerBatch",
                    "MaxItemsPerBatchPath",
                    "MaxInputBytesPerBatch",
                    "MaxInputBytesPerBatchPath",
                    "BatchInput",
                ],
                Lang::Jsonata => &["MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"],
            };
            check_fields(b, &bloc, fields)?;
            let max_items = count_source(b, "MaxItemsPerBatch", lang, &bloc, uses_context)?;
            let max_bytes = count_source(b, "MaxInputBytesPerBatch", lang, &bloc, uses_context)?;
            if max_items.is_none() && max_bytes.is_none() {
                return Err(Error::invalid(
                    bloc,
                    "'ItemBatcher' needs 'MaxItemsPerBatch' or 'MaxInputBytesPerBatch'",
                ));
            }
            let batch_input = match b.get("BatchInput") {
                None => None,
                Some(v) => Some(payload(v, lang, "BatchInput", &bloc, uses_context)?),
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
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Reader>, Error> {
    let reader = match obj.get("ItemReader") {
        None => None,
        Some(Value::Object(r)) => {
            let rloc = format!("{loc}/ItemReader");
            let arguments = match lang {
                Lang::JsonPath => "Parameters",
                Lang::Jsonata => "Arguments",
            };
            check_fields(r, &rloc, &["Resource", arguments, "ReaderConfig"])?;
            let Some(resource) = r.get("Resource").and_then(Value::as_str) else {
                return Err(Error::invalid(
                    rloc,
                    "these fields are required: [Resource]",
                ));
            };
            check_arn(resource, &rloc)?;
            let parameters = match r.get(arguments) {
                None => None,
                Some(v) => Some(payload(v, lang, arguments, &rloc, uses_context)?),
            };
            let max_items = match r.get("ReaderConfig") {
                None => None,
                Some(Value::Object(c)) => count_source(
                    c,
                    "MaxItems",
                    lang,
                    &format!("{rloc}/ReaderConfig"),
                    uses_context,
                )?,
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

/// Refuses any field but `allowed`, in ValidateStateMachineDefinition's words (as measured
/// against AWS and reported in https://github.com/floci-io/floci/issues/2968).
fn check_fields(obj: &Map<String, Value>, loc: &str, allowed: &[&str]) -> Result<(), Error> {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(Error::invalid(
                loc,
                format!("Field '{key}' is not supported"),
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
            if p.path.root() != crate::path::Root::Input || !p.path.is_reference() {
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
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Source<u64>>, Error> {
    if let Some(v) = obj.get(field)
        && let Some(q) = field_query(v, lang, field, &format!("{loc}/{field}"), uses_context)?
    {
        return Ok(Some(Source::Query(q)));
    }
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

/// A field of a JSONata state given as a `{% %}` expression rather than a literal.
fn field_query(
    v: &Value,
    lang: Lang,
    field: &str,
    floc: &str,
    uses_context: &mut bool,
) -> Result<Option<Query>, Error> {
    match (lang, v) {
        (Lang::Jsonata, Value::String(s)) if is_expression(s) => {
            Query::load(s, field, floc, uses_context).map(Some)
        }
        _ => Ok(None),
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

fn task(
    obj: &Map<String, Value>,
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Task, Error> {
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
    let timeout = seconds_source(obj, "TimeoutSeconds", lang, loc, uses_context)?;
    let heartbeat = seconds_source(obj, "HeartbeatSeconds", lang, loc, uses_context)?;
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
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Source<u64>>, Error> {
    if let Some(v) = obj.get(field)
        && let Some(q) = field_query(v, lang, field, &format!("{loc}/{field}"), uses_context)?
    {
        return Ok(Some(Source::Query(q)));
    }
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
    lang: Lang,
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
        let (test, next) = match lang {
            Lang::JsonPath => {
                let (rule, next) = load_rule(c, &cloc, true, uses_context)?;
                (Test::Rule(rule), next.unwrap_or_default())
            }
            Lang::Jsonata => condition(c, &cloc, uses_context)?,
        };
        let (assign, output) = match c.as_object() {
            Some(rule) => (
                assign(rule, lang, &cloc, uses_context)?,
                output(rule, lang, &cloc, uses_context)?,
            ),
            None => (None, None),
        };
        rules.push(Choice {
            test,
            next: scope.resolve(&next, &format!("{cloc}/Next"), "Next")?,
            assign,
            output,
        });
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

/// A JSONata Choice rule: `Condition` (an expression, or `true`/`false`) and `Next`.
fn condition(v: &Value, loc: &str, uses_context: &mut bool) -> Result<(Test, String), Error> {
    let Some(rule) = v.as_object() else {
        return Err(Error::invalid(loc, "a choice rule must be an object"));
    };
    for key in rule.keys() {
        if !matches!(
            key.as_str(),
            "Condition" | "Next" | "Assign" | "Output" | "Comment"
        ) {
            let hint = if key == "Variable" || key == "And" || key == "Or" || key == "Not" {
                " (it is a JSONPath rule field, and this state uses JSONata: use 'Condition')"
            } else {
                ""
            };
            return Err(Error::invalid(
                loc,
                format!("field '{key}' is not supported in a JSONata choice rule{hint}"),
            ));
        }
    }
    let test = match rule.get("Condition") {
        None => {
            return Err(Error::invalid(
                loc,
                "these fields are required: [Condition]",
            ));
        }
        Some(Value::Bool(b)) => Source::Literal(*b),
        Some(Value::String(s)) if is_expression(s) => Source::Query(Query::load(
            s,
            "Condition",
            &format!("{loc}/Condition"),
            uses_context,
        )?),
        Some(other) => {
            return Err(Error::invalid(
                format!("{loc}/Condition"),
                format!(
                    "'Condition' must be true, false or a JSONata expression ({{% … %}}), not {other}"
                ),
            ));
        }
    };
    let next = match rule.get("Next") {
        Some(Value::String(n)) => n.clone(),
        Some(_) => return Err(Error::invalid(loc, "'Next' must be a string")),
        None => return Err(Error::invalid(loc, "these fields are required: [Next]")),
    };
    Ok((Test::Condition(test), next))
}

fn wait(
    obj: &Map<String, Value>,
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Wait, Error> {
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
    if let Some(q) = field_query(v, lang, field, &floc, uses_context)? {
        return Ok(match field {
            "Seconds" => Wait::SecondsQuery(q),
            _ => Wait::TimestampQuery(q),
        });
    }
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
        "SecondsPath" => Wait::SecondsPath(reference(v, &floc, field, uses_context)?),
        _ => Wait::TimestampPath(reference(v, &floc, field, uses_context)?),
    })
}

fn fail_field(
    obj: &Map<String, Value>,
    field: &str,
    lang: Lang,
    loc: &str,
    uses_context: &mut bool,
) -> Result<Option<Source<String>>, Error> {
    if let Some(v) = obj.get(field)
        && let Some(q) = field_query(v, lang, field, &format!("{loc}/{field}"), uses_context)?
    {
        return Ok(Some(Source::Query(q)));
    }
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

fn catchers(
    v: &Value,
    lang: Lang,
    loc: &str,
    scope: &Scope,
    uses_context: &mut bool,
) -> Result<Vec<Catcher>, Error> {
    let Some(list) = v.as_array() else {
        return Err(Error::invalid(loc, "'Catch' must be an array"));
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let cloc = format!("{loc}/{i}");
        let Some(obj) = c.as_object() else {
            return Err(Error::invalid(cloc, "a catcher must be an object"));
        };
        let fields: &[&str] = match lang {
            Lang::JsonPath => &["ErrorEquals", "Next", "ResultPath", "Assign", "Comment"],
            Lang::Jsonata => &["ErrorEquals", "Next", "Output", "Assign", "Comment"],
        };
        check_fields(obj, &cloc, fields)?;
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
            assign: assign(obj, lang, &cloc, uses_context)?,
            output: output(obj, lang, &cloc, uses_context)?,
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
            stack.extend(choices.iter().map(|c| c.next));
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
