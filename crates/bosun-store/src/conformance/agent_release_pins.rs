//! Agent release pins: a version pinned for a region or a tag within it, only when published;
//! one pin per scope (a new pin replaces it); listed per region, the region's own first.

use super::concurrency::race;
use crate::prelude::*;
use crate::{AgentReleasePinRecord, AgentReleaseRecord};

fn publish(s: &dyn Store, version: &str) {
    s.publish_agent_release(&AgentReleaseRecord {
        version: version.into(),
        platform: "linux".into(),
        arch: "amd64".into(),
        sha256: format!("sha-{version}"),
        size: 10,
        signature: "sig".into(),
        published_ms: 1000,
        is_default: false,
    })
    .unwrap();
}

fn pin(region: &str, tag: Option<(&str, &str)>, version: &str, at: i64) -> AgentReleasePinRecord {
    AgentReleasePinRecord {
        region: region.into(),
        tag: tag.map(|(k, v)| (k.into(), v.into())),
        version: version.into(),
        pinned_ms: at,
    }
}

fn scopes(s: &dyn Store, region: &str) -> Vec<(Option<(String, String)>, String)> {
    s.agent_release_pins(region)
        .unwrap()
        .into_iter()
        .map(|p| (p.tag, p.version))
        .collect()
}

fn t(k: &str, v: &str) -> Option<(String, String)> {
    Some((k.into(), v.into()))
}

pub fn pins_need_a_published_version_and_replace_their_scopes_pin(s: &dyn Store) {
    assert!(s.agent_release_pins("us-east-1").unwrap().is_empty());
    // Never published: refused, nothing stored.
    assert!(!s
        .pin_agent_release(&pin("us-east-1", None, "1.0.0", 1))
        .unwrap());
    assert!(s.agent_release_pins("us-east-1").unwrap().is_empty());
    publish(s, "1.0.0");
    publish(s, "1.1.0");
    let region_pin = pin("us-east-1", None, "1.0.0", 5);
    assert!(s.pin_agent_release(&region_pin).unwrap());
    assert_eq!(s.agent_release_pins("us-east-1").unwrap(), [region_pin]);
    for (tag, version) in [
        (("Ring", "canary"), "1.1.0"),
        (("Ring", "beta"), "1.0.0"),
        (("Env", "prod"), "1.0.0"),
    ] {
        assert!(s
            .pin_agent_release(&pin("us-east-1", Some(tag), version, 6))
            .unwrap());
    }
    // Another region's pins are its own.
    assert!(s
        .pin_agent_release(&pin("eu-west-1", Some(("Ring", "canary")), "1.0.0", 7))
        .unwrap());
    assert_eq!(
        scopes(s, "us-east-1"),
        [
            (None, "1.0.0".to_string()),
            (t("Env", "prod"), "1.0.0".into()),
            (t("Ring", "beta"), "1.0.0".into()),
            (t("Ring", "canary"), "1.1.0".into()),
        ]
    );
    assert_eq!(
        scopes(s, "eu-west-1"),
        [(t("Ring", "canary"), "1.0.0".into())]
    );
    // A new pin of a scope replaces its version and time; an unpublished one changes nothing.
    assert!(s
        .pin_agent_release(&pin("us-east-1", Some(("Ring", "canary")), "1.0.0", 9))
        .unwrap());
    assert!(!s
        .pin_agent_release(&pin("us-east-1", Some(("Ring", "canary")), "2.0", 10))
        .unwrap());
    let canary = s
        .agent_release_pins("us-east-1")
        .unwrap()
        .into_iter()
        .find(|p| p.tag == t("Ring", "canary"))
        .unwrap();
    assert_eq!((canary.version.as_str(), canary.pinned_ms), ("1.0.0", 9));
    assert_eq!(s.agent_release_pins("us-east-1").unwrap().len(), 4);
}

pub fn unpinning_removes_one_scope_only(s: &dyn Store) {
    publish(s, "1.0");
    for (region, tag) in [
        ("us-east-1", None),
        ("us-east-1", Some(("Ring", "canary"))),
        ("eu-west-1", None),
    ] {
        assert!(s.pin_agent_release(&pin(region, tag, "1.0", 1)).unwrap());
    }
    assert!(s
        .unpin_agent_release("us-east-1", Some(("Ring", "canary")))
        .unwrap());
    assert!(!s
        .unpin_agent_release("us-east-1", Some(("Ring", "canary")))
        .unwrap());
    assert!(!s
        .unpin_agent_release("us-east-1", Some(("Ring", "beta")))
        .unwrap());
    assert_eq!(scopes(s, "us-east-1"), [(None, "1.0".to_string())]);
    assert!(s.unpin_agent_release("us-east-1", None).unwrap());
    assert!(!s.unpin_agent_release("us-east-1", None).unwrap());
    assert!(scopes(s, "us-east-1").is_empty());
    assert_eq!(scopes(s, "eu-west-1"), [(None, "1.0".to_string())]);
}

pub fn concurrent_pins_of_one_scope_leave_one_pin(s: &dyn Store) {
    publish(s, "1.0");
    publish(s, "1.1");
    let outcomes = race(|n| {
        let version = if n % 2 == 0 { "1.0" } else { "1.1" };
        s.pin_agent_release(&pin(
            "us-east-1",
            Some(("Ring", "canary")),
            version,
            n as i64,
        ))
        .unwrap()
    });
    assert!(outcomes.iter().all(|ok| *ok), "{outcomes:?}");
    let pins = s.agent_release_pins("us-east-1").unwrap();
    assert_eq!(pins.len(), 1, "{pins:?}");
    assert!(["1.0", "1.1"].contains(&pins[0].version.as_str()));
}
