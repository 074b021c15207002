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
}
