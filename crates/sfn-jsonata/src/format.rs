//! `$formatNumber`: XPath F&O `fn:format-number` pictures, ported from jsonata.js 2.0.6
//! `functions.js` `formatNumber`.

use crate::number::round_half_even;
use crate::number::to_fixed;
use crate::value::{Fail, R, Value};

struct Props {
    decimal: char,
    grouping: char,
    exponent: char,
    minus: String,
    percent: char,
    per_mille: char,
    zero: char,
    digit: char,
    pattern: char,
}

#[derive(Clone)]
struct Parts {
    prefix: Vec<char>,
    suffix: Vec<char>,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fractional: Vec<char>,
    subpicture: Vec<char>,
}

#[derive(Clone)]
struct Analysis {
    integer_grouping: Vec<usize>,
    regular_grouping: usize,
    min_integer: usize,
    scaling: usize,
    prefix: Vec<char>,
    fractional_grouping: Vec<usize>,
    min_fraction: usize,
    max_fraction: usize,
    min_exponent: usize,
    suffix: Vec<char>,
    picture: Vec<char>,
}

fn index_of(hay: &[char], c: char) -> Option<usize> {
    hay.iter().position(|&x| x == c)
}

fn index_of_from(hay: &[char], c: char, from: usize) -> Option<usize> {
    hay.iter()
        .skip(from)
        .position(|&x| x == c)
        .map(|p| p + from)
}

fn last_index_of(hay: &[char], c: char) -> Option<usize> {
    hay.iter().rposition(|&x| x == c)
}

fn first_char(v: &Value<'_>, key: &str) -> Option<String> {
    v.get_prop(key).as_str().map(str::to_string)
}

// A port of jsonata.js's functions.js `formatNumber` (its picture analysis and formatting in
// one function), kept whole to compare with it.
pub(crate) fn format_number(value: f64, picture: &str, options: &Value<'_>) -> R<String> {
    let get = |key: &str, default: &str| -> String {
        first_char(options, key).unwrap_or_else(|| default.to_string())
    };
    let ch = |s: String, d: char| s.chars().next().unwrap_or(d);
    let p = Props {
        decimal: ch(get("decimal-separator", "."), '.'),
        grouping: ch(get("grouping-separator", ","), ','),
        exponent: ch(get("exponent-separator", "e"), 'e'),
        minus: get("minus-sign", "-"),
        percent: ch(get("percent", "%"), '%'),
        per_mille: ch(get("per-mille", "\u{2030}"), '\u{2030}'),
        zero: ch(get("zero-digit", "0"), '0'),
        digit: ch(get("digit", "#"), '#'),
        pattern: ch(get("pattern-separator", ";"), ';'),
    };
    let zero_code = p.zero as u32;
    let family: Vec<char> = (0..10)
        .filter_map(|i| char::from_u32(zero_code + i))
        .collect();
    let is_digit = |c: char| family.contains(&c);
    let active = |c: char| {
        is_digit(c)
            || c == p.decimal
            || c == p.exponent
            || c == p.grouping
            || c == p.digit
            || c == p.pattern
    };

    let pic: Vec<char> = picture.chars().collect();
    let sub_pictures: Vec<Vec<char>> = pic
        .split(|&c| c == p.pattern)
        .map(<[char]>::to_vec)
        .collect();
    if sub_pictures.len() > 2 {
        return Err(Fail::new("D3080"));
    }

    let split_parts = |sub: &Vec<char>| -> Parts {
        let prefix_end = sub
            .iter()
            .position(|&c| active(c) && c != p.exponent)
            .unwrap_or(sub.len());
        let prefix: Vec<char> = sub[..prefix_end].to_vec();
        let suffix_start = sub
            .iter()
            .rposition(|&c| active(c) && c != p.exponent)
            .map_or(0, |i| i + 1);
        // jsonata's scan leaves the suffix undefined (an error there) when no active
        // character exists; the whole sub-picture is then prefix.
        let suffix: Vec<char> = if suffix_start == 0 && prefix_end == sub.len() {
            Vec::new()
        } else {
            sub[suffix_start..].to_vec()
        };
        let active_part: Vec<char> = sub
            .get(prefix.len()..sub.len().saturating_sub(suffix.len()))
            .map(<[char]>::to_vec)
            .unwrap_or_default();
        let exponent_position = index_of_from(sub, p.exponent, prefix.len());
        let (mantissa, exponent) = match exponent_position {
            Some(pos) if pos <= sub.len() - suffix.len() => {
                let m: Vec<char> = active_part.iter().take(pos).copied().collect();
                let e: Vec<char> = active_part.iter().skip(pos + 1).copied().collect();
                (m, Some(e))
            }
            _ => (active_part.clone(), None),
        };
        let (integer, fractional) = match index_of(&mantissa, p.decimal) {
            None => (mantissa.clone(), suffix.clone()),
            Some(d) => (mantissa[..d].to_vec(), mantissa[d + 1..].to_vec()),
        };
        Parts {
            prefix,
            suffix,
            active: active_part,
            mantissa,
            exponent,
            integer,
            fractional,
            subpicture: sub.clone(),
        }
    };

    let validate = |parts: &Parts| -> R<()> {
        let sub = &parts.subpicture;
        let mut error = None;
        let decimal_pos = index_of(sub, p.decimal);
        if decimal_pos != last_index_of(sub, p.decimal) {
            error = Some("D3081");
        }
        if index_of(sub, p.percent) != last_index_of(sub, p.percent) {
            error = Some("D3082");
        }
        if index_of(sub, p.per_mille) != last_index_of(sub, p.per_mille) {
            error = Some("D3083");
        }
        if index_of(sub, p.percent).is_some() && index_of(sub, p.per_mille).is_some() {
            error = Some("D3084");
        }
        if !parts.mantissa.iter().any(|&c| is_digit(c) || c == p.digit) {
            error = Some("D3085");
        }
        if parts.active.iter().any(|&c| !active(c)) {
            error = Some("D3086");
        }
        match decimal_pos {
            Some(d) => {
                let before = if d > 0 { sub.get(d - 1) } else { None };
                if before == Some(&p.grouping) || sub.get(d + 1) == Some(&p.grouping) {
                    error = Some("D3087");
                }
            }
            None => {
                if parts.integer.last() == Some(&p.grouping) {
                    error = Some("D3088");
                }
            }
        }
        if sub
            .windows(2)
            .any(|w| w[0] == p.grouping && w[1] == p.grouping)
        {
            error = Some("D3089");
        }
        if let Some(opt) = index_of(&parts.integer, p.digit)
            && parts.integer[..opt].iter().any(|&c| is_digit(c))
        {
            error = Some("D3090");
        }
        if let Some(opt) = last_index_of(&parts.fractional, p.digit)
            && parts.fractional[opt..].iter().any(|&c| is_digit(c))
        {
            error = Some("D3091");
        }
        if let Some(exp) = &parts.exponent {
            if !exp.is_empty()
                && (index_of(sub, p.percent).is_some() || index_of(sub, p.per_mille).is_some())
            {
                error = Some("D3092");
            }
            if exp.is_empty() || exp.iter().any(|&c| !is_digit(c)) {
                error = Some("D3093");
            }
        }
        match error {
            Some(code) => Err(Fail::new(code)),
            None => Ok(()),
        }
    };

    let analyse = |parts: &Parts| -> Analysis {
        let grouping_positions = |part: &[char], to_left: bool| -> Vec<usize> {
            let mut positions = Vec::new();
            let mut gp = index_of(part, p.grouping);
            while let Some(g) = gp {
                let gc = g.min(part.len());
                let span: &[char] = if to_left { &part[..gc] } else { &part[gc..] };
                positions.push(
                    span.iter()
                        .filter(|&&c| is_digit(c) || c == p.digit)
                        .count(),
                );
                // jsonata searches the integer part for the next one, whichever part it
                // is scanning.
                gp = index_of_from(&parts.integer, p.grouping, g + 1);
            }
            positions
        };
        let integer_grouping = grouping_positions(&parts.integer, false);
        let regular = |indexes: &[usize]| -> usize {
            if indexes.is_empty() {
                return 0;
            }
            fn gcd(a: usize, b: usize) -> usize {
                if b == 0 { a } else { gcd(b, a % b) }
            }
            let factor = indexes.iter().copied().reduce(gcd).unwrap_or(0);
            for i in 1..=indexes.len() {
                if !indexes.contains(&(i * factor)) {
                    return 0;
                }
            }
            factor
        };
        let regular_grouping = regular(&integer_grouping);
        let fractional_grouping = grouping_positions(&parts.fractional, true);
        let mut min_integer = parts.integer.iter().filter(|&&c| is_digit(c)).count();
        let scaling = min_integer;
        let mut min_fraction = parts.fractional.iter().filter(|&&c| is_digit(c)).count();
        let mut max_fraction = parts
            .fractional
            .iter()
            .filter(|&&c| is_digit(c) || c == p.digit)
            .count();
        let exponent_present = parts.exponent.is_some();
        if min_integer == 0 && max_fraction == 0 {
            if exponent_present {
                min_fraction = 1;
                max_fraction = 1;
            } else {
                min_integer = 1;
            }
        }
        if exponent_present && min_integer == 0 && index_of(&parts.integer, p.digit).is_some() {
            min_integer = 1;
        }
        if min_integer == 0 && min_fraction == 0 {
            min_fraction = 1;
        }
        let min_exponent = parts
            .exponent
            .as_ref()
            .map_or(0, |e| e.iter().filter(|&&c| is_digit(c)).count());
        Analysis {
            integer_grouping,
            regular_grouping,
            min_integer,
            scaling,
            prefix: parts.prefix.clone(),
            fractional_grouping,
            min_fraction,
            max_fraction,
            min_exponent,
            suffix: parts.suffix.clone(),
            picture: parts.subpicture.clone(),
        }
    };

    let parts: Vec<Parts> = sub_pictures.iter().map(split_parts).collect();
    for part in &parts {
        validate(part)?;
    }
    let mut variables: Vec<Analysis> = parts.iter().map(analyse).collect();
    if variables.len() == 1 {
        let mut neg = variables[0].clone();
        let mut prefix: Vec<char> = p.minus.chars().collect();
        prefix.extend(neg.prefix.iter());
        neg.prefix = prefix;
        variables.push(neg);
    }
    let pic = if value >= 0.0 {
        &variables[0]
    } else {
        &variables[1]
    };
    let adjusted = if index_of(&pic.picture, p.percent).is_some() {
        value * 100.0
    } else if index_of(&pic.picture, p.per_mille).is_some() {
        value * 1000.0
    } else {
        value
    };
    let mut exponent: Option<i64> = None;
    let mantissa = if pic.min_exponent == 0 {
        adjusted
    } else {
        let max_m = 10f64.powi(pic.scaling as i32);
        let min_m = 10f64.powi(pic.scaling as i32 - 1);
        let mut m = adjusted;
        let mut e = 0i64;
        // A zero (or non-finite) mantissa never reaches the range; jsonata would loop
        // forever, so stop after the exponents a double can have.
        let mut guard = 0;
        while m < min_m && guard < 700 {
            m *= 10.0;
            e -= 1;
            guard += 1;
        }
        while m > max_m && guard < 1400 {
            m /= 10.0;
            e += 1;
            guard += 1;
        }
        exponent = Some(e);
        m
    };
    let rounded = round_half_even(mantissa, pic.max_fraction as f64);
    let make_string = |v: f64, dp: usize| -> String {
        let s = to_fixed(v.abs(), dp);
        if p.zero != '0' {
            s.chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        family[(c as u8 - b'0') as usize]
                    } else {
                        c
                    }
                })
                .collect()
        } else {
            s
        }
    };
    let mut sv: Vec<char> = make_string(rounded, pic.max_fraction).chars().collect();
    match index_of(&sv, '.') {
        None => sv.push(p.decimal),
        Some(i) => sv[i] = p.decimal,
    }
    while sv.first() == Some(&p.zero) {
        sv.remove(0);
    }
    while sv.last() == Some(&p.zero) {
        sv.pop();
    }
    let decimal_pos = index_of(&sv, p.decimal).unwrap_or(0);
    let pad_left = pic.min_integer as i64 - decimal_pos as i64;
    let pad_right = pic.min_fraction as i64 - (sv.len() as i64 - decimal_pos as i64 - 1);
    if pad_left > 0 {
        let mut v: Vec<char> = std::iter::repeat_n(p.zero, pad_left as usize).collect();
        v.extend(sv);
        sv = v;
    }
    if pad_right > 0 {
        sv.extend(std::iter::repeat_n(p.zero, pad_right as usize));
    }
    let mut decimal_pos = index_of(&sv, p.decimal).unwrap_or(0);
    if let Some(group_count) = (decimal_pos.saturating_sub(1)).checked_div(pic.regular_grouping) {
        for group in 1..=group_count {
            let at = decimal_pos - group * pic.regular_grouping;
            sv.insert(at, p.grouping);
        }
    } else {
        for pos in &pic.integer_grouping {
            let at = decimal_pos as i64 - *pos as i64;
            if at >= 0 {
                sv.insert(at as usize, p.grouping);
            }
            decimal_pos += 1;
        }
    }
    decimal_pos = index_of(&sv, p.decimal).unwrap_or(0);
    for pos in &pic.fractional_grouping {
        let at = (pos + decimal_pos + 1).min(sv.len());
        sv.insert(at, p.grouping);
    }
    decimal_pos = index_of(&sv, p.decimal).unwrap_or(0);
    if index_of(&pic.picture, p.decimal).is_none() || decimal_pos + 1 == sv.len() {
        sv.pop();
    }
    let mut out: String = pic.prefix.iter().collect();
    out.extend(sv);
    if let Some(e) = exponent {
        let mut se: Vec<char> = make_string(e as f64, 0).chars().collect();
        let pad = pic.min_exponent as i64 - se.len() as i64;
        if pad > 0 {
            let mut v: Vec<char> = std::iter::repeat_n(p.zero, pad as usize).collect();
            v.extend(se);
            se = v;
        }
        out.push(p.exponent);
        if e < 0 {
            out.push_str(&p.minus);
        }
        out.extend(se);
    }
    out.extend(pic.suffix.iter());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64, pic: &str) -> String {
        format_number(v, pic, &Value::Undefined).unwrap_or_else(|e| e.code.to_string())
    }

    #[test]
    fn pictures() {
        assert_eq!(f(12345.6, "#,###.00"), "12,345.60");
        assert_eq!(f(1234.5678, "00.000e0"), "12.346e2");
        assert_eq!(f(0.14, "01%"), "14%");
        assert_eq!(f(-6.0, "000"), "-006");
        assert_eq!(f(12.345, "#,##0.00"), "12.34");
        assert_eq!(f(1e6, "#,###"), "1,000,000");
        assert_eq!(f(3.0, "#;(#)"), "3");
        assert_eq!(f(-3.0, "#;(#)"), "(3)");
        assert_eq!(f(1.0, "#.#.#"), "D3081");
        assert_eq!(f(1.0, "a;b;c"), "D3080");
    }
}
