//! Standard executions kept through a crash. Before each top-level state the engine hands
//! over a checkpoint (the state, its input, the variables) and the events since the last
//! one; the events go to the store masked, as the finished history does, and the checkpoint
//! with the execution's input is sealed first: they hold what the caller sent (a card number
//! among it, for the order workflow), which is never stored readable. When the server starts
//! again, every execution the store holds RUNNING resumes from its last checkpoint: the
//! state in flight runs again, as Step Functions runs a step again after a worker failure.
//!
//! The seal is ChaCha20-Poly1305 with a key made on first use in the store's directory
//! (`execution-key`, readable by its owner only); a checkpoint is kept only while its
//! execution runs.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use aws_emulator::Store;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde_json::{Map, Value, json};
use sfn_local::{Checkpoint, Checkpoints, HistoryEvent, Redrive, Resume};

use crate::Redact;

/// The key file's name, in the store's directory.
const KEY_FILE: &str = "execution-key";
const NONCE_BYTES: usize = 12;

/// Why checkpoints cannot be sealed.
#[derive(Debug, thiserror::Error)]
pub enum DurabilityError {
    /// The key file could not be made or read.
    #[error("the execution key {path}: {source}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The key file holds no key.
    #[error(
        "the execution key {path} is not 32 bytes: remove it to make a new one (running executions then cannot be resumed)"
    )]
    BadKey {
        /// The file.
        path: PathBuf,
    },
    /// The system has no randomness to give.
    #[error("no random bytes for the execution key: {0}")]
    Random(String),
}

/// Seals and opens checkpoints.
pub(crate) struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl Sealer {
    /// The sealer of the store kept in `dir`: its key file, made on first use.
    pub(crate) fn in_dir(dir: &Path) -> Result<Sealer, DurabilityError> {
        let path = dir.join(KEY_FILE);
        let key = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => make_key(&path)?,
            Err(source) => return Err(DurabilityError::Key { path, source }),
        };
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| DurabilityError::BadKey { path: path.clone() })?;
        Ok(Sealer {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        })
    }

    fn seal(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).ok()?;
        let sealed = self.cipher.encrypt(&Nonce::from(nonce), plain).ok()?;
        Some([&nonce[..], &sealed].concat())
    }

    fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        let (nonce, body) = sealed.split_at_checked(NONCE_BYTES)?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.cipher.decrypt(&Nonce::from(nonce), body).ok()
    }
}

fn make_key(path: &Path) -> Result<Vec<u8>, DurabilityError> {
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| DurabilityError::Random(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options.open(path).and_then(|mut f| {
        f.write_all(&key)?;
        f.sync_all()
    });
    match written {
        Ok(()) => Ok(key),
        // Another server made it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read(path).map_err(|source| DurabilityError::Key {
                path: path.to_owned(),
                source,
            })
        }
        Err(source) => Err(DurabilityError::Key {
            path: path.to_owned(),
            source,
        }),
    }
}

/// What a sealed checkpoint holds.
fn payload(input: &Value, checkpoint: &Checkpoint) -> Value {
    json!({
        "input": input,
        "checkpoint": {
            "state": checkpoint.state,
            "input": checkpoint.input,
            "variables": checkpoint.variables,
            "lastEventId": checkpoint.last_event_id,
        }
    })
}

/// Persists one execution's checkpoints.
pub(crate) struct Persist {
    pub(crate) store: Store,
    pub(crate) sealer: Arc<Sealer>,
    pub(crate) arn: String,
    /// The execution's input, as the caller sent it.
    pub(crate) input: Value,
    pub(crate) redact: Option<Redact>,
    /// The last event id the store has.
    pub(crate) persisted: AtomicU64,
    /// Set once a save failed (said once).
    pub(crate) failed: AtomicBool,
}

impl Persist {
    /// Saves `checkpoint`, with the events after the last one saved.
    pub(crate) fn save(
        &self,
        checkpoint: &Checkpoint,
        events: &[HistoryEvent],
    ) -> Result<(), String> {
        let persisted = self.persisted.load(Ordering::Relaxed);
        if checkpoint.last_event_id <= persisted {
            return Ok(());
        }
        let events: Vec<Value> = events
            .iter()
            .filter(|e| e.id > persisted)
            .map(|e| {
                let mut v = e.to_json();
                if let Some(redact) = &self.redact {
                    redact(&mut v);
                }
                v
            })
            .collect();
        let plain = payload(&self.input, checkpoint).to_string();
        let saved = match self.sealer.seal(plain.as_bytes()) {
            None => Err("the checkpoint could not be sealed".to_owned()),
            Some(sealed) => self
                .store
                .save_progress(&self.arn, &events, checkpoint.last_event_id, &sealed)
                .map_err(|e| e.to_string()),
        };
        saved?;
        self.persisted
            .store(checkpoint.last_event_id, Ordering::Relaxed);
        Ok(())
    }
}

impl Checkpoints for Persist {
    fn checkpoint(&self, checkpoint: &Checkpoint, events: &[HistoryEvent]) {
        if let Err(e) = self.save(checkpoint, events)
            && !self.failed.swap(true, Ordering::Relaxed)
        {
            eprintln!(
                "sfn-server: {}: {e}; the execution goes on, but a crash now would lose its progress",
                self.arn
            );
        }
    }
}

/// A running execution's progress, read back: its input and where to resume it.
pub(crate) struct Resumable {
    pub(crate) input: Value,
    pub(crate) resume: Resume,
}

/// Reads the progress the store keeps for `arn`; an error says why it cannot be resumed.
pub(crate) fn resumable(
    store: &Store,
    sealer: &Sealer,
    arn: &str,
    start_millis: i64,
    redrive: Option<Redrive>,
) -> Result<Resumable, String> {
    let progress = store
        .progress(arn)
        .map_err(|e| e.to_string())?
        .ok_or("no checkpoint was saved")?;
    let plain = sealer
        .open(&progress.sealed)
        .ok_or("its checkpoint cannot be opened with this store's execution key")?;
    let payload: Value = serde_json::from_slice(&plain).map_err(|e| e.to_string())?;
    let raw = &payload["checkpoint"];
    let checkpoint = Checkpoint {
        state: raw["state"].as_str().unwrap_or_default().to_owned(),
        input: raw["input"].clone(),
        variables: raw["variables"]
            .as_object()
            .cloned()
            .unwrap_or_else(Map::new),
        last_event_id: raw["lastEventId"].as_u64().unwrap_or(0),
    };
    // A resumed execution goes on from its checkpoint; a redriven one after its end.
    let redriving = redrive.is_some_and(|r| r.now);
    let events = progress
        .events
        .iter()
        .filter(|e| {
            redriving
                || e["id"]
                    .as_u64()
                    .is_some_and(|id| id <= checkpoint.last_event_id)
        })
        .map(HistoryEvent::from_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let held = events.len() as u64;
    if held < checkpoint.last_event_id || (!redriving && held != checkpoint.last_event_id) {
        return Err(format!(
            "its history holds {} of the {} events before the checkpoint",
            events.len(),
            checkpoint.last_event_id
        ));
    }
    Ok(Resumable {
        input: payload["input"].clone(),
        resume: Resume {
            checkpoint,
            events,
            start_millis,
            redrive,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_checkpoints_open_with_their_key_only() {
        let dir = tempfile::tempdir().expect("a directory");
        let sealer = Sealer::in_dir(dir.path()).expect("a key");
        let sealed = sealer.seal(b"4111 1111 1111 1111").expect("sealed");
        assert!(!sealed.windows(4).any(|w| w == b"4111"), "not readable");
        assert_eq!(
            sealer.open(&sealed).as_deref(),
            Some(&b"4111 1111 1111 1111"[..])
        );
        // The same directory gives the same key; another gives another.
        let again = Sealer::in_dir(dir.path()).expect("the key");
        assert!(again.open(&sealed).is_some());
        let other = tempfile::tempdir().expect("a directory");
        assert!(
            Sealer::in_dir(other.path())
                .expect("a key")
                .open(&sealed)
                .is_none()
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(sealer.open(&tampered).is_none(), "tampering is refused");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .expect("the key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
