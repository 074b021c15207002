//! Parameter names, hierarchy paths, ARNs and `name:version` / `name:label` selectors.
//!
//! A one-level name is the same parameter with or without its leading slash (`/a` ≡ `a`), so
//! the store keys parameters by [`key`]: the name with that slash dropped for one-level names.

use super::Rejection;

pub const MAX_LEVELS: usize = 15;
/// The longest fully qualified name (`arn:aws:ssm:<region>:<account>:parameter/<name>`).
pub const MAX_QUALIFIED_LEN: usize = 1011;

fn allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')
}

/// AWS's answer to a malformed name, and to a hierarchical name under `ssm` (recorded by moto's
/// `test_put_parameter_invalid_names`, LocalStack's `InvalidParameterNameException`, and a live
/// ap-northeast-1 probe of a name with `:` quoted in a public project's source).
const NAME_RULES: &str = "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";
/// AWS's answer to a one-level name starting with `aws` or `ssm` (moto's
/// `test_put_parameter_invalid_names`).
const RESERVED_PREFIX: &str =
    "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).";

/// The store key: one-level names lose their leading slash, hierarchical names keep it.
pub fn key(name: &str) -> String {
    match name.strip_prefix('/') {
        Some(rest) if !rest.contains('/') => rest.to_string(),
        _ => name.to_string(),
    }
}

/// The resource part of the parameter's ARN: `parameter/<name without leading slash>`.
pub fn arn_resource(name: &str) -> String {
    format!("parameter/{}", name.trim_start_matches('/'))
}

/// Number of hierarchy levels (`/a/b/c` has 3, `a` has 1).
pub fn levels(name: &str) -> usize {
    name.trim_start_matches('/').split('/').count()
}

/// Check a name for `PutParameter`. `arn_prefix_len` is the length of
/// `arn:aws:ssm:<region>:<account>:parameter/` in the caller's region.
pub fn validate(name: &str, arn_prefix_len: usize) -> Result<(), Rejection> {
    if name.is_empty() || !name.chars().all(allowed_char) {
        return Err(Rejection::validation(NAME_RULES));
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(Rejection::validation(NAME_RULES));
    }
    let body = name.strip_prefix('/').unwrap_or(name);
    if body.is_empty() || body.split('/').any(str::is_empty) {
        return Err(Rejection::validation(NAME_RULES));
    }
    let first = body.split('/').next().unwrap_or("").to_ascii_lowercase();
    let hierarchical = body.contains('/');
    if first.starts_with("aws") && hierarchical {
        return Err(Rejection::new(
            "AccessDeniedException",
            format!("No access to reserved parameter name: {name}."),
        ));
    }
    if first.starts_with("ssm") && hierarchical {
        return Err(Rejection::validation(NAME_RULES));
    }
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(Rejection::validation(RESERVED_PREFIX));
    }
    if levels(name) > MAX_LEVELS {
        return Err(Rejection::new(
            "HierarchyLevelLimitExceededException",
            format!(
                "A parameter hierarchy can have at most {MAX_LEVELS} levels; {name} has {}.",
                levels(name)
            ),
        ));
    }
    if arn_prefix_len + body.len() > MAX_QUALIFIED_LEN {
        return Err(Rejection::validation(format!(
            "The fully qualified parameter name (its ARN) can be at most {MAX_QUALIFIED_LEN} characters long."
        )));
    }
    Ok(())
}

/// Check a hierarchy path (`GetParametersByPath`, the `Path` filter): starts with `/`, at
/// most 15 levels, each level non-empty; a trailing slash is allowed.
pub fn validate_path(path: &str) -> Result<(), String> {
    let bad = || {
        format!("The parameter path {path} is not valid. A path begins with a forward slash (/), uses only letters, numbers and . - _ in each level, separates levels with /, and has at most {MAX_LEVELS} levels.")
    };
    let Some(body) = path.strip_prefix('/') else {
        return Err(bad());
    };
    let body = body.strip_suffix('/').unwrap_or(body);
    if body.is_empty() {
        return Ok(());
    }
    if !body.chars().all(allowed_char)
        || body.split('/').any(str::is_empty)
        || body.split('/').count() > MAX_LEVELS
    {
        return Err(bad());
    }
    Ok(())
}

/// True when `name` lies under `path`: a direct child, or any descendant when `recursive`.
/// A one-level name (with or without its slash) is a child of `/`.
pub fn in_path(name: &str, path: &str, recursive: bool) -> bool {
    let full = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    };
    let base = path.trim_end_matches('/');
    let Some(rest) = full.strip_prefix(base).and_then(|r| r.strip_prefix('/')) else {
        return false;
    };
    !rest.is_empty() && (recursive || !rest.contains('/'))
}

/// Which version a read asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Version(i64),
    Label(String),
}

impl Selector {
    /// The `Selector` member of a response (`:3`, `:prod`).
    pub fn text(&self) -> String {
        match self {
            Selector::Version(v) => format!(":{v}"),
            Selector::Label(l) => format!(":{l}"),
        }
    }
}

/// A parsed read reference: a name (or this account's ARN) with an optional selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub selector: Option<Selector>,
}

/// Parse `name`, `name:version`, `name:label` or an ARN with the same suffixes. `arn_prefix` is
/// `arn:aws:ssm:<region>:<account>:parameter/`; an ARN of another region or account gives
/// `None` (it names nothing here).
pub fn parse_reference(input: &str, arn_prefix: &str) -> Option<Reference> {
    let rest = if input.starts_with("arn:") {
        let path = input.strip_prefix(arn_prefix)?;
        if path.contains('/') || path.split(':').next().is_some_and(|p| p.contains('/')) {
            format!("/{path}")
        } else {
            path.to_string()
        }
    } else {
        input.to_string()
    };
    let (name, selector) = match rest.split_once(':') {
        None => (rest.clone(), None),
        Some((n, s)) => {
            let sel = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                Selector::Version(s.parse().unwrap_or(-1))
            } else {
                Selector::Label(s.to_string())
            };
            (n.to_string(), Some(sel))
        }
    };
    Some(Reference { name, selector })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "arn:aws:ssm:us-east-1:000000000000:parameter/";

    #[test]
    fn one_level_names_ignore_the_leading_slash() {
        assert_eq!(key("/TestParam1"), "TestParam1");
        assert_eq!(key("TestParam1"), "TestParam1");
        assert_eq!(key("/Test/TestParam1"), "/Test/TestParam1");
        assert_eq!(arn_resource("/a/b"), "parameter/a/b");
        assert_eq!(arn_resource("a"), "parameter/a");
    }

    #[test]
    fn names_follow_aws_rules() {
        let p = PREFIX.len();
        assert!(validate("/app/db/password", p).is_ok());
        assert!(validate("plain.name-1_x", p).is_ok());
        assert!(validate("a b", p).is_err());
        assert!(validate("a/b", p).is_err());
        assert!(validate("/a//b", p).is_err());
        assert!(validate("/a/", p).is_err());
        assert_eq!(
            validate("awsThing", p).unwrap_err().code,
            "ValidationException"
        );
        assert_eq!(
            validate("SSM-x", p).unwrap_err().code,
            "ValidationException"
        );
        assert_eq!(
            validate("/aws/x", p).unwrap_err().code,
            "AccessDeniedException"
        );
        let deep = "/l".repeat(16);
        assert_eq!(
            validate(&deep, p).unwrap_err().code,
            "HierarchyLevelLimitExceededException"
        );
        assert!(validate(&"/l".repeat(15), p).is_ok());
        let usable = MAX_QUALIFIED_LEN - p;
        assert!(validate(&"n".repeat(usable), p).is_ok());
        assert!(validate(&"n".repeat(usable + 1), p).is_err());
    }

    #[test]
    fn paths_and_membership() {
        assert!(validate_path("/").is_ok());
        assert!(validate_path("/a/b/").is_ok());
        assert!(validate_path("a/b").is_err());
        assert!(validate_path("/a//b").is_err());
        assert!(in_path("/a/b", "/a", false));
        assert!(in_path("/a/b", "/a/", false));
        assert!(!in_path("/a/b/c", "/a", false));
        assert!(in_path("/a/b/c", "/a", true));
        assert!(!in_path("/a", "/a", true));
        assert!(!in_path("/ab/c", "/a", true));
        assert!(in_path("top", "/", false));
        assert!(in_path("/top", "/", false));
        assert!(!in_path("/a/b", "/", false));
        assert!(in_path("/a/b", "/", true));
    }

    #[test]
    fn selectors_and_arns() {
        let r = parse_reference("/a/b:3", PREFIX).unwrap();
        assert_eq!(r.name, "/a/b");
        assert_eq!(r.selector, Some(Selector::Version(3)));
        let r = parse_reference("x:prod", PREFIX).unwrap();
        assert_eq!(r.selector, Some(Selector::Label("prod".into())));
        assert_eq!(r.selector.unwrap().text(), ":prod");
        let r = parse_reference(&format!("{PREFIX}a/b:2"), PREFIX).unwrap();
        assert_eq!(
            (r.name.as_str(), r.selector),
            ("/a/b", Some(Selector::Version(2)))
        );
        let r = parse_reference(&format!("{PREFIX}top"), PREFIX).unwrap();
        assert_eq!(r.name, "top");
        assert!(
            parse_reference("arn:aws:ssm:eu-west-1:000000000000:parameter/x", PREFIX).is_none()
        );
    }
}
