//! Dates, times and integer pictures: `$fromMillis`, `$toMillis`, `$now`, `$formatInteger`
//! and `$parseInteger`, ported from jsonata.js 2.0.6 `datetime.js` (XPath F&O
//! `format-dateTime` / `format-integer` pictures), on proleptic Gregorian UTC arithmetic.

use crate::value::{Fail, R, Value};

const FEW: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const ORDINALS: [&str; 20] = [
    "Zeroth",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
    "Thirteenth",
    "Fourteenth",
    "Fifteenth",
    "Sixteenth",
    "Seventeenth",
    "Eighteenth",
    "Nineteenth",
];
const DECADES: [&str; 9] = [
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred",
];
const MAGNITUDES: [&str; 4] = ["Thousand", "Million", "Billion", "Trillion"];
const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DECIMAL_GROUPS: [u32; 37] = [
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];
const MILLIS_IN_DAY: f64 = 86_400_000.0;

fn number_to_words(value: f64, ordinal: bool) -> String {
    fn lookup(num: f64, prev: bool, ord: bool) -> String {
        let mut words;
        if num <= 19.0 {
            let n = num.max(0.0) as usize;
            words = format!(
                "{}{}",
                if prev { " and " } else { "" },
                if ord {
                    ORDINALS[n.min(19)]
                } else {
                    FEW[n.min(19)]
                }
            );
        } else if num < 100.0 {
            let tens = (num / 10.0).floor() as usize;
            let remainder = num % 10.0;
            let decade = DECADES.get(tens.wrapping_sub(2)).copied().unwrap_or("");
            words = format!("{}{}", if prev { " and " } else { "" }, decade);
            if remainder > 0.0 {
                words.push('-');
                words.push_str(&lookup(remainder, false, ord));
            } else if ord {
                words.pop();
                words.push_str("ieth");
            }
        } else if num < 1000.0 {
            let hundreds = (num / 100.0).floor() as usize;
            let remainder = num % 100.0;
            words = format!(
                "{}{} Hundred",
                if prev { ", " } else { "" },
                FEW.get(hundreds).copied().unwrap_or("")
            );
            if remainder > 0.0 {
                words.push_str(&lookup(remainder, true, ord));
            } else if ord {
                words.push_str("th");
            }
        } else {
            let mut mag = ((num.log10() / 3.0).floor() as usize).max(1);
            if mag > MAGNITUDES.len() {
                mag = MAGNITUDES.len();
            }
            let factor = 10f64.powi(mag as i32 * 3);
            let mant = (num / factor).floor();
            let remainder = num - mant * factor;
            words = format!(
                "{}{} {}",
                if prev { ", " } else { "" },
                lookup(mant, false, false),
                MAGNITUDES[mag - 1]
            );
            if remainder > 0.0 {
                words.push_str(&lookup(remainder, true, ord));
            } else if ord {
                words.push_str("th");
            }
        }
        words
    }
    lookup(value, false, ordinal)
}

fn word_value(word: &str) -> Option<f64> {
    for (i, w) in FEW.iter().enumerate() {
        if w.to_lowercase() == word {
            return Some(i as f64);
        }
    }
    for (i, w) in ORDINALS.iter().enumerate() {
        if w.to_lowercase() == word {
            return Some(i as f64);
        }
    }
    for (i, w) in DECADES.iter().enumerate() {
        let lw = w.to_lowercase();
        let ieth = format!("{}ieth", &lw[..lw.len() - 1]);
        if lw == word || ieth == word {
            return Some(((i + 2) * 10) as f64);
        }
    }
    if word == "hundredth" {
        return Some(100.0);
    }
    for (i, w) in MAGNITUDES.iter().enumerate() {
        let lw = w.to_lowercase();
        if lw == word || format!("{lw}th") == word {
            return Some(10f64.powi((i as i32 + 1) * 3));
        }
    }
    None
}

fn words_to_number(text: &str) -> f64 {
    // text.split(/,\s|\sand\s|[\s\\-]/)
    let mut parts = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut cur = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ',' && chars.get(i + 1).is_some_and(|c| c.is_whitespace()) {
            parts.push(std::mem::take(&mut cur));
            i += 2;
            continue;
        }
        if c.is_whitespace()
            && chars.get(i + 1) == Some(&'a')
            && chars.get(i + 2) == Some(&'n')
            && chars.get(i + 3) == Some(&'d')
            && chars.get(i + 4).is_some_and(|c| c.is_whitespace())
        {
            parts.push(std::mem::take(&mut cur));
            i += 5;
            continue;
        }
        if c.is_whitespace() || c == '\\' || c == '-' {
            parts.push(std::mem::take(&mut cur));
            i += 1;
            continue;
        }
        cur.push(c);
        i += 1;
    }
    parts.push(cur);
    let mut segs = vec![0.0f64];
    for part in parts {
        let value = word_value(&part).unwrap_or(f64::NAN);
        if value < 100.0 || value.is_nan() {
            let mut top = segs.pop().unwrap_or(0.0);
            if top >= 1000.0 {
                segs.push(top);
                top = 0.0;
            }
            segs.push(top + value);
        } else {
            let top = segs.pop().unwrap_or(0.0);
            segs.push(top * value);
        }
    }
    segs.iter().sum()
}

const ROMAN: [(f64, &str); 13] = [
    (1000.0, "m"),
    (900.0, "cm"),
    (500.0, "d"),
    (400.0, "cd"),
    (100.0, "c"),
    (90.0, "xc"),
    (50.0, "l"),
    (40.0, "xl"),
    (10.0, "x"),
    (9.0, "ix"),
    (5.0, "v"),
    (4.0, "iv"),
    (1.0, "i"),
];

fn decimal_to_roman(mut value: f64) -> R<String> {
    if value > 2e9 {
        // One `m` per thousand: past two million letters, stop.
        return Err(
            Fail::new("D3130").value_text(crate::error::json_string("roman numeral too large"))
        );
    }
    let mut out = String::new();
    'outer: loop {
        for (n, s) in ROMAN {
            if value >= n {
                out.push_str(s);
                value -= n;
                continue 'outer;
            }
        }
        break;
    }
    Ok(out)
}

fn roman_to_decimal(roman: &str) -> f64 {
    let mut decimal = 0.0;
    let mut max = 1.0;
    for c in roman.chars().rev() {
        let value = match c {
            'M' => 1000.0,
            'D' => 500.0,
            'C' => 100.0,
            'L' => 50.0,
            'X' => 10.0,
            'V' => 5.0,
            'I' => 1.0,
            _ => f64::NAN,
        };
        if value < max {
            decimal -= value;
        } else {
            max = value;
            decimal += value;
        }
    }
    decimal
}

fn decimal_to_letters(mut value: f64, a: char) -> String {
    let mut letters = Vec::new();
    let code = a as u32;
    while value > 0.0 {
        let v = ((value - 1.0) % 26.0) as u32;
        letters.push(char::from_u32(v + code).unwrap_or('?'));
        value = ((value - 1.0) / 26.0).floor();
    }
    letters.iter().rev().collect()
}

fn letters_to_decimal(letters: &str, a: char) -> f64 {
    let code = a as i64;
    let units: Vec<u16> = letters.encode_utf16().collect();
    let mut decimal = 0.0;
    for i in 0..units.len() {
        decimal += (i64::from(units[units.len() - i - 1]) - code + 1) as f64 * 26f64.powi(i as i32);
    }
    decimal
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Primary {
    Decimal,
    Letters,
    Roman,
    Words,
    Sequence,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Case {
    Upper,
    Lower,
    Title,
}

#[derive(Clone, Debug)]
struct Sep {
    position: usize,
    character: char,
}

#[derive(Clone, Debug)]
struct IntFormat {
    primary: Primary,
    case: Case,
    ordinal: bool,
    zero_code: u32,
    mandatory_digits: usize,
    optional_digits: usize,
    regular: bool,
    /// For a regular grouping: one separator (position = interval).
    separators: Vec<Sep>,
    token: String,
    /// Width for parsing years (`n` in jsonata).
    n: i64,
}

fn analyse_integer_picture(picture: &str) -> R<IntFormat> {
    let mut format = IntFormat {
        primary: Primary::Decimal,
        case: Case::Lower,
        ordinal: false,
        zero_code: 0x30,
        mandatory_digits: 0,
        optional_digits: 0,
        regular: false,
        separators: Vec::new(),
        token: String::new(),
        n: 0,
    };
    let (primary, modifier) = match picture.rfind(';') {
        None => (picture, None),
        Some(i) => (&picture[..i], Some(&picture[i + 1..])),
    };
    if modifier.is_some_and(|m| m.starts_with('o')) {
        format.ordinal = true;
    }
    match primary {
        "A" => {
            format.case = Case::Upper;
            format.primary = Primary::Letters;
        }
        "a" => format.primary = Primary::Letters,
        "I" => {
            format.case = Case::Upper;
            format.primary = Primary::Roman;
        }
        "i" => format.primary = Primary::Roman,
        "W" => {
            format.case = Case::Upper;
            format.primary = Primary::Words;
        }
        "Ww" => {
            format.case = Case::Title;
            format.primary = Primary::Words;
        }
        "w" => format.primary = Primary::Words,
        _ => {
            let mut zero: Option<u32> = None;
            let mut mandatory = 0;
            let mut optional = 0;
            let mut separators = Vec::new();
            let mut separator_position = 0;
            for c in primary.chars().rev() {
                let cp = c as u32;
                let group = DECIMAL_GROUPS.iter().find(|&&g| cp >= g && cp <= g + 9);
                if let Some(&g) = group {
                    mandatory += 1;
                    separator_position += 1;
                    match zero {
                        None => zero = Some(g),
                        Some(z) if z != g => return Err(Fail::new("D3131")),
                        _ => {}
                    }
                } else if c == '#' {
                    separator_position += 1;
                    optional += 1;
                } else {
                    separators.push(Sep {
                        position: separator_position,
                        character: c,
                    });
                }
            }
            if mandatory > 0 {
                format.primary = Primary::Decimal;
                format.zero_code = zero.unwrap_or(0x30);
                format.mandatory_digits = mandatory;
                format.optional_digits = optional;
                let regular = regular_repeat(&separators);
                if regular > 0 {
                    format.regular = true;
                    format.separators = vec![Sep {
                        position: regular,
                        character: separators[0].character,
                    }];
                } else {
                    format.separators = separators;
                }
            } else {
                format.primary = Primary::Sequence;
                format.token = primary.to_string();
            }
        }
    }
    Ok(format)
}

fn regular_repeat(separators: &[Sep]) -> usize {
    if separators.is_empty() {
        return 0;
    }
    let c = separators[0].character;
    if separators.iter().any(|s| s.character != c) {
        return 0;
    }
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let indexes: Vec<usize> = separators.iter().map(|s| s.position).collect();
    let factor = indexes.iter().copied().reduce(gcd).unwrap_or(0);
    for i in 1..=indexes.len() {
        if !indexes.contains(&(i * factor)) {
            return 0;
        }
    }
    factor
}

fn js_int_string(v: f64) -> String {
    crate::number::js_number_to_string(v)
}

fn format_integer_with(value: f64, format: &IntFormat) -> R<String> {
    let negative = value < 0.0;
    let value = value.abs();
    let mut s = match format.primary {
        Primary::Letters => {
            decimal_to_letters(value, if format.case == Case::Upper { 'A' } else { 'a' })
        }
        Primary::Roman => {
            let r = decimal_to_roman(value)?;
            if format.case == Case::Upper {
                r.to_uppercase()
            } else {
                r
            }
        }
        Primary::Words => {
            if !value.is_finite() {
                // jsonata.js recurses without end on NaN (a RangeError).
                return Err(Fail::new("D1001").value(&Value::Number(value)));
            }
            let w = number_to_words(value, format.ordinal);
            match format.case {
                Case::Upper => w.to_uppercase(),
                Case::Lower => w.to_lowercase(),
                Case::Title => w,
            }
        }
        Primary::Decimal => {
            let mut s = js_int_string(value);
            let len = s.chars().count();
            if format.mandatory_digits > len {
                s = "0".repeat(format.mandatory_digits - len) + &s;
            }
            if format.zero_code != 0x30 {
                s = s
                    .chars()
                    .map(|c| char::from_u32(c as u32 + format.zero_code - 0x30).unwrap_or(c))
                    .collect();
            }
            let mut chars: Vec<char> = s.chars().collect();
            if format.regular {
                let sep = &format.separators[0];
                if let Some(n) = (chars.len().saturating_sub(1)).checked_div(sep.position) {
                    for ii in (1..=n).rev() {
                        let pos = chars.len() - ii * sep.position;
                        chars.insert(pos, sep.character);
                    }
                }
            } else {
                for sep in format.separators.iter().rev() {
                    let pos = chars.len().saturating_sub(sep.position);
                    chars.insert(pos, sep.character);
                }
            }
            let mut s: String = chars.into_iter().collect();
            if format.ordinal {
                let last = s.chars().last();
                let second = s.chars().rev().nth(1);
                let mut suffix = match last {
                    Some('1') => "st",
                    Some('2') => "nd",
                    Some('3') => "rd",
                    _ => "th",
                };
                if s.chars().count() > 1 && second == Some('1') {
                    suffix = "th";
                }
                s.push_str(suffix);
            }
            s
        }
        Primary::Sequence => {
            return Err(Fail::new("D3130").value_text(crate::error::json_string(&format.token)));
        }
    };
    if negative {
        s.insert(0, '-');
    }
    Ok(s)
}

/// `$formatInteger(value, picture)`.
pub(crate) fn format_integer(value: f64, picture: &str) -> R<String> {
    let format = analyse_integer_picture(picture)?;
    format_integer_with(value.floor(), &format)
}

/// A matcher for one component when parsing.
struct Matcher {
    regex: String,
    kind: MatchKind,
}

enum MatchKind {
    Integer(IntFormat),
    Names(Vec<(String, f64)>),
    Timezone { z: bool, separator: Option<char> },
    Literal,
}

fn integer_matcher(format: &IntFormat) -> R<Matcher> {
    let is_upper = format.case == Case::Upper;
    let occurrences = if format.n > 0 {
        if format.optional_digits == 0 {
            format!("{{{}}}", format.n)
        } else {
            format!(
                "{{{},{}}}",
                format.n - format.optional_digits as i64,
                format.n
            )
        }
    } else {
        "+".to_string()
    };
    let regex = match format.primary {
        Primary::Letters => if is_upper { "[A-Z]+" } else { "[a-z]+" }.to_string(),
        Primary::Roman => if is_upper { "[MDCLXVI]+" } else { "[mdclxvi]+" }.to_string(),
        Primary::Words => {
            let mut words: Vec<String> = Vec::new();
            for w in FEW.iter().chain(ORDINALS.iter()) {
                words.push(w.to_lowercase());
            }
            for w in DECADES {
                let lw = w.to_lowercase();
                words.push(lw.clone());
                words.push(format!("{}ieth", &lw[..lw.len() - 1]));
            }
            words.push("hundredth".into());
            for w in MAGNITUDES {
                let lw = w.to_lowercase();
                words.push(lw.clone());
                words.push(format!("{lw}th"));
            }
            words.push("and".into());
            words.push(r"[\-, ]".into());
            format!("(?:{})+", words.join("|"))
        }
        Primary::Decimal => {
            let mut r = format!("[0-9]{occurrences}");
            if format.ordinal {
                r.push_str("(?:th|st|nd|rd)");
            }
            r
        }
        Primary::Sequence => {
            return Err(Fail::new("D3130").value_text(crate::error::json_string(&format.token)));
        }
    };
    Ok(Matcher {
        regex,
        kind: MatchKind::Integer(format.clone()),
    })
}

fn parse_with(format: &IntFormat, value: &str) -> f64 {
    let is_upper = format.case == Case::Upper;
    match format.primary {
        Primary::Letters => letters_to_decimal(value, if is_upper { 'A' } else { 'a' }),
        Primary::Roman => roman_to_decimal(&if is_upper {
            value.to_string()
        } else {
            value.to_uppercase()
        }),
        Primary::Words => words_to_number(&value.to_lowercase()),
        Primary::Decimal => {
            let mut digits = value.to_string();
            if format.ordinal {
                let n = digits.chars().count();
                digits = digits.chars().take(n.saturating_sub(2)).collect();
            }
            if format.regular {
                digits = digits.replace(',', "");
            } else {
                for sep in &format.separators {
                    digits = digits.replace(sep.character, "");
                }
            }
            if format.zero_code != 0x30 {
                digits = digits
                    .chars()
                    .map(|c| {
                        char::from_u32((c as u32).wrapping_sub(format.zero_code) + 0x30)
                            .unwrap_or(c)
                    })
                    .collect();
            }
            js_parse_int(&digits)
        }
        Primary::Sequence => f64::NAN,
    }
}

/// JavaScript's `parseInt(s)` without a radix: decimal, or hexadecimal after `0x`.
fn js_parse_int(s: &str) -> f64 {
    let t = s.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (t, radix) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(rest) => (rest, 16),
        None => (t, 10),
    };
    let digits: Vec<u32> = t.chars().map_while(|c| c.to_digit(radix)).collect();
    if digits.is_empty() {
        return f64::NAN;
    }
    let v = if radix == 10 {
        digits
            .iter()
            .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
            .collect::<String>()
            .parse()
            .unwrap_or(f64::NAN)
    } else {
        digits.iter().fold(0.0, |acc, d| acc * 16.0 + f64::from(*d))
    };
    if neg { -v } else { v }
}

/// `$parseInteger(value, picture)`.
pub(crate) fn parse_integer(value: &str, picture: &str) -> R<Option<f64>> {
    let format = analyse_integer_picture(picture)?;
    integer_matcher(&format)?;
    Ok(Some(parse_with(&format, value)))
}

// ---- date/time pictures -----------------------------------------------------------------

#[derive(Clone, Debug)]
enum Part {
    Literal(String),
    Marker(Marker),
}

#[derive(Clone, Debug)]
struct Marker {
    component: char,
    width: Option<(Option<usize>, Option<usize>)>,
    presentation1: String,
    presentation2: Option<char>,
    names: Option<Case>,
    integer_format: Option<IntFormat>,
    n: i64,
}

fn default_presentation(component: char) -> Option<&'static str> {
    Some(match component {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

// A port of jsonata.js's datetime.js `analyseDateTimePicture`, kept whole to compare with it.
fn analyse_date_time_picture(picture: &str) -> R<Vec<Part>> {
    let chars: Vec<char> = picture.chars().collect();
    let mut spec = Vec::new();
    let add_literal = |spec: &mut Vec<Part>, start: usize, end: usize| {
        if end > start {
            let literal: String = chars[start..end].iter().collect();
            spec.push(Part::Literal(literal.replace("]]", "]")));
        }
    };
    let mut start = 0;
    let mut pos = 0;
    while pos < chars.len() {
        if chars[pos] == '[' {
            if chars.get(pos + 1) == Some(&'[') {
                add_literal(&mut spec, start, pos);
                spec.push(Part::Literal("[".into()));
                pos += 2;
                start = pos;
                continue;
            }
            add_literal(&mut spec, start, pos);
            start = pos;
            let Some(close) = chars[start..].iter().position(|&c| c == ']') else {
                return Err(Fail::new("D3135"));
            };
            pos = start + close;
            let marker: String = chars[start + 1..pos]
                .iter()
                .filter(|c| !c.is_whitespace())
                .collect();
            let mchars: Vec<char> = marker.chars().collect();
            let component = mchars.first().copied().unwrap_or('\0');
            let comma = mchars.iter().rposition(|&c| c == ',');
            let (pres_mod, width) = match comma {
                Some(c) => {
                    let width_mod: String = mchars[c + 1..].iter().collect();
                    let parse_width = |w: Option<&str>| -> Option<usize> {
                        match w {
                            None | Some("*") => None,
                            Some(w) => {
                                let v = js_parse_int(w);
                                if v.is_nan() {
                                    None
                                } else {
                                    Some(v.max(0.0) as usize)
                                }
                            }
                        }
                    };
                    let (min, max) = match width_mod.find('-') {
                        None => (Some(width_mod.as_str()), None),
                        Some(d) => (Some(&width_mod[..d]), Some(&width_mod[d + 1..])),
                    };
                    let pm: String = mchars[1..c].iter().collect();
                    (pm, Some((parse_width(min), parse_width(max))))
                }
                None => (mchars.iter().skip(1).collect::<String>(), None),
            };
            let mut def = Marker {
                component,
                width,
                presentation1: String::new(),
                presentation2: None,
                names: None,
                integer_format: None,
                n: 0,
            };
            let pchars: Vec<char> = pres_mod.chars().collect();
            if pchars.len() == 1 {
                def.presentation1 = pres_mod.clone();
            } else if pchars.len() > 1 {
                let last = pchars[pchars.len() - 1];
                if "atco".contains(last) {
                    def.presentation2 = Some(last);
                    def.presentation1 = pchars[..pchars.len() - 1].iter().collect();
                } else {
                    def.presentation1 = pres_mod.clone();
                }
            } else {
                match default_presentation(component) {
                    Some(p) => def.presentation1 = p.to_string(),
                    None => {
                        return Err(Fail::new("D3132")
                            .value_text(crate::error::json_string(&component.to_string())));
                    }
                }
            }
            let p1: Vec<char> = def.presentation1.chars().collect();
            if p1.first() == Some(&'n') {
                def.names = Some(Case::Lower);
            } else if p1.first() == Some(&'N') {
                def.names = Some(if p1.get(1) == Some(&'n') {
                    Case::Title
                } else {
                    Case::Upper
                });
            } else if "YMDdFWwXxHhmsf".contains(component) {
                let mut pattern = def.presentation1.clone();
                if let Some(p2) = def.presentation2 {
                    pattern.push(';');
                    pattern.push(p2);
                }
                let mut f = analyse_integer_picture(&pattern)?;
                if let Some((Some(min), _)) = def.width
                    && f.mandatory_digits < min
                {
                    f.mandatory_digits = min;
                }
                if "YMD".contains(component) {
                    def.n = -1;
                    if let Some((_, Some(max))) = def.width {
                        def.n = max as i64;
                        f.mandatory_digits = max;
                    } else {
                        let w = f.mandatory_digits + f.optional_digits;
                        if w >= 2 {
                            def.n = w as i64;
                        }
                    }
                }
                def.integer_format = Some(f);
            }
            if component == 'Z' || component == 'z' {
                def.integer_format = Some(analyse_integer_picture(&def.presentation1)?);
            }
            spec.push(Part::Marker(def));
            start = pos + 1;
        }
        pos += 1;
    }
    add_literal(&mut spec, start, pos.min(chars.len()));
    Ok(spec)
}

/// Days since 1970-01-01 of a civil date (month 1-12).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// JavaScript's `Date.UTC(y, month0, d, h, mi, s, ms)`, normalising out-of-range fields.
fn date_utc(y: f64, month0: f64, d: f64, h: f64, mi: f64, s: f64, ms: f64) -> f64 {
    if [y, month0, d, h, mi, s, ms].iter().any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let (y, month0) = (y.trunc(), month0.trunc());
    let ym = y + (month0 / 12.0).floor();
    let mn = month0.rem_euclid(12.0);
    let days = days_from_civil(ym as i64, mn as i64 + 1, 1) as f64 + d.trunc() - 1.0;
    let time = h.trunc() * 3_600_000.0 + mi.trunc() * 60_000.0 + s.trunc() * 1000.0 + ms.trunc();
    let t = days * MILLIS_IN_DAY + time;
    if t.abs() > 8.64e15 { f64::NAN } else { t }
}

#[derive(Clone, Copy)]
struct DateParts {
    /// An invalid date (from an unparseable timezone): every component is NaN, as in
    /// JavaScript.
    invalid: bool,
    millis: f64,
    year: i64,
    month0: i64,
    day: i64,
    hours: i64,
    minutes: i64,
    seconds: i64,
    ms: i64,
    /// 0 = Sunday.
    weekday: i64,
}

fn date_parts(millis: f64) -> DateParts {
    let days = (millis / MILLIS_IN_DAY).floor();
    let rem = millis - days * MILLIS_IN_DAY;
    let (y, m, d) = civil_from_days(days as i64);
    let rem = rem as i64;
    DateParts {
        invalid: !millis.is_finite(),
        millis,
        year: y,
        month0: m - 1,
        day: d,
        hours: rem / 3_600_000,
        minutes: rem / 60_000 % 60,
        seconds: rem / 1000 % 60,
        ms: rem % 1000,
        weekday: (days as i64 + 4).rem_euclid(7),
    }
}

fn start_of_first_week(year: i64, month0: i64) -> f64 {
    let jan1 = date_utc(year as f64, month0 as f64, 1.0, 0.0, 0.0, 0.0, 0.0);
    let mut day = date_parts(jan1).weekday;
    if day == 0 {
        day = 7;
    }
    if day > 4 {
        jan1 + (8 - day) as f64 * MILLIS_IN_DAY
    } else {
        jan1 - (day - 1) as f64 * MILLIS_IN_DAY
    }
}

fn next_month(y: i64, m: i64) -> (i64, i64) {
    if m == 11 { (y + 1, 0) } else { (y, m + 1) }
}

fn previous_month(y: i64, m: i64) -> (i64, i64) {
    if m == 0 { (y - 1, 11) } else { (y, m - 1) }
}

fn delta_weeks(start: f64, end: f64) -> f64 {
    (end - start) / (MILLIS_IN_DAY * 7.0) + 1.0
}

enum Fragment {
    Num(f64),
    Text(String),
    None,
}

fn fragment(d: &DateParts, component: char) -> Fragment {
    if d.invalid {
        return match component {
            'P' => Fragment::Text("am".into()),
            'C' | 'E' => Fragment::Text("ISO".into()),
            'Z' | 'z' => Fragment::None,
            _ => Fragment::Num(f64::NAN),
        };
    }
    let utc =
        |y: i64, m: i64, day: i64| date_utc(y as f64, m as f64, day as f64, 0.0, 0.0, 0.0, 0.0);
    Fragment::Num(match component {
        'Y' => d.year as f64,
        'M' => (d.month0 + 1) as f64,
        'D' => d.day as f64,
        'd' => {
            let today = utc(d.year, d.month0, d.day);
            let first = utc(d.year, 0, 1);
            (today - first) / MILLIS_IN_DAY + 1.0
        }
        'F' => {
            if d.weekday == 0 {
                7.0
            } else {
                d.weekday as f64
            }
        }
        'W' => {
            let start1 = start_of_first_week(d.year, 0);
            let today = utc(d.year, d.month0, d.day);
            let mut week = delta_weeks(start1, today);
            if week > 52.0 {
                if today >= start_of_first_week(d.year + 1, 0) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(d.year - 1, 0), today);
            }
            week.floor()
        }
        'w' => {
            let start1 = start_of_first_week(d.year, d.month0);
            let today = utc(d.year, d.month0, d.day);
            let mut week = delta_weeks(start1, today);
            if week > 4.0 {
                let (ny, nm) = next_month(d.year, d.month0);
                if today >= start_of_first_week(ny, nm) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                let (py, pm) = previous_month(d.year, d.month0);
                week = delta_weeks(start_of_first_week(py, pm), today);
            }
            week.floor()
        }
        'X' => {
            let start = start_of_first_week(d.year, 0);
            let end = start_of_first_week(d.year + 1, 0);
            if d.millis < start {
                (d.year - 1) as f64
            } else if d.millis >= end {
                (d.year + 1) as f64
            } else {
                d.year as f64
            }
        }
        'x' => {
            let start = start_of_first_week(d.year, d.month0);
            let (ny, nm) = next_month(d.year, d.month0);
            let end = start_of_first_week(ny, nm);
            if d.millis < start {
                (previous_month(d.year, d.month0).1 + 1) as f64
            } else if d.millis >= end {
                (nm + 1) as f64
            } else {
                (d.month0 + 1) as f64
            }
        }
        'H' => d.hours as f64,
        'h' => {
            let h = d.hours % 12;
            if h == 0 { 12.0 } else { h as f64 }
        }
        'P' => return Fragment::Text(if d.hours >= 12 { "pm" } else { "am" }.into()),
        'm' => d.minutes as f64,
        's' => d.seconds as f64,
        'f' => d.ms as f64,
        'C' | 'E' => return Fragment::Text("ISO".into()),
        _ => return Fragment::None,
    })
}

fn format_date_time(millis: f64, picture: Option<&str>, timezone: Option<&str>) -> R<String> {
    let (mut offset_hours, mut offset_minutes) = (0i64, 0i64);
    let mut invalid = false;
    if let Some(tz) = timezone {
        let offset = js_parse_int(tz);
        if offset.is_nan() {
            invalid = true;
        } else {
            offset_hours = (offset / 100.0).floor() as i64;
            offset_minutes = (offset % 100.0) as i64;
        }
    }
    let spec = analyse_date_time_picture(
        picture.unwrap_or("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"),
    )?;
    let offset_millis = ((60 * offset_hours + offset_minutes) * 60 * 1000) as f64;
    let date = if invalid {
        date_parts(f64::NAN)
    } else {
        date_parts(millis + offset_millis)
    };
    let mut result = String::new();
    for part in &spec {
        match part {
            Part::Literal(l) => result.push_str(l),
            Part::Marker(m) => {
                result.push_str(&format_component(&date, m, offset_hours, offset_minutes)?)
            }
        }
    }
    Ok(result)
}

fn format_component(
    date: &DateParts,
    m: &Marker,
    offset_hours: i64,
    offset_minutes: i64,
) -> R<String> {
    let value = fragment(date, m.component);
    if "YMDdFWwXxHhms".contains(m.component) {
        let Fragment::Num(mut v) = value else {
            return Ok(String::new());
        };
        if m.component == 'Y' && m.n != -1 {
            v %= 10f64.powi(m.n as i32);
        }
        if let Some(names) = m.names {
            let mut name = if v.is_nan() {
                "undefined".to_string()
            } else if m.component == 'M' || m.component == 'x' {
                MONTHS
                    .get((v as usize).wrapping_sub(1))
                    .copied()
                    .unwrap_or("")
                    .to_string()
            } else if m.component == 'F' {
                DAYS.get(v as usize)
                    .copied()
                    .unwrap_or("undefined")
                    .to_string()
            } else {
                return Err(Fail::new("D3133")
                    .value_text(crate::error::json_string(&m.component.to_string())));
            };
            match names {
                Case::Upper => name = name.to_uppercase(),
                Case::Lower => name = name.to_lowercase(),
                Case::Title => {}
            }
            if let Some((_, Some(max))) = m.width
                && name.chars().count() > max
            {
                name = name.chars().take(max).collect();
            }
            return Ok(name);
        }
        return match &m.integer_format {
            Some(f) => format_integer_with(v, f),
            None => Ok(crate::number::js_number_to_string(v)),
        };
    }
    match m.component {
        'f' => {
            let Fragment::Num(v) = value else {
                return Ok(String::new());
            };
            match &m.integer_format {
                Some(f) => format_integer_with(v, f),
                None => Ok(crate::number::js_number_to_string(v)),
            }
        }
        'Z' | 'z' => {
            let offset = offset_hours * 100 + offset_minutes;
            let f = m.integer_format.clone().unwrap_or_else(|| IntFormat {
                primary: Primary::Decimal,
                case: Case::Lower,
                ordinal: false,
                zero_code: 0x30,
                mandatory_digits: 4,
                optional_digits: 0,
                regular: false,
                separators: Vec::new(),
                token: String::new(),
                n: 0,
            });
            let mut s = if f.regular {
                format_integer_with(offset as f64, &f)?
            } else {
                match f.mandatory_digits {
                    1 | 2 => {
                        let mut s = format_integer_with(offset_hours as f64, &f)?;
                        if offset_minutes != 0 {
                            s.push(':');
                            s.push_str(&format_integer(offset_minutes as f64, "00")?);
                        }
                        s
                    }
                    3 | 4 => format_integer_with(offset as f64, &f)?,
                    n => {
                        return Err(Fail::new("D3134").value_text(n.to_string()));
                    }
                }
            };
            if offset >= 0 {
                s.insert(0, '+');
            }
            if m.component == 'z' {
                s.insert_str(0, "GMT");
            }
            if offset == 0 && m.presentation2 == Some('t') {
                s = "Z".into();
            }
            Ok(s)
        }
        'P' => {
            let Fragment::Text(t) = value else {
                return Ok(String::new());
            };
            Ok(if m.names == Some(Case::Upper) {
                t.to_uppercase()
            } else {
                t
            })
        }
        _ => Ok(match value {
            Fragment::Text(t) => t,
            Fragment::Num(n) => crate::number::js_number_to_string(n),
            Fragment::None => "undefined".into(),
        }),
    }
}

/// `$fromMillis(millis, picture, timezone)`.
pub(crate) fn from_millis(millis: f64, picture: Option<&str>, timezone: Option<&str>) -> R<String> {
    if !millis.is_finite() || millis.abs() > 8.64e15 {
        return Err(Fail::new("D3110").value(&Value::Number(millis)));
    }
    format_date_time(millis, picture, timezone)
}

fn build_matchers(spec: &[Part]) -> R<Vec<(Matcher, char)>> {
    let mut out = Vec::new();
    for part in spec {
        match part {
            Part::Literal(l) => out.push((
                Matcher {
                    regex: regex::escape(l),
                    kind: MatchKind::Literal,
                },
                '\0',
            )),
            Part::Marker(m) if m.component == 'Z' || m.component == 'z' => {
                let f = m.integer_format.as_ref();
                let separator = f.filter(|f| f.regular).map(|f| f.separators[0].character);
                let mut regex = String::new();
                if m.component == 'z' {
                    regex.push_str("GMT");
                }
                regex.push_str("[-+][0-9]+");
                if let Some(s) = separator {
                    regex.push_str(&regex::escape(&s.to_string()));
                    regex.push_str("[0-9]+");
                }
                out.push((
                    Matcher {
                        regex,
                        kind: MatchKind::Timezone {
                            z: m.component == 'z',
                            separator,
                        },
                    },
                    m.component,
                ));
            }
            Part::Marker(m) if m.integer_format.is_some() => {
                let mut f = m.integer_format.clone().unwrap_or_else(|| unreachable!());
                f.n = m.n;
                out.push((integer_matcher(&f)?, m.component));
            }
            Part::Marker(m) => {
                let mut names: Vec<(String, f64)> = Vec::new();
                let max = m.width.and_then(|w| w.1);
                let cut = |s: &str| match max {
                    Some(n) if n > 0 => s.chars().take(n).collect(),
                    _ => s.to_string(),
                };
                match m.component {
                    'M' | 'x' => {
                        for (i, name) in MONTHS.iter().enumerate() {
                            names.push((cut(name), (i + 1) as f64));
                        }
                    }
                    'F' => {
                        for (i, name) in DAYS.iter().enumerate().skip(1) {
                            names.push((cut(name), i as f64));
                        }
                    }
                    'P' => {
                        names = vec![
                            ("am".into(), 0.0),
                            ("AM".into(), 0.0),
                            ("pm".into(), 1.0),
                            ("PM".into(), 1.0),
                        ];
                    }
                    c => {
                        return Err(Fail::new("D3133")
                            .value_text(crate::error::json_string(&c.to_string())));
                    }
                }
                out.push((
                    Matcher {
                        regex: "[a-zA-Z]+".into(),
                        kind: MatchKind::Names(names),
                    },
                    m.component,
                ));
            }
        }
    }
    Ok(out)
}

// A port of jsonata.js's datetime.js `parseDateTime` (match the picture, then fill in the
// components it leaves out), kept whole to compare with it.
fn parse_date_time(timestamp: &str, picture: &str, now: i64) -> R<Option<f64>> {
    let spec = analyse_date_time_picture(picture)?;
    let matchers = build_matchers(&spec)?;
    let full: String = matchers
        .iter()
        .map(|(m, _)| format!("({})", m.regex))
        .collect();
    let re = regex::RegexBuilder::new(&format!("^{full}$"))
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| Fail::new("D3136").message(e.to_string()))?;
    let Some(caps) = re.captures(timestamp) else {
        return Ok(None);
    };
    let mut components: std::collections::HashMap<char, f64> = std::collections::HashMap::new();
    for (i, (m, component)) in matchers.iter().enumerate() {
        let text = caps.get(i + 1).map_or("", |c| c.as_str());
        let value = match &m.kind {
            MatchKind::Literal => continue,
            MatchKind::Integer(f) => parse_with(f, text),
            MatchKind::Names(names) => names
                .iter()
                .find(|(n, _)| n == text)
                .map_or(f64::NAN, |(_, v)| *v),
            MatchKind::Timezone { z, separator } => {
                let v = if *z {
                    text.get(3..).unwrap_or("")
                } else {
                    text
                };
                let (h, mi) = match separator {
                    Some(s) => {
                        let idx = v.find(*s).unwrap_or(v.len());
                        (
                            js_parse_int(&v[..idx]),
                            js_parse_int(v.get(idx + s.len_utf8()..).unwrap_or("")),
                        )
                    }
                    None => {
                        if v.chars().count() - 1 <= 2 {
                            (js_parse_int(v), 0.0)
                        } else {
                            (
                                js_parse_int(&v[..3.min(v.len())]),
                                js_parse_int(v.get(3..).unwrap_or("")),
                            )
                        }
                    }
                };
                h * 60.0 + mi
            }
        };
        // A name that is not in the table is `undefined` in jsonata: not specified.
        if matches!(m.kind, MatchKind::Names(_)) && value.is_nan() {
            continue;
        }
        components.insert(*component, value);
    }
    if components.is_empty() {
        return Ok(None);
    }
    let has = |c: char, comps: &std::collections::HashMap<char, f64>| {
        comps.get(&c).is_some_and(|v| *v != 0.0 && !v.is_nan())
    };
    let mut mask: u32 = 0;
    for c in "YXMxWwdD".chars() {
        mask = (mask << 1) | u32::from(has(c, &components));
    }
    let is_type = |t: u32, mask: u32| (!t & mask) == 0 && (t & mask) != 0;
    let date_a = is_type(161, mask);
    let date_b = !date_a && is_type(130, mask);
    let date_c = is_type(84, mask);
    let date_d = !date_c && is_type(72, mask);
    let mut mask: u32 = 0;
    for c in "PHhmsf".chars() {
        mask = (mask << 1) | u32::from(has(c, &components));
    }
    let time_a = is_type(23, mask);
    let time_b = !time_a && is_type(47, mask);
    let date_comps = if date_b {
        "YD"
    } else if date_c {
        "XxwF"
    } else if date_d {
        "XWF"
    } else {
        "YMD"
    };
    let time_comps = if time_b { "Phmsf" } else { "Hmsf" };
    let now_parts = date_parts(now as f64);
    let mut start_specified = false;
    let mut end_specified = false;
    for part in date_comps.chars().chain(time_comps.chars()) {
        if let std::collections::hash_map::Entry::Vacant(e) = components.entry(part) {
            if start_specified {
                e.insert(if "MDd".contains(part) { 1.0 } else { 0.0 });
                end_specified = true;
            } else {
                let v = match fragment(&now_parts, part) {
                    Fragment::Num(n) => n,
                    // jsonata stores 'am'/'pm' here, which never equals 1.
                    Fragment::Text(_) => f64::NAN,
                    Fragment::None => f64::NAN,
                };
                e.insert(v);
            }
        } else {
            start_specified = true;
            if end_specified {
                return Err(Fail::new("D3136"));
            }
        }
    }
    let get = |c: char, comps: &std::collections::HashMap<char, f64>| {
        comps.get(&c).copied().unwrap_or(f64::NAN)
    };
    let mut month = get('M', &components);
    if month > 0.0 {
        month -= 1.0;
    } else {
        month = 0.0;
    }
    let mut day = get('D', &components);
    if date_b {
        let first = date_utc(get('Y', &components), 0.0, 1.0, 0.0, 0.0, 0.0, 0.0);
        let derived = first + (get('d', &components) - 1.0) * MILLIS_IN_DAY;
        if derived.is_nan() {
            return Ok(Some(f64::NAN));
        }
        let p = date_parts(derived);
        month = p.month0 as f64;
        day = p.day as f64;
    }
    if date_c || date_d {
        return Err(Fail::new("D3136"));
    }
    let mut hours = get('H', &components);
    if time_b {
        let h = get('h', &components);
        hours = if h == 12.0 { 0.0 } else { h };
        if get('P', &components) == 1.0 {
            hours += 12.0;
        }
    }
    let mut millis = date_utc(
        get('Y', &components),
        month,
        day,
        hours,
        get('m', &components),
        get('s', &components),
        get('f', &components),
    );
    let tz = components.get(&'Z').or(components.get(&'z')).copied();
    if let Some(tz) = tz
        && tz != 0.0
    {
        millis -= tz * 60.0 * 1000.0;
    }
    Ok(Some(millis))
}

/// jsonata's ISO 8601 check:
/// `^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`.
fn iso8601_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"^[0-9]{4}(-[01][0-9])*(-[0-3][0-9])*(T[0-2][0-9]:[0-5][0-9]:[0-5][0-9])*(\.[0-9]+)?([+-][0-2][0-9]:?[0-5][0-9]|Z)?$",
        )
        .unwrap_or_else(|_| unreachable!("the ISO 8601 pattern compiles"))
    })
}

/// JavaScript's `Date.parse` for the strings jsonata's ISO 8601 check lets through: the
/// ECMAScript date-time format (date-only and offset-less date-times as UTC, since Step
/// Functions and the reference run in UTC); anything else is NaN.
fn date_parse(s: &str) -> f64 {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$",
        )
        .unwrap_or_else(|_| unreachable!("the date pattern compiles"))
    });
    let Some(c) = re.captures(s) else {
        return f64::NAN;
    };
    let num = |i: usize, default: f64| -> f64 {
        c.get(i)
            .map_or(default, |m| m.as_str().parse().unwrap_or(f64::NAN))
    };
    let (y, mo, d) = (num(1, 0.0), num(2, 1.0), num(3, 1.0));
    let (h, mi, sec) = (num(4, 0.0), num(5, 0.0), num(6, 0.0));
    let ms = c.get(7).map_or(0.0, |m| {
        let digits: String = m.as_str().chars().chain("000".chars()).take(3).collect();
        digits.parse().unwrap_or(0.0)
    });
    if !(1.0..=12.0).contains(&mo)
        || d < 1.0
        || d > days_in_month(y as i64, mo as i64) as f64
        || h > 24.0
        || mi > 59.0
        || sec > 59.0
        || (h == 24.0 && (mi > 0.0 || sec > 0.0 || ms > 0.0))
    {
        return f64::NAN;
    }
    let mut t = date_utc(y, mo - 1.0, d, h, mi, sec, ms);
    if let Some(off) = c.get(8).map(|m| m.as_str())
        && off != "Z"
    {
        let sign = if off.starts_with('-') { -1.0 } else { 1.0 };
        let digits: String = off[1..].chars().filter(char::is_ascii_digit).collect();
        let oh: f64 = digits[..2].parse().unwrap_or(0.0);
        let om: f64 = digits[2..].parse().unwrap_or(0.0);
        if oh > 23.0 || om > 59.0 {
            return f64::NAN;
        }
        t -= sign * (oh * 60.0 + om) * 60_000.0;
    }
    t
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// `$toMillis(timestamp, picture)`; `now` is the evaluation's timestamp, which fills in
/// the components a picture leaves out.
pub(crate) fn to_millis(timestamp: &str, picture: Option<&str>, now: i64) -> R<Option<f64>> {
    match picture {
        None => {
            if !iso8601_regex().is_match(timestamp) {
                return Err(Fail::new("D3110").value_text(crate::error::json_string(timestamp)));
            }
            Ok(Some(date_parse(timestamp)))
        }
        Some(p) => parse_date_time(timestamp, p, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        let f = |v: f64, p: &str| format_integer(v, p).unwrap_or_else(|e| e.code.into());
        assert_eq!(f(123.0, "w"), "one hundred and twenty-three");
        assert_eq!(f(1999.0, "I"), "MCMXCIX");
        assert_eq!(f(28.0, "A"), "AB");
        assert_eq!(f(1234567.0, "#,##0"), "1,234,567");
        assert_eq!(f(3.0, "0;o"), "3rd");
        assert_eq!(f(12.0, "Ww;o"), "Twelfth");
        assert_eq!(
            parse_integer("twelve thousand", "w").unwrap(),
            Some(12000.0)
        );
        assert_eq!(parse_integer("MCMXCIX", "I").unwrap(), Some(1999.0));
    }

    #[test]
    fn dates() {
        let ms = 1_521_801_216_617.0; // 2018-03-23T10:33:36.617Z
        assert_eq!(
            from_millis(ms, None, None).unwrap(),
            "2018-03-23T10:33:36.617Z"
        );
        assert_eq!(
            from_millis(ms, Some("[FNn], [D1o] [MNn] [Y]"), None).unwrap(),
            "Friday, 23rd March 2018"
        );
        assert_eq!(
            from_millis(ms, Some("[H01]:[m01] [z]"), Some("-0500")).unwrap(),
            "05:33 GMT-05:00"
        );
        assert_eq!(
            to_millis("2018-03-23T10:33:36.617Z", None, 0).unwrap(),
            Some(ms)
        );
        assert_eq!(
            to_millis("2018-03-23", None, 0).unwrap(),
            Some(1_521_763_200_000.0)
        );
        assert!(to_millis("23/03/2018", None, 0).is_err());
        assert_eq!(
            to_millis("2018-03-23", Some("[Y]-[M]-[D]"), 0).unwrap(),
            Some(1_521_763_200_000.0)
        );
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
    }
}
