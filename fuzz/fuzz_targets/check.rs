//! Arbitrary text through the parser, the checker, the table analysis, the
//! editor index and the examples: nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let a = rulebook::editor::analyze(text);
        let _ = a.tokens();
        let _ = a.folding();
        for offset in [0, text.len() / 2, text.len()] {
            let _ = a.hover(offset);
            let _ = a.completions(offset);
            let _ = a.references(offset, true);
        }
    }
});
