//! Opening stores: directory creation, errors naming the path, schema versions.

use aws_emulator::{Store, StoreBuilder, StoreError};

use crate::common::TempDir;

#[test]
fn creates_missing_directories() {
    let dir = TempDir::new("nested");
    let nested = dir.path().join("a").join("b");
    let store = Store::open(&nested).unwrap();
    assert!(nested.join("store.sqlite3").exists());
    assert_eq!(
        store.database_file(),
        Some(nested.join("store.sqlite3").as_path())
    );
}

#[test]
fn a_file_in_the_way_is_reported_with_its_path() {
    let dir = TempDir::new("blocked");
    std::fs::create_dir_all(dir.path()).unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = Store::open(&file).unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_corrupt_database_is_reported_with_its_path() {
    let dir = TempDir::new("corrupt");
    std::fs::create_dir_all(dir.path()).unwrap();
    let db = dir.path().join("store.sqlite3");
    std::fs::write(&db, vec![b'x'; 4096]).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&db.display().to_string()) && message.contains("not a database"),
        "{message}"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = TempDir::new("newer");
    drop(Store::open(dir.path()).unwrap());
    assert!(set_user_version(&dir.path().join("store.sqlite3"), 99));
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade orderflow"), "{err}");
}

/// Sets the database's `user_version` by editing the header bytes (offset 60, big
/// endian), as a newer program would have left it, without a SQLite dependency in the tests.
fn set_user_version(path: &std::path::Path, version: u32) -> bool {
    let mut bytes = std::fs::read(path).unwrap();
    if bytes.len() < 64 {
        return false;
    }
    bytes[60..64].copy_from_slice(&version.to_be_bytes());
    std::fs::write(path, bytes).is_ok()
}

#[test]
fn in_memory_stores_are_separate() {
    let a = StoreBuilder::in_memory().build().unwrap();
    let b = Store::in_memory().unwrap();
    a.create_topic("t").unwrap();
    assert_eq!(b.topics().unwrap().len(), 0);
    assert_eq!(a.database_file(), None);
}
