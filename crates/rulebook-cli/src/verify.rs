//! `rulebook verify`: searches every property of every version for a
//! counterexample (see `rulebook::ops::verify`).

use crate::{load, or_default, program_or_errors, OutputFormat, EXIT_FAILED, EXIT_IO};
use rulebook::ops::verify::{verify, Outcome, Settings};
use std::path::PathBuf;

pub fn cmd_verify(paths: &[PathBuf], format: OutputFormat, settings: Settings) -> u8 {
    let loaded = match load(&or_default(paths)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_IO;
        }
    };
    let (mut held, mut failed, mut never, mut broken, mut versions) = (0, 0, 0, 0, 0);
    let mut json = Vec::new();
    for &i in &loaded.requested {
        let (Some(src), Some(version)) = (loaded.sources.get(i), loaded.versions.get(i)) else {
            continue;
        };
        let name = &src.name;
        let Some(p) = program_or_errors(&loaded, i, "its properties were not verified") else {
            broken += 1;
            continue;
        };
        if p.properties.is_empty() {
            continue;
        }
        versions += 1;
        let reports = verify(p, &version.text, settings);
        // Lines are of the written-out text of an amendment, not its file.
        let amended = !version.origin.is_empty();
        if format == OutputFormat::Text {
            println!("{name} ({} {})", p.id, p.version);
        }
        for r in &reports {
            let place = if amended {
                name.clone()
            } else {
                format!("{name}:{}", r.line)
            };
            match &r.outcome {
                Outcome::Counterexample {
                    why,
                    example,
                    explanation,
                    ..
                } => {
                    failed += 1;
                    if format == OutputFormat::Text {
                        println!("FAIL  {place} {}: {why}", r.property);
                        println!(
                            "      a counterexample, as an example to paste into the rulebook:"
                        );
                        for l in example.lines() {
                            println!("        {l}");
                        }
                        if !explanation.is_empty() {
                            println!("      why:");
                            for l in explanation {
                                println!("        {l}");
                            }
                        }
                    }
                }
                Outcome::NotFound { .. } => {
                    held += 1;
                    if format == OutputFormat::Text {
                        println!(
                            "ok    {place} {}: no counterexample in {} checks ({} applicable); searched, not proved",
                            r.property, r.tried, r.applicable
                        );
                    }
                }
                Outcome::NeverApplied => {
                    never += 1;
                    if format == OutputFormat::Text {
                        println!(
                            "WARN  {place} {}: no case tried met its condition, so it was never checked",
                            r.property
                        );
                    }
                }
            }
        }
        json.push(serde_json::json!({
            "file": name,
            "rulebook": p.id,
            "version": p.version,
            "properties": reports,
        }));
    }
    if format == OutputFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "versions": json,
                "failed": failed,
                "searched_without_counterexample": held,
                "never_applied": never,
                "proved": 0,
            }))
            .unwrap_or_default()
        );
    } else {
        let broken_note = if broken > 0 {
            format!(", {broken} rulebook(s) with errors")
        } else {
            String::new()
        };
        println!(
            "properties of {versions} version(s): {failed} failed, {held} without a counterexample (searched, not proved), {never} never applied{broken_note}"
        );
    }
    if failed > 0 || broken > 0 {
        EXIT_FAILED
    } else {
        0
    }
}
