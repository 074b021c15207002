//! Properties of the pattern language over generated patterns and events.

use super::wildcard::Wildcard;
use super::EventPattern;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// A plain recursive glob matcher to check the fast one against.
fn reference_glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| reference_glob(rest, &text[i..])),
        Some((c, rest)) => text.first() == Some(c) && reference_glob(rest, &text[1..]),
    }
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-c0-9:./ -]{0,6}".prop_map(Value::from),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z$-]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn object_of(inner: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop::collection::btree_map("[a-z]{1,3}", inner, 1..4)
        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
        .boxed()
}

/// Events of nested objects whose leaves are scalars or non-empty lists of scalars.
fn event() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        3 => scalar(),
        1 => prop::collection::vec(scalar(), 1..4).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, object_of)
        .prop_flat_map(|v| object_of(Just(v).boxed()))
}

/// The pattern that asks for exactly the event's own values.
fn pattern_of(event: &Value) -> Value {
    match event {
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), pattern_of(v))).collect())
        }
        Value::Array(items) => Value::Array(items.clone()),
        scalar => json!([scalar]),
    }
}

proptest! {
    #[test]
    fn wildcards_agree_with_a_reference_matcher(pattern in r"(\*?[ab]){0,5}\*?", text in "[ab]{0,10}") {
        if let Ok(w) = Wildcard::parse(&pattern) {
            prop_assert_eq!(w.matches(&text), reference_glob(pattern.as_bytes(), text.as_bytes()));
        }
    }

    #[test]
    fn any_json_either_compiles_or_is_refused_and_never_panics(pattern in any_json(), event in any_json()) {
        if let Ok(p) = EventPattern::parse(&pattern.to_string()) {
            let _ = p.matches(&event);
        }
    }

    #[test]
    fn an_event_matches_the_pattern_of_its_own_values(event in event()) {
        // Events arrive as text: read numbers back the way the pattern's are read.
        let event: Value = serde_json::from_str(&event.to_string()).unwrap();
        let pattern = pattern_of(&event).to_string();
        let compiled = EventPattern::parse(&pattern).map_err(|e| TestCaseError::fail(format!("{pattern}: {e}")))?;
        prop_assert!(compiled.matches(&event), "{} vs {}", pattern, event);
    }

    #[test]
    fn anything_but_is_the_complement_of_exact_on_present_strings(value in "[a-c]{0,3}", excluded in "[a-c]{0,3}") {
        let event = json!({"k": value});
        let exact = EventPattern::parse(&json!({"k": [excluded]}).to_string()).unwrap();
        let but = EventPattern::parse(&json!({"k": [{"anything-but": excluded}]}).to_string()).unwrap();
        prop_assert_ne!(exact.matches(&event), but.matches(&event));
    }
}
