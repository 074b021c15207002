//! Full command output, behind one interface with two backends: a local folder (the default,
//! `<data-dir>/blobs`, folders 0700 and files 0600: output can hold secrets) or an
//! S3-compatible bucket (`--blobs s3://…`). The layout (`layout.rs`) is the same in both:
//! `commands/<command-id>/<node-id>/<step>/<stdout|stderr>/<offset:020>`, one object per
//! stored chunk, so nothing needs `write_at`. Keys are built only from validated ids. Session
//! logs use the same chunks under `sessions/<session-id>/log/` (`session_logs.rs`).
//!
//! Calls block (the S3 backend waits for the network): run them on blocking threads.

mod attachments;
mod backend;
pub mod command_bucket;
pub mod layout;
mod local;
mod releases;
mod s3;
mod session_logs;

use std::path::PathBuf;

use bosun_core::ids;
use bosun_proto::command::Stream;
use bytes::Bytes;

pub use backend::BlobError;
pub use bosun_core::ids::step_dir_name;

use backend::ObjectBackend;
use layout::Piece;

use crate::config::BlobsLocation;

/// Largest object compaction writes (runs of chunks are merged up to this size).
const COMPACT_MAX: u64 = 8 * 1024 * 1024;

/// Parse a stream name from a URL.
pub fn stream_from_name(name: &str) -> Option<Stream> {
    match name {
        "stdout" => Some(Stream::Stdout),
        "stderr" => Some(Stream::Stderr),
        _ => None,
    }
}

pub struct Blobs {
    backend: Box<dyn ObjectBackend>,
    /// Set with an S3 backend: writes `OutputS3BucketName` objects.
    exporter: Option<s3::S3Exporter>,
}

/// One stream's stored pieces.
pub struct StoredStream {
    dir: String,
    pieces: Vec<Piece>,
}

impl StoredStream {
    /// Bytes stored from offset 0 without a gap.
    pub fn len(&self) -> u64 {
        layout::contiguous_len(&self.pieces)
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }
}

impl Blobs {
    /// Open the store `location` names (a local folder is created, and streams written by
    /// older versions are moved into the chunk layout). Makes no network request.
    pub fn open(location: &BlobsLocation) -> Result<Blobs, BlobError> {
        match location {
            BlobsLocation::Folder(root) => Ok(Blobs::local(root.clone())?),
            BlobsLocation::S3(s3) => {
                let (objects, exporter) = s3::open(s3)?;
                Ok(Blobs {
                    backend: Box::new(objects),
                    exporter: Some(exporter),
                })
            }
        }
    }

    fn local(root: PathBuf) -> std::io::Result<Blobs> {
        let moved = local::migrate_legacy(&root)?;
        if moved > 0 {
            tracing::info!(streams = moved, "moved stored output into the chunk layout");
        }
        Ok(Blobs {
            backend: Box::new(local::LocalFolder::new(root)),
            exporter: None,
        })
    }

    /// Where the blobs are, for logs.
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Whether the store answers (`/readyz`).
    pub fn probe(&self) -> Result<(), BlobError> {
        self.backend.probe()
    }

    /// Whether commands may name an `OutputS3BucketName` (the server stores blobs in S3).
    pub fn writes_buckets(&self) -> bool {
        self.exporter.is_some()
    }

    /// The folder of one stream; `None` for ids that are not well-formed.
    fn dir(
        command_id: &str,
        instance_id: &str,
        step_dir: &str,
        stream: Stream,
    ) -> Result<String, BlobError> {
        let ok = ids::is_lower_uuid(command_id)
            && ids::is_instance_id(instance_id)
            && ids::is_plain_name(step_dir);
        if !ok {
            return Err(BlobError::BadLocation);
        }
        Ok(format!(
            "commands/{command_id}/{instance_id}/{step_dir}/{}",
            stream.file_name()
        ))
    }

    /// Store a chunk at its offset (idempotent: a re-sent chunk rewrites the same bytes).
    pub fn write_chunk(
        &self,
        command_id: &str,
        instance_id: &str,
        step: &str,
        stream: Stream,
        offset: u64,
        data: &[u8],
    ) -> Result<(), BlobError> {
        if data.is_empty() {
            return Ok(());
        }
        let dir = Self::dir(command_id, instance_id, &step_dir_name(step), stream)?;
        let key = format!("{dir}/{}", layout::chunk_name(offset));
        self.backend.put(&key, Bytes::copy_from_slice(data), false)
    }

    /// What is stored of one stream (`step_dir` as in URLs: [`step_dir_name`]).
    pub fn stored(
        &self,
        command_id: &str,
        instance_id: &str,
        step_dir: &str,
        stream: Stream,
    ) -> Result<StoredStream, BlobError> {
        self.stored_dir(Self::dir(command_id, instance_id, step_dir, stream)?)
    }

    /// The stored pieces of the stream kept in `dir`.
    fn stored_dir(&self, dir: String) -> Result<StoredStream, BlobError> {
        let mut pieces: Vec<Piece> = self
            .backend
            .list(&dir)?
            .into_iter()
            .filter_map(|o| {
                Some(Piece {
                    offset: layout::parse_chunk_name(&o.name)?,
                    len: o.size,
                })
            })
            .collect();
        layout::sort(&mut pieces);
        Ok(StoredStream { dir, pieces })
    }

    /// The stream's bytes `[0, limit)` (up to the first gap), read one object at a time.
    pub fn read<'a>(
        &'a self,
        s: &'a StoredStream,
        limit: u64,
    ) -> impl Iterator<Item = Result<Bytes, BlobError>> + 'a {
        layout::read_plan(&s.pieces, limit)
            .into_iter()
            .map(move |(i, skip, take)| {
                let key = format!("{}/{}", s.dir, layout::chunk_name(s.pieces[i].offset));
                let data = self
                    .backend
                    .get(&key)?
                    .ok_or_else(|| BlobError::NotFound(key.clone()))?;
                let (from, to) = (skip as usize, (skip + take) as usize);
                if data.len() < to {
                    return Err(BlobError::Remote(format!("{key} shrank while being read")));
                }
                Ok(data.slice(from..to))
            })
    }

    /// Merge runs of chunks into larger objects (durably), then drop the merged chunks. Best
    /// effort: the stream reads the same before, during and after.
    pub fn compact(&self, s: &StoredStream) -> Result<(), BlobError> {
        for run in layout::compaction_runs(&s.pieces, COMPACT_MAX) {
            let pieces: Vec<Piece> = run.iter().map(|&i| s.pieces[i]).collect();
            let first = pieces[0];
            let last = pieces.iter().map(Piece::end).max().unwrap_or(first.offset);
            let mut merged = Vec::with_capacity((last - first.offset) as usize);
            for (i, skip, take) in read_plan_from(&pieces, first.offset, last) {
                let key = format!("{}/{}", s.dir, layout::chunk_name(pieces[i].offset));
                let data = self
                    .backend
                    .get(&key)?
                    .ok_or_else(|| BlobError::NotFound(key.clone()))?;
                let to = ((skip + take) as usize).min(data.len());
                merged.extend_from_slice(&data[(skip as usize).min(to)..to]);
            }
            if merged.len() as u64 != last - first.offset {
                return Err(BlobError::Remote(format!(
                    "{} changed while compacting",
                    s.dir
                )));
            }
            let key = format!("{}/{}", s.dir, layout::chunk_name(first.offset));
            self.backend.put(&key, Bytes::from(merged), true)?;
            for p in &pieces[1..] {
                let off = p.offset;
                if off != first.offset {
                    self.backend
                        .delete(&format!("{}/{}", s.dir, layout::chunk_name(off)))?;
                }
            }
        }
        Ok(())
    }

    /// Write a stream's first `size` bytes to `bucket`/`key` (a command's
    /// `OutputS3BucketName`). Errors when the server has no S3 store.
    pub fn export(
        &self,
        s: &StoredStream,
        size: u64,
        bucket: &str,
        key: &str,
    ) -> Result<(), BlobError> {
        let Some(exporter) = &self.exporter else {
            return Err(BlobError::Denied(
                "this server stores output locally".into(),
            ));
        };
        exporter.write(bucket, key, size, &mut self.read(s, size))
    }

    /// The URL `StandardOutputUrl` shows for an object in a command's bucket.
    pub fn bucket_url(&self, bucket: &str, key: &str) -> Option<String> {
        self.exporter.as_ref().map(|e| e.url(bucket, key))
    }
}

/// [`layout::read_plan`] for pieces starting at `start` rather than 0.
fn read_plan_from(pieces: &[Piece], start: u64, end: u64) -> Vec<(usize, u64, u64)> {
    let shifted: Vec<Piece> = pieces
        .iter()
        .map(|p| Piece {
            offset: p.offset - start,
            len: p.len,
        })
        .collect();
    layout::read_plan(&shifted, end - start)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CMD: &str = "00000000-0000-4000-8000-000000000000";
    const NODE: &str = "mi-0123456789abcdef0";

    #[test]
    fn locations_refuse_malformed_ids() {
        assert!(Blobs::dir("../x", NODE, "s", Stream::Stdout).is_err());
        assert!(Blobs::dir(CMD, "../../etc", "s", Stream::Stdout).is_err());
        assert!(Blobs::dir(CMD, NODE, "..", Stream::Stdout).is_err());
        assert_eq!(
            Blobs::dir(CMD, NODE, "s", Stream::Stdout).unwrap(),
            format!("commands/{CMD}/{NODE}/s/stdout")
        );
    }

    fn read_all(b: &Blobs, s: &StoredStream) -> Vec<u8> {
        b.read(s, u64::MAX)
            .flat_map(|p| p.unwrap().to_vec())
            .collect()
    }

    #[test]
    fn chunks_in_a_folder_read_back_in_order_and_compact_to_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::local(dir.path().join("blobs")).unwrap();
        let put = |off: u64, data: &[u8]| {
            b.write_chunk(CMD, NODE, "aws:runShellScript", Stream::Stdout, off, data)
                .unwrap()
        };
        put(0, b"hello ");
        put(10, b"gap");
        let s = b
            .stored(CMD, NODE, "awsrunShellScript", Stream::Stdout)
            .unwrap();
        assert_eq!((s.len(), read_all(&b, &s)), (6, b"hello ".to_vec()));
        put(6, b"worl");
        put(6, b"worl");
        let s = b
            .stored(CMD, NODE, "awsrunShellScript", Stream::Stdout)
            .unwrap();
        assert_eq!(s.len(), 13);
        assert_eq!(read_all(&b, &s), b"hello worlgap");
        b.compact(&s).unwrap();
        let s = b
            .stored(CMD, NODE, "awsrunShellScript", Stream::Stdout)
            .unwrap();
        assert_eq!(s.pieces.len(), 1);
        assert_eq!(read_all(&b, &s), b"hello worlgap");
        use std::os::unix::fs::PermissionsExt;
        let f = dir
            .path()
            .join(format!(
                "blobs/commands/{CMD}/{NODE}/awsrunShellScript/stdout"
            ))
            .join(layout::chunk_name(0));
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let folder = f.parent().unwrap();
        assert_eq!(
            std::fs::metadata(folder).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn streams_stored_by_older_versions_move_into_the_chunk_layout() {
        let dir = tempfile::tempdir().unwrap();
        let step = dir.path().join(format!("blobs/commands/{CMD}/{NODE}/s"));
        std::fs::create_dir_all(&step).unwrap();
        std::fs::write(step.join("stdout"), b"old output").unwrap();
        let b = Blobs::local(dir.path().join("blobs")).unwrap();
        let s = b.stored(CMD, NODE, "s", Stream::Stdout).unwrap();
        assert_eq!(read_all(&b, &s), b"old output");
        assert!(dir.path().join("blobs/layout").exists());
    }
}
