//! The agent's durable command state under `<state-dir>/<node-id>/`:
//! `document/state/{pending,current,completed}/<command-id>` (the delivery, moved along as it
//! runs), `document/orchestration/<command-id>/<step>/` (working folders and output),
//! `idempotency/<command-id>` (seen before: never run twice) and `replies/<command-id>`
//! (results kept until the server acknowledges them). Every write is atomic.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use bosun_core::ids;
use bosun_proto::{CommandDelivery, CommandResult};

use bosun_fs::write_atomic;

/// Where a command is in its life on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Current,
    Completed,
}

impl Phase {
    fn dir(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Current => "current",
            Phase::Completed => "completed",
        }
    }
}

pub struct Spool {
    root: PathBuf,
}

pub use bosun_core::ids::step_dir_name;

/// The delivery as it may be written to disk: values of secret environment entries blanked.
/// (They exist in memory only; a command recovered from disk cannot start steps that need them.)
pub fn without_secrets(d: &CommandDelivery) -> CommandDelivery {
    let mut d = d.clone();
    for step in d.steps.iter_mut() {
        for (name, value) in step.env.iter_mut() {
            if step.secret_env.contains(name) {
                value.clear();
            }
        }
    }
    d
}

impl Spool {
    /// Open (creating) the tree for one node.
    pub fn open(state_dir: &Path, instance_id: &str) -> io::Result<Self> {
        // Absolute: step supervisors run in other working directories.
        let root = std::path::absolute(state_dir)?.join(instance_id);
        for d in [
            "document/state/pending",
            "document/state/current",
            "document/state/completed",
            "document/state/corrupt",
            "document/orchestration",
            "idempotency",
            "replies",
        ] {
            bosun_fs::create_private_dir_all(&root.join(d))?;
        }
        Ok(Self { root })
    }

    /// `<state-dir>/<node-id>`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn valid(command_id: &str) -> io::Result<()> {
        if ids::is_lower_uuid(command_id) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("malformed command id {command_id:?}"),
            ))
        }
    }

    fn state_path(&self, phase: Phase, command_id: &str) -> PathBuf {
        self.root
            .join("document/state")
            .join(phase.dir())
            .join(command_id)
    }

    pub fn orchestration_root(&self) -> PathBuf {
        self.root.join("document/orchestration")
    }

    /// The working folder of one step (created).
    pub fn step_dir(&self, command_id: &str, step: &str) -> io::Result<PathBuf> {
        Self::valid(command_id)?;
        let dir = self
            .orchestration_root()
            .join(command_id)
            .join(step_dir_name(step));
        bosun_fs::create_private_dir_all(&dir)?;
        Ok(dir)
    }

    /// The command's download folder (created): `aws:downloadContent`'s default destination
    /// and the working directory of steps that name none. `@` keeps it apart from step
    /// folders, whose names never hold one.
    pub fn downloads_dir(&self, command_id: &str) -> io::Result<PathBuf> {
        Self::valid(command_id)?;
        let dir = self
            .orchestration_root()
            .join(command_id)
            .join("@downloads");
        bosun_fs::create_private_dir_all(&dir)?;
        Ok(dir)
    }

    /// The folder of a step if it exists (for re-attaching and re-sending output).
    pub fn existing_step_dir(&self, command_id: &str, step: &str) -> Option<PathBuf> {
        Self::valid(command_id).ok()?;
        let dir = self
            .orchestration_root()
            .join(command_id)
            .join(step_dir_name(step));
        dir.is_dir().then_some(dir)
    }

    /// True when this command was accepted before (whatever happened to it since).
    pub fn seen(&self, command_id: &str) -> bool {
        Self::valid(command_id).is_ok() && self.root.join("idempotency").join(command_id).exists()
    }

    /// Persist a new delivery as pending and record it as seen, durably, before it is acked.
    pub fn accept(&self, d: &CommandDelivery) -> io::Result<()> {
        Self::valid(&d.command_id)?;
        write_atomic(
            &self.state_path(Phase::Pending, &d.command_id),
            &serde_json::to_vec(&without_secrets(d))?,
            0o600,
        )?;
        // The marker holds the delivery deadline: the server never sends the command after it,
        // so the marker can go an hour later.
        write_atomic(
            &self.root.join("idempotency").join(&d.command_id),
            d.deliver_by_ms.to_string().as_bytes(),
            0o600,
        )
    }

    /// Forget what can no longer matter: idempotency markers (and completed state files) an
    /// hour past their delivery deadline, and spooled results older than `replies_max_age`
    /// (the server was unreachable that long; the loss is logged). Returns how many files went.
    pub fn expire(&self, now_ms: i64, replies_max_age: std::time::Duration) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(self.root.join("idempotency"))? {
            let entry = entry?;
            let deadline: i64 = fs::read_to_string(entry.path())
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(0);
            if now_ms > deadline + 3_600_000 {
                let name = entry.file_name();
                let _ = fs::remove_file(self.root.join("document/state/completed").join(&name));
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        let cutoff = std::time::SystemTime::now() - replies_max_age;
        for entry in fs::read_dir(self.root.join("replies"))? {
            let entry = entry?;
            if entry.metadata()?.modified()? < cutoff {
                tracing::warn!(command_id = %entry.file_name().to_string_lossy(), "dropping a result the server never acknowledged");
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Create the command's orchestration folder (`<root>/<command-id>`), so it exists, and
    /// counts against the cap, from the moment room was made for it.
    pub fn create_command_dir(&self, command_id: &str) -> io::Result<PathBuf> {
        Self::valid(command_id)?;
        let dir = self.orchestration_root().join(command_id);
        bosun_fs::create_private_dir_all(&dir)?;
        Ok(dir)
    }

    /// Keep `idempotency/` and `document/state/completed/` within `max_entries` and
    /// `retention`, like the orchestration folders: records older than `retention` go, then the
    /// oldest until at most `max_entries` are left. Only records of commands that are neither
    /// pending, running nor holding an unacknowledged result are removed: the server re-sends a
    /// delivery only until the agent acknowledges it and stops once it holds the result, so a
    /// command whose result was acknowledged is never delivered again. Returns how many went.
    pub fn bound_records(
        &self,
        max_entries: usize,
        retention: std::time::Duration,
        now: std::time::SystemTime,
    ) -> io::Result<usize> {
        let names = |dir: &Path| -> io::Result<Vec<(String, std::time::SystemTime)>> {
            let mut out = Vec::new();
            for entry in fs::read_dir(dir)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let modified = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                out.push((name, modified));
            }
            Ok(out)
        };
        let state = self.root.join("document/state");
        let active: std::collections::HashSet<String> = [
            state.join("pending"),
            state.join("current"),
            self.root.join("replies"),
        ]
        .iter()
        .map(|d| names(d))
        .collect::<io::Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .map(|(n, _)| n)
        .collect();
        // Every record, by command: a marker, a completed state file, or both (oldest time).
        let mut records: std::collections::HashMap<String, std::time::SystemTime> =
            Default::default();
        for (name, t) in names(&self.root.join("idempotency"))?
            .into_iter()
            .chain(names(&state.join("completed"))?)
        {
            let e = records.entry(name).or_insert(t);
            *e = (*e).min(t);
        }
        let mut count = records.len();
        let mut removable: Vec<(String, std::time::SystemTime)> = records
            .into_iter()
            .filter(|(n, _)| !active.contains(n))
            .collect();
        removable.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let mut removed = 0;
        for (name, t) in removable {
            let expired = now.duration_since(t).is_ok_and(|age| age > retention);
            if !expired && count <= max_entries {
                continue;
            }
            // The state file first: a crash in between leaves a marker, which still blocks a rerun.
            for path in [
                state.join("completed").join(&name),
                self.root.join("idempotency").join(&name),
            ] {
                match fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            count -= 1;
            removed += 1;
        }
        Ok(removed)
    }

    /// Move a command to another phase (the file keeps the delivery).
    pub fn advance(&self, command_id: &str, from: Phase, to: Phase) -> io::Result<()> {
        Self::valid(command_id)?;
        fs::rename(
            self.state_path(from, command_id),
            self.state_path(to, command_id),
        )?;
        fs::File::open(self.root.join("document/state").join(to.dir()))?.sync_all()
    }

    /// Deliveries in a phase (unreadable files are moved to `corrupt`).
    pub fn list(&self, phase: Phase) -> io::Result<Vec<CommandDelivery>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.root.join("document/state").join(phase.dir()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            match fs::read(entry.path())
                .ok()
                .and_then(|b| serde_json::from_slice::<CommandDelivery>(&b).ok())
            {
                Some(d) if d.command_id == name => out.push(d),
                _ => {
                    tracing::warn!(file = %entry.path().display(), "moving an unreadable command state file to corrupt");
                    let _ = fs::rename(
                        entry.path(),
                        self.root.join("document/state/corrupt").join(&name),
                    );
                }
            }
        }
        Ok(out)
    }

    /// Spool a result until the server acknowledges it.
    pub fn put_reply(&self, r: &CommandResult) -> io::Result<()> {
        Self::valid(&r.command_id)?;
        write_atomic(
            &self.root.join("replies").join(&r.command_id),
            &serde_json::to_vec(r)?,
            0o600,
        )
    }

    pub fn replies(&self) -> io::Result<Vec<CommandResult>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.root.join("replies"))? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if let Some(r) = fs::read(entry.path())
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    pub fn reply(&self, command_id: &str) -> Option<CommandResult> {
        Self::valid(command_id).ok()?;
        fs::read(self.root.join("replies").join(command_id))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// The server stored the result: drop the spooled copy.
    pub fn drop_reply(&self, command_id: &str) -> io::Result<()> {
        Self::valid(command_id)?;
        match fs::remove_file(self.root.join("replies").join(command_id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: &str) -> CommandDelivery {
        CommandDelivery {
            command_id: id.into(),
            document_name: "AWS-RunShellScript".into(),
            document_hash: String::new(),
            steps: vec![],
            deliver_by_ms: 0,
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn a_command_moves_through_the_phases_and_is_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), "mi-0123456789abcdef0").unwrap();
        let id = "00000000-0000-4000-8000-000000000001";
        assert!(!spool.seen(id));
        spool.accept(&delivery(id)).unwrap();
        assert!(spool.seen(id));
        assert_eq!(spool.list(Phase::Pending).unwrap().len(), 1);
        spool.advance(id, Phase::Pending, Phase::Current).unwrap();
        assert!(spool.list(Phase::Pending).unwrap().is_empty());
        assert_eq!(spool.list(Phase::Current).unwrap()[0].command_id, id);
        let r = CommandResult {
            command_id: id.into(),
            not_run: None,
            steps: vec![],
        };
        spool.put_reply(&r).unwrap();
        assert_eq!(spool.replies().unwrap(), vec![r]);
        spool.drop_reply(id).unwrap();
        assert!(spool.replies().unwrap().is_empty());
    }

    #[test]
    fn malformed_ids_never_touch_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), "mi-0123456789abcdef0").unwrap();
        assert!(spool.accept(&delivery("../../etc/passwd")).is_err());
        assert!(spool.step_dir("../x", "s").is_err());
        assert!(!spool.seen("../x"));
        assert_eq!(step_dir_name(".."), format!("x{}", hex::encode("..")));
    }

    #[test]
    fn records_are_bounded_but_never_those_of_live_or_unacknowledged_commands() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), "mi-0123456789abcdef0").unwrap();
        let id = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
        let now = std::time::SystemTime::now();
        let hour = std::time::Duration::from_secs(3600);
        for n in 0..8 {
            spool.accept(&delivery(&id(n))).unwrap();
            // Oldest first: n = 0 is 8 hours old.
            let t = now - hour * (8 - n);
            for p in [
                spool.root.join("idempotency").join(id(n)),
                spool.state_path(Phase::Pending, &id(n)),
            ] {
                std::fs::File::options()
                    .write(true)
                    .open(&p)
                    .unwrap()
                    .set_modified(t)
                    .unwrap();
            }
            if n != 1 && n != 2 {
                spool
                    .advance(&id(n), Phase::Pending, Phase::Completed)
                    .unwrap();
            }
        }
        // 1 is still pending; 3's result is not acknowledged yet.
        spool
            .put_reply(&CommandResult {
                command_id: id(3),
                not_run: None,
                steps: vec![],
            })
            .unwrap();
        spool
            .advance(&id(2), Phase::Pending, Phase::Current)
            .unwrap();
        let removed = spool.bound_records(4, 100 * hour, now).unwrap();
        // 8 records, cap 4: the oldest removable ones (0, 4, 5, 6) go; 1, 2, 3 stay.
        assert_eq!(removed, 4);
        for n in [0, 4, 5, 6] {
            assert!(!spool.seen(&id(n)), "{n}");
            assert!(!spool.state_path(Phase::Completed, &id(n)).exists());
        }
        for n in [1, 2, 3, 7] {
            assert!(spool.seen(&id(n)), "{n}");
        }
        // Retention: 7 is an hour old.
        assert_eq!(spool.bound_records(100, hour / 2, now).unwrap(), 1);
        assert!(!spool.seen(&id(7)));
    }
}
