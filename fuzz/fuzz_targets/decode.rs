//! Arbitrary JSON and YAML cases against every bundled rulebook: decoding
//! and, when the case fits, evaluation must not panic. The direct JSON
//! decoder used by batch mode must accept nothing the ordinary decoder
//! refuses, and decode what it accepts to the same case; a batch line
//! always gives a record.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let programs = common::programs();
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Some(p) = programs.get(first as usize % programs.len().max(1)) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    for format in [rulebook::cases::input::Format::Json, rulebook::cases::input::Format::Yaml] {
        if let Ok(doc) = rulebook::cases::input::parse_document(text, format) {
            if let Ok(case) = rulebook::cases::input::decode_case(p, &doc, None) {
                let _ =
                    rulebook::eval::evaluate(p, &case, &rulebook::eval::Options { explain: true });
            }
        }
    }
    let take_id = first & 0x80 != 0;
    if let Some((id, case)) = rulebook::cases::input::decode_case_json(p, text, None, take_id) {
        let mut doc: serde_json::Value =
            serde_json::from_str(text).expect("the direct decoder took text that is not JSON");
        let slow_id = if take_id {
            doc.as_object_mut().and_then(|m| m.shift_remove("id"))
        } else {
            None
        };
        let slow = rulebook::cases::input::decode_case(p, &doc, None)
            .expect("the direct decoder took a case the ordinary one refuses");
        assert_eq!(format!("{slow:?}"), format!("{case:?}"));
        assert_eq!(slow_id, id);
    }
    let mut decider = rulebook::cases::batch::Decider::new(vec![p], None);
    let decided = decider.decide_json(text);
    let mut out = Vec::new();
    rulebook::cases::batch::write_jsonl(&mut out, 1, &decided);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&out).is_ok(),
        "a batch record is not JSON"
    );
});
