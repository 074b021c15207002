//! Parameters, their versions, labels and policies.

use bosun_core::events::envelope::{self, Event, Origin};
use serde_json::json;

use super::concurrency::{race, THREADS};
use super::fixtures::{parameter as version, tags, LIMITS, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{LabelOutcome, ParameterVersion, PutLimits, PutOutcome};

const POLICY_ACTION: &str = "Parameter Store Policy Action";

/// A policy's event, told apart by `id`.
fn policy_event(v: &ParameterVersion, policy_type: &str, id: &str) -> Event {
    envelope::envelope(
        Origin {
            account: "123456789012",
            region: &v.region,
            id,
            now_ms: 1_000,
        },
        POLICY_ACTION,
        vec![],
        json!({ "parameter-name": v.name, "policy-type": policy_type }),
    )
}

/// The ids of the policy events in the outbox, in order.
fn policy_events(s: &dyn Store) -> Vec<String> {
    s.events_after(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.detail_type == POLICY_ACTION)
        .map(|e| e.event_id)
        .collect()
}

fn fire(s: &dyn Store, v: &ParameterVersion, policy: &str, now: i64, detail: &str) -> bool {
    let id = format!("{}-{policy}-{now}", v.version);
    s.fire_parameter_policy(v, policy, now, detail, &policy_event(v, policy, &id))
        .unwrap()
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

pub fn versions_labels_and_limits(s: &dyn Store) {
    assert_eq!(
        s.put_parameter(&version("/a", 1), None, false, &[], &LIMITS)
            .unwrap(),
        PutOutcome::Stored
    );
    assert_eq!(
        s.put_parameter(&version("/a", 2), Some(1), false, &[], &LIMITS)
            .unwrap(),
        PutOutcome::AlreadyExists
    );
    assert_eq!(
        s.put_parameter(&version("/a", 3), Some(2), true, &[], &LIMITS)
            .unwrap(),
        PutOutcome::Conflict
    );
    for n in 2..=3 {
        assert_eq!(
            s.put_parameter(&version("/a", n), Some(n - 1), true, &[], &LIMITS)
                .unwrap(),
            PutOutcome::Stored
        );
    }
    assert_eq!(
        s.label_parameter_version(REGION, "/a", 1, &labels(&["x"]), 10)
            .unwrap(),
        LabelOutcome::Done
    );
    assert_eq!(
        s.put_parameter(&version("/a", 4), Some(3), true, &[], &LIMITS)
            .unwrap(),
        PutOutcome::OldestLabelled(1)
    );
    // Moving the label frees the oldest version, which is then dropped.
    s.label_parameter_version(REGION, "/a", 3, &labels(&["x"]), 10)
        .unwrap();
    assert_eq!(
        s.put_parameter(&version("/a", 4), Some(3), true, &[], &LIMITS)
            .unwrap(),
        PutOutcome::Stored
    );
    let h = s.parameter_history(REGION, "/a").unwrap();
    assert_eq!(h.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(h[1].labels, ["x"]);
    assert_eq!(
        s.parameter_by_label(REGION, "/a", "x")
            .unwrap()
            .unwrap()
            .version,
        3
    );
    assert_eq!(s.parameter_by_label(REGION, "/a", "nope").unwrap(), None);
    assert_eq!(
        s.label_parameter_version(REGION, "/a", 9, &labels(&["y"]), 10)
            .unwrap(),
        LabelOutcome::VersionNotFound
    );
    assert_eq!(
        s.label_parameter_version(REGION, "/a", 3, &labels(&["y", "z"]), 2)
            .unwrap(),
        LabelOutcome::TooManyLabels
    );
    assert_eq!(
        s.parameter_version(REGION, "/a", 3)
            .unwrap()
            .unwrap()
            .labels,
        ["x"]
    );
    assert_eq!(
        s.unlabel_parameter_version(REGION, "/a", 3, &labels(&["x", "nope"]))
            .unwrap(),
        Some(labels(&["x"]))
    );
    assert_eq!(
        s.unlabel_parameter_version(REGION, "/a", 9, &labels(&["x"]))
            .unwrap(),
        None
    );
    s.put_parameter(&version("/b", 1), None, false, &[], &LIMITS)
        .unwrap();
    assert_eq!(
        s.put_parameter(&version("/c", 1), None, false, &[], &LIMITS)
            .unwrap(),
        PutOutcome::LimitExceeded
    );
    let mut advanced = version("/c", 1);
    advanced.tier = "Advanced".into();
    assert_eq!(
        s.put_parameter(&advanced, None, false, &[], &LIMITS)
            .unwrap(),
        PutOutcome::Stored,
        "tiers have their own limits"
    );
    assert!(s.delete_parameter(REGION, "/a").unwrap());
    assert!(!s.delete_parameter(REGION, "/a").unwrap());
    assert!(s.parameter(REGION, "/a").unwrap().is_none());
    assert!(s.parameter_history(REGION, "/a").unwrap().is_empty());
}

pub fn parameters_are_read_listed_and_deleted_by_region(s: &dyn Store) {
    let mut v1 = version("/app/db", 1);
    v1.description = Some("the database".into());
    v1.key_id = Some("alias/aws/ssm".into());
    v1.allowed_pattern = Some(".*".into());
    v1.param_type = "SecureString".into();
    s.put_parameter(&v1, None, false, &tags(&[("team", "ops")]), &LIMITS)
        .unwrap();
    let mut v2 = version("/app/db", 2);
    v2.value = "new".into();
    assert_eq!(
        s.put_parameter(&v2, Some(1), true, &tags(&[("other", "x")]), &LIMITS)
            .unwrap(),
        PutOutcome::Stored
    );
    assert_eq!(
        s.tags(REGION, "Parameter", "/app/db").unwrap(),
        tags(&[("team", "ops")]),
        "tags are written only on create"
    );
    s.put_parameter(&version("/app/api", 1), None, false, &[], &LIMITS)
        .unwrap();
    let mut elsewhere = version("/app/db", 1);
    elsewhere.region = OTHER_REGION.into();
    s.put_parameter(&elsewhere, None, false, &[], &LIMITS)
        .unwrap();

    assert_eq!(s.parameter(REGION, "/app/db").unwrap(), Some(v2.clone()));
    assert_eq!(
        s.parameter_version(REGION, "/app/db", 1).unwrap(),
        Some(v1.clone())
    );
    assert_eq!(s.parameter_version(REGION, "/app/db", 7).unwrap(), None);
    assert_eq!(
        s.parameter(OTHER_REGION, "/app/db").unwrap(),
        Some(elsewhere)
    );
    assert_eq!(
        s.list_parameters(REGION).unwrap(),
        [version("/app/api", 1), v2.clone()],
        "latest versions by key"
    );
    assert_eq!(s.parameter_history(REGION, "/app/db").unwrap(), [v1, v2]);

    s.label_parameter_version(REGION, "/app/db", 1, &labels(&["old"]), 10)
        .unwrap();
    s.label_parameter_version(REGION, "/app/db", 2, &labels(&["live", "b"]), 10)
        .unwrap();
    s.label_parameter_version(REGION, "/app/api", 1, &labels(&["live"]), 10)
        .unwrap();
    assert_eq!(
        s.parameter_labels(REGION).unwrap(),
        [
            ("/app/api".to_string(), "live".to_string(), 1),
            ("/app/db".to_string(), "b".to_string(), 2),
            ("/app/db".to_string(), "live".to_string(), 2),
            ("/app/db".to_string(), "old".to_string(), 1),
        ]
    );
    assert_eq!(
        s.parameter(REGION, "/app/db").unwrap().unwrap().labels,
        ["b", "live"]
    );
    assert!(s.parameter_labels(OTHER_REGION).unwrap().is_empty());

    assert!(s.delete_parameter(REGION, "/app/db").unwrap());
    assert!(s.tags(REGION, "Parameter", "/app/db").unwrap().is_empty());
    assert_eq!(
        s.parameter_labels(REGION).unwrap(),
        [("/app/api".to_string(), "live".to_string(), 1)]
    );
    assert!(s.parameter(OTHER_REGION, "/app/db").unwrap().is_some());
    assert_eq!(
        s.put_parameter(&version("/app/db", 1), None, false, &[], &LIMITS)
            .unwrap(),
        PutOutcome::Stored,
        "a deleted parameter starts over"
    );
}

pub fn expiration_deletes_once_and_records_an_event(s: &dyn Store) {
    let mut v = version("/exp", 1);
    v.policies = Some("[]".into());
    s.put_parameter(&v, None, false, &tags(&[("k", "v")]), &LIMITS)
        .unwrap();
    s.put_parameter(&version("/plain", 1), None, false, &[], &LIMITS)
        .unwrap();
    assert_eq!(s.parameters_with_policies().unwrap(), [v.clone()]);
    assert!(fire(s, &v, "Expiration", 5, "{}"));
    assert!(!fire(s, &v, "Expiration", 6, "{}"));
    assert!(s.parameter(REGION, "/exp").unwrap().is_none());
    assert!(s.tags(REGION, "Parameter", "/exp").unwrap().is_empty());
    assert!(s.parameters_with_policies().unwrap().is_empty());
    let events = s.parameter_policy_events(Some(REGION)).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].policy_type, "Expiration");
    assert_eq!(events[0].name, "/exp");
    assert_eq!(events[0].version, 1);
    assert_eq!(events[0].time_ms, 5);
    assert_eq!(
        policy_events(s),
        ["1-Expiration-5"],
        "the firing's event is in the outbox, the refused one's is not"
    );
    let stored = s.events_after(0, 100_000).unwrap();
    let stored = stored
        .iter()
        .find(|e| e.event_id == "1-Expiration-5")
        .unwrap();
    assert_eq!(stored.region, REGION);
    let envelope: serde_json::Value = serde_json::from_str(&stored.envelope).unwrap();
    assert_eq!(envelope["detail"]["parameter-name"], "/exp");
}

pub fn policies_fire_once_per_version_and_never_for_a_superseded_one(s: &dyn Store) {
    let mut v1 = version("/p", 1);
    v1.policies = Some("[1]".into());
    s.put_parameter(&v1, None, false, &[], &LIMITS).unwrap();
    assert!(fire(s, &v1, "ExpirationNotification", 5, "first"));
    assert!(!fire(s, &v1, "ExpirationNotification", 6, "again"));
    assert!(
        s.parameter(REGION, "/p").unwrap().is_some(),
        "only Expiration deletes"
    );
    assert_eq!(
        s.fired_policies(REGION, "/p", 1).unwrap(),
        ["ExpirationNotification"]
    );

    let mut v2 = version("/p", 2);
    v2.policies = Some("[2]".into());
    s.put_parameter(&v2, Some(1), true, &[], &LIMITS).unwrap();
    assert!(
        !fire(s, &v1, "Expiration", 7, ""),
        "superseded by version 2"
    );
    assert!(s.fired_policies(REGION, "/p", 2).unwrap().is_empty());
    assert_eq!(s.parameters_with_policies().unwrap(), [v2.clone()]);
    assert!(fire(s, &v2, "NoChangeNotification", 8, ""));

    let mut elsewhere = version("/p", 1);
    elsewhere.region = OTHER_REGION.into();
    elsewhere.policies = Some("[]".into());
    s.put_parameter(&elsewhere, None, false, &[], &LIMITS)
        .unwrap();
    assert!(fire(s, &elsewhere, "ExpirationNotification", 9, ""));

    let all = s.parameter_policy_events(None).unwrap();
    assert_eq!(
        all.iter()
            .map(|e| (
                e.region.as_str(),
                e.version,
                e.policy_type.as_str(),
                e.detail.as_str()
            ))
            .collect::<Vec<_>>(),
        [
            (REGION, 1, "ExpirationNotification", "first"),
            (REGION, 2, "NoChangeNotification", ""),
            (OTHER_REGION, 1, "ExpirationNotification", ""),
        ],
        "oldest first"
    );
    assert_eq!(
        policy_events(s),
        [
            "1-ExpirationNotification-5",
            "2-NoChangeNotification-8",
            "1-ExpirationNotification-9"
        ],
        "one event per firing, none for a repeat or a superseded version"
    );
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        s.parameter_policy_events(Some(OTHER_REGION)).unwrap().len(),
        1
    );

    // A parameter without policies never shows up.
    let mut v3 = version("/p", 3);
    v3.policies = None;
    s.put_parameter(&v3, Some(2), true, &[], &LIMITS).unwrap();
    assert_eq!(s.parameters_with_policies().unwrap(), [elsewhere]);
}

// What puts, labels and policies promise under concurrency: threads race on one store.

/// Limits for the races: room for 3 parameters of a tier and 3 versions of a parameter.
const RACE_LIMITS: PutLimits = PutLimits {
    max_versions: 3,
    max_standard: 3,
    max_advanced: 3,
};

pub fn concurrent_creations_of_one_parameter_store_it_once(s: &dyn Store) {
    let outcomes = race(|t| {
        let mut v = version("/one", 1);
        v.value = format!("thread {t}");
        let overwrite = t % 2 == 0;
        let writer = tags(&[("writer", t.to_string().as_str())]);
        let outcome = s
            .put_parameter(&v, None, overwrite, &writer, &RACE_LIMITS)
            .unwrap();
        (outcome, overwrite)
    });
    let winners: Vec<usize> = (0..THREADS)
        .filter(|&t| outcomes[t].0 == PutOutcome::Stored)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for (outcome, overwrite) in outcomes.iter().filter(|o| o.0 != PutOutcome::Stored) {
        let lost = if *overwrite {
            PutOutcome::Conflict
        } else {
            PutOutcome::AlreadyExists
        };
        assert_eq!(*outcome, lost, "as if after the winner: {outcomes:?}");
    }
    let winner = winners[0];
    let history = s.parameter_history(REGION, "/one").unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].value, format!("thread {winner}"));
    assert_eq!(
        s.tags(REGION, "Parameter", "/one").unwrap(),
        tags(&[("writer", winner.to_string().as_str())]),
        "only the stored put wrote its tags"
    );
}

pub fn concurrent_creations_never_exceed_the_tier_limit(s: &dyn Store) {
    let outcomes = race(|t| {
        let mut v = version(&format!("/new/{t}"), 1);
        if t % 2 == 1 {
            v.tier = "Advanced".into();
        }
        s.put_parameter(&v, None, false, &[], &RACE_LIMITS).unwrap()
    });
    for tier in 0..2 {
        let stored = (tier..THREADS)
            .step_by(2)
            .filter(|&t| outcomes[t] == PutOutcome::Stored)
            .count();
        assert_eq!(stored, 3, "3 of each tier: {outcomes:?}");
    }
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, PutOutcome::Stored | PutOutcome::LimitExceeded)));
    assert_eq!(s.list_parameters(REGION).unwrap().len(), 6);
}

pub fn concurrent_labels_never_exceed_the_per_version_limit(s: &dyn Store) {
    s.put_parameter(&version("/l", 1), None, false, &[], &RACE_LIMITS)
        .unwrap();
    let outcomes = race(|t| {
        s.label_parameter_version(REGION, "/l", 1, &labels(&[format!("l{t}").as_str()]), 3)
            .unwrap()
    });
    let done: Vec<String> = (0..THREADS)
        .filter(|&t| outcomes[t] == LabelOutcome::Done)
        .map(|t| format!("l{t}"))
        .collect();
    assert_eq!(done.len(), 3, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, LabelOutcome::Done | LabelOutcome::TooManyLabels)));
    let mut on_version = s
        .parameter_version(REGION, "/l", 1)
        .unwrap()
        .unwrap()
        .labels;
    on_version.sort();
    assert_eq!(on_version, done);
}

/// Labels on the oldest version race puts that would drop it: a label reported attached is
/// never dropped with its version, and a put never drops a labelled version.
pub fn a_label_racing_an_overwrite_is_never_lost(s: &dyn Store) {
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        let key = format!("/race/{round}");
        for n in 1..=3 {
            let expected = (n > 1).then_some(n - 1);
            assert_eq!(
                s.put_parameter(&version(&key, n), expected, true, &[], &RACE_LIMITS)
                    .unwrap(),
                PutOutcome::Stored
            );
        }
        let labellers = THREADS / 2;
        let outcomes = race(|t| {
            if t < labellers {
                let label = labels(&[format!("l{t}").as_str()]);
                return Ok(s
                    .label_parameter_version(REGION, &key, 1, &label, 10)
                    .unwrap());
            }
            loop {
                let latest = s.parameter(REGION, &key).unwrap().unwrap().version;
                match s
                    .put_parameter(
                        &version(&key, latest + 1),
                        Some(latest),
                        true,
                        &[],
                        &RACE_LIMITS,
                    )
                    .unwrap()
                {
                    PutOutcome::Conflict => continue,
                    other => return Err(other),
                }
            }
        });
        let history = s.parameter_history(REGION, &key).unwrap();
        let kept_first = history[0].version == 1;
        for (t, outcome) in outcomes.iter().enumerate() {
            match outcome {
                Ok(LabelOutcome::Done) => assert_eq!(
                    s.parameter_by_label(REGION, &key, &format!("l{t}"))
                        .unwrap()
                        .map(|v| v.version),
                    Some(1),
                    "label l{t} was reported attached: {outcomes:?}"
                ),
                Ok(LabelOutcome::VersionNotFound) => assert!(!kept_first, "{outcomes:?}"),
                Err(PutOutcome::Stored) => {}
                Err(PutOutcome::OldestLabelled(1)) => assert!(kept_first, "{outcomes:?}"),
                other => panic!("unexpected {other:?} in {outcomes:?}"),
            }
        }
        assert!(history.windows(2).all(|w| w[1].version == w[0].version + 1));
        assert!(s.delete_parameter(REGION, &key).unwrap());
    }
}

pub fn concurrent_firings_of_a_policy_fire_it_once(s: &dyn Store) {
    let mut v = version("/fire", 1);
    v.policies = Some("[]".into());
    s.put_parameter(&v, None, false, &tags(&[("k", "v")]), &RACE_LIMITS)
        .unwrap();
    for policy in ["ExpirationNotification", "Expiration"] {
        let fired = race(|t| fire(s, &v, policy, t as i64, &format!("thread {t}")));
        assert_eq!(
            fired.iter().filter(|f| **f).count(),
            1,
            "{policy}: {fired:?}"
        );
    }
    assert!(s.parameter(REGION, "/fire").unwrap().is_none());
    assert!(s.tags(REGION, "Parameter", "/fire").unwrap().is_empty());
    let events = s.parameter_policy_events(Some(REGION)).unwrap();
    assert_eq!(
        events
            .iter()
            .map(|e| e.policy_type.as_str())
            .collect::<Vec<_>>(),
        ["ExpirationNotification", "Expiration"]
    );
    assert_eq!(policy_events(s).len(), 2, "one event per policy");
}
