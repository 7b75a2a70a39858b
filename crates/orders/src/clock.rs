//! The calendar month, from an injectable clock.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar month: what card expiry is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    // Field order matters: the derived ordering compares the year first.
    year: u16,
    month: u8,
}

impl YearMonth {
    /// The month `month` (1–12) of `year`, or `None` if `month` is not a month.
    pub fn new(year: u16, month: u8) -> Option<YearMonth> {
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The month containing `time`, in UTC.
    pub fn of(time: SystemTime) -> YearMonth {
        // A clock set before 1970 is treated as 1970 rather than failing the payment step.
        let seconds = time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let days = i64::try_from(seconds / 86_400).unwrap_or(i64::MAX / 2);
        let (year, month) = civil_from_days(days);
        YearMonth {
            year: u16::try_from(year).unwrap_or(u16::MAX),
            month,
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Year and month of a day counted from 1970-01-01, by Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html>), which is exact for the
/// proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, u8::try_from(month).unwrap_or(1))
}

/// Where "today" comes from, so that expiry checks can be tested at any date.
pub trait Clock: Send + Sync {
    /// The current month.
    fn today(&self) -> YearMonth;
}

/// The system clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> YearMonth {
        YearMonth::of(SystemTime::now())
    }
}

/// A clock stopped at one month, for tests and reproducible runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub YearMonth);

impl Clock for FixedClock {
    fn today(&self) -> YearMonth {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn month_of(unix_seconds: u64, year: u16, month: u8) {
        let got = YearMonth::of(UNIX_EPOCH + Duration::from_secs(unix_seconds));
        assert_eq!((got.year(), got.month()), (year, month), "{unix_seconds}");
    }

    #[test]
    fn converts_unix_time() {
        month_of(0, 1970, 1);
        month_of(951_782_400, 2000, 2); // 2000-02-29
        month_of(951_868_800, 2000, 3); // 2000-03-01
        month_of(1_798_761_599, 2026, 12); // 2026-12-31T23:59:59
        month_of(1_798_761_600, 2027, 1);
        month_of(1_795_478_400, 2026, 11); // 2026-11-24
    }

    #[test]
    fn orders_by_year_then_month() {
        let month = |y, m| YearMonth::new(y, m).expect("valid month");
        assert!(month(2026, 8) < month(2026, 11));
        assert!(month(2026, 12) < month(2027, 1));
        assert!(YearMonth::new(2026, 13).is_none());
        assert!(YearMonth::new(2026, 0).is_none());
        assert_eq!(month(2026, 8).to_string(), "2026-08");
    }

    #[test]
    fn system_clock_is_after_2025() {
        assert!(SystemClock.today() > YearMonth::new(2025, 1).expect("valid month"));
    }
}
