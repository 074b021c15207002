//! Users, their access keys and their attached policies.
//!
//! Secret access keys are stored only sealed: the store keeps the opaque bytes its caller
//! sealed (the server, with its keyring) and never sees the secret. Databases written before
//! secrets were sealed hold them in `secret_access_key`; [`Store::seal_plaintext_secrets`]
//! converts them and scrubs the plaintext from the file.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::{Result, Store, StoreError};

/// A user (principal) of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub name: String,
    pub created_ms: i64,
}

/// An access key and the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    /// The secret access key as sealed by the caller (opaque to the store).
    pub sealed_secret: String,
    pub user_name: String,
    pub active: bool,
}

/// A policy attached to a user: (policy name, JSON text).
pub type NamedPolicy = (String, String);

impl Store {
    /// Create a user; `AlreadyExists` if the name is taken.
    pub fn create_user(&self, name: &str, now_ms: i64) -> Result<()> {
        let n = self.conn().execute(
            "INSERT INTO users (name, created_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![name, now_ms],
        )?;
        if n == 0 {
            return Err(StoreError::AlreadyExists(format!("user {name}")));
        }
        Ok(())
    }

    pub fn list_users(&self) -> Result<Vec<UserRecord>> {
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

    /// Give a user a new access key.
    pub fn create_access_key(&self, key: &AccessKeyRecord, now_ms: i64) -> Result<()> {
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

    /// Every access key's id and sealed secret (active or not), for checking that the keyring
    /// can open them.
    pub fn sealed_secrets(&self) -> Result<Vec<(String, String)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT access_key_id, secret_sealed FROM access_keys WHERE secret_sealed IS NOT NULL ORDER BY access_key_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Seal the plaintext secrets a database from before sealing holds: `seal(access key id,
    /// secret)` gives the sealed form. One transaction stores every sealed form and clears every
    /// plaintext; freed bytes are zeroed (`secure_delete`) and the WAL is checkpointed and
    /// truncated, so the plaintext is gone from the files. Returns how many were sealed.
    pub fn seal_plaintext_secrets<E: From<StoreError>>(
        &self,
        mut seal: impl FnMut(&str, &str) -> std::result::Result<String, E>,
    ) -> std::result::Result<usize, E> {
        let mut conn = self.conn();
        let plaintext: Vec<(String, String)> = {
            let mut stmt = conn
                .prepare(
                    "SELECT access_key_id, secret_access_key FROM access_keys WHERE secret_access_key <> ''",
                )
                .map_err(StoreError::from)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(StoreError::from)?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(StoreError::from)?
        };
        if plaintext.is_empty() {
            return Ok(0);
        }
        let mut sealed = Vec::with_capacity(plaintext.len());
        for (id, secret) in &plaintext {
            sealed.push((id, seal(id, secret)?));
        }
        set_secure_delete(&conn, true)?;
        let converted = (|| -> Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for ((id, secret), (_, sealed)) in plaintext.iter().zip(&sealed) {
                // Only the plaintext just read: a key changed meanwhile is left for next time.
                tx.execute(
                    "UPDATE access_keys SET secret_sealed = ?2, secret_access_key = '' WHERE access_key_id = ?1 AND secret_access_key = ?3",
                    params![id, sealed, secret],
                )?;
            }
            tx.commit()?;
            Ok(())
        })();
        let restored = set_secure_delete(&conn, false);
        converted?;
        restored?;
        // Copy the scrubbed pages into the database file and empty the WAL, whose older frames
        // may still hold the plaintext.
        let (busy, _, _): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(StoreError::from)?;
        if busy != 0 {
            tracing::warn!("another connection kept the WAL from being truncated after sealing access-key secrets");
        }
        Ok(plaintext.len())
    }

    /// Look up an active access key.
    pub fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
        self.read(|conn| access_key_in(conn, access_key_id))
    }

    /// An active access key and its user's policies, read together: what
    /// authenticating and authorizing one API call needs, in one visit to the database.
    pub fn access_key_and_policies(
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

    /// Attach (or replace) a named inline policy on a user.
    pub fn put_user_policy(
        &self,
        user_name: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<()> {
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

    /// Detach a policy; `false` when it was not attached.
    pub fn delete_user_policy(&self, user_name: &str, policy_name: &str) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM user_policies WHERE user_name = ?1 AND policy_name = ?2",
            params![user_name, policy_name],
        )?;
        Ok(n > 0)
    }

    /// Every access key (active or not), optionally of one user: (key, created ms), by user
    /// then creation time.
    pub fn list_access_keys(&self, user: Option<&str>) -> Result<Vec<(AccessKeyRecord, i64)>> {
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

    /// Mark an access key inactive (calls signed with it are refused); `NotFound` if unknown.
    pub fn deactivate_access_key(&self, access_key_id: &str) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE access_keys SET active = 0 WHERE access_key_id = ?1",
            [access_key_id],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("access key {access_key_id}")));
        }
        Ok(())
    }

    /// Delete an access key; `NotFound` if unknown.
    pub fn delete_access_key(&self, access_key_id: &str) -> Result<()> {
        let n = self.conn().execute(
            "DELETE FROM access_keys WHERE access_key_id = ?1",
            [access_key_id],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("access key {access_key_id}")));
        }
        Ok(())
    }

    /// The policy documents attached to a user: (name, JSON text).
    pub fn user_policies(&self, user_name: &str) -> Result<Vec<(String, String)>> {
        self.read(|conn| policies_in(conn, user_name))
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

    #[test]
    fn plaintext_secrets_are_sealed_in_one_go_and_scrubbed_from_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bosun.db");
        let store = Store::open(&path).unwrap();
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

        // A failing seal changes nothing.
        let failed: std::result::Result<usize, StoreError> =
            store.seal_plaintext_secrets(|_, _| Err(StoreError::Corrupt("no key".into())));
        assert!(failed.is_err());
        assert_eq!(store.sealed_secrets().unwrap(), vec![]);

        // The old rows in the database file itself, as after a clean shutdown of an old version.
        store
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        assert!(secrets.iter().all(|s| contains(&path, s)));
        // Sealed forms are longer than the secrets, as real ones are: the rows move.
        let sealed = |id: &str, secret: &str| -> Result<String> {
            Ok(format!("sealed:{id}:{}:{}", secret.len(), "s".repeat(200)))
        };
        assert_eq!(store.seal_plaintext_secrets(sealed).unwrap(), 2);
        assert_eq!(
            store.seal_plaintext_secrets(sealed).unwrap(),
            0,
            "nothing left"
        );
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

    #[test]
    fn the_database_files_are_private_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bosun.db");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = Store::open(&path).unwrap();
        store.create_user("alice", 1).unwrap();
        for name in ["bosun.db", "bosun.db-wal", "bosun.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
}
