//! `bosun run`: build the request (targets, parameters from `--param`, `--param-json` and the
//! words after `--`), send it, then follow it with [`crate::watch`].

use std::collections::BTreeMap;

use anyhow::{anyhow, bail};
use aws_sdk_ssm::types::Target;

use crate::cli::RunArgs;
use crate::client::{describe_error, Connection};

/// Parse `Key=tag:env,Values=dev,prod`.
pub fn parse_target(s: &str) -> Result<(String, Vec<String>), String> {
    let (key_part, values_part) = s
        .split_once(",Values=")
        .ok_or_else(|| format!("expected Key=<key>,Values=<v1>[,<v2>…], got {s:?}"))?;
    let key = key_part
        .strip_prefix("Key=")
        .ok_or_else(|| format!("expected Key=… in {s:?}"))?;
    Ok((
        key.to_string(),
        values_part.split(',').map(str::to_string).collect(),
    ))
}

/// The document parameters: `--param-json` first, then each `--param` (a name given more than
/// once builds a StringList, in order), `--execution-timeout`, and for AWS-RunShellScript the
/// words after `--` as one `commands` entry.
pub fn parameters(args: &RunArgs) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let shell = args.document == "AWS-RunShellScript";
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(json) = &args.param_json {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| anyhow!("--param-json is not valid JSON: {e}"))?;
        let object = value.as_object().ok_or_else(|| {
            anyhow!(r#"--param-json must be an object like {{"name": ["value"]}}"#)
        })?;
        for (name, v) in object {
            let values = match v {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(str::to_string).ok_or_else(|| {
                            anyhow!("--param-json: the values of {name:?} must be strings")
                        })
                    })
                    .collect::<anyhow::Result<_>>()?,
                _ => bail!("--param-json: {name:?} must be a list of strings"),
            };
            out.insert(name.clone(), values);
        }
    }
    let mut from_flags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in &args.params {
        from_flags.entry(k.clone()).or_default().push(v.clone());
    }
    for (k, values) in from_flags {
        if out.contains_key(&k) {
            bail!("parameter {k:?} is given by both --param and --param-json");
        }
        out.insert(k, values);
    }
    if let Some(t) = args.execution_timeout {
        if out.contains_key("executionTimeout") {
            bail!("give executionTimeout once: --execution-timeout or --param, not both");
        }
        out.insert("executionTimeout".into(), vec![t.to_string()]);
    }
    if !args.command.is_empty() {
        if !shell {
            bail!(
                "a shell command after `--` only goes with AWS-RunShellScript; pass {}'s parameters \
                 with --param",
                args.document
            );
        }
        if out.contains_key("commands") {
            bail!("give the commands once: after `--` or with --param commands=…, not both");
        }
        out.insert("commands".into(), vec![args.command.join(" ")]);
    }
    if shell && !out.contains_key("commands") {
        bail!(
            "give the shell command after `--`, e.g. bosun run --all -- uname -a (or repeat \
             --param commands=…)"
        );
    }
    Ok(out)
}

/// Every managed node's id, for `--all`.
async fn all_nodes(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut pages = conn
        .sdk
        .describe_instance_information()
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let n = item.map_err(|e| anyhow!(describe_error(&e)))?;
        ids.push(n.instance_id().unwrap_or_default().to_string());
    }
    match ids.len() {
        0 => bail!("no managed nodes in {} yet: register one (bosun activation create)", conn.region),
        1..=50 => Ok(ids),
        n => bail!("--all would name {n} nodes, over SendCommand's 50 InstanceIds: target them by tag with --targets"),
    }
}

pub async fn run(conn: &Connection, args: RunArgs) -> anyhow::Result<u8> {
    let params = parameters(&args)?;
    if !args.all && args.instance_ids.is_empty() && args.targets.is_empty() {
        bail!(
            "say where to run it: --all, --instance-ids mi-…, or --targets Key=tag:env,Values=dev"
        );
    }
    let instance_ids = if args.all {
        all_nodes(conn).await?
    } else {
        args.instance_ids.clone()
    };
    let mut send = conn
        .sdk
        .send_command()
        .document_name(&args.document)
        .set_parameters(Some(params.into_iter().collect()))
        .set_max_concurrency(args.max_concurrency.clone())
        .set_max_errors(args.max_errors.clone())
        .set_timeout_seconds(args.timeout)
        .set_comment(args.comment.clone());
    if !instance_ids.is_empty() {
        send = send.set_instance_ids(Some(instance_ids));
    }
    for (k, values) in &args.targets {
        send = send.targets(
            Target::builder()
                .key(k)
                .set_values(Some(values.clone()))
                .build(),
        );
    }
    let cmd = send
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?
        .command
        .ok_or_else(|| anyhow!("the server answered without a command"))?;
    let command_id = cmd.command_id().unwrap_or_default().to_string();
    if !args.json {
        eprintln!(
            "command {command_id} sent to {} node(s)",
            cmd.target_count()
        );
    }
    crate::watch::follow(conn, &command_id, args.json).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(words: &[&str]) -> RunArgs {
        #[derive(clap::Parser)]
        struct P {
            #[command(flatten)]
            run: RunArgs,
        }
        P::parse_from(std::iter::once("run").chain(words.iter().copied())).run
    }

    #[test]
    fn repeated_params_build_string_lists() {
        let a = args(&[
            "--document",
            "Doc",
            "--param",
            "names=a",
            "--param",
            "names=b=c",
            "--param",
            "one=1",
        ]);
        let p = parameters(&a).unwrap();
        assert_eq!(p["names"], ["a", "b=c"]);
        assert_eq!(p["one"], ["1"]);
    }

    #[test]
    fn param_json_takes_the_aws_form() {
        let a = args(&[
            "--param-json",
            r#"{"commands": ["echo a", "echo b"], "workingDirectory": "/tmp"}"#,
            "--execution-timeout",
            "60",
        ]);
        let p = parameters(&a).unwrap();
        assert_eq!(p["commands"], ["echo a", "echo b"]);
        assert_eq!(p["workingDirectory"], ["/tmp"]);
        assert_eq!(p["executionTimeout"], ["60"]);
        for bad in [r#"["x"]"#, r#"{"a": 1}"#, r#"{"a": [1]}"#, "{"] {
            let a = args(&["--param-json", bad, "--", "true"]);
            assert!(
                parameters(&a)
                    .unwrap_err()
                    .to_string()
                    .contains("--param-json"),
                "{bad}"
            );
        }
        let both = args(&["--param-json", r#"{"commands": ["x"]}"#, "--", "y"]);
        assert!(parameters(&both).is_err());
    }

    #[test]
    fn the_shell_command_goes_after_the_double_dash() {
        let p = parameters(&args(&["--", "echo", "hi there"])).unwrap();
        assert_eq!(p["commands"], ["echo hi there"]);
        assert!(parameters(&args(&[]))
            .unwrap_err()
            .to_string()
            .contains("after `--`"));
        let e = parameters(&args(&["--document", "Mine", "--", "ls"])).unwrap_err();
        assert!(e.to_string().contains("--param"), "{e}");
    }
}
