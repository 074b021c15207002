//! The manifest rules, attachment coverage and platform selection.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

fn sum(c: char) -> String {
    c.to_string().repeat(64)
}

fn manifest() -> Value {
    json!({
        "schemaVersion": "2.0", "version": "1.0.0", "publisher": "ops",
        "packages": {
            "ubuntu": {"22.04": {"x86_64": {"file": "ubuntu.zip"}}},
            "_any": {"_any": {"_any": {"file": "any.zip"}}}
        },
        "files": {
            "ubuntu.zip": {"checksums": {"sha256": sum('A')}},
            "any.zip": {"checksums": {"sha256": sum('b')}}
        }
    })
}

#[test]
fn a_well_formed_manifest_parses_with_lower_case_hashes() {
    let m = parse_manifest(&manifest()).unwrap();
    assert_eq!((m.version.as_str(), m.publisher.as_str()), ("1.0.0", "ops"));
    assert_eq!(m.entries.len(), 2);
    assert_eq!(m.files["ubuntu.zip"], sum('a'));
}

#[test]
fn bad_manifests_are_refused_saying_where() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/version", Value::Null, "needs a version"),
        ("/version", json!("1 0"), "version \"1 0\" must be"),
        ("/packages", json!({}), "packages has no entries"),
        ("/packages", Value::Null, "packages must be an object"),
        (
            "/packages/ubuntu",
            json!({}),
            "packages.ubuntu has no entries",
        ),
        (
            "/packages/ubuntu/22.04",
            json!({}),
            "packages.ubuntu.22.04 has no entries",
        ),
        (
            "/packages/ubuntu/22.04/x86_64",
            json!({}),
            "packages.ubuntu.22.04.x86_64 needs a file",
        ),
        (
            "/packages/ubuntu/22.04/x86_64",
            json!({"file": "other.zip"}),
            "\"other.zip\" is not one of the manifest's files",
        ),
        ("/files", json!({}), "files has no entries"),
        (
            "/files/any.zip",
            json!({}),
            "files.any.zip needs checksums.sha256",
        ),
        (
            "/files/any.zip",
            json!({"checksums": {"sha256": "abc"}}),
            "must be 64 hexadecimal digits",
        ),
    ];
    for (pointer, value, want) in cases {
        let mut m = manifest();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let obj = m
            .pointer_mut(if parent.is_empty() { "" } else { parent })
            .unwrap();
        if value.is_null() {
            obj.as_object_mut().unwrap().remove(key);
        } else {
            obj[key] = value;
        }
        let e = parse_manifest(&m).unwrap_err();
        assert!(e.contains(want), "{pointer}: {e}");
    }
}

#[test]
fn file_names_with_separators_or_traversal_are_refused() {
    for name in [
        "../evil.zip",
        "a/b.zip",
        "a\\b.zip",
        "..",
        ".",
        "",
        "x y.zip",
    ] {
        let mut m = manifest();
        m["files"][name] = json!({"checksums": {"sha256": sum('c')}});
        let e = parse_manifest(&m).unwrap_err();
        assert!(e.contains("is not a file name"), "{name}: {e}");
    }
    assert!(file_name_ok("agent-1.2_3+b.zip"));
    let mut m = manifest();
    for i in 0..MAX_PACKAGE_FILES {
        m["files"][format!("f{i}.zip")] = json!({"checksums": {"sha256": sum('c')}});
    }
    assert!(parse_manifest(&m).unwrap_err().contains("at most 20"));
}

#[test]
fn every_file_must_be_attached_by_hash() {
    let m = parse_manifest(&manifest()).unwrap();
    let mut available = BTreeMap::from([(sum('a'), 10u64)]);
    assert_eq!(
        missing_attachment(&m, &available),
        Some(("any.zip", sum('b').as_str()))
    );
    available.insert(sum('b'), 5);
    assert_eq!(missing_attachment(&m, &available), None);
}

#[test]
fn the_most_specific_entry_fits_a_node() {
    let m = parse_manifest(&manifest()).unwrap();
    let pick =
        |p: &str, v: &str, a: &str| select_entry(&m.entries, p, v, a).map(|e| e.file.clone());
    assert_eq!(
        pick("ubuntu", "22.04", "x86_64").as_deref(),
        Some("ubuntu.zip")
    );
    assert_eq!(
        pick("ubuntu", "20.04", "x86_64").as_deref(),
        Some("any.zip")
    );
    assert_eq!(pick("debian", "12", "arm64").as_deref(), Some("any.zip"));
    let only_ubuntu: Vec<PlatformEntry> = m
        .entries
        .iter()
        .filter(|e| e.platform == "ubuntu")
        .cloned()
        .collect();
    assert_eq!(select_entry(&only_ubuntu, "debian", "12", "x86_64"), None);
    assert_eq!(
        (platform_of_os_id("amzn"), arch_of("aarch64")),
        ("amazon".to_string(), "arm64")
    );
}
