//! Keeping the orchestration tree `<root>/<command-id>/<step>/{stdout,stderr,_script.sh,…}` bounded.
//!
//! The AWS agent only cleans this tree when a command completes, by age alone, so a quiet node
//! never cleans and a busy one exhausts inodes (agent-protocol.md §2.3). Bosun does two things:
//!
//! - [`after_command`]: the AWS `OrchestrationDirectoryCleanup` behaviour, deleting one command's
//!   folder as soon as it ends with a final outcome the [`CleanupMode`] names.
//! - [`sweep`]: meant to run on a timer (and at start-up), independent of command traffic. It
//!   deletes folders older than the retention (by the folder's mtime), then more folders, oldest
//!   first, until both the total disk usage and the folder count are within their caps. Folders
//!   of running commands (`in_use`) are never touched, even if that leaves the tree over a cap.
//!
//! Safety: only real directories directly under `root` are deleted, with
//! [`fs::remove_dir_all`], which never follows symbolic links (it removes a link, not its
//! target, and is race-free on Unix). Symlinks and files directly under `root` are left alone.
//! Sizes are disk usage as `du` counts it (`st_blocks` × 512, links not followed), so a sparse
//! file counts only the blocks it really holds. A folder that disappears under us (removed by
//! someone else) is not an error.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

/// When [`after_command`] deletes a command's folder (`Ssm.OrchestrationDirectoryCleanup`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CleanupMode {
    /// `""` / `"default"`: keep it; only [`sweep`] removes it later.
    #[default]
    Keep,
    /// `"clean-success"`: delete it when the command succeeded.
    CleanSuccess,
    /// `"clean-success-failed"`: delete it when the command succeeded or failed.
    CleanSuccessFailed,
}

/// How a command ended, as far as cleanup cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalOutcome {
    Success,
    Failed,
    /// Timed out, cancelled, success-and-reboot, undeliverable…: always kept, as AWS does, so the
    /// folder is there for a resume or a post-mortem.
    Other,
}

/// How much of the orchestration tree to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanupPolicy {
    pub mode: CleanupMode,
    /// Folders whose mtime is older than this are deleted by [`sweep`].
    pub retention: Duration,
    /// Cap on the disk usage of the whole tree, in bytes.
    pub max_bytes: u64,
    /// Cap on the number of command folders.
    pub max_entries: usize,
}

/// What one [`sweep`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Command ids whose folders were deleted, oldest first.
    pub removed: Vec<String>,
    /// Disk usage of those folders, measured just before deleting them.
    pub bytes_freed: u64,
    /// Command folders left, including the ones in use.
    pub remaining_entries: usize,
    /// Disk usage of the folders left.
    pub remaining_bytes: u64,
    /// Folders that could not be measured or deleted (logged; the sweep went on).
    pub failed: usize,
}

impl SweepReport {
    /// Whether the tree is still over a cap (possible when running commands hold the space).
    pub fn over_cap(&self, policy: &CleanupPolicy) -> bool {
        self.remaining_bytes > policy.max_bytes || self.remaining_entries > policy.max_entries
    }
}

/// Delete `<root>/<command_id>` now if `policy.mode` says so for `outcome`. A missing folder,
/// or an entry that is not a real directory (a symlink is left alone), is not an error.
pub fn after_command(
    root: &Path,
    command_id: &str,
    outcome: FinalOutcome,
    policy: &CleanupPolicy,
) -> io::Result<()> {
    let delete = match policy.mode {
        CleanupMode::Keep => false,
        CleanupMode::CleanSuccess => outcome == FinalOutcome::Success,
        CleanupMode::CleanSuccessFailed => {
            matches!(outcome, FinalOutcome::Success | FinalOutcome::Failed)
        }
    };
    if !delete {
        return Ok(());
    }
    let dir = command_dir(root, command_id)?;
    match fs::symlink_metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            tracing::warn!(path = %dir.display(), "not a directory; leaving it alone");
            return Ok(());
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    tracing::debug!(command_id, ?outcome, "removing the orchestration folder");
    remove_tree(&dir)
}

/// The folder of `command_id` under `root`, refusing ids that are not one plain path component.
fn command_dir(root: &Path, command_id: &str) -> io::Result<PathBuf> {
    let mut parts = Path::new(command_id).components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(name)), None) if name == command_id => Ok(root.join(name)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{command_id:?} is not a valid command id"),
        )),
    }
}

/// `remove_dir_all` that treats "already gone" as done.
fn remove_tree(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

struct Folder {
    name: OsString,
    modified: SystemTime,
    bytes: u64,
}

/// Bring the tree under `root` within `policy` (see the module docs); `in_use` names the
/// command ids that are running and must not be touched. Only failing to list `root` itself is
/// an error; a missing `root` is an empty tree.
pub fn sweep(
    root: &Path,
    policy: &CleanupPolicy,
    now: SystemTime,
    in_use: &HashSet<String>,
) -> io::Result<SweepReport> {
    let mut report = SweepReport::default();
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(e),
    };
    let mut folders = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                tracing::warn!(root = %root.display(), error = %e, "listing the orchestration folder");
                report.failed += 1;
                continue;
            }
        };
        // On Unix `DirEntry::metadata` does not follow symlinks.
        let meta = match entry.metadata() {
            Ok(meta) if meta.is_dir() => meta,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                tracing::warn!(path = %entry.path().display(), error = %e, "cannot stat");
                report.failed += 1;
                continue;
            }
        };
        let bytes = match disk_usage(&entry.path()) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                tracing::warn!(path = %entry.path().display(), error = %e, "cannot measure");
                report.failed += 1;
                // Still counted and still deletable; its size is what we could see.
                meta.blocks() * 512
            }
        };
        let Ok(modified) = meta.modified() else {
            report.failed += 1;
            continue;
        };
        folders.push(Folder {
            name: entry.file_name(),
            modified,
            bytes,
        });
    }
    folders.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.name.cmp(&b.name)));

    let mut total: u64 = folders.iter().map(|f| f.bytes).sum();
    let mut count = folders.len();
    // Removed, or failed to remove: either way not tried again.
    let mut done = vec![false; folders.len()];
    let expired = |f: &Folder| {
        now.duration_since(f.modified)
            .is_ok_and(|age| age > policy.retention)
    };
    // First by age, then, oldest first, by the caps.
    for by_age in [true, false] {
        for (i, folder) in folders.iter().enumerate() {
            if done[i] || in_use.contains(&*folder.name.to_string_lossy()) {
                continue;
            }
            let wanted = if by_age {
                expired(folder)
            } else {
                total > policy.max_bytes || count > policy.max_entries
            };
            if !wanted {
                continue;
            }
            let path = root.join(&folder.name);
            match fs::remove_dir_all(&path) {
                Ok(()) => {
                    report
                        .removed
                        .push(folder.name.to_string_lossy().into_owned());
                    report.bytes_freed += folder.bytes;
                }
                // Removed by someone else meanwhile: gone all the same.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove");
                    report.failed += 1;
                    done[i] = true;
                    continue;
                }
            }
            done[i] = true;
            total -= folder.bytes;
            count -= 1;
        }
    }
    report.remaining_entries = count;
    report.remaining_bytes = total;
    if !report.removed.is_empty() {
        tracing::info!(
            removed = report.removed.len(),
            bytes_freed = report.bytes_freed,
            remaining = count,
            "orchestration cleanup"
        );
    }
    if report.over_cap(policy) {
        tracing::warn!(
            remaining = count,
            remaining_bytes = total,
            "orchestration tree still over its cap (running or undeletable folders hold the space)"
        );
    }
    Ok(report)
}

/// Disk usage of `path` and everything under it, without following symlinks. Iterative, so a
/// deeply nested tree cannot overflow the stack. Only a missing `path` itself is `NotFound`.
fn disk_usage(path: &Path) -> io::Result<u64> {
    let mut total = fs::symlink_metadata(path)?.blocks() * 512;
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            // Vanished while we looked: contributes nothing.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            match entry.metadata() {
                Ok(meta) => {
                    total += meta.blocks() * 512;
                    if meta.is_dir() {
                        dirs.push(entry.path());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{File, FileTimes};
    use std::os::unix::fs::symlink;

    const HOUR: Duration = Duration::from_secs(3600);

    fn policy(mode: CleanupMode) -> CleanupPolicy {
        CleanupPolicy {
            mode,
            retention: 72 * HOUR,
            max_bytes: u64::MAX,
            max_entries: usize::MAX,
        }
    }

    /// A command folder with one step holding `size` bytes of stdout, last modified `age` ago.
    fn command(root: &Path, id: &str, size: usize, age: Duration, now: SystemTime) {
        let step = root.join(id).join("0.runShellScript");
        fs::create_dir_all(&step).unwrap();
        fs::write(step.join("stdout"), vec![b'x'; size]).unwrap();
        fs::write(step.join("_script.sh"), "echo hi\n").unwrap();
        let times = FileTimes::new().set_modified(now - age);
        File::open(root.join(id)).unwrap().set_times(times).unwrap();
    }

    fn names(root: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn after_command_follows_each_mode_and_never_deletes_other_outcomes() {
        let root = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let cases = [
            (CleanupMode::Keep, FinalOutcome::Success, false),
            (CleanupMode::Keep, FinalOutcome::Failed, false),
            (CleanupMode::CleanSuccess, FinalOutcome::Success, true),
            (CleanupMode::CleanSuccess, FinalOutcome::Failed, false),
            (CleanupMode::CleanSuccess, FinalOutcome::Other, false),
            (CleanupMode::CleanSuccessFailed, FinalOutcome::Success, true),
            (CleanupMode::CleanSuccessFailed, FinalOutcome::Failed, true),
            (CleanupMode::CleanSuccessFailed, FinalOutcome::Other, false),
        ];
        for (i, (mode, outcome, deleted)) in cases.into_iter().enumerate() {
            let id = format!("cmd-{i}");
            command(root.path(), &id, 10, Duration::ZERO, now);
            after_command(root.path(), &id, outcome, &policy(mode)).unwrap();
            assert_eq!(
                !root.path().join(&id).exists(),
                deleted,
                "{mode:?} {outcome:?}"
            );
        }
        // Already gone is fine; ids that are not one path component are refused.
        let clean = policy(CleanupMode::CleanSuccessFailed);
        after_command(root.path(), "cmd-2", FinalOutcome::Success, &clean).unwrap();
        for bad in ["..", ".", "", "a/b", "/etc"] {
            let err = after_command(root.path(), bad, FinalOutcome::Success, &clean).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn sweep_removes_folders_older_than_the_retention() {
        let root = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        command(root.path(), "old", 100, 100 * HOUR, now);
        command(root.path(), "edge", 100, 71 * HOUR, now);
        command(root.path(), "new", 100, HOUR, now);
        // A stray file is neither counted nor removed.
        fs::write(root.path().join("stray"), "x").unwrap();
        let report = sweep(
            root.path(),
            &policy(CleanupMode::Keep),
            now,
            &HashSet::new(),
        )
        .unwrap();
        assert_eq!(report.removed, ["old"]);
        assert!(report.bytes_freed >= 100, "{report:?}");
        assert_eq!(report.remaining_entries, 2);
        assert_eq!(names(root.path()), ["edge", "new", "stray"]);
        // Nothing to do the second time; a missing root is an empty tree.
        let again = sweep(
            root.path(),
            &policy(CleanupMode::Keep),
            now,
            &HashSet::new(),
        )
        .unwrap();
        assert!(again.removed.is_empty());
        let missing = root.path().join("nope");
        let empty = sweep(&missing, &policy(CleanupMode::Keep), now, &HashSet::new()).unwrap();
        assert_eq!(empty, SweepReport::default());
    }

    #[test]
    fn size_cap_removes_oldest_first() {
        let root = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for (i, id) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            // Ages 5h, 4h, …, 1h: "a" is the oldest.
            command(root.path(), id, 64 * 1024, (5 - i as u32) * HOUR, now);
        }
        let size = |id: &str| disk_usage(&root.path().join(id)).unwrap();
        let mut p = policy(CleanupMode::Keep);
        p.max_bytes = size("c") + size("d") + size("e");
        let report = sweep(root.path(), &p, now, &HashSet::new()).unwrap();
        assert_eq!(report.removed, ["a", "b"]);
        assert_eq!(names(root.path()), ["c", "d", "e"]);
        assert_eq!(report.remaining_bytes, p.max_bytes);
        assert!(report.bytes_freed >= 2 * 64 * 1024);
        assert!(!report.over_cap(&p));
    }

    #[test]
    fn entry_cap_removes_oldest_first() {
        let root = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for i in 0..10u32 {
            command(root.path(), &format!("c{i}"), 1, (20 - i) * HOUR, now);
        }
        let mut p = policy(CleanupMode::Keep);
        p.max_entries = 4;
        let report = sweep(root.path(), &p, now, &HashSet::new()).unwrap();
        assert_eq!(report.removed, ["c0", "c1", "c2", "c3", "c4", "c5"]);
        assert_eq!(report.remaining_entries, 4);
        assert_eq!(names(root.path()), ["c6", "c7", "c8", "c9"]);
    }

    #[test]
    fn folders_in_use_are_never_removed() {
        let root = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        command(root.path(), "running", 4096, 1000 * HOUR, now);
        command(root.path(), "done", 4096, 1000 * HOUR, now);
        command(root.path(), "fresh", 4096, Duration::ZERO, now);
        let p = CleanupPolicy {
            mode: CleanupMode::CleanSuccessFailed,
            retention: HOUR,
            max_bytes: 0,
            max_entries: 0,
        };
        let in_use = HashSet::from(["running".to_string()]);
        let report = sweep(root.path(), &p, now, &in_use).unwrap();
        assert_eq!(report.removed, ["done", "fresh"]);
        assert_eq!(names(root.path()), ["running"]);
        assert_eq!(report.remaining_entries, 1);
        assert!(report.over_cap(&p));
    }

    #[test]
    fn symlinks_are_never_followed() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("passwd"), vec![b'x'; 1 << 20]).unwrap();
        let now = SystemTime::now();
        // A link planted as a command folder, and one inside a real command folder.
        symlink(outside.path(), root.path().join("planted")).unwrap();
        command(root.path(), "real", 10, 1000 * HOUR, now);
        // (This changes the step folder's mtime, not the command folder's.)
        symlink(
            outside.path(),
            root.path().join("real/0.runShellScript/etc"),
        )
        .unwrap();
        let usage = disk_usage(&root.path().join("real")).unwrap();
        assert!(usage < 1 << 20, "followed a link: {usage}");

        let p = CleanupPolicy {
            mode: CleanupMode::CleanSuccessFailed,
            retention: Duration::ZERO,
            max_bytes: 0,
            max_entries: 0,
        };
        after_command(root.path(), "planted", FinalOutcome::Success, &p).unwrap();
        let report = sweep(root.path(), &p, now, &HashSet::new()).unwrap();
        assert_eq!(report.removed, ["real"]);
        assert_eq!(names(root.path()), ["planted"]);
        assert!(outside.path().join("passwd").is_file());
        assert_eq!(names(outside.path()), ["passwd"]);
    }
}
