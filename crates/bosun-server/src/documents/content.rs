//! The bridge between stored document text and the core document model: parse in the stored
//! format, validate for a document type, render in a requested format, and derive the facts the
//! API reports (parameters, platforms).

use bosun_core::document::CommandDocument;
use serde_json::{json, Value};

/// Largest document content AWS accepts (64 KB).
pub const MAX_CONTENT_BYTES: usize = 64 * 1024;

/// Why content was refused, by the AWS exception it maps to.
#[derive(Debug)]
pub enum ContentError {
    InvalidContent(String),
    InvalidSchemaVersion(String),
}

/// Parse content written in `format` (`JSON` or `YAML`; `TEXT` is kept as a string).
pub fn parse(content: &str, format: &str) -> Result<Value, ContentError> {
    match format {
        "JSON" => serde_json::from_str(content).map_err(|e| {
            ContentError::InvalidContent(format!("The content is not valid JSON: {e}"))
        }),
        "YAML" => Err(ContentError::InvalidContent(
            "YAML documents are not supported by this Bosun server yet; send JSON".into(),
        )),
        _ => Ok(Value::String(content.to_string())),
    }
}

/// Render a parsed document in `format`.
pub fn render(value: &Value, format: &str) -> Result<String, ContentError> {
    match format {
        "JSON" => Ok(serde_json::to_string_pretty(value).unwrap_or_default()),
        _ => Err(ContentError::InvalidContent(format!(
            "Converting documents to {format} is not supported yet."
        ))),
    }
}

/// What the API reports about a validated document.
#[derive(Debug, Clone)]
pub struct Facts {
    pub schema_version: String,
    pub description: String,
    pub parameters: Vec<Value>,
    pub platform_types: Vec<&'static str>,
}

/// Check a parsed document for its type and derive its facts.
pub fn validate(value: &Value, document_type: &str) -> Result<Facts, ContentError> {
    let schema = value
        .get("schemaVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match document_type {
        "Command" => {
            if !matches!(schema.as_str(), "1.2" | "2.0" | "2.2") {
                return Err(ContentError::InvalidSchemaVersion(format!(
                    "schemaVersion {schema:?} is not valid for a Command document; use 1.2, 2.0 or 2.2"
                )));
            }
            let text = value.to_string();
            let doc = CommandDocument::parse_json(&text)
                .map_err(|e| ContentError::InvalidContent(e.to_string()))?;
            Ok(Facts {
                schema_version: schema,
                description: doc.description,
                parameters: parameters(value),
                platform_types: platforms(value),
            })
        }
        other => Err(ContentError::InvalidContent(format!(
            "{other} documents are not supported by this Bosun server yet."
        ))),
    }
}

fn parameters(value: &Value) -> Vec<Value> {
    value
        .get("parameters")
        .and_then(Value::as_object)
        .map(|params| {
            params
                .iter()
                .map(|(name, p)| {
                    let mut out = json!({
                        "Name": name,
                        "Type": p.get("type").cloned().unwrap_or(Value::Null),
                        "Description": p.get("description").cloned().unwrap_or(json!("")),
                    });
                    if let Some(d) = p.get("default") {
                        out["DefaultValue"] = json!(d
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| d.to_string()));
                    }
                    out
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Platforms a Command document can run on, from its plugins.
fn platforms(value: &Value) -> Vec<&'static str> {
    let mut actions: Vec<String> = Vec::new();
    if let Some(steps) = value.get("mainSteps").and_then(Value::as_array) {
        actions.extend(
            steps
                .iter()
                .filter_map(|s| s.get("action").and_then(Value::as_str))
                .map(str::to_string),
        );
    }
    if let Some(rc) = value.get("runtimeConfig").and_then(Value::as_object) {
        actions.extend(rc.keys().cloned());
    }
    let mut out = Vec::new();
    for a in actions {
        let p: &[&'static str] = match a.as_str() {
            "aws:runShellScript" => &["Linux", "MacOS"],
            "aws:runPowerShellScript" => &["Windows", "Linux"],
            _ => &["Windows", "Linux", "MacOS"],
        };
        for x in p {
            if !out.contains(x) {
                out.push(*x);
            }
        }
    }
    out
}
