//! The meaning both evaluators share, so that the interpreter and the
//! evaluation plans cannot drift apart: decimal and integer arithmetic,
//! comparisons, rounding, date arithmetic, which exception of a rule
//! decides, a parameter's value in force,
//! finding a table's rows and a scale's bracket, and the decision they
//! return.

pub mod arithmetic;
pub mod dates;
pub mod decision;
pub mod exceptions;
pub mod explanation;
pub mod rows;
pub mod scales;
