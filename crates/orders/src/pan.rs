//! Card numbers (PANs) wherever they hide in text: the one rule shared by the validator, which
//! keeps them out of every field but `cardNumber`, and by the masker that keeps them out of
//! stored histories.
//!
//! A card number, for this rule, is 12 to 19 digits that pass the Luhn check and start with a
//! payment card's major industry identifier, 2 to 6 (ISO/IEC 7812: 2 and 5 Mastercard, 3 Amex,
//! JCB and Diners, 4 Visa, 6 Discover, UnionPay and Maestro). Identifiers that merely hold
//! digits mostly start elsewhere: epoch milliseconds until 2033 start with 1.
//!
//! The digits are found however they are written:
//! - any Unicode decimal digit counts, not only ASCII (`４１１１…` in full-width digits);
//! - characters that show nothing (zero-width spaces and joiners, soft hyphens, the byte order
//!   mark) are skipped as if absent;
//! - groups may be split by up to three separator characters (`4111 - 1111`): spaces of any
//!   width (the no-break space included), dashes and minus signs, dots, colons, commas,
//!   slashes and underscores, in their full-width forms too;
//! - letters may touch the digits (`ref4111111111111111`).
//!
//! Written in groups, a number counts when its inner groups have 3 to 6 digits, as printed
//! cards group them (4-4-4-4, 4-6-5, 4-6-4), and its first and last groups 1 to 6 (a 17- or
//! 13-digit number split in fours ends in a short group); dates and times, whose inner groups
//! have two digits, are not read as one. A group of 12 to 19 digits counts by itself, so a
//! number with a suffix (`4111111111111111.0`) or among other groups is still found. A run of
//! more than 19 digits with no separator is not a card number (a long numeric id), and a
//! canonical UUID (`6ff16230-6993-476a-abf3-ed55f13ddbf3`) is never read as one, whatever its
//! digits happen to spell.

use std::ops::Range;

/// The fewest and the most digits a card number has.
const LENGTHS: Range<usize> = 12..20;
/// The digits of an inner group of a grouped card number.
const GROUP_DIGITS: Range<usize> = 3..7;
/// The digits of the first or last group of a grouped card number.
const EDGE_GROUP_DIGITS: Range<usize> = 1..7;
/// The most separator characters allowed between two groups.
const MAX_SEPARATORS: usize = 3;

/// The first code point of each Unicode block of decimal digits 0–9 (general category Nd,
/// contiguous from zero): ASCII, Arabic-Indic, NKo, the Indic scripts, Thai, Lao, Tibetan,
/// Myanmar, Khmer, Mongolian, full-width, and the mathematical digits.
const DIGIT_ZEROS: [u32; 27] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0xFF10, 0x1D7CE, 0x1D7D8, 0x1D7E2,
    0x1D7EC, 0x1D7F6,
];

/// The value of a decimal digit in any script, or `None`.
fn digit_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if c.is_ascii() {
        return None;
    }
    let code = u32::from(c);
    DIGIT_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&code))
        .and_then(|zero| u8::try_from(code - zero).ok())
}

/// Characters written between groups of digits.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '-'
            | '.'
            | ':'
            | ','
            | '/'
            | '_'
            | '\u{00A0}' // no-break space
            | '\u{00B7}' // middle dot
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}' // en quad .. hair space
            | '\u{2010}'..='\u{2015}' // hyphen .. horizontal bar
            | '\u{2024}' // one dot leader
            | '\u{202F}' // narrow no-break space
            | '\u{205F}'
            | '\u{2212}' // minus sign
            | '\u{3000}' // ideographic space
            | '\u{FE58}'
            | '\u{FE63}'
            | '\u{FF0C}' // full-width comma
            | '\u{FF0D}' // full-width hyphen-minus
            | '\u{FF0E}' // full-width full stop
            | '\u{FF0F}' // full-width solidus
            | '\u{FF1A}' // full-width colon
            | '\u{FF3F}' // full-width low line
    )
}

/// Characters that show nothing, skipped as if absent.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Whether `digits` (values 0–9) pass the Luhn (mod 10) check; the empty list does not.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &d)| {
            let d = u32::from(d);
            if position % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// One digit of a run: where it is in the text and its value.
#[derive(Debug, Clone, Copy)]
struct Digit {
    at: usize,
    len: usize,
    value: u8,
}

/// Whether `text` holds a card number anywhere, in any of the forms the module describes.
pub fn contains_card_number(text: &str) -> bool {
    let mut found = false;
    scan(text, &mut |_| {
        found = true;
        false
    });
    found
}

/// `text` with every card number in it masked: each of its digits but the last four becomes
/// `*`; separators and the rest of the text are kept. `None` when it holds none.
pub fn mask_card_numbers(text: &str) -> Option<String> {
    let mut hidden: Vec<Range<usize>> = Vec::new();
    scan(text, &mut |digits| {
        let keep = digits.len().saturating_sub(4);
        hidden.extend(digits[..keep].iter().map(|d| d.at..d.at + d.len));
        true
    });
    if hidden.is_empty() {
        return None;
    }
    hidden.sort_by_key(|r| r.start);
    hidden.dedup_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for range in hidden {
        if range.start < copied {
            continue;
        }
        out.push_str(&text[copied..range.start]);
        out.push('*');
        copied = range.end;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Calls `found` with the digits of each card number in `text` until it returns `false`.
fn scan(text: &str, found: &mut dyn FnMut(&[Digit]) -> bool) {
    if may_hold_one(text) {
        scan_runs(text, found);
    }
}

/// [`scan`] without its first pass.
fn scan_runs(text: &str, found: &mut dyn FnMut(&[Digit]) -> bool) {
    let uuids = uuid_spans(text);
    // The digits of the current run and where each of its groups starts in `digits`.
    let mut digits: Vec<Digit> = Vec::new();
    let mut groups: Vec<usize> = Vec::new();
    // Separators seen since the last digit of the run.
    let mut separators = 0;
    // The spans are in order and apart: the first that does not end before `at` is the only
    // one that can hold it.
    let mut uuids = uuids.iter().peekable();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        while uuids.next_if(|u| u.end <= at).is_some() {}
        if let Some(uuid) = uuids.peek().filter(|u| u.contains(&at)) {
            if !check_run(&digits, &groups, found) {
                return;
            }
            digits.clear();
            groups.clear();
            while chars.peek().is_some_and(|&(next, _)| next < uuid.end) {
                chars.next();
            }
            continue;
        }
        if let Some(value) = digit_value(c) {
            if digits.is_empty() || separators > 0 {
                groups.push(digits.len());
            }
            separators = 0;
            digits.push(Digit {
                at,
                len: c.len_utf8(),
                value,
            });
        } else if is_invisible(c) {
        } else if is_separator(c) && !digits.is_empty() && separators < MAX_SEPARATORS {
            separators += 1;
        } else {
            if !check_run(&digits, &groups, found) {
                return;
            }
            digits.clear();
            groups.clear();
            separators = 0;
        }
    }
    check_run(&digits, &groups, found);
}

/// Whether `text` has a run of at least as many digits as the shortest card number, a run
/// being what [`scan`] reads as one: digits joined by at most [`MAX_SEPARATORS`] separators,
/// invisible characters skipped, anything else ending it. [`check_run`] finds nothing in a
/// shorter run, so this pass, which allocates nothing, rules out most text (timestamps,
/// amounts, ids) before the scan proper.
fn may_hold_one(text: &str) -> bool {
    if text.len() < LENGTHS.start {
        return false;
    }
    let (mut run, mut separators) = (0, 0);
    let mut step = |digit: bool, invisible: bool, separator: bool| {
        if digit {
            run += 1;
            separators = 0;
        } else if invisible {
        } else if separator && run > 0 && separators < MAX_SEPARATORS {
            separators += 1;
        } else {
            run = 0;
            separators = 0;
        }
        run >= LENGTHS.start
    };
    if text.is_ascii() {
        // ASCII has no invisible characters and no digits but 0-9.
        return text
            .bytes()
            .any(|b| step(b.is_ascii_digit(), false, is_separator(char::from(b))));
    }
    text.chars()
        .any(|c| step(digit_value(c).is_some(), is_invisible(c), is_separator(c)))
}

/// Reports each card number among the groups of one run; `false` once `found` says stop.
fn check_run(digits: &[Digit], groups: &[usize], found: &mut dyn FnMut(&[Digit]) -> bool) -> bool {
    if digits.len() < LENGTHS.start {
        return true;
    }
    let group = |g: usize| {
        let start = groups[g];
        let end = groups.get(g + 1).copied().unwrap_or(digits.len());
        start..end
    };
    for first in 0..groups.len() {
        for last in first..groups.len() {
            let span = group(first).start..group(last).end;
            if span.len() >= LENGTHS.end {
                break;
            }
            let edges_fit = EDGE_GROUP_DIGITS.contains(&group(first).len())
                && EDGE_GROUP_DIGITS.contains(&group(last).len());
            let inner_fit = (first + 1..last).all(|g| GROUP_DIGITS.contains(&group(g).len()));
            if first != last && !inner_fit {
                // A longer window holds this group inside it too.
                break;
            }
            if first != last && !edges_fit {
                continue;
            }
            let candidate = &digits[span];
            if is_card_number(candidate) && !found(candidate) {
                return false;
            }
        }
    }
    true
}

fn is_card_number(digits: &[Digit]) -> bool {
    let values: Vec<u8> = digits.iter().map(|d| d.value).collect();
    LENGTHS.contains(&values.len()) && (2..=6).contains(&values[0]) && luhn(&values)
}

/// The byte ranges of canonical UUIDs (8-4-4-4-12 hexadecimal digits) in `text`.
fn uuid_spans(text: &str) -> Vec<Range<usize>> {
    const SHAPE: usize = 36;
    const DASHES: [usize; 4] = [8, 13, 18, 23];
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + SHAPE <= bytes.len() {
        let window = &bytes[i..i + SHAPE];
        // The dashes first: most windows fail there, before 32 digits are looked at.
        let is_uuid = DASHES.iter().all(|&k| window[k] == b'-')
            && window
                .iter()
                .enumerate()
                .all(|(k, b)| DASHES.contains(&k) || b.is_ascii_hexdigit());
        if is_uuid {
            spans.push(i..i + SHAPE);
            i += SHAPE;
        } else {
            i += 1;
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str, expected: &str) {
        assert_eq!(
            mask_card_numbers(text).as_deref().unwrap_or(text),
            expected,
            "{text:?}"
        );
        assert_eq!(contains_card_number(text), text != expected, "{text:?}");
    }

    fn clean(text: &str) {
        masked(text, text);
    }

    #[test]
    fn finds_card_numbers_however_written() {
        masked("5555555555554444", "************4444");
        masked("5555 5555 5555 4444", "**** **** **** 4444");
        masked("4111-1111-1111-1111", "****-****-****-1111");
        masked("4111.1111.1111.1111", "****.****.****.1111");
        masked("4111:1111:1111:1111", "****:****:****:1111");
        masked("4111 - 1111 - 1111 - 1111", "**** - **** - **** - 1111");
        masked(
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
            "****\u{a0}****\u{a0}****\u{a0}1111",
        );
        masked(
            "4111\u{202f}1111\u{202f}1111\u{202f}1111",
            "****\u{202f}****\u{202f}****\u{202f}1111",
        );
        masked("４１１１１１１１１１１１１１１１", "************１１１１");
        masked(
            "4\u{200b}1\u{200b}11111111111111",
            "*\u{200b}*\u{200b}**********1111",
        );
        masked("ref4111111111111111", "ref************1111");
        masked("4111111111111111x", "************1111x");
        masked("4111111111111111.0", "************1111.0");
        masked("3782 822463 10005", "**** ****** *0005");
        masked("2003 0322 0120 0100 4", "**** **** **** *100 4");
        masked(
            "card 4111 1111 1111 1111 exp 12 28",
            "card **** **** **** 1111 exp 12 28",
        );
        masked("4111 1111 1111 1111 2028", "**** **** **** 1111 2028");
        masked(
            "paid with 4111-1111-1111-1111.",
            "paid with ****-****-****-1111.",
        );
        masked(
            "4111 1111 1111 1111 and 5555555555554444",
            "**** **** **** 1111 and ************4444",
        );
    }

    #[test]
    fn leaves_what_is_not_a_card_number() {
        clean("");
        clean("o-1001");
        clean("4111 1111"); // too short
        clean("4111111111111112"); // fails Luhn
        clean("1234567890123"); // does not start like a card (and fails Luhn)
        clean("1732479542123"); // epoch milliseconds start with 1
        clean("79927398713000"); // starts with 7: not a payment card
        clean("order 1234567890123 at 2026-11-24");
        clean("41111111111111111111"); // 20 digits: a long numeric id
        clean("41-1111111-1111111"); // groups no card prints
        clean("2026-12-01 22:07:03"); // two-digit inner groups: a date and a time
        clean("6ff16230-6993-476a-abf3-ed55f13ddbf3");
        clean("00000000-4111-1111-1111-111111111111");
        clean("2026-11-24T20:19:02.123Z");
        clean("4111 1111 1111    1111"); // four spaces is no longer one number
    }

    #[test]
    fn luhn_check() {
        assert!(luhn(&[4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2]));
        assert!(!luhn(&[4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 1]));
        assert!(!luhn(&[]));
    }

    #[test]
    fn digits_of_every_script() {
        assert_eq!(digit_value('7'), Some(7));
        assert_eq!(digit_value('\u{0663}'), Some(3));
        assert_eq!(digit_value('\u{FF19}'), Some(9));
        assert_eq!(digit_value('\u{1D7FF}'), Some(9));
        assert_eq!(digit_value('a'), None);
        assert_eq!(digit_value('\u{FF1A}'), None);
    }

    /// Text made of what a card number can be written with, and what ends one.
    fn card_like_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            4 => proptest::sample::select(vec!["4", "1", "5", "0", "9", "2"]),
            1 => proptest::sample::select(vec!["٣", "４", "𝟗"]),
            2 => proptest::sample::select(vec![" ", "-", ".", "\u{2212}", "\u{3000}", "_"]),
            1 => proptest::sample::select(vec!["\u{200B}", "\u{00AD}", "\u{FEFF}"]),
            1 => proptest::sample::select(vec!["a", "f", "Z", "\"", "é"]),
        ];
        proptest::collection::vec(piece, 0..48).prop_map(|pieces| pieces.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// The first pass never rules out text in which the scan proper finds a card number.
        #[test]
        fn the_first_pass_keeps_every_text_holding_a_card_number(text in card_like_text()) {
            let mut found = false;
            scan_runs(&text, &mut |_| {
                found = true;
                false
            });
            proptest::prop_assert!(!found || may_hold_one(&text), "{:?}", text);
        }
    }
}
