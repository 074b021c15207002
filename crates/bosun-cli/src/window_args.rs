//! `bosun window …` flags: maintenance windows, their targets and Run Command tasks.

use clap::{Args, Subcommand};

use crate::fleet;

#[derive(Subcommand)]
pub enum WindowCommand {
    /// Create a maintenance window (CreateMaintenanceWindow); prints its id.
    Create(CreateWindowArgs),
    /// Add targets to a window: tagged nodes, node ids, or a resource group.
    AddTarget(AddTargetArgs),
    /// Add a Run Command task to a window (RUN_COMMAND).
    AddTask(Box<AddTaskArgs>),
    /// List windows with their schedule and next run (in your time zone).
    List {
        /// Print them as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// One window: its definition, targets, tasks, next runs and recent executions.
    Show {
        /// The window id (mw-…).
        window_id: String,
    },
    /// One execution of a window: each task and each node's outcome.
    Execution {
        /// The window execution id.
        execution_id: String,
        /// Print it as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Delete a window with its targets and tasks.
    Delete {
        /// The window id (mw-…).
        window_id: String,
    },
}

#[derive(Args, Clone, Debug)]
pub struct CreateWindowArgs {
    /// Its name (3-128 characters: letters, digits, _ - .).
    #[arg(long)]
    pub name: String,
    /// cron(…), rate(…) or at(yyyy-mm-ddThh:mm:ss).
    #[arg(long)]
    pub schedule: String,
    /// The schedule's IANA time zone (default UTC), e.g. Asia/Tokyo.
    #[arg(long)]
    pub timezone: Option<String>,
    /// How long each run may last, in hours (1-24).
    #[arg(long)]
    pub duration: i32,
    /// No new task starts in the last this-many hours (0 to duration-1).
    #[arg(long, default_value_t = 0)]
    pub cutoff: i32,
    /// Let tasks name nodes that are not registered targets of the window.
    #[arg(long)]
    pub allow_unassociated_targets: bool,
    /// Run each cron slot this many days later (1-6).
    #[arg(long, value_name = "DAYS")]
    pub schedule_offset: Option<i32>,
    /// The first day it may run (ISO-8601).
    #[arg(long)]
    pub start_date: Option<String>,
    /// The day after which it no longer runs (ISO-8601).
    #[arg(long)]
    pub end_date: Option<String>,
    /// A description.
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Args, Clone, Debug)]
pub struct AddTargetArgs {
    /// The window id (mw-…).
    pub window_id: String,
    /// Which nodes: tag:Key=Value[,Value2], node ids (comma separated), or
    /// resource-group:NAME. Repeat for several tags (a node must match all).
    #[arg(long = "target", required = true, value_parser = parse_window_target, value_name = "TARGET")]
    pub targets: Vec<(String, Vec<String>)>,
    /// A name for this target registration.
    #[arg(long)]
    pub name: Option<String>,
    /// Free text shown with the target's executions (OwnerInformation).
    #[arg(long)]
    pub owner_information: Option<String>,
}

#[derive(Args, Clone, Debug)]
pub struct AddTaskArgs {
    /// The window id (mw-…).
    pub window_id: String,
    /// Which of the window's registered targets the task runs on (window target ids; default
    /// all of them).
    #[arg(long = "window-target", value_name = "ID")]
    pub window_targets: Vec<String>,
    /// The document to run.
    #[arg(long, default_value = "AWS-RunShellScript")]
    pub document: String,
    /// A document parameter, name=value; repeat a name to build a StringList.
    #[arg(long = "param", value_parser = fleet::parse_tag, value_name = "NAME=VALUE")]
    pub params: Vec<(String, String)>,
    /// Lower runs first (0-…; default 1).
    #[arg(long, default_value_t = 1)]
    pub priority: i32,
    /// How many nodes run it at once: a number or a percentage (default 100%).
    #[arg(long, default_value = "100%")]
    pub max_concurrency: String,
    /// How many failures stop it on more nodes: a number or a percentage (default 0).
    #[arg(long, default_value = "0")]
    pub max_errors: String,
    /// A name for the task.
    #[arg(long)]
    pub name: Option<String>,
    /// The shell command (for AWS-RunShellScript: the `commands` parameter), after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `resource-group:NAME` → (`resource-groups:Name`, [NAME]); anything else as `bosun assoc`
/// reads a target word.
pub fn parse_window_target(s: &str) -> Result<(String, Vec<String>), String> {
    if let Some(name) = s.strip_prefix("resource-group:") {
        if name.is_empty() {
            return Err(format!("expected resource-group:NAME, got {s:?}"));
        }
        return Ok(("resource-groups:Name".to_string(), vec![name.to_string()]));
    }
    crate::assoc_args::parse_target(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_groups_and_tags_are_window_targets() {
        assert_eq!(
            parse_window_target("resource-group:ope-auto").unwrap(),
            ("resource-groups:Name".into(), vec!["ope-auto".into()])
        );
        assert!(parse_window_target("resource-group:").is_err());
        assert_eq!(
            parse_window_target("tag:env=prod").unwrap(),
            ("tag:env".into(), vec!["prod".into()])
        );
    }
}
