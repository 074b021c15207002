//! The end of following a command: every node's final state, the output the live feed did not
//! deliver, then a summary table on stderr or, with `--json`, the results as JSON on stdout.
//! Exit code 0 only if every node succeeded.

use anyhow::anyhow;

use crate::client::{describe_error, Connection};
use crate::watch::{print_line, Shown};
use crate::{output, style, table};

/// One node's final state.
struct Final {
    instance_id: String,
    status: String,
    details: String,
    code: i32,
    steps: Vec<String>,
}

/// Print the results of `command_id` (which has ended); `shown` is what the live feed printed.
pub async fn finish(
    conn: &Connection,
    command_id: &str,
    json: bool,
    shown: &Shown,
    colours_out: bool,
) -> anyhow::Result<u8> {
    let mut finals = Vec::new();
    let mut pages = conn
        .sdk
        .list_command_invocations()
        .command_id(command_id)
        .details(true)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let inv = item.map_err(|e| anyhow!(describe_error(&e)))?;
        let plugins = inv.command_plugins();
        let failed = plugins.iter().find(|p| p.response_code() != 0);
        finals.push(Final {
            instance_id: inv.instance_id().unwrap_or_default().to_string(),
            status: inv
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            details: inv.status_details().unwrap_or_default().to_string(),
            code: failed
                .or(plugins.last())
                .map(|p| p.response_code())
                .unwrap_or(-1),
            steps: plugins
                .iter()
                .filter_map(|p| p.name().map(str::to_string))
                .collect(),
        });
    }
    let all_ok = !finals.is_empty() && finals.iter().all(|f| f.status == "Success");
    if json {
        let mut list = Vec::new();
        for f in &finals {
            let mut steps = Vec::new();
            for step in &f.steps {
                let o = output::step_output(conn, command_id, &f.instance_id, step).await?;
                let (stdout, _) = output::whole(conn, &o.stdout, &o.stdout_url).await;
                let (stderr, _) = output::whole(conn, &o.stderr, &o.stderr_url).await;
                steps.push(serde_json::json!({
                    "Name": step,
                    "StandardOutput": String::from_utf8_lossy(&stdout),
                    "StandardError": String::from_utf8_lossy(&stderr),
                }));
            }
            list.push(serde_json::json!({
                "InstanceId": f.instance_id,
                "Status": f.status,
                "StatusDetails": f.details,
                "ResponseCode": f.code,
                "Steps": steps,
            }));
        }
        let v =
            serde_json::json!({"CommandId": command_id, "Success": all_ok, "Invocations": list});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(if all_ok { 0 } else { 1 });
    }
    // Output the live feed did not deliver (it subscribes after the command is sent, and its
    // offsets are per step): the rest of each single-step node's streams, every step otherwise.
    for f in &finals {
        for step in &f.steps {
            let shown_from = |stderr| {
                if f.steps.len() == 1 {
                    shown
                        .get(&(f.instance_id.clone(), stderr))
                        .copied()
                        .unwrap_or(0)
                } else if shown.keys().any(|(id, _)| *id == f.instance_id) {
                    u64::MAX
                } else {
                    0
                }
            };
            let (out_from, err_from) = (shown_from(false), shown_from(true));
            if out_from == u64::MAX {
                continue;
            }
            let o = output::step_output(conn, command_id, &f.instance_id, step).await?;
            for (stderr, text, url, from) in [
                (false, &o.stdout, &o.stdout_url, out_from),
                (true, &o.stderr, &o.stderr_url, err_from),
            ] {
                let (bytes, note) = output::whole(conn, text, url).await;
                let rest = bytes.get(from as usize..).unwrap_or_default();
                for line in rest.split_inclusive(|b| *b == b'\n') {
                    print_line(colours_out, &f.instance_id, stderr, line);
                }
                if let Some(note) = note {
                    eprintln!("{}: {note}", f.instance_id);
                }
            }
        }
    }
    let colours = style::stderr_colours();
    let rows: Vec<Vec<String>> = finals
        .iter()
        .map(|f| {
            vec![
                f.instance_id.clone(),
                style::paint(colours, style::for_status(&f.status), &f.details),
                f.code.to_string(),
            ]
        })
        .collect();
    eprint!("{}", table::render(&["NODE", "STATUS", "CODE"], &rows));
    if finals.is_empty() {
        eprintln!("no node matched the targets");
    }
    Ok(if all_ok { 0 } else { 1 })
}
