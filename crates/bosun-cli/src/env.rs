//! `bosun env`: the shell lines that point the AWS CLI, boto3 and bosun itself at a data dir's
//! server (`eval "$(bosun env)"`).

use anyhow::bail;

use crate::client::ClientArgs;
use crate::resolve::{self, Env};

/// Variables that would override the files `bosun env` points at.
const OVERRIDES: [&str; 6] = [
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Single-quote a value for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The lines for `data_dir`, unsetting the variables in `set` that would override them.
pub fn lines(data_dir: &std::path::Path, set: &[&str]) -> String {
    let dir = data_dir.display().to_string();
    let mut out = String::new();
    for (var, file) in [
        ("AWS_CONFIG_FILE", data_dir.join("config")),
        ("AWS_SHARED_CREDENTIALS_FILE", data_dir.join("credentials")),
    ] {
        out.push_str(&format!(
            "export {var}={}\n",
            quote(&file.display().to_string())
        ));
    }
    out.push_str(&format!("export BOSUN_DATA_DIR={}\n", quote(&dir)));
    if !set.is_empty() {
        out.push_str(&format!(
            "# these would override the files above:\nunset {}\n",
            set.join(" ")
        ));
    }
    out
}

pub fn print(args: &ClientArgs) -> anyhow::Result<()> {
    let env = Env::current();
    let Some(dir) = resolve::data_dir(&args.flags(), &env) else {
        bail!(
            "no Bosun data dir here: run from the folder that holds bosun-data (where `bosun \
             quickstart` ran), or pass --data-dir or set BOSUN_DATA_DIR"
        );
    };
    if !dir.path.join("credentials").exists() {
        bail!(
            "{} has no credentials file: start the server once (`bosun server --data-dir {}`)",
            dir.path.display(),
            dir.path.display()
        );
    }
    let set: Vec<&str> = OVERRIDES
        .iter()
        .copied()
        .filter(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
        .collect();
    print!("{}", lines(&dir.path, &set));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_paths_and_unsets_only_what_is_set() {
        let text = super::lines(std::path::Path::new("/tmp/it's here"), &[]);
        assert_eq!(
            text,
            "export AWS_CONFIG_FILE='/tmp/it'\\''s here/config'\n\
             export AWS_SHARED_CREDENTIALS_FILE='/tmp/it'\\''s here/credentials'\n\
             export BOSUN_DATA_DIR='/tmp/it'\\''s here'\n"
        );
        let text = super::lines(std::path::Path::new("/d"), &["AWS_PROFILE"]);
        assert!(text.ends_with("unset AWS_PROFILE\n"), "{text}");
    }
}
