//! What is done with checked versions: formatting their text, comparing
//! two of them by meaning, measuring a change's impact on a population,
//! and running a version's examples.

pub mod coverage;
pub mod diff;
pub mod examples;
pub mod format;
pub mod impact;
pub mod verify;
