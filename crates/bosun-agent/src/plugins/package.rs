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
//! with `additionalArguments` as environment variables (as AWS passes them); the installed
//! record changes only after they succeed.

use std::path::Path;
use std::process::Command;

use bosun_core::document::{
    configure_package_spec, file_name_ok, select_entry, Attachment, StepPlan,
};

use super::job::{self, Job};
use super::package_files::{self as files, Installed};
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
    let env = &spec.additional_arguments;
    let current = files::installed(state, name)?;
    if !spec.install {
        let Some(old) = current else {
            return Err(format!("Package {name} is not installed."));
        };
        run_script(
            &files::version_dir(state, name, &old.version),
            "uninstall.sh",
            env,
            false,
        )?;
        files::set_installed(state, name, None)?;
        let _ = std::fs::remove_dir_all(files::packages_dir(state).join(name));
        println!("Successfully uninstalled {name} {}", old.version);
        return Ok(0);
    }
    if current.as_ref().is_some_and(|c| &c.version == version) {
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
    match &current {
        None => {
            run_script(&new_dir, "install.sh", env, false)?;
        }
        Some(old) if spec.in_place => {
            if !run_script(&new_dir, "update.sh", env, true)? {
                run_script(&new_dir, "install.sh", env, false)?;
            }
            println!("Updated {name} from {} in place", old.version);
        }
        Some(old) => {
            let old_dir = files::version_dir(state, name, &old.version);
            run_script(&old_dir, "uninstall.sh", env, false)?;
            run_script(&new_dir, "install.sh", env, false)?;
        }
    }
    files::set_installed(
        state,
        name,
        Some(&Installed {
            name: name.clone(),
            version: version.clone(),
            document_version: *document_version,
            file: file.name.clone(),
            sha256: file.sha256.clone(),
            installed_unix: now_unix(),
        }),
    )?;
    if let Some(old) = current {
        let _ = std::fs::remove_dir_all(files::version_dir(state, name, &old.version));
    }
    println!("Successfully installed {name} {version}");
    Ok(0)
}
