//! Maintenance Window execution rules, pure (docs filled in below).

pub mod ids;
pub mod kinds;
pub mod plan;
pub mod pseudo;
pub mod rollup;
pub mod status;
pub mod targets;
