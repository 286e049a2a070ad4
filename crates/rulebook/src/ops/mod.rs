//! What is done with checked versions: formatting their text, comparing
//! two of them by meaning, measuring a change's impact on a population,
//! running a version's examples, writing a decision's letter, and outlining
//! a version's parameters, tables and criteria for people to look up.

pub mod coverage;
pub mod diff;
pub mod examples;
pub mod format;
pub mod impact;
pub mod letter;
pub mod outline;
pub mod verify;
