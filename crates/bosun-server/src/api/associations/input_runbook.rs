//! The rules of an Automation association's request (`AutomationTargetParameterName` or
//! `TargetMaps` with a runbook): how its targets are given, and what its runs will ask of
//! `StartAutomationExecution`, checked as a start would check it.

use crate::api::error::ApiError;
use crate::api::Ctx;

use super::input::AssociationInput;

/// An Automation association: targets given as `Targets` (one, as rate control takes), the
/// target parameter named, no `Duration` (it cancels commands), and what its runs will ask of
/// `StartAutomationExecution` acceptable now.
pub(super) fn check_runbook(ctx: &Ctx, req: &AssociationInput, name: &str) -> Result<(), ApiError> {
    if has_maps(req) {
        if req.automation_target_parameter_name.is_some() {
            return Err(ApiError::validation(
                "AutomationTargetParameterName applies to Targets; each TargetMaps entry names \
                 the parameters it sets itself.",
            ));
        }
        if req.duration.is_some() {
            return Err(ApiError::validation(
                "Duration applies to associations of Command documents; an Automation \
                 association's runbook ends by its own steps' timeouts.",
            ));
        }
        return crate::api::automation::start::check_target_maps_start(
            ctx,
            name,
            req.document_version.as_deref(),
            &req.parameters.clone().unwrap_or_default(),
            req.target_maps.as_deref().unwrap_or_default(),
            req.max_concurrency.as_deref(),
            req.max_errors.as_deref(),
        );
    }
    let Some(parameter) = req.automation_target_parameter_name.as_deref() else {
        return Err(ApiError::new(
            "InvalidParameters",
            format!(
                "{name} is an Automation runbook: name the runbook parameter each target fills \
                 with AutomationTargetParameterName (or give each run's parameters with \
                 TargetMaps)."
            ),
        ));
    };
    if req.instance_id.is_some() {
        return Err(ApiError::new(
            "InvalidTarget",
            "An Automation association targets with Targets, not InstanceId.",
        ));
    }
    if req.duration.is_some() {
        return Err(ApiError::validation(
            "Duration applies to associations of Command documents; an Automation \
             association's runbook ends by its own steps' timeouts.",
        ));
    }
    let targets = req.targets.clone().unwrap_or_default();
    if targets.len() != 1 {
        return Err(ApiError::new(
            "InvalidTarget",
            "An Automation association takes exactly one target (rate control runs the runbook \
             once per value it matches).",
        ));
    }
    let rate = crate::api::automation::targets::RateRequest {
        targets: &targets,
        target_parameter_name: Some(parameter),
        max_concurrency: req.max_concurrency.as_deref(),
        max_errors: req.max_errors.as_deref(),
    };
    crate::api::automation::start::check_rate_controlled_start(
        ctx,
        name,
        req.document_version.as_deref(),
        &req.parameters.clone().unwrap_or_default(),
        &rate,
    )
}

/// Whether the targets are a runbook's `ParameterValues` (values, not nodes).
pub(super) fn runbook_values(req: &AssociationInput) -> bool {
    req.automation_target_parameter_name.is_some()
        && req
            .targets
            .iter()
            .flatten()
            .any(|t| t.key.as_deref() == Some("ParameterValues"))
}

/// Whether the request gives `TargetMaps` (an Automation association's runs, one per map).
pub fn has_maps(req: &AssociationInput) -> bool {
    req.target_maps.as_ref().is_some_and(|m| !m.is_empty())
}
