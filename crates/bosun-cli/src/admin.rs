//! `bosun admin …` and `bosun param events`' store access: work directly on the data
//! directory's database, as an operator who can read it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use bosun_server::ServerConfig;
use bosun_store::prelude::*;

use crate::cli::AdminCommand;
use crate::table;

/// Open the store of `data_dir` (or `database`, the server's `--database`), refusing to
/// create a SQLite one where there is none. Blocks: call it off the async threads.
pub fn open_store(data_dir: &Path, database: Option<String>) -> anyhow::Result<Arc<dyn Store>> {
    let config = ServerConfig {
        data_dir: data_dir.to_path_buf(),
        database,
        ..ServerConfig::default()
    };
    let sqlite = matches!(
        config.database().map_err(anyhow::Error::msg)?,
        bosun_server::config::Database::Sqlite(_)
    );
    if sqlite && config.database.is_none() && !config.database_path().exists() {
        anyhow::bail!(
            "no Bosun database in {}: pass --data-dir (or set BOSUN_DATA_DIR) to the server's data \
             directory",
            data_dir.display()
        );
    }
    Ok(bosun_server::open_store(&config)?.store)
}

fn date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub fn run(
    command: AdminCommand,
    data_dir: &Path,
    kms_key_file: Option<PathBuf>,
    database: Option<String>,
) -> anyhow::Result<()> {
    let store = open_store(data_dir, database)?;
    let config = ServerConfig {
        data_dir: data_dir.to_path_buf(),
        kms_key_file,
        ..ServerConfig::default()
    };
    match command {
        AdminCommand::CreateUser { name } => {
            bosun_server::admin::create_user(&*store, &name)?;
            println!("created user {name}");
        }
        AdminCommand::ListUsers => {
            let keys = store.list_access_keys(None)?;
            let mut rows = Vec::new();
            for u in store.list_users()? {
                let active = keys
                    .iter()
                    .filter(|(k, _)| k.user_name == u.name && k.active)
                    .count();
                let policies: Vec<String> = store
                    .user_policies(&u.name)?
                    .into_iter()
                    .map(|(name, _)| name)
                    .collect();
                let tags: Vec<String> = store
                    .user_tags(&u.name)?
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                rows.push(vec![
                    u.name.clone(),
                    date(u.created_ms),
                    active.to_string(),
                    policies.join(","),
                    tags.join(","),
                ]);
            }
            print!(
                "{}",
                table::render(
                    &["USER", "CREATED", "ACTIVE KEYS", "POLICIES", "TAGS"],
                    &rows
                )
            );
        }
        AdminCommand::CreateKey { user, output } => {
            let keyring = bosun_server::access_keys::keyring_for_admin(
                &*store,
                &config.kms_keyring_path(),
                jiff::Timestamp::now().as_millisecond(),
            )?;
            let (akid, secret) = bosun_server::admin::create_access_key(&*store, &keyring, &user)?;
            match output {
                Some(path) => {
                    bosun_server::bootstrap::write_credentials(&path, &akid, &secret)?;
                    println!("wrote the key {akid} for {user} to {}", path.display());
                }
                None => println!("aws_access_key_id = {akid}\naws_secret_access_key = {secret}"),
            }
        }
        AdminCommand::ListKeys { user } => {
            let rows: Vec<Vec<String>> = store
                .list_access_keys(user.as_deref())?
                .into_iter()
                .map(|(k, created)| {
                    vec![
                        k.access_key_id,
                        k.user_name,
                        if k.active { "Active" } else { "Inactive" }.to_string(),
                        date(created),
                    ]
                })
                .collect();
            print!(
                "{}",
                table::render(&["ACCESS KEY ID", "USER", "STATUS", "CREATED"], &rows)
            );
        }
        AdminCommand::DeactivateKey { access_key_id } => {
            bosun_server::admin::deactivate_access_key(&*store, &access_key_id)?;
            println!("deactivated {access_key_id}");
        }
        AdminCommand::DeleteKey { access_key_id } => {
            bosun_server::admin::delete_access_key(&*store, &access_key_id)?;
            println!("deleted {access_key_id}");
        }
        AdminCommand::PutPolicy {
            user,
            policy_name,
            file,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            bosun_server::admin::put_user_policy(&*store, &user, &policy_name, &text)?;
            println!("attached {policy_name} to {user}");
        }
        AdminCommand::TagUser { user, tags } => {
            for (key, value) in tags {
                bosun_server::admin::tag_user(&*store, &user, &key, &value)?;
                println!("tagged {user} {key}={value}");
            }
        }
        AdminCommand::UntagUser { user, keys } => {
            for key in keys {
                bosun_server::admin::untag_user(&*store, &user, &key)?;
                println!("removed {key} from {user}");
            }
        }
        AdminCommand::DeletePolicy { user, policy_name } => {
            bosun_server::admin::delete_user_policy(&*store, &user, &policy_name)?;
            println!("detached {policy_name} from {user}");
        }
        AdminCommand::VerifyAudit => match store.verify_audit()? {
            bosun_store::AuditVerification::Intact { records } => {
                println!("audit trail intact: {records} records")
            }
            bosun_store::AuditVerification::BrokenAt { seq } => {
                anyhow::bail!("audit trail broken at record {seq}")
            }
        },
        AdminCommand::RotateReleaseKey => {
            // The server signs with the key it loaded: it must not run meanwhile.
            let _lock = bosun_server::datadir::lock(data_dir)
                .context("stop the server before rotating its release key")?;
            let done = bosun_server::release_key::rotate(data_dir, &*store)?;
            println!(
                "release key rotated: {} -> {} ({} releases re-signed); agents that pinned the \
                 previous key accept the new one when they next connect",
                done.previous, done.current, done.resigned
            );
        }
    }
    Ok(())
}
