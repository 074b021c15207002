//! `ParameterFilters` (and the legacy `Filters`) of `DescribeParameters` and
//! `GetParametersByPath`: which keys and options each operation accepts, and matching.

use std::collections::BTreeSet;

use super::{name, Rejection, TIERS, TYPES};

/// One `ParameterStringFilter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringFilter {
    pub key: String,
    pub option: Option<String>,
    pub values: Vec<String>,
}

/// Which operation the filters belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Describe,
    ByPath,
}

/// What a filter looks at in one parameter.
pub struct View<'a> {
    pub name: &'a str,
    pub param_type: &'a str,
    pub key_id: Option<&'a str>,
    pub tier: &'a str,
    pub data_type: &'a str,
    /// Labels on any version of the parameter.
    pub labels: &'a [String],
    pub tags: &'a [(String, String)],
}

fn options_for(key: &str, op: Operation) -> &'static [&'static str] {
    match (key, op) {
        ("Label", _) => &["Equals"],
        ("Name", Operation::Describe) => &["Equals", "BeginsWith", "Contains"],
        ("Path", _) => &["Recursive", "OneLevel"],
        _ => &["Equals", "BeginsWith"],
    }
}

/// Keys each operation accepts, in the order AWS's message lists them. `GetParametersByPath`
/// also takes `Label`, which its message leaves out (both as recorded; see [`check`]).
const DESCRIBE_KEYS_LISTED: &str = "[Path, Name, Type, KeyId, Tier]";
const BY_PATH_KEYS_LISTED: &str = "[Type, KeyId]";

/// AWS's text for a `Path` filter value that is not a valid hierarchy.
pub const PATH_RULES: &str = "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.";

/// AWS's text for a `Path` filter under the reserved `aws`/`ssm` namespaces.
pub const RESERVED_PATH_FILTER: &str = "Filters for common parameters can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). When using global parameters, please specify within a global namespace.";

fn reserved_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').to_ascii_lowercase();
    first.starts_with("aws") || first.starts_with("ssm")
}

/// Check filters before any matching, filter by filter and in AWS's order: a key the operation
/// does not take, values missing, the key repeated, then the key's own rules (`Path` options,
/// reserved and malformed paths, `Tier` and `Type` values), then the option.
///
/// The texts and codes are AWS's as recorded by moto's SSM test suite
/// (`test_describe_parameters_invalid_parameter_filters`, `test_describe_parameters_invalid_path`,
/// `test_get_parameters_by_path`), which lists `[Path, Name, Type, KeyId, Tier]` and
/// `[Type, KeyId]` even though `DataType` (DescribeParameters) and `Label`
/// (GetParametersByPath) are accepted; the conformance cases in
/// `crates/bosun-e2e/tests/data/aws_errors.py` check each one end to end.
pub fn check(filters: &[StringFilter], op: Operation) -> Result<(), Rejection> {
    let accepted: &[&str] = match op {
        Operation::ByPath => &["Type", "KeyId", "Label"],
        Operation::Describe => &["Name", "Type", "KeyId", "Path", "Tier", "DataType"],
    };
    let listed = match op {
        Operation::ByPath => BY_PATH_KEYS_LISTED,
        Operation::Describe => DESCRIBE_KEYS_LISTED,
    };
    let mut seen = BTreeSet::new();
    for f in filters {
        let is_tag = op == Operation::Describe && f.key.starts_with("tag:") && f.key.len() > 4;
        if !is_tag && !accepted.contains(&f.key.as_str()) {
            return Err(Rejection::new(
                "InvalidFilterKey",
                format!(
                    "The following filter key is not valid: {}. Valid filter keys include: {listed}.",
                    f.key
                ),
            ));
        }
        if f.values.is_empty() && !is_tag {
            return Err(Rejection::new(
                "InvalidFilterValue",
                format!(
                    "The following filter values are missing : null for filter key {}.",
                    f.key
                ),
            ));
        }
        if !seen.insert(f.key.as_str()) {
            return Err(Rejection::new(
                "InvalidFilterKey",
                format!(
                    "The following filter is duplicated in the request: {}. A request can contain only one occurrence of a specific filter.",
                    f.key
                ),
            ));
        }
        let options = options_for(&f.key, op);
        if f.key == "Path" {
            if let Some(o) = f.option.as_deref().filter(|o| !options.contains(o)) {
                return Err(Rejection::new(
                    "InvalidFilterOption",
                    format!(
                        "The following filter option is not valid: {o}. Valid options include: [Recursive, OneLevel]."
                    ),
                ));
            }
            if f.values.iter().any(|v| reserved_path(v)) {
                return Err(Rejection::validation(RESERVED_PATH_FILTER));
            }
            if f.values
                .iter()
                .any(|v| v.contains("//") || name::validate_path(v).is_err())
            {
                return Err(Rejection::validation(PATH_RULES));
            }
        }
        let allowed: Option<(&[&str], &str)> = match f.key.as_str() {
            "Tier" => Some((TIERS, "[Standard, Advanced, Intelligent-Tiering]")),
            "Type" => Some((TYPES, "[String, StringList, SecureString]")),
            _ => None,
        };
        if let Some((allowed, listed)) = allowed {
            if let Some(v) = f.values.iter().find(|v| !allowed.contains(&v.as_str())) {
                return Err(Rejection::new(
                    "InvalidFilterOption",
                    format!(
                        "The following filter value is not valid: {v}. Valid values include: {listed}."
                    ),
                ));
            }
        }
        if let Some(o) = f.option.as_deref().filter(|o| !options.contains(o)) {
            // AWS names the two options every key takes, also for `Name` (which also takes
            // `Contains`) and `Label` (which takes `Equals` only).
            return Err(Rejection::new(
                "InvalidFilterOption",
                format!(
                    "The following filter option is not valid: {o}. Valid options include: [BeginsWith, Equals]."
                ),
            ));
        }
    }
    Ok(())
}

fn compare(option: &str, have: &str, want: &str) -> bool {
    match option {
        "BeginsWith" => have.starts_with(want),
        "Contains" => have.contains(want),
        _ => have == want,
    }
}

/// True when the parameter passes every filter (filters must have passed [`check`]).
pub fn matches(filters: &[StringFilter], p: &View) -> bool {
    filters.iter().all(|f| {
        let option = f.option.as_deref().unwrap_or(if f.key == "Path" {
            "OneLevel"
        } else {
            "Equals"
        });
        let any = |have: &str| f.values.iter().any(|v| compare(option, have, v));
        match f.key.as_str() {
            "Name" => {
                let have = p.name.trim_start_matches('/');
                f.values.iter().any(|v| {
                    if option == "Contains" {
                        p.name.contains(v.as_str())
                    } else {
                        compare(option, have, v.trim_start_matches('/'))
                    }
                })
            }
            "Type" => any(p.param_type),
            "KeyId" => p.key_id.is_some_and(any),
            "Tier" => any(p.tier),
            "DataType" => any(p.data_type),
            "Label" => p.labels.iter().any(|l| f.values.contains(l)),
            "Path" => f
                .values
                .iter()
                .any(|v| name::in_path(p.name, v, option == "Recursive")),
            tag => {
                let key = &tag[4..];
                p.tags.iter().any(|(k, v)| {
                    k == key
                        && (f.values.is_empty() || f.values.iter().any(|w| compare(option, v, w)))
                })
            }
        }
    })
}

/// The legacy `Filters` of `DescribeParameters` (`Name` matches as a prefix, `Type` and
/// `KeyId` exactly), expressed as string filters.
pub fn from_legacy(key: &str, values: Vec<String>) -> StringFilter {
    StringFilter {
        key: key.to_string(),
        option: Some(
            if key == "Name" {
                "BeginsWith"
            } else {
                "Equals"
            }
            .to_string(),
        ),
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(key: &str, option: Option<&str>, values: &[&str]) -> StringFilter {
        StringFilter {
            key: key.into(),
            option: option.map(str::to_string),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn view<'a>(name: &'a str, labels: &'a [String], tags: &'a [(String, String)]) -> View<'a> {
        View {
            name,
            param_type: "SecureString",
            key_id: Some("alias/aws/ssm"),
            tier: "Standard",
            data_type: "text",
            labels,
            tags,
        }
    }

    #[test]
    fn keys_and_options_per_operation() {
        assert!(check(&[f("Type", None, &["String"])], Operation::ByPath).is_ok());
        assert_eq!(
            check(&[f("Name", None, &["x"])], Operation::ByPath)
                .unwrap_err()
                .code,
            "InvalidFilterKey"
        );
        assert_eq!(
            check(&[f("Label", None, &["x"])], Operation::Describe)
                .unwrap_err()
                .code,
            "InvalidFilterKey"
        );
        assert_eq!(
            check(&[f("Label", Some("BeginsWith"), &["x"])], Operation::ByPath)
                .unwrap_err()
                .code,
            "InvalidFilterOption"
        );
        assert_eq!(
            check(&[f("Type", Some("Contains"), &["x"])], Operation::Describe)
                .unwrap_err()
                .code,
            "InvalidFilterOption"
        );
        assert!(check(&[f("Name", Some("Contains"), &["x"])], Operation::Describe).is_ok());
        assert!(check(&[f("tag:env", None, &[])], Operation::Describe).is_ok());
        assert_eq!(
            check(&[f("Type", None, &["Bogus"])], Operation::Describe)
                .unwrap_err()
                .code,
            "InvalidFilterOption"
        );
        assert_eq!(
            check(
                &[f("Path", Some("Recursive"), &["nope"])],
                Operation::Describe
            )
            .unwrap_err()
            .code,
            "ValidationException"
        );
        assert_eq!(
            check(
                &[f("Type", None, &["String"]), f("Type", None, &["String"])],
                Operation::Describe
            )
            .unwrap_err()
            .code,
            "InvalidFilterKey"
        );
        assert_eq!(
            check(&[f("Path", None, &["/aws/x"])], Operation::Describe)
                .unwrap_err()
                .message,
            RESERVED_PATH_FILTER
        );
    }

    #[test]
    fn matching() {
        let labels = vec!["prod".to_string()];
        let tags = vec![("env".to_string(), "dev".to_string())];
        let p = view("/app/db/pass", &labels, &tags);
        assert!(matches(&[f("Name", Some("BeginsWith"), &["/app"])], &p));
        assert!(matches(&[f("Name", Some("BeginsWith"), &["app/db"])], &p));
        assert!(matches(&[f("Name", None, &["app/db/pass"])], &p));
        assert!(matches(&[f("Name", Some("Contains"), &["db"])], &p));
        assert!(!matches(&[f("Name", None, &["/app"])], &p));
        assert!(matches(&[f("Path", None, &["/app/db"])], &p));
        assert!(!matches(&[f("Path", Some("OneLevel"), &["/app"])], &p));
        assert!(matches(&[f("Path", Some("Recursive"), &["/app"])], &p));
        assert!(matches(&[f("Label", None, &["prod"])], &p));
        assert!(matches(&[f("tag:env", None, &[])], &p));
        assert!(matches(&[f("tag:env", Some("BeginsWith"), &["d"])], &p));
        assert!(!matches(&[f("tag:team", None, &[])], &p));
        assert!(matches(
            &[
                f("KeyId", None, &["alias/aws/ssm"]),
                f("Type", None, &["SecureString"])
            ],
            &p
        ));
        assert!(!matches(&[f("Tier", None, &["Advanced"])], &p));
        assert!(matches(&[from_legacy("Name", vec!["/app/d".into()])], &p));
    }
}
