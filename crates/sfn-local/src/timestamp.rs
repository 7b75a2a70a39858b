//! RFC 3339 timestamps as Step Functions reads and writes them.
//!
//! Step Functions accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`: the `T` and the offset
//! are mandatory (`2016-12-05 21:29:29Z` and `2016-12-05T21:29:29` are rejected), the fraction
//! may have any number of digits. Instants are kept as nanoseconds since the Unix epoch so
//! comparisons in Choice rules are exact.

/// Nanoseconds since 1970-01-01T00:00:00Z.
pub type Nanos = i128;

/// Parses an RFC 3339 timestamp; `None` when the text is not one.
pub fn parse(text: &str) -> Option<Nanos> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        let mut scale: i128 = 100_000_000;
        while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
            nanos += i128::from(d - b'0') * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset_minutes: i64 = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = digits(b, i + 1, 2)?;
            let om = digits(b, i + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if *sign == b'-' { -m } else { m }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

/// Formats milliseconds since the epoch as `2024-01-01T00:00:00.000Z`.
pub fn format_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn digits(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let slice = b.get(at..at + len)?;
    let mut n = 0i64;
    for c in slice {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some(n)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's algorithms: exact for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, millis: i64) {
        assert_eq!(parse(text), Some(i128::from(millis) * 1_000_000), "{text}");
    }
    fn bad(text: &str) {
        assert_eq!(parse(text), None, "{text}");
    }

    #[test]
    fn parses_what_step_functions_accepts() {
        ok("1970-01-01T00:00:00Z", 0);
        ok("2024-01-01T12:00:00Z", 1_704_110_400_000);
        ok("2024-01-01T12:00:00.00Z", 1_704_110_400_000);
        ok("2024-01-01T12:00:00.000000Z", 1_704_110_400_000);
        ok("2024-01-01T13:00:00+01:00", 1_704_110_400_000);
        ok("2024-02-29T00:00:00Z", 1_709_164_800_000);
        assert_eq!(
            parse("2016-03-05T21:29:29.243167252Z").map(|n| n % 1_000_000_000),
            Some(243_167_252)
        );
    }

    #[test]
    fn rejects_what_step_functions_rejects() {
        bad("2016-13-05T21:29:29Z");
        bad("05-12-2016T21:29:29Z");
        bad("2016-12-05T25:29:29Z");
        bad("2016-12-05 21:29:29Z");
        bad("2016-12-05T21:29:29");
        bad("2024-01-01T12:00:00.000000");
        bad("2023-02-29T00:00:00Z");
        bad("2023-02-24");
        bad("2024-01-01T12:00:00.Z");
        bad("");
    }

    #[test]
    fn formats_round_trip() {
        for ms in [0, 1_704_110_400_123, 951_782_400_000, -1] {
            let text = format_millis(ms);
            assert_eq!(parse(&text), Some(i128::from(ms) * 1_000_000), "{text}");
        }
    }
}
