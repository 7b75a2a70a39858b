//! DynamoDB numbers: exact decimals of up to 38 significant digits.
//!
//! DynamoDB sends numbers as strings and compares and adds them as decimals with up to 38
//! significant digits and magnitudes from 1E-130 to below 1E+126. `rust_decimal` holds only
//! 28 digits and `f64` rounds, so this module keeps the digits themselves: a sign, the
//! significant digits and a power of ten, which makes comparison and addition exact.

use std::cmp::Ordering;

/// Most significant digits DynamoDB stores in a number.
const MAX_DIGITS: usize = 38;
/// Largest decimal exponent of a number's leading digit (numbers stay below 1E+126).
const MAX_LEADING_EXP: i64 = 125;
/// Smallest decimal exponent of a number's leading digit (1E-130 is the smallest magnitude).
const MIN_LEADING_EXP: i64 = -130;

/// An exact decimal: `(-1)^negative * digits * 10^exp`.
///
/// Normalised: `digits` has no leading or trailing zeros (trailing zeros move into `exp`),
/// and zero is the empty digit list with `negative == false` and `exp == 0`, so equal values
/// have equal representations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Number {
    negative: bool,
    digits: Vec<u8>,
    exp: i64,
}

impl Number {
    /// Zero.
    pub(crate) fn zero() -> Self {
        Self {
            negative: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    /// A non-negative integer (sizes, counts).
    pub(crate) fn from_usize(n: usize) -> Self {
        let digits = n.to_string().bytes().map(|b| b - b'0').collect();
        Self::normalised(false, digits, 0)
    }

    /// Parses DynamoDB's number syntax (`-12.50`, `1e3`, `.5`), checking DynamoDB's
    /// precision and range limits. The error is DynamoDB's message for the problem.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let not_numeric =
            || format!("The parameter cannot be converted to a numeric value: {text}");
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut negative = false;
        if let Some(&sign) = bytes.first() {
            if sign == b'-' || sign == b'+' {
                negative = sign == b'-';
                pos = 1;
            }
        }
        let mut digits = Vec::new();
        let mut frac_len: i64 = 0;
        let mut seen_digit = false;
        let mut seen_point = false;
        while let Some(&b) = bytes.get(pos) {
            match b {
                b'0'..=b'9' => {
                    seen_digit = true;
                    digits.push(b - b'0');
                    if seen_point {
                        frac_len += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            pos += 1;
        }
        if !seen_digit {
            return Err(not_numeric());
        }
        let mut exp: i64 = 0;
        if let Some(&b) = bytes.get(pos) {
            if b != b'e' && b != b'E' {
                return Err(not_numeric());
            }
            pos += 1;
            let rest = bytes.get(pos..).unwrap_or_default();
            let (exp_negative, exp_digits) = match rest.first() {
                Some(b'-') => (true, rest.get(1..).unwrap_or_default()),
                Some(b'+') => (false, rest.get(1..).unwrap_or_default()),
                _ => (false, rest),
            };
            if exp_digits.is_empty() || !exp_digits.iter().all(u8::is_ascii_digit) {
                return Err(not_numeric());
            }
            // Saturate: an exponent this large is out of range anyway unless the value is zero.
            for &d in exp_digits {
                exp = exp.saturating_mul(10).saturating_add(i64::from(d - b'0'));
            }
            exp = exp.min(1_000_000);
            if exp_negative {
                exp = -exp;
            }
        }
        let number = Self::normalised(negative, digits, exp - frac_len);
        number.check_limits()?;
        Ok(number)
    }

    /// Builds a normalised number from raw digits.
    fn normalised(negative: bool, mut digits: Vec<u8>, mut exp: i64) -> Self {
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
            exp += 1;
        }
        if digits.is_empty() {
            return Self::zero();
        }
        Self {
            negative,
            digits,
            exp,
        }
    }

    /// Exponent of the leading digit in scientific notation (`1234` -> 3, `0.05` -> -2).
    fn leading_exp(&self) -> i64 {
        self.exp + self.digits.len() as i64 - 1
    }

    /// DynamoDB's precision and magnitude limits.
    fn check_limits(&self) -> Result<(), String> {
        if self.digits.is_empty() {
            return Ok(());
        }
        if self.digits.len() > MAX_DIGITS {
            return Err("Attempting to store more than 38 significant digits in a Number".into());
        }
        if self.leading_exp() > MAX_LEADING_EXP {
            return Err("Number overflow. Attempting to store a number with magnitude larger than supported range".into());
        }
        if self.leading_exp() < MIN_LEADING_EXP {
            return Err("Number underflow. Attempting to store a number with magnitude smaller than supported range".into());
        }
        Ok(())
    }

    /// Compares magnitudes, ignoring signs.
    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        // Without leading or trailing zeros, the leading exponent decides first and the digit
        // strings then compare lexicographically (a longer string with an equal prefix is larger).
        self.leading_exp()
            .cmp(&other.leading_exp())
            .then_with(|| self.digits.cmp(&other.digits))
    }

    /// `self + other`, exact, with DynamoDB's limits checked on the result.
    pub(crate) fn add(&self, other: &Self) -> Result<Self, String> {
        if self.digits.is_empty() {
            return Ok(other.clone());
        }
        if other.digits.is_empty() {
            return Ok(self.clone());
        }
        let exp = self.exp.min(other.exp);
        let a = self.scaled_to(exp);
        let b = other.scaled_to(exp);
        let result = if self.negative == other.negative {
            Self::normalised(self.negative, add_digits(&a, &b), exp)
        } else {
            match self.cmp_magnitude(other) {
                Ordering::Equal => Self::zero(),
                Ordering::Greater => Self::normalised(self.negative, sub_digits(&a, &b), exp),
                Ordering::Less => Self::normalised(other.negative, sub_digits(&b, &a), exp),
            }
        };
        result.check_limits()?;
        Ok(result)
    }

    /// `self - other`.
    pub(crate) fn sub(&self, other: &Self) -> Result<Self, String> {
        self.add(&other.negated())
    }

    fn negated(&self) -> Self {
        let mut n = self.clone();
        if !n.digits.is_empty() {
            n.negative = !n.negative;
        }
        n
    }

    /// The digits padded with zeros so that the value is `digits * 10^exp` for a smaller `exp`.
    fn scaled_to(&self, exp: i64) -> Vec<u8> {
        let pad = usize::try_from(self.exp - exp).unwrap_or(0);
        let mut digits = self.digits.clone();
        digits.resize(digits.len() + pad, 0);
        digits
    }

    /// Approximate storage size DynamoDB charges for a number: about one byte per two
    /// significant digits plus one.
    pub(crate) fn storage_size(&self) -> usize {
        self.digits.len().div_ceil(2) + 1
    }

    /// The value as an `i64`, when it is an integer in range.
    pub(crate) fn to_i64(&self) -> Option<i64> {
        if self.exp < 0 || self.leading_exp() > 18 {
            return None;
        }
        self.to_string().parse().ok()
    }

    /// Whether the value has no fractional part.
    pub(crate) fn is_integer(&self) -> bool {
        self.exp >= 0
    }

    /// Number of significant digits.
    pub(crate) fn significant_digits(&self) -> usize {
        self.digits.len()
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Plain decimal notation without exponent, as DynamoDB returns numbers (`1E2` -> `100`).
impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.digits.is_empty() {
            return f.write_str("0");
        }
        let mut out = String::with_capacity(self.digits.len() + 8);
        if self.negative {
            out.push('-');
        }
        let digit_char = |d: &u8| char::from(b'0' + d);
        if self.exp >= 0 {
            out.extend(self.digits.iter().map(digit_char));
            out.extend(std::iter::repeat_n(
                '0',
                usize::try_from(self.exp).unwrap_or(0),
            ));
        } else {
            let frac = usize::try_from(-self.exp).unwrap_or(0);
            if frac >= self.digits.len() {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', frac - self.digits.len()));
                out.extend(self.digits.iter().map(digit_char));
            } else {
                let split = self.digits.len() - frac;
                let (int, fraction) = self.digits.split_at(split);
                out.extend(int.iter().map(digit_char));
                out.push('.');
                out.extend(fraction.iter().map(digit_char));
            }
        }
        f.write_str(&out)
    }
}

/// Adds two equally scaled digit strings (most significant first).
fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0u8;
    let mut ia = a.iter().rev();
    let mut ib = b.iter().rev();
    loop {
        let (x, y) = (ia.next(), ib.next());
        if x.is_none() && y.is_none() {
            break;
        }
        let sum = x.copied().unwrap_or(0) + y.copied().unwrap_or(0) + carry;
        out.push(sum % 10);
        carry = sum / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out.reverse();
    out
}

/// Subtracts `b` from `a` (equally scaled, `a >= b` in magnitude).
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    let mut ib = b.iter().rev();
    for &x in a.iter().rev() {
        let y = ib.next().copied().unwrap_or(0);
        let mut d = x as i8 - y as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out.push(d as u8);
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }
    fn canon(text: &str, expected: &str) {
        assert_eq!(n(text).to_string(), expected, "canonical form of {text}");
    }
    fn bad(text: &str, fragment: &str) {
        let err = Number::parse(text).expect_err(text);
        assert!(err.contains(fragment), "{text}: {err}");
    }
    fn sum(a: &str, b: &str, expected: &str) {
        assert_eq!(
            n(a).add(&n(b)).map(|x| x.to_string()),
            Ok(expected.to_string()),
            "{a} + {b}"
        );
    }
    fn order(a: &str, b: &str, expected: Ordering) {
        assert_eq!(n(a).cmp(&n(b)), expected, "{a} vs {b}");
    }

    #[test]
    fn canonical_forms() {
        canon("0", "0");
        canon("-0", "0");
        canon("000.000", "0");
        canon("1.50", "1.5");
        canon("+7", "7");
        canon("1e2", "100");
        canon("1E-2", "0.01");
        canon(".5", "0.5");
        canon("5.", "5");
        canon("-12.340e1", "-123.4");
        canon("0.000123", "0.000123");
        canon(
            "99999999999999999999999999999999999999",
            "99999999999999999999999999999999999999",
        );
        canon("0e99999999999", "0");
    }

    #[test]
    fn rejects() {
        bad("", "cannot be converted");
        bad("abc", "cannot be converted");
        bad("1.2.3", "cannot be converted");
        bad("1e", "cannot be converted");
        bad("--1", "cannot be converted");
        bad(" 1", "cannot be converted");
        bad("1 ", "cannot be converted");
        bad("0x10", "cannot be converted");
        bad("NaN", "cannot be converted");
        bad(
            "123456789012345678901234567890123456789",
            "38 significant digits",
        );
        bad("1e126", "overflow");
        bad("1e-131", "underflow");
        bad("1e999999999999999999999", "overflow");
    }

    #[test]
    fn comparisons() {
        order("1", "1.0", Ordering::Equal);
        order("2", "10", Ordering::Less);
        order("-2", "-10", Ordering::Greater);
        order("-1", "0", Ordering::Less);
        order("0.1", "0.09", Ordering::Greater);
        order("1e10", "9999999999", Ordering::Greater);
        order(
            "12345678901234567890123456789012345678",
            "12345678901234567890123456789012345677",
            Ordering::Greater,
        );
    }

    #[test]
    fn arithmetic() {
        sum("1", "2", "3");
        sum("0.1", "0.2", "0.3");
        sum("10", "-10", "0");
        sum("-5", "3", "-2");
        sum("5", "-7.5", "-2.5");
        sum("99.99", "0.01", "100");
        sum(
            "12345678901234567890123456789012345678",
            "1",
            "12345678901234567890123456789012345679",
        );
        assert_eq!(n("3").sub(&n("5")).map(|x| x.to_string()), Ok("-2".into()));
        assert!(
            n("99999999999999999999999999999999999999")
                .add(&n("0.1"))
                .is_err()
        );
        assert!(n("9e125").add(&n("9e125")).is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(n("42").to_i64(), Some(42));
        assert_eq!(n("-4.2e1").to_i64(), Some(-42));
        assert_eq!(n("4.2").to_i64(), None);
        assert_eq!(n("1e30").to_i64(), None);
        assert_eq!(Number::from_usize(120).to_string(), "120");
        assert!(n("1e3").is_integer());
    }
}
