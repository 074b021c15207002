//! The iam area of the store on PostgreSQL ([`bosun_store::IamStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl IamStore for PgStore {
    fn create_user(&self, name: &str, now_ms: i64) -> Result<()> {
        todo!("PostgreSQL: iam")
    }

    fn list_users(&self) -> Result<Vec<UserRecord>> {
        todo!("PostgreSQL: iam")
    }

    fn create_access_key(&self, key: &AccessKeyRecord, now_ms: i64) -> Result<()> {
        todo!("PostgreSQL: iam")
    }

    fn sealed_secrets(&self) -> Result<Vec<(String, String)>> {
        todo!("PostgreSQL: iam")
    }

    fn plaintext_secrets(&self) -> Result<Vec<(String, String)>> {
        todo!("PostgreSQL: iam")
    }

    fn replace_plaintext_secrets(&self, sealed: &[(String, String, String)]) -> Result<usize> {
        todo!("PostgreSQL: iam")
    }

    fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
        todo!("PostgreSQL: iam")
    }

    fn access_key_and_policies(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(AccessKeyRecord, Vec<NamedPolicy>)>> {
        todo!("PostgreSQL: iam")
    }

    fn put_user_policy(&self, user_name: &str, policy_name: &str, document: &str) -> Result<()> {
        todo!("PostgreSQL: iam")
    }

    fn delete_user_policy(&self, user_name: &str, policy_name: &str) -> Result<bool> {
        todo!("PostgreSQL: iam")
    }

    fn list_access_keys(&self, user: Option<&str>) -> Result<Vec<(AccessKeyRecord, i64)>> {
        todo!("PostgreSQL: iam")
    }

    fn deactivate_access_key(&self, access_key_id: &str) -> Result<()> {
        todo!("PostgreSQL: iam")
    }

    fn delete_access_key(&self, access_key_id: &str) -> Result<()> {
        todo!("PostgreSQL: iam")
    }

    fn user_policies(&self, user_name: &str) -> Result<Vec<(String, String)>> {
        todo!("PostgreSQL: iam")
    }
}
