//! Evaluates one expression: `cargo run -p sfn-jsonata --example eval -- EXPR [INPUT_JSON]`.

use sfn_jsonata::{Environment, Expression, NoBindings, SplitMix64, SystemClock};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(text) = args.next() else {
        eprintln!("usage: eval EXPR [INPUT_JSON]");
        std::process::exit(2);
    };
    let input: Option<serde_json::Value> = args.next().map(|s| {
        serde_json::from_str(&s).unwrap_or_else(|e| {
            eprintln!("input: {e}");
            std::process::exit(2)
        })
    });
    let expr = match Expression::parse(&text) {
        Ok(e) => e,
        Err(e) => {
            println!("{e}");
            std::process::exit(1);
        }
    };
    let mut random = SplitMix64::new(1);
    let mut env = Environment::new(&SystemClock, &mut random);
    match expr.evaluate(input.as_ref(), &NoBindings, &mut env) {
        Ok(Some(v)) => println!("{v}"),
        Ok(None) => println!("(undefined)"),
        Err(e) => {
            println!("{e}");
            std::process::exit(1);
        }
    }
}
