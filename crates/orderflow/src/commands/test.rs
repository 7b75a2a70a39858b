//! `orderflow test`: runs the test cases of test files (a definition, a mock configuration in
//! Step Functions Local's format, and what each case expects) in parallel, in virtual time;
//! prints a report, optionally JUnit XML and coverage; exits 1 when a case fails.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use sfn_testing::{Coverage, TestFile, junit, run as run_cases};

use super::BadInput;

/// Where test files are looked for when none is named.
const DEFAULT_DIR: &str = "statemachine/tests";

#[derive(clap::Args)]
pub struct TestArgs {
    /// Test files (default: every `*.test.json` in statemachine/tests).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Report the states, Choice rules, Retry rules and Catch rules no test case exercised.
    #[arg(long)]
    coverage: bool,
    /// Test cases run at once (default: one per core).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

fn default_files() -> anyhow::Result<Vec<PathBuf>> {
    let dir = Path::new(DEFAULT_DIR);
    let entries = std::fs::read_dir(dir).map_err(|e| {
        BadInput(format!(
            "no test file named, and {DEFAULT_DIR} cannot be read ({e}): give the test files"
        ))
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("listing {DEFAULT_DIR}"))?
            .path();
        if path.to_str().is_some_and(|p| p.ends_with(".test.json")) {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(BadInput(format!(
            "no *.test.json file in {DEFAULT_DIR}: give the test files"
        ))
        .into());
    }
    Ok(files)
}

pub fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    let paths = if args.files.is_empty() {
        default_files()?
    } else {
        args.files.clone()
    };
    let mut files = Vec::with_capacity(paths.len());
    for path in &paths {
        files.push(TestFile::from_path(path).map_err(|e| BadInput(e.to_string()))?);
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let started = Instant::now();
    let results = run_cases(&files, jobs);
    let elapsed = started.elapsed();
    for (index, file) in files.iter().enumerate() {
        println!("{} ({})", file.path.display(), file.machine_name);
        let width = file.cases.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for result in results.iter().filter(|r| r.file == index) {
            let mark = if result.passed() { "ok  " } else { "FAIL" };
            println!(
                "  {mark}  {:<width$}  {:>7.1} ms",
                result.case,
                result.duration.as_secs_f64() * 1000.0
            );
            for failure in &result.failures {
                println!("        {failure}");
            }
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    println!(
        "\n{} test case{}: {} passed, {failed} failed ({:.2} s, {jobs} at once)",
        results.len(),
        if results.len() == 1 { "" } else { "s" },
        results.len() - failed,
        elapsed.as_secs_f64()
    );
    if args.coverage {
        for coverage in Coverage::of(&files, &results) {
            println!("\n{}", coverage.report().trim_end());
        }
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, junit::junit(&files, &results))
            .with_context(|| format!("writing the JUnit report {}", path.display()))?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
