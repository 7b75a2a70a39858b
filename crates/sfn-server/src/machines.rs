//! State machine actions: Create, Describe, Update, Delete, List, Validate, and tags.

use std::time::SystemTime;

use aws_emulator::StateMachineRecord;
use serde_json::{Map, Value, json};
use sfn_local::StateMachine;

use crate::Service;
use crate::error::ApiError;
use crate::wire::{self, Arn, Params, seconds};

/// The default logging configuration, as DescribeStateMachine shows it.
fn logging_off() -> Value {
    json!({"level": "OFF", "includeExecutionData": false})
}

/// `STANDARD` (the default) or `EXPRESS`.
fn machine_type(p: &Params<'_>) -> Result<String, ApiError> {
    match p.optional_string("type")? {
        None | Some("STANDARD") => Ok("STANDARD".into()),
        Some("EXPRESS") => Ok("EXPRESS".into()),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        ))),
    }
}

/// `[{"key", "value"}]` as pairs.
fn tags(p: &Params<'_>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(list) = p.0.get("tags") else {
        return Ok(Vec::new());
    };
    let invalid = || ApiError::validation("tags must be a list of {\"key\", \"value\"} strings");
    list.as_array()
        .ok_or_else(invalid)?
        .iter()
        .map(|t| match (t.get("key"), t.get("value")) {
            (Some(Value::String(k)), Some(Value::String(v))) => Ok((k.clone(), v.clone())),
            (Some(Value::String(k)), None) => Ok((k.clone(), String::new())),
            _ => Err(invalid()),
        })
        .collect()
}

/// Loads a definition as the engine runs it, or says why AWS would refuse it.
pub(crate) fn load(definition: &str) -> Result<StateMachine, ApiError> {
    StateMachine::from_json(definition).map_err(ApiError::invalid_definition)
}

impl Service {
    /// The state machine an ARN names.
    pub(crate) fn machine(&self, arn: &str) -> Result<StateMachineRecord, ApiError> {
        let parsed = Arn::parse(arn)?;
        if parsed.kind != "stateMachine" {
            return Err(ApiError::invalid_arn(arn));
        }
        self.store
            .get_state_machine(arn)?
            .ok_or_else(|| ApiError::no_state_machine(arn))
    }

    pub(crate) fn create_state_machine(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let name = p.string("name")?;
        wire::check_name(name)?;
        let definition = p.string("definition")?;
        let role_arn = p.string("roleArn")?;
        let machine_type = machine_type(p)?;
        load(definition)?;
        let arn = self.state_machine_arn(name);
        let record = StateMachineRecord {
            arn: arn.clone(),
            name: name.to_owned(),
            machine_type,
            definition: definition.to_owned(),
            role_arn: role_arn.to_owned(),
            creation_date: SystemTime::now(),
            revision_id: None,
            update_date: None,
            description: String::new(),
            logging: p
                .0
                .get("loggingConfiguration")
                .cloned()
                .unwrap_or_else(logging_off),
            tracing: p
                .0
                .get("tracingConfiguration")
                .cloned()
                .unwrap_or_else(|| json!({"enabled": false})),
            tags: tags(p)?,
        };
        // Idempotent when nothing differs; otherwise the name is taken (API reference,
        // CreateStateMachine: "CreateStateMachine is an idempotent API").
        if let Some(existing) = self.store.get_state_machine(&arn)? {
            let same = existing.definition == record.definition
                && existing.role_arn == record.role_arn
                && existing.machine_type == record.machine_type;
            if !same {
                return Err(ApiError::state_machine_exists(&arn));
            }
            return Ok(json!({
                "stateMachineArn": arn,
                "creationDate": seconds(existing.creation_date),
            }));
        }
        self.store.put_state_machine(&record)?;
        Ok(json!({"stateMachineArn": arn, "creationDate": seconds(record.creation_date)}))
    }

    pub(crate) fn describe_state_machine(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let record = self.machine(p.string("stateMachineArn")?)?;
        Ok(describe(&record))
    }

    pub(crate) fn update_state_machine(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let mut record = self.machine(p.string("stateMachineArn")?)?;
        let definition = p.optional_string("definition")?;
        let role_arn = p.optional_string("roleArn")?;
        let logging = p.0.get("loggingConfiguration");
        let tracing = p.0.get("tracingConfiguration");
        if definition.is_none() && role_arn.is_none() && logging.is_none() && tracing.is_none() {
            return Err(ApiError {
                code: "MissingRequiredParameter",
                message: "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified".into(),
                status: 400,
            });
        }
        if let Some(definition) = definition {
            load(definition)?;
            record.definition = definition.to_owned();
        }
        if let Some(role) = role_arn {
            record.role_arn = role.to_owned();
        }
        if let Some(logging) = logging {
            record.logging = logging.clone();
        }
        if let Some(tracing) = tracing {
            record.tracing = tracing.clone();
        }
        let now = SystemTime::now();
        let revision = uuid::Uuid::new_v4().to_string();
        record.revision_id = Some(revision.clone());
        record.update_date = Some(now);
        self.store.put_state_machine(&record)?;
        self.forget_loaded(&record.arn);
        Ok(json!({"updateDate": seconds(now), "revisionId": revision}))
    }

    pub(crate) fn delete_state_machine(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let arn = p.string("stateMachineArn")?;
        if Arn::parse(arn)?.kind != "stateMachine" {
            return Err(ApiError::invalid_arn(arn));
        }
        // Deleting one that does not exist succeeds, as on AWS.
        self.store.delete_state_machine(arn)?;
        self.forget_loaded(arn);
        Ok(json!({}))
    }

    pub(crate) fn list_state_machines(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let (start, size) = (p.page_start()?, p.page_size()?);
        let all = self.store.list_state_machines()?;
        let (items, next) = wire::page(all, start, size);
        let machines: Vec<Value> = items
            .iter()
            .map(|m| {
                json!({
                    "stateMachineArn": m.arn,
                    "name": m.name,
                    "type": m.machine_type,
                    "creationDate": seconds(m.creation_date),
                })
            })
            .collect();
        let mut out = Map::new();
        out.insert("stateMachines".into(), Value::Array(machines));
        if let Some(token) = next {
            out.insert("nextToken".into(), Value::String(token));
        }
        Ok(Value::Object(out))
    }

    pub(crate) fn validate_definition(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let definition = p.string("definition")?;
        machine_type(p)?;
        Ok(match StateMachine::from_json(definition) {
            Ok(_) => json!({"result": "OK", "diagnostics": []}),
            Err(e) => json!({
                "result": "FAIL",
                "diagnostics": [{
                    "severity": "ERROR",
                    "code": "SCHEMA_VALIDATION_FAILED",
                    "message": e.to_string(),
                }],
            }),
        })
    }

    pub(crate) fn tag_resource(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let mut record = self.tagged(p)?;
        for (key, value) in tags(p)? {
            match record.tags.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => record.tags.push((key, value)),
            }
        }
        self.store.put_state_machine(&record)?;
        Ok(json!({}))
    }

    pub(crate) fn untag_resource(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let mut record = self.tagged(p)?;
        let keys: Vec<&str> =
            p.0.get("tagKeys")
                .and_then(Value::as_array)
                .ok_or_else(|| ApiError::validation("tagKeys must be a list of strings"))?
                .iter()
                .filter_map(Value::as_str)
                .collect();
        record.tags.retain(|(k, _)| !keys.contains(&k.as_str()));
        self.store.put_state_machine(&record)?;
        Ok(json!({}))
    }

    pub(crate) fn list_tags(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let record = self.tagged(p)?;
        let tags: Vec<Value> = record
            .tags
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        Ok(json!({"tags": tags}))
    }

    /// The state machine `resourceArn` names (the only taggable resource served here).
    fn tagged(&self, p: &Params<'_>) -> Result<StateMachineRecord, ApiError> {
        let arn = p.string("resourceArn")?;
        self.machine(arn).map_err(|e| match e.code {
            "StateMachineDoesNotExist" => ApiError {
                code: "ResourceNotFound",
                message: format!("Resource not found: '{arn}'"),
                status: 400,
            },
            _ => e,
        })
    }
}

/// DescribeStateMachine's answer.
pub(crate) fn describe(record: &StateMachineRecord) -> Value {
    let mut out = json!({
        "stateMachineArn": record.arn,
        "name": record.name,
        "status": "ACTIVE",
        "definition": record.definition,
        "roleArn": record.role_arn,
        "type": record.machine_type,
        "creationDate": seconds(record.creation_date),
        "loggingConfiguration": record.logging,
        "tracingConfiguration": record.tracing,
    });
    if let Some(revision) = &record.revision_id {
        out["revisionId"] = json!(revision);
    }
    if !record.description.is_empty() {
        out["description"] = json!(record.description);
    }
    out
}
