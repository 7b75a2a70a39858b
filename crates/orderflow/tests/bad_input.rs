//! The bad-input corpus: every file of `tests/fixtures/bad-input/` through the real
//! `orderflow run`, with the outcome `manifest.json` documents for it. An order the workflow
//! can start on ends with exactly one record (`INVALID`, or the card's rejection) and one
//! notification; input that cannot even start (not JSON, over the 256 KiB payload limit) is
//! refused with exit code 2 and a message naming the problem. Nothing panics, nothing shows
//! the card number.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const PAN: &str = "5555555555554444";

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad-input")
}

#[test]
fn every_bad_input_gets_its_documented_outcome() {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus().join("manifest.json")).expect("the manifest"),
    )
    .expect("the manifest is JSON");
    let manifest = manifest.as_object().expect("an object of file names");
    let mut files: Vec<String> = std::fs::read_dir(corpus())
        .expect("the corpus")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && name != "manifest.json")
        .collect();
    files.sort();
    assert!(files.len() >= 40, "only {} fixtures", files.len());
    let listed: Vec<&String> = manifest.keys().collect();
    assert_eq!(
        listed.len(),
        files.len(),
        "every fixture is in the manifest and no other"
    );
    let store = tempfile::tempdir().expect("a store directory");
    let mut failures = Vec::new();
    for name in &files {
        let expected = &manifest[name.as_str()];
        let output = Command::new(env!("CARGO_BIN_EXE_orderflow"))
            .arg("--store")
            .arg(store.path())
            .args(["run", "--json", "--virtual-time"])
            .arg(corpus().join(name))
            .output()
            .expect("orderflow runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let code = output.status.code();
        let mut fail = |why: String| failures.push(format!("{name}: {why}\n  stderr: {stderr}"));
        if stderr.contains("panicked") || stdout.contains(PAN) || stderr.contains(PAN) {
            fail("panicked or showed the card number".into());
            continue;
        }
        if code != expected["exit"].as_i64().map(|c| c as i32) {
            fail(format!("exit code {code:?}, expected {}", expected["exit"]));
            continue;
        }
        if let Some(error) = expected["error"].as_str() {
            if !stderr.contains(error) || !stderr.contains(name.as_str()) {
                fail(format!(
                    "the error does not name the file and say {error:?}"
                ));
            }
            continue;
        }
        let Ok(run) = serde_json::from_str::<Value>(&stdout) else {
            fail(format!("not one JSON object: {stdout}"));
            continue;
        };
        let record = &run["record"];
        if record["State"] != expected["orderState"] {
            fail(format!(
                "recorded {}, expected {}",
                record["State"], expected["orderState"]
            ));
        }
        let reason = expected["reason"].as_str().unwrap_or_default();
        if !record["Reason"]
            .as_str()
            .is_some_and(|r| r.starts_with(reason))
        {
            fail(format!("reason {}, expected {reason:?}…", record["Reason"]));
        }
        let notifications = run["notifications"].as_array().map_or(0, Vec::len);
        if notifications != 1 {
            fail(format!("{notifications} notifications"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
