//! The stable codes of every finding and evaluation error. A code is an enum
//! variant, so a misspelt code does not compile, and `Code::ALL` is what the
//! tests walk to check that each code is documented and produced.

use serde::Serialize;

/// Where a code is reported: by the checker (and so by `rulebook check` and
/// the language server), or while evaluating one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Check,
    Evaluation,
}

macro_rules! codes {
    ($($variant:ident = $text:literal, $stage:ident, $summary:literal;)*) => {
        /// A stable diagnostic code; its text (`Code::as_str`) is what users
        /// see and what `docs/diagnostics.md` documents.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum Code {
            $(#[serde(rename = $text)] $variant,)*
        }

        impl Code {
            /// Every code, in the order of `docs/diagnostics.md`.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }

            /// A one-line description.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            pub fn stage(self) -> Stage {
                match self { $(Code::$variant => Stage::$stage,)* }
            }
        }
    };
}

codes! {
    Syntax = "syntax", Check, "the text does not follow the grammar";
    MissingHeader = "missing-header", Check, "the file has no `rulebook` header";
    DuplicateHeader = "duplicate-header", Check, "the file has more than one `rulebook` header";
    InvalidHeader = "invalid-header", Check, "the header lacks a version or validity period, or has an impossible one";
    InvalidDate = "invalid-date", Check, "a date that does not exist in the calendar";
    InvalidNumber = "invalid-number", Check, "a number that is too large, has more digits than are held exactly, or is malformed";
    BidiControl = "bidi-control", Check, "an invisible character that changes the order in which text is shown";
    MissingTranslation = "missing-translation", Check, "a text without its translation into a language the rulebook declares";
    UnknownLanguage = "unknown-language", Check, "a text in a language the rulebook does not declare, or a language declared twice";
    UnknownName = "unknown-name", Check, "a name that is not defined";
    UnknownType = "unknown-type", Check, "a type name that is not defined";
    UnknownField = "unknown-field", Check, "a record has no field of that name";
    DuplicateDefinition = "duplicate-definition", Check, "two definitions share a name";
    TypeMismatch = "type-mismatch", Check, "a value of the wrong type";
    UnitMismatch = "unit-mismatch", Check, "arithmetic or comparison that mixes units, such as money and a bare number";
    WrongArguments = "wrong-arguments", Check, "a call with the wrong number of arguments";
    Cycle = "cycle", Check, "definitions that depend on themselves";
    NotConstant = "not-constant", Check, "a parameter value or table cell that is not a constant";
    ParameterDates = "parameter-dates", Check, "dated parameter values out of order or repeated";
    TableShape = "table-shape", Check, "a table whose rows or header do not match its inputs";
    TableGap = "table-gap", Check, "an input that no row of a table matches";
    TableDomain = "table-domain", Check, "a table called with a value that its parameter's bounds do not allow";
    TableOverlap = "table-overlap", Check, "an input that two rows of a unique table match";
    UnreachableRow = "unreachable-row", Check, "a row of a first-hit table that earlier rows always shadow";
    EmptyRange = "empty-range", Check, "a range that no value can be in";
    ScaleOrder = "scale-order", Check, "scale thresholds that are not increasing";
    DuplicateOverrideRank = "duplicate-override-rank", Check, "two overrides of one rule with the same rank that can both apply";
    UnroundedMoney = "unrounded-money", Check, "a money output that is never rounded";
    UnusedDefinition = "unused-definition", Check, "a definition that nothing uses";
    TooDeep = "too-deep", Check, "an item nested more deeply, or a definition chain longer, than the documented limits";
    InvalidUse = "invalid-use", Check, "a `use` of a programme that is not loaded, has errors, has no version for this period or whose versions disagree; or a used name that needs the case's inputs";
    InvalidAmendment = "invalid-amendment", Check, "an amendment that removes what it does not inherit, or whose base version is missing";
    VersionOverlap = "version-overlap", Check, "two versions of one programme in force on the same day, or sharing a version name";
    VersionGap = "version-gap", Check, "days between two versions of a programme when none is in force";
    InvalidProperty = "invalid-property", Check, "a relation that moves something other than an input number, amount or date";
    TrivialProperty = "trivial-property", Check, "a property that does not depend on the case and so can never fail";
    InvalidExample = "invalid-example", Check, "an example that names unknown inputs, outputs or criteria, or has wrong values";

    DivisionByZero = "division-by-zero", Evaluation, "a division by zero";
    NoRowMatched = "no-row-matched", Evaluation, "no row of a table matched the arguments";
    RowsOverlap = "rows-overlap", Evaluation, "two rows of a unique table matched";
    ConflictingOverrides = "conflicting-overrides", Evaluation, "two overrides of equal rank both apply";
    NoValueInForce = "no-value-in-force", Evaluation, "a dated parameter has no value in force on the decision date";
    EmptyList = "empty-list", Evaluation, "`min` or `max` over an empty list without `if empty`";
    BelowScale = "below-scale", Evaluation, "a single-amount scale's base is below its first threshold";
    Overflow = "overflow", Evaluation, "a number too large to compute exactly";
    DateOutOfRange = "date-out-of-range", Evaluation, "date arithmetic left the calendar";
    Incomparable = "incomparable", Evaluation, "two durations of different kinds were ordered";
    MissingInput = "missing-input", Evaluation, "an input the rulebook declares was not given";
    UsedRulebook = "used-rulebook", Evaluation, "a used rulebook has no version in force on the decision date, was given inputs outside its bounds, or found the part of the case not eligible";
    Internal = "internal", Evaluation, "a broken invariant inside rulebook itself; please report it";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_unique_and_serialize_as_themselves() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            let Ok(json) = serde_json::to_string(code) else {
                panic!("{code} does not serialize");
            };
            assert_eq!(json, format!("\"{code}\""));
        }
    }
}
