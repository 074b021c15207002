//! EventBridge rules as pure code: the event-pattern language (`pattern`: parse, validate with
//! AWS's `InvalidEventPatternException` reasons, match events) and what a target receives
//! (`transform`: `Input`, `InputPath`, `InputTransformer`), the API's names, ARNs and quotas
//! for rules on the default bus (`rules`), the events SSM emits in AWS's envelope (`envelope`;
//! State Manager's in `envelope_associations`, Automation's in `envelope_automation`,
//! maintenance windows' runs in `envelope_maintenance_windows` and their definitions' changes in
//! `envelope_maintenance_window_definitions`, parameter policies' actions
//! in `envelope_parameter_policies`, Bosun's session event in `envelope_sessions`), and
//! custom events sent with `PutEvents` (`custom`).
//!
//! Compile a pattern once and match it against many events: matching walks the event in place
//! and allocates only when array elements must be kept consistent.

pub mod custom;
pub mod envelope;
pub mod envelope_associations;
pub mod envelope_automation;
pub mod envelope_maintenance_window_definitions;
pub mod envelope_maintenance_windows;
pub mod envelope_nodes;
pub mod envelope_parameter_policies;
pub mod envelope_sessions;
pub mod pattern;
pub mod rules;
pub mod transform;
