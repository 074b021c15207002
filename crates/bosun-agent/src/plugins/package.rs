//! `aws:configurePackage` (and `AWS-ConfigureAWSPackage`): install, update or uninstall a
//! Distributor package with the package the server attached to the step. Run by
//! `bosun-agent run-plugin` under the step's supervisor, so the scripts' output is the step's.
//!
//! Install: the installed version already → success, nothing run. Else the manifest entry for
//! this platform, its file downloaded from the server (a GET signed with the node's key), its
//! SHA-256 checked (a mismatch fails the step before anything is unpacked or run), unpacked
//! into `<state>/packages/<name>/<version>`, then `install.sh` — or, over another installed
//! version, `update.sh` of the new version (`In-place update`) or the old version's
//! `uninstall.sh` then the new `install.sh` (`Uninstall and reinstall`, the default). Uninstall:
//! the installed version's `uninstall.sh`. Scripts run with `/bin/sh` in their version's folder,
//! with `additionalArguments` as environment variables (as AWS passes them).
//!
//! One configuration of a package runs at a time on a node (its lock, `lock_package`, held
//! for the whole step; a second waits within its step's timeout, then sees what the first
//! left). The record says `failed` for the version whose scripts are about to run and
//! `installed` only once they succeeded, so a failed or interrupted install, update or
//! uninstall is never taken for an installed version: the next Install runs `install.sh`
//! again, the next Uninstall that version's `uninstall.sh`.

use std::path::Path;
use std::process::Command;

use bosun_core::document::{
    configure_package_spec, file_name_ok, select_entry, Attachment, ConfigurePackageSpec, StepPlan,
};

use super::job::{self, Job};
use super::package_files::{self as files, Installed, PackageState};
use super::{Launch, Plugin, StepContext};

pub struct ConfigurePackage;

impl Plugin for ConfigurePackage {
    fn action(&self) -> &'static str {
        "aws:configurePackage"
    }

    fn check(&self, plan: &StepPlan) -> Result<(), String> {
        match &plan.attachment {
            Some(Attachment::Package { .. }) => Ok(()),
            _ => Err("the server attached no package to this step".into()),
        }
    }

    fn prepare(&self, plan: &StepPlan, ctx: &StepContext) -> Result<Launch, String> {
        self.check(plan)?;
        job::launch(plan, ctx)
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Run `script` of a version's folder; a missing script is an error unless `optional`.
fn run_script(
    dir: &Path,
    script: &str,
    env: &[(String, String)],
    optional: bool,
) -> Result<bool, String> {
    let path = dir.join(script);
    if !path.is_file() {
        if optional {
            return Ok(false);
        }
        return Err(format!("the package has no {script}"));
    }
    println!("Running {script} of {}", dir.display());
    let status = Command::new("/bin/sh")
        .arg(&path)
        .current_dir(dir)
        .envs(env.iter().cloned())
        .status()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    if !status.success() {
        return Err(format!("{script} failed ({status})"));
    }
    Ok(true)
}

/// Carry out the step; the exit code is the step's.
pub fn run(job: &Job) -> Result<i32, String> {
    run_waiting(job, |name| {
        println!("Waiting for another configuration of {name} on this node to finish");
    })
}

/// `run`, calling `on_wait` when another configuration of the package holds its lock.
pub(crate) fn run_waiting(job: &Job, on_wait: impl FnOnce(&str)) -> Result<i32, String> {
    let spec = configure_package_spec(&job.plan.inputs)?;
    let Some(Attachment::Package {
        name,
        document_version,
        version,
        entries,
        files: package_files,
    }) = &job.plan.attachment
    else {
        return Err("the server attached no package to this step".into());
    };
    // Both become folder names on this node: never trust them to be plain names.
    if !file_name_ok(name)
        || !file_name_ok(version)
        || name.starts_with('.')
        || version.starts_with('.')
    {
        return Err(format!(
            "the package name {name:?} or version {version:?} is not a plain name"
        ));
    }
    let state = job.ctx.state_dir.as_path();
    if state.as_os_str().is_empty() {
        return Err("this step does not know the agent's state directory".into());
    }
    // Held until this function returns: a second configuration of the package waits here and
    // then sees what the first left (so installing what it installed is a no-op).
    let _lock = files::lock_package(state, name, || on_wait(name))?;
    let current = files::installed(state, name)?;
    if !spec.install {
        let Some(old) = current else {
            return Err(format!("Package {name} is not installed."));
        };
        mark(state, &old, PackageState::Failed)?;
        run_script(
            &files::version_dir(state, name, &old.version),
            "uninstall.sh",
            &spec.additional_arguments,
            false,
        )
        // The record already says `failed` (written before the script ran).
        .map_err(|e| failed_message(e, name, &old.version))?;
        files::set_installed(state, name, None)?;
        let _ = std::fs::remove_dir_all(files::packages_dir(state).join(name));
        println!("Successfully uninstalled {name} {}", old.version);
        return Ok(0);
    }
    if current
        .as_ref()
        .is_some_and(|c| &c.version == version && c.state == PackageState::Installed)
    {
        println!("{name} {version} is already installed; nothing to do.");
        return Ok(0);
    }
    let (platform, platform_version, arch) = files::node_platform();
    let entry = select_entry(entries, &platform, &platform_version, &arch).ok_or_else(|| {
        format!("{name} {version} has no file for platform {platform} {platform_version} ({arch})")
    })?;
    let file = package_files
        .iter()
        .find(|f| f.name == entry.file)
        .ok_or_else(|| format!("the server attached no file {}", entry.file))?;
    let identity = crate::identity::Identity::load(state).map_err(|e| e.to_string())?;
    let download_dir = job.ctx.dir.join("package-download");
    bosun_fs::create_private_dir_all(&download_dir).map_err(|e| e.to_string())?;
    let archive = download_dir.join(&file.name);
    let servers: Vec<String> = crate::server_urls(&identity.server)
        .into_iter()
        .map(str::to_string)
        .collect();
    let limit = job.ctx.max_download_bytes.max(file.size);
    crate::server_get::download(
        &identity,
        &servers,
        &file.path,
        &archive,
        limit,
        0o600,
        now_unix(),
    )?;
    let got = files::sha256_of(&archive)?;
    if got != file.sha256 {
        let _ = std::fs::remove_file(&archive);
        return Err(format!(
            "{} has SHA-256 {got}, not the manifest's {}; nothing was installed",
            file.name, file.sha256
        ));
    }
    let new_dir = files::version_dir(state, name, version);
    let _ = std::fs::remove_dir_all(&new_dir);
    files::unpack(&archive, &new_dir, limit.saturating_mul(8))?;
    let _ = std::fs::remove_file(&archive);
    let new = Installed {
        name: name.clone(),
        version: version.clone(),
        document_version: *document_version,
        file: file.name.clone(),
        sha256: file.sha256.clone(),
        installed_unix: now_unix(),
        state: PackageState::Failed,
    };
    apply(state, current, &new, &spec, &new_dir)?;
    println!("Successfully installed {name} {version}");
    Ok(0)
}

/// Install `new`, unpacked in `new_dir`, over what `current` records: its scripts run and the
/// record follows (`failed` before each script, `installed` after the last).
fn apply(
    state: &Path,
    current: Option<Installed>,
    new: &Installed,
    spec: &ConfigurePackageSpec,
    new_dir: &Path,
) -> Result<(), String> {
    let (name, version) = (&new.name, &new.version);
    let env = &spec.additional_arguments;
    let failed = |e: String, v: &str| failed_message(e, name, v);
    let installing = || {
        mark(state, new, PackageState::Failed)?;
        run_script(new_dir, "install.sh", env, false)
            .map(drop)
            .map_err(|e| failed(e, version))
    };
    match current
        .as_ref()
        .filter(|c| c.state == PackageState::Installed)
    {
        // Nothing installed, or a version whose scripts failed: a fresh install.
        None => installing()?,
        Some(old) if spec.in_place => {
            mark(state, new, PackageState::Failed)?;
            // No record names the old version from here on: its scripts are never run again.
            if old.version != *version {
                let _ = std::fs::remove_dir_all(files::version_dir(state, name, &old.version));
            }
            if !run_script(new_dir, "update.sh", env, true).map_err(|e| failed(e, version))? {
                run_script(new_dir, "install.sh", env, false).map_err(|e| failed(e, version))?;
            }
            println!("Updated {name} from {} in place", old.version);
        }
        Some(old) => {
            let old_dir = files::version_dir(state, name, &old.version);
            mark(state, old, PackageState::Failed)?;
            run_script(&old_dir, "uninstall.sh", env, false).map_err(|e| {
                if old.version != *version {
                    let _ = std::fs::remove_dir_all(new_dir);
                }
                failed(e, &old.version)
            })?;
            // The old version is gone: only the new one can be recorded from here on.
            if old.version != *version {
                let _ = std::fs::remove_dir_all(&old_dir);
            }
            installing()?;
        }
    }
    mark(state, new, PackageState::Installed)?;
    if let Some(old) = current.filter(|c| &c.version != version) {
        let _ = std::fs::remove_dir_all(files::version_dir(state, name, &old.version));
    }
    Ok(())
}

fn failed_message(e: String, name: &str, version: &str) -> String {
    format!(
        "{e}; {name} {version} is recorded as failed, so the next configuration runs its \
         scripts again"
    )
}

/// Write a package's record in `state`.
fn mark(state_dir: &Path, rec: &Installed, state: PackageState) -> Result<(), String> {
    files::set_installed(
        state_dir,
        &rec.name,
        Some(&Installed {
            state,
            ..rec.clone()
        }),
    )
}

#[cfg(test)]
#[path = "package_tests.rs"]
mod tests;
