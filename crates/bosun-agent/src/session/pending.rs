//! Session ends not yet acknowledged by the server, one 0600 JSON file each under
//! `<state-dir>/sessions/ended/`, so an agent restart loses no exit code.

use std::fs;
use std::io;
use std::path::PathBuf;

use bosun_proto::session::SessionEnd;

pub struct PendingEnds {
    dir: PathBuf,
}

/// Session ids are the server's (`<user>-<hex>`); anything else cannot name a file or folder
/// here.
pub(super) fn safe(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !id.starts_with('.')
}

impl PendingEnds {
    pub fn open(state_dir: &std::path::Path) -> io::Result<Self> {
        let dir = state_dir.join("sessions").join("ended");
        bosun_fs::create_private_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn path(&self, id: &str) -> Option<PathBuf> {
        safe(id).then(|| self.dir.join(format!("{id}.json")))
    }

    /// Persist before it is sent.
    pub fn save(&self, end: &SessionEnd) -> io::Result<()> {
        let Some(path) = self.path(&end.session_id) else {
            return Err(io::Error::other(format!(
                "invalid session id {:?}",
                end.session_id
            )));
        };
        let body = serde_json::to_vec(end).map_err(io::Error::other)?;
        bosun_fs::write_atomic(&path, &body, 0o600)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.path(id).is_some_and(|p| p.exists())
    }

    pub fn get(&self, id: &str) -> Option<SessionEnd> {
        let text = fs::read(self.path(id)?).ok()?;
        serde_json::from_slice(&text).ok()
    }

    pub fn remove(&self, id: &str) -> io::Result<()> {
        let Some(path) = self.path(id) else {
            return Ok(());
        };
        match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every pending end (unreadable files are skipped and logged).
    pub fn all(&self) -> Vec<SessionEnd> {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in dir.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match fs::read(&path)
                .ok()
                .and_then(|t| serde_json::from_slice(&t).ok())
            {
                Some(end) => out.push(end),
                None => tracing::warn!(path = %path.display(), "unreadable pending session end"),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bosun_proto::session::SessionEndReason;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn ends_persist_privately_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = PendingEnds::open(dir.path()).unwrap();
        let end = super::super::run::ended("u-1", SessionEndReason::Exited, Some(3), None, None);
        p.save(&end).unwrap();
        let file = dir.path().join("sessions/ended/u-1.json");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = PendingEnds::open(dir.path()).unwrap();
        assert_eq!(again.all(), vec![end.clone()]);
        assert_eq!(again.get("u-1"), Some(end));
        again.remove("u-1").unwrap();
        assert!(again.all().is_empty() && !again.contains("u-1"));
        assert!(!again.contains("../x"));
        assert!(p
            .save(&super::super::run::ended(
                "../x",
                SessionEndReason::Exited,
                None,
                None,
                None
            ))
            .is_err());
    }
}
