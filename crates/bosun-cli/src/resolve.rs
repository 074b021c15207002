//! Where the CLI finds the server, the region and the access key, and where each came from.
//!
//! Endpoint: `--endpoint-url`; `BOSUN_ENDPOINT`, `AWS_ENDPOINT_URL_SSM`, `AWS_ENDPOINT_URL`; the
//! AWS profile's `endpoint_url` (`AWS_CONFIG_FILE` or `~/.aws/config`); a Bosun data dir
//! (`--data-dir`, `BOSUN_DATA_DIR`, or `./bosun-data` when it exists: its `config`'s
//! `endpoint_url`, else its `listen-addr`); else `http://127.0.0.1:8080`.
//!
//! Access key: `--credentials-file`; `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`;
//! `AWS_SHARED_CREDENTIALS_FILE`; the data dir's `credentials` when the data dir was named or gave
//! the endpoint; `~/.aws/credentials`; `./bosun-data/credentials`.
//!
//! Everything here reads files and a snapshot of the environment ([`Env`]) and nothing else, so
//! the order is unit-tested without touching the process environment.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The endpoint when nothing names one (the server's default `--listen`).
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8080";

/// The environment the resolution reads.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub vars: HashMap<String, String>,
    pub home: Option<PathBuf>,
    pub cwd: PathBuf,
}

impl Env {
    /// The real process environment.
    pub fn current() -> Self {
        Self {
            vars: std::env::vars().collect(),
            home: std::env::var_os("HOME").map(PathBuf::from),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        }
    }
}

/// What the user gave on the command line.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub credentials_file: Option<PathBuf>,
    pub profile: Option<String>,
    pub data_dir: Option<PathBuf>,
}

/// Where a setting came from, said the way a user would look for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    EnvVar(&'static str),
    /// A key in an AWS config or credentials file's profile.
    Profile {
        file: PathBuf,
        profile: String,
    },
    /// A file in a Bosun data dir.
    DataDir(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "from {flag}"),
            Source::EnvVar(var) => write!(f, "from ${var}"),
            Source::Profile { file, profile } => {
                write!(f, "from profile [{profile}] in {}", file.display())
            }
            Source::DataDir(file) => write!(f, "from {}", file.display()),
            Source::Default => write!(f, "the built-in default"),
        }
    }
}

/// How the data dir was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    pub path: PathBuf,
    /// Named by `--data-dir` or `BOSUN_DATA_DIR` (not just found as `./bosun-data`).
    pub named: bool,
}

/// The data dir: `--data-dir`, `BOSUN_DATA_DIR`, else `./bosun-data` if it exists.
pub fn data_dir(flags: &Flags, env: &Env) -> Option<DataDir> {
    if let Some(p) = &flags.data_dir {
        return Some(DataDir {
            path: env.path(p),
            named: true,
        });
    }
    if let Some(p) = env.var("BOSUN_DATA_DIR") {
        return Some(DataDir {
            path: env.path(Path::new(p)),
            named: true,
        });
    }
    let local = env.cwd.join("bosun-data");
    local.is_dir().then_some(DataDir {
        path: local,
        named: false,
    })
}

/// The data dir a server command (`server`, `quickstart`, `admin`, …) uses: as [`data_dir`],
/// else `./bosun-data` (created by the server).
pub fn server_data_dir(flags: &Flags, env: &Env) -> PathBuf {
    data_dir(flags, env)
        .map(|d| d.path)
        .unwrap_or_else(|| env.cwd.join("bosun-data"))
}

/// Everything a client needs, with where each part came from.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub endpoint: String,
    pub endpoint_from: Source,
    pub region: String,
    pub keys: Result<(String, String), String>,
    pub keys_from: Option<Source>,
}

/// A parsed INI file: section name → key → value (AWS's format, without nested blocks).
fn ini(path: &Path) -> Option<HashMap<String, HashMap<String, String>>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut out: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut section = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') || trimmed.is_empty() {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.trim().to_string());
            out.entry(name.trim().to_string()).or_default();
        } else if line.starts_with([' ', '\t']) {
            continue; // a nested block (`s3 =` sub-keys): not used here
        } else if let (Some(s), Some((k, v))) = (&section, trimmed.split_once('=')) {
            out.entry(s.clone())
                .or_default()
                .insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    Some(out)
}

/// One profile of an AWS config file (`[default]` or `[profile NAME]`).
fn config_profile(path: &Path, profile: &str) -> Option<HashMap<String, String>> {
    let mut file = ini(path)?;
    if profile == "default" {
        file.remove("default")
    } else {
        file.remove(&format!("profile {profile}"))
            .or_else(|| file.remove(profile))
    }
}

/// One profile's keys from a shared-credentials file.
pub fn read_credentials(path: &Path, profile: &str) -> Result<(String, String), String> {
    let Some(mut file) = ini(path) else {
        return Err(format!("cannot read {}", path.display()));
    };
    let section = file.remove(profile).unwrap_or_default();
    match (
        section.get("aws_access_key_id"),
        section.get("aws_secret_access_key"),
    ) {
        (Some(a), Some(s)) => Ok((a.clone(), s.clone())),
        _ => Err(format!(
            "profile [{profile}] in {} has no access key",
            path.display()
        )),
    }
}

/// The endpoint a data dir's server announced: its `config`'s `endpoint_url`, else
/// `http://` + its `listen-addr`.
pub fn data_dir_endpoint(dir: &Path) -> Option<(String, PathBuf)> {
    let config = dir.join("config");
    if let Some(url) =
        config_profile(&config, "default").and_then(|p| p.get("endpoint_url").cloned())
    {
        return Some((url, config));
    }
    let addr_file = dir.join("listen-addr");
    let addr = std::fs::read_to_string(&addr_file).ok()?;
    let addr = addr.trim();
    (!addr.is_empty()).then(|| (format!("http://{}", loopback_for(addr)), addr_file))
}

/// A wildcard listen address is reached on loopback.
pub fn loopback_for(addr: &str) -> String {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(a) if a.ip().is_unspecified() => {
            let ip: std::net::IpAddr = if a.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            };
            std::net::SocketAddr::new(ip, a.port()).to_string()
        }
        _ => addr.to_string(),
    }
}

/// Resolve endpoint, region and keys (see the module docs for the order).
pub fn resolve(flags: &Flags, env: &Env) -> Resolved {
    let profile = flags
        .profile
        .clone()
        .or_else(|| env.var("AWS_PROFILE").map(str::to_string))
        .unwrap_or_else(|| "default".to_string());
    let aws_config = env
        .var("AWS_CONFIG_FILE")
        .map(|p| env.path(Path::new(p)))
        .or_else(|| env.home.as_ref().map(|h| h.join(".aws/config")));
    let profile_settings = aws_config
        .as_ref()
        .and_then(|p| config_profile(p, &profile))
        .unwrap_or_default();
    let data = data_dir(flags, env);

    let (endpoint, endpoint_from) = endpoint(
        flags,
        env,
        &profile,
        aws_config.as_deref(),
        &profile_settings,
        data.as_ref(),
    );

    let data_config = data
        .as_ref()
        .and_then(|d| config_profile(&d.path.join("config"), "default"))
        .unwrap_or_default();
    let region = flags
        .region
        .clone()
        .or_else(|| env.var("AWS_REGION").map(str::to_string))
        .or_else(|| env.var("AWS_DEFAULT_REGION").map(str::to_string))
        .or_else(|| profile_settings.get("region").cloned())
        .or_else(|| data_config.get("region").cloned())
        .unwrap_or_else(|| "us-east-1".to_string());

    let endpoint_from_data = matches!(endpoint_from, Source::DataDir(_));
    let (keys, keys_from) = keys(flags, env, &profile, data.as_ref(), endpoint_from_data);
    Resolved {
        endpoint,
        endpoint_from,
        region,
        keys,
        keys_from,
    }
}

fn endpoint(
    flags: &Flags,
    env: &Env,
    profile: &str,
    aws_config: Option<&Path>,
    profile_settings: &HashMap<String, String>,
    data: Option<&DataDir>,
) -> (String, Source) {
    if let Some(url) = &flags.endpoint_url {
        return (url.clone(), Source::Flag("--endpoint-url"));
    }
    for var in ["BOSUN_ENDPOINT", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"] {
        if let Some(url) = env.var(var) {
            return (url.to_string(), Source::EnvVar(var));
        }
    }
    if let (Some(url), Some(file)) = (profile_settings.get("endpoint_url"), aws_config) {
        return (
            url.clone(),
            Source::Profile {
                file: file.to_path_buf(),
                profile: profile.to_string(),
            },
        );
    }
    if let Some((url, file)) = data.and_then(|d| data_dir_endpoint(&d.path)) {
        return (url, Source::DataDir(file));
    }
    (DEFAULT_ENDPOINT.to_string(), Source::Default)
}

type Keys = (Result<(String, String), String>, Option<Source>);

fn keys(
    flags: &Flags,
    env: &Env,
    profile: &str,
    data: Option<&DataDir>,
    endpoint_from_data: bool,
) -> Keys {
    if let Some(file) = &flags.credentials_file {
        let path = env.path(file);
        return (
            read_credentials(&path, profile),
            Some(Source::Flag("--credentials-file")),
        );
    }
    if let (Some(a), Some(s)) = (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        return (
            Ok((a.to_string(), s.to_string())),
            Some(Source::EnvVar("AWS_ACCESS_KEY_ID")),
        );
    }
    if let Some(file) = env.var("AWS_SHARED_CREDENTIALS_FILE") {
        return (
            read_credentials(&env.path(Path::new(file)), profile),
            Some(Source::EnvVar("AWS_SHARED_CREDENTIALS_FILE")),
        );
    }
    // The data dir's own key: its `default` profile unless it has the one asked for.
    let from_data = |d: &DataDir| {
        let path = d.path.join("credentials");
        let keys = read_credentials(&path, profile).or_else(|_| read_credentials(&path, "default"));
        (keys, Some(Source::DataDir(path)))
    };
    if let Some(d) = data.filter(|d| d.named || endpoint_from_data) {
        return from_data(d);
    }
    if let Some(home) = &env.home {
        let path = home.join(".aws/credentials");
        if let Ok(keys) = read_credentials(&path, profile) {
            return (
                Ok(keys),
                Some(Source::Profile {
                    file: path,
                    profile: profile.to_string(),
                }),
            );
        }
    }
    if let Some(d) = data {
        return from_data(d);
    }
    (
        Err(
            "no access key found: pass --credentials-file, set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, or run from the folder that holds bosun-data \
             (or set BOSUN_DATA_DIR)"
                .to_string(),
        ),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct World {
        dir: tempfile::TempDir,
        env: Env,
    }

    fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().join("work");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        World {
            env: Env {
                vars: HashMap::new(),
                home: Some(home),
                cwd,
            },
            dir,
        }
    }

    impl World {
        fn set(&mut self, k: &str, v: &str) {
            self.env.vars.insert(k.into(), v.into());
        }
        fn write(&self, rel: &str, text: &str) -> PathBuf {
            let p = self.dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            p
        }
        fn quickstart_dir(&self, rel: &str, port: u16) -> PathBuf {
            self.write(&format!("{rel}/listen-addr"), &format!("127.0.0.1:{port}"));
            self.write(
                &format!("{rel}/credentials"),
                &format!(
                    "[default]\naws_access_key_id = AK{port}\naws_secret_access_key = S{port}\n"
                ),
            );
            self.dir.path().join(rel)
        }
    }

    #[test]
    fn nothing_anywhere_is_the_default_and_a_clear_key_error() {
        let w = world();
        let r = resolve(&Flags::default(), &w.env);
        assert_eq!(
            (r.endpoint.as_str(), &r.endpoint_from),
            (DEFAULT_ENDPOINT, &Source::Default)
        );
        assert_eq!(r.region, "us-east-1");
        assert!(r.keys.unwrap_err().contains("--credentials-file"));
    }

    #[test]
    fn the_local_data_dir_gives_endpoint_and_keys() {
        let w = world();
        w.quickstart_dir("work/bosun-data", 4001);
        let r = resolve(&Flags::default(), &w.env);
        assert_eq!(r.endpoint, "http://127.0.0.1:4001");
        assert!(matches!(&r.endpoint_from, Source::DataDir(p) if p.ends_with("listen-addr")));
        assert_eq!(r.keys.unwrap(), ("AK4001".into(), "S4001".into()));
        // The config's endpoint_url (it carries the scheme) wins over listen-addr.
        w.write(
            "work/bosun-data/config",
            "[default]\nregion = eu-west-1\nendpoint_url = https://127.0.0.1:4001\n",
        );
        let r = resolve(&Flags::default(), &w.env);
        assert_eq!(r.endpoint, "https://127.0.0.1:4001");
        assert_eq!(r.region, "eu-west-1");
    }

    #[test]
    fn the_order_is_flag_env_profile_data_dir() {
        let mut w = world();
        w.quickstart_dir("work/bosun-data", 4001);
        let named = w.quickstart_dir("elsewhere", 4002);
        w.write(
            "home/.aws/config",
            "[default]\nregion = ap-south-1\n[profile lab]\nendpoint_url = http://lab:1\n",
        );
        let flags = Flags::default();
        // BOSUN_DATA_DIR beats ./bosun-data.
        w.set("BOSUN_DATA_DIR", named.to_str().unwrap());
        let r = resolve(&flags, &w.env);
        assert_eq!(r.endpoint, "http://127.0.0.1:4002");
        assert_eq!(r.keys.as_ref().unwrap().0, "AK4002");
        assert_eq!(r.region, "ap-south-1", "the profile's region");
        // The profile's endpoint_url beats the data dir.
        w.set("AWS_PROFILE", "lab");
        let r = resolve(&flags, &w.env);
        assert_eq!(r.endpoint, "http://lab:1");
        assert!(matches!(&r.endpoint_from, Source::Profile { profile, .. } if profile == "lab"));
        // …and the data dir was named, so its key is still used.
        assert_eq!(r.keys.as_ref().unwrap().0, "AK4002");
        // Environment variables beat the profile, in their own order.
        w.set("AWS_ENDPOINT_URL", "http://generic:2");
        assert_eq!(resolve(&flags, &w.env).endpoint, "http://generic:2");
        w.set("AWS_ENDPOINT_URL_SSM", "http://ssm:3");
        assert_eq!(resolve(&flags, &w.env).endpoint, "http://ssm:3");
        w.set("BOSUN_ENDPOINT", "http://bosun:4");
        let r = resolve(&flags, &w.env);
        assert_eq!(
            (r.endpoint.as_str(), r.endpoint_from),
            ("http://bosun:4", Source::EnvVar("BOSUN_ENDPOINT"))
        );
        // The flag beats everything.
        let flags = Flags {
            endpoint_url: Some("http://flag:5".into()),
            region: Some("us-west-2".into()),
            ..Flags::default()
        };
        let r = resolve(&flags, &w.env);
        assert_eq!(
            (r.endpoint.as_str(), r.region.as_str()),
            ("http://flag:5", "us-west-2")
        );
    }

    #[test]
    fn key_order() {
        let mut w = world();
        w.quickstart_dir("work/bosun-data", 4001);
        w.write(
            "home/.aws/credentials",
            "[default]\naws_access_key_id = HOME\naws_secret_access_key = h\n",
        );
        // The endpoint came from ./bosun-data, so its key beats ~/.aws/credentials.
        let r = resolve(&Flags::default(), &w.env);
        assert_eq!(r.keys.unwrap().0, "AK4001");
        // An endpoint from elsewhere pairs with ~/.aws/credentials.
        w.set("BOSUN_ENDPOINT", "http://x:1");
        assert_eq!(resolve(&Flags::default(), &w.env).keys.unwrap().0, "HOME");
        let file = w.write(
            "creds",
            "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n[ops]\naws_access_key_id = OPS\naws_secret_access_key = o\n",
        );
        w.set("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap());
        assert_eq!(resolve(&Flags::default(), &w.env).keys.unwrap().0, "FILE");
        w.set("AWS_ACCESS_KEY_ID", "ENV");
        w.set("AWS_SECRET_ACCESS_KEY", "e");
        assert_eq!(resolve(&Flags::default(), &w.env).keys.unwrap().0, "ENV");
        let flags = Flags {
            credentials_file: Some(file),
            profile: Some("ops".into()),
            ..Flags::default()
        };
        let r = resolve(&flags, &w.env);
        assert_eq!(r.keys.unwrap().0, "OPS");
        assert_eq!(r.keys_from, Some(Source::Flag("--credentials-file")));
    }

    #[test]
    fn wildcard_listen_addresses_are_reached_on_loopback() {
        assert_eq!(loopback_for("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(loopback_for("[::]:9"), "[::1]:9");
        assert_eq!(loopback_for("10.1.2.3:7"), "10.1.2.3:7");
    }
}
