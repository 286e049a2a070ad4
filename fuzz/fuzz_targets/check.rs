//! Arbitrary text through the parser, the checker, the table analysis, the
//! editor index and the examples: nothing may panic. Every program the text
//! checks into is also decided on each of its examples by the plan (where it
//! has one) and by the interpreter, which must agree; a disagreement prints
//! the plan's listing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rulebook::eval::{evaluate, interpret, Case, Executable, Options, Scratch};

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
        if let Some(program) = rulebook::check::check(text).program {
            compare_evaluators(Executable::new(program));
        }
    }
});

fn compare_evaluators(p: Executable) {
    let plain = Options { explain: false };
    let mut scratch = Scratch::default();
    for ex in &p.examples {
        let case = Case {
            decision_date: ex.date,
            inputs: ex.inputs.clone(),
        };
        let planned = evaluate(&p, &case, &plain);
        let interpreted = interpret(&p, &case, &plain, &mut scratch);
        if format!("{planned:?}") != format!("{interpreted:?}") {
            let listing = match p.compiled_plan() {
                Ok(plan) => plan.listing(&p),
                Err(why) => format!("no plan: {why}"),
            };
            panic!("plan {planned:?} but interpreter {interpreted:?}\n{listing}");
        }
    }
}
