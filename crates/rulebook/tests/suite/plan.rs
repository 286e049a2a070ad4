//! Evaluation plans against the interpreter: on every bundled rulebook and
//! the OpenFisca country template, for each example and for many variations
//! of its inputs and decision date, the decision (or the error) must be the
//! interpreter's, to the last decimal place and the last byte of a message.

use rulebook::eval::{evaluate_with, interpret, Case, Executable, Options, Scratch};
use rulebook::ir::value::{Type, Value};
use rulebook::ir::Program;
use rulebook::plan::Registers;
use rust_decimal::Decimal;
use std::sync::Arc;

/// Every rulebook file of a folder, checked together (so that amendments
/// are written out against their bases).
fn programs() -> Vec<(String, Executable)> {
    let mut out = Vec::new();
    for w in crate::bundled_workspaces() {
        for (v, s) in w.versions.iter().zip(&w.sources) {
            let p = v
                .program()
                .unwrap_or_else(|| panic!("{} does not check", s.name));
            out.push((s.name.clone(), p.clone()));
        }
    }
    assert!(out.len() >= 14, "only {} rulebooks found", out.len());
    out
}

/// A small deterministic generator (xorshift64*), so that a failure
/// repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// A variation of an input value of type `ty`: numbers scaled, zeroed,
/// negated or replaced, dates moved, enums and truth values drawn, list
/// elements dropped and repeated.
fn vary(v: &Value, ty: &Type, p: &Program, rng: &mut Rng) -> Value {
    if rng.below(4) == 0 {
        return v.clone();
    }
    match (v, ty) {
        (Value::Num(d), _) => Value::Num(match rng.below(6) {
            0 => Decimal::ZERO,
            1 => -*d,
            2 => *d * Decimal::new(rng.below(400) as i64, 2),
            3 => Decimal::new(rng.below(1_000_000) as i64, 2),
            4 => Decimal::new(rng.below(100_000) as i64, 4),
            _ => *d + Decimal::new(rng.below(20_000) as i64 - 10_000, 2),
        }),
        (Value::Int(i), _) => Value::Int(match rng.below(3) {
            0 => 0,
            1 => rng.below(i.unsigned_abs() * 2 + 10) as i64,
            _ => *i + rng.below(7) as i64 - 3,
        }),
        (Value::Bool(_), _) => Value::Bool(rng.below(2) == 0),
        (Value::Enum(_), Type::Enum(e)) => {
            let n = p.enums[*e as usize].variants.len() as u64;
            Value::Enum(rng.below(n) as u32)
        }
        (Value::Date(d), _) => {
            let days = rng.below(365 * 80) as i64 - 365 * 40;
            Value::Date(
                d.checked_add_signed(chrono::Duration::days(days))
                    .unwrap_or(*d),
            )
        }
        (Value::Record(fields), Type::Record(r)) => {
            let types = p.field_types(*r);
            Value::Record(Arc::from(
                fields
                    .iter()
                    .zip(&types)
                    .map(|(f, t)| vary(f, t, p, rng))
                    .collect::<Vec<_>>(),
            ))
        }
        (Value::List(items), Type::List(t)) => {
            let n = rng.below(items.len() as u64 + 3);
            let mut out = Vec::new();
            for _ in 0..n {
                if items.is_empty() {
                    break;
                }
                let k = rng.below(items.len() as u64) as usize;
                out.push(vary(&items[k], t, p, rng));
            }
            Value::List(Arc::from(out))
        }
        _ => v.clone(),
    }
}

#[test]
fn every_bundled_rulebook_has_a_plan() {
    for (name, p) in programs() {
        match rulebook::plan::Plan::compile(&p) {
            Ok(_) => {}
            // What is taken from another programme is decided by the
            // interpreter: these rulebooks have no plan, and only for that.
            Err(why) if !p.uses.is_empty() => assert!(
                why.to_string().contains("used programme"),
                "{name} has no plan: {why}"
            ),
            Err(why) => panic!("{name} has no plan: {why}"),
        }
    }
}

#[test]
fn plans_decide_as_the_interpreter_does() {
    let options = Options { explain: false };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut fast, mut slow) = (Scratch::default(), Scratch::default());
    let mut regs = Registers::default();
    for (name, p) in programs() {
        let plan = rulebook::plan::Plan::compile(&p).ok();
        let (mut compared, mut planned) = (0, 0);
        for ex in &p.examples {
            for round in 0..200 {
                let case = if round == 0 {
                    Case {
                        decision_date: ex.date,
                        inputs: ex.inputs.clone(),
                    }
                } else {
                    let days = rng.below(365 * 6) as i64 - 365 * 3;
                    Case {
                        decision_date: ex
                            .date
                            .checked_add_signed(chrono::Duration::days(days))
                            .unwrap_or(ex.date),
                        inputs: ex
                            .inputs
                            .iter()
                            .zip(&p.inputs)
                            .map(|(v, i)| vary(v, &i.ty, &p, &mut rng))
                            .collect(),
                    }
                };
                let want = interpret(&p, &case, &options, &mut slow);
                let got = evaluate_with(&p, &case, &options, &mut fast);
                assert_eq!(
                    format!("{got:?}"),
                    format!("{want:?}"),
                    "{name}, example {:?}, variation {round}: {case:?}",
                    ex.name
                );
                if let Some(plan) = &plan {
                    if let Some(d) = plan.decide(&p, &case, &mut regs) {
                        // What the plan decides is what was compared above.
                        assert_eq!(
                            format!("{:?}", Ok::<_, ()>(d).ok()),
                            format!("{:?}", want.ok()),
                            "{name}: {case:?}\n{}",
                            plan.listing(&p)
                        );
                        planned += 1;
                    }
                }
                compared += 1;
            }
        }
        // The comparison is not vacuous: most cases are the plan's (a
        // rulebook that uses another has none; see above).
        assert!(
            planned * 2 > compared || (plan.is_none() && !p.uses.is_empty()),
            "{name}: the plan decided {planned} of {compared} cases"
        );
    }
}

const HEADER: &str = "rulebook test.plan \"Plan tests\"\n  version 1\n  in force 2018-01-01\n\n";

fn program(body: &str) -> Executable {
    let text = format!("{HEADER}{body}");
    let checked = rulebook::check::check(&text);
    checked
        .program
        .map(Executable::new)
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics))
}

fn case(p: &Program, yaml: &str) -> Case {
    let doc =
        rulebook::cases::input::parse_document(yaml, rulebook::cases::input::Format::Yaml).unwrap();
    rulebook::cases::input::decode_case(p, &doc, None).unwrap()
}

/// The plan's own decision (`None`: it gave the case to the interpreter),
/// after checking that the decision every service gets is the
/// interpreter's.
fn planned(p: &Executable, c: &Case) -> Option<rulebook::eval::Decision> {
    let options = Options { explain: false };
    let want = interpret(p, c, &options, &mut Scratch::default());
    let got = evaluate_with(p, c, &options, &mut Scratch::default());
    let plan = match p.compiled_plan() {
        Ok(plan) => plan,
        Err(why) => panic!("the program has no plan: {why}"),
    };
    assert_eq!(
        format!("{got:?}"),
        format!("{want:?}"),
        "{}",
        plan.listing(p)
    );
    plan.decide(p, c, &mut Registers::default())
}

#[test]
fn a_program_without_a_plan_says_why_and_where() {
    let text = format!(
        "{HEADER}input c {{ a: decimal }}\n\
         let waiting: duration = days(3)\n\
         output long: bool = decision date + waiting > 2020-01-01\n"
    );
    let checked = rulebook::check::check(&text);
    let Some(p) = checked.program else {
        panic!("{:?}", checked.diagnostics)
    };
    let Err(why) = rulebook::plan::Plan::compile(&p) else {
        panic!("a duration got a plan");
    };
    assert!(why.reason.contains("duration"), "{why}");
    assert!(
        text[why.span.start..why.span.end].contains("days(3)"),
        "the reason points at `{}`",
        &text[why.span.start..why.span.end]
    );
}

#[test]
fn a_listing_names_every_output_and_criterion() {
    let p = program(
        "input c { a: decimal }\n\
         eligibility\n  adult: c.a >= 18 else \"under 18\"\n\
         output double: decimal = c.a * 2\n",
    );
    let Ok(plan) = p.compiled_plan() else {
        panic!("no plan");
    };
    let listing = plan.listing(&p);
    assert!(listing.contains("output double in Num("), "{listing}");
    assert!(listing.contains("criterion adult in Bool("), "{listing}");
    assert!(
        listing.contains("Mul") || listing.contains("Arith"),
        "{listing}"
    );
}

#[test]
fn ties_keep_the_first_value_with_its_decimals() {
    let p = program(
        "input c { a: decimal, b: decimal, xs: list of decimal }\n\
         output hi: decimal = max(c.a, c.b)\n\
         output lo: decimal = min(c.a, c.b)\n\
         output top: decimal = max(x for x in c.xs if empty 0)\n\
         output least: decimal = min(x for x in c.xs if empty 0)\n",
    );
    let c = case(
        &p,
        "decision_date: 2021-01-01\nc: { a: \"5.0\", b: \"5.00\", xs: [\"2.0\", \"2.00\", \"1\"] }",
    );
    let d = planned(&p, &c).expect("decided by the plan");
    assert_eq!(
        format!("{:?}", d.outputs),
        "[(0, Num(5.0)), (1, Num(5.0)), (2, Num(2.0)), (3, Num(1))]"
    );
}

#[test]
fn failures_go_to_the_interpreter_which_words_them() {
    let p = program(
        "input c { a: money, n: integer }\n\
         output share: money = c.a / c.n\n",
    );
    let c = case(&p, "decision_date: 2021-01-01\nc: { a: 10 €, n: 0 }");
    assert!(planned(&p, &c).is_none());
    let err = rulebook::eval::evaluate(&p, &c, &Options { explain: false }).unwrap_err();
    assert_eq!(err.code, "division-by-zero");
    let c = case(&p, "decision_date: 2021-01-01\nc: { a: 10 €, n: 4 }");
    let d = planned(&p, &c).expect("decided by the plan");
    assert_eq!(format!("{:?}", d.outputs), "[(0, Num(2.50))]");
}

#[test]
fn a_rule_computed_ahead_that_fails_does_not_fail_the_case() {
    // The plan computes `ratio` before `shown` asks for it; when the
    // branch that uses it is not taken, the interpreter never computes it,
    // and the case is decided.
    let p = program(
        "input c { a: money, n: integer }\n\
         let ratio: money = c.a / c.n\n\
         output shown: money = if c.n = 0 then 0 € else ratio\n",
    );
    let c = case(&p, "decision_date: 2021-01-01\nc: { a: 10 €, n: 0 }");
    assert!(planned(&p, &c).is_none());
    let d = rulebook::eval::evaluate(&p, &c, &Options { explain: false }).unwrap();
    assert_eq!(format!("{:?}", d.outputs), "[(1, Num(0))]");
}

#[test]
fn conflicting_overrides_are_the_interpreters_error() {
    let p = program(
        "input c { age: integer, student: bool, veteran: bool }\n\
         output fee: money = if c.age >= 65 then 5 € else 10 €\n\
           unless c.student then 2 €\n\
           unless c.veteran then 1 €\n\
           unless c.age < 18 then 0 € rank 2\n",
    );
    let run = |yaml: &str| {
        let c = case(&p, yaml);
        (
            planned(&p, &c).is_some(),
            rulebook::eval::evaluate(&p, &c, &Options { explain: false })
                .map(|d| format!("{:?}", d.outputs))
                .map_err(|e| e.code.as_str()),
        )
    };
    let c = |age: u32, student: bool, veteran: bool| {
        format!("decision_date: 2021-01-01\nc: {{ age: {age}, student: {student}, veteran: {veteran} }}")
    };
    assert_eq!(
        run(&c(40, false, false)),
        (true, Ok("[(0, Num(10))]".into()))
    );
    assert_eq!(
        run(&c(70, false, false)),
        (true, Ok("[(0, Num(5))]".into()))
    );
    assert_eq!(run(&c(70, true, false)), (true, Ok("[(0, Num(2))]".into())));
    assert_eq!(
        run(&c(40, true, true)),
        (false, Err("conflicting-overrides"))
    );
    // A tie below the winning rank does not matter.
    assert_eq!(run(&c(10, true, true)), (true, Ok("[(0, Num(0))]".into())));
}

#[test]
fn what_depends_on_the_date_alone_is_kept_per_plan_and_date() {
    // `rate` has no value before 2019, so the prelude (which looks it up
    // first) fails for 2018; the table's `size` column is all `-`, so its
    // row is chosen by the date alone, in the prelude too.
    let body = |rate_2020: &str| {
        format!(
            "parameter rate: percent\n  = 10 % from 2019-01-01\n  = {rate_2020} from 2020-01-01\n\
             table band(on: date 2018-01-01 or more, size: integer) -> money\n  \
             | on                       | size | band |\n  \
             | 2018-01-01 to 2018-12-31 | -    | 3 €  |\n  \
             | 2019-01-01 to 2019-12-31 | -    | 5 €  |\n  \
             | 2020-01-01 or more       | -    | 7 €  |\n\
             input c {{ a: money, n: integer }}\n\
             output due: money = if decision date < 2019-01-01 then 0 € else c.a * rate\n\
             output fee: money = band(decision date, c.n)\n"
        )
    };
    let (p, q) = (program(&body("20 %")), program(&body("30 %")));
    let options = Options { explain: false };
    let mut regs = Registers::default();
    // Whether the plan decided the case, and the decision's outputs, after
    // checking that a plan's decision is the interpreter's.
    let mut decide = |p: &Executable, date: &str, a: u32| {
        let c = case(
            p,
            &format!("decision_date: {date}\nc: {{ a: {a} €, n: 1 }}"),
        );
        let want = interpret(p, &c, &options, &mut Scratch::default()).unwrap();
        let got = p.plan().unwrap().decide(p, &c, &mut regs);
        if let Some(got) = &got {
            assert_eq!(format!("{:?}", got.outputs), format!("{:?}", want.outputs));
        }
        (got.is_some(), format!("{:?}", want.outputs))
    };
    let outputs = |due: &str, fee: u32| format!("[(1, Num({due})), (2, Num({fee}))]");
    assert_eq!(decide(&p, "2020-06-01", 100), (true, outputs("20.00", 7)));
    assert_eq!(decide(&p, "2020-06-01", 200), (true, outputs("40.00", 7)));
    // Another plan on the same registers and date.
    assert_eq!(decide(&q, "2020-06-01", 100), (true, outputs("30.00", 7)));
    assert_eq!(decide(&p, "2020-06-01", 100), (true, outputs("20.00", 7)));
    // Another date.
    assert_eq!(decide(&p, "2019-06-01", 100), (true, outputs("10.00", 5)));
    // No rate in force: the plan leaves the case to the interpreter, again
    // for the next case on that date (what the prelude left is not kept).
    assert_eq!(decide(&p, "2018-06-01", 100), (false, outputs("0", 3)));
    assert_eq!(decide(&p, "2018-06-01", 100), (false, outputs("0", 3)));
    assert_eq!(decide(&p, "2020-06-01", 300), (true, outputs("60.00", 7)));
}

/// A function's exceptions (`unless` after a function's body) decide per
/// call, in the plan as in the interpreter, with the same conflicts; the
/// explanation names the exception and its own citation.
#[test]
fn a_functions_exceptions_decide_per_member() {
    let p = program(
        "record Member { age: integer, student: bool, veteran: bool }\n\
         input h { members: list of Member }\n\
         function fee(m: Member) -> money = if m.age >= 65 then 5 € else 10 € § 2\n\
           unless m.student then 2 € § 3\n\
           unless m.veteran then 1 €\n\
           unless m.age < 18 then 0 € rank 2 § 4\n\
         output total: money = sum(fee(m) for m in h.members)\n",
    );
    let run = |members: &str| {
        let c = case(
            &p,
            &format!("decision_date: 2021-01-01\nh: {{ members: [{members}] }}"),
        );
        (
            planned(&p, &c).is_some(),
            rulebook::eval::evaluate(&p, &c, &Options { explain: false })
                .map(|d| format!("{:?}", d.outputs))
                .map_err(|e| e.code.as_str()),
        )
    };
    let m = |age: u32, student: bool, veteran: bool| {
        format!("{{ age: {age}, student: {student}, veteran: {veteran} }}")
    };
    // 10 + 5 + 2 + 0: each member by the exception that applies to them.
    let all = [
        m(40, false, false),
        m(70, false, false),
        m(30, true, false),
        m(10, true, true),
    ]
    .join(", ");
    assert_eq!(run(&all), (true, Ok("[(0, Num(17))]".into())));
    assert_eq!(
        run(&m(40, true, true)),
        (false, Err("conflicting-overrides"))
    );
    let c = case(
        &p,
        &format!("decision_date: 2021-01-01\nh: {{ members: [{all}] }}"),
    );
    let d = rulebook::eval::evaluate(&p, &c, &Options { explain: true }).unwrap();
    let g = d.graph.unwrap();
    let student = g
        .nodes
        .iter()
        .find(|n| n.id.starts_with("function:fee({ age: 30"))
        .unwrap();
    assert_eq!(student.exception.as_deref(), Some("unless m.student"));
    assert_eq!(student.section.as_deref(), Some("3"));
    assert_eq!(student.value, "2.00 €");
    let adult = g
        .nodes
        .iter()
        .find(|n| n.id.starts_with("function:fee({ age: 40"))
        .unwrap();
    assert_eq!(
        (adult.exception.as_deref(), adult.section.as_deref()),
        (None, Some("2"))
    );
}

/// `[f(x) for x in list where ...]` lists each item's value: a decision can
/// give every member's amount. Plans do not hold lists, so such a program is
/// decided by the interpreter, and says so.
#[test]
fn a_list_of_per_member_results_is_an_output() {
    let p = program(
        "record Member { age: integer, income: money }\n\
         input h { members: list of Member }\n\
         function part(m: Member) -> money = m.income * 10 % rounded to cents\n\
           unless m.age < 18 then 0 €\n\
         output parts = [part(m) for m in h.members]\n\
         output adult_parts = [part(m) for m in h.members where m.age >= 18]\n\
         output total: money = sum(part(m) for m in h.members)\n",
    );
    let c = case(
        &p,
        "decision_date: 2021-01-01\nh: { members: [ { age: 40, income: 1000.00 }, { age: 12, income: 50.00 }, { age: 30, income: 2000.00 } ] }",
    );
    let d = rulebook::eval::evaluate(&p, &c, &Options { explain: true }).unwrap();
    let j = rulebook::eval::decision_json(&p, &c, &d);
    assert_eq!(
        j["outputs"]["parts"],
        serde_json::json!(["100.00", "0.00", "200.00"])
    );
    assert_eq!(
        j["outputs"]["adult_parts"],
        serde_json::json!(["100.00", "200.00"])
    );
    assert_eq!(j["outputs"]["total"], "300.00");
    let why = p
        .compiled_plan()
        .err()
        .map(|w| w.to_string())
        .unwrap_or_default();
    assert!(why.contains("list"), "{why}");
    // The explanation lists each member's part.
    let g = d.graph.unwrap();
    let items = g
        .nodes
        .iter()
        .find(|n| n.name == "collect over h.members in parts")
        .unwrap();
    let values: Vec<&str> = items.items.iter().map(|i| i.value.as_str()).collect();
    assert_eq!(values, ["100.00 €", "0.00 €", "200.00 €"]);
}

/// An optional input: left out or `null` it is absent, which a rule must
/// handle (`is present`, `or else`); nothing turns it into zero. Plans do
/// not hold absent values, so such a version is the interpreter's.
#[test]
fn optional_inputs_are_absent_until_given() {
    let p = program(
        "input sale { price: money, previous_sale_date: optional date, previous_price: optional money 0 € or more }\n\
         output resold_within_a_year: bool =\n\
           sale.previous_sale_date is present and years between (sale.previous_sale_date or else decision date) and decision date < 1\n\
         output gain: money = sale.price - (sale.previous_price or else sale.price)\n",
    );
    let decide = |yaml: &str| {
        let c = case(&p, yaml);
        let d = rulebook::eval::evaluate(&p, &c, &Options { explain: false }).unwrap();
        rulebook::eval::decision_json(&p, &c, &d)["outputs"].clone()
    };
    let first = decide("decision_date: 2024-05-01\nsale: { price: 100000.00 }");
    assert_eq!(
        first,
        serde_json::json!({ "resold_within_a_year": false, "gain": "0.00" })
    );
    let null = decide("decision_date: 2024-05-01\nsale: { price: 100000.00, previous_sale_date: null, previous_price: null }");
    assert_eq!(null, first);
    let resold = decide("decision_date: 2024-05-01\nsale: { price: 120000.00, previous_sale_date: 2023-09-01, previous_price: 100000.00 }");
    assert_eq!(
        resold,
        serde_json::json!({ "resold_within_a_year": true, "gain": "20000.00" })
    );
    // A given value still keeps its bounds.
    let doc = rulebook::cases::input::parse_document(
        "decision_date: 2024-05-01\nsale: { price: 1.00, previous_price: -5.00 }",
        rulebook::cases::input::Format::Yaml,
    )
    .unwrap();
    let errors = rulebook::cases::input::decode_case(&p, &doc, None).unwrap_err();
    assert_eq!(errors[0].path, "sale.previous_price", "{errors:?}");
    // The input schema does not require it, and allows null.
    let schema = rulebook::cases::schema::case_schema(&p);
    let sale = &schema["properties"]["sale"];
    assert_eq!(sale["required"], serde_json::json!(["price"]));
    assert!(sale["properties"]["previous_price"]["anyOf"].is_array());
    let why = p
        .compiled_plan()
        .err()
        .map(|w| w.to_string())
        .unwrap_or_default();
    assert!(why.contains("absent"), "{why}");
}

/// "The third child": `sorted` orders a list by a key (equal keys keep
/// their order, so twins need no tie-break field) and `at k` names an
/// item's position. Plans hold neither, so the interpreter decides.
#[test]
fn children_by_order_of_birth() {
    let p = program(
        "record Child { name: text, birth_date: date }\n\
         input family { children: list of Child }\n\
         table benefit(order: integer 1 or more) -> money\n\
           | order     | benefit  |\n\
           | 1         | 100.00 € |\n\
           | 2         | 110.00 € |\n\
           | 3 or more | 140.00 € |\n\
         let by_age = sorted(c in family.children by c.birth_date)\n\
         output total: money = sum(benefit(k) for c at k in by_age)\n\
         output each = [benefit(k) for c at k in by_age]\n\
         output youngest_first = [c.name for c in sorted(c in family.children by c.birth_date descending)]\n",
    );
    // Given youngest first, with twins born the same day (kept in order).
    let c = case(
        &p,
        "decision_date: 2024-01-01\nfamily: { children: [ { name: Aino, birth_date: 2020-05-01 }, { name: Eero, birth_date: 2015-03-03 }, { name: Ella, birth_date: 2015-03-03 }, { name: Onni, birth_date: 2012-01-01 } ] }",
    );
    let d = rulebook::eval::evaluate(&p, &c, &Options { explain: true }).unwrap();
    let j = rulebook::eval::decision_json(&p, &c, &d);
    assert_eq!(j["outputs"]["total"], "490.00");
    assert_eq!(
        j["outputs"]["each"],
        serde_json::json!(["100.00", "110.00", "140.00", "140.00"])
    );
    assert_eq!(
        j["outputs"]["youngest_first"],
        serde_json::json!(["Aino", "Eero", "Ella", "Onni"])
    );
    let why = p
        .compiled_plan()
        .err()
        .map(|w| w.to_string())
        .unwrap_or_default();
    assert!(why.contains("not held in a plan"), "{why}");
    // The explanation gives each child's benefit by position.
    let g = d.graph.unwrap();
    let items = g
        .nodes
        .iter()
        .find(|n| n.name == "sum over by_age in total")
        .unwrap();
    let values: Vec<&str> = items.items.iter().map(|i| i.value.as_str()).collect();
    assert_eq!(
        values,
        ["100.00 €", "110.00 €", "140.00 €", "140.00 €"],
        "{items:#?}"
    );
}

/// `hit collect list`: every matching row's result, in row order.
#[test]
fn a_table_can_collect_the_list_of_matching_rows() {
    let p = program(
        "input p { age: integer 0 or more, disabled: bool }\n\
         table supplements(age: integer 0 or more, disabled: bool) -> money, hit collect list\n\
           | age        | disabled | supplement |\n\
           | 0 to 17    | -        | 50.00 €    |\n\
           | 65 or more | -        | 80.00 €    |\n\
           | -          | true     | 120.00 €   |\n\
         output each = supplements(p.age, p.disabled)\n\
         output total: money = sum(s for s in supplements(p.age, p.disabled))\n",
    );
    let run = |yaml: &str| {
        let c = case(&p, yaml);
        let d = rulebook::eval::evaluate(&p, &c, &Options { explain: false }).unwrap();
        rulebook::eval::decision_json(&p, &c, &d)["outputs"].clone()
    };
    assert_eq!(
        run("decision_date: 2024-01-01\np: { age: 70, disabled: true }"),
        serde_json::json!({ "each": ["80.00", "120.00"], "total": "200.00" })
    );
    assert_eq!(
        run("decision_date: 2024-01-01\np: { age: 30, disabled: false }"),
        serde_json::json!({ "each": [], "total": "0.00" })
    );
    let why = p
        .compiled_plan()
        .err()
        .map(|w| w.to_string())
        .unwrap_or_default();
    assert!(why.contains("collects a list"), "{why}");
}
