//! The bridge between stored document text and the core document model: parse in the stored
//! format, validate for a document type, render in a requested format, and derive the facts the
//! API reports (parameters, platforms).

use bosun_core::document::{
    check_content_size, parse_content, render as render_value, validate as validate_value,
    CommandDocument, DocumentError, DocumentFormat, DocumentType, ValidatedDocument,
};
use serde_json::{json, Value};

/// Why content was refused, by the AWS exception it maps to.
#[derive(Debug)]
pub enum ContentError {
    InvalidContent(String),
    InvalidSchemaVersion(String),
    SizeExceeded(String),
    InvalidName(String),
}

impl std::fmt::Display for ContentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (ContentError::InvalidContent(m)
        | ContentError::InvalidSchemaVersion(m)
        | ContentError::SizeExceeded(m)
        | ContentError::InvalidName(m)) = self;
        f.write_str(m)
    }
}

impl From<DocumentError> for ContentError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::InvalidContent(m) => ContentError::InvalidContent(m),
            DocumentError::InvalidSchemaVersion(m) => ContentError::InvalidSchemaVersion(m),
            DocumentError::SizeExceeded(m) => ContentError::SizeExceeded(m),
            DocumentError::InvalidName(m) => ContentError::InvalidName(m),
        }
    }
}

fn format_of(name: &str) -> Result<DocumentFormat, ContentError> {
    DocumentFormat::parse(name)
        .ok_or_else(|| ContentError::InvalidContent(format!("unknown document format {name}")))
}

fn type_of(name: &str) -> Result<DocumentType, ContentError> {
    DocumentType::parse(name)
        .ok_or_else(|| ContentError::InvalidContent(format!("unknown document type {name}")))
}

/// Check the size of new content (AWS's 64 KB limit).
pub fn check_size(content: &str) -> Result<(), ContentError> {
    Ok(check_content_size(content)?)
}

/// Parse content written in `format` (`JSON`, `YAML` or `TEXT`).
pub fn parse(content: &str, format: &str) -> Result<Value, ContentError> {
    Ok(parse_content(content, format_of(format)?)?)
}

/// Render a parsed document in `format`.
pub fn render(value: &Value, format: &str) -> Result<String, ContentError> {
    Ok(render_value(value, format_of(format)?))
}

/// Validate a parsed document for its type.
pub fn validated(value: &Value, document_type: &str) -> Result<ValidatedDocument, ContentError> {
    Ok(validate_value(value, type_of(document_type)?)?)
}

/// A Command document ready to plan.
pub fn command_document(
    value: &Value,
    document_type: &str,
) -> Result<CommandDocument, ContentError> {
    Ok(CommandDocument::from_validated(validated(
        value,
        document_type,
    )?))
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
    let doc = validated(value, document_type)?;
    let parameters = doc
        .parameters
        .iter()
        .map(|(name, p)| {
            let mut out = json!({
                "Name": name,
                "Type": format!("{:?}", p.kind),
                "Description": p.description,
            });
            if let Some(d) = &p.default {
                out["DefaultValue"] = json!(d
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| d.to_string()));
            }
            out
        })
        .collect();
    Ok(Facts {
        schema_version: doc.schema_version,
        description: doc.description,
        parameters,
        platform_types: doc.platform_types.iter().map(|p| p.as_str()).collect(),
    })
}
