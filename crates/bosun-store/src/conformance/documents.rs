//! Documents, their versions and shares.

use super::fixtures::{document, document_version as v, tags, OTHER_REGION, REGION};
use crate::prelude::*;
use crate::{AddVersion, StoreError};

pub fn document_versions_are_numbered_deduplicated_and_deleted_with_the_document(
    store: &dyn Store,
) {
    let doc = document("Deploy");
    store
        .create_document(&doc, &v("a", "v1"), &tags(&[("team", "ops")]), 10)
        .unwrap();
    assert!(matches!(
        store.create_document(&doc, &v("a", ""), &[], 10),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        store
            .add_document_version(REGION, "Deploy", &v("a", ""), 5)
            .unwrap(),
        AddVersion::DuplicateContent
    );
    assert_eq!(
        store
            .add_document_version(REGION, "Deploy", &v("b", "v1"), 5)
            .unwrap(),
        AddVersion::DuplicateVersionName
    );
    assert_eq!(
        store
            .add_document_version(REGION, "Deploy", &v("b", "v2"), 5)
            .unwrap(),
        AddVersion::Added(2)
    );
    assert_eq!(
        store
            .add_document_version(REGION, "Deploy", &v("c", ""), 2)
            .unwrap(),
        AddVersion::LimitExceeded
    );
    assert_eq!(
        store
            .add_document_version(REGION, "Missing", &v("c", ""), 5)
            .unwrap(),
        AddVersion::NoSuchDocument
    );
    assert_eq!(
        store
            .get_document(REGION, "Deploy")
            .unwrap()
            .unwrap()
            .latest_version,
        2
    );
    assert!(store
        .set_default_document_version(REGION, "Deploy", 2)
        .unwrap());
    assert!(!store
        .set_default_document_version(REGION, "Deploy", 9)
        .unwrap());
    assert_eq!(
        store
            .get_document(REGION, "Deploy")
            .unwrap()
            .unwrap()
            .default_version,
        2
    );
    assert!(store.delete_document_version(REGION, "Deploy", 1).unwrap());
    assert!(!store.delete_document_version(REGION, "Deploy", 1).unwrap());
    assert_eq!(
        store
            .add_document_version(REGION, "Deploy", &v("c", ""), 5)
            .unwrap(),
        AddVersion::Added(3),
        "numbers are never reused"
    );
    let versions = store.document_versions(REGION, "Deploy").unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(
        versions[0],
        crate::DocumentVersionRecord {
            version: 2,
            ..v("b", "v2")
        }
    );
    assert_eq!(
        store.document_version(REGION, "Deploy", 3).unwrap(),
        Some(crate::DocumentVersionRecord {
            version: 3,
            ..v("c", "")
        })
    );
    assert_eq!(store.document_version(REGION, "Deploy", 1).unwrap(), None);
    assert!(
        store
            .get_document(OTHER_REGION, "Deploy")
            .unwrap()
            .is_none(),
        "documents are regional"
    );
    assert!(store.delete_document(REGION, "Deploy").unwrap());
    assert!(!store.delete_document(REGION, "Deploy").unwrap());
    assert!(store.get_document(REGION, "Deploy").unwrap().is_none());
    assert!(store
        .document_versions(REGION, "Deploy")
        .unwrap()
        .is_empty());
    assert!(store.tags(REGION, "Document", "Deploy").unwrap().is_empty());
}

pub fn documents_are_listed_limited_and_shared(store: &dyn Store) {
    store
        .create_document(&document("b"), &v("b", ""), &[], 2)
        .unwrap();
    store
        .create_document(&document("a"), &v("a", ""), &[], 2)
        .unwrap();
    assert!(matches!(
        store.create_document(&document("c"), &v("c", ""), &[], 2),
        Err(StoreError::LimitExceeded(_))
    ));
    assert!(store.get_document(REGION, "c").unwrap().is_none());
    let mut elsewhere = document("c");
    elsewhere.region = OTHER_REGION.into();
    store
        .create_document(&elsewhere, &v("c", ""), &[], 2)
        .unwrap();
    assert_eq!(
        store.list_documents(REGION).unwrap(),
        [document("a"), document("b")]
    );
    assert_eq!(store.list_documents(OTHER_REGION).unwrap(), [elsewhere]);

    let accounts = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    store
        .modify_document_shares(REGION, "a", &accounts(&["222", "111"]), &[], "1")
        .unwrap();
    store
        .modify_document_shares(
            REGION,
            "a",
            &accounts(&["333", "111"]),
            &accounts(&["222"]),
            "2",
        )
        .unwrap();
    assert_eq!(
        store.document_shares(REGION, "a").unwrap(),
        [
            ("111".to_string(), "2".to_string()),
            ("333".to_string(), "2".to_string())
        ]
    );
    assert!(store.document_shares(REGION, "b").unwrap().is_empty());
    assert!(store.delete_document(REGION, "a").unwrap());
    store
        .create_document(&document("a"), &v("a", ""), &[], 2)
        .unwrap();
    assert!(
        store.document_shares(REGION, "a").unwrap().is_empty(),
        "shares went with the deleted document"
    );
}

pub fn uploaded_attachment_files_are_recorded_once_per_region(store: &dyn Store) {
    use crate::AttachmentBlobRecord;
    let hash = "ab".repeat(32);
    let first = AttachmentBlobRecord {
        region: REGION.into(),
        sha256: hash.clone(),
        size: 42,
        uploaded_ms: 1000,
    };
    assert_eq!(store.attachment_blob(REGION, &hash).unwrap(), None);
    assert_eq!(store.record_attachment_blob(&first).unwrap(), first);
    let again = AttachmentBlobRecord {
        uploaded_ms: 2000,
        ..first.clone()
    };
    assert_eq!(store.record_attachment_blob(&again).unwrap(), first);
    assert_eq!(store.attachment_blob(REGION, &hash).unwrap(), Some(first));
    assert_eq!(store.attachment_blob(OTHER_REGION, &hash).unwrap(), None);
    assert_eq!(
        store.attachment_blob(REGION, &"cd".repeat(32)).unwrap(),
        None
    );
}

pub fn uploads_no_document_version_names_are_removed_and_others_kept(store: &dyn Store) {
    use crate::AttachmentBlobRecord;
    let (a, b, c) = ("aa".repeat(32), "bb".repeat(32), "cc".repeat(32));
    let upload = |region: &str, sha: &str| {
        store
            .record_attachment_blob(&AttachmentBlobRecord {
                region: region.into(),
                sha256: sha.into(),
                size: 1,
                uploaded_ms: 1,
            })
            .unwrap();
    };
    for sha in [&a, &b, &c] {
        upload(REGION, sha);
    }
    upload(OTHER_REGION, &c);
    let manifest = |shas: &[&str]| {
        let files: Vec<String> = shas
            .iter()
            .map(|s| {
                format!(
                    "\"f-{}.zip\": {{\"checksums\": {{\"sha256\": \"{s}\"}}}}",
                    &s[..4]
                )
            })
            .collect();
        format!("{{\"files\": {{{}}}}}", files.join(", "))
    };
    // Pkg names a (in upper case) and b; Other names b only.
    store
        .create_document(
            &document("Pkg"),
            &v(&manifest(&[&a.to_uppercase(), &b]), ""),
            &[],
            10,
        )
        .unwrap();
    store
        .create_document(&document("Other"), &v(&manifest(&[&b]), ""), &[], 10)
        .unwrap();
    let all = vec![a.clone(), b.clone(), c.clone()];
    // Nothing deleted yet: a and b are named; c is named by no version in either region.
    let gone = store
        .remove_unreferenced_attachment_blobs(REGION, &all)
        .unwrap();
    assert_eq!(
        gone,
        Vec::<String>::new(),
        "c is still uploaded in the other region"
    );
    assert!(store.attachment_blob(REGION, &c).unwrap().is_none());
    assert!(store.attachment_blob(OTHER_REGION, &c).unwrap().is_some());
    assert!(store.attachment_blob(REGION, &a).unwrap().is_some());
    // Pkg goes: a is named by nothing now, b still by Other.
    assert!(store.delete_document(REGION, "Pkg").unwrap());
    let gone = store
        .remove_unreferenced_attachment_blobs(REGION, &all)
        .unwrap();
    assert_eq!(gone, vec![a.clone()]);
    assert!(store.attachment_blob(REGION, &a).unwrap().is_none());
    assert!(store.attachment_blob(REGION, &b).unwrap().is_some());
    // The other region's c goes once nothing there names it; a hash never uploaded is gone.
    let gone = store
        .remove_unreferenced_attachment_blobs(OTHER_REGION, &[c.clone(), "dd".repeat(32)])
        .unwrap();
    assert_eq!(gone, vec![c.clone(), "dd".repeat(32)]);
    assert!(store.attachment_blob(OTHER_REGION, &c).unwrap().is_none());
}
