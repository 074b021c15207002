//! The local blob store for full command output: `<data-dir>/blobs/commands/<command-id>/
//! <node-id>/<step>/{stdout,stderr}`. Paths are built only from validated ids. Output can hold
//! secrets: folders are 0700 and files 0600.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::PathBuf;

use bosun_core::ids;
use bosun_proto::command::Stream;

pub use bosun_core::ids::step_dir_name;

/// Parse a stream name from a URL.
pub fn stream_from_name(name: &str) -> Option<Stream> {
    match name {
        "stdout" => Some(Stream::Stdout),
        "stderr" => Some(Stream::Stderr),
        _ => None,
    }
}

pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Where one stream of one step lives; `None` for ids that are not well-formed.
    pub fn path(
        &self,
        command_id: &str,
        instance_id: &str,
        step_dir: &str,
        stream: Stream,
    ) -> Option<PathBuf> {
        let step_ok = ids::is_plain_name(step_dir);
        if !ids::is_lower_uuid(command_id) || !ids::is_instance_id(instance_id) || !step_ok {
            return None;
        }
        Some(
            self.root
                .join("commands")
                .join(command_id)
                .join(instance_id)
                .join(step_dir)
                .join(stream.file_name()),
        )
    }

    /// Write a chunk at its offset (idempotent: re-sent chunks overwrite identical bytes).
    pub fn write_at(
        &self,
        command_id: &str,
        instance_id: &str,
        step: &str,
        stream: Stream,
        offset: u64,
        data: &[u8],
    ) -> io::Result<()> {
        let path = self
            .path(command_id, instance_id, &step_dir_name(step), stream)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "malformed output location")
            })?;
        if let Some(dir) = path.parent() {
            bosun_fs::create_private_dir_all(dir)?;
        }
        let f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        f.write_all_at(data, offset)
    }

    /// Bytes stored so far for a stream (0 when none).
    pub fn len(&self, command_id: &str, instance_id: &str, step: &str, stream: Stream) -> u64 {
        self.path(command_id, instance_id, &step_dir_name(step), stream)
            .and_then(|p| fs::metadata(p).ok())
            .map(|m| m.len())
            .unwrap_or(0)
    }

    pub fn open(
        &self,
        command_id: &str,
        instance_id: &str,
        step_dir: &str,
        stream: Stream,
    ) -> Option<File> {
        self.path(command_id, instance_id, step_dir, stream)
            .and_then(|p| File::open(p).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_refuse_malformed_ids() {
        let b = Blobs::new(PathBuf::from("/tmp/b"));
        assert!(b
            .path("../x", "mi-0123456789abcdef0", "s", Stream::Stdout)
            .is_none());
        assert!(b
            .path(
                "00000000-0000-4000-8000-000000000000",
                "../../etc",
                "s",
                Stream::Stdout
            )
            .is_none());
        assert!(b
            .path(
                "00000000-0000-4000-8000-000000000000",
                "mi-0123456789abcdef0",
                "..",
                Stream::Stdout
            )
            .is_none());
        assert!(b
            .path(
                "00000000-0000-4000-8000-000000000000",
                "mi-0123456789abcdef0",
                "s",
                Stream::Stdout
            )
            .is_some());
    }
}
