//! SSM documents: formats (JSON/YAML/TEXT), document types and their validation, parameter
//! declarations and the values callers pass, `{{ }}` interpolation (text or `ENV_VAR`), and the
//! step plans an agent runs. Pure: no IO, no clock.

mod decl;
mod format;
mod interpolate;
mod limits;
mod package;
mod params;
mod plan;
mod plugin_inputs;
mod references;
mod types;
mod validate;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod injection_tests;

pub use decl::{
    compile_pattern, valid_parameter_name, Interpolation, ParameterDecl, ParameterType,
};
pub use format::{parse_content, render, DocumentFormat};
pub use interpolate::{env_var_name, typed_value};
pub use limits::{
    check_content_size, validate_document_name, validate_version_name, MAX_DOCUMENT_SIZE_BYTES,
    RESERVED_NAME_PREFIXES,
};
pub use package::{
    arch_of, file_name_ok, missing_attachment, parse_manifest, platform_of_os_id, select_entry,
    InstalledPackage, PackageManifest, PlatformEntry, MAX_ATTACHMENT_BYTES, MAX_PACKAGE_FILES,
};
pub use params::{resolve_parameters, ParamError, ResolvedParams};
pub use plan::{
    plan_nested, plan_steps, plan_steps_for, Attachment, OnFailure, PackageFile, PlanError,
    ReleaseFile, StepPlan, DEFAULT_STEP_TIMEOUT_SECONDS,
};
pub use plugin_inputs::{
    configure_package_spec, confined_path, document_ref, download_spec, file_name_from_url,
    run_document_spec, ConfigurePackageSpec, DocumentRef, DownloadSource, DownloadSpec,
    NestedSource, RunDocumentSpec, MAX_DOCUMENT_NESTING,
};
pub use references::{
    find_references, plan_references, references_outside_scripts, substitute, substitute_resolved,
    SsmReference,
};
pub use types::{DocumentType, PlatformType};
pub use validate::{validate, ValidatedDocument, COMMAND_PLUGINS};

use serde_json::Value;

/// A parsed, validated Command document.
#[derive(Debug, Clone)]
pub struct CommandDocument {
    pub schema_version: String,
    pub description: String,
    pub parameters: Vec<(String, ParameterDecl)>,
    /// The document as a JSON value, for step resolution.
    pub content: Value,
}

/// Why a document was refused. Each variant is one AWS error code ([`DocumentError::code`]);
/// the text says what is wrong and where (which step, which field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// `InvalidDocumentContent`.
    #[error("{0}")]
    InvalidContent(String),
    /// `InvalidDocumentSchemaVersion`.
    #[error("{0}")]
    InvalidSchemaVersion(String),
    /// `MaxDocumentSizeExceeded`.
    #[error("{0}")]
    SizeExceeded(String),
    /// `ValidationException` (document and version names).
    #[error("{0}")]
    InvalidName(String),
}

impl DocumentError {
    pub(crate) fn content(msg: impl Into<String>) -> Self {
        Self::InvalidContent(msg.into())
    }

    /// The AWS error code this maps to.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidContent(_) => "InvalidDocumentContent",
            Self::InvalidSchemaVersion(_) => "InvalidDocumentSchemaVersion",
            Self::SizeExceeded(_) => "MaxDocumentSizeExceeded",
            Self::InvalidName(_) => "ValidationException",
        }
    }
}

impl CommandDocument {
    /// Parse and validate a JSON Command document.
    pub fn parse_json(text: &str) -> Result<Self, DocumentError> {
        Self::parse(text, DocumentFormat::Json)
    }

    /// Parse and validate a Command document in JSON or YAML.
    pub fn parse(text: &str, format: DocumentFormat) -> Result<Self, DocumentError> {
        let value = parse_content(text, format)?;
        Ok(Self::from_validated(validate(
            &value,
            DocumentType::Command,
        )?))
    }

    /// The Command document of a validated document (of any type with steps).
    pub fn from_validated(doc: ValidatedDocument) -> Self {
        Self {
            schema_version: doc.schema_version,
            description: doc.description,
            parameters: doc.parameters,
            content: doc.content,
        }
    }

    /// The SHA-256 of the document text, hex, as AWS reports `Hash`.
    pub fn sha256(text: &str) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_documents_parse_from_json_and_yaml() {
        let json = r#"{"schemaVersion":"2.2","description":"d","parameters":{"who":{"type":"String","default":"w"}},
            "mainSteps":[{"name":"one","action":"aws:runShellScript","inputs":{"runCommand":["echo {{ who }}"]}}]}"#;
        let yaml = "schemaVersion: '2.2'\ndescription: d\nparameters:\n  who: {type: String, default: w}\nmainSteps:\n- name: one\n  action: aws:runShellScript\n  inputs:\n    runCommand: ['echo {{ who }}']\n";
        let a = CommandDocument::parse_json(json).unwrap();
        let b = CommandDocument::parse(yaml, DocumentFormat::Yaml).unwrap();
        assert_eq!(a.content, b.content);
        assert_eq!(a.parameters, b.parameters);
        assert_eq!(a.schema_version, "2.2");
        assert_eq!(a.description, "d");
        let e =
            CommandDocument::parse_json(r#"{"schemaVersion":"3.0","mainSteps":[]}"#).unwrap_err();
        assert_eq!(e.code(), "InvalidDocumentSchemaVersion");
        assert_eq!(
            CommandDocument::sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
