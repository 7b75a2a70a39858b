//! `infra synth`: writes the SAM template from the typed stack in `infra/src`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use infra::Definition;
use infra::orderflow::{self, DEFINITION_PATH, ENTRY_DEFINITION_PATH, TEMPLATE_PATH};

#[derive(Parser)]
#[command(about = "Synthesizes the orderflow SAM template")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes infra/template.yaml (or checks that it is up to date).
    Synth {
        /// Compare with the file instead of writing it; exit 1 when they differ.
        #[arg(long)]
        check: bool,
        /// Where to write the template (default: infra/template.yaml).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The binary is run through cargo, so the repository is where it was built from.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the infra crate has no parent folder")?;
    let Command::Synth { check, out } = cli.command;
    let yaml = orderflow::stack(
        Definition::load(root, DEFINITION_PATH)?,
        Definition::load(root, ENTRY_DEFINITION_PATH)?,
    )?
    .to_yaml()?;
    let out = out.unwrap_or_else(|| root.join(TEMPLATE_PATH));
    if check {
        let current = std::fs::read_to_string(&out).unwrap_or_default();
        if current != yaml {
            eprintln!(
                "{} is out of date: run `cargo run -p infra -- synth`",
                out.display()
            );
            return Ok(ExitCode::from(1));
        }
        println!("{} is up to date", out.display());
    } else {
        std::fs::write(&out, yaml).with_context(|| format!("cannot write {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
