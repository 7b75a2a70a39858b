//! State machine executions and their history events.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde_json::Value;

use crate::Store;
use crate::db::{DbResult as _, from_ms, to_ms};
use crate::error::{Result, Service, StoreError};

const SERVICE: Service = Service::Executions;
const COLUMNS: &str =
    "arn, state_machine, name, status, start_ms, stop_ms, input, output, error, cause";

/// An execution's status, as Step Functions names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    /// Started, not finished.
    Running,
    /// Ended in success.
    Succeeded,
    /// Ended in a Fail state or an uncaught error.
    Failed,
    /// Exceeded its `TimeoutSeconds`.
    TimedOut,
    /// Stopped from outside.
    Aborted,
}

impl ExecutionStatus {
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Aborted => "ABORTED",
        }
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExecutionStatus {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "RUNNING" => Self::Running,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "TIMED_OUT" => Self::TimedOut,
            "ABORTED" => Self::Aborted,
            other => {
                return Err(StoreError::InvalidRecord {
                    field: "status",
                    reason: format!(
                        "unknown execution status {other:?}; expected RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED"
                    ),
                });
            }
        })
    }
}

/// One execution of a state machine.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionRecord {
    /// The execution ARN; the record's identity.
    pub execution_arn: String,
    /// Name of the state machine that ran.
    pub state_machine_name: String,
    /// The execution's name (unique per state machine).
    pub name: String,
    /// Current status.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_date: SystemTime,
    /// When it ended, if it has.
    pub stop_date: Option<SystemTime>,
    /// The execution input.
    pub input: Value,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error name, when it failed (e.g. `OutOfStock`).
    pub error: Option<String>,
    /// The failure cause, when it failed.
    pub cause: Option<String>,
}

impl Store {
    /// Stores an execution and replaces its history with `history` (the history events as
    /// JSON), in one transaction. Recording the same ARN again updates it, so an execution
    /// can be recorded when it starts and again when it ends.
    pub fn record_execution(&self, record: &ExecutionRecord, history: &[Value]) -> Result<()> {
        for (field, value) in [
            ("execution_arn", &record.execution_arn),
            ("name", &record.name),
            ("state_machine_name", &record.state_machine_name),
        ] {
            if value.is_empty() {
                return Err(StoreError::InvalidRecord {
                    field,
                    reason: "must not be empty".into(),
                });
            }
        }
        let input = record.input.to_string();
        let output = record.output.as_ref().map(Value::to_string);
        // A slice of Values serialises as a JSON array without building one; the array is
        // stored LZ4-compressed (a history repeats each state's input and output, so it
        // shrinks several times, and so does what every commit writes).
        let history = serde_json::to_vec(history).map_err(|e| StoreError::InvalidRecord {
            field: "history",
            reason: e.to_string(),
        })?;
        let history = lz4_flex::block::compress_prepend_size(&history);
        let record = record.clone();
        self.inner.db.write(SERVICE, move |tx| {
            tx.prepare_cached(
                "INSERT INTO executions (arn, state_machine, name, status, start_ms, stop_ms, input, output, error, cause, history)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (arn) DO UPDATE SET state_machine = ?2, name = ?3, status = ?4, start_ms = ?5, stop_ms = ?6,
                     input = ?7, output = ?8, error = ?9, cause = ?10, history = ?11",
            )
            .and_then(|mut st| {
                st.execute(params![
                    record.execution_arn,
                    record.state_machine_name,
                    record.name,
                    record.status.as_str(),
                    to_ms(record.start_date),
                    record.stop_date.map(to_ms),
                    input,
                    output,
                    record.error,
                    record.cause,
                    history,
                ])
            })
            .db(SERVICE)?;
            // The progress is in the history now; the checkpoint stays for a redrive of an
            // execution that did not succeed.
            let finished: &[&str] = match record.status {
                ExecutionStatus::Running => &[],
                ExecutionStatus::Succeeded => &["execution_progress", "execution_resume"],
                _ => &["execution_progress"],
            };
            for table in finished {
                tx.prepare_cached(&format!("DELETE FROM {table} WHERE arn = ?1"))
                    .and_then(|mut st| st.execute([&record.execution_arn]))
                    .db(SERVICE)?;
            }
            Ok(())
        })
    }

    /// Records a running execution's progress at a checkpoint, in one transaction: `events`
    /// (the history events recorded since the last call, as JSON) are appended to what
    /// [`progress`](Store::progress) gives back, and `sealed` (what the host needs to resume
    /// the execution, sealed as it sees fit) replaces the last checkpoint.
    pub fn save_progress(
        &self,
        execution_arn: &str,
        events: &[Value],
        last_event_id: u64,
        sealed: &[u8],
    ) -> Result<()> {
        let events = (!events.is_empty())
            .then(|| serde_json::to_vec(events))
            .transpose()
            .map_err(|e| StoreError::InvalidRecord {
                field: "events",
                reason: e.to_string(),
            })?
            .map(|json| lz4_flex::block::compress_prepend_size(&json));
        let arn = execution_arn.to_owned();
        let sealed = sealed.to_vec();
        let last = i64::try_from(last_event_id).unwrap_or(i64::MAX);
        self.inner.db.write(SERVICE, move |tx| {
            if let Some(events) = events {
                tx.prepare_cached(
                    "INSERT INTO execution_progress (arn, seq, events)
                     VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM execution_progress WHERE arn = ?1), ?2)",
                )
                .and_then(|mut st| st.execute(params![arn, events]))
                .db(SERVICE)?;
            }
            tx.prepare_cached(
                "INSERT INTO execution_resume (arn, last_event_id, sealed) VALUES (?1, ?2, ?3)
                 ON CONFLICT (arn) DO UPDATE SET last_event_id = ?2, sealed = ?3",
            )
            .and_then(|mut st| st.execute(params![arn, last, sealed]))
            .db(SERVICE)?;
            Ok(())
        })
    }

    /// A running execution's progress: its history so far (what
    /// [`record_execution`](Store::record_execution) stored, then every batch
    /// [`save_progress`](Store::save_progress) appended) and its last sealed checkpoint;
    /// `None` when no checkpoint was saved.
    pub fn progress(&self, execution_arn: &str) -> Result<Option<Progress>> {
        let mut events = self.execution_history(execution_arn)?;
        self.inner.db.read(|conn| {
            let resume: Option<(i64, Vec<u8>)> = conn
                .prepare_cached("SELECT last_event_id, sealed FROM execution_resume WHERE arn = ?1")
                .and_then(|mut st| {
                    st.query_row([execution_arn], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .db(SERVICE)?;
            let Some((last_event_id, sealed)) = resume else {
                return Ok(None);
            };
            let mut st = conn
                .prepare_cached("SELECT events FROM execution_progress WHERE arn = ?1 ORDER BY seq")
                .db(SERVICE)?;
            let batches = st
                .query_map([execution_arn], |r| r.get::<_, Vec<u8>>(0))
                .db(SERVICE)?;
            for batch in batches {
                let batch = batch.db(SERVICE)?;
                events.extend(decompress_events(
                    &batch,
                    &format!("progress of execution {execution_arn}"),
                )?);
            }
            Ok(Some(Progress {
                events,
                last_event_id: u64::try_from(last_event_id).unwrap_or(0),
                sealed,
            }))
        })
    }

    /// Records that the execution was redriven, the `count`th time, at `when`.
    pub fn record_redrive(&self, execution_arn: &str, count: u32, when: SystemTime) -> Result<()> {
        let arn = execution_arn.to_owned();
        self.inner.db.write(SERVICE, move |tx| {
            tx.prepare_cached(
                "INSERT INTO execution_redrives (arn, count, last_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (arn) DO UPDATE SET count = ?2, last_ms = ?3",
            )
            .and_then(|mut st| st.execute(params![arn, count, to_ms(when)]))
            .db(SERVICE)?;
            Ok(())
        })
    }

    /// How often this execution was redriven, and when last; `None` if never.
    pub fn redrive(&self, execution_arn: &str) -> Result<Option<(u32, SystemTime)>> {
        self.inner.db.read(|conn| {
            conn.prepare_cached("SELECT count, last_ms FROM execution_redrives WHERE arn = ?1")
                .and_then(|mut st| {
                    st.query_row([execution_arn], |r| {
                        Ok((r.get::<_, u32>(0)?, from_ms(r.get::<_, i64>(1)?)))
                    })
                    .optional()
                })
                .db(SERVICE)
        })
    }

    /// Whether a checkpoint is kept for this execution (what [`progress`](Store::progress)
    /// reads), without reading its history.
    pub fn has_checkpoint(&self, execution_arn: &str) -> Result<bool> {
        self.inner.db.read(|conn| {
            conn.prepare_cached("SELECT 1 FROM execution_resume WHERE arn = ?1")
                .and_then(|mut st| st.exists([execution_arn]))
                .db(SERVICE)
        })
    }

    /// How often each redriven execution was redriven, and when last, by ARN.
    pub fn redrives(&self) -> Result<std::collections::HashMap<String, (u32, SystemTime)>> {
        self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached("SELECT arn, count, last_ms FROM execution_redrives")
                .db(SERVICE)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .db(SERVICE)?;
            rows.map(|row| {
                let (arn, count, ms) = row.db(SERVICE)?;
                Ok((arn, (count, from_ms(ms))))
            })
            .collect()
        })
    }

    /// Whether an execution with exactly this ARN is recorded (StartExecution's
    /// name-already-used check, without reading the record).
    pub fn has_execution(&self, execution_arn: &str) -> Result<bool> {
        self.inner.db.read(|conn| {
            conn.prepare_cached("SELECT 1 FROM executions WHERE arn = ?1")
                .and_then(|mut st| st.exists([execution_arn]))
                .db(SERVICE)
        })
    }

    /// The execution with this ARN, or else the latest one with this name.
    pub fn get_execution(&self, id: &str) -> Result<Option<ExecutionRecord>> {
        self.inner.db.read(|conn| {
            let Some(arn) = resolve_arn(conn, id)? else {
                return Ok(None);
            };
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM executions WHERE arn = ?1"))
                .and_then(|mut st| st.query_row([&arn], read_row).optional())
                .db(SERVICE)?
                .map(into_record)
                .transpose()
        })
    }

    /// All executions, newest first (as ListExecutions orders them).
    pub fn list_executions(&self) -> Result<Vec<ExecutionRecord>> {
        self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM executions ORDER BY start_ms DESC, arn DESC"
                ))
                .db(SERVICE)?;
            let rows = st.query_map([], read_row).db(SERVICE)?;
            rows.map(|row| into_record(row.db(SERVICE)?)).collect()
        })
    }

    /// One page of a state machine's executions, newest first (as ListExecutions orders
    /// them), only those with `status` when one is given: at most `limit` from `offset`, and
    /// whether more follow. Read through an index, without the others' records.
    pub fn list_executions_of(
        &self,
        state_machine_name: &str,
        status: Option<ExecutionStatus>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ExecutionRecord>, bool)> {
        self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM executions
                     WHERE state_machine = ?1 AND (?2 IS NULL OR status = ?2)
                     ORDER BY start_ms DESC, arn DESC LIMIT ?3 OFFSET ?4"
                ))
                .db(SERVICE)?;
            let wanted = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
            let skip = i64::try_from(offset).unwrap_or(i64::MAX);
            let rows = st
                .query_map(
                    params![
                        state_machine_name,
                        status.map(ExecutionStatus::as_str),
                        wanted,
                        skip
                    ],
                    read_row,
                )
                .db(SERVICE)?;
            let mut page = rows
                .map(|row| into_record(row.db(SERVICE)?))
                .collect::<Result<Vec<_>>>()?;
            let more = page.len() > limit;
            page.truncate(limit);
            Ok((page, more))
        })
    }

    /// The history events of the execution with this ARN (or latest with this name).
    pub fn execution_history(&self, id: &str) -> Result<Vec<Value>> {
        self.inner.db.read(|conn| {
            let Some(arn) = resolve_arn(conn, id)? else {
                return Err(StoreError::ExecutionNotFound { id: id.to_owned() });
            };
            let stored: StoredHistory = conn
                .prepare_cached("SELECT history FROM executions WHERE arn = ?1")
                .and_then(|mut st| {
                    st.query_row([&arn], |r| match r.get_ref(0)? {
                        ValueRef::Blob(bytes) => Ok(StoredHistory::Compressed(bytes.to_vec())),
                        _ => r.get(0).map(StoredHistory::Text),
                    })
                })
                .db(SERVICE)?;
            let what = format!("history of execution {arn}");
            match stored {
                // Stores written before histories were compressed hold JSON text.
                StoredHistory::Text(text) => {
                    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                        what,
                        detail: e.to_string(),
                    })
                }
                StoredHistory::Compressed(bytes) => decompress_events(&bytes, &what),
            }
        })
    }
}

/// A running execution's progress, as [`Store::progress`] reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// The history events so far, as JSON, in order.
    pub events: Vec<Value>,
    /// The id of the last event the checkpoint covers.
    pub last_event_id: u64,
    /// The checkpoint, as the host sealed it.
    pub sealed: Vec<u8>,
}

/// A history as a row holds it.
enum StoredHistory {
    Text(String),
    Compressed(Vec<u8>),
}

/// A JSON array of events as stored: LZ4-compressed, its length prepended; `what` names it
/// in the error when it is corrupt.
fn decompress_events(bytes: &[u8], what: &str) -> Result<Vec<Value>> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: what.to_owned(),
        detail,
    };
    let claimed = bytes
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_le_bytes);
    if claimed > MAX_HISTORY_BYTES {
        return Err(corrupt(format!(
            "claims {claimed} bytes uncompressed, over {MAX_HISTORY_BYTES}"
        )));
    }
    let json =
        lz4_flex::block::decompress_size_prepended(bytes).map_err(|e| corrupt(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| corrupt(e.to_string()))
}

/// The largest uncompressed history read back: a corrupt length prefix must not become an
/// allocation of gigabytes.
const MAX_HISTORY_BYTES: u32 = 1 << 30;

/// The ARN of the execution an id names: itself if an execution has that ARN, else the
/// newest execution with that name.
fn resolve_arn(conn: &Connection, id: &str) -> Result<Option<String>> {
    let by_arn: Option<String> = conn
        .prepare_cached("SELECT arn FROM executions WHERE arn = ?1")
        .and_then(|mut st| st.query_row([id], |r| r.get(0)).optional())
        .db(SERVICE)?;
    if by_arn.is_some() {
        return Ok(by_arn);
    }
    conn.prepare_cached("SELECT arn FROM executions WHERE name = ?1 ORDER BY start_ms DESC LIMIT 1")
        .and_then(|mut st| st.query_row([id], |r| r.get(0)).optional())
        .db(SERVICE)
}

type RawRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn read_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn into_record(row: RawRow) -> Result<ExecutionRecord> {
    let (execution_arn, state_machine_name, name, status, start, stop, input, output, error, cause) =
        row;
    let corrupt = |what: &str, e: String| StoreError::Corrupt {
        what: format!("{what} of execution {execution_arn}"),
        detail: e,
    };
    let input = serde_json::from_str(&input).map_err(|e| corrupt("input", e.to_string()))?;
    let output = output
        .map(|o| serde_json::from_str(&o))
        .transpose()
        .map_err(|e| corrupt("output", e.to_string()))?;
    let status = status
        .parse()
        .map_err(|e: StoreError| corrupt("status", e.to_string()))?;
    Ok(ExecutionRecord {
        execution_arn,
        state_machine_name,
        name,
        status,
        start_date: from_ms(start),
        stop_date: stop.map(from_ms),
        input,
        output,
        error,
        cause,
    })
}
