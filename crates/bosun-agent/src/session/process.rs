//! A session's process: the run-as user's login shell (or `<shell> -c command`) on a PTY, or a
//! command on pipes; in its own session (`setsid`) so its process group is its pid, with the
//! `BOSUN_SESSION_ID` marker in its environment so escaped descendants can be found.
//!
//! Reads and writes go through two small threads per process (blocking IO on the PTY master or
//! the pipes), bridged to tokio channels.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;

use nix::pty::{openpty, Winsize};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::user::RunAs;

/// Environment variable marking a session's processes.
pub const SESSION_MARKER: &str = "BOSUN_SESSION_ID";
/// Bytes read per output frame at most. AWS's agent reads 1,024 (`StreamDataPayloadSize`);
/// clients take any payload length, and bigger frames cut the per-frame work (an ack each)
/// for bulk output, while a keystroke's echo is still one small frame.
const CHUNK: usize = 32 * 1024;

/// What to start.
#[derive(Debug, Clone)]
pub struct SpawnSpec {
    pub session_id: String,
    pub user: RunAs,
    /// `None`: the login shell; `Some(c)`: `<shell> -c c`.
    pub command: Option<String>,
    /// PTY (shells, InteractiveCommands) or pipes (NonInteractiveCommands).
    pub pty: bool,
}

/// A running session process.
pub struct SessionProcess {
    pub child: Child,
    /// Its process group and session id (it is the leader of both).
    pub pgid: i32,
    /// Output chunks; closed at EOF.
    pub output: mpsc::Receiver<Vec<u8>>,
    input: Option<std::sync::mpsc::Sender<Vec<u8>>>,
    /// The PTY master, for window sizes.
    master: Option<OwnedFd>,
}

nix::ioctl_write_ptr_bad!(set_winsize, nix::libc::TIOCSWINSZ, Winsize);

impl SessionProcess {
    pub fn spawn(spec: &SpawnSpec) -> std::io::Result<Self> {
        let user = &spec.user;
        let mut cmd = Command::new(&user.shell);
        let shell_name = user
            .shell
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sh".into());
        match &spec.command {
            // A login shell, as login(1) starts it: argv[0] with a leading dash.
            None => {
                cmd.arg0(format!("-{shell_name}"));
            }
            Some(c) => {
                cmd.arg("-c").arg(c);
            }
        }
        cmd.current_dir(&user.home)
            .env("HOME", &user.home)
            .env("USER", &user.name)
            .env("LOGNAME", &user.name)
            .env("SHELL", &user.shell)
            .env(SESSION_MARKER, &spec.session_id)
            .kill_on_drop(false);
        if std::env::var_os("LANG").is_none() {
            cmd.env("LANG", "C.UTF-8");
        }
        let (reader, writer, master, stdio): (File, File, Option<OwnedFd>, [Stdio; 3]) = if spec.pty
        {
            cmd.env("TERM", "xterm-256color");
            let size = Winsize {
                ws_row: 24,
                ws_col: 80,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            let pty = openpty(&size, None).map_err(std::io::Error::from)?;
            // Other sessions' and steps' children must not inherit this session's fds (a stray
            // copy of the slave would keep its output from ending).
            cloexec(&pty.master)?;
            cloexec(&pty.slave)?;
            let reader = File::from(pty.master.try_clone()?);
            let writer = File::from(pty.master.try_clone()?);
            let s = pty.slave;
            let stdio = [
                Stdio::from(s.try_clone()?),
                Stdio::from(s.try_clone()?),
                Stdio::from(s),
            ];
            (reader, writer, Some(pty.master), stdio)
        } else {
            let (in_r, in_w) = nix::unistd::pipe().map_err(std::io::Error::from)?;
            let (out_r, out_w) = nix::unistd::pipe().map_err(std::io::Error::from)?;
            let stdio = [
                Stdio::from(in_r),
                Stdio::from(out_w.try_clone()?),
                Stdio::from(out_w),
            ];
            (File::from(out_r), File::from(in_w), None, stdio)
        };
        let [stdin, stdout, stderr] = stdio;
        cmd.stdin(stdin).stdout(stdout).stderr(stderr);
        let pty = spec.pty;
        let switch = user
            .switch
            .then(|| (user.uid.as_raw(), user.gid.as_raw(), user.groups.clone()));
        let groups: Option<Vec<nix::libc::gid_t>> = switch
            .as_ref()
            .map(|(_, _, g)| g.iter().map(|g| g.as_raw()).collect());
        // SAFETY: only async-signal-safe system calls run between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                use nix::libc;
                // A session starts with default signal handling whatever the agent inherited
                // (an agent started under `nohup` ignores SIGHUP, and ignored signals survive
                // exec): the shell must die of the hangup that ends a session.
                for signal in [
                    libc::SIGHUP,
                    libc::SIGINT,
                    libc::SIGQUIT,
                    libc::SIGTERM,
                    libc::SIGTSTP,
                    libc::SIGTTIN,
                    libc::SIGTTOU,
                ] {
                    libc::signal(signal, libc::SIG_DFL);
                }
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if pty && libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if let (Some((uid, gid, _)), Some(groups)) = (&switch, &groups) {
                    if libc::setgroups(groups.len() as _, groups.as_ptr()) < 0
                        || libc::setgid(*gid) < 0
                        || libc::setuid(*uid) < 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        // The child's ends of the PTY/pipes were moved into `cmd`; drop them here so EOF comes
        // when the child side closes.
        drop(cmd);
        let pgid = child.id().map(|p| p as i32).unwrap_or(-1);
        let (out_tx, output) = mpsc::channel(64);
        std::thread::spawn(move || read_loop(reader, out_tx));
        let (in_tx, in_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut writer = writer;
            while let Ok(bytes) = in_rx.recv() {
                if writer.write_all(&bytes).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            child,
            pgid,
            output,
            input: Some(in_tx),
            master,
        })
    }

    /// Bytes for the process's stdin (or the terminal).
    pub fn write(&self, bytes: Vec<u8>) {
        if let Some(tx) = &self.input {
            let _ = tx.send(bytes);
        }
    }

    /// Close stdin (pipes): the command sees EOF.
    pub fn close_input(&mut self) {
        self.input = None;
    }

    /// TIOCSWINSZ on the PTY (no-op on pipes).
    pub fn resize(&self, cols: u32, rows: u32) {
        if let Some(master) = &self.master {
            let size = Winsize {
                ws_row: rows.min(u16::MAX as u32) as u16,
                ws_col: cols.min(u16::MAX as u32) as u16,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: a valid fd and a valid winsize pointer.
            let _ = unsafe { set_winsize(master.as_raw_fd(), &size) };
        }
    }
}

fn cloexec(fd: &OwnedFd) -> std::io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(std::io::Error::from)?;
    Ok(())
}

fn read_loop(mut reader: File, tx: mpsc::Sender<Vec<u8>>) {
    let mut buf = [0u8; CHUNK];
    loop {
        match reader.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // EIO on a PTY master: every slave end is closed.
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.blocking_send(buf[..n].to_vec()).is_err() {
                    return;
                }
            }
        }
    }
}
