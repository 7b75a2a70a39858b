//! Charging through `LedgerGateway` with the DynamoDB ledger.

use std::time::Duration;

use orders::{ChargeId, ChargeLedger, ChargeOutcome, LedgerEntry, LedgerGateway, PaymentGateway};
use serde_json::json;

use crate::common::{Counting, Shared, Table, charge};

#[tokio::test]
async fn a_first_charge_is_recorded_and_a_repeat_answers_it_without_charging() {
    let Some(table) = Table::create("repeat").await else {
        return;
    };
    let counting = Counting::new(Duration::ZERO);
    let gateway = LedgerGateway::new(Shared(&counting), table.ledger());

    let first = gateway.charge(&charge("o-1", 22.5)).await.expect("charged");
    assert_eq!(first, ChargeOutcome::Charged(ChargeId::new("ch_test_1")));
    let again = gateway
        .charge(&charge("o-1", 22.5))
        .await
        .expect("answered");
    assert_eq!(again, first);
    assert_eq!(counting.calls(), 1, "the repeat reached the gateway");

    // A second instance (another ledger value over the same table) answers the same.
    let other = LedgerGateway::new(Shared(&counting), table.ledger());
    assert_eq!(other.charge(&charge("o-1", 22.5)).await, Ok(first));
    assert_eq!(counting.calls(), 1);

    let items = table.items().await;
    assert_eq!(
        items,
        [json!({
            "OrderId": {"S": "o-1"}, "Outcome": {"S": "charged"}, "ChargeId": {"S": "ch_test_1"},
            "Amount": {"S": "22.5"}, "Token": {"S": "tok_sim_0123456789abcdef"},
            "ChargedAt": items[0]["ChargedAt"].clone(),
        })]
    );
    assert!(
        items[0]["ChargedAt"]["S"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
}

#[tokio::test]
async fn a_repeat_with_another_amount_is_an_idempotency_conflict() {
    let Some(table) = Table::create("conflict").await else {
        return;
    };
    let counting = Counting::new(Duration::ZERO);
    let gateway = LedgerGateway::new(Shared(&counting), table.ledger());

    gateway.charge(&charge("o-2", 10.0)).await.expect("charged");
    let conflict = gateway
        .charge(&charge("o-2", 10.01))
        .await
        .expect_err("conflict");
    assert_eq!(conflict.name(), "ValidationError");
    assert_eq!(
        conflict.to_string(),
        "orderId o-2 was already charged with a different amount or payment token; use a new orderId for a new order"
    );
    assert_eq!(counting.calls(), 1);
    assert_eq!(table.items().await.len(), 1);
}

#[tokio::test]
async fn concurrent_charges_of_one_order_record_one_outcome() {
    let Some(table) = Table::create("race").await else {
        return;
    };
    // The delay lets both charges read an empty ledger before either records its outcome, so
    // the conditional write, not the first read, decides.
    let counting = Counting::new(Duration::from_millis(300));
    let first = LedgerGateway::new(Shared(&counting), table.ledger());
    let second = LedgerGateway::new(Shared(&counting), table.ledger());

    let order = charge("o-3", 5.0);
    let (a, b) = tokio::join!(first.charge(&order), second.charge(&order));
    let (a, b) = (a.expect("charged"), b.expect("charged"));
    assert_eq!(a, b);
    assert_eq!(counting.calls(), 2, "both charges read an empty ledger");
    let items = table.items().await;
    assert_eq!(items.len(), 1, "{items:?}");
    let ChargeOutcome::Charged(id) = &a else {
        panic!("not charged: {a:?}")
    };
    assert_eq!(items[0]["ChargeId"]["S"], id.as_str());
}

#[tokio::test]
async fn a_declined_charge_is_recorded_and_answered_again() {
    let Some(table) = Table::create("declined").await else {
        return;
    };
    let ledger = table.ledger();
    let declined = LedgerEntry::new(
        &charge("o-4", 7.0),
        ChargeOutcome::Declined {
            reason: "the card issuer declined the charge".into(),
        },
    );
    assert_eq!(
        ledger.record_if_absent(&declined).await,
        Ok(declined.clone())
    );
    let later = LedgerEntry::new(
        &charge("o-4", 7.0),
        ChargeOutcome::Charged(ChargeId::new("ch_late")),
    );
    assert_eq!(ledger.record_if_absent(&later).await, Ok(declined.clone()));
    assert_eq!(ledger.get(&declined.order_id).await, Ok(Some(declined)));
    assert_eq!(ledger.get(&charge("o-none", 1.0).order_id).await, Ok(None));
}

#[tokio::test]
async fn a_missing_table_is_a_configuration_error_and_charges_nothing() {
    let Some(table) = Table::missing("missing").await else {
        return;
    };
    let counting = Counting::new(Duration::ZERO);
    let gateway = LedgerGateway::new(Shared(&counting), table.ledger());

    let error = gateway
        .charge(&charge("o-5", 1.0))
        .await
        .expect_err("no table");
    // Permanent: the state machine does not retry it.
    assert_eq!(error.name(), "ConfigurationError");
    let message = error.to_string();
    assert!(
        message.starts_with(
            "LEDGER_TABLE_NAME names a table the function cannot use: GetItem on table ledger-missing-"
        ) && message.contains("ResourceNotFoundException"),
        "{message}"
    );
    assert_eq!(counting.calls(), 0, "charged without a ledger");
}

#[tokio::test]
async fn entries_carry_their_expiry_for_the_table_time_to_live() {
    let Some(table) = Table::create("expiry").await else {
        return;
    };
    let ledger = table
        .ledger()
        .expire_after(Duration::from_secs(45 * 86_400));
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let entry = LedgerEntry::new(
        &charge("o-6", 3.0),
        ChargeOutcome::Charged(ChargeId::new("ch_x")),
    );
    ledger.record_if_absent(&entry).await.expect("recorded");
    let items = table.items().await;
    let expires: u64 = items[0][orders_aws::EXPIRES_AT]["N"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .expect("ExpiresAt is a number");
    let retention = 45 * 86_400;
    assert!(
        (before + retention..=before + retention + 60).contains(&expires),
        "{expires} is not 45 days after {before}"
    );
    assert_eq!(ledger.get(&entry.order_id).await, Ok(Some(entry)));
}
