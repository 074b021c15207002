//! Validates a pattern and compiles it into branches: each branch is an AND of field
//! conditions, the branches are ORed (one per `$or` combination). The checks, their order and
//! their reasons follow AWS's `InvalidEventPatternException` messages.

use super::anything_but::parse_anything_but;
use super::cidr::{looks_like_ip, parse_cidr, parse_ip};
use super::json::Json;
use super::matcher::{NumericRange, PatternNumber, ValueMatcher};
use super::wildcard::Wildcard;
use std::sync::Arc;

/// The values one dotted path must have: any entry of `matchers` may accept a leaf.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldCondition {
    pub path: String,
    pub matchers: Arc<[ValueMatcher]>,
}

/// Conditions that must all hold.
pub(crate) type Branch = Vec<FieldCondition>;

/// More `$or` combinations than this are refused (a pattern is at most a few KB; this
/// guards against nested `$or`s multiplying out).
pub(crate) const MAX_BRANCHES: usize = 1024;

const OR: &str = "$or";
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

type Reason = String;

/// Compiles a parsed pattern, or gives the reason AWS would give for refusing it.
pub(crate) fn compile(root: &Json) -> Result<Vec<Branch>, Reason> {
    let Json::Obj(members) = root else {
        return Err("Filter is not an object".into());
    };
    let mut branches = Vec::new();
    let mut path = Vec::new();
    parse_object(&mut branches, &mut path, members, false)?;
    Ok(branches)
}

fn parse_object(
    branches: &mut Vec<Branch>,
    path: &mut Vec<String>,
    members: &[(String, Json)],
    inside_or: bool,
) -> Result<(), Reason> {
    if members.is_empty() {
        return Err("Empty objects are not allowed".into());
    }
    for (key, value) in members {
        if key == OR {
            parse_or(branches, path, value)?;
            continue;
        }
        if inside_or && RESERVED_IN_OR.contains(&key.as_str()) {
            return Err(format!(
                "{key} is Ruler reserved fieldName which cannot be used inside {OR}."
            ));
        }
        match value {
            Json::Obj(inner) => {
                path.push(key.clone());
                parse_object(branches, path, inner, inside_or)?;
                path.pop();
            }
            Json::Arr(items) => {
                let name = dotted(path, key);
                let matchers = parse_value_list(items)?;
                add_condition(branches, name, matchers);
            }
            _ => return Err(format!("\"{key}\" must be an object or an array")),
        }
    }
    Ok(())
}

fn dotted(path: &[String], key: &str) -> String {
    let mut name = String::new();
    for step in path {
        name.push_str(step);
        name.push('.');
    }
    name.push_str(key);
    name
}

/// Sets the path's condition on every branch; a repeated path replaces the earlier one.
fn add_condition(branches: &mut Vec<Branch>, path: String, matchers: Vec<ValueMatcher>) {
    if branches.is_empty() {
        branches.push(Vec::new());
    }
    let matchers: Arc<[ValueMatcher]> = matchers.into();
    for branch in branches.iter_mut() {
        match branch.iter_mut().find(|c| c.path == path) {
            Some(existing) => existing.matchers = matchers.clone(),
            None => branch.push(FieldCondition {
                path: path.clone(),
                matchers: matchers.clone(),
            }),
        }
    }
}

fn parse_or(
    branches: &mut Vec<Branch>,
    path: &mut Vec<String>,
    value: &Json,
) -> Result<(), Reason> {
    let before = std::mem::take(branches);
    let Json::Arr(alternatives) = value else {
        return Err(format!("It must be an Array followed with {OR}."));
    };
    for alternative in alternatives {
        let Json::Obj(members) = alternative else {
            return Err(format!(
                "Only JSON object is allowed in array of {OR} relationship."
            ));
        };
        let mut forked = before.clone();
        if forked.is_empty() {
            forked.push(Vec::new());
        }
        parse_object(&mut forked, path, members, true)?;
        branches.extend(forked);
        if branches.len() > MAX_BRANCHES {
            return Err(format!(
                "Too many {OR} combinations: at most {MAX_BRANCHES} are supported"
            ));
        }
    }
    if alternatives.len() < 2 {
        return Err(format!(
            "There must have at least 2 Objects in {OR} relationship."
        ));
    }
    Ok(())
}

fn parse_value_list(items: &[Json]) -> Result<Vec<ValueMatcher>, Reason> {
    let mut matchers = Vec::with_capacity(items.len());
    for item in items {
        matchers.push(match item {
            Json::Obj(members) => parse_match_expression(members)?,
            Json::Str(s) => match looks_like_ip(s).then(|| parse_ip(s)).flatten() {
                Some(ip) => ValueMatcher::Ip(ip),
                None => ValueMatcher::String(s.clone()),
            },
            Json::Num(n) => ValueMatcher::Number(PatternNumber::new(n)),
            Json::Bool(b) => ValueMatcher::Bool(*b),
            Json::Null => ValueMatcher::Null,
            Json::Arr(_) => {
                return Err("Match value must be String, number, true, false, or null".into())
            }
        });
    }
    if matchers.is_empty() {
        return Err("Empty arrays are not allowed".into());
    }
    Ok(matchers)
}

const ONLY_ONE_KEY: &str = "Only one key allowed in match expression";
pub(super) const TOO_MANY_NUMERIC: &str = "Too many elements in numeric expression";

fn string_or<'a>(value: &'a Json, reason: &str) -> Result<&'a str, Reason> {
    match value {
        Json::Str(s) => Ok(s),
        _ => Err(reason.into()),
    }
}

/// `{"<operator>": …}` inside a value list.
fn parse_match_expression(members: &[(String, Json)]) -> Result<ValueMatcher, Reason> {
    let Some((operator, value)) = members.first() else {
        return Err("Match expression name not found".into());
    };
    let single = |matcher: ValueMatcher, extra_reason: &str| {
        if members.len() > 1 {
            Err(Reason::from(extra_reason))
        } else {
            Ok(matcher)
        }
    };
    match operator.as_str() {
        "prefix" => {
            if let Json::Obj(inner) = value {
                let text = parse_ignore_case_modifier(inner, "Prefix", "prefix")?;
                return single(ValueMatcher::PrefixIgnoringCase(text), ONLY_ONE_KEY);
            }
            let text = string_or(value, "prefix match pattern must be a string")?;
            single(ValueMatcher::Prefix(text.into()), ONLY_ONE_KEY)
        }
        "suffix" => {
            if let Json::Obj(inner) = value {
                let text = parse_ignore_case_modifier(inner, "Suffix", "suffix")?;
                return single(ValueMatcher::SuffixIgnoringCase(text), ONLY_ONE_KEY);
            }
            let text = string_or(value, "suffix match pattern must be a string")?;
            single(ValueMatcher::Suffix(text.into()), ONLY_ONE_KEY)
        }
        "equals-ignore-case" => {
            let text = string_or(value, "equals-ignore-case match pattern must be a string")?;
            single(
                ValueMatcher::EqualsIgnoringCase(text.to_lowercase()),
                ONLY_ONE_KEY,
            )
        }
        "wildcard" => {
            let text = string_or(value, "wildcard match pattern must be a string")?;
            single(ValueMatcher::Wildcard(Wildcard::parse(text)?), ONLY_ONE_KEY)
        }
        "cidr" => {
            // AWS words this one as if it were a prefix.
            let text = string_or(value, "prefix match pattern must be a string")?;
            single(ValueMatcher::Cidr(parse_cidr(text)?), ONLY_ONE_KEY)
        }
        "exists" => {
            let matcher = match value {
                Json::Bool(true) => ValueMatcher::Exists,
                Json::Bool(false) => ValueMatcher::Absent,
                _ => return Err("exists match pattern must be either true or false.".into()),
            };
            single(matcher, ONLY_ONE_KEY)
        }
        "numeric" => {
            let Json::Arr(terms) = value else {
                return Err("Value of numeric must be an array.".into());
            };
            single(
                ValueMatcher::Numeric(parse_numeric(terms)?),
                TOO_MANY_NUMERIC,
            )
        }
        "anything-but" => single(parse_anything_but(value)?, TOO_MANY_NUMERIC),
        other => Err(format!("Unrecognized match type {other}")),
    }
}

/// `{"prefix": {"equals-ignore-case": "…"}}` and the suffix form; returns the lowered text.
fn parse_ignore_case_modifier(
    members: &[(String, Json)],
    capitalised: &str,
    operator: &str,
) -> Result<String, Reason> {
    let Some((name, value)) = members.first() else {
        return Err(format!("{capitalised} expression name not found"));
    };
    if name != "equals-ignore-case" {
        return Err(format!("Unsupported {operator} pattern: {name}"));
    }
    let text = string_or(value, "equals-ignore-case match pattern must be a string")?;
    if members.len() > 1 {
        return Err(ONLY_ONE_KEY.into());
    }
    Ok(text.to_lowercase())
}

fn number_of(term: Option<&Json>) -> Option<f64> {
    match term {
        Some(Json::Num(n)) => n.as_f64(),
        _ => None,
    }
}

fn parse_numeric(terms: &[Json]) -> Result<NumericRange, Reason> {
    let operator = match terms.first() {
        Some(Json::Str(op)) => op.as_str(),
        Some(other) => {
            return Err(format!(
                "Invalid member in numeric match: {}",
                other.token_text()
            ))
        }
        None => return Err("Invalid member in numeric match: ]".into()),
    };
    let value_reason = |op: &str| format!("Value of {op} must be numeric");
    let only = |range: NumericRange| {
        if terms.len() > 2 {
            Err(Reason::from(TOO_MANY_NUMERIC))
        } else {
            Ok(range)
        }
    };
    match operator {
        "=" => {
            let v = number_of(terms.get(1)).ok_or_else(|| value_reason("equals"))?;
            only(NumericRange {
                lower: Some((v, true)),
                upper: Some((v, true)),
            })
        }
        "<" | "<=" => {
            let v = number_of(terms.get(1)).ok_or_else(|| value_reason(operator))?;
            only(NumericRange {
                lower: None,
                upper: Some((v, operator == "<=")),
            })
        }
        ">" | ">=" => {
            let low = number_of(terms.get(1)).ok_or_else(|| value_reason(operator))?;
            let lower = Some((low, operator == ">="));
            let top_operator = match terms.get(2) {
                None => return Ok(NumericRange { lower, upper: None }),
                Some(Json::Str(op)) => op.as_str(),
                Some(other) => {
                    return Err(format!(
                        "Bad value in numeric range: {}",
                        other.token_text()
                    ))
                }
            };
            if top_operator != "<" && top_operator != "<=" {
                return Err(format!("Bad numeric range operator: {top_operator}"));
            }
            let high = number_of(terms.get(3)).ok_or_else(|| value_reason(top_operator))?;
            if terms.len() > 4 {
                return Err("Too many terms in numeric range expression".into());
            }
            Ok(NumericRange {
                lower,
                upper: Some((high, top_operator == "<=")),
            })
        }
        other => Err(format!("Unrecognized numeric range operator: {other}")),
    }
}
