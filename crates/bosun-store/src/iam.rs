//! Users, their access keys and their attached policies.

use rusqlite::{params, Connection, OptionalExtension};

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
    pub secret_access_key: String,
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
            "INSERT INTO access_keys (access_key_id, secret_access_key, user_name, active, created_ms) VALUES (?1,?2,?3,?4,?5)",
            params![key.access_key_id, key.secret_access_key, key.user_name, key.active, now_ms],
        )?;
        Ok(())
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
                "SELECT access_key_id, secret_access_key, user_name, active, created_ms FROM access_keys \
                 WHERE ?1 IS NULL OR user_name = ?1 ORDER BY user_name, created_ms, access_key_id",
            )?;
            let rows = stmt.query_map([user], |r| {
                Ok((
                    AccessKeyRecord {
                        access_key_id: r.get(0)?,
                        secret_access_key: r.get(1)?,
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

fn access_key_in(conn: &Connection, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT access_key_id, secret_access_key, user_name, active FROM access_keys WHERE access_key_id = ?1 AND active = 1",
    )?;
    Ok(stmt
        .query_row([access_key_id], |r| {
            Ok(AccessKeyRecord {
                access_key_id: r.get(0)?,
                secret_access_key: r.get(1)?,
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
