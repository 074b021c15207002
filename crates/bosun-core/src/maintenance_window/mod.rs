//! Maintenance windows: the rules of their definitions and of when they run.
pub mod input;
pub mod upcoming;
