//! Document lifecycle end to end: create, read, version, default, delete, share — and running
//! a user document with typed parameters on a real agent.

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{CommandInvocationStatus, DocumentFormat, DocumentType, Tag};
use bosun_e2e::fleet::Fleet;

const LIMIT: Duration = Duration::from_secs(30);

/// A schema 2.2 Command document with typed parameters (the shape of seed 003's document).
fn doc(greeting_default: &str) -> String {
    serde_json::json!({
        "schemaVersion": "2.2",
        "description": "Greets and counts",
        "parameters": {
            "greeting": {"type": "String", "default": greeting_default, "allowedPattern": "^[a-zA-Z ]{1,32}$"},
            "times": {"type": "Integer", "default": 2}
        },
        "mainSteps": [{
            "action": "aws:runShellScript",
            "name": "greet",
            "inputs": {"runCommand": ["for i in $(seq 1 {{ times }}); do echo {{ greeting }}; done"]}
        }]
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_are_versioned_and_run_with_typed_parameters() {
    let fleet = Fleet::start(1, 1).await;
    let c = &fleet.client;
    let created = c
        .create_document()
        .name("Greet")
        .content(doc("hello"))
        .document_type(DocumentType::Command)
        .document_format(DocumentFormat::Json)
        .version_name("first")
        .tags(Tag::builder().key("team").value("ops").build().unwrap())
        .send()
        .await
        .expect("CreateDocument");
    let d = created.document_description().unwrap();
    assert_eq!(d.document_version(), Some("1"));
    assert_eq!(d.default_version(), Some("1"));
    assert_eq!(d.schema_version(), Some("2.2"));
    assert_eq!(d.owner(), Some("000000000000"));
    assert_eq!(d.parameters().len(), 2);
    let h1 = d.hash().unwrap().to_string();

    let err = c
        .create_document()
        .name("Greet")
        .content(doc("x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("DocumentAlreadyExists"));
    let err = c
        .create_document()
        .name("AWS-Mine")
        .content(doc("x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = c
        .create_document()
        .name("Broken")
        .content("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocumentContent"));
    let err = c
        .create_document()
        .name("OldSchema")
        .content(r#"{"schemaVersion":"9.9","mainSteps":[]}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocumentSchemaVersion"));
    let big = format!(
        r#"{{"schemaVersion":"2.2","description":"{}","mainSteps":[]}}"#,
        "x".repeat(70_000)
    );
    let err = c
        .create_document()
        .name("Huge")
        .content(big)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("MaxDocumentSizeExceeded"));

    // Versions: update, duplicate content refused, default moves, $LATEST, delete one version.
    let updated = c
        .update_document()
        .name("Greet")
        .content(doc("howdy"))
        .document_version("$LATEST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.document_description().unwrap().document_version(),
        Some("2")
    );
    assert_eq!(
        updated.document_description().unwrap().default_version(),
        Some("1")
    );
    let err = c
        .update_document()
        .name("Greet")
        .content(doc("howdy"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("DuplicateDocumentContent"));
    let err = c
        .update_document()
        .name("Greet")
        .content(doc("hey"))
        .document_version("1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocumentVersion"));
    let latest = c
        .get_document()
        .name("Greet")
        .document_version("$LATEST")
        .send()
        .await
        .unwrap();
    assert!(latest.content().unwrap().contains("howdy"));
    let default = c.get_document().name("Greet").send().await.unwrap();
    assert!(default.content().unwrap().contains("hello"));
    assert_eq!(default.version_name(), Some("first"));
    let by_name = c
        .describe_document()
        .name("Greet")
        .version_name("first")
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.document().unwrap().hash(), Some(h1.as_str()));

    // Run the default version with typed parameters, then with the new default.
    let id = fleet.ids()[0].clone();
    let run = |params: Vec<(&str, &str)>| {
        let mut r = c.send_command().document_name("Greet").instance_ids(&id);
        for (k, v) in params {
            r = r.parameters(k, vec![v.to_string()]);
        }
        r.send()
    };
    let cmd = run(vec![("times", "3")])
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(inv.standard_output_content(), Some("hello\nhello\nhello\n"));
    assert_eq!(inv.plugin_name(), Some("greet"));
    let err = run(vec![("greeting", "hi; rm -rf /")]).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameters"));
    let err = run(vec![("times", "many")]).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameters"));

    let set = c
        .update_document_default_version()
        .name("Greet")
        .document_version("2")
        .send()
        .await
        .unwrap();
    assert_eq!(set.description().unwrap().default_version(), Some("2"));
    let cmd = run(vec![("times", "1")])
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    assert_eq!(
        fleet
            .wait_done(&cmd, &id, LIMIT)
            .await
            .standard_output_content(),
        Some("howdy\n")
    );

    let versions = c
        .list_document_versions()
        .name("Greet")
        .send()
        .await
        .unwrap();
    let flags: Vec<(Option<&str>, bool)> = versions
        .document_versions()
        .iter()
        .map(|v| (v.document_version(), v.is_default_version()))
        .collect();
    assert_eq!(flags, vec![(Some("1"), false), (Some("2"), true)]);
    let err = c
        .delete_document()
        .name("Greet")
        .document_version("2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some("InvalidDocumentOperation"),
        "the default version stays"
    );
    c.delete_document()
        .name("Greet")
        .document_version("1")
        .send()
        .await
        .unwrap();
    let err = c
        .get_document()
        .name("Greet")
        .document_version("1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocumentVersion"));

    // Listing: Owner Self shows ours, Amazon the built-ins; tags filter.
    let mine = c
        .list_documents()
        .filters(
            aws_sdk_ssm::types::DocumentKeyValuesFilter::builder()
                .key("Owner")
                .values("Self")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = mine
        .document_identifiers()
        .iter()
        .filter_map(|d| d.name())
        .collect();
    assert_eq!(names, vec!["Greet"]);
    let tagged = c
        .list_documents()
        .filters(
            aws_sdk_ssm::types::DocumentKeyValuesFilter::builder()
                .key("tag:team")
                .values("ops")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.document_identifiers().len(), 1);

    // Sharing.
    c.modify_document_permission()
        .name("Greet")
        .permission_type(aws_sdk_ssm::types::DocumentPermissionType::Share)
        .account_ids_to_add("111122223333")
        .send()
        .await
        .unwrap();
    let perms = c
        .describe_document_permission()
        .name("Greet")
        .permission_type(aws_sdk_ssm::types::DocumentPermissionType::Share)
        .send()
        .await
        .unwrap();
    assert_eq!(perms.account_ids(), &["111122223333".to_string()]);
    c.modify_document_permission()
        .name("Greet")
        .permission_type(aws_sdk_ssm::types::DocumentPermissionType::Share)
        .account_ids_to_remove("111122223333")
        .send()
        .await
        .unwrap();

    // Deleting the document removes it; built-ins cannot be deleted.
    c.delete_document().name("Greet").send().await.unwrap();
    let err = c
        .describe_document()
        .name("Greet")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocument"));
    let err = c
        .delete_document()
        .name("AWS-RunShellScript")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocumentOperation"));
}

/// A Command document AWS accepts although its parameters' `description` (and other optional
/// properties) are written with no value, and a default breaks its own `allowedPattern`.
const EMPTY_PROPERTIES_YAML: &str = r#"schemaVersion: "2.2"
description: Parameters with empty properties
parameters:
  Count:
    type: Integer
    default: 3
    description: "How many."
    allowedValues: [1, 2, 3, 4]
  Word:
    type: String
    default: def
    description:
    allowedValues: [abc, def]
    allowedPattern: r"^[a-z]{3,128}$"
  Flag:
    type: Boolean
    default: false
    description:
  Settings:
    type: StringMap
    default:
      Kind: Command
      Events: [Failed]
    description:
mainSteps:
  - action: aws:runShellScript
    name: sampleCommand
    inputs:
      runCommand:
        - echo hi
"#;

/// Issue 11: a YAML document with `description:` empty is created; while it is shared it
/// cannot be deleted (`InvalidDocumentOperation`), once unshared it can; `ListCommands` refuses
/// a `Status` filter value that is not a status (`InvalidFilterKey`, the only filter error the
/// model lists for it); runbook step names keep their documented characters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_shaped_documents_sharing_and_list_filters() {
    use aws_sdk_ssm::types::{CommandFilter, CommandFilterKey, DocumentPermissionType};
    let server = bosun_e2e::TestServer::start().await;
    let c = server.client();
    let created = c
        .create_document()
        .name("EmptyDescriptions")
        .content(EMPTY_PROPERTIES_YAML)
        .document_type(DocumentType::Command)
        .document_format(DocumentFormat::Yaml)
        .send()
        .await
        .expect("CreateDocument of a document AWS accepts");
    let d = created.document_description().unwrap();
    let mut params: Vec<(&str, &str, Option<&str>)> = d
        .parameters()
        .iter()
        .map(|p| {
            (
                p.name().unwrap_or(""),
                p.description().unwrap_or(""),
                p.default_value(),
            )
        })
        .collect();
    params.sort();
    assert_eq!(
        params,
        vec![
            ("Count", "How many.", Some("3")),
            ("Flag", "", Some("false")),
            (
                "Settings",
                "",
                Some(r#"{"Events":["Failed"],"Kind":"Command"}"#)
            ),
            ("Word", "", Some("def")),
        ]
    );

    let share = |add: bool| {
        let r = c
            .modify_document_permission()
            .name("EmptyDescriptions")
            .permission_type(DocumentPermissionType::Share);
        if add {
            r.account_ids_to_add("111122223333").send()
        } else {
            r.account_ids_to_remove("111122223333").send()
        }
    };
    share(true).await.expect("share");
    let err = c
        .delete_document()
        .name("EmptyDescriptions")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocumentOperation"), "{err:?}");
    c.describe_document()
        .name("EmptyDescriptions")
        .send()
        .await
        .expect("still there after the refused delete");
    share(false).await.expect("unshare");
    // `Force` makes this request differ from the refused one: Bosun's replay protection
    // answers an identical signed request inside the same second with the first response.
    c.delete_document()
        .name("EmptyDescriptions")
        .force(false)
        .send()
        .await
        .expect("DeleteDocument once unshared");
    let err = c
        .describe_document()
        .name("EmptyDescriptions")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocument"));

    let status = |v: &str| {
        c.list_commands()
            .filters(
                CommandFilter::builder()
                    .key(CommandFilterKey::Status)
                    .value(v)
                    .build()
                    .unwrap(),
            )
            .send()
    };
    let err = status("Bogus").await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidFilterKey"), "{err:?}");
    assert!(err.message().unwrap_or("").contains("Bogus"), "{err:?}");
    for ok in ["Success", "DeliveryTimedOut", "Cancelling"] {
        status(ok)
            .await
            .unwrap_or_else(|e| panic!("Status {ok}: {e:?}"));
    }

    // Runbook step names: letters, digits and underscores.
    let err = c
        .create_document()
        .name("BadStepName")
        .document_type(DocumentType::Automation)
        .content(r#"{"schemaVersion":"0.3","mainSteps":[{"name":"bad-name","action":"aws:sleep","inputs":{"Duration":"PT1S"}}]}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocumentContent"), "{err:?}");
}

/// Seed 003's kind of document, written in YAML.
const YAML_DOC: &str = r#"schemaVersion: "2.2"
description: Report the agent version and a message
parameters:
  message:
    type: String
    default: all good
    allowedPattern: "^[a-zA-Z ]{1,40}$"
mainSteps:
  - action: aws:runShellScript
    name: onlyOnWindows
    precondition:
      StringEquals: [platformType, Windows]
    inputs:
      runCommand:
        - echo never
  - action: aws:runShellScript
    name: report
    inputs:
      runCommand:
        - echo "{{ message }}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaml_documents_round_trip_and_preconditions_skip_steps() {
    let fleet = Fleet::start(1, 1).await;
    let c = &fleet.client;
    let created = c
        .create_document()
        .name("Report")
        .content(YAML_DOC)
        .document_format(DocumentFormat::Yaml)
        .send()
        .await
        .expect("CreateDocument from YAML");
    assert_eq!(
        created
            .document_description()
            .unwrap()
            .document_format()
            .map(|f| f.as_str()),
        Some("YAML")
    );
    let as_yaml = c.get_document().name("Report").send().await.unwrap();
    assert_eq!(
        as_yaml.content(),
        Some(YAML_DOC),
        "the content is kept as written"
    );
    let as_json = c
        .get_document()
        .name("Report")
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(as_json.content().unwrap()).unwrap();
    assert_eq!(v["mainSteps"][1]["name"], "report");
    assert_eq!(as_json.document_format().map(|f| f.as_str()), Some("JSON"));

    let id = fleet.ids()[0].clone();
    let cmd = c
        .send_command()
        .document_name("Report")
        .instance_ids(&id)
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    let list = c
        .list_command_invocations()
        .command_id(&cmd)
        .details(true)
        .send()
        .await
        .unwrap();
    let plugins = list.command_invocations()[0].command_plugins();
    assert_eq!(plugins.len(), 2);
    assert_eq!(plugins[0].name(), Some("onlyOnWindows"));
    assert_eq!(plugins[0].status().map(|s| s.as_str()), Some("Success"));
    assert!(
        plugins[0].output().unwrap_or_default().contains("skipped"),
        "{:?}",
        plugins[0]
    );
    assert_eq!(plugins[1].output(), Some("all good\n"));
    let got = c
        .get_command_invocation()
        .command_id(&cmd)
        .instance_id(&id)
        .plugin_name("report")
        .send()
        .await
        .unwrap();
    assert_eq!(got.standard_output_content(), Some("all good\n"));
}

/// Hostile values: each would run something, or break quoting, if spliced into shell text.
const CORPUS: &[&str] = &[
    "; touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "| touch PWNED",
    "&& touch PWNED",
    "line\ntouch PWNED",
    "\"; touch PWNED; echo \"",
    "'; touch PWNED; echo '",
    "\\\"$(touch PWNED)\\\"",
    "${IFS}touch${IFS}PWNED",
    "{{ other }}",
    "-- --help",
    "ünïcödé ✓ $(touch PWNED)",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_var_parameters_arrive_byte_exact_and_run_nothing() {
    let fleet = Fleet::start(1, 1).await;
    let c = &fleet.client;
    let work = tempfile::tempdir().unwrap();
    let env_doc = serde_json::json!({
        "schemaVersion": "2.2",
        "parameters": {"value": {"type": "String", "interpolationType": "ENV_VAR"}, "out": {"type": "String"}},
        "mainSteps": [{"action": "aws:runShellScript", "name": "echo",
            "inputs": {"runCommand": ["cd {{ out }} && printf '%s' \"{{ value }}\" > got && printf '%s' \"$SSM_value\" > env"]}}]
    });
    c.create_document()
        .name("EnvVar")
        .content(env_doc.to_string())
        .send()
        .await
        .unwrap();
    let strict_doc = serde_json::json!({
        "schemaVersion": "2.2",
        "parameters": {"value": {"type": "String", "allowedPattern": "^[a-zA-Z0-9_.-]{1,64}$"}},
        "mainSteps": [{"action": "aws:runShellScript", "name": "echo", "inputs": {"runCommand": ["echo {{ value }}"]}}]
    });
    c.create_document()
        .name("Strict")
        .content(strict_doc.to_string())
        .send()
        .await
        .unwrap();
    let id = fleet.ids()[0].clone();
    let long = "A$(touch PWNED)".repeat(2000);
    let mut values: Vec<String> = CORPUS.iter().map(|s| s.to_string()).collect();
    values.push(long);
    for (n, value) in values.iter().enumerate() {
        let dir = work.path().join(n.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let cmd = c
            .send_command()
            .document_name("EnvVar")
            .instance_ids(&id)
            .parameters("value", vec![value.clone()])
            .parameters("out", vec![dir.to_str().unwrap().to_string()])
            .send()
            .await
            .unwrap()
            .command
            .unwrap()
            .command_id
            .unwrap();
        let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::Success),
            "value {n}: {inv:?}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("got")).unwrap(),
            *value,
            "value {n} via {{{{ }}}}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("env")).unwrap(),
            *value,
            "value {n} via $SSM_value"
        );
        assert!(!dir.join("PWNED").exists(), "value {n} ran something");
        // The same value through a `{{ }}` document with a strict allowedPattern is refused.
        let err = c
            .send_command()
            .document_name("Strict")
            .instance_ids(&id)
            .parameters("value", vec![value.clone()])
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("InvalidParameters"), "value {n}");
    }
    let err = c
        .send_command()
        .document_name("EnvVar")
        .instance_ids(&id)
        .parameters("value", vec!["nul\0byte".into()])
        .parameters("out", vec!["/tmp".into()])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameters"));
}
