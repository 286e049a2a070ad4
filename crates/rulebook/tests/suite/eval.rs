//! Evaluation tests: one or more per construct, with the edge cases where
//! rules usually go wrong (rounding at half a cent, leap-day birthdays,
//! month ends, empty lists, table boundaries).

use rulebook::cases::input::{decode_case, parse_document, Format};
use rulebook::check::check;
use rulebook::diagnostic::render::render_diagnostics;
use rulebook::eval::{decision_json, evaluate, interpret, Executable, Options, Scratch};
use serde_json::Value as J;

const HEADER: &str =
    "rulebook test.eval \"Evaluation tests\"\n  version 1\n  in force 2018-01-01\n\n";

fn program(body: &str) -> Executable {
    let text = format!("{HEADER}{body}");
    let checked = check(&text);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    match checked.program {
        Some(p) => Executable::new(p),
        None => panic!("{}", render_diagnostics("test", &text, &errors, false)),
    }
}

/// Evaluates `body` for the YAML case; returns the decision JSON or the error text.
fn run(body: &str, case: &str) -> Result<J, String> {
    let p = program(body);
    let doc = parse_document(case, Format::Yaml).map_err(|e| e.to_string())?;
    let case = decode_case(&p, &doc, None).map_err(|es| {
        es.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    // Every evaluation here is also decided without an explanation, by the
    // evaluation plan where the program has one, and must be the
    // interpreter's decision exactly (see tests/plan.rs).
    let plain = Options { explain: false };
    let planned = evaluate(&p, &case, &plain);
    let interpreted = interpret(&p, &case, &plain, &mut Scratch::default());
    assert_eq!(format!("{planned:?}"), format!("{interpreted:?}"));
    let d = evaluate(&p, &case, &Options { explain: true }).map_err(|e| {
        format!(
            "[{}] {e} (help: {})",
            e.code,
            e.help.clone().unwrap_or_default()
        )
    })?;
    Ok(decision_json(&p, &case, &d))
}

fn output(body: &str, case: &str, name: &str) -> J {
    let d = run(body, case).unwrap_or_else(|e| panic!("evaluation failed: {e}"));
    d["outputs"][name].clone()
}

fn out_str(body: &str, case: &str, name: &str) -> String {
    match output(body, case, name) {
        J::String(s) => s,
        other => other.to_string(),
    }
}

const AMOUNT: &str = "input x { amount: money }\n";

fn rounded(expr_suffix: &str, amount: &str) -> String {
    let body = format!("{AMOUNT}output r: money = x.amount {expr_suffix}\n");
    out_str(
        &body,
        &format!("decision_date: 2021-01-01\nx: {{ amount: \"{amount}\" }}"),
        "r",
    )
}

#[test]
fn rounding_half_a_cent_in_every_mode() {
    assert_eq!(rounded("rounded to cents", "0.005"), "0.01");
    assert_eq!(rounded("rounded to cents half up", "0.005"), "0.01");
    assert_eq!(rounded("rounded to cents half even", "0.005"), "0.00");
    assert_eq!(rounded("rounded to cents half even", "0.015"), "0.02");
    assert_eq!(rounded("rounded to cents down", "0.019"), "0.01");
    assert_eq!(rounded("rounded to cents up", "0.011"), "0.02");
    assert_eq!(rounded("rounded to cents", "-0.005"), "-0.01");
    assert_eq!(rounded("rounded to cents down", "-0.019"), "-0.01");
    assert_eq!(rounded("rounded to cents", "0.004999"), "0.00");
}

#[test]
fn rounding_to_euros_and_to_steps_of_cents() {
    assert_eq!(rounded("rounded to whole euros", "12.50"), "13.00");
    assert_eq!(
        rounded("rounded to whole euros half even", "12.50"),
        "12.00"
    );
    assert_eq!(rounded("rounded to 10 cents", "32.45"), "32.50");
    assert_eq!(rounded("rounded to 10 cents", "32.44"), "32.40");
    assert_eq!(rounded("rounded to 10 cents down", "8.49"), "8.40");
}

#[test]
fn money_times_percent_stays_exact_until_rounded() {
    // STM's worked example: max 25 €, limit 528 €, income 900 €, 35 % gives 22.83 €/h.
    let body = "input h { income: money }\n\
        output v: money = 25.00 € - (h.income - 528 €) * 35 % / 60 rounded to cents\n\
        output exact: money = 25.00 € - (h.income - 528 €) * 35 % / 60 rounded to 4 decimals\n";
    let case = "decision_date: 2021-01-01\nh: { income: 900 }";
    assert_eq!(out_str(body, case, "v"), "22.83");
    assert_eq!(out_str(body, case, "exact"), "22.83");
    let case = "decision_date: 2021-01-01\nh: { income: \"901\" }";
    // (373 × 0.35) / 60 = 2.17583…; 25 − 2.17583 = 22.824166…
    assert_eq!(out_str(body, case, "exact"), "22.8242");
}

const PERSON: &str = "input person { birth_date: date }\n";

#[test]
fn age_on_a_leap_day_birthday() {
    let body = format!(
        "{PERSON}output age: integer = years between person.birth_date and decision date\n"
    );
    let age = |date: &str| {
        output(
            &body,
            &format!("decision_date: {date}\nperson: {{ birth_date: 2004-02-29 }}"),
            "age",
        )
    };
    assert_eq!(age("2022-02-27"), J::from(17));
    assert_eq!(age("2022-02-28"), J::from(18));
    assert_eq!(age("2024-02-28"), J::from(19));
    assert_eq!(age("2024-02-29"), J::from(20));
    assert_eq!(age("2004-02-29"), J::from(0));
}

#[test]
fn adding_months_at_the_end_of_a_month() {
    let body = "input d { day: date }\n\
        output next_month: date = d.day + 1 month\n\
        output half_year: date = d.day + 6 months\n\
        output year_later: date = d.day + 1 year\n\
        output earlier: date = d.day - 1 month\n\
        output month_end: date = last_day_of_month(d.day)\n\
        output month_start: date = first_day_of_month(d.day)\n\
        output year_end: date = last_day_of_year(d.day)\n\
        output in_two_weeks: date = d.day + 2 weeks\n";
    let case = |day: &str| {
        run(
            body,
            &format!("decision_date: 2021-01-01\nd: {{ day: {day} }}"),
        )
        .unwrap()
    };
    let jan31 = case("2021-01-31");
    assert_eq!(jan31["outputs"]["next_month"], "2021-02-28");
    assert_eq!(jan31["outputs"]["half_year"], "2021-07-31");
    assert_eq!(jan31["outputs"]["month_end"], "2021-01-31");
    assert_eq!(jan31["outputs"]["in_two_weeks"], "2021-02-14");
    let leap = case("2024-01-31");
    assert_eq!(leap["outputs"]["next_month"], "2024-02-29");
    let feb29 = case("2024-02-29");
    assert_eq!(feb29["outputs"]["year_later"], "2025-02-28");
    assert_eq!(feb29["outputs"]["month_start"], "2024-02-01");
    assert_eq!(feb29["outputs"]["year_end"], "2024-12-31");
    let mar31 = case("2021-03-31");
    assert_eq!(mar31["outputs"]["earlier"], "2021-02-28");
}

#[test]
fn months_and_days_between() {
    let body = "input p { start: date, end: date }\n\
        output months: integer = months between p.start and p.end\n\
        output days: integer = days between p.start and p.end\n";
    let d = run(
        body,
        "decision_date: 2021-01-01\np: { start: 2021-01-31, end: 2021-02-28 }",
    )
    .unwrap();
    assert_eq!(d["outputs"]["months"], 1);
    assert_eq!(d["outputs"]["days"], 28);
    let d = run(
        body,
        "decision_date: 2021-01-01\np: { start: 2021-01-31, end: 2021-02-27 }",
    )
    .unwrap();
    assert_eq!(d["outputs"]["months"], 0);
    let d = run(
        body,
        "decision_date: 2021-01-01\np: { start: 2021-07-15, end: 2021-01-15 }",
    )
    .unwrap();
    assert_eq!(d["outputs"]["months"], -6);
    assert_eq!(d["outputs"]["days"], -181);
}

const HOUSEHOLD: &str = "record Member { income: money, adult: bool }\n\
    input household { members: list of Member }\n";

#[test]
fn aggregates_over_empty_and_filled_lists() {
    let body = format!(
        "{HOUSEHOLD}\
        output total: money = sum(m.income for m in household.members)\n\
        output adult_income: money = sum(m.income for m in household.members where m.adult)\n\
        output adults: integer = count(m in household.members where m.adult)\n\
        output everyone: integer = count(m in household.members)\n\
        output any_adult: bool = any(m in household.members where m.adult)\n\
        output all_adults: bool = all(m in household.members where m.adult)\n\
        output highest: money = max(m.income for m in household.members if empty 0 €)\n\
        output lowest_adult: money = min(m.income for m in household.members where m.adult if empty 0 €)\n"
    );
    let empty = run(
        &body,
        "decision_date: 2021-01-01\nhousehold: { members: [] }",
    )
    .unwrap();
    assert_eq!(empty["outputs"]["total"], "0.00");
    assert_eq!(empty["outputs"]["adults"], 0);
    assert_eq!(empty["outputs"]["any_adult"], false);
    assert_eq!(empty["outputs"]["all_adults"], true);
    assert_eq!(empty["outputs"]["highest"], "0.00");
    let two = run(
        &body,
        "decision_date: 2021-01-01\nhousehold:\n  members:\n    - { income: 1200.50, adult: true }\n    - { income: 300, adult: false }\n",
    )
    .unwrap();
    assert_eq!(two["outputs"]["total"], "1500.50");
    assert_eq!(two["outputs"]["adult_income"], "1200.50");
    assert_eq!(two["outputs"]["adults"], 1);
    assert_eq!(two["outputs"]["everyone"], 2);
    assert_eq!(two["outputs"]["any_adult"], true);
    assert_eq!(two["outputs"]["all_adults"], false);
    assert_eq!(two["outputs"]["highest"], "1200.50");
    assert_eq!(two["outputs"]["lowest_adult"], "1200.50");
}

#[test]
fn max_of_an_empty_list_without_a_default_is_an_error() {
    let body =
        format!("{HOUSEHOLD}output highest: money = max(m.income for m in household.members)\n");
    let err = run(
        &body,
        "decision_date: 2021-01-01\nhousehold: { members: [] }",
    )
    .unwrap_err();
    assert!(err.starts_with("[empty-list]"), "{err}");
    assert!(err.contains("highest"), "the error names the rule: {err}");
}

const FEE_TABLE: &str = "input person { age: integer 0 to 120 }\n\
    table fee(age: integer 0 to 120) -> money § 9\n\
      | age        | fee     |\n\
      | under 18   | 0.00 €  |\n\
      | 18 to 64   | 13.10 € |\n\
      | 65 or more | 10.00 € |\n\
    output f: money = fee(person.age)\n";

#[test]
fn table_range_boundaries() {
    let fee = |age: u32| {
        out_str(
            FEE_TABLE,
            &format!("decision_date: 2021-01-01\nperson: {{ age: {age} }}"),
            "f",
        )
    };
    assert_eq!(fee(0), "0.00");
    assert_eq!(fee(17), "0.00");
    assert_eq!(fee(18), "13.10");
    assert_eq!(fee(64), "13.10");
    assert_eq!(fee(65), "10.00");
    assert_eq!(fee(120), "10.00");
}

#[test]
fn open_and_closed_money_ranges() {
    let body = "input h { income: money 0 € or more }\n\
        table band(income: money 0 € or more) -> integer\n\
          | income               | band |\n\
          | 0 € to 900 €         | 1    |\n\
          | over 900 € to 1000 € | 2    |\n\
          | over 1000 €          | 3    |\n\
        output b: integer = band(h.income)\n";
    let band = |income: &str| {
        output(
            body,
            &format!("decision_date: 2021-01-01\nh: {{ income: \"{income}\" }}"),
            "b",
        )
    };
    assert_eq!(band("900.00"), J::from(1));
    assert_eq!(band("900.001"), J::from(2));
    assert_eq!(band("1000"), J::from(2));
    assert_eq!(band("1000.01"), J::from(3));
}

#[test]
fn hit_policies_first_and_collect() {
    let body = "enum Need { Low, Medium, High }\n\
        input c { need: Need, age: integer 0 to 120 }\n\
        table hours(need: Need, age: integer 0 to 120) -> integer, hit first\n\
          | need        | age        | hours |\n\
          | High        | -          | 40    |\n\
          | Low, Medium | 75 or more | 20    |\n\
          | -           | -          | 10    |\n\
        table bonus(need: Need, age: integer 0 to 120) -> money, hit collect sum\n\
          | need | age        | bonus  |\n\
          | High | -          | 50 €   |\n\
          | -    | 75 or more | 25 €   |\n\
        table matches(need: Need, age: integer 0 to 120) -> integer, hit collect count\n\
          | need | age        | rule |\n\
          | High | -          | 1    |\n\
          | -    | 75 or more | 1    |\n\
        table least(need: Need, age: integer 0 to 120) -> money, hit collect min\n\
          | need | age        | amount |\n\
          | -    | -          | 30 €   |\n\
          | High | -          | 20 €   |\n\
        output h: integer = hours(c.need, c.age)\n\
        output b: money = bonus(c.need, c.age)\n\
        output n: integer = matches(c.need, c.age)\n\
        output m: money = least(c.need, c.age)\n";
    let d = |need: &str, age: u32| {
        run(
            body,
            &format!("decision_date: 2021-01-01\nc: {{ need: {need}, age: {age} }}"),
        )
        .unwrap()
    };
    let high_old = d("High", 80);
    assert_eq!(high_old["outputs"]["h"], 40);
    assert_eq!(high_old["outputs"]["b"], "75.00");
    assert_eq!(high_old["outputs"]["n"], 2);
    assert_eq!(high_old["outputs"]["m"], "20.00");
    let medium_old = d("Medium", 75);
    assert_eq!(medium_old["outputs"]["h"], 20);
    assert_eq!(medium_old["outputs"]["b"], "25.00");
    assert_eq!(medium_old["outputs"]["m"], "30.00");
    let low_young = d("Low", 40);
    assert_eq!(low_young["outputs"]["h"], 10);
    assert_eq!(low_young["outputs"]["b"], "0.00");
    assert_eq!(low_young["outputs"]["n"], 0);
}

#[test]
fn single_amount_scale_service_housing_example() {
    // hel.fi: net 1 250 €, 120 €/day gives price 3 650 €, voucher 2 900 €, self-fee 750 €.
    let body = "input c { net_income: money 0 € or more, daily_price: money }\n\
        scale voucher(income: money) -> money, single amount\n\
          | over   | voucher |\n\
          | 0 €    | 3300 €  |\n\
          | 900 €  | 3200 €  |\n\
          | 1000 € | 3100 €  |\n\
          | 1100 € | 3000 €  |\n\
          | 1200 € | 2900 €  |\n\
          | 1300 € | 2800 €  |\n\
        output value: money = voucher(c.net_income)\n\
        output price: money = c.daily_price * 365 / 12 rounded to cents\n\
        output self_fee: money = max(0 €, price - value)\n";
    let d = |income: &str| {
        run(
            body,
            &format!(
                "decision_date: 2021-01-01\nc: {{ net_income: \"{income}\", daily_price: 120 }}"
            ),
        )
        .unwrap()
    };
    let example = d("1250");
    assert_eq!(
        example["outputs"]["value"],
        "3300.00".replace("3300", "2900")
    );
    assert_eq!(example["outputs"]["price"], "3650.00");
    assert_eq!(example["outputs"]["self_fee"], "750.00");
    assert_eq!(d("0")["outputs"]["value"], "3300.00");
    assert_eq!(d("900")["outputs"]["value"], "3300.00");
    assert_eq!(d("900.01")["outputs"]["value"], "3200.00");
    assert_eq!(d("5000")["outputs"]["value"], "2800.00");
}

#[test]
fn marginal_scale() {
    let body = "input p { income: money }\n\
        scale tax(income: money) -> money, marginal\n\
          | over   | rate |\n\
          | 0 €    | 0 %  |\n\
          | 1000 € | 10 % |\n\
          | 2000 € | 20 % |\n\
        output t: money = tax(p.income) rounded to cents\n";
    let t = |income: &str| {
        out_str(
            body,
            &format!("decision_date: 2021-01-01\np: {{ income: \"{income}\" }}"),
            "t",
        )
    };
    assert_eq!(t("500"), "0.00");
    assert_eq!(t("1000"), "0.00");
    assert_eq!(t("1500"), "50.00");
    assert_eq!(t("2500"), "200.00");
}

const OVERRIDES: &str = "input c { age: integer, veteran: bool, student: bool }\n\
    output fee: money = 13.10 € § 9\n\
      unless c.age < 18 then 0.00 €\n\
      unless c.student then 5.00 €\n\
      unless c.veteran then 1.00 € rank 2\n";

#[test]
fn overrides_by_rank() {
    let fee = |age: u32, veteran: bool, student: bool| {
        run(OVERRIDES, &format!("decision_date: 2021-01-01\nc: {{ age: {age}, veteran: {veteran}, student: {student} }}"))
    };
    assert_eq!(fee(40, false, false).unwrap()["outputs"]["fee"], "13.10");
    assert_eq!(fee(10, false, false).unwrap()["outputs"]["fee"], "0.00");
    assert_eq!(fee(40, false, true).unwrap()["outputs"]["fee"], "5.00");
    // The veteran override outranks the others.
    assert_eq!(fee(10, true, true).unwrap()["outputs"]["fee"], "1.00");
    // Two overrides of rank 1 apply at once: an error naming both.
    let err = fee(10, false, true).unwrap_err();
    assert!(err.starts_with("[conflicting-overrides]"), "{err}");
    assert!(
        err.contains("c.age < 18") && err.contains("c.student"),
        "{err}"
    );
    assert!(err.contains("fee"), "{err}");
}

const DATED: &str = "input v { visits: integer }\n\
    parameter dentist_fee: money § 9\n\
      = 13.10 € from 2018-01-01\n\
      = 13.30 € from 2022-01-01\n\
    output fees: money = dentist_fee * v.visits\n";

#[test]
fn dated_parameter_values() {
    let fees = |date: &str| run(DATED, &format!("decision_date: {date}\nv: {{ visits: 2 }}"));
    assert_eq!(fees("2021-12-31").unwrap()["outputs"]["fees"], "26.20");
    assert_eq!(fees("2022-01-01").unwrap()["outputs"]["fees"], "26.60");
    let err = fees("2017-12-31").unwrap_err();
    assert!(err.starts_with("[no-value-in-force]"), "{err}");
    assert!(
        err.contains("2018-01-01"),
        "the error lists the dates that exist: {err}"
    );
}

const ELIGIBILITY: &str = "enum Municipality { Hyvinkää, Järvenpää, Helsinki }\n\
    input client { birth_date: date, home: Municipality, student: bool }\n\
    let age = years between client.birth_date and decision date\n\
    eligibility\n\
      adult § 3.1: age >= 18 else \"Kokeilu koskee täysi-ikäisiä\"\n\
      not_student § 3.1: not client.student else \"Asiakas kuuluu opiskeluterveydenhuoltoon\"\n\
      resident § 3.2: client.home in [Hyvinkää, Järvenpää] else \"Ei kokeilukunnan asukas\"\n\
    output one: integer = 1\n";

#[test]
fn every_failed_criterion_is_listed() {
    let d = run(
        ELIGIBILITY,
        "decision_date: 2019-03-01\nclient: { birth_date: 2005-01-01, home: Helsinki, student: true }",
    )
    .unwrap();
    assert_eq!(d["eligible"], false);
    let failed: Vec<&str> = d["failed_criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["adult", "not_student", "resident"]);
    assert_eq!(d["failed_criteria"][2]["section"], "3.2");
    assert_eq!(d["failed_criteria"][2]["reason"], "Ei kokeilukunnan asukas");
    assert_eq!(
        d["outputs"],
        serde_json::json!({}),
        "no outputs for an ineligible case"
    );
    let ok = run(
        ELIGIBILITY,
        "decision_date: 2019-03-01\nclient: { birth_date: 1980-05-01, home: Järvenpää, student: false }",
    )
    .unwrap();
    assert_eq!(ok["eligible"], true);
    assert_eq!(ok["outputs"]["one"], 1);
}

#[test]
fn functions_enums_and_membership() {
    let body = "enum Professional { Hygienist, Dentist, Specialist }\n\
        input visit { by: Professional, count: integer }\n\
        function visit_fee(p: Professional) -> money =\n\
          if p = Hygienist then 10.20 € else if p = Dentist then 13.10 € else 19.20 €\n\
        output total: money = visit_fee(visit.by) * visit.count\n\
        output by_doctor: bool = visit.by not in [Hygienist]\n\
        output qualified: bool = visit.by = Professional.Specialist\n";
    let d = run(
        body,
        "decision_date: 2021-01-01\nvisit: { by: Specialist, count: 3 }",
    )
    .unwrap();
    assert_eq!(d["outputs"]["total"], "57.60");
    assert_eq!(d["outputs"]["by_doctor"], true);
    assert_eq!(d["outputs"]["qualified"], true);
}

#[test]
fn division_by_zero_names_the_rule() {
    let body = "input h { income: money, persons: integer }\n\
        output per_person: money = h.income / h.persons rounded to cents\n";
    let err = run(
        body,
        "decision_date: 2021-01-01\nh: { income: 100, persons: 0 }",
    )
    .unwrap_err();
    assert!(err.starts_with("[division-by-zero]"), "{err}");
    assert!(err.contains("per_person"), "{err}");
    let ok = run(
        body,
        "decision_date: 2021-01-01\nh: { income: 100, persons: 3 }",
    )
    .unwrap();
    assert_eq!(ok["outputs"]["per_person"], "33.33");
}

#[test]
fn explanation_cites_sections_and_shows_the_arithmetic() {
    let body = "input client { level: integer 1 to 3 }\n\
        parameter target = 290.00 € § 6\n\
        parameter capitation_share = 50 % § 6\n\
        table coefficient(level: integer 1 to 3) -> decimal § 6.2\n\
          | level | coefficient |\n\
          | 1     | 0.60        |\n\
          | 2     | 1.00        |\n\
          | 3     | 2.00        |\n\
        output annual: money = target * capitation_share * coefficient(client.level) rounded to cents § 6.1\n";
    let d = run(body, "decision_date: 2019-03-01\nclient: { level: 2 }").unwrap();
    let e = &d["explanation"][0];
    assert_eq!(e["output"], "annual");
    assert_eq!(e["section"], "6.1");
    assert_eq!(e["value"], "145.00 €");
    let steps: Vec<&str> = e["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        steps[0].contains("290.00 € × 50 % × 1 rounded to cents = 145.00 €"),
        "{steps:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("target = 290.00 € (§ 6)")),
        "{steps:?}"
    );
    assert!(
        steps.iter().any(|s| s.contains("coefficient(2) = 1")
            && s.contains("row 2")
            && s.contains("§ 6.2")),
        "{steps:?}"
    );
}

#[test]
fn input_errors_name_the_field_path() {
    let body = "enum Municipality { Hyvinkää, Järvenpää }\n\
        record Member { birth_date: date, income: money }\n\
        input household { home: Municipality, size: integer 1 to 8, members: list of Member }\n\
        output n: integer = household.size\n";
    let err = run(
        body,
        "decision_date: 2021-01-01\nhousehold:\n  home: Hyvinka\n  size: 9\n  members:\n    - { birth_date: 1980-02-30, income: 100 }\n    - { birth_date: 1980-01-01, incme: 5 }\n  extra: 1\n",
    )
    .unwrap_err();
    assert!(
        err.contains("household.home: expected one of the values of Municipality")
            && err.contains("did you mean \"Hyvinkää\"?"),
        "{err}"
    );
    assert!(
        err.contains("household.size: 9 is outside the allowed range: 1 to 8"),
        "{err}"
    );
    assert!(
        err.contains("household.members[0].birth_date: expected a date"),
        "{err}"
    );
    assert!(
        err.contains("household.members[1].incme: Member has no field `incme`")
            && err.contains("did you mean `income`?"),
        "{err}"
    );
    assert!(
        err.contains("household.members[1].income: the field `income` is missing"),
        "{err}"
    );
    assert!(
        err.contains("household.extra: household has no field `extra`"),
        "{err}"
    );
    let err = run(
        body,
        "decision_date: 2021-01-01\nhousehold: { home: Hyvinkää, size: many, members: [] }",
    )
    .unwrap_err();
    assert!(
        err.contains("household.size: expected a whole number, found the text \"many\""),
        "{err}"
    );
    let err = run(body, "household: { home: Hyvinkää, size: 2, members: [] }").unwrap_err();
    assert!(err.contains("decision_date: no decision date"), "{err}");
    let err = run(body, "decision_date: 2021-01-01\nhouse: {}").unwrap_err();
    assert!(
        err.contains("house: the rulebook has no input `house`")
            && err.contains("did you mean `household`?"),
        "{err}"
    );
}

#[test]
fn json_numbers_keep_every_digit() {
    let p = program(&format!("{AMOUNT}output r: money = x.amount * 3\n"));
    let doc = parse_document(
        "{\"decision_date\": \"2021-01-01\", \"x\": {\"amount\": 0.1000000000000000000001}}",
        Format::Json,
    )
    .unwrap();
    let case = decode_case(&p, &doc, None).unwrap();
    let d = evaluate(&p, &case, &Options { explain: false }).unwrap();
    assert_eq!(
        decision_json(&p, &case, &d)["outputs"]["r"],
        "0.3000000000000000000003"
    );
}

#[test]
fn durations_compare_and_add() {
    let body = "input c { listed_on: date }\n\
        let listing = months between c.listed_on and decision date\n\
        output may_change_provider: bool = c.listed_on + 6 months <= decision date\n\
        output months_listed: integer = listing\n";
    let d = run(
        body,
        "decision_date: 2019-07-31\nc: { listed_on: 2019-01-31 }",
    )
    .unwrap();
    assert_eq!(d["outputs"]["may_change_provider"], true);
    assert_eq!(d["outputs"]["months_listed"], 6);
    let d = run(
        body,
        "decision_date: 2019-07-30\nc: { listed_on: 2019-01-31 }",
    )
    .unwrap();
    assert_eq!(d["outputs"]["may_change_provider"], false);
    assert_eq!(d["outputs"]["months_listed"], 5);
}

/// The OpenFisca country template encoded as a rulebook passes every test
/// converted from the template's own YAML tests (bench/openfisca).
#[test]
fn openfisca_country_template_passes_its_converted_tests() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../..",
        "/bench/openfisca/country_template.rulebook"
    ))
    .unwrap();
    let checked = check(&text);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    assert!(
        errors.is_empty(),
        "{}",
        render_diagnostics("country_template", &text, &errors, false)
    );
    let p = Executable::new(checked.program.unwrap());
    let results = rulebook::ops::examples::run_examples(&p);
    assert_eq!(results.len(), 47, "the converter wrote 47 examples");
    let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    // A tolerance is honoured, not ignored: the exact value is a third of a
    // cent off the published 3258.33.
    let couple = results
        .iter()
        .find(|r| r.name.starts_with("Couple earning 2500"))
        .unwrap();
    assert!(couple.passed());
    let moved = text.replace(
        "expect disposable_income = 3258.33 € within 0.01 €",
        "expect disposable_income = 3258.33 € within 0.003 €",
    );
    let p = Executable::new(check(&moved).program.unwrap());
    let strict = rulebook::ops::examples::run_examples(&p);
    let couple = strict
        .iter()
        .find(|r| r.name.starts_with("Couple earning 2500"))
        .unwrap();
    assert_eq!(
        couple.failures,
        vec!["expected disposable_income = 3258.33 € within 0.003 €, got 3258.3333333333333333333333333 €"]
    );
}

/// The batch writer's records equal the decision JSON, byte for byte, for
/// every kind of output and every example of the bundled rulebooks.
#[test]
fn batch_records_are_the_decision_json() {
    use rulebook::cases::batch::{jsonl_record, write_jsonl, Decided, Outcome};
    use rulebook::eval::Case;
    let mut texts = vec![format!(
        "{HEADER}enum Tier {{ low, high }}\n\
         input h {{ income: money, rate: percent, birth: date, size: integer, note: text }}\n\
         output money_out: money = h.income * 2\n\
         output percent_out: percent = h.rate\n\
         output decimal_out: decimal = h.size / 3\n\
         output integer_out: integer = h.size\n\
         output bool_out: boolean = h.size > 2\n\
         output date_out: date = h.birth\n\
         output tier: Tier = if h.size > 2 then high else low\n\
         output text_out: text = h.note\n\
         output list_out: list of money = [h.income, 1 €]\n\
         example \"one\"\n  on 2021-01-01\n  given h {{ income: 10.5 €, rate: 12.5 %, birth: 2000-02-29, size: 3, note: \"a \\\"quoted\\\" note\" }}\n  expect integer_out = 3\n"
    )];
    for f in crate::files_below(&["bench/openfisca", "rulebooks"]) {
        texts.push(std::fs::read_to_string(f).unwrap());
    }
    let mut compared = 0;
    for (i, text) in texts.iter().enumerate() {
        let checked = check(text);
        assert!(
            i > 0 || checked.diagnostics.iter().all(|d| !d.is_error()),
            "{:?}",
            checked.diagnostics
        );
        let Some(p) = checked.program.map(Executable::new) else {
            continue; // an amending version: checked with its base elsewhere
        };
        for ex in &p.examples {
            let case = Case {
                decision_date: ex.date,
                inputs: ex.inputs.clone(),
            };
            let Ok(decision) = evaluate(&p, &case, &Options { explain: false }) else {
                continue;
            };
            let d = Decided {
                id: Some(serde_json::json!({"n": compared})),
                outcome: Outcome::Decided {
                    program: &p,
                    case,
                    decision,
                },
            };
            let mut fast = Vec::new();
            write_jsonl(&mut fast, 1, &d);
            let want = serde_json::to_string(&jsonl_record(1, &d)).unwrap() + "\n";
            assert_eq!(String::from_utf8(fast).unwrap(), want, "{}", ex.name);
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} examples compared");
}

/// A unique table too large to analyse while checking (more than
/// `tables::MAX_COMBINATIONS` combinations of cell values) is checked for
/// overlaps at evaluation instead: the error names the first two rows that
/// match, and a case that only one row matches is decided.
#[test]
fn overlapping_rows_of_an_unanalysed_unique_table_are_an_evaluation_error() {
    let mut rows = String::new();
    for i in 0..70 {
        rows.push_str(&format!("  | {i} | {i} | {i} | {i} |\n"));
    }
    rows.push_str("  | - | - | 5 | 100 |\n");
    let body = format!(
        "input x {{ a: integer, b: integer, c: integer }}\n\
         table t(a: integer, b: integer, c: integer) -> integer\n  source \"illustrative\"\n  | a | b | c | r |\n{rows}\n\
         output r: integer = t(x.a, x.b, x.c)\n  source \"illustrative\"\n"
    );
    let err = run(&body, "decision_date: 2021-01-01\nx: { a: 5, b: 5, c: 5 }").unwrap_err();
    assert!(err.starts_with("[rows-overlap]"), "{err}");
    assert!(
        err.contains("rows 6 and 71 of unique table `t` both match a = 5, b = 5, c = 5"),
        "{err}"
    );
    assert_eq!(
        out_str(
            &body,
            "decision_date: 2021-01-01\nx: { a: 7, b: 7, c: 7 }",
            "r"
        ),
        "7"
    );
    let err = run(&body, "decision_date: 2021-01-01\nx: { a: 7, b: 8, c: 7 }").unwrap_err();
    assert!(err.starts_with("[no-row-matched]"), "{err}");
}

/// An aggregate inside a call's argument binds its element in the caller's
/// frame; the arguments before it must survive that.
#[test]
fn a_call_whose_later_argument_is_an_aggregate_keeps_its_earlier_arguments() {
    let body = "input x { a: integer, list: list of integer }\n\
        function f(a: integer, b: integer) -> integer = a * 100 + b\n  source \"illustrative\"\n\
        table t(a: integer, b: integer) -> integer\n  source \"illustrative\"\n  | a | b | r |\n  | - | - | a * 1000 + b |\n\n\
        output computed_first: integer = f(x.a + 1, sum(v for v in x.list))\n  source \"illustrative\"\n\
        output input_first: integer = f(x.a, sum(v for v in x.list))\n  source \"illustrative\"\n\
        output in_a_table: integer = t(x.a * 2, count(v in x.list where v > 1))\n  source \"illustrative\"\n\
        output nested: integer = sum(f(v, sum(w for w in x.list)) for v in x.list)\n  source \"illustrative\"\n";
    let case = "decision_date: 2021-01-01\nx: { a: 3, list: [1, 2] }";
    assert_eq!(out_str(body, case, "computed_first"), "403");
    assert_eq!(out_str(body, case, "input_first"), "303");
    assert_eq!(out_str(body, case, "in_a_table"), "6001");
    // f(1, 3) + f(2, 3) = 103 + 203
    assert_eq!(out_str(body, case, "nested"), "306");
}

/// A function of one part of the inputs is computed once per case and part:
/// each member, and each of two inputs of one record type, gets its own value,
/// and a scratch reused for the next case remembers nothing of the last.
#[test]
fn a_function_of_a_member_is_computed_for_each_member_and_case() {
    let body = "record Person { income: money }\n\
        input a { p: Person, members: list of Person }\n\
        input b { p: Person }\n\
        function fee_of(p: Person) -> money = p.income * 10 %\n  source \"illustrative\"\n\
        output total: money = sum(fee_of(m) for m in a.members) + sum(fee_of(m) * 2 for m in a.members)\n  source \"illustrative\"\n\
        output a_fee: money = fee_of(a.p)\n  source \"illustrative\"\n\
        output b_fee: money = fee_of(b.p)\n  source \"illustrative\"\n";
    let p = program(body);
    let case = |a: &str, m1: &str, m2: &str, b: &str| {
        let doc = parse_document(
            &format!(
                "decision_date: 2021-01-01\na: {{ p: {{ income: {a} }}, members: [{{ income: {m1} }}, {{ income: {m2} }}] }}\nb: {{ p: {{ income: {b} }} }}"
            ),
            Format::Yaml,
        )
        .unwrap();
        decode_case(&p, &doc, None).unwrap()
    };
    let mut scratch = rulebook::eval::Scratch::default();
    let options = Options { explain: false };
    for (a, m1, m2, b, total, a_fee, b_fee) in [
        ("100", "1000", "2000", "300", "900.00", "10.00", "30.00"),
        ("200", "3000", "500", "400", "1050.00", "20.00", "40.00"),
    ] {
        let c = case(a, m1, m2, b);
        let d = rulebook::eval::evaluate_with(&p, &c, &options, &mut scratch).unwrap();
        let j = decision_json(&p, &c, &d);
        assert_eq!(j["outputs"]["total"].as_str(), Some(total), "{j}");
        assert_eq!(j["outputs"]["a_fee"].as_str(), Some(a_fee), "{j}");
        assert_eq!(j["outputs"]["b_fee"].as_str(), Some(b_fee), "{j}");
    }
}

/// A table of 60 income bands, each of the three household sizes in a
/// row of its own, and a last row for incomes above the bands: large
/// enough to be evaluated through its row index. `first` puts a row before
/// the bands that shadows some of them, and a catch-all row after them.
fn banded_table(first: bool) -> String {
    let hit = if first { ", hit first" } else { "" };
    let mut t = format!(
        "input income: money 0 € or more\ninput size: integer 1 to 3\n\n\
         table band(income: money 0 € or more, size: integer 1 to 3) -> money{hit}\n  | income | size | value |\n",
    );
    if first {
        t.push_str("  | 2950 € to 3050 € | 2 | 0 € |\n");
    }
    for i in 0..60 {
        for size in 1..=3 {
            let (low, high) = (i * 100, (i + 1) * 100);
            let low = if i == 0 {
                "0 €".to_string()
            } else {
                format!("over {low} €")
            };
            t.push_str(&format!(
                "  | {low} to {high} € | {size} | {} € |\n",
                i * 10 + size
            ));
        }
    }
    t.push_str("  | over 6000 € | - | 1 € |\n");
    if first {
        t.push_str("  | - | - | 2 € |\n");
    }
    t.push_str("\noutput value: money = band(income, size)\n");
    t
}

fn band_case(income: &str, size: u32) -> String {
    format!("decision_date: 2021-01-01\nincome: \"{income}\"\nsize: {size}\n")
}

#[test]
fn a_large_table_finds_its_rows_at_every_boundary() {
    let body = banded_table(false);
    for (income, size, want) in [
        ("0", 1, "1.00"),
        ("100", 3, "3.00"),
        ("100.01", 3, "13.00"),
        ("2999.99", 2, "292.00"),
        ("3000", 2, "292.00"),
        ("3000.01", 2, "302.00"),
        ("6000", 1, "591.00"),
        ("6000.01", 3, "1.00"),
        ("99999", 2, "1.00"),
    ] {
        let got = out_str(&body, &band_case(income, size), "value");
        assert_eq!(got, want, "{income} € size {size}");
    }
}

#[test]
fn a_large_first_hit_table_takes_the_first_matching_row() {
    let body = banded_table(true);
    for (income, size, want) in [
        // The row before the bands shadows them for size 2 only.
        ("2950", 2, "0.00"),
        ("3050", 2, "0.00"),
        ("2950", 3, "293.00"),
        ("3050.01", 2, "302.00"),
        ("7000", 2, "1.00"),
    ] {
        let got = out_str(&body, &band_case(income, size), "value");
        assert_eq!(got, want, "{income} € size {size}");
    }
}

/// `expect error "TEXT"` compares the error with TEXT. It used to compare
/// with "rro" (the keyword `error` with its ends cut off, read as if it were
/// the quoted text), so it passed only for messages containing "rro".
#[test]
fn expect_error_compares_the_message_it_names() {
    let rb = |expected: &str| {
        format!(
            "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\ninput h {{ a: integer }}\noutput o: decimal = 1 / h.a\n\nexample \"none\"\n  on 2021-06-01\n  given h {{ a: 0 }}\n  expect error {expected}\n"
        )
    };
    let run = |text: &str| {
        let checked = check(text);
        let p = Executable::new(checked.program.expect("it checks"));
        rulebook::ops::examples::run_examples(&p)
    };
    // The division-by-zero message names the division; it has no "rro".
    let passed = run(&rb("\"division by zero\""));
    assert!(passed[0].passed(), "{:?}", passed[0].failures);
    let failed = run(&rb("\"no row matched\""));
    assert!(!failed[0].passed());
    assert!(
        failed[0]
            .failures
            .iter()
            .any(|f| f.contains("no row matched")),
        "{:?}",
        failed[0].failures
    );
    // Without a text, any error is expected.
    let any = run(&rb(""));
    assert!(any[0].passed(), "{:?}", any[0].failures);
}

/// A citation written after an exception is the exception's: it no longer
/// replaces the definition's own `§`.
#[test]
fn an_exception_cites_its_own_section() {
    let text = "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\ninput h { flag: bool }\n\noutput rate: percent = 20 % § 2\n  unless h.flag then 15 % § 3\n";
    let p = Executable::new(check(text).program.expect("it checks"));
    let explained = |flag: bool| {
        let case = rulebook::eval::Case {
            decision_date: chrono::NaiveDate::from_ymd_opt(2021, 6, 1).unwrap(),
            inputs: vec![rulebook::ir::value::Value::Record(std::sync::Arc::from(
                vec![rulebook::ir::value::Value::Bool(flag)],
            ))],
        };
        let d = evaluate(&p, &case, &Options { explain: true }).unwrap();
        decision_json(&p, &case, &d)["explanation"][0].clone()
    };
    assert_eq!(explained(false)["section"], "2");
    assert_eq!(explained(true)["section"], "3");
}

/// A case for a rulebook without inputs names what to do, not "the inputs
/// are" followed by nothing.
#[test]
fn the_help_for_a_rulebook_without_inputs_says_so() {
    let text = "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\noutput o: integer = 1\n";
    let p = check(text).program.expect("it checks");
    let doc = serde_json::json!({ "decision_date": "2021-06-01", "x": 1 });
    let errors = rulebook::cases::input::decode_case(&p, &doc, None).unwrap_err();
    let help = errors[0].help.clone().unwrap_or_default();
    assert!(help.contains("has no inputs"), "{help}");
}

/// A case that is not eligible is explained when an explanation is asked
/// for: each failed criterion with the values it compared, the facts of the
/// case it read, and how each value it used was reached.
#[test]
fn a_failed_criterion_is_explained_with_its_facts() {
    let text = "rulebook t.x \"X\"\n  version 1\n  in force 2021-01-01\n\ninput client { birth_date: date, resident: bool }\n\nlet age = years between client.birth_date and decision date\n\neligibility\n  adult: age >= 18 else \"under 18\"\n  lives_here: client.resident else \"not a resident\"\n\noutput o: integer = 1\n";
    let p = Executable::new(check(text).program.expect("it checks"));
    let case = rulebook::eval::Case {
        decision_date: chrono::NaiveDate::from_ymd_opt(2021, 6, 1).unwrap(),
        inputs: vec![rulebook::ir::value::Value::Record(std::sync::Arc::from(
            vec![
                rulebook::ir::value::Value::Date(
                    chrono::NaiveDate::from_ymd_opt(2005, 1, 1).unwrap(),
                ),
                rulebook::ir::value::Value::Bool(false),
            ],
        ))],
    };
    let d = evaluate(&p, &case, &Options { explain: true }).unwrap();
    let why = decision_json(&p, &case, &d)["criteria_explanation"].clone();
    assert_eq!(why[0]["criterion"], "adult");
    assert_eq!(why[0]["steps"][0], "adult: 16 ≥ 18 is false");
    assert!(why[0]["steps"][1]
        .as_str()
        .unwrap()
        .starts_with("age = years between"));
    assert_eq!(why[1]["steps"][0], "lives_here: false is false");
    assert_eq!(
        why[1]["steps"][1],
        "client.resident = false (from the case)"
    );
    // Without an explanation asked for, none is given.
    let plain = evaluate(&p, &case, &Options { explain: false }).unwrap();
    assert!(decision_json(&p, &case, &plain)
        .get("criteria_explanation")
        .is_none());
}

const TWO_WAY: &str =
    "enum Group { I, II, III }\ninput h { size: integer 1 or more, group: Group }\n\
table max_cost(size: integer 1 or more, group: Group) -> money\n\
  | size \\ group | I     | II    | III   |\n\
  | 1            | 508 € | 492 € | 411 € |\n\
  | 2 or more    | 735 € | 706 € | 600 € |\n\
output cost: money = max_cost(h.size, h.group)\n";

/// A two-way table is the table of one row per cell: each size and group
/// finds its own cell, and a column given before the rows' input reads the
/// same.
#[test]
fn a_two_way_table_finds_the_cell_of_its_row_and_column() {
    let case = |size: u32, group: &str| {
        format!("decision_date: 2021-01-01\nh: {{ size: {size}, group: {group} }}")
    };
    assert_eq!(out_str(TWO_WAY, &case(1, "I"), "cost"), "508.00");
    assert_eq!(out_str(TWO_WAY, &case(1, "III"), "cost"), "411.00");
    assert_eq!(out_str(TWO_WAY, &case(7, "II"), "cost"), "706.00");
    let turned = TWO_WAY
        .replace(
            "size \\ group | I     | II    | III   |",
            "group \\ size | 1     | 2 or more |",
        )
        .replace(
            "| 1            | 508 € | 492 € | 411 € |",
            "| I | 508 € | 735 € |\n  | II | 492 € | 706 € |",
        )
        .replace(
            "| 2 or more    | 735 € | 706 € | 600 € |",
            "| III | 411 € | 600 € |",
        );
    assert_eq!(out_str(&turned, &case(1, "III"), "cost"), "411.00");
    assert_eq!(out_str(&turned, &case(7, "II"), "cost"), "706.00");
}

#[test]
fn a_two_way_table_with_a_missing_cell_is_a_gap_and_a_short_row_is_named() {
    let short = TWO_WAY.replace(
        "| 2 or more    | 735 € | 706 € | 600 € |",
        "| 2 or more    | 735 € | 706 € |",
    );
    let checked = check(&format!("{HEADER}{short}"));
    let messages: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m
                .contains("this row has 3 cells, but the two-way table `max_cost` has 4 columns")),
        "{messages:#?}"
    );
    let gap = TWO_WAY.replace("| 2 or more    |", "| 2            |");
    let checked = check(&format!("{HEADER}{gap}"));
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.message == "no row of `max_cost` matches size = 3, group = I"),
        "{:#?}",
        checked.diagnostics
    );
}

const PRIORITY: &str =
    "enum Decision { Refused, Reduced, Granted }\ninput a { income: money, assets: money }\n\
table decision(income: money, assets: money) -> Decision, hit priority\n\
  | income      | assets       | decision |\n\
  | over 3000 € | -            | Refused  |\n\
  | -           | over 50000 € | Refused  |\n\
  | over 2000 € | -            | Reduced  |\n\
  | -           | -            | Granted  |\n\
table reasons(income: money, assets: money) -> Decision, hit output order\n\
  | income      | assets       | decision |\n\
  | -           | -            | Granted  |\n\
  | over 2000 € | -            | Reduced  |\n\
  | -           | over 50000 € | Refused  |\n\
output d: Decision = decision(a.income, a.assets)\n\
output all: list of Decision = reasons(a.income, a.assets)\n";

/// `hit priority`: the enum's order decides among the rows that match;
/// `hit output order`: every match, in that order.
#[test]
fn priority_tables_rank_matches_by_the_enums_order() {
    let case = |income: &str, assets: &str| {
        format!("decision_date: 2021-01-01\na: {{ income: \"{income}\", assets: \"{assets}\" }}")
    };
    assert_eq!(out_str(PRIORITY, &case("1000", "0"), "d"), "Granted");
    assert_eq!(out_str(PRIORITY, &case("2500", "0"), "d"), "Reduced");
    assert_eq!(out_str(PRIORITY, &case("2500", "60000"), "d"), "Refused");
    assert_eq!(
        out_str(PRIORITY, &case("2500", "60000"), "all"),
        r#"["Refused","Reduced","Granted"]"#
    );
    assert_eq!(
        out_str(PRIORITY, &case("100", "0"), "all"),
        r#"["Granted"]"#
    );
    let not_enum = "input a { x: integer }\ntable t(x: integer) -> integer, hit priority\n  | x | r |\n  | - | 1 |\noutput o: integer = t(a.x)\n";
    let checked = check(&format!("{HEADER}{not_enum}"));
    assert!(
        checked.diagnostics.iter().any(|d| d
            .message
            .contains("`hit priority` ranks results by their enum's order")),
        "{:#?}",
        checked.diagnostics
    );
}

/// A threshold the law sets once is a parameter, and a cell may name it;
/// one that changes by date cannot stand in a cell.
#[test]
fn a_table_cell_may_name_a_parameter_with_one_value() {
    let body = "parameter adult_age = 18\ninput p { age: integer 0 or more }\n\
table fee(age: integer 0 or more) -> money\n\
  | age                    | fee    |\n\
  | under adult_age        | 0 €    |\n\
  | adult_age or more      | 20 €   |\n\
output f: money = fee(p.age)\n";
    let case = |age: u32| format!("decision_date: 2021-01-01\np: {{ age: {age} }}");
    assert_eq!(out_str(body, &case(17), "f"), "0.00");
    assert_eq!(out_str(body, &case(18), "f"), "20.00");
    let dated = body.replace(
        "parameter adult_age = 18",
        "parameter adult_age\n  = 18 from 2018-01-01\n  = 19 from 2022-01-01",
    );
    let checked = check(&format!("{HEADER}{dated}"));
    assert!(
        checked.diagnostics.iter().any(|d| d
            .message
            .contains("parameter `adult_age` has values that change by date")),
        "{:#?}",
        checked.diagnostics
    );
}

/// A cell of several ranges (`under 18 or 65 or more`) matches a value in
/// any of them, and the analysis sees each range.
#[test]
fn a_cell_may_join_ranges_with_or() {
    let body = "input p { age: integer 0 or more }\n\
table fee(age: integer 0 or more) -> money\n\
  | age                  | fee    |\n\
  | under 18 or 65 or more | 0 €  |\n\
  | 18 to 64             | 20 €   |\n\
output f: money = fee(p.age)\n";
    let case = |age: u32| format!("decision_date: 2021-01-01\np: {{ age: {age} }}");
    assert_eq!(out_str(body, &case(17), "f"), "0.00");
    assert_eq!(out_str(body, &case(18), "f"), "20.00");
    assert_eq!(out_str(body, &case(64), "f"), "20.00");
    assert_eq!(out_str(body, &case(65), "f"), "0.00");
    let gap = body.replace("under 18 or 65 or more", "under 18 or 66 or more");
    let checked = check(&format!("{HEADER}{gap}"));
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.message == "no row of `fee` matches age = 65"),
        "{:#?}",
        checked.diagnostics
    );
    let overlap = body.replace("under 18 or 65 or more", "under 18 or 60 or more");
    let checked = check(&format!("{HEADER}{overlap}"));
    assert!(
        checked.diagnostics.iter().any(|d| d
            .message
            .starts_with("rows 1 and 2 of `fee` both match age = 6")),
        "{:#?}",
        checked.diagnostics
    );
}

/// A table with several results gives a record of them; each column is
/// typed against its declared result.
#[test]
fn a_table_with_several_results_gives_each_by_name() {
    let body =
        "enum Who { Hygienist, Dentist }\ninput v { who: Who, procedures: integer 0 or more }\n\
table fees(who: Who) -> (visit: money, per_procedure: money)\n\
  | who       | visit   | per_procedure |\n\
  | Hygienist | 10.30 € | 8.50 €        |\n\
  | Dentist   | 13.30 € | 19.20 €       |\n\
output total: money = fees(v.who).visit + fees(v.who).per_procedure * v.procedures\n";
    let case = "decision_date: 2021-01-01\nv: { who: Dentist, procedures: 2 }";
    assert_eq!(out_str(body, case, "total"), "51.70");
    let wrong = body.replace("| 13.30 € | 19.20 €       |", "| 13.30 € | true          |");
    let checked = check(&format!("{HEADER}{wrong}"));
    assert!(
        checked.diagnostics.iter().any(|d| d
            .message
            .contains("the result `per_procedure` should be money")),
        "{:#?}",
        checked.diagnostics
    );
}

const TREE: &str = "input client { student: bool, disabled: bool, veteran: bool }\n\
output rate: percent = 20 %\n\
  unless client.student then 15 % as student_rate\n\
  unless client.student and client.disabled then 10 % over student_rate\n\
  unless client.veteran then 12 %\n";

/// An exception to an exception wins over it; exceptions in different
/// branches that both apply are a conflict that names both.
#[test]
fn exceptions_form_a_tree_and_unordered_branches_conflict() {
    let case = |s: bool, d: bool, v: bool| {
        format!(
            "decision_date: 2021-01-01\nclient: {{ student: {s}, disabled: {d}, veteran: {v} }}"
        )
    };
    assert_eq!(out_str(TREE, &case(false, false, false), "rate"), "20 %");
    assert_eq!(out_str(TREE, &case(true, false, false), "rate"), "15 %");
    assert_eq!(out_str(TREE, &case(true, true, false), "rate"), "10 %");
    assert_eq!(out_str(TREE, &case(false, false, true), "rate"), "12 %");
    let err = run(TREE, &case(true, false, true)).unwrap_err();
    assert!(err.starts_with("[conflicting-overrides]"), "{err}");
    assert!(
        err.contains("`unless client.student` and `unless client.veteran`"),
        "{err}"
    );
    assert!(err.contains("`over NAME`"), "{err}");
    // The disabled student's exception is over the student's, not the
    // veteran's: a disabled veteran student is a conflict too.
    let err = run(TREE, &case(true, true, true)).unwrap_err();
    assert!(err.contains("client.student and client.disabled"), "{err}");
}

#[test]
fn over_an_unknown_exception_or_in_a_circle_is_an_error() {
    let unknown = TREE.replace("over student_rate", "over studnet_rate");
    let checked = check(&format!("{HEADER}{unknown}"));
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.message == "`rate` has no exception named `studnet_rate`"),
        "{:#?}",
        checked.diagnostics
    );
    let circle = TREE
        .replace(
            "then 15 % as student_rate",
            "then 15 % as student_rate over disabled_rate",
        )
        .replace(
            "then 10 % over student_rate",
            "then 10 % as disabled_rate over student_rate",
        );
    let checked = check(&format!("{HEADER}{circle}"));
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.message.contains("written over each other in a circle")),
        "{:#?}",
        checked.diagnostics
    );
}

/// `fold` carries a value through a list: a running total capped at each
/// step differs from capping the sum once, and a filter and positions work
/// as in aggregates.
#[test]
fn fold_carries_a_value_through_a_list() {
    let body = "input y { fees: list of money }\n\
parameter cap = 100 €\n\
output capped_each_step: money = fold(total from 0 € for f in y.fees: min(total + f, cap))\n\
output from_second: money = fold(total from 0 € for f at k in y.fees where k >= 2: total + f)\n\
output count_large: integer = fold(n from 0 for f in y.fees where f > 50 €: n + 1)\n";
    let case = "decision_date: 2021-01-01\ny: { fees: [\"60\", \"70\", \"-30\", \"10\"] }";
    // 60, then min(130, 100) = 100, then 70, then 80.
    assert_eq!(out_str(body, case, "capped_each_step"), "80.00");
    assert_eq!(out_str(body, case, "from_second"), "50.00");
    assert_eq!(out_str(body, case, "count_large"), "2");
    let empty = "decision_date: 2021-01-01\ny: { fees: [] }";
    assert_eq!(out_str(body, empty, "capped_each_step"), "0.00");
    let wrong = "input y { fees: list of money }\noutput o: integer = fold(n from 0 for f in y.fees: n + f)\n";
    let checked = check(&format!("{HEADER}{wrong}"));
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.code.as_str() == "unit-mismatch" || d.message.contains("carried as `n`")),
        "{:#?}",
        checked.diagnostics
    );
}

const INCOME: &str = "enum Income {\n  Salary { monthly: money 0 € or more }\n  Pension { monthly: money 0 € or more, survivors: bool }\n  NoIncome\n}\n\
input h { income: Income }\n\
output counted: money = h.income.Salary.monthly or else h.income.Pension.monthly or else 0 €\n\
output is_pension: bool = h.income = Pension\n\
output survivors: bool = h.income.Pension.survivors or else false\n\
example \"a salary\"\n  on 2021-01-01\n  given h { income: Salary { monthly: 2000 € } }\n  expect counted = 2000 €\n  expect is_pension = false\n";

/// A variant may carry data; `x.Variant.field` is absent unless the value
/// is that variant, and `x = Variant` tests the variant.
#[test]
fn enum_values_may_carry_data() {
    let case = |income: &str| format!("decision_date: 2021-01-01\nh: {{ income: {income} }}");
    assert_eq!(
        out_str(
            INCOME,
            &case("{ Salary: { monthly: \"2000\" } }"),
            "counted"
        ),
        "2000.00"
    );
    assert_eq!(
        out_str(
            INCOME,
            &case("{ Pension: { monthly: \"900\", survivors: true } }"),
            "counted"
        ),
        "900.00"
    );
    assert_eq!(
        out_str(
            INCOME,
            &case("{ Pension: { monthly: \"900\", survivors: true } }"),
            "is_pension"
        ),
        "true"
    );
    assert_eq!(
        out_str(
            INCOME,
            &case("{ Pension: { monthly: \"900\", survivors: true } }"),
            "survivors"
        ),
        "true"
    );
    assert_eq!(out_str(INCOME, &case("NoIncome"), "counted"), "0.00");
    assert_eq!(out_str(INCOME, &case("NoIncome"), "is_pension"), "false");
    // The data is held to its bounds, and a variant's data cannot be left out.
    let err = run(INCOME, &case("{ Salary: { monthly: \"-5\" } }")).unwrap_err();
    assert!(err.contains("h.income.Salary.monthly"), "{err}");
    let err = run(INCOME, &case("Salary")).unwrap_err();
    assert!(
        err.contains("Salary of Income carries data, which is missing"),
        "{err}"
    );
    // The example's value with its data checks and passes.
    let p = program(INCOME);
    let results = rulebook::ops::examples::run_examples(&p);
    assert!(results.iter().all(|r| r.passed()), "{results:?}");
    // The schema offers each variant with data as an object.
    let schema = rulebook::cases::schema::case_schema(&p).to_string();
    assert!(schema.contains("\"required\":[\"Salary\"]"), "{schema}");
}
