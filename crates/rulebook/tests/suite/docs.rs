//! Every `rulebook` code block in docs/language.md must parse, so the
//! reference cannot drift from the grammar.

#[test]
fn language_reference_examples_parse() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../..",
        "/docs/language.md"
    ))
    .unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```rulebook") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(blocks.len() >= 15, "found only {} examples", blocks.len());
    for block in blocks {
        let text = if block.starts_with("rulebook") {
            block.clone()
        } else {
            format!(
                "rulebook doc.example \"Example\"\n  version 1\n  in force 2021-01-01\n\n{block}"
            )
        };
        let (_, diags) = rulebook::syntax::parse(&text);
        assert!(
            diags.is_empty(),
            "this example from docs/language.md does not parse:\n{block}\n{diags:#?}"
        );
    }
}
