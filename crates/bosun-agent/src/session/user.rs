//! Who a session runs as: the run-as user from passwd (login shell, home, groups), checked
//! against what the agent itself may do.

use std::ffi::CString;
use std::path::PathBuf;

use nix::unistd::{Gid, Uid, User};

/// The identity a session's processes get.
#[derive(Debug, Clone)]
pub struct RunAs {
    pub name: String,
    pub uid: Uid,
    pub gid: Gid,
    /// Supplementary groups (set only when the agent is root and switches user).
    pub groups: Vec<Gid>,
    /// The login shell from passwd (`/bin/sh` when empty).
    pub shell: PathBuf,
    pub home: PathBuf,
    /// Whether the child must switch to this user (the agent is root and it is another user).
    pub switch: bool,
}

/// Resolve `run_as_user` (`None`: the agent's own user). Errors are shown to the caller.
pub fn resolve(run_as_user: Option<&str>) -> Result<RunAs, String> {
    let me = Uid::current();
    let user = match run_as_user {
        Some(name) => User::from_name(name)
            .map_err(|e| format!("cannot look up the run-as user {name:?}: {e}"))?
            .ok_or_else(|| format!("the run-as user {name:?} does not exist on this node"))?,
        None => User::from_uid(me)
            .map_err(|e| format!("cannot look up the agent's user (uid {me}): {e}"))?
            .ok_or_else(|| format!("the agent's user (uid {me}) is not in passwd"))?,
    };
    let switch = user.uid != me;
    if switch && !me.is_root() {
        return Err(format!(
            "cannot run the session as {:?}: the agent runs as uid {me}, not root, and can only \
             start sessions as its own user",
            user.name
        ));
    }
    let groups = if switch {
        let cname = CString::new(user.name.clone())
            .map_err(|_| format!("invalid user name {:?}", user.name))?;
        nix::unistd::getgrouplist(&cname, user.gid)
            .map_err(|e| format!("cannot read the groups of {:?}: {e}", user.name))?
    } else {
        Vec::new()
    };
    if !user.dir.is_dir() {
        return Err(format!(
            "the home directory {} of user {:?} does not exist",
            user.dir.display(),
            user.name
        ));
    }
    let shell = if user.shell.as_os_str().is_empty() {
        PathBuf::from("/bin/sh")
    } else {
        user.shell.clone()
    };
    Ok(RunAs {
        name: user.name,
        uid: user.uid,
        gid: user.gid,
        groups,
        shell,
        home: user.dir,
        switch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_user_and_missing_user() {
        let me = resolve(None).unwrap();
        assert_eq!(me.uid, Uid::current());
        assert!(!me.switch);
        assert!(me.home.is_dir());
        let e = resolve(Some("bosun-no-such-user-x")).unwrap_err();
        assert_eq!(
            e,
            "the run-as user \"bosun-no-such-user-x\" does not exist on this node"
        );
    }
}
