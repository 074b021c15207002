//! Document limits and names: the 64 KB content limit (`MaxDocumentSizeExceeded`), the
//! `CreateDocument` name rules with AWS's reserved prefixes (and Bosun's own `Bosun-`), and
//! `VersionName`.

use super::DocumentError;

/// The most bytes of content a document may hold (`MaxDocumentSizeExceeded`: "The size limit
/// of a document is 64 KB"). Counted in UTF-8 bytes of the content as sent.
pub const MAX_DOCUMENT_SIZE_BYTES: usize = 64 * 1024;

/// Refuse content over [`MAX_DOCUMENT_SIZE_BYTES`] (and empty content, which the model's
/// `DocumentContent` `min: 1` forbids).
pub fn check_content_size(content: &str) -> Result<(), DocumentError> {
    if content.len() > MAX_DOCUMENT_SIZE_BYTES {
        return Err(DocumentError::SizeExceeded(format!(
            "The content of the document is {} bytes; the limit is {MAX_DOCUMENT_SIZE_BYTES} bytes (64 KB).",
            content.len()
        )));
    }
    if content.is_empty() {
        return Err(DocumentError::content("The document content is empty."));
    }
    Ok(())
}

/// Name prefixes AWS keeps for its own documents (the model's CreateDocument `Name`
/// documentation: `aws`, `amazon`, `amzn`, `AWSEC2`, `AWSConfigRemediation`, `AWSSupport`).
/// The check ignores case: AWS's own documents are spelled `AWS-…`, `Amazon…`, and AWS's own
/// toolkit (AWS Toolkit for VS Code, `validateDocumentName`) refuses `AWS-` and `Amazon` too.
/// `Bosun-` is Bosun's own, for the runbooks it ships (`Bosun-StartNode`, …), refused in any
/// case as AWS's are.
pub const RESERVED_NAME_PREFIXES: &[&str] = &[
    "aws",
    "amazon",
    "amzn",
    "AWSEC2",
    "AWSConfigRemediation",
    "AWSSupport",
    "Bosun-",
];

fn name_chars_ok(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A name for a new document (`CreateDocument`): the model's `DocumentName` pattern
/// `^[a-zA-Z0-9_\-.]{3,128}$` and no reserved prefix. Errors are `ValidationException`s; the
/// message names the rule that failed.
pub fn validate_document_name(name: &str) -> Result<(), DocumentError> {
    if !(3..=128).contains(&name.len()) || !name_chars_ok(name) {
        return Err(DocumentError::InvalidName(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{{3,128}}$"
        )));
    }
    let lower = name.to_ascii_lowercase();
    if let Some(p) = RESERVED_NAME_PREFIXES
        .iter()
        .find(|p| lower.starts_with(&p.to_ascii_lowercase()))
    {
        return Err(DocumentError::InvalidName(format!(
            "Invalid document name {name}: names may not start with the reserved prefix {p} (reserved prefixes: {}, in any case).",
            RESERVED_NAME_PREFIXES.join(", ")
        )));
    }
    Ok(())
}

/// A `VersionName`: the model's `DocumentVersionName` pattern `^[a-zA-Z0-9_\-.]{1,128}$`
/// (uniqueness per document is the store's job).
pub fn validate_version_name(version_name: &str) -> Result<(), DocumentError> {
    if !(1..=128).contains(&version_name.len()) || !name_chars_ok(version_name) {
        return Err(DocumentError::InvalidName(format!(
            "1 validation error detected: Value '{version_name}' at 'versionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{{1,128}}$"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limit_is_64_kib() {
        assert!(check_content_size(&"x".repeat(MAX_DOCUMENT_SIZE_BYTES)).is_ok());
        let e = check_content_size(&"x".repeat(MAX_DOCUMENT_SIZE_BYTES + 1)).unwrap_err();
        assert_eq!(e.code(), "MaxDocumentSizeExceeded");
        // Bytes, not characters.
        assert!(check_content_size(&"é".repeat(MAX_DOCUMENT_SIZE_BYTES / 2 + 1)).is_err());
        assert_eq!(
            check_content_size("").unwrap_err().code(),
            "InvalidDocumentContent"
        );
    }

    #[test]
    fn document_names() {
        for ok in [
            "abc",
            "My-Doc_1.2",
            &"a".repeat(128),
            "awesome-doc",
            "Amaz0n",
            "BosunDeploy",
            "Bosun_Mine",
        ] {
            assert!(validate_document_name(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", &"a".repeat(129), "has space", "a/b", "é-doc", ""] {
            let e = validate_document_name(bad).unwrap_err();
            assert_eq!(e.code(), "ValidationException", "{bad}");
        }
        for reserved in [
            "AWS-RunShellScript",
            "aws-mine",
            "awsdoc",
            "Amazon-Thing",
            "AMZN.x",
            "AWSSupport-Foo",
            "AWSEC2-Bar",
            "AWSConfigRemediation-Baz",
            "Bosun-Mine",
            "bosun-startnode",
            "BOSUN-X",
        ] {
            let e = validate_document_name(reserved).unwrap_err();
            assert!(e.to_string().contains("reserved prefix"), "{reserved}: {e}");
        }
    }

    #[test]
    fn version_names() {
        assert!(validate_version_name("Release12.1").is_ok());
        assert!(validate_version_name("a").is_ok());
        assert!(validate_version_name("").is_err());
        assert!(validate_version_name("v 1").is_err());
        assert!(validate_version_name(&"v".repeat(129)).is_err());
    }
}
