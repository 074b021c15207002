//! Crash-safe file writes shared by the server and the agent: temp file, fsync, rename, fsync
//! the directory — so a crash leaves either the old file or the new one, never half of one —
//! and private directories (mode 0700) for state other local users must not read.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Create `path` and any missing parents with mode 0700 (whatever the umask). Existing
/// directories keep their mode.
pub fn create_private_dir_all(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

/// Clear the group and other bits of an existing file or directory; `true` when it had any.
pub fn restrict_to_owner(path: &Path) -> io::Result<bool> {
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(false);
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7700))?;
    Ok(true)
}

/// Write `contents` to `path` atomically with the given Unix mode.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_with(path, mode, |f| f.write_all(contents))
}

/// Write `path` atomically with the given Unix mode, the contents coming from `fill` (which
/// may stream them). If `fill` fails, nothing changes at `path` and the temp file is removed.
pub fn write_atomic_with<T>(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut fs::File) -> io::Result<T>,
) -> io::Result<T> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        // A temp file left by a crash keeps its old mode; `mode` is what the caller asked for.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        let out = fill(&mut f)?;
        f.sync_all()?;
        Ok(out)
    })();
    let out = match written {
        Ok(out) => out,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    fs::rename(&tmp, path)?;
    fs::File::open(dir)?.sync_all()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_contents_with_the_given_mode_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        super::write_atomic(&p, b"one", 0o600).unwrap();
        super::write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn private_dirs_are_0700_and_restricting_clears_group_and_other_bits() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        super::create_private_dir_all(&deep).unwrap();
        for d in ["a", "a/b", "a/b/c"] {
            let mode = std::fs::metadata(dir.path().join(d))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700, "{d}");
        }
        let f = dir.path().join("f");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o754)).unwrap();
        assert!(super::restrict_to_owner(&f).unwrap());
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(!super::restrict_to_owner(&f).unwrap(), "already private");
    }

    #[test]
    fn a_failed_fill_leaves_the_old_file_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        super::write_atomic(&p, b"old", 0o600).unwrap();
        let r = super::write_atomic_with(&p, 0o600, |f| {
            std::io::Write::write_all(f, b"partial")?;
            Err::<(), _>(std::io::Error::other("too big"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
