//! The canonical formatter behind `rulebook fmt`.
//!
//! It keeps the author's line breaks and comments and changes only white
//! space: items start at column 0, other lines are indented by two spaces
//! (four for a continued line, plus two per open bracket), operators and
//! commas are spaced uniformly, table columns are aligned, trailing spaces
//! go and runs of blank lines shrink to one. It never adds or removes the
//! space between two characters of one token, so the meaning cannot change.

use crate::syntax::lines::{split_comment, starts_item};

const SPACED_OPS: &[&str] = &[
    "->", ">=", "<=", "!=", "≥", "≤", "≠", "=", "<", ">", "+", "*", "×", "/",
];

/// Whether the `-` at `i` is a subtraction written without spaces, such as
/// `income-limit`: after a name or a closing bracket and before a name, a
/// number or an opening bracket. Dates (`2021-01-01`) and version names
/// (`version 2022-23`) keep their hyphens.
fn binary_minus(chars: &[char], i: usize, header_line: bool) -> bool {
    if header_line || chars.get(i) != Some(&'-') || chars.get(i + 1) == Some(&'-') {
        return false;
    }
    let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
    let next = chars.get(i + 1).copied();
    let word_before = prev.is_some_and(|c| c.is_alphabetic() || c == '_' || c == ')' || c == ']');
    let after = next.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '(');
    // A name that ends in digits (`level2-1`) is still a name.
    let name_before = word_before || {
        let mut j = i;
        while j > 0 && chars.get(j - 1).is_some_and(|c| c.is_ascii_digit()) {
            j -= 1;
        }
        j < i
            && j > 0
            && chars
                .get(j - 1)
                .is_some_and(|c| c.is_alphabetic() || *c == '_')
    };
    name_before && after
}

/// Normalises spacing inside one line of code (no comment).
pub fn normalize_code(code: &str) -> String {
    let head = code.trim_start();
    let header_line = head.starts_with("version") || head.starts_with("amends");
    let mut out = String::with_capacity(code.len());
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    // Pending space: written before the next token unless it is a closer.
    let mut space = false;
    let push_token = |out: &mut String, space: &mut bool, tok: &str| {
        if *space && !out.is_empty() {
            out.push(' ');
        }
        *space = false;
        out.push_str(tok);
    };
    while let Some(&c) = chars.get(i) {
        if c == '"' {
            let start = i;
            i += 1;
            while let Some(&d) = chars.get(i) {
                i += 1;
                if d == '\\' {
                    i += 1;
                } else if d == '"' {
                    break;
                }
            }
            let s: String = chars
                .get(start..i.min(chars.len()))
                .unwrap_or(&[])
                .iter()
                .collect();
            push_token(&mut out, &mut space, &s);
            continue;
        }
        if c.is_whitespace() {
            space = true;
            i += 1;
            continue;
        }
        if c == ',' || c == ':' {
            // No space before, one after.
            out.push(c);
            space = true;
            i += 1;
            continue;
        }
        if c == ')' || c == ']' {
            space = false;
            out.push(c);
            i += 1;
            continue;
        }
        if c == '(' || c == '[' {
            push_token(&mut out, &mut space, &c.to_string());
            // No space after an opener.
            while chars.get(i + 1).is_some_and(|d| d.is_whitespace()) {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == '%' || c == '€' {
            space = true;
            push_token(&mut out, &mut space, &c.to_string());
            i += 1;
            continue;
        }
        let rest: String = chars
            .get(i..(i + 2).min(chars.len()))
            .unwrap_or(&[])
            .iter()
            .collect();
        if let Some(op) = SPACED_OPS
            .iter()
            .find(|op| rest.starts_with(**op))
            .or_else(|| binary_minus(&chars, i, header_line).then_some(&"-"))
        {
            space = true;
            push_token(&mut out, &mut space, op);
            space = true;
            i += op.chars().count();
            continue;
        }
        // Any other character belongs to a word, number or punctuation token.
        let start = i;
        while let Some(&d) = chars.get(i) {
            let op_here = {
                let r: String = chars
                    .get(i..(i + 2).min(chars.len()))
                    .unwrap_or(&[])
                    .iter()
                    .collect();
                SPACED_OPS.iter().any(|op| r.starts_with(*op))
                    || (i > start && binary_minus(&chars, i, header_line))
            };
            if d.is_whitespace()
                || matches!(d, '"' | ',' | ':' | '(' | ')' | '[' | ']' | '%' | '€')
                || op_here
            {
                break;
            }
            i += 1;
        }
        if i == start {
            i += 1;
        }
        let tok: String = chars.get(start..i).unwrap_or(&[]).iter().collect();
        push_token(&mut out, &mut space, &tok);
    }
    out
}

/// Applies a line's brackets to the stack of open brackets, each holding
/// the indentation of the line that opened it.
fn track_brackets(code: &str, indent: usize, stack: &mut Vec<usize>) {
    let mut in_str = false;
    let mut escaped = false;
    for c in code.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' | '[' | '{' => stack.push(indent),
            ')' | ']' | '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
}

fn format_cell(cell: &str) -> String {
    let (code, comment) = split_comment(cell.trim());
    let mut s = normalize_code(code.trim());
    if !comment.is_empty() {
        s.push(' ');
        s.push_str(comment.trim_end());
    }
    s
}

/// How wide a cell may be and still set its column's width.
const WIDE_CELL: usize = 40;

/// Formats a run of table rows: cells normalised and columns aligned.
fn format_rows(rows: &[(String, String)], indent: &str, out: &mut Vec<String>) {
    let split: Vec<(Vec<String>, String)> = rows
        .iter()
        .map(|(code, comment)| {
            let inner = code.trim().trim_start_matches('|');
            let inner = inner.strip_suffix('|').unwrap_or(inner);
            (inner.split('|').map(format_cell).collect(), comment.clone())
        })
        .collect();
    let columns = split.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    // A cell longer than `WIDE_CELL` is written as it is and does not widen
    // its column: one long formula would otherwise pad every row of the
    // table to its width.
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            split
                .iter()
                .filter_map(|(c, _)| c.get(i).map(|s| s.chars().count()))
                .filter(|w| *w <= WIDE_CELL)
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (cells, comment) in split {
        let mut line = format!("{indent}|");
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            line.push(' ');
            line.push_str(c);
            for _ in c.chars().count()..w {
                line.push(' ');
            }
            line.push_str(" |");
        }
        if !comment.is_empty() {
            line.push(' ');
            line.push_str(&comment);
        }
        out.push(line);
    }
}

/// Formats a whole rulebook.
pub fn format(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row_indent = String::new();
    let mut blank_pending = false;
    for raw in text.lines() {
        let line = raw.trim_end();
        let is_row = line.trim_start().starts_with('|');
        if !is_row && !rows.is_empty() {
            format_rows(&rows, &row_indent, &mut out);
            rows.clear();
        }
        if line.trim().is_empty() {
            blank_pending = !out.is_empty();
            continue;
        }
        if blank_pending {
            out.push(String::new());
            blank_pending = false;
        }
        let at_col0 = !line.starts_with([' ', '\t']);
        let trimmed = line.trim_start();
        let original_indent = line.len() - trimmed.len();
        if at_col0 && starts_item(line) {
            open.clear();
        }
        let (code, comment) = split_comment(trimmed);
        let starts_closer = code.trim_start().starts_with([')', ']', '}']);
        let width = if at_col0 && (starts_item(line) || trimmed.starts_with("--")) {
            0
        } else if let Some(&opener) = open.last() {
            // Inside brackets: one step in from the line that opened them,
            // and a closing bracket lines up with that line.
            if starts_closer {
                opener
            } else {
                opener + 2
            }
        } else if original_indent >= 4 {
            4
        } else {
            2
        };
        let indent = " ".repeat(width);
        // A table row is one line, and its cells are parsed one by one: a
        // bracket in a cell never continues on the next line.
        if !is_row {
            track_brackets(code, width, &mut open);
        }
        if is_row {
            if rows.is_empty() {
                row_indent = indent;
            }
            rows.push((code.to_string(), comment.trim_end().to_string()));
            continue;
        }
        let mut formatted = normalize_code(code.trim());
        if !comment.is_empty() {
            if !formatted.is_empty() {
                formatted.push(' ');
            }
            formatted.push_str(comment.trim_end());
        }
        out.push(format!("{indent}{formatted}"));
    }
    if !rows.is_empty() {
        format_rows(&rows, &row_indent, &mut out);
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}
