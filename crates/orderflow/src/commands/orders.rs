//! `orderflow orders`: the order records.

use std::path::Path;
use std::process::ExitCode;

use order_workflow::TABLE_NAME;
use serde_json::Value;

use super::{ListArgs, open_store, text};
/// Lists the order records, oldest first.
pub fn run(args: ListArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let store = open_store(store)?;
    let items = match store.scan(TABLE_NAME) {
        Ok(items) => items,
        // No order has been run against this store yet.
        Err(e) if e.error_name() == "DynamoDB.ResourceNotFoundException" => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let mut orders = items
        .iter()
        .map(aws_emulator::unmarshal)
        .collect::<Result<Vec<_>, _>>()?;
    orders.sort_by(|a, b| text(&a["RecordedAt"]).cmp(text(&b["RecordedAt"])));
    if args.json {
        println!("{}", Value::Array(orders));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<38}  {:<20}  {:<24}  REASON",
        "ORDER ID", "STATE", "RECORDED AT"
    );
    for order in &orders {
        println!(
            "{:<38}  {:<20}  {:<24}  {}",
            text(&order["OrderId"]),
            text(&order["State"]),
            text(&order["RecordedAt"]),
            text(&order["Reason"])
        );
    }
    Ok(ExitCode::SUCCESS)
}
