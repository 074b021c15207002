//! Documents the server knows: the built-in `AWS-*` library (each written by us to behave as
//! AWS documents it; owner `Amazon`, one version), Bosun's own `Bosun-*` runbooks (reported like
//! the `AWS-*` ones; their names reserved as `bosun_core::document::RESERVED_NAME_PREFIXES`
//! says) and users' documents from the store, behind one lookup.

pub mod content;

use bosun_core::document::CommandDocument;
use bosun_store::prelude::*;
use bosun_store::StoreError;

/// A built-in document.
pub struct BuiltinDocument {
    pub name: &'static str,
    pub content: &'static str,
    /// `Command`, `Session` or `Automation`.
    pub document_type: &'static str,
    /// When the built-in was first shipped (epoch ms), reported as `CreatedDate`.
    pub created_ms: i64,
}

pub const BUILTINS: &[BuiltinDocument] = &[
    BuiltinDocument {
        name: "AWS-ConfigureAWSPackage",
        document_type: "Command",
        content: include_str!("AWS-ConfigureAWSPackage.json"),
        created_ms: 1_796_515_200_000,
    },
    BuiltinDocument {
        name: "AWS-RestartEC2Instance",
        document_type: "Automation",
        content: include_str!("AWS-RestartEC2Instance.json"),
        created_ms: 1_796_428_800_000,
    },
    BuiltinDocument {
        name: "AWS-RunDocument",
        document_type: "Command",
        content: include_str!("AWS-RunDocument.json"),
        created_ms: 1_795_737_600_000,
    },
    BuiltinDocument {
        name: "AWS-RunPowerShellScript",
        document_type: "Command",
        content: include_str!("AWS-RunPowerShellScript.json"),
        created_ms: 1_795_219_200_000,
    },
    BuiltinDocument {
        name: "AWS-RunRemoteScript",
        document_type: "Command",
        content: include_str!("AWS-RunRemoteScript.json"),
        created_ms: 1_795_737_600_000,
    },
    BuiltinDocument {
        name: "AWS-RunShellScript",
        document_type: "Command",
        content: include_str!("AWS-RunShellScript.json"),
        created_ms: 1_795_219_200_000,
    },
    BuiltinDocument {
        name: "AWS-StartEC2Instance",
        document_type: "Automation",
        content: include_str!("AWS-StartEC2Instance.json"),
        created_ms: 1_796_428_800_000,
    },
    BuiltinDocument {
        name: "AWS-StartInteractiveCommand",
        document_type: "Session",
        content: include_str!("AWS-StartInteractiveCommand.json"),
        created_ms: 1_796_342_400_000,
    },
    BuiltinDocument {
        name: "AWS-StartNonInteractiveCommand",
        document_type: "Session",
        content: include_str!("AWS-StartNonInteractiveCommand.json"),
        created_ms: 1_796_342_400_000,
    },
    BuiltinDocument {
        name: "AWS-StartPortForwardingSession",
        document_type: "Session",
        content: include_str!("AWS-StartPortForwardingSession.json"),
        created_ms: 1_796_342_400_000,
    },
    BuiltinDocument {
        name: "AWS-StartPortForwardingSessionToRemoteHost",
        document_type: "Session",
        content: include_str!("AWS-StartPortForwardingSessionToRemoteHost.json"),
        created_ms: 1_796_342_400_000,
    },
    BuiltinDocument {
        name: "AWS-StartSSHSession",
        document_type: "Session",
        content: include_str!("AWS-StartSSHSession.json"),
        created_ms: 1_796_342_400_000,
    },
    BuiltinDocument {
        name: "AWS-StopEC2Instance",
        document_type: "Automation",
        content: include_str!("AWS-StopEC2Instance.json"),
        created_ms: 1_796_428_800_000,
    },
    BuiltinDocument {
        name: "AWS-UpdateSSMAgent",
        document_type: "Command",
        content: include_str!("AWS-UpdateSSMAgent.json"),
        created_ms: 1_796_428_800_000,
    },
    BuiltinDocument {
        name: "Bosun-RestartNode",
        document_type: "Automation",
        content: include_str!("Bosun-RestartNode.json"),
        created_ms: 1_796_515_200_000,
    },
    BuiltinDocument {
        name: "Bosun-StartNode",
        document_type: "Automation",
        content: include_str!("Bosun-StartNode.json"),
        created_ms: 1_796_515_200_000,
    },
    BuiltinDocument {
        name: "Bosun-StopNode",
        document_type: "Automation",
        content: include_str!("Bosun-StopNode.json"),
        created_ms: 1_796_515_200_000,
    },
];

/// AWS documents people schedule that Bosun does not provide yet, and what they need: a lookup
/// of one says so instead of a bare "does not exist".
pub const NOT_YET_PROVIDED: &[(&str, &str)] = &[
    ("AWS-RunPatchBaseline", "Patch Manager"),
    ("AWS-GatherSoftwareInventory", "Inventory"),
    ("AWS-ApplyAnsiblePlaybooks", "the Ansible plugin"),
];

/// Why a well-known AWS document is missing, if it is one of [`NOT_YET_PROVIDED`].
pub fn not_yet_provided(name_or_arn: &str) -> Option<&'static str> {
    let name = bare_name(name_or_arn);
    NOT_YET_PROVIDED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, why)| *why)
}

/// Look up a document by name or by ARN (`arn:aws:ssm:<region>::document/<name>`).
pub fn builtin(name_or_arn: &str) -> Option<&'static BuiltinDocument> {
    let name = name_or_arn
        .rsplit_once(":document/")
        .map(|(_, n)| n)
        .unwrap_or(name_or_arn);
    BUILTINS.iter().find(|d| d.name == name)
}

impl BuiltinDocument {
    pub fn hash(&self) -> String {
        CommandDocument::sha256(self.content)
    }
}

/// Which version of a document a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector<'a> {
    Default,
    Latest,
    Number(i64),
    Name(&'a str),
}

impl<'a> Selector<'a> {
    /// From the API's `DocumentVersion` / `VersionName` members (already pattern-checked).
    pub fn from_request(version: Option<&'a str>, version_name: Option<&'a str>) -> Self {
        match (version, version_name) {
            (Some("$LATEST"), _) => Selector::Latest,
            (Some(v), _) if v != "$DEFAULT" => {
                v.parse().map(Selector::Number).unwrap_or(Selector::Default)
            }
            (_, Some(n)) => Selector::Name(n),
            _ => Selector::Default,
        }
    }
}

/// One version of a document, whoever owns it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: String,
    pub builtin: bool,
    pub version: i64,
    pub version_name: String,
    pub content: String,
    pub format: String,
    pub document_type: String,
    pub hash: String,
    pub created_ms: i64,
    pub default_version: i64,
    pub latest_version: i64,
    pub target_type: String,
    pub display_name: String,
}

/// Why a lookup found nothing.
#[derive(Debug)]
pub enum Lookup {
    NoDocument,
    NoVersion,
    Store(StoreError),
}

impl From<StoreError> for Lookup {
    fn from(e: StoreError) -> Self {
        Lookup::Store(e)
    }
}

/// The bare name of a document given by name or ARN.
pub fn bare_name(name_or_arn: &str) -> &str {
    name_or_arn
        .rsplit_once(":document/")
        .map(|(_, n)| n)
        .unwrap_or(name_or_arn)
}

/// Find a document version in a region.
pub fn resolve(
    store: &dyn Store,
    region: &str,
    name_or_arn: &str,
    selector: Selector,
) -> Result<Resolved, Lookup> {
    if let Some(b) = builtin(name_or_arn) {
        return match selector {
            Selector::Default | Selector::Latest | Selector::Number(1) => Ok(Resolved {
                name: b.name.to_string(),
                builtin: true,
                version: 1,
                version_name: String::new(),
                content: b.content.to_string(),
                format: "JSON".into(),
                document_type: b.document_type.into(),
                hash: b.hash(),
                created_ms: b.created_ms,
                default_version: 1,
                latest_version: 1,
                target_type: String::new(),
                display_name: String::new(),
            }),
            _ => Err(Lookup::NoVersion),
        };
    }
    let name = bare_name(name_or_arn);
    let doc = store
        .get_document(region, name)?
        .ok_or(Lookup::NoDocument)?;
    let version = match selector {
        Selector::Default => store.document_version(region, name, doc.default_version)?,
        Selector::Latest => store.document_version(region, name, doc.latest_version)?,
        Selector::Number(n) => store.document_version(region, name, n)?,
        Selector::Name(vn) => store
            .document_versions(region, name)?
            .into_iter()
            .find(|v| v.version_name == vn),
    }
    .ok_or(Lookup::NoVersion)?;
    Ok(Resolved {
        name: doc.name,
        builtin: false,
        version: version.version,
        version_name: version.version_name,
        content: version.content,
        format: version.format,
        document_type: doc.document_type,
        hash: version.hash,
        created_ms: version.created_ms,
        default_version: doc.default_version,
        latest_version: doc.latest_version,
        target_type: doc.target_type,
        display_name: doc.display_name,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_parses_and_resolves_by_name_or_arn() {
        for d in super::BUILTINS {
            let value = super::content::parse(d.content, "JSON").unwrap();
            let facts = super::content::validate(&value, d.document_type).unwrap();
            assert!(!facts.parameters.is_empty());
            if d.document_type == "Automation" {
                bosun_core::automation::plan(&value)
                    .unwrap_or_else(|e| panic!("{} plans: {e}", d.name));
            }
        }
        let names: Vec<&str> = super::BUILTINS.iter().map(|d| d.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "listed by name");
        assert!(super::builtin("arn:aws:ssm:us-east-1::document/AWS-RunShellScript").is_some());
        assert!(super::builtin("AWS-Nope").is_none());
    }

    /// Bosun's own power runbooks: named like the reserved prefix, `NodeId` their one parameter
    /// (no role to assume), Bosun node ids only, and an output showing what they did.
    #[test]
    fn bosun_power_runbooks_take_node_ids_and_report_the_result() {
        use std::collections::BTreeMap;
        let mine: Vec<_> = super::BUILTINS
            .iter()
            .filter(|d| d.name.starts_with("Bosun-"))
            .collect();
        let names: Vec<&str> = mine.iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            ["Bosun-RestartNode", "Bosun-StartNode", "Bosun-StopNode"]
        );
        for d in mine {
            assert!(
                bosun_core::document::validate_document_name(d.name).is_err(),
                "{} is reserved",
                d.name
            );
            let value = super::content::parse(d.content, "JSON").unwrap();
            assert!(value.get("assumeRole").is_none(), "{}", d.name);
            let runbook = bosun_core::automation::plan(&value).unwrap();
            let declared: Vec<&str> = runbook.parameters.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(declared, ["NodeId"], "{}", d.name);
            assert!(!runbook.outputs.is_empty(), "{} shows its result", d.name);
            let description = value["description"].as_str().unwrap_or_default();
            assert!(description.len() > 40, "{}: {description}", d.name);
            let with = |ids: &[&str]| {
                let mut p = BTreeMap::new();
                p.insert(
                    "NodeId".to_string(),
                    ids.iter().map(|s| s.to_string()).collect(),
                );
                bosun_core::automation::resolve_parameters(&runbook, &p)
            };
            let typed = with(&["mi-0123456789abcdef0", "mi-0123456789abcdef1"]).unwrap();
            assert_eq!(typed["NodeId"].as_array().map(Vec::len), Some(2));
            assert!(with(&["i-0123456789abcdef0"]).is_err(), "{}", d.name);
            assert!(
                bosun_core::automation::resolve_parameters(&runbook, &BTreeMap::new()).is_err(),
                "{} needs a node",
                d.name
            );
        }
    }
}
