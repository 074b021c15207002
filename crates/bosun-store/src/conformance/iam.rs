//! Users, access keys and user policies.

use super::concurrency::race;
use crate::prelude::*;
use crate::{AccessKeyRecord, StoreError, UserRecord};

fn key(id: &str, user: &str) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.into(),
        sealed_secret: format!("sealed-{id}"),
        user_name: user.into(),
        active: true,
    }
}

fn policy(name: &str, text: &str) -> (String, String) {
    (name.to_string(), text.to_string())
}

pub fn users_keys_and_policies(store: &dyn Store) {
    store.create_user("bob", 2).unwrap();
    store.create_user("alice", 1).unwrap();
    assert!(matches!(
        store.create_user("alice", 3),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        store.list_users().unwrap(),
        [
            UserRecord {
                name: "alice".into(),
                created_ms: 1
            },
            UserRecord {
                name: "bob".into(),
                created_ms: 2
            }
        ]
    );

    assert!(matches!(
        store.create_access_key(&key("AKIAX", "nobody"), 1),
        Err(StoreError::NotFound(_))
    ));
    store.create_access_key(&key("AKIA2", "alice"), 20).unwrap();
    store.create_access_key(&key("AKIA1", "alice"), 10).unwrap();
    store.create_access_key(&key("AKIA3", "bob"), 5).unwrap();
    assert_eq!(
        store.access_key("AKIA1").unwrap(),
        Some(key("AKIA1", "alice"))
    );
    assert_eq!(store.access_key("AKIAX").unwrap(), None);
    assert_eq!(
        store.sealed_secrets().unwrap(),
        ["AKIA1", "AKIA2", "AKIA3"]
            .map(|id| (id.to_string(), format!("sealed-{id}")))
            .to_vec()
    );
    assert_eq!(
        store.list_access_keys(None).unwrap(),
        [
            (key("AKIA1", "alice"), 10),
            (key("AKIA2", "alice"), 20),
            (key("AKIA3", "bob"), 5)
        ]
    );
    assert_eq!(
        store.list_access_keys(Some("bob")).unwrap(),
        [(key("AKIA3", "bob"), 5)]
    );

    assert!(matches!(
        store.put_user_policy("nobody", "p", "{}"),
        Err(StoreError::NotFound(_))
    ));
    store.put_user_policy("alice", "b", "{\"v\":1}").unwrap();
    store.put_user_policy("alice", "a", "{\"v\":2}").unwrap();
    store.put_user_policy("alice", "b", "{\"v\":3}").unwrap();
    let alices = vec![policy("a", "{\"v\":2}"), policy("b", "{\"v\":3}")];
    assert_eq!(store.user_policies("alice").unwrap(), alices);
    assert!(store.user_policies("bob").unwrap().is_empty());
    assert_eq!(
        store.access_key_and_policies("AKIA2").unwrap(),
        Some((key("AKIA2", "alice"), alices))
    );
    assert_eq!(
        store.access_key_and_policies("AKIA3").unwrap(),
        Some((key("AKIA3", "bob"), vec![]))
    );
    assert_eq!(store.access_key_and_policies("AKIAX").unwrap(), None);
    assert!(store.delete_user_policy("alice", "a").unwrap());
    assert!(!store.delete_user_policy("alice", "a").unwrap());
    assert_eq!(
        store.user_policies("alice").unwrap(),
        [policy("b", "{\"v\":3}")]
    );
}

pub fn deactivated_and_deleted_keys_stop_working(store: &dyn Store) {
    store.create_user("alice", 1).unwrap();
    store.create_access_key(&key("AKIA1", "alice"), 1).unwrap();
    store.create_access_key(&key("AKIA2", "alice"), 2).unwrap();
    store.deactivate_access_key("AKIA1").unwrap();
    assert_eq!(store.access_key("AKIA1").unwrap(), None);
    assert_eq!(store.access_key_and_policies("AKIA1").unwrap(), None);
    let inactive = AccessKeyRecord {
        active: false,
        ..key("AKIA1", "alice")
    };
    assert_eq!(
        store.list_access_keys(Some("alice")).unwrap(),
        [(inactive, 1), (key("AKIA2", "alice"), 2)]
    );
    assert_eq!(store.sealed_secrets().unwrap().len(), 2, "active or not");
    assert!(matches!(
        store.deactivate_access_key("AKIAX"),
        Err(StoreError::NotFound(_))
    ));

    store.delete_access_key("AKIA1").unwrap();
    assert!(matches!(
        store.delete_access_key("AKIA1"),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.list_access_keys(None).unwrap(),
        [(key("AKIA2", "alice"), 2)]
    );
    assert!(store.access_key("AKIA2").unwrap().is_some());
}

pub fn sealing_leaves_sealed_keys_alone(store: &dyn Store) {
    assert!(store.plaintext_secrets().unwrap().is_empty());
    assert_eq!(store.replace_plaintext_secrets(&[]).unwrap(), 0);
    store.create_user("alice", 1).unwrap();
    store.create_access_key(&key("AKIA1", "alice"), 1).unwrap();
    assert!(
        store.plaintext_secrets().unwrap().is_empty(),
        "new keys are stored sealed only"
    );
    // A sealed form for a plaintext the key does not hold changes nothing.
    let stale = [(
        "AKIA1".to_string(),
        "some plaintext".to_string(),
        "sealed-other".to_string(),
    )];
    assert_eq!(store.replace_plaintext_secrets(&stale).unwrap(), 0);
    assert_eq!(
        store.access_key("AKIA1").unwrap(),
        Some(key("AKIA1", "alice"))
    );
}

pub fn concurrent_creations_of_one_user_succeed_once(store: &dyn Store) {
    let outcomes = race(|i| store.create_user("alice", i as i64));
    let created: Vec<usize> = (0..outcomes.len())
        .filter(|i| outcomes[*i].is_ok())
        .collect();
    assert_eq!(created.len(), 1, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(()) | Err(StoreError::AlreadyExists(_)))));
    assert_eq!(
        store.list_users().unwrap(),
        [UserRecord {
            name: "alice".into(),
            created_ms: created[0] as i64
        }],
        "the user is the one that was created"
    );
}

pub fn concurrent_puts_of_one_policy_all_succeed_and_one_wins(store: &dyn Store) {
    store.create_user("alice", 1).unwrap();
    let documents: Vec<String> = (0..8).map(|i| format!("{{\"v\":{i}}}")).collect();
    race(|i| {
        store
            .put_user_policy("alice", "p", &documents[i % documents.len()])
            .unwrap()
    });
    let stored = store.user_policies("alice").unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].0, "p");
    assert!(documents.contains(&stored[0].1), "{stored:?}");
}

pub fn users_carry_tags_that_are_replaced_and_removed(store: &dyn Store) {
    store.create_user("alice", 1).unwrap();
    assert!(store.user_tags("alice").unwrap().is_empty());
    store.tag_user("alice", "SSMSessionRunAs", "ops").unwrap();
    store.tag_user("alice", "Team", "infra").unwrap();
    store
        .tag_user("alice", "SSMSessionRunAs", "deploy")
        .unwrap();
    assert_eq!(
        store.user_tags("alice").unwrap(),
        [
            ("SSMSessionRunAs".to_string(), "deploy".to_string()),
            ("Team".to_string(), "infra".to_string())
        ]
    );
    assert!(matches!(
        store.tag_user("nobody", "Team", "x"),
        Err(crate::StoreError::NotFound(_))
    ));
    assert!(store.untag_user("alice", "Team").unwrap());
    assert!(!store.untag_user("alice", "Team").unwrap());
    assert_eq!(store.user_tags("alice").unwrap().len(), 1);
    assert!(store.user_tags("nobody").unwrap().is_empty());
}
