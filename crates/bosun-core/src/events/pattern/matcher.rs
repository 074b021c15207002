//! What one entry of a pattern's value list accepts, tested against one leaf value of the
//! event (a string, number, boolean or null; objects and arrays are never leaves).

use super::cidr::{parse_ip, IpKey, IpRange};
use super::wildcard::Wildcard;
use serde_json::{Number, Value};

/// A leaf of the event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Leaf<'a> {
    Str(&'a str),
    Num(&'a Number),
    Bool(bool),
    Null,
}

impl<'a> Leaf<'a> {
    /// The leaf for a scalar value; `None` for objects and arrays.
    pub(crate) fn of(value: &'a Value) -> Option<Self> {
        Some(match value {
            Value::String(s) => Leaf::Str(s),
            Value::Number(n) => Leaf::Num(n),
            Value::Bool(b) => Leaf::Bool(*b),
            Value::Null => Leaf::Null,
            Value::Array(_) | Value::Object(_) => return None,
        })
    }
}

/// A number of the pattern, compared by value (`300` equals `300.0`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PatternNumber {
    float: f64,
    integer: Option<i128>,
}

impl PatternNumber {
    pub(crate) fn new(n: &Number) -> Self {
        PatternNumber {
            float: n.as_f64().unwrap_or(f64::NAN),
            integer: integer_of(n),
        }
    }

    fn equals(&self, n: &Number) -> bool {
        match (self.integer, integer_of(n)) {
            (Some(a), Some(b)) => a == b,
            _ => n.as_f64() == Some(self.float),
        }
    }
}

fn integer_of(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// Bounds of a `numeric` range; each bound is (value, inclusive).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumericRange {
    pub lower: Option<(f64, bool)>,
    pub upper: Option<(f64, bool)>,
}

impl NumericRange {
    fn contains(&self, x: f64) -> bool {
        let above = match self.lower {
            Some((b, true)) => x >= b,
            Some((b, false)) => x > b,
            None => true,
        };
        let below = match self.upper {
            Some((b, true)) => x <= b,
            Some((b, false)) => x < b,
            None => true,
        };
        above && below
    }
}

/// The values an `anything-but` excludes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Excluded {
    Strings(Vec<String>),
    Numbers(Vec<PatternNumber>),
    /// Lower-cased.
    StringsIgnoringCase(Vec<String>),
    Prefixes(Vec<String>),
    Suffixes(Vec<String>),
    Wildcards(Vec<Wildcard>),
}

/// One entry of a pattern's value list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueMatcher {
    String(String),
    /// A string value that is an IP literal: any spelling of the same address matches.
    Ip(IpKey),
    Number(PatternNumber),
    Bool(bool),
    Null,
    Prefix(String),
    /// Lower-cased.
    PrefixIgnoringCase(String),
    Suffix(String),
    /// Lower-cased.
    SuffixIgnoringCase(String),
    /// Lower-cased.
    EqualsIgnoringCase(String),
    Wildcard(Wildcard),
    Numeric(NumericRange),
    Cidr(IpRange),
    /// `{"exists": true}`: any leaf at the path.
    Exists,
    /// `{"exists": false}`: no leaf at the path (decided by the caller, never by a leaf).
    Absent,
    AnythingBut(Excluded),
}

/// Case-insensitive equality without allocating.
fn eq_ignoring_case(value: &str, lowered: &str) -> bool {
    value
        .chars()
        .flat_map(char::to_lowercase)
        .eq(lowered.chars())
}

fn starts_ignoring_case(value: &str, lowered_prefix: &str) -> bool {
    let mut v = value.chars().flat_map(char::to_lowercase);
    lowered_prefix.chars().all(|p| v.next() == Some(p))
}

fn ends_ignoring_case(value: &str, lowered_suffix: &str) -> bool {
    value.to_lowercase().ends_with(lowered_suffix)
}

impl ValueMatcher {
    /// Whether this entry accepts the leaf.
    pub(crate) fn accepts(&self, leaf: Leaf) -> bool {
        use ValueMatcher as M;
        match (self, leaf) {
            (M::Exists, _) => true,
            (M::Absent, _) => false,
            (M::String(s), Leaf::Str(v)) => s == v,
            (M::Ip(ip), Leaf::Str(v)) => parse_ip(v).as_ref() == Some(ip),
            (M::Number(n), Leaf::Num(v)) => n.equals(v),
            (M::Bool(b), Leaf::Bool(v)) => *b == v,
            (M::Null, Leaf::Null) => true,
            (M::Prefix(p), Leaf::Str(v)) => v.starts_with(p.as_str()),
            (M::PrefixIgnoringCase(p), Leaf::Str(v)) => starts_ignoring_case(v, p),
            (M::Suffix(s), Leaf::Str(v)) => v.ends_with(s.as_str()),
            (M::SuffixIgnoringCase(s), Leaf::Str(v)) => ends_ignoring_case(v, s),
            (M::EqualsIgnoringCase(s), Leaf::Str(v)) => eq_ignoring_case(v, s),
            (M::Wildcard(w), Leaf::Str(v)) => w.matches(v),
            (M::Numeric(r), Leaf::Num(v)) => v.as_f64().is_some_and(|x| r.contains(x)),
            (M::Cidr(r), Leaf::Str(v)) => parse_ip(v).is_some_and(|ip| r.contains(&ip)),
            (M::AnythingBut(excluded), leaf) => !excluded.contains(leaf),
            _ => false,
        }
    }
}

impl Excluded {
    /// Whether the leaf is one of the excluded values. Only strings can be excluded by the
    /// string forms and only numbers by the number form, so `null`, booleans and values of
    /// the other type always pass an `anything-but`.
    fn contains(&self, leaf: Leaf) -> bool {
        match (self, leaf) {
            (Excluded::Strings(list), Leaf::Str(v)) => list.iter().any(|s| s == v),
            (Excluded::Numbers(list), Leaf::Num(v)) => list.iter().any(|n| n.equals(v)),
            (Excluded::StringsIgnoringCase(list), Leaf::Str(v)) => {
                list.iter().any(|s| eq_ignoring_case(v, s))
            }
            (Excluded::Prefixes(list), Leaf::Str(v)) => {
                list.iter().any(|p| v.starts_with(p.as_str()))
            }
            (Excluded::Suffixes(list), Leaf::Str(v)) => {
                list.iter().any(|s| v.ends_with(s.as_str()))
            }
            (Excluded::Wildcards(list), Leaf::Str(v)) => list.iter().any(|w| w.matches(v)),
            _ => false,
        }
    }
}
