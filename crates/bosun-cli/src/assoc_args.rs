//! `bosun assoc …` flags, and how a `--target` word becomes an SSM target.

use clap::{Args, Subcommand};

use crate::fleet;

#[derive(Subcommand)]
pub enum AssocCommand {
    /// Create an association: a document kept applied on nodes, on a schedule.
    Create(Box<CreateArgs>),
    /// List associations with their schedule, status and next run (in your time zone).
    List {
        /// Print them as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// One association: its definition, next run, last execution and each node's status in it.
    Show {
        /// The association id.
        association_id: String,
        /// Print it as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// An association's executions, latest first.
    History {
        /// The association id.
        association_id: String,
        /// How many to show (1-50).
        #[arg(long, default_value_t = 20)]
        limit: i32,
        /// Print them as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run associations now, once, outside their schedule (StartAssociationsOnce).
    RunNow {
        /// The association ids.
        #[arg(required = true)]
        association_ids: Vec<String>,
    },
    /// Delete an association (nodes keep what it applied; it stops running).
    Delete {
        /// The association id.
        association_id: String,
    },
}

#[derive(Args, Clone, Debug)]
pub struct CreateArgs {
    /// A name for the association (3-128 characters: letters, digits, _ - .).
    #[arg(long)]
    pub name: Option<String>,
    /// The document to apply.
    #[arg(long, default_value = "AWS-RunShellScript")]
    pub document: String,
    /// The document version ($DEFAULT, $LATEST or a number; default $DEFAULT).
    #[arg(long)]
    pub document_version: Option<String>,
    /// Which nodes: tag:Key=Value[,Value2], tag-key=Key, node ids (comma separated), or * for
    /// every node. Repeat for several tags (a node must match all).
    #[arg(long = "target", required = true, value_parser = parse_target, value_name = "TARGET")]
    pub targets: Vec<(String, Vec<String>)>,
    /// When it runs again: cron(…) (UTC, six fields) or rate(N minutes|hours|days), at least
    /// 30 minutes apart. Without it, it runs at creation and when its targets change.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Do not run at creation: only at the cron schedule's slots.
    #[arg(long)]
    pub apply_only_at_cron_interval: bool,
    /// Run each cron slot this many days later (1-6; with --apply-only-at-cron-interval).
    #[arg(long, value_name = "DAYS")]
    pub schedule_offset: Option<i32>,
    /// A document parameter, name=value; repeat a name to build a StringList.
    #[arg(long = "param", value_parser = fleet::parse_tag, value_name = "NAME=VALUE")]
    pub params: Vec<(String, String)>,
    /// How many nodes run it at once: a number or a percentage (default 100%).
    #[arg(long)]
    pub max_concurrency: Option<String>,
    /// How many failures stop it on more nodes: a number or a percentage (default 0).
    #[arg(long)]
    pub max_errors: Option<String>,
    /// CRITICAL, HIGH, MEDIUM, LOW or UNSPECIFIED: the severity of its compliance items.
    #[arg(long)]
    pub compliance_severity: Option<String>,
    /// The shell command (for AWS-RunShellScript: the `commands` parameter), after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `tag:Key=V1,V2` → (`tag:Key`, [V1, V2]); `tag-key=Key` → (`tag-key`, [Key]); `*` →
/// (`InstanceIds`, [*]); `mi-…,i-…` → (`InstanceIds`, ids).
pub fn parse_target(s: &str) -> Result<(String, Vec<String>), String> {
    let values = |v: &str| -> Result<Vec<String>, String> {
        let list: Vec<String> = v
            .split(',')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect();
        if list.is_empty() {
            return Err(format!("no values in {s:?}"));
        }
        Ok(list)
    };
    if let Some(rest) = s.strip_prefix("tag:") {
        let (key, v) = rest
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("expected tag:Key=Value[,Value2], got {s:?}"))?;
        return Ok((format!("tag:{key}"), values(v)?));
    }
    if let Some(key) = s.strip_prefix("tag-key=") {
        return Ok(("tag-key".to_string(), values(key)?));
    }
    if s.contains('=') {
        return Err(format!(
            "expected tag:Key=Value, tag-key=Key, node ids or *, got {s:?}"
        ));
    }
    Ok(("InstanceIds".to_string(), values(s)?))
}

/// The targets to send: node-id words merged into one `InstanceIds` target, in order.
pub fn merge_targets(targets: &[(String, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (key, values) in targets {
        match out.iter_mut().find(|(k, _)| k == "InstanceIds" && key == k) {
            Some((_, existing)) => existing.extend(values.iter().cloned()),
            None => out.push((key.clone(), values.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_words() {
        assert_eq!(
            parse_target("tag:ope-type=auto").unwrap(),
            ("tag:ope-type".into(), vec!["auto".into()])
        );
        assert_eq!(
            parse_target("tag:env=dev,prod").unwrap(),
            ("tag:env".into(), vec!["dev".into(), "prod".into()])
        );
        assert_eq!(
            parse_target("tag-key=team").unwrap(),
            ("tag-key".into(), vec!["team".into()])
        );
        assert_eq!(
            parse_target("*").unwrap(),
            ("InstanceIds".into(), vec!["*".into()])
        );
        assert_eq!(
            parse_target("mi-1,mi-2").unwrap().1,
            vec!["mi-1".to_string(), "mi-2".to_string()]
        );
        assert!(parse_target("tag:=x").is_err());
        assert!(parse_target("tag:env=").is_err());
        assert!(parse_target("env=prod").is_err());
        let merged = merge_targets(&[
            parse_target("mi-1").unwrap(),
            parse_target("tag:a=b").unwrap(),
            parse_target("mi-2").unwrap(),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].1, vec!["mi-1".to_string(), "mi-2".to_string()]);
    }
}
