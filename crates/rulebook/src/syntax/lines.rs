//! Line-level facts about rulebook text that the parser, the formatter
//! and amendments all need, without a parse: where a line's comment
//! starts and whether a line starts a top-level item.

pub const ITEM_KEYWORDS: &[&str] = &[
    "rulebook",
    "remove",
    "use",
    "enum",
    "record",
    "input",
    "let",
    "parameter",
    "table",
    "scale",
    "function",
    "output",
    "eligibility",
    "example",
    "property",
];

fn first_word(line: &str) -> &str {
    let end = line
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    line.get(..end).unwrap_or("")
}

/// Whether a line (without its newline) starts a top-level item.
pub fn starts_item(line: &str) -> bool {
    ITEM_KEYWORDS.contains(&first_word(line))
}

/// Splits a line into code and a trailing comment, respecting strings.
pub fn split_comment(line: &str) -> (&str, &str) {
    let mut in_str = false;
    let mut escaped = false;
    let bytes: Vec<(usize, char)> = line.char_indices().collect();
    for (n, (i, c)) in bytes.iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if *c == '\\' {
                escaped = true;
            } else if *c == '"' {
                in_str = false;
            }
            continue;
        }
        if *c == '"' {
            in_str = true;
        } else if *c == '-' && bytes.get(n + 1).map(|b| b.1) == Some('-') {
            return (line.get(..*i).unwrap_or(line), line.get(*i..).unwrap_or(""));
        }
    }
    (line, "")
}

/// A line without its trailing comment.
pub fn code_part(line: &str) -> &str {
    split_comment(line).0
}
