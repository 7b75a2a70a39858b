//! What a suite exercised of each definition: its states, the rules of its Choice states
//! (and their `Default`), its Retry rules and its Catch rules.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use sfn_local::{RuleTaken, StateView, TransitionKind};

use crate::{CaseResult, TestFile};

/// A part of a definition no test case exercised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The state it belongs to.
    pub state: String,
    /// The part, in words: `Default`, `rule 2 ($.n > 0)`, `Retry 1 (States.Timeout)`, …;
    /// empty for the state itself.
    pub part: String,
}

/// How many of one kind of part were exercised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many were exercised.
    pub covered: usize,
    /// How many the definition has.
    pub total: usize,
    /// The ones never exercised, in definition order.
    pub gaps: Vec<Gap>,
}

impl Tally {
    /// The share exercised, in percent (100 when there is nothing to exercise).
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            self.covered as f64 * 100.0 / self.total as f64
        }
    }

    fn count(&mut self, hit: bool, state: &str, part: String) {
        self.total += 1;
        if hit {
            self.covered += 1;
        } else {
            self.gaps.push(Gap {
                state: state.to_owned(),
                part,
            });
        }
    }
}

/// What the test cases of one definition exercised.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// The definition: its file, or the test file holding it.
    pub definition: PathBuf,
    /// How many test cases ran it.
    pub cases: usize,
    /// States entered.
    pub states: Tally,
    /// Choice rules that matched, and `Default`s taken.
    pub choices: Tally,
    /// Retry rules that retried.
    pub retries: Tally,
    /// Catch rules that caught.
    pub catches: Tally,
}

impl Coverage {
    /// The coverage of each definition the files test (files testing the same definition
    /// file count together), from the results [`run`](crate::run) gave for those files.
    pub fn of(files: &[TestFile], results: &[CaseResult]) -> Vec<Coverage> {
        let key = |f: &TestFile| f.definition_path.clone().unwrap_or_else(|| f.path.clone());
        let mut keys: Vec<PathBuf> = Vec::new();
        for file in files {
            let k = key(file);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys.into_iter()
            .filter_map(|k| {
                let indices: Vec<usize> =
                    (0..files.len()).filter(|i| key(&files[*i]) == k).collect();
                let first = files.get(*indices.first()?)?;
                let ran: Vec<&CaseResult> = results
                    .iter()
                    .filter(|r| indices.contains(&r.file))
                    .collect();
                Some(Self::measure(k, first, &ran))
            })
            .collect()
    }

    fn measure(definition: PathBuf, file: &TestFile, results: &[&CaseResult]) -> Coverage {
        let entered: HashSet<&str> = results
            .iter()
            .flat_map(|r| r.entered.iter().map(String::as_str))
            .collect();
        let rules: HashSet<(&str, RuleTaken)> = results
            .iter()
            .flat_map(|r| r.rules.iter().map(|(s, rule)| (s.as_str(), *rule)))
            .collect();
        let mut coverage = Coverage {
            definition,
            cases: results.len(),
            states: Tally::default(),
            choices: Tally::default(),
            retries: Tally::default(),
            catches: Tally::default(),
        };
        for state in file.machine.definition().all_states() {
            coverage.add(&state, &entered, &rules);
        }
        coverage
    }

    fn add(
        &mut self,
        state: &StateView<'_>,
        entered: &HashSet<&str>,
        rules: &HashSet<(&str, RuleTaken)>,
    ) {
        let name = state.name();
        let taken = |rule: RuleTaken| rules.contains(&(name, rule));
        self.states
            .count(entered.contains(name), name, String::new());
        for transition in state.transitions() {
            match transition.kind {
                TransitionKind::Choice { index, rule } => self.choices.count(
                    taken(RuleTaken::Choice(index)),
                    name,
                    format!("rule {index} ({rule})"),
                ),
                TransitionKind::Default => {
                    self.choices
                        .count(taken(RuleTaken::ChoiceDefault), name, "Default".to_owned())
                }
                TransitionKind::Catch { index, errors } => self.catches.count(
                    taken(RuleTaken::Catch(index)),
                    name,
                    format!("Catch {index} ({})", errors.join(", ")),
                ),
                _ => {}
            }
        }
        for (index, errors) in state.retriers().iter().enumerate() {
            self.retries.count(
                taken(RuleTaken::Retry(index)),
                name,
                format!("Retry {index} ({})", errors.join(", ")),
            );
        }
    }

    /// The report `orderflow test --coverage` prints.
    pub fn report(&self) -> String {
        let mut out = format!(
            "coverage of {} ({} test case{})\n",
            self.definition.display(),
            self.cases,
            if self.cases == 1 { "" } else { "s" }
        );
        for (label, tally) in [
            ("states", &self.states),
            ("Choice rules", &self.choices),
            ("Retry rules", &self.retries),
            ("Catch rules", &self.catches),
        ] {
            let _ = writeln!(
                out,
                "  {label:<13} {:>4} of {:<4} {:>6.1}%",
                tally.covered,
                tally.total,
                tally.percent()
            );
            for gap in &tally.gaps {
                if gap.part.is_empty() {
                    let _ = writeln!(out, "      never entered: {}", gap.state);
                } else {
                    let _ = writeln!(out, "      never taken: {} → {}", gap.state, gap.part);
                }
            }
        }
        out
    }
}
