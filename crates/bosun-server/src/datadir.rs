//! The data directory on disk: private to the server's user (mode 0700, files 0600), and used
//! by one server at a time (an exclusive `flock` on `<data-dir>/lock`, which holds its pid).
//!
//! The server also sets its process umask to 0077 when it starts ([`restrict_umask`]), so any
//! file a library creates without an explicit mode is private too; programs it starts for the
//! operator (the quickstart agent) get the umask the process was started with back
//! ([`inherited_umask`]).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::stat::{umask, Mode};

static INHERITED_UMASK: OnceLock<u32> = OnceLock::new();

/// Make files this process creates without an explicit mode private (umask 0077), remembering
/// the umask it was started with.
pub fn restrict_umask() {
    let before = umask(Mode::from_bits_truncate(0o077)).bits() as u32;
    // A second server in the same process must not record 0077 as the inherited value.
    INHERITED_UMASK.get_or_init(|| before);
}

/// The umask the process had before [`restrict_umask`], if it ran.
pub fn inherited_umask() -> Option<u32> {
    INHERITED_UMASK.get().copied()
}

/// Create the data directory with mode 0700, or make an existing one (and the files and folders
/// directly in it) private, with a warning for each that was readable by others.
pub fn prepare(data_dir: &Path) -> anyhow::Result<()> {
    bosun_fs::create_private_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let mut paths = vec![data_dir.to_path_buf()];
    for entry in std::fs::read_dir(data_dir)
        .with_context(|| format!("reading data directory {}", data_dir.display()))?
    {
        let entry = entry?;
        if !entry.file_type()?.is_symlink() {
            paths.push(entry.path());
        }
    }
    for path in paths {
        if bosun_fs::restrict_to_owner(&path)
            .with_context(|| format!("restricting the mode of {}", path.display()))?
        {
            tracing::warn!(path = %path.display(), "it was readable by other users; made it private to the server's user");
        }
    }
    Ok(())
}

/// The exclusive hold on a data directory, released when dropped (or when the process dies).
pub struct DataDirLock {
    _held: Flock<File>,
}

pub fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("lock")
}

/// Take the data directory for this server, or fail naming the pid of the server holding it.
/// A lock file left by a dead process does not matter: only a live holder's `flock` does.
pub fn lock(data_dir: &Path) -> anyhow::Result<DataDirLock> {
    let path = lock_path(data_dir);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut held) => {
            let file: &mut File = &mut held;
            file.set_len(0)?;
            file.rewind()?;
            writeln!(file, "{}", std::process::id())?;
            file.sync_all()?;
            Ok(DataDirLock { _held: held })
        }
        Err((mut file, Errno::EWOULDBLOCK)) => {
            let holder = holder_pid(&mut file);
            bail!(
                "the data directory {} is in use by another bosun server ({}); stop it or use another --data-dir",
                data_dir.display(),
                holder.map_or("pid unknown".to_string(), |pid| format!("pid {pid}"))
            )
        }
        Err((_, errno)) => Err(errno).with_context(|| format!("locking {}", path.display())),
    }
}

/// The pid the holder wrote; it writes it right after locking, so an empty file is re-read for
/// a moment.
fn holder_pid(file: &mut File) -> Option<u32> {
    for _ in 0..100 {
        let mut text = String::new();
        file.rewind().ok()?;
        file.read_to_string(&mut text).ok()?;
        if let Ok(pid) = text.trim().parse() {
            return Some(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn prepare_creates_a_private_dir_and_tightens_an_open_one() {
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("fresh");
        prepare(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);

        let old = root.path().join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(old.join("bosun.db"), "x").unwrap();
        std::fs::set_permissions(old.join("bosun.db"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        prepare(&old).unwrap();
        assert_eq!(mode(&old), 0o700);
        assert_eq!(mode(&old.join("bosun.db")), 0o600);
    }

    #[test]
    fn a_second_lock_names_the_holder_and_a_released_lock_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        assert_eq!(mode(&lock_path(dir.path())), 0o600);
        // flock locks belong to the open file, so a second open in this process conflicts too.
        let err = lock(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        // The file stays behind with the old pid; only the lock mattered.
        let _again = lock(dir.path()).unwrap();
    }
}
