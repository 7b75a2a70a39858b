//! The `charge-payment` Lambda function: charges a payment token through the simulated
//! payment gateway (`ORDERFLOW_SIMULATION`, `ORDERFLOW_SEED`), failing with errorType
//! `PaymentError` when the charge is declined; see `orders_lambda::charge_payment` for the
//! payloads. With `LEDGER_TABLE_NAME` set, charges go through that DynamoDB charge ledger,
//! so a retried or repeated order is charged once, across instances, and answered with its
//! first outcome.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use orders::{LedgerGateway, PaymentGateway, SimulatedGateway, Simulation};
use orders_aws::DynamoDbLedger;
use serde_json::Value;

// One invocation at a time needs no worker threads, and starting none shortens cold starts.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orders_lambda::init_tracing();
    let gateway = SimulatedGateway::new(orders_lambda::configured(
        "charge-payment",
        Simulation::from_env(),
    )?);
    let ledger = DynamoDbLedger::from_env().await.inspect_err(|error| {
        tracing::error!(function = "charge-payment", error_type = error.name(), error = %error, "function cannot start");
    })?;
    match ledger {
        Some(ledger) => {
            tracing::info!(ledger_table = ledger.table(), "charging through the ledger");
            serve(&LedgerGateway::new(gateway, ledger)).await
        }
        None => serve(&gateway).await,
    }
}

async fn serve(gateway: &impl PaymentGateway) -> Result<(), Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        orders_lambda::charge_payment(event.payload, gateway).await
    }))
    .await
}
