//! The audit area of the store on PostgreSQL ([`bosun_store::AuditStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl AuditStore for PgStore {
    fn append_audit(&self, r: &AuditRecord) -> Result<()> {
        todo!("PostgreSQL: audit")
    }

    fn audit_records(&self) -> Result<Vec<(i64, AuditRecord)>> {
        todo!("PostgreSQL: audit")
    }

    fn verify_audit(&self) -> Result<AuditVerification> {
        todo!("PostgreSQL: audit")
    }
}
