//! Bad association input, table-driven through the real SDK: every invalid schedule, target,
//! parameter and version gets AWS's error code (and Bosun's message, checked by a phrase)
//! from `CreateAssociation`, `UpdateAssociation`, `CreateAssociationBatch`, `DescribeAssociation`
//! and `DeleteAssociation`, and after each the store holds nothing new: `ListAssociations`
//! still shows the one association made first, still at version 1.

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{CreateAssociationBatchRequestEntry, Target};
use aws_sdk_ssm::Client;
use bosun_e2e::fleet::Fleet;

/// One bad request: what differs from a good one, and the answer AWS gives.
#[derive(Clone, Default)]
struct Case {
    what: &'static str,
    schedule: Option<&'static str>,
    apply_only_at_cron_interval: Option<bool>,
    schedule_offset: Option<i32>,
    /// Replaces the good `tag:env=test` target.
    targets: Option<Vec<Target>>,
    instance_id: Option<&'static str>,
    document: Option<&'static str>,
    /// Replaces the good `commands` parameter (`Some(vec![])`: no parameters at all).
    parameters: Option<Vec<(&'static str, &'static str)>>,
    calendar: bool,
    automation_target_parameter: bool,
    /// Only `CreateAssociation` and the batch have the member (`InstanceId`).
    create_only: bool,
    code: &'static str,
    phrase: &'static str,
}

fn target(key: &str, values: &[&str]) -> Target {
    Target::builder()
        .key(key)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

fn cases() -> Vec<Case> {
    let tag = || vec![target("tag:env", &["test"])];
    let fifty_one: Vec<String> = (0..51).map(|i| format!("v{i}")).collect();
    let fifty_one: Vec<&str> = fifty_one.iter().map(String::as_str).collect();
    vec![
        Case {
            what: "rate below 30 minutes",
            schedule: Some("rate(15 minutes)"),
            code: "InvalidSchedule",
            phrase: "rate(15 minutes)",
            ..Case::default()
        },
        Case {
            what: "cron with five fields",
            schedule: Some("cron(0 5 * * ?)"),
            code: "InvalidSchedule",
            phrase: "cron(0 5 * * ?)",
            ..Case::default()
        },
        Case {
            what: "cron minute out of range",
            schedule: Some("cron(61 5 ? * TUE *)"),
            code: "InvalidSchedule",
            phrase: "cron(61 5 ? * TUE *)",
            ..Case::default()
        },
        Case {
            what: "cron with both day fields",
            schedule: Some("cron(0 5 * * TUE *)"),
            code: "InvalidSchedule",
            phrase: "cron(0 5 * * TUE *)",
            ..Case::default()
        },
        Case {
            what: "cron with an unknown day name",
            schedule: Some("cron(0 5 ? * TUX *)"),
            code: "InvalidSchedule",
            phrase: "TUX",
            ..Case::default()
        },
        Case {
            what: "not an expression",
            schedule: Some("every tuesday"),
            code: "InvalidSchedule",
            phrase: "every tuesday",
            ..Case::default()
        },
        Case {
            what: "ScheduleOffset without ApplyOnlyAtCronInterval",
            schedule: Some("cron(0 5 ? * TUE *)"),
            schedule_offset: Some(2),
            code: "InvalidSchedule",
            phrase: "ScheduleOffset",
            ..Case::default()
        },
        Case {
            what: "ScheduleOffset above 6",
            schedule: Some("cron(0 5 ? * TUE *)"),
            apply_only_at_cron_interval: Some(true),
            schedule_offset: Some(7),
            code: "ValidationException",
            phrase: "at 'scheduleOffset' failed to satisfy constraint: Member must have value less than or equal to 6",
            ..Case::default()
        },
        Case {
            what: "ScheduleOffset below 1",
            schedule: Some("cron(0 5 ? * TUE *)"),
            apply_only_at_cron_interval: Some(true),
            schedule_offset: Some(0),
            code: "ValidationException",
            phrase: "at 'scheduleOffset' failed to satisfy constraint: Member must have value greater than or equal to 1",
            ..Case::default()
        },
        Case {
            what: "ApplyOnlyAtCronInterval with a rate",
            schedule: Some("rate(1 day)"),
            apply_only_at_cron_interval: Some(true),
            code: "InvalidSchedule",
            phrase: "ApplyOnlyAtCronInterval",
            ..Case::default()
        },
        Case {
            what: "a target key Bosun does not know",
            targets: Some(vec![target("color", &["red"])]),
            code: "InvalidTarget",
            phrase: "Unsupported Target Type",
            ..Case::default()
        },
        Case {
            what: "an empty tag key",
            targets: Some(vec![target("tag:", &["red"])]),
            code: "InvalidTarget",
            phrase: "Unsupported Target Type",
            ..Case::default()
        },
        Case {
            what: "six targets",
            targets: Some(
                (0..6)
                    .map(|i| target(&format!("tag:k{i}"), &["v"]))
                    .collect(),
            ),
            code: "ValidationException",
            phrase: "at 'targets' failed to satisfy constraint: Member must have length less than or equal to 5",
            ..Case::default()
        },
        Case {
            what: "51 values in a target",
            targets: Some(vec![target("tag:env", &fifty_one)]),
            code: "ValidationException",
            phrase: "at 'targets.1.member.values' failed to satisfy constraint: Member must have length less than or equal to 50",
            ..Case::default()
        },
        Case {
            what: "a target without values",
            targets: Some(vec![target("tag:env", &[])]),
            code: "InvalidTarget",
            phrase: "tag:env",
            ..Case::default()
        },
        Case {
            what: "a resource group that does not exist",
            targets: Some(vec![target("resource-groups:Name", &["web"])]),
            code: "InvalidTarget",
            phrase: "resource group web does not exist",
            ..Case::default()
        },
        Case {
            what: "InstanceId and Targets both",
            instance_id: Some("mi-0123456789abcdef0"),
            targets: Some(tag()),
            create_only: true,
            code: "ValidationException",
            phrase: "InstanceId and Targets",
            ..Case::default()
        },
        Case {
            what: "an unknown document",
            document: Some("NoSuchDocument"),
            code: "InvalidDocument",
            // AWS's text as moto's document tests record it (aws_errors.py).
            phrase: "The specified document does not exist.",
            ..Case::default()
        },
        Case {
            what: "a parameter the document does not declare",
            parameters: Some(vec![("commands", "true"), ("nope", "x")]),
            code: "InvalidParameters",
            phrase: "\"nope\"",
            ..Case::default()
        },
        Case {
            what: "a required parameter missing",
            parameters: Some(vec![]),
            code: "InvalidParameters",
            phrase: "\"commands\"",
            ..Case::default()
        },
        Case {
            what: "CalendarNames",
            calendar: true,
            code: "ValidationException",
            phrase: "CalendarNames",
            ..Case::default()
        },
        Case {
            what: "AutomationTargetParameterName on a Command document",
            automation_target_parameter: true,
            code: "InvalidParameters",
            phrase: "AutomationTargetParameterName",
            ..Case::default()
        },
    ]
}

fn targets_of(c: &Case) -> Option<Vec<Target>> {
    match (&c.targets, c.instance_id) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(vec![target("tag:env", &["test"])]),
    }
}

fn parameters_of(c: &Case) -> Option<std::collections::HashMap<String, Vec<String>>> {
    let list = c.parameters.clone().unwrap_or(vec![("commands", "true")]);
    if list.is_empty() {
        return None;
    }
    let mut map = std::collections::HashMap::<String, Vec<String>>::new();
    for (k, v) in list {
        map.entry(k.to_string()).or_default().push(v.to_string());
    }
    Some(map)
}

/// `code: message` of a refused call.
fn refusal<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, E>,
) -> String {
    let e = r.expect_err("the call must be refused");
    format!(
        "{}: {}",
        e.code().unwrap_or_default(),
        e.message().unwrap_or_default()
    )
}

async fn create(client: &Client, c: &Case) -> String {
    let mut req = client
        .create_association()
        .name(c.document.unwrap_or("AWS-RunShellScript"))
        .set_targets(targets_of(c))
        .set_instance_id(c.instance_id.map(str::to_string))
        .set_parameters(parameters_of(c))
        .set_schedule_expression(c.schedule.map(str::to_string))
        .set_apply_only_at_cron_interval(c.apply_only_at_cron_interval)
        .set_schedule_offset(c.schedule_offset);
    if c.calendar {
        req = req.calendar_names("change-freeze");
    }
    if c.automation_target_parameter {
        req = req.automation_target_parameter_name("InstanceId");
    }
    refusal(req.send().await)
}

async fn update(client: &Client, id: &str, c: &Case) -> String {
    let mut req = client
        .update_association()
        .association_id(id)
        .association_version("1")
        .name(c.document.unwrap_or("AWS-RunShellScript"))
        .set_targets(targets_of(c))
        .set_parameters(parameters_of(c))
        .set_schedule_expression(c.schedule.map(str::to_string))
        .set_apply_only_at_cron_interval(c.apply_only_at_cron_interval)
        .set_schedule_offset(c.schedule_offset);
    if c.calendar {
        req = req.calendar_names("change-freeze");
    }
    if c.automation_target_parameter {
        req = req.automation_target_parameter_name("InstanceId");
    }
    refusal(req.send().await)
}

async fn batch(client: &Client, c: &Case) -> String {
    let mut entry = CreateAssociationBatchRequestEntry::builder()
        .name(c.document.unwrap_or("AWS-RunShellScript"))
        .set_targets(targets_of(c))
        .set_instance_id(c.instance_id.map(str::to_string))
        .set_parameters(parameters_of(c))
        .set_schedule_expression(c.schedule.map(str::to_string))
        .set_apply_only_at_cron_interval(c.apply_only_at_cron_interval)
        .set_schedule_offset(c.schedule_offset);
    if c.calendar {
        entry = entry.calendar_names("change-freeze");
    }
    if c.automation_target_parameter {
        entry = entry.automation_target_parameter_name("InstanceId");
    }
    let out = client
        .create_association_batch()
        .entries(entry.build().unwrap())
        .send()
        .await;
    // The model's constraints refuse the whole call; the rest fail the entry.
    match out {
        Err(e) => refusal::<(), _>(Err(e)),
        Ok(out) => {
            assert!(out.successful().is_empty(), "{}: {out:?}", c.what);
            out.failed()[0].message().unwrap_or_default().to_string()
        }
    }
}

/// The store holds only the first association, at version 1.
async fn unchanged(client: &Client, id: &str, what: &str) {
    let listed = client.list_associations().send().await.unwrap();
    let ids: Vec<_> = listed
        .associations()
        .iter()
        .map(|a| a.association_id().unwrap_or_default())
        .collect();
    assert_eq!(ids, vec![id], "{what}: nothing new stored");
    let versions = client
        .list_association_versions()
        .association_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.association_versions().len(),
        1,
        "{what}: no new version"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_association_request_gets_aws_error_and_stores_nothing() {
    let fleet = Fleet::start(1, 0).await;
    let client = &fleet.client;
    let id = client
        .create_association()
        .name("AWS-RunShellScript")
        .targets(target("tag:env", &["test"]))
        .parameters("commands", vec!["true".into()])
        .schedule_expression("rate(1 day)")
        .send()
        .await
        .expect("the good association")
        .association_description
        .unwrap()
        .association_id
        .unwrap();

    for c in cases() {
        let expect = |op: &str, got: &str| {
            // A batch names members under `entries.N.member.`: match from the constraint on.
            let phrase = match c.phrase.split_once("' failed") {
                Some((_, rest)) if op == "CreateAssociationBatch" => rest,
                _ => c.phrase,
            };
            assert!(
                got.starts_with(&format!("{}: ", c.code)) && got.contains(phrase),
                "{op} with {}: expected {} mentioning {:?}, got {got}",
                c.what,
                c.code,
                c.phrase
            );
        };
        expect("CreateAssociation", &create(client, &c).await);
        unchanged(client, &id, c.what).await;
        expect("CreateAssociationBatch", &batch(client, &c).await);
        unchanged(client, &id, c.what).await;
        if !c.create_only {
            expect("UpdateAssociation", &update(client, &id, &c).await);
            unchanged(client, &id, c.what).await;
        }
    }

    // Versions: a stale or unknown AssociationVersion on update, and on describe.
    let stale = client
        .update_association()
        .association_id(&id)
        .association_version("2")
        .parameters("commands", vec!["echo v2".into()])
        .send()
        .await;
    assert!(
        refusal(stale).starts_with("InvalidAssociationVersion: "),
        "stale update"
    );
    let malformed = client
        .update_association()
        .association_id(&id)
        .association_version("01")
        .send()
        .await;
    let got = refusal(malformed);
    assert!(
        got.starts_with("ValidationException: ") && got.contains("'associationVersion'"),
        "{got}"
    );
    unchanged(client, &id, "version checks").await;
    let unknown_version = client
        .describe_association()
        .association_id(&id)
        .association_version("7")
        .send()
        .await;
    assert!(refusal(unknown_version).starts_with("InvalidAssociationVersion: "));

    // Describe and delete: a malformed id, an unknown one.
    let unknown = "00000000-0000-4000-8000-000000000000";
    for got in [
        refusal(
            client
                .describe_association()
                .association_id(unknown)
                .send()
                .await,
        ),
        refusal(
            client
                .delete_association()
                .association_id(unknown)
                .send()
                .await,
        ),
    ] {
        assert_eq!(
            got,
            "AssociationDoesNotExist: The specified association does not exist."
        );
    }
    for got in [
        refusal(
            client
                .describe_association()
                .association_id("nope")
                .send()
                .await,
        ),
        refusal(
            client
                .delete_association()
                .association_id("nope")
                .send()
                .await,
        ),
    ] {
        assert!(
            got.starts_with("ValidationException: ") && got.contains("'associationId'"),
            "{got}"
        );
    }
    let neither = refusal(client.delete_association().send().await);
    assert!(neither.starts_with("ValidationException: "), "{neither}");
    unchanged(client, &id, "describe and delete").await;
}
