//! Cases in and decisions out: decoding a case file (JSON or YAML) by the
//! program's declared inputs, batch records (JSON Lines and CSV), and the
//! JSON schema of a programme's inputs.

pub mod alternatives;
pub mod batch;
pub mod document;
pub mod input;
pub mod schema;
