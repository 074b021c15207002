//! `{{ … }}` in step inputs, resolved against a [`Context`] (reference §7.4, user guide
//! "Running automations with outputs"/"Variables in runbooks"):
//!
//! - `{{ name }}` (whitespace inside the braces optional): a parameter;
//!   `{{ step.Output }}`: an output of an earlier step; `{{global:ACCOUNT_ID}}`,
//!   `{{global:REGION}}`, `{{global:AWS_PARTITION}}`, `{{global:DATE}}` (`yyyy-MM-dd`),
//!   `{{global:DATE_TIME}}` (`yyyy-MM-dd_HH.mm.ss`), both UTC; `{{automation:EXECUTION_ID}}`.
//! - A string that is exactly one reference takes the value's type (a StringList stays a list,
//!   an Integer a number). An array element that is exactly one reference to a list is spliced
//!   into the array, as the agent splices `["{{ commands }}"]` (reference §7.4), so
//!   `InstanceIds: ["{{ InstanceIds }}"]` is a flat list of ids.
//! - A reference inside longer text is rendered as text: a string verbatim, anything else
//!   (numbers, booleans, lists, maps) as compact JSON (`["a","b"]`), as Bosun's Command
//!   documents do (the SSM Agent's `agent/parameters` rule).
//! - An unknown parameter, step output, `global:` or `automation:` name is an error naming it,
//!   and so is a runbook variable (`{{ variable:… }}`), which Bosun does not support.
//!   `{{ssm:…}}`/`{{ssm-secure:…}}` are left as they are (the server resolves them), and so is
//!   `{{ … }}` text that is not reference-shaped (Go templates such as `{{.State}}`).
//! - Values are not scanned again; only strings inside objects and arrays are interpolated, not
//!   object keys.

use serde_json::Value;

use super::{Context, InterpolateError};

/// Substitute every `{{ … }}` in `inputs`. A string that is exactly one reference takes the
/// referenced value's type (a list stays a list); references inside longer strings are
/// rendered as text.
pub fn interpolate(inputs: &Value, ctx: &Context) -> Result<Value, InterpolateError> {
    Ok(match inputs {
        Value::String(s) => string(s, ctx)?,
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let whole = item.as_str().is_some_and(|s| whole_reference(s).is_some());
                match interpolate(item, ctx)? {
                    Value::Array(spliced) if whole => out.extend(spliced),
                    v => out.push(v),
                }
            }
            Value::Array(out)
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), interpolate(v, ctx)?)))
                .collect::<Result<_, InterpolateError>>()?,
        ),
        other => other.clone(),
    })
}

/// A `{{ … }}` occurrence: byte range and trimmed inner text.
struct Reference<'t> {
    start: usize,
    end: usize,
    inner: &'t str,
}

/// Every `{{ … }}` in `text`, left to right (an unclosed `{{` ends the scan).
fn references(text: &str) -> Vec<Reference<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        out.push(Reference {
            start: open,
            end: close + 2,
            inner: text[open + 2..close].trim(),
        });
        from = close + 2;
    }
    out
}

/// The inner text when `text` is exactly one reference.
fn whole_reference(text: &str) -> Option<&str> {
    match references(text).as_slice() {
        [only] if only.start == 0 && only.end == text.len() => Some(only.inner),
        _ => None,
    }
}

fn word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The value of a reference; `None` for text Bosun leaves alone.
fn lookup(inner: &str, ctx: &Context) -> Result<Option<Value>, InterpolateError> {
    let unknown = |what: &str| Err(InterpolateError(format!("{what} {{{{ {inner} }}}}.")));
    if inner.starts_with("ssm:") || inner.starts_with("ssm-secure:") {
        return Ok(None);
    }
    if let Some(name) = inner.strip_prefix("global:") {
        let v = match name {
            "ACCOUNT_ID" => ctx.account_id.clone(),
            "REGION" => ctx.region.clone(),
            "AWS_PARTITION" => ctx.partition.clone(),
            "DATE" => ctx.now.strftime("%Y-%m-%d").to_string(),
            "DATE_TIME" => ctx.now.strftime("%Y-%m-%d_%H.%M.%S").to_string(),
            _ => return unknown("Unknown global variable"),
        };
        return Ok(Some(Value::String(v)));
    }
    if inner.starts_with("variable:") {
        return unknown("Bosun does not support runbook variables:");
    }
    if let Some(name) = inner.strip_prefix("automation:") {
        return match name {
            "EXECUTION_ID" => Ok(Some(Value::String(ctx.execution_id.clone()))),
            _ => unknown("Unknown automation variable"),
        };
    }
    if word(inner) {
        return match ctx.parameters.get(inner) {
            Some(v) => Ok(Some(v.clone())),
            None => unknown("The runbook references the undeclared parameter"),
        };
    }
    if let Some((step, output)) = inner.split_once('.') {
        if word(step) && word(output) {
            return match ctx.step_outputs.get(inner) {
                Some(v) => Ok(Some(v.clone())),
                None => unknown("No output of an earlier step answers"),
            };
        }
    }
    Ok(None)
}

/// A value as text inside a longer string.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn string(text: &str, ctx: &Context) -> Result<Value, InterpolateError> {
    if let Some(inner) = whole_reference(text) {
        if let Some(v) = lookup(inner, ctx)? {
            return Ok(v);
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in references(text) {
        let Some(v) = lookup(r.inner, ctx)? else {
            continue;
        };
        out.push_str(&text[last..r.start]);
        out.push_str(&text_of(&v));
        last = r.end;
    }
    out.push_str(&text[last..]);
    Ok(Value::String(out))
}
