//! Changing documents: `CreateDocument`, `UpdateDocument`, `UpdateDocumentDefaultVersion`,
//! `DeleteDocument`, `ModifyDocumentPermission`.

use bosun_core::document::CommandDocument;
use bosun_core::tags::{check_tags, TagError};
use bosun_core::validate::Validation;
use bosun_store::{AddVersion, DocumentRecord, DocumentVersionRecord, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::documents::{check_selectors, content_error, description, find, name_chars_ok};
use super::package_attachments;
use super::wire::{tags_to_pairs, Tag};
use super::{parse, Ctx};
use crate::api::error::ApiError;
use crate::documents::content;
use crate::documents::{builtin, Selector};

/// Documents per region (AWS's default quota is 500; Bosun allows more).
pub const MAX_DOCUMENTS: usize = 5000;
/// Versions per document (AWS's limit).
pub const MAX_VERSIONS: usize = 1000;

const DOCUMENT_TYPES: &[&str] = &[
    "Command",
    "Policy",
    "Automation",
    "Session",
    "Package",
    "ApplicationConfiguration",
    "ApplicationConfigurationSchema",
    "DeploymentStrategy",
    "ChangeCalendar",
    "Automation.ChangeTemplate",
    "ProblemAnalysis",
    "ProblemAnalysisTemplate",
    "CloudFormation",
    "ConformancePackTemplate",
    "QuickSetup",
    "ManualApprovalPolicy",
    "AutoApprovalPolicy",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WriteRequest {
    content: Option<String>,
    name: Option<String>,
    display_name: Option<String>,
    version_name: Option<String>,
    document_type: Option<String>,
    document_format: Option<String>,
    document_version: Option<String>,
    target_type: Option<String>,
    tags: Option<Vec<Tag>>,
    requires: Option<Vec<Value>>,
    attachments: Option<Vec<Value>>,
}

/// Common checks of the members CreateDocument and UpdateDocument share.
fn check_common(req: &WriteRequest, v: &mut Validation) {
    v.required("content", req.content.as_ref());
    v.length(
        "content",
        req.content.as_deref().map(|_| "x"),
        1,
        usize::MAX,
    );
    v.required("name", req.name.as_ref());
    if let Some(n) = req
        .name
        .as_deref()
        .filter(|n| !(3..=128).contains(&n.len()) || !name_chars_ok(n, b""))
    {
        v.pattern_failed("name", n, r"^[a-zA-Z0-9_\-.]{3,128}$");
    }
    v.length("displayName", req.display_name.as_deref(), 0, 1024);
    check_selectors(
        v,
        req.document_version.as_deref(),
        req.version_name.as_deref(),
    );
    v.one_of(
        "documentFormat",
        req.document_format.as_deref(),
        &["YAML", "JSON", "TEXT"],
    );
    v.one_of("documentType", req.document_type.as_deref(), DOCUMENT_TYPES);
    if let Some(t) = req
        .target_type
        .as_deref()
        .filter(|t| t.len() > 200 || !t.starts_with('/') || !name_chars_ok(t, b":/"))
    {
        v.pattern_failed("targetType", t, r"^\/[\w\.\-\:\/]*$");
    }
    v.list_length("attachments", req.attachments.as_ref().map(Vec::len), 0, 20);
}

/// Size, syntax and schema of new content for a document type.
fn checked_content(content: &str, format: &str, document_type: &str) -> Result<String, ApiError> {
    content::check_size(content).map_err(content_error)?;
    let value = content::parse(content, format).map_err(content_error)?;
    Ok(content::validate(&value, document_type)
        .map_err(content_error)?
        .schema_version)
}

fn version_record(
    req: &WriteRequest,
    format: &str,
    schema_version: String,
    now: i64,
) -> DocumentVersionRecord {
    let content = req.content.clone().unwrap_or_default();
    DocumentVersionRecord {
        version: 1,
        version_name: req.version_name.clone().unwrap_or_default(),
        hash: CommandDocument::sha256(&content),
        content,
        format: format.to_string(),
        schema_version,
        requires_json: serde_json::to_string(&req.requires.clone().unwrap_or_default())
            .unwrap_or_else(|_| "[]".into()),
        created_ms: now,
    }
}

pub fn create_document(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: WriteRequest = parse(body)?;
    let mut v = Validation::new();
    check_common(&req, &mut v);
    v.list_length("tags", req.tags.as_ref().map(Vec::len), 0, 1000);
    v.finish().map_err(ApiError::validation)?;
    let name = req.name.clone().unwrap_or_default();
    bosun_core::document::validate_document_name(&name).map_err(|e| content_error(e.into()))?;
    if builtin(&name).is_some() {
        return Err(ApiError::validation(format!(
            "{name} is the name of a built-in document"
        )));
    }
    let document_type = req
        .document_type
        .clone()
        .unwrap_or_else(|| "Command".into());
    let format = req.document_format.clone().unwrap_or_else(|| "JSON".into());
    let schema_version = checked_content(
        req.content.as_deref().unwrap_or_default(),
        &format,
        &document_type,
    )?;
    package_attachments::check_write(
        ctx,
        &document_type,
        req.content.as_deref().unwrap_or_default(),
        &format,
        req.attachments.as_deref(),
    )?;
    let tags = tags_to_pairs(req.tags.as_deref().unwrap_or_default());
    check_tags(&tags, "tags").map_err(|e| match e {
        TagError::Validation(m) => ApiError::validation(m),
        TagError::Reserved(m) => ApiError::new("InvalidParameters", m),
    })?;
    let record = DocumentRecord {
        region: ctx.region.clone(),
        name: name.clone(),
        document_type,
        target_type: req.target_type.clone().unwrap_or_default(),
        display_name: req.display_name.clone().unwrap_or_default(),
        created_ms: ctx.now_ms,
        default_version: 1,
        latest_version: 1,
    };
    let version = version_record(&req, &format, schema_version, ctx.now_ms);
    match ctx
        .state
        .store
        .create_document(&record, &version, &tags, MAX_DOCUMENTS)
    {
        Ok(()) => {}
        Err(StoreError::AlreadyExists(_)) => {
            return Err(ApiError::new(
                "DocumentAlreadyExists",
                "The specified document already exists.",
            ))
        }
        Err(StoreError::LimitExceeded(m)) => {
            return Err(ApiError::new(
                "DocumentLimitExceeded",
                format!("This region already holds {m}."),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    if let Err(e) =
        package_attachments::check_stored(ctx, &record.document_type, &version.content, &format)
    {
        ctx.state.store.delete_document(&ctx.region, &name)?;
        return Err(e);
    }
    let d = find(ctx, &name, Selector::Number(1))?;
    Ok(json!({ "DocumentDescription": description(ctx, &d)? }))
}

pub fn update_document(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: WriteRequest = parse(body)?;
    let mut v = Validation::new();
    check_common(&req, &mut v);
    v.finish().map_err(ApiError::validation)?;
    let name = req.name.clone().unwrap_or_default();
    let current = find(ctx, &name, Selector::Latest)?;
    if current.builtin {
        return Err(ApiError::new(
            "InvalidDocumentOperation",
            format!("{name} is a built-in document and cannot be changed."),
        ));
    }
    match req.document_version.as_deref() {
        None | Some("$LATEST") => {}
        Some(v) if v == current.latest_version.to_string() => {}
        Some(_) => {
            // Only the latest version can be updated; AWS's text as moto records it.
            return Err(ApiError::new(
                "InvalidDocumentVersion",
                "The document version is not valid or does not exist.",
            ));
        }
    }
    let format = req
        .document_format
        .clone()
        .unwrap_or_else(|| current.format.clone());
    let schema_version = checked_content(
        req.content.as_deref().unwrap_or_default(),
        &format,
        &current.document_type,
    )?;
    package_attachments::check_write(
        ctx,
        &current.document_type,
        req.content.as_deref().unwrap_or_default(),
        &format,
        req.attachments.as_deref(),
    )?;
    let version = version_record(&req, &format, schema_version, ctx.now_ms);
    let added =
        ctx.state
            .store
            .add_document_version(&ctx.region, &current.name, &version, MAX_VERSIONS)?;
    let number = match added {
        AddVersion::Added(n) => n,
        AddVersion::DuplicateContent => {
            return Err(ApiError::new(
                "DuplicateDocumentContent",
                "The content of the association document matches another document. Change the content of the document and try again.",
            ))
        }
        AddVersion::DuplicateVersionName => {
            return Err(ApiError::new(
                "DuplicateDocumentVersionName",
                "The specified version name is a duplicate.",
            ))
        }
        AddVersion::LimitExceeded => {
            return Err(ApiError::new(
                "DocumentVersionLimitExceeded",
                format!("A document can have at most {MAX_VERSIONS} versions."),
            ))
        }
        AddVersion::NoSuchDocument => {
            return Err(ApiError::new(
                "InvalidDocument",
                format!("Document {name} does not exist."),
            ))
        }
    };
    if let Err(e) =
        package_attachments::check_stored(ctx, &current.document_type, &version.content, &format)
    {
        ctx.state
            .store
            .delete_document_version(&ctx.region, &current.name, number)?;
        return Err(e);
    }
    let d = find(ctx, &name, Selector::Number(number))?;
    Ok(json!({ "DocumentDescription": description(ctx, &d)? }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DefaultRequest {
    name: Option<String>,
    document_version: Option<String>,
}

pub fn update_document_default_version(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DefaultRequest = parse(body)?;
    let mut v = Validation::new();
    v.required("name", req.name.as_ref());
    v.required("documentVersion", req.document_version.as_ref());
    let number = req.document_version.as_deref().and_then(|s| {
        s.parse::<i64>()
            .ok()
            .filter(|n| *n >= 1 && !s.starts_with('0'))
    });
    if let (Some(s), None) = (req.document_version.as_deref(), number) {
        v.pattern_failed("documentVersion", s, "(^[1-9][0-9]*$)");
    }
    v.finish().map_err(ApiError::validation)?;
    let name = req.name.unwrap_or_default();
    let d = find(ctx, &name, Selector::Default)?;
    if d.builtin {
        return Err(ApiError::new(
            "InvalidDocument",
            format!("{name} is a built-in document."),
        ));
    }
    let number = number.unwrap_or(0);
    if !ctx
        .state
        .store
        .set_default_document_version(&ctx.region, &d.name, number)?
    {
        return Err(ApiError::new(
            "InvalidDocumentVersion",
            format!("Document {name} has no version {number}."),
        ));
    }
    let chosen = find(ctx, &name, Selector::Number(number))?;
    let mut out = json!({ "Name": chosen.name, "DefaultVersion": number.to_string() });
    if !chosen.version_name.is_empty() {
        out["DefaultVersionName"] = json!(chosen.version_name);
    }
    Ok(json!({ "Description": out }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteRequest {
    name: Option<String>,
    document_version: Option<String>,
    version_name: Option<String>,
    #[allow(dead_code)]
    force: Option<bool>,
}

pub fn delete_document(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DeleteRequest = parse(body)?;
    let mut v = Validation::new();
    v.required("name", req.name.as_ref());
    check_selectors(
        &mut v,
        req.document_version.as_deref(),
        req.version_name.as_deref(),
    );
    v.finish().map_err(ApiError::validation)?;
    let name = req.name.unwrap_or_default();
    let head = find(ctx, &name, Selector::Default)?;
    if head.builtin {
        return Err(ApiError::new(
            "InvalidDocumentOperation",
            format!("{name} is a built-in document and cannot be deleted."),
        ));
    }
    // AWS's text, as the model documents `InvalidDocumentOperation` and moto records it.
    if !ctx
        .state
        .store
        .document_shares(&ctx.region, &head.name)?
        .is_empty()
    {
        return Err(ApiError::new(
            "InvalidDocumentOperation",
            "You attempted to delete a document while it is still shared. You must stop sharing the document before you can delete it.",
        ));
    }
    if req.document_version.is_none() && req.version_name.is_none() {
        // The model's `AssociatedInstances`: a document associations still use stays.
        let filter = bosun_store::AssociationFilter {
            name: Some(head.name.clone()),
            ..Default::default()
        };
        let users = ctx
            .state
            .store
            .list_associations(&ctx.region, &filter, None, 1)?;
        if let Some(a) = users.first() {
            return Err(ApiError::new(
                "AssociatedInstances",
                format!(
                    "You must disassociate a document from all managed nodes before you can delete it: association {} uses {name}.",
                    a.association_id
                ),
            ));
        }
        let hashes: Vec<String> = ctx
            .state
            .store
            .document_versions(&ctx.region, &head.name)?
            .iter()
            .flat_map(|v| {
                package_attachments::hashes_of(&head.document_type, &v.content, &v.format)
            })
            .collect();
        ctx.state.store.delete_document(&ctx.region, &head.name)?;
        package_attachments::release_unreferenced(ctx, hashes)?;
        return Ok(json!({}));
    }
    let target = find(
        ctx,
        &name,
        Selector::from_request(req.document_version.as_deref(), req.version_name.as_deref()),
    )?;
    if target.version == head.default_version {
        return Err(ApiError::new(
            "InvalidDocumentOperation",
            "Default version of the document can't be deleted.",
        ));
    }
    ctx.state
        .store
        .delete_document_version(&ctx.region, &head.name, target.version)?;
    package_attachments::release_unreferenced(
        ctx,
        package_attachments::hashes_of(&target.document_type, &target.content, &target.format),
    )?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PermissionRequest {
    name: Option<String>,
    permission_type: Option<String>,
    account_ids_to_add: Option<Vec<String>>,
    account_ids_to_remove: Option<Vec<String>>,
    shared_document_version: Option<String>,
}

fn account_ok(a: &str) -> bool {
    a.eq_ignore_ascii_case("all") || (a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

pub fn modify_document_permission(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: PermissionRequest = parse(body)?;
    let mut v = Validation::new();
    v.required("name", req.name.as_ref());
    v.required("permissionType", req.permission_type.as_ref());
    v.list_length(
        "accountIdsToAdd",
        req.account_ids_to_add.as_ref().map(Vec::len),
        0,
        20,
    );
    v.list_length(
        "accountIdsToRemove",
        req.account_ids_to_remove.as_ref().map(Vec::len),
        0,
        20,
    );
    for (field, list) in [
        ("accountIdsToAdd", &req.account_ids_to_add),
        ("accountIdsToRemove", &req.account_ids_to_remove),
    ] {
        for (i, a) in list.iter().flatten().enumerate() {
            if !account_ok(a) {
                v.pattern_failed(&format!("{field}.{}.member", i + 1), a, "(?i)all|[0-9]{12}");
            }
        }
    }
    if let Some(s) = req.shared_document_version.as_deref() {
        let ok = matches!(s, "$LATEST" | "$DEFAULT" | "$ALL")
            || (s.len() <= 8 && s.parse::<u32>().is_ok());
        if !ok {
            v.pattern_failed("sharedDocumentVersion", s, "([$]LATEST|[$]DEFAULT|[$]ALL)");
        }
    }
    v.finish().map_err(ApiError::validation)?;
    if req.permission_type.as_deref() != Some("Share") {
        return Err(ApiError::new(
            "InvalidPermissionType",
            "The only permission type is Share.",
        ));
    }
    let name = req.name.unwrap_or_default();
    let d = find(ctx, &name, Selector::Default)?;
    if d.builtin {
        return Err(ApiError::new(
            "InvalidDocument",
            format!("{name} is a built-in document."),
        ));
    }
    let add = req.account_ids_to_add.unwrap_or_default();
    if add.len() > 1 && add.iter().any(|a| a.eq_ignore_ascii_case("all")) {
        // AWS's text as moto records it (`modify_document_permission`).
        return Err(ApiError::new(
            "DocumentPermissionLimit",
            "Accounts can either be all or a group of AWS accounts",
        ));
    }
    let current = ctx.state.store.document_shares(&ctx.region, &d.name)?;
    if current.len() + add.len() > 20 {
        return Err(ApiError::new(
            "DocumentPermissionLimit",
            "A document can be shared with at most 20 accounts.",
        ));
    }
    let version = req
        .shared_document_version
        .unwrap_or_else(|| "$DEFAULT".into());
    ctx.state.store.modify_document_shares(
        &ctx.region,
        &d.name,
        &add,
        &req.account_ids_to_remove.unwrap_or_default(),
        &version,
    )?;
    Ok(json!({}))
}
