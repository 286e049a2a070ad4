//! Property tests: arithmetic, rounding and dates against simple reference
//! implementations; table analysis against brute-force enumeration;
//! evaluation determinism; formatting round-trips.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use rulebook::semantics::arithmetic::round;
use rulebook::semantics::dates;
use rulebook::syntax::ast::{RoundMode, RoundTarget};
use rust_decimal::Decimal;

// ---- rounding against integer arithmetic -----------------------------------

/// Rounds `m / 10^scale` to a multiple of `step / 10^target_scale`, with
/// i128 arithmetic only.
fn reference_round(
    m: i64,
    scale: u32,
    step: i128,
    target_scale: u32,
    mode: RoundMode,
) -> (i128, u32) {
    // Work in units of 10^-(max scale).
    let s = scale.max(target_scale);
    let value = m as i128 * 10i128.pow(s - scale);
    let unit = step * 10i128.pow(s - target_scale);
    let (q, r) = (value / unit, value % unit);
    let twice = 2 * r.abs();
    let sign = if value < 0 { -1 } else { 1 };
    let away = match mode {
        RoundMode::Down => false,
        RoundMode::Up => r != 0,
        RoundMode::HalfUp => twice >= unit,
        RoundMode::HalfEven => twice > unit || (twice == unit && q % 2 != 0),
    };
    let q = if away { q + sign } else { q };
    (q * step, target_scale)
}

fn mode() -> impl Strategy<Value = RoundMode> {
    prop_oneof![
        Just(RoundMode::HalfUp),
        Just(RoundMode::HalfEven),
        Just(RoundMode::Down),
        Just(RoundMode::Up)
    ]
}

proptest! {
    #[test]
    fn rounding_to_cents_matches_integer_reference(m in -10_000_000_000i64..10_000_000_000, scale in 0u32..8, mode in mode()) {
        let d = Decimal::new(m, scale);
        let got = round(d, RoundTarget::Cents(1), mode).unwrap();
        let (units, s) = reference_round(m, scale, 1, 2, mode);
        prop_assert_eq!(got, Decimal::from_i128_with_scale(units, s), "{} {:?}", d, mode);
    }

    #[test]
    fn rounding_to_steps_of_cents_matches_integer_reference(m in -1_000_000_000i64..1_000_000_000, scale in 0u32..6, step in 1u32..500, mode in mode()) {
        let d = Decimal::new(m, scale);
        let got = round(d, RoundTarget::Cents(step), mode).unwrap();
        let (units, s) = reference_round(m, scale, step as i128, 2, mode);
        prop_assert_eq!(got, Decimal::from_i128_with_scale(units, s), "{} to {} cents {:?}", d, step, mode);
    }

    #[test]
    fn rounding_to_decimals_matches_integer_reference(m in -1_000_000_000i64..1_000_000_000, scale in 0u32..9, places in 0u32..6, mode in mode()) {
        let d = Decimal::new(m, scale);
        let got = round(d, RoundTarget::Decimals(places), mode).unwrap();
        let (units, s) = reference_round(m, scale, 1, places, mode);
        prop_assert_eq!(got, Decimal::from_i128_with_scale(units, s), "{} to {} places {:?}", d, places, mode);
    }

    #[test]
    fn money_addition_and_integer_multiplication_are_exact(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000, k in -1000i64..1000) {
        let (x, y) = (Decimal::new(a, 2), Decimal::new(b, 2));
        prop_assert_eq!(x + y, Decimal::from_i128_with_scale(a as i128 + b as i128, 2));
        prop_assert_eq!(x * Decimal::from(k), Decimal::from_i128_with_scale(a as i128 * k as i128, 2));
    }
}

// ---- dates against day-by-day references -------------------------------------

fn days_in_month(y: i32, m: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|d| NaiveDate::from_ymd_opt(y, m, *d).is_some())
        .unwrap()
}

/// Adds months by counting them one at a time, then clamps the day.
fn reference_add_months(d: NaiveDate, n: i64) -> NaiveDate {
    let (mut y, mut m) = (d.year(), d.month() as i64);
    for _ in 0..n.abs() {
        m += n.signum();
        if m == 13 {
            m = 1;
            y += 1;
        }
        if m == 0 {
            m = 12;
            y -= 1;
        }
    }
    let day = d.day().min(days_in_month(y, m as u32));
    NaiveDate::from_ymd_opt(y, m as u32, day).unwrap()
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (1900i32..2100, 1u32..=12, 1u32..=31)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d.min(days_in_month(y, m))).unwrap())
}

proptest! {
    #[test]
    fn month_addition_matches_stepping(d in date(), n in -240i64..240) {
        prop_assert_eq!(dates::add_months(d, n).unwrap(), reference_add_months(d, n));
    }

    #[test]
    fn months_between_is_the_largest_whole_number_of_months(a in date(), b in date()) {
        let n = dates::months_between(a, b);
        if b >= a {
            prop_assert!(reference_add_months(a, n) <= b);
            prop_assert!(reference_add_months(a, n + 1) > b);
        } else {
            prop_assert_eq!(n, -dates::months_between(b, a));
        }
    }

    #[test]
    fn age_counts_birthdays_passed(birth in date(), on in date()) {
        prop_assume!(on >= birth);
        // Reference: the number of years y with birth + y years (clamped) <= on.
        let mut years = 0;
        while reference_add_months(birth, 12 * (years + 1)) <= on {
            years += 1;
        }
        prop_assert_eq!(dates::years_between(birth, on), years);
    }

    #[test]
    fn days_between_matches_counting(a in date(), n in -2000i64..2000) {
        let b = a + chrono::Duration::days(n);
        prop_assert_eq!(dates::days_between(a, b), n);
    }
}

// ---- table analysis against brute force ---------------------------------------

#[derive(Debug, Clone)]
enum Cell {
    Any,
    Value(i64),
    Range(i64, i64),
    OrMore(i64),
    Under(i64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Any => "-".into(),
            Cell::Value(v) => v.to_string(),
            Cell::Range(a, b) => format!("{a} to {b}"),
            Cell::OrMore(a) => format!("{a} or more"),
            Cell::Under(a) => format!("under {a}"),
        }
    }
    fn matches(&self, x: i64) -> bool {
        match self {
            Cell::Any => true,
            Cell::Value(v) => x == *v,
            Cell::Range(a, b) => *a <= x && x <= *b,
            Cell::OrMore(a) => x >= *a,
            Cell::Under(a) => x < *a,
        }
    }
}

fn cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        1 => Just(Cell::Any),
        3 => (0i64..10).prop_map(Cell::Value),
        4 => (0i64..10, 0i64..10).prop_map(|(a, b)| Cell::Range(a.min(b), a.max(b))),
        2 => (0i64..10).prop_map(Cell::OrMore),
        2 => (1i64..10).prop_map(Cell::Under),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn gap_and_overlap_detection_matches_enumeration(rows in prop::collection::vec((cell(), cell()), 1..6), first in any::<bool>()) {
        let hit = if first { "first" } else { "unique" };
        let mut text = format!(
            "rulebook t.tables \"T\"\n  version 1\n  in force 2021-01-01\n\ninput c {{ a: integer 0 to 9, b: integer 0 to 9 }}\n\
             table t(a: integer 0 to 9, b: integer 0 to 9) -> integer, hit {hit}\n  | a | b | r |\n"
        );
        for (i, (x, y)) in rows.iter().enumerate() {
            text.push_str(&format!("  | {} | {} | {i} |\n", x.text(), y.text()));
        }
        text.push_str("output r: integer = t(c.a, c.b)\n");
        let codes: Vec<&str> = rulebook::check::check(&text).diagnostics.iter().map(|d| d.code.as_str()).collect();
        let mut gap = false;
        let mut overlap = false;
        let mut first_hit = vec![false; rows.len()];
        for a in 0..10 {
            for b in 0..10 {
                let matching: Vec<usize> = rows.iter().enumerate().filter(|(_, (x, y))| x.matches(a) && y.matches(b)).map(|(i, _)| i).collect();
                gap |= matching.is_empty();
                overlap |= matching.len() > 1;
                if let Some(f) = matching.first() {
                    first_hit[*f] = true;
                }
            }
        }
        prop_assert_eq!(codes.contains(&"table-gap"), gap, "{}\n{:?}", text, codes);
        if first {
            prop_assert!(!codes.contains(&"table-overlap"));
            let unreachable = first_hit.iter().filter(|h| !**h).count();
            prop_assert_eq!(codes.iter().filter(|c| **c == "unreachable-row").count(), unreachable, "{}\n{:?}", text, codes);
        } else {
            prop_assert_eq!(codes.contains(&"table-overlap"), overlap, "{}\n{:?}", text, codes);
        }
    }
}

// ---- determinism and formatting --------------------------------------------------

fn home_care() -> rulebook::eval::Executable {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../..",
        "/rulebooks/helsinki-home-care/2024-25.rulebook"
    ))
    .unwrap();
    rulebook::eval::Executable::new(rulebook::check::check(&text).program.unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn evaluation_is_deterministic(income in 0u64..2_000_000, size in 1i64..=16, declared in any::<bool>(), price in 0u64..10_000, hours in 0u64..2000) {
        let p = home_care();
        let doc = serde_json::json!({
            "decision_date": "2024-06-01",
            "household": { "income_declared": declared, "gross_monthly_income": format!("{}.{:02}", income / 100, income % 100), "size": size },
            "service": { "hourly_price": format!("{}.{:02}", price / 100, price % 100), "hours_per_month": format!("{}.{}", hours / 10, hours % 10) },
        });
        let run = || {
            let case = rulebook::cases::input::decode_case(&p, &doc, None).unwrap();
            let d = rulebook::eval::evaluate(&p, &case, &rulebook::eval::Options { explain: true }).unwrap();
            rulebook::eval::decision_json(&p, &case, &d)
        };
        let first = run();
        prop_assert_eq!(&first, &run());
        // And independent of a fresh check of the same text.
        prop_assert_eq!(&first, &{
            let p2 = home_care();
            let case = rulebook::cases::input::decode_case(&p2, &doc, None).unwrap();
            let d = rulebook::eval::evaluate(&p2, &case, &rulebook::eval::Options { explain: true }).unwrap();
            rulebook::eval::decision_json(&p2, &case, &d)
        });
    }

    #[test]
    fn formatting_round_trips_after_random_spacing(seed in any::<u64>()) {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../..", "/rulebooks/keusote-dental/2018.rulebook")).unwrap();
        // Re-indent continuation lines and pad operators and commas at random.
        let mut x = seed;
        let mut next = || { x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (x >> 33) as usize };
        let messy: String = text
            .lines()
            .map(|l| {
                let mut l = l.to_string();
                if l.starts_with("  ") {
                    l = format!("{}{}", " ".repeat(next() % 6), l.trim_start());
                }
                if !l.contains('"') && !l.contains("--") {
                    let pad = " ".repeat(1 + next() % 3);
                    l = l.replace(" = ", &format!("{pad}={pad}")).replace(", ", &format!(",{pad}"));
                }
                l + "\n"
            })
            .collect();
        let once = rulebook::ops::format::format(&messy);
        prop_assert_eq!(rulebook::ops::format::format(&once), once.clone());
        let strip = |t: &str| rulebook::syntax::ast::without_spans(&rulebook::syntax::parse(t).0);
        prop_assert_eq!(strip(&once), strip(&text));
    }
}

// ---- decoding cases straight from JSON text ---------------------------------

const EVERY_TYPE: &str = "rulebook test.decode \"Decoding\"\n  version 1\n  in force 2018-01-01\n\n\
enum Tier { low, high }\n\
record Member { birth: date, salary: money 0 € or more, share: percent }\n\
input h {\n  income: money 0 € or more\n  size: integer 1 to 8\n  hours: decimal 0 or more\n  rate: percent\n  urgent: boolean\n  since: date\n  wait: duration\n  tier: Tier\n  note: text\n  members: list of Member\n}\n\
input extra: integer\n\
output n: integer = h.size + extra\n";

/// JSON texts for a field: valid ones, and near misses of every kind.
fn json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"1250.50\"".to_string()),
        Just("\" 1250.50 € \"".to_string()),
        Just("\"12 %\"".to_string()),
        Just("\"12.5\"".to_string()),
        Just("\"-3\"".to_string()),
        Just("\"2021-02-28\"".to_string()),
        Just("\" 2020-02-29\"".to_string()),
        Just("\"2021-02-29\"".to_string()),
        Just("\"6 months\"".to_string()),
        Just("\"high\"".to_string()),
        Just("\"hgh\"".to_string()),
        Just("\"a \\\"quoted\\\" text\"".to_string()),
        Just("\"\\u00e4\"".to_string()),
        Just("3".to_string()),
        Just("-0".to_string()),
        Just("3.0".to_string()),
        Just("1e2".to_string()),
        Just("12.345".to_string()),
        Just("99999999999999999999".to_string()),
        Just("9".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
    ]
}

fn member() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("\"1980-05-01\"".to_string()), json_value()],
        prop_oneof![Just("\"2000.00\"".to_string()), json_value()],
        prop_oneof![Just("\"50 %\"".to_string()), json_value()],
        0..4usize,
    )
        .prop_map(|(b, s, sh, shape)| match shape {
            0 => format!("{{\"birth\":{b},\"salary\":{s}}}"),
            1 => format!("{{\"birth\":{b},\"salary\":{s},\"share\":{sh},\"share\":{sh}}}"),
            2 => format!("{{\"birth\":{b},\"salary\":{s},\"share\":{sh},\"bonus\":1}}"),
            _ => format!("{{\"share\":{sh},\"birth\":{b},\"salary\":{s}}}"),
        })
}

/// A case whose every field is most often valid, and sometimes any value.
fn case_text() -> impl Strategy<Value = String> {
    let field = |valid: &'static str| prop_oneof![4 => Just(valid.to_string()), 1 => json_value()];
    (
        (
            field("\"2400.00\""),
            field("2"),
            field("12.5"),
            field("\"35 %\""),
            field("false"),
            field("\"2021-01-31\""),
            field("\"2 weeks\""),
            field("\"low\""),
            field("\"ok\""),
        ),
        proptest::collection::vec(prop_oneof![4 => member().prop_map(|m| m), 1 => json_value()], 0..3),
        field("5"),
        field("\"2021-03-01\""),
        prop_oneof![Just(String::new()), Just("\"id\":7,".to_string()), Just("\"id\":{\"k\":[1]},".to_string())],
        0..6usize,
    )
        .prop_map(|((inc, size, hours, rate, urg, since, wait, tier, note), members, extra, date, id, shape)| {
            let h = format!(
                "{{\"income\":{inc},\"size\":{size},\"hours\":{hours},\"rate\":{rate},\"urgent\":{urg},\"since\":{since},\"wait\":{wait},\"tier\":{tier},\"note\":{note},\"members\":[{}]}}",
                members.join(",")
            );
            match shape {
                0 => format!("{{{id}\"h\":{h},\"extra\":{extra}}}"),
                1 => format!("{{{id}\"decision_date\":{date},\"h\":{h}}}"),
                2 => format!("{{\"decision_date\":{date},\"h\":{h},\"extra\":{extra},\"extra\":{extra}}}"),
                3 => format!("{{\"decision_date\":{date},\"h\":{h},\"extra\":{extra},\"other\":1}} "),
                4 => format!("[{h}]"),
                _ => format!("{{{id}\"decision_date\":{date},\"h\":{h},\"extra\":{extra}}}"),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Whatever the direct path accepts, the ordinary path accepts too and
    /// decodes to the very same values (scale of decimals included).
    #[test]
    fn direct_json_decoding_agrees_with_the_ordinary_path(text in case_text(), take_id in any::<bool>(), with_date in any::<bool>()) {
        let p = rulebook::check::check(EVERY_TYPE).program.expect("the rulebook checks");
        let date = with_date.then(|| NaiveDate::from_ymd_opt(2022, 6, 1).expect("a date"));
        if let Some((id, case)) = rulebook::cases::input::decode_case_json(&p, &text, date, take_id) {
            let mut doc: serde_json::Value = serde_json::from_str(&text).expect("the ordinary parse");
            let slow_id = if take_id { doc.as_object_mut().and_then(|m| m.shift_remove("id")) } else { None };
            let slow = rulebook::cases::input::decode_case(&p, &doc, date);
            prop_assert!(slow.is_ok(), "direct accepted, ordinary refused {text}: {slow:?}");
            let slow = slow.expect("checked");
            prop_assert_eq!(format!("{:?}", slow), format!("{:?}", case));
            prop_assert_eq!(slow_id, id);
        }
    }
}

/// The direct path is no dead branch: valid cases, numbers as numbers or
/// text, go through it.
#[test]
fn direct_json_decoding_takes_valid_cases() {
    let p = rulebook::check::check(EVERY_TYPE)
        .program
        .expect("the rulebook checks");
    for text in [
        "{\"decision_date\":\"2021-03-01\",\"h\":{\"income\":\"2400.00\",\"size\":2,\"hours\":12.5,\"rate\":\"35 %\",\"urgent\":false,\"since\":\"2021-01-31\",\"wait\":\"2 weeks\",\"tier\":\"low\",\"note\":\"ok\",\"members\":[{\"birth\":\"1980-05-01\",\"salary\":2000,\"share\":0.5}]},\"extra\":5}",
        "{\"id\":\"x\",\"extra\":5,\"h\":{\"members\":[],\"income\":2400,\"size\":2,\"hours\":\"12.5\",\"rate\":35,\"urgent\":true,\"since\":\"2021-01-31\",\"wait\":\"1 month\",\"tier\":\"high\",\"note\":\"\"},\"decision_date\":\"2021-03-01\"}",
    ] {
        let (id, case) = rulebook::cases::input::decode_case_json(&p, text, None, true)
            .unwrap_or_else(|| panic!("not taken: {text}"));
        let mut doc: serde_json::Value = serde_json::from_str(text).unwrap();
        let slow_id = doc.as_object_mut().unwrap().shift_remove("id");
        let slow = rulebook::cases::input::decode_case(&p, &doc, None).unwrap();
        assert_eq!(format!("{slow:?}"), format!("{case:?}"));
        assert_eq!(slow_id, id);
    }
}

// ---- comparing amounts --------------------------------------------------------

fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (-1_000_000_000i64..1_000_000_000, 0u32..12).prop_map(|(m, s)| Decimal::new(m, s)),
        (any::<i64>(), 0u32..29).prop_map(|(m, s)| Decimal::new(m, s)),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
            0u32..29
        )
            .prop_map(|(lo, mid, hi, neg, s)| Decimal::from_parts(lo, mid, hi, neg, s)),
        Just(Decimal::ZERO),
        Just(-Decimal::ZERO),
        Just(Decimal::MAX),
        Just(Decimal::MIN),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn comparing_amounts_is_decimal_order(a in amount(), b in amount()) {
        prop_assert_eq!(rulebook::ir::value::compare_amounts(&a, &b), a.cmp(&b), "{} {}", a, b);
    }

    /// Amounts near each other, written with different numbers of decimals.
    #[test]
    fn comparing_near_amounts_is_decimal_order(m in -1_000_000_000_000i64..1_000_000_000_000, scale in 0u32..12, k in 0u32..14, delta in -3i128..=3) {
        let a = Decimal::new(m, scale);
        let b = Decimal::from_i128_with_scale(m as i128 * 10i128.pow(k) + delta, scale + k);
        prop_assert_eq!(rulebook::ir::value::compare_amounts(&a, &b), a.cmp(&b), "{} {}", a, b);
        prop_assert_eq!(rulebook::ir::value::compare_amounts(&b, &a), b.cmp(&a), "{} {}", b, a);
    }
}
