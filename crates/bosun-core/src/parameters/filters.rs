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

/// Check filters before any matching: keys allowed for the operation, options allowed for the
/// key, values present and well formed, no key twice.
pub fn check(filters: &[StringFilter], op: Operation) -> Result<(), Rejection> {
    let keys: &[&str] = match op {
        Operation::ByPath => &["Type", "KeyId", "Label"],
        Operation::Describe => &["Name", "Type", "KeyId", "Path", "Tier", "DataType"],
    };
    let mut seen = BTreeSet::new();
    for f in filters {
        let is_tag = op == Operation::Describe && f.key.starts_with("tag:") && f.key.len() > 4;
        if !is_tag && !keys.contains(&f.key.as_str()) {
            return Err(Rejection::new(
                "InvalidFilterKey",
                format!(
                    "The following filter key is not valid: {}. Valid filter keys include: [{}].",
                    f.key,
                    keys.join(", ")
                ),
            ));
        }
        if !seen.insert(f.key.as_str()) {
            return Err(Rejection::validation(format!(
                "The following filter is duplicated in the request: {}. A request can contain only one occurrence of a specific filter.",
                f.key
            )));
        }
        let options = options_for(&f.key, op);
        if let Some(o) = &f.option {
            if !options.contains(&o.as_str()) {
                return Err(Rejection::new(
                    "InvalidFilterOption",
                    format!(
                        "The following filter option is not valid: {o}. Valid options include: [{}].",
                        options.join(", ")
                    ),
                ));
            }
        }
        if f.values.is_empty() && !is_tag {
            return Err(Rejection::new(
                "InvalidFilterValue",
                format!(
                    "The following filter values are missing: null for filter key {}.",
                    f.key
                ),
            ));
        }
        let allowed: Option<&[&str]> = match f.key.as_str() {
            "Type" => Some(TYPES),
            "Tier" => Some(TIERS),
            _ => None,
        };
        for v in &f.values {
            let bad = allowed.is_some_and(|a| !a.contains(&v.as_str()))
                || (f.key == "Path" && name::validate_path(v).is_err());
            if bad {
                return Err(Rejection::new(
                    "InvalidFilterValue",
                    format!(
                        "The following filter value is not valid: {v}. Filter key: {}.",
                        f.key
                    ),
                ));
            }
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
            "InvalidFilterValue"
        );
        assert_eq!(
            check(
                &[f("Path", Some("Recursive"), &["nope"])],
                Operation::Describe
            )
            .unwrap_err()
            .code,
            "InvalidFilterValue"
        );
        assert_eq!(
            check(
                &[f("Type", None, &["String"]), f("Type", None, &["String"])],
                Operation::Describe
            )
            .unwrap_err()
            .code,
            "ValidationException"
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
