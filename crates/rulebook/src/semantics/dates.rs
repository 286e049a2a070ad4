//! Calendar rules, each documented in `docs/language.md#dates`.
//!
//! One rule covers month ends everywhere: when a day does not exist in the
//! target month (31 January + 1 month, a 29 February birthday in a common
//! year), the last day of that month is used. This is the rule of the Finnish
//! act on computing statutory periods (laki säädettyjen määräaikain
//! laskemisesta 150/1930): a period counted in months or years ends on the
//! day with the same number, or on the month's last day if there is none.

use crate::ir::value::Duration;
use chrono::{Datelike, NaiveDate};

fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Adds whole months, clamping the day to the target month's last day.
pub fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    let total = i64::from(date.year()) * 12 + i64::from(date.month0()) + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = u32::try_from(total.rem_euclid(12)).ok()? + 1;
    let day = date.day().min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day)
}

pub fn add_duration(date: NaiveDate, d: Duration) -> Option<NaiveDate> {
    let after_months = add_months(date, d.months)?;
    after_months.checked_add_signed(chrono::Duration::try_days(d.days)?)
}

pub fn sub_duration(date: NaiveDate, d: Duration) -> Option<NaiveDate> {
    add_duration(
        date,
        Duration {
            months: d.months.checked_neg()?,
            days: d.days.checked_neg()?,
        },
    )
}

/// Whole months from `from` to `to`: the largest n with `from + n months <= to`.
/// Negative when `to` is before `from`.
pub fn months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return -months_between(to, from);
    }
    let mut n = (i64::from(to.year()) - i64::from(from.year())) * 12 + i64::from(to.month())
        - i64::from(from.month());
    // `from + n months` falls in `to`'s month, on `from`'s day or that
    // month's last day; when that is after `to`, the last month is not yet
    // complete.
    if n > 0 && from.day().min(days_in_month(to.year(), to.month())) > to.day() {
        n -= 1;
    }
    n
}

/// Whole years from `from` to `to`; with a birth date, the age on `to`.
/// A person born on 29 February becomes a year older on 28 February in a
/// common year.
pub fn years_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let m = months_between(from, to);
    // Truncate toward zero so that years and months agree in sign.
    m / 12
}

pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

pub fn first_day_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

pub fn last_day_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(days_in_month(d.year(), d.month())).unwrap_or(d)
}

pub fn first_day_of_year(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d)
}

pub fn last_day_of_year(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), 12, 31).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn month_end_addition_clamps() {
        assert_eq!(add_months(d("2021-01-31"), 1), Some(d("2021-02-28")));
        assert_eq!(add_months(d("2024-01-31"), 1), Some(d("2024-02-29")));
        assert_eq!(add_months(d("2024-02-29"), 12), Some(d("2025-02-28")));
        assert_eq!(add_months(d("2021-03-31"), -1), Some(d("2021-02-28")));
    }

    #[test]
    fn leap_day_birthday() {
        let born = d("2004-02-29");
        assert_eq!(years_between(born, d("2022-02-27")), 17);
        assert_eq!(years_between(born, d("2022-02-28")), 18);
        assert_eq!(years_between(born, d("2024-02-28")), 19);
        assert_eq!(years_between(born, d("2024-02-29")), 20);
    }

    #[test]
    fn months_between_counts_completed_months() {
        assert_eq!(months_between(d("2021-01-31"), d("2021-02-27")), 0);
        assert_eq!(months_between(d("2021-01-31"), d("2021-02-28")), 1);
        assert_eq!(months_between(d("2021-01-15"), d("2021-07-14")), 5);
        assert_eq!(months_between(d("2021-01-15"), d("2021-07-15")), 6);
        assert_eq!(months_between(d("2021-07-15"), d("2021-01-15")), -6);
    }

    /// The arithmetic shortcut agrees with the definition: the largest n
    /// with `from + n months <= to`.
    #[test]
    fn months_between_agrees_with_its_definition() {
        let start = NaiveDate::from_ymd_opt(1999, 12, 1).unwrap_or_default();
        let days: Vec<NaiveDate> = (0..900)
            .filter_map(|i| start.checked_add_days(chrono::Days::new(i)))
            .collect();
        for (k, from) in days.iter().enumerate().step_by(7) {
            for to in days.iter().skip(k) {
                let mut n = 0;
                while add_months(*from, n + 1).is_some_and(|d| d <= *to) {
                    n += 1;
                }
                assert_eq!(months_between(*from, *to), n, "{from} .. {to}");
                assert_eq!(months_between(*to, *from), -n, "{to} .. {from}");
            }
        }
        for y in 1890..2110 {
            let feb_end = NaiveDate::from_ymd_opt(y, 3, 1).and_then(|d| d.pred_opt());
            assert_eq!(feb_end.map(|d| d.day()), Some(days_in_month(y, 2)), "{y}");
        }
    }
}
