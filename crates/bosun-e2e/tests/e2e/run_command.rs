//! Run Command end to end: real agents run real shell commands; statuses, output, timeouts,
//! cancellation, rate controls and delivery deadlines behave as AWS documents them.

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{CommandInvocationStatus, CommandStatus};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::http::signed_get;
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_and_output_come_back_exactly() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let cmd = fleet
        .run(
            std::slice::from_ref(&id),
            &["echo hello", "echo oops >&2", "exit 3"],
            &[],
        )
        .await;
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
    assert_eq!(inv.status_details(), Some("Failed"));
    assert_eq!(inv.response_code(), 3);
    assert_eq!(inv.standard_output_content(), Some("hello\n"));
    assert_eq!(inv.standard_error_content(), Some("oops\n"));
    assert_eq!(inv.plugin_name(), Some("aws:runShellScript"));
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Failed));
    assert_eq!(
        (c.target_count(), c.completed_count(), c.error_count()),
        (1, 1, 1)
    );

    // Environment and working directory.
    let cmd = fleet
        .run(
            std::slice::from_ref(&id),
            &["echo $AWS_SSM_INSTANCE_ID $AWS_SSM_REGION_NAME", "pwd"],
            &[("workingDirectory", "/tmp")],
        )
        .await;
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(
        inv.standard_output_content(),
        Some(format!("{id} us-east-1\n/tmp\n").as_str())
    );

    // Details of ListCommandInvocations carry the plugin.
    let list = fleet
        .client
        .list_command_invocations()
        .command_id(&cmd)
        .details(true)
        .send()
        .await
        .unwrap();
    let plugins = list.command_invocations()[0].command_plugins();
    assert_eq!(plugins.len(), 1);
    assert_eq!(plugins[0].name(), Some("aws:runShellScript"));
    assert_eq!(plugins[0].response_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_output_is_cut_in_the_api_and_whole_at_the_url() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    // 100 KB of stdout: 1,000 lines of 99 characters plus newline.
    let cmd = fleet
        .run(
            std::slice::from_ref(&id),
            &[
                "for i in $(seq 1 1000); do printf '%099d\\n' $i; done",
                "head -c 20000 /dev/zero | tr '\\0' e >&2",
            ],
            &[],
        )
        .await;
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(
        inv.standard_output_content().unwrap().chars().count(),
        24_000
    );
    assert_eq!(inv.standard_error_content().unwrap().chars().count(), 8_000);
    let (akid, secret) = fleet.server.admin_credentials();
    let url = inv.standard_output_url().unwrap().to_string();
    let full = wait_for("the full output at its URL", LIMIT, || async {
        let r = signed_get(&url, &akid, &secret, "us-east-1").await;
        (r.status == 200 && r.body.len() == 100_000).then_some(r.body)
    })
    .await;
    assert!(full.starts_with(&format!("{:099}\n", 1)));
    assert!(full.ends_with(&format!("{:099}\n", 1000)));
    let err = signed_get(
        inv.standard_error_url().unwrap(),
        &akid,
        &secret,
        "us-east-1",
    )
    .await;
    assert_eq!(err.body.len(), 20_000);
    // Unsigned or wrongly signed requests get nothing.
    let r = signed_get(&url, &akid, "wrong", "us-east-1").await;
    assert_eq!(r.status, 400, "{}", r.body);
}

pub(crate) fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_cancels_stop_the_whole_process_tree() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let pids = tempfile::tempdir().unwrap();
    let timed = pids.path().join("timed");
    let script = format!(
        "sleep 30 & echo $! > {0}.bg; echo $$ > {0}; wait",
        timed.display()
    );
    let cmd = fleet
        .run(
            std::slice::from_ref(&id),
            &[&script],
            &[("executionTimeout", "2")],
        )
        .await;
    let started = std::time::Instant::now();
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::TimedOut));
    assert_eq!(inv.status_details(), Some("ExecutionTimedOut"));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stopped promptly"
    );
    for f in [timed.clone(), timed.with_extension("bg")] {
        let pid: i32 = std::fs::read_to_string(&f).unwrap().trim().parse().unwrap();
        assert!(
            !pid_alive(pid),
            "process {pid} from {} survived the timeout",
            f.display()
        );
    }
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::TimedOut));

    let cancelled = pids.path().join("cancelled");
    let script = format!("echo $$ > {}; sleep 60", cancelled.display());
    let cmd = fleet.run(std::slice::from_ref(&id), &[&script], &[]).await;
    wait_for("the script to start", LIMIT, || async {
        cancelled.exists().then_some(())
    })
    .await;
    fleet
        .client
        .cancel_command()
        .command_id(&cmd)
        .send()
        .await
        .expect("CancelCommand");
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Cancelled));
    let pid: i32 = std::fs::read_to_string(&cancelled)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!pid_alive(pid));
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Cancelled));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_controls_bound_concurrency_and_stop_after_errors() {
    let fleet = Fleet::start(3, 3).await;
    let ids = fleet.ids();
    let log = tempfile::tempdir().unwrap();
    let script = format!(
        "echo start $(date +%s%N) >> {0}/$AWS_SSM_INSTANCE_ID; sleep 0.3; echo end $(date +%s%N) >> {0}/$AWS_SSM_INSTANCE_ID",
        log.path().display()
    );
    let out = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(ids.clone()))
        .parameters("commands", vec![script])
        .max_concurrency("1")
        .send()
        .await
        .unwrap();
    let cmd = out.command.unwrap().command_id.unwrap();
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));
    let mut spans: Vec<(u128, u128)> = ids
        .iter()
        .map(|id| {
            let text = std::fs::read_to_string(log.path().join(id)).unwrap();
            let nums: Vec<u128> = text
                .lines()
                .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
                .collect();
            (nums[0], nums[1])
        })
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(
            w[0].1 <= w[1].0,
            "invocations overlapped with MaxConcurrency 1: {spans:?}"
        );
    }

    // MaxErrors 0: the first failure stops dispatch; the rest are Terminated.
    let out = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(ids.clone()))
        .parameters("commands", vec!["exit 1".to_string()])
        .max_concurrency("1")
        .max_errors("0")
        .send()
        .await
        .unwrap();
    let cmd = out.command.unwrap().command_id.unwrap();
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Failed));
    let invs = fleet
        .client
        .list_command_invocations()
        .command_id(&cmd)
        .details(true)
        .send()
        .await
        .unwrap();
    // The steps of a Terminated invocation are not left Pending: they show how it ended.
    for inv in invs.command_invocations() {
        if inv.status_details() == Some("Terminated") {
            let steps: Vec<(Option<&str>, Option<&str>)> = inv
                .command_plugins()
                .iter()
                .map(|p| (p.status().map(|s| s.as_str()), p.status_details()))
                .collect();
            assert_eq!(steps, [(Some("Cancelled"), Some("Terminated"))], "{inv:?}");
        }
    }
    let details: Vec<&str> = invs
        .command_invocations()
        .iter()
        .filter_map(|i| i.status_details())
        .collect();
    assert_eq!(
        details.iter().filter(|d| **d == "Failed").count(),
        1,
        "{details:?}"
    );
    assert_eq!(
        details.iter().filter(|d| **d == "Terminated").count(),
        2,
        "{details:?}"
    );
    assert_eq!(c.error_count(), 1);
    assert_eq!(c.completed_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_nodes_are_delayed_then_run_and_expired_ones_never_run() {
    let mut fleet = Fleet::start(2, 0).await;
    let ids = fleet.ids();
    let marks = tempfile::tempdir().unwrap();
    let late = marks.path().join("late");
    let expired = marks.path().join("expired");

    let cmd_late = fleet
        .run(
            &[ids[0].clone()],
            &[&format!("touch {}", late.display())],
            &[],
        )
        .await;
    let out = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&ids[1])
        .parameters("commands", vec![format!("touch {}", expired.display())])
        .parameters("executionTimeout", vec!["1".into()])
        .timeout_seconds(30)
        .send()
        .await
        .unwrap();
    let cmd_expired = out.command.unwrap().command_id.unwrap();

    wait_for("the offline invocation to be Delayed", LIMIT, || async {
        let inv = fleet
            .client
            .get_command_invocation()
            .command_id(&cmd_late)
            .instance_id(&ids[0])
            .send()
            .await
            .ok()?;
        (inv.status() == Some(&CommandInvocationStatus::Delayed)).then_some(())
    })
    .await;
    fleet.agents[0].start();
    let inv = fleet.wait_done(&cmd_late, &ids[0], LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert!(late.exists());

    // The second node stays away past ExpiresAfter (30 s + 1 s): DeliveryTimedOut, and when it
    // comes back the command does not run.
    let inv = fleet
        .wait_done(&cmd_expired, &ids[1], Duration::from_secs(60))
        .await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::TimedOut));
    assert_eq!(inv.status_details(), Some("DeliveryTimedOut"));
    let c = fleet.wait_command(&cmd_expired, LIMIT).await;
    assert_eq!(c.delivery_timed_out_count(), 1);
    fleet.agents[1].start();
    fleet.wait_online(&ids[1]).await;
    // A later command on the same node proves the node is working and has drained its queue.
    let probe = fleet.run(&[ids[1].clone()], &["true"], &[]).await;
    fleet.wait_done(&probe, &ids[1], LIMIT).await;
    assert!(!expired.exists(), "an expired command must never run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_aws_errors() {
    let fleet = Fleet::start(1, 1).await;
    let c = &fleet.client;
    let err = c
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids("mi-00000000000000000")
        .parameters("commands", vec!["true".into()])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidInstanceId"));
    let err = c
        .send_command()
        .document_name("No-Such-Doc")
        .instance_ids(fleet.ids()[0].clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocument"));
    let err = c
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(fleet.ids()[0].clone())
        .parameters("bogus", vec!["x".into()])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameters"));
    let err = c
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(fleet.ids()[0].clone())
        .parameters("commands", vec!["true".into()])
        .parameters("executionTimeout", vec!["0; rm -rf /".into()])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameters"));
    let err = c
        .get_command_invocation()
        .command_id("00000000-0000-4000-8000-000000000000")
        .instance_id(fleet.ids()[0].clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidCommandId"));
    let cmd = fleet.run(&fleet.ids(), &["true"], &[]).await;
    let err = c
        .get_command_invocation()
        .command_id(&cmd)
        .instance_id("mi-00000000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvocationDoesNotExist"));
    let err = c
        .get_command_invocation()
        .command_id(&cmd)
        .instance_id(fleet.ids()[0].clone())
        .plugin_name("aws:nothing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidPluginName"));
    // A tag that matches nothing is reported as such, never as success.
    let cmd = fleet.run_tagged("env", "nowhere", &["true"]).await;
    let c = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Failed));
    assert_eq!(c.status_details(), Some("NoInstancesInTag"));
    assert_eq!(c.target_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_document_is_visible_and_deregistered_targets_are_undeliverable() {
    let fleet = Fleet::start(1, 0).await;
    let c = &fleet.client;
    let doc = c
        .get_document()
        .name("AWS-RunShellScript")
        .send()
        .await
        .unwrap();
    let content: serde_json::Value = serde_json::from_str(doc.content().unwrap()).unwrap();
    assert_eq!(content["schemaVersion"], "1.2");
    assert!(content["parameters"]["commands"].is_object());
    let described = c
        .describe_document()
        .name("AWS-RunShellScript")
        .send()
        .await
        .unwrap();
    let d = described.document().unwrap();
    use sha2::Digest;
    assert_eq!(
        d.hash(),
        Some(hex::encode(sha2::Sha256::digest(doc.content().unwrap())).as_str())
    );
    assert_eq!(d.document_type().map(|t| t.as_str()), Some("Command"));
    let names: Vec<String> = c
        .list_documents()
        .send()
        .await
        .unwrap()
        .document_identifiers()
        .iter()
        .filter_map(|d| d.name().map(str::to_string))
        .collect();
    assert!(names.contains(&"AWS-RunShellScript".to_string()));
    let err = c.get_document().name("Nope-Doc").send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocument"));

    // A node deregistered while its invocation waits is Undeliverable; all undeliverable ⇒ Failed.
    let id = fleet.ids()[0].clone();
    let cmd = fleet.run(std::slice::from_ref(&id), &["true"], &[]).await;
    wait_for("Delayed", LIMIT, || async {
        let inv = c
            .get_command_invocation()
            .command_id(&cmd)
            .instance_id(&id)
            .send()
            .await
            .ok()?;
        (inv.status() == Some(&CommandInvocationStatus::Delayed)).then_some(())
    })
    .await;
    c.deregister_managed_instance()
        .instance_id(&id)
        .send()
        .await
        .unwrap();
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status_details(), Some("Undeliverable"));
    let command = fleet.wait_command(&cmd, LIMIT).await;
    assert_eq!(command.status(), Some(&CommandStatus::Failed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_store_references_resolve_on_delivery_and_are_not_stored() {
    use aws_sdk_ssm::types::ParameterType;
    let fleet = Fleet::start(1, 1).await;
    let c = &fleet.client;
    let id = fleet.ids()[0].clone();
    c.put_parameter()
        .name("/app/dns-ip")
        .value("10.9.8.7")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    let cmd = fleet
        .run(
            std::slice::from_ref(&id),
            &["echo dns={{ssm:/app/dns-ip}}"],
            &[],
        )
        .await;
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(inv.standard_output_content(), Some("dns=10.9.8.7\n"));
    // The stored command keeps the reference, not the value.
    let listed = c.list_commands().command_id(&cmd).send().await.unwrap();
    let params = listed.commands()[0].parameters().unwrap();
    assert_eq!(
        params["commands"],
        vec!["echo dns={{ssm:/app/dns-ip}}".to_string()]
    );
    let id_ = cmd.clone();
    let stored = fleet
        .server
        .read_store(move |s| s.get_command("us-east-1", &id_).unwrap().unwrap())
        .await;
    assert!(
        !stored.steps_json.contains("10.9.8.7")
            && stored.steps_json.contains("{{ssm:/app/dns-ip}}")
    );

    let err = c
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&id)
        .parameters("commands", vec!["echo {{ssm:/app/missing}}".into()])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameters"));
    // A SecureString reference: the node gets the value in memory only.
    let marker = format!("CANARY-{}", std::process::id());
    c.put_parameter()
        .name("/app/secret")
        .value(&marker)
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let err = c
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&id)
        .parameters("commands", vec!["echo {{ssm:/app/secret}}".into()])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some("InvalidParameters"),
        "a SecureString needs ssm-secure"
    );
    assert!(!err.message().unwrap_or_default().contains(&marker));
    let cmd = fleet
        .run(
            std::slice::from_ref(&id),
            &["printf '%s' \"{{ssm-secure:/app/secret}}\" | sha256sum | cut -c1-64"],
            &[],
        )
        .await;
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Success),
        "{inv:?}"
    );
    use sha2::Digest;
    let expected = format!("{}\n", hex::encode(sha2::Sha256::digest(marker.as_bytes())));
    assert_eq!(inv.standard_output_content(), Some(expected.as_str()));
    // Nowhere on disk: not the agent's state dir (script, state files, replies), not the
    // server's data dir (database, WAL, blobs), not the server log.
    let mut hits = Vec::new();
    let agent_log = fleet.agents[0].state_dir.with_extension("log");
    let log = std::fs::read(&agent_log).unwrap_or_default();
    if log.windows(marker.len()).any(|w| w == marker.as_bytes()) {
        hits.push(agent_log);
    }
    let mut dirs = vec![
        fleet.agents[0].state_dir.clone(),
        fleet.server.dir.path().to_path_buf(),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(marker.len()).any(|w| w == marker.as_bytes()) {
                    hits.push(path);
                }
            }
        }
    }
    assert!(hits.is_empty(), "the SecureString reached disk: {hits:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn powershell_runs_with_pwsh_or_fails_saying_it_is_missing() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let cmd = fleet
        .client
        .send_command()
        .document_name("AWS-RunPowerShellScript")
        .instance_ids(&id)
        .parameters("commands", vec!["Write-Output 'hello from pwsh'".into()])
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    let has_pwsh = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("pwsh").is_file()))
        .unwrap_or(false);
    if has_pwsh {
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::Success),
            "{inv:?}"
        );
        assert_eq!(inv.standard_output_content(), Some("hello from pwsh\n"));
    } else {
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::Failed),
            "{inv:?}"
        );
        assert!(
            inv.standard_error_content()
                .unwrap_or_default()
                .contains("pwsh) is not installed"),
            "{inv:?}"
        );
    }
}
