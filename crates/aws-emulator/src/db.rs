//! SQLite connections, pragmas and schema migrations.
//!
//! One writer connection behind a mutex serialises this process's writes without SQLite's
//! busy-wait. Writes are group-committed: each caller queues its write and takes the writer
//! lock; whoever gets it runs every queued write in one `BEGIN IMMEDIATE` transaction, each in
//! its own savepoint (so one write failing its condition does not undo the others), commits
//! once and hands every caller its result. Under concurrency this writes shared pages and
//! takes the file locks once per batch instead of once per write, which is where a commit's
//! cost goes. `BEGIN IMMEDIATE` takes the database write lock up front, so writers in other
//! processes queue on the busy timeout instead of failing with a lock upgrade deadlock.
//!
//! A few reader connections serve reads in parallel (in WAL mode readers never block the
//! writer nor each other), and a background thread checkpoints the WAL so that commits do not
//! pay for checkpoints and their fsync.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::{Result, Service, StoreError};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append
/// new migrations, never edit old ones: stores in the field have already run them.
const MIGRATIONS: &[&str] = &[
    // 1: tables, items, topics, messages, executions, charges.
    "CREATE TABLE ddb_tables (
        name TEXT PRIMARY KEY,
        pk_name TEXT NOT NULL,
        pk_type TEXT NOT NULL,
        sk_name TEXT,
        sk_type TEXT,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE ddb_items (
        table_name TEXT NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        item TEXT NOT NULL,
        PRIMARY KEY (table_name, pk, sk)
    ) WITHOUT ROWID;
    CREATE TABLE sns_topics (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        fifo INTEGER NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE sns_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL,
        topic_arn TEXT NOT NULL,
        message TEXT NOT NULL,
        subject TEXT,
        attributes TEXT NOT NULL,
        group_id TEXT,
        dedup_id TEXT,
        published_ms INTEGER NOT NULL
    );
    CREATE INDEX sns_messages_dedup ON sns_messages (topic_arn, dedup_id) WHERE dedup_id IS NOT NULL;
    CREATE TABLE executions (
        arn TEXT PRIMARY KEY,
        state_machine TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        stop_ms INTEGER,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        history TEXT NOT NULL
    );
    CREATE INDEX executions_name ON executions (name);
    CREATE TABLE charges (
        order_id TEXT PRIMARY KEY,
        record TEXT NOT NULL,
        charged_ms INTEGER NOT NULL
    );",
    // 2: state machines (the Step Functions API's), one row per state machine, its current
    // revision.
    "CREATE TABLE state_machines (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        record TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );",
    // 3: running executions' progress, so that a host can resume them after a crash: the
    // events recorded since each checkpoint (LZ4-compressed JSON arrays, appended), which go
    // when the execution is recorded finished, and the latest checkpoint as the host sealed
    // it, kept for a redrive unless the execution succeeded; how often each execution was
    // redriven; an index for listing one state machine's executions a page at a time; and
    // the Step Functions API's activities.
    "CREATE TABLE execution_progress (
        arn TEXT NOT NULL,
        seq INTEGER NOT NULL,
        events BLOB NOT NULL,
        PRIMARY KEY (arn, seq)
    ) WITHOUT ROWID;
    CREATE TABLE execution_resume (
        arn TEXT PRIMARY KEY,
        last_event_id INTEGER NOT NULL,
        sealed BLOB NOT NULL
    );
    CREATE TABLE execution_redrives (
        arn TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        last_ms INTEGER NOT NULL
    );
    CREATE INDEX executions_by_machine ON executions (state_machine, start_ms DESC, arn DESC);
    CREATE TABLE activities (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );",
];

/// The schema version this code writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Connection settings.
#[derive(Clone, Debug)]
pub(crate) struct DbOptions {
    pub(crate) busy_timeout: Duration,
    pub(crate) readers: usize,
}

/// How often the background thread checkpoints the WAL.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);
/// WAL pages after which a commit checkpoints by itself: a backstop should the background
/// checkpoints fall behind (SQLite's default is 1000).
const AUTO_CHECKPOINT_PAGES: i64 = 20_000;

/// The database: a writer and, for file stores, reader connections and a checkpointer.
pub(crate) struct Db {
    // Fields drop in order: the checkpointer and readers first, so the writer is the last
    // connection to close and checkpoints the WAL into the database file (a read-only
    // connection cannot), leaving one self-contained file behind.
    _checkpointer: Option<Checkpointer>,
    readers: Vec<Mutex<Connection>>,
    writer: Mutex<Connection>,
    queue: Mutex<Vec<Box<dyn Job>>>,
    next_reader: AtomicUsize,
}

impl Db {
    /// Opens (creating if needed) and migrates the database file.
    pub(crate) fn open(file: &Path, options: &DbOptions) -> Result<Self> {
        let open_err = |reason| StoreError::Open {
            path: file.to_owned(),
            reason,
        };
        let writer = Connection::open(file).map_err(open_err)?;
        configure(&writer, options, false).map_err(open_err)?;
        // WAL lets readers run beside the writer; NORMAL sync under WAL still never corrupts
        // the database and loses at most the last transactions on power loss (not on a
        // process crash), which is what makes thousands of small commits a second possible.
        writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(open_err)?;
        writer
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        writer
            .pragma_update(None, "wal_autocheckpoint", AUTO_CHECKPOINT_PAGES)
            .map_err(open_err)?;
        // Once a checkpoint has emptied the WAL, cut the file back instead of keeping its peak.
        writer
            .pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(open_err)?;
        migrate(&writer, file)?;
        let mut readers = Vec::with_capacity(options.readers);
        for _ in 0..options.readers {
            let reader = Connection::open_with_flags(
                file,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(open_err)?;
            configure(&reader, options, true).map_err(open_err)?;
            readers.push(Mutex::new(reader));
        }
        let checkpointer = Checkpointer::start(file, options).map_err(open_err)?;
        Ok(Self {
            _checkpointer: Some(checkpointer),
            readers,
            writer: Mutex::new(writer),
            queue: Mutex::new(Vec::new()),
            next_reader: AtomicUsize::new(0),
        })
    }

    /// A private in-memory database (one connection, gone when dropped).
    pub(crate) fn in_memory(options: &DbOptions) -> Result<Self> {
        let path = PathBuf::from(":memory:");
        let open_err = |reason| StoreError::Open {
            path: path.clone(),
            reason,
        };
        let conn = Connection::open_in_memory().map_err(open_err)?;
        configure(&conn, options, false).map_err(open_err)?;
        migrate(&conn, &path)?;
        Ok(Self {
            _checkpointer: None,
            readers: Vec::new(),
            writer: Mutex::new(conn),
            queue: Mutex::new(Vec::new()),
            next_reader: AtomicUsize::new(0),
        })
    }

    /// Runs `f` inside a write transaction and returns its result once that transaction has
    /// committed. When `f` fails, its changes are rolled back and nothing else is affected.
    ///
    /// `f` may run on another caller's thread (the one leading the group commit), hence
    /// `Send + 'static`; the caller waits for it either way.
    pub(crate) fn write<T, F>(&self, service: Service, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let slot = Arc::new(Slot::default());
        let job = WriteJob {
            service,
            f: Some(f),
            result: None,
            slot: slot.clone(),
        };
        lock(&self.queue).push(Box::new(job));
        let mut conn = lock(&self.writer);
        // A previous holder of the lock may have committed this write along with its own.
        if let Some(result) = slot.take() {
            return result;
        }
        let jobs = std::mem::take(&mut *lock(&self.queue));
        commit_batch(&mut conn, jobs);
        drop(conn);
        slot.take().unwrap_or_else(|| {
            Err(StoreError::Corrupt {
                what: "write queue".into(),
                detail: "a queued write was never run".into(),
            })
        })
    }

    /// Runs `f` on a reader connection (the writer for in-memory stores).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if self.readers.is_empty() {
            return f(&lock(&self.writer));
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        // Take the first idle reader, else wait for the one whose turn it is.
        for i in 0..n {
            if let Some(slot) = self.readers.get((start + i) % n) {
                if let Ok(conn) = slot.try_lock() {
                    return f(&conn);
                }
            }
        }
        match self.readers.get(start % n) {
            Some(slot) => f(&lock(slot)),
            None => f(&lock(&self.writer)),
        }
    }
}

/// Locks a mutex, recovering from a panic in another thread: a transaction the connection
/// held was rolled back when dropped, so it is still sound, and the queue is a plain list.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A queued write, type-erased so writes of different result types share a batch.
trait Job: Send {
    /// Runs the write; returns whether it succeeded (else its savepoint is rolled back).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Hands the caller its result, or the batch's failure.
    fn finish(self: Box<Self>, batch: std::result::Result<(), &rusqlite::Error>);
}

struct WriteJob<T, F> {
    service: Service,
    f: Option<F>,
    result: Option<Result<T>>,
    slot: Arc<Slot<T>>,
}

impl<T: Send, F: FnOnce(&Connection) -> Result<T> + Send> Job for WriteJob<T, F> {
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(f) = self.f.take() else { return false };
        // A panicking write must not take down the thread that happens to lead the batch.
        let result = catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or_else(|_| {
            Err(StoreError::Corrupt {
                what: "write".into(),
                detail: "the write panicked; it was rolled back".into(),
            })
        });
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, batch: std::result::Result<(), &rusqlite::Error>) {
        let result = match (batch, self.result) {
            (Ok(()), Some(result)) => result,
            (Err(e), _) => Err(StoreError::db(self.service, duplicate(e))),
            (Ok(()), None) => Err(StoreError::Corrupt {
                what: "write queue".into(),
                detail: "a queued write was never run".into(),
            }),
        };
        self.slot.put(result);
    }
}

/// Where a write's result waits for its caller, who looks once it holds the writer lock.
struct Slot<T> {
    value: Mutex<Option<Result<T>>>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self {
            value: Mutex::new(None),
        }
    }
}

impl<T> Slot<T> {
    fn put(&self, result: Result<T>) {
        *lock(&self.value) = Some(result);
    }

    fn take(&self) -> Option<Result<T>> {
        lock(&self.value).take()
    }
}

/// Runs queued writes in one transaction, each in a savepoint, and commits once.
fn commit_batch(conn: &mut Connection, mut jobs: Vec<Box<dyn Job>>) {
    let outcome = (|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for job in &mut jobs {
            tx.execute_batch("SAVEPOINT write")?;
            if job.run(&tx) {
                tx.execute_batch("RELEASE write")?;
            } else {
                tx.execute_batch("ROLLBACK TO write; RELEASE write")?;
            }
        }
        // On error the transaction is dropped, which rolls it back.
        tx.commit()
    })();
    for job in jobs {
        job.finish(outcome.as_ref().map(|_| ()));
    }
}

/// A copy of a SQLite error, for each write of a batch that failed as a whole.
fn duplicate(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

/// Checkpoints the WAL from a thread of its own, so commits do not.
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(file: &Path, options: &DbOptions) -> rusqlite::Result<Self> {
        let conn = Connection::open(file)?;
        conn.busy_timeout(options.busy_timeout)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("aws-emulator-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_INTERVAL)
                {
                    // PASSIVE never blocks writers or readers; whatever it cannot copy now it
                    // copies next time. A failure here only delays a checkpoint.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .map_err(|e| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("cannot start the checkpoint thread: {e}")),
                )
            })?;
        Ok(Self {
            stop: Some(stop),
            handle: Some(handle),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn configure(conn: &Connection, options: &DbOptions, read_only: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(options.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(64);
    if read_only {
        conn.pragma_update(None, "query_only", true)?;
    }
    // Reading the header here surfaces "file is not a database" at open, naming the path.
    conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))?;
    Ok(())
}

/// Brings the schema up to [`SCHEMA_VERSION`], refusing files from a newer version.
fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let open_err = |reason| StoreError::Open {
        path: path.to_owned(),
        reason,
    };
    // IMMEDIATE: two processes opening a fresh store at once must not both migrate.
    conn.execute_batch("BEGIN IMMEDIATE").map_err(open_err)?;
    let result = (|| {
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(open_err)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (index, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(found).unwrap_or(0))
        {
            conn.execute_batch(sql).map_err(open_err)?;
            conn.pragma_update(None, "user_version", index as i64 + 1)
                .map_err(open_err)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(open_err),
        Err(e) => {
            // The original error matters more than a failed rollback.
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}

/// A time as milliseconds since the Unix epoch (negative before it).
pub(crate) fn to_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Milliseconds since the Unix epoch as a time.
pub(crate) fn from_ms(ms: i64) -> SystemTime {
    let offset = Duration::from_millis(ms.unsigned_abs());
    let t = if ms >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    };
    t.unwrap_or(UNIX_EPOCH)
}

/// Extension to tag SQLite errors with the service whose operation failed.
pub(crate) trait DbResult<T> {
    fn db(self, service: Service) -> Result<T>;
}

impl<T> DbResult<T> for rusqlite::Result<T> {
    fn db(self, service: Service) -> Result<T> {
        self.map_err(|e| StoreError::db(service, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> DbOptions {
        DbOptions {
            busy_timeout: Duration::from_secs(5),
            readers: 2,
        }
    }

    fn count(db: &Db) -> i64 {
        db.read(|c| {
            c.query_row("SELECT COUNT(*) FROM charges", [], |r| r.get(0))
                .db(Service::Ledger)
        })
        .unwrap()
    }

    /// Writes from many threads share transactions; a failing write is rolled back alone,
    /// even though it inserted before failing.
    #[test]
    fn group_commit_isolates_failures() {
        let dir = std::env::temp_dir().join(format!("aws-emulator-db-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = Arc::new(Db::open(&dir.join("t.sqlite3"), &options()).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let id = format!("{t}-{i}");
                        let fail = i % 2 == 1;
                        let result = db.write(Service::Ledger, move |c| {
                            c.execute("INSERT INTO charges VALUES (?1, '{}', 0)", [&id])
                                .db(Service::Ledger)?;
                            if fail {
                                return Err(StoreError::InvalidRecord {
                                    field: "test",
                                    reason: id,
                                });
                            }
                            Ok(())
                        });
                        assert_eq!(result.is_err(), fail);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(count(&db), 8 * 25);
        let odd: i64 = db
            .read(|c| {
                c.query_row("SELECT COUNT(*) FROM charges WHERE CAST(substr(order_id, 3) AS INTEGER) % 2 = 1", [], |r| r.get(0))
                    .db(Service::Ledger)
            })
            .unwrap();
        assert_eq!(odd, 0, "failed writes left rows behind");
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_panicking_write_is_rolled_back_and_reported() {
        let db = Db::in_memory(&options()).unwrap();
        let result: Result<()> = db.write(Service::Ledger, |c| {
            c.execute("INSERT INTO charges VALUES ('p', '{}', 0)", [])
                .db(Service::Ledger)?;
            panic!("boom");
        });
        assert!(matches!(result, Err(StoreError::Corrupt { .. })));
        assert_eq!(count(&db), 0);
        db.write(Service::Ledger, |c| {
            c.execute("INSERT INTO charges VALUES ('q', '{}', 0)", [])
                .db(Service::Ledger)
        })
        .unwrap();
        assert_eq!(count(&db), 1);
    }

    #[test]
    fn times_round_trip_through_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(from_ms(to_ms(t)), t);
        assert_eq!(from_ms(-5), UNIX_EPOCH - Duration::from_millis(5));
    }
}
