//! The `check-stock` Lambda function: answers an order's items with their stock levels from
//! the simulated inventory (`ORDERFLOW_SIMULATION`, `ORDERFLOW_SEED`); see
//! `orders_lambda::check_stock` for the payloads.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use orders::{SimulatedInventory, Simulation};
use serde_json::Value;

// One invocation at a time needs no worker threads, and starting none shortens cold starts.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orders_lambda::init_tracing();
    let inventory = SimulatedInventory::new(orders_lambda::configured(
        "check-stock",
        Simulation::from_env(),
    )?);
    let inventory = &inventory;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        orders_lambda::check_stock(event.payload, inventory).await
    }))
    .await
}
