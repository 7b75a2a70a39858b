//! What the test suites need from outside the repository — the AWS-recorded conformance
//! corpus and the programs `scripts/setup` installs into `.tools/` — found, or else skipped
//! with one loud `SKIPPED:` report on stderr per test binary, or, when
//! `ORDERFLOW_REQUIRE_ALL` is set (as `scripts/test` sets it), a test failure.
//!
//! A fresh clone with nothing beside it passes `cargo test --workspace` and says what it did
//! not run; the project's test command runs everything or fails. The report goes straight to
//! the process's stderr, past the test harness's output capture, so it shows for passing
//! tests too.
//!
//! ```no_run
//! #[test]
//! fn every_recorded_case_runs() {
//!     let Some(corpus) = test_prereqs::conformance_corpus("the recorded cases") else {
//!         return; // skipped, and said so on stderr
//!     };
//!     let cases = std::fs::read_dir(corpus.join("cases")).expect("readable");
//!     // ...
//! #   drop(cases);
//! }
//! ```
#![warn(missing_docs)]

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// When set (to anything but empty or `0`), a missing prerequisite fails the test that needs
/// it instead of skipping it.
pub const REQUIRE_ALL: &str = "ORDERFLOW_REQUIRE_ALL";

/// Where the conformance corpus is (the directory holding `cases/`), when it is not
/// `../shared/conformance` beside the repository.
pub const CONFORMANCE_DIR: &str = "ORDERFLOW_CONFORMANCE_DIR";

/// A program the tests run, installed by `scripts/setup`.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// The program's name, as the report shows it.
    pub name: &'static str,
    /// An environment variable naming another copy of the program.
    pub env: &'static str,
    /// Where `scripts/setup` puts it, relative to the repository root.
    pub installed: &'static str,
    /// What to do to get it.
    pub install: &'static str,
}

/// moto's server: DynamoDB, SNS and SQS on loopback.
pub const MOTO_SERVER: Tool = Tool {
    name: "moto_server",
    env: "MOTO_SERVER",
    installed: ".tools/venv/bin/moto_server",
    install: "run scripts/setup (it installs moto[server] into .tools/venv)",
};

/// The conformance corpus (the directory holding `cases/`): `ORDERFLOW_CONFORMANCE_DIR`, else
/// `../shared/conformance` beside the repository. `None` when it is absent, after reporting
/// that `tests` were skipped; panics when it is absent and [`REQUIRE_ALL`] is set, or when
/// `ORDERFLOW_CONFORMANCE_DIR` names a directory without `cases/` (a setting that points
/// nowhere is a mistake to fix, not a reason to skip).
pub fn conformance_corpus(tests: &str) -> Option<PathBuf> {
    let beside = repository_root()
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
        .join("shared/conformance");
    match locate(
        std::env::var_os(CONFORMANCE_DIR).map(PathBuf::from),
        beside,
        |dir| dir.join("cases").is_dir(),
    ) {
        Located::Found(dir) => Some(dir),
        Located::BadOverride(dir) => panic!(
            "{CONFORMANCE_DIR}={} has no cases/ directory: point it at the conformance corpus",
            dir.display()
        ),
        Located::Missing(dir) => skip(
            require_all(),
            tests,
            &Missing {
                need: "the conformance corpus",
                reason: format!(
                    "../shared/conformance not found (looked at {})",
                    dir.display()
                ),
                enable: format!(
                    "set {CONFORMANCE_DIR} to the directory holding cases/, or run from a \
                     checkout with ../shared beside it"
                ),
            },
        ),
    }
}

/// The path of `tool`: its environment variable, else where `scripts/setup` installs it.
/// `None` when it is not installed, after reporting that `tests` were skipped; panics when it
/// is not installed and [`REQUIRE_ALL`] is set, or when the variable names no file.
pub fn program(tool: &Tool, tests: &str) -> Option<PathBuf> {
    match locate(
        std::env::var_os(tool.env).map(PathBuf::from),
        repository_root().join(tool.installed),
        Path::is_file,
    ) {
        Located::Found(path) => Some(path),
        Located::BadOverride(path) => panic!(
            "{}={} is not a file: point it at {}",
            tool.env,
            path.display(),
            tool.name
        ),
        Located::Missing(path) => skip(
            require_all(),
            tests,
            &Missing {
                need: tool.name,
                reason: format!(
                    "{} is not installed (looked at {})",
                    tool.name,
                    path.display()
                ),
                enable: format!("{}, or set {} to its path", tool.install, tool.env),
            },
        ),
    }
}

/// The repository (workspace) root: this crate is `crates/test-prereqs` in it.
fn repository_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| manifest.join("../.."), Path::to_path_buf)
}

fn require_all() -> bool {
    truthy(std::env::var_os(REQUIRE_ALL).as_deref())
}

fn truthy(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

#[derive(Debug, PartialEq)]
enum Located {
    Found(PathBuf),
    /// The override names nothing usable.
    BadOverride(PathBuf),
    /// No override, and nothing at the default place.
    Missing(PathBuf),
}

fn locate(explicit: Option<PathBuf>, default: PathBuf, usable: impl Fn(&Path) -> bool) -> Located {
    match explicit {
        Some(path) if usable(&path) => Located::Found(path),
        Some(path) => Located::BadOverride(path),
        None if usable(&default) => Located::Found(default),
        None => Located::Missing(default),
    }
}

struct Missing {
    need: &'static str,
    reason: String,
    enable: String,
}

/// Needs already reported by this process: one report per need and test binary, however
/// many of its tests skip.
static REPORTED: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

fn skip<T>(required: bool, tests: &str, missing: &Missing) -> Option<T> {
    if required {
        panic!(
            "{tests} need {}: {}; to run them: {}. ({REQUIRE_ALL} is set: a missing \
             prerequisite fails instead of skipping.)",
            missing.need, missing.reason, missing.enable
        );
    }
    if first_report(missing.need) {
        // Straight to the process's stderr: `eprintln!` in a test is captured and shown only
        // when the test fails, and a skipped test passes.
        let _ = std::io::stderr().write_all(report(&package(), tests, missing).as_bytes());
    }
    None
}

/// Whether `need` is reported for the first time in this process.
fn first_report(need: &'static str) -> bool {
    REPORTED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(need)
}

fn report(package: &str, tests: &str, missing: &Missing) -> String {
    format!(
        "\nSKIPPED: {package}: {tests}: {}\n  to run them: {}\n  \
         ({REQUIRE_ALL}=1, as scripts/test sets, makes this a failure instead)\n\n",
        missing.reason, missing.enable
    )
}

/// The package under test: cargo sets `CARGO_PKG_NAME` when it runs a test binary; else the
/// binary's name.
fn package() -> String {
    std::env::var("CARGO_PKG_NAME")
        .ok()
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| "tests".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing() -> Missing {
        Missing {
            need: "a test need",
            reason: "it is not there".into(),
            enable: "put it there".into(),
        }
    }

    #[test]
    fn require_all_is_any_value_but_empty_or_zero() {
        assert!(!truthy(None));
        assert!(!truthy(Some(OsStr::new(""))));
        assert!(!truthy(Some(OsStr::new("0"))));
        assert!(truthy(Some(OsStr::new("1"))));
        assert!(truthy(Some(OsStr::new("yes"))));
    }

    #[test]
    fn an_override_wins_and_must_be_usable() {
        let usable = |p: &Path| p.ends_with("here");
        assert_eq!(
            locate(Some("/x/here".into()), "/y/here".into(), usable),
            Located::Found("/x/here".into())
        );
        assert_eq!(
            locate(Some("/x/gone".into()), "/y/here".into(), usable),
            Located::BadOverride("/x/gone".into())
        );
        assert_eq!(
            locate(None, "/y/here".into(), usable),
            Located::Found("/y/here".into())
        );
        assert_eq!(
            locate(None, "/y/gone".into(), usable),
            Located::Missing("/y/gone".into())
        );
    }

    #[test]
    fn the_repository_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(repository_root().join("Cargo.toml"))
            .expect("the root manifest");
        assert!(manifest.contains("[workspace]"), "{manifest}");
    }

    #[test]
    fn each_need_is_reported_once() {
        assert!(first_report("one need"));
        assert!(first_report("another need"));
        assert!(!first_report("one need"));
    }

    #[test]
    #[should_panic(
        expected = "the tests need a test need: it is not there; to run them: put it there"
    )]
    fn a_required_need_fails_the_test() {
        skip::<()>(true, "the tests", &missing());
    }

    #[test]
    fn the_report_says_what_was_skipped_and_how_to_run_it() {
        let text = report("sfn-local", "the recorded cases", &missing());
        assert!(
            text.contains("SKIPPED: sfn-local: the recorded cases: it is not there\n"),
            "{text}"
        );
        assert!(text.contains("to run them: put it there\n"), "{text}");
        assert!(text.contains("ORDERFLOW_REQUIRE_ALL=1"), "{text}");
    }
}
