//! Parameter Store references in commands (`{{ssm:name}}`): checked when the command is sent
//! (they exist, have the right type, and the sender may read them), and resolved in memory each
//! time the command is delivered, so the stored command keeps the references, not the values.
//! `{{ssm-secure:…}}` is refused for now: resolved into script text the value would reach the
//! node's disk (see `check`).

use std::collections::BTreeMap;

use bosun_core::arn::Scope;
use bosun_core::document::{plan_references, SsmReference, StepPlan};
use bosun_core::parameters::name;
use bosun_store::{ParameterVersion, Store};

use super::error::ApiError;
use super::parameters::lookup;
use super::Ctx;

fn refused(r: &SsmReference, why: &str) -> ApiError {
    ApiError::new("InvalidParameters", format!("{} {why}", r.token))
}

/// Check every reference of a plan for the caller.
pub fn check(ctx: &Ctx, steps: &[StepPlan]) -> Result<(), ApiError> {
    for r in plan_references(steps) {
        if r.secure {
            // Resolved into script text, a SecureString would land in the script file on the
            // node. Until secrets travel only in the step's environment, refuse them.
            return Err(refused(
                &r,
                "is a SecureString reference; Bosun does not pass SecureStrings to commands yet \
                 (the value would be written to the node's disk).",
            ));
        }
        let found = lookup(ctx, &r.name)
            .map_err(|e| refused(&r, &format!("cannot be resolved: {}", e.message)))?;
        let Some((version, _)) = found else {
            return Err(refused(
                &r,
                "names a parameter that does not exist in this region.",
            ));
        };
        if version.param_type == "SecureString" {
            return Err(refused(
                &r,
                "names a SecureString, which commands cannot use yet.",
            ));
        }
        let resource = super::ops::parameter_resource(&ctx.scope(), &version.name);
        ctx.authorize_and_audit("ssm:GetParameters", &resource)?;
    }
    Ok(())
}

fn find(
    store: &Store,
    region: &str,
    arn_prefix: &str,
    reference: &str,
) -> anyhow::Result<ParameterVersion> {
    let r = name::parse_reference(reference, arn_prefix)
        .ok_or_else(|| anyhow::anyhow!("malformed reference"))?;
    let key = name::key(&r.name);
    let found = match &r.selector {
        None => store.parameter(region, &key)?,
        Some(name::Selector::Version(n)) => store.parameter_version(region, &key, *n)?,
        Some(name::Selector::Label(l)) => store.parameter_by_label(region, &key, l)?,
    };
    found.ok_or_else(|| anyhow::anyhow!("the parameter no longer exists"))
}

/// Resolve the references of a plan for delivery (in memory only).
pub fn resolve(store: &Store, scope: &Scope, steps: &mut [StepPlan]) -> anyhow::Result<()> {
    let refs = plan_references(steps);
    if refs.is_empty() {
        return Ok(());
    }
    let prefix = scope.ssm_arn("parameter/");
    let mut values = BTreeMap::new();
    for r in refs {
        let v = find(store, &scope.region, &prefix, &r.name)
            .map_err(|e| anyhow::anyhow!("{}: {e}", r.token))?;
        if r.secure || v.param_type == "SecureString" {
            anyhow::bail!("{}: SecureStrings are not passed to commands", r.token);
        }
        values.insert(r.token, v.value);
    }
    bosun_core::document::substitute(steps, &values);
    Ok(())
}
