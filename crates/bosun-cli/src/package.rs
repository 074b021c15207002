//! `bosun package upload/create/list/install/remove`: Distributor packages over the SSM API
//! (`list --node` reads a node's installed packages with `ListInventoryEntries`),
//! with files uploaded to the server's own attachment store (`PUT /v1/document-attachments`,
//! SigV4-signed over the body like any API call).

use std::path::Path;

use anyhow::{anyhow, bail, Context};
use aws_sdk_ssm::types::{
    AttachmentsSource, AttachmentsSourceKey, DocumentFilterKey, DocumentKeyValuesFilter,
    DocumentType,
};
use serde_json::Value;

use crate::client::{describe_error, Connection};
use crate::package_args::PackageCommand;

/// `bosun package …`; returns the exit code.
pub async fn dispatch(conn: &Connection, command: PackageCommand) -> anyhow::Result<u8> {
    match command {
        PackageCommand::Upload { file } => {
            let (url, sha, size) = upload(conn, &file).await?;
            println!("{url}\t{sha}\t{size} bytes");
        }
        PackageCommand::Create {
            name,
            manifest,
            files,
            reference,
            new_version,
        } => create(conn, &name, &manifest, &files, reference, new_version).await?,
        PackageCommand::List { node: None } => list(conn).await?,
        PackageCommand::List { node: Some(id) } => installed(conn, &id).await?,
        PackageCommand::Install {
            name,
            instance_ids,
            version,
            in_place,
            args,
        } => {
            let mut p = vec![("action", "Install".to_string()), ("name", name)];
            if let Some(v) = version {
                p.push(("version", v));
            }
            if in_place {
                p.push(("installationType", "In-place update".into()));
            }
            if let Some(a) = args {
                p.push(("additionalArguments", a));
            }
            return configure(conn, instance_ids, p).await;
        }
        PackageCommand::Remove { name, instance_ids } => {
            let p = vec![("action", "Uninstall".to_string()), ("name", name)];
            return configure(conn, instance_ids, p).await;
        }
    }
    Ok(0)
}

/// Upload one file; returns its SourceUrl, SHA-256 and size.
pub async fn upload(conn: &Connection, file: &Path) -> anyhow::Result<(String, String, u64)> {
    let data = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let conn = conn.clone();
    let body = tokio::task::spawn_blocking(move || -> anyhow::Result<Value> {
        let (status, text) =
            crate::signed::request(&conn, "ssm", "PUT", "/v1/document-attachments", &[], &data)?;
        if status != 200 {
            let msg = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or(text);
            bail!("the server refused the upload ({status}): {msg}");
        }
        Ok(serde_json::from_str(&text)?)
    })
    .await??;
    let field = |k: &str| body[k].as_str().unwrap_or_default().to_string();
    Ok((
        field("SourceUrl"),
        field("Hash"),
        body["Size"].as_u64().unwrap_or(0),
    ))
}

async fn create(
    conn: &Connection,
    name: &str,
    manifest: &Path,
    files: &[std::path::PathBuf],
    reference: Option<String>,
    new_version: bool,
) -> anyhow::Result<()> {
    let content = std::fs::read_to_string(manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let mut sources = Vec::new();
    for f in files {
        let (url, _, _) = upload(conn, f).await?;
        let file_name = f.file_name().map(|n| n.to_string_lossy().to_string());
        sources.push(
            AttachmentsSource::builder()
                .key(AttachmentsSourceKey::SourceUrl)
                .values(url)
                .set_name(file_name)
                .build(),
        );
    }
    if let Some(r) = reference {
        sources.push(
            AttachmentsSource::builder()
                .key(AttachmentsSourceKey::AttachmentReference)
                .values(r)
                .build(),
        );
    }
    let err = |e: String| anyhow!(e);
    let version = if new_version {
        let out = conn
            .sdk
            .update_document()
            .name(name)
            .content(content)
            .document_version("$LATEST")
            .set_attachments(Some(sources))
            .send()
            .await
            .map_err(|e| err(describe_error(&e)))?;
        let v = out
            .document_description()
            .and_then(|d| d.document_version())
            .unwrap_or_default()
            .to_string();
        conn.sdk
            .update_document_default_version()
            .name(name)
            .document_version(&v)
            .send()
            .await
            .map_err(|e| err(describe_error(&e)))?;
        v
    } else {
        let out = conn
            .sdk
            .create_document()
            .name(name)
            .content(content)
            .document_type(DocumentType::Package)
            .set_attachments(Some(sources))
            .send()
            .await
            .map_err(|e| err(describe_error(&e)))?;
        out.document_description()
            .and_then(|d| d.document_version())
            .unwrap_or_default()
            .to_string()
    };
    println!("package {name} version {version} is the default");
    Ok(())
}

async fn list(conn: &Connection) -> anyhow::Result<()> {
    let filter = DocumentKeyValuesFilter::builder()
        .key(DocumentFilterKey::DocumentType.as_str())
        .values("Package")
        .build();
    let mut pages = conn
        .sdk
        .list_documents()
        .filters(filter)
        .into_paginator()
        .send();
    println!("NAME\tDOCUMENT VERSION\tPACKAGE VERSION");
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow!(describe_error(&e)))?;
        for d in page.document_identifiers() {
            let name = d.name().unwrap_or_default();
            let doc = conn
                .sdk
                .get_document()
                .name(name)
                .send()
                .await
                .map_err(|e| anyhow!(describe_error(&e)))?;
            let manifest: Value =
                serde_json::from_str(doc.content().unwrap_or("{}")).unwrap_or_default();
            println!(
                "{name}\t{}\t{}",
                doc.document_version().unwrap_or_default(),
                manifest["version"].as_str().unwrap_or("?")
            );
        }
    }
    Ok(())
}

async fn installed(conn: &Connection, node: &str) -> anyhow::Result<()> {
    let out = conn
        .sdk
        .list_inventory_entries()
        .instance_id(node)
        .type_name("AWS:Application")
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    println!("NAME\tVERSION");
    for e in out.entries() {
        let field = |k: &str| e.get(k).map(String::as_str).unwrap_or_default();
        println!("{}\t{}", field("Name"), field("Version"));
    }
    Ok(())
}

async fn configure(
    conn: &Connection,
    instance_ids: Vec<String>,
    params: Vec<(&str, String)>,
) -> anyhow::Result<u8> {
    let mut req = conn
        .sdk
        .send_command()
        .document_name("AWS-ConfigureAWSPackage")
        .set_instance_ids(Some(instance_ids));
    for (k, v) in params {
        req = req.parameters(k, vec![v]);
    }
    let out = req.send().await.map_err(|e| anyhow!(describe_error(&e)))?;
    let id = out
        .command()
        .and_then(|c| c.command_id())
        .ok_or_else(|| anyhow!("the server returned no command id"))?
        .to_string();
    crate::watch::watch_existing(conn, &id, false).await
}
