//! Tests of the resource-group rules.

use super::*;

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn names() {
    assert!(check_new_name("dev-nodes_1.a").is_ok());
    assert!(check_new_name("AWSnodes").is_err());
    assert!(check_new_name("aws").is_err());
    assert!(check_new_name("has space").is_err());
    assert!(check_new_name("").is_err());
    assert!(check_new_name(&"a".repeat(129)).is_err());
    assert!(check_name("awsok-as-existing").is_ok());
}

#[test]
fn arns_name_groups_of_this_region_only() {
    let arn = group_arn("us-east-1", "000000000000", "web");
    assert_eq!(
        arn,
        "arn:aws:resource-groups:us-east-1:000000000000:group/web"
    );
    assert_eq!(name_of(&arn, "us-east-1", "000000000000").unwrap(), "web");
    assert_eq!(name_of("web", "us-east-1", "000000000000").unwrap(), "web");
    assert!(name_of(&arn, "eu-west-1", "000000000000").is_err());
}

#[test]
fn tag_queries_select_nodes_with_every_key_and_one_of_its_values() {
    let q = parse_query(
        "TAG_FILTERS_1_0",
        r#"{"ResourceTypeFilters":["AWS::EC2::Instance"],"TagFilters":[{"Key":"env","Values":["dev","test"]},{"Key":"team"}]}"#,
    )
    .unwrap();
    assert!(q.matches_node(&tags(&[("env", "dev"), ("team", "x")])));
    assert!(q.matches_node(&tags(&[("env", "test"), ("team", "")])));
    assert!(!q.matches_node(&tags(&[("env", "prod"), ("team", "x")])));
    assert!(!q.matches_node(&tags(&[("env", "dev")])));
    let buckets = parse_query(
        "TAG_FILTERS_1_0",
        r#"{"ResourceTypeFilters":["AWS::S3::Bucket"],"TagFilters":[{"Key":"env"}]}"#,
    )
    .unwrap();
    assert!(!buckets.matches_node(&tags(&[("env", "dev")])));
}

#[test]
fn bad_queries_are_refused() {
    for (t, q) in [
        ("CLOUDFORMATION_STACK_1_0", "{}"),
        ("OTHER", "{}"),
        ("TAG_FILTERS_1_0", "not json"),
        ("TAG_FILTERS_1_0", r#"{"TagFilters":[{"Key":"a"}]}"#),
        (
            "TAG_FILTERS_1_0",
            r#"{"ResourceTypeFilters":["AWS::AllSupported"],"TagFilters":[]}"#,
        ),
        (
            "TAG_FILTERS_1_0",
            r#"{"ResourceTypeFilters":["EC2"],"TagFilters":[{"Key":"a"}]}"#,
        ),
        (
            "TAG_FILTERS_1_0",
            r#"{"ResourceTypeFilters":["AWS::AllSupported","AWS::EC2::Instance"],"TagFilters":[{"Key":"a"}]}"#,
        ),
        (
            "TAG_FILTERS_1_0",
            r#"{"ResourceTypeFilters":["AWS::AllSupported"],"TagFilters":[{"Key":"a"}],"Extra":1}"#,
        ),
    ] {
        let e = parse_query(t, q).unwrap_err();
        assert_eq!(e.code, "BadRequestException", "{t} {q}");
    }
}
