//! Users, access keys and policies on SQLite, and the conversion of plaintext secrets left by
//! versions before sealing (`secret_access_key`), scrubbed with `secure_delete` and a WAL
//! checkpoint.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::SqliteStore;
use crate::iam::{AccessKeyRecord, IamStore, NamedPolicy, UserRecord};
use crate::{Result, StoreError};

impl IamStore for SqliteStore {
    fn create_user(&self, name: &str, now_ms: i64) -> Result<()> {
        let n = self.conn().execute(
            "INSERT INTO users (name, created_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![name, now_ms],
        )?;
        if n == 0 {
            return Err(StoreError::AlreadyExists(format!("user {name}")));
        }
        Ok(())
    }

    fn list_users(&self) -> Result<Vec<UserRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare("SELECT name, created_ms FROM users ORDER BY name")?;
            let rows = stmt.query_map([], |r| {
                Ok(UserRecord {
                    name: r.get(0)?,
                    created_ms: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn create_access_key(&self, key: &AccessKeyRecord, now_ms: i64) -> Result<()> {
        let conn = self.conn();
        let exists: bool = conn
            .query_row(
                "SELECT 1 FROM users WHERE name = ?1",
                [&key.user_name],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !exists {
            return Err(StoreError::NotFound(format!("user {}", key.user_name)));
        }
        conn.execute(
            "INSERT INTO access_keys (access_key_id, secret_access_key, secret_sealed, user_name, active, created_ms) VALUES (?1,'',?2,?3,?4,?5)",
            params![key.access_key_id, key.sealed_secret, key.user_name, key.active, now_ms],
        )?;
        Ok(())
    }

    fn sealed_secrets(&self) -> Result<Vec<(String, String)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT access_key_id, secret_sealed FROM access_keys WHERE secret_sealed IS NOT NULL ORDER BY access_key_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn plaintext_secrets(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT access_key_id, secret_access_key FROM access_keys WHERE secret_access_key <> '' ORDER BY access_key_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn replace_plaintext_secrets(&self, sealed: &[(String, String, String)]) -> Result<usize> {
        if sealed.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn();
        set_secure_delete(&conn, true)?;
        let converted = (|| -> Result<usize> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut converted = 0;
            for (id, secret, sealed) in sealed {
                // Only the plaintext the caller read: a key changed meanwhile is left for next
                // time.
                converted += tx.execute(
                    "UPDATE access_keys SET secret_sealed = ?2, secret_access_key = '' WHERE access_key_id = ?1 AND secret_access_key = ?3",
                    params![id, sealed, secret],
                )?;
            }
            tx.commit()?;
            Ok(converted)
        })();
        let restored = set_secure_delete(&conn, false);
        let converted = converted?;
        restored?;
        // Copy the scrubbed pages into the database file and empty the WAL, whose older frames
        // may still hold the plaintext.
        let (busy, _, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if busy != 0 {
            tracing::warn!("another connection kept the WAL from being truncated after sealing access-key secrets");
        }
        Ok(converted)
    }

    fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
        self.read(|conn| access_key_in(conn, access_key_id))
    }

    fn access_key_and_policies(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(AccessKeyRecord, Vec<NamedPolicy>)>> {
        self.read(|conn| {
            let Some(key) = access_key_in(conn, access_key_id)? else {
                return Ok(None);
            };
            let policies = policies_in(conn, &key.user_name)?;
            Ok(Some((key, policies)))
        })
    }

    fn put_user_policy(&self, user_name: &str, policy_name: &str, document: &str) -> Result<()> {
        let conn = self.conn();
        let n = conn.execute(
            "INSERT INTO user_policies (user_name, policy_name, document) SELECT name, ?2, ?3 FROM users WHERE name = ?1 \
             ON CONFLICT (user_name, policy_name) DO UPDATE SET document = excluded.document",
            params![user_name, policy_name, document],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {user_name}")));
        }
        Ok(())
    }

    fn delete_user_policy(&self, user_name: &str, policy_name: &str) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM user_policies WHERE user_name = ?1 AND policy_name = ?2",
            params![user_name, policy_name],
        )?;
        Ok(n > 0)
    }

    fn list_access_keys(&self, user: Option<&str>) -> Result<Vec<(AccessKeyRecord, i64)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT access_key_id, COALESCE(secret_sealed, ''), user_name, active, created_ms FROM access_keys \
                 WHERE ?1 IS NULL OR user_name = ?1 ORDER BY user_name, created_ms, access_key_id",
            )?;
            let rows = stmt.query_map([user], |r| {
                Ok((
                    AccessKeyRecord {
                        access_key_id: r.get(0)?,
                        sealed_secret: r.get(1)?,
                        user_name: r.get(2)?,
                        active: r.get(3)?,
                    },
                    r.get(4)?,
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn deactivate_access_key(&self, access_key_id: &str) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE access_keys SET active = 0 WHERE access_key_id = ?1",
            [access_key_id],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("access key {access_key_id}")));
        }
        Ok(())
    }

    fn delete_access_key(&self, access_key_id: &str) -> Result<()> {
        let n = self.conn().execute(
            "DELETE FROM access_keys WHERE access_key_id = ?1",
            [access_key_id],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("access key {access_key_id}")));
        }
        Ok(())
    }

    fn user_policies(&self, user_name: &str) -> Result<Vec<(String, String)>> {
        self.read(|conn| policies_in(conn, user_name))
    }

    fn tag_user(&self, user_name: &str, key: &str, value: &str) -> Result<()> {
        let n = self.conn().execute(
            "INSERT INTO user_tags (user_name, key, value) SELECT name, ?2, ?3 FROM users WHERE name = ?1 \
             ON CONFLICT (user_name, key) DO UPDATE SET value = excluded.value",
            params![user_name, key, value],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {user_name}")));
        }
        Ok(())
    }

    fn untag_user(&self, user_name: &str, key: &str) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM user_tags WHERE user_name = ?1 AND key = ?2",
            params![user_name, key],
        )?;
        Ok(n > 0)
    }

    fn user_tags(&self, user_name: &str) -> Result<Vec<(String, String)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT key, value FROM user_tags WHERE user_name = ?1 ORDER BY key",
            )?;
            let rows = stmt.query_map([user_name], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

fn set_secure_delete(conn: &Connection, on: bool) -> Result<()> {
    let mut stmt = conn.prepare(&format!("PRAGMA secure_delete = {}", on as u8))?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

/// An active key whose secret is sealed (a plaintext one left by an older version is not
/// usable until the server seals it at start).
fn access_key_in(conn: &Connection, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT access_key_id, secret_sealed, user_name, active FROM access_keys WHERE access_key_id = ?1 AND active = 1 AND secret_sealed IS NOT NULL",
    )?;
    Ok(stmt
        .query_row([access_key_id], |r| {
            Ok(AccessKeyRecord {
                access_key_id: r.get(0)?,
                sealed_secret: r.get(1)?,
                user_name: r.get(2)?,
                active: r.get(3)?,
            })
        })
        .optional()?)
}

fn policies_in(conn: &Connection, user_name: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT policy_name, document FROM user_policies WHERE user_name = ?1 ORDER BY policy_name",
    )?;
    let rows = stmt.query_map([user_name], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(path: &std::path::Path, needle: &str) -> bool {
        std::fs::read(path)
            .unwrap_or_default()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    /// What `access_keys::seal_plaintext` does in the server, with a stand-in for sealing.
    /// Sealed forms are longer than the secrets, as real ones are: the rows move.
    fn seal_all(store: &SqliteStore) -> usize {
        let sealed: Vec<(String, String, String)> = store
            .plaintext_secrets()
            .unwrap()
            .into_iter()
            .map(|(id, secret)| {
                let sealed = format!("sealed:{id}:{}:{}", secret.len(), "s".repeat(200));
                (id, secret, sealed)
            })
            .collect();
        store.replace_plaintext_secrets(&sealed).unwrap()
    }

    #[test]
    fn plaintext_secrets_are_sealed_in_one_go_and_scrubbed_from_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bosun.db");
        let store = SqliteStore::open(&path).unwrap();
        store.create_user("alice", 1).unwrap();
        let secrets = [
            "plaintextSecretNumberOne0123456789abcdef",
            "plaintextSecretNumberTwo0123456789abcdef",
        ];
        for (i, secret) in secrets.iter().enumerate() {
            // What versions before sealing stored.
            store
                .conn()
                .execute(
                    "INSERT INTO access_keys (access_key_id, secret_access_key, user_name, active, created_ms) VALUES (?1, ?2, 'alice', 1, 0)",
                    params![format!("AKIAOLD{i}"), secret],
                )
                .unwrap();
        }
        assert!(
            store.access_key("AKIAOLD0").unwrap().is_none(),
            "unsealed keys are not usable"
        );
        let wal = dir.path().join("bosun.db-wal");
        assert!(secrets
            .iter()
            .all(|s| contains(&path, s) || contains(&wal, s)));
        assert_eq!(
            store.plaintext_secrets().unwrap(),
            [
                ("AKIAOLD0".to_string(), secrets[0].to_string()),
                ("AKIAOLD1".to_string(), secrets[1].to_string())
            ]
        );

        // A sealed form for a plaintext that is no longer stored changes nothing.
        let stale = [(
            "AKIAOLD0".to_string(),
            "anOlderPlaintext".to_string(),
            "sealed:stale".to_string(),
        )];
        assert_eq!(store.replace_plaintext_secrets(&stale).unwrap(), 0);
        assert_eq!(store.sealed_secrets().unwrap(), vec![]);

        // The old rows in the database file itself, as after a clean shutdown of an old version.
        store
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        assert!(secrets.iter().all(|s| contains(&path, s)));
        assert_eq!(seal_all(&store), 2);
        assert_eq!(seal_all(&store), 0, "nothing left");
        let key = store.access_key("AKIAOLD1").unwrap().unwrap();
        assert!(key.sealed_secret.starts_with("sealed:AKIAOLD1:40:"));
        assert_eq!(store.sealed_secrets().unwrap().len(), 2);
        for secret in secrets {
            assert!(
                !contains(&path, secret),
                "plaintext left in the database file"
            );
            assert!(!contains(&wal, secret), "plaintext left in the WAL");
        }
    }
}
