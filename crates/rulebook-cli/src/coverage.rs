//! `rulebook test --coverage`: what each version's examples reached (see
//! `rulebook::ops::coverage`).

use crate::{load, or_default, OutputFormat, EXIT_FAILED, EXIT_IO};
use rulebook::ops::coverage::coverage;
use std::path::PathBuf;

pub fn cmd_coverage(paths: &[PathBuf], min: Option<u8>, format: OutputFormat) -> u8 {
    let loaded = match load(&or_default(paths)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    let mut below = 0;
    let mut json = Vec::new();
    for &i in &loaded.requested {
        let (Some(src), Some(version)) = (loaded.sources.get(i), loaded.versions.get(i)) else {
            continue;
        };
        // A version with errors is reported by the examples' run.
        let Some(p) = version.program().filter(|_| !loaded.has_errors(i)) else {
            below += 1;
            continue;
        };
        let report = coverage(p, &version.text);
        let percent = report.percent();
        let short = min.is_some_and(|m| percent < f64::from(m));
        if short {
            below += 1;
        }
        // Lines are of the written-out text of an amendment, not its file.
        let amended = !version.origin.is_empty();
        if format == OutputFormat::Json {
            json.push(serde_json::json!({
                "file": src.name,
                "rulebook": p.id,
                "version": p.version,
                "percent": (percent * 10.0).round() / 10.0,
                "covered": report.covered,
                "total": report.total,
                "lines_of_written_out_text": amended,
                "items": report.items,
            }));
            continue;
        }
        let kinds: Vec<String> = report
            .by_kind()
            .iter()
            .map(|(k, c, n)| format!("{k} {c}/{n}"))
            .collect();
        println!(
            "coverage {:5.1} %  {} ({} of {}: {}){}",
            percent,
            src.name,
            report.covered,
            report.total,
            kinds.join(", "),
            if short { "  BELOW THE MINIMUM" } else { "" }
        );
        for item in report
            .items
            .iter()
            .filter(|i| !i.covered && i.excluded.is_none())
        {
            let place = if amended {
                src.name.clone()
            } else {
                format!("{}:{}", src.name, item.line)
            };
            println!("        not reached  {place} {}", item.what);
        }
        for item in report.items.iter().filter(|i| i.excluded.is_some()) {
            println!(
                "        excluded     {}:{} {}: {}",
                src.name,
                item.line,
                item.what,
                item.excluded.as_deref().unwrap_or("")
            );
        }
    }
    if format == OutputFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "versions": json, "min": min }))
                .unwrap_or_default()
        );
    }
    if below > 0 {
        EXIT_FAILED
    } else {
        0
    }
}
