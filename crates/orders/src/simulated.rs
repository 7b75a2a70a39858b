//! Simulated payment gateway and inventory, driven by magic test values.
//!
//! Deterministic by default, like a payment provider's test mode: two documented card numbers
//! make verification fail or the charge be declined, item ids starting with `oos-` are out
//! of stock, and everything else succeeds. [`Simulation::Random`] adds the reference
//! implementation's random failures (verification 1 in 4, each item out of stock 1 in 10,
//! charge 1 in 4) from a seeded generator, so a run can be repeated.

use std::collections::HashMap;
use std::env;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::card::{MaskedCard, NotVerified, card_digits, check_card};
use crate::ports::PaymentToken;
use crate::{
    CardBrand, Charge, ChargeId, ChargeOutcome, Inventory, ItemId, Money, Order, OrderError,
    OrderId, PaymentDetails, PaymentGateway, PaymentVerification, Verification, YearMonth,
};

/// Environment variable selecting the simulation: `random`, or unset/`deterministic`.
pub const SIMULATION_VAR: &str = "ORDERFLOW_SIMULATION";
/// Environment variable holding the seed (an unsigned 64-bit integer) of `random` mode.
pub const SEED_VAR: &str = "ORDERFLOW_SEED";

/// A Visa test number (Luhn-valid) whose verification the simulated gateway refuses.
pub const REFUSED_CARD: &str = "4000000000000002";
/// A Visa test number (Luhn-valid) that verifies, but whose charge the simulated gateway
/// declines.
pub const CHARGE_DECLINED_CARD: &str = "4000000000000341";
/// Item ids starting with this are out of stock.
pub const OUT_OF_STOCK_PREFIX: &str = "oos-";

/// Prefix of every token the simulated gateway issues.
const TOKEN_PREFIX: &str = "tok_sim_";

/// How many digests [`SimulatedGateway`] draws at most for a token before giving up on hex.
const MAX_TOKEN_DRAWS: u32 = 64;
/// Marks a token whose charge is declined. Verification and charge run in different
/// processes, so the token itself must carry the outcome, as a provider's test tokens do.
const DECLINE_MARK: &str = "chargeDeclined_";
/// Prefix of every charge id the simulated gateway issues.
const CHARGE_PREFIX: &str = "ch_sim_";
/// Prefix of the tokens the simulated provider's client-side tokenization issues.
const UPSTREAM_PREFIX: &str = "pm_sim_";
/// Marks a tokenized card that verification refuses.
const UPSTREAM_REFUSED: &str = "_refused";
/// Marks a tokenized card whose charge is declined.
const UPSTREAM_DECLINES: &str = "_declines";

/// What a token from [`SimulatedGateway::tokenize`] says about its card.
struct Upstream {
    brand: CardBrand,
    last4: String,
    expiration: String,
    refused: bool,
    declines: bool,
}

/// How the simulated adapters behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Simulation {
    /// Only the magic values fail.
    #[default]
    Deterministic,
    /// The magic values fail, and random failures at the reference rates are added.
    Random {
        /// Seed of the generator; the same seed and the same sequence of calls give the same
        /// outcomes.
        seed: u64,
    },
}

impl Simulation {
    /// Reads [`SIMULATION_VAR`] and [`SEED_VAR`]. Random mode without a seed draws one,
    /// which [`Simulation::Random`] then shows so that the run can be repeated.
    pub fn from_env() -> Result<Simulation, OrderError> {
        let mode = env::var(SIMULATION_VAR).ok();
        let seed = env::var(SEED_VAR).ok();
        Simulation::from_vars(mode.as_deref(), seed.as_deref())
    }

    /// Like [`Simulation::from_env`], from the variables' values.
    pub fn from_vars(mode: Option<&str>, seed: Option<&str>) -> Result<Simulation, OrderError> {
        let mode = mode.map(str::trim).unwrap_or_default();
        if mode.is_empty() || mode.eq_ignore_ascii_case("deterministic") {
            return Ok(Simulation::Deterministic);
        }
        if !mode.eq_ignore_ascii_case("random") {
            return Err(OrderError::Config {
                variable: SIMULATION_VAR,
                problem: format!(
                    "must be \"random\" or \"deterministic\" (or unset), found {mode:?}"
                ),
            });
        }
        let seed = match seed.map(str::trim).filter(|seed| !seed.is_empty()) {
            None => rand::random(),
            Some(text) => text.parse().map_err(|_| OrderError::Config {
                variable: SEED_VAR,
                problem: format!("must be an unsigned 64-bit integer, found {text:?}"),
            })?,
        };
        Ok(Simulation::Random { seed })
    }
}

/// The random source of [`Simulation::Random`]; absent in deterministic mode.
#[derive(Debug)]
struct Dice(Option<Mutex<ChaCha8Rng>>);

impl Dice {
    /// Each adapter draws from its own stream of the seed, so that the gateway's draws do not
    /// shift the inventory's when both run in one process.
    fn new(simulation: Simulation, stream: u64) -> Dice {
        Dice(match simulation {
            Simulation::Deterministic => None,
            Simulation::Random { seed } => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(stream);
                Some(Mutex::new(rng))
            }
        })
    }

    /// A number below `n`, or `None` in deterministic mode.
    fn below(&self, n: u32) -> Option<u32> {
        self.0.as_ref().map(|rng| lock(rng).random_range(0..n))
    }

    /// True one time in `n`; never in deterministic mode.
    fn one_in(&self, n: u32) -> bool {
        self.below(n) == Some(0)
    }
}

/// A lock that survives a panic elsewhere: the guarded data stays consistent because every
/// critical section here is a single read or insert.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The first 8 bytes of SHA-256 over `parts`, as 16 hex digits.
fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What the ledger remembers of a charge, to answer a repeat with the same outcome.
#[derive(Debug)]
struct LedgerEntry {
    amount: Money,
    token: PaymentToken,
    outcome: ChargeOutcome,
}

/// A payment gateway that verifies and charges without any provider.
///
/// Tokens look like `tok_sim_3f1c9a0b5d2e4f60`; a token for [`CHARGE_DECLINED_CARD`] is
/// `tok_sim_chargeDeclined_…`. They are derived from the order without the card number's
/// hidden digits, so the same order always gets the same token and a token reveals nothing
/// of the number. Charges are idempotent per order id for the life of the gateway.
#[derive(Debug)]
pub struct SimulatedGateway {
    simulation: Simulation,
    dice: Dice,
    ledger: Mutex<HashMap<OrderId, LedgerEntry>>,
}

impl SimulatedGateway {
    /// A gateway with the given behaviour.
    pub fn new(simulation: Simulation) -> SimulatedGateway {
        SimulatedGateway {
            simulation,
            dice: Dice::new(simulation, 0),
            ledger: Mutex::new(HashMap::new()),
        }
    }

    /// A gateway configured by [`SIMULATION_VAR`] and [`SEED_VAR`].
    pub fn from_env() -> Result<SimulatedGateway, OrderError> {
        Ok(SimulatedGateway::new(Simulation::from_env()?))
    }

    /// The behaviour, with the seed in random mode.
    pub fn simulation(&self) -> Simulation {
        self.simulation
    }

    /// The token to charge for `order`, paid by a card of `brand` ending in `last4` that
    /// expires at `expiration`.
    fn token(
        order: &Order,
        brand: CardBrand,
        last4: &str,
        expiration: &str,
        declines: bool,
    ) -> PaymentToken {
        let total = order.total().to_string();
        let order_id = order.order_id().map_or("", OrderId::as_str);
        let parts = [
            brand.name(),
            last4,
            expiration,
            order.customer_id().as_str(),
            order_id,
            &total,
        ];
        let mark = if declines { DECLINE_MARK } else { "" };
        // A hex digest may be all decimal digits, and 12 to 19 of them in a row may pass the
        // Luhn check: about one token in a thousand would look like a card number, which the
        // functions refuse in any field but cardNumber. Such a digest is drawn again with a
        // salt (one more part), so tokens stay deterministic; one in a thousand per draw
        // makes the bound unreachable in practice.
        for round in 0..MAX_TOKEN_DRAWS {
            let salt = round.to_string();
            let mut salted: Vec<&str> = parts.to_vec();
            if round > 0 {
                salted.push(&salt);
            }
            let token = format!("{TOKEN_PREFIX}{mark}{}", digest(&salted));
            if !crate::pan::contains_card_number(&token) {
                return PaymentToken::trusted(token);
            }
        }
        // Unreachable in practice; letters only cannot form a card number.
        PaymentToken::trusted(format!("{TOKEN_PREFIX}{mark}{}", "x".repeat(16)))
    }

    /// What the provider's client-side tokenization does before an order is sent: checks the
    /// card as verification would ([`crate::check_card`] at `today`) and issues a payment
    /// token for it, `pm_sim_<BRAND>_<last4>_<MMYY>[_refused|_declines]_<check>`, which
    /// an order then carries as `paymentDetails.paymentToken` instead of the card. The token
    /// holds what the simulated provider would otherwise keep: the brand, the last four
    /// digits, the expiry, and whether the test card is refused or declines; never the
    /// number. The check digits make an edited token unknown.
    pub fn tokenize(
        details: &PaymentDetails,
        today: YearMonth,
    ) -> Result<PaymentToken, NotVerified> {
        let brand = check_card(details, today)?;
        let digits = card_digits(details)?;
        let mark = match digits.as_str() {
            REFUSED_CARD => UPSTREAM_REFUSED,
            CHARGE_DECLINED_CARD => UPSTREAM_DECLINES,
            _ => "",
        };
        let last4 = details.card_number().last4();
        let expiry = details.expiration().replace('/', "");
        let check = digest(&[UPSTREAM_PREFIX, brand.name(), &last4, &expiry, mark]);
        Ok(PaymentToken::trusted(format!(
            "{UPSTREAM_PREFIX}{}_{last4}_{expiry}{mark}_{check}",
            brand.name()
        )))
    }

    /// A token [`SimulatedGateway::tokenize`] issued, read back; `None` for any other text.
    fn read_upstream(token: &PaymentToken) -> Option<Upstream> {
        let rest = token.as_str().strip_prefix(UPSTREAM_PREFIX)?;
        let (body, check) = rest.rsplit_once('_')?;
        let (body, mark) = [UPSTREAM_REFUSED, UPSTREAM_DECLINES]
            .into_iter()
            .find_map(|mark| body.strip_suffix(mark).map(|b| (b, mark)))
            .unwrap_or((body, ""));
        let mut parts = body.split('_');
        let (brand, last4, expiry) = (parts.next()?, parts.next()?, parts.next()?);
        let four_digits = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit());
        if parts.next().is_some() || !four_digits(last4) || !four_digits(expiry) {
            return None;
        }
        let brand = CardBrand::ALL.into_iter().find(|b| b.name() == brand)?;
        if check != digest(&[UPSTREAM_PREFIX, brand.name(), last4, expiry, mark]) {
            return None;
        }
        Some(Upstream {
            brand,
            last4: last4.to_owned(),
            expiration: format!("{}/{}", expiry.get(..2)?, expiry.get(2..)?),
            refused: mark == UPSTREAM_REFUSED,
            declines: mark == UPSTREAM_DECLINES,
        })
    }

    /// Whether `token` is one of ours that declines, or `Err` if it is not one of ours.
    fn token_declines(token: &PaymentToken) -> Result<bool, OrderError> {
        let rest = token
            .as_str()
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(OrderError::UnknownToken)?;
        let (declines, hash) = match rest.strip_prefix(DECLINE_MARK) {
            Some(hash) => (true, hash),
            None => (false, rest),
        };
        if hash.len() == 16
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(declines)
        } else {
            Err(OrderError::UnknownToken)
        }
    }
}

impl PaymentGateway for SimulatedGateway {
    async fn verify(&self, order: &Order, brand: CardBrand) -> Result<Verification, OrderError> {
        let Some(details) = order.card() else {
            let reason = "the order pays with a payment token, which verify_token verifies";
            return Ok(Verification::NotVerified(NotVerified::Refused {
                reason: reason.to_owned(),
            }));
        };
        let digits = match card_digits(details) {
            Ok(digits) => digits,
            Err(reason) => return Ok(Verification::NotVerified(reason)),
        };
        if digits == REFUSED_CARD {
            let reason = "the card issuer refused the card".to_owned();
            return Ok(Verification::NotVerified(NotVerified::Refused { reason }));
        }
        if self.dice.one_in(4) {
            let reason = "the card issuer refused the card (simulated random failure)".to_owned();
            return Ok(Verification::NotVerified(NotVerified::Refused { reason }));
        }
        Ok(Verification::Verified(SimulatedGateway::token(
            order,
            brand,
            &details.card_number().last4(),
            details.expiration(),
            digits == CHARGE_DECLINED_CARD,
        )))
    }

    async fn verify_token(
        &self,
        order: &Order,
        token: &PaymentToken,
        today: YearMonth,
    ) -> Result<PaymentVerification, OrderError> {
        let Some(card) = SimulatedGateway::read_upstream(token) else {
            return Ok(PaymentVerification {
                card: MaskedCard {
                    brand: "UNKNOWN".to_owned(),
                    last4: String::new(),
                },
                outcome: Verification::NotVerified(NotVerified::Refused {
                    reason: "the payment token was not issued by this payment provider".to_owned(),
                }),
            });
        };
        let masked = MaskedCard {
            brand: card.brand.name().to_owned(),
            last4: card.last4.clone(),
        };
        let refused = |reason: &str| {
            Ok(PaymentVerification {
                card: masked.clone(),
                outcome: Verification::NotVerified(NotVerified::Refused {
                    reason: reason.to_owned(),
                }),
            })
        };
        // A card tokenized months ago may have expired since.
        let expired = crate::card::parse_expiration(&card.expiration).is_none_or(|e| e < today);
        if expired {
            return Ok(PaymentVerification {
                card: masked,
                outcome: Verification::NotVerified(NotVerified::Expired),
            });
        }
        if card.refused {
            return refused("the card issuer refused the card");
        }
        if self.dice.one_in(4) {
            return refused("the card issuer refused the card (simulated random failure)");
        }
        let charge_token = SimulatedGateway::token(
            order,
            card.brand,
            &card.last4,
            &card.expiration,
            card.declines,
        );
        Ok(PaymentVerification {
            card: masked,
            outcome: Verification::Verified(charge_token),
        })
    }

    async fn charge(&self, charge: &Charge) -> Result<ChargeOutcome, OrderError> {
        let declines = SimulatedGateway::token_declines(&charge.token)?;
        let mut ledger = lock(&self.ledger);
        if let Some(entry) = ledger.get(&charge.order_id) {
            if entry.amount != charge.amount || entry.token != charge.token {
                return Err(OrderError::IdempotencyConflict {
                    order_id: charge.order_id.to_string(),
                });
            }
            return Ok(entry.outcome.clone());
        }
        let outcome = if declines {
            ChargeOutcome::Declined {
                reason: "the card issuer declined the charge".to_owned(),
            }
        } else if self.dice.one_in(4) {
            ChargeOutcome::Declined {
                reason: "the card issuer declined the charge (simulated random failure)".to_owned(),
            }
        } else {
            let amount = charge.amount.to_string();
            let hash = digest(&[charge.order_id.as_str(), &amount, charge.token.as_str()]);
            ChargeOutcome::Charged(ChargeId::new(format!("{CHARGE_PREFIX}{hash}")))
        };
        let entry = LedgerEntry {
            amount: charge.amount,
            token: charge.token.clone(),
            outcome: outcome.clone(),
        };
        ledger.insert(charge.order_id.clone(), entry);
        Ok(outcome)
    }
}

/// An inventory without a stock system.
///
/// Items whose id starts with [`OUT_OF_STOCK_PREFIX`] have 0 in stock; every other item has
/// a stable level from 1 to 9 derived from its id, or in random mode a level from 0 to 9
/// (out of stock one time in ten, as in the reference).
#[derive(Debug)]
pub struct SimulatedInventory {
    simulation: Simulation,
    dice: Dice,
}

impl SimulatedInventory {
    /// An inventory with the given behaviour.
    pub fn new(simulation: Simulation) -> SimulatedInventory {
        SimulatedInventory {
            simulation,
            dice: Dice::new(simulation, 1),
        }
    }

    /// An inventory configured by [`SIMULATION_VAR`] and [`SEED_VAR`].
    pub fn from_env() -> Result<SimulatedInventory, OrderError> {
        Ok(SimulatedInventory::new(Simulation::from_env()?))
    }

    /// The behaviour, with the seed in random mode.
    pub fn simulation(&self) -> Simulation {
        self.simulation
    }
}

impl Inventory for SimulatedInventory {
    async fn stock_level(&self, item: &ItemId) -> Result<u32, OrderError> {
        if item.as_str().starts_with(OUT_OF_STOCK_PREFIX) {
            return Ok(0);
        }
        Ok(match self.dice.below(10) {
            Some(level) => level,
            None => {
                let hash = digest(&[item.as_str()]);
                1 + u32::from_str_radix(hash.get(..2).unwrap_or("0"), 16).unwrap_or(0) % 9
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::{ChargeRequest, OrderRequest};

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        futures::executor::block_on(future)
    }

    fn order(card_type: &str, number: &str) -> Order {
        let mut value: Value =
            serde_json::from_str(include_str!("../../../events/order.json")).expect("json");
        value["paymentDetails"]["cardType"] = json!(card_type);
        value["paymentDetails"]["cardNumber"] = json!(number);
        Order::try_from(OrderRequest::new(value)).expect("valid order")
    }

    fn charge(order_id: &str, amount: u32, token: &str) -> Charge {
        let request = json!({"orderId": order_id, "customerId": "c-1", "amount": amount, "paymentToken": token});
        Charge::try_from(ChargeRequest::new(request)).expect("valid charge")
    }

    fn verify(gateway: &SimulatedGateway, card_type: &str, number: &str) -> Verification {
        let brand = CardBrand::from_card_type(card_type).expect("known brand");
        block_on(gateway.verify(&order(card_type, number), brand)).expect("verifies")
    }

    fn month(year: u16, month: u8) -> YearMonth {
        YearMonth::new(year, month).expect("a month")
    }

    /// `events/order.json` paying with the token the simulated provider issues for the card
    /// `number` of `card_type`.
    fn tokenized(card_type: &str, number: &str) -> (Order, PaymentToken) {
        let card = order(card_type, number);
        let token = SimulatedGateway::tokenize(card.card().expect("a card"), month(2026, 11))
            .expect("tokenized");
        let mut value: Value =
            serde_json::from_str(include_str!("../../../events/order.json")).expect("json");
        value["paymentDetails"] = json!({"name": "John Doe", "paymentToken": token.as_str()});
        let order = Order::try_from(OrderRequest::new(value)).expect("valid order");
        (order, token)
    }

    fn verify_token(order: &Order, token: &PaymentToken, today: YearMonth) -> PaymentVerification {
        let gateway = SimulatedGateway::new(Simulation::Deterministic);
        block_on(gateway.verify_token(order, token, today)).expect("answers")
    }

    /// One hex digest in about a thousand reads as a card number; no token may (the
    /// functions refuse a card number outside cardNumber, so such an order ended ERROR).
    #[test]
    fn no_charge_token_looks_like_a_card_number() {
        let mut redrawn = 0;
        for i in 0..20_000 {
            let mut value: Value =
                serde_json::from_str(include_str!("../../../events/order.json")).expect("json");
            value["orderId"] = json!(format!("load-{i}"));
            let order = Order::try_from(OrderRequest::new(value)).expect("valid order");
            let token =
                SimulatedGateway::token(&order, CardBrand::Mastercard, "4444", "08/31", false);
            assert!(!crate::pan::contains_card_number(token.as_str()), "{token}");
            let first = format!(
                "{TOKEN_PREFIX}{}",
                digest(&[
                    "MASTERCARD",
                    "4444",
                    "08/31",
                    "c-id-56392",
                    &format!("load-{i}"),
                    &order.total().to_string()
                ])
            );
            redrawn += usize::from(first != token.as_str());
        }
        // The salt is drawn only where the first digest reads as a card number.
        assert!((1..100).contains(&redrawn), "{redrawn} tokens redrawn");
    }

    #[test]
    fn a_tokenized_card_verifies_as_its_card_would_without_its_number() {
        let (order, token) = tokenized("VISA", "4242 4242 4242 4242");
        assert!(
            token.as_str().starts_with("pm_sim_VISA_4242_0831_"),
            "{token}"
        );
        assert!(!token.as_str().contains("42424242"));
        let answer = verify_token(&order, &token, month(2026, 11));
        assert_eq!(answer.card.brand, "VISA");
        assert_eq!(answer.card.last4, "4242");
        let charge_token = token_of(answer.outcome);
        assert!(charge_token.starts_with("tok_sim_"), "{charge_token}");
        let charged = block_on(
            SimulatedGateway::new(Simulation::Deterministic).charge(&charge(
                "o-1",
                2250,
                &charge_token,
            )),
        );
        assert!(
            matches!(charged, Ok(ChargeOutcome::Charged(_))),
            "{charged:?}"
        );
    }

    #[test]
    fn tokenized_test_cards_keep_their_behaviour() {
        let (order, token) = tokenized("VISA", REFUSED_CARD);
        let refused = verify_token(&order, &token, month(2026, 11));
        assert!(matches!(
            refused.outcome,
            Verification::NotVerified(NotVerified::Refused { .. })
        ));
        let (order, token) = tokenized("VISA", CHARGE_DECLINED_CARD);
        let charge_token = token_of(verify_token(&order, &token, month(2026, 11)).outcome);
        let declined = block_on(
            SimulatedGateway::new(Simulation::Deterministic).charge(&charge(
                "o-2",
                2250,
                &charge_token,
            )),
        );
        assert!(
            matches!(declined, Ok(ChargeOutcome::Declined { .. })),
            "{declined:?}"
        );
        // Expired since it was tokenized.
        let (order, token) = tokenized("VISA", "4242 4242 4242 4242");
        let later = verify_token(&order, &token, month(2031, 9));
        assert!(matches!(
            later.outcome,
            Verification::NotVerified(NotVerified::Expired)
        ));
    }

    #[test]
    fn only_tokens_the_provider_issued_verify() {
        let (tokenized_order, token) = tokenized("MASTERCARD", "5555 5555 5555 4444");
        let edited = PaymentToken::new(token.as_str().replace("_4444_", "_4445_")).expect("text");
        for foreign in [edited, PaymentToken::new("pm_other_1").expect("text")] {
            let answer = verify_token(&tokenized_order, &foreign, month(2026, 11));
            assert!(
                matches!(
                    answer.outcome,
                    Verification::NotVerified(NotVerified::Refused { .. })
                ),
                "{foreign}"
            );
            assert_eq!(answer.card.brand, "UNKNOWN");
        }
        // A card that cannot pay gets no token.
        let unusable = order("VISA", "4242 4242 4242 4241");
        assert_eq!(
            SimulatedGateway::tokenize(unusable.card().expect("a card"), month(2026, 11)),
            Err(NotVerified::FailsLuhn)
        );
    }

    fn token_of(verification: Verification) -> String {
        match verification {
            Verification::Verified(token) => token.as_str().to_owned(),
            Verification::NotVerified(reason) => panic!("not verified: {reason}"),
        }
    }

    #[test]
    fn magic_cards() {
        let gateway = SimulatedGateway::new(Simulation::Deterministic);
        let refused = verify(&gateway, "VISA", "4000 0000 0000 0002");
        assert_eq!(
            refused,
            Verification::NotVerified(NotVerified::Refused {
                reason: "the card issuer refused the card".into()
            })
        );
        let declining = token_of(verify(&gateway, "VISA", "4000-0000-0000-0341"));
        assert!(
            declining.starts_with("tok_sim_chargeDeclined_"),
            "{declining}"
        );
        let outcome = block_on(gateway.charge(&charge("o-1", 5, &declining))).expect("charges");
        assert!(
            matches!(outcome, ChargeOutcome::Declined { .. }),
            "{outcome:?}"
        );

        let good = token_of(verify(&gateway, "MASTERCARD", "5555 5555 5555 4444"));
        assert!(
            good.starts_with("tok_sim_") && !good.contains("Declined"),
            "{good}"
        );
        assert!(!good.contains("4444"), "{good}");
        let outcome = block_on(gateway.charge(&charge("o-2", 5, &good))).expect("charges");
        assert!(
            matches!(&outcome, ChargeOutcome::Charged(id) if id.as_str().starts_with("ch_sim_")),
            "{outcome:?}"
        );
    }

    #[test]
    fn tokens_are_deterministic() {
        let a = token_of(verify(
            &SimulatedGateway::new(Simulation::Deterministic),
            "VISA",
            "4242424242424242",
        ));
        let b = token_of(verify(
            &SimulatedGateway::new(Simulation::Deterministic),
            "VISA",
            "4242424242424242",
        ));
        assert_eq!(a, b);
    }

    #[test]
    fn charges_are_idempotent_per_order() {
        let gateway = SimulatedGateway::new(Simulation::Deterministic);
        let token = token_of(verify(&gateway, "VISA", "4242424242424242"));
        let first = block_on(gateway.charge(&charge("o-1", 5, &token))).expect("charges");
        let again = block_on(gateway.charge(&charge("o-1", 5, &token))).expect("charges");
        assert_eq!(first, again);
        let other = block_on(gateway.charge(&charge("o-2", 5, &token))).expect("charges");
        assert_ne!(first, other);
        let conflict = block_on(gateway.charge(&charge("o-1", 6, &token))).expect_err("conflict");
        assert!(
            matches!(conflict, OrderError::IdempotencyConflict { .. }),
            "{conflict}"
        );
    }

    #[test]
    fn rejects_foreign_tokens() {
        let gateway = SimulatedGateway::new(Simulation::Deterministic);
        for token in [
            "tok_visa",
            "tok_sim_",
            "tok_sim_0123",
            "tok_sim_chargeDeclined_xyz",
            "tok_sim_0123456789ABCDEF",
        ] {
            let error = block_on(gateway.charge(&charge("o-1", 5, token))).expect_err(token);
            assert_eq!(error, OrderError::UnknownToken, "{token}");
        }
    }

    #[test]
    fn out_of_stock_prefix() {
        let inventory = SimulatedInventory::new(Simulation::Deterministic);
        let level = |id: &str| {
            block_on(inventory.stock_level(&ItemId::new(id).expect("valid id"))).expect("level")
        };
        assert_eq!(level("oos-item-1"), 0);
        assert_eq!(level("oos-"), 0);
        assert_eq!(level("item-c9f4x"), level("item-c9f4x"));
        for id in ["item-c9f4x", "item-g7b2q", "item-p4c97", "OOS-upper", "x"] {
            assert!((1..=9).contains(&level(id)), "{id}");
        }
    }

    #[test]
    fn random_rates_match_the_reference() {
        let simulation = Simulation::Random { seed: 7 };
        let gateway = SimulatedGateway::new(simulation);
        let inventory = SimulatedInventory::new(simulation);
        let runs = 4000;
        let mut refused = 0;
        let mut declined = 0;
        let mut out = 0;
        for n in 0..runs {
            match verify(&gateway, "VISA", "4242424242424242") {
                Verification::NotVerified(_) => refused += 1,
                Verification::Verified(token) => {
                    let outcome =
                        block_on(gateway.charge(&charge(&format!("o-{n}"), 5, token.as_str())));
                    declined += usize::from(matches!(outcome, Ok(ChargeOutcome::Declined { .. })));
                }
            }
            let item = ItemId::new(format!("item-{n}")).expect("valid id");
            out += usize::from(block_on(inventory.stock_level(&item)).expect("level") == 0);
        }
        // Expected 1000, 750 (a quarter of the ~3000 verified) and 400; bounds are > 5 sigma.
        assert!((850..1150).contains(&refused), "refused {refused}");
        assert!((620..880).contains(&declined), "declined {declined}");
        assert!((300..500).contains(&out), "out of stock {out}");
    }

    #[test]
    fn same_seed_same_outcomes() {
        let levels = |seed| {
            let inventory = SimulatedInventory::new(Simulation::Random { seed });
            let item = ItemId::new("item-1").expect("valid id");
            (0..32)
                .map(|_| block_on(inventory.stock_level(&item)).expect("level"))
                .collect::<Vec<_>>()
        };
        assert_eq!(levels(42), levels(42));
        assert_ne!(levels(42), levels(43));
    }

    #[test]
    fn reads_the_environment_values() {
        let config = |mode, seed| Simulation::from_vars(mode, seed);
        assert_eq!(config(None, None), Ok(Simulation::Deterministic));
        assert_eq!(config(Some(""), Some("9")), Ok(Simulation::Deterministic));
        assert_eq!(
            config(Some("deterministic"), None),
            Ok(Simulation::Deterministic)
        );
        assert_eq!(
            config(Some("random"), Some("42")),
            Ok(Simulation::Random { seed: 42 })
        );
        assert_eq!(
            config(Some("RANDOM"), Some(" 42 ")),
            Ok(Simulation::Random { seed: 42 })
        );
        assert!(matches!(
            config(Some("random"), None),
            Ok(Simulation::Random { .. })
        ));
        let error = config(Some("sometimes"), None).expect_err("bad mode");
        assert_eq!(
            error.to_string(),
            "ORDERFLOW_SIMULATION must be \"random\" or \"deterministic\" (or unset), found \"sometimes\""
        );
        let error = config(Some("random"), Some("-1")).expect_err("bad seed");
        assert_eq!(
            error.to_string(),
            "ORDERFLOW_SEED must be an unsigned 64-bit integer, found \"-1\""
        );
        assert_eq!(error.name(), "ConfigurationError");
    }
}
