//! Inputs of the plugins that are not scripts: `aws:downloadContent` (where content comes from
//! and where it goes) and `aws:runDocument` (which document, with which parameters). Checked
//! when a command is sent and again by the agent before it acts on them.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::interpolate::text_of;

/// How deep `aws:runDocument` may nest documents (a document that runs itself stops here).
pub const MAX_DOCUMENT_NESTING: u32 = 3;

/// Where `aws:downloadContent` gets its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadSource {
    /// `sourceType: HTTP`: `sourceInfo.url`, with HTTP Basic credentials when
    /// `authMethod` is `Basic`.
    Http {
        url: String,
        basic_auth: Option<(String, String)>,
        /// `allowInsecureDownload`: plain `http://` (and redirects to it) are allowed.
        allow_insecure: bool,
    },
    /// `sourceType: SSMDocument`: a Bosun document (`sourceInfo.name`).
    Document(DocumentRef),
}

/// A document named by `name`, `name:version` or its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRef {
    pub name: String,
    /// A version number, `$LATEST` or `$DEFAULT`; `None` means the default version.
    pub version: Option<String>,
}

/// The checked inputs of one `aws:downloadContent` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadSpec {
    pub source: DownloadSource,
    /// `destinationPath` as given: the folder the file goes in (empty: the command's
    /// download folder; relative: inside it).
    pub destination: String,
}

/// Where `aws:runDocument` gets the document it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NestedSource {
    /// `documentType: SSMDocument`: a Bosun document, resolved by the server.
    Document(DocumentRef),
    /// `documentType: LocalPath`: a JSON or YAML file on the node (relative paths are under
    /// the command's download folder), read by the agent when the step runs.
    LocalPath(String),
}

/// The checked inputs of one `aws:runDocument` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDocumentSpec {
    pub source: NestedSource,
    /// `documentParameters`, as `SendCommand` would pass them.
    pub parameters: BTreeMap<String, Vec<String>>,
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A `StringMap` input: an object, or a string holding a JSON object (documents written for
/// AWS pass `"sourceInfo": "{{ sourceInfo }}"` or a literal JSON string). Empty means `{}`.
fn string_map(v: Option<&Value>, what: &str) -> Result<Map<String, Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Map::new()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(format!(
                "{what} must be a JSON object, e.g. {{\"key\": \"value\"}}."
            )),
        },
        Some(_) => Err(format!("{what} must be a JSON object.")),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Parse `name`, `name:version` or `arn:…:document/name[:version]`.
pub fn document_ref(given: &str) -> Result<DocumentRef, String> {
    let bare = given
        .trim()
        .rsplit_once(":document/")
        .map(|(_, n)| n)
        .unwrap_or(given.trim());
    let (name, version) = match bare.rsplit_once(':') {
        Some((n, v)) if v == "$LATEST" || v == "$DEFAULT" || v.parse::<u64>().is_ok() => {
            (n, Some(v.to_string()))
        }
        Some(_) => return Err(format!("{given:?} is not a document name or ARN.")),
        None => (bare, None),
    };
    if name.is_empty() {
        return Err("the document name is empty.".into());
    }
    Ok(DocumentRef {
        name: name.to_string(),
        version,
    })
}

/// Check the inputs of an `aws:downloadContent` step (after interpolation).
pub fn download_spec(inputs: &Value) -> Result<DownloadSpec, String> {
    let empty = Map::new();
    let inputs = inputs.as_object().unwrap_or(&empty);
    let info = string_map(inputs.get("sourceInfo"), "sourceInfo")?;
    let source_type = text(inputs, "sourceType").unwrap_or_default();
    let source = match source_type {
        "HTTP" => {
            let url = text(&info, "url").ok_or("sourceInfo needs a url for sourceType HTTP.")?;
            let lower = url.to_ascii_lowercase();
            let allow_insecure = truthy(info.get("allowInsecureDownload"));
            if lower.starts_with("http://") {
                if !allow_insecure {
                    return Err(format!(
                        "{url} is not HTTPS; set \"allowInsecureDownload\": \"true\" in sourceInfo to download it anyway."
                    ));
                }
            } else if !lower.starts_with("https://") {
                return Err(format!("{url} is not an http:// or https:// URL."));
            }
            let basic_auth = match text(&info, "authMethod").unwrap_or("None") {
                "None" => None,
                "Basic" => Some((
                    text(&info, "username").unwrap_or_default().to_string(),
                    info.get("password")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                )),
                "Digest" => {
                    return Err(
                        "authMethod Digest is not supported by Bosun yet; use Basic over HTTPS."
                            .into(),
                    )
                }
                other => return Err(format!("authMethod must be None or Basic, not {other:?}.")),
            };
            DownloadSource::Http {
                url: url.to_string(),
                basic_auth,
                allow_insecure,
            }
        }
        "SSMDocument" => {
            let name =
                text(&info, "name").ok_or("sourceInfo needs a name for sourceType SSMDocument.")?;
            DownloadSource::Document(document_ref(name)?)
        }
        "GitHub" | "Git" | "S3" => {
            return Err(format!(
                "sourceType {source_type} is not supported by Bosun yet; use HTTP or SSMDocument."
            ))
        }
        other => {
            return Err(format!(
                "sourceType must be one of HTTP, SSMDocument, GitHub, Git, S3, not {other:?}."
            ))
        }
    };
    let destination = text(inputs, "destinationPath").unwrap_or_default();
    confined_path(Path::new("/"), destination)?;
    Ok(DownloadSpec {
        source,
        destination: destination.to_string(),
    })
}

/// Check the inputs of an `aws:runDocument` step (after interpolation).
pub fn run_document_spec(inputs: &Value) -> Result<RunDocumentSpec, String> {
    let empty = Map::new();
    let inputs = inputs.as_object().unwrap_or(&empty);
    let path = text(inputs, "documentPath").ok_or("documentPath is required.")?;
    let source = match text(inputs, "documentType").unwrap_or_default() {
        "SSMDocument" => NestedSource::Document(document_ref(path)?),
        "LocalPath" => NestedSource::LocalPath(path.to_string()),
        "S3" => return Err("documentType S3 is not supported by Bosun.".into()),
        other => {
            return Err(format!(
                "documentType must be SSMDocument or LocalPath, not {other:?}."
            ))
        }
    };
    let mut parameters = BTreeMap::new();
    for (name, v) in string_map(inputs.get("documentParameters"), "documentParameters")? {
        let values = match v {
            Value::Array(items) => items.iter().map(text_of).collect(),
            Value::Null => Vec::new(),
            other => vec![text_of(&other)],
        };
        parameters.insert(name, values);
    }
    Ok(RunDocumentSpec { source, parameters })
}

/// Where a path given to a plugin lands: an absolute path as given; anything else inside
/// `base`, refused if its `..` parts would leave it.
pub fn confined_path(base: &Path, given: &str) -> Result<PathBuf, String> {
    let given = given.trim();
    let path = Path::new(given);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(format!(
                        "{given:?} leaves the command's folder; give an absolute path to write elsewhere."
                    ));
                }
            }
            Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Ok(parts.iter().fold(base.to_path_buf(), |p, c| p.join(c)))
}

/// The file name content from a URL is saved as: its last path segment (`download` when the
/// URL has none).
pub fn file_name_from_url(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or_default();
    let after_scheme = no_query.split_once("://").map_or(no_query, |(_, r)| r);
    let segment = after_scheme
        .split_once('/')
        .map(|(_, path)| path.rsplit('/').next().unwrap_or_default())
        .unwrap_or_default();
    match segment {
        "" | "." | ".." => "download".into(),
        s => s.to_string(),
    }
}

/// What an `aws:configurePackage` step does (after interpolation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigurePackageSpec {
    /// The package document's name (an ARN's `package/` or `document/` part taken off).
    pub name: String,
    /// `Install` (true) or `Uninstall` (false).
    pub install: bool,
    /// `installationType` `In-place update` (true) or `Uninstall and reinstall` (false, the
    /// default).
    pub in_place: bool,
    /// The manifest `version` asked for; `None` = the document's default version.
    pub version: Option<String>,
    /// `additionalArguments`: environment variables for the scripts, each named `SSM_…`.
    pub additional_arguments: Vec<(String, String)>,
}

/// Check the inputs of an `aws:configurePackage` step.
pub fn configure_package_spec(inputs: &Value) -> Result<ConfigurePackageSpec, String> {
    let empty = Map::new();
    let inputs = inputs.as_object().unwrap_or(&empty);
    let given = text(inputs, "name").ok_or("inputs.name names no package.")?;
    let name = given
        .rsplit_once(":package/")
        .or_else(|| given.rsplit_once(":document/"))
        .map(|(_, n)| n)
        .unwrap_or(given)
        .to_string();
    let install = match text(inputs, "action") {
        Some("Install") => true,
        Some("Uninstall") => false,
        other => {
            return Err(format!(
                "inputs.action must be Install or Uninstall, not {:?}.",
                other.unwrap_or_default()
            ))
        }
    };
    let in_place = match text(inputs, "installationType") {
        None | Some("Uninstall and reinstall") => false,
        Some("In-place update") => true,
        Some(other) => {
            return Err(format!(
                "inputs.installationType must be \"Uninstall and reinstall\" or \"In-place update\", not {other:?}."
            ))
        }
    };
    let mut additional_arguments = Vec::new();
    for (k, v) in string_map(inputs.get("additionalArguments"), "additionalArguments")? {
        let ok = k.len() > 4
            && k.starts_with("SSM_")
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(format!(
                "additionalArguments: {k:?} must start with SSM_ and hold only letters, digits and _."
            ));
        }
        let v = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        additional_arguments.push((k, v));
    }
    Ok(ConfigurePackageSpec {
        name,
        install,
        in_place,
        version: text(inputs, "version").map(str::to_string),
        additional_arguments,
    })
}

#[cfg(test)]
#[path = "plugin_inputs_tests.rs"]
mod tests;
