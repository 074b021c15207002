//! SSM documents: parsing Command documents (schema 1.2 and 2.x), checking the parameters a
//! caller passes against the document's declarations, and resolving the steps the agent runs.

mod params;
mod plan;

pub use params::{resolve_parameters, ParamError, ParameterDecl, ParameterType, ResolvedParams};
pub use plan::{plan_steps, PlanError, StepPlan};

use serde::Deserialize;
use serde_json::Value;

/// A parsed Command document.
#[derive(Debug, Clone)]
pub struct CommandDocument {
    pub schema_version: String,
    pub description: String,
    pub parameters: Vec<(String, ParameterDecl)>,
    /// The raw document, for step resolution.
    pub content: Value,
}

/// Why a document could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("the document is not valid JSON: {0}")]
    Json(String),
    #[error("the document has no schemaVersion")]
    MissingSchemaVersion,
    #[error("schemaVersion {0} is not supported for Command documents")]
    UnsupportedSchema(String),
    #[error("parameter {name}: {problem}")]
    Parameter { name: String, problem: String },
}

#[derive(Deserialize)]
struct Header {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: serde_json::Map<String, Value>,
}

impl CommandDocument {
    /// Parse a JSON Command document.
    pub fn parse_json(text: &str) -> Result<Self, DocumentError> {
        let content: Value =
            serde_json::from_str(text).map_err(|e| DocumentError::Json(e.to_string()))?;
        let header: Header = serde_json::from_value(content.clone())
            .map_err(|e| DocumentError::Json(e.to_string()))?;
        let schema_version = header
            .schema_version
            .ok_or(DocumentError::MissingSchemaVersion)?;
        if !matches!(schema_version.as_str(), "1.2" | "2.0" | "2.2") {
            return Err(DocumentError::UnsupportedSchema(schema_version));
        }
        let mut parameters = Vec::new();
        for (name, decl) in header.parameters {
            let decl =
                ParameterDecl::from_json(&decl).map_err(|problem| DocumentError::Parameter {
                    name: name.clone(),
                    problem,
                })?;
            parameters.push((name, decl));
        }
        Ok(Self {
            schema_version,
            description: header.description,
            parameters,
            content,
        })
    }

    /// The SHA-256 of the document text, hex, as AWS reports `Hash`.
    pub fn sha256(text: &str) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}
