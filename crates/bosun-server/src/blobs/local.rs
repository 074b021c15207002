//! The local-folder backend (the default, `<data-dir>/blobs`): one file per object, folders
//! 0700 and files 0600 (output can hold secrets). Writes go to a uniquely named temp file and
//! are renamed into place, so a reader never sees half an object; durable writes also fsync
//! the file and its folder.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::backend::{BlobError, Listed, ObjectBackend};

pub struct LocalFolder {
    root: PathBuf,
}

impl LocalFolder {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        if key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == ".." || s.starts_with('.'))
        {
            return Err(BlobError::BadLocation);
        }
        Ok(self.root.join(key))
    }
}

fn write_replacing(path: &Path, data: &[u8], durable: bool) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    bosun_fs::create_private_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.tmp-{}",
        hex::encode(crate::state::random_bytes::<8>())
    ));
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if durable {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

impl ObjectBackend for LocalFolder {
    fn put(&self, key: &str, data: Bytes, durable: bool) -> Result<(), BlobError> {
        Ok(write_replacing(&self.path(key)?, &data, durable)?)
    }

    fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        match fs::read(self.path(key)?) {
            Ok(data) => Ok(Some(Bytes::from(data))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<Listed>, BlobError> {
        let entries = match fs::read_dir(self.path(dir)?) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            // A legacy single-file stream (see `migrate_legacy`) or anything else: no folder.
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let meta = entry.metadata()?;
            if meta.is_file() {
                out.push(Listed {
                    name,
                    size: meta.len(),
                });
            }
        }
        Ok(out)
    }

    fn delete(&self, key: &str) -> Result<(), BlobError> {
        match fs::remove_file(self.path(key)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn probe(&self) -> Result<(), BlobError> {
        bosun_fs::create_private_dir_all(&self.root)?;
        fs::read_dir(&self.root)?;
        Ok(())
    }

    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }
}

/// Move streams stored by older versions (one file per stream, `…/<step>/stdout`, written at
/// offsets) into the chunk layout (`…/<step>/stdout/<offset:020>`, here one chunk at 0). Runs
/// once per folder: a `layout` file records that it ran. A crash midway resumes at the next
/// start (a stream moved aside as `.<stream>.legacy` is finished first).
pub fn migrate_legacy(root: &Path) -> io::Result<usize> {
    const MARK: &str = "layout";
    if root.join(MARK).exists() || !root.join("commands").exists() {
        bosun_fs::create_private_dir_all(root)?;
        if !root.join(MARK).exists() {
            bosun_fs::write_atomic(&root.join(MARK), b"chunks-v1\n", 0o600)?;
        }
        return Ok(0);
    }
    let mut moved = 0;
    for command in fs::read_dir(root.join("commands"))? {
        for node in fs::read_dir(command?.path())? {
            for step in fs::read_dir(node?.path())? {
                let step = step?.path();
                for stream in ["stdout", "stderr"] {
                    let file = step.join(stream);
                    let aside = step.join(format!(".{stream}.legacy"));
                    if file.is_file() {
                        fs::rename(&file, &aside)?;
                    }
                    if aside.is_file() {
                        bosun_fs::create_private_dir_all(&file)?;
                        fs::rename(&aside, file.join(super::layout::chunk_name(0)))?;
                        moved += 1;
                    }
                }
            }
        }
    }
    bosun_fs::write_atomic(&root.join(MARK), b"chunks-v1\n", 0o600)?;
    Ok(moved)
}
