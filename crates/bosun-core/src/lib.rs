//! Bosun's pure domain logic: identifiers, validation, filters, paging, policies and signatures.
//!
//! Nothing in this crate performs IO or reads a clock: callers pass `now` and random bytes in.

pub mod agent_release;
pub mod arn;
pub mod association_overview;
pub mod automation;
pub mod command;
pub mod compliance;
pub mod document;
pub mod events;
pub mod idempotency;
pub mod ids;
pub mod instance;
pub mod maintenance_window;
pub mod model;
pub mod paging;
pub mod parameters;
pub mod policy;
pub mod power;
pub mod redact;
pub mod regions;
pub mod resource_groups;
pub mod schedule;
pub mod session;
pub mod session_document;
pub mod session_log;
pub mod signin_limit;
pub mod sigv4;
pub mod sns_email;
pub mod sns_filter;
pub mod sns_limits;
pub mod tags;
pub mod validate;
