//! `bosun group create|list|show|delete`: resource groups of managed nodes by tag, over the
//! Resource Groups API on the same endpoint (REST-JSON, signed for `resource-groups`). A group
//! is what maintenance windows, `SendCommand` and associations target with
//! `resource-groups:Name`.

use anyhow::{bail, Context};
use clap::Subcommand;
use serde_json::{json, Value};

use crate::client::Connection;
use crate::signed::rest_call;
use crate::table;

#[derive(Subcommand)]
pub enum GroupCommand {
    /// A group of the nodes carrying every given tag (a tag-based query, evaluated when used).
    Create {
        /// The group's name.
        name: String,
        /// KEY=VALUE (several values: KEY=V1,V2); repeat for more keys (all must match).
        #[arg(long = "tag", required = true, value_name = "KEY=VALUE")]
        tags: Vec<String>,
        /// What the group says it is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// Every group, with its description.
    List,
    /// A group's query and the nodes it holds now.
    Show {
        /// The group's name.
        name: String,
    },
    /// Delete a group (the nodes are untouched).
    Delete {
        /// The group's name.
        name: String,
    },
}

/// `KEY=V1,V2` → a tag filter.
fn tag_filter(spec: &str) -> anyhow::Result<Value> {
    let Some((key, values)) = spec.split_once('=') else {
        bail!("--tag {spec}: expected KEY=VALUE");
    };
    if key.is_empty() {
        bail!("--tag {spec}: the key is empty");
    }
    let values: Vec<&str> = values.split(',').filter(|v| !v.is_empty()).collect();
    Ok(json!({"Key": key, "Values": values}))
}

/// The query of a group of managed nodes with these tag filters.
fn tag_query(tags: &[String]) -> anyhow::Result<Value> {
    let filters = tags
        .iter()
        .map(|t| tag_filter(t))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let query = json!({
        "ResourceTypeFilters": ["AWS::SSM::ManagedInstance"],
        "TagFilters": filters,
    });
    Ok(json!({"Type": "TAG_FILTERS_1_0", "Query": query.to_string()}))
}

fn call(conn: &Connection, path: &str, input: Value) -> anyhow::Result<Value> {
    rest_call(conn, "resource-groups", path, &input)
}

/// Every page of `path`'s `field` list.
fn all_pages(
    conn: &Connection,
    path: &str,
    input: Value,
    field: &str,
) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut input = input;
    loop {
        let page = call(conn, path, input.clone())?;
        out.extend(page[field].as_array().cloned().unwrap_or_default());
        match page["NextToken"].as_str() {
            Some(t) if !t.is_empty() => input["NextToken"] = json!(t),
            _ => return Ok(out),
        }
    }
}

/// Run a group subcommand (blocking).
pub fn run(conn: &Connection, command: GroupCommand) -> anyhow::Result<()> {
    match command {
        GroupCommand::Create {
            name,
            tags,
            description,
        } => {
            let mut input = json!({"Name": name, "ResourceQuery": tag_query(&tags)?});
            if let Some(d) = description {
                input["Description"] = json!(d);
            }
            let out = call(conn, "/groups", input)?;
            println!("{}", out["Group"]["GroupArn"].as_str().unwrap_or(&name));
        }
        GroupCommand::List => {
            let groups = all_pages(conn, "/groups-list", json!({}), "GroupIdentifiers")?;
            if groups.is_empty() {
                println!("no groups");
                return Ok(());
            }
            let mut rows = Vec::new();
            for g in groups {
                let name = g["GroupName"].as_str().unwrap_or_default().to_string();
                let group = call(conn, "/get-group", json!({"Group": name}))?;
                rows.push(vec![
                    name,
                    group["Group"]["Description"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ]);
            }
            print!("{}", table::render(&["GROUP", "DESCRIPTION"], &rows));
        }
        GroupCommand::Show { name } => {
            let query = call(conn, "/get-group-query", json!({"Group": name}))?;
            let text = query["GroupQuery"]["ResourceQuery"]["Query"]
                .as_str()
                .unwrap_or_default();
            let parsed: Value = serde_json::from_str(text).context("the group's query")?;
            let tags: Vec<String> = parsed["TagFilters"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|f| {
                    let values: Vec<&str> = f["Values"]
                        .as_array()
                        .map(|v| v.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    format!(
                        "{}={}",
                        f["Key"].as_str().unwrap_or_default(),
                        values.join(",")
                    )
                })
                .collect();
            println!("group {name}: nodes tagged {}", tags.join(" and "));
            let resources = all_pages(
                conn,
                "/list-group-resources",
                json!({"Group": name}),
                "Resources",
            )?;
            if resources.is_empty() {
                println!("no nodes match now");
            }
            for r in resources {
                let arn = r["Identifier"]["ResourceArn"].as_str().unwrap_or_default();
                println!("{}", arn.rsplit('/').next().unwrap_or(arn));
            }
        }
        GroupCommand::Delete { name } => {
            call(conn, "/delete-group", json!({"Group": name}))?;
            println!("deleted group {name}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_become_a_tag_query() {
        let q = super::tag_query(&["env=prod".into(), "role=web,db".into()]).unwrap();
        assert_eq!(q["Type"], "TAG_FILTERS_1_0");
        let inner: serde_json::Value = serde_json::from_str(q["Query"].as_str().unwrap()).unwrap();
        assert_eq!(
            inner["TagFilters"][1]["Values"],
            serde_json::json!(["web", "db"])
        );
        assert!(super::tag_query(&["novalue".into()]).is_err());
        assert!(super::tag_query(&["=x".into()]).is_err());
    }
}
