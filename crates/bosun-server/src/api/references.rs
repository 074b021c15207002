//! Parameter Store references in commands (`{{ssm:name}}`, `{{ssm-secure:name}}`): checked when
//! the command is sent (they exist, have the right type, and the sender may read — and for
//! SecureStrings decrypt — them), and resolved in memory each time the command is delivered, so
//! the stored command keeps the references, never the values. SecureString values never become
//! script text: they travel in the step's environment, marked secret, and the agent keeps them
//! in memory only.

use std::collections::BTreeMap;

use bosun_core::arn::Scope;
use bosun_core::document::{plan_references, references_outside_scripts, SsmReference, StepPlan};
use bosun_core::parameters::name;
use bosun_store::prelude::*;
use bosun_store::ParameterVersion;

use super::error::ApiError;
use super::parameters::{lookup, Decrypter};
use super::Ctx;
use crate::kms::envelope;
use crate::kms::Keyring;

fn refused(r: &SsmReference, why: &str) -> ApiError {
    ApiError::new("InvalidParameters", format!("{} {why}", r.token))
}

/// Check every reference of a plan for the caller: it exists, its type matches the reference
/// kind, the caller may read it, and for `ssm-secure` may decrypt it (`kms:Decrypt`).
pub fn check(ctx: &Ctx, steps: &[StepPlan]) -> Result<(), ApiError> {
    if let Some(r) = references_outside_scripts(steps)
        .into_iter()
        .find(|r| r.secure)
    {
        return Err(refused(
            &r,
            "can be used only in a step's runCommand or environment, not in plugin inputs or in a document run by aws:runDocument.",
        ));
    }
    let mut decrypter = Decrypter::new(ctx);
    for r in plan_references(steps) {
        if r.secure && steps.iter().any(|s| s.working_directory.contains(&r.token)) {
            return Err(refused(&r, "cannot be used as a working directory."));
        }
        let found = lookup(ctx, &r.name)
            .map_err(|e| refused(&r, &format!("cannot be resolved: {}", e.message)))?;
        let Some((version, _)) = found else {
            return Err(refused(
                &r,
                "names a parameter that does not exist in this region.",
            ));
        };
        let secure = version.param_type == "SecureString";
        if secure && !r.secure {
            return Err(refused(
                &r,
                "names a SecureString; reference it with {{ssm-secure:…}}.",
            ));
        }
        if !secure && r.secure {
            return Err(refused(
                &r,
                "names a parameter that is not a SecureString; use {{ssm:…}}.",
            ));
        }
        let resource = super::ops::parameter_resource(&ctx.scope(), &version.name);
        ctx.authorize_and_audit("ssm:GetParameters", &resource)?;
        if secure {
            // Proves kms:Decrypt and that the value opens; the plaintext is dropped at once.
            decrypter.open(&version)?;
        }
    }
    Ok(())
}

/// The parameter version `reference` names (`name`, `name:3`, `name:label`, or an ARN under
/// `arn_prefix`); `None` when it does not exist. Shared with mail and webhook templates.
pub(crate) fn lookup_reference(
    store: &dyn Store,
    region: &str,
    arn_prefix: &str,
    reference: &str,
) -> anyhow::Result<Option<ParameterVersion>> {
    let r = name::parse_reference(reference, arn_prefix)
        .ok_or_else(|| anyhow::anyhow!("malformed reference"))?;
    let key = name::key(&r.name);
    Ok(match &r.selector {
        None => store.parameter(region, &key)?,
        Some(name::Selector::Version(n)) => store.parameter_version(region, &key, *n)?,
        Some(name::Selector::Label(l)) => store.parameter_by_label(region, &key, l)?,
    })
}

fn find(
    store: &dyn Store,
    region: &str,
    arn_prefix: &str,
    reference: &str,
) -> anyhow::Result<ParameterVersion> {
    lookup_reference(store, region, arn_prefix, reference)?
        .ok_or_else(|| anyhow::anyhow!("the parameter no longer exists"))
}

/// Resolve the references of a plan for delivery (in memory only).
pub fn resolve(
    store: &dyn Store,
    kms: &Keyring,
    replica: &crate::replicas::Replica,
    scope: &Scope,
    steps: &mut [StepPlan],
) -> anyhow::Result<()> {
    let refs = plan_references(steps);
    if refs.is_empty() {
        return Ok(());
    }
    let prefix = scope.ssm_arn("parameter/");
    let mut values = BTreeMap::new();
    let mut secrets = BTreeMap::new();
    for r in refs {
        let v = find(store, &scope.region, &prefix, &r.name)
            .map_err(|e| anyhow::anyhow!("{}: {e}", r.token))?;
        if r.secure != (v.param_type == "SecureString") {
            anyhow::bail!(
                "{}: the parameter's type changed since the command was sent",
                r.token
            );
        }
        if r.secure {
            replica
                .keyring_check()
                .map_err(|why| anyhow::anyhow!("{}: {why}", r.token))?;
            let arn = scope.ssm_arn(&name::arn_resource(&v.name));
            let plain = envelope::open(|id| kms.find(id), &arn, v.version, &v.value)
                .map_err(|_| anyhow::anyhow!("{}: the value cannot be decrypted", r.token))?;
            secrets.insert(r.token, plain);
        } else {
            values.insert(r.token, v.value);
        }
    }
    bosun_core::document::substitute_resolved(steps, &values, &secrets);
    Ok(())
}
