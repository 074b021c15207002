//! Maintenance Window execution rules, pure (docs filled in below).

pub mod plan;
pub mod rollup;
pub mod status;
pub mod targets;
