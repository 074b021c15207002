//! Members whose values outside the model's enum AWS answers with the operation's own error,
//! not a model `ValidationException` — checked before model validation.
//!
//! Sources: moto's SSM test suite records `InvalidResourceType` for a tag operation's unknown
//! `ResourceType` (`test_tags_invalid_resource_type`), as does an independent SSM conformance
//! suite run against Bosun (issue 11); botocore's model lists `InvalidPermissionType` as
//! `ModifyDocumentPermission`'s and `DescribeDocumentPermission`'s error for a permission type
//! other than `Share`, which moto also answers.

use serde_json::Value;

use super::ssm_shapes::SHAPES;
use super::{input_shape, Kind};

/// (operation, member, error code).
const SERVICE_CHECKED: &[(&str, &str, &str)] = &[
    ("AddTagsToResource", "ResourceType", "InvalidResourceType"),
    (
        "RemoveTagsFromResource",
        "ResourceType",
        "InvalidResourceType",
    ),
    ("ListTagsForResource", "ResourceType", "InvalidResourceType"),
    (
        "ModifyDocumentPermission",
        "PermissionType",
        "InvalidPermissionType",
    ),
    (
        "DescribeDocumentPermission",
        "PermissionType",
        "InvalidPermissionType",
    ),
];

/// The operation's own error (code, message) when a service-checked member of `input` holds a
/// string outside its enum.
pub fn service_error(operation: &str, input: &Value) -> Option<(&'static str, String)> {
    let members = match &SHAPES[input_shape(operation)?].kind {
        Kind::Structure { members } => *members,
        _ => return None,
    };
    SERVICE_CHECKED
        .iter()
        .filter(|(op, _, _)| *op == operation)
        .find_map(|(_, member, code)| {
            let value = input.get(*member)?.as_str()?;
            let shape = members.iter().find(|m| m.name == *member)?.shape;
            let Kind::String { enumeration, .. } = &SHAPES[shape].kind else {
                return None;
            };
            (!enumeration.is_empty() && !enumeration.contains(&value)).then(|| {
                let message = match *code {
                    "InvalidResourceType" => {
                        format!("The resource type {value} is not valid for this operation.")
                    }
                    _ => format!(
                        "The permission type {value} is not valid. Valid permission types: {}.",
                        enumeration.join(", ")
                    ),
                };
                (*code, message)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_resource_and_permission_types_are_the_operations_own_errors() {
        let bad = json!({"ResourceType": "Bucket", "ResourceId": "x", "Tags": []});
        assert_eq!(
            service_error("AddTagsToResource", &bad).map(|e| e.0),
            Some("InvalidResourceType")
        );
        let good = json!({"ResourceType": "Parameter", "ResourceId": "x"});
        assert_eq!(service_error("ListTagsForResource", &good), None);
        let perm = json!({"Name": "d", "PermissionType": "Foo"});
        assert_eq!(
            service_error("ModifyDocumentPermission", &perm).map(|e| e.0),
            Some("InvalidPermissionType")
        );
        assert_eq!(service_error("GetParameter", &json!({"Name": "x"})), None);
    }
}
