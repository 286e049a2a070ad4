//! The impact report as text, Markdown and an HTML section.

use super::{Bin, Breakdown, GroupTotal, Impact, LargestChange};
use crate::ops::diff::html_escape as e;
use serde_json::Value as J;

/// The amount with its currency, for people; JSON keeps amounts as `eval`
/// writes them.
fn unit(text: &str, ty: &str) -> String {
    let number = text
        .trim_start_matches(['+', '-'])
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit());
    if ty == "money" && number {
        format!("{text} €")
    } else {
        text.to_string()
    }
}

/// The report with the currency written beside each amount.
fn with_units(i: &Impact) -> Impact {
    let mut i = i.clone();
    for o in &mut i.outputs {
        let ty = o.ty.clone();
        let u = |s: &mut String| *s = unit(s, &ty);
        if let Some(t) = &mut o.totals {
            for g in [
                &mut t.all,
                &mut t.eligible_in_both,
                &mut t.newly_eligible,
                &mut t.no_longer_eligible,
            ] {
                u(&mut g.old);
                u(&mut g.new);
                u(&mut g.change);
            }
        }
        if let Some(c) = &mut o.change {
            for v in [
                &mut c.min,
                &mut c.q1,
                &mut c.median,
                &mut c.q3,
                &mut c.max,
                &mut c.total,
            ] {
                u(v);
            }
        }
        for b in &mut o.histogram {
            u(&mut b.from);
            u(&mut b.to);
        }
    }
    for b in &mut i.breakdowns {
        for r in &mut b.rows {
            r.total_change = unit(&r.total_change, &b.measure_ty);
            r.median_change = unit(&r.median_change, &b.measure_ty);
        }
    }
    for c in &mut i.largest_changes {
        c.old = unit(&c.old, &c.ty);
        c.new = unit(&c.new, &c.ty);
        c.change = unit(&c.change, &c.ty);
    }
    i
}

fn case_label(line: u64, id: &Option<J>) -> String {
    match id {
        Some(J::String(s)) => format!("id {s} (line {line})"),
        Some(v) => format!("id {v} (line {line})"),
        None => format!("line {line}"),
    }
}

fn group_line(name: &str, g: &GroupTotal) -> String {
    format!(
        "{name} ({} cases): {} → {} ({})",
        g.cases, g.old, g.new, g.change
    )
}

pub fn to_text(i: &Impact) -> String {
    let i = &with_units(i);
    let mut s = format!(
        "Impact on {} cases ({} could not be decided: {} invalid, {} not decidable)\n  eligibility: {} eligible in both, {} newly eligible, {} no longer eligible, {} in neither\n",
        i.cases,
        i.failed,
        i.invalid,
        i.undecidable,
        i.eligible_in_both,
        i.newly_eligible,
        i.no_longer_eligible,
        i.eligible_in_neither
    );
    for f in &i.failures {
        s.push_str(&format!("  {}: {}\n", case_label(f.line, &f.id), f.message));
    }
    for o in &i.outputs {
        s.push_str(&format!(
            "  {}: changed in {} of {} cases eligible in both\n",
            o.output, o.changed, o.compared
        ));
        if let Some(t) = &o.totals {
            s.push_str(&format!(
                "      total: {} → {} ({})\n",
                t.all.old, t.all.new, t.all.change
            ));
            for (name, g) in [
                ("eligible in both", &t.eligible_in_both),
                ("newly eligible", &t.newly_eligible),
                ("no longer eligible", &t.no_longer_eligible),
            ] {
                s.push_str(&format!("        {}\n", group_line(name, g)));
            }
        }
        if let Some(c) = &o.change {
            s.push_str(&format!(
                "      change per case: min {}, q1 {}, median {}, q3 {}, max {}\n",
                c.min, c.q1, c.median, c.q3, c.max
            ));
        }
    }
    if !i.criteria.is_empty() {
        s.push_str("  eligibility changed by criterion:\n");
        for c in &i.criteria {
            s.push_str(&format!(
                "    {}: {} gained, {} lost\n",
                c.criterion, c.gained, c.lost
            ));
        }
    }
    if !i.rules.is_empty() {
        s.push_str("  where the changes begin (cases changed):\n");
        for r in &i.rules {
            s.push_str(&format!("    {}: {}\n", r.rule, r.cases));
        }
    }
    for b in &i.breakdowns {
        s.push_str(&format!("  by {} (change in {}):\n", b.by, b.measure));
        s.push_str("    value | cases | gained | lost | increased | decreased | unchanged | total change | median change\n");
        for r in &b.rows {
            s.push_str(&format!(
                "    {} | {} | {} | {} | {} | {} | {} | {} | {}\n",
                r.value,
                r.cases,
                r.gained_eligibility,
                r.lost_eligibility,
                r.increased,
                r.decreased,
                r.unchanged,
                r.total_change,
                r.median_change
            ));
        }
    }
    if !i.largest_changes.is_empty() {
        s.push_str("  largest changes:\n");
        for c in &i.largest_changes {
            s.push_str(&format!(
                "    {}: {} {} → {} ({})\n      case: {}\n",
                case_label(c.line, &c.id),
                c.output,
                c.old,
                c.new,
                c.change,
                serde_json::to_string(&c.case).unwrap_or_default()
            ));
        }
    }
    s
}

pub fn to_markdown(i: &Impact) -> String {
    let i = &with_units(i);
    let mut s = format!(
        "## Impact\n\n{} cases, {} could not be decided ({} invalid, {} not decidable). Eligibility: {} eligible in both, {} newly eligible, {} no longer eligible, {} in neither.\n\n",
        i.cases,
        i.failed,
        i.invalid,
        i.undecidable,
        i.eligible_in_both,
        i.newly_eligible,
        i.no_longer_eligible,
        i.eligible_in_neither
    );
    s.push_str("| output | changed | group | cases | old total | new total | change |\n| --- | --- | --- | --- | --- | --- | --- |\n");
    for o in &i.outputs {
        match &o.totals {
            Some(t) => {
                for (k, (name, g)) in [
                    ("all", &t.all),
                    ("eligible in both", &t.eligible_in_both),
                    ("newly eligible", &t.newly_eligible),
                    ("no longer eligible", &t.no_longer_eligible),
                ]
                .into_iter()
                .enumerate()
                {
                    let (out, changed) = if k == 0 {
                        (o.output.clone(), format!("{} of {}", o.changed, o.compared))
                    } else {
                        (String::new(), String::new())
                    };
                    s.push_str(&format!(
                        "| {out} | {changed} | {name} | {} | {} | {} | {} |\n",
                        g.cases, g.old, g.new, g.change
                    ));
                }
            }
            None => s.push_str(&format!(
                "| {} | {} of {} | | | | | |\n",
                o.output, o.changed, o.compared
            )),
        }
    }
    if !i.criteria.is_empty() {
        s.push_str("\n### Eligibility changed by criterion\n\n| criterion | gained | lost |\n| --- | --- | --- |\n");
        for c in &i.criteria {
            s.push_str(&format!(
                "| {} | {} | {} |\n",
                c.criterion, c.gained, c.lost
            ));
        }
    }
    if !i.rules.is_empty() {
        s.push_str("\n### Where the changes begin\n\n| rule | cases changed |\n| --- | --- |\n");
        for r in &i.rules {
            s.push_str(&format!("| {} | {} |\n", r.rule, r.cases));
        }
    }
    for b in &i.breakdowns {
        s.push_str(&format!(
            "\n### By {} (change in {})\n\n| value | cases | gained | lost | increased | decreased | unchanged | total change | median change |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
            b.by, b.measure
        ));
        for r in &b.rows {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.value,
                r.cases,
                r.gained_eligibility,
                r.lost_eligibility,
                r.increased,
                r.decreased,
                r.unchanged,
                r.total_change,
                r.median_change
            ));
        }
    }
    if !i.largest_changes.is_empty() {
        s.push_str("\n### Largest changes\n\n");
        for c in &i.largest_changes {
            s.push_str(&format!(
                "- {}: **{}** {} → {} ({}); case `{}`\n",
                case_label(c.line, &c.id),
                c.output,
                c.old,
                c.new,
                c.change,
                serde_json::to_string(&c.case).unwrap_or_default()
            ));
        }
    }
    s
}

/// An amount or number as Finnish readers write it: a space between
/// thousands and a decimal comma (`1 234,56 €`). The space is a no-break
/// space so that an amount never wraps.
pub fn finnish(text: &str) -> String {
    // A band such as `1000 – 1500`: each end on its own.
    if let Some((a, b)) = text.split_once(" – ") {
        return format!("{} – {}", finnish(a), finnish(b));
    }
    let (sign, rest) = match text.chars().next() {
        Some(c @ ('+' | '-' | '−')) => (c.to_string(), &text[c.len_utf8()..]),
        _ => (String::new(), text),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(end);
    if number.is_empty() {
        return text.replace(' ', "\u{a0}");
    }
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (number, None),
    };
    let mut grouped = String::new();
    for (k, ch) in whole.chars().enumerate() {
        if k > 0 && (whole.len() - k) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(ch);
    }
    let sign = if sign == "-" { "−".to_string() } else { sign };
    let mut out = format!("{sign}{grouped}");
    if let Some(f) = fraction {
        out.push(',');
        out.push_str(f);
    }
    out.push_str(&suffix.replace(' ', "\u{a0}"));
    out
}

fn svg_histogram(bins: &[Bin]) -> String {
    let max = bins.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let (w, h, gap, left, top) = (30u64, 140u64, 4u64, 56u64, 18u64);
    let width = left + bins.len() as u64 * (w + gap) + gap;
    let height = top + h + 44;
    let mut s = format!(
        "<svg class=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"how many cases changed by how much\">"
    );
    // The count axis, with its top and zero marked.
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#555\"/><line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#555\"/>",
        top + h,
        top + h,
        width,
        top + h
    ));
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">0</text><text x=\"4\" y=\"{}\" font-size=\"11\">cases</text>",
        left - 4,
        top + 4,
        max,
        left - 4,
        top + h,
        top - 6
    ));
    for (k, b) in bins.iter().enumerate() {
        let bh = b.count * h / max;
        let x = left + gap + k as u64 * (w + gap);
        s.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{bh}\" fill=\"#3b6ea5\"><title>{} to {}: {} cases</title></rect>",
            top + h - bh,
            e(&finnish(&b.from)),
            e(&finnish(&b.to)),
            b.count
        ));
        if b.count > 0 {
            s.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
                x + w / 2,
                (top + h - bh).saturating_sub(3).max(top - 4),
                b.count
            ));
        }
    }
    if let (Some(first), Some(last)) = (bins.first(), bins.last()) {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">change per case</text>",
            left + gap,
            top + h + 16,
            e(&finnish(&first.from)),
            width - gap,
            top + h + 16,
            e(&finnish(&last.to)),
            left + (width - left) / 2,
            top + h + 34
        ));
    }
    s.push_str("</svg>");
    s
}

fn num_cell(v: &str) -> String {
    format!("<td class=\"num\">{}</td>", e(&finnish(v)))
}

fn breakdown_html(b: &Breakdown) -> String {
    let mut s = format!(
        "<h3>By {} <small>(change in {})</small></h3>\n<table><tr><th>value</th><th>cases</th><th>gained eligibility</th><th>lost eligibility</th><th>increased</th><th>decreased</th><th>unchanged</th><th>total change</th><th>median change</th></tr>\n",
        e(&b.by),
        e(&b.measure)
    );
    for r in &b.rows {
        s.push_str(&format!(
            "<tr><td class=\"name\">{}</td>",
            e(&finnish(&r.value))
        ));
        for n in [
            r.cases,
            r.gained_eligibility,
            r.lost_eligibility,
            r.increased,
            r.decreased,
            r.unchanged,
        ] {
            s.push_str(&num_cell(&n.to_string()));
        }
        s.push_str(&num_cell(&r.total_change));
        s.push_str(&num_cell(&r.median_change));
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

/// A step without its trailing citation (`... = 40 (hel.fi ... 2021)`), so
/// that a step whose citation alone changed is not marked as differing.
fn without_citation(step: &str) -> &str {
    let t = step.trim_end();
    if !t.ends_with(')') {
        return t;
    }
    let mut depth = 0i32;
    for (i, ch) in t.char_indices().rev() {
        match ch {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    let before = &t[..i];
                    return if before.ends_with(' ') {
                        before.trim_end()
                    } else {
                        t
                    };
                }
            }
            _ => {}
        }
    }
    t
}

/// The two explanations side by side; a step whose formula or values the
/// other version does not have is marked.
fn side_by_side(c: &LargestChange) -> String {
    let column = |mine: &[String], theirs: &[String]| -> String {
        let others: Vec<&str> = theirs.iter().map(|t| without_citation(t)).collect();
        mine.iter()
            .map(|x| {
                let class = if others.contains(&without_citation(x)) {
                    ""
                } else {
                    " class=\"differs\""
                };
                format!("<li{class}><code>{}</code></li>", e(x))
            })
            .collect()
    };
    format!(
        "<div class=\"sides\"><div><p>Old version:</p><ul>{}</ul></div><div><p>New version:</p><ul>{}</ul></div></div>",
        column(&c.old_explanation, &c.new_explanation),
        column(&c.new_explanation, &c.old_explanation)
    )
}

pub fn to_html(i: &Impact) -> String {
    let i = &with_units(i);
    let mut s = format!(
        "<section id=\"impact\"><h2>Impact</h2>\n<p class=\"summary\">{} cases, {} could not be decided ({} invalid, {} not decidable). Eligibility: {} eligible in both, {} newly eligible, {} no longer eligible, {} in neither.</p>\n",
        i.cases,
        i.failed,
        i.invalid,
        i.undecidable,
        i.eligible_in_both,
        i.newly_eligible,
        i.no_longer_eligible,
        i.eligible_in_neither
    );
    s.push_str("<table><tr><th>output</th><th>changed (eligible in both)</th><th>group</th><th>cases</th><th>old total</th><th>new total</th><th>change</th></tr>\n");
    for o in &i.outputs {
        match &o.totals {
            Some(t) => {
                for (k, (name, g)) in [
                    ("all", &t.all),
                    ("eligible in both", &t.eligible_in_both),
                    ("newly eligible", &t.newly_eligible),
                    ("no longer eligible", &t.no_longer_eligible),
                ]
                .into_iter()
                .enumerate()
                {
                    if k == 0 {
                        s.push_str(&format!(
                            "<tr class=\"first\"><td class=\"name\" rowspan=\"4\">{}</td><td class=\"num\" rowspan=\"4\">{} of {}</td>",
                            e(&o.output),
                            o.changed,
                            o.compared
                        ));
                    } else {
                        s.push_str("<tr>");
                    }
                    s.push_str(&format!("<td>{name}</td>"));
                    s.push_str(&num_cell(&g.cases.to_string()));
                    s.push_str(&num_cell(&g.old));
                    s.push_str(&num_cell(&g.new));
                    s.push_str(&num_cell(&g.change));
                    s.push_str("</tr>\n");
                }
            }
            None => s.push_str(&format!(
                "<tr class=\"first\"><td class=\"name\">{}</td><td class=\"num\">{} of {}</td><td colspan=\"5\"></td></tr>\n",
                e(&o.output),
                o.changed,
                o.compared
            )),
        }
    }
    s.push_str("</table>\n");
    for o in &i.outputs {
        if let Some(c) = &o.change {
            s.push_str(&format!(
                "<h3>Change in {} per case</h3>\n<p>Over the cases eligible in either version: minimum {}, lower quartile {}, median {}, upper quartile {}, maximum {}.</p>\n",
                e(&o.output),
                e(&finnish(&c.min)),
                e(&finnish(&c.q1)),
                e(&finnish(&c.median)),
                e(&finnish(&c.q3)),
                e(&finnish(&c.max))
            ));
            if o.ty == "money" && !o.histogram.is_empty() {
                s.push_str(&svg_histogram(&o.histogram));
                s.push('\n');
            }
        }
    }
    if !i.criteria.is_empty() {
        s.push_str("<h3>Eligibility changed by criterion</h3>\n<table><tr><th>criterion</th><th>gained</th><th>lost</th></tr>\n");
        for c in &i.criteria {
            s.push_str(&format!(
                "<tr><td class=\"name\">{}</td>{}{}</tr>\n",
                e(&c.criterion),
                num_cell(&c.gained.to_string()),
                num_cell(&c.lost.to_string())
            ));
        }
        s.push_str("</table>\n");
    }
    if !i.rules.is_empty() {
        s.push_str("<h3>Where the changes begin</h3>\n<table><tr><th>criterion or rule</th><th>cases changed</th></tr>\n");
        for r in &i.rules {
            s.push_str(&format!(
                "<tr><td class=\"name\">{}</td>{}</tr>\n",
                e(&r.rule),
                num_cell(&r.cases.to_string())
            ));
        }
        s.push_str("</table>\n");
    }
    for b in &i.breakdowns {
        s.push_str(&breakdown_html(b));
    }
    if !i.largest_changes.is_empty() {
        s.push_str("<h3>Largest changes</h3>\n");
        for (k, c) in i.largest_changes.iter().enumerate() {
            // The first is open, to show what each holds.
            let open = if k == 0 { " open" } else { "" };
            s.push_str(&format!(
                "<details{open}><summary>{}: {} {} → {} ({})</summary><p>Case: <code>{}</code></p>{}</details>\n",
                e(&case_label(c.line, &c.id)),
                e(&c.output),
                e(&finnish(&c.old)),
                e(&finnish(&c.new)),
                e(&finnish(&c.change)),
                e(&serde_json::to_string(&c.case).unwrap_or_default()),
                side_by_side(c)
            ));
        }
    }
    s.push_str("</section>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::{finnish, without_citation};

    #[test]
    fn amounts_are_written_the_finnish_way_and_never_wrap() {
        assert_eq!(finnish("1234567.89 €"), "1\u{a0}234\u{a0}567,89\u{a0}€");
        assert_eq!(finnish("-20.11 €"), "−20,11\u{a0}€");
        assert_eq!(finnish("+168098.46 €"), "+168\u{a0}098,46\u{a0}€");
        assert_eq!(finnish("999"), "999");
        assert_eq!(finnish("1000 – 1500"), "1\u{a0}000 – 1\u{a0}500");
        assert_eq!(finnish("not eligible"), "not\u{a0}eligible");
    }

    #[test]
    fn a_step_is_compared_without_its_citation() {
        assert_eq!(
            without_citation("hour_cap = 40 (hel.fi palvelusetelilaskuri 2021)"),
            "hour_cap = 40"
        );
        assert_eq!(without_citation("min(50, 40) = 40"), "min(50, 40) = 40");
        assert_eq!(without_citation("f(x)"), "f(x)");
    }
}
