//! The PostgreSQL processes behind a test cluster: finding the server binaries, `initdb`,
//! `pg_ctl start/stop`, and a watchdog that stops the server if the test process dies without
//! cleaning up. As root, every server binary runs as the `postgres` user (`initdb` refuses root).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Where `initdb`, `pg_ctl` and `postgres` are: `BOSUN_PG_BINDIR`, else `pg_config --bindir`,
/// else the newest `/usr/lib/postgresql/*/bin`. `None` when no complete set is found.
pub(crate) fn find_bindir() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os("BOSUN_PG_BINDIR") {
        return Some(PathBuf::from(dir)).filter(|d| complete(d));
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(dir) = from_pg_config.filter(|d| complete(d)) {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| complete(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// One cluster's files and how to run its binaries.
#[derive(Debug)]
pub(crate) struct Server {
    bindir: PathBuf,
    /// The temp dir: `data/` (the cluster), `pg.log`, and the Unix socket.
    pub(crate) root: PathBuf,
    pub(crate) port: u16,
    as_postgres: bool,
    /// Started before `initdb`, so even a process killed during setup leaves nothing behind.
    watchdog: Option<Child>,
}

impl Server {
    /// A new cluster in a fresh temp dir (`initdb`), not started.
    pub(crate) fn init(bindir: PathBuf) -> Result<Server, String> {
        let root = tempfile::Builder::new()
            .prefix("bosun-pg.")
            .tempdir_in("/tmp")
            .map_err(|e| format!("cannot create a temp dir for PostgreSQL: {e}"))?
            .keep();
        let as_postgres = running_as_root();
        let mut server = Server {
            bindir,
            root,
            port: 0,
            as_postgres,
            watchdog: None,
        };
        if as_postgres {
            let chown = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&server.root)
                .output()
                .map_err(|e| format!("chown: {e}"))?;
            if !chown.status.success() {
                let _ = std::fs::remove_dir_all(&server.root);
                return Err(format!(
                    "running as root, the cluster must belong to the `postgres` user, but chown \
                     failed: {}",
                    String::from_utf8_lossy(&chown.stderr).trim()
                ));
            }
        }
        match server.start_watchdog() {
            Ok(child) => server.watchdog = Some(child),
            Err(e) => {
                server.remove_files();
                return Err(e);
            }
        }
        let data = server.root.join("data");
        let mut initdb = server.command("initdb");
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--no-instructions",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        if let Err(e) = run(initdb) {
            server.remove_files();
            return Err(format!("initdb failed: {e}"));
        }
        Ok(server)
    }

    /// Serve TLS only: a throwaway CA and a certificate for 127.0.0.1 (made with `openssl`),
    /// `ssl = on`, and `pg_hba.conf` allowing TCP clients only over TLS. Call before `start`.
    /// Returns the CA certificate's path (for `sslrootcert`).
    pub(crate) fn enable_tls(&self) -> Result<PathBuf, String> {
        let dir = &self.root;
        let data = dir.join("data");
        let openssl = |args: &[&str]| {
            let mut c = Command::new("openssl");
            c.args(args).current_dir(dir);
            run(c).map_err(|e| format!("openssl {}: {e}", args[0]))
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=bosun-test-ca",
        ])?;
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ])?;
        std::fs::write(
            dir.join("san.ext"),
            "subjectAltName=IP:127.0.0.1
",
        )
        .map_err(|e| e.to_string())?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ])?;
        for file in ["server.crt", "server.key"] {
            std::fs::copy(dir.join(file), data.join(file)).map_err(|e| e.to_string())?;
            std::fs::set_permissions(
                data.join(file),
                std::os::unix::fs::PermissionsExt::from_mode(0o600),
            )
            .map_err(|e| e.to_string())?;
            if self.as_postgres {
                let mut chown = Command::new("chown");
                chown.arg("postgres:postgres").arg(data.join(file));
                run(chown)?;
            }
        }
        let append = |file: &str, text: &str| -> Result<(), String> {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .append(true)
                .open(data.join(file))
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map_err(|e| format!("{file}: {e}"))
        };
        append(
            "postgresql.conf",
            "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        )?;
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .map_err(|e| format!("pg_hba.conf: {e}"))?;
        Ok(dir.join("ca.pem"))
    }

    /// A server binary, run as `postgres` when we are root, from the cluster's dir.
    fn command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.current_dir(&self.root).stdin(Stdio::null());
        cmd
    }

    /// Start the server and wait until it accepts connections. On a fresh port unless `port` is
    /// already set (a restart keeps the port, so URLs stay valid).
    pub(crate) fn start(&mut self) -> Result<(), String> {
        let keep_port = self.port != 0;
        let mut last_error = String::new();
        for _ in 0..3 {
            if !keep_port {
                self.port = free_port()?;
            }
            // `BOSUN_PG_TEST_OPTIONS` adds server options for an investigation (e.g.
            // `-c log_min_duration_statement=0` to see every statement a benchmark sends).
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c max_connections=200 {}",
                self.port,
                self.root.display(),
                std::env::var("BOSUN_PG_TEST_OPTIONS").unwrap_or_default()
            );
            let mut pg_ctl = self.command("pg_ctl");
            pg_ctl
                .arg("-D")
                .arg(self.root.join("data"))
                .arg("-l")
                .arg(self.root.join("pg.log"))
                .args(["-w", "-t", "30", "-o", &options, "start"]);
            match run(pg_ctl) {
                Ok(()) => return Ok(()),
                Err(e) => last_error = format!("{e}\n{}", self.log_tail()),
            }
            if keep_port {
                break;
            }
        }
        Err(format!("pg_ctl start failed: {last_error}"))
    }

    /// Stop the server (`fast`: disconnect clients, roll back, shut down) and wait for it; fall
    /// back to `immediate` if that does not finish.
    pub(crate) fn stop(&self) -> Result<(), String> {
        let fast = self.pg_ctl_stop("fast");
        if fast.is_ok() {
            return fast;
        }
        self.pg_ctl_stop("immediate")
            .map_err(|e| format!("{}; then {e}", fast.unwrap_err()))
    }

    fn pg_ctl_stop(&self, mode: &str) -> Result<(), String> {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.root.join("data"))
            .args(["-m", mode, "-w", "-t", "30", "stop"]);
        run(pg_ctl).map_err(|e| format!("pg_ctl stop -m {mode} failed: {e}"))
    }

    /// A process that outlives us only to clean up: when this test process is gone, it stops
    /// the server (immediate) and removes the dir. Ended by [`Server::remove_files`].
    fn start_watchdog(&self) -> Result<Child, String> {
        const SCRIPT: &str = r#"trap '' INT TERM HUP
while kill -0 "$1" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$2/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
rm -rf "$2""#;
        use std::os::unix::process::CommandExt;
        Command::new("sh")
            .args(["-c", SCRIPT, "bosun-pg-watchdog"])
            .arg(std::process::id().to_string())
            .arg(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the cleanup watchdog: {e}"))
    }

    /// The end of the server log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.root.join("pg.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!(
            "server log ({}):\n{tail}",
            self.root.join("pg.log").display()
        )
    }

    /// Remove the cluster's files (after the server stopped) and end the watchdog.
    pub(crate) fn remove_files(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
        if let Some(mut child) = self.watchdog.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Run to completion; the error carries the exit status and output.
fn run(mut cmd: Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{:?} {:?} exited with {}:\n{}{}",
        cmd.get_program(),
        cmd.get_args().collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}
