//! Helpers shared by the integration tests.

use serde_json::Value;

/// One recorded case.
pub struct Case {
    pub name: String,
    pub definition: Value,
    pub input: Value,
    pub expected: Value,
    pub compare: String,
}

/// What the corpus's absence skips, as the skip report names it.
const CORPUS_TESTS: &str = "the engine against the AWS-recorded conformance cases (jsonpath, invalid and jsonata categories)";

/// All cases of a category (`jsonpath`, `invalid`, …) of the AWS-recorded conformance corpus
/// (`ORDERFLOW_CONFORMANCE_DIR`, else `../shared/conformance` beside the repository), sorted by
/// name. `None` when the corpus is absent: `test_prereqs` reports the skip (or fails the test
/// under `ORDERFLOW_REQUIRE_ALL`). Panics when the corpus is there but the category is not.
pub fn load_category(category: &str) -> Option<Vec<Case>> {
    let dir = test_prereqs::conformance_corpus(CORPUS_TESTS)?
        .join("cases")
        .join(category);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no category {category} at {}: {e}", dir.display()));
    let mut cases: Vec<Case> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("parsing {}: {e}", p.display()));
            Case {
                name: v["name"].as_str().unwrap_or_default().to_owned(),
                definition: v["definition"].clone(),
                input: v["input"].clone(),
                expected: v["expected"].clone(),
                compare: v["compare"].as_str().unwrap_or("exact").to_owned(),
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    Some(cases)
}

/// Deep JSON equality with numbers compared by value (`1 == 1.0`).
/// Whether every object in `a` lists its keys in the order of the same object in `b`
/// (where both are objects with the same keys; values compared by [`json_eq`] elsewhere).
pub fn same_key_order(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => x.iter().zip(y).all(|(a, b)| same_key_order(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.keys().eq(y.keys())
                && x.iter()
                    .all(|(k, v)| y.get(k).is_none_or(|w| same_key_order(v, w)))
        }
        _ => true,
    }
}

pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}
