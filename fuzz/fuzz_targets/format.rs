//! The formatter: formatting twice gives what formatting once gave, and a
//! text that parses keeps its syntax tree (spans aside).
#![no_main]
use libfuzzer_sys::fuzz_target;

fn meaning(text: &str) -> (String, usize) {
    let (file, diags) = rulebook::syntax::parse(text);
    let s = rulebook::syntax::ast::without_spans(&file);
    (s, diags.len())
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let once = rulebook::ops::format::format(text);
        let twice = rulebook::ops::format::format(&once);
        assert_eq!(once, twice, "formatting is not idempotent");
        let (before, errors) = meaning(text);
        if errors == 0 {
            let (after, errors_after) = meaning(&once);
            assert_eq!(
                errors_after, 0,
                "formatting broke a text that parsed:\n{text:?}\n{once:?}"
            );
            assert_eq!(
                before, after,
                "formatting changed the meaning:\n{text:?}\n{once:?}"
            );
        }
    }
});
