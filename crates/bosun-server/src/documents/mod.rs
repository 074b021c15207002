//! Documents the server knows: for now the built-in `AWS-*` library, each written by us to
//! behave as AWS documents it. User documents arrive with the documents issue.

use bosun_core::document::CommandDocument;

/// A built-in document.
pub struct BuiltinDocument {
    pub name: &'static str,
    pub content: &'static str,
    pub platform_types: &'static [&'static str],
    /// When the built-in was first shipped (epoch ms), reported as `CreatedDate`.
    pub created_ms: i64,
}

pub const BUILTINS: &[BuiltinDocument] = &[BuiltinDocument {
    name: "AWS-RunShellScript",
    content: include_str!("AWS-RunShellScript.json"),
    platform_types: &["Linux", "MacOS"],
    created_ms: 1_795_219_200_000,
}];

/// Look up a document by name or by ARN (`arn:aws:ssm:<region>::document/<name>`).
pub fn builtin(name_or_arn: &str) -> Option<&'static BuiltinDocument> {
    let name = name_or_arn
        .rsplit_once(":document/")
        .map(|(_, n)| n)
        .unwrap_or(name_or_arn);
    BUILTINS.iter().find(|d| d.name == name)
}

impl BuiltinDocument {
    pub fn parsed(&self) -> CommandDocument {
        CommandDocument::parse_json(self.content).expect("built-in documents parse")
    }

    pub fn hash(&self) -> String {
        CommandDocument::sha256(self.content)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_parses_and_resolves_by_name_or_arn() {
        for d in super::BUILTINS {
            let doc = d.parsed();
            assert!(!doc.parameters.is_empty());
        }
        assert!(super::builtin("arn:aws:ssm:us-east-1::document/AWS-RunShellScript").is_some());
        assert!(super::builtin("AWS-Nope").is_none());
    }
}
