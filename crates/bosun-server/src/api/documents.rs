//! Reading documents: `GetDocument`, `DescribeDocument`, `ListDocuments`,
//! `ListDocumentVersions`, `DescribeDocumentPermission` — built-ins and users' documents alike.

use bosun_core::paging;
use bosun_core::validate::Validation;
use serde::Deserialize;
use serde_json::{json, Value};

use super::wire::{epoch_seconds, pairs_to_tags};
use super::{parse, Ctx};
use crate::api::error::ApiError;
use crate::documents::content::{self, ContentError};
use crate::documents::{resolve, Lookup, Resolved, Selector, BUILTINS};

pub(crate) const DOCVER_PATTERN: &str = "([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)";
pub(crate) const VERNAME_PATTERN: &str = r"^[a-zA-Z0-9_\-.]{1,128}$";

pub(crate) fn name_chars_ok(s: &str, extra: &[u8]) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b) || extra.contains(&b))
}

/// Check `DocumentVersion` and `VersionName` members.
pub(crate) fn check_selectors(
    v: &mut Validation,
    version: Option<&str>,
    version_name: Option<&str>,
) {
    if let Some(ver) = version {
        let ok = ver == "$LATEST"
            || ver == "$DEFAULT"
            || (!ver.starts_with('0') && ver.parse::<u32>().is_ok());
        if !ok {
            v.pattern_failed("documentVersion", ver, DOCVER_PATTERN);
        }
    }
    if let Some(n) =
        version_name.filter(|n| n.is_empty() || n.len() > 128 || !name_chars_ok(n, b""))
    {
        v.pattern_failed("versionName", n, VERNAME_PATTERN);
    }
}

pub(crate) fn content_error(e: ContentError) -> ApiError {
    match e {
        ContentError::InvalidContent(m) => ApiError::new("InvalidDocumentContent", m),
        ContentError::InvalidSchemaVersion(m) => ApiError::new("InvalidDocumentSchemaVersion", m),
        ContentError::SizeExceeded(m) => ApiError::new("MaxDocumentSizeExceeded", m),
        ContentError::InvalidName(m) => ApiError::validation(m),
    }
}

/// Look a document up, mapping misses to AWS's errors.
pub(crate) fn find(ctx: &Ctx, name: &str, selector: Selector) -> Result<Resolved, ApiError> {
    resolve(&*ctx.state.store, &ctx.region, name, selector).map_err(|e| match e {
        Lookup::NoDocument => match crate::documents::not_yet_provided(name) {
            Some(feature) => ApiError::new(
                "InvalidDocument",
                format!("Document {name} is an AWS document this Bosun server does not provide yet (it needs {feature}, not implemented yet)."),
            ),
            // AWS's texts as moto's SSM document tests record them.
            None => ApiError::new("InvalidDocument", "The specified document does not exist."),
        },
        Lookup::NoVersion => ApiError::new(
            "InvalidDocumentVersion",
            "The document version is not valid or does not exist.",
        ),
        Lookup::Store(e) => ApiError::internal(e),
    })
}

/// `DocumentDescription` of one version.
pub(crate) fn description(ctx: &Ctx, d: &Resolved) -> Result<Value, ApiError> {
    let value = content::parse(&d.content, &d.format).map_err(content_error)?;
    let facts = content::validate(&value, &d.document_type).map_err(content_error)?;
    let tags = if d.builtin {
        Vec::new()
    } else {
        ctx.state.store.tags(&ctx.region, "Document", &d.name)?
    };
    let mut out = json!({
        "Hash": d.hash,
        "HashType": "Sha256",
        "Name": d.name,
        "Owner": if d.builtin { "Amazon".to_string() } else { ctx.state.config.account_id.clone() },
        "CreatedDate": epoch_seconds(d.created_ms),
        "Status": "Active",
        "DocumentVersion": d.version.to_string(),
        "Description": facts.description,
        "Parameters": facts.parameters,
        "PlatformTypes": facts.platform_types,
        "DocumentType": d.document_type,
        "SchemaVersion": facts.schema_version,
        "LatestVersion": d.latest_version.to_string(),
        "DefaultVersion": d.default_version.to_string(),
        "DocumentFormat": d.format,
        "Tags": pairs_to_tags(&tags),
    });
    for (key, v) in [
        ("VersionName", &d.version_name),
        ("TargetType", &d.target_type),
        ("DisplayName", &d.display_name),
    ] {
        if !v.is_empty() {
            out[key] = json!(v);
        }
    }
    if let Some(info) = super::package_attachments::information(d) {
        out["AttachmentsInformation"] = info;
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameRequest {
    name: Option<String>,
    document_version: Option<String>,
    version_name: Option<String>,
    document_format: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    permission_type: Option<String>,
}

fn name_of(req: &NameRequest, v: &mut Validation) -> String {
    v.required("name", req.name.as_ref());
    if let Some(n) = req
        .name
        .as_deref()
        .filter(|n| !(3..=128).contains(&n.len()) || !name_chars_ok(n, b":/"))
    {
        v.pattern_failed("name", n, r"^[a-zA-Z0-9_\-.:/]{3,128}$");
    }
    req.name.clone().unwrap_or_default()
}

pub fn get_document(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: NameRequest = parse(body)?;
    let mut v = Validation::new();
    let name = name_of(&req, &mut v);
    check_selectors(
        &mut v,
        req.document_version.as_deref(),
        req.version_name.as_deref(),
    );
    v.one_of(
        "documentFormat",
        req.document_format.as_deref(),
        &["YAML", "JSON", "TEXT"],
    );
    v.finish().map_err(ApiError::validation)?;
    let d = find(
        ctx,
        &name,
        Selector::from_request(req.document_version.as_deref(), req.version_name.as_deref()),
    )?;
    let (content, format) = match req.document_format.as_deref() {
        Some(f) if f != d.format && d.format != "TEXT" && f != "TEXT" => {
            let value = content::parse(&d.content, &d.format).map_err(content_error)?;
            (
                content::render(&value, f).map_err(content_error)?,
                f.to_string(),
            )
        }
        _ => (d.content.clone(), d.format.clone()),
    };
    let mut out = json!({
        "Name": d.name,
        "CreatedDate": epoch_seconds(d.created_ms),
        "DocumentVersion": d.version.to_string(),
        "Status": "Active",
        "Content": content,
        "DocumentType": d.document_type,
        "DocumentFormat": format,
    });
    if !d.version_name.is_empty() {
        out["VersionName"] = json!(d.version_name);
    }
    if !d.display_name.is_empty() {
        out["DisplayName"] = json!(d.display_name);
    }
    if let Some(files) = super::package_attachments::contents(ctx, &d)? {
        out["AttachmentsContent"] = files;
    }
    Ok(out)
}

pub fn describe_document(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: NameRequest = parse(body)?;
    let mut v = Validation::new();
    let name = name_of(&req, &mut v);
    check_selectors(
        &mut v,
        req.document_version.as_deref(),
        req.version_name.as_deref(),
    );
    v.finish().map_err(ApiError::validation)?;
    let d = find(
        ctx,
        &name,
        Selector::from_request(req.document_version.as_deref(), req.version_name.as_deref()),
    )?;
    Ok(json!({ "Document": description(ctx, &d)? }))
}

pub fn list_document_versions(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: NameRequest = parse(body)?;
    let mut v = Validation::new();
    let name = name_of(&req, &mut v);
    v.range("maxResults", req.max_results, 1, 50);
    v.finish().map_err(ApiError::validation)?;
    let head = find(ctx, &name, Selector::Default)?;
    let versions: Vec<Value> = if head.builtin {
        vec![
            json!({"Name": head.name, "DocumentVersion": "1", "CreatedDate": epoch_seconds(head.created_ms),
                    "IsDefaultVersion": true, "DocumentFormat": head.format, "Status": "Active"}),
        ]
    } else {
        ctx.state
            .store
            .document_versions(&ctx.region, &head.name)?
            .into_iter()
            .map(|ver| {
                let mut o = json!({
                    "Name": head.name,
                    "DocumentVersion": ver.version.to_string(),
                    "CreatedDate": epoch_seconds(ver.created_ms),
                    "IsDefaultVersion": ver.version == head.default_version,
                    "DocumentFormat": ver.format,
                    "Status": "Active",
                });
                if !ver.version_name.is_empty() {
                    o["VersionName"] = json!(ver.version_name);
                }
                o
            })
            .collect()
    };
    let after = decode(&req.next_token)?;
    let keyed: Vec<(String, Value)> = versions
        .into_iter()
        .map(|o| {
            (
                format!(
                    "{:012}",
                    o["DocumentVersion"]
                        .as_str()
                        .unwrap_or("0")
                        .parse::<u64>()
                        .unwrap_or(0)
                ),
                o,
            )
        })
        .collect();
    let page = paging::page_after(
        keyed,
        after.as_deref(),
        req.max_results.unwrap_or(50) as usize,
        |(k, _)| k,
    );
    let mut out =
        json!({ "DocumentVersions": page.items.into_iter().map(|(_, o)| o).collect::<Vec<_>>() });
    if let Some(t) = page.next_token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

pub(crate) fn decode(token: &Option<String>) -> Result<Option<String>, ApiError> {
    match token {
        Some(t) => paging::decode_token(t)
            .map(Some)
            .ok_or_else(|| ApiError::new("InvalidNextToken", "The specified token is not valid.")),
        None => Ok(None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    document_filter_list: Option<Vec<LegacyFilter>>,
    filters: Option<Vec<KeyFilter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct LegacyFilter {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyFilter {
    key: Option<String>,
    values: Option<Vec<String>>,
}

pub fn list_documents(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let mut v = Validation::new();
    v.range("maxResults", req.max_results, 1, 50);
    v.list_length("filters", req.filters.as_ref().map(Vec::len), 0, 6);
    v.finish().map_err(ApiError::validation)?;
    let mut conditions: Vec<(String, Vec<String>)> = Vec::new();
    for f in req.document_filter_list.unwrap_or_default() {
        let key = f.key.unwrap_or_default();
        if !matches!(
            key.as_str(),
            "Name" | "Owner" | "PlatformTypes" | "DocumentType"
        ) {
            return Err(ApiError::new(
                "InvalidFilterKey",
                format!("The filter key {key} is not valid."),
            ));
        }
        conditions.push((key, vec![f.value.unwrap_or_default()]));
    }
    for f in req.filters.unwrap_or_default() {
        let key = f.key.unwrap_or_default();
        let known = matches!(
            key.as_str(),
            "Name"
                | "Owner"
                | "PlatformTypes"
                | "DocumentType"
                | "SearchKeyword"
                | "tag-key"
                | "TargetType"
        ) || key.starts_with("tag:");
        if !known {
            return Err(ApiError::new(
                "InvalidFilterKey",
                format!("The filter key {key} is not valid."),
            ));
        }
        conditions.push((key, f.values.unwrap_or_default()));
    }
    let mut docs: Vec<(Resolved, Vec<(String, String)>)> = Vec::new();
    for b in BUILTINS {
        docs.push((find(ctx, b.name, Selector::Default)?, Vec::new()));
    }
    for d in ctx.state.store.list_documents(&ctx.region)? {
        let tags = ctx.state.store.tags(&ctx.region, "Document", &d.name)?;
        docs.push((find(ctx, &d.name, Selector::Default)?, tags));
    }
    let mut selected = Vec::new();
    for (d, tags) in docs {
        let value = content::parse(&d.content, &d.format).map_err(content_error)?;
        let facts = content::validate(&value, &d.document_type).map_err(content_error)?;
        let keep = conditions.iter().all(|(key, values)| match key.as_str() {
            "Name" => values.iter().any(|v| d.name.starts_with(v.as_str())),
            "Owner" => values.iter().any(|v| match v.as_str() {
                "Self" | "Private" => !d.builtin,
                "Amazon" | "Public" => d.builtin,
                "All" => true,
                acct => !d.builtin && acct == ctx.state.config.account_id,
            }),
            "PlatformTypes" => values
                .iter()
                .any(|v| facts.platform_types.contains(&v.as_str())),
            "DocumentType" => values.contains(&d.document_type),
            "SearchKeyword" => values
                .iter()
                .any(|v| d.name.to_lowercase().contains(&v.to_lowercase())),
            "TargetType" => values.contains(&d.target_type),
            "tag-key" => tags.iter().any(|(k, _)| values.contains(k)),
            k => k.strip_prefix("tag:").is_some_and(|tk| {
                tags.iter()
                    .any(|(k, v)| k == tk && (values.is_empty() || values.contains(v)))
            }),
        });
        if keep {
            let mut o = json!({
                "Name": d.name,
                "CreatedDate": epoch_seconds(d.created_ms),
                "Owner": if d.builtin { "Amazon".to_string() } else { ctx.state.config.account_id.clone() },
                "PlatformTypes": facts.platform_types,
                "DocumentVersion": d.version.to_string(),
                "DocumentType": d.document_type,
                "SchemaVersion": facts.schema_version,
                "DocumentFormat": d.format,
                "Tags": pairs_to_tags(&tags),
            });
            if !d.version_name.is_empty() {
                o["VersionName"] = json!(d.version_name);
            }
            if !d.target_type.is_empty() {
                o["TargetType"] = json!(d.target_type);
            }
            selected.push((d.name.clone(), o));
        }
    }
    selected.sort_by(|a, b| a.0.cmp(&b.0));
    let after = decode(&req.next_token)?;
    let page = paging::page_after(
        selected,
        after.as_deref(),
        req.max_results.unwrap_or(50) as usize,
        |(k, _)| k,
    );
    let mut out = json!({ "DocumentIdentifiers": page.items.into_iter().map(|(_, o)| o).collect::<Vec<_>>() });
    if let Some(t) = page.next_token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

pub fn describe_document_permission(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: NameRequest = parse(body)?;
    let mut v = Validation::new();
    let name = name_of(&req, &mut v);
    v.required("permissionType", req.permission_type.as_ref());
    v.range("maxResults", req.max_results, 1, 200);
    v.finish().map_err(ApiError::validation)?;
    if req.permission_type.as_deref() != Some("Share") {
        return Err(ApiError::new(
            "InvalidPermissionType",
            "The only permission type is Share.",
        ));
    }
    let d = find(ctx, &name, Selector::Default)?;
    if d.builtin {
        return Err(ApiError::new(
            "InvalidDocumentOperation",
            "Built-in documents are public and cannot be shared.",
        ));
    }
    let shares = ctx.state.store.document_shares(&ctx.region, &d.name)?;
    Ok(json!({
        "AccountIds": shares.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>(),
        "AccountSharingInfoList": shares.iter().map(|(a, ver)| json!({"AccountId": a, "SharedDocumentVersion": ver})).collect::<Vec<_>>(),
    }))
}
