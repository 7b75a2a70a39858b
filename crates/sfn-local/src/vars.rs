//! Workflow variables: what `Assign` stores and `$name` reads, in the scopes AWS documents
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html>).
//!
//! The top-level states share one scope; each Parallel branch and Map iteration runs in a
//! scope of its own that reads the scopes around it (except a Distributed Map's iterations,
//! which see none), may not assign a name an outer scope holds, and ends with its branch or
//! iteration: values leave it only through the branch's output. A state's assignments take
//! effect when it exits, so every field of a state, its `Assign` included, reads the values
//! the variables had when the state was entered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value};

/// Workflow variables, by name (without the `$`), as a path's `$name` root reads them.
pub trait Variables: Sync {
    /// The variable's value, if it is defined where the path is evaluated.
    fn variable(&self, name: &str) -> Option<&Value>;
}

/// No variables at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVariables;

impl Variables for NoVariables {
    fn variable(&self, _: &str) -> Option<&Value> {
        None
    }
}

impl Variables for Map<String, Value> {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// The longest name a variable may have, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 80;
/// The largest value one variable may hold (serialised), as AWS's quota.
pub(crate) const MAX_VARIABLE_BYTES: usize = 256 * 1024;
/// The most one `Assign` may store in all, as AWS's quota.
pub(crate) const MAX_ASSIGN_BYTES: usize = 256 * 1024;
/// The most all the variables of one execution may hold at once, as AWS's quota.
pub(crate) const MAX_EXECUTION_BYTES: usize = 10 * 1024 * 1024;

/// Whether `name` can name a variable: letters, digits and `_`, not starting with a digit,
/// at most [`MAX_NAME_CHARS`] characters, and not the reserved `states`. `Err` says why not.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("is not a variable name: the name is empty".into()),
        Some(c) if !(c.is_alphabetic() || c == '_') => {
            return Err(format!(
                "is not a variable name: a name starts with a letter or '_', not '{c}'"
            ));
        }
        Some(_) => {}
    }
    if let Some(c) = chars.find(|c| !(c.is_alphanumeric() || *c == '_')) {
        return Err(format!(
            "is not a variable name: names hold letters, digits and '_' only, not '{c}'"
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "is not a variable name: names are at most {MAX_NAME_CHARS} characters long"
        ));
    }
    if name == "states" {
        return Err("is reserved: '$states' holds the state's input, result and context".into());
    }
    Ok(())
}

/// The number of bytes `value` serialises to.
pub(crate) fn json_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail, and a `Value` always serialises.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// Assignments a state made, evaluated but not yet visible: they take effect when the state
/// exits, in the order `Assign` lists them.
#[derive(Debug, Default)]
pub(crate) struct Assigned {
    pairs: Vec<(String, Value, usize)>,
}

impl Assigned {
    /// The assignments of an `Assign` whose evaluation gave `object`.
    pub fn from_object(object: serde_json::Map<String, Value>) -> Self {
        Assigned {
            pairs: object
                .into_iter()
                .map(|(k, v)| {
                    let size = json_size(&v);
                    (k, v, size)
                })
                .collect(),
        }
    }

    /// The names and values, as the `StateExited` event lists them.
    pub fn to_map(&self) -> serde_json::Map<String, Value> {
        self.pairs
            .iter()
            .map(|(k, v, _)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Why a state's assignments cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AssignError {
    /// The name is held by a scope around this one, which a branch or iteration may read but
    /// not assign.
    OuterScope(String),
    /// One value is larger than [`MAX_VARIABLE_BYTES`].
    VariableTooLarge { name: String, bytes: usize },
    /// The assignments together are larger than [`MAX_ASSIGN_BYTES`].
    AssignTooLarge { bytes: usize },
    /// The execution's variables would hold more than [`MAX_EXECUTION_BYTES`].
    ExecutionTooLarge { bytes: usize },
}

impl AssignError {
    /// The cause an execution fails with, after the state's prefix.
    pub fn message(&self) -> String {
        match self {
            AssignError::OuterScope(name) => format!(
                "The variable '{name}' belongs to an outer scope: a Parallel branch or Map iteration can read it, but not assign it."
            ),
            AssignError::VariableTooLarge { name, bytes } => format!(
                "The value assigned to the variable '{name}' is {bytes} bytes, more than the maximum of {MAX_VARIABLE_BYTES} bytes a variable may hold."
            ),
            AssignError::AssignTooLarge { bytes } => format!(
                "The values assigned by the state are {bytes} bytes in all, more than the maximum of {MAX_ASSIGN_BYTES} bytes one Assign may store."
            ),
            AssignError::ExecutionTooLarge { bytes } => format!(
                "The execution's variables would hold {bytes} bytes, more than the maximum of {MAX_EXECUTION_BYTES} bytes an execution may store."
            ),
        }
    }
}

/// One scope of variables: the top level, a Parallel branch or a Map iteration.
pub(crate) struct Scope<'p> {
    outer: Option<&'p Scope<'p>>,
    values: HashMap<String, (Value, usize)>,
    /// What this scope's values serialise to, in all.
    bytes: usize,
    /// What all the execution's scopes hold, in all.
    total: &'p AtomicUsize,
}

impl<'p> Scope<'p> {
    /// A scope inside `outer` (`None` for the top level, or for a Distributed Map's
    /// iterations, which see no variables of the state machine around them).
    pub fn new(outer: Option<&'p Scope<'p>>, total: &'p AtomicUsize) -> Self {
        Scope {
            outer,
            values: HashMap::new(),
            bytes: 0,
            total,
        }
    }

    fn in_outer_scope(&self, name: &str) -> bool {
        let mut scope = self.outer;
        // The chain is as long as the definition's nesting of Parallel and Map states.
        while let Some(s) = scope {
            if s.values.contains_key(name) {
                return true;
            }
            scope = s.outer;
        }
        false
    }

    /// Checks that `assigned` may be stored here: no name of an outer scope, and AWS's size
    /// quotas.
    pub fn check(&self, assigned: &Assigned) -> Result<(), AssignError> {
        let mut sum = 0usize;
        for (name, _, size) in &assigned.pairs {
            if self.in_outer_scope(name) {
                return Err(AssignError::OuterScope(name.clone()));
            }
            if *size > MAX_VARIABLE_BYTES {
                return Err(AssignError::VariableTooLarge {
                    name: name.clone(),
                    bytes: *size,
                });
            }
            sum = sum.saturating_add(*size);
        }
        if sum > MAX_ASSIGN_BYTES {
            return Err(AssignError::AssignTooLarge { bytes: sum });
        }
        let replaced: usize = assigned
            .pairs
            .iter()
            .filter_map(|(name, _, _)| self.values.get(name).map(|(_, size)| *size))
            .sum();
        let after = self
            .total
            .load(Ordering::Relaxed)
            .saturating_sub(replaced)
            .saturating_add(sum);
        if after > MAX_EXECUTION_BYTES {
            return Err(AssignError::ExecutionTooLarge { bytes: after });
        }
        Ok(())
    }

    /// This scope's variables (not those of the scopes around it).
    pub fn values(&self) -> serde_json::Map<String, Value> {
        let mut names: Vec<&String> = self.values.keys().collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|n| self.values.get(n).map(|(v, _)| (n.clone(), v.clone())))
            .collect()
    }

    /// Stores checked assignments.
    pub fn commit(&mut self, assigned: Assigned) {
        for (name, value, size) in assigned.pairs {
            self.bytes += size;
            self.total.fetch_add(size, Ordering::Relaxed);
            if let Some((_, old)) = self.values.insert(name, (value, size)) {
                self.bytes -= old;
                self.total.fetch_sub(old, Ordering::Relaxed);
            }
        }
    }
}

impl Variables for Scope<'_> {
    fn variable(&self, name: &str) -> Option<&Value> {
        let mut scope = Some(self);
        while let Some(s) = scope {
            if let Some((v, _)) = s.values.get(name) {
                return Some(v);
            }
            scope = s.outer;
        }
        None
    }
}

impl Drop for Scope<'_> {
    /// A branch's or iteration's variables go when it ends.
    fn drop(&mut self) {
        self.total.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .field("outer", &self.outer)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn assigned(pairs: &[(&str, Value)]) -> Assigned {
        Assigned::from_object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn names() {
        for ok in ["x", "_x", "order2", "é", "Sum"] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "2x", "x.y", "x[0]", "a-b", "states", &"a".repeat(81)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn inner_scopes_read_outer_ones_and_may_not_assign_them() {
        let total = AtomicUsize::new(0);
        let mut top = Scope::new(None, &total);
        top.commit(assigned(&[("x", json!(42))]));
        let mut inner = Scope::new(Some(&top), &total);
        assert_eq!(inner.variable("x"), Some(&json!(42)));
        assert_eq!(
            inner.check(&assigned(&[("x", json!(1))])),
            Err(AssignError::OuterScope("x".into()))
        );
        let own = assigned(&[("y", json!("in"))]);
        assert_eq!(inner.check(&own), Ok(()));
        inner.commit(own);
        assert_eq!(inner.variable("y"), Some(&json!("in")));
        assert_eq!(total.load(Ordering::Relaxed), 2 + 4);
        drop(inner);
        assert_eq!(top.variable("y"), None);
        assert_eq!(total.load(Ordering::Relaxed), 2);
        // The top level may reassign its own variables.
        top.commit(assigned(&[("x", json!("longer"))]));
        assert_eq!(total.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn quotas() {
        let total = AtomicUsize::new(0);
        let scope = Scope::new(None, &total);
        let big = Value::String("a".repeat(MAX_VARIABLE_BYTES));
        assert!(matches!(
            scope.check(&assigned(&[("x", big)])),
            Err(AssignError::VariableTooLarge { .. })
        ));
        let half = Value::String("a".repeat(MAX_VARIABLE_BYTES / 2));
        assert!(matches!(
            scope.check(&assigned(&[("x", half.clone()), ("y", half)])),
            Err(AssignError::AssignTooLarge { .. })
        ));
        total.store(MAX_EXECUTION_BYTES, Ordering::Relaxed);
        assert!(matches!(
            scope.check(&assigned(&[("x", json!(1))])),
            Err(AssignError::ExecutionTooLarge { .. })
        ));
        total.store(0, Ordering::Relaxed);
    }
}
