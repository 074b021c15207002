//! `bosun param put/get/ls/history/label/rm/events`: Parameter Store from the command line,
//! over the same SSM API as any client (except `events`, which reads the data directory).

use anyhow::anyhow;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use aws_sdk_ssm::Client;
use bosun_core::parameters::image_data_type::validated_asynchronously;

use crate::cli::ParamCommand;
use crate::client::{describe_error, ClientArgs};
use crate::table;

/// `bosun param …`.
pub async fn dispatch(c: &ClientArgs, command: ParamCommand) -> anyhow::Result<()> {
    if let ParamCommand::Events { only_region } = &command {
        let (data_dir, only_region) = (c.server_data_dir(), only_region.clone());
        let database = std::env::var("BOSUN_DATABASE").ok();
        return tokio::task::spawn_blocking(move || {
            let store = crate::admin::open_store(&data_dir, database)?;
            events(&*store, only_region.as_deref())
        })
        .await?;
    }
    let sdk = c.connect()?.sdk;
    match command {
        ParamCommand::Put {
            name,
            value,
            param_type,
            overwrite,
            description,
            key_id,
            tier,
            policies,
            allowed_pattern,
            data_type,
            wait_seconds,
        } => {
            put(
                &sdk,
                PutArgs {
                    name,
                    value,
                    param_type,
                    overwrite,
                    description,
                    key_id,
                    tier,
                    policies,
                    allowed_pattern,
                    data_type,
                    wait: std::time::Duration::from_secs(wait_seconds),
                },
            )
            .await
        }
        ParamCommand::Get { name, decrypt } => get(&sdk, &name, decrypt).await,
        ParamCommand::Ls { path, recursive } => ls(&sdk, &path, recursive).await,
        ParamCommand::History { name, decrypt } => history(&sdk, &name, decrypt).await,
        ParamCommand::Label {
            name,
            version,
            labels,
        } => label(&sdk, &name, version, labels).await,
        ParamCommand::Rm { names } => rm(&sdk, names).await,
        ParamCommand::Events { .. } => Ok(()),
    }
}

/// An SDK error from `put`, with the bosun flag that fixes it.
fn put_error<E>(name: &str, e: &aws_sdk_ssm::error::SdkError<E>) -> anyhow::Error
where
    E: std::error::Error + aws_sdk_ssm::error::ProvideErrorMetadata + 'static,
{
    let text = describe_error(e);
    match e.as_service_error().and_then(|s| s.code()) {
        Some("ParameterAlreadyExists") => {
            anyhow!("{name} already exists: use --overwrite to store a new version")
        }
        Some("ValidationException") if text.contains("type is required") => {
            anyhow!("{name} is new: give its type with --type String, StringList or SecureString")
        }
        _ => anyhow!(text),
    }
}

fn when(t: Option<&aws_sdk_ssm::primitives::DateTime>) -> String {
    t.and_then(|d| jiff::Timestamp::from_second(d.secs()).ok())
        .map(|ts| ts.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// What `bosun param put` sends.
pub struct PutArgs {
    pub name: String,
    pub value: String,
    pub param_type: Option<String>,
    pub overwrite: bool,
    pub description: Option<String>,
    pub key_id: Option<String>,
    pub tier: Option<String>,
    pub policies: Option<String>,
    pub allowed_pattern: Option<String>,
    pub data_type: Option<String>,
    /// How long to wait for an asynchronously validated value's outcome.
    pub wait: std::time::Duration,
}

pub async fn put(client: &Client, a: PutArgs) -> anyhow::Result<()> {
    let value = a.value.clone();
    let out = client
        .put_parameter()
        .name(&a.name)
        .value(a.value)
        .set_type(a.param_type.map(|t| ParameterType::from(t.as_str())))
        .overwrite(a.overwrite)
        .set_description(a.description)
        .set_key_id(a.key_id)
        .set_tier(a.tier.map(|t| ParameterTier::from(t.as_str())))
        .set_policies(a.policies)
        .set_allowed_pattern(a.allowed_pattern)
        .set_data_type(a.data_type.clone())
        .send()
        .await
        .map_err(|e| put_error(&a.name, &e))?;
    let tier = out.tier().map(|t| t.as_str()).unwrap_or("Standard");
    if a.data_type.as_deref().is_some_and(validated_asynchronously) {
        let version =
            crate::params_wait::wait_for_validation(client, &a.name, &value, out.version(), a.wait)
                .await?;
        println!("{} version {version} ({tier}), image id validated", a.name);
        return Ok(());
    }
    println!("{} version {} ({tier})", a.name, out.version());
    Ok(())
}

pub async fn get(client: &Client, name: &str, decrypt: bool) -> anyhow::Result<()> {
    let out = client
        .get_parameter()
        .name(name)
        .with_decryption(decrypt)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    let p = out
        .parameter
        .ok_or_else(|| anyhow!("no parameter in the response"))?;
    println!("{}", p.value().unwrap_or_default());
    Ok(())
}

pub async fn ls(client: &Client, path: &str, recursive: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut pages = client
        .get_parameters_by_path()
        .path(path)
        .recursive(recursive)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow!(describe_error(&e)))?;
        found.extend(page.parameters.unwrap_or_default());
    }
    for p in found {
        rows.push((
            p.name().unwrap_or_default().to_string(),
            p.r#type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            p.version(),
            when(p.last_modified_date()),
        ));
    }
    rows.sort();
    if recursive {
        let leaves: Vec<(String, String)> = rows
            .iter()
            .map(|(n, t, v, _)| (n.clone(), format!("{t}, v{v}")))
            .collect();
        print!("{}", tree(path, &leaves));
    } else {
        let cells: Vec<Vec<String>> = rows
            .into_iter()
            .map(|(n, t, v, w)| vec![n, t, v.to_string(), w])
            .collect();
        print!(
            "{}",
            table::render(&["NAME", "TYPE", "VERSION", "MODIFIED"], &cells)
        );
    }
    Ok(())
}

/// A tree of parameter names under `root`, each leaf followed by its note.
pub fn tree(root: &str, leaves: &[(String, String)]) -> String {
    #[derive(Default)]
    struct Node {
        children: std::collections::BTreeMap<String, Node>,
        note: Option<String>,
    }
    let base = root.trim_end_matches('/');
    let mut top = Node::default();
    for (name, note) in leaves {
        let full = if name.starts_with('/') {
            name.clone()
        } else {
            format!("/{name}")
        };
        let rel = full
            .strip_prefix(base)
            .unwrap_or(&full)
            .trim_start_matches('/');
        let mut node = &mut top;
        for part in rel.split('/') {
            node = node.children.entry(part.to_string()).or_default();
        }
        node.note = Some(note.clone());
    }
    fn walk(node: &Node, prefix: &str, out: &mut String) {
        let n = node.children.len();
        for (i, (name, child)) in node.children.iter().enumerate() {
            let last = i + 1 == n;
            let note = child
                .note
                .as_ref()
                .map(|t| format!("  ({t})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{prefix}{}{name}{note}\n",
                if last { "└── " } else { "├── " }
            ));
            walk(
                child,
                &format!("{prefix}{}", if last { "    " } else { "│   " }),
                out,
            );
        }
    }
    let mut out = format!("{}\n", if base.is_empty() { "/" } else { base });
    walk(&top, "", &mut out);
    out
}

pub async fn history(client: &Client, name: &str, decrypt: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut pages = client
        .get_parameter_history()
        .name(name)
        .with_decryption(decrypt)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow!(describe_error(&e)))?;
        found.extend(page.parameters.unwrap_or_default());
    }
    for h in found {
        rows.push(vec![
            h.version().to_string(),
            h.r#type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            h.labels().join(","),
            when(h.last_modified_date()),
            h.last_modified_user()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
            if decrypt || h.r#type() != Some(&ParameterType::SecureString) {
                h.value().unwrap_or_default().to_string()
            } else {
                "(encrypted)".to_string()
            },
        ]);
    }
    print!(
        "{}",
        table::render(
            &["VERSION", "TYPE", "LABELS", "MODIFIED", "BY", "VALUE"],
            &rows
        )
    );
    Ok(())
}

pub async fn label(
    client: &Client,
    name: &str,
    version: Option<i64>,
    labels: Vec<String>,
) -> anyhow::Result<()> {
    let out = client
        .label_parameter_version()
        .name(name)
        .set_parameter_version(version)
        .set_labels(Some(labels))
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    println!("labelled {name} version {}", out.parameter_version());
    if !out.invalid_labels().is_empty() {
        anyhow::bail!(
            "invalid labels (not applied): {}",
            out.invalid_labels().join(", ")
        );
    }
    Ok(())
}

pub async fn rm(client: &Client, names: Vec<String>) -> anyhow::Result<()> {
    for chunk in names.chunks(10) {
        let out = client
            .delete_parameters()
            .set_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| anyhow!(describe_error(&e)))?;
        for n in out.deleted_parameters() {
            println!("deleted {n}");
        }
        if !out.invalid_parameters().is_empty() {
            anyhow::bail!("not found: {}", out.invalid_parameters().join(", "));
        }
    }
    Ok(())
}

/// Policy events recorded by the server (read from the data directory).
pub fn events(store: &dyn bosun_store::Store, region: Option<&str>) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = store
        .parameter_policy_events(region)?
        .into_iter()
        .map(|e| {
            vec![
                jiff::Timestamp::from_millisecond(e.time_ms)
                    .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
                    .unwrap_or_default(),
                e.region,
                e.policy_type,
                e.name,
                e.version.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["TIME", "REGION", "POLICY", "PARAMETER", "VERSION"], &rows)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tree_view() {
        let leaves = vec![
            (
                "/app/db/password".to_string(),
                "SecureString, v2".to_string(),
            ),
            ("/app/db/user".to_string(), "String, v1".to_string()),
            ("/app/url".to_string(), "String, v1".to_string()),
        ];
        assert_eq!(
            super::tree("/app", &leaves),
            "/app\n├── db\n│   ├── password  (SecureString, v2)\n│   └── user  (String, v1)\n└── url  (String, v1)\n"
        );
        assert!(super::tree("/", &[("top".into(), "String, v1".into())]).starts_with("/\n└── top"));
    }
}
