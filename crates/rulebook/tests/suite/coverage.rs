//! `rulebook test --coverage`: what the examples reach, what they miss with
//! its line, and exclusions by comment; every bundled version is covered.

use rulebook::ops::coverage::coverage;

const HEADER: &str =
    "rulebook test.coverage \"Coverage\"\n  version 1\n  in force 2021-01-01 to 2021-12-31\n\n";

fn report(body: &str) -> (String, rulebook::ops::coverage::CoverageReport) {
    let text = format!("{HEADER}{body}");
    let checked = rulebook::check::check(&text);
    let Some(p) = checked.program else {
        panic!("{:?}", checked.diagnostics);
    };
    let r = coverage(&rulebook::eval::Executable::new(p), &text);
    (text, r)
}

const BODY: &str = "input h { size: integer 1 to 3, income: money 0 € or more }\n\
eligibility\n  small: h.size <= 2 else \"too large\"\n\
table fee_by_size(size: integer 1 to 3) -> money\n  | size | fee |\n  | 1 | 10 € |\n  | 2 | 20 € |\n  | 3 | 30 € |\n\
output fee: money = if h.income > 1000 € then fee_by_size(h.size) else 0 €\n\
  unless h.income > 5000 € then 99 €\n\
example \"one\"\n  on 2021-03-01\n  given h { size: 1, income: 2000 € }\n  expect fee = 10.00 €\n";

#[test]
fn what_no_example_reaches_is_listed_with_its_line() {
    let (text, r) = report(BODY);
    let missing: Vec<(String, usize)> = r
        .items
        .iter()
        .filter(|i| !i.covered)
        .map(|i| (i.what.clone(), i.line))
        .collect();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (what, line) in [
        ("criterion small fails", line_of("small:")),
        ("row 2 of table fee_by_size", line_of("| 2 | 20 € |")),
        ("row 3 of table fee_by_size", line_of("| 3 | 30 € |")),
        ("`if` not taken (else)", line_of("output fee")),
        (
            "`unless h.income > 5000 €` applies in fee",
            line_of("unless h.income"),
        ),
    ] {
        assert!(
            missing.contains(&(what.to_string(), line)),
            "{what} at {line} not in {missing:?}"
        );
    }
    assert!(r
        .items
        .iter()
        .any(|i| i.covered && i.what == "row 1 of table fee_by_size"));
    assert!(r.covered < r.total);
}

#[test]
fn more_examples_reach_everything_and_an_exclusion_is_kept_visible() {
    let body = BODY.replace("  | 3 | 30 € |", "  -- not reachable: size 3 fails the criterion small\n  | 3 | 30 € |")
        + "example \"two\"\n  on 2021-03-01\n  given h { size: 2, income: 500 € }\n  expect fee = 0.00 €\n\
           example \"three\"\n  on 2021-03-01\n  given h { size: 3, income: 500 € }\n  expect not eligible\n\
           example \"rich\"\n  on 2021-03-01\n  given h { size: 2, income: 6000 € }\n  expect fee = 99.00 €\n\
           example \"two above\"\n  on 2021-03-01\n  given h { size: 2, income: 2000 € }\n  expect fee = 20.00 €\n";
    let (_, r) = report(&body);
    let missing: Vec<&str> = r
        .items
        .iter()
        .filter(|i| !i.covered && i.excluded.is_none())
        .map(|i| i.what.as_str())
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(r.covered, r.total);
    let excluded: Vec<&str> = r
        .items
        .iter()
        .filter_map(|i| i.excluded.as_deref())
        .collect();
    assert_eq!(excluded, ["size 3 fails the criterion small"]);
}

#[test]
fn every_bundled_version_is_fully_covered_or_says_why_not() {
    let mut versions = 0;
    for w in crate::bundled_workspaces() {
        for &k in &w.requested {
            let name = &w.sources[k].name;
            let Some(p) = w.versions[k].program() else {
                panic!("{name} does not check");
            };
            if !name.contains("/rulebooks/") {
                continue;
            }
            versions += 1;
            let r = coverage(p, &w.versions[k].text);
            let missing: Vec<String> = r
                .items
                .iter()
                .filter(|item| !item.covered && item.excluded.is_none())
                .map(|item| format!("{name}:{} {}", item.line, item.what))
                .collect();
            assert!(missing.is_empty(), "{missing:#?}");
        }
    }
    assert!(versions >= 13, "{versions} versions");
}
