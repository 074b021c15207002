//! IAM-style JSON identity policies: strict parsing and AWS-compatible evaluation of the
//! policies attached to one principal (explicit Deny wins, then Allow, else implicit deny).
//!
//! Conditions are not evaluated yet and are handled fail-closed: see [`evaluate`].

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Policy language versions AWS accepts in the `Version` element.
const VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];
const TOP_LEVEL_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Principal",
    "NotPrincipal",
];

/// Why a policy document was rejected.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON, or JSON with a duplicated object key (rejected so that a second `Effect` or
    /// `Action` cannot silently override the first).
    #[error("policy is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("policy must be a JSON object")]
    NotAnObject,
    #[error("unknown top-level key {0:?} (allowed: Version, Id, Statement)")]
    UnknownKey(String),
    /// Carries the offending value, JSON-encoded.
    #[error("Version must be \"2012-10-17\" or \"2008-10-17\", got {0}")]
    BadVersion(String),
    #[error("Id must be a string")]
    BadId,
    #[error("missing required top-level key Statement")]
    MissingStatement,
    #[error("Statement must be an object or an array of objects")]
    BadStatement,
    /// Statement number `index` (0-based; 0 for a single-object `Statement`) is invalid.
    #[error("statement {index}{}: {error}", sid_note(.sid))]
    InStatement {
        index: usize,
        sid: Option<String>,
        error: StatementError,
    },
}

fn sid_note(sid: &Option<String>) -> String {
    sid.as_ref()
        .map(|s| format!(" (Sid {s:?})"))
        .unwrap_or_default()
}

/// What is wrong inside one statement. `field` names the element, with an index for list
/// items, e.g. `Action[2]` or `Condition.StringEquals`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("statement must be a JSON object")]
    NotAnObject,
    #[error("unknown key {0:?}")]
    UnknownKey(String),
    #[error("missing required field {0}")]
    Missing(&'static str),
    #[error("needs exactly one of {0} or {1}, found neither")]
    MissingEither(&'static str, &'static str),
    #[error("has both {0} and {1}; exactly one is allowed")]
    Both(&'static str, &'static str),
    #[error("{field} must be {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
    },
    #[error("Effect must be \"Allow\" or \"Deny\", got {0:?}")]
    BadEffect(String),
    #[error("{0} must not be an empty list")]
    EmptyList(&'static str),
    #[error("{field} pattern {pattern:?} must be \"*\" or look like service:Name")]
    ActionWithoutColon {
        field: &'static str,
        pattern: String,
    },
    #[error("{0} pattern must not be an empty string")]
    EmptyPattern(&'static str),
}

/// The outcome of evaluating a request against a principal's policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Some statement allows the request and none denies it.
    Allow,
    /// A Deny statement matches; this beats any Allow.
    ExplicitDeny,
    /// Nothing matches: denied by default.
    ImplicitDeny,
}

/// A parsed, validated identity policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    version: Option<String>,
    id: Option<String>,
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    sid: Option<String>,
    effect: Effect,
    actions: Matcher,
    resources: Matcher,
    /// The statement has a non-empty `Condition` (which we cannot evaluate yet).
    conditional: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

/// `Action`/`Resource` (any pattern matches) or `NotAction`/`NotResource` (none matches).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Matcher {
    negated: bool,
    /// Patterns as chars; action patterns are stored lower-cased.
    patterns: Vec<Vec<char>>,
}

impl Matcher {
    fn matches(&self, subject: &[char]) -> bool {
        self.patterns.iter().any(|p| glob_match(p, subject)) != self.negated
    }
}

impl PolicyDocument {
    /// Parse a policy JSON text; errors say precisely what is wrong (which statement, which
    /// field). Parsing is strict: unknown keys, duplicate keys and wrong types are rejected.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        let StrictJson(root) = serde_json::from_str(text)?;
        let Value::Object(top) = root else {
            return Err(PolicyError::NotAnObject);
        };
        if let Some(key) = top.keys().find(|k| !TOP_LEVEL_KEYS.contains(&k.as_str())) {
            return Err(PolicyError::UnknownKey(key.clone()));
        }
        let version = match top.get("Version") {
            None => None,
            Some(Value::String(v)) if VERSIONS.contains(&v.as_str()) => Some(v.clone()),
            Some(other) => return Err(PolicyError::BadVersion(other.to_string())),
        };
        let id = match top.get("Id") {
            None => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => return Err(PolicyError::BadId),
        };
        let raw: Vec<&Value> = match top.get("Statement") {
            None => return Err(PolicyError::MissingStatement),
            Some(single @ Value::Object(_)) => vec![single],
            Some(Value::Array(items)) => items.iter().collect(),
            Some(_) => return Err(PolicyError::BadStatement),
        };
        let statements = raw
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                parse_statement(value).map_err(|error| PolicyError::InStatement {
                    index,
                    sid: value.get("Sid").and_then(Value::as_str).map(str::to_owned),
                    error,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(PolicyDocument {
            version,
            id,
            statements,
        })
    }

    /// The `Version` element, if present.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The `Id` element, if present.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The `Sid` of each statement, in document order.
    pub fn sids(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.statements.iter().map(|s| s.sid.as_deref())
    }
}

impl std::str::FromStr for PolicyDocument {
    type Err = PolicyError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PolicyDocument::parse(text)
    }
}

fn parse_statement(value: &Value) -> Result<Statement, StatementError> {
    let obj = value.as_object().ok_or(StatementError::NotAnObject)?;
    if let Some(key) = obj.keys().find(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
        return Err(StatementError::UnknownKey(key.clone()));
    }
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(wrong_type("Sid", "a string")),
    };
    let effect = match obj.get("Effect") {
        None => return Err(StatementError::Missing("Effect")),
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(Value::String(s)) => return Err(StatementError::BadEffect(s.clone())),
        Some(_) => return Err(wrong_type("Effect", "a string")),
    };
    let actions = parse_matcher(obj, "Action", "NotAction", |field, p| {
        if p != "*" && !p.contains(':') {
            return Err(StatementError::ActionWithoutColon {
                field,
                pattern: p.to_owned(),
            });
        }
        Ok(lowercase_chars(p))
    })?;
    let resources = parse_matcher(obj, "Resource", "NotResource", |field, p| {
        if p.is_empty() {
            return Err(StatementError::EmptyPattern(field));
        }
        Ok(p.chars().collect())
    })?;
    let conditional = match obj.get("Condition") {
        None => false,
        Some(Value::Object(operators)) => {
            if let Some((op, _)) = operators.iter().find(|(_, body)| !body.is_object()) {
                return Err(wrong_type(&format!("Condition.{op}"), "an object"));
            }
            !operators.is_empty()
        }
        Some(_) => return Err(wrong_type("Condition", "an object")),
    };
    // `Principal` / `NotPrincipal` are accepted and ignored: in an identity policy the
    // principal is whoever the policy is attached to.
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        conditional,
    })
}

fn parse_matcher(
    obj: &Map<String, Value>,
    positive: &'static str,
    negative: &'static str,
    compile: impl Fn(&'static str, &str) -> Result<Vec<char>, StatementError>,
) -> Result<Matcher, StatementError> {
    let (field, negated, value) = match (obj.get(positive), obj.get(negative)) {
        (Some(_), Some(_)) => return Err(StatementError::Both(positive, negative)),
        (None, None) => return Err(StatementError::MissingEither(positive, negative)),
        (Some(v), None) => (positive, false, v),
        (None, Some(v)) => (negative, true, v),
    };
    let items: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        // An empty NotAction/NotResource would match everything: refuse rather than guess.
        Value::Array(items) if items.is_empty() => return Err(StatementError::EmptyList(field)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .ok_or_else(|| wrong_type(&format!("{field}[{i}]"), "a string"))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(wrong_type(field, "a string or an array of strings")),
    };
    let patterns = items
        .into_iter()
        .map(|p| compile(field, p))
        .collect::<Result<_, _>>()?;
    Ok(Matcher { negated, patterns })
}

fn wrong_type(field: &str, expected: &'static str) -> StatementError {
    StatementError::WrongType {
        field: field.to_owned(),
        expected,
    }
}

/// Action names are ASCII, so ASCII case folding is exact and, unlike Unicode lower-casing,
/// keeps one char per char.
fn lowercase_chars(s: &str) -> Vec<char> {
    s.chars().map(|c| c.to_ascii_lowercase()).collect()
}

/// Evaluate all policies attached to a principal for one action (e.g.
/// `"ssm:DescribeInstanceInformation"`) on one resource ARN (e.g.
/// `"arn:aws:ssm:us-east-1:000000000000:managed-instance/mi-0123456789abcdef0"`, or `"*"`).
///
/// A statement matches when its `Action`/`NotAction` matches the action (ASCII
/// case-insensitive glob) and its `Resource`/`NotResource` matches the resource (case-sensitive glob). Any
/// matching Deny gives [`Decision::ExplicitDeny`]; otherwise any matching Allow gives
/// [`Decision::Allow`]; otherwise [`Decision::ImplicitDeny`].
///
/// **Conditions are not evaluated; they fail closed.** An Allow statement with a non-empty
/// `Condition` never applies (it cannot grant anything), and a Deny statement with a
/// `Condition` always applies when its action and resource match, as if the condition held.
/// An empty `Condition` object (`{}`) counts as no condition.
pub fn evaluate<P: std::borrow::Borrow<PolicyDocument>>(
    policies: &[P],
    action: &str,
    resource: &str,
) -> Decision {
    let action = lowercase_chars(action);
    let resource: Vec<char> = resource.chars().collect();
    let mut allowed = false;
    for statement in policies.iter().flat_map(|p| &p.borrow().statements) {
        if !statement.actions.matches(&action) || !statement.resources.matches(&resource) {
            continue;
        }
        match statement.effect {
            Effect::Deny => return Decision::ExplicitDeny,
            Effect::Allow => allowed |= !statement.conditional,
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Wildcard match: `*` matches any run of characters (including `:` and `/`), `?` exactly
/// one; everything else literally. Two-pointer algorithm, O(pattern × text) worst case and
/// no exponential backtracking: only the most recent `*` is ever revisited.
fn glob_match(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Position of the last `*` seen, and the text position it is currently matched up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` swallow one more character and retry after it.
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    p = sp + 1;
                    t = st + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A JSON value parsed like `serde_json::Value`, except that an object with a duplicated key
/// is an error (`serde_json` silently keeps the last one, which could e.g. hide an `Effect`).
struct StrictJson(Value);

impl<'de> Deserialize<'de> for StrictJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictJson;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<StrictJson, E> {
        Ok(StrictJson(Value::Null))
    }
    fn visit_bool<E>(self, v: bool) -> Result<StrictJson, E> {
        Ok(StrictJson(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<StrictJson, E> {
        Ok(StrictJson(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<StrictJson, E> {
        Ok(StrictJson(Value::Number(v.into())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<StrictJson, E> {
        Ok(StrictJson(
            Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<StrictJson, E> {
        Ok(StrictJson(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<StrictJson, E> {
        Ok(StrictJson(Value::String(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictJson, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(StrictJson(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictJson, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            let StrictJson(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(StrictJson(Value::Object(object)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const INSTANCE_ARN: &str =
        "arn:aws:ssm:us-east-1:000000000000:managed-instance/mi-0123456789abcdef0";

    /// Verbatim from a real AWS user's article.
    const ARTICLE_POLICY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        { "Action": ["resource-groups:ListGroups","resource-groups:ListGroupResources"], "Resource": "*", "Effect": "Allow" },
        { "Action": ["ssm:SendCommand","ssm:CancelCommand","ssm:ListCommands","ssm:ListCommandInvocations","ssm:GetCommandInvocation","ssm:GetAutomationExecution","ssm:StartAutomationExecution","ssm:ListTagsForResource","ssm:GetParameters","ssm:DescribeInstanceInformation"], "Resource": "*", "Effect": "Allow" },
        { "Action": ["ec2:StartInstances","ec2:DescribeInstanceStatus"], "Resource": "*", "Effect": "Allow" },
        { "Action": ["tag:GetResources"], "Resource": "*", "Effect": "Allow" }
    ]
}"#;

    fn doc(value: serde_json::Value) -> PolicyDocument {
        PolicyDocument::parse(&value.to_string()).expect("policy should parse")
    }

    fn statement(stmt: serde_json::Value) -> PolicyDocument {
        doc(json!({ "Version": "2012-10-17", "Statement": [stmt] }))
    }

    fn eval1(policy: &PolicyDocument, action: &str, resource: &str) -> Decision {
        evaluate(std::slice::from_ref(policy), action, resource)
    }

    fn parse_err(value: serde_json::Value) -> PolicyError {
        PolicyDocument::parse(&value.to_string()).expect_err("policy should be rejected")
    }

    /// Parses a one-statement policy that must fail, returning the statement-level error.
    fn stmt_err(stmt: serde_json::Value) -> StatementError {
        match parse_err(json!({ "Statement": [stmt] })) {
            PolicyError::InStatement {
                index: 0, error, ..
            } => error,
            other => panic!("expected a statement error, got {other:?}"),
        }
    }

    #[test]
    fn article_policy_parses_and_evaluates() {
        let policy = PolicyDocument::parse(ARTICLE_POLICY).unwrap();
        assert_eq!(policy.version(), Some("2012-10-17"));
        assert_eq!(policy.id(), None);
        assert_eq!(policy.sids().count(), 4);
        let p = [policy];
        use Decision::*;
        assert_eq!(evaluate(&p, "ssm:DescribeInstanceInformation", "*"), Allow);
        assert_eq!(
            evaluate(&p, "ssm:DescribeInstanceInformation", INSTANCE_ARN),
            Allow
        );
        assert_eq!(evaluate(&p, "ec2:StartInstances", "*"), Allow);
        assert_eq!(evaluate(&p, "ssm:SendCommand", INSTANCE_ARN), Allow);
        assert_eq!(evaluate(&p, "tag:GetResources", "*"), Allow);
        assert_eq!(evaluate(&p, "ssm:DeleteActivation", "*"), ImplicitDeny);
        assert_eq!(evaluate(&p, "ec2:StopInstances", "*"), ImplicitDeny);
        assert_eq!(
            evaluate(&p, "ssm:DescribeInstanceInformationX", "*"),
            ImplicitDeny
        );
    }

    #[test]
    fn no_policies_is_implicit_deny() {
        assert_eq!(
            evaluate::<PolicyDocument>(&[], "ssm:ListCommands", "*"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn explicit_deny_beats_allow() {
        let allow_all = statement(json!({ "Effect": "Allow", "Action": "*", "Resource": "*" }));
        let deny = statement(json!({
            "Effect": "Deny", "Action": "ssm:DeleteActivation", "Resource": "*"
        }));
        // Across documents, in either order.
        for policies in [[allow_all.clone(), deny.clone()], [deny, allow_all.clone()]] {
            assert_eq!(
                evaluate(&policies, "ssm:DeleteActivation", "*"),
                Decision::ExplicitDeny
            );
            assert_eq!(
                evaluate(&policies, "ssm:ListCommands", "*"),
                Decision::Allow
            );
        }
        // Within one document, Deny listed last.
        let both = doc(json!({ "Statement": [
            { "Effect": "Allow", "Action": "ssm:*", "Resource": "*" },
            { "Effect": "Deny", "Action": "ssm:Send*", "Resource": INSTANCE_ARN },
        ]}));
        assert_eq!(
            eval1(&both, "ssm:SendCommand", INSTANCE_ARN),
            Decision::ExplicitDeny
        );
        assert_eq!(eval1(&both, "ssm:SendCommand", "*"), Decision::Allow);
        // A Deny with nothing to override is still explicit, not implicit.
        let deny_all = statement(json!({ "Effect": "Deny", "Action": "*", "Resource": "*" }));
        assert_eq!(eval1(&deny_all, "x:y", "*"), Decision::ExplicitDeny);
    }

    #[test]
    fn action_wildcards() {
        let p = statement(json!({ "Effect": "Allow", "Action": "ssm:Describe*", "Resource": "*" }));
        assert_eq!(
            eval1(&p, "ssm:DescribeInstanceInformation", "*"),
            Decision::Allow
        );
        assert_eq!(eval1(&p, "ssm:DescribeDocument", "*"), Decision::Allow);
        assert_eq!(eval1(&p, "ssm:Describe", "*"), Decision::Allow);
        assert_eq!(eval1(&p, "ssm:GetParameters", "*"), Decision::ImplicitDeny);
        assert_eq!(eval1(&p, "ssm:ListDescribe", "*"), Decision::ImplicitDeny);
        assert_eq!(
            eval1(&p, "ec2:DescribeInstances", "*"),
            Decision::ImplicitDeny
        );

        let q =
            statement(json!({ "Effect": "Allow", "Action": "ssm:Get?arameter", "Resource": "*" }));
        assert_eq!(eval1(&q, "ssm:GetParameter", "*"), Decision::Allow);
        assert_eq!(eval1(&q, "ssm:GetParameters", "*"), Decision::ImplicitDeny);
        assert_eq!(eval1(&q, "ssm:Getarameter", "*"), Decision::ImplicitDeny);

        let any_service =
            statement(json!({ "Effect": "Allow", "Action": "*:List*", "Resource": "*" }));
        assert_eq!(eval1(&any_service, "ec2:ListThings", "*"), Decision::Allow);
        assert_eq!(
            eval1(&any_service, "ssm:GetThings", "*"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn action_matching_is_case_insensitive() {
        let p = statement(json!({ "Effect": "Allow", "Action": "ssm:describe*", "Resource": "*" }));
        assert_eq!(
            eval1(&p, "ssm:DescribeInstanceInformation", "*"),
            Decision::Allow
        );
        assert_eq!(eval1(&p, "SSM:DESCRIBEDOCUMENT", "*"), Decision::Allow);
        let q =
            statement(json!({ "Effect": "Allow", "Action": "SSM:SendCommand", "Resource": "*" }));
        assert_eq!(eval1(&q, "ssm:sendcommand", "*"), Decision::Allow);
    }

    #[test]
    fn not_action() {
        let allow = statement(json!({
            "Effect": "Allow", "NotAction": ["ssm:Delete*", "iam:*"], "Resource": "*"
        }));
        assert_eq!(
            eval1(&allow, "ssm:DescribeInstanceInformation", "*"),
            Decision::Allow
        );
        assert_eq!(eval1(&allow, "ec2:StartInstances", "*"), Decision::Allow);
        assert_eq!(
            eval1(&allow, "ssm:DeleteActivation", "*"),
            Decision::ImplicitDeny
        );
        assert_eq!(eval1(&allow, "iam:CreateUser", "*"), Decision::ImplicitDeny);

        let deny = statement(json!({ "Effect": "Deny", "NotAction": "ssm:Get*", "Resource": "*" }));
        let policies = [allow, deny];
        assert_eq!(
            evaluate(&policies, "ssm:GetParameters", "*"),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&policies, "ssm:SendCommand", "*"),
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn not_resource() {
        let p = statement(json!({
            "Effect": "Allow",
            "Action": "ssm:SendCommand",
            "NotResource": "arn:aws:ssm:*:*:managed-instance/mi-0123456789abcdef0"
        }));
        assert_eq!(
            eval1(&p, "ssm:SendCommand", INSTANCE_ARN),
            Decision::ImplicitDeny
        );
        assert_eq!(
            eval1(
                &p,
                "ssm:SendCommand",
                "arn:aws:ssm:us-east-1:000000000000:managed-instance/mi-ffffffffffffffff0"
            ),
            Decision::Allow
        );
        assert_eq!(eval1(&p, "ssm:SendCommand", "*"), Decision::Allow);

        let never = statement(json!({ "Effect": "Deny", "Action": "*", "NotResource": "*" }));
        assert_eq!(
            eval1(&never, "ssm:SendCommand", INSTANCE_ARN),
            Decision::ImplicitDeny
        );
        assert_eq!(
            eval1(&never, "ssm:SendCommand", "*"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn resource_arn_wildcards() {
        let p = statement(json!({
            "Effect": "Allow",
            "Action": "ssm:SendCommand",
            "Resource": ["arn:aws:ssm:*:*:managed-instance/mi-*"]
        }));
        assert_eq!(eval1(&p, "ssm:SendCommand", INSTANCE_ARN), Decision::Allow);
        assert_eq!(
            eval1(
                &p,
                "ssm:SendCommand",
                "arn:aws:ssm:eu-west-1:111122223333:managed-instance/mi-1"
            ),
            Decision::Allow
        );
        assert_eq!(
            eval1(
                &p,
                "ssm:SendCommand",
                "arn:aws:ssm:us-east-1:000000000000:document/AWS-RunShellScript"
            ),
            Decision::ImplicitDeny
        );
        // Case-sensitive.
        assert_eq!(
            eval1(
                &p,
                "ssm:SendCommand",
                "arn:aws:ssm:us-east-1:000000000000:managed-instance/MI-1"
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            eval1(
                &p,
                "ssm:SendCommand",
                "ARN:aws:ssm:us-east-1:000000000000:managed-instance/mi-1"
            ),
            Decision::ImplicitDeny
        );
        // A specific pattern does not match the resource "*" (actions without resource-level
        // permissions), just like in AWS.
        assert_eq!(eval1(&p, "ssm:SendCommand", "*"), Decision::ImplicitDeny);

        // `*` spans `:` and `/`.
        let wide =
            statement(json!({ "Effect": "Allow", "Action": "ssm:*", "Resource": "arn:aws:ssm:*" }));
        assert_eq!(
            eval1(&wide, "ssm:SendCommand", INSTANCE_ARN),
            Decision::Allow
        );
        let q = statement(json!({
            "Effect": "Allow", "Action": "ssm:*",
            "Resource": "arn:aws:ssm:us-east-?:000000000000:managed-instance/*"
        }));
        assert_eq!(eval1(&q, "ssm:SendCommand", INSTANCE_ARN), Decision::Allow);
        assert_eq!(
            eval1(
                &q,
                "ssm:SendCommand",
                "arn:aws:ssm:us-east-10:000000000000:managed-instance/mi-1"
            ),
            Decision::ImplicitDeny
        );
        // "*" matches everything, including the resource "*".
        let star = statement(json!({ "Effect": "Allow", "Action": "ssm:*", "Resource": "*" }));
        assert_eq!(eval1(&star, "ssm:SendCommand", "*"), Decision::Allow);
        assert_eq!(
            eval1(&star, "ssm:SendCommand", INSTANCE_ARN),
            Decision::Allow
        );
        assert_eq!(eval1(&star, "ssm:SendCommand", ""), Decision::Allow);
    }

    #[test]
    fn condition_fails_closed() {
        let cond = json!({ "StringEquals": { "aws:ResourceTag/env": "dev" } });
        let allow = statement(json!({
            "Effect": "Allow", "Action": "ssm:*", "Resource": "*", "Condition": cond
        }));
        assert_eq!(
            eval1(&allow, "ssm:SendCommand", "*"),
            Decision::ImplicitDeny
        );

        let deny = statement(json!({
            "Effect": "Deny", "Action": "ssm:SendCommand", "Resource": "*", "Condition": cond
        }));
        let plain_allow =
            statement(json!({ "Effect": "Allow", "Action": "ssm:*", "Resource": "*" }));
        let policies = [plain_allow, deny];
        assert_eq!(
            evaluate(&policies, "ssm:SendCommand", INSTANCE_ARN),
            Decision::ExplicitDeny
        );
        // The conditional Deny still needs its action to match.
        assert_eq!(
            evaluate(&policies, "ssm:ListCommands", "*"),
            Decision::Allow
        );

        // An empty Condition object is no condition at all.
        let empty = statement(json!({
            "Effect": "Allow", "Action": "ssm:*", "Resource": "*", "Condition": {}
        }));
        assert_eq!(eval1(&empty, "ssm:SendCommand", "*"), Decision::Allow);
        // An operator with no keys is still a condition we cannot evaluate.
        let hollow = statement(json!({
            "Effect": "Allow", "Action": "ssm:*", "Resource": "*",
            "Condition": { "StringEquals": {} }
        }));
        assert_eq!(
            eval1(&hollow, "ssm:SendCommand", "*"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn statement_as_single_object() {
        let p = doc(json!({
            "Version": "2008-10-17",
            "Id": "single",
            "Statement": { "Sid": "One", "Effect": "Allow", "Action": "ssm:ListCommands", "Resource": "*" }
        }));
        assert_eq!(p.version(), Some("2008-10-17"));
        assert_eq!(p.id(), Some("single"));
        assert_eq!(p.sids().collect::<Vec<_>>(), vec![Some("One")]);
        assert_eq!(eval1(&p, "ssm:ListCommands", "*"), Decision::Allow);
        assert_eq!(eval1(&p, "ssm:SendCommand", "*"), Decision::ImplicitDeny);
    }

    #[test]
    fn accepted_shapes() {
        // No Version; Principal / NotPrincipal accepted and ignored; empty Statement list.
        let p = doc(json!({ "Statement": [
            { "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::1:root" }, "Action": "ssm:A", "Resource": "*" },
            { "Effect": "Allow", "NotPrincipal": "*", "Action": "ssm:B", "Resource": "*" },
        ]}));
        assert_eq!(p.version(), None);
        assert_eq!(eval1(&p, "ssm:A", "*"), Decision::Allow);
        assert_eq!(eval1(&p, "ssm:B", "*"), Decision::Allow);
        let empty = doc(json!({ "Statement": [] }));
        assert_eq!(eval1(&empty, "ssm:A", "*"), Decision::ImplicitDeny);
        let from_str: PolicyDocument = ARTICLE_POLICY.parse().unwrap();
        assert_eq!(from_str, PolicyDocument::parse(ARTICLE_POLICY).unwrap());
    }

    #[test]
    fn top_level_parse_errors() {
        assert!(matches!(
            PolicyDocument::parse("{ \"Statement\": [ "),
            Err(PolicyError::Json(_))
        ));
        assert!(matches!(
            PolicyDocument::parse("{} trailing"),
            Err(PolicyError::Json(_))
        ));
        assert!(matches!(parse_err(json!([])), PolicyError::NotAnObject));
        assert!(matches!(
            parse_err(json!("policy")),
            PolicyError::NotAnObject
        ));
        assert!(matches!(
            parse_err(json!({ "Statement": [], "Versoin": "2012-10-17" })),
            PolicyError::UnknownKey(k) if k == "Versoin"
        ));
        assert!(matches!(
            parse_err(json!({ "Version": "2012-10-18", "Statement": [] })),
            PolicyError::BadVersion(v) if v == "\"2012-10-18\""
        ));
        assert!(matches!(
            parse_err(json!({ "Version": 2012, "Statement": [] })),
            PolicyError::BadVersion(v) if v == "2012"
        ));
        assert!(matches!(
            parse_err(json!({ "Id": 7, "Statement": [] })),
            PolicyError::BadId
        ));
        assert!(matches!(
            parse_err(json!({ "Version": "2012-10-17" })),
            PolicyError::MissingStatement
        ));
        assert!(matches!(
            parse_err(json!({ "Statement": "Allow everything" })),
            PolicyError::BadStatement
        ));
        assert!(matches!(
            parse_err(json!({ "Statement": null })),
            PolicyError::BadStatement
        ));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let text = r#"{"Statement": {"Effect": "Deny", "Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
        let err = PolicyDocument::parse(text).unwrap_err();
        assert!(matches!(err, PolicyError::Json(_)));
        let msg = err.to_string();
        assert!(msg.contains("duplicate key \"Effect\""), "{msg}");
        assert!(msg.contains("line 1"), "{msg}");
        let top = r#"{"Statement": [], "Statement": []}"#;
        assert!(matches!(
            PolicyDocument::parse(top),
            Err(PolicyError::Json(_))
        ));
    }

    #[test]
    fn statement_errors_identify_the_statement() {
        let err = parse_err(json!({ "Statement": [
            { "Effect": "Allow", "Action": "ssm:A", "Resource": "*" },
            { "Sid": "Bad", "Effect": "Allow", "Action": "ssm:A", "Resource": "*", "Resources": "*" },
        ]}));
        match &err {
            PolicyError::InStatement { index, sid, error } => {
                assert_eq!(*index, 1);
                assert_eq!(sid.as_deref(), Some("Bad"));
                assert_eq!(*error, StatementError::UnknownKey("Resources".into()));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "statement 1 (Sid \"Bad\"): unknown key \"Resources\""
        );

        let err = parse_err(json!({ "Statement": [
            { "Effect": "Allow", "Action": "ssm:A", "Resource": "*" }, 42
        ]}));
        assert!(matches!(
            err,
            PolicyError::InStatement {
                index: 1,
                sid: None,
                error: StatementError::NotAnObject
            }
        ));

        let err = parse_err(json!({ "Statement": { "Effect": "Allow", "Action": "ssm:A" } }));
        assert_eq!(
            err.to_string(),
            "statement 0: needs exactly one of Resource or NotResource, found neither"
        );
    }

    #[test]
    fn statement_field_errors() {
        use StatementError as E;
        let base = |extra: serde_json::Value| {
            let mut s = json!({ "Effect": "Allow", "Action": "ssm:A", "Resource": "*" });
            for (k, v) in extra.as_object().unwrap() {
                if v.is_null() {
                    s.as_object_mut().unwrap().remove(k);
                } else {
                    s[k] = v.clone();
                }
            }
            stmt_err(s)
        };
        let wrong = |field: &str, expected| E::WrongType {
            field: field.into(),
            expected,
        };

        assert_eq!(base(json!({ "Sid": 1 })), wrong("Sid", "a string"));
        assert_eq!(base(json!({ "Effect": null })), E::Missing("Effect"));
        assert_eq!(
            base(json!({ "Effect": "allow" })),
            E::BadEffect("allow".into())
        );
        assert_eq!(base(json!({ "Effect": true })), wrong("Effect", "a string"));
        assert_eq!(
            base(json!({ "Action": null })),
            E::MissingEither("Action", "NotAction")
        );
        assert_eq!(
            base(json!({ "NotAction": "ssm:B" })),
            E::Both("Action", "NotAction")
        );
        assert_eq!(
            base(json!({ "Resource": null })),
            E::MissingEither("Resource", "NotResource")
        );
        assert_eq!(
            base(json!({ "NotResource": "*" })),
            E::Both("Resource", "NotResource")
        );
        assert_eq!(
            base(json!({ "Action": 5 })),
            wrong("Action", "a string or an array of strings")
        );
        assert_eq!(
            base(json!({ "Resource": { "arn": "*" } })),
            wrong("Resource", "a string or an array of strings")
        );
        assert_eq!(
            base(json!({ "Action": ["ssm:A", 5] })),
            wrong("Action[1]", "a string")
        );
        assert_eq!(
            base(json!({ "Action": null, "NotAction": ["ssm:A", "ssm:B", null] })),
            wrong("NotAction[2]", "a string")
        );
        assert_eq!(base(json!({ "Action": [] })), E::EmptyList("Action"));
        assert_eq!(
            base(json!({ "Resource": null, "NotResource": [] })),
            E::EmptyList("NotResource")
        );
        assert_eq!(
            base(json!({ "Action": ["ssm:A", "DescribeInstanceInformation"] })),
            E::ActionWithoutColon {
                field: "Action",
                pattern: "DescribeInstanceInformation".into()
            }
        );
        assert_eq!(
            base(json!({ "Action": null, "NotAction": "ssm*" })),
            E::ActionWithoutColon {
                field: "NotAction",
                pattern: "ssm*".into()
            }
        );
        assert_eq!(
            base(json!({ "Action": "" })),
            E::ActionWithoutColon {
                field: "Action",
                pattern: String::new()
            }
        );
        assert_eq!(base(json!({ "Resource": "" })), E::EmptyPattern("Resource"));
        assert_eq!(
            base(json!({ "Condition": "true" })),
            wrong("Condition", "an object")
        );
        assert_eq!(
            base(json!({ "Condition": { "Bool": "true" } })),
            wrong("Condition.Bool", "an object")
        );
        assert_eq!(
            base(json!({ "effect": "Allow" })),
            E::UnknownKey("effect".into())
        );
        assert_eq!(
            base(json!({ "Action": ["ssm:A", "x"] })).to_string(),
            "Action pattern \"x\" must be \"*\" or look like service:Name"
        );
    }

    #[test]
    fn glob_basics() {
        let m = |p: &str, t: &str| {
            glob_match(
                &p.chars().collect::<Vec<_>>(),
                &t.chars().collect::<Vec<_>>(),
            )
        };
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("*", ""));
        assert!(m("**", "abc"));
        assert!(m("a*c", "abbbc"));
        assert!(m("a*c", "ac"));
        assert!(!m("a*c", "acb"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(m("*b", "bbb"));
        assert!(m("?", "é"));
        assert!(!m("?", ""));
        assert!(!m("??", "a"));
        assert!(m("a?c*", "abcdef"));
        assert!(!m("abc", "ab"));
        assert!(!m("ab", "abc"));
    }

    #[test]
    fn glob_has_no_exponential_backtracking() {
        let text: Vec<char> = "a".repeat(20_000).chars().collect();
        let pattern: Vec<char> = format!("{}b", "a*".repeat(50)).chars().collect();
        let started = std::time::Instant::now();
        assert!(!glob_match(&pattern, &text));
        let mut ok = pattern.clone();
        ok.pop();
        assert!(glob_match(&ok, &text));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// Obviously correct (dynamic-programming) reference matcher.
    fn reference_glob(p: &[char], t: &[char]) -> bool {
        let mut dp = vec![vec![false; t.len() + 1]; p.len() + 1];
        dp[p.len()][t.len()] = true;
        for i in (0..p.len()).rev() {
            for j in (0..=t.len()).rev() {
                dp[i][j] = match p[i] {
                    '*' => dp[i + 1][j] || (j < t.len() && dp[i][j + 1]),
                    c => j < t.len() && (c == '?' || c == t[j]) && dp[i + 1][j + 1],
                };
            }
        }
        dp[0][0]
    }

    fn allow_json(action: &str, resource: &str) -> PolicyDocument {
        statement(json!({ "Effect": "Allow", "Action": action, "Resource": resource }))
    }

    proptest! {
        #[test]
        fn star_matches_any_action_and_resource(action in any::<String>(), resource in any::<String>()) {
            let p = allow_json("*", "*");
            prop_assert_eq!(eval1(&p, &action, &resource), Decision::Allow);
            let deny = statement(json!({ "Effect": "Deny", "Action": "*", "Resource": "*" }));
            prop_assert_eq!(eval1(&deny, &action, &resource), Decision::ExplicitDeny);
        }

        #[test]
        fn literal_pattern_matches_itself(
            service in "\\PC*",
            name in "\\PC*",
            resource in "\\PC+",
        ) {
            let action = format!("{service}:{name}");
            let p = allow_json(&action, &resource);
            prop_assert_eq!(eval1(&p, &action, &resource), Decision::Allow);
            prop_assert_eq!(eval1(&p, &action.to_ascii_uppercase(), &resource), Decision::Allow);
        }

        #[test]
        fn literal_arn_like_pattern_matches_itself(
            region in "[a-z0-9-]{0,12}",
            account in "[0-9]{12}",
            id in "[a-zA-Z0-9*?/:-]{1,20}",
        ) {
            let arn = format!("arn:aws:ssm:{region}:{account}:managed-instance/{id}");
            let p = allow_json("ssm:SendCommand", &arn);
            prop_assert_eq!(eval1(&p, "ssm:SendCommand", &arn), Decision::Allow);
        }

        #[test]
        fn glob_agrees_with_reference(p in "[ab*?]{0,10}", t in "[ab*?]{0,12}") {
            let p: Vec<char> = p.chars().collect();
            let t: Vec<char> = t.chars().collect();
            prop_assert_eq!(glob_match(&p, &t), reference_glob(&p, &t));
        }
    }
}
