//! "Did you mean" suggestions for misspelt names.

/// Edit distance, for "did you mean" suggestions.
pub(super) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

pub fn suggest<'s>(name: &str, candidates: impl Iterator<Item = &'s str>) -> Option<&'s str> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    candidates
        .filter(|c| *c != name)
        .filter_map(|c| {
            let cl = c.to_lowercase();
            let d = distance(&lower, &cl);
            // A clipped name (`house` for `household`) is worth suggesting
            // too, but a close misspelling wins over it.
            let prefix =
                lower.chars().count() >= 3 && (cl.starts_with(&lower) || lower.starts_with(&cl));
            (d <= limit || prefix).then_some(((d > limit, d, c.len()), c))
        })
        .min_by_key(|(key, _)| *key)
        .map(|(_, c)| c)
}

/// The help that lists the inputs a rulebook has, or says it has none
/// (rather than "the inputs are" followed by nothing).
pub fn inputs_help<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    if names.is_empty() {
        "this rulebook has no inputs; declare one with `input NAME { ... }`, or remove this entry"
            .to_string()
    } else {
        format!("the inputs are {}", names.join(", "))
    }
}
