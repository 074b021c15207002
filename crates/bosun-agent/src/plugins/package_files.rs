//! The node's side of Distributor packages that is not about running scripts: which platform
//! this is, the installed-package records (`<state>/packages/<name>.json`, written atomically,
//! 0600; a record in state `failed` names a version whose scripts did not finish), the
//! per-package lock (`<state>/packages/<name>.lock`, an exclusive `flock` held by one
//! configuration of the package at a time) and unpacking a package's zip file into a private folder, refusing entries whose
//! names leave it.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What is installed of one package on this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Installed {
    pub name: String,
    /// The manifest's `version`.
    pub version: String,
    pub document_version: i64,
    /// The file installed and its SHA-256.
    pub file: String,
    pub sha256: String,
    pub installed_unix: i64,
    /// `installed`, or `failed`: the version's scripts were started and did not all succeed
    /// (or were interrupted), so what is on the node is unknown. A failed record is never a
    /// reason to skip an install, and is not reported as installed.
    #[serde(default)]
    pub state: PackageState,
}

/// Whether a package record names a version that is really installed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageState {
    #[default]
    Installed,
    Failed,
}

/// The per-package lock, held while a configuration of the package runs; released on drop
/// (or when the process ends, however it ends).
pub struct PackageLock {
    _held: nix::fcntl::Flock<fs::File>,
}

/// Take the package's lock, waiting for another configuration holding it (`on_wait` is
/// called once before waiting). The wait is bounded by the step's timeout: the supervisor
/// stops this process when it runs out. Lock files are never removed, so two processes
/// always lock the same file.
pub fn lock_package(
    state_dir: &Path,
    name: &str,
    on_wait: impl FnOnce(),
) -> Result<PackageLock, String> {
    use nix::fcntl::{Flock, FlockArg};
    use std::os::unix::fs::OpenOptionsExt;
    let dir = packages_dir(state_dir);
    bosun_fs::create_private_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.lock"));
    let open = || {
        fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))
    };
    match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
        Ok(held) => Ok(PackageLock { _held: held }),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
            on_wait();
            Flock::lock(open()?, FlockArg::LockExclusive)
                .map(|held| PackageLock { _held: held })
                .map_err(|(_, e)| format!("cannot lock {}: {e}", path.display()))
        }
        Err((_, e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// The packages folder of an agent's state directory.
pub fn packages_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("packages")
}

/// Where an installed version's unpacked files are kept (its scripts run there).
pub fn version_dir(state_dir: &Path, name: &str, version: &str) -> PathBuf {
    packages_dir(state_dir).join(name).join(version)
}

fn record_path(state_dir: &Path, name: &str) -> PathBuf {
    packages_dir(state_dir).join(format!("{name}.json"))
}

/// The installed record of a package, if it is installed.
pub fn installed(state_dir: &Path, name: &str) -> Result<Option<Installed>, String> {
    match fs::read(record_path(state_dir, name)) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| format!("the installed record of {name} is unreadable: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read the installed record of {name}: {e}")),
    }
}

/// Every installed package (for the node's report); failed records are left out.
pub fn all_installed(state_dir: &Path) -> Vec<Installed> {
    let Ok(dir) = fs::read_dir(packages_dir(state_dir)) else {
        return Vec::new();
    };
    let mut out: Vec<Installed> = dir
        .filter_map(Result::ok)
        .filter_map(|e| fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<Installed>(&b).ok())
        .filter(|p| p.state == PackageState::Installed)
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Write (or, with `None`, remove) a package's installed record.
pub fn set_installed(state_dir: &Path, name: &str, rec: Option<&Installed>) -> Result<(), String> {
    let path = record_path(state_dir, name);
    let dir = packages_dir(state_dir);
    bosun_fs::create_private_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    match rec {
        Some(r) => {
            let text = serde_json::to_vec_pretty(r).map_err(|e| e.to_string())?;
            bosun_fs::write_atomic(&path, &text, 0o600)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("cannot remove {}: {e}", path.display()))
            }
            _ => Ok(()),
        },
    }
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_of(path: &Path) -> Result<String, String> {
    let mut f = fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            return Ok(hex::encode(h.finalize()));
        }
        h.update(&buf[..n]);
    }
}

/// Unpack the zip file `archive` into `into` (created 0700, must not exist). An entry whose
/// name is absolute or climbs out (`..`) refuses the whole archive; nothing is left behind.
pub fn unpack(archive: &Path, into: &Path, max_bytes: u64) -> Result<(), String> {
    let result = unpack_inner(archive, into, max_bytes);
    if result.is_err() {
        let _ = fs::remove_dir_all(into);
    }
    result
}

fn unpack_inner(archive: &Path, into: &Path, max_bytes: u64) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::File::open(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| format!("{} is not a zip file: {e}", archive.display()))?;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| e.to_string())?;
        if entry.enclosed_name().is_none() {
            return Err(format!(
                "the package file holds {:?}, a path outside its folder; nothing was installed",
                entry.name()
            ));
        }
    }
    bosun_fs::create_private_dir_all(into).map_err(|e| format!("{}: {e}", into.display()))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let rel = entry.enclosed_name().ok_or("unsafe entry name")?;
        let target = into.join(rel);
        if entry.is_dir() {
            fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let mode = entry.unix_mode().unwrap_or(0o644) & 0o755;
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode | 0o600)
            .open(&target)
            .map_err(|e| format!("{}: {e}", target.display()))?;
        let n = std::io::copy(&mut (&mut entry).take(max_bytes - total + 1), &mut out)
            .map_err(|e| format!("{}: {e}", target.display()))?;
        total += n;
        if total > max_bytes {
            return Err(format!(
                "the package unpacks to more than {max_bytes} bytes; nothing was installed"
            ));
        }
    }
    Ok(())
}

/// This node's Distributor platform name and version (from `/etc/os-release`) and
/// architecture.
pub fn node_platform() -> (String, String, String) {
    let text = fs::read_to_string("/etc/os-release").unwrap_or_default();
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(|v| v.trim().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    (
        bosun_core::document::platform_of_os_id(&field("ID")),
        field("VERSION_ID"),
        bosun_core::document::arch_of(std::env::consts::ARCH).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(fs::File::create(path).unwrap());
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn archives_unpack_unless_an_entry_leaves_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.zip");
        zip_of(&good, &[("install.sh", b"echo hi"), ("lib/a.txt", b"a")]);
        let into = dir.path().join("out");
        unpack(&good, &into, 1 << 20).unwrap();
        assert_eq!(fs::read(into.join("lib/a.txt")).unwrap(), b"a");
        let evil = dir.path().join("evil.zip");
        zip_of(&evil, &[("install.sh", b"x"), ("../escape.txt", b"x")]);
        let into = dir.path().join("out2");
        let e = unpack(&evil, &into, 1 << 20).unwrap_err();
        assert!(e.contains("outside its folder"), "{e}");
        assert!(!into.exists() && !dir.path().join("escape.txt").exists());
        let e = unpack(&good, &dir.path().join("out3"), 3).unwrap_err();
        assert!(e.contains("more than 3 bytes"), "{e}");
    }

    #[test]
    fn records_are_written_read_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(installed(dir.path(), "pkg").unwrap(), None);
        let rec = Installed {
            name: "pkg".into(),
            version: "1.0".into(),
            document_version: 1,
            file: "a.zip".into(),
            sha256: "0".repeat(64),
            installed_unix: 5,
            state: PackageState::Installed,
        };
        set_installed(dir.path(), "pkg", Some(&rec)).unwrap();
        assert_eq!(installed(dir.path(), "pkg").unwrap(), Some(rec.clone()));
        assert_eq!(all_installed(dir.path()), vec![rec.clone()]);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(record_path(dir.path(), "pkg"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // A failed record is read back as such, and is not reported as installed.
        let failed = Installed {
            state: PackageState::Failed,
            ..rec.clone()
        };
        set_installed(dir.path(), "pkg", Some(&failed)).unwrap();
        assert_eq!(installed(dir.path(), "pkg").unwrap(), Some(failed));
        assert_eq!(all_installed(dir.path()), vec![]);
        // Records written before the state existed are installed ones.
        let old = r#"{"name":"old","version":"2","documentVersion":1,"file":"f.zip","sha256":"00","installedUnix":1}"#;
        fs::write(record_path(dir.path(), "old"), old).unwrap();
        assert_eq!(
            installed(dir.path(), "old").unwrap().unwrap().state,
            PackageState::Installed
        );
        set_installed(dir.path(), "pkg", None).unwrap();
        assert_eq!(installed(dir.path(), "pkg").unwrap(), None);
    }

    #[test]
    fn a_package_lock_waits_for_its_holder_and_other_packages_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_package(dir.path(), "pkg", || panic!("nobody holds it")).unwrap();
        // Another package's lock is independent.
        let _other = lock_package(dir.path(), "other", || panic!("not contended")).unwrap();
        let (waiting_tx, waiting_rx) = std::sync::mpsc::channel();
        let (got_tx, got_rx) = std::sync::mpsc::channel();
        let state = dir.path().to_path_buf();
        // flock locks belong to the open file, so a second open in this process contends.
        let t = std::thread::spawn(move || {
            let lock = lock_package(&state, "pkg", move || waiting_tx.send(()).unwrap()).unwrap();
            got_tx.send(()).unwrap();
            drop(lock);
        });
        waiting_rx.recv().unwrap();
        assert!(got_rx.try_recv().is_err(), "the lock was taken while held");
        drop(held);
        got_rx.recv().unwrap();
        t.join().unwrap();
    }
}
