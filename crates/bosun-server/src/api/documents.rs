//! `GetDocument`, `DescribeDocument`, `ListDocuments` over the built-in document library.

use bosun_core::paging;
use bosun_core::validate::Validation;
use serde::Deserialize;
use serde_json::{json, Value};

use super::wire::epoch_seconds;
use super::{parse, Ctx};
use crate::api::error::ApiError;
use crate::documents::{builtin, BuiltinDocument, BUILTINS};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameRequest {
    name: Option<String>,
    document_version: Option<String>,
    version_name: Option<String>,
    document_format: Option<String>,
}

/// Resolve a document request to a built-in, checking the version selectors.
fn find(req: &NameRequest) -> Result<&'static BuiltinDocument, ApiError> {
    let mut v = Validation::new();
    v.required("name", req.name.as_ref());
    v.one_of(
        "documentFormat",
        req.document_format.as_deref(),
        &["YAML", "JSON", "TEXT"],
    );
    v.finish().map_err(ApiError::validation)?;
    let name = req.name.as_deref().unwrap_or_default();
    let doc = builtin(name).ok_or_else(|| {
        ApiError::new(
            "InvalidDocument",
            format!("Document {name} does not exist."),
        )
    })?;
    if let Some(ver) = req.document_version.as_deref() {
        if !matches!(ver, "1" | "$LATEST" | "$DEFAULT") {
            return Err(ApiError::new(
                "InvalidDocumentVersion",
                format!("Document {name} has no version {ver}."),
            ));
        }
    }
    if req.version_name.is_some() {
        return Err(ApiError::new(
            "InvalidDocumentVersion",
            format!("Document {name} has no version names."),
        ));
    }
    if req.document_format.as_deref().is_some_and(|f| f != "JSON") {
        return Err(ApiError::new(
            "InvalidDocumentOperation",
            "Built-in documents are served as JSON; format conversion is not supported yet.",
        ));
    }
    Ok(doc)
}

fn parameters(doc: &BuiltinDocument) -> Vec<Value> {
    doc.parsed()
        .content
        .get("parameters")
        .and_then(Value::as_object)
        .map(|params| {
            params
                .iter()
                .map(|(name, p)| {
                    let mut out = json!({
                        "Name": name,
                        "Type": p.get("type").cloned().unwrap_or(Value::Null),
                        "Description": p.get("description").cloned().unwrap_or(json!("")),
                    });
                    if let Some(d) = p.get("default") {
                        out["DefaultValue"] = json!(d
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| d.to_string()));
                    }
                    out
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn get_document(_ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: NameRequest = parse(body)?;
    let doc = find(&req)?;
    Ok(json!({
        "Name": doc.name,
        "CreatedDate": epoch_seconds(doc.created_ms),
        "DocumentVersion": "1",
        "Status": "Active",
        "Content": doc.content,
        "DocumentType": "Command",
        "DocumentFormat": "JSON",
    }))
}

pub fn describe_document(_ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: NameRequest = parse(body)?;
    let doc = find(&req)?;
    let parsed = doc.parsed();
    Ok(json!({ "Document": {
        "Hash": doc.hash(),
        "HashType": "Sha256",
        "Name": doc.name,
        "Owner": "Amazon",
        "CreatedDate": epoch_seconds(doc.created_ms),
        "Status": "Active",
        "DocumentVersion": "1",
        "Description": parsed.description,
        "Parameters": parameters(doc),
        "PlatformTypes": doc.platform_types,
        "DocumentType": "Command",
        "SchemaVersion": parsed.schema_version,
        "LatestVersion": "1",
        "DefaultVersion": "1",
        "DocumentFormat": "JSON",
        "Tags": [],
    }}))
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

pub fn list_documents(_ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let mut v = Validation::new();
    v.range("maxResults", req.max_results, 1, 50);
    v.finish().map_err(ApiError::validation)?;
    let mut conditions: Vec<(String, Vec<String>)> = Vec::new();
    for f in req.document_filter_list.unwrap_or_default() {
        let key = match f.key.as_deref() {
            Some("Name") => "Name",
            Some("Owner") => "Owner",
            Some("PlatformTypes") => "PlatformTypes",
            Some("DocumentType") => "DocumentType",
            other => {
                return Err(ApiError::new(
                    "InvalidFilterKey",
                    format!("The filter key {} is not valid.", other.unwrap_or("")),
                ))
            }
        };
        conditions.push((key.into(), vec![f.value.unwrap_or_default()]));
    }
    for f in req.filters.unwrap_or_default() {
        conditions.push((f.key.unwrap_or_default(), f.values.unwrap_or_default()));
    }
    let matches = |d: &BuiltinDocument| {
        conditions.iter().all(|(key, values)| match key.as_str() {
            "Name" => values.iter().any(|v| d.name.starts_with(v.as_str())),
            "Owner" => values
                .iter()
                .any(|v| matches!(v.as_str(), "Amazon" | "All" | "Public")),
            "PlatformTypes" => values
                .iter()
                .any(|v| d.platform_types.contains(&v.as_str())),
            "DocumentType" => values.iter().any(|v| v == "Command"),
            k if k.starts_with("tag:") || k == "tag-key" => false,
            "SearchKeyword" => values.iter().any(|v| d.name.contains(v.as_str())),
            _ => true,
        })
    };
    let after = match &req.next_token {
        Some(t) => Some(paging::decode_token(t).ok_or_else(|| {
            ApiError::new("InvalidNextToken", "The specified token is not valid.")
        })?),
        None => None,
    };
    let selected: Vec<&BuiltinDocument> = BUILTINS.iter().filter(|d| matches(d)).collect();
    let page = paging::page_after(
        selected,
        after.as_deref(),
        req.max_results.unwrap_or(50) as usize,
        |d| d.name,
    );
    let ids: Vec<Value> = page
        .items
        .iter()
        .map(|d| {
            json!({
                "Name": d.name,
                "CreatedDate": epoch_seconds(d.created_ms),
                "Owner": "Amazon",
                "PlatformTypes": d.platform_types,
                "DocumentVersion": "1",
                "DocumentType": "Command",
                "SchemaVersion": d.parsed().schema_version,
                "DocumentFormat": "JSON",
                "Tags": [],
            })
        })
        .collect();
    let mut out = json!({ "DocumentIdentifiers": ids });
    if let Some(t) = page.next_token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
