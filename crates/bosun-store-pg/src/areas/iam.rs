//! The iam area of the store on PostgreSQL ([`bosun_store::IamStore`]).
//!
//! Secrets are written sealed only (`secret_sealed`; `secret_access_key` is left `''`). The
//! plaintext column exists for parity with SQLite databases from before sealing, so a
//! PostgreSQL database never holds a plaintext unless one is written there by hand; the
//! plaintext methods still read and convert it exactly as the SQLite engine does, without its
//! file scrubbing (PostgreSQL has no such step).
//!
//! Uniqueness races are settled by primary keys: a user's creation and a policy's upsert are
//! one `INSERT … ON CONFLICT` each. Every read is one statement, so it sees one snapshot.

use bosun_store::{AccessKeyRecord, IamStore, NamedPolicy, Result, StoreError, UserRecord};
use tokio_postgres::Row;

use crate::PgStore;

/// An access key's columns as [`key_from_row`] reads them.
const KEY_COLUMNS: &str = "access_key_id, COALESCE(secret_sealed, ''), user_name, active";

fn key_from_row(r: &Row) -> std::result::Result<AccessKeyRecord, tokio_postgres::Error> {
    Ok(AccessKeyRecord {
        access_key_id: r.try_get(0)?,
        sealed_secret: r.try_get(1)?,
        user_name: r.try_get(2)?,
        active: r.try_get(3)?,
    })
}

fn pairs(rows: &[Row]) -> std::result::Result<Vec<(String, String)>, tokio_postgres::Error> {
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

impl IamStore for PgStore {
    fn create_user(&self, name: &str, now_ms: i64) -> Result<()> {
        let created = self.with_client(async |client| {
            Ok(client
                .execute(
                    "INSERT INTO users (name, created_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&name, &now_ms],
                )
                .await?)
        })?;
        if created == 0 {
            return Err(StoreError::AlreadyExists(format!("user {name}")));
        }
        Ok(())
    }

    fn list_users(&self) -> Result<Vec<UserRecord>> {
        Ok(self.with_client(async |client| {
            let rows = client
                .query(
                    "SELECT name, created_ms FROM users ORDER BY name COLLATE \"C\"",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    Ok(UserRecord {
                        name: r.try_get(0)?,
                        created_ms: r.try_get(1)?,
                    })
                })
                .collect::<std::result::Result<_, tokio_postgres::Error>>()?)
        })?)
    }

    fn create_access_key(&self, key: &AccessKeyRecord, now_ms: i64) -> Result<()> {
        // Inserting from the user's row makes "the user exists" and the insert one statement.
        let created = self.with_client(async |client| {
            Ok(client
                .execute(
                    "INSERT INTO access_keys \
                     (access_key_id, secret_access_key, secret_sealed, user_name, active, created_ms) \
                     SELECT $1::TEXT, '', $2::TEXT, name, $4::BOOLEAN, $5::BIGINT FROM users WHERE name = $3",
                    &[
                        &key.access_key_id,
                        &key.sealed_secret,
                        &key.user_name,
                        &key.active,
                        &now_ms,
                    ],
                )
                .await?)
        })?;
        if created == 0 {
            return Err(StoreError::NotFound(format!("user {}", key.user_name)));
        }
        Ok(())
    }

    fn sealed_secrets(&self) -> Result<Vec<(String, String)>> {
        Ok(self.with_client(async |client| {
            let rows = client
                .query(
                    "SELECT access_key_id, secret_sealed FROM access_keys \
                     WHERE secret_sealed IS NOT NULL ORDER BY access_key_id COLLATE \"C\"",
                    &[],
                )
                .await?;
            Ok(pairs(&rows)?)
        })?)
    }

    fn plaintext_secrets(&self) -> Result<Vec<(String, String)>> {
        Ok(self.with_client(async |client| {
            let rows = client
                .query(
                    "SELECT access_key_id, secret_access_key FROM access_keys \
                     WHERE secret_access_key <> '' ORDER BY access_key_id COLLATE \"C\"",
                    &[],
                )
                .await?;
            Ok(pairs(&rows)?)
        })?)
    }

    fn replace_plaintext_secrets(&self, sealed: &[(String, String, String)]) -> Result<usize> {
        if sealed.is_empty() {
            return Ok(0);
        }
        Ok(self.transaction(async |tx| {
            let mut converted = 0;
            for (id, secret, sealed) in sealed {
                // Compare-and-set on the plaintext the caller read: a key changed meanwhile is
                // left for next time.
                converted += tx
                    .execute(
                        "UPDATE access_keys SET secret_sealed = $2, secret_access_key = '' \
                         WHERE access_key_id = $1 AND secret_access_key = $3",
                        &[id, sealed, secret],
                    )
                    .await?;
            }
            Ok(converted as usize)
        })?)
    }

    fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
        let select = format!(
            "SELECT {KEY_COLUMNS} FROM access_keys \
             WHERE access_key_id = $1 AND active AND secret_sealed IS NOT NULL"
        );
        Ok(self.with_client(async |client| {
            let row = client.query_opt(&select, &[&access_key_id]).await?;
            Ok(row.as_ref().map(key_from_row).transpose()?)
        })?)
    }

    fn access_key_and_policies(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(AccessKeyRecord, Vec<NamedPolicy>)>> {
        // One statement, one snapshot: the key's row repeated once per policy (once with NULLs
        // when its user has none).
        let select = "SELECT k.access_key_id, k.secret_sealed, k.user_name, k.active, \
                      p.policy_name, p.document \
                      FROM access_keys k LEFT JOIN user_policies p ON p.user_name = k.user_name \
                      WHERE k.access_key_id = $1 AND k.active AND k.secret_sealed IS NOT NULL \
                      ORDER BY p.policy_name COLLATE \"C\"";
        Ok(self.with_client(async |client| {
            // Prepared once per connection: every signed API call reads its key.
            let statement = client.prepare_cached(select).await?;
            let rows = client.query(&statement, &[&access_key_id]).await?;
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            let key = key_from_row(first)?;
            let mut policies = Vec::with_capacity(rows.len());
            for row in &rows {
                let name: Option<String> = row.try_get(4)?;
                let document: Option<String> = row.try_get(5)?;
                if let (Some(name), Some(document)) = (name, document) {
                    policies.push((name, document));
                }
            }
            Ok(Some((key, policies)))
        })?)
    }

    fn put_user_policy(&self, user_name: &str, policy_name: &str, document: &str) -> Result<()> {
        let stored = self.with_client(async |client| {
            Ok(client
                .execute(
                    "INSERT INTO user_policies (user_name, policy_name, document) \
                     SELECT name, $2::TEXT, $3::TEXT FROM users WHERE name = $1 \
                     ON CONFLICT (user_name, policy_name) DO UPDATE SET document = EXCLUDED.document",
                    &[&user_name, &policy_name, &document],
                )
                .await?)
        })?;
        if stored == 0 {
            return Err(StoreError::NotFound(format!("user {user_name}")));
        }
        Ok(())
    }

    fn delete_user_policy(&self, user_name: &str, policy_name: &str) -> Result<bool> {
        let deleted = self.with_client(async |client| {
            Ok(client
                .execute(
                    "DELETE FROM user_policies WHERE user_name = $1 AND policy_name = $2",
                    &[&user_name, &policy_name],
                )
                .await?)
        })?;
        Ok(deleted > 0)
    }

    fn list_access_keys(&self, user: Option<&str>) -> Result<Vec<(AccessKeyRecord, i64)>> {
        let select = format!(
            "SELECT {KEY_COLUMNS}, created_ms FROM access_keys \
             WHERE $1::TEXT IS NULL OR user_name = $1 \
             ORDER BY user_name COLLATE \"C\", created_ms, access_key_id COLLATE \"C\""
        );
        Ok(self.with_client(async |client| {
            let rows = client.query(&select, &[&user]).await?;
            Ok(rows
                .iter()
                .map(|r| Ok((key_from_row(r)?, r.try_get(4)?)))
                .collect::<std::result::Result<_, tokio_postgres::Error>>()?)
        })?)
    }

    fn deactivate_access_key(&self, access_key_id: &str) -> Result<()> {
        let changed = self.with_client(async |client| {
            Ok(client
                .execute(
                    "UPDATE access_keys SET active = FALSE WHERE access_key_id = $1",
                    &[&access_key_id],
                )
                .await?)
        })?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("access key {access_key_id}")));
        }
        Ok(())
    }

    fn delete_access_key(&self, access_key_id: &str) -> Result<()> {
        let deleted = self.with_client(async |client| {
            Ok(client
                .execute(
                    "DELETE FROM access_keys WHERE access_key_id = $1",
                    &[&access_key_id],
                )
                .await?)
        })?;
        if deleted == 0 {
            return Err(StoreError::NotFound(format!("access key {access_key_id}")));
        }
        Ok(())
    }

    fn user_policies(&self, user_name: &str) -> Result<Vec<(String, String)>> {
        Ok(self.with_client(async |client| {
            let rows = client
                .query(
                    "SELECT policy_name, document FROM user_policies WHERE user_name = $1 \
                     ORDER BY policy_name COLLATE \"C\"",
                    &[&user_name],
                )
                .await?;
            Ok(pairs(&rows)?)
        })?)
    }

    fn tag_user(&self, user_name: &str, key: &str, value: &str) -> Result<()> {
        let stored = self.with_client(async |client| {
            Ok(client
                .execute(
                    "INSERT INTO user_tags (user_name, key, value) \
                     SELECT name, $2::TEXT, $3::TEXT FROM users WHERE name = $1 \
                     ON CONFLICT (user_name, key) DO UPDATE SET value = EXCLUDED.value",
                    &[&user_name, &key, &value],
                )
                .await?)
        })?;
        if stored == 0 {
            return Err(StoreError::NotFound(format!("user {user_name}")));
        }
        Ok(())
    }

    fn untag_user(&self, user_name: &str, key: &str) -> Result<bool> {
        let deleted = self.with_client(async |client| {
            Ok(client
                .execute(
                    "DELETE FROM user_tags WHERE user_name = $1 AND key = $2",
                    &[&user_name, &key],
                )
                .await?)
        })?;
        Ok(deleted > 0)
    }

    fn user_tags(&self, user_name: &str) -> Result<Vec<(String, String)>> {
        Ok(self.with_client(async |client| {
            let rows = client
                .query(
                    "SELECT key, value FROM user_tags WHERE user_name = $1 \
                     ORDER BY key COLLATE \"C\"",
                    &[&user_name],
                )
                .await?;
            Ok(pairs(&rows)?)
        })?)
    }
}
