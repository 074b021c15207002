//! Agent releases: publication (once per version, platform and arch; the same content again is
//! no change, other content a conflict), defaults (one per platform and arch), races.

use super::concurrency::race;
use crate::prelude::*;
use crate::{AgentReleaseRecord, PublishOutcome};

fn release(version: &str, arch: &str, sha: &str, is_default: bool) -> AgentReleaseRecord {
    AgentReleaseRecord {
        version: version.into(),
        platform: "linux".into(),
        arch: arch.into(),
        sha256: sha.into(),
        size: 10,
        signature: format!("sig-{version}-{sha}"),
        published_ms: 1000,
        is_default,
    }
}

fn defaults(s: &dyn Store) -> Vec<(String, String)> {
    s.list_agent_releases()
        .unwrap()
        .into_iter()
        .filter(|r| r.is_default)
        .map(|r| (r.arch, r.version))
        .collect()
}

pub fn releases_are_published_once_listed_and_defaulted_per_arch(s: &dyn Store) {
    assert!(s.list_agent_releases().unwrap().is_empty());
    let a = release("1.0.0", "amd64", "aa", true);
    assert_eq!(
        s.publish_agent_release(&a).unwrap(),
        PublishOutcome::Created
    );
    assert_eq!(
        s.get_agent_release("1.0.0", "linux", "amd64").unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        s.get_agent_release("1.0.0", "linux", "arm64").unwrap(),
        None
    );
    // The same content again changes nothing; other content is refused, keeping the first.
    assert_eq!(
        s.publish_agent_release(&a).unwrap(),
        PublishOutcome::AlreadyPublished
    );
    assert_eq!(
        s.publish_agent_release(&release("1.0.0", "amd64", "bb", true))
            .unwrap(),
        PublishOutcome::Conflict {
            existing_sha256: "aa".into()
        }
    );
    assert_eq!(
        s.get_agent_release("1.0.0", "linux", "amd64")
            .unwrap()
            .unwrap()
            .sha256,
        "aa"
    );
    // A new default replaces the old one of its arch only.
    let mut b = release("1.1.0", "amd64", "cc", true);
    b.published_ms = 2000;
    s.publish_agent_release(&b).unwrap();
    s.publish_agent_release(&release("1.0.0", "arm64", "dd", true))
        .unwrap();
    s.publish_agent_release(&release("1.2.0", "arm64", "ee", false))
        .unwrap();
    assert_eq!(
        defaults(s),
        [
            ("amd64".to_string(), "1.1.0".to_string()),
            ("arm64".into(), "1.0.0".into())
        ]
    );
    let listed: Vec<(String, String)> = s
        .list_agent_releases()
        .unwrap()
        .into_iter()
        .map(|r| (r.arch, r.version))
        .collect();
    assert_eq!(
        listed,
        [
            ("amd64".to_string(), "1.0.0".to_string()),
            ("amd64".into(), "1.1.0".into()),
            ("arm64".into(), "1.0.0".into()),
            ("arm64".into(), "1.2.0".into())
        ]
    );
    // Defaults move explicitly; an unknown version is refused and changes nothing.
    assert!(s
        .set_default_agent_release("1.0.0", "linux", "amd64")
        .unwrap());
    assert!(!s
        .set_default_agent_release("9.9", "linux", "amd64")
        .unwrap());
    assert!(!s
        .set_default_agent_release("1.1.0", "linux", "arm64")
        .unwrap());
    assert_eq!(
        defaults(s),
        [
            ("amd64".to_string(), "1.0.0".to_string()),
            ("arm64".into(), "1.0.0".into())
        ]
    );
    // Publishing the same content again as the default moves the default to it.
    s.publish_agent_release(&b).unwrap();
    assert_eq!(defaults(s)[0], ("amd64".to_string(), "1.1.0".to_string()));
}

pub fn signatures_are_replaced_together_and_nothing_else_changes(s: &dyn Store) {
    let a = release("1.0", "amd64", "aa", true);
    let b = release("1.1", "arm64", "bb", false);
    s.publish_agent_release(&a).unwrap();
    s.publish_agent_release(&b).unwrap();
    let mut a2 = a.clone();
    a2.signature = "new-a".into();
    a2.sha256 = "ignored".into();
    let mut b2 = b.clone();
    b2.signature = "new-b".into();
    s.set_agent_release_signatures(&[a2, b2]).unwrap();
    let got = s
        .get_agent_release("1.0", "linux", "amd64")
        .unwrap()
        .unwrap();
    assert_eq!(got.signature, "new-a");
    assert_eq!(got.sha256, "aa", "only the signature is written");
    assert!(got.is_default);
    assert_eq!(
        s.get_agent_release("1.1", "linux", "arm64")
            .unwrap()
            .unwrap()
            .signature,
        "new-b"
    );
}

pub fn concurrent_publications_of_one_version_create_it_once(s: &dyn Store) {
    let outcomes = race(|t| {
        s.publish_agent_release(&release("2.0", "amd64", &format!("sha{}", t % 2), true))
            .unwrap()
    });
    let created = outcomes
        .iter()
        .filter(|o| **o == PublishOutcome::Created)
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    let stored = s
        .get_agent_release("2.0", "linux", "amd64")
        .unwrap()
        .unwrap();
    for o in &outcomes {
        match o {
            PublishOutcome::Created | PublishOutcome::AlreadyPublished => {}
            PublishOutcome::Conflict { existing_sha256 } => {
                assert_eq!(existing_sha256, &stored.sha256)
            }
        }
    }
    assert_eq!(s.list_agent_releases().unwrap().len(), 1);
}
