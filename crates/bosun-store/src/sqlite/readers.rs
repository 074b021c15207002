//! Read-only connections to the database file, so reads never queue behind a writer's fsync.
//!
//! SQLite in WAL mode lets any number of readers run beside the one writer, each on a snapshot
//! of the last commit. A read borrows an idle connection (opening one when none is idle), runs
//! inside one read transaction, so all its statements see the same snapshot, and gives the
//! connection back. A change committed by the writer before a read starts is always seen.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::Result;

/// Most idle read connections kept open; more may exist while many reads run at once.
const IDLE_KEPT: usize = 8;

/// A pool of read-only connections to one database file.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    }

    /// Run `read` on a read-only connection inside one read transaction.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match taken {
            Some(c) => c,
            None => self.open()?,
        };
        let out = {
            let tx = conn.transaction()?;
            let out = read(&tx)?;
            tx.commit()?;
            out
        };
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_KEPT {
            idle.push(conn);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::IamStore;
    use crate::SqliteStore;

    #[test]
    fn reads_see_every_commit_and_never_wait_for_an_open_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(SqliteStore::open(&dir.path().join("bosun.db")).unwrap());
        store.create_user("alice", 1).unwrap();
        assert_eq!(
            store.list_users().unwrap().len(),
            1,
            "a read sees the last commit"
        );

        // The writer is inside a transaction it has not committed (as during a disk sync).
        let mut writer = store.conn();
        let tx = writer.transaction().unwrap();
        tx.execute("INSERT INTO users (name, created_ms) VALUES ('bob', 2)", [])
            .unwrap();
        let (sent, got) = mpsc::channel();
        let reader = store.clone();
        std::thread::spawn(move || sent.send(reader.list_users().unwrap()).unwrap());
        let seen = got
            .recv_timeout(Duration::from_secs(30))
            .expect("a read must not wait for the writer");
        assert_eq!(seen.len(), 1, "an uncommitted row is not seen");
        tx.commit().unwrap();
        drop(writer);
        let names: Vec<_> = store
            .list_users()
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert_eq!(
            names,
            ["alice", "bob"],
            "the commit is seen by the next read"
        );
    }

    #[test]
    fn a_failed_read_changes_nothing_and_the_pool_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("bosun.db")).unwrap();
        let readers = store.readers.as_ref().unwrap();
        let err = readers.read(|conn| {
            conn.execute("INSERT INTO users (name, created_ms) VALUES ('x', 1)", [])?;
            Ok(())
        });
        assert!(err.is_err(), "read connections refuse writes");
        assert!(store.list_users().unwrap().is_empty());
        std::thread::scope(|s| {
            for _ in 0..32 {
                s.spawn(|| store.list_users().unwrap());
            }
        });
        assert!(readers.idle.lock().unwrap().len() <= super::IDLE_KEPT);
    }
}
