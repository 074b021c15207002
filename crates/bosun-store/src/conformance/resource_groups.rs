//! Resource groups.

use super::concurrency::race;
use super::fixtures::{tags, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{GroupRecord, StoreError, GROUP_TAG_TYPE};

fn group(name: &str) -> GroupRecord {
    GroupRecord {
        region: REGION.into(),
        name: name.into(),
        description: "web nodes".into(),
        query_type: "TAG_FILTERS_1_0".into(),
        query: r#"{"ResourceTypeFilters":["AWS::AllSupported"],"TagFilters":[{"Key":"role","Values":["web"]}]}"#.into(),
        created_ms: 1_000,
    }
}

pub fn groups_are_created_listed_updated_and_deleted_with_their_tags(store: &dyn Store) {
    store
        .create_group(&group("web"), &tags(&[("team", "ops")]))
        .unwrap();
    store.create_group(&group("app"), &[]).unwrap();
    assert!(matches!(
        store.create_group(&group("web"), &[]),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(store.get_group(REGION, "web").unwrap(), Some(group("web")));
    assert_eq!(store.get_group(OTHER_REGION, "web").unwrap(), None);
    let names: Vec<String> = store
        .list_groups(REGION)
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["app", "web"], "listed by name");
    assert_eq!(
        store.tags(REGION, GROUP_TAG_TYPE, "web").unwrap(),
        tags(&[("team", "ops")])
    );

    let updated = store
        .update_group(REGION, "web", Some("front"), None)
        .unwrap()
        .unwrap();
    assert_eq!(updated.description, "front");
    assert_eq!(updated.query, group("web").query, "an unnamed part stays");
    let requeried = store
        .update_group(REGION, "web", None, Some(("TAG_FILTERS_1_0", "{}")))
        .unwrap()
        .unwrap();
    assert_eq!(
        (requeried.description.as_str(), requeried.query.as_str()),
        ("front", "{}")
    );
    assert_eq!(store.get_group(REGION, "web").unwrap(), Some(requeried));
    assert_eq!(
        store.update_group(REGION, "none", Some("x"), None).unwrap(),
        None
    );

    let deleted = store.delete_group(REGION, "web").unwrap().unwrap();
    assert_eq!(deleted.name, "web");
    assert_eq!(store.get_group(REGION, "web").unwrap(), None);
    assert!(
        store
            .tags(REGION, GROUP_TAG_TYPE, "web")
            .unwrap()
            .is_empty(),
        "its tags go with it"
    );
    assert_eq!(store.delete_group(REGION, "web").unwrap(), None);
    store.create_group(&group("web"), &[]).unwrap();
    assert!(store
        .tags(REGION, GROUP_TAG_TYPE, "web")
        .unwrap()
        .is_empty());
}

pub fn concurrent_creations_of_one_group_succeed_once(store: &dyn Store) {
    let outcomes = race(|i| store.create_group(&group("race"), &tags(&[("by", &i.to_string())])));
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(won, 1, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .filter(|o| o.is_err())
        .all(|o| matches!(o, Err(StoreError::AlreadyExists(_)))));
    assert_eq!(
        store.tags(REGION, GROUP_TAG_TYPE, "race").unwrap().len(),
        1,
        "one writer's tags"
    );
}
