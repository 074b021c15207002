//! State Manager associations: `CreateAssociation`, `CreateAssociationBatch`,
//! `DescribeAssociation`, `UpdateAssociation`, `DeleteAssociation`, `ListAssociations`,
//! `ListAssociationVersions`, `DescribeAssociationExecutions`, `StartAssociationsOnce`, and a
//! node's associations (`node_status.rs`).
//! Associations are stored and versioned here; the association
//! scheduler (`crate::association_scheduler`) runs them through [`execute`].

pub(crate) mod automation;
pub(crate) mod execute;
pub(crate) mod execute_batch;
mod executions;
mod input;
mod input_runbook;
mod list;
mod node_status;
mod shape;

use bosun_core::ids;
use bosun_core::validate::Validation;
use bosun_store::{
    AssociationDefinition, AssociationRecord, AssociationState, StoreError, UpdateAssociation,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::send_command::Target;
use super::{parse, Ctx};
use crate::documents::bare_name;
use crate::state::random_bytes;
use input::{check_members, definition, is_uuid, AssociationInput};

pub use executions::{
    describe_association_execution_targets, describe_association_executions,
    start_associations_once,
};
pub use list::{list_association_versions, list_associations};
pub use node_status::{
    describe_effective_instance_associations, describe_instance_associations_status,
    update_association_status,
};

/// AWS's limit of associations per account and region.
pub const MAX_ASSOCIATIONS: usize = 2000;
/// AWS's limit of versions per association.
pub const MAX_VERSIONS: usize = 1000;

fn no_such_association() -> ApiError {
    ApiError::new(
        "AssociationDoesNotExist",
        "The specified association does not exist.",
    )
}

fn invalid_version() -> ApiError {
    ApiError::new(
        "InvalidAssociationVersion",
        "The version you specified isn't valid. Use ListAssociationVersions to view all versions \
         of an association according to the association ID. Or, use the $LATEST parameter to \
         view the latest version of the association.",
    )
}

/// Check a request's members and store it as a new association; its description.
fn create(ctx: &Ctx, req: &AssociationInput, action: &str) -> Result<Value, ApiError> {
    let mut v = Validation::new();
    v.required("name", req.name.as_ref());
    check_members(req, &mut v);
    v.finish().map_err(ApiError::validation)?;
    let (definition, tags) = definition(ctx, req, action)?;
    let legacy = !definition.instance_id.is_empty();
    let record = AssociationRecord {
        region: ctx.region.clone(),
        association_id: ids::uuid_v4(random_bytes()),
        version: 1,
        created_ms: ctx.now_ms,
        updated_ms: ctx.now_ms,
        state: AssociationState {
            // AWS reports a status only for legacy (InstanceId) associations at creation.
            status_name: if legacy { "Associated" } else { "" }.into(),
            status_message: if legacy {
                format!("Associated with {}", definition.name)
            } else {
                String::new()
            },
            status_date_ms: ctx.now_ms,
            overview_status: "Pending".into(),
            overview_detailed_status: "Creating".into(),
            overview_counts_json: "{}".into(),
            last_execution_ms: None,
            last_successful_execution_ms: None,
        },
        definition,
    };
    match ctx
        .state
        .store
        .create_association(&record, &tags, MAX_ASSOCIATIONS)
    {
        Ok(()) => {
            ctx.state.associations.kick();
            Ok(shape::description(&record, None))
        }
        Err(StoreError::LimitExceeded(_)) => Err(ApiError::new(
            "AssociationLimitExceeded",
            "You can have at most 2,000 active associations.",
        )),
        Err(StoreError::AlreadyExists(_)) => Err(ApiError::new(
            "AssociationAlreadyExists",
            "The specified association already exists.",
        )),
        Err(e) => Err(e.into()),
    }
}

pub fn create_association(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: AssociationInput = parse(body)?;
    let description = create(ctx, &req, "ssm:CreateAssociation")?;
    Ok(json!({ "AssociationDescription": description }))
}

pub fn create_association_batch(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let entries = match body.get("Entries") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        Some(Value::Array(_)) => {
            return Err(ApiError::validation(
                "1 validation error detected: Value '[]' at 'entries' failed to satisfy \
                 constraint: Member must have length greater than or equal to 1",
            ))
        }
        _ => {
            return Err(ApiError::validation(
                "1 validation error detected: Value null at 'entries' failed to satisfy \
                 constraint: Member must not be null",
            ))
        }
    };
    let scope = ctx.scope();
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for entry in entries {
        let outcome = super::unsupported::check(
            "CreateAssociation",
            &entry,
            &super::unsupported::Abilities {
                writes_s3_output: ctx.state.blobs.writes_buckets(),
            },
        )
        .and_then(|()| parse::<AssociationInput>(entry.clone()))
        .and_then(|mut req| {
            // Entries carry no tags, ids or versions in AWS's model.
            req.tags = None;
            req.association_id = None;
            req.association_version = None;
            let document = req.name.as_deref().map(bare_name).unwrap_or_default();
            ctx.authorize_arns(
                "ssm:CreateAssociationBatch",
                [scope.ssm_arn(&format!("document/{document}")).as_str()],
            )?;
            create(ctx, &req, "ssm:CreateAssociationBatch")
        });
        match outcome {
            Ok(description) => successful.push(description),
            Err(e) => failed.push(json!({
                "Entry": entry,
                "Message": format!("{}: {}", e.code, e.message),
                "Fault": if e.status.is_server_error() { "Server" } else { "Client" },
            })),
        }
    }
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

/// `AssociationId`, or the legacy `Name` + `InstanceId`, of a describe or delete request.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WhichAssociation {
    association_id: Option<String>,
    name: Option<String>,
    instance_id: Option<String>,
    association_version: Option<String>,
}

fn find(ctx: &Ctx, req: &WhichAssociation) -> Result<AssociationRecord, ApiError> {
    let mut v = Validation::new();
    let members = AssociationInput {
        association_id: req.association_id.clone(),
        association_version: req.association_version.clone(),
        name: req.name.clone(),
        instance_id: req.instance_id.clone(),
        ..Default::default()
    };
    check_members(&members, &mut v);
    v.finish().map_err(ApiError::validation)?;
    let found = match (&req.association_id, &req.name, &req.instance_id) {
        (Some(id), _, _) => ctx.state.store.get_association(&ctx.region, id)?,
        (None, Some(name), Some(node)) => {
            ctx.state
                .store
                .association_of_node(&ctx.region, bare_name(name), node)?
        }
        _ => {
            return Err(ApiError::validation(
                "Specify AssociationId, or Name and InstanceId.",
            ))
        }
    };
    found.ok_or_else(no_such_association)
}

pub fn describe_association(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: WhichAssociation = parse(body)?;
    let a = find(ctx, &req)?;
    let version = match req.association_version.as_deref() {
        None | Some("$LATEST") => None,
        Some(n) => {
            let n: i64 = n.parse().map_err(|_| invalid_version())?;
            Some(
                ctx.state
                    .store
                    .association_version(&ctx.region, &a.association_id, n)?
                    .ok_or_else(invalid_version)?,
            )
        }
    };
    let mut description = shape::description(&a, version.as_ref());
    let info = node_status::additional_info(ctx, &a)?;
    if let (Some(status), false) = (description.get_mut("Status"), info.is_empty()) {
        status["AdditionalInfo"] = json!(info);
    }
    Ok(json!({ "AssociationDescription": description }))
}

pub fn delete_association(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: WhichAssociation = parse(body)?;
    let a = find(ctx, &req)?;
    if !ctx
        .state
        .store
        .delete_association(&ctx.region, &a.association_id)?
    {
        return Err(no_such_association());
    }
    Ok(json!({}))
}

/// The stored `Targets` of a definition (none for legacy associations).
fn stored_target_maps(
    d: &AssociationDefinition,
) -> Option<Vec<std::collections::BTreeMap<String, Vec<String>>>> {
    let spec: Value = serde_json::from_str(&d.spec_json).ok()?;
    serde_json::from_value(spec.get("TargetMaps")?.clone()).ok()
}

fn stored_targets(d: &AssociationDefinition) -> Option<Vec<Target>> {
    let spec: Value = serde_json::from_str(&d.spec_json).ok()?;
    serde_json::from_value(spec.get("Targets")?.clone()).ok()
}

pub fn update_association(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let mut req: AssociationInput = parse(body)?;
    let mut v = Validation::new();
    v.required("associationId", req.association_id.as_ref());
    check_members(&req, &mut v);
    v.finish().map_err(ApiError::validation)?;
    let id = req.association_id.clone().unwrap_or_default();
    debug_assert!(is_uuid(&id));
    let current = ctx
        .state
        .store
        .get_association(&ctx.region, &id)?
        .ok_or_else(no_such_association)?;
    let expected = match req.association_version.as_deref() {
        None | Some("$LATEST") => None,
        Some(n) => Some(n.parse::<i64>().map_err(|_| invalid_version())?),
    };
    // A stale version is refused before the request's content is judged; the store checks it
    // again atomically with the write.
    if expected.is_some_and(|n| n != current.version) {
        return Err(invalid_version());
    }
    // Members left out are reset (AWS: "overwrites the association with null values"), except
    // what an association cannot be without: its document and how it reaches nodes.
    let old = &current.definition;
    req.tags = None;
    req.name.get_or_insert_with(|| old.name.clone());
    if old.instance_id.is_empty() {
        req.instance_id = None;
        let maps_given = req.target_maps.as_ref().is_some_and(|m| !m.is_empty());
        if req.targets.as_ref().is_none_or(Vec::is_empty) && !maps_given {
            req.targets = stored_targets(old);
            req.target_maps = stored_target_maps(old);
        }
    } else {
        req.instance_id = Some(old.instance_id.clone());
        req.targets = None;
    }
    // A runbook's association cannot be without its target parameter either, while it keeps
    // its runbook.
    if req.automation_target_parameter_name.is_none() && req.name.as_deref() == Some(&old.name) {
        let spec: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&old.spec_json).unwrap_or_default();
        req.automation_target_parameter_name = spec
            .get("AutomationTargetParameterName")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
    }
    let document = bare_name(req.name.as_deref().unwrap_or_default()).to_string();
    ctx.authorize_arns(
        "ssm:UpdateAssociation",
        [ctx.scope()
            .ssm_arn(&format!("document/{document}"))
            .as_str()],
    )?;
    let (definition, _) = definition(ctx, &req, "ssm:UpdateAssociation")?;
    let outcome = ctx.state.store.update_association(
        &ctx.region,
        &id,
        expected,
        &definition,
        ctx.now_ms,
        MAX_VERSIONS,
    );
    match outcome {
        Ok(UpdateAssociation::Updated(a)) => {
            ctx.state.associations.kick();
            Ok(json!({ "AssociationDescription": shape::description(&a, None) }))
        }
        Ok(UpdateAssociation::NoSuchAssociation) => Err(no_such_association()),
        Ok(UpdateAssociation::VersionMismatch(_)) => Err(invalid_version()),
        Ok(UpdateAssociation::LimitExceeded) => Err(ApiError::new(
            "AssociationVersionLimitExceeded",
            "You have reached the maximum number versions allowed for an association. Each \
             association has a limit of 1,000 versions.",
        )),
        Err(StoreError::AlreadyExists(_)) => Err(ApiError::new(
            "AssociationAlreadyExists",
            "The specified association already exists.",
        )),
        Err(e) => Err(e.into()),
    }
}
