//! Package documents' attachments on the API. A version's attachments are the files its
//! manifest names, each stored once in the blob store under its SHA-256 (uploaded with
//! `PUT /v1/document-attachments`, see `package_files.rs`). `CreateDocument`/`UpdateDocument`
//! `Attachments` must make every manifest file available by hash: `SourceUrl`
//! `bosun://attachments/<sha256>` (Bosun's own uploads; other URLs are refused, since Bosun
//! fetches nothing from S3 or the web) or `AttachmentReference` `<document>:<version>` (the
//! files of another package version the caller may `ssm:GetDocument`). `GetDocument` lists
//! them in `AttachmentsContent` with URLs Bosun serves, `DescribeDocument` in
//! `AttachmentsInformation`, and `SendCommand` attaches them to `aws:configurePackage` steps.
//! `DeleteDocument` removes the uploads no remaining version names (`release_unreferenced`).

use std::collections::BTreeMap;

use bosun_core::document::{
    document_ref, missing_attachment, parse_manifest, Attachment, ConfigurePackageSpec,
    PackageFile, PackageManifest,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::documents::{content_error, find};
use super::error::ApiError;
use super::Ctx;
use crate::documents::{content, Resolved, Selector};

/// The `SourceUrl` prefix of Bosun's own uploads.
pub const UPLOAD_PREFIX: &str = "bosun://attachments/";

fn refused(msg: impl Into<String>) -> ApiError {
    ApiError::new("InvalidDocumentContent", msg)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Source {
    key: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

/// The manifest of a Package document version.
pub fn manifest_of(d: &Resolved) -> Result<PackageManifest, ApiError> {
    let value = content::parse(&d.content, &d.format).map_err(content_error)?;
    parse_manifest(&value).map_err(refused)
}

/// The path a file of a package version is served at.
pub fn file_path(region: &str, name: &str, version: i64, file: &str) -> String {
    format!("/v1/document-attachments/{region}/{name}/{version}/{file}")
}

/// Sizes of the manifest's files that were uploaded in the region (hash → size).
fn uploaded_sizes(ctx: &Ctx, m: &PackageManifest) -> Result<BTreeMap<String, u64>, ApiError> {
    let mut sizes = BTreeMap::new();
    for sha in m.files.values() {
        if let Some(row) = ctx.state.store.attachment_blob(&ctx.region, sha)? {
            sizes.insert(sha.clone(), row.size as u64);
        }
    }
    Ok(sizes)
}

/// Check a new version's `Attachments` against its content (CreateDocument/UpdateDocument).
pub fn check_write(
    ctx: &Ctx,
    document_type: &str,
    content_text: &str,
    format: &str,
    attachments: Option<&[Value]>,
) -> Result<(), ApiError> {
    let attachments = attachments.unwrap_or_default();
    if document_type != "Package" {
        if attachments.is_empty() {
            return Ok(());
        }
        return Err(ApiError::validation(
            "Attachments: this Bosun server keeps attachments only for Package documents",
        ));
    }
    let value = content::parse(content_text, format).map_err(content_error)?;
    let manifest = parse_manifest(&value).map_err(refused)?;
    let mut available: BTreeMap<String, u64> = BTreeMap::new();
    for raw in attachments {
        let source: Source = serde_json::from_value(raw.clone())
            .map_err(|e| ApiError::validation(format!("Attachments: {e}")))?;
        let value = source
            .values
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        match source.key.as_deref() {
            Some("SourceUrl") => {
                let sha = value.strip_prefix(UPLOAD_PREFIX).ok_or_else(|| {
                    refused(format!(
                        "SourceUrl {value:?}: this Bosun server does not fetch attachments from \
                         S3 or the web; upload the file with `bosun package upload FILE` and \
                         name the {UPLOAD_PREFIX}<sha256> URL it prints."
                    ))
                })?;
                let row = ctx
                    .state
                    .store
                    .attachment_blob(&ctx.region, sha)?
                    .ok_or_else(|| {
                        refused(format!("SourceUrl {value}: no such upload in this region."))
                    })?;
                available.insert(row.sha256, row.size as u64);
            }
            Some("AttachmentReference") => {
                let r = document_ref(value).map_err(|e| {
                    refused(format!(
                        "AttachmentReference {value:?}: {e} (use <document>:<version>)."
                    ))
                })?;
                let resource = ctx.scope().ssm_arn(&format!("document/{}", r.name));
                ctx.authorize_and_audit("ssm:GetDocument", &resource)?;
                let other = find(
                    ctx,
                    &r.name,
                    Selector::from_request(r.version.as_deref(), None),
                )?;
                if other.document_type != "Package" {
                    return Err(refused(format!(
                        "AttachmentReference {value}: {} is not a Package document.",
                        other.name
                    )));
                }
                available.extend(uploaded_sizes(ctx, &manifest_of(&other)?)?);
            }
            other => {
                return Err(refused(format!(
                    "Attachments Key {:?}: this Bosun server takes SourceUrl ({UPLOAD_PREFIX}…) \
                     or AttachmentReference.",
                    other.unwrap_or_default()
                )))
            }
        }
    }
    if let Some((name, sha)) = missing_attachment(&manifest, &available) {
        return Err(refused(format!(
            "files.{name}: no attachment has its SHA-256 {sha} (upload the file with `bosun \
             package upload` and name its SourceUrl in Attachments, or reference a package \
             version that has it)."
        )));
    }
    Ok(())
}

/// `AttachmentsInformation` of `DescribeDocument` (Package documents only).
pub fn information(d: &Resolved) -> Option<Value> {
    let m = (d.document_type == "Package").then(|| manifest_of(d).ok())??;
    Some(json!(m
        .files
        .keys()
        .map(|n| json!({"Name": n}))
        .collect::<Vec<_>>()))
}

/// `AttachmentsContent` of `GetDocument` (Package documents only).
pub fn contents(ctx: &Ctx, d: &Resolved) -> Result<Option<Value>, ApiError> {
    if d.document_type != "Package" {
        return Ok(None);
    }
    let m = manifest_of(d)?;
    let sizes = uploaded_sizes(ctx, &m)?;
    let list: Vec<Value> = m
        .files
        .iter()
        .map(|(name, sha)| {
            json!({
                "Name": name,
                "Size": sizes.get(sha).copied().unwrap_or(0),
                "Hash": sha,
                "HashType": "Sha256",
                "Url": format!("{}{}", ctx.base_url, file_path(&ctx.region, &d.name, d.version, name)),
            })
        })
        .collect();
    Ok(Some(json!(list)))
}

/// The package an `aws:configurePackage` step installs: the document version whose manifest
/// `version` is the one asked for (else the default version), with its files. The sender must
/// be allowed `ssm:GetDocument` on it.
pub fn for_step(ctx: &Ctx, spec: &ConfigurePackageSpec) -> Result<Attachment, ApiError> {
    let resource = ctx.scope().ssm_arn(&format!("document/{}", spec.name));
    ctx.authorize_and_audit("ssm:GetDocument", &resource)?;
    let default = find(ctx, &spec.name, Selector::Default)?;
    if default.document_type != "Package" {
        return Err(ApiError::new(
            "InvalidParameters",
            format!(
                "{} is a {} document, not a package.",
                default.name, default.document_type
            ),
        ));
    }
    let mut chosen = None;
    match spec.version.as_deref() {
        None => chosen = Some((default.clone(), manifest_of(&default)?)),
        Some(wanted) => {
            for v in ctx
                .state
                .store
                .document_versions(&ctx.region, &default.name)?
            {
                let d = find(ctx, &default.name, Selector::Number(v.version))?;
                let m = manifest_of(&d)?;
                if m.version == wanted {
                    chosen = Some((d, m));
                }
            }
        }
    }
    let (d, m) = chosen.ok_or_else(|| {
        ApiError::new(
            "InvalidParameters",
            format!(
                "Package {} has no version {}.",
                default.name,
                spec.version.as_deref().unwrap_or_default()
            ),
        )
    })?;
    let sizes = uploaded_sizes(ctx, &m)?;
    let files = m
        .files
        .iter()
        .map(|(name, sha)| PackageFile {
            name: name.clone(),
            sha256: sha.clone(),
            size: sizes.get(sha).copied().unwrap_or(0),
            path: file_path(&ctx.region, &d.name, d.version, name),
        })
        .collect();
    Ok(Attachment::Package {
        name: d.name,
        document_version: d.version,
        version: m.version,
        entries: m.entries,
        files,
    })
}

/// The SHA-256s a Package version's manifest names (none for other types or bad content).
pub fn hashes_of(document_type: &str, content_text: &str, format: &str) -> Vec<String> {
    if document_type != "Package" {
        return Vec::new();
    }
    content::parse(content_text, format)
        .ok()
        .and_then(|v| parse_manifest(&v).ok())
        .map(|m| m.files.into_values().collect())
        .unwrap_or_default()
}

/// After a Package version was stored: every file it names must still be uploaded. A deletion
/// that removed the last upload of one just before the version was stored (the store's
/// removal and document writes are serialized, so a version stored first keeps its files)
/// leaves it missing; the caller then takes the version back and refuses the request.
pub fn check_stored(
    ctx: &Ctx,
    document_type: &str,
    text: &str,
    format: &str,
) -> Result<(), ApiError> {
    for sha in hashes_of(document_type, text, format) {
        if ctx
            .state
            .store
            .attachment_blob(&ctx.region, &sha)?
            .is_none()
        {
            return Err(refused(format!(
                "the upload with SHA-256 {sha} was removed while this version was written (the \
                 last document naming it was deleted); upload the file again."
            )));
        }
    }
    Ok(())
}

/// After versions naming `hashes` were deleted: remove the region's uploads that no document
/// version names any more, then the bytes of those no region has an upload of. A file still
/// named by another document or version stays (the store decides in one transaction).
pub fn release_unreferenced(ctx: &Ctx, mut hashes: Vec<String>) -> Result<(), ApiError> {
    hashes.sort();
    hashes.dedup();
    if hashes.is_empty() {
        return Ok(());
    }
    let gone = ctx
        .state
        .store
        .remove_unreferenced_attachment_blobs(&ctx.region, &hashes)?;
    for sha in gone {
        // The row is gone already: a failure here leaves bytes nothing serves, so it is
        // logged rather than failing the deletion the caller asked for.
        match ctx.state.blobs.delete_attachment(&sha) {
            Ok(()) => tracing::info!(sha256 = %sha, "removed an attachment file no document names"),
            Err(e) => {
                tracing::error!(sha256 = %sha, error = %e, "could not remove an unreferenced attachment file")
            }
        }
    }
    Ok(())
}
