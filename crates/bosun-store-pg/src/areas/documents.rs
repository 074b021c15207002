//! The documents area of the store on PostgreSQL ([`bosun_store::DocumentStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl DocumentStore for PgStore {
    fn create_document(
        &self,
        d: &DocumentRecord,
        first: &DocumentVersionRecord,
        tags: &[(String, String)],
        max_documents: usize,
    ) -> Result<()> {
        todo!("PostgreSQL: documents")
    }

    fn get_document(&self, region: &str, name: &str) -> Result<Option<DocumentRecord>> {
        todo!("PostgreSQL: documents")
    }

    fn list_documents(&self, region: &str) -> Result<Vec<DocumentRecord>> {
        todo!("PostgreSQL: documents")
    }

    fn document_version(
        &self,
        region: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<DocumentVersionRecord>> {
        todo!("PostgreSQL: documents")
    }

    fn document_versions(&self, region: &str, name: &str) -> Result<Vec<DocumentVersionRecord>> {
        todo!("PostgreSQL: documents")
    }

    fn add_document_version(
        &self,
        region: &str,
        name: &str,
        v: &DocumentVersionRecord,
        max_versions: usize,
    ) -> Result<AddVersion> {
        todo!("PostgreSQL: documents")
    }

    fn set_default_document_version(&self, region: &str, name: &str, version: i64) -> Result<bool> {
        todo!("PostgreSQL: documents")
    }

    fn delete_document(&self, region: &str, name: &str) -> Result<bool> {
        todo!("PostgreSQL: documents")
    }

    fn delete_document_version(&self, region: &str, name: &str, version: i64) -> Result<bool> {
        todo!("PostgreSQL: documents")
    }

    fn document_shares(&self, region: &str, name: &str) -> Result<Vec<(String, String)>> {
        todo!("PostgreSQL: documents")
    }

    fn modify_document_shares(
        &self,
        region: &str,
        name: &str,
        add: &[String],
        remove: &[String],
        version: &str,
    ) -> Result<()> {
        todo!("PostgreSQL: documents")
    }
}
