//! Validated identifiers.

use std::fmt;

use serde::Serialize;

use crate::OrderError;
use crate::json::{Charset, check_text};

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr, $charset:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted identifier, in characters.
            pub const MAX_LEN: usize = $max;

            #[doc = concat!("Validates `text` as a `", $field, "`.")]
            pub fn new(text: impl Into<String>) -> Result<$name, OrderError> {
                let text = text.into();
                check_text($field, &text, Self::MAX_LEN, $charset)?;
                Ok($name(text))
            }

            /// Like [`Self::new`], naming `field` (a JSON path) in errors.
            pub(crate) fn at(field: &str, text: &str) -> Result<$name, OrderError> {
                check_text(field, text, Self::MAX_LEN, $charset)?;
                Ok($name(text.to_owned()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

identifier!(
    /// A client order id, the idempotency key of the charge: 1–64 letters, digits and `-_.:`,
    /// so that it fits in URLs, log lines and Step Functions execution names (80 characters).
    OrderId,
    "orderId",
    64,
    Charset::Identifier
);

identifier!(
    /// A catalogue item id: 1–128 printable characters.
    ItemId,
    "itemId",
    128,
    Charset::Printable
);

identifier!(
    /// A customer id: 1–128 printable characters.
    CustomerId,
    "customerId",
    128,
    Charset::Printable
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_on_construction() {
        assert_eq!(
            OrderId::new("o-2026.11:24_1").expect("valid").as_str(),
            "o-2026.11:24_1"
        );
        assert!(OrderId::new("").is_err());
        assert!(OrderId::new("has space").is_err());
        assert!(OrderId::new("x".repeat(65)).is_err());
        assert_eq!(
            ItemId::new("item c9f4x").expect("valid").to_string(),
            "item c9f4x"
        );
        assert!(CustomerId::new("c\n1").is_err());
    }
}
