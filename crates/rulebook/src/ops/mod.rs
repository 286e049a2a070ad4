//! What is done with checked versions: formatting their text, comparing
//! two of them by meaning, measuring a change's impact on a population,
//! running a version's examples, and writing a decision's letter.

pub mod coverage;
pub mod diff;
pub mod examples;
pub mod format;
pub mod impact;
pub mod letter;
pub mod verify;
