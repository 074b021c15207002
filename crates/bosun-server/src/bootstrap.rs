//! First start: create the `admin` user with full access and write its key where the operator
//! can read it (`<data-dir>/credentials`, AWS shared-credentials format, mode 0600; the
//! database holds the secret only sealed).

use std::path::Path;

use anyhow::Context;
use bosun_store::prelude::*;

use crate::admin;
use crate::config::ServerConfig;
use crate::kms::Keyring;
use bosun_fs::write_atomic;

/// The policy the first user gets.
pub const ADMINISTRATOR_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Create the admin user and credentials file when the database has no users yet.
pub fn ensure_admin(
    store: &dyn Store,
    keyring: &Keyring,
    config: &ServerConfig,
) -> anyhow::Result<()> {
    if !store.list_users()?.is_empty() {
        return Ok(());
    }
    // Replicas starting together on an empty database race here: the store's unique user name
    // lets one create the admin (and write the key to its own data dir); the others go on.
    match store.create_user("admin", crate::state::now_ms()) {
        Ok(()) => {}
        Err(bosun_store::StoreError::AlreadyExists(_)) => {
            tracing::info!(
                "another server created the admin user; its key is in that server's data dir"
            );
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }
    admin::audit(store, "iam:CreateUser", "admin")?;
    admin::put_user_policy(store, "admin", "AdministratorAccess", ADMINISTRATOR_POLICY)?;
    let (akid, secret) = admin::create_access_key(store, keyring, "admin")?;
    write_credentials(&config.credentials_path(), &akid, &secret)?;
    write_atomic(
        &config.data_dir.join("config"),
        format!("[default]\nregion = {}\n", config.default_region).as_bytes(),
        0o600,
    )
    .context("writing the AWS config file")?;
    tracing::info!(path = %config.credentials_path().display(), "created the admin access key");
    Ok(())
}

/// Write a shared-credentials file with one `default` profile.
pub fn write_credentials(path: &Path, akid: &str, secret: &str) -> anyhow::Result<()> {
    let text = format!("[default]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}\n");
    write_atomic(path, text.as_bytes(), 0o600)
        .with_context(|| format!("writing {}", path.display()))
}
