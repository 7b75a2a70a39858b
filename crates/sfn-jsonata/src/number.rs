//! Numbers as JavaScript writes them: `Number.prototype.toString` (shortest round-trip
//! digits, exponent form from 1e21 and below 1e-6), `toPrecision`, `toFixed` (which round
//! the exact binary value half away from zero, unlike Rust's half-to-even formatting) and
//! `toString(radix)`.

/// The exact decimal digits of `x` (no leading zeros) and the exponent `e` such that
/// `x = 0.d1d2d3... * 10^e`. `x` must be finite and non-zero.
fn exact_digits(x: f64) -> (Vec<u8>, i32) {
    // 1100 fractional digits in scientific notation cover every double exactly (the
    // longest expansion, of the smallest subnormal, has 767 significant digits).
    let s = format!("{:.1100e}", x.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    (digits, exp + 1)
}

/// The shortest digits that round-trip, and the exponent as in [`exact_digits`].
fn shortest_digits(x: f64) -> (Vec<u8>, i32) {
    let s = format!("{:e}", x.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    (digits, exp + 1)
}

/// Rounds `digits` (value `0.d1d2... * 10^exp`) to `keep` significant digits, half away
/// from zero on the exact value; returns the new digits (exactly `keep` of them, or more
/// zeros) and exponent.
fn round_digits(mut digits: Vec<u8>, mut exp: i32, keep: usize) -> (Vec<u8>, i32) {
    if digits.len() <= keep {
        digits.resize(keep, 0);
        return (digits, exp);
    }
    let round_up = digits[keep] >= 5;
    digits.truncate(keep);
    if round_up {
        let mut i = keep;
        loop {
            if i == 0 {
                digits.insert(0, 1);
                digits.truncate(keep.max(1));
                exp += 1;
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    (digits, exp)
}

fn digits_str(d: &[u8]) -> String {
    d.iter().map(|&b| char::from(b'0' + b)).collect()
}

/// `Number.prototype.toString()` for a finite number.
pub(crate) fn js_number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let (digits, n) = shortest_digits(x);
    let sign = if x < 0.0 { "-" } else { "" };
    let k = digits.len() as i32;
    let ds = digits_str(&digits);
    let body = if k <= n && n <= 21 {
        format!("{ds}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &ds[..n as usize], &ds[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{ds}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let esign = if e < 0 { '-' } else { '+' };
        if k == 1 {
            format!("{ds}e{esign}{}", e.abs())
        } else {
            format!("{}.{}e{esign}{}", &ds[..1], &ds[1..], e.abs())
        }
    };
    format!("{sign}{body}")
}

/// `Number.prototype.toPrecision(p)` for a finite number, `1 <= p <= 100`.
pub(crate) fn to_precision(x: f64, p: usize) -> String {
    if !x.is_finite() {
        return js_number_to_string(x);
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let (digits, e) = if x == 0.0 {
        (vec![0; p], 1)
    } else {
        let (d, exp) = exact_digits(x);
        round_digits(d, exp, p)
    };
    // e is such that value = 0.ddd * 10^e; JavaScript's exponent is e - 1.
    let exp = e - 1;
    let ds = digits_str(&digits);
    if exp < -6 || exp >= p as i32 {
        let esign = if exp < 0 { '-' } else { '+' };
        if p == 1 {
            format!("{sign}{ds}e{esign}{}", exp.abs())
        } else {
            format!("{sign}{}.{}e{esign}{}", &ds[..1], &ds[1..], exp.abs())
        }
    } else if exp == p as i32 - 1 {
        format!("{sign}{ds}")
    } else if exp >= 0 {
        let split = (exp + 1) as usize;
        format!("{sign}{}.{}", &ds[..split], &ds[split..])
    } else {
        format!("{sign}0.{}{ds}", "0".repeat((-(exp + 1)) as usize))
    }
}

/// `Number.prototype.toFixed(f)` for a finite number, `0 <= f <= 100`.
pub(crate) fn to_fixed(x: f64, f: usize) -> String {
    if !x.is_finite() || x.abs() >= 1e21 {
        return js_number_to_string(x);
    }
    let negative = x < 0.0;
    let (int_digits, frac) = if x == 0.0 {
        (vec![0u8], vec![0u8; f])
    } else {
        let (digits, e) = exact_digits(x);
        // Significant digits to keep: those left of the point plus f.
        let keep = e + f as i32;
        if keep <= 0 {
            // Everything rounds to 0, or to 10^-f when the value is at least half of it.
            let half = keep == 0 && digits[0] >= 5;
            let mut frac = vec![0u8; f];
            if half {
                if f == 0 {
                    return format!("{}1", if negative { "-" } else { "" });
                }
                frac[f - 1] = 1;
            }
            (vec![0u8], frac)
        } else {
            let (d, e2) = round_digits(digits, e, keep as usize);
            let total = (e2 + f as i32) as usize;
            let mut d = d;
            d.resize(total, 0);
            if e2 <= 0 {
                let mut frac = vec![0u8; (-e2) as usize];
                frac.extend_from_slice(&d);
                frac.truncate(f);
                (vec![0u8], frac)
            } else {
                let split = e2 as usize;
                (d[..split].to_vec(), d[split..].to_vec())
            }
        }
    };
    let mut s = String::new();
    if negative {
        s.push('-');
    }
    s.push_str(&digits_str(&int_digits));
    if f > 0 {
        s.push('.');
        s.push_str(&digits_str(&frac));
    }
    s
}

/// `Number(x.toPrecision(15))`, which jsonata applies before writing numbers as strings.
pub(crate) fn precision15(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    to_precision(x, 15).parse().unwrap_or(x)
}

/// `Number.prototype.toString(radix)` for an integer-valued finite number.
pub(crate) fn to_radix(x: f64, radix: u32) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let negative = x < 0.0;
    let mut v = x.abs();
    let mut out = Vec::new();
    if v < 1e18 {
        let mut n = v as u128;
        while n > 0 {
            out.push(std::char::from_digit((n % u128::from(radix)) as u32, radix).unwrap_or('0'));
            n /= u128::from(radix);
        }
    } else {
        // Exact integer of a large double: divide the float itself, which stays exact
        // for the quotient's integer part when computed by repeated floor division.
        let r = f64::from(radix);
        while v >= 1.0 {
            let q = (v / r).floor();
            let rem = v - q * r;
            out.push(std::char::from_digit(rem as u32 % radix, radix).unwrap_or('0'));
            v = q;
        }
    }
    if negative {
        out.push('-');
    }
    out.iter().rev().collect()
}

/// JavaScript's `Math.round`: nearest integer, halves toward +infinity.
fn js_round(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let f = x.floor();
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    if r == 0.0 && x < 0.0 { -0.0 } else { r }
}

/// `+(mantissa + 'e' + exponent)`: shifting the decimal point through the number's text,
/// as jsonata does to avoid binary rounding errors.
fn shift(x: f64, by: f64) -> f64 {
    let s = js_number_to_string(x);
    let (m, e) = match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<f64>().unwrap_or(0.0)),
        None => (s.clone(), 0.0),
    };
    let exp = e + by;
    format!("{m}e{}", js_number_to_string(exp))
        .parse()
        .unwrap_or(f64::NAN)
}

/// jsonata's `$round`: half to even, at `precision` decimal places.
pub(crate) fn round_half_even(arg: f64, precision: f64) -> f64 {
    let mut x = arg;
    let has_precision = precision != 0.0 && !precision.is_nan();
    if has_precision {
        x = shift(x, precision);
    }
    let mut result = js_round(x);
    let diff = result - x;
    if diff.abs() == 0.5 && (result % 2.0).abs() == 1.0 {
        result -= 1.0;
    }
    if has_precision {
        result = shift(result, -precision);
    }
    if result == 0.0 {
        result = 0.0;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! cases {
        ($f:expr, $( ($input:expr, $want:expr) ),* $(,)?) => {
            $( assert_eq!($f($input), $want, "{:?}", $input); )*
        };
    }

    #[test]
    fn to_string_like_javascript() {
        cases!(
            js_number_to_string,
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (123456789.123, "123456789.123"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        );
    }

    #[test]
    fn to_precision_like_javascript() {
        let p15 = |x: f64| to_precision(x, 15);
        cases!(
            p15,
            (1.0 / 3.0, "0.333333333333333"),
            (100000000000000.5, "100000000000001"),
            (123.456, "123.456000000000"),
            (1e21, "1.00000000000000e+21"),
            (0.1 + 0.2, "0.300000000000000"),
        );
        assert_eq!(precision15(0.1 + 0.2), 0.3);
        assert_eq!(to_precision(0.00001234, 2), "0.000012");
        assert_eq!(to_precision(1.5e-7, 2), "1.5e-7");
    }

    #[test]
    fn to_fixed_like_javascript() {
        assert_eq!(to_fixed(0.125, 2), "0.13");
        assert_eq!(to_fixed(1.005, 2), "1.00");
        assert_eq!(to_fixed(2.5, 0), "3");
        assert_eq!(to_fixed(-2.5, 0), "-3");
        assert_eq!(to_fixed(0.0004, 2), "0.00");
        assert_eq!(to_fixed(0.005, 2), "0.01");
        assert_eq!(to_fixed(1234.5678, 1), "1234.6");
        assert_eq!(to_fixed(0.0, 3), "0.000");
        assert_eq!(to_fixed(-0.0001, 2), "-0.00");
        assert_eq!(to_fixed(99.99, 1), "100.0");
    }

    #[test]
    fn radix() {
        assert_eq!(to_radix(255.0, 16), "ff");
        assert_eq!(to_radix(-10.0, 2), "-1010");
        assert_eq!(to_radix(35.0, 36), "z");
    }
}
