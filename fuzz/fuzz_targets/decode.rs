//! Arbitrary JSON and YAML cases against every bundled rulebook: decoding
//! and, when the case fits, evaluation must not panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let programs = common::programs();
    let Some((&first, rest)) = data.split_first() else { return };
    let Some(p) = programs.get(first as usize % programs.len().max(1)) else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    for format in [rulebook::input::Format::Json, rulebook::input::Format::Yaml] {
        if let Ok(doc) = rulebook::input::parse_document(text, format) {
            if let Ok(case) = rulebook::input::decode_case(p, &doc, None) {
                let _ = rulebook::eval::evaluate(p, &case, &rulebook::eval::Options { explain: true });
            }
        }
    }
});
