//! The `verify-payment` Lambda function: validates an order and verifies its card with the
//! simulated payment gateway (`ORDERFLOW_SIMULATION`, `ORDERFLOW_SEED`); see
//! `orders_lambda::verify_payment` for the payloads.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use orders::{SimulatedGateway, Simulation, SystemClock};
use serde_json::Value;

// One invocation at a time needs no worker threads, and starting none shortens cold starts.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orders_lambda::init_tracing();
    let gateway = SimulatedGateway::new(orders_lambda::configured(
        "verify-payment",
        Simulation::from_env(),
    )?);
    let gateway = &gateway;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        orders_lambda::verify_payment(event.payload, gateway, &SystemClock).await
    }))
    .await
}
