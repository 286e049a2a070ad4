//! What an evaluation returns: the case it was given, the decision
//! (eligibility, failed criteria, outputs, an explanation when asked for),
//! and the error when a case cannot be decided.

use crate::diagnostic::Span;
use crate::ir::value::Value;
use chrono::NaiveDate;
use serde::Serialize;

/// One case: the decision date and a value for each input, in input order.
#[derive(Debug, Clone)]
pub struct Case {
    pub decision_date: NaiveDate,
    pub inputs: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedCriterion {
    pub criterion: String,
    pub section: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Decision {
    pub eligible: bool,
    pub failed_criteria: Vec<FailedCriterion>,
    /// Output values by definition slot, in output order. Empty when the
    /// case is not eligible: outputs are computed for eligible cases only.
    pub outputs: Vec<(u32, Value)>,
    pub explanation: Option<Vec<OutputExplanation>>,
    /// With an explanation asked for and the case not eligible: why each
    /// failed criterion failed, with the facts it was decided on.
    pub criteria_explanation: Option<Vec<CriterionExplanation>>,
    /// With an explanation asked for: every value the decision used, once
    /// (see `semantics::explanation`).
    pub graph: Option<crate::semantics::explanation::ExplanationGraph>,
}

/// Why a criterion failed: its condition with the case's values in it, and
/// how each value it used was reached.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionExplanation {
    pub criterion: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub reason: String,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputExplanation {
    pub output: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub value: String,
    pub steps: Vec<String>,
}

/// A failure while evaluating: names the rule, its place in the rulebook and
/// what went wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalError {
    pub code: crate::diagnostic::Code,
    pub message: String,
    /// The definition, table or criterion being evaluated.
    pub rule: String,
    pub span: Span,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.rule.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "in `{}`: {}", self.rule, self.message)
        }
    }
}

impl std::error::Error for EvalError {}
