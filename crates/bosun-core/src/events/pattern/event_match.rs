//! Matching compiled branches against an event in place. Keys are joined with `.`, so an event
//! key `"a.b"` and nested keys `a` → `b` are the same path; a value list matches an array if any
//! element matches; fields matched inside arrays of objects must come from the same element
//! of each array they share (`{"a":[{"x":1,"y":2},{"x":3,"y":4}]}` does not match x=1, y=4).

use super::compile::{Branch, FieldCondition};
use super::matcher::{Leaf, ValueMatcher};
use serde_json::{Map, Value};

/// The arrays a leaf sits in, outermost first: (array identity, element index).
type Trail = Vec<(usize, usize)>;

/// Whether any branch holds for the event (an event that is not an object matches nothing).
pub(crate) fn any_branch_matches(branches: &[Branch], event: &Value) -> bool {
    let Value::Object(root) = event else {
        return false;
    };
    branches.iter().any(|branch| branch_matches(branch, root))
}

enum FieldOutcome {
    Failed,
    /// Satisfied without binding any array element.
    Free,
    /// Satisfied only by leaves inside arrays.
    InArrays,
}

fn branch_matches(branch: &Branch, root: &Map<String, Value>) -> bool {
    let mut in_arrays: Vec<&FieldCondition> = Vec::new();
    for condition in branch {
        match field_outcome(condition, root) {
            FieldOutcome::Failed => return false,
            FieldOutcome::Free => {}
            FieldOutcome::InArrays => in_arrays.push(condition),
        }
    }
    if in_arrays.len() < 2 {
        return true;
    }
    let candidates: Vec<Vec<Trail>> = in_arrays
        .iter()
        .map(|condition| matching_trails(condition, root))
        .collect();
    choose_consistent(&candidates, &mut Vec::new())
}

fn field_outcome(condition: &FieldCondition, root: &Map<String, Value>) -> FieldOutcome {
    let absent_ok = condition.matchers.contains(&ValueMatcher::Absent);
    let (mut any_leaf, mut in_arrays, mut free) = (false, false, false);
    let mut trail = Trail::new();
    walk_object(root, &condition.path, &mut trail, &mut |leaf, trail| {
        any_leaf = true;
        if condition.matchers.iter().any(|m| m.accepts(leaf)) {
            if trail.is_empty() {
                free = true;
                return true;
            }
            in_arrays = true;
        }
        false
    });
    match (free, in_arrays, any_leaf) {
        (true, _, _) => FieldOutcome::Free,
        (false, true, _) => FieldOutcome::InArrays,
        (false, false, false) if absent_ok => FieldOutcome::Free,
        _ => FieldOutcome::Failed,
    }
}

fn matching_trails(condition: &FieldCondition, root: &Map<String, Value>) -> Vec<Trail> {
    let mut found = Vec::new();
    let mut trail = Trail::new();
    walk_object(root, &condition.path, &mut trail, &mut |leaf, trail| {
        if condition.matchers.iter().any(|m| m.accepts(leaf)) {
            found.push(trail.to_vec());
        }
        false
    });
    found
}

/// Two leaves agree when every array they both sit in gives them the same element.
fn consistent(a: &[(usize, usize)], b: &[(usize, usize)]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x.0 != y.0 {
            return true;
        }
        if x.1 != y.1 {
            return false;
        }
    }
    true
}

fn choose_consistent<'a>(candidates: &'a [Vec<Trail>], chosen: &mut Vec<&'a Trail>) -> bool {
    let Some((field, rest)) = candidates.split_first() else {
        return true;
    };
    for trail in field {
        if chosen.iter().all(|other| consistent(trail, other)) {
            chosen.push(trail);
            if choose_consistent(rest, chosen) {
                return true;
            }
            chosen.pop();
        }
    }
    false
}

type Visit<'v, 'e> = dyn FnMut(Leaf<'e>, &[(usize, usize)]) -> bool + 'v;

/// Visits the leaves at the dotted `path` under an object; returns true once `visit` asks to
/// stop. Every split of the path at a dot is tried, since event keys may contain dots.
fn walk_object<'e>(
    object: &'e Map<String, Value>,
    path: &str,
    trail: &mut Trail,
    visit: &mut Visit<'_, 'e>,
) -> bool {
    if let Some(value) = object.get(path) {
        if visit_terminal(value, trail, visit) {
            return true;
        }
    }
    for (dot, _) in path.match_indices('.') {
        if let Some(value) = object.get(&path[..dot]) {
            if descend(value, &path[dot + 1..], trail, visit) {
                return true;
            }
        }
    }
    false
}

fn array_identity(items: &[Value]) -> usize {
    items.as_ptr() as usize
}

fn descend<'e>(value: &'e Value, rest: &str, trail: &mut Trail, visit: &mut Visit<'_, 'e>) -> bool {
    match value {
        Value::Object(object) => walk_object(object, rest, trail, visit),
        Value::Array(items) => {
            let id = array_identity(items);
            for (index, item) in items.iter().enumerate() {
                trail.push((id, index));
                let stop = descend(item, rest, trail, visit);
                trail.pop();
                if stop {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

fn visit_terminal<'e>(value: &'e Value, trail: &mut Trail, visit: &mut Visit<'_, 'e>) -> bool {
    match value {
        Value::Array(items) => {
            let id = array_identity(items);
            for (index, item) in items.iter().enumerate() {
                trail.push((id, index));
                let stop = visit_terminal(item, trail, visit);
                trail.pop();
                if stop {
                    return true;
                }
            }
            false
        }
        Value::Object(_) => false,
        scalar => Leaf::of(scalar).is_some_and(|leaf| visit(leaf, trail)),
    }
}
