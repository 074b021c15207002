//! User documents: one row per document (type, default and latest version) and one per
//! version (content as written, its format and hash), plus account shares.

use crate::Result;

/// A document's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRecord {
    pub region: String,
    pub name: String,
    pub document_type: String,
    pub target_type: String,
    pub display_name: String,
    pub created_ms: i64,
    pub default_version: i64,
    pub latest_version: i64,
}

/// One version of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentVersionRecord {
    pub version: i64,
    pub version_name: String,
    pub content: String,
    pub format: String,
    pub schema_version: String,
    pub hash: String,
    pub requires_json: String,
    pub created_ms: i64,
}

/// Why a version could not be added.
#[derive(Debug, PartialEq, Eq)]
pub enum AddVersion {
    Added(i64),
    /// Some version already has exactly this content.
    DuplicateContent,
    /// Some version already has this version name.
    DuplicateVersionName,
    /// The document has as many versions as allowed.
    LimitExceeded,
    NoSuchDocument,
}

/// Documents, their versions and shares.
pub trait DocumentStore {
    /// Create a document with its first version and tags, atomically.
    ///
    /// Errors: `AlreadyExists` when the name is taken in the region, `LimitExceeded` when the
    /// region already holds `max_documents`. Serialised with other creations: concurrent
    /// creations never exceed the limit, and of two with the same name exactly one succeeds.
    fn create_document(
        &self,
        d: &DocumentRecord,
        first: &DocumentVersionRecord,
        tags: &[(String, String)],
        max_documents: usize,
    ) -> Result<()>;

    /// A document of a region.
    fn get_document(&self, region: &str, name: &str) -> Result<Option<DocumentRecord>>;

    /// Every document of a region, by name.
    fn list_documents(&self, region: &str) -> Result<Vec<DocumentRecord>>;

    /// One version of a document.
    fn document_version(
        &self,
        region: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<DocumentVersionRecord>>;

    /// Every kept version of a document, oldest first.
    fn document_versions(&self, region: &str, name: &str) -> Result<Vec<DocumentVersionRecord>>;

    /// Add the next version (numbered latest + 1; numbers are never reused, even after a
    /// version is deleted), refusing duplicate content (same hash) or version names, and a
    /// document that has `max_versions` versions. `v.version` is ignored.
    ///
    /// Atomic and serialised per document: concurrent additions get distinct numbers.
    fn add_document_version(
        &self,
        region: &str,
        name: &str,
        v: &DocumentVersionRecord,
        max_versions: usize,
    ) -> Result<AddVersion>;

    /// Make an existing version the default; `false` when it does not exist.
    fn set_default_document_version(&self, region: &str, name: &str, version: i64) -> Result<bool>;

    /// Delete a whole document, atomically with its versions, shares and tags; `false` when it
    /// did not exist.
    fn delete_document(&self, region: &str, name: &str) -> Result<bool>;

    /// Delete one version (the caller has checked it is not the default); `false` when it did
    /// not exist. The latest version number stays.
    fn delete_document_version(&self, region: &str, name: &str, version: i64) -> Result<bool>;

    /// Account ids a document is shared with, with the shared version, by account id.
    fn document_shares(&self, region: &str, name: &str) -> Result<Vec<(String, String)>>;

    /// Add and remove shares, atomically (removals first; an added account already shared gets
    /// the new version).
    fn modify_document_shares(
        &self,
        region: &str,
        name: &str,
        add: &[String],
        remove: &[String],
        version: &str,
    ) -> Result<()>;
}
