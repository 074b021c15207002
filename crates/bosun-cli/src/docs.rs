//! `bosun doc …`: create, update, show, list, version and delete documents from YAML or JSON
//! files, over the same API as any client.

use std::path::Path;

use anyhow::{anyhow, Context};
use aws_sdk_ssm::types::{DocumentFormat, DocumentKeyValuesFilter, DocumentType};
use aws_sdk_ssm::Client;

use crate::client::describe_error;
use crate::table;

/// The format of a document file, from its extension.
fn format_of(path: &Path) -> DocumentFormat {
    match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => DocumentFormat::Yaml,
        _ => DocumentFormat::Json,
    }
}

pub async fn create(
    client: &Client,
    name: &str,
    file: &Path,
    doc_type: &str,
    version_name: Option<String>,
) -> anyhow::Result<()> {
    let content =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let out = client
        .create_document()
        .name(name)
        .content(content)
        .document_format(format_of(file))
        .document_type(DocumentType::from(doc_type))
        .set_version_name(version_name)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    let d = out
        .document_description()
        .ok_or_else(|| anyhow!("no description"))?;
    println!(
        "created {} version {} ({})",
        name,
        d.document_version().unwrap_or(""),
        d.hash().unwrap_or("")
    );
    Ok(())
}

pub async fn update(
    client: &Client,
    name: &str,
    file: &Path,
    version_name: Option<String>,
    make_default: bool,
) -> anyhow::Result<()> {
    let content =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let out = client
        .update_document()
        .name(name)
        .content(content)
        .document_format(format_of(file))
        .document_version("$LATEST")
        .set_version_name(version_name)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    let version = out
        .document_description()
        .and_then(|d| d.document_version())
        .unwrap_or("")
        .to_string();
    println!("updated {name} to version {version}");
    if make_default {
        client
            .update_document_default_version()
            .name(name)
            .document_version(&version)
            .send()
            .await
            .map_err(|e| anyhow!(describe_error(&e)))?;
        println!("version {version} is now the default");
    }
    Ok(())
}

pub async fn show(
    client: &Client,
    name: &str,
    version: Option<String>,
    yaml: bool,
) -> anyhow::Result<()> {
    let out = client
        .get_document()
        .name(name)
        .set_document_version(version)
        .set_document_format(yaml.then_some(DocumentFormat::Yaml))
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    println!("{}", out.content().unwrap_or_default());
    Ok(())
}

pub async fn list(client: &Client, mine: bool) -> anyhow::Result<()> {
    let mut req = client.list_documents();
    if mine {
        req = req.filters(
            DocumentKeyValuesFilter::builder()
                .key("Owner")
                .values("Self")
                .build(),
        );
    }
    let mut pages = req.into_paginator().items().send();
    let mut rows = Vec::new();
    while let Some(item) = pages.next().await {
        let d = item.map_err(|e| anyhow!(describe_error(&e)))?;
        rows.push(vec![
            d.name().unwrap_or_default().to_string(),
            d.document_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            d.document_version().unwrap_or_default().to_string(),
            d.owner().unwrap_or_default().to_string(),
            d.document_format()
                .map(|f| f.as_str().to_string())
                .unwrap_or_default(),
        ]);
    }
    print!(
        "{}",
        table::render(&["NAME", "TYPE", "VERSION", "OWNER", "FORMAT"], &rows)
    );
    Ok(())
}

pub async fn versions(client: &Client, name: &str) -> anyhow::Result<()> {
    let out = client
        .list_document_versions()
        .name(name)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    let rows: Vec<Vec<String>> = out
        .document_versions()
        .iter()
        .map(|v| {
            vec![
                v.document_version().unwrap_or_default().to_string(),
                v.version_name().unwrap_or_default().to_string(),
                if v.is_default_version() { "yes" } else { "" }.to_string(),
                v.document_format()
                    .map(|f| f.as_str().to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["VERSION", "VERSION NAME", "DEFAULT", "FORMAT"], &rows)
    );
    Ok(())
}

pub async fn delete(client: &Client, name: &str, version: Option<String>) -> anyhow::Result<()> {
    client
        .delete_document()
        .name(name)
        .set_document_version(version.clone())
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    match version {
        Some(v) => println!("deleted version {v} of {name}"),
        None => println!("deleted {name}"),
    }
    Ok(())
}
