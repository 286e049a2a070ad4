//! The HTML diff report opened in a real headless Chromium: it renders, shows
//! the summary and the histogram, and logs no console errors.
//!
//! Needs Chromium (Debian package `chromium`); `.ci/run` installs it and runs
//! this test with `cargo test --test browser -- --ignored`.

use rulebook::ops::diff::{diff, to_html, Side};
use rulebook::ops::impact::Accumulator;
use rulebook::versions::{self, Source};
use std::process::Command;

fn chromium() -> String {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|c| c.to_string())
        .expect("Chromium is not installed: run `apt-get install chromium` (as .ci/run does)")
}

fn report() -> String {
    let root = crate::repo();
    let sources: Vec<Source> = [
        "rulebooks/helsinki-home-care/2021.rulebook",
        "rulebooks/helsinki-home-care/2022-23.rulebook",
    ]
    .iter()
    .map(|f| Source {
        name: f.to_string(),
        text: std::fs::read_to_string(root.join(f)).unwrap(),
    })
    .collect();
    let (versions, _) = versions::load(&sources);
    let side = |i: usize| Side {
        text: &versions[i].text,
        checked: &versions[i].checked,
        program: versions[i].program().unwrap(),
    };
    let (a, b) = (side(0), side(1));
    let d = diff(&a, &b);
    let settings = rulebook::ops::impact::Settings {
        top: 5,
        by: vec![
            rulebook::ops::impact::ByField::parse("household.size", a.program, b.program).unwrap(),
        ],
        measure: None,
    };
    let mut acc = Accumulator::new(a.program, b.program, None, settings)
        .unwrap()
        .with_changed_items(&d);
    for i in 0..500u64 {
        let case = serde_json::json!({
            "decision_date": "2021-06-01",
            "household": { "gross_monthly_income": format!("{}.00", 400 + (i * 37) % 4000), "size": 1 + i % 8 },
            "service": { "hourly_price": "40.00", "hours_per_month": 10 + i % 30 },
        });
        acc.add(i + 1, case);
    }
    let impact = rulebook::ops::impact::finish(&acc.into_summary(), a.program, b.program, None);
    to_html(&d, Some(&rulebook::ops::impact::to_html(&impact)))
}

#[test]
#[ignore = "needs Chromium; .ci/run installs it and runs this test"]
fn html_report_renders_in_chromium_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, report()).unwrap();
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");
    let base = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let out = Command::new(chromium())
        .args(base)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=2000", "--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {log}");
    assert!(
        dom.contains("helsinki.home_care: 2021 → 2022-23"),
        "no title in the rendered page:\n{dom}"
    );
    assert!(
        dom.contains("500 cases, 0 could not be decided"),
        "no impact summary in the rendered page"
    );
    // Amounts are written the Finnish way, with no-break spaces (which the
    // browser writes back as `&nbsp;`).
    assert!(
        dom.contains("&nbsp;€</td>") && dom.contains(",00&nbsp;€"),
        "amounts are not in the Finnish form"
    );
    assert!(
        dom.contains("By household.size"),
        "no breakdown in the rendered page"
    );
    assert!(
        dom.contains("<svg class=\"histogram\"") && dom.contains("<rect"),
        "no histogram in the rendered page"
    );
    assert!(
        dom.contains("row size 1: 588 € → 598 €"),
        "no table change in the rendered page"
    );
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    // A screenshot proves the page lays out; it is kept for people to look at.
    let shot = dir.path().join("report.png");
    let out = Command::new(chromium())
        .args(base)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args([
            "--window-size=1200,1600",
            &format!("--screenshot={}", shot.display()),
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot of {} bytes",
        png.len()
    );
    if let Ok(keep) = std::env::var("RULEBOOK_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

/// The Helsinki home-care decision letter in Swedish as a printable page:
/// it renders, logs no console errors and prints to a PDF.
#[test]
#[ignore = "needs Chromium; .ci/run installs it and runs this test"]
fn html_letter_renders_and_prints_in_chromium() {
    let root = crate::repo();
    let text = std::fs::read_to_string(root.join("rulebooks/helsinki-home-care/2024-25.rulebook"))
        .unwrap();
    let (versions, _) = versions::load(&[Source {
        name: "2024-25.rulebook".into(),
        text,
    }]);
    let p = versions[0].program().unwrap();
    let doc = serde_json::json!({
        "decision_date": "2024-03-02",
        "household": { "income_declared": true, "gross_monthly_income": "2345.67", "size": 2 },
        "service": { "hourly_price": "45.00", "hours_per_month": 20 }
    });
    let case = rulebook::cases::input::decode_case(p, &doc, None).unwrap();
    let d = rulebook::eval::evaluate(p, &case, &rulebook::eval::Options { explain: true }).unwrap();
    let letter = rulebook::ops::letter::letter(p, &case, &d, "sv").unwrap();
    let html = rulebook::ops::letter::to_html(&letter);
    assert!(!html.contains("<script") && !html.contains("http"));
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("letter.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");
    let base = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let out = Command::new(chromium())
        .args(base)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=2000", "--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {log}");
    assert!(dom.contains("<html lang=\"sv\">"), "{dom}");
    assert!(dom.contains("Servicesedel för hemvård"), "{dom}");
    assert!(dom.contains("Beslutsdatum</dt><dd>2.3.2024"), "{dom}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let pdf = dir.path().join("letter.pdf");
    let out = Command::new(chromium())
        .args(base)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args([
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(
        bytes.starts_with(b"%PDF") && bytes.len() > 5_000,
        "a PDF of {} bytes",
        bytes.len()
    );
    if let Ok(keep) = std::env::var("RULEBOOK_KEEP_LETTER") {
        std::fs::copy(&page, keep).unwrap();
    }
}
