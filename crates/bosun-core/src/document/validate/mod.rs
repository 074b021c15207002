//! `validate(content, DocumentType)`: the checks `CreateDocument`/`UpdateDocument` apply before
//! storing a document. Errors are `InvalidDocumentContent` (saying which step and which field)
//! or `InvalidDocumentSchemaVersion`.
//!
//! What each type gets is described on its module: [`command`] (Command and Policy),
//! [`automation`] (Automation and Automation.ChangeTemplate), [`other`] (Session, Package,
//! ChangeCalendar and the types Bosun only stores). Every rule names its source: AWS's user
//! guide or API model, or "Bosun's rule" for the few safety choices that go beyond AWS (listed
//! in the README, "Bosun's own document rules").

mod automation;
mod automation_loop;
mod command;
mod other;

pub use command::COMMAND_PLUGINS;

use serde_json::{Map, Value};

use super::decl::{valid_parameter_name, ParameterDecl};
use super::{DocumentError, DocumentType, PlatformType};

/// A document that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedDocument {
    pub document_type: DocumentType,
    /// `schemaVersion` as text (empty for types without one, such as ChangeCalendar).
    pub schema_version: String,
    pub description: String,
    /// Declared parameters, sorted by name.
    pub parameters: Vec<(String, ParameterDecl)>,
    /// `PlatformTypes` of `DescribeDocument`: for Command/Policy documents the platforms any
    /// plugin supports; empty for other types.
    pub platform_types: Vec<PlatformType>,
    /// The content as a JSON value (TEXT content is a JSON string).
    pub content: Value,
}

/// Validate parsed content (see [`super::parse_content`]) as a document of type `doc_type`.
pub fn validate(
    content: &Value,
    doc_type: DocumentType,
) -> Result<ValidatedDocument, DocumentError> {
    let mut doc = ValidatedDocument {
        document_type: doc_type,
        schema_version: String::new(),
        description: String::new(),
        parameters: Vec::new(),
        platform_types: Vec::new(),
        content: content.clone(),
    };
    match doc_type {
        DocumentType::Command | DocumentType::Policy => command::validate(&mut doc)?,
        DocumentType::Automation | DocumentType::AutomationChangeTemplate => {
            automation::validate(&mut doc)?
        }
        _ => other::validate(&mut doc)?,
    }
    Ok(doc)
}

pub(crate) fn bad(msg: impl Into<String>) -> DocumentError {
    DocumentError::content(msg)
}

/// The content as an object, or an error naming the type.
pub(crate) fn object(doc: &ValidatedDocument) -> Result<&Map<String, Value>, DocumentError> {
    doc.content.as_object().ok_or_else(|| {
        bad(format!(
            "A {} document must be a JSON or YAML object (a map of top-level elements).",
            doc.document_type
        ))
    })
}

/// Read `schemaVersion` (a string; an unquoted YAML number such as `2.2` is accepted as its
/// text) and check it against `allowed`. AWS: `schemaVersion` is required, and each document
/// type has its versions (user guide, "Schemas, features, and examples");
/// `InvalidDocumentSchemaVersion` is the model's error for an unsupported one.
pub(crate) fn schema_version(
    doc: &mut ValidatedDocument,
    allowed: &[&str],
) -> Result<(), DocumentError> {
    let obj = object(doc)?;
    let version = match obj.get("schemaVersion") {
        None => return Err(bad("The document has no schemaVersion.")),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(bad("schemaVersion must be a string such as \"2.2\".")),
    };
    if !allowed.contains(&version.as_str()) {
        return Err(DocumentError::InvalidSchemaVersion(format!(
            "schemaVersion {version} is not supported for {} documents (supported: {}).",
            doc.document_type,
            allowed.join(", ")
        )));
    }
    doc.schema_version = version;
    Ok(())
}

/// Read `description` (AWS: optional, a string; written with no value it is absent).
pub(crate) fn description(doc: &mut ValidatedDocument) -> Result<(), DocumentError> {
    match object(doc)?.get("description") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => doc.description = s.clone(),
        Some(_) => return Err(bad("description must be a string.")),
    }
    Ok(())
}

/// Read and check `parameters` (AWS: optional, a structure of name → declaration).
pub(crate) fn parameters(doc: &mut ValidatedDocument) -> Result<(), DocumentError> {
    let decls = match object(doc)?.get("parameters") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(bad(
                "parameters must be a map of parameter names to definitions.",
            ))
        }
    };
    let mut out = Vec::with_capacity(decls.len());
    for (name, decl) in decls {
        // Bosun's rule (S5): names that are safe in `{{ }}` and as `SSM_<name>` variables.
        if !valid_parameter_name(name) {
            return Err(bad(format!(
                "Parameter name {name:?} is not valid: use 1 to 64 letters, digits and underscores."
            )));
        }
        let decl = ParameterDecl::from_json(decl)
            .map_err(|problem| bad(format!("Parameter \"{name}\": {problem}.")))?;
        out.push((name.clone(), decl));
    }
    doc.parameters = out;
    Ok(())
}

/// Refuse elements a type does not have. Bosun's rule: AWS documents the elements each
/// schema has but not what it does with others; Bosun refuses them so that a misspelt element
/// is not silently ignored.
pub(crate) fn known_keys(
    obj: &Map<String, Value>,
    known: &[&str],
    at: &str,
) -> Result<(), DocumentError> {
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(bad(format!(
            "{at}: {k} is not permitted here (allowed: {}).",
            known.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn common_elements() {
        let e = validate(&json!([1]), DocumentType::Command).unwrap_err();
        assert!(e.to_string().contains("must be a JSON or YAML object"));
        let e = validate(&json!({"mainSteps": []}), DocumentType::Command).unwrap_err();
        assert_eq!(e.code(), "InvalidDocumentContent");
        assert!(e.to_string().contains("no schemaVersion"));
        let e = validate(
            &json!({"schemaVersion": "0.3", "mainSteps": []}),
            DocumentType::Command,
        )
        .unwrap_err();
        assert_eq!(e.code(), "InvalidDocumentSchemaVersion");
        let e = validate(
            &json!({"schemaVersion": "2.2", "parameters": {"bad-name": {"type": "String"}},
                "mainSteps": [{"name": "a", "action": "aws:runShellScript", "inputs": {"runCommand": ["x"]}}]}),
            DocumentType::Command,
        )
        .unwrap_err();
        assert!(e.to_string().contains("bad-name"), "{e}");
        let e = validate(
            &json!({"schemaVersion": "2.2", "parameters": {"p": {"type": "Nope"}},
                "mainSteps": [{"name": "a", "action": "aws:runShellScript", "inputs": {"runCommand": ["x"]}}]}),
            DocumentType::Command,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("Parameter \"p\": type Nope"),
            "{e}"
        );
    }

    #[test]
    fn unquoted_yaml_schema_versions_are_accepted() {
        let v = super::super::parse_content(
            "schemaVersion: 2.2\nmainSteps:\n- {name: a, action: 'aws:runShellScript', inputs: {runCommand: [x]}}\n",
            super::super::DocumentFormat::Yaml,
        )
        .unwrap();
        assert_eq!(
            validate(&v, DocumentType::Command).unwrap().schema_version,
            "2.2"
        );
    }

    /// A Command document AWS accepts: parameters whose `description` (and other optional
    /// properties) are written with no value, of every type, with a default its own pattern
    /// would refuse. YAML and JSON alike.
    #[test]
    fn documents_with_empty_optional_properties_are_accepted() {
        let yaml = "schemaVersion: '2.2'\ndescription:\nparameters:\n  Count:\n    type: Integer\n    default: 3\n    description:\n    allowedValues: [1, 2, 3]\n  Word:\n    type: String\n    default: abc\n    description:\n    allowedValues: [abc, xyz]\n    allowedPattern: r\"^[a-z]{5,}$\"\n  Flag:\n    type: Boolean\n    default: false\n    description:\n    allowedValues: [true, false]\n  Words:\n    type: StringList\n    default: [a, b]\n    description:\n    displayType:\n  Notify:\n    type: StringMap\n    default:\n      Events: [Failed]\n      Type: Command\n    description:\n  Disks:\n    type: MapList\n    default:\n    - Name: /dev/sda1\n      Size: '50'\n    description:\n    maxItems:\nmainSteps:\n- action: aws:runShellScript\n  name: say\n  inputs:\n    runCommand: ['echo {{ Word }}']\n";
        let value = super::super::parse_content(yaml, super::super::DocumentFormat::Yaml).unwrap();
        let from_yaml = validate(&value, DocumentType::Command).unwrap();
        assert_eq!(from_yaml.parameters.len(), 6);
        assert!(from_yaml
            .parameters
            .iter()
            .all(|(_, d)| d.description.is_empty()));
        let json_text = serde_json::to_string(&value).unwrap();
        assert!(json_text.contains(r#""description":null"#), "{json_text}");
        let from_json = validate(
            &super::super::parse_content(&json_text, super::super::DocumentFormat::Json).unwrap(),
            DocumentType::Command,
        )
        .unwrap();
        assert_eq!(from_json.parameters, from_yaml.parameters);
        assert_eq!(from_json.description, "");
    }
}
