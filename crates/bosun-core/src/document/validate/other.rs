//! Session, Package, ChangeCalendar, and the types Bosun only stores.
//!
//! - **Session** (schema 1.0; user guide, "Session document schema" and the Session Manager
//!   preferences document): `sessionType` one of `Standard_Stream`, `InteractiveCommands`,
//!   `NonInteractiveCommands`, `Port`; `inputs` and `properties` objects when present; for
//!   Standard_Stream the boolean preference inputs are booleans and `idleSessionTimeout`
//!   (1..60) / `maxSessionDuration` (1..1440) are minutes, as the preferences document
//!   documents them. Only `schemaVersion`, `description`, `sessionType`, `inputs`,
//!   `parameters`, `properties` at the top (Bosun's rule: a misspelt element is refused).
//! - **Package** (Distributor manifest, user guide "Create a package"): `schemaVersion` `2.0`
//!   and the manifest rules of [`crate::document::parse_manifest`] (`package.rs`).
//! - **ChangeCalendar** (TEXT, iCalendar, user guide "Change Calendar"): the text starts with
//!   `BEGIN:VCALENDAR` and holds `END:VCALENDAR`. Events are not parsed.
//! - **ApplicationConfiguration, ApplicationConfigurationSchema, DeploymentStrategy,
//!   ProblemAnalysis, ProblemAnalysisTemplate, CloudFormation, ConformancePackTemplate,
//!   QuickSetup, ManualApprovalPolicy, AutoApprovalPolicy**: an object (ApplicationConfiguration
//!   may be any JSON value); a `schemaVersion`, when present, of the model's `major.minor` form
//!   (`DocumentSchemaVersion`, pattern `([0-9]+)\.([0-9]+)`); `parameters`, when present,
//!   checked like any other. Their own shapes are not checked.

use serde_json::Value;

use super::super::{DocumentError, DocumentType};
use super::{bad, description, known_keys, object, parameters, schema_version, ValidatedDocument};

pub(super) fn validate(doc: &mut ValidatedDocument) -> Result<(), DocumentError> {
    match doc.document_type {
        DocumentType::Session => session(doc),
        DocumentType::Package => package(doc),
        DocumentType::ChangeCalendar => calendar(doc),
        DocumentType::ApplicationConfiguration if !doc.content.is_object() => Ok(()),
        _ => stored_only(doc),
    }
}

fn session(doc: &mut ValidatedDocument) -> Result<(), DocumentError> {
    schema_version(doc, &["1.0"])?;
    description(doc)?;
    parameters(doc)?;
    let obj = object(doc)?;
    known_keys(
        obj,
        &[
            "schemaVersion",
            "description",
            "sessionType",
            "inputs",
            "parameters",
            "properties",
        ],
        "The document",
    )?;
    let kinds = [
        "Standard_Stream",
        "InteractiveCommands",
        "NonInteractiveCommands",
        "Port",
    ];
    let kind = match obj.get("sessionType") {
        Some(Value::String(s)) if kinds.contains(&s.as_str()) => s.as_str(),
        Some(other) => {
            return Err(bad(format!(
                "sessionType {other} is not one of {}.",
                kinds.join(", ")
            )))
        }
        None => return Err(bad("A Session document needs sessionType.")),
    };
    for key in ["inputs", "properties"] {
        if obj.get(key).is_some_and(|v| !v.is_object()) {
            return Err(bad(format!("{key} must be an object.")));
        }
    }
    if kind == "Standard_Stream" {
        let inputs = obj.get("inputs").and_then(Value::as_object);
        for key in [
            "s3EncryptionEnabled",
            "cloudWatchEncryptionEnabled",
            "cloudWatchStreamingEnabled",
            "runAsEnabled",
        ] {
            if inputs
                .and_then(|i| i.get(key))
                .is_some_and(|v| !v.is_boolean())
            {
                return Err(bad(format!("inputs.{key} must be true or false.")));
            }
        }
        for (key, max) in [("idleSessionTimeout", 60), ("maxSessionDuration", 1440)] {
            let Some(v) = inputs.and_then(|i| i.get(key)) else {
                continue;
            };
            let minutes = match v {
                Value::String(s) if s.is_empty() || s.contains("{{") => continue,
                Value::String(s) => s.parse::<u64>().ok(),
                other => other.as_u64(),
            };
            if !minutes.is_some_and(|m| (1..=max).contains(&m)) {
                return Err(bad(format!("inputs.{key} {v} must be 1 to {max} minutes.")));
            }
        }
    }
    Ok(())
}

fn package(doc: &mut ValidatedDocument) -> Result<(), DocumentError> {
    schema_version(doc, &["2.0"])?;
    let obj = object(doc)?;
    known_keys(
        obj,
        &["schemaVersion", "version", "publisher", "packages", "files"],
        "The manifest",
    )?;
    crate::document::parse_manifest(&doc.content).map_err(bad)?;
    Ok(())
}

fn calendar(doc: &mut ValidatedDocument) -> Result<(), DocumentError> {
    let text = doc
        .content
        .as_str()
        .ok_or_else(|| bad("A ChangeCalendar document is iCalendar text (DocumentFormat TEXT)."))?;
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if !body.starts_with("BEGIN:VCALENDAR") || !body.contains("END:VCALENDAR") {
        return Err(bad("A ChangeCalendar document must be iCalendar text from BEGIN:VCALENDAR to END:VCALENDAR."));
    }
    Ok(())
}

fn stored_only(doc: &mut ValidatedDocument) -> Result<(), DocumentError> {
    let obj = object(doc)?.clone();
    match obj.get("schemaVersion") {
        None => {}
        Some(Value::String(v)) if major_minor(v) => doc.schema_version = v.clone(),
        Some(Value::Number(n)) if major_minor(&n.to_string()) => doc.schema_version = n.to_string(),
        Some(other) => {
            return Err(DocumentError::InvalidSchemaVersion(format!(
                "schemaVersion {other} is not of the form <major>.<minor>."
            )))
        }
    }
    if obj.get("description").is_some_and(Value::is_string) {
        description(doc)?;
    }
    if obj.get("parameters").is_some_and(Value::is_object) {
        parameters(doc)?;
    }
    Ok(())
}

fn major_minor(v: &str) -> bool {
    let mut parts = v.split('.');
    let num =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    num(parts.next()) && num(parts.next()) && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::document::{validate, DocumentType};

    #[test]
    fn sessions() {
        let ok = json!({"schemaVersion": "1.0", "description": "prefs", "sessionType": "Standard_Stream",
            "inputs": {"s3BucketName": "", "s3EncryptionEnabled": true, "idleSessionTimeout": "20", "maxSessionDuration": "60"}});
        assert!(validate(&ok, DocumentType::Session).is_ok());
        let port = json!({"schemaVersion": "1.0", "sessionType": "Port", "properties": {"portNumber": "{{ portNumber }}"},
            "parameters": {"portNumber": {"type": "String", "default": "80"}}});
        assert_eq!(
            validate(&port, DocumentType::Session)
                .unwrap()
                .parameters
                .len(),
            1
        );
        let cases = [
            (json!({"schemaVersion": "1.0"}), "needs sessionType"),
            (
                json!({"schemaVersion": "1.0", "sessionType": "Shell"}),
                "sessionType \"Shell\" is not one of",
            ),
            (
                json!({"schemaVersion": "1.0", "sessionType": "Port", "mainSteps": []}),
                "mainSteps is not permitted",
            ),
            (
                json!({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {"runAsEnabled": "yes"}}),
                "inputs.runAsEnabled must be true or false",
            ),
            (
                json!({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {"idleSessionTimeout": "61"}}),
                "1 to 60 minutes",
            ),
            (
                json!({"schemaVersion": "1.0", "sessionType": "Port", "properties": []}),
                "properties must be an object",
            ),
        ];
        for (v, want) in cases {
            let e = validate(&v, DocumentType::Session).unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
        let e = validate(
            &json!({"schemaVersion": "2.2", "sessionType": "Port"}),
            DocumentType::Session,
        )
        .unwrap_err();
        assert_eq!(e.code(), "InvalidDocumentSchemaVersion");
    }

    #[test]
    fn packages_calendars_and_stored_types() {
        let pkg = json!({"schemaVersion": "2.0", "version": "1.0",
            "packages": {"amazon": {"_any": {"x86_64": {"file": "a.zip"}}}},
            "files": {"a.zip": {"checksums": {"sha256": "a".repeat(64)}}}});
        assert!(validate(&pkg, DocumentType::Package).is_ok());
        let bad = json!({"schemaVersion": "2.0", "version": "1", "files": {"a.zip": {"checksums": {"sha256": "xyz"}}}});
        assert!(validate(&bad, DocumentType::Package)
            .unwrap_err()
            .to_string()
            .contains("files.a.zip.checksums.sha256"));
        let cal = json!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n");
        assert!(validate(&cal, DocumentType::ChangeCalendar).is_ok());
        assert!(validate(&json!("hello"), DocumentType::ChangeCalendar).is_err());
        assert!(validate(&json!({"a": 1}), DocumentType::ChangeCalendar).is_err());
        for t in DocumentType::ALL {
            if matches!(
                t,
                DocumentType::Command
                    | DocumentType::Policy
                    | DocumentType::Automation
                    | DocumentType::AutomationChangeTemplate
                    | DocumentType::Session
                    | DocumentType::Package
                    | DocumentType::ChangeCalendar
            ) {
                continue;
            }
            assert!(
                validate(&json!({"schemaVersion": "1.0", "anything": [1]}), t).is_ok(),
                "{t}"
            );
            assert_eq!(
                validate(&json!({"schemaVersion": "one"}), t)
                    .unwrap_err()
                    .code(),
                "InvalidDocumentSchemaVersion",
                "{t}"
            );
            if t != DocumentType::ApplicationConfiguration {
                assert!(validate(&json!([1]), t).is_err(), "{t}");
            }
        }
    }
}
